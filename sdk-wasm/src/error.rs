//! The SDK's error type, and the one place where errors cross into JavaScript.
//!
//! Every fallible `#[wasm_bindgen]` function returns `Result<_, JsError>`; `JsError` is built
//! from [`SdkError`] by `?`, so JavaScript receives an `Error` whose message is the `Display`
//! text below. Nothing here logs.

use chorus_proto::error::EncodeError;
use chorus_proto::DecodeError;

/// Why an SDK operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// IndexedDB refused an operation (quota, blocked upgrade, aborted transaction…).
    #[error("IndexedDB: {0}")]
    Store(String),
    /// A value could not be converted between Rust and JavaScript.
    #[error("value conversion: {0}")]
    Convert(String),
    /// Bytes from the network or from JavaScript are not a valid frame.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// A value cannot be sent as a frame (too large, or not representable).
    #[error("encode: {0}")]
    Encode(#[from] EncodeError),
}

impl From<rexie::Error> for SdkError {
    fn from(err: rexie::Error) -> Self {
        // rexie's Display is only "idb error"; the Debug form names the failing operation.
        SdkError::Store(format!("{err:?}"))
    }
}

impl From<serde_wasm_bindgen::Error> for SdkError {
    fn from(err: serde_wasm_bindgen::Error) -> Self {
        SdkError::Convert(err.to_string())
    }
}
