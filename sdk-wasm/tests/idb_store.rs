//! The IndexedDB store in headless Chromium: the core store conformance suite, the schema
//! migration from version 1, atomicity, persistence across connections, and a large batch.
//!
//! Every test opens its own database, deleted first, so reruns in the same browser profile start
//! clean.

use std::cell::Cell;

use chorus_core::changes::{
    Changes, ChangesError, MemberKey, MessageRewrite, OutboxChange, OutboxEntry, SyncState,
    VersionKind, VersionMarker, VersionUpdate,
};
use chorus_core::model::{
    Content, Conversation, ConversationId, Friend, Group, Member, Message, MessageStatus, Seq, User,
};
use chorus_core::ranges::SeqRanges;
use chorus_core::store::{Direction, Store, StoreError, StoreErrorKind};
use chorus_core::{MemoryStore, VecMap};
use chorus_proto::msgjson::{Fields, FromJson, Json, JsonError};
use chorus_sdk_wasm::store::schema::{Key, MIGRATIONS};
use chorus_sdk_wasm::store::{schema, IdbStore, META, SCHEMA_VERSION};
use rexie::{Index, ObjectStore, Rexie, RexieBuilder, TransactionMode};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static NEXT_DB: Cell<u32> = const { Cell::new(0) };
}

/// A rexie builder that opens `name` at `version` with the schema of every migration up to it:
/// a second, independent way into the store's databases, to write and read raw records.
fn builder(name: &str, version: u32) -> RexieBuilder {
    // In the order first declared; IndexedDB keeps object stores sorted by name anyway.
    let mut stores: Vec<(&str, ObjectStore)> = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| m.version <= version) {
        for def in migration.stores {
            let store = ObjectStore::new(def.name);
            let store = match def.key {
                Key::OutOfLine => store,
                Key::Path(path) => store.key_path(path),
                Key::Paths(paths) => store.key_path_array(paths.iter().copied()),
            };
            match stores.iter_mut().find(|(name, _)| *name == def.name) {
                Some(entry) => entry.1 = store,
                None => stores.push((def.name, store)),
            }
        }
        for def in migration.indexes {
            let index = match def.key {
                Key::Path(path) => Index::new(def.name, path),
                Key::Paths(paths) => Index::new_array(def.name, paths.iter().copied()),
                // An index always has a key path; out-of-line is not an index key.
                Key::OutOfLine => continue,
            }
            .unique(def.unique)
            .multi_entry(false);
            if let Some(at) = stores.iter().position(|(name, _)| *name == def.store) {
                let (name, store) = stores.remove(at);
                stores.insert(at, (name, store.add_index(index)));
            }
        }
    }
    stores
        .into_iter()
        .map(|(_, store)| store)
        .fold(Rexie::builder(name).version(version), |builder, store| {
            builder.add_object_store(store)
        })
}

/// A database name no other test of this run uses.
fn unique_name(prefix: &str) -> String {
    let n = NEXT_DB.with(|next| {
        let n = next.get();
        next.set(n + 1);
        n
    });
    format!("chorus-test-{prefix}-{n}")
}

/// An empty store under a fresh name.
async fn fresh(prefix: &str) -> IdbStore {
    let name = unique_name(prefix);
    IdbStore::delete(&name).await.unwrap();
    IdbStore::open(&name).await.unwrap()
}

chorus_core::store_conformance_tests!(
    async: #[wasm_bindgen_test],
    store = fresh("conformance").await,
);

fn conv(id: &str) -> ConversationId {
    ConversationId::parse(id).unwrap()
}

fn text(conversation: &ConversationId, seq: u64, client_id: &str) -> Message {
    let mut message = Message::text(
        conversation.clone(),
        Seq(seq),
        client_id,
        format!("message {seq}"),
    );
    message.send_id = "u1".into();
    message.sender_nickname = "Alice".into();
    message.send_time = 1_700_000_000_000 + i64::try_from(seq).unwrap();
    message
}

fn known(seqs: impl IntoIterator<Item = u64>) -> SeqRanges {
    seqs.into_iter().map(Seq).collect()
}

fn pull(conversation: &ConversationId, seqs: impl IntoIterator<Item = u64> + Clone) -> Changes {
    let mut changes = Changes::new();
    for seq in seqs.clone() {
        changes
            .messages
            .push(text(conversation, seq, &format!("{conversation}-{seq}")));
    }
    changes.sync_state(
        conversation.clone(),
        SyncState::from_known(Seq(1), known(seqs)),
    )
}

fn member(group_id: &str, user_id: &str) -> Member {
    Member {
        group_id: group_id.into(),
        user_id: user_id.into(),
        role_level: 20,
        ..Member::default()
    }
}

fn friend(user_id: &str) -> Friend {
    Friend {
        owner_user_id: "u1".into(),
        user: User {
            user_id: user_id.into(),
            nickname: format!("nick {user_id}"),
            ..User::default()
        },
        ..Friend::default()
    }
}

fn group(group_id: &str) -> Group {
    Group {
        group_id: group_id.into(),
        name: format!("group {group_id}"),
        announcement: Default::default(),
        introduction: String::new(),
        face_url: String::new(),
        owner_user_id: "u1".into(),
        creator_user_id: "u1".into(),
        create_time: 1,
        member_count: 1,
        ex: String::new(),
        status: 0,
        group_type: 2,
        need_verification: 0,
        look_member_info: chorus_core::proto::constants::AllowType::Allowed,
        apply_member_friend: chorus_core::proto::constants::AllowType::Allowed,
        history_for_new_members: None,
    }
}

fn outbox_entry(conversation: &ConversationId, client_id: &str, created_at: i64) -> OutboxEntry {
    OutboxEntry {
        client_msg_id: client_id.into(),
        conversation_id: conversation.clone(),
        attempts: 0,
        created_at,
        last_error: None,
    }
}

/// Everything a store answers about the given conversations, groups and clientMsgIDs.
#[derive(Debug, PartialEq)]
struct Snapshot {
    cursors: VecMap<ConversationId, SyncState>,
    messages: Vec<Vec<Message>>,
    newest: Vec<Vec<Message>>,
    by_client_id: Vec<Option<Message>>,
    conversations: Vec<Conversation>,
    users: Vec<Option<User>>,
    friends: Vec<Friend>,
    groups: Vec<Group>,
    members: Vec<Vec<Member>>,
    outbox: Vec<OutboxEntry>,
    versions: Vec<Option<VersionMarker>>,
}

async fn snapshot<S: Store>(store: &S, client_ids: &[&str]) -> Snapshot {
    let conversations = ["sg_g1", "sg_g2", "si_u1_u2"].map(conv);
    let mut messages = Vec::new();
    for id in &conversations {
        messages.push(
            store
                .messages(id, Seq(1)..=Seq::MAX, usize::MAX, Direction::Ascending)
                .await
                .unwrap(),
        );
    }
    // History pages, newest first, over ranges with gaps.
    let mut newest = Vec::new();
    for id in &conversations {
        for (seqs, limit) in [
            (Seq(1)..=Seq::MAX, 2),
            (Seq(2)..=Seq(4), 2),
            (Seq(0)..=Seq(9), 9),
        ] {
            newest.push(
                store
                    .messages(id, seqs, limit, Direction::Descending)
                    .await
                    .unwrap(),
            );
        }
    }
    let mut by_client_id = Vec::new();
    for id in client_ids {
        by_client_id.push(store.message_by_client_id(id).await.unwrap());
    }
    let mut users = Vec::new();
    for id in ["u1", "u2", "u3"] {
        users.push(store.user(id).await.unwrap());
    }
    let mut members = Vec::new();
    for id in ["g1", "g2"] {
        members.push(store.members(id).await.unwrap());
    }
    let mut versions = Vec::new();
    for (kind, key) in [
        (VersionKind::Friends, "u1"),
        (VersionKind::GroupMembers, "g1"),
    ] {
        versions.push(store.version(kind, key).await.unwrap());
    }
    Snapshot {
        cursors: store.load_cursors().await.unwrap(),
        messages,
        newest,
        by_client_id,
        conversations: store.conversations().await.unwrap(),
        users,
        friends: store.friends().await.unwrap(),
        groups: store.groups().await.unwrap(),
        members,
        outbox: store.outbox().await.unwrap(),
        versions,
    }
}

/// A batch touching every object store.
fn seed() -> Changes {
    let g1 = conv("sg_g1");
    let mut changes = pull(&g1, 1..=4);
    let mut conversation = Conversation::new(g1.clone());
    conversation.max_seq = Seq(4);
    conversation.latest_message = changes.messages.last().cloned();
    changes.conversations.push(conversation);
    let mut unsent = text(&g1, 0, "c-out");
    unsent.status = MessageStatus::Sending;
    changes.messages.push(unsent);
    changes
        .outbox
        .push(OutboxChange::Put(outbox_entry(&g1, "c-out", 5)));
    changes.users.push(User {
        user_id: "u2".into(),
        nickname: "Bob".into(),
        ..User::default()
    });
    changes.friends.push(friend("u2"));
    changes.groups.push(group("g1"));
    changes.members.push(member("g1", "u1"));
    changes.members.push(member("g1", "u2"));
    changes.versions.push(VersionUpdate {
        kind: VersionKind::Friends,
        key: "u1".into(),
        marker: Some(VersionMarker {
            version_id: "65f0c0ffee0000000000abcd".into(),
            version: 3,
        }),
    });
    changes
}

const SEED_CLIENT_IDS: &[&str] = &["sg_g1-1", "sg_g1-4", "c-out", "c-new"];

#[wasm_bindgen_test]
async fn schema_has_every_store_at_the_current_version() {
    let store = fresh("schema").await;
    let mut expected: Vec<String> = [
        "conversations",
        "cursors",
        "friends",
        "groups",
        "members",
        "messages",
        "meta",
        "outbox",
        "users",
        "versions",
    ]
    .map(String::from)
    .to_vec();
    expected.sort();
    assert_eq!(store.store_names(), expected);
    assert_eq!(SCHEMA_VERSION, 2);
    let versions: Vec<u32> = schema::MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    store.close();
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settings {
    theme: String,
    volume: u32,
}

impl FromJson for Settings {
    fn from_json(value: Json) -> Result<Settings, JsonError> {
        let mut fields =
            Fields::open(value)?.ok_or_else(|| JsonError::from_display("null settings"))?;
        Ok(Settings {
            theme: fields.take("theme")?,
            volume: fields.take("volume")?,
        })
    }
}

#[wasm_bindgen_test]
async fn upgrade_from_version_1_keeps_meta_values() {
    let name = unique_name("upgrade");
    IdbStore::delete(&name).await.unwrap();
    // The database as version 1 created it: only `meta`, with out-of-line keys.
    let v1 = Rexie::builder(&name)
        .version(1)
        .add_object_store(ObjectStore::new(META))
        .build()
        .await
        .unwrap();
    let settings = Settings {
        theme: "dark".into(),
        volume: 7,
    };
    let tx = v1.transaction(&[META], TransactionMode::ReadWrite).unwrap();
    let meta = tx.store(META).unwrap();
    meta.put(
        &serde_wasm_bindgen::to_value("u1").unwrap(),
        Some(&JsValue::from_str("user")),
    )
    .await
    .unwrap();
    meta.put(
        &serde_wasm_bindgen::to_value(&settings).unwrap(),
        Some(&JsValue::from_str("settings")),
    )
    .await
    .unwrap();
    assert!(tx.done().await.unwrap().is_committed());
    assert_eq!(v1.store_names(), vec![META.to_owned()]);

    // The version 1 connection stays open, as in a tab running older code: the upgrade closes
    // it instead of waiting for it.
    let store = IdbStore::open(&name).await.unwrap();
    assert_eq!(store.store_names().len(), 10);
    assert_eq!(
        store.get_meta::<String>("user").await.unwrap().as_deref(),
        Some("u1")
    );
    assert_eq!(
        store.get_meta::<Settings>("settings").await.unwrap(),
        Some(settings)
    );
    // The new stores work.
    store.save_changes(&seed()).await.unwrap();
    assert_eq!(store.load_cursors().await.unwrap().len(), 1);
    // The old connection was closed by the upgrade.
    assert!(v1.transaction(&[META], TransactionMode::ReadOnly).is_err());
    store.close();
}

#[wasm_bindgen_test]
async fn meta_values_round_trip_and_delete() {
    let store = fresh("meta").await;
    store.put_meta("user", &"u1".to_owned()).await.unwrap();
    assert_eq!(
        store.get_meta::<String>("user").await.unwrap().as_deref(),
        Some("u1")
    );
    store.delete_meta("user").await.unwrap();
    assert_eq!(store.get_meta::<String>("user").await.unwrap(), None);
    store.close();
}

#[wasm_bindgen_test]
async fn rejected_batches_leave_the_database_unchanged() {
    let store = fresh("rejected").await;
    store.save_changes(&seed()).await.unwrap();
    let before = snapshot(&store, SEED_CLIENT_IDS).await;
    let g1 = conv("sg_g1");

    // Every kind of change, plus a sync state claiming seq 9 without its message.
    let mut bad = pull(&g1, 5..=8);
    bad.sync_states
        .insert(g1.clone(), SyncState::from_known(Seq(1), known(1..=9)));
    let mut echo = text(&g1, 5, "c-out");
    echo.status = MessageStatus::Sent;
    bad.messages.push(echo);
    bad.messages.push(text(&conv("sg_g2"), 1, "c-g2"));
    bad.conversations.push(Conversation::new(conv("sg_g2")));
    bad.conversation_deletes.push(conv("si_u1_u2"));
    bad.users.push(User {
        user_id: "u2".into(),
        nickname: "Robert".into(),
        ..User::default()
    });
    bad.clear_friends = true;
    bad.friends.push(friend("u3"));
    bad.clear_groups = true;
    bad.groups.push(group("g2"));
    bad.members.push(member("g2", "u3"));
    bad.member_deletes.push(MemberKey {
        group_id: "g1".into(),
        user_id: "u1".into(),
    });
    bad.outbox.push(OutboxChange::Remove {
        client_msg_id: "c-out".into(),
    });
    bad.versions.push(VersionUpdate {
        kind: VersionKind::Friends,
        key: "u1".into(),
        marker: None,
    });
    bad.message_rewrites.push(MessageRewrite::SenderProfile {
        conversation_id: g1.clone(),
        user_id: "u1".into(),
        nickname: "Renamed".into(),
        face_url: String::new(),
    });
    let err = store.save_changes(&bad).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            StoreErrorKind::Rejected(ChangesError::KnownWithoutMessage { seq: Seq(9), .. })
        ),
        "{err:?}"
    );
    assert_eq!(snapshot(&store, SEED_CLIENT_IDS).await, before);

    // A batch `Changes::validate` refuses: an unsent message without a clientMsgID.
    let mut invalid = bad.clone();
    invalid
        .sync_states
        .insert(g1.clone(), SyncState::from_known(Seq(1), known(1..=8)));
    invalid.messages.push(text(&g1, 0, ""));
    let err = store.save_changes(&invalid).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            StoreErrorKind::Rejected(ChangesError::UnsentWithoutClientId { .. })
        ),
        "{err:?}"
    );
    assert_eq!(snapshot(&store, SEED_CLIENT_IDS).await, before);

    // Without the bad parts the same batch applies.
    invalid.messages.pop();
    store.save_changes(&invalid).await.unwrap();
    assert_ne!(snapshot(&store, SEED_CLIENT_IDS).await, before);
    store.close();
}

#[wasm_bindgen_test]
async fn a_batch_failing_midway_is_rolled_back() {
    let store = fresh("midway").await;
    store.save_changes(&seed()).await.unwrap();
    let before = snapshot(&store, SEED_CLIENT_IDS).await;

    // The deletes and clears are applied inside the transaction before the message with a seq
    // beyond JavaScript's exact integers fails to convert; the abort must undo them.
    let mut failing = Changes::new();
    failing.conversation_deletes.push(conv("sg_g1"));
    failing.clear_friends = true;
    failing.clear_groups = true;
    failing.users.push(User {
        user_id: "u2".into(),
        nickname: "Robert".into(),
        ..User::default()
    });
    failing
        .messages
        .push(text(&conv("sg_g2"), 1 << 60, "c-huge"));
    let err = store.save_changes(&failing).await.unwrap_err();
    match err.kind() {
        StoreErrorKind::Backend(text) => {
            assert!(text.contains("JavaScript number"), "{text}");
            assert!(text.contains("nothing of the batch was saved"), "{text}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert_eq!(snapshot(&store, SEED_CLIENT_IDS).await, before);
    // The store stays usable.
    store
        .save_changes(&pull(&conv("sg_g2"), 1..=2))
        .await
        .unwrap();
    assert_eq!(store.load_cursors().await.unwrap().len(), 2);
    store.close();
}

#[wasm_bindgen_test]
async fn data_survives_closing_and_reopening() {
    let name = unique_name("reopen");
    IdbStore::delete(&name).await.unwrap();
    let store = IdbStore::open(&name).await.unwrap();
    let mut changes = seed();
    // Raw content is stored as bytes and must come back byte for byte.
    let mut picture = text(&conv("sg_g2"), 1, "c-pic");
    picture.content_type = 102;
    picture.content = Content::Raw(br#"{"sourcePicture":{"url":"https://x/1.png"}}"#.to_vec());
    picture.options.insert("isHistory".into(), false);
    picture.at_user_ids = vec!["u2".into(), "u3".into()];
    changes.messages.push(picture.clone());
    changes
        .sync_states
        .insert(conv("sg_g2"), SyncState::from_known(Seq(1), known([1])));
    store.save_changes(&changes).await.unwrap();
    store.put_meta("user", &"u1".to_owned()).await.unwrap();
    let before = snapshot(&store, &["c-pic", "c-out", "sg_g1-2"]).await;
    store.close();

    let store = IdbStore::open(&name).await.unwrap();
    let after = snapshot(&store, &["c-pic", "c-out", "sg_g1-2"]).await;
    assert_eq!(after, before);
    // One conversation's state read alone is the one all states read together hold.
    for id in ["sg_g1", "sg_g2"] {
        let alone = store.sync_state(&conv(id)).await.unwrap();
        assert!(alone.is_some(), "{id} has a sync state");
        assert_eq!(alone.as_ref(), after.cursors.get(&conv(id)), "{id}");
    }
    assert_eq!(store.sync_state(&conv("sg_none")).await.unwrap(), None);
    assert_eq!(after.messages.get(1), Some(&vec![picture]));
    assert_eq!(after.outbox.len(), 1);
    assert_eq!(
        store.get_meta::<String>("user").await.unwrap().as_deref(),
        Some("u1")
    );
    store.close();
}

/// Entities read back exactly as saved, including what their records hold as a JavaScript `Map`
/// (message options) or `Uint8Array` (raw content) and fields left unset.
#[wasm_bindgen_test]
async fn entities_read_back_as_saved() {
    let store = fresh("entities").await;
    let g1 = conv("sg_g1");
    let mut changes = seed();
    let mut latest = changes.messages[3].clone();
    latest.content_type = 102;
    latest.content = Content::Raw(vec![0, 1, 127, 128, 255]);
    latest.options.insert("isHistory".into(), false);
    latest.options.insert("unreadCount".into(), true);
    latest.at_user_ids = vec!["u2".into()];
    changes.conversations[0].latest_message = Some(latest);
    changes.conversations[0].is_pinned = true;
    changes.conversations[0].has_read_seq = Seq(3);
    let mut hidden = group("g2");
    hidden.history_for_new_members = Some(true);
    hidden.look_member_info = chorus_core::proto::constants::AllowType::NotAllowed;
    changes.groups.push(hidden);
    store.save_changes(&changes).await.unwrap();

    assert_eq!(
        store.conversation(&g1).await.unwrap().as_ref(),
        changes.conversations.first()
    );
    assert_eq!(store.conversations().await.unwrap(), changes.conversations);
    assert_eq!(
        store.user("u2").await.unwrap().as_ref(),
        changes.users.first()
    );
    assert_eq!(store.friends().await.unwrap(), changes.friends);
    assert_eq!(
        store.group("g2").await.unwrap().as_ref(),
        changes.groups.get(1)
    );
    assert_eq!(store.groups().await.unwrap(), changes.groups);
    assert_eq!(store.members("g1").await.unwrap(), changes.members);
    assert_eq!(store.user("nobody").await.unwrap(), None);
}

/// The entities of a batch with every kind of field: raw and text contents, options, a revoked
/// message, unset and set options, negative and large numbers, text that needs escaping.
fn varied_entities() -> Changes {
    let mut changes = seed();
    let mut latest = changes.messages[3].clone();
    latest.content_type = 102;
    latest.content = Content::Raw(vec![0, 1, 127, 128, 255]);
    latest.options.insert("isHistory".into(), false);
    latest.options.insert("unreadCount".into(), true);
    latest.at_user_ids = vec!["u2".into(), "u\"3".into()];
    latest.send_time = 9_007_199_254_740_991;
    latest.create_time = -1;
    changes.conversations[0].latest_message = Some(latest);
    changes.conversations[0].is_pinned = true;
    changes.conversations[0].has_read_seq = Seq(3);
    let mut revoked = changes.messages[1].clone();
    revoked.status = MessageStatus::Revoked {
        by: "owner".into(),
        role: 100,
        nickname: "Olga \u{1F600}".into(),
        time: 1_700_000_000_000,
    };
    let mut second = Conversation::new(conv("si_u1_u2"));
    second.latest_message = Some(revoked);
    second.ex = "line\nbreak \u{7f} </script>".into();
    changes.conversations.push(second);
    let mut hidden = group("g2");
    hidden.history_for_new_members = Some(false);
    hidden.look_member_info = chorus_core::proto::constants::AllowType::NotAllowed;
    changes.groups.push(hidden);
    let mut unset = group("g3");
    unset.history_for_new_members = None;
    changes.groups.push(unset);
    changes
}

/// The record the previous version wrote for an entity: its serde_json text, parsed.
fn serde_json_record<T: Serialize>(value: &T) -> JsValue {
    js_sys::JSON::parse(&serde_json::to_string(value).unwrap()).unwrap()
}

/// Entity records hold what serde_json wrote for them, and records written that way read back.
#[wasm_bindgen_test]
async fn entity_records_are_the_serde_json_form() {
    use js_sys::JSON;
    fn text_of(value: &JsValue) -> String {
        JSON::stringify(value).unwrap().as_string().unwrap()
    }

    let name = unique_name("serde-json-entities");
    IdbStore::delete(&name).await.unwrap();
    let store = IdbStore::open(&name).await.unwrap();
    let changes = varied_entities();
    store.save_changes(&changes).await.unwrap();

    let raw = builder(&name, SCHEMA_VERSION).build().await.unwrap();
    let names = [
        schema::CONVERSATIONS,
        schema::USERS,
        schema::FRIENDS,
        schema::GROUPS,
        schema::MEMBERS,
    ];
    let tx = raw.transaction(&names, TransactionMode::ReadOnly).unwrap();
    let all = |store_name: &'static str| {
        let store = tx.store(store_name).unwrap();
        async move { store.get_all(None, None).await.unwrap() }
    };
    let expect = |records: Vec<JsValue>, entities: Vec<JsValue>| {
        let written: Vec<String> = records.iter().map(text_of).collect();
        let serde: Vec<String> = entities.iter().map(text_of).collect();
        assert_eq!(written, serde);
    };
    let by_id = |mut list: Vec<Conversation>| {
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    };
    let conversations = by_id(changes.conversations.clone());
    expect(
        all(schema::CONVERSATIONS).await,
        conversations.iter().map(serde_json_record).collect(),
    );
    expect(
        all(schema::USERS).await,
        changes.users.iter().map(serde_json_record).collect(),
    );
    expect(
        all(schema::FRIENDS).await,
        changes.friends.iter().map(serde_json_record).collect(),
    );
    expect(
        all(schema::GROUPS).await,
        changes.groups.iter().map(serde_json_record).collect(),
    );
    expect(
        all(schema::MEMBERS).await,
        changes.members.iter().map(serde_json_record).collect(),
    );
    drop(tx);

    // Records written by serde_json (the previous version) read back as the entities.
    let older = unique_name("serde-json-older");
    IdbStore::delete(&older).await.unwrap();
    let store = IdbStore::open(&older).await.unwrap();
    let raw = builder(&older, SCHEMA_VERSION).build().await.unwrap();
    let tx = raw.transaction(&names, TransactionMode::ReadWrite).unwrap();
    let put = |store_name: &'static str, records: Vec<JsValue>| {
        let store = tx.store(store_name).unwrap();
        async move {
            for record in records {
                store.put(&record, None).await.unwrap();
            }
        }
    };
    put(
        schema::CONVERSATIONS,
        changes
            .conversations
            .iter()
            .map(serde_json_record)
            .collect(),
    )
    .await;
    put(
        schema::USERS,
        changes.users.iter().map(serde_json_record).collect(),
    )
    .await;
    put(
        schema::FRIENDS,
        changes.friends.iter().map(serde_json_record).collect(),
    )
    .await;
    put(
        schema::GROUPS,
        changes.groups.iter().map(serde_json_record).collect(),
    )
    .await;
    put(
        schema::MEMBERS,
        changes.members.iter().map(serde_json_record).collect(),
    )
    .await;
    assert!(tx.done().await.unwrap().is_committed());
    assert_eq!(store.conversations().await.unwrap(), conversations);
    assert_eq!(
        store.user("u2").await.unwrap().as_ref(),
        changes.users.first()
    );
    assert_eq!(store.friends().await.unwrap(), changes.friends);
    assert_eq!(store.groups().await.unwrap(), changes.groups);
    assert_eq!(store.members("g1").await.unwrap(), changes.members);
    store.close();
}

/// Entity records written by earlier versions with serde-wasm-bindgen (message options as a
/// JavaScript `Map`, unset options as `undefined`) still read back as they were saved.
#[wasm_bindgen_test]
async fn entities_written_with_serde_wasm_bindgen_still_read() {
    use js_sys::{Map, Reflect};
    use wasm_bindgen::JsCast;

    let name = unique_name("older-entities");
    IdbStore::delete(&name).await.unwrap();
    let store = IdbStore::open(&name).await.unwrap();
    let mut changes = seed();
    let mut latest = changes.messages[3].clone();
    latest.content_type = 102;
    latest.content = Content::Raw(vec![0, 1, 127, 128, 255]);
    latest.options.insert("isHistory".into(), false);
    changes.conversations[0].latest_message = Some(latest);
    let mut hidden = group("g2");
    hidden.history_for_new_members = None;
    changes.groups.push(hidden);

    let raw = builder(&name, SCHEMA_VERSION).build().await.unwrap();
    let names = [
        schema::CONVERSATIONS,
        schema::USERS,
        schema::FRIENDS,
        schema::GROUPS,
        schema::MEMBERS,
    ];
    let tx = raw.transaction(&names, TransactionMode::ReadWrite).unwrap();
    fn old<T: serde::Serialize>(value: &T) -> JsValue {
        serde_wasm_bindgen::to_value(value).unwrap()
    }
    let mut written = Vec::new();
    for c in &changes.conversations {
        written.push((schema::CONVERSATIONS, old(c)));
    }
    for u in &changes.users {
        written.push((schema::USERS, old(u)));
    }
    for f in &changes.friends {
        written.push((schema::FRIENDS, old(f)));
    }
    for g in &changes.groups {
        written.push((schema::GROUPS, old(g)));
    }
    for m in &changes.members {
        written.push((schema::MEMBERS, old(m)));
    }
    // The records really are in the older form.
    let latest = Reflect::get(&written[0].1, &"latest_message".into()).unwrap();
    let options = Reflect::get(&latest, &"options".into()).unwrap();
    assert!(options.is_instance_of::<Map>());
    for (store_name, record) in &written {
        tx.store(store_name)
            .unwrap()
            .put(record, None)
            .await
            .unwrap();
    }
    assert!(tx.done().await.unwrap().is_committed());

    assert_eq!(store.conversations().await.unwrap(), changes.conversations);
    assert_eq!(
        store.user("u2").await.unwrap().as_ref(),
        changes.users.first()
    );
    assert_eq!(store.friends().await.unwrap(), changes.friends);
    assert_eq!(store.groups().await.unwrap(), changes.groups);
    assert_eq!(store.members("g1").await.unwrap(), changes.members);
}

/// Sync states, outbox entries and version markers are written in the form serde-wasm-bindgen
/// gave them in earlier versions (plain objects, `undefined` for an unset option, the version
/// kind by name), and records in that form read back as they were saved.
#[wasm_bindgen_test]
async fn small_records_keep_their_serde_wasm_bindgen_form() {
    use js_sys::{Array, Reflect, JSON};

    fn old<T: serde::Serialize>(value: &T) -> JsValue {
        serde_wasm_bindgen::to_value(value).unwrap()
    }
    fn text_of(value: &JsValue) -> String {
        JSON::stringify(value).unwrap().as_string().unwrap()
    }
    fn has(value: &JsValue, key: &str) -> bool {
        Reflect::has(value, &key.into()).unwrap()
    }
    let version_key = |kind: &str, key: &str| -> JsValue {
        Array::of2(&JsValue::from_str(kind), &JsValue::from_str(key)).into()
    };

    let name = unique_name("small-records");
    IdbStore::delete(&name).await.unwrap();
    let store = IdbStore::open(&name).await.unwrap();
    let g1 = conv("sg_g1");
    let mut changes = seed();
    let mut failed = outbox_entry(&g1, "c-failed", 9);
    failed.attempts = 3;
    failed.last_error = Some(1302);
    changes.outbox.push(OutboxChange::Put(failed.clone()));
    store.save_changes(&changes).await.unwrap();
    let state = changes.sync_states[&g1].clone();
    let first = outbox_entry(&g1, "c-out", 5);
    let marker = VersionMarker {
        version_id: "65f0c0ffee0000000000abcd".into(),
        version: 3,
    };

    let raw = builder(&name, SCHEMA_VERSION).build().await.unwrap();
    let names = [schema::CURSORS, schema::OUTBOX, schema::VERSIONS];
    let tx = raw.transaction(&names, TransactionMode::ReadWrite).unwrap();
    let cursors = tx.store(schema::CURSORS).unwrap();
    let outbox = tx.store(schema::OUTBOX).unwrap();
    let versions = tx.store(schema::VERSIONS).unwrap();

    // What the store wrote is what serde-wasm-bindgen wrote.
    let record = cursors.get("sg_g1".into()).await.unwrap().unwrap();
    assert_eq!(text_of(&record), text_of(&old(&state)));
    let record = outbox.get("c-out".into()).await.unwrap().unwrap();
    assert_eq!(text_of(&record), text_of(&old(&first)));
    assert!(has(&record, "last_error") && has(&old(&first), "last_error"));
    let record = outbox.get("c-failed".into()).await.unwrap().unwrap();
    assert_eq!(text_of(&record), text_of(&old(&failed)));
    let record = versions
        .get(version_key("Friends", "u1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text_of(&record), text_of(&old(&marker)));

    // Records written by serde-wasm-bindgen read back.
    let s1 = conv("si_u1_u2");
    let mut gaps = SeqRanges::new();
    gaps.insert_range(Seq(1), Seq(3));
    gaps.insert_range(Seq(7), Seq(9_007_199_254_740_991));
    let older_state = SyncState {
        floor: Seq(1),
        cursor: Seq(3),
        known: gaps,
    };
    let mut older_entry = outbox_entry(&s1, "c-older", -4);
    older_entry.attempts = 4_000_000_000;
    older_entry.last_error = Some(-7);
    let older_marker = VersionMarker {
        version_id: "65f0c0ffee0000000000beef".into(),
        version: 9_007_199_254_740_991,
    };
    cursors
        .put(&old(&older_state), Some(&"si_u1_u2".into()))
        .await
        .unwrap();
    outbox.put(&old(&older_entry), None).await.unwrap();
    let key: JsValue = Array::of2(&old(&VersionKind::GroupMembers), &"g1".into()).into();
    versions.put(&old(&older_marker), Some(&key)).await.unwrap();
    assert!(tx.done().await.unwrap().is_committed());

    let loaded = store.load_cursors().await.unwrap();
    assert_eq!(loaded[&s1], older_state);
    assert_eq!(loaded[&g1], state);
    let mut expected = vec![older_entry, first, failed];
    expected.sort_by_key(|e| e.created_at);
    assert_eq!(store.outbox().await.unwrap(), expected);
    assert_eq!(
        store
            .version(VersionKind::GroupMembers, "g1")
            .await
            .unwrap(),
        Some(older_marker)
    );
    assert_eq!(
        store.version(VersionKind::Friends, "u1").await.unwrap(),
        Some(marker)
    );
}

/// Stored sync states, outbox entries and version markers of the wrong shape are reported as
/// corrupt, naming the record and the field.
#[wasm_bindgen_test]
async fn malformed_small_records_are_corrupt() {
    use js_sys::JSON;

    let name = unique_name("bad-records");
    IdbStore::delete(&name).await.unwrap();
    let store = IdbStore::open(&name).await.unwrap();
    let raw = builder(&name, SCHEMA_VERSION).build().await.unwrap();
    let json = |text: &str| JSON::parse(text).unwrap();
    let write = |store_name: &'static str, value: JsValue, key: Option<JsValue>| {
        let raw = &raw;
        async move {
            let tx = raw
                .transaction(&[store_name], TransactionMode::ReadWrite)
                .unwrap();
            tx.store(store_name)
                .unwrap()
                .put(&value, key.as_ref())
                .await
                .unwrap();
            assert!(tx.done().await.unwrap().is_committed());
        }
    };
    let corrupt = |err: StoreError, what: &str| match err.kind() {
        StoreErrorKind::Corrupt(text) => assert!(text.contains(what), "{text}"),
        other => panic!("not corrupt: {other:?}"),
    };

    write(
        schema::CURSORS,
        json(r#"{"floor":1,"cursor":-1,"known":[]}"#),
        Some("sg_g1".into()),
    )
    .await;
    corrupt(store.load_cursors().await.unwrap_err(), "cursor");
    write(
        schema::CURSORS,
        json(r#"{"floor":1,"cursor":2,"known":[{"start":1}]}"#),
        Some("sg_g1".into()),
    )
    .await;
    corrupt(store.load_cursors().await.unwrap_err(), "end");

    write(
        schema::OUTBOX,
        json(r#"{"client_msg_id":"c1","conversation_id":"sg_g1","attempts":1.5,"created_at":1}"#),
        None,
    )
    .await;
    corrupt(store.outbox().await.unwrap_err(), "attempts");
    write(
        schema::OUTBOX,
        json(r#"{"client_msg_id":"c1","conversation_id":"nope","attempts":1,"created_at":1}"#),
        None,
    )
    .await;
    corrupt(store.outbox().await.unwrap_err(), "conversation_id");

    let key: JsValue = js_sys::Array::of2(&"Friends".into(), &"u1".into()).into();
    write(schema::VERSIONS, json(r#"{"version":3}"#), Some(key)).await;
    corrupt(
        store.version(VersionKind::Friends, "u1").await.unwrap_err(),
        "version_id",
    );
}

/// A stored message with a field missing or of the wrong type is reported as corrupt, naming
/// the field.
#[wasm_bindgen_test]
async fn malformed_message_records_name_the_field() {
    use js_sys::{Array, Reflect};
    use wasm_bindgen::JsCast;

    let name = unique_name("bad-messages");
    IdbStore::delete(&name).await.unwrap();
    let store = IdbStore::open(&name).await.unwrap();
    let g1 = conv("sg_g1");
    let mut changes = rewrites(Vec::new());
    changes.messages = vec![text(&g1, 1, "c-1")];
    store.save_changes(&changes).await.unwrap();
    let raw = builder(&name, SCHEMA_VERSION).build().await.unwrap();
    let key: JsValue = Array::of2(&"sg_g1".into(), &JsValue::from_f64(1.0)).into();
    let tx = raw
        .transaction(&[schema::MESSAGES], TransactionMode::ReadOnly)
        .unwrap();
    let good = tx
        .store(schema::MESSAGES)
        .unwrap()
        .get(key.clone())
        .await
        .unwrap()
        .unwrap();
    let cases: [(&str, JsValue, &str); 6] = [
        ("send_id", JsValue::UNDEFINED, "send_id"),
        ("msg_from", JsValue::from_f64(1.5), "msg_from"),
        ("session_type", JsValue::from_f64(77.0), "session_type"),
        ("send_time", JsValue::from_str("1"), "send_time"),
        ("is_read", JsValue::from_f64(1.0), "is_read"),
        ("at_user_ids", JsValue::from_str("u2"), "at_user_ids"),
    ];
    for (field, value, named) in cases {
        let record = js_sys::Object::assign(&js_sys::Object::new(), good.unchecked_ref());
        Reflect::set(&record, &field.into(), &value).unwrap();
        let tx = raw
            .transaction(&[schema::MESSAGES], TransactionMode::ReadWrite)
            .unwrap();
        tx.store(schema::MESSAGES)
            .unwrap()
            .put(&record, Some(&key))
            .await
            .unwrap();
        assert!(tx.done().await.unwrap().is_committed());
        let err = store
            .messages(&g1, Seq(1)..=Seq(1), 10, Direction::Ascending)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            StoreError::corrupt(format!("stored message has no valid {named}")),
            "{field}"
        );
    }
}

/// A message record's layout: the fields in order, raw content as a `Uint8Array`, options as a
/// `Map`, enums in their serde form, and no clientMsgID when it is empty.
#[wasm_bindgen_test]
async fn message_records_keep_their_layout() {
    use js_sys::{Array, Map, Object, Reflect, Uint8Array, JSON};
    use wasm_bindgen::JsCast;

    let name = unique_name("layout");
    IdbStore::delete(&name).await.unwrap();
    let store = IdbStore::open(&name).await.unwrap();
    let g2 = conv("sg_g2");
    let mut picture = text(&g2, 1, "c-pic");
    picture.content_type = 102;
    picture.content = Content::Raw(vec![123, 0, 255]);
    picture.options.insert("isHistory".into(), false);
    picture.at_user_ids = vec!["u2".into()];
    let mut no_id = text(&g2, 2, "");
    no_id.status = MessageStatus::Failed { code: 1302 };
    let mut changes = rewrites(Vec::new());
    changes.messages = vec![picture.clone(), no_id.clone()];
    store.save_changes(&changes).await.unwrap();

    let raw = builder(&name, SCHEMA_VERSION).build().await.unwrap();
    let tx = raw
        .transaction(&[schema::MESSAGES], TransactionMode::ReadOnly)
        .unwrap();
    let records = tx
        .store(schema::MESSAGES)
        .unwrap()
        .get_all(None, None)
        .await
        .unwrap();
    assert_eq!(records.len(), 2);
    let field =
        |record: &JsValue, key: &str| Reflect::get(record, &JsValue::from_str(key)).unwrap();
    let keys = |record: &JsValue| -> Vec<String> {
        Object::keys(record.unchecked_ref::<Object>())
            .iter()
            .map(|k| k.as_string().unwrap())
            .collect()
    };
    let fields = [
        "conversation_id",
        "seq",
        "client_msg_id",
        "server_msg_id",
        "send_id",
        "recv_id",
        "group_id",
        "sender_platform_id",
        "sender_nickname",
        "sender_face_url",
        "session_type",
        "msg_from",
        "content_type",
        "content",
        "send_time",
        "create_time",
        "status",
        "is_read",
        "options",
        "at_user_ids",
        "attached_info",
        "ex",
    ];
    let (record, no_id_record) = (&records[0], &records[1]);
    assert_eq!(keys(record), fields);
    let without_id: Vec<&str> = fields
        .into_iter()
        .filter(|f| *f != "client_msg_id")
        .collect();
    assert_eq!(keys(no_id_record), without_id);
    assert_eq!(field(record, "seq").as_f64(), Some(1.0));
    assert_eq!(field(record, "session_type").as_f64(), Some(3.0));
    assert_eq!(
        field(record, "send_time").as_f64(),
        Some(1_700_000_000_001.0)
    );
    let raw_content = field(&field(record, "content"), "Raw");
    assert!(raw_content.is_instance_of::<Uint8Array>());
    assert_eq!(Uint8Array::new(&raw_content).to_vec(), vec![123, 0, 255]);
    let options = field(record, "options").dyn_into::<Map>().unwrap();
    assert_eq!(options.get(&JsValue::from_str("isHistory")), JsValue::FALSE);
    assert!(Array::is_array(&field(record, "at_user_ids")));
    let json = |value: &JsValue| JSON::stringify(value).unwrap().as_string().unwrap();
    assert_eq!(json(&field(record, "status")), r#""Sent""#);
    assert_eq!(
        json(&field(no_id_record, "status")),
        r#"{"Failed":{"code":1302}}"#
    );
    assert_eq!(
        json(&field(no_id_record, "content")),
        r#"{"Text":"message 2"}"#
    );
    raw.close();

    let read = store
        .messages(&g2, Seq(1)..=Seq(2), 10, Direction::Ascending)
        .await
        .unwrap();
    assert_eq!(read, vec![picture, no_id]);
    store.close();
}

#[wasm_bindgen_test]
async fn two_connections_see_each_others_writes() {
    let name = unique_name("tabs");
    IdbStore::delete(&name).await.unwrap();
    let tab_a = IdbStore::open(&name).await.unwrap();
    let tab_b = IdbStore::open(&name).await.unwrap();
    let g1 = conv("sg_g1");

    tab_a.save_changes(&pull(&g1, 1..=3)).await.unwrap();
    let seen_by_b = tab_b
        .messages(&g1, Seq(1)..=Seq::MAX, 10, Direction::Ascending)
        .await
        .unwrap();
    assert_eq!(seen_by_b.len(), 3);
    assert_eq!(
        tab_b
            .load_cursors()
            .await
            .unwrap()
            .get(&g1)
            .map(|s| s.cursor),
        Some(Seq(3))
    );

    // B continues from what A stored: its state relies on A's messages 1..=3.
    let mut next = Changes::new().message(text(&g1, 4, "c4"));
    next.sync_states
        .insert(g1.clone(), SyncState::from_known(Seq(1), known(1..=4)));
    tab_b.save_changes(&next).await.unwrap();
    tab_b.put_meta("user", &"u1".to_owned()).await.unwrap();
    assert_eq!(
        tab_a
            .load_cursors()
            .await
            .unwrap()
            .get(&g1)
            .map(|s| s.cursor),
        Some(Seq(4))
    );
    assert_eq!(
        tab_a
            .message_by_client_id("c4")
            .await
            .unwrap()
            .map(|m| m.seq),
        Some(Seq(4))
    );
    assert_eq!(
        tab_a.get_meta::<String>("user").await.unwrap().as_deref(),
        Some("u1")
    );
    tab_a.close();
    tab_b.close();
}

#[wasm_bindgen_test]
async fn an_open_connection_does_not_block_deletion() {
    let name = unique_name("blocking");
    IdbStore::delete(&name).await.unwrap();
    let tab = IdbStore::open(&name).await.unwrap();
    tab.save_changes(&seed()).await.unwrap();
    // Another tab deletes (or upgrades) the database: this connection closes itself.
    IdbStore::delete(&name).await.unwrap();
    let err = tab.load_cursors().await.unwrap_err();
    assert!(matches!(err.kind(), StoreErrorKind::Backend(_)), "{err:?}");
    let reopened = IdbStore::open(&name).await.unwrap();
    assert!(reopened.load_cursors().await.unwrap().is_empty());
    reopened.close();
}

#[wasm_bindgen_test]
async fn large_batches_save_and_read_back_in_order() {
    let store = fresh("large").await;
    let g1 = conv("sg_g1");
    // A catch-up sync: two batches of 2000 messages, the second continuing the first.
    let first = pull(&g1, 1..=2000);
    let mut second = pull(&g1, 2001..=4000);
    second
        .sync_states
        .insert(g1.clone(), SyncState::from_known(Seq(1), known(1..=4000)));
    let started = js_sys::Date::now();
    store.save_changes(&first).await.unwrap();
    let saved_first = js_sys::Date::now();
    store.save_changes(&second).await.unwrap();
    let saved_second = js_sys::Date::now();

    let all = store
        .messages(&g1, Seq(1)..=Seq::MAX, usize::MAX, Direction::Ascending)
        .await
        .unwrap();
    let read_all = js_sys::Date::now();
    console_log!(
        "2000-message batches saved in {} ms and {} ms; 4000 messages read in {} ms",
        saved_first - started,
        saved_second - saved_first,
        read_all - saved_second
    );
    assert_eq!(all.len(), 4000);
    assert!(all.iter().zip(1..).all(|(m, seq)| m.seq == Seq(seq)));
    assert_eq!(all.get(2000), second.messages.first());
    assert_eq!(all.last(), second.messages.last());
    let newest = store
        .messages(&g1, Seq(1)..=Seq::MAX, 50, Direction::Descending)
        .await
        .unwrap();
    let seqs: Vec<u64> = newest.iter().map(|m| m.seq.get()).collect();
    assert_eq!(seqs, (3951..=4000).rev().collect::<Vec<_>>());
    let state = store.load_cursors().await.unwrap();
    assert_eq!(state.get(&g1).map(|s| s.cursor), Some(Seq(4000)));
    assert_eq!(
        store
            .message_by_client_id("sg_g1-3333")
            .await
            .unwrap()
            .map(|m| m.seq),
        Some(Seq(3333))
    );
    store.close();
}

fn rewrites(rewrites: Vec<MessageRewrite>) -> Changes {
    let mut changes = Changes::new();
    changes.message_rewrites = rewrites;
    changes
}

/// Batches that move clientMsgIDs around, applied to the IndexedDB store and to the reference
/// MemoryStore: both must answer every query alike.
#[wasm_bindgen_test]
async fn client_id_moves_match_the_memory_store() {
    let idb = fresh("differential").await;
    let memory = MemoryStore::new();
    let g1 = conv("sg_g1");
    let g2 = conv("sg_g2");
    let mut sending = text(&g1, 0, "c-a");
    sending.status = MessageStatus::Sending;
    let mut echo = text(&g1, 2, "c-a");
    echo.status = MessageStatus::Sent;
    let mut replacement = text(&g1, 1, "c-b");
    replacement.sender_nickname = "Bob".into();
    let batches = [
        // W (c-w) at seq 1, an unsent c-a.
        pull(&g1, [1]).message(sending.clone()).message({
            let mut w = text(&g1, 1, "c-w");
            w.ex = "w".into();
            w
        }),
        // Unsent and echo in one batch; then c-b replaces W at seq 1, then c-w lands at seq 3.
        Changes::new()
            .message(sending)
            .message(echo)
            .message(replacement)
            .message(text(&g1, 3, "c-w"))
            .sync_state(g1.clone(), SyncState::from_known(Seq(1), known(1..=3))),
        // c-b moves to another conversation; a message without clientMsgID takes seq 2.
        Changes::new()
            .message(text(&g2, 1, "c-b"))
            .message(text(&g1, 2, ""))
            .sync_state(g2.clone(), SyncState::from_known(Seq(1), known([1]))),
        // Revoke by clientMsgID and rename a sender.
        rewrites(vec![
            MessageRewrite::Revoke {
                conversation_id: g1.clone(),
                seq: Seq::ZERO,
                client_msg_id: "c-w".into(),
                by: "u1".into(),
                role: 100,
                nickname: "Alice".into(),
                time: 9,
            },
            MessageRewrite::SenderProfile {
                conversation_id: g1.clone(),
                user_id: "u1".into(),
                nickname: "Alicia".into(),
                face_url: "https://face/a".into(),
            },
        ]),
    ];
    let ids = ["c-a", "c-b", "c-w", "sg_g1-1"];
    for (i, batch) in batches.iter().enumerate() {
        for _ in 0..2 {
            memory.save_changes(batch).await.unwrap();
            idb.save_changes(batch).await.unwrap();
            assert_eq!(
                snapshot(&idb, &ids).await,
                snapshot(&memory, &ids).await,
                "after batch {i}"
            );
        }
    }
    // c-b left seq 1 for sg_g2; the message without clientMsgID replaced the echo at seq 2.
    let final_state = snapshot(&idb, &ids).await;
    let g1_messages = final_state.messages.first().unwrap();
    let seqs: Vec<u64> = g1_messages.iter().map(|m| m.seq.get()).collect();
    assert_eq!(seqs, vec![2, 3]);
    assert!(matches!(
        g1_messages.last().map(|m| &m.status),
        Some(MessageStatus::Revoked { .. })
    ));
    assert!(g1_messages.iter().all(|m| m.sender_nickname == "Alicia"));
    idb.close();
}

/// A small deterministic generator (xorshift64*), so a failure replays identically.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Random batches of messages whose seqs and clientMsgIDs collide often (echoes, moves between
/// seqs and conversations, rows without clientMsgID, unsent rows), with conversation deletes and
/// rewrites mixed in: after every batch the IndexedDB store answers like the MemoryStore.
#[wasm_bindgen_test]
async fn random_batches_match_the_memory_store() {
    let idb = fresh("random").await;
    let memory = MemoryStore::new();
    let conversations = [conv("sg_g1"), conv("sg_g2")];
    let client_ids = ["c0", "c1", "c2", "c3", "c4", "c5"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..120 {
        let mut batch = Changes::new();
        for _ in 0..=rng.below(6) {
            let conversation = &conversations[rng.below(2) as usize];
            let seq = rng.below(5);
            let client_id = match rng.below(8) {
                0 if seq != 0 => "",
                n => client_ids[(n % 6) as usize],
            };
            let mut message = text(conversation, seq, client_id);
            message.send_id = format!("u{}", rng.below(2) + 1);
            message.ex = format!("round {round}");
            batch.messages.push(message);
        }
        match rng.below(10) {
            0 => batch
                .conversation_deletes
                .push(conversations[rng.below(2) as usize].clone()),
            1 => batch.message_rewrites.push(MessageRewrite::SenderProfile {
                conversation_id: conversations[rng.below(2) as usize].clone(),
                user_id: "u1".into(),
                nickname: format!("nick {round}"),
                face_url: String::new(),
            }),
            2 => batch.message_rewrites.push(MessageRewrite::Revoke {
                conversation_id: conversations[rng.below(2) as usize].clone(),
                seq: Seq(rng.below(5)),
                client_msg_id: client_ids[rng.below(6) as usize].into(),
                by: "u2".into(),
                role: 100,
                nickname: String::new(),
                time: round,
            }),
            _ => {}
        }
        memory.save_changes(&batch).await.unwrap();
        idb.save_changes(&batch).await.unwrap();
        let expected = snapshot(&memory, &client_ids).await;
        assert_eq!(snapshot(&idb, &client_ids).await, expected, "round {round}");
        // Unsent rows are found by clientMsgID only, never by range.
        let unsent = idb
            .messages(
                &conversations[0],
                Seq(0)..=Seq(10),
                100,
                Direction::Descending,
            )
            .await
            .unwrap();
        assert!(unsent.iter().all(|m| m.seq != Seq::ZERO));
    }
    idb.close();
}

/// An integer a JavaScript number cannot hold exactly is refused before anything is written,
/// and the error names its value.
#[wasm_bindgen_test]
async fn integers_beyond_2_pow_53_are_refused_with_their_value() {
    let store = fresh("wide").await;
    let mut changes = Changes::default();
    changes.versions.push(VersionUpdate {
        kind: VersionKind::Friends,
        key: "u1".into(),
        marker: Some(VersionMarker {
            version_id: "65f0c0ffee0000000000abcd".into(),
            version: u64::MAX,
        }),
    });
    let err = store.save_changes(&changes).await.unwrap_err();
    assert!(
        matches!(err.kind(), StoreErrorKind::Backend(text) if text.contains("18446744073709551615")),
        "{err:?}"
    );
    assert_eq!(
        store.version(VersionKind::Friends, "u1").await.unwrap(),
        None
    );
}
