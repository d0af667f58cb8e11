//! The core client against the real chorus-server: the server runs in-process on 127.0.0.1:0,
//! clients connect over real WebSockets (JSON envelopes) and call the real REST API; each client
//! runs core's async driver on a tokio task with a `MemoryStore`. Waits are bounded and driven by
//! events, never by sleeping.

mod common;

use std::time::Duration;

use chorus_core::client::ClientEvent;
use chorus_core::entities::EntityEvent;
use chorus_core::model::{ConversationId, Message};
use chorus_core::{Direction, Seq, Store};
use chorus_e2e::native::NativeClient;
use chorus_proto::constants::ReqIdentifier;
use chorus_proto::envelope::{RequestPayload, ResponsePayload};
use chorus_proto::pb::sdkws::MsgData;
use common::Server;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// The server's max seq of a user's conversation; it must have one.
async fn max_seq(server: &Server, user_id: &str, conv: &ConversationId) -> u64 {
    server
        .newest_seq(user_id, conv)
        .await
        .unwrap_or_else(|| panic!("no max seq of {conv:?} for {user_id}"))
}

/// Starts a client and waits until its first connect sync round finished.
async fn online(server: &Server, user_id: &str) -> NativeClient {
    let token = server.token_on(user_id, 5).await;
    let mut client = NativeClient::start(server.addr, user_id, &token);
    client
        .wait_for(WAIT, |e| matches!(e, ClientEvent::OnConnectSuccess))
        .await
        .expect("connected");
    client
        .wait_for(WAIT, |e| {
            matches!(
                e,
                ClientEvent::OnSyncServerFinish | ClientEvent::OnSyncServerFailed
            )
        })
        .await
        .map(|(e, _)| assert_eq!(e, ClientEvent::OnSyncServerFinish, "first round"))
        .expect("first sync round");
    client
}

fn text_of(m: &Message) -> Option<String> {
    m.content.text().map(str::to_owned)
}

/// Every stored message of a conversation, ascending.
async fn stored(client: &NativeClient, conv: &ConversationId) -> Vec<Message> {
    client
        .store
        .messages(
            conv,
            Seq(1)..=Seq(u64::MAX / 2),
            100_000,
            Direction::Ascending,
        )
        .await
        .expect("messages")
}

/// The stored cursor of a conversation.
async fn cursor(client: &NativeClient, conv: &ConversationId) -> Seq {
    let cursors = client.store.load_cursors().await.expect("cursors");
    cursors.get(conv).map_or(Seq::ZERO, |s| s.cursor)
}

/// Asserts that the stored seqs are exactly 1..=cursor.
async fn assert_contiguous(client: &NativeClient, conv: &ConversationId) -> Vec<Message> {
    let messages = stored(client, conv).await;
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq.0).collect();
    let top = cursor(client, conv).await;
    let expected: Vec<u64> = (1..=top.0).collect();
    assert_eq!(
        seqs, expected,
        "{}: stored seqs of {conv:?} are 1..=cursor",
        client.user_id
    );
    messages
}

/// Waits until `client` reported every one of `texts` in `conv` through OnRecvNewMessages
/// (one event may carry several messages).
async fn wait_texts(client: &mut NativeClient, conv: &ConversationId, texts: &[String]) {
    let mut missing: Vec<String> = texts.to_vec();
    while !missing.is_empty() {
        let (event, _) = client
            .wait_for(WAIT, |e| {
                matches!(e, ClientEvent::OnRecvNewMessages { conversation_id, .. } if conversation_id == conv)
            })
            .await
            .unwrap_or_else(|e| panic!("waiting for {missing:?}: {e}"));
        if let ClientEvent::OnRecvNewMessages { messages, .. } = event {
            for m in &messages {
                if let Some(text) = text_of(m) {
                    missing.retain(|t| *t != text);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_messages_history_and_renames_through_the_core_client() {
    let server = Server::start(&[("ua", "Alice"), ("ub", "Bob"), ("uc", "Carol")]).await;
    let gid = server.group("ua", &["ub"], &[], json!({})).await;
    let conv = ConversationId::group(&gid);

    // (a) B is online; A's messages arrive as OnRecvNewMessages and are stored contiguously.
    let mut b = online(&server, "ub").await;
    let mut a = online(&server, "ua").await;
    let mut sent = Vec::new();
    for i in 1..=5 {
        let text = format!("rest {i}");
        server.send_group_text("ua", &gid, &text).await;
        sent.push(text);
    }
    // One more through A's own core client: a raw 1003 request routed by the client.
    let msg = MsgData {
        send_id: "ua".into(),
        group_id: gid.clone(),
        client_msg_id: "e2e-client-msg-1".into(),
        sender_platform_id: 5,
        sender_nickname: "Alice".into(),
        session_type: 3,
        msg_from: 100,
        content_type: 101,
        content: json!({"content": "via core"}).to_string().into_bytes(),
        create_time: 1,
        ..MsgData::default()
    };
    let resp = a
        .request(
            ReqIdentifier::SendMsg,
            RequestPayload::SendMsg(Box::new(msg)).encode_to_vec(),
        )
        .await
        .expect("1003 through the client");
    match resp.payload() {
        Ok(ResponsePayload::SendMsg(ack)) => {
            assert_eq!(ack.client_msg_id, "e2e-client-msg-1");
            assert!(!ack.server_msg_id.is_empty(), "{ack:?}");
        }
        other => panic!("1003 answer: {other:?}"),
    }
    sent.push("via core".to_owned());
    wait_texts(&mut b, &conv, &sent).await;
    let b_messages = assert_contiguous(&b, &conv).await;
    assert_eq!(
        cursor(&b, &conv).await.0,
        max_seq(&server, "ub", &conv).await,
        "B's cursor is the server's max seq"
    );
    let b_texts: Vec<String> = b_messages.iter().filter_map(text_of).collect();
    assert_eq!(b_texts, sent, "B stored A's texts in order");
    assert!(b_messages
        .iter()
        .filter(|m| m.content_type == 101)
        .all(|m| m.send_id == "ua"));
    // A's own echo arrives as well (pushes reach every member, the sender included).
    wait_texts(&mut a, &conv, &["via core".to_owned()]).await;

    // (b) C joins later and syncs the whole history.
    server
        .admin(
            "/group/invite_user_to_group",
            json!({"groupID": gid, "reason": "", "invitedUserIDs": ["uc"]}),
        )
        .await;
    let c = online(&server, "uc").await;
    let c_messages = assert_contiguous(&c, &conv).await;
    let c_top = cursor(&c, &conv).await;
    assert_eq!(
        c_top.0,
        max_seq(&server, "uc", &conv).await,
        "C's cursor is the server's max seq"
    );
    assert!(
        c_top.0 >= b_messages.len() as u64,
        "C's cursor {c_top:?} covers the history B saw ({} seqs)",
        b_messages.len()
    );
    let c_texts: Vec<String> = c_messages.iter().filter_map(text_of).collect();
    assert_eq!(c_texts, sent, "C synced every text of the history");
    // The prefix B saw is the same messages, seq by seq.
    let ids = |ms: &[Message]| -> Vec<(u64, String)> {
        ms.iter()
            .map(|m| (m.seq.0, m.server_msg_id.clone()))
            .collect()
    };
    assert_eq!(ids(&c_messages[..b_messages.len()]), ids(&b_messages));

    // (c) A renames; B observes it through its entity events and stored member row.
    server
        .admin(
            "/user/update_user_info_ex",
            json!({"userInfo": {"userID": "ua", "nickname": "Alice Renamed"}}),
        )
        .await;
    let (event, _) = b
        .wait_for(WAIT, |e| {
            matches!(
                e,
                ClientEvent::Entity(EntityEvent::OnGroupMemberInfoChanged(m))
                    if m.user_id == "ua" && m.nickname == "Alice Renamed"
            )
        })
        .await
        .expect("B sees the rename");
    let ClientEvent::Entity(EntityEvent::OnGroupMemberInfoChanged(member)) = event else {
        unreachable!()
    };
    assert_eq!(member.group_id, gid);
    let stored_members = b.store.members(&gid).await.expect("members");
    let stored_a = stored_members
        .iter()
        .find(|m| m.user_id == "ua")
        .expect("A is a stored member of B's view");
    assert_eq!(stored_a.nickname, "Alice Renamed");
    // The sender name shown on A's stored messages in the group follows the rename.
    let renamed: Vec<String> = stored(&b, &conv)
        .await
        .iter()
        .filter(|m| m.send_id == "ua" && m.content_type == 101)
        .map(|m| m.sender_nickname.clone())
        .collect();
    assert_eq!(renamed, vec!["Alice Renamed".to_owned(); sent.len()]);

    for client in [a, b, c] {
        client.stop().await.expect("driver stops cleanly");
    }
}
