//! An offline client catches up: while user C is offline, 5,000 messages are written into 50 of
//! C's conversations (30 groups, 20 single chats, 100 messages each, some of them sent by C from
//! another device); then C's core client connects and must end with every conversation's stored
//! messages equal to the server's, cursors at the server's max seq and unread counts equal to the
//! server's `max − hasRead`. The server runs in-process on 127.0.0.1:0 and the messages are
//! written through its send path directly (the fastest way to build the backlog).

mod common;

use std::time::{Duration, Instant};

use chorus_core::client::ClientEvent;
use chorus_core::model::{ConversationId, Message};
use chorus_core::{Direction, Seq, Store};
use chorus_e2e::native::NativeClient;
use chorus_proto::pb::msg::GetConversationsHasReadAndMaxSeqReq;
use chorus_proto::pb::sdkws::{MsgData, PullMessageBySeqsReq, SeqRange};
use chorus_server::msg;
use common::Server;
use serde_json::{json, Value};

const ME: &str = "uc";
const GROUPS: usize = 30;
const SINGLES: usize = 20;
const PER_CONVERSATION: usize = 100;
/// Bound of the catch-up itself (it takes a few seconds natively).
const CATCH_UP: Duration = Duration::from_secs(60);

impl Server {
    /// A text stored and pushed through the server's send path.
    async fn send(&self, conv: &ConversationId, sender: &str, peer: &str, text: String) {
        let (recv_id, group_id, session_type) = match conv.group_id() {
            Some(gid) => (String::new(), gid.to_owned(), 3),
            None => (peer.to_owned(), String::new(), 1),
        };
        let data = MsgData {
            send_id: sender.to_owned(),
            recv_id,
            group_id,
            client_msg_id: format!("{}-{text}", conv.as_str()),
            sender_platform_id: 5,
            session_type,
            msg_from: 100,
            content_type: 101,
            content: json!({ "content": text }).to_string().into_bytes(),
            create_time: chorus_server::now_ms(),
            ..MsgData::default()
        };
        msg::send_as_admin(&self.state, sender, 5, data)
            .await
            .unwrap_or_else(|e| panic!("send to {conv:?}: {e:?}"));
    }

    /// Every message of `user`'s conversation as the server hands it out, ascending.
    async fn messages(&self, user: &str, conv: &ConversationId, max: u64) -> Vec<MsgData> {
        let mut out = Vec::new();
        let step = msg::MAX_PULL as u64;
        let mut begin = 1u64;
        while begin <= max {
            let end = (begin + step - 1).min(max);
            let req = PullMessageBySeqsReq {
                user_id: user.to_owned(),
                seq_ranges: vec![SeqRange {
                    conversation_id: conv.as_str().to_owned(),
                    begin: begin as i64,
                    end: end as i64,
                    num: (end - begin + 1) as i64,
                }],
                order: 0,
            };
            let resp = msg::pull_by_seq_ranges(&self.state, user, req)
                .await
                .unwrap_or_else(|e| panic!("pull {conv:?}: {e:?}"));
            if let Some(pulled) = resp.msgs.get(conv.as_str()) {
                out.extend(pulled.msgs.iter().cloned());
            }
            begin = end + 1;
        }
        out.sort_by_key(|m| m.seq);
        out
    }
}

fn text_of(m: &Message) -> Option<String> {
    m.content.text().map(str::to_owned)
}

fn wire_text(m: &MsgData) -> Option<String> {
    let v: Value = serde_json::from_slice(&m.content).ok()?;
    v["content"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_client_catches_up_5000_messages_across_50_conversations() {
    let server = Server::start(&[]).await;
    let mut users = vec![
        json!({"userID": ME, "nickname": "Cat", "faceURL": ""}),
        json!({"userID": "p1", "nickname": "Pia", "faceURL": ""}),
        json!({"userID": "p2", "nickname": "Pat", "faceURL": ""}),
    ];
    let peers: Vec<String> = (0..SINGLES).map(|i| format!("s{i:02}")).collect();
    for peer in &peers {
        users.push(json!({"userID": peer, "nickname": format!("Peer {peer}"), "faceURL": ""}));
    }
    server
        .admin("/user/user_register", json!({ "users": users }))
        .await;

    // The 50 conversations, each with the user who writes to it besides C.
    let mut convs: Vec<(ConversationId, String)> = Vec::new();
    for i in 0..GROUPS {
        let data = server
            .admin(
                "/group/create_group",
                json!({"memberUserIDs": [ME, "p2"], "adminUserIDs": [], "ownerUserID": "p1",
                    "groupInfo": {"groupName": format!("g{i}"), "groupType": 2}}),
            )
            .await;
        let gid = data["groupInfo"]["groupID"].as_str().expect("groupID");
        convs.push((ConversationId::group(gid), "p1".to_owned()));
    }
    for peer in &peers {
        convs.push((ConversationId::single(ME, peer), peer.clone()));
    }

    // C is offline. Its other device writes one message into every other conversation (the
    // server marks a sender's own messages read), so unread counts differ between conversations.
    let started = Instant::now();
    for (k, (conv, other)) in convs.iter().enumerate() {
        let own_at = (k % 2 == 0).then_some((k * 7) % PER_CONVERSATION);
        for j in 0..PER_CONVERSATION {
            let sender = if own_at == Some(j) {
                ME
            } else {
                other.as_str()
            };
            let peer = if sender == ME { other.as_str() } else { ME };
            server.send(conv, sender, peer, format!("m{k}-{j}")).await;
        }
    }
    let written = started.elapsed();

    // The server's view: max seq and has-read seq of each conversation.
    let ids: Vec<String> = convs.iter().map(|(c, _)| c.as_str().to_owned()).collect();
    let read_state = msg::has_read_and_max_seq(
        &server.state,
        ME,
        GetConversationsHasReadAndMaxSeqReq {
            user_id: ME.to_owned(),
            conversation_i_ds: ids,
            return_pinned: false,
        },
    )
    .await
    .expect("1006");
    let mut expected_total = 0u64;
    for (conv, _) in &convs {
        let seqs = read_state
            .seqs
            .get(conv.as_str())
            .unwrap_or_else(|| panic!("server state of {conv:?}"));
        assert!(
            seqs.max_seq >= PER_CONVERSATION as i64,
            "{conv:?}: {seqs:?}"
        );
        expected_total += seqs.max_seq as u64;
    }

    // C connects and catches up.
    let token = server
        .admin(
            "/auth/get_user_token",
            json!({"platformID": 5, "userID": ME}),
        )
        .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let sync_started = Instant::now();
    let mut c = NativeClient::start(server.addr, ME, &token);
    let (finish, events) = c
        .wait_for(CATCH_UP, |e| {
            matches!(
                e,
                ClientEvent::OnSyncServerFinish | ClientEvent::OnSyncServerFailed
            )
        })
        .await
        .expect("the catch-up round ends");
    let synced = sync_started.elapsed();
    assert_eq!(finish, ClientEvent::OnSyncServerFinish);
    eprintln!("backlog written in {written:?}, caught up in {synced:?}");

    // Start, then progress up to the total.
    let total = events
        .iter()
        .find_map(|e| match e {
            ClientEvent::OnSyncServerStart { total } => Some(*total),
            _ => None,
        })
        .expect("OnSyncServerStart");
    assert_eq!(
        total, expected_total,
        "the round pulls every seq of the 50 conversations"
    );
    let progress: Vec<(u64, u64)> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::OnSyncServerProgress { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert!(
        progress.len() >= (expected_total / 100) as usize,
        "batched progress: {progress:?}"
    );
    assert!(progress.iter().all(|(_, t)| *t == total), "{progress:?}");
    assert!(
        progress.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress only grows: {progress:?}"
    );
    assert_eq!(progress.last().map(|p| p.0), Some(total), "{progress:?}");

    // Every conversation: the server's messages, the cursor at max, unread as the server says.
    let cursors = c.store.load_cursors().await.expect("cursors");
    for (k, (conv, _)) in convs.iter().enumerate() {
        let seqs = read_state.seqs[conv.as_str()];
        let max = seqs.max_seq as u64;
        let stored = c
            .store
            .messages(
                conv,
                Seq(1)..=Seq(u64::MAX / 2),
                100_000,
                Direction::Ascending,
            )
            .await
            .expect("messages");
        let stored_seqs: Vec<u64> = stored.iter().map(|m| m.seq.0).collect();
        assert_eq!(
            stored_seqs,
            (1..=max).collect::<Vec<u64>>(),
            "{conv:?}: stored seqs"
        );
        let server_side = server.messages(ME, conv, max).await;
        let theirs: Vec<(i64, String, String, String, Option<String>)> = server_side
            .iter()
            .map(|m| {
                (
                    m.seq,
                    m.server_msg_id.clone(),
                    m.client_msg_id.clone(),
                    m.send_id.clone(),
                    wire_text(m),
                )
            })
            .collect();
        let ours: Vec<(i64, String, String, String, Option<String>)> = stored
            .iter()
            .map(|m| {
                (
                    m.seq.0 as i64,
                    m.server_msg_id.clone(),
                    m.client_msg_id.clone(),
                    m.send_id.clone(),
                    text_of(m),
                )
            })
            .collect();
        assert_eq!(ours, theirs, "{conv:?}: stored = the server's");
        let texts: Vec<String> = stored.iter().filter_map(text_of).collect();
        let wanted: Vec<String> = (0..PER_CONVERSATION).map(|j| format!("m{k}-{j}")).collect();
        assert_eq!(texts, wanted, "{conv:?}: the 100 texts in order");

        let state = cursors
            .get(conv)
            .unwrap_or_else(|| panic!("{conv:?}: no cursor"));
        assert_eq!(state.cursor, Seq(max), "{conv:?}: cursor = max seq");

        let row = c
            .store
            .conversation(conv)
            .await
            .expect("conversation")
            .unwrap_or_else(|| panic!("{conv:?}: no conversation row"));
        assert_eq!(row.max_seq, Seq(max), "{conv:?}: max seq");
        assert_eq!(
            row.has_read_seq,
            Seq(seqs.has_read_seq as u64),
            "{conv:?}: has-read seq"
        );
        assert_eq!(
            row.unread_count(),
            (seqs.max_seq - seqs.has_read_seq) as u64,
            "{conv:?}: unread = max − hasRead"
        );
        if k % 2 == 0 {
            assert!(seqs.has_read_seq > 0, "{conv:?}: C's own message is read");
        }
    }
    c.stop().await.expect("driver stops cleanly");
}
