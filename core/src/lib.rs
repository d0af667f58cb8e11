//! Chorus core: the sans-IO sync engine.
//!
//! No I/O, no clock, no ambient randomness: the engine consumes decoded frames, REST results,
//! commands and `now`, and produces frames, requests, persistence batches and events.
//!
//! * [`model`] — domain types (conversation ids, seqs, messages, conversations, users, friends,
//!   groups, members), converted from the wire types with `TryFrom`.
//! * [`ranges`] — [`SeqRanges`]: the seqs known per conversation, with explicit gaps;
//!   [`assert_ranges!`] for tests.
//! * [`chan`] — one-value and queue channels between the driver and its commanders.
//! * [`changes`] — [`Changes`]: one batch to persist atomically, cursors included.
//! * [`store`] — the async [`Store`] trait, its error type and the conformance suite
//!   ([`store_conformance_tests!`]).
//! * [`memory_store`] — [`MemoryStore`], the in-memory store.
//! * [`conn`] — the gateway connection state machine.
//! * [`entities`] — [`entities::Entities`]: users, friends, groups, members and conversations,
//!   kept current by notifications and incremental version sync.
//! * [`sync`] — [`sync::Sync`]: message sync — seq cursors, connect pulls, gap repair, history.
//! * [`client`] — [`client::Client`]: connection, sync and entities composed into one machine.
//! * [`driver`] — the runtime-agnostic async loop running a client over the I/O traits.
//! * [`platform`] — the only target-specific module: `MaybeSend`/`MaybeSync` and the shared
//!   state of the channels.
//! * [`vec_map`] — [`VecMap`]: the ordered map of the engine's small or batch-filled maps.

pub use chorus_proto as proto;

pub mod chan;
pub mod changes;
pub mod client;
pub mod conn;
pub mod driver;
pub mod entities;
pub mod memory_store;
pub mod model;
pub mod outbox;
pub mod platform;
pub mod ranges;
// Stable sorting through one compiled copy; it lives in proto, whose `pb::Map` sorts too.
pub use chorus_proto::sort;
pub mod store;
pub mod sync;
pub mod vec_map;

pub use changes::{Changes, ChangesError, SyncState};
pub use memory_store::MemoryStore;
pub use model::{ConversationId, Message, ModelError, Seq};
pub use ranges::{SeqRange, SeqRanges};
pub use store::{Direction, Store, StoreError, StoreErrorKind};
pub use vec_map::VecMap;
