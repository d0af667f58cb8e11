//! The message sync engine: per-conversation seq cursors, gap repair, history paging.
//!
//! [`Sync`] is a sans-IO state machine. It consumes decoded gateway results — 1001 max seqs, 1002
//! range pulls, 1005 explicit seq pulls — pushes (2001), request failures and commands, and it
//! produces requests to send ([`Sync::poll_request`]), batches to persist ([`Sync::poll_changes`])
//! and events for the app ([`Sync::poll_event`]).
//!
//! Driver contract (collect, then commit):
//! 1. at start, [`Sync::load`] the stored cursors ([`Store::load_cursors`](crate::store::Store));
//! 2. on every (re)connect call [`Sync::on_connected`], on every loss [`Sync::on_disconnected`];
//! 3. send what [`Sync::poll_request`] yields and route each answer back by its [`SyncTag`]
//!    ([`Sync::handle_response`] / [`Sync::handle_response_data`] / [`Sync::handle_request_failed`]);
//!    feed pushes to [`Sync::handle_push`];
//! 4. take each batch from [`Sync::poll_changes`], persist it with one `Store::save_changes`, then
//!    [`Sync::commit`] it. Only one batch is out at a time; the next one is built against the
//!    committed state, so cursors never run ahead of stored messages. The caller may add its own
//!    parts (conversation rows, entity changes derived from the messages) to the batch before
//!    saving it; `commit` checks only the sync states the engine put in. If saving fails, reload
//!    the cursors with [`Sync::load`] (which resets the engine) and reconnect.
//! 5. drain [`Sync::poll_event`]: events about a batch are released only by its `commit`.
//!
//! Semantics (spec §4.6): each connection starts a round — 1001, then for **every**
//! conversation the missing ranges between its floor and the server's max seq are pulled with
//! 1002, `num` = range length, packed so that a request's ranges add up to at most
//! [`SyncConfig::batch_size`] seqs and name each conversation once (the answer is a map by
//! conversation). A conversation more than [`SyncConfig::depth`] seqs behind has its floor raised
//! so that only the newest `depth` seqs are pulled; older history stays below the floor, outside
//! gap accounting, and is reached by paging back with [`Sync::load_history`] (1005). Pushes at or
//! below what is known are ignored, pushes ahead are stored and the gap between is pulled, seq-0
//! messages are transient and only surface as an event. Deleted placeholders (`status 4`) are
//! stored and count as known. Messages of `n_` notification conversations are stored and
//! reported like any other; interpreting them is left to the entity layer. Within one connection
//! a seq is asked for at most once (plus [`SyncConfig::max_retries`] retries of a failed request),
//! so a server that withholds seqs cannot make the engine loop.
//!
//! With [`SyncConfig::read_states`] on, each round also asks for the user's has-read and max
//! seqs (1006) once the max seqs are in, behind the round's first pulls; the answer surfaces as
//! [`SyncEvent::ReadStates`] for the layer that keeps conversation rows.
//!
//! Batches carry messages and sync states only: conversation rows belong to the entity layer,
//! so the caller adds the rows [`Sync::conversation_updates`] computes from its current view. The
//! engine performs no I/O, reads no clock and draws no randomness.

use std::collections::VecDeque;

use crate::vec_map::VecMap;

use chorus_proto::constants::ReqIdentifier;
use chorus_proto::envelope::{decode_response_payload, RequestPayload, ResponsePayload};
use chorus_proto::pb::msg::{
    ConversationSeqs, GetConversationsHasReadAndMaxSeqReq, GetConversationsHasReadAndMaxSeqResp,
    GetSeqMessageReq,
};
use chorus_proto::pb::sdkws::{
    GetMaxSeqReq, GetMaxSeqResp, MsgData, PullMessageBySeqsReq, PullMsgs, PushMessages,
    SeqRange as WireSeqRange,
};
use thiserror::Error;

use crate::changes::{Changes, GapChange, SyncState};
use crate::model::{Conversation, ConversationId, ConversationKind, Message, Seq};
use crate::ranges::{SeqRange, SeqRanges};
use chorus_proto::error::Quoted;

/// `PullOrder` ascending (1002 round pulls).
const ORDER_ASC: i32 = 0;
/// `PullOrder` descending (1005 history pages).
const ORDER_DESC: i32 = 1;

/// Settings of the sync engine. Build with [`SyncConfig::new`] and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncConfig {
    /// The logged-in user (the `userID` of every request).
    pub user_id: String,
    /// Most seqs pulled per conversation when it is behind: a conversation further behind has its
    /// floor raised to `max − depth + 1`.
    pub depth: u64,
    /// Seqs pulled for an `n_` notification conversation seen for the first time. The default 0
    /// marks old notifications as processed without fetching them, as official clients do on a
    /// fresh install (their effects arrive through entity version sync).
    pub notification_initial_depth: u64,
    /// Most seqs one 1002 request asks for, summed over its ranges.
    pub batch_size: u64,
    /// Round pull requests outstanding at once.
    pub max_in_flight: usize,
    /// Retries of a failed request before its seqs are given up for this connection.
    pub max_retries: u32,
    /// Most seqs in one history page.
    pub history_page_max: u64,
    /// Whether each round also fetches every conversation's has-read and max seqs (1006),
    /// reported as [`SyncEvent::ReadStates`]. Off here because only a caller that keeps
    /// conversation rows needs them; `ClientConfig::new` turns it on.
    pub read_states: bool,
}

impl SyncConfig {
    /// Depth 500, no initial notification pull, batches of 100 seqs, 2 requests in flight,
    /// 2 retries, history pages of at most 500 seqs.
    pub fn new(user_id: impl Into<String>) -> SyncConfig {
        SyncConfig {
            user_id: user_id.into(),
            depth: 500,
            notification_initial_depth: 0,
            batch_size: 100,
            max_in_flight: 2,
            max_retries: 2,
            history_page_max: 500,
            read_states: false,
        }
    }
}

/// Identifies one request of the engine; the driver routes the answer back with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncTag(pub u64);

/// Identifies one [`Sync::load_history`] call in its [`SyncEvent::HistoryLoaded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HistoryId(pub u64);

/// A request to send: `payload` is the protobuf message for the envelope's `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// The tag to answer with.
    pub tag: SyncTag,
    /// The envelope's `reqIdentifier` (1001, 1002 or 1005).
    pub req_identifier: ReqIdentifier,
    /// Protobuf bytes of the request message.
    pub payload: Vec<u8>,
}

/// The server's read state of one conversation, from a 1006 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadState {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The user's visible max seq.
    pub max_seq: Seq,
    /// The user's has-read seq.
    pub has_read_seq: Seq,
}

/// How new messages arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageSource {
    /// A 1002 pull (connect sync or gap repair).
    Pull,
    /// A 2001 push.
    Push,
    /// A 1005 history page.
    History,
}

/// What the engine reports. Events about stored data follow the commit of their batch.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SyncEvent {
    /// A connect round knows what it must pull: `total` seqs.
    SyncStarted {
        /// Seqs to pull.
        total: u64,
    },
    /// Part of the round is done.
    SyncProgress {
        /// Seqs pulled (or given up) so far.
        done: u64,
        /// Seqs to pull.
        total: u64,
    },
    /// The round is over; `complete` is false when a request failed for good, the max seqs
    /// could not be fetched (then an empty `SyncStarted` precedes it), or the connection went
    /// away first. Every `SyncStarted` is followed by one `SyncFinished`.
    SyncFinished {
        /// Whether everything planned was fetched.
        complete: bool,
    },
    /// Messages newly stored in one conversation, ascending by seq (deleted placeholders
    /// included). For `n_` conversations these are notifications for the entity layer.
    NewMessages {
        /// The conversation.
        conversation_id: ConversationId,
        /// The messages.
        messages: Vec<Message>,
        /// How they arrived.
        source: MessageSource,
    },
    /// Seqs between the floor and the highest known seq are missing.
    GapOpened {
        /// The conversation.
        conversation_id: ConversationId,
        /// The missing seqs.
        range: SeqRange,
    },
    /// Missing seqs were filled (or fell below a raised floor).
    GapClosed {
        /// The conversation.
        conversation_id: ConversationId,
        /// The seqs no longer missing.
        range: SeqRange,
    },
    /// A pushed message with seq 0: delivered once, never stored.
    TransientNotification {
        /// The conversation of the push map entry.
        conversation_id: ConversationId,
        /// The message as received.
        msg: Box<MsgData>,
    },
    /// A history page was loaded as far as the server allows.
    HistoryLoaded {
        /// The call.
        id: HistoryId,
        /// The conversation.
        conversation_id: ConversationId,
        /// The page's seqs (`None` when the page is empty, e.g. paging from seq 1).
        page: Option<SeqRange>,
        /// Every seq of the page that the server can show is stored.
        complete: bool,
        /// The page reaches the first visible seq: there is nothing older.
        reached_start: bool,
    },
    /// The server's has-read and max seqs of the user's conversations (1006), for the
    /// conversation rows; nothing is stored by the engine. Entries that could not be parsed are
    /// reported as [`SyncEvent::Dropped`].
    ReadStates {
        /// One entry per conversation.
        states: Vec<ReadState>,
    },
    /// Part of an answer could not be used (bad conversation id, negative seq, bad message).
    Dropped {
        /// What was wrong.
        detail: String,
    },
}

/// A misuse of the commit protocol.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SyncError {
    /// `commit` without a batch handed out by `poll_changes`.
    #[error("no batch is waiting for commit")]
    NothingToCommit,
    /// `commit` with a batch whose sync states differ from the one handed out.
    #[error("the committed batch is not the one handed out")]
    NotTheBatch,
}

/// Per-conversation memory.
#[derive(Debug, Default)]
struct Conv {
    /// The committed state; `None` until a batch for the conversation was committed.
    state: Option<SyncState>,
    /// The highest seq the server is known to have.
    server_max: Seq,
    /// The server's min seq (after a clear), when reported.
    min_seq: Seq,
    /// The lowest seq the server showed to history paging (0 = unknown).
    visible_min: Seq,
    /// Seqs planned or in flight in 1002 pulls, released when their answer is processed.
    requested: SeqRanges,
    /// Seqs asked for on this connection and not delivered: not asked again until reconnect.
    unavailable: SeqRanges,
}

#[derive(Debug, Clone)]
enum Kind {
    MaxSeqs {
        round: u64,
    },
    Pull {
        ranges: Vec<(ConversationId, SeqRange)>,
        round: Option<u64>,
    },
    History {
        id: HistoryId,
        conversation_id: ConversationId,
        page: SeqRange,
    },
    ReadStates,
}

#[derive(Debug)]
struct InFlight {
    kind: Kind,
    req_identifier: ReqIdentifier,
    payload: Vec<u8>,
    retries: u32,
}

/// Inputs waiting to become batches, processed strictly in arrival order.
#[derive(Debug)]
enum Item {
    MaxSeqs {
        round: u64,
        resp: GetMaxSeqResp,
    },
    RoundFailed {
        round: u64,
    },
    Pulled {
        ranges: Vec<(ConversationId, SeqRange)>,
        round: Option<u64>,
        data: Vec<(String, PullMsgs)>,
    },
    PullFailed {
        ranges: Vec<(ConversationId, SeqRange)>,
        round: Option<u64>,
    },
    Push(PushMessages),
    ReadStates(GetConversationsHasReadAndMaxSeqResp),
    History {
        id: HistoryId,
        conversation_id: ConversationId,
        page: SeqRange,
        data: Option<Vec<(String, PullMsgs)>>,
    },
    Event(SyncEvent),
}

#[derive(Debug)]
enum Effect {
    Release(ConversationId, SeqRange),
    Unavailable(ConversationId, SeqRanges),
    UnitDone { round: u64, seqs: u64, ok: bool },
    Event(SyncEvent),
}

#[derive(Debug)]
struct Prepared {
    changes: Changes,
    events: Vec<SyncEvent>,
    effects: Vec<Effect>,
    handed_out: bool,
}

#[derive(Debug)]
struct Round {
    id: u64,
    planned: bool,
    total: u64,
    done: u64,
    pending: usize,
    complete: bool,
}

/// The sync engine; see the module documentation.
#[derive(Debug)]
pub struct Sync {
    config: SyncConfig,
    convs: VecMap<ConversationId, Conv>,
    connected: bool,
    next_tag: u64,
    next_history: u64,
    round_counter: u64,
    round: Option<Round>,
    /// A 1006 is to follow the round's first pulls.
    read_states_due: bool,
    /// Round pulls not yet issued (released up to `max_in_flight` at a time).
    plan: VecDeque<Vec<(ConversationId, SeqRange)>>,
    outgoing: VecDeque<SyncTag>,
    in_flight: VecMap<SyncTag, InFlight>,
    inbox: VecDeque<Item>,
    awaiting: Option<Prepared>,
    events: VecDeque<SyncEvent>,
}

impl Sync {
    /// An engine with no stored state, not connected.
    pub fn new(config: SyncConfig) -> Sync {
        Sync {
            config,
            convs: VecMap::new(),
            connected: false,
            next_tag: 1,
            next_history: 1,
            round_counter: 0,
            round: None,
            read_states_due: false,
            plan: VecDeque::new(),
            outgoing: VecDeque::new(),
            in_flight: VecMap::new(),
            inbox: VecDeque::new(),
            awaiting: None,
            events: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Replaces everything with the stored cursors and forgets requests, pending inputs and the
    /// batch awaiting commit. Call it at start and after a failed save; then
    /// [`Sync::on_connected`] when connected.
    pub fn load(&mut self, cursors: VecMap<ConversationId, SyncState>) {
        let config = self.config.clone();
        let next_tag = self.next_tag;
        let next_history = self.next_history;
        let round_counter = self.round_counter;
        *self = Sync::new(config);
        // Tags stay unique across resets so a late answer to an old request is never mistaken.
        self.next_tag = next_tag;
        self.next_history = next_history;
        self.round_counter = round_counter;
        for (id, state) in cursors {
            let server_max = state.cursor.max(state.known.max().unwrap_or(Seq::ZERO));
            self.convs.insert(
                id,
                Conv {
                    state: Some(state),
                    server_max,
                    ..Conv::default()
                },
            );
        }
    }

    /// The connection is up: starts a round with a 1001 request. Requests of an earlier
    /// connection are forgotten (their answers are ignored).
    pub fn on_connected(&mut self) {
        self.drop_requests();
        self.connected = true;
        for conv in self.convs.values_mut() {
            conv.unavailable = SeqRanges::new();
        }
        self.round_counter += 1;
        let round = self.round_counter;
        self.round = Some(Round {
            id: round,
            planned: false,
            total: 0,
            done: 0,
            pending: 0,
            complete: true,
        });
        let payload = RequestPayload::GetNewestSeq(GetMaxSeqReq {
            user_id: self.config.user_id.clone(),
        });
        self.issue(Kind::MaxSeqs { round }, &payload);
        self.advance();
    }

    /// The connection is down: outstanding requests are forgotten and the round ends incomplete.
    pub fn on_disconnected(&mut self) {
        self.drop_requests();
        self.connected = false;
        self.advance();
    }

    /// The next request to send.
    pub fn poll_request(&mut self) -> Option<SyncRequest> {
        while let Some(tag) = self.outgoing.pop_front() {
            if let Some(f) = self.in_flight.get(&tag) {
                return Some(SyncRequest {
                    tag,
                    req_identifier: f.req_identifier,
                    payload: f.payload.clone(),
                });
            }
        }
        None
    }

    /// The decoded answer to a request. Answers to forgotten tags are ignored.
    pub fn handle_response(&mut self, tag: SyncTag, payload: ResponsePayload) {
        let Some(f) = self.in_flight.remove(&tag) else {
            return;
        };
        let item = match (f.kind, payload) {
            (Kind::MaxSeqs { round }, ResponsePayload::GetNewestSeq(resp)) => {
                Item::MaxSeqs { round, resp }
            }
            (Kind::Pull { ranges, round }, ResponsePayload::PullMsgByRange(resp)) => Item::Pulled {
                ranges,
                round,
                data: resp
                    .msgs
                    .into_iter()
                    .chain(resp.notification_msgs)
                    .collect(),
            },
            (Kind::ReadStates, ResponsePayload::GetConvMaxReadSeq(resp)) => Item::ReadStates(resp),
            (
                Kind::History {
                    id,
                    conversation_id,
                    page,
                },
                ResponsePayload::PullMsgBySeqList(resp),
            ) => Item::History {
                id,
                conversation_id,
                page,
                data: Some(
                    resp.msgs
                        .into_iter()
                        .chain(resp.notification_msgs)
                        .collect(),
                ),
            },
            (kind, other) => {
                self.events.push_back(SyncEvent::Dropped {
                    detail: format!(
                        "answer with reqIdentifier {} does not match its request",
                        other.req_identifier()
                    ),
                });
                self.failed_for_good(kind)
            }
        };
        self.inbox.push_back(item);
        self.advance();
    }

    /// The raw `data` of a successful answer, decoded by the request's identifier; undecodable
    /// data counts as a failed request.
    pub fn handle_response_data(&mut self, tag: SyncTag, data: &[u8]) {
        let Some(f) = self.in_flight.get(&tag) else {
            return;
        };
        match decode_response_payload(i32::from(f.req_identifier), data) {
            Ok(payload) => self.handle_response(tag, payload),
            Err(e) => {
                self.events.push_back(SyncEvent::Dropped {
                    detail: format!("undecodable answer: {e}"),
                });
                self.handle_request_failed(tag);
            }
        }
    }

    /// A request got no answer (timeout, server error, connection lost). It is retried up to
    /// [`SyncConfig::max_retries`] times while connected.
    pub fn handle_request_failed(&mut self, tag: SyncTag) {
        let Some(f) = self.in_flight.remove(&tag) else {
            return;
        };
        if self.connected && f.retries < self.config.max_retries {
            let new_tag = self.tag();
            self.in_flight.insert(
                new_tag,
                InFlight {
                    retries: f.retries + 1,
                    ..f
                },
            );
            self.outgoing.push_back(new_tag);
        } else {
            let item = self.failed_for_good(f.kind);
            self.inbox.push_back(item);
            self.advance();
        }
    }

    /// A 2001 push.
    pub fn handle_push(&mut self, push: PushMessages) {
        self.inbox.push_back(Item::Push(push));
        self.advance();
    }

    /// Loads the page of up to `count` seqs just below `before` in a conversation, fetching
    /// with 1005 the seqs not stored yet. A [`SyncEvent::HistoryLoaded`] with the returned id
    /// follows (after the page's batch, if any, is committed); then read the page from the store.
    pub fn load_history(
        &mut self,
        conversation_id: ConversationId,
        before: Seq,
        count: u64,
    ) -> HistoryId {
        let id = HistoryId(self.next_history);
        self.next_history += 1;
        let count = count.min(self.config.history_page_max);
        let conv = self.convs.get_or_default(conversation_id.clone());
        let lowest = conv.visible_min.max(Seq(1));
        let start = Seq(before.0.saturating_sub(count)).max(lowest);
        let Some(page) = SeqRange::new(start, before.prev()).filter(|_| count > 0) else {
            self.inbox.push_back(Item::Event(SyncEvent::HistoryLoaded {
                id,
                conversation_id,
                page: None,
                complete: true,
                reached_start: before <= lowest,
            }));
            self.advance();
            return id;
        };
        let empty = SeqRanges::new();
        let known = conv.state.as_ref().map_or(&empty, |s| &s.known);
        let missing: Vec<i64> = known
            .gaps_between(page.start, page.end)
            .iter()
            .rev()
            .flat_map(|r| r.iter().rev())
            .map(Seq::to_wire)
            .collect();
        if missing.is_empty() || !self.connected {
            self.inbox.push_back(Item::Event(SyncEvent::HistoryLoaded {
                id,
                conversation_id,
                page: Some(page),
                complete: missing.is_empty(),
                reached_start: page.start <= lowest,
            }));
        } else {
            let payload = RequestPayload::PullMsgBySeqList(GetSeqMessageReq {
                user_id: self.config.user_id.clone(),
                conversations: vec![ConversationSeqs {
                    conversation_id: conversation_id.as_str().to_owned(),
                    seqs: missing,
                }],
                order: ORDER_DESC,
            });
            self.issue(
                Kind::History {
                    id,
                    conversation_id,
                    page,
                },
                &payload,
            );
        }
        self.advance();
        id
    }

    /// The next batch to persist; `None` while the previous one awaits [`Sync::commit`].
    pub fn poll_changes(&mut self) -> Option<Changes> {
        self.advance();
        let prepared = self.awaiting.as_mut()?;
        if prepared.handed_out {
            return None;
        }
        prepared.handed_out = true;
        // The batch leaves whole; only its cursors are needed again, to check the batch at
        // commit and to move memory on.
        let changes = std::mem::take(&mut prepared.changes);
        prepared.changes.sync_states = changes.sync_states.clone();
        Some(changes)
    }

    /// The batch from [`Sync::poll_changes`] is durable: memory moves on and its events are
    /// released.
    pub fn commit(&mut self, changes: &Changes) -> Result<(), SyncError> {
        let Some(prepared) = self.awaiting.take() else {
            return Err(SyncError::NothingToCommit);
        };
        if !prepared.handed_out {
            self.awaiting = Some(prepared);
            return Err(SyncError::NothingToCommit);
        }
        if prepared.changes.sync_states != changes.sync_states {
            self.awaiting = Some(prepared);
            return Err(SyncError::NotTheBatch);
        }
        self.finalize(prepared);
        self.advance();
        Ok(())
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SyncEvent> {
        self.events.pop_front()
    }

    /// The committed sync state of a conversation.
    pub fn sync_state(&self, conversation_id: &ConversationId) -> Option<&SyncState> {
        self.convs.get(conversation_id)?.state.as_ref()
    }

    /// Every committed sync state.
    pub fn sync_states(&self) -> impl Iterator<Item = (&ConversationId, &SyncState)> {
        self.convs
            .iter()
            .filter_map(|(id, c)| c.state.as_ref().map(|s| (id, s)))
    }

    /// The highest seq the server is known to have in a conversation (from 1001 and pushes).
    pub fn server_max_seq(&self, conversation_id: &ConversationId) -> Option<Seq> {
        self.convs
            .get(conversation_id)
            .map(|c| c.server_max)
            .filter(|s| *s > Seq::ZERO)
    }

    /// Whether a connect round is running.
    pub fn is_syncing(&self) -> bool {
        self.round.is_some()
    }

    /// Whether nothing is waiting: no request outstanding, no input unprocessed, no batch out.
    pub fn is_idle(&self) -> bool {
        self.in_flight.is_empty()
            && self.plan.is_empty()
            && self.inbox.is_empty()
            && self.awaiting.is_none()
    }

    /// Conversation rows updated by the new messages of a batch from [`Sync::poll_changes`]:
    /// `max_seq` raised to the server's max, `latest_message` set to the newest message that is
    /// not a deleted placeholder when it is newer than the current one, and `has_read_seq` raised
    /// to the seq of the user's own newest message (servers mark a sender's own messages read).
    /// `current` gives the row as it is now (the entity view), so no other field is touched;
    /// conversations without a row get a new one. Hidden `n_` conversations get no row.
    ///
    /// Add the rows to the batch (`changes.conversations`) before saving it, so the rows and the
    /// cursors are persisted together; `commit` ignores them.
    pub fn conversation_updates(
        &self,
        changes: &Changes,
        mut current: impl FnMut(&ConversationId) -> Option<Conversation>,
    ) -> Vec<Conversation> {
        let mut by_conv: VecMap<&ConversationId, Vec<&Message>> = VecMap::new();
        for message in &changes.messages {
            if message.seq > Seq::ZERO
                && message.conversation_id.kind() != ConversationKind::Notification
            {
                by_conv
                    .get_or_default(&message.conversation_id)
                    .push(message);
            }
        }
        let mut rows = Vec::new();
        for (id, messages) in by_conv {
            let mut row = current(id).unwrap_or_else(|| Conversation::new(id.clone()));
            let before = row.clone();
            let batch_max = messages.iter().map(|m| m.seq).max().unwrap_or(Seq::ZERO);
            let server_max = self.convs.get(id).map_or(Seq::ZERO, |c| c.server_max);
            row.max_seq = row.max_seq.max(batch_max).max(server_max);
            let newest = messages
                .iter()
                .filter(|m| !m.is_deleted())
                .max_by_key(|m| m.seq);
            if let Some(newest) = newest {
                if row
                    .latest_message
                    .as_ref()
                    .is_none_or(|l| l.seq < newest.seq)
                {
                    row.latest_message = Some((*newest).clone());
                }
            }
            let own = messages
                .iter()
                .filter(|m| m.send_id == self.config.user_id)
                .map(|m| m.seq)
                .max();
            if let Some(own) = own {
                row.has_read_seq = row.has_read_seq.max(own);
            }
            if row != before {
                rows.push(row);
            }
        }
        rows
    }

    // ---- requests -------------------------------------------------------------------------

    fn tag(&mut self) -> SyncTag {
        let tag = SyncTag(self.next_tag);
        self.next_tag += 1;
        tag
    }

    fn issue(&mut self, kind: Kind, payload: &RequestPayload) {
        let tag = self.tag();
        let req_identifier = match &kind {
            Kind::MaxSeqs { .. } => ReqIdentifier::GetNewestSeq,
            Kind::Pull { .. } => ReqIdentifier::PullMsgByRange,
            Kind::History { .. } => ReqIdentifier::PullMsgBySeqList,
            Kind::ReadStates => ReqIdentifier::GetConvMaxReadSeq,
        };
        self.in_flight.insert(
            tag,
            InFlight {
                kind,
                req_identifier,
                payload: payload.encode_to_vec(),
                retries: 0,
            },
        );
        self.outgoing.push_back(tag);
    }

    fn issue_pull(&mut self, ranges: Vec<(ConversationId, SeqRange)>, round: Option<u64>) {
        let payload = RequestPayload::PullMsgByRange(PullMessageBySeqsReq {
            user_id: self.config.user_id.clone(),
            seq_ranges: ranges
                .iter()
                .map(|(id, r)| WireSeqRange {
                    conversation_id: id.as_str().to_owned(),
                    begin: r.start.to_wire(),
                    end: r.end.to_wire(),
                    num: i64::try_from(r.len()).unwrap_or(i64::MAX),
                })
                .collect(),
            order: ORDER_ASC,
        });
        self.issue(Kind::Pull { ranges, round }, &payload);
    }

    /// The item that stands for a request given up.
    fn failed_for_good(&mut self, kind: Kind) -> Item {
        match kind {
            Kind::MaxSeqs { round } => Item::RoundFailed { round },
            Kind::Pull { ranges, round } => Item::PullFailed { ranges, round },
            Kind::History {
                id,
                conversation_id,
                page,
            } => Item::History {
                id,
                conversation_id,
                page,
                data: None,
            },
            // Read states are only for display: the next connection asks again.
            Kind::ReadStates => Item::Event(SyncEvent::Dropped {
                detail: "has-read seqs (1006) could not be fetched".to_owned(),
            }),
        }
    }

    /// Forgets every request (a connection ended or began) and abandons the round.
    fn drop_requests(&mut self) {
        self.outgoing.clear();
        self.read_states_due = false;
        let in_flight = std::mem::take(&mut self.in_flight);
        for (_, f) in in_flight {
            match f.kind {
                Kind::MaxSeqs { .. } | Kind::ReadStates => {}
                Kind::Pull { ranges, .. } => self.release(&ranges),
                kind @ Kind::History { .. } => {
                    let item = self.failed_for_good(kind);
                    self.inbox.push_back(item);
                }
            }
        }
        let plan = std::mem::take(&mut self.plan);
        for ranges in plan {
            self.release(&ranges);
        }
        if let Some(round) = self.round.take() {
            if round.planned {
                self.inbox
                    .push_back(Item::Event(SyncEvent::SyncFinished { complete: false }));
            }
        }
    }

    fn release(&mut self, ranges: &[(ConversationId, SeqRange)]) {
        for (id, r) in ranges {
            if let Some(conv) = self.convs.get_mut(id) {
                conv.requested = subtract(&conv.requested, &single(*r));
            }
        }
    }

    /// Issues planned round pulls while fewer than `max_in_flight` are outstanding, then a due
    /// 1006 (so the newest messages are asked for first).
    fn pump(&mut self) {
        self.pump_pulls();
        if self.read_states_due && self.connected {
            self.read_states_due = false;
            let payload = RequestPayload::GetConvMaxReadSeq(GetConversationsHasReadAndMaxSeqReq {
                user_id: self.config.user_id.clone(),
                // Empty: every conversation of the user.
                conversation_i_ds: Vec::new(),
                return_pinned: false,
            });
            self.issue(Kind::ReadStates, &payload);
        }
    }

    fn pump_pulls(&mut self) {
        let Some(round) = self.round.as_ref().map(|r| r.id) else {
            return;
        };
        if !self.connected {
            return;
        }
        loop {
            let outstanding = self
                .in_flight
                .values()
                .filter(|f| matches!(f.kind, Kind::Pull { round: Some(r), .. } if r == round))
                .count();
            if outstanding >= self.config.max_in_flight.max(1) {
                return;
            }
            let Some(ranges) = self.plan.pop_front() else {
                return;
            };
            self.issue_pull(ranges, Some(round));
        }
    }

    /// Pulls what a conversation misses between its floor and the server's max, except what is
    /// already requested or was not delivered on this connection.
    fn schedule_repair(&mut self, id: &ConversationId) {
        if !self.connected {
            return;
        }
        let batch = self.config.batch_size.max(1);
        let Some(conv) = self.convs.get_mut(id) else {
            return;
        };
        let Some(state) = conv.state.as_ref() else {
            return;
        };
        let top = conv.server_max.max(state.known.max().unwrap_or(Seq::ZERO));
        let missing: SeqRanges = state
            .known
            .gaps_between(state.floor.max(Seq(1)), top)
            .into();
        let missing = subtract(&subtract(&missing, &conv.requested), &conv.unavailable);
        let chunks = chunk_from_top(&missing, batch);
        for r in &chunks {
            conv.requested.insert_range(r.start, r.end);
        }
        for r in chunks {
            self.issue_pull(vec![(id.clone(), r)], None);
        }
    }

    // ---- processing -----------------------------------------------------------------------

    /// Turns inputs into batches, one at a time, finalizing those with nothing to persist.
    fn advance(&mut self) {
        while self.awaiting.is_none() {
            let Some(item) = self.inbox.pop_front() else {
                break;
            };
            let prepared = self.process(item);
            if prepared.changes.is_empty() {
                self.finalize(prepared);
            } else {
                self.awaiting = Some(prepared);
            }
        }
        self.pump();
    }

    fn finalize(&mut self, prepared: Prepared) {
        let mut touched: VecMap<ConversationId, ()> = VecMap::new();
        for (id, state) in prepared.changes.sync_states {
            self.convs.get_or_default(id.clone()).state = Some(state);
            touched.insert(id, ());
        }
        for event in prepared.events {
            self.events.push_back(event);
        }
        for effect in prepared.effects {
            match effect {
                Effect::Release(id, r) => {
                    self.release(&[(id.clone(), r)]);
                    touched.insert(id, ());
                }
                Effect::Unavailable(id, seqs) => {
                    self.convs.get_or_default(id).unavailable.extend_from(&seqs);
                }
                Effect::UnitDone { round, seqs, ok } => {
                    if let Some(r) = self.round.as_mut().filter(|r| r.id == round) {
                        r.done = r.done.saturating_add(seqs);
                        r.pending = r.pending.saturating_sub(1);
                        r.complete &= ok;
                        self.events.push_back(SyncEvent::SyncProgress {
                            done: r.done,
                            total: r.total,
                        });
                    }
                }
                Effect::Event(event) => self.events.push_back(event),
            }
        }
        for id in touched.keys() {
            self.schedule_repair(id);
        }
        if let Some(r) = self.round.as_ref() {
            if r.planned && r.pending == 0 {
                let complete = r.complete;
                self.round = None;
                self.events.push_back(SyncEvent::SyncFinished { complete });
            }
        }
    }

    fn process(&mut self, item: Item) -> Prepared {
        let mut p = Prepared {
            changes: Changes::new(),
            events: Vec::new(),
            effects: Vec::new(),
            handed_out: false,
        };
        match item {
            Item::Event(event) => p.events.push(event),
            Item::RoundFailed { round } => {
                if self.round.as_ref().is_some_and(|r| r.id == round) {
                    // Rounds stay bracketed for the app: an empty start, an incomplete finish.
                    self.round = None;
                    p.events.push(SyncEvent::SyncStarted { total: 0 });
                    p.events.push(SyncEvent::SyncFinished { complete: false });
                }
            }
            Item::MaxSeqs { round, resp } => self.plan_round(round, resp, &mut p),
            Item::ReadStates(resp) => {
                let mut states = Vec::new();
                for (key, seqs) in resp.seqs {
                    match (
                        ConversationId::parse(key.clone()),
                        Seq::try_from(seqs.max_seq),
                        Seq::try_from(seqs.has_read_seq),
                    ) {
                        (Ok(conversation_id), Ok(max_seq), Ok(has_read_seq)) => {
                            states.push(ReadState {
                                conversation_id,
                                max_seq,
                                has_read_seq,
                            })
                        }
                        _ => p.events.push(SyncEvent::Dropped {
                            detail: format!(
                                "read state of {}: max {} has-read {}",
                                Quoted(&key),
                                seqs.max_seq,
                                seqs.has_read_seq
                            ),
                        }),
                    }
                }
                p.events.push(SyncEvent::ReadStates { states });
            }
            Item::Pulled {
                ranges,
                round,
                data,
            } => {
                let mut incoming = self.incoming(data, &mut p.events);
                self.build(&mut incoming, MessageSource::Pull, &mut p);
                let mut seqs = 0u64;
                for (id, r) in &ranges {
                    seqs = seqs.saturating_add(r.len());
                    let known = self.known_after(id, &p.changes);
                    let undelivered = subtract(&single(*r), &known);
                    if !undelivered.is_empty() {
                        self.raise_floor_to_window(id, *r, incoming.get(id), &mut p);
                        p.effects.push(Effect::Unavailable(id.clone(), undelivered));
                    }
                    p.effects.push(Effect::Release(id.clone(), *r));
                }
                if let Some(round) = round {
                    p.effects.push(Effect::UnitDone {
                        round,
                        seqs,
                        ok: true,
                    });
                }
            }
            Item::PullFailed { ranges, round } => {
                let mut seqs = 0u64;
                for (id, r) in ranges {
                    seqs = seqs.saturating_add(r.len());
                    p.effects.push(Effect::Unavailable(id.clone(), single(r)));
                    p.effects.push(Effect::Release(id, r));
                }
                if let Some(round) = round {
                    p.effects.push(Effect::UnitDone {
                        round,
                        seqs,
                        ok: false,
                    });
                }
            }
            Item::Push(push) => {
                let data = push
                    .msgs
                    .into_iter()
                    .chain(push.notification_msgs)
                    .collect();
                let mut incoming = self.incoming(data, &mut p.events);
                self.build(&mut incoming, MessageSource::Push, &mut p);
            }
            Item::History {
                id,
                conversation_id,
                page,
                data,
            } => self.process_history(id, conversation_id, page, data, &mut p),
        }
        p
    }

    /// Parses the conversation keys of an answer or push, merging the two maps.
    fn incoming(
        &mut self,
        data: Vec<(String, PullMsgs)>,
        events: &mut Vec<SyncEvent>,
    ) -> VecMap<ConversationId, PullMsgs> {
        let mut out: VecMap<ConversationId, PullMsgs> = VecMap::new();
        for (key, pulled) in data {
            match ConversationId::parse(key) {
                Ok(id) => {
                    let entry = out.get_or_default(id);
                    entry.msgs.extend(pulled.msgs);
                    entry.is_end |= pulled.is_end;
                    entry.end_seq = entry.end_seq.max(pulled.end_seq);
                }
                Err(e) => events.push(SyncEvent::Dropped {
                    detail: format!("{e}"),
                }),
            }
        }
        out
    }

    /// The known seqs of a conversation once `changes` is applied.
    fn known_after(&self, id: &ConversationId, changes: &Changes) -> SeqRanges {
        changes
            .sync_states
            .get(id)
            .or_else(|| self.convs.get(id).and_then(|c| c.state.as_ref()))
            .map(|s| s.known.clone())
            .unwrap_or_default()
    }

    /// The floor of a conversation seen for the first time, whose server max is `max`.
    fn initial_floor(&self, id: &ConversationId, conv: &Conv, max: Seq) -> Seq {
        let depth = if id.kind() == ConversationKind::Notification {
            self.config.notification_initial_depth
        } else {
            self.config.depth
        };
        Seq(max.0.saturating_add(1).saturating_sub(depth.min(max.0)))
            .max(conv.min_seq)
            .max(Seq(1))
    }

    /// Raises a conversation's floor to the start of the user's visible window when an ascending
    /// pull of `r` shows where it is. Servers answer every seq inside the window (placeholders
    /// for deleted ones) and nothing outside it, and 1001 carries no min seqs; so the seqs of `r`
    /// below the lowest one delivered — or all of `r`, when nothing came and newer seqs exist —
    /// lie below the window (a member who joined without history, a cleared conversation). Without
    /// this the cursor would stay below them for good.
    fn raise_floor_to_window(
        &mut self,
        id: &ConversationId,
        r: SeqRange,
        pulled: Option<&PullMsgs>,
        p: &mut Prepared,
    ) {
        let lowest = pulled.and_then(|pulled| {
            pulled
                .msgs
                .iter()
                .filter_map(|m| Seq::try_from(m.seq).ok())
                .filter(|s| *s >= r.start && *s <= r.end)
                .min()
        });
        let Some(conv) = self.convs.get_mut(id) else {
            return;
        };
        let current = p
            .changes
            .sync_states
            .get(id)
            .cloned()
            .or_else(|| conv.state.clone());
        let newer_known = current
            .as_ref()
            .and_then(|s| s.known.max())
            .unwrap_or(Seq::ZERO)
            .max(conv.server_max);
        let window_start = match lowest {
            Some(low) => low,
            None if newer_known > r.end => r.end.next(),
            None => return,
        };
        if window_start <= r.start {
            return;
        }
        conv.min_seq = conv.min_seq.max(window_start);
        let Some(current) = current else {
            return;
        };
        if current.floor >= window_start {
            return;
        }
        let new = SyncState::from_known(window_start, current.known.clone());
        gap_events(id, Some(&current), &new, p);
        p.changes.sync_states.insert(id.clone(), new);
    }

    /// Adds the new messages of `incoming` to the batch with each conversation's new state.
    /// The messages are sorted by seq and taken out: each one used leaves an empty message with
    /// only its seq behind.
    fn build(
        &mut self,
        incoming: &mut VecMap<ConversationId, PullMsgs>,
        source: MessageSource,
        p: &mut Prepared,
    ) {
        for (id, pulled) in incoming.iter_mut() {
            let wire = &mut pulled.msgs;
            crate::sort::sort_by(wire, &|a, b| a.seq.cmp(&b.seq));
            let conv = self.convs.get_or_default(id.clone());
            let old = conv.state.clone();
            let mut known = old.as_ref().map(|s| s.known.clone()).unwrap_or_default();
            let mut messages = Vec::new();
            for m in wire {
                if m.seq == 0 {
                    if source == MessageSource::Push {
                        p.events.push(SyncEvent::TransientNotification {
                            conversation_id: id.clone(),
                            msg: Box::new(std::mem::replace(m, EMPTY_MSG)),
                        });
                    } else {
                        p.events.push(SyncEvent::Dropped {
                            detail: format!("message without seq in a pull of {id}"),
                        });
                    }
                    continue;
                }
                let Ok(seq) = Seq::try_from(m.seq) else {
                    p.events.push(SyncEvent::Dropped {
                        detail: format!("negative seq {} in {id}", m.seq),
                    });
                    continue;
                };
                // Behind the cursor or a duplicate: already stored, ignored.
                if known.contains(seq) {
                    continue;
                }
                let wire_seq = m.seq;
                let taken = std::mem::replace(m, EMPTY_MSG);
                m.seq = wire_seq;
                match Message::from_wire(id.clone(), taken) {
                    Ok(message) => {
                        known.insert(seq);
                        messages.push(message);
                    }
                    Err(e) => p.events.push(SyncEvent::Dropped {
                        detail: format!("seq {seq} of {id}: {e}"),
                    }),
                }
            }
            let Some(batch_max) = messages.last().map(|m| m.seq) else {
                continue;
            };
            let conv = self.convs.get_or_default(id.clone());
            conv.server_max = conv.server_max.max(batch_max);
            let floor = match old.as_ref() {
                None => {
                    let conv = &self.convs[id];
                    self.initial_floor(id, conv, conv.server_max)
                }
                Some(state) => {
                    let conv = &self.convs[id];
                    let mut floor = state.floor.max(conv.min_seq);
                    if source == MessageSource::Push {
                        // A push far ahead of everything known or requested: keep only `depth`.
                        let reach = state
                            .cursor
                            .max(state.known.max().unwrap_or(Seq::ZERO))
                            .max(conv.requested.max().unwrap_or(Seq::ZERO));
                        if batch_max.0.saturating_sub(reach.0) > self.config.depth {
                            floor = floor.max(Seq(batch_max
                                .0
                                .saturating_add(1)
                                .saturating_sub(self.config.depth)));
                        }
                    }
                    floor
                }
            };
            let new = SyncState::from_known(floor, known);
            gap_events(id, old.as_ref(), &new, p);
            p.changes.messages.extend(messages.iter().cloned());
            p.changes.sync_states.insert(id.clone(), new);
            p.events.push(SyncEvent::NewMessages {
                conversation_id: id.clone(),
                messages,
                source,
            });
        }
    }

    fn plan_round(&mut self, round: u64, resp: GetMaxSeqResp, p: &mut Prepared) {
        let current = self.round.as_ref().is_some_and(|r| r.id == round);
        let mut seqs = Vec::new();
        for (key, value, is_min) in resp
            .max_seqs
            .into_iter()
            .map(|(k, v)| (k, v, false))
            .chain(resp.min_seqs.into_iter().map(|(k, v)| (k, v, true)))
        {
            let (Ok(id), Ok(seq)) = (ConversationId::parse(key.clone()), Seq::try_from(value))
            else {
                p.events.push(SyncEvent::Dropped {
                    detail: format!("max/min seq {value} of {}", Quoted(&key)),
                });
                continue;
            };
            seqs.push((id, seq, is_min));
        }
        // New conversations are added in one pass first (each map comes in ascending key
        // order), so thousands of them among thousands stored cost no repeated shifting.
        for min in [false, true] {
            let ids = seqs.iter().filter(|s| s.2 == min).map(|s| s.0.clone());
            self.convs.add_defaults(ids);
        }
        for (id, seq, is_min) in seqs {
            let conv = self.convs.get_or_default(id);
            if is_min {
                conv.min_seq = conv.min_seq.max(seq);
            } else {
                conv.server_max = conv.server_max.max(seq);
            }
        }
        if !current {
            return;
        }
        self.read_states_due = self.config.read_states;
        let batch = self.config.batch_size.max(1);
        let mut per_conv: Vec<Vec<(ConversationId, SeqRange)>> = Vec::new();
        let mut total = 0u64;
        let ids: Vec<ConversationId> = self.convs.keys().cloned().collect();
        for id in ids {
            let conv = &self.convs[&id];
            if conv.server_max == Seq::ZERO {
                continue;
            }
            let floor = match conv.state.as_ref() {
                None => self.initial_floor(&id, conv, conv.server_max),
                Some(state) => {
                    let mut floor = state.floor.max(conv.min_seq);
                    if conv.server_max.0.saturating_sub(state.cursor.0) > self.config.depth {
                        floor = floor.max(Seq(conv
                            .server_max
                            .0
                            .saturating_add(1)
                            .saturating_sub(self.config.depth)));
                    }
                    floor
                }
            };
            let known = conv
                .state
                .as_ref()
                .map(|s| s.known.clone())
                .unwrap_or_default();
            if conv.state.as_ref().is_none_or(|s| s.floor != floor) {
                let new = SyncState::from_known(floor, known.clone());
                gap_events(&id, conv.state.as_ref(), &new, p);
                p.changes.sync_states.insert(id.clone(), new);
            }
            let missing: SeqRanges = known.gaps_between(floor, conv.server_max).into();
            let missing = subtract(&subtract(&missing, &conv.requested), &conv.unavailable);
            let chunks = chunk_from_top(&missing, batch);
            let conv = self.convs.get_or_default(id.clone());
            for r in &chunks {
                conv.requested.insert_range(r.start, r.end);
                total = total.saturating_add(r.len());
            }
            per_conv.push(chunks.into_iter().map(|r| (id.clone(), r)).collect());
        }
        // Pass k takes the k-th newest chunk of every conversation, so the newest messages of
        // all conversations come first; within a pass each conversation appears once.
        let passes = per_conv.iter().map(Vec::len).max().unwrap_or(0);
        let mut requests = 0usize;
        for k in 0..passes {
            let mut current: Vec<(ConversationId, SeqRange)> = Vec::new();
            let mut size = 0u64;
            for chunks in &per_conv {
                let Some((id, r)) = chunks.get(k) else {
                    continue;
                };
                if !current.is_empty() && size.saturating_add(r.len()) > batch {
                    self.plan.push_back(std::mem::take(&mut current));
                    requests += 1;
                    size = 0;
                }
                size = size.saturating_add(r.len());
                current.push((id.clone(), *r));
            }
            if !current.is_empty() {
                self.plan.push_back(current);
                requests += 1;
            }
        }
        if let Some(r) = self.round.as_mut() {
            r.planned = true;
            r.total = total;
            r.pending = requests;
        }
        p.events.push(SyncEvent::SyncStarted { total });
    }

    fn process_history(
        &mut self,
        id: HistoryId,
        conversation_id: ConversationId,
        page: SeqRange,
        data: Option<Vec<(String, PullMsgs)>>,
        p: &mut Prepared,
    ) {
        let Some(data) = data else {
            let lowest = self
                .convs
                .get(&conversation_id)
                .map_or(Seq(1), |c| c.visible_min.max(Seq(1)));
            p.effects.push(Effect::Event(SyncEvent::HistoryLoaded {
                id,
                conversation_id,
                page: Some(page),
                complete: false,
                reached_start: page.start <= lowest,
            }));
            return;
        };
        let mut incoming = self.incoming(data, &mut p.events);
        if let Some(pulled) = incoming.get(&conversation_id) {
            // Descending order: isEnd says the request reached the first visible seq, endSeq.
            if pulled.is_end {
                if let Ok(lo) = Seq::try_from(pulled.end_seq) {
                    let conv = self.convs.get_or_default(conversation_id.clone());
                    conv.visible_min = conv.visible_min.max(lo);
                }
            }
        }
        self.build(&mut incoming, MessageSource::History, p);
        let lowest = self
            .convs
            .get(&conversation_id)
            .map_or(Seq(1), |c| c.visible_min.max(Seq(1)));
        let known = self.known_after(&conversation_id, &p.changes);
        let from = page.start.max(lowest);
        p.effects.push(Effect::Event(SyncEvent::HistoryLoaded {
            id,
            conversation_id,
            page: Some(page),
            complete: from > page.end || known.contains_range(from, page.end),
            reached_start: page.start <= lowest,
        }));
    }
}

/// Gap events between two states of a conversation: gaps are the missing seqs between the floor
/// and the highest known seq.
fn gap_events(id: &ConversationId, old: Option<&SyncState>, new: &SyncState, p: &mut Prepared) {
    let before = old.map(gap_set).unwrap_or_default();
    let after = gap_set(new);
    for range in subtract(&after, &before).ranges() {
        p.changes.gaps_opened.push(GapChange {
            conversation_id: id.clone(),
            range: *range,
        });
        p.events.push(SyncEvent::GapOpened {
            conversation_id: id.clone(),
            range: *range,
        });
    }
    for range in subtract(&before, &after).ranges() {
        p.changes.gaps_closed.push(GapChange {
            conversation_id: id.clone(),
            range: *range,
        });
        p.events.push(SyncEvent::GapClosed {
            conversation_id: id.clone(),
            range: *range,
        });
    }
}

/// An empty wire message, left in place of each message taken out of an answer.
const EMPTY_MSG: MsgData = MsgData {
    send_id: String::new(),
    recv_id: String::new(),
    group_id: String::new(),
    client_msg_id: String::new(),
    server_msg_id: String::new(),
    sender_platform_id: 0,
    sender_nickname: String::new(),
    sender_face_url: String::new(),
    session_type: 0,
    msg_from: 0,
    content_type: 0,
    content: Vec::new(),
    seq: 0,
    send_time: 0,
    create_time: 0,
    status: 0,
    is_read: false,
    options: chorus_proto::pb::Map::new(),
    offline_push_info: None,
    at_user_id_list: Vec::new(),
    attached_info: String::new(),
    ex: String::new(),
};

fn gap_set(state: &SyncState) -> SeqRanges {
    match state.known.max() {
        Some(max) => state
            .known
            .gaps_between(state.floor.max(Seq(1)), max)
            .into(),
        None => SeqRanges::new(),
    }
}

fn single(r: SeqRange) -> SeqRanges {
    vec![r].into()
}

/// `a` without the seqs of `b`.
fn subtract(a: &SeqRanges, b: &SeqRanges) -> SeqRanges {
    let mut out = SeqRanges::new();
    for r in a.ranges() {
        for part in b.gaps_between(r.start, r.end) {
            out.insert_range(part.start, part.end);
        }
    }
    out
}

/// Splits every range into pieces of at most `size` seqs, newest first.
fn chunk_from_top(missing: &SeqRanges, size: u64) -> Vec<SeqRange> {
    let mut chunks = Vec::new();
    for r in missing.ranges().iter().rev() {
        let mut end = r.end;
        loop {
            let start = Seq(end.0.saturating_sub(size - 1)).max(r.start);
            if let Some(chunk) = SeqRange::new(start, end) {
                chunks.push(chunk);
            }
            if start <= r.start {
                break;
            }
            end = start.prev();
        }
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_proto::pb::Map;

    fn set(seqs: &[u64]) -> SeqRanges {
        seqs.iter().map(|&s| Seq(s)).collect()
    }

    #[test]
    fn subtract_and_chunk() {
        let a = set(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        let b = set(&[3, 4, 8]);
        crate::assert_ranges!(subtract(&a, &b), [1..=2] gap [5..=7] gap [9..=10]);
        let chunks = chunk_from_top(&set(&[1, 2, 3, 4, 5, 6, 7, 20]), 3);
        let shown: Vec<(u64, u64)> = chunks.iter().map(|r| (r.start.0, r.end.0)).collect();
        assert_eq!(shown, vec![(20, 20), (5, 7), (2, 4), (1, 1)]);
    }

    /// Runs the engine against a server whose visible window of `conv` is `lo..=hi` (1001 says
    /// only the max, as real servers do) until nothing is left to do; returns the pull ranges.
    fn sync_against_window(sync: &mut Sync, conv: &str, lo: u64, hi: u64) -> Vec<(i64, i64)> {
        use chorus_proto::envelope::decode_request_payload;
        use chorus_proto::pb::sdkws::PullMessageBySeqsResp;
        let mut pulls = Vec::new();
        for _ in 0..100 {
            let mut progressed = false;
            while let Some(changes) = sync.poll_changes() {
                progressed = true;
                sync.commit(&changes).expect("commit");
            }
            while let Some(request) = sync.poll_request() {
                progressed = true;
                let payload =
                    match decode_request_payload(request.req_identifier.as_i32(), &request.payload)
                    {
                        Ok(RequestPayload::GetNewestSeq(_)) => {
                            ResponsePayload::GetNewestSeq(GetMaxSeqResp {
                                max_seqs: [(conv.to_owned(), hi as i64)].into(),
                                min_seqs: Map::new(),
                            })
                        }
                        Ok(RequestPayload::PullMsgByRange(req)) => {
                            let mut resp = PullMessageBySeqsResp::default();
                            for r in req.seq_ranges {
                                pulls.push((r.begin, r.end));
                                let msgs = (r.begin.max(lo as i64)..=r.end.min(hi as i64))
                                    .map(|seq| MsgData {
                                        seq,
                                        send_id: "peer".into(),
                                        group_id: "g".into(),
                                        session_type: 3,
                                        content_type: 101,
                                        client_msg_id: format!("c{seq}"),
                                        server_msg_id: format!("s{seq}"),
                                        ..MsgData::default()
                                    })
                                    .collect();
                                resp.msgs.insert(
                                    r.conversation_id,
                                    PullMsgs {
                                        msgs,
                                        is_end: r.end >= hi as i64,
                                        end_seq: 0,
                                    },
                                );
                            }
                            ResponsePayload::PullMsgByRange(resp)
                        }
                        other => panic!("unexpected request {other:?}"),
                    };
                sync.handle_response(request.tag, payload);
            }
            if !progressed {
                break;
            }
        }
        pulls
    }

    #[test]
    fn seqs_below_the_visible_window_raise_the_floor() {
        let conv = ConversationId::parse("sg_g").expect("id");
        // One pull covers the window and the seqs below it.
        let mut sync = Sync::new(SyncConfig::new("me"));
        sync.on_connected();
        sync_against_window(&mut sync, "sg_g", 13, 15);
        let state = sync.sync_state(&conv).expect("state").clone();
        assert_eq!((state.floor, state.cursor), (Seq(13), Seq(15)), "{state:?}");
        // The next round asks for nothing below the window.
        sync.on_disconnected();
        sync.on_connected();
        assert!(sync_against_window(&mut sync, "sg_g", 13, 15).is_empty());

        // Small batches: older chunks come back empty and still count as outside the window.
        let mut config = SyncConfig::new("me");
        config.batch_size = 2;
        let mut sync = Sync::new(config);
        sync.on_connected();
        sync_against_window(&mut sync, "sg_g", 6, 9);
        let state = sync.sync_state(&conv).expect("state").clone();
        assert_eq!((state.floor, state.cursor), (Seq(6), Seq(9)), "{state:?}");
    }

    #[test]
    fn read_states_follow_the_round_pulls_and_surface_as_an_event() {
        use chorus_proto::pb::msg::Seqs;
        let ids = |sync: &mut Sync| {
            std::iter::from_fn(|| sync.poll_request())
                .map(|r| (r.req_identifier, r.tag))
                .collect::<Vec<_>>()
        };
        let max = || {
            ResponsePayload::GetNewestSeq(GetMaxSeqResp {
                max_seqs: [("sg_g".to_owned(), 3)].into(),
                min_seqs: Map::new(),
            })
        };
        // Off (the engine's default): no 1006.
        let mut sync = Sync::new(SyncConfig::new("me"));
        sync.on_connected();
        let sent = ids(&mut sync);
        sync.handle_response(sent[0].1, max());
        let sent = ids(&mut sync);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, ReqIdentifier::PullMsgByRange);

        let mut config = SyncConfig::new("me");
        config.read_states = true;
        config.max_retries = 1;
        let mut sync = Sync::new(config);
        sync.on_connected();
        let sent = ids(&mut sync);
        assert_eq!(sent.len(), 1, "only the 1001 goes first");
        sync.handle_response(sent[0].1, max());
        let sent = ids(&mut sync);
        let kinds: Vec<ReqIdentifier> = sent.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [
                ReqIdentifier::PullMsgByRange,
                ReqIdentifier::GetConvMaxReadSeq
            ]
        );
        let mut resp = GetConversationsHasReadAndMaxSeqResp::default();
        resp.seqs.insert(
            "sg_g".into(),
            Seqs {
                max_seq: 3,
                has_read_seq: 2,
                max_seq_time: 0,
            },
        );
        resp.seqs.insert(
            "bogus".into(),
            Seqs {
                max_seq: 1,
                has_read_seq: 1,
                max_seq_time: 0,
            },
        );
        resp.seqs.insert(
            "sg_neg".into(),
            Seqs {
                max_seq: -1,
                has_read_seq: 0,
                max_seq_time: 0,
            },
        );
        sync.handle_response(sent[1].1, ResponsePayload::GetConvMaxReadSeq(resp));
        while let Some(changes) = sync.poll_changes() {
            sync.commit(&changes).expect("commit");
        }
        let events: Vec<SyncEvent> = std::iter::from_fn(|| sync.poll_event()).collect();
        let states: Vec<&ReadState> = events
            .iter()
            .filter_map(|e| match e {
                SyncEvent::ReadStates { states } => Some(states),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(
            states,
            [&ReadState {
                conversation_id: ConversationId::parse("sg_g").expect("id"),
                max_seq: Seq(3),
                has_read_seq: Seq(2),
            }]
        );
        let dropped = events
            .iter()
            .filter(|e| matches!(e, SyncEvent::Dropped { .. }))
            .count();
        assert_eq!(dropped, 2, "{events:?}");

        // A failing 1006 is retried, then given up with a report; the next round asks again.
        sync.on_disconnected();
        sync.on_connected();
        let sent = ids(&mut sync);
        sync.handle_response(sent[0].1, max());
        let read = |sent: &[(ReqIdentifier, SyncTag)]| {
            sent.iter()
                .find(|(k, _)| *k == ReqIdentifier::GetConvMaxReadSeq)
                .map(|(_, t)| *t)
        };
        let first = read(&ids(&mut sync)).expect("a 1006 on every round");
        sync.handle_request_failed(first);
        let retry = read(&ids(&mut sync)).expect("retried");
        sync.handle_request_failed(retry);
        assert_eq!(read(&ids(&mut sync)), None, "given up");
        let events: Vec<SyncEvent> = std::iter::from_fn(|| sync.poll_event()).collect();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, SyncEvent::Dropped { detail } if detail.contains("1006"))),
            "{events:?}"
        );
    }
}
