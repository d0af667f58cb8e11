//! The IndexedDB calls, made by the hand-written module `idb.js` next to this file.
//!
//! The boundary is coarse and speaks JSON text: a database is opened with the schema as JSON, a
//! transaction runs batches of requests ([`Ops`]) whose results come back as one JSON text, and
//! the module shapes records (raw content as a `Uint8Array`, options as a `Map`) on the way in
//! and turns them back into JSON on the way out. Every failure arrives as text.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use chorus_core::store::StoreError;
use chorus_proto::msgjson::Json;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::schema::{Key, MIGRATIONS, SCHEMA_VERSION};
use crate::error::thrown_text;

#[wasm_bindgen(module = "/src/store/idb.js")]
extern "C" {
    /// `IDBDatabase`.
    pub type Database;
    /// `IDBTransaction`.
    pub type Transaction;

    #[wasm_bindgen(js_name = open)]
    fn js_open(name: &str, version: u32, schema: &str) -> Promise;
    #[wasm_bindgen(js_name = remove)]
    fn js_remove(name: &str) -> Promise;
    #[wasm_bindgen(js_name = storeNames)]
    fn js_store_names(db: &Database) -> String;
    #[wasm_bindgen(js_name = close)]
    fn js_close(db: &Database);
    #[wasm_bindgen(catch, js_name = begin)]
    fn js_begin(db: &Database, stores: &str, write: bool) -> Result<Transaction, JsValue>;
    #[wasm_bindgen(js_name = end)]
    fn js_end(tx: &Transaction, abort: bool) -> Promise;
    #[wasm_bindgen(js_name = run)]
    fn js_run(tx: &Transaction, ops: &str) -> Promise;
}

/// An IndexedDB failure while doing `what`.
pub fn backend(what: &'static str) -> impl Fn(String) -> StoreError {
    move |err| StoreError::backend(format!("IndexedDB failed while {what}: {err}"))
}

/// A key path: a path, an array of paths, or `null` for out-of-line keys.
fn key_path(key: Key) -> Json {
    match key {
        Key::OutOfLine => Json::Null,
        Key::Path(path) => Json::Str(path.into()),
        Key::Paths(paths) => Json::List(paths.iter().map(|&p| Json::Str(p.into())).collect()),
    }
}

/// The schema of every migration up to `version` as the module's upgrade reads it:
/// `{stores: [[name, keyPath]], indexes: [[store, name, keyPath, unique]]}`, each declared once.
fn schema(version: u32) -> String {
    let mut stores = Vec::new();
    let mut indexes = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| m.version <= version) {
        for def in migration.stores {
            let name = Json::Str(def.name.into());
            if !stores
                .iter()
                .any(|s| matches!(s, Json::List(l) if l[0] == name))
            {
                stores.push(Json::List(vec![name, key_path(def.key)]));
            }
        }
        for index in migration.indexes {
            indexes.push(Json::List(vec![
                Json::Str(index.store.into()),
                Json::Str(index.name.into()),
                key_path(index.key),
                Json::Bool(index.unique),
            ]));
        }
    }
    Json::Obj(vec![
        ("stores".into(), Json::List(stores)),
        ("indexes".into(), Json::List(indexes)),
    ])
    .to_text()
}

/// Opens the database `name` at [`SCHEMA_VERSION`], creating or upgrading it to the schema of
/// the migrations.
pub async fn open(name: &str) -> Result<Database, String> {
    let db = JsFuture::from(js_open(name, SCHEMA_VERSION, &schema(SCHEMA_VERSION)))
        .await
        .map_err(thrown_text)?;
    Ok(db.unchecked_into())
}

/// Deletes the database `name`; completes once every connection to it has closed.
pub async fn delete(name: &str) -> Result<(), String> {
    JsFuture::from(js_remove(name))
        .await
        .map(drop)
        .map_err(thrown_text)
}

impl Database {
    /// The object stores that exist, sorted (IndexedDB lists them in order).
    pub fn store_names(&self) -> Vec<String> {
        match Json::parse(&js_store_names(self)) {
            Ok(Json::List(names)) => names
                .into_iter()
                .filter_map(|name| match name {
                    Json::Str(name) => Some(name),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Closes the connection; transactions already started still complete.
    pub fn close(&self) {
        js_close(self);
    }

    /// A transaction over the object stores `names`, read-write when `write`.
    pub fn transaction(&self, names: &[&str], write: bool) -> Result<Transaction, String> {
        // The names separated by commas, as `names.join(",")` writes them.
        let mut stores = String::new();
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                stores.push(',');
            }
            stores.push_str(name);
        }
        js_begin(self, &stores, write).map_err(thrown_text)
    }
}

impl Transaction {
    /// Issues `ops` at once, in order; see [`Batch`].
    pub fn run(&self, ops: Ops, what: &'static str) -> Batch {
        Batch {
            settled: Ok(JsFuture::from(js_run(self, &ops.finish()))),
            what,
        }
    }

    /// Aborts the transaction when `abort` (unless it has finished), then waits until it has
    /// finished: `true` when it committed.
    pub async fn end(&self, abort: bool) -> bool {
        JsFuture::from(js_end(self, abort))
            .await
            .is_ok_and(|committed| committed.as_bool() == Some(true))
    }
}

/// Requests for one [`Transaction::run`], written as the JSON text the module reads:
/// `[op, store, query, arg, shape]` each (see `run` in `idb.js`).
#[derive(Debug)]
pub struct Ops(String);

impl Default for Ops {
    fn default() -> Ops {
        Ops(String::from("["))
    }
}

impl Ops {
    /// Adds request `op` on `store` (`name` or `name/index`) with `query` (a key, a range of
    /// [`range`], or `null`), `arg` (JSON text: a record or a count) and `shape`.
    fn push(&mut self, op: &str, store: &str, query: &Json, arg: &str, shape: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        let query = query.to_text();
        for part in [
            "[\"", op, "\",\"", store, "\",", &query, ",", arg, ",\"", shape, "\"]",
        ] {
            self.0.push_str(part);
        }
    }

    /// Reads the record under `key` (`null` when there is none).
    pub fn get(&mut self, store: &str, key: &Json) {
        self.push("get", store, key, "0", "");
    }

    /// Reads the records within `query` in key order, at most `count` when given.
    pub fn all(&mut self, store: &str, query: &Json, count: Option<u32>) {
        let count = count.map_or("null".into(), |n| n.to_string());
        self.push("all", store, query, &count, "");
    }

    /// Reads the keys of the records within `query`, in key order.
    pub fn keys(&mut self, store: &str, query: &Json) {
        self.push("keys", store, query, "null", "");
    }

    /// Counts the records within `query`.
    pub fn count(&mut self, store: &str, query: &Json) {
        self.push("count", store, query, "0", "");
    }

    /// Reads the key of the last record within `query` (`null` when there is none).
    pub fn last(&mut self, store: &str, query: &Json) {
        self.push("last", store, query, "0", "");
    }

    /// Puts the record `value` (JSON text) under `key` (`null` for inline keys); `shape` is
    /// `"m"` for a message record, `"o"` for an outbox entry, else empty.
    pub fn put(&mut self, store: &str, key: &Json, value: &str, shape: &str) {
        self.push("put", store, key, value, shape);
    }

    /// Deletes the record under `query`, or every record in the range `query`.
    pub fn delete(&mut self, store: &str, query: &Json) {
        self.push("del", store, query, "0", "");
    }

    /// Deletes every record of `store`.
    pub fn clear(&mut self, store: &str) {
        self.push("clear", store, &Json::Null, "0", "");
    }

    fn finish(mut self) -> String {
        self.0.push(']');
        self.0
    }
}

/// The keys from `lower` up to `upper`, which is left out when `upper_open`.
pub fn range(lower: Json, upper: Json, upper_open: bool) -> Json {
    Json::Obj(vec![
        ("l".into(), lower),
        ("u".into(), upper),
        ("o".into(), Json::Bool(upper_open)),
    ])
}

/// Requests issued together; awaiting the batch gives their results in the order they were
/// issued, or the first failure as a [`StoreErrorKind::Backend`] naming what the batch was doing.
#[derive(Debug)]
pub struct Batch {
    settled: Result<JsFuture, Option<StoreError>>,
    what: &'static str,
}

impl Batch {
    /// A batch that fails with `err` without issuing anything.
    pub fn failed(err: StoreError) -> Batch {
        Batch {
            settled: Err(Some(err)),
            what: "",
        }
    }
}

impl Future for Batch {
    type Output = Result<Vec<Json>, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let settled = match &mut this.settled {
            Ok(settled) => settled,
            Err(err) => {
                return Poll::Ready(Err(err
                    .take()
                    .unwrap_or_else(|| StoreError::backend("a read was polled again".into()))))
            }
        };
        Pin::new(settled).poll(cx).map(|settled| {
            let text = settled.map_err(|err| backend(this.what)(thrown_text(err)))?;
            match Json::parse(&text.as_string().unwrap_or_default()) {
                Ok(Json::List(results)) => Ok(results),
                _ => Err(StoreError::backend(format!(
                    "IndexedDB failed while {}: its results are not a JSON list",
                    this.what
                ))),
            }
        })
    }
}
