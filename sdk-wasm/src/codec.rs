//! Gateway frames as a browser client sends and receives them.
//!
//! Browsers cannot speak gob usefully and cannot read a failed upgrade's body, so the SDK always
//! connects with `sdkType=js` and without `compression=gzip`: binary frames carry the JSON
//! envelope, uncompressed. The browser build of `chorus-proto` has neither the gob envelope nor
//! gzip, so asking for gzip here (`gzip = true`) is refused with an "is not supported by this
//! build" error. All byte layouts come from `chorus-proto`'s [`FrameCodec`]; this module only
//! fixes the browser's choices and exposes them to JavaScript. It converts values only: it never
//! opens a socket.

use chorus_proto::envelope::{
    Compression, EnvelopeCodec, FrameCodec, RequestPayload, Resp, ResponsePayload,
};
use chorus_proto::pb::sdkws::GetMaxSeqReq;
use wasm_bindgen::prelude::*;

use crate::error::SdkError;

/// The frame codec of a browser connection, with or without gzip (refused when `chorus-proto` is
/// built without its `gzip` feature, as in the browser SDK).
pub fn browser_codec(gzip: bool) -> FrameCodec {
    let compression = if gzip {
        Compression::Gzip
    } else {
        Compression::None
    };
    FrameCodec::new(EnvelopeCodec::Json, compression)
}

/// The frame asking for the newest seq of every conversation of `user_id` (reqIdentifier 1001).
pub fn get_newest_seq_frame(
    user_id: &str,
    operation_id: &str,
    msg_incr: &str,
    gzip: bool,
) -> Result<Vec<u8>, SdkError> {
    let payload = RequestPayload::GetNewestSeq(GetMaxSeqReq {
        user_id: user_id.to_owned(),
    });
    let req = payload.to_req(user_id, operation_id, msg_incr);
    Ok(browser_codec(gzip).encode_req(&req)?)
}

/// Decodes a server frame (response or push) into its envelope.
pub fn decode_server_frame(frame: &[u8], gzip: bool) -> Result<Resp, SdkError> {
    Ok(browser_codec(gzip).decode_resp(frame)?)
}

/// Decodes a server frame and the protobuf message its `reqIdentifier` carries.
pub fn decode_server_payload(
    frame: &[u8],
    gzip: bool,
) -> Result<(Resp, ResponsePayload), SdkError> {
    let resp = decode_server_frame(frame, gzip)?;
    let payload = resp.payload()?;
    Ok((resp, payload))
}

/// The binary `GetNewestSeq` frame to send, with a JavaScript-convertible error.
pub fn encode_get_newest_seq(
    user_id: &str,
    operation_id: &str,
    msg_incr: &str,
    gzip: bool,
) -> Result<Vec<u8>, JsError> {
    Ok(get_newest_seq_frame(user_id, operation_id, msg_incr, gzip)?)
}

/// A received binary frame's envelope, with a JavaScript-convertible error.
pub fn decode_frame(frame: &[u8], gzip: bool) -> Result<ServerFrame, JsError> {
    Ok(ServerFrame(decode_server_frame(frame, gzip)?))
}

/// A decoded response or push envelope.
#[derive(Debug, Clone)]
pub struct ServerFrame(Resp);

impl ServerFrame {
    /// The request kind (`reqIdentifier`).
    pub fn req_identifier(&self) -> i32 {
        self.0.req_identifier
    }

    /// The request's `msgIncr`.
    pub fn msg_incr(&self) -> String {
        self.0.msg_incr.clone()
    }

    /// The request's `operationID`.
    pub fn operation_id(&self) -> String {
        self.0.operation_id.clone()
    }

    /// The server's `errCode` (0 for success).
    pub fn err_code(&self) -> i32 {
        self.0.err_code
    }

    /// The server's `errMsg`.
    pub fn err_msg(&self) -> String {
        self.0.err_msg.clone()
    }

    /// The protobuf bytes of the payload (empty when absent).
    pub fn data(&self) -> Vec<u8> {
        self.0.data.clone()
    }
}
