//! The seven seed features observed through the core client against the real chorus-server:
//! each test drives the server over REST (as the app administrator or as the acting user) and
//! asserts on the events core raised and on what the client persisted in its `MemoryStore`.
//! The server runs in-process on 127.0.0.1:0; waits are bounded and event-driven.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chorus_core::client::{ClientConfig, ClientEvent};
use chorus_core::conn::SeededEntropy;
use chorus_core::driver::{self, Clock, Command, DriverError};
use chorus_core::entities::EntityEvent;
use chorus_core::model::{ConversationId, Message, MessageStatus};
use chorus_core::{Direction, MemoryStore, Seq, Store};
use chorus_e2e::native::{NativeClient, TokioClock, TokioHttp, TokioTransport};
use chorus_proto::constants::{AllowType, JoinSource, PlatformId};
use common::{Server, ADMIN};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

impl Server {
    async fn token(&self, user_id: &str, platform: PlatformId) -> String {
        self.token_on(user_id, platform.as_i32()).await
    }

    /// The server's max seq of a user's conversation, 0 when it has none.
    async fn max_seq(&self, user_id: &str, conv: &ConversationId) -> u64 {
        self.newest_seq(user_id, conv).await.unwrap_or(0)
    }

    /// A text from `sender` to the group (administrator's REST send); returns its seq.
    async fn send_text(&self, sender: &str, group_id: &str, text: &str) -> u64 {
        self.send_group_text(sender, group_id, text).await;
        self.max_seq(sender, &ConversationId::group(group_id)).await
    }
}

/// Waits until the first connect sync round of a client finished.
async fn await_first_round(client: &mut NativeClient) {
    client
        .wait_for(WAIT, |e| matches!(e, ClientEvent::OnConnectSuccess))
        .await
        .expect("connected");
    let (event, _) = client
        .wait_for(WAIT, |e| {
            matches!(
                e,
                ClientEvent::OnSyncServerFinish | ClientEvent::OnSyncServerFailed
            )
        })
        .await
        .expect("first sync round");
    assert_eq!(event, ClientEvent::OnSyncServerFinish, "first round");
}

/// Starts a Web client and waits until its first connect sync round finished.
async fn online(server: &Server, user_id: &str) -> NativeClient {
    let token = server.token(user_id, PlatformId::Web).await;
    online_with(server, user_id, &token).await
}

/// Like [`online`] with a given Web token (a new token of the same platform replaces the old).
async fn online_with(server: &Server, user_id: &str, token: &str) -> NativeClient {
    let mut client = NativeClient::start(server.addr, user_id, token);
    await_first_round(&mut client).await;
    client
}

/// A second session of a user on another platform: core's driver on a tokio task with its own
/// store, like [`NativeClient`] but with the platform chosen.
struct Session {
    store: Arc<MemoryStore>,
    events: tokio::sync::mpsc::UnboundedReceiver<ClientEvent>,
    commands: chorus_core::chan::Sender<Command>,
    task: tokio::task::JoinHandle<Result<(), DriverError>>,
}

impl Session {
    async fn start(server: &Server, user_id: &str, platform: PlatformId) -> Session {
        let token = server.token(user_id, platform).await;
        let mut config =
            ClientConfig::new(format!("ws://{}/msg_gateway", server.addr), user_id, token);
        config.conn.platform = platform;
        let store = Arc::new(MemoryStore::new());
        let (commands, command_rx) = chorus_core::chan::unbounded();
        let (event_tx, events) = tokio::sync::mpsc::unbounded_channel();
        let seed = TokioClock.now().as_millis().rotate_left(7);
        let task_store = Arc::clone(&store);
        let addr = server.addr;
        let task = tokio::spawn(async move {
            let store = &*task_store;
            let mut client = driver::load_client(
                store,
                config,
                Box::new(SeededEntropy::new(seed)),
                Box::new(SeededEntropy::new(seed ^ 0x5eed)),
                Box::new(SeededEntropy::new(seed.rotate_left(29))),
            )
            .await?;
            driver::run(
                &mut client,
                store,
                &TokioTransport,
                &TokioHttp::new(addr),
                &TokioClock,
                command_rx,
                move |event| {
                    let _ = event_tx.send(event);
                },
            )
            .await
        });
        let _ = commands.send(Command::Connect);
        let mut session = Session {
            store,
            events,
            commands,
            task,
        };
        let (event, _) = session
            .wait_for("first round", |e| {
                matches!(
                    e,
                    ClientEvent::OnSyncServerFinish | ClientEvent::OnSyncServerFailed
                )
            })
            .await;
        assert_eq!(event, ClientEvent::OnSyncServerFinish, "first round");
        session
    }

    async fn wait_for(
        &mut self,
        what: &str,
        mut want: impl FnMut(&ClientEvent) -> bool,
    ) -> (ClientEvent, Vec<ClientEvent>) {
        let mut before = Vec::new();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Err(_) => panic!("second session: no {what}; saw {before:#?}"),
                Ok(None) => panic!("second session: the driver stopped waiting for {what}"),
                Ok(Some(event)) if want(&event) => return (event, before),
                Ok(Some(event)) => before.push(event),
            }
        }
    }

    async fn stop(self) {
        let _ = self.commands.send(Command::Stop);
        self.task
            .await
            .expect("driver task")
            .expect("driver stops cleanly");
    }
}

/// Every stored message of a conversation, ascending.
async fn stored(store: &MemoryStore, conv: &ConversationId) -> Vec<Message> {
    store
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
async fn cursor(store: &MemoryStore, conv: &ConversationId) -> Seq {
    let cursors = store.load_cursors().await.expect("cursors");
    cursors.get(conv).map_or(Seq::ZERO, |s| s.cursor)
}

fn text_of(m: &Message) -> Option<String> {
    m.content.text().map(str::to_owned)
}

/// Waits until the client stored the message with `seq` in `conv` (reported through
/// OnRecvNewMessages), or finds it stored already.
async fn wait_seq(client: &mut NativeClient, conv: &ConversationId, seq: u64) {
    if stored(&client.store, conv)
        .await
        .iter()
        .any(|m| m.seq.0 == seq)
    {
        return;
    }
    client
        .wait_for(WAIT, |e| {
            matches!(e, ClientEvent::OnRecvNewMessages { conversation_id, messages }
                if conversation_id == conv && messages.iter().any(|m| m.seq.0 == seq))
        })
        .await
        .unwrap_or_else(|e| panic!("seq {seq} of {conv:?}: {e}"));
}

// ---- (1) announcement with editor and time ------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature1_announcement_reaches_the_member_with_editor_and_time() {
    let server = Server::start(&[("uo", "Olga"), ("ua", "Ann"), ("um", "Max")]).await;
    let gid = server.group("uo", &["ua", "um"], &["ua"], json!({})).await;
    let mut m = online(&server, "um").await;
    let before = chorus_server::now_ms();

    let admin_token = server.token("ua", PlatformId::Web).await;
    server
        .ok(
            &admin_token,
            "/group/set_group_info_ex",
            json!({"groupID": gid, "notification": "Standup moves to 10:00"}),
        )
        .await;

    let (event, _) = m
        .wait_for(WAIT, |e| {
            matches!(e, ClientEvent::Entity(EntityEvent::OnGroupInfoChanged(g))
                if g.group_id == gid && g.announcement.text == "Standup moves to 10:00")
        })
        .await
        .expect("the member sees the announcement");
    let ClientEvent::Entity(EntityEvent::OnGroupInfoChanged(group)) = event else {
        unreachable!()
    };
    assert_eq!(group.announcement.editor_user_id, "ua");
    assert!(group.announcement.updated_at >= before, "{group:?}");

    let stored_group = m
        .store
        .group(&gid)
        .await
        .expect("group")
        .expect("the group is stored");
    assert_eq!(stored_group.announcement.text, "Standup moves to 10:00");
    assert_eq!(stored_group.announcement.editor_user_id, "ua");
    assert!(stored_group.announcement.updated_at > 0);
    assert!(
        stored_group.announcement.updated_at >= before
            && stored_group.announcement.updated_at <= chorus_server::now_ms(),
        "{stored_group:?}"
    );
    m.stop().await.expect("driver stops cleanly");
}

// ---- (2) how members joined -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature2_member_list_shows_join_source_and_inviter() {
    let server = Server::start(&[
        ("uo", "Olga"),
        ("ub", "Bob"),
        ("ui", "Ivy"),
        ("us", "Sam"),
        ("uq", "Quinn"),
    ])
    .await;
    // Anyone may join directly (needVerification 2), so search and QR-code joins need no approval.
    let gid = server
        .group("uo", &["ub"], &[], json!({"needVerification": 2}))
        .await;
    let mut b = online(&server, "ub").await;

    let owner = server.token("uo", PlatformId::Web).await;
    server
        .ok(
            &owner,
            "/group/invite_user_to_group",
            json!({"groupID": gid, "reason": "", "invitedUserIDs": ["ui"]}),
        )
        .await;
    for (user, source) in [("us", 3), ("uq", 4)] {
        let token = server.token(user, PlatformId::Web).await;
        server
            .ok(
                &token,
                "/group/join_group",
                json!({"groupID": gid, "reqMessage": "", "joinSource": source,
                    "inviterUserID": user, "ex": ""}),
            )
            .await;
    }

    let mut added = Vec::new();
    while added.len() < 3 {
        let (event, _) = b
            .wait_for(WAIT, |e| {
                matches!(e, ClientEvent::Entity(EntityEvent::OnGroupMemberAdded(m))
                    if m.group_id == gid && ["ui", "us", "uq"].contains(&m.user_id.as_str()))
            })
            .await
            .unwrap_or_else(|e| panic!("members added so far {added:?}: {e}"));
        if let ClientEvent::Entity(EntityEvent::OnGroupMemberAdded(m)) = event {
            if !added.contains(&m.user_id) {
                added.push(m.user_id);
            }
        }
    }

    let members = b.store.members(&gid).await.expect("members");
    let row = |user: &str| {
        members
            .iter()
            .find(|m| m.user_id == user)
            .unwrap_or_else(|| panic!("{user} in {members:#?}"))
            .clone()
    };
    let invited = row("ui");
    assert_eq!(invited.joined_by(), Some(JoinSource::ByInvitation));
    assert_eq!(invited.inviter_user_id, "uo");
    let searched = row("us");
    assert_eq!(searched.joined_by(), Some(JoinSource::BySearch));
    assert_eq!(searched.inviter_user_id, "");
    let scanned = row("uq");
    assert_eq!(scanned.joined_by(), Some(JoinSource::ByQrCode));
    assert_eq!(scanned.inviter_user_id, "");
    // B was added when the administrator created the group.
    let own = row("ub");
    assert_eq!(own.joined_by(), Some(JoinSource::ByInvitation));
    assert_eq!(own.inviter_user_id, ADMIN);
    assert_eq!(members.len(), 5, "{members:#?}");
    b.stop().await.expect("driver stops cleanly");
}

// ---- (3) permission flags -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature3_permission_flags_reach_the_member_and_the_server_enforces_them() {
    let server = Server::start(&[("uo", "Olga"), ("ub", "Bob"), ("uc", "Cat")]).await;
    let gid = server.group("uo", &["ub", "uc"], &[], json!({})).await;
    let mut b = online(&server, "ub").await;
    let group = b.store.group(&gid).await.expect("group").expect("stored");
    assert_eq!(group.look_member_info, AllowType::Allowed);
    assert_eq!(group.apply_member_friend, AllowType::Allowed);

    let owner = server.token("uo", PlatformId::Web).await;
    server
        .ok(
            &owner,
            "/group/set_group_info_ex",
            json!({"groupID": gid, "lookMemberInfo": 1, "applyMemberFriend": 1}),
        )
        .await;
    b.wait_for(WAIT, |e| {
        matches!(e, ClientEvent::Entity(EntityEvent::OnGroupInfoChanged(g))
            if g.group_id == gid
                && g.look_member_info == AllowType::NotAllowed
                && g.apply_member_friend == AllowType::NotAllowed)
    })
    .await
    .expect("B sees both flags");
    let group = b.store.group(&gid).await.expect("group").expect("stored");
    assert_eq!(group.look_member_info, AllowType::NotAllowed);
    assert_eq!(group.apply_member_friend, AllowType::NotAllowed);

    // An ordinary member may not ask another member for friendship any more.
    let b_token = server.token("ub", PlatformId::Web).await;
    let resp = server
        .call(
            &b_token,
            "/friend/add_friend",
            json!({"fromUserID": "ub", "toUserID": "uc", "reqMsg": "hi", "ex": ""}),
        )
        .await;
    assert_eq!(resp["errCode"], 1002, "{resp}");
    b.stop().await.expect("driver stops cleanly");
}

// ---- (4) renames ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature4_rename_updates_member_row_and_sender_names_live() {
    let server = Server::start(&[("ua", "Alice"), ("ub", "Bob")]).await;
    let gid = server.group("ua", &["ub"], &[], json!({})).await;
    let conv = ConversationId::group(&gid);
    let mut b = online(&server, "ub").await;
    let mut last = 0;
    for i in 1..=3 {
        last = server.send_text("ua", &gid, &format!("a{i}")).await;
    }
    let own = server.send_text("ub", &gid, "b1").await;
    wait_seq(&mut b, &conv, own.max(last)).await;
    let before: Vec<String> = stored(&b.store, &conv)
        .await
        .iter()
        .filter(|m| m.send_id == "ua" && m.content_type == 101)
        .map(|m| m.sender_nickname.clone())
        .collect();
    assert_eq!(before, vec!["Alice".to_owned(); 3]);

    let a_token = server.token("ua", PlatformId::Web).await;
    server
        .ok(
            &a_token,
            "/user/update_user_info_ex",
            json!({"userInfo": {"userID": "ua", "nickname": "Alicia"}}),
        )
        .await;
    b.wait_for(WAIT, |e| {
        matches!(e, ClientEvent::Entity(EntityEvent::OnGroupMemberInfoChanged(m))
            if m.group_id == gid && m.user_id == "ua" && m.nickname == "Alicia")
    })
    .await
    .expect("B sees the rename without reconnecting");

    let members = b.store.members(&gid).await.expect("members");
    let a_row = members
        .iter()
        .find(|m| m.user_id == "ua")
        .expect("A's member row");
    assert_eq!(a_row.nickname, "Alicia");
    let messages = stored(&b.store, &conv).await;
    let a_names: Vec<&str> = messages
        .iter()
        .filter(|m| m.send_id == "ua" && m.content_type == 101)
        .map(|m| m.sender_nickname.as_str())
        .collect();
    assert_eq!(a_names, vec!["Alicia"; 3]);
    // Only A's messages change.
    let b_names: Vec<&str> = messages
        .iter()
        .filter(|m| m.send_id == "ub" && m.content_type == 101)
        .map(|m| m.sender_nickname.as_str())
        .collect();
    assert_eq!(b_names, vec!["Bob"]);
    b.stop().await.expect("driver stops cleanly");
}

// ---- (5) remark deletion across devices -----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature5_remark_deletion_reaches_the_second_session() {
    let server = Server::start(&[("ua", "Alice"), ("ub", "Bob")]).await;
    server
        .admin(
            "/friend/import_friend",
            json!({"ownerUserID": "ua", "friendUserIDs": ["ub"]}),
        )
        .await;
    let a_token = server.token("ua", PlatformId::Web).await;
    server
        .ok(
            &a_token,
            "/friend/update_friends",
            json!({"ownerUserID": "ua", "friendUserIDs": ["ub"], "remark": "Bobby"}),
        )
        .await;

    let mut web = online_with(&server, "ua", &a_token).await;
    let mut phone = Session::start(&server, "ua", PlatformId::Ios).await;
    // Both sessions hold the remark after their first sync (the friend list may still be
    // arriving when the message round ends).
    for store in [&web.store, &phone.store] {
        let friends = store.friends().await.expect("friends");
        if let Some(f) = friends.iter().find(|f| f.user_id() == "ub") {
            assert_eq!(f.remark, "Bobby");
        }
    }
    let has_bobby = |e: &ClientEvent| {
        matches!(e, ClientEvent::Entity(EntityEvent::OnFriendAdded(f) | EntityEvent::OnFriendInfoChanged(f))
            if f.user_id() == "ub" && f.remark == "Bobby")
    };
    if !phone
        .store
        .friends()
        .await
        .expect("friends")
        .iter()
        .any(|f| f.user_id() == "ub")
    {
        phone
            .wait_for("the friend with the remark", has_bobby)
            .await;
    }
    let friend = phone
        .store
        .friends()
        .await
        .expect("friends")
        .into_iter()
        .find(|f| f.user_id() == "ub")
        .expect("B is A's friend on the phone");
    assert_eq!(friend.display_name(), "Bobby");

    server
        .ok(
            &a_token,
            "/friend/update_friends",
            json!({"ownerUserID": "ua", "friendUserIDs": ["ub"], "remark": ""}),
        )
        .await;
    let (event, _) = phone
        .wait_for("the remark deletion", |e| {
            matches!(e, ClientEvent::Entity(EntityEvent::OnFriendInfoChanged(f))
                if f.user_id() == "ub" && f.remark.is_empty())
        })
        .await;
    let ClientEvent::Entity(EntityEvent::OnFriendInfoChanged(changed)) = event else {
        unreachable!()
    };
    assert_eq!(changed.display_name(), "Bob");
    let friend = phone
        .store
        .friends()
        .await
        .expect("friends")
        .into_iter()
        .find(|f| f.user_id() == "ub")
        .expect("still a friend");
    assert_eq!(friend.remark, "");
    assert_eq!(friend.display_name(), "Bob", "the nickname shows again");

    // The session that made the change follows as well.
    web.wait_for(WAIT, |e| {
        matches!(e, ClientEvent::Entity(EntityEvent::OnFriendInfoChanged(f))
            if f.user_id() == "ub" && f.remark.is_empty())
    })
    .await
    .expect("the Web session sees the deletion");
    let friend = web
        .store
        .friends()
        .await
        .expect("friends")
        .into_iter()
        .find(|f| f.user_id() == "ub")
        .expect("still a friend");
    assert_eq!(friend.display_name(), "Bob");
    phone.stop().await;
    web.stop().await.expect("driver stops cleanly");
}

// ---- (6) read diffusion and the history switch ----------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature6_entrants_sync_the_history_unless_the_switch_is_off() {
    const N: usize = 12;
    let server =
        Server::start(&[("uo", "Olga"), ("ub", "Bob"), ("uc", "Cat"), ("ud", "Dan")]).await;
    let owner = server.token("uo", PlatformId::Web).await;

    // History on (the default): C, invited after N messages, syncs every one of them.
    let open = server.group("uo", &["ub"], &[], json!({})).await;
    let open_conv = ConversationId::group(&open);
    let mut texts = Vec::new();
    for i in 0..N {
        let text = format!("open {i}");
        server
            .send_text(if i % 2 == 0 { "uo" } else { "ub" }, &open, &text)
            .await;
        texts.push(text);
    }
    server
        .ok(
            &owner,
            "/group/invite_user_to_group",
            json!({"groupID": open, "reason": "", "invitedUserIDs": ["uc"]}),
        )
        .await;
    let c = online(&server, "uc").await;
    let messages = stored(&c.store, &open_conv).await;
    let top = server.max_seq("uc", &open_conv).await;
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq.0).collect();
    assert_eq!(seqs, (1..=top).collect::<Vec<u64>>(), "every seq is stored");
    assert_eq!(
        cursor(&c.store, &open_conv).await.0,
        top,
        "cursor = max seq"
    );
    let got: Vec<String> = messages.iter().filter_map(text_of).collect();
    assert_eq!(got, texts, "C synced all {N} texts");

    // History off: D, invited after N messages, gets none of them.
    let closed = server.group("uo", &["ub"], &[], json!({})).await;
    let closed_conv = ConversationId::group(&closed);
    server
        .ok(
            &owner,
            "/group/set_group_info_ex",
            json!({"groupID": closed, "enableHistoryForNewMembers": false}),
        )
        .await;
    for i in 0..N {
        server
            .send_text("ub", &closed, &format!("closed {i}"))
            .await;
    }
    let before_entry = server.max_seq("ub", &closed_conv).await;
    server
        .ok(
            &owner,
            "/group/invite_user_to_group",
            json!({"groupID": closed, "reason": "", "invitedUserIDs": ["ud"]}),
        )
        .await;
    let mut d = online(&server, "ud").await;
    let after = server.send_text("ub", &closed, "welcome").await;
    wait_seq(&mut d, &closed_conv, after).await;
    let messages = stored(&d.store, &closed_conv).await;
    assert!(
        messages.iter().all(|m| m.seq.0 > before_entry),
        "nothing from before the entry (max {before_entry}): {:?}",
        messages.iter().map(|m| m.seq.0).collect::<Vec<_>>()
    );
    let got: Vec<String> = messages.iter().filter_map(text_of).collect();
    assert_eq!(got, vec!["welcome".to_owned()]);
    assert_eq!(
        messages.last().map(|m| m.seq.0),
        Some(server.max_seq("ud", &closed_conv).await),
        "D holds the newest seq"
    );
    // The cursor reached the max: the seqs before the entry count as outside D's window, not as
    // a gap to repair.
    let top = server.max_seq("ud", &closed_conv).await;
    let d_state = d
        .store
        .load_cursors()
        .await
        .expect("cursors")
        .get(&closed_conv)
        .cloned()
        .expect("D's sync state");
    assert_eq!(d_state.cursor.0, top, "cursor = max seq: {d_state:?}");
    assert!(d_state.floor.0 > before_entry, "{d_state:?}");
    c.stop().await.expect("driver stops cleanly");
    d.stop().await.expect("driver stops cleanly");
}

// ---- (7) revocation by the owner -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature7_owner_revokes_a_members_message_new_and_old() {
    let server = Server::start(&[("uo", "Olga"), ("ub", "Bob")]).await;
    let gid = server.group("uo", &["ub"], &[], json!({})).await;
    let conv = ConversationId::group(&gid);
    let mut o = online(&server, "uo").await;
    let mut b = online(&server, "ub").await;
    let old = server.send_text("ub", &gid, "old one").await;
    let mut newest = old;
    for i in 0..5 {
        newest = server.send_text("ub", &gid, &format!("later {i}")).await;
    }
    for client in [&mut o, &mut b] {
        wait_seq(client, &conv, newest).await;
    }
    let owner = server.token("uo", PlatformId::Web).await;

    for seq in [newest, old] {
        server
            .ok(
                &owner,
                "/msg/revoke_msg",
                json!({"conversationID": conv.as_str(), "seq": seq, "userID": "uo"}),
            )
            .await;
        for client in [&mut o, &mut b] {
            let (event, _) = client
                .wait_for(WAIT, |e| {
                    matches!(e, ClientEvent::Entity(EntityEvent::OnNewRecvMessageRevoked(r))
                        if r.conversation_id == conv && r.seq.0 == seq)
                })
                .await
                .unwrap_or_else(|e| panic!("revocation of seq {seq}: {e}"));
            let ClientEvent::Entity(EntityEvent::OnNewRecvMessageRevoked(info)) = event else {
                unreachable!()
            };
            assert_eq!(info.revoker_user_id, "uo");
            assert_eq!(info.revoker_role, 100);
            assert!(info.revoke_time > 0);
            let message = stored(&client.store, &conv)
                .await
                .into_iter()
                .find(|m| m.seq.0 == seq)
                .expect("the message is still stored");
            match &message.status {
                MessageStatus::Revoked { by, role, time, .. } => {
                    assert_eq!(by, "uo", "{}", client.user_id);
                    assert_eq!(*role, 100);
                    assert!(*time > 0);
                }
                other => panic!("{}: seq {seq} is {other:?}", client.user_id),
            }
            assert_eq!(message.send_id, "ub", "the sender stays the member");
        }
    }
    // The messages in between are untouched.
    let untouched = stored(&b.store, &conv)
        .await
        .into_iter()
        .filter(|m| m.seq.0 > old && m.seq.0 < newest)
        .filter(|m| m.status == MessageStatus::Sent)
        .count();
    assert_eq!(untouched, 4);
    o.stop().await.expect("driver stops cleanly");
    b.stop().await.expect("driver stops cleanly");
}
