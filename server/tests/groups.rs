//! Groups over REST against the real server: creation, announcements, how members joined,
//! applications, the permission matrix, mutes, dismissal, `lookMemberInfo` enforcement, the
//! history switch (conversation windows) and the notifications members receive.

mod support;

use chorus_proto::pb::sdkws::PushMessages;
use chorus_proto::pb::Message as _;
use chorus_server::hub::{ConnQueue, Outbound};
use serde_json::{json, Value};
use support::group_users::GroupUsers;

/// A server with users u1..u6 (nicknames N1..N6) and a Web token for each.
struct Fx(GroupUsers);

impl std::ops::Deref for Fx {
    type Target = GroupUsers;
    fn deref(&self) -> &GroupUsers {
        &self.0
    }
}

impl Fx {
    async fn new() -> Self {
        Fx(GroupUsers::start(6).await)
    }

    /// u1 creates a group with members and admins; returns the groupID.
    async fn create(&self, members: &[&str], admins: &[&str], extra: Value) -> String {
        let mut body = json!({
            "memberUserIDs": members, "adminUserIDs": admins, "ownerUserID": "u1",
            "sendMessage": null,
            "groupInfo": {"groupID": "", "groupName": "team", "notification": "", "introduction": "",
                "faceURL": "", "ex": "", "groupType": 2, "needVerification": 0,
                "lookMemberInfo": 0, "applyMemberFriend": 0, "creatorUserID": "u1"},
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            for (k, v) in e {
                if k == "groupInfo" {
                    for (gk, gv) in v.as_object().cloned().unwrap_or_default() {
                        b["groupInfo"][gk] = gv;
                    }
                } else {
                    b.insert(k, v);
                }
            }
        }
        let data = self.ok("u1", "create_group", body).await;
        data["groupInfo"]["groupID"].as_str().unwrap().to_owned()
    }

    async fn group(&self, gid: &str) -> Value {
        let data = self
            .ok("u1", "get_groups_info", json!({"groupIDs": [gid]}))
            .await;
        data["groupInfos"][0].clone()
    }

    /// `get_group_members_info` of one member as seen by `viewer`.
    async fn member(&self, viewer: &str, gid: &str, user: &str) -> Value {
        let data = self
            .ok(
                viewer,
                "get_group_members_info",
                json!({"groupID": gid, "userIDs": [user]}),
            )
            .await;
        let members = data["members"].as_array().unwrap();
        assert_eq!(members.len(), 1, "{data}");
        members[0].clone()
    }

    async fn set_info(&self, user: &str, gid: &str, fields: Value) -> Value {
        let mut body = json!({"groupID": gid, "groupName": null, "notification": null,
            "introduction": null, "faceURL": null, "ex": null, "needVerification": null,
            "lookMemberInfo": null, "applyMemberFriend": null});
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.call(user, "set_group_info_ex", body).await
    }

    /// `(min_seq, max_seq)` of `user`'s `sg_` row, if any.
    fn window(&self, user: &str, gid: &str) -> Option<(i64, i64)> {
        let (u, c) = (user.to_owned(), format!("sg_{gid}"));
        self.s
            .state
            .store
            .call_sync(move |conn| {
                use rusqlite::OptionalExtension;
                Ok(conn
                    .query_row(
                        "SELECT min_seq, max_seq FROM conversations WHERE owner_user_id = ?1 AND conversation_id = ?2",
                        [u, c],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?)
            })
            .unwrap()
    }

    fn group_max_seq(&self, gid: &str) -> i64 {
        let c = format!("sg_{gid}");
        self.s
            .state
            .store
            .call_sync(move |conn| {
                use rusqlite::OptionalExtension;
                Ok(conn
                    .query_row(
                        "SELECT max_seq FROM seqs WHERE conversation_id = ?1",
                        [c],
                        |r| r.get::<_, i64>(0),
                    )
                    .optional()?
                    .unwrap_or(0))
            })
            .unwrap()
    }

    /// Advances the group's seq counter as if `n` messages had been sent.
    fn bump_seq(&self, gid: &str, n: i64) {
        let c = format!("sg_{gid}");
        self.s
            .state
            .store
            .call_sync(move |conn| {
                conn.execute(
                    "INSERT INTO seqs (conversation_id, max_seq, min_seq) VALUES (?1, ?2, 0)
                     ON CONFLICT (conversation_id) DO UPDATE SET max_seq = max_seq + ?2",
                    rusqlite::params![c, n],
                )?;
                Ok(())
            })
            .unwrap();
    }
}

/// Every notification pushed to a connection so far: `(conversationID, contentType, seq, tips)`.
fn drain(q: &mut ConnQueue) -> Vec<(String, i32, i64, Value)> {
    let mut out = Vec::new();
    while let Ok(frame) = q.rx.try_recv() {
        let Outbound::Frame(resp) = frame else {
            continue;
        };
        assert_eq!(resp.req_identifier, 2001);
        let push = PushMessages::decode(resp.data.as_slice()).expect("PushMessages");
        for (conv, pulled) in push.msgs.iter().chain(push.notification_msgs.iter()) {
            for m in &pulled.msgs {
                let detail = chorus_proto::content::notification_detail(&m.content)
                    .unwrap_or_else(|e| panic!("content of {}: {e}", m.content_type));
                let tips: Value = serde_json::from_str(&detail).expect("tips JSON");
                out.push((conv.clone(), m.content_type, m.seq, tips));
            }
        }
    }
    out
}

fn find(
    pushed: &[(String, i32, i64, Value)],
    content_type: i32,
) -> Vec<&(String, i32, i64, Value)> {
    pushed.iter().filter(|p| p.1 == content_type).collect()
}

#[tokio::test]
async fn create_group_sets_roles_join_source_and_inviter() {
    let f = Fx::new().await;
    let data = f
        .ok(
            "u1",
            "create_group",
            json!({"memberUserIDs": ["u2", "u3"], "adminUserIDs": ["u2"], "ownerUserID": "u1",
                "groupInfo": {"groupName": "team", "groupType": 2, "notification": "welcome"}}),
        )
        .await;
    let g = &data["groupInfo"];
    let gid = g["groupID"].as_str().unwrap().to_owned();
    assert!(
        !gid.is_empty() && gid.bytes().all(|b| b.is_ascii_digit()),
        "decimal groupID: {gid}"
    );
    assert_eq!(g["memberCount"], 3);
    assert_eq!(g["ownerUserID"], "u1");
    assert_eq!(g["creatorUserID"], "u1");
    assert_eq!(g["groupType"], 2);
    assert_eq!(g["notification"], "welcome");
    assert_eq!(g["notificationUserID"], "u1");
    assert!(g["notificationUpdateTime"].as_i64().unwrap() > 0);

    for (user, role, nick) in [("u1", 100, "N1"), ("u2", 60, "N2"), ("u3", 20, "N3")] {
        let m = f.member("u1", &gid, user).await;
        assert_eq!(m["roleLevel"], role, "{m}");
        assert_eq!(m["joinSource"], 2, "{m}");
        assert_eq!(m["inviterUserID"], "u1", "{m}");
        assert_eq!(m["operatorUserID"], "u1", "{m}");
        assert!(m["joinTime"].as_i64().unwrap() > 0, "{m}");
        assert_eq!(m["nickname"], nick, "nickname from the profile: {m}");
        assert_eq!(m["groupID"], gid.as_str());
        // Every member got a group conversation with an open window.
        assert_eq!(f.window(user, &gid), Some((0, 0)), "{user}");
    }

    // groupType must be 2; an explicit groupID must be free; the owner is the caller.
    f.fails(
        "u1",
        "create_group",
        json!({"memberUserIDs": ["u2"], "ownerUserID": "u1", "groupInfo": {"groupName": "x", "groupType": 1}}),
        1205,
    )
    .await;
    f.fails(
        "u1",
        "create_group",
        json!({"memberUserIDs": ["u2"], "ownerUserID": "u1", "groupInfo": {"groupID": gid, "groupName": "x", "groupType": 2}}),
        1202,
    )
    .await;
    f.fails(
        "u1",
        "create_group",
        json!({"memberUserIDs": ["u3"], "ownerUserID": "u2", "groupInfo": {"groupName": "x", "groupType": 2}}),
        1002,
    )
    .await;
    f.fails(
        "u1",
        "create_group",
        json!({"memberUserIDs": ["nobody"], "ownerUserID": "u1", "groupInfo": {"groupName": "x", "groupType": 2}}),
        1101,
    )
    .await;
    // An app administrator creates for someone else and is not added.
    let data = f
        .ok(
            support::ADMIN,
            "create_group",
            json!({"memberUserIDs": ["u3"], "ownerUserID": "u2", "groupInfo": {"groupID": "g-admin", "groupName": "x", "groupType": 2}}),
        )
        .await;
    assert_eq!(data["groupInfo"]["groupID"], "g-admin");
    assert_eq!(data["groupInfo"]["memberCount"], 2);
    assert_eq!(f.member("u2", "g-admin", "u2").await["roleLevel"], 100);
}

#[tokio::test]
async fn announcement_records_editor_and_time() {
    let f = Fx::new().await;
    let gid = f.create(&["u2", "u3"], &["u2"], json!({})).await;
    let before = chorus_server::now_ms();
    let r = f
        .set_info("u2", &gid, json!({"notification": "Meeting at 10"}))
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let g = f.group(&gid).await;
    assert_eq!(g["notification"], "Meeting at 10");
    assert_eq!(g["notificationUserID"], "u2");
    let t = g["notificationUpdateTime"].as_i64().unwrap();
    assert!(t >= before && t <= chorus_server::now_ms(), "{t}");
    // Other fields were left alone (null = unchanged).
    assert_eq!(g["groupName"], "team");
    // The members' chats flag the announcement (groupAtType 4).
    let at: i64 = f
        .s
        .state
        .store
        .call_sync({
            let c = format!("sg_{gid}");
            move |conn| {
                Ok(conn.query_row(
                    "SELECT group_at_type FROM conversations WHERE owner_user_id = 'u3' AND conversation_id = ?1",
                    [c],
                    |r| r.get(0),
                )?)
            }
        })
        .unwrap();
    assert_eq!(at, 4);

    // Ordinary members and strangers may not edit; bad values are refused.
    assert_eq!(
        f.set_info("u3", &gid, json!({"notification": "x"})).await["errCode"],
        1002
    );
    assert_eq!(
        f.set_info("u4", &gid, json!({"notification": "x"})).await["errCode"],
        1203
    );
    assert_eq!(
        f.set_info("u1", &gid, json!({"groupName": ""})).await["errCode"],
        1001
    );
    assert_eq!(
        f.set_info("u1", &gid, json!({"lookMemberInfo": 2})).await["errCode"],
        1001
    );
    assert_eq!(
        f.set_info("u1", "no-such-group", json!({"notification": "x"}))
            .await["errCode"],
        1201
    );

    // "" clears the announcement, and the editor is whoever cleared it.
    assert_eq!(
        f.set_info("u1", &gid, json!({"notification": ""})).await["errCode"],
        0
    );
    let g = f.group(&gid).await;
    assert_eq!(g["notification"], "");
    assert_eq!(g["notificationUserID"], "u1");

    // The legacy call ignores empty strings: it cannot clear the announcement.
    f.ok(
        "u1",
        "set_group_info",
        json!({"groupInfoForSet": {"groupID": gid, "notification": "legacy", "groupName": "", "ex": null}}),
    )
    .await;
    f.ok(
        "u1",
        "set_group_info",
        json!({"groupInfoForSet": {"groupID": gid, "notification": "", "introduction": "intro"}}),
    )
    .await;
    let g = f.group(&gid).await;
    assert_eq!(g["notification"], "legacy");
    assert_eq!(g["introduction"], "intro");
    assert_eq!(g["groupName"], "team");
}

#[tokio::test]
async fn join_by_search_and_qr_code_without_verification() {
    let f = Fx::new().await;
    let gid = f
        .create(&["u2"], &[], json!({"groupInfo": {"needVerification": 2}}))
        .await;
    f.ok(
        "u4",
        "join_group",
        json!({"groupID": gid, "reqMessage": "hi", "joinSource": 3, "inviterUserID": "u4", "ex": ""}),
    )
    .await;
    f.ok(
        "u5",
        "join_group",
        json!({"groupID": gid, "reqMessage": "", "joinSource": 4, "inviterUserID": null, "ex": null}),
    )
    .await;
    let m4 = f.member("u1", &gid, "u4").await;
    assert_eq!(m4["joinSource"], 3, "{m4}");
    assert_eq!(m4["roleLevel"], 20);
    assert_eq!(m4["inviterUserID"], "");
    assert_eq!(m4["operatorUserID"], "u4");
    let m5 = f.member("u1", &gid, "u5").await;
    assert_eq!(m5["joinSource"], 4, "{m5}");
    assert_eq!(f.window("u4", &gid), Some((0, 0)));

    // The member list shows them all.
    let list = f
        .ok(
            "u4",
            "get_group_member_list",
            json!({"groupID": gid, "pagination": {"pageNumber": 1, "showNumber": 100}, "filter": 0}),
        )
        .await;
    assert_eq!(list["total"], 4);
    let ids: Vec<&str> = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["userID"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "u1", "owner first: {ids:?}");
    for u in ["u2", "u4", "u5"] {
        assert!(ids.contains(&u), "{ids:?}");
    }
    // Paging.
    let page2 = f
        .ok(
            "u1",
            "get_group_member_list",
            json!({"groupID": gid, "pagination": {"pageNumber": 2, "showNumber": 3}}),
        )
        .await;
    assert_eq!(page2["total"], 4);
    assert_eq!(page2["members"].as_array().unwrap().len(), 1);

    // The applicant named in inviterUserID must be the caller; members cannot join twice.
    f.fails(
        "u6",
        "join_group",
        json!({"groupID": gid, "joinSource": 3, "inviterUserID": "u3"}),
        1002,
    )
    .await;
    f.fails(
        "u4",
        "join_group",
        json!({"groupID": gid, "joinSource": 3, "inviterUserID": "u4"}),
        1001,
    )
    .await;
    f.fails(
        "u6",
        "join_group",
        json!({"groupID": "nope", "joinSource": 3, "inviterUserID": "u6"}),
        1201,
    )
    .await;
    // Strangers cannot read the member list.
    f.fails(
        "u6",
        "get_group_member_list",
        json!({"groupID": gid, "pagination": {"pageNumber": 1, "showNumber": 10}}),
        1203,
    )
    .await;
}

#[tokio::test]
async fn join_with_approval_and_applications() {
    let f = Fx::new().await;
    let gid = f.create(&["u2", "u3"], &["u2"], json!({})).await;
    f.ok(
        "u4",
        "join_group",
        json!({"groupID": gid, "reqMessage": "let me in", "joinSource": 4, "inviterUserID": "u4"}),
    )
    .await;
    f.ok(
        "u5",
        "join_group",
        json!({"groupID": gid, "reqMessage": "me too", "joinSource": 3, "inviterUserID": "u5"}),
    )
    .await;
    // Not members yet.
    f.fails(
        "u4",
        "get_group_members_info",
        json!({"groupID": gid, "userIDs": ["u4"]}),
        1203,
    )
    .await;
    let recv = f
        .ok(
            "u2",
            "get_recv_group_applicationList",
            json!({"fromUserID": "u2", "pagination": {"pageNumber": 1, "showNumber": 10}}),
        )
        .await;
    assert_eq!(recv["total"], 2, "{recv}");
    let req = recv["groupRequests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["userInfo"]["userID"] == "u4")
        .unwrap()
        .clone();
    assert_eq!(req["joinSource"], 4);
    assert_eq!(req["reqMsg"], "let me in");
    assert_eq!(req["handleResult"], 0);
    assert_eq!(req["groupInfo"]["groupID"], gid.as_str());
    assert_eq!(req["userInfo"]["nickname"], "N4");
    let count = f
        .ok(
            "u1",
            "get_group_application_unhandled_count",
            json!({"userID": "u1", "time": 0}),
        )
        .await;
    assert_eq!(count["count"], 2);
    let mine = f
        .ok(
            "u4",
            "get_user_req_group_applicationList",
            json!({"userID": "u4", "pagination": {"pageNumber": 1, "showNumber": 10}}),
        )
        .await;
    assert_eq!(mine["total"], 1);
    // Ordinary members cannot see or handle others' applications.
    let r3 = f
        .ok(
            "u3",
            "get_recv_group_applicationList",
            json!({"fromUserID": "u3", "pagination": {"pageNumber": 1, "showNumber": 10}}),
        )
        .await;
    assert_eq!(r3["total"], 0);
    let respond = |who: &'static str, result: i32| json!({"groupID": gid, "fromUserID": who, "handledMsg": "ok", "handleResult": result});
    f.fails("u3", "group_application_response", respond("u4", 1), 1002)
        .await;
    f.fails("u6", "group_application_response", respond("u4", 1), 1203)
        .await;
    f.fails("u1", "group_application_response", respond("u6", 1), 1004)
        .await;
    f.fails("u1", "group_application_response", respond("u4", 2), 1001)
        .await;

    // The admin accepts u4: the member keeps the source they applied with, the approver is
    // the operator.
    f.ok("u2", "group_application_response", respond("u4", 1))
        .await;
    let m = f.member("u1", &gid, "u4").await;
    assert_eq!(m["joinSource"], 4, "{m}");
    assert_eq!(m["operatorUserID"], "u2");
    assert_eq!(m["inviterUserID"], "");
    assert_eq!(f.window("u4", &gid), Some((0, 0)));
    f.fails("u1", "group_application_response", respond("u4", -1), 1206)
        .await;

    // The owner rejects u5.
    f.ok("u1", "group_application_response", respond("u5", -1))
        .await;
    let members = f
        .ok(
            "u1",
            "get_group_members_info",
            json!({"groupID": gid, "userIDs": ["u5"]}),
        )
        .await;
    assert_eq!(members["members"], json!([]));
    let count = f
        .ok(
            "u1",
            "get_group_application_unhandled_count",
            json!({"userID": "u1", "time": 0}),
        )
        .await;
    assert_eq!(count["count"], 0);
    let mine = f
        .ok(
            "u5",
            "get_user_req_group_applicationList",
            json!({"userID": "u5", "pagination": {"pageNumber": 1, "showNumber": 10}}),
        )
        .await;
    assert_eq!(mine["groupRequests"][0]["handleResult"], -1);
    assert_eq!(mine["groupRequests"][0]["handleUserID"], "u1");
}

#[tokio::test]
async fn invitations_record_the_inviter() {
    let f = Fx::new().await;
    let gid = f.create(&["u2", "u3"], &["u2"], json!({})).await;
    // needVerification 0: invitations join directly, even by ordinary members.
    f.ok(
        "u3",
        "invite_user_to_group",
        json!({"groupID": gid, "reason": "", "invitedUserIDs": ["u4"]}),
    )
    .await;
    let m = f.member("u1", &gid, "u4").await;
    assert_eq!(m["joinSource"], 2);
    assert_eq!(m["inviterUserID"], "u3");
    assert_eq!(m["operatorUserID"], "u3");
    f.fails(
        "u3",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u4"]}),
        1001,
    )
    .await;
    f.fails(
        "u6",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u5"]}),
        1203,
    )
    .await;

    // needVerification 1: an ordinary member's invitation becomes an application carrying
    // joinSource 2 and the inviter; an admin's invitation joins directly.
    assert_eq!(
        f.set_info("u1", &gid, json!({"needVerification": 1})).await["errCode"],
        0
    );
    f.ok(
        "u3",
        "invite_user_to_group",
        json!({"groupID": gid, "reason": "friend of mine", "invitedUserIDs": ["u5"]}),
    )
    .await;
    let pending = f
        .ok(
            "u1",
            "get_group_members_info",
            json!({"groupID": gid, "userIDs": ["u5"]}),
        )
        .await;
    assert_eq!(
        pending["members"],
        json!([]),
        "not a member before approval"
    );
    let recv = f
        .ok(
            "u1",
            "get_recv_group_applicationList",
            json!({"fromUserID": "u1", "pagination": {"pageNumber": 1, "showNumber": 10}}),
        )
        .await;
    assert_eq!(recv["total"], 1, "{recv}");
    assert_eq!(recv["groupRequests"][0]["joinSource"], 2);
    assert_eq!(recv["groupRequests"][0]["inviterUserID"], "u3");
    f.ok(
        "u1",
        "group_application_response",
        json!({"groupID": gid, "fromUserID": "u5", "handledMsg": "", "handleResult": 1}),
    )
    .await;
    let m = f.member("u1", &gid, "u5").await;
    assert_eq!(m["joinSource"], 2);
    assert_eq!(m["inviterUserID"], "u3");
    assert_eq!(m["operatorUserID"], "u1");

    f.ok(
        "u2",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u6"]}),
    )
    .await;
    let m = f.member("u1", &gid, "u6").await;
    assert_eq!(m["inviterUserID"], "u2");
    assert_eq!(f.group(&gid).await["memberCount"], 6);
}

#[tokio::test]
async fn look_member_info_hides_details_from_ordinary_members() {
    let f = Fx::new().await;
    let gid = f.create(&["u2", "u3", "u4"], &["u2"], json!({})).await;
    f.ok(
        "u1",
        "set_group_member_info",
        json!({"members": [{"groupID": gid, "userID": "u4", "nickname": "Dee", "ex": "secret"}]}),
    )
    .await;
    // Allowed (0): ordinary members see everything.
    let m = f.member("u3", &gid, "u4").await;
    assert_eq!(m["joinSource"], 2);
    assert_eq!(m["ex"], "secret");

    assert_eq!(
        f.set_info("u1", &gid, json!({"lookMemberInfo": 1})).await["errCode"],
        0
    );
    assert_eq!(f.group(&gid).await["lookMemberInfo"], 1);
    let hidden = f.member("u3", &gid, "u4").await;
    assert_eq!(hidden["userID"], "u4");
    assert_eq!(hidden["groupID"], gid.as_str());
    assert_eq!(hidden["nickname"], "Dee");
    assert_eq!(hidden["roleLevel"], 20);
    for (k, zero) in [
        ("joinSource", json!(0)),
        ("joinTime", json!(0)),
        ("inviterUserID", json!("")),
        ("operatorUserID", json!("")),
        ("ex", json!("")),
        ("muteEndTime", json!(0)),
    ] {
        assert_eq!(hidden[k], zero, "{k} hidden: {hidden}");
    }
    // Also through the member list.
    let list = f
        .ok(
            "u3",
            "get_group_member_list",
            json!({"groupID": gid, "pagination": {"pageNumber": 1, "showNumber": 10}}),
        )
        .await;
    for m in list["members"].as_array().unwrap() {
        if m["userID"] != "u3" {
            assert_eq!(m["joinSource"], 0, "{m}");
            assert_eq!(m["inviterUserID"], "", "{m}");
        } else {
            assert_eq!(m["joinSource"], 2, "own record: {m}");
        }
    }
    // Self, the owner, an admin and an app administrator see everything.
    let own = f.member("u3", &gid, "u3").await;
    assert_eq!(own["inviterUserID"], "u1");
    for viewer in ["u1", "u2", support::ADMIN] {
        let m = f.member(viewer, &gid, "u4").await;
        assert_eq!(m["joinSource"], 2, "{viewer}: {m}");
        assert_eq!(m["inviterUserID"], "u1", "{viewer}");
        assert_eq!(m["ex"], "secret", "{viewer}");
        assert!(m["joinTime"].as_i64().unwrap() > 0, "{viewer}");
    }
    // Non-members get nothing.
    f.fails(
        "u5",
        "get_group_members_info",
        json!({"groupID": gid, "userIDs": ["u4"]}),
        1203,
    )
    .await;
}

#[tokio::test]
async fn kick_quit_transfer_and_role_permission_matrix() {
    let f = Fx::new().await;
    // u1 owner, u2 + u3 admins, u4..u6 ordinary.
    let gid = f
        .create(&["u2", "u3", "u4", "u5", "u6"], &["u2", "u3"], json!({}))
        .await;
    let kick = |who: &str| json!({"groupID": gid, "kickedUserIDs": [who], "reason": ""});
    f.fails("u4", "kick_group", kick("u5"), 1002).await; // ordinary
    f.fails("u2", "kick_group", kick("u3"), 1002).await; // admin kicks admin
    f.fails("u2", "kick_group", kick("u1"), 1002).await; // admin kicks owner
    f.fails("u2", "kick_group", kick("u2"), 1001).await; // self
    f.fails("u2", "kick_group", kick("nobody"), 1203).await;
    f.ok("u2", "kick_group", kick("u6")).await; // admin kicks ordinary
    f.ok("u1", "kick_group", kick("u3")).await; // owner kicks admin
    assert_eq!(f.group(&gid).await["memberCount"], 4);

    let quit = |who: &str| json!({"groupID": gid, "userID": who});
    f.fails("u1", "quit_group", quit("u1"), 1002).await; // owner
    f.fails("u6", "quit_group", quit("u6"), 1203).await; // no longer a member
    f.fails("u4", "quit_group", quit("u5"), 1002).await; // for someone else
    f.ok("u5", "quit_group", json!({"groupID": gid})).await;

    // Roles: only the owner sets them, to 60 or 20, never their own.
    let set = |who: &str, fields: Value| {
        let mut m = json!({"groupID": gid, "userID": who, "nickname": null, "faceURL": null, "roleLevel": null, "ex": null});
        for (k, v) in fields.as_object().unwrap() {
            m[k] = v.clone();
        }
        json!({"members": [m]})
    };
    // (operator, target, roleLevel, expected error)
    for (who, target, role, code) in [
        ("u2", "u4", 60, 1002),
        ("u1", "u1", 60, 1002),
        ("u1", "u4", 100, 1001),
        ("u4", "u4", 60, 1002),
    ] {
        let body = set(target, json!({ "roleLevel": role }));
        f.fails(who, "set_group_member_info", body, code).await;
    }
    f.ok(
        "u1",
        "set_group_member_info",
        set("u4", json!({"roleLevel": 60})),
    )
    .await;
    assert_eq!(f.member("u1", &gid, "u4").await["roleLevel"], 60);
    f.ok(
        "u1",
        "set_group_member_info",
        set("u4", json!({"roleLevel": 20})),
    )
    .await;
    assert_eq!(f.member("u1", &gid, "u4").await["roleLevel"], 20);

    // Member info: ordinary only self; admin self and ordinary; not the owner or other admins.
    f.fails(
        "u4",
        "set_group_member_info",
        set("u2", json!({"nickname": "x"})),
        1002,
    )
    .await;
    f.ok(
        "u4",
        "set_group_member_info",
        set("u4", json!({"nickname": "Four"})),
    )
    .await;
    f.ok(
        "u2",
        "set_group_member_info",
        set("u4", json!({"faceURL": "f.png"})),
    )
    .await;
    f.fails(
        "u2",
        "set_group_member_info",
        set("u1", json!({"nickname": "x"})),
        1002,
    )
    .await;
    let m = f.member("u1", &gid, "u4").await;
    assert_eq!(m["nickname"], "Four");
    assert_eq!(m["faceURL"], "f.png");
    // An empty group nickname falls back to the profile.
    f.ok(
        "u4",
        "set_group_member_info",
        set("u4", json!({"nickname": ""})),
    )
    .await;
    assert_eq!(f.member("u1", &gid, "u4").await["nickname"], "N4");

    // Transfer: only the owner; the old owner takes the new owner's previous role.
    let transfer = json!({"groupID": gid, "oldOwnerUserID": "u1", "newOwnerUserID": "u2"});
    f.fails("u2", "transfer_group", transfer.clone(), 1002)
        .await;
    f.fails(
        "u1",
        "transfer_group",
        json!({"groupID": gid, "oldOwnerUserID": "u1", "newOwnerUserID": "u6"}),
        1203,
    )
    .await;
    f.ok("u1", "transfer_group", transfer).await;
    assert_eq!(f.group(&gid).await["ownerUserID"], "u2");
    assert_eq!(f.member("u2", &gid, "u2").await["roleLevel"], 100);
    assert_eq!(f.member("u2", &gid, "u1").await["roleLevel"], 60);
    // The former owner may now quit.
    f.ok("u1", "quit_group", json!({"groupID": gid, "userID": "u1"}))
        .await;
    assert_eq!(f.group(&gid).await["memberCount"], 2);
}

#[tokio::test]
async fn mutes_and_dismissal() {
    let f = Fx::new().await;
    let gid = f.create(&["u2", "u3", "u4"], &["u2"], json!({})).await;
    let mute = |who: &str, secs: u32| json!({"groupID": gid, "userID": who, "mutedSeconds": secs});
    let before = chorus_server::now_ms();
    f.ok("u2", "mute_group_member", mute("u3", 60)).await;
    let end = f.member("u1", &gid, "u3").await["muteEndTime"]
        .as_i64()
        .unwrap();
    assert!(
        end >= before + 60_000 && end <= chorus_server::now_ms() + 60_000,
        "{end}"
    );
    f.fails("u2", "mute_group_member", mute("u1", 60), 1002)
        .await;
    f.fails("u3", "mute_group_member", mute("u4", 60), 1002)
        .await;
    f.fails("u4", "cancel_mute_group_member", mute("u3", 0), 1002)
        .await;
    f.ok("u1", "cancel_mute_group_member", mute("u3", 0)).await;
    assert_eq!(f.member("u1", &gid, "u3").await["muteEndTime"], 0);

    let g = json!({"groupID": gid});
    f.fails("u3", "mute_group", g.clone(), 1002).await;
    f.ok("u2", "mute_group", g.clone()).await;
    assert_eq!(f.group(&gid).await["status"], 3);
    f.ok("u1", "cancel_mute_group", g.clone()).await;
    assert_eq!(f.group(&gid).await["status"], 0);

    // Dismissal: the owner only; afterwards the group refuses changes with 1204.
    let dismiss = json!({"groupID": gid, "deleteMember": true});
    f.fails("u2", "dismiss_group", dismiss.clone(), 1002).await;
    f.ok("u1", "dismiss_group", dismiss.clone()).await;
    let info = f.group(&gid).await;
    assert_eq!(info["status"], 2);
    assert_eq!(info["memberCount"], 0);
    f.fails("u1", "dismiss_group", dismiss, 1204).await;
    assert_eq!(
        f.set_info("u1", &gid, json!({"notification": "x"})).await["errCode"],
        1204
    );
    f.fails(
        "u5",
        "join_group",
        json!({"groupID": gid, "joinSource": 3, "inviterUserID": "u5"}),
        1204,
    )
    .await;
    // Former members' windows are closed.
    let (_, max) = f.window("u3", &gid).expect("row kept for history");
    assert_eq!(max, f.group_max_seq(&gid));
    assert!(max > 0, "the creation and dismissal tips are stored");
}

#[tokio::test]
async fn history_switch_sets_entrant_windows_and_leavers_are_frozen() {
    let f = Fx::new().await;
    let gid = f
        .create(&["u2"], &[], json!({"enableHistoryForNewMembers": false}))
        .await;
    assert_eq!(f.group(&gid).await["enableHistoryForNewMembers"], false);
    f.bump_seq(&gid, 7);
    let max = f.group_max_seq(&gid);
    f.ok(
        "u1",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u3"]}),
    )
    .await;
    assert_eq!(
        f.window("u3", &gid),
        Some((max + 1, 0)),
        "history off: the entrant starts after the current max"
    );

    // Switched on: entrants see everything.
    assert_eq!(
        f.set_info("u1", &gid, json!({"enableHistoryForNewMembers": true}))
            .await["errCode"],
        0
    );
    assert_eq!(f.group(&gid).await["enableHistoryForNewMembers"], true);
    f.ok(
        "u1",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u4"]}),
    )
    .await;
    assert_eq!(f.window("u4", &gid), Some((0, 0)));

    // Leavers are frozen at the max that includes their own removal tip.
    f.ok(
        "u1",
        "kick_group",
        json!({"groupID": gid, "kickedUserIDs": ["u3"]}),
    )
    .await;
    let after_kick = f.group_max_seq(&gid);
    assert_eq!(f.window("u3", &gid), Some((max + 1, after_kick)));
    f.bump_seq(&gid, 2);
    f.ok("u4", "quit_group", json!({"groupID": gid})).await;
    let after_quit = f.group_max_seq(&gid);
    assert!(after_quit >= after_kick + 2);
    assert_eq!(f.window("u4", &gid), Some((0, after_quit)));
    // The kicked member's window stays where it was.
    assert_eq!(f.window("u3", &gid), Some((max + 1, after_kick)));

    // Re-joining reopens the window (history on: from the start).
    f.ok(
        "u1",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u3"]}),
    )
    .await;
    assert_eq!(f.window("u3", &gid), Some((0, 0)));
    // Default is on.
    let other = f.create(&["u2"], &[], json!({})).await;
    assert_eq!(f.group(&other).await["enableHistoryForNewMembers"], true);
}

#[tokio::test]
async fn joined_groups_and_version_sync_answer_full() {
    let f = Fx::new().await;
    let g1 = f.create(&["u2"], &[], json!({})).await;
    let g2 = f.create(&["u2", "u3"], &[], json!({})).await;
    let joined = f
        .ok(
            "u2",
            "get_joined_group_list",
            json!({"fromUserID": "u2", "pagination": {"pageNumber": 1, "showNumber": 100}}),
        )
        .await;
    assert_eq!(joined["total"], 2);
    f.fails(
        "u3",
        "get_joined_group_list",
        json!({"fromUserID": "u2", "pagination": {"pageNumber": 1, "showNumber": 100}}),
        1002,
    )
    .await;
    let inc = f
        .ok(
            "u2",
            "get_incremental_join_groups",
            json!({"userID": "u2", "versionID": "", "version": 0}),
        )
        .await;
    assert_eq!(inc["full"], true);
    assert_eq!(inc["delete"], json!([]));
    assert_eq!(inc["insert"], json!([]));
    assert_eq!(inc["update"], json!([]));
    let vid = inc["versionID"].as_str().unwrap().to_owned();
    assert_eq!(vid.len(), 24);
    let again = f
        .ok(
            "u2",
            "get_incremental_join_groups",
            json!({"userID": "u2", "versionID": vid, "version": 1}),
        )
        .await;
    assert_eq!(again["versionID"], vid.as_str(), "stable versionID");
    let ids = f
        .ok(
            "u2",
            "get_full_join_group_ids",
            json!({"userID": "u2", "idHash": 0}),
        )
        .await;
    let mut got: Vec<&str> = ids["groupIDs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    got.sort();
    let mut want = vec![g1.as_str(), g2.as_str()];
    want.sort();
    assert_eq!(got, want);
    let batch = f
        .ok(
            "u3",
            "get_incremental_group_members_batch",
            json!({"userID": "u3", "reqList": [
                {"groupID": g1, "versionID": "", "version": 0},
                {"groupID": g2, "versionID": "", "version": 0}]}),
        )
        .await;
    assert!(
        batch["respList"].get(&g1).is_none(),
        "not a member of g1: {batch}"
    );
    let r2 = &batch["respList"][&g2];
    assert_eq!(r2["full"], true);
    assert_eq!(r2["group"]["groupID"], g2.as_str());
    assert_eq!(r2["insert"], json!([]));
    let members = f
        .ok(
            "u3",
            "get_full_group_member_user_ids",
            json!({"groupID": g2, "idHash": 0}),
        )
        .await;
    assert_eq!(members["userIDs"], json!(["u1", "u2", "u3"]));
    f.fails(
        "u3",
        "get_full_group_member_user_ids",
        json!({"groupID": g1, "idHash": 0}),
        1203,
    )
    .await;
}

#[tokio::test]
async fn members_receive_group_notifications() {
    let f = Fx::new().await;
    let mut q2 = f.listen("u2");
    let mut q5 = f.listen("u5");
    let gid = f
        .create(
            &["u2", "u3"],
            &[],
            json!({"groupInfo": {"notification": "first"}}),
        )
        .await;
    let pushed = drain(&mut q2);
    // 1501 as a visible chat tip (sg_) and the online original (n_).
    let created = find(&pushed, 1501);
    assert!(
        created
            .iter()
            .any(|p| p.0 == format!("sg_{gid}") && p.2 > 0),
        "{pushed:?}"
    );
    assert!(
        created.iter().any(|p| p.0 == format!("n_{gid}")),
        "{pushed:?}"
    );
    let tips = &created[0].3;
    assert_eq!(tips["group"]["groupID"], gid.as_str());
    assert_eq!(tips["group"]["memberCount"], 3);
    assert_eq!(tips["opUser"]["userID"], "u1");
    assert_eq!(tips["groupOwnerUser"]["roleLevel"], 100);
    assert_eq!(tips["memberList"].as_array().unwrap().len(), 3);
    assert!(!find(&pushed, 1519).is_empty(), "announcement on creation");

    // 1519 with editor and time.
    assert_eq!(
        f.set_info("u1", &gid, json!({"notification": "Meeting at 10"}))
            .await["errCode"],
        0
    );
    let pushed = drain(&mut q2);
    let ann = find(&pushed, 1519);
    assert!(!ann.is_empty(), "{pushed:?}");
    let g = &ann[0].3["group"];
    assert_eq!(g["notification"], "Meeting at 10");
    assert_eq!(g["notificationUserID"], "u1");
    assert!(g["notificationUpdateTime"].as_i64().unwrap() > 0);
    assert_eq!(ann[0].3["opUser"]["userID"], "u1");
    assert!(
        ann.iter().any(|p| p.0 == format!("sg_{gid}")),
        "stored as chat tip"
    );
    assert!(
        !find(&pushed, 1300).is_empty(),
        "conversation change: {pushed:?}"
    );

    // 1502 for the permission flags, online only.
    assert_eq!(
        f.set_info(
            "u1",
            &gid,
            json!({"lookMemberInfo": 1, "applyMemberFriend": 1})
        )
        .await["errCode"],
        0
    );
    let pushed = drain(&mut q2);
    let set = find(&pushed, 1502);
    assert_eq!(set.len(), 1, "{pushed:?}");
    assert_eq!(set[0].0, format!("n_{gid}"));
    assert_eq!(set[0].2, 0, "online only, seq 0");
    assert_eq!(set[0].3["group"]["lookMemberInfo"], 1);
    assert_eq!(set[0].3["group"]["applyMemberFriend"], 1);

    // 1509 with the inviter.
    f.ok(
        "u2",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u5"]}),
    )
    .await;
    let pushed = drain(&mut q5);
    let inv = find(&pushed, 1509);
    assert!(!inv.is_empty(), "the invitee is told too: {pushed:?}");
    assert_eq!(inv[0].3["inviterUser"]["userID"], "u2");
    assert_eq!(inv[0].3["invitedUserList"][0]["userID"], "u5");
    assert_eq!(inv[0].3["invitedUserList"][0]["joinSource"], 2);
    drain(&mut q2);

    // 1517 when set to admin, 1516 on member info.
    f.ok(
        "u1",
        "set_group_member_info",
        json!({"members": [{"groupID": gid, "userID": "u3", "roleLevel": 60}]}),
    )
    .await;
    f.ok(
        "u3",
        "set_group_member_info",
        json!({"members": [{"groupID": gid, "userID": "u3", "nickname": "Three"}]}),
    )
    .await;
    let pushed = drain(&mut q2);
    assert_eq!(find(&pushed, 1517)[0].3["changedUser"]["roleLevel"], 60);
    assert_eq!(find(&pushed, 1516)[0].3["changedUser"]["nickname"], "Three");

    // 1508 reaches the kicked member, who can still see the tip but nothing after.
    f.ok(
        "u1",
        "kick_group",
        json!({"groupID": gid, "kickedUserIDs": ["u5"]}),
    )
    .await;
    let pushed = drain(&mut q5);
    let kicked = find(&pushed, 1508);
    assert!(!kicked.is_empty(), "{pushed:?}");
    assert_eq!(kicked[0].3["kickedUserList"][0]["userID"], "u5");
    let tip_seq = kicked
        .iter()
        .find(|p| p.0 == format!("sg_{gid}"))
        .expect("kick tip in chat")
        .2;
    assert_eq!(f.window("u5", &gid).unwrap().1, tip_seq);
    drain(&mut q2);

    // 1504 on quit, 1512 on mute, 1511 on dismissal.
    f.ok("u3", "quit_group", json!({"groupID": gid})).await;
    f.ok(
        "u1",
        "mute_group_member",
        json!({"groupID": gid, "userID": "u2", "mutedSeconds": 30}),
    )
    .await;
    f.ok(
        "u1",
        "dismiss_group",
        json!({"groupID": gid, "deleteMember": false}),
    )
    .await;
    let pushed = drain(&mut q2);
    assert_eq!(find(&pushed, 1504)[0].3["quitUser"]["userID"], "u3");
    assert_eq!(find(&pushed, 1512)[0].3["mutedSeconds"], 30);
    assert_eq!(find(&pushed, 1511)[0].3["group"]["status"], 2);
    assert!(
        drain(&mut q5).is_empty(),
        "the kicked member hears nothing more"
    );
}

#[tokio::test]
async fn applications_notify_the_managers() {
    let f = Fx::new().await;
    let gid = f.create(&["u2", "u3"], &["u2"], json!({})).await;
    let mut q1 = f.listen("u1");
    let mut q2 = f.listen("u2");
    let mut q3 = f.listen("u3");
    let mut q4 = f.listen("u4");
    f.ok(
        "u4",
        "join_group",
        json!({"groupID": gid, "reqMessage": "please", "joinSource": 3, "inviterUserID": "u4"}),
    )
    .await;
    for q in [&mut q1, &mut q2] {
        let pushed = drain(q);
        let app = find(&pushed, 1503);
        assert_eq!(app.len(), 1, "{pushed:?}");
        assert_eq!(app[0].3["applicant"]["userID"], "u4");
        assert_eq!(app[0].3["reqMsg"], "please");
        assert_eq!(app[0].3["request"]["joinSource"], 3);
    }
    assert!(
        find(&drain(&mut q3), 1503).is_empty(),
        "ordinary members are not told"
    );
    drain(&mut q4);
    f.ok(
        "u2",
        "group_application_response",
        json!({"groupID": gid, "fromUserID": "u4", "handledMsg": "welcome", "handleResult": 1}),
    )
    .await;
    let pushed = drain(&mut q4);
    let acc = find(&pushed, 1505);
    assert!(!acc.is_empty(), "{pushed:?}");
    assert_eq!(acc[0].3["handleMsg"], "welcome");
    assert_eq!(acc[0].3["receiverAs"], 0);
    let enter = find(&pushed, 1510);
    assert_eq!(enter[0].3["entrantUser"]["userID"], "u4");
    assert_eq!(enter[0].3["entrantUser"]["joinSource"], 3);
    let pushed = drain(&mut q1);
    assert_eq!(find(&pushed, 1505)[0].3["receiverAs"], 1, "{pushed:?}");
    assert!(!find(&drain(&mut q3), 1510).is_empty());
}

/// u1 sends a text to the group and revokes it over REST: one stored 2101 in `n_<gid>`.
async fn send_and_revoke(f: &Fx, gid: &str, client_msg_id: &str) {
    let m = support::msg::group_text("u1", gid, client_msg_id, "x");
    chorus_server::msg::send(&f.s.state, "u1", 5, m)
        .await
        .expect("sent");
    let seq = f.group_max_seq(gid);
    let r =
        f.s.post(
            "/msg/revoke_msg",
            Some(f.token("u1")),
            json!({"userID": "u1", "conversationID": format!("sg_{gid}"), "seq": seq}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "revoke: {r}");
}

/// What `user` can read of `n_<gid>` through every pull path: 1001's max seq, the seqs of a
/// 1002 range pull, of a 1005 seq-list pull and 1007's last message.
async fn notification_view(f: &Fx, user: &str, gid: &str) -> (i64, Vec<i64>, Vec<i64>, i64) {
    use chorus_proto::pb::msg::{ConversationSeqs, GetLastMessageReq, GetSeqMessageReq};
    use chorus_proto::pb::sdkws::{PullMessageBySeqsReq, SeqRange};
    use chorus_server::msg;
    let state = &f.s.state;
    let conv = format!("n_{gid}");
    let max = msg::get_max_seq(state, user)
        .await
        .unwrap()
        .max_seqs
        .get(&conv)
        .copied()
        .unwrap_or(0);
    let ranged = msg::pull_by_seq_ranges(
        state,
        user,
        PullMessageBySeqsReq {
            user_id: user.into(),
            seq_ranges: vec![SeqRange {
                conversation_id: conv.clone(),
                begin: 1,
                end: 100,
                num: 100,
            }],
            order: 0,
        },
    )
    .await
    .unwrap();
    let ranged: Vec<i64> = ranged
        .notification_msgs
        .get(&conv)
        .map(|p| p.msgs.iter().map(|m| m.seq).collect())
        .unwrap_or_default();
    let listed = msg::get_seq_message(
        state,
        user,
        GetSeqMessageReq {
            user_id: user.into(),
            conversations: vec![ConversationSeqs {
                conversation_id: conv.clone(),
                seqs: (1..=10).collect(),
            }],
            order: 0,
        },
    )
    .await
    .unwrap();
    let listed: Vec<i64> = listed
        .notification_msgs
        .get(&conv)
        .map(|p| p.msgs.iter().map(|m| m.seq).collect())
        .unwrap_or_default();
    let last = msg::last_messages(
        state,
        user,
        GetLastMessageReq {
            user_id: user.into(),
            conversation_i_ds: vec![conv.clone()],
        },
    )
    .await
    .unwrap();
    let last = last.msgs.get(&conv).map_or(0, |m| m.seq);
    (max, ranged, listed, last)
}

#[tokio::test]
async fn leavers_notification_stream_is_frozen_until_they_rejoin() {
    let f = Fx::new().await;
    let gid = f.create(&["u2", "u3", "u4"], &[], json!({})).await;
    send_and_revoke(&f, &gid, "m1").await;
    let everything = (1, vec![1], vec![1], 1);
    assert_eq!(notification_view(&f, "u2", &gid).await, everything);

    // u2 quits and u3 is kicked; the group's notification stream goes on without them.
    f.ok("u2", "quit_group", json!({"groupID": gid})).await;
    f.ok(
        "u1",
        "kick_group",
        json!({"groupID": gid, "kickedUserIDs": ["u3"]}),
    )
    .await;
    send_and_revoke(&f, &gid, "m2").await;
    send_and_revoke(&f, &gid, "m3").await;
    let member = (3, vec![1, 2, 3], vec![1, 2, 3], 3);
    assert_eq!(notification_view(&f, "u4", &gid).await, member);
    let frozen = (1, vec![1], vec![1], 1);
    assert_eq!(notification_view(&f, "u2", &gid).await, frozen, "quit");
    assert_eq!(notification_view(&f, "u3", &gid).await, frozen, "kicked");
    // The REST twins of 1001 and 1002 answer the same.
    let r =
        f.s.post(
            "/msg/newest_seq",
            Some(f.token("u3")),
            json!({"userID": "u3"}),
        )
        .await;
    assert_eq!(r["data"]["maxSeqs"][format!("n_{gid}")], 1, "{r}");
    let r = f
        .s
        .post(
            "/msg/pull_msg_by_seq",
            Some(f.token("u3")),
            json!({"userID": "u3", "seqRanges": [{"conversationID": format!("n_{gid}"), "begin": 2, "end": 3, "num": 2}], "order": 0}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    assert_eq!(r["data"]["notificationMsgs"], json!({}), "{r}");

    // Re-joining reopens the window like the chat's: everything, and what follows.
    f.ok(
        "u1",
        "invite_user_to_group",
        json!({"groupID": gid, "invitedUserIDs": ["u2"]}),
    )
    .await;
    assert_eq!(notification_view(&f, "u2", &gid).await, member);
    send_and_revoke(&f, &gid, "m4").await;
    assert_eq!(
        notification_view(&f, "u2", &gid).await,
        (4, vec![1, 2, 3, 4], vec![1, 2, 3, 4], 4)
    );
    assert_eq!(notification_view(&f, "u3", &gid).await, frozen);
}

#[tokio::test]
async fn join_group_accepts_exactly_the_join_sources_it_names() {
    let f = Fx::new().await;
    let gid = f
        .create(&["u2"], &[], json!({"groupInfo": {"needVerification": 2}}))
        .await;
    for source in [0, 5, -1] {
        let r = f
            .call(
                "u3",
                "join_group",
                json!({"groupID": gid, "joinSource": source, "inviterUserID": "u3"}),
            )
            .await;
        assert_eq!(r["errCode"], 1001, "joinSource {source}: {r}");
        let msg = r["errMsg"].as_str().unwrap();
        assert!(
            msg.contains(&format!("joinSource {source} "))
                && msg.contains("1 (admin), 2 (invitation), 3 (search), 4 (QR code)"),
            "{msg}"
        );
    }
    // An invitation names its inviter.
    f.fails(
        "u3",
        "join_group",
        json!({"groupID": gid, "joinSource": 2, "inviterUserID": ""}),
        1001,
    )
    .await;
    assert_eq!(f.window("u3", &gid), None, "refused joins add nobody");
    // Each accepted source is recorded as sent.
    for (user, source) in [("u3", 1), ("u4", 2), ("u5", 3), ("u6", 4)] {
        f.ok(
            user,
            "join_group",
            json!({"groupID": gid, "joinSource": source, "inviterUserID": user}),
        )
        .await;
        assert_eq!(f.member("u1", &gid, user).await["joinSource"], source);
    }
}
