//! `save_changes`: one [`Changes`] batch in one readwrite IndexedDB transaction.
//!
//! The transaction spans every object store the batch touches. It first reads what the check
//! needs (the stored sync states and which seqs have messages) and refuses the batch before
//! writing anything; then it applies the parts in the order of [`chorus_core::changes`]: clears,
//! deletes, upserts, message rewrites, sync states. Each step's requests go to `idb.js` as one
//! [`Ops`] batch, issued together and awaited together; IndexedDB runs the requests of one
//! transaction in the order they were issued, so a later read sees every earlier write. If any
//! request fails the browser aborts the whole transaction, and a batch that fails in Rust
//! midway (a value that cannot be stored) aborts it too, so a crash or an error never leaves a
//! cursor ahead of its messages.
//!
//! Messages are unique by clientMsgID. A batch first reads only the unsent rows of its
//! conversations (where echoes find the row they replace); should a clientMsgID of the batch sit
//! in any other row, the unique index refuses the put, the transaction aborts, and the batch is
//! saved again in a new transaction that looks up every clientMsgID. A catch-up batch of new
//! messages thus costs a handful of awaited requests, not one per message.

use chorus_core::changes::{Changes, ChangesError, MessageRewrite, OutboxChange, SyncState};
use chorus_core::model::{Conversation, ConversationId, Message, Seq};
use chorus_core::ranges::SeqRange;
use chorus_core::store::{StoreError, StoreErrorKind};
use chorus_core::vec_map::VecMap;
use chorus_proto::msgjson::{self, Json, ToJson};

use super::idb::{backend, Database, Ops, Transaction};
use super::record::{
    self, entity, list, marker_record, message_record, outbox_record, pair_key, prefix_range,
    seq_range, sync_state_record, text_key, unsent_range, version_key, MessageKey,
};
use super::schema::{
    CONVERSATIONS, CURSORS, FRIENDS, GROUPS, MEMBERS, MESSAGES, MESSAGES_BY_CLIENT_ID,
    MESSAGES_BY_SENDER, OUTBOX, USERS, VERSIONS,
};

/// The requests of one step, issued at once and waited for together.
struct Step {
    /// What the step does, for its errors.
    what: &'static str,
    ops: Ops,
}

impl Step {
    fn new(what: &'static str) -> Step {
        Step {
            what,
            ops: Ops::default(),
        }
    }

    /// Issues the step's requests in `tx` and waits for them.
    async fn run(self, tx: &Transaction) -> Result<Vec<Json>, StoreError> {
        tx.run(self.ops, self.what).await
    }
}

/// Puts the entities `values` (inline keys) into `store`.
fn put_entities<T: ToJson>(ops: &mut Ops, store: &str, values: &[T]) {
    for value in values {
        ops.put(store, &Json::Null, &msgjson::to_text(value), "");
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
            Err(err)
                if matches!(err.kind(), StoreErrorKind::Backend(_))
                    && lookup == Lookup::UnsentRows
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
    let failed = write(&tx, changes, lookup).await.err();
    // Nothing of a rejected batch was written; after a failed request the browser has aborted
    // already. Either way the abort's own outcome adds nothing to the error.
    let committed = tx.end(failed.is_some()).await;
    match failed.as_ref().map(StoreError::kind) {
        Some(StoreErrorKind::Backend(text)) => Err(StoreError::backend(format!(
            "{text}; the write transaction was aborted and nothing of the batch was saved"
        ))),
        Some(_) => Err(failed.unwrap()),
        None if committed => Ok(()),
        None => Err(StoreError::backend(
            "IndexedDB aborted the write transaction; nothing of the batch was saved".into(),
        )),
    }
}

/// Checks `changes` against the stored data and applies them in the transaction `tx`.
///
/// The store-dependent check comes first: every seq a sync state newly marks as known has a
/// message once the batch is applied (a batch failing it is [`StoreErrorKind::Rejected`]). Then
/// the parts are applied in order, each step's requests issued together and awaited together.
async fn write(tx: &Transaction, changes: &Changes, lookup: Lookup) -> Result<(), StoreError> {
    // The check.
    if !changes.sync_states.is_empty() {
        let deleted = &changes.conversation_deletes;
        // The stored states of the surviving conversations, read together.
        let mut surviving: Vec<&ConversationId> = Vec::new();
        let mut reads = Step::new("reading sync states");
        for id in changes.sync_states.keys() {
            if !deleted.contains(id) {
                reads.ops.get(CURSORS, &text_key(id.as_str()));
                surviving.push(id);
            }
        }
        let mut old_states: Vec<(&ConversationId, SyncState)> = Vec::new();
        for (id, value) in surviving.into_iter().zip(reads.run(tx).await?) {
            if let Some(value) = record::found(value) {
                old_states.push((id, record::sync_state(&value)?));
            }
        }
        // The seqs that must have a stored message, counted together.
        let runs = unarrived_runs(changes, &old_states);
        let mut counts = Step::new("counting stored messages");
        for &(conversation_id, survives, start, end) in &runs {
            if survives {
                counts
                    .ops
                    .count(MESSAGES, &seq_range(conversation_id, start, end));
            }
        }
        let mut counts = counts.run(tx).await?.into_iter();
        for (conversation_id, survives, start, end) in runs {
            let size = end.get() - start.get() + 1;
            if survives && counts.next().and_then(|c| crate::json::as_u64(&c)) == Some(size) {
                continue;
            }
            let mut seq = start;
            if survives {
                let mut keys = Step::new("reading message keys");
                keys.ops
                    .keys(MESSAGES, &seq_range(conversation_id, start, end));
                for key in list(keys.run(tx).await?.into_iter().next().unwrap_or(Json::Null)) {
                    if MessageKey::from_json(&key)?.seq() != seq {
                        break;
                    }
                    seq = seq.next();
                }
            }
            return Err(StoreError::from(ChangesError::KnownWithoutMessage {
                conversation_id: conversation_id.clone(),
                seq,
            }));
        }
    }

    // Clears.
    let mut step = Step::new("deleting");
    let ops = &mut step.ops;
    if changes.clear_friends {
        ops.clear(FRIENDS);
    }
    if changes.clear_groups {
        ops.clear(GROUPS);
        ops.clear(MEMBERS);
    }
    for group_id in &changes.clear_members_of {
        ops.delete(MEMBERS, &prefix_range(group_id));
    }
    // Deletes.
    for conversation_id in &changes.conversation_deletes {
        let id = conversation_id.as_str();
        ops.delete(MESSAGES, &prefix_range(id));
        ops.delete(CONVERSATIONS, &text_key(id));
        ops.delete(CURSORS, &text_key(id));
    }
    for user_id in &changes.friend_deletes {
        ops.delete(FRIENDS, &text_key(user_id));
    }
    for group_id in &changes.group_deletes {
        ops.delete(GROUPS, &text_key(group_id));
        ops.delete(MEMBERS, &prefix_range(group_id));
    }
    for key in &changes.member_deletes {
        ops.delete(MEMBERS, &pair_key(&key.group_id, &key.user_id));
    }
    step.run(tx).await?;

    // Upserts.
    let mut step = Step::new("writing the batch");
    if !changes.messages.is_empty() {
        let (reads, client_ids) = lookup_rows(&changes.messages, lookup);
        let found = found_rows(reads.run(tx).await?, &client_ids)?;
        write_messages(&mut step.ops, &changes.messages, found)?;
    }
    let ops = &mut step.ops;
    put_entities(ops, CONVERSATIONS, &changes.conversations);
    put_entities(ops, USERS, &changes.users);
    put_entities(ops, FRIENDS, &changes.friends);
    put_entities(ops, GROUPS, &changes.groups);
    put_entities(ops, MEMBERS, &changes.members);
    for change in &changes.outbox {
        match change {
            OutboxChange::Put(entry) => ops.put(OUTBOX, &Json::Null, &outbox_record(entry)?, "o"),
            OutboxChange::Remove { client_msg_id } => ops.delete(OUTBOX, &text_key(client_msg_id)),
            _ => {
                return Err(StoreError::backend(
                    "cannot store an unknown kind of outbox change".into(),
                ))
            }
        }
    }
    for update in &changes.versions {
        let key = version_key(update.kind, &update.key)?;
        match &update.marker {
            Some(marker) => ops.put(VERSIONS, &key, &marker_record(marker)?, ""),
            None => ops.delete(VERSIONS, &key),
        }
    }
    step.run(tx).await?;

    // Message rewrites, in order, each seeing the writes before it.
    for rewrite in &changes.message_rewrites {
        let (reads, has_source) = rewrite_reads(rewrite);
        let mut found = reads.run(tx).await?;
        let stored = found.pop().and_then(record::found);
        let candidates = match (has_source, found.pop()) {
            (true, Some(candidates)) => list(candidates),
            _ => Vec::new(),
        };
        rewrite_step(rewrite, candidates, stored)?.run(tx).await?;
    }

    // Sync states last: they describe the messages written above.
    let mut step = Step::new("writing sync states");
    for (conversation_id, state) in &changes.sync_states {
        step.ops.put(
            CURSORS,
            &text_key(conversation_id.as_str()),
            &sync_state_record(state)?,
            "",
        );
    }
    step.run(tx).await.map(drop)
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
    for &seq in arriving.get(first..).unwrap_or_default() {
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
fn lookup_rows<'a>(messages: &'a [Message], lookup: Lookup) -> (Step, Vec<&'a str>) {
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
    let mut client_ids = Vec::with_capacity(firsts.len());
    if lookup == Lookup::UnsentRows {
        let mut reads = Step::new("reading unsent messages");
        for message in firsts {
            reads
                .ops
                .keys(MESSAGES, &unsent_range(&message.conversation_id));
        }
        return (reads, client_ids);
    }
    let mut reads = Step::new("looking up clientMsgIDs");
    for message in firsts {
        let id = message.client_msg_id.as_str();
        reads.ops.keys(MESSAGES_BY_CLIENT_ID, &text_key(id));
        client_ids.push(id);
    }
    (reads, client_ids)
}

/// The rows the reads of [`lookup_rows`] found, with their clientMsgIDs: each unsent row when
/// `client_ids` is empty, else the row holding each of `client_ids`, where one does.
fn found_rows(
    found: Vec<Json>,
    client_ids: &[&str],
) -> Result<Vec<(String, MessageKey)>, StoreError> {
    let mut rows = Vec::new();
    for (i, keys) in found.into_iter().enumerate() {
        for key in list(keys) {
            let key = MessageKey::from_json(&key)?;
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

/// Adds the writes of the batch's message upserts to `ops`; `found` holds the rows the lookup
/// found, with their clientMsgIDs.
///
/// A message replaces whatever has its key, and the row that held its clientMsgID elsewhere
/// (typically the unsent row of an echo) is deleted. Where each clientMsgID of the batch lives is
/// read first, all lookups together, and then followed through the batch in order.
///
/// The writes keep the batch's order; with [`Lookup::UnsentRows`] they replay the batch step by
/// step, so a clientMsgID stored in a row that was not read makes the unique index refuse the
/// put at the very step where the row would have been deleted.
fn write_messages(
    ops: &mut Ops,
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

    for message in messages {
        let key = MessageKey::of(message);
        let client_id = &message.client_msg_id;
        if !client_id.is_empty() {
            if let Some(old) = location.remove(client_id) {
                holder.remove(&old);
                if old != key {
                    ops.delete(MESSAGES, &old.to_json());
                }
            }
        }
        // Whatever held this key is replaced, and its clientMsgID now points nowhere.
        if let Some(previous) = holder.remove(&key) {
            location.remove(&previous);
        }
        ops.put(MESSAGES, &key.to_json(), &message_record(message)?, "m");
        if !client_id.is_empty() {
            location.insert(client_id.clone(), key.clone());
            holder.insert(key, client_id.clone());
        }
    }
    Ok(())
}

/// Issues the reads one rewrite needs: the stored messages it may match, when it names any
/// (`true` then), and last the conversation, whose latest message it may match as well.
fn rewrite_reads(rewrite: &MessageRewrite) -> (Step, bool) {
    let conversation_id = rewrite.conversation_id();
    // Where the candidates are read from, and which of its keys; none for a revocation that
    // names no message.
    let source = match rewrite {
        MessageRewrite::SenderProfile { user_id, .. } => Some((
            MESSAGES_BY_SENDER,
            pair_key(conversation_id.as_str(), user_id),
        )),
        MessageRewrite::Revoke { seq, .. } if *seq != Seq::ZERO => Some((
            MESSAGES,
            MessageKey::Sent(conversation_id.clone(), *seq).to_json(),
        )),
        MessageRewrite::Revoke { client_msg_id, .. } if !client_msg_id.is_empty() => {
            Some((MESSAGES_BY_CLIENT_ID, text_key(client_msg_id)))
        }
        MessageRewrite::Revoke { .. } => None,
        // Any other rewrite: every message of the conversation, filtered by `matches`.
        _ => Some((MESSAGES, prefix_range(conversation_id.as_str()))),
    };
    let mut reads = Step::new("reading messages to rewrite");
    if let Some((source, query)) = &source {
        reads.ops.all(source, query, None);
    }
    reads
        .ops
        .get(CONVERSATIONS, &text_key(conversation_id.as_str()));
    (reads, source.is_some())
}

/// The writes of one rewrite: the `candidates` it matches, rewritten, and the conversation
/// `stored` when its latest message matches.
fn rewrite_step(
    rewrite: &MessageRewrite,
    candidates: Vec<Json>,
    stored: Option<Json>,
) -> Result<Step, StoreError> {
    let mut step = Step::new("rewriting messages");
    for value in candidates {
        let mut message = record::message(value)?;
        if rewrite.matches(&message) && rewrite.apply(&mut message) {
            let key = MessageKey::of(&message).to_json();
            step.ops
                .put(MESSAGES, &key, &message_record(&message)?, "m");
        }
    }
    if let Some(stored) = stored {
        let mut conversation: Conversation = entity(stored, "conversation")?;
        if let Some(latest) = conversation.latest_message.as_mut() {
            if rewrite.matches(latest) && rewrite.apply(latest) {
                put_entities(&mut step.ops, CONVERSATIONS, &[conversation]);
            }
        }
    }
    Ok(step)
}
