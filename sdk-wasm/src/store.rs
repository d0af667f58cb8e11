//! IndexedDB persistence, through rexie.
//!
//! The database is versioned by [`SCHEMA_VERSION`]; each version bump adds its object stores
//! here and never rewrites an older one in place. This module only stores and loads values:
//! it knows nothing about the network or the sync protocol.

use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::SdkError;

/// The schema version passed to `indexedDB.open`.
pub const SCHEMA_VERSION: u32 = 1;

/// Small named values (login user, cursors, settings), stored under explicit string keys.
pub const META: &str = "meta";

/// An open Chorus database.
#[derive(Debug)]
pub struct Db {
    rexie: Rexie,
}

impl Db {
    /// Opens (creating or upgrading as needed) the database called `name`.
    pub async fn open(name: &str) -> Result<Db, SdkError> {
        let rexie = Rexie::builder(name)
            .version(SCHEMA_VERSION)
            .add_object_store(ObjectStore::new(META))
            .build()
            .await?;
        Ok(Db { rexie })
    }

    /// Stores `value` under `key` in [`META`], replacing any previous value, and waits until the
    /// transaction has committed.
    pub async fn put_meta<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), SdkError> {
        let value = serde_wasm_bindgen::to_value(value)?;
        let tx = self
            .rexie
            .transaction(&[META], TransactionMode::ReadWrite)?;
        tx.store(META)?
            .put(&value, Some(&JsValue::from_str(key)))
            .await?;
        if !tx.done().await?.is_committed() {
            return Err(SdkError::Store(format!("writing {META}/{key} was aborted")));
        }
        Ok(())
    }

    /// The value stored under `key` in [`META`], if any.
    pub async fn get_meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SdkError> {
        let tx = self.rexie.transaction(&[META], TransactionMode::ReadOnly)?;
        let found = tx.store(META)?.get(JsValue::from_str(key)).await?;
        tx.done().await?;
        Ok(match found {
            Some(value) => Some(serde_wasm_bindgen::from_value(value)?),
            None => None,
        })
    }

    /// The object stores that exist, sorted (IndexedDB lists them in order).
    pub fn store_names(&self) -> Vec<String> {
        self.rexie.store_names()
    }

    /// Closes the connection; pending transactions still complete.
    pub fn close(self) {
        self.rexie.close();
    }

    /// Deletes the database called `name` with everything in it.
    pub async fn delete(name: &str) -> Result<(), SdkError> {
        Ok(Rexie::delete(name).await?)
    }
}
