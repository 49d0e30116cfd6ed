//! Shared views of u32 arrays for passes where tasks read words that other tasks own.

use std::sync::atomic::AtomicU32;

/// Views an exclusively borrowed u32 slice as atomics, so parallel tasks may read each other's
/// words (relaxed loads and stores compile to plain moves on x86 and ARM).
pub fn as_atomic(words: &mut [u32]) -> &[AtomicU32] {
    // SAFETY: AtomicU32 has the same size and bit validity as u32 and an alignment equal to its
    // size, which u32 also has on every target Rust supports with 32-bit atomics (checked below).
    // The &mut borrow guarantees no other non-atomic access exists while the view lives.
    const _: () = assert!(std::mem::align_of::<u32>() == std::mem::align_of::<AtomicU32>());
    unsafe { &*(words as *mut [u32] as *const [AtomicU32]) }
}
