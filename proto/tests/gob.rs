//! gob codec: the reference bytes of the protocol description, every captured frame, tolerance of foreign
//! layouts, and typed errors on malformed streams.

use chorus_proto::envelope::{
    gunzip, gzip, Compression, EnvelopeCodec, FrameCodec, GobLayout, Req, Resp,
};
use chorus_proto::error::GobErrorKind;
use chorus_proto::gob::{self, CommonType, FieldType, Scalar, StructType, WireType};
use chorus_proto::DecodeError;
use serde_json::Value;

const WS_FRAMES: &str = include_str!("../../tests/fixtures/openim-vectors/ws-frames.jsonl");
const NEGATIVE: &str = include_str!("../../tests/fixtures/openim-vectors/negative-controls.jsonl");

/// Bytes from the notation of the protocol description: hex byte tokens and `"quoted"` ASCII runs.
fn b(notation: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = notation.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').expect("closing quote");
            out.extend_from_slice(&quoted.as_bytes()[..end]);
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(u8::from_str_radix(&rest[..end], 16).expect("hex byte"));
            rest = rest[end..].trim_start();
        }
    }
    out
}

fn resp_typedef() -> Vec<u8> {
    b(r#"60 ff 81 03 01 01 04 "Resp" 01 ff 82 00 01 06
         01 0d "ReqIdentifier" 01 04 00   01 07 "MsgIncr" 01 0c 00   01 0b "OperationID" 01 0c 00
         01 07 "ErrCode" 01 04 00         01 06 "ErrMsg" 01 0c 00    01 04 "Data" 01 0a 00   00 00"#)
}

fn req_typedef() -> Vec<u8> {
    b(r#"66 ff 81 03 01 01 0c "GeneralWsReq" 01 ff 82 00 01 06
         01 0d "ReqIdentifier" 01 04 00   01 05 "Token" 01 0c 00   01 06 "SendID" 01 0c 00
         01 0b "OperationID" 01 0c 00     01 07 "MsgIncr" 01 0c 00  01 04 "Data" 01 0a 00   00 00"#)
}

fn gob_kind(err: DecodeError) -> GobErrorKind {
    match err {
        DecodeError::Gob { kind, .. } => kind,
        other => panic!("expected a gob error, got {other:?}"),
    }
}

#[test]
fn integer_encodings_match_the_format_description() {
    let cases: &[(i64, &str)] = &[
        (2, "04"),
        (5, "0a"),
        (6, "0c"),
        (65, "ff 82"),
        (-65, "ff 81"),
        (-64, "7f"),
        (64, "ff 80"),
        (1001, "fe 07 d2"),
        (2002, "fe 0f a4"),
    ];
    for &(value, expected) in cases {
        let mut out = Vec::new();
        gob::write_int(&mut out, value);
        assert_eq!(out, b(expected), "int {value}");
    }
    let mut out = Vec::new();
    gob::write_uint(&mut out, 256);
    assert_eq!(out, b("fe 01 00"));
    out.clear();
    gob::write_uint(&mut out, u64::MAX);
    assert_eq!(out, b("f8 ff ff ff ff ff ff ff ff"));
}

#[test]
fn go_documentation_point_example_round_trips() {
    // type Point struct{ X, Y int }; Point{22, 33} as in the encoding/gob package documentation.
    let stream = b(
        r#"1f ff 81 03 01 01 05 "Point" 01 ff 82 00 01 02 01 01 "X" 01 04 00 01 01 "Y" 01 04 00 00 00
                      07 ff 82 01 2c 01 42 00"#,
    );
    let value = gob::decode_struct(&stream).unwrap();
    let expected_def = StructType {
        name: "Point".into(),
        id: 65,
        fields: vec![
            FieldType {
                name: "X".into(),
                id: gob::INT,
            },
            FieldType {
                name: "Y".into(),
                id: gob::INT,
            },
        ],
    };
    assert_eq!(value.definition, expected_def);
    assert_eq!(
        value.fields,
        vec![(0, Scalar::Int(22)), (1, Scalar::Int(33))]
    );
    assert_eq!(gob::encode_struct(&value.definition, &value.fields), stream);
}

#[test]
fn reference_resp_definition_and_kick_value_round_trip_exactly() {
    let mut stream = resp_typedef();
    stream.extend(b("07 ff 82 01 fe 0f a4 00"));
    let (resp, layout) = Resp::decode_gob_with_layout(&stream).unwrap();
    assert_eq!(
        resp,
        Resp {
            req_identifier: 2002,
            ..Resp::default()
        }
    );
    assert_eq!(layout.type_id(), 65);
    assert_eq!(layout.struct_name(), "Resp");
    assert_eq!(resp.encode_gob_with_layout(&layout), stream);
    // The default layout differs only in the type id (64, a fresh Go process's first type).
    assert_eq!(
        resp.encode_gob_with_layout(&GobLayout::response().with_type_id(65)),
        stream
    );
    let default = resp.encode_gob();
    assert_eq!(&default[..4], &b("5f 7f 03 01")[..]);
    assert_eq!(Resp::decode_gob(&default).unwrap(), resp);
}

#[test]
fn reference_req_definition_and_value_round_trip_exactly() {
    let mut stream = req_typedef();
    assert_eq!(stream.len(), 0x66 + 1);
    stream.extend(b(
        r#"1b ff 82 01 fe 07 d2 02 02 "u1" 01 02 "op" 01 04 "u1_x" 01 04 0a 02 "u1" 00"#,
    ));
    let (req, layout) = Req::decode_gob_with_layout(&stream).unwrap();
    assert_eq!(
        req,
        Req {
            req_identifier: 1001,
            token: String::new(),
            send_id: "u1".into(),
            operation_id: "op".into(),
            msg_incr: "u1_x".into(),
            data: b("0a 02 75 31"),
        }
    );
    assert_eq!(
        (layout.type_id(), layout.struct_name()),
        (65, "GeneralWsReq")
    );
    assert_eq!(req.encode_gob_with_layout(&layout), stream);
    assert_eq!(
        req.encode_gob_with_layout(&GobLayout::request().with_type_id(65)),
        stream
    );
}

#[test]
fn generic_definition_of_the_reference_req_is_read_as_declared() {
    let mut stream = req_typedef();
    stream.extend(b(
        r#"1b ff 82 01 fe 07 d2 02 02 "u1" 01 02 "op" 01 04 "u1_x" 01 04 0a 02 "u1" 00"#,
    ));
    let value = gob::decode_struct(&stream).unwrap();
    let names: Vec<(&str, i64)> = value
        .definition
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.id))
        .collect();
    assert_eq!(
        names,
        [
            ("ReqIdentifier", 2),
            ("Token", 6),
            ("SendID", 6),
            ("OperationID", 6),
            ("MsgIncr", 6),
            ("Data", 5)
        ]
    );
    assert_eq!(value.get("Token"), None);
    assert_eq!(value.get("SendID"), Some(Scalar::String(b"u1")));
    assert_eq!(
        value.get("Data"),
        Some(Scalar::Bytes(&[0x0a, 0x02, 0x75, 0x31]))
    );
}

fn str_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn int_field(value: &Value, key: &str) -> i64 {
    value.get(key).and_then(Value::as_i64).unwrap_or_default()
}

#[test]
fn every_captured_binary_frame_decodes_and_re_encodes_exactly() {
    let codec = FrameCodec::new(EnvelopeCodec::Gob, Compression::Gzip);
    let mut seen = (0, 0);
    for line in WS_FRAMES.lines().filter(|l| !l.trim().is_empty()) {
        let frame: Value = serde_json::from_str(line).unwrap();
        if frame["type"] != "binary" {
            continue;
        }
        let what = format!("{} #{} {}", frame["scenario"], frame["n"], frame["dir"]);
        let raw = hex::decode(frame["raw_hex"].as_str().unwrap()).unwrap();
        let stream = hex::decode(frame["gunzipped_hex"].as_str().unwrap()).unwrap();
        assert_eq!(gunzip(&raw, 1 << 20).unwrap(), stream, "{what}: gunzip");
        assert_eq!(
            gunzip(&gzip(&stream), 1 << 20).unwrap(),
            stream,
            "{what}: own gzip"
        );

        let decoded = &frame["decoded"];
        let typedef = &decoded["gob"][0];
        let value = &decoded["gob"][1]["value"];
        let data = hex::decode(decoded["data_hex"].as_str().unwrap_or_default()).unwrap();
        let type_id = typedef["typeId"].as_i64().unwrap();

        // The generic reader sees the definition exactly as annotated.
        let generic = gob::decode_struct(&stream).unwrap();
        let wire = &typedef["wireType"]["StructT"];
        assert_eq!(
            generic.definition.name,
            wire["CommonType"]["Name"].as_str().unwrap(),
            "{what}"
        );
        assert_eq!(generic.definition.id, type_id, "{what}");
        let fields: Vec<(String, i64)> = wire["Field"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["Name"].as_str().unwrap().to_owned(),
                    f["Id"].as_i64().unwrap(),
                )
            })
            .collect();
        let got: Vec<(String, i64)> = generic
            .definition
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.id))
            .collect();
        assert_eq!(got, fields, "{what}");

        let expected_data = value
            .get("Data")
            .map(|d| hex::decode(d["bytes_hex"].as_str().unwrap()).unwrap())
            .unwrap_or_default();
        assert_eq!(expected_data, data, "{what}: data_hex");

        if frame["dir"] == "C->S" {
            let (req, layout) = Req::decode_gob_with_layout(&stream).unwrap();
            let expected = Req {
                req_identifier: int_field(value, "ReqIdentifier") as i32,
                token: str_field(value, "Token"),
                send_id: str_field(value, "SendID"),
                operation_id: str_field(value, "OperationID"),
                msg_incr: str_field(value, "MsgIncr"),
                data: expected_data,
            };
            assert_eq!(req, expected, "{what}");
            assert_eq!(
                i64::from(req.req_identifier),
                decoded["reqIdentifier"].as_i64().unwrap()
            );
            assert_eq!(layout.type_id(), type_id, "{what}");
            assert_eq!(
                req.encode_gob_with_layout(&layout),
                stream,
                "{what}: re-encode"
            );
            assert_eq!(codec.decode_req(&raw).unwrap(), req, "{what}: frame codec");
            req.payload()
                .unwrap_or_else(|e| panic!("{what}: payload {e}"));
            seen.0 += 1;
        } else {
            let (resp, layout) = Resp::decode_gob_with_layout(&stream).unwrap();
            let expected = Resp {
                req_identifier: int_field(value, "ReqIdentifier") as i32,
                msg_incr: str_field(value, "MsgIncr"),
                operation_id: str_field(value, "OperationID"),
                err_code: int_field(value, "ErrCode") as i32,
                err_msg: str_field(value, "ErrMsg"),
                data: expected_data,
            };
            assert_eq!(resp, expected, "{what}");
            assert_eq!(layout.type_id(), type_id, "{what}");
            assert_eq!(
                resp.encode_gob_with_layout(&layout),
                stream,
                "{what}: re-encode"
            );
            assert_eq!(
                codec.decode_resp(&raw).unwrap(),
                resp,
                "{what}: frame codec"
            );
            resp.payload()
                .unwrap_or_else(|e| panic!("{what}: payload {e}"));
            seen.1 += 1;
        }
    }
    assert_eq!(seen, (13, 16), "captured binary frames (C->S, S->C)");
}

#[test]
fn negative_controls_fail_with_the_expected_error() {
    let codec = FrameCodec::new(EnvelopeCodec::Gob, Compression::Gzip);
    let mut checked = 0;
    for line in NEGATIVE.lines().filter(|l| !l.trim().is_empty()) {
        let frame: Value = serde_json::from_str(line).unwrap();
        let raw = hex::decode(frame["raw_hex"].as_str().unwrap()).unwrap();
        let note = frame["note"].as_str().unwrap_or_default();
        if frame["dir"] == "C->S" {
            assert_eq!(codec.decode_req(&raw).unwrap().req_identifier, 1001);
        } else if note.contains("not gzipped") {
            assert!(
                matches!(codec.decode_resp(&raw), Err(DecodeError::Gzip { .. })),
                "{note}"
            );
            // The gob inside is valid.
            assert_eq!(Resp::decode_gob(&raw).unwrap().req_identifier, 1001);
            checked += 1;
        } else if note.contains("typed string") {
            match codec.decode_resp(&raw) {
                Err(DecodeError::TypeMismatch {
                    field,
                    expected,
                    found,
                }) => {
                    assert_eq!(field, "Resp.ReqIdentifier");
                    assert_eq!(expected, "int");
                    assert_eq!(found, "string");
                }
                other => panic!("{note}: {other:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
}

/// An envelope from a foreign peer: fields declared in another order, a different struct name and id, and
/// extra fields of every kind, including composite types defined after the struct (as Go sends them).
fn foreign_stream(iface_value: &[u8]) -> Vec<u8> {
    let fields: Vec<(&str, i64)> = vec![
        ("Data", gob::BYTES),
        ("Extra", gob::INT),
        ("MsgIncr", gob::STRING),
        ("Nested", 71),
        ("OperationID", gob::STRING),
        ("Names", 72),
        ("ReqIdentifier", gob::INT),
        ("Counts", 73),
        ("Token", gob::STRING),
        ("Blob", gob::BYTES),
        ("SendID", gob::STRING),
        ("Pair", 74),
        ("Flag", gob::BOOL),
        ("Ratio", gob::FLOAT),
        ("Big", gob::UINT),
        ("Z", gob::COMPLEX),
        ("Any", gob::INTERFACE),
        ("Stamp", 75),
        ("Label", gob::STRING),
        ("Inner", 76),
        ("ErrCode", gob::INT),
        ("ErrMsg", gob::STRING),
    ];
    let common = |name: &str, id| CommonType {
        name: name.into(),
        id,
    };
    let mut s = Vec::new();
    gob::write_type_definition(
        &mut s,
        &WireType::Struct(StructType {
            name: "ForeignEnvelope".into(),
            id: 70,
            fields: fields
                .iter()
                .map(|(n, id)| FieldType {
                    name: (*n).into(),
                    id: *id,
                })
                .collect(),
        }),
    );
    gob::write_type_definition(
        &mut s,
        &WireType::Struct(StructType {
            name: "Nested".into(),
            id: 71,
            fields: vec![
                FieldType {
                    name: "A".into(),
                    id: gob::INT,
                },
                FieldType {
                    name: "B".into(),
                    id: gob::STRING,
                },
                FieldType {
                    name: "Kids".into(),
                    id: 72,
                },
            ],
        }),
    );
    gob::write_type_definition(
        &mut s,
        &WireType::Slice {
            common: common("[]string", 72),
            elem: gob::STRING,
        },
    );
    gob::write_type_definition(
        &mut s,
        &WireType::Map {
            common: common("map[string]int", 73),
            key: gob::STRING,
            elem: gob::INT,
        },
    );
    gob::write_type_definition(
        &mut s,
        &WireType::Array {
            common: common("[2]int", 74),
            elem: gob::INT,
            len: 2,
        },
    );
    gob::write_type_definition(&mut s, &WireType::GobEncoder(common("Stamp", 75)));
    gob::write_type_definition(
        &mut s,
        &WireType::Slice {
            common: common("[]Nested", 76),
            elem: 71,
        },
    );

    let mut v = Vec::new();
    gob::write_int(&mut v, 70);
    let mut w = gob::FieldWriter::new(&mut v);
    gob::write_bytes(w.field(0), &[0x0a, 0x02, b'u', b'1']);
    gob::write_int(w.field(1), -7);
    gob::write_bytes(w.field(2), b"u1_x");
    {
        let out = w.field(3);
        let mut n = gob::FieldWriter::new(out);
        gob::write_int(n.field(0), 5);
        gob::write_bytes(n.field(1), b"nested");
        let kids = n.field(2);
        gob::write_uint(kids, 2);
        gob::write_bytes(kids, b"x");
        gob::write_bytes(kids, b"yz");
        n.finish();
    }
    gob::write_bytes(w.field(4), b"op");
    {
        let out = w.field(5);
        gob::write_uint(out, 3);
        for name in ["a", "bb", ""] {
            gob::write_bytes(out, name.as_bytes());
        }
    }
    gob::write_int(w.field(6), 1001);
    {
        let out = w.field(7);
        gob::write_uint(out, 2);
        gob::write_bytes(out, b"k1");
        gob::write_int(out, 1);
        gob::write_bytes(out, b"k2");
        gob::write_int(out, -2);
    }
    gob::write_bytes(w.field(8), b"tok");
    gob::write_bytes(w.field(9), &[0, 1, 2, 255]);
    gob::write_bytes(w.field(10), b"u1");
    {
        let out = w.field(11);
        gob::write_uint(out, 2);
        gob::write_int(out, 10);
        gob::write_int(out, 20);
    }
    gob::write_uint(w.field(12), 1);
    gob::write_scalar(w.field(13), &Scalar::Float(1.5));
    gob::write_uint(w.field(14), u64::MAX);
    gob::write_scalar(w.field(15), &Scalar::Complex(1.0, -2.0));
    w.field(16).extend_from_slice(iface_value);
    gob::write_bytes(w.field(17), b"opaque-marshalled");
    gob::write_bytes(w.field(18), b"label");
    {
        let out = w.field(19);
        gob::write_uint(out, 2);
        for a in [1, 2] {
            let mut n = gob::FieldWriter::new(out);
            gob::write_int(n.field(0), a);
            n.finish();
        }
    }
    gob::write_int(w.field(20), 1502);
    gob::write_bytes(w.field(21), b"kicked");
    w.finish();
    gob::write_message(&mut s, &v);
    s
}

#[test]
fn foreign_field_order_and_unknown_fields_are_accepted() {
    // A nil interface value is an empty concrete-type name.
    let stream = foreign_stream(&[0]);
    let (req, layout) = Req::decode_gob_with_layout(&stream).unwrap();
    assert_eq!(
        req,
        Req {
            req_identifier: 1001,
            token: "tok".into(),
            send_id: "u1".into(),
            operation_id: "op".into(),
            msg_incr: "u1_x".into(),
            data: vec![0x0a, 0x02, b'u', b'1'],
        }
    );
    assert_eq!(
        (layout.type_id(), layout.struct_name()),
        (70, "ForeignEnvelope")
    );
    // Re-encoding keeps the envelope fields in the foreign order, without the unknown ones.
    let again = req.encode_gob_with_layout(&layout);
    let def = gob::decode_struct(&again).unwrap().definition;
    let names: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Data",
            "MsgIncr",
            "OperationID",
            "ReqIdentifier",
            "Token",
            "SendID"
        ]
    );
    assert_eq!(Req::decode_gob(&again).unwrap(), req);

    let resp = Resp::decode_gob(&stream).unwrap();
    assert_eq!(
        resp,
        Resp {
            req_identifier: 1001,
            msg_incr: "u1_x".into(),
            operation_id: "op".into(),
            err_code: 1502,
            err_msg: "kicked".into(),
            data: vec![0x0a, 0x02, b'u', b'1'],
        }
    );

    // Scalar unknown fields are visible through the generic reader.
    let generic = gob::decode_struct(&stream).unwrap();
    assert_eq!(generic.get("Extra"), Some(Scalar::Int(-7)));
    assert_eq!(generic.get("Flag"), Some(Scalar::Bool(true)));
    assert_eq!(generic.get("Ratio"), Some(Scalar::Float(1.5)));
    assert_eq!(generic.get("Big"), Some(Scalar::Uint(u64::MAX)));
    assert_eq!(generic.get("Z"), Some(Scalar::Complex(1.0, -2.0)));
    assert_eq!(generic.get("Nested"), None, "composite fields are skipped");
}

#[test]
fn a_non_nil_interface_value_is_reported_as_unsupported() {
    let mut iface = Vec::new();
    gob::write_bytes(&mut iface, b"main.Thing");
    let err = Req::decode_gob(&foreign_stream(&iface)).unwrap_err();
    assert_eq!(gob_kind(err), GobErrorKind::InterfaceUnsupported);
}

#[test]
fn every_truncation_of_a_valid_stream_is_a_typed_error() {
    let mut stream = req_typedef();
    stream.extend(b(
        r#"1b ff 82 01 fe 07 d2 02 02 "u1" 01 02 "op" 01 04 "u1_x" 01 04 0a 02 "u1" 00"#,
    ));
    for cut in 0..stream.len() {
        match Req::decode_gob(&stream[..cut]) {
            Err(DecodeError::Gob { offset, .. }) => {
                assert!(offset <= cut, "cut {cut}: offset {offset}")
            }
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    let foreign = foreign_stream(&[0]);
    for cut in 0..foreign.len() {
        assert!(
            matches!(
                Req::decode_gob(&foreign[..cut]),
                Err(DecodeError::Gob { .. })
            ),
            "cut {cut}"
        );
    }
}

/// A Resp definition (id 65) followed by the given value message body (after the length).
fn with_value(body: &[u8]) -> Vec<u8> {
    let mut s = resp_typedef();
    gob::write_message(&mut s, body);
    s
}

#[test]
fn malformed_streams_give_specific_errors() {
    let kind = |bytes: &[u8]| gob_kind(Resp::decode_gob(bytes).unwrap_err());

    assert_eq!(kind(&[]), GobErrorKind::MissingValue);
    assert_eq!(kind(&resp_typedef()), GobErrorKind::MissingValue);
    assert_eq!(
        kind(&b("05 ff 82")),
        GobErrorKind::LengthExceedsInput {
            len: 5,
            remaining: 2
        }
    );
    assert_eq!(kind(&b("00")), GobErrorKind::EmptyMessage);
    assert_eq!(kind(&b("80")), GobErrorKind::BadUint(0x80));
    assert_eq!(kind(&b("f7 00")), GobErrorKind::BadUint(0xf7));
    assert_eq!(kind(&b("03 ff 82 00")), GobErrorKind::UnknownTypeId(65));
    assert_eq!(kind(&b("02 04 00")), GobErrorKind::NotAStruct(2));

    // Bytes after the value, inside its message or after it.
    assert_eq!(
        kind(&with_value(&b("ff 82 01 fe 0f a4 00 00"))),
        GobErrorKind::TrailingData
    );
    let mut trailing = with_value(&b("ff 82 01 fe 0f a4 00"));
    trailing.push(0);
    assert_eq!(kind(&trailing), GobErrorKind::TrailingData);

    // Field numbers beyond the definition; a string longer than its message.
    assert_eq!(
        kind(&with_value(&b("ff 82 07 04 00"))),
        GobErrorKind::FieldOutOfRange {
            field: 6,
            fields: 6
        }
    );
    assert_eq!(
        kind(&with_value(&b("ff 82 02 09 41 00"))),
        GobErrorKind::LengthExceedsInput {
            len: 9,
            remaining: 2
        }
    );

    // Definitions: reserved id, duplicate id, inner id mismatch, no variant, duplicate field name.
    let def_with_id = |id: i64, inner: i64| {
        let mut s = Vec::new();
        gob::write_type_definition(
            &mut s,
            &WireType::Struct(StructType {
                name: "T".into(),
                id: inner,
                fields: vec![FieldType {
                    name: "ReqIdentifier".into(),
                    id: gob::INT,
                }],
            }),
        );
        // Patch the message id when it should differ from the inner one.
        if id != inner {
            let mut body = Vec::new();
            gob::write_int(&mut body, -id);
            let mut inner_id = Vec::new();
            gob::write_int(&mut inner_id, -inner);
            let skip = 1 + inner_id.len();
            body.extend_from_slice(&s[skip..]);
            s.clear();
            gob::write_message(&mut s, &body);
        }
        s
    };
    assert_eq!(
        kind(&def_with_id(8, 8)),
        GobErrorKind::BadTypeDefinitionId(8)
    );
    let mut twice = def_with_id(65, 65);
    twice.extend(def_with_id(65, 65));
    assert_eq!(kind(&twice), GobErrorKind::BadTypeDefinitionId(65));
    assert_eq!(
        kind(&def_with_id(66, 65)),
        GobErrorKind::InconsistentTypeId {
            message: 66,
            inner: 65
        }
    );
    assert_eq!(
        kind(&b("03 ff 81 00")),
        GobErrorKind::BadWireType("no type variant")
    );
    let mut dup = Vec::new();
    gob::write_type_definition(
        &mut dup,
        &WireType::Struct(StructType {
            name: "T".into(),
            id: 65,
            fields: vec![
                FieldType {
                    name: "ErrMsg".into(),
                    id: gob::STRING,
                },
                FieldType {
                    name: "ErrMsg".into(),
                    id: gob::STRING,
                },
            ],
        }),
    );
    assert_eq!(kind(&dup), GobErrorKind::DuplicateField("ErrMsg".into()));
}

#[test]
fn envelope_level_errors_are_typed() {
    // ReqIdentifier absent (zero) in the value.
    let err = Resp::decode_gob(&with_value(&b(r#"ff 82 02 02 "u1" 00"#))).unwrap_err();
    assert_eq!(err, DecodeError::MissingField("ReqIdentifier"));
    // ReqIdentifier beyond i32.
    let mut body = b("ff 82 01");
    gob::write_int(&mut body, i64::from(i32::MAX) + 1);
    body.push(0);
    let err = Resp::decode_gob(&with_value(&body)).unwrap_err();
    assert_eq!(
        err,
        DecodeError::OutOfRange {
            field: "ReqIdentifier",
            value: i64::from(i32::MAX) + 1
        }
    );
    // A string field that is not UTF-8.
    let err = Resp::decode_gob(&with_value(&b("ff 82 01 04 01 02 ff fe 00"))).unwrap_err();
    assert_eq!(err, DecodeError::InvalidUtf8 { field: "MsgIncr" });
}

#[test]
fn recursion_is_bounded() {
    // type R struct { Next R-slice... }: a self-referencing struct nested deeper than the limit.
    let mut s = Vec::new();
    gob::write_type_definition(
        &mut s,
        &WireType::Struct(StructType {
            name: "R".into(),
            id: 65,
            fields: vec![
                FieldType {
                    name: "Next".into(),
                    id: 65,
                },
                FieldType {
                    name: "ReqIdentifier".into(),
                    id: gob::INT,
                },
            ],
        }),
    );
    let mut body = b("ff 82");
    let depth = gob::MAX_DEPTH + 5;
    body.extend(std::iter::repeat_n(0x01, depth));
    body.extend(std::iter::repeat_n(0x00, depth + 1));
    gob::write_message(&mut s, &body);
    assert_eq!(
        gob_kind(Resp::decode_gob(&s).unwrap_err()),
        GobErrorKind::DepthLimit
    );

    // Within the limit the same shape decodes.
    let mut ok = Vec::new();
    gob::write_type_definition(
        &mut ok,
        &WireType::Struct(StructType {
            name: "R".into(),
            id: 65,
            fields: vec![
                FieldType {
                    name: "Next".into(),
                    id: 65,
                },
                FieldType {
                    name: "ReqIdentifier".into(),
                    id: gob::INT,
                },
            ],
        }),
    );
    let mut body = b("ff 82");
    body.extend(std::iter::repeat_n(0x01, 10));
    body.extend(std::iter::repeat_n(0x00, 10));
    body.extend(b("01 fe 0f a4 00"));
    gob::write_message(&mut ok, &body);
    assert_eq!(Resp::decode_gob(&ok).unwrap().req_identifier, 2002);
}
