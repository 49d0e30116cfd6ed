//! The smoothed prolongator P = (I − ω·D⁻¹A)·T: T is the tentative, piecewise-constant
//! prolongator of the aggregates (T_ij = 1 when node i lies in aggregate j), and one damped
//! Jacobi step smooths each of its columns so that a coarse correction is itself smooth.
//! ω = 4/3 ÷ ρ(D⁻¹A), the choice of Vaněk et al. and pyamg.
//!
//! Constant columns suffice for a resistor network: a Laplacian's near null space is the
//! constant vector (its only null vector without the electrodes), and T keeps it at every level
//! (T·1 = 1), so no coarse basis has to be carried along.

use super::sparse::{rows_by_gustavson, Csr};
use super::Laplacian;
use rayon::prelude::*;

/// Power iterations for ρ(D⁻¹A): the estimate only sets ω, so a few percent is plenty.
const POWER_ITERATIONS: usize = 12;
/// Rows per task and per partial sum of the power iterations (fixed, so that the sums and the
/// estimate do not depend on the thread count).
const CHUNK: usize = 4096;

/// An estimate of the spectral radius of D⁻¹A: the Rayleigh quotient xᵀAx / xᵀDx after
/// power iterations x ← D⁻¹A·x from a fixed oscillating start (the top of the spectrum is the
/// most oscillating mode). Every sum is taken over fixed chunks added in order, so the estimate
/// is reproducible.
pub fn spectral_radius(a: &Laplacian) -> f64 {
    let n = a.len();
    if n == 0 {
        return 1.0;
    }
    let mut x: Vec<f64> = (0..n)
        .map(|i| {
            let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            sign * (1.0 + (h as f64) / (1u64 << 24) as f64)
        })
        .collect();
    let mut y = vec![0.0; n];
    let mut estimate = 1.0f64;
    for _ in 0..POWER_ITERATIONS {
        // y = A·x with, per chunk, xᵀAx, xᵀDx and max |D⁻¹y|, summed in chunk order.
        let partials: Vec<(f64, f64, f64)> = y
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, yc)| {
                let (mut xay, mut xdx, mut norm) = (0.0, 0.0, 0.0f64);
                for (k, yi) in yc.iter_mut().enumerate() {
                    let i = c * CHUNK + k;
                    *yi = a.row(i, &x);
                    xay += x[i] * *yi;
                    xdx += x[i] * x[i] * a.diagonal[i];
                    norm = norm.max((*yi / a.diagonal[i]).abs());
                }
                (xay, xdx, norm)
            })
            .collect();
        let (xay, xdx, norm) = partials
            .iter()
            .fold((0.0, 0.0, 0.0f64), |(s, t, m), &(u, v, w)| {
                (s + u, t + v, m.max(w))
            });
        if xdx > 0.0 {
            estimate = estimate.max(xay / xdx);
        }
        if norm == 0.0 || !norm.is_finite() {
            break;
        }
        x.par_iter_mut()
            .zip(&y)
            .enumerate()
            .for_each(|(i, (xi, yi))| *xi = yi / a.diagonal[i] / norm);
    }
    estimate
}

/// Gershgorin's bound on the spectral radius of D⁻¹A: 1 + the largest Σ_j |c_ij| / d_i. On a
/// network's own Laplacian (the fine level) every row's conductances sum to at most its
/// diagonal, so the bound is at most 2, and a lattice's bipartite network has its top
/// eigenvalue just below 2: the bound is as good as the power iterations' estimate for a
/// single pass over the matrix instead of twelve.
pub fn gershgorin_radius(a: &Laplacian) -> f64 {
    (0..a.len())
        .into_par_iter()
        .map(|i| {
            let off: f64 = a.conductances[a.row_start[i]..a.row_start[i + 1]]
                .iter()
                .map(|c| c.abs())
                .sum();
            1.0 + off / a.diagonal[i]
        })
        .reduce(|| 0.0, f64::max)
}

/// P = (I − ω·D⁻¹A)·T for the aggregates `of` (node → aggregate) of `aggregates` aggregates.
/// Row i holds aggregate(i) with 1 − ω and, for each coupling c_ij, aggregate(j) with ω·c_ij/d_i,
/// equal columns summed, in the order first met.
pub fn smoothed_prolongator(a: &Laplacian, of: &[u32], aggregates: usize, omega: f64) -> Csr {
    rows_by_gustavson(
        a.len(),
        aggregates,
        |i, row| {
            row.add(of[i], 1.0 - omega);
            let scale = omega / a.diagonal[i];
            for k in a.row_start[i]..a.row_start[i + 1] {
                row.add(of[a.columns[k] as usize], scale * a.conductances[k]);
            }
        },
        |_, _, v| v != 0.0,
    )
}

#[cfg(test)]
mod tests {
    use super::super::aggregate::aggregate;
    use super::super::fixtures::grid;
    use super::*;

    #[test]
    fn the_spectral_radius_of_a_grid_is_found() {
        // D⁻¹A of a grid Laplacian has its spectrum in (0, 2): the top is close to 2.
        let rho = spectral_radius(&grid(20, 20));
        assert!(rho > 1.85 && rho < 2.0, "{rho}");
        // Gershgorin's bound lies above the estimate and is 2 on a Laplacian's inner rows.
        let bound = gershgorin_radius(&grid(20, 20));
        assert_eq!(bound, 2.0);
        assert!(gershgorin_radius(&grid(1, 1)) < 2.0);
    }

    #[test]
    fn smoothing_keeps_constants_away_from_the_electrodes_and_spreads_each_column() {
        let a = grid(10, 8);
        let (of, count) = aggregate(&a, 0.0);
        let omega = 4.0 / 3.0 / spectral_radius(&a);
        let p = smoothed_prolongator(&a, &of, count, omega);
        assert_eq!((p.rows(), p.cols), (a.len(), count));
        // P·1 = 1 − ω·D⁻¹A·1, and A·1 = 0 on every row not tied to the electrode (x = 0).
        let mut ones = vec![0.0; a.len()];
        p.multiply(&vec![1.0; count], &mut ones);
        for (i, v) in ones.iter().enumerate() {
            let expected = if i % 10 == 0 {
                1.0 - omega / a.diagonal[i]
            } else {
                1.0
            };
            assert!((v - expected).abs() < 1e-14, "row {i}: {v} vs {expected}");
        }
        // Each row of P is the tentative row plus one Jacobi step: against a dense check.
        for i in 0..a.len() {
            let mut dense = vec![0.0; count];
            dense[of[i] as usize] += 1.0 - omega;
            for k in a.row_start[i]..a.row_start[i + 1] {
                dense[of[a.columns[k] as usize] as usize] +=
                    omega * a.conductances[k] / a.diagonal[i];
            }
            let mut got = vec![0.0; count];
            for (c, v) in p.row(i) {
                got[c as usize] += v;
            }
            for g in 0..count {
                assert!((got[g] - dense[g]).abs() < 1e-15);
            }
        }
        // Smoothing widens the columns beyond their aggregates.
        assert!(p.entries() > a.len());
    }
}
