//! The protobuf binary format, as the generated message types use it.
//!
//! Each generated message implements [`Fields`], whose `merge_field` maps a field number to one
//! call of a [`Reader`] method, and [`EncodeFields`], whose `encode_raw` writes its fields in
//! ascending number order through the free functions of this module. The per-type code is only
//! that list; everything else (varints, length prefixes, UTF-8 checks, packed lists, map entries,
//! unknown fields, the nesting limit) lives here once, reached through `&mut dyn Fields` /
//! `&dyn EncodeFields`.
//!
//! Encoding is canonical: proto3 defaults are left out, repeated integers are packed, a present
//! message field is written even when empty, and a map entry leaves out a default key or value.
//! Decoding accepts packed and unpacked repeated integers, skips unknown fields (groups included),
//! keeps the last value of a repeated singular field, merges repeated occurrences of a message field,
//! and reads a map entry's missing key or value as the default.

use std::fmt;

use super::Map;

/// How deep messages (and groups of unknown fields) may nest before decoding gives up.
const RECURSION_LIMIT: u32 = 100;

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const FIXED32: u8 = 5;

/// Why bytes are not a valid encoding of the message they were decoded as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(&'static str);

impl DecodeError {
    /// What was wrong, e.g. `buffer underflow`.
    pub fn description(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("failed to decode Protobuf message: ")?;
        f.write_str(self.0)
    }
}

impl std::error::Error for DecodeError {}

const UNDERFLOW: DecodeError = DecodeError("buffer underflow");
const BAD_VARINT: DecodeError = DecodeError("invalid varint");
const BAD_WIRE_TYPE: DecodeError = DecodeError("invalid wire type");
const BAD_END_GROUP: DecodeError = DecodeError("unexpected end group tag");

/// Decoding the fields of one message type (generated per message).
pub trait Fields {
    /// Reads the value of field `tag`, whose key had `wire_type`, from `r` into `self`; unknown
    /// field numbers are skipped.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: u8,
        r: &mut Reader<'_>,
    ) -> Result<(), DecodeError>;

    /// Called once the fields of one encoding have been read (or reading failed): puts map fields
    /// back in key order.
    fn finish(&mut self) {}
}

/// Encoding the fields of one message type (generated per message). Separate from [`Fields`] so
/// that a program which only decodes a type does not contain its encoder.
pub trait EncodeFields {
    /// Appends the encoding of every non-default field, in ascending field number order.
    fn encode_raw(&self, out: &mut Vec<u8>);
}

/// A protobuf message: decoding from and encoding to bytes.
pub trait Message: Fields + EncodeFields + Default {
    /// Decodes a message from `buf`.
    fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        let mut message = Self::default();
        message.merge(buf)?;
        Ok(message)
    }

    /// Merges the fields encoded in `buf` into `self`: scalars are replaced, lists and maps
    /// extended, nested messages merged.
    fn merge(&mut self, buf: &[u8]) -> Result<(), DecodeError> {
        merge(self, buf)
    }

    /// The encoding of `self`.
    fn encode_to_vec(&self) -> Vec<u8> {
        to_vec(self)
    }

    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>) {
        self.encode_raw(out);
    }
}

/// The encoding of `message`.
pub fn to_vec(message: &dyn EncodeFields) -> Vec<u8> {
    let mut out = Vec::new();
    message.encode_raw(&mut out);
    out
}

/// Merges the fields encoded in `buf` into `message` (see [`Message::merge`]).
pub fn merge(message: &mut dyn Fields, buf: &[u8]) -> Result<(), DecodeError> {
    Reader {
        buf,
        depth: RECURSION_LIMIT,
    }
    .fields(message)
}

/// The bytes left of one message's encoding, and how much deeper nesting may go.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    depth: u32,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for (i, &byte) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                // The tenth byte may only carry the top bit of a u64.
                if i == 9 && byte > 1 {
                    break;
                }
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        Err(BAD_VARINT)
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], DecodeError> {
        if len > self.buf.len() as u64 {
            return Err(UNDERFLOW);
        }
        let (head, tail) = self.buf.split_at(len as usize);
        self.buf = tail;
        Ok(head)
    }

    fn length_delimited(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()?;
        self.take(len)
    }

    fn key(&mut self) -> Result<(u32, u8), DecodeError> {
        let key = self.varint()?;
        if key > u64::from(u32::MAX) {
            return Err(DecodeError("invalid key value"));
        }
        let wire_type = (key & 7) as u8;
        if wire_type > FIXED32 {
            return Err(DecodeError("invalid wire type value"));
        }
        let tag = key as u32 >> 3;
        if tag == 0 {
            return Err(DecodeError("invalid tag value: 0"));
        }
        Ok((tag, wire_type))
    }

    /// Reads fields into `message` until the bytes run out.
    fn fields(&mut self, message: &mut dyn Fields) -> Result<(), DecodeError> {
        let mut result = Ok(());
        while result.is_ok() && !self.buf.is_empty() {
            result = self
                .key()
                .and_then(|(tag, wire_type)| message.merge_field(tag, wire_type, self));
        }
        message.finish();
        result
    }

    /// Reads a length-delimited message into `message`, one level deeper.
    fn nested(&mut self, message: &mut dyn Fields) -> Result<(), DecodeError> {
        if self.depth == 0 {
            return Err(DecodeError("recursion limit reached"));
        }
        let buf = self.length_delimited()?;
        Reader {
            buf,
            depth: self.depth - 1,
        }
        .fields(message)
    }

    fn varint_field(&mut self, wire_type: u8) -> Result<u64, DecodeError> {
        expect(wire_type, VARINT)?;
        self.varint()
    }

    fn bytes_field(&mut self, wire_type: u8) -> Result<&'a [u8], DecodeError> {
        expect(wire_type, LEN)?;
        self.length_delimited()
    }

    /// Skips an unknown field (a whole group for a group start).
    pub fn skip(&mut self, wire_type: u8, tag: u32) -> Result<(), DecodeError> {
        if self.depth == 0 {
            return Err(DecodeError("recursion limit reached"));
        }
        match wire_type {
            VARINT => {
                self.varint()?;
            }
            FIXED64 => {
                self.take(8)?;
            }
            LEN => {
                self.length_delimited()?;
            }
            START_GROUP => loop {
                let (inner_tag, inner_type) = self.key()?;
                if inner_type == END_GROUP {
                    if inner_tag != tag {
                        return Err(BAD_END_GROUP);
                    }
                    break;
                }
                self.depth -= 1;
                let skipped = self.skip(inner_type, inner_tag);
                self.depth += 1;
                skipped?;
            },
            FIXED32 => {
                self.take(4)?;
            }
            _ => return Err(BAD_END_GROUP),
        }
        Ok(())
    }

    /// Reads an `int32` (or enum) field.
    pub fn int32(&mut self, wire_type: u8, value: &mut i32) -> Result<(), DecodeError> {
        *value = self.varint_field(wire_type)? as i32;
        Ok(())
    }

    /// Reads an `int64` field.
    pub fn int64(&mut self, wire_type: u8, value: &mut i64) -> Result<(), DecodeError> {
        *value = self.varint_field(wire_type)? as i64;
        Ok(())
    }

    /// Reads a `uint32` field.
    pub fn uint32(&mut self, wire_type: u8, value: &mut u32) -> Result<(), DecodeError> {
        *value = self.varint_field(wire_type)? as u32;
        Ok(())
    }

    /// Reads a `uint64` field.
    pub fn uint64(&mut self, wire_type: u8, value: &mut u64) -> Result<(), DecodeError> {
        *value = self.varint_field(wire_type)?;
        Ok(())
    }

    /// Reads a `bool` field.
    pub fn bool(&mut self, wire_type: u8, value: &mut bool) -> Result<(), DecodeError> {
        *value = self.varint_field(wire_type)? != 0;
        Ok(())
    }

    /// Reads a `double` field.
    pub fn double(&mut self, wire_type: u8, value: &mut f64) -> Result<(), DecodeError> {
        expect(wire_type, FIXED64)?;
        let mut bits = [0u8; 8];
        bits.copy_from_slice(self.take(8)?);
        *value = f64::from_le_bytes(bits);
        Ok(())
    }

    /// Reads a `float` field.
    pub fn float(&mut self, wire_type: u8, value: &mut f32) -> Result<(), DecodeError> {
        expect(wire_type, FIXED32)?;
        let mut bits = [0u8; 4];
        bits.copy_from_slice(self.take(4)?);
        *value = f32::from_le_bytes(bits);
        Ok(())
    }

    /// Reads a `string` field; not UTF-8 is an error (and leaves the string empty).
    pub fn string(&mut self, wire_type: u8, value: &mut String) -> Result<(), DecodeError> {
        value.clear();
        let bytes = self.bytes_field(wire_type)?;
        let text = std::str::from_utf8(bytes)
            .map_err(|_| DecodeError("invalid string value: data is not UTF-8 encoded"))?;
        value.push_str(text);
        Ok(())
    }

    /// Reads a `bytes` field.
    pub fn bytes(&mut self, wire_type: u8, value: &mut Vec<u8>) -> Result<(), DecodeError> {
        let bytes = self.bytes_field(wire_type)?;
        value.clear();
        value.extend_from_slice(bytes);
        Ok(())
    }

    /// Reads a message field, merging into `message`.
    pub fn message(&mut self, wire_type: u8, message: &mut dyn Fields) -> Result<(), DecodeError> {
        expect(wire_type, LEN)?;
        self.nested(message)
    }

    /// Reads one element of a repeated `string` field.
    pub fn push_string(
        &mut self,
        wire_type: u8,
        list: &mut Vec<String>,
    ) -> Result<(), DecodeError> {
        let mut value = String::new();
        self.string(wire_type, &mut value)?;
        list.push(value);
        Ok(())
    }

    /// Reads one element of a repeated message field.
    pub fn push_message<M: Fields + Default>(
        &mut self,
        wire_type: u8,
        list: &mut Vec<M>,
    ) -> Result<(), DecodeError> {
        let mut value = M::default();
        self.message(wire_type, &mut value)?;
        list.push(value);
        Ok(())
    }

    /// Reads a repeated integer field's occurrence: one varint, or a packed run of them.
    fn varints(&mut self, wire_type: u8, push: &mut dyn FnMut(u64)) -> Result<(), DecodeError> {
        if wire_type == LEN {
            let mut packed = Reader {
                buf: self.length_delimited()?,
                depth: self.depth,
            };
            while !packed.buf.is_empty() {
                push(packed.varint()?);
            }
        } else {
            push(self.varint_field(wire_type)?);
        }
        Ok(())
    }

    /// Reads elements of a repeated `int32` (or enum) field, packed or not.
    pub fn push_int32(&mut self, wire_type: u8, list: &mut Vec<i32>) -> Result<(), DecodeError> {
        self.varints(wire_type, &mut |v| list.push(v as i32))
    }

    /// Reads elements of a repeated `int64` field, packed or not.
    pub fn push_int64(&mut self, wire_type: u8, list: &mut Vec<i64>) -> Result<(), DecodeError> {
        self.varints(wire_type, &mut |v| list.push(v as i64))
    }

    /// Reads one entry of a map field. The entry is appended; the message's [`Fields::finish`]
    /// restores the key order (a repeated key: the last entry wins).
    pub fn map<V: Value + Default>(
        &mut self,
        wire_type: u8,
        map: &mut Map<String, V>,
    ) -> Result<(), DecodeError> {
        let mut key = String::new();
        let mut value = V::default();
        self.message(
            wire_type,
            &mut Entry {
                key: &mut key,
                value: &mut value,
            },
        )?;
        map.push_unsorted(key, value);
        Ok(())
    }
}

fn expect(wire_type: u8, expected: u8) -> Result<(), DecodeError> {
    if wire_type == expected {
        Ok(())
    } else {
        Err(BAD_WIRE_TYPE)
    }
}

/// A map value type: field 2 of a map entry, decoding.
pub trait Value {
    /// Reads the entry's value field.
    fn merge_value(&mut self, wire_type: u8, r: &mut Reader<'_>) -> Result<(), DecodeError>;
}

/// A map value type: field 2 of a map entry, encoding.
pub trait EncodeValue {
    /// Writes the entry's value field.
    fn encode_value(&self, out: &mut Vec<u8>);
}

impl Value for i32 {
    fn merge_value(&mut self, wire_type: u8, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        r.int32(wire_type, self)
    }
}

impl EncodeValue for i32 {
    fn encode_value(&self, out: &mut Vec<u8>) {
        varint(out, 2, *self as u64);
    }
}

impl Value for i64 {
    fn merge_value(&mut self, wire_type: u8, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        r.int64(wire_type, self)
    }
}

impl EncodeValue for i64 {
    fn encode_value(&self, out: &mut Vec<u8>) {
        varint(out, 2, *self as u64);
    }
}

impl Value for bool {
    fn merge_value(&mut self, wire_type: u8, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        r.bool(wire_type, self)
    }
}

impl EncodeValue for bool {
    fn encode_value(&self, out: &mut Vec<u8>) {
        varint(out, 2, u64::from(*self));
    }
}

impl Value for String {
    fn merge_value(&mut self, wire_type: u8, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        r.string(wire_type, self)
    }
}

impl EncodeValue for String {
    fn encode_value(&self, out: &mut Vec<u8>) {
        string(out, 2, self);
    }
}

impl<M: Message> Value for M {
    fn merge_value(&mut self, wire_type: u8, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        r.message(wire_type, self)
    }
}

impl<M: Message> EncodeValue for M {
    fn encode_value(&self, out: &mut Vec<u8>) {
        message(out, 2, self);
    }
}

/// A map entry being decoded: key is field 1, value field 2.
struct Entry<'e> {
    key: &'e mut String,
    value: &'e mut dyn Value,
}

impl Fields for Entry<'_> {
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: u8,
        r: &mut Reader<'_>,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => r.string(wire_type, self.key),
            2 => self.value.merge_value(wire_type, r),
            _ => r.skip(wire_type, tag),
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_key(out: &mut Vec<u8>, tag: u32, wire_type: u8) {
    put_varint(out, u64::from(tag << 3 | u32::from(wire_type)));
}

/// Puts the varint length of `out[start..]` in front of it.
fn prefix_length(out: &mut Vec<u8>, start: usize) {
    let len = out.len() - start;
    put_varint(out, len as u64);
    let width = out.len() - start - len;
    // Rotates `out[start..]` right by `width`: the whole reversed, then each part back.
    if let Some(tail) = out.get_mut(start..) {
        tail.reverse();
        if let Some((prefix, body)) = tail.split_at_mut_checked(width) {
            prefix.reverse();
            body.reverse();
        }
    }
}

/// Writes a varint field (all integer types, enums and `bool`) unless it is zero.
pub fn varint(out: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        put_key(out, tag, VARINT);
        put_varint(out, value);
    }
}

/// Writes a `double` field unless it is zero.
pub fn double(out: &mut Vec<u8>, tag: u32, value: f64) {
    if value != 0.0 {
        put_key(out, tag, FIXED64);
        out.extend_from_slice(&value.to_le_bytes());
    }
}

/// Writes a `float` field unless it is zero.
pub fn float(out: &mut Vec<u8>, tag: u32, value: f32) {
    if value != 0.0 {
        put_key(out, tag, FIXED32);
        out.extend_from_slice(&value.to_le_bytes());
    }
}

fn put_bytes(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    put_key(out, tag, LEN);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// Writes a `bytes` field unless it is empty.
pub fn bytes(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    if !value.is_empty() {
        put_bytes(out, tag, value);
    }
}

/// Writes a `string` field unless it is empty.
pub fn string(out: &mut Vec<u8>, tag: u32, value: &str) {
    bytes(out, tag, value.as_bytes());
}

/// Writes a repeated `string` field: every element, empty ones included.
pub fn strings(out: &mut Vec<u8>, tag: u32, values: &[String]) {
    for value in values {
        put_bytes(out, tag, value.as_bytes());
    }
}

/// Writes a message field (present, so even when it has no fields set).
pub fn message(out: &mut Vec<u8>, tag: u32, value: &dyn EncodeFields) {
    put_key(out, tag, LEN);
    let start = out.len();
    value.encode_raw(out);
    prefix_length(out, start);
}

fn packed(out: &mut Vec<u8>, tag: u32, values: &mut dyn ExactSizeIterator<Item = u64>) {
    if values.len() == 0 {
        return;
    }
    put_key(out, tag, LEN);
    let start = out.len();
    for value in values {
        put_varint(out, value);
    }
    prefix_length(out, start);
}

/// Writes a repeated `int32` (or enum) field, packed.
pub fn packed_int32(out: &mut Vec<u8>, tag: u32, values: &[i32]) {
    packed(out, tag, &mut values.iter().map(|&v| v as u64));
}

/// Writes a repeated `int64` field, packed.
pub fn packed_int64(out: &mut Vec<u8>, tag: u32, values: &[i64]) {
    packed(out, tag, &mut values.iter().map(|&v| v as u64));
}

/// Writes a map field: one entry per key, in key order; a default key or value is left out of its
/// entry.
pub fn map<V: EncodeValue + Default + PartialEq>(
    out: &mut Vec<u8>,
    tag: u32,
    map: &Map<String, V>,
) {
    let default = V::default();
    for (key, value) in map {
        entry(out, tag, key, (*value != default).then_some(value));
    }
}

fn entry(out: &mut Vec<u8>, tag: u32, key: &str, value: Option<&dyn EncodeValue>) {
    put_key(out, tag, LEN);
    let start = out.len();
    string(out, 1, key);
    if let Some(value) = value {
        value.encode_value(out);
    }
    prefix_length(out, start);
}
