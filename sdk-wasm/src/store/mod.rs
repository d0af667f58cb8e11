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

use std::ops::RangeInclusive;

use chorus_core::changes::{Changes, OutboxEntry, SyncState, VersionKind, VersionMarker};
use chorus_core::model::{Conversation, ConversationId, Friend, Group, Member, Message, Seq, User};
use chorus_core::store::{Direction, Store, StoreError};
use chorus_core::VecMap;
use chorus_proto::msgjson::{FromJson, Json, ToJson};
use js_sys::Array;
use wasm_bindgen::JsValue;

use crate::error::SdkError;
use idb::{request, Database};
use record::{
    backend, entities_from_json, entity_from_json, entity_json, entity_to_js, marker_from_js,
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
        request(tx.store(META)?.put(&value, &JsValue::from_str(key))).await?;
        if !tx.done().await {
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
            request(tx.store(META)?.get(&JsValue::from_str(key))).await?,
        ))
    }

    /// Removes the value stored under `key` in [`META`], if any.
    pub async fn delete_meta(&self, key: &str) -> Result<(), SdkError> {
        let tx = self.db.transaction(&[META], true)?;
        request(tx.store(META)?.delete(&JsValue::from_str(key))).await?;
        if !tx.done().await {
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

    /// The record under `key` in `store`.
    async fn get_record(
        &self,
        store: &'static str,
        key: JsValue,
    ) -> Result<Option<JsValue>, StoreError> {
        let result = request(self.read(store)?.get(&key))
            .await
            .map_err(backend("reading a value"))?;
        Ok(found(result))
    }

    /// Every record in `store` within `range` (everything when `undefined`), in key order.
    async fn get_records(
        &self,
        store: &'static str,
        range: JsValue,
    ) -> Result<Vec<JsValue>, StoreError> {
        let result = request(self.read(store)?.get_all(&range, None))
            .await
            .map_err(backend("reading values"))?;
        Ok(values(result))
    }

    /// The JSON tree of the entity under `key` in `store` (see [`entity_json`]).
    async fn get_json(
        &self,
        store: &'static str,
        key: JsValue,
        what: &str,
    ) -> Result<Option<Json>, StoreError> {
        match self.get_record(store, key).await? {
            Some(value) => Ok(Some(entity_json(&value, what)?)),
            None => Ok(None),
        }
    }

    /// The committed sync state of one conversation, if any: one record, where
    /// `load_cursors` reads every conversation's.
    pub async fn sync_state(
        &self,
        conversation_id: &ConversationId,
    ) -> Result<Option<SyncState>, StoreError> {
        let key = JsValue::from_str(conversation_id.as_str());
        let found = self.get_record(CURSORS, key).await?;
        found.map(sync_state_from_js).transpose()
    }

    /// The JSON trees of every entity in `store` within `range` (everything when `undefined`),
    /// in key order.
    async fn get_all_json(
        &self,
        store: &'static str,
        range: JsValue,
        what: &str,
    ) -> Result<Vec<Json>, StoreError> {
        let mut trees = Vec::new();
        for value in self.get_records(store, range).await? {
            trees.push(entity_json(&value, what)?);
        }
        Ok(trees)
    }
}

/// Up to `limit` records of `start..=end`, highest seq first.
///
/// IndexedDB reads ranges in ascending order only (a cursor moves one record per request), so
/// this finds the highest stored seq, reads the window of `limit` seqs below it at once, and
/// repeats below the window while gaps left it short.
async fn newest_first(
    store: &idb::Store,
    conversation_id: &ConversationId,
    start: Seq,
    end: Seq,
    limit: u32,
) -> Result<Vec<JsValue>, StoreError> {
    let read = backend("reading messages");
    let mut values = Vec::new();
    let mut high = end;
    while values.len() < limit as usize {
        let range = seq_range(conversation_id, start, high)?;
        let cursor = request(store.open_cursor(&range, "prev"))
            .await
            .map_err(&read)?;
        if cursor.is_null() || cursor.is_undefined() {
            break;
        }
        let key = js_sys::Reflect::get(&cursor, &JsValue::from_str("key")).unwrap_or_default();
        let top = record::MessageKey::from_js(&key)?.seq();
        let wanted = (limit as usize - values.len()) as u64;
        let low = Seq(top.get().saturating_sub(wanted - 1)).max(start);
        let window = request(store.get_all(&seq_range(conversation_id, low, top)?, None))
            .await
            .map_err(&read)?;
        values.extend(self::values(window).into_iter().rev());
        if low <= start {
            break;
        }
        high = low.prev();
    }
    Ok(values)
}

impl Store for IdbStore {
    async fn save_changes(&self, changes: &Changes) -> Result<(), StoreError> {
        save::save_changes(&self.db, changes).await
    }

    async fn load_cursors(&self) -> Result<VecMap<ConversationId, SyncState>, StoreError> {
        let store = self.read(CURSORS)?;
        let all = JsValue::UNDEFINED;
        // Both requests are issued before either is waited for.
        let keys = idb::Pending::new(store.get_all_keys(&all, None));
        let records = idb::Pending::new(store.get_all(&all, None));
        let keys = values(
            keys.map_err(backend("reading sync state keys"))?
                .wait()
                .await
                .map_err(backend("reading sync state keys"))?,
        );
        let records = values(
            records
                .map_err(backend("reading sync states"))?
                .wait()
                .await
                .map_err(backend("reading sync states"))?,
        );
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
        let values = match direction {
            Direction::Ascending => values(
                request(store.get_all(&seq_range(conversation_id, start, end)?, Some(limit)))
                    .await
                    .map_err(backend("reading messages"))?,
            ),
            Direction::Descending => {
                newest_first(&store, conversation_id, start, end, limit).await?
            }
        };
        messages_from_js(values)
    }

    async fn message_by_client_id(
        &self,
        client_msg_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        if client_msg_id.is_empty() {
            return Ok(None);
        }
        let index = self
            .read(MESSAGES)?
            .index(schema::BY_CLIENT_ID)
            .map_err(backend("opening the clientMsgID index"))?;
        let result = request(index.get(&JsValue::from_str(client_msg_id)))
            .await
            .map_err(backend("reading a message by clientMsgID"))?;
        found(result).map(record::message_from_js).transpose()
    }

    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        let trees = self
            .get_all_json(CONVERSATIONS, JsValue::UNDEFINED, "conversation")
            .await?;
        entities_from_json(trees, "conversation")
    }

    async fn conversation(
        &self,
        conversation_id: &ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let key = JsValue::from_str(conversation_id.as_str());
        let tree = self.get_json(CONVERSATIONS, key, "conversation").await?;
        entity_from_json(tree, "conversation")
    }

    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        let tree = self
            .get_json(USERS, JsValue::from_str(user_id), "user")
            .await?;
        entity_from_json(tree, "user")
    }

    async fn friends(&self) -> Result<Vec<Friend>, StoreError> {
        let trees = self
            .get_all_json(FRIENDS, JsValue::UNDEFINED, "friend")
            .await?;
        entities_from_json(trees, "friend")
    }

    async fn group(&self, group_id: &str) -> Result<Option<Group>, StoreError> {
        let tree = self
            .get_json(GROUPS, JsValue::from_str(group_id), "group")
            .await?;
        entity_from_json(tree, "group")
    }

    async fn groups(&self) -> Result<Vec<Group>, StoreError> {
        let trees = self
            .get_all_json(GROUPS, JsValue::UNDEFINED, "group")
            .await?;
        entities_from_json(trees, "group")
    }

    async fn members(&self, group_id: &str) -> Result<Vec<Member>, StoreError> {
        let trees = self
            .get_all_json(MEMBERS, prefix_range(group_id)?, "member")
            .await?;
        entities_from_json(trees, "member")
    }

    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut entries = Vec::new();
        for value in self.get_records(OUTBOX, JsValue::UNDEFINED).await? {
            entries.push(outbox_from_js(value)?);
        }
        chorus_core::sort::sort_by(&mut entries, &|a, b| {
            (a.created_at, &a.client_msg_id).cmp(&(b.created_at, &b.client_msg_id))
        });
        Ok(entries)
    }

    async fn version(
        &self,
        kind: VersionKind,
        key: &str,
    ) -> Result<Option<VersionMarker>, StoreError> {
        let found = self.get_record(VERSIONS, version_key(kind, key)?).await?;
        found.map(marker_from_js).transpose()
    }
}
