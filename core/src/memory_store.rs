//! [`MemoryStore`]: a [`Store`] held in memory, for tests, simulations and as the reference
//! implementation of the store contract.
//!
//! Atomicity is simulated by validating a whole batch against the current state before applying
//! any part of it. State lives behind a `std::sync::Mutex`, which works on native targets and on
//! single-threaded wasm32 alike; no lock is held across an `.await`. Nothing is ever written to
//! disk and no clock is read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::RangeInclusive;
use std::sync::{Mutex, MutexGuard};

use crate::changes::{
    Changes, ChangesError, MessageRewrite, OutboxChange, OutboxEntry, SyncState, VersionKind,
    VersionMarker,
};
use crate::model::{Conversation, ConversationId, Friend, Group, Member, Message, Seq, User};
use crate::store::{Direction, Store, StoreError};
use crate::vec_map::VecMap;

#[derive(Debug, Default)]
struct Inner {
    /// Messages with a seq, by (conversation, seq).
    messages: BTreeMap<(ConversationId, Seq), Message>,
    /// Unsent messages (seq 0), by clientMsgID.
    unsent: BTreeMap<String, Message>,
    /// Where each sent message with a clientMsgID lives.
    by_client_id: HashMap<String, (ConversationId, Seq)>,
    conversations: BTreeMap<ConversationId, Conversation>,
    sync_states: BTreeMap<ConversationId, SyncState>,
    users: BTreeMap<String, User>,
    friends: BTreeMap<String, Friend>,
    groups: BTreeMap<String, Group>,
    members: BTreeMap<(String, String), Member>,
    outbox: BTreeMap<String, OutboxEntry>,
    versions: BTreeMap<(VersionKind, String), VersionMarker>,
}

impl Inner {
    /// Rejects a batch whose sync states mark as known a seq without a message.
    fn check(&self, changes: &Changes) -> Result<(), ChangesError> {
        changes.validate()?;
        let deleted: BTreeSet<&ConversationId> = changes.conversation_deletes.iter().collect();
        let incoming: BTreeSet<(&ConversationId, Seq)> = changes
            .messages
            .iter()
            .filter(|m| m.seq != Seq::ZERO)
            .map(|m| (&m.conversation_id, m.seq))
            .collect();
        for (conversation_id, state) in &changes.sync_states {
            let survives = !deleted.contains(conversation_id);
            let old = self
                .sync_states
                .get(conversation_id)
                .filter(|_| survives)
                .map(|s| &s.known);
            for range in state.known.ranges() {
                // Seqs already known had their messages checked when they became known.
                let new_parts = match old {
                    Some(old) => old.gaps_between(range.start, range.end),
                    None => vec![*range],
                };
                for seq in new_parts.iter().flat_map(|r| r.iter()) {
                    let stored =
                        survives && self.messages.contains_key(&(conversation_id.clone(), seq));
                    if !stored && !incoming.contains(&(conversation_id, seq)) {
                        return Err(ChangesError::KnownWithoutMessage {
                            conversation_id: conversation_id.clone(),
                            seq,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn apply(&mut self, changes: &Changes) {
        // Clears.
        if changes.clear_friends {
            self.friends.clear();
        }
        if changes.clear_groups {
            self.groups.clear();
            self.members.clear();
        }
        for group_id in &changes.clear_members_of {
            self.members.retain(|(g, _), _| g != group_id);
        }
        // Deletes.
        for conversation_id in &changes.conversation_deletes {
            self.delete_conversation(conversation_id);
        }
        for user_id in &changes.friend_deletes {
            self.friends.remove(user_id);
        }
        for group_id in &changes.group_deletes {
            self.groups.remove(group_id);
            self.members.retain(|(g, _), _| g != group_id);
        }
        for key in &changes.member_deletes {
            self.members
                .remove(&(key.group_id.clone(), key.user_id.clone()));
        }
        // Upserts.
        for message in &changes.messages {
            self.upsert_message(message.clone());
        }
        for conversation in &changes.conversations {
            self.conversations
                .insert(conversation.id.clone(), conversation.clone());
        }
        for user in &changes.users {
            self.users.insert(user.user_id.clone(), user.clone());
        }
        for friend in &changes.friends {
            self.friends
                .insert(friend.user.user_id.clone(), friend.clone());
        }
        for group in &changes.groups {
            self.groups.insert(group.group_id.clone(), group.clone());
        }
        for member in &changes.members {
            self.members.insert(
                (member.group_id.clone(), member.user_id.clone()),
                member.clone(),
            );
        }
        for change in &changes.outbox {
            match change {
                OutboxChange::Put(entry) => {
                    self.outbox
                        .insert(entry.client_msg_id.clone(), entry.clone());
                }
                OutboxChange::Remove { client_msg_id } => {
                    self.outbox.remove(client_msg_id);
                }
            }
        }
        for update in &changes.versions {
            let key = (update.kind, update.key.clone());
            match &update.marker {
                Some(marker) => {
                    self.versions.insert(key, marker.clone());
                }
                None => {
                    self.versions.remove(&key);
                }
            }
        }
        for rewrite in &changes.message_rewrites {
            self.rewrite_messages(rewrite);
        }
        // Sync states last: they describe the messages applied above.
        for (conversation_id, state) in &changes.sync_states {
            self.sync_states
                .insert(conversation_id.clone(), state.clone());
        }
    }

    fn rewrite_messages(&mut self, rewrite: &MessageRewrite) {
        let conversation_id = rewrite.conversation_id();
        let stored = self
            .messages
            .range_mut((conversation_id.clone(), Seq::ZERO)..=(conversation_id.clone(), Seq::MAX))
            .map(|(_, m)| m);
        for message in stored.chain(self.unsent.values_mut()) {
            if rewrite.matches(message) {
                rewrite.apply(message);
            }
        }
        if let Some(latest) = self
            .conversations
            .get_mut(conversation_id)
            .and_then(|c| c.latest_message.as_mut())
        {
            if rewrite.matches(latest) {
                rewrite.apply(latest);
            }
        }
    }

    fn delete_conversation(&mut self, conversation_id: &ConversationId) {
        let keys: Vec<(ConversationId, Seq)> = self
            .messages
            .range((conversation_id.clone(), Seq::ZERO)..=(conversation_id.clone(), Seq::MAX))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            if let Some(message) = self.messages.remove(&key) {
                self.by_client_id.remove(&message.client_msg_id);
            }
        }
        self.unsent
            .retain(|_, m| &m.conversation_id != conversation_id);
        self.conversations.remove(conversation_id);
        self.sync_states.remove(conversation_id);
    }

    fn upsert_message(&mut self, message: Message) {
        let client_id = message.client_msg_id.clone();
        if !client_id.is_empty() {
            // The same clientMsgID elsewhere (typically the unsent row of an echo) is replaced.
            self.unsent.remove(&client_id);
            if let Some(old) = self.by_client_id.remove(&client_id) {
                if old != (message.conversation_id.clone(), message.seq) {
                    self.messages.remove(&old);
                }
            }
        }
        if message.seq == Seq::ZERO {
            self.unsent.insert(client_id, message);
            return;
        }
        let key = (message.conversation_id.clone(), message.seq);
        if !client_id.is_empty() {
            self.by_client_id.insert(client_id.clone(), key.clone());
        }
        if let Some(previous) = self.messages.insert(key.clone(), message) {
            // A different message used to hold this seq: its clientMsgID no longer points here.
            if previous.client_msg_id != client_id
                && self.by_client_id.get(&previous.client_msg_id) == Some(&key)
            {
                self.by_client_id.remove(&previous.client_msg_id);
            }
        }
    }
}

/// A [`Store`] in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        // A panic while applying would leave a half-applied batch: report it, do not hide it.
        self.inner
            .lock()
            .map_err(|_| StoreError::backend("memory store poisoned by a panic".into()))
    }

    fn read<T>(&self, f: impl FnOnce(&Inner) -> T) -> Result<T, StoreError> {
        Ok(f(&*self.lock()?))
    }
}

impl Store for MemoryStore {
    async fn save_changes(&self, changes: &Changes) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        inner.check(changes)?;
        inner.apply(changes);
        Ok(())
    }

    async fn load_cursors(&self) -> Result<VecMap<ConversationId, SyncState>, StoreError> {
        self.read(|inner| {
            inner
                .sync_states
                .iter()
                .map(|(id, state)| (id.clone(), state.clone()))
                .collect()
        })
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
        if start > end {
            return Ok(Vec::new());
        }
        self.read(|inner| {
            let range = inner
                .messages
                .range((conversation_id.clone(), start)..=(conversation_id.clone(), end))
                .map(|(_, m)| m.clone());
            match direction {
                Direction::Ascending => range.take(limit).collect(),
                Direction::Descending => range.rev().take(limit).collect(),
            }
        })
    }

    async fn message_by_client_id(
        &self,
        client_msg_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        self.read(|inner| {
            inner.unsent.get(client_msg_id).cloned().or_else(|| {
                inner
                    .by_client_id
                    .get(client_msg_id)
                    .and_then(|key| inner.messages.get(key))
                    .cloned()
            })
        })
    }

    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        self.read(|inner| inner.conversations.values().cloned().collect())
    }

    async fn conversation(
        &self,
        conversation_id: &ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        self.read(|inner| inner.conversations.get(conversation_id).cloned())
    }

    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        self.read(|inner| inner.users.get(user_id).cloned())
    }

    async fn friends(&self) -> Result<Vec<Friend>, StoreError> {
        self.read(|inner| inner.friends.values().cloned().collect())
    }

    async fn group(&self, group_id: &str) -> Result<Option<Group>, StoreError> {
        self.read(|inner| inner.groups.get(group_id).cloned())
    }

    async fn groups(&self) -> Result<Vec<Group>, StoreError> {
        self.read(|inner| inner.groups.values().cloned().collect())
    }

    async fn members(&self, group_id: &str) -> Result<Vec<Member>, StoreError> {
        self.read(|inner| {
            inner
                .members
                .iter()
                .filter(|((g, _), _)| g == group_id)
                .map(|(_, m)| m.clone())
                .collect()
        })
    }

    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.read(|inner| {
            let mut entries: Vec<OutboxEntry> = inner.outbox.values().cloned().collect();
            entries.sort_by(|a, b| {
                (a.created_at, &a.client_msg_id).cmp(&(b.created_at, &b.client_msg_id))
            });
            entries
        })
    }

    async fn version(
        &self,
        kind: VersionKind,
        key: &str,
    ) -> Result<Option<VersionMarker>, StoreError> {
        self.read(|inner| inner.versions.get(&(kind, key.to_owned())).cloned())
    }
}
