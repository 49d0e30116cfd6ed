//! Preconditioned conjugate gradients on the reduced Laplacian of a resistor network, in
//! parallel with rayon: with the Jacobi preconditioner fused into the vector updates
//! ([`solve`]), or with any other ([`solve_preconditioned`], which the multigrid path uses).
//!
//! Every reduction (dot products, norms) sums fixed-size chunks in parallel and then adds the
//! chunk sums in order, so a solve gives the same bits whatever the thread count or scheduling:
//! a reference engine must be reproducible, and rayon's own `sum` is not.

use super::KirchhoffError;
use rayon::prelude::*;

/// Rows per parallel task and per partial sum: large enough that rayon's overhead vanishes next
/// to the row work, small enough to balance two to a hundred threads.
const CHUNK: usize = 4096;

pub(super) use tunnelgrid_host::amg::Laplacian;

/// Sums per-chunk partial results in chunk order (see the module documentation).
fn ordered_sum<I: IndexedParallelIterator<Item = f64>>(partials: I) -> f64 {
    partials.collect::<Vec<f64>>().iter().sum()
}

/// q = A·p; returns p·q.
fn multiply(a: &Laplacian, p: &[f64], q: &mut [f64]) -> f64 {
    ordered_sum(q.par_chunks_mut(CHUNK).enumerate().map(|(c, qc)| {
        let first = c * CHUNK;
        let mut dot = 0.0;
        for (j, qi) in qc.iter_mut().enumerate() {
            let v = a.row(first + j, p);
            *qi = v;
            dot += v * p[first + j];
        }
        dot
    }))
}

/// r = b − A·x; returns (r·r, r·D⁻¹r).
fn true_residual(
    a: &Laplacian,
    b: &[f64],
    x: &[f64],
    inv_diag: &[f64],
    r: &mut [f64],
) -> (f64, f64) {
    let partials: Vec<(f64, f64)> = r
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, rc)| {
            let first = c * CHUNK;
            let (mut rr, mut rz) = (0.0, 0.0);
            for (j, ri) in rc.iter_mut().enumerate() {
                let i = first + j;
                let v = b[i] - a.row(i, x);
                *ri = v;
                rr += v * v;
                rz += v * v * inv_diag[i];
            }
            (rr, rz)
        })
        .collect();
    partials
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y))
}

/// x += α·p, r −= α·q; returns (r·r, r·D⁻¹r) of the updated residual.
fn step(
    x: &mut [f64],
    r: &mut [f64],
    p: &[f64],
    q: &[f64],
    inv_diag: &[f64],
    alpha: f64,
) -> (f64, f64) {
    let partials: Vec<(f64, f64)> = x
        .par_chunks_mut(CHUNK)
        .zip(r.par_chunks_mut(CHUNK))
        .zip(p.par_chunks(CHUNK))
        .zip(q.par_chunks(CHUNK))
        .zip(inv_diag.par_chunks(CHUNK))
        .map(|((((xc, rc), pc), qc), dc)| {
            let (mut rr, mut rz) = (0.0, 0.0);
            for i in 0..xc.len() {
                xc[i] += alpha * pc[i];
                rc[i] -= alpha * qc[i];
                rr += rc[i] * rc[i];
                rz += rc[i] * rc[i] * dc[i];
            }
            (rr, rz)
        })
        .collect();
    partials
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y))
}

/// p = D⁻¹r + β·p.
fn new_direction(p: &mut [f64], r: &[f64], inv_diag: &[f64], beta: f64) {
    p.par_chunks_mut(CHUNK)
        .zip(r.par_chunks(CHUNK))
        .zip(inv_diag.par_chunks(CHUNK))
        .for_each(|((pc, rc), dc)| {
            for i in 0..pc.len() {
                pc[i] = rc[i] * dc[i] + beta * pc[i];
            }
        });
}

/// What a converged solve reached.
#[derive(Debug, Clone, Copy)]
pub(super) struct Converged {
    /// CG iterations (matrix–vector products after the initial residual).
    pub iterations: usize,
    /// Final relative residual ‖b − A·x‖/‖b‖, recomputed from x (not the recurrence).
    pub relative_residual: f64,
    /// ‖b − A·x‖ of the final x, amperes.
    pub residual_norm: f64,
    /// x·(b − A·x) of the final x: the first-order error of the source electrode's current
    /// (see `network.rs`).
    pub x_dot_residual: f64,
}

impl Converged {
    /// The answer when the right-hand side is zero.
    const NOTHING_TO_SOLVE: Converged = Converged {
        iterations: 0,
        relative_residual: 0.0,
        residual_norm: 0.0,
        x_dot_residual: 0.0,
    };

    /// The answer x after `iterations`, with r = b − A·x its true residual (relative residual
    /// `relative`, ‖r‖² = `rr`).
    fn at(iterations: usize, relative: f64, rr: f64, x: &[f64], r: &[f64]) -> Self {
        Converged {
            iterations,
            relative_residual: relative,
            residual_norm: rr.sqrt(),
            x_dot_residual: dot(x, r),
        }
    }
}

/// ‖b‖, or `None` with x = 0 when b = 0: no free node touches the electrode at potential 1,
/// so every free potential is 0.
fn rhs_norm(b: &[f64], x: &mut [f64]) -> Option<f64> {
    let norm = ordered_sum(b.par_chunks(CHUNK).map(|c| c.iter().map(|v| v * v).sum())).sqrt();
    if norm == 0.0 {
        x.fill(0.0);
        return None;
    }
    Some(norm)
}

/// x·y with the ordered chunked sum.
fn dot(x: &[f64], y: &[f64]) -> f64 {
    ordered_sum(
        x.par_chunks(CHUNK)
            .zip(y.par_chunks(CHUNK))
            .map(|(a, b)| a.iter().zip(b).map(|(p, q)| p * q).sum()),
    )
}

/// Solves A·x = b from the guess in `x`, to ‖b − A·x‖ ≤ tolerance·‖b‖.
///
/// The recurrence residual drifts from the true one in floating point, so convergence is only
/// declared after recomputing b − A·x; if that one is still too large, CG restarts from it.
pub(super) fn solve(
    a: &Laplacian,
    b: &[f64],
    x: &mut [f64],
    tolerance: f64,
    max_iterations: usize,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Converged, KirchhoffError> {
    let n = a.len();
    let Some(b_norm) = rhs_norm(b, x) else {
        return Ok(Converged::NOTHING_TO_SOLVE);
    };
    let inv_diag: Vec<f64> = a.diagonal.par_iter().map(|d| 1.0 / d).collect();
    let mut r = vec![0.0; n];
    let mut q = vec![0.0; n];
    let (rr, mut rz) = true_residual(a, b, x, &inv_diag, &mut r);
    let mut residual = rr.sqrt() / b_norm;
    if residual <= tolerance {
        return Ok(Converged::at(0, residual, rr, x, &r));
    }
    let mut p: Vec<f64> = vec![0.0; n];
    new_direction(&mut p, &r, &inv_diag, 0.0);
    let mut iterations = 0;
    while iterations < max_iterations {
        let pq = multiply(a, &p, &mut q);
        // A is symmetric positive definite once pruned; a non-positive curvature means the
        // directions lost orthogonality to rounding beyond repair.
        if !(pq > 0.0 && pq.is_finite()) {
            break;
        }
        let alpha = rz / pq;
        let (rr_new, rz_new) = step(x, &mut r, &p, &q, &inv_diag, alpha);
        iterations += 1;
        residual = rr_new.sqrt() / b_norm;
        progress(iterations, residual);
        if !residual.is_finite() {
            break;
        }
        if residual <= tolerance {
            let (rr_true, rz_true) = true_residual(a, b, x, &inv_diag, &mut r);
            residual = rr_true.sqrt() / b_norm;
            if residual <= tolerance {
                return Ok(Converged::at(iterations, residual, rr_true, x, &r));
            }
            rz = rz_true;
            new_direction(&mut p, &r, &inv_diag, 0.0);
            continue;
        }
        new_direction(&mut p, &r, &inv_diag, rz_new / rz);
        rz = rz_new;
    }
    Err(KirchhoffError::NotConverged {
        iterations,
        residual,
        tolerance,
    })
}

/// x += α·p, r −= α·q; returns r·r.
fn step_plain(x: &mut [f64], r: &mut [f64], p: &[f64], q: &[f64], alpha: f64) -> f64 {
    ordered_sum(
        x.par_chunks_mut(CHUNK)
            .zip(r.par_chunks_mut(CHUNK))
            .zip(p.par_chunks(CHUNK))
            .zip(q.par_chunks(CHUNK))
            .map(|(((xc, rc), pc), qc)| {
                let mut rr = 0.0;
                for i in 0..xc.len() {
                    xc[i] += alpha * pc[i];
                    rc[i] -= alpha * qc[i];
                    rr += rc[i] * rc[i];
                }
                rr
            }),
    )
}

/// p = z + β·p.
fn next_direction(p: &mut [f64], z: &[f64], beta: f64) {
    p.par_chunks_mut(CHUNK)
        .zip(z.par_chunks(CHUNK))
        .for_each(|(pc, zc)| {
            for i in 0..pc.len() {
                pc[i] = zc[i] + beta * pc[i];
            }
        });
}

/// r = b − A·x; returns r·r.
fn plain_residual(a: &Laplacian, b: &[f64], x: &[f64], r: &mut [f64]) -> f64 {
    ordered_sum(r.par_chunks_mut(CHUNK).enumerate().map(|(c, rc)| {
        let mut rr = 0.0;
        for (j, ri) in rc.iter_mut().enumerate() {
            let i = c * CHUNK + j;
            *ri = b[i] - a.row(i, x);
            rr += *ri * *ri;
        }
        rr
    }))
}

/// Solves A·x = b as [`solve`] does, with `precondition(r, z)` setting z = M⁻¹·r for a
/// symmetric positive definite M (one multigrid V-cycle).
pub(super) fn solve_preconditioned(
    a: &Laplacian,
    b: &[f64],
    x: &mut [f64],
    tolerance: f64,
    max_iterations: usize,
    precondition: &mut dyn FnMut(&[f64], &mut [f64]),
    progress: &mut dyn FnMut(usize, f64),
) -> Result<Converged, KirchhoffError> {
    let n = a.len();
    let Some(b_norm) = rhs_norm(b, x) else {
        return Ok(Converged::NOTHING_TO_SOLVE);
    };
    let mut r = vec![0.0; n];
    let rr = plain_residual(a, b, x, &mut r);
    let mut residual = rr.sqrt() / b_norm;
    if residual <= tolerance {
        return Ok(Converged::at(0, residual, rr, x, &r));
    }
    let mut z = vec![0.0; n];
    let mut q = vec![0.0; n];
    precondition(&r, &mut z);
    let mut rz = dot(&r, &z);
    let mut p = z.clone();
    let mut iterations = 0;
    while iterations < max_iterations {
        let pq = multiply(a, &p, &mut q);
        if !(pq > 0.0 && pq.is_finite() && rz > 0.0) {
            break;
        }
        let rr_new = step_plain(x, &mut r, &p, &q, rz / pq);
        iterations += 1;
        residual = rr_new.sqrt() / b_norm;
        progress(iterations, residual);
        if !residual.is_finite() {
            break;
        }
        if residual <= tolerance {
            let rr_true = plain_residual(a, b, x, &mut r);
            residual = rr_true.sqrt() / b_norm;
            if residual <= tolerance {
                return Ok(Converged::at(iterations, residual, rr_true, x, &r));
            }
            // The recurrence drifted: restart from the true residual.
            precondition(&r, &mut z);
            rz = dot(&r, &z);
            p.copy_from_slice(&z);
            continue;
        }
        precondition(&r, &mut z);
        let rz_new = dot(&r, &z);
        next_direction(&mut p, &z, rz_new / rz);
        rz = rz_new;
    }
    Err(KirchhoffError::NotConverged {
        iterations,
        residual,
        tolerance,
    })
}
