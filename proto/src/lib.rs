//! OpenIM v3.8 wire format: protobuf messages, envelope codecs and content JSON.
//!
//! This crate only converts between bytes and values. It performs no I/O, reads no clock and
//! never panics on input: every decoder returns a value or a typed error.
//!
//! * [`pb`] — types generated from our own `.proto` files (`proto/proto/`), package names and
//!   field numbers as OpenIM defines them, with their protobuf codec ([`pb::Message`]) and Go
//!   `encoding/json` compatible serde impls.
//! * [`constants`] — content types, session types, join sources, role levels, platforms, error codes.
//! * [`json`] — helpers that make serde speak Go `encoding/json` (null as absent, base64 bytes,
//!   wrapper types as plain scalars).
//! * [`content`] — message content JSON: text, notification (`{"detail": …}`), revoked content.
//! * [`envelope`] — the gateway envelopes (JSON and gob), gzip framing, text ping/pong frames, size limits.
//! * [`msgjson`] — a JSON value tree with its reader and writer, and the traits the generated
//!   messages (and hand-written types elsewhere) use to convert to and from it.
//! * `gob` — a Go `encoding/gob` reader/writer sufficient for the gateway envelopes.
//! * [`sort`] — stable sorting through one compiled copy (used here by [`pb::Map`] and by core).
//!
//! Cargo features (both default): `gob` (the gob envelope of the Go SDK, `sdkType=go`) and `gzip`
//! (`compression=gzip` framing). A browser build leaves both out; its frames are JSON, uncompressed.
//! * [`error`] — typed decode errors.

pub mod constants;
pub mod content;
pub mod envelope;
pub mod error;
#[cfg(feature = "gob")]
pub mod gob;
pub mod json;
mod jsontext;
pub mod msgjson;
pub mod pb;
pub mod sort;

pub use error::{DecodeError, EncodeError};
