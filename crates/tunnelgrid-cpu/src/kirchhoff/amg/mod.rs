//! Smoothed-aggregation algebraic multigrid (Vaněk, Mandel & Brezina 1996), the preconditioner
//! of the f64 CG: the method Edwards, Goodman & Sokal (PRL 61, 1333, 1988) brought to random
//! resistor networks, and the one pyamg and PoreSpy use. It keeps the number of CG iterations
//! nearly independent of the lattice size, where Jacobi's grows like L.
//!
//! Setup builds a hierarchy of ever smaller matrices: each level's nodes are grouped into
//! aggregates ([`aggregate`]), the smoothed prolongator P maps the next level's values back
//! ([`prolongator`]), R = Pᵀ restricts, and the next matrix is the Galerkin product R·A·P
//! ([`sparse`]). Coarsening stops at a few hundred nodes, which are solved exactly
//! ([`coarse`]). One V-cycle is a symmetric Gauss–Seidel pair (forward, then backward), the
//! residual restricted, the V-cycle of the next level, its correction prolongated, and another
//! symmetric pair ([`smoother`]): a symmetric positive definite preconditioner.
//!
//! Everything is reproducible: aggregation runs in node order, the sparse products build each
//! row in a fixed order, and the smoother's blocks are of a fixed size, so the solve gives the
//! same bits whatever the thread count, like the Jacobi path it replaces.

//! Smoothed-aggregation algebraic multigrid as the preconditioner of the f64 CG: the hierarchy
//! is built by `tunnelgrid_host::amg` (aggregation, smoothed prolongator, Galerkin products,
//! dense coarsest factorisation; shared with the GPU solver), and this module applies it. One
//! V-cycle is a symmetric Gauss–Seidel pair (forward, then backward), the residual restricted,
//! the V-cycle of the next level, its correction prolongated, and another symmetric pair
//! ([`smoother`]): a symmetric positive definite preconditioner.
//!
//! Everything is reproducible: the hierarchy is the same bits on every run, and the smoother's
//! blocks are of a fixed size, so the solve gives the same bits whatever the thread count, like
//! the Jacobi path.

// The kernels index several arrays by one node number at once; range loops say that plainest.
#![allow(clippy::needless_range_loop)]

mod compact;
mod smoother;

use compact::{Compact, CompactCsr, Rows};
use smoother::{inverse_diagonal, split_rows, Level, Split};
use tunnelgrid_host::amg::{Bottom, Hierarchy, Laplacian};

/// The last level is solved by this many symmetric sweeps instead, should it stay too large
/// to factorise (coarsening stalled).
const STALLED_SWEEPS: usize = 20;

/// Vectors of one level, kept between V-cycles so a solve allocates nothing per iteration.
#[derive(Debug, Default)]
struct Work {
    b: Vec<f64>,
    x: Vec<f64>,
    /// The sweeps' other vector (each sweep reads one and writes the other), and between the
    /// smoothing down and the restriction the residual: the two are never needed at once, and
    /// on the fine level one vector less is 8 bytes a node of the solve's peak memory.
    scratch: Vec<f64>,
}

impl Work {
    fn new(n: usize) -> Self {
        Self {
            b: vec![0.0; n],
            x: vec![0.0; n],
            scratch: vec![0.0; n],
        }
    }
}

/// The multigrid hierarchy of one fine matrix with the V-cycle's work vectors; the caller keeps
/// the fine matrix (its rows ordered for the sweeps by [`Amg::new`]) and passes it to
/// [`Amg::precondition`] (it is not copied).
#[derive(Debug)]
pub(crate) struct Amg {
    levels: Levels,
    /// work[l] for every level; level 0 uses only its `scratch`.
    work: Vec<Work>,
}

/// The hierarchy with what the sweeps need of each level.
#[derive(Debug)]
struct Levels {
    /// How the coarsest level is solved.
    bottom: Bottom,
    /// The matrices of levels 1, 2, …, with f32 conductances (`compact`).
    coarse: Vec<Compact>,
    /// prolongators[l] goes from level l + 1 to level l, with f32 values.
    prolongators: Vec<CompactCsr>,
    /// restrictions[l] goes from level l to level l + 1 (Pᵀ, rounded alike).
    restrictions: Vec<CompactCsr>,
    /// inv_diag[l]: the reciprocals of level l's diagonal, for the sweeps.
    inv_diag: Vec<Vec<f64>>,
    /// split[l]: where each row's entries of its own block end and start again
    /// (`smoother::split_rows`, which ordered the rows of every level).
    split: Vec<Vec<Split>>,
}

impl Amg {
    /// Builds the hierarchy of `fine`, then orders the rows of every level, `fine` included,
    /// for the sweeps (`smoother::split_rows`: the same matrix, each row summed in another
    /// fixed order).
    ///
    /// The transfers and coarse levels are rounded to f32 in their own memory before the
    /// V-cycle's vectors are allocated, so that these take the pages just handed back rather
    /// than fresh ones (`compact`).
    pub fn new(fine: &mut Laplacian) -> Self {
        let Hierarchy {
            transfers,
            coarse: mut levels,
            bottom,
            ..
        } = Hierarchy::new(fine);
        let (prolongators, restrictions) = transfers
            .into_iter()
            .map(|t| (CompactCsr::new(t.p), CompactCsr::new(t.r)))
            .unzip();
        let split = std::iter::once(&mut *fine)
            .chain(levels.iter_mut())
            .map(split_rows)
            .collect();
        let coarse: Vec<Compact> = levels.into_iter().map(Compact::new).collect();
        let inv_diag = std::iter::once(fine.diagonal.as_slice())
            .chain(coarse.iter().map(Rows::diagonal))
            .map(inverse_diagonal)
            .collect();
        let mut work = vec![Work {
            scratch: vec![0.0; fine.len()],
            ..Work::default()
        }];
        work.extend(coarse.iter().map(|a| Work::new(a.diagonal().len())));
        Self {
            levels: Levels {
                bottom,
                coarse,
                prolongators,
                restrictions,
                inv_diag,
                split,
            },
            work,
        }
    }

    /// z = M⁻¹·r by one V-cycle from z = 0 (`fine` is the matrix the hierarchy was built from).
    pub fn precondition(&mut self, fine: &Laplacian, r: &[f64], z: &mut [f64]) {
        let levels = self.levels.coarse.len() + 1;
        if levels == 1 {
            self.solve_bottom(fine, r, z);
            return;
        }
        // Down: smooth, restrict the residual.
        let h = &self.levels;
        {
            let w = &mut self.work[0];
            smoother::presmooth(&h.fine(fine), r, z, &mut w.scratch);
            smoother::residual(fine, r, z, &mut w.scratch);
        }
        for l in 0..levels - 1 {
            let (upper, lower) = self.work.split_at_mut(l + 1);
            let (this, next) = (&upper[l], &mut lower[0]);
            h.restrictions[l].multiply(&this.scratch, &mut next.b);
            if l + 1 < levels - 1 {
                let level = h.coarse(l + 1);
                smoother::presmooth(&level, &next.b, &mut next.x, &mut next.scratch);
                smoother::residual(level.a, &next.b, &next.x, &mut next.scratch);
            }
        }
        // The coarsest level.
        {
            let w = &mut self.work[levels - 1];
            match &h.bottom {
                Bottom::Exact(cholesky) => cholesky.solve(&w.b, &mut w.x),
                Bottom::Sweeps => {
                    let level = h.coarse(levels - 1);
                    smoother::presmooth(&level, &w.b, &mut w.x, &mut w.scratch);
                    smoother::relax(&level, &w.b, &mut w.x, &mut w.scratch, STALLED_SWEEPS - 1);
                }
            }
        }
        // Up: prolongate the correction, smooth again.
        for l in (1..levels - 1).rev() {
            let (upper, lower) = self.work.split_at_mut(l + 1);
            let (this, next) = (&mut upper[l], &lower[0]);
            h.prolongators[l].multiply_add(&next.x, &mut this.x);
            smoother::postsmooth(&h.coarse(l), &this.b, &mut this.x, &mut this.scratch);
        }
        let (upper, lower) = self.work.split_at_mut(1);
        h.prolongators[0].multiply_add(&lower[0].x, z);
        smoother::postsmooth(&h.fine(fine), r, z, &mut upper[0].scratch);
    }

    /// The whole problem fits the bottom: solve it there.
    fn solve_bottom(&mut self, fine: &Laplacian, r: &[f64], z: &mut [f64]) {
        match &self.levels.bottom {
            Bottom::Exact(cholesky) => cholesky.solve(r, z),
            Bottom::Sweeps => {
                let level = self.levels.fine(fine);
                let scratch = &mut self.work[0].scratch;
                smoother::presmooth(&level, r, z, scratch);
                smoother::relax(&level, r, z, scratch, STALLED_SWEEPS - 1);
            }
        }
    }
}

impl Levels {
    /// The fine level: `fine`, its reciprocal diagonal and its rows' splits.
    fn fine<'a>(&'a self, fine: &'a Laplacian) -> Level<'a, Laplacian> {
        Level {
            a: fine,
            inv_diag: &self.inv_diag[0],
            split: &self.split[0],
        }
    }

    /// The same of coarse level l ≥ 1.
    fn coarse(&self, l: usize) -> Level<'_, Compact> {
        Level {
            a: &self.coarse[l - 1],
            inv_diag: &self.inv_diag[l],
            split: &self.split[l],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelgrid_host::amg::fixtures::{grid, grid_3d, grid_with};

    fn dot(x: &[f64], y: &[f64]) -> f64 {
        x.iter().zip(y).map(|(a, b)| a * b).sum()
    }

    /// Runs the V-cycle as a stationary iteration x ← x + M⁻¹(b − A·x) and returns the mean
    /// factor by which each cycle cuts the residual.
    fn convergence_factor(a: &Laplacian, cycles: usize) -> f64 {
        let a = &mut a.clone();
        let mut amg = Amg::new(a);
        let a = &*a;
        let n = a.len();
        let b: Vec<f64> = (0..n).map(|i| ((i * 7919) % 17) as f64 - 8.0).collect();
        let mut x = vec![0.0; n];
        let (mut r, mut z) = (vec![0.0; n], vec![0.0; n]);
        smoother::residual(a, &b, &x, &mut r);
        let start = dot(&r, &r).sqrt();
        for _ in 0..cycles {
            amg.precondition(a, &r, &mut z);
            x.iter_mut().zip(&z).for_each(|(xi, zi)| *xi += zi);
            smoother::residual(a, &b, &x, &mut r);
        }
        (dot(&r, &r).sqrt() / start).powf(1.0 / cycles as f64)
    }

    #[test]
    fn the_v_cycle_is_a_symmetric_positive_preconditioner() {
        let mut a = grid_3d(30, 24, 20);
        let mut amg = Amg::new(&mut a);
        assert!(
            amg.levels.coarse.len() >= 2,
            "{:?}",
            amg.levels
                .coarse
                .iter()
                .map(|c| c.diagonal().len())
                .collect::<Vec<_>>()
        );
        let n = a.len();
        let u: Vec<f64> = (0..n).map(|i| ((i * 31) % 11) as f64 - 5.0).collect();
        let v: Vec<f64> = (0..n).map(|i| ((i * 17) % 7) as f64 - 3.0).collect();
        let (mut mu, mut mv) = (vec![0.0; n], vec![0.0; n]);
        amg.precondition(&a, &u, &mut mu);
        amg.precondition(&a, &v, &mut mv);
        let (uv, vu) = (dot(&mu, &v), dot(&u, &mv));
        assert!((uv - vu).abs() <= 1e-10 * uv.abs().max(1.0), "{uv} vs {vu}");
        assert!(dot(&mu, &u) > 0.0 && dot(&mv, &v) > 0.0);
        // The same bits on a second application (nothing left over in the work vectors).
        let mut again = vec![0.0; n];
        amg.precondition(&a, &u, &mut again);
        assert_eq!(again, mu);
    }

    #[test]
    fn one_v_cycle_cuts_the_residual_whatever_the_size() {
        // A mesh-independent factor is the point of multigrid: Jacobi's would approach 1.
        for n in [12, 24, 40] {
            let factor = convergence_factor(&grid_3d(n, n, n), 8);
            assert!(factor < 0.35, "{n}³: {factor}");
        }
        let factor = convergence_factor(&grid(150, 120), 8);
        assert!(factor < 0.35, "2D: {factor}");
    }

    #[test]
    fn conductances_over_six_decades_converge() {
        let hash = |i: usize, j: usize| ((i * 2654435761 + j * 40503) % 1000003) as f64 / 1000003.0;
        let a = grid_with(28, 28, 28, |i, j| 10f64.powf(-6.0 * hash(i, j)));
        let factor = convergence_factor(&a, 6);
        assert!(factor < 0.9, "{factor}");
    }

    #[test]
    fn a_small_problem_is_solved_on_one_level() {
        let mut a = grid(15, 12);
        let mut amg = Amg::new(&mut a);
        assert!(amg.levels.prolongators.is_empty());
        let b = vec![1.0; a.len()];
        let mut x = vec![0.0; a.len()];
        amg.precondition(&a, &b, &mut x);
        let mut r = vec![0.0; a.len()];
        smoother::residual(&a, &b, &x, &mut r);
        assert!(dot(&r, &r).sqrt() < 1e-10);
    }
}
