//! JSON envelopes, plain and gzip-framed, both directions: decoding never panics, and whatever decodes
//! re-encodes to something that decodes to the same value.
#![no_main]

use chorus_proto::envelope::{Compression, EnvelopeCodec, FrameCodec, Req, Resp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Req::decode_json(data) {
        assert_eq!(Req::decode_json(&req.encode_json()).as_ref(), Ok(&req));
    }
    if let Ok(resp) = Resp::decode_json(data) {
        assert_eq!(Resp::decode_json(&resp.encode_json()).as_ref(), Ok(&resp));
    }
    for compression in [Compression::None, Compression::Gzip] {
        let codec = FrameCodec::new(EnvelopeCodec::Json, compression);
        if let Ok(req) = codec.decode_req(data) {
            // Re-encoding can only exceed the limits if the JSON grew (e.g. escapes written differently).
            if let Ok(frame) = codec.encode_req(&req) {
                assert_eq!(codec.decode_req(&frame).as_ref(), Ok(&req));
            }
        }
        if let Ok(resp) = codec.decode_resp(data) {
            if let Ok(frame) = codec.encode_resp(&resp) {
                assert_eq!(codec.decode_resp(&frame).as_ref(), Ok(&resp));
            }
        }
    }
});
