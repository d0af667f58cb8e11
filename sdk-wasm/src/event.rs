//! [`SdkEvent`]: what the SDK tells the app, named after the official SDK's callbacks.
//!
//! Events are plain data because the tab that holds the connection forwards them to the other
//! tabs of the same user over a `BroadcastChannel` (see [`crate::tabs`]), as JSON text in serde's
//! externally tagged form (`"Connecting"`, `{"ConnectFailed":{"code":0,"message":"…"}}`,
//! `{"FriendAdded":{…}}`), written and read through `chorus_proto::msgjson`.

use chorus_core::client::ClientEvent;
use chorus_core::conn::DisconnectReason;
use chorus_core::entities::{EntityEvent, RevokedInfo};
use chorus_core::model::{Conversation, ConversationId, Friend, Group, Member, Message, User};
use chorus_proto::msgjson::{
    self, FieldSink, Fields, FromJson, Json, JsonError, Out, ToJson, WriteFields,
};
use serde::{Deserialize, Serialize};

/// Something the app may want to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SdkEvent {
    /// A connection attempt started.
    Connecting,
    /// The gateway accepted the connection.
    ConnectSuccess,
    /// The connection failed or dropped; the SDK retries by itself.
    ConnectFailed {
        /// The server's error code, or 0 for network failures.
        code: i32,
        /// What happened.
        message: String,
    },
    /// Another login of this user on the same platform took over; the session ended.
    KickedOffline,
    /// The token expired; the session ended.
    UserTokenExpired,
    /// The token was refused (1502–1507 other than a kick); the session ended.
    UserTokenInvalid {
        /// The error code.
        code: i32,
    },
    /// The session ended by logout.
    LoggedOut,
    /// Catch-up sync started.
    SyncServerStart,
    /// Catch-up sync progress.
    SyncServerProgress {
        /// Conversations done.
        done: u64,
        /// Conversations to sync.
        total: u64,
    },
    /// Catch-up sync finished.
    SyncServerFinish,
    /// Catch-up sync failed (it is retried on the next connection).
    SyncServerFailed,
    /// New messages arrived (pushes and catch-up), oldest first.
    RecvNewMessages(Vec<Message>),
    /// A message was recalled.
    NewRecvMessageRevoked(RevokedInfo),
    /// Conversations changed (latest message, unread count, …).
    ConversationChanged(Vec<Conversation>),
    /// Conversations appeared.
    NewConversation(Vec<Conversation>),
    /// The total unread count changed.
    TotalUnreadMessageCountChanged(u64),
    /// The logged-in user's profile changed.
    SelfInfoUpdated(User),
    /// A friend was added.
    FriendAdded(Friend),
    /// A friend was removed.
    FriendDeleted(Friend),
    /// A friend's profile or remark changed.
    FriendInfoChanged(Friend),
    /// The user joined a group.
    JoinedGroupAdded(Group),
    /// The user left or was removed from a group.
    JoinedGroupDeleted(Group),
    /// A group's info changed (name, announcement, permissions).
    GroupInfoChanged(Group),
    /// A group was dismissed.
    GroupDismissed(Group),
    /// A member joined a group.
    GroupMemberAdded(Member),
    /// A member left a group.
    GroupMemberDeleted(Member),
    /// A member's info changed (role, nickname).
    GroupMemberInfoChanged(Member),
    /// A message this user sent was stored by the server (bookkeeping for `send_text`).
    MessageSent {
        /// Its clientMsgID.
        client_msg_id: String,
        /// Its seq.
        seq: u64,
    },
    /// The server refused a message this user sent.
    MessageFailed {
        /// Its clientMsgID.
        client_msg_id: String,
        /// The server's error code.
        code: i32,
    },
    /// A history load finished (bookkeeping for `history`).
    HistoryLoaded {
        /// The conversation.
        conversation_id: ConversationId,
        /// Whether the start of the visible history was reached.
        reached_start: bool,
    },
}

impl SdkEvent {
    /// The official SDK's callback name, or `None` for the SDK's own bookkeeping events.
    pub fn official_name(&self) -> Option<&'static str> {
        Some(match self {
            SdkEvent::Connecting => "OnConnecting",
            SdkEvent::ConnectSuccess => "OnConnectSuccess",
            SdkEvent::ConnectFailed { .. } => "OnConnectFailed",
            SdkEvent::KickedOffline => "OnKickedOffline",
            SdkEvent::UserTokenExpired => "OnUserTokenExpired",
            SdkEvent::UserTokenInvalid { .. } => "OnUserTokenInvalid",
            SdkEvent::LoggedOut => return None,
            SdkEvent::SyncServerStart => "OnSyncServerStart",
            SdkEvent::SyncServerProgress { .. } => "OnSyncServerProgress",
            SdkEvent::SyncServerFinish => "OnSyncServerFinish",
            SdkEvent::SyncServerFailed => "OnSyncServerFailed",
            SdkEvent::RecvNewMessages(_) => "OnRecvNewMessages",
            SdkEvent::NewRecvMessageRevoked(_) => "OnNewRecvMessageRevoked",
            SdkEvent::ConversationChanged(_) => "OnConversationChanged",
            SdkEvent::NewConversation(_) => "OnNewConversation",
            SdkEvent::TotalUnreadMessageCountChanged(_) => "OnTotalUnreadMessageCountChanged",
            SdkEvent::SelfInfoUpdated(_) => "OnSelfInfoUpdated",
            SdkEvent::FriendAdded(_) => "OnFriendAdded",
            SdkEvent::FriendDeleted(_) => "OnFriendDeleted",
            SdkEvent::FriendInfoChanged(_) => "OnFriendInfoChanged",
            SdkEvent::JoinedGroupAdded(_) => "OnJoinedGroupAdded",
            SdkEvent::JoinedGroupDeleted(_) => "OnJoinedGroupDeleted",
            SdkEvent::GroupInfoChanged(_) => "OnGroupInfoChanged",
            SdkEvent::GroupDismissed(_) => "OnGroupDismissed",
            SdkEvent::GroupMemberAdded(_) => "OnGroupMemberAdded",
            SdkEvent::GroupMemberDeleted(_) => "OnGroupMemberDeleted",
            SdkEvent::GroupMemberInfoChanged(_) => "OnGroupMemberInfoChanged",
            SdkEvent::MessageSent { .. }
            | SdkEvent::MessageFailed { .. }
            | SdkEvent::HistoryLoaded { .. } => return None,
        })
    }

    /// Whether the session ended with this event (no reconnect follows).
    pub fn ends_session(&self) -> bool {
        matches!(
            self,
            SdkEvent::KickedOffline
                | SdkEvent::UserTokenExpired
                | SdkEvent::UserTokenInvalid { .. }
                | SdkEvent::LoggedOut
        )
    }

    /// The events a core client event becomes (none for internal ones).
    pub fn from_client(event: ClientEvent) -> Vec<SdkEvent> {
        let one = match event {
            ClientEvent::OnConnecting => SdkEvent::Connecting,
            ClientEvent::OnConnectSuccess => SdkEvent::ConnectSuccess,
            // A logout closes the connection on purpose: not a failure.
            ClientEvent::OnConnectFailed {
                reason: DisconnectReason::Logout,
                ..
            } => return Vec::new(),
            ClientEvent::OnConnectFailed { reason, .. } => {
                let (code, message) = describe(&reason);
                SdkEvent::ConnectFailed { code, message }
            }
            ClientEvent::OnKickedOffline => SdkEvent::KickedOffline,
            ClientEvent::OnUserTokenExpired => SdkEvent::UserTokenExpired,
            ClientEvent::OnUserTokenInvalid { code } => {
                SdkEvent::UserTokenInvalid { code: code.code() }
            }
            ClientEvent::OnLoggedOut => SdkEvent::LoggedOut,
            ClientEvent::OnSyncServerStart { .. } => SdkEvent::SyncServerStart,
            ClientEvent::OnSyncServerProgress { done, total } => {
                SdkEvent::SyncServerProgress { done, total }
            }
            ClientEvent::OnSyncServerFinish => SdkEvent::SyncServerFinish,
            ClientEvent::OnSyncServerFailed => SdkEvent::SyncServerFailed,
            ClientEvent::OnRecvNewMessages { mut messages, .. } => {
                // Deleted messages are left out; the others keep their order.
                let mut kept = 0;
                for at in 0..messages.len() {
                    if messages[at].status != chorus_core::model::MessageStatus::Deleted {
                        messages.swap(kept, at);
                        kept += 1;
                    }
                }
                messages.truncate(kept);
                if messages.is_empty() {
                    return Vec::new();
                }
                SdkEvent::RecvNewMessages(messages)
            }
            ClientEvent::OnHistoryLoaded {
                conversation_id,
                reached_start,
                ..
            } => SdkEvent::HistoryLoaded {
                conversation_id,
                reached_start,
            },
            ClientEvent::Entity(entity) => return from_entity(entity),
            ClientEvent::OnSendMessageSuccess { client_msg_id, seq } => SdkEvent::MessageSent {
                client_msg_id: client_msg_id.as_str().to_owned(),
                seq: seq.0,
            },
            ClientEvent::OnSendMessageFailed {
                client_msg_id,
                code,
            } => SdkEvent::MessageFailed {
                client_msg_id: client_msg_id.as_str().to_owned(),
                code,
            },
            _ => return Vec::new(),
        };
        vec![one]
    }
}

impl SdkEvent {
    /// The variant's name, its tag in the JSON form: the official callback name without its
    /// `On`, for the events that have one.
    fn tag(&self) -> &'static str {
        match self {
            SdkEvent::LoggedOut => "LoggedOut",
            SdkEvent::MessageSent { .. } => "MessageSent",
            SdkEvent::MessageFailed { .. } => "MessageFailed",
            SdkEvent::HistoryLoaded { .. } => "HistoryLoaded",
            // Every other event has an official name: `On` and its tag.
            other => other
                .official_name()
                .map_or("", |name| name.strip_prefix("On").unwrap_or(name)),
        }
    }

    /// The variant without data named `tag`, if there is one.
    fn unit(tag: &str) -> Option<SdkEvent> {
        Some(match tag {
            "Connecting" => SdkEvent::Connecting,
            "ConnectSuccess" => SdkEvent::ConnectSuccess,
            "KickedOffline" => SdkEvent::KickedOffline,
            "UserTokenExpired" => SdkEvent::UserTokenExpired,
            "LoggedOut" => SdkEvent::LoggedOut,
            "SyncServerStart" => SdkEvent::SyncServerStart,
            "SyncServerFinish" => SdkEvent::SyncServerFinish,
            "SyncServerFailed" => SdkEvent::SyncServerFailed,
            _ => return None,
        })
    }
}

/// Written as serde writes an externally tagged enum: a variant without data as its name, any
/// other as `{name: data}`.
impl ToJson for SdkEvent {
    fn to_out(&self) -> Out<'_> {
        match self {
            SdkEvent::Connecting
            | SdkEvent::ConnectSuccess
            | SdkEvent::KickedOffline
            | SdkEvent::UserTokenExpired
            | SdkEvent::LoggedOut
            | SdkEvent::SyncServerStart
            | SdkEvent::SyncServerFinish
            | SdkEvent::SyncServerFailed => Out::Str(self.tag()),
            _ => Out::Msg(self),
        }
    }
}

/// The one member `{name: data}` of a variant with data.
impl WriteFields for SdkEvent {
    fn field_count(&self) -> usize {
        1
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        let data: &dyn ToJson = match self {
            SdkEvent::RecvNewMessages(messages) => messages,
            SdkEvent::NewRecvMessageRevoked(info) => info,
            SdkEvent::ConversationChanged(list) | SdkEvent::NewConversation(list) => list,
            SdkEvent::TotalUnreadMessageCountChanged(count) => count,
            SdkEvent::SelfInfoUpdated(user) => user,
            SdkEvent::FriendAdded(friend)
            | SdkEvent::FriendDeleted(friend)
            | SdkEvent::FriendInfoChanged(friend) => friend,
            SdkEvent::JoinedGroupAdded(group)
            | SdkEvent::JoinedGroupDeleted(group)
            | SdkEvent::GroupInfoChanged(group)
            | SdkEvent::GroupDismissed(group) => group,
            SdkEvent::GroupMemberAdded(member)
            | SdkEvent::GroupMemberDeleted(member)
            | SdkEvent::GroupMemberInfoChanged(member) => member,
            _ => return sink.field(self.tag(), Out::Msg(&VariantFields(self))),
        };
        sink.field(self.tag(), data.to_out());
    }
}

/// The fields of a struct variant, as an object.
struct VariantFields<'a>(&'a SdkEvent);

impl WriteFields for VariantFields<'_> {
    fn field_count(&self) -> usize {
        match self.0 {
            SdkEvent::UserTokenInvalid { .. } => 1,
            SdkEvent::ConnectFailed { .. }
            | SdkEvent::SyncServerProgress { .. }
            | SdkEvent::MessageSent { .. }
            | SdkEvent::MessageFailed { .. }
            | SdkEvent::HistoryLoaded { .. } => 2,
            _ => 0,
        }
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        match self.0 {
            SdkEvent::ConnectFailed { code, message } => {
                sink.field("code", Out::I32(*code));
                sink.field("message", Out::Str(message));
            }
            SdkEvent::UserTokenInvalid { code } => sink.field("code", Out::I32(*code)),
            SdkEvent::SyncServerProgress { done, total } => {
                sink.field("done", Out::U64(*done));
                sink.field("total", Out::U64(*total));
            }
            SdkEvent::MessageSent { client_msg_id, seq } => {
                sink.field("client_msg_id", Out::Str(client_msg_id));
                sink.field("seq", Out::U64(*seq));
            }
            SdkEvent::MessageFailed {
                client_msg_id,
                code,
            } => {
                sink.field("client_msg_id", Out::Str(client_msg_id));
                sink.field("code", Out::I32(*code));
            }
            SdkEvent::HistoryLoaded {
                conversation_id,
                reached_start,
            } => {
                sink.field("conversation_id", conversation_id.to_out());
                sink.field("reached_start", Out::Bool(*reached_start));
            }
            _ => {}
        }
    }
}

/// Read as serde reads an externally tagged enum: a name, or an object of one member
/// `{name: data}`; absent fields of a struct variant read as zero values.
impl FromJson for SdkEvent {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let (tag, data) = msgjson::variant(value, "SdkEvent")?;
        if let Some(event) = SdkEvent::unit(&tag) {
            return match data {
                Json::Null => Ok(event),
                other => Err(JsonError::from_display(format!(
                    "invalid type: {}, expected unit variant {tag}",
                    other.kind()
                ))),
            };
        }
        // Variants carrying the same type: the data is read once, then wrapped.
        if let Some(wrap) = wrapper(&tag, &CONVERSATIONS) {
            return Ok(wrap(FromJson::from_json(data)?));
        }
        if let Some(wrap) = wrapper(&tag, &FRIENDS) {
            return Ok(wrap(FromJson::from_json(data)?));
        }
        if let Some(wrap) = wrapper(&tag, &GROUPS) {
            return Ok(wrap(FromJson::from_json(data)?));
        }
        if let Some(wrap) = wrapper(&tag, &MEMBERS) {
            return Ok(wrap(FromJson::from_json(data)?));
        }
        Ok(match tag.as_str() {
            "RecvNewMessages" => SdkEvent::RecvNewMessages(FromJson::from_json(data)?),
            "NewRecvMessageRevoked" => SdkEvent::NewRecvMessageRevoked(FromJson::from_json(data)?),
            "TotalUnreadMessageCountChanged" => {
                SdkEvent::TotalUnreadMessageCountChanged(FromJson::from_json(data)?)
            }
            "SelfInfoUpdated" => SdkEvent::SelfInfoUpdated(FromJson::from_json(data)?),
            "ConnectFailed" | "UserTokenInvalid" | "SyncServerProgress" | "MessageSent"
            | "MessageFailed" | "HistoryLoaded" => {
                // A struct variant: its data is an object (or a list) of its fields.
                let mut f = Fields::open(data)?.ok_or_else(|| {
                    JsonError::from_display(format!("invalid type: null, expected variant {tag}"))
                })?;
                match tag.as_str() {
                    "ConnectFailed" => SdkEvent::ConnectFailed {
                        code: f.take("code")?,
                        message: f.take("message")?,
                    },
                    "UserTokenInvalid" => SdkEvent::UserTokenInvalid {
                        code: f.take("code")?,
                    },
                    "SyncServerProgress" => SdkEvent::SyncServerProgress {
                        done: f.take("done")?,
                        total: f.take("total")?,
                    },
                    "MessageSent" => SdkEvent::MessageSent {
                        client_msg_id: f.take("client_msg_id")?,
                        seq: f.take("seq")?,
                    },
                    "MessageFailed" => SdkEvent::MessageFailed {
                        client_msg_id: f.take("client_msg_id")?,
                        code: f.take("code")?,
                    },
                    _ => SdkEvent::HistoryLoaded {
                        conversation_id: f.take("conversation_id")?,
                        reached_start: f.take("reached_start")?,
                    },
                }
            }
            _ => return Err(JsonError::from_display(format!("unknown variant `{tag}`"))),
        })
    }
}

/// A variant carrying a `T`: its name and its constructor.
type Variant<T> = (&'static str, fn(T) -> SdkEvent);

/// The variants carrying conversations, by name.
const CONVERSATIONS: [Variant<Vec<Conversation>>; 2] = [
    ("ConversationChanged", SdkEvent::ConversationChanged),
    ("NewConversation", SdkEvent::NewConversation),
];

/// The variants carrying a friend, by name.
const FRIENDS: [Variant<Friend>; 3] = [
    ("FriendAdded", SdkEvent::FriendAdded),
    ("FriendDeleted", SdkEvent::FriendDeleted),
    ("FriendInfoChanged", SdkEvent::FriendInfoChanged),
];

/// The variants carrying a group, by name.
const GROUPS: [Variant<Group>; 4] = [
    ("JoinedGroupAdded", SdkEvent::JoinedGroupAdded),
    ("JoinedGroupDeleted", SdkEvent::JoinedGroupDeleted),
    ("GroupInfoChanged", SdkEvent::GroupInfoChanged),
    ("GroupDismissed", SdkEvent::GroupDismissed),
];

/// The variants carrying a member, by name.
const MEMBERS: [Variant<Member>; 3] = [
    ("GroupMemberAdded", SdkEvent::GroupMemberAdded),
    ("GroupMemberDeleted", SdkEvent::GroupMemberDeleted),
    ("GroupMemberInfoChanged", SdkEvent::GroupMemberInfoChanged),
];

/// The constructor of the variant named `tag` among `table`.
fn wrapper<T>(tag: &str, table: &[Variant<T>]) -> Option<fn(T) -> SdkEvent> {
    table
        .iter()
        .find(|(name, _)| *name == tag)
        .map(|(_, wrap)| *wrap)
}

fn from_entity(event: EntityEvent) -> Vec<SdkEvent> {
    vec![match event {
        EntityEvent::OnSelfInfoUpdated(u) => SdkEvent::SelfInfoUpdated(u),
        EntityEvent::OnFriendAdded(f) => SdkEvent::FriendAdded(f),
        EntityEvent::OnFriendDeleted(f) => SdkEvent::FriendDeleted(f),
        EntityEvent::OnFriendInfoChanged(f) => SdkEvent::FriendInfoChanged(f),
        EntityEvent::OnJoinedGroupAdded(g) => SdkEvent::JoinedGroupAdded(g),
        EntityEvent::OnJoinedGroupDeleted(g) => SdkEvent::JoinedGroupDeleted(g),
        EntityEvent::OnGroupInfoChanged(g) => SdkEvent::GroupInfoChanged(g),
        EntityEvent::OnGroupDismissed(g) => SdkEvent::GroupDismissed(g),
        EntityEvent::OnGroupMemberAdded(m) => SdkEvent::GroupMemberAdded(m),
        EntityEvent::OnGroupMemberDeleted(m) => SdkEvent::GroupMemberDeleted(m),
        EntityEvent::OnGroupMemberInfoChanged(m) => SdkEvent::GroupMemberInfoChanged(m),
        EntityEvent::OnNewConversation(c) => SdkEvent::NewConversation(c),
        EntityEvent::OnConversationChanged(c) => SdkEvent::ConversationChanged(c),
        EntityEvent::OnTotalUnreadMessageCountChanged(n) => {
            SdkEvent::TotalUnreadMessageCountChanged(n)
        }
        EntityEvent::OnNewRecvMessageRevoked(info) => SdkEvent::NewRecvMessageRevoked(info),
        _ => return Vec::new(),
    }]
}

fn describe(reason: &DisconnectReason) -> (i32, String) {
    match reason {
        DisconnectReason::Closed { reason } => (0, reason.clone()),
        DisconnectReason::HandshakeTimeout => (0, "no handshake answer in time".to_owned()),
        DisconnectReason::HandshakeRefused { code, msg } => (code.code(), msg.clone()),
        DisconnectReason::Protocol { detail } => (0, format!("protocol error: {detail}")),
        DisconnectReason::PingTimeout => (0, "no answer to ping".to_owned()),
        DisconnectReason::Kicked => (0, "kicked".to_owned()),
        DisconnectReason::Token { code } => (code.code(), "token refused".to_owned()),
        DisconnectReason::Logout => (0, "logged out".to_owned()),
        _ => (0, "disconnected".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use chorus_core::model::{msg, Content, MessageStatus, Seq};
    use chorus_proto::msgjson;
    use chorus_proto::pb::sdkws::GroupInfo;
    use wasm_bindgen_test::*;

    use super::*;

    /// One event of every variant, with data that exercises escaping, large numbers, options
    /// and nested enums.
    fn every_event() -> Vec<SdkEvent> {
        let text = msg()
            .conv("sg_g1")
            .seq(7)
            .text("hi \"there\" \u{1F600}\n")
            .build();
        let raw = Message {
            content: Content::Raw(vec![0, 1, 200, 255]),
            content_type: 1501,
            ..msg().conv("si_a_b").seq(u64::MAX >> 11).build()
        };
        let revoked = Message {
            status: MessageStatus::Revoked {
                by: "owner".into(),
                role: 100,
                nickname: "Olga".into(),
                time: 1_700_000_000_000,
            },
            ..msg().conv("sg_g1").seq(3).text("secret").build()
        };
        let mut conversation = Conversation::new(ConversationId::group("g1"));
        conversation.latest_message = Some(text.clone());
        conversation.is_pinned = true;
        let user = User {
            user_id: "u1".into(),
            nickname: "Ann \\ Lee".into(),
            create_time: -5,
            ..User::default()
        };
        let friend = Friend {
            owner_user_id: "u1".into(),
            user: user.clone(),
            remark: "best".into(),
            ..Friend::default()
        };
        let group = Group::try_from(GroupInfo {
            group_id: "g1".into(),
            group_name: "Team".into(),
            member_count: 3,
            ..GroupInfo::default()
        })
        .unwrap();
        let dismissed = Group {
            history_for_new_members: Some(false),
            status: 2,
            ..group.clone()
        };
        let member = Member {
            group_id: "g1".into(),
            user_id: "u2".into(),
            role_level: 60,
            ..Member::default()
        };
        vec![
            SdkEvent::Connecting,
            SdkEvent::ConnectSuccess,
            SdkEvent::ConnectFailed {
                code: -1,
                message: "gone \u{7f}\t".into(),
            },
            SdkEvent::KickedOffline,
            SdkEvent::UserTokenExpired,
            SdkEvent::UserTokenInvalid { code: 1503 },
            SdkEvent::LoggedOut,
            SdkEvent::SyncServerStart,
            SdkEvent::SyncServerProgress {
                done: 1,
                total: u64::MAX,
            },
            SdkEvent::SyncServerFinish,
            SdkEvent::SyncServerFailed,
            SdkEvent::RecvNewMessages(vec![text, raw, revoked]),
            SdkEvent::RecvNewMessages(Vec::new()),
            SdkEvent::NewRecvMessageRevoked(RevokedInfo {
                conversation_id: ConversationId::group("g1"),
                seq: Seq(9),
                client_msg_id: "c9".into(),
                revoker_user_id: "u1".into(),
                revoker_role: 100,
                revoker_nickname: "Ann".into(),
                revoke_time: 1_700_000_000_001,
                is_admin_revoke: true,
            }),
            SdkEvent::ConversationChanged(vec![conversation.clone()]),
            SdkEvent::NewConversation(vec![
                conversation,
                Conversation::new(ConversationId::single("a", "b")),
            ]),
            SdkEvent::TotalUnreadMessageCountChanged(42),
            SdkEvent::SelfInfoUpdated(user),
            SdkEvent::FriendAdded(friend.clone()),
            SdkEvent::FriendDeleted(friend.clone()),
            SdkEvent::FriendInfoChanged(friend),
            SdkEvent::JoinedGroupAdded(group.clone()),
            SdkEvent::JoinedGroupDeleted(group.clone()),
            SdkEvent::GroupInfoChanged(group),
            SdkEvent::GroupDismissed(dismissed),
            SdkEvent::GroupMemberAdded(member.clone()),
            SdkEvent::GroupMemberDeleted(member.clone()),
            SdkEvent::GroupMemberInfoChanged(member),
            SdkEvent::MessageSent {
                client_msg_id: "c1".into(),
                seq: 12,
            },
            SdkEvent::MessageFailed {
                client_msg_id: "c2".into(),
                code: 1302,
            },
            SdkEvent::HistoryLoaded {
                conversation_id: ConversationId::single("a", "b"),
                reached_start: true,
            },
        ]
    }

    #[wasm_bindgen_test]
    fn events_are_written_as_serde_json_writes_them() {
        for event in every_event() {
            let serde_text = serde_json::to_string(&event).unwrap();
            assert_eq!(msgjson::to_text(&event), serde_text, "{event:?}");
        }
    }

    #[wasm_bindgen_test]
    fn events_written_by_serde_json_read_back() {
        for event in every_event() {
            let serde_text = serde_json::to_string(&event).unwrap();
            let read: SdkEvent = msgjson::from_text(&serde_text)
                .unwrap_or_else(|e| panic!("{serde_text} was not read: {e}"));
            assert_eq!(read, event);
        }
        // Whitespace and field order do not matter; unknown names and shapes are errors.
        let read: SdkEvent =
            msgjson::from_text(r#" { "ConnectFailed" : { "message" : "x", "code" : 3 } } "#)
                .unwrap();
        assert_eq!(
            read,
            SdkEvent::ConnectFailed {
                code: 3,
                message: "x".into()
            }
        );
        for bad in [
            r#""Nope""#,
            r#"{"Nope":1}"#,
            r#"{"Connecting":1}"#,
            r#"{"ConnectSuccess":null,"Connecting":null}"#,
            r#"{"SyncServerProgress":null}"#,
            r#"{"SyncServerProgress":{"done":-1,"total":2}}"#,
            "[]",
            "7",
        ] {
            assert!(msgjson::from_text::<SdkEvent>(bad).is_err(), "{bad}");
        }
    }
}
