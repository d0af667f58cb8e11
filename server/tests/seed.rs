//! `--seed-demo`: the seeded users, friendships, work group and history, idempotence across
//! restarts, and the `/demo/*` routes that exist only in demo mode.

mod support;

use chorus_proto::content::{notification_detail, TextElem};
use chorus_proto::pb::sdkws::{MsgData, PullMessageBySeqsReq, SeqRange};
use chorus_proto::pb::Message as _;
use chorus_server::seed::{self, Seeded, ANNOUNCEMENT, GROUP_ID, GROUP_NAME, HISTORY_MESSAGES};
use chorus_server::store::Store;
use chorus_server::{msg, now_ms, AppState};
use serde_json::{json, Value};
use support::seed::demo_config;
use support::TestServer;

const DAY: i64 = 86_400_000;

/// `(seq, MsgData)` of every stored message of a conversation, by seq.
async fn stored(state: &AppState, conversation_id: &str) -> Vec<(i64, MsgData)> {
    let conv = conversation_id.to_owned();
    state
        .store
        .call(move |c| {
            let mut st =
                c.prepare("SELECT seq, msg FROM messages WHERE conversation_id = ?1 ORDER BY seq")?;
            let rows = st.query_map([conv], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
        .unwrap()
        .into_iter()
        .map(|(seq, blob)| (seq, MsgData::decode(blob.as_slice()).unwrap()))
        .collect()
}

/// Every integer of a JSON value that looks like a millisecond timestamp.
fn timestamps(v: &Value, out: &mut Vec<i64>) {
    match v {
        Value::Number(n) => {
            if let Some(n) = n.as_i64().filter(|n| *n > 1_000_000_000_000) {
                out.push(n);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| timestamps(x, out)),
        Value::Object(o) => o.values().for_each(|x| timestamps(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn seeding_creates_users_friends_group_and_history() {
    let (s, seeded) = TestServer::start_demo(Store::open_in_memory().unwrap()).await;
    assert_eq!(seeded, Seeded::Created);
    let admin = s.admin_token().to_owned();
    let now = now_ms();

    // Users with their nicknames.
    let ids: Vec<&str> = seed::USERS.iter().map(|u| u.user_id).collect();
    let r = s
        .post(
            "/user/get_users_info",
            Some(&admin),
            json!({"userIDs": ids}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let infos = r["data"]["usersInfo"].as_array().unwrap();
    assert_eq!(infos.len(), seed::USERS.len());
    for u in seed::USERS {
        let info = infos.iter().find(|i| i["userID"] == u.user_id).unwrap();
        assert_eq!(info["nickname"], u.nickname);
    }

    // Friendships with remarks.
    let r = s
        .post(
            "/friend/get_friend_list",
            Some(&admin),
            json!({"userID": "alice", "pagination": {"pageNumber": 1, "showNumber": 100}}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let friends = r["data"]["friendsInfo"].as_array().unwrap();
    let bob = friends
        .iter()
        .find(|f| f["friendUser"]["userID"] == "bob")
        .unwrap_or_else(|| panic!("alice has bob as a friend: {r}"));
    assert_eq!(bob["remark"], "Bob (design lead)");
    assert!(friends.iter().any(|f| f["friendUser"]["userID"] == "carol"));
    assert!(!friends.iter().any(|f| f["friendUser"]["userID"] == "erin"));

    // The group, its announcement with editor and (past) time.
    let r = s
        .post(
            "/group/get_groups_info",
            Some(&admin),
            json!({"groupIDs": [GROUP_ID]}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let g = &r["data"]["groupInfos"][0];
    assert_eq!(g["groupName"], GROUP_NAME);
    assert_eq!(g["groupType"], 2);
    assert_eq!(g["ownerUserID"], "alice");
    assert_eq!(g["notification"], ANNOUNCEMENT);
    assert_eq!(g["notificationUserID"], "bob");
    let created = g["createTime"].as_i64().unwrap();
    let announced = g["notificationUpdateTime"].as_i64().unwrap();
    assert!(created < now - 4 * DAY && created > now - 6 * DAY, "{g}");
    assert!(announced > created && announced < created + DAY, "{g}");

    // Members: roles, join sources, inviters, join times in story order; dave is not in.
    let r = s
        .post(
            "/group/get_group_member_list",
            Some(&admin),
            json!({"groupID": GROUP_ID, "pagination": {"pageNumber": 1, "showNumber": 100}}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let members = r["data"]["members"].as_array().unwrap();
    let member = |id: &str| {
        members
            .iter()
            .find(|m| m["userID"] == id)
            .unwrap_or_else(|| panic!("{id} in {r}"))
    };
    assert_eq!(members.len(), 5, "{r}");
    assert!(!members.iter().any(|m| m["userID"] == "dave"));
    assert_eq!(member("alice")["roleLevel"], 100);
    assert_eq!(member("bob")["roleLevel"], 60);
    assert_eq!(member("bob")["joinSource"], 2);
    assert_eq!(member("bob")["inviterUserID"], "alice");
    assert_eq!(member("carol")["roleLevel"], 20);
    assert_eq!(member("carol")["joinSource"], 2);
    assert_eq!(member("carol")["inviterUserID"], "alice");
    assert_eq!(member("erin")["joinSource"], 3);
    assert_eq!(member("erin")["inviterUserID"], "");
    assert_eq!(member("frank")["joinSource"], 4);
    let joined = |id: &str| member(id)["joinTime"].as_i64().unwrap();
    assert_eq!(joined("alice"), created);
    assert!(joined("carol") > created && joined("carol") < joined("erin"));
    assert!(joined("erin") < joined("frank") && joined("frank") < now - DAY);

    // The history: contiguous seqs from 1, sendTime in story order and in the past, 300
    // distinct user texts from several senders, and the membership tips.
    let history = stored(&s.state, &format!("sg_{GROUP_ID}")).await;
    let seqs: Vec<i64> = history.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=history.len() as i64).collect::<Vec<_>>());
    for (seq, m) in &history {
        assert_eq!(m.seq, *seq);
        assert!(
            m.send_time < now - 12 * 3_600_000,
            "seq {seq} is not in the past"
        );
    }
    assert!(
        history
            .windows(2)
            .all(|w| w[0].1.send_time <= w[1].1.send_time),
        "sendTime follows seq"
    );
    let texts: Vec<&MsgData> = history
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.content_type == 101)
        .collect();
    assert_eq!(texts.len(), HISTORY_MESSAGES);
    assert!(history.len() >= 300);
    let distinct: std::collections::HashSet<String> = texts
        .iter()
        .map(|m| TextElem::from_content(&m.content).unwrap().content)
        .collect();
    assert_eq!(distinct.len(), HISTORY_MESSAGES);
    let senders: std::collections::HashSet<&str> =
        texts.iter().map(|m| m.send_id.as_str()).collect();
    assert_eq!(senders.len(), 5, "{senders:?}");
    assert!(history.first().unwrap().1.send_time >= created);
    let tips: Vec<i32> = history
        .iter()
        .map(|(_, m)| m.content_type)
        .filter(|t| *t != 101)
        .collect();
    assert_eq!(tips, vec![1501, 1519, 1509, 1510, 1510], "{tips:?}");
    // Tip details were moved into the story too: no timestamp of the seeding run remains.
    for (seq, m) in history.iter().filter(|(_, m)| m.content_type != 101) {
        let detail: Value =
            serde_json::from_str(&notification_detail(&m.content).unwrap()).unwrap();
        let mut times = Vec::new();
        timestamps(&detail, &mut times);
        assert!(!times.is_empty(), "tip {seq} carries times");
        assert!(times.iter().all(|t| *t < now - DAY), "tip {seq} {detail}");
    }
    let announcement = history
        .iter()
        .find(|(_, m)| m.content_type == 1519)
        .unwrap();
    let detail = notification_detail(&announcement.1.content).unwrap();
    assert!(detail.contains(&announced.to_string()), "{detail}");

    // The single chat between alice and bob.
    let single = stored(&s.state, "si_alice_bob").await;
    let chat: Vec<&MsgData> = single
        .iter()
        .map(|(_, m)| m)
        .filter(|m| m.content_type == 101)
        .collect();
    assert_eq!(chat.len(), 4);
    assert!(chat.iter().all(|m| m.send_time < now));

    // Read diffusion: once invited, dave reads the whole history from seq 1.
    let bob_token = s.user_token("bob", 5).await;
    let r = s
        .post(
            "/group/invite_user_to_group",
            Some(&bob_token),
            json!({"groupID": GROUP_ID, "invitedUserIDs": ["dave"], "reason": ""}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let conv = format!("sg_{GROUP_ID}");
    let pulled = msg::pull_by_seq_ranges(
        &s.state,
        "dave",
        PullMessageBySeqsReq {
            user_id: "dave".into(),
            seq_ranges: vec![SeqRange {
                conversation_id: conv.clone(),
                begin: 1,
                end: 20,
                num: 20,
            }],
            order: 0,
        },
    )
    .await
    .unwrap();
    let first = &pulled.msgs[&conv].msgs;
    assert_eq!(first.len(), 20);
    assert_eq!(first[0].seq, 1);
    assert_eq!(first[0].content_type, 1501);
    let welcome = first.iter().find(|m| m.content_type == 101).unwrap();
    assert!(TextElem::from_content(&welcome.content)
        .unwrap()
        .content
        .starts_with("Welcome"));
}

#[tokio::test]
async fn seeding_an_already_seeded_data_dir_does_nothing() {
    let dir = std::env::temp_dir().join(format!("chorus-seed-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let counts = |state: AppState| async move {
        state
            .store
            .call(|c| {
                let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
                Ok((
                    q("SELECT count(*) FROM users")?,
                    q("SELECT count(*) FROM group_members")?,
                    q("SELECT count(*) FROM friends")?,
                    q("SELECT count(*) FROM messages")?,
                    q("SELECT coalesce(sum(max_seq), 0) FROM seqs")?,
                    q("SELECT count(*) FROM tokens WHERE state = 0")?,
                ))
            })
            .await
            .unwrap()
    };

    let started = std::time::Instant::now();
    let state = AppState::new(demo_config(), Store::open_dir(&dir).unwrap());
    assert_eq!(seed::seed_demo(&state).await.unwrap(), Seeded::Created);
    eprintln!("seeded on disk in {:?}", started.elapsed());
    let first = counts(state.clone()).await;
    assert_eq!(first.0, seed::USERS.len() as i64);
    assert!(first.3 > HISTORY_MESSAGES as i64);
    // The tokens used for seeding are no longer valid.
    assert_eq!(first.5, 0);
    drop(state);

    // A restart on the same directory.
    let state = AppState::new(demo_config(), Store::open_dir(&dir).unwrap());
    assert_eq!(
        seed::seed_demo(&state).await.unwrap(),
        Seeded::AlreadySeeded
    );
    assert_eq!(counts(state.clone()).await, first);

    // An interrupted seeding (the last step missing) is reported, not silently kept.
    state
        .store
        .call(|c| {
            c.execute(
                "DELETE FROM messages WHERE conversation_id = 'si_alice_bob' AND content_type = 101",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let err = seed::seed_demo(&state).await.unwrap_err();
    assert!(format!("{err:#}").contains("incomplete"), "{err:#}");
    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn demo_routes_are_absent_without_the_flag() {
    let s = TestServer::start().await;
    for path in ["/demo/token", "/demo/users"] {
        let (status, body) = s
            .post_raw(path, None, r#"{"userID":"alice","platformID":5}"#)
            .await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("token"), "{body}");
    }
}

#[tokio::test]
async fn demo_routes_hand_out_tokens_for_seeded_users_only() {
    let (s, _) = TestServer::start_demo(Store::open_in_memory().unwrap()).await;

    let r = s.post("/demo/users", None, json!({})).await;
    assert_eq!(r["errCode"], 0, "{r}");
    let users = r["data"]["users"].as_array().unwrap();
    let listed: Vec<(&str, &str)> = users
        .iter()
        .map(|u| {
            (
                u["userID"].as_str().unwrap(),
                u["nickname"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str)> = seed::USERS
        .iter()
        .map(|u| (u.user_id, u.nickname))
        .collect();
    assert_eq!(listed, expected);
    assert!(users
        .iter()
        .all(|u| !u["about"].as_str().unwrap().is_empty()));

    let r = s
        .post(
            "/demo/token",
            None,
            json!({"userID": "erin", "platformID": 5}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    assert!(r["data"]["expireTimeSeconds"].as_i64().unwrap() > 0);
    let token = r["data"]["token"].as_str().unwrap().to_owned();
    let r = s
        .post("/auth/parse_token", None, json!({"token": token}))
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    assert_eq!(r["data"]["userID"], "erin");
    assert_eq!(r["data"]["platformID"], 5);
    // The token works on ordinary routes, as erin.
    let r = s
        .post(
            "/group/get_joined_group_list",
            Some(&token),
            json!({"fromUserID": "erin", "pagination": {"pageNumber": 1, "showNumber": 10}}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    assert_eq!(r["data"]["groups"][0]["groupID"], GROUP_ID, "{r}");

    // Nobody else: not the administrator, not a registered non-demo user, not a stranger.
    s.register(&[("zed", "Zed")]).await;
    for user in ["imAdmin", "zed", "mallory", ""] {
        let r = s
            .post(
                "/demo/token",
                None,
                json!({"userID": user, "platformID": 5}),
            )
            .await;
        assert_eq!(r["errCode"], 1002, "{user}: {r}");
        assert!(r.get("data").is_none(), "{r}");
    }
    // Only user platforms.
    for platform in [10, 0, 99] {
        let r = s
            .post(
                "/demo/token",
                None,
                json!({"userID": "alice", "platformID": platform}),
            )
            .await;
        assert_eq!(r["errCode"], 1001, "{platform}: {r}");
    }
    // A renamed user is listed under the new name.
    let r = s
        .post(
            "/user/update_user_info_ex",
            Some(&token),
            json!({"userInfo": {"userID": "erin", "nickname": "Erin E."}}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let r = s.post("/demo/users", None, json!({})).await;
    assert_eq!(r["data"]["users"][4]["nickname"], "Erin E.", "{r}");
}
