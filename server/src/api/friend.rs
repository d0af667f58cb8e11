//! `/friend/*`: friend requests and responses, the friend list with remarks and pins, black
//! lists, and their incremental version sync (spec §5.5, §5.8, §7 feature 5).
//!
//! Every change to a user's friend list bumps that user's `friend` version log in the same
//! transaction, and the tips carrying `friendVersion`/`friendVersionID` quote the bumped log, so
//! a client whose local version is one behind applies the tip as a delta. Tips go out only after
//! commit (see [`relation::deliver`]).

use axum::Router;
use chorus_proto::constants::{ContentType, ErrorCode};
use chorus_proto::pb::protobuf::{BoolValue, StringValue};
use chorus_proto::pb::sdkws::{
    BlackAddedTips, BlackDeletedTips, BlackInfo, FriendAddedTips, FriendApplicationApprovedTips,
    FriendApplicationRejectedTips, FriendApplicationTips, FriendDeletedTips, FriendInfo,
    FriendInfoChangedTips, FriendRequest, FriendsInfoUpdateTips, FromToUserId, RequestPagination,
    UserInfo,
};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::{authed, Op};
use crate::error::{ApiError, ApiResult};
use crate::msg::Notification;
use crate::relation::version::{self, Change, Delta, Incremental, VersionLog};
use crate::relation::{self, single_tip};
use crate::{now_ms, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/friend/add_friend", authed(add_friend))
        .route("/friend/add_friend_response", authed(add_friend_response))
        .route("/friend/delete_friend", authed(delete_friend))
        .route("/friend/get_friend_list", authed(get_friend_list))
        .route(
            "/friend/get_designated_friends",
            authed(get_designated_friends),
        )
        .route(
            "/friend/get_specified_friends_info",
            authed(get_specified_friends_info),
        )
        .route("/friend/is_friend", authed(is_friend))
        .route("/friend/get_friend_id", authed(get_friend_id))
        .route(
            "/friend/get_friend_apply_list",
            authed(get_friend_apply_list),
        )
        .route(
            "/friend/get_self_friend_apply_list",
            authed(get_self_friend_apply_list),
        )
        .route(
            "/friend/get_self_unhandled_apply_count",
            authed(get_self_unhandled_apply_count),
        )
        .route(
            "/friend/get_designated_friend_apply",
            authed(get_designated_friend_apply),
        )
        .route("/friend/import_friend", authed(import_friend))
        .route("/friend/update_friends", authed(update_friends))
        .route("/friend/set_friend_remark", authed(set_friend_remark))
        .route("/friend/add_black", authed(add_black))
        .route("/friend/remove_black", authed(remove_black))
        .route("/friend/get_black_list", authed(get_black_list))
        .route("/friend/get_specified_blacks", authed(get_specified_blacks))
        .route(
            "/friend/get_incremental_friends",
            authed(get_incremental_friends),
        )
        .route(
            "/friend/get_full_friend_user_ids",
            authed(get_full_friend_user_ids),
        )
        .route(
            "/friend/get_incremental_blacks",
            authed(get_incremental_blacks),
        )
}

/// Request bodies: every key optional, `null` read as absent (the official SDK sends nulls).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Body {
    #[serde(rename = "fromUserID", deserialize_with = "nd")]
    from_user_id: String,
    #[serde(rename = "toUserID", deserialize_with = "nd")]
    to_user_id: String,
    #[serde(rename = "ownerUserID", deserialize_with = "nd")]
    owner_user_id: String,
    #[serde(rename = "friendUserID", deserialize_with = "nd")]
    friend_user_id: String,
    #[serde(rename = "blackUserID", deserialize_with = "nd")]
    black_user_id: String,
    #[serde(rename = "userID", deserialize_with = "nd")]
    user_id: String,
    #[serde(rename = "userID1", deserialize_with = "nd")]
    user_id1: String,
    #[serde(rename = "userID2", deserialize_with = "nd")]
    user_id2: String,
    #[serde(rename = "reqMsg", deserialize_with = "nd")]
    req_msg: String,
    #[serde(rename = "handleMsg", deserialize_with = "nd")]
    handle_msg: String,
    #[serde(rename = "handleResult", deserialize_with = "nd")]
    handle_result: i32,
    #[serde(rename = "remark", deserialize_with = "nd")]
    remark: String,
    #[serde(rename = "ex", deserialize_with = "nd")]
    ex: String,
    #[serde(rename = "friendUserIDs", deserialize_with = "seq")]
    friend_user_ids: Vec<String>,
    #[serde(rename = "userIDList", deserialize_with = "seq")]
    user_id_list: Vec<String>,
    #[serde(rename = "handleResults", deserialize_with = "seq")]
    handle_results: Vec<i32>,
    #[serde(deserialize_with = "nd")]
    pagination: RequestPagination,
    #[serde(rename = "versionID", deserialize_with = "nd")]
    version_id: String,
    #[serde(deserialize_with = "nd")]
    version: u64,
    #[serde(rename = "idHash", deserialize_with = "nd")]
    id_hash: u64,
}

fn nd<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    chorus_proto::json::null_as_default(d)
}

fn seq<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    chorus_proto::json::seq_null_as_default(d)
}

fn from_to(from: &str, to: &str) -> Option<FromToUserId> {
    Some(FromToUserId {
        from_user_id: from.to_owned(),
        to_user_id: to.to_owned(),
    })
}

fn require(value: &str, name: &str) -> ApiResult<()> {
    if value.is_empty() {
        Err(ApiError::args(format!("{name} is required")))
    } else {
        Ok(())
    }
}

type Tx<T> = Result<ApiResult<T>, crate::store::StoreError>;

fn user_or_err(c: &Connection, id: &str) -> rusqlite::Result<Result<UserInfo, ApiError>> {
    Ok(relation::user(c, id)?
        .ok_or_else(|| ApiError::new(ErrorCode::UserIdNotFound, format!("user {id} not found"))))
}

// ---------------------------------------------------------------------------------------------
// Requests and responses.

/// `fromUserID` (self) asks `toUserID` to be friends. Refusals: 1301 self, 1304 already friends
/// both ways, 1302 the target blacklisted the requester, 1002 applyMemberFriend (see
/// [`relation::add_friend_forbidden`]; app administrators are exempt). Emits 1203 to the target.
async fn add_friend(state: AppState, op: Op, req: Body) -> ApiResult<()> {
    require(&req.from_user_id, "fromUserID")?;
    require(&req.to_user_id, "toUserID")?;
    op.check_access(&req.from_user_id)?;
    if req.from_user_id == req.to_user_id {
        return Err(ApiError::new(
            ErrorCode::CanNotAddYourself,
            "cannot add yourself",
        ));
    }
    let now = now_ms();
    let is_admin = op.is_admin;
    relation::commit_and_deliver(&state, move |c| -> Tx<[Notification; 1]> {
        let tx = c.transaction()?;
        let (from, to) = (req.from_user_id.as_str(), req.to_user_id.as_str());
        for id in [from, to] {
            if let Err(e) = user_or_err(&tx, id)? {
                return Ok(Err(e));
            }
        }
        if relation::is_friend(&tx, from, to)? && relation::is_friend(&tx, to, from)? {
            return Ok(Err(ApiError::new(
                ErrorCode::RelationshipAlready,
                "already friends",
            )));
        }
        if relation::is_black(&tx, to, from)? {
            return Ok(Err(ApiError::new(
                ErrorCode::BlockedByPeer,
                "blocked by peer",
            )));
        }
        if !is_admin && relation::add_friend_forbidden(&tx, from, to)? {
            return Ok(Err(ApiError::no_permission(
                "the groups you share with this user do not allow adding members as friends",
            )));
        }
        tx.execute(
            "INSERT INTO friend_requests (from_user_id, to_user_id, handle_result, req_msg,
               create_time, handler_user_id, handle_msg, handle_time, ex)
             VALUES (?1, ?2, 0, ?3, ?4, '', '', 0, ?5)
             ON CONFLICT (from_user_id, to_user_id) DO UPDATE SET handle_result = 0,
               req_msg = excluded.req_msg, create_time = excluded.create_time,
               handler_user_id = '', handle_msg = '', handle_time = 0, ex = excluded.ex",
            params![from, to, req.req_msg, now, req.ex],
        )?;
        let request = relation::friend_request(&tx, from, to)?;
        tx.commit()?;
        let tips = FriendApplicationTips {
            from_to_user_id: from_to(from, to),
            request,
        };
        Ok(Ok([single_tip(
            ContentType::FriendApplicationNotification.as_i32(),
            from,
            to,
            &tips,
            false,
        )]))
    })
    .await
}

/// Inserts `owner → friend` if missing and bumps `owner`'s friend version; returns the friend
/// row and the log (None when the row already existed).
fn insert_friend(
    c: &Connection,
    owner: &str,
    friend: &str,
    add_source: i32,
    operator: &str,
    now: i64,
) -> rusqlite::Result<Option<(FriendInfo, VersionLog)>> {
    let added = c.execute(
        "INSERT OR IGNORE INTO friends (owner_user_id, friend_user_id, remark, create_time,
           add_source, operator_user_id, ex, is_pinned) VALUES (?1, ?2, '', ?3, ?4, ?5, '', 0)",
        params![owner, friend, now, add_source, operator],
    )?;
    if added == 0 {
        return Ok(None);
    }
    let log = version::bump(c, version::FRIEND, owner, &[(friend, Change::Insert)])?;
    let info = relation::friends_of(c, owner, &[friend.to_owned()])?
        .into_iter()
        .next()
        .unwrap_or_default();
    Ok(Some((info, log)))
}

/// `toUserID` (self) answers `fromUserID`'s request: 1 makes them friends both ways (1201 to
/// the applicant, stored as a chat tip, and 1204 for the new rows); −1 refuses (1202). A request
/// already answered is 1305.
async fn add_friend_response(state: AppState, op: Op, req: Body) -> ApiResult<()> {
    require(&req.from_user_id, "fromUserID")?;
    require(&req.to_user_id, "toUserID")?;
    op.check_access(&req.to_user_id)?;
    if req.handle_result != 1 && req.handle_result != -1 {
        return Err(ApiError::args("handleResult must be 1 or -1"));
    }
    let now = now_ms();
    let operator = op.user_id.clone();
    relation::commit_and_deliver(&state, move |c| -> Tx<Vec<Notification>> {
        let tx = c.transaction()?;
        let (from, to) = (req.from_user_id.as_str(), req.to_user_id.as_str());
        let Some(existing) = relation::friend_request(&tx, from, to)? else {
            return Ok(Err(ApiError::not_found("no such friend request")));
        };
        if existing.handle_result != 0 {
            return Ok(Err(ApiError::new(
                ErrorCode::FriendRequestHandled,
                "friend request already handled",
            )));
        }
        tx.execute(
            "UPDATE friend_requests SET handle_result = ?3, handler_user_id = ?4,
               handle_msg = ?5, handle_time = ?6 WHERE from_user_id = ?1 AND to_user_id = ?2",
            params![from, to, req.handle_result, operator, req.handle_msg, now],
        )?;
        let request = relation::friend_request(&tx, from, to)?;
        let mut notes = Vec::new();
        if req.handle_result == 1 {
            // add_source 3: added through a request.
            let to_side = insert_friend(&tx, to, from, 3, &operator, now)?;
            let from_side = insert_friend(&tx, from, to, 3, &operator, now)?;
            let from_log = match &from_side {
                Some((_, log)) => log.clone(),
                None => version::current(&tx, version::FRIEND, from)?,
            };
            let tips = FriendApplicationApprovedTips {
                from_to_user_id: from_to(from, to),
                handle_msg: req.handle_msg.clone(),
                friend_version: from_log.version,
                friend_version_id: from_log.version_id,
                request: request.clone(),
            };
            notes.push(single_tip(
                ContentType::FriendApplicationApprovedNotification.as_i32(),
                to,
                from,
                &tips,
                true,
            ));
            let op_user = relation::user(&tx, to)?.map(|u| relation::public_user(&u));
            for (owner, other, side) in [(from, to, from_side), (to, from, to_side)] {
                if let Some((friend, log)) = side {
                    let tips = FriendAddedTips {
                        friend: Some(friend),
                        operation_time: now,
                        op_user: op_user.clone(),
                        friend_version: log.version,
                        friend_version_id: log.version_id,
                    };
                    notes.push(single_tip(
                        ContentType::FriendAddedNotification.as_i32(),
                        other,
                        owner,
                        &tips,
                        false,
                    ));
                }
            }
        } else {
            let tips = FriendApplicationRejectedTips {
                from_to_user_id: from_to(from, to),
                handle_msg: req.handle_msg.clone(),
                request,
            };
            notes.push(single_tip(
                ContentType::FriendApplicationRejectedNotification.as_i32(),
                to,
                from,
                &tips,
                false,
            ));
        }
        tx.commit()?;
        Ok(Ok(notes))
    })
    .await
}

/// Removes `friendUserID` from `ownerUserID`'s list (one direction, as OpenIM); 1303 if absent.
/// Emits 1205.
async fn delete_friend(state: AppState, op: Op, req: Body) -> ApiResult<()> {
    require(&req.owner_user_id, "ownerUserID")?;
    require(&req.friend_user_id, "friendUserID")?;
    op.check_access(&req.owner_user_id)?;
    relation::commit_and_deliver(&state, move |c| -> Tx<[Notification; 1]> {
        let tx = c.transaction()?;
        let (owner, friend) = (req.owner_user_id.as_str(), req.friend_user_id.as_str());
        let n = tx.execute(
            "DELETE FROM friends WHERE owner_user_id = ?1 AND friend_user_id = ?2",
            params![owner, friend],
        )?;
        if n == 0 {
            return Ok(Err(ApiError::new(
                ErrorCode::NotPeersFriend,
                "not in the friend list",
            )));
        }
        let log = version::bump(&tx, version::FRIEND, owner, &[(friend, Change::Delete)])?;
        tx.commit()?;
        let tips = FriendDeletedTips {
            from_to_user_id: from_to(owner, friend),
            friend_version: log.version,
            friend_version_id: log.version_id,
        };
        Ok(Ok([single_tip(
            ContentType::FriendDeletedNotification.as_i32(),
            owner,
            friend,
            &tips,
            false,
        )]))
    })
    .await
}

/// Admin: makes `ownerUserID` and each of `friendUserIDs` friends both ways (1204 per new row).
async fn import_friend(state: AppState, op: Op, req: Body) -> ApiResult<()> {
    op.check_admin()?;
    require(&req.owner_user_id, "ownerUserID")?;
    if req.friend_user_ids.contains(&req.owner_user_id) {
        return Err(ApiError::new(
            ErrorCode::CanNotAddYourself,
            "cannot add yourself",
        ));
    }
    let now = now_ms();
    let operator = op.user_id.clone();
    relation::commit_and_deliver(&state, move |c| -> Tx<Vec<Notification>> {
        let tx = c.transaction()?;
        let owner = req.owner_user_id.as_str();
        if let Err(e) = user_or_err(&tx, owner)? {
            return Ok(Err(e));
        }
        let mut notes = Vec::new();
        for friend in &req.friend_user_ids {
            if let Err(e) = user_or_err(&tx, friend)? {
                return Ok(Err(e));
            }
            for (a, b) in [(owner, friend.as_str()), (friend.as_str(), owner)] {
                // add_source 1: added by an administrator.
                if let Some((info, log)) = insert_friend(&tx, a, b, 1, &operator, now)? {
                    let tips = FriendAddedTips {
                        friend: Some(info),
                        operation_time: now,
                        op_user: None,
                        friend_version: log.version,
                        friend_version_id: log.version_id,
                    };
                    notes.push(single_tip(
                        ContentType::FriendAddedNotification.as_i32(),
                        b,
                        a,
                        &tips,
                        false,
                    ));
                }
            }
        }
        tx.commit()?;
        Ok(Ok(notes))
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Remarks, pins, ex (feature 5).

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UpdateFriendsReq {
    #[serde(rename = "ownerUserID", deserialize_with = "nd")]
    owner_user_id: String,
    #[serde(rename = "friendUserIDs", deserialize_with = "seq")]
    friend_user_ids: Vec<String>,
    #[serde(rename = "isPinned")]
    is_pinned: Option<BoolValue>,
    remark: Option<StringValue>,
    ex: Option<StringValue>,
}

/// Changes the owner's rows for the listed friends: each wrapper that is present (`""`
/// included — an empty remark deletes it) is written; absent or `null` leaves the column. All
/// listed users must be friends (1303). Bumps the owner's friend version and sends 1210
/// `FriendsInfoUpdateTips{fromToUserID: owner→owner}` with sendID = recvID = owner, which reaches
/// every device of the owner.
async fn update_friends(state: AppState, op: Op, req: UpdateFriendsReq) -> ApiResult<()> {
    require(&req.owner_user_id, "ownerUserID")?;
    op.check_access(&req.owner_user_id)?;
    if req.friend_user_ids.is_empty() {
        return Err(ApiError::args("friendUserIDs is empty"));
    }
    relation::commit_and_deliver(&state, move |c| -> Tx<[Notification; 1]> {
        let tx = c.transaction()?;
        let owner = req.owner_user_id.as_str();
        let mut ids = req.friend_user_ids.clone();
        ids.sort();
        ids.dedup();
        for f in &ids {
            if !relation::is_friend(&tx, owner, f)? {
                return Ok(Err(ApiError::new(
                    ErrorCode::NotPeersFriend,
                    format!("{f} is not a friend"),
                )));
            }
            if let Some(p) = &req.is_pinned {
                tx.execute(
                    "UPDATE friends SET is_pinned = ?3 WHERE owner_user_id = ?1 AND friend_user_id = ?2",
                    params![owner, f, p.value],
                )?;
            }
            if let Some(r) = &req.remark {
                tx.execute(
                    "UPDATE friends SET remark = ?3 WHERE owner_user_id = ?1 AND friend_user_id = ?2",
                    params![owner, f, r.value],
                )?;
            }
            if let Some(e) = &req.ex {
                tx.execute(
                    "UPDATE friends SET ex = ?3 WHERE owner_user_id = ?1 AND friend_user_id = ?2",
                    params![owner, f, e.value],
                )?;
            }
        }
        let changes: Vec<(&str, Change)> =
            ids.iter().map(|f| (f.as_str(), Change::Update)).collect();
        let log = version::bump(&tx, version::FRIEND, owner, &changes)?;
        tx.commit()?;
        let tips = FriendsInfoUpdateTips {
            from_to_user_id: from_to(owner, owner),
            friend_i_ds: ids.clone(),
            friend_version: log.version,
            friend_version_id: log.version_id,
        };
        Ok(Ok([single_tip(
            ContentType::FriendsInfoUpdateNotification.as_i32(),
            owner,
            owner,
            &tips,
            false,
        )]))
    })
    .await
}

/// Sets (or with `""` deletes) the owner's remark for one friend; 1303 if not a friend. Emits
/// 1206 `FriendInfoChangedTips{owner→friend}` to the friend and the owner's devices.
async fn set_friend_remark(state: AppState, op: Op, req: Body) -> ApiResult<()> {
    require(&req.owner_user_id, "ownerUserID")?;
    require(&req.friend_user_id, "friendUserID")?;
    op.check_access(&req.owner_user_id)?;
    relation::commit_and_deliver(&state, move |c| -> Tx<[Notification; 1]> {
        let tx = c.transaction()?;
        let (owner, friend) = (req.owner_user_id.as_str(), req.friend_user_id.as_str());
        let n = tx.execute(
            "UPDATE friends SET remark = ?3 WHERE owner_user_id = ?1 AND friend_user_id = ?2",
            params![owner, friend, req.remark],
        )?;
        if n == 0 {
            return Ok(Err(ApiError::new(
                ErrorCode::NotPeersFriend,
                format!("{friend} is not a friend"),
            )));
        }
        let log = version::bump(&tx, version::FRIEND, owner, &[(friend, Change::Update)])?;
        tx.commit()?;
        let tips = FriendInfoChangedTips {
            from_to_user_id: from_to(owner, friend),
            friend_version: log.version,
            friend_version_id: log.version_id,
            friend_sort_version: 0,
        };
        // A single-chat notification reaches both its sender (the owner) and the friend.
        Ok(Ok([single_tip(
            ContentType::FriendRemarkSetNotification.as_i32(),
            owner,
            friend,
            &tips,
            false,
        )]))
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Friend reads.

#[derive(Debug, Serialize)]
struct FriendPageResp {
    #[serde(rename = "friendsInfo")]
    friends_info: Vec<FriendInfo>,
    total: i32,
}

async fn get_friend_list(state: AppState, op: Op, req: Body) -> ApiResult<FriendPageResp> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    let (page, show) = (req.pagination.page_number, req.pagination.show_number);
    let (friends_info, total) = state
        .store
        .call(move |c| Ok(relation::friend_page(c, &req.user_id, page, show)?))
        .await?;
    Ok(FriendPageResp {
        friends_info,
        total,
    })
}

#[derive(Debug, Serialize)]
struct FriendsResp {
    #[serde(rename = "friendsInfo")]
    friends_info: Vec<FriendInfo>,
}

async fn get_designated_friends(state: AppState, op: Op, req: Body) -> ApiResult<FriendsResp> {
    require(&req.owner_user_id, "ownerUserID")?;
    op.check_access(&req.owner_user_id)?;
    let friends_info = state
        .store
        .call(move |c| {
            Ok(relation::friends_of(
                c,
                &req.owner_user_id,
                &req.friend_user_ids,
            )?)
        })
        .await?;
    Ok(FriendsResp { friends_info })
}

#[derive(Debug, Serialize)]
struct SpecifiedInfo {
    #[serde(rename = "userInfo")]
    user_info: Option<UserInfo>,
    #[serde(rename = "friendInfo")]
    friend_info: Option<FriendInfo>,
    #[serde(rename = "blackInfo")]
    black_info: Option<BlackInfo>,
}

#[derive(Debug, Serialize)]
struct SpecifiedInfosResp {
    infos: Vec<SpecifiedInfo>,
}

/// For each listed user: their profile, the owner's friend row and black row (`null` if none).
/// Profiles follow the same lookMemberInfo rule as `/user/get_users_info`.
async fn get_specified_friends_info(
    state: AppState,
    op: Op,
    req: Body,
) -> ApiResult<SpecifiedInfosResp> {
    require(&req.owner_user_id, "ownerUserID")?;
    op.check_access(&req.owner_user_id)?;
    let is_admin = op.is_admin;
    state
        .store
        .call(move |c| {
            let owner = req.owner_user_id.as_str();
            let mut infos = Vec::new();
            for id in &req.user_id_list {
                let Some(user) = relation::user(c, id)? else {
                    continue;
                };
                let user = relation::user_as_seen_by(c, owner, is_admin, user)?;
                let one = std::slice::from_ref(id);
                infos.push(SpecifiedInfo {
                    user_info: Some(user),
                    friend_info: relation::friends_of(c, owner, one)?.into_iter().next(),
                    black_info: relation::blacks_of(c, owner, one)?.into_iter().next(),
                });
            }
            Ok(SpecifiedInfosResp { infos })
        })
        .await
        .map_err(Into::into)
}

#[derive(Debug, Serialize)]
struct IsFriendResp {
    #[serde(rename = "inUser1Friends")]
    in_user1_friends: bool,
    #[serde(rename = "inUser2Friends")]
    in_user2_friends: bool,
}

/// Either of the two users (or an admin) may ask.
async fn is_friend(state: AppState, op: Op, req: Body) -> ApiResult<IsFriendResp> {
    if !op.is_admin && op.user_id != req.user_id1 && op.user_id != req.user_id2 {
        return Err(ApiError::no_permission("only one of the two users may ask"));
    }
    state
        .store
        .call(move |c| {
            Ok(IsFriendResp {
                in_user1_friends: relation::is_friend(c, &req.user_id1, &req.user_id2)?,
                in_user2_friends: relation::is_friend(c, &req.user_id2, &req.user_id1)?,
            })
        })
        .await
        .map_err(Into::into)
}

#[derive(Debug, Serialize)]
struct FriendIdsResp {
    #[serde(rename = "friendIDs")]
    friend_ids: Vec<String>,
}

fn friend_ids(c: &Connection, owner: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare(
        "SELECT friend_user_id FROM friends WHERE owner_user_id = ?1 ORDER BY friend_user_id",
    )?;
    let rows = stmt.query_map([owner], |r| r.get(0))?;
    rows.collect()
}

async fn get_friend_id(state: AppState, op: Op, req: Body) -> ApiResult<FriendIdsResp> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    let friend_ids = state
        .store
        .call(move |c| Ok(friend_ids(c, &req.user_id)?))
        .await?;
    Ok(FriendIdsResp { friend_ids })
}

/// Requests where `column` = `user`, optionally only those whose handleResult is listed.
fn request_page(
    c: &Connection,
    column: &str,
    user: &str,
    handle_results: &[i32],
    pagination: RequestPagination,
) -> rusqlite::Result<(Vec<FriendRequest>, i32)> {
    let filter = if handle_results.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = handle_results.iter().map(i32::to_string).collect();
        format!(" AND r.handle_result IN ({})", list.join(","))
    };
    let total: i64 = c.query_row(
        &format!("SELECT count(*) FROM friend_requests r WHERE r.{column} = ?1{filter}"),
        [user],
        |r| r.get(0),
    )?;
    let (limit, offset) = relation::limit_offset(pagination.page_number, pagination.show_number);
    let mut stmt = c.prepare(&format!(
        "{} WHERE r.{column} = ?1{filter} ORDER BY r.create_time DESC LIMIT ?2 OFFSET ?3",
        relation::REQUEST_SELECT
    ))?;
    let list = stmt
        .query_map(params![user, limit, offset], relation::request_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((list, i32::try_from(total).unwrap_or(i32::MAX)))
}

/// Received requests; the key really is `FriendRequests` with a capital F.
#[derive(Debug, Serialize)]
struct ReceivedRequestsResp {
    #[serde(rename = "FriendRequests")]
    friend_requests: Vec<FriendRequest>,
    total: i32,
}

async fn get_friend_apply_list(
    state: AppState,
    op: Op,
    req: Body,
) -> ApiResult<ReceivedRequestsResp> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    let (friend_requests, total) = state
        .store
        .call(move |c| {
            Ok(request_page(
                c,
                "to_user_id",
                &req.user_id,
                &req.handle_results,
                req.pagination,
            )?)
        })
        .await?;
    Ok(ReceivedRequestsResp {
        friend_requests,
        total,
    })
}

#[derive(Debug, Serialize)]
struct SentRequestsResp {
    #[serde(rename = "friendRequests")]
    friend_requests: Vec<FriendRequest>,
    total: i32,
}

async fn get_self_friend_apply_list(
    state: AppState,
    op: Op,
    req: Body,
) -> ApiResult<SentRequestsResp> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    let (friend_requests, total) = state
        .store
        .call(move |c| {
            Ok(request_page(
                c,
                "from_user_id",
                &req.user_id,
                &req.handle_results,
                req.pagination,
            )?)
        })
        .await?;
    Ok(SentRequestsResp {
        friend_requests,
        total,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UnhandledCountReq {
    #[serde(rename = "userID", deserialize_with = "nd")]
    user_id: String,
    /// Only requests created after this time (ms); 0 = all.
    #[serde(deserialize_with = "nd")]
    time: i64,
}

#[derive(Debug, Serialize)]
struct CountResp {
    count: i64,
}

/// Pending requests received by the user.
async fn get_self_unhandled_apply_count(
    state: AppState,
    op: Op,
    req: UnhandledCountReq,
) -> ApiResult<CountResp> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    let count = state
        .store
        .call(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM friend_requests WHERE to_user_id = ?1 AND handle_result = 0
                   AND create_time > ?2",
                params![req.user_id, req.time],
                |r| r.get(0),
            )?)
        })
        .await?;
    Ok(CountResp { count })
}

#[derive(Debug, Serialize)]
struct DesignatedApplyResp {
    #[serde(rename = "friendRequests")]
    friend_requests: Vec<FriendRequest>,
}

/// The request between two users (either of them, or an admin, may ask).
async fn get_designated_friend_apply(
    state: AppState,
    op: Op,
    req: Body,
) -> ApiResult<DesignatedApplyResp> {
    if !op.is_admin && op.user_id != req.from_user_id && op.user_id != req.to_user_id {
        return Err(ApiError::no_permission("only one of the two users may ask"));
    }
    let friend_requests = state
        .store
        .call(move |c| {
            Ok(
                relation::friend_request(c, &req.from_user_id, &req.to_user_id)?
                    .into_iter()
                    .collect(),
            )
        })
        .await?;
    Ok(DesignatedApplyResp { friend_requests })
}

// ---------------------------------------------------------------------------------------------
// Black list.

/// Blocks `blackUserID` for `ownerUserID` (self); emits 1207. Blocking keeps friend rows, as
/// OpenIM does; it makes the blocked user's friend requests and messages fail with 1302.
async fn add_black(state: AppState, op: Op, req: Body) -> ApiResult<()> {
    require(&req.owner_user_id, "ownerUserID")?;
    require(&req.black_user_id, "blackUserID")?;
    op.check_access(&req.owner_user_id)?;
    if req.owner_user_id == req.black_user_id {
        return Err(ApiError::args("cannot block yourself"));
    }
    let now = now_ms();
    let operator = op.user_id.clone();
    relation::commit_and_deliver(&state, move |c| -> Tx<Option<Notification>> {
        let tx = c.transaction()?;
        let (owner, black) = (req.owner_user_id.as_str(), req.black_user_id.as_str());
        if let Err(e) = user_or_err(&tx, black)? {
            return Ok(Err(e));
        }
        let added = tx.execute(
            "INSERT OR IGNORE INTO blacks (owner_user_id, black_user_id, create_time,
               add_source, operator_user_id, ex) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
            params![owner, black, now, operator, req.ex],
        )?;
        if added == 0 {
            return Ok(Ok(None));
        }
        version::bump(&tx, version::BLACK, owner, &[(black, Change::Insert)])?;
        tx.commit()?;
        let tips = BlackAddedTips {
            from_to_user_id: from_to(owner, black),
        };
        Ok(Ok(Some(single_tip(
            ContentType::BlackAddedNotification.as_i32(),
            owner,
            owner,
            &tips,
            false,
        ))))
    })
    .await
}

/// Unblocks; emits 1208. Unblocking someone not blocked is 1004.
async fn remove_black(state: AppState, op: Op, req: Body) -> ApiResult<()> {
    require(&req.owner_user_id, "ownerUserID")?;
    require(&req.black_user_id, "blackUserID")?;
    op.check_access(&req.owner_user_id)?;
    relation::commit_and_deliver(&state, move |c| -> Tx<[Notification; 1]> {
        let tx = c.transaction()?;
        let (owner, black) = (req.owner_user_id.as_str(), req.black_user_id.as_str());
        let n = tx.execute(
            "DELETE FROM blacks WHERE owner_user_id = ?1 AND black_user_id = ?2",
            params![owner, black],
        )?;
        if n == 0 {
            return Ok(Err(ApiError::not_found("not in the black list")));
        }
        version::bump(&tx, version::BLACK, owner, &[(black, Change::Delete)])?;
        tx.commit()?;
        let tips = BlackDeletedTips {
            from_to_user_id: from_to(owner, black),
        };
        Ok(Ok([single_tip(
            ContentType::BlackDeletedNotification.as_i32(),
            owner,
            owner,
            &tips,
            false,
        )]))
    })
    .await
}

#[derive(Debug, Serialize)]
struct BlacksResp {
    blacks: Vec<BlackInfo>,
    total: i32,
}

async fn get_black_list(state: AppState, op: Op, req: Body) -> ApiResult<BlacksResp> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    let (page, show) = (req.pagination.page_number, req.pagination.show_number);
    let (blacks, total) = state
        .store
        .call(move |c| Ok(relation::black_page(c, &req.user_id, page, show)?))
        .await?;
    Ok(BlacksResp { blacks, total })
}

async fn get_specified_blacks(state: AppState, op: Op, req: Body) -> ApiResult<BlacksResp> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    let blacks = state
        .store
        .call(move |c| Ok(relation::blacks_of(c, &req.user_id, &req.user_id_list)?))
        .await?;
    let total = i32::try_from(blacks.len()).unwrap_or(i32::MAX);
    Ok(BlacksResp { blacks, total })
}

// ---------------------------------------------------------------------------------------------
// Incremental sync.

/// The friend-list delta since the client's `{versionID, version}`; `full: true` (with the
/// current versionID and empty lists) when the client must refetch the whole list.
async fn get_incremental_friends(
    state: AppState,
    op: Op,
    req: Body,
) -> ApiResult<Incremental<FriendInfo>> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    state
        .store
        .call(move |c| {
            let owner = req.user_id.as_str();
            let (log, d) =
                version::log_and_delta(c, version::FRIEND, owner, &req.version_id, req.version)?;
            let mut resp = Incremental::at(log);
            match d {
                Delta::Full => resp.full = true,
                Delta::Changes(changes) => {
                    let (mut delete, insert, update) = version::split(changes);
                    resp.insert = relation::friends_of(c, owner, &insert)?;
                    resp.update = relation::friends_of(c, owner, &update)?;
                    // An entity recorded as changed but gone by now counts as deleted.
                    for id in insert.iter().chain(&update) {
                        let present = resp
                            .insert
                            .iter()
                            .chain(&resp.update)
                            .any(|f| f.friend_user.as_ref().is_some_and(|u| &u.user_id == id));
                        if !present {
                            delete.push(id.clone());
                        }
                    }
                    resp.delete = delete;
                }
            }
            Ok(resp)
        })
        .await
        .map_err(Into::into)
}

#[derive(Debug, Serialize)]
struct FullIdsResp {
    version: u64,
    #[serde(rename = "versionID")]
    version_id: String,
    equal: bool,
    #[serde(rename = "userIDs")]
    user_ids: Vec<String>,
}

/// All friend IDs with the current version; `equal: true` (and no list) when the client's
/// `idHash` matches ours.
async fn get_full_friend_user_ids(state: AppState, op: Op, req: Body) -> ApiResult<FullIdsResp> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    state
        .store
        .call(move |c| {
            let log = version::current(c, version::FRIEND, &req.user_id)?;
            let ids = friend_ids(c, &req.user_id)?;
            let (equal, ids) = version::full_ids(req.id_hash, ids);
            Ok(FullIdsResp {
                version: log.version,
                version_id: log.version_id,
                equal,
                user_ids: ids,
            })
        })
        .await
        .map_err(Into::into)
}

/// The black-list entry shape of incremental black sync (relation's own `blackInfo`).
#[derive(Debug, Serialize)]
struct IncrBlack {
    #[serde(rename = "ownerUserID")]
    owner_user_id: String,
    #[serde(rename = "blackUserID")]
    black_user_id: String,
    #[serde(rename = "blackNickname")]
    black_nickname: String,
    #[serde(rename = "blackFaceURL")]
    black_face_url: String,
    #[serde(rename = "createTime")]
    create_time: i64,
    #[serde(rename = "addSource")]
    add_source: i32,
    #[serde(rename = "operatorUserID")]
    operator_user_id: String,
    ex: String,
}

fn incr_black(b: BlackInfo) -> IncrBlack {
    let u = b.black_user_info.unwrap_or_default();
    IncrBlack {
        owner_user_id: b.owner_user_id,
        black_user_id: u.user_id,
        black_nickname: u.nickname,
        black_face_url: u.face_url,
        create_time: b.create_time,
        add_source: b.add_source,
        operator_user_id: b.operator_user_id,
        ex: b.ex,
    }
}

async fn get_incremental_blacks(
    state: AppState,
    op: Op,
    req: Body,
) -> ApiResult<Incremental<IncrBlack>> {
    require(&req.user_id, "userID")?;
    op.check_access(&req.user_id)?;
    state
        .store
        .call(move |c| {
            let owner = req.user_id.as_str();
            let (log, d) =
                version::log_and_delta(c, version::BLACK, owner, &req.version_id, req.version)?;
            let mut resp = Incremental::at(log);
            match d {
                Delta::Full => resp.full = true,
                Delta::Changes(changes) => {
                    let (delete, insert, update) = version::split(changes);
                    resp.delete = delete;
                    resp.insert = relation::blacks_of(c, owner, &insert)?
                        .into_iter()
                        .map(incr_black)
                        .collect();
                    resp.update = relation::blacks_of(c, owner, &update)?
                        .into_iter()
                        .map(incr_black)
                        .collect();
                }
            }
            Ok(resp)
        })
        .await
        .map_err(Into::into)
}
