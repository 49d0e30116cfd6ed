//! Compute pipelines, created once per context and reused by every run.

use crate::shader_source::resolved;

/// One pipeline per shader entry point.
pub struct Pipelines {
    /// bonds.wgsl: bond masks and bond totals, one pipeline per mode (tunnel, site, bond,
    /// volume; `params::mode_index`).
    pub evaluate_bonds: [wgpu::ComputePipeline; 4],
    /// labels.wgsl: union-find inside blocks of cells, in workgroup memory.
    pub label_blocks: wgpu::ComputePipeline,
    /// labels.wgsl: every site its own root (instead of label_blocks on software devices).
    pub init_labels: wgpu::ComputePipeline,
    /// labels.wgsl: union-find hooking with atomicMin.
    pub hook_bonds: wgpu::ComputePipeline,
    /// labels.wgsl: path compression.
    pub compress_labels: wgpu::ComputePipeline,
    /// remap.wgsl: old roots take their final root.
    pub remap_roots: wgpu::ComputePipeline,
    /// remap.wgsl: sites take their root's final root.
    pub remap_sites: wgpu::ComputePipeline,
    /// stats.wgsl: flags of global and spanning roots.
    pub mark_roots: wgpu::ComputePipeline,
    /// stats.wgsl: cluster sizes.
    pub count_sites: wgpu::ComputePipeline,
    /// stats.wgsl: per-workgroup cluster totals.
    pub reduce_sizes: wgpu::ComputePipeline,
    /// stats.wgsl: sizes of clusters joined across slabs.
    pub gather_globals: wgpu::ComputePipeline,
    /// gather.wgsl: masks and labels of listed sites.
    pub gather_sites: wgpu::ComputePipeline,
    /// kirchhoff.wgsl: the conjugate-gradient stages.
    pub cg: CgPipelines,
    /// amg.wgsl: the multigrid-preconditioned conjugate-gradient stages.
    pub amg: AmgPipelines,
}

/// The stages of the multigrid-preconditioned CG (shaders/amg.wgsl).
pub struct AmgPipelines {
    /// dst = rhs − A·src per row block.
    pub laplacian_residual: wgpu::ComputePipeline,
    /// q = A·p per row block, partial sums of p·q.
    pub laplacian_apply: wgpu::ComputePipeline,
    /// dst = M·src (restriction).
    pub multiply: wgpu::ComputePipeline,
    /// dst += M·src (prolongation).
    pub multiply_add: wgpu::ComputePipeline,
    /// The first damped Jacobi sweep from 0.
    pub jacobi_start: wgpu::ComputePipeline,
    /// A further damped Jacobi sweep from its residual.
    pub jacobi_correct: wgpu::ComputePipeline,
    /// The coarsest level's dense inverse.
    pub dense_solve: wgpu::ComputePipeline,
    /// α.
    pub finish_pq: wgpu::ComputePipeline,
    /// x and r, partial sums of r·r.
    pub cg_update: wgpu::ComputePipeline,
    /// Convergence.
    pub finish_rr: wgpu::ComputePipeline,
    /// Partial sums of r·z.
    pub dot_rz: wgpu::ComputePipeline,
    /// β.
    pub finish_rz: wgpu::ComputePipeline,
    /// p = z + β·p.
    pub new_direction: wgpu::ComputePipeline,
}

/// The stages of one conjugate-gradient iteration (shaders/kirchhoff.wgsl), in order.
pub struct CgPipelines {
    /// q = A·p per site (stencil).
    pub apply_laplacian: wgpu::ComputePipeline,
    /// Per slab: sums of the partial rows of contracted clusters' members, per segment.
    pub gather_segments: wgpu::ComputePipeline,
    /// Rows of contracted superconducting clusters from their segment sums.
    pub finish_clusters: wgpu::ComputePipeline,
    /// Partial sums of p·q.
    pub dot_pq: wgpu::ComputePipeline,
    /// α.
    pub finish_pq: wgpu::ComputePipeline,
    /// x and r, partial sums of r·z and r·r.
    pub update: wgpu::ComputePipeline,
    /// β and convergence.
    pub finish_rz: wgpu::ComputePipeline,
    /// p = z + β·p.
    pub new_direction: wgpu::ComputePipeline,
}

impl Pipelines {
    /// Compiles every stage for `device`.
    pub fn new(device: &wgpu::Device) -> Self {
        let module = |file: &str| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(file),
                source: wgpu::ShaderSource::Wgsl(resolved(file).into()),
            })
        };
        let specialised = |module: &wgpu::ShaderModule, entry: &str, constants: &[(&str, f64)]| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    ..Default::default()
                },
                cache: None,
            })
        };
        let pipeline = |module: &wgpu::ShaderModule, entry: &str| specialised(module, entry, &[]);
        let bonds = module("bonds.wgsl");
        let labels = module("labels.wgsl");
        let remap = module("remap.wgsl");
        let stats = module("stats.wgsl");
        let gather = module("gather.wgsl");
        let kirchhoff = module("kirchhoff.wgsl");
        let amg = module("amg.wgsl");
        Self {
            evaluate_bonds: [0.0, 1.0, 2.0, 3.0]
                .map(|mode| specialised(&bonds, "evaluate_bonds", &[("MODE", mode)])),
            label_blocks: pipeline(&labels, "label_blocks"),
            init_labels: pipeline(&labels, "init_labels"),
            hook_bonds: pipeline(&labels, "hook_bonds"),
            compress_labels: pipeline(&labels, "compress_labels"),
            remap_roots: pipeline(&remap, "remap_roots"),
            remap_sites: pipeline(&remap, "remap_sites"),
            mark_roots: pipeline(&stats, "mark_roots"),
            count_sites: pipeline(&stats, "count_sites"),
            reduce_sizes: pipeline(&stats, "reduce_sizes"),
            gather_globals: pipeline(&stats, "gather_globals"),
            gather_sites: pipeline(&gather, "gather_sites"),
            cg: CgPipelines {
                apply_laplacian: pipeline(&kirchhoff, "apply_laplacian"),
                gather_segments: pipeline(&kirchhoff, "gather_segments"),
                finish_clusters: pipeline(&kirchhoff, "finish_clusters"),
                dot_pq: pipeline(&kirchhoff, "dot_pq"),
                finish_pq: pipeline(&kirchhoff, "finish_pq"),
                update: pipeline(&kirchhoff, "update"),
                finish_rz: pipeline(&kirchhoff, "finish_rz"),
                new_direction: pipeline(&kirchhoff, "new_direction"),
            },
            amg: AmgPipelines {
                laplacian_residual: pipeline(&amg, "laplacian_residual"),
                laplacian_apply: pipeline(&amg, "laplacian_apply"),
                multiply: pipeline(&amg, "multiply"),
                multiply_add: pipeline(&amg, "multiply_add"),
                jacobi_start: pipeline(&amg, "jacobi_start"),
                jacobi_correct: pipeline(&amg, "jacobi_correct"),
                dense_solve: pipeline(&amg, "dense_solve"),
                finish_pq: pipeline(&amg, "finish_pq"),
                cg_update: pipeline(&amg, "cg_update"),
                finish_rr: pipeline(&amg, "finish_rr"),
                dot_rz: pipeline(&amg, "dot_rz"),
                finish_rz: pipeline(&amg, "finish_rz"),
                new_direction: pipeline(&amg, "new_direction"),
            },
        }
    }
}
