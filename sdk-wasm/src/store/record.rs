//! How values become IndexedDB records and keys, and back.
//!
//! Every value goes through serde-wasm-bindgen. Messages, the hot path of a catch-up sync, use a
//! private mirror ([`StoredMessage`]) that borrows from the [`Message`] it writes and stores raw
//! content as one `Uint8Array` instead of an array of numbers; it also leaves out an empty
//! clientMsgID, so that only messages with one enter the unique clientMsgID index. Every other
//! type is stored in its own serde form.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use chorus_core::changes::VersionKind;
use chorus_core::model::{Content, ConversationId, Message, MessageStatus, Seq};
use chorus_core::store::StoreError;
use chorus_proto::constants::SessionType;
use js_sys::Array;
use rexie::KeyRange;
use serde::de::{DeserializeOwned, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use wasm_bindgen::JsValue;

/// Converts a value for writing.
pub fn to_js<T: Serialize + ?Sized>(value: &T, what: &str) -> Result<JsValue, StoreError> {
    serde_wasm_bindgen::to_value(value).map_err(|err| unconvertible(what, &err))
}

/// Reads a stored value back.
pub fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, StoreError> {
    serde_wasm_bindgen::from_value(value).map_err(|err| unreadable(what, &err))
}

fn unconvertible(what: &str, err: &serde_wasm_bindgen::Error) -> StoreError {
    StoreError::Backend(format!("cannot convert {what} for IndexedDB: {err}"))
}

fn unreadable(what: &str, err: &serde_wasm_bindgen::Error) -> StoreError {
    StoreError::Corrupt(format!("stored {what} cannot be read: {err}"))
}

/// A rexie failure while doing `what`.
pub fn backend(what: &'static str) -> impl Fn(rexie::Error) -> StoreError {
    // rexie's Display is only "idb error"; the Debug form names the failing operation and carries
    // the browser's DOMException.
    move |err| StoreError::Backend(format!("IndexedDB failed while {what}: {err:?}"))
}

/// A seq as an IndexedDB key part. Keys are JavaScript numbers, exact up to 2^53.
fn seq_key(seq: Seq) -> JsValue {
    JsValue::from_f64(seq.get() as f64)
}

/// Where a message lives in the messages store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
        let corrupt = || StoreError::Corrupt(format!("message key {key:?} is not a message key"));
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
) -> Result<KeyRange, StoreError> {
    let id = JsValue::from_str(conversation_id.as_str());
    KeyRange::bound(
        &Array::of2(&id, &seq_key(start)).into(),
        &Array::of2(&id, &seq_key(end)).into(),
        Some(false),
        Some(false),
    )
    .map_err(|err| StoreError::Backend(format!("invalid seq range {start}..={end}: {err:?}")))
}

/// The unsent messages of `conversation_id`: keys from `[conversationID, 0]` up to (excluding)
/// `[conversationID, 1]`.
pub fn unsent_range(conversation_id: &ConversationId) -> Result<KeyRange, StoreError> {
    let id = JsValue::from_str(conversation_id.as_str());
    KeyRange::bound(
        &Array::of2(&id, &seq_key(Seq::ZERO)).into(),
        &Array::of2(&id, &seq_key(Seq(1))).into(),
        Some(false),
        Some(true),
    )
    .map_err(|err| StoreError::Backend(format!("invalid unsent range: {err:?}")))
}

/// Every key `[first, …]` of an array-keyed store: `[first]` up to (excluding) `[first, []]`,
/// since an array sorts after every number and string.
pub fn prefix_range(first: &str) -> Result<KeyRange, StoreError> {
    let first = JsValue::from_str(first);
    KeyRange::bound(
        &Array::of1(&first).into(),
        &Array::of2(&first, &Array::new()).into(),
        Some(false),
        Some(true),
    )
    .map_err(|err| StoreError::Backend(format!("invalid key range: {err:?}")))
}

/// The range holding exactly `key`.
pub fn only(key: &JsValue) -> Result<KeyRange, StoreError> {
    KeyRange::only(key).map_err(|err| StoreError::Backend(format!("invalid key {key:?}: {err:?}")))
}

/// An array key of two strings.
pub fn pair_key(a: &str, b: &str) -> JsValue {
    Array::of2(&JsValue::from_str(a), &JsValue::from_str(b)).into()
}

/// The key of a version marker: `[kind, key]`, the kind by its serde name.
pub fn version_key(kind: VersionKind, key: &str) -> Result<JsValue, StoreError> {
    let kind = to_js(&kind, "a version kind")?;
    Ok(Array::of2(&kind, &JsValue::from_str(key)).into())
}

/// A message as stored. Borrowed when written, owned when read.
#[derive(Serialize, Deserialize)]
pub struct StoredMessage<'a> {
    conversation_id: Cow<'a, ConversationId>,
    seq: Seq,
    #[serde(default, skip_serializing_if = "str::is_empty")]
    client_msg_id: Cow<'a, str>,
    server_msg_id: Cow<'a, str>,
    send_id: Cow<'a, str>,
    recv_id: Cow<'a, str>,
    group_id: Cow<'a, str>,
    sender_platform_id: i32,
    sender_nickname: Cow<'a, str>,
    sender_face_url: Cow<'a, str>,
    session_type: i32,
    msg_from: i32,
    content_type: i32,
    content: StoredContent<'a>,
    send_time: i64,
    create_time: i64,
    status: Cow<'a, MessageStatus>,
    is_read: bool,
    options: Cow<'a, BTreeMap<String, bool>>,
    at_user_ids: Cow<'a, [String]>,
    attached_info: Cow<'a, str>,
    ex: Cow<'a, str>,
}

#[derive(Serialize, Deserialize)]
enum StoredContent<'a> {
    Text(Cow<'a, str>),
    Raw(Bytes<'a>),
    /// A content kind this module does not know, in its own serde form.
    Other(Cow<'a, Content>),
}

impl<'a> StoredMessage<'a> {
    /// The record of `message`.
    pub fn of(message: &'a Message) -> StoredMessage<'a> {
        let Message {
            conversation_id,
            seq,
            client_msg_id,
            server_msg_id,
            send_id,
            recv_id,
            group_id,
            sender_platform_id,
            sender_nickname,
            sender_face_url,
            session_type,
            msg_from,
            content_type,
            content,
            send_time,
            create_time,
            status,
            is_read,
            options,
            at_user_ids,
            attached_info,
            ex,
        } = message;
        StoredMessage {
            conversation_id: Cow::Borrowed(conversation_id),
            seq: *seq,
            client_msg_id: Cow::Borrowed(client_msg_id),
            server_msg_id: Cow::Borrowed(server_msg_id),
            send_id: Cow::Borrowed(send_id),
            recv_id: Cow::Borrowed(recv_id),
            group_id: Cow::Borrowed(group_id),
            sender_platform_id: *sender_platform_id,
            sender_nickname: Cow::Borrowed(sender_nickname),
            sender_face_url: Cow::Borrowed(sender_face_url),
            session_type: session_type.as_i32(),
            msg_from: *msg_from,
            content_type: *content_type,
            content: match content {
                Content::Text(text) => StoredContent::Text(Cow::Borrowed(text)),
                Content::Raw(bytes) => StoredContent::Raw(Bytes(Cow::Borrowed(bytes))),
                other => StoredContent::Other(Cow::Borrowed(other)),
            },
            send_time: *send_time,
            create_time: *create_time,
            status: Cow::Borrowed(status),
            is_read: *is_read,
            options: Cow::Borrowed(options),
            at_user_ids: Cow::Borrowed(at_user_ids),
            attached_info: Cow::Borrowed(attached_info),
            ex: Cow::Borrowed(ex),
        }
    }

    /// The message this record holds.
    pub fn into_message(self) -> Result<Message, StoreError> {
        let session_type = SessionType::try_from(self.session_type).map_err(|err| {
            StoreError::Corrupt(format!("stored message has an invalid session type: {err}"))
        })?;
        Ok(Message {
            conversation_id: self.conversation_id.into_owned(),
            seq: self.seq,
            client_msg_id: self.client_msg_id.into_owned(),
            server_msg_id: self.server_msg_id.into_owned(),
            send_id: self.send_id.into_owned(),
            recv_id: self.recv_id.into_owned(),
            group_id: self.group_id.into_owned(),
            sender_platform_id: self.sender_platform_id,
            sender_nickname: self.sender_nickname.into_owned(),
            sender_face_url: self.sender_face_url.into_owned(),
            session_type,
            msg_from: self.msg_from,
            content_type: self.content_type,
            content: match self.content {
                StoredContent::Text(text) => Content::Text(text.into_owned()),
                StoredContent::Raw(bytes) => Content::Raw(bytes.0.into_owned()),
                StoredContent::Other(content) => content.into_owned(),
            },
            send_time: self.send_time,
            create_time: self.create_time,
            status: self.status.into_owned(),
            is_read: self.is_read,
            options: self.options.into_owned(),
            at_user_ids: self.at_user_ids.into_owned(),
            attached_info: self.attached_info.into_owned(),
            ex: self.ex.into_owned(),
        })
    }
}

/// The record of a message, ready to write.
pub fn message_to_js(message: &Message) -> Result<JsValue, StoreError> {
    to_js(&StoredMessage::of(message), "a message")
}

/// A stored message.
pub fn message_from_js(value: JsValue) -> Result<Message, StoreError> {
    from_js::<StoredMessage<'static>>(value, "message")?.into_message()
}

/// Stored messages, in the order given.
pub fn messages_from_js(values: Vec<JsValue>) -> Result<Vec<Message>, StoreError> {
    values.into_iter().map(message_from_js).collect()
}

/// Bytes written as one `Uint8Array`.
struct Bytes<'a>(Cow<'a, [u8]>);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Bytes<'_> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;

        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = Vec<u8>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }

            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(byte) = seq.next_element()? {
                    bytes.push(byte);
                }
                Ok(bytes)
            }
        }

        deserializer
            .deserialize_byte_buf(BytesVisitor)
            .map(|bytes| Bytes(Cow::Owned(bytes)))
    }
}
