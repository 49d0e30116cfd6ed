//! The occupation order of a sample: a Fisher–Yates shuffle drawn from the project's hash.
//!
//! The order is part of the results (a seed names a sample), so the draws and the swaps are
//! exactly those of the plain loop in [`shuffled_order_plain`]. What is faster: step i's swap
//! partner j depends only on (seed, i), never on the array, so the draws of a batch of steps are
//! computed first and their targets prefetched; the swaps, which miss the cache at random once
//! the order outgrows it, then find their words on the way.

use super::prefetch;
use tunnelgrid_model::hash::{StreamKey, STREAM_SWEEP_ORDER};

/// Steps whose draws are computed (and targets prefetched) ahead of their swaps.
const BATCH: usize = 32;

/// The swap partner j ∈ [0, i] of step i: a 64-bit draw from two streams, reduced by
/// multiplication (the bias of the reduction is below 2^−32).
#[inline(always)]
fn partner(high: StreamKey, low: StreamKey, i: u64) -> usize {
    let draw = ((high.hash(i) as u64) << 32) | low.hash(i) as u64;
    ((draw as u128 * (i as u128 + 1)) >> 64) as usize
}

/// Fills `order` with the shuffled 0..n_total of `seed`.
pub fn shuffled_order(n_total: u32, seed: u64, order: &mut Vec<u32>) {
    order.clear();
    order.extend(0..n_total);
    let high = StreamKey::new(seed, STREAM_SWEEP_ORDER);
    let low = StreamKey::new(seed, STREAM_SWEEP_ORDER + 1);
    let mut partners = [0usize; BATCH];
    // Steps i = n − 1 down to 1, a batch at a time.
    let mut top = n_total as u64;
    while top > 1 {
        let count = BATCH.min(top as usize - 1);
        for (t, slot) in partners[..count].iter_mut().enumerate() {
            let j = partner(high, low, top - 1 - t as u64);
            prefetch(&order[j]);
            *slot = j;
        }
        for (t, &j) in partners[..count].iter().enumerate() {
            order.swap(top as usize - 1 - t, j);
        }
        top -= count as u64;
    }
}

/// The definition: the same shuffle without batching (kept for the test that pins the order).
pub fn shuffled_order_plain(n_total: u32, seed: u64, order: &mut Vec<u32>) {
    order.clear();
    order.extend(0..n_total);
    let high = StreamKey::new(seed, STREAM_SWEEP_ORDER);
    let low = StreamKey::new(seed, STREAM_SWEEP_ORDER + 1);
    for i in (1..n_total as u64).rev() {
        order.swap(i as usize, partner(high, low, i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_shuffle_is_the_plain_one() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for n in [0u32, 1, 2, 3, 31, 32, 33, 64, 65, 1000, 4097] {
            for seed in [0u64, 7, u64::MAX] {
                shuffled_order(n, seed, &mut a);
                shuffled_order_plain(n, seed, &mut b);
                assert_eq!(a, b, "n = {n}, seed = {seed}");
            }
        }
    }

    /// The first entries of seed 1's order of 1000, as the shuffle of issue 7 drew them: results
    /// of record depend on this order staying what it was.
    #[test]
    fn order_of_record_is_pinned() {
        let mut a = Vec::new();
        shuffled_order(1000, 1, &mut a);
        assert_eq!(&a[..8], &PINNED);
    }

    const PINNED: [u32; 8] = [24, 44, 193, 35, 880, 103, 30, 351];
}
