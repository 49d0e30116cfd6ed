//! The GPU Kirchhoff solver (MODEL.md §7): f32 conjugate gradients on the device inside an f64
//! iterative refinement on the host, preconditioned by multigrid (`amg`, shaders/amg.wgsl, the
//! default) or by Jacobi on the matrix-free stencil (`device`, shaders/kirchhoff.wgsl).
//!
//! The network is the CPU engine's `AxisStencil` (same nodes, resistors, bus bars, pruning).
//! Outer loop, in f64 on the host: r = b − A·x from the stencil's f64 twin; stop when
//! ‖r‖/‖b‖ ≤ tolerance (1e-6). Inner solve, in f32 on the device: A·e = r/‖r‖ to a modest
//! relative residual (the correction only has to gain a few digits), then x += ‖r‖·e. Scaling
//! the correction's right-hand side to unit norm keeps f32 far from underflow however small r
//! gets. The current comes from the f64 potentials, as on the CPU.
//!
//! Size, multigrid: every vector is one storage binding (a network with more unknowns than one
//! binding holds is refused, pointing to Jacobi); the matrices are cut into row blocks that fit.
//! Size, Jacobi: the vectors are cut into z slabs (`layout`), as in the GPU engine, each as thick
//! as one storage binding allows for its conductances (K f32 per site, the largest per-slab
//! vector), with a halo layer on each side where there is one. A lattice is refused only when
//! its thinnest slab does not fit a binding, or when the device's memory, about (24 + 4·K) bytes
//! per site, does not hold it.

pub mod amg;
mod device;
pub mod layout;

use crate::engine::GpuEngine;
use crate::GpuError;
use amg::AmgDevice;
use device::{Device, Scalars};
use layout::{Layout, SELF};
use std::time::Instant;
use tunnelgrid_host::stencil::AxisStencil;
use tunnelgrid_model::engine::human_bytes;
use tunnelgrid_model::{AxisResistance, Conduction, KirchhoffError, Solver};
use tunnelgrid_model::{BondParams, Lattice};

/// Relative residual of the GPU solve (MODEL.md §7).
pub const GPU_TOLERANCE: f64 = 1e-6;

/// Storage buffers the `update` stage binds (the most of any CG stage).
const STORAGE_BINDINGS: u32 = 7;

/// How the GPU solves.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuSolveOptions {
    /// Stop when the f64 relative residual ‖b − A·x‖/‖b‖ is at most this.
    pub tolerance: f64,
    /// Relative residual each inner f32 solve aims for on its correction.
    pub inner_tolerance: f64,
    /// Most inner iterations in all; `None` allows 4·(free nodes) + 1000 per refinement.
    pub max_iterations: Option<usize>,
    /// Most refinements (outer iterations).
    pub max_refinements: usize,
    /// Iterations encoded per submission (the host reads the device's scalars in between).
    pub batch: u32,
    /// Start from the linear profile between the bus bars (as the CPU solver does) rather than
    /// from 0; on a uniform block the profile is already the solution.
    pub linear_guess: bool,
    /// Also map |current| per site (`AxisResistance::site_current_a`, from the f64 potentials
    /// on the host, as the CPU solver maps it).
    pub node_currents: bool,
    /// The inner solve's preconditioner: the multigrid V-cycle (`amg`, the default) or Jacobi
    /// on the matrix-free stencil, which also cuts the vectors into z slabs.
    pub solver: Solver,
}

impl Default for GpuSolveOptions {
    fn default() -> Self {
        Self {
            tolerance: GPU_TOLERANCE,
            inner_tolerance: 1e-3,
            max_iterations: None,
            max_refinements: 30,
            batch: 32,
            linear_guess: true,
            node_currents: false,
            solver: Solver::Amg,
        }
    }
}

/// Why the GPU solve failed.
#[derive(Debug, thiserror::Error)]
pub enum GpuSolveError {
    /// The network or its convergence (as on the CPU).
    #[error(transparent)]
    Kirchhoff(#[from] KirchhoffError),
    /// The device.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// A GPU resistance with the solver's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuResistance {
    /// The result, in the CPU's terms (`iterations` counts the inner f32 iterations in all,
    /// `relative_residual` is the final f64 one).
    pub axis: AxisResistance,
    /// Outer refinements (f64 residuals after the first).
    pub refinements: usize,
    /// z slabs the vectors were cut into (Jacobi), or row blocks of the fine matrix (multigrid);
    /// 0 when there was nothing to solve.
    pub slabs: usize,
    /// Seconds of the multigrid setup on the host (hierarchy and upload; 0 for Jacobi).
    pub setup_s: f64,
    /// Unknowns per multigrid level, finest first (empty for Jacobi).
    pub levels: Vec<usize>,
    /// Seconds in the device's CG batches (submission to readback), wall clock.
    pub device_s: f64,
    /// Seconds of the host's f64 residuals and updates.
    pub host_s: f64,
}

/// Checks that the adapter can hold the solve of `lattice` and plans its slabs: the most z
/// layers per slab.
fn plan(engine: &GpuEngine, lattice: &Lattice) -> Result<u32, GpuError> {
    let limits = &engine.ctx.limits;
    if limits.max_storage_buffers_per_shader_stage < STORAGE_BINDINGS {
        return Err(GpuError::Device(format!(
            "the Kirchhoff solver binds {STORAGE_BINDINGS} storage buffers in one stage; the \
             adapter allows {}",
            limits.max_storage_buffers_per_shader_stage
        )));
    }
    let k_count = lattice.max_forward_bonds() as u64;
    let max_words = engine.ctx.max_words_per_binding();
    let layer = lattice.sites_per_layer();
    let Some(fit) = layout::layers_per_slab(lattice, k_count, max_words) else {
        // The thinnest slab: one layer with its halos, or the whole lattice if thinner.
        let layers = layout::whole_window_layers(lattice).min(3);
        return Err(GpuError::SolverTooLarge {
            layer_sites: layer,
            needed: human_bytes(layers * layer * k_count * 4),
            limit: human_bytes(max_words * 4),
        });
    };
    let layers = fit.min(engine.slab_layers.unwrap_or(u32::MAX)).max(1);
    let slabs = lattice.cells[2].div_ceil(layers) as u64;
    let windows = lattice.sites() + 2 * slabs * layer;
    check_software_memory(
        engine,
        windows * device::bytes_per_window_site(k_count as usize),
    )?;
    Ok(layers)
}

/// Refuses a solve of `needed` bytes on a software adapter, whose memory is the host's, when the
/// host cannot give that much: before allocating, rather than failing inside the driver. A
/// hardware adapter reports its own allocation failures.
fn check_software_memory(engine: &GpuEngine, needed: u64) -> Result<(), GpuError> {
    if engine.ctx.info.device_type != wgpu::DeviceType::Cpu {
        return Ok(());
    }
    match tunnelgrid_host::available_memory() {
        Some(available) if needed > available => Err(GpuError::OutOfMemory {
            needed: human_bytes(needed),
            detail: format!("{} available", human_bytes(available)),
        }),
        _ => Ok(()),
    }
}

/// Refuses a layout whose per-slab tables or cluster block exceed one storage binding (many
/// small superconducting clusters).
fn check_layout(engine: &GpuEngine, layout: &Layout) -> Result<(), GpuError> {
    let max_words = engine.ctx.max_words_per_binding();
    let largest = layout
        .slabs
        .iter()
        .map(|s| (s.members.len() as u64).max(2 * s.segments.len() as u64))
        .chain([
            layout.representatives.len() as u64 + 1,
            layout.segment_count(),
        ])
        .max()
        .unwrap_or(0);
    if largest > max_words {
        return Err(GpuError::Device(format!(
            "the superconducting clusters of this network need a table of {} words, more than \
             one storage binding ({} words); use --engine cpu for the resistance",
            largest, max_words
        )));
    }
    Ok(())
}

/// `global` (one f32 per site) cut into the windows of every slab of `layout`.
fn window_all(stencil: &AxisStencil, layout: &Layout, global: &[f32]) -> Vec<Vec<f32>> {
    layout
        .slabs
        .iter()
        .map(|s| layout::window(&stencil.lattice, &s.slab, global, 1, |v| v))
        .collect()
}

/// The free unknowns in site space: the one-site nodes, then the clusters' representatives.
fn unknowns(layout: &Layout) -> impl Iterator<Item = usize> + '_ {
    let own = (0..layout.codes.len()).filter(|&s| layout.codes[s] == SELF);
    own.chain(layout.representatives.iter().map(|&rep| rep as usize))
}

/// A site-space vector as the device's blocks: `value(site)` at every free unknown (a one-site
/// node's entry in its slab's window, halos included; a cluster's in the cluster block, taken at
/// its representative), 0 elsewhere.
fn to_blocks(
    stencil: &AxisStencil,
    layout: &Layout,
    value: impl Fn(usize) -> f32,
) -> Vec<Vec<f32>> {
    let own: Vec<f32> = (0..layout.codes.len())
        .map(|s| {
            if layout.codes[s] == SELF {
                value(s)
            } else {
                0.0
            }
        })
        .collect();
    let mut blocks = window_all(stencil, layout, &own);
    if !layout.representatives.is_empty() {
        blocks.push(
            layout
                .representatives
                .iter()
                .map(|&rep| value(rep as usize))
                .collect(),
        );
    }
    blocks
}

/// Calls `visit(site, value)` for every free unknown of `blocks` as read back (without halos):
/// the inverse of `to_blocks`.
fn for_each_unknown(layout: &Layout, blocks: &[Vec<f32>], mut visit: impl FnMut(usize, f32)) {
    for (slab, values) in layout.slabs.iter().zip(blocks) {
        let first = slab.slab.first_site as usize;
        for (i, &v) in values.iter().enumerate() {
            if layout.codes[first + i] == SELF {
                visit(first + i, v);
            }
        }
    }
    if let Some(values) = blocks.get(layout.slabs.len()) {
        for (&rep, &v) in layout.representatives.iter().zip(values) {
            visit(rep as usize, v);
        }
    }
}

/// The inner f32 solver of the refinement loop.
enum Inner<'a> {
    /// Jacobi-preconditioned CG on the matrix-free stencil, in z slabs (shaders/kirchhoff.wgsl).
    Jacobi { layout: Layout, device: Device<'a> },
    /// Multigrid-preconditioned CG on the reduced Laplacian (shaders/amg.wgsl); `rows` are the
    /// representative sites of its unknowns.
    Amg {
        rows: Vec<u32>,
        device: AmgDevice<'a>,
    },
}

impl Inner<'_> {
    /// Starts A·e = r/scale from e = 0 (r in site space), to relative residual `tolerance`.
    fn begin(
        &self,
        stencil: &AxisStencil,
        r: &[f64],
        scale: f64,
        tolerance: f64,
    ) -> Result<(), GpuSolveError> {
        let r_of = |s: usize| (r[s] / scale) as f32;
        match self {
            Inner::Jacobi { layout, device } => {
                let z_of = |s: usize| r_of(s) * (1.0 / stencil.diagonal[s]) as f32;
                let (mut rz, mut rr) = (0.0f64, 0.0f64);
                for s in unknowns(layout) {
                    rz += r_of(s) as f64 * z_of(s) as f64;
                    rr += r_of(s) as f64 * r_of(s) as f64;
                }
                let start = Scalars {
                    rz: rz as f32,
                    rr: rr as f32,
                    target_rr: (tolerance * tolerance * rr) as f32,
                    running: 1,
                    ..Default::default()
                };
                let block_r = to_blocks(stencil, layout, r_of);
                let block_z = to_blocks(stencil, layout, z_of);
                device.start(&block_r, &block_z, &start)?;
            }
            Inner::Amg { rows, device } => {
                let by_row: Vec<f32> = rows.iter().map(|&s| r_of(s as usize)).collect();
                device.begin(&by_row, tolerance)?;
            }
        }
        Ok(())
    }

    /// Encodes `iterations` CG iterations.
    fn encode(&self, encoder: &mut wgpu::CommandEncoder, iterations: u32) {
        match self {
            Inner::Jacobi { device, .. } => device.encode(encoder, iterations),
            Inner::Amg { device, .. } => device.encode(encoder, iterations),
        }
    }

    /// The device's scalars.
    fn read_scalars(&self) -> Result<Scalars, GpuError> {
        match self {
            Inner::Jacobi { device, .. } => device.read_scalars(),
            Inner::Amg { device, .. } => device.read_scalars(),
        }
    }

    /// x += scale·e at every free unknown (site space).
    fn add_correction(&self, x: &mut [f64], scale: f64) -> Result<(), GpuError> {
        match self {
            Inner::Jacobi { layout, device } => {
                let e = device.solution()?;
                for_each_unknown(layout, &e, |site, ei| x[site] += scale * ei as f64);
            }
            Inner::Amg { rows, device } => {
                for (&site, ei) in rows.iter().zip(device.solution()?) {
                    x[site as usize] += scale * ei as f64;
                }
            }
        }
        Ok(())
    }
}

impl GpuEngine {
    /// Plans the slabs of `stencil` and uploads its network.
    fn upload<'a>(
        &'a self,
        stencil: &AxisStencil,
        params: &BondParams,
    ) -> Result<(Layout, Device<'a>), GpuSolveError> {
        let layers = plan(self, &stencil.lattice)?;
        let mut layout = Layout::new(stencil, layers);
        check_layout(self, &layout)?;
        let inv_diag = to_blocks(stencil, &layout, |s| (1.0 / stencil.diagonal[s]) as f32);
        let device = Device::new(self, stencil, &layout, &inv_diag, params)?;
        layout.release_tables();
        Ok((layout, device))
    }

    /// q = A·p once on the device, in f32, for site-space `p` read at the free unknowns (one-site
    /// nodes and clusters' representatives); q in site space at the same entries, 0 elsewhere.
    /// The halo exchange and operator of every CG iteration (stencils of all slabs, cluster
    /// gathers), exposed so that tests can compare them entry by entry with the f64 twin in
    /// `AxisStencil`.
    #[doc(hidden)]
    pub fn apply_stencil(
        &self,
        stencil: &AxisStencil,
        params: &BondParams,
        p: &[f64],
    ) -> Result<Vec<f64>, GpuSolveError> {
        if stencil.conduction != Conduction::Normal {
            return Ok(vec![0.0; stencil.sites()]);
        }
        let (layout, device) = self.upload(stencil, params)?;
        let mut direction = to_blocks(stencil, &layout, |s| p[s] as f32);
        // Blank halos, so that the device's halo exchange has to fill them, as in every iteration.
        for (window, slab) in direction.iter_mut().zip(&layout.slabs) {
            let first = slab.first as usize;
            window[..first].fill(0.0);
            window[first + slab.slab.sites as usize..].fill(0.0);
        }
        let zeros: Vec<Vec<f32>> = direction.iter().map(|b| vec![0.0; b.len()]).collect();
        device.start(&zeros, &direction, &Scalars::default())?;
        let mut encoder = self.ctx.encoder();
        device.encode_halo(&mut encoder);
        device.encode_operator(&mut encoder);
        self.ctx.submit_and_wait(encoder)?;
        let mut q = vec![0.0; stencil.sites()];
        for_each_unknown(&layout, &device.operator_result()?, |site, v| {
            q[site] = v as f64
        });
        Ok(q)
    }

    /// Solves the stencil of one axis on the device: f32 CG with f64 iterative refinement to
    /// `options.tolerance`. `progress(inner iterations, relative residual)` is called after every
    /// batch.
    pub fn solve_stencil(
        &self,
        stencil: &AxisStencil,
        params: &BondParams,
        options: &GpuSolveOptions,
        mut progress: impl FnMut(usize, f64),
    ) -> Result<GpuResistance, GpuSolveError> {
        let in_unit = |t: f64| t > 0.0 && t < 1.0;
        if !(in_unit(options.tolerance) && in_unit(options.inner_tolerance)) {
            return Err(KirchhoffError::InvalidNetwork(format!(
                "tolerances {} and {} must lie in (0, 1)",
                options.tolerance, options.inner_tolerance
            ))
            .into());
        }
        if stencil.conduction != Conduction::Normal {
            let mut axis = stencil.unsolved(params);
            // No current anywhere when insulating (as on the CPU); unbounded when superconducting.
            if options.node_currents && stencil.conduction == Conduction::Insulating {
                axis.site_current_a = Some(vec![0.0; stencil.lattice.sites() as usize]);
            }
            return Ok(GpuResistance {
                axis,
                refinements: 0,
                slabs: 0,
                setup_s: 0.0,
                levels: Vec::new(),
                device_s: 0.0,
                host_s: 0.0,
            });
        }
        let sites = stencil.sites();
        let host_start = Instant::now();
        let inner = match options.solver {
            Solver::Jacobi => {
                let (layout, device) = self.upload(stencil, params)?;
                Inner::Jacobi { layout, device }
            }
            Solver::Amg => {
                let (rows, fine) = stencil.laplacian();
                let hierarchy = tunnelgrid_host::amg::Hierarchy::new(&fine);
                // The fine matrix's row blocks end where the engine's z slabs do.
                let layer = stencil.lattice.sites_per_layer();
                let boundaries: Vec<usize> = match self.slab_layers {
                    Some(layers) => crate::params::plan_slabs(&stencil.lattice, layers.max(1))
                        .iter()
                        .map(|slab| {
                            rows.partition_point(|&s| (s as u64) < slab.first_z as u64 * layer)
                        })
                        .collect(),
                    None => Vec::new(),
                };
                let device = AmgDevice::new(self, &fine, &hierarchy, &boundaries)?;
                Inner::Amg { rows, device }
            }
        };
        let setup_s = host_start.elapsed().as_secs_f64();
        let ctx = &self.ctx;

        let mut x = if options.linear_guess {
            stencil.linear_guess()
        } else {
            vec![0.0; sites]
        };
        let mut r = vec![0.0; sites];
        let (bb, _) = stencil.residual(&vec![0.0; sites], &mut r);
        let b_norm = bb.sqrt();
        let (mut rr, _) = stencil.residual(&x, &mut r);
        let per_refinement = 4 * stencil.free_nodes + 1000;
        let max_iterations = options
            .max_iterations
            .unwrap_or(per_refinement * options.max_refinements);
        let (mut inner_total, mut refinements, mut device_s) = (0usize, 0usize, 0.0);
        let mut residual = if b_norm == 0.0 {
            0.0
        } else {
            rr.sqrt() / b_norm
        };
        let mut stalled = 0;
        while residual > options.tolerance {
            if refinements >= options.max_refinements
                || inner_total >= max_iterations
                || stalled >= 3
            {
                return Err(KirchhoffError::NotConverged {
                    iterations: inner_total,
                    residual,
                    tolerance: options.tolerance,
                }
                .into());
            }
            // The correction system A·e = r/‖r‖, from e = 0.
            let scale = rr.sqrt();
            let t = Instant::now();
            inner.begin(stencil, &r, scale, options.inner_tolerance)?;
            let done = loop {
                let mut encoder = ctx.encoder();
                inner.encode(&mut encoder, options.batch);
                ctx.submit_and_wait(encoder)?;
                let s = inner.read_scalars()?;
                let done = s.iterations as usize;
                progress(inner_total + done, residual);
                if s.running == 0 || done >= per_refinement || inner_total + done >= max_iterations
                {
                    break done;
                }
            };
            device_s += t.elapsed().as_secs_f64();
            inner.add_correction(&mut x, scale)?;
            inner_total += done;
            refinements += 1;
            let previous = residual;
            (rr, _) = stencil.residual(&x, &mut r);
            residual = rr.sqrt() / b_norm;
            progress(inner_total, residual);
            // A refinement that does not halve the residual is making no real progress.
            stalled = if residual > 0.5 * previous {
                stalled + 1
            } else {
                0
            };
        }
        let mut axis = stencil.resistance(params, &x, inner_total)?;
        axis.relative_residual = residual;
        if options.solver == Solver::Amg {
            axis.setup_s = setup_s;
        }
        if options.node_currents {
            axis.site_current_a = Some(stencil.site_currents(&x));
        }
        let (slabs, levels) = match &inner {
            Inner::Jacobi { layout, .. } => (layout.slabs.len(), Vec::new()),
            Inner::Amg { device, .. } => (device.fine_blocks, device.level_nodes.clone()),
        };
        Ok(GpuResistance {
            setup_s: axis.setup_s,
            axis,
            refinements,
            slabs,
            levels,
            device_s,
            host_s: host_start.elapsed().as_secs_f64() - device_s,
        })
    }

    /// The resistance of the sample along `axis` on the device (the GPU twin of the CPU's
    /// `axis_resistance`; the current map when `options.node_currents`), with the solver's counts.
    /// `Engine::axis_resistance` calls this with the default options.
    #[allow(clippy::too_many_arguments)]
    pub fn solve_axis(
        &self,
        lattice: &Lattice,
        params: &BondParams,
        masks: &[u32],
        sc_labels: Option<&[u32]>,
        axis: usize,
        options: &GpuSolveOptions,
        progress: impl FnMut(usize, f64),
    ) -> Result<GpuResistance, GpuSolveError> {
        // Refuse a lattice the device cannot hold before building anything on the host (the
        // multigrid path's limit, its vectors' size, is known once the network is).
        if options.solver == Solver::Jacobi {
            plan(self, lattice)?;
        }
        let stencil = tunnelgrid_host::stencil::axis_stencil(
            lattice,
            params,
            masks,
            sc_labels,
            axis,
            &Default::default(),
        )?;
        self.solve_stencil(&stencil, params, options, progress)
    }
}
