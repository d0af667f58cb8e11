//! The IndexedDB calls the store makes, bound directly, and one way of waiting for a request.
//!
//! Every request is issued at once and waited for through one promise that its `success` or
//! `error` event settles (see [`Pending`]); no request prevents its error's default action, so a
//! failed request aborts its transaction. Opening a database applies the schema of
//! [`MIGRATIONS`] in the upgrade: missing object stores and indexes are created, indexes that
//! differ are created again, and stores and indexes no migration declares are deleted. An open
//! connection closes itself when another tab upgrades or deletes the database.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use chorus_core::store::StoreError;
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::schema::{Key, MIGRATIONS};
use crate::js_read::describe;

#[wasm_bindgen]
extern "C" {
    /// `IDBFactory`.
    #[wasm_bindgen(extends = Object)]
    type Factory;
    #[wasm_bindgen(method, catch)]
    fn open(this: &Factory, name: &str, version: u32) -> Result<Request, JsValue>;
    #[wasm_bindgen(method, catch, js_name = deleteDatabase)]
    fn delete_database(this: &Factory, name: &str) -> Result<Request, JsValue>;

    /// `IDBRequest` (and `IDBOpenDBRequest`).
    #[wasm_bindgen(extends = Object)]
    #[derive(Clone)]
    pub type Request;
    #[wasm_bindgen(method, getter)]
    fn result(this: &Request) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn error(this: &Request) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = transaction)]
    fn upgrade_transaction(this: &Request) -> Transaction;
    #[wasm_bindgen(method, setter)]
    fn set_onsuccess(this: &Request, handler: &Function);
    #[wasm_bindgen(method, setter)]
    fn set_onerror(this: &Request, handler: &Function);
    #[wasm_bindgen(method, setter)]
    fn set_onupgradeneeded(this: &Request, handler: &Function);

    /// `IDBDatabase`.
    #[wasm_bindgen(extends = Object)]
    pub type Database;
    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn raw_transaction(this: &Database, names: &Array, mode: &str) -> Result<Transaction, JsValue>;
    /// Closes the connection; transactions already started still complete.
    #[wasm_bindgen(method)]
    pub fn close(this: &Database);
    /// The database name.
    #[wasm_bindgen(method, getter)]
    pub fn name(this: &Database) -> String;
    #[wasm_bindgen(method, getter, js_name = objectStoreNames)]
    fn object_store_names(this: &Database) -> JsValue;
    #[wasm_bindgen(method, catch, js_name = createObjectStore)]
    fn create_object_store(this: &Database, name: &str, options: &Object)
        -> Result<Store, JsValue>;
    #[wasm_bindgen(method, catch, js_name = deleteObjectStore)]
    fn delete_object_store(this: &Database, name: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, setter)]
    fn set_onversionchange(this: &Database, handler: &Function);

    /// `IDBTransaction`.
    #[wasm_bindgen(extends = Object)]
    pub type Transaction;
    #[wasm_bindgen(method, catch, js_name = objectStore)]
    fn raw_object_store(this: &Transaction, name: &str) -> Result<Store, JsValue>;
    #[wasm_bindgen(method, catch, js_name = abort)]
    fn raw_abort(this: &Transaction) -> Result<(), JsValue>;
    #[wasm_bindgen(method, setter)]
    fn set_oncomplete(this: &Transaction, handler: &Function);
    #[wasm_bindgen(method, setter)]
    fn set_onabort(this: &Transaction, handler: &Function);

    /// `IDBObjectStore`, or `IDBIndex` for the reads both have (`get`, `getAll`, `getAllKeys`,
    /// `count`, `openCursor`).
    #[wasm_bindgen(extends = Object)]
    #[derive(Clone)]
    pub type Store;
    /// `get(key)`: the value, `undefined` when there is none.
    #[wasm_bindgen(method, catch)]
    pub fn get(this: &Store, key: &JsValue) -> Result<Request, JsValue>;
    /// `getAll(query, count)`: the values in key order.
    #[wasm_bindgen(method, catch, js_name = getAll)]
    pub fn get_all(this: &Store, query: &JsValue, count: Option<u32>) -> Result<Request, JsValue>;
    /// `getAllKeys(query, count)`: the primary keys in key order.
    #[wasm_bindgen(method, catch, js_name = getAllKeys)]
    pub fn get_all_keys(
        this: &Store,
        query: &JsValue,
        count: Option<u32>,
    ) -> Result<Request, JsValue>;
    /// `count(query)`.
    #[wasm_bindgen(method, catch)]
    pub fn count(this: &Store, query: &JsValue) -> Result<Request, JsValue>;
    /// `openCursor(query, direction)`: the first record's cursor, `null` when there is none.
    #[wasm_bindgen(method, catch, js_name = openCursor)]
    pub fn open_cursor(this: &Store, query: &JsValue, direction: &str) -> Result<Request, JsValue>;
    /// `put(value, key)`; `key` is `undefined` for a store with inline keys.
    #[wasm_bindgen(method, catch)]
    pub fn put(this: &Store, value: &JsValue, key: &JsValue) -> Result<Request, JsValue>;
    /// `delete(query)`: a key or a key range.
    #[wasm_bindgen(method, catch)]
    pub fn delete(this: &Store, query: &JsValue) -> Result<Request, JsValue>;
    /// `clear()`.
    #[wasm_bindgen(method, catch)]
    pub fn clear(this: &Store) -> Result<Request, JsValue>;
    #[wasm_bindgen(method, catch, js_name = index)]
    fn raw_index(this: &Store, name: &str) -> Result<Store, JsValue>;
    #[wasm_bindgen(method, getter, js_name = indexNames)]
    fn index_names(this: &Store) -> JsValue;
    #[wasm_bindgen(method, catch, js_name = createIndex)]
    fn create_index(
        this: &Store,
        name: &str,
        key_path: &JsValue,
        options: &Object,
    ) -> Result<Store, JsValue>;
    #[wasm_bindgen(method, catch, js_name = deleteIndex)]
    fn delete_index(this: &Store, name: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, getter, js_name = keyPath)]
    fn key_path(this: &Store) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn unique(this: &Store) -> bool;
    #[wasm_bindgen(method, getter, js_name = multiEntry)]
    fn multi_entry(this: &Store) -> bool;

    /// `IDBKeyRange`.
    #[wasm_bindgen(extends = Object, js_name = IDBKeyRange)]
    type KeyRange;
    #[wasm_bindgen(static_method_of = KeyRange, js_class = "IDBKeyRange", catch)]
    fn bound(
        lower: &JsValue,
        upper: &JsValue,
        lower_open: bool,
        upper_open: bool,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(static_method_of = KeyRange, js_class = "IDBKeyRange", catch)]
    fn only(key: &JsValue) -> Result<JsValue, JsValue>;
}

/// Why an IndexedDB call failed: what the browser threw or reported, usually a `DOMException`.
#[derive(Debug)]
pub struct Failure(pub JsValue);

impl Failure {
    /// The failure as text: `name: message` for an exception.
    pub fn text(&self) -> String {
        match self.0.dyn_ref::<js_sys::Error>() {
            Some(err) => format!(
                "{}: {}",
                String::from(err.name()),
                String::from(err.message())
            ),
            None => describe(&self.0),
        }
    }
}

/// A result of the bindings above.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// An issued request and the promise its outcome settles; awaiting it gives the request's
/// result, or its error.
pub struct Pending {
    request: Request,
    settled: JsFuture,
}

impl Pending {
    /// Waits for the outcome of `request`, issued just now (or the exception issuing it threw).
    pub fn new(request: std::result::Result<Request, JsValue>) -> Result<Pending> {
        let request = request.map_err(Failure)?;
        let settled = Promise::new(&mut |resolve, reject| {
            request.set_onsuccess(&resolve);
            request.set_onerror(&reject);
        });
        Ok(Pending {
            request,
            settled: JsFuture::from(settled),
        })
    }
}

impl Future for Pending {
    type Output = Result<JsValue>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<JsValue>> {
        let this = self.get_mut();
        Pin::new(&mut this.settled)
            .poll(cx)
            .map(|settled| match settled {
                Ok(_) => Ok(this.request.result()),
                Err(_) => Err(Failure(this.request.error())),
            })
    }
}

/// An IndexedDB failure while doing `what`.
pub fn backend(what: &'static str) -> impl Fn(Failure) -> StoreError {
    move |err| StoreError::Backend(format!("IndexedDB failed while {what}: {}", err.text()))
}

/// Requests issued together and waited for in the order they were issued; awaiting the batch
/// gives their results in that order, or the first failure as a [`StoreError::Backend`] naming
/// what the failed request was doing.
#[derive(Default)]
pub struct Batch {
    pending: Vec<(Pending, &'static str)>,
    results: Vec<JsValue>,
}

impl Batch {
    /// A batch of the one request `request`, which is doing `what`.
    pub fn one(
        request: std::result::Result<Request, JsValue>,
        what: &'static str,
    ) -> std::result::Result<Batch, StoreError> {
        let mut batch = Batch::default();
        batch.issue(request, what)?;
        Ok(batch)
    }

    /// Adds `request`, issued just now and doing `what`, to the batch (the error when issuing it
    /// threw).
    pub fn issue(
        &mut self,
        request: std::result::Result<Request, JsValue>,
        what: &'static str,
    ) -> std::result::Result<(), StoreError> {
        self.pending
            .push((Pending::new(request).map_err(backend(what))?, what));
        Ok(())
    }
}

impl Future for Batch {
    type Output = std::result::Result<Vec<JsValue>, StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while let Some((pending, what)) = this.pending.get_mut(this.results.len()) {
            match Pin::new(pending).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(result)) => this.results.push(result),
                Poll::Ready(Err(err)) => return Poll::Ready(Err(backend(what)(err))),
            }
        }
        Poll::Ready(Ok(std::mem::take(&mut this.results)))
    }
}

/// The result of a one-request batch (`undefined` for none).
pub fn single(results: Vec<JsValue>) -> JsValue {
    results.into_iter().next().unwrap_or_default()
}

/// The `indexedDB` of this window or worker.
fn factory() -> Result<Factory> {
    let factory = Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
        .ok()
        .filter(|factory| factory.is_object())
        .ok_or_else(|| Failure(JsValue::from_str("IndexedDB is not available here")))?;
    Ok(factory.unchecked_into())
}

/// Opens the database `name` at `version`, creating or upgrading it to the schema of the
/// migrations up to `version`.
pub async fn open(name: &str, version: u32) -> Result<Database> {
    let opening = factory()?.open(name, version);
    let upgrade = opening.as_ref().ok().map(|request| {
        let opened = request.clone();
        let upgrade = Closure::<dyn FnMut()>::new(move || {
            let tx = opened.upgrade_transaction();
            if apply_schema(&opened.result().unchecked_into(), &tx, version).is_err() {
                // The open request then fails with the abort.
                let _ = tx.raw_abort();
            }
        });
        request.set_onupgradeneeded(upgrade.as_ref().unchecked_ref());
        upgrade
    });
    let db: Database = Pending::new(opening)?.await?.unchecked_into();
    drop(upgrade);
    // `versionchange` reaches an open connection when another tab upgrades or deletes the
    // database: closing lets that go ahead.
    let close: Function = Reflect::get(&db, &JsValue::from_str("close"))
        .map_err(Failure)?
        .unchecked_into();
    db.set_onversionchange(&close.bind0(&db));
    Ok(db)
}

/// Deletes the database `name`; completes once every connection to it has closed.
pub async fn delete(name: &str) -> Result<()> {
    Pending::new(factory()?.delete_database(name))?
        .await
        .map(drop)
}

/// The strings of a `DOMStringList`, in order.
fn strings(list: &JsValue) -> Vec<String> {
    let mut strings = Vec::new();
    for name in Array::from(list).iter() {
        if let Some(name) = name.as_string() {
            strings.push(name);
        }
    }
    strings
}

impl Database {
    /// The object stores that exist, sorted (IndexedDB lists them in order).
    pub fn store_names(&self) -> Vec<String> {
        strings(&self.object_store_names())
    }

    /// A transaction over the object stores `names`, read-write when `write`.
    pub fn transaction(&self, names: &[&str], write: bool) -> Result<Transaction> {
        let names: Array = names.iter().map(|&name| JsValue::from_str(name)).collect();
        let mode = if write { "readwrite" } else { "readonly" };
        self.raw_transaction(&names, mode).map_err(Failure)
    }
}

impl Transaction {
    /// The object store `name` of this transaction.
    pub fn store(&self, name: &str) -> Result<Store> {
        self.raw_object_store(name).map_err(Failure)
    }

    /// Settles once the transaction has finished: resolved when it committed, rejected when it
    /// was aborted.
    pub fn done(&self) -> JsFuture {
        let finished = Promise::new(&mut |resolve, reject| {
            self.set_oncomplete(&resolve);
            self.set_onabort(&reject);
        });
        JsFuture::from(finished)
    }

    /// Aborts the transaction: `false` when it has finished already.
    pub fn abort(&self) -> bool {
        self.raw_abort().is_ok()
    }
}

impl Store {
    /// The index `name` of this object store.
    pub fn index(&self, name: &str) -> Result<Store> {
        self.raw_index(name).map_err(Failure)
    }
}

/// The key range `lower..=upper`, either end left out when open.
pub fn bound(
    lower: &JsValue,
    upper: &JsValue,
    lower_open: bool,
    upper_open: bool,
) -> Result<JsValue> {
    KeyRange::bound(lower, upper, lower_open, upper_open).map_err(Failure)
}

/// The key range holding exactly `key`.
pub fn only(key: &JsValue) -> Result<JsValue> {
    KeyRange::only(key).map_err(Failure)
}

/// A key path: a path, or an array of paths; `None` for out-of-line keys.
fn key_path(key: Key) -> Option<JsValue> {
    match key {
        Key::OutOfLine => None,
        Key::Path(path) => Some(JsValue::from_str(path)),
        Key::Paths(paths) => Some(
            paths
                .iter()
                .map(|&path| JsValue::from_str(path))
                .collect::<Array>()
                .into(),
        ),
    }
}

/// An options object with `fields`.
fn options(fields: &[(&str, JsValue)]) -> std::result::Result<Object, JsValue> {
    let options = Object::new();
    for (name, value) in fields {
        Reflect::set(&options, &JsValue::from_str(name), value)?;
    }
    Ok(options)
}

/// Brings the database being upgraded to the schema of the migrations up to `version`.
fn apply_schema(db: &Database, tx: &Transaction, version: u32) -> std::result::Result<(), JsValue> {
    let existing = db.store_names();
    let mut declared: Vec<&str> = Vec::new();
    for def in MIGRATIONS
        .iter()
        .filter(|m| m.version <= version)
        .flat_map(|m| m.stores)
    {
        if declared.contains(&def.name) {
            continue;
        }
        declared.push(def.name);
        let store = if existing.iter().any(|name| name == def.name) {
            tx.raw_object_store(def.name)?
        } else {
            let params = match key_path(def.key) {
                Some(path) => options(&[("keyPath", path)])?,
                None => options(&[])?,
            };
            db.create_object_store(def.name, &params)?
        };
        let mut indexes: Vec<&str> = Vec::new();
        for migration in MIGRATIONS {
            if migration.version > version {
                continue;
            }
            for index in migration.indexes {
                // An index always has a key path; out-of-line is not an index key.
                let Some(path) = key_path(index.key).filter(|_| index.store == def.name) else {
                    continue;
                };
                indexes.push(index.name);
                if let Ok(found) = store.raw_index(index.name) {
                    let same = describe(&found.key_path()) == describe(&path)
                        && found.unique() == index.unique
                        && !found.multi_entry();
                    if same {
                        continue;
                    }
                    store.delete_index(index.name)?;
                }
                let params = options(&[
                    ("unique", JsValue::from_bool(index.unique)),
                    ("multiEntry", JsValue::FALSE),
                ])?;
                store.create_index(index.name, &path, &params)?;
            }
        }
        for name in strings(&store.index_names()) {
            if !indexes.contains(&name.as_str()) {
                store.delete_index(&name)?;
            }
        }
    }
    for name in existing {
        if !declared.contains(&name.as_str()) {
            db.delete_object_store(&name)?;
        }
    }
    Ok(())
}
