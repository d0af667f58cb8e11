//! The [`Store`] trait: where the engine persists what it syncs.
//!
//! A store saves whole [`Changes`] batches atomically — either every part of a batch is durable or
//! none is — and answers the queries the engine and the app need. Methods are async without
//! boxing: they return `impl Future + MaybeSend`, which is `Send` on native targets (multi-threaded
//! drivers) and carries no bound on wasm32, where IndexedDB handles are not `Send`.
//!
//! Contract every implementation keeps (checked by [`store_conformance_tests!`]):
//! * `save_changes` first runs [`Changes::validate`], then checks that every seq a sync state
//!   newly marks as known has a message once the batch is applied; a rejected batch changes
//!   nothing and returns [`StoreErrorKind::Rejected`];
//! * saving the same batch twice leaves the same state as saving it once;
//! * parts are applied in the order documented on [`crate::changes`].
//!
//! This module defines interfaces only; it performs no I/O itself.

pub mod conformance;

use std::future::Future;
use std::ops::RangeInclusive;

use thiserror::Error;

use crate::changes::{Changes, ChangesError, OutboxEntry, SyncState, VersionKind, VersionMarker};
use crate::model::{Conversation, ConversationId, Friend, Group, Member, Message, Seq, User};
use crate::platform::{MaybeSend, MaybeSync};
use crate::vec_map::VecMap;

/// A store operation that failed: one pointer, so results carrying it stay small.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(transparent)]
pub struct StoreError(Box<StoreErrorKind>);

chorus_proto::boxed_error_kind!(StoreError, StoreErrorKind);

/// What kind of failure a [`StoreError`] is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The batch was refused and nothing of it was applied.
    #[error("batch rejected: {0}")]
    Rejected(ChangesError),
    /// The storage backend failed (e.g. an IndexedDB transaction aborted).
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// Stored data could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// [`StoreErrorKind::Backend`].
    pub fn backend(detail: String) -> StoreError {
        StoreErrorKind::Backend(detail).into()
    }

    /// [`StoreErrorKind::Corrupt`].
    pub fn corrupt(detail: String) -> StoreError {
        StoreErrorKind::Corrupt(detail).into()
    }
}

impl From<ChangesError> for StoreError {
    fn from(err: ChangesError) -> Self {
        StoreErrorKind::Rejected(err).into()
    }
}

/// Which end of a seq range a message query starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the low end, ascending.
    Ascending,
    /// From the high end, descending (history paging).
    Descending,
}

/// Persistence for one logged-in user's data.
pub trait Store: MaybeSend + MaybeSync {
    /// Persists a batch atomically (see the module docs for the contract).
    fn save_changes(
        &self,
        changes: &Changes,
    ) -> impl Future<Output = Result<(), StoreError>> + MaybeSend;

    /// Every conversation's sync state.
    fn load_cursors(
        &self,
    ) -> impl Future<Output = Result<VecMap<ConversationId, SyncState>, StoreError>> + MaybeSend;

    /// Up to `limit` messages of a conversation with seqs in `seqs`, starting from the low end
    /// (returned ascending) or the high end (returned descending). Unsent messages (seq 0) are
    /// never included; find them through [`Store::outbox`] and [`Store::message_by_client_id`].
    fn messages(
        &self,
        conversation_id: &ConversationId,
        seqs: RangeInclusive<Seq>,
        limit: usize,
        direction: Direction,
    ) -> impl Future<Output = Result<Vec<Message>, StoreError>> + MaybeSend;

    /// The message with this clientMsgID, sent or not.
    fn message_by_client_id(
        &self,
        client_msg_id: &str,
    ) -> impl Future<Output = Result<Option<Message>, StoreError>> + MaybeSend;

    /// Every conversation, in id order.
    fn conversations(
        &self,
    ) -> impl Future<Output = Result<Vec<Conversation>, StoreError>> + MaybeSend;

    /// One conversation.
    fn conversation(
        &self,
        conversation_id: &ConversationId,
    ) -> impl Future<Output = Result<Option<Conversation>, StoreError>> + MaybeSend;

    /// One user.
    fn user(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + MaybeSend;

    /// Every friend, in friend user id order.
    fn friends(&self) -> impl Future<Output = Result<Vec<Friend>, StoreError>> + MaybeSend;

    /// One group.
    fn group(
        &self,
        group_id: &str,
    ) -> impl Future<Output = Result<Option<Group>, StoreError>> + MaybeSend;

    /// Every group, in group id order.
    fn groups(&self) -> impl Future<Output = Result<Vec<Group>, StoreError>> + MaybeSend;

    /// The members of a group, in user id order.
    fn members(
        &self,
        group_id: &str,
    ) -> impl Future<Output = Result<Vec<Member>, StoreError>> + MaybeSend;

    /// The outbox, oldest first (by creation time, then clientMsgID).
    fn outbox(&self) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + MaybeSend;

    /// The version marker of an entity list.
    fn version(
        &self,
        kind: VersionKind,
        key: &str,
    ) -> impl Future<Output = Result<Option<VersionMarker>, StoreError>> + MaybeSend;
}
