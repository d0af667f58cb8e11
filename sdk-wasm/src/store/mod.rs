//! IndexedDB persistence: [`IdbStore`], the browser's
//! [`Store`](chorus_core::store::Store).
//!
//! One database holds one user's data; the caller picks its name (e.g. `chorus-<userID>`). Its
//! object stores are listed in [`schema`], which versions them with numbered migrations. Every
//! tab opens its own connection; a connection closes itself when another tab upgrades the
//! database, so the upgrade is never blocked (the closed connection then reports
//! [`StoreErrorKind::Backend`] and the tab reopens). This module stores and loads values only: it
//! knows nothing about the network or the sync protocol.
//!
//! * [`schema`] — object stores, keys, indexes and migrations;
//! * `idb` — the IndexedDB calls, made by the hand-written module `idb.js` behind a narrow
//!   boundary of JSON text;
//! * `record` — values and keys as IndexedDB holds them, as JSON;
//! * `save` — `save_changes`, one batch in one transaction.

mod idb;
mod record;
mod save;
pub mod schema;

use std::future::Future;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::task::{Context, Poll};

use chorus_core::changes::{Changes, OutboxEntry, SyncState, VersionKind, VersionMarker};
use chorus_core::model::{Conversation, ConversationId, Friend, Group, Member, Message, Seq, User};
use chorus_core::store::{Direction, Store, StoreError};
use chorus_core::VecMap;
use chorus_proto::msgjson::{self, FromJson, Json, ToJson};

use crate::error::SdkError;
use idb::{backend, Batch, Database, Ops};
use record::{entities, entity, found, list, prefix_range, seq_range, text_key, version_key};
pub use schema::{
    CONVERSATIONS, CURSORS, FRIENDS, GROUPS, MEMBERS, MESSAGES, META, OUTBOX, SCHEMA_VERSION,
    USERS, VERSIONS,
};

/// An open Chorus database: one user's messages, sync states, entities, outbox and settings.
pub struct IdbStore {
    db: Database,
    name: String,
}

impl std::fmt::Debug for IdbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdbStore")
    }
}

/// A read in flight: one [`Batch`] and how its results become the answer. The requests are
/// issued when the read is made.
struct Read<T> {
    batch: Batch,
    finish: fn(Vec<Json>) -> Result<T, StoreError>,
}

impl<T> Future for Read<T> {
    type Output = Result<T, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut this.batch)
            .poll(cx)
            .map(|found| found.and_then(this.finish))
    }
}

/// The first result of a batch (`null` for none).
fn first(results: Vec<Json>) -> Json {
    results.into_iter().next().unwrap_or(Json::Null)
}

impl IdbStore {
    /// Opens the database called `db_name`, creating it or upgrading it to [`SCHEMA_VERSION`] as
    /// needed (the upgrade keeps every stored value).
    pub async fn open(db_name: &str) -> Result<IdbStore, SdkError> {
        let db = idb::open(db_name).await.map_err(SdkError::store)?;
        Ok(IdbStore {
            db,
            name: db_name.into(),
        })
    }

    /// Deletes the database called `db_name` with everything in it. Open connections of other
    /// tabs close themselves; the deletion completes once they have.
    pub async fn delete(db_name: &str) -> Result<(), SdkError> {
        idb::delete(db_name).await.map_err(SdkError::store)
    }

    /// The database name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The object stores that exist, sorted (IndexedDB lists them in order).
    pub fn store_names(&self) -> Vec<String> {
        self.db.store_names()
    }

    /// Closes the connection; transactions already started still complete.
    pub fn close(self) {
        self.db.close();
    }

    /// Runs `ops` in a transaction of its own over [`META`] and waits until it has committed;
    /// `doing` names the write in errors.
    async fn write_meta(&self, ops: Ops, doing: &str, key: &str) -> Result<(), SdkError> {
        let tx = self
            .db
            .transaction(&[META], true)
            .map_err(SdkError::store)?;
        tx.run(ops, "writing a setting").await?;
        if !tx.end(false).await {
            return Err(SdkError::store(format!("{doing} {META}/{key} was aborted")));
        }
        Ok(())
    }

    /// Stores `value` under `key` in [`META`] in its JSON form (see [`ToJson`]), replacing any
    /// previous value, and waits until the transaction has committed.
    pub async fn put_meta(&self, key: &str, value: &dyn ToJson) -> Result<(), SdkError> {
        let mut ops = Ops::default();
        ops.put(META, &text_key(key), &msgjson::to_text(value), "");
        self.write_meta(ops, "writing", key).await
    }

    /// The value stored under `key` in [`META`], if any, read from its JSON form (see
    /// [`FromJson`]); values stored with serde-wasm-bindgen read as well.
    pub async fn get_meta<T: FromJson>(&self, key: &str) -> Result<Option<T>, SdkError> {
        let found = self.get(META, &text_key(key)).await?;
        let Some(value) = record::found(first(found)) else {
            return Ok(None);
        };
        T::from_json(value)
            .map(Some)
            .map_err(|e| SdkError::convert(format!("{META}/{key}: {e}")))
    }

    /// Removes the value stored under `key` in [`META`], if any.
    pub async fn delete_meta(&self, key: &str) -> Result<(), SdkError> {
        let mut ops = Ops::default();
        ops.delete(META, &text_key(key));
        self.write_meta(ops, "deleting", key).await
    }

    /// Issues `ops` in a read-only transaction over `store`.
    fn read(&self, store: &'static str, ops: Ops, what: &'static str) -> Batch {
        match self.db.transaction(&[store], false) {
            Ok(tx) => tx.run(ops, what),
            Err(err) => Batch::failed(backend("starting a read transaction")(err)),
        }
    }

    /// Reads the record under `key` in `store` (see [`found`]).
    fn get(&self, store: &'static str, key: &Json) -> Batch {
        let mut ops = Ops::default();
        ops.get(store, key);
        self.read(store, ops, "reading a value")
    }

    /// Reads every record in `store` within `query` (everything when `null`), in key order.
    fn get_all(&self, store: &'static str, query: &Json) -> Batch {
        let mut ops = Ops::default();
        ops.all(store, query, None);
        self.read(store, ops, "reading values")
    }

    /// The committed sync state of one conversation, if any: one record, where
    /// `load_cursors` reads every conversation's.
    pub fn sync_state(
        &self,
        conversation_id: &ConversationId,
    ) -> impl Future<Output = Result<Option<SyncState>, StoreError>> {
        Read {
            batch: self.get(CURSORS, &text_key(conversation_id.as_str())),
            finish: |result| {
                found(first(result))
                    .as_ref()
                    .map(record::sync_state)
                    .transpose()
            },
        }
    }
}

/// The entity of a `get` result, if any.
fn one<T: FromJson>(result: Vec<Json>, what: &str) -> Result<Option<T>, StoreError> {
    found(first(result))
        .map(|tree| entity(tree, what))
        .transpose()
}

impl Store for IdbStore {
    async fn save_changes(&self, changes: &Changes) -> Result<(), StoreError> {
        save::save_changes(&self.db, changes).await
    }

    fn load_cursors(
        &self,
    ) -> impl Future<Output = Result<VecMap<ConversationId, SyncState>, StoreError>> {
        let mut ops = Ops::default();
        ops.keys(CURSORS, &Json::Null);
        ops.all(CURSORS, &Json::Null, None);
        Read {
            batch: self.read(CURSORS, ops, "reading sync states"),
            finish: cursors_of,
        }
    }

    /// Descending reads find the highest stored seq, read the window of `limit` seqs below it
    /// at once, and repeat below the window while gaps left it short: IndexedDB reads ranges in
    /// ascending order only (a cursor moves one record per request).
    async fn messages(
        &self,
        conversation_id: &ConversationId,
        seqs: RangeInclusive<Seq>,
        limit: usize,
        direction: Direction,
    ) -> Result<Vec<Message>, StoreError> {
        let (start, end) = seqs.into_inner();
        let start = start.max(Seq(1));
        if start > end || limit == 0 {
            return Ok(Vec::new());
        }
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let tx = self
            .db
            .transaction(&[MESSAGES], false)
            .map_err(backend("starting a read transaction"))?;
        let read = "reading messages";
        let mut found = Vec::new();
        let mut high = end;
        while found.len() < limit as usize {
            let mut low = start;
            let mut ops = Ops::default();
            if direction == Direction::Descending {
                ops.last(MESSAGES, &seq_range(conversation_id, start, high));
                let key = first(tx.run(ops, read).await?);
                if key == Json::Null {
                    break;
                }
                high = record::MessageKey::from_json(&key)?.seq();
                let wanted = (limit as usize - found.len()) as u64;
                low = Seq(high.get().saturating_sub(wanted - 1)).max(start);
                ops = Ops::default();
            }
            let count = (direction == Direction::Ascending).then_some(limit);
            ops.all(MESSAGES, &seq_range(conversation_id, low, high), count);
            let window = list(first(tx.run(ops, read).await?));
            if direction == Direction::Ascending {
                found = window;
                break;
            }
            found.extend(window.into_iter().rev());
            if low <= start {
                break;
            }
            high = low.prev();
        }
        record::messages(found)
    }

    fn message_by_client_id(
        &self,
        client_msg_id: &str,
    ) -> impl Future<Output = Result<Option<Message>, StoreError>> {
        let mut ops = Ops::default();
        // No message has an empty clientMsgID: nothing to read.
        if !client_msg_id.is_empty() {
            ops.get(schema::MESSAGES_BY_CLIENT_ID, &text_key(client_msg_id));
        }
        Read {
            batch: self.read(MESSAGES, ops, "reading a message by clientMsgID"),
            finish: |result| found(first(result)).map(record::message).transpose(),
        }
    }

    fn conversations(&self) -> impl Future<Output = Result<Vec<Conversation>, StoreError>> {
        Read {
            batch: self.get_all(CONVERSATIONS, &Json::Null),
            finish: |found| entities(first(found), "conversation"),
        }
    }

    fn conversation(
        &self,
        conversation_id: &ConversationId,
    ) -> impl Future<Output = Result<Option<Conversation>, StoreError>> {
        Read {
            batch: self.get(CONVERSATIONS, &text_key(conversation_id.as_str())),
            finish: |found| one(found, "conversation"),
        }
    }

    fn user(&self, user_id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> {
        Read {
            batch: self.get(USERS, &text_key(user_id)),
            finish: |found| one(found, "user"),
        }
    }

    fn friends(&self) -> impl Future<Output = Result<Vec<Friend>, StoreError>> {
        Read {
            batch: self.get_all(FRIENDS, &Json::Null),
            finish: |found| entities(first(found), "friend"),
        }
    }

    fn group(&self, group_id: &str) -> impl Future<Output = Result<Option<Group>, StoreError>> {
        Read {
            batch: self.get(GROUPS, &text_key(group_id)),
            finish: |found| one(found, "group"),
        }
    }

    fn groups(&self) -> impl Future<Output = Result<Vec<Group>, StoreError>> {
        Read {
            batch: self.get_all(GROUPS, &Json::Null),
            finish: |found| entities(first(found), "group"),
        }
    }

    fn members(&self, group_id: &str) -> impl Future<Output = Result<Vec<Member>, StoreError>> {
        Read {
            batch: self.get_all(MEMBERS, &prefix_range(group_id)),
            finish: |found| entities(first(found), "member"),
        }
    }

    fn outbox(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> {
        Read {
            batch: self.get_all(OUTBOX, &Json::Null),
            finish: |found| {
                let mut entries = Vec::new();
                for value in list(first(found)) {
                    entries.push(record::outbox(&value)?);
                }
                chorus_core::sort::sort_by(&mut entries, &|a, b| {
                    (a.created_at, &a.client_msg_id).cmp(&(b.created_at, &b.client_msg_id))
                });
                Ok(entries)
            },
        }
    }

    fn version(
        &self,
        kind: VersionKind,
        key: &str,
    ) -> impl Future<Output = Result<Option<VersionMarker>, StoreError>> {
        let batch = match version_key(kind, key) {
            Ok(key) => self.get(VERSIONS, &key),
            Err(err) => Batch::failed(err),
        };
        Read {
            batch,
            finish: |result| {
                found(first(result))
                    .as_ref()
                    .map(record::marker)
                    .transpose()
            },
        }
    }
}

/// The sync states of a `keys` and an `all` result of [`CURSORS`].
fn cursors_of(found: Vec<Json>) -> Result<VecMap<ConversationId, SyncState>, StoreError> {
    let mut found = found.into_iter().map(list);
    let keys = found.next().unwrap_or_default();
    let records = found.next().unwrap_or_default();
    if keys.len() != records.len() {
        return Err(StoreError::backend(
            "sync state keys and values differ in number".into(),
        ));
    }
    let mut cursors = VecMap::new();
    for (key, value) in keys.into_iter().zip(records) {
        let id = crate::json::as_text(&key)
            .and_then(|id| ConversationId::parse(id).ok())
            .ok_or_else(|| {
                StoreError::corrupt(format!(
                    "sync state key {} is not a conversation id",
                    key.to_text()
                ))
            })?;
        cursors.insert(id, record::sync_state(&value)?);
    }
    Ok(cursors)
}
