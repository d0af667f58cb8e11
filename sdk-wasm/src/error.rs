//! The SDK's error type, and the one place where errors are given codes for JavaScript.
//!
//! Server errors keep the server's `errCode` (OpenIM's codes: 1001 bad argument, 1002 no
//! permission, 1004 not found, 15xx token errors, …). Errors raised in the browser use the
//! official SDK's 10xxx codes, so apps written for it handle them the same way.

use std::fmt;

use chorus_core::store::StoreError;
use chorus_proto::error::EncodeError;
use chorus_proto::DecodeError;

/// What kind of failure an [`SdkError`] is, with its detail.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
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

/// Why an SDK operation failed: one pointer, so results carrying it stay small.
#[derive(Debug)]
pub struct SdkError(Box<ErrorKind>);

chorus_proto::boxed_error_kind!(SdkError, ErrorKind);

/// The message is a fixed text per kind, followed by the detail the error carries.
impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (text, detail): (&str, &dyn fmt::Display) = match self.kind() {
            ErrorKind::Store(detail) => ("IndexedDB: ", detail),
            ErrorKind::Convert(detail) => ("value conversion: ", detail),
            ErrorKind::Decode(err) => ("decode: ", err),
            ErrorKind::Encode(err) => ("encode: ", err),
            ErrorKind::InvalidArgument(detail) => ("invalid argument: ", detail),
            ErrorKind::NotLoggedIn => ("not logged in", &""),
            ErrorKind::AlreadyLoggedIn => ("already logged in (log out first)", &""),
            ErrorKind::NoLeader => ("no tab holds the connection; try again", &""),
            ErrorKind::Network(detail) => ("network: ", detail),
            ErrorKind::Server { code, message } => {
                return write!(f, "server error {code}: {message}");
            }
        };
        write!(f, "{text}{detail}")
    }
}

impl std::error::Error for SdkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self.kind() {
            ErrorKind::Decode(err) => Some(err),
            ErrorKind::Encode(err) => Some(err),
            _ => None,
        }
    }
}

impl From<DecodeError> for SdkError {
    fn from(err: DecodeError) -> Self {
        ErrorKind::Decode(err).into()
    }
}

impl From<EncodeError> for SdkError {
    fn from(err: EncodeError) -> Self {
        ErrorKind::Encode(err).into()
    }
}

impl From<StoreError> for SdkError {
    fn from(err: StoreError) -> Self {
        SdkError::store(format!("{err}"))
    }
}

impl SdkError {
    /// [`ErrorKind::Store`].
    pub fn store(detail: String) -> SdkError {
        ErrorKind::Store(detail).into()
    }

    /// [`ErrorKind::Convert`].
    pub fn convert(detail: String) -> SdkError {
        ErrorKind::Convert(detail).into()
    }

    /// [`ErrorKind::InvalidArgument`].
    pub fn invalid_argument(detail: String) -> SdkError {
        ErrorKind::InvalidArgument(detail).into()
    }

    /// [`ErrorKind::Network`].
    pub fn network(detail: String) -> SdkError {
        ErrorKind::Network(detail).into()
    }

    /// [`ErrorKind::Server`].
    pub fn server(code: i32, message: String) -> SdkError {
        ErrorKind::Server { code, message }.into()
    }

    /// [`ErrorKind::NotLoggedIn`].
    pub fn not_logged_in() -> SdkError {
        ErrorKind::NotLoggedIn.into()
    }

    /// [`ErrorKind::AlreadyLoggedIn`].
    pub fn already_logged_in() -> SdkError {
        ErrorKind::AlreadyLoggedIn.into()
    }

    /// [`ErrorKind::NoLeader`].
    pub fn no_leader() -> SdkError {
        ErrorKind::NoLeader.into()
    }

    /// The error code JavaScript sees as `errCode`.
    pub fn code(&self) -> i32 {
        match self.kind() {
            ErrorKind::Server { code, .. } => *code,
            ErrorKind::Network(_) => 10000,
            ErrorKind::InvalidArgument(_) | ErrorKind::Convert(_) => 10001,
            ErrorKind::NoLeader => 10002,
            ErrorKind::NotLoggedIn => 10005,
            ErrorKind::AlreadyLoggedIn => 10102,
            ErrorKind::Store(_) | ErrorKind::Decode(_) | ErrorKind::Encode(_) => 10006,
        }
    }

    /// The error an `errCode` from another tab stands for.
    pub fn from_code(code: i32, message: String) -> SdkError {
        match code {
            10000 => ErrorKind::Network(message),
            10001 => ErrorKind::InvalidArgument(message),
            10002 => ErrorKind::NoLeader,
            10005 => ErrorKind::NotLoggedIn,
            10102 => ErrorKind::AlreadyLoggedIn,
            10006 => ErrorKind::Store(message),
            code => ErrorKind::Server { code, message },
        }
        .into()
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
            (SdkError::store("quota".into()), "IndexedDB: quota"),
            (SdkError::convert("x".into()), "value conversion: x"),
            (
                SdkError::invalid_argument("groupID is empty".into()),
                "invalid argument: groupID is empty",
            ),
            (SdkError::not_logged_in(), "not logged in"),
            (
                SdkError::already_logged_in(),
                "already logged in (log out first)",
            ),
            (
                SdkError::no_leader(),
                "no tab holds the connection; try again",
            ),
            (SdkError::network("offline".into()), "network: offline"),
            (
                SdkError::server(1004, "not found".into()),
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
