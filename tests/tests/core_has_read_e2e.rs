//! Has-read seqs set on another device reach the core client: while user C's core client
//! (platform 5) is offline, messages arrive in a group and a single chat, and C reads part of
//! the group on another device (REST `/msg/mark_conversation_as_read` with a platform-1 token).
//! The read receipt itself is stored in C's `n_` conversation, which a fresh client does not
//! replay, so only the connect round's 1006 can tell the core client; when it connects, each
//! conversation's unread count must be the server's `max − hasRead`. The server runs in-process
//! on 127.0.0.1:0.

mod common;

use std::time::Duration;

use chorus_core::client::ClientEvent;
use chorus_core::entities::EntityEvent;
use chorus_core::model::ConversationId;
use chorus_core::{Seq, Store};
use chorus_e2e::native::NativeClient;
use chorus_proto::pb::msg::{GetConversationsHasReadAndMaxSeqReq, Seqs};
use chorus_proto::pb::sdkws::MsgData;
use chorus_server::msg;
use common::Server;
use serde_json::json;

const ME: &str = "uc";
const PEER: &str = "p1";
const GROUP_MESSAGES: usize = 12;
const SINGLE_MESSAGES: usize = 5;
/// Where C's other device marks the group read.
const READ_UP_TO: i64 = 8;
const WAIT: Duration = Duration::from_secs(30);

impl Server {
    /// A text from PEER stored and pushed through the server's send path.
    async fn send(&self, conv: &ConversationId, text: String) {
        let (recv_id, group_id, session_type) = match conv.group_id() {
            Some(gid) => (String::new(), gid.to_owned(), 3),
            None => (ME.to_owned(), String::new(), 1),
        };
        let data = MsgData {
            send_id: PEER.to_owned(),
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
        msg::send_as_admin(&self.state, PEER, 5, data)
            .await
            .unwrap_or_else(|e| panic!("send to {conv:?}: {e:?}"));
    }

    /// The server's `{maxSeq, hasReadSeq}` of C's conversation.
    async fn read_state(&self, conv: &ConversationId) -> Seqs {
        let resp = msg::has_read_and_max_seq(
            &self.state,
            ME,
            GetConversationsHasReadAndMaxSeqReq {
                user_id: ME.to_owned(),
                conversation_i_ds: vec![conv.as_str().to_owned()],
                return_pinned: false,
            },
        )
        .await
        .expect("1006");
        *resp
            .seqs
            .get(conv.as_str())
            .unwrap_or_else(|| panic!("server state of {conv:?}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_counts_follow_reads_made_on_another_device_while_offline() {
    let server = Server::start(&[]).await;
    server
        .ok(
            &server.admin,
            "/user/user_register",
            json!({"users": [
                {"userID": ME, "nickname": "Cat", "faceURL": ""},
                {"userID": PEER, "nickname": "Pia", "faceURL": ""},
            ]}),
        )
        .await;
    let data = server
        .ok(
            &server.admin,
            "/group/create_group",
            json!({"memberUserIDs": [ME], "adminUserIDs": [], "ownerUserID": PEER,
                "groupInfo": {"groupName": "reading", "groupType": 2}}),
        )
        .await;
    let group = ConversationId::group(data["groupInfo"]["groupID"].as_str().expect("groupID"));
    let single = ConversationId::single(ME, PEER);

    // C is offline; messages arrive in both conversations.
    for j in 0..GROUP_MESSAGES {
        server.send(&group, format!("g{j}")).await;
    }
    for j in 0..SINGLE_MESSAGES {
        server.send(&single, format!("s{j}")).await;
    }

    // C reads the group up to READ_UP_TO on another device.
    let web = server.token_on(ME, 1).await;
    server
        .ok(
            &web,
            "/msg/mark_conversation_as_read",
            json!({"conversationID": group.as_str(), "userID": ME,
                "hasReadSeq": READ_UP_TO, "seqs": []}),
        )
        .await;
    let group_seqs = server.read_state(&group).await;
    let single_seqs = server.read_state(&single).await;
    assert_eq!(group_seqs.has_read_seq, READ_UP_TO, "{group_seqs:?}");
    assert!(
        group_seqs.max_seq > group_seqs.has_read_seq,
        "part of the group stays unread: {group_seqs:?}"
    );
    assert_eq!(single_seqs.has_read_seq, 0, "{single_seqs:?}");
    let expected_total = (group_seqs.max_seq - group_seqs.has_read_seq + single_seqs.max_seq
        - single_seqs.has_read_seq) as u64;

    // C's core client connects: the round ends, and the group row gets the other device's mark.
    let token = server.token_on(ME, 5).await;
    let mut c = NativeClient::start(server.addr, ME, &token);
    let mut finished = None;
    let mut marked = false;
    let (_, events) = c
        .wait_for(WAIT, |e| {
            match e {
                ClientEvent::OnSyncServerFinish | ClientEvent::OnSyncServerFailed => {
                    finished = Some(e.clone())
                }
                ClientEvent::Entity(
                    EntityEvent::OnConversationChanged(rows) | EntityEvent::OnNewConversation(rows),
                ) => {
                    marked |= rows
                        .iter()
                        .any(|r| r.id == group && r.has_read_seq == Seq(READ_UP_TO as u64));
                }
                _ => {}
            }
            finished.is_some() && marked
        })
        .await
        .expect("the round ends and the group row learns the has-read seq");
    assert_eq!(
        finished,
        Some(ClientEvent::OnSyncServerFinish),
        "{events:#?}"
    );

    // The last total announced is the server's, once everything arrived.
    let mut total = events.iter().rev().find_map(|e| match e {
        ClientEvent::Entity(EntityEvent::OnTotalUnreadMessageCountChanged(n)) => Some(*n),
        _ => None,
    });
    while total != Some(expected_total) {
        let (event, _) = c
            .wait_for(WAIT, |e| {
                matches!(
                    e,
                    ClientEvent::Entity(EntityEvent::OnTotalUnreadMessageCountChanged(_))
                )
            })
            .await
            .unwrap_or_else(|e| panic!("total unread {expected_total}, last {total:?}: {e}"));
        if let ClientEvent::Entity(EntityEvent::OnTotalUnreadMessageCountChanged(n)) = event {
            total = Some(n);
        }
    }

    // The stored rows: unread = max − hasRead as the server says, cursors at the max.
    let cursors = c.store.load_cursors().await.expect("cursors");
    for (conv, seqs) in [(&group, group_seqs), (&single, single_seqs)] {
        let row = c
            .store
            .conversation(conv)
            .await
            .expect("conversation")
            .unwrap_or_else(|| panic!("{conv:?}: no conversation row"));
        assert_eq!(row.max_seq, Seq(seqs.max_seq as u64), "{conv:?}: max seq");
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
        assert_eq!(
            cursors.get(conv).map(|s| s.cursor),
            Some(Seq(seqs.max_seq as u64)),
            "{conv:?}: cursor"
        );
    }
    c.stop().await.expect("driver stops cleanly");
}
