//! `tunnelgrid scaling`: the fractal dimension d_f of the incipient infinite cluster from the
//! mass of the largest cluster at p_c versus L, M_L ∝ L^(d_f).
//!
//! Each sample's Newman–Ziff sweep accumulates Σ_n B(N, n, p) · S_max(n), the canonical mean of
//! the largest cluster at p (periodic boundaries, so no surface effects); d_f is the slope of a
//! weighted fit of ln M_L on ln L with per-size errors from the sample-to-sample scatter.

use super::fss::{mean_sd_se, weighted_line_fit, LineFit};
use super::reference;
use super::threshold::{check_memory, lattice_of};
use anyhow::Result;
use std::time::Instant;
use tunnelgrid_cpu::newman_ziff::{run_samples, BinomialWeights, Percolation, SweepGraph};
use tunnelgrid_model::{Boundary, LatticeKind};

/// What to run.
#[derive(Debug, Clone)]
pub struct ScalingOptions {
    /// Lattice kind.
    pub kind: LatticeKind,
    /// Site or bond percolation.
    pub percolation: Percolation,
    /// Linear sizes (cells per axis), ascending.
    pub sizes: Vec<u32>,
    /// Samples per size (one entry per size, in the order of `sizes`).
    pub samples: Vec<u64>,
    /// The occupation probability (p_c).
    pub p: f64,
    /// Seed of sample 0.
    pub seed: u64,
}

/// The largest-cluster mass at one size.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MassEstimate {
    /// Cells per axis.
    pub size: u32,
    /// Sites of the lattice.
    pub sites: u64,
    /// Samples.
    pub samples: u64,
    /// Mean mass of the largest cluster at p, in sites.
    pub mass: f64,
    /// Its standard error.
    pub mass_se: f64,
    /// Seconds spent on this size.
    pub seconds: f64,
}

/// A whole scaling study.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScalingStudy {
    /// Lattice kind.
    pub lattice: String,
    /// "site" or "bond".
    pub mode: String,
    /// The occupation probability.
    pub p: f64,
    /// Seed of sample 0.
    pub seed: u64,
    /// Per size.
    pub sizes: Vec<MassEstimate>,
    /// ln M = c + d_f ln L over every size.
    pub fit: Option<LineFit>,
    /// The same fit without the smallest size (a check on corrections to scaling).
    pub fit_without_smallest: Option<LineFit>,
    /// Local slopes ln(M₂/M₁)/ln(L₂/L₁) of successive sizes.
    pub local_slopes: Vec<f64>,
    /// d_f of MODEL.md §9.
    pub reference_d_f: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Worker threads.
    pub threads: usize,
}

fn mass_fit(sizes: &[MassEstimate]) -> Option<LineFit> {
    let x: Vec<f64> = sizes.iter().map(|s| (s.size as f64).ln()).collect();
    let y: Vec<f64> = sizes.iter().map(|s| s.mass.ln()).collect();
    let e: Vec<f64> = sizes.iter().map(|s| s.mass_se / s.mass).collect();
    weighted_line_fit(&x, &y, &e)
}

/// Runs the study; `progress` hears about each finished size.
pub fn scaling_study(
    options: &ScalingOptions,
    mut progress: impl FnMut(&MassEstimate),
) -> Result<ScalingStudy> {
    let start = Instant::now();
    for &size in &options.sizes {
        check_memory(
            &lattice_of(options.kind, size, Boundary::Periodic),
            options.percolation,
        )?;
    }
    let mut sizes = Vec::new();
    for (&size, &samples) in options.sizes.iter().zip(&options.samples) {
        let t = Instant::now();
        let lattice = lattice_of(options.kind, size, Boundary::Periodic);
        let graph = SweepGraph::new(lattice, options.percolation).map_err(anyhow::Error::msg)?;
        let weights = BinomialWeights::new(graph.order_len(), options.p);
        let masses: Vec<f64> = run_samples(&graph, samples, options.seed, Some(&weights))
            .iter()
            .map(|e| e.weighted_largest)
            .collect();
        let (mass, _, mass_se) = mean_sd_se(&masses);
        let estimate = MassEstimate {
            size,
            sites: graph.lattice.sites(),
            samples,
            mass,
            mass_se,
            seconds: t.elapsed().as_secs_f64(),
        };
        progress(&estimate);
        sizes.push(estimate);
    }
    let local_slopes = sizes
        .windows(2)
        .map(|w| (w[1].mass / w[0].mass).ln() / (w[1].size as f64 / w[0].size as f64).ln())
        .collect();
    Ok(ScalingStudy {
        lattice: options.kind.name().to_string(),
        mode: options.percolation.name().to_string(),
        p: options.p,
        seed: options.seed,
        fit: mass_fit(&sizes),
        fit_without_smallest: if sizes.len() > 2 {
            mass_fit(&sizes[1..])
        } else {
            None
        },
        local_slopes,
        reference_d_f: reference::fractal_dimension(options.kind),
        sizes,
        seconds: start.elapsed().as_secs_f64(),
        threads: rayon::current_num_threads(),
    })
}
