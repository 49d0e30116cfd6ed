//! The matrices the V-cycle reads: the fine level is the CG's own Laplacian (f64); every
//! coarse level ([`Compact`]) and every transfer ([`CompactCsr`]) is kept with its values
//! rounded to f32, in the memory its f64 values had ([`Rounded`]).
//!
//! The first coarse level is the largest matrix of the whole solve (about 25 entries a row
//! against the fine level's 4: at 256³ on bond percolation, 82 million entries against 60), and
//! the first prolongator and restriction hold 45 million entries each, so f32 values take
//! 330 MB (the level) and 510 MB (all transfers) off the solve's memory, which multigrid has to
//! keep within 2.5× the Jacobi path's. Rounded in place, their memory is handed back before the
//! solve's vectors are allocated, and those take the pages just freed instead of fresh ones: a
//! fresh page costs its first touch (the kernel zeroes it, and a virtual machine's host may have
//! to map it again first, about 2 s per GB of one thread's time on this project's 2-core
//! machine after a pause).
//!
//! A preconditioner only steers CG, whose residual is the fine f64 one, so rounding the coarse
//! matrices and the transfers changes the answer not at all, and the iterations did not change
//! (15 at 256³, p = 0.6). The rounded matrix is as symmetric as before but for the rare entry
//! whose two halves (summed in different orders by the Galerkin product) round apart, by one
//! part in 10⁷, and its Gauss–Seidel smoothing stays convergent: M + Mᵀ − Ã is the positive
//! diagonal D. The restriction stays the exact transpose of the prolongator (each value is
//! rounded alike), so the V-cycle stays symmetric.

use rayon::prelude::*;
use tunnelgrid_host::amg::sparse::Csr;
use tunnelgrid_host::amg::Laplacian;

/// A level matrix as the sweeps and residuals read it, row i being
/// `diagonal[i]·x[i] − Σ conductance·x[column]` over `row_start[i]..row_start[i + 1]`.
pub(crate) trait Rows: Sync {
    /// The stored conductance type, widened to f64 for every sum.
    type G: Copy + Into<f64> + Send + Sync;
    fn diagonal(&self) -> &[f64];
    fn row_start(&self) -> &[usize];
    fn columns(&self) -> &[u32];
    fn conductances(&self) -> &[Self::G];
}

impl Rows for Laplacian {
    type G = f64;
    fn diagonal(&self) -> &[f64] {
        &self.diagonal
    }
    fn row_start(&self) -> &[usize] {
        &self.row_start
    }
    fn columns(&self) -> &[u32] {
        &self.columns
    }
    fn conductances(&self) -> &[f64] {
        &self.conductances
    }
}

/// f64 values rounded to f32, kept in the allocation the f64 values had: value 2m and 2m + 1
/// share the f64 slot m, and the second half of the allocation is handed back.
#[derive(Debug, Default)]
pub(crate) struct Rounded {
    /// Pairs of f32 in f64 slots (the type of the allocation, so that it is freed with the
    /// layout it was allocated with).
    pairs: Vec<f64>,
    len: usize,
}

impl Rounded {
    /// Rounds `values` to nearest, in place, in parallel.
    ///
    /// Slot m takes values 2m and 2m + 1, so the slots are written in ranges [h, 2h) from the
    /// values in [2h, 4h), h = 1, 2, 4, …: each range reads only slots no earlier range wrote,
    /// and writes only slots whose values an earlier range has read.
    pub fn new(mut values: Vec<f64>) -> Self {
        const CHUNK: usize = 1 << 14;
        let len = values.len();
        let slots = len.div_ceil(2);
        let pair = |v: &[f64]| -> f64 {
            let second = v.get(1).map_or(0.0, |&g| g as f32);
            bytemuck::cast([v[0] as f32, second])
        };
        if slots > 0 {
            values[0] = pair(&values[..len.min(2)]);
        }
        let mut h = 1;
        while h < slots {
            let end = (2 * h).min(slots);
            let (written, read) = values.split_at_mut(2 * h);
            written[h..end]
                .par_chunks_mut(CHUNK)
                .zip(read[..(2 * (end - h)).min(len - 2 * h)].par_chunks(2 * CHUNK))
                .for_each(|(slots, values)| {
                    for (slot, v) in slots.iter_mut().zip(values.chunks(2)) {
                        *slot = pair(v);
                    }
                });
            h *= 2;
        }
        values.truncate(slots);
        // A large block shrinks in place (the allocator remaps it), handing back its tail.
        values.shrink_to_fit();
        Self { pairs: values, len }
    }

    /// The rounded values.
    pub fn as_slice(&self) -> &[f32] {
        &bytemuck::cast_slice(&self.pairs)[..self.len]
    }
}

/// A coarse level with f32 conductances (its diagonal stays f64).
#[derive(Debug, Default)]
pub(crate) struct Compact {
    diagonal: Vec<f64>,
    row_start: Vec<usize>,
    columns: Vec<u32>,
    conductances: Rounded,
}

impl Compact {
    /// The level `a` with its conductances rounded to nearest (in their own memory).
    pub fn new(a: Laplacian) -> Self {
        let Laplacian {
            diagonal,
            row_start,
            columns,
            conductances,
        } = a;
        Self {
            diagonal,
            row_start,
            columns,
            conductances: Rounded::new(conductances),
        }
    }

    /// Stored off-diagonal entries.
    #[cfg(test)]
    pub fn entries(&self) -> usize {
        self.columns.len()
    }
}

/// A transfer (prolongator or restriction) with f32 values.
#[derive(Debug, Default)]
pub(crate) struct CompactCsr {
    row_start: Vec<usize>,
    columns: Vec<u32>,
    values: Rounded,
}

/// Rows per task of the products.
const CHUNK: usize = 4096;

impl CompactCsr {
    /// `m` with its values rounded to nearest (in their own memory).
    pub fn new(m: Csr) -> Self {
        Self {
            row_start: m.row_start,
            columns: m.columns,
            values: Rounded::new(m.values),
        }
    }

    /// y = self·x, or y += self·x when `ADD`: each row Σ value·x[column], in f64.
    fn apply<const ADD: bool>(&self, x: &[f64], y: &mut [f64]) {
        let (row_start, columns, values) = (&self.row_start, &self.columns, self.values.as_slice());
        y.par_chunks_mut(CHUNK).enumerate().for_each(|(c, yc)| {
            for (k, yi) in yc.iter_mut().enumerate() {
                let range = row_start[c * CHUNK + k]..row_start[c * CHUNK + k + 1];
                let sum: f64 = columns[range.clone()]
                    .iter()
                    .zip(&values[range])
                    .map(|(&j, &v)| f64::from(v) * x[j as usize])
                    .sum();
                *yi = if ADD { *yi + sum } else { sum };
            }
        });
    }

    /// y = self·x.
    pub fn multiply(&self, x: &[f64], y: &mut [f64]) {
        self.apply::<false>(x, y);
    }

    /// y += self·x.
    pub fn multiply_add(&self, x: &[f64], y: &mut [f64]) {
        self.apply::<true>(x, y);
    }
}

impl Rows for Compact {
    type G = f32;
    fn diagonal(&self) -> &[f64] {
        &self.diagonal
    }
    fn row_start(&self) -> &[usize] {
        &self.row_start
    }
    fn columns(&self) -> &[u32] {
        &self.columns
    }
    fn conductances(&self) -> &[f32] {
        self.conductances.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelgrid_host::amg::fixtures::grid_with;

    #[test]
    fn a_compact_level_keeps_its_rows_and_rounds_its_conductances() {
        let a = grid_with(7, 6, 5, |i, j| 0.1 + ((i * 31 + j * 17) % 97) as f64 / 7.0);
        let compact = Compact::new(a.clone());
        assert_eq!(compact.diagonal(), &a.diagonal[..]);
        assert_eq!(compact.row_start(), &a.row_start[..]);
        assert_eq!(compact.columns(), &a.columns[..]);
        assert_eq!(compact.entries(), a.columns.len());
        for (&g, &r) in a.conductances.iter().zip(compact.conductances()) {
            assert_eq!(r, g as f32);
            assert!((f64::from(r) - g).abs() <= g * 6e-8);
        }
    }

    #[test]
    fn values_are_rounded_in_place_at_every_length() {
        // Lengths around the ranges' powers of two and the chunks of the parallel passes.
        for len in [
            0,
            1,
            2,
            3,
            4,
            5,
            7,
            8,
            9,
            31,
            32,
            33,
            1000,
            (1 << 15) + 3,
            (1 << 16) + 1,
        ] {
            let values: Vec<f64> = (0..len).map(|i| 1.0 + i as f64 / 3.0).collect();
            let rounded = Rounded::new(values.clone());
            assert_eq!(rounded.as_slice().len(), len);
            for (i, (&r, &v)) in rounded.as_slice().iter().zip(&values).enumerate() {
                assert_eq!(r, v as f32, "length {len}, value {i}");
            }
            // The f64 slots left are half the values.
            assert_eq!(rounded.pairs.len(), len.div_ceil(2));
        }
    }

    #[test]
    fn a_compact_transfer_multiplies_as_its_rounded_values_do() {
        let m = Csr {
            cols: 3,
            row_start: vec![0, 2, 2, 5],
            columns: vec![0, 2, 0, 1, 2],
            values: vec![0.1, 1.0 / 3.0, 0.7, -0.25, 2.0 / 7.0],
        };
        let compact = CompactCsr::new(m.clone());
        let x = [1.5, -2.0, 0.25];
        let rounded = |v: f64| f64::from(v as f32);
        let expected = [
            rounded(0.1) * 1.5 + rounded(1.0 / 3.0) * 0.25,
            0.0,
            rounded(0.7) * 1.5 + rounded(-0.25) * -2.0 + rounded(2.0 / 7.0) * 0.25,
        ];
        let mut y = vec![0.0; 3];
        compact.multiply(&x, &mut y);
        assert_eq!(y, expected);
        compact.multiply_add(&x, &mut y);
        assert_eq!(y, expected.map(|e| e + e));
    }
}
