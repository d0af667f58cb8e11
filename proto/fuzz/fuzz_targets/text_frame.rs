//! Text frames (ping/pong, handshake result) and the connection query: parsing never panics, and what
//! parses re-encodes to text that parses to the same value.
#![no_main]

use chorus_proto::envelope::{ConnectParams, HandshakeResult, RawJson, TextFrame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = HandshakeResult::decode(data) {
        assert_eq!(
            HandshakeResult::decode(h.encode().as_bytes()).as_ref(),
            Ok(&h)
        );
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = TextFrame::decode(text) {
        assert_eq!(TextFrame::decode(&frame.encode()).as_ref(), Ok(&frame));
        if let Some(pong) = frame.reply() {
            assert_eq!(TextFrame::decode(&pong.encode()).as_ref(), Ok(&pong));
        }
    }
    if let Ok(raw) = RawJson::parse(text) {
        assert_eq!(RawJson::parse(raw.as_str()).as_ref(), Ok(&raw));
    }
    if let Ok(params) = ConnectParams::from_query(text) {
        assert_eq!(
            ConnectParams::from_query(&params.to_query()).as_ref(),
            Ok(&params)
        );
    }
});
