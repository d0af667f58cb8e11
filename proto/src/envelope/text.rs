//! Text frames of the gateway: ping/pong (`{"type":"ping"|"pong","body":<any JSON>}`) and the handshake
//! result (`{"errCode":0,"errMsg":"","errDlt":""}`). Text frames are never compressed.
//!
//! A ping/pong body is kept as raw JSON text: the gateway echoes it verbatim (compacted, as Go's
//! `json.RawMessage` does), and a client may put any JSON value there. Keys are matched as Go matches
//! them for these structs (ASCII case-insensitively, the last occurrence wins). No I/O, no panics on input.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};

/// Exactly one JSON value, stored compacted (no whitespace outside strings).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawJson(String);

impl RawJson {
    /// Validates that `text` is exactly one JSON value (surrounding whitespace allowed) and compacts it.
    pub fn parse(text: &str) -> Result<Self, DecodeError> {
        let bytes = text.as_bytes();
        let start = skip_ws(bytes, 0);
        let (_, len) = one_value::<IgnoredAny>(bytes.get(start..).unwrap_or_default())?;
        if skip_ws(bytes, start + len) != bytes.len() {
            return Err(json_error("trailing characters after the JSON value"));
        }
        Ok(Self(compact(
            bytes.get(start..start + len).unwrap_or_default(),
        )))
    }

    /// JSON `null`.
    pub fn null() -> Self {
        Self("null".to_owned())
    }

    /// A JSON string literal holding `s` (what the official Go SDK puts in its pings: an operation id).
    pub fn string(s: &str) -> Self {
        Self(serde_json::to_string(s).unwrap_or_else(|_| "null".to_owned()))
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a string if it is a JSON string.
    pub fn as_string(&self) -> Option<String> {
        serde_json::from_slice(self.0.as_bytes()).ok()
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
        let members = object_members(text.as_bytes())?;
        let mut kind: Option<&[u8]> = None;
        let mut body: Option<&[u8]> = None;
        for (key, raw) in members {
            if key.eq_ignore_ascii_case("type") {
                kind = Some(raw);
            } else if key.eq_ignore_ascii_case("body") {
                body = Some(raw);
            }
        }
        let kind: Option<String> = match kind {
            None => None,
            Some(raw) => {
                serde_json::from_slice(raw).map_err(|e| json_error(&format!("field type: {e}")))?
            }
        };
        let body = body.map(|raw| RawJson(compact(raw)));
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
        let mut h = super::json::Object::parse(bytes)?;
        Ok(Self {
            err_code: h.take("errCode")?,
            err_msg: h.take("errMsg")?,
            err_dlt: h.take("errDlt")?,
        })
    }

    /// The frame's text, keys in the order the gateway writes them.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl TryFrom<&str> for RawJson {
    type Error = EncodeError;

    fn try_from(text: &str) -> Result<Self, EncodeError> {
        Self::parse(text).map_err(|e| EncodeError::Invalid {
            field: "body",
            detail: e.to_string(),
        })
    }
}

fn json_error(detail: &str) -> DecodeError {
    DecodeError::Json {
        detail: detail.to_owned(),
    }
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        pos += 1;
    }
    pos
}

/// Parses one JSON value at the start of `bytes`; returns it and the number of bytes it spans.
fn one_value<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<(T, usize), DecodeError> {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<T>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, stream.byte_offset())),
        Some(Err(e)) => Err(DecodeError::Json {
            detail: e.to_string(),
        }),
        None => Err(json_error("expected a JSON value")),
    }
}

/// The members of a top-level JSON object, each value as its raw text (validated by serde_json).
fn object_members(bytes: &[u8]) -> Result<Vec<(String, &[u8])>, DecodeError> {
    let mut members = Vec::new();
    let mut pos = skip_ws(bytes, 0);
    if bytes.get(pos) != Some(&b'{') {
        return Err(json_error("expected a JSON object"));
    }
    pos = skip_ws(bytes, pos + 1);
    if bytes.get(pos) == Some(&b'}') {
        pos += 1;
    } else {
        loop {
            if bytes.get(pos) != Some(&b'"') {
                return Err(json_error("expected a key"));
            }
            let (key, len) = one_value::<String>(bytes.get(pos..).unwrap_or_default())?;
            pos = skip_ws(bytes, pos + len);
            if bytes.get(pos) != Some(&b':') {
                return Err(json_error("expected ':'"));
            }
            pos = skip_ws(bytes, pos + 1);
            let (_, len) = one_value::<IgnoredAny>(bytes.get(pos..).unwrap_or_default())?;
            members.push((key, bytes.get(pos..pos + len).unwrap_or_default()));
            pos = skip_ws(bytes, pos + len);
            match bytes.get(pos) {
                Some(b',') => pos = skip_ws(bytes, pos + 1),
                Some(b'}') => {
                    pos += 1;
                    break;
                }
                _ => return Err(json_error("expected ',' or '}'")),
            }
        }
    }
    if skip_ws(bytes, pos) != bytes.len() {
        return Err(json_error("trailing characters after the JSON object"));
    }
    Ok(members)
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
