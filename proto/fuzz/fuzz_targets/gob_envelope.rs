//! gob envelopes, plain and gzip-framed, both directions, plus the generic gob reader: decoding never
//! panics; a decoded envelope re-encoded with its own layout decodes to the same value and layout, and
//! that encoding is a fixed point.
#![no_main]

use chorus_proto::envelope::{Compression, EnvelopeCodec, FrameCodec, Req, Resp};
use chorus_proto::gob;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gob::decode_struct(data);
    if let Ok((req, layout)) = Req::decode_gob_with_layout(data) {
        let again = req.encode_gob_with_layout(&layout);
        let (req2, layout2) =
            Req::decode_gob_with_layout(&again).expect("re-encoded request decodes");
        assert_eq!(req2, req);
        assert_eq!(layout2, layout);
        assert_eq!(req2.encode_gob_with_layout(&layout2), again);
    }
    if let Ok((resp, layout)) = Resp::decode_gob_with_layout(data) {
        let again = resp.encode_gob_with_layout(&layout);
        let (resp2, layout2) =
            Resp::decode_gob_with_layout(&again).expect("re-encoded response decodes");
        assert_eq!(resp2, resp);
        assert_eq!(layout2, layout);
        assert_eq!(resp2.encode_gob_with_layout(&layout2), again);
    }
    for compression in [Compression::None, Compression::Gzip] {
        let codec = FrameCodec::new(EnvelopeCodec::Gob, compression);
        if let Ok(req) = codec.decode_req(data) {
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
