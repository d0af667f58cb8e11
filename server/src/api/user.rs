//! `/user/*`: registration, profiles and their tips, presence (spec §5.3).
//!
//! Profile reads apply the lookMemberInfo privacy rule of [`relation::member_info_hidden`].
//! Presence comes from the live connections of the hub; nothing here stores presence.

use axum::Router;
use chorus_proto::constants::{ContentType, ErrorCode};
use chorus_proto::pb::sdkws::{
    GroupMemberInfoSetTips, RequestPagination, UserInfo, UserInfoUpdatedTips, UserInfoWithEx,
};
use serde::{Deserialize, Serialize};

use super::{authed, Op};
use crate::error::{ApiError, ApiResult};
use crate::group::db as group_db;
use crate::relation::{
    self,
    version::{self, Change},
};
use crate::{now_ms, AppState};

pub(super) fn routes() -> Router<AppState> {
    routes_profiles(Router::new().route("/user/user_register", authed(user_register)))
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
                if relation::user(&tx, &u.user_id)?.is_some() {
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

// ---------------------------------------------------------------------------------------------
// Profiles, lookups, status.

fn routes_profiles(r: Router<AppState>) -> Router<AppState> {
    r.route("/user/get_users_info", authed(get_users_info))
        .route("/user/update_user_info_ex", authed(update_user_info_ex))
        .route("/user/update_user_info", authed(update_user_info))
        .route(
            "/user/set_global_msg_recv_opt",
            authed(set_global_msg_recv_opt),
        )
        .route("/user/get_all_users_uid", authed(get_all_users_uid))
        .route("/user/get_users", authed(get_users))
        .route("/user/account_check", authed(account_check))
        .route(
            "/user/get_users_online_status",
            authed(get_users_online_status),
        )
        .route("/user/get_users_status", authed(get_users_status))
        .route(
            "/user/subscribe_users_status",
            authed(subscribe_users_status),
        )
        .route(
            "/user/get_subscribe_users_status",
            authed(get_subscribe_users_status),
        )
        .route(
            "/user/process_user_command_add",
            authed(user_command_change),
        )
        .route(
            "/user/process_user_command_update",
            authed(user_command_change),
        )
        .route(
            "/user/process_user_command_delete",
            authed(user_command_change),
        )
        .route("/user/process_user_command_get", authed(user_command_get))
        .route(
            "/user/process_user_command_get_all",
            authed(user_command_get),
        )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserIdsReq {
    #[serde(
        rename = "userIDs",
        deserialize_with = "chorus_proto::json::seq_null_as_default"
    )]
    user_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
struct UsersInfoResp {
    #[serde(rename = "usersInfo")]
    users_info: Vec<UserInfo>,
}

/// Profiles of the listed users. Users the caller may only know through a group that hides
/// member info come back with userID, nickname and faceURL only (see
/// [`relation::member_info_hidden`] for the exact rule).
async fn get_users_info(state: AppState, op: Op, req: UserIdsReq) -> ApiResult<UsersInfoResp> {
    let users_info = state
        .store
        .call(move |c| {
            let users = relation::users(c, &req.user_ids)?
                .into_iter()
                .map(|u| relation::user_as_seen_by(c, &op.user_id, op.is_admin, u))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(users)
        })
        .await?;
    Ok(UsersInfoResp { users_info })
}

/// A profile change; `None` = unchanged.
#[derive(Debug, Default)]
struct ProfileChange {
    nickname: Option<String>,
    face_url: Option<String>,
    ex: Option<String>,
    global_recv_msg_opt: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UpdateUserInfoExReq {
    #[serde(rename = "userInfo")]
    user_info: Option<UserInfoWithEx>,
}

async fn update_user_info_ex(state: AppState, op: Op, req: UpdateUserInfoExReq) -> ApiResult<()> {
    let u = req
        .user_info
        .ok_or_else(|| ApiError::args("userInfo is required"))?;
    let change = ProfileChange {
        nickname: u.nickname.map(|v| v.value),
        face_url: u.face_url.map(|v| v.value),
        ex: u.ex.map(|v| v.value),
        global_recv_msg_opt: u.global_recv_msg_opt.map(|v| v.value),
    };
    update_profile(&state, &op, u.user_id, change).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UpdateUserInfoReq {
    #[serde(
        rename = "userInfo",
        deserialize_with = "chorus_proto::json::null_as_default"
    )]
    user_info: UserInfo,
}

/// The deprecated form: empty strings and zero numbers mean "unchanged".
async fn update_user_info(state: AppState, op: Op, req: UpdateUserInfoReq) -> ApiResult<()> {
    let u = req.user_info;
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    let change = ProfileChange {
        nickname: non_empty(u.nickname),
        face_url: non_empty(u.face_url),
        ex: non_empty(u.ex),
        global_recv_msg_opt: (u.global_recv_msg_opt != 0).then_some(u.global_recv_msg_opt),
    };
    update_profile(&state, &op, u.user_id, change).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SetGlobalRecvOptReq {
    #[serde(
        rename = "userID",
        deserialize_with = "chorus_proto::json::null_as_default"
    )]
    user_id: String,
    #[serde(
        rename = "globalRecvMsgOpt",
        deserialize_with = "chorus_proto::json::null_as_default"
    )]
    global_recv_msg_opt: i32,
}

async fn set_global_msg_recv_opt(
    state: AppState,
    op: Op,
    req: SetGlobalRecvOptReq,
) -> ApiResult<()> {
    let change = ProfileChange {
        global_recv_msg_opt: Some(req.global_recv_msg_opt),
        ..ProfileChange::default()
    };
    update_profile(&state, &op, req.user_id, change).await
}

/// Applies a profile change and sends its tips (spec §5.3, §7 feature 4): 1303 to the user's own
/// devices; for every user who has them as a friend, a friend-version bump and 1209; and when the
/// nickname or face changed, for every group where the member row follows the profile, a
/// group-member version bump and 1516 `GroupMemberInfoSetTips` to all members, whose
/// `changedUser` carries the new nickname/faceURL.
async fn update_profile(
    state: &AppState,
    op: &Op,
    user_id: String,
    change: ProfileChange,
) -> ApiResult<()> {
    if user_id.is_empty() {
        return Err(ApiError::args("userID is required"));
    }
    op.check_access(&user_id)?;
    if let Some(opt) = change.global_recv_msg_opt {
        if !(0..=2).contains(&opt) {
            return Err(ApiError::args(format!("invalid globalRecvMsgOpt {opt}")));
        }
    }
    let now = now_ms();
    relation::commit_and_deliver(state, move |c| {
        let tx = c.transaction()?;
        let Some(mut u) = relation::user(&tx, &user_id)? else {
            return Ok(Err(ApiError::new(
                ErrorCode::UserIdNotFound,
                format!("user {user_id} not found"),
            )));
        };
        let profile_shown = change.nickname.is_some() || change.face_url.is_some();
        if let Some(v) = change.nickname {
            u.nickname = v;
        }
        if let Some(v) = change.face_url {
            u.face_url = v;
        }
        if let Some(v) = change.ex {
            u.ex = v;
        }
        if let Some(v) = change.global_recv_msg_opt {
            u.global_recv_msg_opt = v;
        }
        tx.execute(
            "UPDATE users SET nickname = ?2, face_url = ?3, ex = ?4, global_recv_msg_opt = ?5
             WHERE user_id = ?1",
            rusqlite::params![u.user_id, u.nickname, u.face_url, u.ex, u.global_recv_msg_opt],
        )?;
        let tips = UserInfoUpdatedTips {
            user_id: u.user_id.clone(),
        };
        let mut notes = vec![relation::single_tip(
            ContentType::UserInfoUpdatedNotification.as_i32(),
            &u.user_id,
            &u.user_id,
            &tips,
            false,
        )];
        // Everyone who lists this user as a friend sees a changed friendUser.
        let owners: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT owner_user_id FROM friends WHERE friend_user_id = ?1 ORDER BY owner_user_id",
            )?;
            let rows = stmt.query_map([&u.user_id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for owner in &owners {
            version::bump(&tx, version::FRIEND, owner, &[(&u.user_id, Change::Update)])?;
            notes.push(relation::single_tip(
                ContentType::FriendInfoUpdatedNotification.as_i32(),
                &u.user_id,
                owner,
                &tips,
                false,
            ));
        }
        if profile_shown {
            for gid in relation::groups_following_profile(&tx, &u.user_id)? {
                let log =
                    version::bump(&tx, version::GROUP_MEMBER, &gid, &[(&u.user_id, Change::Update)])?;
                let group = group_db::group(&tx, &gid)?.map(|g| g.info);
                let member = group_db::member(&tx, &gid, &u.user_id)?;
                let tips = GroupMemberInfoSetTips {
                    group,
                    op_user: member.clone(),
                    operation_time: now,
                    changed_user: member,
                    group_member_version: log.version,
                    group_member_version_id: log.version_id,
                    group_sort_version: 0,
                };
                let mut n = relation::group_tip(
                    ContentType::GroupMemberInfoSetNotification.as_i32(),
                    &u.user_id,
                    &gid,
                    &tips,
                    false,
                );
                n.sender_nickname.clone_from(&u.nickname);
                n.sender_face_url.clone_from(&u.face_url);
                notes.push(n);
            }
        }
        tx.commit()?;
        Ok(Ok(notes))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PaginationReq {
    #[serde(deserialize_with = "chorus_proto::json::null_as_default")]
    pagination: RequestPagination,
}

#[derive(Debug, Serialize)]
struct AllUserIdsResp {
    total: i32,
    #[serde(rename = "userIDs")]
    user_ids: Vec<String>,
}

/// Admin only: every registered userID, paged.
async fn get_all_users_uid(
    state: AppState,
    op: Op,
    req: PaginationReq,
) -> ApiResult<AllUserIdsResp> {
    op.check_admin()?;
    let p = req.pagination;
    state
        .store
        .call(move |c| {
            let (user_ids, total) =
                relation::user_id_page(c, ("", ""), p.page_number, p.show_number)?;
            Ok(AllUserIdsResp { total, user_ids })
        })
        .await
        .map_err(Into::into)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GetUsersReq {
    #[serde(deserialize_with = "chorus_proto::json::null_as_default")]
    pagination: RequestPagination,
    #[serde(
        rename = "userID",
        deserialize_with = "chorus_proto::json::null_as_default"
    )]
    user_id: String,
    #[serde(
        rename = "nickName",
        deserialize_with = "chorus_proto::json::null_as_default"
    )]
    nickname: String,
}

#[derive(Debug, Serialize)]
struct GetUsersResp {
    total: i32,
    users: Vec<UserInfo>,
}

/// Admin only: users paged, optionally filtered by userID and nickname substring.
async fn get_users(state: AppState, op: Op, req: GetUsersReq) -> ApiResult<GetUsersResp> {
    op.check_admin()?;
    let p = req.pagination;
    state
        .store
        .call(move |c| {
            let (ids, total) = relation::user_id_page(
                c,
                (&req.user_id, &req.nickname),
                p.page_number,
                p.show_number,
            )?;
            Ok(GetUsersResp {
                total,
                users: relation::users(c, &ids)?,
            })
        })
        .await
        .map_err(Into::into)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountCheckReq {
    #[serde(
        rename = "checkUserIDs",
        deserialize_with = "chorus_proto::json::seq_null_as_default"
    )]
    check_user_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
struct AccountStatus {
    #[serde(rename = "userID")]
    user_id: String,
    /// 1 registered, 0 not.
    #[serde(rename = "accountStatus")]
    account_status: i32,
}

#[derive(Debug, Serialize)]
struct AccountCheckResp {
    results: Vec<AccountStatus>,
}

/// Admin only: which of the listed userIDs are registered.
async fn account_check(
    state: AppState,
    op: Op,
    req: AccountCheckReq,
) -> ApiResult<AccountCheckResp> {
    op.check_admin()?;
    let mut results = Vec::with_capacity(req.check_user_ids.len());
    for id in req.check_user_ids {
        let registered = state.user_exists(&id).await?;
        results.push(AccountStatus {
            user_id: id,
            account_status: i32::from(registered),
        });
    }
    Ok(AccountCheckResp { results })
}

#[derive(Debug, Serialize)]
struct PlatformStatus {
    platform: String,
    #[serde(rename = "platformID")]
    platform_id: i32,
    status: String,
    #[serde(rename = "connID")]
    conn_id: String,
    #[serde(rename = "isBackground")]
    is_background: bool,
}

#[derive(Debug, Serialize)]
struct OnlineResult {
    #[serde(rename = "userID")]
    user_id: String,
    /// 1 online, 0 offline.
    status: i32,
    #[serde(rename = "detailPlatformStatus")]
    detail_platform_status: Vec<PlatformStatus>,
}

/// Live connection state from the hub: `data` is the list of per-user results.
async fn get_users_online_status(
    state: AppState,
    _op: Op,
    req: UserIdsReq,
) -> ApiResult<Vec<OnlineResult>> {
    Ok(req
        .user_ids
        .into_iter()
        .map(|user_id| {
            let detail: Vec<PlatformStatus> = state
                .hub
                .connections(&user_id)
                .iter()
                .map(|c| PlatformStatus {
                    platform: platform_name(c.platform_id).to_owned(),
                    platform_id: c.platform_id,
                    status: "online".to_owned(),
                    conn_id: c.id.to_string(),
                    is_background: false,
                })
                .collect();
            OnlineResult {
                user_id,
                status: i32::from(!detail.is_empty()),
                detail_platform_status: detail,
            }
        })
        .collect())
}

fn platform_name(id: i32) -> &'static str {
    match id {
        1 => "IOS",
        2 => "Android",
        3 => "Windows",
        4 => "OSX",
        5 => "Web",
        6 => "MiniWeb",
        7 => "Linux",
        8 => "APad",
        9 => "IPad",
        10 => "Admin",
        11 => "HarmonyOS",
        _ => "",
    }
}

#[derive(Debug, Serialize)]
struct OnlineStatus {
    #[serde(rename = "userID")]
    user_id: String,
    /// 1 online, 0 offline.
    status: i32,
    #[serde(rename = "platformIDs")]
    platform_ids: Vec<i32>,
}

#[derive(Debug, Serialize)]
struct StatusListResp {
    #[serde(rename = "statusList")]
    status_list: Vec<OnlineStatus>,
}

fn status_list(state: &AppState, ids: Vec<String>) -> StatusListResp {
    StatusListResp {
        status_list: ids
            .into_iter()
            .map(|user_id| {
                let platform_ids = state.hub.online_platforms(&user_id);
                OnlineStatus {
                    status: i32::from(!platform_ids.is_empty()),
                    user_id,
                    platform_ids,
                }
            })
            .collect(),
    }
}

async fn get_users_status(state: AppState, _op: Op, req: UserIdsReq) -> ApiResult<StatusListResp> {
    Ok(status_list(&state, req.user_ids))
}

/// Presence subscriptions are not kept: the answer is the current status of the listed users,
/// and no 2005 status pushes follow.
async fn subscribe_users_status(
    state: AppState,
    _op: Op,
    req: UserIdsReq,
) -> ApiResult<StatusListResp> {
    Ok(status_list(&state, req.user_ids))
}

async fn get_subscribe_users_status(
    _state: AppState,
    _op: Op,
    _req: serde::de::IgnoredAny,
) -> ApiResult<StatusListResp> {
    Ok(StatusListResp {
        status_list: Vec::new(),
    })
}

/// User commands (favourites and the like) are not stored: changes are accepted and dropped.
async fn user_command_change(
    _state: AppState,
    _op: Op,
    _req: serde::de::IgnoredAny,
) -> ApiResult<()> {
    Ok(())
}

#[derive(Debug, Serialize)]
struct CommandResp {
    #[serde(rename = "CommandResp")]
    command_resp: Vec<serde_json::Value>,
}

/// No commands are stored, so every list is empty.
async fn user_command_get(
    _state: AppState,
    _op: Op,
    _req: serde::de::IgnoredAny,
) -> ApiResult<CommandResp> {
    Ok(CommandResp {
        command_resp: Vec::new(),
    })
}
