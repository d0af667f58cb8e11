//! Cross-codec conformance of chorus-proto against OpenIM's published JavaScript codec,
//! `@openim/protocol` 0.0.7 (pinned by `tests/interop/package-lock.json`).
//!
//! Every message type of our schema is found by walking `chorus_proto::pb::FILE_DESCRIPTOR_SET`,
//! and [`REGISTRY`] maps each one to its Rust type. For each type the suite builds a sample value
//! with every field set to a non-default value (plus the all-default value), then:
//!
//! * **Rust → JS**: prost encodes the sample, the JS codec decodes it, and every decoded field must
//!   equal ours;
//! * **JS → Rust**: the JS codec encodes the same sample, prost decodes it, and the result must
//!   equal the sample; where neither side lost a field, both codecs must produce the same bytes;
//! * **declarations**: field names and coarse types (string, number, boolean, bytes, enum, message,
//!   repeated, map) must match the interface the package's TypeScript declarations state. This is
//!   the only JS-side check for the many types the package ships no runtime codec for (notification
//!   tips among them, which travel as JSON keyed by exactly these names).
//!
//! Where the package departs from the OpenIM Go protocol that our schema follows (spec §3), the
//! departure is listed in [`DIFFERENCES`] with its reason. The suite fails on any difference not
//! listed, and on a listed one that no longer occurs, so the list stays true. [`WITHOUT_JS_CODEC`]
//! and [`ABSENT_FROM_JS`] record, the same way, which of our types the package cannot exercise.
//!
//! Node really runs `tests/interop/codec.mjs` over the installed package; `cargo xtask test`
//! installs it first (`npm ci --prefix tests/interop`). This suite never mocks the JS side and fails
//! when node or the package is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use chorus_proto::pb;
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};
use serde_json::{json, Map, Value};

/// The package version the lock file pins; the node report must name it.
const JS_PACKAGE: (&str, &str) = ("@openim/protocol", "0.0.7");

// =================================================================================================
// Registry: every message type of the schema and its Rust type.
// =================================================================================================

/// JSON (Go `encoding/json` form) and protobuf conversions of one Rust message type.
struct Entry {
    /// Full protobuf name, e.g. `openim.sdkws.MsgData`.
    name: &'static str,
    /// JSON → value → protobuf bytes.
    encode: fn(&Value) -> Result<Vec<u8>, String>,
    /// protobuf bytes → value → JSON.
    decode: fn(&[u8]) -> Result<Value, String>,
    /// JSON of the default value.
    empty: fn() -> Result<Value, String>,
}

fn encode_json<T: chorus_proto::pb::Message + serde::de::DeserializeOwned>(
    json: &Value,
) -> Result<Vec<u8>, String> {
    let value: T = serde_json::from_value(json.clone())
        .map_err(|err| format!("JSON does not deserialise: {err}"))?;
    Ok(value.encode_to_vec())
}

fn decode_json<T: chorus_proto::pb::Message + Default + serde::Serialize>(
    bytes: &[u8],
) -> Result<Value, String> {
    let value = T::decode(bytes).map_err(|err| format!("protobuf does not decode: {err}"))?;
    serde_json::to_value(&value).map_err(|err| format!("value does not serialise: {err}"))
}

fn empty_json<T: Default + serde::Serialize>() -> Result<Value, String> {
    serde_json::to_value(T::default()).map_err(|err| format!("default does not serialise: {err}"))
}

/// `registry! { "proto.package" => rust_module [Type, RustType = "ProtoName", …], … }` builds
/// [`REGISTRY`]; the `= "ProtoName"` form is for names prost spells differently (`FromToUserId`).
macro_rules! proto_name {
    ($package:literal, $ty:ident) => {
        concat!($package, ".", stringify!($ty))
    };
    ($package:literal, $ty:ident, $proto:literal) => {
        concat!($package, ".", $proto)
    };
}

macro_rules! registry {
    ($($package:literal => $module:ident [$($ty:ident $(= $proto:literal)?),* $(,)?]),* $(,)?) => {
        /// Every message type of the schema (map entries excepted: they have no Rust type).
        const REGISTRY: &[Entry] = &[$($(Entry {
            name: proto_name!($package, $ty $(, $proto)?),
            encode: encode_json::<pb::$module::$ty>,
            decode: decode_json::<pb::$module::$ty>,
            empty: empty_json::<pb::$module::$ty>,
        },)*)*];
    };
}

registry! {
    "openim.protobuf" => protobuf [
        DoubleValue, FloatValue, Int64Value, UInt64Value, Int32Value, UInt32Value, BoolValue,
        StringValue, BytesValue,
    ],
    "openim.sdkws" => sdkws [
        // Entities.
        GroupInfo, GroupInfoForSet, GroupMemberFullInfo, PublicUserInfo, UserInfo, UserInfoWithEx,
        FriendInfo, BlackInfo, GroupRequest, FriendRequest, RequestPagination,
        // Messages and gateway payloads.
        OfflinePushInfo, MsgData, GetMaxSeqReq, GetMaxSeqResp, SeqRange, PullMessageBySeqsReq,
        PullMsgs, PullMessageBySeqsResp, PushMessages, UserSendMsgResp, SetAppBackgroundStatusReq,
        SetAppBackgroundStatusResp, SubUserOnlineStatus, SubUserOnlineStatusElem,
        SubUserOnlineStatusTips, NotificationElem,
        // Group tips.
        GroupCreatedTips, GroupInfoSetTips, GroupInfoSetNameTips, GroupInfoSetAnnouncementTips,
        JoinGroupApplicationTips, MemberQuitTips, GroupApplicationAcceptedTips,
        GroupApplicationRejectedTips, GroupOwnerTransferredTips, MemberKickedTips,
        MemberInvitedTips, MemberEnterTips, GroupDismissedTips, GroupMemberMutedTips,
        GroupMemberCancelMutedTips, GroupMutedTips, GroupCancelMutedTips, GroupMemberInfoSetTips,
        // Friend and user tips.
        FromToUserId = "FromToUserID", FriendApplicationTips, FriendApplicationApprovedTips,
        FriendApplicationRejectedTips, FriendAddedTips, FriendDeletedTips, BlackAddedTips,
        BlackDeletedTips, FriendInfoChangedTips, FriendsInfoUpdateTips, UserInfoUpdatedTips,
        UserStatusChangeTips,
        // Conversation and message tips.
        ConversationUpdateTips, ConversationSetPrivateTips, ConversationHasReadTips,
        ClearConversationTips, ConversationDeleteTips, RevokeMsgTips, MessageRevokedContent,
        DeleteMsgsTips, MarkAsReadTips,
    ],
    "openim.msg" => msg [
        SendMsgResp, ConversationSeqs, GetSeqMessageReq, GetSeqMessageResp,
        GetConversationsHasReadAndMaxSeqReq, Seqs, GetConversationsHasReadAndMaxSeqResp,
        GetLastMessageReq, GetLastMessageResp,
    ],
    "openim.push" => push [DelUserPushTokenReq, DelUserPushTokenResp],
    "openim.conversation" => conversation [Conversation],
}

// =================================================================================================
// What the package does differently, and what it cannot exercise.
// =================================================================================================

/// How a field of the JS package departs from our schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    /// Our field does not exist in the JS type: its codec skips the field when decoding and
    /// cannot encode it, so the value is lost on a trip through JS.
    MissingInJs,
    /// The JS type has a field our schema (the Go protocol) lacks. It must decode as its default
    /// from our bytes; the JS encoder never writes it for such values.
    JsOnly,
    /// For an empty packed repeated number field the JS encoder writes a zero-length entry (tag,
    /// then length 0) where prost writes nothing. Both decode it as the empty list, so only the
    /// bytes differ.
    EmptyPackedEntry,
}

/// One documented departure of `@openim/protocol` from our schema.
struct Difference {
    /// Full protobuf name of the message type.
    message: &'static str,
    field: &'static str,
    gap: Gap,
    reason: &'static str,
}

/// Every field-level departure of the package from our schema.
const DIFFERENCES: &[Difference] = &[
    // --- Fields the package adds.
    Difference {
        message: "openim.sdkws.MsgData",
        field: "keyVersion",
        gap: Gap::JsOnly,
        reason: "field 40 of the package's encryption extension; absent from the Go protocol on \
                 every branch and ignored by servers (spec §3.1)",
    },
    Difference {
        message: "openim.sdkws.MsgData",
        field: "dstUserIDs",
        gap: Gap::JsOnly,
        reason: "field 41 of the package's encryption extension; absent from the Go protocol on \
                 every branch and ignored by servers (spec §3.1)",
    },
    Difference {
        message: "openim.sdkws.GroupInfo",
        field: "displayIsRead",
        gap: Gap::JsOnly,
        reason: "field 18 (bool) in the package; the protocol's GroupInfo has fields 1-17 only \
                 (spec §3.5), so servers never send it and a JS client reads false",
    },
    Difference {
        message: "openim.sdkws.GroupInfoForSet",
        field: "displayIsRead",
        gap: Gap::JsOnly,
        reason: "declared by the package (BoolValue); the protocol's GroupInfoForSet ends at \
                 applyMemberFriend = 9 (spec §3.5)",
    },
    // --- Protocol fields the package predates (spec §3.2, §3.3, §3.6).
    Difference {
        message: "openim.sdkws.PullMsgs",
        field: "endSeq",
        gap: Gap::MissingInJs,
        reason: "field 3 is newer than the package; a JS client cannot see where a pulled range \
                 ended",
    },
    Difference {
        message: "openim.msg.GetSeqMessageReq",
        field: "order",
        gap: Gap::MissingInJs,
        reason: "field 3 is newer than the package; a JS client can only pull in ascending order",
    },
    Difference {
        message: "openim.msg.GetConversationsHasReadAndMaxSeqReq",
        field: "returnPinned",
        gap: Gap::MissingInJs,
        reason: "field 3 is newer than the package (and ignored by 3.8.3 servers)",
    },
    Difference {
        message: "openim.msg.GetConversationsHasReadAndMaxSeqResp",
        field: "pinnedConversationIDs",
        gap: Gap::MissingInJs,
        reason: "field 2 is newer than the package; a JS client drops the pinned list",
    },
    Difference {
        message: "openim.msg.SendMsgResp",
        field: "modify",
        gap: Gap::MissingInJs,
        reason: "field 4 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.JoinGroupApplicationTips",
        field: "uuid",
        gap: Gap::MissingInJs,
        reason: "tips field 4 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.JoinGroupApplicationTips",
        field: "request",
        gap: Gap::MissingInJs,
        reason: "tips field 5 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.GroupApplicationAcceptedTips",
        field: "uuid",
        gap: Gap::MissingInJs,
        reason: "tips field 6 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.GroupApplicationAcceptedTips",
        field: "request",
        gap: Gap::MissingInJs,
        reason: "tips field 7 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.GroupApplicationRejectedTips",
        field: "uuid",
        gap: Gap::MissingInJs,
        reason: "tips field 6 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.GroupApplicationRejectedTips",
        field: "request",
        gap: Gap::MissingInJs,
        reason: "tips field 7 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.FriendApplicationTips",
        field: "request",
        gap: Gap::MissingInJs,
        reason: "tips field 2 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.FriendApplicationApprovedTips",
        field: "request",
        gap: Gap::MissingInJs,
        reason: "tips field 5 is newer than the package's declaration",
    },
    Difference {
        message: "openim.sdkws.FriendApplicationRejectedTips",
        field: "request",
        gap: Gap::MissingInJs,
        reason: "tips field 3 is newer than the package's declaration",
    },
    // --- Encoding only.
    Difference {
        message: "openim.sdkws.SubUserOnlineStatusElem",
        field: "onlinePlatformIDs",
        gap: Gap::EmptyPackedEntry,
        reason: "the package writes `12 00` for an empty list; same value, one entry more",
    },
    Difference {
        message: "openim.msg.ConversationSeqs",
        field: "seqs",
        gap: Gap::EmptyPackedEntry,
        reason: "the package writes `1a 00` for an empty list; same value, one entry more",
    },
];

/// Our types that the package declares but ships no runtime codec for: `PbCoder` only covers the
/// payloads its own SDK encodes and decodes. They are checked against the declarations only.
const WITHOUT_JS_CODEC: &[&str] = &[
    "openim.msg.SendMsgResp",
    "openim.protobuf.BoolValue",
    "openim.protobuf.BytesValue",
    "openim.protobuf.DoubleValue",
    "openim.protobuf.FloatValue",
    "openim.protobuf.Int32Value",
    "openim.protobuf.Int64Value",
    "openim.protobuf.StringValue",
    "openim.protobuf.UInt32Value",
    "openim.protobuf.UInt64Value",
    "openim.sdkws.BlackAddedTips",
    "openim.sdkws.BlackDeletedTips",
    "openim.sdkws.BlackInfo",
    "openim.sdkws.ClearConversationTips",
    "openim.sdkws.ConversationHasReadTips",
    "openim.sdkws.ConversationSetPrivateTips",
    "openim.sdkws.ConversationUpdateTips",
    "openim.sdkws.DeleteMsgsTips",
    "openim.sdkws.FriendAddedTips",
    "openim.sdkws.FriendApplicationApprovedTips",
    "openim.sdkws.FriendApplicationRejectedTips",
    "openim.sdkws.FriendApplicationTips",
    "openim.sdkws.FriendDeletedTips",
    "openim.sdkws.FriendInfo",
    "openim.sdkws.FriendInfoChangedTips",
    "openim.sdkws.FriendRequest",
    "openim.sdkws.FriendsInfoUpdateTips",
    "openim.sdkws.FromToUserID",
    "openim.sdkws.GetMaxSeqReq",
    "openim.sdkws.GroupApplicationAcceptedTips",
    "openim.sdkws.GroupApplicationRejectedTips",
    "openim.sdkws.GroupCancelMutedTips",
    "openim.sdkws.GroupCreatedTips",
    "openim.sdkws.GroupDismissedTips",
    "openim.sdkws.GroupInfoForSet",
    "openim.sdkws.GroupInfoSetAnnouncementTips",
    "openim.sdkws.GroupInfoSetNameTips",
    "openim.sdkws.GroupInfoSetTips",
    "openim.sdkws.GroupMemberCancelMutedTips",
    "openim.sdkws.GroupMemberInfoSetTips",
    "openim.sdkws.GroupMemberMutedTips",
    "openim.sdkws.GroupMutedTips",
    "openim.sdkws.GroupOwnerTransferredTips",
    "openim.sdkws.GroupRequest",
    "openim.sdkws.JoinGroupApplicationTips",
    "openim.sdkws.MarkAsReadTips",
    "openim.sdkws.MemberEnterTips",
    "openim.sdkws.MemberInvitedTips",
    "openim.sdkws.MemberKickedTips",
    "openim.sdkws.MemberQuitTips",
    "openim.sdkws.MessageRevokedContent",
    "openim.sdkws.NotificationElem",
    "openim.sdkws.RequestPagination",
    "openim.sdkws.RevokeMsgTips",
    "openim.sdkws.SetAppBackgroundStatusReq",
    "openim.sdkws.UserInfoUpdatedTips",
    "openim.sdkws.UserInfoWithEx",
    "openim.sdkws.UserStatusChangeTips",
];

/// Our types the package does not declare at all, with the reason; nothing on the JS side to
/// compare them with.
const ABSENT_FROM_JS: &[(&str, &str)] = &[
    (
        "openim.msg.GetLastMessageReq",
        "newer than the package (the SDK fetches last messages over REST)",
    ),
    ("openim.msg.GetLastMessageResp", "as GetLastMessageReq"),
    (
        "openim.push.DelUserPushTokenReq",
        "the package declares no `openim.push` types (logout, WS 2003)",
    ),
    ("openim.push.DelUserPushTokenResp", "as DelUserPushTokenReq"),
    (
        "openim.sdkws.ConversationDeleteTips",
        "newer than the package",
    ),
];

// =================================================================================================
// Schema: the descriptor set, reduced to what sampling and comparing need.
// =================================================================================================

/// The type of a single value (a field's element type for lists and maps).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    String,
    Bytes,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Float,
    Double,
    /// Full protobuf name of the enum.
    Enum(String),
    /// Full protobuf name of the message.
    Message(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    Single,
    Repeated,
    /// A map; the field's [`Kind`] is the value type.
    Map {
        key: Kind,
    },
}

#[derive(Clone, Debug)]
struct Field {
    /// The proto field name: our JSON key and the JS property name.
    name: String,
    number: i32,
    shape: Shape,
    kind: Kind,
}

#[derive(Clone, Debug)]
struct MessageType {
    full_name: String,
    /// `<package>.<TS name>`: nested types are joined with `_` (`openim.sdkws.MsgData_OptionsEntry`).
    js_key: String,
    fields: Vec<Field>,
    /// Wrapper messages (`openim.protobuf.*Value`) are bare scalars in JSON.
    wrapper: bool,
}

#[derive(Clone, Debug)]
struct EnumType {
    js_key: String,
    values: Vec<i32>,
}

#[derive(Debug)]
struct Schema {
    /// Message types by full name, map entries excluded.
    messages: BTreeMap<String, MessageType>,
    enums: BTreeMap<String, EnumType>,
}

const WRAPPER_PACKAGE: &str = "openim.protobuf";

impl Schema {
    fn load() -> Schema {
        let set = FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET)
            .expect("chorus_proto::pb::FILE_DESCRIPTOR_SET is not a FileDescriptorSet");
        // First pass: every message and enum by full name, nested ones included.
        let mut raw: BTreeMap<String, (String, String, &DescriptorProto)> = BTreeMap::new();
        let mut enums = BTreeMap::new();
        for file in &set.file {
            let package = file.package().to_owned();
            for message in &file.message_type {
                collect(&package, &package, None, message, &mut raw, &mut enums);
            }
            for enumeration in &file.enum_type {
                enums.insert(
                    format!("{package}.{}", enumeration.name()),
                    EnumType {
                        js_key: format!("{package}.{}", enumeration.name()),
                        values: enumeration.value.iter().map(|v| v.number()).collect(),
                    },
                );
            }
        }
        let is_map_entry = |name: &str| {
            raw.get(name)
                .and_then(|(_, _, d)| d.options.as_ref())
                .is_some_and(|o| o.map_entry())
        };
        let mut messages = BTreeMap::new();
        for (full_name, (package, js_key, descriptor)) in &raw {
            if is_map_entry(full_name) {
                continue;
            }
            let fields = descriptor
                .field
                .iter()
                .map(|field| {
                    let where_ = format!("{full_name}.{}", field.name());
                    assert!(
                        field.oneof_index.is_none(),
                        "{where_}: oneof/optional fields are not covered by this suite"
                    );
                    let kind = kind_of(field.r#type(), field.type_name(), &where_);
                    let (shape, kind) = match (field.label(), &kind) {
                        (Label::Repeated, Kind::Message(entry)) if is_map_entry(entry) => {
                            let (_, _, entry) = &raw[entry];
                            let [key, value] = &entry.field[..] else {
                                panic!("{where_}: map entry without key and value");
                            };
                            (
                                Shape::Map {
                                    key: kind_of(key.r#type(), key.type_name(), &where_),
                                },
                                kind_of(value.r#type(), value.type_name(), &where_),
                            )
                        }
                        (Label::Repeated, _) => (Shape::Repeated, kind),
                        _ => (Shape::Single, kind),
                    };
                    Field {
                        name: field.name().to_owned(),
                        number: field.number(),
                        shape,
                        kind,
                    }
                })
                .collect();
            messages.insert(
                full_name.clone(),
                MessageType {
                    full_name: full_name.clone(),
                    js_key: js_key.clone(),
                    fields,
                    wrapper: package == WRAPPER_PACKAGE,
                },
            );
        }
        Schema { messages, enums }
    }

    fn message(&self, name: &str) -> &MessageType {
        self.messages
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not a message type of the schema"))
    }

    /// The JS simple name (the TS identifier) of a message or enum: its key minus the package.
    fn js_name(&self, kind: &Kind) -> String {
        let key = match kind {
            Kind::Message(name) => &self.message(name).js_key,
            Kind::Enum(name) => &self.enums[name].js_key,
            _ => unreachable!("only messages and enums have names"),
        };
        key.rsplit('.').next().unwrap_or(key).to_owned()
    }

    /// The field's type in the coarse vocabulary the declarations can express.
    fn coarse(&self, field: &Field) -> String {
        let element = match &field.kind {
            Kind::Bool => "boolean".to_owned(),
            Kind::String => "string".to_owned(),
            Kind::Bytes => "bytes".to_owned(),
            Kind::Int32
            | Kind::Int64
            | Kind::Uint32
            | Kind::Uint64
            | Kind::Float
            | Kind::Double => "number".to_owned(),
            kind @ Kind::Enum(_) => format!("enum:{}", self.js_name(kind)),
            kind @ Kind::Message(_) => format!("message:{}", self.js_name(kind)),
        };
        match field.shape {
            Shape::Single => element,
            Shape::Repeated => format!("repeated:{element}"),
            Shape::Map { .. } => format!("map:{element}"),
        }
    }

    /// The value of a field after decoding nothing, in our JSON form.
    fn default_json(&self, field: &Field) -> Value {
        match field.shape {
            Shape::Repeated => json!([]),
            Shape::Map { .. } => json!({}),
            Shape::Single => match &field.kind {
                Kind::Bool => json!(false),
                Kind::String | Kind::Bytes => json!(""),
                Kind::Message(_) => Value::Null,
                _ => json!(0),
            },
        }
    }
}

/// Records `message` (and its nested types) under its full name with its JS key.
fn collect<'a>(
    package: &str,
    scope: &str,
    js_parent: Option<&str>,
    message: &'a DescriptorProto,
    raw: &mut BTreeMap<String, (String, String, &'a DescriptorProto)>,
    enums: &mut BTreeMap<String, EnumType>,
) {
    let full_name = format!("{scope}.{}", message.name());
    let js_key = match js_parent {
        Some(parent) => format!("{parent}_{}", message.name()),
        None => format!("{package}.{}", message.name()),
    };
    for nested in &message.nested_type {
        collect(package, &full_name, Some(&js_key), nested, raw, enums);
    }
    for enumeration in &message.enum_type {
        enums.insert(
            format!("{full_name}.{}", enumeration.name()),
            EnumType {
                js_key: format!("{js_key}_{}", enumeration.name()),
                values: enumeration.value.iter().map(|v| v.number()).collect(),
            },
        );
    }
    raw.insert(full_name, (package.to_owned(), js_key, message));
}

fn kind_of(ty: Type, type_name: &str, where_: &str) -> Kind {
    let referenced = || type_name.trim_start_matches('.').to_owned();
    match ty {
        Type::Bool => Kind::Bool,
        Type::String => Kind::String,
        Type::Bytes => Kind::Bytes,
        Type::Int32 | Type::Sint32 | Type::Sfixed32 => Kind::Int32,
        Type::Int64 | Type::Sint64 | Type::Sfixed64 => Kind::Int64,
        Type::Uint32 | Type::Fixed32 => Kind::Uint32,
        Type::Uint64 | Type::Fixed64 => Kind::Uint64,
        Type::Float => Kind::Float,
        Type::Double => Kind::Double,
        Type::Enum => Kind::Enum(referenced()),
        Type::Message => Kind::Message(referenced()),
        Type::Group => panic!("{where_}: groups are not part of proto3"),
    }
}

// =================================================================================================
// Samples: values with every field set, in our JSON form.
// =================================================================================================

/// Nesting deeper than this means a recursive schema; the sampler refuses rather than emit `null`.
const MAX_DEPTH: usize = 8;

/// Builds deterministic sample values; `next` makes every scalar distinct across one sample.
struct Sampler<'a> {
    schema: &'a Schema,
    next: i64,
}

impl Sampler<'_> {
    fn sample(schema: &Schema, message: &str) -> Value {
        Sampler { schema, next: 0 }.message(message, 0)
    }

    fn message(&mut self, name: &str, depth: usize) -> Value {
        assert!(
            depth < MAX_DEPTH,
            "{name}: nested more than {MAX_DEPTH} levels deep (recursive schema?)"
        );
        let message = self.schema.message(name);
        if message.wrapper {
            let field = &message.fields[0];
            return self.scalar(&field.kind, &message.full_name, depth);
        }
        let mut object = Map::new();
        for field in &message.fields {
            let value = match &field.shape {
                Shape::Single => self.scalar(&field.kind, &field.name, depth),
                Shape::Repeated => Value::Array(
                    (0..2)
                        .map(|_| self.scalar(&field.kind, &field.name, depth))
                        .collect(),
                ),
                Shape::Map { key } => {
                    let mut map = Map::new();
                    for i in 1..=2 {
                        let key = match self.scalar(key, &format!("{}-key{i}", field.name), depth) {
                            Value::String(text) => text,
                            other => other.to_string(),
                        };
                        map.insert(key, self.scalar(&field.kind, &field.name, depth));
                    }
                    Value::Object(map)
                }
            };
            object.insert(field.name.clone(), value);
        }
        Value::Object(object)
    }

    /// A non-default value of `kind`. Integers stay within ±2^53 so that the JS codec (which
    /// decodes 64-bit integers to `number`) represents them exactly; 64-bit ones exceed 2^32.
    fn scalar(&mut self, kind: &Kind, label: &str, depth: usize) -> Value {
        self.next += 1;
        let n = self.next;
        match kind {
            Kind::Bool => json!(true),
            Kind::String => json!(format!("{label}-{n}-ü")),
            Kind::Bytes => {
                let bytes = [0x00, 0xff, (n & 0xff) as u8, b'z'];
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            Kind::Int32 if n % 2 == 0 => json!(1_000 + n),
            Kind::Int32 => json!(-(1_000 + n)),
            Kind::Int64 if n % 2 == 0 => json!((1_i64 << 40) + n),
            Kind::Int64 => json!(-((1_i64 << 36) + n)),
            Kind::Uint32 => json!(3_000_000_000_i64 + n),
            Kind::Uint64 => json!((1_i64 << 45) + n),
            Kind::Float | Kind::Double => json!(n as f64 + 0.5),
            Kind::Enum(name) => {
                let value = self.schema.enums[name].values.iter().copied().max();
                match value {
                    Some(value) if value != 0 => json!(value),
                    _ => panic!("{label}: enum {name} has no non-zero value to sample"),
                }
            }
            Kind::Message(name) => self.message(name, depth + 1),
        }
    }
}

/// Lists every field of `value` (a sample of `message`) left at its default; empty if none.
fn unset_fields(schema: &Schema, message: &str, value: &Value, path: &str) -> Vec<String> {
    let message = schema.message(message);
    let mut unset = Vec::new();
    if message.wrapper {
        if is_default_scalar(value) {
            unset.push(path.to_owned());
        }
        return unset;
    }
    for field in &message.fields {
        let path = format!("{path}.{}", field.name);
        let value = &value[&field.name];
        let elements: Vec<&Value> = match (&field.shape, value) {
            (Shape::Single, value) => vec![value],
            (Shape::Repeated, Value::Array(items)) if !items.is_empty() => items.iter().collect(),
            (Shape::Map { .. }, Value::Object(map)) if !map.is_empty() => map.values().collect(),
            _ => {
                unset.push(path);
                continue;
            }
        };
        for element in elements {
            match (&field.kind, element) {
                (Kind::Message(name), Value::Object(_)) => {
                    unset.extend(unset_fields(schema, name, element, &path));
                }
                (Kind::Message(name), value) if schema.message(name).wrapper => {
                    unset.extend(unset_fields(schema, name, value, &path));
                }
                (_, value) if is_default_scalar(value) => unset.push(path.clone()),
                _ => {}
            }
        }
    }
    unset
}

fn is_default_scalar(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
    }
}

// =================================================================================================
// The "js form": the JSON `codec.mjs` exchanges (see the header of that script).
// =================================================================================================

/// Our JSON of a `message` value → the js form (bytes tagged, messages typed, wrappers as objects).
fn to_js(schema: &Schema, message: &str, value: &Value) -> Value {
    let message = schema.message(message);
    if value.is_null() {
        return Value::Null;
    }
    let mut object = Map::new();
    object.insert("$type".to_owned(), json!(message.js_key));
    if message.wrapper {
        object.insert(
            "value".to_owned(),
            kind_to_js(schema, &message.fields[0].kind, value),
        );
        return Value::Object(object);
    }
    for field in &message.fields {
        let value = &value[&field.name];
        let converted = match (&field.shape, value) {
            (Shape::Repeated, Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|item| kind_to_js(schema, &field.kind, item))
                    .collect(),
            ),
            (Shape::Map { .. }, Value::Object(map)) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), kind_to_js(schema, &field.kind, v)))
                    .collect(),
            ),
            _ => kind_to_js(schema, &field.kind, value),
        };
        // An unset message is `undefined` for the JS codec: leave the key out.
        if !converted.is_null() {
            object.insert(field.name.clone(), converted);
        }
    }
    Value::Object(object)
}

fn kind_to_js(schema: &Schema, kind: &Kind, value: &Value) -> Value {
    match (kind, value) {
        (Kind::Message(name), value) => to_js(schema, name, value),
        (Kind::Bytes, Value::String(text)) => json!({ "$bytes": text }),
        (_, value) => value.clone(),
    }
}

/// Which comparison a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    /// prost encoded, the JS codec decoded.
    RustToJs,
    /// The JS codec encoded, prost decoded.
    JsToRust,
    /// Our schema against the package's TypeScript declarations.
    Declarations,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::RustToJs => "rust→js",
            Direction::JsToRust => "js→rust",
            Direction::Declarations => "d.ts",
        })
    }
}

#[derive(Clone, Debug)]
enum What {
    /// Our field has no JS counterpart.
    MissingInJs,
    /// The JS value has a field our schema lacks.
    JsOnly { value: Value },
    /// Both sides have the field, with different values (or coarse types, for declarations).
    Mismatch { ours: Value, theirs: Value },
    /// Both codecs accept the value but write different bytes.
    BytesDiffer { ours: String, theirs: String },
    /// A codec failed outright.
    Failed(String),
}

/// One observed difference, named by the message type and field it concerns.
#[derive(Clone, Debug)]
struct Finding {
    direction: Direction,
    message: String,
    field: String,
    /// Where in the sample the field sits, e.g. `openim.sdkws.PushMessages.msgs["k"].Msgs[0]`.
    path: String,
    what: What,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Finding {
            direction,
            message,
            field,
            path,
            what,
        } = self;
        write!(f, "[{direction}] {message}.{field} (at {path}): ")?;
        match what {
            What::MissingInJs => write!(f, "our field does not exist in the JS type"),
            What::JsOnly { value } if *direction == Direction::Declarations => {
                write!(f, "JS-only field, declared as {value}")
            }
            What::JsOnly { value } => write!(f, "JS-only field, JS value {value}"),
            What::Mismatch { ours, theirs } => write!(f, "ours {ours}, JS {theirs}"),
            What::BytesDiffer { ours, theirs } => {
                write!(f, "same value, different bytes: ours {ours}, JS {theirs}")
            }
            What::Failed(error) => write!(f, "{error}"),
        }
    }
}

/// Collects findings while walking values along the schema.
struct Walker<'a> {
    schema: &'a Schema,
    direction: Direction,
    findings: Vec<Finding>,
}

impl Walker<'_> {
    fn note(&mut self, message: &str, field: &str, path: &str, what: What) {
        self.findings.push(Finding {
            direction: self.direction,
            message: message.to_owned(),
            field: field.to_owned(),
            path: path.to_owned(),
            what,
        });
    }

    /// A JS-decoded `message` value (js form) → our JSON form. Fields the JS value lacks are left
    /// out (and noted); JS-only fields are noted and dropped.
    fn read_js(&mut self, message: &str, js: &Value, path: &str) -> Value {
        let message = self.schema.message(message);
        if js.is_null() {
            return Value::Null;
        }
        let Value::Object(object) = js else {
            self.note(
                &message.full_name,
                "*",
                path,
                What::Failed(format!("expected an object, JS gave {js}")),
            );
            return Value::Null;
        };
        if message.wrapper {
            let field = &message.fields[0];
            return match object.get(&field.name) {
                Some(value) => self.read_js_element(message, field, value, path),
                None => {
                    self.note(&message.full_name, &field.name, path, What::MissingInJs);
                    Value::Null
                }
            };
        }
        let mut ours = Map::new();
        for field in &message.fields {
            let Some(value) = object.get(&field.name) else {
                self.note(&message.full_name, &field.name, path, What::MissingInJs);
                continue;
            };
            let path = format!("{path}.{}", field.name);
            let converted = match (&field.shape, value) {
                (Shape::Repeated, Value::Array(items)) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            self.read_js_element(message, field, item, &format!("{path}[{i}]"))
                        })
                        .collect(),
                ),
                (Shape::Map { .. }, Value::Object(map)) => Value::Object(
                    map.iter()
                        .map(|(k, v)| {
                            let at = format!("{path}[{k:?}]");
                            (k.clone(), self.read_js_element(message, field, v, &at))
                        })
                        .collect(),
                ),
                (Shape::Single, value) => self.read_js_element(message, field, value, &path),
                // Wrong container: keep the JS value so the comparison reports it.
                (_, value) => value.clone(),
            };
            ours.insert(field.name.clone(), converted);
        }
        for (key, value) in object {
            if !message.fields.iter().any(|f| &f.name == key) {
                let what = What::JsOnly {
                    value: value.clone(),
                };
                self.note(&message.full_name, key, path, what);
            }
        }
        Value::Object(ours)
    }

    fn read_js_element(
        &mut self,
        message: &MessageType,
        field: &Field,
        js: &Value,
        path: &str,
    ) -> Value {
        match (&field.kind, js) {
            (Kind::Message(name), js) => self.read_js(name, js, path),
            (Kind::Bytes, Value::Object(tagged)) => match tagged.get("$bytes") {
                Some(Value::String(text)) => json!(canonical_base64(text)),
                _ => js.clone(),
            },
            (Kind::Bytes, other) => {
                let what = What::Failed(format!("bytes field decoded to {other}"));
                self.note(&message.full_name, &field.name, path, what);
                Value::Null
            }
            (_, js) => js.clone(),
        }
    }

    /// Compares two values of `message` in our JSON form. Fields `actual` lacks were noted by
    /// [`Walker::read_js`] already and are skipped.
    fn compare(&mut self, message: &str, expected: &Value, actual: &Value, path: &str) {
        let message = self.schema.message(message);
        if message.wrapper || expected.is_null() || actual.is_null() {
            if !same_scalar(expected, actual) {
                let what = What::Mismatch {
                    ours: expected.clone(),
                    theirs: actual.clone(),
                };
                self.note(&message.full_name, "*", path, what);
            }
            return;
        }
        for field in &message.fields {
            let Some(theirs) = actual.get(&field.name) else {
                // Noted by `read_js` when JS lacks the field; our own JSON always has every key.
                if self.direction != Direction::RustToJs {
                    let what = What::Failed("key missing from our JSON".to_owned());
                    self.note(&message.full_name, &field.name, path, what);
                }
                continue;
            };
            let ours = &expected[&field.name];
            let at = format!("{path}.{}", field.name);
            match (&field.shape, ours, theirs) {
                (Shape::Repeated, Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
                    for (i, (a, b)) in a.iter().zip(b).enumerate() {
                        self.compare_kind(message, field, a, b, path, &format!("{at}[{i}]"));
                    }
                }
                (Shape::Map { .. }, Value::Object(a), Value::Object(b))
                    if a.keys().eq(b.keys()) =>
                {
                    for (k, a) in a {
                        self.compare_kind(message, field, a, &b[k], path, &format!("{at}[{k:?}]"));
                    }
                }
                (Shape::Single, ours, theirs) => {
                    self.compare_kind(message, field, ours, theirs, path, &at);
                }
                _ => {
                    let what = What::Mismatch {
                        ours: ours.clone(),
                        theirs: theirs.clone(),
                    };
                    self.note(&message.full_name, &field.name, path, what);
                }
            }
        }
    }

    /// Compares one element of `field`; `path` locates the message, `at` the element.
    fn compare_kind(
        &mut self,
        message: &MessageType,
        field: &Field,
        ours: &Value,
        theirs: &Value,
        path: &str,
        at: &str,
    ) {
        match &field.kind {
            // Wrappers are scalars in our JSON: compared as such, reported at this field.
            Kind::Message(name)
                if !ours.is_null() && !theirs.is_null() && !self.schema.message(name).wrapper =>
            {
                self.compare(name, ours, theirs, at);
            }
            _ if same_scalar(ours, theirs) => {}
            _ => {
                let what = What::Mismatch {
                    ours: ours.clone(),
                    theirs: theirs.clone(),
                };
                self.note(&message.full_name, &field.name, path, what);
            }
        }
    }
}

/// Scalar equality with numbers compared by value (`1` and `1.0` are the same number).
fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => a == b,
                _ => a.as_f64() == b.as_f64(),
            },
        },
        _ => a == b,
    }
}

/// Re-encodes base64 text with the standard padded alphabet, so that spelling differences between
/// encoders do not count as value differences. Text that is not base64 is kept as it is.
fn canonical_base64(text: &str) -> String {
    let engine = &base64::engine::general_purpose::STANDARD;
    match engine.decode(text) {
        Ok(bytes) => engine.encode(bytes),
        Err(_) => text.to_owned(),
    }
}

/// Top-level entries of protobuf bytes (tag included) grouped by field number, in order.
fn wire_entries(bytes: &[u8]) -> Result<BTreeMap<u64, Vec<u8>>, String> {
    fn varint(bytes: &[u8], pos: &mut usize) -> Result<u64, String> {
        let mut value = 0_u64;
        for shift in (0..64).step_by(7) {
            let byte = *bytes.get(*pos).ok_or("truncated varint")?;
            *pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes".to_owned())
    }
    let mut entries: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let tag = varint(bytes, &mut pos)?;
        let skip = match tag & 7 {
            0 => varint(bytes, &mut pos).map(|_| 0)?,
            1 => 8,
            2 => usize::try_from(varint(bytes, &mut pos)?).map_err(|err| err.to_string())?,
            5 => 4,
            wire => return Err(format!("wire type {wire} at byte {start}")),
        };
        pos = pos
            .checked_add(skip)
            .filter(|&end| end <= bytes.len())
            .ok_or("truncated entry")?;
        entries
            .entry(tag >> 3)
            .or_default()
            .extend_from_slice(&bytes[start..pos]);
    }
    Ok(entries)
}

/// Names the fields whose entries differ between two encodings of the same value.
fn byte_differences(message: &MessageType, ours: &[u8], theirs: &[u8]) -> Vec<(String, What)> {
    let whole = || {
        let what = What::BytesDiffer {
            ours: hex::encode(ours),
            theirs: hex::encode(theirs),
        };
        vec![("*".to_owned(), what)]
    };
    let (Ok(a), Ok(b)) = (wire_entries(ours), wire_entries(theirs)) else {
        return whole();
    };
    let numbers: BTreeSet<u64> = a.keys().chain(b.keys()).copied().collect();
    let mut differences = Vec::new();
    for number in numbers {
        let (x, y) = (a.get(&number), b.get(&number));
        if x == y {
            continue;
        }
        let name = message
            .fields
            .iter()
            .find(|f| u64::try_from(f.number) == Ok(number))
            .map_or_else(|| format!("#{number}"), |f| f.name.clone());
        let what = What::BytesDiffer {
            ours: x.map(hex::encode).unwrap_or_default(),
            theirs: y.map(hex::encode).unwrap_or_default(),
        };
        differences.push((name, what));
    }
    if differences.is_empty() {
        // Same entries in another order.
        return whole();
    }
    differences
}

/// True if `hex` is exactly one length-delimited entry of length zero.
fn is_empty_len_entry(hex: &str) -> bool {
    let Ok(bytes) = hex::decode(hex) else {
        return false;
    };
    match bytes.split_last() {
        Some((0, tag)) => {
            wire_entries(&bytes).is_ok_and(|entries| entries.len() == 1)
                && tag.first().is_some_and(|first| first & 7 == 2)
        }
        _ => false,
    }
}

// =================================================================================================
// Node.
// =================================================================================================

/// What `codec.mjs` reported.
#[derive(Debug)]
struct NodeReport {
    package: (String, String),
    /// JS keys with a runtime codec.
    codecs: BTreeSet<String>,
    /// Declared interfaces: JS key → field → coarse type.
    declarations: BTreeMap<String, BTreeMap<String, String>>,
    /// Case id → result object.
    results: BTreeMap<String, Value>,
}

/// One value sent through both codecs.
struct Case {
    id: String,
    message: &'static str,
    /// Our JSON form.
    json: Value,
    /// prost's encoding of `json`.
    bytes: Vec<u8>,
}

const HOW_TO_INSTALL: &str = "run `cargo xtask test`, or `npm ci --prefix tests/interop` by hand";

fn run_node(schema: &Schema, cases: &[Case]) -> Result<NodeReport, String> {
    let dir = chorus_e2e::repo_root().join("tests").join("interop");
    let installed = dir
        .join("node_modules")
        .join("@openim")
        .join("protocol")
        .join("package.json");
    if !installed.is_file() {
        return Err(format!(
            "{} is missing: the JS package is not installed ({HOW_TO_INSTALL})",
            installed.display()
        ));
    }
    let request = json!({
        "cases": cases.iter().map(|case| json!({
            "id": case.id,
            "type": schema.message(case.message).js_key,
            "hex": hex::encode(&case.bytes),
            "input": to_js(schema, case.message, &case.json),
        })).collect::<Vec<_>>(),
    });
    let body = serde_json::to_vec(&request).map_err(|err| err.to_string())?;
    let mut child = Command::new("node")
        .arg("codec.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| {
            format!("cannot run `node` ({err}): install Node.js 18 or later, then {HOW_TO_INSTALL}")
        })?;
    let mut stdin = child.stdin.take().ok_or("node has no stdin")?;
    // Write from another thread: node's report can fill the stdout pipe before it reads all input.
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let output = child
        .wait_with_output()
        .map_err(|err| format!("waiting for node: {err}"))?;
    writer
        .join()
        .map_err(|_| "stdin writer panicked".to_owned())?
        .map_err(|err| format!("writing the request to node: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "tests/interop/codec.mjs failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let report: Value = serde_json::from_slice(&output.stdout)
        .map_err(|err| format!("codec.mjs printed no JSON report: {err}"))?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let strings = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .map(|items| items.iter().filter_map(text).collect())
            .unwrap_or_default()
    };
    let declarations = report["schema"]
        .as_object()
        .ok_or("report has no schema")?
        .iter()
        .map(|(key, fields)| {
            let fields = fields
                .as_object()
                .map(|fields| {
                    fields
                        .iter()
                        .map(|(name, ty)| (name.clone(), text(ty).unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
            (key.clone(), fields)
        })
        .collect();
    let results = report["results"]
        .as_array()
        .ok_or("report has no results")?
        .iter()
        .map(|result| (text(&result["id"]).unwrap_or_default(), result.clone()))
        .collect();
    Ok(NodeReport {
        package: (
            text(&report["package"]["name"]).unwrap_or_default(),
            text(&report["package"]["version"]).unwrap_or_default(),
        ),
        codecs: strings(&report["codecs"]),
        declarations,
        results,
    })
}

// =================================================================================================
// The suite: run everything once, let each test judge its part.
// =================================================================================================

struct Suite {
    schema: Schema,
    node: NodeReport,
    /// Cases that went through a JS codec.
    exercised: BTreeSet<&'static str>,
    findings: Vec<Finding>,
}

fn suite() -> &'static Suite {
    static SUITE: OnceLock<Result<Suite, String>> = OnceLock::new();
    match SUITE.get_or_init(run_suite) {
        Ok(suite) => suite,
        Err(err) => panic!("{err}"),
    }
}

fn cases(schema: &Schema) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for entry in REGISTRY {
        let samples = [
            ("full", Sampler::sample(schema, entry.name)),
            ("empty", (entry.empty)()?),
        ];
        for (label, json) in samples {
            let bytes =
                (entry.encode)(&json).map_err(|err| format!("{} ({label}): {err}", entry.name))?;
            cases.push(Case {
                id: format!("{}#{label}", entry.name),
                message: entry.name,
                json,
                bytes,
            });
        }
    }
    Ok(cases)
}

fn run_suite() -> Result<Suite, String> {
    let schema = Schema::load();
    let cases = cases(&schema)?;
    let node = run_node(&schema, &cases)?;
    let mut findings = Vec::new();
    let mut exercised = BTreeSet::new();
    for case in &cases {
        let result = node
            .results
            .get(&case.id)
            .ok_or_else(|| format!("node reported nothing for {}", case.id))?;
        let path = case.message;
        match result["status"].as_str() {
            Some("no-codec") => continue,
            Some("ok") => {}
            other => {
                return Err(format!(
                    "{}: unexpected status {other:?} from node",
                    case.id
                ))
            }
        }
        exercised.insert(case.message);
        let entry = REGISTRY
            .iter()
            .find(|e| e.name == case.message)
            .ok_or("case without registry entry")?;

        // Rust → JS: the JS decoding of our bytes, read back into our JSON form, equals the sample.
        let mut to_js = Walker {
            schema: &schema,
            direction: Direction::RustToJs,
            findings: Vec::new(),
        };
        match result.get("decoded") {
            Some(decoded) => {
                let theirs = to_js.read_js(case.message, decoded, path);
                to_js.compare(case.message, &case.json, &theirs, path);
            }
            None => {
                let error = format!("the JS codec cannot decode it: {}", result["decodeError"]);
                to_js.note(case.message, "*", &case.id, What::Failed(error));
            }
        }

        // JS → Rust: our decoding of the JS bytes equals the sample.
        let mut to_rust = Walker {
            schema: &schema,
            direction: Direction::JsToRust,
            findings: Vec::new(),
        };
        let js_bytes = match result["hex"].as_str().map(hex::decode) {
            Some(Ok(bytes)) => bytes,
            other => {
                let error = match other {
                    Some(Err(err)) => format!("the JS codec gave no hex: {err}"),
                    _ => format!("the JS codec cannot encode it: {}", result["encodeError"]),
                };
                to_rust.note(case.message, "*", &case.id, What::Failed(error));
                findings.extend(to_js.findings);
                findings.extend(to_rust.findings);
                continue;
            }
        };
        match (entry.decode)(&js_bytes) {
            Ok(ours) => to_rust.compare(case.message, &case.json, &ours, path),
            Err(err) => to_rust.note(case.message, "*", &case.id, What::Failed(err)),
        }

        // Where neither side lost or added a value, the two encodings must be the same bytes
        // (both write fields in number order and maps in key order).
        let lossless = to_js
            .findings
            .iter()
            .chain(&to_rust.findings)
            .all(|f| matches!(f.what, What::JsOnly { .. }));
        if lossless && case.bytes != js_bytes {
            let message = schema.message(case.message);
            for (field, what) in byte_differences(message, &case.bytes, &js_bytes) {
                to_rust.note(case.message, &field, &case.id, what);
            }
        }
        findings.extend(to_js.findings);
        findings.extend(to_rust.findings);
    }
    findings.extend(declaration_findings(&schema, &node));
    Ok(Suite {
        schema,
        node,
        exercised,
        findings,
    })
}

/// Our schema against the package's declared interfaces, for every type it declares.
fn declaration_findings(schema: &Schema, node: &NodeReport) -> Vec<Finding> {
    let mut walker = Walker {
        schema,
        direction: Direction::Declarations,
        findings: Vec::new(),
    };
    for message in schema.messages.values() {
        let Some(declared) = node.declarations.get(&message.js_key) else {
            continue;
        };
        let path = format!("declared interface {}", message.js_key);
        for field in &message.fields {
            match declared.get(&field.name) {
                None => walker.note(&message.full_name, &field.name, &path, What::MissingInJs),
                Some(theirs) => {
                    let ours = schema.coarse(field);
                    if theirs != &ours {
                        let what = What::Mismatch {
                            ours: json!(ours),
                            theirs: json!(theirs),
                        };
                        walker.note(&message.full_name, &field.name, &path, what);
                    }
                }
            }
        }
        for name in declared.keys() {
            if !message.fields.iter().any(|f| &f.name == name) {
                let what = What::JsOnly {
                    value: json!(declared[name]),
                };
                walker.note(&message.full_name, name, &path, what);
            }
        }
    }
    walker.findings
}

fn documented(message: &str, field: &str, gap: Gap) -> Option<&'static Difference> {
    DIFFERENCES
        .iter()
        .find(|d| d.message == message && d.field == field && d.gap == gap)
}

impl Suite {
    /// The documented difference that explains `finding`, if any.
    fn explanation(&self, finding: &Finding) -> Option<&'static Difference> {
        let field = || {
            self.schema
                .message(&finding.message)
                .fields
                .iter()
                .find(|f| f.name == finding.field)
        };
        match (&finding.direction, &finding.what) {
            (_, What::MissingInJs) => {
                documented(&finding.message, &finding.field, Gap::MissingInJs)
            }
            // A JS-only field never carries a value decoded from our bytes.
            (Direction::RustToJs, What::JsOnly { value }) if !is_default_scalar(value) => None,
            (_, What::JsOnly { .. }) => documented(&finding.message, &finding.field, Gap::JsOnly),
            // A field the JS type lacks comes back from a JS encoding as its default.
            (Direction::JsToRust, What::BytesDiffer { ours, theirs }) => {
                let empty = ours.is_empty() && is_empty_len_entry(theirs);
                documented(&finding.message, &finding.field, Gap::EmptyPackedEntry)
                    .filter(|_| empty)
            }
            (Direction::JsToRust, What::Mismatch { theirs, .. }) => {
                let field = field()?;
                let lost = same_scalar(theirs, &self.schema.default_json(field));
                documented(&finding.message, &finding.field, Gap::MissingInJs).filter(|_| lost)
            }
            _ => None,
        }
    }

    /// Fails with every finding of `direction` no documented difference explains: one line per
    /// type and field (the first place it shows, and how many more), sorted.
    fn assert_no_unexplained(&self, direction: Direction) {
        let mut by_field: BTreeMap<(&str, &str), (&Finding, usize)> = BTreeMap::new();
        for finding in &self.findings {
            if finding.direction == direction && self.explanation(finding).is_none() {
                let key = (finding.message.as_str(), finding.field.as_str());
                by_field.entry(key).or_insert((finding, 0)).1 += 1;
            }
        }
        let lines: Vec<String> = by_field
            .values()
            .map(|(first, count)| match count {
                1 => format!("  {first}"),
                n => format!("  {first} (and {} more places)", n - 1),
            })
            .collect();
        assert!(
            lines.is_empty(),
            "{} field(s) differ between chorus-proto and {} {}; fix the schema, or document the \
             package's departure in DIFFERENCES:\n{}",
            lines.len(),
            JS_PACKAGE.0,
            JS_PACKAGE.1,
            lines.join("\n")
        );
    }
}

// =================================================================================================
// Tests.
// =================================================================================================

#[test]
fn registry_lists_every_message_of_the_schema() {
    let schema = Schema::load();
    let in_schema: BTreeSet<&str> = schema.messages.keys().map(String::as_str).collect();
    let registered: BTreeSet<&str> = REGISTRY.iter().map(|e| e.name).collect();
    assert_eq!(
        registered.len(),
        REGISTRY.len(),
        "REGISTRY lists a type twice"
    );
    let missing: Vec<_> = in_schema.difference(&registered).collect();
    let unknown: Vec<_> = registered.difference(&in_schema).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "REGISTRY is out of date: add {missing:?}, remove {unknown:?}"
    );
}

#[test]
fn samples_set_every_field_and_survive_our_json() {
    let schema = Schema::load();
    for entry in REGISTRY {
        let sample = Sampler::sample(&schema, entry.name);
        let unset = unset_fields(&schema, entry.name, &sample, entry.name);
        assert!(
            unset.is_empty(),
            "sample leaves fields at default: {unset:?}"
        );
        // The sample is exactly a value of our type: JSON → value → JSON is the identity.
        let bytes = (entry.encode)(&sample).unwrap_or_else(|err| panic!("{}: {err}", entry.name));
        let back = (entry.decode)(&bytes).unwrap_or_else(|err| panic!("{}: {err}", entry.name));
        let mut walker = Walker {
            schema: &schema,
            direction: Direction::JsToRust,
            findings: Vec::new(),
        };
        walker.compare(entry.name, &sample, &back, entry.name);
        assert!(
            walker.findings.is_empty() && back == sample,
            "{}: our own JSON → protobuf → JSON changes the sample:\n{:#?}\nsample {sample}\nback   {back}",
            entry.name,
            walker.findings
        );
    }
}

#[test]
fn node_runs_the_pinned_package() {
    let suite = suite();
    assert_eq!(
        suite.node.package,
        (JS_PACKAGE.0.to_owned(), JS_PACKAGE.1.to_owned()),
        "tests/interop/node_modules holds another package version; {HOW_TO_INSTALL}"
    );
    let lock =
        std::fs::read_to_string(chorus_e2e::repo_root().join("tests/interop/package-lock.json"))
            .expect("tests/interop/package-lock.json");
    let lock: Value = serde_json::from_str(&lock).expect("package-lock.json is JSON");
    assert_eq!(
        lock["packages"]["node_modules/@openim/protocol"]["version"], JS_PACKAGE.1,
        "the lock file pins another version of {}",
        JS_PACKAGE.0
    );
    let declared = suite
        .schema
        .messages
        .values()
        .filter(|m| suite.node.declarations.contains_key(&m.js_key))
        .count();
    println!(
        "{} {}: {} of our {} message types through its codec, {declared} declared, {} raw differences \
         (judged against DIFFERENCES by the other tests)",
        suite.node.package.0,
        suite.node.package.1,
        suite.exercised.len(),
        suite.schema.messages.len(),
        suite.findings.len()
    );
    // The runtime codecs the suite relies on most must be exercised, not skipped.
    for name in [
        "openim.sdkws.MsgData",
        "openim.sdkws.PullMessageBySeqsResp",
        "openim.sdkws.PushMessages",
        "openim.msg.GetConversationsHasReadAndMaxSeqResp",
    ] {
        assert!(
            suite.exercised.contains(name),
            "{name} did not go through the JS codec"
        );
    }
}

#[test]
fn js_codec_decodes_what_rust_encodes() {
    suite().assert_no_unexplained(Direction::RustToJs);
}

#[test]
fn rust_decodes_what_js_codec_encodes() {
    suite().assert_no_unexplained(Direction::JsToRust);
}

#[test]
fn field_names_and_types_match_the_js_declarations() {
    suite().assert_no_unexplained(Direction::Declarations);
}

#[test]
fn documented_differences_still_occur() {
    let suite = suite();
    let mut stale = Vec::new();
    for difference in DIFFERENCES {
        let message = suite.schema.messages.get(difference.message);
        let Some(message) = message else {
            stale.push(format!("{}: no such message type", difference.message));
            continue;
        };
        let seen = |direction: Direction| {
            suite.findings.iter().any(|f| {
                f.direction == direction
                    && f.message == difference.message
                    && f.field == difference.field
                    && suite
                        .explanation(f)
                        .is_some_and(|d| std::ptr::eq(d, difference))
            })
        };
        let declared = suite.node.declarations.contains_key(&message.js_key);
        let codec = suite.node.codecs.contains(&message.js_key);
        let expected: &[Direction] = match (difference.gap, codec) {
            (Gap::MissingInJs, true) => &[
                Direction::Declarations,
                Direction::RustToJs,
                Direction::JsToRust,
            ],
            (Gap::JsOnly, true) => &[Direction::Declarations, Direction::RustToJs],
            (Gap::MissingInJs | Gap::JsOnly, false) => &[Direction::Declarations],
            (Gap::EmptyPackedEntry, _) => &[Direction::JsToRust],
        };
        if !declared {
            stale.push(format!(
                "{}: the package does not declare this type",
                difference.message
            ));
            continue;
        }
        for &direction in expected {
            if !seen(direction) {
                stale.push(format!(
                    "{}.{} ({:?}: {}) no longer shows in the {direction} comparison",
                    difference.message, difference.field, difference.gap, difference.reason
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "DIFFERENCES lists departures that no longer occur; remove them:\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn every_documented_difference_has_a_reason() {
    for difference in DIFFERENCES {
        assert!(
            !difference.reason.trim().is_empty(),
            "{}.{}: give a reason",
            difference.message,
            difference.field
        );
        println!(
            "{}.{} {:?}: {}",
            difference.message, difference.field, difference.gap, difference.reason
        );
    }
    for (name, reason) in ABSENT_FROM_JS {
        assert!(!reason.trim().is_empty(), "{name}: give a reason");
        println!("{name} absent from the package: {reason}");
    }
}

#[test]
fn js_coverage_lists_are_current() {
    let suite = suite();
    let mut without_codec = BTreeSet::new();
    let mut absent = BTreeSet::new();
    for message in suite.schema.messages.values() {
        if !suite.node.declarations.contains_key(&message.js_key) {
            absent.insert(message.full_name.as_str());
        } else if !suite.node.codecs.contains(&message.js_key) {
            without_codec.insert(message.full_name.as_str());
        }
    }
    let listed_without: BTreeSet<&str> = WITHOUT_JS_CODEC.iter().copied().collect();
    let listed_absent: BTreeSet<&str> = ABSENT_FROM_JS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        without_codec, listed_without,
        "WITHOUT_JS_CODEC must list exactly our types the package declares without a runtime codec"
    );
    assert_eq!(
        absent, listed_absent,
        "ABSENT_FROM_JS must list exactly our types the package does not declare"
    );
    // Every type with a codec went through it.
    for message in suite.schema.messages.values() {
        if suite.node.codecs.contains(&message.js_key) {
            assert!(
                suite.exercised.contains(message.full_name.as_str()),
                "{} has a JS codec but was not exercised",
                message.full_name
            );
        }
    }
}
