//! One stable sort for every list the engine orders.
//!
//! `slice::sort_by` is instantiated for each element type and comparison,
//! about 7 KB of module code each time. Here only a list of positions is
//! sorted, always with the same comparison type (`&dyn Fn`), and the items
//! are then moved into that order: the order is exactly the one
//! `slice::sort_by` gives (stable, equal items keep their order).

use std::cmp::Ordering;

/// Sorts `items` stably by `compare`, like `slice::sort_by`.
pub fn sort_by<T>(items: &mut [T], compare: impl Fn(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let mut order = {
        let items = &*items;
        positions(items.len(), &|a, b| match (items.get(a), items.get(b)) {
            (Some(a), Some(b)) => compare(a, b),
            _ => Ordering::Equal,
        })
    };
    permute(items, &mut order);
}

/// Sorts `items` stably by the key `key` gives each, like
/// `slice::sort_by_key`.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `items` stably in their natural order, like `slice::sort`.
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// The positions `0..len` in the stable order `compare` gives them.
#[inline(never)]
fn positions(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|a, b| compare(*a, *b));
    order
}

/// Moves `items` so that position `p` holds the item that was at
/// `order[p]`, following each cycle of the permutation with swaps; `order`
/// is left as the identity.
fn permute<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        let mut current = start;
        while let Some(slot) = order.get_mut(current) {
            let next = std::mem::replace(slot, current);
            if next == start || next == current {
                break;
            }
            items.swap(current, next);
            current = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so the test needs no crate.
    fn numbers(seed: u64, count: usize) -> Vec<u64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                state >> 33
            })
            .collect()
    }

    #[test]
    // `slice::sort_by` is the reference here, whatever clippy prefers.
    #[allow(clippy::unnecessary_sort_by)]
    fn the_order_is_the_standard_stable_order() {
        for count in [0, 1, 2, 3, 7, 20, 21, 64, 500] {
            for seed in 0..20 {
                // Few distinct keys, so equal keys are common; the second
                // field tells equal keys apart, to see stability.
                let items: Vec<(u64, usize)> = numbers(seed, count)
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| (n % 5, i))
                    .collect();
                let mut expected = items.clone();
                expected.sort_by_key(|item| item.0);
                let mut got = items.clone();
                sort_by_key(&mut got, |item| item.0);
                assert_eq!(got, expected, "count {count}, seed {seed}");

                let mut expected = items.clone();
                expected.sort_by(|a, b| b.0.cmp(&a.0));
                let mut got = items.clone();
                sort_by(&mut got, |a, b| b.0.cmp(&a.0));
                assert_eq!(got, expected, "count {count}, seed {seed}");

                let mut expected = items.clone();
                expected.sort();
                let mut got = items;
                sort(&mut got);
                assert_eq!(got, expected, "count {count}, seed {seed}");
            }
        }
    }

    #[test]
    fn strings_move_without_copies() {
        let mut names: Vec<String> = ["pear", "apple", "fig", "apple", "kiwi"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sort(&mut names);
        assert_eq!(names, ["apple", "apple", "fig", "kiwi", "pear"]);
    }
}
