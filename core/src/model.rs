//! Domain types the engine works with: conversation ids, seqs, messages, conversations, users,
//! friends, groups and members.
//!
//! They are built from the wire types of [`chorus_proto::pb`] with `TryFrom`, which fails with a
//! typed [`ModelError`] instead of panicking, and they derive serde so that stores can persist
//! them as they are. They also implement `ToJson` and `FromJson` of [`chorus_proto::msgjson`],
//! which write and read the same JSON text without serde code. Raw wire integers that servers
//! may extend (content types, role levels, join sources) stay integers with typed accessors, so
//! an unknown value never loses a message.
//!
//! This module holds data only: no I/O, no clock, no network.

use std::fmt;

use chorus_proto::constants::{
    AllowType, ContentType, GroupStatus, JoinSource, MsgStatus, RoleLevel, SessionType,
    UnknownValue,
};
use chorus_proto::content::{decode_revoked_content, ContentError, TextElem};
use chorus_proto::error::Quoted;
use chorus_proto::pb::conversation::Conversation as PbConversation;
use chorus_proto::pb::sdkws::{
    FriendInfo, GroupInfo, GroupMemberFullInfo, MsgData, PublicUserInfo, UserInfo,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

mod json;
pub(crate) use json::members as json_members;

/// A wire value that cannot become a domain value: one pointer, so results carrying it stay
/// small.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct ModelError(Box<ModelErrorKind>);

chorus_proto::boxed_error_kind!(ModelError, ModelErrorKind);

impl From<UnknownValue> for ModelError {
    fn from(err: UnknownValue) -> Self {
        ModelErrorKind::Unknown(err).into()
    }
}

impl From<ContentError> for ModelError {
    fn from(err: ContentError) -> Self {
        ModelErrorKind::Content(err).into()
    }
}

/// What kind of failure a [`ModelError`] is.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModelErrorKind {
    /// The string is not a conversation id of a known form (`si_`, `sg_`, `g_`, `sn_`, `n_`).
    #[error("invalid conversation id {}", Quoted(.0))]
    ConversationId(String),
    /// A field the domain value needs is empty or absent.
    #[error("missing field {0}")]
    MissingField(&'static str),
    /// A seq below zero.
    #[error("negative seq {0}")]
    NegativeSeq(i64),
    /// An enum integer that is not a known value.
    #[error(transparent)]
    Unknown(UnknownValue),
    /// Message content that cannot be encoded.
    #[error(transparent)]
    Content(ContentError),
}

/// Serde for wire enums as their integer values.
mod wire_i32 {
    use chorus_proto::constants::UnknownValue;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T, S>(value: &T, serializer: S) -> Result<S::Ok, S::Error>
    where
        T: Copy + Into<i32>,
        S: Serializer,
    {
        serializer.serialize_i32((*value).into())
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: TryFrom<i32, Error = UnknownValue>,
        D: Deserializer<'de>,
    {
        let raw = i32::deserialize(deserializer)?;
        T::try_from(raw).map_err(serde::de::Error::custom)
    }
}

/// What a conversation id designates, from its prefix (spec §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ConversationKind {
    /// `si_<a>_<b>`: one-to-one chat (session type 1).
    Single,
    /// `sg_<groupID>`: a v3 group (session type 3, read diffusion).
    Group,
    /// `g_<groupID>`: legacy write-diffusion group (session type 2).
    LegacyGroup,
    /// `sn_<a>_<b>`: chat with a notification account (session type 4).
    NotificationChat,
    /// `n_…`: the hidden notification conversation twin.
    Notification,
}

impl ConversationKind {
    const PREFIXES: [(&'static str, ConversationKind); 5] = [
        ("si_", ConversationKind::Single),
        ("sg_", ConversationKind::Group),
        ("sn_", ConversationKind::NotificationChat),
        ("g_", ConversationKind::LegacyGroup),
        ("n_", ConversationKind::Notification),
    ];

    /// The session type of messages in conversations of this kind; `None` for notification
    /// conversations, whose messages keep the session type of the chat they belong to.
    pub fn session_type(self) -> Option<SessionType> {
        match self {
            ConversationKind::Single => Some(SessionType::Single),
            ConversationKind::Group => Some(SessionType::ReadGroup),
            ConversationKind::LegacyGroup => Some(SessionType::WriteGroup),
            ConversationKind::NotificationChat => Some(SessionType::Notification),
            ConversationKind::Notification => None,
        }
    }
}

/// A validated conversation id, e.g. `sg_g1` or `si_alice_bob`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConversationId(String);

impl ConversationId {
    /// Validates an id: a known prefix followed by a non-empty rest.
    pub fn parse(id: impl Into<String>) -> Result<ConversationId, ModelError> {
        let id = id.into();
        if Self::is_valid(&id) {
            Ok(ConversationId(id))
        } else {
            Err(ModelErrorKind::ConversationId(id).into())
        }
    }

    /// Whether `id` is a known prefix followed by a non-empty rest.
    fn is_valid(id: &str) -> bool {
        Self::split(id).is_some_and(|(_, rest)| !rest.is_empty())
    }

    fn split(id: &str) -> Option<(ConversationKind, &str)> {
        ConversationKind::PREFIXES
            .iter()
            .find_map(|(prefix, kind)| id.strip_prefix(prefix).map(|rest| (*kind, rest)))
    }

    fn pair(prefix: &str, a: &str, b: &str) -> ConversationId {
        // Both parties compute the same id: the two user ids sorted ascending.
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        ConversationId(format!("{prefix}{lo}_{hi}"))
    }

    /// `si_<a>_<b>` with the two user ids sorted.
    pub fn single(a: &str, b: &str) -> ConversationId {
        Self::pair("si_", a, b)
    }

    /// `sn_<a>_<b>` with the two user ids sorted.
    pub fn notification_chat(a: &str, b: &str) -> ConversationId {
        Self::pair("sn_", a, b)
    }

    /// `sg_<groupID>`.
    pub fn group(group_id: &str) -> ConversationId {
        ConversationId(format!("sg_{group_id}"))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The kind, from the prefix.
    pub fn kind(&self) -> ConversationKind {
        // Construction guarantees a known prefix; Single is never reached.
        Self::split(&self.0).map_or(ConversationKind::Single, |(kind, _)| kind)
    }

    /// The part after the prefix (`g1` for `sg_g1`, `a_b` for `si_a_b`).
    pub fn rest(&self) -> &str {
        Self::split(&self.0).map_or("", |(_, rest)| rest)
    }

    /// The group id of a group or legacy group conversation.
    pub fn group_id(&self) -> Option<&str> {
        match self.kind() {
            ConversationKind::Group | ConversationKind::LegacyGroup => Some(self.rest()),
            _ => None,
        }
    }

    /// The `n_` twin that carries this conversation's notifications (prefix replaced by `n`).
    pub fn notification_twin(&self) -> ConversationId {
        ConversationId(format!("n_{}", self.rest()))
    }

    /// The conversation a message belongs to, computed as servers do: by session type, and to
    /// the `n_` twin when its options say `isNotNotification: false`.
    pub fn for_msg_data(msg: &MsgData) -> Result<ConversationId, ModelError> {
        let session = SessionType::try_from(msg.session_type)?;
        let non_empty = |value: &str, field: &'static str| {
            if value.is_empty() {
                Err(ModelError::from(ModelErrorKind::MissingField(field)))
            } else {
                Ok(())
            }
        };
        let chat = match session {
            SessionType::Single | SessionType::Notification => {
                non_empty(&msg.send_id, "sendID")?;
                non_empty(&msg.recv_id, "recvID")?;
                if session == SessionType::Single {
                    Self::single(&msg.send_id, &msg.recv_id)
                } else {
                    Self::notification_chat(&msg.send_id, &msg.recv_id)
                }
            }
            SessionType::ReadGroup | SessionType::WriteGroup => {
                non_empty(&msg.group_id, "groupID")?;
                let prefix = if session == SessionType::ReadGroup {
                    "sg_"
                } else {
                    "g_"
                };
                ConversationId(format!("{prefix}{}", msg.group_id))
            }
        };
        // A missing option key means true, so only an explicit false routes to `n_`.
        let is_not_notification = msg
            .options
            .get(chorus_proto::constants::option_keys::IS_NOT_NOTIFICATION)
            .copied()
            .unwrap_or(true);
        Ok(if is_not_notification {
            chat
        } else {
            chat.notification_twin()
        })
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ConversationId {
    type Error = ModelError;

    fn try_from(value: String) -> Result<Self, ModelError> {
        ConversationId::parse(value)
    }
}

impl TryFrom<&str> for ConversationId {
    type Error = ModelError;

    fn try_from(value: &str) -> Result<Self, ModelError> {
        ConversationId::parse(value)
    }
}

impl From<ConversationId> for String {
    fn from(value: ConversationId) -> String {
        value.0
    }
}

/// A message sequence number within one conversation. Seq 0 means "none yet": unsent messages
/// and transient notifications.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    /// No seq.
    pub const ZERO: Seq = Seq(0);
    /// The largest seq.
    pub const MAX: Seq = Seq(u64::MAX);

    /// The number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The next seq (saturating).
    pub const fn next(self) -> Seq {
        Seq(self.0.saturating_add(1))
    }

    /// The previous seq (saturating at 0).
    pub const fn prev(self) -> Seq {
        Seq(self.0.saturating_sub(1))
    }

    /// The wire form (`int64`), saturating.
    pub fn to_wire(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl From<u64> for Seq {
    fn from(value: u64) -> Seq {
        Seq(value)
    }
}

impl TryFrom<i64> for Seq {
    type Error = ModelError;

    fn try_from(value: i64) -> Result<Seq, ModelError> {
        u64::try_from(value)
            .map(Seq)
            .map_err(|_| ModelErrorKind::NegativeSeq(value).into())
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Message content: parsed text for text messages, the raw JSON bytes otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Content {
    /// A text message (content type 101).
    Text(String),
    /// Any other content, as received (UTF-8 JSON of the element).
    Raw(Vec<u8>),
}

impl Content {
    /// Reads wire content: text messages whose JSON parses become [`Content::Text`]; everything
    /// else stays raw, so nothing is lost.
    pub fn from_wire(content_type: i32, bytes: Vec<u8>) -> Content {
        if content_type == ContentType::Text.as_i32() {
            if let Ok(elem) = TextElem::from_content(&bytes) {
                return Content::Text(elem.content);
            }
        }
        Content::Raw(bytes)
    }

    /// The wire bytes.
    pub fn to_wire(&self) -> Result<Vec<u8>, ModelError> {
        match self {
            Content::Text(text) => Ok(TextElem::new(text.as_str()).to_content()?),
            Content::Raw(bytes) => Ok(bytes.clone()),
        }
    }

    /// The text of a text message.
    pub fn text(&self) -> Option<&str> {
        match self {
            Content::Text(text) => Some(text),
            Content::Raw(_) => None,
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MessageStatus {
    /// Persisted locally, not yet acknowledged by the server.
    Sending,
    /// Acknowledged or received.
    Sent,
    /// The server refused it with this error code (0 when no code is known).
    Failed {
        /// The server's error code.
        code: i32,
    },
    /// Deleted (pulls return `{seq, status: 4}` placeholders for deleted seqs).
    Deleted,
    /// Filtered by the server.
    Filtered,
    /// Revoked: the content is replaced by the revocation.
    Revoked {
        /// The revoker's user id.
        by: String,
        /// The revoker's group role level (or app level in single chats).
        role: i32,
        /// The revoker's nickname, when known.
        nickname: String,
        /// When it was revoked, ms since the epoch.
        time: i64,
    },
}

impl MessageStatus {
    /// The `MsgData.status` value.
    pub fn to_wire(&self) -> i32 {
        match self {
            MessageStatus::Sending => MsgStatus::Sending.as_i32(),
            MessageStatus::Sent | MessageStatus::Revoked { .. } => MsgStatus::SendSuccess.as_i32(),
            MessageStatus::Failed { .. } => MsgStatus::SendFailed.as_i32(),
            MessageStatus::Deleted => MsgStatus::Deleted.as_i32(),
            MessageStatus::Filtered => MsgStatus::Filtered.as_i32(),
        }
    }
}

/// A message of one conversation.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The seq; [`Seq::ZERO`] until the server assigns one.
    pub seq: Seq,
    /// The sender-assigned id; the key that matches an echo to its outbox entry.
    pub client_msg_id: String,
    /// The server-assigned id.
    pub server_msg_id: String,
    /// Sender user id.
    pub send_id: String,
    /// Receiver user id (single chats) or group id.
    pub recv_id: String,
    /// Group id for group messages.
    pub group_id: String,
    /// Sender platform.
    pub sender_platform_id: i32,
    /// Sender nickname as shown (rewritten when a member renames).
    pub sender_nickname: String,
    /// Sender face URL as shown.
    pub sender_face_url: String,
    /// Session type.
    #[serde(with = "wire_i32")]
    pub session_type: SessionType,
    /// 100 user, 200 system.
    pub msg_from: i32,
    /// Content type (spec §3.8); kept raw so unknown types survive.
    pub content_type: i32,
    /// The content.
    pub content: Content,
    /// Send time, ms since the epoch.
    pub send_time: i64,
    /// Creation time, ms since the epoch.
    pub create_time: i64,
    /// Status.
    pub status: MessageStatus,
    /// Read flag as delivered.
    pub is_read: bool,
    /// Message options (a missing key means true).
    pub options: chorus_proto::pb::Map<String, bool>,
    /// Mentioned user ids.
    pub at_user_ids: Vec<String>,
    /// Attached info JSON.
    pub attached_info: String,
    /// Extension field.
    pub ex: String,
}

/// Written out (not derived) so that the one compiled copy in this crate serves every crate
/// that clones a message.
impl Clone for Message {
    fn clone(&self) -> Self {
        Message {
            conversation_id: self.conversation_id.clone(),
            seq: self.seq,
            client_msg_id: self.client_msg_id.clone(),
            server_msg_id: self.server_msg_id.clone(),
            send_id: self.send_id.clone(),
            recv_id: self.recv_id.clone(),
            group_id: self.group_id.clone(),
            sender_platform_id: self.sender_platform_id,
            sender_nickname: self.sender_nickname.clone(),
            sender_face_url: self.sender_face_url.clone(),
            session_type: self.session_type,
            msg_from: self.msg_from,
            content_type: self.content_type,
            content: self.content.clone(),
            send_time: self.send_time,
            create_time: self.create_time,
            status: self.status.clone(),
            is_read: self.is_read,
            options: self.options.clone(),
            at_user_ids: self.at_user_ids.clone(),
            attached_info: self.attached_info.clone(),
            ex: self.ex.clone(),
        }
    }
}

impl Message {
    /// A message whose every field is empty (a group conversation with no id, seq 0, status
    /// sending): the start of a reader that then sets every field.
    pub fn blank() -> Message {
        Message {
            conversation_id: ConversationId(String::new()),
            seq: Seq(0),
            client_msg_id: String::new(),
            server_msg_id: String::new(),
            send_id: String::new(),
            recv_id: String::new(),
            group_id: String::new(),
            sender_platform_id: 0,
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            session_type: SessionType::Single,
            msg_from: 0,
            content_type: 0,
            content: Content::Raw(Vec::new()),
            send_time: 0,
            create_time: 0,
            status: MessageStatus::Sending,
            is_read: false,
            options: chorus_proto::pb::Map::new(),
            at_user_ids: Vec::new(),
            attached_info: String::new(),
            ex: String::new(),
        }
    }

    /// A wire message in a known conversation (the key of a pull or push map).
    pub fn from_wire(conversation_id: ConversationId, msg: MsgData) -> Result<Message, ModelError> {
        let seq = Seq::try_from(msg.seq)?;
        let session_type = match msg.session_type {
            // Deleted placeholders carry only a seq and a status.
            0 => conversation_id
                .kind()
                .session_type()
                .unwrap_or(SessionType::Single),
            raw => SessionType::try_from(raw)?,
        };
        let mut status = match msg.status {
            // Unset status on a delivered message means it was sent.
            0 => MessageStatus::Sent,
            raw => match MsgStatus::try_from(raw)? {
                MsgStatus::Sending => MessageStatus::Sending,
                MsgStatus::SendSuccess => MessageStatus::Sent,
                MsgStatus::SendFailed => MessageStatus::Failed { code: 0 },
                MsgStatus::Deleted => MessageStatus::Deleted,
                MsgStatus::Filtered => MessageStatus::Filtered,
            },
        };
        // Servers rewrite revoked messages to content type 2101 with the revocation as content;
        // the revoke notification shares the content type but has other keys (no revokerID).
        if msg.content_type == ContentType::MsgRevokeNotification.as_i32()
            && conversation_id.kind() != ConversationKind::Notification
        {
            if let Ok(revoked) = decode_revoked_content(&msg.content) {
                if !revoked.revoker_id.is_empty() {
                    status = MessageStatus::Revoked {
                        by: revoked.revoker_id,
                        role: revoked.revoker_role,
                        nickname: revoked.revoker_nickname,
                        time: revoked.revoke_time,
                    };
                }
            }
        }
        Ok(Message {
            conversation_id,
            seq,
            client_msg_id: msg.client_msg_id,
            server_msg_id: msg.server_msg_id,
            send_id: msg.send_id,
            recv_id: msg.recv_id,
            group_id: msg.group_id,
            sender_platform_id: msg.sender_platform_id,
            sender_nickname: msg.sender_nickname,
            sender_face_url: msg.sender_face_url,
            session_type,
            msg_from: msg.msg_from,
            content_type: msg.content_type,
            content: Content::from_wire(msg.content_type, msg.content),
            send_time: msg.send_time,
            create_time: msg.create_time,
            status,
            is_read: msg.is_read,
            options: msg.options,
            at_user_ids: msg.at_user_id_list,
            attached_info: msg.attached_info,
            ex: msg.ex,
        })
    }

    /// The wire form (e.g. for a 1003 send request).
    pub fn to_wire(&self) -> Result<MsgData, ModelError> {
        Ok(MsgData {
            send_id: self.send_id.clone(),
            recv_id: self.recv_id.clone(),
            group_id: self.group_id.clone(),
            client_msg_id: self.client_msg_id.clone(),
            server_msg_id: self.server_msg_id.clone(),
            sender_platform_id: self.sender_platform_id,
            sender_nickname: self.sender_nickname.clone(),
            sender_face_url: self.sender_face_url.clone(),
            session_type: self.session_type.as_i32(),
            msg_from: self.msg_from,
            content_type: self.content_type,
            content: self.content.to_wire()?,
            seq: self.seq.to_wire(),
            send_time: self.send_time,
            create_time: self.create_time,
            status: self.status.to_wire(),
            is_read: self.is_read,
            options: self.options.clone(),
            offline_push_info: None,
            at_user_id_list: self.at_user_ids.clone(),
            attached_info: self.attached_info.clone(),
            ex: self.ex.clone(),
        })
    }

    /// A text message with the given coordinates: a starting point for builders and tests.
    pub fn text(
        conversation_id: ConversationId,
        seq: Seq,
        client_msg_id: impl Into<String>,
        text: impl Into<String>,
    ) -> Message {
        let session_type = conversation_id
            .kind()
            .session_type()
            .unwrap_or(SessionType::Single);
        let group_id = conversation_id.group_id().unwrap_or_default().to_owned();
        Message {
            conversation_id,
            seq,
            client_msg_id: client_msg_id.into(),
            server_msg_id: String::new(),
            send_id: String::new(),
            recv_id: group_id.clone(),
            group_id,
            sender_platform_id: 0,
            sender_nickname: String::new(),
            sender_face_url: String::new(),
            session_type,
            msg_from: chorus_proto::constants::MsgFrom::User.as_i32(),
            content_type: ContentType::Text.as_i32(),
            content: Content::Text(text.into()),
            send_time: 0,
            create_time: 0,
            status: MessageStatus::Sent,
            is_read: false,
            options: chorus_proto::pb::Map::new(),
            at_user_ids: Vec::new(),
            attached_info: String::new(),
            ex: String::new(),
        }
    }

    /// Whether the message is a placeholder for a deleted seq.
    pub fn is_deleted(&self) -> bool {
        self.status == MessageStatus::Deleted
    }
}

/// Starts a message builder for tests and simulations, reading like the domain:
/// `msg().conv("sg_g1").seq(5).text("hi").build()`.
///
/// Defaults: conversation `sg_g1`, seq 0, status sent, empty text, and — when none is given —
/// the clientMsgID `<conversation>-<seq>`.
pub fn msg() -> MessageBuilder {
    MessageBuilder {
        message: Message::text(ConversationId::group("g1"), Seq::ZERO, "", ""),
    }
}

/// Builds a [`Message`]; see [`msg`].
#[derive(Debug, Clone)]
#[must_use]
pub struct MessageBuilder {
    message: Message,
}

impl MessageBuilder {
    /// Sets the conversation, with the session type and group id it implies.
    ///
    /// # Panics
    /// If `id` is not a conversation id: builders take literals written in tests.
    pub fn conv(mut self, id: &str) -> MessageBuilder {
        let id = ConversationId::parse(id).expect("msg().conv(..) needs a valid conversation id");
        if let Some(session_type) = id.kind().session_type() {
            self.message.session_type = session_type;
        }
        let group_id = id.group_id().unwrap_or_default().to_owned();
        self.message.recv_id.clone_from(&group_id);
        self.message.group_id = group_id;
        self.message.conversation_id = id;
        self
    }

    /// Sets the seq.
    pub fn seq(mut self, seq: u64) -> MessageBuilder {
        self.message.seq = Seq(seq);
        self
    }

    /// Makes it a text message.
    pub fn text(mut self, text: impl Into<String>) -> MessageBuilder {
        self.message.content_type = ContentType::Text.as_i32();
        self.message.content = Content::Text(text.into());
        self
    }

    /// Sets the clientMsgID.
    pub fn client_id(mut self, id: impl Into<String>) -> MessageBuilder {
        self.message.client_msg_id = id.into();
        self
    }

    /// Sets the sender and the nickname shown for it.
    pub fn from(
        mut self,
        user_id: impl Into<String>,
        nickname: impl Into<String>,
    ) -> MessageBuilder {
        self.message.send_id = user_id.into();
        self.message.sender_nickname = nickname.into();
        self
    }

    /// Sets the status.
    pub fn status(mut self, status: MessageStatus) -> MessageBuilder {
        self.message.status = status;
        self
    }

    /// Sets the send time (ms since the epoch).
    pub fn send_time(mut self, ms: i64) -> MessageBuilder {
        self.message.send_time = ms;
        self
    }

    /// The message.
    pub fn build(mut self) -> Message {
        if self.message.client_msg_id.is_empty() {
            self.message.client_msg_id =
                format!("{}-{}", self.message.conversation_id, self.message.seq);
        }
        self.message
    }
}

impl From<MessageBuilder> for Message {
    fn from(builder: MessageBuilder) -> Message {
        builder.build()
    }
}

impl TryFrom<MsgData> for Message {
    type Error = ModelError;

    /// Computes the conversation from the message itself (see [`ConversationId::for_msg_data`]).
    fn try_from(msg: MsgData) -> Result<Message, ModelError> {
        let conversation_id = ConversationId::for_msg_data(&msg)?;
        Message::from_wire(conversation_id, msg)
    }
}

/// A conversation as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The id.
    pub id: ConversationId,
    /// Session type of its messages.
    #[serde(with = "wire_i32")]
    pub conversation_type: SessionType,
    /// The peer user id (single chats).
    pub user_id: String,
    /// The group id (groups).
    pub group_id: String,
    /// Receive option (0 receive, 1 not receive, 2 receive silently).
    pub recv_msg_opt: i32,
    /// Pinned.
    pub is_pinned: bool,
    /// Private (burn after reading) chat.
    pub is_private_chat: bool,
    /// Burn duration in seconds.
    pub burn_duration: i32,
    /// `@` state (4 = a new group announcement).
    pub group_at_type: i32,
    /// Attached info.
    pub attached_info: String,
    /// Extension field.
    pub ex: String,
    /// Lowest visible seq.
    pub min_seq: Seq,
    /// The server's max seq.
    pub max_seq: Seq,
    /// The user's has-read seq.
    pub has_read_seq: Seq,
    /// The latest message, for the conversation list.
    pub latest_message: Option<Message>,
}

impl Conversation {
    /// An empty conversation with the session type and ids implied by its id.
    pub fn new(id: ConversationId) -> Conversation {
        let conversation_type = id.kind().session_type().unwrap_or(SessionType::Single);
        let group_id = id.group_id().unwrap_or_default().to_owned();
        Conversation {
            id,
            conversation_type,
            user_id: String::new(),
            group_id,
            recv_msg_opt: 0,
            is_pinned: false,
            is_private_chat: false,
            burn_duration: 0,
            group_at_type: 0,
            attached_info: String::new(),
            ex: String::new(),
            min_seq: Seq::ZERO,
            max_seq: Seq::ZERO,
            has_read_seq: Seq::ZERO,
            latest_message: None,
        }
    }

    /// Unread count: max seq − has-read seq (never negative).
    pub fn unread_count(&self) -> u64 {
        self.max_seq.0.saturating_sub(self.has_read_seq.0)
    }
}

impl TryFrom<PbConversation> for Conversation {
    type Error = ModelError;

    fn try_from(pb: PbConversation) -> Result<Conversation, ModelError> {
        // Every check comes before the first field is moved out, so a failure drops `pb` whole.
        if !ConversationId::is_valid(&pb.conversation_id) {
            return Err(ModelErrorKind::ConversationId(pb.conversation_id).into());
        }
        let conversation_type = match pb.conversation_type {
            0 => None,
            raw => Some(SessionType::try_from(raw)?),
        };
        let min_seq = Seq::try_from(pb.min_seq)?;
        let max_seq = Seq::try_from(pb.max_seq)?;
        let mut conversation = Conversation::new(ConversationId(pb.conversation_id));
        if let Some(conversation_type) = conversation_type {
            conversation.conversation_type = conversation_type;
        }
        conversation.user_id = pb.user_id;
        if !pb.group_id.is_empty() {
            conversation.group_id = pb.group_id;
        }
        conversation.recv_msg_opt = pb.recv_msg_opt;
        conversation.is_pinned = pb.is_pinned;
        conversation.is_private_chat = pb.is_private_chat;
        conversation.burn_duration = pb.burn_duration;
        conversation.group_at_type = pb.group_at_type;
        conversation.attached_info = pb.attached_info;
        conversation.ex = pb.ex;
        conversation.min_seq = min_seq;
        conversation.max_seq = max_seq;
        Ok(conversation)
    }
}

/// Fails with [`ModelErrorKind::MissingField`] when `value` is empty. Checked before any field of
/// the wire value is moved out, so a failure drops the wire value whole.
fn required(value: &str, field: &'static str) -> Result<(), ModelError> {
    if value.is_empty() {
        Err(ModelErrorKind::MissingField(field).into())
    } else {
        Ok(())
    }
}

/// A user profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// User id.
    pub user_id: String,
    /// Nickname.
    pub nickname: String,
    /// Avatar URL.
    pub face_url: String,
    /// Extension field.
    pub ex: String,
    /// Registration time, ms since the epoch.
    pub create_time: i64,
    /// Application level (`appMangerLevel`).
    pub app_manager_level: i32,
    /// Global receive option.
    pub global_recv_msg_opt: i32,
}

impl User {
    /// The nickname, or the user id when the nickname is empty.
    pub fn display_name(&self) -> &str {
        if self.nickname.is_empty() {
            &self.user_id
        } else {
            &self.nickname
        }
    }
}

impl User {
    /// The profile of `pb`, whose user id was checked.
    fn from_info(pb: UserInfo) -> User {
        User {
            user_id: pb.user_id,
            nickname: pb.nickname,
            face_url: pb.face_url,
            ex: pb.ex,
            create_time: pb.create_time,
            app_manager_level: pb.app_manger_level,
            global_recv_msg_opt: pb.global_recv_msg_opt,
        }
    }
}

impl TryFrom<UserInfo> for User {
    type Error = ModelError;

    fn try_from(pb: UserInfo) -> Result<User, ModelError> {
        required(&pb.user_id, "userID")?;
        Ok(User::from_info(pb))
    }
}

impl TryFrom<PublicUserInfo> for User {
    type Error = ModelError;

    fn try_from(pb: PublicUserInfo) -> Result<User, ModelError> {
        required(&pb.user_id, "userID")?;
        Ok(User {
            user_id: pb.user_id,
            nickname: pb.nickname,
            face_url: pb.face_url,
            ex: pb.ex,
            ..User::default()
        })
    }
}

/// A friend of the logged-in user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Friend {
    /// The logged-in user.
    pub owner_user_id: String,
    /// The friend's profile.
    pub user: User,
    /// The owner's remark; empty when none (a deleted remark is an empty one).
    pub remark: String,
    /// When the friendship was made, ms since the epoch.
    pub create_time: i64,
    /// How the friend was added.
    pub add_source: i32,
    /// Who made the change.
    pub operator_user_id: String,
    /// Extension field.
    pub ex: String,
    /// Pinned.
    pub is_pinned: bool,
}

impl Friend {
    /// The friend's user id.
    pub fn user_id(&self) -> &str {
        &self.user.user_id
    }

    /// The remark, falling back to the nickname (then the user id) when the remark is empty.
    pub fn display_name(&self) -> &str {
        if self.remark.is_empty() {
            self.user.display_name()
        } else {
            &self.remark
        }
    }
}

impl TryFrom<FriendInfo> for Friend {
    type Error = ModelError;

    fn try_from(pb: FriendInfo) -> Result<Friend, ModelError> {
        let Some(user) = &pb.friend_user else {
            return Err(ModelErrorKind::MissingField("friendUser").into());
        };
        required(&user.user_id, "userID")?;
        let user = pb.friend_user.map(User::from_info).unwrap_or_default();
        Ok(Friend {
            owner_user_id: pb.owner_user_id,
            user,
            remark: pb.remark,
            create_time: pb.create_time,
            add_source: pb.add_source,
            operator_user_id: pb.operator_user_id,
            ex: pb.ex,
            is_pinned: pb.is_pinned,
        })
    }
}

/// A group announcement with its editor and time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The text (`GroupInfo.notification`); empty when none.
    pub text: String,
    /// Who last set it (`notificationUserID`).
    pub editor_user_id: String,
    /// When it was last set, ms since the epoch (`notificationUpdateTime`).
    pub updated_at: i64,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Group id.
    pub group_id: String,
    /// Name.
    pub name: String,
    /// The announcement.
    pub announcement: Announcement,
    /// Introduction.
    pub introduction: String,
    /// Avatar URL.
    pub face_url: String,
    /// Owner user id.
    pub owner_user_id: String,
    /// Creator user id.
    pub creator_user_id: String,
    /// Creation time, ms since the epoch.
    pub create_time: i64,
    /// Member count.
    pub member_count: u32,
    /// Extension field.
    pub ex: String,
    /// Status (0 ok, 2 dismissed, 3 muted).
    pub status: i32,
    /// Group type (2 = work group).
    pub group_type: i32,
    /// Join verification policy.
    pub need_verification: i32,
    /// Whether members may view each other's profiles.
    #[serde(with = "wire_i32")]
    pub look_member_info: AllowType,
    /// Whether members may add each other as friends.
    #[serde(with = "wire_i32")]
    pub apply_member_friend: AllowType,
    /// Whether new members see the history; `None` when the server did not say (its default is
    /// yes).
    pub history_for_new_members: Option<bool>,
}

impl Group {
    /// Whether the group was dismissed.
    pub fn is_dismissed(&self) -> bool {
        self.status == GroupStatus::Dismissed.as_i32()
    }
}

impl TryFrom<GroupInfo> for Group {
    type Error = ModelError;

    fn try_from(pb: GroupInfo) -> Result<Group, ModelError> {
        required(&pb.group_id, "groupID")?;
        let look_member_info = AllowType::try_from(pb.look_member_info)?;
        let apply_member_friend = AllowType::try_from(pb.apply_member_friend)?;
        Ok(Group {
            group_id: pb.group_id,
            name: pb.group_name,
            announcement: Announcement {
                text: pb.notification,
                editor_user_id: pb.notification_user_id,
                updated_at: pb.notification_update_time,
            },
            introduction: pb.introduction,
            face_url: pb.face_url,
            owner_user_id: pb.owner_user_id,
            creator_user_id: pb.creator_user_id,
            create_time: pb.create_time,
            member_count: pb.member_count,
            ex: pb.ex,
            status: pb.status,
            group_type: pb.group_type,
            need_verification: pb.need_verification,
            look_member_info,
            apply_member_friend,
            history_for_new_members: None,
        })
    }
}

/// A member of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Group id.
    pub group_id: String,
    /// User id.
    pub user_id: String,
    /// Role level (100 owner, 60 admin, 20 ordinary); see [`Member::role`].
    pub role_level: i32,
    /// Join time, ms since the epoch.
    pub join_time: i64,
    /// Nickname shown in the group.
    pub nickname: String,
    /// Avatar URL shown in the group.
    pub face_url: String,
    /// Application level.
    pub app_manager_level: i32,
    /// How the member joined (0 when the server recorded nothing); see [`Member::joined_by`].
    pub join_source: i32,
    /// Who admitted the member.
    pub operator_user_id: String,
    /// Who invited the member.
    pub inviter_user_id: String,
    /// Extension field.
    pub ex: String,
    /// End of the member's mute, ms since the epoch.
    pub mute_end_time: i64,
}

impl Member {
    /// The role, when the level is a known one.
    pub fn role(&self) -> Option<RoleLevel> {
        RoleLevel::try_from(self.role_level).ok()
    }

    /// How the member joined, when recorded.
    pub fn joined_by(&self) -> Option<JoinSource> {
        JoinSource::try_from(self.join_source).ok()
    }
}

impl TryFrom<GroupMemberFullInfo> for Member {
    type Error = ModelError;

    fn try_from(pb: GroupMemberFullInfo) -> Result<Member, ModelError> {
        required(&pb.group_id, "groupID")?;
        required(&pb.user_id, "userID")?;
        Ok(Member {
            group_id: pb.group_id,
            user_id: pb.user_id,
            role_level: pb.role_level,
            join_time: pb.join_time,
            nickname: pb.nickname,
            face_url: pb.face_url,
            app_manager_level: pb.app_manger_level,
            join_source: pb.join_source,
            operator_user_id: pb.operator_user_id,
            inviter_user_id: pb.inviter_user_id,
            ex: pb.ex,
            mute_end_time: pb.mute_end_time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_proto::content::encode_revoked_content;
    use chorus_proto::pb::sdkws::MessageRevokedContent;

    #[test]
    fn invalid_conversation_id_is_shown_between_quotes() {
        let err = ConversationId::parse("x_1".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), "invalid conversation id \"x_1\"");
        assert_eq!(Quoted("").to_string(), "\"\"");
    }

    #[test]
    fn conversation_ids_have_kinds_and_twins() {
        let single = ConversationId::single("bob", "alice");
        assert_eq!(single.as_str(), "si_alice_bob");
        assert_eq!(single.kind(), ConversationKind::Single);
        assert_eq!(single.notification_twin().as_str(), "n_alice_bob");
        let group = ConversationId::parse("sg_g1").unwrap();
        assert_eq!(group.kind(), ConversationKind::Group);
        assert_eq!(group.group_id(), Some("g1"));
        assert_eq!(group.notification_twin().as_str(), "n_g1");
        assert_eq!(
            ConversationId::parse("sn_a_b").unwrap().kind(),
            ConversationKind::NotificationChat
        );
        assert_eq!(
            ConversationId::parse("n_g1").unwrap().kind(),
            ConversationKind::Notification
        );
        for bad in ["", "sg_", "x_1", "g1"] {
            assert!(matches!(
                ConversationId::parse(bad)
                    .as_ref()
                    .map_err(ModelError::kind),
                Err(ModelErrorKind::ConversationId(_))
            ));
        }
    }

    #[test]
    fn msg_data_routes_to_its_conversation() {
        let mut msg = MsgData {
            send_id: "u2".into(),
            recv_id: "u1".into(),
            session_type: 1,
            ..MsgData::default()
        };
        assert_eq!(
            ConversationId::for_msg_data(&msg).unwrap().as_str(),
            "si_u1_u2"
        );
        msg.options.insert("isNotNotification".into(), false);
        assert_eq!(
            ConversationId::for_msg_data(&msg).unwrap().as_str(),
            "n_u1_u2"
        );
        let group = MsgData {
            group_id: "g1".into(),
            session_type: 3,
            ..MsgData::default()
        };
        assert_eq!(
            ConversationId::for_msg_data(&group).unwrap().as_str(),
            "sg_g1"
        );
        let bad = MsgData {
            session_type: 3,
            ..MsgData::default()
        };
        assert!(matches!(
            ConversationId::for_msg_data(&bad)
                .as_ref()
                .map_err(ModelError::kind),
            Err(ModelErrorKind::MissingField("groupID"))
        ));
        let unknown = MsgData {
            session_type: 9,
            ..MsgData::default()
        };
        assert!(matches!(
            ConversationId::for_msg_data(&unknown)
                .as_ref()
                .map_err(ModelError::kind),
            Err(ModelErrorKind::Unknown(_))
        ));
    }

    #[test]
    fn a_cloned_message_equals_the_original() {
        let mut msg = Message::text(ConversationId::group("g1"), Seq(5), "c1", "hi");
        msg.send_id = "u1".into();
        msg.sender_platform_id = 5;
        msg.send_time = 7;
        msg.is_read = true;
        msg.options.insert("history".into(), false);
        msg.at_user_ids.push("u2".into());
        msg.ex = "ex".into();
        let copy = msg.clone();
        assert_eq!(copy, msg);
        assert_eq!(copy.at_user_ids, ["u2"]);
    }

    #[test]
    fn text_message_round_trips_through_the_wire() {
        let conv = ConversationId::group("g1");
        let mut msg = Message::text(conv.clone(), Seq(5), "c1", "hi");
        msg.send_id = "u1".into();
        let wire = msg.to_wire().unwrap();
        assert_eq!(wire.content, br#"{"content":"hi"}"#);
        assert_eq!(wire.seq, 5);
        let back = Message::try_from(wire).unwrap();
        assert_eq!(back, msg);
        assert_eq!(back.content.text(), Some("hi"));
    }

    #[test]
    fn negative_seq_and_unknown_status_are_typed_errors() {
        let conv = ConversationId::group("g1");
        let negative = MsgData {
            seq: -1,
            session_type: 3,
            ..MsgData::default()
        };
        assert!(matches!(
            Message::from_wire(conv.clone(), negative)
                .as_ref()
                .map_err(ModelError::kind),
            Err(ModelErrorKind::NegativeSeq(-1))
        ));
        let status = MsgData {
            seq: 1,
            session_type: 3,
            status: 42,
            ..MsgData::default()
        };
        assert!(matches!(
            Message::from_wire(conv, status)
                .as_ref()
                .map_err(ModelError::kind),
            Err(ModelErrorKind::Unknown(_))
        ));
    }

    #[test]
    fn revoked_content_becomes_revoked_status() {
        let content = encode_revoked_content(&MessageRevokedContent {
            revoker_id: "owner".into(),
            revoker_role: 100,
            revoke_time: 1234,
            ..MessageRevokedContent::default()
        })
        .unwrap();
        let msg = MsgData {
            seq: 3,
            session_type: 3,
            group_id: "g1".into(),
            content_type: 2101,
            content,
            ..MsgData::default()
        };
        let msg = Message::try_from(msg).unwrap();
        assert_eq!(
            msg.status,
            MessageStatus::Revoked {
                by: "owner".into(),
                role: 100,
                nickname: String::new(),
                time: 1234
            }
        );
    }

    #[test]
    fn builder_reads_like_the_domain() {
        let m = msg()
            .text("hi")
            .conv("si_u1_u2")
            .seq(5)
            .from("u1", "Alice")
            .build();
        assert_eq!(m.conversation_id.as_str(), "si_u1_u2");
        assert_eq!(m.session_type, SessionType::Single);
        assert_eq!(m.seq, Seq(5));
        assert_eq!(m.content.text(), Some("hi"));
        assert_eq!(m.client_msg_id, "si_u1_u2-5");
        assert_eq!(m.sender_nickname, "Alice");
        let g = msg().conv("sg_g7").client_id("c1").build();
        assert_eq!(g.group_id, "g7");
        assert_eq!(g.session_type, SessionType::ReadGroup);
        assert_eq!(g.client_msg_id, "c1");
    }

    #[test]
    fn deleted_placeholder_converts() {
        let msg = MsgData {
            seq: 7,
            status: 4,
            ..MsgData::default()
        };
        let msg = Message::from_wire(ConversationId::group("g1"), msg).unwrap();
        assert!(msg.is_deleted());
        assert_eq!(msg.seq, Seq(7));
    }

    #[test]
    fn unread_is_max_minus_has_read() {
        let mut conv = Conversation::new(ConversationId::group("g1"));
        conv.max_seq = Seq(10);
        conv.has_read_seq = Seq(4);
        assert_eq!(conv.unread_count(), 6);
        conv.has_read_seq = Seq(12);
        assert_eq!(conv.unread_count(), 0);
    }

    #[test]
    fn friend_display_name_falls_back_to_nickname() {
        let friend = Friend::try_from(FriendInfo {
            owner_user_id: "me".into(),
            remark: "Bobby".into(),
            friend_user: Some(UserInfo {
                user_id: "bob".into(),
                nickname: "Bob".into(),
                ..UserInfo::default()
            }),
            ..FriendInfo::default()
        })
        .unwrap();
        assert_eq!(friend.display_name(), "Bobby");
        let removed = Friend {
            remark: String::new(),
            ..friend
        };
        assert_eq!(removed.display_name(), "Bob");
        assert!(matches!(
            Friend::try_from(FriendInfo::default())
                .as_ref()
                .map_err(ModelError::kind),
            Err(ModelErrorKind::MissingField("friendUser"))
        ));
    }

    #[test]
    fn group_keeps_announcement_editor_and_flags() {
        let group = Group::try_from(GroupInfo {
            group_id: "g1".into(),
            notification: "meeting at 5".into(),
            notification_user_id: "owner".into(),
            notification_update_time: 99,
            look_member_info: 1,
            ..GroupInfo::default()
        })
        .unwrap();
        assert_eq!(group.announcement.text, "meeting at 5");
        assert_eq!(group.announcement.editor_user_id, "owner");
        assert_eq!(group.announcement.updated_at, 99);
        assert_eq!(group.look_member_info, AllowType::NotAllowed);
        assert_eq!(group.apply_member_friend, AllowType::Allowed);
        assert!(Group::try_from(GroupInfo {
            group_id: "g1".into(),
            apply_member_friend: 7,
            ..GroupInfo::default()
        })
        .is_err());
    }

    #[test]
    fn member_keeps_join_source_and_inviter() {
        let member = Member::try_from(GroupMemberFullInfo {
            group_id: "g1".into(),
            user_id: "u3".into(),
            role_level: 60,
            join_source: 2,
            inviter_user_id: "u1".into(),
            ..GroupMemberFullInfo::default()
        })
        .unwrap();
        assert_eq!(member.role(), Some(RoleLevel::Admin));
        assert_eq!(member.joined_by(), Some(JoinSource::ByInvitation));
        assert_eq!(member.inviter_user_id, "u1");
        let unknown = Member {
            join_source: 0,
            ..member
        };
        assert_eq!(unknown.joined_by(), None);
    }
}
