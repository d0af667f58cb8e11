//! Deterministic simulation of the gateway connection machine: a manual clock, a scripted gateway, a
//! fixed jitter source and sequential operation ids. No sleeps, no sockets, no runtime.

use std::collections::VecDeque;
use std::time::Duration;

use chorus_core::conn::{
    Backoff, Conn, ConnConfig, ConnEvent, ConnStatus, DisconnectReason, FixedJitter, Instant,
    JitterSource, RequestError, RequestId, SeededEntropy, SequentialIds, Transmit,
};
use chorus_proto::constants::{ErrorCode, ReqIdentifier};
use chorus_proto::envelope::{
    Compression, ConnectParams, EnvelopeCodec, FrameCodec, HandshakeResult, Req, RequestPayload,
    Resp, ResponsePayload, SdkType,
};
use chorus_proto::pb::sdkws::{
    GetMaxSeqReq, GetMaxSeqResp, MsgData, PullMsgs, PushMessages, SubUserOnlineStatusElem,
    SubUserOnlineStatusTips,
};

const PING: &str = r#"{"type":"ping"}"#;
const PONG: &str = r#"{"type":"pong","body":null}"#;

/// The machine under test, the clock, and everything it emitted, stamped with the time it was emitted.
struct Sim {
    conn: Conn,
    now: Instant,
    codec: FrameCodec,
    sent: VecDeque<(u64, Transmit)>,
    events: VecDeque<(u64, ConnEvent)>,
}

impl Sim {
    /// User `u1`, token `tk`, ids `op-1, op-2, …`, jitter fixed at +50 % of the spread (+10 %).
    fn new() -> Self {
        Self::with(ConnConfig::new("ws://gw/", "u1", "tk"), FixedJitter(500))
    }

    fn with(config: ConnConfig, jitter: impl JitterSource + 'static) -> Self {
        let codec = FrameCodec::new(EnvelopeCodec::Json, config.compression);
        let conn = Conn::new(
            config,
            Box::new(SequentialIds::new("op-")),
            Box::new(jitter),
        );
        Self {
            conn,
            now: Instant::ZERO,
            codec,
            sent: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn ms(&self) -> u64 {
        self.now.as_millis()
    }

    /// Moves every output of the machine into the logs, stamped with the current time.
    fn collect(&mut self) {
        let t = self.ms();
        while let Some(tx) = self.conn.poll_transmit() {
            self.sent.push_back((t, tx));
        }
        while let Some(ev) = self.conn.poll_event() {
            self.events.push_back((t, ev));
        }
    }

    /// Lets `ms` milliseconds pass, firing every deadline on the way at its exact time. `on_tick` runs
    /// after each firing (the scripted gateway's reactions). Bounded, so a livelock fails the test.
    fn advance_with(&mut self, ms: u64, mut on_tick: impl FnMut(&mut Sim)) {
        let target = self.ms() + ms;
        for _ in 0..100_000 {
            match self.conn.poll_timeout() {
                Some(t) if t.as_millis() <= target => {
                    self.now = self.now.max(t);
                    self.conn.handle_timeout(self.now);
                    self.collect();
                    on_tick(self);
                }
                _ => {
                    self.now = Instant::from_millis(target);
                    return;
                }
            }
        }
        panic!("no quiescence within 100000 timer firings");
    }

    fn advance(&mut self, ms: u64) {
        self.advance_with(ms, |_| {});
    }

    // ---- inputs ---------------------------------------------------------------------------------

    fn connect(&mut self) {
        self.conn.connect(self.now);
        self.collect();
    }

    fn open(&mut self) {
        self.conn.handle_open(self.now);
        self.collect();
    }

    fn text(&mut self, text: &str) {
        self.conn.handle_text(self.now, text);
        self.collect();
    }

    fn handshake(&mut self, code: i32) {
        let frame = if code == 0 {
            HandshakeResult::ok()
        } else {
            HandshakeResult::error(code, "refused", "")
        };
        self.text(&frame.encode());
    }

    fn closed(&mut self) {
        self.conn.handle_closed(self.now, "gone");
        self.collect();
    }

    fn server_sends(&mut self, resp: &Resp) {
        let frame = self.codec.encode_resp(resp).unwrap();
        self.conn.handle_binary(self.now, &frame);
        self.collect();
    }

    fn request(&mut self, id: ReqIdentifier, data: Vec<u8>) -> RequestId {
        let rid = self.conn.request(self.now, id, data);
        self.collect();
        rid
    }

    fn set_background(&mut self, background: bool) {
        self.conn.set_background(self.now, background);
        self.collect();
    }

    /// Connect, open and complete the handshake; the log is left empty.
    fn establish(&mut self) {
        self.connect();
        self.expect_connect();
        self.open();
        self.handshake(0);
        assert_eq!(
            self.take_events(),
            [ConnEvent::Connecting, ConnEvent::Connected]
        );
        assert!(self.conn.is_connected());
    }

    // ---- outputs --------------------------------------------------------------------------------

    fn expect_transmit(&mut self) -> (u64, Transmit) {
        self.sent
            .pop_front()
            .unwrap_or_else(|| panic!("expected a transmit at {} ms, got none", self.ms()))
    }

    fn expect_connect(&mut self) -> String {
        match self.expect_transmit() {
            (_, Transmit::Connect { url }) => url,
            (t, other) => panic!("expected Connect, got {other:?} at {t} ms"),
        }
    }

    fn expect_binary(&mut self) -> Req {
        match self.expect_transmit() {
            (_, Transmit::Binary(frame)) => self.codec.decode_req(&frame).unwrap(),
            (t, other) => panic!("expected Binary, got {other:?} at {t} ms"),
        }
    }

    fn expect_close(&mut self) {
        match self.expect_transmit() {
            (_, Transmit::Close) => {}
            (t, other) => panic!("expected Close, got {other:?} at {t} ms"),
        }
    }

    fn expect_no_transmit(&mut self) {
        assert!(
            self.sent.is_empty(),
            "unexpected transmits: {:?}",
            self.sent
        );
    }

    fn take_events(&mut self) -> Vec<ConnEvent> {
        self.events.drain(..).map(|(_, e)| e).collect()
    }

    /// Answers a request as the gateway would: same identifier, echoed msgIncr and operationID.
    fn reply(&mut self, req: &Req, err_code: i32, data: Vec<u8>) {
        let resp = Resp {
            req_identifier: req.req_identifier,
            msg_incr: req.msg_incr.clone(),
            operation_id: req.operation_id.clone(),
            err_code,
            err_msg: if err_code == 0 { "" } else { "failed" }.into(),
            data,
        };
        self.server_sends(&resp);
    }
}

fn max_seq_req() -> Vec<u8> {
    RequestPayload::GetNewestSeq(GetMaxSeqReq {
        user_id: "u1".into(),
    })
    .encode_to_vec()
}

fn max_seq_resp(conv: &str, seq: i64) -> Vec<u8> {
    ResponsePayload::GetNewestSeq(GetMaxSeqResp {
        max_seqs: [(conv.to_owned(), seq)].into(),
        ..Default::default()
    })
    .encode_to_vec()
}

fn disconnected_retry_at(events: &[ConnEvent]) -> Option<Instant> {
    events.iter().find_map(|e| match e {
        ConnEvent::Disconnected { retry_at, .. } => Some(retry_at.expect("a retry")),
        _ => None,
    })
}

#[test]
fn conn_can_move_to_a_driver_thread_natively() {
    // `MaybeSend` is `Send` on native targets and empty on wasm32.
    fn assert_maybe_send<T: chorus_core::platform::MaybeSend>() {}
    assert_maybe_send::<Conn>();
}

// ---- handshake ----------------------------------------------------------------------------------

#[test]
fn connect_url_carries_the_json_mode_handshake_parameters() {
    let mut sim = Sim::new();
    sim.connect();
    let url = sim.expect_connect();
    assert_eq!(
        url,
        "ws://gw/?sendID=u1&token=tk&platformID=5&operationID=op-1&isBackground=false&sdkType=js&isMsgResp=true"
    );
    let params = ConnectParams::from_query(url.split_once('?').unwrap().1).unwrap();
    assert_eq!(params.sdk_type, SdkType::Js);
    assert!(params.is_msg_resp);
    assert!(!params.is_background);
    assert_eq!(params.platform_id, 5);
    assert_eq!(sim.take_events(), [ConnEvent::Connecting]);
    assert_eq!(sim.conn.status(), ConnStatus::Connecting);
    // Connecting again while an attempt runs does nothing.
    sim.connect();
    sim.expect_no_transmit();
}

#[test]
fn handshake_must_finish_within_its_deadline() {
    let mut sim = Sim::new();
    sim.connect();
    sim.expect_connect();
    sim.open();
    assert_eq!(sim.conn.poll_timeout(), Some(Instant::from_millis(10_000)));
    sim.advance(9_999);
    sim.expect_no_transmit();
    sim.advance(1);
    sim.expect_close();
    let events = sim.take_events();
    assert_eq!(
        events.last(),
        Some(&ConnEvent::Disconnected {
            retry_at: Some(Instant::from_millis(11_100)),
            reason: DisconnectReason::HandshakeTimeout,
        })
    );
    // A late handshake frame from the abandoned socket changes nothing.
    sim.handshake(0);
    assert!(!sim.conn.is_connected());
    assert!(sim.take_events().is_empty());
}

#[test]
fn handshake_errors_that_are_not_token_errors_are_retried() {
    for code in [500, 1601, 1602] {
        let mut sim = Sim::new();
        sim.connect();
        sim.expect_connect();
        sim.open();
        sim.handshake(code);
        sim.expect_close();
        let events = sim.take_events();
        assert_eq!(
            events.last(),
            Some(&ConnEvent::Disconnected {
                retry_at: Some(Instant::from_millis(1_100)),
                reason: DisconnectReason::HandshakeRefused {
                    code: ErrorCode::from_code(code),
                    msg: "refused".into(),
                },
            }),
            "code {code}"
        );
        // The gateway closes right after its error frame; that report is stale now.
        sim.closed();
        assert!(sim.take_events().is_empty());
        sim.advance(1_100);
        let url = sim.expect_connect();
        assert!(url.contains("operationID=op-2"), "{url}");
        sim.open();
        sim.handshake(0);
        assert_eq!(
            sim.take_events(),
            [ConnEvent::Connecting, ConnEvent::Connected]
        );
    }
}

#[test]
fn malformed_handshake_frame_and_early_binary_frame_are_retried() {
    let mut sim = Sim::new();
    sim.connect();
    sim.expect_connect();
    sim.open();
    sim.text("not json");
    sim.expect_close();
    assert!(matches!(
        sim.take_events().last(),
        Some(ConnEvent::Disconnected {
            retry_at: Some(_),
            reason: DisconnectReason::Protocol { .. }
        })
    ));
    sim.advance(1_100);
    sim.expect_connect();
    sim.open();
    sim.server_sends(&Resp {
        req_identifier: 2001,
        ..Default::default()
    });
    sim.expect_close();
    assert!(matches!(
        sim.take_events().last(),
        Some(ConnEvent::Disconnected {
            retry_at: Some(_),
            reason: DisconnectReason::Protocol { .. }
        })
    ));
}

// ---- reconnect back-off -------------------------------------------------------------------------

#[test]
fn reconnect_backoff_doubles_caps_and_resets_after_success() {
    let mut sim = Sim::new();
    sim.connect();
    sim.expect_connect();
    let mut attempts = vec![0];
    // Every attempt fails at once; record when each next attempt starts.
    for _ in 0..7 {
        sim.closed();
        let retry_at = disconnected_retry_at(&sim.take_events()).unwrap();
        let delay = retry_at.as_millis() - sim.ms();
        sim.advance(delay - 1);
        sim.expect_no_transmit();
        sim.advance(1);
        sim.expect_connect();
        assert_eq!(sim.take_events(), [ConnEvent::Connecting]);
        attempts.push(sim.ms());
    }
    let delays: Vec<u64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    // 1, 2, 4, 8, 16, 32→30, 30 s, each +10 % (jitter fixed at half of the ± 20 % spread).
    assert_eq!(delays, [1_100, 2_200, 4_400, 8_800, 17_600, 33_000, 33_000]);

    // A successful handshake resets the schedule.
    sim.open();
    sim.handshake(0);
    assert_eq!(sim.take_events(), [ConnEvent::Connected]);
    sim.advance(5_000);
    sim.closed();
    let start = sim.ms();
    let retry_at = disconnected_retry_at(&sim.take_events()).unwrap();
    assert_eq!(retry_at.as_millis() - start, 1_100);
    sim.advance(1_100);
    sim.expect_connect();
    sim.closed();
    let retry_at = disconnected_retry_at(&sim.take_events()).unwrap();
    assert_eq!(retry_at.as_millis() - sim.ms(), 2_200);
}

#[test]
fn jitter_moves_delays_within_the_spread() {
    // Shortest possible delays: −20 %.
    let mut sim = Sim::with(ConnConfig::new("ws://gw/", "u1", "tk"), FixedJitter(-1000));
    sim.connect();
    sim.expect_connect();
    let mut delays = Vec::new();
    for _ in 0..6 {
        sim.closed();
        let retry_at = disconnected_retry_at(&sim.take_events()).unwrap();
        delays.push(retry_at.as_millis() - sim.ms());
        sim.advance(retry_at.as_millis() - sim.ms());
        sim.expect_connect();
    }
    assert_eq!(delays, [800, 1_600, 3_200, 6_400, 12_800, 24_000]);

    // Random jitter stays inside ± 20 % of the un-jittered schedule.
    let backoff = Backoff::default();
    let mut entropy = SeededEntropy::new(7);
    let mut seen = std::collections::BTreeSet::new();
    for failures in 0..40 {
        let base = backoff.base_delay(failures).as_millis() as u64;
        let d = backoff.delay(failures, entropy.next_permille()).as_millis() as u64;
        assert!(
            d * 100 >= base * 80 && d * 100 <= base * 120,
            "{d} vs {base}"
        );
        seen.insert(d * 1000 / base);
    }
    assert!(seen.len() > 10, "jitter should vary: {seen:?}");
    assert_eq!(backoff.base_delay(5), Duration::from_secs(30));
    assert_eq!(backoff.base_delay(200), Duration::from_secs(30));
}

// ---- heartbeat ----------------------------------------------------------------------------------

#[test]
fn pings_every_25_seconds_while_connected_and_never_while_disconnected() {
    let mut sim = Sim::new();
    sim.establish();
    let gateway_pongs = |sim: &mut Sim| {
        if sim.sent.iter().any(|(_, t)| matches!(t, Transmit::Text(_))) {
            sim.text(PONG);
        }
    };
    sim.advance_with(100_000, gateway_pongs);
    let pings: Vec<(u64, Transmit)> = sim.sent.drain(..).collect();
    assert_eq!(
        pings,
        [25_000, 50_000, 75_000, 100_000].map(|t| (t, Transmit::Text(PING.into())))
    );
    assert!(sim.take_events().is_empty());

    // Disconnected: attempts come and go, none completes, and no ping is ever sent.
    sim.advance(500);
    sim.closed();
    sim.advance(200_000);
    let sent: Vec<Transmit> = sim.sent.drain(..).map(|(_, t)| t).collect();
    assert!(sent.iter().any(|t| matches!(t, Transmit::Connect { .. })));
    assert!(
        sent.iter()
            .all(|t| matches!(t, Transmit::Connect { .. } | Transmit::Close)),
        "{sent:?}"
    );

    // Connected again: the cadence restarts from the handshake.
    sim.conn.logout(sim.now);
    sim.collect();
    sim.take_events();
    sim.sent.clear();
    sim.establish();
    let connected_at = sim.ms();
    sim.advance_with(50_000, gateway_pongs);
    let times: Vec<u64> = sim.sent.drain(..).map(|(t, _)| t - connected_at).collect();
    assert_eq!(times, [25_000, 50_000]);
}

#[test]
fn a_gateway_that_stops_answering_is_abandoned_at_the_next_ping() {
    let mut sim = Sim::new();
    sim.establish();
    sim.advance(25_000);
    assert_eq!(sim.expect_transmit(), (25_000, Transmit::Text(PING.into())));
    // Any frame proves the connection alive, not only a pong.
    sim.advance(1_000);
    sim.server_sends(&Resp {
        req_identifier: 2001,
        ..Default::default()
    });
    sim.take_events();
    sim.advance(24_000);
    assert_eq!(sim.expect_transmit(), (50_000, Transmit::Text(PING.into())));
    // Silence until the next ping time.
    sim.advance(24_999);
    sim.expect_no_transmit();
    sim.advance(1);
    sim.expect_close();
    let events = sim.take_events();
    assert_eq!(
        events,
        [ConnEvent::Disconnected {
            retry_at: Some(Instant::from_millis(76_100)),
            reason: DisconnectReason::PingTimeout,
        }]
    );
}

#[test]
fn server_text_pings_are_answered_and_unknown_text_is_reported() {
    let mut sim = Sim::new();
    sim.establish();
    sim.text(r#"{"type":"ping","body":"x"}"#);
    assert_eq!(
        sim.expect_transmit().1,
        Transmit::Text(r#"{"type":"pong","body":"x"}"#.into())
    );
    sim.text(r#"{"type":"hello"}"#);
    sim.expect_no_transmit();
    assert!(matches!(
        sim.take_events().as_slice(),
        [ConnEvent::FrameDropped { .. }]
    ));
    assert!(sim.conn.is_connected());
}

// ---- requests -----------------------------------------------------------------------------------

#[test]
fn request_envelope_and_response() {
    let mut sim = Sim::new();
    sim.establish();
    let id = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    let req = sim.expect_binary();
    assert_eq!(req.req_identifier, 1001);
    assert_eq!(req.send_id, "u1");
    assert_eq!(req.msg_incr, "u1_1");
    assert_eq!(req.operation_id, "op-2");
    assert_eq!(req.token, "");
    assert_eq!(
        req.payload().unwrap(),
        RequestPayload::GetNewestSeq(GetMaxSeqReq {
            user_id: "u1".into()
        })
    );
    assert_eq!(sim.conn.in_flight(), 1);
    sim.reply(&req, 0, max_seq_resp("sg_1", 5));
    let events = sim.take_events();
    let [ConnEvent::Response { id: got, resp }] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(*got, id);
    assert_eq!(resp.msg_incr, "u1_1");
    assert_eq!(resp.data, max_seq_resp("sg_1", 5));
    assert_eq!(sim.conn.in_flight(), 0);
}

#[test]
fn request_times_out_after_exactly_10_seconds_and_late_response_is_ignored() {
    let mut sim = Sim::new();
    sim.establish();
    sim.advance(1_000);
    let id = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    let req = sim.expect_binary();
    assert_eq!(sim.conn.poll_timeout(), Some(Instant::from_millis(11_000)));
    sim.advance(9_999);
    assert!(sim.take_events().is_empty());
    sim.advance(1);
    assert_eq!(
        sim.events.drain(..).collect::<Vec<_>>(),
        [(
            11_000,
            ConnEvent::RequestFailed {
                id,
                error: RequestError::Timeout
            }
        )]
    );
    sim.advance(500);
    sim.reply(&req, 0, max_seq_resp("sg_1", 5));
    assert!(sim.take_events().is_empty());
    assert!(sim.conn.is_connected());
}

#[test]
fn responses_are_matched_by_msg_incr_in_any_order() {
    let mut sim = Sim::new();
    sim.establish();
    let ids: Vec<RequestId> = (0..3)
        .map(|_| sim.request(ReqIdentifier::GetNewestSeq, max_seq_req()))
        .collect();
    let reqs: Vec<Req> = (0..3).map(|_| sim.expect_binary()).collect();
    let incrs: Vec<&str> = reqs.iter().map(|r| r.msg_incr.as_str()).collect();
    assert_eq!(incrs, ["u1_1", "u1_2", "u1_3"]);
    for i in [2, 0, 1] {
        sim.reply(&reqs[i], 0, max_seq_resp("sg_1", i as i64 + 10));
    }
    let got: Vec<(RequestId, Vec<u8>)> = sim
        .take_events()
        .into_iter()
        .map(|e| match e {
            ConnEvent::Response { id, resp } => (id, resp.data),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [2, 0, 1].map(|i| (ids[i], max_seq_resp("sg_1", i as i64 + 10)))
    );
}

#[test]
fn server_errors_fail_only_their_request() {
    let mut sim = Sim::new();
    sim.establish();
    let a = sim.request(ReqIdentifier::SendMsg, vec![1, 2, 3]);
    let b = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    let req_a = sim.expect_binary();
    let req_b = sim.expect_binary();
    sim.reply(&req_a, 1402, Vec::new());
    sim.reply(&req_b, 0, max_seq_resp("sg_1", 1));
    let events = sim.take_events();
    assert_eq!(
        events.first(),
        Some(&ConnEvent::RequestFailed {
            id: a,
            error: RequestError::Server {
                code: ErrorCode::MutedInGroup,
                msg: "failed".into()
            }
        })
    );
    assert!(matches!(events.get(1), Some(ConnEvent::Response { id, .. }) if *id == b));
    assert_eq!(events.len(), 2);
}

#[test]
fn in_flight_requests_fail_with_closed_on_disconnect_and_requests_need_a_connection() {
    let mut sim = Sim::new();
    sim.establish();
    let a = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    let req = sim.expect_binary();
    sim.closed();
    let events = sim.take_events();
    assert_eq!(
        events.first(),
        Some(&ConnEvent::RequestFailed {
            id: a,
            error: RequestError::Closed
        })
    );
    assert!(matches!(
        events.get(1),
        Some(ConnEvent::Disconnected {
            retry_at: Some(_),
            reason: DisconnectReason::Closed { .. }
        })
    ));
    assert_eq!(sim.conn.poll_timeout(), Some(Instant::from_millis(1_100)));
    // While reconnecting, a request fails at once and nothing is sent.
    let b = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    sim.expect_no_transmit();
    assert_eq!(
        sim.take_events(),
        [ConnEvent::RequestFailed {
            id: b,
            error: RequestError::Closed
        }]
    );
    // The response to the lost request cannot resurrect it on the next connection.
    sim.advance(1_100);
    sim.expect_connect();
    sim.open();
    sim.handshake(0);
    sim.take_events();
    sim.reply(&req, 0, max_seq_resp("sg_1", 1));
    assert!(sim.take_events().is_empty());
    // Counters keep running across connections.
    sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    assert_eq!(sim.expect_binary().msg_incr, "u1_3");
}

#[test]
fn oversized_request_fails_without_being_sent() {
    let mut sim = Sim::new();
    sim.establish();
    let id = sim.request(ReqIdentifier::SendMsg, vec![0; 60_000]);
    sim.expect_no_transmit();
    assert!(matches!(
        sim.take_events().as_slice(),
        [ConnEvent::RequestFailed { id: got, error: RequestError::Encode { .. } }] if *got == id
    ));
    assert_eq!(sim.conn.in_flight(), 0);
}

// ---- pushes -------------------------------------------------------------------------------------

fn push_frame(seq: i64) -> Resp {
    let msg = MsgData {
        send_id: "u2".into(),
        client_msg_id: format!("c{seq}"),
        seq,
        ..Default::default()
    };
    ResponsePayload::PushMsg(PushMessages {
        msgs: [(
            "sg_1".to_owned(),
            PullMsgs {
                msgs: vec![msg],
                ..Default::default()
            },
        )]
        .into(),
        ..Default::default()
    })
    .to_resp("", "op-push")
}

#[test]
fn pushes_are_surfaced() {
    let mut sim = Sim::new();
    sim.establish();
    let push = push_frame(6);
    sim.server_sends(&push);
    let status = ResponsePayload::SubUserOnlineStatus(SubUserOnlineStatusTips {
        subscribers: vec![SubUserOnlineStatusElem {
            user_id: "u2".into(),
            online_platform_i_ds: vec![5],
        }],
    })
    .to_resp("", "op-status");
    sim.server_sends(&status);
    // A late answer with some other identifier is not a push.
    sim.server_sends(&Resp {
        req_identifier: 1001,
        msg_incr: "u1_99".into(),
        ..Default::default()
    });
    assert_eq!(
        sim.take_events(),
        [ConnEvent::Push(push), ConnEvent::Push(status)]
    );
}

#[test]
fn gzip_frames_in_both_directions() {
    let mut config = ConnConfig::new("ws://gw/", "u1", "tk");
    config.compression = Compression::Gzip;
    let mut sim = Sim::with(config, FixedJitter(0));
    sim.connect();
    let url = sim.expect_connect();
    assert!(url.contains("&compression=gzip"), "{url}");
    sim.open();
    sim.handshake(0);
    sim.take_events();
    sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    let frame = match sim.expect_transmit().1 {
        Transmit::Binary(frame) => frame,
        other => panic!("{other:?}"),
    };
    assert_eq!(frame.get(..2), Some(&[0x1f, 0x8b][..]), "a gzip stream");
    let push = push_frame(1);
    sim.server_sends(&push);
    assert_eq!(sim.take_events(), [ConnEvent::Push(push)]);
    // An undecodable frame is skipped and reported, the connection stays.
    sim.conn.handle_binary(sim.now, b"{\"reqIdentifier\":2001}");
    sim.collect();
    assert!(matches!(
        sim.take_events().as_slice(),
        [ConnEvent::FrameDropped { .. }]
    ));
    assert!(sim.conn.is_connected());
}

// ---- session end --------------------------------------------------------------------------------

fn assert_never_reconnects(sim: &mut Sim) {
    sim.closed();
    sim.advance(600_000);
    sim.expect_no_transmit();
    assert!(sim.take_events().is_empty());
    assert_eq!(sim.conn.status(), ConnStatus::Idle);
    assert_eq!(sim.conn.poll_timeout(), None);
}

#[test]
fn kick_ends_the_session_without_reconnecting() {
    let mut sim = Sim::new();
    sim.establish();
    let id = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    sim.expect_binary();
    sim.advance(3_000);
    sim.server_sends(&ResponsePayload::KickOnline.to_resp("", ""));
    sim.expect_close();
    assert_eq!(
        sim.take_events(),
        [
            ConnEvent::RequestFailed {
                id,
                error: RequestError::Closed
            },
            ConnEvent::Disconnected {
                retry_at: None,
                reason: DisconnectReason::Kicked
            },
            ConnEvent::Kicked,
        ]
    );
    assert_never_reconnects(&mut sim);

    // A new explicit connect starts a new session.
    sim.connect();
    sim.expect_connect();
}

#[test]
fn token_expiry_in_the_handshake_ends_the_session() {
    let mut sim = Sim::new();
    sim.connect();
    sim.expect_connect();
    sim.open();
    sim.handshake(1501);
    sim.expect_close();
    assert_eq!(
        sim.take_events(),
        [
            ConnEvent::Connecting,
            ConnEvent::Disconnected {
                retry_at: None,
                reason: DisconnectReason::Token {
                    code: ErrorCode::TokenExpired
                }
            },
            ConnEvent::TokenExpired,
        ]
    );
    assert_never_reconnects(&mut sim);

    // With a new token the application connects again.
    sim.conn.set_token("tk2");
    sim.connect();
    assert!(sim.expect_connect().contains("token=tk2"));
}

#[test]
fn every_token_error_in_the_handshake_is_final() {
    for code in 1502..=1507 {
        let mut sim = Sim::new();
        sim.connect();
        sim.expect_connect();
        sim.open();
        sim.handshake(code);
        sim.expect_close();
        let expected = if code == 1506 {
            ConnEvent::Kicked
        } else {
            ConnEvent::TokenInvalid {
                code: ErrorCode::from_code(code),
            }
        };
        assert_eq!(sim.take_events().last(), Some(&expected), "code {code}");
        assert_never_reconnects(&mut sim);
    }
}

#[test]
fn token_error_in_a_response_ends_the_session() {
    let mut sim = Sim::new();
    sim.establish();
    let a = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    let b = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    let req_a = sim.expect_binary();
    sim.expect_binary();
    sim.reply(&req_a, 1501, Vec::new());
    sim.expect_close();
    assert_eq!(
        sim.take_events(),
        [
            ConnEvent::RequestFailed {
                id: a,
                error: RequestError::Server {
                    code: ErrorCode::TokenExpired,
                    msg: "failed".into()
                }
            },
            ConnEvent::RequestFailed {
                id: b,
                error: RequestError::Closed
            },
            ConnEvent::Disconnected {
                retry_at: None,
                reason: DisconnectReason::Token {
                    code: ErrorCode::TokenExpired
                }
            },
            ConnEvent::TokenExpired,
        ]
    );
    assert_never_reconnects(&mut sim);
}

#[test]
fn logout_sends_2003_then_closes_for_good() {
    let mut sim = Sim::new();
    sim.establish();
    sim.conn.logout(sim.now);
    sim.collect();
    let req = sim.expect_binary();
    assert_eq!(req.req_identifier, 2003);
    match req.payload().unwrap() {
        RequestPayload::Logout(m) => {
            assert_eq!((m.user_id.as_str(), m.platform_id), ("u1", 5));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.conn.status(), ConnStatus::LoggingOut);
    let later = sim.request(ReqIdentifier::GetNewestSeq, max_seq_req());
    sim.expect_no_transmit();
    sim.reply(&req, 0, Vec::new());
    sim.expect_close();
    assert_eq!(
        sim.take_events(),
        [
            ConnEvent::RequestFailed {
                id: later,
                error: RequestError::Closed
            },
            ConnEvent::Disconnected {
                retry_at: None,
                reason: DisconnectReason::Logout
            },
            ConnEvent::SessionEnded,
        ]
    );
    assert_never_reconnects(&mut sim);
}

#[test]
fn unanswered_logout_closes_after_the_request_timeout() {
    let mut sim = Sim::new();
    sim.establish();
    sim.conn.logout(sim.now);
    sim.collect();
    sim.expect_binary();
    sim.advance(9_999);
    sim.expect_no_transmit();
    sim.advance(1);
    sim.expect_close();
    assert_eq!(sim.take_events().last(), Some(&ConnEvent::SessionEnded));
    assert_never_reconnects(&mut sim);
}

// ---- background ---------------------------------------------------------------------------------

fn expect_background_req(sim: &mut Sim) -> (Req, bool) {
    let req = sim.expect_binary();
    assert_eq!(req.req_identifier, 2004);
    match req.payload().unwrap() {
        RequestPayload::SetBackgroundStatus(m) => {
            assert_eq!(m.user_id, "u1");
            let flag = m.is_background;
            (req, flag)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn background_toggles_send_2004() {
    let mut sim = Sim::new();
    sim.establish();
    sim.set_background(true);
    let (req, flag) = expect_background_req(&mut sim);
    assert!(flag);
    sim.reply(&req, 0, Vec::new());
    // The machine's own request produces no request events.
    assert!(sim.take_events().is_empty());
    // Setting the same value again sends nothing.
    sim.set_background(true);
    sim.expect_no_transmit();
    sim.set_background(false);
    let (_, flag) = expect_background_req(&mut sim);
    assert!(!flag);
    assert!(!sim.conn.is_background());
}

#[test]
fn background_flag_rides_on_the_next_handshake() {
    let mut sim = Sim::new();
    sim.set_background(true);
    sim.expect_no_transmit();
    sim.connect();
    let url = sim.expect_connect();
    assert!(url.contains("isBackground=true"), "{url}");
    sim.open();
    // Changed between the handshake query and the handshake result: told to the gateway once connected.
    sim.set_background(false);
    sim.expect_no_transmit();
    sim.handshake(0);
    let (_, flag) = expect_background_req(&mut sim);
    assert!(!flag);
    sim.set_background(false);
    sim.expect_no_transmit();
}
