//! Browser tests, run in headless Chromium by `wasm-bindgen-test-runner`
//! (`cargo xtask test`, layer "browser tests").
//!
//! They exercise the real browser APIs the SDK depends on: IndexedDB through the SDK's store,
//! and the wire codecs of `chorus-proto` compiled to wasm. Each test uses its own database name
//! and deletes it first, so reruns in the same browser profile start clean.

use chorus_proto::envelope::{RequestPayload, ResponsePayload};
use chorus_proto::msgjson::{Fields, FromJson, Json, JsonError};
use chorus_proto::pb::sdkws::GetMaxSeqReq;
use chorus_sdk_wasm::codec::{
    browser_codec, decode_frame, decode_server_payload, encode_get_newest_seq, get_newest_seq_frame,
};
use chorus_sdk_wasm::store::{IdbStore, META};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Debug, Clone, PartialEq)]
struct Cursor {
    conversation_id: String,
    max_seq: u64,
    gaps: Vec<(u64, u64)>,
}

impl Cursor {
    /// `{"conversation_id": …, "max_seq": …, "gaps": [[from, to], …]}`.
    fn to_json(&self) -> Json {
        let gaps = self
            .gaps
            .iter()
            .map(|(from, to)| Json::List(vec![Json::U64(*from), Json::U64(*to)]))
            .collect();
        Json::Obj(vec![
            (
                "conversation_id".to_owned(),
                Json::Str(self.conversation_id.clone()),
            ),
            ("max_seq".to_owned(), Json::U64(self.max_seq)),
            ("gaps".to_owned(), Json::List(gaps)),
        ])
    }
}

impl FromJson for Cursor {
    fn from_json(value: Json) -> Result<Cursor, JsonError> {
        let mut fields =
            Fields::open(value)?.ok_or_else(|| JsonError::from_display("a null cursor"))?;
        let gaps: Vec<Vec<u64>> = fields.take("gaps")?;
        let gaps = gaps
            .into_iter()
            .map(|gap| match gap[..] {
                [from, to] => Ok((from, to)),
                _ => Err(JsonError::from_display("a gap is two seqs")),
            })
            .collect::<Result<_, _>>()?;
        Ok(Cursor {
            conversation_id: fields.take("conversation_id")?,
            max_seq: fields.take("max_seq")?,
            gaps,
        })
    }
}

async fn fresh(name: &str) -> IdbStore {
    IdbStore::delete(name).await.unwrap();
    IdbStore::open(name).await.unwrap()
}

#[wasm_bindgen_test]
async fn indexeddb_schema_has_the_meta_store() {
    let db = fresh("chorus-test-schema").await;
    assert!(db.store_names().contains(&META.to_owned()));
    db.close();
}

#[wasm_bindgen_test]
async fn indexeddb_round_trip_survives_reopen() {
    let name = "chorus-test-roundtrip";
    let db = fresh(name).await;
    let cursor = Cursor {
        conversation_id: "sg_g1".into(),
        max_seq: 42,
        gaps: vec![(6, 8), (30, 30)],
    };
    db.put_meta("cursor:sg_g1", &cursor.to_json())
        .await
        .unwrap();
    db.put_meta("user", &"u1".to_owned()).await.unwrap();
    db.close();

    // A new connection sees only what was committed.
    let db = IdbStore::open(name).await.unwrap();
    assert_eq!(
        db.get_meta::<Cursor>("cursor:sg_g1").await.unwrap(),
        Some(cursor.clone())
    );
    assert_eq!(
        db.get_meta::<String>("user").await.unwrap().as_deref(),
        Some("u1")
    );
    assert_eq!(
        db.get_meta::<Cursor>("cursor:si_u1_u2").await.unwrap(),
        None
    );

    // Putting again replaces the value.
    let moved = Cursor {
        max_seq: 43,
        gaps: vec![],
        ..cursor
    };
    db.put_meta("cursor:sg_g1", &moved.to_json()).await.unwrap();
    assert_eq!(
        db.get_meta::<Cursor>("cursor:sg_g1").await.unwrap(),
        Some(moved)
    );
    db.close();
}

#[wasm_bindgen_test]
async fn indexeddb_reports_a_type_mismatch() {
    let db = fresh("chorus-test-mismatch").await;
    db.put_meta("user", &"u1".to_owned()).await.unwrap();
    let err = db.get_meta::<Cursor>("user").await.unwrap_err();
    assert!(err.to_string().starts_with("value conversion"), "{err}");
    db.close();
}

/// The 1001 exchange of the protocol's JSON-mode session example (spec §10.1).
const GET_NEWEST_SEQ_REQ: &str = r#"{"reqIdentifier":1001,"token":"","sendID":"u1","operationID":"op-2","msgIncr":"u1_1","data":"CgJ1MQ=="}"#;
const GET_NEWEST_SEQ_RESP: &str = r#"{"reqIdentifier":1001,"msgIncr":"u1_1","operationID":"op-2","errCode":0,"errMsg":"","data":"CggKBHNnXzEQBQ=="}"#;

#[wasm_bindgen_test]
fn json_request_frame_matches_the_protocol_example() {
    let plain = get_newest_seq_frame("u1", "op-2", "u1_1", false).unwrap();
    assert_eq!(String::from_utf8(plain).unwrap(), GET_NEWEST_SEQ_REQ);
}

#[wasm_bindgen_test]
fn json_request_round_trips() {
    let frame = encode_get_newest_seq("u1", "op-2", "u1_1", false).unwrap();
    assert_eq!(frame, GET_NEWEST_SEQ_REQ.as_bytes());

    let req = browser_codec(false).decode_req(&frame).unwrap();
    assert_eq!(
        (req.send_id.as_str(), req.msg_incr.as_str()),
        ("u1", "u1_1")
    );
    assert_eq!(
        req.payload().unwrap(),
        RequestPayload::GetNewestSeq(GetMaxSeqReq {
            user_id: "u1".into()
        })
    );
}

#[wasm_bindgen_test]
fn json_response_decodes_to_max_seqs() {
    let frame = GET_NEWEST_SEQ_RESP.as_bytes();
    let (resp, payload) = decode_server_payload(frame, false).unwrap();
    assert_eq!((resp.req_identifier, resp.err_code), (1001, 0));
    assert_eq!(resp.operation_id, "op-2");
    let ResponsePayload::GetNewestSeq(seqs) = payload else {
        panic!("expected a GetMaxSeqResp, got {payload:?}");
    };
    assert_eq!(seqs.max_seqs.get("sg_1"), Some(&5));
    assert_eq!(seqs.max_seqs.len(), 1);

    // The same frame through the JavaScript-facing function.
    let js = decode_frame(frame, false).unwrap();
    assert_eq!(js.req_identifier(), 1001);
    assert_eq!(js.msg_incr(), "u1_1");
    assert_eq!(
        js.data(),
        [0x0a, 0x08, 0x0a, 0x04, b's', b'g', b'_', b'1', 0x10, 0x05]
    );
}

#[wasm_bindgen_test]
fn the_browser_build_refuses_gzip() {
    let err = encode_get_newest_seq("u1", "op-2", "u1_1", true).unwrap_err();
    let err: js_sys::Error = JsValue::from(err).into();
    let text = String::from(err.message());
    assert!(
        text.contains("gzip") && text.contains("not supported"),
        "{text}"
    );

    let err = decode_server_payload(GET_NEWEST_SEQ_RESP.as_bytes(), true).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("decode: gzip framing (compression=gzip) is not supported"),
        "{err}"
    );
}

#[wasm_bindgen_test]
fn damaged_frames_are_decode_errors() {
    let frame = GET_NEWEST_SEQ_RESP.as_bytes();
    let err = decode_server_payload(&frame[..frame.len() - 4], false).unwrap_err();
    assert!(err.to_string().starts_with("decode: "), "{err}");
    // A reqIdentifier with a payload of the wrong message.
    let wrong = GET_NEWEST_SEQ_RESP.replace("CggKBHNnXzEQBQ==", "/w==");
    let err = decode_server_payload(wrong.as_bytes(), false).unwrap_err();
    assert!(err.to_string().starts_with("decode: protobuf"), "{err}");
    // Bytes that are not JSON at all.
    assert!(decode_server_payload(&[0x1f, 0x8b, 0x08, 0x00], false).is_err());
}
