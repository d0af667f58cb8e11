//! Marking a conversation read from the core client: messages arrive in a group while two
//! sessions of user M are online (Web and Windows). The Web session marks the group read; its
//! unread count drops to 0 locally at once, the server's has-read seq of M becomes the max, and
//! the Windows session learns it from the read receipt (2200) the server sends to M's devices.
//! The server runs in-process on 127.0.0.1:0.

mod common;

use std::time::Duration;

use chorus_core::client::ClientEvent;
use chorus_core::entities::EntityEvent;
use chorus_core::model::ConversationId;
use chorus_core::{Seq, Store};
use chorus_e2e::native::NativeClient;
use chorus_proto::constants::PlatformId;
use chorus_proto::pb::msg::GetConversationsHasReadAndMaxSeqReq;
use chorus_server::msg;
use common::Server;

const ME: &str = "um";
const PEER: &str = "p1";
const MESSAGES: u64 = 6;
const WAIT: Duration = Duration::from_secs(30);

/// Waits until `c` announces a total unread count of `want`.
async fn wait_total(c: &mut NativeClient, want: u64) {
    c.wait_for(WAIT, |e| {
        matches!(
            e,
            ClientEvent::Entity(EntityEvent::OnTotalUnreadMessageCountChanged(n)) if *n == want
        )
    })
    .await
    .unwrap_or_else(|e| panic!("total unread {want}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marking_read_clears_unread_here_on_the_server_and_on_other_devices() {
    let server = Server::start(&[(ME, "Mia"), (PEER, "Pia")]).await;
    let gid = server.group(PEER, &[ME], &[], serde_json::json!({})).await;
    let group = ConversationId::group(&gid);

    let web_token = server.token_on(ME, 5).await;
    let mut web = NativeClient::start(server.addr, ME, &web_token);
    let pc_token = server.token_on(ME, 3).await;
    let mut pc = NativeClient::start_with(server.addr, ME, &pc_token, |config| {
        config.conn.platform = PlatformId::Windows;
        config.outbox.platform_id = PlatformId::Windows.as_i32();
    });
    for c in [&mut web, &mut pc] {
        c.wait_for(WAIT, |e| matches!(e, ClientEvent::OnSyncServerFinish))
            .await
            .expect("the connect round ends");
    }

    for j in 0..MESSAGES {
        server.send_group_text(PEER, &gid, &format!("m{j}")).await;
    }
    let max = server
        .newest_seq(ME, &group)
        .await
        .expect("the group's max seq");
    assert!(max >= MESSAGES, "max {max}");
    // Every message is unread on both devices (the group's tips before them were read on
    // creation or are not chat messages).
    for c in [&mut web, &mut pc] {
        c.wait_for(WAIT, |e| {
            matches!(
                e,
                ClientEvent::Entity(EntityEvent::OnConversationChanged(rows)
                    | EntityEvent::OnNewConversation(rows))
                    if rows.iter().any(|r| r.id == group && r.max_seq == Seq(max))
            ) || matches!(e, ClientEvent::OnRecvNewMessages { conversation_id, messages }
                if *conversation_id == group && messages.iter().any(|m| m.seq == Seq(max)))
        })
        .await
        .expect("the last message arrives");
    }
    let before = web
        .store
        .conversation(&group)
        .await
        .expect("conversation")
        .expect("the group row");
    assert!(before.unread_count() > 0, "{before:?}");

    // The Web session marks the group read: 0 unread locally.
    web.mark_conversation_read(group.clone());
    wait_total(&mut web, 0).await;
    let row = web
        .store
        .conversation(&group)
        .await
        .expect("conversation")
        .expect("the group row");
    assert_eq!(row.has_read_seq, Seq(max));
    assert_eq!(row.unread_count(), 0);

    // The server's has-read seq of M becomes the max.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let resp = msg::has_read_and_max_seq(
            &server.state,
            ME,
            GetConversationsHasReadAndMaxSeqReq {
                user_id: ME.to_owned(),
                conversation_i_ds: vec![group.as_str().to_owned()],
                return_pinned: false,
            },
        )
        .await
        .expect("1006");
        let seqs = resp.seqs.get(group.as_str()).copied().unwrap_or_default();
        if seqs.has_read_seq == max as i64 && seqs.max_seq == max as i64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server has-read seq: {seqs:?}, want {max}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The Windows session gets the read receipt: the group's unread drops to 0 there too.
    let (_, _) = pc
        .wait_for(WAIT, |e| {
            matches!(
                e,
                ClientEvent::Entity(EntityEvent::OnConversationChanged(rows))
                    if rows.iter().any(|r| r.id == group && r.has_read_seq == Seq(max))
            )
        })
        .await
        .expect("the other session learns the mark");
    let row = pc
        .store
        .conversation(&group)
        .await
        .expect("conversation")
        .expect("the group row");
    assert_eq!(row.unread_count(), 0, "{row:?}");

    web.stop().await.expect("web driver stops cleanly");
    pc.stop().await.expect("pc driver stops cleanly");
}
