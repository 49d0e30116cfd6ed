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
//! loop with a non-zero net image shift wraps every axis where the shift is non-zero. Neither
//! needs a scan: both are updated by the unions themselves.
//!
//! The random order is a Fisher–Yates shuffle drawn from the project's hash (MODEL.md §4) with
//! the sample's seed, so every run is reproducible.
//!
//! What makes it fast (docs/BENCHMARKS.md, "Newman–Ziff sweeps"): one 8-byte word pair per site
//! (parent or negative size, and the image shift or the root's face bits: [`forest`]);
//! neighbours computed from the site index instead of read from a table ([`geometry`]); the
//! shuffle's swap targets prefetched ([`shuffle`]); a sweep that needs only first events stops
//! once every event has happened; one sweep state per worker thread, reused by all its samples.

mod forest;
mod geometry;
mod shift;
mod shuffle;
mod weights;

use forest::Forest;
use geometry::Geometry;
use shift::{Packed, Wide};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tunnelgrid_model::lattice::Lattice;
use tunnelgrid_model::Boundary;

pub use shuffle::shuffled_order_plain;
pub use weights::BinomialWeights;

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

/// The lattice a sweep runs on, shared by every sample of a size. It stores no per-site table:
/// neighbours are computed. Only bond percolation with a face that cuts bonds keeps one u32 per
/// bond (which forward-bond slot `site·F + k` the bond index is), since bond indices then skip
/// the cut slots.
#[derive(Debug)]
pub struct SweepGraph {
    /// The lattice (kind, size, boundaries).
    pub lattice: Lattice,
    /// Site or bond percolation.
    pub percolation: Percolation,
    geometry: Geometry,
    /// Forward bonds per site (every lattice kind has the same number on every basis site).
    forward_bonds: u32,
    /// Bond mode with cut bonds: the slot of every bond, ascending.
    bond_slots: Option<Vec<u32>>,
    order_len: u32,
}

impl SweepGraph {
    /// Builds the graph. Refuses lattices of 2^31 sites or more (the sweep keeps a site's parent
    /// or negative cluster size in one i32) and of 2^32 bonds or more in bond mode.
    pub fn new(lattice: Lattice, percolation: Percolation) -> Result<Self, String> {
        let sites = lattice.sites();
        if sites >= i32::MAX as u64 {
            return Err(format!(
                "a sweep indexes sites with i32: {sites} sites is too many"
            ));
        }
        if lattice.connectivity() as usize > forest::MAX_NEIGHBOURS {
            return Err(format!(
                "a sweep handles at most {} neighbours per site",
                forest::MAX_NEIGHBOURS
            ));
        }
        let geometry = Geometry::new(&lattice);
        let forward_bonds = geometry
            .uniform_forward_bonds()
            .ok_or("a sweep needs the same number of forward bonds on every basis site")?;
        let slots = sites * forward_bonds as u64;
        let bonds = lattice.possible_bonds();
        let (order_len, bond_slots) = match percolation {
            Percolation::Site => (sites, None),
            Percolation::Bond if slots >= u32::MAX as u64 => {
                return Err(format!(
                    "a bond sweep indexes bonds with u32: {slots} bonds is too many"
                ));
            }
            Percolation::Bond if bonds == slots => (bonds, None),
            Percolation::Bond => {
                // Graph order: sites in index order, forward bonds k that have a target.
                let mut table = Vec::with_capacity(bonds as usize);
                geometry.for_each_site(|site, place| {
                    for k in 0..geometry.forward_len(place.basis) {
                        if geometry.forward_target(&place, k).is_some() {
                            table.push(site * forward_bonds + k);
                        }
                    }
                });
                (bonds, Some(table))
            }
        };
        Ok(Self {
            lattice,
            percolation,
            geometry,
            forward_bonds,
            bond_slots,
            order_len: order_len as u32,
        })
    }

    /// Number of sites of the lattice.
    pub fn sites(&self) -> u32 {
        self.lattice.sites() as u32
    }

    /// Number of things occupied at random: sites (site mode) or bonds (bond mode).
    pub fn order_len(&self) -> u32 {
        self.order_len
    }

    /// Bytes a graph of `lattice` and its sweeps would take, to refuse too-large sizes before
    /// building it.
    pub fn memory_estimate(lattice: &Lattice, percolation: Percolation) -> u64 {
        let sites = lattice.sites();
        let bonds = lattice.possible_bonds();
        let (graph, order) = match percolation {
            Percolation::Site => (0, sites),
            Percolation::Bond => (bonds * 4, bonds),
        };
        // Per worker thread: 8 bytes of union-find per site and the order.
        graph + rayon::current_num_threads() as u64 * (sites * 8 + order * 4)
    }

    /// The axes whose events a sweep waits for: (span bits, wrap bits).
    fn pending(&self) -> (u8, u8) {
        let mut span = 0u8;
        let mut wrap = 0u8;
        for axis in 0..self.lattice.axes() {
            match self.lattice.boundary[axis] {
                Boundary::Open => span |= 1 << axis,
                Boundary::Periodic => wrap |= 1 << axis,
            }
        }
        (span, wrap)
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
    /// Items (sites or bonds) the sweep occupied: N with weights, otherwise up to the last event.
    pub occupied: u32,
}

/// The seed of sample `i` of a run seeded with `seed`.
pub fn sample_seed(seed: u64, sample: u64) -> u64 {
    seed.wrapping_add(sample.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// The reusable state of one sweep: the union-find with packed shifts, its wide twin (allocated
/// on the first sample that needs it) and the order.
pub struct Sweep {
    narrow: Forest<Packed>,
    wide: Option<Forest<Wide>>,
    order: Vec<u32>,
}

impl Sweep {
    /// State sized for `graph`.
    pub fn new(graph: &SweepGraph) -> Self {
        Self {
            narrow: Forest::new(graph.sites()),
            wide: None,
            order: crate::arrays::huge_page_capacity(graph.order_len() as usize),
        }
    }

    /// The occupation order of a sample: a Fisher–Yates shuffle of 0..N drawn from the hash
    /// with two streams per step (a 64-bit draw, so the bias of the reduction is below 2^−32).
    pub fn shuffled_order(n_total: u32, seed: u64, order: &mut Vec<u32>) {
        shuffle::shuffled_order(n_total, seed, order);
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

    /// Runs one sample with a given order (site indices in site mode, bond indices in bond mode;
    /// the order may be any permutation, which the tests use to compare with direct labelling).
    pub fn run_order(
        &mut self,
        graph: &SweepGraph,
        order: &[u32],
        weights: Option<&BinomialWeights>,
    ) -> SweepEvents {
        if let Some(events) = self.narrow.run(graph, order, weights) {
            return events;
        }
        self.run_order_wide(graph, order, weights)
    }

    /// The same sample with i32 shifts (what `run_order` falls back to when an i8 shift
    /// overflows; public so the tests can compare both on any order).
    pub fn run_order_wide(
        &mut self,
        graph: &SweepGraph,
        order: &[u32],
        weights: Option<&BinomialWeights>,
    ) -> SweepEvents {
        self.wide
            .get_or_insert_with(|| Forest::new(graph.sites()))
            .run(graph, order, weights)
            .expect("i32 shifts do not overflow below 2^31 sites")
    }
}

/// Asks the cache for the line of `item` ahead of its use.
#[inline(always)]
pub(super) fn prefetch<T>(item: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults and changes no memory.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(item as *const T as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
}

/// Runs `samples` sweeps in parallel (sample i with `sample_seed(seed, i)`), in sample order.
pub fn run_samples(
    graph: &SweepGraph,
    samples: u64,
    seed: u64,
    weights: Option<&BinomialWeights>,
) -> Vec<SweepEvents> {
    run_samples_with_progress(graph, samples, seed, weights, || {})
}

/// [`run_samples`], calling `done` after each finished sample (from the worker threads).
///
/// Each of the rayon pool's threads runs whole samples with one sweep state of its own, taking
/// the next sample number from a shared counter: the state's pages are touched once per size,
/// not once per sample, and threads never wait on each other.
pub fn run_samples_with_progress(
    graph: &SweepGraph,
    samples: u64,
    seed: u64,
    weights: Option<&BinomialWeights>,
    done: impl Fn() + Sync,
) -> Vec<SweepEvents> {
    let next = AtomicU64::new(0);
    let results = Mutex::new(Vec::with_capacity(samples as usize));
    let workers = rayon::current_num_threads().min(samples as usize).max(1);
    rayon::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                let mut sweep = Sweep::new(graph);
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= samples {
                        break;
                    }
                    mine.push((i, sweep.run(graph, sample_seed(seed, i), weights)));
                    done();
                }
                results.lock().expect("no worker panics").extend(mine);
            });
        }
    });
    let mut results = results.into_inner().expect("no worker panics");
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, events)| events).collect()
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
        shuffle::shuffled_order(1000, 7, &mut a);
        shuffle::shuffled_order(1000, 7, &mut b);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        shuffle::shuffled_order(1000, 8, &mut b);
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
