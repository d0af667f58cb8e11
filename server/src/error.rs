//! The server's one error type and its mapping to OpenIM error codes (spec §6.4).
//!
//! Every REST handler and every gateway request returns [`ApiError`]; the code it carries is what
//! the client sees as `errCode`. Internal failures are logged and reported as 500 without detail.

use chorus_proto::constants::ErrorCode;

use crate::store::StoreError;

/// An error answered to a client: an OpenIM error code, a message and an optional detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: i32,
    pub msg: String,
    pub dlt: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, msg: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            msg: msg.into(),
            dlt: String::new(),
        }
    }

    /// 1001: the request is malformed or fails validation.
    pub fn args(msg: impl Into<String>) -> Self {
        Self::new(ErrorCode::ArgsError, msg)
    }

    /// 1002: the operator may not do this.
    pub fn no_permission(msg: impl Into<String>) -> Self {
        Self::new(ErrorCode::NoPermissionError, msg)
    }

    /// 1004: a referenced record does not exist.
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::new(ErrorCode::RecordNotFound, msg)
    }

    /// 500: something failed inside the server. The detail goes to the log, not the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(ErrorCode::ServerInternalError, "ServerInternalError")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.msg)
    }
}

impl std::error::Error for ApiError {}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        Self::internal(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
