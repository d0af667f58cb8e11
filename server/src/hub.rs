//! The registry of live gateway connections and the fan-out of frames to them.
//!
//! Fan-out never waits on a client: each connection has a bounded outbound queue, and a
//! connection whose queue is full is closed (it reconnects and pulls what it missed by seq), so
//! one slow member cannot stall a sender or the other members.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chorus_proto::envelope::Resp;
use tokio::sync::{mpsc, Notify};

/// Frames queued per connection before it counts as too slow.
pub const OUTBOUND_QUEUE: usize = 512;

/// What the writer half of a connection is asked to send.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// An envelope (response or push).
    Frame(Resp),
    /// Send the 2002 kick frame, then close.
    Kick,
}

/// A registered connection, as seen by the hub.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: u64,
    pub user_id: String,
    pub platform_id: i32,
    pub token: String,
    tx: mpsc::Sender<Outbound>,
    closer: Arc<Notify>,
}

impl ConnHandle {
    /// Queues `out` without waiting; a full or closed queue closes the connection.
    pub fn send(&self, out: Outbound) -> bool {
        if self.tx.try_send(out).is_ok() {
            return true;
        }
        self.closer.notify_one();
        false
    }

    /// Asks the connection to close now.
    pub fn close(&self) {
        self.closer.notify_one();
    }
}

/// The receiving side handed to the connection task.
#[derive(Debug)]
pub struct ConnQueue {
    pub rx: mpsc::Receiver<Outbound>,
    pub closer: Arc<Notify>,
}

#[derive(Debug, Default)]
pub struct Hub {
    next_id: AtomicU64,
    conns: Mutex<HashMap<String, Vec<ConnHandle>>>,
}

impl Hub {
    /// Registers a connection. Multi-login policy 1 (spec §2.10): older connections of the same
    /// user on the same platform with a different token are removed and returned, to be kicked.
    pub fn register(
        &self,
        user_id: &str,
        platform_id: i32,
        token: &str,
    ) -> (ConnHandle, ConnQueue, Vec<ConnHandle>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let closer = Arc::new(Notify::new());
        let handle = ConnHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            user_id: user_id.to_owned(),
            platform_id,
            token: token.to_owned(),
            tx,
            closer: Arc::clone(&closer),
        };
        let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        let list = conns.entry(user_id.to_owned()).or_default();
        let (kicked, kept): (Vec<_>, Vec<_>) = list
            .drain(..)
            .partition(|c| c.platform_id == platform_id && c.token != token);
        *list = kept;
        list.push(handle.clone());
        (handle, ConnQueue { rx, closer }, kicked)
    }

    /// Removes a connection (on close).
    pub fn unregister(&self, handle: &ConnHandle) {
        let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = conns.get_mut(&handle.user_id) {
            list.retain(|c| c.id != handle.id);
            if list.is_empty() {
                conns.remove(&handle.user_id);
            }
        }
    }

    /// Removes and returns every connection of `user_id` on `platform_id` (force logout).
    pub fn take_platform(&self, user_id: &str, platform_id: i32) -> Vec<ConnHandle> {
        let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        let Some(list) = conns.get_mut(user_id) else {
            return Vec::new();
        };
        let (taken, kept): (Vec<_>, Vec<_>) =
            list.drain(..).partition(|c| c.platform_id == platform_id);
        *list = kept;
        taken
    }

    /// The connections of a user.
    pub fn connections(&self, user_id: &str) -> Vec<ConnHandle> {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        conns.get(user_id).cloned().unwrap_or_default()
    }

    /// Platforms a user is online on.
    pub fn online_platforms(&self, user_id: &str) -> Vec<i32> {
        let mut p: Vec<i32> = self
            .connections(user_id)
            .iter()
            .map(|c| c.platform_id)
            .collect();
        p.sort_unstable();
        p.dedup();
        p
    }

    /// Queues `resp` on every connection of every user in `user_ids`, without waiting.
    pub fn push(&self, user_ids: &[String], resp: &Resp) {
        // Collect first so the lock is not held while queueing.
        let targets: Vec<ConnHandle> = {
            let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            user_ids
                .iter()
                .filter_map(|u| conns.get(u))
                .flatten()
                .cloned()
                .collect()
        };
        for conn in targets {
            if !conn.send(Outbound::Frame(resp.clone())) {
                tracing::warn!(user = %conn.user_id, conn = conn.id, "outbound queue full; closing slow connection");
                self.unregister(&conn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(n: i32) -> Resp {
        Resp {
            req_identifier: 2001,
            err_msg: n.to_string(),
            ..Resp::default()
        }
    }

    #[test]
    fn same_platform_other_token_is_kicked_same_token_kept() {
        let hub = Hub::default();
        let (a, _qa, kicked) = hub.register("u1", 5, "t1");
        assert!(kicked.is_empty());
        let (_b, _qb, kicked) = hub.register("u1", 5, "t1");
        assert!(kicked.is_empty(), "a reconnect with the same token is kept");
        let (_c, _qc, kicked) = hub.register("u1", 1, "t9");
        assert!(kicked.is_empty(), "another platform is independent");
        let (_d, _qd, kicked) = hub.register("u1", 5, "t2");
        assert_eq!(kicked.len(), 2);
        assert!(kicked.iter().any(|k| k.id == a.id));
        assert_eq!(hub.connections("u1").len(), 2);
    }

    #[tokio::test]
    async fn push_reaches_every_connection_and_slow_ones_are_dropped() {
        let hub = Hub::default();
        let (_a, mut qa, _) = hub.register("u1", 5, "t1");
        let (_b, mut qb, _) = hub.register("u2", 5, "t2");
        hub.push(&["u1".into(), "u2".into(), "nobody".into()], &resp(1));
        assert!(matches!(qa.rx.recv().await, Some(Outbound::Frame(r)) if r.err_msg == "1"));
        assert!(matches!(qb.rx.recv().await, Some(Outbound::Frame(r)) if r.err_msg == "1"));

        // u2 stops reading: once its queue is full it is unregistered and told to close,
        // while u1 keeps receiving.
        for i in 0..(OUTBOUND_QUEUE as i32 + 1) {
            hub.push(&["u1".into(), "u2".into()], &resp(i));
            while let Ok(Outbound::Frame(_)) = qa.rx.try_recv() {}
        }
        assert!(hub.connections("u2").is_empty());
        tokio::time::timeout(std::time::Duration::from_secs(1), qb.closer.notified())
            .await
            .expect("slow connection was told to close");
        assert_eq!(hub.connections("u1").len(), 1);
    }
}
