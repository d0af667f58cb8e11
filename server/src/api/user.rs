//! `/user/*`: registration and profiles (spec §5.3).

use axum::Router;
use chorus_proto::constants::ErrorCode;
use chorus_proto::pb::sdkws::UserInfo;
use serde::Deserialize;

use super::{authed, Op};
use crate::error::{ApiError, ApiResult};
use crate::{now_ms, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/user/user_register", authed(user_register))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserRegisterReq {
    #[serde(deserialize_with = "chorus_proto::json::seq_null_as_default")]
    users: Vec<UserInfo>,
}

async fn user_register(state: AppState, op: Op, req: UserRegisterReq) -> ApiResult<()> {
    op.check_admin()?;
    if req.users.is_empty() {
        return Err(ApiError::args("users is empty"));
    }
    for u in &req.users {
        if u.user_id.is_empty() || u.user_id.contains(':') {
            return Err(ApiError::args(format!("invalid userID {:?}", u.user_id)));
        }
    }
    let now = now_ms();
    state
        .store
        .call(move |c| {
            let tx = c.transaction()?;
            for u in &req.users {
                let exists: i64 = tx.query_row(
                    "SELECT count(*) FROM users WHERE user_id = ?1",
                    [&u.user_id],
                    |r| r.get(0),
                )?;
                if exists > 0 {
                    return Ok(Err(ApiError::new(
                        ErrorCode::RegisteredAlready,
                        format!("{} is registered already", u.user_id),
                    )));
                }
                tx.execute(
                    "INSERT INTO users (user_id, nickname, face_url, ex, create_time, app_manger_level, global_recv_msg_opt)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    rusqlite::params![u.user_id, u.nickname, u.face_url, u.ex, now, u.app_manger_level, u.global_recv_msg_opt],
                )?;
            }
            tx.commit()?;
            Ok(Ok(()))
        })
        .await?
}
