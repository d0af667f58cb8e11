//! Helpers for relation tests: groups and members written straight into the store (so these
//! tests do not depend on `/group/*`), and fake gateway connections that collect pushes.

use chorus_proto::envelope::Resp;
use chorus_proto::pb::sdkws::{MsgData, PushMessages};
use chorus_proto::pb::Message;
use chorus_server::hub::Outbound;
use serde_json::{json, Value};

use super::msg::FakeConn;
use super::TestServer;

/// Creates group `gid` owned by `owner` with the two permission flags, and its owner row.
pub fn create_group(
    s: &TestServer,
    gid: &str,
    owner: &str,
    look_member_info: i32,
    apply_member_friend: i32,
) {
    let (g, o) = (gid.to_owned(), owner.to_owned());
    s.state
        .store
        .call_sync(move |c| {
            c.execute(
                "INSERT INTO groups (group_id, group_name, owner_user_id, create_time, creator_user_id,
                   group_type, look_member_info, apply_member_friend)
                 VALUES (?1, ?1, ?2, 1, ?2, 2, ?3, ?4)",
                rusqlite::params![g, o, look_member_info, apply_member_friend],
            )?;
            Ok(())
        })
        .unwrap();
    add_member(s, gid, owner, 100);
}

/// Adds `user` to `gid` with `role` (100 owner, 60 admin, 20 ordinary).
pub fn add_member(s: &TestServer, gid: &str, user: &str, role: i32) {
    set_member(s, gid, user, role, "", "");
}

/// Adds a member with a group nickname and face.
pub fn set_member(s: &TestServer, gid: &str, user: &str, role: i32, nickname: &str, face: &str) {
    let (g, u, n, f) = (
        gid.to_owned(),
        user.to_owned(),
        nickname.to_owned(),
        face.to_owned(),
    );
    s.state
        .store
        .call_sync(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO group_members (group_id, user_id, role_level, join_time,
                   nickname, face_url, join_source) VALUES (?1, ?2, ?3, 1, ?4, ?5, 2)",
                rusqlite::params![g, u, role, n, f],
            )?;
            Ok(())
        })
        .unwrap();
}

/// A fake gateway connection of `user` on `platform`, registered with the hub.
pub fn connect(s: &TestServer, user: &str, platform: i32) -> FakeConn {
    FakeConn::register(&s.state, user, platform)
}

/// Every message carried by a 2001 push frame (chat and notification conversations).
pub fn push_messages(resp: &Resp) -> Vec<MsgData> {
    if resp.req_identifier != 2001 {
        return Vec::new();
    }
    let Ok(push) = PushMessages::decode(resp.data.as_slice()) else {
        return Vec::new();
    };
    push.msgs
        .into_values()
        .chain(push.notification_msgs.into_values())
        .flat_map(|p| p.msgs)
        .collect()
}

impl FakeConn {
    /// Waits (up to 5 s) for a pushed message with `content_type`; returns it and its tips JSON.
    pub async fn expect_tip(&mut self, content_type: i32) -> (MsgData, Value) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let out = tokio::time::timeout_at(deadline, self.queue.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no push with content type {content_type} within 5 s"))
                .expect("queue open");
            let Outbound::Frame(resp) = out else { continue };
            for m in push_messages(&resp) {
                if m.content_type == content_type {
                    let detail = chorus_proto::content::notification_detail(&m.content)
                        .expect("notification content");
                    let tips: Value = serde_json::from_str(&detail).expect("tips JSON");
                    return (m, tips);
                }
            }
        }
    }
}

/// `post` that asserts success and returns `data` (or `null`).
pub async fn ok(s: &TestServer, path: &str, token: &str, body: Value) -> Value {
    let r = s.post(path, Some(token), body).await;
    assert_eq!(r["errCode"], 0, "{path}: {r}");
    r.get("data").cloned().unwrap_or(Value::Null)
}

/// `post` that returns the error code.
pub async fn code(s: &TestServer, path: &str, token: &str, body: Value) -> i64 {
    let r = s.post(path, Some(token), body).await;
    r["errCode"].as_i64().expect("errCode")
}

/// Makes `a` and `b` friends through a request and its acceptance.
pub async fn befriend(s: &TestServer, a: &str, ta: &str, b: &str, tb: &str) {
    ok(
        s,
        "/friend/add_friend",
        ta,
        json!({"fromUserID": a, "toUserID": b, "reqMsg": "hi"}),
    )
    .await;
    ok(
        s,
        "/friend/add_friend_response",
        tb,
        json!({"fromUserID": a, "toUserID": b, "handleResult": 1, "handleMsg": "ok"}),
    )
    .await;
}
