//! The serde impls of the generated messages, shaped so that each message adds little code.
//!
//! A derived impl is generic over the serializer or deserializer, so every message would carry its
//! own field visitor once per (de)serializer type. Here the generic part is shared by all
//! messages: input is first read into a [`Json`] tree (one instantiation per deserializer), and a
//! small non-generic function per message takes its fields out of the tree by key. Output goes
//! through [`Out`], a borrowed view of one value that one generic impl writes for every message.
//!
//! The rules are those of [`crate::json`]: keys as written in the schema, every field written,
//! `null` (or a missing key) read as the zero value, `bytes` as padded base64, unknown keys
//! ignored, a known key given twice is an error. The build script generates the per-message impls.
//! The same pieces are public for hand-written types elsewhere: [`Json::parse`] / [`from_text`]
//! read JSON text, [`to_text`] writes it, [`Fields`] takes an object's members by key, and
//! [`ToJson`] + [`WriteFields`] describe a value to write.
//!
//! This module only converts values; it performs no I/O.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

/// A JSON value as read, before it is matched against a message's fields.
///
/// Objects keep their members in input order, duplicates included, so a repeated key can be
/// reported; numbers keep the form the reader reported them in (`i64`, `u64` or `f64`).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative integer (or any integer read as signed).
    I64(i64),
    /// A non-negative integer.
    U64(u64),
    /// A number with a fraction or an exponent.
    F64(f64),
    /// A string.
    Str(String),
    /// An array.
    List(Vec<Json>),
    /// An object: members in input order, duplicates kept.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// Parses JSON text (one value, surrounding whitespace allowed), accepting what
    /// `serde_json::from_str` accepts; errors name the line and column.
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        crate::jsontext::parse(text)
    }

    /// The value as compact JSON text, as `serde_json::to_string` writes it.
    pub fn to_text(&self) -> String {
        to_text(self)
    }

    /// The kind of value, as error messages name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::I64(_) | Json::U64(_) => "integer",
            Json::F64(_) => "floating point",
            Json::Str(_) => "string",
            Json::List(_) => "sequence",
            Json::Obj(_) => "map",
        }
    }

    /// Whether this is an object with a member named `key`.
    pub fn has_key(&self, key: &str) -> bool {
        matches!(self, Json::Obj(members) if members.iter().any(|(k, _)| k == key))
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::I64(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::U64(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::F64(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Json, E> {
        // What a `String` field accepts from a binary-capable reader.
        match std::str::from_utf8(v) {
            Ok(text) => Ok(Json::Str(text.to_owned())),
            Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(v), &self)),
        }
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        Json::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            members.push((key, map.next_value()?));
        }
        Ok(Json::Obj(members))
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

/// Why a [`Json`] tree does not fit the expected type (its text behind one pointer, so results
/// carrying it stay small).
#[derive(Debug, Clone, PartialEq, Eq)]
// `Box<str>` would be two words; the error is a thin pointer so that every `Result` carrying it
// is as small as its `Ok` value allows.
#[allow(clippy::box_collection)]
pub struct JsonError(Box<String>);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

impl JsonError {
    /// An error with the text of `message`.
    pub fn from_display(message: impl fmt::Display) -> JsonError {
        JsonError(Box::new(message.to_string()))
    }

    fn text(message: String) -> JsonError {
        JsonError(Box::new(message))
    }

    fn invalid_type(found: &Json, expected: &str) -> JsonError {
        JsonError::text(format!(
            "invalid type: {}, expected {expected}",
            found.kind()
        ))
    }

    fn in_field(self, key: &str) -> JsonError {
        JsonError::text(format!("{} (field `{key}`)", self.0))
    }

    /// As the error type of a serde (de)serializer.
    pub(crate) fn into_serde<E: de::Error>(self) -> E {
        E::custom(*self.0)
    }
}

/// A value that can be read from a [`Json`] tree; `null` reads as the zero value, except for
/// the scalar wrappers (whose `null` is handled by the `Option` around them).
pub trait FromJson: Sized {
    /// Reads `value`.
    fn from_json(value: Json) -> Result<Self, JsonError>;
}

impl FromJson for String {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match value {
            Json::Null => Ok(String::new()),
            Json::Str(text) => Ok(text),
            other => Err(JsonError::invalid_type(&other, "a string")),
        }
    }
}

impl FromJson for bool {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match value {
            Json::Null => Ok(false),
            Json::Bool(v) => Ok(v),
            other => Err(JsonError::invalid_type(&other, "a boolean")),
        }
    }
}

/// An integer in `min..=max`, as serde's primitive visitors accept it, as the bits of a `u64`
/// (two's complement for negative values) for the caller to cast to its type.
fn integer(value: Json, min: i64, max: u64) -> Result<u64, JsonError> {
    match value {
        Json::Null => Ok(0),
        Json::I64(n) if n >= min && (n < 0 || n as u64 <= max) => Ok(n as u64),
        Json::U64(n) if n <= max => Ok(n),
        Json::I64(n) => Err(JsonError::text(format!("integer {n} out of range"))),
        Json::U64(n) => Err(JsonError::text(format!("integer {n} out of range"))),
        other => Err(JsonError::invalid_type(&other, "an integer")),
    }
}

macro_rules! integer_from_json {
    ($($t:ty),*) => {$(
        impl FromJson for $t {
            fn from_json(value: Json) -> Result<Self, JsonError> {
                // In range, so the cast keeps the value.
                integer(value, <$t>::MIN as i64, <$t>::MAX as u64).map(|n| n as $t)
            }
        }
    )*};
}

integer_from_json!(i32, i64, u32, u64);

impl FromJson for f64 {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match value {
            Json::Null => Ok(0.0),
            Json::I64(n) => Ok(n as f64),
            Json::U64(n) => Ok(n as f64),
            Json::F64(n) => Ok(n),
            other => Err(JsonError::invalid_type(&other, "a number")),
        }
    }
}

impl FromJson for f32 {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        // Each number form converted straight to `f32`, as serde's `f32` visitor does.
        match value {
            Json::Null => Ok(0.0),
            Json::I64(n) => Ok(n as f32),
            Json::U64(n) => Ok(n as f32),
            Json::F64(n) => Ok(n as f32),
            other => Err(JsonError::invalid_type(&other, "a number")),
        }
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        match value {
            Json::Null => Ok(None),
            value => T::from_json(value).map(Some),
        }
    }
}

/// Passes each item of a list (`null` is empty) to `each`, stopping at the first error.
fn list_items(
    value: Json,
    each: &mut dyn FnMut(Json) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    match value {
        Json::Null => Ok(()),
        Json::List(items) => {
            for item in items {
                each(item)?;
            }
            Ok(())
        }
        other => Err(JsonError::invalid_type(&other, "a list")),
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut out = Vec::new();
        list_items(value, &mut |item| {
            out.push(T::from_json(item)?);
            Ok(())
        })?;
        Ok(out)
    }
}

/// Passes each member of a map (`null` is empty) to `each`, stopping at the first error.
fn map_members(
    value: Json,
    each: &mut dyn FnMut(String, Json) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    match value {
        Json::Null => Ok(()),
        Json::Obj(members) => {
            for (key, value) in members {
                each(key, value)?;
            }
            Ok(())
        }
        other => Err(JsonError::invalid_type(&other, "a map")),
    }
}

impl<T: FromJson> FromJson for crate::pb::Map<String, T> {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        let mut out = crate::pb::Map::new();
        // Appended in document order; sorting keeps the last value of a repeated key.
        let read = map_members(value, &mut |key, value| {
            out.push_unsorted(key, T::from_json(value)?);
            Ok(())
        });
        out.sort();
        read?;
        Ok(out)
    }
}

/// Standard padded base64 of a `bytes` value; `null` is empty.
pub fn bytes_from_json(value: Json) -> Result<Vec<u8>, JsonError> {
    match value {
        Json::Null => Ok(Vec::new()),
        Json::Str(text) => crate::json::decode_base64(&text).map_err(JsonError::from_display),
        other => Err(JsonError::invalid_type(&other, "a base64 string")),
    }
}

/// The members of one JSON object, taken out by key while a message is built.
#[derive(Debug)]
pub struct Fields(Vec<(String, Json)>);

impl Fields {
    /// The members of an object; `None` for `null` (the message's zero value).
    pub fn open(value: Json) -> Result<Option<Fields>, JsonError> {
        match value {
            Json::Null => Ok(None),
            Json::Obj(members) => Ok(Some(Fields(members))),
            other => Err(JsonError::invalid_type(&other, "an object")),
        }
    }

    /// The value of `key` (`null` when absent); a key given twice is an error.
    pub fn raw(&mut self, key: &str) -> Result<Json, JsonError> {
        let mut found = None;
        for (index, (name, _)) in self.0.iter().enumerate() {
            if name == key {
                if found.is_some() {
                    return Err(JsonError::text(format!("duplicate field `{key}`")));
                }
                found = Some(index);
            }
        }
        Ok(match found.and_then(|index| self.0.get_mut(index)) {
            Some((_, value)) => std::mem::replace(value, Json::Null),
            None => Json::Null,
        })
    }

    /// Reads the field `key`.
    pub fn take<T: FromJson>(&mut self, key: &str) -> Result<T, JsonError> {
        let value = self.raw(key)?;
        T::from_json(value).map_err(|e| e.in_field(key))
    }

    /// Reads the field `key` into `slot`.
    pub(crate) fn take_into(&mut self, key: &str, slot: &mut dyn Slot) -> Result<(), JsonError> {
        let value = self.raw(key)?;
        slot.set(value).map_err(|e| e.in_field(key))
    }

    /// Reads the `bytes` field `key`.
    pub fn bytes(&mut self, key: &str) -> Result<Vec<u8>, JsonError> {
        let value = self.raw(key)?;
        bytes_from_json(value).map_err(|e| e.in_field(key))
    }
}

/// A place that one field of a struct is read into; see [`read_struct`].
pub trait Slot {
    /// Replaces the value in the place with the one read from `value`.
    fn set(&mut self, value: Json) -> Result<(), JsonError>;
}

impl<T: FromJson> Slot for T {
    fn set(&mut self, value: Json) -> Result<(), JsonError> {
        *self = T::from_json(value)?;
        Ok(())
    }
}

/// A place read with `read`, for field types without a [`FromJson`] impl of their own (a
/// `bytes` field, a wire enum stored as its integer).
#[allow(missing_debug_implementations)]
pub struct With<'a, T> {
    /// The field.
    pub slot: &'a mut T,
    /// Reads the field's value.
    pub read: fn(Json) -> Result<T, JsonError>,
}

impl<T> Slot for With<'_, T> {
    fn set(&mut self, value: Json) -> Result<(), JsonError> {
        *self.slot = (self.read)(value)?;
        Ok(())
    }
}

/// Reads the members of an object into the fields of a struct: `slots[i]` gets the value of
/// `keys[i]`, in that order, each as [`Fields::take`] would read it (`null` when absent; a key
/// given twice is an error; an error names its field). `null` reads as an object without
/// members, so every slot reads `null`; anything else but an object is an error.
pub fn read_struct(
    value: Json,
    keys: &[&str],
    slots: &mut [&mut dyn Slot],
) -> Result<(), JsonError> {
    let mut fields = match value {
        Json::Null => Fields(Vec::new()),
        Json::Obj(members) => Fields(members),
        other => return Err(JsonError::invalid_type(&other, "an object")),
    };
    debug_assert_eq!(keys.len(), slots.len());
    for (key, slot) in keys.iter().zip(slots) {
        fields.take_into(key, *slot)?;
    }
    Ok(())
}

/// Reads a message (or wrapper) from any deserializer: a message must be an object, not `null`.
pub(crate) fn deserialize_message<'de, T: FromJson, D: Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    let value = Json::deserialize(d)?;
    if matches!(value, Json::Null) {
        return Err(JsonError::invalid_type(&value, "an object").into_serde());
    }
    T::from_json(value).map_err(JsonError::into_serde)
}

/// A JSON object of `members`, keys in the given order.
pub fn object(members: Vec<(&str, Json)>) -> Json {
    let mut out = Vec::with_capacity(members.len());
    for (key, value) in members {
        out.push((key.to_owned(), value));
    }
    Json::Obj(out)
}

/// The tag and the value of an externally tagged enum (serde's default form): `"Tag"` (a unit
/// variant, value `null`) or `{"Tag": value}`; `what` names the enum in errors.
pub fn variant(value: Json, what: &str) -> Result<(String, Json), JsonError> {
    match value {
        Json::Str(tag) => Ok((tag, Json::Null)),
        Json::Obj(mut members) => match members.pop() {
            Some(member) if members.is_empty() => Ok(member),
            _ => Err(JsonError::text(format!(
                "expected enum {what}: an object with one member"
            ))),
        },
        other => Err(JsonError::text(format!(
            "invalid type: {}, expected enum {what}",
            other.kind()
        ))),
    }
}

/// Parses JSON text into `T`.
pub fn from_text<T: FromJson>(text: &str) -> Result<T, JsonError> {
    T::from_json(Json::parse(text)?)
}

/// Writes `value` as compact JSON text, as `serde_json::to_string` writes it.
pub fn to_text(value: &dyn ToJson) -> String {
    crate::jsontext::write(value.to_out(), false)
}

/// Writes `value` as compact JSON text with Go's HTML-safe string escapes (`<`, `>`, `&`,
/// U+2028 and U+2029 as `\u` escapes), as `crate::json::to_go_vec` writes it.
pub(crate) fn to_go_text(value: &dyn ToJson) -> String {
    crate::jsontext::write(value.to_out(), true)
}

impl ToJson for Json {
    fn to_out(&self) -> Out<'_> {
        match self {
            Json::Null => Out::Opt(None),
            Json::Bool(v) => Out::Bool(*v),
            Json::I64(v) => Out::I64(*v),
            Json::U64(v) => Out::U64(*v),
            Json::F64(v) => Out::F64(*v),
            Json::Str(v) => Out::Str(v),
            Json::List(items) => Out::List(items),
            Json::Obj(members) => Out::Map(members),
        }
    }
}

impl MapOut for Vec<(String, Json)> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn each(&self, f: &mut dyn FnMut(&str, Out<'_>)) {
        for (key, value) in self {
            f(key, value.to_out());
        }
    }
}

/// A borrowed view of one value to write.
// It borrows trait objects; its text form is `to_text`.
#[allow(missing_debug_implementations)]
#[derive(Clone, Copy)]
pub enum Out<'a> {
    /// A string.
    Str(&'a str),
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// An unsigned 32-bit integer.
    U32(u32),
    /// An unsigned 64-bit integer.
    U64(u64),
    /// A boolean.
    Bool(bool),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// Written as one padded base64 string.
    Bytes(&'a [u8]),
    /// A message: a struct with its fields.
    Msg(&'a dyn WriteFields),
    /// `None` as `null`, `Some` as the value.
    Opt(Option<&'a dyn ToJson>),
    List(&'a dyn ListOut),
    Map(&'a dyn MapOut),
}

/// A value with a view for writing.
pub trait ToJson {
    /// The view of this value.
    fn to_out(&self) -> Out<'_>;
}

/// A message: its field count and its fields in schema order.
pub trait WriteFields {
    /// How many fields `write_fields` passes (a hint for writers).
    fn field_count(&self) -> usize;
    /// Passes each field to `sink`, in output order.
    fn write_fields(&self, sink: &mut dyn FieldSink);
}

/// Passes `values[i]` to `sink` under `keys[i]`, in order: the body of a
/// [`WriteFields::write_fields`] that lists its fields.
pub fn write_each(sink: &mut dyn FieldSink, keys: &[&'static str], values: &[&dyn ToJson]) {
    debug_assert_eq!(keys.len(), values.len());
    for (key, value) in keys.iter().zip(values) {
        sink.field(key, value.to_out());
    }
}

/// Bytes written as one padded base64 string (a `bytes` field).
#[allow(missing_debug_implementations)]
pub struct Base64<'a>(pub &'a [u8]);

impl ToJson for Base64<'_> {
    fn to_out(&self) -> Out<'_> {
        Out::Bytes(self.0)
    }
}

/// Receives the fields of a message.
pub trait FieldSink {
    /// One field.
    fn field(&mut self, key: &'static str, value: Out<'_>);
}

/// A list to write.
#[allow(clippy::len_without_is_empty)]
pub trait ListOut {
    /// The number of items.
    fn len(&self) -> usize;
    /// Passes each item to `f`.
    fn each(&self, f: &mut dyn FnMut(Out<'_>));
}

/// A map with string keys to write, in key order.
#[allow(clippy::len_without_is_empty)]
pub trait MapOut {
    /// The number of entries.
    fn len(&self) -> usize;
    /// Passes each entry to `f`, in output order.
    fn each(&self, f: &mut dyn FnMut(&str, Out<'_>));
}

macro_rules! scalar_to_json {
    ($($t:ty => $variant:ident),*) => {$(
        impl ToJson for $t {
            fn to_out(&self) -> Out<'_> {
                Out::$variant(*self)
            }
        }
    )*};
}

scalar_to_json!(i32 => I32, i64 => I64, u32 => U32, u64 => U64, bool => Bool, f32 => F32, f64 => F64);

impl ToJson for String {
    fn to_out(&self) -> Out<'_> {
        Out::Str(self)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_out(&self) -> Out<'_> {
        Out::Opt(self.as_ref().map(|value| value as &dyn ToJson))
    }
}

impl<T: ToJson> ListOut for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn each(&self, f: &mut dyn FnMut(Out<'_>)) {
        for item in self {
            f(item.to_out());
        }
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_out(&self) -> Out<'_> {
        Out::List(self)
    }
}

impl<T: ToJson> MapOut for crate::pb::Map<String, T> {
    fn len(&self) -> usize {
        crate::pb::Map::len(self)
    }

    fn each(&self, f: &mut dyn FnMut(&str, Out<'_>)) {
        for (key, value) in self {
            f(key, value.to_out());
        }
    }
}

impl<T: ToJson> ToJson for crate::pb::Map<String, T> {
    fn to_out(&self) -> Out<'_> {
        Out::Map(self)
    }
}

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Out::Str(v) => s.serialize_str(v),
            Out::I32(v) => s.serialize_i32(v),
            Out::I64(v) => s.serialize_i64(v),
            Out::U32(v) => s.serialize_u32(v),
            Out::U64(v) => s.serialize_u64(v),
            Out::Bool(v) => s.serialize_bool(v),
            Out::F32(v) => s.serialize_f32(v),
            Out::F64(v) => s.serialize_f64(v),
            Out::Bytes(v) => s.serialize_str(&crate::json::encode_base64(v)),
            Out::Msg(message) => serialize_message(message, s),
            Out::Opt(None) => s.serialize_none(),
            Out::Opt(Some(value)) => s.serialize_some(&value.to_out()),
            Out::List(list) => {
                let mut seq = s.serialize_seq(Some(list.len()))?;
                let mut failed = None;
                list.each(&mut |item| {
                    if failed.is_none() {
                        failed = seq.serialize_element(&item).err();
                    }
                });
                match failed {
                    Some(err) => Err(err),
                    None => seq.end(),
                }
            }
            Out::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                let mut failed = None;
                entries.each(&mut |key, value| {
                    if failed.is_none() {
                        failed = map.serialize_entry(key, &value).err();
                    }
                });
                match failed {
                    Some(err) => Err(err),
                    None => map.end(),
                }
            }
        }
    }
}

/// Collects the fields of a message into a serde struct, keeping the first error.
struct StructSink<'a, S: SerializeStruct> {
    out: &'a mut S,
    failed: Option<S::Error>,
}

impl<S: SerializeStruct> FieldSink for StructSink<'_, S> {
    fn field(&mut self, key: &'static str, value: Out<'_>) {
        if self.failed.is_none() {
            self.failed = self.out.serialize_field(key, &value).err();
        }
    }
}

/// Writes a message as a serde struct: every field, in schema order.
pub(crate) fn serialize_message<S: Serializer>(
    message: &dyn WriteFields,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut out = s.serialize_struct("Message", message.field_count())?;
    let mut sink = StructSink {
        out: &mut out,
        failed: None,
    };
    message.write_fields(&mut sink);
    match sink.failed {
        Some(err) => Err(err),
        None => out.end(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Reads `text` as `T` here and with serde_json: both accept it with the same value, or
    /// both refuse it.
    fn same_integer<T>(text: &str) -> Result<(), TestCaseError>
    where
        T: FromJson + serde::de::DeserializeOwned + PartialEq + fmt::Debug,
    {
        let ours = from_text::<T>(text);
        let theirs = serde_json::from_str::<T>(text);
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs),
            (Err(_), Err(_)) => {}
            (ours, theirs) => prop_assert!(false, "{text}: ours {ours:?}, serde {theirs:?}"),
        }
        Ok(())
    }

    fn edge() -> impl Strategy<Value = i128> {
        let edges = [
            i128::from(i64::MIN),
            i128::from(i32::MIN),
            0,
            i128::from(i32::MAX),
            i128::from(u32::MAX),
            i128::from(i64::MAX),
            i128::from(u64::MAX),
        ];
        prop_oneof![
            prop::sample::select(edges.to_vec()),
            (prop::sample::select(edges.to_vec()), -2i128..=2).prop_map(|(edge, step)| edge + step),
            any::<i64>().prop_map(i128::from),
            any::<u64>().prop_map(i128::from),
        ]
    }

    proptest! {
        #[test]
        fn integers_fit_their_width_as_with_serde(n in edge()) {
            let text = n.to_string();
            same_integer::<i32>(&text)?;
            same_integer::<u32>(&text)?;
            same_integer::<i64>(&text)?;
            same_integer::<u64>(&text)?;
        }
    }

    #[test]
    fn integer_errors_name_the_value() {
        let err = from_text::<u32>("-1").unwrap_err();
        assert_eq!(err.to_string(), "integer -1 out of range");
        let err = from_text::<i32>("2147483648").unwrap_err();
        assert_eq!(err.to_string(), "integer 2147483648 out of range");
        let err = from_text::<i64>("9223372036854775808").unwrap_err();
        assert_eq!(err.to_string(), "integer 9223372036854775808 out of range");
        let err = from_text::<u64>("1.5").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: floating point, expected an integer"
        );
        assert_eq!(from_text::<i32>("null"), Ok(0));
    }
}
