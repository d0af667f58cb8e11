//! The SDK in headless Chromium against a real chorus-server (`cargo xtask test`, layer "browser
//! tests", starts one and passes its address and admin secret at compile time as
//! `CHORUS_TEST_API`, `CHORUS_TEST_SECRET` and `CHORUS_TEST_ADMIN`).
//!
//! Every test registers its own users (ids with a random suffix), so tests neither share state
//! nor depend on their order, and a rerun against the same server starts clean. Waits poll what
//! the SDK stored (IndexedDB) with a bound, so a missing update fails the test instead of hanging.

use std::cell::RefCell;
use std::rc::Rc;

use chorus_core::driver::Http;
use chorus_core::model::{ConversationId, Message, MessageStatus};
use chorus_core::outbox::Recipient;
use chorus_sdk_wasm::net::{drop_open_sockets, sleep_ms, FetchHttp};
use chorus_sdk_wasm::{GroupUpdate, LoginParams, Sdk, SdkEvent};
use serde_json::{json, Value};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const WEB: i32 = 5;
const WINDOWS: i32 = 3;

/// A compile-time setting from `cargo xtask test`.
fn setting(name: &str, value: Option<&'static str>) -> &'static str {
    value.unwrap_or_else(|| {
        panic!("{name} is not set: run these tests through `cargo xtask test`, which starts the server")
    })
}

fn api() -> &'static str {
    setting("CHORUS_TEST_API", option_env!("CHORUS_TEST_API"))
}

fn ws() -> String {
    format!("{}/msg_gateway", api().replacen("http://", "ws://", 1))
}

/// A short random id suffix.
fn suffix() -> String {
    format!(
        "{:08x}",
        (js_sys::Math::random() * f64::from(u32::MAX)) as u32
    )
}

/// REST calls as the server's administrator.
struct Admin {
    http: FetchHttp,
    token: String,
}

impl Admin {
    async fn new() -> Admin {
        let http = FetchHttp::new(api());
        let secret = setting("CHORUS_TEST_SECRET", option_env!("CHORUS_TEST_SECRET"));
        let admin = setting("CHORUS_TEST_ADMIN", option_env!("CHORUS_TEST_ADMIN"));
        let body = json!({ "secret": secret, "userID": admin }).to_string();
        let text = http
            .post(
                "/auth/get_admin_token".into(),
                vec![("operationID".into(), "t".into())],
                body,
            )
            .await
            .expect("admin token");
        let resp: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(resp["errCode"], 0, "admin token: {resp}");
        Admin {
            http,
            token: resp["data"]["token"].as_str().unwrap().to_owned(),
        }
    }

    async fn call(&self, path: &str, body: Value) -> Value {
        let headers = vec![
            ("operationID".to_owned(), format!("t-{}", suffix())),
            ("token".to_owned(), self.token.clone()),
        ];
        let text = self
            .http
            .post(path.to_owned(), headers, body.to_string())
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let resp: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(resp["errCode"], 0, "{path}: {resp}");
        resp["data"].clone()
    }

    /// Registers users `(prefix, nickname)` with a shared random suffix; returns their ids.
    async fn users(&self, names: &[(&str, &str)]) -> Vec<String> {
        let tag = suffix();
        let users: Vec<Value> = names
            .iter()
            .map(|(id, nick)| json!({"userID": format!("{id}-{tag}"), "nickname": nick, "faceURL": ""}))
            .collect();
        self.call("/user/user_register", json!({ "users": users }))
            .await;
        names.iter().map(|(id, _)| format!("{id}-{tag}")).collect()
    }

    async fn token(&self, user_id: &str, platform_id: i32) -> String {
        let data = self
            .call(
                "/auth/get_user_token",
                json!({"platformID": platform_id, "userID": user_id}),
            )
            .await;
        data["token"].as_str().unwrap().to_owned()
    }

    async fn group(&self, owner: &str, members: &[&String]) -> String {
        let data = self
            .call(
                "/group/create_group",
                json!({"memberUserIDs": members, "adminUserIDs": [], "ownerUserID": owner,
                    "groupInfo": {"groupName": "team", "groupType": 2, "needVerification": 2}}),
            )
            .await;
        data["groupInfo"]["groupID"].as_str().unwrap().to_owned()
    }

    async fn send_group_text(&self, sender: &str, group_id: &str, text: &str) {
        self.call(
            "/msg/send_msg",
            json!({"sendID": sender, "recvID": "", "groupID": group_id,
                "senderNickname": "", "senderFaceURL": "", "senderPlatformID": WEB,
                "content": {"content": text}, "contentType": 101, "sessionType": 3,
                "isOnlineOnly": false, "notOfflinePush": false, "sendTime": 0,
                "offlinePushInfo": null, "ex": ""}),
        )
        .await;
    }
}

/// A logged-in SDK and the events it raised.
struct Session {
    sdk: Sdk,
    events: Rc<RefCell<Vec<SdkEvent>>>,
}

impl Session {
    async fn login(admin: &Admin, user_id: &str) -> Session {
        Session::login_as(admin, Sdk::new(), user_id, WEB).await
    }

    async fn login_as(admin: &Admin, sdk: Sdk, user_id: &str, platform_id: i32) -> Session {
        let events: Rc<RefCell<Vec<SdkEvent>>> = Rc::default();
        let sink = Rc::clone(&events);
        sdk.on(move |e| sink.borrow_mut().push(e.clone()));
        let token = admin.token(user_id, platform_id).await;
        sdk.login(LoginParams {
            user_id: user_id.to_owned(),
            token,
            api_addr: api().to_owned(),
            ws_addr: ws(),
            platform_id,
        })
        .await
        .expect("login");
        let session = Session { sdk, events };
        let finished = Rc::clone(&session.events);
        session
            .until("the initial sync finished", move |_| {
                let done = finished
                    .borrow()
                    .iter()
                    .any(|e| matches!(e, SdkEvent::SyncServerFinish));
                async move { done }
            })
            .await;
        session
    }

    /// Polls `check` every 50 ms for up to 20 s.
    async fn until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn(Sdk) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..400 {
            if check(self.sdk.clone()).await {
                return;
            }
            sleep_ms(50).await;
        }
        panic!(
            "timed out waiting until {what}; events: {:#?}",
            self.events.borrow()
        );
    }

    async fn all_messages(&self, conversation: &ConversationId, page: usize) -> Vec<Message> {
        all_messages(&self.sdk, conversation, page).await
    }

    async fn texts(&self, conversation: &ConversationId) -> Vec<String> {
        texts(&self.sdk, conversation).await
    }

    fn saw(&self, matches: impl Fn(&SdkEvent) -> bool) -> bool {
        self.events.borrow().iter().any(matches)
    }

    async fn end(self) {
        self.sdk.logout().await.expect("logout");
    }
}

/// Every stored message of a conversation, oldest first, paging `page` at a time.
async fn all_messages(sdk: &Sdk, conversation: &ConversationId, page: usize) -> Vec<Message> {
    {
        let mut all: Vec<Message> = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let got = sdk
                .history(conversation, start.as_deref(), page)
                .await
                .expect("history");
            let mut batch = got.messages;
            batch.extend(all);
            all = batch;
            if got.is_end || all.is_empty() {
                return all;
            }
            start = Some(all[0].client_msg_id.clone());
        }
    }
}

async fn texts(sdk: &Sdk, conversation: &ConversationId) -> Vec<String> {
    all_messages(sdk, conversation, 50)
        .await
        .iter()
        .filter_map(|m| m.content.text().map(str::to_owned))
        .collect()
}

fn group_conversation(group_id: &str) -> ConversationId {
    ConversationId::parse(format!("sg_{group_id}")).unwrap()
}

#[wasm_bindgen_test]
async fn login_then_send_and_receive_in_a_group() {
    let admin = Admin::new().await;
    let ids = admin.users(&[("alice", "Alice"), ("bob", "Bob")]).await;
    let group = admin.group(&ids[0], &[&ids[1]]).await;
    let conv = group_conversation(&group);
    let alice = Session::login(&admin, &ids[0]).await;
    let bob = Session::login(&admin, &ids[1]).await;
    assert_eq!(alice.sdk.user_id().as_deref(), Some(ids[0].as_str()));

    let sent = alice
        .sdk
        .send_text(Recipient::Group(group.clone()), "hello from the browser")
        .await
        .expect("send");
    assert!(sent.seq.0 > 0, "the sent message has its seq: {sent:?}");
    assert_eq!(sent.status, MessageStatus::Sent);

    bob.until("bob stored alice's message", |s| {
        let conv = conv.clone();
        let id = sent.client_msg_id.clone();
        async move {
            all_messages(&s, &conv, 20).await.iter().any(|m| {
                m.client_msg_id == id && m.content.text() == Some("hello from the browser")
            })
        }
    })
    .await;
    let stored = bob.all_messages(&conv, 20).await;
    let received = stored
        .iter()
        .find(|m| m.client_msg_id == sent.client_msg_id)
        .unwrap();
    assert_eq!(received.seq, sent.seq, "one seq for both members");
    assert_eq!(received.send_id, ids[0]);
    assert!(bob.saw(|e| matches!(e, SdkEvent::RecvNewMessages(m)
        if m.iter().any(|m| m.client_msg_id == sent.client_msg_id))));
    let conversations = bob.sdk.conversations().await.unwrap();
    assert!(conversations.iter().any(|c| c.id == conv));
    alice.end().await;
    bob.end().await;
}

#[wasm_bindgen_test]
async fn a_late_joiner_syncs_the_whole_history() {
    let admin = Admin::new().await;
    let ids = admin
        .users(&[("owner", "Owner"), ("member", "Member"), ("late", "Late")])
        .await;
    let group = admin.group(&ids[0], &[&ids[1]]).await;
    let conv = group_conversation(&group);
    let written: Vec<String> = (1..=45).map(|i| format!("history {i}")).collect();
    for text in &written {
        admin.send_group_text(&ids[1], &group, text).await;
    }
    let owner = Session::login(&admin, &ids[0]).await;
    owner
        .sdk
        .invite(&group, std::slice::from_ref(&ids[2]), "welcome")
        .await
        .expect("invite");
    let late = Session::login(&admin, &ids[2]).await;
    late.until("the late joiner sees the group", |s| async move {
        s.joined_groups().await.unwrap().len() == 1
    })
    .await;
    // Pages of 10 make the SDK pull most of the history on demand.
    let messages = late.all_messages(&conv, 10).await;
    let texts: Vec<String> = messages
        .iter()
        .filter_map(|m| m.content.text().map(str::to_owned))
        .collect();
    assert_eq!(texts, written, "every message from before the invitation");
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq.0).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "ascending seqs: {seqs:?}"
    );
    owner.end().await;
    late.end().await;
}

#[wasm_bindgen_test]
async fn messages_missed_while_the_connection_was_down_are_pulled() {
    let admin = Admin::new().await;
    let ids = admin
        .users(&[("reader", "Reader"), ("writer", "Writer")])
        .await;
    let group = admin.group(&ids[0], &[&ids[1]]).await;
    let conv = group_conversation(&group);
    admin.send_group_text(&ids[1], &group, "before").await;
    let reader = Session::login(&admin, &ids[0]).await;
    reader
        .until("the first message is stored", |s| {
            let conv = conv.clone();
            async move { texts(&s, &conv).await == ["before"] }
        })
        .await;
    let connected_before = reader
        .events
        .borrow()
        .iter()
        .filter(|e| matches!(e, SdkEvent::ConnectSuccess))
        .count();
    assert!(drop_open_sockets() >= 1, "the session had an open socket");
    for i in 1..=6 {
        admin
            .send_group_text(&ids[1], &group, &format!("while down {i}"))
            .await;
    }
    reader
        .until("the missed messages are stored", |s| {
            let conv = conv.clone();
            async move { texts(&s, &conv).await.len() == 7 }
        })
        .await;
    // The group's creation tip holds a seq too: check the whole run, tips included.
    let messages = reader.all_messages(&conv, 50).await;
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq.0).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<u64>>(),
        "contiguous seqs from 1, no hole and no duplicate"
    );
    assert_eq!(
        reader.texts(&conv).await,
        [
            "before",
            "while down 1",
            "while down 2",
            "while down 3",
            "while down 4",
            "while down 5",
            "while down 6"
        ]
    );
    let connected_after = reader
        .events
        .borrow()
        .iter()
        .filter(|e| matches!(e, SdkEvent::ConnectSuccess))
        .count();
    assert!(connected_after > connected_before, "the SDK reconnected");
    reader.end().await;
}

#[wasm_bindgen_test]
async fn an_owner_recall_is_shown_as_recalled_to_both() {
    let admin = Admin::new().await;
    let ids = admin.users(&[("owner", "Olivia"), ("member", "Max")]).await;
    let group = admin.group(&ids[0], &[&ids[1]]).await;
    let conv = group_conversation(&group);
    let owner = Session::login(&admin, &ids[0]).await;
    let member = Session::login(&admin, &ids[1]).await;
    let sent = member
        .sdk
        .send_text(Recipient::Group(group.clone()), "regrettable")
        .await
        .expect("send");
    owner
        .until("the owner has the message", |s| {
            let conv = conv.clone();
            async move { texts(&s, &conv).await.contains(&"regrettable".to_owned()) }
        })
        .await;
    owner
        .sdk
        .revoke(&conv, &sent.client_msg_id)
        .await
        .expect("the owner may recall any member's message");
    for session in [&owner, &member] {
        session
            .until("the message shows as recalled", |s| {
                let conv = conv.clone();
                let id = sent.client_msg_id.clone();
                async move {
                    all_messages(&s, &conv, 20).await.iter().any(|m| {
                        m.client_msg_id == id && matches!(m.status, MessageStatus::Revoked { .. })
                    })
                }
            })
            .await;
        let messages = session.all_messages(&conv, 20).await;
        let recalled = messages
            .iter()
            .find(|m| m.client_msg_id == sent.client_msg_id)
            .unwrap();
        match &recalled.status {
            MessageStatus::Revoked { by, role, .. } => {
                assert_eq!(by, &ids[0], "recalled by the owner");
                assert_eq!(*role, 100, "with the owner's role");
            }
            other => panic!("not recalled: {other:?}"),
        }
        assert_eq!(recalled.content.text(), None, "the text is gone");
    }
    assert!(
        member.saw(|e| matches!(e, SdkEvent::NewRecvMessageRevoked(info)
        if info.client_msg_id == sent.client_msg_id))
    );
    // The member cannot recall the owner's message.
    let own = owner
        .sdk
        .send_text(Recipient::Group(group.clone()), "owner's words")
        .await
        .unwrap();
    member
        .until("the member has the owner's message", |s| {
            let conv = conv.clone();
            async move { texts(&s, &conv).await.contains(&"owner's words".to_owned()) }
        })
        .await;
    let refused = member.sdk.revoke(&conv, &own.client_msg_id).await;
    assert_eq!(refused.map_err(|e| e.code()), Err(1002), "no permission");
    owner.end().await;
    member.end().await;
}

#[wasm_bindgen_test]
async fn an_announcement_carries_its_editor_and_time() {
    let admin = Admin::new().await;
    let ids = admin.users(&[("owner", "Olivia"), ("member", "Max")]).await;
    let group = admin.group(&ids[0], &[&ids[1]]).await;
    let owner = Session::login(&admin, &ids[0]).await;
    let member = Session::login(&admin, &ids[1]).await;
    let before = js_sys::Date::now() as i64 - 1000;
    owner
        .sdk
        .set_group_info(GroupUpdate {
            group_id: group.clone(),
            announcement: Some("Standup moves to 10:00".to_owned()),
            ..GroupUpdate::default()
        })
        .await
        .expect("set announcement");
    member
        .until("the member has the announcement", |s| {
            let group = group.clone();
            async move {
                s.groups_info(&[group]).await.unwrap()[0].announcement.text
                    == "Standup moves to 10:00"
            }
        })
        .await;
    let info = member
        .sdk
        .groups_info(std::slice::from_ref(&group))
        .await
        .unwrap();
    let announcement = &info[0].announcement;
    assert_eq!(announcement.editor_user_id, ids[0]);
    assert!(
        announcement.updated_at >= before,
        "release time {} is now",
        announcement.updated_at
    );
    assert!(member.saw(|e| matches!(e, SdkEvent::GroupInfoChanged(g) if g.group_id == group)));
    owner.end().await;
    member.end().await;
}

#[wasm_bindgen_test]
async fn members_show_how_they_joined() {
    let admin = Admin::new().await;
    let ids = admin
        .users(&[
            ("owner", "Olivia"),
            ("seeker", "Sam"),
            ("guest", "Gus"),
            ("scanner", "Quinn"),
        ])
        .await;
    let group = admin.group(&ids[0], &[]).await;
    let owner = Session::login(&admin, &ids[0]).await;
    owner
        .sdk
        .invite(&group, std::slice::from_ref(&ids[2]), "")
        .await
        .unwrap();
    let seeker = Session::login(&admin, &ids[1]).await;
    seeker.sdk.join_group(&group, "found you", 3).await.unwrap();
    let scanner = Session::login(&admin, &ids[3]).await;
    scanner.sdk.join_group(&group, "", 4).await.unwrap();
    assert_eq!(
        scanner
            .sdk
            .join_group(&group, "", 9)
            .await
            .map_err(|e| e.code()),
        Err(10001),
        "a bad join source is refused locally"
    );
    owner
        .until("the owner sees four members", |s| {
            let group = group.clone();
            async move { s.members(&group).await.unwrap().len() == 4 }
        })
        .await;
    let members = owner.sdk.members(&group).await.unwrap();
    let by_id = |id: &str| members.iter().find(|m| m.user_id == id).unwrap().clone();
    assert_eq!(by_id(&ids[1]).join_source, 3, "search");
    assert_eq!(by_id(&ids[3]).join_source, 4, "QR code");
    let guest = by_id(&ids[2]);
    assert_eq!(guest.join_source, 2, "invitation");
    assert_eq!(guest.inviter_user_id, ids[0], "invited by the owner");
    assert!(guest.join_time > 0);
    owner.end().await;
    seeker.end().await;
    scanner.end().await;
}

#[wasm_bindgen_test]
async fn a_new_nickname_reaches_member_lists_and_sender_names() {
    let admin = Admin::new().await;
    let ids = admin.users(&[("viewer", "Vera"), ("renamer", "Ron")]).await;
    let group = admin.group(&ids[0], &[&ids[1]]).await;
    let conv = group_conversation(&group);
    let viewer = Session::login(&admin, &ids[0]).await;
    let renamer = Session::login(&admin, &ids[1]).await;
    renamer
        .sdk
        .send_text(Recipient::Group(group.clone()), "signed by Ron")
        .await
        .unwrap();
    viewer
        .until("the viewer has Ron's message", |s| {
            let conv = conv.clone();
            async move { texts(&s, &conv).await.len() == 1 }
        })
        .await;
    renamer
        .sdk
        .set_self_info(Some("Ronald".to_owned()), None)
        .await
        .unwrap();
    viewer
        .until("the member list shows the new name", |s| {
            let group = group.clone();
            let id = ids[1].clone();
            async move {
                s.members(&group)
                    .await
                    .unwrap()
                    .iter()
                    .any(|m| m.user_id == id && m.nickname == "Ronald")
            }
        })
        .await;
    viewer
        .until("the stored message shows the new sender name", |s| {
            let conv = conv.clone();
            async move {
                all_messages(&s, &conv, 20)
                    .await
                    .iter()
                    .filter(|m| m.content.text() == Some("signed by Ron"))
                    .all(|m| m.sender_nickname == "Ronald")
            }
        })
        .await;
    assert!(
        viewer.saw(|e| matches!(e, SdkEvent::GroupMemberInfoChanged(m)
        if m.user_id == ids[1] && m.nickname == "Ronald"))
    );
    renamer
        .until("the renamer's own profile changed", |s| async move {
            s.self_info().await.unwrap().nickname == "Ronald"
        })
        .await;
    viewer.end().await;
    renamer.end().await;
}

#[wasm_bindgen_test]
async fn a_deleted_remark_is_deleted_on_a_second_session() {
    let admin = Admin::new().await;
    let ids = admin
        .users(&[("owner", "Olivia"), ("friend", "Frank")])
        .await;
    admin
        .call(
            "/friend/import_friend",
            json!({"ownerUserID": ids[0], "friendUserIDs": [ids[1]]}),
        )
        .await;
    let laptop = Session::login(&admin, &ids[0]).await;
    // The same user on another device: its own scope (database, tab group) and platform.
    let desktop = Session::login_as(&admin, Sdk::with_scope("desktop"), &ids[0], WINDOWS).await;
    laptop
        .sdk
        .set_friend_remark(std::slice::from_ref(&ids[1]), "Frankie")
        .await
        .unwrap();
    let remark_is = |want: &'static str| {
        let friend = ids[1].clone();
        move |s: Sdk| {
            let friend = friend.clone();
            async move {
                s.friends()
                    .await
                    .unwrap()
                    .iter()
                    .any(|f| f.user_id() == friend && f.remark == want)
            }
        }
    };
    desktop
        .until("the second session has the remark", remark_is("Frankie"))
        .await;
    laptop
        .sdk
        .set_friend_remark(std::slice::from_ref(&ids[1]), "")
        .await
        .unwrap();
    desktop
        .until("the remark is gone on the second session", remark_is(""))
        .await;
    let friends = desktop.sdk.friends().await.unwrap();
    assert_eq!(
        friends[0].display_name(),
        "Frank",
        "the nickname shows again"
    );
    assert!(desktop.saw(|e| matches!(e, SdkEvent::FriendInfoChanged(f) if f.remark.is_empty())));
    laptop.end().await;
    desktop.end().await;
}

#[wasm_bindgen_test]
async fn bad_login_input_is_refused_and_changes_nothing() {
    let sdk = Sdk::new();
    let params = LoginParams {
        user_id: "someone".to_owned(),
        token: "t".to_owned(),
        api_addr: api().to_owned(),
        ws_addr: "http://not-a-socket".to_owned(),
        platform_id: WEB,
    };
    let err = sdk.login(params).await.unwrap_err();
    assert_eq!(err.code(), 10001, "{err}");
    assert_eq!(sdk.login_status(), chorus_sdk_wasm::LoginStatus::Logout);
    assert_eq!(sdk.conversations().await.unwrap_err().code(), 10005);
}

/// Hidden tabs throttle page timers; the engine's timers run in a worker so that its pings keep
/// their schedule.
#[wasm_bindgen_test]
async fn engine_timers_run_in_a_worker() {
    use chorus_core::conn::Instant;
    use chorus_core::driver::Clock;
    let clock = chorus_sdk_wasm::net::BrowserClock::new();
    let start = clock.now();
    clock
        .sleep_until(Instant::from_millis(start.as_millis() + 30))
        .await;
    let waited = clock.now().as_millis() - start.as_millis();
    assert!(waited >= 30, "woke after {waited} ms, before the deadline");
    assert!(
        clock.uses_worker(),
        "the timer ran in the page, not a worker"
    );
}
