//! serde helpers that make the generated types speak Go `encoding/json`.
//!
//! OpenIM servers marshal their generated Go structs with `encoding/json`, not with protojson: keys
//! are the proto field names as written, every field is present, `bytes` are standard padded
//! base64, unset messages are `null`, and the wrapper messages (`openim.protobuf.*Value`) are bare
//! scalars. On input Go treats `null` as "leave the zero value", ignores unknown keys, and a known
//! key given twice is refused here. The generated messages follow these rules through impls the
//! build script writes; the helpers of this module apply the same rules to hand-written types
//! (content elements, REST bodies).
//!
//! Output shape differs from Go in one deliberate way: empty lists and maps are written as `[]` and
//! `{}`, never `null`, because the official JavaScript SDK throws on `null` lists. Go accepts both.
//!
//! This module only converts values; it performs no I/O.

use std::collections::BTreeMap;
use std::{fmt, io};

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::msgjson::{
    bytes_from_json, deserialize_message, FromJson, Json, JsonError, Out, ToJson,
};
use crate::pb::protobuf::{
    BoolValue, BytesValue, DoubleValue, FloatValue, Int32Value, Int64Value, StringValue,
    UInt32Value, UInt64Value,
};

/// Reads a value, treating JSON `null` as the type's default (Go leaves the zero value on `null`).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a list: `null` is the empty list, and `null` elements become default values.
pub fn seq_null_as_default<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    let items = Option::<Vec<NullAsDefault<T>>>::deserialize(deserializer)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .map(|item| item.0)
        .collect())
}

/// Reads a map: `null` is the empty map, and `null` values become default values.
pub fn map_null_as_default<'de, D, K, V>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de> + Default,
{
    let entries = Option::<BTreeMap<K, NullAsDefault<V>>>::deserialize(deserializer)?;
    Ok(entries
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect())
}

/// A value whose JSON `null` reads as `T::default()`; used for list elements and map values.
struct NullAsDefault<T>(T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for NullAsDefault<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        null_as_default(deserializer).map(NullAsDefault)
    }
}

/// `bytes` fields as standard padded base64 (Go's `[]byte` rule); `null` reads as empty.
///
/// Use with `#[serde(with = "chorus_proto::json::base64_bytes")]` on a `Vec<u8>`.
pub mod base64_bytes {
    use super::*;

    /// Writes the bytes as one base64 string.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode_base64(bytes))
    }

    /// Reads a base64 string or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(Vec::new()),
            Some(text) => decode_base64(&text).map_err(de::Error::custom),
        }
    }
}

/// Appends `bytes` to `out` as standard padded base64 (RFC 4648 §4), the text Go's `[]byte` JSON
/// encoding writes.
pub(crate) fn encode_base64_into(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| chunk.get(i).map_or(0, |&b| u32::from(b));
        let group = (b(0) << 16) | (b(1) << 8) | b(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (group >> (18 - 6 * i)) & 63;
                out.push(char::from(ALPHABET[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

/// `bytes` as standard padded base64 (see [`encode_base64_into`]).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::new();
    encode_base64_into(bytes, &mut out);
    out
}

/// Decodes standard padded base64 the way Go's `[]byte` JSON decoding does (it drops `\r` and `\n`).
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, Base64Error> {
    if text.contains(['\r', '\n']) {
        let cleaned: Vec<u8> = text
            .bytes()
            .filter(|b| !matches!(b, b'\r' | b'\n'))
            .collect();
        decode_base64_strict(&cleaned)
    } else {
        decode_base64_strict(text.as_bytes())
    }
}

/// Why a base64 text was refused, and at which byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Base64Error {
    /// What is wrong.
    pub(crate) what: &'static str,
    /// Byte offset in the text (after dropped line breaks).
    pub(crate) offset: usize,
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.what, self.offset)
    }
}

/// Decodes standard padded base64 (RFC 4648 §4) in its canonical form only: the length is a
/// multiple of four, `=` pads only the last group and only as far as needed, and the bits the
/// padding leaves over are zero.
pub(crate) fn decode_base64_strict(text: &[u8]) -> Result<Vec<u8>, Base64Error> {
    let fail = |what, offset| Err(Base64Error { what, offset });
    if !text.len().is_multiple_of(4) {
        return fail("length is not a multiple of 4", text.len());
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (group_index, group) in text.chunks_exact(4).enumerate() {
        let start = group_index * 4;
        let last = start + 4 == text.len();
        // Padding: at most two `=`, only at the end of the last group.
        let pad = group.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return fail("misplaced padding", start + 4 - pad);
        }
        let mut bits = 0u32;
        for (i, &symbol) in group.iter().take(4 - pad).enumerate() {
            let value = match symbol {
                b'A'..=b'Z' => symbol - b'A',
                b'a'..=b'z' => symbol - b'a' + 26,
                b'0'..=b'9' => symbol - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return fail("invalid symbol", start + i),
            };
            bits = (bits << 6) | u32::from(value);
        }
        bits <<= 6 * pad;
        let bytes = bits.to_be_bytes();
        let keep = 3 - pad;
        if bytes[1 + keep..].iter().any(|&b| b != 0) {
            return fail("nonzero bits after the last byte", start + 3 - pad);
        }
        out.extend_from_slice(&bytes[1..1 + keep]);
    }
    Ok(out)
}

/// Wrapper messages are written as their bare scalar and read from it, each with its reader.
///
/// A wrapper field is an `Option<…Value>`, so `null` or a missing key is `None` ("not set") without
/// any help from these impls; a bare wrapper does not accept `null`.
macro_rules! scalar_wrapper_json {
    ($($wrapper:ident => $variant:ident, $read:path);* $(;)?) => {$(
        impl ToJson for $wrapper {
            fn to_out(&self) -> Out<'_> {
                Out::$variant(self.value)
            }
        }

        impl FromJson for $wrapper {
            fn from_json(value: Json) -> Result<Self, JsonError> {
                not_null(&value)?;
                $read(value).map(|value| $wrapper { value })
            }
        }
    )*};
}

/// The reader of the 64-bit wrappers, which are written as JSON numbers (like the Go wrappers):
/// a number or a decimal string (the protojson form), so either producer is understood.
fn number_or_decimal<T>(value: Json) -> Result<T, JsonError>
where
    T: FromJson + std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match value {
        Json::Str(text) => text.parse().map_err(JsonError::from_display),
        value => T::from_json(value),
    }
}

/// Serde impls of the wrappers: through [`ToJson`] and [`FromJson`], like the messages.
macro_rules! wrapper_serde {
    ($($wrapper:ident),* $(,)?) => {$(
        impl Serialize for $wrapper {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.to_out().serialize(serializer)
            }
        }

        impl<'de> Deserialize<'de> for $wrapper {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_message(deserializer)
            }
        }
    )*};
}

fn not_null(value: &Json) -> Result<(), JsonError> {
    match value {
        Json::Null => Err(JsonError::from_display(
            "invalid type: null, expected a scalar",
        )),
        _ => Ok(()),
    }
}

scalar_wrapper_json! {
    Int32Value => I32, FromJson::from_json;
    UInt32Value => U32, FromJson::from_json;
    BoolValue => Bool, FromJson::from_json;
    Int64Value => I64, number_or_decimal;
    UInt64Value => U64, number_or_decimal;
}

impl ToJson for StringValue {
    fn to_out(&self) -> Out<'_> {
        Out::Str(&self.value)
    }
}

impl FromJson for StringValue {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        not_null(&value)?;
        String::from_json(value).map(|value| StringValue { value })
    }
}

impl ToJson for BytesValue {
    fn to_out(&self) -> Out<'_> {
        Out::Bytes(&self.value)
    }
}

impl FromJson for BytesValue {
    fn from_json(value: Json) -> Result<Self, JsonError> {
        not_null(&value)?;
        bytes_from_json(value).map(|value| BytesValue { value })
    }
}

wrapper_serde! {
    StringValue, Int32Value, UInt32Value, BoolValue, Int64Value, UInt64Value, BytesValue,
}

/// Serde impls of the floating-point wrappers: the bare number, through serde's own `f64` and
/// `f32` impls (any JSON number is read, `null` is refused). They have no [`ToJson`] or
/// [`FromJson`] impls: the `msgjson` layer keeps non-integer numbers as text and converts none.
macro_rules! float_wrapper_serde {
    ($($wrapper:ident => $float:ty, $write:ident);* $(;)?) => {$(
        impl Serialize for $wrapper {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.$write(self.value)
            }
        }

        impl<'de> Deserialize<'de> for $wrapper {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <$float>::deserialize(deserializer).map(|value| $wrapper { value })
            }
        }
    )*};
}

float_wrapper_serde! {
    DoubleValue => f64, serialize_f64;
    FloatValue => f32, serialize_f32;
}

/// Serialises `value` to JSON bytes exactly as Go's `json.Marshal` writes strings: `<`, `>`, `&`,
/// U+2028 and U+2029 are escaped as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`.
///
/// Any JSON reader accepts either form; matching Go byte for byte keeps content produced here
/// identical to what an OpenIM server would store.
pub fn to_go_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

/// [`to_go_vec`] as a `String`.
pub fn to_go_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let bytes = to_go_vec(value)?;
    // The formatter only ever writes UTF-8 (serde_json input is `str`, escapes are ASCII).
    String::from_utf8(bytes).map_err(|err| serde::ser::Error::custom(err.utf8_error()))
}

/// Compact JSON with Go's HTML-safe string escaping.
#[derive(Debug, Clone, Copy, Default)]
struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            let escape = match ch {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..index])?;
            writer.write_all(escape.as_bytes())?;
            start = index + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::{decode_base64, decode_base64_strict, encode_base64, encode_base64_into};

    #[test]
    fn float_wrappers_are_bare_numbers() {
        use crate::pb::protobuf::{DoubleValue, FloatValue};
        let double = DoubleValue { value: 1.5 };
        assert_eq!(serde_json::to_string(&double).unwrap(), "1.5");
        assert_eq!(serde_json::from_str::<DoubleValue>("1.5").unwrap(), double);
        assert_eq!(
            serde_json::from_str::<DoubleValue>("-2").unwrap().value,
            -2.0
        );
        assert_eq!(
            serde_json::from_str::<FloatValue>("0.1").unwrap().value,
            0.1f32
        );
        assert_eq!(
            serde_json::to_string(&FloatValue { value: 0.1 }).unwrap(),
            "0.1"
        );
        for bad in ["null", "\"1\"", "true", "{}"] {
            assert!(serde_json::from_str::<DoubleValue>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<FloatValue>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base64_is_the_standard_padded_text() {
        let engine = &base64::engine::general_purpose::STANDARD;
        assert_eq!(encode_base64(b""), "");
        assert_eq!(encode_base64(b"f"), "Zg==");
        assert_eq!(encode_base64(b"fo"), "Zm8=");
        assert_eq!(encode_base64(b"foo"), "Zm9v");
        assert_eq!(encode_base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode_base64(&[0xfb, 0xff, 0xbf]), "+/+/");
        // Every length up to a few groups, with every byte value somewhere.
        for len in 0..=70usize {
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    (i as u8)
                        .wrapping_mul(37)
                        .wrapping_add((len as u8).wrapping_mul(11))
                })
                .collect();
            let text = encode_base64(&bytes);
            assert_eq!(text, engine.encode(&bytes), "{len}");
            assert_eq!(decode_base64(&text).unwrap(), bytes);
        }
        let every: Vec<u8> = (0..=255).collect();
        assert_eq!(encode_base64(&every), engine.encode(&every));
        // Appending keeps what the text already holds.
        let mut out = String::from("\"");
        encode_base64_into(b"hi", &mut out);
        assert_eq!(out, "\"aGk=");
    }

    /// Our decoder accepts exactly what the base64 crate's standard engine accepts (canonical
    /// padding, no leftover bits) and yields the same bytes: every text of up to six symbols over
    /// an alphabet that hits each rule, and every eight-symbol text over a smaller one.
    #[test]
    fn base64_decoding_agrees_with_the_standard_engine() {
        let engine = &base64::engine::general_purpose::STANDARD;
        fn each(alphabet: &[u8], len: usize, text: &mut Vec<u8>, check: &mut dyn FnMut(&[u8])) {
            if text.len() == len {
                return check(text);
            }
            for &symbol in alphabet {
                text.push(symbol);
                each(alphabet, len, text, check);
                text.pop();
            }
        }
        let (mut accepted, mut refused) = (0, 0);
        let mut check = |text: &[u8]| match (decode_base64_strict(text), engine.decode(text)) {
            (Ok(ours), Ok(theirs)) => {
                assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(text));
                accepted += 1;
            }
            (Err(_), Err(_)) => refused += 1,
            (ours, theirs) => panic!(
                "{:?}: {ours:?} vs {theirs:?}",
                String::from_utf8_lossy(text)
            ),
        };
        for len in 0..=6 {
            each(b"AQgw/+=!", len, &mut Vec::new(), &mut check);
        }
        each(b"AQw=-", 8, &mut Vec::new(), &mut check);
        assert!(accepted > 1000 && refused > 1000, "{accepted} {refused}");

        // Line breaks are dropped only by the JSON `[]byte` reader, as Go does.
        assert_eq!(decode_base64("Zm9v\r\nYmFy").unwrap(), b"foobar");
        assert!(decode_base64_strict(b"Zm9v\r\nYmFy").is_err());
        let error = decode_base64("Zm9v!mFy").unwrap_err();
        assert_eq!(error.to_string(), "invalid symbol at offset 4");
        assert_eq!(
            decode_base64("Zg=").unwrap_err().to_string(),
            "length is not a multiple of 4 at offset 3"
        );
        assert_eq!(
            decode_base64("Zh==").unwrap_err().to_string(),
            "nonzero bits after the last byte at offset 1"
        );
        assert_eq!(
            decode_base64("Zg==Zg==").unwrap_err().to_string(),
            "misplaced padding at offset 2"
        );
    }
}
