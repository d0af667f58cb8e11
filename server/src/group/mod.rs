//! Groups (spec §5.4): creation, settings and announcements, membership (invitations,
//! applications, joins, kicks, quits, transfers, roles, mutes, dismissal), the members' `sg_`
//! conversation windows (§4.4) and the group notifications (§3.6–3.8).
//!
//! Every change is checked and committed in one SQLite transaction; its notification is built
//! from the committed state and delivered afterwards through [`crate::msg::notify`].
//!
//! Rules beyond OpenIM 3.8 (which stores these flags but enforces nothing):
//! * `lookMemberInfo = 1`: an ordinary member reading other members (`get_group_members_info`,
//!   `get_group_member_list`) gets only `groupID`, `userID`, `nickname`, `faceURL` and
//!   `roleLevel`; every other field is zeroed. The owner, admins, app administrators and the
//!   member's own record are exempt. Tips are one message for every member, so the member
//!   records they embed (e.g. `MemberInvitedTips.invitedUserList`) are not redacted.
//!
//! "History visible to new members" (`enableHistoryForNewMembers`, default on) is an extension
//! carried on the wire without touching OpenIM's messages: requests of `create_group` and
//! `set_group_info_ex` accept an extra top-level boolean key `enableHistoryForNewMembers`
//! (absent or `null` = unchanged / default on), which OpenIM servers ignore; `get_groups_info`
//! adds the same key to each returned group object, which OpenIM clients ignore. When it is off,
//! an entrant's window starts after the group's current max seq.
//!
//! Incremental sync (spec §5.8): every change bumps the `group_member` log of the group and the
//! `join_group` logs of the users concerned in its own transaction ([`version`]); tips carry the
//! member log's version, and the incremental calls answer deltas from those logs.
//!
//! Windows: joining opens the member's `sg_` row with `max_seq` 0 and `min_seq` 0 (history on) or
//! current max + 1 (history off). Leaving (kick, quit, dismissal with `deleteMember`) deletes the
//! membership, delivers the notification — stored as a chat tip, so the leaver's window includes
//! their own removal tip — and only then freezes the row at the group's current max seq. The same
//! row freezes the leaver's window on the group's notification conversation `n_<groupID>` (its
//! `notification_max_seq`) at that conversation's current max, so later revocations, deletions
//! and other stored group notifications stay unreadable; re-joining reopens both windows.
//!
//! Where this differs from OpenIM on purpose:
//! * a direct `join_group` into a `needVerification = 2` group stores the `joinSource` the client
//!   sent (3 search, 4 QR code) and an empty `inviterUserID`; OpenIM stores 0 and the joiner;
//! * the applicant of `join_group` is `inviterUserID` (OpenIM's quirk, what the official SDK
//!   sends) but must be the caller unless the caller is an app administrator;
//! * `GroupCreatedTips.memberList` lists every member (OpenIM stops at the operator);
//! * renaming a group sends 1520 `GroupInfoSetNameTips`, other setting changes 1502;
//!
//! This module never writes messages itself and never pushes frames: both go through `msg`.

pub(crate) mod db;
mod handlers;
mod notify;
mod version;

pub use handlers::*;

use chorus_proto::constants::{ErrorCode, RoleLevel};
use chorus_proto::pb::sdkws::GroupMemberFullInfo;
use rusqlite::Connection;

use crate::api::{page, Op};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

use db::GroupRow;

/// roleLevel of the owner.
const OWNER: i32 = RoleLevel::Owner.as_i32();
/// roleLevel of an admin.
const ADMIN: i32 = RoleLevel::Admin.as_i32();
/// roleLevel of an ordinary member.
const ORDINARY: i32 = RoleLevel::Ordinary.as_i32();
/// The role an app administrator acts with: above the owner, whether or not a member.
const APP_ADMIN: i32 = 1000;

/// `appMangerLevel` shown for an app administrator acting in a group they are not a member of.
const APP_ADMIN_LEVEL: i32 = 2;

/// Runs `f` on the store's connection; its business errors pass through unchanged.
async fn db<T, F>(state: &AppState, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> ApiResult<T> + Send + 'static,
{
    state.store.call(move |c| Ok(f(c))).await?
}

/// The group, or 1201.
fn existing_group(c: &Connection, group_id: &str) -> ApiResult<GroupRow> {
    db::group(c, group_id)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::GroupIdNotFound,
            format!("group {group_id} not found"),
        )
    })
}

/// The group if it is not dismissed (1201 / 1204).
fn live_group(c: &Connection, group_id: &str) -> ApiResult<GroupRow> {
    let g = existing_group(c, group_id)?;
    if g.info.status == 2 {
        return Err(ApiError::new(
            ErrorCode::DismissedAlready,
            format!("group {group_id} is dismissed"),
        ));
    }
    Ok(g)
}

/// The caller's role in the group: its member role, [`APP_ADMIN`] for an app administrator,
/// else 1203.
fn op_role(c: &Connection, group_id: &str, op: &Op) -> ApiResult<i32> {
    if op.is_admin {
        return Ok(APP_ADMIN);
    }
    match db::member(c, group_id, &op.user_id)? {
        Some(m) => Ok(m.role_level),
        None => Err(not_in_group(&op.user_id, group_id)),
    }
}

/// Owner, admin or app administrator; an ordinary member gets 1002, a stranger 1203.
fn require_manager(c: &Connection, group_id: &str, op: &Op) -> ApiResult<i32> {
    let role = op_role(c, group_id, op)?;
    if role < ADMIN {
        return Err(ApiError::no_permission(
            "only the group owner or an admin may do this",
        ));
    }
    Ok(role)
}

fn not_in_group(user_id: &str, group_id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotInGroupYet,
        format!("{user_id} is not a member of group {group_id}"),
    )
}

/// The operator as a `GroupMemberFullInfo` for tips (`opUser`): their membership, or for an app
/// administrator outside the group, their profile.
fn op_member(c: &Connection, group_id: &str, user_id: &str) -> ApiResult<GroupMemberFullInfo> {
    if let Some(m) = db::member(c, group_id, user_id)? {
        return Ok(m);
    }
    let u = crate::relation::user(c, user_id)?.unwrap_or_default();
    Ok(GroupMemberFullInfo {
        group_id: group_id.to_owned(),
        user_id: user_id.to_owned(),
        nickname: u.nickname,
        face_url: u.face_url,
        app_manger_level: APP_ADMIN_LEVEL,
        ..Default::default()
    })
}

/// The lower bound of an entrant's window (spec §4.4).
fn entrant_min_seq(c: &Connection, g: &GroupRow) -> ApiResult<i64> {
    Ok(if g.history_for_new_members {
        0
    } else {
        db::group_max_seq(c, &g.info.group_id)? + 1
    })
}

/// `lookMemberInfo = 1`: what an ordinary member may see of other members.
fn redact_members(
    look_member_info: i32,
    viewer_role: i32,
    viewer_id: &str,
    members: &mut [GroupMemberFullInfo],
) {
    if look_member_info != 1 || viewer_role >= ADMIN {
        return;
    }
    for m in members.iter_mut().filter(|m| m.user_id != viewer_id) {
        *m = GroupMemberFullInfo {
            group_id: std::mem::take(&mut m.group_id),
            user_id: std::mem::take(&mut m.user_id),
            nickname: std::mem::take(&mut m.nickname),
            face_url: std::mem::take(&mut m.face_url),
            role_level: m.role_level,
            ..Default::default()
        };
    }
}

/// A fresh decimal groupID.
fn random_group_id() -> String {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    let n = u32::from_be_bytes(b) as u64;
    // Mix in the clock so a failed random source still yields distinct IDs.
    let n =
        (n ^ (crate::now_ms() as u64).wrapping_mul(2_654_435_761)) % 9_000_000_000 + 1_000_000_000;
    n.to_string()
}
