//! The JSON form of the model types through [`chorus_proto::msgjson`], one small function per
//! type, so that code which only moves these values as JSON text (the browser's stored rows and
//! tab messages) needs no serde code for them.
//!
//! The text is exactly what the serde derives of these types write: keys as the field names, in
//! declaration order; enums externally tagged (`"Sent"`, `{"Failed":{"code":1}}`); wire enums as
//! their integers; [`ConversationId`] and [`Seq`] as their inner value; raw content as an array
//! of numbers. Reading accepts everything the derives accept for such text (members in any
//! order, unknown members ignored) and is lenient where they are strict: a missing or `null`
//! field reads as its zero value. A member given twice, an unknown enum variant, an unknown wire
//! enum value or an invalid conversation id is an error, as with the derives.

use chorus_proto::constants::{AllowType, SessionType, UnknownValue};

use chorus_proto::msgjson::{
    self, FieldSink, Fields, FromJson, Json, JsonError, ListOut, Out, ToJson, With, WriteFields,
};

use super::{
    Announcement, Content, Conversation, ConversationId, Friend, Group, Member, Message,
    MessageStatus, Seq, User,
};

/// The members of a struct's object; `null` reads as an object without members, so every field
/// takes its zero value.
pub(crate) fn members(value: Json) -> Result<Fields, JsonError> {
    let value = match value {
        Json::Null => Json::Obj(Vec::new()),
        value => value,
    };
    Fields::open(value)?.ok_or_else(|| JsonError::from_display("expected an object"))
}

/// A wire enum stored as its integer (what the derives' `wire_i32` writes).
fn wire<T>(value: Json, convert: fn(i32) -> Result<T, UnknownValue>) -> Result<T, JsonError> {
    convert(i32::from_json(value)?).map_err(JsonError::from_display)
}

/// A [`SessionType`] stored as its integer.
fn session_type(value: Json) -> Result<SessionType, JsonError> {
    wire(value, SessionType::try_from)
}

/// An [`AllowType`] stored as its integer.
fn allow_type(value: Json) -> Result<AllowType, JsonError> {
    wire(value, AllowType::try_from)
}

/// The error of a tag that names no variant of `what`.
fn unknown_variant(tag: &str, what: &str, expected: &str) -> JsonError {
    JsonError::from_display(format!(
        "unknown variant `{tag}` of {what}, expected one of {expected}"
    ))
}

macro_rules! written_as_object {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn to_out(&self) -> Out<'_> {
                Out::Msg(self)
            }
        }
    )*};
}

written_as_object!(
    Message,
    Conversation,
    User,
    Friend,
    Announcement,
    Group,
    Member
);

impl ToJson for ConversationId {
    fn to_out(&self) -> Out<'_> {
        Out::Str(&self.0)
    }
}

impl FromJson for ConversationId {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        ConversationId::parse(String::from_json(value)?).map_err(JsonError::from_display)
    }
}

impl ToJson for Seq {
    fn to_out(&self) -> Out<'_> {
        Out::U64(self.0)
    }
}

impl FromJson for Seq {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        u64::from_json(value).map(Seq)
    }
}

/// Bytes written as an array of numbers, as serde writes a `Vec<u8>`.
struct ByteList<'a>(&'a [u8]);

impl ListOut for ByteList<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn each(&self, f: &mut dyn FnMut(Out<'_>)) {
        for byte in self.0 {
            f(Out::U32(u32::from(*byte)));
        }
    }
}

/// Bytes read from an array of numbers (`null` is empty).
fn byte_list(value: Json) -> Result<Vec<u8>, JsonError> {
    let items = match value {
        Json::Null => return Ok(Vec::new()),
        Json::List(items) => items,
        other => {
            return Err(JsonError::from_display(format!(
                "invalid type: {}, expected an array of bytes",
                other.kind()
            )))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let n = u32::from_json(item)?;
        let byte = u8::try_from(n)
            .map_err(|_| JsonError::from_display(format!("byte {n} out of range")))?;
        out.push(byte);
    }
    Ok(out)
}

impl ToJson for Content {
    fn to_out(&self) -> Out<'_> {
        Out::Msg(self)
    }
}

impl WriteFields for Content {
    fn field_count(&self) -> usize {
        1
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        match self {
            Content::Text(text) => sink.field("Text", Out::Str(text)),
            Content::Raw(bytes) => sink.field("Raw", Out::List(&ByteList(bytes))),
        }
    }
}

impl FromJson for Content {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let (tag, value) = msgjson::variant(value, "Content")?;
        match tag.as_str() {
            "Text" => String::from_json(value).map(Content::Text),
            "Raw" => byte_list(value).map(Content::Raw),
            _ => Err(unknown_variant(&tag, "Content", "`Text`, `Raw`")),
        }
    }
}

/// The fields of [`MessageStatus::Failed`].
struct FailedFields {
    code: i32,
}

impl WriteFields for FailedFields {
    fn field_count(&self) -> usize {
        1
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("code", Out::I32(self.code));
    }
}

/// The fields of [`MessageStatus::Revoked`].
struct RevokedFields<'a> {
    by: &'a str,
    role: i32,
    nickname: &'a str,
    time: i64,
}

impl WriteFields for RevokedFields<'_> {
    fn field_count(&self) -> usize {
        4
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("by", Out::Str(self.by));
        sink.field("role", Out::I32(self.role));
        sink.field("nickname", Out::Str(self.nickname));
        sink.field("time", Out::I64(self.time));
    }
}

impl ToJson for MessageStatus {
    fn to_out(&self) -> Out<'_> {
        match self {
            MessageStatus::Sending => Out::Str("Sending"),
            MessageStatus::Sent => Out::Str("Sent"),
            MessageStatus::Deleted => Out::Str("Deleted"),
            MessageStatus::Filtered => Out::Str("Filtered"),
            MessageStatus::Failed { .. } | MessageStatus::Revoked { .. } => Out::Msg(self),
        }
    }
}

/// The tagged object of the variants with fields (unit variants are written as strings).
impl WriteFields for MessageStatus {
    fn field_count(&self) -> usize {
        usize::from(matches!(
            self,
            MessageStatus::Failed { .. } | MessageStatus::Revoked { .. }
        ))
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        match self {
            MessageStatus::Failed { code } => {
                sink.field("Failed", Out::Msg(&FailedFields { code: *code }));
            }
            MessageStatus::Revoked {
                by,
                role,
                nickname,
                time,
            } => sink.field(
                "Revoked",
                Out::Msg(&RevokedFields {
                    by,
                    role: *role,
                    nickname,
                    time: *time,
                }),
            ),
            MessageStatus::Sending
            | MessageStatus::Sent
            | MessageStatus::Deleted
            | MessageStatus::Filtered => {}
        }
    }
}

impl FromJson for MessageStatus {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let (tag, value) = msgjson::variant(value, "MessageStatus")?;
        Ok(match tag.as_str() {
            "Sending" => MessageStatus::Sending,
            "Sent" => MessageStatus::Sent,
            "Deleted" => MessageStatus::Deleted,
            "Filtered" => MessageStatus::Filtered,
            "Failed" => {
                let mut code: i32 = 0;
                msgjson::read_struct(value, &["code"], &mut [&mut code])?;
                MessageStatus::Failed { code }
            }
            "Revoked" => {
                let (mut by, mut role, mut nickname, mut time) =
                    (String::new(), 0i32, String::new(), 0i64);
                msgjson::read_struct(
                    value,
                    &["by", "role", "nickname", "time"],
                    &mut [&mut by, &mut role, &mut nickname, &mut time],
                )?;
                MessageStatus::Revoked {
                    by,
                    role,
                    nickname,
                    time,
                }
            }
            _ => {
                return Err(unknown_variant(
                    &tag,
                    "MessageStatus",
                    "`Sending`, `Sent`, `Failed`, `Deleted`, `Filtered`, `Revoked`",
                ))
            }
        })
    }
}

/// The keys of [`Message`], in declaration order.
const MESSAGE_KEYS: &[&str] = &[
    "conversation_id",
    "seq",
    "client_msg_id",
    "server_msg_id",
    "send_id",
    "recv_id",
    "group_id",
    "sender_platform_id",
    "sender_nickname",
    "sender_face_url",
    "session_type",
    "msg_from",
    "content_type",
    "content",
    "send_time",
    "create_time",
    "status",
    "is_read",
    "options",
    "at_user_ids",
    "attached_info",
    "ex",
];

impl WriteFields for Message {
    fn field_count(&self) -> usize {
        MESSAGE_KEYS.len()
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        msgjson::write_each(
            sink,
            MESSAGE_KEYS,
            &[
                &self.conversation_id,
                &self.seq,
                &self.client_msg_id,
                &self.server_msg_id,
                &self.send_id,
                &self.recv_id,
                &self.group_id,
                &self.sender_platform_id,
                &self.sender_nickname,
                &self.sender_face_url,
                &self.session_type.as_i32(),
                &self.msg_from,
                &self.content_type,
                &self.content,
                &self.send_time,
                &self.create_time,
                &self.status,
                &self.is_read,
                &self.options,
                &self.at_user_ids,
                &self.attached_info,
                &self.ex,
            ],
        );
    }
}

impl FromJson for Message {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        // Every field is overwritten below (or the read fails).
        let mut m = Message::blank();
        msgjson::read_struct(
            value,
            MESSAGE_KEYS,
            &mut [
                &mut m.conversation_id,
                &mut m.seq,
                &mut m.client_msg_id,
                &mut m.server_msg_id,
                &mut m.send_id,
                &mut m.recv_id,
                &mut m.group_id,
                &mut m.sender_platform_id,
                &mut m.sender_nickname,
                &mut m.sender_face_url,
                &mut With {
                    slot: &mut m.session_type,
                    read: session_type,
                },
                &mut m.msg_from,
                &mut m.content_type,
                &mut m.content,
                &mut m.send_time,
                &mut m.create_time,
                &mut m.status,
                &mut m.is_read,
                &mut m.options,
                &mut m.at_user_ids,
                &mut m.attached_info,
                &mut m.ex,
            ],
        )?;
        Ok(m)
    }
}

/// The keys of [`Conversation`], in declaration order.
const CONVERSATION_KEYS: &[&str] = &[
    "id",
    "conversation_type",
    "user_id",
    "group_id",
    "recv_msg_opt",
    "is_pinned",
    "is_private_chat",
    "burn_duration",
    "group_at_type",
    "attached_info",
    "ex",
    "min_seq",
    "max_seq",
    "has_read_seq",
    "latest_message",
];

impl WriteFields for Conversation {
    fn field_count(&self) -> usize {
        CONVERSATION_KEYS.len()
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        msgjson::write_each(
            sink,
            CONVERSATION_KEYS,
            &[
                &self.id,
                &self.conversation_type.as_i32(),
                &self.user_id,
                &self.group_id,
                &self.recv_msg_opt,
                &self.is_pinned,
                &self.is_private_chat,
                &self.burn_duration,
                &self.group_at_type,
                &self.attached_info,
                &self.ex,
                &self.min_seq,
                &self.max_seq,
                &self.has_read_seq,
                &self.latest_message,
            ],
        );
    }
}

impl FromJson for Conversation {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        // Every field is overwritten below (or the read fails).
        let mut m = Conversation::new(ConversationId(String::new()));
        msgjson::read_struct(
            value,
            CONVERSATION_KEYS,
            &mut [
                &mut m.id,
                &mut With {
                    slot: &mut m.conversation_type,
                    read: session_type,
                },
                &mut m.user_id,
                &mut m.group_id,
                &mut m.recv_msg_opt,
                &mut m.is_pinned,
                &mut m.is_private_chat,
                &mut m.burn_duration,
                &mut m.group_at_type,
                &mut m.attached_info,
                &mut m.ex,
                &mut m.min_seq,
                &mut m.max_seq,
                &mut m.has_read_seq,
                &mut m.latest_message,
            ],
        )?;
        Ok(m)
    }
}

/// The keys of [`User`], in declaration order.
const USER_KEYS: &[&str] = &[
    "user_id",
    "nickname",
    "face_url",
    "ex",
    "create_time",
    "app_manager_level",
    "global_recv_msg_opt",
];

impl WriteFields for User {
    fn field_count(&self) -> usize {
        USER_KEYS.len()
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        msgjson::write_each(
            sink,
            USER_KEYS,
            &[
                &self.user_id,
                &self.nickname,
                &self.face_url,
                &self.ex,
                &self.create_time,
                &self.app_manager_level,
                &self.global_recv_msg_opt,
            ],
        );
    }
}

impl FromJson for User {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        // Every field is overwritten below (or the read fails).
        let mut m = User::default();
        msgjson::read_struct(
            value,
            USER_KEYS,
            &mut [
                &mut m.user_id,
                &mut m.nickname,
                &mut m.face_url,
                &mut m.ex,
                &mut m.create_time,
                &mut m.app_manager_level,
                &mut m.global_recv_msg_opt,
            ],
        )?;
        Ok(m)
    }
}

/// The keys of [`Friend`], in declaration order.
const FRIEND_KEYS: &[&str] = &[
    "owner_user_id",
    "user",
    "remark",
    "create_time",
    "add_source",
    "operator_user_id",
    "ex",
    "is_pinned",
];

impl WriteFields for Friend {
    fn field_count(&self) -> usize {
        FRIEND_KEYS.len()
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        msgjson::write_each(
            sink,
            FRIEND_KEYS,
            &[
                &self.owner_user_id,
                &self.user,
                &self.remark,
                &self.create_time,
                &self.add_source,
                &self.operator_user_id,
                &self.ex,
                &self.is_pinned,
            ],
        );
    }
}

impl FromJson for Friend {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        // Every field is overwritten below (or the read fails).
        let mut m = Friend::default();
        msgjson::read_struct(
            value,
            FRIEND_KEYS,
            &mut [
                &mut m.owner_user_id,
                &mut m.user,
                &mut m.remark,
                &mut m.create_time,
                &mut m.add_source,
                &mut m.operator_user_id,
                &mut m.ex,
                &mut m.is_pinned,
            ],
        )?;
        Ok(m)
    }
}

/// The keys of [`Announcement`], in declaration order.
const ANNOUNCEMENT_KEYS: &[&str] = &["text", "editor_user_id", "updated_at"];

impl WriteFields for Announcement {
    fn field_count(&self) -> usize {
        ANNOUNCEMENT_KEYS.len()
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        msgjson::write_each(
            sink,
            ANNOUNCEMENT_KEYS,
            &[&self.text, &self.editor_user_id, &self.updated_at],
        );
    }
}

impl FromJson for Announcement {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        // Every field is overwritten below (or the read fails).
        let mut m = Announcement::default();
        msgjson::read_struct(
            value,
            ANNOUNCEMENT_KEYS,
            &mut [&mut m.text, &mut m.editor_user_id, &mut m.updated_at],
        )?;
        Ok(m)
    }
}

/// The keys of [`Group`], in declaration order.
const GROUP_KEYS: &[&str] = &[
    "group_id",
    "name",
    "announcement",
    "introduction",
    "face_url",
    "owner_user_id",
    "creator_user_id",
    "create_time",
    "member_count",
    "ex",
    "status",
    "group_type",
    "need_verification",
    "look_member_info",
    "apply_member_friend",
    "history_for_new_members",
];

impl WriteFields for Group {
    fn field_count(&self) -> usize {
        GROUP_KEYS.len()
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        msgjson::write_each(
            sink,
            GROUP_KEYS,
            &[
                &self.group_id,
                &self.name,
                &self.announcement,
                &self.introduction,
                &self.face_url,
                &self.owner_user_id,
                &self.creator_user_id,
                &self.create_time,
                &self.member_count,
                &self.ex,
                &self.status,
                &self.group_type,
                &self.need_verification,
                &self.look_member_info.as_i32(),
                &self.apply_member_friend.as_i32(),
                &self.history_for_new_members,
            ],
        );
    }
}

impl FromJson for Group {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        // Every field is overwritten below (or the read fails).
        let mut m = Group {
            group_id: String::new(),
            name: String::new(),
            announcement: Announcement::default(),
            introduction: String::new(),
            face_url: String::new(),
            owner_user_id: String::new(),
            creator_user_id: String::new(),
            create_time: 0,
            member_count: 0,
            ex: String::new(),
            status: 0,
            group_type: 0,
            need_verification: 0,
            look_member_info: AllowType::Allowed,
            apply_member_friend: AllowType::Allowed,
            history_for_new_members: None,
        };
        msgjson::read_struct(
            value,
            GROUP_KEYS,
            &mut [
                &mut m.group_id,
                &mut m.name,
                &mut m.announcement,
                &mut m.introduction,
                &mut m.face_url,
                &mut m.owner_user_id,
                &mut m.creator_user_id,
                &mut m.create_time,
                &mut m.member_count,
                &mut m.ex,
                &mut m.status,
                &mut m.group_type,
                &mut m.need_verification,
                &mut With {
                    slot: &mut m.look_member_info,
                    read: allow_type,
                },
                &mut With {
                    slot: &mut m.apply_member_friend,
                    read: allow_type,
                },
                &mut m.history_for_new_members,
            ],
        )?;
        Ok(m)
    }
}

/// The keys of [`Member`], in declaration order.
const MEMBER_KEYS: &[&str] = &[
    "group_id",
    "user_id",
    "role_level",
    "join_time",
    "nickname",
    "face_url",
    "app_manager_level",
    "join_source",
    "operator_user_id",
    "inviter_user_id",
    "ex",
    "mute_end_time",
];

impl WriteFields for Member {
    fn field_count(&self) -> usize {
        MEMBER_KEYS.len()
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        msgjson::write_each(
            sink,
            MEMBER_KEYS,
            &[
                &self.group_id,
                &self.user_id,
                &self.role_level,
                &self.join_time,
                &self.nickname,
                &self.face_url,
                &self.app_manager_level,
                &self.join_source,
                &self.operator_user_id,
                &self.inviter_user_id,
                &self.ex,
                &self.mute_end_time,
            ],
        );
    }
}

impl FromJson for Member {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        // Every field is overwritten below (or the read fails).
        let mut m = Member::default();
        msgjson::read_struct(
            value,
            MEMBER_KEYS,
            &mut [
                &mut m.group_id,
                &mut m.user_id,
                &mut m.role_level,
                &mut m.join_time,
                &mut m.nickname,
                &mut m.face_url,
                &mut m.app_manager_level,
                &mut m.join_source,
                &mut m.operator_user_id,
                &mut m.inviter_user_id,
                &mut m.ex,
                &mut m.mute_end_time,
            ],
        )?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use chorus_proto::pb::Map;

    use chorus_proto::msgjson::{from_text, to_text, FromJson, ToJson};
    use proptest::prelude::*;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use super::*;
    use crate::entities::RevokedInfo;

    /// One value of each model type the npm package shapes into official objects, under the
    /// names `tests/fixtures/model-json.json` gives their JSON.
    fn package_samples() -> Vec<(&'static str, Box<dyn ToJson>)> {
        use crate::model::{msg, Content, Conversation, ConversationId, Friend, Group, Member};
        use crate::model::{MessageStatus, Seq, User};
        use chorus_proto::pb::sdkws::GroupInfo;
        let mut text = msg()
            .conv("si_me_1_you_2")
            .seq(7)
            .text("hi \"there\" \u{1F600}\n</b>")
            .build();
        text.send_id = "you_2".into();
        text.recv_id = "me_1".into();
        text.sender_nickname = "You".into();
        text.sender_face_url = "https://example.invalid/y.png".into();
        text.send_time = 1_700_000_000_123;
        text.create_time = 1_700_000_000_100;
        let mut notification = msg().conv("sg_g1").seq(8).build();
        notification.content_type = 1501;
        notification.content = Content::Raw(br#"{"detail":"{\"group\":{}}"}"#.to_vec());
        let mut raw = msg().conv("si_a_b").seq(9).build();
        raw.content_type = 102;
        raw.content = Content::Raw(vec![b'x', 0xff, b'y']);
        raw.create_time = -3;
        let mut revoked = msg()
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
        revoked.send_id = "u2".into();
        revoked.sender_nickname = "Bo".into();
        revoked.send_time = 1_699_999_999_000;
        let failed = msg()
            .conv("sg_g1")
            .text("x")
            .status(MessageStatus::Failed { code: 1302 })
            .build();
        let mut single = Conversation::new(ConversationId::single("me_1", "you_2"));
        single.latest_message = Some(text.clone());
        single.max_seq = Seq(9);
        single.has_read_seq = Seq(4);
        single.is_pinned = true;
        let mut group_chat = Conversation::new(ConversationId::group("g1"));
        group_chat.has_read_seq = Seq(5);
        let user = User {
            user_id: "u1".into(),
            nickname: "Ann".into(),
            face_url: "https://example.invalid/a.png".into(),
            ex: "{}".into(),
            create_time: 1_700_000_000_000,
            app_manager_level: -1,
            global_recv_msg_opt: 2,
        };
        let friend = Friend {
            owner_user_id: "u0".into(),
            user: user.clone(),
            remark: "Annie".into(),
            create_time: 1_600_000_000_000,
            add_source: 3,
            operator_user_id: "u0".into(),
            ex: "fx".into(),
            is_pinned: true,
        };
        let mut group = Group::try_from(GroupInfo {
            group_id: "g1".into(),
            group_name: "Team \"A\"".into(),
            notification: "Read the rules".into(),
            notification_user_id: "owner".into(),
            notification_update_time: 1_700_000_000_500,
            introduction: "intro".into(),
            face_url: "https://example.invalid/g.png".into(),
            owner_user_id: "owner".into(),
            creator_user_id: "owner".into(),
            create_time: 1_600_000_000_000,
            member_count: 3,
            group_type: 2,
            need_verification: 1,
            look_member_info: 1,
            apply_member_friend: 1,
            ex: "gx".into(),
            ..Default::default()
        })
        .expect("a valid group");
        group.history_for_new_members = Some(false);
        let open_group = Group::try_from(GroupInfo {
            group_id: "g2".into(),
            ..Default::default()
        })
        .expect("a valid group");
        let member = Member {
            group_id: "g1".into(),
            user_id: "u2".into(),
            role_level: 60,
            join_time: 1_650_000_000_000,
            nickname: "Bo".into(),
            face_url: "https://example.invalid/b.png".into(),
            app_manager_level: 0,
            join_source: 2,
            operator_user_id: "owner".into(),
            inviter_user_id: "owner".into(),
            ex: "mx".into(),
            mute_end_time: 1_800_000_000_000,
        };
        let revocation = RevokedInfo {
            conversation_id: ConversationId::single("a", "b"),
            seq: Seq(9),
            client_msg_id: "c9".into(),
            revoker_user_id: "a".into(),
            revoker_role: 0,
            revoker_nickname: "Al".into(),
            revoke_time: 1_700_000_000_900,
            is_admin_revoke: true,
        };
        vec![
            ("text", Box::new(text)),
            ("notification", Box::new(notification)),
            ("raw", Box::new(raw)),
            ("revoked", Box::new(revoked)),
            ("failed", Box::new(failed)),
            ("single", Box::new(single)),
            ("group_chat", Box::new(group_chat)),
            ("user", Box::new(user)),
            ("friend", Box::new(friend)),
            ("group", Box::new(group)),
            ("open_group", Box::new(open_group)),
            ("member", Box::new(member)),
            ("revocation", Box::new(revocation)),
        ]
    }

    /// The npm package's tests shape these samples (tests/sdk-api/official.test.mjs): the
    /// fixture must stay the JSON the engine writes.
    #[test]
    fn the_package_fixture_is_the_model_json() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/model-json.json"
        );
        let text = std::fs::read_to_string(path).expect("reading tests/fixtures/model-json.json");
        let fixture: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        let samples = package_samples();
        for (name, value) in &samples {
            let written: serde_json::Value =
                serde_json::from_str(&to_text(value.as_ref())).expect("model JSON");
            assert_eq!(fixture["samples"][name], written, "{name}");
        }
        let names = fixture["samples"].as_object().expect("samples").len();
        assert_eq!(
            names,
            samples.len(),
            "the fixture has samples the test does not make"
        );
    }

    /// Our text is the derive's text, and the derive's text reads back as the value.
    fn same_as_serde<T>(value: &T)
    where
        T: ToJson + FromJson + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let theirs = serde_json::to_string(value).unwrap();
        assert_eq!(to_text(value), theirs);
        assert_eq!(&from_text::<T>(&theirs).unwrap(), value);
    }

    fn text() -> impl Strategy<Value = String> {
        // Any characters, quotes, backslashes and controls included (escaping).
        prop_oneof![any::<String>(), "[a-z\"\\\\\u{0}-\u{1f}\u{7f}é😀]{0,12}"]
    }

    fn conversation_id() -> impl Strategy<Value = ConversationId> {
        (
            prop::sample::select(vec!["si_", "sg_", "sn_", "g_", "n_"]),
            "[^\u{0}]{1,10}",
        )
            .prop_map(|(prefix, rest)| ConversationId::parse(format!("{prefix}{rest}")).unwrap())
    }

    fn seq() -> impl Strategy<Value = Seq> {
        prop_oneof![any::<u64>(), 0..1000u64].prop_map(Seq)
    }

    fn content() -> impl Strategy<Value = Content> {
        prop_oneof![
            text().prop_map(Content::Text),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(Content::Raw),
        ]
    }

    fn status() -> impl Strategy<Value = MessageStatus> {
        prop_oneof![
            Just(MessageStatus::Sending),
            Just(MessageStatus::Sent),
            Just(MessageStatus::Deleted),
            Just(MessageStatus::Filtered),
            any::<i32>().prop_map(|code| MessageStatus::Failed { code }),
            (text(), any::<i32>(), text(), any::<i64>()).prop_map(|(by, role, nickname, time)| {
                MessageStatus::Revoked {
                    by,
                    role,
                    nickname,
                    time,
                }
            }),
        ]
    }

    fn session_type() -> impl Strategy<Value = SessionType> {
        prop::sample::select(SessionType::ALL)
    }

    fn allow_type() -> impl Strategy<Value = AllowType> {
        prop::sample::select(AllowType::ALL)
    }

    prop_compose! {
        fn message()(
            ids in (conversation_id(), seq(), text(), text(), text(), text(), text()),
            sender in (any::<i32>(), text(), text(), session_type(), any::<i32>(), any::<i32>()),
            body in (content(), any::<i64>(), any::<i64>(), status(), any::<bool>()),
            rest in (
                prop::collection::btree_map(text(), any::<bool>(), 0..4),
                prop::collection::vec(text(), 0..4),
                text(),
                text(),
            ),
        ) -> Message {
            let (conversation_id, seq, client_msg_id, server_msg_id, send_id, recv_id, group_id) =
                ids;
            let (sender_platform_id, sender_nickname, sender_face_url, session_type, msg_from,
                content_type) = sender;
            let (content, send_time, create_time, status, is_read) = body;
            let (options, at_user_ids, attached_info, ex) = rest;
            Message {
                conversation_id, seq, client_msg_id, server_msg_id, send_id, recv_id, group_id,
                sender_platform_id, sender_nickname, sender_face_url, session_type, msg_from,
                content_type, content, send_time, create_time, status, is_read,
                options: options.into_iter().collect(),
                at_user_ids, attached_info, ex,
            }
        }
    }

    prop_compose! {
        fn conversation()(
            head in (conversation_id(), session_type(), text(), text(), any::<i32>()),
            flags in (any::<bool>(), any::<bool>(), any::<i32>(), any::<i32>(), text(), text()),
            seqs in (seq(), seq(), seq()),
            latest_message in prop::option::of(message()),
        ) -> Conversation {
            let (id, conversation_type, user_id, group_id, recv_msg_opt) = head;
            let (is_pinned, is_private_chat, burn_duration, group_at_type, attached_info, ex) =
                flags;
            let (min_seq, max_seq, has_read_seq) = seqs;
            Conversation {
                id, conversation_type, user_id, group_id, recv_msg_opt, is_pinned,
                is_private_chat, burn_duration, group_at_type, attached_info, ex, min_seq,
                max_seq, has_read_seq, latest_message,
            }
        }
    }

    prop_compose! {
        fn user()(
            (user_id, nickname, face_url, ex) in (text(), text(), text(), text()),
            (create_time, app_manager_level, global_recv_msg_opt)
                in (any::<i64>(), any::<i32>(), any::<i32>()),
        ) -> User {
            User { user_id, nickname, face_url, ex, create_time, app_manager_level,
                global_recv_msg_opt }
        }
    }

    prop_compose! {
        fn friend()(
            (owner_user_id, user, remark, create_time) in (text(), user(), text(), any::<i64>()),
            (add_source, operator_user_id, ex, is_pinned)
                in (any::<i32>(), text(), text(), any::<bool>()),
        ) -> Friend {
            Friend { owner_user_id, user, remark, create_time, add_source, operator_user_id, ex,
                is_pinned }
        }
    }

    prop_compose! {
        fn group()(
            names in (text(), text(), text(), any::<i64>(), text(), text(), text()),
            times in (any::<i64>(), any::<u32>(), text(), any::<i32>(), any::<i32>(), any::<i32>()),
            flags in (allow_type(), allow_type(), prop::option::of(any::<bool>())),
        ) -> Group {
            let (group_id, name, text, updated_at, editor_user_id, introduction, face_url) = names;
            let (create_time, member_count, ex, status, group_type, need_verification) = times;
            let (look_member_info, apply_member_friend, history_for_new_members) = flags;
            Group {
                group_id, name,
                announcement: Announcement { text, editor_user_id, updated_at },
                introduction, face_url,
                owner_user_id: "owner".into(),
                creator_user_id: String::new(),
                create_time, member_count, ex, status, group_type, need_verification,
                look_member_info, apply_member_friend, history_for_new_members,
            }
        }
    }

    prop_compose! {
        fn member()(
            ids in (text(), text(), any::<i32>(), any::<i64>(), text(), text()),
            rest in (any::<i32>(), any::<i32>(), text(), text(), text(), any::<i64>()),
        ) -> Member {
            let (group_id, user_id, role_level, join_time, nickname, face_url) = ids;
            let (app_manager_level, join_source, operator_user_id, inviter_user_id, ex,
                mute_end_time) = rest;
            Member { group_id, user_id, role_level, join_time, nickname, face_url,
                app_manager_level, join_source, operator_user_id, inviter_user_id, ex,
                mute_end_time }
        }
    }

    prop_compose! {
        fn revoked_info()(
            (conversation_id, seq, client_msg_id, revoker_user_id)
                in (conversation_id(), seq(), text(), text()),
            (revoker_role, revoker_nickname, revoke_time, is_admin_revoke)
                in (any::<i32>(), text(), any::<i64>(), any::<bool>()),
        ) -> RevokedInfo {
            RevokedInfo { conversation_id, seq, client_msg_id, revoker_user_id, revoker_role,
                revoker_nickname, revoke_time, is_admin_revoke }
        }
    }

    proptest! {
        #[test]
        fn scalars_match_serde(id in conversation_id(), seq in seq(), content in content(),
            status in status()) {
            same_as_serde(&id);
            same_as_serde(&seq);
            same_as_serde(&content);
            same_as_serde(&status);
        }

        #[test]
        fn messages_match_serde(message in message()) {
            same_as_serde(&message);
            same_as_serde(&vec![message]);
        }

        #[test]
        fn conversations_match_serde(conversation in conversation()) {
            same_as_serde(&conversation);
        }

        #[test]
        fn people_match_serde(user in user(), friend in friend(), member in member()) {
            same_as_serde(&user);
            same_as_serde(&friend);
            same_as_serde(&member);
        }

        #[test]
        fn groups_match_serde(group in group()) {
            same_as_serde(&group);
        }

        #[test]
        fn revocations_match_serde(info in revoked_info()) {
            same_as_serde(&info);
        }

        /// Members in another order, with unknown members among them, read the same.
        #[test]
        fn member_order_and_unknown_members_do_not_matter(message in message(), seed in any::<u64>()) {
            let Json::Obj(mut members) = Json::parse(&serde_json::to_string(&message).unwrap())
                .unwrap() else { panic!("a message is an object") };
            members.push(("unknown".to_owned(), Json::List(vec![Json::Null])));
            // A deterministic shuffle from the seed.
            let mut state = seed;
            for i in (1..members.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                members.swap(i, (state >> 33) as usize % (i + 1));
            }
            let text = Json::Obj(members).to_text();
            prop_assert_eq!(from_text::<Message>(&text).unwrap(), message.clone());
            let theirs: Message = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(theirs, message);
        }
    }

    #[test]
    fn missing_and_null_fields_read_as_zero() {
        let friend: Friend =
            from_text(r#"{"owner_user_id":"me","user":null,"remark":null}"#).unwrap();
        assert_eq!(
            friend,
            Friend {
                owner_user_id: "me".into(),
                ..Friend::default()
            }
        );
        let group: Group = from_text(r#"{"group_id":"g1"}"#).unwrap();
        assert_eq!(group.group_id, "g1");
        assert_eq!(group.look_member_info, AllowType::Allowed);
        assert_eq!(group.history_for_new_members, None);
        let conversation: Conversation =
            from_text(r#"{"id":"sg_g1","conversation_type":3,"group_id":"g1"}"#).unwrap();
        assert_eq!(conversation, Conversation::new(ConversationId::group("g1")));
    }

    #[test]
    fn rows_of_the_previous_version_read() {
        // As serde_json wrote them, and as stored records come back through JSON.stringify.
        let text = r#"{"conversation_id":"si_a_b","seq":3,"client_msg_id":"c","server_msg_id":"",
            "send_id":"a","recv_id":"b","group_id":"","sender_platform_id":5,
            "sender_nickname":"A","sender_face_url":"","session_type":1,"msg_from":100,
            "content_type":1501,"content":{"Raw":[123,125]},"send_time":-1,"create_time":2,
            "status":{"Revoked":{"by":"a","role":0,"nickname":"","time":9}},"is_read":true,
            "options":{"x":false,"a":true},"at_user_ids":["b"],"attached_info":"","ex":"e"}"#;
        let ours: Message = from_text(text).unwrap();
        let theirs: Message = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours.content, Content::Raw(b"{}".to_vec()));
        assert_eq!(
            ours.options,
            Map::from([("a".to_owned(), true), ("x".to_owned(), false)])
        );
        for (text, status) in [
            (r#""Sending""#, MessageStatus::Sending),
            (r#"{"Sent":null}"#, MessageStatus::Sent),
            (
                r#"{"Failed":{"code":7}}"#,
                MessageStatus::Failed { code: 7 },
            ),
        ] {
            assert_eq!(from_text::<MessageStatus>(text).unwrap(), status);
            assert_eq!(serde_json::from_str::<MessageStatus>(text).unwrap(), status);
        }
    }

    #[test]
    fn invalid_values_are_errors() {
        for text in [
            r#"{"id":"x_1","conversation_type":3}"#,
            r#"{"id":"sg_g1","conversation_type":9}"#,
            r#"{"id":"sg_g1","conversation_type":3,"id":"sg_g2"}"#,
            r#"{"id":"sg_g1","conversation_type":"3"}"#,
            r#"[1]"#,
        ] {
            assert!(from_text::<Conversation>(text).is_err(), "{text}");
            assert!(
                serde_json::from_str::<Conversation>(text).is_err(),
                "{text}"
            );
        }
        for text in [
            r#""Pending""#,
            r#"{"Failed":{"code":1},"Sent":null}"#,
            r#"{"Failed":{"code":"1"}}"#,
            "7",
        ] {
            assert!(from_text::<MessageStatus>(text).is_err(), "{text}");
            assert!(
                serde_json::from_str::<MessageStatus>(text).is_err(),
                "{text}"
            );
        }
        for text in [
            r#"{"Raw":[256]}"#,
            r#"{"Raw":[-1]}"#,
            r#"{"Html":"x"}"#,
            "null",
        ] {
            assert!(from_text::<Content>(text).is_err(), "{text}");
            assert!(serde_json::from_str::<Content>(text).is_err(), "{text}");
        }
        let err = from_text::<Group>(r#"{"look_member_info":4}"#).unwrap_err();
        assert!(err.to_string().contains("look_member_info"), "{err}");
        assert!(from_text::<Seq>("-1").is_err());
    }
}
