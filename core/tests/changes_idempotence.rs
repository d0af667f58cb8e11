//! Property: applying any batch twice leaves the store exactly as applying it once, and a
//! rejected batch leaves the store untouched. Checked on [`MemoryStore`] with random batches over
//! a small key space, so that keys collide often.

use chorus_core::changes::{
    Changes, MemberKey, OutboxChange, OutboxEntry, SyncState, VersionKind, VersionMarker,
    VersionUpdate,
};
use chorus_core::model::{Conversation, Friend, Member, Message, MessageStatus, User};
use chorus_core::{ConversationId, Direction, MemoryStore, Seq, SeqRanges, Store};
use futures::executor::block_on;
use proptest::prelude::*;

const CONVERSATIONS: [&str; 2] = ["sg_g1", "si_u1_u2"];
const CLIENT_IDS: [&str; 5] = ["c0", "c1", "c2", "c3", "c4"];

#[derive(Debug, Clone)]
enum Op {
    Message {
        conv: usize,
        seq: u64,
        client: usize,
        sending: bool,
    },
    Conversation {
        conv: usize,
        max: u64,
    },
    ConversationDelete {
        conv: usize,
    },
    User(usize, bool),
    Friend(usize, bool),
    FriendDelete(usize),
    Member(usize, usize, i32),
    MemberDelete(usize, usize),
    ClearMembers(usize),
    OutboxPut(usize, u32),
    OutboxRemove(usize),
    Version(usize, Option<u64>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..7u64, 0..5usize, any::<bool>()).prop_map(|(conv, seq, client, sending)| {
            Op::Message { conv, seq, client, sending }
        }),
        1 => (0..2usize, 0..8u64).prop_map(|(conv, max)| Op::Conversation { conv, max }),
        1 => (0..2usize).prop_map(|conv| Op::ConversationDelete { conv }),
        1 => (0..3usize, any::<bool>()).prop_map(|(u, b)| Op::User(u, b)),
        1 => (0..3usize, any::<bool>()).prop_map(|(u, b)| Op::Friend(u, b)),
        1 => (0..3usize).prop_map(Op::FriendDelete),
        1 => (0..2usize, 0..3usize, prop_oneof![Just(20), Just(60), Just(100)])
            .prop_map(|(g, u, r)| Op::Member(g, u, r)),
        1 => (0..2usize, 0..3usize).prop_map(|(g, u)| Op::MemberDelete(g, u)),
        1 => (0..2usize).prop_map(Op::ClearMembers),
        1 => (0..5usize, 0..3u32).prop_map(|(c, a)| Op::OutboxPut(c, a)),
        1 => (0..5usize).prop_map(Op::OutboxRemove),
        1 => (0..2usize, proptest::option::of(1..5u64)).prop_map(|(k, v)| Op::Version(k, v)),
    ]
}

fn conv(i: usize) -> ConversationId {
    ConversationId::parse(CONVERSATIONS[i]).unwrap()
}

fn user_id(i: usize) -> String {
    format!("u{i}")
}

fn batch(ops: &[Op], with_states: bool) -> Changes {
    let mut changes = Changes::new();
    for op in ops {
        match op.clone() {
            Op::Message {
                conv: c,
                seq,
                client,
                sending,
            } => {
                let mut message = Message::text(conv(c), Seq(seq), CLIENT_IDS[client], "x");
                message.status = if sending {
                    MessageStatus::Sending
                } else {
                    MessageStatus::Sent
                };
                changes.messages.push(message);
            }
            Op::Conversation { conv: c, max } => {
                let mut conversation = Conversation::new(conv(c));
                conversation.max_seq = Seq(max);
                changes.conversations.push(conversation);
            }
            Op::ConversationDelete { conv: c } => changes.conversation_deletes.push(conv(c)),
            Op::User(u, renamed) => changes.users.push(User {
                user_id: user_id(u),
                nickname: if renamed { "new" } else { "old" }.into(),
                ..User::default()
            }),
            Op::Friend(u, remark) => changes.friends.push(Friend {
                user: User {
                    user_id: user_id(u),
                    ..User::default()
                },
                remark: if remark { "r" } else { "" }.into(),
                ..Friend::default()
            }),
            Op::FriendDelete(u) => changes.friend_deletes.push(user_id(u)),
            Op::Member(g, u, role) => changes.members.push(Member {
                group_id: format!("g{g}"),
                user_id: user_id(u),
                role_level: role,
                ..Member::default()
            }),
            Op::MemberDelete(g, u) => changes.member_deletes.push(MemberKey {
                group_id: format!("g{g}"),
                user_id: user_id(u),
            }),
            Op::ClearMembers(g) => changes.clear_members_of.push(format!("g{g}")),
            Op::OutboxPut(c, attempts) => changes.outbox.push(OutboxChange::Put(OutboxEntry {
                client_msg_id: CLIENT_IDS[c].into(),
                conversation_id: conv(0),
                attempts,
                created_at: 0,
                last_error: None,
            })),
            Op::OutboxRemove(c) => changes.outbox.push(OutboxChange::Remove {
                client_msg_id: CLIENT_IDS[c].into(),
            }),
            Op::Version(k, v) => changes.versions.push(VersionUpdate {
                kind: if k == 0 {
                    VersionKind::Friends
                } else {
                    VersionKind::GroupMembers
                },
                key: "k".into(),
                marker: v.map(|version| VersionMarker {
                    version_id: "v".into(),
                    version,
                }),
            }),
        }
    }
    if with_states {
        // The sync state each conversation's messages in this batch imply.
        for c in 0..CONVERSATIONS.len() {
            let known: SeqRanges = changes
                .messages
                .iter()
                .filter(|m| m.conversation_id == conv(c))
                .map(|m| m.seq)
                .collect();
            if !known.is_empty() {
                changes
                    .sync_states
                    .insert(conv(c), SyncState::from_known(Seq(1), known));
            }
        }
    }
    changes
}

/// Everything observable through the `Store` queries.
#[derive(Debug, PartialEq)]
struct Snapshot {
    messages: Vec<Vec<Message>>,
    by_client: Vec<Option<Message>>,
    cursors: Vec<(ConversationId, SyncState)>,
    conversations: Vec<Conversation>,
    users: Vec<Option<User>>,
    friends: Vec<Friend>,
    members: Vec<Vec<Member>>,
    outbox: Vec<OutboxEntry>,
    versions: Vec<Option<VersionMarker>>,
}

async fn snapshot(store: &MemoryStore) -> Snapshot {
    let mut messages = Vec::new();
    for c in 0..CONVERSATIONS.len() {
        messages.push(
            store
                .messages(
                    &conv(c),
                    Seq(1)..=Seq::MAX,
                    usize::MAX,
                    Direction::Ascending,
                )
                .await
                .unwrap(),
        );
    }
    let mut by_client = Vec::new();
    for id in CLIENT_IDS {
        by_client.push(store.message_by_client_id(id).await.unwrap());
    }
    let mut users = Vec::new();
    let mut members = Vec::new();
    for i in 0..3 {
        users.push(store.user(&user_id(i)).await.unwrap());
        members.push(store.members(&format!("g{i}")).await.unwrap());
    }
    Snapshot {
        messages,
        by_client,
        cursors: store.load_cursors().await.unwrap().into_iter().collect(),
        conversations: store.conversations().await.unwrap(),
        users,
        friends: store.friends().await.unwrap(),
        members,
        outbox: store.outbox().await.unwrap(),
        versions: vec![
            store.version(VersionKind::Friends, "k").await.unwrap(),
            store.version(VersionKind::GroupMembers, "k").await.unwrap(),
        ],
    }
}

proptest! {
    #[test]
    fn applying_a_batch_twice_equals_applying_it_once(
        before in proptest::collection::vec(op(), 0..12),
        ops in proptest::collection::vec(op(), 0..16),
        with_states in any::<bool>(),
    ) {
        block_on(async {
            let once = MemoryStore::new();
            let twice = MemoryStore::new();
            let prior = batch(&before, true);
            let first_prior = once.save_changes(&prior).await;
            let second_prior = twice.save_changes(&prior).await;
            assert_eq!(first_prior.is_ok(), second_prior.is_ok());

            let changes = batch(&ops, with_states);
            let untouched = snapshot(&once).await;
            let result = once.save_changes(&changes).await;
            if result.is_err() {
                assert_eq!(snapshot(&once).await, untouched, "a rejected batch changed the store");
            }
            let first = twice.save_changes(&changes).await;
            let second = twice.save_changes(&changes).await;
            assert_eq!(result.is_ok(), first.is_ok());
            if first.is_ok() {
                assert!(second.is_ok(), "re-saving an accepted batch failed: {second:?}");
            }
            assert_eq!(snapshot(&once).await, snapshot(&twice).await);
        });
    }
}
