//! A finite-size-scaling study's plan (sizes and samples per size), validated, with errors
//! that name the flag or keyword the values came from.

use crate::spec::Names;
use anyhow::{bail, ensure, Result};

/// The sizes of a study: strictly ascending, each in [4, 1024] cells.
pub fn study_sizes(sizes: &[u32], names: Names) -> Result<Vec<u32>> {
    let what = names.of("sizes");
    ensure!(!sizes.is_empty(), "{what}: give at least one size");
    ensure!(
        sizes.windows(2).all(|w| w[0] < w[1]),
        "{what}: give distinct sizes in ascending order, got {sizes:?}"
    );
    let sorted = sizes.to_vec();
    for &s in &sorted {
        ensure!(
            (4..=1024).contains(&s),
            "{what}: each size must be in [4, 1024] cells, got {s}"
        );
    }
    Ok(sorted)
}

/// One sample count per size from the samples asked for (a single number applies to every
/// size), each in [2, 10^7].
pub fn samples_per_size(samples: &[u64], sizes: &[u32], names: Names) -> Result<Vec<u64>> {
    let what = names.of("samples");
    for &n in samples {
        ensure!(
            (2..=10_000_000).contains(&n),
            "{what}: each count must be in [2, 10000000], got {n}"
        );
    }
    match samples.len() {
        1 => Ok(vec![samples[0]; sizes.len()]),
        n if n == sizes.len() => Ok(samples.to_vec()),
        n => bail!(
            "{what}: give one count or one per size ({} sizes), got {n}",
            sizes.len()
        ),
    }
}
