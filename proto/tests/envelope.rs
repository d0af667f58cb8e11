//! Envelope codecs: the JSON session of the protocol description (§10.1), gzip framing, size limits, text
//! ping/pong, the handshake frame, the connection query, and typed payloads.

use chorus_proto::pb::Map;

use chorus_proto::envelope::{
    decode_request_payload, decode_response_payload, gunzip, gzip, Compression, ConnectParams,
    EnvelopeCodec, FrameCodec, FrameLimits, HandshakeResult, RawJson, Req, RequestPayload, Resp,
    ResponsePayload, SdkType, TextFrame,
};
use chorus_proto::error::EncodeError;
use chorus_proto::pb::{msg, sdkws};
use chorus_proto::DecodeError;
use serde_json::Value;

const WS_FRAMES: &str = include_str!("../../tests/fixtures/openim-vectors/ws-frames.jsonl");

fn json(text: &[u8]) -> Value {
    serde_json::from_slice(text).unwrap()
}

/// Decodes a request envelope, re-encodes it, and checks the JSON is equivalent.
fn req_round_trip(text: &str) -> Req {
    let req = Req::decode_json(text.as_bytes()).unwrap();
    assert_eq!(json(&req.encode_json()), json(text.as_bytes()), "{text}");
    req
}

fn resp_round_trip(text: &str) -> Resp {
    let resp = Resp::decode_json(text.as_bytes()).unwrap();
    assert_eq!(json(&resp.encode_json()), json(text.as_bytes()), "{text}");
    resp
}

#[test]
fn section_10_1_handshake_frame() {
    let text = r#"{"errCode":0,"errMsg":"","errDlt":""}"#;
    let h = HandshakeResult::decode(text.as_bytes()).unwrap();
    assert!(h.is_ok());
    assert_eq!(h, HandshakeResult::ok());
    assert_eq!(h.encode(), text);
}

#[test]
fn section_10_1_get_newest_seq() {
    let req = req_round_trip(
        r#"{"reqIdentifier":1001,"token":"","sendID":"u1","operationID":"op-2","msgIncr":"u1_1","data":"CgJ1MQ=="}"#,
    );
    assert_eq!(req.data, [0x0a, 0x02, 0x75, 0x31]);
    assert_eq!(
        req.payload().unwrap(),
        RequestPayload::GetNewestSeq(sdkws::GetMaxSeqReq {
            user_id: "u1".into()
        })
    );

    let resp = resp_round_trip(
        r#"{"reqIdentifier":1001,"msgIncr":"u1_1","operationID":"op-2","errCode":0,"errMsg":"","data":"CggKBHNnXzEQBQ=="}"#,
    );
    let expected = sdkws::GetMaxSeqResp {
        max_seqs: Map::from([("sg_1".into(), 5)]),
        ..Default::default()
    };
    assert_eq!(
        resp.payload().unwrap(),
        ResponsePayload::GetNewestSeq(expected)
    );
}

/// Frames §10.1 describes with elided fields: built from the described values, encoded, parsed back.
#[test]
fn section_10_1_described_frames() {
    let pull = RequestPayload::PullMsgByRange(sdkws::PullMessageBySeqsReq {
        user_id: "u1".into(),
        seq_ranges: vec![sdkws::SeqRange {
            conversation_id: "sg_1".into(),
            begin: 1,
            end: 5,
            num: 20,
        }],
        order: 0,
    });
    let req = pull.to_req("u1", "op-3", "u1_2");
    let text = req.encode_json();
    let v = json(&text);
    assert_eq!(v["reqIdentifier"], 1002);
    assert_eq!(v["msgIncr"], "u1_2");
    let again = req_round_trip(std::str::from_utf8(&text).unwrap());
    assert_eq!(again.payload().unwrap(), pull);

    let send = RequestPayload::SendMsg(Box::new(sdkws::MsgData {
        send_id: "u1".into(),
        group_id: "1".into(),
        client_msg_id: "0123456789abcdef0123456789abcdef".into(),
        sender_platform_id: 5,
        session_type: 3,
        msg_from: 100,
        content_type: 101,
        content: br#"{"content":"hi"}"#.to_vec(),
        create_time: 1_716_000_000_000,
        ..Default::default()
    }));
    let req = send.to_req("u1", "op-4", "u1_3");
    let again = req_round_trip(std::str::from_utf8(&req.encode_json()).unwrap());
    assert_eq!(again.payload().unwrap(), send);

    let ack = ResponsePayload::SendMsg(Box::new(msg::SendMsgResp {
        server_msg_id: "smid".into(),
        client_msg_id: "0123456789abcdef0123456789abcdef".into(),
        send_time: 1_716_000_000_123,
        modify: None,
    }));
    let resp = ack.to_resp("u1_3", "op-4");
    let again = resp_round_trip(std::str::from_utf8(&resp.encode_json()).unwrap());
    assert_eq!(again.payload().unwrap(), ack);

    let RequestPayload::SendMsg(mut echoed) = send else {
        unreachable!()
    };
    echoed.seq = 6;
    let push = ResponsePayload::PushMsg(sdkws::PushMessages {
        msgs: Map::from([(
            "sg_1".into(),
            sdkws::PullMsgs {
                msgs: vec![*echoed],
                ..Default::default()
            },
        )]),
        ..Default::default()
    });
    let resp = push.to_resp("", "op-4");
    let text = resp.encode_json();
    assert_eq!(json(&text)["msgIncr"], "");
    let again = resp_round_trip(std::str::from_utf8(&text).unwrap());
    assert_eq!(again.payload().unwrap(), push);
}

#[test]
fn section_10_1_kick_has_null_data() {
    let text = r#"{"reqIdentifier":2002,"msgIncr":"","operationID":"","errCode":0,"errMsg":"","data":null}"#;
    let resp = resp_round_trip(text);
    assert_eq!(
        resp,
        Resp {
            req_identifier: 2002,
            ..Resp::default()
        }
    );
    assert_eq!(
        resp.encode_json(),
        text.as_bytes(),
        "exact bytes, keys in the gateway's order"
    );
    assert_eq!(resp.payload().unwrap(), ResponsePayload::KickOnline);
}

#[test]
fn section_10_1_text_ping_and_pong() {
    let ping = TextFrame::decode(r#"{"type":"ping"}"#).unwrap();
    assert_eq!(ping, TextFrame::Ping { body: None });
    assert_eq!(ping.encode(), r#"{"type":"ping"}"#);
    let pong = ping.reply().unwrap();
    assert_eq!(pong.encode(), r#"{"type":"pong","body":null}"#);
    assert_eq!(TextFrame::decode(&pong.encode()).unwrap(), pong);
    assert_eq!(pong.reply(), None);
}

#[test]
fn json_decoding_tolerates_what_go_tolerates_and_rejects_the_rest() {
    // Absent keys and null are zero values; unknown keys (errDlt) are ignored.
    let resp =
        Resp::decode_json(br#"{"reqIdentifier":2001,"errDlt":"x","data":null,"errMsg":null}"#)
            .unwrap();
    assert_eq!(
        resp,
        Resp {
            req_identifier: 2001,
            ..Resp::default()
        }
    );
    let req = Req::decode_json(br#"{"reqIdentifier":1001,"data":""}"#).unwrap();
    assert!(req.data.is_empty());
    // Data absent encodes as null, for requests too.
    assert_eq!(json(&req.encode_json())["data"], Value::Null);

    assert_eq!(
        Req::decode_json(br#"{"sendID":"u1"}"#),
        Err(DecodeError::MissingField("reqIdentifier"))
    );
    assert_eq!(
        Resp::decode_json(br#"{"reqIdentifier":0}"#),
        Err(DecodeError::MissingField("reqIdentifier"))
    );
    assert!(matches!(
        Req::decode_json(b"{"),
        Err(DecodeError::Json { .. })
    ));
    assert!(matches!(
        Req::decode_json(b"[1001]"),
        Err(DecodeError::Json { .. })
    ));
    assert!(matches!(
        Req::decode_json(br#"{"reqIdentifier":"1001"}"#),
        Err(DecodeError::Json { .. })
    ));
    assert!(matches!(
        Req::decode_json(br#"{"reqIdentifier":4294967296}"#),
        Err(DecodeError::Json { .. })
    ));
    assert!(matches!(
        Req::decode_json(br#"{"reqIdentifier":1001} x"#),
        Err(DecodeError::Json { .. })
    ));
    // A key given twice is refused; unknown keys (repeated or not) are ignored.
    assert!(matches!(
        Resp::decode_json(br#"{"reqIdentifier":1001,"reqIdentifier":1002}"#),
        Err(DecodeError::Json { .. })
    ));
    assert!(matches!(
        Req::decode_json(br#"{"reqIdentifier":1001,"token":null,"token":"t"}"#),
        Err(DecodeError::Json { .. })
    ));
    let req = Req::decode_json(br#"{"x":1,"x":{},"reqIdentifier":1001,"msgIncr":null}"#).unwrap();
    assert_eq!((req.req_identifier, req.msg_incr.as_str()), (1001, ""));
    assert!(matches!(
        Req::decode_json(br#"{"reqIdentifier":1001,"data":"CgJ1MQ"}"#),
        Err(DecodeError::Base64 { field: "data", .. })
    ));
    assert!(matches!(
        Resp::decode_json(br#"{"reqIdentifier":1001,"data":"!!!!"}"#),
        Err(DecodeError::Base64 { field: "data", .. })
    ));
}

fn sample_req(data_len: usize) -> Req {
    Req {
        req_identifier: 1003,
        token: String::new(),
        send_id: "u1".into(),
        operation_id: "op".into(),
        msg_incr: "u1_1".into(),
        data: (0..data_len).map(|i| (i * 7 % 251) as u8).collect(),
    }
}

fn sample_resp(data_len: usize) -> Resp {
    Resp {
        req_identifier: 1002,
        msg_incr: "u1_1".into(),
        operation_id: "op".into(),
        err_code: 0,
        err_msg: String::new(),
        data: (0..data_len).map(|i| (i * 13 % 253) as u8).collect(),
    }
}

const ALL_CODECS: [(EnvelopeCodec, Compression); 4] = [
    (EnvelopeCodec::Json, Compression::None),
    (EnvelopeCodec::Json, Compression::Gzip),
    (EnvelopeCodec::Gob, Compression::None),
    (EnvelopeCodec::Gob, Compression::Gzip),
];

#[test]
fn frame_codec_round_trips_in_every_combination() {
    for (envelope, compression) in ALL_CODECS {
        let codec = FrameCodec::new(envelope, compression);
        let req = sample_req(300);
        let frame = codec.encode_req(&req).unwrap();
        assert_eq!(
            codec.decode_req(&frame).unwrap(),
            req,
            "{envelope:?} {compression:?}"
        );
        let resp = sample_resp(300);
        let frame = codec.encode_resp(&resp).unwrap();
        assert_eq!(
            codec.decode_resp(&frame).unwrap(),
            resp,
            "{envelope:?} {compression:?}"
        );
        match compression {
            Compression::Gzip => assert_eq!(&frame[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]),
            Compression::None if envelope == EnvelopeCodec::Json => assert_eq!(frame[0], b'{'),
            Compression::None => assert_eq!(Resp::decode_gob(&frame).unwrap(), resp),
        }
    }
}

#[test]
fn codec_follows_the_connection_parameters() {
    let params = ConnectParams::from_query(
        "sendID=u1&token=t&platformID=5&operationID=op-1&isBackground=false&sdkType=js&isMsgResp=true",
    )
    .unwrap();
    assert_eq!(
        FrameCodec::for_params(&params),
        FrameCodec::new(EnvelopeCodec::Json, Compression::None)
    );
}

#[test]
fn gzip_accepts_go_streams_and_rejects_damage() {
    let envelope = sample_req(100).encode_gob();
    let compressed = gzip(&envelope);
    assert_eq!(gunzip(&compressed, 1 << 20).unwrap(), envelope);

    // Streams written by Go's compress/gzip (captured from the official SDK) inflate to the annotated bytes.
    for line in WS_FRAMES.lines().filter(|l| l.contains(r#""dir": "C->S""#)) {
        let frame: Value = serde_json::from_str(line).unwrap();
        let raw = hex::decode(frame["raw_hex"].as_str().unwrap()).unwrap();
        let expected = hex::decode(frame["gunzipped_hex"].as_str().unwrap()).unwrap();
        assert_eq!(gunzip(&raw, 1 << 20).unwrap(), expected);
    }

    // Concatenated members read as one stream, like Go's multistream reader.
    let mut two = gzip(b"ab");
    two.extend(gzip(b"cd"));
    assert_eq!(gunzip(&two, 100).unwrap(), b"abcd");

    let gz_err = |bytes: &[u8]| matches!(gunzip(bytes, 1 << 20), Err(DecodeError::Gzip { .. }));
    assert!(gz_err(&[]));
    assert!(gz_err(&envelope), "not gzip at all");
    assert!(
        gz_err(&compressed[..compressed.len() - 3]),
        "truncated trailer"
    );
    assert!(gz_err(&compressed[..15]), "truncated body");
    let mut bad_crc = compressed.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0x55;
    assert!(gz_err(&bad_crc), "CRC mismatch");
    let mut trailing = compressed.clone();
    trailing.extend_from_slice(b"garbage!!!");
    assert!(gz_err(&trailing), "trailing garbage");
}

#[test]
fn wire_size_limits_are_enforced_per_direction() {
    let codec = FrameCodec::new(EnvelopeCodec::Json, Compression::None);
    let big = vec![b' '; 51_201];
    assert_eq!(
        codec.decode_req(&big),
        Err(DecodeError::FrameTooLarge {
            size: 51_201,
            limit: 51_200
        })
    );
    // The same frame is within the server → client limit (and fails only as JSON).
    assert!(matches!(
        codec.decode_resp(&big),
        Err(DecodeError::Json { .. })
    ));
    let huge = vec![b' '; (1 << 20) + 1];
    assert_eq!(
        codec.decode_resp(&huge),
        Err(DecodeError::FrameTooLarge {
            size: (1 << 20) + 1,
            limit: 1 << 20
        })
    );

    // A request exactly at the limit passes the size check.
    let mut at_limit = sample_req(0);
    let base = at_limit.encode_json().len();
    at_limit.msg_incr.push_str(&"x".repeat(51_200 - base));
    let frame = codec.encode_req(&at_limit).unwrap();
    assert_eq!(frame.len(), 51_200);
    assert_eq!(codec.decode_req(&frame).unwrap(), at_limit);
    at_limit.msg_incr.push('x');
    assert_eq!(
        codec.encode_req(&at_limit),
        Err(EncodeError::DecompressedTooLarge {
            size: 51_201,
            limit: 51_200
        })
    );

    // Server → client: just under 1 MiB is fine in every codec.
    for (envelope, compression) in ALL_CODECS {
        let codec = FrameCodec::new(envelope, compression);
        let resp = sample_resp(600_000);
        let frame = codec.encode_resp(&resp).unwrap();
        assert_eq!(codec.decode_resp(&frame).unwrap(), resp);
        assert!(matches!(
            codec.encode_req(&sample_req(60_000)),
            Err(EncodeError::DecompressedTooLarge { .. })
        ));
    }
}

#[test]
fn decompressed_size_is_bounded() {
    // A small gzip frame that inflates far beyond the limits (a zip bomb).
    let bomb = gzip(&vec![0u8; 4 << 20]);
    assert!(bomb.len() < 51_200);
    for envelope in [EnvelopeCodec::Json, EnvelopeCodec::Gob] {
        let codec = FrameCodec::new(envelope, Compression::Gzip);
        assert_eq!(
            codec.decode_req(&bomb),
            Err(DecodeError::DecompressedTooLarge { limit: 51_200 })
        );
        assert_eq!(
            codec.decode_resp(&bomb),
            Err(DecodeError::DecompressedTooLarge { limit: 1 << 20 })
        );
    }
    // Custom limits apply.
    let mut codec = FrameCodec::new(EnvelopeCodec::Gob, Compression::Gzip);
    codec.request_limits = FrameLimits {
        wire: 51_200,
        decompressed: 200,
    };
    let req = sample_req(300);
    assert!(matches!(
        codec.encode_req(&req),
        Err(EncodeError::DecompressedTooLarge { limit: 200, .. })
    ));
    let frame = FrameCodec::new(EnvelopeCodec::Gob, Compression::Gzip)
        .encode_req(&req)
        .unwrap();
    assert_eq!(
        codec.decode_req(&frame),
        Err(DecodeError::DecompressedTooLarge { limit: 200 })
    );
    // Highly compressible data still counts with its inflated size when encoding.
    let zeros = Req {
        data: vec![0; 60_000],
        ..sample_req(0)
    };
    let gz = FrameCodec::new(EnvelopeCodec::Json, Compression::Gzip);
    assert!(matches!(
        gz.encode_req(&zeros),
        Err(EncodeError::DecompressedTooLarge { limit: 51_200, .. })
    ));
}

#[test]
fn text_frames_echo_raw_bodies() {
    let ping = TextFrame::decode(r#"{"type":"ping","body":"1795718051586858443"}"#).unwrap();
    let TextFrame::Ping { body: Some(body) } = &ping else {
        panic!("{ping:?}")
    };
    assert_eq!(body.as_string().as_deref(), Some("1795718051586858443"));
    assert_eq!(
        ping.reply().unwrap().encode(),
        r#"{"type":"pong","body":"1795718051586858443"}"#
    );

    // Any JSON body is kept, compacted as Go compacts a raw message; spaces inside strings survive.
    let ping = TextFrame::decode(
        "{ \"body\" : { \"a\" : [1, 2.50, \"x y\\\" z\"] , \"b\":null } ,\n\"type\":\"ping\" }",
    )
    .unwrap();
    assert_eq!(
        ping.reply().unwrap().encode(),
        r#"{"type":"pong","body":{"a":[1,2.50,"x y\" z"],"b":null}}"#
    );
    let ping = TextFrame::decode(r#"{"type":"ping","body":null}"#).unwrap();
    assert_eq!(
        ping,
        TextFrame::Ping {
            body: Some(RawJson::null())
        }
    );
    assert_eq!(ping.encode(), r#"{"type":"ping","body":null}"#);

    // Keys match as Go matches them: case-insensitively, the last one wins.
    assert_eq!(
        TextFrame::decode(r#"{"Type":"pong"}"#).unwrap(),
        TextFrame::Pong { body: None }
    );
    assert_eq!(
        TextFrame::decode(r#"{"type":"pong","TYPE":"ping"}"#).unwrap(),
        TextFrame::Ping { body: None }
    );

    let unknown = |t: &str| TextFrame::decode(t).unwrap_err();
    assert_eq!(
        unknown(r#"{"type":"PING"}"#),
        DecodeError::UnknownTextFrameType("PING".into())
    );
    assert_eq!(
        unknown(r#"{"type":"close","body":1}"#),
        DecodeError::UnknownTextFrameType("close".into())
    );
    assert_eq!(
        unknown(r#"{"body":1}"#),
        DecodeError::UnknownTextFrameType(String::new())
    );
    assert_eq!(
        unknown("{}"),
        DecodeError::UnknownTextFrameType(String::new())
    );
    for bad in [
        "",
        "ping",
        r#"{"type":1}"#,
        r#"{"type":"ping""#,
        r#"{"type":"ping"} x"#,
        r#"["ping"]"#,
        r#"{"type":"ping","body":}"#,
        r#"{"type":"ping",}"#,
    ] {
        assert!(
            matches!(TextFrame::decode(bad), Err(DecodeError::Json { .. })),
            "{bad:?}"
        );
    }

    assert_eq!(
        RawJson::parse(" [1, {\"k\": true}] ").unwrap().as_str(),
        r#"[1,{"k":true}]"#
    );
    assert!(RawJson::parse("1 2").is_err());
    assert_eq!(RawJson::string("op\"1").as_str(), r#""op\"1""#);
}

#[test]
fn handshake_result_frames() {
    let refused =
        HandshakeResult::error(1502, "TokenInvalidError", "token does not belong to sendID");
    let text = refused.encode();
    assert_eq!(
        text,
        r#"{"errCode":1502,"errMsg":"TokenInvalidError","errDlt":"token does not belong to sendID"}"#
    );
    assert!(!json(text.as_bytes())
        .as_object()
        .unwrap()
        .contains_key("data"));
    assert_eq!(HandshakeResult::decode(text.as_bytes()).unwrap(), refused);
    assert_eq!(
        HandshakeResult::decode(br#"{"errCode":1602,"errMsg":null,"data":null}"#).unwrap(),
        HandshakeResult::error(1602, "", "")
    );
    assert!(matches!(
        HandshakeResult::decode(b"<html>"),
        Err(DecodeError::Json { .. })
    ));

    // The captured handshake frames.
    for line in WS_FRAMES
        .lines()
        .filter(|l| l.contains(r#""note": "handshake""#))
    {
        let frame: Value = serde_json::from_str(line).unwrap();
        let text = frame["text"].as_str().unwrap();
        let h = HandshakeResult::decode(text.as_bytes()).unwrap();
        assert_eq!(h, HandshakeResult::ok());
        assert_eq!(h.encode(), text);
    }
}

#[test]
fn connection_query_of_the_official_sdk_and_of_the_json_sdk() {
    // As captured from the official web SDK (keys sorted, gob + gzip).
    let p = ConnectParams::from_query(
        "?compression=gzip&isBackground=false&isMsgResp=true&operationID=1795718051586858443&platformID=5&sendID=u1&token=t",
    )
    .unwrap();
    assert_eq!(
        p,
        ConnectParams {
            send_id: "u1".into(),
            token: "t".into(),
            platform_id: 5,
            operation_id: "1795718051586858443".into(),
            is_background: false,
            compression: Compression::Gzip,
            sdk_type: SdkType::Go,
            is_msg_resp: true,
        }
    );
    assert_eq!(
        FrameCodec::for_params(&p),
        FrameCodec::new(EnvelopeCodec::Gob, Compression::Gzip)
    );
    assert_eq!(ConnectParams::from_query(&p.to_query()).unwrap(), p);

    // §10.1 (JSON SDK), with escapes: `+` is a space, %XX a byte.
    let p = ConnectParams::from_query(
        "sendID=u%201&token=a.b%2Bc&platformID=5&operationID=op+1&isBackground=False&sdkType=js&isMsgResp=1&sendID=ignored",
    )
    .unwrap();
    assert_eq!(
        (
            p.send_id.as_str(),
            p.token.as_str(),
            p.operation_id.as_str()
        ),
        ("u 1", "a.b+c", "op 1")
    );
    assert_eq!(
        (p.sdk_type, p.compression, p.is_msg_resp, p.is_background),
        (SdkType::Js, Compression::None, true, false)
    );
    let q = p.to_query();
    assert!(
        q.contains("sendID=u+1") && q.contains("token=a.b%2Bc") && q.contains("sdkType=js"),
        "{q}"
    );
    assert_eq!(ConnectParams::from_query(&q).unwrap(), p);
}

#[test]
fn connection_query_errors_are_typed() {
    let base = [
        ("sendID", "u1"),
        ("token", "t"),
        ("platformID", "5"),
        ("operationID", "op"),
        ("isBackground", "true"),
    ];
    let query = |over: &[(&str, Option<&str>)]| {
        let mut pairs: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in over {
            pairs.retain(|(pk, _)| pk != k);
            if let Some(v) = v {
                pairs.push((k.to_string(), v.to_string()));
            }
        }
        let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        ConnectParams::from_query(&q.join("&"))
    };
    assert!(query(&[]).is_ok());
    for key in [
        "sendID",
        "token",
        "platformID",
        "operationID",
        "isBackground",
    ] {
        assert_eq!(
            query(&[(key, None)]),
            Err(DecodeError::MissingField(key)),
            "{key} absent"
        );
        assert_eq!(
            query(&[(key, Some(""))]),
            Err(DecodeError::MissingField(key)),
            "{key} empty"
        );
    }
    let invalid = |field: &'static str, value: &str| {
        Err(DecodeError::InvalidValue {
            field,
            value: value.into(),
        })
    };
    assert_eq!(
        query(&[("isBackground", Some("yes"))]),
        invalid("isBackground", "yes")
    );
    assert_eq!(
        query(&[("isMsgResp", Some("tRUE"))]),
        invalid("isMsgResp", "tRUE")
    );
    assert_eq!(query(&[("sdkType", Some("ts"))]), invalid("sdkType", "ts"));
    for bad in ["abc", "0", "12", "5.0", "-1"] {
        assert_eq!(
            query(&[("platformID", Some(bad))]),
            invalid("platformID", bad)
        );
    }
    assert!(matches!(
        query(&[("token", Some("%zz"))]),
        Err(DecodeError::InvalidValue {
            field: "query value",
            ..
        })
    ));
    assert!(matches!(
        query(&[("token", Some("%ff"))]),
        Err(DecodeError::InvalidUtf8 { .. })
    ));
    // compression other than gzip means none, as the gateway reads it.
    assert_eq!(
        query(&[("compression", Some("deflate"))])
            .unwrap()
            .compression,
        Compression::None
    );
    assert_eq!(
        query(&[("sdkType", Some("go"))]).unwrap().sdk_type,
        SdkType::Go
    );
}

#[test]
fn payloads_are_typed_by_req_identifier() {
    for id in [1004, 3001, 0, -1, 1008, 9999] {
        assert_eq!(
            decode_request_payload(id, &[]),
            Err(DecodeError::UnknownReqIdentifier(id))
        );
        assert_eq!(
            decode_response_payload(id, &[]),
            Err(DecodeError::UnknownReqIdentifier(id))
        );
    }
    // Server-initiated ids are not requests.
    for id in [2001, 2002] {
        assert_eq!(
            decode_request_payload(id, &[]),
            Err(DecodeError::UnknownReqIdentifier(id))
        );
    }
    assert_eq!(
        decode_response_payload(2002, b"ignored").unwrap(),
        ResponsePayload::KickOnline
    );
    assert_eq!(
        decode_response_payload(2004, &[]).unwrap(),
        ResponsePayload::SetBackgroundStatus(sdkws::SetAppBackgroundStatusResp::default())
    );
    let req = decode_request_payload(2004, &[0x0a, 0x02, b'u', b'1', 0x10, 0x01]).unwrap();
    assert_eq!(
        req,
        RequestPayload::SetBackgroundStatus(sdkws::SetAppBackgroundStatusReq {
            user_id: "u1".into(),
            is_background: true
        })
    );
    assert_eq!(req.req_identifier(), 2004);
    // Truncated protobuf is a typed error naming the message.
    match decode_request_payload(1001, &[0x0a, 0x05, b'u']) {
        Err(DecodeError::Protobuf { message, .. }) => assert_eq!(message, "GetMaxSeqReq"),
        other => panic!("{other:?}"),
    }
    match decode_response_payload(2005, &[0x0a, 0xff]) {
        Err(DecodeError::Protobuf { message, .. }) => {
            assert_eq!(message, "SubUserOnlineStatusTips")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_payload_kind_decodes_into_its_own_message() {
    let requests = [
        (1001, "GetMaxSeqReq"),
        (1002, "PullMessageBySeqsReq"),
        (1003, "MsgData"),
        (1005, "GetSeqMessageReq"),
        (1006, "GetConversationsHasReadAndMaxSeqReq"),
        (1007, "GetLastMessageReq"),
        (2003, "DelUserPushTokenReq"),
        (2004, "SetAppBackgroundStatusReq"),
        (2005, "SubUserOnlineStatus"),
    ];
    for (id, name) in requests {
        // Empty data is the message's default, carried under the same id.
        let payload = decode_request_payload(id, &[]).unwrap();
        assert_eq!(payload.req_identifier(), id);
        assert!(payload.encode_to_vec().is_empty(), "{id}");
        // A truncated field names the message the id requires.
        match decode_request_payload(id, &[0x0a, 0x05, b'u']) {
            Err(DecodeError::Protobuf { message, .. }) => assert_eq!(message, name),
            other => panic!("{id}: {other:?}"),
        }
    }
    let responses = [
        (1001, "GetMaxSeqResp"),
        (1002, "PullMessageBySeqsResp"),
        (1003, "SendMsgResp"),
        (1005, "GetSeqMessageResp"),
        (1006, "GetConversationsHasReadAndMaxSeqResp"),
        (1007, "GetLastMessageResp"),
        (2001, "PushMessages"),
        (2003, "DelUserPushTokenResp"),
        (2004, "SetAppBackgroundStatusResp"),
        (2005, "SubUserOnlineStatusTips"),
    ];
    for (id, name) in responses {
        let payload = decode_response_payload(id, &[]).unwrap();
        assert_eq!(payload.req_identifier(), id);
        assert!(payload.encode_to_vec().is_empty(), "{id}");
        match decode_response_payload(id, &[0x0a, 0x05, b'u']) {
            Err(DecodeError::Protobuf { message, .. }) => assert_eq!(message, name),
            other => panic!("{id}: {other:?}"),
        }
    }
    // A field that is set survives the shared decode path into the boxed kind.
    let ack = msg::SendMsgResp {
        server_msg_id: "s1".into(),
        client_msg_id: "c1".into(),
        send_time: 7,
        ..Default::default()
    };
    let bytes = ResponsePayload::SendMsg(Box::new(ack.clone())).encode_to_vec();
    assert_eq!(
        decode_response_payload(1003, &bytes).unwrap(),
        ResponsePayload::SendMsg(Box::new(ack))
    );
}
