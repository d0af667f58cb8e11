//! [`VecMap`]: an ordered map kept as a sorted `Vec` of pairs.
//!
//! The engine's maps are small (requests in flight, list sync states, version markers) or are
//! filled in key order or in batches; a sorted vector serves them with far less generated code
//! per key/value pair than a B-tree, which matters for the browser build. Lookups are binary
//! searches; iteration is in key order, as with `BTreeMap`. It is public because
//! [`Changes::sync_states`](crate::Changes::sync_states) and
//! [`Store::load_cursors`](crate::Store::load_cursors) carry one.
//!
//! Every lookup method is compiled once per map and borrowed key type, so the engine looks up
//! its `String`-keyed maps by `str` only (`map.get::<str>(id)`, whether `id` is a `&String` or a
//! `&str`).

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ordered map backed by a `Vec<(K, V)>` sorted by key, with unique keys.
#[derive(Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K, V> VecMap<K, V> {
    /// An empty map.
    pub const fn new() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in key order, values mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in key order, mutably.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Keeps the entries for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    fn search<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value under `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let i = self.search(key).ok()?;
        self.entries.get(i).map(|(_, v)| v)
    }

    /// The value under `key`, mutably.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let i = self.search(key).ok()?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    /// Whether `key` has a value.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.search(key).is_ok()
    }

    /// Removes and returns the value under `key`.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match self.search(key) {
            Ok(i) => Some(self.entries.remove(i).1),
            Err(_) => None,
        }
    }

    /// Sets the value under `key`, returning the previous one.
    pub fn insert(&mut self, key: K, value: V) -> Option<V>
    where
        K: Ord,
    {
        match self.search(&key) {
            Ok(i) => self
                .entries
                .get_mut(i)
                .map(|(_, old)| std::mem::replace(old, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Sets every pair of `items`, in order (a later pair for the same key wins), as repeated
    /// [`VecMap::insert`] calls would, with one stable sort of the indices of the old entries
    /// (already one sorted run) and the new pairs. The pair kept for a key is the last one, key
    /// included (`insert` keeps the old key; keys that compare equal are taken to be the same).
    pub fn extend(&mut self, items: impl IntoIterator<Item = (K, V)>)
    where
        K: Ord,
    {
        let start = self.entries.len();
        self.entries.extend(items);
        if self.entries.len() == start {
            return;
        }
        // Old entries come first and the sort is stable, so among equal keys the old entry
        // leads and then the batch in order; the last of each run wins.
        crate::sort::sort_dedup(&mut self.entries, &|a, b| a.0.cmp(&b.0), true);
    }

    /// Adds `V::default()` under each of `keys` that has no value yet, with one stable sort of
    /// the indices of the old entries (already one sorted run) and the new keys.
    pub fn add_defaults(&mut self, keys: impl IntoIterator<Item = K>)
    where
        K: Ord,
        V: Default,
    {
        let start = self.entries.len();
        for key in keys {
            if self
                .entries
                .get(..start)
                .unwrap_or_default()
                .binary_search_by(|(k, _)| k.cmp(&key))
                .is_err()
            {
                self.entries.push((key, V::default()));
            }
        }
        if self.entries.len() == start {
            return;
        }
        // A key given twice: both copies hold the default.
        crate::sort::sort_dedup(&mut self.entries, &|a, b| a.0.cmp(&b.0), false);
    }

    /// The value under `key`, inserting `V::default()` first when there is none.
    pub fn get_or_default(&mut self, key: K) -> &mut V
    where
        K: Ord,
        V: Default,
    {
        let i = match self.search(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, V::default()));
                i
            }
        };
        &mut self.entries[i].1
    }
}

/// `map[key]`: the value under `key`; panics when there is none, as `BTreeMap` does.
impl<K, V, Q> std::ops::Index<&Q> for VecMap<K, V>
where
    K: Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;

    fn index(&self, key: &Q) -> &V {
        match self.get(key) {
            Some(value) => value,
            None => panic!("no entry for the key"),
        }
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// Builds the map as repeated [`VecMap::insert`] calls would (a later pair for a key wins).
impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut map = VecMap::new();
        map.extend(items);
        map
    }
}

/// Writes a map (a JSON object) in key order, as `BTreeMap` does.
impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// Reads a JSON object (any serde map); a repeated key keeps its last value, as with `BTreeMap`.
impl<'de, K, V> Deserialize<'de> for VecMap<K, V>
where
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);

        impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
        where
            K: Deserialize<'de> + Ord,
            V: Deserialize<'de>,
        {
            type Value = VecMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = VecMap::new();
                while let Some((key, value)) = access.next_entry()? {
                    map.insert(key, value);
                }
                Ok(map)
            }
        }

        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::VecMap;
    use std::collections::BTreeMap;

    #[test]
    fn agrees_with_btree_map() {
        let mut map: VecMap<String, u32> = VecMap::new();
        let mut reference: BTreeMap<String, u32> = BTreeMap::new();
        // A deterministic mix of inserts, overwrites and removals.
        let mut x: u32 = 7;
        for step in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = format!("k{}", (x >> 8) % 97);
            match step % 5 {
                0..=2 => assert_eq!(map.insert(key.clone(), step), reference.insert(key, step)),
                3 => assert_eq!(map.remove(key.as_str()), reference.remove(key.as_str())),
                _ => {
                    *map.get_or_default(key.clone()) += 1;
                    *reference.entry(key).or_default() += 1;
                }
            }
            assert_eq!(map.len(), reference.len());
        }
        let ours: Vec<(&String, &u32)> = map.iter().collect();
        let theirs: Vec<(&String, &u32)> = reference.iter().collect();
        assert_eq!(ours, theirs);
        assert_eq!(format!("{map:?}"), format!("{reference:?}"));
        map.retain(|_, v| *v % 2 == 0);
        reference.retain(|_, v| *v % 2 == 0);
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            reference.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn reads_a_json_object_like_btree_map() {
        let json = r#"{"b": 2, "a": 1, "b": 3}"#;
        let ours: VecMap<String, u32> = serde_json::from_str(json).unwrap();
        let theirs: BTreeMap<String, u32> = serde_json::from_str(json).unwrap();
        assert_eq!(
            ours.into_iter().collect::<Vec<_>>(),
            theirs.into_iter().collect::<Vec<_>>()
        );
        let bad = serde_json::from_str::<VecMap<String, u32>>("[1]").unwrap_err();
        let reference = serde_json::from_str::<BTreeMap<String, u32>>("[1]").unwrap_err();
        assert_eq!(bad.to_string(), reference.to_string());
    }

    #[test]
    fn add_defaults_matches_repeated_inserts() {
        let mut x: u32 = 11;
        for round in 0..200u32 {
            let mut map: VecMap<u32, u32> = VecMap::new();
            let mut reference: BTreeMap<u32, u32> = BTreeMap::new();
            for i in 0..(round % 23) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let key = (x >> 8) % 61;
                map.insert(key, i + 1);
                reference.insert(key, i + 1);
            }
            // Mostly ascending runs with repeats, and now and then a key out of order.
            let mut keys = Vec::new();
            let mut next = 0;
            for _ in 0..(round % 31) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                next = if (x >> 5).is_multiple_of(9) {
                    (x >> 8) % 61
                } else {
                    next + (x >> 8) % 4
                };
                keys.push(next);
            }
            for key in &keys {
                reference.entry(*key).or_default();
            }
            map.add_defaults(keys.clone());
            assert_eq!(
                map.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
                reference.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
                "keys {keys:?}"
            );
        }
    }

    #[test]
    fn extend_matches_repeated_inserts() {
        let mut x: u32 = 11;
        let mut next = move || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            x >> 8
        };
        for round in 0..200u32 {
            let mut map: VecMap<u32, u32> = VecMap::new();
            let mut reference: BTreeMap<u32, u32> = BTreeMap::new();
            for _ in 0..next() % 40 {
                let key = next() % 64;
                map.insert(key, round);
                reference.insert(key, round);
            }
            let batch: Vec<(u32, u32)> = (0..next() % 80).map(|i| (next() % 64, i)).collect();
            map.extend(batch.iter().copied());
            reference.extend(batch.iter().copied());
            assert_eq!(
                map.iter().collect::<Vec<_>>(),
                reference.iter().collect::<Vec<_>>(),
                "batch {batch:?}"
            );
            assert_eq!((&map).into_iter().count(), reference.len());
        }
    }

    #[test]
    fn collects_and_writes_json_like_btree_map() {
        let pairs = [("b", 2), ("a", 1), ("c", 3), ("a", 4)];
        let ours: VecMap<&str, u32> = pairs.into_iter().collect();
        let theirs: BTreeMap<&str, u32> = pairs.into_iter().collect();
        assert_eq!(
            ours.iter().collect::<Vec<_>>(),
            theirs.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            serde_json::to_string(&ours).unwrap(),
            serde_json::to_string(&theirs).unwrap()
        );
        let back: VecMap<String, u32> =
            serde_json::from_str(&serde_json::to_string(&ours).unwrap()).unwrap();
        assert_eq!(back.keys().collect::<Vec<_>>(), vec!["a", "b", "c"]);
    }

    #[test]
    fn lookups_by_borrowed_key() {
        let mut map: VecMap<String, i32> = VecMap::new();
        assert!(map.is_empty());
        map.insert("b".into(), 2);
        map.insert("a".into(), 1);
        assert_eq!(map.get("a"), Some(&1));
        assert_eq!(map["b"], 2);
        assert!(map.contains_key("b"));
        assert!(!map.contains_key("c"));
        *map.get_mut("b").unwrap() = 5;
        for (key, value) in map.iter_mut() {
            *value += i32::from(key == "a") * 10;
        }
        assert_eq!(map["a"], 11);
        assert_eq!(map.values().copied().collect::<Vec<_>>(), vec![11, 5]);
        assert_eq!(map.keys().cloned().collect::<Vec<_>>(), vec!["a", "b"]);
    }

    #[test]
    #[should_panic(expected = "no entry for the key")]
    fn indexing_a_missing_key_panics() {
        let map: VecMap<String, i32> = VecMap::new();
        let _ = map["a"];
    }
}
