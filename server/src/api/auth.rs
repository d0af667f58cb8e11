//! `/auth/*`: admin and user tokens (spec §5.2).

use axum::Router;
use chorus_proto::constants::ErrorCode;
use serde::{Deserialize, Serialize};

use super::{authed, public, Op};
use crate::auth::{ADMIN_PLATFORM_ID, TOKEN_TTL_SECS};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/get_admin_token", public(get_admin_token))
        .route("/auth/get_user_token", authed(get_user_token))
        .route("/auth/parse_token", public(parse_token))
        .route("/auth/force_logout", authed(force_logout))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AdminTokenReq {
    secret: String,
    #[serde(rename = "userID")]
    user_id: String,
}

#[derive(Debug, Serialize)]
pub(super) struct TokenResp {
    token: String,
    #[serde(rename = "expireTimeSeconds")]
    expire_time_seconds: i64,
}

async fn get_admin_token(state: AppState, _op: String, req: AdminTokenReq) -> ApiResult<TokenResp> {
    if !crate::auth::secret_matches(&req.secret, &state.config.secret) {
        return Err(ApiError::no_permission("secret mismatch"));
    }
    if !state.is_admin(&req.user_id) {
        return Err(ApiError::no_permission("not an app administrator"));
    }
    let token = state.issue_token(&req.user_id, ADMIN_PLATFORM_ID).await?;
    Ok(TokenResp {
        token,
        expire_time_seconds: TOKEN_TTL_SECS,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserTokenReq {
    #[serde(rename = "platformID")]
    platform_id: i32,
    #[serde(rename = "userID")]
    user_id: String,
}

async fn get_user_token(state: AppState, op: Op, req: UserTokenReq) -> ApiResult<TokenResp> {
    op.check_admin()?;
    user_token(&state, &req.user_id, req.platform_id).await
}

/// A token for a registered user on a user platform (1..11, not the admin platform 10).
pub(super) async fn user_token(
    state: &AppState,
    user_id: &str,
    platform_id: i32,
) -> ApiResult<TokenResp> {
    if platform_id == ADMIN_PLATFORM_ID
        || chorus_proto::constants::PlatformId::try_from(platform_id).is_err()
    {
        return Err(ApiError::args(
            "platformID must be a user platform (1..11, not 10)",
        ));
    }
    if !state.user_exists(user_id).await? {
        return Err(ApiError::new(
            ErrorCode::UserIdNotFound,
            "user not registered",
        ));
    }
    let token = state.issue_token(user_id, platform_id).await?;
    Ok(TokenResp {
        token,
        expire_time_seconds: TOKEN_TTL_SECS,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ParseTokenReq {
    token: String,
}

#[derive(Debug, Serialize)]
struct ParseTokenResp {
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "platformID")]
    platform_id: i32,
    #[serde(rename = "expireTimeSeconds")]
    expire_time_seconds: i64,
}

async fn parse_token(
    state: AppState,
    _op: String,
    req: ParseTokenReq,
) -> ApiResult<ParseTokenResp> {
    let claims = state.check_token(&req.token).await?;
    Ok(ParseTokenResp {
        user_id: claims.user_id,
        platform_id: claims.platform_id,
        expire_time_seconds: claims.exp,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ForceLogoutReq {
    #[serde(rename = "platformID")]
    platform_id: i32,
    #[serde(rename = "userID")]
    user_id: String,
}

async fn force_logout(state: AppState, op: Op, req: ForceLogoutReq) -> ApiResult<()> {
    op.check_admin()?;
    state.kick_platform(&req.user_id, req.platform_id).await
}
