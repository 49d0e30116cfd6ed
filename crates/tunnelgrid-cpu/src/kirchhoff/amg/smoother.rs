//! Gauss–Seidel sweeps in fixed blocks of rows (hybrid Gauss–Seidel, as hypre's): inside a block
//! the rows are relaxed in order with the newest values, and between blocks with the values of
//! before the sweep. The blocks run in parallel, yet the result depends only on the fixed block
//! size, never on the thread count. A forward-then-backward pair before the coarse correction
//! and the same pair after it make the V-cycle a symmetric preconditioner, as CG needs.
//!
//! Every level's rows are ordered once ([`split_rows`]): the entries of the row's block before
//! it, then those of other blocks, then those of its block after it. A sweep reads the values
//! of before from one vector and writes the new ones to another, so each row is two
//! contiguous ranges with no test per entry: going forward, the first range (relaxed already)
//! is read from the new vector and the rest from the old; going backward, the last range. The
//! two vectors swap roles from sweep to sweep, so no sweep copies x (at 256³, p = 0.6, the 15
//! iterations took 15.0–15.1 s against 15.4–16.0 s with a copy per sweep, in interleaved runs).
//! The first sweep of a V-cycle starts from zero, so it reads no values of before at all.

use super::compact::Rows;
use rayon::prelude::*;
use tunnelgrid_host::amg::Laplacian;

/// Rows per block: large enough that most couplings of a lattice row stay inside a block (and
/// so see Gauss–Seidel's newest values), small enough for many blocks per thread.
pub(crate) const BLOCK: usize = 65536;

/// A level's matrix, its rows ordered by [`split_rows`], with the reciprocals of its diagonal
/// (which the sweeps multiply by: a division per row would sit in the chain of dependent rows)
/// and where each row's entries of its own block end and start again (`split_rows`).
pub(crate) struct Level<'a, M: Rows> {
    pub a: &'a M,
    pub inv_diag: &'a [f64],
    pub split: &'a [Split],
}

/// Where a row's entries change part, counted from the row's first entry: `[earlier, later)`
/// holds its entries in other blocks, `..earlier` those of its block before it, `later..` those
/// after it.
pub(crate) type Split = [u32; 2];

/// The reciprocals of a level's diagonal.
pub(crate) fn inverse_diagonal(diagonal: &[f64]) -> Vec<f64> {
    diagonal.par_iter().map(|d| 1.0 / d).collect()
}

/// Orders every row's entries: those of its block before it, those of other blocks, those of
/// its block after it, each part in its order of before; returns where the parts meet. The
/// matrix is the same, only its rows are summed in another (fixed) order.
///
/// A sweep that had to ask of every entry whether it lies inside the block (and whether it
/// was relaxed yet) spent more time asking than summing: at 128³ on bond percolation, 13 ms
/// against 6 ms a sweep on the first coarse level (24 entries a row), 14 against 12 on the
/// fine level.
pub(crate) fn split_rows(a: &mut Laplacian) -> Vec<Split> {
    let mut split = vec![[0u32; 2]; a.len()];
    // Each block's entries as disjoint slices, to order the blocks in parallel.
    let mut blocks = Vec::new();
    let (mut columns, mut conductances) = (&mut a.columns[..], &mut a.conductances[..]);
    for (block, splits) in split.chunks_mut(BLOCK).enumerate() {
        let first = block * BLOCK;
        let entries = a.row_start[first + splits.len()] - a.row_start[first];
        let (these, rest) = columns.split_at_mut(entries);
        let (values, rest_values) = conductances.split_at_mut(entries);
        blocks.push((first, splits, these, values));
        (columns, conductances) = (rest, rest_values);
    }
    let row_start = &a.row_start;
    blocks
        .into_par_iter()
        .for_each(|(first, splits, columns, conductances)| {
            let within = first..first + splits.len();
            let offset = row_start[first];
            // Each entry of the row with its part: 0 in the block before row i, 1 in another
            // block, 2 in the block after it.
            let mut row: Vec<(u32, f64, usize)> = Vec::new();
            for (k, split) in splits.iter_mut().enumerate() {
                let i = first + k;
                let range = row_start[i] - offset..row_start[i + 1] - offset;
                row.clear();
                let mut count = [0usize; 3];
                for (&j, &g) in columns[range.clone()]
                    .iter()
                    .zip(&conductances[range.clone()])
                {
                    // An entry of the row's own node (no level holds one: the products fold
                    // them into the diagonal) would count as another block's, read from the
                    // old values, never from a new slot not yet written.
                    let j = j as usize;
                    let part = if !within.contains(&j) || j == i {
                        1
                    } else if j < i {
                        0
                    } else {
                        2
                    };
                    count[part] += 1;
                    row.push((j as u32, g, part));
                }
                // A stable partition: each entry goes to the next place of its part.
                let mut next = [
                    range.start,
                    range.start + count[0],
                    range.start + count[0] + count[1],
                ];
                for &(j, g, part) in &row {
                    let e = &mut next[part];
                    (columns[*e], conductances[*e]) = (j, g);
                    *e += 1;
                }
                *split = [count[0] as u32, (count[0] + count[1]) as u32];
            }
        });
    split
}

/// One sweep, forward or backward in each block, from the values `old` to `new`: row i becomes
/// D⁻¹(b − Σ c·x) with x the new values of the rows of its block relaxed before it and the old
/// values of all others. Each row's entries are summed in their stored order.
fn sweep<const FORWARD: bool, M: Rows>(
    level: &Level<'_, M>,
    b: &[f64],
    old: &[f64],
    new: &mut [f64],
) {
    let Level { a, inv_diag, split } = *level;
    let (row_start, all_columns, all_conductances) = (a.row_start(), a.columns(), a.conductances());
    new.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(block, nc)| {
            let first = block * BLOCK;
            let len = nc.len();
            let mut relax = |k: usize| {
                let i = first + k;
                let (start, end) = (row_start[i], row_start[i + 1]);
                // Forward, the entries up to `earlier` were relaxed; backward, those from `later`.
                let cut = start + split[i][if FORWARD { 0 } else { 1 }] as usize;
                let (columns, conductances) =
                    (&all_columns[start..end], &all_conductances[start..end]);
                let (head, tail) = columns.split_at(cut - start);
                let (head_g, tail_g) = conductances.split_at(cut - start);
                let mut off = 0.0;
                if FORWARD {
                    for (&j, &g) in head.iter().zip(head_g) {
                        off += g.into() * nc[j as usize - first];
                    }
                    for (&j, &g) in tail.iter().zip(tail_g) {
                        off += g.into() * old[j as usize];
                    }
                } else {
                    for (&j, &g) in head.iter().zip(head_g) {
                        off += g.into() * old[j as usize];
                    }
                    for (&j, &g) in tail.iter().zip(tail_g) {
                        off += g.into() * nc[j as usize - first];
                    }
                }
                nc[k] = (b[i] + off) * inv_diag[i];
            };
            if FORWARD {
                (0..len).for_each(&mut relax);
            } else {
                (0..len).rev().for_each(&mut relax);
            }
        });
}

/// The forward sweep from x = 0 (x's values on entry are not read): couplings between blocks
/// and to rows not yet relaxed read zero, so only a row's entries of its block before it are
/// summed, from the block itself.
fn forward_from_zero<M: Rows>(level: &Level<'_, M>, b: &[f64], x: &mut [f64]) {
    let Level { a, inv_diag, split } = *level;
    let (row_start, columns, conductances) = (a.row_start(), a.columns(), a.conductances());
    x.par_chunks_mut(BLOCK).enumerate().for_each(|(block, xc)| {
        let first = block * BLOCK;
        for k in 0..xc.len() {
            let i = first + k;
            let start = row_start[i];
            let earlier = start + split[i][0] as usize;
            let mut off = 0.0;
            for (&j, &g) in columns[start..earlier]
                .iter()
                .zip(&conductances[start..earlier])
            {
                off += g.into() * xc[j as usize - first];
            }
            xc[k] = (b[i] + off) * inv_diag[i];
        }
    });
}

/// Rows per task of the residual.
const CHUNK: usize = 4096;

/// r = b − A·x, each row summed in its stored order (as `Laplacian::residual` does).
pub(crate) fn residual<M: Rows>(a: &M, b: &[f64], x: &[f64], r: &mut [f64]) {
    let (diagonal, row_start) = (a.diagonal(), a.row_start());
    let (columns, conductances) = (a.columns(), a.conductances());
    r.par_chunks_mut(CHUNK).enumerate().for_each(|(c, rc)| {
        for (k, ri) in rc.iter_mut().enumerate() {
            let i = c * CHUNK + k;
            let range = row_start[i]..row_start[i + 1];
            let mut off = 0.0;
            for (&j, &g) in columns[range.clone()].iter().zip(&conductances[range]) {
                off += g.into() * x[j as usize];
            }
            *ri = b[i] - (diagonal[i] * x[i] - off);
        }
    });
}

/// The smoothing before the coarse correction, from x = 0 (x's values on entry are not read):
/// one symmetric pair, a forward then a backward sweep (pyamg's `symmetric` Gauss–Seidel), the
/// result in x. One forward sweep alone costs half as much but needed a third more CG
/// iterations near the percolation threshold (35 against 26 at 128³, bond percolation at
/// p = 0.27), growing faster with L. `scratch` takes the forward sweep's values.
pub(crate) fn presmooth<M: Rows>(
    level: &Level<'_, M>,
    b: &[f64],
    x: &mut [f64],
    scratch: &mut [f64],
) {
    forward_from_zero(level, b, scratch);
    sweep::<false, M>(level, b, scratch, x);
}

/// `pairs` symmetric pairs from the x given, the result in x (`scratch` holds the values
/// between the two sweeps of a pair).
pub(crate) fn relax<M: Rows>(
    level: &Level<'_, M>,
    b: &[f64],
    x: &mut [f64],
    scratch: &mut [f64],
    pairs: usize,
) {
    for _ in 0..pairs {
        sweep::<true, M>(level, b, x, scratch);
        sweep::<false, M>(level, b, scratch, x);
    }
}

/// The smoothing after it: the same symmetric pair from the corrected x, which is its own
/// adjoint, so the V-cycle stays a symmetric preconditioner.
pub(crate) fn postsmooth<M: Rows>(
    level: &Level<'_, M>,
    b: &[f64],
    x: &mut [f64],
    scratch: &mut [f64],
) {
    relax(level, b, x, scratch, 1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelgrid_host::amg::fixtures::{grid, grid_3d, grid_with};

    /// A level of `a` for the sweeps: its rows split (a copy) and what the sweeps need.
    fn level_of(a: &Laplacian) -> (Laplacian, Vec<f64>, Vec<Split>) {
        let mut split = a.clone();
        let parts = split_rows(&mut split);
        let inv_diag = inverse_diagonal(&split.diagonal);
        (split, inv_diag, parts)
    }

    #[test]
    fn sweeps_converge_to_the_solution() {
        let (a, inv_diag, split) = level_of(&grid(12, 9));
        let n = a.len();
        let b: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
        let norm = |x: &[f64]| {
            let mut r = vec![0.0; n];
            residual(&a, &b, x, &mut r);
            r.iter().map(|v| v * v).sum::<f64>().sqrt()
        };
        let mut x = vec![0.0; n];
        let mut scratch = vec![0.0; n];
        let start = norm(&x);
        let level = Level {
            a: &a,
            inv_diag: &inv_diag,
            split: &split,
        };
        relax(&level, &b, &mut x, &mut scratch, 1000);
        let last = norm(&x);
        assert!(last < 1e-9 * start, "{last} after 2000 sweeps from {start}");
    }

    #[test]
    fn rows_are_split_at_their_block_and_keep_their_entries() {
        // Three blocks (the last one short), couplings across each boundary.
        let a = grid_3d(60, 50, 50);
        assert!(a.len() > 2 * BLOCK);
        let (split, _, parts) = level_of(&a);
        assert_eq!(
            (split.row_start.clone(), split.diagonal.clone()),
            (a.row_start.clone(), a.diagonal.clone())
        );
        let (mut across, mut before_it, mut after_it) = (0, 0, 0);
        for i in 0..a.len() {
            let block = i / BLOCK * BLOCK..(i / BLOCK * BLOCK + BLOCK).min(a.len());
            let range = a.row_start[i]..a.row_start[i + 1];
            let entries = |m: &Laplacian| {
                m.columns[range.clone()]
                    .iter()
                    .zip(&m.conductances[range.clone()])
                    .map(|(&j, &g)| (j, g.to_bits()))
                    .collect::<Vec<_>>()
            };
            let (before, after) = (entries(&a), entries(&split));
            let [earlier, later] = parts[i].map(|p| p as usize);
            // The same entries, each part in its order of before.
            let part = |wanted: &dyn Fn(usize) -> bool| {
                before
                    .iter()
                    .filter(|(j, _)| wanted(*j as usize))
                    .copied()
                    .collect::<Vec<_>>()
            };
            let inside = |j: usize| block.contains(&j);
            assert_eq!(
                after[..earlier],
                part(&|j| inside(j) && j < i)[..],
                "row {i}"
            );
            assert_eq!(after[earlier..later], part(&|j| !inside(j))[..], "row {i}");
            assert_eq!(after[later..], part(&|j| inside(j) && j > i)[..], "row {i}");
            across += later - earlier;
            before_it += earlier;
            after_it += after.len() - later;
        }
        assert!(across > 0 && before_it > 0 && after_it > 0);
    }

    /// Hybrid Gauss–Seidel written plainly: a copy of x before the sweep, then each block in
    /// place in order, reading the copy for rows of other blocks.
    fn reference_sweep(a: &Laplacian, b: &[f64], x: &mut [f64], forward: bool) {
        let before = x.to_vec();
        for first in (0..x.len()).step_by(BLOCK) {
            let last = (first + BLOCK).min(x.len());
            let rows: Vec<usize> = if forward {
                (first..last).collect()
            } else {
                (first..last).rev().collect()
            };
            for i in rows {
                let mut off = 0.0;
                for k in a.row_start[i]..a.row_start[i + 1] {
                    let j = a.columns[k] as usize;
                    let xj = if (first..last).contains(&j) {
                        x[j]
                    } else {
                        before[j]
                    };
                    off += a.conductances[k] * xj;
                }
                x[i] = (b[i] + off) / a.diagonal[i];
            }
        }
    }

    #[test]
    fn sweeps_are_hybrid_gauss_seidel_to_the_bit() {
        // Several blocks with couplings between them, and one block, with conductances that
        // make every rounding show. A diagonal of 8 keeps the reference's division and the
        // sweeps' reciprocal equal; the reference sums the split rows in their order.
        let hash = |i: usize, j: usize| ((i * 2654435761 + j * 40503) % 1000003) as f64 / 1e6;
        for (nx, ny, nz) in [(60, 50, 50), (20, 17, 13)] {
            let mut a = grid_with(nx, ny, nz, |i, j| 0.1 + hash(i, j));
            a.diagonal.iter_mut().for_each(|d| *d = 8.0);
            let (a, inv_diag, split) = level_of(&a);
            let level = Level {
                a: &a,
                inv_diag: &inv_diag,
                split: &split,
            };
            let n = a.len();
            let b: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
            let start: Vec<f64> = (0..n).map(|i| ((i * 31) % 11) as f64 * 0.1).collect();
            let mut expected = start.clone();
            reference_sweep(&a, &b, &mut expected, true);
            reference_sweep(&a, &b, &mut expected, false);
            let (mut x, mut scratch) = (start, vec![0.0; n]);
            relax(&level, &b, &mut x, &mut scratch, 1);
            assert_eq!(x, expected, "{nx}×{ny}×{nz}");
            // From zero (whatever x held): presmooth is the same pair from x = 0.
            let mut expected = vec![0.0; n];
            reference_sweep(&a, &b, &mut expected, true);
            reference_sweep(&a, &b, &mut expected, false);
            presmooth(&level, &b, &mut x, &mut scratch);
            assert_eq!(x, expected, "{nx}×{ny}×{nz} from zero");
        }
    }
}
