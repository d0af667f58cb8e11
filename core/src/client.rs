//! [`Client`]: the whole engine — connection, message sync and entities — as one sans-IO state
//! machine.
//!
//! The client composes [`Conn`], [`sync::Sync`] and [`Entities`] and does the wiring between
//! them, so that a driver deals with one object:
//!
//! * sync requests go out through the connection, and each answer is routed back to the request
//!   that asked (gateway request id ↔ [`SyncTag`]);
//! * 2001 pushes go to [`sync::Sync::handle_push`];
//! * every (re)connect starts a sync round and an entity version sync
//!   ([`Entities::sync_all`]); every loss ends the round; the round's 1006 answer (the has-read
//!   seqs other devices set) becomes an entity batch of conversation rows
//!   ([`Entities::apply_read_states`]);
//! * notification messages the sync stores or receives (tips, content types 1000–5000) are
//!   applied to the entity view once their own batch is durable;
//! * sent messages go through the [`Outbox`]: [`Client::send_text`] stores the message as
//!   sending, and only once that batch is committed does its 1003 leave; acknowledgements and
//!   failures are routed back by clientMsgID, every sync batch carries the removal of the outbox
//!   entries it echoes, and every (re)connect sends again whatever is not acknowledged, with the
//!   same clientMsgID;
//! * batches of both machines are handed out one at a time by [`Client::poll_changes`]; a sync
//!   batch gets the conversation rows its messages change ([`sync::Sync::conversation_updates`])
//!   before it leaves, and after [`Client::commit`] it is shown to [`Entities::observe`].
//!
//! The grammar is quinn's: inputs are `handle_*` calls and commands, each with an explicit `now`
//! (milliseconds since the Unix epoch: entities use it for times a tip does not carry); outputs
//! are drained with [`Client::poll_transmit`] (socket), [`Client::poll_rest`] (HTTP),
//! [`Client::poll_changes`] (persistence), [`Client::poll_event`] (app) and
//! [`Client::poll_timeout`] (next wake-up).
//!
//! Driver contract: persist each batch from `poll_changes` with one `Store::save_changes` and
//! then call [`Client::commit`] with it; if saving fails call [`Client::save_failed`] and, when it
//! asks for it, reload the stored cursors into [`Client::reload_cursors`]. Drain every output
//! after every input.
//!
//! Outbox answers (acknowledgements, failures) are queued and turned into batches only when no
//! batch is out, like entity inputs, so that a batch is always computed from the committed state:
//! an acknowledgement can then never be saved over the echo that already gave the message its
//! seq. [`Client::request`] still sends a raw gateway request whose outcome comes back as
//! [`ClientEvent::RequestDone`] or [`ClientEvent::RequestFailed`].
//!
//! Never here: I/O, clocks, randomness (operation ids and jitter are injected), async.

use std::collections::VecDeque;

use crate::vec_map::VecMap;

use chorus_proto::constants::{ErrorCode, ReqIdentifier};
use chorus_proto::envelope::{Resp, ResponsePayload};
use chorus_proto::pb::msg::SendMsgResp;
use chorus_proto::pb::sdkws::MsgData;

use crate::changes::{Changes, OutboxEntry, SyncState};
use crate::conn::{
    Conn, ConnConfig, ConnEvent, DisconnectReason, IdGenerator, Instant, JitterSource,
    RequestError, RequestId, Transmit,
};
use crate::entities::{Entities, EntityBatch, EntityEvent, RestTag};
use crate::model::{ConversationId, ConversationKind, Message, Seq};
use crate::outbox::{
    ClientMsgId, Draft, MsgIdSource, Outbox, OutboxConfig, OutboxError, OutboxEvent, Recipient,
    SendFailure,
};
use crate::ranges::SeqRange;
use crate::store::StoreError;
use crate::sync::{self, HistoryId, MessageSource, ReadState, SyncConfig, SyncEvent, SyncTag};

/// Settings of a [`Client`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The gateway connection (URL, user, token, timeouts, back-off).
    pub conn: ConnConfig,
    /// The message sync (depth, batch sizes).
    pub sync: SyncConfig,
    /// Sending (attempts, sends in flight, the sender's platform).
    pub outbox: OutboxConfig,
}

impl ClientConfig {
    /// Default connection and sync settings for `user_id` on the gateway at `ws_url`.
    pub fn new(
        ws_url: impl Into<String>,
        user_id: impl Into<String>,
        token: impl Into<String>,
    ) -> ClientConfig {
        let user_id = user_id.into();
        let mut sync = SyncConfig::new(user_id.clone());
        // Unread counts need the has-read seqs other devices set.
        sync.read_states = true;
        ClientConfig {
            conn: ConnConfig::new(ws_url, user_id.clone(), token),
            sync,
            outbox: OutboxConfig::new(user_id),
        }
    }
}

/// A REST call to make: `POST path` with the JSON `body` and these `headers`
/// (`operationID`, `token`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Pass it back to [`Client::handle_rest`].
    pub tag: RestTag,
    /// The API path, e.g. `/friend/get_incremental_friends`.
    pub path: &'static str,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: String,
}

/// What happened, for the app. Names follow the official SDK callbacks where one exists.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
// The `On` prefix is the official SDK's, kept so that apps can migrate by name.
#[allow(clippy::enum_variant_names)]
pub enum ClientEvent {
    /// A connection attempt started.
    OnConnecting,
    /// The gateway accepted the connection.
    OnConnectSuccess,
    /// A connection or attempt ended; `retry_at` is the next attempt (`None`: the session is
    /// over and a session-ending event follows).
    OnConnectFailed {
        /// Why.
        reason: DisconnectReason,
        /// When the next attempt starts.
        retry_at: Option<Instant>,
    },
    /// Session over: another login replaced this one, or an administrator forced it out.
    OnKickedOffline,
    /// Session over: the token expired; set a new one and connect again.
    OnUserTokenExpired,
    /// Session over: the token is not accepted.
    OnUserTokenInvalid {
        /// The gateway's error code (1502–1505, 1507).
        code: ErrorCode,
    },
    /// Session over after a logout.
    OnLoggedOut,
    /// A connect sync round started: `total` seqs to pull.
    OnSyncServerStart {
        /// Seqs to pull.
        total: u64,
    },
    /// Part of the round is done.
    OnSyncServerProgress {
        /// Seqs pulled (or given up) so far.
        done: u64,
        /// Seqs to pull.
        total: u64,
    },
    /// The round fetched everything it planned.
    OnSyncServerFinish,
    /// The round ended without everything (a request failed for good, or the connection went).
    OnSyncServerFailed,
    /// New messages of a chat conversation are stored (pulled or pushed), ascending by seq.
    OnRecvNewMessages {
        /// The conversation.
        conversation_id: ConversationId,
        /// The messages.
        messages: Vec<Message>,
    },
    /// New messages of an `n_` notification conversation are stored; their effect on the
    /// entities arrives as [`ClientEvent::Entity`] events.
    OnRecvNotifications {
        /// The conversation.
        conversation_id: ConversationId,
        /// The messages.
        messages: Vec<Message>,
    },
    /// A message pushed with seq 0 that is not a notification: shown once, never stored.
    OnRecvOnlineOnlyMessage(Box<MsgData>),
    /// A history page requested with [`Client::load_history`] is stored as far as the server
    /// allows; read it from the store.
    OnHistoryLoaded {
        /// The call.
        id: HistoryId,
        /// The conversation.
        conversation_id: ConversationId,
        /// The page's seqs (`None` when empty).
        page: Option<SeqRange>,
        /// Every visible seq of the page is stored.
        complete: bool,
        /// Nothing older exists.
        reached_start: bool,
    },
    /// Seqs of a conversation are missing (a repair pull is under way).
    GapOpened {
        /// The conversation.
        conversation_id: ConversationId,
        /// The missing seqs.
        range: SeqRange,
    },
    /// Missing seqs were filled.
    GapClosed {
        /// The conversation.
        conversation_id: ConversationId,
        /// The filled seqs.
        range: SeqRange,
    },
    /// Users, friends, groups, members or conversations changed.
    Entity(EntityEvent),
    /// The server accepted a sent message (the official SDK's send success); its seq follows
    /// with [`ClientEvent::OnSendMessageSuccess`].
    OnSendMessageAcked {
        /// The message.
        client_msg_id: ClientMsgId,
        /// The server's id.
        server_msg_id: String,
        /// The server's send time, ms since the epoch.
        send_time: i64,
    },
    /// A sent message is stored with its seq: delivered for good.
    OnSendMessageSuccess {
        /// The message.
        client_msg_id: ClientMsgId,
        /// Its seq.
        seq: Seq,
    },
    /// A sent message failed for good and is stored as failed (the official SDK's send error).
    OnSendMessageFailed {
        /// The message.
        client_msg_id: ClientMsgId,
        /// The server's error code, or the SDK-local timeout / bad-argument code.
        code: i32,
    },
    /// The answer to a [`Client::request`].
    RequestDone {
        /// The request.
        id: RequestId,
        /// The response envelope.
        resp: Resp,
    },
    /// A [`Client::request`] failed.
    RequestFailed {
        /// The request.
        id: RequestId,
        /// Why.
        error: RequestError,
    },
    /// A REST call or notification could not be applied to the entities.
    EntitySyncFailed {
        /// What went wrong.
        detail: String,
    },
    /// A batch could not be saved; the engine went back to the stored state.
    StoreFailed {
        /// The store's error.
        error: StoreError,
    },
    /// Input that could not be used (an undecodable frame, push or answer part).
    Dropped {
        /// What was wrong.
        detail: String,
    },
}

/// A misuse of the commit protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// `commit` without a batch handed out by `poll_changes`.
    #[error("no batch is waiting for commit")]
    NothingToCommit,
    /// `commit` of a message-sync batch whose cursors are not those handed out.
    #[error("the committed batch is not the one handed out")]
    NotTheBatch,
}

/// Who asked for a gateway request. Responses and failures are routed by this.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Sync(SyncTag),
    /// A 1003 of the outbox, for this clientMsgID.
    Outbox(String),
    App,
}

/// Outbox answers, applied one batch at a time against the committed state.
#[derive(Debug)]
enum OutboxInput {
    Ack {
        client_msg_id: String,
        resp: Box<SendMsgResp>,
    },
    Failed {
        client_msg_id: String,
        /// The attempt that failed: a report about an older attempt is stale and ignored.
        request: RequestId,
        failure: SendFailure,
    },
}

/// Entity inputs, applied one batch at a time against the committed view.
#[derive(Debug)]
enum EntityInput {
    Notification(Box<MsgData>),
    Rest(RestTag, String),
    /// The server's has-read and max seqs (1006).
    ReadStates(Vec<ReadState>),
    /// The app marked a conversation read.
    MarkRead(ConversationId),
}

/// What the batch handed out by `poll_changes` came from. The batch itself is the caller's
/// until it comes back to [`Client::commit`]; an entity batch keeps its events here.
#[derive(Debug)]
enum Outstanding {
    Sync,
    Entity(Box<EntityBatch>),
    Outbox,
}

/// The engine; see the module documentation.
pub struct Client {
    conn: Conn,
    sync: sync::Sync,
    entities: Entities,
    outbox: Outbox,
    routes: VecMap<RequestId, Route>,
    entity_inputs: VecDeque<EntityInput>,
    /// Outbox batches that depend on no other batch (new messages, cleanup), in order.
    outbox_ready: VecDeque<Changes>,
    outbox_inputs: VecDeque<OutboxInput>,
    /// The latest 1003 of each message in flight.
    outbox_attempts: VecMap<String, RequestId>,
    outstanding: Option<Outstanding>,
    rest_counter: u64,
    events: VecDeque<ClientEvent>,
    now: Instant,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("conn", &self.conn)
            .field("routes", &self.routes.len())
            .field("entity_inputs", &self.entity_inputs.len())
            .field("outbox", &self.outbox)
            .field("outstanding", &self.outstanding.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client starting from stored state: the entity view (see [`Entities::load`]) and the
    /// sync cursors (`Store::load_cursors`); restore the outbox with [`Client::load_outbox`].
    /// `msg_ids` draws the clientMsgIDs of sent messages.
    pub fn new(
        config: ClientConfig,
        entities: Entities,
        cursors: VecMap<ConversationId, SyncState>,
        ids: Box<dyn IdGenerator>,
        jitter: Box<dyn JitterSource>,
        msg_ids: Box<dyn MsgIdSource>,
    ) -> Client {
        let mut sync = sync::Sync::new(config.sync);
        sync.load(cursors);
        let mut outbox = Outbox::new(config.outbox, msg_ids);
        // Shown on sent messages until their echo brings the server's view of the sender.
        if let Some(me) = entities.self_user() {
            if outbox.config().nickname.is_empty() {
                outbox.set_sender_profile(me.nickname.clone(), me.face_url.clone());
            }
        }
        Client {
            conn: Conn::new(config.conn, ids, jitter),
            sync,
            entities,
            outbox,
            routes: VecMap::new(),
            entity_inputs: VecDeque::new(),
            outbox_ready: VecDeque::new(),
            outbox_inputs: VecDeque::new(),
            outbox_attempts: VecMap::new(),
            outstanding: None,
            rest_counter: 0,
            events: VecDeque::new(),
            now: Instant::ZERO,
        }
    }

    // ---- views ------------------------------------------------------------------------------

    /// The connection machine (status, configuration).
    pub fn conn(&self) -> &Conn {
        &self.conn
    }

    /// The message sync engine (cursors, server max seqs).
    pub fn sync(&self) -> &sync::Sync {
        &self.sync
    }

    /// The entity view (users, friends, groups, members, conversations).
    pub fn entities(&self) -> &Entities {
        &self.entities
    }

    /// The outbox (messages waiting to be sent or for their echo).
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Whether nothing is pending: no sync work, no entity or outbox input, no batch out, no
    /// request.
    pub fn is_idle(&self) -> bool {
        self.sync.is_idle()
            && self.entity_inputs.is_empty()
            && self.outbox_ready.is_empty()
            && self.outbox_inputs.is_empty()
            && self.outstanding.is_none()
            && self.routes.is_empty()
    }

    // ---- commands ---------------------------------------------------------------------------

    /// Starts the session (connects; reconnects by itself until the session ends).
    pub fn connect(&mut self, now: Instant) {
        self.now = now;
        self.conn.connect(now);
        self.pump();
    }

    /// Ends the session (2003, then close); [`ClientEvent::OnLoggedOut`] follows.
    pub fn logout(&mut self, now: Instant) {
        self.now = now;
        self.conn.logout(now);
        self.pump();
    }

    /// The token for the next connection attempt and REST call.
    pub fn set_token(&mut self, token: impl Into<String>) {
        self.conn.set_token(token);
    }

    /// Tells the gateway whether the app is in the background (2004).
    pub fn set_background(&mut self, now: Instant, background: bool) {
        self.now = now;
        self.conn.set_background(now, background);
        self.pump();
    }

    /// Loads up to `count` seqs below `before` in a conversation;
    /// [`ClientEvent::OnHistoryLoaded`] with the returned id follows.
    pub fn load_history(
        &mut self,
        now: Instant,
        conversation_id: ConversationId,
        before: Seq,
        count: u64,
    ) -> HistoryId {
        self.now = now;
        let id = self.sync.load_history(conversation_id, before, count);
        self.pump();
        id
    }

    /// Restores the outbox from the store: its entries (`Store::outbox`), each with its stored
    /// message (`Store::message_by_client_id`). Unsent messages leave again once connected;
    /// finished entries are removed by a batch that [`Client::poll_changes`] hands out.
    pub fn load_outbox(
        &mut self,
        entries: impl IntoIterator<Item = (OutboxEntry, Option<Message>)>,
    ) {
        let cleanup = self.outbox.load(entries);
        if !cleanup.is_empty() {
            self.outbox_ready.push_back(cleanup);
        }
        self.pump();
    }

    /// Sends a text message; returns its clientMsgID at once. The message is stored as sending
    /// by the next batch of [`Client::poll_changes`] and leaves once that batch is committed;
    /// [`ClientEvent::OnSendMessageAcked`], then [`ClientEvent::OnSendMessageSuccess`] (or
    /// [`ClientEvent::OnSendMessageFailed`]) follow.
    pub fn send_text(
        &mut self,
        now: Instant,
        recipient: Recipient,
        text: impl Into<String>,
    ) -> Result<ClientMsgId, OutboxError> {
        self.send_message(now, Draft::text(recipient, text))
    }

    /// Sends a message of any content type (see [`Client::send_text`]).
    pub fn send_message(&mut self, now: Instant, draft: Draft) -> Result<ClientMsgId, OutboxError> {
        self.now = now;
        let (id, changes) = self.outbox.send(now_ms(now), draft)?;
        self.outbox_ready.push_back(changes);
        Ok(id)
    }

    /// Marks a conversation read up to its max seq: its row is stored by the next batch of
    /// [`Client::poll_changes`] (conversation and total unread events follow the commit) and
    /// `/msg/mark_conversation_as_read` leaves through [`Client::poll_rest`]. Nothing happens
    /// when the conversation is unknown or already read; a failed call is reported as
    /// [`ClientEvent::EntitySyncFailed`] and the local mark stays.
    pub fn mark_conversation_read(&mut self, now: Instant, conversation_id: ConversationId) {
        self.now = now;
        // Computed in `poll_changes`, against the committed view like every entity input.
        self.entity_inputs
            .push_back(EntityInput::MarkRead(conversation_id));
    }

    /// Asks for the incremental sync of every entity list again.
    pub fn sync_entities(&mut self) {
        self.entities.sync_all();
    }

    /// Sends a raw gateway request; [`ClientEvent::RequestDone`] or
    /// [`ClientEvent::RequestFailed`] with the returned id follows.
    pub fn request(
        &mut self,
        now: Instant,
        req_identifier: ReqIdentifier,
        data: Vec<u8>,
    ) -> RequestId {
        self.now = now;
        let id = self.conn.request(now, req_identifier, data);
        self.routes.insert(id, Route::App);
        self.pump();
        id
    }

    // ---- socket and HTTP reports --------------------------------------------------------------

    /// The socket opened.
    pub fn handle_open(&mut self, now: Instant) {
        self.now = now;
        self.conn.handle_open(now);
        self.pump();
    }

    /// A text frame arrived.
    pub fn handle_text(&mut self, now: Instant, text: &str) {
        self.now = now;
        self.conn.handle_text(now, text);
        self.pump();
    }

    /// A binary frame arrived.
    pub fn handle_binary(&mut self, now: Instant, frame: &[u8]) {
        self.now = now;
        self.conn.handle_binary(now, frame);
        self.pump();
    }

    /// The socket closed, or could not be opened.
    pub fn handle_closed(&mut self, now: Instant, reason: &str) {
        self.now = now;
        self.conn.handle_closed(now, reason);
        self.pump();
    }

    /// Acts on every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.conn.handle_timeout(now);
        self.pump();
    }

    /// The answer of a REST call from [`Client::poll_rest`]: the response body (the
    /// `{errCode, errMsg, data}` envelope), or a transport failure.
    pub fn handle_rest(&mut self, now: Instant, tag: RestTag, result: Result<String, String>) {
        self.now = now;
        match result {
            Ok(body) => self.entity_inputs.push_back(EntityInput::Rest(tag, body)),
            Err(detail) => {
                self.entities.handle_rest_failed(tag);
                self.events.push_back(ClientEvent::EntitySyncFailed {
                    detail: format!("REST call failed: {detail}"),
                });
            }
        }
    }

    // ---- persistence --------------------------------------------------------------------------

    /// The next batch to persist; `None` while one awaits [`Client::commit`] or nothing is due.
    pub fn poll_changes(&mut self) -> Option<Changes> {
        if self.outstanding.is_some() {
            return None;
        }
        // Entity inputs first: they come from batches already durable, and applying them before
        // the next sync batch keeps conversation rows computed from a current view.
        while let Some(input) = self.entity_inputs.pop_front() {
            let now_ms = now_ms(self.now);
            let result = match &input {
                EntityInput::Notification(msg) => self.entities.apply_notification(now_ms, msg),
                EntityInput::Rest(tag, body) => self.entities.handle_rest(*tag, body),
                EntityInput::ReadStates(states) => Ok(self.entities.apply_read_states(states)),
                EntityInput::MarkRead(id) => match self.entities.mark_conversation_read(id) {
                    Some(batch) => Ok(batch),
                    // Unknown or already read: nothing to do.
                    None => continue,
                },
            };
            match result {
                Ok(batch) if batch.is_empty() => {}
                Ok(batch) if batch.changes.is_empty() => {
                    // Nothing to persist: commit at once (events and seen ids only).
                    self.entities.commit(batch);
                    self.drain_entity_events();
                }
                Ok(mut batch) => {
                    let changes = std::mem::take(&mut batch.changes);
                    self.outstanding = Some(Outstanding::Entity(Box::new(batch)));
                    return Some(changes);
                }
                Err(e) => self.events.push_back(ClientEvent::EntitySyncFailed {
                    detail: format!("{e}"),
                }),
            }
        }
        // New messages are stored before anything else so that they leave soon.
        if let Some(changes) = self.outbox_ready.pop_front() {
            self.outstanding = Some(Outstanding::Outbox);
            return Some(changes);
        }
        if let Some(changes) = self.outbox.poll_changes() {
            self.outstanding = Some(Outstanding::Outbox);
            return Some(changes);
        }
        while let Some(input) = self.outbox_inputs.pop_front() {
            let batch = match input {
                OutboxInput::Ack {
                    client_msg_id,
                    resp,
                } => self.outbox.handle_ack(&client_msg_id, &resp),
                OutboxInput::Failed {
                    client_msg_id,
                    request,
                    failure,
                } => {
                    if self.outbox_attempts.get::<str>(&client_msg_id) != Some(&request) {
                        continue;
                    }
                    self.outbox_attempts.remove::<str>(&client_msg_id);
                    let batch = self.outbox.handle_failed(&client_msg_id, &failure);
                    // A retry may be due at once (after a timeout).
                    self.pump();
                    batch
                }
            };
            if let Some(changes) = batch {
                self.outstanding = Some(Outstanding::Outbox);
                return Some(changes);
            }
        }
        let mut changes = self.sync.poll_changes()?;
        let entities = &self.entities;
        let rows = self
            .sync
            .conversation_updates(&changes, |id| entities.conversation(id).cloned());
        changes.conversations.extend(rows);
        // Echoes of sent messages leave the outbox in the batch that stores them with their seq.
        self.outbox.add_echo_removals(&mut changes);
        self.outstanding = Some(Outstanding::Sync);
        self.pump();
        Some(changes)
    }

    /// The batch from [`Client::poll_changes`] is durable: memory moves on and its events follow.
    /// `changes` is that batch, as handed out (the store may have read it, not changed it).
    pub fn commit(&mut self, changes: Changes) -> Result<(), ClientError> {
        match self.outstanding.take() {
            None => Err(ClientError::NothingToCommit),
            Some(Outstanding::Sync) => {
                // Message sync checks the batch's cursors against the ones it handed out.
                if self.sync.commit(&changes).is_err() {
                    self.outstanding = Some(Outstanding::Sync);
                    return Err(ClientError::NotTheBatch);
                }
                self.entities.observe(&changes);
                self.outbox.commit(&changes);
                self.pump();
                Ok(())
            }
            Some(Outstanding::Entity(mut batch)) => {
                // A rewritten message (e.g. a revoke) may concern one waiting in the outbox.
                self.outbox.commit(&changes);
                batch.changes = changes;
                self.entities.commit(*batch);
                self.pump();
                Ok(())
            }
            Some(Outstanding::Outbox) => {
                self.outbox.commit(&changes);
                self.pump();
                Ok(())
            }
        }
    }

    /// Saving the batch from [`Client::poll_changes`] failed: it is dropped. Returns `true` when
    /// it was a message-sync batch; then the driver must read the stored cursors again and pass
    /// them to [`Client::reload_cursors`].
    pub fn save_failed(&mut self, error: StoreError) -> bool {
        self.events.push_back(ClientEvent::StoreFailed { error });
        matches!(self.outstanding.take(), Some(Outstanding::Sync))
    }

    /// Restarts message sync from the stored cursors (after a failed save); when connected a
    /// new round starts at once.
    pub fn reload_cursors(&mut self, now: Instant, cursors: VecMap<ConversationId, SyncState>) {
        self.now = now;
        self.sync.load(cursors);
        self.routes.retain(|_, r| !matches!(r, Route::Sync(_)));
        if self.conn.is_connected() {
            self.sync.on_connected();
        }
        self.pump();
    }

    // ---- outputs ------------------------------------------------------------------------------

    /// What to do with the socket next.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.conn.poll_transmit()
    }

    /// The next REST call to make.
    pub fn poll_rest(&mut self) -> Option<HttpRequest> {
        let request = self.entities.poll_rest()?;
        self.rest_counter += 1;
        let config = self.conn.config();
        let headers = vec![
            (
                "operationID".to_owned(),
                format!("{}-rest-{}", config.user_id, self.rest_counter),
            ),
            ("token".to_owned(), config.token.clone()),
        ];
        Some(HttpRequest {
            tag: request.tag,
            path: request.path,
            headers,
            body: request.body_json,
        })
    }

    /// The next event for the app.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.drain_entity_events();
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    // ---- wiring -------------------------------------------------------------------------------

    /// Moves outputs between the machines until none has anything for another.
    fn pump(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.conn.poll_event() {
                progressed = true;
                self.on_conn_event(event);
            }
            while let Some(request) = self.sync.poll_request() {
                progressed = true;
                let id = self
                    .conn
                    .request(self.now, request.req_identifier, request.payload);
                self.routes.insert(id, Route::Sync(request.tag));
            }
            while let Some(event) = self.sync.poll_event() {
                progressed = true;
                self.on_sync_event(event);
            }
            while let Some(request) = self.outbox.poll_request() {
                progressed = true;
                let id = self
                    .conn
                    .request(self.now, ReqIdentifier::SendMsg, request.payload);
                let client_msg_id = request.client_msg_id.into_string();
                self.outbox_attempts.insert(client_msg_id.clone(), id);
                self.routes.insert(id, Route::Outbox(client_msg_id));
            }
            while let Some(event) = self.outbox.poll_event() {
                progressed = true;
                self.on_outbox_event(event);
            }
            if !progressed {
                break;
            }
        }
        self.drain_entity_events();
    }

    fn drain_entity_events(&mut self) {
        while let Some(event) = self.entities.poll_event() {
            self.events.push_back(ClientEvent::Entity(event));
        }
    }

    fn on_conn_event(&mut self, event: ConnEvent) {
        let event = match event {
            ConnEvent::Connecting => ClientEvent::OnConnecting,
            ConnEvent::Connected => {
                self.events.push_back(ClientEvent::OnConnectSuccess);
                self.sync.on_connected();
                self.outbox.on_connected();
                self.entities.sync_all();
                return;
            }
            ConnEvent::Disconnected { retry_at, reason } => {
                self.sync.on_disconnected();
                self.outbox.on_disconnected();
                self.routes.retain(|_, r| !matches!(r, Route::Sync(_)));
                ClientEvent::OnConnectFailed { reason, retry_at }
            }
            ConnEvent::Response { id, resp } => match self.routes.remove(&id) {
                Some(Route::Sync(tag)) => {
                    self.sync.handle_response_data(tag, &resp.data);
                    return;
                }
                Some(Route::Outbox(client_msg_id)) => {
                    let resp = match resp.payload() {
                        Ok(ResponsePayload::SendMsg(ack)) => ack,
                        // errCode 0 is the acceptance; the ids it would carry are cosmetic.
                        // Only the kind of an unexpected payload is named: formatting its
                        // contents would pull every response type's Debug into the build.
                        Ok(_) => {
                            self.events.push_back(ClientEvent::Dropped {
                                detail: format!(
                                    "answer to send {client_msg_id}: Ok(payload of reqIdentifier {})",
                                    resp.req_identifier
                                ),
                            });
                            Box::default()
                        }
                        Err(error) => {
                            self.events.push_back(ClientEvent::Dropped {
                                detail: format!(
                                    "answer to send {client_msg_id}: undecodable ({error})"
                                ),
                            });
                            Box::default()
                        }
                    };
                    self.outbox_inputs.push_back(OutboxInput::Ack {
                        client_msg_id,
                        resp,
                    });
                    return;
                }
                Some(Route::App) => ClientEvent::RequestDone { id, resp },
                None => return,
            },
            ConnEvent::RequestFailed { id, error } => match self.routes.remove(&id) {
                // A connection loss fails every request just before it reports the loss; the
                // sync engine forgets them all then, so retrying each one here would be waste.
                Some(Route::Sync(_))
                    if error == RequestError::Closed && !self.conn.is_connected() =>
                {
                    return
                }
                Some(Route::Sync(tag)) => {
                    self.sync.handle_request_failed(tag);
                    return;
                }
                Some(Route::Outbox(client_msg_id)) => {
                    self.outbox_inputs.push_back(OutboxInput::Failed {
                        client_msg_id,
                        request: id,
                        failure: SendFailure::from(&error),
                    });
                    return;
                }
                Some(Route::App) => ClientEvent::RequestFailed { id, error },
                None => return,
            },
            ConnEvent::Push(resp) => {
                self.on_push(resp);
                return;
            }
            ConnEvent::Kicked => ClientEvent::OnKickedOffline,
            ConnEvent::TokenExpired => ClientEvent::OnUserTokenExpired,
            ConnEvent::TokenInvalid { code } => ClientEvent::OnUserTokenInvalid { code },
            ConnEvent::SessionEnded => ClientEvent::OnLoggedOut,
            ConnEvent::FrameDropped { detail } => ClientEvent::Dropped { detail },
        };
        self.events.push_back(event);
    }

    fn on_outbox_event(&mut self, event: OutboxEvent) {
        let event = match event {
            OutboxEvent::MessageAcked {
                client_msg_id,
                server_msg_id,
                send_time,
            } => ClientEvent::OnSendMessageAcked {
                client_msg_id,
                server_msg_id,
                send_time,
            },
            OutboxEvent::MessageSent { client_msg_id, seq } => {
                self.outbox_attempts.remove::<str>(client_msg_id.as_str());
                ClientEvent::OnSendMessageSuccess { client_msg_id, seq }
            }
            OutboxEvent::MessageFailed {
                client_msg_id,
                code,
            } => {
                self.outbox_attempts.remove::<str>(client_msg_id.as_str());
                ClientEvent::OnSendMessageFailed {
                    client_msg_id,
                    code,
                }
            }
        };
        self.events.push_back(event);
    }

    fn on_push(&mut self, resp: Resp) {
        // Online-status pushes (2005) are not tracked by this engine.
        if resp.req_identifier != i32::from(ReqIdentifier::PushMsg) {
            return;
        }
        match resp.payload() {
            Ok(ResponsePayload::PushMsg(push)) => self.sync.handle_push(push),
            Ok(_) => {}
            Err(e) => self.events.push_back(ClientEvent::Dropped {
                detail: format!("undecodable push: {e}"),
            }),
        }
    }

    fn on_sync_event(&mut self, event: SyncEvent) {
        let event = match event {
            SyncEvent::SyncStarted { total } => ClientEvent::OnSyncServerStart { total },
            SyncEvent::SyncProgress { done, total } => {
                ClientEvent::OnSyncServerProgress { done, total }
            }
            SyncEvent::SyncFinished { complete: true } => ClientEvent::OnSyncServerFinish,
            SyncEvent::SyncFinished { complete: false } => ClientEvent::OnSyncServerFailed,
            SyncEvent::NewMessages {
                conversation_id,
                messages,
                source,
            } => {
                // Tips paged in as history are old news: their effects are already in the view.
                if source == MessageSource::History {
                    return;
                }
                for message in messages.iter().filter(|m| is_notification(m.content_type)) {
                    match message.to_wire() {
                        Ok(msg) => self
                            .entity_inputs
                            .push_back(EntityInput::Notification(Box::new(msg))),
                        Err(e) => self.events.push_back(ClientEvent::Dropped {
                            detail: format!("notification {}: {e}", message.client_msg_id),
                        }),
                    }
                }
                if conversation_id.kind() == ConversationKind::Notification {
                    ClientEvent::OnRecvNotifications {
                        conversation_id,
                        messages,
                    }
                } else {
                    ClientEvent::OnRecvNewMessages {
                        conversation_id,
                        messages,
                    }
                }
            }
            SyncEvent::TransientNotification { msg, .. } => {
                if is_notification(msg.content_type) {
                    self.entity_inputs.push_back(EntityInput::Notification(msg));
                    return;
                }
                ClientEvent::OnRecvOnlineOnlyMessage(msg)
            }
            SyncEvent::HistoryLoaded {
                id,
                conversation_id,
                page,
                complete,
                reached_start,
            } => ClientEvent::OnHistoryLoaded {
                id,
                conversation_id,
                page,
                complete,
                reached_start,
            },
            SyncEvent::GapOpened {
                conversation_id,
                range,
            } => ClientEvent::GapOpened {
                conversation_id,
                range,
            },
            SyncEvent::GapClosed {
                conversation_id,
                range,
            } => ClientEvent::GapClosed {
                conversation_id,
                range,
            },
            SyncEvent::ReadStates { states } => {
                self.entity_inputs
                    .push_back(EntityInput::ReadStates(states));
                return;
            }
            SyncEvent::Dropped { detail } => ClientEvent::Dropped { detail },
        };
        self.events.push_back(event);
    }
}

/// `now` as the milliseconds the model's times use.
fn now_ms(now: Instant) -> i64 {
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Content types of notifications (tips), which the entity layer interprets.
fn is_notification(content_type: i32) -> bool {
    (1000..=5000).contains(&content_type)
}

#[cfg(test)]
mod tests {
    use chorus_proto::envelope::{
        Compression, EnvelopeCodec, FrameCodec, HandshakeResult, Req, RequestPayload,
    };
    use chorus_proto::pb::msg::SendMsgResp;
    use chorus_proto::pb::sdkws::{GetMaxSeqResp, PullMessageBySeqsResp, PullMsgs, PushMessages};

    use super::*;
    use crate::changes::OutboxChange;
    use crate::conn::{FixedJitter, SequentialIds};
    use crate::model::MessageStatus;
    use crate::outbox::SequentialMsgIds;

    const T0: u64 = 1_700_000_000_000;
    const CONV: &str = "sg_g1";

    /// A client plus the server side of its socket, driven by hand.
    struct Rig {
        client: Client,
        codec: FrameCodec,
        now: Instant,
        events: Vec<ClientEvent>,
    }

    impl Rig {
        fn new() -> Rig {
            let config = ClientConfig::new("ws://gw/", "u1", "tok");
            let client = Client::new(
                config,
                Entities::new("u1"),
                VecMap::new(),
                Box::new(SequentialIds::new("op-")),
                Box::new(FixedJitter(0)),
                Box::new(SequentialMsgIds::default()),
            );
            Rig {
                client,
                codec: FrameCodec::new(EnvelopeCodec::Json, Compression::None),
                now: Instant::from_millis(T0),
                events: Vec::new(),
            }
        }

        fn drain_events(&mut self) {
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
        }

        /// The requests the client sent since the last call (pings and socket actions skipped).
        fn sent(&mut self) -> Vec<Req> {
            let mut out = Vec::new();
            while let Some(t) = self.client.poll_transmit() {
                if let Transmit::Binary(frame) = t {
                    out.push(self.codec.decode_req(&frame).expect("request frame"));
                }
            }
            out
        }

        fn answer(&mut self, req: &Req, payload: ResponsePayload) {
            let resp = payload.to_resp(&req.msg_incr, &req.operation_id);
            let frame = self.codec.encode_resp(&resp).expect("encode");
            self.client.handle_binary(self.now, &frame);
        }

        /// Saves nothing (no store here) but commits every batch, as a driver would after saving.
        fn commit_all(&mut self) -> Vec<Changes> {
            let mut batches = Vec::new();
            while let Some(changes) = self.client.poll_changes() {
                batches.push(changes.clone());
                self.client.commit(changes).expect("commit");
            }
            self.drain_events();
            batches
        }
    }

    fn wire(seq: i64, text: &str) -> MsgData {
        MsgData {
            send_id: "u2".into(),
            group_id: "g1".into(),
            client_msg_id: format!("c{seq}"),
            server_msg_id: format!("s{seq}"),
            session_type: 3,
            msg_from: 100,
            content_type: 101,
            content: format!(r#"{{"content":"{text}"}}"#).into_bytes(),
            seq,
            send_time: 1,
            ..MsgData::default()
        }
    }

    fn pulled(msgs: Vec<MsgData>) -> PullMsgs {
        PullMsgs {
            msgs,
            is_end: true,
            end_seq: 0,
        }
    }

    #[test]
    fn connect_sync_push_and_commit_flow_through_one_machine() {
        let mut r = Rig::new();
        r.client.connect(r.now);
        assert!(matches!(
            r.client.poll_transmit(),
            Some(Transmit::Connect { url }) if url.starts_with("ws://gw/?")
        ));
        r.client.handle_open(r.now);
        r.client.handle_text(r.now, &HandshakeResult::ok().encode());
        r.drain_events();
        assert_eq!(
            r.events[..2],
            [ClientEvent::OnConnecting, ClientEvent::OnConnectSuccess]
        );
        // Entity version sync starts with the connection.
        let rest = r.client.poll_rest().expect("a REST call on connect");
        assert!(rest.headers.iter().any(|(k, v)| k == "token" && v == "tok"));

        // 1001 → the client routes the answer to the sync engine, which pulls with 1002.
        let sent = r.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].req_identifier, 1001);
        let mut max = GetMaxSeqResp::default();
        max.max_seqs.insert(CONV.into(), 2);
        r.answer(&sent[0], ResponsePayload::GetNewestSeq(max));
        // The round's pull first, then the has-read seqs (1006).
        let sent = r.sent();
        assert_eq!(
            sent.iter().map(|r| r.req_identifier).collect::<Vec<_>>(),
            [1002, 1006]
        );
        let mut resp = PullMessageBySeqsResp::default();
        resp.msgs
            .insert(CONV.into(), pulled(vec![wire(1, "a"), wire(2, "b")]));
        r.answer(&sent[0], ResponsePayload::PullMsgByRange(resp));
        r.drain_events();
        assert!(
            !r.events
                .iter()
                .any(|e| matches!(e, ClientEvent::OnRecvNewMessages { .. })),
            "no message event before its batch is committed"
        );

        // The round's plan (new sync state) and the pulled messages: one batch each.
        let batches = r.commit_all();
        let conv = ConversationId::parse(CONV).unwrap();
        let with_messages: Vec<&Changes> =
            batches.iter().filter(|b| !b.messages.is_empty()).collect();
        assert_eq!(with_messages.len(), 1, "{batches:#?}");
        assert_eq!(with_messages[0].messages.len(), 2);
        assert!(
            with_messages[0]
                .conversations
                .iter()
                .any(|c| c.id == conv && c.max_seq == Seq(2)),
            "the conversation row rides in the sync batch"
        );
        assert_eq!(
            r.client.entities().conversation(&conv).map(|c| c.max_seq),
            Some(Seq(2)),
            "entities observed the committed batch"
        );
        let received: Vec<u64> = r
            .events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::OnRecvNewMessages { messages, .. } => Some(messages),
                _ => None,
            })
            .flatten()
            .map(|m| m.seq.0)
            .collect();
        assert_eq!(received, [1, 2]);
        assert!(r
            .events
            .contains(&ClientEvent::OnSyncServerStart { total: 2 }));
        assert!(r.events.contains(&ClientEvent::OnSyncServerFinish));
        assert!(
            r.events.contains(&ClientEvent::Entity(
                EntityEvent::OnTotalUnreadMessageCountChanged(2)
            )),
            "two messages of another user are unread: {:#?}",
            r.events
        );

        // A 2001 push of the next seq is stored and announced.
        r.events.clear();
        let mut push = PushMessages::default();
        push.msgs.insert(CONV.into(), pulled(vec![wire(3, "c")]));
        let frame = r
            .codec
            .encode_resp(&ResponsePayload::PushMsg(push).to_resp("", "op"))
            .unwrap();
        r.client.handle_binary(r.now, &frame);
        let batches = r.commit_all();
        assert_eq!(batches.len(), 1);
        assert_eq!(
            r.client.sync().sync_state(&conv).map(|s| s.cursor),
            Some(Seq(3))
        );
        assert!(r.events.iter().any(|e| matches!(
            e,
            ClientEvent::OnRecvNewMessages { messages, .. }
                if messages.len() == 1 && messages[0].content.text() == Some("c")
        )));
    }

    impl Rig {
        /// Opens the socket, answers the handshake and the 1001 (no conversations); returns the
        /// other requests sent meanwhile.
        fn online(&mut self) -> Vec<Req> {
            self.client.handle_open(self.now);
            self.client
                .handle_text(self.now, &HandshakeResult::ok().encode());
            let (max, others): (Vec<Req>, Vec<Req>) = self
                .sent()
                .into_iter()
                .partition(|r| r.req_identifier == 1001);
            assert_eq!(max.len(), 1, "{max:?}");
            self.answer(
                &max[0],
                ResponsePayload::GetNewestSeq(GetMaxSeqResp::default()),
            );
            self.commit_all();
            others
        }

        fn push(&mut self, msg: MsgData) {
            let mut push = PushMessages::default();
            push.msgs.insert(CONV.into(), pulled(vec![msg]));
            let frame = self
                .codec
                .encode_resp(&ResponsePayload::PushMsg(push).to_resp("", "op"))
                .unwrap();
            self.client.handle_binary(self.now, &frame);
        }
    }

    /// The 1003 requests among `reqs`, decoded.
    fn sends(reqs: &[Req]) -> Vec<(&Req, MsgData)> {
        reqs.iter()
            .filter(|r| r.req_identifier == 1003)
            .map(|r| match r.payload() {
                Ok(RequestPayload::SendMsg(msg)) => (r, *msg),
                other => panic!("1003 payload: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_sent_message_is_stored_before_it_leaves_resent_after_a_loss_and_echo_sets_its_seq() {
        let mut r = Rig::new();
        r.client.connect(r.now);
        assert!(r.online().is_empty());
        r.events.clear();

        let id = r
            .client
            .send_text(r.now, Recipient::Group("g1".into()), "hello")
            .expect("send");
        assert!(
            sends(&r.sent()).is_empty(),
            "nothing leaves before the message is stored"
        );
        // The first batch stores the message as sending with its outbox entry.
        let stored = r.client.poll_changes().expect("the sending batch");
        assert_eq!(stored.messages.len(), 1);
        let m = &stored.messages[0];
        assert_eq!(
            (m.client_msg_id.as_str(), m.seq, &m.status),
            (id.as_str(), Seq::ZERO, &MessageStatus::Sending)
        );
        assert_eq!(m.conversation_id, ConversationId::parse(CONV).unwrap());
        assert!(matches!(
            &stored.outbox[..],
            [OutboxChange::Put(e)] if e.client_msg_id == id.as_str()
        ));
        assert!(sends(&r.sent()).is_empty(), "still not committed");
        r.client.commit(stored).expect("commit");

        // Committed: the 1003 leaves with the clientMsgID.
        let sent = r.sent();
        let first = sends(&sent);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].1.client_msg_id, id.as_str());
        assert_eq!(first[0].1.content, br#"{"content":"hello"}"#);

        // The connection drops before the answer: after the reconnect the same message leaves
        // again with the same clientMsgID.
        r.client.handle_closed(r.now, "gone");
        assert!(
            r.commit_all().is_empty(),
            "a lost send changes nothing stored"
        );
        let retry_at = r.client.poll_timeout().expect("a reconnect is scheduled");
        r.now = retry_at;
        r.client.handle_timeout(r.now);
        assert!(matches!(
            r.client.poll_transmit(),
            Some(Transmit::Connect { .. })
        ));
        let mut sent = r.online();
        sent.extend(r.sent());
        let second = sends(&sent);
        assert_eq!(second.len(), 1, "resent once after the reconnect");
        assert_eq!(second[0].1.client_msg_id, id.as_str());

        // The acknowledgement stores the server's id, still without a seq.
        let ack = SendMsgResp {
            server_msg_id: "srv-1".into(),
            client_msg_id: id.as_str().into(),
            send_time: T0 as i64 + 5,
            modify: None,
        };
        r.answer(second[0].0, ResponsePayload::SendMsg(Box::new(ack)));
        let batches = r.commit_all();
        assert_eq!(batches.len(), 1, "{batches:#?}");
        let acked = &batches[0].messages[0];
        assert_eq!(
            (acked.seq, &acked.status, acked.server_msg_id.as_str()),
            (Seq::ZERO, &MessageStatus::Sent, "srv-1")
        );
        assert!(r.events.contains(&ClientEvent::OnSendMessageAcked {
            client_msg_id: id.clone(),
            server_msg_id: "srv-1".into(),
            send_time: T0 as i64 + 5,
        }));
        assert!(r.client.outbox().is_acked(id.as_str()));

        // The echo arrives with seq 1: stored with its seq and the outbox entry removed together.
        let mut echo = wire(1, "hello");
        echo.send_id = "u1".into();
        echo.client_msg_id = id.as_str().into();
        echo.server_msg_id = "srv-1".into();
        r.push(echo);
        let batches = r.commit_all();
        let with_echo: Vec<&Changes> = batches
            .iter()
            .filter(|b| b.messages.iter().any(|m| m.client_msg_id == id.as_str()))
            .collect();
        assert_eq!(with_echo.len(), 1, "{batches:#?}");
        assert_eq!(with_echo[0].messages[0].seq, Seq(1));
        assert!(with_echo[0].outbox.contains(&OutboxChange::Remove {
            client_msg_id: id.as_str().into()
        }));
        assert!(r.events.contains(&ClientEvent::OnSendMessageSuccess {
            client_msg_id: id.clone(),
            seq: Seq(1),
        }));
        assert!(r.client.outbox().is_empty());
        assert!(sends(&r.sent()).is_empty(), "nothing is sent again");

        // A late answer to the first attempt changes nothing.
        r.answer(first[0].0, ResponsePayload::SendMsg(Box::default()));
        assert!(r.commit_all().is_empty());
    }

    #[test]
    fn a_server_refusal_fails_the_message_with_the_code() {
        let mut r = Rig::new();
        r.client.connect(r.now);
        assert!(r.online().is_empty());
        r.events.clear();
        let id = r
            .client
            .send_text(r.now, Recipient::User("u2".into()), "hi")
            .expect("send");
        r.commit_all();
        let sent = r.sent();
        let send = sends(&sent);
        assert_eq!(send.len(), 1);
        let resp = Resp {
            req_identifier: 1003,
            msg_incr: send[0].0.msg_incr.clone(),
            operation_id: "op".into(),
            err_code: 1004,
            err_msg: "not found".into(),
            data: Vec::new(),
        };
        let frame = r.codec.encode_resp(&resp).unwrap();
        r.client.handle_binary(r.now, &frame);
        let batches = r.commit_all();
        assert_eq!(batches.len(), 1);
        assert_eq!(
            batches[0].messages[0].status,
            MessageStatus::Failed { code: 1004 }
        );
        assert!(r.events.contains(&ClientEvent::OnSendMessageFailed {
            client_msg_id: id,
            code: 1004
        }));
        assert!(r.client.outbox().is_empty());
    }

    #[test]
    fn marking_a_conversation_read_stores_the_row_then_calls_the_server() {
        let mut r = Rig::new();
        r.client.connect(r.now);
        assert!(r.online().is_empty());
        while r.client.poll_rest().is_some() {}
        r.push(wire(1, "a"));
        r.push(wire(2, "b"));
        r.commit_all();
        let conv = ConversationId::parse(CONV).unwrap();
        assert_eq!(r.client.entities().total_unread(), 2);
        r.events.clear();

        r.client.mark_conversation_read(r.now, conv.clone());
        let changes = r.client.poll_changes().expect("the row batch");
        assert_eq!(changes.conversations.len(), 1);
        assert_eq!(changes.conversations[0].has_read_seq, Seq(2));
        r.client.commit(changes).expect("commit");
        r.drain_events();
        assert!(r.events.contains(&ClientEvent::Entity(
            EntityEvent::OnTotalUnreadMessageCountChanged(0)
        )));
        let rest = r.client.poll_rest().expect("the server call");
        assert_eq!(rest.path, "/msg/mark_conversation_as_read");
        assert!(rest.body.contains(r#""hasReadSeq":2"#), "{}", rest.body);

        // A transport failure is reported; the local mark stays.
        r.events.clear();
        r.client.handle_rest(r.now, rest.tag, Err("down".into()));
        r.drain_events();
        assert!(r
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::EntitySyncFailed { .. })));
        assert_eq!(r.client.entities().total_unread(), 0);
        // Already read: nothing more.
        r.client.mark_conversation_read(r.now, conv);
        assert!(r.client.poll_changes().is_none());
        assert!(r.client.poll_rest().is_none());
    }

    #[test]
    fn commit_refuses_a_sync_batch_with_other_cursors_and_keeps_it_outstanding() {
        let mut r = Rig::new();
        r.client.connect(r.now);
        r.client.poll_transmit();
        r.client.handle_open(r.now);
        r.client.handle_text(r.now, &HandshakeResult::ok().encode());
        let sent = r.sent();
        let mut max = GetMaxSeqResp::default();
        max.max_seqs.insert(CONV.into(), 1);
        r.answer(&sent[0], ResponsePayload::GetNewestSeq(max));
        let mut checked = 0;
        while let Some(changes) = r.client.poll_changes() {
            if !changes.sync_states.is_empty() {
                let mut other = changes.clone();
                other.sync_states = VecMap::new();
                assert_eq!(r.client.commit(other), Err(ClientError::NotTheBatch));
                assert!(r.client.poll_changes().is_none(), "still outstanding");
                checked += 1;
            }
            r.client.commit(changes).expect("the batch handed out");
        }
        assert!(checked > 0, "the round's plan is a batch with sync states");
    }

    #[test]
    fn commit_refuses_a_batch_it_did_not_hand_out() {
        let mut r = Rig::new();
        assert_eq!(
            r.client.commit(Changes::new()),
            Err(ClientError::NothingToCommit)
        );
    }

    #[test]
    fn app_requests_report_their_outcome_and_connection_loss_ends_the_round() {
        let mut r = Rig::new();
        // Not connected: the request fails at once, as an app event.
        let data = RequestPayload::GetNewestSeq(Default::default()).encode_to_vec();
        let id = r.client.request(r.now, ReqIdentifier::GetNewestSeq, data);
        r.drain_events();
        assert_eq!(
            r.events,
            [ClientEvent::RequestFailed {
                id,
                error: RequestError::Closed
            }]
        );

        r.events.clear();
        r.client.connect(r.now);
        r.client.handle_open(r.now);
        r.client.handle_text(r.now, &HandshakeResult::ok().encode());
        let _ = r.sent();
        r.client.handle_closed(r.now, "gone");
        r.drain_events();
        assert!(r.events.iter().any(|e| matches!(
            e,
            ClientEvent::OnConnectFailed {
                retry_at: Some(_),
                ..
            }
        )));
        assert!(
            r.client.routes.is_empty(),
            "sync requests of a lost connection are forgotten"
        );
    }
}
