//! The matrices the V-cycle reads: the fine level is the CG's own Laplacian (f64), and every
//! coarse level is kept with its conductances rounded to f32 ([`Compact`]).
//!
//! The first coarse level is the largest matrix of the whole solve (about 25 entries a row
//! against the fine level's 4: at 256³ on bond percolation, 82 million entries against 60), so
//! storing its conductances as f32 takes 330 MB off the solve's peak memory there (5.44 →
//! 5.17 GiB), which multigrid has to keep within 2.5× the Jacobi path's. The time did not
//! change measurably (the sweeps are not bound by the bytes of the conductances).
//!
//! A preconditioner only steers CG, whose residual is the fine f64 one, so rounding the coarse
//! matrices changes the answer not at all, and the iterations did not change (15 at 256³,
//! p = 0.6). The rounded matrix is as symmetric as before but for the rare entry whose two
//! halves (summed in different orders by the Galerkin product) round apart, by one part in
//! 10⁷, and its Gauss–Seidel smoothing stays convergent: M + Mᵀ − Ã is the positive diagonal D.

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

/// A coarse level with f32 conductances (its diagonal stays f64).
#[derive(Debug, Default)]
pub(crate) struct Compact {
    diagonal: Vec<f64>,
    row_start: Vec<usize>,
    columns: Vec<u32>,
    conductances: Vec<f32>,
}

impl Compact {
    /// The level `a` with its conductances rounded to nearest; `a`'s f64 conductances are
    /// freed as soon as they are copied.
    pub fn new(a: Laplacian) -> Self {
        let Laplacian {
            diagonal,
            row_start,
            columns,
            conductances,
        } = a;
        let rounded = conductances.iter().map(|&g| g as f32).collect();
        drop(conductances);
        Self {
            diagonal,
            row_start,
            columns,
            conductances: rounded,
        }
    }

    /// Stored off-diagonal entries.
    #[cfg(test)]
    pub fn entries(&self) -> usize {
        self.columns.len()
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
        &self.conductances
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
}
