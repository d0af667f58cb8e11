//! Our codec against prost's for the same schema: every message, pseudo-random valid encodings
//! (random field order, repeats, packed and unpacked lists, partial map entries, unknown fields),
//! then mutations of them and plain random bytes. Both must accept the same inputs, and what they
//! accept must re-encode to the same bytes.

use std::collections::HashMap;

use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorSet};

use super::Message;

/// Decodes `bytes` with both codecs; each side is `Some(re-encoding)` or `None` for an error.
type Pair = fn(&[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>);

fn pair<A: Message, B: prost::Message + Default>(
    bytes: &[u8],
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    (
        A::decode(bytes).ok().map(|m| m.encode_to_vec()),
        B::decode(bytes).ok().map(|m| m.encode_to_vec()),
    )
}

/// Every message of the schema by full name (`openim.sdkws.MsgData`).
const PAIRS: &[(&str, Pair)] = include!(concat!(env!("OUT_DIR"), "/prost_pairs.rs"));

/// A xorshift generator: deterministic, so a failure reproduces. Also used by `map`'s tests.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(out: &mut Vec<u8>, tag: u32, wire_type: u8) {
    put_varint(out, u64::from(tag) << 3 | u64::from(wire_type));
}

fn put_len(out: &mut Vec<u8>, tag: u32, body: &[u8]) {
    put_key(out, tag, 2);
    put_varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// The schema's messages (map entries included) by full name with a leading dot.
struct Schema(HashMap<String, DescriptorProto>);

impl Schema {
    fn load() -> Self {
        let set = FileDescriptorSet::decode(super::FILE_DESCRIPTOR_SET).unwrap();
        let mut all = HashMap::new();
        fn add(all: &mut HashMap<String, DescriptorProto>, prefix: &str, m: &DescriptorProto) {
            let name = format!("{prefix}.{}", m.name());
            for nested in &m.nested_type {
                add(all, &name, nested);
            }
            all.insert(name, m.clone());
        }
        for file in &set.file {
            for m in &file.message_type {
                add(&mut all, &format!(".{}", file.package()), m);
            }
        }
        Schema(all)
    }

    fn is_map_entry(&self, type_name: &str) -> bool {
        self.0[type_name]
            .options
            .as_ref()
            .is_some_and(|o| o.map_entry())
    }
}

/// A varint value of varied size: small, 32-bit, negative 32-bit, full 64-bit.
fn some_varint(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => 0,
        1 => rng.below(3),
        2 => rng.below(300),
        3 => rng.next() & 0xffff_ffff,
        4 => (-(rng.below(1000) as i64) - 1) as u64,
        _ => rng.next(),
    }
}

fn some_text(rng: &mut Rng) -> Vec<u8> {
    const PIECES: &[&str] = &["", "a", "xyz", "é", "中文", "🙂", " ", "conv_1", "\u{0}"];
    let mut s = String::new();
    for _ in 0..rng.below(4) {
        s.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
    }
    s.into_bytes()
}

/// Appends an unknown field (numbers above the schema's) of a random wire type.
fn unknown_field(rng: &mut Rng, out: &mut Vec<u8>) {
    let tag = 100 + rng.below(50) as u32;
    match rng.below(5) {
        0 => {
            put_key(out, tag, 0);
            put_varint(out, some_varint(rng));
        }
        1 => {
            put_key(out, tag, 1);
            out.extend_from_slice(&rng.next().to_le_bytes());
        }
        2 => put_len(out, tag, &some_text(rng)),
        3 => {
            put_key(out, tag, 5);
            out.extend_from_slice(&(rng.next() as u32).to_le_bytes());
        }
        _ => {
            put_key(out, tag, 3);
            put_key(out, tag + 1, 0);
            put_varint(out, some_varint(rng));
            put_key(out, tag, 4);
        }
    }
}

/// Appends one occurrence of `field`, a valid encoding of a random value.
fn field_value(
    schema: &Schema,
    rng: &mut Rng,
    field: &FieldDescriptorProto,
    depth: u32,
    out: &mut Vec<u8>,
) {
    let tag = field.number() as u32;
    let repeated = field.label() == Label::Repeated;
    match field.r#type() {
        Type::Message => {
            let body = message(schema, rng, field.type_name(), depth + 1);
            put_len(out, tag, &body);
        }
        Type::String => put_len(out, tag, &some_text(rng)),
        Type::Bytes => {
            let body: Vec<u8> = (0..rng.below(6)).map(|_| rng.next() as u8).collect();
            put_len(out, tag, &body);
        }
        Type::Double => {
            put_key(out, tag, 1);
            let v = [0.0, -0.0, 1.5, f64::NAN, rng.next() as f64][rng.below(5) as usize];
            out.extend_from_slice(&v.to_le_bytes());
        }
        Type::Float => {
            put_key(out, tag, 5);
            let v = [0.0f32, -0.0, 2.25, f32::NAN, rng.next() as f32][rng.below(5) as usize];
            out.extend_from_slice(&v.to_le_bytes());
        }
        _ if repeated && rng.chance(2) => {
            let mut body = Vec::new();
            for _ in 0..rng.below(4) {
                put_varint(&mut body, some_varint(rng));
            }
            put_len(out, tag, &body);
        }
        _ => {
            put_key(out, tag, 0);
            put_varint(out, some_varint(rng));
        }
    }
}

/// A valid encoding of a random value of message `type_name` (with a leading dot).
fn message(schema: &Schema, rng: &mut Rng, type_name: &str, depth: u32) -> Vec<u8> {
    let descriptor = &schema.0[type_name];
    let mut out = Vec::new();
    if depth > 4 || descriptor.field.is_empty() {
        return out;
    }
    let is_entry = schema.is_map_entry(type_name);
    let count = rng.below(descriptor.field.len() as u64 * 2 + 1);
    for _ in 0..count {
        if !is_entry && rng.chance(12) {
            unknown_field(rng, &mut out);
            continue;
        }
        let field = &descriptor.field[rng.below(descriptor.field.len() as u64) as usize];
        field_value(schema, rng, field, depth, &mut out);
    }
    if is_entry && rng.chance(8) {
        unknown_field(rng, &mut out);
    }
    out
}

/// Decodes `bytes` as `name` with both codecs and requires the same outcome; returns whether the
/// bytes were accepted.
fn same(name: &str, pair: Pair, bytes: &[u8]) -> bool {
    let (ours, theirs) = pair(bytes);
    assert_eq!(ours, theirs, "{name} of {bytes:02x?}");
    ours.is_some()
}

fn mutate(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..=rng.below(3) {
        let at = if out.is_empty() {
            0
        } else {
            rng.below(out.len() as u64) as usize
        };
        match rng.below(5) {
            0 if !out.is_empty() => out[at] ^= 1 << rng.below(8),
            1 if !out.is_empty() => out[at] = rng.next() as u8,
            2 => out.insert(at, rng.next() as u8),
            3 if !out.is_empty() => {
                out.remove(at);
            }
            _ => out.truncate(at),
        }
    }
    out
}

#[test]
fn pairs_cover_every_message() {
    let schema = Schema::load();
    let messages = schema
        .0
        .keys()
        .filter(|name| !schema.is_map_entry(name))
        .count();
    assert_eq!(PAIRS.len(), messages);
    assert!(messages >= 87, "{messages}");
}

#[test]
fn random_values_encode_as_prost_does() {
    let schema = Schema::load();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut non_empty = 0;
    for &(name, pair) in PAIRS {
        for _ in 0..300 {
            let bytes = message(&schema, &mut rng, &format!(".{name}"), 0);
            let (ours, theirs) = pair(&bytes);
            let ours = ours.unwrap_or_else(|| panic!("{name} rejects {bytes:02x?}"));
            assert_eq!(Some(&ours), theirs.as_ref(), "{name} of {bytes:02x?}");
            non_empty += usize::from(!ours.is_empty());
        }
    }
    assert!(non_empty > PAIRS.len() * 100, "{non_empty}");
}

#[test]
fn mutated_and_random_bytes_decode_as_prost_does() {
    let schema = Schema::load();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut accepted, mut rejected) = (0usize, 0usize);
    for &(name, pair) in PAIRS {
        for _ in 0..300 {
            let valid = message(&schema, &mut rng, &format!(".{name}"), 0);
            let bytes = if rng.chance(5) {
                (0..rng.below(24)).map(|_| rng.next() as u8).collect()
            } else {
                mutate(&mut rng, &valid)
            };
            if same(name, pair, &bytes) {
                accepted += 1;
            } else {
                rejected += 1;
            }
        }
    }
    assert!(accepted > 1000 && rejected > 1000, "{accepted} {rejected}");
}

fn pair_of(name: &str) -> Pair {
    PAIRS.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn edge_cases_decode_as_prost_does() {
    let msg_data = pair_of("openim.sdkws.MsgData");
    let group = |depth: usize| {
        let mut out = Vec::new();
        for _ in 0..depth {
            put_key(&mut out, 100, 3);
        }
        for _ in 0..depth {
            put_key(&mut out, 100, 4);
        }
        out
    };
    let cases: &[(&[u8], bool)] = &[
        // sendID (1) as a varint: wire type mismatch.
        (&[0x08, 0x01], false),
        // sendID with invalid UTF-8.
        (&[0x0a, 0x01, 0xff], false),
        // seq (14) as an 11-byte varint, and with a 10th byte above 1.
        (
            &[
                0x70, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
            ],
            false,
        ),
        (
            &[
                0x70, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02,
            ],
            false,
        ),
        (
            &[
                0x70, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            true,
        ),
        // A non-minimal varint.
        (&[0x70, 0x81, 0x80, 0x00], true),
        // Truncated string.
        (&[0x0a, 0x05, b'a'], false),
        // Field number 0, and wire types 6 and 7.
        (&[0x00, 0x00], false),
        (&[0x0e], false),
        (&[0x0f], false),
        // Map entry (options, 19) with neither key nor value, and with a varint wire type.
        (&[0x9a, 0x01, 0x00], true),
        (&[0x98, 0x01, 0x00], false),
        // Unpacked and packed sequences are not in MsgData; an end group without a start.
        (&[0xa4, 0x06], false),
        // Last value wins; offlinePushInfo (20) merges.
        (
            &[
                0x70, 0x01, 0x70, 0x02, 0xa2, 0x01, 0x03, 0x0a, 0x01, b't', 0xa2, 0x01, 0x02, 0x28,
                0x01,
            ],
            true,
        ),
    ];
    for &(bytes, ok) in cases {
        assert_eq!(same("MsgData", msg_data, bytes), ok, "{bytes:02x?}");
    }
    let merged = super::sdkws::MsgData::decode(cases.last().unwrap().0).unwrap();
    let push = merged.offline_push_info.unwrap();
    assert_eq!(
        (merged.seq, push.title.as_str(), push.i_os_badge_count),
        (2, "t", true)
    );
    // Unknown groups nest up to the recursion limit.
    assert!(same("MsgData", msg_data, &group(99)));
    assert!(!same("MsgData", msg_data, &group(101)));
    // ConversationSeqs.seqs (3): packed, unpacked, mixed; a packed run cut inside a varint.
    let seqs = pair_of("openim.msg.ConversationSeqs");
    assert!(same("ConversationSeqs", seqs, &[0x1a, 0x02, 0x01, 0x02]));
    assert!(same("ConversationSeqs", seqs, &[0x18, 0x01, 0x18, 0x02]));
    assert!(same(
        "ConversationSeqs",
        seqs,
        &[0x18, 0x01, 0x1a, 0x01, 0x02, 0x18, 0x03]
    ));
    assert!(!same("ConversationSeqs", seqs, &[0x1a, 0x01, 0x81, 0x01]));
    assert!(!same("ConversationSeqs", seqs, &[0x1d, 0, 0, 0, 0]));
}

#[test]
fn encodings_are_canonical() {
    use super::sdkws::{GetMaxSeqResp, MsgData, OfflinePushInfo, PullMsgs};
    let mut msg = MsgData {
        send_id: "u1".into(),
        seq: -1,
        content: vec![1, 2],
        offline_push_info: Some(OfflinePushInfo::default()),
        ..MsgData::default()
    };
    msg.options.insert(String::new(), false);
    msg.options.insert("k".into(), true);
    let bytes = msg.encode_to_vec();
    let mut expected = vec![0x0a, 0x02, b'u', b'1', 0x62, 0x02, 1, 2, 0x70];
    expected.extend_from_slice(&[0xff; 9]);
    expected.push(0x01);
    expected.extend_from_slice(&[
        0x9a, 0x01, 0x00, 0x9a, 0x01, 0x05, 0x0a, 0x01, b'k', 0x10, 0x01,
    ]);
    expected.extend_from_slice(&[0xa2, 0x01, 0x00]);
    assert_eq!(bytes, expected);
    assert_eq!(MsgData::decode(&bytes).unwrap(), msg);

    // A nested message longer than 127 bytes gets a two-byte length.
    let big = PullMsgs {
        msgs: vec![MsgData {
            ex: "x".repeat(200),
            ..MsgData::default()
        }],
        ..PullMsgs::default()
    };
    let bytes = big.encode_to_vec();
    assert_eq!(&bytes[..6], &[0x0a, 0xcc, 0x01, 0xba, 0x01, 0xc8]);
    assert_eq!(PullMsgs::decode(&bytes).unwrap(), big);

    let mut seqs = GetMaxSeqResp::default();
    seqs.max_seqs.insert("c".into(), 0);
    assert_eq!(seqs.encode_to_vec(), [0x0a, 0x03, 0x0a, 0x01, b'c']);
}
