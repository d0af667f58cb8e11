//! The outbox against a `MemoryStore` and a small fake server that deduplicates by clientMsgID
//! and assigns seqs: persisted before it leaves, acknowledged, echoed (before or after the ack),
//! resent after lost acks, disconnects and restarts with the same clientMsgID, failed with the
//! server's code — and a property test over random interleavings of all of these.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chorus_core::changes::{Changes, OutboxChange};
use chorus_core::conn::{RequestError, SeededEntropy};
use chorus_core::model::{Content, Message, MessageStatus, Seq};
use chorus_core::outbox::{
    ClientMsgId, Draft, MsgIdSource, Outbox, OutboxConfig, OutboxEvent, OutboxRequest, Recipient,
    SendFailure, SequentialMsgIds, CODE_TIMEOUT,
};
use chorus_core::store::{Direction, Store};
use chorus_core::{ConversationId, MemoryStore};
use chorus_proto::constants::ErrorCode;
use chorus_proto::envelope::{decode_request_payload, RequestPayload};
use chorus_proto::pb::msg::SendMsgResp;
use chorus_proto::pb::sdkws::MsgData;
use futures::executor::block_on;
use proptest::prelude::*;

const ME: &str = "me";
/// Texts starting with this are refused by the fake server with 1402 (muted in group).
const REFUSED: &str = "refused:";

// ---- the fake server ------------------------------------------------------------------------

/// What the server answers to one 1003 request.
enum Answer {
    /// Accepted; `echo` is the stored message with its seq, pushed back to the sender — `None`
    /// for a resend of a message it already has (no new seq, no new push).
    Ack {
        resp: Box<SendMsgResp>,
        echo: Option<Box<Message>>,
    },
    /// Refused with an error code.
    Refused(i32),
}

#[derive(Default)]
struct FakeServer {
    next_seq: BTreeMap<ConversationId, u64>,
    /// clientMsgID → (conversation, seq).
    by_client_id: HashMap<String, (ConversationId, Seq)>,
    log: BTreeMap<(ConversationId, Seq), Message>,
    /// 1003 requests that reached the server, resends included.
    received: usize,
    clock: i64,
}

impl FakeServer {
    fn handle(&mut self, payload: &[u8]) -> Answer {
        self.received += 1;
        let data: MsgData = match decode_request_payload(1003, payload) {
            Ok(RequestPayload::SendMsg(data)) => *data,
            other => panic!("not a 1003 payload: {other:?}"),
        };
        assert_eq!(data.seq, 0, "a send carries no seq");
        assert_eq!(data.client_msg_id.len(), 32);
        if let Some(key) = self.by_client_id.get(&data.client_msg_id) {
            let stored = &self.log[key];
            return Answer::Ack {
                resp: Box::new(SendMsgResp {
                    server_msg_id: stored.server_msg_id.clone(),
                    client_msg_id: data.client_msg_id.clone(),
                    send_time: stored.send_time,
                    modify: None,
                }),
                echo: None,
            };
        }
        let conversation = ConversationId::for_msg_data(&data).expect("routable message");
        let mut message = Message::from_wire(conversation.clone(), data).expect("valid message");
        if message
            .content
            .text()
            .is_some_and(|t| t.starts_with(REFUSED))
        {
            return Answer::Refused(ErrorCode::MutedInGroup.code());
        }
        let seq = self.next_seq.entry(conversation.clone()).or_insert(0);
        *seq += 1;
        let seq = Seq(*seq);
        self.clock += 1;
        message.seq = seq;
        message.status = MessageStatus::Sent;
        message.server_msg_id = format!("srv-{}-{seq}", conversation);
        message.send_time = 1_000_000 + self.clock;
        self.by_client_id
            .insert(message.client_msg_id.clone(), (conversation.clone(), seq));
        self.log.insert((conversation, seq), message.clone());
        Answer::Ack {
            resp: Box::new(SendMsgResp {
                server_msg_id: message.server_msg_id.clone(),
                client_msg_id: message.client_msg_id.clone(),
                send_time: message.send_time,
                modify: None,
            }),
            echo: Some(Box::new(message)),
        }
    }

    fn seq_of(&self, client_msg_id: &str) -> Option<Seq> {
        self.by_client_id.get(client_msg_id).map(|(_, seq)| *seq)
    }
}

// ---- the client side ------------------------------------------------------------------------

/// Something travelling from the server to the client.
#[derive(Debug, Clone)]
enum Down {
    /// The answer to request number `request`.
    Ack {
        request: u64,
        id: ClientMsgId,
        resp: SendMsgResp,
    },
    /// A refusal of request number `request`.
    Refused {
        request: u64,
        id: ClientMsgId,
        code: i32,
    },
    /// A 2001 push of a stored message.
    Push(Message),
}

/// The client app: a store, an outbox, and what is on the wire in both directions.
struct Sim {
    store: MemoryStore,
    outbox: Outbox,
    server: FakeServer,
    config: OutboxConfig,
    connected: bool,
    /// Requests sent and not yet at the server: (request number, request).
    up: VecDeque<(u64, OutboxRequest)>,
    down: Vec<Down>,
    /// Requests the connection still waits an answer for: request number → clientMsgID.
    live: BTreeMap<u64, ClientMsgId>,
    next_request: u64,
    /// Ids handed out so far (a restarted app keeps drawing fresh ones).
    ids_drawn: u128,
    sent: Vec<(ClientMsgId, String)>,
    events: Vec<OutboxEvent>,
    now: i64,
}

/// Ids counting down: sending order must never follow the ids' order.
struct DescendingIds(u128);

impl MsgIdSource for DescendingIds {
    fn next_bits(&mut self) -> u128 {
        self.0 -= 1;
        self.0
    }
}

impl Sim {
    fn new(config: OutboxConfig) -> Sim {
        Sim::with_ids(config, Box::new(SequentialMsgIds::default()))
    }

    fn with_ids(config: OutboxConfig, ids: Box<dyn MsgIdSource>) -> Sim {
        let outbox = Outbox::new(config.clone(), ids);
        Sim {
            store: MemoryStore::new(),
            outbox,
            server: FakeServer::default(),
            config,
            connected: false,
            up: VecDeque::new(),
            down: Vec::new(),
            live: BTreeMap::new(),
            next_request: 0,
            ids_drawn: 0,
            sent: Vec::new(),
            events: Vec::new(),
            now: 1_000,
        }
    }

    /// Saves a batch and tells the outbox; then saves any leftover batch it asks for.
    fn persist(&mut self, changes: &Changes) {
        block_on(self.store.save_changes(changes)).expect("batch saved");
        self.outbox.commit(changes);
        while let Some(cleanup) = self.outbox.poll_changes() {
            block_on(self.store.save_changes(&cleanup)).expect("cleanup saved");
            self.outbox.commit(&cleanup);
        }
        while let Some(event) = self.outbox.poll_event() {
            self.events.push(event);
        }
    }

    fn send(&mut self, recipient: Recipient, text: &str) -> ClientMsgId {
        self.now += 1;
        let (id, changes) = self
            .outbox
            .send(self.now, Draft::text(recipient, text))
            .expect("send");
        self.ids_drawn += 1;
        self.persist(&changes);
        self.sent.push((id.clone(), text.to_owned()));
        id
    }

    fn connect(&mut self) {
        if !self.connected {
            self.connected = true;
            self.outbox.on_connected();
        }
    }

    /// Moves every request the outbox has ready onto the wire.
    fn pump(&mut self) {
        if !self.connected {
            return;
        }
        while let Some(request) = self.outbox.poll_request() {
            self.next_request += 1;
            self.live
                .insert(self.next_request, request.client_msg_id.clone());
            self.up.push_back((self.next_request, request));
        }
    }

    /// The first request on the wire reaches the server; its answer and push head back.
    fn deliver_up(&mut self) -> bool {
        let Some((request, req)) = self.up.pop_front() else {
            return false;
        };
        match self.server.handle(&req.payload) {
            Answer::Ack { resp, echo } => {
                self.down.push(Down::Ack {
                    request,
                    id: req.client_msg_id,
                    resp: *resp,
                });
                if let Some(echo) = echo {
                    self.down.push(Down::Push(*echo));
                }
            }
            Answer::Refused(code) => self.down.push(Down::Refused {
                request,
                id: req.client_msg_id,
                code,
            }),
        }
        true
    }

    /// Item `index` travelling down reaches the client.
    fn deliver_down(&mut self, index: usize) {
        if self.down.is_empty() {
            return;
        }
        let item = self.down.remove(index % self.down.len());
        match item {
            Down::Ack { request, id, resp } => {
                // A connection ignores answers to requests it gave up (timed out).
                if self.live.remove(&request).is_some() {
                    if let Some(changes) = self.outbox.handle_ack(id.as_str(), &resp) {
                        self.persist(&changes);
                    }
                }
            }
            Down::Refused { request, id, code } => {
                if self.live.remove(&request).is_some() {
                    let failure = SendFailure::from(&RequestError::Server {
                        code: ErrorCode::from_code(code),
                        msg: "refused".into(),
                    });
                    if let Some(changes) = self.outbox.handle_failed(id.as_str(), &failure) {
                        self.persist(&changes);
                    }
                }
            }
            Down::Push(message) => self.receive(vec![message]),
        }
    }

    /// Received messages are stored as the sync engine stores them: one batch, with the removal
    /// of the outbox entries they echo.
    fn receive(&mut self, messages: Vec<Message>) {
        if messages.is_empty() {
            return;
        }
        let mut changes = Changes::new();
        changes.messages = messages;
        self.outbox.add_echo_removals(&mut changes);
        self.persist(&changes);
    }

    /// A connect-time pull: every server message the store lacks.
    fn pull(&mut self) {
        if !self.connected {
            return;
        }
        let mut missing = Vec::new();
        for ((conversation, seq), message) in &self.server.log {
            let stored =
                block_on(
                    self.store
                        .messages(conversation, *seq..=*seq, 1, Direction::Ascending),
                )
                .expect("read");
            if stored.is_empty() {
                missing.push(message.clone());
            }
        }
        self.receive(missing);
    }

    /// The oldest live request times out (its answer, if any, will be ignored).
    fn timeout(&mut self, index: usize) {
        if self.live.is_empty() {
            return;
        }
        let key = *self
            .live
            .keys()
            .nth(index % self.live.len())
            .expect("index in range");
        let id = self.live.remove(&key).expect("live request");
        if let Some(changes) = self
            .outbox
            .handle_failed(id.as_str(), &SendFailure::Timeout)
        {
            self.persist(&changes);
        }
    }

    /// The connection drops: what is on the wire is lost, live requests fail as closed.
    fn disconnect(&mut self, report_first: bool) {
        if !self.connected {
            return;
        }
        self.connected = false;
        self.up.clear();
        self.down.clear();
        if !report_first {
            self.outbox.on_disconnected();
        }
        let live = std::mem::take(&mut self.live);
        for id in live.values() {
            if let Some(changes) = self.outbox.handle_failed(id.as_str(), &SendFailure::Closed) {
                self.persist(&changes);
            }
        }
        if report_first {
            self.outbox.on_disconnected();
        }
    }

    /// The app restarts: memory is gone, the store remains.
    fn restart(&mut self) {
        self.connected = false;
        self.up.clear();
        self.down.clear();
        self.live.clear();
        let ids = SequentialMsgIds::starting_after(self.ids_drawn);
        self.outbox = Outbox::new(self.config.clone(), Box::new(ids));
        let entries = block_on(self.store.outbox()).expect("outbox");
        let loaded: Vec<_> = entries
            .into_iter()
            .map(|entry| {
                let message =
                    block_on(self.store.message_by_client_id(&entry.client_msg_id)).expect("read");
                (entry, message)
            })
            .collect();
        let cleanup = self.outbox.load(loaded);
        self.persist(&cleanup);
    }

    /// Runs until nothing moves: connected, every request answered (or timed out), every push
    /// delivered, a final pull. Bounded, so a livelock fails.
    fn settle(&mut self) {
        self.connect();
        for _ in 0..1_000 {
            self.pump();
            let mut moved = false;
            while self.deliver_up() {
                moved = true;
            }
            while !self.down.is_empty() {
                self.deliver_down(0);
                moved = true;
            }
            self.pull();
            if !moved && self.up.is_empty() && self.down.is_empty() {
                if !self.live.is_empty() {
                    // Answers lost on a live connection: the connection times the requests out.
                    self.timeout(0);
                    continue;
                }
                self.pump();
                if self.up.is_empty() {
                    return;
                }
            }
        }
        panic!("the outbox never settled: {} waiting", self.outbox.len());
    }

    fn stored(&self, id: &ClientMsgId) -> Message {
        block_on(self.store.message_by_client_id(id.as_str()))
            .expect("read")
            .unwrap_or_else(|| panic!("message {id} not stored"))
    }

    fn stored_outbox_len(&self) -> usize {
        block_on(self.store.outbox()).expect("outbox").len()
    }

    /// Every stored row of a conversation with a seq.
    fn rows(&self, conversation: &ConversationId) -> Vec<Message> {
        block_on(self.store.messages(
            conversation,
            Seq(1)..=Seq::MAX,
            usize::MAX,
            Direction::Ascending,
        ))
        .expect("read")
    }

    fn take_events(&mut self) -> Vec<OutboxEvent> {
        std::mem::take(&mut self.events)
    }
}

fn group() -> Recipient {
    Recipient::Group("g1".into())
}

fn sg_g1() -> ConversationId {
    ConversationId::group("g1")
}

fn sim() -> Sim {
    let mut config = OutboxConfig::new(ME);
    config.nickname = "Me".into();
    Sim::new(config)
}

fn sent_events(events: &[OutboxEvent]) -> Vec<(ClientMsgId, Seq)> {
    events
        .iter()
        .filter_map(|e| match e {
            OutboxEvent::MessageSent { client_msg_id, seq } => Some((client_msg_id.clone(), *seq)),
            _ => None,
        })
        .collect()
}

// ---- ids ------------------------------------------------------------------------------------

#[test]
fn client_msg_ids_are_32_hex_chars_and_distinct() {
    let mut outbox = Outbox::new(OutboxConfig::new(ME), Box::new(SeededEntropy::new(7)));
    let mut seen = std::collections::HashSet::new();
    for i in 0..200 {
        let (id, _) = outbox.send(i, Draft::text(group(), "hi")).expect("send");
        assert_eq!(id.as_str().len(), 32, "{id}");
        assert!(
            id.as_str()
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "{id}"
        );
        assert!(seen.insert(id), "duplicate id");
    }
    assert_eq!(
        ClientMsgId::from_bits(0xab).as_str(),
        "000000000000000000000000000000ab"
    );
    for bits in [
        1 << 64,
        u128::MAX,
        0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
    ] {
        assert_eq!(
            ClientMsgId::from_bits(bits).as_str(),
            format!("{bits:032x}")
        );
    }
}

// ---- persisted before it leaves -------------------------------------------------------------

#[test]
fn a_message_is_stored_as_sending_before_it_leaves() {
    let mut outbox = Outbox::new(OutboxConfig::new(ME), Box::new(SequentialMsgIds::default()));
    outbox.on_connected();
    let (id, changes) = outbox
        .send(5_000, Draft::text(group(), "hello"))
        .expect("send");
    // Not committed yet: nothing leaves.
    assert_eq!(outbox.poll_request(), None);
    assert!(outbox.is_empty());

    assert_eq!(changes.messages.len(), 1);
    let message = &changes.messages[0];
    assert_eq!(message.client_msg_id, id.as_str());
    assert_eq!(message.seq, Seq::ZERO);
    assert_eq!(message.status, MessageStatus::Sending);
    assert_eq!(message.conversation_id, sg_g1());
    assert_eq!(message.send_id, ME);
    assert_eq!(message.create_time, 5_000);
    let [OutboxChange::Put(entry)] = changes.outbox.as_slice() else {
        panic!("one outbox entry expected: {:?}", changes.outbox);
    };
    assert_eq!(entry.client_msg_id, id.as_str());
    assert_eq!(entry.attempts, 0);

    let store = MemoryStore::new();
    block_on(store.save_changes(&changes)).expect("saved");
    outbox.commit(&changes);
    let stored = block_on(store.message_by_client_id(id.as_str()))
        .expect("read")
        .expect("stored");
    assert_eq!(stored.status, MessageStatus::Sending);
    assert_eq!(block_on(store.outbox()).expect("outbox").len(), 1);

    let request = outbox.poll_request().expect("a request once committed");
    assert_eq!(request.client_msg_id, id);
    let Ok(RequestPayload::SendMsg(data)) = decode_request_payload(1003, &request.payload) else {
        panic!("payload is not a MsgData");
    };
    assert_eq!(data.client_msg_id, id.as_str());
    assert_eq!(data.send_id, ME);
    assert_eq!(data.group_id, "g1");
    assert_eq!(data.session_type, 3);
    assert_eq!(data.content_type, 101);
    assert_eq!(data.seq, 0);
    assert_eq!(
        Content::from_wire(101, data.content.clone()).text(),
        Some("hello")
    );
    // Once sent, it is not handed out again on the same connection.
    assert_eq!(outbox.poll_request(), None);
}

#[test]
fn a_single_chat_message_names_the_peer() {
    let mut outbox = Outbox::new(OutboxConfig::new(ME), Box::new(SequentialMsgIds::default()));
    let (_, changes) = outbox
        .send(1, Draft::text(Recipient::User("bob".into()), "hi"))
        .expect("send");
    let message = &changes.messages[0];
    assert_eq!(message.conversation_id.as_str(), "si_bob_me");
    assert_eq!(message.recv_id, "bob");
    assert_eq!(message.group_id, "");
    let data = message.to_wire().expect("wire");
    assert_eq!(
        ConversationId::for_msg_data(&data).expect("routable"),
        message.conversation_id
    );
}

#[test]
fn nothing_leaves_while_disconnected() {
    let mut s = sim();
    s.send(group(), "one");
    s.pump();
    assert!(s.up.is_empty());
    assert_eq!(s.outbox.poll_request(), None);
    s.connect();
    s.pump();
    assert_eq!(s.up.len(), 1);
}

#[test]
fn committing_a_batch_twice_sends_once() {
    let mut outbox = Outbox::new(OutboxConfig::new(ME), Box::new(SequentialMsgIds::default()));
    outbox.on_connected();
    let (_, changes) = outbox.send(1, Draft::text(group(), "x")).expect("send");
    outbox.commit(&changes);
    outbox.commit(&changes);
    assert_eq!(outbox.len(), 1);
    assert!(outbox.poll_request().is_some());
    assert_eq!(outbox.poll_request(), None);
}

// ---- ack and echo ---------------------------------------------------------------------------

#[test]
fn ack_then_echo_stores_the_seq_and_empties_the_outbox() {
    let mut s = sim();
    s.connect();
    let id = s.send(group(), "hello");
    s.pump();
    assert!(s.deliver_up());
    // Ack first.
    assert!(matches!(s.down[0], Down::Ack { .. }));
    s.deliver_down(0);
    let acked = s.stored(&id);
    assert_eq!(acked.seq, Seq::ZERO);
    assert_eq!(acked.status, MessageStatus::Sent);
    assert_eq!(acked.server_msg_id, "srv-sg_g1-1");
    assert!(s.outbox.is_acked(id.as_str()));
    assert_eq!(s.stored_outbox_len(), 1, "still waiting for the seq");
    // Then the echo.
    s.deliver_down(0);
    let stored = s.stored(&id);
    assert_eq!(stored.seq, Seq(1));
    assert_eq!(stored.status, MessageStatus::Sent);
    assert!(s.outbox.is_empty());
    assert_eq!(s.stored_outbox_len(), 0);
    assert_eq!(s.rows(&sg_g1()).len(), 1);
    let events = s.take_events();
    assert!(matches!(
        &events[0],
        OutboxEvent::MessageAcked { client_msg_id, server_msg_id, .. }
            if client_msg_id == &id && server_msg_id == "srv-sg_g1-1"
    ));
    assert_eq!(sent_events(&events), vec![(id, Seq(1))]);
}

#[test]
fn echo_before_ack_is_final_and_the_late_ack_changes_nothing() {
    let mut s = sim();
    s.connect();
    let id = s.send(group(), "hello");
    s.pump();
    s.deliver_up();
    // The push overtakes the answer.
    s.deliver_down(1);
    assert_eq!(s.stored(&id).seq, Seq(1));
    assert!(s.outbox.is_empty());
    assert_eq!(s.stored_outbox_len(), 0);
    // The answer comes last and must not write a seq-0 row over the stored one.
    let resp = SendMsgResp {
        server_msg_id: "srv-sg_g1-1".into(),
        client_msg_id: id.as_str().into(),
        send_time: 1,
        modify: None,
    };
    assert_eq!(s.outbox.handle_ack(id.as_str(), &resp), None);
    s.deliver_down(0);
    assert_eq!(s.stored(&id).seq, Seq(1));
    assert_eq!(s.rows(&sg_g1()).len(), 1);
    assert_eq!(sent_events(&s.take_events()), vec![(id, Seq(1))]);
}

#[test]
fn observe_echo_stores_the_seq_and_removes_the_entry_in_one_batch() {
    let mut s = sim();
    s.connect();
    let id = s.send(group(), "hello");
    s.pump();
    s.deliver_up();
    let Some(Down::Push(echo)) = s.down.get(1).cloned() else {
        panic!("no push");
    };
    let changes = s
        .outbox
        .observe_echo(&echo)
        .expect("an echo of a waiting message");
    assert_eq!(changes.messages, vec![echo.clone()]);
    assert_eq!(
        changes.outbox,
        vec![OutboxChange::Remove {
            client_msg_id: id.as_str().into()
        }]
    );
    s.persist(&changes);
    assert_eq!(s.stored(&id).seq, Seq(1));
    assert_eq!(s.stored_outbox_len(), 0);
    assert!(s.outbox.observe_echo(&echo).is_none(), "only once");
    // Someone else's message is no echo.
    let mut other = echo;
    other.client_msg_id = "ffffffffffffffffffffffffffffffff".into();
    assert!(s.outbox.observe_echo(&other).is_none());
}

#[test]
fn an_echo_committed_without_its_removal_is_cleaned_up() {
    let mut s = sim();
    s.connect();
    let id = s.send(group(), "hello");
    s.pump();
    s.deliver_up();
    let Some(Down::Push(echo)) = s.down.get(1).cloned() else {
        panic!("no push");
    };
    // A batch saved without `add_echo_removals`.
    let changes = Changes::new().message(echo);
    block_on(s.store.save_changes(&changes)).expect("saved");
    s.outbox.commit(&changes);
    assert_eq!(s.stored_outbox_len(), 1);
    let cleanup = s.outbox.poll_changes().expect("a cleanup batch");
    s.persist(&cleanup);
    assert_eq!(s.stored_outbox_len(), 0);
    assert!(s.outbox.poll_changes().is_none());
    assert_eq!(sent_events(&s.take_events()), vec![(id, Seq(1))]);
}

// ---- lost acks, disconnects, restarts -------------------------------------------------------

#[test]
fn a_lost_ack_is_resent_with_the_same_id_and_stored_once() {
    let mut s = sim();
    s.connect();
    let id = s.send(group(), "hello");
    s.pump();
    s.deliver_up();
    // The connection drops before the answer and the push arrive.
    s.disconnect(false);
    s.connect();
    s.pump();
    let (_, resent) = s.up.front().cloned().expect("resent after reconnect");
    assert_eq!(resent.client_msg_id, id);
    s.settle();
    assert_eq!(s.server.received, 2);
    assert_eq!(s.server.log.len(), 1, "the server deduplicated the resend");
    assert_eq!(s.stored(&id).seq, Seq(1));
    assert_eq!(s.rows(&sg_g1()).len(), 1);
    assert!(s.outbox.is_empty());
    assert_eq!(s.stored_outbox_len(), 0);
}

#[test]
fn a_closed_connection_waits_for_reconnect_and_uses_no_attempt() {
    let mut config = OutboxConfig::new(ME);
    config.max_attempts = 1;
    let mut s = Sim::new(config);
    s.connect();
    let id = s.send(group(), "hello");
    for _ in 0..5 {
        s.pump();
        s.disconnect(true);
        s.pump();
        assert!(s.up.is_empty(), "nothing is sent while disconnected");
        s.connect();
    }
    s.settle();
    assert_eq!(s.stored(&id).seq, Seq(1));
    assert!(s
        .take_events()
        .iter()
        .all(|e| !matches!(e, OutboxEvent::MessageFailed { .. })));
}

#[test]
fn a_new_connection_resends_what_was_in_flight_on_the_old_one() {
    // A driver that reports only the new connection (no disconnect, no failed requests).
    let mut outbox = Outbox::new(OutboxConfig::new(ME), Box::new(SequentialMsgIds::default()));
    outbox.on_connected();
    let (a, first) = outbox.send(1, Draft::text(group(), "a")).expect("send");
    let (b, second) = outbox.send(1, Draft::text(group(), "b")).expect("send");
    outbox.commit(&first);
    outbox.commit(&second);
    let sent: Vec<_> = std::iter::from_fn(|| outbox.poll_request())
        .map(|r| r.client_msg_id)
        .collect();
    assert_eq!(sent, vec![a.clone(), b.clone()]);
    outbox.on_connected();
    let resent: Vec<_> = std::iter::from_fn(|| outbox.poll_request())
        .map(|r| r.client_msg_id)
        .collect();
    assert_eq!(resent, vec![a, b]);
}

#[test]
fn a_restart_mid_send_resends_from_the_persisted_outbox() {
    let mut s = sim();
    s.connect();
    let first = s.send(group(), "one");
    let second = s.send(Recipient::User("bob".into()), "two");
    s.pump();
    assert_eq!(s.up.len(), 2);
    // The app dies with both requests on the wire, unanswered.
    s.restart();
    assert_eq!(s.outbox.len(), 2);
    assert_eq!(s.outbox.pending_ids(), vec![first.clone(), second.clone()]);
    s.connect();
    s.pump();
    let ids: Vec<_> = s.up.iter().map(|(_, r)| r.client_msg_id.clone()).collect();
    assert_eq!(ids, vec![first.clone(), second.clone()]);
    s.settle();
    assert_eq!(s.stored(&first).seq, Seq(1));
    assert_eq!(s.stored(&second).seq, Seq(1));
    assert_eq!(s.server.log.len(), 2);
    assert_eq!(s.stored_outbox_len(), 0);
}

#[test]
fn a_restart_after_the_ack_waits_for_the_echo_without_resending() {
    let mut s = sim();
    s.connect();
    let id = s.send(group(), "hello");
    s.pump();
    s.deliver_up();
    s.deliver_down(0); // the ack; the push is lost with the restart
    s.restart();
    assert!(s.outbox.is_acked(id.as_str()));
    s.connect();
    s.pump();
    assert!(s.up.is_empty(), "an accepted message is not sent again");
    s.pull();
    assert_eq!(s.stored(&id).seq, Seq(1));
    assert!(s.outbox.is_empty());
    assert_eq!(s.stored_outbox_len(), 0);
    assert_eq!(s.server.received, 1);
}

#[test]
fn a_restart_removes_entries_that_are_already_finished() {
    let store = MemoryStore::new();
    let mut outbox = Outbox::new(OutboxConfig::new(ME), Box::new(SequentialMsgIds::default()));
    let (gone, a) = outbox.send(1, Draft::text(group(), "a")).expect("send");
    let (echoed, b) = outbox.send(2, Draft::text(group(), "b")).expect("send");
    let (waiting, c) = outbox.send(3, Draft::text(group(), "c")).expect("send");
    for changes in [&a, &b, &c] {
        block_on(store.save_changes(changes)).expect("saved");
    }
    // `echoed` was stored with its seq, but its entry stayed.
    let mut echo = b.messages[0].clone();
    echo.seq = Seq(1);
    echo.status = MessageStatus::Sent;
    block_on(store.save_changes(&Changes::new().message(echo))).expect("saved");
    let entries = block_on(store.outbox()).expect("outbox");
    assert_eq!(entries.len(), 3);
    let loaded = entries.into_iter().map(|entry| {
        let message = if entry.client_msg_id == gone.as_str() {
            None
        } else {
            block_on(store.message_by_client_id(&entry.client_msg_id)).expect("read")
        };
        (entry, message)
    });
    let mut restarted = Outbox::new(OutboxConfig::new(ME), Box::new(SequentialMsgIds::default()));
    let cleanup = restarted.load(loaded.collect::<Vec<_>>());
    assert_eq!(
        cleanup.outbox,
        vec![
            OutboxChange::Remove {
                client_msg_id: gone.as_str().into()
            },
            OutboxChange::Remove {
                client_msg_id: echoed.as_str().into()
            },
        ]
    );
    assert_eq!(restarted.pending_ids(), vec![waiting]);
}

// ---- failures -------------------------------------------------------------------------------

#[test]
fn a_server_error_is_stored_as_failed_with_its_code() {
    let mut s = sim();
    s.connect();
    let id = s.send(group(), &format!("{REFUSED} nope"));
    s.settle();
    let stored = s.stored(&id);
    assert_eq!(stored.seq, Seq::ZERO);
    assert_eq!(stored.status, MessageStatus::Failed { code: 1402 });
    assert!(s.outbox.is_empty());
    assert_eq!(s.stored_outbox_len(), 0);
    assert_eq!(
        s.take_events(),
        vec![OutboxEvent::MessageFailed {
            client_msg_id: id.clone(),
            code: 1402
        }]
    );
    // It can be sent again with the same id (here the server refuses again).
    let changes = s.outbox.resend(s.now, &stored).expect("resend");
    s.persist(&changes);
    assert_eq!(s.stored(&id).status, MessageStatus::Sending);
    assert!(s.outbox.resend(s.now, &stored).is_err(), "already queued");
    s.settle();
    assert_eq!(s.server.received, 2);
    assert_eq!(s.stored(&id).status, MessageStatus::Failed { code: 1402 });
}

#[test]
fn timeouts_are_retried_then_given_up() {
    let mut config = OutboxConfig::new(ME);
    config.max_attempts = 3;
    let mut s = Sim::new(config);
    s.connect();
    let id = s.send(group(), "hello");
    for attempt in 1..=2u32 {
        s.pump();
        assert_eq!(s.live.len(), 1, "attempt {attempt} sent");
        s.up.clear(); // never reaches the server
        s.timeout(0);
        let entries = block_on(s.store.outbox()).expect("outbox");
        assert_eq!(entries[0].attempts, attempt, "attempts persisted");
    }
    s.pump();
    s.up.clear();
    s.timeout(0);
    let stored = s.stored(&id);
    assert_eq!(stored.status, MessageStatus::Failed { code: CODE_TIMEOUT });
    assert!(s.outbox.is_empty());
    assert_eq!(s.stored_outbox_len(), 0);
    assert!(s.take_events().contains(&OutboxEvent::MessageFailed {
        client_msg_id: id,
        code: CODE_TIMEOUT
    }));
}

#[test]
fn a_timed_out_send_that_did_arrive_is_not_duplicated() {
    let mut s = sim();
    s.connect();
    let id = s.send(group(), "hello");
    s.pump();
    s.deliver_up(); // arrives, but the answer is late
    s.timeout(0);
    s.settle();
    assert_eq!(s.server.received, 2);
    assert_eq!(s.server.log.len(), 1);
    assert_eq!(s.rows(&sg_g1()).len(), 1);
    assert_eq!(s.stored(&id).seq, Seq(1));
}

#[test]
fn a_token_error_keeps_the_message_for_the_next_login() {
    let mut outbox = Outbox::new(OutboxConfig::new(ME), Box::new(SequentialMsgIds::default()));
    outbox.on_connected();
    let (id, changes) = outbox.send(1, Draft::text(group(), "x")).expect("send");
    outbox.commit(&changes);
    outbox.poll_request().expect("sent");
    let failure = SendFailure::from(&RequestError::Server {
        code: ErrorCode::TokenExpired,
        msg: String::new(),
    });
    assert_eq!(outbox.handle_failed(id.as_str(), &failure), None);
    assert_eq!(outbox.poll_request(), None, "waits for a new connection");
    outbox.on_connected();
    assert_eq!(outbox.poll_request().map(|r| r.client_msg_id), Some(id));
}

// ---- order and flow control -----------------------------------------------------------------

#[test]
fn reconnects_and_restarts_keep_the_sending_order() {
    let mut s = Sim::with_ids(OutboxConfig::new(ME), Box::new(DescendingIds(1 << 100)));
    s.connect();
    // Same millisecond for all: the order must not depend on the random ids.
    let ids: Vec<_> = (0..5)
        .map(|i| {
            s.now -= 1;
            s.send(group(), &format!("m{i}"))
        })
        .collect();
    s.pump();
    s.disconnect(false);
    s.connect();
    s.pump();
    let order: Vec<_> = s.up.iter().map(|(_, r)| r.client_msg_id.clone()).collect();
    assert_eq!(order, ids);
    s.restart();
    assert_eq!(s.outbox.pending_ids(), ids);
    s.settle();
    let seqs: Vec<_> = ids.iter().map(|id| s.stored(id).seq).collect();
    assert_eq!(seqs, (1..=5).map(Seq).collect::<Vec<_>>());
}

#[test]
fn at_most_max_in_flight_requests_are_outstanding() {
    let mut config = OutboxConfig::new(ME);
    config.max_in_flight = 2;
    let mut s = Sim::new(config);
    s.connect();
    for i in 0..5 {
        s.send(group(), &format!("m{i}"));
    }
    s.pump();
    assert_eq!(s.up.len(), 2);
    s.deliver_up();
    s.deliver_down(0); // an ack frees a slot
    s.pump();
    assert_eq!(s.up.len(), 2);
    s.settle();
    assert!(s.outbox.is_empty());
    assert_eq!(s.rows(&sg_g1()).len(), 5);
}

// ---- property -------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Send { group: bool, refused: bool },
    Pump,
    DeliverUp,
    DeliverDown(prop::sample::Index),
    LoseDown(prop::sample::Index),
    Timeout(prop::sample::Index),
    Disconnect { report_first: bool },
    Connect,
    Pull,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), prop::bool::weighted(0.1))
            .prop_map(|(group, refused)| Op::Send { group, refused }),
        4 => Just(Op::Pump),
        4 => Just(Op::DeliverUp),
        4 => any::<prop::sample::Index>().prop_map(Op::DeliverDown),
        1 => any::<prop::sample::Index>().prop_map(Op::LoseDown),
        1 => any::<prop::sample::Index>().prop_map(Op::Timeout),
        1 => any::<bool>().prop_map(|report_first| Op::Disconnect { report_first }),
        2 => Just(Op::Connect),
        1 => Just(Op::Pull),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the interleaving of sends, lost answers and pushes, timeouts, disconnects and
    /// restarts: once the network is quiet, every message the server accepted is stored exactly
    /// once with the server's seq, every refused one is stored once as failed with the server's
    /// code, nothing was stored twice by the server, and the outbox is empty in memory and in
    /// the store.
    #[test]
    fn every_message_is_stored_exactly_once(
        ops in prop::collection::vec(op(), 1..80),
        max_attempts in 2u32..6,
    ) {
        let mut config = OutboxConfig::new(ME);
        config.max_attempts = max_attempts;
        config.max_in_flight = 3;
        let mut s = Sim::new(config);
        for op in ops {
            match op {
                Op::Send { group: true, refused } => {
                    let text = if refused { format!("{REFUSED} g") } else { "g".into() };
                    s.send(Recipient::Group("g1".into()), &text);
                }
                Op::Send { group: false, refused } => {
                    let text = if refused { format!("{REFUSED} s") } else { "s".into() };
                    s.send(Recipient::User("bob".into()), &text);
                }
                Op::Pump => s.pump(),
                Op::DeliverUp => { s.deliver_up(); }
                Op::DeliverDown(i) => {
                    if !s.down.is_empty() {
                        s.deliver_down(i.index(s.down.len()));
                    }
                }
                Op::LoseDown(i) => {
                    if !s.down.is_empty() {
                        let i = i.index(s.down.len());
                        s.down.remove(i);
                    }
                }
                Op::Timeout(i) => {
                    if !s.live.is_empty() {
                        s.timeout(i.index(s.live.len()));
                    }
                }
                Op::Disconnect { report_first } => s.disconnect(report_first),
                Op::Connect => s.connect(),
                Op::Pull => s.pull(),
                Op::Restart => s.restart(),
            }
        }
        s.settle();

        prop_assert!(s.outbox.is_empty(), "outbox holds {:?}", s.outbox.pending_ids());
        prop_assert_eq!(s.stored_outbox_len(), 0);
        // The server stored each clientMsgID at most once.
        prop_assert_eq!(s.server.by_client_id.len(), s.server.log.len());
        let mut seen = std::collections::HashSet::new();
        for (id, text) in &s.sent {
            prop_assert!(seen.insert(id.clone()), "id {} handed out twice", id);
            let stored = s.stored(id);
            match s.server.seq_of(id.as_str()) {
                Some(seq) => {
                    prop_assert_eq!(stored.seq, seq, "{} stored with the server's seq", id);
                    prop_assert_eq!(&stored.status, &MessageStatus::Sent);
                }
                None if text.starts_with(REFUSED) => {
                    // Refused by the server, or given up by timeouts before the refusal came.
                    prop_assert_eq!(stored.seq, Seq::ZERO);
                    prop_assert!(
                        matches!(stored.status, MessageStatus::Failed { code: 1402 | CODE_TIMEOUT }),
                        "{:?}", stored.status
                    );
                }
                None => {
                    // Only repeated timeouts of requests that never arrived give a message up.
                    prop_assert_eq!(stored.seq, Seq::ZERO);
                    prop_assert_eq!(&stored.status, &MessageStatus::Failed { code: CODE_TIMEOUT });
                }
            }
        }
        // Every stored row with a seq is the server's, once: nothing lost, nothing doubled.
        let conversations: std::collections::BTreeSet<_> =
            s.server.log.keys().map(|(c, _)| c.clone()).collect();
        for conversation in conversations {
            let stored: Vec<(Seq, String)> = s
                .rows(&conversation)
                .into_iter()
                .map(|m| (m.seq, m.client_msg_id))
                .collect();
            let expected: Vec<(Seq, String)> = s
                .server
                .log
                .iter()
                .filter(|((c, _), _)| c == &conversation)
                .map(|((_, seq), m)| (*seq, m.client_msg_id.clone()))
                .collect();
            prop_assert_eq!(stored, expected);
        }
        // Each message got exactly one final event.
        let mut finals: HashMap<ClientMsgId, usize> = HashMap::new();
        for event in &s.events {
            if let OutboxEvent::MessageSent { client_msg_id, .. } = event {
                *finals.entry(client_msg_id.clone()).or_default() += 1;
            }
        }
        prop_assert!(finals.values().all(|n| *n == 1), "duplicate MessageSent: {:?}", finals);
    }
}
