//! The GPU engine: the analysis of MODEL.md §6 as compute passes, z-slab by z-slab.
//!
//! Each slab (as many z layers as one storage binding holds) evaluates its bonds and labels its
//! clusters on the device (`run.rs`). The host then reads only O(L²) words — the two layers at
//! each slab boundary and the faces of periodic axes — joins clusters across slabs and periodic
//! faces with the same `ShiftForest` as the CPU engine, and sends back a remap table
//! (`host.rs`). Cluster sizes and the face-touch bits that decide spanning along open axes are
//! gathered at the roots and reduced on the device; clusters joined across slabs are summed on
//! the host.

use crate::context::Context;
use crate::host::{cluster_stats, join};
use crate::pipelines::Pipelines;
use crate::run::{describe, Run};
use crate::GpuError;
use std::time::Instant;
use tunnelgrid_cpu::stats::bondless;
use tunnelgrid_cpu::{BondTotals, Network};
use tunnelgrid_model::{
    BondParams, ClusterStats, Conditions, Engine, EngineError, Model, Report, Timings,
};

/// The GPU engine.
pub struct GpuEngine {
    pub(crate) ctx: Context,
    pub(crate) pipelines: Pipelines,
    /// Largest number of z layers per slab; `None` fills each binding.
    pub slab_layers: Option<u32>,
    /// Label blocks of cells in workgroup memory first (fast on GPUs); the default is on for
    /// hardware adapters and off for software ones (lavapipe), where workgroup memory is slow.
    pub block_labelling: bool,
    /// Stream slabs through one set of buffers even when the lattice fits the device (tests use
    /// it; runs stream by themselves when the lattice exceeds device memory).
    pub force_streaming: bool,
}

impl GpuEngine {
    /// Opens the best adapter and compiles the pipelines.
    pub fn new() -> Result<Self, GpuError> {
        let ctx = Context::new()?;
        let pipelines = Pipelines::new(&ctx.device);
        // Shader or pipeline creation errors arrive through the uncaptured-error sink.
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| GpuError::Device(e.to_string()))?;
        ctx.take_error()
            .map_err(|e| GpuError::Device(format!("compiling the WGSL pipelines: {e}")))?;
        let block_labelling = ctx.info.device_type != wgpu::DeviceType::Cpu;
        Ok(Self {
            ctx,
            pipelines,
            slab_layers: None,
            block_labelling,
            force_streaming: false,
        })
    }

    /// The context (adapter, device, limits).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Turns per-stage device timing on or off; returns whether the adapter supports it.
    pub fn set_profiling(&self, on: bool) -> bool {
        self.ctx.timer.set_profiling(on);
        self.ctx.timer.supported()
    }

    /// Device seconds per stage since the last call (zeros unless profiling).
    pub fn take_device_times(&self) -> crate::timer::DeviceTimes {
        self.ctx.timer.take()
    }

    /// Bond masks of the whole lattice, read back (for tests and export).
    pub fn bond_masks(
        &self,
        model: &Model,
        conditions: &Conditions,
    ) -> Result<(Vec<u32>, BondTotals), EngineError> {
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params)?;
        let totals = run.evaluate_bonds()?;
        Ok((run.read_all(false)?, totals))
    }

    /// Cluster labels of the whole lattice after slab merge and wrapping, read back: each site's
    /// label is the smallest site index of its cluster (as the CPU engine's `label_clusters`).
    pub fn labels(
        &self,
        model: &Model,
        conditions: &Conditions,
        network: Network,
    ) -> Result<Vec<u32>, EngineError> {
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params)?;
        run.evaluate_bonds()?;
        run.label(network)?;
        let joined = join(&run, network)?;
        run.set_remap(&joined.remap)?;
        run.read_all(true)
    }
}

impl Engine for GpuEngine {
    fn name(&self) -> String {
        format!("gpu ({})", self.ctx.describe())
    }

    fn analyze(&self, model: &Model, conditions: &Conditions) -> Result<Report, EngineError> {
        let start = Instant::now();
        model.check_conditions(conditions)?;
        let mut timings = Timings::default();
        let t = Instant::now();
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params)?;
        let totals = run.evaluate_bonds()?;
        timings.bonds_s = t.elapsed().as_secs_f64();

        let network_stats =
            |network: Network, bonds: u64| -> Result<(ClusterStats, f64, f64), EngineError> {
                if bonds == 0 {
                    return Ok((bondless(&model.lattice, totals.present_sites), 0.0, 0.0));
                }
                let t = Instant::now();
                run.label(network)?;
                let label_s = t.elapsed().as_secs_f64();
                let t = Instant::now();
                let joined = join(&run, network)?;
                run.set_remap(&joined.remap)?;
                let stats = cluster_stats(&run, &joined)?;
                Ok((stats, label_s, t.elapsed().as_secs_f64()))
            };
        let (tunnel, label_s, stats_s) = network_stats(Network::Tunnel, totals.tunnel_bonds)?;
        timings.tunnel_labels_s = label_s;
        timings.stats_s = stats_s;
        let (sc, label_s, stats_s) = network_stats(Network::Superconducting, totals.sc_bonds)?;
        timings.sc_labels_s = label_s;
        timings.stats_s += stats_s;
        Ok(tunnelgrid_cpu::build_report(
            model,
            conditions,
            &params,
            &totals,
            tunnel,
            sc,
            format!("{}{}", self.name(), describe(&run)),
            timings,
            start.elapsed().as_secs_f64(),
        ))
    }
}
