//! Users and their relations: profile rows, friends, black lists, friend requests, the privacy
//! rules that depend on the groups two users share, and delivery of the tips these produce.
//!
//! This module only reads `groups` and `group_members` (the group service owns them); the one
//! group-side write is the `group_member` version bump when a member's displayed profile changes
//! (feature 4). Notifications are built here and handed to [`crate::msg::notify`] after the
//! transaction that caused them has committed.

pub mod version;

use chorus_proto::constants::{RoleLevel, SessionType};
use chorus_proto::pb::sdkws::{BlackInfo, FriendInfo, FriendRequest, PublicUserInfo, UserInfo};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::error::ApiResult;
use crate::msg::{self, Notification};
use crate::store::StoreError;
use crate::AppState;

const USER_COLS: &str =
    "user_id, nickname, face_url, ex, create_time, app_manger_level, global_recv_msg_opt";

fn user_from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<UserInfo> {
    Ok(UserInfo {
        user_id: r.get(at)?,
        nickname: r.get(at + 1)?,
        face_url: r.get(at + 2)?,
        ex: r.get(at + 3)?,
        create_time: r.get(at + 4)?,
        app_manger_level: r.get(at + 5)?,
        global_recv_msg_opt: r.get(at + 6)?,
    })
}

/// One user's profile.
pub fn user(conn: &Connection, user_id: &str) -> rusqlite::Result<Option<UserInfo>> {
    conn.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE user_id = ?1"),
        [user_id],
        |r| user_from_row(r, 0),
    )
    .optional()
}

/// Profiles of the listed users that exist, in request order.
pub fn users(conn: &Connection, ids: &[String]) -> rusqlite::Result<Vec<UserInfo>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(u) = user(conn, id)? {
            out.push(u);
        }
    }
    Ok(out)
}

/// One page of registered userIDs, oldest account first, filtered by exact `user_id` and by
/// `nickname` substring (an empty filter matches everyone), and the number of matches.
pub fn user_id_page(
    conn: &Connection,
    (user_id, nickname): (&str, &str),
    page: i32,
    show: i32,
) -> rusqlite::Result<(Vec<String>, i32)> {
    let filter = "(?1 = '' OR user_id = ?1) AND (?2 = '' OR instr(nickname, ?2) > 0)";
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM users WHERE {filter}"),
        params![user_id, nickname],
        |r| r.get(0),
    )?;
    let (limit, offset) = limit_offset(page, show);
    let mut stmt = conn.prepare(&format!(
        "SELECT user_id FROM users WHERE {filter} ORDER BY create_time, user_id LIMIT ?3 OFFSET ?4"
    ))?;
    let ids = stmt
        .query_map(params![user_id, nickname, limit, offset], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok((ids, i32::try_from(total).unwrap_or(i32::MAX)))
}

pub fn public_user(u: &UserInfo) -> PublicUserInfo {
    PublicUserInfo {
        user_id: u.user_id.clone(),
        nickname: u.nickname.clone(),
        face_url: u.face_url.clone(),
        ex: u.ex.clone(),
    }
}

/// Whether `friend` is in `owner`'s friend list.
pub fn is_friend(conn: &Connection, owner: &str, friend: &str) -> rusqlite::Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) FROM friends WHERE owner_user_id = ?1 AND friend_user_id = ?2",
        params![owner, friend],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

/// Whether `black` is in `owner`'s black list.
pub fn is_black(conn: &Connection, owner: &str, black: &str) -> rusqlite::Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) FROM blacks WHERE owner_user_id = ?1 AND black_user_id = ?2",
        params![owner, black],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

const FRIEND_SELECT: &str = "SELECT f.owner_user_id, f.remark, f.create_time, f.add_source,
    f.operator_user_id, f.ex, f.is_pinned, f.friend_user_id,
    coalesce(u.nickname, ''), coalesce(u.face_url, ''), coalesce(u.ex, ''),
    coalesce(u.create_time, 0), coalesce(u.app_manger_level, 0), coalesce(u.global_recv_msg_opt, 0)
    FROM friends f LEFT JOIN users u ON u.user_id = f.friend_user_id";

fn friend_from_row(r: &Row<'_>) -> rusqlite::Result<FriendInfo> {
    Ok(FriendInfo {
        owner_user_id: r.get(0)?,
        remark: r.get(1)?,
        create_time: r.get(2)?,
        add_source: r.get(3)?,
        operator_user_id: r.get(4)?,
        ex: r.get(5)?,
        is_pinned: r.get::<_, i64>(6)? != 0,
        friend_user: Some(user_from_row(r, 7)?),
    })
}

/// `owner`'s friend rows (with `friendUser`), one page; `show <= 0` means all.
pub fn friend_page(
    conn: &Connection,
    owner: &str,
    page: i32,
    show: i32,
) -> rusqlite::Result<(Vec<FriendInfo>, i32)> {
    owned_page(
        conn,
        "friends",
        &format!(
            "{FRIEND_SELECT} WHERE f.owner_user_id = ?1 ORDER BY f.create_time, f.friend_user_id"
        ),
        friend_from_row,
        owner,
        (page, show),
    )
}

/// The listed friends of `owner` (users that are not friends are skipped).
pub fn friends_of(
    conn: &Connection,
    owner: &str,
    ids: &[String],
) -> rusqlite::Result<Vec<FriendInfo>> {
    owned_of(
        conn,
        &format!("{FRIEND_SELECT} WHERE f.owner_user_id = ?1 AND f.friend_user_id = ?2"),
        friend_from_row,
        owner,
        ids,
    )
}

/// SQLite `LIMIT`/`OFFSET` of a 1-based page; `show <= 0` means no limit.
pub fn limit_offset(page: i32, show: i32) -> (i64, i64) {
    if show <= 0 {
        return (-1, 0);
    }
    let page = i64::from(page.max(1));
    (i64::from(show), (page - 1) * i64::from(show))
}

const BLACK_SELECT: &str = "SELECT b.owner_user_id, b.create_time, b.add_source,
    b.operator_user_id, b.ex, b.black_user_id, coalesce(u.nickname, ''),
    coalesce(u.face_url, ''), coalesce(u.ex, '')
    FROM blacks b LEFT JOIN users u ON u.user_id = b.black_user_id";

fn black_from_row(r: &Row<'_>) -> rusqlite::Result<BlackInfo> {
    Ok(BlackInfo {
        owner_user_id: r.get(0)?,
        create_time: r.get(1)?,
        add_source: r.get(2)?,
        operator_user_id: r.get(3)?,
        ex: r.get(4)?,
        black_user_info: Some(PublicUserInfo {
            user_id: r.get(5)?,
            nickname: r.get(6)?,
            face_url: r.get(7)?,
            ex: r.get(8)?,
        }),
    })
}

/// `owner`'s black list, one page.
pub fn black_page(
    conn: &Connection,
    owner: &str,
    page: i32,
    show: i32,
) -> rusqlite::Result<(Vec<BlackInfo>, i32)> {
    owned_page(
        conn,
        "blacks",
        &format!(
            "{BLACK_SELECT} WHERE b.owner_user_id = ?1 ORDER BY b.create_time, b.black_user_id"
        ),
        black_from_row,
        owner,
        (page, show),
    )
}

/// One page of `owner`'s rows of `table` read by `select` (ordered, `?1` = owner) and the total
/// count of those rows.
fn owned_page<T>(
    conn: &Connection,
    table: &str,
    select: &str,
    from_row: fn(&Row<'_>) -> rusqlite::Result<T>,
    owner: &str,
    (page, show): (i32, i32),
) -> rusqlite::Result<(Vec<T>, i32)> {
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {table} WHERE owner_user_id = ?1"),
        [owner],
        |r| r.get(0),
    )?;
    let (limit, offset) = limit_offset(page, show);
    let mut stmt = conn.prepare(&format!("{select} LIMIT ?2 OFFSET ?3"))?;
    let list = stmt
        .query_map(params![owner, limit, offset], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((list, i32::try_from(total).unwrap_or(i32::MAX)))
}

/// The listed entries of `owner`'s black list.
pub fn blacks_of(
    conn: &Connection,
    owner: &str,
    ids: &[String],
) -> rusqlite::Result<Vec<BlackInfo>> {
    owned_of(
        conn,
        &format!("{BLACK_SELECT} WHERE b.owner_user_id = ?1 AND b.black_user_id = ?2"),
        black_from_row,
        owner,
        ids,
    )
}

/// The rows `select` (`?1` = owner, `?2` = one of `ids`) finds, in the order of `ids`.
fn owned_of<T>(
    conn: &Connection,
    select: &str,
    from_row: fn(&Row<'_>) -> rusqlite::Result<T>,
    owner: &str,
    ids: &[String],
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare(select)?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(row) = stmt.query_row(params![owner, id], from_row).optional()? {
            out.push(row);
        }
    }
    Ok(out)
}

/// A friend request with both users' current nickname and face.
pub fn friend_request(
    conn: &Connection,
    from: &str,
    to: &str,
) -> rusqlite::Result<Option<FriendRequest>> {
    conn.query_row(
        &format!("{REQUEST_SELECT} WHERE r.from_user_id = ?1 AND r.to_user_id = ?2"),
        params![from, to],
        request_from_row,
    )
    .optional()
}

pub const REQUEST_SELECT: &str = "SELECT r.from_user_id, coalesce(fu.nickname, ''),
    coalesce(fu.face_url, ''), r.to_user_id, coalesce(tu.nickname, ''), coalesce(tu.face_url, ''),
    r.handle_result, r.req_msg, r.create_time, r.handler_user_id, r.handle_msg, r.handle_time, r.ex
    FROM friend_requests r LEFT JOIN users fu ON fu.user_id = r.from_user_id
    LEFT JOIN users tu ON tu.user_id = r.to_user_id";

pub fn request_from_row(r: &Row<'_>) -> rusqlite::Result<FriendRequest> {
    Ok(FriendRequest {
        from_user_id: r.get(0)?,
        from_nickname: r.get(1)?,
        from_face_url: r.get(2)?,
        to_user_id: r.get(3)?,
        to_nickname: r.get(4)?,
        to_face_url: r.get(5)?,
        handle_result: r.get(6)?,
        req_msg: r.get(7)?,
        create_time: r.get(8)?,
        handler_user_id: r.get(9)?,
        handle_msg: r.get(10)?,
        handle_time: r.get(11)?,
        ex: r.get(12)?,
    })
}

/// What `viewer` may do with respect to a group both belong to.
#[derive(Debug, Clone, Copy)]
struct SharedGroup {
    look_member_info: i32,
    apply_member_friend: i32,
    viewer_role: i32,
}

/// The live (not dismissed) groups `viewer` and `other` are both members of, with the group
/// flags and `viewer`'s role there.
fn shared_groups(
    conn: &Connection,
    viewer: &str,
    other: &str,
) -> rusqlite::Result<Vec<SharedGroup>> {
    let mut stmt = conn.prepare(
        "SELECT g.look_member_info, g.apply_member_friend, me.role_level
         FROM group_members me
         JOIN group_members them ON them.group_id = me.group_id AND them.user_id = ?2
         JOIN groups g ON g.group_id = me.group_id
         WHERE me.user_id = ?1 AND g.status != 2",
    )?;
    let rows = stmt.query_map(params![viewer, other], |r| {
        Ok(SharedGroup {
            look_member_info: r.get(0)?,
            apply_member_friend: r.get(1)?,
            viewer_role: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// lookMemberInfo privacy for user lookups (`/user/get_users_info`).
///
/// `viewer` sees only `target`'s userID, nickname and faceURL exactly when all of these hold:
/// * `viewer` is not `target` and not an app administrator (checked by the caller);
/// * `target` is not in `viewer`'s friend list;
/// * the two share at least one group, and in **every** group they share the group forbids
///   viewing member info (`lookMemberInfo = 1`) and `viewer` is an ordinary member (role 20)
///   there.
///
/// So a single shared group that allows it, or where `viewer` is owner/admin, lifts the
/// restriction; users who share no group at all are unaffected (they did not meet through a
/// group, so no group's setting applies).
pub fn member_info_hidden(conn: &Connection, viewer: &str, target: &str) -> rusqlite::Result<bool> {
    if viewer == target || is_friend(conn, viewer, target)? {
        return Ok(false);
    }
    let groups = shared_groups(conn, viewer, target)?;
    Ok(!groups.is_empty()
        && groups
            .iter()
            .all(|g| g.look_member_info == 1 && g.viewer_role == RoleLevel::Ordinary.as_i32()))
}

/// `user` as `viewer` may see it: the whole profile, or only userID, nickname and faceURL when
/// [`member_info_hidden`] says so. App administrators see everything.
pub fn user_as_seen_by(
    conn: &Connection,
    viewer: &str,
    viewer_is_admin: bool,
    user: UserInfo,
) -> rusqlite::Result<UserInfo> {
    if viewer_is_admin || !member_info_hidden(conn, viewer, &user.user_id)? {
        return Ok(user);
    }
    Ok(UserInfo {
        user_id: user.user_id,
        nickname: user.nickname,
        face_url: user.face_url,
        ..UserInfo::default()
    })
}

/// applyMemberFriend enforcement for `/friend/add_friend`.
///
/// The request is refused exactly when the two users share at least one group and in **every**
/// group they share the group forbids adding members as friends (`applyMemberFriend = 1`) and
/// `requester` is an ordinary member (owners and admins of such a group are exempt). One shared
/// group that allows it suffices; users sharing no group are unaffected.
pub fn add_friend_forbidden(
    conn: &Connection,
    requester: &str,
    target: &str,
) -> rusqlite::Result<bool> {
    let groups = shared_groups(conn, requester, target)?;
    Ok(!groups.is_empty()
        && groups
            .iter()
            .all(|g| g.apply_member_friend == 1 && g.viewer_role == RoleLevel::Ordinary.as_i32()))
}

/// Groups of `user_id` whose member row follows the profile — the member has not set both a
/// group nickname and a group face (feature 4: these displays change when the profile does).
pub fn groups_following_profile(conn: &Connection, user_id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT m.group_id FROM group_members m JOIN groups g ON g.group_id = m.group_id
         WHERE m.user_id = ?1 AND g.status != 2 AND NOT (m.nickname != '' AND m.face_url != '')
         ORDER BY m.group_id",
    )?;
    let rows = stmt.query_map([user_id], |r| r.get(0))?;
    rows.collect()
}

/// A single-chat (session 1) notification from `send` to `recv`.
pub fn single_tip<T: Serialize>(
    content_type: i32,
    send: &str,
    recv: &str,
    tips: &T,
    is_send_msg: bool,
) -> Notification {
    Notification {
        content_type,
        send_id: send.to_owned(),
        recv_id: recv.to_owned(),
        session_type: SessionType::Single.as_i32(),
        detail: chorus_proto::json::to_go_string(tips).unwrap_or_default(),
        is_send_msg,
        ..Notification::default()
    }
}

/// A group (session 3) notification from `send` to every member of `group_id`.
pub fn group_tip<T: Serialize>(
    content_type: i32,
    send: &str,
    group_id: &str,
    tips: &T,
    is_send_msg: bool,
) -> Notification {
    Notification {
        group_id: group_id.to_owned(),
        session_type: SessionType::ReadGroup.as_i32(),
        ..single_tip(content_type, send, group_id, tips, is_send_msg)
    }
}

/// Runs `change` on the store (it opens and commits its own transaction), then delivers the
/// notifications it returned; a business error from `change` is returned and nothing is sent.
pub async fn commit_and_deliver<N, F>(state: &AppState, change: F) -> ApiResult<()>
where
    N: IntoIterator<Item = Notification> + Send + 'static,
    F: FnOnce(&mut Connection) -> Result<ApiResult<N>, StoreError> + Send + 'static,
{
    let notes = state.store.call(change).await??;
    deliver(state, notes.into_iter().collect()).await;
    Ok(())
}

/// Delivers notifications after their change committed. A failed delivery is logged, never
/// turned into an error of the request: the change is durable and clients recover it through
/// incremental sync.
pub async fn deliver(state: &AppState, notes: Vec<Notification>) {
    for n in notes {
        let (ct, recv) = (n.content_type, n.recv_id.clone());
        if let Err(e) = msg::notify(state, n).await {
            tracing::warn!(content_type = ct, recv_id = %recv, error = %e, "notification not delivered");
        }
    }
}
