//! Every decoder is total (arbitrary and mutated inputs yield a value or a typed error, never a panic), and
//! every codec combination round-trips arbitrary envelopes.

use chorus_proto::envelope::{
    decode_request_payload, decode_response_payload, gunzip, gzip, Compression, ConnectParams,
    EnvelopeCodec, FrameCodec, GobLayout, HandshakeResult, RawJson, Req, Resp, TextFrame,
};
use chorus_proto::gob;
use proptest::prelude::*;

const REQ_IDS: [i32; 15] = [
    1001, 1002, 1003, 1004, 1005, 1006, 1007, 2001, 2002, 2003, 2004, 2005, 3001, 0, 42,
];

const CODECS: [(EnvelopeCodec, Compression); 4] = [
    (EnvelopeCodec::Json, Compression::None),
    (EnvelopeCodec::Json, Compression::Gzip),
    (EnvelopeCodec::Gob, Compression::None),
    (EnvelopeCodec::Gob, Compression::Gzip),
];

/// Runs every decoder of the crate's wire layer over `bytes`; only a panic can fail this.
fn decode_everything(bytes: &[u8]) {
    let _ = Req::decode_json(bytes);
    let _ = Resp::decode_json(bytes);
    let _ = Req::decode_gob(bytes);
    let _ = Resp::decode_gob(bytes);
    let _ = Req::decode_gob_with_layout(bytes);
    let _ = gob::decode_struct(bytes);
    let _ = gunzip(bytes, 1 << 16);
    let _ = HandshakeResult::decode(bytes);
    let text = String::from_utf8_lossy(bytes);
    let _ = TextFrame::decode(&text);
    let _ = RawJson::parse(&text);
    let _ = ConnectParams::from_query(&text);
    for (envelope, compression) in CODECS {
        let codec = FrameCodec::new(envelope, compression);
        let _ = codec.decode_req(bytes);
        let _ = codec.decode_resp(bytes);
    }
    for id in REQ_IDS {
        let _ = decode_request_payload(id, bytes);
        let _ = decode_response_payload(id, bytes);
    }
}

fn reference_streams() -> Vec<Vec<u8>> {
    let req = Req {
        req_identifier: 1001,
        token: String::new(),
        send_id: "u1".into(),
        operation_id: "op".into(),
        msg_incr: "u1_x".into(),
        data: vec![0x0a, 0x02, b'u', b'1'],
    };
    let resp = Resp {
        req_identifier: 2002,
        err_code: 1502,
        err_msg: "kicked".into(),
        ..Resp::default()
    };
    vec![
        req.encode_gob(),
        resp.encode_gob(),
        req.encode_json(),
        resp.encode_json(),
        br#"{"type":"ping","body":{"a":[1,"x"]}}"#.to_vec(),
        b"sendID=u1&token=t&platformID=5&operationID=op&isBackground=false&compression=gzip"
            .to_vec(),
    ]
}

fn arb_req() -> impl Strategy<Value = Req> {
    (
        any::<i32>().prop_filter("reqIdentifier must be non-zero", |i| *i != 0),
        any::<String>(),
        any::<String>(),
        any::<String>(),
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(
            |(req_identifier, token, send_id, operation_id, msg_incr, data)| Req {
                req_identifier,
                token,
                send_id,
                operation_id,
                msg_incr,
                data,
            },
        )
}

fn arb_resp() -> impl Strategy<Value = Resp> {
    (
        any::<i32>().prop_filter("reqIdentifier must be non-zero", |i| *i != 0),
        any::<String>(),
        any::<String>(),
        any::<i32>(),
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(
            |(req_identifier, msg_incr, operation_id, err_code, err_msg, data)| Resp {
                req_identifier,
                msg_incr,
                operation_id,
                err_code,
                err_msg,
                data,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_valid_inputs_never_panic(
        which in 0usize..6,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = reference_streams().swap_remove(which);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        decode_everything(&bytes);
        decode_everything(&bytes[..cut.index(bytes.len() + 1)]);
        // Compressed, the mutation reaches the envelope decoders through gzip.
        decode_everything(&gzip(&bytes));
    }

    #[test]
    fn requests_round_trip_in_every_codec(req in arb_req()) {
        for (envelope, compression) in CODECS {
            let codec = FrameCodec::new(envelope, compression);
            let frame = codec.encode_req(&req).unwrap();
            prop_assert_eq!(codec.decode_req(&frame).unwrap(), req.clone());
        }
    }

    #[test]
    fn responses_round_trip_in_every_codec(resp in arb_resp()) {
        for (envelope, compression) in CODECS {
            let codec = FrameCodec::new(envelope, compression);
            let frame = codec.encode_resp(&resp).unwrap();
            prop_assert_eq!(codec.decode_resp(&frame).unwrap(), resp.clone());
        }
    }

    #[test]
    fn gob_layouts_round_trip_exactly(
        req in arb_req(),
        resp in arb_resp(),
        type_id in 64i64..100_000,
        name in "[A-Za-z]{0,20}",
    ) {
        let layout = GobLayout::request().with_type_id(type_id).with_struct_name(name.clone());
        let stream = req.encode_gob_with_layout(&layout);
        let (back, decoded_layout) = Req::decode_gob_with_layout(&stream).unwrap();
        prop_assert_eq!(&back, &req);
        prop_assert_eq!(&decoded_layout, &layout);
        prop_assert_eq!(back.encode_gob_with_layout(&decoded_layout), stream);

        let layout = GobLayout::response().with_type_id(type_id).with_struct_name(name);
        let stream = resp.encode_gob_with_layout(&layout);
        let (back, decoded_layout) = Resp::decode_gob_with_layout(&stream).unwrap();
        prop_assert_eq!(&back, &resp);
        prop_assert_eq!(back.encode_gob_with_layout(&decoded_layout), stream);
    }

    #[test]
    fn gzip_round_trips(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
        prop_assert_eq!(gunzip(&gzip(&data), 2000).unwrap(), data);
    }

    #[test]
    fn text_frames_round_trip(body in proptest::option::of("[ -~]{0,40}"), ping in any::<bool>()) {
        let body = body.map(|s| RawJson::string(&s));
        let frame = if ping { TextFrame::Ping { body } } else { TextFrame::Pong { body } };
        prop_assert_eq!(TextFrame::decode(&frame.encode()).unwrap(), frame);
    }
}
