//! The GPU Kirchhoff solver (MODEL.md §7): f32 Jacobi-preconditioned CG on the device
//! (shaders/kirchhoff.wgsl) inside an f64 iterative refinement on the host.
//!
//! The network is the CPU engine's `AxisStencil` (same nodes, resistors, bus bars, pruning).
//! Outer loop, in f64 on the host: r = b − A·x from the stencil's f64 twin; stop when
//! ‖r‖/‖b‖ ≤ tolerance (1e-6). Inner solve, in f32 on the device: A·e = r/‖r‖ to a modest
//! relative residual (the correction only has to gain a few digits), then x += ‖r‖·e. Scaling
//! the correction's right-hand side to unit norm keeps f32 far from underflow however small r
//! gets. The current comes from the f64 potentials, as on the CPU.
//!
//! Size limit: every site-space vector (one f32 or u32 per site) lives in one storage binding;
//! a lattice whose sites do not fit one binding is refused with the limit named (lavapipe: 128
//! MiB, 33.5 M sites, e.g. 322³; hardware adapters: typically 2–4 GiB). Device memory is about
//! (28 + 4·bonds per site) bytes per site.

use crate::engine::GpuEngine;
use crate::io::{coarse_groups, WORKGROUP};
use crate::params::{plan_slabs, slab_params};
use crate::timer::Stage;
use crate::GpuError;
use std::time::Instant;
use tunnelgrid_cpu::kirchhoff::stencil::{AxisStencil, NodeRole};
use tunnelgrid_cpu::kirchhoff::{AxisResistance, Conduction, KirchhoffError};
use tunnelgrid_model::engine::human_bytes;
use tunnelgrid_model::{BondParams, Lattice};

/// Relative residual of the GPU solve (MODEL.md §7).
pub const GPU_TOLERANCE: f64 = 1e-6;

/// Most forward bonds per site the shader has conductance bindings for (fcc).
const MAX_BONDS_PER_SITE: usize = 6;

/// Storage buffers the `apply_laplacian` stage binds (the most of any CG stage).
const STORAGE_BINDINGS: u32 = 4 + MAX_BONDS_PER_SITE as u32;

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
    /// Seconds in the device's CG batches (submission to readback), wall clock.
    pub device_s: f64,
    /// Seconds of the host's f64 residuals and updates.
    pub host_s: f64,
}

/// The device side of one solve.
struct Device<'a> {
    engine: &'a GpuEngine,
    sites: u64,
    clusters: u64,
    x: wgpu::Buffer,
    r: wgpu::Buffer,
    p: wgpu::Buffer,
    scalars: wgpu::Buffer,
    binds: [Option<wgpu::BindGroup>; 7],
}

/// `Scalars` in shaders/kirchhoff.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Scalars {
    rz: f32,
    pq: f32,
    rr: f32,
    alpha: f32,
    beta: f32,
    target_rr: f32,
    running: u32,
    iterations: u32,
}

impl<'a> Device<'a> {
    fn new(
        engine: &'a GpuEngine,
        stencil: &AxisStencil,
        params: &BondParams,
    ) -> Result<Self, GpuSolveError> {
        let ctx = &engine.ctx;
        let lattice = &stencil.lattice;
        let sites = stencil.sites() as u64;
        let clusters = stencil.clusters() as u64;
        let k_count = stencil.bonds_per_site;
        assert!(k_count <= MAX_BONDS_PER_SITE);
        let slab = plan_slabs(lattice, lattice.cells[2])[0];
        let uniform = slab_params(lattice, params, &slab, false);
        let p_buffer = ctx.uniform_with("kirchhoff params", bytemuck::bytes_of(&uniform));
        let groups = coarse_groups(sites);
        let sizes = ctx.uniform_with(
            "cg sizes",
            bytemuck::cast_slice(&[sites as u32, clusters as u32, groups as u32, 0]),
        );
        let (offsets, _) = crate::params::bond_tables(lattice, params);
        let bond_offsets = ctx.storage_with("bond offsets", bytemuck::cast_slice(&offsets));

        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let node = ctx.storage_with("cg nodes", bytemuck::cast_slice(&stencil.node));
        let inv_diag: Vec<f32> = (0..stencil.sites())
            .map(|s| match stencil.role(s as u32) {
                Some(NodeRole::Free) => (1.0 / stencil.diagonal[s]) as f32,
                _ => 0.0,
            })
            .collect();
        let inv_diag = ctx.storage_with("cg inverse diagonal", bytemuck::cast_slice(&inv_diag));
        let conductances: Vec<wgpu::Buffer> = (0..MAX_BONDS_PER_SITE)
            .map(|k| {
                if k < k_count {
                    let g: Vec<f32> = stencil
                        .conductance
                        .chunks_exact(k_count)
                        .map(|per_site| per_site[k] as f32)
                        .collect();
                    ctx.storage_with("cg conductances", bytemuck::cast_slice(&g))
                } else {
                    ctx.storage("unused conductances", 1)
                }
            })
            .collect();
        let cluster_start = ctx.storage_with(
            "cluster starts",
            bytemuck::cast_slice(&stencil.cluster_start),
        );
        let cluster_members = ctx.storage_with(
            "cluster members",
            bytemuck::cast_slice(&stencil.cluster_members),
        );
        let x = ctx.storage("cg x", sites);
        let r = ctx.storage("cg r", sites);
        let p = ctx.storage("cg p", sites);
        let q = ctx.storage("cg q", sites);
        let partials = ctx.storage("cg partials", 2 * groups);
        let scalars = ctx.storage("cg scalars", 8);
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                needed: human_bytes(sites * (28 + 4 * k_count as u64)),
                detail: error.to_string(),
            }
            .into());
        }

        let cg = &engine.pipelines.cg;
        let mut stencil_entries: Vec<(u32, &wgpu::Buffer)> = vec![
            (0, &p_buffer),
            (1, &bond_offsets),
            (2, &sizes),
            (3, &node),
            (4, &inv_diag),
            (7, &p),
            (8, &q),
        ];
        for (k, buffer) in conductances.iter().enumerate() {
            stencil_entries.push((13 + k as u32, buffer));
        }
        let binds = [
            Some(ctx.bind(&cg.apply_laplacian, &stencil_entries)),
            (clusters > 0).then(|| {
                ctx.bind(
                    &cg.gather_clusters,
                    &[
                        (2, &sizes),
                        (8, &q),
                        (11, &cluster_start),
                        (12, &cluster_members),
                    ],
                )
            }),
            Some(ctx.bind(
                &cg.dot_pq,
                &[
                    (2, &sizes),
                    (4, &inv_diag),
                    (7, &p),
                    (8, &q),
                    (9, &partials),
                ],
            )),
            Some(ctx.bind(
                &cg.finish_pq,
                &[(2, &sizes), (9, &partials), (10, &scalars)],
            )),
            Some(ctx.bind(
                &cg.update,
                &[
                    (2, &sizes),
                    (4, &inv_diag),
                    (5, &x),
                    (6, &r),
                    (7, &p),
                    (8, &q),
                    (9, &partials),
                    (10, &scalars),
                ],
            )),
            Some(ctx.bind(
                &cg.finish_rz,
                &[(2, &sizes), (9, &partials), (10, &scalars)],
            )),
            Some(ctx.bind(
                &cg.new_direction,
                &[
                    (2, &sizes),
                    (4, &inv_diag),
                    (6, &r),
                    (7, &p),
                    (10, &scalars),
                ],
            )),
        ];
        Ok(Self {
            engine,
            sites,
            clusters,
            x,
            r,
            p,
            scalars,
            binds,
        })
    }

    /// Encodes `iterations` CG iterations.
    fn encode(&self, encoder: &mut wgpu::CommandEncoder, iterations: u32) {
        let ctx = &self.engine.ctx;
        let cg = &self.engine.pipelines.cg;
        let bind = |i: usize| self.binds[i].as_ref().expect("bound");
        for _ in 0..iterations {
            ctx.dispatch(
                encoder,
                Stage::Kirchhoff,
                &cg.apply_laplacian,
                bind(0),
                self.sites,
            );
            if self.clusters > 0 {
                ctx.dispatch(
                    encoder,
                    Stage::Kirchhoff,
                    &cg.gather_clusters,
                    bind(1),
                    self.clusters * WORKGROUP as u64,
                );
            }
            ctx.dispatch_coarse(encoder, Stage::Kirchhoff, &cg.dot_pq, bind(2), self.sites);
            ctx.dispatch(
                encoder,
                Stage::Kirchhoff,
                &cg.finish_pq,
                bind(3),
                WORKGROUP as u64,
            );
            ctx.dispatch_coarse(encoder, Stage::Kirchhoff, &cg.update, bind(4), self.sites);
            ctx.dispatch(
                encoder,
                Stage::Kirchhoff,
                &cg.finish_rz,
                bind(5),
                WORKGROUP as u64,
            );
            ctx.dispatch(
                encoder,
                Stage::Kirchhoff,
                &cg.new_direction,
                bind(6),
                self.sites,
            );
        }
    }

    fn read_scalars(&self) -> Result<Scalars, GpuError> {
        let words = self.engine.ctx.read_words(&self.scalars, 0, 8)?;
        Ok(bytemuck::cast_slice::<u32, Scalars>(&words)[0])
    }
}

/// Checks that the adapter can hold the solve of a lattice of `sites` sites.
fn check_limits(engine: &GpuEngine, sites: u64) -> Result<(), GpuError> {
    let limits = &engine.ctx.limits;
    let binding_bytes = engine.ctx.max_words_per_binding() * 4;
    if sites * 4 > binding_bytes {
        return Err(GpuError::SolverTooLarge {
            sites,
            needed: human_bytes(sites * 4),
            limit: human_bytes(binding_bytes),
        });
    }
    if limits.max_storage_buffers_per_shader_stage < STORAGE_BINDINGS {
        return Err(GpuError::Device(format!(
            "the Kirchhoff solver binds {STORAGE_BINDINGS} storage buffers in one stage; the \
             adapter allows {}",
            limits.max_storage_buffers_per_shader_stage
        )));
    }
    Ok(())
}

impl GpuEngine {
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
            return Ok(GpuResistance {
                axis: stencil.unsolved(params),
                refinements: 0,
                device_s: 0.0,
                host_s: 0.0,
            });
        }
        let sites = stencil.sites();
        check_limits(self, sites as u64)?;
        let host_start = Instant::now();
        let device = Device::new(self, stencil, params)?;
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
            let mut r32 = vec![0.0f32; sites];
            let mut z32 = vec![0.0f32; sites];
            let (mut rz, mut rr32) = (0.0f64, 0.0f64);
            for s in 0..sites {
                if stencil.role(s as u32) == Some(NodeRole::Free) {
                    let v = (r[s] / scale) as f32;
                    let z = v * (1.0 / stencil.diagonal[s]) as f32;
                    r32[s] = v;
                    z32[s] = z;
                    rz += v as f64 * z as f64;
                    rr32 += v as f64 * v as f64;
                }
            }
            ctx.queue
                .write_buffer(&device.r, 0, bytemuck::cast_slice(&r32));
            ctx.queue
                .write_buffer(&device.p, 0, bytemuck::cast_slice(&z32));
            ctx.queue
                .write_buffer(&device.x, 0, bytemuck::cast_slice(&vec![0.0f32; sites]));
            drop((r32, z32));
            let start = Scalars {
                rz: rz as f32,
                rr: rr32 as f32,
                target_rr: (options.inner_tolerance * options.inner_tolerance * rr32) as f32,
                running: 1,
                ..Default::default()
            };
            ctx.queue
                .write_buffer(&device.scalars, 0, bytemuck::bytes_of(&start));
            let t = Instant::now();
            let inner = loop {
                let mut encoder = ctx.encoder();
                device.encode(&mut encoder, options.batch);
                ctx.submit_and_wait(encoder)?;
                let s = device.read_scalars()?;
                let done = s.iterations as usize;
                progress(inner_total + done, residual);
                if s.running == 0 || done >= per_refinement || inner_total + done >= max_iterations
                {
                    break done;
                }
            };
            device_s += t.elapsed().as_secs_f64();
            inner_total += inner;
            let e = ctx.read_words(&device.x, 0, sites as u64)?;
            for (s, (xi, &ei)) in x.iter_mut().zip(&e).enumerate() {
                if stencil.role(s as u32) == Some(NodeRole::Free) {
                    *xi += scale * f32::from_bits(ei) as f64;
                }
            }
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
        Ok(GpuResistance {
            axis,
            refinements,
            device_s,
            host_s: host_start.elapsed().as_secs_f64() - device_s,
        })
    }

    /// The resistance of the sample along `axis` on the device (the GPU twin of the CPU's
    /// `axis_resistance`, without the current map).
    #[allow(clippy::too_many_arguments)]
    pub fn axis_resistance(
        &self,
        lattice: &Lattice,
        params: &BondParams,
        masks: &[u32],
        sc_labels: Option<&[u32]>,
        axis: usize,
        options: &GpuSolveOptions,
        progress: impl FnMut(usize, f64),
    ) -> Result<GpuResistance, GpuSolveError> {
        // Refuse a lattice the device cannot hold before building anything on the host.
        check_limits(self, lattice.sites())?;
        let stencil = tunnelgrid_cpu::kirchhoff::stencil::axis_stencil(
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
