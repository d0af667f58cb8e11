//! A Go `encoding/gob` reader and writer, sufficient for the gateway envelopes.
//!
//! The official Go SDK and the OpenIM gateway create a fresh gob encoder for every frame, so each frame is a
//! complete gob stream: one or more type definitions followed by exactly one struct value. This module
//! reads such a stream and writes one.
//!
//! Reading
//! * Type ids come from the stream. Definitions may arrive in any order (Go sends a struct's definition
//!   before the definitions of its field types) and are resolved when a value needs them.
//! * Struct, slice, array, map and `GobEncoder`-style definitions are understood, so a value can carry
//!   fields of any of those types: the top-level struct's fields of built-in scalar types are returned,
//!   every other field is skipped by walking its declared type. Interface values other than nil cannot be
//!   skipped and yield [`GobErrorKind::InterfaceUnsupported`].
//! * Every length and element count is checked against the bytes that remain, nesting depth is bounded by
//!   [`MAX_DEPTH`], and nothing is allocated from a length read off the wire: scalars borrow the input, and
//!   only the definitions themselves (bounded by the input length) are owned.
//! * Stricter than Go where Go would accept nonsense silently: a type id defined twice, a definition whose
//!   inner id differs from its message id, a struct declaring a field name twice, or bytes after the value
//!   are errors.
//!
//! Writing: one type definition followed by one value, as a fresh Go encoder does; zero fields are omitted.
//! The caller chooses the type id, the struct name and the field declaration order, so a decoded definition
//! re-encodes byte for byte.
//!
//! This module never performs I/O, never allocates from untrusted lengths, and never panics on input.

use std::collections::BTreeMap;

use crate::error::{DecodeError, GobErrorKind};

/// Built-in type id of Go `bool`.
pub const BOOL: i64 = 1;
/// Built-in type id of Go signed integers (`int`, `int8` … `int64`).
pub const INT: i64 = 2;
/// Built-in type id of Go unsigned integers.
pub const UINT: i64 = 3;
/// Built-in type id of Go `float32`/`float64`.
pub const FLOAT: i64 = 4;
/// Built-in type id of Go `[]byte`.
pub const BYTES: i64 = 5;
/// Built-in type id of Go `string`.
pub const STRING: i64 = 6;
/// Built-in type id of Go `complex64`/`complex128`.
pub const COMPLEX: i64 = 7;
/// Built-in type id of Go `interface{}` values.
pub const INTERFACE: i64 = 8;
/// The lowest id Go grants to a user type; a fresh Go process numbers its first type with it.
pub const FIRST_USER_TYPE_ID: i64 = 64;
/// How deep nested values (structs in slices in maps …) may go before the reader gives up.
pub const MAX_DEPTH: usize = 64;

/// `CommonType` of a definition: the Go type name and the id repeated inside the definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonType {
    pub name: String,
    pub id: i64,
}

/// One field of a struct definition: its Go name and the type id of its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldType {
    pub name: String,
    pub id: i64,
}

/// A struct definition: id, Go name, fields in the sender's declaration order (the order of field numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructType {
    pub name: String,
    pub id: i64,
    pub fields: Vec<FieldType>,
}

impl StructType {
    /// The index (field number) and declaration of the field called `name`.
    pub fn field(&self, name: &str) -> Option<(usize, &FieldType)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

/// A gob `wireType`: the definition of one user type as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireType {
    Array {
        common: CommonType,
        elem: i64,
        len: i64,
    },
    Slice {
        common: CommonType,
        elem: i64,
    },
    Struct(StructType),
    Map {
        common: CommonType,
        key: i64,
        elem: i64,
    },
    /// A type implementing `GobEncoder`: values are opaque length-prefixed bytes.
    GobEncoder(CommonType),
    /// A type implementing `encoding.BinaryMarshaler`: values are opaque length-prefixed bytes.
    BinaryMarshaler(CommonType),
    /// A type implementing `encoding.TextMarshaler`: values are opaque length-prefixed bytes.
    TextMarshaler(CommonType),
}

impl WireType {
    /// The id this definition defines.
    pub fn id(&self) -> i64 {
        match self {
            Self::Struct(s) => s.id,
            Self::Array { common, .. }
            | Self::Slice { common, .. }
            | Self::Map { common, .. }
            | Self::GobEncoder(common)
            | Self::BinaryMarshaler(common)
            | Self::TextMarshaler(common) => common.id,
        }
    }
}

/// The value of a field whose type is a built-in scalar. Strings are bytes, as in Go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Complex(f64, f64),
    Bytes(&'a [u8]),
    String(&'a [u8]),
}

impl Scalar<'_> {
    /// The built-in type id of this scalar.
    pub fn type_id(&self) -> i64 {
        match self {
            Self::Bool(_) => BOOL,
            Self::Int(_) => INT,
            Self::Uint(_) => UINT,
            Self::Float(_) => FLOAT,
            Self::Complex(..) => COMPLEX,
            Self::Bytes(_) => BYTES,
            Self::String(_) => STRING,
        }
    }

    /// Whether Go would omit this value from a struct (the zero value of its type).
    pub fn is_zero(&self) -> bool {
        match *self {
            Self::Bool(b) => !b,
            Self::Int(i) => i == 0,
            Self::Uint(u) => u == 0,
            Self::Float(f) => f == 0.0,
            Self::Complex(re, im) => re == 0.0 && im == 0.0,
            Self::Bytes(b) | Self::String(b) => b.is_empty(),
        }
    }
}

/// A decoded stream: the definition of the top-level struct and the values of its scalar fields.
#[derive(Debug, Clone, PartialEq)]
pub struct StructValue<'a> {
    /// The top-level struct's definition as sent (id, name, field order).
    pub definition: StructType,
    /// `(field number, value)` of every field present in the value whose type is a built-in scalar, in
    /// field-number order. Fields of other types were validated and skipped.
    pub fields: Vec<(usize, Scalar<'a>)>,
}

impl<'a> StructValue<'a> {
    /// The value of the field called `name`, if the value carries it (absent = zero value in Go).
    pub fn get(&self, name: &str) -> Option<Scalar<'a>> {
        let (index, _) = self.definition.field(name)?;
        self.fields
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, v)| *v)
    }
}

/// A human-readable name for a type id, used in type-mismatch errors.
pub fn type_name(id: i64) -> String {
    match id {
        BOOL => "bool".into(),
        INT => "int".into(),
        UINT => "uint".into(),
        FLOAT => "float".into(),
        BYTES => "[]byte".into(),
        STRING => "string".into(),
        COMPLEX => "complex".into(),
        INTERFACE => "interface".into(),
        other => format!("type {other}"),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------

type Result<T> = std::result::Result<T, DecodeError>;

/// Decodes a gob stream holding type definitions followed by exactly one struct value.
pub fn decode_struct(input: &[u8]) -> Result<StructValue<'_>> {
    let mut r = Reader {
        buf: input,
        pos: 0,
        end: input.len(),
    };
    let mut types: BTreeMap<i64, WireType> = BTreeMap::new();
    loop {
        if r.pos >= input.len() {
            return r.fail(GobErrorKind::MissingValue);
        }
        let len = r.uint()?;
        let body = r.span(len)?;
        if body.is_empty() {
            return r.fail(GobErrorKind::EmptyMessage);
        }
        // Read the message inside its own bounds; `next` is where the following message starts.
        let next = r.end_of(len);
        let mut m = Reader {
            buf: input,
            pos: r.pos,
            end: next,
        };
        let id = m.int()?;
        if id < 0 {
            let id_start = r.pos;
            let wire = m.wire_type()?;
            m.expect_end()?;
            let defined = id.checked_neg().unwrap_or(i64::MIN);
            if defined < FIRST_USER_TYPE_ID || types.contains_key(&defined) {
                return Err(DecodeError::Gob {
                    offset: id_start,
                    kind: GobErrorKind::BadTypeDefinitionId(defined),
                });
            }
            if wire.id() != defined {
                return Err(DecodeError::Gob {
                    offset: id_start,
                    kind: GobErrorKind::InconsistentTypeId {
                        message: defined,
                        inner: wire.id(),
                    },
                });
            }
            types.insert(defined, wire);
            r.pos = next;
            continue;
        }
        let definition = match types.get(&id) {
            Some(WireType::Struct(s)) => s.clone(),
            Some(_) => return m.fail(GobErrorKind::NotAStruct(id)),
            None if (1..FIRST_USER_TYPE_ID).contains(&id) => {
                return m.fail(GobErrorKind::NotAStruct(id))
            }
            None => return m.fail(GobErrorKind::UnknownTypeId(id)),
        };
        let fields = m.top_struct(&definition, &types)?;
        m.expect_end()?;
        r.pos = next;
        if r.pos != input.len() {
            return r.fail(GobErrorKind::TrailingData);
        }
        return Ok(StructValue { definition, fields });
    }
}

/// A cursor over `buf[pos..end]`; `end` is the end of the current message, offsets are absolute.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, kind: GobErrorKind) -> Result<T> {
        Err(DecodeError::Gob {
            offset: self.pos,
            kind,
        })
    }

    fn remaining(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    fn byte(&mut self) -> Result<u8> {
        if self.pos >= self.end {
            return self.fail(GobErrorKind::UnexpectedEof);
        }
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.fail(GobErrorKind::UnexpectedEof),
        }
    }

    /// Go's unsigned encoding: `< 0x80` is the value; otherwise the byte is the negated count of
    /// big-endian bytes that follow (1 to 8).
    fn uint(&mut self) -> Result<u64> {
        let start = self.pos;
        let first = self.byte()?;
        if first < 0x80 {
            return Ok(u64::from(first));
        }
        let n = 256 - usize::from(first);
        if n > 8 {
            return Err(DecodeError::Gob {
                offset: start,
                kind: GobErrorKind::BadUint(first),
            });
        }
        let mut value: u64 = 0;
        for _ in 0..n {
            value = (value << 8) | u64::from(self.byte()?);
        }
        Ok(value)
    }

    /// Go's signed encoding: the low bit says "complemented", the rest is the magnitude.
    fn int(&mut self) -> Result<i64> {
        let u = self.uint()?;
        let magnitude = (u >> 1) as i64;
        Ok(if u & 1 == 1 { !magnitude } else { magnitude })
    }

    /// Checks that `len` bytes remain and returns them without consuming them.
    fn span(&self, len: u64) -> Result<&'a [u8]> {
        let remaining = self.remaining();
        match usize::try_from(len) {
            Ok(n) if n <= remaining => Ok(self.buf.get(self.pos..self.pos + n).unwrap_or_default()),
            _ => self.fail(GobErrorKind::LengthExceedsInput { len, remaining }),
        }
    }

    /// The absolute end of a span of `len` bytes already checked by [`Reader::span`].
    fn end_of(&self, len: u64) -> usize {
        self.pos + usize::try_from(len).unwrap_or(0)
    }

    /// A length-prefixed byte string (Go `string` and `[]byte`).
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = self.uint()?;
        let s = self.span(len)?;
        self.pos += s.len();
        Ok(s)
    }

    /// An element count: each element occupies at least one byte, so a count larger than the remaining
    /// bytes is malformed (and rejecting it early bounds the work of skipping).
    fn count(&mut self) -> Result<usize> {
        let n = self.uint()?;
        let remaining = self.remaining();
        match usize::try_from(n) {
            Ok(c) if c <= remaining => Ok(c),
            _ => self.fail(GobErrorKind::LengthExceedsInput { len: n, remaining }),
        }
    }

    fn string(&mut self, what: &'static str) -> Result<String> {
        let start = self.pos;
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Gob {
            offset: start,
            kind: GobErrorKind::BadWireType(what),
        })
    }

    fn expect_end(&self) -> Result<()> {
        if self.pos == self.end {
            Ok(())
        } else {
            self.fail(GobErrorKind::TrailingData)
        }
    }

    /// The next field number of a struct value with `nfields` fields, or `None` at its terminator.
    /// `prev` starts at -1; deltas are positive, so fields arrive in increasing order.
    fn next_field(&mut self, prev: &mut i64, nfields: usize) -> Result<Option<usize>> {
        let start = self.pos;
        let delta = self.uint()?;
        if delta == 0 {
            return Ok(None);
        }
        let field = i64::try_from(delta).ok().and_then(|d| prev.checked_add(d));
        match field.and_then(|f| usize::try_from(f).ok()) {
            Some(f) if f < nfields => {
                *prev = f as i64;
                Ok(Some(f))
            }
            _ => Err(DecodeError::Gob {
                offset: start,
                kind: GobErrorKind::FieldOutOfRange {
                    field: delta.saturating_add_signed(*prev),
                    fields: nfields,
                },
            }),
        }
    }

    // --- type definitions ---------------------------------------------------------------------------

    /// `wireType{ArrayT, SliceT, StructT, MapT, GobEncoderT, BinaryMarshalerT, TextMarshalerT}`; exactly
    /// one variant must be present.
    fn wire_type(&mut self) -> Result<WireType> {
        let start = self.pos;
        let mut found: Option<WireType> = None;
        let mut prev = -1;
        while let Some(field) = self.next_field(&mut prev, 7)? {
            let wire = match field {
                0 => {
                    let (common, elem, len) = self.typed_struct(3)?;
                    WireType::Array { common, elem, len }
                }
                1 => {
                    let (common, elem, _) = self.typed_struct(2)?;
                    WireType::Slice { common, elem }
                }
                2 => WireType::Struct(self.struct_type()?),
                3 => {
                    let (common, key, elem) = self.typed_struct(3)?;
                    WireType::Map { common, key, elem }
                }
                4 => WireType::GobEncoder(self.typed_struct(1)?.0),
                5 => WireType::BinaryMarshaler(self.typed_struct(1)?.0),
                _ => WireType::TextMarshaler(self.typed_struct(1)?.0),
            };
            if found.is_some() {
                return Err(DecodeError::Gob {
                    offset: start,
                    kind: GobErrorKind::BadWireType("several type variants"),
                });
            }
            found = Some(wire);
        }
        found.ok_or(DecodeError::Gob {
            offset: start,
            kind: GobErrorKind::BadWireType("no type variant"),
        })
    }

    /// `arrayType{CommonType, Elem, Len}`, `sliceType{CommonType, Elem}`, `mapType{CommonType, Key, Elem}`
    /// and `gobEncoderType{CommonType}` share a shape: CommonType then up to two ints.
    fn typed_struct(&mut self, nfields: usize) -> Result<(CommonType, i64, i64)> {
        let mut common = CommonType {
            name: String::new(),
            id: 0,
        };
        let (mut a, mut b) = (0, 0);
        let mut prev = -1;
        while let Some(field) = self.next_field(&mut prev, nfields)? {
            match field {
                0 => common = self.common_type()?,
                1 => a = self.int()?,
                _ => b = self.int()?,
            }
        }
        Ok((common, a, b))
    }

    /// `CommonType{Name string, Id int}`.
    fn common_type(&mut self) -> Result<CommonType> {
        let mut common = CommonType {
            name: String::new(),
            id: 0,
        };
        let mut prev = -1;
        while let Some(field) = self.next_field(&mut prev, 2)? {
            match field {
                0 => common.name = self.string("type name is not UTF-8")?,
                _ => common.id = self.int()?,
            }
        }
        Ok(common)
    }

    /// `structType{CommonType, Field []*fieldType}` with `fieldType{Name string, Id int}`.
    fn struct_type(&mut self) -> Result<StructType> {
        let mut common = CommonType {
            name: String::new(),
            id: 0,
        };
        let mut fields: Vec<FieldType> = Vec::new();
        let mut prev = -1;
        while let Some(field) = self.next_field(&mut prev, 2)? {
            if field == 0 {
                common = self.common_type()?;
                continue;
            }
            let n = self.count()?;
            // `n` is bounded by the remaining input, but a field entry is far larger in memory than
            // its three wire bytes: grow as entries actually parse instead of trusting the count.
            fields = Vec::with_capacity(n.min(16));
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..n {
                let start = self.pos;
                let mut f = FieldType {
                    name: String::new(),
                    id: 0,
                };
                let mut fprev = -1;
                while let Some(ff) = self.next_field(&mut fprev, 2)? {
                    match ff {
                        0 => f.name = self.string("field name is not UTF-8")?,
                        _ => f.id = self.int()?,
                    }
                }
                // A set, not a scan of `fields`: a large frame may declare thousands of fields.
                if !seen.insert(f.name.clone()) {
                    return Err(DecodeError::Gob {
                        offset: start,
                        kind: GobErrorKind::DuplicateField(f.name),
                    });
                }
                fields.push(f);
            }
        }
        Ok(StructType {
            name: common.name,
            id: common.id,
            fields,
        })
    }

    // --- values -------------------------------------------------------------------------------------

    /// The top-level struct value: scalar fields are returned, the others skipped.
    fn top_struct(
        &mut self,
        def: &StructType,
        types: &BTreeMap<i64, WireType>,
    ) -> Result<Vec<(usize, Scalar<'a>)>> {
        let mut out = Vec::new();
        let mut prev = -1;
        while let Some(field) = self.next_field(&mut prev, def.fields.len())? {
            let id = def.fields.get(field).map_or(0, |f| f.id);
            match self.scalar(id)? {
                Some(value) => out.push((field, value)),
                None => self.skip(id, types, 1)?,
            }
        }
        Ok(out)
    }

    /// Reads a value of a built-in scalar type; `None` (nothing consumed) for any other type.
    fn scalar(&mut self, id: i64) -> Result<Option<Scalar<'a>>> {
        Ok(Some(match id {
            BOOL => Scalar::Bool(self.uint()? != 0),
            INT => Scalar::Int(self.int()?),
            UINT => Scalar::Uint(self.uint()?),
            FLOAT => Scalar::Float(float_from_bits(self.uint()?)),
            COMPLEX => {
                let re = float_from_bits(self.uint()?);
                Scalar::Complex(re, float_from_bits(self.uint()?))
            }
            BYTES => Scalar::Bytes(self.bytes()?),
            STRING => Scalar::String(self.bytes()?),
            _ => return Ok(None),
        }))
    }

    /// Skips one value of type `id`, walking its definition.
    fn skip(&mut self, id: i64, types: &BTreeMap<i64, WireType>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return self.fail(GobErrorKind::DepthLimit);
        }
        if self.scalar(id)?.is_some() {
            return Ok(());
        }
        if id == INTERFACE {
            // A nil interface is an empty concrete-type name; anything else embeds further messages.
            let start = self.pos;
            return if self.bytes()?.is_empty() {
                Ok(())
            } else {
                Err(DecodeError::Gob {
                    offset: start,
                    kind: GobErrorKind::InterfaceUnsupported,
                })
            };
        }
        match types.get(&id) {
            None => self.fail(GobErrorKind::UnknownTypeId(id)),
            Some(WireType::Struct(def)) => {
                let mut prev = -1;
                while let Some(field) = self.next_field(&mut prev, def.fields.len())? {
                    let fid = def.fields.get(field).map_or(0, |f| f.id);
                    self.skip(fid, types, depth + 1)?;
                }
                Ok(())
            }
            Some(WireType::Slice { elem, .. } | WireType::Array { elem, .. }) => {
                for _ in 0..self.count()? {
                    self.skip(*elem, types, depth + 1)?;
                }
                Ok(())
            }
            Some(WireType::Map { key, elem, .. }) => {
                for _ in 0..self.count()? {
                    self.skip(*key, types, depth + 1)?;
                    self.skip(*elem, types, depth + 1)?;
                }
                Ok(())
            }
            Some(
                WireType::GobEncoder(_) | WireType::BinaryMarshaler(_) | WireType::TextMarshaler(_),
            ) => self.bytes().map(|_| ()),
        }
    }
}

/// Go sends a float as the uint of its byte-reversed IEEE-754 bits (so small exponents come first).
fn float_from_bits(u: u64) -> f64 {
    f64::from_bits(u.swap_bytes())
}

fn float_to_bits(f: f64) -> u64 {
    f.to_bits().swap_bytes()
}

// ---------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------

/// Appends an unsigned integer in gob encoding (minimal form).
pub fn write_uint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    let bytes = v.to_be_bytes();
    let skip = (v.leading_zeros() / 8) as usize;
    let n = 8 - skip;
    out.push((256 - n) as u8);
    out.extend_from_slice(bytes.get(skip..).unwrap_or_default());
}

/// Appends a signed integer in gob encoding.
pub fn write_int(out: &mut Vec<u8>, i: i64) {
    let u = if i < 0 {
        ((!i as u64) << 1) | 1
    } else {
        (i as u64) << 1
    };
    write_uint(out, u);
}

/// Appends a length-prefixed byte string (Go `string` or `[]byte`).
pub fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_uint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends one message: `uint(len(body)) ‖ body`, where `body` starts with the signed type id.
pub fn write_message(out: &mut Vec<u8>, body: &[u8]) {
    write_uint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// Appends a scalar value (without field delta).
pub fn write_scalar(out: &mut Vec<u8>, value: &Scalar<'_>) {
    match *value {
        Scalar::Bool(b) => write_uint(out, u64::from(b)),
        Scalar::Int(i) => write_int(out, i),
        Scalar::Uint(u) => write_uint(out, u),
        Scalar::Float(f) => write_uint(out, float_to_bits(f)),
        Scalar::Complex(re, im) => {
            write_uint(out, float_to_bits(re));
            write_uint(out, float_to_bits(im));
        }
        Scalar::Bytes(b) | Scalar::String(b) => write_bytes(out, b),
    }
}

/// Writes struct field deltas: field numbers must be given in increasing order.
#[derive(Debug)]
pub struct FieldWriter<'o> {
    out: &'o mut Vec<u8>,
    prev: i64,
}

impl<'o> FieldWriter<'o> {
    /// Starts a struct value (or a nested struct) in `out`.
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        Self { out, prev: -1 }
    }

    /// Writes the delta announcing field `index` and returns the buffer for the field's value.
    pub fn field(&mut self, index: usize) -> &mut Vec<u8> {
        let index = index as i64;
        debug_assert!(
            index > self.prev,
            "struct fields must be written in increasing order"
        );
        write_uint(self.out, (index - self.prev).max(1) as u64);
        self.prev = index;
        self.out
    }

    /// Writes the struct terminator.
    pub fn finish(self) {
        self.out.push(0);
    }
}

fn write_common(out: &mut Vec<u8>, name: &str, id: i64) {
    let mut w = FieldWriter::new(out);
    if !name.is_empty() {
        write_bytes(w.field(0), name.as_bytes());
    }
    if id != 0 {
        write_int(w.field(1), id);
    }
    w.finish();
}

/// Appends the message defining `wire` (`uint(len) ‖ int(-id) ‖ wireType`), laid out as Go lays it out:
/// `CommonType` always present, zero ints and empty field lists omitted.
pub fn write_type_definition(out: &mut Vec<u8>, wire: &WireType) {
    let mut body = Vec::new();
    write_int(&mut body, wire.id().wrapping_neg());
    let mut w = FieldWriter::new(&mut body);
    match wire {
        WireType::Array { common, elem, len } => {
            write_typed(w.field(0), common, &[(1, *elem), (2, *len)]);
        }
        WireType::Slice { common, elem } => write_typed(w.field(1), common, &[(1, *elem)]),
        WireType::Struct(s) => {
            let out = w.field(2);
            let mut sw = FieldWriter::new(out);
            write_common(sw.field(0), &s.name, s.id);
            if !s.fields.is_empty() {
                let list = sw.field(1);
                write_uint(list, s.fields.len() as u64);
                for f in &s.fields {
                    write_common(list, &f.name, f.id);
                }
            }
            sw.finish();
        }
        WireType::Map { common, key, elem } => {
            write_typed(w.field(3), common, &[(1, *key), (2, *elem)]);
        }
        WireType::GobEncoder(common) => write_typed(w.field(4), common, &[]),
        WireType::BinaryMarshaler(common) => write_typed(w.field(5), common, &[]),
        WireType::TextMarshaler(common) => write_typed(w.field(6), common, &[]),
    }
    w.finish();
    write_message(out, &body);
}

fn write_typed(out: &mut Vec<u8>, common: &CommonType, ints: &[(usize, i64)]) {
    let mut w = FieldWriter::new(out);
    write_common(w.field(0), &common.name, common.id);
    for &(index, value) in ints {
        if value != 0 {
            write_int(w.field(index), value);
        }
    }
    w.finish();
}

/// Appends the message holding a struct value of type `id` whose fields are all scalars: `fields` are
/// `(field number, value)`; zero values are omitted, as Go omits them.
pub fn write_struct_value(out: &mut Vec<u8>, id: i64, fields: &[(usize, Scalar<'_>)]) {
    let mut sorted: Vec<&(usize, Scalar<'_>)> =
        fields.iter().filter(|(_, v)| !v.is_zero()).collect();
    sorted.sort_by_key(|(i, _)| *i);
    // A field can be sent once; keep the first value given for it.
    sorted.dedup_by_key(|(i, _)| *i);
    let mut body = Vec::new();
    write_int(&mut body, id);
    let mut w = FieldWriter::new(&mut body);
    for (index, value) in sorted {
        write_scalar(w.field(*index), value);
    }
    w.finish();
    write_message(out, &body);
}

/// Encodes a complete stream as a fresh Go encoder would: the definition of `def` then its value.
/// `def`'s fields must have built-in scalar types (the value carries no further definitions), and each
/// value's type must match its field's declared type.
pub fn encode_struct(def: &StructType, fields: &[(usize, Scalar<'_>)]) -> Vec<u8> {
    debug_assert!(fields
        .iter()
        .all(|(i, v)| def.fields.get(*i).is_some_and(|f| f.id == v.type_id())));
    let mut out = Vec::new();
    write_type_definition(&mut out, &WireType::Struct(def.clone()));
    write_struct_value(&mut out, def.id, fields);
    out
}
