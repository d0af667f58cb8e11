//! Message content JSON: the bytes of `MsgData.content`.
//!
//! User messages carry a JSON element (text: `{"content":"hi"}`). Notifications carry
//! `{"detail":"<string>"}` where the string is itself the Go JSON of a tips message, so they are
//! decoded in two JSON layers; [`Notification`] dispatches on the content type to the right tips
//! type. A revoked message is rewritten by servers to content type 2101 with
//! `{"detail": JSON(MessageRevokedContent)}`, the same content type as the revoke notification;
//! the two are told apart by their keys.
//!
//! Encoding writes Go's byte form (see [`crate::json::to_go_vec`]). Decoding never panics: bad
//! bytes yield a [`ContentError`]. This module performs no I/O.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::constants::ContentType;
use crate::json::{null_as_default, to_go_string, to_go_vec};
use crate::msgjson::{from_tree, FromJson, Json};
use crate::pb::sdkws::{
    BlackAddedTips, BlackDeletedTips, ClearConversationTips, ConversationDeleteTips,
    ConversationHasReadTips, ConversationSetPrivateTips, ConversationUpdateTips, DeleteMsgsTips,
    FriendAddedTips, FriendApplicationApprovedTips, FriendApplicationRejectedTips,
    FriendApplicationTips, FriendDeletedTips, FriendInfoChangedTips, FriendsInfoUpdateTips,
    GroupApplicationAcceptedTips, GroupApplicationRejectedTips, GroupCancelMutedTips,
    GroupCreatedTips, GroupDismissedTips, GroupInfoSetAnnouncementTips, GroupInfoSetNameTips,
    GroupInfoSetTips, GroupMemberCancelMutedTips, GroupMemberInfoSetTips, GroupMemberMutedTips,
    GroupMutedTips, GroupOwnerTransferredTips, JoinGroupApplicationTips, MarkAsReadTips,
    MemberEnterTips, MemberInvitedTips, MemberKickedTips, MemberQuitTips, MessageRevokedContent,
    NotificationElem, RevokeMsgTips, UserInfoUpdatedTips, UserStatusChangeTips,
};

/// Content that could not be decoded or encoded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The content bytes are not the expected JSON element.
    #[error("message content is not the expected JSON element")]
    Content(#[source] serde_json::Error),
    /// The notification's `detail` string is not the JSON of the expected tips message.
    #[error("notification detail is not valid tips JSON (content type {content_type:?})")]
    Detail {
        /// The content type being decoded, when known.
        content_type: Option<i32>,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A value could not be written as JSON.
    #[error("cannot encode message content JSON")]
    Encode(#[source] serde_json::Error),
}

/// Text message content (content type 101): `{"content":"hi"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct TextElem {
    /// The text.
    #[serde(deserialize_with = "null_as_default")]
    pub content: String,
}

impl TextElem {
    /// A text element.
    pub fn new(content: impl Into<String>) -> TextElem {
        TextElem {
            content: content.into(),
        }
    }

    /// The content bytes of a text message.
    pub fn to_content(&self) -> Result<Vec<u8>, ContentError> {
        to_go_vec(self).map_err(ContentError::Encode)
    }

    /// Reads the content bytes of a text message.
    pub fn from_content(content: &[u8]) -> Result<TextElem, ContentError> {
        serde_json::from_slice(content).map_err(ContentError::Content)
    }
}

/// Custom message content (content type 110): `{"data","description","extension"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomElem {
    /// Application data, usually JSON text.
    #[serde(deserialize_with = "null_as_default")]
    pub data: String,
    /// Human-readable description.
    #[serde(deserialize_with = "null_as_default")]
    pub description: String,
    /// Application extension data.
    #[serde(deserialize_with = "null_as_default")]
    pub extension: String,
}

impl CustomElem {
    /// The content bytes of a custom message.
    pub fn to_content(&self) -> Result<Vec<u8>, ContentError> {
        to_go_vec(self).map_err(ContentError::Encode)
    }

    /// Reads the content bytes of a custom message.
    pub fn from_content(content: &[u8]) -> Result<CustomElem, ContentError> {
        serde_json::from_slice(content).map_err(ContentError::Content)
    }
}

/// Builds notification content bytes: `{"detail": "<Go JSON of tips>"}`.
pub fn encode_notification<T: Serialize + ?Sized>(tips: &T) -> Result<Vec<u8>, ContentError> {
    let detail = to_go_string(tips).map_err(ContentError::Encode)?;
    detail_to_content(detail)
}

/// Reads the tips of notification content bytes (both JSON layers).
pub fn decode_notification<T: DeserializeOwned>(content: &[u8]) -> Result<T, ContentError> {
    let detail = notification_detail(content)?;
    parse_detail(&detail, None)
}

/// Reads only the outer layer of notification content: the `detail` string.
pub fn notification_detail(content: &[u8]) -> Result<String, ContentError> {
    let elem: NotificationElem = serde_json::from_slice(content).map_err(ContentError::Content)?;
    Ok(elem.detail)
}

/// Content bytes of a revoked message (content type 2101): `{"detail": JSON(MessageRevokedContent)}`.
pub fn encode_revoked_content(revoked: &MessageRevokedContent) -> Result<Vec<u8>, ContentError> {
    encode_notification(revoked)
}

/// Reads the content bytes of a revoked message.
pub fn decode_revoked_content(content: &[u8]) -> Result<MessageRevokedContent, ContentError> {
    let detail = notification_detail(content)?;
    parse_detail(&detail, Some(ContentType::MsgRevokeNotification.as_i32()))
}

fn detail_to_content(detail: String) -> Result<Vec<u8>, ContentError> {
    to_go_vec(&NotificationElem { detail }).map_err(ContentError::Encode)
}

fn parse_detail<T: DeserializeOwned>(
    detail: &str,
    content_type: Option<i32>,
) -> Result<T, ContentError> {
    serde_json::from_slice(detail.as_bytes()).map_err(|source| ContentError::Detail {
        content_type,
        source,
    })
}

/// Reads a tips message: the detail is parsed by one shared (non-generic) function, and only the
/// small per-message field mapping depends on `T`.
fn parse_tips<T: FromJson>(detail: &str, content_type: Option<i32>) -> Result<T, ContentError> {
    let tree = parse_tree(detail, content_type)?;
    from_tree(tree).map_err(|source| ContentError::Detail {
        content_type,
        source,
    })
}

/// The JSON tree of a detail string.
fn parse_tree(detail: &str, content_type: Option<i32>) -> Result<Json, ContentError> {
    parse_detail(detail, content_type)
}

/// A key only [`MessageRevokedContent`] has; [`RevokeMsgTips`] names the revoker `revokerUserID`.
const REVOKED_CONTENT_KEY: &str = "revokerID";
/// A key only [`RevokeMsgTips`] has.
const REVOKE_TIPS_KEY: &str = "revokerUserID";

/// Declares [`Notification`] from a table of `variant(tips type) = content type`.
macro_rules! notifications {
    ($($(#[$vmeta:meta])* $variant:ident($tips:ty) = $content_type:ident,)+) => {
        /// A notification decoded from `(contentType, content)`.
        ///
        /// Content types without a tips type here (and content types this crate does not know)
        /// decode to [`Notification::Other`] with the raw detail string.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Notification {
            $($(#[$vmeta])* $variant($tips),)+
            /// 2101 notification: a message was revoked.
            MsgRevoke(RevokeMsgTips),
            /// 2101 on a message that was revoked: the server-rewritten content of the message.
            RevokedMessage(MessageRevokedContent),
            /// A notification without a tips type here; `detail` is the raw inner string.
            Other {
                /// The content type of the message.
                content_type: i32,
                /// The `detail` string, undecoded.
                detail: String,
            },
        }

        impl Notification {
            /// Decodes notification content bytes for the given content type.
            ///
            /// Fails only when the content is not `{"detail": string}` or when the detail of a
            /// content type with a tips type is not that tips' JSON.
            pub fn decode(content_type: i32, content: &[u8]) -> Result<Notification, ContentError> {
                let detail = notification_detail(content)?;
                Notification::from_detail(content_type, detail)
            }

            /// Decodes the inner layer: the `detail` string of a notification.
            pub fn from_detail(content_type: i32, detail: String) -> Result<Notification, ContentError> {
                let known = Some(content_type);
                match ContentType::try_from(content_type) {
                    Ok(ContentType::MsgRevokeNotification) => decode_revoke(detail),
                    $(Ok(ContentType::$content_type) => {
                        parse_tips(&detail, known).map(Notification::$variant)
                    })+
                    _ => Ok(Notification::Other { content_type, detail }),
                }
            }

            /// The content type this notification is sent with.
            pub fn content_type(&self) -> i32 {
                match self {
                    $(Notification::$variant(_) => ContentType::$content_type.as_i32(),)+
                    Notification::MsgRevoke(_) | Notification::RevokedMessage(_) => ContentType::MsgRevokeNotification.as_i32(),
                    Notification::Other { content_type, .. } => *content_type,
                }
            }

            /// The content bytes of this notification (both JSON layers).
            pub fn to_content(&self) -> Result<Vec<u8>, ContentError> {
                match self {
                    $(Notification::$variant(tips) => encode_notification(tips),)+
                    Notification::MsgRevoke(tips) => encode_notification(tips),
                    Notification::RevokedMessage(revoked) => encode_notification(revoked),
                    Notification::Other { detail, .. } => detail_to_content(detail.clone()),
                }
            }
        }
    };
}

notifications! {
    /// 1201
    FriendApplicationApproved(FriendApplicationApprovedTips) = FriendApplicationApprovedNotification,
    /// 1202
    FriendApplicationRejected(FriendApplicationRejectedTips) = FriendApplicationRejectedNotification,
    /// 1203
    FriendApplication(FriendApplicationTips) = FriendApplicationNotification,
    /// 1204
    FriendAdded(FriendAddedTips) = FriendAddedNotification,
    /// 1205
    FriendDeleted(FriendDeletedTips) = FriendDeletedNotification,
    /// 1206: a friend remark was set.
    FriendRemarkSet(FriendInfoChangedTips) = FriendRemarkSetNotification,
    /// 1207
    BlackAdded(BlackAddedTips) = BlackAddedNotification,
    /// 1208
    BlackDeleted(BlackDeletedTips) = BlackDeletedNotification,
    /// 1209: a friend changed their profile.
    FriendInfoUpdated(UserInfoUpdatedTips) = FriendInfoUpdatedNotification,
    /// 1210: the owner's friend rows changed.
    FriendsInfoUpdate(FriendsInfoUpdateTips) = FriendsInfoUpdateNotification,
    /// 1300
    ConversationChange(ConversationUpdateTips) = ConversationChangeNotification,
    /// 1303: the user's own profile changed.
    UserInfoUpdated(UserInfoUpdatedTips) = UserInfoUpdatedNotification,
    /// 1304
    UserStatusChange(UserStatusChangeTips) = UserStatusChangeNotification,
    /// 1501
    GroupCreated(GroupCreatedTips) = GroupCreatedNotification,
    /// 1502
    GroupInfoSet(GroupInfoSetTips) = GroupInfoSetNotification,
    /// 1503
    JoinGroupApplication(JoinGroupApplicationTips) = JoinGroupApplicationNotification,
    /// 1504
    MemberQuit(MemberQuitTips) = MemberQuitNotification,
    /// 1505
    GroupApplicationAccepted(GroupApplicationAcceptedTips) = GroupApplicationAcceptedNotification,
    /// 1506
    GroupApplicationRejected(GroupApplicationRejectedTips) = GroupApplicationRejectedNotification,
    /// 1507
    GroupOwnerTransferred(GroupOwnerTransferredTips) = GroupOwnerTransferredNotification,
    /// 1508
    MemberKicked(MemberKickedTips) = MemberKickedNotification,
    /// 1509
    MemberInvited(MemberInvitedTips) = MemberInvitedNotification,
    /// 1510
    MemberEnter(MemberEnterTips) = MemberEnterNotification,
    /// 1511
    GroupDismissed(GroupDismissedTips) = GroupDismissedNotification,
    /// 1512
    GroupMemberMuted(GroupMemberMutedTips) = GroupMemberMutedNotification,
    /// 1513
    GroupMemberCancelMuted(GroupMemberCancelMutedTips) = GroupMemberCancelMutedNotification,
    /// 1514
    GroupMuted(GroupMutedTips) = GroupMutedNotification,
    /// 1515
    GroupCancelMuted(GroupCancelMutedTips) = GroupCancelMutedNotification,
    /// 1516
    GroupMemberInfoSet(GroupMemberInfoSetTips) = GroupMemberInfoSetNotification,
    /// 1517
    GroupMemberSetToAdmin(GroupMemberInfoSetTips) = GroupMemberSetToAdminNotification,
    /// 1518
    GroupMemberSetToOrdinaryUser(GroupMemberInfoSetTips) = GroupMemberSetToOrdinaryUserNotification,
    /// 1519
    GroupInfoSetAnnouncement(GroupInfoSetAnnouncementTips) = GroupInfoSetAnnouncementNotification,
    /// 1520
    GroupInfoSetName(GroupInfoSetNameTips) = GroupInfoSetNameNotification,
    /// 1701
    ConversationPrivateChat(ConversationSetPrivateTips) = ConversationPrivateChatNotification,
    /// 1702
    ConversationUnread(ConversationHasReadTips) = ConversationUnreadNotification,
    /// 1703
    ClearConversation(ClearConversationTips) = ClearConversationNotification,
    /// 1704 (newer servers only)
    ConversationDelete(ConversationDeleteTips) = ConversationDeleteNotification,
    /// 2102
    DeleteMsgs(DeleteMsgsTips) = DeleteMsgsNotification,
    /// 2200
    HasReadReceipt(MarkAsReadTips) = HasReadReceipt,
}

/// 2101 carries either the revoke notification or the rewritten content of a revoked message.
fn decode_revoke(detail: String) -> Result<Notification, ContentError> {
    let content_type = Some(ContentType::MsgRevokeNotification.as_i32());
    let wrap = |source| ContentError::Detail {
        content_type,
        source,
    };
    // Parsed once into a tree: the keys tell the two shapes apart, then the tree is read as one.
    let value = parse_tree(&detail, content_type)?;
    if value.has_key(REVOKED_CONTENT_KEY) && !value.has_key(REVOKE_TIPS_KEY) {
        from_tree(value)
            .map(Notification::RevokedMessage)
            .map_err(wrap)
    } else {
        from_tree(value).map(Notification::MsgRevoke).map_err(wrap)
    }
}
