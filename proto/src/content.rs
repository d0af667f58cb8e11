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
//! bytes yield a [`ContentError`]. Both go through [`crate::msgjson`]; only
//! [`encode_notification`], which takes any serde value, uses serde_json. This module performs
//! no I/O.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::constants::ContentType;
use crate::json::{null_as_default, to_go_string};
use crate::msgjson::{
    to_go_text, FieldSink, Fields, FromJson, Json, JsonError, Out, ToJson, WriteFields,
};
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
    Content(#[source] JsonError),
    /// The notification's `detail` string is not the JSON of the expected tips message.
    #[error(
        "notification detail is not valid tips JSON (content type {})",
        OptionText(*.content_type)
    )]
    Detail {
        /// The content type being decoded, when known.
        content_type: Option<i32>,
        /// The JSON error.
        #[source]
        source: JsonError,
    },
    /// A value could not be written as JSON.
    #[error("cannot encode message content JSON")]
    Encode(#[source] JsonError),
}

/// Writes an `Option<i32>` as its `Debug` form does (`Some(1501)`, `None`), through `Display`.
struct OptionText(Option<i32>);

impl std::fmt::Display for OptionText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "Some({n})"),
            None => f.write_str("None"),
        }
    }
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
        Ok(to_go_text(self).into_bytes())
    }

    /// Reads the content bytes of a text message.
    pub fn from_content(content: &[u8]) -> Result<TextElem, ContentError> {
        read_content(content).map_err(ContentError::Content)
    }
}

impl WriteFields for TextElem {
    fn field_count(&self) -> usize {
        1
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("content", Out::Str(&self.content));
    }
}

impl ToJson for TextElem {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
}

impl FromJson for TextElem {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let Some(mut fields) = Fields::open(value)? else {
            return Ok(TextElem::default());
        };
        Ok(TextElem {
            content: fields.take("content")?,
        })
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
        Ok(to_go_text(self).into_bytes())
    }

    /// Reads the content bytes of a custom message.
    pub fn from_content(content: &[u8]) -> Result<CustomElem, ContentError> {
        read_content(content).map_err(ContentError::Content)
    }
}

impl WriteFields for CustomElem {
    fn field_count(&self) -> usize {
        3
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("data", Out::Str(&self.data));
        sink.field("description", Out::Str(&self.description));
        sink.field("extension", Out::Str(&self.extension));
    }
}

impl ToJson for CustomElem {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
}

impl FromJson for CustomElem {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let Some(mut fields) = Fields::open(value)? else {
            return Ok(CustomElem::default());
        };
        Ok(CustomElem {
            data: fields.take("data")?,
            description: fields.take("description")?,
            extension: fields.take("extension")?,
        })
    }
}

/// Parses content bytes as one JSON object (a struct is read from an object only; `null` is
/// refused, as serde refuses it for a struct).
fn content_tree(content: &[u8]) -> Result<Json, JsonError> {
    let value = crate::jsontext::parse_slice(content)?;
    match value {
        Json::Obj(_) => Ok(value),
        other => Err(JsonError::from_display(format_args!(
            "invalid type: {}, expected an object",
            other.kind()
        ))),
    }
}

/// Reads content bytes as `T`.
fn read_content<T: FromJson>(content: &[u8]) -> Result<T, JsonError> {
    T::from_json(content_tree(content)?)
}

/// Builds notification content bytes from any serde value: `{"detail": "<Go JSON of tips>"}`.
///
/// The tips messages of [`crate::pb`] can use [`tips_content`], which does not go through serde;
/// both write the same bytes.
pub fn encode_notification<T: Serialize + ?Sized>(tips: &T) -> Result<Vec<u8>, ContentError> {
    let detail =
        to_go_string(tips).map_err(|e| ContentError::Encode(JsonError::from_display(e)))?;
    Ok(detail_to_content(detail))
}

/// Builds notification content bytes: `{"detail": "<Go JSON of tips>"}`.
pub fn tips_content(tips: &dyn ToJson) -> Vec<u8> {
    detail_to_content(to_go_text(tips))
}

/// Reads the tips of notification content bytes (both JSON layers); the detail must hold an
/// object.
pub fn decode_notification<T: FromJson>(content: &[u8]) -> Result<T, ContentError> {
    let detail = notification_detail(content)?;
    read_detail(&detail, None)
}

/// Reads only the outer layer of notification content: the `detail` string.
pub fn notification_detail(content: &[u8]) -> Result<String, ContentError> {
    let elem: NotificationElem = read_content(content).map_err(ContentError::Content)?;
    Ok(elem.detail)
}

/// Content bytes of a revoked message (content type 2101): `{"detail": JSON(MessageRevokedContent)}`.
pub fn encode_revoked_content(revoked: &MessageRevokedContent) -> Result<Vec<u8>, ContentError> {
    Ok(tips_content(revoked))
}

/// Reads the content bytes of a revoked message.
pub fn decode_revoked_content(content: &[u8]) -> Result<MessageRevokedContent, ContentError> {
    let detail = notification_detail(content)?;
    read_detail(&detail, Some(ContentType::MsgRevokeNotification.as_i32()))
}

fn detail_to_content(detail: String) -> Vec<u8> {
    to_go_text(&NotificationElem { detail }).into_bytes()
}

/// Reads a message from a detail string, which must not be `null` (serde refuses `null` for a
/// message).
fn read_detail<T: FromJson>(detail: &str, content_type: Option<i32>) -> Result<T, ContentError> {
    let tree = parse_tree(detail, content_type)?;
    let read = match tree {
        Json::Null => Err(JsonError::from_display(
            "invalid type: null, expected an object",
        )),
        tree => T::from_json(tree),
    };
    read.map_err(|source| ContentError::Detail {
        content_type,
        source,
    })
}

/// The JSON tree of a detail string.
fn parse_tree(detail: &str, content_type: Option<i32>) -> Result<Json, ContentError> {
    Json::parse(detail).map_err(|source| ContentError::Detail {
        content_type,
        source,
    })
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
                let kind = match ContentType::try_from(content_type) {
                    Ok(ContentType::MsgRevokeNotification) => return decode_revoke(detail),
                    Ok(kind @ ($(ContentType::$content_type)|+)) => kind,
                    _ => return Ok(Notification::Other { content_type, detail }),
                };
                let known = Some(content_type);
                let tree = parse_tree(&detail, known)?;
                let read = match kind {
                    $(ContentType::$content_type => <$tips>::from_json(tree).map(Notification::$variant),)+
                    // Not reached: `kind` is one of the content types above.
                    _ => return Ok(Notification::Other { content_type, detail }),
                };
                read.map_err(|source| ContentError::Detail {
                    content_type: known,
                    source,
                })
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
                Ok(match self {
                    $(Notification::$variant(tips) => tips_content(tips),)+
                    Notification::MsgRevoke(tips) => tips_content(tips),
                    Notification::RevokedMessage(revoked) => tips_content(revoked),
                    Notification::Other { detail, .. } => detail_to_content(detail.clone()),
                })
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
        MessageRevokedContent::from_json(value)
            .map(Notification::RevokedMessage)
            .map_err(wrap)
    } else {
        RevokeMsgTips::from_json(value)
            .map(Notification::MsgRevoke)
            .map_err(wrap)
    }
}

#[cfg(test)]
mod tests {
    use super::ContentError;
    use crate::msgjson::JsonError;

    #[test]
    fn detail_errors_name_the_content_type_as_debug_writes_it() {
        for content_type in [Some(1501), Some(-3), None] {
            let err = ContentError::Detail {
                content_type,
                source: JsonError::from_display("bad"),
            };
            assert_eq!(
                err.to_string(),
                format!(
                    "notification detail is not valid tips JSON (content type {content_type:?})"
                )
            );
        }
    }
}
