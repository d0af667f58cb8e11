//! A fake gateway for the sync engine tests: per-conversation message logs that answer 1001,
//! 1002 and 1005 the way the server does (spec §4.6 step 3), and a client harness that runs the
//! engine over a `MemoryStore` with the save-then-commit loop, bounded so a livelock fails.

#![allow(dead_code)]

use std::collections::BTreeMap;

use chorus_core::model::{ConversationId, Message, Seq};
use chorus_core::store::{Direction, Store};
use chorus_core::sync::{Sync, SyncConfig, SyncEvent, SyncRequest};
use chorus_core::{MemoryStore, SyncState, VecMap};
use chorus_proto::constants::ReqIdentifier;
use chorus_proto::envelope::{decode_request_payload, RequestPayload, ResponsePayload};
use chorus_proto::pb::msg::GetSeqMessageResp;
use chorus_proto::pb::sdkws::{
    GetMaxSeqResp, MsgData, PullMessageBySeqsResp, PullMsgs, PushMessages,
};

/// One conversation on the server.
#[derive(Debug, Clone, Default)]
pub struct ServerConv {
    /// Messages by seq − 1; `None` = deleted (answered with a `status 4` placeholder).
    pub log: Vec<Option<MsgData>>,
    /// Lowest seq the user may see (1 unless history is hidden).
    pub lo: u64,
}

/// The fake server.
#[derive(Debug, Default)]
pub struct FakeServer {
    pub convs: BTreeMap<String, ServerConv>,
    /// Every request received, decoded.
    pub requests: Vec<RequestPayload>,
}

pub fn wire_message(conv: &str, seq: u64, text: &str) -> MsgData {
    let notification = conv.starts_with("n_");
    let rest = conv.split_once('_').map_or("", |(_, r)| r);
    let (session_type, group_id, recv_id) = if conv.starts_with("si_") {
        (1, String::new(), "bob".to_owned())
    } else {
        (3, rest.to_owned(), rest.to_owned())
    };
    let mut options = chorus_proto::pb::Map::new();
    if notification {
        options.insert("isNotNotification".to_owned(), false);
    }
    MsgData {
        send_id: "alice".into(),
        recv_id,
        group_id,
        client_msg_id: format!("{conv}#{seq}"),
        server_msg_id: format!("srv-{conv}-{seq}"),
        session_type,
        msg_from: 100,
        content_type: 101,
        content: format!(r#"{{"content":"{text}"}}"#).into_bytes(),
        seq: seq as i64,
        send_time: 1_700_000_000_000 + seq as i64,
        status: 2,
        options,
        ..MsgData::default()
    }
}

impl FakeServer {
    pub fn new() -> FakeServer {
        FakeServer::default()
    }

    /// Appends `n` messages to a conversation; returns the new max seq.
    pub fn append(&mut self, conv: &str, n: u64) -> u64 {
        let c = self
            .convs
            .entry(conv.to_owned())
            .or_insert_with(|| ServerConv {
                log: Vec::new(),
                lo: 1,
            });
        for _ in 0..n {
            let seq = c.log.len() as u64 + 1;
            c.log
                .push(Some(wire_message(conv, seq, &format!("m{seq}"))));
        }
        c.log.len() as u64
    }

    /// Deletes a message (pulls return a placeholder for it).
    pub fn delete(&mut self, conv: &str, seq: u64) {
        if let Some(slot) = self
            .convs
            .get_mut(conv)
            .and_then(|c| c.log.get_mut(seq as usize - 1))
        {
            *slot = None;
        }
    }

    pub fn max(&self, conv: &str) -> u64 {
        self.convs.get(conv).map_or(0, |c| c.log.len() as u64)
    }

    fn at(&self, conv: &str, seq: u64) -> MsgData {
        match self
            .convs
            .get(conv)
            .and_then(|c| c.log.get(seq as usize - 1))
        {
            Some(Some(m)) => m.clone(),
            _ => MsgData {
                seq: seq as i64,
                status: 4,
                ..MsgData::default()
            },
        }
    }

    /// The push the server sends for one stored message.
    pub fn push_of(&self, conv: &str, seq: u64) -> PushMessages {
        let entry = PullMsgs {
            msgs: vec![self.at(conv, seq)],
            is_end: false,
            end_seq: 0,
        };
        let mut push = PushMessages::default();
        if conv.starts_with("n_") {
            push.notification_msgs.insert(conv.to_owned(), entry);
        } else {
            push.msgs.insert(conv.to_owned(), entry);
        }
        push
    }

    /// Answers a request as the server would.
    pub fn answer(&mut self, req: &SyncRequest) -> ResponsePayload {
        let decoded = decode_request_payload(i32::from(req.req_identifier), &req.payload)
            .expect("the engine sends decodable requests");
        self.requests.push(decoded.clone());
        match decoded {
            RequestPayload::GetNewestSeq(r) => {
                assert_eq!(r.user_id, "me");
                let mut resp = GetMaxSeqResp::default();
                for (id, c) in &self.convs {
                    if !c.log.is_empty() {
                        resp.max_seqs.insert(id.clone(), c.log.len() as i64);
                    }
                }
                ResponsePayload::GetNewestSeq(resp)
            }
            RequestPayload::PullMsgByRange(r) => {
                let mut resp = PullMessageBySeqsResp::default();
                for range in &r.seq_ranges {
                    let id = &range.conversation_id;
                    let Some(c) = self.convs.get(id) else {
                        continue;
                    };
                    let hi = c.log.len() as i64;
                    let notification = id.starts_with("n_");
                    let begin = range.begin.max(c.lo as i64);
                    let end = range.end.min(hi);
                    if end < begin || (!notification && range.num <= 0) {
                        continue;
                    }
                    let first = if notification {
                        begin
                    } else {
                        begin.max(end - range.num + 1)
                    };
                    let msgs = (first..=end).map(|s| self.at(id, s as u64)).collect();
                    let entry = PullMsgs {
                        msgs,
                        is_end: hi <= range.end,
                        end_seq: hi,
                    };
                    if notification {
                        resp.notification_msgs.insert(id.clone(), entry);
                    } else {
                        resp.msgs.insert(id.clone(), entry);
                    }
                }
                ResponsePayload::PullMsgByRange(resp)
            }
            RequestPayload::PullMsgBySeqList(r) => {
                let mut resp = GetSeqMessageResp::default();
                for cs in &r.conversations {
                    let id = &cs.conversation_id;
                    let Some(c) = self.convs.get(id) else {
                        continue;
                    };
                    let hi = c.log.len() as i64;
                    let lo = c.lo as i64;
                    let mut seqs: Vec<i64> = cs
                        .seqs
                        .iter()
                        .copied()
                        .filter(|s| (lo..=hi).contains(s))
                        .collect();
                    seqs.sort_unstable();
                    seqs.dedup();
                    let min = cs.seqs.iter().copied().min().unwrap_or(0);
                    let entry = PullMsgs {
                        msgs: seqs.iter().map(|s| self.at(id, *s as u64)).collect(),
                        is_end: min <= lo,
                        end_seq: lo,
                    };
                    if id.starts_with("n_") {
                        resp.notification_msgs.insert(id.clone(), entry);
                    } else {
                        resp.msgs.insert(id.clone(), entry);
                    }
                }
                ResponsePayload::PullMsgBySeqList(resp)
            }
            other => panic!("unexpected request {other:?}"),
        }
    }

    /// The 1002 requests received so far, as `(conversation, begin, end, num)` lists.
    pub fn pulls(&self) -> Vec<Vec<(String, i64, i64, i64)>> {
        self.requests
            .iter()
            .filter_map(|r| match r {
                RequestPayload::PullMsgByRange(p) => Some(
                    p.seq_ranges
                        .iter()
                        .map(|s| (s.conversation_id.clone(), s.begin, s.end, s.num))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    pub fn count(&self, id: ReqIdentifier) -> usize {
        self.requests
            .iter()
            .filter(|r| r.req_identifier() == i32::from(id))
            .count()
    }
}

/// The engine, its store and everything it reported.
pub struct Client {
    pub sync: Sync,
    pub store: MemoryStore,
    pub events: Vec<SyncEvent>,
    /// Requests taken from the engine and not answered yet.
    pub pending: Vec<SyncRequest>,
}

pub const STEP_LIMIT: usize = 100_000;

impl Client {
    pub fn new(config: SyncConfig) -> Client {
        Client {
            sync: Sync::new(config),
            store: MemoryStore::new(),
            events: Vec::new(),
            pending: Vec::new(),
        }
    }

    pub fn config() -> SyncConfig {
        SyncConfig::new("me")
    }

    /// Persists and commits every batch, drains events; requests go to `pending`.
    pub fn settle(&mut self) {
        for _ in 0..STEP_LIMIT {
            let mut progressed = false;
            while let Some(req) = self.sync.poll_request() {
                self.pending.push(req);
                progressed = true;
            }
            if let Some(changes) = self.sync.poll_changes() {
                futures::executor::block_on(self.store.save_changes(&changes))
                    .expect("the store accepts every batch of the engine");
                self.sync
                    .commit(&changes)
                    .expect("commit the batch handed out");
                progressed = true;
            }
            while let Some(event) = self.sync.poll_event() {
                self.events.push(event);
                progressed = true;
            }
            if !progressed {
                return;
            }
        }
        panic!("no quiet state within {STEP_LIMIT} steps");
    }

    /// Answers requests and settles until nothing is left (bounded).
    pub fn run(&mut self, server: &mut FakeServer) {
        for _ in 0..STEP_LIMIT {
            self.settle();
            if self.pending.is_empty() {
                return;
            }
            let reqs = std::mem::take(&mut self.pending);
            for req in reqs {
                let answer = server.answer(&req);
                self.sync.handle_response(req.tag, answer);
            }
        }
        panic!("still requesting after {STEP_LIMIT} rounds: livelock");
    }

    pub fn connect(&mut self, server: &mut FakeServer) {
        self.sync.on_connected();
        self.run(server);
    }

    pub fn push(&mut self, server: &mut FakeServer, conv: &str, seq: u64) {
        self.sync.handle_push(server.push_of(conv, seq));
        self.run(server);
    }

    pub fn take_events(&mut self) -> Vec<SyncEvent> {
        std::mem::take(&mut self.events)
    }

    /// Stored messages of a conversation, ascending.
    pub fn stored(&self, conv: &str) -> Vec<Message> {
        let id = ConversationId::parse(conv).unwrap();
        futures::executor::block_on(self.store.messages(
            &id,
            Seq(1)..=Seq::MAX,
            usize::MAX,
            Direction::Ascending,
        ))
        .unwrap()
    }

    pub fn stored_seqs(&self, conv: &str) -> Vec<u64> {
        self.stored(conv).iter().map(|m| m.seq.0).collect()
    }

    pub fn cursors(&self) -> VecMap<ConversationId, SyncState> {
        futures::executor::block_on(self.store.load_cursors()).unwrap()
    }

    pub fn cursor(&self, conv: &str) -> SyncState {
        self.cursors()
            .remove(&ConversationId::parse(conv).unwrap())
            .unwrap_or_else(|| panic!("no stored cursor for {conv}"))
    }
}

pub fn cid(conv: &str) -> ConversationId {
    ConversationId::parse(conv).unwrap()
}
