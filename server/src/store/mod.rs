//! SQLite persistence: one embedded database in WAL mode, migrated on open.
//!
//! The store is synchronous (rusqlite) and owned by one connection behind a mutex; async callers
//! go through [`Store::call`], which runs the closure on tokio's blocking pool. Every multi-row
//! change (a message and its seq, a member and its version bump) is one transaction, so a crash
//! never leaves a seq allocated without its message or a cursor ahead of its data.

mod migrations;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

pub use rusqlite;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this server ({supported})")]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("storage task failed: {0}")]
    Task(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating if needed) `DIR/chorus.sqlite3` and applies pending migrations.
    pub fn open_dir(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        let conn = Connection::open(dir.join("chorus.sqlite3"))?;
        Self::from_connection(conn)
    }

    /// An in-memory database, for tests.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(mut conn: Connection) -> Result<Self, StoreError> {
        // WAL keeps readers off the writer's back; synchronous=FULL makes every committed
        // transaction durable before the message is acknowledged (the server promises this).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock poisons it; the connection itself is still
            // consistent (SQLite rolled back the open transaction), so keep serving.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` synchronously (setup code and tests outside a runtime).
    pub fn call_sync<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = migrations::MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    for (version, sql) in migrations::MIGRATIONS {
        if *version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_are_contiguous() {
        for (i, (v, _)) in migrations::MIGRATIONS.iter().enumerate() {
            assert_eq!(*v as usize, i + 1, "migration versions must be 1, 2, 3, …");
        }
        let dir = std::env::temp_dir().join(format!("chorus-store-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open_dir(&dir).unwrap();
        let version: u32 = store
            .call_sync(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))
            .unwrap();
        assert_eq!(version, migrations::MIGRATIONS.len() as u32);
        drop(store);
        // Re-opening applies nothing and keeps data.
        let store = Store::open_dir(&dir).unwrap();
        let tables: i64 = store
            .call_sync(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'messages'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(tables, 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn v2_freezes_the_notification_window_of_earlier_leavers() {
        // A database at version 1 where "gone" left group g after the chat's seq 2 (sent at
        // t=20) while "here" stayed; n_g holds revocation records sent at t=10, 20 and 30.
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(migrations::MIGRATIONS[0].1).unwrap();
        tx.pragma_update(None, "user_version", 1).unwrap();
        tx.commit().unwrap();
        conn.execute_batch(
            "INSERT INTO groups (group_id, owner_user_id, create_time) VALUES ('g', 'here', 1);
             INSERT INTO group_members (group_id, user_id, join_time) VALUES ('g', 'here', 1);
             INSERT INTO conversations (owner_user_id, conversation_id, conversation_type, group_id, max_seq)
             VALUES ('here', 'sg_g', 3, 'g', 0), ('gone', 'sg_g', 3, 'g', 2),
                    ('gone', 'si_gone_here', 1, '', 0);
             INSERT INTO messages (conversation_id, seq, client_msg_id, server_msg_id, send_id, send_time, content_type, msg)
             VALUES ('sg_g', 1, 'c1', 's1', 'here', 10, 101, x''),
                    ('sg_g', 2, 'c2', 's2', 'here', 20, 1504, x''),
                    ('sg_g', 3, 'c3', 's3', 'here', 30, 101, x''),
                    ('n_g', 1, 'n1', 't1', 'here', 10, 2101, x''),
                    ('n_g', 2, 'n2', 't2', 'here', 20, 2101, x''),
                    ('n_g', 3, 'n3', 't3', 'here', 30, 2101, x'');",
        )
        .unwrap();
        let store = Store::from_connection(conn).unwrap();
        let frozen = |owner: &'static str, conv: &'static str| {
            store
                .call_sync(move |c| {
                    Ok(c.query_row(
                        "SELECT notification_max_seq FROM conversations
                         WHERE owner_user_id = ?1 AND conversation_id = ?2",
                        [owner, conv],
                        |r| r.get::<_, Option<i64>>(0),
                    )?)
                })
                .unwrap()
        };
        assert_eq!(frozen("gone", "sg_g"), Some(2), "frozen when they left");
        assert_eq!(frozen("here", "sg_g"), None, "members stay open");
        assert_eq!(frozen("gone", "si_gone_here"), None, "not a group row");
    }

    #[test]
    fn newer_schema_is_refused() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        let err = Store::from_connection(conn).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found: 999, .. }));
    }
}
