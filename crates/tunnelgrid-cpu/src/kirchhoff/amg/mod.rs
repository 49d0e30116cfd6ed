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

// The kernels index several arrays by one node number at once; range loops say that plainest.
#![allow(clippy::needless_range_loop)]

mod aggregate;
mod coarse;
mod prolongator;
mod smoother;
mod sparse;

use super::cg::Laplacian;
use coarse::Cholesky;
use sparse::Csr;

/// Strength threshold θ of the aggregation: 0 (every coupling strong) as pyamg's smoothed
/// aggregation does by default.
const STRENGTH_THETA: f64 = 0.0;
/// Coarsening stops at this many nodes; the last level is factorised densely.
const MAX_COARSE: usize = 400;
/// Coarsening stops when a level keeps more than this share of its nodes (a level that barely
/// shrinks costs a sweep and gains nothing).
const MIN_REDUCTION: f64 = 0.85;
/// At most this many levels.
const MAX_LEVELS: usize = 25;
/// The last level is solved by this many symmetric sweeps instead, should it stay too large
/// to factorise (coarsening stalled).
const MAX_DENSE: usize = 3000;
const STALLED_SWEEPS: usize = 20;

/// How the coarsest level is solved.
#[derive(Debug)]
enum Bottom {
    Exact(Cholesky),
    Sweeps,
}

/// Going from one level to the next.
#[derive(Debug)]
struct Transfer {
    /// Prolongator: next level → this one.
    p: Csr,
    /// Restriction R = Pᵀ.
    r: Csr,
}

/// Vectors of one level, kept between V-cycles so a solve allocates nothing per iteration.
#[derive(Debug, Default)]
struct Work {
    b: Vec<f64>,
    x: Vec<f64>,
    r: Vec<f64>,
    scratch: Vec<f64>,
}

impl Work {
    fn new(n: usize) -> Self {
        Self {
            b: vec![0.0; n],
            x: vec![0.0; n],
            r: vec![0.0; n],
            scratch: vec![0.0; n],
        }
    }
}

/// The multigrid hierarchy of one fine matrix, which the caller keeps and passes to
/// [`Amg::precondition`] (it is not copied).
#[derive(Debug)]
pub(crate) struct Amg {
    /// transfers[l] goes from level l to level l + 1.
    transfers: Vec<Transfer>,
    /// Matrices of levels 1, 2, …
    coarse: Vec<Laplacian>,
    bottom: Bottom,
    /// work[l] for every level; level 0 uses only its `r` and `scratch`.
    work: Vec<Work>,
}

/// What a hierarchy is made of.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub struct AmgShape {
    /// Nodes of every level, finest first.
    pub nodes: Vec<usize>,
    /// Stored off-diagonal entries of every level's matrix.
    pub entries: Vec<usize>,
}

impl Amg {
    /// Builds the hierarchy of `fine`.
    pub fn new(fine: &Laplacian) -> Self {
        let mut transfers = Vec::new();
        let mut coarse: Vec<Laplacian> = Vec::new();
        loop {
            let a = coarse.last().unwrap_or(fine);
            let n = a.len();
            if n <= MAX_COARSE || transfers.len() + 1 >= MAX_LEVELS {
                break;
            }
            let (of, aggregates) = aggregate::aggregate(a, STRENGTH_THETA);
            if aggregates as f64 > MIN_REDUCTION * n as f64 || aggregates == 0 {
                break;
            }
            let omega = 4.0 / 3.0 / prolongator::spectral_radius(a);
            let p = prolongator::smoothed_prolongator(a, &of, aggregates, omega);
            drop(of);
            let r = p.transpose();
            let next = sparse::galerkin(&r, a, &p);
            transfers.push(Transfer { p, r });
            coarse.push(next);
        }
        let last = coarse.last().unwrap_or(fine);
        let bottom = if last.len() <= MAX_DENSE {
            Bottom::Exact(Cholesky::new(last))
        } else {
            Bottom::Sweeps
        };
        let mut work = vec![Work {
            r: vec![0.0; fine.len()],
            scratch: vec![0.0; fine.len()],
            ..Work::default()
        }];
        work.extend(coarse.iter().map(|a| Work::new(a.len())));
        Self {
            transfers,
            coarse,
            bottom,
            work,
        }
    }

    /// Levels and their sizes.
    #[cfg(test)]
    pub fn shape(&self, fine: &Laplacian) -> AmgShape {
        let levels = std::iter::once(fine).chain(&self.coarse);
        AmgShape {
            nodes: levels.clone().map(Laplacian::len).collect(),
            entries: levels.map(|a| a.columns.len()).collect(),
        }
    }

    /// z = M⁻¹·r by one V-cycle from z = 0 (`fine` is the matrix the hierarchy was built from).
    pub fn precondition(&mut self, fine: &Laplacian, r: &[f64], z: &mut [f64]) {
        let levels = self.coarse.len() + 1;
        if levels == 1 {
            self.solve_bottom(fine, r, z);
            return;
        }
        // Down: smooth, restrict the residual.
        z.fill(0.0);
        {
            let w = &mut self.work[0];
            smoother::presmooth(fine, r, z, &mut w.scratch);
            smoother::residual(fine, r, z, &mut w.r);
        }
        for l in 0..levels - 1 {
            let (upper, lower) = self.work.split_at_mut(l + 1);
            let (this, next) = (&upper[l], &mut lower[0]);
            self.transfers[l].r.multiply(&this.r, &mut next.b);
            if l + 1 < levels - 1 {
                let a = &self.coarse[l];
                next.x.fill(0.0);
                smoother::presmooth(a, &next.b, &mut next.x, &mut next.scratch);
                smoother::residual(a, &next.b, &next.x, &mut next.r);
            }
        }
        // The coarsest level.
        {
            let a = &self.coarse[levels - 2];
            let w = &mut self.work[levels - 1];
            match &self.bottom {
                Bottom::Exact(cholesky) => cholesky.solve(&w.b, &mut w.x),
                Bottom::Sweeps => {
                    w.x.fill(0.0);
                    for _ in 0..STALLED_SWEEPS {
                        smoother::presmooth(a, &w.b, &mut w.x, &mut w.scratch);
                    }
                }
            }
        }
        // Up: prolongate the correction, smooth again.
        for l in (1..levels - 1).rev() {
            let (upper, lower) = self.work.split_at_mut(l + 1);
            let (this, next) = (&mut upper[l], &lower[0]);
            self.transfers[l].p.multiply_add(&next.x, &mut this.x);
            smoother::postsmooth(&self.coarse[l - 1], &this.b, &mut this.x, &mut this.scratch);
        }
        let (upper, lower) = self.work.split_at_mut(1);
        self.transfers[0].p.multiply_add(&lower[0].x, z);
        smoother::postsmooth(fine, r, z, &mut upper[0].scratch);
    }

    /// The whole problem fits the bottom: solve it there.
    fn solve_bottom(&mut self, fine: &Laplacian, r: &[f64], z: &mut [f64]) {
        match &self.bottom {
            Bottom::Exact(cholesky) => cholesky.solve(r, z),
            Bottom::Sweeps => {
                z.fill(0.0);
                let scratch = &mut self.work[0].scratch;
                for _ in 0..STALLED_SWEEPS {
                    smoother::presmooth(fine, r, z, scratch);
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::Laplacian;

    /// The Laplacian of an nx × ny grid with unit conductances, tied to an electrode along x = 0.
    pub(crate) fn grid(nx: usize, ny: usize) -> Laplacian {
        grid_3d(nx, ny, 1)
    }

    /// The same in 3D, with conductances from `conductance(site, neighbour)`.
    pub(crate) fn grid_3d(nx: usize, ny: usize, nz: usize) -> Laplacian {
        grid_with(nx, ny, nz, |_, _| 1.0)
    }

    /// An nx × ny × nz grid Laplacian with the given symmetric conductances, tied to an
    /// electrode of conductance 1 along x = 0.
    pub(crate) fn grid_with(
        nx: usize,
        ny: usize,
        nz: usize,
        conductance: impl Fn(usize, usize) -> f64,
    ) -> Laplacian {
        let mut a = Laplacian {
            row_start: vec![0],
            ..Laplacian::default()
        };
        let index = |x: usize, y: usize, z: usize| (z * ny + y) * nx + x;
        for z in 0..nz {
            for y in 0..ny {
                for x in 0..nx {
                    let i = index(x, y, z);
                    let mut degree = if x == 0 { 1.0 } else { 0.0 };
                    for (dx, dy, dz) in [
                        (-1i64, 0i64, 0i64),
                        (1, 0, 0),
                        (0, -1, 0),
                        (0, 1, 0),
                        (0, 0, -1),
                        (0, 0, 1),
                    ] {
                        let (u, v, w) = (x as i64 + dx, y as i64 + dy, z as i64 + dz);
                        if (0..nx as i64).contains(&u)
                            && (0..ny as i64).contains(&v)
                            && (0..nz as i64).contains(&w)
                        {
                            let j = index(u as usize, v as usize, w as usize);
                            let g = conductance(i.min(j), i.max(j));
                            if g > 0.0 {
                                a.columns.push(j as u32);
                                a.conductances.push(g);
                                degree += g;
                            }
                        }
                    }
                    a.diagonal.push(degree);
                    a.row_start.push(a.columns.len());
                }
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{grid, grid_3d, grid_with};
    use super::*;

    fn dot(x: &[f64], y: &[f64]) -> f64 {
        x.iter().zip(y).map(|(a, b)| a * b).sum()
    }

    /// Runs the V-cycle as a stationary iteration x ← x + M⁻¹(b − A·x) and returns the mean
    /// factor by which each cycle cuts the residual.
    fn convergence_factor(a: &Laplacian, cycles: usize) -> f64 {
        let mut amg = Amg::new(a);
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
        let a = grid_3d(30, 24, 20);
        let mut amg = Amg::new(&a);
        assert!(amg.coarse.len() >= 2, "{:?}", amg.shape(&a));
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
        let a = grid(15, 12);
        let mut amg = Amg::new(&a);
        assert!(amg.transfers.is_empty());
        let b = vec![1.0; a.len()];
        let mut x = vec![0.0; a.len()];
        amg.precondition(&a, &b, &mut x);
        let mut r = vec![0.0; a.len()];
        smoother::residual(&a, &b, &x, &mut r);
        assert!(dot(&r, &r).sqrt() < 1e-10);
    }
}
