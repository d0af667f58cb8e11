//! The store conformance suite: the behaviour every [`Store`] implementation must show.
//!
//! Each case is a public `async fn` taking a fresh, empty store and panicking on a violation.
//! [`store_conformance_tests!`](crate::store_conformance_tests) turns them into test functions for
//! a given store constructor, in one of two shapes, because core depends on no async runtime:
//!
//! * **sync** — a plain test attribute and a `block_on` function run each case to completion
//!   (native tests: `futures::executor::block_on`):
//!
//!   ```ignore
//!   use chorus_core::memory_store::MemoryStore;
//!   chorus_core::store_conformance_tests!(
//!       sync: #[test],
//!       block_on = futures::executor::block_on,
//!       store = MemoryStore::new(),
//!   );
//!   ```
//!
//! * **async** — an attribute that accepts `async fn` tests runs each case itself (in the browser:
//!   `#[wasm_bindgen_test]`); the `store` expression may `.await`, e.g. to open a fresh IndexedDB
//!   database with a unique name per test:
//!
//!   ```ignore
//!   chorus_core::store_conformance_tests!(
//!       async: #[wasm_bindgen_test],
//!       store = IdbStore::open(&unique_db_name()).await.unwrap(),
//!   );
//!   ```
//!
//! Either form expands to a module `store_conformance` (which imports the caller's module with
//! `use super::*`) holding one test per case. The `store` expression is evaluated once per test.
//!
//! The cases use no I/O of their own and read no clock.

use crate::assert_ranges;
use crate::changes::{
    Changes, ChangesError, GapChange, MemberKey, MessageRewrite, OutboxChange, OutboxEntry,
    SyncState, VersionKind, VersionMarker, VersionUpdate,
};
use crate::model::{
    Announcement, Conversation, ConversationId, Friend, Group, Member, Message, MessageStatus, Seq,
    User,
};
use crate::ranges::{SeqRange, SeqRanges};
use crate::store::{Direction, Store, StoreErrorKind};

/// Every case name, for the macro.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_all {
    ($($shape:tt)*) => {
        /// The store conformance suite (see `chorus_core::store::conformance`).
        mod store_conformance {
            #[allow(unused_imports)]
            use super::*;
            $crate::__store_conformance_case!($($shape)* save_then_load_round_trip);
            $crate::__store_conformance_case!($($shape)* saving_twice_is_a_no_op);
            $crate::__store_conformance_case!($($shape)* cursor_never_ahead_of_messages);
            $crate::__store_conformance_case!($($shape)* message_by_client_id);
            $crate::__store_conformance_case!($($shape)* ranges_with_gaps_persist);
            $crate::__store_conformance_case!($($shape)* message_queries_by_range_and_direction);
            $crate::__store_conformance_case!($($shape)* entity_upsert_and_delete);
            $crate::__store_conformance_case!($($shape)* full_refetch_clears);
            $crate::__store_conformance_case!($($shape)* outbox_lifecycle);
            $crate::__store_conformance_case!($($shape)* conversation_delete_removes_its_data);
            $crate::__store_conformance_case!($($shape)* versions_set_and_forget);
            $crate::__store_conformance_case!($($shape)* message_rewrites_apply_to_stored_messages);
        }
    };
}

/// One test function of the suite.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_case {
    (sync [$attr:meta] [$block_on:path] [$make:expr] $case:ident) => {
        #[$attr]
        fn $case() {
            $block_on(async {
                let store = $make;
                $crate::store::conformance::$case(&store).await;
            })
        }
    };
    (async [$attr:meta] [$make:expr] $case:ident) => {
        #[$attr]
        async fn $case() {
            let store = $make;
            $crate::store::conformance::$case(&store).await;
        }
    };
}

/// Expands to a module of tests running the store conformance suite against a store; see
/// [`crate::store::conformance`] for the two forms.
#[macro_export]
macro_rules! store_conformance_tests {
    (sync: #[$attr:meta], block_on = $block_on:path, store = $make:expr $(,)?) => {
        $crate::__store_conformance_all!(sync [$attr] [$block_on] [$make]);
    };
    (async: #[$attr:meta], store = $make:expr $(,)?) => {
        $crate::__store_conformance_all!(async [$attr] [$make]);
    };
}

fn conv(id: &str) -> ConversationId {
    ConversationId::parse(id).expect("test conversation id")
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
    message.send_time = 1_700_000_000_000 + i64::try_from(seq).unwrap_or(0);
    message
}

fn known(seqs: impl IntoIterator<Item = u64>) -> SeqRanges {
    seqs.into_iter().map(Seq).collect()
}

/// A batch of `seqs` text messages in `conversation`, with the sync state they imply.
fn pull_batch(
    conversation: &ConversationId,
    seqs: impl IntoIterator<Item = u64> + Clone,
) -> Changes {
    let mut changes = Changes::new();
    for seq in seqs.clone() {
        changes
            .messages
            .push(text(conversation, seq, &format!("{conversation}-{seq}")));
    }
    changes.sync_states.insert(
        conversation.clone(),
        SyncState::from_known(Seq(1), known(seqs)),
    );
    changes
}

fn user(id: &str, nickname: &str) -> User {
    User {
        user_id: id.into(),
        nickname: nickname.into(),
        ..User::default()
    }
}

fn group(id: &str) -> Group {
    Group {
        group_id: id.into(),
        name: format!("group {id}"),
        announcement: Announcement {
            text: "welcome".into(),
            editor_user_id: "u1".into(),
            updated_at: 42,
        },
        introduction: String::new(),
        face_url: String::new(),
        owner_user_id: "u1".into(),
        creator_user_id: "u1".into(),
        create_time: 1,
        member_count: 2,
        ex: String::new(),
        status: 0,
        group_type: 2,
        need_verification: 0,
        look_member_info: chorus_proto::constants::AllowType::NotAllowed,
        apply_member_friend: chorus_proto::constants::AllowType::Allowed,
        history_for_new_members: Some(true),
    }
}

fn member(group_id: &str, user_id: &str, role_level: i32) -> Member {
    Member {
        group_id: group_id.into(),
        user_id: user_id.into(),
        role_level,
        join_source: 2,
        inviter_user_id: "u1".into(),
        nickname: format!("nick {user_id}"),
        ..Member::default()
    }
}

fn friend(user_id: &str, remark: &str) -> Friend {
    Friend {
        owner_user_id: "u1".into(),
        user: user(user_id, &format!("nick {user_id}")),
        remark: remark.into(),
        ..Friend::default()
    }
}

async fn all_messages<S: Store>(store: &S, conversation: &ConversationId) -> Vec<Message> {
    store
        .messages(
            conversation,
            Seq(1)..=Seq::MAX,
            usize::MAX,
            Direction::Ascending,
        )
        .await
        .expect("messages")
}

/// A store that saw nothing answers every query with nothing.
async fn assert_empty<S: Store>(store: &S, conversation: &ConversationId) {
    assert!(store.load_cursors().await.expect("cursors").is_empty());
    assert!(all_messages(store, conversation).await.is_empty());
    assert!(store
        .conversations()
        .await
        .expect("conversations")
        .is_empty());
    assert!(store.friends().await.expect("friends").is_empty());
    assert!(store.groups().await.expect("groups").is_empty());
    assert!(store.outbox().await.expect("outbox").is_empty());
    assert_eq!(store.user("u1").await.expect("user"), None);
}

/// Everything saved comes back equal.
pub async fn save_then_load_round_trip<S: Store>(store: &S) {
    let g1 = conv("sg_g1");
    let mut changes = pull_batch(&g1, 1..=3);
    let mut conversation = Conversation::new(g1.clone());
    conversation.max_seq = Seq(3);
    conversation.has_read_seq = Seq(1);
    conversation.latest_message = changes.messages.last().cloned();
    changes.conversations.push(conversation.clone());
    changes.users.push(user("u1", "Alice"));
    changes.friends.push(friend("u2", "Bobby"));
    changes.groups.push(group("g1"));
    changes.members.push(member("g1", "u1", 100));
    changes.members.push(member("g1", "u2", 20));
    changes.gaps_closed.push(GapChange {
        conversation_id: g1.clone(),
        range: SeqRange::new(Seq(2), Seq(2)).expect("range"),
    });
    store.save_changes(&changes).await.expect("save");

    assert_eq!(all_messages(store, &g1).await, changes.messages);
    let cursors = store.load_cursors().await.expect("cursors");
    assert_eq!(cursors.len(), 1);
    let state = cursors.get(&g1).expect("state of sg_g1");
    assert_eq!(state.cursor, Seq(3));
    assert_ranges!(state.known, [1..=3]);
    assert_eq!(
        store.conversations().await.expect("conversations"),
        vec![conversation.clone()]
    );
    let loaded = store
        .conversation(&g1)
        .await
        .expect("conversation")
        .expect("sg_g1 stored");
    assert_eq!(loaded.unread_count(), 2);
    assert_eq!(
        store.user("u1").await.expect("user"),
        Some(user("u1", "Alice"))
    );
    assert_eq!(store.user("u9").await.expect("user"), None);
    assert_eq!(
        store.friends().await.expect("friends"),
        vec![friend("u2", "Bobby")]
    );
    assert_eq!(store.group("g1").await.expect("group"), Some(group("g1")));
    assert_eq!(store.groups().await.expect("groups"), vec![group("g1")]);
    assert_eq!(
        store.members("g1").await.expect("members"),
        vec![member("g1", "u1", 100), member("g1", "u2", 20)]
    );
    assert!(store.members("g2").await.expect("members").is_empty());
}

/// Saving one batch twice leaves what saving it once left.
pub async fn saving_twice_is_a_no_op<S: Store>(store: &S) {
    let g1 = conv("sg_g1");
    let mut changes = pull_batch(&g1, 1..=5);
    changes.users.push(user("u1", "Alice"));
    changes.members.push(member("g1", "u1", 100));
    changes.outbox.push(OutboxChange::Put(OutboxEntry {
        client_msg_id: "c-out".into(),
        conversation_id: g1.clone(),
        attempts: 0,
        created_at: 10,
        last_error: None,
    }));
    changes.messages.push(text(&g1, 0, "c-out"));
    store.save_changes(&changes).await.expect("first save");
    let messages = all_messages(store, &g1).await;
    let cursors = store.load_cursors().await.expect("cursors");
    let outbox = store.outbox().await.expect("outbox");
    store.save_changes(&changes).await.expect("second save");
    assert_eq!(all_messages(store, &g1).await, messages);
    assert_eq!(messages.len(), 5);
    assert_eq!(store.load_cursors().await.expect("cursors"), cursors);
    assert_eq!(store.outbox().await.expect("outbox"), outbox);
    assert_eq!(store.members("g1").await.expect("members").len(), 1);
    let unsent = store
        .message_by_client_id("c-out")
        .await
        .expect("by client id")
        .expect("unsent message stored");
    assert_eq!(unsent.seq, Seq::ZERO);
    // A repeated push of messages already stored (a duplicate) changes nothing either.
    store
        .save_changes(
            &pull_batch(&g1, 2..=3)
                .sync_state(g1.clone(), SyncState::from_known(Seq(1), known(1..=5))),
        )
        .await
        .expect("duplicate push");
    assert_eq!(all_messages(store, &g1).await, messages);
    assert_eq!(store.load_cursors().await.expect("cursors"), cursors);
}

/// A batch whose cursor or known ranges claim messages it does not hold is rejected whole.
pub async fn cursor_never_ahead_of_messages<S: Store>(store: &S) {
    let g1 = conv("sg_g1");
    // Known seqs 4 and 5 have no messages.
    let mut bad = pull_batch(&g1, 1..=3);
    bad.sync_states
        .insert(g1.clone(), SyncState::from_known(Seq(1), known(1..=5)));
    bad.users.push(user("u1", "Alice"));
    bad.conversations.push(Conversation::new(g1.clone()));
    bad.outbox.push(OutboxChange::Put(OutboxEntry {
        client_msg_id: "c-out".into(),
        conversation_id: g1.clone(),
        attempts: 0,
        created_at: 0,
        last_error: None,
    }));
    let err = store.save_changes(&bad).await.expect_err("must reject");
    assert!(
        matches!(
            err.kind(),
            StoreErrorKind::Rejected(ChangesError::KnownWithoutMessage { seq: Seq(4), .. })
        ),
        "unexpected error {err:?}"
    );
    assert_empty(store, &g1).await;

    // A cursor beyond its own known ranges.
    let mut ahead = pull_batch(&g1, 1..=3);
    ahead.sync_states.insert(
        g1.clone(),
        SyncState {
            floor: Seq(1),
            cursor: Seq(4),
            known: known(1..=3),
        },
    );
    let err = store.save_changes(&ahead).await.expect_err("must reject");
    assert!(
        matches!(
            err.kind(),
            StoreErrorKind::Rejected(ChangesError::CursorAheadOfKnown { .. })
        ),
        "unexpected error {err:?}"
    );
    assert_empty(store, &g1).await;

    // Seqs stored by an earlier batch count: a later state may rely on them.
    store
        .save_changes(&pull_batch(&g1, 1..=3))
        .await
        .expect("first batch");
    let mut later = Changes::new();
    later.messages.push(text(&g1, 4, "c4"));
    later
        .sync_states
        .insert(g1.clone(), SyncState::from_known(Seq(1), known(1..=4)));
    store.save_changes(&later).await.expect("second batch");
    let state = store.load_cursors().await.expect("cursors");
    assert_eq!(state.get(&g1).map(|s| s.cursor), Some(Seq(4)));
}

/// Messages are found by clientMsgID, and an echo with a seq replaces the unsent row.
pub async fn message_by_client_id<S: Store>(store: &S) {
    let g1 = conv("sg_g1");
    store
        .save_changes(&pull_batch(&g1, 1..=2))
        .await
        .expect("save");
    let found = store
        .message_by_client_id("sg_g1-2")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.seq, Seq(2));
    assert_eq!(
        store.message_by_client_id("nope").await.expect("lookup"),
        None
    );

    let mut unsent = text(&g1, 0, "c-new");
    unsent.status = MessageStatus::Sending;
    store
        .save_changes(&Changes::new().message(unsent.clone()))
        .await
        .expect("save unsent");
    assert_eq!(
        store.message_by_client_id("c-new").await.expect("lookup"),
        Some(unsent.clone())
    );
    assert_eq!(
        all_messages(store, &g1).await.len(),
        2,
        "unsent rows have no seq"
    );

    let mut echo = unsent;
    echo.seq = Seq(3);
    echo.status = MessageStatus::Sent;
    echo.server_msg_id = "s3".into();
    store
        .save_changes(
            &Changes::new()
                .message(echo.clone())
                .sync_state(g1.clone(), SyncState::from_known(Seq(1), known(1..=3))),
        )
        .await
        .expect("save echo");
    assert_eq!(
        store.message_by_client_id("c-new").await.expect("lookup"),
        Some(echo.clone())
    );
    let messages = all_messages(store, &g1).await;
    assert_eq!(messages.len(), 3, "the echo replaced the unsent row");
    assert_eq!(messages.last(), Some(&echo));

    // Rewriting a stored message (a revoke) keeps it findable under the same keys.
    let mut revoked = echo;
    revoked.status = MessageStatus::Revoked {
        by: "u1".into(),
        role: 100,
        nickname: "Alice".into(),
        time: 5,
    };
    store
        .save_changes(&Changes::new().message(revoked.clone()))
        .await
        .expect("save revoke");
    assert_eq!(
        store.message_by_client_id("c-new").await.expect("lookup"),
        Some(revoked.clone())
    );
    assert_eq!(all_messages(store, &g1).await.last(), Some(&revoked));
}

/// Known ranges with gaps, and a floor above 1, survive a save.
pub async fn ranges_with_gaps_persist<S: Store>(store: &S) {
    let g1 = conv("sg_g1");
    let seqs = (1..=5).chain(9..=12);
    let mut changes = pull_batch(&g1, seqs.clone());
    changes.gaps_opened.push(GapChange {
        conversation_id: g1.clone(),
        range: SeqRange::new(Seq(6), Seq(8)).expect("range"),
    });
    let deep = conv("si_u1_u2");
    for seq in 96..=100 {
        changes.messages.push(text(&deep, seq, &format!("d{seq}")));
    }
    changes.sync_states.insert(
        deep.clone(),
        SyncState::from_known(Seq(96), known(96..=100)),
    );
    store.save_changes(&changes).await.expect("save");

    let cursors = store.load_cursors().await.expect("cursors");
    let state = cursors.get(&g1).expect("sg_g1");
    assert_ranges!(state.known, [1..=5] gap [9..=12]);
    assert_eq!(state.cursor, Seq(5));
    assert_eq!(
        state.gaps_up_to(Seq(14)),
        vec![
            SeqRange::new(Seq(6), Seq(8)).expect("range"),
            SeqRange::new(Seq(13), Seq(14)).expect("range")
        ]
    );
    let deep_state = cursors.get(&deep).expect("si_u1_u2");
    assert_eq!(deep_state.floor, Seq(96));
    assert_eq!(deep_state.cursor, Seq(100));
    assert_ranges!(deep_state.known, [96..=100]);

    // Repair closes the gap.
    let mut repair = pull_batch(&g1, 6..=8);
    repair
        .sync_states
        .insert(g1.clone(), SyncState::from_known(Seq(1), known(1..=12)));
    store.save_changes(&repair).await.expect("repair");
    let cursors = store.load_cursors().await.expect("cursors");
    let state = cursors.get(&g1).expect("sg_g1");
    assert_ranges!(state.known, [1..=12]);
    assert_eq!(state.cursor, Seq(12));
}

/// Range queries honour bounds, limit and direction, and never mix conversations.
pub async fn message_queries_by_range_and_direction<S: Store>(store: &S) {
    let g1 = conv("sg_g1");
    let g2 = conv("sg_g2");
    let mut changes = pull_batch(&g1, 1..=10);
    let other = pull_batch(&g2, 1..=3);
    changes.messages.extend(other.messages);
    changes.sync_states.extend(other.sync_states);
    store.save_changes(&changes).await.expect("save");

    let seqs = |messages: Vec<Message>| messages.iter().map(|m| m.seq.0).collect::<Vec<_>>();
    let asc = store
        .messages(&g1, Seq(3)..=Seq(8), 4, Direction::Ascending)
        .await
        .expect("asc");
    assert_eq!(seqs(asc), vec![3, 4, 5, 6]);
    let desc = store
        .messages(&g1, Seq(3)..=Seq(8), 4, Direction::Descending)
        .await
        .expect("desc");
    assert_eq!(seqs(desc), vec![8, 7, 6, 5]);
    let newest = store
        .messages(&g1, Seq(1)..=Seq::MAX, 2, Direction::Descending)
        .await
        .expect("newest");
    assert_eq!(seqs(newest), vec![10, 9]);
    let none = store
        .messages(&g1, Seq(11)..=Seq(20), 10, Direction::Ascending)
        .await
        .expect("none");
    assert!(none.is_empty());
    let zero = store
        .messages(&g1, Seq(1)..=Seq(5), 0, Direction::Ascending)
        .await
        .expect("limit 0");
    assert!(zero.is_empty());
    assert_eq!(seqs(all_messages(store, &g2).await), vec![1, 2, 3]);
}

/// Entities are inserted, replaced and deleted by their keys.
pub async fn entity_upsert_and_delete<S: Store>(store: &S) {
    let mut first = Changes::new();
    first.users.push(user("u2", "Bob"));
    first.friends.push(friend("u2", "Bobby"));
    first.friends.push(friend("u3", ""));
    first.groups.push(group("g1"));
    first.groups.push(group("g2"));
    first.members.push(member("g1", "u1", 100));
    first.members.push(member("g1", "u2", 20));
    first.members.push(member("g2", "u2", 20));
    store.save_changes(&first).await.expect("first");

    // Rename, remark deletion, announcement edit, role change, member removal, group removal.
    let mut second = Changes::new();
    second.users.push(user("u2", "Robert"));
    second.friends.push(friend("u2", ""));
    let mut edited = group("g1");
    edited.announcement = Announcement {
        text: "new rules".into(),
        editor_user_id: "u2".into(),
        updated_at: 99,
    };
    second.groups.push(edited.clone());
    second.members.push(member("g1", "u2", 60));
    second.member_deletes.push(MemberKey {
        group_id: "g1".into(),
        user_id: "u1".into(),
    });
    second.friend_deletes.push("u3".into());
    second.group_deletes.push("g2".into());
    store.save_changes(&second).await.expect("second");

    assert_eq!(
        store.user("u2").await.expect("user").map(|u| u.nickname),
        Some("Robert".to_owned())
    );
    let friends = store.friends().await.expect("friends");
    assert_eq!(friends.len(), 1);
    assert_eq!(friends.first().map(|f| f.remark.as_str()), Some(""));
    assert_eq!(friends.first().map(Friend::display_name), Some("nick u2"));
    assert_eq!(store.group("g1").await.expect("group"), Some(edited));
    assert_eq!(store.group("g2").await.expect("group"), None);
    assert!(
        store.members("g2").await.expect("members").is_empty(),
        "deleting a group deletes its members"
    );
    assert_eq!(
        store.members("g1").await.expect("members"),
        vec![member("g1", "u2", 60)]
    );
}

/// Clear flags wipe a list before the batch's upserts, as a full refetch needs.
pub async fn full_refetch_clears<S: Store>(store: &S) {
    let mut first = Changes::new();
    first.friends.push(friend("u2", ""));
    first.friends.push(friend("u3", ""));
    first.groups.push(group("g1"));
    first.members.push(member("g1", "u1", 100));
    first.members.push(member("g1", "u2", 20));
    first.groups.push(group("g2"));
    first.members.push(member("g2", "u9", 20));
    store.save_changes(&first).await.expect("first");

    let mut refetch = Changes::new();
    refetch.clear_friends = true;
    refetch.friends.push(friend("u4", "Dee"));
    refetch.clear_members_of.push("g1".into());
    refetch.members.push(member("g1", "u3", 20));
    store.save_changes(&refetch).await.expect("refetch");
    store.save_changes(&refetch).await.expect("refetch again");

    let friends = store.friends().await.expect("friends");
    assert_eq!(friends, vec![friend("u4", "Dee")]);
    assert_eq!(
        store.members("g1").await.expect("members"),
        vec![member("g1", "u3", 20)]
    );
    assert_eq!(store.members("g2").await.expect("members").len(), 1);

    let mut groups = Changes::new();
    groups.clear_groups = true;
    groups.groups.push(group("g3"));
    store.save_changes(&groups).await.expect("groups refetch");
    assert_eq!(store.groups().await.expect("groups"), vec![group("g3")]);
    assert!(store.members("g1").await.expect("members").is_empty());
    assert!(store.members("g2").await.expect("members").is_empty());
}

/// Queue, retry, acknowledge: the outbox and the message move together.
pub async fn outbox_lifecycle<S: Store>(store: &S) {
    let g1 = conv("sg_g1");
    let entry = |id: &str, created_at: i64, attempts: u32, last_error: Option<i32>| OutboxEntry {
        client_msg_id: id.into(),
        conversation_id: g1.clone(),
        attempts,
        created_at,
        last_error,
    };
    let mut sending_b = text(&g1, 0, "c-b");
    sending_b.status = MessageStatus::Sending;
    let mut sending_a = text(&g1, 0, "c-a");
    sending_a.status = MessageStatus::Sending;
    // Queued in this order: b at t=20, a at t=10; the outbox lists oldest first.
    store
        .save_changes(
            &Changes::new()
                .message(sending_b.clone())
                .outbox_change(OutboxChange::Put(entry("c-b", 20, 0, None))),
        )
        .await
        .expect("queue b");
    store
        .save_changes(
            &Changes::new()
                .message(sending_a.clone())
                .outbox_change(OutboxChange::Put(entry("c-a", 10, 0, None))),
        )
        .await
        .expect("queue a");
    let ids = |entries: Vec<OutboxEntry>| {
        entries
            .into_iter()
            .map(|e| e.client_msg_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.outbox().await.expect("outbox")),
        vec!["c-a", "c-b"]
    );

    // A retry after reconnect bumps the attempt count.
    store
        .save_changes(&Changes::new().outbox_change(OutboxChange::Put(entry("c-a", 10, 1, None))))
        .await
        .expect("retry");
    let outbox = store.outbox().await.expect("outbox");
    assert_eq!(outbox.first().map(|e| e.attempts), Some(1));
    assert_eq!(outbox.len(), 2);

    // a is echoed with seq 1; b fails with a server code.
    let mut echo = sending_a;
    echo.seq = Seq(1);
    echo.status = MessageStatus::Sent;
    let mut failed = sending_b;
    failed.status = MessageStatus::Failed { code: 1402 };
    let done = Changes::new()
        .message(echo.clone())
        .message(failed.clone())
        .sync_state(g1.clone(), SyncState::from_known(Seq(1), known([1])))
        .outbox_change(OutboxChange::Remove {
            client_msg_id: "c-a".into(),
        })
        .outbox_change(OutboxChange::Remove {
            client_msg_id: "c-b".into(),
        });
    store.save_changes(&done).await.expect("ack");
    store.save_changes(&done).await.expect("ack again");
    assert!(store.outbox().await.expect("outbox").is_empty());
    assert_eq!(all_messages(store, &g1).await, vec![echo.clone()]);
    assert_eq!(
        store.message_by_client_id("c-a").await.expect("lookup"),
        Some(echo)
    );
    assert_eq!(
        store.message_by_client_id("c-b").await.expect("lookup"),
        Some(failed)
    );
}

/// Deleting a conversation removes its messages and sync state, and nothing else.
pub async fn conversation_delete_removes_its_data<S: Store>(store: &S) {
    let g1 = conv("sg_g1");
    let g2 = conv("sg_g2");
    let mut changes = pull_batch(&g1, 1..=3);
    let other = pull_batch(&g2, 1..=2);
    changes.messages.extend(other.messages);
    changes.sync_states.extend(other.sync_states);
    changes.conversations.push(Conversation::new(g1.clone()));
    changes.conversations.push(Conversation::new(g2.clone()));
    store.save_changes(&changes).await.expect("save");

    let mut delete = Changes::new();
    delete.conversation_deletes.push(g1.clone());
    store.save_changes(&delete).await.expect("delete");
    assert!(all_messages(store, &g1).await.is_empty());
    assert_eq!(
        store.message_by_client_id("sg_g1-1").await.expect("lookup"),
        None
    );
    assert_eq!(store.conversation(&g1).await.expect("conversation"), None);
    let cursors = store.load_cursors().await.expect("cursors");
    assert!(!cursors.contains_key(&g1));
    assert!(cursors.contains_key(&g2));
    assert_eq!(all_messages(store, &g2).await.len(), 2);

    // After a delete, known seqs must be backed by new messages again.
    let mut stale = Changes::new();
    stale
        .sync_states
        .insert(g1.clone(), SyncState::from_known(Seq(1), known(1..=3)));
    assert!(store.save_changes(&stale).await.is_err());
}

/// Version markers are set per (kind, key) and can be forgotten.
pub async fn versions_set_and_forget<S: Store>(store: &S) {
    let marker = |version: u64| VersionMarker {
        version_id: "65f0c0ffee0000000000abcd".into(),
        version,
    };
    let set = |kind: VersionKind, key: &str, marker: Option<VersionMarker>| VersionUpdate {
        kind,
        key: key.into(),
        marker,
    };
    let mut changes = Changes::new();
    changes
        .versions
        .push(set(VersionKind::Friends, "u1", Some(marker(3))));
    changes
        .versions
        .push(set(VersionKind::GroupMembers, "g1", Some(marker(7))));
    store.save_changes(&changes).await.expect("save");
    assert_eq!(
        store
            .version(VersionKind::Friends, "u1")
            .await
            .expect("version"),
        Some(marker(3))
    );
    assert_eq!(
        store
            .version(VersionKind::GroupMembers, "g1")
            .await
            .expect("version"),
        Some(marker(7))
    );
    assert_eq!(
        store
            .version(VersionKind::GroupMembers, "u1")
            .await
            .expect("version"),
        None
    );
    assert_eq!(
        store
            .version(VersionKind::JoinedGroups, "u1")
            .await
            .expect("version"),
        None
    );
    let mut forget = Changes::new();
    forget.versions.push(set(VersionKind::Friends, "u1", None));
    forget
        .versions
        .push(set(VersionKind::GroupMembers, "g1", Some(marker(8))));
    store.save_changes(&forget).await.expect("forget");
    assert_eq!(
        store
            .version(VersionKind::Friends, "u1")
            .await
            .expect("version"),
        None
    );
    assert_eq!(
        store
            .version(VersionKind::GroupMembers, "g1")
            .await
            .expect("version"),
        Some(marker(8))
    );
}

/// Message rewrites change the stored messages they match (and the conversation's latest
/// message), nothing else, and applying them twice changes nothing more.
pub async fn message_rewrites_apply_to_stored_messages<S: Store>(store: &S) {
    let group = conv("sg_g1");
    let mut changes = pull_batch(&group, 1..=3);
    if let Some(second) = changes.messages.get_mut(1) {
        second.send_id = "u2".into();
        second.sender_nickname = "Bob".into();
    }
    let mut conversation = Conversation::new(group.clone());
    conversation.latest_message = changes.messages.last().cloned();
    changes.conversations.push(conversation);
    store.save_changes(&changes).await.expect("seed");

    let mut rewrites = Changes::new();
    rewrites
        .message_rewrites
        .push(MessageRewrite::SenderProfile {
            conversation_id: group.clone(),
            user_id: "u1".into(),
            nickname: "Alice2".into(),
            face_url: "https://face/a2".into(),
        });
    rewrites.message_rewrites.push(MessageRewrite::Revoke {
        conversation_id: group.clone(),
        seq: Seq(2),
        client_msg_id: String::new(),
        by: "u1".into(),
        role: 100,
        nickname: "Alice2".into(),
        time: 77,
    });
    for round in 0..2 {
        store.save_changes(&rewrites).await.expect("rewrite");
        let messages = all_messages(store, &group).await;
        let names: Vec<&str> = messages
            .iter()
            .map(|m| m.sender_nickname.as_str())
            .collect();
        assert_eq!(names, ["Alice2", "Bob", "Alice2"], "round {round}");
        let revoked = messages.get(1).expect("seq 2");
        assert_eq!(
            revoked.status,
            MessageStatus::Revoked {
                by: "u1".into(),
                role: 100,
                nickname: "Alice2".into(),
                time: 77
            }
        );
        assert_eq!(revoked.content_type, 2101);
        assert_eq!(
            messages.first().map(|m| &m.status),
            Some(&MessageStatus::Sent)
        );
        let latest = store
            .conversation(&group)
            .await
            .expect("conversation")
            .and_then(|c| c.latest_message)
            .expect("latest message");
        assert_eq!(latest.sender_nickname, "Alice2");
        assert_eq!(latest.sender_face_url, "https://face/a2");
    }
}
