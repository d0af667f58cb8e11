//! The JSON form of the envelopes (`sdkType=js`), as Go `encoding/json` writes and reads it.
//!
//! Keys are matched exactly (the JSON SDKs send exactly these keys; Go would also match them
//! case-insensitively); unknown keys are ignored, `null` means absent, `data` is standard padded base64. A
//! key given twice is an error (Go keeps the last), and so is any top-level value other than an object.
//! Encoding writes every key in the Go struct's order, with `data` `null` when empty. Reading and
//! writing share the code of the generated messages' JSON impls. No I/O, no panics on input.

use crate::error::DecodeError;
use crate::jsontext;
use crate::msgjson::{FieldSink, Fields, Out, Slot, ToJson, WriteFields};

use super::{Req, Resp};

/// The members of a top-level JSON object, read by key.
pub(super) struct Object(Fields);

impl Object {
    /// Parses `bytes` as one JSON object. serde would also accept an array for a struct (fields by
    /// position); Go does not, so anything but an object is refused first.
    pub(super) fn parse(bytes: &[u8]) -> Result<Object, DecodeError> {
        let first = bytes
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if first != Some(&b'{') {
            return Err(not_an_object());
        }
        let tree = jsontext::parse_slice(bytes).map_err(|e| DecodeError::Json {
            detail: e.into_text(),
        })?;
        match Fields::open(tree) {
            Ok(Some(fields)) => Ok(Object(fields)),
            _ => Err(not_an_object()),
        }
    }

    /// Reads the value of `keys[i]` into `slots[i]`, in order: `null` or absent is the zero value;
    /// a wrong type or a repeated key is [`DecodeError::Json`].
    pub(super) fn read(
        &mut self,
        keys: &[&str],
        slots: &mut [&mut dyn Slot],
    ) -> Result<(), DecodeError> {
        for (key, slot) in keys.iter().zip(slots) {
            self.0
                .take_into(key, *slot)
                .map_err(|e| DecodeError::Json {
                    detail: e.into_text(),
                })?;
        }
        Ok(())
    }
}

fn not_an_object() -> DecodeError {
    DecodeError::Json {
        detail: "expected a JSON object".into(),
    }
}

fn decode_data(data: Option<String>) -> Result<Vec<u8>, DecodeError> {
    match data {
        None => Ok(Vec::new()),
        Some(s) => {
            crate::json::decode_base64_strict(s.as_bytes()).map_err(|e| DecodeError::Base64 {
                field: "data",
                detail: format!("{e}"),
            })
        }
    }
}

fn encode_data(data: &[u8]) -> Option<String> {
    (!data.is_empty()).then(|| crate::json::encode_base64(data))
}

/// Compact JSON of an envelope.
fn to_vec(envelope: &dyn WriteFields) -> Vec<u8> {
    jsontext::write(Out::Msg(envelope), false).into_bytes()
}

/// A request as written: the Go struct's key order.
struct ReqOut<'a> {
    req: &'a Req,
    data: Option<String>,
}

impl WriteFields for ReqOut<'_> {
    fn field_count(&self) -> usize {
        6
    }

    fn write_fields(&self, w: &mut dyn FieldSink) {
        w.field("reqIdentifier", Out::I32(self.req.req_identifier));
        w.field("token", Out::Str(&self.req.token));
        w.field("sendID", Out::Str(&self.req.send_id));
        w.field("operationID", Out::Str(&self.req.operation_id));
        w.field("msgIncr", Out::Str(&self.req.msg_incr));
        w.field("data", self.data.to_out());
    }
}

/// A response as written: the Go struct's key order, no `errDlt`.
struct RespOut<'a> {
    resp: &'a Resp,
    data: Option<String>,
}

impl WriteFields for RespOut<'_> {
    fn field_count(&self) -> usize {
        6
    }

    fn write_fields(&self, w: &mut dyn FieldSink) {
        w.field("reqIdentifier", Out::I32(self.resp.req_identifier));
        w.field("msgIncr", Out::Str(&self.resp.msg_incr));
        w.field("operationID", Out::Str(&self.resp.operation_id));
        w.field("errCode", Out::I32(self.resp.err_code));
        w.field("errMsg", Out::Str(&self.resp.err_msg));
        w.field("data", self.data.to_out());
    }
}

impl Req {
    /// Decodes a JSON request envelope.
    pub fn decode_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut req = Self::default();
        let mut data = None;
        Object::parse(bytes)?.read(
            &[
                "reqIdentifier",
                "token",
                "sendID",
                "operationID",
                "msgIncr",
                "data",
            ],
            &mut [
                &mut req.req_identifier,
                &mut req.token,
                &mut req.send_id,
                &mut req.operation_id,
                &mut req.msg_incr,
                &mut data,
            ],
        )?;
        req.data = decode_data(data)?;
        if req.req_identifier == 0 {
            return Err(DecodeError::MissingField("reqIdentifier"));
        }
        Ok(req)
    }

    /// Encodes as a JSON request envelope (keys in the Go struct's order).
    pub fn encode_json(&self) -> Vec<u8> {
        to_vec(&ReqOut {
            req: self,
            data: encode_data(&self.data),
        })
    }
}

impl Resp {
    /// Decodes a JSON response or push envelope.
    pub fn decode_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut resp = Self::default();
        let mut data = None;
        Object::parse(bytes)?.read(
            &[
                "reqIdentifier",
                "msgIncr",
                "operationID",
                "errCode",
                "errMsg",
                "data",
            ],
            &mut [
                &mut resp.req_identifier,
                &mut resp.msg_incr,
                &mut resp.operation_id,
                &mut resp.err_code,
                &mut resp.err_msg,
                &mut data,
            ],
        )?;
        resp.data = decode_data(data)?;
        if resp.req_identifier == 0 {
            return Err(DecodeError::MissingField("reqIdentifier"));
        }
        Ok(resp)
    }

    /// Encodes as a JSON response envelope (no `errDlt`; `data` is `null` when empty).
    pub fn encode_json(&self) -> Vec<u8> {
        to_vec(&RespOut {
            resp: self,
            data: encode_data(&self.data),
        })
    }
}
