//! Users and their relations: profile rows, friends, black lists, friend requests, the privacy
//! rules that depend on the groups two users share, and delivery of the tips these produce.
//!
//! This module only reads `groups` and `group_members` (the group service owns them); the one
//! group-side write is the `group_member` version bump when a member's displayed profile changes
//! (feature 4). Notifications are built here and handed to [`crate::msg::notify`] after the
//! transaction that caused them has committed.

pub mod version;

use chorus_proto::constants::{RoleLevel, SessionType};
use chorus_proto::pb::sdkws::{
    BlackInfo, FriendInfo, FriendRequest, GroupInfo, GroupMemberFullInfo, PublicUserInfo, UserInfo,
};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::msg::{self, Notification};
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
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM friends WHERE owner_user_id = ?1",
        [owner],
        |r| r.get(0),
    )?;
    let (limit, offset) = limit_offset(page, show);
    let mut stmt = conn.prepare(&format!(
        "{FRIEND_SELECT} WHERE f.owner_user_id = ?1 ORDER BY f.create_time, f.friend_user_id
         LIMIT ?2 OFFSET ?3"
    ))?;
    let list = stmt
        .query_map(params![owner, limit, offset], friend_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((list, i32::try_from(total).unwrap_or(i32::MAX)))
}

/// The listed friends of `owner` (users that are not friends are skipped).
pub fn friends_of(
    conn: &Connection,
    owner: &str,
    ids: &[String],
) -> rusqlite::Result<Vec<FriendInfo>> {
    let mut stmt = conn.prepare(&format!(
        "{FRIEND_SELECT} WHERE f.owner_user_id = ?1 AND f.friend_user_id = ?2"
    ))?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(f) = stmt
            .query_row(params![owner, id], friend_from_row)
            .optional()?
        {
            out.push(f);
        }
    }
    Ok(out)
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
    let total: i64 = conn.query_row(
        "SELECT count(*) FROM blacks WHERE owner_user_id = ?1",
        [owner],
        |r| r.get(0),
    )?;
    let (limit, offset) = limit_offset(page, show);
    let mut stmt = conn.prepare(&format!(
        "{BLACK_SELECT} WHERE b.owner_user_id = ?1 ORDER BY b.create_time, b.black_user_id
         LIMIT ?2 OFFSET ?3"
    ))?;
    let list = stmt
        .query_map(params![owner, limit, offset], black_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((list, i32::try_from(total).unwrap_or(i32::MAX)))
}

/// The listed entries of `owner`'s black list.
pub fn blacks_of(
    conn: &Connection,
    owner: &str,
    ids: &[String],
) -> rusqlite::Result<Vec<BlackInfo>> {
    let mut stmt = conn.prepare(&format!(
        "{BLACK_SELECT} WHERE b.owner_user_id = ?1 AND b.black_user_id = ?2"
    ))?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(b) = stmt
            .query_row(params![owner, id], black_from_row)
            .optional()?
        {
            out.push(b);
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

/// A group as sent in tips, with its member count.
pub fn group_info(conn: &Connection, group_id: &str) -> rusqlite::Result<Option<GroupInfo>> {
    conn.query_row(
        "SELECT group_id, group_name, notification, introduction, face_url, owner_user_id,
           create_time, ex, status, creator_user_id, group_type, need_verification,
           look_member_info, apply_member_friend, notification_update_time, notification_user_id,
           (SELECT count(*) FROM group_members m WHERE m.group_id = g.group_id)
         FROM groups g WHERE group_id = ?1",
        [group_id],
        |r| {
            Ok(GroupInfo {
                group_id: r.get(0)?,
                group_name: r.get(1)?,
                notification: r.get(2)?,
                introduction: r.get(3)?,
                face_url: r.get(4)?,
                owner_user_id: r.get(5)?,
                create_time: r.get(6)?,
                ex: r.get(7)?,
                status: r.get(8)?,
                creator_user_id: r.get(9)?,
                group_type: r.get(10)?,
                need_verification: r.get(11)?,
                look_member_info: r.get(12)?,
                apply_member_friend: r.get(13)?,
                notification_update_time: r.get(14)?,
                notification_user_id: r.get(15)?,
                member_count: u32::try_from(r.get::<_, i64>(16)?).unwrap_or(0),
            })
        },
    )
    .optional()
}

/// A member row with empty nickname/faceURL filled from `profile` (spec §3.5).
pub fn group_member(
    conn: &Connection,
    group_id: &str,
    profile: &UserInfo,
) -> rusqlite::Result<Option<GroupMemberFullInfo>> {
    conn.query_row(
        "SELECT group_id, user_id, role_level, join_time, nickname, face_url, app_manger_level,
           join_source, operator_user_id, ex, mute_end_time, inviter_user_id
         FROM group_members WHERE group_id = ?1 AND user_id = ?2",
        params![group_id, profile.user_id],
        |r| {
            let mut m = GroupMemberFullInfo {
                group_id: r.get(0)?,
                user_id: r.get(1)?,
                role_level: r.get(2)?,
                join_time: r.get(3)?,
                nickname: r.get(4)?,
                face_url: r.get(5)?,
                app_manger_level: r.get(6)?,
                join_source: r.get(7)?,
                operator_user_id: r.get(8)?,
                ex: r.get(9)?,
                mute_end_time: r.get(10)?,
                inviter_user_id: r.get(11)?,
            };
            if m.nickname.is_empty() {
                m.nickname.clone_from(&profile.nickname);
            }
            if m.face_url.is_empty() {
                m.face_url.clone_from(&profile.face_url);
            }
            Ok(m)
        },
    )
    .optional()
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
        content_type,
        send_id: send.to_owned(),
        recv_id: group_id.to_owned(),
        group_id: group_id.to_owned(),
        session_type: SessionType::ReadGroup.as_i32(),
        detail: chorus_proto::json::to_go_string(tips).unwrap_or_default(),
        is_send_msg,
        ..Notification::default()
    }
}

/// Delivers notifications after their change committed. A failed delivery is logged, never
/// turned into an error of the request: the change is durable and clients recover it through
/// incremental sync.
pub async fn deliver(state: &AppState, notes: Vec<Notification>) {
    for n in notes {
        let ct = n.content_type;
        if let Err(e) = msg::notify(state, n).await {
            tracing::warn!(content_type = ct, error = %e, "notification not delivered");
        }
    }
}
