//! SQL over `groups`, `group_members`, `group_requests` and the members' `sg_` conversation rows.
//!
//! Plain synchronous functions on a connection (usually a transaction opened by the caller), so
//! a service call can check and change several tables atomically. Nothing here decides who may
//! do what; that is the service's job.
//!
//! [`group`] and [`member`] are the one place a `GroupInfo` or a `GroupMemberFullInfo` is read
//! from the database; the message service, the user routes and the conversation routes call them
//! too. User profiles are read through [`crate::relation::user`].

use chorus_proto::pb::sdkws::{GroupInfo, GroupMemberFullInfo, GroupRequest, PublicUserInfo};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::relation;

/// A group as stored: the wire `GroupInfo` (member count included) plus our extension switch.
#[derive(Debug, Clone, Default)]
pub struct GroupRow {
    pub info: GroupInfo,
    /// "History visible to new members" (`enableHistoryForNewMembers`).
    pub history_for_new_members: bool,
}

const GROUP_SELECT: &str =
    "SELECT g.group_id, g.group_name, g.notification, g.introduction, g.face_url,
    g.owner_user_id, g.create_time, g.ex, g.status, g.creator_user_id, g.group_type,
    g.need_verification, g.look_member_info, g.apply_member_friend, g.notification_update_time,
    g.notification_user_id, g.history_for_new_members,
    (SELECT count(*) FROM group_members m WHERE m.group_id = g.group_id)
    FROM groups g";

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<GroupRow> {
    Ok(GroupRow {
        info: GroupInfo {
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
            member_count: u32::try_from(r.get::<_, i64>(17)?).unwrap_or(0),
        },
        history_for_new_members: r.get::<_, i64>(16)? != 0,
    })
}

pub fn group(c: &Connection, group_id: &str) -> rusqlite::Result<Option<GroupRow>> {
    c.query_row(
        &format!("{GROUP_SELECT} WHERE g.group_id = ?1"),
        [group_id],
        group_from_row,
    )
    .optional()
}

/// The groups `user_id` belongs to, newest membership first.
pub fn joined_groups(c: &Connection, user_id: &str) -> rusqlite::Result<Vec<GroupRow>> {
    let mut stmt = c.prepare(&format!(
        "{GROUP_SELECT} JOIN group_members j ON j.group_id = g.group_id
         WHERE j.user_id = ?1 ORDER BY j.join_time DESC, g.group_id"
    ))?;
    let rows = stmt.query_map([user_id], group_from_row)?;
    rows.collect()
}

pub fn insert_group(c: &Connection, g: &GroupRow) -> rusqlite::Result<()> {
    let i = &g.info;
    c.execute(
        "INSERT INTO groups (group_id, group_name, notification, introduction, face_url,
            owner_user_id, create_time, ex, status, creator_user_id, group_type, need_verification,
            look_member_info, apply_member_friend, notification_update_time, notification_user_id,
            history_for_new_members)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            i.group_id,
            i.group_name,
            i.notification,
            i.introduction,
            i.face_url,
            i.owner_user_id,
            i.create_time,
            i.ex,
            i.status,
            i.creator_user_id,
            i.group_type,
            i.need_verification,
            i.look_member_info,
            i.apply_member_friend,
            i.notification_update_time,
            i.notification_user_id,
            g.history_for_new_members,
        ],
    )?;
    Ok(())
}

/// Writes every mutable column of an existing group.
pub fn update_group(c: &Connection, g: &GroupRow) -> rusqlite::Result<()> {
    let i = &g.info;
    c.execute(
        "UPDATE groups SET group_name = ?2, notification = ?3, introduction = ?4, face_url = ?5,
            owner_user_id = ?6, ex = ?7, status = ?8, need_verification = ?9,
            look_member_info = ?10, apply_member_friend = ?11, notification_update_time = ?12,
            notification_user_id = ?13, history_for_new_members = ?14
         WHERE group_id = ?1",
        params![
            i.group_id,
            i.group_name,
            i.notification,
            i.introduction,
            i.face_url,
            i.owner_user_id,
            i.ex,
            i.status,
            i.need_verification,
            i.look_member_info,
            i.apply_member_friend,
            i.notification_update_time,
            i.notification_user_id,
            g.history_for_new_members,
        ],
    )?;
    Ok(())
}

/// Members with an empty group nickname / face show the user's profile values (what OpenIM
/// returns too), so readers never see the stored override columns directly.
const MEMBER_SELECT: &str = "SELECT m.group_id, m.user_id, m.role_level, m.join_time,
    CASE WHEN m.nickname = '' THEN COALESCE(u.nickname, '') ELSE m.nickname END,
    CASE WHEN m.face_url = '' THEN COALESCE(u.face_url, '') ELSE m.face_url END,
    m.app_manger_level, m.join_source, m.operator_user_id, m.ex, m.mute_end_time, m.inviter_user_id
    FROM group_members m LEFT JOIN users u ON u.user_id = m.user_id";

const MEMBER_ORDER: &str = "ORDER BY m.role_level DESC, m.join_time, m.user_id";

fn member_from_row(r: &Row<'_>) -> rusqlite::Result<GroupMemberFullInfo> {
    Ok(GroupMemberFullInfo {
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
    })
}

pub fn member(
    c: &Connection,
    group_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<GroupMemberFullInfo>> {
    c.query_row(
        &format!("{MEMBER_SELECT} WHERE m.group_id = ?1 AND m.user_id = ?2"),
        [group_id, user_id],
        member_from_row,
    )
    .optional()
}

pub fn members(c: &Connection, group_id: &str) -> rusqlite::Result<Vec<GroupMemberFullInfo>> {
    let mut stmt = c.prepare(&format!(
        "{MEMBER_SELECT} WHERE m.group_id = ?1 {MEMBER_ORDER}"
    ))?;
    let rows = stmt.query_map([group_id], member_from_row)?;
    rows.collect()
}

/// The listed members that exist, in the order asked.
pub fn members_of(
    c: &Connection,
    group_id: &str,
    user_ids: &[String],
) -> rusqlite::Result<Vec<GroupMemberFullInfo>> {
    let mut out = Vec::with_capacity(user_ids.len());
    for u in user_ids {
        if let Some(m) = member(c, group_id, u)? {
            out.push(m);
        }
    }
    Ok(out)
}

/// The user IDs of the owner and the admins.
pub fn managers(c: &Connection, group_id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = c.prepare(
        "SELECT user_id FROM group_members WHERE group_id = ?1 AND role_level >= 60
         ORDER BY role_level DESC, user_id",
    )?;
    let rows = stmt.query_map([group_id], |r| r.get(0))?;
    rows.collect()
}

pub fn member_ids(c: &Connection, group_id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        c.prepare_cached("SELECT user_id FROM group_members WHERE group_id = ?1 ORDER BY user_id")?;
    let rows = stmt.query_map([group_id], |r| r.get(0))?;
    rows.collect()
}

/// Inserts (or replaces, for a former member) a membership. Nickname, face and ex start empty.
pub fn insert_member(c: &Connection, m: &GroupMemberFullInfo) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO group_members (group_id, user_id, role_level, join_time, nickname,
            face_url, app_manger_level, join_source, operator_user_id, inviter_user_id, ex,
            mute_end_time)
         VALUES (?1, ?2, ?3, ?4, '', '', 0, ?5, ?6, ?7, '', 0)",
        params![
            m.group_id,
            m.user_id,
            m.role_level,
            m.join_time,
            m.join_source,
            m.operator_user_id,
            m.inviter_user_id,
        ],
    )?;
    Ok(())
}

pub fn delete_member(c: &Connection, group_id: &str, user_id: &str) -> rusqlite::Result<()> {
    c.execute(
        "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
        [group_id, user_id],
    )?;
    Ok(())
}

pub fn set_role(c: &Connection, group_id: &str, user_id: &str, role: i32) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE group_members SET role_level = ?3 WHERE group_id = ?1 AND user_id = ?2",
        params![group_id, user_id, role],
    )?;
    Ok(())
}

pub fn set_mute_end(
    c: &Connection,
    group_id: &str,
    user_id: &str,
    mute_end_time: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE group_members SET mute_end_time = ?3 WHERE group_id = ?1 AND user_id = ?2",
        params![group_id, user_id, mute_end_time],
    )?;
    Ok(())
}

/// The stored override columns of a member (not filled from the profile).
pub fn member_overrides(
    c: &Connection,
    group_id: &str,
    user_id: &str,
) -> rusqlite::Result<(String, String, String)> {
    c.query_row(
        "SELECT nickname, face_url, ex FROM group_members WHERE group_id = ?1 AND user_id = ?2",
        [group_id, user_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

pub fn set_member_overrides(
    c: &Connection,
    group_id: &str,
    user_id: &str,
    (nickname, face_url, ex): (&str, &str, &str),
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE group_members SET nickname = ?3, face_url = ?4, ex = ?5
         WHERE group_id = ?1 AND user_id = ?2",
        params![group_id, user_id, nickname, face_url, ex],
    )?;
    Ok(())
}

pub fn group_id_taken(c: &Connection, group_id: &str) -> rusqlite::Result<bool> {
    Ok(c.query_row(
        "SELECT count(*) FROM groups WHERE group_id = ?1",
        [group_id],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

/// The IDs of `user_ids` that are not registered.
pub fn unknown_users(c: &Connection, user_ids: &[String]) -> rusqlite::Result<Vec<String>> {
    let mut out = Vec::new();
    for u in user_ids {
        if relation::user(c, u)?.is_none() {
            out.push(u.clone());
        }
    }
    Ok(out)
}

/// `sg_<groupID>`.
pub fn conversation_id(group_id: &str) -> String {
    format!("sg_{group_id}")
}

/// The last seq allocated in `conversation_id` (0 before the first stored message).
fn last_seq(c: &Connection, conversation_id: &str) -> rusqlite::Result<i64> {
    Ok(c.query_row(
        "SELECT max_seq FROM seqs WHERE conversation_id = ?1",
        [conversation_id],
        |r| r.get::<_, i64>(0),
    )
    .optional()?
    .unwrap_or(0))
}

/// The last seq allocated in the group's chat conversation (0 before the first message).
pub fn group_max_seq(c: &Connection, group_id: &str) -> rusqlite::Result<i64> {
    last_seq(c, &conversation_id(group_id))
}

/// Opens a member's window on the group chat: a fresh row, or a former member's row reopened,
/// with `max_seq` 0 (unbounded) and the given lower bound; the window on the group's
/// notification conversation `n_<groupID>` reopens with it.
pub fn open_conversation(
    c: &Connection,
    user_id: &str,
    group_id: &str,
    min_seq: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO conversations (owner_user_id, conversation_id, conversation_type, group_id,
            min_seq, max_seq)
         VALUES (?1, ?2, 3, ?3, ?4, 0)
         ON CONFLICT (owner_user_id, conversation_id)
         DO UPDATE SET min_seq = excluded.min_seq, max_seq = 0, notification_max_seq = NULL",
        params![user_id, conversation_id(group_id), group_id, min_seq],
    )?;
    Ok(())
}

/// The last seq allocated in the group's notification conversation `n_<groupID>` (0 before the
/// first stored notification).
pub fn group_notification_max_seq(c: &Connection, group_id: &str) -> rusqlite::Result<i64> {
    last_seq(c, &format!("n_{group_id}"))
}

/// Closes a former member's windows at the group's current max seqs: the group chat's and its
/// notification conversation's (`n_<groupID>`, kept on the same row). A group without any
/// message yet has nothing to show, and `max_seq` 0 would mean "unbounded", so the row is
/// dropped then (which also ends access to `n_<groupID>`).
pub fn freeze_conversation(c: &Connection, user_id: &str, group_id: &str) -> rusqlite::Result<()> {
    let max = group_max_seq(c, group_id)?;
    if max > 0 {
        let notification_max = group_notification_max_seq(c, group_id)?;
        c.execute(
            "UPDATE conversations SET max_seq = ?3, notification_max_seq = ?4
             WHERE owner_user_id = ?1 AND conversation_id = ?2",
            params![user_id, conversation_id(group_id), max, notification_max],
        )?;
    } else {
        c.execute(
            "DELETE FROM conversations WHERE owner_user_id = ?1 AND conversation_id = ?2",
            params![user_id, conversation_id(group_id)],
        )?;
    }
    Ok(())
}

/// Marks the group chat of each listed member as carrying an unseen announcement.
pub fn set_group_at_type(
    c: &Connection,
    group_id: &str,
    user_ids: &[String],
    at_type: i32,
) -> rusqlite::Result<()> {
    for u in user_ids {
        c.execute(
            "UPDATE conversations SET group_at_type = ?3 WHERE owner_user_id = ?1 AND conversation_id = ?2",
            params![u, conversation_id(group_id), at_type],
        )?;
    }
    Ok(())
}

/// A stored join application (the embedded user and group are filled by the caller).
#[derive(Debug, Clone, Default)]
pub struct RequestRow {
    pub group_id: String,
    pub user_id: String,
    pub handle_result: i32,
    pub req_msg: String,
    pub handle_msg: String,
    pub req_time: i64,
    pub handle_user_id: String,
    pub handle_time: i64,
    pub ex: String,
    pub join_source: i32,
    pub inviter_user_id: String,
}

const REQUEST_SELECT: &str = "SELECT group_id, user_id, handle_result, req_msg, handle_msg,
    req_time, handle_user_id, handle_time, ex, join_source, inviter_user_id FROM group_requests";

fn request_from_row(r: &Row<'_>) -> rusqlite::Result<RequestRow> {
    Ok(RequestRow {
        group_id: r.get(0)?,
        user_id: r.get(1)?,
        handle_result: r.get(2)?,
        req_msg: r.get(3)?,
        handle_msg: r.get(4)?,
        req_time: r.get(5)?,
        handle_user_id: r.get(6)?,
        handle_time: r.get(7)?,
        ex: r.get(8)?,
        join_source: r.get(9)?,
        inviter_user_id: r.get(10)?,
    })
}

/// Stores a pending application; a new one replaces an older application of the same user.
pub fn upsert_request(c: &Connection, q: &RequestRow) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO group_requests (group_id, user_id, handle_result, req_msg,
            handle_msg, req_time, handle_user_id, handle_time, ex, join_source, inviter_user_id)
         VALUES (?1, ?2, 0, ?3, '', ?4, '', 0, ?5, ?6, ?7)",
        params![
            q.group_id,
            q.user_id,
            q.req_msg,
            q.req_time,
            q.ex,
            q.join_source,
            q.inviter_user_id
        ],
    )?;
    Ok(())
}

pub fn request(
    c: &Connection,
    group_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<RequestRow>> {
    c.query_row(
        &format!("{REQUEST_SELECT} WHERE group_id = ?1 AND user_id = ?2"),
        [group_id, user_id],
        request_from_row,
    )
    .optional()
}

pub fn handle_request(c: &Connection, q: &RequestRow) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE group_requests SET handle_result = ?3, handle_msg = ?4, handle_user_id = ?5,
            handle_time = ?6 WHERE group_id = ?1 AND user_id = ?2",
        params![
            q.group_id,
            q.user_id,
            q.handle_result,
            q.handle_msg,
            q.handle_user_id,
            q.handle_time
        ],
    )?;
    Ok(())
}

/// Applications to the groups `manager_id` owns or administers, newest first.
pub fn requests_to_manager(c: &Connection, manager_id: &str) -> rusqlite::Result<Vec<RequestRow>> {
    let mut stmt = c.prepare(&format!(
        "{REQUEST_SELECT} WHERE group_id IN
            (SELECT group_id FROM group_members WHERE user_id = ?1 AND role_level >= 60)
         ORDER BY req_time DESC, group_id, user_id"
    ))?;
    let rows = stmt.query_map([manager_id], request_from_row)?;
    rows.collect()
}

/// Applications made by `user_id`, newest first.
pub fn requests_by_user(c: &Connection, user_id: &str) -> rusqlite::Result<Vec<RequestRow>> {
    let mut stmt = c.prepare(&format!(
        "{REQUEST_SELECT} WHERE user_id = ?1 ORDER BY req_time DESC, group_id"
    ))?;
    let rows = stmt.query_map([user_id], request_from_row)?;
    rows.collect()
}

/// The wire form of an application, with the applicant's public profile and the group.
pub fn request_to_wire(c: &Connection, q: &RequestRow) -> rusqlite::Result<GroupRequest> {
    let user_info = relation::user(c, &q.user_id)?
        .map(|u| relation::public_user(&u))
        .unwrap_or_else(|| PublicUserInfo {
            user_id: q.user_id.clone(),
            ..Default::default()
        });
    Ok(GroupRequest {
        user_info: Some(user_info),
        group_info: group(c, &q.group_id)?.map(|g| g.info),
        handle_result: q.handle_result,
        req_msg: q.req_msg.clone(),
        handle_msg: q.handle_msg.clone(),
        req_time: q.req_time,
        handle_user_id: q.handle_user_id.clone(),
        handle_time: q.handle_time,
        ex: q.ex.clone(),
        join_source: q.join_source,
        inviter_user_id: q.inviter_user_id.clone(),
    })
}
