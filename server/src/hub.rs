//! The registry of live gateway connections, the fan-out of frames to them, and the online-status
//! subscriptions (reqIdentifier 2005).
//!
//! Fan-out never waits on a client: each connection has a bounded outbound queue, and a
//! connection whose queue is full is closed (it reconnects and pulls what it missed by seq), so
//! one slow member cannot stall a sender or the other members.
//!
//! Online status: a connection subscribes to users with 2005; whenever the set of platforms a
//! watched user is online on changes (a connection opens or closes), every subscribed connection
//! gets an unsolicited 2005 frame (`msgIncr` empty) with that user's platforms. Subscriptions die
//! with their connection. A connection watches at most [`MAX_SUBSCRIPTIONS`] users (OpenIM
//! documents 3000 per user and silently drops the oldest); a request that would go beyond it
//! changes nothing and is refused with 1001, and the connection stays open.
//!
//! The hub never touches storage and never blocks on a socket.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chorus_proto::constants::{PlatformId, ReqIdentifier};
use chorus_proto::envelope::{Resp, ResponsePayload};
use chorus_proto::pb::sdkws::{SubUserOnlineStatusElem, SubUserOnlineStatusTips};
use tokio::sync::{mpsc, Notify};

/// Frames queued per connection before it counts as too slow.
pub const OUTBOUND_QUEUE: usize = 512;

/// Live connections accepted before handshakes are refused with 1601 (OpenIM's
/// `websocketMaxConnNum`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 100_000;

/// Most users one connection may watch for online status (2005): OpenIM's documented limit of
/// 3000 subscriptions per user.
pub const MAX_SUBSCRIPTIONS: usize = 3000;

/// A 2005 request that would make its connection watch more than [`MAX_SUBSCRIPTIONS`] users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a connection may watch the online status of at most {limit} users; this request would make it {requested}"
)]
pub struct TooManySubscriptions {
    /// The limit ([`MAX_SUBSCRIPTIONS`]).
    pub limit: usize,
    /// How many users the connection would watch after the request.
    pub requested: usize,
}

/// What the writer half of a connection is asked to send.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// An envelope (response or push).
    Frame(Resp),
    /// Send the 2002 kick frame, then close.
    Kick,
}

/// State of a connection that both the hub and the connection task read.
#[derive(Debug, Default)]
pub struct ConnFlags {
    /// The app is in the background (2004 or `isBackground`); iOS connections then get no
    /// message pushes (spec §2.9).
    pub background: AtomicBool,
    /// The server is shutting down: the close frame says "going away".
    pub going_away: AtomicBool,
}

/// A registered connection, as seen by the hub.
#[derive(Debug, Clone)]
pub struct ConnHandle {
    pub id: u64,
    pub user_id: String,
    pub platform_id: i32,
    pub token: String,
    pub flags: Arc<ConnFlags>,
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

    /// Sets the background flag (2004).
    pub fn set_background(&self, background: bool) {
        self.flags.background.store(background, Ordering::Relaxed);
    }

    /// An iOS app in the background is woken by offline push, not by frames (spec §2.9).
    fn skips_message_push(&self) -> bool {
        self.platform_id == i32::from(PlatformId::Ios)
            && self.flags.background.load(Ordering::Relaxed)
    }
}

/// The receiving side handed to the connection task.
#[derive(Debug)]
pub struct ConnQueue {
    pub rx: mpsc::Receiver<Outbound>,
    pub closer: Arc<Notify>,
    pub flags: Arc<ConnFlags>,
}

/// Who watches whom (2005).
#[derive(Debug, Default)]
struct Subscriptions {
    /// watched userID → subscribed connections.
    watchers: HashMap<String, Vec<ConnHandle>>,
    /// connection id → the users it watches (to drop its subscriptions when it closes).
    watching: HashMap<u64, BTreeSet<String>>,
}

#[derive(Debug)]
pub struct Hub {
    next_id: AtomicU64,
    max_connections: AtomicUsize,
    closing: AtomicBool,
    conns: Mutex<HashMap<String, Vec<ConnHandle>>>,
    subs: Mutex<Subscriptions>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            next_id: AtomicU64::new(0),
            max_connections: AtomicUsize::new(DEFAULT_MAX_CONNECTIONS),
            closing: AtomicBool::new(false),
            conns: Mutex::default(),
            subs: Mutex::default(),
        }
    }
}

/// The sorted, deduplicated platforms of a connection list.
fn platforms_of(list: Option<&Vec<ConnHandle>>) -> Vec<i32> {
    let mut p: Vec<i32> = list
        .map(|l| l.iter().map(|c| c.platform_id).collect())
        .unwrap_or_default();
    p.sort_unstable();
    p.dedup();
    p
}

impl Hub {
    /// Changes the connection limit (1601 beyond it).
    pub fn set_max_connections(&self, max: usize) {
        self.max_connections.store(max, Ordering::Relaxed);
    }

    /// Live connections, all users together.
    pub fn connection_count(&self) -> usize {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        conns.values().map(Vec::len).sum()
    }

    /// Whether a new connection may be accepted: under the limit and not shutting down.
    pub fn admits_connection(&self) -> bool {
        !self.closing.load(Ordering::Relaxed)
            && self.connection_count() < self.max_connections.load(Ordering::Relaxed)
    }

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
        let flags = Arc::new(ConnFlags::default());
        let handle = ConnHandle {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            user_id: user_id.to_owned(),
            platform_id,
            token: token.to_owned(),
            flags: Arc::clone(&flags),
            tx,
            closer: Arc::clone(&closer),
        };
        let (kicked, before, after) = {
            let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            let before = platforms_of(conns.get(user_id));
            let list = conns.entry(user_id.to_owned()).or_default();
            let (kicked, kept): (Vec<_>, Vec<_>) = list
                .drain(..)
                .partition(|c| c.platform_id == platform_id && c.token != token);
            *list = kept;
            list.push(handle.clone());
            (kicked, before, platforms_of(conns.get(user_id)))
        };
        for k in &kicked {
            self.drop_subscriptions(k.id);
        }
        if before != after {
            self.announce_online(user_id, after);
        }
        (handle, ConnQueue { rx, closer, flags }, kicked)
    }

    /// Removes a connection (on close).
    pub fn unregister(&self, handle: &ConnHandle) {
        let change = {
            let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            let before = platforms_of(conns.get(&handle.user_id));
            let mut removed = false;
            if let Some(list) = conns.get_mut(&handle.user_id) {
                let n = list.len();
                list.retain(|c| c.id != handle.id);
                removed = list.len() != n;
                if list.is_empty() {
                    conns.remove(&handle.user_id);
                }
            }
            let after = platforms_of(conns.get(&handle.user_id));
            (removed && before != after).then_some(after)
        };
        self.drop_subscriptions(handle.id);
        if let Some(after) = change {
            self.announce_online(&handle.user_id, after);
        }
    }

    /// Removes and returns every connection of `user_id` on `platform_id` (force logout).
    pub fn take_platform(&self, user_id: &str, platform_id: i32) -> Vec<ConnHandle> {
        let (taken, after) = {
            let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            let Some(list) = conns.get_mut(user_id) else {
                return Vec::new();
            };
            let (taken, kept): (Vec<_>, Vec<_>) =
                list.drain(..).partition(|c| c.platform_id == platform_id);
            *list = kept;
            if list.is_empty() {
                conns.remove(user_id);
            }
            (taken, platforms_of(conns.get(user_id)))
        };
        for t in &taken {
            self.drop_subscriptions(t.id);
        }
        if !taken.is_empty() {
            self.announce_online(user_id, after);
        }
        taken
    }

    /// The connections of a user.
    pub fn connections(&self, user_id: &str) -> Vec<ConnHandle> {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        conns.get(user_id).cloned().unwrap_or_default()
    }

    /// Platforms a user is online on.
    pub fn online_platforms(&self, user_id: &str) -> Vec<i32> {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        platforms_of(conns.get(user_id))
    }

    /// Queues `resp` on every connection of every user in `user_ids`, without waiting. Message
    /// pushes (2001) skip iOS connections in the background.
    pub fn push(&self, user_ids: &[String], resp: &Resp) {
        let message_push = resp.req_identifier == i32::from(ReqIdentifier::PushMsg);
        // Collect first so the lock is not held while queueing.
        let targets: Vec<ConnHandle> = {
            let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            user_ids
                .iter()
                .filter_map(|u| conns.get(u))
                .flatten()
                .filter(|c| !(message_push && c.skips_message_push()))
                .cloned()
                .collect()
        };
        self.deliver(targets, resp);
    }

    fn deliver(&self, targets: Vec<ConnHandle>, resp: &Resp) {
        for conn in targets {
            if !conn.send(Outbound::Frame(resp.clone())) {
                tracing::warn!(user = %conn.user_id, conn = conn.id, "outbound queue full; closing slow connection");
                self.unregister(&conn);
            }
        }
    }

    /// Applies a 2005 request of `conn`: stops watching `unsubscribe`, then watches
    /// `subscribe`. A request that would leave the connection watching more than
    /// [`MAX_SUBSCRIPTIONS`] users is refused as a whole: nothing changes.
    pub fn subscribe(
        &self,
        conn: &ConnHandle,
        subscribe: &[String],
        unsubscribe: &[String],
    ) -> Result<(), TooManySubscriptions> {
        let dropped: BTreeSet<&String> = unsubscribe.iter().collect();
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        let current = subs.watching.get(&conn.id);
        let kept = current.map_or(0, |set| set.iter().filter(|u| !dropped.contains(u)).count());
        let added: BTreeSet<&String> = subscribe
            .iter()
            .filter(|u| !u.is_empty())
            .filter(|u| dropped.contains(u) || !current.is_some_and(|set| set.contains(*u)))
            .collect();
        let requested = kept + added.len();
        if requested > MAX_SUBSCRIPTIONS {
            return Err(TooManySubscriptions {
                limit: MAX_SUBSCRIPTIONS,
                requested,
            });
        }
        for u in unsubscribe {
            if let Some(list) = subs.watchers.get_mut(u) {
                list.retain(|c| c.id != conn.id);
                if list.is_empty() {
                    subs.watchers.remove(u);
                }
            }
            if let Some(set) = subs.watching.get_mut(&conn.id) {
                set.remove(u);
            }
        }
        for u in subscribe.iter().filter(|u| !u.is_empty()) {
            let set = subs.watching.entry(conn.id).or_default();
            if set.insert(u.clone()) {
                subs.watchers
                    .entry(u.clone())
                    .or_default()
                    .push(conn.clone());
            }
        }
        if subs.watching.get(&conn.id).is_some_and(BTreeSet::is_empty) {
            subs.watching.remove(&conn.id);
        }
        Ok(())
    }

    /// The users `conn_id` watches.
    pub fn watched_by(&self, conn_id: u64) -> Vec<String> {
        let subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        subs.watching
            .get(&conn_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn drop_subscriptions(&self, conn_id: u64) {
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        let Some(watched) = subs.watching.remove(&conn_id) else {
            return;
        };
        for u in watched {
            if let Some(list) = subs.watchers.get_mut(&u) {
                list.retain(|c| c.id != conn_id);
                if list.is_empty() {
                    subs.watchers.remove(&u);
                }
            }
        }
    }

    /// Tells the watchers of `user_id` its platforms now.
    fn announce_online(&self, user_id: &str, platforms: Vec<i32>) {
        let targets: Vec<ConnHandle> = {
            let subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
            subs.watchers.get(user_id).cloned().unwrap_or_default()
        };
        if targets.is_empty() {
            return;
        }
        let tips = SubUserOnlineStatusTips {
            subscribers: vec![SubUserOnlineStatusElem {
                user_id: user_id.to_owned(),
                online_platform_i_ds: platforms,
            }],
        };
        let resp = ResponsePayload::SubUserOnlineStatus(tips).to_resp("", "");
        self.deliver(targets, &resp);
    }

    /// Graceful shutdown: refuses new connections, asks every live one to send its close frame
    /// ("going away") and waits up to `wait` for them to finish.
    pub async fn close_all(&self, wait: Duration) {
        self.closing.store(true, Ordering::Relaxed);
        let all: Vec<ConnHandle> = {
            let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
            conns.values().flatten().cloned().collect()
        };
        tracing::info!(connections = all.len(), "closing gateway connections");
        for c in &all {
            c.flags.going_away.store(true, Ordering::Relaxed);
            c.close();
        }
        let deadline = tokio::time::Instant::now() + wait;
        while self.connection_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
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

    fn online_pushes(q: &mut ConnQueue) -> Vec<SubUserOnlineStatusTips> {
        use chorus_proto::pb::Message as _;
        let mut out = Vec::new();
        while let Ok(o) = q.rx.try_recv() {
            if let Outbound::Frame(r) = o {
                if r.req_identifier == 2005 {
                    assert!(r.msg_incr.is_empty());
                    out.push(SubUserOnlineStatusTips::decode(r.data.as_slice()).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn watchers_hear_platform_changes_only() {
        let hub = Hub::default();
        let (w, mut qw, _) = hub.register("watcher", 5, "tw");
        hub.subscribe(&w, &["u1".into()], &[]).unwrap();
        let (a, _qa, _) = hub.register("u1", 2, "t1");
        let (b, _qb, _) = hub.register("u1", 2, "t1");
        let (c, _qc, _) = hub.register("u1", 5, "t2");
        let got: Vec<Vec<i32>> = online_pushes(&mut qw)
            .into_iter()
            .map(|t| t.subscribers[0].online_platform_i_ds.clone())
            .collect();
        assert_eq!(
            got,
            vec![vec![2], vec![2, 5]],
            "a second Android changes nothing"
        );
        hub.unregister(&a);
        assert!(online_pushes(&mut qw).is_empty());
        hub.unregister(&b);
        hub.subscribe(&w, &[], &["u1".into()]).unwrap();
        hub.unregister(&c);
        let got: Vec<Vec<i32>> = online_pushes(&mut qw)
            .into_iter()
            .map(|t| t.subscribers[0].online_platform_i_ds.clone())
            .collect();
        assert_eq!(got, vec![vec![5]], "nothing after unsubscribing");
        // Subscriptions end with the connection.
        hub.subscribe(&w, &["u2".into()], &[]).unwrap();
        assert_eq!(hub.watched_by(w.id), vec!["u2".to_owned()]);
        hub.unregister(&w);
        assert!(hub.watched_by(w.id).is_empty());
    }

    #[test]
    fn subscriptions_per_connection_are_bounded() {
        let hub = Hub::default();
        let (w, mut qw, _) = hub.register("watcher", 5, "tw");
        let (other, _qo, _) = hub.register("other", 5, "to");
        let users = |from: usize, n: usize| -> Vec<String> {
            (from..from + n).map(|i| format!("user{i}")).collect()
        };
        hub.subscribe(&w, &users(0, MAX_SUBSCRIPTIONS - 1), &[])
            .unwrap();
        // Repeats, empty IDs and already watched users do not count twice.
        hub.subscribe(
            &w,
            &[users(0, 1), users(0, 1), vec![String::new()]].concat(),
            &[],
        )
        .unwrap();
        hub.subscribe(&w, &users(MAX_SUBSCRIPTIONS - 1, 1), &[])
            .unwrap();
        assert_eq!(hub.watched_by(w.id).len(), MAX_SUBSCRIPTIONS);

        // One more is refused as a whole: nothing is unsubscribed or added.
        let err = hub
            .subscribe(&w, &users(MAX_SUBSCRIPTIONS, 2), &users(0, 1))
            .unwrap_err();
        assert_eq!(
            err,
            TooManySubscriptions {
                limit: MAX_SUBSCRIPTIONS,
                requested: MAX_SUBSCRIPTIONS + 1
            }
        );
        assert!(err.to_string().contains("at most 3000 users"), "{err}");
        assert_eq!(hub.watched_by(w.id).len(), MAX_SUBSCRIPTIONS);
        assert!(hub.watched_by(w.id).contains(&"user0".to_owned()));
        assert!(!hub
            .watched_by(w.id)
            .contains(&format!("user{MAX_SUBSCRIPTIONS}")));

        // Swapping one for another in the same request fits; unsubscribing makes room.
        hub.subscribe(&w, &users(MAX_SUBSCRIPTIONS, 1), &users(0, 1))
            .unwrap();
        hub.subscribe(&w, &users(1, 1), &users(1, 1)).unwrap();
        assert!(hub.watched_by(w.id).contains(&"user1".to_owned()));
        assert!(hub
            .subscribe(&w, &users(MAX_SUBSCRIPTIONS + 1, 1), &[])
            .is_err());
        hub.subscribe(&w, &[], &users(1, 10)).unwrap();
        hub.subscribe(&w, &users(MAX_SUBSCRIPTIONS + 1, 10), &[])
            .unwrap();
        assert_eq!(hub.watched_by(w.id).len(), MAX_SUBSCRIPTIONS);

        // The limit is per connection, and the full one still hears changes.
        hub.subscribe(&other, &users(0, MAX_SUBSCRIPTIONS), &[])
            .unwrap();
        while qw.rx.try_recv().is_ok() {}
        let (_u, _qu, _) = hub.register("user11", 2, "t11");
        assert_eq!(online_pushes(&mut qw).len(), 1);
    }

    #[tokio::test]
    async fn background_ios_skips_message_pushes_only() {
        let hub = Hub::default();
        let (ios, mut qi, _) = hub.register("u1", 1, "t1");
        let (android, mut qa, _) = hub.register("u1", 2, "t2");
        ios.set_background(true);
        android.set_background(true);
        hub.push(&["u1".into()], &resp(7));
        assert!(qi.rx.try_recv().is_err(), "iOS in the background");
        assert!(matches!(qa.rx.try_recv(), Ok(Outbound::Frame(r)) if r.err_msg == "7"));
        let other = Resp {
            req_identifier: 2005,
            ..Resp::default()
        };
        hub.push(&["u1".into()], &other);
        assert!(qi.rx.try_recv().is_ok(), "only 2001 is skipped");
        ios.set_background(false);
        hub.push(&["u1".into()], &resp(8));
        assert!(matches!(qi.rx.try_recv(), Ok(Outbound::Frame(r)) if r.err_msg == "8"));
    }

    #[tokio::test]
    async fn close_all_refuses_new_connections_and_marks_going_away() {
        let hub = Hub::default();
        assert!(hub.admits_connection());
        let (a, qa, _) = hub.register("u1", 5, "t1");
        hub.set_max_connections(1);
        assert!(!hub.admits_connection());
        hub.set_max_connections(2);
        assert!(hub.admits_connection());
        // Nothing unregisters here: close_all gives up after its wait.
        hub.close_all(Duration::from_millis(50)).await;
        assert!(!hub.admits_connection());
        assert!(qa.flags.going_away.load(Ordering::Relaxed));
        tokio::time::timeout(Duration::from_secs(1), qa.closer.notified())
            .await
            .expect("told to close");
        hub.unregister(&a);
        assert_eq!(hub.connection_count(), 0);
    }
}
