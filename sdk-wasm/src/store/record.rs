//! How values become IndexedDB records and keys, and back, as the JSON text that `idb.js`
//! exchanges with Rust.
//!
//! Entities are stored in their serde form: their `msgjson` JSON text, which the module parses
//! into the record. Sync states, outbox entries and version markers are plain objects with the
//! fields of their serde form (the records of earlier versions, written with serde-wasm-bindgen,
//! have the same shape). Messages are their JSON form as well, shaped by the module: raw content
//! becomes one `Uint8Array` instead of an array of numbers, options a `Map`, and an empty
//! clientMsgID is left out, so that only messages with one enter the unique clientMsgID index.
//! Records come back as JSON text, `Map`s as objects and `Uint8Array`s as arrays, which is what
//! these types' JSON forms accept, so records written before read as well.

use chorus_core::changes::{OutboxEntry, SyncState, VersionKind, VersionMarker};
use chorus_core::model::{ConversationId, Message, Seq};
use chorus_core::ranges::{SeqRange, SeqRanges};
use chorus_core::store::StoreError;
use chorus_proto::constants::SessionType;
use chorus_proto::msgjson::{self, FromJson, Json, ToJson};

use super::idb::range;
use crate::json::{as_bool, as_i64, as_text, as_u64, member};

/// The largest integer a JavaScript number holds exactly.
const SAFE: i128 = (1 << 53) - 1;

/// Checks that an integer of `what` (an `i64` or a `u64`) fits a JavaScript number, which holds
/// integers exactly up to 2^53.
fn number(value: i128, what: &str) -> Result<(), StoreError> {
    if (-SAFE..=SAFE).contains(&value) {
        return Ok(());
    }
    // The value comes from an `i64` or a `u64`, so its magnitude fits a `u64`.
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs() as u64;
    Err(StoreError::backend(format!(
        "cannot convert {what} for IndexedDB: {sign}{magnitude} can't be represented as a JavaScript number"
    )))
}

/// Reads a stored entity (conversation, user, friend, group, member, setting) from its JSON
/// tree.
pub fn entity<T: FromJson>(tree: Json, what: &str) -> Result<T, StoreError> {
    T::from_json(tree)
        .map_err(|err| StoreError::corrupt(format!("stored {what} cannot be read: {err}")))
}

/// Reads stored entities from their JSON trees, in order.
pub fn entities<T: FromJson>(trees: Json, what: &str) -> Result<Vec<T>, StoreError> {
    let mut entities = Vec::new();
    for tree in list(trees) {
        entities.push(entity(tree, what)?);
    }
    Ok(entities)
}

/// The items of a list (none for anything else).
pub fn list(value: Json) -> Vec<Json> {
    match value {
        Json::List(items) => items,
        _ => Vec::new(),
    }
}

/// The record of a `get` result, if there is one.
pub fn found(result: Json) -> Option<Json> {
    list(result).pop()
}

/// Member `key` of a stored `what`, read by `read`; a missing or invalid member is corrupt.
fn req<'a, T>(
    value: &'a Json,
    what: &str,
    key: &str,
    read: impl FnOnce(&'a Json) -> Option<T>,
) -> Result<T, StoreError> {
    member(value, key).and_then(read).ok_or_else(|| {
        StoreError::corrupt(format!("stored {what} cannot be read: no valid `{key}`"))
    })
}

/// A seq member of a stored `what`.
fn seq(value: &Json, what: &str, key: &str) -> Result<Seq, StoreError> {
    req(value, what, key, as_u64).map(Seq)
}

/// The record of a sync state: `{floor, cursor, known: [{start, end}, …]}`.
pub fn sync_state_record(state: &SyncState) -> Result<String, StoreError> {
    let seq = |seq: Seq| {
        number(seq.get().into(), "a sync state")?;
        Ok::<_, StoreError>(Json::U64(seq.get()))
    };
    let mut known = Vec::new();
    for range in state.known.ranges() {
        known.push(msgjson::object(vec![
            ("start", seq(range.start)?),
            ("end", seq(range.end)?),
        ]));
    }
    Ok(msgjson::object(vec![
        ("floor", seq(state.floor)?),
        ("cursor", seq(state.cursor)?),
        ("known", Json::List(known)),
    ])
    .to_text())
}

/// A stored sync state (see [`sync_state_record`]).
pub fn sync_state(value: &Json) -> Result<SyncState, StoreError> {
    let what = "sync state";
    let mut known = Vec::new();
    for range in req(value, what, "known", |v| match v {
        Json::List(items) => Some(items),
        _ => None,
    })? {
        known.push(SeqRange {
            start: seq(range, what, "start")?,
            end: seq(range, what, "end")?,
        });
    }
    Ok(SyncState {
        floor: seq(value, what, "floor")?,
        cursor: seq(value, what, "cursor")?,
        known: SeqRanges::from(known),
    })
}

/// The record of an outbox entry: `{client_msg_id, conversation_id, attempts, created_at,
/// last_error}`, `last_error` `undefined` when there is none (`null` in the JSON text, shape
/// `"o"`).
pub fn outbox_record(entry: &OutboxEntry) -> Result<String, StoreError> {
    number(entry.created_at.into(), "an outbox entry")?;
    Ok(msgjson::object(vec![
        ("client_msg_id", Json::Str(entry.client_msg_id.clone())),
        (
            "conversation_id",
            Json::Str(entry.conversation_id.as_str().into()),
        ),
        ("attempts", Json::U64(entry.attempts.into())),
        ("created_at", crate::json::int(entry.created_at)),
        (
            "last_error",
            entry
                .last_error
                .map_or(Json::Null, |code| crate::json::int(code.into())),
        ),
    ])
    .to_text())
}

/// A stored outbox entry (see [`outbox_record`]).
pub fn outbox(value: &Json) -> Result<OutboxEntry, StoreError> {
    let what = "outbox entry";
    let text = |v| as_text(v).map(str::to_owned);
    Ok(OutboxEntry {
        client_msg_id: req(value, what, "client_msg_id", text)?,
        conversation_id: req(value, what, "conversation_id", |v| {
            ConversationId::parse(as_text(v)?).ok()
        })?,
        attempts: req(value, what, "attempts", |v| as_u64(v)?.try_into().ok())?,
        created_at: req(value, what, "created_at", as_i64)?,
        last_error: match member(value, "last_error") {
            None | Some(Json::Null) => None,
            Some(_) => Some(req(value, what, "last_error", |v| {
                as_i64(v)?.try_into().ok()
            })?),
        },
    })
}

/// The record of a version marker: `{version_id, version}`.
pub fn marker_record(marker: &VersionMarker) -> Result<String, StoreError> {
    number(marker.version.into(), "a version marker")?;
    Ok(msgjson::object(vec![
        ("version_id", Json::Str(marker.version_id.clone())),
        ("version", Json::U64(marker.version)),
    ])
    .to_text())
}

/// A stored version marker (see [`marker_record`]).
pub fn marker(value: &Json) -> Result<VersionMarker, StoreError> {
    let what = "version marker";
    Ok(VersionMarker {
        version_id: req(value, what, "version_id", |v| as_text(v).map(str::to_owned))?,
        version: req(value, what, "version", as_u64)?,
    })
}

/// A string key.
pub fn text_key(key: &str) -> Json {
    Json::Str(key.into())
}

/// An array key of a string and a seq.
fn seq_key(id: &ConversationId, seq: Seq) -> Json {
    Json::List(vec![text_key(id.as_str()), Json::U64(seq.get())])
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
    pub fn to_json(&self) -> Json {
        match self {
            MessageKey::Sent(conversation_id, seq) => seq_key(conversation_id, *seq),
            MessageKey::Unsent(conversation_id, client_msg_id) => Json::List(vec![
                text_key(conversation_id.as_str()),
                Json::U64(0),
                text_key(client_msg_id),
            ]),
        }
    }

    /// Reads a key of the messages store.
    pub fn from_json(key: &Json) -> Result<MessageKey, StoreError> {
        let corrupt = || {
            StoreError::corrupt(format!(
                "message key {} is not a message key",
                key.to_text()
            ))
        };
        let Json::List(parts) = key else {
            return Err(corrupt());
        };
        let conversation_id = parts
            .first()
            .and_then(as_text)
            .and_then(|id| ConversationId::parse(id).ok())
            .ok_or_else(corrupt)?;
        let seq = parts.get(1).and_then(as_u64).ok_or_else(corrupt)?;
        match (parts.len(), parts.get(2).and_then(as_text)) {
            (2, _) if seq >= 1 => Ok(MessageKey::Sent(conversation_id, Seq(seq))),
            (3, Some(client_msg_id)) => {
                Ok(MessageKey::Unsent(conversation_id, client_msg_id.into()))
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
pub fn seq_range(conversation_id: &ConversationId, start: Seq, end: Seq) -> Json {
    range(
        seq_key(conversation_id, start),
        seq_key(conversation_id, end),
        false,
    )
}

/// The unsent messages of `conversation_id`: keys from `[conversationID, 0]` up to (excluding)
/// `[conversationID, 1]`.
pub fn unsent_range(conversation_id: &ConversationId) -> Json {
    range(
        seq_key(conversation_id, Seq::ZERO),
        seq_key(conversation_id, Seq(1)),
        true,
    )
}

/// Every key `[first, …]` of an array-keyed store: `[first]` up to (excluding) `[first, []]`,
/// since an array sorts after every number and string.
pub fn prefix_range(first: &str) -> Json {
    range(
        Json::List(vec![text_key(first)]),
        Json::List(vec![text_key(first), Json::List(Vec::new())]),
        true,
    )
}

/// An array key of two strings.
pub fn pair_key(a: &str, b: &str) -> Json {
    Json::List(vec![text_key(a), text_key(b)])
}

/// The key of a version marker: `[kind, key]`, the kind by its serde name.
pub fn version_key(kind: VersionKind, key: &str) -> Result<Json, StoreError> {
    let kind = match kind {
        VersionKind::Friends => "Friends",
        VersionKind::JoinedGroups => "JoinedGroups",
        VersionKind::GroupMembers => "GroupMembers",
        VersionKind::Conversations => "Conversations",
        _ => {
            return Err(StoreError::backend(
                "cannot convert an unknown version kind for IndexedDB".into(),
            ))
        }
    };
    Ok(pair_key(kind, key))
}

/// The record of a message, ready for a put of shape `"m"`: its JSON form, the fields in
/// declaration order, `content` as `{"Text": text}` or `{"Raw": bytes}`, `status` in its serde
/// form. Numbers above 2^53 cannot be stored.
pub fn message_record(message: &Message) -> Result<String, StoreError> {
    for n in [
        message.seq.get().into(),
        message.send_time.into(),
        message.create_time.into(),
    ] {
        number(n, "a message")?;
    }
    Ok(msgjson::to_text(message as &dyn ToJson))
}

/// How a plain field of a stored message is checked.
#[derive(Clone, Copy)]
enum Field {
    /// A conversation id.
    Conversation,
    /// A session type.
    Session,
    /// A string.
    Text,
    /// An integer within `min..=max`.
    Integer(i64, i64),
    /// A boolean.
    Flag,
}

const SAFE64: i64 = SAFE as i64;
const INT32: Field = Field::Integer(i32::MIN as i64, i32::MAX as i64);
const INT64: Field = Field::Integer(-SAFE64, SAFE64);

/// The plain fields of a stored message, in the order they are checked.
const MESSAGE_FIELDS: [(&str, Field); 17] = [
    ("conversation_id", Field::Conversation),
    ("session_type", Field::Session),
    ("seq", Field::Integer(0, SAFE64)),
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

/// A stored message (see [`message_record`]). Every plain field must be present and of its
/// type, `at_user_ids` a list of strings, and `client_msg_id` a string when present; a content
/// of a kind this module does not know is stored as `{"Other": content}`.
pub fn message(mut value: Json) -> Result<Message, StoreError> {
    let invalid = |field: &str| StoreError::corrupt(format!("stored message has no valid {field}"));
    let valid = |field: Option<&Json>, kind: Field| -> Option<()> {
        let field = field?;
        let ok = match kind {
            Field::Conversation => ConversationId::parse(as_text(field)?).is_ok(),
            Field::Session => {
                let n = i32::try_from(as_i64(field)?).ok()?;
                SessionType::try_from(n).is_ok()
            }
            Field::Text => as_text(field).is_some(),
            Field::Integer(min, max) => (min..=max).contains(&as_i64(field)?),
            Field::Flag => as_bool(field).is_some(),
        };
        ok.then_some(())
    };
    if member(&value, "client_msg_id").is_some_and(|id| as_text(id).is_none()) {
        return Err(invalid("client_msg_id"));
    }
    match member(&value, "at_user_ids") {
        Some(Json::List(ids)) if ids.iter().all(|id| as_text(id).is_some()) => {}
        _ => return Err(invalid("at_user_ids")),
    }
    for (key, kind) in MESSAGE_FIELDS {
        valid(member(&value, key), kind).ok_or_else(|| invalid(key))?;
    }
    if let Json::Obj(members) = &mut value {
        for (key, content) in members.iter_mut() {
            if key == "content" {
                if let Some(("Other", other)) = crate::json::single(content) {
                    *content = other.clone();
                }
            }
        }
    }
    entity(value, "message")
}

/// Stored messages, in the order given.
pub fn messages(values: Vec<Json>) -> Result<Vec<Message>, StoreError> {
    let mut messages = Vec::with_capacity(values.len());
    for value in values {
        messages.push(message(value)?);
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::*;

    /// Integers beyond 2^53 are refused with their value written in full, sign included.
    #[wasm_bindgen_test]
    fn numbers_beyond_2_53_are_refused_with_their_value() {
        let cases = [
            (i128::from(i64::MIN), i64::MIN.to_string()),
            (-(1 << 53), "-9007199254740992".to_owned()),
            (1 << 53, "9007199254740992".to_owned()),
            (i128::from(u64::MAX), u64::MAX.to_string()),
        ];
        for (value, text) in cases {
            let err = super::number(value, "a test").unwrap_err();
            assert!(
                err.to_string().ends_with(&format!(
                    "cannot convert a test for IndexedDB: {text} can't be represented as a \
                     JavaScript number"
                )),
                "{err}"
            );
        }
        assert!(super::number(super::SAFE, "a test").is_ok());
        assert!(super::number(-super::SAFE, "a test").is_ok());
    }
}
