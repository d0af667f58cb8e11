//! [`Map`] against `BTreeMap`: random operation sequences and collections with repeated keys
//! must give the same contents in the same order.

use std::collections::BTreeMap;

use super::Map;
use crate::pb::tests::Rng;

impl Rng {
    /// A key from a small alphabet, so that keys repeat often.
    fn key(&mut self) -> String {
        let len = self.below(3);
        (0..len)
            .map(|_| (b'a' + self.below(4) as u8) as char)
            .collect()
    }
}

fn assert_same(map: &Map<String, u64>, reference: &BTreeMap<String, u64>) {
    assert_eq!(map.len(), reference.len());
    assert_eq!(map.is_empty(), reference.is_empty());
    let pairs: Vec<(&String, &u64)> = map.iter().collect();
    let expected: Vec<(&String, &u64)> = reference.iter().collect();
    assert_eq!(pairs, expected);
    assert!(map.keys().eq(reference.keys()));
    assert!(map.values().eq(reference.values()));
    assert_eq!(format!("{map:?}"), format!("{reference:?}"));
}

#[test]
fn random_operations_match_btree_map() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        let mut map = Map::new();
        let mut reference = BTreeMap::new();
        for _ in 0..rng.below(60) {
            let key = rng.key();
            match rng.below(6) {
                0 | 1 => {
                    let value = rng.next();
                    assert_eq!(map.insert(key.clone(), value), reference.insert(key, value));
                }
                2 => assert_eq!(map.remove(&key), reference.remove(&key)),
                3 => {
                    assert_eq!(map.get(&key), reference.get(&key));
                    assert_eq!(map.contains_key(&key), reference.contains_key(&key));
                }
                4 => {
                    if let Some(value) = map.get_mut(&key) {
                        *value += 1;
                    }
                    if let Some(value) = reference.get_mut(&key) {
                        *value += 1;
                    }
                }
                _ => {
                    *map.get_or_insert_with(key.clone(), || 7) += 1;
                    *reference.entry(key).or_insert(7) += 1;
                }
            }
            assert_same(&map, &reference);
        }
        let owned: Vec<(String, u64)> = map.clone().into_iter().collect();
        assert_eq!(owned, reference.clone().into_iter().collect::<Vec<_>>());
    }
}

#[test]
fn collecting_keeps_the_last_value_of_a_repeated_key() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..300 {
        let pairs: Vec<(String, u64)> = (0..rng.below(40))
            .map(|_| (rng.key(), rng.next()))
            .collect();
        let map: Map<String, u64> = pairs.iter().cloned().collect();
        let reference: BTreeMap<String, u64> = pairs.iter().cloned().collect();
        assert_same(&map, &reference);

        // Extending a map that already has entries: new pairs replace old values.
        let more: Vec<(String, u64)> = (0..rng.below(20))
            .map(|_| (rng.key(), rng.next()))
            .collect();
        let mut extended = map.clone();
        extended.extend(more.iter().cloned());
        let mut reference = reference;
        reference.extend(more);
        assert_same(&extended, &reference);
    }
}

#[test]
fn sorting_many_unordered_entries() {
    let mut rng = Rng(7);
    let mut map = Map::new();
    let mut reference = BTreeMap::new();
    for _ in 0..20_000 {
        let key = format!("si_{}", rng.below(15_000));
        let value = rng.next();
        map.push_unsorted(key.clone(), value);
        reference.insert(key, value);
    }
    map.sort();
    assert_same(&map, &reference);
}

#[test]
fn index_and_from_array() {
    let map = Map::from([
        ("b".to_owned(), 2),
        ("a".to_owned(), 1),
        ("b".to_owned(), 3),
    ]);
    assert_eq!(map["a"], 1);
    assert_eq!(map["b"], 3);
    assert_eq!(map.len(), 2);
    assert_eq!(map, Map::from([("a".to_owned(), 1), ("b".to_owned(), 3)]));
}

/// One `maxSeqs` entry (field 1 of `GetMaxSeqResp`) as protobuf bytes.
fn max_seq_entry(key: &str, value: u8) -> Vec<u8> {
    let mut entry = vec![0x0a, key.len() as u8];
    entry.extend_from_slice(key.as_bytes());
    entry.extend_from_slice(&[0x10, value]);
    let mut out = vec![0x0a, entry.len() as u8];
    out.extend(entry);
    out
}

#[test]
fn decoding_sorts_entries_and_keeps_the_last_of_a_repeated_key() {
    use crate::pb::sdkws::GetMaxSeqResp;
    use crate::pb::Message as _;

    let bytes: Vec<u8> = [("b", 1), ("a", 2), ("c", 3), ("b", 4)]
        .iter()
        .flat_map(|&(key, value)| max_seq_entry(key, value))
        .collect();
    let mut resp = GetMaxSeqResp::decode(&bytes).unwrap();
    let pairs: Vec<(&str, i64)> = resp
        .max_seqs
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(pairs, [("a", 2), ("b", 4), ("c", 3)]);
    assert_eq!(
        resp.encode_to_vec(),
        [
            max_seq_entry("a", 2),
            max_seq_entry("b", 4),
            max_seq_entry("c", 3)
        ]
        .concat()
    );

    // A second merge into the same value: its entries replace those with the same key.
    resp.merge(&[max_seq_entry("c", 9), max_seq_entry("0", 5)].concat())
        .unwrap();
    let pairs: Vec<(&str, i64)> = resp
        .max_seqs
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(pairs, [("0", 5), ("a", 2), ("b", 4), ("c", 9)]);

    // A failed merge still leaves the map ordered.
    let mut broken = [max_seq_entry("z", 1), max_seq_entry("d", 1)].concat();
    broken.push(0x0a);
    assert!(resp.merge(&broken).is_err());
    assert!(resp
        .max_seqs
        .keys()
        .zip(resp.max_seqs.keys().skip(1))
        .all(|(a, b)| a < b));
    assert_eq!(resp.max_seqs.get("d"), Some(&1));
}

#[test]
fn json_maps_sort_entries_and_keep_the_last_of_a_repeated_key() {
    use crate::pb::sdkws::GetMaxSeqResp;

    let text = r#"{"maxSeqs":{"b":1,"a":2,"b":3},"minSeqs":null}"#;
    let resp: GetMaxSeqResp = crate::msgjson::from_text(text).unwrap();
    let pairs: Vec<(&str, i64)> = resp
        .max_seqs
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(pairs, [("a", 2), ("b", 3)]);
    assert_eq!(
        crate::msgjson::to_text(&resp),
        r#"{"maxSeqs":{"a":2,"b":3},"minSeqs":{}}"#
    );
    let theirs: Map<String, i64> = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
    assert_eq!(theirs, resp.max_seqs);
    assert_eq!(serde_json::to_string(&theirs).unwrap(), r#"{"a":2,"b":3}"#);
}
