//! Small pieces for building and reading [`Json`] trees: REST request bodies, REST answers and
//! tab messages all go through `chorus_proto::msgjson`, the one JSON reader and writer of the
//! browser build.

use chorus_proto::msgjson::{Json, Out, ToJson};

/// An object with `members`, keys in byte order (the order `serde_json::Value` keeps them in,
/// so request bodies keep the text they always had).
/// Members with equal keys keep their order.
pub fn object(members: Vec<(&str, Json)>) -> Json {
    let mut sorted: Vec<(String, Json)> = Vec::with_capacity(members.len());
    for (key, value) in members {
        let at = sorted.partition_point(|(k, _)| k.as_str() <= key);
        sorted.insert(at, (key.to_owned(), value));
    }
    Json::Obj(sorted)
}

/// A string value.
pub fn text(value: &str) -> Json {
    Json::Str(value.to_owned())
}

/// A list of strings.
pub fn texts(values: &[String]) -> Json {
    let mut list = Vec::with_capacity(values.len());
    for value in values {
        list.push(text(value));
    }
    Json::List(list)
}

/// An integer value.
pub fn int(value: i64) -> Json {
    if value < 0 {
        Json::I64(value)
    } else {
        Json::U64(value.unsigned_abs())
    }
}

/// The value of `key` in an object (the last one when repeated, as a map keeps it); `None` for
/// other values and absent keys.
pub fn member<'a>(value: &'a Json, key: &str) -> Option<&'a Json> {
    match value {
        Json::Obj(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

/// The one member of an object of one member (an externally tagged enum value).
pub fn single(value: &Json) -> Option<(&str, &Json)> {
    match value {
        Json::Obj(members) if members.len() == 1 => {
            members.first().map(|(key, value)| (key.as_str(), value))
        }
        _ => None,
    }
}

/// A string value's text.
pub fn as_text(value: &Json) -> Option<&str> {
    match value {
        Json::Str(text) => Some(text),
        _ => None,
    }
}

/// A boolean value.
pub fn as_bool(value: &Json) -> Option<bool> {
    match value {
        Json::Bool(flag) => Some(*flag),
        _ => None,
    }
}

/// A non-negative integer value.
pub fn as_u64(value: &Json) -> Option<u64> {
    match value {
        Json::U64(n) => Some(*n),
        Json::I64(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

/// An integer value in the range of `i64`.
pub fn as_i64(value: &Json) -> Option<i64> {
    match value {
        Json::I64(n) => Some(*n),
        Json::U64(n) => i64::try_from(*n).ok(),
        _ => None,
    }
}

/// A borrowed string written as a JSON string.
pub struct Quoted<'a>(pub &'a str);

impl ToJson for Quoted<'_> {
    fn to_out(&self) -> Out<'_> {
        Out::Str(self.0)
    }
}

/// `text` as a JSON string literal, escaped as `serde_json` escapes it.
pub fn quoted(text: &str) -> String {
    chorus_proto::msgjson::to_text(&Quoted(text))
}
