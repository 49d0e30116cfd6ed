//! Newman–Ziff sweeps (Newman & Ziff, PRE 64, 016706, 2001) for the research mode: sites (or
//! bonds) of a lattice are added one at a time in a random order, and a union-find over the
//! sites records, for every sample, the first occupation count n at which a cluster spans (open
//! axis) or wraps (periodic axis) each axis. One sweep thus gives the whole microcanonical curve
//! R_n of a sample; the binomial convolution turns it into R_L(p) for any p.
//!
//! Spanning uses face-touch bits OR-ed at the roots, as the engines do; a multi-site lattice's
//! faces are its first and last cell layers (docs/MODEL-READINGS.md). Wrapping keeps, for every
//! site, the periodic image shift relative to its union-find parent, with exactly the convention
//! of [`crate::wrap::ShiftForest`] (which works on cluster roots of a labelled lattice; this is its
//! array twin over sites, needed because a sweep joins sites one at a time): a bond that closes a
//! loop with a non-zero net image shift wraps every axis where the shift is non-zero.
//!
//! The random order is a Fisher–Yates shuffle drawn from the project's hash (MODEL.md §4) with
//! the sample's seed, so every run is reproducible.

use rayon::prelude::*;
use tunnelgrid_model::hash::{StreamKey, STREAM_SWEEP_ORDER};
use tunnelgrid_model::lattice::Lattice;
use tunnelgrid_model::Boundary;

/// What is occupied at random.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Percolation {
    /// Sites are occupied; occupied neighbours are bonded.
    Site,
    /// Every site is present; bonds are opened.
    Bond,
}

impl Percolation {
    /// "site" or "bond".
    pub fn name(self) -> &'static str {
        match self {
            Percolation::Site => "site",
            Percolation::Bond => "bond",
        }
    }
}

/// One bond of the lattice graph: its two sites and the periodic crossings from `a` to `b`.
#[derive(Debug, Clone, Copy)]
struct GraphBond {
    a: u32,
    b: u32,
    crossing: [i8; 3],
}

/// The lattice graph a sweep runs on, built once per size and shared by every sample.
#[derive(Debug)]
pub struct SweepGraph {
    /// The lattice (kind, size, boundaries).
    pub lattice: Lattice,
    /// Site or bond percolation.
    pub percolation: Percolation,
    /// Every bond once (bond mode), or every site's neighbours in both directions (site mode, in
    /// compressed rows: the neighbours of site s are `neighbours[offsets[s]..offsets[s + 1]]`).
    bonds: Vec<GraphBond>,
    offsets: Vec<u32>,
    neighbours: Vec<(u32, [i8; 3])>,
    /// Face-touch bits per site: bit 2i low face of open axis i, bit 2i + 1 its high face.
    face_bits: Vec<u8>,
}

impl SweepGraph {
    /// Builds the graph. Refuses lattices of 2^32 sites or more (the sweep indexes with u32).
    pub fn new(lattice: Lattice, percolation: Percolation) -> Result<Self, String> {
        let sites = lattice.sites();
        if sites >= u32::MAX as u64 {
            return Err(format!(
                "a sweep indexes sites with u32: {sites} sites is too many"
            ));
        }
        let mut bonds = Vec::new();
        let mut face_bits = vec![0u8; sites as usize];
        for site in 0..sites {
            let (cell, b) = lattice.coords(site);
            for (axis, &c) in cell.iter().enumerate().take(lattice.axes()) {
                if lattice.boundary[axis] == Boundary::Open {
                    if lattice.on_face(c, axis, false) {
                        face_bits[site as usize] |= 1 << (2 * axis);
                    }
                    if lattice.on_face(c, axis, true) {
                        face_bits[site as usize] |= 2 << (2 * axis);
                    }
                }
            }
            for bond in lattice.forward_bonds(b) {
                if let Some(nb) = lattice.neighbour(cell, bond) {
                    bonds.push(GraphBond {
                        a: site as u32,
                        b: nb.site as u32,
                        crossing: nb.crossing.map(|c| c as i8),
                    });
                }
            }
        }
        let (offsets, neighbours) = match percolation {
            Percolation::Bond => (Vec::new(), Vec::new()),
            Percolation::Site => {
                let mut degree = vec![0u32; sites as usize + 1];
                for bond in &bonds {
                    degree[bond.a as usize + 1] += 1;
                    degree[bond.b as usize + 1] += 1;
                }
                for s in 0..sites as usize {
                    degree[s + 1] += degree[s];
                }
                let offsets = degree;
                let mut fill = offsets.clone();
                let mut neighbours = vec![(0u32, [0i8; 3]); bonds.len() * 2];
                for bond in &bonds {
                    neighbours[fill[bond.a as usize] as usize] = (bond.b, bond.crossing);
                    fill[bond.a as usize] += 1;
                    neighbours[fill[bond.b as usize] as usize] =
                        (bond.a, bond.crossing.map(|c| -c));
                    fill[bond.b as usize] += 1;
                }
                (offsets, neighbours)
            }
        };
        let bonds = match percolation {
            Percolation::Bond => bonds,
            Percolation::Site => Vec::new(),
        };
        Ok(Self {
            lattice,
            percolation,
            bonds,
            offsets,
            neighbours,
            face_bits,
        })
    }

    /// Number of sites of the lattice.
    pub fn sites(&self) -> u32 {
        self.face_bits.len() as u32
    }

    /// Number of things occupied at random: sites (site mode) or bonds (bond mode).
    pub fn order_len(&self) -> u32 {
        match self.percolation {
            Percolation::Site => self.sites(),
            Percolation::Bond => self.bonds.len() as u32,
        }
    }

    /// Bytes a graph of `lattice` would take, to refuse too-large sizes before building it.
    pub fn memory_estimate(lattice: &Lattice, percolation: Percolation) -> u64 {
        let sites = lattice.sites();
        let bonds = lattice.possible_bonds();
        let graph = match percolation {
            Percolation::Site => 4 * sites + 2 * bonds * 8,
            Percolation::Bond => bonds * 12,
        };
        // + face bits, and per worker thread the sweep state (parent, size, shift, faces, order).
        graph + sites + rayon::current_num_threads() as u64 * (sites * 22 + bonds * 4)
    }
}

/// What one sample's sweep found: the first occupation count n (1 ≤ n ≤ N) at which each event
/// happened, `None` if never.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepEvents {
    /// A cluster spans axis i (open axes only).
    pub span: [Option<u32>; 3],
    /// A cluster wraps axis i (periodic axes only).
    pub wrap: [Option<u32>; 3],
    /// Σ_n w_n · S_max(n) for the weights given to the sweep (the canonical largest-cluster size
    /// at the weights' p), in sites; 0 without weights.
    pub weighted_largest: f64,
}

/// Binomial weights B(N, n, p) for n in `start..start + weights.len()`, the range outside which
/// they are below 1e-18 of the mode (Newman & Ziff's convolution).
#[derive(Debug, Clone)]
pub struct BinomialWeights {
    /// First n with a stored weight.
    pub start: u32,
    /// B(N, start + i, p).
    pub weights: Vec<f64>,
}

impl BinomialWeights {
    /// The weights of Binomial(N, p), computed outward from the mode by the ratio recurrence and
    /// normalised to sum 1.
    pub fn new(n_total: u32, p: f64) -> Self {
        let p = p.clamp(0.0, 1.0);
        if p == 0.0 || p == 1.0 {
            let n = if p == 0.0 { 0 } else { n_total };
            return Self {
                start: n,
                weights: vec![1.0],
            };
        }
        let total = n_total as f64;
        let mode = ((total + 1.0) * p).floor().min(total) as u32;
        let ratio = p / (1.0 - p);
        let mut up = vec![1.0f64];
        let mut n = mode;
        while n < n_total {
            let next = up[up.len() - 1] * (total - n as f64) / (n as f64 + 1.0) * ratio;
            if next < 1e-18 {
                break;
            }
            up.push(next);
            n += 1;
        }
        let mut down = Vec::new();
        let mut w = 1.0f64;
        let mut n = mode;
        while n > 0 {
            w *= n as f64 / (total - n as f64 + 1.0) / ratio;
            if w < 1e-18 {
                break;
            }
            down.push(w);
            n -= 1;
        }
        let start = mode - down.len() as u32;
        let mut weights: Vec<f64> = down.into_iter().rev().chain(up).collect();
        let sum: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= sum);
        Self { start, weights }
    }

    /// P(X ≥ n) for X ~ Binomial(N, p).
    pub fn tail(&self, n: u32) -> f64 {
        if n <= self.start {
            return 1.0;
        }
        let i = (n - self.start) as usize;
        if i >= self.weights.len() {
            return 0.0;
        }
        self.weights[i..].iter().sum()
    }

    /// Suffix sums, so that `tails[i]` = P(X ≥ start + i); for many tail queries at one p.
    pub fn tails(&self) -> Vec<f64> {
        let mut tails = vec![0.0; self.weights.len() + 1];
        for i in (0..self.weights.len()).rev() {
            tails[i] = tails[i + 1] + self.weights[i];
        }
        tails
    }

    fn weight(&self, n: u32) -> f64 {
        n.checked_sub(self.start)
            .and_then(|i| self.weights.get(i as usize))
            .copied()
            .unwrap_or(0.0)
    }
}

/// The reusable state of one sweep: union-find over sites with sizes, face bits and image shifts.
pub struct Sweep {
    parent: Vec<u32>,
    size: Vec<u32>,
    shift: Vec<[i32; 3]>,
    faces: Vec<u8>,
    occupied: Vec<bool>,
    order: Vec<u32>,
}

/// The seed of sample `i` of a run seeded with `seed`.
pub fn sample_seed(seed: u64, sample: u64) -> u64 {
    seed.wrapping_add(sample.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

impl Sweep {
    /// State sized for `graph`.
    pub fn new(graph: &SweepGraph) -> Self {
        let sites = graph.sites() as usize;
        Self {
            parent: vec![0; sites],
            size: vec![0; sites],
            shift: vec![[0; 3]; sites],
            faces: vec![0; sites],
            occupied: vec![false; sites],
            order: Vec::with_capacity(graph.order_len() as usize),
        }
    }

    /// The occupation order of a sample: a Fisher–Yates shuffle of 0..N drawn from the hash
    /// with two streams per step (a 64-bit draw, so the bias of the reduction is below 2^−32).
    pub fn shuffled_order(n_total: u32, seed: u64, order: &mut Vec<u32>) {
        order.clear();
        order.extend(0..n_total);
        let high = StreamKey::new(seed, STREAM_SWEEP_ORDER);
        let low = StreamKey::new(seed, STREAM_SWEEP_ORDER + 1);
        for i in (1..n_total as u64).rev() {
            let draw = ((high.hash(i) as u64) << 32) | low.hash(i) as u64;
            let j = ((draw as u128 * (i as u128 + 1)) >> 64) as usize;
            order.swap(i as usize, j);
        }
    }

    /// Runs one sample with the shuffled order of `seed`.
    pub fn run(
        &mut self,
        graph: &SweepGraph,
        seed: u64,
        weights: Option<&BinomialWeights>,
    ) -> SweepEvents {
        let mut order = std::mem::take(&mut self.order);
        Self::shuffled_order(graph.order_len(), seed, &mut order);
        let events = self.run_order(graph, &order, weights);
        self.order = order;
        events
    }

    /// Root of `x` and the image shift of `x` relative to it (path halving; roots have shift 0).
    #[inline(always)]
    fn find(&mut self, mut x: u32) -> (u32, [i32; 3]) {
        let mut total = [0i32; 3];
        loop {
            let p = self.parent[x as usize];
            if p == x {
                return (x, total);
            }
            let gp = self.parent[p as usize];
            let sp = self.shift[p as usize];
            let sx = &mut self.shift[x as usize];
            for a in 0..3 {
                sx[a] += sp[a];
                total[a] += sx[a];
            }
            self.parent[x as usize] = gp;
            x = gp;
        }
    }

    /// Joins the clusters of `a` and of the image of `b` shifted by `crossing` (the convention
    /// of `ShiftForest::join`). Returns the root, and the axes a closed loop wraps (bit i).
    #[inline(always)]
    fn union(&mut self, a: u32, b: u32, crossing: [i8; 3]) -> (u32, u8) {
        let (ra, sa) = self.find(a);
        let (rb, sb) = self.find(b);
        let d: [i32; 3] = std::array::from_fn(|i| crossing[i] as i32 + sa[i] - sb[i]);
        if ra == rb {
            let wraps = (0..3).fold(0u8, |m, i| m | (((d[i] != 0) as u8) << i));
            return (ra, wraps);
        }
        let (keep, attach, shift) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb, d)
        } else {
            (rb, ra, d.map(|v| -v))
        };
        self.parent[attach as usize] = keep;
        self.shift[attach as usize] = shift;
        self.size[keep as usize] += self.size[attach as usize];
        self.faces[keep as usize] |= self.faces[attach as usize];
        (keep, 0)
    }

    /// Runs one sample with a given order (site indices in site mode, bond indices in bond mode;
    /// the order may be any permutation, which the tests use to compare with direct labelling).
    pub fn run_order(
        &mut self,
        graph: &SweepGraph,
        order: &[u32],
        weights: Option<&BinomialWeights>,
    ) -> SweepEvents {
        let axes = graph.lattice.axes();
        let mut events = SweepEvents::default();
        let mut pending_span: u8 = 0;
        let mut pending_wrap: u8 = 0;
        for axis in 0..axes {
            match graph.lattice.boundary[axis] {
                Boundary::Open => pending_span |= 1 << axis,
                Boundary::Periodic => pending_wrap |= 1 << axis,
            }
        }
        let sites = graph.sites() as usize;
        let mut largest: u32 = match graph.percolation {
            Percolation::Site => 0,
            Percolation::Bond => 1,
        };
        match graph.percolation {
            Percolation::Site => self.occupied[..sites].fill(false),
            Percolation::Bond => {
                for s in 0..sites {
                    self.parent[s] = s as u32;
                    self.size[s] = 1;
                    self.shift[s] = [0; 3];
                    self.faces[s] = graph.face_bits[s];
                }
            }
        }
        let mut weighted = weights.map_or(0.0, |w| w.weight(0) * largest as f64);
        for (i, &item) in order.iter().enumerate() {
            let n = i as u32 + 1;
            let (wrapped, touched_faces) = match graph.percolation {
                Percolation::Site => {
                    let s = item as usize;
                    self.occupied[s] = true;
                    self.parent[s] = item;
                    self.size[s] = 1;
                    self.shift[s] = [0; 3];
                    self.faces[s] = graph.face_bits[s];
                    let mut root = item;
                    let mut wrapped = 0u8;
                    let range = graph.offsets[s] as usize..graph.offsets[s + 1] as usize;
                    for &(t, crossing) in &graph.neighbours[range] {
                        if self.occupied[t as usize] {
                            let (r, w) = self.union(item, t, crossing);
                            root = r;
                            wrapped |= w;
                        }
                    }
                    let (root, _) = self.find(root);
                    largest = largest.max(self.size[root as usize]);
                    (wrapped, self.faces[root as usize])
                }
                Percolation::Bond => {
                    let bond = graph.bonds[item as usize];
                    let (root, wrapped) = self.union(bond.a, bond.b, bond.crossing);
                    largest = largest.max(self.size[root as usize]);
                    (wrapped, self.faces[root as usize])
                }
            };
            let spanned = (0..3).fold(0u8, |m, a| {
                m | ((((touched_faces >> (2 * a)) & 3 == 3) as u8) << a)
            });
            let new_span = spanned & pending_span;
            let new_wrap = wrapped & pending_wrap;
            for axis in 0..3 {
                if new_span & (1 << axis) != 0 {
                    events.span[axis] = Some(n);
                }
                if new_wrap & (1 << axis) != 0 {
                    events.wrap[axis] = Some(n);
                }
            }
            pending_span &= !new_span;
            pending_wrap &= !new_wrap;
            if let Some(w) = weights {
                weighted += w.weight(n) * largest as f64;
            }
        }
        events.weighted_largest = weighted;
        events
    }
}

/// Runs `samples` sweeps in parallel (sample i with `sample_seed(seed, i)`), in sample order.
pub fn run_samples(
    graph: &SweepGraph,
    samples: u64,
    seed: u64,
    weights: Option<&BinomialWeights>,
) -> Vec<SweepEvents> {
    (0..samples)
        .into_par_iter()
        .map_init(
            || Sweep::new(graph),
            |sweep, i| sweep.run(graph, sample_seed(seed, i), weights),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelgrid_model::LatticeKind;

    #[test]
    fn binomial_weights_sum_and_mean() {
        for &(n, p) in &[(10u32, 0.3), (1000, 0.5), (100_000, 0.3116), (7, 0.99)] {
            let w = BinomialWeights::new(n, p);
            let sum: f64 = w.weights.iter().sum();
            let mean: f64 = w
                .weights
                .iter()
                .enumerate()
                .map(|(i, x)| (w.start as f64 + i as f64) * x)
                .sum();
            assert!((sum - 1.0).abs() < 1e-12);
            assert!(
                (mean - n as f64 * p).abs() < 1e-6 * n as f64,
                "{n} {p}: {mean}"
            );
        }
        // Exact small case: Binomial(4, 1/2) = (1, 4, 6, 4, 1)/16.
        let w = BinomialWeights::new(4, 0.5);
        assert_eq!(w.start, 0);
        for (got, want) in w.weights.iter().zip([1.0, 4.0, 6.0, 4.0, 1.0]) {
            assert!((got - want / 16.0).abs() < 1e-15);
        }
        assert!((w.tail(3) - 5.0 / 16.0).abs() < 1e-15);
        assert_eq!(w.tails()[3], w.tail(3));
    }

    #[test]
    fn shuffle_is_a_permutation_and_reproducible() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        Sweep::shuffled_order(1000, 7, &mut a);
        Sweep::shuffled_order(1000, 7, &mut b);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        Sweep::shuffled_order(1000, 8, &mut b);
        assert_ne!(a, b);
    }

    /// A ring of L sites along a periodic x axis wraps exactly when its last site is added.
    #[test]
    fn a_full_periodic_row_wraps_when_complete() {
        let lattice = Lattice::new(
            LatticeKind::Square,
            [6, 1, 1],
            [Boundary::Periodic, Boundary::Open, Boundary::Open],
        );
        let graph = SweepGraph::new(lattice, Percolation::Site).unwrap();
        let mut sweep = Sweep::new(&graph);
        let events = sweep.run_order(&graph, &[0, 2, 4, 1, 3, 5], None);
        assert_eq!(events.wrap[0], Some(6));
        assert_eq!(events.wrap[1], None);
        // y is open and one site thick: every site touches both y faces.
        assert_eq!(events.span[1], Some(1));
        let graph = SweepGraph::new(graph.lattice.clone(), Percolation::Bond).unwrap();
        let mut sweep = Sweep::new(&graph);
        assert_eq!(graph.order_len(), 6);
        let events = sweep.run_order(&graph, &[5, 0, 1, 2, 3, 4], None);
        assert_eq!(events.wrap[0], Some(6));
    }
}
