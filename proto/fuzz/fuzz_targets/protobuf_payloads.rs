//! Gateway payloads by reqIdentifier. The first byte selects the identifier (low 4 bits, index into
//! `IDS`) and the direction (bit 7: response); the rest is the protobuf `data`. Decoding never panics, and
//! a decoded payload re-encodes to bytes that decode to the same payload under the same identifier.
#![no_main]

use chorus_proto::envelope::{decode_request_payload, decode_response_payload};
use libfuzzer_sys::fuzz_target;

const IDS: [i32; 14] = [
    1001, 1002, 1003, 1005, 1006, 1007, 2001, 2002, 2003, 2004, 2005, 1004, 3001, 0,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let id = IDS[usize::from(selector & 0x0f) % IDS.len()];
    if selector & 0x80 == 0 {
        if let Ok(p) = decode_request_payload(id, payload) {
            assert_eq!(p.req_identifier(), id);
            assert_eq!(
                decode_request_payload(id, &p.encode_to_vec()).as_ref(),
                Ok(&p)
            );
        }
    } else if let Ok(p) = decode_response_payload(id, payload) {
        assert_eq!(p.req_identifier(), id);
        assert_eq!(
            decode_response_payload(id, &p.encode_to_vec()).as_ref(),
            Ok(&p)
        );
    }
});
