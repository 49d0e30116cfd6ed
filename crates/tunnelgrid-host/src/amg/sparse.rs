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
    ///
    /// In parallel over chunks of rows: each chunk counts its entries per column, the counts
    /// give every chunk its first place in each row of the transpose (chunks in order), and
    /// each chunk writes its entries there: the result of a sequential pass, bit for bit.
    pub fn transpose(&self) -> Csr {
        use crate::atomic_view::{as_atomic, as_atomic_u64};
        use std::sync::atomic::Ordering::Relaxed;
        let rows = self.rows();
        // Two chunks per thread, but at most one per two entries of a transposed row: each
        // chunk's counts take 8 bytes a column, which on many threads would outgrow the
        // transpose itself.
        let wanted = (2 * rayon::current_num_threads())
            .min(self.entries() / (2 * self.cols.max(1)))
            .max(1);
        let per_chunk = rows.div_ceil(wanted).max(1);
        let chunks = rows.div_ceil(per_chunk);
        let rows_of = |c: usize| c * per_chunk..((c + 1) * per_chunk).min(rows);
        let mut places: Vec<Vec<usize>> = (0..chunks)
            .into_par_iter()
            .map(|c| {
                let range = rows_of(c);
                let mut count = vec![0usize; self.cols];
                for &j in &self.columns[self.row_start[range.start]..self.row_start[range.end]] {
                    count[j as usize] += 1;
                }
                count
            })
            .collect();
        // Counts → the first place of each chunk's entries in each row of the transpose.
        let mut row_start = vec![0usize; self.cols + 1];
        let mut next = 0;
        for j in 0..self.cols {
            row_start[j] = next;
            for place in &mut places {
                let count = place[j];
                place[j] = next;
                next += count;
            }
        }
        row_start[self.cols] = next;
        let mut columns = vec![0u32; self.entries()];
        let mut bits = vec![0u64; self.entries()];
        {
            let (columns, bits) = (as_atomic(&mut columns), as_atomic_u64(&mut bits));
            places
                .into_par_iter()
                .enumerate()
                .for_each(|(c, mut place)| {
                    for i in rows_of(c) {
                        for (j, v) in self.row(i) {
                            let at = &mut place[j as usize];
                            columns[*at].store(i as u32, Relaxed);
                            bits[*at].store(v.to_bits(), Relaxed);
                            *at += 1;
                        }
                    }
                });
        }
        Csr {
            cols: rows,
            row_start,
            columns,
            // Collected in place: u64 and f64 share size and alignment.
            values: bits.into_iter().map(f64::from_bits).collect(),
        }
    }
}

/// A dense row accumulator over `cols` columns: adds into a value per column and remembers the
/// columns touched, in the order first touched. Each column's value sits beside the stamp of
/// the last row that touched it, so that an add on a large level costs one cache line, and a
/// finished row needs no clearing (the next row has a new stamp).
pub struct Accumulator {
    slots: Vec<Slot>,
    order: Vec<u32>,
    /// The current row's stamp (slots of older rows hold smaller ones).
    stamp: u32,
}

#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Slot {
    value: f64,
    stamp: u32,
}

/// `cols` default slots, allocated zeroed: a large block is fresh mapped memory, so the slots a
/// block of rows never reaches (most of them, on a fine level cut into blocks) are never
/// touched, where writing each default would fault in the whole array for every accumulator.
fn zeroed_slots(cols: usize) -> Vec<Slot> {
    let layout = std::alloc::Layout::array::<Slot>(cols).expect("accumulator size overflows");
    if layout.size() == 0 {
        return Vec::new();
    }
    // SAFETY: the layout is Slot's array layout of nonzero size; all-zero bits are a valid Slot
    // (0.0 and stamp 0, which is `Slot::default()`), so the vector holds `cols` initialised
    // slots, and it is given the allocation with the layout the global allocator returned.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut Slot;
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Vec::from_raw_parts(ptr, cols, cols)
    }
}

impl Accumulator {
    fn new(cols: usize) -> Self {
        Self {
            slots: zeroed_slots(cols),
            order: Vec::new(),
            stamp: 1,
        }
    }

    /// Adds v to the row's entry in column `col`.
    #[inline(always)]
    pub fn add(&mut self, col: u32, v: f64) {
        let slot = &mut self.slots[col as usize];
        if slot.stamp != self.stamp {
            // 0.0 + v, as a cleared value would give (−0.0 becomes 0.0).
            *slot = Slot {
                value: 0.0 + v,
                stamp: self.stamp,
            };
            self.order.push(col);
        } else {
            slot.value += v;
        }
    }

    /// Hands the row to `out` (column, value) in first-touch order and starts a new row.
    fn drain(&mut self, mut out: impl FnMut(u32, f64)) {
        for &c in &self.order {
            out(c, self.slots[c as usize].value);
        }
        self.order.clear();
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // After 2³² − 1 rows: every slot's stamp is old again.
            self.slots.iter_mut().for_each(|s| s.stamp = 0);
            self.stamp = 1;
        }
    }
}

/// A sparse product row by row: `terms(i, row)` calls `row.add(column, value)` for every term
/// of output row i; terms with equal columns are summed. (The accumulator itself is handed
/// over, not a `dyn FnMut`, so that every add can be inlined into the caller's loops.)
/// `keep(i, column, value)` filters the summed entries (to split off a diagonal or drop exact
/// zeros).
pub fn rows_by_gustavson(
    rows: usize,
    cols: usize,
    terms: impl Fn(usize, &mut Accumulator) + Sync,
    keep: impl Fn(usize, u32, f64) -> bool + Sync,
) -> Csr {
    let parts = gustavson_parts(rows, cols, terms, |i, acc, part| {
        part.push_row(acc, |c, v| keep(i, c, v))
    });
    let (row_start, columns, values, _) = concatenate(parts, rows);
    Csr {
        cols,
        row_start,
        columns,
        values,
    }
}

/// The rows of a product, block by block: `terms` as for [`rows_by_gustavson`], and
/// `finish(i, acc, part)` moves row i from the accumulator into the block's part.
fn gustavson_parts(
    rows: usize,
    cols: usize,
    terms: impl Fn(usize, &mut Accumulator) + Sync,
    finish: impl Fn(usize, &mut Accumulator, &mut Part) + Sync,
) -> Vec<Part> {
    // A few blocks per thread, each with one accumulator; rows inside a block in order.
    let blocks = (4 * rayon::current_num_threads()).clamp(1, rows.max(1));
    let per_block = rows.div_ceil(blocks).max(1);
    (0..rows.div_ceil(per_block))
        .into_par_iter()
        .map_init(
            || Accumulator::new(cols),
            |acc, block| {
                let first = block * per_block;
                let last = (first + per_block).min(rows);
                let mut part = Part::with_room(last - first);
                for i in first..last {
                    terms(i, acc);
                    finish(i, acc, &mut part);
                }
                part
            },
        )
        .collect()
}

/// The rows of one block of a product.
#[derive(Default)]
struct Part {
    lengths: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<f64>,
    /// The diagonal of each row, for a product in the level form D − C
    /// ([`Part::push_level_row`]); empty otherwise.
    diagonal: Vec<f64>,
}

impl Part {
    /// A part for `rows` rows, its entries given room for about 32 a row (at most 16 Mi, at
    /// least 4 Ki): room that is never written is never faulted in, so it costs address space,
    /// not memory. Grown a row at a time from empty, a part passes through every small size,
    /// each growth a copy into freshly faulted pages; given room from the start, it is mapped
    /// at once and grows, if it must, by remapping, without a copy. With `zeroed_slots`, this
    /// took a 256³ solve (p = 0.6) from 765 000 page faults to 311 000, 34 → 32 s.
    fn with_room(rows: usize) -> Self {
        let room = (32 * rows).clamp(1 << 12, 1 << 24);
        Self {
            lengths: Vec::with_capacity(rows),
            columns: Vec::with_capacity(room),
            values: Vec::with_capacity(room),
            // Left untouched by a product that is not in the level form.
            diagonal: Vec::with_capacity(rows),
        }
    }

    /// Appends the row held in `acc` (entries that `keep` accepts) and clears `acc`.
    fn push_row(&mut self, acc: &mut Accumulator, keep: impl Fn(u32, f64) -> bool) {
        let before = self.columns.len();
        acc.drain(|c, v| {
            if keep(c, v) {
                self.columns.push(c);
                self.values.push(v);
            }
        });
        self.lengths.push(self.columns.len() - before);
    }

    /// Appends row i held in `acc` in the level form: its diagonal apart, and each nonzero
    /// off-diagonal entry v as the conductance −v. Clears `acc`.
    fn push_level_row(&mut self, i: usize, acc: &mut Accumulator) {
        let before = self.columns.len();
        let mut diagonal = 0.0;
        acc.drain(|c, v| {
            if c as usize == i {
                diagonal += v;
            } else if v != 0.0 {
                self.columns.push(c);
                self.values.push(-v);
            }
        });
        self.diagonal.push(diagonal);
        self.lengths.push(self.columns.len() - before);
    }
}

/// The blocks' rows, in block order, as one matrix: (row starts, columns, values, diagonal),
/// copied block by block in parallel.
fn concatenate(parts: Vec<Part>, rows: usize) -> (Vec<usize>, Vec<u32>, Vec<f64>, Vec<f64>) {
    let entries: usize = parts.iter().map(|p| p.columns.len()).sum();
    let diagonals: usize = parts.iter().map(|p| p.diagonal.len()).sum();
    let mut row_start = vec![0usize; rows + 1];
    let (mut columns, mut values) = (vec![0u32; entries], vec![0.0; entries]);
    let mut diagonal = vec![0.0; diagonals];
    {
        // Each part's share of the outputs, as disjoint slices.
        let mut shares = Vec::with_capacity(parts.len());
        let (mut starts, mut cols, mut vals, mut diag) = (
            &mut row_start[1..],
            &mut columns[..],
            &mut values[..],
            &mut diagonal[..],
        );
        let mut offset = 0;
        for part in &parts {
            let (s, rest_s) = starts.split_at_mut(part.lengths.len());
            let (c, rest_c) = cols.split_at_mut(part.columns.len());
            let (v, rest_v) = vals.split_at_mut(part.values.len());
            let (d, rest_d) = diag.split_at_mut(part.diagonal.len());
            shares.push((offset, s, c, v, d));
            offset += part.columns.len();
            (starts, cols, vals, diag) = (rest_s, rest_c, rest_v, rest_d);
        }
        // Each part is dropped as soon as it is copied, so the level and all its parts are
        // not held at once for longer than the copy takes.
        parts.into_par_iter().zip(shares).for_each(
            |(part, (offset, starts, columns, values, diagonal))| {
                let mut end = offset;
                for (start, len) in starts.iter_mut().zip(&part.lengths) {
                    end += len;
                    *start = end;
                }
                columns.copy_from_slice(&part.columns);
                values.copy_from_slice(&part.values);
                diagonal.copy_from_slice(&part.diagonal);
            },
        );
    }
    (row_start, columns, values, diagonal)
}

/// The blocks' rows of a product in the level form, as one level matrix.
fn level_of(parts: Vec<Part>, rows: usize) -> Laplacian {
    let (row_start, columns, conductances, diagonal) = concatenate(parts, rows);
    Laplacian {
        diagonal,
        row_start,
        columns,
        conductances,
    }
}

/// Rows of A·P computed for one block of coarse rows, each once, looked up by fine node.
struct RowCache {
    /// 1 + the slot of each fine node's row, 0 where none is held.
    slot: Vec<u32>,
    /// The fine node of each slot (to clear `slot` again).
    nodes: Vec<u32>,
    /// Slot s's entries are `start[s]..start[s + 1]`.
    start: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<f64>,
}

impl RowCache {
    fn new(fine: usize) -> Self {
        Self {
            // Zeroed allocations: only the pages a block touches are ever written.
            slot: vec![0; fine],
            nodes: Vec::new(),
            start: vec![0],
            columns: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Row i's (columns, values), if held.
    #[inline(always)]
    fn row(&self, i: usize) -> Option<(&[u32], &[f64])> {
        let s = self.slot[i].checked_sub(1)? as usize;
        let range = self.start[s]..self.start[s + 1];
        Some((&self.columns[range.clone()], &self.values[range]))
    }

    /// Holds row i, summed in `acc` (which is cleared).
    fn insert(&mut self, i: usize, acc: &mut Accumulator) {
        self.nodes.push(i as u32);
        self.slot[i] = self.nodes.len() as u32;
        acc.drain(|c, v| {
            self.columns.push(c);
            self.values.push(v);
        });
        self.start.push(self.columns.len());
    }

    /// Forgets every row.
    fn clear(&mut self) {
        for &i in &self.nodes {
            self.slot[i as usize] = 0;
        }
        self.nodes.clear();
        self.start.truncate(1);
        self.columns.clear();
        self.values.clear();
    }
}

/// The Galerkin coarse matrix R·A·P of a level matrix A = D − C (`Laplacian`), in the level
/// form, exact zeros dropped.
///
/// A sparse level (a lattice's: a handful of neighbours a node) is summed straight from R, A
/// and P ([`galerkin_direct`]); a denser one (the coarse levels, about 25 entries a row) in two
/// steps through the rows of A·P ([`galerkin_two_step`]), which on such a level does a third
/// of the arithmetic. Each way is the same bits on every run; the two differ in rounding.
pub fn galerkin(r: &Csr, a: &Laplacian, p: &Csr) -> Laplacian {
    // Off-diagonal entries a row above which the two-step product is the faster (measured on
    // bond percolation at 128³: 3.6 a row on the fine level, 25 on the next).
    const DENSE_ROW: usize = 8;
    if a.columns.len() > DENSE_ROW * a.len() {
        galerkin_two_step(r, a, p)
    } else {
        galerkin_direct(r, a, p)
    }
}

/// R·A·P with each coarse row summed straight from R, A and P: the product A·P is never
/// stored, since on a fine level it would be the largest array of the whole setup (about ten
/// entries per fine node).
pub fn galerkin_direct(r: &Csr, a: &Laplacian, p: &Csr) -> Laplacian {
    let parts = gustavson_parts(
        r.rows(),
        p.cols,
        |coarse_row, acc| {
            for (i, rv) in r.row(coarse_row) {
                let i = i as usize;
                let scaled = rv * a.diagonal[i];
                for (j, v) in p.row(i) {
                    acc.add(j, scaled * v);
                }
                for k in a.row_start[i]..a.row_start[i + 1] {
                    let coupling = -rv * a.conductances[k];
                    for (j, v) in p.row(a.columns[k] as usize) {
                        acc.add(j, coupling * v);
                    }
                }
            }
        },
        |i, acc, part| part.push_level_row(i, acc),
    );
    level_of(parts, r.rows())
}

/// R·A·P in two steps per block of coarse rows: first the rows of A·P of every fine node the
/// block's rows of R reach, each once, then each coarse row as the sum of R's entries times
/// those rows. Summed straight from R, A and P, a fine node's row of A·P is redone for every
/// coarse row that reaches it (about twenty times on the first coarse level); storing the whole
/// of A·P would make it one of the largest arrays of the setup. A block's cache holds its share
/// of A·P only (rows its neighbours share are computed once per block). Each row of A·P and of
/// the result is summed in a fixed order, so the bits do not depend on the blocks or threads.
pub fn galerkin_two_step(r: &Csr, a: &Laplacian, p: &Csr) -> Laplacian {
    let (rows, cols) = (r.rows(), p.cols);
    // Blocks are slabs of consecutive aggregates, so most fine rows a block needs are its own.
    let blocks = (4 * rayon::current_num_threads())
        .max(32)
        .clamp(1, rows.max(1));
    let per_block = rows.div_ceil(blocks).max(1);
    let parts: Vec<Part> = (0..rows.div_ceil(per_block))
        .into_par_iter()
        .map_init(
            || (Accumulator::new(cols), RowCache::new(a.len())),
            |(acc, cache), block| {
                let first = block * per_block;
                let last = (first + per_block).min(rows);
                for coarse_row in first..last {
                    for (i, _) in r.row(coarse_row) {
                        let i = i as usize;
                        if cache.row(i).is_none() {
                            // (A·P)_i = d_i·P_i − Σ_k c_ik·P_k.
                            let d = a.diagonal[i];
                            for (j, v) in p.row(i) {
                                acc.add(j, d * v);
                            }
                            for k in a.row_start[i]..a.row_start[i + 1] {
                                let c = a.conductances[k];
                                for (j, v) in p.row(a.columns[k] as usize) {
                                    acc.add(j, -c * v);
                                }
                            }
                            cache.insert(i, acc);
                        }
                    }
                }
                let mut part = Part::with_room(last - first);
                for coarse_row in first..last {
                    for (i, rv) in r.row(coarse_row) {
                        if let Some((columns, values)) = cache.row(i as usize) {
                            for (&j, &v) in columns.iter().zip(values) {
                                acc.add(j, rv * v);
                            }
                        }
                    }
                    part.push_level_row(coarse_row, acc);
                }
                cache.clear();
                part
            },
        )
        .collect();
    level_of(parts, rows)
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
        let expected = matmul(&td, &matmul(&dense_level(&a), &pd));
        for coarse in [galerkin_direct(&t, &a, &p), galerkin_two_step(&t, &a, &p)] {
            let got = dense_level(&coarse);
            for i in 0..2 {
                for j in 0..2 {
                    assert!(
                        (got[i][j] - expected[i][j]).abs() < 1e-14,
                        "{got:?} vs {expected:?}"
                    );
                }
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

    /// A level of a real hierarchy: a 3D grid with uneven conductances, its aggregates and
    /// smoothed prolongator (more coarse rows than the two-step product has blocks).
    fn grid_level() -> (Laplacian, Csr) {
        use super::super::{aggregate::aggregate, fixtures::grid_with, prolongator};
        let a = grid_with(14, 11, 9, |i, j| 1.0 + ((i * 31 + j * 17) % 7) as f64);
        let (of, count) = aggregate(&a, 0.0);
        let omega = 4.0 / 3.0 / prolongator::spectral_radius(&a);
        let p = prolongator::smoothed_prolongator(&a, &of, count, omega);
        (a, p)
    }

    #[test]
    fn the_parallel_transpose_is_the_sequential_one() {
        let (_, p) = grid_level();
        let t = p.transpose();
        assert_eq!(
            (t.rows(), t.cols, t.entries()),
            (p.cols, p.rows(), p.entries())
        );
        // Entry by entry, each row of the transpose in increasing column order.
        let mut seen = vec![Vec::new(); p.cols];
        for i in 0..p.rows() {
            for (j, v) in p.row(i) {
                seen[j as usize].push((i as u32, v));
            }
        }
        for (j, expected) in seen.iter().enumerate() {
            assert_eq!(&t.row(j).collect::<Vec<_>>(), expected, "row {j}");
        }
    }

    #[test]
    fn both_galerkin_products_agree_on_a_grid_level() {
        let (a, p) = grid_level();
        let r = p.transpose();
        assert!(r.rows() > 64, "{} coarse rows", r.rows());
        let (direct, two_step) = (galerkin_direct(&r, &a, &p), galerkin_two_step(&r, &a, &p));
        let (d, t) = (dense_level(&direct), dense_level(&two_step));
        let scale = direct.diagonal.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..d.len() {
            for j in 0..d.len() {
                assert!((d[i][j] - t[i][j]).abs() <= 1e-13 * scale, "({i}, {j})");
            }
        }
        // Symmetric, as a Galerkin product of a symmetric matrix is.
        for i in 0..t.len() {
            for j in 0..i {
                assert!((t[i][j] - t[j][i]).abs() <= 1e-13 * scale);
            }
        }
    }
}
