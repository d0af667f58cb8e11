//! [`Changes`]: one batch to persist, with the cursors inside it.
//!
//! A pull result, a push, an entity sync page or a local command becomes one `Changes` value that
//! a [`Store`](crate::store::Store) persists atomically; memory and events change only after it
//! is saved, so a cursor never moves in a separate write. Every part of a batch is a "set" keyed
//! by identity, so applying the same batch twice is a no-op:
//!
//! * messages by (conversation, seq) and by clientMsgID (an echo with a seq replaces the unsent
//!   seq-0 row with the same clientMsgID);
//! * conversations by id, users by user id, friends by friend user id, groups by group id,
//!   members by (group id, user id), outbox entries by clientMsgID, versions by (kind, key);
//! * each conversation's [`SyncState`] replaces the stored one.
//!
//! Stores apply the parts in a fixed order: clears, then deletes, then upserts, then message
//! rewrites, then sync states.
//!
//! This module holds data only: no I/O, no clock.

use serde::{Deserialize, Serialize};

use chorus_proto::constants::ContentType;
use chorus_proto::content::encode_revoked_content;
use chorus_proto::pb::sdkws::MessageRevokedContent;

use crate::model::{
    Content, Conversation, ConversationId, Friend, Group, Member, Message, MessageStatus, Seq, User,
};
use crate::ranges::{SeqRange, SeqRanges};
use crate::vec_map::VecMap;

/// How far one conversation is synced.
///
/// `known` is every seq stored locally (deleted placeholders included). `floor` is the lowest seq
/// the sync wants (1 normally; higher when only the newest part of a long history was fetched, or
/// after a clear). `cursor` is the highest seq such that `floor..=cursor` is all known: pushes at
/// `cursor + 1` apply directly, anything further ahead opens a gap.
///
/// Stores reject a state whose `floor..=cursor` is not all in `known`, or whose `known` seqs are
/// not all stored as messages once the batch is applied: the cursor is never ahead of messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// The lowest seq wanted.
    pub floor: Seq,
    /// The highest seq with `floor..=cursor` all known; `floor − 1` (or 0) when none is.
    pub cursor: Seq,
    /// Every seq stored locally.
    pub known: SeqRanges,
}

impl SyncState {
    /// A state whose cursor is the end of the known run starting at `floor` (`floor` 0 counts as
    /// 1).
    pub fn from_known(floor: Seq, known: SeqRanges) -> SyncState {
        let floor = floor.max(Seq(1));
        let cursor = known
            .contiguous_end_from(floor)
            .unwrap_or_else(|| floor.prev());
        SyncState {
            floor,
            cursor,
            known,
        }
    }

    /// Whether `floor..=cursor` is all known.
    pub fn is_consistent(&self) -> bool {
        let floor = self.floor.max(Seq(1));
        self.cursor < floor || self.known.contains_range(floor, self.cursor)
    }

    /// The missing ranges between the floor and `max` (e.g. the server's max seq).
    pub fn gaps_up_to(&self, max: Seq) -> Vec<SeqRange> {
        self.known.gaps_between(self.floor.max(Seq(1)), max)
    }
}

/// A gap in one conversation, opened (a seq arrived ahead of the cursor) or closed (repaired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapChange {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The missing seqs.
    pub range: SeqRange,
}

/// A message waiting for the server's acknowledgement. The message itself is stored with the
/// messages (seq 0, status sending) and found with `message_by_client_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message's clientMsgID.
    pub client_msg_id: String,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Send attempts so far.
    pub attempts: u32,
    /// When it was first queued, ms since the epoch.
    pub created_at: i64,
    /// The last server error code, if an attempt failed.
    pub last_error: Option<i32>,
}

/// One change to the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum OutboxChange {
    /// Insert or replace the entry with this clientMsgID.
    Put(OutboxEntry),
    /// Remove the entry (acknowledged, echoed or abandoned).
    Remove {
        /// The clientMsgID.
        client_msg_id: String,
    },
}

/// The entity lists that have incremental version sync (spec §5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum VersionKind {
    /// The user's friend list (key: owner user id).
    Friends,
    /// The user's joined groups (key: owner user id).
    JoinedGroups,
    /// A group's members (key: group id).
    GroupMembers,
    /// The user's conversations (key: owner user id).
    Conversations,
}

/// The server's version of an entity list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionMarker {
    /// The version log id (24 hex chars).
    pub version_id: String,
    /// The version number.
    pub version: u64,
}

/// Sets or clears one version marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionUpdate {
    /// The list.
    pub kind: VersionKind,
    /// Its key (owner user id or group id).
    pub key: String,
    /// The new marker; `None` forgets it (forcing a full refetch next time).
    pub marker: Option<VersionMarker>,
}

/// A rewrite of messages that are already stored, for changes that arrive without the messages
/// themselves: a member's new nickname or face, a revocation.
///
/// Stores apply rewrites after the batch's message upserts, to every stored message the rewrite
/// [matches](MessageRewrite::matches) and to the conversation's latest message, with
/// [`MessageRewrite::apply`], so every store rewrites the same way. A rewrite that matches nothing
/// is not an error (the message may not be synced yet; a later pull brings it in its new form).
/// Applying a rewrite twice is the same as applying it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MessageRewrite {
    /// Show a new sender nickname and face on every message `user_id` sent in the conversation.
    SenderProfile {
        /// The conversation (a group chat).
        conversation_id: ConversationId,
        /// The sender.
        user_id: String,
        /// The nickname to show.
        nickname: String,
        /// The face URL to show.
        face_url: String,
    },
    /// Turn one message into its revoked form (found by seq, or by clientMsgID when the seq is 0).
    Revoke {
        /// The conversation.
        conversation_id: ConversationId,
        /// The message's seq.
        seq: Seq,
        /// The message's clientMsgID.
        client_msg_id: String,
        /// The revoker's user id.
        by: String,
        /// The revoker's role level.
        role: i32,
        /// The revoker's nickname.
        nickname: String,
        /// When it was revoked, ms since the epoch.
        time: i64,
    },
}

impl MessageRewrite {
    /// The conversation whose messages are rewritten.
    pub fn conversation_id(&self) -> &ConversationId {
        match self {
            MessageRewrite::SenderProfile {
                conversation_id, ..
            }
            | MessageRewrite::Revoke {
                conversation_id, ..
            } => conversation_id,
        }
    }

    /// Whether `message` is one this rewrite changes.
    pub fn matches(&self, message: &Message) -> bool {
        if &message.conversation_id != self.conversation_id() {
            return false;
        }
        match self {
            MessageRewrite::SenderProfile { user_id, .. } => &message.send_id == user_id,
            MessageRewrite::Revoke {
                seq, client_msg_id, ..
            } => {
                if *seq != Seq::ZERO {
                    message.seq == *seq
                } else {
                    !client_msg_id.is_empty() && &message.client_msg_id == client_msg_id
                }
            }
        }
    }

    /// Rewrites `message` (which should [match](MessageRewrite::matches)).
    ///
    /// A revocation gives the message the form servers give revoked messages: content type 2101
    /// with the revocation as content, and [`MessageStatus::Revoked`].
    ///
    /// Returns whether `message` changed: false when it already showed this sender profile or
    /// was already revoked.
    pub fn apply(&self, message: &mut Message) -> bool {
        match self {
            MessageRewrite::SenderProfile {
                nickname, face_url, ..
            } => {
                if message.sender_nickname == *nickname && message.sender_face_url == *face_url {
                    return false;
                }
                message.sender_nickname.clone_from(nickname);
                message.sender_face_url.clone_from(face_url);
                true
            }
            MessageRewrite::Revoke {
                by,
                role,
                nickname,
                time,
                ..
            } => {
                if matches!(message.status, MessageStatus::Revoked { .. }) {
                    // Already revoked (the first revocation wins, as on the server).
                    return false;
                }
                let revoked = MessageRevokedContent {
                    revoker_id: by.clone(),
                    revoker_role: *role,
                    client_msg_id: message.client_msg_id.clone(),
                    revoker_nickname: nickname.clone(),
                    revoke_time: *time,
                    source_message_send_time: message.send_time,
                    source_message_send_id: message.send_id.clone(),
                    source_message_sender_nickname: message.sender_nickname.clone(),
                    session_type: message.session_type.as_i32(),
                    seq: message.seq.to_wire(),
                    ex: String::new(),
                };
                // Encoding a plain struct cannot fail in practice; if it did, the status below
                // still marks the message revoked and the original content is dropped.
                let content = encode_revoked_content(&revoked).unwrap_or_default();
                message.content_type = ContentType::MsgRevokeNotification.as_i32();
                message.content = Content::Raw(content);
                message.status = MessageStatus::Revoked {
                    by: by.clone(),
                    role: *role,
                    nickname: nickname.clone(),
                    time: *time,
                };
                true
            }
        }
    }
}

/// The key of a group member.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MemberKey {
    /// Group id.
    pub group_id: String,
    /// User id.
    pub user_id: String,
}

impl MemberKey {
    /// The key of `member`.
    pub fn of(member: &Member) -> MemberKey {
        MemberKey {
            group_id: member.group_id.clone(),
            user_id: member.user_id.clone(),
        }
    }
}

/// One batch to persist atomically. Build it with [`Changes::default`] and the push methods or
/// by filling the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Changes {
    /// Messages to insert or replace (by (conversation, seq) and by clientMsgID). A message with
    /// seq 0 is an unsent one and must have a clientMsgID.
    pub messages: Vec<Message>,
    /// Conversations to insert or replace.
    pub conversations: Vec<Conversation>,
    /// Conversations to delete, with their messages and sync state.
    pub conversation_deletes: Vec<ConversationId>,
    /// New sync state per conversation.
    pub sync_states: VecMap<ConversationId, SyncState>,
    /// Gaps this batch opened (for events; the sync state already records them).
    pub gaps_opened: Vec<GapChange>,
    /// Gaps this batch closed (for events).
    pub gaps_closed: Vec<GapChange>,
    /// Users to insert or replace.
    pub users: Vec<User>,
    /// Forget every friend before applying the rest (a full friend refetch).
    pub clear_friends: bool,
    /// Friends to insert or replace.
    pub friends: Vec<Friend>,
    /// Friends to delete, by friend user id.
    pub friend_deletes: Vec<String>,
    /// Forget every group (and member) before applying the rest (a full joined-group refetch).
    pub clear_groups: bool,
    /// Groups to insert or replace.
    pub groups: Vec<Group>,
    /// Groups to delete, with their members.
    pub group_deletes: Vec<String>,
    /// Forget every member of these groups before applying the rest (a full member refetch).
    pub clear_members_of: Vec<String>,
    /// Members to insert or replace.
    pub members: Vec<Member>,
    /// Members to delete.
    pub member_deletes: Vec<MemberKey>,
    /// Outbox changes, applied in order.
    pub outbox: Vec<OutboxChange>,
    /// Version markers to set or forget.
    pub versions: Vec<VersionUpdate>,
    /// Rewrites of stored messages, applied in order after the message upserts.
    pub message_rewrites: Vec<MessageRewrite>,
}

/// The empty batch, as one constant that every new batch is copied from.
const EMPTY: Changes = Changes {
    messages: Vec::new(),
    conversations: Vec::new(),
    conversation_deletes: Vec::new(),
    sync_states: VecMap::new(),
    gaps_opened: Vec::new(),
    gaps_closed: Vec::new(),
    users: Vec::new(),
    clear_friends: false,
    friends: Vec::new(),
    friend_deletes: Vec::new(),
    clear_groups: false,
    groups: Vec::new(),
    group_deletes: Vec::new(),
    clear_members_of: Vec::new(),
    members: Vec::new(),
    member_deletes: Vec::new(),
    outbox: Vec::new(),
    versions: Vec::new(),
    message_rewrites: Vec::new(),
};

impl Default for Changes {
    fn default() -> Changes {
        EMPTY
    }
}

impl Changes {
    /// An empty batch.
    pub fn new() -> Changes {
        EMPTY
    }

    /// Whether the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        // Every field named, so a new one cannot be forgotten here.
        let Changes {
            messages,
            conversations,
            conversation_deletes,
            sync_states,
            gaps_opened,
            gaps_closed,
            users,
            clear_friends,
            friends,
            friend_deletes,
            clear_groups,
            groups,
            group_deletes,
            clear_members_of,
            members,
            member_deletes,
            outbox,
            versions,
            message_rewrites,
        } = self;
        !clear_friends
            && !clear_groups
            && messages.is_empty()
            && conversations.is_empty()
            && conversation_deletes.is_empty()
            && sync_states.is_empty()
            && gaps_opened.is_empty()
            && gaps_closed.is_empty()
            && users.is_empty()
            && friends.is_empty()
            && friend_deletes.is_empty()
            && groups.is_empty()
            && group_deletes.is_empty()
            && clear_members_of.is_empty()
            && members.is_empty()
            && member_deletes.is_empty()
            && outbox.is_empty()
            && versions.is_empty()
            && message_rewrites.is_empty()
    }

    /// Adds a message upsert.
    pub fn message(mut self, message: Message) -> Changes {
        self.messages.push(message);
        self
    }

    /// Adds a conversation upsert.
    pub fn conversation(mut self, conversation: Conversation) -> Changes {
        self.conversations.push(conversation);
        self
    }

    /// Sets a conversation's sync state.
    pub fn sync_state(mut self, conversation_id: ConversationId, state: SyncState) -> Changes {
        self.sync_states.insert(conversation_id, state);
        self
    }

    /// Adds an outbox change.
    pub fn outbox_change(mut self, change: OutboxChange) -> Changes {
        self.outbox.push(change);
        self
    }

    /// Checks what can be checked without the store: unsent messages have a clientMsgID, and
    /// every sync state is consistent. Stores call it before applying anything.
    pub fn validate(&self) -> Result<(), ChangesError> {
        for message in &self.messages {
            if message.seq == Seq::ZERO && message.client_msg_id.is_empty() {
                return Err(ChangesError::UnsentWithoutClientId {
                    conversation_id: message.conversation_id.clone(),
                });
            }
        }
        for (conversation_id, state) in &self.sync_states {
            if !state.is_consistent() {
                return Err(ChangesError::CursorAheadOfKnown {
                    conversation_id: conversation_id.clone(),
                    cursor: state.cursor,
                });
            }
        }
        Ok(())
    }
}

/// A batch that must not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChangesError {
    /// A message with seq 0 and no clientMsgID cannot be identified.
    #[error("unsent message in {conversation_id} has no clientMsgID")]
    UnsentWithoutClientId {
        /// The conversation.
        conversation_id: ConversationId,
    },
    /// A cursor claims seqs that are not known.
    #[error("cursor {cursor} of {conversation_id} is ahead of the known seqs")]
    CursorAheadOfKnown {
        /// The conversation.
        conversation_id: ConversationId,
        /// The cursor.
        cursor: Seq,
    },
    /// A known seq has no stored message.
    #[error("seq {seq} of {conversation_id} is marked known but has no message")]
    KnownWithoutMessage {
        /// The conversation.
        conversation_id: ConversationId,
        /// The seq.
        seq: Seq,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(seqs: &[u64]) -> SeqRanges {
        seqs.iter().map(|&s| Seq(s)).collect()
    }

    #[test]
    fn a_batch_with_any_change_is_not_empty() {
        assert!(Changes::default().is_empty());
        let changed = [
            Changes {
                clear_friends: true,
                ..Changes::default()
            },
            Changes {
                clear_groups: true,
                ..Changes::default()
            },
            Changes {
                friend_deletes: vec!["u1".to_owned()],
                ..Changes::default()
            },
            Changes {
                clear_members_of: vec!["g1".to_owned()],
                ..Changes::default()
            },
            Changes::default().sync_state(
                ConversationId::parse("si_a_b".to_owned()).expect("valid id"),
                SyncState::from_known(Seq(1), known(&[1])),
            ),
        ];
        for changes in changed {
            assert!(!changes.is_empty());
        }
    }

    #[test]
    fn cursor_follows_the_run_from_the_floor() {
        let state = SyncState::from_known(Seq(1), known(&[1, 2, 3, 7]));
        assert_eq!(state.cursor, Seq(3));
        assert_eq!(
            state.gaps_up_to(Seq(8)),
            vec![
                SeqRange::new(Seq(4), Seq(6)).unwrap(),
                SeqRange::new(Seq(8), Seq(8)).unwrap()
            ]
        );
        let deep = SyncState::from_known(Seq(50), known(&[50, 51]));
        assert_eq!(deep.cursor, Seq(51));
        assert!(deep.gaps_up_to(Seq(51)).is_empty());
        let cleared = SyncState::from_known(Seq(101), SeqRanges::new());
        assert_eq!(cleared.cursor, Seq(100));
        assert!(cleared.is_consistent());
    }

    #[test]
    fn validate_rejects_a_cursor_ahead_and_anonymous_unsent_messages() {
        let conv = ConversationId::group("g1");
        let ahead = Changes::new().sync_state(
            conv.clone(),
            SyncState {
                floor: Seq(1),
                cursor: Seq(5),
                known: known(&[1, 2, 3]),
            },
        );
        assert!(matches!(
            ahead.validate(),
            Err(ChangesError::CursorAheadOfKnown { .. })
        ));
        let anonymous = Changes::new().message(Message::text(conv.clone(), Seq::ZERO, "", "x"));
        assert!(matches!(
            anonymous.validate(),
            Err(ChangesError::UnsentWithoutClientId { .. })
        ));
        let fine = Changes::new()
            .message(Message::text(conv.clone(), Seq(1), "c1", "x"))
            .sync_state(conv, SyncState::from_known(Seq(1), known(&[1])));
        assert_eq!(fine.validate(), Ok(()));
        assert!(!fine.is_empty());
        assert!(Changes::new().is_empty());
    }

    #[test]
    fn apply_reports_whether_the_message_changed() {
        let conversation_id = ConversationId::group("g1");
        let profile = MessageRewrite::SenderProfile {
            conversation_id: conversation_id.clone(),
            user_id: "u1".to_owned(),
            nickname: "New".to_owned(),
            face_url: "https://face/new".to_owned(),
        };
        let mut message = crate::model::msg()
            .conv("sg_g1")
            .seq(7)
            .from("u1", "Old")
            .build();
        assert!(profile.matches(&message));
        assert!(profile.apply(&mut message));
        assert_eq!(message.sender_nickname, "New");
        assert_eq!(message.sender_face_url, "https://face/new");
        let shown = message.clone();
        assert!(!profile.apply(&mut message));
        assert_eq!(message, shown);

        // Only the face differs: still a change.
        message.sender_face_url = "https://face/old".to_owned();
        assert!(profile.apply(&mut message));
        assert_eq!(message, shown);

        let revoke = MessageRewrite::Revoke {
            conversation_id,
            seq: Seq(7),
            client_msg_id: String::new(),
            by: "admin".to_owned(),
            role: 100,
            nickname: "Admin".to_owned(),
            time: 1_700_000_000_000,
        };
        assert!(revoke.matches(&message));
        assert!(revoke.apply(&mut message));
        assert!(matches!(message.status, MessageStatus::Revoked { .. }));
        let revoked = message.clone();
        assert!(!revoke.apply(&mut message));
        assert_eq!(message, revoked);
    }
}
