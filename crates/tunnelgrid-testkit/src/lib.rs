//! Fixtures shared by the tests of the tunnelgrid crates. A dev-dependency only: nothing in a
//! library or the command line may use it.
//!
//! - [`dense`]: independent dense references for resistor networks (LU solve, a network's
//!   current between two electrodes, a lattice's network built and contracted on its own).
//! - [`lattices`]: presets on other lattices, and their model, bond parameters and CPU masks.
//! - [`rng`]: the one seeded generator the tests draw random networks and vectors from.
//! - [`assert_rel`]: a relative comparison that says what it compared.
#![warn(missing_docs)]

pub mod dense;
pub mod lattices;
pub mod rng;

/// Asserts |`actual` − `expected`| ≤ `tolerance`·|`expected`| (an `expected` of 0 demands an
/// exact 0), naming `what` and both values when it fails.
#[track_caller]
pub fn assert_rel(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let scale = expected.abs().max(1e-300);
    assert!(
        (actual - expected).abs() <= tolerance * scale,
        "{what}: {actual:.12e} vs {expected:.12e} (relative {:.3e} > {tolerance:.0e})",
        (actual - expected).abs() / scale
    );
}
