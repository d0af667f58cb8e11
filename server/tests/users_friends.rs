//! Users and friends against the real server over REST: profiles (wrapper semantics), friend
//! requests, remarks (feature 5), black lists, incremental friend sync, the applyMemberFriend and
//! lookMemberInfo rules, and the pushes profile and remark changes produce.

mod support;

use serde_json::{json, Value};
use support::relation::{add_member, befriend, code, connect, create_group, ok, set_member};
use support::TestServer;

async fn user_info(s: &TestServer, token: &str, id: &str) -> Value {
    let d = ok(s, "/user/get_users_info", token, json!({"userIDs": [id]})).await;
    let list = d["usersInfo"].as_array().expect("usersInfo list");
    assert_eq!(list.len(), 1, "{d}");
    list[0].clone()
}

async fn friend_row(s: &TestServer, token: &str, owner: &str, friend: &str) -> Value {
    let d = ok(
        s,
        "/friend/get_friend_list",
        token,
        json!({"userID": owner, "pagination": {"pageNumber": 1, "showNumber": 100}}),
    )
    .await;
    d["friendsInfo"]
        .as_array()
        .expect("friendsInfo")
        .iter()
        .find(|f| f["friendUser"]["userID"] == friend)
        .cloned()
        .unwrap_or_else(|| panic!("{friend} not in {owner}'s list: {d}"))
}

#[tokio::test]
async fn profile_update_ex_null_keeps_and_empty_clears() {
    let (s, [t1, t2]) = TestServer::with_tokens([("u1", "Alice"), ("u2", "Bob")]).await;
    ok(
        &s,
        "/user/update_user_info_ex",
        &t1,
        json!({"userInfo": {"userID": "u1", "faceURL": "http://f/1", "ex": "x1"}}),
    )
    .await;
    let u = user_info(&s, &t1, "u1").await;
    assert_eq!(u["nickname"], "Alice");
    assert_eq!(u["faceURL"], "http://f/1");
    assert_eq!(u["ex"], "x1");
    assert!(u["createTime"].as_i64().unwrap() > 0, "{u}");

    // null and absent leave a field, "" clears it.
    ok(
        &s,
        "/user/update_user_info_ex",
        &t1,
        json!({"userInfo": {"userID": "u1", "nickname": null, "faceURL": "", "globalRecvMsgOpt": null}}),
    )
    .await;
    let u = user_info(&s, &t1, "u1").await;
    assert_eq!(u["nickname"], "Alice");
    assert_eq!(u["faceURL"], "");
    assert_eq!(u["ex"], "x1");

    // The legacy form ignores empty values.
    ok(
        &s,
        "/user/update_user_info",
        &t1,
        json!({"userInfo": {"userID": "u1", "nickname": "Alicia", "ex": ""}}),
    )
    .await;
    let u = user_info(&s, &t2, "u1").await;
    assert_eq!(u["nickname"], "Alicia");
    assert_eq!(u["ex"], "x1");

    // Someone else's profile: 1002; the admin may.
    let body = json!({"userInfo": {"userID": "u1", "nickname": "Mallory"}});
    assert_eq!(
        code(&s, "/user/update_user_info_ex", &t2, body.clone()).await,
        1002
    );
    ok(&s, "/user/update_user_info_ex", s.admin_token(), body).await;
    assert_eq!(user_info(&s, &t2, "u1").await["nickname"], "Mallory");

    ok(
        &s,
        "/user/set_global_msg_recv_opt",
        &t1,
        json!({"userID": "u1", "globalRecvMsgOpt": 2}),
    )
    .await;
    assert_eq!(user_info(&s, &t1, "u1").await["globalRecvMsgOpt"], 2);
    assert_eq!(
        code(
            &s,
            "/user/set_global_msg_recv_opt",
            &t1,
            json!({"userID": "u1", "globalRecvMsgOpt": 7})
        )
        .await,
        1001
    );

    // Unknown users are simply absent from get_users_info.
    let d = ok(
        &s,
        "/user/get_users_info",
        &t1,
        json!({"userIDs": ["nobody", "u2"]}),
    )
    .await;
    assert_eq!(d["usersInfo"].as_array().unwrap().len(), 1);
    assert_eq!(d["usersInfo"][0]["userID"], "u2");
}

#[tokio::test]
async fn user_admin_and_status_routes() {
    let s = TestServer::with_users(&[("u1", "Alice"), ("u2", "Bob")]).await;
    let t1 = s.user_token("u1", 5).await;
    let d = ok(
        &s,
        "/user/get_all_users_uid",
        s.admin_token(),
        json!({"pagination": {"pageNumber": 1, "showNumber": 10}}),
    )
    .await;
    assert_eq!(d["total"], 2);
    assert_eq!(d["userIDs"], json!(["u1", "u2"]));
    assert_eq!(
        code(&s, "/user/get_all_users_uid", &t1, json!({})).await,
        1002
    );

    let d = ok(
        &s,
        "/user/account_check",
        s.admin_token(),
        json!({"checkUserIDs": ["u1", "zz"]}),
    )
    .await;
    assert_eq!(d["results"][0]["accountStatus"], 1);
    assert_eq!(d["results"][1]["accountStatus"], 0);

    let _c = connect(&s, "u2", 5);
    let d = ok(
        &s,
        "/user/get_users_status",
        &t1,
        json!({"userID": "u1", "userIDs": ["u1", "u2"]}),
    )
    .await;
    assert_eq!(d["statusList"][0]["status"], 0);
    assert_eq!(d["statusList"][1]["status"], 1);
    assert_eq!(d["statusList"][1]["platformIDs"], json!([5]));
    let d = ok(
        &s,
        "/user/get_users_online_status",
        &t1,
        json!({"userIDs": ["u2"]}),
    )
    .await;
    assert_eq!(d[0]["userID"], "u2");
    assert_eq!(d[0]["detailPlatformStatus"][0]["platformID"], 5);

    // What the official SDK asks at login.
    let d = ok(
        &s,
        "/user/process_user_command_get_all",
        &t1,
        json!({"userID": "u1"}),
    )
    .await;
    assert_eq!(d["CommandResp"], json!([]));
}

#[tokio::test]
async fn friend_request_accept_and_list() {
    let (s, [t1, t2, t3]) =
        TestServer::with_tokens([("u1", "Alice"), ("u2", "Bob"), ("u3", "Carol")]).await;

    assert_eq!(
        code(
            &s,
            "/friend/add_friend",
            &t1,
            json!({"fromUserID": "u1", "toUserID": "u1"})
        )
        .await,
        1301
    );
    assert_eq!(
        code(
            &s,
            "/friend/add_friend",
            &t1,
            json!({"fromUserID": "u2", "toUserID": "u3"})
        )
        .await,
        1002,
        "fromUserID must be the caller"
    );
    ok(
        &s,
        "/friend/add_friend",
        &t1,
        json!({"fromUserID": "u1", "toUserID": "u2", "reqMsg": "hi", "ex": null}),
    )
    .await;

    let page = json!({"pageNumber": 1, "showNumber": 20});
    let d = ok(
        &s,
        "/friend/get_friend_apply_list",
        &t2,
        json!({"userID": "u2", "pagination": page}),
    )
    .await;
    assert_eq!(d["total"], 1);
    let req = &d["FriendRequests"][0];
    assert_eq!(req["fromUserID"], "u1");
    assert_eq!(req["fromNickname"], "Alice");
    assert_eq!(req["toNickname"], "Bob");
    assert_eq!(req["reqMsg"], "hi");
    assert_eq!(req["handleResult"], 0);
    let d = ok(
        &s,
        "/friend/get_self_friend_apply_list",
        &t1,
        json!({"userID": "u1", "pagination": page}),
    )
    .await;
    assert_eq!(d["friendRequests"][0]["toUserID"], "u2");
    let d = ok(
        &s,
        "/friend/get_self_unhandled_apply_count",
        &t2,
        json!({"userID": "u2"}),
    )
    .await;
    assert_eq!(d["count"], 1);
    // Only the receiver answers.
    assert_eq!(
        code(
            &s,
            "/friend/add_friend_response",
            &t3,
            json!({"fromUserID": "u1", "toUserID": "u2", "handleResult": 1})
        )
        .await,
        1002
    );
    ok(
        &s,
        "/friend/add_friend_response",
        &t2,
        json!({"fromUserID": "u1", "toUserID": "u2", "handleResult": 1, "handleMsg": "yes"}),
    )
    .await;
    assert_eq!(
        code(
            &s,
            "/friend/add_friend_response",
            &t2,
            json!({"fromUserID": "u1", "toUserID": "u2", "handleResult": 1})
        )
        .await,
        1305
    );
    let d = ok(
        &s,
        "/friend/get_designated_friend_apply",
        &t1,
        json!({"fromUserID": "u1", "toUserID": "u2"}),
    )
    .await;
    assert_eq!(d["friendRequests"][0]["handleResult"], 1);
    assert_eq!(d["friendRequests"][0]["handleMsg"], "yes");

    // Both directions exist, friendUser is populated.
    let f = friend_row(&s, &t1, "u1", "u2").await;
    assert_eq!(f["ownerUserID"], "u1");
    assert_eq!(f["friendUser"]["nickname"], "Bob");
    assert_eq!(f["remark"], "");
    let f = friend_row(&s, &t2, "u2", "u1").await;
    assert_eq!(f["friendUser"]["nickname"], "Alice");
    let d = ok(
        &s,
        "/friend/is_friend",
        &t1,
        json!({"userID1": "u1", "userID2": "u2"}),
    )
    .await;
    assert_eq!(d, json!({"inUser1Friends": true, "inUser2Friends": true}));
    let d = ok(&s, "/friend/get_friend_id", &t1, json!({"userID": "u1"})).await;
    assert_eq!(d["friendIDs"], json!(["u2"]));
    assert_eq!(
        code(
            &s,
            "/friend/add_friend",
            &t1,
            json!({"fromUserID": "u1", "toUserID": "u2"})
        )
        .await,
        1304
    );
    let d = ok(
        &s,
        "/friend/get_designated_friends",
        &t1,
        json!({"ownerUserID": "u1", "friendUserIDs": ["u2", "u3"]}),
    )
    .await;
    assert_eq!(d["friendsInfo"].as_array().unwrap().len(), 1);
    let d = ok(
        &s,
        "/friend/get_specified_friends_info",
        &t1,
        json!({"ownerUserID": "u1", "userIDList": ["u2", "u3"]}),
    )
    .await;
    assert_eq!(d["infos"][0]["friendInfo"]["friendUser"]["userID"], "u2");
    assert_eq!(d["infos"][1]["friendInfo"], Value::Null);
    assert_eq!(d["infos"][1]["userInfo"]["nickname"], "Carol");

    // A refusal, then deletion (one direction).
    ok(
        &s,
        "/friend/add_friend",
        &t3,
        json!({"fromUserID": "u3", "toUserID": "u1"}),
    )
    .await;
    ok(
        &s,
        "/friend/add_friend_response",
        &t1,
        json!({"fromUserID": "u3", "toUserID": "u1", "handleResult": -1}),
    )
    .await;
    let d = ok(
        &s,
        "/friend/is_friend",
        &t1,
        json!({"userID1": "u1", "userID2": "u3"}),
    )
    .await;
    assert_eq!(d["inUser1Friends"], false);
    ok(
        &s,
        "/friend/delete_friend",
        &t1,
        json!({"ownerUserID": "u1", "friendUserID": "u2"}),
    )
    .await;
    let d = ok(
        &s,
        "/friend/is_friend",
        &t1,
        json!({"userID1": "u1", "userID2": "u2"}),
    )
    .await;
    assert_eq!(d, json!({"inUser1Friends": false, "inUser2Friends": true}));
    assert_eq!(
        code(
            &s,
            "/friend/delete_friend",
            &t1,
            json!({"ownerUserID": "u1", "friendUserID": "u2"})
        )
        .await,
        1303
    );
}

#[tokio::test]
async fn remark_set_and_deleted_by_update_friends_and_set_friend_remark() {
    let s = TestServer::with_users(&[("u1", "Alice"), ("u2", "Bob"), ("u3", "Carol")]).await;
    let t1 = s.user_token("u1", 5).await;
    let t2 = s.user_token("u2", 5).await;
    befriend(&s, "u1", &t1, "u2", &t2).await;

    ok(
        &s,
        "/friend/update_friends",
        &t1,
        json!({"ownerUserID": "u1", "friendUserIDs": ["u2"], "remark": "Bobby"}),
    )
    .await;
    assert_eq!(friend_row(&s, &t1, "u1", "u2").await["remark"], "Bobby");
    // The remark is the owner's: the other side is untouched.
    assert_eq!(friend_row(&s, &t2, "u2", "u1").await["remark"], "");

    // null / absent keep the remark while pinning.
    ok(&s, "/friend/update_friends", &t1, json!({"ownerUserID": "u1", "friendUserIDs": ["u2"], "remark": null, "isPinned": true, "ex": null})).await;
    let f = friend_row(&s, &t1, "u1", "u2").await;
    assert_eq!(f["remark"], "Bobby");
    assert_eq!(f["isPinned"], true);

    // "" deletes it.
    ok(
        &s,
        "/friend/update_friends",
        &t1,
        json!({"ownerUserID": "u1", "friendUserIDs": ["u2"], "remark": ""}),
    )
    .await;
    let f = friend_row(&s, &t1, "u1", "u2").await;
    assert_eq!(f["remark"], "");
    assert_eq!(f["isPinned"], true);

    ok(
        &s,
        "/friend/set_friend_remark",
        &t1,
        json!({"ownerUserID": "u1", "friendUserID": "u2", "remark": "B2"}),
    )
    .await;
    assert_eq!(friend_row(&s, &t1, "u1", "u2").await["remark"], "B2");
    ok(
        &s,
        "/friend/set_friend_remark",
        &t1,
        json!({"ownerUserID": "u1", "friendUserID": "u2", "remark": ""}),
    )
    .await;
    assert_eq!(friend_row(&s, &t1, "u1", "u2").await["remark"], "");

    // Not a friend: 1303; someone else's list: 1002.
    assert_eq!(
        code(
            &s,
            "/friend/set_friend_remark",
            &t1,
            json!({"ownerUserID": "u1", "friendUserID": "u3", "remark": "x"})
        )
        .await,
        1303
    );
    assert_eq!(
        code(
            &s,
            "/friend/update_friends",
            &t1,
            json!({"ownerUserID": "u1", "friendUserIDs": ["u3"], "remark": "x"})
        )
        .await,
        1303
    );
    assert_eq!(
        code(
            &s,
            "/friend/update_friends",
            &t2,
            json!({"ownerUserID": "u1", "friendUserIDs": ["u2"], "remark": "x"})
        )
        .await,
        1002
    );
}

#[tokio::test]
async fn incremental_friend_sync_follows_versions() {
    let (s, [t1, t2, t3]) =
        TestServer::with_tokens([("u1", "Alice"), ("u2", "Bob"), ("u3", "Carol")]).await;
    befriend(&s, "u1", &t1, "u2", &t2).await;

    let d = ok(
        &s,
        "/friend/get_incremental_friends",
        &t1,
        json!({"userID": "u1", "versionID": "", "version": 0}),
    )
    .await;
    assert_eq!(d["full"], true);
    let vid = d["versionID"].as_str().unwrap().to_owned();
    assert_eq!(vid.len(), 24);
    let v = d["version"].as_u64().unwrap();
    assert!(v >= 1, "{d}");
    assert_eq!(d["insert"], json!([]));

    // Up to date: nothing.
    let d = ok(
        &s,
        "/friend/get_incremental_friends",
        &t1,
        json!({"userID": "u1", "versionID": vid, "version": v}),
    )
    .await;
    assert_eq!(d["full"], false);
    assert_eq!(d["update"], json!([]));
    assert_eq!(d["delete"], json!([]));

    // A remark change is one version later, as an update carrying the new row.
    ok(
        &s,
        "/friend/update_friends",
        &t1,
        json!({"ownerUserID": "u1", "friendUserIDs": ["u2"], "remark": "Bobby"}),
    )
    .await;
    befriend(&s, "u3", &t3, "u1", &t1).await;
    let d = ok(
        &s,
        "/friend/get_incremental_friends",
        &t1,
        json!({"userID": "u1", "versionID": vid, "version": v}),
    )
    .await;
    assert_eq!(d["full"], false, "{d}");
    assert_eq!(d["versionID"], vid.as_str());
    assert_eq!(d["version"].as_u64().unwrap(), v + 2);
    assert_eq!(d["update"][0]["friendUser"]["userID"], "u2");
    assert_eq!(d["update"][0]["remark"], "Bobby");
    assert_eq!(d["insert"][0]["friendUser"]["userID"], "u3");

    ok(
        &s,
        "/friend/delete_friend",
        &t1,
        json!({"ownerUserID": "u1", "friendUserID": "u3"}),
    )
    .await;
    let d = ok(
        &s,
        "/friend/get_incremental_friends",
        &t1,
        json!({"userID": "u1", "versionID": vid, "version": v + 2}),
    )
    .await;
    assert_eq!(d["delete"], json!(["u3"]));

    // Someone else's versionID: full.
    let d = ok(
        &s,
        "/friend/get_incremental_friends",
        &t1,
        json!({"userID": "u1", "versionID": "0123456789abcdef01234567", "version": 1}),
    )
    .await;
    assert_eq!(d["full"], true);

    let d = ok(
        &s,
        "/friend/get_full_friend_user_ids",
        &t1,
        json!({"userID": "u1", "idHash": 0}),
    )
    .await;
    assert_eq!(d["userIDs"], json!(["u2"]));
    assert_eq!(d["equal"], false);
    assert_eq!(d["versionID"], vid.as_str());
}

#[tokio::test]
async fn black_list_blocks_requests() {
    let (s, [t1, t2]) = TestServer::with_tokens([("u1", "Alice"), ("u2", "Bob")]).await;
    ok(
        &s,
        "/friend/add_black",
        &t2,
        json!({"ownerUserID": "u2", "blackUserID": "u1", "ex": "spam"}),
    )
    .await;
    assert_eq!(
        code(
            &s,
            "/friend/add_friend",
            &t1,
            json!({"fromUserID": "u1", "toUserID": "u2"})
        )
        .await,
        1302
    );
    let d = ok(
        &s,
        "/friend/get_black_list",
        &t2,
        json!({"userID": "u2", "pagination": {"pageNumber": 1, "showNumber": 10}}),
    )
    .await;
    assert_eq!(d["total"], 1);
    assert_eq!(d["blacks"][0]["blackUserInfo"]["nickname"], "Alice");
    assert_eq!(d["blacks"][0]["ex"], "spam");
    let d = ok(
        &s,
        "/friend/get_specified_blacks",
        &t2,
        json!({"userID": "u2", "userIDList": ["u1"]}),
    )
    .await;
    assert_eq!(d["blacks"][0]["blackUserInfo"]["userID"], "u1");
    let d = ok(
        &s,
        "/friend/get_incremental_blacks",
        &t2,
        json!({"userID": "u2", "versionID": "", "version": 0}),
    )
    .await;
    assert_eq!(d["full"], true);

    ok(
        &s,
        "/friend/remove_black",
        &t2,
        json!({"ownerUserID": "u2", "blackUserID": "u1"}),
    )
    .await;
    assert_eq!(
        code(
            &s,
            "/friend/remove_black",
            &t2,
            json!({"ownerUserID": "u2", "blackUserID": "u1"})
        )
        .await,
        1004
    );
    ok(
        &s,
        "/friend/add_friend",
        &t1,
        json!({"fromUserID": "u1", "toUserID": "u2"}),
    )
    .await;
}

#[tokio::test]
async fn apply_member_friend_is_enforced_for_ordinary_members_only() {
    let s = TestServer::with_users(&[
        ("own", "Owner"),
        ("adm", "Admin"),
        ("m1", "M1"),
        ("m2", "M2"),
        ("m3", "M3"),
        ("out", "Outsider"),
    ])
    .await;
    let t_own = s.user_token("own", 5).await;
    let t_adm = s.user_token("adm", 5).await;
    let t_m1 = s.user_token("m1", 5).await;
    let t_out = s.user_token("out", 5).await;

    create_group(&s, "g1", "own", 0, 1);
    add_member(&s, "g1", "adm", 60);
    add_member(&s, "g1", "m1", 20);
    add_member(&s, "g1", "m2", 20);
    add_member(&s, "g1", "m3", 20);
    // m1 and m3 also share a group that allows it.
    create_group(&s, "g2", "m3", 0, 0);
    add_member(&s, "g2", "m1", 20);

    let add = |from: &str, to: &str| json!({"fromUserID": from, "toUserID": to});
    assert_eq!(
        code(&s, "/friend/add_friend", &t_m1, add("m1", "m2")).await,
        1002
    );
    assert_eq!(
        code(&s, "/friend/add_friend", &t_m1, add("m1", "own")).await,
        1002
    );
    ok(&s, "/friend/add_friend", &t_own, add("own", "m2")).await;
    ok(&s, "/friend/add_friend", &t_adm, add("adm", "m2")).await;
    ok(&s, "/friend/add_friend", &t_m1, add("m1", "m3")).await;
    ok(&s, "/friend/add_friend", &t_out, add("out", "m1")).await;
    // The app administrator acting for a member is exempt.
    ok(&s, "/friend/add_friend", s.admin_token(), add("m1", "m2")).await;

    // Once the group allows it, the ordinary member may ask.
    s.state
        .store
        .call_sync(|c| {
            c.execute(
                "UPDATE groups SET apply_member_friend = 0 WHERE group_id = 'g1'",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let t_m2 = s.user_token("m2", 5).await;
    ok(&s, "/friend/add_friend", &t_m2, add("m2", "m1")).await;
}

#[tokio::test]
async fn look_member_info_hides_details_from_ordinary_members() {
    let (s, [t_own, t_m1, t_tgt, t_out]) = TestServer::with_tokens([
        ("own", "Owner"),
        ("m1", "M1"),
        ("tgt", "Target"),
        ("out", "Outsider"),
    ])
    .await;
    ok(
        &s,
        "/user/update_user_info_ex",
        &t_tgt,
        json!({"userInfo": {"userID": "tgt", "faceURL": "http://f/t", "ex": "secret", "globalRecvMsgOpt": 1}}),
    )
    .await;
    create_group(&s, "g1", "own", 1, 0);
    add_member(&s, "g1", "m1", 20);
    add_member(&s, "g1", "tgt", 20);

    let hidden = user_info(&s, &t_m1, "tgt").await;
    assert_eq!(hidden["userID"], "tgt");
    assert_eq!(hidden["nickname"], "Target");
    assert_eq!(hidden["faceURL"], "http://f/t");
    assert_eq!(hidden["ex"], "");
    assert_eq!(hidden["createTime"], 0);
    assert_eq!(hidden["globalRecvMsgOpt"], 0);
    // Own profile, the owner, outsiders and the app admin see everything.
    assert_eq!(user_info(&s, &t_tgt, "tgt").await["ex"], "secret");
    assert_eq!(user_info(&s, &t_own, "tgt").await["ex"], "secret");
    assert_eq!(user_info(&s, &t_out, "tgt").await["ex"], "secret");
    assert_eq!(user_info(&s, s.admin_token(), "tgt").await["ex"], "secret");
    // The same rule applies to get_specified_friends_info.
    let d = ok(
        &s,
        "/friend/get_specified_friends_info",
        &t_m1,
        json!({"ownerUserID": "m1", "userIDList": ["tgt"]}),
    )
    .await;
    assert_eq!(d["infos"][0]["userInfo"]["ex"], "");

    // A second shared group that allows it lifts the restriction...
    create_group(&s, "g2", "tgt", 0, 0);
    add_member(&s, "g2", "m1", 20);
    assert_eq!(user_info(&s, &t_m1, "tgt").await["ex"], "secret");
    s.state
        .store
        .call_sync(|c| {
            c.execute("DELETE FROM group_members WHERE group_id = 'g2'", [])?;
            Ok(())
        })
        .unwrap();
    assert_eq!(user_info(&s, &t_m1, "tgt").await["ex"], "");
    // ...and so does friendship.
    befriend(&s, "m1", &t_m1, "tgt", &t_tgt).await;
    assert_eq!(user_info(&s, &t_m1, "tgt").await["ex"], "secret");
}

#[tokio::test]
async fn update_friends_pushes_1210_to_every_device_of_the_owner() {
    let (s, [t1, t2]) = TestServer::with_tokens([("u1", "Alice"), ("u2", "Bob")]).await;
    befriend(&s, "u1", &t1, "u2", &t2).await;
    let mut web = connect(&s, "u1", 5);
    let mut phone = connect(&s, "u1", 2);
    let before = ok(
        &s,
        "/friend/get_incremental_friends",
        &t1,
        json!({"userID": "u1", "version": 0}),
    )
    .await;

    ok(
        &s,
        "/friend/update_friends",
        &t1,
        json!({"ownerUserID": "u1", "friendUserIDs": ["u2"], "remark": ""}),
    )
    .await;
    for conn in [&mut web, &mut phone] {
        let (m, tips) = conn.expect_tip(1210).await;
        assert_eq!(m.send_id, "u1");
        assert_eq!(m.recv_id, "u1");
        assert_eq!(m.session_type, 1);
        assert_eq!(
            tips["fromToUserID"],
            json!({"fromUserID": "u1", "toUserID": "u1"})
        );
        assert_eq!(tips["friendIDs"], json!(["u2"]));
        assert_eq!(tips["friendVersionID"], before["versionID"]);
        assert_eq!(
            tips["friendVersion"].as_u64().unwrap(),
            before["version"].as_u64().unwrap() + 1,
            "the tip is exactly one version ahead of the client: {tips}"
        );
    }
}

#[tokio::test]
async fn rename_pushes_1516_with_the_new_nickname_to_group_members() {
    let s = TestServer::with_users(&[("u1", "Alice"), ("u2", "Bob"), ("u3", "Carol")]).await;
    let t1 = s.user_token("u1", 5).await;
    let t3 = s.user_token("u3", 5).await;
    create_group(&s, "g1", "u2", 0, 0);
    add_member(&s, "g1", "u1", 20);
    // In g2 u1 has both a group nickname and face: that display does not follow the profile.
    create_group(&s, "g2", "u3", 0, 0);
    set_member(&s, "g2", "u1", 20, "Al in g2", "http://g2/face");
    befriend(&s, "u3", &t3, "u1", &t1).await;
    let mut bob = connect(&s, "u2", 5);
    let mut alice = connect(&s, "u1", 5);
    let mut carol = connect(&s, "u3", 5);

    ok(
        &s,
        "/user/update_user_info_ex",
        &t1,
        json!({"userInfo": {"userID": "u1", "nickname": "Alicia"}}),
    )
    .await;

    let (m, tips) = bob.expect_tip(1516).await;
    assert_eq!(m.group_id, "g1");
    assert_eq!(m.session_type, 3);
    assert_eq!(tips["changedUser"]["userID"], "u1");
    assert_eq!(tips["changedUser"]["groupID"], "g1");
    assert_eq!(tips["changedUser"]["nickname"], "Alicia");
    assert_eq!(tips["group"]["groupID"], "g1");
    assert!(
        tips["groupMemberVersionID"].as_str().unwrap().len() == 24,
        "{tips}"
    );
    let (_, tips) = alice.expect_tip(1303).await;
    assert_eq!(tips["userID"], "u1");
    let (_, tips) = carol.expect_tip(1209).await;
    assert_eq!(tips["userID"], "u1");
    // Carol is in g2 only, where u1 keeps a custom display: no 1516 reaches her.
    let none = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        carol.expect_tip(1516),
    )
    .await;
    assert!(
        none.is_err(),
        "no 1516 for a group with a custom member display"
    );
}

#[tokio::test]
async fn friend_flow_pushes_its_tips() {
    let (s, [t1, t2]) = TestServer::with_tokens([("u1", "Alice"), ("u2", "Bob")]).await;
    let mut alice = connect(&s, "u1", 5);
    let mut bob = connect(&s, "u2", 5);

    ok(
        &s,
        "/friend/add_friend",
        &t1,
        json!({"fromUserID": "u1", "toUserID": "u2", "reqMsg": "hello"}),
    )
    .await;
    let (m, tips) = bob.expect_tip(1203).await;
    assert_eq!(m.send_id, "u1");
    assert_eq!(tips["fromToUserID"]["toUserID"], "u2");
    assert_eq!(tips["request"]["reqMsg"], "hello");
    assert_eq!(tips["request"]["fromNickname"], "Alice");

    let before = ok(
        &s,
        "/friend/get_incremental_friends",
        &t1,
        json!({"userID": "u1", "version": 0}),
    )
    .await;
    ok(
        &s,
        "/friend/add_friend_response",
        &t2,
        json!({"fromUserID": "u1", "toUserID": "u2", "handleResult": 1, "handleMsg": "welcome"}),
    )
    .await;
    // 1201 is also a visible chat tip: it has a seq in the single chat.
    let (m, tips) = alice.expect_tip(1201).await;
    assert!(m.seq > 0, "1201 is stored in the chat: {m:?}");
    assert_eq!(tips["handleMsg"], "welcome");
    assert_eq!(tips["friendVersionID"], before["versionID"]);
    assert_eq!(
        tips["friendVersion"].as_u64().unwrap(),
        before["version"].as_u64().unwrap() + 1
    );
    let (_, tips) = alice.expect_tip(1204).await;
    assert_eq!(tips["friend"]["ownerUserID"], "u1");
    assert_eq!(tips["friend"]["friendUser"]["nickname"], "Bob");

    // 1206 reaches both the owner and the friend.
    ok(
        &s,
        "/friend/set_friend_remark",
        &t1,
        json!({"ownerUserID": "u1", "friendUserID": "u2", "remark": "B"}),
    )
    .await;
    for conn in [&mut alice, &mut bob] {
        let (_, tips) = conn.expect_tip(1206).await;
        assert_eq!(
            tips["fromToUserID"],
            json!({"fromUserID": "u1", "toUserID": "u2"})
        );
    }

    ok(
        &s,
        "/friend/add_black",
        &t1,
        json!({"ownerUserID": "u1", "blackUserID": "u2"}),
    )
    .await;
    let (_, tips) = alice.expect_tip(1207).await;
    assert_eq!(tips["fromToUserID"]["toUserID"], "u2");
}
