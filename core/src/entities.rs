//! [`Entities`]: the in-memory view of users, friends, groups, members and conversations, kept
//! current by notifications (spec §3.6–3.8) and by incremental version sync (spec §5.8).
//!
//! The state machine is sans-IO and follows the collect-then-commit rule of the engine:
//!
//! * [`Entities::apply_notification`] and [`Entities::handle_rest`] return an [`EntityBatch`]: a
//!   [`Changes`] value to persist plus the events it will raise. The caller saves
//!   `batch.changes` with [`Store::save_changes`](crate::store::Store::save_changes), then hands
//!   the batch back to [`Entities::commit`], which updates memory and queues the events for
//!   [`Entities::poll_event`]. A batch that failed to save is dropped and changes nothing. Batches
//!   are computed from the committed view, so commit one before computing the next.
//! * Batches persisted by other parts of the engine (message sync) are shown to
//!   [`Entities::observe`], so the conversation view stays the stored one.
//! * The server's has-read seqs (1006, fetched by the sync engine) become a batch of conversation
//!   rows through [`Entities::apply_read_states`], committed like any other.
//! * Version sync is a queue of REST calls: [`Entities::poll_rest`] yields [`RestRequest`]s (path
//!   and JSON body), the driver posts them and passes each response envelope to
//!   [`Entities::handle_rest`] (or reports a transport failure with
//!   [`Entities::handle_rest_failed`]).
//!
//! Version rules (spec §5.8): a list with a marker asks for the delta since it; `full: true`
//! pages the whole list and replaces the local one in a single batch; the returned
//! `{versionID, version}` is stored in the same batch (`Changes::versions`). A tip carrying a
//! version is applied locally and advances the marker when `versionID` matches and
//! `version == local + 1`; `version <= local` means it was seen and is ignored; any other version
//! is applied locally for display and asks for the incremental call, which brings the
//! authoritative state. Tips that only say "something changed" (1206, 1209, 1210, 1300, 1303)
//! always ask for the call.
//!
//! Stored messages change through [`MessageRewrite`]s in the batch, applied by the store: a
//! member's new group nickname or face is shown on that member's messages in the group
//! (1516–1518), and a revocation (2101) turns the message into its revoked form.
//!
//! Never here: I/O, clocks (the caller passes `now`), message seq sync, message deletion (2102)
//! or clearing (1703), friend applications, blacklists and online status.

use std::collections::VecDeque;

use crate::vec_map::VecMap;

use chorus_proto::constants::{ContentType, GroupStatus, JoinSource, RoleLevel};
use chorus_proto::content::ContentError;
use chorus_proto::msgjson::{self, FieldSink, FromJson, Json, JsonError, Out, ToJson, WriteFields};
use chorus_proto::pb::conversation::Conversation as PbConversation;
use chorus_proto::pb::sdkws::{FriendInfo, GroupInfo, GroupMemberFullInfo, MsgData, UserInfo};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::changes::{
    Changes, MemberKey, MessageRewrite, VersionKind, VersionMarker, VersionUpdate,
};
use crate::model::{
    json_members, Conversation, ConversationId, ConversationKind, Friend, Group, Member,
    ModelError, Seq, User,
};
use crate::store::{Store, StoreError};
use crate::sync::ReadState;

mod tips;

use tips::Tips;

/// Page size of the friend, joined-group and member lists (what the official SDK uses).
pub const LIST_PAGE_SIZE: u32 = 100;
/// Page size of the conversation list.
pub const CONVERSATION_PAGE_SIZE: u32 = 300;
/// Most groups asked for in one `get_incremental_group_members_batch` call.
pub const MEMBER_BATCH_MAX: usize = 500;
/// A paged fetch stops after this many pages even if the server keeps answering full pages.
const MAX_PAGES: u32 = 10_000;
/// How many notification clientMsgIDs are remembered to drop duplicates (the `n_` original and
/// its chat-tip clone, or a redelivery).
const SEEN_CAPACITY: usize = 512;

/// A notification or REST response that could not be used: one pointer, so results carrying it
/// stay small.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct EntitiesError(Box<EntitiesErrorKind>);

chorus_proto::boxed_error_kind!(EntitiesError, EntitiesErrorKind);

impl From<ContentError> for EntitiesError {
    fn from(err: ContentError) -> Self {
        EntitiesErrorKind::Content(err).into()
    }
}

impl From<ModelError> for EntitiesError {
    fn from(err: ModelError) -> Self {
        EntitiesErrorKind::Model(err).into()
    }
}

/// What kind of failure an [`EntitiesError`] is.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EntitiesErrorKind {
    /// A response for a request this state machine did not issue (or already answered).
    #[error("no REST request with tag RestTag({}) is in flight", .0.0)]
    UnknownTag(RestTag),
    /// The server answered with a non-zero `errCode`.
    #[error("server error {code}: {message}")]
    Server {
        /// `errCode`.
        code: i32,
        /// `errMsg`.
        message: String,
    },
    /// The response body is not the expected JSON.
    #[error("REST response is not the expected JSON: {0}")]
    Json(JsonError),
    /// The notification content could not be decoded.
    #[error(transparent)]
    Content(ContentError),
    /// A wire value could not become a domain value.
    #[error(transparent)]
    Model(ModelError),
}

/// Identifies one REST request; the driver passes it back with the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RestTag(pub u64);

/// A REST call to make: `POST <path>` with `body_json` (headers are the driver's business).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestRequest {
    /// Pass it back to [`Entities::handle_rest`].
    pub tag: RestTag,
    /// The API path, e.g. `/friend/get_incremental_friends`.
    pub path: &'static str,
    /// The JSON body.
    pub body_json: String,
}

/// A message revocation as the app sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedInfo {
    /// The conversation of the revoked message.
    pub conversation_id: ConversationId,
    /// Its seq.
    pub seq: Seq,
    /// Its clientMsgID.
    pub client_msg_id: String,
    /// Who revoked it.
    pub revoker_user_id: String,
    /// The revoker's role level (group role, or app level in single chats; 0 when unknown).
    pub revoker_role: i32,
    /// The revoker's nickname, when known.
    pub revoker_nickname: String,
    /// When, ms since the epoch.
    pub revoke_time: i64,
    /// Whether an app administrator revoked it.
    pub is_admin_revoke: bool,
}

/// The serde derive's JSON form: the fields by name, in declaration order.
impl WriteFields for RevokedInfo {
    fn field_count(&self) -> usize {
        8
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("conversation_id", self.conversation_id.to_out());
        sink.field("seq", self.seq.to_out());
        sink.field("client_msg_id", Out::Str(&self.client_msg_id));
        sink.field("revoker_user_id", Out::Str(&self.revoker_user_id));
        sink.field("revoker_role", Out::I32(self.revoker_role));
        sink.field("revoker_nickname", Out::Str(&self.revoker_nickname));
        sink.field("revoke_time", Out::I64(self.revoke_time));
        sink.field("is_admin_revoke", Out::Bool(self.is_admin_revoke));
    }
}

impl ToJson for RevokedInfo {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
}

/// Reads what the serde derive writes; a missing or `null` field reads as its zero value.
impl FromJson for RevokedInfo {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut f = json_members(value)?;
        Ok(RevokedInfo {
            conversation_id: f.take("conversation_id")?,
            seq: f.take("seq")?,
            client_msg_id: f.take("client_msg_id")?,
            revoker_user_id: f.take("revoker_user_id")?,
            revoker_role: f.take("revoker_role")?,
            revoker_nickname: f.take("revoker_nickname")?,
            revoke_time: f.take("revoke_time")?,
            is_admin_revoke: f.take("is_admin_revoke")?,
        })
    }
}

/// What changed, named after the official SDK callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// The names are the official SDK's callback names, which all start with `On`, so apps can
// migrate by name.
#[allow(clippy::enum_variant_names)]
pub enum EntityEvent {
    /// The logged-in user's profile changed.
    OnSelfInfoUpdated(User),
    /// A friend was added.
    OnFriendAdded(Friend),
    /// A friend was removed.
    OnFriendDeleted(Friend),
    /// A friend's remark or profile changed.
    OnFriendInfoChanged(Friend),
    /// The user joined a group.
    OnJoinedGroupAdded(Group),
    /// The user left a group (quit, kicked, dismissed).
    OnJoinedGroupDeleted(Group),
    /// A group's info changed (name, announcement, flags, owner, mute).
    OnGroupInfoChanged(Group),
    /// A group was dismissed.
    OnGroupDismissed(Group),
    /// A member joined.
    OnGroupMemberAdded(Member),
    /// A member left.
    OnGroupMemberDeleted(Member),
    /// A member's role, nickname, face or mute changed.
    OnGroupMemberInfoChanged(Member),
    /// Conversations appeared.
    OnNewConversation(Vec<Conversation>),
    /// Conversations changed (settings, has-read seq).
    OnConversationChanged(Vec<Conversation>),
    /// The total unread count (over all chat conversations) changed.
    OnTotalUnreadMessageCountChanged(u64),
    /// A message was revoked.
    OnNewRecvMessageRevoked(RevokedInfo),
}

/// Changes to persist and the events they raise once committed.
#[derive(Debug, Clone)]
#[must_use = "save `changes`, then pass the batch to `Entities::commit`"]
pub struct EntityBatch {
    /// The batch to persist.
    pub changes: Changes,
    /// The events [`Entities::commit`] releases.
    pub events: Vec<EntityEvent>,
    /// Notification clientMsgIDs to remember as applied.
    seen: Vec<String>,
}

/// The empty batch. One compiled copy serves every caller (the batch has many fields).
impl Default for EntityBatch {
    #[inline(never)]
    fn default() -> Self {
        EntityBatch {
            changes: Changes::default(),
            events: Vec::new(),
            seen: Vec::new(),
        }
    }
}

impl EntityBatch {
    /// Whether there is nothing to persist and nothing to announce.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.events.is_empty() && self.seen.is_empty()
    }
}

/// Everything [`Entities`] starts from (normally read from the store by [`Entities::load`]).
#[derive(Debug, Clone, Default)]
pub struct EntitySnapshot {
    /// The logged-in user's profile, when stored.
    pub self_user: Option<User>,
    /// Friends.
    pub friends: Vec<Friend>,
    /// Joined groups.
    pub groups: Vec<Group>,
    /// Members of the joined groups.
    pub members: Vec<Member>,
    /// Conversations.
    pub conversations: Vec<Conversation>,
    /// Version markers.
    pub versions: Vec<VersionUpdate>,
}

/// One entity list with incremental version sync.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ListKey {
    Friends,
    JoinedGroups,
    Conversations,
    Members(String),
}

/// Rows collected by a paged full fetch.
#[derive(Debug, Clone)]
enum Rows {
    Friends(Vec<Friend>),
    Groups(Vec<Group>),
    Members(Vec<Member>),
    Conversations(Vec<Conversation>),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::Friends(v) => v.len(),
            Rows::Groups(v) => v.len(),
            Rows::Members(v) => v.len(),
            Rows::Conversations(v) => v.len(),
        }
    }
}

#[derive(Debug, Clone)]
struct FullFetch {
    target: VersionMarker,
    page: u32,
    rows: Rows,
}

#[derive(Debug, Clone, Default)]
struct ListSync {
    /// A call should be made (set again by a tip while one is in flight).
    wanted: bool,
    /// A call or a paged fetch is in flight.
    busy: bool,
    full: Option<FullFetch>,
}

#[derive(Debug, Clone)]
enum Call {
    Incremental(ListKey),
    MembersBatch(Vec<String>),
    Page(ListKey),
    SelfInfo,
    /// `/msg/mark_conversation_as_read`: its answer changes nothing locally.
    MarkRead,
}

/// How a member tip changes the row it carries before it is stored.
#[derive(Debug, Clone, Copy)]
enum MemberEdit {
    /// Muted until this time (ms), unless the row names an end.
    MuteUntil(i64),
    /// No longer muted.
    Unmute,
    /// This role level, unless the row names one (0: the row's role as it is).
    Role(i32),
}

/// Outcome of comparing a tip's version with the local marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VersionCheck {
    /// The tip carries no version: apply it, the marker stays.
    Unversioned,
    /// The next version: apply it and advance the marker.
    Next,
    /// Already seen: ignore the tip.
    Stale,
    /// A gap or another version log: apply for display and ask for the incremental call.
    Gap,
}

/// The entity view and its sync state machine; see the module docs.
#[derive(Debug)]
pub struct Entities {
    user_id: String,
    self_user: Option<User>,
    friends: VecMap<String, Friend>,
    groups: VecMap<String, Group>,
    members: VecMap<String, VecMap<String, Member>>,
    conversations: VecMap<ConversationId, Conversation>,
    versions: VecMap<(VersionKind, String), VersionMarker>,
    seen: VecDeque<String>,
    events: VecDeque<EntityEvent>,
    next_tag: u64,
    outgoing: VecDeque<RestRequest>,
    in_flight: VecMap<RestTag, Call>,
    lists: VecMap<ListKey, ListSync>,
    self_info_wanted: bool,
    self_info_busy: bool,
}

impl Entities {
    /// An empty view for the logged-in user `user_id`.
    pub fn new(user_id: impl Into<String>) -> Entities {
        Entities::from_snapshot(user_id, EntitySnapshot::default())
    }

    /// A view holding `snapshot`.
    pub fn from_snapshot(user_id: impl Into<String>, snapshot: EntitySnapshot) -> Entities {
        let mut entities = Entities {
            user_id: user_id.into(),
            self_user: snapshot.self_user,
            friends: VecMap::new(),
            groups: VecMap::new(),
            members: VecMap::new(),
            conversations: VecMap::new(),
            versions: VecMap::new(),
            seen: VecDeque::new(),
            events: VecDeque::new(),
            next_tag: 1,
            outgoing: VecDeque::new(),
            in_flight: VecMap::new(),
            lists: VecMap::new(),
            self_info_wanted: false,
            self_info_busy: false,
        };
        let mut changes = Changes::new();
        changes.friends = snapshot.friends;
        changes.groups = snapshot.groups;
        changes.members = snapshot.members;
        changes.conversations = snapshot.conversations;
        changes.versions = snapshot.versions;
        entities.apply_to_view(&changes);
        entities
    }

    /// Reads the view of `user_id` from a store.
    pub async fn load<S: Store>(store: &S, user_id: &str) -> Result<Entities, StoreError> {
        let mut snapshot = EntitySnapshot {
            self_user: store.user(user_id).await?,
            friends: store.friends().await?,
            groups: store.groups().await?,
            conversations: store.conversations().await?,
            ..EntitySnapshot::default()
        };
        let mut keys: Vec<(VersionKind, String)> = [
            VersionKind::Friends,
            VersionKind::JoinedGroups,
            VersionKind::Conversations,
        ]
        .into_iter()
        .map(|kind| (kind, user_id.to_owned()))
        .collect();
        for group in &snapshot.groups {
            snapshot
                .members
                .extend(store.members(&group.group_id).await?);
            keys.push((VersionKind::GroupMembers, group.group_id.clone()));
        }
        for (kind, key) in keys {
            if let Some(marker) = store.version(kind, &key).await? {
                snapshot.versions.push(VersionUpdate {
                    kind,
                    key,
                    marker: Some(marker),
                });
            }
        }
        Ok(Entities::from_snapshot(user_id, snapshot))
    }

    // ----- queries -------------------------------------------------------------------------

    /// The logged-in user id.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The logged-in user's profile, when known.
    pub fn self_user(&self) -> Option<&User> {
        self.self_user.as_ref()
    }

    /// One friend.
    pub fn friend(&self, user_id: &str) -> Option<&Friend> {
        self.friends.get::<str>(user_id)
    }

    /// Every friend, by user id.
    pub fn friends(&self) -> impl Iterator<Item = &Friend> {
        self.friends.values()
    }

    /// One joined group.
    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.groups.get::<str>(group_id)
    }

    /// Every joined group, by group id.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// One member.
    pub fn member(&self, group_id: &str, user_id: &str) -> Option<&Member> {
        self.members
            .get::<str>(group_id)
            .and_then(|m| m.get::<str>(user_id))
    }

    /// The members of a group, by user id.
    pub fn members(&self, group_id: &str) -> impl Iterator<Item = &Member> {
        self.members
            .get(group_id)
            .into_iter()
            .flat_map(|m| m.values())
    }

    /// One conversation.
    pub fn conversation(&self, id: &ConversationId) -> Option<&Conversation> {
        self.conversations.get(id)
    }

    /// Every conversation, by id.
    pub fn conversations(&self) -> impl Iterator<Item = &Conversation> {
        self.conversations.values()
    }

    /// Σ (max seq − has-read seq) over the chat conversations (`n_` ones excluded).
    pub fn total_unread(&self) -> u64 {
        self.conversations
            .values()
            .filter(|c| c.id.kind() != ConversationKind::Notification)
            .map(Conversation::unread_count)
            .fold(0, u64::saturating_add)
    }

    /// The stored version marker of a list.
    pub fn version(&self, kind: VersionKind, key: &str) -> Option<&VersionMarker> {
        self.versions.get(&(kind, key.to_owned()))
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<EntityEvent> {
        self.events.pop_front()
    }

    // ----- commit ------------------------------------------------------------------------------

    /// Takes a saved batch into memory and queues its events.
    pub fn commit(&mut self, batch: EntityBatch) {
        let before = self.total_unread();
        self.apply_to_view(&batch.changes);
        for event in batch.events {
            self.events.push_back(event);
        }
        for id in batch.seen {
            if self.seen.len() >= SEEN_CAPACITY {
                self.seen.pop_front();
            }
            self.seen.push_back(id);
        }
        self.announce_total_unread(before);
    }

    /// Takes a batch persisted by another part of the engine into memory; raises
    /// [`EntityEvent::OnNewConversation`] / [`EntityEvent::OnConversationChanged`] for the
    /// conversation rows it adds or changes and [`EntityEvent::OnTotalUnreadMessageCountChanged`]
    /// when the total moved.
    pub fn observe(&mut self, changes: &Changes) {
        let before = self.total_unread();
        // Message sync writes conversation rows (latest message, max seq): the app hears of
        // them as the official SDK tells it, new ones and changed ones.
        let mut rows: VecMap<&ConversationId, &Conversation> = VecMap::new();
        for conversation in &changes.conversations {
            rows.insert(&conversation.id, conversation);
        }
        let mut added = Vec::new();
        let mut changed = Vec::new();
        for (id, row) in rows {
            match self.conversations.get(id) {
                None => added.push(row.clone()),
                Some(old) if old != row => changed.push(row.clone()),
                Some(_) => {}
            }
        }
        self.apply_to_view(changes);
        if !added.is_empty() {
            self.events.push_back(EntityEvent::OnNewConversation(added));
        }
        if !changed.is_empty() {
            self.events
                .push_back(EntityEvent::OnConversationChanged(changed));
        }
        self.announce_total_unread(before);
    }

    fn announce_total_unread(&mut self, before: u64) {
        let after = self.total_unread();
        if after != before {
            self.events
                .push_back(EntityEvent::OnTotalUnreadMessageCountChanged(after));
        }
    }

    /// Applies a batch to memory, in the order stores apply it.
    fn apply_to_view(&mut self, changes: &Changes) {
        if changes.clear_friends {
            self.friends.clear();
        }
        if changes.clear_groups {
            self.groups.clear();
            self.members.clear();
        }
        for group_id in &changes.clear_members_of {
            self.members.remove::<str>(group_id);
        }
        for id in &changes.conversation_deletes {
            self.conversations.remove(id);
        }
        for user_id in &changes.friend_deletes {
            self.friends.remove::<str>(user_id);
        }
        for group_id in &changes.group_deletes {
            self.groups.remove::<str>(group_id);
            self.members.remove::<str>(group_id);
        }
        for key in &changes.member_deletes {
            if let Some(members) = self.members.get_mut::<str>(&key.group_id) {
                members.remove::<str>(&key.user_id);
            }
        }
        self.conversations.extend(
            changes
                .conversations
                .iter()
                .map(|c| (c.id.clone(), c.clone())),
        );
        for user in &changes.users {
            if user.user_id == self.user_id {
                self.self_user = Some(user.clone());
            }
        }
        self.friends.extend(
            changes
                .friends
                .iter()
                .map(|f| (f.user.user_id.clone(), f.clone())),
        );
        self.groups.extend(
            changes
                .groups
                .iter()
                .map(|g| (g.group_id.clone(), g.clone())),
        );
        // Runs of one group's rows go in together.
        for run in changes.members.chunk_by(|a, b| a.group_id == b.group_id) {
            self.members
                .get_or_default(run[0].group_id.clone())
                .extend(run.iter().map(|m| (m.user_id.clone(), m.clone())));
        }
        for update in &changes.versions {
            let key = (update.kind, update.key.clone());
            match &update.marker {
                Some(marker) => {
                    self.versions.insert(key, marker.clone());
                }
                None => {
                    self.versions.remove(&key);
                }
            }
        }
        for rewrite in &changes.message_rewrites {
            if let Some(latest) = self
                .conversations
                .get_mut(rewrite.conversation_id())
                .and_then(|c| c.latest_message.as_mut())
            {
                if rewrite.matches(latest) {
                    rewrite.apply(latest);
                }
            }
        }
    }

    // ----- commands ----------------------------------------------------------------------------

    /// Asks for the incremental sync of every list (friends, joined groups and then their
    /// members, conversations) and the user's own profile: what a (re)login does.
    pub fn sync_all(&mut self) {
        self.want(ListKey::Friends);
        self.want(ListKey::JoinedGroups);
        self.want(ListKey::Conversations);
        self.self_info_wanted = true;
    }

    /// Asks for the incremental member sync of one group.
    pub fn sync_members(&mut self, group_id: &str) {
        self.want(ListKey::Members(group_id.to_owned()));
    }

    /// Asks for the user's own profile (`/user/get_users_info`).
    pub fn refresh_self(&mut self) {
        self.self_info_wanted = true;
    }

    /// Marks a conversation read up to its max seq: the batch of its row (the has-read seq only
    /// moves forward), and the `/msg/mark_conversation_as_read` call queued for
    /// [`Entities::poll_rest`]. `None` when the conversation is unknown or already read.
    ///
    /// The local mark stays if the call fails: the next connect's has-read seqs (1006) bring the
    /// server's mark back.
    pub fn mark_conversation_read(&mut self, id: &ConversationId) -> Option<EntityBatch> {
        let conversation = self.conversations.get(id)?;
        if conversation.has_read_seq >= conversation.max_seq {
            return None;
        }
        let mut row = conversation.clone();
        let max = row.max_seq;
        row.has_read_seq = max;
        let mut batch = EntityBatch::default();
        self.upsert_conversations(&mut batch, vec![row]);
        let body = msgjson::object(vec![
            ("conversationID", Json::Str(id.as_str().to_owned())),
            ("hasReadSeq", Json::U64(max.0)),
            ("seqs", Json::List(Vec::new())),
            ("userID", Json::Str(self.user_id.clone())),
        ]);
        let request = self.issue(Call::MarkRead, "/msg/mark_conversation_as_read", body);
        self.outgoing.push_back(request);
        Some(batch)
    }

    fn want(&mut self, key: ListKey) {
        self.lists.get_or_default(key).wanted = true;
    }

    // ----- REST ---------------------------------------------------------------------------------

    /// The next REST call to make.
    pub fn poll_rest(&mut self) -> Option<RestRequest> {
        if let Some(request) = self.outgoing.pop_front() {
            return Some(request);
        }
        if self.self_info_wanted && !self.self_info_busy {
            self.self_info_wanted = false;
            self.self_info_busy = true;
            let user_ids = Json::List(vec![Json::Str(self.user_id.clone())]);
            let body = msgjson::object(vec![("userIDs", user_ids)]);
            return Some(self.issue(Call::SelfInfo, "/user/get_users_info", body));
        }
        for key in [
            ListKey::JoinedGroups,
            ListKey::Friends,
            ListKey::Conversations,
        ] {
            if self.take_wanted(&key) {
                let (kind, path) = match key {
                    ListKey::Friends => (VersionKind::Friends, "/friend/get_incremental_friends"),
                    ListKey::JoinedGroups => (
                        VersionKind::JoinedGroups,
                        "/group/get_incremental_join_groups",
                    ),
                    _ => (
                        VersionKind::Conversations,
                        "/conversation/get_incremental_conversations",
                    ),
                };
                let (version_id, version) = self.marker_json(kind, &self.user_id);
                let body = msgjson::object(vec![
                    ("userID", Json::Str(self.user_id.clone())),
                    ("version", Json::U64(version)),
                    ("versionID", Json::Str(version_id)),
                ]);
                return Some(self.issue(Call::Incremental(key), path, body));
            }
        }
        let groups: Vec<String> = self
            .lists
            .iter()
            .filter_map(|(key, sync)| match key {
                ListKey::Members(gid) if sync.wanted && !sync.busy => Some(gid.clone()),
                _ => None,
            })
            .take(MEMBER_BATCH_MAX)
            .collect();
        if groups.is_empty() {
            return None;
        }
        let mut req_list = Vec::new();
        for gid in &groups {
            self.take_wanted(&ListKey::Members(gid.clone()));
            let (version_id, version) = self.marker_json(VersionKind::GroupMembers, gid);
            req_list.push(msgjson::object(vec![
                ("groupID", Json::Str(gid.clone())),
                ("version", Json::U64(version)),
                ("versionID", Json::Str(version_id)),
            ]));
        }
        let body = msgjson::object(vec![
            ("reqList", Json::List(req_list)),
            ("userID", Json::Str(self.user_id.clone())),
        ]);
        Some(self.issue(
            Call::MembersBatch(groups),
            "/group/get_incremental_group_members_batch",
            body,
        ))
    }

    fn take_wanted(&mut self, key: &ListKey) -> bool {
        match self.lists.get_mut(key) {
            Some(sync) if sync.wanted && !sync.busy => {
                sync.wanted = false;
                sync.busy = true;
                true
            }
            _ => false,
        }
    }

    fn marker_json(&self, kind: VersionKind, key: &str) -> (String, u64) {
        self.versions
            .get(&(kind, key.to_owned()))
            .map(|m| (m.version_id.clone(), m.version))
            .unwrap_or_default()
    }

    fn issue(&mut self, call: Call, path: &'static str, body: Json) -> RestRequest {
        let tag = RestTag(self.next_tag);
        self.next_tag += 1;
        self.in_flight.insert(tag, call);
        RestRequest {
            tag,
            path,
            body_json: body.to_text(),
        }
    }

    /// Reports that a request failed before an answer arrived (network error, HTTP error).
    /// The lists it covered become idle; the next [`Entities::sync_all`] or tip retries them.
    pub fn handle_rest_failed(&mut self, tag: RestTag) {
        if let Some(call) = self.in_flight.remove(&tag) {
            self.release(&call);
        }
    }

    fn release(&mut self, call: &Call) {
        match call {
            Call::Incremental(key) | Call::Page(key) => self.finish(key),
            Call::MembersBatch(groups) => {
                for gid in groups {
                    self.finish(&ListKey::Members(gid.clone()));
                }
            }
            Call::SelfInfo => self.self_info_busy = false,
            Call::MarkRead => {}
        }
    }

    fn finish(&mut self, key: &ListKey) {
        if let Some(sync) = self.lists.get_mut(key) {
            sync.busy = false;
            sync.full = None;
        }
    }

    /// Handles the response envelope (`{"errCode","errMsg","data"}`) of the request `tag`.
    pub fn handle_rest(
        &mut self,
        tag: RestTag,
        envelope: &str,
    ) -> Result<EntityBatch, EntitiesError> {
        let call = self
            .in_flight
            .remove(&tag)
            .ok_or_else(|| EntitiesError::from(EntitiesErrorKind::UnknownTag(tag)))?;
        let result = self.dispatch(&call, envelope);
        if result.is_err() {
            self.release(&call);
        }
        result
    }

    fn dispatch(&mut self, call: &Call, envelope: &str) -> Result<EntityBatch, EntitiesError> {
        let mut data = parse_envelope(envelope)?;
        match call {
            Call::SelfInfo => {
                self.self_info_busy = false;
                let users: Vec<UserInfo> = list(&mut data, "usersInfo")?;
                let mut batch = EntityBatch::default();
                for info in users {
                    if info.user_id == self.user_id {
                        let user = User::try_from(info)?;
                        if self.self_user.as_ref() != Some(&user) {
                            batch.changes.users.push(user.clone());
                            batch.events.push(EntityEvent::OnSelfInfoUpdated(user));
                        }
                    }
                }
                Ok(batch)
            }
            Call::Incremental(key) => self.on_incremental(key, data),
            Call::MembersBatch(groups) => self.on_members_batch(groups, data),
            Call::Page(key) => self.on_page(key, data),
            Call::MarkRead => Ok(EntityBatch::default()),
        }
    }

    fn version_kind(&self, key: &ListKey) -> (VersionKind, String) {
        match key {
            ListKey::Friends => (VersionKind::Friends, self.user_id.clone()),
            ListKey::JoinedGroups => (VersionKind::JoinedGroups, self.user_id.clone()),
            ListKey::Conversations => (VersionKind::Conversations, self.user_id.clone()),
            ListKey::Members(gid) => (VersionKind::GroupMembers, gid.clone()),
        }
    }

    fn set_marker(&self, changes: &mut Changes, key: &ListKey, marker: VersionMarker) {
        let (kind, key) = self.version_kind(key);
        if self.versions.get(&(kind, key.clone())) != Some(&marker) {
            changes.versions.push(VersionUpdate {
                kind,
                key,
                marker: Some(marker),
            });
        }
    }

    fn on_incremental(
        &mut self,
        key: &ListKey,
        mut data: Fields,
    ) -> Result<EntityBatch, EntitiesError> {
        let mut batch = EntityBatch::default();
        match key {
            ListKey::Friends => {
                let delta = Incremental::<FriendInfo>::read(&mut data)?;
                if delta.full {
                    self.start_full(key, delta.marker());
                    return Ok(batch);
                }
                let marker = delta.marker();
                for user_id in &delta.delete {
                    if let Some(old) = self.friends.get::<str>(user_id) {
                        batch.changes.friend_deletes.push(user_id.clone());
                        batch.events.push(EntityEvent::OnFriendDeleted(old.clone()));
                    }
                }
                for info in delta.rows {
                    let friend = Friend::try_from(info)?;
                    self.upsert_friend(&mut batch, friend);
                }
                self.set_marker(&mut batch.changes, key, marker);
            }
            ListKey::JoinedGroups => {
                let delta = Incremental::<GroupInfo>::read(&mut data)?;
                if delta.full {
                    self.start_full(key, delta.marker());
                    return Ok(batch);
                }
                let marker = delta.marker();
                let mut joined: VecMap<String, ()> = VecMap::new();
                joined.extend(self.groups.keys().map(|gid| (gid.clone(), ())));
                for gid in &delta.delete {
                    joined.remove::<str>(gid);
                    self.leave_group(&mut batch, gid, false);
                }
                for info in delta.rows {
                    let group = self.merged_group(info)?;
                    joined.insert(group.group_id.clone(), ());
                    self.upsert_group(&mut batch, group);
                }
                self.set_marker(&mut batch.changes, key, marker);
                for (gid, ()) in joined {
                    self.want(ListKey::Members(gid));
                }
            }
            ListKey::Conversations => {
                let delta = Incremental::<PbConversation>::read(&mut data)?;
                if delta.full {
                    self.start_full(key, delta.marker());
                    return Ok(batch);
                }
                let marker = delta.marker();
                for id in &delta.delete {
                    if let Ok(id) = ConversationId::parse(id.as_str()) {
                        if self.conversations.contains_key(&id) {
                            batch.changes.conversation_deletes.push(id);
                        }
                    }
                }
                let mut rows = Vec::new();
                for pb in delta.rows {
                    rows.push(self.merged_conversation(pb)?);
                }
                self.upsert_conversations(&mut batch, rows);
                self.set_marker(&mut batch.changes, key, marker);
            }
            ListKey::Members(_) => {}
        }
        self.finish(key);
        Ok(batch)
    }

    fn on_members_batch(
        &mut self,
        groups: &[String],
        mut data: Fields,
    ) -> Result<EntityBatch, EntitiesError> {
        let entries = members_of(take(&mut data, "respList"))?;
        // The entries' keys are unique (they come from one object), so a list does.
        let mut respond: Vec<(String, Incremental<GroupMemberFullInfo>)> = Vec::new();
        for (gid, entry) in entries {
            respond.push((gid, Incremental::read(&mut members_of(entry)?)?));
        }
        let mut batch = EntityBatch::default();
        for gid in groups {
            let key = ListKey::Members(gid.clone());
            let found = respond.iter().position(|(key, _)| key == gid);
            let Some((_, delta)) = found.map(|i| respond.swap_remove(i)) else {
                self.finish(&key);
                continue;
            };
            if let Some(info) = delta.group.clone() {
                if self.groups.contains_key::<str>(gid) && !info.group_id.is_empty() {
                    let group = self.merged_group(info)?;
                    self.upsert_group(&mut batch, group);
                }
            }
            if delta.full {
                // The pages' rows are committed in a batch of their own when the last one arrives.
                self.start_full(&key, delta.marker());
                continue;
            }
            let marker = delta.marker();
            for user_id in &delta.delete {
                if let Some(old) = self.member(gid, user_id).cloned() {
                    batch.changes.member_deletes.push(MemberKey::of(&old));
                    batch.events.push(EntityEvent::OnGroupMemberDeleted(old));
                }
            }
            for info in delta.rows {
                let member = Member::try_from(info)?;
                // A rename may reach this list before its tip (which is then stale): the
                // member's messages follow here as they would there.
                let known = self.member(&member.group_id, &member.user_id).is_some();
                self.upsert_member(&mut batch, member, known);
            }
            self.set_marker(&mut batch.changes, &key, marker);
            self.finish(&key);
        }
        Ok(batch)
    }

    fn start_full(&mut self, key: &ListKey, target: VersionMarker) {
        let rows = match key {
            ListKey::Friends => Rows::Friends(Vec::new()),
            ListKey::JoinedGroups => Rows::Groups(Vec::new()),
            ListKey::Members(_) => Rows::Members(Vec::new()),
            ListKey::Conversations => Rows::Conversations(Vec::new()),
        };
        let sync = self.lists.get_or_default(key.clone());
        sync.busy = true;
        sync.full = Some(FullFetch {
            target,
            page: 1,
            rows,
        });
        let request = self.page_request(key, 1);
        self.outgoing.push_back(request);
    }

    fn page_size(key: &ListKey) -> u32 {
        match key {
            ListKey::Conversations => CONVERSATION_PAGE_SIZE,
            _ => LIST_PAGE_SIZE,
        }
    }

    fn page_request(&mut self, key: &ListKey, page: u32) -> RestRequest {
        let pagination = msgjson::object(vec![
            ("pageNumber", Json::U64(page.into())),
            ("showNumber", Json::U64(Self::page_size(key).into())),
        ]);
        let user_id = Json::Str(self.user_id.clone());
        let (path, body) = match key {
            ListKey::Friends => (
                "/friend/get_friend_list",
                msgjson::object(vec![("pagination", pagination), ("userID", user_id)]),
            ),
            ListKey::JoinedGroups => (
                "/group/get_joined_group_list",
                msgjson::object(vec![("fromUserID", user_id), ("pagination", pagination)]),
            ),
            ListKey::Members(gid) => (
                "/group/get_group_member_list",
                msgjson::object(vec![
                    ("filter", Json::U64(0)),
                    ("groupID", Json::Str(gid.clone())),
                    ("keyword", Json::Str(String::new())),
                    ("pagination", pagination),
                ]),
            ),
            ListKey::Conversations => (
                "/conversation/get_owner_conversation",
                msgjson::object(vec![("pagination", pagination), ("userID", user_id)]),
            ),
        };
        self.issue(Call::Page(key.clone()), path, body)
    }

    fn on_page(&mut self, key: &ListKey, mut data: Fields) -> Result<EntityBatch, EntitiesError> {
        let total: i64 = field(&mut data, "total")?;
        let fetched;
        let Some(mut full) = self.lists.get_mut(key).and_then(|s| s.full.take()) else {
            self.finish(key);
            return Ok(EntityBatch::default());
        };
        match &mut full.rows {
            Rows::Friends(rows) => {
                let page: Vec<FriendInfo> = list(&mut data, "friendsInfo")?;
                fetched = page.len();
                for info in page {
                    rows.push(Friend::try_from(info)?);
                }
            }
            Rows::Groups(rows) => {
                let page: Vec<GroupInfo> = list(&mut data, "groups")?;
                fetched = page.len();
                for info in page {
                    rows.push(self.merged_group(info)?);
                }
            }
            Rows::Members(rows) => {
                let page: Vec<GroupMemberFullInfo> = list(&mut data, "members")?;
                fetched = page.len();
                for info in page {
                    rows.push(Member::try_from(info)?);
                }
            }
            Rows::Conversations(rows) => {
                let page: Vec<PbConversation> = list(&mut data, "conversations")?;
                fetched = page.len();
                for pb in page {
                    rows.push(self.merged_conversation(pb)?);
                }
            }
        }
        let size = usize::try_from(Self::page_size(key)).unwrap_or(usize::MAX);
        let total = usize::try_from(total).unwrap_or(0);
        let done =
            fetched < size || (total > 0 && full.rows.len() >= total) || full.page >= MAX_PAGES;
        if !done {
            full.page += 1;
            let next = full.page;
            if let Some(sync) = self.lists.get_mut(key) {
                sync.full = Some(full);
            }
            let request = self.page_request(key, next);
            self.outgoing.push_back(request);
            return Ok(EntityBatch::default());
        }
        let batch = self.replace_list(key, full);
        self.finish(key);
        Ok(batch)
    }

    /// The batch that replaces a whole list with the rows of a full fetch.
    fn replace_list(&mut self, key: &ListKey, full: FullFetch) -> EntityBatch {
        let mut batch = EntityBatch::default();
        match full.rows {
            Rows::Friends(rows) => {
                batch.changes.clear_friends = true;
                let mut fresh: VecMap<String, ()> = VecMap::new();
                fresh.extend(rows.iter().map(|f| (f.user.user_id.clone(), ())));
                for (user_id, old) in &self.friends {
                    if !fresh.contains_key::<str>(user_id) {
                        batch.events.push(EntityEvent::OnFriendDeleted(old.clone()));
                    }
                }
                for friend in rows {
                    let old = self.friends.get::<str>(&friend.user.user_id);
                    match old {
                        None => batch
                            .events
                            .push(EntityEvent::OnFriendAdded(friend.clone())),
                        Some(old) if old != &friend => {
                            batch
                                .events
                                .push(EntityEvent::OnFriendInfoChanged(friend.clone()));
                        }
                        Some(_) => {}
                    }
                    batch.changes.friends.push(friend);
                }
            }
            Rows::Groups(rows) => {
                // Groups still joined keep their members: only groups gone are deleted.
                let mut fresh: VecMap<String, ()> = VecMap::new();
                fresh.extend(rows.iter().map(|g| (g.group_id.clone(), ())));
                let gone: Vec<String> = self
                    .groups
                    .keys()
                    .filter(|gid| !fresh.contains_key::<str>(*gid))
                    .cloned()
                    .collect();
                for gid in gone {
                    self.leave_group(&mut batch, &gid, false);
                }
                for group in rows {
                    self.upsert_group(&mut batch, group);
                }
                for (gid, ()) in fresh {
                    self.want(ListKey::Members(gid));
                }
            }
            Rows::Members(rows) => {
                let ListKey::Members(gid) = key else {
                    return batch;
                };
                batch.changes.clear_members_of.push(gid.clone());
                let mut fresh: VecMap<String, ()> = VecMap::new();
                fresh.extend(rows.iter().map(|m| (m.user_id.clone(), ())));
                for old in self.members(gid) {
                    if !fresh.contains_key::<str>(&old.user_id) {
                        batch
                            .events
                            .push(EntityEvent::OnGroupMemberDeleted(old.clone()));
                    }
                }
                // The clear wipes the group's rows, so every row goes back, changed or not.
                for member in rows {
                    match self.member(gid, &member.user_id) {
                        None => batch
                            .events
                            .push(EntityEvent::OnGroupMemberAdded(member.clone())),
                        Some(old) if old != &member => {
                            if !member.nickname.is_empty()
                                && (old.nickname != member.nickname
                                    || old.face_url != member.face_url)
                            {
                                batch.changes.message_rewrites.push(
                                    MessageRewrite::SenderProfile {
                                        conversation_id: ConversationId::group(gid),
                                        user_id: member.user_id.clone(),
                                        nickname: member.nickname.clone(),
                                        face_url: member.face_url.clone(),
                                    },
                                );
                            }
                            batch
                                .events
                                .push(EntityEvent::OnGroupMemberInfoChanged(member.clone()));
                        }
                        Some(_) => {}
                    }
                    batch.changes.members.push(member);
                }
            }
            Rows::Conversations(rows) => {
                // Local conversations missing from the list are kept: they hold messages the
                // message sync owns, and the server's list is only the settings records.
                self.upsert_conversations(&mut batch, rows);
            }
        }
        self.set_marker(&mut batch.changes, key, full.target);
        batch
    }

    // ----- entity helpers -------------------------------------------------------------------

    fn upsert_friend(&self, batch: &mut EntityBatch, friend: Friend) {
        match self.friends.get::<str>(&friend.user.user_id) {
            None => batch
                .events
                .push(EntityEvent::OnFriendAdded(friend.clone())),
            Some(old) if old != &friend => {
                batch
                    .events
                    .push(EntityEvent::OnFriendInfoChanged(friend.clone()));
            }
            Some(_) => return,
        }
        batch.changes.friends.push(friend);
    }

    fn merged_group(&self, info: GroupInfo) -> Result<Group, EntitiesError> {
        let mut group = Group::try_from(info)?;
        if let Some(old) = self.groups.get::<str>(&group.group_id) {
            if group.history_for_new_members.is_none() {
                group.history_for_new_members = old.history_for_new_members;
            }
        }
        Ok(group)
    }

    fn upsert_group(&self, batch: &mut EntityBatch, group: Group) {
        match self.groups.get::<str>(&group.group_id) {
            None => batch
                .events
                .push(EntityEvent::OnJoinedGroupAdded(group.clone())),
            Some(old) if old != &group => {
                batch
                    .events
                    .push(EntityEvent::OnGroupInfoChanged(group.clone()));
            }
            Some(_) => return,
        }
        batch.changes.groups.push(group);
    }

    /// Removes a joined group with its members and member version marker.
    fn leave_group(&self, batch: &mut EntityBatch, group_id: &str, dismissed: bool) {
        let Some(group) = self.groups.get::<str>(group_id) else {
            return;
        };
        batch.changes.group_deletes.push(group_id.to_owned());
        batch.changes.versions.push(VersionUpdate {
            kind: VersionKind::GroupMembers,
            key: group_id.to_owned(),
            marker: None,
        });
        if dismissed {
            let mut gone = group.clone();
            gone.status = GroupStatus::Dismissed.as_i32();
            batch.events.push(EntityEvent::OnGroupDismissed(gone));
        }
        batch
            .events
            .push(EntityEvent::OnJoinedGroupDeleted(group.clone()));
    }

    /// Upserts a member, keeping what the local row knows and the tip left empty; with
    /// `rename`, also rewrites the sender name and face shown on the member's messages.
    fn upsert_member(&self, batch: &mut EntityBatch, mut member: Member, rename: bool) {
        let old = self.member(&member.group_id, &member.user_id);
        if let Some(old) = old {
            if member.join_source == 0 {
                member.join_source = old.join_source;
            }
            if member.inviter_user_id.is_empty() {
                member.inviter_user_id.clone_from(&old.inviter_user_id);
            }
            if member.join_time == 0 {
                member.join_time = old.join_time;
            }
        }
        let profile_changed = old
            .is_none_or(|old| old.nickname != member.nickname || old.face_url != member.face_url);
        if rename && profile_changed && !member.nickname.is_empty() {
            batch
                .changes
                .message_rewrites
                .push(MessageRewrite::SenderProfile {
                    conversation_id: ConversationId::group(&member.group_id),
                    user_id: member.user_id.clone(),
                    nickname: member.nickname.clone(),
                    face_url: member.face_url.clone(),
                });
        }
        match old {
            None => batch
                .events
                .push(EntityEvent::OnGroupMemberAdded(member.clone())),
            Some(old) if old != &member => {
                batch
                    .events
                    .push(EntityEvent::OnGroupMemberInfoChanged(member.clone()));
            }
            Some(_) => return,
        }
        batch.changes.members.push(member);
    }

    fn delete_member(&self, batch: &mut EntityBatch, group_id: &str, user_id: &str) {
        if user_id == self.user_id {
            self.leave_group(batch, group_id, false);
            return;
        }
        if let Some(old) = self.member(group_id, user_id) {
            batch.changes.member_deletes.push(MemberKey::of(old));
            batch
                .events
                .push(EntityEvent::OnGroupMemberDeleted(old.clone()));
        }
    }

    /// A server conversation record merged into the local conversation: the record's settings,
    /// the local seqs and latest message (the record's `maxSeq` is a per-user bound, not the
    /// conversation's max seq).
    fn merged_conversation(&self, pb: PbConversation) -> Result<Conversation, EntitiesError> {
        let fresh = Conversation::try_from(pb)?;
        let Some(old) = self.conversations.get(&fresh.id) else {
            let mut fresh = fresh;
            fresh.max_seq = Seq::ZERO;
            return Ok(fresh);
        };
        let mut merged = old.clone();
        merged.conversation_type = fresh.conversation_type;
        merged.user_id = fresh.user_id;
        merged.group_id = fresh.group_id;
        merged.recv_msg_opt = fresh.recv_msg_opt;
        merged.is_pinned = fresh.is_pinned;
        merged.is_private_chat = fresh.is_private_chat;
        merged.burn_duration = fresh.burn_duration;
        merged.group_at_type = fresh.group_at_type;
        merged.attached_info = fresh.attached_info;
        merged.ex = fresh.ex;
        merged.min_seq = merged.min_seq.max(fresh.min_seq);
        Ok(merged)
    }

    fn upsert_conversations(&self, batch: &mut EntityBatch, rows: Vec<Conversation>) {
        let mut added = Vec::new();
        let mut changed = Vec::new();
        for conversation in rows {
            match self.conversations.get(&conversation.id) {
                None => added.push(conversation.clone()),
                Some(old) if old != &conversation => changed.push(conversation.clone()),
                Some(_) => continue,
            }
            batch.changes.conversations.push(conversation);
        }
        if !added.is_empty() {
            batch.events.push(EntityEvent::OnNewConversation(added));
        }
        if !changed.is_empty() {
            batch
                .events
                .push(EntityEvent::OnConversationChanged(changed));
        }
    }

    // ----- notifications ----------------------------------------------------------------------

    /// Applies one notification message (a tips content type, spec §3.8). Messages with other
    /// content types, and tips this view does not track, yield an empty batch.
    ///
    /// `now` (ms since the epoch) stands in for times the tip does not carry.
    pub fn apply_notification(
        &mut self,
        now: i64,
        msg: &MsgData,
    ) -> Result<EntityBatch, EntitiesError> {
        let mut batch = EntityBatch::default();
        let is_notification = (1000..=5000).contains(&msg.content_type);
        if !is_notification {
            return Ok(batch);
        }
        if !msg.client_msg_id.is_empty() {
            if self.seen.contains(&msg.client_msg_id) {
                return Ok(batch);
            }
            batch.seen.push(msg.client_msg_id.clone());
        }
        let Ok(kind) = ContentType::try_from(msg.content_type) else {
            return Ok(batch);
        };
        if !applies(kind) {
            return Ok(batch);
        }
        // None: a revoked message's rewritten content, which changes no entity.
        let Some(tips) = Tips::read(msg.content_type, &msg.content)? else {
            return Ok(batch);
        };
        let when = [msg.send_time, msg.create_time, now]
            .into_iter()
            .find(|t| *t > 0)
            .unwrap_or(0);
        match kind {
            // ----- groups
            ContentType::GroupCreatedNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                let check = self.member_check(
                    &gid,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                );
                if check == VersionCheck::Stale || gid.is_empty() {
                    return Ok(batch);
                }
                if let Some(info) = tips.group {
                    let group = self.merged_group(info)?;
                    self.upsert_group(&mut batch, group);
                }
                let mut seen_users: VecMap<String, ()> = VecMap::new();
                // An app administrator may create a group without joining it: the tip then
                // describes them with no group role, and they are no member.
                let people = tips
                    .member_list
                    .into_iter()
                    .chain(tips.op_user.filter(|op| op.role_level != 0))
                    .chain(tips.group_owner_user);
                for info in people {
                    if info.user_id.is_empty()
                        || seen_users.insert(info.user_id.clone(), ()).is_some()
                    {
                        continue;
                    }
                    let member = Member::try_from(with_group(info, &gid))?;
                    self.upsert_member(&mut batch, member, false);
                }
                self.after_member_tip(
                    &mut batch,
                    &gid,
                    check,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                );
            }
            ContentType::GroupInfoSetNotification => {
                self.group_info_tip(
                    &mut batch,
                    tips.group,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                    None,
                )?;
            }
            ContentType::GroupInfoSetNameNotification => {
                self.group_info_tip(
                    &mut batch,
                    tips.group,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                    None,
                )?;
            }
            ContentType::GroupInfoSetAnnouncementNotification => {
                let editor = tips
                    .op_user
                    .as_ref()
                    .map(|u| u.user_id.clone())
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| msg.send_id.clone());
                self.group_info_tip(
                    &mut batch,
                    tips.group,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                    Some((editor, when)),
                )?;
            }
            ContentType::GroupMutedNotification => {
                let group = tips.group.map(|mut g| {
                    g.status = GroupStatus::Muted.as_i32();
                    g
                });
                self.group_info_tip(
                    &mut batch,
                    group,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                    None,
                )?;
            }
            ContentType::GroupCancelMutedNotification => {
                let group = tips.group.map(|mut g| {
                    g.status = GroupStatus::Ok.as_i32();
                    g
                });
                self.group_info_tip(
                    &mut batch,
                    group,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                    None,
                )?;
            }
            ContentType::GroupDismissedNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                self.leave_group(&mut batch, &gid, true);
            }
            ContentType::MemberQuitNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                self.member_leave_tip(
                    &mut batch,
                    &gid,
                    tips.group,
                    tips.quit_user.as_slice(),
                    &tips.group_member_version_id,
                    tips.group_member_version,
                )?;
            }
            ContentType::MemberKickedNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                self.member_leave_tip(
                    &mut batch,
                    &gid,
                    tips.group,
                    &tips.kicked_user_list,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                )?;
            }
            ContentType::MemberInvitedNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                let inviter = tips
                    .inviter_user
                    .as_ref()
                    .or(tips.op_user.as_ref())
                    .map(|u| u.user_id.clone())
                    .unwrap_or_default();
                let entrants = tips
                    .invited_user_list
                    .into_iter()
                    .map(|mut m| {
                        if m.join_source == 0 {
                            m.join_source = JoinSource::ByInvitation.as_i32();
                        }
                        if m.inviter_user_id.is_empty() {
                            m.inviter_user_id.clone_from(&inviter);
                        }
                        m
                    })
                    .collect();
                self.member_enter_tip(
                    &mut batch,
                    &gid,
                    tips.group,
                    entrants,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                )?;
            }
            ContentType::MemberEnterNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                let entrants = tips.entrant_user.into_iter().collect();
                self.member_enter_tip(
                    &mut batch,
                    &gid,
                    tips.group,
                    entrants,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                )?;
            }
            // The applicant learns it joined; the lists bring the group and its members.
            ContentType::GroupApplicationAcceptedNotification if tips.receiver_as == 0 => {
                self.want(ListKey::JoinedGroups);
            }
            ContentType::GroupOwnerTransferredNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                let check = self.member_check(
                    &gid,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                );
                if check == VersionCheck::Stale || gid.is_empty() {
                    return Ok(batch);
                }
                let new_owner_row = tips_member(tips.new_group_owner, &gid);
                let new_owner = new_owner_row
                    .as_ref()
                    .map(|u| u.user_id.clone())
                    .unwrap_or_default();
                if let Some(mut info) = tips.group {
                    if !new_owner.is_empty() {
                        info.owner_user_id.clone_from(&new_owner);
                    }
                    let group = self.merged_group(info)?;
                    self.upsert_group_if_joined(&mut batch, group);
                }
                if let Some(info) = new_owner_row {
                    let mut member = Member::try_from(info)?;
                    member.role_level = RoleLevel::Owner.as_i32();
                    self.upsert_member(&mut batch, member, false);
                }
                let old_owner = match tips.old_group_owner_info {
                    Some(info) if !info.user_id.is_empty() => {
                        Some(Member::try_from(with_group(info, &gid))?)
                    }
                    _ => self
                        .member(&gid, &tips.old_group_owner)
                        .cloned()
                        .map(|mut m| {
                            m.role_level = RoleLevel::Ordinary.as_i32();
                            m
                        }),
                };
                if let Some(old_owner) = old_owner {
                    self.upsert_member(&mut batch, old_owner, false);
                }
                self.after_member_tip(
                    &mut batch,
                    &gid,
                    check,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                );
            }
            ContentType::GroupMemberMutedNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                let end = when.saturating_add(i64::from(tips.muted_seconds) * 1000);
                self.member_info_tip(
                    &mut batch,
                    &gid,
                    tips.muted_user,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                    MemberEdit::MuteUntil(end),
                )?;
            }
            ContentType::GroupMemberCancelMutedNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                self.member_info_tip(
                    &mut batch,
                    &gid,
                    tips.muted_user,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                    MemberEdit::Unmute,
                )?;
            }
            ContentType::GroupMemberInfoSetNotification
            | ContentType::GroupMemberSetToAdminNotification
            | ContentType::GroupMemberSetToOrdinaryUserNotification => {
                let gid = group_id_of(tips.group.as_ref(), msg);
                // 0: the row's role as it is.
                let role = match kind {
                    ContentType::GroupMemberSetToAdminNotification => RoleLevel::Admin.as_i32(),
                    ContentType::GroupMemberSetToOrdinaryUserNotification => {
                        RoleLevel::Ordinary.as_i32()
                    }
                    _ => 0,
                };
                self.member_info_tip(
                    &mut batch,
                    &gid,
                    tips.changed_user,
                    &tips.group_member_version_id,
                    tips.group_member_version,
                    MemberEdit::Role(role),
                )?;
            }
            // ----- friends and users
            ContentType::FriendAddedNotification => {
                let check = self.friend_check(&tips.friend_version_id, tips.friend_version);
                if check == VersionCheck::Stale {
                    return Ok(batch);
                }
                match tips.friend {
                    Some(info)
                        if info.owner_user_id == self.user_id || info.owner_user_id.is_empty() =>
                    {
                        let friend = Friend::try_from(info)?;
                        self.upsert_friend(&mut batch, friend);
                        self.after_friend_tip(
                            &mut batch,
                            check,
                            &tips.friend_version_id,
                            tips.friend_version,
                        );
                    }
                    _ => self.want(ListKey::Friends),
                }
            }
            ContentType::FriendDeletedNotification => {
                let check = self.friend_check(&tips.friend_version_id, tips.friend_version);
                if check == VersionCheck::Stale {
                    return Ok(batch);
                }
                let pair = tips.from_to_user_id.unwrap_or_default();
                if pair.from_user_id == self.user_id {
                    if let Some(old) = self.friends.get::<str>(&pair.to_user_id) {
                        batch.changes.friend_deletes.push(pair.to_user_id.clone());
                        batch.events.push(EntityEvent::OnFriendDeleted(old.clone()));
                    }
                    self.after_friend_tip(
                        &mut batch,
                        check,
                        &tips.friend_version_id,
                        tips.friend_version,
                    );
                } else {
                    self.want(ListKey::Friends);
                }
            }
            ContentType::FriendRemarkSetNotification => {
                // The tip names the change but not the new remark; the delta carries it.
                let owner = tips
                    .from_to_user_id
                    .map(|p| p.from_user_id)
                    .unwrap_or_default();
                if owner == self.user_id
                    && self.friend_check(&tips.friend_version_id, tips.friend_version)
                        != VersionCheck::Stale
                {
                    self.want(ListKey::Friends);
                }
            }
            ContentType::FriendsInfoUpdateNotification
                if self.friend_check(&tips.friend_version_id, tips.friend_version)
                    != VersionCheck::Stale =>
            {
                self.want(ListKey::Friends);
            }
            ContentType::FriendApplicationApprovedNotification
                if self.friend_check(&tips.friend_version_id, tips.friend_version)
                    != VersionCheck::Stale =>
            {
                self.want(ListKey::Friends);
            }
            ContentType::FriendInfoUpdatedNotification => self.want(ListKey::Friends),
            ContentType::UserInfoUpdatedNotification
                if tips.user_id == self.user_id || tips.user_id.is_empty() =>
            {
                self.self_info_wanted = true;
            }
            // ----- conversations
            ContentType::ConversationChangeNotification => self.want(ListKey::Conversations),
            ContentType::ConversationPrivateChatNotification => {
                if let Ok(id) = ConversationId::parse(tips.conversation_id.as_str()) {
                    let mut conversation = self.conversation_or_new(&id);
                    conversation.is_private_chat = tips.is_private;
                    self.upsert_conversations(&mut batch, vec![conversation]);
                }
            }
            ContentType::ConversationUnreadNotification
                if tips.user_id == self.user_id || tips.user_id.is_empty() =>
            {
                if let Ok(id) = ConversationId::parse(tips.conversation_id.as_str()) {
                    let seq = Seq::try_from(tips.has_read_seq).unwrap_or(Seq::ZERO);
                    let mut conversation = self.conversation_or_new(&id);
                    conversation.has_read_seq = seq;
                    self.upsert_conversations(&mut batch, vec![conversation]);
                }
            }
            ContentType::HasReadReceipt => self.mark_as_read(&mut batch, &tips),
            ContentType::MsgRevokeNotification => self.revoke(&mut batch, msg, &tips)?,
            _ => {}
        }
        Ok(batch)
    }

    /// The server's has-read and max seqs (1006, see [`ReadState`]) applied to the conversation
    /// rows: `max_seq` raised to the server's, `has_read_seq` raised to the server's but never
    /// above its max (a device that read further keeps its own mark, as with 2200 receipts).
    /// Hidden `n_` conversations get no row; rows that do not change are left out.
    pub fn apply_read_states(&self, states: &[ReadState]) -> EntityBatch {
        let mut batch = EntityBatch::default();
        let mut rows = Vec::new();
        for state in states {
            if state.conversation_id.kind() == ConversationKind::Notification {
                continue;
            }
            let mut row = self.conversation_or_new(&state.conversation_id);
            let before = row.clone();
            row.max_seq = row.max_seq.max(state.max_seq);
            row.has_read_seq = row.has_read_seq.max(state.has_read_seq.min(state.max_seq));
            if row != before {
                rows.push(row);
            }
        }
        self.upsert_conversations(&mut batch, rows);
        batch
    }

    fn conversation_or_new(&self, id: &ConversationId) -> Conversation {
        self.conversations
            .get(id)
            .cloned()
            .unwrap_or_else(|| Conversation::new(id.clone()))
    }

    fn check(&self, kind: VersionKind, key: &str, version_id: &str, version: u64) -> VersionCheck {
        if version_id.is_empty() {
            return VersionCheck::Unversioned;
        }
        match self.versions.get(&(kind, key.to_owned())) {
            Some(local) if local.version_id == version_id => {
                if version <= local.version {
                    VersionCheck::Stale
                } else if version == local.version.saturating_add(1) {
                    VersionCheck::Next
                } else {
                    VersionCheck::Gap
                }
            }
            _ => VersionCheck::Gap,
        }
    }

    fn member_check(&self, group_id: &str, version_id: &str, version: u64) -> VersionCheck {
        self.check(VersionKind::GroupMembers, group_id, version_id, version)
    }

    fn friend_check(&self, version_id: &str, version: u64) -> VersionCheck {
        self.check(VersionKind::Friends, &self.user_id, version_id, version)
    }

    /// Advances the member marker or asks for the member sync, after a tip was applied.
    fn after_member_tip(
        &mut self,
        batch: &mut EntityBatch,
        group_id: &str,
        check: VersionCheck,
        version_id: &str,
        version: u64,
    ) {
        match check {
            VersionCheck::Next => {
                let marker = VersionMarker {
                    version_id: version_id.to_owned(),
                    version,
                };
                self.set_marker(
                    &mut batch.changes,
                    &ListKey::Members(group_id.to_owned()),
                    marker,
                );
            }
            VersionCheck::Gap => self.want(ListKey::Members(group_id.to_owned())),
            VersionCheck::Unversioned | VersionCheck::Stale => {}
        }
    }

    fn after_friend_tip(
        &mut self,
        batch: &mut EntityBatch,
        check: VersionCheck,
        version_id: &str,
        version: u64,
    ) {
        match check {
            VersionCheck::Next => {
                let marker = VersionMarker {
                    version_id: version_id.to_owned(),
                    version,
                };
                self.set_marker(&mut batch.changes, &ListKey::Friends, marker);
            }
            VersionCheck::Gap => self.want(ListKey::Friends),
            VersionCheck::Unversioned | VersionCheck::Stale => {}
        }
    }

    fn upsert_group_if_joined(&self, batch: &mut EntityBatch, group: Group) {
        if self.groups.contains_key::<str>(&group.group_id) {
            self.upsert_group(batch, group);
        }
    }

    /// 1502, 1514, 1515, 1519, 1520: the tip carries the whole group. With `announcement`
    /// (editor, time) the editor and time fall back to the operator and the message time when
    /// the server did not fill them.
    fn group_info_tip(
        &mut self,
        batch: &mut EntityBatch,
        group: Option<GroupInfo>,
        version_id: &str,
        version: u64,
        announcement: Option<(String, i64)>,
    ) -> Result<(), EntitiesError> {
        let Some(mut info) = group else {
            return Ok(());
        };
        if info.group_id.is_empty() {
            return Ok(());
        }
        let gid = info.group_id.clone();
        let check = self.member_check(&gid, version_id, version);
        if check == VersionCheck::Stale {
            return Ok(());
        }
        if let Some((editor, when)) = announcement {
            if info.notification_user_id.is_empty() {
                info.notification_user_id = editor;
            }
            if info.notification_update_time <= 0 {
                info.notification_update_time = when;
            }
        }
        let group = self.merged_group(info)?;
        self.upsert_group_if_joined(batch, group);
        self.after_member_tip(batch, &gid, check, version_id, version);
        Ok(())
    }

    fn member_leave_tip(
        &mut self,
        batch: &mut EntityBatch,
        group_id: &str,
        group: Option<GroupInfo>,
        users: &[GroupMemberFullInfo],
        version_id: &str,
        version: u64,
    ) -> Result<(), EntitiesError> {
        if group_id.is_empty() {
            return Ok(());
        }
        let check = self.member_check(group_id, version_id, version);
        if check == VersionCheck::Stale {
            return Ok(());
        }
        let self_left = users.iter().any(|u| u.user_id == self.user_id);
        if self_left {
            self.leave_group(batch, group_id, false);
            return Ok(());
        }
        if let Some(info) = group {
            let group = self.merged_group(info)?;
            self.upsert_group_if_joined(batch, group);
        }
        for user in users {
            self.delete_member(batch, group_id, &user.user_id);
        }
        self.after_member_tip(batch, group_id, check, version_id, version);
        Ok(())
    }

    fn member_enter_tip(
        &mut self,
        batch: &mut EntityBatch,
        group_id: &str,
        group: Option<GroupInfo>,
        entrants: Vec<GroupMemberFullInfo>,
        version_id: &str,
        version: u64,
    ) -> Result<(), EntitiesError> {
        if group_id.is_empty() {
            return Ok(());
        }
        let check = self.member_check(group_id, version_id, version);
        if check == VersionCheck::Stale {
            return Ok(());
        }
        let self_joined = entrants.iter().any(|m| m.user_id == self.user_id);
        match group.filter(|g| !g.group_id.is_empty()) {
            Some(info) => {
                let group = self.merged_group(info)?;
                if self_joined {
                    self.upsert_group(batch, group);
                } else {
                    self.upsert_group_if_joined(batch, group);
                }
            }
            // Joined a group the tip does not describe: the joined-group list brings it.
            None if self_joined => self.want(ListKey::JoinedGroups),
            None => {}
        }
        for info in entrants {
            if info.user_id.is_empty() {
                continue;
            }
            let member = Member::try_from(with_group(info, group_id))?;
            self.upsert_member(batch, member, false);
        }
        if self_joined {
            // A new member knows only the tip's rows: fetch the whole list.
            self.want(ListKey::Members(group_id.to_owned()));
        } else {
            self.after_member_tip(batch, group_id, check, version_id, version);
        }
        Ok(())
    }

    /// 1512, 1513, 1516–1518: the tip carries the changed member row.
    fn member_info_tip(
        &mut self,
        batch: &mut EntityBatch,
        group_id: &str,
        changed: Option<GroupMemberFullInfo>,
        version_id: &str,
        version: u64,
        edit: MemberEdit,
    ) -> Result<(), EntitiesError> {
        if group_id.is_empty() {
            return Ok(());
        }
        let check = self.member_check(group_id, version_id, version);
        if check == VersionCheck::Stale {
            return Ok(());
        }
        if let Some(info) = changed.filter(|m| !m.user_id.is_empty()) {
            let mut member = Member::try_from(with_group(info, group_id))?;
            match edit {
                MemberEdit::MuteUntil(end) if member.mute_end_time <= 0 => {
                    member.mute_end_time = end;
                }
                MemberEdit::Unmute => member.mute_end_time = 0,
                MemberEdit::Role(role) if member.role_level == 0 => member.role_level = role,
                _ => {}
            }
            self.upsert_member(batch, member, true);
        }
        self.after_member_tip(batch, group_id, check, version_id, version);
        Ok(())
    }

    /// 2200: the user's own devices marked a conversation read up to a seq.
    fn mark_as_read(&self, batch: &mut EntityBatch, tips: &Tips) {
        // A peer's receipt in a single chat is not a change of this user's has-read seq.
        if tips.mark_as_read_user_id != self.user_id {
            return;
        }
        let Ok(id) = ConversationId::parse(tips.conversation_id.as_str()) else {
            return;
        };
        let read = tips
            .seqs
            .iter()
            .copied()
            .chain([tips.has_read_seq])
            .max()
            .and_then(|s| Seq::try_from(s).ok())
            .unwrap_or(Seq::ZERO);
        let mut conversation = self.conversation_or_new(&id);
        // Receipts may arrive out of order: the has-read seq only moves forward here.
        if read <= conversation.has_read_seq {
            return;
        }
        conversation.has_read_seq = read;
        self.upsert_conversations(batch, vec![conversation]);
    }

    /// 2101: rewrites the stored message to its revoked form.
    fn revoke(
        &self,
        batch: &mut EntityBatch,
        msg: &MsgData,
        tips: &Tips,
    ) -> Result<(), EntitiesError> {
        let conversation_id = ConversationId::parse(tips.conversation_id.as_str())?;
        let seq = Seq::try_from(tips.seq)?;
        let revoker = if tips.revoker_user_id.is_empty() {
            msg.send_id.clone()
        } else {
            tips.revoker_user_id.clone()
        };
        let member = conversation_id
            .group_id()
            .and_then(|gid| self.member(gid, &revoker));
        let role = match member {
            Some(member) => member.role_level,
            None if revoker == self.user_id => {
                self.self_user.as_ref().map_or(0, |u| u.app_manager_level)
            }
            None => 0,
        };
        let nickname = member
            .map(|m| m.nickname.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| {
                self.self_user
                    .as_ref()
                    .filter(|u| u.user_id == revoker)
                    .map(|u| u.nickname.clone())
            })
            .or_else(|| {
                self.friends
                    .get::<str>(&revoker)
                    .map(|f| f.user.nickname.clone())
            })
            .filter(|n| !n.is_empty())
            .or_else(|| (msg.send_id == revoker).then(|| msg.sender_nickname.clone()))
            .unwrap_or_default();
        let time = if tips.revoke_time > 0 {
            tips.revoke_time
        } else {
            msg.send_time
        };
        batch.changes.message_rewrites.push(MessageRewrite::Revoke {
            conversation_id: conversation_id.clone(),
            seq,
            client_msg_id: tips.client_msg_id.clone(),
            by: revoker.clone(),
            role,
            nickname: nickname.clone(),
            time,
        });
        batch
            .events
            .push(EntityEvent::OnNewRecvMessageRevoked(RevokedInfo {
                conversation_id,
                seq,
                client_msg_id: tips.client_msg_id.clone(),
                revoker_user_id: revoker,
                revoker_role: role,
                revoker_nickname: nickname,
                revoke_time: time,
                is_admin_revoke: tips.is_admin_revoke,
            }));
        Ok(())
    }
}

/// Whether the view applies notifications of content type `kind` (see
/// [`Entities::apply_notification`]).
fn applies(kind: ContentType) -> bool {
    use ContentType as C;
    matches!(
        kind,
        C::GroupCreatedNotification
            | C::GroupInfoSetNotification
            | C::GroupInfoSetNameNotification
            | C::GroupInfoSetAnnouncementNotification
            | C::GroupMutedNotification
            | C::GroupCancelMutedNotification
            | C::GroupDismissedNotification
            | C::MemberQuitNotification
            | C::MemberKickedNotification
            | C::MemberInvitedNotification
            | C::MemberEnterNotification
            | C::GroupApplicationAcceptedNotification
            | C::GroupOwnerTransferredNotification
            | C::GroupMemberMutedNotification
            | C::GroupMemberCancelMutedNotification
            | C::GroupMemberInfoSetNotification
            | C::GroupMemberSetToAdminNotification
            | C::GroupMemberSetToOrdinaryUserNotification
            | C::FriendAddedNotification
            | C::FriendDeletedNotification
            | C::FriendRemarkSetNotification
            | C::FriendsInfoUpdateNotification
            | C::FriendApplicationApprovedNotification
            | C::FriendInfoUpdatedNotification
            | C::UserInfoUpdatedNotification
            | C::ConversationChangeNotification
            | C::ConversationPrivateChatNotification
            | C::ConversationUnreadNotification
            | C::HasReadReceipt
            | C::MsgRevokeNotification
    )
}

/// The group a tip is about: its group's id, else the notification message's groupID.
fn group_id_of(group: Option<&GroupInfo>, msg: &MsgData) -> String {
    group
        .map(|g| g.group_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| msg.group_id.clone())
}

/// A member row from a tip, with the group id filled in when the tip left it empty.
fn with_group(mut info: GroupMemberFullInfo, group_id: &str) -> GroupMemberFullInfo {
    if info.group_id.is_empty() {
        info.group_id = group_id.to_owned();
    }
    info
}

fn tips_member(info: Option<GroupMemberFullInfo>, group_id: &str) -> Option<GroupMemberFullInfo> {
    info.filter(|m| !m.user_id.is_empty())
        .map(|m| with_group(m, group_id))
}

// ----- REST JSON ----------------------------------------------------------------------------------

// Every answer is parsed into a JSON tree; each member of an object is then read as the type it
// holds. Go's rules apply: an absent or `null` member is the zero value, unknown members are
// ignored, and `null` list elements are zero values. A repeated member keeps its last value.

/// The members of a JSON object, by key.
type Fields = VecMap<String, Json>;

/// The members of `value`, an object; `null` is the object with no members.
fn members_of(value: Json) -> Result<Fields, EntitiesError> {
    match value {
        Json::Null => Ok(Fields::new()),
        Json::Obj(members) => {
            let mut fields = Fields::new();
            for (key, value) in members {
                fields.insert(key, value);
            }
            Ok(fields)
        }
        other => Err(json_error(JsonError::from_display(format!(
            "invalid type: {}, expected an object",
            other.kind()
        )))),
    }
}

/// Reads `text` as a JSON object; `null` is the object with no members.
fn object(text: &str) -> Result<Fields, EntitiesError> {
    members_of(Json::parse(text).map_err(json_error)?)
}

/// Takes the member `name` out of `fields`; absent or `null` is the type's zero value.
fn field<T: FromJson>(fields: &mut Fields, name: &str) -> Result<T, EntitiesError> {
    T::from_json(take(fields, name)).map_err(|err| in_member(err, name))
}

/// Takes the member `name` out of `fields`; absent is `null`.
fn take(fields: &mut Fields, name: &str) -> Json {
    fields.remove::<str>(name).unwrap_or(Json::Null)
}

/// The list member `name` of `fields`; absent or `null` is empty, `null` elements are zero
/// values.
fn list<T: FromJson>(fields: &mut Fields, name: &str) -> Result<Vec<T>, EntitiesError> {
    field(fields, name)
}

/// `err`, saying which member it is about.
fn in_member(err: JsonError, name: &str) -> EntitiesError {
    json_error(JsonError::from_display(format!("{err} (member `{name}`)")))
}

/// A response that is not the expected JSON.
fn json_error(err: JsonError) -> EntitiesError {
    EntitiesErrorKind::Json(err).into()
}

/// The envelope's `data` object; an error code other than 0 is a server error.
fn parse_envelope(envelope: &str) -> Result<Fields, EntitiesError> {
    let mut envelope = object(envelope)?;
    let code: i32 = field(&mut envelope, "errCode")?;
    if code != 0 {
        return Err(EntitiesErrorKind::Server {
            code,
            message: field(&mut envelope, "errMsg")?,
        }
        .into());
    }
    // `data` is omitted for empty answers; read it as an object with every field absent.
    members_of(take(&mut envelope, "data"))
}

/// An incremental sync answer (`get_incremental_*`, one entry of the member batch).
#[derive(Debug)]
struct Incremental<T> {
    version: u64,
    version_id: String,
    full: bool,
    delete: Vec<String>,
    /// The `insert` rows, then the `update` rows.
    rows: Vec<T>,
    /// Only in the member batch: the group's current info.
    group: Option<GroupInfo>,
}

impl<T: FromJson> Incremental<T> {
    /// Reads the rows (`insert`, then `update`), then the members every answer shares.
    fn read(fields: &mut Fields) -> Result<Self, EntitiesError> {
        let mut rows = list(fields, "insert")?;
        rows.extend(list(fields, "update")?);
        let shared = Incremental::read_shared(fields)?;
        Ok(Incremental {
            version: shared.version,
            version_id: shared.version_id,
            full: shared.full,
            delete: shared.delete,
            rows,
            group: shared.group,
        })
    }
}

impl Incremental<()> {
    /// The members of an answer that do not depend on the row type; no rows.
    fn read_shared(fields: &mut Fields) -> Result<Self, EntitiesError> {
        // `null` is no group (not a group with every field zero).
        let group: Option<GroupInfo> = field(fields, "group")?;
        Ok(Incremental {
            version: field(fields, "version")?,
            version_id: field(fields, "versionID")?,
            full: field(fields, "full")?,
            delete: list(fields, "delete")?,
            rows: Vec::new(),
            group,
        })
    }
}

impl<T> Incremental<T> {
    fn marker(&self) -> VersionMarker {
        VersionMarker {
            version_id: self.version_id.clone(),
            version: self.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use chorus_proto::content::encode_notification;
    use chorus_proto::pb::sdkws::GroupCreatedTips;
    use serde_json::{json, Value};

    use super::*;

    const ME: &str = "me";
    const G: &str = "g1";

    fn member_info(user_id: &str, role_level: i32, nickname: &str) -> GroupMemberFullInfo {
        GroupMemberFullInfo {
            group_id: G.into(),
            user_id: user_id.into(),
            role_level,
            join_time: 1,
            nickname: nickname.into(),
            ..GroupMemberFullInfo::default()
        }
    }

    fn group_info() -> GroupInfo {
        GroupInfo {
            group_id: G.into(),
            group_name: "team".into(),
            owner_user_id: "owner".into(),
            group_type: 2,
            ..GroupInfo::default()
        }
    }

    fn sender_rewrites(changes: &Changes) -> Vec<(String, String)> {
        changes
            .message_rewrites
            .iter()
            .filter_map(|r| match r {
                MessageRewrite::SenderProfile {
                    user_id, nickname, ..
                } => Some((user_id.clone(), nickname.clone())),
                _ => None,
            })
            .collect()
    }

    fn with_member(nickname: &str) -> Entities {
        Entities::from_snapshot(
            ME,
            EntitySnapshot {
                groups: vec![Group::try_from(group_info()).expect("group")],
                members: vec![
                    Member::try_from(member_info(ME, 20, "Me")).expect("member"),
                    Member::try_from(member_info("u2", 20, nickname)).expect("member"),
                ],
                ..EntitySnapshot::default()
            },
        )
    }

    /// Answers the pending member-list request of `entities` with `data`.
    fn answer_members(entities: &mut Entities, data: Value) -> EntityBatch {
        let request = std::iter::from_fn(|| entities.poll_rest())
            .find(|r| r.path == "/group/get_incremental_group_members_batch")
            .expect("member request");
        let envelope = json!({"errCode": 0, "errMsg": "", "errDlt": "", "data": data});
        entities
            .handle_rest(request.tag, &envelope.to_string())
            .expect("handled")
    }

    #[test]
    fn answers_follow_go_rules_for_null_absent_and_unknown_members() {
        let data = parse_envelope(r#"{"errCode":null,"errMsg":null,"extra":[1],"data":null}"#)
            .expect("envelope");
        assert!(data.is_empty());
        let mut data = parse_envelope(
            r#"{"data":{"total":null,"x":{"y":1},"groups":[null,{"groupID":"g"}]}}"#,
        )
        .expect("envelope");
        assert_eq!(field::<i64>(&mut data, "total").expect("total"), 0);
        let groups: Vec<GroupInfo> = list(&mut data, "groups").expect("groups");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0], GroupInfo::default());
        assert_eq!(groups[1].group_id, "g");
        assert!(list::<GroupInfo>(&mut data, "members")
            .expect("absent")
            .is_empty());
        let delta = Incremental::<GroupMemberFullInfo>::read(&mut object(
            r#"{"version":3,"versionID":"v","insert":[{"userID":"a"}],"update":[{"userID":"b"}],"group":null}"#,
        ).expect("object"))
        .expect("delta");
        let users: Vec<&str> = delta.rows.iter().map(|m| m.user_id.as_str()).collect();
        assert_eq!(users, ["a", "b"]);
        assert_eq!(
            (delta.version, delta.version_id.as_str(), delta.full),
            (3, "v", false)
        );
        assert!(delta.group.is_none() && delta.delete.is_empty());
        assert!(matches!(
            parse_envelope(r#"{"errCode":5,"errMsg":"no"}"#)
                .as_ref()
                .map_err(EntitiesError::kind),
            Err(EntitiesErrorKind::Server { code: 5, message }) if message == "no"
        ));
        assert!(matches!(
            parse_envelope(r#"{"data":{"total":"x"}}"#)
                .and_then(|mut d| field::<i64>(&mut d, "total"))
                .as_ref()
                .map_err(EntitiesError::kind),
            Err(EntitiesErrorKind::Json(_))
        ));
    }

    #[test]
    fn a_rename_seen_first_in_the_member_list_renames_the_messages() {
        // Incremental delta.
        let mut entities = with_member("Bob");
        entities.sync_members(G);
        let batch = answer_members(
            &mut entities,
            json!({"respList": {G: {"version": 2, "versionID": "v", "full": false,
                "delete": [], "insert": [], "update": [member_info("u2", 20, "Bobby")]}}}),
        );
        assert_eq!(
            sender_rewrites(&batch.changes),
            vec![("u2".to_owned(), "Bobby".to_owned())]
        );

        // Full refetch (paged list).
        let mut entities = with_member("Bob");
        entities.sync_members(G);
        let batch = answer_members(
            &mut entities,
            json!({"respList": {G: {"version": 3, "versionID": "v", "full": true,
                "delete": [], "insert": [], "update": [], "group": group_info()}}}),
        );
        entities.commit(batch);
        let request = entities.poll_rest().expect("member list page");
        let envelope = json!({"errCode": 0, "errMsg": "", "errDlt": "", "data": {"total": 2,
            "members": [member_info(ME, 20, "Me"), member_info("u2", 20, "Bobby")]}});
        let batch = entities
            .handle_rest(request.tag, &envelope.to_string())
            .expect("handled");
        assert_eq!(
            sender_rewrites(&batch.changes),
            vec![("u2".to_owned(), "Bobby".to_owned())]
        );
    }

    #[test]
    fn marking_a_conversation_read_moves_its_row_and_asks_the_server() {
        let id = ConversationId::group(G);
        let mut row = Conversation::new(id.clone());
        row.max_seq = Seq(5);
        row.has_read_seq = Seq(2);
        let mut entities = Entities::from_snapshot(
            ME,
            EntitySnapshot {
                conversations: vec![row],
                ..EntitySnapshot::default()
            },
        );
        assert_eq!(entities.total_unread(), 3);
        let batch = entities.mark_conversation_read(&id).expect("a batch");
        assert_eq!(batch.changes.conversations.len(), 1);
        assert_eq!(batch.changes.conversations[0].has_read_seq, Seq(5));
        assert!(matches!(
            &batch.events[..],
            [EntityEvent::OnConversationChanged(rows)] if rows[0].has_read_seq == Seq(5)
        ));
        entities.commit(batch);
        assert_eq!(entities.total_unread(), 0);
        let events: Vec<EntityEvent> = std::iter::from_fn(|| entities.poll_event()).collect();
        assert!(events.contains(&EntityEvent::OnTotalUnreadMessageCountChanged(0)));

        let request = entities.poll_rest().expect("the server call");
        assert_eq!(request.path, "/msg/mark_conversation_as_read");
        let body: Value = serde_json::from_str(&request.body_json).expect("json");
        assert_eq!(
            body,
            json!({"conversationID": "sg_g1", "userID": ME, "hasReadSeq": 5, "seqs": []})
        );
        assert!(entities.poll_rest().is_none());
        // Already read: nothing to do.
        assert!(entities.mark_conversation_read(&id).is_none());
        assert!(entities.poll_rest().is_none());

        // A refusal is an error; the local mark stays.
        let envelope = json!({"errCode": 1004, "errMsg": "no", "errDlt": ""});
        assert!(matches!(
            entities
                .handle_rest(request.tag, &envelope.to_string())
                .as_ref()
                .map_err(EntitiesError::kind),
            Err(EntitiesErrorKind::Server { code: 1004, .. })
        ));
        assert_eq!(
            entities.conversation(&id).map(|c| c.has_read_seq),
            Some(Seq(5))
        );
    }

    /// Every request's (path, body), checking that the body is the text `serde_json::json!` wrote
    /// for it before: compact, keys sorted, strings escaped the same way.
    fn bodies(requests: &[RestRequest]) -> Vec<(String, Value)> {
        let mut bodies: Vec<(String, Value)> = requests
            .iter()
            .map(|request| {
                let value: Value = serde_json::from_str(&request.body_json).expect("json");
                assert_eq!(value.to_string(), request.body_json);
                (request.path.to_owned(), value)
            })
            .collect();
        bodies.sort_by_key(|(path, value)| (path.clone(), value.to_string()));
        bodies
    }

    #[test]
    fn request_bodies_are_written_as_before() {
        let me = "m\"e\\\u{1}\u{e9}\u{1f600}";
        let gid = "g\u{7f}\"2";
        let marker = |kind, key: &str, version| VersionUpdate {
            kind,
            key: key.to_owned(),
            marker: Some(VersionMarker {
                version_id: format!("v\"{version}\n"),
                version,
            }),
        };
        let id = ConversationId::group(G);
        let mut row = Conversation::new(id.clone());
        row.max_seq = Seq(u64::MAX);
        let mut entities = Entities::from_snapshot(
            me,
            EntitySnapshot {
                conversations: vec![row],
                versions: vec![
                    marker(VersionKind::Friends, me, 7),
                    marker(VersionKind::JoinedGroups, me, 0),
                    marker(VersionKind::Conversations, me, u64::MAX),
                    marker(VersionKind::GroupMembers, gid, 9),
                ],
                ..EntitySnapshot::default()
            },
        );
        let batch = entities.mark_conversation_read(&id).expect("a batch");
        entities.commit(batch);
        entities.sync_all();
        entities.sync_members(gid);
        entities.sync_members(G);
        let requests: Vec<RestRequest> = std::iter::from_fn(|| entities.poll_rest()).collect();
        let mut expected = vec![
            (
                "/conversation/get_incremental_conversations",
                json!({"userID": me, "versionID": "v\"18446744073709551615\n",
                    "version": u64::MAX}),
            ),
            (
                "/friend/get_incremental_friends",
                json!({"userID": me, "versionID": "v\"7\n", "version": 7}),
            ),
            (
                "/group/get_incremental_group_members_batch",
                json!({"userID": me, "reqList": [
                    {"groupID": G, "versionID": "", "version": 0},
                    {"groupID": gid, "versionID": "v\"9\n", "version": 9},
                ]}),
            ),
            (
                "/group/get_incremental_join_groups",
                json!({"userID": me, "versionID": "v\"0\n", "version": 0}),
            ),
            (
                "/msg/mark_conversation_as_read",
                json!({"conversationID": "sg_g1", "userID": me, "hasReadSeq": u64::MAX,
                    "seqs": []}),
            ),
            ("/user/get_users_info", json!({ "userIDs": [me] })),
        ];
        expected.sort_by_key(|(path, value)| (*path, value.to_string()));
        let expected: Vec<(String, Value)> = expected
            .into_iter()
            .map(|(path, value)| (path.to_owned(), value))
            .collect();
        assert_eq!(bodies(&requests), expected);

        // Full refetches: the first page of each list.
        for request in &requests {
            let data = if request.path.ends_with("members_batch") {
                json!({"respList": {G: {"full": true}, gid: {"full": true}}})
            } else {
                json!({"full": true, "version": 1, "versionID": "x"})
            };
            let envelope = json!({"errCode": 0, "errMsg": "", "data": data});
            let batch = entities
                .handle_rest(request.tag, &envelope.to_string())
                .expect("handled");
            entities.commit(batch);
        }
        let pages: Vec<RestRequest> = std::iter::from_fn(|| entities.poll_rest()).collect();
        let page = |size: u32| json!({"pageNumber": 1, "showNumber": size});
        let mut expected = vec![
            (
                "/conversation/get_owner_conversation",
                json!({"userID": me, "pagination": page(CONVERSATION_PAGE_SIZE)}),
            ),
            (
                "/friend/get_friend_list",
                json!({"pagination": page(LIST_PAGE_SIZE), "userID": me}),
            ),
            (
                "/group/get_group_member_list",
                json!({"pagination": page(LIST_PAGE_SIZE), "groupID": G, "filter": 0,
                    "keyword": ""}),
            ),
            (
                "/group/get_group_member_list",
                json!({"pagination": page(LIST_PAGE_SIZE), "groupID": gid, "filter": 0,
                    "keyword": ""}),
            ),
            (
                "/group/get_joined_group_list",
                json!({"pagination": page(LIST_PAGE_SIZE), "fromUserID": me}),
            ),
        ];
        expected.sort_by_key(|(path, value)| (*path, value.to_string()));
        let expected: Vec<(String, Value)> = expected
            .into_iter()
            .map(|(path, value)| (path.to_owned(), value))
            .collect();
        assert_eq!(bodies(&pages), expected);
    }

    #[test]
    fn answers_that_are_not_the_expected_json_are_typed_errors() {
        for text in [
            "",
            "[1]",
            r#"{"errCode":"0"}"#,
            r#"{"data":[]}"#,
            "{\"data\":",
        ] {
            assert!(
                matches!(
                    parse_envelope(text).as_ref().map_err(EntitiesError::kind),
                    Err(EntitiesErrorKind::Json(_))
                ),
                "{text}"
            );
        }
        let mut data = parse_envelope(r#"{"data":{"total":1,"total":2,"insert":[{"userID":5}]}}"#)
            .expect("envelope");
        // A repeated member keeps its last value.
        assert_eq!(field::<i64>(&mut data, "total").expect("total"), 2);
        let err =
            list::<GroupMemberFullInfo>(&mut data, "insert").expect_err("a number for a string");
        assert!(err.to_string().contains("insert"), "{err}");
    }

    #[test]
    fn an_administrator_creating_a_group_is_no_member() {
        let mut entities = Entities::new(ME);
        let tips = GroupCreatedTips {
            group: Some(group_info()),
            op_user: Some(GroupMemberFullInfo {
                app_manger_level: 2,
                ..member_info("imAdmin", 0, "")
            }),
            member_list: vec![member_info(ME, 20, "Me")],
            group_owner_user: Some(member_info("owner", 100, "Olga")),
            ..GroupCreatedTips::default()
        };
        let msg = MsgData {
            send_id: "imAdmin".into(),
            group_id: G.into(),
            client_msg_id: "n1".into(),
            session_type: 3,
            msg_from: 200,
            content_type: ContentType::GroupCreatedNotification.as_i32(),
            content: encode_notification(&tips).expect("tips"),
            ..MsgData::default()
        };
        let batch = entities.apply_notification(1, &msg).expect("applied");
        let mut members: Vec<&str> = batch
            .changes
            .members
            .iter()
            .map(|m| m.user_id.as_str())
            .collect();
        members.sort_unstable();
        assert_eq!(members, vec![ME, "owner"]);
    }
}
