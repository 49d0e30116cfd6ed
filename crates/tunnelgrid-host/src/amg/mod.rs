//! The setup of smoothed-aggregation algebraic multigrid (Vaněk, Mandel & Brezina 1996), the
//! preconditioner both engines' Kirchhoff solvers use: the method Edwards, Goodman & Sokal
//! (PRL 61, 1333, 1988) brought to random resistor networks, and the one pyamg and PoreSpy use.
//!
//! [`Hierarchy::new`] builds ever smaller matrices: each level's nodes are grouped into
//! aggregates ([`aggregate`]), the smoothed prolongator P maps the next level's values back
//! ([`prolongator`]), R = Pᵀ restricts, and the next matrix is the Galerkin product R·A·P
//! ([`sparse`]). Coarsening stops at a few hundred nodes, which are factorised densely
//! ([`coarse`]). The V-cycle that applies the hierarchy is each engine's own: symmetric
//! Gauss–Seidel on the CPU (tunnelgrid-cpu's `kirchhoff::amg`), damped Jacobi on the device
//! (tunnelgrid-gpu's `kirchhoff::amg`). A preconditioner only steers the iterations: the answer
//! is fixed by each engine's own residual, so sharing the setup costs the engines none of their
//! independence.
//!
//! Everything is reproducible: aggregation runs in node order and the sparse products build each
//! row in a fixed order, so the hierarchy is the same bits whatever the thread count.

// The kernels index several arrays by one node number at once; range loops say that plainest.
#![allow(clippy::needless_range_loop)]

pub mod aggregate;
pub mod coarse;
pub mod prolongator;
pub mod sparse;

use coarse::Cholesky;
use rayon::prelude::*;
use sparse::Csr;

/// Strength threshold θ of the aggregation: 0 (every coupling strong) as pyamg's smoothed
/// aggregation does by default.
const STRENGTH_THETA: f64 = 0.0;
/// Coarsening stops at this many nodes; the last level is factorised densely.
pub const MAX_COARSE: usize = 400;
/// Coarsening stops when a level keeps more than this share of its nodes (a level that barely
/// shrinks costs a sweep and gains nothing).
const MIN_REDUCTION: f64 = 0.85;
/// At most this many levels.
const MAX_LEVELS: usize = 25;
/// The last level is factorised only up to this many nodes; beyond (coarsening stalled) the
/// V-cycle relaxes it instead.
pub const MAX_DENSE: usize = 3000;

/// The Laplacian of the free nodes (potentials fixed at the electrodes moved to the right-hand
/// side): row i is `diagonal[i]·x[i] − Σ conductance·x[column]` over its free neighbours.
/// Storing the off-diagonal conductances with a positive sign and the diagonal apart keeps the
/// Jacobi preconditioner free and the row loop a plain gather.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Laplacian {
    /// Sum of the conductances of every bond of the node, to free and fixed nodes alike.
    pub diagonal: Vec<f64>,
    /// Row i's entries are `row_start[i]..row_start[i + 1]` (length free nodes + 1).
    pub row_start: Vec<usize>,
    /// Free neighbour of each entry.
    pub columns: Vec<u32>,
    /// Conductance of each entry, siemens (positive).
    pub conductances: Vec<f64>,
}

impl Laplacian {
    /// Number of free nodes (unknowns).
    pub fn len(&self) -> usize {
        self.diagonal.len()
    }

    /// Whether there are no unknowns.
    pub fn is_empty(&self) -> bool {
        self.diagonal.is_empty()
    }

    /// (A·x)_i.
    #[inline(always)]
    pub fn row(&self, i: usize, x: &[f64]) -> f64 {
        let range = self.row_start[i]..self.row_start[i + 1];
        let mut off = 0.0;
        for (&c, &g) in self.columns[range.clone()]
            .iter()
            .zip(&self.conductances[range])
        {
            off += g * x[c as usize];
        }
        self.diagonal[i] * x[i] - off
    }

    /// r = b − A·x.
    pub fn residual(&self, b: &[f64], x: &[f64], r: &mut [f64]) {
        r.par_chunks_mut(4096).enumerate().for_each(|(c, rc)| {
            for (k, ri) in rc.iter_mut().enumerate() {
                let i = c * 4096 + k;
                *ri = b[i] - self.row(i, x);
            }
        });
    }
}

/// How the coarsest level is solved.
#[derive(Debug)]
pub enum Bottom {
    /// Exactly, by its dense factorisation.
    Exact(Cholesky),
    /// By relaxation sweeps (coarsening stalled above `MAX_DENSE` nodes).
    Sweeps,
}

/// Going from one level to the next.
#[derive(Debug)]
pub struct Transfer {
    /// Prolongator: next level → this one.
    pub p: Csr,
    /// Restriction R = Pᵀ.
    pub r: Csr,
}

/// The multigrid hierarchy of one fine matrix (which the caller keeps: it is not copied).
#[derive(Debug)]
pub struct Hierarchy {
    /// transfers[l] goes from level l to level l + 1.
    pub transfers: Vec<Transfer>,
    /// Matrices of levels 1, 2, …
    pub coarse: Vec<Laplacian>,
    /// The coarsest level's solve.
    pub bottom: Bottom,
    /// ρ(D⁻¹A) of every level that has a transfer (the estimate that set its prolongator's
    /// damping; a Jacobi smoother damps with it too): Gershgorin's bound on the fine level,
    /// power iterations on the others.
    pub spectral_radii: Vec<f64>,
}

/// What a hierarchy is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// Nodes of every level, finest first.
    pub nodes: Vec<usize>,
    /// Stored off-diagonal entries of every level's matrix.
    pub entries: Vec<usize>,
}

impl Hierarchy {
    /// Builds the hierarchy of `fine`.
    pub fn new(fine: &Laplacian) -> Self {
        let mut transfers = Vec::new();
        let mut coarse: Vec<Laplacian> = Vec::new();
        let mut spectral_radii = Vec::new();
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
            // The fine level is a network's Laplacian, on which Gershgorin's bound is tight and
            // costs one pass; on the Galerkin levels it was loose (2.2 to 7 against the power
            // iterations' 1.3 to 1.8 on bond percolation at 64³), which would damp P too much.
            let radius = if transfers.is_empty() {
                prolongator::gershgorin_radius(a)
            } else {
                prolongator::spectral_radius(a)
            };
            let omega = 4.0 / 3.0 / radius;
            let p = prolongator::smoothed_prolongator(a, &of, aggregates, omega);
            drop(of);
            let r = p.transpose();
            let next = sparse::galerkin(&r, a, &p);
            transfers.push(Transfer { p, r });
            spectral_radii.push(radius);
            coarse.push(next);
        }
        let last = coarse.last().unwrap_or(fine);
        let bottom = if last.len() <= MAX_DENSE {
            Bottom::Exact(Cholesky::new(last))
        } else {
            Bottom::Sweeps
        };
        Self {
            transfers,
            coarse,
            bottom,
            spectral_radii,
        }
    }

    /// Number of levels, the fine one included.
    pub fn levels(&self) -> usize {
        self.coarse.len() + 1
    }

    /// Levels and their sizes.
    pub fn shape(&self, fine: &Laplacian) -> Shape {
        let levels = std::iter::once(fine).chain(&self.coarse);
        Shape {
            nodes: levels.clone().map(Laplacian::len).collect(),
            entries: levels.map(|a| a.columns.len()).collect(),
        }
    }
}

/// Grid Laplacians for the tests of both engines' multigrid.
#[doc(hidden)]
pub mod fixtures {
    use super::Laplacian;

    /// The Laplacian of an nx × ny grid with unit conductances, tied to an electrode along x = 0.
    pub fn grid(nx: usize, ny: usize) -> Laplacian {
        grid_3d(nx, ny, 1)
    }

    /// The same in 3D.
    pub fn grid_3d(nx: usize, ny: usize, nz: usize) -> Laplacian {
        grid_with(nx, ny, nz, |_, _| 1.0)
    }

    /// An nx × ny × nz grid Laplacian with the given symmetric conductances, tied to an
    /// electrode of conductance 1 along x = 0.
    pub fn grid_with(
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
