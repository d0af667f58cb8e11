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

use std::collections::HashMap;

use chorus_core::changes::{Changes, ChangesError, MessageRewrite, OutboxChange, SyncState};
use chorus_core::model::{Conversation, ConversationId, Message, Seq};
use chorus_core::ranges::SeqRange;
use chorus_core::store::StoreError;
use chorus_proto::msgjson::ToJson;
use futures::future::{join_all, LocalBoxFuture};
use rexie::{Rexie, Store, Transaction, TransactionMode};
use wasm_bindgen::JsValue;

use super::record::{
    backend, entity_from_js, entity_to_js, marker_to_js, message_from_js, message_to_js, only,
    outbox_to_js, pair_key, prefix_range, seq_range, sync_state_from_js, sync_state_to_js,
    unsent_range, version_key, MessageKey,
};
use super::schema::{
    BY_CLIENT_ID, BY_SENDER, CONVERSATIONS, CURSORS, FRIENDS, GROUPS, MEMBERS, MESSAGES, OUTBOX,
    USERS, VERSIONS,
};

/// One issued write.
type Op<'s> = LocalBoxFuture<'s, Result<(), rexie::Error>>;

fn put<'s>(store: &'s Store, value: JsValue, key: Option<JsValue>) -> Op<'s> {
    Box::pin(async move { store.put(&value, key.as_ref()).await.map(drop) })
}

/// Puts every record in order, waiting only for the last: IndexedDB completes the requests of a
/// transaction in order, and a failed one aborts the transaction, which fails the last as well.
fn put_all<'s>(store: &'s Store, records: Vec<(JsValue, Option<JsValue>)>) -> Op<'s> {
    Box::pin(async move { store.put_all(records.into_iter()).await })
}

/// The records of the entities `values` (inline keys), or nothing when there are none.
fn put_values<'s, T: ToJson>(
    scope: &'s Scope,
    name: &'static str,
    values: &[T],
    what: &str,
) -> Result<Option<Op<'s>>, StoreError> {
    if values.is_empty() {
        return Ok(None);
    }
    let records = values
        .iter()
        .map(|value| Ok((entity_to_js(value, what)?, None)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(put_all(scope.get(name)?, records)))
}

fn delete<'s>(store: &'s Store, key: JsValue) -> Op<'s> {
    Box::pin(async move { store.delete(key).await })
}

fn clear(store: &Store) -> Op<'_> {
    Box::pin(async move { store.clear().await })
}

/// Issues `ops` in order and waits for all of them.
async fn run(ops: Vec<Op<'_>>, what: &'static str) -> Result<(), StoreError> {
    for result in join_all(ops).await {
        result.map_err(backend(what))?;
    }
    Ok(())
}

/// The object stores of one write transaction.
struct Scope {
    stores: Vec<(&'static str, Store)>,
}

impl Scope {
    fn open(tx: &Transaction, names: &[&'static str]) -> Result<Scope, StoreError> {
        let stores = names
            .iter()
            .map(|&name| {
                tx.store(name)
                    .map(|store| (name, store))
                    .map_err(backend("opening an object store"))
            })
            .collect::<Result<_, _>>()?;
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
    uses.into_iter()
        .filter(|(_, used)| *used)
        .map(|(name, _)| name)
        .collect()
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
pub async fn save_changes(rexie: &Rexie, changes: &Changes) -> Result<(), StoreError> {
    changes.validate()?;
    match attempt(rexie, changes, Lookup::UnsentRows).await {
        Err(StoreError::Backend(_))
            if changes.messages.iter().any(|m| !m.client_msg_id.is_empty()) =>
        {
            attempt(rexie, changes, Lookup::EveryClientId).await
        }
        outcome => outcome,
    }
}

/// One transaction applying `changes`.
async fn attempt(rexie: &Rexie, changes: &Changes, lookup: Lookup) -> Result<(), StoreError> {
    let names = touched(changes);
    if names.is_empty() {
        // Nothing to store (e.g. only gap events).
        return Ok(());
    }
    let tx = rexie
        .transaction(&names, TransactionMode::ReadWrite)
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
        let _aborted = tx.abort().await;
        return Err(match err {
            StoreError::Backend(text) => StoreError::Backend(format!(
                "{text}; the write transaction was aborted and nothing of the batch was saved"
            )),
            other => other,
        });
    }
    let result = tx
        .done()
        .await
        .map_err(backend("committing the write transaction"))?;
    if result.is_committed() {
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
    let surviving: Vec<&ConversationId> = changes
        .sync_states
        .keys()
        .filter(|id| !deleted.contains(id))
        .collect();
    let stored = join_all(
        surviving
            .iter()
            .map(|id| cursors.get(JsValue::from_str(id.as_str()))),
    )
    .await;
    let mut old_states: Vec<(&ConversationId, SyncState)> = Vec::new();
    for (id, value) in surviving.into_iter().zip(stored) {
        if let Some(value) = value.map_err(backend("reading sync states"))? {
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
        let mut arriving: Vec<u64> = changes
            .messages
            .iter()
            .filter(|m| m.seq != Seq::ZERO && m.conversation_id == *conversation_id)
            .map(|m| m.seq.get())
            .collect();
        arriving.sort_unstable();
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
    let inside = arriving[first..]
        .iter()
        .map(|&seq| Seq(seq))
        .take_while(|&seq| seq <= part.end);
    for seq in inside {
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
    let count = messages
        .count(Some(seq_range(conversation_id, start, end)?))
        .await
        .map_err(backend("counting stored messages"))?;
    if u64::from(count) == end.get() - start.get() + 1 {
        return Ok(None);
    }
    let keys = messages
        .get_all_keys(Some(seq_range(conversation_id, start, end)?), None)
        .await
        .map_err(backend("reading message keys"))?;
    let mut expected = start;
    for key in &keys {
        if MessageKey::from_js(key)?.seq() != expected {
            return Ok(Some(expected));
        }
        expected = expected.next();
    }
    Ok(Some(expected))
}

/// Applies a checked batch.
async fn apply(scope: &Scope, changes: &Changes, lookup: Lookup) -> Result<(), StoreError> {
    let mut ops: Vec<Op<'_>> = Vec::new();

    // Clears.
    if changes.clear_friends {
        ops.push(clear(scope.get(FRIENDS)?));
    }
    if changes.clear_groups {
        ops.push(clear(scope.get(GROUPS)?));
        ops.push(clear(scope.get(MEMBERS)?));
    }
    for group_id in &changes.clear_members_of {
        ops.push(delete(scope.get(MEMBERS)?, prefix_range(group_id)?.into()));
    }
    // Deletes.
    for conversation_id in &changes.conversation_deletes {
        let id = conversation_id.as_str();
        ops.push(delete(scope.get(MESSAGES)?, prefix_range(id)?.into()));
        ops.push(delete(scope.get(CONVERSATIONS)?, JsValue::from_str(id)));
        ops.push(delete(scope.get(CURSORS)?, JsValue::from_str(id)));
    }
    for user_id in &changes.friend_deletes {
        ops.push(delete(scope.get(FRIENDS)?, JsValue::from_str(user_id)));
    }
    for group_id in &changes.group_deletes {
        ops.push(delete(scope.get(GROUPS)?, JsValue::from_str(group_id)));
        ops.push(delete(scope.get(MEMBERS)?, prefix_range(group_id)?.into()));
    }
    for key in &changes.member_deletes {
        ops.push(delete(
            scope.get(MEMBERS)?,
            pair_key(&key.group_id, &key.user_id),
        ));
    }
    run(ops, "deleting").await?;

    // Upserts.
    let mut ops = Vec::new();
    if !changes.messages.is_empty() {
        ops = write_messages(scope.get(MESSAGES)?, &changes.messages, lookup).await?;
    }
    let entity_puts = [
        put_values(
            scope,
            CONVERSATIONS,
            &changes.conversations,
            "a conversation",
        )?,
        put_values(scope, USERS, &changes.users, "a user")?,
        put_values(scope, FRIENDS, &changes.friends, "a friend")?,
        put_values(scope, GROUPS, &changes.groups, "a group")?,
        put_values(scope, MEMBERS, &changes.members, "a member")?,
    ];
    ops.extend(entity_puts.into_iter().flatten());
    for change in &changes.outbox {
        let outbox = scope.get(OUTBOX)?;
        match change {
            OutboxChange::Put(entry) => {
                ops.push(put(outbox, outbox_to_js(entry)?, None));
            }
            OutboxChange::Remove { client_msg_id } => {
                ops.push(delete(outbox, JsValue::from_str(client_msg_id)));
            }
            other => {
                return Err(StoreError::Backend(format!(
                    "unsupported outbox change {other:?}"
                )))
            }
        }
    }
    for update in &changes.versions {
        let key = version_key(update.kind, &update.key)?;
        let versions = scope.get(VERSIONS)?;
        match &update.marker {
            Some(marker) => {
                ops.push(put(versions, marker_to_js(marker)?, Some(key)));
            }
            None => ops.push(delete(versions, key)),
        }
    }
    run(ops, "writing the batch").await?;

    // Message rewrites, in order, each seeing the writes before it.
    for rewrite in &changes.message_rewrites {
        rewrite_messages(scope, rewrite).await?;
    }

    // Sync states last: they describe the messages written above.
    let mut ops = Vec::new();
    for (conversation_id, state) in &changes.sync_states {
        ops.push(put(
            scope.get(CURSORS)?,
            sync_state_to_js(state)?,
            Some(JsValue::from_str(conversation_id.as_str())),
        ));
    }
    run(ops, "writing sync states").await
}

/// The writes of the batch's message upserts.
///
/// A message replaces whatever has its key, and the row that held its clientMsgID elsewhere
/// (typically the unsent row of an echo) is deleted. Where each clientMsgID of the batch lives is
/// read first, all lookups together, and then followed through the batch in order.
///
/// The writes keep the batch's order; with [`Lookup::UnsentRows`] they replay the batch step by
/// step, so a clientMsgID stored in a row that was not read makes the unique index refuse the
/// put at the very step where the row would have been deleted.
async fn write_messages<'s>(
    store: &'s Store,
    messages: &[Message],
    lookup: Lookup,
) -> Result<Vec<Op<'s>>, StoreError> {
    let found = match lookup {
        Lookup::UnsentRows => unsent_rows(store, messages).await?,
        Lookup::EveryClientId => client_id_rows(store, messages).await?,
    };
    // clientMsgID → the key holding it, and back.
    let mut location: HashMap<String, MessageKey> = HashMap::new();
    let mut holder: HashMap<MessageKey, String> = HashMap::new();
    for (client_id, key) in found {
        location.insert(client_id.clone(), key.clone());
        holder.insert(key, client_id);
    }

    // The writes in batch order: runs of puts, each issued at once, between the deletes.
    let mut ops = Vec::new();
    let mut run_of_puts = Vec::new();
    for message in messages {
        let key = MessageKey::of(message);
        let client_id = &message.client_msg_id;
        if !client_id.is_empty() {
            if let Some(old) = location.remove(client_id) {
                holder.remove(&old);
                if old != key {
                    if !run_of_puts.is_empty() {
                        ops.push(put_all(store, std::mem::take(&mut run_of_puts)));
                    }
                    ops.push(delete(store, old.to_js()));
                }
            }
        }
        // Whatever held this key is replaced, and its clientMsgID now points nowhere.
        if let Some(previous) = holder.remove(&key) {
            location.remove(&previous);
        }
        run_of_puts.push((message_to_js(message)?, Some(key.to_js())));
        if !client_id.is_empty() {
            location.insert(client_id.clone(), key.clone());
            holder.insert(key, client_id.clone());
        }
    }
    if !run_of_puts.is_empty() {
        ops.push(put_all(store, run_of_puts));
    }
    Ok(ops)
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
    let ranges = conversations
        .into_iter()
        .map(unsent_range)
        .collect::<Result<Vec<_>, _>>()?;
    let found = join_all(
        ranges
            .into_iter()
            .map(|range| store.get_all_keys(Some(range), None)),
    )
    .await;
    let mut rows = Vec::new();
    for keys in found {
        for key in keys.map_err(backend("reading unsent messages"))? {
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
    let ranges = client_ids
        .iter()
        .map(|id| only(&JsValue::from_str(id)))
        .collect::<Result<Vec<_>, _>>()?;
    let found = join_all(
        ranges
            .into_iter()
            .map(|range| index.get_all_keys(Some(range), Some(1))),
    )
    .await;
    let mut rows = Vec::new();
    for (client_id, keys) in client_ids.into_iter().zip(found) {
        let keys = keys.map_err(backend("looking up clientMsgIDs"))?;
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
    let read = backend("reading messages to rewrite");
    let candidates: Vec<JsValue> = match rewrite {
        MessageRewrite::SenderProfile { user_id, .. } => store
            .index(BY_SENDER)
            .map_err(backend("opening the sender index"))?
            .get_all(
                Some(only(&pair_key(conversation_id.as_str(), user_id))?),
                None,
            )
            .await
            .map_err(read)?,
        MessageRewrite::Revoke { seq, .. } if *seq != Seq::ZERO => store
            .get(MessageKey::Sent(conversation_id.clone(), *seq).to_js())
            .await
            .map_err(read)?
            .into_iter()
            .collect(),
        MessageRewrite::Revoke { client_msg_id, .. } if !client_msg_id.is_empty() => store
            .index(BY_CLIENT_ID)
            .map_err(backend("opening the clientMsgID index"))?
            .get_all(Some(only(&JsValue::from_str(client_msg_id))?), None)
            .await
            .map_err(read)?,
        MessageRewrite::Revoke { .. } => Vec::new(),
        // Any other rewrite: every message of the conversation, filtered by `matches`.
        _ => store
            .get_all(Some(prefix_range(conversation_id.as_str())?), None)
            .await
            .map_err(read)?,
    };

    let mut ops = Vec::new();
    for value in candidates {
        let message = message_from_js(value)?;
        if rewrite.matches(&message) {
            let mut rewritten = message.clone();
            rewrite.apply(&mut rewritten);
            if rewritten != message {
                let key = MessageKey::of(&rewritten).to_js();
                ops.push(put(store, message_to_js(&rewritten)?, Some(key)));
            }
        }
    }

    let conversations = scope.get(CONVERSATIONS)?;
    let stored = conversations
        .get(JsValue::from_str(conversation_id.as_str()))
        .await
        .map_err(backend("reading a conversation to rewrite"))?;
    if let Some(value) = stored {
        let mut conversation: Conversation = entity_from_js(value, "conversation")?;
        if let Some(latest) = conversation.latest_message.as_mut() {
            if rewrite.matches(latest) {
                let before = latest.clone();
                rewrite.apply(latest);
                if *latest != before {
                    ops.push(put(
                        conversations,
                        entity_to_js(&conversation, "a conversation")?,
                        None,
                    ));
                }
            }
        }
    }
    run(ops, "rewriting messages").await
}
