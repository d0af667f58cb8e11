//! The seqs known locally for one conversation, as sorted disjoint ranges with explicit gaps.
//!
//! Gaps are data, not a flag: a pull or a push that lands ahead of what is known leaves a hole
//! that [`SeqRanges::gaps_up_to`] reports until a repair fills it. The set is a pure value: no
//! I/O, no clock; seq 0 ("no seq") is never a member.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::Seq;

/// An inclusive range of seqs, `start..=end`, never empty.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeqRange {
    /// First seq.
    pub start: Seq,
    /// Last seq.
    pub end: Seq,
}

impl SeqRange {
    /// `start..=end`; `None` when empty (`start > end`) or when it would include seq 0.
    pub fn new(start: Seq, end: Seq) -> Option<SeqRange> {
        (start.0 >= 1 && start <= end).then_some(SeqRange { start, end })
    }

    /// The number of seqs.
    pub fn len(&self) -> u64 {
        self.end.0 - self.start.0 + 1
    }

    /// Always false: ranges are never empty (present for API symmetry).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `seq` lies in the range.
    pub fn contains(&self, seq: Seq) -> bool {
        self.start <= seq && seq <= self.end
    }

    /// The seqs, ascending.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Seq> {
        (self.start.0..=self.end.0).map(Seq)
    }
}

impl fmt::Debug for SeqRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.start, self.end)
    }
}

/// A set of seqs (≥ 1) held as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<SeqRange>", into = "Vec<SeqRange>")]
pub struct SeqRanges {
    // Invariant: sorted by start, disjoint, and separated by at least one missing seq.
    ranges: Vec<SeqRange>,
}

impl SeqRanges {
    /// The empty set.
    pub fn new() -> SeqRanges {
        SeqRanges::default()
    }

    /// Adds one seq; seq 0 is ignored.
    pub fn insert(&mut self, seq: Seq) {
        self.insert_range(seq, seq);
    }

    /// Adds `start..=end`, merging with overlapping and adjacent ranges. Empty ranges and seq 0
    /// are ignored.
    pub fn insert_range(&mut self, start: Seq, end: Seq) {
        let start = start.max(Seq(1));
        let Some(mut new) = SeqRange::new(start, end) else {
            return;
        };
        // First range that ends at or after start − 1 (may touch the new one).
        let first = self
            .ranges
            .partition_point(|r| r.end.0.saturating_add(1) < new.start.0);
        // One past the last range that starts at or before end + 1.
        let last = self
            .ranges
            .partition_point(|r| r.start.0 <= new.end.0.saturating_add(1));
        if first < last {
            if let (Some(a), Some(b)) = (self.ranges.get(first), self.ranges.get(last - 1)) {
                new.start = new.start.min(a.start);
                new.end = new.end.max(b.end);
            }
        }
        // The ranges `first..last` become `new`: the first of them is overwritten and the rest
        // removed, or `new` goes in between when it touches none.
        match self.ranges.get_mut(first) {
            Some(slot) if first < last => {
                *slot = new;
                self.ranges.drain(first + 1..last);
            }
            _ => self.ranges.insert(first, new),
        }
    }

    /// Adds every seq of `other`.
    pub fn extend_from(&mut self, other: &SeqRanges) {
        for r in &other.ranges {
            self.insert_range(r.start, r.end);
        }
    }

    /// Removes every seq below `seq` (e.g. after the conversation was cleared).
    pub fn remove_below(&mut self, seq: Seq) {
        self.ranges.retain(|r| r.end >= seq);
        if let Some(first) = self.ranges.first_mut() {
            first.start = first.start.max(seq);
        }
    }

    /// Whether `seq` is in the set.
    pub fn contains(&self, seq: Seq) -> bool {
        let i = self.ranges.partition_point(|r| r.end < seq);
        self.ranges.get(i).is_some_and(|r| r.contains(seq))
    }

    /// Whether every seq of `start..=end` is in the set (true for an empty range).
    pub fn contains_range(&self, start: Seq, end: Seq) -> bool {
        if start > end {
            return true;
        }
        let i = self.ranges.partition_point(|r| r.end < start);
        self.ranges
            .get(i)
            .is_some_and(|r| r.start <= start && end <= r.end)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The number of seqs in the set (saturating).
    pub fn len(&self) -> u64 {
        self.ranges
            .iter()
            .fold(0u64, |n, r| n.saturating_add(r.len()))
    }

    /// The ranges, ascending.
    pub fn ranges(&self) -> &[SeqRange] {
        &self.ranges
    }

    /// Every seq, ascending.
    pub fn iter(&self) -> impl Iterator<Item = Seq> + '_ {
        self.ranges.iter().flat_map(SeqRange::iter)
    }

    /// The smallest seq.
    pub fn min(&self) -> Option<Seq> {
        self.ranges.first().map(|r| r.start)
    }

    /// The largest seq.
    pub fn max(&self) -> Option<Seq> {
        self.ranges.last().map(|r| r.end)
    }

    /// The largest `n` such that `1..=n` is all known; 0 when seq 1 is missing.
    pub fn contiguous_max(&self) -> Seq {
        self.contiguous_end_from(Seq(1)).unwrap_or(Seq::ZERO)
    }

    /// The end of the run of known seqs that contains `seq`, if `seq` is known.
    pub fn contiguous_end_from(&self, seq: Seq) -> Option<Seq> {
        let i = self.ranges.partition_point(|r| r.end < seq);
        self.ranges
            .get(i)
            .filter(|r| r.contains(seq))
            .map(|r| r.end)
    }

    /// The missing ranges within `1..=max`, ascending.
    pub fn gaps_up_to(&self, max: Seq) -> Vec<SeqRange> {
        self.gaps_between(Seq(1), max)
    }

    /// The missing ranges within `from..=to`, ascending.
    pub fn gaps_between(&self, from: Seq, to: Seq) -> Vec<SeqRange> {
        let mut gaps = Vec::new();
        let mut next = from.max(Seq(1));
        for r in &self.ranges {
            if next > to {
                break;
            }
            if r.end < next {
                continue;
            }
            if r.start > next {
                if let Some(gap) = SeqRange::new(next, r.start.prev().min(to)) {
                    gaps.push(gap);
                }
            }
            next = r.end.next();
            if r.end == Seq::MAX {
                return gaps;
            }
        }
        if let Some(gap) = SeqRange::new(next, to) {
            gaps.push(gap);
        }
        gaps
    }
}

impl From<Vec<SeqRange>> for SeqRanges {
    /// Normalises any list of ranges (unsorted, overlapping) into a set.
    fn from(ranges: Vec<SeqRange>) -> SeqRanges {
        let mut set = SeqRanges::new();
        for r in ranges {
            set.insert_range(r.start, r.end);
        }
        set
    }
}

impl From<SeqRanges> for Vec<SeqRange> {
    fn from(set: SeqRanges) -> Vec<SeqRange> {
        set.ranges
    }
}

impl FromIterator<Seq> for SeqRanges {
    fn from_iter<I: IntoIterator<Item = Seq>>(iter: I) -> SeqRanges {
        let mut set = SeqRanges::new();
        for seq in iter {
            set.insert(seq);
        }
        set
    }
}

impl fmt::Debug for SeqRanges {
    /// Reads like [`assert_ranges!`](crate::assert_ranges): `[1..=5] gap [9..=12]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ranges.is_empty() {
            return f.write_str("empty");
        }
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(" gap ")?;
            }
            write!(f, "[{r:?}]")?;
        }
        Ok(())
    }
}

/// Asserts the exact ranges of a [`SeqRanges`]:
/// `assert_ranges!(known, [1..=5] gap [9..=12])`, or `assert_ranges!(known, empty)`.
#[macro_export]
macro_rules! assert_ranges {
    ($value:expr, empty) => {{
        let value: &$crate::ranges::SeqRanges = &$value;
        assert!(value.is_empty(), "expected no seqs, found {:?}", value);
    }};
    ($value:expr, [$s:literal ..= $e:literal] $(gap [$gs:literal ..= $ge:literal])*) => {{
        let value: &$crate::ranges::SeqRanges = &$value;
        let expected: ::std::vec::Vec<$crate::ranges::SeqRange> = ::std::vec![
            $crate::ranges::SeqRange { start: $crate::model::Seq($s), end: $crate::model::Seq($e) },
            $($crate::ranges::SeqRange { start: $crate::model::Seq($gs), end: $crate::model::Seq($ge) },)*
        ];
        assert_eq!(
            value.ranges(),
            expected.as_slice(),
            "seq ranges differ: found {:?}",
            value
        );
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(seqs: &[u64]) -> SeqRanges {
        seqs.iter().map(|&s| Seq(s)).collect()
    }

    #[test]
    fn inserts_merge_adjacent_and_overlapping_ranges() {
        let mut known = set(&[1, 2, 3, 4, 5, 9, 10, 11, 12]);
        assert_ranges!(known, [1..=5] gap [9..=12]);
        known.insert(Seq(7));
        assert_ranges!(known, [1..=5] gap [7..=7] gap [9..=12]);
        known.insert(Seq(6));
        assert_ranges!(known, [1..=7] gap [9..=12]);
        known.insert_range(Seq(3), Seq(20));
        assert_ranges!(known, [1..=20]);
        known.insert(Seq(0));
        assert_ranges!(known, [1..=20]);
        known.insert_range(Seq(30), Seq(25));
        assert_ranges!(known, [1..=20]);
    }

    #[test]
    fn one_insert_can_bridge_many_ranges() {
        let mut known = set(&[2, 4, 6, 8]);
        known.insert_range(Seq(3), Seq(7));
        assert_ranges!(known, [2..=8]);
    }

    #[test]
    fn gaps_and_contiguous_max() {
        let known = set(&[1, 2, 3, 4, 5, 9, 10, 11, 12]);
        assert_eq!(known.contiguous_max(), Seq(5));
        assert_eq!(
            known.gaps_up_to(Seq(15)),
            vec![
                SeqRange::new(Seq(6), Seq(8)).unwrap(),
                SeqRange::new(Seq(13), Seq(15)).unwrap()
            ]
        );
        assert_eq!(
            known.gaps_up_to(Seq(7)),
            vec![SeqRange::new(Seq(6), Seq(7)).unwrap()]
        );
        assert_eq!(known.gaps_up_to(Seq(5)), vec![]);
        assert_eq!(known.gaps_up_to(Seq(0)), vec![]);
        assert!(known.contains(Seq(10)));
        assert!(!known.contains(Seq(7)));
        assert!(known.contains_range(Seq(9), Seq(12)));
        assert!(!known.contains_range(Seq(4), Seq(9)));
        assert_eq!(known.contiguous_end_from(Seq(10)), Some(Seq(12)));
        let late = set(&[4, 5]);
        assert_eq!(late.contiguous_max(), Seq(0));
        assert_eq!(
            late.gaps_up_to(Seq(5)),
            vec![SeqRange::new(Seq(1), Seq(3)).unwrap()]
        );
        assert_ranges!(SeqRanges::new(), empty);
    }

    #[test]
    fn remove_below_trims() {
        let mut known = set(&[1, 2, 3, 7, 8]);
        known.remove_below(Seq(3));
        assert_ranges!(known, [3..=3] gap [7..=8]);
        known.remove_below(Seq(8));
        assert_ranges!(known, [8..=8]);
    }

    #[test]
    fn debug_reads_like_the_macro() {
        assert_eq!(format!("{:?}", set(&[1, 2, 5])), "[1..=2] gap [5..=5]");
    }

    #[test]
    #[should_panic(expected = "seq ranges differ")]
    fn assert_ranges_fails_on_a_difference() {
        assert_ranges!(set(&[1, 2, 3]), [1..=2]);
    }

    fn invariant_holds(known: &SeqRanges) -> bool {
        known
            .ranges()
            .iter()
            .all(|r| r.start.0 >= 1 && r.start <= r.end)
            && known
                .ranges()
                .windows(2)
                .all(|w| w[0].end.0 + 1 < w[1].start.0)
    }

    proptest! {
        #[test]
        fn any_order_and_duplication_gives_the_same_ranges(
            seqs in proptest::collection::vec(1u64..200, 0..120),
            dup in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
            shuffle_seed in any::<u64>(),
        ) {
            let reference: std::collections::BTreeSet<u64> = seqs.iter().copied().collect();
            let mut pushes = seqs.clone();
            for i in &dup {
                if !seqs.is_empty() {
                    pushes.push(seqs[i.index(seqs.len())]);
                }
            }
            // A deterministic Fisher–Yates shuffle driven by the generated seed.
            let mut state = shuffle_seed | 1;
            for i in (1..pushes.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let j = (state % (i as u64 + 1)) as usize;
                pushes.swap(i, j);
            }
            let in_order = set(&seqs);
            let shuffled = set(&pushes);
            prop_assert_eq!(&in_order, &shuffled);
            prop_assert!(invariant_holds(&shuffled));
            let listed: Vec<u64> = shuffled.iter().map(Seq::get).collect();
            let expected: Vec<u64> = reference.iter().copied().collect();
            prop_assert_eq!(listed, expected);
        }

        #[test]
        fn gaps_and_known_partition_one_to_max(
            ranges in proptest::collection::vec((1u64..300, 0u64..20), 0..30),
            max in 0u64..320,
        ) {
            let mut known = SeqRanges::new();
            for (start, len) in ranges {
                known.insert_range(Seq(start), Seq(start + len));
            }
            prop_assert!(invariant_holds(&known));
            let gaps: SeqRanges = known
                .gaps_up_to(Seq(max))
                .into_iter()
                .collect::<Vec<_>>()
                .into();
            for seq in 1..=max {
                let seq = Seq(seq);
                prop_assert!(known.contains(seq) != gaps.contains(seq), "seq {} in both or neither", seq);
            }
            prop_assert!(gaps.max().is_none_or(|m| m <= Seq(max)));
            let contiguous = known.contiguous_max();
            prop_assert!(known.contains_range(Seq(1), contiguous));
            prop_assert!(!known.contains(contiguous.next()));
        }
    }
}
