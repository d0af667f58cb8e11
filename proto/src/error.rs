//! Typed decode and encode errors of the wire layer.
//!
//! Every decoder of this crate returns [`DecodeError`]; callers branch on the variant (a gateway answers a
//! bad handshake query with 1602, drops a connection on an undecodable frame, and so on), so the variants
//! say *what* was wrong, and the gob variants also say *where* (byte offset into the decompressed stream).
//! Nothing here performs I/O or logging.

use std::fmt;

/// For an error `struct $name(Box<$kind>)`: `kind()`, and `From<$kind>`. Errors that travel
/// through many `Result`s are one pointer to their kind, so that a `Result` is no larger than its
/// `Ok` value needs and `?` moves one word.
#[macro_export]
macro_rules! boxed_error_kind {
    ($name:ident, $kind:ident) => {
        impl $name {
            /// What kind of failure this is.
            pub fn kind(&self) -> &$kind {
                &self.0
            }
        }

        impl From<$kind> for $name {
            fn from(kind: $kind) -> Self {
                $name(Box::new(kind))
            }
        }
    };
}

/// Why some bytes could not be turned into a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame on the wire is larger than the limit of its direction.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    FrameTooLarge { size: usize, limit: usize },
    /// The gzip stream inflates to more than the limit (a zip bomb, or simply too much data).
    #[error("decompressed frame exceeds the limit of {limit} bytes")]
    DecompressedTooLarge { limit: usize },
    /// The gzip stream is malformed: bad header, bad deflate data, CRC or length mismatch, truncation.
    /// (Only with the `gzip` feature, which is the only code that reads gzip.)
    #[cfg(feature = "gzip")]
    #[error("gzip: {detail}")]
    Gzip { detail: String },
    /// The bytes are not the expected JSON (syntax error, wrong JSON type for a key, not an object…).
    #[error("invalid JSON: {detail}")]
    Json { detail: String },
    /// A base64 string (JSON encoding of Go `[]byte`) is malformed.
    #[error("invalid base64 in {field}: {detail}")]
    Base64 { field: &'static str, detail: String },
    /// The gob stream is malformed or uses something this reader does not support. (Only with the
    /// `gob` feature, which is the only code that reads gob.)
    #[cfg(feature = "gob")]
    #[error("gob: {kind} at offset {offset}")]
    Gob { offset: usize, kind: GobErrorKind },
    /// A field that must be present (and non-zero) is absent.
    #[error("missing required field {0}")]
    MissingField(&'static str),
    /// A field is present with a type other than the one required (e.g. gob `ReqIdentifier` declared string).
    #[error("field {field}: expected {expected}, found {found}")]
    TypeMismatch {
        field: String,
        expected: &'static str,
        found: String,
    },
    /// An integer does not fit the field's type.
    #[error("field {field}: value {value} out of range")]
    OutOfRange { field: &'static str, value: i64 },
    /// A string field does not hold valid UTF-8.
    #[error("field {field}: invalid UTF-8")]
    InvalidUtf8 { field: &'static str },
    /// A field holds a value outside its allowed set (bad bool, unknown `sdkType`, bad percent-escape…).
    #[error("field {field}: invalid value {}", Quoted(.value))]
    InvalidValue { field: &'static str, value: String },
    /// A text frame whose `type` is neither `ping` nor `pong`.
    #[error("unknown text frame type {}", Quoted(.0))]
    UnknownTextFrameType(String),
    /// A `reqIdentifier` this protocol version does not define (or not in the direction it was used).
    #[error("unknown reqIdentifier {0}")]
    UnknownReqIdentifier(i32),
    /// A protobuf payload could not be decoded as the message its context requires.
    #[error("protobuf {message}: {source}")]
    Protobuf {
        message: &'static str,
        source: crate::pb::DecodeError,
    },
    /// The frame needs a codec this build leaves out (see the crate's `gob` and `gzip` features).
    #[error("{0} is not supported by this build")]
    Unsupported(&'static str),
}

/// Displays a string between double quotes, as written (no escaping): how error texts name a
/// value or key.
#[derive(Debug)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        f.write_str(self.0)?;
        f.write_str("\"")
    }
}

/// What exactly went wrong inside a gob stream; carried by [`DecodeError::Gob`] with the offset.
#[cfg(feature = "gob")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GobErrorKind {
    /// The input ended inside an integer, a length-prefixed item or a message.
    UnexpectedEof,
    /// An unsigned integer announced more than 8 big-endian bytes (or used a reserved first byte).
    BadUint(u8),
    /// A length or element count is larger than the bytes that remain.
    LengthExceedsInput { len: u64, remaining: usize },
    /// A message of length zero (it cannot even hold a type id).
    EmptyMessage,
    /// Nested values or types go deeper than the reader allows.
    DepthLimit,
    /// A value refers to a type id that is neither built in nor defined earlier in the stream.
    UnknownTypeId(i64),
    /// A type definition uses an id that is reserved or already defined in this stream.
    BadTypeDefinitionId(i64),
    /// The id repeated inside a type definition (`CommonType.Id`) differs from the message's id.
    InconsistentTypeId { message: i64, inner: i64 },
    /// A `wireType` (or one of its parts) is malformed: no variant, several variants, unknown field.
    BadWireType(&'static str),
    /// A struct value names a field number its type does not have.
    FieldOutOfRange { field: u64, fields: usize },
    /// Skipping an interface value is not supported (the gateway envelopes never contain one).
    InterfaceUnsupported,
    /// The top-level value is not a struct.
    NotAStruct(i64),
    /// The stream ended after the type definitions without a value.
    MissingValue,
    /// Bytes remain inside a message after its value, or after the value message.
    TrailingData,
    /// A type definition declares the same field name twice.
    DuplicateField(String),
}

#[cfg(feature = "gob")]
impl fmt::Display for GobErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEof => f.write_str("unexpected end of input"),
            Self::BadUint(b) => write!(f, "malformed unsigned integer (first byte {b:#04x})"),
            Self::LengthExceedsInput { len, remaining } => {
                write!(f, "length {len} exceeds the {remaining} remaining bytes")
            }
            Self::EmptyMessage => f.write_str("empty message"),
            Self::DepthLimit => f.write_str("nesting too deep"),
            Self::UnknownTypeId(id) => write!(f, "unknown type id {id}"),
            Self::BadTypeDefinitionId(id) => {
                write!(f, "type definition with reserved or duplicate id {id}")
            }
            Self::InconsistentTypeId { message, inner } => {
                write!(f, "type definition for id {message} names id {inner}")
            }
            Self::BadWireType(what) => write!(f, "malformed type definition: {what}"),
            Self::FieldOutOfRange { field, fields } => {
                write!(
                    f,
                    "field number {field} out of range for a struct of {fields} fields"
                )
            }
            Self::InterfaceUnsupported => f.write_str("interface values are not supported"),
            Self::NotAStruct(id) => write!(f, "top-level value of type {id} is not a struct"),
            Self::MissingValue => f.write_str("stream holds no value"),
            Self::TrailingData => f.write_str("trailing data"),
            Self::DuplicateField(name) => write!(f, "field {} declared twice", Quoted(name)),
        }
    }
}

/// Why a value could not be turned into a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The encoded frame (after compression, if any) is larger than the limit of its direction.
    #[error("encoded frame of {size} bytes exceeds the limit of {limit} bytes")]
    FrameTooLarge { size: usize, limit: usize },
    /// The encoded envelope before compression is larger than the receiver's decompression limit.
    #[error("encoded envelope of {size} bytes exceeds the decompressed limit of {limit} bytes")]
    DecompressedTooLarge { size: usize, limit: usize },
    /// A value cannot be represented (e.g. a text frame body that is not exactly one JSON value).
    #[error("{field}: {detail}")]
    Invalid { field: &'static str, detail: String },
    /// The frame needs a codec this build leaves out (see the crate's `gob` and `gzip` features).
    #[error("{0} is not supported by this build")]
    Unsupported(&'static str),
}

#[cfg(test)]
mod tests {
    use super::DecodeError;

    #[test]
    fn out_of_range_values_are_written_in_full() {
        for value in [i64::MIN, -1, 0, i64::MAX] {
            assert_eq!(
                DecodeError::OutOfRange {
                    field: "ReqIdentifier",
                    value,
                }
                .to_string(),
                format!("field ReqIdentifier: value {value} out of range")
            );
        }
    }

    #[test]
    fn values_and_keys_are_named_between_quotes() {
        let invalid = DecodeError::InvalidValue {
            field: "sdkType",
            value: "go".to_owned(),
        };
        assert_eq!(invalid.to_string(), "field sdkType: invalid value \"go\"");
        let frame = DecodeError::UnknownTextFrameType(String::new());
        assert_eq!(frame.to_string(), "unknown text frame type \"\"");
    }

    #[cfg(feature = "gob")]
    #[test]
    fn gob_field_names_are_between_quotes() {
        let twice = super::GobErrorKind::DuplicateField("Data".to_owned());
        assert_eq!(twice.to_string(), "field \"Data\" declared twice");
        let gob = DecodeError::Gob {
            offset: 7,
            kind: twice,
        };
        assert_eq!(
            gob.to_string(),
            "gob: field \"Data\" declared twice at offset 7"
        );
    }
}
