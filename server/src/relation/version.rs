//! Version logs for incremental sync (spec §5.8): one log per `(kind, key)` — e.g. the friend
//! list of a user — with a random 24-hex `versionID` and a counter that grows by one per change
//! batch, plus the latest change of every entity in `version_changes`.
//!
//! Only the latest change of each entity is kept, so a delta is "what changed since version v",
//! never a history; this keeps the table bounded by the size of the list itself. Functions here
//! take a connection (or transaction) and never commit: callers bump inside the transaction that
//! changes the rows, so a version is never visible without its data.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// A user's friend list (key: ownerUserID).
pub const FRIEND: &str = "friend";
/// A user's black list (key: ownerUserID).
pub const BLACK: &str = "black";
/// A group's member list (key: groupID).
pub const GROUP_MEMBER: &str = "group_member";
/// The list of groups a user belongs to (key: userID).
pub const JOIN_GROUP: &str = "join_group";

/// What happened to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Insert = 1,
    Update = 2,
    Delete = 3,
}

impl Change {
    fn from_i64(op: i64) -> Change {
        match op {
            1 => Change::Insert,
            3 => Change::Delete,
            _ => Change::Update,
        }
    }
}

/// The current state of a log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionLog {
    pub version_id: String,
    pub version: u64,
}

fn new_version_id() -> String {
    let mut b = [0u8; 12];
    // A failed draw still yields a usable (if predictable) id; ids only need to differ per log.
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The log of `(kind, key)`, created at version 0 with a fresh id if it does not exist yet (so
/// that a `full` answer already carries a versionID that later deltas continue).
pub fn current(conn: &Connection, kind: &str, key: &str) -> rusqlite::Result<VersionLog> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT version_id, version FROM version_logs WHERE kind = ?1 AND key = ?2",
            params![kind, key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((version_id, version)) = row {
        return Ok(VersionLog {
            version_id,
            version: u64::try_from(version).unwrap_or(0),
        });
    }
    let version_id = new_version_id();
    conn.execute(
        "INSERT INTO version_logs (kind, key, version_id, version) VALUES (?1, ?2, ?3, 0)",
        params![kind, key, version_id],
    )?;
    Ok(VersionLog {
        version_id,
        version: 0,
    })
}

/// Records one change batch: the version grows by one and every entity gets this version and
/// its latest change. Clients apply inserts and updates by upserting (an update of an entity a
/// client never saw inserts it), so only the latest change of an entity needs to be kept.
pub fn bump(
    conn: &Connection,
    kind: &str,
    key: &str,
    changes: &[(&str, Change)],
) -> rusqlite::Result<VersionLog> {
    let mut log = current(conn, kind, key)?;
    log.version += 1;
    let v = i64::try_from(log.version).unwrap_or(i64::MAX);
    conn.execute(
        "UPDATE version_logs SET version = ?3 WHERE kind = ?1 AND key = ?2",
        params![kind, key, v],
    )?;
    for (entity, op) in changes {
        conn.execute(
            "INSERT INTO version_changes (kind, key, version, entity_id, op) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (kind, key, entity_id) DO UPDATE SET version = excluded.version,
               op = excluded.op",
            params![kind, key, v, entity, *op as i64],
        )?;
    }
    Ok(log)
}

/// The entities changed after `version`, oldest first.
pub fn changes_since(
    conn: &Connection,
    kind: &str,
    key: &str,
    version: u64,
) -> rusqlite::Result<Vec<(String, Change)>> {
    let v = i64::try_from(version).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare(
        "SELECT entity_id, op FROM version_changes WHERE kind = ?1 AND key = ?2 AND version > ?3
         ORDER BY version, entity_id",
    )?;
    let rows = stmt.query_map(params![kind, key, v], |r| {
        Ok((r.get::<_, String>(0)?, Change::from_i64(r.get(1)?)))
    })?;
    rows.collect()
}

/// Which kind of answer an incremental request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    /// The client must refetch everything (unknown versionID, version 0 or ahead of the log).
    Full,
    /// The entities changed since the client's version (empty when it is up to date).
    Changes(Vec<(String, Change)>),
}

/// Decides the answer for a client at `(version_id, version)` against `log`.
pub fn delta(
    conn: &Connection,
    kind: &str,
    key: &str,
    log: &VersionLog,
    version_id: &str,
    version: u64,
) -> rusqlite::Result<Delta> {
    if version == 0 || version_id != log.version_id || version > log.version {
        return Ok(Delta::Full);
    }
    Ok(Delta::Changes(changes_since(conn, kind, key, version)?))
}

/// Splits a delta into (deleted, inserted, updated) IDs.
pub fn split(changes: Vec<(String, Change)>) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut delete, mut insert, mut update) = (Vec::new(), Vec::new(), Vec::new());
    for (id, op) in changes {
        match op {
            Change::Delete => delete.push(id),
            Change::Insert => insert.push(id),
            Change::Update => update.push(id),
        }
    }
    (delete, insert, update)
}

/// The body of an incremental list answer (spec §5.8): the log's current version and either
/// `full: true` with empty lists or the entities changed since the client's version.
#[derive(Debug, Serialize)]
pub struct Incremental<T> {
    pub version: u64,
    #[serde(rename = "versionID")]
    pub version_id: String,
    pub full: bool,
    pub delete: Vec<String>,
    pub insert: Vec<T>,
    pub update: Vec<T>,
    #[serde(rename = "sortVersion")]
    pub sort_version: u64,
}

impl<T> Incremental<T> {
    /// An answer at `log` with nothing in it yet.
    pub fn at(log: VersionLog) -> Self {
        Incremental {
            version: log.version,
            version_id: log.version_id,
            full: false,
            delete: Vec::new(),
            insert: Vec::new(),
            update: Vec::new(),
            sort_version: 0,
        }
    }
}

/// The current log of `(kind, key)` and the answer for a client at `(version_id, version)`.
pub fn log_and_delta(
    conn: &Connection,
    kind: &str,
    key: &str,
    version_id: &str,
    version: u64,
) -> rusqlite::Result<(VersionLog, Delta)> {
    let log = current(conn, kind, key)?;
    let d = delta(conn, kind, key, &log, version_id, version)?;
    Ok((log, d))
}

/// The `(equal, list)` of a full-ID answer: `equal` when the client sent a non-zero `idHash` that
/// matches `ids`, and then the list is left out.
pub fn full_ids(client_hash: u64, ids: Vec<String>) -> (bool, Vec<String>) {
    let equal = client_hash != 0 && client_hash == id_hash(&ids);
    (equal, if equal { Vec::new() } else { ids })
}

/// `idHash` of a list of IDs (spec §5.4): the first 8 bytes, big endian, of the MD5 of the JSON
/// array of the IDs; 0 for an empty list.
pub fn id_hash(ids: &[String]) -> u64 {
    use md5::{Digest, Md5};
    if ids.is_empty() {
        return 0;
    }
    let json = serde_json::to_vec(ids).unwrap_or_default();
    let sum = Md5::digest(&json);
    let mut first = [0u8; 8];
    first.copy_from_slice(&sum[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE version_logs (kind TEXT, key TEXT, version_id TEXT, version INTEGER,
               PRIMARY KEY (kind, key));
             CREATE TABLE version_changes (kind TEXT, key TEXT, version INTEGER, entity_id TEXT,
               op INTEGER, PRIMARY KEY (kind, key, entity_id));",
        )
        .unwrap();
        c
    }

    #[test]
    fn bump_and_delta() {
        let c = conn();
        let log0 = current(&c, FRIEND, "u1").unwrap();
        assert_eq!(log0.version, 0);
        assert_eq!(log0.version_id.len(), 24);
        let log1 = bump(&c, FRIEND, "u1", &[("a", Change::Insert)]).unwrap();
        assert_eq!(log1.version, 1);
        assert_eq!(log1.version_id, log0.version_id);
        let log2 = bump(
            &c,
            FRIEND,
            "u1",
            &[("a", Change::Update), ("b", Change::Insert)],
        )
        .unwrap();
        assert_eq!(log2.version, 2);
        let d = delta(&c, FRIEND, "u1", &log2, &log2.version_id, 1).unwrap();
        assert_eq!(
            d,
            Delta::Changes(vec![
                ("a".into(), Change::Update),
                ("b".into(), Change::Insert)
            ])
        );
        assert_eq!(
            delta(&c, FRIEND, "u1", &log2, &log2.version_id, 2).unwrap(),
            Delta::Changes(vec![])
        );
        assert_eq!(
            delta(&c, FRIEND, "u1", &log2, "other", 1).unwrap(),
            Delta::Full
        );
        assert_eq!(
            delta(&c, FRIEND, "u1", &log2, &log2.version_id, 0).unwrap(),
            Delta::Full
        );
        bump(&c, FRIEND, "u1", &[("b", Change::Delete)]).unwrap();
        assert_eq!(
            changes_since(&c, FRIEND, "u1", 2).unwrap(),
            vec![("b".into(), Change::Delete)]
        );
        // Another key is independent.
        assert_eq!(current(&c, FRIEND, "u2").unwrap().version, 0);
    }

    #[test]
    fn id_hash_is_zero_only_for_empty_and_order_sensitive() {
        assert_eq!(id_hash(&[]), 0);
        let a = id_hash(&["a".into(), "b".into()]);
        let b = id_hash(&["b".into(), "a".into()]);
        assert_ne!(a, 0);
        assert_ne!(a, b);
    }
}
