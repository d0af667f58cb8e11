//! Message-service test helpers: groups and memberships written straight into SQLite (what the
//! group service does at create/join/quit), fake hub connections whose queued frames can be read,
//! and message builders.

use chorus_proto::envelope::Resp;
use chorus_proto::pb::sdkws::{MsgData, PushMessages};
use chorus_proto::pb::Message as _;
use chorus_server::hub::{ConnHandle, ConnQueue, Outbound};
use chorus_server::store::rusqlite::{params, OptionalExtension};
use chorus_server::AppState;

/// Creates group `gid` (status 0) with `members` as `(userID, roleLevel)`, each with a `sg_`
/// row, as the group service does at creation.
pub fn create_group(state: &AppState, gid: &str, owner: &str, members: &[(&str, i32)]) {
    let (g, o) = (gid.to_owned(), owner.to_owned());
    state
        .store
        .call_sync(move |c| {
            c.execute(
                "INSERT INTO groups (group_id, group_name, owner_user_id, create_time, creator_user_id)
                 VALUES (?1, ?1, ?2, 1, ?2)",
                params![g, o],
            )?;
            Ok(())
        })
        .unwrap();
    for (user, role) in members {
        join(state, gid, user, *role, true);
    }
}

/// Adds a member (the group service's join): resets a frozen row, and with the group's
/// history switch off starts the entrant's window after the current max.
pub fn join(state: &AppState, gid: &str, user: &str, role: i32, history: bool) {
    let (g, u) = (gid.to_owned(), user.to_owned());
    state
        .store
        .call_sync(move |c| {
            let conv = format!("sg_{g}");
            let max: i64 = c
                .query_row("SELECT max_seq FROM seqs WHERE conversation_id = ?1", [&conv], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let min = if history { 0 } else { max + 1 };
            c.execute(
                "INSERT INTO group_members (group_id, user_id, role_level, join_time) VALUES (?1, ?2, ?3, 1)",
                params![g, u, role],
            )?;
            c.execute(
                "INSERT INTO conversations (owner_user_id, conversation_id, conversation_type, group_id, min_seq, max_seq)
                 VALUES (?1, ?2, 3, ?3, ?4, 0)
                 ON CONFLICT (owner_user_id, conversation_id) DO UPDATE SET max_seq = 0, min_seq = ?4",
                params![u, conv, g, min],
            )?;
            Ok(())
        })
        .unwrap();
}

/// Removes a member (quit/kick): the row's max seq freezes at the group's current max.
pub fn leave(state: &AppState, gid: &str, user: &str) {
    let (g, u) = (gid.to_owned(), user.to_owned());
    state
        .store
        .call_sync(move |c| {
            let conv = format!("sg_{g}");
            c.execute(
                "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
                params![g, u],
            )?;
            c.execute(
                "UPDATE conversations SET max_seq = (SELECT max_seq FROM seqs WHERE conversation_id = ?2)
                 WHERE owner_user_id = ?1 AND conversation_id = ?2",
                params![u, conv],
            )?;
            Ok(())
        })
        .unwrap();
}

/// Runs one SQL statement (test setup: statuses, mutes).
pub fn exec(state: &AppState, sql: &str, args: &[&str]) {
    let (sql, args): (String, Vec<String>) =
        (sql.to_owned(), args.iter().map(|s| s.to_string()).collect());
    state
        .store
        .call_sync(move |c| {
            c.execute(
                &sql,
                chorus_server::store::rusqlite::params_from_iter(args.iter()),
            )?;
            Ok(())
        })
        .unwrap();
}

/// One integer from a query.
pub fn query_i64(state: &AppState, sql: &str, args: &[&str]) -> i64 {
    let (sql, args): (String, Vec<String>) =
        (sql.to_owned(), args.iter().map(|s| s.to_string()).collect());
    state
        .store
        .call_sync(move |c| {
            Ok(c.query_row(
                &sql,
                chorus_server::store::rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?)
        })
        .unwrap()
}

/// A fake gateway connection registered on the hub.
pub struct FakeConn {
    pub queue: ConnQueue,
    _handle: ConnHandle,
}

impl FakeConn {
    pub fn register(state: &AppState, user: &str, platform: i32) -> FakeConn {
        let token = format!("fake-{user}-{platform}");
        let (handle, queue, _kicked) = state.hub.register(user, platform, &token);
        FakeConn {
            queue,
            _handle: handle,
        }
    }

    /// Every frame queued so far.
    pub fn frames(&mut self) -> Vec<Resp> {
        let mut out = Vec::new();
        while let Ok(item) = self.queue.rx.try_recv() {
            match item {
                Outbound::Frame(resp) => out.push(resp),
                Outbound::Kick => panic!("unexpected kick"),
            }
        }
        out
    }

    /// Every 2001 push queued so far, decoded.
    pub fn pushes(&mut self) -> Vec<PushMessages> {
        self.frames()
            .into_iter()
            .map(|r| {
                assert_eq!(r.req_identifier, 2001);
                assert_eq!(r.msg_incr, "");
                assert_eq!(r.err_code, 0);
                PushMessages::decode(r.data.as_slice()).expect("push data is PushMessages")
            })
            .collect()
    }
}

/// The single message of a push frame: `(conversationID, notification?, msg)`.
pub fn only_msg(p: &PushMessages) -> (String, bool, MsgData) {
    let mut all: Vec<(String, bool, MsgData)> = Vec::new();
    for (k, v) in &p.msgs {
        all.extend(v.msgs.iter().map(|m| (k.clone(), false, m.clone())));
    }
    for (k, v) in &p.notification_msgs {
        all.extend(v.msgs.iter().map(|m| (k.clone(), true, m.clone())));
    }
    assert_eq!(all.len(), 1, "one message per push frame: {p:?}");
    all.remove(0)
}

/// A text message of `send` in group `gid`.
pub fn group_text(send: &str, gid: &str, client_msg_id: &str, text: &str) -> MsgData {
    MsgData {
        send_id: send.into(),
        group_id: gid.into(),
        client_msg_id: client_msg_id.into(),
        sender_platform_id: 5,
        session_type: 3,
        msg_from: 100,
        content_type: 101,
        content: format!(r#"{{"content":"{text}"}}"#).into_bytes(),
        create_time: 1,
        ..MsgData::default()
    }
}

/// A text message from `send` to `recv`.
pub fn single_text(send: &str, recv: &str, client_msg_id: &str, text: &str) -> MsgData {
    MsgData {
        send_id: send.into(),
        recv_id: recv.into(),
        client_msg_id: client_msg_id.into(),
        sender_platform_id: 5,
        session_type: 1,
        msg_from: 100,
        content_type: 101,
        content: format!(r#"{{"content":"{text}"}}"#).into_bytes(),
        create_time: 1,
        ..MsgData::default()
    }
}
