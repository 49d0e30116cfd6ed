//! The coarsest level's exact solve: a dense Cholesky factorisation L·Lᵀ, done once in setup.
//! A pivot that rounding has made non-positive (a near-singular coarsest matrix) gets a zero
//! inverse, so that direction is left out rather than blown up.

use super::Laplacian;

/// L of A = L·Lᵀ, dense, row-major lower triangle, with 1/L_ii kept apart.
#[derive(Debug, Clone, Default)]
pub struct Cholesky {
    n: usize,
    lower: Vec<f64>,
    inv_pivot: Vec<f64>,
}

impl Cholesky {
    /// Factorises the level matrix `a` (symmetric positive definite).
    pub fn new(a: &Laplacian) -> Self {
        let n = a.len();
        let mut m = vec![0.0; n * n];
        for i in 0..n {
            m[i * n + i] += a.diagonal[i];
            for k in a.row_start[i]..a.row_start[i + 1] {
                m[i * n + a.columns[k] as usize] -= a.conductances[k];
            }
        }
        let scale = a.diagonal.iter().fold(0.0f64, |s, d| s.max(d.abs()));
        let mut inv_pivot = vec![0.0; n];
        for j in 0..n {
            let mut d = m[j * n + j];
            for k in 0..j {
                d -= m[j * n + k] * m[j * n + k];
            }
            let pivot = if d > 1e-14 * scale { d.sqrt() } else { 0.0 };
            m[j * n + j] = pivot;
            inv_pivot[j] = if pivot > 0.0 { 1.0 / pivot } else { 0.0 };
            for i in j + 1..n {
                let mut v = m[i * n + j];
                for k in 0..j {
                    v -= m[i * n + k] * m[j * n + k];
                }
                m[i * n + j] = v * inv_pivot[j];
            }
        }
        Self {
            n,
            lower: m,
            inv_pivot,
        }
    }

    /// x = A⁻¹·b.
    pub fn solve(&self, b: &[f64], x: &mut [f64]) {
        let n = self.n;
        for i in 0..n {
            let mut v = b[i];
            for k in 0..i {
                v -= self.lower[i * n + k] * x[k];
            }
            x[i] = v * self.inv_pivot[i];
        }
        for i in (0..n).rev() {
            let mut v = x[i];
            for k in i + 1..n {
                v -= self.lower[k * n + i] * x[k];
            }
            x[i] = v * self.inv_pivot[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::grid;

    use super::*;

    #[test]
    fn the_dense_solve_is_exact() {
        let a = grid(7, 5);
        let b: Vec<f64> = (0..a.len()).map(|i| (i % 5) as f64 - 1.5).collect();
        let mut x = vec![0.0; a.len()];
        Cholesky::new(&a).solve(&b, &mut x);
        let mut r = vec![0.0; a.len()];
        a.residual(&b, &x, &mut r);
        assert!(r.iter().all(|v| v.abs() < 1e-12), "{r:?}");
    }
}
