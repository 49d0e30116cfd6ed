//! Shared views of u32 arrays for passes where tasks read words that other tasks own.

use std::sync::atomic::{AtomicU32, AtomicU64};

/// Views an exclusively borrowed u32 slice as atomics, so parallel tasks may read each other's
/// words (relaxed loads and stores compile to plain moves on x86 and ARM).
pub fn as_atomic(words: &mut [u32]) -> &[AtomicU32] {
    // SAFETY: AtomicU32 has the same size and bit validity as u32 and an alignment equal to its
    // size, which u32 also has on every target Rust supports with 32-bit atomics (checked below).
    // The &mut borrow guarantees no other non-atomic access exists while the view lives.
    const _: () = assert!(std::mem::align_of::<u32>() == std::mem::align_of::<AtomicU32>());
    unsafe { &*(words as *mut [u32] as *const [AtomicU32]) }
}

/// The same view of a u64 slice (f64 values are stored through it as their bits).
pub fn as_atomic_u64(words: &mut [u64]) -> &[AtomicU64] {
    // SAFETY: as for `as_atomic`: AtomicU64 has the size and bit validity of u64, and on the
    // targets where it exists the alignment too (checked below); the &mut borrow is exclusive.
    const _: () = assert!(std::mem::align_of::<u64>() == std::mem::align_of::<AtomicU64>());
    unsafe { &*(words as *mut [u64] as *const [AtomicU64]) }
}
