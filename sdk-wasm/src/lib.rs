//! Chorus in the browser: core's sync engine on IndexedDB, the browser WebSocket and `fetch`,
//! with a Rust API ([`Sdk`]) and a JavaScript API ([`js`]) named after the official OpenIM web SDK.
//!
//! * [`sdk`] — [`Sdk`]: sessions, leader tab election, reads from the store, server calls.
//! * [`event`] — [`SdkEvent`], what the app is told.
//! * [`store`] — [`IdbStore`], core's `Store` on IndexedDB.
//! * [`net`] — core's driver traits on browser APIs (WebSocket, `fetch`, worker timers).
//! * [`tabs`] — Web Locks and BroadcastChannel.
//! * `browser.js` — the browser objects behind `net` and `tabs`, in hand-written JavaScript.
//! * [`js`] — the `#[wasm_bindgen]` API (the npm package's `official.js` makes the official shapes).
//! * [`codec`] — gateway frames as the browser sends and receives them (JSON envelope, gzip).
//! * [`error`] — [`SdkError`], the single way engine errors reach JavaScript (the package checks
//!   parameters itself, with the same `errCode` 10001).
//! * `heap` — the global allocator.
//!
//! The `#[wasm_bindgen]` functions stay thin: they convert arguments, call Rust code that is also
//! usable from Rust, and convert the result. Nothing here blocks, and nothing runs at load time.

mod cell;
pub mod codec;
pub mod error;
pub mod event;
#[cfg(target_arch = "wasm32")]
mod heap;
#[cfg(feature = "js")]
pub mod js;
mod json;
pub mod net;
pub mod sdk;
pub mod store;
pub mod tabs;

pub use error::SdkError;
pub use event::SdkEvent;
pub use sdk::{GroupUpdate, HistoryPage, LoginParams, LoginStatus, Sdk};
pub use store::IdbStore;

/// The SDK version, from `Cargo.toml`.
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The module's heap allocator (`heap`): power-of-two size classes with a free list each,
/// carved from the end of linear memory, which grows as needed.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: heap::WasmHeap = heap::Heap::new(heap::WasmMemory);
