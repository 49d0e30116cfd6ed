// Multigrid-preconditioned conjugate gradients on the reduced Laplacian in compressed rows, in
// f32 (crates/tunnelgrid-gpu/src/kirchhoff/amg.rs). The hierarchy is built on the host
// (crates/tunnelgrid-host/src/amg: aggregation, smoothed prolongator P, R = Pᵀ, Galerkin
// products R·A·P, the coarsest level's dense inverse); these stages apply it. Twin of the f64
// operations there: `laplacian_residual` of `Laplacian::residual`, `multiply` and
// `multiply_add` of `Csr::multiply` and `Csr::multiply_add`, `dense_solve` of
// `Cholesky::solve` (as a precomputed inverse).
//
// A level matrix is stored as the host's `Laplacian`: a diagonal, and the off-diagonal
// conductances with a positive sign (row i of A·x is diagonal·x_i − Σ conductance·x_column).
// A matrix larger than one storage binding is cut into row blocks; every stage over rows reads
// its block's rows `counts.y ..` with block-local row starts, and the vectors of a level are
// each one binding.
//
// One V-cycle (z = M·r) is, per level from the finest: damped Jacobi sweeps from 0
// (`jacobi_start`, then `laplacian_residual` + `jacobi_correct`), the residual restricted
// (`multiply` by R), the next level's V-cycle, its correction prolongated (`multiply_add` by P),
// and as many damped Jacobi sweeps again; the coarsest level is solved exactly. Jacobi is its
// own adjoint and the sweeps match, so the V-cycle is symmetric positive definite, as CG needs.
//
// One CG iteration: `laplacian_apply` (q = A·p, partials of p·q, per row block), `finish_pq`
// (α), `cg_update` (x, r, partials of r·r), `finish_rr` (convergence), the V-cycle, `dot_rz`,
// `finish_rz` (β), `new_direction`. The scalars stay on the device and every stage does nothing
// once `S.running` is 0, so the host submits many iterations at once and reads back only `S`
// between batches.

// common.wgsl is not included: its helpers read the lattice's `Params`, which these stages,
// working on matrices rather than lattices, do not bind. The two definitions below are its.
const WORKGROUP: u32 = 256u;

// Index of this invocation in a dispatch of (x, y, 1) workgroups of 256.
fn linear_index(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wid.y * nwg.x + wid.x) * WORKGROUP + lid.x;
}

struct Rows {
    counts: vec4<u32>, // rows of the block (or of the vector), first row, first partial slot, all partial slots
    omega: vec4<f32>,  // Jacobi damping ω, (unused) ×3
}

struct Scalars {
    rz: f32,         // r·z of the current residual
    pq: f32,         // p·A·p
    rr: f32,         // r·r of the current residual
    alpha: f32,
    beta: f32,
    target_rr: f32,  // stop when r·r ≤ this
    running: u32,    // 1 while iterating; 0 once converged or broken down
    iterations: u32, // iterations done while active
}

@group(0) @binding(0) var<uniform> R: Rows;
@group(0) @binding(1) var<storage, read> row_start: array<u32>;
@group(0) @binding(2) var<storage, read> columns: array<u32>;
@group(0) @binding(3) var<storage, read> values: array<f32>;
@group(0) @binding(4) var<storage, read> diagonal: array<f32>;
@group(0) @binding(5) var<storage, read> inv_diag: array<f32>;
@group(0) @binding(6) var<storage, read> src: array<f32>;
@group(0) @binding(7) var<storage, read_write> dst: array<f32>;
@group(0) @binding(8) var<storage, read> rhs: array<f32>;
@group(0) @binding(9) var<storage, read_write> partials: array<f32>;
@group(0) @binding(10) var<storage, read_write> S: Scalars;
// The CG's own vectors (level 0).
@group(0) @binding(11) var<storage, read_write> cg_x: array<f32>;
@group(0) @binding(12) var<storage, read_write> cg_r: array<f32>;
@group(0) @binding(13) var<storage, read_write> cg_p: array<f32>;
@group(0) @binding(14) var<storage, read> cg_q: array<f32>;
@group(0) @binding(15) var<storage, read> cg_z: array<f32>;

var<workgroup> scratch: array<f32, 256>;

// Tree sum of `scratch` over the workgroup; the result is in element 0.
fn reduce_workgroup(lid: u32) {
    for (var stride = WORKGROUP / 2u; stride > 0u; stride /= 2u) {
        workgroupBarrier();
        if lid < stride {
            scratch[lid] += scratch[lid + stride];
        }
    }
    workgroupBarrier();
}

// Σ conductance·src[column] over the off-diagonal entries of block row `i` (block-local).
fn off_diagonal(i: u32) -> f32 {
    var off = 0.0;
    for (var k = row_start[i]; k < row_start[i + 1u]; k++) {
        off += values[k] * src[columns[k]];
    }
    return off;
}

// dst = rhs − A·src over the block's rows.
@compute @workgroup_size(256)
fn laplacian_residual(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= R.counts.x || S.running == 0u {
        return;
    }
    let row = R.counts.y + i;
    dst[row] = rhs[row] - (diagonal[row] * src[row] - off_diagonal(i));
}

// CG: dst = q = A·src (src = p) over the block's rows, and per workgroup a partial sum of p·q.
@compute @workgroup_size(256)
fn laplacian_apply(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    var pq = 0.0;
    if i < R.counts.x && S.running != 0u {
        let row = R.counts.y + i;
        let q = diagonal[row] * src[row] - off_diagonal(i);
        dst[row] = q;
        pq = q * src[row];
    }
    scratch[lid.x] = pq;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        partials[R.counts.z + wid.y * nwg.x + wid.x] = scratch[0];
    }
}

// dst = M·src over the block's rows (restriction by R).
@compute @workgroup_size(256)
fn multiply(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= R.counts.x || S.running == 0u {
        return;
    }
    dst[R.counts.y + i] = off_diagonal(i);
}

// dst += M·src over the block's rows (prolongation of a correction by P).
@compute @workgroup_size(256)
fn multiply_add(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= R.counts.x || S.running == 0u {
        return;
    }
    dst[R.counts.y + i] += off_diagonal(i);
}

// The first Jacobi sweep from 0: dst = ω·D⁻¹·rhs.
@compute @workgroup_size(256)
fn jacobi_start(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= R.counts.x || S.running == 0u {
        return;
    }
    dst[i] = R.omega.x * inv_diag[i] * rhs[i];
}

// A further Jacobi sweep, given the residual src = rhs − A·dst: dst += ω·D⁻¹·src.
@compute @workgroup_size(256)
fn jacobi_correct(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= R.counts.x || S.running == 0u {
        return;
    }
    dst[i] += R.omega.x * inv_diag[i] * src[i];
}

// The coarsest level: dst = A⁻¹·rhs, A⁻¹ dense and row-major in `values`.
@compute @workgroup_size(256)
fn dense_solve(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    let n = R.counts.x;
    if i >= n || S.running == 0u {
        return;
    }
    var sum = 0.0;
    for (var j = 0u; j < n; j++) {
        sum += values[i * n + j] * rhs[j];
    }
    dst[i] = sum;
}

// Sum of the first R.counts.w partials into scratch[0].
fn sum_partials(lid: u32) {
    var a = 0.0;
    for (var g = lid; g < R.counts.w; g += WORKGROUP) {
        a += partials[g];
    }
    scratch[lid] = a;
    reduce_workgroup(lid);
}

// α = r·z / p·A·p.
@compute @workgroup_size(256)
fn finish_pq(@builtin(local_invocation_id) lid: vec3<u32>) {
    sum_partials(lid.x);
    if lid.x == 0u {
        let pq = scratch[0];
        S.pq = pq;
        // pq > 0 fails for NaN as well as for a lost curvature.
        if S.running != 0u && pq > 0.0 {
            S.alpha = S.rz / pq;
        } else {
            S.alpha = 0.0;
            S.running = 0u;
        }
    }
}

// x += α·p, r −= α·q, partial sums of r·r.
@compute @workgroup_size(256)
fn cg_update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    var rr = 0.0;
    if i < R.counts.x && S.running != 0u {
        let alpha = S.alpha;
        cg_x[i] += alpha * cg_p[i];
        let residual = cg_r[i] - alpha * cg_q[i];
        cg_r[i] = residual;
        rr = residual * residual;
    }
    scratch[lid.x] = rr;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        partials[wid.y * nwg.x + wid.x] = scratch[0];
    }
}

// The iteration is done; stop when r·r has reached the target.
@compute @workgroup_size(256)
fn finish_rr(@builtin(local_invocation_id) lid: vec3<u32>) {
    sum_partials(lid.x);
    if lid.x == 0u && S.running != 0u {
        S.iterations += 1u;
        S.rr = scratch[0];
        if !(scratch[0] > S.target_rr) {
            S.running = 0u;
        }
    }
}

// Partial sums of r·z.
@compute @workgroup_size(256)
fn dot_rz(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    var rz = 0.0;
    if i < R.counts.x && S.running != 0u {
        rz = cg_r[i] * cg_z[i];
    }
    scratch[lid.x] = rz;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        partials[wid.y * nwg.x + wid.x] = scratch[0];
    }
}

// β = r·z / the previous r·z (0 on the first direction, when the previous is 0).
@compute @workgroup_size(256)
fn finish_rz(@builtin(local_invocation_id) lid: vec3<u32>) {
    sum_partials(lid.x);
    if lid.x == 0u && S.running != 0u {
        let rz = scratch[0];
        if !(rz > 0.0) {
            // A preconditioner that lost positivity (or a NaN): stop; the host's f64 residual
            // decides what the iterations so far were worth.
            S.running = 0u;
            S.beta = 0.0;
        } else {
            if S.rz > 0.0 {
                S.beta = rz / S.rz;
            } else {
                S.beta = 0.0;
            }
            S.rz = rz;
        }
    }
}

// p = z + β·p.
@compute @workgroup_size(256)
fn new_direction(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= R.counts.x || S.running == 0u {
        return;
    }
    cg_p[i] = cg_z[i] + S.beta * cg_p[i];
}
