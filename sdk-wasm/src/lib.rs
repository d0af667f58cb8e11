//! Chorus in the browser: the OpenIM wire codecs of `chorus-proto` and an IndexedDB store,
//! exposed to JavaScript through `wasm-bindgen`.
//!
//! * [`codec`] — gateway frames as the browser sends and receives them (JSON envelope, gzip).
//! * [`store`] — IndexedDB persistence.
//! * [`error`] — [`SdkError`], the single way errors reach JavaScript.
//!
//! The `#[wasm_bindgen]` functions stay thin: they convert arguments, call Rust code that is also
//! usable from Rust, and convert the result. Nothing here blocks, and nothing runs at load time.

pub mod codec;
pub mod error;
pub mod event;
pub mod js;
pub mod net;
pub mod sdk;
pub mod store;
pub mod tabs;

pub use error::SdkError;
pub use event::SdkEvent;
pub use sdk::{GroupUpdate, HistoryPage, LoginParams, LoginStatus, Sdk};

use wasm_bindgen::prelude::*;

/// The SDK version, from `Cargo.toml`.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
