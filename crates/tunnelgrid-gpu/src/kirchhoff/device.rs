//! The device side of one GPU solve: the blocks of `Layout` as buffers, their bind groups, and
//! the encoding of CG iterations with the halo refresh between slabs.

use super::layout::{halo_copies, HaloCopy, Layout};
use super::GpuSolveError;
use crate::buffers::{coarse_groups, WORKGROUP};
use crate::engine::GpuEngine;
use crate::params::slab_params;
use crate::timer::Stage;
use crate::GpuError;
use tunnelgrid_host::stencil::AxisStencil;
use tunnelgrid_model::engine::human_bytes;
use tunnelgrid_model::BondParams;

/// `Scalars` in shaders/kirchhoff.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Scalars {
    pub rz: f32,
    pub pq: f32,
    pub rr: f32,
    pub alpha: f32,
    pub beta: f32,
    pub target_rr: f32,
    pub running: u32,
    pub iterations: u32,
}

/// Bytes of device memory per window site for `k_count` forward bonds: node code, inverse
/// diagonal, x, r, p, q (4 B each) and the conductances.
pub fn bytes_per_window_site(k_count: usize) -> u64 {
    24 + 4 * k_count as u64
}

/// One block of unknowns: a slab's window, or the clusters.
struct Block {
    /// Unknowns of the block: the slab's sites, or the clusters.
    entries: u64,
    /// Entry of the first unknown (the halo's length in a slab window, 0 for the clusters).
    first: u64,
    /// Entries of each vector (the window's length for a slab).
    len: u64,
    x: wgpu::Buffer,
    r: wgpu::Buffer,
    p: wgpu::Buffer,
    q: wgpu::Buffer,
    dot_pq: wgpu::BindGroup,
    update: wgpu::BindGroup,
    new_direction: wgpu::BindGroup,
    /// Slabs only: the stencil, and the segment gather when the slab holds cluster members.
    stencil: Option<wgpu::BindGroup>,
    gather: Option<(wgpu::BindGroup, u64)>,
}

/// The buffers and bind groups of one solve.
pub struct Device<'a> {
    engine: &'a GpuEngine,
    /// The slabs' blocks in z order, then the cluster block if there are clusters.
    blocks: Vec<Block>,
    slabs: usize,
    clusters: u64,
    finish_clusters: Option<wgpu::BindGroup>,
    finish_pq: wgpu::BindGroup,
    finish_rz: wgpu::BindGroup,
    scalars: wgpu::Buffer,
    halo: Vec<HaloCopy>,
    /// A layer of p for the halo copies whose source and target are one buffer (one slab,
    /// periodic z): wgpu copies between different buffers only.
    staging: wgpu::Buffer,
    layer: u64,
}

impl<'a> Device<'a> {
    /// Uploads the network of `stencil` as laid out in `layout`; `inv_diag` holds the inverse
    /// diagonal per block (`to_blocks`).
    pub fn new(
        engine: &'a GpuEngine,
        stencil: &AxisStencil,
        layout: &Layout,
        inv_diag: &[Vec<f32>],
        params: &BondParams,
    ) -> Result<Self, GpuSolveError> {
        let ctx = &engine.ctx;
        let lattice = &stencil.lattice;
        let clusters = layout.representatives.len() as u64;
        let (offsets, _) = crate::params::bond_tables(lattice, params);
        let bond_offsets = ctx.storage_with("bond offsets", bytemuck::cast_slice(&offsets));
        // Partial sums: each block's workgroups in block order.
        let mut entries: Vec<(u64, u64, u64)> = layout
            .slabs
            .iter()
            .map(|s| (s.slab.sites, s.first, s.codes.len() as u64))
            .collect();
        if clusters > 0 {
            entries.push((clusters, 0, clusters));
        }
        let groups: Vec<u64> = entries.iter().map(|e| coarse_groups(e.0)).collect();
        let total_groups: u64 = groups.iter().sum();

        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let partials = ctx.storage("cg partials", 2 * total_groups);
        let scalars = ctx.storage("cg scalars", 8);
        let segment_sums = ctx.storage("cluster segment sums", layout.segment_count());
        let cluster_segments = ctx.storage_with(
            "cluster segments",
            bytemuck::cast_slice(&layout.cluster_segments),
        );
        let vectors = |len: u64, inv_diag: &[f32]| {
            (
                ctx.storage_with("cg inverse diagonal", bytemuck::cast_slice(inv_diag)),
                ctx.storage("cg x", len),
                ctx.storage("cg r", len),
                ctx.storage("cg p", len),
                ctx.storage("cg q", len),
            )
        };
        let slab_vectors: Vec<_> = layout
            .slabs
            .iter()
            .zip(inv_diag)
            .map(|(s, d)| vectors(s.codes.len() as u64, d))
            .collect();
        let cluster_vectors =
            (clusters > 0).then(|| vectors(clusters, &inv_diag[layout.slabs.len()]));
        let slab_statics: Vec<_> = layout
            .slabs
            .iter()
            .map(|s| {
                (
                    ctx.storage_with("cg node codes", bytemuck::cast_slice(&s.codes)),
                    ctx.storage_with("cg conductances", bytemuck::cast_slice(&s.conductance)),
                    ctx.storage_with("cluster members", bytemuck::cast_slice(&s.members)),
                    ctx.storage_with("cluster segments", bytemuck::cast_slice(&s.segments)),
                )
            })
            .collect();
        if let Some(error) = pollster::block_on(scope.pop()) {
            let windows: u64 = entries.iter().map(|e| e.2).sum();
            return Err(GpuError::OutOfMemory {
                needed: human_bytes(windows * bytes_per_window_site(stencil.bonds_per_site)),
                detail: error.to_string(),
            }
            .into());
        }
        let dummy = ctx.storage("no clusters", 1);
        let cluster_p = cluster_vectors.as_ref().map_or(&dummy, |v| &v.3);

        let cg = &engine.pipelines.cg;
        let mut blocks = Vec::with_capacity(entries.len());
        let mut partial_base = 0;
        let all: Vec<_> = slab_vectors.iter().chain(cluster_vectors.iter()).collect();
        let mut block_uniforms = Vec::new();
        for (b, (&(count, first, len), vectors)) in entries.iter().zip(all).enumerate() {
            let (inv_diag, x, r, p, q) = vectors;
            let slab = layout.slabs.get(b);
            let segments = slab.map_or(0, |s| s.segments.len() as u64);
            let uniform = ctx.uniform_with(
                "cg block",
                bytemuck::cast_slice(&[
                    count as u32,
                    first as u32,
                    partial_base as u32,
                    total_groups as u32,
                    segments as u32,
                    clusters as u32,
                    0,
                    0,
                ]),
            );
            partial_base += groups[b];
            // The stages over the block's entries all bind its sizes and inverse diagonal.
            let elementwise = |pipeline: &wgpu::ComputePipeline,
                               entries: &[(u32, &wgpu::Buffer)]| {
                let mut all = vec![(2, &uniform), (4, inv_diag)];
                all.extend_from_slice(entries);
                ctx.bind(pipeline, &all)
            };
            let dot_pq = elementwise(&cg.dot_pq, &[(7, p), (8, q), (9, &partials)]);
            let update = elementwise(
                &cg.update,
                &[
                    (5, x),
                    (6, r),
                    (7, p),
                    (8, q),
                    (9, &partials),
                    (10, &scalars),
                ],
            );
            let new_direction = elementwise(&cg.new_direction, &[(6, r), (7, p), (10, &scalars)]);
            let (stencil_bind, gather) = match (slab, slab_statics.get(b)) {
                (Some(s), Some((codes, conductance, members, segment_table))) => {
                    let slab_uniform = ctx.uniform_with(
                        "kirchhoff slab params",
                        bytemuck::bytes_of(&slab_params(lattice, params, &s.slab, false)),
                    );
                    let stencil_bind = ctx.bind(
                        &cg.apply_laplacian,
                        &[
                            (0, &slab_uniform),
                            (1, &bond_offsets),
                            (2, &uniform),
                            (3, codes),
                            (7, p),
                            (8, q),
                            (15, cluster_p),
                            (16, conductance),
                        ],
                    );
                    let gather = (segments > 0).then(|| {
                        let bind = ctx.bind(
                            &cg.gather_segments,
                            &[
                                (2, &uniform),
                                (8, q),
                                (11, segment_table),
                                (12, members),
                                (13, &segment_sums),
                            ],
                        );
                        (bind, segments)
                    });
                    (Some(stencil_bind), gather)
                }
                _ => (None, None),
            };
            blocks.push(Block {
                entries: count,
                first,
                len,
                x: x.clone(),
                r: r.clone(),
                p: p.clone(),
                q: q.clone(),
                dot_pq,
                update,
                new_direction,
                stencil: stencil_bind,
                gather,
            });
            block_uniforms.push(uniform);
        }
        let finish_clusters = cluster_vectors.as_ref().map(|(_, _, _, _, q)| {
            ctx.bind(
                &cg.finish_clusters,
                &[
                    (2, block_uniforms.last().expect("the cluster block")),
                    (8, q),
                    (13, &segment_sums),
                    (14, &cluster_segments),
                ],
            )
        });
        let finish = |pipeline| {
            ctx.bind(
                pipeline,
                &[(2, &block_uniforms[0]), (9, &partials), (10, &scalars)],
            )
        };
        let layer = lattice.sites_per_layer();
        let slabs: Vec<_> = layout.slabs.iter().map(|s| s.slab).collect();
        Ok(Self {
            engine,
            blocks,
            slabs: layout.slabs.len(),
            clusters,
            finish_clusters,
            finish_pq: finish(&cg.finish_pq),
            finish_rz: finish(&cg.finish_rz),
            scalars,
            halo: halo_copies(lattice, &slabs),
            staging: ctx.storage("halo staging", layer),
            layer,
        })
    }

    /// Encodes q = A·p: the stencil of every slab, then the rows of the contracted clusters.
    pub fn encode_operator(&self, encoder: &mut wgpu::CommandEncoder) {
        let ctx = &self.engine.ctx;
        let cg = &self.engine.pipelines.cg;
        let slabs = &self.blocks[..self.slabs];
        for slab in slabs {
            let bind = slab.stencil.as_ref().expect("a slab's stencil");
            ctx.dispatch(
                encoder,
                Stage::Kirchhoff,
                &cg.apply_laplacian,
                bind,
                slab.entries,
            );
        }
        if let Some(finish) = &self.finish_clusters {
            for (bind, segments) in slabs.iter().filter_map(|s| s.gather.as_ref()) {
                ctx.dispatch(
                    encoder,
                    Stage::Kirchhoff,
                    &cg.gather_segments,
                    bind,
                    segments * WORKGROUP as u64,
                );
            }
            ctx.dispatch(
                encoder,
                Stage::Kirchhoff,
                &cg.finish_clusters,
                finish,
                self.clusters,
            );
        }
    }

    /// Encodes `iterations` CG iterations.
    pub fn encode(&self, encoder: &mut wgpu::CommandEncoder, iterations: u32) {
        let ctx = &self.engine.ctx;
        let cg = &self.engine.pipelines.cg;
        for _ in 0..iterations {
            self.encode_operator(encoder);
            for block in &self.blocks {
                ctx.dispatch_coarse(
                    encoder,
                    Stage::Kirchhoff,
                    &cg.dot_pq,
                    &block.dot_pq,
                    block.entries,
                );
            }
            ctx.dispatch(
                encoder,
                Stage::Kirchhoff,
                &cg.finish_pq,
                &self.finish_pq,
                WORKGROUP as u64,
            );
            for block in &self.blocks {
                ctx.dispatch_coarse(
                    encoder,
                    Stage::Kirchhoff,
                    &cg.update,
                    &block.update,
                    block.entries,
                );
            }
            ctx.dispatch(
                encoder,
                Stage::Kirchhoff,
                &cg.finish_rz,
                &self.finish_rz,
                WORKGROUP as u64,
            );
            for block in &self.blocks {
                ctx.dispatch(
                    encoder,
                    Stage::Kirchhoff,
                    &cg.new_direction,
                    &block.new_direction,
                    block.entries,
                );
            }
            self.encode_halo(encoder);
        }
    }

    /// Copies every slab's halo layers of p from the slabs that own them.
    pub fn encode_halo(&self, encoder: &mut wgpu::CommandEncoder) {
        let bytes = self.layer * 4;
        for copy in &self.halo {
            let from = &self.blocks[copy.from.0].p;
            let to = &self.blocks[copy.to.0].p;
            if copy.from.0 == copy.to.0 {
                encoder.copy_buffer_to_buffer(from, copy.from.1 * 4, &self.staging, 0, bytes);
                encoder.copy_buffer_to_buffer(&self.staging, 0, to, copy.to.1 * 4, bytes);
            } else {
                encoder.copy_buffer_to_buffer(from, copy.from.1 * 4, to, copy.to.1 * 4, bytes);
            }
        }
    }

    /// Starts an inner solve: r and p = D⁻¹r per block (windows with their halos), x = 0.
    pub fn start(
        &self,
        residual: &[Vec<f32>],
        direction: &[Vec<f32>],
        scalars: &Scalars,
    ) -> Result<(), GpuError> {
        let queue = &self.engine.ctx.queue;
        for ((block, r), p) in self.blocks.iter().zip(residual).zip(direction) {
            debug_assert_eq!(r.len() as u64, block.len);
            queue.write_buffer(&block.r, 0, bytemuck::cast_slice(r));
            queue.write_buffer(&block.p, 0, bytemuck::cast_slice(p));
            queue.write_buffer(&block.x, 0, &vec![0u8; block.len as usize * 4]);
        }
        queue.write_buffer(&self.scalars, 0, bytemuck::bytes_of(scalars));
        Ok(())
    }

    /// The unknowns of every block (x without the halos).
    pub fn solution(&self) -> Result<Vec<Vec<f32>>, GpuError> {
        self.read_blocks(|block| &block.x)
    }

    /// A·p of the last operator pass, per block (without the halos).
    pub fn operator_result(&self) -> Result<Vec<Vec<f32>>, GpuError> {
        self.read_blocks(|block| &block.q)
    }

    fn read_blocks(
        &self,
        vector: impl Fn(&Block) -> &wgpu::Buffer,
    ) -> Result<Vec<Vec<f32>>, GpuError> {
        self.blocks
            .iter()
            .map(|block| {
                let words =
                    self.engine
                        .ctx
                        .read_words(vector(block), block.first, block.entries)?;
                Ok(words.into_iter().map(f32::from_bits).collect())
            })
            .collect()
    }

    /// The device's scalars.
    pub fn read_scalars(&self) -> Result<Scalars, GpuError> {
        let words = self.engine.ctx.read_words(&self.scalars, 0, 8)?;
        Ok(bytemuck::cast_slice::<u32, Scalars>(&words)[0])
    }
}
