//! The sparse matrices of the hierarchy: transfer operators in plain CSR, and the sparse
//! products (Gustavson's row-by-row algorithm) that build the smoothed prolongator's Galerkin
//! coarse matrix R·A·P.
//!
//! Every product is computed row by row, each row's entries in the order their columns are
//! first met, so the result is the same bits whatever the number of threads: the rows are cut
//! into blocks only to give each thread one dense accumulator.

use super::Laplacian;
use rayon::prelude::*;

/// A general sparse matrix in compressed rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csr {
    /// Number of columns.
    pub cols: usize,
    /// Row i's entries are `row_start[i]..row_start[i + 1]`.
    pub row_start: Vec<usize>,
    /// Column of each entry.
    pub columns: Vec<u32>,
    /// Value of each entry.
    pub values: Vec<f64>,
}

/// Rows per task of the matrix–vector products.
const CHUNK: usize = 4096;

impl Csr {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.row_start.len() - 1
    }

    /// Stored entries.
    pub fn entries(&self) -> usize {
        self.columns.len()
    }

    /// Entries of row i: (column, value).
    pub fn row(&self, i: usize) -> impl Iterator<Item = (u32, f64)> + '_ {
        let range = self.row_start[i]..self.row_start[i + 1];
        self.columns[range.clone()]
            .iter()
            .copied()
            .zip(self.values[range].iter().copied())
    }

    /// y = self·x.
    pub fn multiply(&self, x: &[f64], y: &mut [f64]) {
        y.par_chunks_mut(CHUNK).enumerate().for_each(|(c, yc)| {
            for (k, yi) in yc.iter_mut().enumerate() {
                *yi = self
                    .row(c * CHUNK + k)
                    .map(|(j, v)| v * x[j as usize])
                    .sum();
            }
        });
    }

    /// y += self·x.
    pub fn multiply_add(&self, x: &[f64], y: &mut [f64]) {
        y.par_chunks_mut(CHUNK).enumerate().for_each(|(c, yc)| {
            for (k, yi) in yc.iter_mut().enumerate() {
                *yi += self
                    .row(c * CHUNK + k)
                    .map(|(j, v)| v * x[j as usize])
                    .sum::<f64>();
            }
        });
    }

    /// The transpose, each of its rows in increasing column order.
    pub fn transpose(&self) -> Csr {
        let mut row_start = vec![0usize; self.cols + 1];
        for &j in &self.columns {
            row_start[j as usize + 1] += 1;
        }
        for j in 0..self.cols {
            row_start[j + 1] += row_start[j];
        }
        let mut fill = row_start.clone();
        let mut columns = vec![0u32; self.entries()];
        let mut values = vec![0.0; self.entries()];
        for i in 0..self.rows() {
            for (j, v) in self.row(i) {
                let at = &mut fill[j as usize];
                columns[*at] = i as u32;
                values[*at] = v;
                *at += 1;
            }
        }
        Csr {
            cols: self.rows(),
            row_start,
            columns,
            values,
        }
    }
}

/// A dense row accumulator over `cols` columns: adds into a value per column and remembers the
/// columns touched, in the order first touched.
struct Accumulator {
    value: Vec<f64>,
    touched: Vec<bool>,
    order: Vec<u32>,
}

impl Accumulator {
    fn new(cols: usize) -> Self {
        Self {
            value: vec![0.0; cols],
            touched: vec![false; cols],
            order: Vec::new(),
        }
    }

    #[inline(always)]
    fn add(&mut self, col: u32, v: f64) {
        let c = col as usize;
        if !self.touched[c] {
            self.touched[c] = true;
            self.order.push(col);
        }
        self.value[c] += v;
    }

    /// Hands the row to `out` (column, value) in first-touch order and clears the accumulator.
    fn drain(&mut self, mut out: impl FnMut(u32, f64)) {
        for &c in &self.order {
            out(c, self.value[c as usize]);
            self.value[c as usize] = 0.0;
            self.touched[c as usize] = false;
        }
        self.order.clear();
    }
}

/// A sparse product row by row: `terms(i, add)` calls `add(column, value)` for every term of
/// output row i; terms with equal columns are summed. `keep(i, column, value)` filters the
/// summed entries (to split off a diagonal or drop exact zeros).
pub fn rows_by_gustavson(
    rows: usize,
    cols: usize,
    terms: impl Fn(usize, &mut dyn FnMut(u32, f64)) + Sync,
    keep: impl Fn(usize, u32, f64) -> bool + Sync,
) -> Csr {
    // A few blocks per thread, each with one accumulator; rows inside a block in order.
    let blocks = (4 * rayon::current_num_threads()).clamp(1, rows.max(1));
    let per_block = rows.div_ceil(blocks).max(1);
    let parts: Vec<(Vec<usize>, Vec<u32>, Vec<f64>)> = (0..rows.div_ceil(per_block))
        .into_par_iter()
        .map(|block| {
            let first = block * per_block;
            let last = (first + per_block).min(rows);
            let mut acc = Accumulator::new(cols);
            let mut lengths = Vec::with_capacity(last - first);
            let (mut columns, mut values) = (Vec::new(), Vec::new());
            for i in first..last {
                terms(i, &mut |c, v| acc.add(c, v));
                let before = columns.len();
                acc.drain(|c, v| {
                    if keep(i, c, v) {
                        columns.push(c);
                        values.push(v);
                    }
                });
                lengths.push(columns.len() - before);
            }
            (lengths, columns, values)
        })
        .collect();
    let mut row_start = Vec::with_capacity(rows + 1);
    row_start.push(0);
    let entries: usize = parts.iter().map(|p| p.1.len()).sum();
    let (mut columns, mut values) = (Vec::with_capacity(entries), Vec::with_capacity(entries));
    for (lengths, c, v) in parts {
        for len in lengths {
            row_start.push(row_start.last().copied().unwrap_or(0) + len);
        }
        columns.extend(c);
        values.extend(v);
    }
    Csr {
        cols,
        row_start,
        columns,
        values,
    }
}

/// The Galerkin coarse matrix R·A·P of a level matrix A = D − C (`Laplacian`), in the level
/// form, exact zeros dropped. Each coarse row is summed straight from R, A and P: the product
/// A·P is never stored, since on a fine level it would be the largest array of the whole
/// setup (about ten entries per fine node).
pub fn galerkin(r: &Csr, a: &Laplacian, p: &Csr) -> Laplacian {
    let product = rows_by_gustavson(
        r.rows(),
        p.cols,
        |coarse_row, add| {
            for (i, rv) in r.row(coarse_row) {
                let i = i as usize;
                let scaled = rv * a.diagonal[i];
                for (j, v) in p.row(i) {
                    add(j, scaled * v);
                }
                for k in a.row_start[i]..a.row_start[i + 1] {
                    let coupling = -rv * a.conductances[k];
                    for (j, v) in p.row(a.columns[k] as usize) {
                        add(j, coupling * v);
                    }
                }
            }
        },
        |_, _, v| v != 0.0,
    );
    split_diagonal(product)
}

/// A square matrix as diagonal D and off-diagonal part C of D − C, compacted in place (the
/// coarse matrices are the setup's largest arrays, so no second copy is made).
pub fn split_diagonal(m: Csr) -> Laplacian {
    let n = m.rows();
    let Csr {
        row_start: mut starts,
        mut columns,
        values: mut conductances,
        ..
    } = m;
    let mut diagonal = vec![0.0; n];
    let mut kept = 0;
    let mut row_begin = 0;
    for i in 0..n {
        let row_end = starts[i + 1];
        for k in row_begin..row_end {
            let (j, v) = (columns[k], conductances[k]);
            if j as usize == i {
                diagonal[i] += v;
            } else {
                columns[kept] = j;
                conductances[kept] = -v;
                kept += 1;
            }
        }
        row_begin = row_end;
        starts[i + 1] = kept;
    }
    columns.truncate(kept);
    conductances.truncate(kept);
    columns.shrink_to_fit();
    conductances.shrink_to_fit();
    Laplacian {
        diagonal,
        row_start: starts,
        columns,
        conductances,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small dense matrix as a Csr (zeros left out).
    fn csr(dense: &[Vec<f64>]) -> Csr {
        let mut m = Csr {
            cols: dense[0].len(),
            row_start: vec![0],
            ..Csr::default()
        };
        for row in dense {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    m.columns.push(j as u32);
                    m.values.push(v);
                }
            }
            m.row_start.push(m.columns.len());
        }
        m
    }

    fn dense(m: &Csr) -> Vec<Vec<f64>> {
        let mut d = vec![vec![0.0; m.cols]; m.rows()];
        for (i, row) in d.iter_mut().enumerate() {
            for (j, v) in m.row(i) {
                row[j as usize] += v;
            }
        }
        d
    }

    fn dense_level(a: &Laplacian) -> Vec<Vec<f64>> {
        let n = a.len();
        let mut d = vec![vec![0.0; n]; n];
        for (i, row) in d.iter_mut().enumerate() {
            row[i] += a.diagonal[i];
            for k in a.row_start[i]..a.row_start[i + 1] {
                row[a.columns[k] as usize] -= a.conductances[k];
            }
        }
        d
    }

    fn matmul(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let (n, m, k) = (a.len(), b[0].len(), b.len());
        let mut c = vec![vec![0.0; m]; n];
        for i in 0..n {
            for j in 0..m {
                c[i][j] = (0..k).map(|l| a[i][l] * b[l][j]).sum();
            }
        }
        c
    }

    /// A 1D chain Laplacian of n nodes with a Dirichlet end (diagonal 2 everywhere), with a
    /// duplicated entry in row 1 as contracted clusters leave them.
    fn chain(n: usize) -> Laplacian {
        let mut a = Laplacian {
            diagonal: vec![2.0; n],
            row_start: vec![0],
            ..Laplacian::default()
        };
        for i in 0..n {
            for j in [i.wrapping_sub(1), i + 1] {
                if j < n {
                    if i == 1 && j == 2 {
                        // 1 = 0.25 + 0.75: two resistors between one pair of nodes.
                        a.columns.extend([2, 2]);
                        a.conductances.extend([0.25, 0.75]);
                    } else {
                        a.columns.push(j as u32);
                        a.conductances.push(1.0);
                    }
                }
            }
            a.row_start.push(a.columns.len());
        }
        a
    }

    #[test]
    fn transpose_and_products_match_dense_arithmetic() {
        let p = csr(&[
            vec![1.0, 0.0],
            vec![0.5, 0.5],
            vec![0.0, 1.0],
            vec![0.0, 0.25],
            vec![0.0, 0.0],
        ]);
        let t = p.transpose();
        let pd = dense(&p);
        let td = dense(&t);
        for i in 0..5 {
            for j in 0..2 {
                assert_eq!(pd[i][j], td[j][i]);
            }
        }
        let a = chain(5);
        let coarse = galerkin(&t, &a, &p);
        let expected = matmul(&td, &matmul(&dense_level(&a), &pd));
        let got = dense_level(&coarse);
        for i in 0..2 {
            for j in 0..2 {
                assert!(
                    (got[i][j] - expected[i][j]).abs() < 1e-14,
                    "{got:?} vs {expected:?}"
                );
            }
        }
        // y = P·x and y += P·x.
        let x = [2.0, -1.0];
        let mut y = vec![0.0; 5];
        p.multiply(&x, &mut y);
        assert_eq!(y, vec![2.0, 0.5, -1.0, -0.25, 0.0]);
        p.multiply_add(&x, &mut y);
        assert_eq!(y, vec![4.0, 1.0, -2.0, -0.5, 0.0]);
    }
}
