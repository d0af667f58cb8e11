//! The SDK's error type, and the one place where errors are given codes for JavaScript.
//!
//! Server errors keep the server's `errCode` (OpenIM's codes: 1001 bad argument, 1002 no
//! permission, 1004 not found, 15xx token errors, …). Errors raised in the browser use the
//! official SDK's 10xxx codes, so apps written for it handle them the same way.

use std::fmt;

use chorus_core::store::StoreError;
use chorus_proto::error::EncodeError;
use chorus_proto::DecodeError;

/// Why an SDK operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SdkError {
    /// IndexedDB refused an operation (quota, blocked upgrade, aborted transaction…).
    Store(String),
    /// A value could not be converted between Rust and JavaScript.
    Convert(String),
    /// Bytes from the network or from JavaScript are not a valid frame.
    Decode(DecodeError),
    /// A value cannot be sent as a frame (too large, or not representable).
    Encode(EncodeError),
    /// An argument is missing or invalid; nothing was changed.
    InvalidArgument(String),
    /// The call needs a logged-in user.
    NotLoggedIn,
    /// `login` was called while a session is active or starting.
    AlreadyLoggedIn,
    /// No tab of this user holds the connection right now (one takes over within seconds).
    NoLeader,
    /// The server could not be reached.
    Network(String),
    /// The server answered with an error.
    Server {
        /// The server's `errCode`.
        code: i32,
        /// The server's `errMsg` (and `errDlt`).
        message: String,
    },
}

/// The message is a fixed text per kind, followed by the detail the error carries.
impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (text, detail): (&str, &dyn fmt::Display) = match self {
            SdkError::Store(detail) => ("IndexedDB: ", detail),
            SdkError::Convert(detail) => ("value conversion: ", detail),
            SdkError::Decode(err) => ("decode: ", err),
            SdkError::Encode(err) => ("encode: ", err),
            SdkError::InvalidArgument(detail) => ("invalid argument: ", detail),
            SdkError::NotLoggedIn => ("not logged in", &""),
            SdkError::AlreadyLoggedIn => ("already logged in (log out first)", &""),
            SdkError::NoLeader => ("no tab holds the connection; try again", &""),
            SdkError::Network(detail) => ("network: ", detail),
            SdkError::Server { code, message } => {
                return write!(f, "server error {code}: {message}");
            }
        };
        write!(f, "{text}{detail}")
    }
}

impl std::error::Error for SdkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SdkError::Decode(err) => Some(err),
            SdkError::Encode(err) => Some(err),
            _ => None,
        }
    }
}

impl From<DecodeError> for SdkError {
    fn from(err: DecodeError) -> Self {
        SdkError::Decode(err)
    }
}

impl From<EncodeError> for SdkError {
    fn from(err: EncodeError) -> Self {
        SdkError::Encode(err)
    }
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

/// The text a hand-written JS module of this crate (`browser.js`, `store/idb.js`) threw or
/// rejected with: those modules report every failure as a string.
pub(crate) fn thrown_text(value: wasm_bindgen::JsValue) -> String {
    value.as_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    fn messages_name_the_kind_and_carry_the_detail() {
        let cases = [
            (SdkError::Store("quota".into()), "IndexedDB: quota"),
            (SdkError::Convert("x".into()), "value conversion: x"),
            (
                SdkError::InvalidArgument("groupID is empty".into()),
                "invalid argument: groupID is empty",
            ),
            (SdkError::NotLoggedIn, "not logged in"),
            (
                SdkError::AlreadyLoggedIn,
                "already logged in (log out first)",
            ),
            (SdkError::NoLeader, "no tab holds the connection; try again"),
            (SdkError::Network("offline".into()), "network: offline"),
            (
                SdkError::Server {
                    code: 1004,
                    message: "not found".into(),
                },
                "server error 1004: not found",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
            assert!(std::error::Error::source(&err).is_none());
        }
        let cause = DecodeError::MissingField("seq");
        let decode = SdkError::from(cause.clone());
        assert_eq!(decode.to_string(), format!("decode: {cause}"));
        assert!(std::error::Error::source(&decode).is_some());
    }
}
