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
use crate::run::{describe, Run, SiteBuffers};
use crate::timer::Stage;
use crate::GpuError;
use std::future::Future;
use std::sync::Arc;
// std::time::Instant panics in the browser; web_time::Instant is std's natively.
use tunnelgrid_host::sizes::bondless;
use tunnelgrid_model::{
    build_report, AxisSolution, BondMasks, BondParams, ClusterStats, Conditions, DeviceStageTimes,
    Engine, EngineError, Lattice, Model, Network, Report, ResistanceOptions, Timings,
};
use web_time::Instant;

/// How the GPU engine slices and labels; the defaults suit every run, tests vary them to
/// exercise the multi-slab, streaming and per-site labelling paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GpuOptions {
    /// Largest number of z layers per slab; `None` fills each binding.
    pub slab_layers: Option<u32>,
    /// Label blocks of cells in workgroup memory first; `None` picks by adapter: on for hardware
    /// GPUs, off for software ones (lavapipe), where workgroup memory is slow.
    pub block_labelling: Option<bool>,
    /// Stream slabs through one set of buffers even when the lattice fits the device (runs
    /// stream by themselves when the lattice exceeds device memory).
    pub force_streaming: bool,
}

/// The GPU engine: a device with its compiled pipelines, and the options it runs with.
/// `with_options` makes a sibling that shares the device and pipelines (cheap: nothing is
/// compiled again).
pub struct GpuEngine {
    pub(crate) ctx: Arc<Context>,
    pub(crate) pipelines: Arc<Pipelines>,
    /// The last run's mask and label buffers (`run::SiteBuffers`).
    pub(crate) site_buffers: Arc<SiteBuffers>,
    pub(crate) slab_layers: Option<u32>,
    pub(crate) block_labelling: bool,
    pub(crate) force_streaming: bool,
}

impl GpuEngine {
    /// Opens the best adapter and compiles the pipelines, with the default options. Blocks:
    /// natively only (in the browser, `new_async`).
    pub fn new() -> Result<Self, GpuError> {
        pollster::block_on(Self::new_async())
    }

    /// Opens the best adapter and compiles the pipelines, with the default options.
    // In the browser wgpu's handles are neither Send nor Sync (one thread holds them); the Arc
    // is for sharing between sibling engines natively, where they are both.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    pub async fn new_async() -> Result<Self, GpuError> {
        let ctx = Context::new_async().await?;
        // Shader or pipeline creation errors arrive in this scope (in the browser they arrive
        // late and out of band otherwise), or through the uncaptured-error sink.
        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let pipelines = Pipelines::new(&ctx.device);
        let compiled = scope.pop().await;
        ctx.poll_until_idle()?;
        let compiled = match compiled {
            Some(error) => Err(GpuError::Device(error.to_string())),
            None => ctx.take_error(),
        };
        compiled.map_err(|e| GpuError::Device(format!("compiling the WGSL pipelines: {e}")))?;
        let engine = Self {
            ctx: Arc::new(ctx),
            pipelines: Arc::new(pipelines),
            site_buffers: Arc::default(),
            slab_layers: None,
            block_labelling: false,
            force_streaming: false,
        };
        Ok(engine.with_options(GpuOptions::default()))
    }

    /// How many times this engine (and its siblings) allocated mask and label buffers: once per
    /// change of lattice shape or slab plan, not once per run.
    pub fn site_buffer_allocations(&self) -> u64 {
        self.site_buffers.allocations()
    }

    /// This engine's device and pipelines with other options.
    pub fn with_options(&self, options: GpuOptions) -> Self {
        let hardware = self.ctx.info.device_type != wgpu::DeviceType::Cpu;
        Self {
            ctx: self.ctx.clone(),
            pipelines: self.pipelines.clone(),
            site_buffers: self.site_buffers.clone(),
            slab_layers: options.slab_layers,
            block_labelling: options.block_labelling.unwrap_or(hardware),
            force_streaming: options.force_streaming,
        }
    }

    /// The bond masks of the whole lattice, evaluated on the device and read back.
    pub async fn bond_masks_async(
        &self,
        model: &Model,
        conditions: &Conditions,
    ) -> Result<BondMasks, EngineError> {
        model.check_conditions(conditions)?;
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params).await?;
        let totals = run.evaluate_bonds().await?;
        Ok(BondMasks {
            masks: run.read_all(false).await?,
            totals,
        })
    }

    /// Cluster roots of `network` after slab merge and wrapping, read back. The masks are
    /// evaluated again on the device (cheaper than uploading them, and equal to the caller's by
    /// MODEL.md §5).
    pub async fn cluster_roots_async(
        &self,
        model: &Model,
        conditions: &Conditions,
        network: Network,
    ) -> Result<Vec<u32>, EngineError> {
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params).await?;
        run.evaluate_bonds().await?;
        run.label(network).await?;
        let joined = join(&run, network).await?;
        run.set_remap(&joined.remap).await?;
        run.read_all(true).await
    }

    /// The whole analysis of MODEL.md §6 (what `Engine::analyze` runs, and awaits natively).
    pub async fn analyze_async(
        &self,
        model: &Model,
        conditions: &Conditions,
    ) -> Result<Report, EngineError> {
        let start = Instant::now();
        model.check_conditions(conditions)?;
        let mut timings = Timings::default();
        let t = Instant::now();
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params).await?;
        let totals = run.evaluate_bonds().await?;
        timings.bonds_s = t.elapsed().as_secs_f64();

        let network_stats =
            async |network: Network, bonds: u64| -> Result<(ClusterStats, f64, f64), EngineError> {
                if bonds == 0 {
                    return Ok((bondless(&model.lattice, totals.present_sites), 0.0, 0.0));
                }
                let t = Instant::now();
                run.label(network).await?;
                let label_s = t.elapsed().as_secs_f64();
                let t = Instant::now();
                let joined = join(&run, network).await?;
                run.set_remap(&joined.remap).await?;
                let stats = cluster_stats(&run, &joined).await?;
                Ok((stats, label_s, t.elapsed().as_secs_f64()))
            };
        let (tunnel, label_s, stats_s) =
            network_stats(Network::Tunnel, totals.tunnel_bonds).await?;
        timings.tunnel_labels_s = label_s;
        timings.stats_s = stats_s;
        let (sc, label_s, stats_s) =
            network_stats(Network::Superconducting, totals.sc_bonds).await?;
        timings.sc_labels_s = label_s;
        timings.stats_s += stats_s;
        Ok(build_report(
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

    /// The context (adapter, device, limits).
    pub fn context(&self) -> &Context {
        &self.ctx
    }
}

/// Runs one of the engine's async methods to completion for the blocking `Engine` trait. Native
/// only: in the browser nothing may block the event loop the device answers through, so the
/// blocking methods refuse and the page calls the async ones.
fn blocking<T>(work: impl Future<Output = Result<T, EngineError>>) -> Result<T, EngineError> {
    #[cfg(not(target_arch = "wasm32"))]
    return pollster::block_on(work);
    #[cfg(target_arch = "wasm32")]
    {
        drop(work);
        Err(EngineError::Unsupported(
            "in the browser the GPU engine cannot block: call its async methods \
             (analyze_async, bond_masks_async, cluster_roots_async)"
                .into(),
        ))
    }
}

impl Engine for GpuEngine {
    fn name(&self) -> String {
        format!("gpu ({})", self.ctx.describe())
    }

    /// Bond masks of the whole lattice, evaluated on the device and read back.
    fn bond_masks(&self, model: &Model, conditions: &Conditions) -> Result<BondMasks, EngineError> {
        blocking(self.bond_masks_async(model, conditions))
    }

    /// Cluster roots after slab merge and wrapping, read back (`cluster_roots_async`).
    fn cluster_roots(
        &self,
        model: &Model,
        conditions: &Conditions,
        _masks: &[u32],
        network: Network,
    ) -> Result<Vec<u32>, EngineError> {
        blocking(self.cluster_roots_async(model, conditions, network))
    }

    fn axis_resistance(
        &self,
        lattice: &Lattice,
        params: &BondParams,
        masks: &[u32],
        sc_roots: Option<&[u32]>,
        axis: usize,
        options: &ResistanceOptions,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<AxisSolution, EngineError> {
        // The Kirchhoff solver blocks on the device between iterations; the page does not
        // compute resistance.
        #[cfg(target_arch = "wasm32")]
        {
            let _ = (lattice, params, masks, sc_roots, axis, options, progress);
            Err(EngineError::Unsupported(
                "the resistance is not computed in the browser; use the tunnelgrid binary".into(),
            ))
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let options = crate::kirchhoff::GpuSolveOptions {
                node_currents: options.currents,
                solver: options.solver,
                ..crate::kirchhoff::GpuSolveOptions::default()
            };
            let solved =
                self.solve_axis(lattice, params, masks, sc_roots, axis, &options, progress)?;
            Ok(AxisSolution {
                axis: solved.axis,
                refinements: Some(solved.refinements),
                slabs: Some(solved.slabs),
                device_s: Some(solved.device_s),
            })
        }
    }

    fn solver_name(&self, options: &ResistanceOptions) -> String {
        format!("gpu-{}", options.solver.name())
    }

    /// Timestamp queries around each stage, where the adapter has them.
    fn set_profiling(&self, on: bool) -> bool {
        self.ctx.timer.set_profiling(on);
        self.ctx.timer.supported()
    }

    fn take_device_times(&self) -> Option<DeviceStageTimes> {
        if !self.ctx.timestamps {
            return None;
        }
        let t = self.ctx.timer.take();
        Some(DeviceStageTimes {
            bonds_s: t.of(Stage::Bonds),
            labels_s: t.of(Stage::Labels),
            stats_s: t.of(Stage::Merge) + t.of(Stage::Stats),
            total_s: t.seconds.iter().sum(),
        })
    }

    fn analyze(&self, model: &Model, conditions: &Conditions) -> Result<Report, EngineError> {
        blocking(self.analyze_async(model, conditions))
    }
}
