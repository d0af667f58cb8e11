//! The JSON form of the envelopes (`sdkType=js`), as Go `encoding/json` writes and reads it.
//!
//! Keys are matched exactly (the JSON SDKs send exactly these keys; Go would also match them
//! case-insensitively); unknown keys are ignored, `null` means absent, `data` is standard padded base64. A
//! key given twice is an error (Go keeps the last), and so is any top-level value other than an object. Encoding writes every key in the Go struct's order, with `data`
//! `null` when empty. No I/O, no panics on input.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::DecodeError;

use super::{Req, Resp};

#[derive(Deserialize)]
struct ReqIn {
    #[serde(rename = "reqIdentifier", default)]
    req_identifier: Option<i32>,
    #[serde(default)]
    token: Option<String>,
    #[serde(rename = "sendID", default)]
    send_id: Option<String>,
    #[serde(rename = "operationID", default)]
    operation_id: Option<String>,
    #[serde(rename = "msgIncr", default)]
    msg_incr: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

#[derive(Serialize)]
struct ReqOut<'a> {
    #[serde(rename = "reqIdentifier")]
    req_identifier: i32,
    token: &'a str,
    #[serde(rename = "sendID")]
    send_id: &'a str,
    #[serde(rename = "operationID")]
    operation_id: &'a str,
    #[serde(rename = "msgIncr")]
    msg_incr: &'a str,
    data: Option<String>,
}

#[derive(Deserialize)]
struct RespIn {
    #[serde(rename = "reqIdentifier", default)]
    req_identifier: Option<i32>,
    #[serde(rename = "msgIncr", default)]
    msg_incr: Option<String>,
    #[serde(rename = "operationID", default)]
    operation_id: Option<String>,
    #[serde(rename = "errCode", default)]
    err_code: Option<i32>,
    #[serde(rename = "errMsg", default)]
    err_msg: Option<String>,
    #[serde(default)]
    data: Option<String>,
}

#[derive(Serialize)]
struct RespOut<'a> {
    #[serde(rename = "reqIdentifier")]
    req_identifier: i32,
    #[serde(rename = "msgIncr")]
    msg_incr: &'a str,
    #[serde(rename = "operationID")]
    operation_id: &'a str,
    #[serde(rename = "errCode")]
    err_code: i32,
    #[serde(rename = "errMsg")]
    err_msg: &'a str,
    data: Option<String>,
}

/// Parses a JSON object into `T`. serde would also accept an array for a struct (fields by position);
/// Go does not, so anything but an object is refused first.
pub(super) fn parse<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, DecodeError> {
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err(DecodeError::Json {
            detail: "expected a JSON object".into(),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| DecodeError::Json {
        detail: e.to_string(),
    })
}

fn decode_data(data: Option<String>) -> Result<Vec<u8>, DecodeError> {
    match data {
        None => Ok(Vec::new()),
        Some(s) => STANDARD
            .decode(s.as_bytes())
            .map_err(|e| DecodeError::Base64 {
                field: "data",
                detail: e.to_string(),
            }),
    }
}

fn encode_data(data: &[u8]) -> Option<String> {
    (!data.is_empty()).then(|| STANDARD.encode(data))
}

fn to_vec<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain strings, integers and options into a Vec cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

impl Req {
    /// Decodes a JSON request envelope.
    pub fn decode_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        let r: ReqIn = parse(bytes)?;
        let req = Self {
            req_identifier: r.req_identifier.unwrap_or(0),
            token: r.token.unwrap_or_default(),
            send_id: r.send_id.unwrap_or_default(),
            operation_id: r.operation_id.unwrap_or_default(),
            msg_incr: r.msg_incr.unwrap_or_default(),
            data: decode_data(r.data)?,
        };
        if req.req_identifier == 0 {
            return Err(DecodeError::MissingField("reqIdentifier"));
        }
        Ok(req)
    }

    /// Encodes as a JSON request envelope (keys in the Go struct's order).
    pub fn encode_json(&self) -> Vec<u8> {
        to_vec(&ReqOut {
            req_identifier: self.req_identifier,
            token: &self.token,
            send_id: &self.send_id,
            operation_id: &self.operation_id,
            msg_incr: &self.msg_incr,
            data: encode_data(&self.data),
        })
    }
}

impl Resp {
    /// Decodes a JSON response or push envelope.
    pub fn decode_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        let r: RespIn = parse(bytes)?;
        let resp = Self {
            req_identifier: r.req_identifier.unwrap_or(0),
            msg_incr: r.msg_incr.unwrap_or_default(),
            operation_id: r.operation_id.unwrap_or_default(),
            err_code: r.err_code.unwrap_or(0),
            err_msg: r.err_msg.unwrap_or_default(),
            data: decode_data(r.data)?,
        };
        if resp.req_identifier == 0 {
            return Err(DecodeError::MissingField("reqIdentifier"));
        }
        Ok(resp)
    }

    /// Encodes as a JSON response envelope (no `errDlt`; `data` is `null` when empty).
    pub fn encode_json(&self) -> Vec<u8> {
        to_vec(&RespOut {
            req_identifier: self.req_identifier,
            msg_incr: &self.msg_incr,
            operation_id: &self.operation_id,
            err_code: self.err_code,
            err_msg: &self.err_msg,
            data: encode_data(&self.data),
        })
    }
}
