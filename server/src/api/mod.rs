//! The REST API: OpenIM's `POST /<area>/<call>` routes with the `{errCode, errMsg, errDlt, data}`
//! envelope, always HTTP 200 (spec §5.1).
//!
//! Every route goes through [`authed`] or [`public`]: they require the `operationID` header, parse
//! the JSON body (a parse failure is error 1001, never an HTTP error), check the `token` header
//! against the token table, and write the envelope. Handlers only see typed requests.

mod auth;
mod conversation;
pub mod demo;
mod friend;
mod group;
mod msg;
mod user;

use std::future::Future;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub user_id: String,
    pub platform_id: i32,
    pub operation_id: String,
    /// An app administrator (`--admin`), who may act for any user.
    pub is_admin: bool,
}

impl Op {
    /// OpenIM's `CheckAccessV3`: the named user must be the caller unless the caller is an admin.
    pub fn check_access(&self, user_id: &str) -> ApiResult<()> {
        if self.is_admin || self.user_id == user_id {
            Ok(())
        } else {
            Err(ApiError::no_permission(format!(
                "{} may not act for {user_id}",
                self.user_id
            )))
        }
    }

    /// The user a request names, or the caller when it names none; either must pass
    /// [`Op::check_access`].
    pub fn named_or_self(&self, user_id: &str) -> ApiResult<String> {
        let user = if user_id.is_empty() {
            self.user_id.clone()
        } else {
            user_id.to_owned()
        };
        self.check_access(&user)?;
        Ok(user)
    }

    /// Only app administrators.
    pub fn check_admin(&self) -> ApiResult<()> {
        if self.is_admin {
            Ok(())
        } else {
            Err(ApiError::no_permission("app administrator only"))
        }
    }
}

/// A 1-based page of `items`; `showNumber <= 0` means everything.
pub fn page<T>(items: Vec<T>, p: &chorus_proto::pb::sdkws::RequestPagination) -> Vec<T> {
    if p.show_number <= 0 {
        return items;
    }
    let show = p.show_number as usize;
    let skip = (p.page_number.max(1) as usize - 1).saturating_mul(show);
    items.into_iter().skip(skip).take(show).collect()
}

/// All REST routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(user::routes())
        .merge(friend::routes())
        .merge(group::routes())
        .merge(msg::routes())
        .merge(conversation::routes())
}

/// Writes the REST envelope. `data` is omitted on errors and when the handler returns nothing.
pub fn envelope<T: Serialize>(result: ApiResult<T>) -> Response {
    let body = match result.and_then(|v| serde_json::to_value(v).map_err(ApiError::internal)) {
        Ok(serde_json::Value::Null) => {
            serde_json::json!({"errCode": 0, "errMsg": "", "errDlt": ""})
        }
        Ok(data) => serde_json::json!({"errCode": 0, "errMsg": "", "errDlt": "", "data": data}),
        Err(e) => serde_json::json!({"errCode": e.code, "errMsg": e.msg, "errDlt": e.dlt}),
    };
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

fn parse_body<Req: DeserializeOwned>(body: &Bytes) -> ApiResult<Req> {
    // An empty body reads as `{}`, as Go's binder treats it.
    let bytes: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(bytes).map_err(|e| ApiError::args(format!("invalid request body: {e}")))
}

fn operation_id(headers: &HeaderMap) -> ApiResult<String> {
    header(headers, "operationID")
        .map(str::to_owned)
        .ok_or_else(|| ApiError::args("header must have operationID"))
}

/// Who is calling: resolved from the request headers before the body is parsed.
pub trait Caller: Sized + Send + 'static {
    fn identify(
        state: &AppState,
        headers: &HeaderMap,
        operation_id: String,
    ) -> impl Future<Output = ApiResult<Self>> + Send;
}

/// Token routes: the `token` header must hold a valid user or admin token.
impl Caller for Op {
    async fn identify(
        state: &AppState,
        headers: &HeaderMap,
        operation_id: String,
    ) -> ApiResult<Op> {
        let token = header(headers, "token").ok_or_else(|| {
            ApiError::new(
                chorus_proto::constants::ErrorCode::TokenNotExist,
                "header must have token",
            )
        })?;
        let claims = state.check_token(token).await?;
        Ok(Op {
            is_admin: state.is_admin(&claims.user_id),
            user_id: claims.user_id,
            platform_id: claims.platform_id,
            operation_id,
        })
    }
}

/// Public routes: only the operation id is known.
impl Caller for String {
    async fn identify(_: &AppState, _: &HeaderMap, operation_id: String) -> ApiResult<String> {
        Ok(operation_id)
    }
}

fn route<C, Req, Resp, F, Fut>(handler: F) -> MethodRouter<AppState>
where
    C: Caller,
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(AppState, C, Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ApiResult<Resp>> + Send + 'static,
{
    post(
        move |State(state): State<AppState>, headers: HeaderMap, body: Bytes| {
            let handler = handler.clone();
            async move {
                let result = async {
                    let caller = C::identify(&state, &headers, operation_id(&headers)?).await?;
                    let req = parse_body::<Req>(&body)?;
                    handler(state, caller, req).await
                }
                .await;
                envelope(result)
            }
        },
    )
}

/// A route that needs a valid user or admin token in the `token` header.
pub fn authed<Req, Resp, F, Fut>(handler: F) -> MethodRouter<AppState>
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(AppState, Op, Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ApiResult<Resp>> + Send + 'static,
{
    route(handler)
}

/// A route that needs no token (`/auth/get_admin_token`, `/auth/parse_token`); the handler gets
/// the operation id.
pub fn public<Req, Resp, F, Fut>(handler: F) -> MethodRouter<AppState>
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(AppState, String, Req) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ApiResult<Resp>> + Send + 'static,
{
    route(handler)
}
