//! The multigrid-preconditioned f32 CG on the device (shaders/amg.wgsl): the hierarchy of
//! `tunnelgrid_host::amg` (built on the host from the stencil's reduced Laplacian) uploaded as
//! compressed rows, and the V-cycle encoded as a fixed list of dispatches.
//!
//! *Where things live.* Every vector of a level is one storage binding (a lattice whose unknowns
//! do not fit one binding is refused, naming the limit and the Jacobi path, which cuts the
//! lattice into z slabs). Every matrix is cut into row blocks that each fit a binding; the fine
//! matrix is also cut where the engine's z slabs end (`GpuOptions::slab_layers`), so a solve in
//! several slabs runs the blocked stages as a large lattice would.
//!
//! *The smoother* is damped Jacobi, ω = 4/(3·ρ(D⁻¹A)) as in the prolongator's smoothing:
//! unlike the CPU's Gauss–Seidel it updates every row at once, which is what a GPU does well.
//! `SMOOTHING_SWEEPS` sweeps before and as many after each coarse correction keep the V-cycle
//! symmetric. The coarsest level (a few hundred nodes) is solved by its dense inverse,
//! precomputed on the host from the Cholesky factors.

use super::device::Scalars;
use super::GpuSolveError;
use crate::buffers::{grid, WORKGROUP};
use crate::engine::GpuEngine;
use crate::timer::Stage;
use crate::GpuError;
use tunnelgrid_host::amg::sparse::Csr;
use tunnelgrid_host::amg::{prolongator, Bottom, Hierarchy, Laplacian};
use tunnelgrid_model::engine::human_bytes;

/// Damped Jacobi sweeps before, and as many after, each coarse correction.
pub const SMOOTHING_SWEEPS: usize = 2;
/// Sweeps at a coarsest level too large to invert (coarsening stalled).
const STALLED_SWEEPS: usize = 20;
/// Storage buffers the widest stage (`laplacian_residual`) binds.
pub const STORAGE_BINDINGS: u32 = 8;

/// `Rows` in shaders/amg.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Default, bytemuck::Pod, bytemuck::Zeroable)]
struct Rows {
    counts: [u32; 4],
    omega: [f32; 4],
}

/// One dispatch of the V-cycle or of a CG iteration.
struct Step<'a> {
    pipeline: &'a wgpu::ComputePipeline,
    bind: wgpu::BindGroup,
    elements: u64,
}

/// Rows `first..first + rows` of a sparse matrix on the device, with block-local row starts.
struct RowBlock {
    first: u64,
    rows: u64,
    row_start: wgpu::Buffer,
    columns: wgpu::Buffer,
    values: wgpu::Buffer,
}

/// A sparse matrix in compressed rows, as the host holds it.
struct Sparse<'m> {
    row_start: &'m [usize],
    columns: &'m [u32],
    values: &'m [f64],
}

impl<'m> Sparse<'m> {
    fn of(m: &'m Csr) -> Self {
        Sparse {
            row_start: &m.row_start,
            columns: &m.columns,
            values: &m.values,
        }
    }
}

/// Row ranges of `row_start`: one or more per segment between consecutive `boundaries`
/// (ascending rows where a z slab starts; an empty segment gives an empty block, so that a
/// forced slab count is kept), each block's entries and row starts fitting `max_words`.
fn row_blocks(row_start: &[usize], max_words: u64, boundaries: &[usize]) -> Vec<(usize, usize)> {
    let rows = row_start.len() - 1;
    let mut edges: Vec<usize> = boundaries.iter().map(|&b| b.min(rows)).collect();
    if edges.first() != Some(&0) {
        edges.insert(0, 0);
    }
    edges.push(rows);
    let fits = |first: usize, end: usize| {
        (row_start[end] - row_start[first]) as u64 <= max_words
            && (end - first + 1) as u64 <= max_words
    };
    let mut blocks = Vec::new();
    for pair in edges.windows(2) {
        let (mut first, hi) = (pair[0], pair[1]);
        if first == hi {
            blocks.push((first, hi));
        }
        while first < hi {
            // At least one row, however long: a row longer than a binding cannot be split.
            let mut end = first + 1;
            while end < hi && fits(first, end + 1) {
                end += 1;
            }
            blocks.push((first, end));
            first = end;
        }
    }
    blocks
}

/// Refuses `n` unknowns whose vectors do not fit one binding of `max_words` words, naming the
/// limit and the way out.
fn vectors_fit(n: u64, max_words: u64) -> Result<(), GpuError> {
    if n <= max_words {
        return Ok(());
    }
    Err(GpuError::Device(format!(
        "the multigrid Kirchhoff solver keeps each vector of {n} unknowns in one storage binding \
         ({} needed); the adapter's largest binding is {}; use --solver jacobi, which cuts the \
         lattice into z slabs, or --engine cpu",
        human_bytes(n * 4),
        human_bytes(max_words * 4)
    )))
}

/// Bytes of device memory the solve of `hierarchy` over `fine` takes.
fn device_bytes(fine: &Laplacian, hierarchy: &Hierarchy) -> u64 {
    let matrix = |a: &Laplacian| (a.len() as u64) * (4 + 4 * 5) + a.columns.len() as u64 * 8;
    let levels: u64 = std::iter::once(fine)
        .chain(&hierarchy.coarse)
        .map(matrix)
        .sum();
    let transfers: u64 = hierarchy
        .transfers
        .iter()
        .map(|t| (t.p.entries() + t.r.entries()) as u64 * 8 + (t.p.rows() + t.r.rows()) as u64 * 4)
        .sum();
    let last = hierarchy.coarse.last().unwrap_or(fine).len() as u64;
    levels + transfers + last * last * 4 + fine.len() as u64 * 4 * 5
}

/// Largest coarsest level inverted densely (n solves of n² each on the host, n² words on the
/// device); a larger one (coarsening stalled) is relaxed by sweeps instead.
const MAX_INVERSE: usize = 1000;

/// The coarsest level's inverse, dense, row-major, from its Cholesky factors.
fn dense_inverse(hierarchy: &Hierarchy, n: usize) -> Option<Vec<f32>> {
    let Bottom::Exact(cholesky) = &hierarchy.bottom else {
        return None;
    };
    if n > MAX_INVERSE {
        return None;
    }
    let mut inverse = vec![0.0f32; n * n];
    let (mut unit, mut column) = (vec![0.0; n], vec![0.0; n]);
    for j in 0..n {
        unit[j] = 1.0;
        cholesky.solve(&unit, &mut column);
        unit[j] = 0.0;
        for i in 0..n {
            inverse[i * n + j] = column[i] as f32;
        }
    }
    Some(inverse)
}

/// One level's vectors and matrix on the device.
struct Level {
    n: u64,
    omega: f32,
    diagonal: wgpu::Buffer,
    inv_diag: wgpu::Buffer,
    /// The level's correction (z at level 0).
    x: wgpu::Buffer,
    /// Its right-hand side (the CG's r at level 0).
    b: wgpu::Buffer,
    /// Its residual b − A·x.
    r: wgpu::Buffer,
    blocks: Vec<RowBlock>,
}

/// The multigrid-preconditioned CG of one solve on the device.
pub struct AmgDevice<'a> {
    engine: &'a GpuEngine,
    n: u64,
    x: wgpu::Buffer,
    r: wgpu::Buffer,
    p: wgpu::Buffer,
    /// The preconditioned residual M·r (level 0's correction), read by the V-cycle's stage test.
    #[cfg_attr(not(test), allow(dead_code))]
    z: wgpu::Buffer,
    scalars: wgpu::Buffer,
    start: Vec<Step<'a>>,
    iteration: Vec<Step<'a>>,
    /// Row blocks of the fine matrix (the "slabs" a solve reports).
    pub fine_blocks: usize,
    /// Unknowns per level, finest first.
    pub level_nodes: Vec<usize>,
}

impl<'a> AmgDevice<'a> {
    /// Uploads `fine` and its `hierarchy`; the fine matrix's row blocks are also cut at
    /// `fine_boundaries` (rows where a z slab starts).
    pub fn new(
        engine: &'a GpuEngine,
        fine: &Laplacian,
        hierarchy: &Hierarchy,
        fine_boundaries: &[usize],
    ) -> Result<Self, GpuSolveError> {
        let ctx = &engine.ctx;
        let limits = &ctx.limits;
        if limits.max_storage_buffers_per_shader_stage < STORAGE_BINDINGS {
            return Err(GpuError::Device(format!(
                "the multigrid Kirchhoff solver binds {STORAGE_BINDINGS} storage buffers in one \
                 stage; the adapter allows {}; use --solver jacobi",
                limits.max_storage_buffers_per_shader_stage
            ))
            .into());
        }
        let max_words = ctx.max_words_per_binding();
        let n = fine.len() as u64;
        vectors_fit(n, max_words)?;
        let needed = device_bytes(fine, hierarchy);
        super::check_software_memory(engine, needed)?;
        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let upload = |name: &str, m: &Sparse, boundaries: &[usize]| -> Vec<RowBlock> {
            row_blocks(m.row_start, max_words, boundaries)
                .into_iter()
                .map(|(first, end)| {
                    let base = m.row_start[first];
                    let starts: Vec<u32> = m.row_start[first..=end]
                        .iter()
                        .map(|&s| (s - base) as u32)
                        .collect();
                    let range = base..m.row_start[end];
                    let values: Vec<f32> =
                        m.values[range.clone()].iter().map(|&v| v as f32).collect();
                    RowBlock {
                        first: first as u64,
                        rows: (end - first) as u64,
                        row_start: ctx.storage_with(name, bytemuck::cast_slice(&starts)),
                        columns: ctx.storage_with(name, bytemuck::cast_slice(&m.columns[range])),
                        values: ctx.storage_with(name, bytemuck::cast_slice(&values)),
                    }
                })
                .collect()
        };
        let laplacian = |a: &Laplacian, boundaries: &[usize]| {
            upload(
                "amg level matrix",
                &Sparse {
                    row_start: &a.row_start,
                    columns: &a.columns,
                    values: &a.conductances,
                },
                boundaries,
            )
        };
        let f32s =
            |v: &[f64], f: fn(f64) -> f64| -> Vec<f32> { v.iter().map(|&d| f(d) as f32).collect() };
        let (x, r, p, q) = (
            ctx.storage("amg cg x", n),
            ctx.storage("amg cg r", n),
            ctx.storage("amg cg p", n),
            ctx.storage("amg cg q", n),
        );
        let all: Vec<&Laplacian> = std::iter::once(fine).chain(&hierarchy.coarse).collect();
        let last = all.len() - 1;
        let levels: Vec<Level> = all
            .iter()
            .enumerate()
            .map(|(l, a)| {
                let len = a.len() as u64;
                // The V-cycle's level 0 reads the CG's r and writes its z.
                let (x, b) = if l == 0 {
                    (ctx.storage("amg cg z", len), r.clone())
                } else {
                    (ctx.storage("amg x", len), ctx.storage("amg b", len))
                };
                let radius = match hierarchy.spectral_radii.get(l) {
                    Some(&rho) => rho,
                    None => prolongator::spectral_radius(a),
                };
                Level {
                    n: len,
                    omega: (4.0 / 3.0 / radius) as f32,
                    diagonal: ctx.storage_with(
                        "amg diagonal",
                        bytemuck::cast_slice(&f32s(&a.diagonal, |d| d)),
                    ),
                    inv_diag: ctx.storage_with(
                        "amg inverse diagonal",
                        bytemuck::cast_slice(&f32s(&a.diagonal, |d| {
                            if d > 0.0 {
                                1.0 / d
                            } else {
                                0.0
                            }
                        })),
                    ),
                    x,
                    b,
                    r: ctx.storage("amg r", len),
                    blocks: laplacian(a, if l == 0 { fine_boundaries } else { &[] }),
                }
            })
            .collect();
        let transfers: Vec<(Vec<RowBlock>, Vec<RowBlock>)> = hierarchy
            .transfers
            .iter()
            .map(|t| {
                (
                    upload("amg prolongator", &Sparse::of(&t.p), &[]),
                    upload("amg restriction", &Sparse::of(&t.r), &[]),
                )
            })
            .collect();
        let inverse = dense_inverse(hierarchy, levels[last].n as usize)
            .map(|inv| ctx.storage_with("amg coarsest inverse", bytemuck::cast_slice(&inv)));
        let fine_groups: Vec<u64> = levels[0]
            .blocks
            .iter()
            .map(|b| {
                let (gx, gy) = grid(b.rows);
                gx as u64 * gy as u64
            })
            .collect();
        let vector_groups = {
            let (gx, gy) = grid(n);
            gx as u64 * gy as u64
        };
        let partials = ctx.storage(
            "amg partials",
            fine_groups.iter().sum::<u64>().max(vector_groups),
        );
        let scalars = ctx.storage("amg scalars", 8);
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                needed: human_bytes(needed),
                detail: error.to_string(),
            }
            .into());
        }

        let pipelines = &engine.pipelines.amg;
        let uniform = |counts: [u64; 4], omega: f32| {
            ctx.uniform_with(
                "amg rows",
                bytemuck::bytes_of(&Rows {
                    counts: counts.map(|c| c as u32),
                    omega: [omega, 0.0, 0.0, 0.0],
                }),
            )
        };
        let step = |pipeline: &'a wgpu::ComputePipeline,
                    counts: [u64; 4],
                    omega: f32,
                    entries: &[(u32, &wgpu::Buffer)],
                    elements: u64| {
            let rows = uniform(counts, omega);
            let mut all = vec![(0, &rows), (10, &scalars)];
            all.extend_from_slice(entries);
            Step {
                pipeline,
                bind: ctx.bind(pipeline, &all),
                elements,
            }
        };
        let matrix = |pipeline: &'a wgpu::ComputePipeline,
                      blocks: &[RowBlock],
                      extra: &[(u32, &wgpu::Buffer)]|
         -> Vec<Step<'a>> {
            blocks
                .iter()
                .map(|b| {
                    let mut entries = vec![(1, &b.row_start), (2, &b.columns), (3, &b.values)];
                    entries.extend_from_slice(extra);
                    step(pipeline, [b.rows, b.first, 0, 0], 0.0, &entries, b.rows)
                })
                .collect()
        };
        // r_l = b_l − A_l·x_l.
        let residual = |l: usize, steps: &mut Vec<Step<'a>>| {
            let level = &levels[l];
            steps.extend(matrix(
                &pipelines.laplacian_residual,
                &level.blocks,
                &[
                    (4, &level.diagonal),
                    (6, &level.x),
                    (7, &level.r),
                    (8, &level.b),
                ],
            ));
        };
        // One damped Jacobi sweep: the residual, then x_l += ω·D⁻¹·r_l.
        let sweep = |l: usize, steps: &mut Vec<Step<'a>>| {
            let level = &levels[l];
            residual(l, steps);
            steps.push(step(
                &pipelines.jacobi_correct,
                [level.n, 0, 0, 0],
                level.omega,
                &[(5, &level.inv_diag), (6, &level.r), (7, &level.x)],
                level.n,
            ));
        };
        // `sweeps` damped Jacobi sweeps from x_l = 0 (the first needs no residual).
        let relax_from_zero = |l: usize, sweeps: usize, steps: &mut Vec<Step<'a>>| {
            let level = &levels[l];
            steps.push(step(
                &pipelines.jacobi_start,
                [level.n, 0, 0, 0],
                level.omega,
                &[(5, &level.inv_diag), (7, &level.x), (8, &level.b)],
                level.n,
            ));
            for _ in 1..sweeps {
                sweep(l, steps);
            }
        };
        let mut v_cycle: Vec<Step<'a>> = Vec::new();
        for l in 0..last {
            relax_from_zero(l, SMOOTHING_SWEEPS, &mut v_cycle);
            residual(l, &mut v_cycle);
            v_cycle.extend(matrix(
                &pipelines.multiply,
                &transfers[l].1,
                &[(6, &levels[l].r), (7, &levels[l + 1].b)],
            ));
        }
        let bottom = &levels[last];
        match &inverse {
            Some(inverse) => v_cycle.push(step(
                &pipelines.dense_solve,
                [bottom.n, 0, 0, 0],
                0.0,
                &[(3, inverse), (7, &bottom.x), (8, &bottom.b)],
                bottom.n,
            )),
            None => relax_from_zero(last, STALLED_SWEEPS, &mut v_cycle),
        }
        for l in (0..last).rev() {
            let (level, next) = (&levels[l], &levels[l + 1]);
            v_cycle.extend(matrix(
                &pipelines.multiply_add,
                &transfers[l].0,
                &[(6, &next.x), (7, &level.x)],
            ));
            for _ in 0..SMOOTHING_SWEEPS {
                sweep(l, &mut v_cycle);
            }
        }
        let z = &levels[0].x;
        let finish = |pipeline: &'a wgpu::ComputePipeline, partials_used: u64| {
            step(
                pipeline,
                [0, 0, 0, partials_used],
                0.0,
                &[(9, &partials)],
                WORKGROUP as u64,
            )
        };
        let direction = |v_cycle: Vec<Step<'a>>| {
            let mut steps = v_cycle;
            steps.push(step(
                &pipelines.dot_rz,
                [n, 0, 0, 0],
                0.0,
                &[(9, &partials), (12, &r), (15, z)],
                n,
            ));
            steps.push(finish(&pipelines.finish_rz, vector_groups));
            steps.push(step(
                &pipelines.new_direction,
                [n, 0, 0, 0],
                0.0,
                &[(13, &p), (15, z)],
                n,
            ));
            steps
        };
        // The V-cycle's dispatches appear twice (start, iteration): rebuild rather than clone,
        // since bind groups are not Clone-able into a second owner cheaply.
        let mut iteration = Vec::new();
        let mut partial_base = 0;
        for (b, groups) in levels[0].blocks.iter().zip(&fine_groups) {
            iteration.push(step(
                &pipelines.laplacian_apply,
                [b.rows, b.first, partial_base, 0],
                0.0,
                &[
                    (1, &b.row_start),
                    (2, &b.columns),
                    (3, &b.values),
                    (4, &levels[0].diagonal),
                    (6, &p),
                    (7, &q),
                    (9, &partials),
                ],
                b.rows,
            ));
            partial_base += groups;
        }
        iteration.push(finish(&pipelines.finish_pq, partial_base));
        iteration.push(step(
            &pipelines.cg_update,
            [n, 0, 0, 0],
            0.0,
            &[(9, &partials), (11, &x), (12, &r), (13, &p), (14, &q)],
            n,
        ));
        iteration.push(finish(&pipelines.finish_rr, vector_groups));
        let start_cycle: Vec<Step<'a>> = v_cycle
            .iter()
            .map(|s| Step {
                pipeline: s.pipeline,
                bind: s.bind.clone(),
                elements: s.elements,
            })
            .collect();
        iteration.extend(direction(v_cycle));
        let start = direction(start_cycle);
        let z = z.clone();
        Ok(Self {
            engine,
            n,
            x,
            r,
            p,
            z,
            scalars,
            start,
            iteration,
            fine_blocks: levels[0].blocks.len(),
            level_nodes: all.iter().map(|a| a.len()).collect(),
        })
    }

    fn encode_steps(&self, encoder: &mut wgpu::CommandEncoder, steps: &[Step<'a>]) {
        for s in steps {
            self.engine
                .ctx
                .dispatch(encoder, Stage::Kirchhoff, s.pipeline, &s.bind, s.elements);
        }
    }

    /// Starts an inner solve A·e = r from e = 0 (`r` by row), stopping once ‖r‖ has fallen by
    /// the factor `tolerance`: uploads r, runs the first V-cycle and sets the first direction.
    pub fn begin(&self, r: &[f32], tolerance: f64) -> Result<(), GpuError> {
        let ctx = &self.engine.ctx;
        let zeros = vec![0u8; self.n as usize * 4];
        ctx.queue.write_buffer(&self.r, 0, bytemuck::cast_slice(r));
        ctx.queue.write_buffer(&self.x, 0, &zeros);
        ctx.queue.write_buffer(&self.p, 0, &zeros);
        let rr: f64 = r.iter().map(|&v| v as f64 * v as f64).sum();
        let scalars = Scalars {
            rr: rr as f32,
            target_rr: (tolerance * tolerance * rr) as f32,
            running: 1,
            ..Default::default()
        };
        ctx.queue
            .write_buffer(&self.scalars, 0, bytemuck::bytes_of(&scalars));
        let mut encoder = ctx.encoder();
        self.encode_steps(&mut encoder, &self.start);
        ctx.submit_and_wait(encoder)
    }

    /// Encodes `iterations` CG iterations.
    pub fn encode(&self, encoder: &mut wgpu::CommandEncoder, iterations: u32) {
        for _ in 0..iterations {
            self.encode_steps(encoder, &self.iteration);
        }
    }

    /// The device's scalars.
    pub fn read_scalars(&self) -> Result<Scalars, GpuError> {
        let words = self.engine.ctx.read_words(&self.scalars, 0, 8)?;
        Ok(bytemuck::cast_slice::<u32, Scalars>(&words)[0])
    }

    /// The solution e by row.
    pub fn solution(&self) -> Result<Vec<f32>, GpuError> {
        self.read(&self.x)
    }

    /// M·r of the last V-cycle, by row (after `begin`: the first one's).
    #[cfg(test)]
    fn preconditioned(&self) -> Result<Vec<f32>, GpuError> {
        self.read(&self.z)
    }

    fn read(&self, vector: &wgpu::Buffer) -> Result<Vec<f32>, GpuError> {
        let words = self.engine.ctx.read_words(vector, 0, self.n)?;
        Ok(words.into_iter().map(f32::from_bits).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelgrid_host::amg::fixtures::grid_with;

    /// The device's V-cycle's host twin, in f64: damped Jacobi sweeps with the same ω, the same
    /// restriction, prolongation and coarsest solve.
    fn host_v_cycle(levels: &[&Laplacian], hierarchy: &Hierarchy, l: usize, b: &[f64]) -> Vec<f64> {
        let a = levels[l];
        let n = a.len();
        let bottom = l + 1 == levels.len();
        if let (true, Bottom::Exact(cholesky)) = (bottom, &hierarchy.bottom) {
            let mut x = vec![0.0; n];
            cholesky.solve(b, &mut x);
            return x;
        }
        let radius = match hierarchy.spectral_radii.get(l) {
            Some(&rho) => rho,
            None => prolongator::spectral_radius(a),
        };
        let omega = (4.0 / 3.0 / radius) as f32 as f64;
        let mut x: Vec<f64> = (0..n).map(|i| omega * b[i] / a.diagonal[i]).collect();
        let mut r = vec![0.0; n];
        let sweep = |x: &mut Vec<f64>, r: &mut Vec<f64>| {
            a.residual(b, x, r);
            for i in 0..n {
                x[i] += omega * r[i] / a.diagonal[i];
            }
        };
        if bottom {
            // A coarsest level relaxed rather than inverted.
            for _ in 1..STALLED_SWEEPS {
                sweep(&mut x, &mut r);
            }
            return x;
        }
        for _ in 1..SMOOTHING_SWEEPS {
            sweep(&mut x, &mut r);
        }
        a.residual(b, &x, &mut r);
        let transfer = &hierarchy.transfers[l];
        let mut coarse_b = vec![0.0; transfer.r.rows()];
        transfer.r.multiply(&r, &mut coarse_b);
        let coarse_x = host_v_cycle(levels, hierarchy, l + 1, &coarse_b);
        transfer.p.multiply_add(&coarse_x, &mut x);
        for _ in 0..SMOOTHING_SWEEPS {
            sweep(&mut x, &mut r);
        }
        x
    }

    /// Every stage of the device's V-cycle (smoothing, residual, restriction, dense coarsest
    /// solve, prolongation) against its f64 host twin, on a grid of three levels or more with
    /// conductances over two decades and the fine matrix cut into row blocks.
    #[test]
    fn one_device_v_cycle_equals_its_host_twin() {
        let engine = match GpuEngine::new() {
            Ok(e) => e,
            Err(e) if std::env::var_os("CI").is_some() => panic!("CI needs a GPU adapter: {e}"),
            Err(e) => {
                eprintln!("SKIPPED: the V-cycle stage test found no adapter ({e})");
                return;
            }
        };
        let hash = |i: usize, j: usize| ((i * 2654435761 + j * 40503) % 1000003) as f64 / 1000003.0;
        let fine = grid_with(22, 19, 17, |i, j| 10f64.powf(-2.0 * hash(i, j)));
        let mut hierarchy = Hierarchy::new(&fine);
        assert!(hierarchy.levels() >= 3, "{:?}", hierarchy.shape(&fine));
        assert_v_cycle_matches(&engine, &fine, &hierarchy);
        // A coarsest level relaxed by sweeps (what a stalled coarsening leaves).
        hierarchy.bottom = Bottom::Sweeps;
        assert_v_cycle_matches(&engine, &fine, &hierarchy);
    }

    fn assert_v_cycle_matches(engine: &GpuEngine, fine: &Laplacian, hierarchy: &Hierarchy) {
        let device = AmgDevice::new(engine, fine, hierarchy, &[0, 1500, 1500, 4000]).unwrap();
        assert_eq!(device.fine_blocks, 4);
        let r: Vec<f32> = (0..fine.len())
            .map(|i| ((i * 7919) % 29) as f32 / 14.0 - 1.0)
            .collect();
        device.begin(&r, 0.0).unwrap();
        let z = device.preconditioned().unwrap();
        let levels: Vec<&Laplacian> = std::iter::once(fine).chain(&hierarchy.coarse).collect();
        let b: Vec<f64> = r.iter().map(|&v| v as f64).collect();
        let expected = host_v_cycle(&levels, hierarchy, 0, &b);
        let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (i, (&got, &want)) in z.iter().zip(&expected).enumerate() {
            assert!(
                (got as f64 - want).abs() <= 1e-4 * scale,
                "row {i}: device {got}, host {want} (scale {scale})"
            );
        }
        // The first direction is p = z, and the CG's scalars start from r·z.
        let s = device.read_scalars().unwrap();
        let rz: f64 = b.iter().zip(&expected).map(|(r, z)| r * z).sum();
        assert!(
            (s.rz as f64 - rz).abs() <= 1e-4 * rz.abs(),
            "{} vs {rz}",
            s.rz
        );
    }

    #[test]
    fn unknowns_beyond_one_binding_are_refused_with_the_limit() {
        assert!(vectors_fit(1000, 1000).is_ok());
        let error = vectors_fit(1001, 1000).unwrap_err().to_string();
        assert!(
            error.contains("1001 unknowns")
                && error.contains("largest binding")
                && error.contains("--solver jacobi"),
            "{error}"
        );
    }

    #[test]
    fn row_blocks_fit_the_binding_and_cut_at_the_boundaries() {
        // Rows of 3, 1, 4, 1, 5 entries.
        let starts = [0, 3, 4, 8, 9, 14];
        assert_eq!(row_blocks(&starts, 1000, &[]), vec![(0, 5)]);
        assert_eq!(
            row_blocks(&starts, 1000, &[2, 4]),
            vec![(0, 2), (2, 4), (4, 5)]
        );
        // A slab without rows keeps its (empty) block.
        assert_eq!(
            row_blocks(&starts, 1000, &[0, 2, 2]),
            vec![(0, 2), (2, 2), (2, 5)]
        );
        // At most 5 entries (and 5 row starts) per block; a row larger than that stays alone.
        assert_eq!(row_blocks(&starts, 5, &[]), vec![(0, 2), (2, 4), (4, 5)]);
        for (first, end) in row_blocks(&starts, 6, &[3]) {
            assert!(starts[end] - starts[first] <= 6 || end == first + 1);
        }
    }
}
