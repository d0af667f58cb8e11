//! [`SdkEvent`]: what the SDK tells the app, named after the official SDK's callbacks.
//!
//! Events are plain data (serde) because the tab that holds the connection forwards them to the
//! other tabs of the same user over a `BroadcastChannel` (see [`crate::tabs`]).

use chorus_core::client::ClientEvent;
use chorus_core::conn::DisconnectReason;
use chorus_core::entities::{EntityEvent, RevokedInfo};
use chorus_core::model::{Conversation, ConversationId, Friend, Group, Member, Message, User};
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
            ClientEvent::OnRecvNewMessages { messages, .. } => {
                let messages: Vec<Message> = messages
                    .into_iter()
                    .filter(|m| m.status != chorus_core::model::MessageStatus::Deleted)
                    .collect();
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
        other => (0, format!("{other:?}")),
    }
}
