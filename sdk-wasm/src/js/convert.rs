//! Conversions between the official SDK's JavaScript shapes and the core model.
//!
//! Outgoing data (`MessageItem`, `ConversationItem`, `GroupItem`, …) are structs written with the
//! official field names as JSON text through `chorus_proto::msgjson` and parsed by the browser
//! ([`to_js`]), so maps become plain objects and absent options are left out. Incoming parameters are
//! read field by field from their JavaScript values ([`FromJs`]): a missing required field or a
//! value of the wrong type becomes [`ErrorKind::InvalidArgument`] (`errCode` 10001) before
//! anything is changed.

use chorus_core::entities::RevokedInfo;
use chorus_core::model::{
    Content, Conversation, Friend, Group, Member, Message, MessageStatus, User,
};
use chorus_core::vec_map::VecMap;
use chorus_proto::constants::{ContentType, SessionType};
use chorus_proto::msgjson::{self, FieldSink, Json, ListOut, Out, ToJson, WriteFields};
use wasm_bindgen::JsValue;

use crate::error::SdkError;
use crate::js_read::{
    boolean, int32, object, opt, or_default, req, string, strings, uint32, uint64, ReadError,
};

/// Content type of text messages.
const TEXT: i32 = ContentType::Text.as_i32();
/// Content type the official SDK shows revoked messages with.
const REVOKED: i32 = ContentType::MsgRevokeNotification.as_i32();

/// Converts an outgoing value to plain JavaScript data: its JSON text (the one JSON writer of
/// the engine, `msgjson`) parsed by the browser.
pub fn to_js(value: &dyn ToJson) -> Result<JsValue, SdkError> {
    js_sys::JSON::parse(&msgjson::to_text(value))
        .map_err(|_| SdkError::convert("JSON.parse refused".into()))
}

/// Implements [`ToJson`] for an outgoing struct: an object with the members `key: field`, in
/// this order.
macro_rules! js_object {
    ($ty:ident $(<$lt:lifetime>)? { $($key:literal: $field:ident),* $(,)? }) => {
        impl$(<$lt>)? WriteFields for $ty$(<$lt>)? {
            fn field_count(&self) -> usize {
                [$($key),*].len()
            }

            fn write_fields(&self, sink: &mut dyn FieldSink) {
                $(sink.field($key, ToJson::to_out(&self.$field));)*
            }
        }

        impl$(<$lt>)? ToJson for $ty$(<$lt>)? {
            fn to_out(&self) -> Out<'_> {
                Out::Msg(self)
            }
        }
    };
}

/// Reads a parameter; anything malformed is an invalid argument.
pub fn from_js<T: FromJs>(what: &str, value: JsValue) -> Result<T, SdkError> {
    T::from_js(&value).map_err(|e| invalid_argument(what, e))
}

fn invalid_argument(what: &str, err: ReadError) -> SdkError {
    SdkError::invalid_argument(format!("{what}: {err}"))
}

/// A parameter read from its JavaScript value (see [`crate::js_read`] for the rules).
pub trait FromJs: Sized {
    /// Reads `value`.
    fn from_js(value: &JsValue) -> Result<Self, ReadError>;
}

impl FromJs for String {
    fn from_js(value: &JsValue) -> Result<String, ReadError> {
        string(value, "the parameter")
    }
}

impl FromJs for Vec<String> {
    fn from_js(value: &JsValue) -> Result<Vec<String>, ReadError> {
        strings(value, "the parameter")
    }
}

/// Fails with an invalid argument when a required string is empty.
pub fn require(field: &str, value: &str) -> Result<(), SdkError> {
    if value.trim().is_empty() {
        return Err(SdkError::invalid_argument(format!("{field} is empty")));
    }
    Ok(())
}

/// Fails with an invalid argument when a required list is empty or holds an empty id.
pub fn require_ids(field: &str, ids: &[String]) -> Result<(), SdkError> {
    if ids.is_empty() {
        return Err(SdkError::invalid_argument(format!("{field} is empty")));
    }
    if ids.iter().any(|id| id.trim().is_empty()) {
        return Err(SdkError::invalid_argument(format!(
            "{field} holds an empty id"
        )));
    }
    Ok(())
}

// ----- Display names of conversations -----

/// Names and avatars of users and groups, for `ConversationItem.showName`/`faceURL`.
///
/// Lists are learnt in one sorted merge each ([`Names::friends`], [`Names::groups`],
/// [`Names::users`]), so learning thousands of names never shifts the maps once per name.
#[derive(Debug, Default)]
pub struct Names {
    self_id: String,
    users: VecMap<String, (String, String)>,
    groups: VecMap<String, (String, String)>,
}

impl Names {
    /// Remembers users' display names; a later entry for the same user wins.
    pub fn users(&mut self, users: &[(&str, &str, &str)]) {
        self.learn_users(users.len(), &|at| Some(users[at]));
    }

    /// Remembers the users `user(0)`, …, `user(count - 1)` gives as `(id, name, face URL)`
    /// (`None` skips one).
    fn learn_users<'a>(
        &mut self,
        count: usize,
        user: &dyn Fn(usize) -> Option<(&'a str, &'a str, &'a str)>,
    ) {
        self.users.extend(
            (0..count)
                .filter_map(user)
                .map(|(id, name, face)| (id.to_owned(), (name.to_owned(), face.to_owned()))),
        );
    }

    /// Remembers the senders of messages in single chats that carry a nickname.
    pub fn senders(&mut self, messages: &[Message]) {
        self.learn_users(messages.len(), &|at| {
            let m = &messages[at];
            (m.group_id.is_empty() && !m.sender_nickname.is_empty()).then_some((
                m.send_id.as_str(),
                m.sender_nickname.as_str(),
                m.sender_face_url.as_str(),
            ))
        });
    }

    /// Remembers users' profiles under their display names.
    pub fn profiles(&mut self, users: &[User]) {
        self.learn_users(users.len(), &|at| {
            let u = &users[at];
            Some((u.user_id.as_str(), u.display_name(), u.face_url.as_str()))
        });
    }

    /// Sets the logged-in user (to tell the peer of a single chat).
    pub fn set_self(&mut self, user_id: &str) {
        user_id.clone_into(&mut self.self_id);
    }

    /// Whether a user's name is known.
    pub fn knows_user(&self, user_id: &str) -> bool {
        self.users.contains_key::<str>(user_id)
    }

    /// The other user of a single chat ('' for other conversations).
    pub fn peer(&self, conversation: &Conversation) -> String {
        if !conversation.user_id.is_empty() || !conversation.group_id.is_empty() {
            return conversation.user_id.clone();
        }
        if conversation.conversation_type != SessionType::Single {
            return String::new();
        }
        let rest = conversation.id.rest();
        let me = self.self_id.as_str();
        if me.is_empty() {
            return String::new();
        }
        if let Some(peer) = rest.strip_prefix(me).and_then(|r| r.strip_prefix('_')) {
            return peer.to_owned();
        }
        rest.strip_suffix(me)
            .and_then(|r| r.strip_suffix('_'))
            .unwrap_or_default()
            .to_owned()
    }

    /// Remembers friends under their display names (a remark wins over the nickname).
    pub fn friends(&mut self, friends: &[Friend]) {
        self.learn_users(friends.len(), &|at| {
            let f = &friends[at];
            Some((f.user_id(), f.display_name(), f.user.face_url.as_str()))
        });
    }

    /// Remembers groups.
    pub fn groups(&mut self, groups: &[Group]) {
        self.groups.extend(
            groups
                .iter()
                .map(|g| (g.group_id.clone(), (g.name.clone(), g.face_url.clone()))),
        );
    }

    fn of(&self, conversation: &Conversation, peer: &str) -> (&str, &str) {
        let found = if conversation.group_id.is_empty() {
            self.users.get::<str>(peer)
        } else {
            self.groups.get::<str>(&conversation.group_id)
        };
        found.map_or(("", ""), |(name, face)| (name.as_str(), face.as_str()))
    }
}

// ----- Messages -----

/// `TextElem`.
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(serde::Serialize))]
pub struct TextElem {
    /// The text.
    pub content: String,
}

/// `NotificationElem`.
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(serde::Serialize))]
pub struct NotificationElem {
    /// The notification's JSON.
    pub detail: String,
}

/// `MessageItem`.
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
pub struct MessageItem<'a> {
    #[cfg_attr(test, serde(rename = "clientMsgID"))]
    client_msg_id: &'a str,
    #[cfg_attr(test, serde(rename = "serverMsgID"))]
    server_msg_id: &'a str,
    create_time: i64,
    send_time: i64,
    session_type: i32,
    #[cfg_attr(test, serde(rename = "sendID"))]
    send_id: &'a str,
    #[cfg_attr(test, serde(rename = "recvID"))]
    recv_id: &'a str,
    msg_from: i32,
    content_type: i32,
    #[cfg_attr(test, serde(rename = "senderPlatformID"))]
    sender_platform_id: i32,
    sender_nickname: &'a str,
    sender_face_url: &'a str,
    #[cfg_attr(test, serde(rename = "groupID"))]
    group_id: &'a str,
    content: String,
    seq: u64,
    is_read: bool,
    status: i32,
    ex: &'a str,
    attached_info: &'a str,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    text_elem: Option<TextElem>,
    #[cfg_attr(test, serde(skip_serializing_if = "Option::is_none"))]
    notification_elem: Option<NotificationElem>,
}

/// The `detail` of a revoked message and the payload of `OnNewRecvMessageRevoked`.
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
pub struct RevokedItem<'a> {
    #[cfg_attr(test, serde(rename = "revokerID"))]
    revoker_id: &'a str,
    revoker_role: i32,
    #[cfg_attr(test, serde(rename = "clientMsgID"))]
    client_msg_id: &'a str,
    revoker_nickname: &'a str,
    revoke_time: i64,
    source_message_send_time: i64,
    #[cfg_attr(test, serde(rename = "sourceMessageSendID"))]
    source_message_send_id: &'a str,
    source_message_sender_nickname: &'a str,
    session_type: i32,
    seq: u64,
    ex: &'a str,
    #[cfg_attr(test, serde(rename = "conversationID"))]
    conversation_id: &'a str,
    is_admin_revoke: bool,
}

js_object!(TextElem { "content": content });

js_object!(NotificationElem { "detail": detail });

impl WriteFields for MessageItem<'_> {
    fn field_count(&self) -> usize {
        19 + usize::from(self.text_elem.is_some()) + usize::from(self.notification_elem.is_some())
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("clientMsgID", Out::Str(self.client_msg_id));
        sink.field("serverMsgID", Out::Str(self.server_msg_id));
        sink.field("createTime", Out::I64(self.create_time));
        sink.field("sendTime", Out::I64(self.send_time));
        sink.field("sessionType", Out::I32(self.session_type));
        sink.field("sendID", Out::Str(self.send_id));
        sink.field("recvID", Out::Str(self.recv_id));
        sink.field("msgFrom", Out::I32(self.msg_from));
        sink.field("contentType", Out::I32(self.content_type));
        sink.field("senderPlatformID", Out::I32(self.sender_platform_id));
        sink.field("senderNickname", Out::Str(self.sender_nickname));
        sink.field("senderFaceUrl", Out::Str(self.sender_face_url));
        sink.field("groupID", Out::Str(self.group_id));
        sink.field("content", Out::Str(&self.content));
        sink.field("seq", Out::U64(self.seq));
        sink.field("isRead", Out::Bool(self.is_read));
        sink.field("status", Out::I32(self.status));
        sink.field("ex", Out::Str(self.ex));
        sink.field("attachedInfo", Out::Str(self.attached_info));
        // Absent elements are left out, not written as `null`.
        if let Some(elem) = &self.text_elem {
            sink.field("textElem", Out::Msg(elem));
        }
        if let Some(elem) = &self.notification_elem {
            sink.field("notificationElem", Out::Msg(elem));
        }
    }
}

impl ToJson for MessageItem<'_> {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
}

impl WriteFields for RevokedItem<'_> {
    fn field_count(&self) -> usize {
        13
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("revokerID", Out::Str(self.revoker_id));
        sink.field("revokerRole", Out::I32(self.revoker_role));
        sink.field("clientMsgID", Out::Str(self.client_msg_id));
        sink.field("revokerNickname", Out::Str(self.revoker_nickname));
        sink.field("revokeTime", Out::I64(self.revoke_time));
        sink.field(
            "sourceMessageSendTime",
            Out::I64(self.source_message_send_time),
        );
        sink.field("sourceMessageSendID", Out::Str(self.source_message_send_id));
        sink.field(
            "sourceMessageSenderNickname",
            Out::Str(self.source_message_sender_nickname),
        );
        sink.field("sessionType", Out::I32(self.session_type));
        sink.field("seq", Out::U64(self.seq));
        sink.field("ex", Out::Str(self.ex));
        sink.field("conversationID", Out::Str(self.conversation_id));
        sink.field("isAdminRevoke", Out::Bool(self.is_admin_revoke));
    }
}

impl ToJson for RevokedItem<'_> {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
}

/// The official `MessageStatus`: 1 sending, 2 sent, 3 failed (4 deleted).
fn status_code(status: &MessageStatus) -> i32 {
    match status {
        MessageStatus::Sending => 1,
        MessageStatus::Failed { .. } | MessageStatus::Filtered => 3,
        MessageStatus::Deleted => 4,
        _ => 2,
    }
}

/// A message as the official SDK shows it; revoked ones become content type 2101 with the
/// revocation as `notificationElem.detail`.
pub fn message_item(m: &Message) -> MessageItem<'_> {
    let mut item = MessageItem {
        client_msg_id: &m.client_msg_id,
        server_msg_id: &m.server_msg_id,
        create_time: m.create_time,
        send_time: m.send_time,
        session_type: m.session_type.as_i32(),
        send_id: &m.send_id,
        recv_id: &m.recv_id,
        msg_from: m.msg_from,
        content_type: m.content_type,
        sender_platform_id: m.sender_platform_id,
        sender_nickname: &m.sender_nickname,
        sender_face_url: &m.sender_face_url,
        group_id: &m.group_id,
        content: String::new(),
        seq: m.seq.0,
        is_read: m.is_read,
        status: status_code(&m.status),
        ex: &m.ex,
        attached_info: &m.attached_info,
        text_elem: None,
        notification_elem: None,
    };
    if let MessageStatus::Revoked {
        by,
        role,
        nickname,
        time,
    } = &m.status
    {
        let detail = RevokedItem {
            revoker_id: by,
            revoker_role: *role,
            client_msg_id: &m.client_msg_id,
            revoker_nickname: nickname,
            revoke_time: *time,
            source_message_send_time: m.send_time,
            source_message_send_id: &m.send_id,
            source_message_sender_nickname: &m.sender_nickname,
            session_type: m.session_type.as_i32(),
            seq: m.seq.0,
            ex: "",
            conversation_id: m.conversation_id.as_str(),
            is_admin_revoke: false,
        };
        let detail = msgjson::to_text(&detail);
        item.content_type = REVOKED;
        item.content.clone_from(&detail);
        item.notification_elem = Some(NotificationElem { detail });
        return item;
    }
    match &m.content {
        Content::Text(text) => {
            item.content = text_content(text);
            item.text_elem = Some(TextElem {
                content: text.clone(),
            });
        }
        Content::Raw(bytes) => {
            item.content = String::from_utf8_lossy(bytes).into_owned();
            if ContentType::is_notification_code(m.content_type) {
                item.notification_elem = Some(NotificationElem {
                    detail: notification_detail(&item.content),
                });
            }
        }
        _ => {}
    }
    item
}

/// The `content` string of a text message: `{"content":"…"}`.
fn text_content(text: &str) -> String {
    msgjson::to_text(&TextElem {
        content: text.to_owned(),
    })
}

/// A notification's `detail` (the content is an object with one string member `detail`, other
/// members ignored; anything else is kept whole).
fn notification_detail(content: &str) -> String {
    let detail = match Json::parse(content) {
        Ok(Json::Obj(members)) => {
            let mut found = members.into_iter().filter(|(key, _)| key == "detail");
            match (found.next(), found.next()) {
                (Some((_, Json::Str(detail))), None) => Some(detail),
                _ => None,
            }
        }
        // A struct reads from a list of its fields too.
        Ok(Json::List(items)) => match <[Json; 1]>::try_from(items) {
            Ok([Json::Str(detail)]) => Some(detail),
            _ => None,
        },
        _ => None,
    };
    detail.unwrap_or_else(|| content.to_owned())
}

/// Messages as `MessageItem[]` (each item is made as it is written).
#[derive(Debug, Clone, Copy)]
pub struct MessageItems<'a>(&'a [Message]);

impl ListOut for MessageItems<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn each(&self, f: &mut dyn FnMut(Out<'_>)) {
        for m in self.0 {
            f(Out::Msg(&message_item(m)));
        }
    }
}

impl ToJson for MessageItems<'_> {
    fn to_out(&self) -> Out<'_> {
        Out::List(self)
    }
}

#[cfg(test)]
impl serde::Serialize for MessageItems<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(message_item))
    }
}

/// Messages as `MessageItem[]`.
pub fn message_items(messages: &[Message]) -> MessageItems<'_> {
    MessageItems(messages)
}

/// A text message not sent yet (`createTextMessage`): no clientMsgID, seq or send time.
pub fn text_draft<'a>(text: &str, self_user: Option<&'a User>, now: i64) -> MessageItem<'a> {
    let (send_id, nickname, face_url) = self_user
        .map(|u| (u.user_id.as_str(), u.nickname.as_str(), u.face_url.as_str()))
        .unwrap_or_default();
    MessageItem {
        client_msg_id: "",
        server_msg_id: "",
        create_time: now,
        send_time: 0,
        session_type: 0,
        send_id,
        recv_id: "",
        msg_from: 100,
        content_type: TEXT,
        sender_platform_id: 5,
        sender_nickname: nickname,
        sender_face_url: face_url,
        group_id: "",
        content: text_content(text),
        seq: 0,
        is_read: false,
        status: 1,
        ex: "",
        attached_info: "",
        text_elem: Some(TextElem {
            content: text.to_owned(),
        }),
        notification_elem: None,
    }
}

/// A revocation as `RevokedInfo`.
pub fn revoked_item(info: &RevokedInfo) -> RevokedItem<'_> {
    RevokedItem {
        revoker_id: &info.revoker_user_id,
        revoker_role: info.revoker_role,
        client_msg_id: &info.client_msg_id,
        revoker_nickname: &info.revoker_nickname,
        revoke_time: info.revoke_time,
        source_message_send_time: 0,
        source_message_send_id: "",
        source_message_sender_nickname: "",
        session_type: info
            .conversation_id
            .kind()
            .session_type()
            .map_or(0, |t| t.as_i32()),
        seq: info.seq.0,
        ex: "",
        conversation_id: info.conversation_id.as_str(),
        is_admin_revoke: info.is_admin_revoke,
    }
}

// ----- Conversations -----

/// `ConversationItem`: a conversation as the official SDK shows it, written from the stored
/// conversation (`latestMsg` is a `MessageItem` JSON string).
#[derive(Debug)]
pub struct ConversationItem<'a> {
    c: &'a Conversation,
    user_id: String,
    show_name: &'a str,
    face_url: &'a str,
    latest_msg: String,
}

/// A conversation as the official SDK shows it, with its display name from `names`.
pub fn conversation_item<'a>(c: &'a Conversation, names: &'a Names) -> ConversationItem<'a> {
    let user_id = names.peer(c);
    let (show_name, face_url) = names.of(c, &user_id);
    ConversationItem {
        c,
        show_name,
        face_url,
        latest_msg: c
            .latest_message
            .as_ref()
            .map(|m| msgjson::to_text(&message_item(m)))
            .unwrap_or_default(),
        user_id,
    }
}

impl WriteFields for ConversationItem<'_> {
    fn field_count(&self) -> usize {
        22
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        let c = self.c;
        sink.field("conversationID", Out::Str(c.id.as_str()));
        sink.field("conversationType", Out::I32(c.conversation_type.as_i32()));
        sink.field("userID", Out::Str(&self.user_id));
        sink.field("groupID", Out::Str(&c.group_id));
        sink.field("showName", Out::Str(self.show_name));
        sink.field("faceURL", Out::Str(self.face_url));
        sink.field("recvMsgOpt", Out::I32(c.recv_msg_opt));
        sink.field("unreadCount", Out::U64(c.unread_count()));
        sink.field("groupAtType", Out::I32(c.group_at_type));
        sink.field("latestMsg", Out::Str(&self.latest_msg));
        let sent = c.latest_message.as_ref().map_or(0, |m| m.send_time);
        sink.field("latestMsgSendTime", Out::I64(sent));
        sink.field("draftText", Out::Str(""));
        sink.field("draftTextTime", Out::I64(0));
        sink.field("burnDuration", Out::I32(c.burn_duration));
        sink.field("msgDestructTime", Out::I64(0));
        sink.field("isPinned", Out::Bool(c.is_pinned));
        sink.field("isNotInGroup", Out::Bool(false));
        sink.field("isPrivateChat", Out::Bool(c.is_private_chat));
        sink.field("isMsgDestruct", Out::Bool(false));
        sink.field("isMarked", Out::Bool(false));
        sink.field("attachedInfo", Out::Str(&c.attached_info));
        sink.field("ex", Out::Str(&c.ex));
    }
}

impl ToJson for ConversationItem<'_> {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
}

/// Conversations as `ConversationItem[]` (each item is made as it is written).
#[derive(Debug)]
pub struct ConversationItems<'a>(&'a [Conversation], &'a Names);

impl ListOut for ConversationItems<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn each(&self, f: &mut dyn FnMut(Out<'_>)) {
        for c in self.0 {
            f(Out::Msg(&conversation_item(c, self.1)));
        }
    }
}

impl ToJson for ConversationItems<'_> {
    fn to_out(&self) -> Out<'_> {
        Out::List(self)
    }
}

/// Conversations as `ConversationItem[]`.
pub fn conversation_items<'a>(list: &'a [Conversation], names: &'a Names) -> ConversationItems<'a> {
    ConversationItems(list, names)
}

/// The result of `getAdvancedHistoryMessageList`.
#[derive(Debug, Clone)]
#[cfg_attr(test, derive(serde::Serialize))]
#[cfg_attr(test, serde(rename_all = "camelCase"))]
pub struct HistoryResult<'a> {
    /// The page, oldest first.
    pub message_list: MessageItems<'a>,
    /// No older message exists.
    pub is_end: bool,
    /// The lowest seq of the page.
    pub last_min_seq: u64,
    /// Always 0.
    pub err_code: i32,
    /// Always empty.
    pub err_msg: String,
}

js_object!(HistoryResult<'a> {
    "messageList": message_list,
    "isEnd": is_end,
    "lastMinSeq": last_min_seq,
    "errCode": err_code,
    "errMsg": err_msg,
});

// ----- Users, friends, groups, members -----

/// How an official shape is written from a model value: its field count and a function
/// passing its fields, with the official names, in order.
#[derive(Debug)]
pub struct Shape<T: 'static> {
    fields: usize,
    write: fn(&T, &mut dyn FieldSink),
}

/// A model value written as an official shape (the value is borrowed, not copied).
#[derive(Debug)]
pub struct Item<'a, T: 'static>(pub &'a T, pub &'static Shape<T>);

impl<T> WriteFields for Item<'_, T> {
    fn field_count(&self) -> usize {
        self.1.fields
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        (self.1.write)(self.0, sink)
    }
}

impl<T> ToJson for Item<'_, T> {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
}

/// Model values written as a list of one official shape.
#[derive(Debug)]
pub struct Items<'a, T: 'static>(pub &'a [T], pub &'static Shape<T>);

impl<T> ListOut for Items<'_, T> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn each(&self, f: &mut dyn FnMut(Out<'_>)) {
        for value in self.0 {
            f(Out::Msg(&Item(value, self.1)));
        }
    }
}

impl<T> ToJson for Items<'_, T> {
    fn to_out(&self) -> Out<'_> {
        Out::List(self)
    }
}

/// The logged-in user as `SelfUserInfo`.
pub static SELF_USER_INFO: Shape<User> = Shape {
    fields: 7,
    write: |u, sink| {
        sink.field("userID", Out::Str(&u.user_id));
        sink.field("nickname", Out::Str(&u.nickname));
        sink.field("faceURL", Out::Str(&u.face_url));
        sink.field("ex", Out::Str(&u.ex));
        sink.field("createTime", Out::I64(u.create_time));
        sink.field("globalRecvMsgOpt", Out::I32(u.global_recv_msg_opt));
        sink.field("appManagerLevel", Out::I32(u.app_manager_level));
    },
};

/// A profile as `PublicUserItem`.
pub static PUBLIC_USER_ITEM: Shape<User> = Shape {
    fields: 4,
    write: |u, sink| {
        sink.field("userID", Out::Str(&u.user_id));
        sink.field("nickname", Out::Str(&u.nickname));
        sink.field("faceURL", Out::Str(&u.face_url));
        sink.field("ex", Out::Str(&u.ex));
    },
};

/// A friend as `FriendUserItem`.
pub static FRIEND_USER_ITEM: Shape<Friend> = Shape {
    fields: 11,
    write: |f, sink| {
        sink.field("ownerUserID", Out::Str(&f.owner_user_id));
        sink.field("userID", Out::Str(&f.user.user_id));
        sink.field("nickname", Out::Str(&f.user.nickname));
        sink.field("faceURL", Out::Str(&f.user.face_url));
        sink.field("remark", Out::Str(&f.remark));
        sink.field("addSource", Out::I32(f.add_source));
        sink.field("createTime", Out::I64(f.create_time));
        sink.field("operatorUserID", Out::Str(&f.operator_user_id));
        sink.field("ex", Out::Str(&f.ex));
        sink.field("isPinned", Out::Bool(f.is_pinned));
        sink.field("attachedInfo", Out::Str(""));
    },
};

/// A group as `GroupItem`.
pub static GROUP_ITEM: Shape<Group> = Shape {
    fields: 19,
    write: |g, sink| {
        sink.field("groupID", Out::Str(&g.group_id));
        sink.field("groupName", Out::Str(&g.name));
        sink.field("notification", Out::Str(&g.announcement.text));
        sink.field(
            "notificationUserID",
            Out::Str(&g.announcement.editor_user_id),
        );
        sink.field(
            "notificationUpdateTime",
            Out::I64(g.announcement.updated_at),
        );
        sink.field("introduction", Out::Str(&g.introduction));
        sink.field("faceURL", Out::Str(&g.face_url));
        sink.field("ownerUserID", Out::Str(&g.owner_user_id));
        sink.field("createTime", Out::I64(g.create_time));
        sink.field("memberCount", Out::U32(g.member_count));
        sink.field("status", Out::I32(g.status));
        sink.field("creatorUserID", Out::Str(&g.creator_user_id));
        sink.field("groupType", Out::I32(g.group_type));
        sink.field("needVerification", Out::I32(g.need_verification));
        sink.field("ex", Out::Str(&g.ex));
        sink.field(
            "applyMemberFriend",
            Out::I32(g.apply_member_friend.as_i32()),
        );
        sink.field("lookMemberInfo", Out::I32(g.look_member_info.as_i32()));
        sink.field("displayIsRead", Out::Bool(false));
        sink.field(
            "enableHistoryForNewMembers",
            Out::Bool(g.history_for_new_members.unwrap_or(true)),
        );
    },
};

/// A member as `GroupMemberItem`.
pub static GROUP_MEMBER_ITEM: Shape<Member> = Shape {
    fields: 11,
    write: |m, sink| {
        sink.field("groupID", Out::Str(&m.group_id));
        sink.field("userID", Out::Str(&m.user_id));
        sink.field("nickname", Out::Str(&m.nickname));
        sink.field("faceURL", Out::Str(&m.face_url));
        sink.field("roleLevel", Out::I32(m.role_level));
        sink.field("muteEndTime", Out::I64(m.mute_end_time));
        sink.field("joinTime", Out::I64(m.join_time));
        sink.field("joinSource", Out::I32(m.join_source));
        sink.field("inviterUserID", Out::Str(&m.inviter_user_id));
        sink.field("operatorUserID", Out::Str(&m.operator_user_id));
        sink.field("ex", Out::Str(&m.ex));
    },
};

/// The shapes above as serde wrote them from copied structs: the reference the tests compare
/// [`Item`]s with.
#[cfg(test)]
mod reference {
    use super::*;

    /// `SelfUserInfo`.
    #[derive(Debug, Clone, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct SelfUserInfo {
        #[serde(rename = "userID")]
        user_id: String,
        nickname: String,
        #[serde(rename = "faceURL")]
        face_url: String,
        ex: String,
        create_time: i64,
        global_recv_msg_opt: i32,
        app_manager_level: i32,
    }

    /// The logged-in user as `SelfUserInfo`.
    pub fn self_user_info(u: &User) -> SelfUserInfo {
        SelfUserInfo {
            user_id: u.user_id.clone(),
            nickname: u.nickname.clone(),
            face_url: u.face_url.clone(),
            ex: u.ex.clone(),
            create_time: u.create_time,
            global_recv_msg_opt: u.global_recv_msg_opt,
            app_manager_level: u.app_manager_level,
        }
    }

    /// `PublicUserItem`.
    #[derive(Debug, Clone, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PublicUserItem {
        #[serde(rename = "userID")]
        user_id: String,
        nickname: String,
        #[serde(rename = "faceURL")]
        face_url: String,
        ex: String,
    }

    /// A profile as `PublicUserItem`.
    pub fn public_user_item(u: &User) -> PublicUserItem {
        PublicUserItem {
            user_id: u.user_id.clone(),
            nickname: u.nickname.clone(),
            face_url: u.face_url.clone(),
            ex: u.ex.clone(),
        }
    }

    /// `FriendUserItem`.
    #[derive(Debug, Clone, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct FriendUserItem {
        #[serde(rename = "ownerUserID")]
        owner_user_id: String,
        #[serde(rename = "userID")]
        user_id: String,
        nickname: String,
        #[serde(rename = "faceURL")]
        face_url: String,
        remark: String,
        add_source: i32,
        create_time: i64,
        #[serde(rename = "operatorUserID")]
        operator_user_id: String,
        ex: String,
        is_pinned: bool,
        attached_info: String,
    }

    /// A friend as `FriendUserItem`.
    pub fn friend_item(f: &Friend) -> FriendUserItem {
        FriendUserItem {
            owner_user_id: f.owner_user_id.clone(),
            user_id: f.user.user_id.clone(),
            nickname: f.user.nickname.clone(),
            face_url: f.user.face_url.clone(),
            remark: f.remark.clone(),
            add_source: f.add_source,
            create_time: f.create_time,
            operator_user_id: f.operator_user_id.clone(),
            ex: f.ex.clone(),
            is_pinned: f.is_pinned,
            attached_info: String::new(),
        }
    }

    /// `GroupItem`.
    #[derive(Debug, Clone, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct GroupItem {
        #[serde(rename = "groupID")]
        group_id: String,
        group_name: String,
        notification: String,
        #[serde(rename = "notificationUserID")]
        notification_user_id: String,
        notification_update_time: i64,
        introduction: String,
        #[serde(rename = "faceURL")]
        face_url: String,
        #[serde(rename = "ownerUserID")]
        owner_user_id: String,
        create_time: i64,
        member_count: u32,
        status: i32,
        #[serde(rename = "creatorUserID")]
        creator_user_id: String,
        group_type: i32,
        need_verification: i32,
        ex: String,
        apply_member_friend: i32,
        look_member_info: i32,
        display_is_read: bool,
        enable_history_for_new_members: bool,
    }

    /// A group as `GroupItem`.
    pub fn group_item(g: &Group) -> GroupItem {
        GroupItem {
            group_id: g.group_id.clone(),
            group_name: g.name.clone(),
            notification: g.announcement.text.clone(),
            notification_user_id: g.announcement.editor_user_id.clone(),
            notification_update_time: g.announcement.updated_at,
            introduction: g.introduction.clone(),
            face_url: g.face_url.clone(),
            owner_user_id: g.owner_user_id.clone(),
            create_time: g.create_time,
            member_count: g.member_count,
            status: g.status,
            creator_user_id: g.creator_user_id.clone(),
            group_type: g.group_type,
            need_verification: g.need_verification,
            ex: g.ex.clone(),
            apply_member_friend: g.apply_member_friend.as_i32(),
            look_member_info: g.look_member_info.as_i32(),
            display_is_read: false,
            enable_history_for_new_members: g.history_for_new_members.unwrap_or(true),
        }
    }

    /// `GroupMemberItem`.
    #[derive(Debug, Clone, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct GroupMemberItem {
        #[serde(rename = "groupID")]
        group_id: String,
        #[serde(rename = "userID")]
        user_id: String,
        nickname: String,
        #[serde(rename = "faceURL")]
        face_url: String,
        role_level: i32,
        mute_end_time: i64,
        join_time: i64,
        join_source: i32,
        #[serde(rename = "inviterUserID")]
        inviter_user_id: String,
        #[serde(rename = "operatorUserID")]
        operator_user_id: String,
        ex: String,
    }

    /// A member as `GroupMemberItem`.
    pub fn member_item(m: &Member) -> GroupMemberItem {
        GroupMemberItem {
            group_id: m.group_id.clone(),
            user_id: m.user_id.clone(),
            nickname: m.nickname.clone(),
            face_url: m.face_url.clone(),
            role_level: m.role_level,
            mute_end_time: m.mute_end_time,
            join_time: m.join_time,
            join_source: m.join_source,
            inviter_user_id: m.inviter_user_id.clone(),
            operator_user_id: m.operator_user_id.clone(),
            ex: m.ex.clone(),
        }
    }

    /// `ConversationItem`.
    #[derive(Debug, Clone, serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ConversationItemCopy {
        #[serde(rename = "conversationID")]
        conversation_id: String,
        conversation_type: i32,
        #[serde(rename = "userID")]
        user_id: String,
        #[serde(rename = "groupID")]
        group_id: String,
        show_name: String,
        #[serde(rename = "faceURL")]
        face_url: String,
        recv_msg_opt: i32,
        unread_count: u64,
        group_at_type: i32,
        latest_msg: String,
        latest_msg_send_time: i64,
        draft_text: String,
        draft_text_time: i64,
        burn_duration: i32,
        msg_destruct_time: i64,
        is_pinned: bool,
        is_not_in_group: bool,
        is_private_chat: bool,
        is_msg_destruct: bool,
        is_marked: bool,
        attached_info: String,
        ex: String,
    }

    /// A conversation copied into a `ConversationItem` struct.
    pub fn conversation_item_copy(c: &Conversation, names: &Names) -> ConversationItemCopy {
        let user_id = names.peer(c);
        let (show_name, face_url) = names.of(c, &user_id);
        let latest = c.latest_message.as_ref().map(message_item);
        ConversationItemCopy {
            conversation_id: c.id.as_str().to_owned(),
            conversation_type: c.conversation_type.as_i32(),
            user_id,
            group_id: c.group_id.clone(),
            show_name: show_name.to_owned(),
            face_url: face_url.to_owned(),
            recv_msg_opt: c.recv_msg_opt,
            unread_count: c.unread_count(),
            group_at_type: c.group_at_type,
            latest_msg: latest
                .as_ref()
                .map(|m| msgjson::to_text(m))
                .unwrap_or_default(),
            latest_msg_send_time: c
                .latest_message
                .as_ref()
                .map(|m| m.send_time)
                .unwrap_or_default(),
            draft_text: String::new(),
            draft_text_time: 0,
            burn_duration: c.burn_duration,
            msg_destruct_time: 0,
            is_pinned: c.is_pinned,
            is_not_in_group: false,
            is_private_chat: c.is_private_chat,
            is_msg_destruct: false,
            is_marked: false,
            attached_info: c.attached_info.clone(),
            ex: c.ex.clone(),
        }
    }
}

/// Whether a member passes `getGroupMemberList`'s filter (0 all, 1 owner, 2 admins,
/// 3 ordinary members, 4 admins and ordinary members, 5 owner and admins).
pub fn member_filter(filter: u32) -> Result<fn(i32) -> bool, SdkError> {
    const OWNER: i32 = 100;
    const ADMIN: i32 = 60;
    const ORDINARY: i32 = 20;
    Ok(match filter {
        0 => |_| true,
        1 => |r| r == OWNER,
        2 => |r| r == ADMIN,
        3 => |r| r == ORDINARY,
        4 => |r| r == ADMIN || r == ORDINARY,
        5 => |r| r == OWNER || r == ADMIN,
        other => {
            return Err(SdkError::invalid_argument(format!(
                "filter must be 0–5, got {other}"
            )))
        }
    })
}

// ----- Parameters -----

/// `login`'s parameter: what [`crate::sdk::Sdk::login`] takes.
pub type LoginIn = crate::sdk::LoginParams;

/// `getAdvancedHistoryMessageList`'s parameter.
#[derive(Debug)]
pub struct HistoryIn {
    /// The conversation.
    pub conversation_id: String,
    /// Page size.
    pub count: u32,
    /// Page before this message; '' for the newest page.
    pub start_client_msg_id: String,
    /// Accepted for compatibility; paging follows `startClientMsgID`.
    pub last_min_seq: Option<u64>,
}

/// The message inside `sendMessage`'s parameter.
#[derive(Debug)]
pub struct MessageIn {
    /// Must be 101 (text).
    pub content_type: i32,
    /// The text.
    pub text_elem: Option<TextElem>,
}

/// `sendMessage`'s parameter.
#[derive(Debug)]
pub struct SendIn {
    /// The receiving user (single chats).
    pub recv_id: String,
    /// The receiving group.
    pub group_id: String,
    /// The draft from `createTextMessage`.
    pub message: MessageIn,
}

/// `revokeMessage`'s parameter.
#[derive(Debug)]
pub struct RevokeIn {
    /// The conversation.
    pub conversation_id: String,
    /// The message.
    pub client_msg_id: String,
}

/// `setSelfInfo`'s parameter.
#[derive(Debug)]
pub struct SelfInfoIn {
    /// New nickname.
    pub nickname: Option<String>,
    /// New avatar URL.
    pub face_url: Option<String>,
}

/// `setGroupInfo`'s parameter.
#[derive(Debug)]
pub struct GroupInfoIn {
    /// The group.
    pub group_id: String,
    /// New name.
    pub group_name: Option<String>,
    /// New announcement.
    pub notification: Option<String>,
    /// New introduction.
    pub introduction: Option<String>,
    /// 0 or 1.
    pub look_member_info: Option<i32>,
    /// 0 or 1.
    pub apply_member_friend: Option<i32>,
    /// Whether new members see older messages.
    pub enable_history_for_new_members: Option<bool>,
}

/// `getGroupMemberList`'s parameter.
#[derive(Debug)]
pub struct MemberListIn {
    /// The group.
    pub group_id: String,
    /// Role filter (see [`member_filter`]).
    pub filter: u32,
    /// Members to skip.
    pub offset: u32,
    /// Page size.
    pub count: u32,
}

/// `getSpecifiedGroupMembersInfo`'s parameter.
#[derive(Debug)]
pub struct MembersInfoIn {
    /// The group.
    pub group_id: String,
    /// The members.
    pub user_id_list: Vec<String>,
}

/// `inviteUserToGroup`'s and `kickGroupMember`'s parameter.
#[derive(Debug)]
pub struct GroupUsersIn {
    /// The group.
    pub group_id: String,
    /// Why.
    pub reason: String,
    /// The users.
    pub user_id_list: Vec<String>,
}

/// `joinGroup`'s parameter.
#[derive(Debug)]
pub struct JoinGroupIn {
    /// The group.
    pub group_id: String,
    /// The request message.
    pub req_msg: String,
    /// 2 invitation, 3 search, 4 QR code.
    pub join_source: i32,
}

/// `setGroupMemberInfo`'s parameter.
#[derive(Debug)]
pub struct MemberInfoIn {
    /// The group.
    pub group_id: String,
    /// The member.
    pub user_id: String,
    /// 20 ordinary member, 60 admin.
    pub role_level: Option<i32>,
}

/// `createGroup`'s `groupInfo`.
#[derive(Debug)]
pub struct NewGroupInfoIn {
    /// The name.
    pub group_name: String,
    /// Must be 2 (work group) when given.
    pub group_type: Option<i32>,
}

/// `createGroup`'s parameter.
#[derive(Debug)]
pub struct CreateGroupIn {
    /// Members besides the owner.
    pub member_user_ids: Vec<String>,
    /// Admins (also members).
    pub admin_user_ids: Vec<String>,
    /// Must be the logged-in user when given.
    pub owner_user_id: Option<String>,
    /// Name and type.
    pub group_info: NewGroupInfoIn,
}

/// `addFriend`'s parameter.
#[derive(Debug)]
pub struct AddFriendIn {
    /// The user.
    pub to_user_id: String,
    /// The request message.
    pub req_msg: String,
}

/// `updateFriends`'s parameter.
#[derive(Debug)]
pub struct UpdateFriendsIn {
    /// The friends.
    pub friend_user_ids: Vec<String>,
    /// The remark; '' deletes it.
    pub remark: String,
}

/// Implements [`FromJs`] for a parameter object: `$name` must be an object, and each field is
/// read with `$how(value, key, reader)`.
macro_rules! from_js_object {
    ($ty:ident, $name:literal, { $($field:ident: $how:ident($key:literal, $read:expr)),* $(,)? }) => {
        impl FromJs for $ty {
            fn from_js(value: &JsValue) -> Result<$ty, ReadError> {
                object(value, $name)?;
                Ok($ty {
                    $($field: $how(value, $key, $read)?,)*
                })
            }
        }
    };
}

fn text_elem(value: &JsValue, name: &'static str) -> Result<TextElem, ReadError> {
    object(value, name)?;
    Ok(TextElem {
        content: req(value, "content", string)?,
    })
}

fn message_in(value: &JsValue, _name: &'static str) -> Result<MessageIn, ReadError> {
    MessageIn::from_js(value)
}

fn new_group_info_in(value: &JsValue, _name: &'static str) -> Result<NewGroupInfoIn, ReadError> {
    NewGroupInfoIn::from_js(value)
}

from_js_object!(LoginIn, "the login parameter", {
    user_id: req("userID", string),
    token: req("token", string),
    platform_id: req("platformID", int32),
    api_addr: req("apiAddr", string),
    ws_addr: req("wsAddr", string),
});

from_js_object!(HistoryIn, "the history parameter", {
    conversation_id: req("conversationID", string),
    count: req("count", uint32),
    start_client_msg_id: or_default("startClientMsgID", string),
    last_min_seq: opt("lastMinSeq", uint64),
});

from_js_object!(MessageIn, "message", {
    content_type: req("contentType", int32),
    text_elem: opt("textElem", text_elem),
});

from_js_object!(SendIn, "the send parameter", {
    recv_id: or_default("recvID", string),
    group_id: or_default("groupID", string),
    message: req("message", message_in),
});

from_js_object!(RevokeIn, "the revoke parameter", {
    conversation_id: req("conversationID", string),
    client_msg_id: req("clientMsgID", string),
});

from_js_object!(SelfInfoIn, "the self info parameter", {
    nickname: opt("nickname", string),
    face_url: opt("faceURL", string),
});

from_js_object!(GroupInfoIn, "the group info parameter", {
    group_id: req("groupID", string),
    group_name: opt("groupName", string),
    notification: opt("notification", string),
    introduction: opt("introduction", string),
    look_member_info: opt("lookMemberInfo", int32),
    apply_member_friend: opt("applyMemberFriend", int32),
    enable_history_for_new_members: opt("enableHistoryForNewMembers", boolean),
});

from_js_object!(MemberListIn, "the member list parameter", {
    group_id: req("groupID", string),
    filter: or_default("filter", uint32),
    offset: req("offset", uint32),
    count: req("count", uint32),
});

from_js_object!(MembersInfoIn, "the members info parameter", {
    group_id: req("groupID", string),
    user_id_list: req("userIDList", strings),
});

from_js_object!(GroupUsersIn, "the group users parameter", {
    group_id: req("groupID", string),
    reason: or_default("reason", string),
    user_id_list: req("userIDList", strings),
});

from_js_object!(JoinGroupIn, "the join group parameter", {
    group_id: req("groupID", string),
    req_msg: or_default("reqMsg", string),
    join_source: req("joinSource", int32),
});

from_js_object!(MemberInfoIn, "the member info parameter", {
    group_id: req("groupID", string),
    user_id: req("userID", string),
    role_level: opt("roleLevel", int32),
});

from_js_object!(NewGroupInfoIn, "groupInfo", {
    group_name: req("groupName", string),
    group_type: opt("groupType", int32),
});

from_js_object!(CreateGroupIn, "the create group parameter", {
    member_user_ids: or_default("memberUserIDs", strings),
    admin_user_ids: or_default("adminUserIDs", strings),
    owner_user_id: opt("ownerUserID", string),
    group_info: req("groupInfo", new_group_info_in),
});

from_js_object!(AddFriendIn, "the add friend parameter", {
    to_user_id: req("toUserID", string),
    req_msg: or_default("reqMsg", string),
});

from_js_object!(UpdateFriendsIn, "the update friends parameter", {
    friend_user_ids: req("friendUserIDs", strings),
    remark: req("remark", string),
});

#[cfg(test)]
mod tests {
    use super::reference::*;
    use super::*;
    use chorus_core::model::{msg, ConversationId};
    use js_sys::Reflect;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn field(value: &JsValue, name: &str) -> JsValue {
        Reflect::get(value, &name.into()).unwrap_or(JsValue::UNDEFINED)
    }

    #[wasm_bindgen_test]
    fn text_messages_have_text_elem_and_json_content() {
        let m = msg().conv("sg_g1").seq(7).text("hi \"there\"").build();
        let js = to_js(&message_item(&m)).unwrap();
        assert_eq!(field(&js, "contentType").as_f64(), Some(101.0));
        assert_eq!(field(&js, "seq").as_f64(), Some(7.0));
        assert_eq!(field(&js, "groupID").as_string().as_deref(), Some("g1"));
        let elem = field(&js, "textElem");
        assert_eq!(
            field(&elem, "content").as_string().as_deref(),
            Some("hi \"there\"")
        );
        let content: serde_json::Value =
            serde_json::from_str(&field(&js, "content").as_string().unwrap()).unwrap();
        assert_eq!(content["content"], "hi \"there\"");
        assert!(field(&js, "notificationElem").is_undefined());
    }

    #[wasm_bindgen_test]
    fn revoked_messages_show_as_2101_with_the_revocation() {
        let m = msg()
            .conv("sg_g1")
            .seq(3)
            .text("secret")
            .status(MessageStatus::Revoked {
                by: "owner".into(),
                role: 100,
                nickname: "Olga".into(),
                time: 1_700_000_000_000,
            })
            .build();
        let item = message_item(&m);
        let js = to_js(&item).unwrap();
        assert_eq!(field(&js, "contentType").as_f64(), Some(2101.0));
        assert!(field(&js, "textElem").is_undefined());
        let detail = field(&field(&js, "notificationElem"), "detail")
            .as_string()
            .unwrap();
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
        assert_eq!(detail["revokerID"], "owner");
        assert_eq!(detail["revokerRole"], 100);
        assert_eq!(detail["revokerNickname"], "Olga");
        assert_eq!(detail["seq"], 3);
        assert_eq!(detail["conversationID"], "sg_g1");
        assert!(!item.content.contains("secret"), "the text is gone");
    }

    /// Messages of every shape the items distinguish: text, raw notification, revoked, failed.
    fn sample_messages() -> Vec<Message> {
        let text = msg()
            .conv("sg_g1")
            .seq(7)
            .text("hi \"there\" \u{1F600}\n</b>")
            .build();
        let mut notification = msg().conv("sg_g1").seq(8).build();
        notification.content_type = 1501;
        notification.content = Content::Raw(br#"{"detail":"{\"group\":{}}"}"#.to_vec());
        let mut raw = msg().conv("si_a_b").seq(u64::MAX >> 11).build();
        raw.content_type = 102;
        raw.content = Content::Raw(vec![b'x', 0xff, b'y']);
        raw.create_time = -3;
        let revoked = msg()
            .conv("sg_g1")
            .seq(3)
            .text("secret")
            .status(MessageStatus::Revoked {
                by: "owner".into(),
                role: 100,
                nickname: "Olga \\ O".into(),
                time: 1_700_000_000_000,
            })
            .build();
        let failed = msg()
            .conv("sg_g1")
            .text("x")
            .status(MessageStatus::Failed { code: 1302 })
            .build();
        vec![text, notification, raw, revoked, failed]
    }

    /// Every outgoing item is the text serde_json wrote for the derived `Serialize` it replaces.
    #[wasm_bindgen_test]
    fn items_are_written_as_serde_json_writes_them() {
        fn same<T: ToJson + serde::Serialize>(item: &T) {
            assert_eq!(msgjson::to_text(item), serde_json::to_string(item).unwrap());
        }
        fn same_as<T: serde::Serialize>(item: &dyn ToJson, reference: &T) {
            assert_eq!(
                msgjson::to_text(item),
                serde_json::to_string(reference).unwrap()
            );
        }
        let messages = sample_messages();
        for m in &messages {
            same(&message_item(m));
        }
        same(&message_items(&messages));
        same_as(
            &message_items(&messages),
            &messages.iter().map(message_item).collect::<Vec<_>>(),
        );
        same(&text_draft("draft \u{0}", None, 5));
        let user = User {
            user_id: "u1".into(),
            nickname: "Ann".into(),
            face_url: "https://example.invalid/a.png".into(),
            create_time: 1_700_000_000_000,
            app_manager_level: -1,
            ..User::default()
        };
        same(&text_draft("draft", Some(&user), 5));
        same_as(&Item(&user, &SELF_USER_INFO), &self_user_info(&user));
        same_as(&Item(&user, &PUBLIC_USER_ITEM), &public_user_item(&user));
        same_as(
            &Items(&[user.clone(), User::default()], &PUBLIC_USER_ITEM),
            &vec![public_user_item(&user), public_user_item(&User::default())],
        );
        same_as(&Items(&[], &GROUP_ITEM), &Vec::<GroupItem>::new());
        let friend = Friend {
            owner_user_id: "u0".into(),
            user: user.clone(),
            remark: "r".into(),
            is_pinned: true,
            ..Friend::default()
        };
        same_as(&Item(&friend, &FRIEND_USER_ITEM), &friend_item(&friend));
        let group = Group::try_from(chorus_proto::pb::sdkws::GroupInfo {
            group_id: "g1".into(),
            group_name: "Team \"A\"".into(),
            member_count: u32::MAX,
            look_member_info: 1,
            ..Default::default()
        })
        .unwrap();
        same_as(&Item(&group, &GROUP_ITEM), &group_item(&group));
        let member = Member {
            group_id: "g1".into(),
            user_id: "u2".into(),
            role_level: 60,
            mute_end_time: i64::MIN,
            ..Member::default()
        };
        same_as(&Item(&member, &GROUP_MEMBER_ITEM), &member_item(&member));
        same_as(
            &Items(&[member.clone(), Member::default()], &GROUP_MEMBER_ITEM),
            &vec![member_item(&member), member_item(&Member::default())],
        );
        same(&revoked_item(&RevokedInfo {
            conversation_id: ConversationId::single("a", "b"),
            seq: chorus_core::model::Seq(9),
            client_msg_id: "c9".into(),
            revoker_user_id: "a".into(),
            revoker_role: 0,
            revoker_nickname: String::new(),
            revoke_time: 1,
            is_admin_revoke: true,
        }));
        let mut names = Names::default();
        names.set_self("a");
        names.users(&[("b", "Bee", "")]);
        let mut conversation = Conversation::new(ConversationId::single("a", "b"));
        conversation.latest_message = messages.first().cloned();
        conversation.is_pinned = true;
        same_as(
            &conversation_item(&conversation, &names),
            &conversation_item_copy(&conversation, &names),
        );
        let list = [conversation, Conversation::new(ConversationId::group("g1"))];
        same_as(
            &conversation_items(&list, &names),
            &list
                .iter()
                .map(|c| conversation_item_copy(c, &names))
                .collect::<Vec<_>>(),
        );
        same(&HistoryResult {
            message_list: message_items(&messages),
            is_end: true,
            last_min_seq: 3,
            err_code: 0,
            err_msg: String::new(),
        });
    }

    /// A notification's `detail` is found exactly where serde's derived reader found it.
    #[wasm_bindgen_test]
    fn notification_details_are_read_as_serde_read_them() {
        #[derive(serde::Deserialize)]
        struct Wrapped {
            detail: String,
        }
        let serde_detail = |content: &str| {
            serde_json::from_str::<Wrapped>(content)
                .map(|w| w.detail)
                .unwrap_or_else(|_| content.to_owned())
        };
        for content in [
            r#"{"detail":"{\"a\":1}"}"#,
            r#"{"other":1,"detail":"x"}"#,
            r#" { "detail" : "spaced \u00e9" } "#,
            r#"{"detail":"a","detail":"b"}"#,
            r#"{"detail":null}"#,
            r#"{"detail":1}"#,
            r#"{}"#,
            r#"["listed"]"#,
            r#"["a","b"]"#,
            r#"[]"#,
            "not json",
            "",
            r#""detail""#,
        ] {
            assert_eq!(
                notification_detail(content),
                serde_detail(content),
                "{content}"
            );
        }
        assert_eq!(text_content("a\"b"), r#"{"content":"a\"b"}"#);
    }

    #[wasm_bindgen_test]
    fn single_chats_name_the_peer_even_with_underscores_in_ids() {
        let id = ConversationId::single("me_1", "you_2");
        let conversation = Conversation::new(id);
        let mut names = Names::default();
        names.set_self("me_1");
        names.users(&[("you_2", "You", "https://example.invalid/y.png")]);
        let item = to_js(&conversation_item(&conversation, &names)).unwrap();
        assert_eq!(field(&item, "userID").as_string().as_deref(), Some("you_2"));
        assert_eq!(field(&item, "showName").as_string().as_deref(), Some("You"));
        assert_eq!(field(&item, "latestMsg").as_string().as_deref(), Some(""));
    }

    #[wasm_bindgen_test]
    fn member_filters_follow_the_official_values() {
        let roles = [100, 60, 20];
        let kept = |filter| {
            let keep = member_filter(filter).unwrap();
            roles
                .iter()
                .copied()
                .filter(|r| keep(*r))
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(0), vec![100, 60, 20]);
        assert_eq!(kept(1), vec![100]);
        assert_eq!(kept(2), vec![60]);
        assert_eq!(kept(3), vec![20]);
        assert_eq!(kept(4), vec![60, 20]);
        assert_eq!(kept(5), vec![100, 60]);
        assert_eq!(member_filter(6).err().map(|e| e.code()), Some(10001));
    }

    fn params(json: &str) -> JsValue {
        js_sys::JSON::parse(json).unwrap()
    }

    fn fails<T: FromJs + std::fmt::Debug>(value: JsValue, names: &str) {
        let err = from_js::<T>("method", value).unwrap_err();
        assert_eq!(err.code(), 10001, "{err}");
        assert!(err.to_string().contains(names), "{err}");
    }

    #[wasm_bindgen_test]
    fn parameters_read_fields_by_their_official_names() {
        let p: LoginIn = from_js(
            "login",
            params(
                r#"{"userID":"u1","token":"t","platformID":5,"apiAddr":"http://a",
                    "wsAddr":"ws://w","extra":[1]}"#,
            ),
        )
        .unwrap();
        assert_eq!(
            (p.user_id.as_str(), p.token.as_str(), p.platform_id),
            ("u1", "t", 5)
        );
        assert_eq!(
            (p.api_addr.as_str(), p.ws_addr.as_str()),
            ("http://a", "ws://w")
        );
        fails::<LoginIn>(
            params(r#"{"token":"t","platformID":5,"apiAddr":"","wsAddr":""}"#),
            "userID",
        );
        fails::<LoginIn>(
            params(r#"{"userID":"u1","token":"t","platformID":5.5,"apiAddr":"","wsAddr":""}"#),
            "platformID",
        );
        fails::<LoginIn>(
            params(
                r#"{"userID":"u1","token":"t","platformID":2147483648,"apiAddr":"","wsAddr":""}"#,
            ),
            "platformID",
        );
        fails::<LoginIn>(JsValue::from_str("u1"), "login");
        fails::<LoginIn>(JsValue::NULL, "login");

        let p: SendIn = from_js(
            "sendMessage",
            params(r#"{"groupID":"g1","message":{"contentType":101,"textElem":{"content":"hi"}}}"#),
        )
        .unwrap();
        assert_eq!((p.recv_id.as_str(), p.group_id.as_str()), ("", "g1"));
        assert_eq!(p.message.content_type, 101);
        assert_eq!(
            p.message.text_elem.map(|t| t.content).as_deref(),
            Some("hi")
        );
        let p: SendIn = from_js(
            "sendMessage",
            params(r#"{"recvID":"u2","message":{"contentType":101,"textElem":null}}"#),
        )
        .unwrap();
        assert!(p.message.text_elem.is_none());
        fails::<SendIn>(params(r#"{"recvID":"u2"}"#), "message");
        fails::<SendIn>(
            params(r#"{"recvID":"u2","message":{"textElem":null}}"#),
            "contentType",
        );
        fails::<SendIn>(
            params(r#"{"recvID":null,"message":{"contentType":101}}"#),
            "recvID",
        );
    }

    #[wasm_bindgen_test]
    fn defaults_apply_only_to_absent_fields() {
        // An explicit `undefined` is a value, not an absent field.
        let obj = params(r#"{"groupID":"g1","offset":0,"count":5}"#);
        let p: MemberListIn = from_js("getGroupMemberList", obj.clone()).unwrap();
        assert_eq!((p.filter, p.offset, p.count), (0, 0, 5));
        Reflect::set(&obj, &"filter".into(), &JsValue::UNDEFINED).unwrap();
        fails::<MemberListIn>(obj, "filter");
        fails::<MemberListIn>(
            params(r#"{"groupID":"g1","offset":-1,"count":5}"#),
            "offset",
        );

        // Optional fields are unset when absent, `undefined` or `null`.
        let obj = params(r#"{"nickname":null}"#);
        Reflect::set(&obj, &"faceURL".into(), &JsValue::UNDEFINED).unwrap();
        let p: SelfInfoIn = from_js("setSelfInfo", obj).unwrap();
        assert_eq!((p.nickname, p.face_url), (None, None));
        let p: GroupInfoIn = from_js(
            "setGroupInfo",
            params(r#"{"groupID":"g1","lookMemberInfo":1,"enableHistoryForNewMembers":false}"#),
        )
        .unwrap();
        assert_eq!(p.look_member_info, Some(1));
        assert_eq!(p.enable_history_for_new_members, Some(false));
        assert_eq!(p.group_name, None);
        fails::<GroupInfoIn>(
            params(r#"{"groupID":"g1","enableHistoryForNewMembers":1}"#),
            "enableHistoryForNewMembers",
        );
    }

    #[wasm_bindgen_test]
    fn lists_and_large_integers_read_like_javascript_gives_them() {
        let set = js_sys::Set::new(&JsValue::UNDEFINED);
        set.add(&"u1".into());
        set.add(&"u2".into());
        let ids: Vec<String> = from_js("getUsersInfo", set.into()).unwrap();
        assert_eq!(ids, vec!["u1".to_owned(), "u2".to_owned()]);
        fails::<Vec<String>>(params(r#"["u1",2]"#), "not a string");
        fails::<Vec<String>>(params(r#"{"0":"u1"}"#), "not a list");

        let p: CreateGroupIn = from_js(
            "createGroup",
            params(r#"{"memberUserIDs":["u2"],"groupInfo":{"groupName":"n","groupType":2}}"#),
        )
        .unwrap();
        assert_eq!(p.member_user_ids, vec!["u2".to_owned()]);
        assert!(p.admin_user_ids.is_empty());
        assert_eq!(p.group_info.group_type, Some(2));
        fails::<CreateGroupIn>(params(r#"{"groupInfo":{}}"#), "groupName");

        let obj = params(r#"{"conversationID":"sg_g1","count":20}"#);
        let big = js_sys::BigInt::from(u64::MAX);
        Reflect::set(&obj, &"lastMinSeq".into(), &big.into()).unwrap();
        let p: HistoryIn = from_js("getAdvancedHistoryMessageList", obj).unwrap();
        assert_eq!(p.last_min_seq, Some(u64::MAX));
        assert_eq!(p.start_client_msg_id, "");
        fails::<HistoryIn>(
            params(r#"{"conversationID":"sg_g1","count":20,"lastMinSeq":9007199254740992}"#),
            "lastMinSeq",
        );
        fails::<HistoryIn>(
            params(r#"{"conversationID":"sg_g1","count":"many"}"#),
            "count",
        );
    }

    #[wasm_bindgen_test]
    fn malformed_parameters_are_invalid_arguments() {
        let err = from_js::<Vec<String>>("getUsersInfo", JsValue::from_str("u1")).unwrap_err();
        assert_eq!(err.code(), 10001);
        assert!(require_ids("userIDList", &[]).is_err());
        assert!(require_ids("userIDList", &["".into()]).is_err());
        assert!(require("groupID", " ").is_err());
    }
}
