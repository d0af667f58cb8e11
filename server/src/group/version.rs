//! The group side of incremental version sync (spec §5.8), on the shared logs of
//! [`crate::relation::version`]:
//!
//! * `('group_member', groupID)` — entities are userIDs; bumped on every membership change (join,
//!   leave, role, nickname/face/ex, mute) and, with no entity, on group-level changes so that the
//!   tips of those changes carry a fresh version too;
//! * `('join_group', userID)` — entities are groupIDs; an insert when the user joins, a delete
//!   when they leave, an update for every member when the group's own info changes.
//!
//! Every function takes the transaction of the change it records and never commits, so a
//! version is never visible without its data; the returned log is what the change's tips carry.

use rusqlite::Connection;

use crate::relation::version::{self, Change, VersionLog};

use super::db;

/// Members of `group_id` changed in the way each entry says (userID, change).
pub(super) fn members_changed(
    c: &Connection,
    group_id: &str,
    changes: &[(&str, Change)],
) -> rusqlite::Result<VersionLog> {
    version::bump(c, version::GROUP_MEMBER, group_id, changes)
}

/// `user_ids` joined `group_id`: their joined-group lists gain it and the member list gains them.
pub(super) fn joined(
    c: &Connection,
    group_id: &str,
    user_ids: &[String],
) -> rusqlite::Result<VersionLog> {
    for u in user_ids {
        version::bump(c, version::JOIN_GROUP, u, &[(group_id, Change::Insert)])?;
    }
    let changes: Vec<(&str, Change)> = user_ids
        .iter()
        .map(|u| (u.as_str(), Change::Insert))
        .collect();
    members_changed(c, group_id, &changes)
}

/// `user_ids` left `group_id` (kick, quit, removal on dismissal).
pub(super) fn left(
    c: &Connection,
    group_id: &str,
    user_ids: &[String],
) -> rusqlite::Result<VersionLog> {
    for u in user_ids {
        version::bump(c, version::JOIN_GROUP, u, &[(group_id, Change::Delete)])?;
    }
    let changes: Vec<(&str, Change)> = user_ids
        .iter()
        .map(|u| (u.as_str(), Change::Delete))
        .collect();
    members_changed(c, group_id, &changes)
}

/// The group's own info changed (settings, announcement, owner, status): every member's
/// joined-group list holds an updated copy, and the member log advances for the tips.
pub(super) fn group_changed(c: &Connection, group_id: &str) -> rusqlite::Result<VersionLog> {
    for u in db::member_ids(c, group_id)? {
        version::bump(c, version::JOIN_GROUP, &u, &[(group_id, Change::Update)])?;
    }
    members_changed(c, group_id, &[])
}
