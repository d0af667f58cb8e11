//! The SDK's error type, and the one place where errors are given codes for JavaScript.
//!
//! Server errors keep the server's `errCode` (OpenIM's codes: 1001 bad argument, 1002 no
//! permission, 1004 not found, 15xx token errors, …). Errors raised in the browser use the
//! official SDK's 10xxx codes, so apps written for it handle them the same way.

use chorus_core::store::StoreError;
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
    /// An argument is missing or invalid; nothing was changed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The call needs a logged-in user.
    #[error("not logged in")]
    NotLoggedIn,
    /// `login` was called while a session is active or starting.
    #[error("already logged in (log out first)")]
    AlreadyLoggedIn,
    /// No tab of this user holds the connection right now (one takes over within seconds).
    #[error("no tab holds the connection; try again")]
    NoLeader,
    /// The server could not be reached.
    #[error("network: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("server error {code}: {message}")]
    Server {
        /// The server's `errCode`.
        code: i32,
        /// The server's `errMsg` (and `errDlt`).
        message: String,
    },
}

impl SdkError {
    /// The error code JavaScript sees as `errCode`.
    pub fn code(&self) -> i32 {
        match self {
            SdkError::Server { code, .. } => *code,
            SdkError::Network(_) => 10000,
            SdkError::InvalidArgument(_) | SdkError::Convert(_) => 10001,
            SdkError::NoLeader => 10002,
            SdkError::NotLoggedIn => 10005,
            SdkError::AlreadyLoggedIn => 10102,
            SdkError::Store(_) | SdkError::Decode(_) | SdkError::Encode(_) => 10006,
        }
    }

    /// The error an `errCode` from another tab stands for.
    pub fn from_code(code: i32, message: String) -> SdkError {
        match code {
            10000 => SdkError::Network(message),
            10001 => SdkError::InvalidArgument(message),
            10002 => SdkError::NoLeader,
            10005 => SdkError::NotLoggedIn,
            10102 => SdkError::AlreadyLoggedIn,
            10006 => SdkError::Store(message),
            code => SdkError::Server { code, message },
        }
    }
}

impl From<StoreError> for SdkError {
    fn from(err: StoreError) -> Self {
        SdkError::Store(err.to_string())
    }
}
