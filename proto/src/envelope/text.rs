//! Text frames of the gateway: ping/pong (`{"type":"ping"|"pong","body":<any JSON>}`) and the handshake
//! result (`{"errCode":0,"errMsg":"","errDlt":""}`). Text frames are never compressed.
//!
//! A ping/pong body is kept as raw JSON text: the gateway echoes it verbatim (compacted, as Go's
//! `json.RawMessage` does), and a client may put any JSON value there. Keys are matched as Go matches
//! them for these structs (ASCII case-insensitively, the last occurrence wins). No I/O, no panics on input.

use serde::Serialize;

use crate::error::{DecodeError, EncodeError};
use crate::jsontext;
use crate::msgjson::{FieldSink, Json, JsonError, Out, WriteFields};

/// Exactly one JSON value, stored compacted (no whitespace outside strings).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawJson(String);

impl RawJson {
    /// Validates that `text` is exactly one JSON value (surrounding whitespace allowed) and compacts it.
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        let raw = jsontext::raw_value(text).map_err(decode_error)?;
        Ok(Self(compact(raw.as_bytes())))
    }

    /// JSON `null`.
    pub fn null() -> Self {
        Self("null".to_owned())
    }

    /// A JSON string literal holding `s` (what the official Go SDK puts in its pings: an operation id).
    pub fn string(s: &str) -> Self {
        Self(jsontext::write(Out::Str(s), false))
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a string if it is a JSON string.
    pub fn as_string(&self) -> Option<String> {
        match Json::parse(&self.0) {
            Ok(Json::Str(s)) => Some(s),
            _ => None,
        }
    }
}

impl std::fmt::Display for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A ping or pong text frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextFrame {
    /// `body: None` = the key was absent (encoded without `body`).
    Ping {
        body: Option<RawJson>,
    },
    Pong {
        body: Option<RawJson>,
    },
}

impl TextFrame {
    /// Parses a text frame; a `type` other than `ping`/`pong` is [`DecodeError::UnknownTextFrameType`].
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let members = jsontext::raw_members(text).map_err(decode_error)?;
        let mut kind: Option<&str> = None;
        let mut body: Option<&str> = None;
        for (key, raw) in members {
            if key.eq_ignore_ascii_case("type") {
                kind = Some(raw);
            } else if key.eq_ignore_ascii_case("body") {
                body = Some(raw);
            }
        }
        let kind = match kind.map(Json::parse) {
            None | Some(Ok(Json::Null)) => None,
            Some(Ok(Json::Str(kind))) => Some(kind),
            Some(Ok(other)) => {
                return Err(json_error(&format!(
                    "field type: invalid type: {}, expected a string",
                    other.kind()
                )))
            }
            Some(Err(e)) => return Err(json_error(&format!("field type: {e}"))),
        };
        let body = body.map(|raw| RawJson(compact(raw.as_bytes())));
        match kind.as_deref() {
            Some("ping") => Ok(Self::Ping { body }),
            Some("pong") => Ok(Self::Pong { body }),
            other => Err(DecodeError::UnknownTextFrameType(
                other.unwrap_or_default().to_owned(),
            )),
        }
    }

    /// The frame's text.
    pub fn encode(&self) -> String {
        let (kind, body) = match self {
            Self::Ping { body } => ("ping", body),
            Self::Pong { body } => ("pong", body),
        };
        match body {
            Some(body) => format!(r#"{{"type":"{kind}","body":{}}}"#, body.0),
            None => format!(r#"{{"type":"{kind}"}}"#),
        }
    }

    /// The gateway's answer: a pong echoing a ping's body (`null` when the ping had none); nothing for a
    /// pong.
    pub fn reply(&self) -> Option<Self> {
        match self {
            Self::Ping { body } => Some(Self::Pong {
                body: Some(body.clone().unwrap_or_else(RawJson::null)),
            }),
            Self::Pong { .. } => None,
        }
    }
}

/// The text frame a gateway sends first when `isMsgResp=true` (and the HTTP body of a refused handshake):
/// `{"errCode":…,"errMsg":…,"errDlt":…}`, without `data`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HandshakeResult {
    #[serde(rename = "errCode")]
    pub err_code: i32,
    #[serde(rename = "errMsg")]
    pub err_msg: String,
    #[serde(rename = "errDlt")]
    pub err_dlt: String,
}

impl HandshakeResult {
    /// Success: `{"errCode":0,"errMsg":"","errDlt":""}`.
    pub fn ok() -> Self {
        Self::default()
    }

    /// A refusal with an OpenIM error code (1501–1507 token errors, 1601, 1602 …).
    pub fn error(err_code: i32, err_msg: impl Into<String>, err_dlt: impl Into<String>) -> Self {
        Self {
            err_code,
            err_msg: err_msg.into(),
            err_dlt: err_dlt.into(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.err_code == 0
    }

    /// Parses the frame (or HTTP body); absent or `null` keys are zero, unknown keys (`data`) ignored.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut h = Self::default();
        super::json::Object::parse(bytes)?.read(
            &["errCode", "errMsg", "errDlt"],
            &mut [&mut h.err_code, &mut h.err_msg, &mut h.err_dlt],
        )?;
        Ok(h)
    }

    /// The frame's text, keys in the order the gateway writes them.
    pub fn encode(&self) -> String {
        jsontext::write(Out::Msg(self), false)
    }
}

impl WriteFields for HandshakeResult {
    fn field_count(&self) -> usize {
        3
    }

    fn write_fields(&self, sink: &mut dyn FieldSink) {
        sink.field("errCode", Out::I32(self.err_code));
        sink.field("errMsg", Out::Str(&self.err_msg));
        sink.field("errDlt", Out::Str(&self.err_dlt));
    }
}

impl TryFrom<&str> for RawJson {
    type Error = EncodeError;

    fn try_from(text: &str) -> Result<Self, EncodeError> {
        Self::parse(text).map_err(|e| EncodeError::Invalid {
            field: "body",
            detail: format!("{e}"),
        })
    }
}

fn json_error(detail: &str) -> DecodeError {
    DecodeError::Json {
        detail: detail.to_owned(),
    }
}

fn decode_error(e: JsonError) -> DecodeError {
    DecodeError::Json {
        detail: e.into_text(),
    }
}

/// Removes whitespace outside strings from valid JSON text (what Go does when it re-emits a raw value).
fn compact(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    for &b in raw {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
    }
    // The input is UTF-8 and only ASCII whitespace was removed, so this is lossless.
    String::from_utf8_lossy(&out).into_owned()
}
