//! How values become IndexedDB records and keys, and back.
//!
//! Entities are stored in their serde form, written and read back through their JSON text with
//! `chorus_proto::msgjson` (see
//! [`entity_to_js`], [`entity_from_js`]). Sync states, outbox entries and version markers are
//! plain objects with the fields of their serde form, written and read field by field (see
//! [`sync_state_to_js`], [`outbox_to_js`], [`marker_to_js`]); the records of earlier versions,
//! written with serde-wasm-bindgen, have the same shape. Messages, the hot path of a catch-up
//! sync, are written and read field by field as well (see [`message_to_js`]): raw content is
//! one `Uint8Array` instead of an array of numbers, and an empty clientMsgID is left out, so that
//! only messages with one enter the unique clientMsgID index.

use chorus_core::changes::{OutboxEntry, SyncState, VersionKind, VersionMarker};
use chorus_core::model::{Content, ConversationId, Message, Seq};
use chorus_core::ranges::{SeqRange, SeqRanges};
use chorus_core::store::StoreError;
use chorus_proto::constants::SessionType;
use chorus_proto::error::Wide;
use chorus_proto::msgjson::{self, FromJson, Json, ToJson};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::idb;
use crate::js_read::{
    describe, int32, int64, integer, list, object, opt, req, string, strings, uint32, uint64,
    ReadError,
};

/// Converts an entity (conversation, user, friend, group, member) for writing through its JSON
/// text, with the `msgjson` writers the SDK has for these types anyway (tab messages carry them).
/// Maps are written as plain objects and bytes as arrays of numbers, which [`entity_from_js`]
/// reads like the `Map`s and `Uint8Array`s of records written before.
pub fn entity_to_js(value: &dyn ToJson, what: &str) -> Result<JsValue, StoreError> {
    js_sys::JSON::parse(&msgjson::to_text(value)).map_err(|_| {
        StoreError::Backend(format!(
            "cannot convert {what} for IndexedDB: JSON.parse refused its JSON text"
        ))
    })
}

/// Reads a stored entity (conversation, user, friend, group, member) back through its JSON text,
/// with the `msgjson` readers the SDK has for these types anyway (tab messages carry them).
/// Records written before with serde-wasm-bindgen read as well: their JavaScript `Map`s read as
/// objects and their `Uint8Array`s as arrays of numbers, which is what these types' JSON forms
/// accept.
pub fn entity_from_js<T: FromJson>(value: JsValue, what: &str) -> Result<T, StoreError> {
    T::from_json(entity_json(&value, what)?).map_err(|err| unreadable_json(what, &err))
}

/// Reads a stored entity from its JSON tree (see [`entity_json`]), if there is one.
pub fn entity_from_json<T: FromJson>(
    tree: Option<Json>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    match tree {
        Some(tree) => match T::from_json(tree) {
            Ok(entity) => Ok(Some(entity)),
            Err(err) => Err(unreadable_json(what, &err)),
        },
        None => Ok(None),
    }
}

/// Reads stored entities from their JSON trees (see [`entity_json`]), in order.
pub fn entities_from_json<T: FromJson>(trees: Vec<Json>, what: &str) -> Result<Vec<T>, StoreError> {
    let mut entities = Vec::with_capacity(trees.len());
    for tree in trees {
        match T::from_json(tree) {
            Ok(entity) => entities.push(entity),
            Err(err) => return Err(unreadable_json(what, &err)),
        }
    }
    Ok(entities)
}

/// The JSON tree of a stored value (see [`json_text`]).
pub fn entity_json(value: &JsValue, what: &str) -> Result<Json, StoreError> {
    let text = record_text(value, what)?;
    Json::parse(&text).map_err(|err| unreadable_json(what, &err))
}

/// The JSON text of a stored entity (see [`json_text`]).
fn record_text(value: &JsValue, what: &str) -> Result<String, StoreError> {
    json_text(value).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "stored {what} cannot be read: not JSON-representable"
        ))
    })
}

/// A stored `what` whose JSON text `err` keeps from being read.
fn unreadable_json(what: &str, err: &dyn std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("stored {what} cannot be read: {err}"))
}

thread_local! {
    /// The `JSON.stringify` replacer of [`json_text`].
    static REPLACER: Closure<dyn FnMut(JsValue, JsValue) -> JsValue> =
        Closure::new(|_key: JsValue, value: JsValue| {
            if value.is_instance_of::<js_sys::Map>() {
                Object::from_entries(&value).map_or(value, JsValue::from)
            } else if value.is_instance_of::<Uint8Array>() {
                Array::from(&value).into()
            } else {
                value
            }
        });
}

/// The JSON text of a stored value, `Map`s written as objects and `Uint8Array`s as arrays.
fn json_text(value: &JsValue) -> Option<String> {
    REPLACER
        .with(|replacer| js_sys::JSON::stringify_with_replacer(value, replacer.as_ref()))
        .ok()?
        .as_string()
}

/// A plain object with `fields`, in order.
fn record(fields: &[(&str, JsValue)]) -> JsValue {
    let record = Object::new();
    for (key, value) in fields {
        let _ = Reflect::set(&record, &JsValue::from_str(key), value);
    }
    record.into()
}

/// An integer of `what` as a JavaScript number, which holds integers exactly up to 2^53.
fn number(value: i128, what: &str) -> Result<JsValue, StoreError> {
    const SAFE: i128 = (1 << 53) - 1;
    if (-SAFE..=SAFE).contains(&value) {
        Ok(JsValue::from_f64(value as f64))
    } else {
        Err(StoreError::Backend(format!(
            "cannot convert {what} for IndexedDB: {} can't be represented as a JavaScript \
             number",
            Wide(value)
        )))
    }
}

/// A stored `what` that `err` keeps from being read.
fn unreadable(what: &str, err: ReadError) -> StoreError {
    StoreError::Corrupt(format!("stored {what} cannot be read: {err}"))
}

/// A conversation id.
fn conversation_id(value: &JsValue, name: &'static str) -> Result<ConversationId, ReadError> {
    ConversationId::parse(string(value, name)?)
        .map_err(|_| ReadError::Invalid(name, "a conversation id"))
}

/// The record of a sync state: `{floor, cursor, known: [{start, end}, …]}`.
pub fn sync_state_to_js(state: &SyncState) -> Result<JsValue, StoreError> {
    let what = "a sync state";
    let seq = |seq: Seq| number(seq.get().into(), what);
    let known = Array::new();
    for range in state.known.ranges() {
        known.push(&record(&[
            ("start", seq(range.start)?),
            ("end", seq(range.end)?),
        ]));
    }
    Ok(record(&[
        ("floor", seq(state.floor)?),
        ("cursor", seq(state.cursor)?),
        ("known", known.into()),
    ]))
}

/// A stored sync state (see [`sync_state_to_js`]).
pub fn sync_state_from_js(value: JsValue) -> Result<SyncState, StoreError> {
    read_sync_state(&value).map_err(|err| unreadable("sync state", err))
}

fn read_sync_state(value: &JsValue) -> Result<SyncState, ReadError> {
    object(value, "sync state")?;
    let seq = |value: &JsValue, key| req(value, key, uint64).map(Seq);
    let floor = seq(value, "floor")?;
    let cursor = seq(value, "cursor")?;
    let mut known = Vec::new();
    for range in req(value, "known", list)? {
        object(&range, "known")?;
        known.push(SeqRange {
            start: seq(&range, "start")?,
            end: seq(&range, "end")?,
        });
    }
    Ok(SyncState {
        floor,
        cursor,
        known: SeqRanges::from(known),
    })
}

/// The record of an outbox entry: `{client_msg_id, conversation_id, attempts, created_at,
/// last_error}`, `last_error` `undefined` when there is none.
pub fn outbox_to_js(entry: &OutboxEntry) -> Result<JsValue, StoreError> {
    let what = "an outbox entry";
    Ok(record(&[
        ("client_msg_id", JsValue::from_str(&entry.client_msg_id)),
        (
            "conversation_id",
            JsValue::from_str(entry.conversation_id.as_str()),
        ),
        ("attempts", JsValue::from_f64(entry.attempts.into())),
        ("created_at", number(entry.created_at.into(), what)?),
        (
            "last_error",
            entry
                .last_error
                .map_or(JsValue::UNDEFINED, |code| JsValue::from_f64(code.into())),
        ),
    ]))
}

/// A stored outbox entry (see [`outbox_to_js`]).
pub fn outbox_from_js(value: JsValue) -> Result<OutboxEntry, StoreError> {
    read_outbox(&value).map_err(|err| unreadable("outbox entry", err))
}

fn read_outbox(value: &JsValue) -> Result<OutboxEntry, ReadError> {
    object(value, "outbox entry")?;
    Ok(OutboxEntry {
        client_msg_id: req(value, "client_msg_id", string)?,
        conversation_id: req(value, "conversation_id", conversation_id)?,
        attempts: req(value, "attempts", uint32)?,
        created_at: req(value, "created_at", int64)?,
        last_error: opt(value, "last_error", int32)?,
    })
}

/// The record of a version marker: `{version_id, version}`.
pub fn marker_to_js(marker: &VersionMarker) -> Result<JsValue, StoreError> {
    Ok(record(&[
        ("version_id", JsValue::from_str(&marker.version_id)),
        (
            "version",
            number(marker.version.into(), "a version marker")?,
        ),
    ]))
}

/// A stored version marker (see [`marker_to_js`]).
pub fn marker_from_js(value: JsValue) -> Result<VersionMarker, StoreError> {
    read_marker(&value).map_err(|err| unreadable("version marker", err))
}

fn read_marker(value: &JsValue) -> Result<VersionMarker, ReadError> {
    object(value, "version marker")?;
    Ok(VersionMarker {
        version_id: req(value, "version_id", string)?,
        version: req(value, "version", uint64)?,
    })
}

/// A seq as an IndexedDB key part. Keys are JavaScript numbers, exact up to 2^53.
fn seq_key(seq: Seq) -> JsValue {
    JsValue::from_f64(seq.get() as f64)
}

/// Where a message lives in the messages store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum MessageKey {
    /// `[conversationID, seq]`: a message with a seq.
    Sent(ConversationId, Seq),
    /// `[conversationID, 0, clientMsgID]`: an unsent message. Such keys sort between
    /// `[conversationID, 0]` and `[conversationID, 1]`, so no seq range query reaches them.
    Unsent(ConversationId, String),
}

impl MessageKey {
    /// The key of `message`.
    pub fn of(message: &Message) -> MessageKey {
        if message.seq == Seq::ZERO {
            MessageKey::Unsent(
                message.conversation_id.clone(),
                message.client_msg_id.clone(),
            )
        } else {
            MessageKey::Sent(message.conversation_id.clone(), message.seq)
        }
    }

    /// The IndexedDB key.
    pub fn to_js(&self) -> JsValue {
        match self {
            MessageKey::Sent(conversation_id, seq) => {
                Array::of2(&JsValue::from_str(conversation_id.as_str()), &seq_key(*seq)).into()
            }
            MessageKey::Unsent(conversation_id, client_msg_id) => Array::of3(
                &JsValue::from_str(conversation_id.as_str()),
                &JsValue::from_f64(0.0),
                &JsValue::from_str(client_msg_id),
            )
            .into(),
        }
    }

    /// Reads a key of the messages store.
    pub fn from_js(key: &JsValue) -> Result<MessageKey, StoreError> {
        let corrupt = || {
            StoreError::Corrupt(format!(
                "message key {} is not a message key",
                describe(key)
            ))
        };
        let parts = Array::from(key);
        let conversation_id = parts
            .get(0)
            .as_string()
            .and_then(|id| ConversationId::parse(id).ok())
            .ok_or_else(corrupt)?;
        let seq = parts.get(1).as_f64().ok_or_else(corrupt)?;
        match parts.length() {
            2 if seq >= 1.0 => Ok(MessageKey::Sent(conversation_id, Seq(seq as u64))),
            3 => {
                let client_msg_id = parts.get(2).as_string().ok_or_else(corrupt)?;
                Ok(MessageKey::Unsent(conversation_id, client_msg_id))
            }
            _ => Err(corrupt()),
        }
    }

    /// The seq of a key read back (0 for unsent messages).
    pub fn seq(&self) -> Seq {
        match self {
            MessageKey::Sent(_, seq) => *seq,
            MessageKey::Unsent(..) => Seq::ZERO,
        }
    }
}

/// The messages of `conversation_id` with seqs `start..=end`.
pub fn seq_range(
    conversation_id: &ConversationId,
    start: Seq,
    end: Seq,
) -> Result<JsValue, StoreError> {
    let id = JsValue::from_str(conversation_id.as_str());
    key_range(
        Array::of2(&id, &seq_key(start)).into(),
        Array::of2(&id, &seq_key(end)).into(),
        false,
    )
}

/// The unsent messages of `conversation_id`: keys from `[conversationID, 0]` up to (excluding)
/// `[conversationID, 1]`.
pub fn unsent_range(conversation_id: &ConversationId) -> Result<JsValue, StoreError> {
    let id = JsValue::from_str(conversation_id.as_str());
    key_range(
        Array::of2(&id, &seq_key(Seq::ZERO)).into(),
        Array::of2(&id, &seq_key(Seq(1))).into(),
        true,
    )
}

/// Every key `[first, …]` of an array-keyed store: `[first]` up to (excluding) `[first, []]`,
/// since an array sorts after every number and string.
pub fn prefix_range(first: &str) -> Result<JsValue, StoreError> {
    let first = JsValue::from_str(first);
    key_range(
        Array::of1(&first).into(),
        Array::of2(&first, &Array::new()).into(),
        true,
    )
}

/// The keys from `lower` up to `upper`, which is left out when `upper_open`.
fn key_range(lower: JsValue, upper: JsValue, upper_open: bool) -> Result<JsValue, StoreError> {
    idb::bound(&lower, &upper, false, upper_open).map_err(|err| {
        StoreError::Backend(format!(
            "invalid key range {}..{}: {}",
            describe(&lower),
            describe(&upper),
            err.text()
        ))
    })
}

/// The range holding exactly `key`.
pub fn only(key: &JsValue) -> Result<JsValue, StoreError> {
    idb::only(key).map_err(|err| {
        StoreError::Backend(format!("invalid key {}: {}", describe(key), err.text()))
    })
}

/// An array key of two strings.
pub fn pair_key(a: &str, b: &str) -> JsValue {
    Array::of2(&JsValue::from_str(a), &JsValue::from_str(b)).into()
}

/// The key of a version marker: `[kind, key]`, the kind by its serde name.
pub fn version_key(kind: VersionKind, key: &str) -> Result<JsValue, StoreError> {
    let kind = match kind {
        VersionKind::Friends => "Friends",
        VersionKind::JoinedGroups => "JoinedGroups",
        VersionKind::GroupMembers => "GroupMembers",
        VersionKind::Conversations => "Conversations",
        _ => {
            return Err(StoreError::Backend(
                "cannot convert an unknown version kind for IndexedDB".into(),
            ))
        }
    };
    Ok(Array::of2(&JsValue::from_str(kind), &JsValue::from_str(key)).into())
}

/// The record of a message, ready to write: a plain object with the message's fields in
/// declaration order; `content` as `{"Text": text}`, `{"Raw": Uint8Array}` or, for a content kind
/// this module does not know, `{"Other": content}`; `options` as a `Map`; no `client_msg_id` when
/// it is empty, so that only messages with one enter the unique clientMsgID index. `status` and
/// unknown contents keep their serde form, written through their JSON text. Numbers above 2^53
/// cannot be stored.
pub fn message_to_js(message: &Message) -> Result<JsValue, StoreError> {
    let record = Object::new();
    let set = |key: &str, value: &JsValue| {
        let _ = Reflect::set(&record, &JsValue::from_str(key), value);
    };
    let text = |key: &str, value: &str| set(key, &JsValue::from_str(value));
    let small = |key: &str, value: f64| set(key, &JsValue::from_f64(value));
    text("conversation_id", message.conversation_id.as_str());
    set("seq", &number(message.seq.get().into(), "a message")?);
    if !message.client_msg_id.is_empty() {
        text("client_msg_id", &message.client_msg_id);
    }
    text("server_msg_id", &message.server_msg_id);
    text("send_id", &message.send_id);
    text("recv_id", &message.recv_id);
    text("group_id", &message.group_id);
    small("sender_platform_id", message.sender_platform_id.into());
    text("sender_nickname", &message.sender_nickname);
    text("sender_face_url", &message.sender_face_url);
    small("session_type", message.session_type.as_i32().into());
    small("msg_from", message.msg_from.into());
    small("content_type", message.content_type.into());
    let (kind, content) = match &message.content {
        Content::Text(text) => ("Text", JsValue::from_str(text)),
        Content::Raw(bytes) => ("Raw", Uint8Array::from(bytes.as_slice()).into()),
        other => ("Other", entity_to_js(other, "a message content")?),
    };
    let tagged = Object::new();
    let _ = Reflect::set(&tagged, &JsValue::from_str(kind), &content);
    set("content", &tagged);
    set("send_time", &number(message.send_time.into(), "a message")?);
    set(
        "create_time",
        &number(message.create_time.into(), "a message")?,
    );
    set(
        "status",
        &entity_to_js(&message.status, "a message status")?,
    );
    set("is_read", &JsValue::from_bool(message.is_read));
    let options = js_sys::Map::new();
    for (key, value) in &message.options {
        options.set(&JsValue::from_str(key), &JsValue::from_bool(*value));
    }
    set("options", &options);
    let at_user_ids: Array = message
        .at_user_ids
        .iter()
        .map(|id| JsValue::from_str(id))
        .collect();
    set("at_user_ids", &at_user_ids);
    text("attached_info", &message.attached_info);
    text("ex", &message.ex);
    Ok(record.into())
}

/// A stored message (see [`message_to_js`]).
pub fn message_from_js(value: JsValue) -> Result<Message, StoreError> {
    // Every field is overwritten by `read_message` (or the read fails).
    let mut message = Message::blank();
    read_message(&value, &mut message)?;
    Ok(message)
}

/// How a plain field of a stored message is read.
#[derive(Clone, Copy)]
enum Field {
    /// A conversation id.
    Conversation,
    /// A session type.
    Session,
    /// A string.
    Text,
    /// An integer within `min..=max`.
    Integer(f64, f64),
    /// A boolean.
    Flag,
}

/// The largest integer a JavaScript number holds exactly.
const SAFE: f64 = 9_007_199_254_740_991.0;
const INT32: Field = Field::Integer(i32::MIN as f64, i32::MAX as f64);
const INT64: Field = Field::Integer(-SAFE, SAFE);

/// The plain fields of a stored message, in the order they are checked.
const MESSAGE_FIELDS: [(&str, Field); 17] = [
    ("conversation_id", Field::Conversation),
    ("session_type", Field::Session),
    ("seq", Field::Integer(0.0, SAFE)),
    ("server_msg_id", Field::Text),
    ("send_id", Field::Text),
    ("recv_id", Field::Text),
    ("group_id", Field::Text),
    ("sender_platform_id", INT32),
    ("sender_nickname", Field::Text),
    ("sender_face_url", Field::Text),
    ("msg_from", INT32),
    ("content_type", INT32),
    ("send_time", INT64),
    ("create_time", INT64),
    ("is_read", Field::Flag),
    ("attached_info", Field::Text),
    ("ex", Field::Text),
];

/// Reads the fields of a stored message into `message`; every plain field must be present and
/// of its type.
fn read_message(value: &JsValue, message: &mut Message) -> Result<(), StoreError> {
    let get = |key: &str| Reflect::get(value, &JsValue::from_str(key)).unwrap_or_default();
    let content = get("content");
    message.content = if let Some(text) = Reflect::get(&content, &JsValue::from_str("Text"))
        .ok()
        .filter(|v| !v.is_undefined())
    {
        Content::Text(text.as_string().ok_or_else(|| invalid("content"))?)
    } else if let Some(bytes) = Reflect::get(&content, &JsValue::from_str("Raw"))
        .ok()
        .filter(|v| v.is_instance_of::<Uint8Array>() || Array::is_array(v))
    {
        Content::Raw(Uint8Array::new(&bytes).to_vec())
    } else {
        let other = Reflect::get(&content, &JsValue::from_str("Other")).unwrap_or_default();
        entity_from_js(other, "message content")?
    };
    let client_msg_id = get("client_msg_id");
    if !client_msg_id.is_undefined() {
        message.client_msg_id = client_msg_id
            .as_string()
            .ok_or_else(|| invalid("client_msg_id"))?;
    }
    let at_user_ids = get("at_user_ids");
    if !Array::is_array(&at_user_ids) {
        return Err(invalid("at_user_ids"));
    }
    message.at_user_ids =
        strings(&at_user_ids, "at_user_ids").map_err(|_| invalid("at_user_ids"))?;
    message.status = entity_from_js(get("status"), "message status")?;
    message.options = entity_from_js(get("options"), "message options")?;

    let Message {
        conversation_id,
        session_type,
        is_read,
        server_msg_id,
        send_id,
        recv_id,
        group_id,
        sender_nickname,
        sender_face_url,
        attached_info,
        ex,
        ..
    } = message;
    let mut texts = [
        server_msg_id,
        send_id,
        recv_id,
        group_id,
        sender_nickname,
        sender_face_url,
        attached_info,
        ex,
    ]
    .into_iter();
    let mut numbers = [0.0; 6];
    let mut next_number = numbers.iter_mut();
    for (key, kind) in MESSAGE_FIELDS {
        let field = crate::js_read::field(value, key).ok_or_else(|| invalid(key))?;
        let valid = match kind {
            Field::Conversation => field
                .as_string()
                .and_then(|id| ConversationId::parse(id).ok())
                .map(|id| *conversation_id = id),
            Field::Session => integer(&field, key, i32::MIN.into(), i32::MAX.into())
                .ok()
                .and_then(|n| SessionType::try_from(n as i32).ok())
                .map(|kind| *session_type = kind),
            Field::Text => field
                .as_string()
                .zip(texts.next())
                .map(|(text, slot)| *slot = text),
            Field::Integer(min, max) => integer(&field, key, min, max)
                .ok()
                .zip(next_number.next())
                .map(|(n, slot)| *slot = n),
            Field::Flag => field.as_bool().map(|flag| *is_read = flag),
        };
        valid.ok_or_else(|| invalid(key))?;
    }
    let [seq, sender_platform_id, msg_from, content_type, send_time, create_time] = numbers;
    message.seq = Seq(seq as u64);
    message.sender_platform_id = sender_platform_id as i32;
    message.msg_from = msg_from as i32;
    message.content_type = content_type as i32;
    message.send_time = send_time as i64;
    message.create_time = create_time as i64;
    Ok(())
}

/// A stored message whose `field` is missing or of the wrong type.
fn invalid(field: &str) -> StoreError {
    StoreError::Corrupt(format!("stored message has no valid {field}"))
}

/// Stored messages, in the order given.
pub fn messages_from_js(values: Vec<JsValue>) -> Result<Vec<Message>, StoreError> {
    let mut messages = Vec::with_capacity(values.len());
    for value in values {
        messages.push(message_from_js(value)?);
    }
    Ok(messages)
}
