//! `tunnelgrid threshold`: p_c and ν of site or bond percolation by Newman–Ziff sweeps and
//! finite-size scaling.
//!
//! Each sample's sweep gives the occupation count n at which the criterion is first met; its
//! continuous threshold (the p at which the same event happens when every site carries a uniform
//! random number) is Beta(n, N + 1 − n) distributed, so the canonical mean of dR/dp is the mean of
//! n/(N + 1) and its width adds the Beta variance to the scatter of n/(N + 1). ν comes from
//! w_L ∝ L^(−1/ν), p_c from p_L = p_c + a·L^(−1/ν); standard errors by a delete-one-group
//! jackknife over samples (every size at once, so the correlation of ν and p_c is kept).

use super::fss::{jackknife_se, mean_sd_se, ThresholdFit};
use super::reference::{self, Reference};
use anyhow::{bail, Result};
use std::time::Instant;
use tunnelgrid_cpu::newman_ziff::{
    run_samples_with_progress, BinomialWeights, Percolation, SweepGraph,
};
use tunnelgrid_model::{Boundary, Lattice, LatticeKind};

/// The event whose probability R_L(p) the threshold is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Criterion {
    /// A cluster spans x (open boundaries on every axis).
    Span,
    /// A cluster wraps some axis (periodic boundaries on every axis).
    WrapAny,
    /// Clusters wrap every axis (periodic boundaries on every axis).
    WrapAll,
}

impl Criterion {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Criterion::Span => "span",
            Criterion::WrapAny => "wrap-any",
            Criterion::WrapAll => "wrap-all",
        }
    }

    /// The boundaries the criterion is measured with.
    pub fn boundary(self) -> Boundary {
        match self {
            Criterion::Span => Boundary::Open,
            Criterion::WrapAny | Criterion::WrapAll => Boundary::Periodic,
        }
    }
}

/// The lattice of linear size `size` (cells per axis) for a criterion.
pub fn lattice_of(kind: LatticeKind, size: u32, boundary: Boundary) -> Lattice {
    let nz = if kind.is_2d() { 1 } else { size };
    Lattice::new(kind, [size, size, nz], [boundary; 3])
}

/// Items (sites or bonds) occupied at random in the largest lattice of the default sizes: 2^22,
/// about 4 M, so that the default study (four sizes, 400 samples) takes tens of seconds on a
/// two-core laptop whatever the lattice (a sample's sweep costs about one cache miss per item).
pub const DEFAULT_LARGEST_ITEMS: u64 = 1 << 22;

/// The default linear sizes of a study: four doubling sizes, the largest the biggest power of
/// two whose sweep occupies at most [`DEFAULT_LARGEST_ITEMS`] items (sc site: 16 … 128; fcc
/// bond: 4 … 32; square: 128 … 1024).
pub fn default_sizes(
    kind: LatticeKind,
    percolation: Percolation,
    criterion: Criterion,
) -> Vec<u32> {
    let items = |size: u32| {
        let lattice = lattice_of(kind, size, criterion.boundary());
        match percolation {
            Percolation::Site => lattice.sites(),
            Percolation::Bond => lattice.possible_bonds(),
        }
    };
    // Between 32 and 1024 (the largest size `threshold` accepts), so the smallest is at least 4.
    let mut largest = 32u32;
    while largest < 1024 && items(largest * 2) <= DEFAULT_LARGEST_ITEMS {
        largest *= 2;
    }
    (0..4).rev().map(|i| largest >> i).collect()
}

/// Refuses sizes whose sweep would not fit in the memory the system can give.
pub fn check_memory(lattice: &Lattice, percolation: Percolation) -> Result<()> {
    let need = SweepGraph::memory_estimate(lattice, percolation);
    if let Some(available) = tunnelgrid_cpu::available_memory() {
        if need > available {
            bail!(
                "--sizes: size {} needs about {} for its sweeps, but only {} is available",
                lattice.cells[0],
                tunnelgrid_model::engine::human_bytes(need),
                tunnelgrid_model::engine::human_bytes(available)
            );
        }
    }
    Ok(())
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ThresholdOptions {
    /// Lattice kind.
    pub kind: LatticeKind,
    /// Site or bond percolation.
    pub percolation: Percolation,
    /// Linear sizes (cells per axis), ascending.
    pub sizes: Vec<u32>,
    /// Samples per size (one entry per size, in the order of `sizes`).
    pub samples: Vec<u64>,
    /// The event.
    pub criterion: Criterion,
    /// Seed of sample 0 (sample i uses `sample_seed(seed, i)`).
    pub seed: u64,
}

/// One point of the spanning/wrapping probability curve R_L(p) with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CurvePoint {
    /// Occupation probability.
    pub p: f64,
    /// R_L(p).
    pub r: f64,
    /// Standard error of R_L(p) over samples.
    pub r_se: f64,
}

/// The estimates at one size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SizeEstimate {
    /// Cells per axis.
    pub size: u32,
    /// Sites of the lattice.
    pub sites: u64,
    /// Sites (site mode) or bonds (bond mode) occupied at random.
    pub order_len: u32,
    /// Samples.
    pub samples: u64,
    /// p_L: the mean of the per-sample thresholds (mean of dR/dp).
    pub mean: f64,
    /// Standard error of p_L.
    pub mean_se: f64,
    /// Width of dR/dp (standard deviation of the canonical threshold).
    pub width: f64,
    /// Standard error of the width.
    pub width_se: f64,
    /// Seconds spent on this size.
    pub seconds: f64,
    /// Items (sites or bonds) the sweeps occupied in all, each stopping at its last event.
    pub occupied: u64,
    /// R_L(p) on a grid around p_L.
    pub curve: Vec<CurvePoint>,
    /// First occupation count of the event per sample.
    #[serde(skip)]
    pub events: Vec<u32>,
}

/// A whole threshold study.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThresholdStudy {
    /// Lattice kind.
    pub lattice: String,
    /// "site" or "bond".
    pub mode: String,
    /// The criterion.
    pub criterion: Criterion,
    /// Seed of sample 0.
    pub seed: u64,
    /// Per size.
    pub sizes: Vec<SizeEstimate>,
    /// The fits of all samples (None with fewer than 2 sizes).
    pub fit: Option<ThresholdFit>,
    /// p_c extrapolated to L → ∞.
    pub p_c: Option<f64>,
    /// Its jackknife standard error.
    pub p_c_se: Option<f64>,
    /// ν from the width scaling.
    pub nu: Option<f64>,
    /// Its jackknife standard error.
    pub nu_se: Option<f64>,
    /// Jackknife groups used.
    pub jackknife_groups: usize,
    /// Literature p_c, where known.
    pub reference: Option<Reference>,
    /// Literature ν (MODEL.md §9).
    pub reference_nu: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Worker threads.
    pub threads: usize,
}

/// Per-size mean, its error, width and its error, from the events of the samples kept.
fn size_moments(events: &[u32], order_len: u32) -> (f64, f64, f64, f64) {
    let n1 = order_len as f64 + 1.0;
    let t: Vec<f64> = events.iter().map(|&n| n as f64 / n1).collect();
    let beta_var = events
        .iter()
        .map(|&n| n as f64 * (n1 - n as f64) / (n1 * n1 * (n1 + 1.0)))
        .sum::<f64>()
        / events.len() as f64;
    let (mean, sd, se) = mean_sd_se(&t);
    let width = (sd * sd + beta_var).sqrt();
    // Normal-theory error of a standard deviation; the jackknife covers the rest.
    let width_se = width / (2.0 * (events.len() as f64 - 1.0)).sqrt();
    (mean, se, width, width_se)
}

/// R_L(p) on `points` values of p spanning p_L ± 4 widths.
fn curve(events: &[u32], order_len: u32, mean: f64, width: f64, points: usize) -> Vec<CurvePoint> {
    let lo = (mean - 4.0 * width).max(0.0);
    let hi = (mean + 4.0 * width).min(1.0);
    (0..points)
        .map(|i| {
            let p = lo + (hi - lo) * i as f64 / (points - 1) as f64;
            let weights = BinomialWeights::new(order_len, p);
            let tails = weights.tails();
            let values: Vec<f64> = events
                .iter()
                .map(|&n| {
                    if n <= weights.start {
                        1.0
                    } else {
                        tails
                            .get((n - weights.start) as usize)
                            .copied()
                            .unwrap_or(0.0)
                    }
                })
                .collect();
            let (r, _, r_se) = mean_sd_se(&values);
            CurvePoint { p, r, r_se }
        })
        .collect()
}

/// The first occupation count of the criterion's event in one sweep.
fn event_of(
    criterion: Criterion,
    axes: usize,
    e: &tunnelgrid_cpu::newman_ziff::SweepEvents,
    n_total: u32,
) -> u32 {
    let never = n_total;
    match criterion {
        Criterion::Span => e.span[0].unwrap_or(never),
        Criterion::WrapAny => e.wrap[..axes]
            .iter()
            .map(|w| w.unwrap_or(never))
            .min()
            .unwrap_or(never),
        Criterion::WrapAll => e.wrap[..axes]
            .iter()
            .map(|w| w.unwrap_or(never))
            .max()
            .unwrap_or(never),
    }
}

/// Fits every size's (mean, width) with the samples for which `keep(i)` holds.
fn fit_with(sizes: &[SizeEstimate], keep: impl Fn(usize) -> bool) -> Option<ThresholdFit> {
    let mut l = Vec::new();
    let (mut m, mut mse, mut w, mut wse) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in sizes {
        let kept: Vec<u32> = s
            .events
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, &n)| n)
            .collect();
        let (mean, se, width, width_se) = size_moments(&kept, s.order_len);
        l.push(s.size as f64);
        m.push(mean);
        mse.push(se);
        w.push(width);
        wse.push(width_se);
    }
    ThresholdFit::new(&l, &m, &mse, &w, &wse)
}

/// Work of one sample of each size, in items to shuffle: what a progress bar should count.
pub fn sample_work(options: &ThresholdOptions) -> Vec<u64> {
    options
        .sizes
        .iter()
        .map(|&size| {
            let lattice = lattice_of(options.kind, size, options.criterion.boundary());
            match options.percolation {
                Percolation::Site => lattice.sites(),
                Percolation::Bond => lattice.possible_bonds(),
            }
        })
        .collect()
}

/// Runs the study; `progress` hears about each finished size, `sample_done(size index)` about
/// each finished sample (from worker threads).
pub fn threshold_study(
    options: &ThresholdOptions,
    mut progress: impl FnMut(&SizeEstimate),
    sample_done: impl Fn(usize) + Sync,
) -> Result<ThresholdStudy> {
    let start = Instant::now();
    let boundary = options.criterion.boundary();
    for &size in &options.sizes {
        check_memory(
            &lattice_of(options.kind, size, boundary),
            options.percolation,
        )?;
    }
    let mut sizes = Vec::new();
    for (index, (&size, &samples)) in options.sizes.iter().zip(&options.samples).enumerate() {
        let t = Instant::now();
        let lattice = lattice_of(options.kind, size, boundary);
        let axes = lattice.axes();
        let graph = SweepGraph::new(lattice, options.percolation).map_err(anyhow::Error::msg)?;
        let n_total = graph.order_len();
        let sweeps =
            run_samples_with_progress(&graph, samples, options.seed, None, || sample_done(index));
        let occupied = sweeps.iter().map(|e| e.occupied as u64).sum();
        let events: Vec<u32> = sweeps
            .iter()
            .map(|e| event_of(options.criterion, axes, e, n_total))
            .collect();
        let (mean, mean_se, width, width_se) = size_moments(&events, n_total);
        let estimate = SizeEstimate {
            size,
            sites: graph.lattice.sites(),
            order_len: n_total,
            samples,
            mean,
            mean_se,
            width,
            width_se,
            seconds: 0.0,
            occupied,
            curve: curve(&events, n_total, mean, width, 81),
            events,
        };
        let estimate = SizeEstimate {
            seconds: t.elapsed().as_secs_f64(),
            ..estimate
        };
        progress(&estimate);
        sizes.push(estimate);
    }
    let fit = fit_with(&sizes, |_| true);
    let groups = (options.samples.iter().copied().min().unwrap_or(0) as usize).min(20);
    let (mut p_c_se, mut nu_se) = (None, None);
    if fit.is_some() && groups >= 2 {
        let leave_out: Vec<ThresholdFit> = (0..groups)
            .filter_map(|g| fit_with(&sizes, |i| i % groups != g))
            .collect();
        if leave_out.len() == groups {
            let pcs: Vec<f64> = leave_out.iter().map(|f| f.shift_fit.intercept).collect();
            let nus: Vec<f64> = leave_out.iter().map(|f| f.nu).collect();
            p_c_se = Some(jackknife_se(&pcs));
            nu_se = Some(jackknife_se(&nus));
        }
    }
    Ok(ThresholdStudy {
        lattice: options.kind.name().to_string(),
        mode: options.percolation.name().to_string(),
        criterion: options.criterion,
        seed: options.seed,
        p_c: fit.map(|f| f.shift_fit.intercept),
        nu: fit.map(|f| f.nu),
        fit,
        p_c_se,
        nu_se,
        jackknife_groups: groups,
        sizes,
        reference: reference::threshold(options.kind, options.percolation),
        reference_nu: reference::nu(options.kind),
        seconds: start.elapsed().as_secs_f64(),
        threads: rayon::current_num_threads(),
    })
}
