//! Stable sorting through one compiled copy of the standard sort.
//!
//! `slice::sort_by` is generic over the element and the comparison, so every call site with its
//! own item type or closure carries its own copy of the sort (several kilobytes each in the
//! browser build). Here the sort runs once, over indices with a `&dyn` comparison; only the
//! small step that moves the items into their new order is generic.

use std::cmp::Ordering;

/// The indices `0..len` sorted stably by `cmp` (items that compare equal keep their order).
///
/// A natural merge sort: the ascending runs already in the input are found first and then
/// merged pairwise, so input made of a few sorted runs (the usual case here) costs little.
pub fn stable_order(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    // Where each run starts, then `len`.
    let mut runs = vec![0];
    for i in 1..len {
        if cmp(i - 1, i) == Ordering::Greater {
            runs.push(i);
        }
    }
    runs.push(len);
    while runs.len() > 2 {
        let mut merged = Vec::with_capacity(len);
        let mut next_runs = vec![0];
        for pair in runs.windows(3).step_by(2) {
            let (mid, end) = (pair[1], pair[2]);
            let (mut a, mut b) = (pair[0], mid);
            while a < mid && b < end {
                // Ties take the left run first: that keeps the sort stable.
                if cmp(order[b], order[a]) == Ordering::Less {
                    merged.push(order[b]);
                    b += 1;
                } else {
                    merged.push(order[a]);
                    a += 1;
                }
            }
            merged.extend_from_slice(order.get(a..mid).unwrap_or_default());
            merged.extend_from_slice(order.get(b..end).unwrap_or_default());
            next_runs.push(end);
        }
        // An odd run out keeps its place at the end.
        if runs.len() % 2 == 0 {
            let last = runs.iter().rev().nth(1).map_or(len, |&start| start);
            merged.extend_from_slice(order.get(last..).unwrap_or_default());
            next_runs.push(len);
        }
        order = merged;
        runs = next_runs;
    }
    order
}

/// Sorts `list` stably by `cmp`, as `list.sort_by(cmp)` does.
pub fn sort_by<T>(list: &mut Vec<T>, cmp: &dyn Fn(&T, &T) -> Ordering) {
    if list.len() < 2 {
        return;
    }
    let order = stable_order(list.len(), &|a, b| compare_at(list, a, b, cmp));
    reorder(list, order);
}

/// Sorts `list` stably by `cmp` and keeps one item of each run of equal items: the last of the
/// run when `keep_last`, else the first.
pub fn sort_dedup<T>(list: &mut Vec<T>, cmp: &dyn Fn(&T, &T) -> Ordering, keep_last: bool) {
    let Some((order, kept)) =
        unique_order(list.len(), &|a, b| compare_at(list, a, b, cmp), keep_last)
    else {
        return;
    };
    reorder(list, order);
    list.truncate(kept);
}

/// `cmp` of the items at indices `a` and `b` of `list`. The sorts only ask about indices of the
/// list; any other pair compares equal rather than panicking.
fn compare_at<T>(list: &[T], a: usize, b: usize, cmp: &dyn Fn(&T, &T) -> Ordering) -> Ordering {
    match (list.get(a), list.get(b)) {
        (Some(a), Some(b)) => cmp(a, b),
        _ => Ordering::Equal,
    }
}

/// The stable order of `0..len` by `cmp` with the kept item of each run of equal items (see
/// [`sort_dedup`]) in front, in order, and the others behind; and how many are kept. `None` when
/// the items are already strictly increasing (also when there are fewer than two): nothing to
/// move or drop.
fn unique_order(
    len: usize,
    cmp: &dyn Fn(usize, usize) -> Ordering,
    keep_last: bool,
) -> Option<(Vec<usize>, usize)> {
    if (1..len).all(|i| cmp(i - 1, i) == Ordering::Less) {
        return None;
    }
    let order = stable_order(len, cmp);
    let mut kept = Vec::with_capacity(len);
    let mut dropped = Vec::new();
    for (k, &index) in order.iter().enumerate() {
        let other = if keep_last {
            order.get(k + 1)
        } else {
            k.checked_sub(1).and_then(|before| order.get(before))
        };
        if other.is_some_and(|&other| cmp(index, other) == Ordering::Equal) {
            dropped.push(index);
        } else {
            kept.push(index);
        }
    }
    let count = kept.len();
    kept.extend(dropped);
    Some((kept, count))
}

/// Puts `list` in `order`, a permutation of its indices (as [`stable_order`] returns): the item
/// at `order[0]` first, and so on.
// A `Vec`, not a slice, is what callers hold and what this has always taken.
#[allow(clippy::ptr_arg)]
pub fn reorder<T>(list: &mut Vec<T>, order: Vec<usize>) {
    debug_assert_eq!(
        order.len(),
        list.len(),
        "order is not a permutation of the list"
    );
    // `permute` only swaps indices of the list; the check lets the swap go without its own.
    permute(order, &mut |a, b| {
        if a < list.len() && b < list.len() {
            list.swap(a, b);
        }
    });
}

/// Carries out the permutation `order` (position `k` gets the item at `order[k]`) as a series of
/// `swap(a, b)` calls, one cycle of the permutation after the other.
fn permute(mut order: Vec<usize>, swap: &mut dyn FnMut(usize, usize)) {
    for start in 0..order.len() {
        // Along a cycle, the item first at `start` travels forward one swap at a time while each
        // position it leaves receives its final item; a visited position points at itself.
        let mut pos = start;
        while let Some(slot) = order.get_mut(pos) {
            let next = std::mem::replace(slot, pos);
            if next == start || next == pos {
                break;
            }
            swap(pos, next);
            pos = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_like_the_standard_stable_sort(items in proptest::collection::vec((0u8..6, any::<u16>()), 0..80)) {
            // Sorted by the first field only: equal keys must keep their input order.
            let mut expected = items.clone();
            expected.sort_by_key(|a| a.0);
            let mut ours = items;
            sort_by(&mut ours, &|a, b| a.0.cmp(&b.0));
            prop_assert_eq!(ours, expected);
        }

        #[test]
        fn sort_dedup_keeps_the_first_or_last_of_each_run(
            items in proptest::collection::vec((0u8..8, any::<u16>()), 0..60),
            keep_last in any::<bool>(),
        ) {
            let mut expected = items.clone();
            expected.sort_by_key(|a| a.0);
            let mut runs: Vec<(u8, u16)> = Vec::new();
            for item in expected {
                match runs.last_mut() {
                    Some(last) if last.0 == item.0 => {
                        if keep_last {
                            *last = item;
                        }
                    }
                    _ => runs.push(item),
                }
            }
            let mut ours = items;
            sort_dedup(&mut ours, &|a, b| a.0.cmp(&b.0), keep_last);
            prop_assert_eq!(ours, runs);
        }

        #[test]
        fn stable_order_matches_the_standard_stable_sort(
            keys in proptest::collection::vec(0u8..12, 0..300),
            presorted in 0usize..300,
        ) {
            // A sorted prefix of any length, then arbitrary keys: runs of every shape.
            let mut keys = keys;
            let cut = presorted.min(keys.len());
            keys[..cut].sort_unstable();
            let mut expected: Vec<usize> = (0..keys.len()).collect();
            expected.sort_by_key(|&i| keys[i]);
            prop_assert_eq!(stable_order(keys.len(), &|a, b| keys[a].cmp(&keys[b])), expected);
        }

        #[test]
        fn reorder_takes_each_item_from_its_index(
            order in (0usize..40).prop_flat_map(|n| Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        ) {
            let list: Vec<String> = (0..order.len()).map(|i| format!("item {i}")).collect();
            let expected: Vec<String> = order.iter().map(|&i| list[i].clone()).collect();
            let mut ours = list;
            reorder(&mut ours, order);
            prop_assert_eq!(ours, expected);
        }
    }

    #[test]
    fn order_of_indices_is_stable() {
        let keys = [3, 1, 3, 0, 1];
        assert_eq!(
            stable_order(keys.len(), &|a, b| keys[a].cmp(&keys[b])),
            vec![3, 1, 4, 0, 2]
        );
    }

    #[test]
    fn reorder_puts_items_in_the_given_order() {
        let mut list = vec!["a", "b", "c", "d"];
        reorder(&mut list, vec![2, 0, 3, 1]);
        assert_eq!(list, ["c", "a", "d", "b"]);
    }
}
