//! The WebSocket gateway against the real server on port 0, with real clients in both envelopes
//! (JSON `sdkType=js`, and gob + gzip as the official SDK): handshake, kick on second login,
//! ping/pong, protocol violations, send → ack → push, pulls, logout, the two-port and
//! static-file modes.

mod support;

use std::time::Duration;

use chorus_proto::envelope::{
    gunzip, Compression, ConnectParams, EnvelopeCodec, FrameCodec, HandshakeResult, Req, Resp,
    SdkType,
};
use chorus_proto::pb::msg::SendMsgResp;
use chorus_proto::pb::sdkws::{
    GetMaxSeqReq, GetMaxSeqResp, MsgData, PullMessageBySeqsReq, PullMessageBySeqsResp, SeqRange,
    SetAppBackgroundStatusReq, SubUserOnlineStatus, SubUserOnlineStatusTips,
};
use chorus_proto::pb::Message as _;
use chorus_server::auth;
use support::ws::{self, Mode, WsClient};
use support::TestServer;

const WEB: i32 = 5;
const ANDROID: i32 = 2;
const IOS: i32 = 1;

async fn server_with(users: &[&str]) -> TestServer {
    let users: Vec<(&str, &str)> = users.iter().map(|u| (*u, *u)).collect();
    TestServer::with_users(&users).await
}

fn bg(user: &str) -> SetAppBackgroundStatusReq {
    SetAppBackgroundStatusReq {
        user_id: user.to_owned(),
        is_background: false,
    }
}

/// A request that needs no other service: proves the connection is alive and answering.
async fn assert_alive(c: &mut WsClient) {
    let user = c.user.clone();
    let resp = c.request(2004, &bg(&user)).await;
    assert_eq!(resp.err_code, 0, "{resp:?}");
}

/// Subscribes `c` to the online status of `ids` (2005) and returns the reply.
async fn subscribe(c: &mut WsClient, ids: Vec<String>) -> SubUserOnlineStatusTips {
    c.call(
        2005,
        &SubUserOnlineStatus {
            subscribe_user_id: ids,
            unsubscribe_user_id: vec![],
        },
    )
    .await
}

#[tokio::test]
async fn handshake_success_sends_the_text_frame_first_in_both_codecs() {
    let s = server_with(&["u1", "u2"]).await;
    for mode in [Mode::Json, Mode::Gob, Mode::JsonGzip, Mode::GobPlain] {
        let token = s.user_token("u1", WEB).await;
        let params = ws::params("u1", &token, WEB, mode);
        let (mut c, result) = WsClient::open(&s, &params).await;
        assert_eq!(result, HandshakeResult::ok(), "{mode:?}");

        // 2004: empty data, msgIncr and operationID echoed.
        let req = c.req(2004, &bg("u1"));
        c.send_req(&req).await;
        let raw = c.next_raw_binary().await;
        let envelope = match c.codec.compression {
            Compression::Gzip => gunzip(&raw, 1 << 20).expect("server frames are gzip'd"),
            Compression::None => raw.clone(),
        };
        if c.codec.envelope == EnvelopeCodec::Json {
            let expected = format!(
                r#"{{"reqIdentifier":2004,"msgIncr":"{}","operationID":"{}","errCode":0,"errMsg":"","data":null}}"#,
                req.msg_incr, req.operation_id
            );
            assert_eq!(String::from_utf8(envelope).unwrap(), expected);
        } else {
            let resp = Resp::decode_gob(&envelope).unwrap();
            assert_eq!(
                resp,
                Resp {
                    req_identifier: 2004,
                    msg_incr: req.msg_incr.clone(),
                    operation_id: req.operation_id.clone(),
                    ..Resp::default()
                }
            );
        }

        // 2005: the online platforms of the subscribed users.
        let tips = subscribe(&mut c, vec!["u1".into(), "u2".into()]).await;
        assert_eq!(tips.subscribers.len(), 2);
        assert_eq!(tips.subscribers[0].user_id, "u1");
        assert_eq!(tips.subscribers[0].online_platform_i_ds, vec![WEB]);
        assert!(tips.subscribers[1].online_platform_i_ds.is_empty());
        c.close().await;
    }
}

#[tokio::test]
async fn handshake_text_frame_is_exactly_the_success_envelope() {
    let s = server_with(&["u1"]).await;
    let token = s.user_token("u1", WEB).await;
    let params = ws::params("u1", &token, WEB, Mode::Json);
    let url = format!("{}?{}", s.ws_url(), params.to_query());
    let (mut c, _) = WsClient::open_url(&url, Mode::Json.codec(), "u1", false).await;
    assert_eq!(
        c.next_text().await,
        r#"{"errCode":0,"errMsg":"","errDlt":""}"#
    );
}

#[tokio::test]
async fn bad_arguments_are_answered_over_http_with_1602() {
    let s = server_with(&["u1"]).await;
    let token = s.user_token("u1", WEB).await;
    let good = format!("sendID=u1&token={token}&platformID=5&operationID=op&isBackground=false");
    let bad = [
        format!("token={token}&platformID=5&operationID=op&isBackground=false"),
        format!("sendID=u1&token={token}&platformID=abc&operationID=op&isBackground=false"),
        format!("sendID=u1&token={token}&platformID=12&operationID=op&isBackground=false"),
        format!("sendID=u1&token={token}&platformID=5&isBackground=false"),
        format!("sendID=u1&token={token}&platformID=5&operationID=op"),
        format!("{good}&sdkType=rust"),
        "".to_owned(),
    ];
    for query in &bad {
        let (status, body) = ws::raw_upgrade(&s, query).await;
        assert_eq!(status, 200, "{query}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
        assert_eq!(v["errCode"], 1602, "{query}: {body}");
        assert!(
            v.get("errDlt").is_some() && v.get("data").is_none(),
            "{body}"
        );
    }
    // Token errors too are answered over HTTP without isMsgResp.
    let (status, body) = ws::raw_upgrade(&s, &good.replace(&token, "a.b.c")).await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let code = v["errCode"].as_i64().unwrap();
    assert!((1501..=1507).contains(&code), "{body}");
    // The good query upgrades.
    let (status, _) = ws::raw_upgrade(&s, &good).await;
    assert_eq!(status, 101);
}

#[tokio::test]
async fn token_failures_are_reported_in_band_then_the_socket_closes() {
    let s = server_with(&["u1", "u2"]).await;
    let now = chorus_server::now_ms() / 1000;
    let t_u2 = s.user_token("u2", WEB).await;
    let t_ios = s.user_token("u1", IOS).await;
    let kicked = s.user_token("u1", WEB).await;
    let _newer = s.user_token("u1", WEB).await;
    let cases: Vec<(String, i32, &str)> = vec![
        (
            auth::issue("other-secret", "u1", WEB, now).0,
            1505,
            "forged",
        ),
        (
            auth::issue(
                support::SECRET,
                "u1",
                WEB,
                now - auth::TOKEN_TTL_SECS - 3600,
            )
            .0,
            1501,
            "expired",
        ),
        (
            auth::issue(support::SECRET, "u1", WEB, now).0,
            1507,
            "never issued",
        ),
        (t_u2, 1502, "another user's"),
        (t_ios, 1502, "another platform's"),
        (kicked, 1506, "kicked"),
    ];
    for (token, code, what) in cases {
        for mode in [Mode::Json, Mode::Gob] {
            let params = ws::params("u1", &token, WEB, mode);
            let (mut c, result) = WsClient::open(&s, &params).await;
            assert_eq!(result.err_code, code, "{what} token: {result:?}");
            assert!(!result.err_msg.is_empty());
            let frames = c.expect_close().await;
            assert!(frames.is_empty(), "{what}: {frames:?}");
        }
    }
    // Bad arguments with isMsgResp=true are reported in band as well.
    let url = format!("{}?sendID=u1&platformID=5&isMsgResp=true", s.ws_url());
    let (mut c, result) = WsClient::open_url(&url, Mode::Json.codec(), "u1", true).await;
    assert_eq!(result.err_code, 1602);
    c.expect_close().await;
}

#[tokio::test]
async fn second_login_on_the_same_platform_kicks_the_first_connection() {
    let s = server_with(&["u1"]).await;
    let t1 = s.user_token("u1", WEB).await;
    let t_android = s.user_token("u1", ANDROID).await;
    let mut first = WsClient::connect(&s, "u1", &t1, Mode::Gob).await;
    let mut same_token = WsClient::connect(&s, "u1", &t1, Mode::Json).await;
    let mut android = WsClient::connect(&s, "u1", &t_android, Mode::Json).await;
    // A reconnect with the same token kicks nobody.
    assert_alive(&mut first).await;
    assert_alive(&mut same_token).await;

    let t2 = s.user_token("u1", WEB).await;
    let mut second = WsClient::connect(&s, "u1", &t2, Mode::Json).await;

    // The gob connection gets gzip(Resp typedef ‖ Resp{ReqIdentifier: 2002}) and is closed.
    let raw = first.next_raw_binary().await;
    let kick = gunzip(&raw, 1 << 20).expect("gzip");
    let typedef: &[u8] = &[0x5f, 0x7f, 0x03, 0x01, 0x01, 0x04, b'R', b'e', b's', b'p'];
    assert!(kick.starts_with(typedef), "{kick:02x?}");
    assert!(
        kick.ends_with(&[0x07, 0xff, 0x80, 0x01, 0xfe, 0x0f, 0xa4, 0x00]),
        "{kick:02x?}"
    );
    first.expect_close().await;
    let kick = same_token.next_push().await;
    assert_eq!(
        kick,
        Resp {
            req_identifier: 2002,
            ..Resp::default()
        }
    );
    same_token.expect_close().await;

    // Other platforms and the new login are unaffected; the old token is dead.
    assert_alive(&mut android).await;
    assert_alive(&mut second).await;
    let (mut c, result) = WsClient::open(&s, &ws::params("u1", &t1, WEB, Mode::Json)).await;
    assert_eq!(result.err_code, 1506);
    c.expect_close().await;
    let r = s
        .post("/auth/parse_token", None, serde_json::json!({"token": t1}))
        .await;
    assert_eq!(r["errCode"], 1506);
}

#[tokio::test]
async fn text_and_control_pings_are_answered() {
    let s = server_with(&["u1"]).await;
    let token = s.user_token("u1", WEB).await;
    for mode in [Mode::Json, Mode::Gob] {
        let mut c = WsClient::connect(&s, "u1", &token, mode).await;
        assert_eq!(c.text_ping(None).await, r#"{"type":"pong","body":null}"#);
        assert_eq!(
            c.text_ping(Some(r#""op-123""#)).await,
            r#"{"type":"pong","body":"op-123"}"#
        );
        assert_eq!(
            c.text_ping(Some(r#"{ "a" : [1, 2] }"#)).await,
            r#"{"type":"pong","body":{"a":[1,2]}}"#
        );
        // A pong is ignored: the next answer is the pong of the next ping.
        c.send_text(r#"{"type":"pong","body":"x"}"#).await;
        assert_eq!(c.text_ping(Some("7")).await, r#"{"type":"pong","body":7}"#);
        assert_eq!(c.control_ping(b"hb-1").await, b"hb-1".to_vec());
        assert_alive(&mut c).await;
        // Any other text frame closes the connection.
        c.send_text(r#"{"type":"hello"}"#).await;
        c.expect_close().await;
    }
}

/// A fresh connection of u1 in `mode` that is expected to be closed after `bad` is sent; the
/// observer connection must keep working.
async fn assert_closes(s: &TestServer, observer: &mut WsClient, mode: Mode, bad: Bad, what: &str) {
    let token = s.user_token("u9", WEB).await;
    let mut c = WsClient::connect(s, "u9", &token, mode).await;
    match bad {
        Bad::Binary(bytes) => c.send_binary(bytes).await,
        Bad::Text(text) => c.send_text(&text).await,
        Bad::Req(req) => c.send_req(&req).await,
    }
    let frames = c.expect_close().await;
    assert!(frames.is_empty(), "{what}: answered {frames:?}");
    assert_alive(observer).await;
}

enum Bad {
    Binary(Vec<u8>),
    Text(String),
    Req(Req),
}

fn req(id: i32, send_id: &str, data: Vec<u8>) -> Req {
    Req {
        req_identifier: id,
        token: String::new(),
        send_id: send_id.to_owned(),
        operation_id: "op-bad".into(),
        msg_incr: format!("{send_id}_bad"),
        data,
    }
}

#[tokio::test]
async fn protocol_violations_close_the_connection_and_others_keep_being_served() {
    let s = server_with(&["u1", "u9"]).await;
    let token = s.user_token("u1", WEB).await;
    let mut observer = WsClient::connect(&s, "u1", &token, Mode::Gob).await;
    let bg_data = bg("u9").encode_to_vec();

    // Envelopes that decode but break the rules.
    for mode in [Mode::Json, Mode::Gob] {
        let cases = [
            (req(2004, "u1", bg_data.clone()), "sendID of another user"),
            (req(2004, "", bg_data.clone()), "empty sendID"),
            (req(9999, "u9", bg_data.clone()), "unknown reqIdentifier"),
            (req(1004, "u9", vec![]), "signal messages (1004)"),
            (req(2001, "u9", vec![]), "server-only reqIdentifier"),
        ];
        for (r, what) in cases {
            assert_closes(&s, &mut observer, mode, Bad::Req(r), what).await;
        }
    }

    // JSON envelope that does not decode.
    let json_cases = [
        (b"{not json".to_vec(), "malformed JSON"),
        (
            br#"{"reqIdentifier":2004,"sendID":"u9","operationID":"o","msgIncr":"m","data":"!!notbase64"}"#.to_vec(),
            "bad base64",
        ),
        (br#"{"sendID":"u9","operationID":"o","msgIncr":"m"}"#.to_vec(), "no reqIdentifier"),
        (br#"[2004,"","u9"]"#.to_vec(), "array"),
        (
            chorus_proto::envelope::gzip(&req(2004, "u9", bg_data.clone()).encode_json()),
            "gzip without negotiating it",
        ),
    ];
    for (bytes, what) in json_cases {
        assert_closes(&s, &mut observer, Mode::Json, Bad::Binary(bytes), what).await;
    }

    // gob + gzip envelope that does not decode.
    let good_gob = req(2004, "u9", bg_data.clone()).encode_gob();
    let mut truncated = good_gob.clone();
    truncated.truncate(good_gob.len() - 3);
    let gob_cases = [
        (b"\x1f\x8b\x08 not gzip".to_vec(), "bad gzip"),
        (good_gob.clone(), "gob not gzip'd"),
        (
            chorus_proto::envelope::gzip(b"\x03\x04\x05garbage"),
            "bad gob",
        ),
        (chorus_proto::envelope::gzip(&truncated), "truncated gob"),
        (
            chorus_proto::envelope::gzip(&req(2004, "u9", bg_data.clone()).encode_json()),
            "JSON on a gob connection",
        ),
    ];
    for (bytes, what) in gob_cases {
        assert_closes(&s, &mut observer, Mode::Gob, Bad::Binary(bytes), what).await;
    }

    // Frames above 51200 bytes are refused even when the envelope inside is valid.
    let mut big = req(2004, "u9", bg_data.clone()).encode_json();
    big.extend(std::iter::repeat_n(b' ', 51_201 - big.len()));
    assert!(chorus_proto::envelope::Req::decode_json(&big).is_ok());
    assert_closes(
        &s,
        &mut observer,
        Mode::Json,
        Bad::Binary(big),
        "oversized frame",
    )
    .await;
    let mut at_limit = req(2004, "u9", bg_data.clone()).encode_json();
    at_limit.extend(std::iter::repeat_n(b' ', 51_200 - at_limit.len()));
    let t9 = s.user_token("u9", WEB).await;
    let mut c = WsClient::connect(&s, "u9", &t9, Mode::Json).await;
    c.send_binary(at_limit).await;
    let resp = c.next_push().await;
    assert_eq!(
        (resp.req_identifier, resp.err_code),
        (2004, 0),
        "a 51200-byte frame is fine"
    );

    // Text frames that are not ping/pong.
    for text in ["hello", r#"{"type":1}"#, "{}"] {
        assert_closes(&s, &mut observer, Mode::Json, Bad::Text(text.into()), text).await;
    }
}

#[tokio::test]
async fn bad_payloads_get_error_responses_and_the_connection_stays() {
    let s = server_with(&["u1", "u2"]).await;
    let token = s.user_token("u1", WEB).await;
    for mode in [Mode::Json, Mode::Gob] {
        let mut c = WsClient::connect(&s, "u1", &token, mode).await;
        // Data that is not the protobuf message of the identifier: 1001 ArgsError.
        let mut r = c.req(2004, &bg("u1"));
        r.data = vec![0x0a, 0xff, 0xff];
        c.send_req(&r).await;
        let resp = c.response_to(&r).await;
        assert_eq!(resp.err_code, 1001, "{resp:?}");
        assert!(resp.data.is_empty());
        // Acting for another user: 1002.
        let resp = c.request(2004, &bg("u2")).await;
        assert_eq!(resp.err_code, 1002, "{resp:?}");
        let resp = c
            .request(
                1001,
                &GetMaxSeqReq {
                    user_id: "u2".into(),
                },
            )
            .await;
        assert_eq!(resp.err_code, 1002, "{resp:?}");
        // A message claiming another sender: 1002.
        let mut m = ws::group_text("u2", "g-none", "cm-forged", "hi");
        m.send_id = "u2".into();
        let resp = c.request(1003, &m).await;
        assert_eq!(resp.err_code, 1002, "{resp:?}");
        assert_alive(&mut c).await;
    }
}

#[tokio::test]
async fn logout_replies_then_closes() {
    let s = server_with(&["u1"]).await;
    let token = s.user_token("u1", WEB).await;
    for mode in [Mode::Json, Mode::Gob] {
        let mut c = WsClient::connect(&s, "u1", &token, mode).await;
        let req = chorus_proto::pb::push::DelUserPushTokenReq {
            user_id: "u1".into(),
            platform_id: WEB,
        };
        let resp = c.request(2003, &req).await;
        assert_eq!(resp.err_code, 0, "{resp:?}");
        assert!(resp.data.is_empty());
        c.expect_close().await;
    }
    // The token still works after a logout over the gateway.
    let mut c = WsClient::connect(&s, "u1", &token, Mode::Json).await;
    assert_alive(&mut c).await;
}

#[tokio::test]
async fn official_sdk_gob_frames_are_what_the_client_sends_and_what_the_server_reads() {
    let text = include_str!("../../tests/fixtures/openim-vectors/ws-frames.jsonl");
    let first = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSONL"))
        .find(|v| v["dir"] == "C->S" && v["type"] == "binary")
        .expect("a captured request");
    let raw = ws::unhex(first["raw_hex"].as_str().unwrap());
    let captured = ws::unhex(first["gunzipped_hex"].as_str().unwrap());
    let codec = Mode::Gob.codec();
    let req = codec.decode_req(&raw).expect("the SDK's frame decodes");
    assert_eq!(req.req_identifier, 1001);
    // Our client's gob (before gzip) is byte for byte the SDK's.
    let ours = codec.encode_req(&req).unwrap();
    assert_eq!(gunzip(&ours, 1 << 20).unwrap(), captured);
    assert_eq!(&ours[..10], &raw[..10], "Go's gzip header");

    // The server answers the SDK's own bytes.
    let s = server_with(&[req.send_id.as_str()]).await;
    let token = s.user_token(&req.send_id, WEB).await;
    let mut c = WsClient::connect(&s, &req.send_id, &token, Mode::Gob).await;
    c.send_binary(raw).await;
    let resp = c.response_to(&req).await;
    assert_eq!(resp.err_code, 0, "{resp:?}");
    GetMaxSeqResp::decode(resp.data.as_slice()).expect("GetMaxSeqResp");
}

/// Everyone's connections: (name, client) for u1 web (JSON), u1 android (gob), u2 (gob), u3 (JSON).
async fn group_session(s: &TestServer) -> (String, Vec<WsClient>) {
    let gid = ws::create_group(s, "u1", &["u2", "u3"]).await;
    let mut clients = Vec::new();
    for (user, platform, mode) in [
        ("u1", WEB, Mode::Json),
        ("u1", ANDROID, Mode::Gob),
        ("u2", WEB, Mode::Gob),
        ("u3", IOS, Mode::JsonGzip),
    ] {
        let token = s.user_token(user, platform).await;
        clients.push(WsClient::connect(s, user, &token, mode).await);
    }
    (gid, clients)
}

#[tokio::test]
async fn send_ack_and_push_with_seq_to_every_member_and_the_senders_other_device() {
    let s = server_with(&["u1", "u2", "u3"]).await;
    let (gid, mut clients) = group_session(&s).await;
    let conv = format!("sg_{gid}");

    let mut seqs = Vec::new();
    // u1 from the web (JSON), then u2 (gob): every connection, the sender's included, gets the
    // stored message with its seq.
    for (sender, text) in [(0usize, "hello"), (2, "hi back"), (1, "from android")] {
        let user = clients[sender].user.clone();
        let cmid = format!("cm-{sender}-{text}");
        let m = ws::group_text(&user, &gid, &cmid, text);
        let ack: SendMsgResp = clients[sender].send_msg(&m).await;
        assert_eq!(ack.client_msg_id, cmid);
        assert!(!ack.server_msg_id.is_empty());
        assert!(ack.send_time > 0);
        let mut seen: Option<MsgData> = None;
        for c in clients.iter_mut() {
            let (pushed_conv, got) = c.wait_msg(&cmid).await;
            assert_eq!(pushed_conv, conv, "{}", c.user);
            assert_eq!(got.send_id, user);
            assert_eq!(got.group_id, gid);
            assert_eq!(got.server_msg_id, ack.server_msg_id);
            assert_eq!(got.send_time, ack.send_time);
            assert_eq!(got.session_type, 3);
            assert_eq!(got.content, m.content);
            assert!(got.seq > 0);
            if let Some(prev) = &seen {
                assert_eq!(got.seq, prev.seq, "one seq for everyone");
            }
            seen = Some(got);
        }
        seqs.push(seen.unwrap().seq);
    }
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive seqs: {seqs:?}"
    );

    // 1001 and 1002 agree with the pushes, in both codecs.
    for i in [1usize, 3] {
        let user = clients[i].user.clone();
        let max: GetMaxSeqResp = clients[i]
            .call(
                1001,
                &GetMaxSeqReq {
                    user_id: user.clone(),
                },
            )
            .await;
        assert_eq!(max.max_seqs.get(&conv), seqs.last(), "{max:?}");
        let pulled: PullMessageBySeqsResp = clients[i]
            .call(
                1002,
                &PullMessageBySeqsReq {
                    user_id: user,
                    seq_ranges: vec![SeqRange {
                        conversation_id: conv.clone(),
                        begin: seqs[0],
                        end: *seqs.last().unwrap(),
                        num: 100,
                    }],
                    order: 0,
                },
            )
            .await;
        let msgs = &pulled.msgs.get(&conv).expect("pulled conversation").msgs;
        let got: Vec<i64> = msgs.iter().map(|m| m.seq).collect();
        assert_eq!(got, seqs);
    }
}

#[tokio::test]
async fn a_slow_member_does_not_block_the_sender() {
    let s = server_with(&["u1", "u2"]).await;
    let gid = ws::create_group(&s, "u1", &["u2"]).await;
    let t1 = s.user_token("u1", WEB).await;
    let t2 = s.user_token("u2", WEB).await;
    let mut sender = WsClient::connect(&s, "u1", &t1, Mode::Json).await;
    // u2 connects and never reads: once the socket buffers are full its writer stalls.
    let _idle = WsClient::connect(&s, "u2", &t2, Mode::Json).await;
    let body = "x".repeat(30_000);
    let mut slowest = Duration::ZERO;
    for i in 0..150 {
        let cmid = format!("slow-{i}");
        let started = std::time::Instant::now();
        sender
            .send_msg(&ws::group_text("u1", &gid, &cmid, &body))
            .await;
        sender.wait_msg(&cmid).await;
        slowest = slowest.max(started.elapsed());
    }
    // About 4.5 MB went to the idle member, more than the socket buffers hold; had the fan-out
    // waited for it, one send would have stalled for the writer's 10 s timeout.
    assert!(slowest < Duration::from_secs(5), "{slowest:?}");
}

#[tokio::test]
async fn two_port_gateway_accepts_any_path() {
    let s = server_with(&["u1"]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gw = chorus_server::gateway_app(s.state.clone());
    tokio::spawn(async move { axum::serve(listener, gw).await.unwrap() });
    let token = s.user_token("u1", WEB).await;
    for path in ["/", "/msg_gateway", "/some/proxy/prefix"] {
        let params = ConnectParams {
            sdk_type: SdkType::Js,
            ..ws::params("u1", &token, WEB, Mode::Json)
        };
        let url = format!("ws://{addr}{path}?{}", params.to_query());
        let codec = FrameCodec::for_params(&params);
        let (mut c, result) = WsClient::open_url(&url, codec, "u1", true).await;
        assert!(result.is_ok(), "{path}: {result:?}");
        assert_alive(&mut c).await;
    }
    // REST is not served on the gateway port.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"POST /auth/parse_token HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        .await
        .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    assert!(!out.starts_with("HTTP/1.1 200"), "{out}");
}

#[tokio::test]
async fn single_port_mode_serves_static_files_rest_and_the_gateway() {
    let dir = std::env::temp_dir().join(format!(
        "chorus-static-{}-{}",
        std::process::id(),
        chorus_server::now_ms()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>chorus demo</h1>").unwrap();
    std::fs::write(dir.join("app.js"), "console.log(1)").unwrap();
    let config = chorus_server::config::Config {
        secret: support::SECRET.into(),
        static_dir: Some(dir.clone()),
        ..Default::default()
    };
    let state = chorus_server::AppState::new(
        config,
        chorus_server::store::Store::open_in_memory().unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, chorus_server::app(state))
            .await
            .unwrap()
    });
    let get = |path: &'static str| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).await.unwrap();
        out
    };
    let index = get("/").await;
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.ends_with("<h1>chorus demo</h1>"), "{index}");
    let js = get("/app.js").await;
    assert!(
        js.starts_with("HTTP/1.1 200") && js.ends_with("console.log(1)"),
        "{js}"
    );
    assert!(get("/missing.js").await.starts_with("HTTP/1.1 404"));
    // The gateway path still answers the handshake (here: refused over HTTP for missing args).
    let gw = get("/msg_gateway").await;
    assert!(gw.contains("\"errCode\":1602"), "{gw}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn client_modes_use_the_official_sdk_settings() {
    let gob = Mode::Gob.codec();
    assert_eq!(
        (gob.envelope, gob.compression),
        (EnvelopeCodec::Gob, Compression::Gzip)
    );
    let p = ws::params("u1", "t", WEB, Mode::Gob);
    let q = p.to_query();
    assert!(
        q.contains("compression=gzip") && !q.contains("sdkType"),
        "{q}"
    );
    assert!(q.contains("isMsgResp=true"), "{q}");
    let p = ws::params("u1", "t", WEB, Mode::Json);
    assert!(p.to_query().contains("sdkType=js"));
}

/// Real time: 30 s read deadline, 27 s server pings to web connections only (spec §2.8).
#[tokio::test]
async fn idle_connections_hit_the_read_deadline_and_web_ones_get_pings() {
    let s = server_with(&["u1"]).await;
    let t_web = s.user_token("u1", WEB).await;
    let t_android = s.user_token("u1", ANDROID).await;
    let mut web = WsClient::connect(&s, "u1", &t_web, Mode::Json).await;
    let mut android = WsClient::connect(&s, "u1", &t_android, Mode::Gob).await;
    let started = tokio::time::Instant::now();

    // Nothing for 25 s on either connection.
    let web_first = web.message_within(Duration::from_secs(25)).await;
    assert!(web_first.is_err(), "{web_first:?}");
    // The web connection gets a control ping at 27 s (the client library answers it).
    match web.message_within(Duration::from_secs(4)).await {
        Ok(Some(tokio_tungstenite::tungstenite::Message::Ping(_))) => {}
        other => panic!("expected a control ping: {other:?}"),
    }
    let at = started.elapsed();
    assert!(
        at >= Duration::from_secs(26) && at < Duration::from_secs(29),
        "{at:?}"
    );

    // The android connection, silent for 30 s, is closed without a frame.
    match android.message_within(Duration::from_secs(6)).await {
        Ok(None) => {}
        other => panic!("expected the close: {other:?}"),
    }
    let at = started.elapsed();
    assert!(
        at >= Duration::from_secs(29) && at < Duration::from_secs(32),
        "{at:?}"
    );
    // The web connection answered the ping, which keeps it open.
    assert_alive(&mut web).await;
}

#[tokio::test]
async fn packed_v_parameter_replaces_the_query() {
    use base64::Engine as _;
    let s = server_with(&["u1"]).await;
    let token = s.user_token("u1", WEB).await;
    let pack = |json: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
    };
    let v = pack(serde_json::json!({
        "token": token, "userID": "u1", "platformID": WEB, "operationID": "op-v",
        "compression": "gzip", "sdkType": "js", "sendResponse": true, "background": false,
    }));
    let url = format!("{}?v={v}", s.ws_url());
    let (mut c, result) = WsClient::open_url(&url, Mode::JsonGzip.codec(), "u1", true).await;
    assert!(result.is_ok(), "{result:?}");
    assert_alive(&mut c).await;
    // The packed form is checked like the query: the token must match userID and platformID.
    let v = pack(serde_json::json!({
        "token": token, "userID": "u1", "platformID": IOS, "operationID": "op-v",
        "sendResponse": true,
    }));
    let url = format!("{}?v={v}", s.ws_url());
    let (mut c, result) = WsClient::open_url(&url, Mode::Gob.codec(), "u1", true).await;
    assert_eq!(result.err_code, 1502);
    c.expect_close().await;
}

/// Waits for the next 2005 push of `c`, skipping other frames; panics after a few seconds.
async fn next_online_push(c: &mut WsClient) -> SubUserOnlineStatusTips {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let resp = c
            .try_next_frame(left)
            .await
            .unwrap_or_else(|| panic!("{}: no 2005 push", c.user));
        if resp.req_identifier == 2005 {
            assert_eq!(resp.msg_incr, "", "a push has no msgIncr: {resp:?}");
            assert_eq!(resp.err_code, 0, "{resp:?}");
            return SubUserOnlineStatusTips::decode(resp.data.as_slice()).expect("tips");
        }
    }
}

/// No 2005 frame arrives within `wait` (other frames are ignored).
async fn no_online_push(c: &mut WsClient, wait: Duration) {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return;
        }
        match c.try_next_frame(left).await {
            None => return,
            Some(resp) => assert_ne!(resp.req_identifier, 2005, "{}: {resp:?}", c.user),
        }
    }
}

fn platforms_of(tips: &SubUserOnlineStatusTips, user: &str) -> Vec<i32> {
    assert_eq!(tips.subscribers.len(), 1, "{tips:?}");
    assert_eq!(tips.subscribers[0].user_id, user, "{tips:?}");
    tips.subscribers[0].online_platform_i_ds.clone()
}

#[tokio::test]
async fn online_status_subscribers_get_2005_pushes_when_platforms_change() {
    let s = server_with(&["u1", "u2", "u3"]).await;
    let t1 = s.user_token("u1", WEB).await;
    let mut watcher = WsClient::connect(&s, "u1", &t1, Mode::Json).await;
    let t3 = s.user_token("u3", WEB).await;
    let mut bystander = WsClient::connect(&s, "u3", &t3, Mode::Gob).await;

    // The reply carries the current status: u2 is offline.
    let reply = subscribe(&mut watcher, vec!["u2".into()]).await;
    assert_eq!(platforms_of(&reply, "u2"), Vec::<i32>::new());

    // u2 comes online on Android, then on the web: each change is pushed.
    let t2a = s.user_token("u2", ANDROID).await;
    let android = WsClient::connect(&s, "u2", &t2a, Mode::Gob).await;
    assert_eq!(
        platforms_of(&next_online_push(&mut watcher).await, "u2"),
        vec![ANDROID]
    );
    let t2w = s.user_token("u2", WEB).await;
    let web = WsClient::connect(&s, "u2", &t2w, Mode::Json).await;
    assert_eq!(
        platforms_of(&next_online_push(&mut watcher).await, "u2"),
        vec![ANDROID, WEB]
    );
    // A second connection on a platform already online changes nothing.
    let web_again = WsClient::connect(&s, "u2", &t2w, Mode::Json).await;
    no_online_push(&mut watcher, Duration::from_millis(300)).await;
    web_again.close().await;
    no_online_push(&mut watcher, Duration::from_millis(300)).await;

    // Android goes away: only the web is left.
    android.close().await;
    assert_eq!(
        platforms_of(&next_online_push(&mut watcher).await, "u2"),
        vec![WEB]
    );
    // Someone who never subscribed hears nothing.
    no_online_push(&mut bystander, Duration::from_millis(200)).await;

    // After unsubscribing, u2 going offline is not pushed.
    let reply = watcher
        .request(
            2005,
            &SubUserOnlineStatus {
                subscribe_user_id: vec![],
                unsubscribe_user_id: vec!["u2".into()],
            },
        )
        .await;
    assert_eq!(reply.err_code, 0, "{reply:?}");
    web.close().await;
    no_online_push(&mut watcher, Duration::from_millis(400)).await;

    // A subscription dies with its connection: u3 subscribes, disconnects, and u2 coming back
    // online reaches nobody (and breaks nothing).
    subscribe(&mut bystander, vec!["u2".into()]).await;
    let bystander_id = s.state.hub.connections("u3")[0].id;
    assert_eq!(s.state.hub.watched_by(bystander_id), vec!["u2".to_owned()]);
    bystander.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !s.state.hub.connections("u3").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "u3 never left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(s.state.hub.watched_by(bystander_id).is_empty());
    let mut back = WsClient::connect(&s, "u2", &t2w, Mode::Json).await;
    assert_alive(&mut back).await;
    assert_alive(&mut watcher).await;
}

#[tokio::test]
async fn online_status_subscriptions_beyond_the_limit_get_1001_and_the_connection_stays() {
    use chorus_server::hub::MAX_SUBSCRIPTIONS;
    let s = server_with(&["u1", "u2", "u3"]).await;
    let t1 = s.user_token("u1", WEB).await;
    let mut watcher = WsClient::connect(&s, "u1", &t1, Mode::Gob).await;
    let t3 = s.user_token("u3", WEB).await;
    let mut other = WsClient::connect(&s, "u3", &t3, Mode::Json).await;
    let ids = |from: usize, n: usize| -> Vec<String> {
        (from..from + n).map(|i| format!("x{i}")).collect()
    };
    // Up to the limit, in requests that fit the 51200-byte frame limit; u2 is the last one.
    let half = MAX_SUBSCRIPTIONS / 2;
    for (from, n) in [(0, half), (half, MAX_SUBSCRIPTIONS - half - 1)] {
        let reply = subscribe(&mut watcher, ids(from, n)).await;
        assert_eq!(reply.subscribers.len(), n);
    }
    subscribe(&mut watcher, vec!["u2".into()]).await;

    // Two more for one less is refused in band with 1001; nothing changes (not even the
    // unsubscription) and the connection stays.
    let refused = watcher
        .request(
            2005,
            &SubUserOnlineStatus {
                subscribe_user_id: vec!["x-extra".into(), "x-extra2".into()],
                unsubscribe_user_id: vec!["x0".into()],
            },
        )
        .await;
    assert_eq!(refused.err_code, 1001, "{refused:?}");
    assert!(refused.err_msg.contains("at most 3000"), "{refused:?}");
    assert!(refused.data.is_empty());
    let conn_id = s.state.hub.connections("u1")[0].id;
    let watched = s.state.hub.watched_by(conn_id);
    assert_eq!(watched.len(), MAX_SUBSCRIPTIONS);
    assert!(watched.contains(&"x0".to_owned()) && !watched.contains(&"x-extra".to_owned()));
    assert_alive(&mut watcher).await;
    assert_alive(&mut other).await;
    // Subscriptions made before still work.
    let t2 = s.user_token("u2", ANDROID).await;
    let _u2 = WsClient::connect(&s, "u2", &t2, Mode::Gob).await;
    assert_eq!(
        platforms_of(&next_online_push(&mut watcher).await, "u2"),
        vec![ANDROID]
    );
}

#[tokio::test]
async fn handshakes_beyond_the_connection_limit_get_1601() {
    let s = server_with(&["u1", "u2"]).await;
    s.state.hub.set_max_connections(1);
    let t1 = s.user_token("u1", WEB).await;
    let first = WsClient::connect(&s, "u1", &t1, Mode::Json).await;

    // In band when asked for, as a JSON body otherwise; the limit is checked before anything else.
    let t2 = s.user_token("u2", WEB).await;
    let (_, result) = WsClient::open(&s, &ws::params("u2", &t2, WEB, Mode::Gob)).await;
    assert_eq!(result.err_code, 1601, "{result:?}");
    let (status, body) = ws::raw_upgrade(&s, "sendID=u2&token=bogus").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(v["errCode"], 1601, "{v}");

    // Once the first connection is gone there is room again.
    first.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while s.state.hub.connection_count() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "first never left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut second = WsClient::connect(&s, "u2", &t2, Mode::Gob).await;
    assert_alive(&mut second).await;
}

/// Whether `c` receives the 2001 push of `cmid` within `wait`.
async fn gets_push(c: &mut WsClient, cmid: &str, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(resp) = c.try_next_frame(left).await else {
            return false;
        };
        if resp.req_identifier != 2001 {
            continue;
        }
        let push = chorus_proto::pb::sdkws::PushMessages::decode(resp.data.as_slice())
            .expect("PushMessages");
        if push
            .msgs
            .values()
            .flat_map(|p| p.msgs.iter())
            .any(|m| m.client_msg_id == cmid)
        {
            return true;
        }
    }
}

#[tokio::test]
async fn ios_connections_in_the_background_get_no_message_pushes() {
    let s = server_with(&["u1", "u2"]).await;
    let gid = ws::create_group(&s, "u1", &["u2"]).await;
    let t1 = s.user_token("u1", WEB).await;
    let mut sender = WsClient::connect(&s, "u1", &t1, Mode::Json).await;
    let t_ios = s.user_token("u2", IOS).await;
    let mut ios = WsClient::connect(&s, "u2", &t_ios, Mode::Gob).await;
    let t_android = s.user_token("u2", ANDROID).await;
    let mut android = WsClient::connect(&s, "u2", &t_android, Mode::Gob).await;
    let background = |on: bool| SetAppBackgroundStatusReq {
        user_id: "u2".into(),
        is_background: on,
    };
    for c in [&mut ios, &mut android] {
        let resp = c.request(2004, &background(true)).await;
        assert_eq!(resp.err_code, 0, "{resp:?}");
    }

    let m = ws::group_text("u1", &gid, "cm-bg-1", "while in background");
    let _ = sender.send_msg(&m).await;
    // Android in the background still gets frames; iOS does not.
    assert!(gets_push(&mut android, "cm-bg-1", Duration::from_secs(5)).await);
    assert!(!gets_push(&mut ios, "cm-bg-1", Duration::from_millis(500)).await);

    // Back in the foreground, pushes resume.
    let resp = ios.request(2004, &background(false)).await;
    assert_eq!(resp.err_code, 0, "{resp:?}");
    let m = ws::group_text("u1", &gid, "cm-bg-2", "in the foreground");
    let _ = sender.send_msg(&m).await;
    assert!(gets_push(&mut ios, "cm-bg-2", Duration::from_secs(5)).await);

    // `isBackground=true` at the handshake counts as well.
    let t_ios2 = s.user_token("u2", IOS).await;
    let params = ConnectParams {
        is_background: true,
        ..ws::params("u2", &t_ios2, IOS, Mode::Json)
    };
    let (mut ios2, result) = WsClient::open(&s, &params).await;
    assert!(result.is_ok(), "{result:?}");
    let m = ws::group_text("u1", &gid, "cm-bg-3", "again");
    let _ = sender.send_msg(&m).await;
    assert!(gets_push(&mut android, "cm-bg-3", Duration::from_secs(5)).await);
    assert!(!gets_push(&mut ios2, "cm-bg-3", Duration::from_millis(500)).await);
}

/// POSTs JSON to a server at `addr`; the `data` of the envelope (errCode 0 asserted).
async fn post_data(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.to_string();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\noperationID: op-shutdown\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(t) = token {
        req.push_str(&format!("token: {t}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let (head, rest) = raw.split_once("\r\n\r\n").expect("HTTP response");
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    let v: serde_json::Value = serde_json::from_str(rest).expect("JSON");
    assert_eq!(v["errCode"], 0, "{path}: {v}");
    v["data"].clone()
}

#[tokio::test]
async fn graceful_shutdown_closes_live_connections_with_a_close_frame() {
    use futures::StreamExt as _;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::Message;

    let data = std::env::temp_dir().join(format!(
        "chorus-shutdown-{}-{}",
        std::process::id(),
        chorus_server::now_ms()
    ));
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let config = chorus_server::config::Config {
        data_dir: data.clone(),
        single_addr: Some(addr),
        ..support::test_config()
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(chorus_server::run(config, async move {
        let _ = stop_rx.await;
    }));
    // Wait for the listener.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "server never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let admin = post_data(
        addr,
        "/auth/get_admin_token",
        None,
        serde_json::json!({"secret": support::SECRET, "userID": support::ADMIN}),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    post_data(
        addr,
        "/user/user_register",
        Some(&admin),
        serde_json::json!({"users": [{"userID": "u1", "nickname": "u1", "faceURL": ""}]}),
    )
    .await;
    let token = post_data(
        addr,
        "/auth/get_user_token",
        Some(&admin),
        serde_json::json!({"userID": "u1", "platformID": WEB}),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let params = ConnectParams {
        is_msg_resp: false,
        ..ws::params("u1", &token, WEB, Mode::Json)
    };
    let url = format!("ws://{addr}/msg_gateway?{}", params.to_query());
    let (mut ws, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;

    stop_tx.send(()).unwrap();
    let frame = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Err(_) => panic!("no close frame within 10 s"),
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("connection ended without a close frame: {other:?}"),
        }
    };
    let frame = frame.expect("the close frame has a code");
    assert_eq!(frame.code, CloseCode::Away, "{frame:?}");
    let ended = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops after closing its connections")
        .expect("server task");
    assert!(ended.is_ok(), "{ended:?}");
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn payload_user_ids_must_be_the_connection_user_even_for_an_app_admin() {
    use chorus_proto::pb::{msg, push};
    let s = server_with(&["u1", "u2", support::ADMIN]).await;
    let token = s.user_token(support::ADMIN, WEB).await;
    let mut admin = WsClient::connect(&s, support::ADMIN, &token, Mode::Json).await;
    let u2 = || "u2".to_owned();
    let mut refused = Vec::new();
    refused.push(admin.request(1001, &GetMaxSeqReq { user_id: u2() }).await);
    refused.push(
        admin
            .request(
                1002,
                &PullMessageBySeqsReq {
                    user_id: u2(),
                    ..Default::default()
                },
            )
            .await,
    );
    refused.push(
        admin
            .request(
                1005,
                &msg::GetSeqMessageReq {
                    user_id: u2(),
                    ..Default::default()
                },
            )
            .await,
    );
    refused.push(
        admin
            .request(
                1006,
                &msg::GetConversationsHasReadAndMaxSeqReq {
                    user_id: u2(),
                    ..Default::default()
                },
            )
            .await,
    );
    refused.push(
        admin
            .request(
                1007,
                &msg::GetLastMessageReq {
                    user_id: u2(),
                    ..Default::default()
                },
            )
            .await,
    );
    refused.push(
        admin
            .request(
                2003,
                &push::DelUserPushTokenReq {
                    user_id: u2(),
                    ..Default::default()
                },
            )
            .await,
    );
    refused.push(admin.request(2004, &bg("u2")).await);
    let mut m = ws::group_text("u2", "g-none", "cm-admin-forged", "hi");
    m.send_id = u2();
    refused.push(admin.request(1003, &m).await);
    for resp in &refused {
        assert_eq!(resp.err_code, 1002, "{resp:?}");
        assert!(resp.data.is_empty(), "{resp:?}");
    }
    // Its own requests still work.
    let own = admin
        .request(
            1001,
            &GetMaxSeqReq {
                user_id: support::ADMIN.into(),
            },
        )
        .await;
    assert_eq!(own.err_code, 0, "{own:?}");
}
