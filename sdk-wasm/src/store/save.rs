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

use super::idb::{backend, single, Batch, Database, Failure, Request, Store, Transaction};
use super::record::{
    entity_from_js, entity_to_js, marker_to_js, message_from_js, message_to_js, only, outbox_to_js,
    pair_key, prefix_range, seq_range, sync_state_from_js, sync_state_to_js, unsent_range,
    version_key, MessageKey,
};
use super::schema::{
    BY_CLIENT_ID, BY_SENDER, CONVERSATIONS, CURSORS, FRIENDS, GROUPS, MEMBERS, MESSAGES, OUTBOX,
    USERS, VERSIONS,
};

/// The writes of one step, issued at once and waited for together (by awaiting `batch`).
struct Step {
    /// What the step does, for its errors.
    what: &'static str,
    batch: Batch,
}

impl Step {
    fn new(what: &'static str) -> Step {
        Step {
            what,
            batch: Batch::default(),
        }
    }

    /// Waits for `request` with the step (the error when issuing it threw).
    fn issue(&mut self, request: Result<Request, JsValue>) -> Result<(), StoreError> {
        self.batch.issue(request, self.what)
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
    let mut lookup = Lookup::UnsentRows;
    loop {
        match attempt(db, changes, lookup).await {
            Err(StoreError::Backend(_))
                if lookup == Lookup::UnsentRows
                    && changes.messages.iter().any(|m| !m.client_msg_id.is_empty()) =>
            {
                lookup = Lookup::EveryClientId;
            }
            outcome => return outcome,
        }
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
    let failed = write(&tx, &names, changes, lookup).await.err();
    // Nothing of a rejected batch was written; after a failed request the browser has aborted
    // already. Either way the abort's own outcome adds nothing to the error.
    let mut committed = false;
    if failed.is_none() || tx.abort() {
        committed = tx.done().await.is_ok();
    }
    match failed {
        Some(StoreError::Backend(text)) => Err(StoreError::Backend(format!(
            "{text}; the write transaction was aborted and nothing of the batch was saved"
        ))),
        Some(other) => Err(other),
        None if committed => Ok(()),
        None => Err(StoreError::Backend(
            "IndexedDB aborted the write transaction; nothing of the batch was saved".into(),
        )),
    }
}

/// Checks `changes` against the stored data and applies them, in the transaction `tx` over the
/// object stores `names`.
///
/// The store-dependent check comes first: every seq a sync state newly marks as known has a
/// message once the batch is applied (a batch failing it is [`StoreError::Rejected`]). Then
/// the parts are applied in order, each step's writes issued together and awaited together.
#[allow(clippy::vec_init_then_push)] // see the entity upserts
async fn write(
    tx: &Transaction,
    names: &[&'static str],
    changes: &Changes,
    lookup: Lookup,
) -> Result<(), StoreError> {
    let scope = Scope::open(tx, names)?;

    // The check.
    if !changes.sync_states.is_empty() {
        let messages = scope.get(MESSAGES)?;
        let cursors = scope.get(CURSORS)?;
        let deleted = &changes.conversation_deletes;
        // The stored states of the surviving conversations, read together.
        let mut surviving: Vec<&ConversationId> = Vec::new();
        let mut reads = Batch::default();
        for id in changes.sync_states.keys() {
            if !deleted.contains(id) {
                reads.issue(
                    cursors.get(&JsValue::from_str(id.as_str())),
                    "reading sync states",
                )?;
                surviving.push(id);
            }
        }
        let mut old_states: Vec<(&ConversationId, SyncState)> = Vec::new();
        for (id, value) in surviving.into_iter().zip(reads.await?) {
            if !value.is_undefined() {
                old_states.push((id, sync_state_from_js(value)?));
            }
        }
        // The seqs that must have a stored message, counted together.
        let runs = unarrived_runs(changes, &old_states);
        let mut counts = Batch::default();
        for &(conversation_id, survives, start, end) in &runs {
            if survives {
                counts.issue(
                    messages.count(&seq_range(conversation_id, start, end)?),
                    "counting stored messages",
                )?;
            }
        }
        let mut counts = counts.await?.into_iter();
        for (conversation_id, survives, start, end) in runs {
            let size = (end.get() - start.get() + 1) as f64;
            if survives && counts.next().and_then(|count| count.as_f64()) == Some(size) {
                continue;
            }
            let mut seq = start;
            if survives {
                let range = seq_range(conversation_id, start, end)?;
                let keys = Batch::one(messages.get_all_keys(&range, None), "reading message keys")?
                    .await?;
                for key in Array::from(&single(keys)).iter() {
                    if MessageKey::from_js(&key)?.seq() != seq {
                        break;
                    }
                    seq = seq.next();
                }
            }
            return Err(StoreError::Rejected(ChangesError::KnownWithoutMessage {
                conversation_id: conversation_id.clone(),
                seq,
            }));
        }
    }

    // Clears.
    let mut step = Step::new("deleting");
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
    step.batch.await?;

    // Upserts.
    let mut step = Step::new("writing the batch");
    if !changes.messages.is_empty() {
        let store = scope.get(MESSAGES)?;
        let (reads, client_ids) = lookup_rows(store, &changes.messages, lookup)?;
        let found = found_rows(reads.await?, &client_ids)?;
        write_messages(&mut step, store, &changes.messages, found)?;
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
    step.batch.await?;

    // Message rewrites, in order, each seeing the writes before it.
    for rewrite in &changes.message_rewrites {
        let (reads, has_source) = rewrite_reads(&scope, rewrite)?;
        let mut found = reads.await?;
        let stored = found.pop().unwrap_or_default();
        let candidates = match (has_source, found.pop()) {
            (true, Some(candidates)) => Array::from(&candidates).to_vec(),
            _ => Vec::new(),
        };
        rewrite_step(&scope, rewrite, candidates, stored)?
            .batch
            .await?;
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
    step.batch.await.map(drop)
}

/// The runs of seqs that a sync state of `changes` newly marks as known and that no message of
/// the batch has, in order: `(conversation, whether it survives the batch, start, end)`. A run
/// of a conversation the batch deletes can have no stored message. `old_states` are the stored
/// states of the surviving conversations; seqs they know already had their messages checked
/// when they became known.
fn unarrived_runs<'a>(
    changes: &'a Changes,
    old_states: &[(&ConversationId, SyncState)],
) -> Vec<(&'a ConversationId, bool, Seq, Seq)> {
    let mut runs = Vec::new();
    for (conversation_id, state) in &changes.sync_states {
        let survives = !changes.conversation_deletes.contains(conversation_id);
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
            let new_parts = match old {
                Some(old) => old.gaps_between(range.start, range.end),
                None => vec![*range],
            };
            for part in new_parts {
                for (start, end) in runs_without(&arriving, part) {
                    runs.push((conversation_id, survives, start, end));
                }
            }
        }
    }
    runs
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

/// Issues the reads that find where the clientMsgIDs of `messages` are stored: with
/// [`Lookup::UnsentRows`] the keys of the unsent rows of each of their conversations, with
/// [`Lookup::EveryClientId`] the key holding each of their clientMsgIDs (returned as well, in
/// the order of the reads).
fn lookup_rows<'a>(
    store: &Store,
    messages: &'a [Message],
    lookup: Lookup,
) -> Result<(Batch, Vec<&'a str>), StoreError> {
    let query = |message: &'a Message| match lookup {
        Lookup::UnsentRows => message.conversation_id.as_str(),
        Lookup::EveryClientId => message.client_msg_id.as_str(),
    };
    // The first message of each conversation or clientMsgID.
    let mut firsts: Vec<&Message> = Vec::new();
    for message in messages {
        let key = query(message);
        let wanted = lookup == Lookup::UnsentRows || !key.is_empty();
        if wanted && !firsts.iter().any(|first| query(first) == key) {
            firsts.push(message);
        }
    }
    let mut reads = Batch::default();
    if lookup == Lookup::UnsentRows {
        for message in firsts {
            reads.issue(
                store.get_all_keys(&unsent_range(&message.conversation_id)?, None),
                "reading unsent messages",
            )?;
        }
        return Ok((reads, Vec::new()));
    }
    let index = store
        .index(BY_CLIENT_ID)
        .map_err(backend("opening the clientMsgID index"))?;
    let mut client_ids = Vec::with_capacity(firsts.len());
    for message in firsts {
        let id = message.client_msg_id.as_str();
        reads.issue(
            index.get_all_keys(&only(&JsValue::from_str(id))?, Some(1)),
            "looking up clientMsgIDs",
        )?;
        client_ids.push(id);
    }
    Ok((reads, client_ids))
}

/// The rows the reads of [`lookup_rows`] found, with their clientMsgIDs: each unsent row when
/// `client_ids` is empty, else the row holding each of `client_ids`, where one does.
fn found_rows(
    found: Vec<JsValue>,
    client_ids: &[&str],
) -> Result<Vec<(String, MessageKey)>, StoreError> {
    let mut rows = Vec::new();
    for (i, keys) in found.iter().enumerate() {
        for key in Array::from(keys).iter() {
            let key = MessageKey::from_js(&key)?;
            let client_id = match (client_ids.get(i), &key) {
                (Some(id), _) => (*id).to_owned(),
                (None, MessageKey::Unsent(_, id)) => id.clone(),
                (None, MessageKey::Sent(..)) => continue,
            };
            rows.push((client_id, key));
        }
    }
    Ok(rows)
}

/// Issues the writes of the batch's message upserts into `step`; `found` holds the rows the
/// lookup found, with their clientMsgIDs.
///
/// A message replaces whatever has its key, and the row that held its clientMsgID elsewhere
/// (typically the unsent row of an echo) is deleted. Where each clientMsgID of the batch lives is
/// read first, all lookups together, and then followed through the batch in order.
///
/// The writes keep the batch's order; with [`Lookup::UnsentRows`] they replay the batch step by
/// step, so a clientMsgID stored in a row that was not read makes the unique index refuse the
/// put at the very step where the row would have been deleted.
fn write_messages(
    step: &mut Step,
    store: &Store,
    messages: &[Message],
    found: Vec<(String, MessageKey)>,
) -> Result<(), StoreError> {
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

/// Issues the reads one rewrite needs: the stored messages it may match, when it names any
/// (`true` then), and last the conversation, whose latest message it may match as well.
fn rewrite_reads(scope: &Scope, rewrite: &MessageRewrite) -> Result<(Batch, bool), StoreError> {
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
    let mut reads = Batch::default();
    if let Some((source, query)) = &source {
        reads.issue(source.get_all(query, None), "reading messages to rewrite")?;
    }
    reads.issue(
        scope
            .get(CONVERSATIONS)?
            .get(&JsValue::from_str(conversation_id.as_str())),
        "reading a conversation to rewrite",
    )?;
    Ok((reads, source.is_some()))
}

/// The writes of one rewrite: the `candidates` it matches, rewritten, and the conversation
/// `stored` (`undefined` when there is none) when its latest message matches.
fn rewrite_step(
    scope: &Scope,
    rewrite: &MessageRewrite,
    candidates: Vec<JsValue>,
    stored: JsValue,
) -> Result<Step, StoreError> {
    let store = scope.get(MESSAGES)?;
    let mut rewritten_messages = Vec::new();
    for value in candidates {
        let mut message = message_from_js(value)?;
        if rewrite.matches(&message) && rewrite.apply(&mut message) {
            let key = MessageKey::of(&message).to_js();
            rewritten_messages.push((message_to_js(&message)?, key));
        }
    }
    let mut step = Step::new("rewriting messages");
    for (value, key) in &rewritten_messages {
        step.put(store, value, key)?;
    }
    if !stored.is_undefined() {
        let mut conversation: Conversation = entity_from_js(stored, "conversation")?;
        if let Some(latest) = conversation.latest_message.as_mut() {
            if rewrite.matches(latest) && rewrite.apply(latest) {
                step.put(
                    scope.get(CONVERSATIONS)?,
                    &entity_to_js(&conversation, "a conversation")?,
                    &JsValue::UNDEFINED,
                )?;
            }
        }
    }
    Ok(step)
}
