//! `save_changes`: one [`Changes`] batch in one readwrite IndexedDB transaction.
//!
//! The transaction spans every object store the batch touches. It first reads what the check
//! needs (the stored sync states and which seqs have messages) and refuses the batch before
//! writing anything; then it applies the parts in the order of [`chorus_core::changes`]: clears,
//! deletes, upserts, message rewrites, sync states. Writes are issued together and awaited per
//! step; IndexedDB runs the requests of one transaction in the order they were issued, so a later
//! read sees every earlier write. If any request fails the browser aborts the whole transaction,
//! so a crash or an error never leaves a cursor ahead of its messages.
//!
//! Messages are unique by clientMsgID. A batch first reads only the unsent rows of its
//! conversations (where echoes find the row they replace); should a clientMsgID of the batch sit
//! in any other row, the unique index refuses the put, the transaction aborts, and the batch is
//! saved again in a new transaction that looks up every clientMsgID. A catch-up batch of new
//! messages thus costs a handful of awaited requests, not one per message.

use chorus_core::changes::{Changes, ChangesError, MessageRewrite, OutboxChange, SyncState};
use chorus_core::model::{Conversation, ConversationId, Message, Seq};
use chorus_core::ranges::SeqRange;
use chorus_core::store::StoreError;
use chorus_core::vec_map::VecMap;
use chorus_proto::msgjson::ToJson;
use js_sys::Array;
use wasm_bindgen::JsValue;

use super::idb::{request, Database, Failure, Pending, Request, Store, Transaction};
use super::record::{
    backend, entity_from_js, entity_to_js, marker_to_js, message_from_js, message_to_js, only,
    outbox_to_js, pair_key, prefix_range, seq_range, sync_state_from_js, sync_state_to_js,
    unsent_range, version_key, MessageKey,
};
use super::schema::{
    BY_CLIENT_ID, BY_SENDER, CONVERSATIONS, CURSORS, FRIENDS, GROUPS, MEMBERS, MESSAGES, OUTBOX,
    USERS, VERSIONS,
};

/// The writes of one step, issued at once and waited for together.
struct Step {
    /// What the step does, for its errors.
    what: &'static str,
    pending: Vec<Pending>,
}

impl Step {
    fn new(what: &'static str) -> Step {
        Step {
            what,
            pending: Vec::new(),
        }
    }

    /// Waits for `request` with the step (the error when issuing it threw).
    fn issue(&mut self, request: Result<Request, JsValue>) -> Result<(), StoreError> {
        self.pending
            .push(Pending::new(request).map_err(backend(self.what))?);
        Ok(())
    }

    /// Puts `value` under `key` (`undefined` for inline keys).
    fn put(&mut self, store: &Store, value: &JsValue, key: &JsValue) -> Result<(), StoreError> {
        self.issue(store.put(value, key))
    }

    /// Puts every record in order, waiting only for the last: IndexedDB completes the requests
    /// of a transaction in order, and a failed one aborts the transaction, which fails the last
    /// as well.
    fn put_all(&mut self, store: &Store, records: &[(JsValue, JsValue)]) -> Result<(), StoreError> {
        let Some(((last_value, last_key), earlier)) = records.split_last() else {
            return Ok(());
        };
        for (value, key) in earlier {
            store
                .put(value, key)
                .map_err(|err| backend(self.what)(Failure(err)))?;
        }
        self.put(store, last_value, last_key)
    }

    /// Deletes the record under `key`, or every record in the key range `key`.
    fn delete(&mut self, store: &Store, key: &JsValue) -> Result<(), StoreError> {
        self.issue(store.delete(key))
    }

    /// Waits for every write of the step, in order.
    async fn run(self) -> Result<(), StoreError> {
        for pending in self.pending {
            pending.wait().await.map_err(backend(self.what))?;
        }
        Ok(())
    }
}

/// The records of the entities `values` (inline keys).
fn entity_records<T: ToJson>(
    values: &[T],
    what: &str,
) -> Result<Vec<(JsValue, JsValue)>, StoreError> {
    let mut records = Vec::with_capacity(values.len());
    for value in values {
        records.push((entity_to_js(value, what)?, JsValue::UNDEFINED));
    }
    Ok(records)
}

/// The object stores of one write transaction.
struct Scope {
    stores: Vec<(&'static str, Store)>,
}

impl Scope {
    fn open(tx: &Transaction, names: &[&'static str]) -> Result<Scope, StoreError> {
        let mut stores = Vec::with_capacity(names.len());
        for &name in names {
            let store = tx.store(name).map_err(backend("opening an object store"))?;
            stores.push((name, store));
        }
        Ok(Scope { stores })
    }

    fn get(&self, name: &str) -> Result<&Store, StoreError> {
        self.find(name).ok_or_else(|| {
            StoreError::Backend(format!(
                "object store {name} is not in the write transaction"
            ))
        })
    }

    fn find(&self, name: &str) -> Option<&Store> {
        self.stores
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, store)| store)
    }
}

/// The object stores `changes` reads or writes.
fn touched(changes: &Changes) -> Vec<&'static str> {
    let c = changes;
    let deletes_conversations = !c.conversation_deletes.is_empty();
    let rewrites = !c.message_rewrites.is_empty();
    let uses = [
        (
            MESSAGES,
            !c.messages.is_empty()
                || deletes_conversations
                || rewrites
                || !c.sync_states.is_empty(),
        ),
        (CURSORS, !c.sync_states.is_empty() || deletes_conversations),
        (
            CONVERSATIONS,
            !c.conversations.is_empty() || deletes_conversations || rewrites,
        ),
        (USERS, !c.users.is_empty()),
        (
            FRIENDS,
            c.clear_friends || !c.friends.is_empty() || !c.friend_deletes.is_empty(),
        ),
        (
            GROUPS,
            c.clear_groups || !c.groups.is_empty() || !c.group_deletes.is_empty(),
        ),
        (
            MEMBERS,
            c.clear_groups
                || !c.group_deletes.is_empty()
                || !c.clear_members_of.is_empty()
                || !c.members.is_empty()
                || !c.member_deletes.is_empty(),
        ),
        (OUTBOX, !c.outbox.is_empty()),
        (VERSIONS, !c.versions.is_empty()),
    ];
    let mut names = Vec::with_capacity(uses.len());
    for (name, used) in uses {
        if used {
            names.push(name);
        }
    }
    names
}

/// How a batch finds where its messages' clientMsgIDs are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// Only the unsent rows of the batch's conversations are read (one request per
    /// conversation). Any other row holding a clientMsgID of the batch makes the unique index
    /// refuse a put, which aborts the transaction; the batch is then saved again with
    /// [`Lookup::EveryClientId`].
    UnsentRows,
    /// Every clientMsgID of the batch is looked up (one request each).
    EveryClientId,
}

/// Checks and applies `changes` in one transaction.
pub async fn save_changes(db: &Database, changes: &Changes) -> Result<(), StoreError> {
    changes.validate()?;
    match attempt(db, changes, Lookup::UnsentRows).await {
        Err(StoreError::Backend(_))
            if changes.messages.iter().any(|m| !m.client_msg_id.is_empty()) =>
        {
            attempt(db, changes, Lookup::EveryClientId).await
        }
        outcome => outcome,
    }
}

/// One transaction applying `changes`.
async fn attempt(db: &Database, changes: &Changes, lookup: Lookup) -> Result<(), StoreError> {
    let names = touched(changes);
    if names.is_empty() {
        // Nothing to store (e.g. only gap events).
        return Ok(());
    }
    let tx = db
        .transaction(&names, true)
        .map_err(backend("starting the write transaction"))?;
    let scope = Scope::open(&tx, &names)?;
    let outcome = match check(&scope, changes).await {
        Ok(Ok(())) => apply(&scope, changes, lookup).await,
        Ok(Err(rejected)) => Err(StoreError::Rejected(rejected)),
        Err(err) => Err(err),
    };
    drop(scope);
    if let Err(err) = outcome {
        // Nothing of a rejected batch was written; after a failed request the browser has
        // aborted already. Either way the abort's own outcome adds nothing to `err`.
        tx.abort().await;
        return Err(match err {
            StoreError::Backend(text) => StoreError::Backend(format!(
                "{text}; the write transaction was aborted and nothing of the batch was saved"
            )),
            other => other,
        });
    }
    if tx.done().await {
        Ok(())
    } else {
        Err(StoreError::Backend(
            "IndexedDB aborted the write transaction; nothing of the batch was saved".into(),
        ))
    }
}

/// The store-dependent check: every seq a sync state newly marks as known has a message once
/// the batch is applied. `Ok(Err(_))` is a rejection.
async fn check(scope: &Scope, changes: &Changes) -> Result<Result<(), ChangesError>, StoreError> {
    if changes.sync_states.is_empty() {
        return Ok(Ok(()));
    }
    let messages = scope.get(MESSAGES)?;
    let cursors = scope.get(CURSORS)?;
    let deleted = &changes.conversation_deletes;

    // The stored states of the surviving conversations, read together.
    let mut surviving: Vec<&ConversationId> = Vec::new();
    for id in changes.sync_states.keys() {
        if !deleted.contains(id) {
            surviving.push(id);
        }
    }
    let read = backend("reading sync states");
    let mut stored = Vec::with_capacity(surviving.len());
    for id in &surviving {
        stored.push(Pending::new(cursors.get(&JsValue::from_str(id.as_str()))).map_err(&read)?);
    }
    let mut old_states: Vec<(&ConversationId, SyncState)> = Vec::new();
    for (id, value) in surviving.into_iter().zip(stored) {
        let value = value.wait().await.map_err(&read)?;
        if !value.is_undefined() {
            old_states.push((id, sync_state_from_js(value)?));
        }
    }

    for (conversation_id, state) in &changes.sync_states {
        let survives = !deleted.contains(conversation_id);
        let old = old_states
            .iter()
            .find(|(id, _)| *id == conversation_id)
            .map(|(_, s)| &s.known);
        // The seqs of the batch's messages in this conversation, ascending.
        let mut arriving: Vec<u64> = Vec::new();
        for m in &changes.messages {
            if m.seq != Seq::ZERO && m.conversation_id == *conversation_id {
                arriving.push(m.seq.get());
            }
        }
        chorus_core::sort::sort_by(&mut arriving, &|a, b| a.cmp(b));
        arriving.dedup();
        for range in state.known.ranges() {
            // Seqs already known had their messages checked when they became known.
            let new_parts = match old {
                Some(old) => old.gaps_between(range.start, range.end),
                None => vec![*range],
            };
            for part in new_parts {
                for (start, end) in runs_without(&arriving, part) {
                    let missing = if survives {
                        first_missing(messages, conversation_id, start, end).await?
                    } else {
                        Some(start)
                    };
                    if let Some(seq) = missing {
                        return Ok(Err(ChangesError::KnownWithoutMessage {
                            conversation_id: conversation_id.clone(),
                            seq,
                        }));
                    }
                }
            }
        }
    }
    Ok(Ok(()))
}

/// The runs of `part` whose seqs are not in `arriving` (ascending, without repeats), ascending.
fn runs_without(arriving: &[u64], part: SeqRange) -> Vec<(Seq, Seq)> {
    let mut runs = Vec::new();
    // The first seq not yet covered; `None` once the end of the part is covered.
    let mut next = Some(part.start);
    let first = arriving.partition_point(|&seq| seq < part.start.get());
    for &seq in &arriving[first..] {
        let seq = Seq(seq);
        if seq > part.end {
            break;
        }
        if let Some(from) = next {
            if seq > from {
                runs.push((from, seq.prev()));
            }
        }
        next = (seq < part.end).then(|| seq.next());
    }
    if let Some(from) = next {
        runs.push((from, part.end));
    }
    runs
}

/// The lowest seq in `start..=end` without a stored message, if any.
async fn first_missing(
    messages: &Store,
    conversation_id: &ConversationId,
    start: Seq,
    end: Seq,
) -> Result<Option<Seq>, StoreError> {
    let range = seq_range(conversation_id, start, end)?;
    let count = request(messages.count(&range))
        .await
        .map_err(backend("counting stored messages"))?;
    if count.as_f64() == Some((end.get() - start.get() + 1) as f64) {
        return Ok(None);
    }
    let keys = request(messages.get_all_keys(&range, None))
        .await
        .map_err(backend("reading message keys"))?;
    let mut expected = start;
    for key in Array::from(&keys).iter() {
        if MessageKey::from_js(&key)?.seq() != expected {
            return Ok(Some(expected));
        }
        expected = expected.next();
    }
    Ok(Some(expected))
}

/// Applies a checked batch.
#[allow(clippy::vec_init_then_push)] // see the entity upserts
async fn apply(scope: &Scope, changes: &Changes, lookup: Lookup) -> Result<(), StoreError> {
    let mut step = Step::new("deleting");

    // Clears.
    if changes.clear_friends {
        step.issue(scope.get(FRIENDS)?.clear())?;
    }
    if changes.clear_groups {
        step.issue(scope.get(GROUPS)?.clear())?;
        step.issue(scope.get(MEMBERS)?.clear())?;
    }
    for group_id in &changes.clear_members_of {
        step.delete(scope.get(MEMBERS)?, &prefix_range(group_id)?)?;
    }
    // Deletes.
    for conversation_id in &changes.conversation_deletes {
        let id = conversation_id.as_str();
        step.delete(scope.get(MESSAGES)?, &prefix_range(id)?)?;
        step.delete(scope.get(CONVERSATIONS)?, &JsValue::from_str(id))?;
        step.delete(scope.get(CURSORS)?, &JsValue::from_str(id))?;
    }
    for user_id in &changes.friend_deletes {
        step.delete(scope.get(FRIENDS)?, &JsValue::from_str(user_id))?;
    }
    for group_id in &changes.group_deletes {
        step.delete(scope.get(GROUPS)?, &JsValue::from_str(group_id))?;
        step.delete(scope.get(MEMBERS)?, &prefix_range(group_id)?)?;
    }
    for key in &changes.member_deletes {
        step.delete(scope.get(MEMBERS)?, &pair_key(&key.group_id, &key.user_id))?;
    }
    step.run().await?;

    // Upserts.
    let mut step = Step::new("writing the batch");
    if !changes.messages.is_empty() {
        write_messages(&mut step, scope.get(MESSAGES)?, &changes.messages, lookup).await?;
    }
    // All converted before any is put. Pushed one by one, so that a failed conversion drops
    // one list rather than each converted part on its own.
    let mut entities = Vec::with_capacity(5);
    entities.push((
        CONVERSATIONS,
        entity_records(&changes.conversations, "a conversation")?,
    ));
    entities.push((USERS, entity_records(&changes.users, "a user")?));
    entities.push((FRIENDS, entity_records(&changes.friends, "a friend")?));
    entities.push((GROUPS, entity_records(&changes.groups, "a group")?));
    entities.push((MEMBERS, entity_records(&changes.members, "a member")?));
    for (name, records) in &entities {
        if !records.is_empty() {
            step.put_all(scope.get(name)?, records)?;
        }
    }
    for change in &changes.outbox {
        let outbox = scope.get(OUTBOX)?;
        match change {
            OutboxChange::Put(entry) => {
                step.put(outbox, &outbox_to_js(entry)?, &JsValue::UNDEFINED)?;
            }
            OutboxChange::Remove { client_msg_id } => {
                step.delete(outbox, &JsValue::from_str(client_msg_id))?;
            }
            _ => {
                return Err(StoreError::Backend(
                    "cannot store an unknown kind of outbox change".into(),
                ))
            }
        }
    }
    for update in &changes.versions {
        let key = version_key(update.kind, &update.key)?;
        let versions = scope.get(VERSIONS)?;
        match &update.marker {
            Some(marker) => step.put(versions, &marker_to_js(marker)?, &key)?,
            None => step.delete(versions, &key)?,
        }
    }
    step.run().await?;

    // Message rewrites, in order, each seeing the writes before it.
    for rewrite in &changes.message_rewrites {
        rewrite_messages(scope, rewrite).await?;
    }

    // Sync states last: they describe the messages written above.
    let mut step = Step::new("writing sync states");
    for (conversation_id, state) in &changes.sync_states {
        step.put(
            scope.get(CURSORS)?,
            &sync_state_to_js(state)?,
            &JsValue::from_str(conversation_id.as_str()),
        )?;
    }
    step.run().await
}

/// Issues the writes of the batch's message upserts into `step`.
///
/// A message replaces whatever has its key, and the row that held its clientMsgID elsewhere
/// (typically the unsent row of an echo) is deleted. Where each clientMsgID of the batch lives is
/// read first, all lookups together, and then followed through the batch in order.
///
/// The writes keep the batch's order; with [`Lookup::UnsentRows`] they replay the batch step by
/// step, so a clientMsgID stored in a row that was not read makes the unique index refuse the
/// put at the very step where the row would have been deleted.
async fn write_messages(
    step: &mut Step,
    store: &Store,
    messages: &[Message],
    lookup: Lookup,
) -> Result<(), StoreError> {
    let found = match lookup {
        Lookup::UnsentRows => unsent_rows(store, messages).await?,
        Lookup::EveryClientId => client_id_rows(store, messages).await?,
    };
    // clientMsgID → the key holding it, and back.
    let mut location: VecMap<String, MessageKey> = VecMap::new();
    let mut holder: VecMap<MessageKey, String> = VecMap::new();
    for (client_id, key) in found {
        location.insert(client_id.clone(), key.clone());
        holder.insert(key, client_id);
    }

    // The writes in batch order: runs of puts, each issued at once, between the deletes.
    let mut run_of_puts = Vec::new();
    for message in messages {
        let key = MessageKey::of(message);
        let client_id = &message.client_msg_id;
        if !client_id.is_empty() {
            if let Some(old) = location.remove(client_id) {
                holder.remove(&old);
                if old != key {
                    step.put_all(store, &run_of_puts)?;
                    run_of_puts.clear();
                    step.delete(store, &old.to_js())?;
                }
            }
        }
        // Whatever held this key is replaced, and its clientMsgID now points nowhere.
        if let Some(previous) = holder.remove(&key) {
            location.remove(&previous);
        }
        run_of_puts.push((message_to_js(message)?, key.to_js()));
        if !client_id.is_empty() {
            location.insert(client_id.clone(), key.clone());
            holder.insert(key, client_id.clone());
        }
    }
    step.put_all(store, &run_of_puts)
}

/// Issues one read per query in `queries` and waits for each: `getAllKeys(query, limit)` of
/// `source`, the keys of each.
async fn keys_of(
    source: &Store,
    queries: &[JsValue],
    limit: Option<u32>,
    what: &'static str,
) -> Result<Vec<Vec<JsValue>>, StoreError> {
    let mut pending = Vec::with_capacity(queries.len());
    for query in queries {
        pending.push(Pending::new(source.get_all_keys(query, limit)).map_err(backend(what))?);
    }
    let mut keys = Vec::with_capacity(pending.len());
    for request in pending {
        let found = request.wait().await.map_err(backend(what))?;
        keys.push(Array::from(&found).to_vec());
    }
    Ok(keys)
}

/// The unsent rows of the conversations of `messages`, with their clientMsgIDs.
async fn unsent_rows(
    store: &Store,
    messages: &[Message],
) -> Result<Vec<(String, MessageKey)>, StoreError> {
    let mut conversations: Vec<&ConversationId> = Vec::new();
    for message in messages {
        if !conversations.contains(&&message.conversation_id) {
            conversations.push(&message.conversation_id);
        }
    }
    let mut ranges = Vec::with_capacity(conversations.len());
    for conversation_id in conversations {
        ranges.push(unsent_range(conversation_id)?);
    }
    let mut rows = Vec::new();
    for keys in keys_of(store, &ranges, None, "reading unsent messages").await? {
        for key in keys {
            if let MessageKey::Unsent(conversation_id, client_id) = MessageKey::from_js(&key)? {
                rows.push((
                    client_id.clone(),
                    MessageKey::Unsent(conversation_id, client_id),
                ));
            }
        }
    }
    Ok(rows)
}

/// The row holding each clientMsgID of `messages`, where one does.
async fn client_id_rows(
    store: &Store,
    messages: &[Message],
) -> Result<Vec<(String, MessageKey)>, StoreError> {
    let index = store
        .index(BY_CLIENT_ID)
        .map_err(backend("opening the clientMsgID index"))?;
    let mut client_ids: Vec<&str> = Vec::new();
    for message in messages {
        let id = message.client_msg_id.as_str();
        if !id.is_empty() && !client_ids.contains(&id) {
            client_ids.push(id);
        }
    }
    let mut ranges = Vec::with_capacity(client_ids.len());
    for id in &client_ids {
        ranges.push(only(&JsValue::from_str(id))?);
    }
    let found = keys_of(&index, &ranges, Some(1), "looking up clientMsgIDs").await?;
    let mut rows = Vec::new();
    for (client_id, keys) in client_ids.into_iter().zip(found) {
        if let Some(key) = keys.first() {
            rows.push((client_id.to_owned(), MessageKey::from_js(key)?));
        }
    }
    Ok(rows)
}

/// Applies one rewrite to the stored messages it matches and to the conversation's latest
/// message.
async fn rewrite_messages(scope: &Scope, rewrite: &MessageRewrite) -> Result<(), StoreError> {
    let store = scope.get(MESSAGES)?;
    let conversation_id = rewrite.conversation_id();
    // Where the candidates are read from, and which of its keys; none for a revocation that
    // names no message.
    let source = match rewrite {
        MessageRewrite::SenderProfile { user_id, .. } => Some((
            store
                .index(BY_SENDER)
                .map_err(backend("opening the sender index"))?,
            only(&pair_key(conversation_id.as_str(), user_id))?,
        )),
        MessageRewrite::Revoke { seq, .. } if *seq != Seq::ZERO => Some((
            store.clone(),
            MessageKey::Sent(conversation_id.clone(), *seq).to_js(),
        )),
        MessageRewrite::Revoke { client_msg_id, .. } if !client_msg_id.is_empty() => Some((
            store
                .index(BY_CLIENT_ID)
                .map_err(backend("opening the clientMsgID index"))?,
            only(&JsValue::from_str(client_msg_id))?,
        )),
        MessageRewrite::Revoke { .. } => None,
        // Any other rewrite: every message of the conversation, filtered by `matches`.
        _ => Some((store.clone(), prefix_range(conversation_id.as_str())?)),
    };
    let candidates = match source {
        Some((source, query)) => {
            let found = request(source.get_all(&query, None))
                .await
                .map_err(backend("reading messages to rewrite"))?;
            Array::from(&found).to_vec()
        }
        None => Vec::new(),
    };

    let mut rewritten_messages = Vec::new();
    for value in candidates {
        let mut message = message_from_js(value)?;
        if rewrite.matches(&message) && rewrite.apply(&mut message) {
            let key = MessageKey::of(&message).to_js();
            rewritten_messages.push((message_to_js(&message)?, key));
        }
    }

    let conversations = scope.get(CONVERSATIONS)?;
    let stored = request(conversations.get(&JsValue::from_str(conversation_id.as_str())))
        .await
        .map_err(backend("reading a conversation to rewrite"))?;
    let mut step = Step::new("rewriting messages");
    for (value, key) in &rewritten_messages {
        step.put(store, value, key)?;
    }
    if !stored.is_undefined() {
        let mut conversation: Conversation = entity_from_js(stored, "conversation")?;
        if let Some(latest) = conversation.latest_message.as_mut() {
            if rewrite.matches(latest) && rewrite.apply(latest) {
                step.put(
                    conversations,
                    &entity_to_js(&conversation, "a conversation")?,
                    &JsValue::UNDEFINED,
                )?;
            }
        }
    }
    step.run().await
}
