//! The message-gateway envelopes and their framing.
//!
//! * [`Req`] (client → server) and [`Resp`] (server → client: responses and pushes) — the two envelopes,
//!   whose `data` carries protobuf bytes of the per-request message.
//! * Two envelope codecs: JSON (`sdkType=js`, browsers) in `Req::decode_json` & co., and Go gob (the
//!   official Go SDK) in `Req::decode_gob` & co., with `GobLayout` to re-encode a decoded gob frame
//!   byte for byte (feature `gob`).
//! * [`FrameCodec`]: codec + optional gzip (feature `gzip`) + size limits, i.e. what a binary WebSocket
//!   frame holds on a connection. Limits are enforced on the wire size and after decompression
//!   ([`FrameLimits`]). A build without a feature refuses its frames with `Unsupported` errors.
//! * Text frames: [`TextFrame`] (ping/pong) and [`HandshakeResult`]; the connection query string:
//!   [`ConnectParams`]; typed payloads by `reqIdentifier`: [`payload`].
//!
//! "Data absent" is modelled as an empty `data`: JSON writes it as `null` and gob omits it (a zero field);
//! JSON `null`, a missing key and `""` all decode to empty.
//!
//! This module converts bytes to values and back; it never performs I/O, never reads a clock, and never
//! panics on input.

#[cfg(feature = "gob")]
mod gob;
mod json;
pub mod payload;
mod query;
mod text;

#[cfg(feature = "gzip")]
use std::io::{Read, Write};

#[cfg(feature = "gob")]
pub use gob::GobLayout;
pub use payload::{
    decode_request_payload, decode_response_payload, RequestPayload, ResponsePayload,
};
pub use query::{ConnectParams, SdkType};
pub use text::{HandshakeResult, RawJson, TextFrame};

use crate::error::{DecodeError, EncodeError};

/// Request envelope, client → server (Go: server `Req`, client `GeneralWsReq`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Req {
    /// Which request this is (§2.7); must be non-zero.
    pub req_identifier: i32,
    /// Unused by the server; the official SDK leaves it empty.
    pub token: String,
    /// The connection's user id; the server closes connections whose envelopes name another user.
    pub send_id: String,
    pub operation_id: String,
    /// Correlation id echoed in the response.
    pub msg_incr: String,
    /// Protobuf bytes of the request message; empty = absent.
    pub data: Vec<u8>,
}

/// Response and push envelope, server → client (Go: server `Resp`, client `GeneralWsResp`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resp {
    /// The request's identifier, or 2001/2002/2005 for server-initiated frames; must be non-zero.
    pub req_identifier: i32,
    /// Echo of the request's `msgIncr`; empty on server-initiated frames.
    pub msg_incr: String,
    pub operation_id: String,
    /// 0 = success, else an OpenIM error code.
    pub err_code: i32,
    pub err_msg: String,
    /// Protobuf bytes of the response message; empty = absent (JSON `null`).
    pub data: Vec<u8>,
}

/// The envelope codec of a connection, chosen by the `sdkType` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnvelopeCodec {
    /// Go `encoding/json` (`sdkType=js`).
    Json,
    /// Go `encoding/gob` (`sdkType=go` or absent — what the official Go SDK uses).
    #[default]
    Gob,
}

/// Compression of binary frames, chosen by the `compression` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    /// Each binary frame is one gzip stream (RFC 1952), in both directions.
    Gzip,
}

/// Size limits for one direction: the frame on the wire and the envelope after decompression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest binary frame payload accepted, as received (compressed when gzip is on).
    pub wire: usize,
    /// Largest envelope accepted after decompression; bounds the memory a gzip stream can claim.
    pub decompressed: usize,
}

impl FrameLimits {
    /// Client → server: the gateway's WebSocket read limit (`maxMessageSize` = 51200).
    pub const CLIENT_TO_SERVER: Self = Self {
        wire: 51_200,
        decompressed: 51_200,
    };
    /// Server → client: the official SDK's read limit (1 MiB).
    pub const SERVER_TO_CLIENT: Self = Self {
        wire: 1 << 20,
        decompressed: 1 << 20,
    };
}

/// What a binary frame holds on one connection: envelope codec, compression, and the size limits of each
/// direction. Requests are checked against `request_limits`, responses against `response_limits`, both
/// when decoding and when encoding (so a peer using the same limits accepts what we send).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCodec {
    pub envelope: EnvelopeCodec,
    pub compression: Compression,
    pub request_limits: FrameLimits,
    pub response_limits: FrameLimits,
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new(EnvelopeCodec::default(), Compression::default())
    }
}

impl FrameCodec {
    /// A codec with the protocol's default limits.
    pub const fn new(envelope: EnvelopeCodec, compression: Compression) -> Self {
        Self {
            envelope,
            compression,
            request_limits: FrameLimits::CLIENT_TO_SERVER,
            response_limits: FrameLimits::SERVER_TO_CLIENT,
        }
    }

    /// The codec a connection with these query parameters uses.
    pub const fn for_params(params: &ConnectParams) -> Self {
        let envelope = match params.sdk_type {
            SdkType::Go => EnvelopeCodec::Gob,
            SdkType::Js => EnvelopeCodec::Json,
        };
        Self::new(envelope, params.compression)
    }

    /// Decodes a client → server binary frame.
    pub fn decode_req(&self, frame: &[u8]) -> Result<Req, DecodeError> {
        let envelope = self.unwrap_frame(frame, self.request_limits)?;
        match self.envelope {
            EnvelopeCodec::Json => Req::decode_json(&envelope),
            #[cfg(feature = "gob")]
            EnvelopeCodec::Gob => Req::decode_gob(&envelope),
            #[cfg(not(feature = "gob"))]
            EnvelopeCodec::Gob => Err(DecodeError::Unsupported(GOB)),
        }
    }

    /// Encodes a client → server binary frame.
    pub fn encode_req(&self, req: &Req) -> Result<Vec<u8>, EncodeError> {
        let envelope = match self.envelope {
            EnvelopeCodec::Json => req.encode_json(),
            #[cfg(feature = "gob")]
            EnvelopeCodec::Gob => req.encode_gob(),
            #[cfg(not(feature = "gob"))]
            EnvelopeCodec::Gob => return Err(EncodeError::Unsupported(GOB)),
        };
        self.wrap_frame(envelope, self.request_limits)
    }

    /// Decodes a server → client binary frame.
    pub fn decode_resp(&self, frame: &[u8]) -> Result<Resp, DecodeError> {
        let envelope = self.unwrap_frame(frame, self.response_limits)?;
        match self.envelope {
            EnvelopeCodec::Json => Resp::decode_json(&envelope),
            #[cfg(feature = "gob")]
            EnvelopeCodec::Gob => Resp::decode_gob(&envelope),
            #[cfg(not(feature = "gob"))]
            EnvelopeCodec::Gob => Err(DecodeError::Unsupported(GOB)),
        }
    }

    /// Encodes a server → client binary frame.
    pub fn encode_resp(&self, resp: &Resp) -> Result<Vec<u8>, EncodeError> {
        let envelope = match self.envelope {
            EnvelopeCodec::Json => resp.encode_json(),
            #[cfg(feature = "gob")]
            EnvelopeCodec::Gob => resp.encode_gob(),
            #[cfg(not(feature = "gob"))]
            EnvelopeCodec::Gob => return Err(EncodeError::Unsupported(GOB)),
        };
        self.wrap_frame(envelope, self.response_limits)
    }

    fn unwrap_frame<'f>(
        &self,
        frame: &'f [u8],
        limits: FrameLimits,
    ) -> Result<std::borrow::Cow<'f, [u8]>, DecodeError> {
        if frame.len() > limits.wire {
            return Err(DecodeError::FrameTooLarge {
                size: frame.len(),
                limit: limits.wire,
            });
        }
        match self.compression {
            Compression::None if frame.len() > limits.decompressed => {
                Err(DecodeError::DecompressedTooLarge {
                    limit: limits.decompressed,
                })
            }
            Compression::None => Ok(std::borrow::Cow::Borrowed(frame)),
            #[cfg(feature = "gzip")]
            Compression::Gzip => gunzip(frame, limits.decompressed).map(std::borrow::Cow::Owned),
            #[cfg(not(feature = "gzip"))]
            Compression::Gzip => Err(DecodeError::Unsupported(GZIP)),
        }
    }

    fn wrap_frame(&self, envelope: Vec<u8>, limits: FrameLimits) -> Result<Vec<u8>, EncodeError> {
        if envelope.len() > limits.decompressed {
            return Err(EncodeError::DecompressedTooLarge {
                size: envelope.len(),
                limit: limits.decompressed,
            });
        }
        let frame = match self.compression {
            Compression::None => envelope,
            #[cfg(feature = "gzip")]
            Compression::Gzip => gzip(&envelope),
            #[cfg(not(feature = "gzip"))]
            Compression::Gzip => return Err(EncodeError::Unsupported(GZIP)),
        };
        if frame.len() > limits.wire {
            return Err(EncodeError::FrameTooLarge {
                size: frame.len(),
                limit: limits.wire,
            });
        }
        Ok(frame)
    }
}

/// What [`DecodeError::Unsupported`] names for a gob frame in a build without the `gob` feature.
#[cfg(not(feature = "gob"))]
const GOB: &str = "the gob envelope (sdkType=go)";

/// What [`DecodeError::Unsupported`] names for a gzip frame in a build without the `gzip` feature.
#[cfg(not(feature = "gzip"))]
const GZIP: &str = "gzip framing (compression=gzip)";

/// Compresses one envelope into a gzip stream laid out like Go's `compress/gzip` default writer: header
/// `1f 8b 08 00 00000000 00 ff` (no name, mtime 0, OS unknown), deflate level 6, CRC-32 and length trailer.
#[cfg(feature = "gzip")]
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new().operating_system(255).write(
        Vec::with_capacity(data.len() / 2 + 32),
        flate2::Compression::new(6),
    );
    // Writing into a Vec cannot fail: the only error source would be the sink.
    encoder.write_all(data).expect("gzip into a Vec");
    encoder.finish().expect("gzip into a Vec")
}

/// Decompresses a gzip frame, refusing to produce more than `limit` bytes.
///
/// Like Go's `gzip.Reader`, concatenated gzip members are read as one stream; anything else after a member
/// (and a missing or truncated trailer, or a CRC mismatch) is an error.
#[cfg(feature = "gzip")]
pub fn gunzip(frame: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    if frame.is_empty() {
        return Err(DecodeError::Gzip {
            detail: "empty stream".into(),
        });
    }
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut reader = flate2::read::MultiGzDecoder::new(frame).take(cap);
    reader
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Gzip {
            detail: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(DecodeError::DecompressedTooLarge { limit });
    }
    Ok(out)
}
