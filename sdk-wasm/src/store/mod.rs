//! IndexedDB persistence: [`IdbStore`], the browser's
//! [`Store`](chorus_core::store::Store).
//!
//! One database holds one user's data; the caller picks its name (e.g. `chorus-<userID>`). Its
//! object stores are listed in [`schema`], which versions them with numbered migrations. Every
//! tab opens its own connection; a connection closes itself when another tab upgrades the
//! database, so the upgrade is never blocked (the closed connection then reports
//! [`StoreError::Backend`] and the tab reopens). This module stores and loads values only: it
//! knows nothing about the network or the sync protocol.
//!
//! * [`schema`] — object stores, keys, indexes and migrations;
//! * `idb` — the IndexedDB calls, bound directly;
//! * `record` — values and keys as IndexedDB holds them;
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
use chorus_proto::msgjson::{FromJson, Json, ToJson};
use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::error::SdkError;
use idb::{backend, single, Batch, Database, Pending};
use record::{
    entities_from_json, entity_from_json, entity_json, entity_to_js, marker_from_js,
    messages_from_js, outbox_from_js, prefix_range, seq_range, sync_state_from_js, version_key,
};
pub use schema::{
    CONVERSATIONS, CURSORS, FRIENDS, GROUPS, MEMBERS, MESSAGES, META, OUTBOX, SCHEMA_VERSION,
    USERS, VERSIONS,
};

/// An open Chorus database: one user's messages, sync states, entities, outbox and settings.
pub struct IdbStore {
    db: Database,
}

impl std::fmt::Debug for IdbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdbStore")
    }
}

impl From<idb::Failure> for SdkError {
    fn from(err: idb::Failure) -> Self {
        SdkError::Store(err.text())
    }
}

/// The values of a `getAll` or `getAllKeys` result.
fn values(result: JsValue) -> Vec<JsValue> {
    Array::from(&result).to_vec()
}

/// A `get` result: `None` for `undefined`.
fn found(result: JsValue) -> Option<JsValue> {
    (!result.is_undefined()).then_some(result)
}

/// A read in flight: the requests of one [`Batch`] (or why they could not be issued) and how
/// their results become the answer. The requests are issued when the read is made.
struct Read<T> {
    batch: Result<Batch, Option<StoreError>>,
    finish: fn(Vec<JsValue>) -> Result<T, StoreError>,
}

impl<T> Read<T> {
    fn new(
        batch: Result<Batch, StoreError>,
        finish: fn(Vec<JsValue>) -> Result<T, StoreError>,
    ) -> Read<T> {
        Read {
            batch: batch.map_err(Some),
            finish,
        }
    }
}

impl<T> Future for Read<T> {
    type Output = Result<T, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.batch {
            Ok(batch) => Pin::new(batch)
                .poll(cx)
                .map(|found| found.and_then(this.finish)),
            Err(err) => Poll::Ready(Err(err
                .take()
                .unwrap_or_else(|| StoreError::Backend("a read was polled again".into())))),
        }
    }
}

impl IdbStore {
    /// Opens the database called `db_name`, creating it or upgrading it to [`SCHEMA_VERSION`] as
    /// needed (the upgrade keeps every stored value).
    pub async fn open(db_name: &str) -> Result<IdbStore, SdkError> {
        let db = idb::open(db_name, SCHEMA_VERSION).await?;
        Ok(IdbStore { db })
    }

    /// Deletes the database called `db_name` with everything in it. Open connections of other
    /// tabs close themselves; the deletion completes once they have.
    pub async fn delete(db_name: &str) -> Result<(), SdkError> {
        Ok(idb::delete(db_name).await?)
    }

    /// The database name.
    pub fn name(&self) -> String {
        self.db.name()
    }

    /// The object stores that exist, sorted (IndexedDB lists them in order).
    pub fn store_names(&self) -> Vec<String> {
        self.db.store_names()
    }

    /// Closes the connection; transactions already started still complete.
    pub fn close(self) {
        self.db.close();
    }

    /// Stores `value` under `key` in [`META`] in its JSON form (see [`ToJson`]), replacing any
    /// previous value, and waits until the transaction has committed.
    pub async fn put_meta(&self, key: &str, value: &dyn ToJson) -> Result<(), SdkError> {
        let value =
            entity_to_js(value, "a setting").map_err(|e| SdkError::Convert(e.to_string()))?;
        let tx = self.db.transaction(&[META], true)?;
        Pending::new(tx.store(META)?.put(&value, &JsValue::from_str(key)))?.await?;
        if tx.done().await.is_err() {
            return Err(SdkError::Store(format!("writing {META}/{key} was aborted")));
        }
        Ok(())
    }

    /// The value stored under `key` in [`META`], if any, read from its JSON form (see
    /// [`FromJson`]); values stored with serde-wasm-bindgen read as well.
    pub async fn get_meta<T: FromJson>(&self, key: &str) -> Result<Option<T>, SdkError> {
        let Some(value) = self.meta(key).await? else {
            return Ok(None);
        };
        let convert = |e: &dyn std::fmt::Display| SdkError::Convert(format!("{META}/{key}: {e}"));
        let json = entity_json(&value, "a setting").map_err(|e| convert(&e))?;
        T::from_json(json).map(Some).map_err(|e| convert(&e))
    }

    /// The record under `key` in [`META`], if any.
    async fn meta(&self, key: &str) -> Result<Option<JsValue>, SdkError> {
        let tx = self.db.transaction(&[META], false)?;
        Ok(found(
            Pending::new(tx.store(META)?.get(&JsValue::from_str(key)))?.await?,
        ))
    }

    /// Removes the value stored under `key` in [`META`], if any.
    pub async fn delete_meta(&self, key: &str) -> Result<(), SdkError> {
        let tx = self.db.transaction(&[META], true)?;
        Pending::new(tx.store(META)?.delete(&JsValue::from_str(key)))?.await?;
        if tx.done().await.is_err() {
            return Err(SdkError::Store(format!(
                "deleting {META}/{key} was aborted"
            )));
        }
        Ok(())
    }

    /// A read-only handle on one object store.
    fn read(&self, name: &'static str) -> Result<idb::Store, StoreError> {
        self.db
            .transaction(&[name], false)
            .and_then(|tx| tx.store(name))
            .map_err(backend("starting a read transaction"))
    }

    /// Reads the record under `key` in `store` (`undefined` when there is none).
    fn get(&self, store: &'static str, key: &JsValue) -> Result<Batch, StoreError> {
        Batch::one(self.read(store)?.get(key), "reading a value")
    }

    /// Reads every record in `store` within `range` (everything when `undefined`), in key order,
    /// as one array.
    fn get_all(&self, store: &'static str, range: &JsValue) -> Result<Batch, StoreError> {
        Batch::one(self.read(store)?.get_all(range, None), "reading values")
    }

    /// The committed sync state of one conversation, if any: one record, where
    /// `load_cursors` reads every conversation's.
    pub fn sync_state(
        &self,
        conversation_id: &ConversationId,
    ) -> impl Future<Output = Result<Option<SyncState>, StoreError>> {
        let key = JsValue::from_str(conversation_id.as_str());
        Read::new(self.get(CURSORS, &key), |result| {
            found(single(result)).map(sync_state_from_js).transpose()
        })
    }
}

/// The JSON tree of the entity `value` (`undefined` when there is none; see [`entity_json`]).
fn json_of(value: Vec<JsValue>, what: &str) -> Result<Option<Json>, StoreError> {
    match found(single(value)) {
        Some(value) => Ok(Some(entity_json(&value, what)?)),
        None => Ok(None),
    }
}

/// The JSON trees of the entities of a `getAll` result, in order.
fn jsons_of(result: Vec<JsValue>, what: &str) -> Result<Vec<Json>, StoreError> {
    let mut trees = Vec::new();
    for value in values(single(result)) {
        trees.push(entity_json(&value, what)?);
    }
    Ok(trees)
}

impl Store for IdbStore {
    async fn save_changes(&self, changes: &Changes) -> Result<(), StoreError> {
        save::save_changes(&self.db, changes).await
    }

    fn load_cursors(
        &self,
    ) -> impl Future<Output = Result<VecMap<ConversationId, SyncState>, StoreError>> {
        let read = || {
            let store = self.read(CURSORS)?;
            let all = JsValue::UNDEFINED;
            // Both requests are issued before either is waited for.
            let mut reads = Batch::default();
            reads.issue(store.get_all_keys(&all, None), "reading sync state keys")?;
            reads.issue(store.get_all(&all, None), "reading sync states")?;
            Ok(reads)
        };
        Read::new(read(), cursors_of)
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
        let store = self.read(MESSAGES)?;
        let read = "reading messages";
        let mut found = Vec::new();
        let mut high = end;
        while found.len() < limit as usize {
            let mut low = start;
            if direction == Direction::Descending {
                let range = seq_range(conversation_id, start, high)?;
                let cursor = single(Batch::one(store.open_cursor(&range, "prev"), read)?.await?);
                if cursor.is_null() || cursor.is_undefined() {
                    break;
                }
                let key =
                    js_sys::Reflect::get(&cursor, &JsValue::from_str("key")).unwrap_or_default();
                high = record::MessageKey::from_js(&key)?.seq();
                let wanted = (limit as usize - found.len()) as u64;
                low = Seq(high.get().saturating_sub(wanted - 1)).max(start);
            }
            let range = seq_range(conversation_id, low, high)?;
            let count = (direction == Direction::Ascending).then_some(limit);
            let window = values(single(
                Batch::one(store.get_all(&range, count), read)?.await?,
            ));
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
        messages_from_js(found)
    }

    fn message_by_client_id(
        &self,
        client_msg_id: &str,
    ) -> impl Future<Output = Result<Option<Message>, StoreError>> {
        let read = || {
            let index = self
                .read(MESSAGES)?
                .index(schema::BY_CLIENT_ID)
                .map_err(backend("opening the clientMsgID index"))?;
            Batch::one(
                index.get(&JsValue::from_str(client_msg_id)),
                "reading a message by clientMsgID",
            )
        };
        // No message has an empty clientMsgID: nothing to read.
        let batch = match client_msg_id.is_empty() {
            true => Ok(Batch::default()),
            false => read(),
        };
        Read::new(batch, |result| {
            found(single(result))
                .map(record::message_from_js)
                .transpose()
        })
    }

    fn conversations(&self) -> impl Future<Output = Result<Vec<Conversation>, StoreError>> {
        Read::new(self.get_all(CONVERSATIONS, &JsValue::UNDEFINED), |found| {
            entities_from_json(jsons_of(found, "conversation")?, "conversation")
        })
    }

    fn conversation(
        &self,
        conversation_id: &ConversationId,
    ) -> impl Future<Output = Result<Option<Conversation>, StoreError>> {
        let key = JsValue::from_str(conversation_id.as_str());
        Read::new(self.get(CONVERSATIONS, &key), |found| {
            entity_from_json(json_of(found, "conversation")?, "conversation")
        })
    }

    fn user(&self, user_id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> {
        Read::new(self.get(USERS, &JsValue::from_str(user_id)), |found| {
            entity_from_json(json_of(found, "user")?, "user")
        })
    }

    fn friends(&self) -> impl Future<Output = Result<Vec<Friend>, StoreError>> {
        Read::new(self.get_all(FRIENDS, &JsValue::UNDEFINED), |found| {
            entities_from_json(jsons_of(found, "friend")?, "friend")
        })
    }

    fn group(&self, group_id: &str) -> impl Future<Output = Result<Option<Group>, StoreError>> {
        Read::new(self.get(GROUPS, &JsValue::from_str(group_id)), |found| {
            entity_from_json(json_of(found, "group")?, "group")
        })
    }

    fn groups(&self) -> impl Future<Output = Result<Vec<Group>, StoreError>> {
        Read::new(self.get_all(GROUPS, &JsValue::UNDEFINED), |found| {
            entities_from_json(jsons_of(found, "group")?, "group")
        })
    }

    fn members(&self, group_id: &str) -> impl Future<Output = Result<Vec<Member>, StoreError>> {
        let batch = prefix_range(group_id).and_then(|range| self.get_all(MEMBERS, &range));
        Read::new(batch, |found| {
            entities_from_json(jsons_of(found, "member")?, "member")
        })
    }

    fn outbox(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> {
        Read::new(self.get_all(OUTBOX, &JsValue::UNDEFINED), |found| {
            let mut entries = Vec::new();
            for value in values(single(found)) {
                entries.push(outbox_from_js(value)?);
            }
            chorus_core::sort::sort_by(&mut entries, &|a, b| {
                (a.created_at, &a.client_msg_id).cmp(&(b.created_at, &b.client_msg_id))
            });
            Ok(entries)
        })
    }

    fn version(
        &self,
        kind: VersionKind,
        key: &str,
    ) -> impl Future<Output = Result<Option<VersionMarker>, StoreError>> {
        let batch = version_key(kind, key).and_then(|key| self.get(VERSIONS, &key));
        Read::new(batch, |result| {
            found(single(result)).map(marker_from_js).transpose()
        })
    }
}

/// The sync states of a `getAllKeys` and a `getAll` result of [`CURSORS`].
fn cursors_of(found: Vec<JsValue>) -> Result<VecMap<ConversationId, SyncState>, StoreError> {
    let mut found = found.into_iter().map(values);
    let keys = found.next().unwrap_or_default();
    let records = found.next().unwrap_or_default();
    if keys.len() != records.len() {
        return Err(StoreError::Backend(
            "sync state keys and values differ in number".into(),
        ));
    }
    let mut cursors = VecMap::new();
    for (key, value) in keys.into_iter().zip(records) {
        let id = key
            .as_string()
            .and_then(|id| ConversationId::parse(id).ok())
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "sync state key {} is not a conversation id",
                    crate::js_read::describe(&key)
                ))
            })?;
        cursors.insert(id, sync_state_from_js(value)?);
    }
    Ok(cursors)
}
