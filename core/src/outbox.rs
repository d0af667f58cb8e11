//! The outbox: sending chat messages so that none is lost or duplicated across disconnects and
//! restarts.
//!
//! A send assigns a clientMsgID (32 hex characters, the shape official clients give their ids) and
//! yields a [`Changes`] batch holding the message — seq 0, status [`MessageStatus::Sending`] — and
//! its [`OutboxEntry`]. The caller persists the batch and only then calls [`Outbox::commit`]; from
//! then on the message is queued and [`Outbox::poll_request`] hands out its 1003 payload whenever
//! the connection is up. Every resend uses the same clientMsgID, which servers deduplicate by.
//!
//! The server's acknowledgement carries no seq (spec §3.3): the seq arrives with the message's
//! echo — pushed to the sender's devices or pulled later — and is matched by clientMsgID. The
//! echo replaces the seq-0 row (stores key unsent rows by clientMsgID) and removes the outbox
//! entry, in one batch. An acknowledgement that comes after the echo changes nothing, so it can
//! never overwrite the stored row with a seq-0 one.
//!
//! Failures come in two kinds. Transient ones (no connection, a timeout, a token error that a new
//! login cures) keep the message queued: a closed connection waits for [`Outbox::on_connected`],
//! a timeout is retried at once, at most [`OutboxConfig::max_attempts`] times. A server error
//! code is final: the message is stored as [`MessageStatus::Failed`] with that code and reported.
//!
//! Grammar (as in the rest of the core): commands and inputs ([`Outbox::send`],
//! [`Outbox::handle_ack`], [`Outbox::handle_failed`], [`Outbox::observe_echo`], …) return batches
//! to persist; [`Outbox::commit`] is told what was persisted; [`Outbox::poll_request`],
//! [`Outbox::poll_changes`] and [`Outbox::poll_event`] drain outputs. Save and commit each batch
//! before feeding the next input.
//!
//! This module never performs I/O, never reads a clock (`now` is passed in) and never draws
//! ambient randomness (ids come from the injected [`MsgIdSource`]).

use std::collections::VecDeque;

use crate::vec_map::VecMap;
use std::fmt;

use chorus_proto::constants::{ContentType, ErrorCode, MsgFrom, PlatformId, SessionType};
use chorus_proto::envelope::RequestPayload;
use chorus_proto::pb::msg::SendMsgResp;
use serde::{Deserialize, Serialize};

use crate::changes::{Changes, OutboxChange, OutboxEntry};
use crate::conn::{RequestError, SeededEntropy};
use crate::model::{Content, ConversationId, Message, MessageStatus, ModelError, Seq};
use crate::platform::MaybeSend;

/// The SDK-local code of a send given up after repeated timeouts (official clients use 10001 for
/// a timeout).
pub const CODE_TIMEOUT: i32 = 10001;
/// The SDK-local code of a message that could not be encoded (official clients' 10002, bad
/// arguments).
pub const CODE_ARGS: i32 = 10002;

/// A message's client-assigned id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    /// The id made of 128 bits: 32 lowercase hex characters.
    pub fn from_bits(bits: u128) -> ClientMsgId {
        // The two halves as 16 digits each: the same text as `{bits:032x}`.
        ClientMsgId(format!("{:016x}{:016x}", (bits >> 64) as u64, bits as u64))
    }

    /// Wraps an existing id (e.g. read from a stored message).
    pub fn new(id: impl Into<String>) -> ClientMsgId {
        ClientMsgId(id.into())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ClientMsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ClientMsgId> for String {
    fn from(id: ClientMsgId) -> String {
        id.0
    }
}

impl AsRef<str> for ClientMsgId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The source of clientMsgIDs: 128 bits per id. Drivers seed it from the platform's random
/// source; tests use [`SequentialMsgIds`].
pub trait MsgIdSource: MaybeSend {
    /// The bits of the next id.
    fn next_bits(&mut self) -> u128;
}

impl MsgIdSource for SeededEntropy {
    fn next_bits(&mut self) -> u128 {
        (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
    }
}

/// Ids 1, 2, 3, … (as 32 hex characters): readable, deterministic ids for tests.
#[derive(Debug, Clone, Default)]
pub struct SequentialMsgIds {
    last: u128,
}

impl SequentialMsgIds {
    /// Starts after `last` (0 gives 1 first).
    pub fn starting_after(last: u128) -> SequentialMsgIds {
        SequentialMsgIds { last }
    }
}

impl MsgIdSource for SequentialMsgIds {
    fn next_bits(&mut self) -> u128 {
        self.last = self.last.wrapping_add(1);
        self.last
    }
}

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Recipient {
    /// A one-to-one chat with this user.
    User(String),
    /// A group chat (a v3 `sg_` group).
    Group(String),
}

/// A message to send, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Draft {
    /// Who it goes to.
    pub recipient: Recipient,
    /// Content type (spec §3.8), e.g. 101 text.
    pub content_type: i32,
    /// The content.
    pub content: Content,
    /// Mentioned user ids.
    pub at_user_ids: Vec<String>,
    /// Message options (a missing key means true).
    pub options: chorus_proto::pb::Map<String, bool>,
    /// Extension field.
    pub ex: String,
}

impl Draft {
    /// A text message.
    pub fn text(recipient: Recipient, text: impl Into<String>) -> Draft {
        Draft::new(
            recipient,
            ContentType::Text.as_i32(),
            Content::Text(text.into()),
        )
    }

    /// A message of any content type.
    pub fn new(recipient: Recipient, content_type: i32, content: Content) -> Draft {
        Draft {
            recipient,
            content_type,
            content,
            at_user_ids: Vec::new(),
            options: chorus_proto::pb::Map::new(),
            ex: String::new(),
        }
    }
}

/// Settings of the outbox. Build with [`OutboxConfig::new`] and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxConfig {
    /// The logged-in user (the sender).
    pub user_id: String,
    /// The nickname shown on sent messages until the echo brings the server's.
    pub nickname: String,
    /// The face URL shown on sent messages.
    pub face_url: String,
    /// The sender's platform id.
    pub platform_id: i32,
    /// Timeouts after which a send is given up (as [`CODE_TIMEOUT`]). Lost connections never
    /// count: they are retried on every reconnect.
    pub max_attempts: u32,
    /// Sends outstanding at once.
    pub max_in_flight: usize,
}

impl OutboxConfig {
    /// Web platform, 5 attempts, 8 sends in flight, no nickname or face.
    pub fn new(user_id: impl Into<String>) -> OutboxConfig {
        OutboxConfig {
            user_id: user_id.into(),
            nickname: String::new(),
            face_url: String::new(),
            platform_id: PlatformId::Web.as_i32(),
            max_attempts: 5,
            max_in_flight: 8,
        }
    }
}

/// A 1003 request to send: `payload` is the encoded `MsgData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRequest {
    /// The message; report the outcome with it.
    pub client_msg_id: ClientMsgId,
    /// Protobuf bytes of the `MsgData` (the envelope's `data`).
    pub payload: Vec<u8>,
}

/// Why a send request produced no acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendFailure {
    /// No answer in time; the server may or may not have the message.
    Timeout,
    /// No connection, or it went down before the answer.
    Closed,
    /// The server refused the message with this error code.
    Server {
        /// The code.
        code: i32,
    },
    /// The request could not be framed.
    Encode,
}

impl From<&RequestError> for SendFailure {
    fn from(error: &RequestError) -> SendFailure {
        match error {
            RequestError::Timeout => SendFailure::Timeout,
            RequestError::Server { code, .. } => SendFailure::Server { code: code.code() },
            RequestError::Encode { .. } => SendFailure::Encode,
            // Closed, and anything added later, is a connection problem that a reconnect cures.
            _ => SendFailure::Closed,
        }
    }
}

/// What the outbox reports. Each follows the commit of the batch that persisted it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboxEvent {
    /// The server accepted the message; its seq follows with the echo.
    MessageAcked {
        /// The message.
        client_msg_id: ClientMsgId,
        /// The server's id.
        server_msg_id: String,
        /// The server's send time, ms since the epoch.
        send_time: i64,
    },
    /// The message is stored with its seq: delivered for good.
    MessageSent {
        /// The message.
        client_msg_id: ClientMsgId,
        /// Its seq.
        seq: Seq,
    },
    /// The message failed for good and is stored as failed.
    MessageFailed {
        /// The message.
        client_msg_id: ClientMsgId,
        /// The server's error code, or [`CODE_TIMEOUT`] / [`CODE_ARGS`].
        code: i32,
    },
}

/// A send that cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The content cannot be encoded.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Only unsent messages (seq 0) can be sent again.
    #[error("message {0} already has a seq")]
    AlreadySent(String),
    /// The message is already in the outbox.
    #[error("message {0} is already being sent")]
    AlreadyQueued(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a connection slot.
    Queued,
    /// Sent on the current connection, no answer yet.
    InFlight,
    /// Accepted by the server; waiting for the echo with the seq.
    Acked,
    /// A final failure is being persisted; nothing more is sent.
    Failing,
}

#[derive(Debug, Clone)]
struct Pending {
    entry: OutboxEntry,
    message: Message,
    payload: Vec<u8>,
    state: State,
}

/// The sans-IO outbox. See the [module docs](self).
pub struct Outbox {
    config: OutboxConfig,
    ids: Box<dyn MsgIdSource>,
    pending: VecMap<String, Pending>,
    /// The clientMsgIDs of `pending`, in sending order.
    order: Vec<String>,
    /// The newest `created_at` handed out, so that entries keep their order across restarts
    /// even when several are created in the same millisecond.
    last_created_at: i64,
    connected: bool,
    events: VecDeque<OutboxEvent>,
    cleanup: Vec<OutboxChange>,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("config", &self.config)
            .field("pending", &self.pending.len())
            .field("connected", &self.connected)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// An empty outbox, disconnected.
    pub fn new(config: OutboxConfig, ids: Box<dyn MsgIdSource>) -> Outbox {
        Outbox {
            config,
            ids,
            pending: VecMap::new(),
            order: Vec::new(),
            last_created_at: i64::MIN,
            connected: false,
            events: VecDeque::new(),
            cleanup: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &OutboxConfig {
        &self.config
    }

    /// Changes the nickname and face shown on messages sent from now on.
    pub fn set_sender_profile(&mut self, nickname: impl Into<String>, face_url: impl Into<String>) {
        self.config.nickname = nickname.into();
        self.config.face_url = face_url.into();
    }

    /// Messages not yet stored with a seq nor failed.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Whether this message is waiting.
    pub fn contains(&self, client_msg_id: &str) -> bool {
        self.pending.contains_key::<str>(client_msg_id)
    }

    /// The waiting messages, in sending order.
    pub fn pending_ids(&self) -> Vec<ClientMsgId> {
        self.order
            .iter()
            .map(|id| ClientMsgId::new(id.clone()))
            .collect()
    }

    /// Whether this message was accepted by the server and waits only for its echo.
    pub fn is_acked(&self, client_msg_id: &str) -> bool {
        self.pending
            .get(client_msg_id)
            .is_some_and(|p| p.state == State::Acked)
    }

    // ---- commands ---------------------------------------------------------------------------

    /// Prepares a new message: its id and the batch that stores it as sending with its outbox
    /// entry. Persist the batch, then [`commit`](Outbox::commit) it; nothing is sent before.
    pub fn send(
        &mut self,
        now_ms: i64,
        draft: Draft,
    ) -> Result<(ClientMsgId, Changes), OutboxError> {
        let client_msg_id = ClientMsgId::from_bits(self.ids.next_bits());
        let (conversation_id, session_type, recv_id, group_id) = match &draft.recipient {
            Recipient::User(peer) => (
                ConversationId::single(&self.config.user_id, peer),
                SessionType::Single,
                peer.clone(),
                String::new(),
            ),
            Recipient::Group(group_id) => (
                ConversationId::group(group_id),
                SessionType::ReadGroup,
                String::new(),
                group_id.clone(),
            ),
        };
        let message = Message {
            conversation_id,
            seq: Seq::ZERO,
            client_msg_id: client_msg_id.as_str().to_owned(),
            server_msg_id: String::new(),
            send_id: self.config.user_id.clone(),
            recv_id,
            group_id,
            sender_platform_id: self.config.platform_id,
            sender_nickname: self.config.nickname.clone(),
            sender_face_url: self.config.face_url.clone(),
            session_type,
            msg_from: MsgFrom::User.as_i32(),
            content_type: draft.content_type,
            content: draft.content,
            send_time: now_ms,
            create_time: now_ms,
            status: MessageStatus::Sending,
            is_read: false,
            options: draft.options,
            at_user_ids: draft.at_user_ids,
            attached_info: String::new(),
            ex: draft.ex,
        };
        // Fail now rather than when the message is due to leave.
        encode_payload(&message)?;
        let changes = self.enqueue_batch(now_ms, message);
        Ok((client_msg_id, changes))
    }

    /// Prepares sending a stored unsent message again (typically one that failed), with the
    /// same clientMsgID. Persist and commit the batch as for [`send`](Outbox::send).
    pub fn resend(&mut self, now_ms: i64, message: &Message) -> Result<Changes, OutboxError> {
        if message.seq != Seq::ZERO {
            return Err(OutboxError::AlreadySent(message.client_msg_id.clone()));
        }
        if self.pending.contains_key::<str>(&message.client_msg_id) {
            return Err(OutboxError::AlreadyQueued(message.client_msg_id.clone()));
        }
        let mut message = message.clone();
        message.status = MessageStatus::Sending;
        encode_payload(&message)?;
        Ok(self.enqueue_batch(now_ms, message))
    }

    fn enqueue_batch(&mut self, now_ms: i64, message: Message) -> Changes {
        let created_at = now_ms.max(self.last_created_at.saturating_add(1));
        self.last_created_at = created_at;
        let entry = OutboxEntry {
            client_msg_id: message.client_msg_id.clone(),
            conversation_id: message.conversation_id.clone(),
            attempts: 0,
            created_at,
            last_error: None,
        };
        batch(Some(message), OutboxChange::Put(entry))
    }

    /// Restores the outbox after a restart from the stored entries (oldest first, as
    /// [`Store::outbox`](crate::store::Store::outbox) lists them), each with its stored message
    /// ([`Store::message_by_client_id`](crate::store::Store::message_by_client_id)).
    ///
    /// Unsent messages are queued again; accepted ones (status sent, seq 0) wait for their echo.
    /// Entries whose message is gone, already has a seq or already failed are finished: the
    /// returned batch removes them (persist it; committing it is harmless).
    pub fn load(
        &mut self,
        entries: impl IntoIterator<Item = (OutboxEntry, Option<Message>)>,
    ) -> Changes {
        let mut cleanup = Changes::new();
        for (entry, message) in entries {
            let id = entry.client_msg_id.clone();
            let state = match &message {
                Some(m) if m.seq == Seq::ZERO && m.client_msg_id == id => match m.status {
                    MessageStatus::Sending => Some(State::Queued),
                    MessageStatus::Sent => Some(State::Acked),
                    _ => None,
                },
                _ => None,
            };
            let (Some(state), Some(message)) = (state, message) else {
                cleanup
                    .outbox
                    .push(OutboxChange::Remove { client_msg_id: id });
                continue;
            };
            let payload = match encode_payload(&message) {
                Ok(payload) => payload,
                Err(_) => {
                    // Stored content that no longer encodes: fail it rather than block the queue.
                    let mut failed = message;
                    failed.status = MessageStatus::Failed { code: CODE_ARGS };
                    cleanup.messages.push(failed);
                    cleanup
                        .outbox
                        .push(OutboxChange::Remove { client_msg_id: id });
                    continue;
                }
            };
            self.last_created_at = self.last_created_at.max(entry.created_at);
            self.insert(Pending {
                entry,
                message,
                payload,
                state,
            });
        }
        cleanup
    }

    fn insert(&mut self, pending: Pending) {
        let id = pending.entry.client_msg_id.clone();
        if self.pending.contains_key::<str>(&id) {
            return;
        }
        self.order.push(id.clone());
        self.pending.insert(id, pending);
    }

    fn forget(&mut self, client_msg_id: &str) -> Option<Pending> {
        let pending = self.pending.remove::<str>(client_msg_id)?;
        self.order.retain(|id| id != client_msg_id);
        Some(pending)
    }

    // ---- connection -------------------------------------------------------------------------

    /// The connection is up: everything not yet accepted is sent again, in original order.
    pub fn on_connected(&mut self) {
        self.connected = true;
        self.requeue_in_flight();
    }

    /// The connection is down: nothing leaves until [`on_connected`](Outbox::on_connected).
    pub fn on_disconnected(&mut self) {
        self.connected = false;
        self.requeue_in_flight();
    }

    fn requeue_in_flight(&mut self) {
        for pending in self.pending.values_mut() {
            if pending.state == State::InFlight {
                pending.state = State::Queued;
            }
        }
    }

    /// The next 1003 request to send, when connected and a slot is free.
    pub fn poll_request(&mut self) -> Option<OutboxRequest> {
        if !self.connected {
            return None;
        }
        let in_flight = self
            .pending
            .values()
            .filter(|p| p.state == State::InFlight)
            .count();
        if in_flight >= self.config.max_in_flight {
            return None;
        }
        let id = self
            .order
            .iter()
            .find(|id| {
                self.pending
                    .get(*id)
                    .is_some_and(|p| p.state == State::Queued)
            })?
            .clone();
        let pending = self.pending.get_mut::<str>(&id)?;
        pending.state = State::InFlight;
        Some(OutboxRequest {
            client_msg_id: ClientMsgId::new(id),
            payload: pending.payload.clone(),
        })
    }

    // ---- answers ----------------------------------------------------------------------------

    /// The server accepted the message (1003 answered with `errCode` 0). Returns the batch that
    /// stores the server's id and time (still seq 0: the seq comes with the echo); `None` when
    /// there is nothing to store, e.g. the echo came first.
    pub fn handle_ack(&mut self, client_msg_id: &str, resp: &SendMsgResp) -> Option<Changes> {
        let pending = self.pending.get_mut::<str>(client_msg_id)?;
        match pending.state {
            State::Queued | State::InFlight => {}
            // Already accepted (an answer to an earlier attempt) or failing for good.
            State::Acked | State::Failing => return None,
        }
        pending.state = State::Acked;
        let mut message = pending.message.clone();
        message.status = MessageStatus::Sent;
        if !resp.server_msg_id.is_empty() {
            message.server_msg_id.clone_from(&resp.server_msg_id);
        }
        if resp.send_time != 0 {
            message.send_time = resp.send_time;
        }
        let mut changes = Changes::new();
        changes.messages.push(message);
        Some(changes)
    }

    /// A send request failed. Returns the batch to persist, if any: an updated attempt count, or
    /// the message stored as failed.
    pub fn handle_failed(&mut self, client_msg_id: &str, failure: &SendFailure) -> Option<Changes> {
        let max_attempts = self.config.max_attempts;
        let pending = self.pending.get_mut::<str>(client_msg_id)?;
        if pending.state != State::InFlight {
            // A stale report: the request was already re-queued, accepted or given up.
            return None;
        }
        let code = match failure {
            SendFailure::Closed => {
                // Wait for the next connection; a lost connection never uses up attempts.
                pending.state = State::Queued;
                self.connected = false;
                return None;
            }
            SendFailure::Server { code } if ErrorCode::from_code(*code).is_token_error() => {
                // The session ends; a new login sends it.
                pending.state = State::Queued;
                self.connected = false;
                return None;
            }
            SendFailure::Timeout => {
                pending.entry.attempts = pending.entry.attempts.saturating_add(1);
                if pending.entry.attempts < max_attempts {
                    // The server deduplicates by clientMsgID, so a resend is always safe.
                    pending.state = State::Queued;
                    return Some(batch(None, OutboxChange::Put(pending.entry.clone())));
                }
                CODE_TIMEOUT
            }
            SendFailure::Server { code } => {
                pending.entry.attempts = pending.entry.attempts.saturating_add(1);
                *code
            }
            SendFailure::Encode => CODE_ARGS,
        };
        pending.state = State::Failing;
        let mut message = pending.message.clone();
        message.status = MessageStatus::Failed { code };
        Some(batch(
            Some(message),
            OutboxChange::Remove {
                client_msg_id: client_msg_id.to_owned(),
            },
        ))
    }

    /// A message arrived (pushed or pulled). When it is the echo of a waiting message, returns the
    /// batch that stores it with its seq (replacing the seq-0 row) and removes the outbox entry.
    pub fn observe_echo(&self, message: &Message) -> Option<Changes> {
        if message.seq == Seq::ZERO || !self.pending.contains_key::<str>(&message.client_msg_id) {
            return None;
        }
        Some(batch(
            Some(message.clone()),
            OutboxChange::Remove {
                client_msg_id: message.client_msg_id.clone(),
            },
        ))
    }

    /// Adds to a batch of received messages (e.g. a sync batch, before it is saved) the removal
    /// of every outbox entry the batch echoes, so both are persisted together.
    pub fn add_echo_removals(&self, changes: &mut Changes) {
        let echoed: Vec<String> = changes
            .messages
            .iter()
            .filter(|m| m.seq != Seq::ZERO && self.pending.contains_key::<str>(&m.client_msg_id))
            .map(|m| m.client_msg_id.clone())
            .filter(|id| !removes(changes, id))
            .collect();
        for client_msg_id in echoed {
            changes.outbox.push(OutboxChange::Remove { client_msg_id });
        }
    }

    // ---- commit -----------------------------------------------------------------------------

    /// Tells the outbox that `changes` was persisted: its own batches and any other (a sync batch
    /// carrying echoes). Queues new messages and raises the events. Committing the same batch
    /// twice changes nothing more.
    pub fn commit(&mut self, changes: &Changes) {
        for message in &changes.messages {
            let id = &message.client_msg_id;
            if id.is_empty() {
                continue;
            }
            let Some(pending) = self.pending.get_mut::<str>(id) else {
                continue;
            };
            if message.seq != Seq::ZERO {
                // The echo: delivered for good.
                let client_msg_id = ClientMsgId::new(id.clone());
                if !removes(changes, id) {
                    // The entry is still stored; remove it in a later batch.
                    self.cleanup.push(OutboxChange::Remove {
                        client_msg_id: id.clone(),
                    });
                }
                self.forget(&client_msg_id.0);
                self.events.push_back(OutboxEvent::MessageSent {
                    client_msg_id,
                    seq: message.seq,
                });
                continue;
            }
            match &message.status {
                MessageStatus::Failed { code } => {
                    let client_msg_id = ClientMsgId::new(id.clone());
                    let code = *code;
                    self.forget(id);
                    self.events.push_back(OutboxEvent::MessageFailed {
                        client_msg_id,
                        code,
                    });
                }
                MessageStatus::Sent if pending.message.status != MessageStatus::Sent => {
                    pending.message = message.clone();
                    pending.state = State::Acked;
                    self.events.push_back(OutboxEvent::MessageAcked {
                        client_msg_id: ClientMsgId::new(id.clone()),
                        server_msg_id: message.server_msg_id.clone(),
                        send_time: message.send_time,
                    });
                }
                _ => {}
            }
        }
        for change in &changes.outbox {
            match change {
                OutboxChange::Put(entry) => {
                    let id = &entry.client_msg_id;
                    if let Some(pending) = self.pending.get_mut::<str>(id) {
                        pending.entry.attempts = pending.entry.attempts.max(entry.attempts);
                        continue;
                    }
                    // A new entry: its message must be in the same batch, still unsent.
                    let message = changes.messages.iter().rev().find(|m| {
                        &m.client_msg_id == id
                            && m.seq == Seq::ZERO
                            && m.status == MessageStatus::Sending
                    });
                    let Some(message) = message else { continue };
                    let Ok(payload) = encode_payload(message) else {
                        continue;
                    };
                    self.last_created_at = self.last_created_at.max(entry.created_at);
                    self.insert(Pending {
                        entry: entry.clone(),
                        message: message.clone(),
                        payload,
                        state: State::Queued,
                    });
                }
                OutboxChange::Remove { client_msg_id } => {
                    // Abandoned or finished elsewhere (events came with the messages above).
                    self.forget(client_msg_id);
                }
            }
        }
    }

    /// A batch of leftover removals to persist (entries whose echo was committed without them).
    /// Committing it is harmless.
    pub fn poll_changes(&mut self) -> Option<Changes> {
        if self.cleanup.is_empty() {
            return None;
        }
        let mut changes = Changes::new();
        changes.outbox = std::mem::take(&mut self.cleanup);
        Some(changes)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<OutboxEvent> {
        self.events.pop_front()
    }
}

/// A batch of one outbox change, with the message it concerns when that is stored too.
fn batch(message: Option<Message>, change: OutboxChange) -> Changes {
    let mut changes = Changes::new();
    changes.messages.extend(message);
    changes.outbox.push(change);
    changes
}

fn removes(changes: &Changes, client_msg_id: &str) -> bool {
    changes
        .outbox
        .iter()
        .any(|c| matches!(c, OutboxChange::Remove { client_msg_id: id } if id == client_msg_id))
}

/// The 1003 payload: the message as `MsgData` with seq 0 and no send time (the server stamps it).
fn encode_payload(message: &Message) -> Result<Vec<u8>, ModelError> {
    let mut data = message.to_wire()?;
    data.seq = 0;
    data.send_time = 0;
    data.server_msg_id = String::new();
    data.status = MessageStatus::Sending.to_wire();
    Ok(RequestPayload::SendMsg(Box::new(data)).encode_to_vec())
}
