//! `/demo/*`: routes that exist only when the server runs with `--seed-demo`.
//!
//! `POST /demo/token {"userID", "platformID"}` hands out a user token for a seeded account
//! without any credential, so that the web demo can sign in with one click; `POST /demo/users`
//! lists the seeded accounts with their current nicknames. Both answer in the usual envelope and
//! need only the `operationID` header. Any other user ID is refused with 1002: these routes never
//! issue tokens for accounts created by anyone else, and they are never registered otherwise.

use axum::Router;
use serde::{Deserialize, Serialize};

use super::public;
use crate::error::{ApiError, ApiResult};
use crate::seed;
use crate::{relation, AppState};

/// The demo routes; `lib.rs` merges them only when `config.seed_demo` is set.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/demo/token", public(demo_token))
        .route("/demo/users", public(demo_users))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenReq {
    #[serde(
        rename = "userID",
        deserialize_with = "chorus_proto::json::null_as_default"
    )]
    user_id: String,
    #[serde(
        rename = "platformID",
        deserialize_with = "chorus_proto::json::null_as_default"
    )]
    platform_id: i32,
}

async fn demo_token(
    state: AppState,
    _op: String,
    req: TokenReq,
) -> ApiResult<super::auth::TokenResp> {
    if !seed::is_demo_user(&req.user_id) {
        return Err(ApiError::no_permission(format!(
            "{:?} is not a seeded demo user",
            req.user_id
        )));
    }
    let resp = super::auth::user_token(&state, &req.user_id, req.platform_id).await?;
    tracing::info!(user = %req.user_id, platform = req.platform_id, "demo token issued");
    Ok(resp)
}

#[derive(Debug, Default, Deserialize)]
struct UsersReq {}

#[derive(Debug, Serialize)]
struct DemoUserResp {
    #[serde(rename = "userID")]
    user_id: String,
    nickname: String,
    #[serde(rename = "faceURL")]
    face_url: String,
    about: String,
}

#[derive(Debug, Serialize)]
struct UsersResp {
    users: Vec<DemoUserResp>,
}

/// The seeded accounts in sign-in order, with their profile as it is now (users may have
/// renamed themselves since).
async fn demo_users(state: AppState, _op: String, _req: UsersReq) -> ApiResult<UsersResp> {
    let ids: Vec<String> = seed::USERS.iter().map(|u| u.user_id.to_owned()).collect();
    let profiles = state
        .store
        .call(move |c| Ok(relation::users(c, &ids)?))
        .await?;
    let users = seed::USERS
        .iter()
        .filter_map(|u| {
            let p = profiles.iter().find(|p| p.user_id == u.user_id)?;
            Some(DemoUserResp {
                user_id: p.user_id.clone(),
                nickname: p.nickname.clone(),
                face_url: p.face_url.clone(),
                about: u.about.to_owned(),
            })
        })
        .collect();
    Ok(UsersResp { users })
}
