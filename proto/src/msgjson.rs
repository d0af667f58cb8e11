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
//! [`Json::parse`] and [`to_text`] convert no number to or from floating point: an integer that
//! fits is a [`Json::U64`] or [`Json::I64`], and any other number stays the text it was written
//! as ([`Json::Number`]); in this protocol such numbers occur only inside JSON that is passed
//! through. Only the serde impls, which native code uses, convert: a float from a deserializer
//! becomes its shortest round-trip text, and number text is serialized as its nearest `f64`.
//!
//! This module only converts values; it performs no I/O.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

/// A JSON value as read, before it is matched against a message's fields.
///
/// Objects keep their members in input order, duplicates included, so a repeated key can be
/// reported. An integer that fits is kept as [`Json::U64`] or [`Json::I64`]; any other number
/// is kept as its JSON text in [`Json::Number`].
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
    /// A number that is not an integer in `i64` or `u64` range (it has a fraction or an
    /// exponent, is `-0`, or is an integer outside both ranges), kept as its JSON number text:
    /// `1.5`, `-0`, `1E+2`, `18446744073709551616`. Written back unchanged.
    Number(String),
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
            Json::Number(_) => "floating point",
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
        // Rust's shortest round-trip form (`0.1`, `1.0`, `-0.0`, `1e16`, `5e-324`) is JSON
        // number text that reads back as `v`; non-finite values become `null`, as serde_json
        // writes them.
        Ok(if v.is_finite() {
            Json::Number(format!("{v:?}"))
        } else {
            Json::Null
        })
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
        JsonError::text(format!("{message}"))
    }

    /// The error's text.
    pub fn into_text(self) -> String {
        *self.0
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
            Json::Number(text) => Out::Number(text),
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
    /// A JSON number written as its text, unchanged (see [`Json::Number`]); the text must be a
    /// JSON number.
    Number(&'a str),
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

scalar_to_json!(i32 => I32, i64 => I64, u32 => U32, u64 => U64, bool => Bool);

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
            // Its nearest `f64` (infinite beyond the range, which serde_json writes as `null`).
            Out::Number(text) => match text.parse::<f64>() {
                Ok(v) => s.serialize_f64(v),
                Err(_) => Err(ser::Error::custom(format_args!(
                    "invalid JSON number {text:?}"
                ))),
            },
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

    /// A float from serde reaches the tree as number text, not an integer, that reads back as
    /// the same value (a non-finite one as `null`, as serde_json writes it); written through
    /// serde, it is that value again.
    fn float_from_serde(f: f64) -> Result<Json, TestCaseError> {
        let json = Json::deserialize(de::value::F64Deserializer::<de::value::Error>::new(f));
        let json = json.map_err(|err| TestCaseError::fail(err.to_string()))?;
        if !f.is_finite() {
            prop_assert_eq!(&json, &Json::Null);
            return Ok(json);
        }
        let Json::Number(text) = &json else {
            return Err(TestCaseError::fail(format!("{f:?}: {json:?}")));
        };
        prop_assert_eq!(Json::parse(text), Ok(json.clone()));
        prop_assert_eq!(text.parse::<f64>().map(f64::to_bits), Ok(f.to_bits()));
        prop_assert_eq!(
            serde_json::to_string(&json.to_out()).unwrap(),
            serde_json::to_string(&f).unwrap()
        );
        Ok(json)
    }

    proptest! {
        #[test]
        fn floats_from_serde_are_kept_as_number_text(bits in any::<u64>()) {
            float_from_serde(f64::from_bits(bits))?;
        }
    }

    #[test]
    fn floats_from_serde_at_the_edges() {
        for (f, text) in [
            (1.0, "1.0"),
            (123.0, "123.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e16"),
            (1e-7, "1e-7"),
            (-1.5e300, "-1.5e300"),
            (f64::MAX, "1.7976931348623157e308"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(float_from_serde(f).unwrap(), Json::Number(text.into()));
        }
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(float_from_serde(f).unwrap(), Json::Null);
        }
        // serde_json's reading of a number that is no integer in range.
        assert_eq!(
            serde_json::from_str::<Json>("[1E+2,-0,18446744073709551616]").unwrap(),
            Json::List(vec![
                Json::Number("100.0".into()),
                Json::Number("-0.0".into()),
                Json::Number("1.8446744073709552e19".into()),
            ])
        );
        // An `f32` arrives through `visit_f64`, as its exact `f64` value.
        let single = Json::deserialize(de::value::F32Deserializer::<de::value::Error>::new(0.1));
        assert_eq!(single.unwrap(), Json::Number("0.10000000149011612".into()));
    }

    #[test]
    fn integer_errors_name_the_value() {
        let err = from_text::<u32>("-1").unwrap_err();
        assert_eq!(err.to_string(), "integer -1 out of range");
        let err = from_text::<i32>("2147483648").unwrap_err();
        assert_eq!(err.to_string(), "integer 2147483648 out of range");
        let err = from_text::<i64>("9223372036854775808").unwrap_err();
        assert_eq!(err.to_string(), "integer 9223372036854775808 out of range");
        for text in ["1.5", "-0", "1e2", "18446744073709551616"] {
            let err = from_text::<u64>(text).unwrap_err();
            assert_eq!(
                err.to_string(),
                "invalid type: floating point, expected an integer"
            );
        }
        assert_eq!(from_text::<i32>("null"), Ok(0));
    }
}
