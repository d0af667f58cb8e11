//! The message service against a real server: send/seq/push, pulls and windows, revocation
//! rules, read marks, deletion, notifications, and the `/msg/*` and `/conversation/*` routes.
//!
//! Groups and memberships are written straight into SQLite by `support::msg` (as the group
//! service does), live connections are fake hub registrations whose queued frames are decoded.

mod support;

use chorus_proto::content::decode_revoked_content;
use chorus_proto::pb::msg::{
    ConversationSeqs, GetConversationsHasReadAndMaxSeqReq, GetLastMessageReq, GetSeqMessageReq,
    Seqs,
};
use chorus_proto::pb::sdkws::{MsgData, PullMessageBySeqsReq, PullMessageBySeqsResp, SeqRange};
use chorus_server::msg::{self, Notification};
use serde_json::{json, Value};
use support::msg::{
    create_group, exec, group_text, join, leave, only_msg, query_i64, single_text, FakeConn,
};
use support::TestServer;

const OWNER: i32 = 100;
const ADMIN: i32 = 60;
const MEMBER: i32 = 20;

fn range(conv: &str, begin: i64, end: i64, num: i64) -> SeqRange {
    SeqRange {
        conversation_id: conv.into(),
        begin,
        end,
        num,
    }
}

async fn pull(
    s: &TestServer,
    user: &str,
    ranges: Vec<SeqRange>,
    order: i32,
) -> PullMessageBySeqsResp {
    msg::pull_by_seq_ranges(
        &s.state,
        user,
        PullMessageBySeqsReq {
            user_id: user.into(),
            seq_ranges: ranges,
            order,
        },
    )
    .await
    .unwrap()
}

fn seqs_of(msgs: &[MsgData]) -> Vec<i64> {
    msgs.iter().map(|m| m.seq).collect()
}

async fn read_state(s: &TestServer, user: &str, conv: &str) -> Option<Seqs> {
    let resp = msg::has_read_and_max_seq(
        &s.state,
        user,
        GetConversationsHasReadAndMaxSeqReq {
            user_id: user.into(),
            conversation_i_ds: vec![conv.into()],
            return_pinned: false,
        },
    )
    .await
    .unwrap();
    resp.seqs.get(conv).cloned()
}

async fn send_group(
    s: &TestServer,
    from: &str,
    gid: &str,
    cid: &str,
) -> chorus_proto::pb::msg::SendMsgResp {
    msg::send(&s.state, from, 5, group_text(from, gid, cid, cid))
        .await
        .unwrap_or_else(|e| panic!("send {cid}: {e}"))
}

fn detail_json(m: &MsgData) -> Value {
    let detail =
        chorus_proto::content::notification_detail(&m.content).expect("notification content");
    serde_json::from_str(&detail).expect("detail is JSON")
}

async fn token(s: &TestServer, user: &str) -> String {
    s.user_token(user, 5).await
}

#[tokio::test]
async fn group_send_stores_one_copy_assigns_seqs_and_pushes_to_every_member() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann"), ("b", "Bob"), ("x", "Xavier")])
        .await;
    create_group(
        &s.state,
        "g1",
        "o",
        &[("o", OWNER), ("a", MEMBER), ("b", MEMBER)],
    );
    let mut o_web = FakeConn::register(&s.state, "o", 5);
    let mut o_ios = FakeConn::register(&s.state, "o", 1);
    let mut a = FakeConn::register(&s.state, "a", 5);
    let mut b = FakeConn::register(&s.state, "b", 5);
    let mut x = FakeConn::register(&s.state, "x", 5);

    let mut acks = Vec::new();
    for i in 1..=3 {
        acks.push(send_group(&s, "o", "g1", &format!("c{i}")).await);
    }
    assert_eq!(
        query_i64(&s.state, "SELECT count(*) FROM messages", &[]),
        3,
        "one copy per message"
    );
    assert_eq!(
        query_i64(
            &s.state,
            "SELECT max_seq FROM seqs WHERE conversation_id = 'sg_g1'",
            &[]
        ),
        3
    );
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(ack.client_msg_id, format!("c{}", i + 1));
        assert_eq!(ack.server_msg_id.len(), 32);
        assert!(ack.send_time > 0);
    }
    assert_ne!(acks[0].server_msg_id, acks[1].server_msg_id);

    // Every member's connections, both of the sender's devices included, get each message with its seq.
    for conn in [&mut o_web, &mut o_ios, &mut a, &mut b] {
        let pushes = conn.pushes();
        assert_eq!(pushes.len(), 3);
        for (i, p) in pushes.iter().enumerate() {
            let (conv, notification, m) = only_msg(p);
            assert_eq!(conv, "sg_g1");
            assert!(!notification);
            assert_eq!(m.seq, i as i64 + 1);
            assert_eq!(m.server_msg_id, acks[i].server_msg_id);
            assert_eq!(m.send_time, acks[i].send_time);
            assert_eq!(m.client_msg_id, format!("c{}", i + 1));
            assert_eq!(m.send_id, "o");
            assert_eq!(m.group_id, "g1");
            assert_eq!(m.session_type, 3);
            assert_eq!(m.status, 2);
            assert_eq!(
                m.content,
                format!(r#"{{"content":"c{}"}}"#, i + 1).into_bytes()
            );
        }
    }
    assert!(x.frames().is_empty(), "non-members get nothing");

    // The sender has read its own messages; the others have 3 unread.
    let o_seqs = read_state(&s, "o", "sg_g1").await.unwrap();
    assert_eq!(
        o_seqs,
        Seqs {
            max_seq: 3,
            has_read_seq: 3,
            max_seq_time: acks[2].send_time
        }
    );
    let a_seqs = read_state(&s, "a", "sg_g1").await.unwrap();
    assert_eq!((a_seqs.max_seq, a_seqs.has_read_seq), (3, 0));

    let max = msg::get_max_seq(&s.state, "b").await.unwrap();
    assert_eq!(max.max_seqs.get("sg_g1"), Some(&3));
    assert!(max.min_seqs.is_empty());
    assert!(msg::get_max_seq(&s.state, "x")
        .await
        .unwrap()
        .max_seqs
        .is_empty());
}

#[tokio::test]
async fn resend_with_same_client_msg_id_returns_same_ack_and_no_new_seq() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann")]).await;
    create_group(&s.state, "g1", "o", &[("o", OWNER), ("a", MEMBER)]);
    let mut a = FakeConn::register(&s.state, "a", 5);
    let first = send_group(&s, "o", "g1", "same").await;
    let again = send_group(&s, "o", "g1", "same").await;
    assert_eq!(first, again);
    assert_eq!(
        query_i64(
            &s.state,
            "SELECT max_seq FROM seqs WHERE conversation_id = 'sg_g1'",
            &[]
        ),
        1
    );
    assert_eq!(a.pushes().len(), 1, "a resend is not pushed again");
    // Another user reusing the ID in the same conversation is refused.
    let err = msg::send(&s.state, "a", 5, group_text("a", "g1", "same", "x"))
        .await
        .unwrap_err();
    assert_eq!(err.code, 1003);
    let next = send_group(&s, "o", "g1", "other").await;
    assert_ne!(next.server_msg_id, first.server_msg_id);
    assert_eq!(
        query_i64(
            &s.state,
            "SELECT max_seq FROM seqs WHERE conversation_id = 'sg_g1'",
            &[]
        ),
        2
    );
}

#[tokio::test]
async fn sender_name_and_face_come_from_the_profile_not_the_client() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann")]).await;
    create_group(&s.state, "g1", "o", &[("o", OWNER), ("a", MEMBER)]);
    let mut o = FakeConn::register(&s.state, "o", 5);
    let mut forged = group_text("a", "g1", "c1", "hi");
    forged.sender_nickname = "Owner".into();
    forged.sender_face_url = "https://example.invalid/owner.png".into();
    msg::send(&s.state, "a", 5, forged).await.unwrap();
    let pushed = o.pushes();
    let (_, _, m) = only_msg(&pushed[0]);
    assert_eq!(m.sender_nickname, "Ann");
    assert_eq!(m.sender_face_url, "");
    let stored = pull(&s, "o", vec![range("sg_g1", 1, 1, 1)], 0).await;
    assert_eq!(stored.msgs["sg_g1"].msgs[0].sender_nickname, "Ann");
}

#[tokio::test]
async fn send_validation_and_group_rules() {
    let s = TestServer::with_users(&[
        ("o", "Owner"),
        ("ad", "Adam"),
        ("a", "Ann"),
        ("x", "Xavier"),
        ("p", "Pat"),
    ])
    .await;
    create_group(
        &s.state,
        "g1",
        "o",
        &[("o", OWNER), ("ad", ADMIN), ("a", MEMBER)],
    );
    let code = |r: Result<_, chorus_server::error::ApiError>| r.map(drop).unwrap_err().code;

    // MsgData.sendID must be the sender itself.
    assert_eq!(
        code(msg::send(&s.state, "a", 5, group_text("o", "g1", "c", "t")).await),
        1002
    );
    let mut m = group_text("a", "g1", "c", "t");
    m.session_type = 2;
    assert_eq!(code(msg::send(&s.state, "a", 5, m).await), 1001);
    let mut m = group_text("a", "g1", "c", "t");
    m.content_type = 1501;
    assert_eq!(
        code(msg::send(&s.state, "a", 5, m).await),
        1001,
        "notifications only via notify"
    );
    let mut m = single_text("a", "p", "c", "t");
    m.session_type = 4;
    assert_eq!(
        code(msg::send(&s.state, "a", 5, m).await),
        1002,
        "session 4 is admin only"
    );
    assert_eq!(
        code(msg::send(&s.state, "a", 5, group_text("a", "g1", "", "t")).await),
        1001
    );
    assert_eq!(
        code(msg::send(&s.state, "x", 5, group_text("x", "g1", "c", "t")).await),
        1203
    );
    assert_eq!(
        code(msg::send(&s.state, "a", 5, group_text("a", "nope", "c", "t")).await),
        1201
    );
    assert_eq!(
        code(msg::send(&s.state, "a", 5, single_text("a", "ghost", "c", "t")).await),
        1101
    );

    // A muted member, then a muted group (owner and admins may still speak).
    exec(
        &s.state,
        "UPDATE group_members SET mute_end_time = 99999999999999 WHERE user_id = 'a'",
        &[],
    );
    assert_eq!(
        code(msg::send(&s.state, "a", 5, group_text("a", "g1", "c1", "t")).await),
        1402
    );
    exec(&s.state, "UPDATE group_members SET mute_end_time = 0", &[]);
    exec(
        &s.state,
        "UPDATE groups SET status = 3 WHERE group_id = 'g1'",
        &[],
    );
    assert_eq!(
        code(msg::send(&s.state, "a", 5, group_text("a", "g1", "c2", "t")).await),
        1403
    );
    send_group(&s, "ad", "g1", "c3").await;
    send_group(&s, "o", "g1", "c4").await;
    exec(
        &s.state,
        "UPDATE groups SET status = 2 WHERE group_id = 'g1'",
        &[],
    );
    assert_eq!(
        code(msg::send(&s.state, "o", 5, group_text("o", "g1", "c5", "t")).await),
        1204
    );
    assert_eq!(
        query_i64(
            &s.state,
            "SELECT max_seq FROM seqs WHERE conversation_id = 'sg_g1'",
            &[]
        ),
        2,
        "refused messages allocate no seq"
    );

    // A black-listed sender cannot reach the peer.
    exec(
        &s.state,
        "INSERT INTO blacks (owner_user_id, black_user_id, create_time) VALUES ('p', 'a', 1)",
        &[],
    );
    assert_eq!(
        code(msg::send(&s.state, "a", 5, single_text("a", "p", "c6", "t")).await),
        1302
    );
}

#[tokio::test]
async fn single_chat_creates_both_rows_and_pushes_to_both_users() {
    let s = TestServer::with_users(&[("u1", "One"), ("u2", "Two")]).await;
    let mut u1_other = FakeConn::register(&s.state, "u1", 2);
    let mut u2 = FakeConn::register(&s.state, "u2", 5);
    let ack = msg::send(&s.state, "u2", 5, single_text("u2", "u1", "s1", "hey"))
        .await
        .unwrap();
    for conn in [&mut u1_other, &mut u2] {
        let pushes = conn.pushes();
        assert_eq!(pushes.len(), 1);
        let (conv, _, m) = only_msg(&pushes[0]);
        assert_eq!(conv, "si_u1_u2");
        assert_eq!(
            (m.seq, m.server_msg_id.as_str()),
            (1, ack.server_msg_id.as_str())
        );
        assert_eq!(m.sender_platform_id, 5);
    }
    for (owner, peer) in [("u1", "u2"), ("u2", "u1")] {
        let convs = msg::conversations(&s.state, owner, None).await.unwrap();
        assert_eq!(convs.len(), 1);
        assert_eq!(convs[0].conversation_id, "si_u1_u2");
        assert_eq!(convs[0].conversation_type, 1);
        assert_eq!(convs[0].user_id, peer);
    }
    assert_eq!(
        read_state(&s, "u2", "si_u1_u2").await.unwrap().has_read_seq,
        1
    );
    assert_eq!(
        read_state(&s, "u1", "si_u1_u2").await.unwrap().has_read_seq,
        0
    );
    // An empty MsgData.sendID is the sender's.
    msg::send(&s.state, "u1", 5, single_text("", "u2", "s2", "yo"))
        .await
        .unwrap();
    let resp = pull(&s, "u2", vec![range("si_u1_u2", 1, 2, 2)], 0).await;
    let got = &resp.msgs["si_u1_u2"].msgs;
    assert_eq!(
        (got[0].send_id.as_str(), got[1].send_id.as_str()),
        ("u2", "u1")
    );
    assert_eq!(got[1].recv_id, "u2");
}

#[tokio::test]
async fn pulls_clip_to_num_mark_the_end_and_fill_placeholders() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann"), ("b", "Bob"), ("x", "Xavier")])
        .await;
    create_group(
        &s.state,
        "g1",
        "o",
        &[("o", OWNER), ("a", MEMBER), ("b", MEMBER)],
    );
    for i in 1..=5 {
        send_group(&s, "a", "g1", &format!("m{i}")).await;
    }
    let (ta, tb) = (token(&s, "a").await, token(&s, "b").await);
    // b deletes seq 2 for itself; a deletes its own seq 3 for everyone; b may not do that to a's.
    let r = s
        .post(
            "/msg/delete_msgs",
            Some(&tb),
            json!({"conversationID": "sg_g1", "seqs": [2], "userID": "b", "deleteSyncOpt": null}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let r = s
        .post("/msg/delete_msgs", Some(&ta), json!({"conversationID": "sg_g1", "seqs": [3], "userID": "a", "deleteSyncOpt": {"IsSyncSelf": false, "IsSyncOther": true}}))
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let r = s
        .post("/msg/delete_msgs", Some(&tb), json!({"conversationID": "sg_g1", "seqs": [4], "userID": "b", "deleteSyncOpt": {"IsSyncOther": true}}))
        .await;
    assert_eq!(r["errCode"], 1002, "{r}");

    // The last `num` seqs of the range; seq 3 is gone for everyone.
    let resp = pull(&s, "b", vec![range("sg_g1", 1, 5, 3)], 0).await;
    let got = &resp.msgs["sg_g1"];
    assert_eq!(seqs_of(&got.msgs), vec![3, 4, 5]);
    assert_eq!(
        (got.msgs[0].status, got.msgs[0].client_msg_id.as_str()),
        (4, "")
    );
    assert_eq!(got.msgs[1].client_msg_id, "m4");
    assert!(got.is_end);
    assert_eq!(got.end_seq, 5);
    assert!(resp.notification_msgs.is_empty());

    // b's own deletion is a placeholder only for b.
    let resp = pull(&s, "b", vec![range("sg_g1", 1, 5, 10)], 0).await;
    let got = &resp.msgs["sg_g1"];
    assert_eq!(seqs_of(&got.msgs), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        got.msgs.iter().map(|m| m.status).collect::<Vec<_>>(),
        vec![2, 4, 4, 2, 2]
    );
    let resp = pull(&s, "o", vec![range("sg_g1", 2, 2, 10)], 0).await;
    let got = &resp.msgs["sg_g1"];
    assert_eq!(got.msgs[0].client_msg_id, "m2");

    // isEnd: ascending = the visible max is inside the range; descending = the visible min is.
    assert!(!pull(&s, "b", vec![range("sg_g1", 1, 3, 10)], 0).await.msgs["sg_g1"].is_end);
    let desc = pull(&s, "b", vec![range("sg_g1", 2, 5, 10)], 1).await;
    assert!(!desc.msgs["sg_g1"].is_end);
    let desc = pull(&s, "b", vec![range("sg_g1", 1, 5, 2)], 1).await;
    assert!(desc.msgs["sg_g1"].is_end);
    assert_eq!(desc.msgs["sg_g1"].end_seq, 1);
    assert_eq!(seqs_of(&desc.msgs["sg_g1"].msgs), vec![4, 5]);
    // Ranges past the max are clipped; num 0 and foreign conversations give nothing.
    let resp = pull(&s, "b", vec![range("sg_g1", 4, 100, 10)], 0).await;
    let got = &resp.msgs["sg_g1"];
    assert_eq!(seqs_of(&got.msgs), vec![4, 5]);
    assert!(pull(&s, "b", vec![range("sg_g1", 1, 5, 0)], 0)
        .await
        .msgs
        .is_empty());
    assert!(pull(&s, "x", vec![range("sg_g1", 1, 5, 10)], 0)
        .await
        .msgs
        .is_empty());
    assert!(pull(&s, "x", vec![range("n_g1", 1, 5, 10)], 0)
        .await
        .notification_msgs
        .is_empty());

    // 1005: explicit seqs inside the window, placeholders for deleted ones.
    let resp = msg::get_seq_message(
        &s.state,
        "b",
        GetSeqMessageReq {
            user_id: "b".into(),
            conversations: vec![ConversationSeqs {
                conversation_id: "sg_g1".into(),
                seqs: vec![4, 2, 99],
            }],
            order: 0,
        },
    )
    .await
    .unwrap();
    let got = &resp.msgs["sg_g1"];
    assert_eq!(seqs_of(&got.msgs), vec![2, 4]);
    assert_eq!(got.msgs[0].status, 4);
    assert!(got.is_end);

    // 1007: the newest visible message.
    let last = msg::last_messages(
        &s.state,
        "b",
        GetLastMessageReq {
            user_id: "b".into(),
            conversation_i_ds: vec!["sg_g1".into(), "sg_nope".into()],
        },
    )
    .await
    .unwrap();
    assert_eq!(last.msgs.len(), 1);
    assert_eq!(last.msgs["sg_g1"].client_msg_id, "m5");

    // The REST pull: Go JSON keys (`Msgs` capitalised), base64 content, placeholder shape.
    let r = s
        .post("/msg/pull_msg_by_seq", Some(&tb), json!({"userID": "b", "seqRanges": [{"conversationID": "sg_g1", "begin": 1, "end": 4, "num": 2}], "order": 0}))
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let pm = &r["data"]["msgs"]["sg_g1"];
    assert_eq!(pm["isEnd"], false);
    assert_eq!(pm["endSeq"], 5);
    assert_eq!(pm["Msgs"][0]["seq"], 3);
    assert_eq!(pm["Msgs"][0]["status"], 4);
    assert_eq!(pm["Msgs"][0]["sendID"], "");
    assert_eq!(pm["Msgs"][1]["seq"], 4);
    assert_eq!(pm["Msgs"][1]["content"], "eyJjb250ZW50IjoibTQifQ==");
    assert_eq!(pm["Msgs"][1]["clientMsgID"], "m4");
    assert_eq!(r["data"]["notificationMsgs"], json!({}));
    // Acting for someone else is refused.
    let r = s
        .post(
            "/msg/pull_msg_by_seq",
            Some(&tb),
            json!({"userID": "a", "seqRanges": []}),
        )
        .await;
    assert_eq!(r["errCode"], 1002);

    // The delete-for-everyone sent a stored 2102 in n_g1, reported by 1001 with the chat max.
    let r = s
        .post("/msg/newest_seq", Some(&tb), json!({"userID": "b"}))
        .await;
    assert_eq!(r["data"]["maxSeqs"], json!({"sg_g1": 5, "n_g1": 1}), "{r}");
    let n = pull(&s, "b", vec![range("n_g1", 1, 1, 0)], 0).await;
    let tips = detail_json(&n.notification_msgs["n_g1"].msgs[0]);
    assert_eq!(
        tips,
        json!({"userID": "a", "conversationID": "sg_g1", "seqs": [3]})
    );
}

#[tokio::test]
async fn leavers_keep_a_frozen_window_and_entrants_start_where_the_group_says() {
    let s =
        TestServer::with_users(&[("o", "Owner"), ("b", "Bob"), ("c", "Cat"), ("d", "Dan")]).await;
    create_group(&s.state, "g2", "o", &[("o", OWNER), ("b", MEMBER)]);
    let mut b = FakeConn::register(&s.state, "b", 5);
    send_group(&s, "o", "g2", "m1").await;
    send_group(&s, "o", "g2", "m2").await;
    leave(&s.state, "g2", "b");
    send_group(&s, "o", "g2", "m3").await;
    send_group(&s, "o", "g2", "m4").await;

    assert_eq!(b.pushes().len(), 2, "no pushes after leaving");
    assert_eq!(
        msg::get_max_seq(&s.state, "b").await.unwrap().max_seqs["sg_g2"],
        2
    );
    let resp = pull(&s, "b", vec![range("sg_g2", 1, 10, 10)], 0).await;
    let got = &resp.msgs["sg_g2"];
    assert_eq!(seqs_of(&got.msgs), vec![1, 2]);
    assert!(got.is_end);
    assert_eq!(read_state(&s, "b", "sg_g2").await.unwrap().max_seq, 2);
    let r = msg::get_seq_message(
        &s.state,
        "b",
        GetSeqMessageReq {
            user_id: "b".into(),
            conversations: vec![ConversationSeqs {
                conversation_id: "sg_g2".into(),
                seqs: vec![3, 4],
            }],
            order: 0,
        },
    )
    .await
    .unwrap();
    assert!(r.msgs["sg_g2"].msgs.is_empty());
    let last = msg::last_messages(
        &s.state,
        "b",
        GetLastMessageReq {
            user_id: "b".into(),
            conversation_i_ds: vec!["sg_g2".into()],
        },
    )
    .await
    .unwrap();
    assert_eq!(last.msgs["sg_g2"].client_msg_id, "m2");
    assert_eq!(
        msg::send(&s.state, "b", 5, group_text("b", "g2", "late", "x"))
            .await
            .unwrap_err()
            .code,
        1203
    );
    // A left member cannot lift its own bound through set_conversations.
    let tb = token(&s, "b").await;
    let r = s
        .post("/conversation/set_conversations", Some(&tb), json!({"userIDs": ["b"], "conversation": {"conversationID": "sg_g2", "maxSeq": 0, "minSeq": 0, "isPinned": true}}))
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    assert_eq!(
        msg::get_max_seq(&s.state, "b").await.unwrap().max_seqs["sg_g2"],
        2
    );

    // With the history switch off, an entrant starts after the current max.
    join(&s.state, "g2", "c", MEMBER, false);
    join(&s.state, "g2", "d", MEMBER, true);
    send_group(&s, "o", "g2", "m5").await;
    let resp = pull(&s, "c", vec![range("sg_g2", 1, 5, 10)], 0).await;
    let got = &resp.msgs["sg_g2"];
    assert_eq!(seqs_of(&got.msgs), vec![5]);
    assert!(pull(&s, "c", vec![range("sg_g2", 1, 4, 10)], 0)
        .await
        .msgs
        .is_empty());
    let resp = pull(&s, "d", vec![range("sg_g2", 1, 5, 10)], 0).await;
    let got = &resp.msgs["sg_g2"];
    assert_eq!(seqs_of(&got.msgs), vec![1, 2, 3, 4, 5]);
    assert_eq!(got.msgs[0].client_msg_id, "m1");
}

#[tokio::test]
async fn revoke_permissions_notification_and_rewritten_pulls() {
    let s = TestServer::with_users(&[
        ("o", "Owner"),
        ("ad", "Adam"),
        ("ad2", "Ada"),
        ("m1", "Mia"),
        ("m2", "Max"),
        ("lft", "Leo"),
    ])
    .await;
    create_group(
        &s.state,
        "g3",
        "o",
        &[
            ("o", OWNER),
            ("ad", ADMIN),
            ("ad2", ADMIN),
            ("m1", MEMBER),
            ("m2", MEMBER),
            ("lft", MEMBER),
        ],
    );
    let ack1 = send_group(&s, "m1", "g3", "r1").await; // seq 1
    send_group(&s, "ad", "g3", "r2").await; // 2
    send_group(&s, "o", "g3", "r3").await; // 3
    send_group(&s, "lft", "g3", "r4").await; // 4
    send_group(&s, "m2", "g3", "r5").await; // 5
    send_group(&s, "ad2", "g3", "r6").await; // 6
    send_group(&s, "m1", "g3", "r7").await; // 7
    leave(&s.state, "g3", "lft");
    let mut m2_conn = FakeConn::register(&s.state, "m2", 5);

    let mut tokens = std::collections::HashMap::new();
    for u in ["o", "ad", "m2"] {
        tokens.insert(u, token(&s, u).await);
    }
    let revoke = |who: &'static str, user: &'static str, seq: i64| {
        let t = tokens[who].clone();
        let s = &s;
        async move {
            let r = s
                .post(
                    "/msg/revoke_msg",
                    Some(&t),
                    json!({"conversationID": "sg_g3", "seq": seq, "userID": user}),
                )
                .await;
            r["errCode"].as_i64().unwrap()
        }
    };
    assert_eq!(
        revoke("m2", "m2", 1).await,
        1002,
        "members revoke only their own"
    );
    assert_eq!(
        revoke("ad", "ad", 3).await,
        1002,
        "admins cannot revoke the owner"
    );
    assert_eq!(
        revoke("ad", "ad", 6).await,
        1002,
        "admins cannot revoke other admins"
    );
    assert_eq!(
        revoke("m2", "m1", 7).await,
        1002,
        "nobody acts for another user"
    );
    assert_eq!(revoke("ad", "ad", 99).await, 1004);
    assert_eq!(
        revoke("ad", "ad", 1).await,
        0,
        "admin revokes an ordinary member's message"
    );
    assert_eq!(revoke("ad", "ad", 1).await, 1404, "second revoke");
    assert_eq!(revoke("o", "o", 1).await, 1404);
    assert_eq!(
        revoke("ad", "ad", 4).await,
        0,
        "admin revokes a sender no longer in the group"
    );
    assert_eq!(revoke("o", "o", 2).await, 0, "owner revokes anyone");
    assert_eq!(revoke("m2", "m2", 5).await, 0, "sender revokes its own");
    let admin_token = s.admin_token().to_owned();
    let r = s
        .post(
            "/msg/revoke_msg",
            Some(&admin_token),
            json!({"conversationID": "sg_g3", "seq": 6, "userID": "imAdmin"}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "app admin revokes anything: {r}");

    // 2101 RevokeMsgTips, stored in n_g3 and pushed to the members.
    let pushes = m2_conn.pushes();
    assert_eq!(pushes.len(), 5);
    let (conv, notification, tip) = only_msg(&pushes[0]);
    assert_eq!((conv.as_str(), notification), ("n_g3", true));
    assert_eq!(tip.seq, 1);
    assert_eq!(tip.content_type, 2101);
    assert_eq!(tip.msg_from, 200);
    assert_eq!(
        (
            tip.send_id.as_str(),
            tip.recv_id.as_str(),
            tip.group_id.as_str()
        ),
        ("ad", "g3", "g3")
    );
    assert_eq!(tip.session_type, 3);
    assert_eq!(tip.options.get("isNotNotification"), Some(&false));
    assert_eq!(tip.options.get("history"), Some(&true));
    let tips = detail_json(&tip);
    let revoke_time = tips["revokeTime"].as_i64().unwrap();
    assert!(revoke_time > 0);
    assert_eq!(
        tips,
        json!({"revokerUserID": "ad", "clientMsgID": "r1", "revokeTime": revoke_time, "sesstionType": 3,
               "seq": 1, "conversationID": "sg_g3", "isAdminRevoke": false})
    );
    assert_eq!(only_msg(&pushes[4]).2.seq, 5);
    assert_eq!(detail_json(&only_msg(&pushes[4]).2)["isAdminRevoke"], true);
    assert_eq!(
        msg::get_max_seq(&s.state, "m2").await.unwrap().max_seqs["n_g3"],
        5
    );
    // n_ ranges ignore num.
    let n = pull(&s, "m2", vec![range("n_g3", 1, 5, 1)], 0).await;
    assert_eq!(
        seqs_of(&n.notification_msgs["n_g3"].msgs),
        vec![1, 2, 3, 4, 5]
    );

    // Later pulls return the rewritten 2101 form.
    let got = pull(&s, "m2", vec![range("sg_g3", 1, 7, 10)], 0).await;
    let msgs = &got.msgs["sg_g3"].msgs;
    let content_types: Vec<i32> = msgs.iter().map(|m| m.content_type).collect();
    assert_eq!(content_types, vec![2101, 2101, 101, 2101, 2101, 2101, 101]);
    let revoked = decode_revoked_content(&msgs[0].content).unwrap();
    assert_eq!(revoked.revoker_id, "ad");
    assert_eq!(revoked.revoker_role, ADMIN);
    assert_eq!(revoked.revoker_nickname, "Adam");
    assert_eq!(revoked.client_msg_id, "r1");
    assert_eq!(revoked.revoke_time, revoke_time);
    assert_eq!(revoked.source_message_send_id, "m1");
    assert_eq!(revoked.source_message_send_time, ack1.send_time);
    assert_eq!((revoked.session_type, revoked.seq), (3, 1));
    let detail: Value = serde_json::from_str(
        &chorus_proto::content::notification_detail(&msgs[0].content).unwrap(),
    )
    .unwrap();
    let mut keys: Vec<String> = detail.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "clientMsgID",
            "ex",
            "revokeTime",
            "revokerID",
            "revokerNickname",
            "revokerRole",
            "seq",
            "sessionType",
            "sourceMessageSendID",
            "sourceMessageSendTime",
            "sourceMessageSenderNickname"
        ]
    );
    assert_eq!(
        decode_revoked_content(&msgs[1].content)
            .unwrap()
            .revoker_role,
        OWNER
    );
    assert_eq!(
        decode_revoked_content(&msgs[5].content).unwrap().revoker_id,
        "imAdmin"
    );
}

#[tokio::test]
async fn single_chat_revoke_only_by_the_sender() {
    let s = TestServer::with_users(&[("p1", "Pia"), ("p2", "Paul")]).await;
    msg::send(&s.state, "p1", 5, single_text("p1", "p2", "s1", "oops"))
        .await
        .unwrap();
    let mut p2 = FakeConn::register(&s.state, "p2", 5);
    let (t1, t2) = (token(&s, "p1").await, token(&s, "p2").await);
    let body = json!({"conversationID": "si_p1_p2", "seq": 1, "userID": "p2"});
    assert_eq!(
        s.post("/msg/revoke_msg", Some(&t2), body).await["errCode"],
        1002
    );
    let body = json!({"conversationID": "si_p1_p2", "seq": 1, "userID": "p1"});
    let r = s.post("/msg/revoke_msg", Some(&t1), body).await;
    assert_eq!(r, json!({"errCode": 0, "errMsg": "", "errDlt": ""}));
    let (conv, _, tip) = only_msg(&p2.pushes()[0]);
    assert_eq!(conv, "n_p1_p2");
    assert_eq!(
        (tip.session_type, tip.recv_id.as_str(), tip.seq),
        (1, "p2", 1)
    );
    assert_eq!(detail_json(&tip)["sesstionType"], 1);
    assert_eq!(
        msg::get_max_seq(&s.state, "p2").await.unwrap().max_seqs["n_p1_p2"],
        1
    );
    let got = pull(&s, "p2", vec![range("si_p1_p2", 1, 1, 1)], 0).await;
    let revoked = decode_revoked_content(&got.msgs["si_p1_p2"].msgs[0].content).unwrap();
    assert_eq!(
        (revoked.revoker_id.as_str(), revoked.revoker_role),
        ("p1", 0)
    );
}

#[tokio::test]
async fn read_marks_give_unread_counts_and_notify_own_devices() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann")]).await;
    create_group(&s.state, "g4", "o", &[("o", OWNER), ("a", MEMBER)]);
    for i in 1..=3 {
        send_group(&s, "o", "g4", &format!("m{i}")).await;
    }
    let mut a_web = FakeConn::register(&s.state, "a", 5);
    let mut a_phone = FakeConn::register(&s.state, "a", 2);
    let mut o = FakeConn::register(&s.state, "o", 5);
    let ta = token(&s, "a").await;

    let seqs = read_state(&s, "a", "sg_g4").await.unwrap();
    assert_eq!(
        seqs.max_seq - seqs.has_read_seq,
        3,
        "unread = max - hasRead"
    );
    let r = s
        .post(
            "/msg/mark_conversation_as_read",
            Some(&ta),
            json!({"conversationID": "sg_g4", "userID": "a", "hasReadSeq": 2, "seqs": null}),
        )
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let seqs = read_state(&s, "a", "sg_g4").await.unwrap();
    assert_eq!((seqs.max_seq, seqs.has_read_seq), (3, 2));

    for conn in [&mut a_web, &mut a_phone] {
        let pushes = conn.pushes();
        assert_eq!(pushes.len(), 1);
        let (conv, notification, m) = only_msg(&pushes[0]);
        assert_eq!((conv.as_str(), notification), ("n_a_a", true));
        assert_eq!((m.content_type, m.seq, m.session_type), (2200, 1, 1));
        assert_eq!(
            detail_json(&m),
            json!({"markAsReadUserID": "a", "conversationID": "sg_g4", "seqs": [], "hasReadSeq": 2})
        );
    }
    assert!(
        o.frames().is_empty(),
        "group read marks stay with the reader"
    );
    assert_eq!(
        msg::get_max_seq(&s.state, "a").await.unwrap().max_seqs["n_a_a"],
        1
    );

    // Marks never lower hasReadSeq; set does; both are clamped to the visible max.
    let body = json!({"conversationID": "sg_g4", "userID": "a", "hasReadSeq": 1});
    assert_eq!(
        s.post("/msg/mark_conversation_as_read", Some(&ta), body)
            .await["errCode"],
        0
    );
    assert_eq!(read_state(&s, "a", "sg_g4").await.unwrap().has_read_seq, 2);
    let body =
        json!({"conversationID": "sg_g4", "userID": "a", "hasReadSeq": 1, "noNotification": true});
    assert_eq!(
        s.post("/msg/set_conversation_has_read_seq", Some(&ta), body)
            .await["errCode"],
        0
    );
    assert_eq!(read_state(&s, "a", "sg_g4").await.unwrap().has_read_seq, 1);
    let body = json!({"conversationID": "sg_g4", "userID": "a", "seqs": [100]});
    assert_eq!(
        s.post("/msg/mark_msgs_as_read", Some(&ta), body).await["errCode"],
        0
    );
    let r = s
        .post(
            "/msg/get_conversations_has_read_and_max_seq",
            Some(&ta),
            json!({"userID": "a", "conversationIDs": null}),
        )
        .await;
    let seqs = &r["data"]["seqs"]["sg_g4"];
    assert_eq!(
        (seqs["maxSeq"].as_i64(), seqs["hasReadSeq"].as_i64()),
        (Some(3), Some(3)),
        "{r}"
    );
    assert!(seqs["maxSeqTime"].as_i64().unwrap() > 0);
    assert_eq!(
        a_web.pushes().len(),
        2,
        "set with noNotification sent nothing"
    );
    let body = json!({"conversationID": "sg_other", "userID": "a", "hasReadSeq": 1});
    assert_eq!(
        s.post("/msg/mark_conversation_as_read", Some(&ta), body)
            .await["errCode"],
        1004
    );
}

#[tokio::test]
async fn notifications_clone_store_or_push_online() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann"), ("z", "Zed")]).await;
    create_group(&s.state, "g5", "o", &[("o", OWNER), ("a", MEMBER)]);
    let mut a = FakeConn::register(&s.state, "a", 5);
    let mut z = FakeConn::register(&s.state, "z", 5);
    let mut o_web = FakeConn::register(&s.state, "o", 5);
    let mut o_pad = FakeConn::register(&s.state, "o", 9);

    // isSendMsg, not reliable: a visible clone with a seq in sg_, the original online with seq 0.
    msg::notify(
        &s.state,
        Notification {
            content_type: 1508,
            send_id: "o".into(),
            recv_id: "g5".into(),
            group_id: "g5".into(),
            session_type: 3,
            detail: r#"{"kicked":"z"}"#.into(),
            sender_nickname: "Owner".into(),
            is_send_msg: true,
            reliable: false,
            extra_recipients: vec!["z".into()],
            ..Notification::default()
        },
    )
    .await
    .unwrap();
    for conn in [&mut a, &mut z, &mut o_web] {
        let pushes = conn.pushes();
        assert_eq!(pushes.len(), 2);
        let (conv, notification, clone) = only_msg(&pushes[0]);
        assert_eq!(
            (conv.as_str(), notification, clone.seq),
            ("sg_g5", false, 1)
        );
        assert_eq!((clone.content_type, clone.msg_from), (1508, 200));
        assert_eq!(
            clone.content,
            br#"{"detail":"{\"kicked\":\"z\"}"}"#.to_vec()
        );
        assert_eq!(clone.sender_nickname, "Owner");
        assert_eq!(
            clone.options.clone().into_iter().collect::<Vec<_>>(),
            vec![
                ("offlinePush".to_owned(), false),
                ("unreadCount".to_owned(), true)
            ]
        );
        let (conv, notification, original) = only_msg(&pushes[1]);
        assert_eq!(
            (conv.as_str(), notification, original.seq),
            ("n_g5", true, 0)
        );
        assert_eq!(original.client_msg_id, clone.client_msg_id);
        assert_eq!(original.client_msg_id.len(), 32);
        assert_eq!(original.options.get("isNotNotification"), Some(&false));
        assert_eq!(original.options.get("isSendMsg"), Some(&true));
        assert_eq!(original.options.get("history"), Some(&false));
        assert_eq!(
            (original.recv_id.as_str(), original.group_id.as_str()),
            ("g5", "g5")
        );
    }
    assert_eq!(
        query_i64(
            &s.state,
            "SELECT count(*) FROM messages WHERE conversation_id = 'sg_g5'",
            &[]
        ),
        1
    );
    assert_eq!(
        query_i64(
            &s.state,
            "SELECT count(*) FROM messages WHERE conversation_id = 'n_g5'",
            &[]
        ),
        0
    );
    let resp = pull(&s, "a", vec![range("sg_g5", 1, 1, 1)], 0).await;
    let got = &resp.msgs["sg_g5"];
    assert_eq!(got.msgs[0].content_type, 1508);

    // Reliable: stored in n_ with its own seq and reported by 1001.
    let reliable = Notification {
        content_type: 1502,
        send_id: "o".into(),
        recv_id: "g5".into(),
        session_type: 3,
        detail: "{}".into(),
        reliable: true,
        ..Notification::default()
    };
    msg::notify(&s.state, reliable.clone()).await.unwrap();
    msg::notify(&s.state, reliable).await.unwrap();
    let pushes = a.pushes();
    assert_eq!(pushes.len(), 2);
    assert_eq!(only_msg(&pushes[1]).2.seq, 2);
    assert_eq!(only_msg(&pushes[1]).0, "n_g5");
    let max = msg::get_max_seq(&s.state, "a").await.unwrap().max_seqs;
    assert_eq!((max["sg_g5"], max["n_g5"]), (1, 2));
    assert!(
        z.pushes().is_empty(),
        "extra recipients are per notification"
    );

    // A single notification to oneself reaches every own device only.
    o_web.pushes();
    o_pad.pushes();
    msg::notify(
        &s.state,
        Notification {
            content_type: 1210,
            send_id: "o".into(),
            recv_id: "o".into(),
            session_type: 1,
            detail: r#"{"fromToUserID":{"fromUserID":"o","toUserID":"o"}}"#.into(),
            ..Notification::default()
        },
    )
    .await
    .unwrap();
    for conn in [&mut o_web, &mut o_pad] {
        let pushes = conn.pushes();
        assert_eq!(pushes.len(), 1);
        let (conv, _, m) = only_msg(&pushes[0]);
        assert_eq!((conv.as_str(), m.seq, m.content_type), ("n_o_o", 0, 1210));
    }
    assert!(a.pushes().is_empty());
    let bad = Notification {
        content_type: 101,
        session_type: 1,
        ..Notification::default()
    };
    assert_eq!(msg::notify(&s.state, bad).await.unwrap_err().code, 1001);
}

#[tokio::test]
async fn clearing_a_conversation_moves_the_users_min_seq() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann")]).await;
    create_group(&s.state, "g6", "o", &[("o", OWNER), ("a", MEMBER)]);
    send_group(&s, "o", "g6", "m1").await;
    send_group(&s, "o", "g6", "m2").await;
    let ta = token(&s, "a").await;
    let body =
        json!({"conversationIDs": ["sg_g6"], "userID": "a", "deleteSyncOpt": {"IsSyncSelf": true}});
    let r = s.post("/msg/clear_conversation_msg", Some(&ta), body).await;
    assert_eq!(r["errCode"], 0, "{r}");
    assert_eq!(read_state(&s, "a", "sg_g6").await.unwrap().has_read_seq, 2);
    assert!(pull(&s, "a", vec![range("sg_g6", 1, 2, 10)], 0)
        .await
        .msgs
        .is_empty());
    assert_eq!(
        pull(&s, "o", vec![range("sg_g6", 1, 2, 10)], 0).await.msgs["sg_g6"]
            .msgs
            .len(),
        2
    );
    send_group(&s, "o", "g6", "m3").await;
    let resp = pull(&s, "a", vec![range("sg_g6", 1, 3, 10)], 0).await;
    let got = &resp.msgs["sg_g6"];
    assert_eq!(seqs_of(&got.msgs), vec![3]);
    let r = s
        .post(
            "/conversation/get_conversation",
            Some(&ta),
            json!({"ownerUserID": "a", "conversationID": "sg_g6"}),
        )
        .await;
    assert_eq!(r["data"]["conversation"]["minSeq"], 3, "{r}");
    // Clearing for everyone is the owner's call.
    let body = json!({"conversationIDs": ["sg_g6"], "userID": "a", "deleteSyncOpt": {"IsSyncOther": true}});
    assert_eq!(
        s.post("/msg/clear_conversation_msg", Some(&ta), body).await["errCode"],
        1002
    );
    let r = s.post("/msg/get_server_time", Some(&ta), json!({})).await;
    assert!(r["data"]["serverTime"].as_i64().unwrap() > 1_700_000_000_000);
}

#[tokio::test]
async fn conversation_routes() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann"), ("p", "Pat")]).await;
    create_group(&s.state, "g7", "o", &[("o", OWNER), ("a", MEMBER)]);
    create_group(&s.state, "g8", "o", &[("o", OWNER)]);
    msg::send(&s.state, "p", 5, single_text("p", "a", "s1", "hi"))
        .await
        .unwrap();
    let ta = token(&s, "a").await;
    let mut a = FakeConn::register(&s.state, "a", 5);

    let r = s
        .post(
            "/conversation/get_owner_conversation",
            Some(&ta),
            json!({"userID": "a", "pagination": {"pageNumber": 1, "showNumber": 1}}),
        )
        .await;
    assert_eq!(
        r["data"],
        json!({"total": 2, "conversations": [{
            "ownerUserID": "a", "conversationID": "sg_g7", "recvMsgOpt": 0, "conversationType": 3,
            "userID": "", "groupID": "g7", "isPinned": false, "attachedInfo": "", "isPrivateChat": false,
            "groupAtType": 0, "ex": "", "burnDuration": 0, "minSeq": 0, "maxSeq": 0,
            "msgDestructTime": 604800, "latestMsgDestructTime": 0, "isMsgDestruct": false}]}),
        "{r}"
    );
    let r = s
        .post(
            "/conversation/get_owner_conversation",
            Some(&ta),
            json!({"userID": "a", "pagination": {"pageNumber": 2, "showNumber": 1}}),
        )
        .await;
    assert_eq!(r["data"]["conversations"][0]["conversationID"], "si_a_p");
    assert_eq!(r["data"]["conversations"][0]["userID"], "p");

    let body = json!({"userIDs": ["a"], "conversation": {"conversationID": "sg_g7", "conversationType": 3,
        "userID": "", "groupID": "g7", "recvMsgOpt": 2, "isPinned": true, "attachedInfo": null, "ex": null}});
    let r = s
        .post("/conversation/set_conversations", Some(&ta), body)
        .await;
    assert_eq!(r["errCode"], 0, "{r}");
    let (conv, notification, m) = only_msg(&a.pushes()[0]);
    assert_eq!(
        (conv.as_str(), notification, m.content_type, m.seq),
        ("n_a_a", true, 1300, 0)
    );
    assert_eq!(
        detail_json(&m),
        json!({"userID": "a", "conversationIDList": ["sg_g7"]})
    );
    let r = s
        .post(
            "/conversation/get_pinned_conversation_ids",
            Some(&ta),
            json!({"userID": "a"}),
        )
        .await;
    assert_eq!(r["data"], json!({"conversationIDs": ["sg_g7"]}));
    let r = s
        .post(
            "/conversation/get_not_notify_conversation_ids",
            Some(&ta),
            json!({"userID": "a"}),
        )
        .await;
    assert_eq!(r["data"], json!({"conversationIDs": ["sg_g7"]}));
    let r = s
        .post(
            "/conversation/get_conversations",
            Some(&ta),
            json!({"ownerUserID": "a", "conversationIDs": ["sg_g7", "sg_g8"]}),
        )
        .await;
    assert_eq!(r["data"]["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(r["data"]["conversations"][0]["isPinned"], true);
    assert_eq!(r["data"]["conversations"][0]["recvMsgOpt"], 2);

    // Rows are only for participants, and only one's own (unless admin).
    let body =
        json!({"userIDs": ["a"], "conversation": {"conversationID": "sg_g8", "isPinned": true}});
    assert_eq!(
        s.post("/conversation/set_conversations", Some(&ta), body)
            .await["errCode"],
        1002
    );
    let body =
        json!({"userIDs": ["o"], "conversation": {"conversationID": "sg_g7", "isPinned": true}});
    assert_eq!(
        s.post("/conversation/set_conversations", Some(&ta), body)
            .await["errCode"],
        1002
    );
    let r = s
        .post(
            "/conversation/get_all_conversations",
            Some(&ta),
            json!({"ownerUserID": "o"}),
        )
        .await;
    assert_eq!(r["errCode"], 1002);
    let r = s
        .post(
            "/conversation/get_conversation",
            Some(&ta),
            json!({"ownerUserID": "a", "conversationID": "sg_g8"}),
        )
        .await;
    assert_eq!(r["errCode"], 1004);

    let body = json!({"userID": "a", "versionID": "", "version": 0});
    let first = s
        .post(
            "/conversation/get_incremental_conversations",
            Some(&ta),
            body.clone(),
        )
        .await;
    let again = s
        .post(
            "/conversation/get_incremental_conversations",
            Some(&ta),
            body,
        )
        .await;
    let version_id = first["data"]["versionID"].as_str().unwrap().to_owned();
    assert_eq!(version_id.len(), 24);
    assert_eq!(
        first["data"],
        json!({"version": 1, "versionID": version_id, "full": true, "delete": [], "insert": [], "update": [], "sortVersion": 0})
    );
    assert_eq!(first, again, "the versionID is stable");
    let r = s
        .post(
            "/conversation/get_full_conversation_ids",
            Some(&ta),
            json!({"idHash": 0, "userID": "a"}),
        )
        .await;
    assert_eq!(
        r["data"],
        json!({"version": 1, "versionID": version_id, "equal": false, "conversationIDs": ["sg_g7", "si_a_p"]})
    );
    let r = s
        .post(
            "/conversation/get_all_conversations",
            Some(&ta),
            json!({"ownerUserID": "a"}),
        )
        .await;
    assert_eq!(r["data"]["conversations"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn rest_send_msg_is_for_administrators() {
    let s = TestServer::with_users(&[("o", "Owner"), ("a", "Ann")]).await;
    create_group(&s.state, "g9", "o", &[("o", OWNER), ("a", MEMBER)]);
    let mut a = FakeConn::register(&s.state, "a", 5);
    let body = json!({"sendID": "o", "recvID": "", "groupID": "g9", "senderNickname": "Owner", "senderFaceURL": "",
        "senderPlatformID": 10, "content": {"content": "from the API"}, "contentType": 101, "sessionType": 3,
        "isOnlineOnly": false, "notOfflinePush": false, "sendTime": 0, "offlinePushInfo": null, "ex": ""});
    let ta = token(&s, "a").await;
    assert_eq!(
        s.post("/msg/send_msg", Some(&ta), body.clone()).await["errCode"],
        1002
    );
    let admin = s.admin_token().to_owned();
    let r = s.post("/msg/send_msg", Some(&admin), body).await;
    assert_eq!(r["errCode"], 0, "{r}");
    let data = &r["data"];
    assert_eq!(data["serverMsgID"].as_str().unwrap().len(), 32);
    assert_eq!(data["clientMsgID"].as_str().unwrap().len(), 32);
    assert!(data["sendTime"].as_i64().unwrap() > 0);
    let (conv, _, m) = only_msg(&a.pushes()[0]);
    assert_eq!(conv, "sg_g9");
    assert_eq!(m.content, br#"{"content":"from the API"}"#.to_vec());
    assert_eq!(
        (m.seq, m.sender_platform_id, m.sender_nickname.as_str()),
        (1, 10, "Owner")
    );
    let body = json!({"sendID": "o", "groupID": "g9", "content": "text", "contentType": 101, "sessionType": 3});
    assert_eq!(
        s.post("/msg/send_msg", Some(&admin), body).await["errCode"],
        1001
    );
}
