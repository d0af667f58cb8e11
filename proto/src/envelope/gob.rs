//! The gob form of the envelopes: field names, field types, and the layout of the type definition.
//!
//! gob matches fields by name, so decoding accepts any declaration order, any struct name, any type id and
//! unknown extra fields; each known field must have the type Go's decoder would accept (`int` for the
//! integers, `string`, `[]byte`). Encoding writes one definition and one value per frame, like the Go
//! peers do. No I/O, no panics on input.

use crate::error::DecodeError;
use crate::gob::{self, FieldType, Scalar, StructType, StructValue};

use super::{Req, Resp};

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Str,
    Bytes,
}

impl Kind {
    fn type_id(self) -> i64 {
        match self {
            Self::Int => gob::INT,
            Self::Str => gob::STRING,
            Self::Bytes => gob::BYTES,
        }
    }
}

/// The six fields of an envelope in the Go declaration order of the peer that defines it.
struct Schema {
    struct_name: &'static str,
    fields: [(&'static str, Kind); 6],
}

/// Client struct `GeneralWsReq` (server `Req`), declaration order of both.
const REQ: Schema = Schema {
    struct_name: "GeneralWsReq",
    fields: [
        ("ReqIdentifier", Kind::Int),
        ("Token", Kind::Str),
        ("SendID", Kind::Str),
        ("OperationID", Kind::Str),
        ("MsgIncr", Kind::Str),
        ("Data", Kind::Bytes),
    ],
};

/// Server struct `Resp` (client `GeneralWsResp`), the server's declaration order.
const RESP: Schema = Schema {
    struct_name: "Resp",
    fields: [
        ("ReqIdentifier", Kind::Int),
        ("MsgIncr", Kind::Str),
        ("OperationID", Kind::Str),
        ("ErrCode", Kind::Int),
        ("ErrMsg", Kind::Str),
        ("Data", Kind::Bytes),
    ],
};

/// How an envelope's gob type definition is laid out: type id, Go struct name, field declaration order.
///
/// [`GobLayout::request`] and [`GobLayout::response`] are what the Go peers send from a fresh process. A
/// layout taken from a decoded frame ([`Req::decode_gob_with_layout`]) re-encodes that frame byte for byte
/// as long as it declared exactly the six envelope fields; unknown declared fields are not kept, and
/// missing ones are appended in the canonical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GobLayout {
    type_id: i64,
    struct_name: String,
    /// A permutation of 0..6: `order[k]` = schema index of the k-th declared field.
    order: [usize; 6],
}

impl GobLayout {
    /// `GeneralWsReq`, type id 64 (the official SDK's own encoding), canonical field order.
    pub fn request() -> Self {
        Self::canonical(&REQ)
    }

    /// `Resp`, type id 64 (a fresh Go encoder's first type), the server's field order.
    pub fn response() -> Self {
        Self::canonical(&RESP)
    }

    fn canonical(schema: &Schema) -> Self {
        Self {
            type_id: gob::FIRST_USER_TYPE_ID,
            struct_name: schema.struct_name.to_owned(),
            order: [0, 1, 2, 3, 4, 5],
        }
    }

    /// The same layout with another type id; ids below [`gob::FIRST_USER_TYPE_ID`] are reserved by Go and
    /// are replaced by it.
    pub fn with_type_id(mut self, type_id: i64) -> Self {
        self.type_id = type_id.max(gob::FIRST_USER_TYPE_ID);
        self
    }

    /// The same layout with another struct name (gob ignores it; kept for byte-exact re-encoding).
    pub fn with_struct_name(mut self, name: impl Into<String>) -> Self {
        self.struct_name = name.into();
        self
    }

    pub fn type_id(&self) -> i64 {
        self.type_id
    }

    pub fn struct_name(&self) -> &str {
        &self.struct_name
    }

    fn from_definition(def: &StructType, schema: &Schema) -> Self {
        let mut order = [0usize; 6];
        let mut n = 0;
        for field in &def.fields {
            if let Some(k) = schema
                .fields
                .iter()
                .position(|(name, _)| *name == field.name)
            {
                if let Some(slot) = order.get_mut(n) {
                    *slot = k;
                    n += 1;
                }
            }
        }
        for k in 0..6 {
            if !order.iter().take(n).any(|&o| o == k) {
                if let Some(slot) = order.get_mut(n) {
                    *slot = k;
                    n += 1;
                }
            }
        }
        Self {
            type_id: def.id,
            struct_name: def.name.clone(),
            order,
        }
    }

    fn definition(&self, schema: &Schema) -> StructType {
        StructType {
            name: self.struct_name.clone(),
            id: self.type_id,
            fields: self
                .order
                .iter()
                .filter_map(|&k| schema.fields.get(k))
                .map(|(name, kind)| FieldType {
                    name: (*name).to_owned(),
                    id: kind.type_id(),
                })
                .collect(),
        }
    }
}

/// Decodes a stream against a schema: the six field values (absent = zero) and the layout.
fn decode<'a>(
    bytes: &'a [u8],
    schema: &Schema,
) -> Result<([Option<Scalar<'a>>; 6], GobLayout), DecodeError> {
    let value: StructValue<'a> = gob::decode_struct(bytes)?;
    let mut slots: [Option<Scalar<'a>>; 6] = [None; 6];
    for (slot, (name, kind)) in slots.iter_mut().zip(schema.fields.iter()) {
        let Some((_, declared)) = value.definition.field(name) else {
            continue;
        };
        if declared.id != kind.type_id() {
            return Err(DecodeError::TypeMismatch {
                field: format!("{}.{name}", value.definition.name),
                expected: match kind {
                    Kind::Int => "int",
                    Kind::Str => "string",
                    Kind::Bytes => "[]byte",
                },
                found: gob::type_name(declared.id),
            });
        }
        *slot = value.get(name);
    }
    Ok((slots, GobLayout::from_definition(&value.definition, schema)))
}

fn int32(slot: Option<Scalar<'_>>, field: &'static str) -> Result<i32, DecodeError> {
    match slot {
        None => Ok(0),
        Some(Scalar::Int(v)) => {
            i32::try_from(v).map_err(|_| DecodeError::OutOfRange { field, value: v })
        }
        Some(_) => Err(DecodeError::TypeMismatch {
            field: field.to_owned(),
            expected: "int",
            found: "another type".into(),
        }),
    }
}

fn string(slot: Option<Scalar<'_>>, field: &'static str) -> Result<String, DecodeError> {
    match slot {
        None => Ok(String::new()),
        Some(Scalar::String(b)) => {
            String::from_utf8(b.to_vec()).map_err(|_| DecodeError::InvalidUtf8 { field })
        }
        Some(_) => Err(DecodeError::TypeMismatch {
            field: field.to_owned(),
            expected: "string",
            found: "another type".into(),
        }),
    }
}

fn byte_vec(slot: Option<Scalar<'_>>) -> Vec<u8> {
    match slot {
        Some(Scalar::Bytes(b)) => b.to_vec(),
        _ => Vec::new(),
    }
}

fn encode(layout: &GobLayout, schema: &Schema, values: [Scalar<'_>; 6]) -> Vec<u8> {
    let def = layout.definition(schema);
    let fields: Vec<(usize, Scalar<'_>)> = layout
        .order
        .iter()
        .enumerate()
        .filter_map(|(position, &k)| values.get(k).map(|v| (position, *v)))
        .collect();
    gob::encode_struct(&def, &fields)
}

impl Req {
    /// Decodes a gob stream (typedef + value) into a request.
    pub fn decode_gob(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_gob_with_layout(bytes).map(|(req, _)| req)
    }

    /// Decodes a gob stream and also returns its layout, to re-encode it identically.
    pub fn decode_gob_with_layout(bytes: &[u8]) -> Result<(Self, GobLayout), DecodeError> {
        let ([id, token, send_id, operation_id, msg_incr, data], layout) = decode(bytes, &REQ)?;
        let req = Self {
            req_identifier: int32(id, "ReqIdentifier")?,
            token: string(token, "Token")?,
            send_id: string(send_id, "SendID")?,
            operation_id: string(operation_id, "OperationID")?,
            msg_incr: string(msg_incr, "MsgIncr")?,
            data: byte_vec(data),
        };
        if req.req_identifier == 0 {
            return Err(DecodeError::MissingField("ReqIdentifier"));
        }
        Ok((req, layout))
    }

    /// Encodes as the official Go SDK does: `GeneralWsReq`, type id 64.
    pub fn encode_gob(&self) -> Vec<u8> {
        self.encode_gob_with_layout(&GobLayout::request())
    }

    /// Encodes with a chosen type id, struct name and field order.
    pub fn encode_gob_with_layout(&self, layout: &GobLayout) -> Vec<u8> {
        encode(
            layout,
            &REQ,
            [
                Scalar::Int(i64::from(self.req_identifier)),
                Scalar::String(self.token.as_bytes()),
                Scalar::String(self.send_id.as_bytes()),
                Scalar::String(self.operation_id.as_bytes()),
                Scalar::String(self.msg_incr.as_bytes()),
                Scalar::Bytes(&self.data),
            ],
        )
    }
}

impl Resp {
    /// Decodes a gob stream (typedef + value) into a response or push.
    pub fn decode_gob(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_gob_with_layout(bytes).map(|(resp, _)| resp)
    }

    /// Decodes a gob stream and also returns its layout, to re-encode it identically.
    pub fn decode_gob_with_layout(bytes: &[u8]) -> Result<(Self, GobLayout), DecodeError> {
        let ([id, msg_incr, operation_id, err_code, err_msg, data], layout) = decode(bytes, &RESP)?;
        let resp = Self {
            req_identifier: int32(id, "ReqIdentifier")?,
            msg_incr: string(msg_incr, "MsgIncr")?,
            operation_id: string(operation_id, "OperationID")?,
            err_code: int32(err_code, "ErrCode")?,
            err_msg: string(err_msg, "ErrMsg")?,
            data: byte_vec(data),
        };
        if resp.req_identifier == 0 {
            return Err(DecodeError::MissingField("ReqIdentifier"));
        }
        Ok((resp, layout))
    }

    /// Encodes as the gateway's `Resp` from a fresh Go encoder: type id 64, server field order.
    pub fn encode_gob(&self) -> Vec<u8> {
        self.encode_gob_with_layout(&GobLayout::response())
    }

    /// Encodes with a chosen type id, struct name and field order.
    pub fn encode_gob_with_layout(&self, layout: &GobLayout) -> Vec<u8> {
        encode(
            layout,
            &RESP,
            [
                Scalar::Int(i64::from(self.req_identifier)),
                Scalar::String(self.msg_incr.as_bytes()),
                Scalar::String(self.operation_id.as_bytes()),
                Scalar::Int(i64::from(self.err_code)),
                Scalar::String(self.err_msg.as_bytes()),
                Scalar::Bytes(&self.data),
            ],
        )
    }
}
