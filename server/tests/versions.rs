//! Incremental version sync of groups (spec §5.8) against the real server: a client at version
//! N of a member list or a joined-group list receives exactly the changes since N, a foreign
//! versionID gets `full: true`, the tips of a change carry the version of the log, and the full
//! ID lists honour `idHash`.

mod support;

use chorus_proto::pb::sdkws::PushMessages;
use chorus_proto::pb::Message as _;
use chorus_server::hub::{ConnQueue, Outbound};
use serde_json::{json, Value};
use support::group_users::GroupUsers;

/// A server with users u1..u5 (nicknames N1..N5) and a Web token for each.
struct Fx(GroupUsers);

impl std::ops::Deref for Fx {
    type Target = GroupUsers;
    fn deref(&self) -> &GroupUsers {
        &self.0
    }
}

impl Fx {
    async fn new() -> Self {
        Fx(GroupUsers::start(5).await)
    }

    async fn create(&self, owner: &str, members: &[&str]) -> String {
        let d = self
            .ok(
                owner,
                "create_group",
                json!({"memberUserIDs": members, "ownerUserID": owner,
                    "groupInfo": {"groupName": "team", "groupType": 2}}),
            )
            .await;
        d["groupInfo"]["groupID"].as_str().unwrap().to_owned()
    }

    /// The member delta of `group_id` for `user` at `(version_id, version)`.
    async fn members_since(&self, user: &str, group_id: &str, vid: &str, version: u64) -> Value {
        let d = self
            .ok(
                user,
                "get_incremental_group_members_batch",
                json!({"userID": user, "reqList": [
                    {"groupID": group_id, "versionID": vid, "version": version}]}),
            )
            .await;
        d["respList"][group_id].clone()
    }

    async fn groups_since(&self, user: &str, vid: &str, version: u64) -> Value {
        self.ok(
            user,
            "get_incremental_join_groups",
            json!({"userID": user, "versionID": vid, "version": version}),
        )
        .await
    }
}

fn version_of(v: &Value) -> (String, u64) {
    (
        v["versionID"].as_str().expect("versionID").to_owned(),
        v["version"].as_u64().expect("version"),
    )
}

/// The userIDs (or groupIDs, with `key`) of a delta list, sorted.
fn ids(list: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list, never null: {list}"))
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

fn strings(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list, never null: {list}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

/// Tips pushed so far: (contentType, tips JSON).
fn tips(q: &mut ConnQueue) -> Vec<(i32, Value)> {
    let mut out = Vec::new();
    while let Ok(frame) = q.rx.try_recv() {
        let Outbound::Frame(resp) = frame else {
            continue;
        };
        if resp.req_identifier != 2001 {
            continue;
        }
        let push = PushMessages::decode(resp.data.as_slice()).expect("PushMessages");
        for pulled in push.notification_msgs.values().chain(push.msgs.values()) {
            for m in &pulled.msgs {
                let Ok(detail) = chorus_proto::content::notification_detail(&m.content) else {
                    continue;
                };
                out.push((m.content_type, serde_json::from_str(&detail).expect("JSON")));
            }
        }
    }
    out
}

/// `idHash` as spec §5.4 defines it, computed independently of the server.
fn id_hash(ids: &[String]) -> u64 {
    use md5::{Digest, Md5};
    let sum = Md5::digest(serde_json::to_vec(ids).unwrap());
    u64::from_be_bytes(sum[..8].try_into().unwrap())
}

#[tokio::test]
async fn a_member_list_client_at_version_n_gets_exactly_the_changes_since_n() {
    let f = Fx::new().await;
    let gid = f.create("u1", &["u2", "u3"]).await;

    let first = f.members_since("u1", &gid, "", 0).await;
    assert_eq!(first["full"], true, "{first}");
    assert_eq!(first["group"]["groupID"], gid.as_str());
    let (vid, v0) = version_of(&first);
    assert_eq!(vid.len(), 24);
    assert!(v0 > 0, "creation is a change: {first}");

    // Up to date: nothing, as empty lists.
    let same = f.members_since("u1", &gid, &vid, v0).await;
    assert_eq!(same["full"], false, "{same}");
    assert_eq!(version_of(&same), (vid.clone(), v0));
    for k in ["insert", "update", "delete"] {
        assert_eq!(same[k], json!([]), "{k}: {same}");
    }

    // Three changes: u4 invited, u2 renamed in the group, u3 kicked.
    f.ok(
        "u1",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u4"], "reason": ""}),
    )
    .await;
    let v1 = version_of(&f.members_since("u1", &gid, &vid, v0).await).1;
    f.ok(
        "u2",
        "set_group_member_info",
        json!({"members": [{"groupID": gid, "userID": "u2", "nickname": "Two"}]}),
    )
    .await;
    let v2 = version_of(&f.members_since("u1", &gid, &vid, v0).await).1;
    f.ok(
        "u1",
        "kick_group",
        json!({"groupID": gid, "kickedUserIDs": ["u3"], "reason": ""}),
    )
    .await;
    assert!(v0 < v1 && v1 < v2, "{v0} {v1} {v2}");

    let all = f.members_since("u1", &gid, &vid, v0).await;
    assert_eq!(all["full"], false, "{all}");
    let (_, v3) = version_of(&all);
    assert!(v3 > v2);
    assert_eq!(ids(&all["insert"], "userID"), ["u4"]);
    assert_eq!(ids(&all["update"], "userID"), ["u2"]);
    assert_eq!(all["update"][0]["nickname"], "Two");
    assert_eq!(strings(&all["delete"]), ["u3"]);
    assert_eq!(all["insert"][0]["joinSource"], 2);
    assert_eq!(all["insert"][0]["inviterUserID"], "u1");

    // From v1 the invitation is already known; from v2 only the kick is new.
    let from1 = f.members_since("u1", &gid, &vid, v1).await;
    assert_eq!(from1["insert"], json!([]), "{from1}");
    assert_eq!(ids(&from1["update"], "userID"), ["u2"]);
    assert_eq!(strings(&from1["delete"]), ["u3"]);
    let from2 = f.members_since("u1", &gid, &vid, v2).await;
    assert_eq!(from2["insert"], json!([]), "{from2}");
    assert_eq!(from2["update"], json!([]), "{from2}");
    assert_eq!(strings(&from2["delete"]), ["u3"]);

    // A foreign versionID, version 0 or a version from the future: refetch everything.
    for (other, version) in [
        ("0123456789abcdef01234567", v0),
        (vid.as_str(), 0),
        (vid.as_str(), v3 + 5),
    ] {
        let r = f.members_since("u1", &gid, other, version).await;
        assert_eq!(r["full"], true, "{other} {version}: {r}");
        assert_eq!(version_of(&r), (vid.clone(), v3));
        assert_eq!(r["insert"], json!([]));
    }
}

#[tokio::test]
async fn tips_carry_the_version_of_the_member_log() {
    let f = Fx::new().await;
    let gid = f.create("u1", &["u2", "u3"]).await;
    let mut q = f.listen("u2");
    let (vid, _) = version_of(&f.members_since("u1", &gid, "", 0).await);

    // Each change's tip carries the version that change produced.
    f.ok(
        "u1",
        "mute_group_member",
        json!({"groupID": gid, "userID": "u3", "mutedSeconds": 60}),
    )
    .await;
    let after_mute = version_of(&f.members_since("u1", &gid, "", 0).await);
    f.ok(
        "u1",
        "set_group_member_info",
        json!({"members": [{"groupID": gid, "userID": "u3", "roleLevel": 60}]}),
    )
    .await;
    let after_role = version_of(&f.members_since("u1", &gid, "", 0).await);
    f.ok(
        "u1",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u4"], "reason": ""}),
    )
    .await;
    let after_invite = version_of(&f.members_since("u1", &gid, "", 0).await);
    f.ok(
        "u1",
        "set_group_info_ex",
        json!({"groupID": gid, "groupName": "renamed"}),
    )
    .await;
    let after_rename = version_of(&f.members_since("u1", &gid, "", 0).await);

    let pushed = tips(&mut q);
    let tip_version = |ct: i32| -> (String, u64) {
        let (_, t) = pushed
            .iter()
            .find(|(c, _)| *c == ct)
            .unwrap_or_else(|| panic!("no tip {ct}: {pushed:?}"));
        (
            t["groupMemberVersionID"].as_str().unwrap().to_owned(),
            t["groupMemberVersion"].as_u64().unwrap(),
        )
    };
    assert_eq!(after_mute.0, vid);
    assert_eq!(tip_version(1512), after_mute, "member muted");
    assert_eq!(tip_version(1517), after_role, "set to admin");
    assert_eq!(tip_version(1509), after_invite, "member invited");
    assert_eq!(tip_version(1520), after_rename, "group renamed");
    // Consecutive versions, so a client applying the tips one by one never sees a gap.
    assert_eq!(after_role.1, after_mute.1 + 1);
    assert_eq!(after_invite.1, after_role.1 + 1);
    assert_eq!(after_rename.1, after_invite.1 + 1);
}

#[tokio::test]
async fn a_joined_group_client_at_version_n_gets_exactly_the_changes_since_n() {
    let f = Fx::new().await;
    let g1 = f.create("u1", &["u3"]).await;
    let first = f.groups_since("u3", "", 0).await;
    assert_eq!(first["full"], true, "{first}");
    assert_eq!(first["insert"], json!([]));
    let (vid, v0) = version_of(&first);
    assert!(v0 > 0);

    // Joined g2 by invitation, g3 by direct join, g1 renamed, then left g1.
    let g2 = f.create("u1", &["u2"]).await;
    f.ok(
        "u1",
        "invite_user_to_group",
        json!({"groupID": g2, "invitedUserIDs": ["u3"], "reason": ""}),
    )
    .await;
    let g3 = f.create("u2", &[]).await;
    f.ok(
        "u2",
        "set_group_info_ex",
        json!({"groupID": g3, "needVerification": 2}),
    )
    .await;
    let before_join = version_of(&f.groups_since("u3", &vid, v0).await).1;
    f.ok(
        "u3",
        "join_group",
        json!({"groupID": g3, "reqMessage": "", "joinSource": 3, "inviterUserID": "u3"}),
    )
    .await;
    f.ok(
        "u1",
        "set_group_info_ex",
        json!({"groupID": g1, "groupName": "renamed"}),
    )
    .await;

    let d = f.groups_since("u3", &vid, v0).await;
    assert_eq!(d["full"], false, "{d}");
    let mut inserted = vec![g2.clone(), g3.clone()];
    inserted.sort();
    assert_eq!(ids(&d["insert"], "groupID"), inserted);
    assert_eq!(ids(&d["update"], "groupID"), [g1.as_str()]);
    assert_eq!(d["update"][0]["groupName"], "renamed");
    assert_eq!(d["delete"], json!([]));

    // After the join, only g3 and the rename are new.
    let d = f.groups_since("u3", &vid, before_join).await;
    assert_eq!(ids(&d["insert"], "groupID"), [g3.as_str()]);
    assert_eq!(ids(&d["update"], "groupID"), [g1.as_str()]);

    let (_, before_quit) = version_of(&d);
    f.ok("u3", "quit_group", json!({"groupID": g1, "userID": "u3"}))
        .await;
    let d = f.groups_since("u3", &vid, before_quit).await;
    assert_eq!(strings(&d["delete"]), [g1.as_str()], "{d}");
    assert_eq!(d["insert"], json!([]));
    assert_eq!(d["update"], json!([]));
    // u3 is no longer told about g1's changes.
    let (_, now) = version_of(&d);
    f.ok(
        "u1",
        "set_group_info_ex",
        json!({"groupID": g1, "introduction": "later"}),
    )
    .await;
    assert_eq!(version_of(&f.groups_since("u3", &vid, now).await).1, now);

    let foreign = f.groups_since("u3", "ffffffffffffffffffffffff", now).await;
    assert_eq!(foreign["full"], true, "{foreign}");
}

#[tokio::test]
async fn full_id_lists_honour_id_hash() {
    let f = Fx::new().await;
    let g1 = f.create("u1", &["u2", "u3"]).await;
    let g2 = f.create("u2", &["u1"]).await;

    let full = f
        .ok(
            "u2",
            "get_full_group_member_user_ids",
            json!({"groupID": g1, "idHash": 0}),
        )
        .await;
    assert_eq!(full["equal"], false);
    let members: Vec<String> = serde_json::from_value(full["userIDs"].clone()).unwrap();
    assert_eq!(members, ["u1", "u2", "u3"]);
    let log = f.members_since("u2", &g1, "", 0).await;
    assert_eq!(version_of(&full), version_of(&log), "the same log");

    let same = f
        .ok(
            "u2",
            "get_full_group_member_user_ids",
            json!({"groupID": g1, "idHash": id_hash(&members)}),
        )
        .await;
    assert_eq!(same["equal"], true, "{same}");
    assert_eq!(same["userIDs"], json!([]));
    let stale = f
        .ok(
            "u2",
            "get_full_group_member_user_ids",
            json!({"groupID": g1, "idHash": id_hash(&members[..2])}),
        )
        .await;
    assert_eq!(stale["equal"], false);
    assert_eq!(stale["userIDs"], json!(["u1", "u2", "u3"]));

    let groups = f
        .ok(
            "u1",
            "get_full_join_group_ids",
            json!({"userID": "u1", "idHash": 0}),
        )
        .await;
    let group_ids: Vec<String> = serde_json::from_value(groups["groupIDs"].clone()).unwrap();
    let mut sorted = group_ids.clone();
    sorted.sort();
    let mut want = vec![g1, g2];
    want.sort();
    assert_eq!(sorted, want);
    let same = f
        .ok(
            "u1",
            "get_full_join_group_ids",
            json!({"userID": "u1", "idHash": id_hash(&group_ids)}),
        )
        .await;
    assert_eq!(same["equal"], true, "{same}");
    assert_eq!(same["groupIDs"], json!([]));
    assert_eq!(
        version_of(&same),
        version_of(&f.groups_since("u1", "", 0).await)
    );
}
