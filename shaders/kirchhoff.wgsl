// Jacobi-preconditioned conjugate gradients on the lattice Laplacian of one axis, in f32 (twin of
// crates/tunnelgrid-cpu/src/kirchhoff/stencil.rs, whose f64 residual drives the iterative
// refinement on the host). Matrix-free: A·p is a stencil over the lattice's forward and backward
// bonds, neighbours from the lattice geometry, one f32 conductance per forward bond. Vectors are
// in site space: the unknown of a node lives at its representative site; a superconducting
// cluster contracted to one node gets its row from `gather_clusters` (one workgroup per
// cluster sums its members' partial rows: exact, and no float atomics). Entries outside the free
// representatives (inv_diag = 0) are never updated and stay 0.
//
// One iteration: apply_laplacian, gather_clusters, dot_pq, finish_pq (α), update, finish_rz (β,
// convergence), new_direction. The scalars stay on the device, so the host submits many
// iterations at once and reads back only `S` between batches.
#include "common.wgsl"

struct CgSizes {
    counts: vec4<u32>,  // sites, contracted clusters, reduction workgroups, (unused)
}

struct Scalars {
    rz: f32,         // r·D⁻¹r of the current residual
    pq: f32,         // p·A·p
    rr: f32,         // r·r of the current residual
    alpha: f32,
    beta: f32,
    target_rr: f32,  // stop when r·r ≤ this
    running: u32,    // 1 while iterating; 0 once converged or broken down
    iterations: u32, // iterations done while active
}

const NO_NODE: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> bond_offsets: array<vec4<i32>>;
@group(0) @binding(2) var<uniform> C: CgSizes;
@group(0) @binding(3) var<storage, read> node: array<u32>;
@group(0) @binding(4) var<storage, read> inv_diag: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> r: array<f32>;
@group(0) @binding(7) var<storage, read_write> p: array<f32>;
@group(0) @binding(8) var<storage, read_write> q: array<f32>;
@group(0) @binding(9) var<storage, read_write> partials: array<f32>;
@group(0) @binding(10) var<storage, read_write> S: Scalars;
@group(0) @binding(11) var<storage, read> cluster_start: array<u32>;
@group(0) @binding(12) var<storage, read> cluster_members: array<u32>;
// Conductance of forward bond k per site, one binding per k (a site-sized binding each, so a
// lattice fits as long as one f32 per site fits one binding). Unused ones are bound to a dummy.
@group(0) @binding(13) var<storage, read> conductance0: array<f32>;
@group(0) @binding(14) var<storage, read> conductance1: array<f32>;
@group(0) @binding(15) var<storage, read> conductance2: array<f32>;
@group(0) @binding(16) var<storage, read> conductance3: array<f32>;
@group(0) @binding(17) var<storage, read> conductance4: array<f32>;
@group(0) @binding(18) var<storage, read> conductance5: array<f32>;

fn conductance(k: u32, site: u32) -> f32 {
    switch k {
        case 0u: { return conductance0[site]; }
        case 1u: { return conductance1[site]; }
        case 2u: { return conductance2[site]; }
        case 3u: { return conductance3[site]; }
        case 4u: { return conductance4[site]; }
        default: { return conductance5[site]; }
    }
}

fn is_free(site: u32) -> bool {
    return inv_diag[site] > 0.0;
}

// q = A·p per site: each site's own bond terms (forward and backward) against its node's
// potential. A contracted cluster's members hold partial rows until gather_clusters sums them.
@compute @workgroup_size(256)
fn apply_laplacian(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let site = linear_index(wid, nwg, lid);
    if site >= C.counts.x {
        return;
    }
    let own = node[site];
    if own == NO_NODE || !is_free(own) {
        q[site] = 0.0;
        return;
    }
    let here = site_coords(site);
    let potential = p[own];
    let bonds = P.run.y;
    var sum = 0.0;
    for (var k = 0u; k < bonds; k++) {
        let g = conductance(k, site);
        if g != 0.0 {
            let nb = neighbour(here, bond_offsets[here.basis * bonds + k]);
            if nb.valid {
                sum += g * (potential - p[node[nb.site]]);
            }
        }
    }
    // Backward bonds: forward bond k of basis `owner` that lands on this site's basis.
    for (var owner = 0u; owner < P.cells.w; owner++) {
        for (var k = 0u; k < bonds; k++) {
            let offset = bond_offsets[owner * bonds + k];
            if u32(offset.w) != here.basis {
                continue;
            }
            let nb = neighbour(here, vec4<i32>(-offset.x, -offset.y, -offset.z, i32(owner)));
            if nb.valid {
                let g = conductance(k, nb.site);
                if g != 0.0 {
                    sum += g * (potential - p[node[nb.site]]);
                }
            }
        }
    }
    q[site] = sum;
}

var<workgroup> scratch: array<f32, 256>;
var<workgroup> scratch2: array<f32, 256>;

// Tree sum of `scratch` (and `scratch2`) over the workgroup; the result is in element 0.
fn reduce_workgroup(lid: u32) {
    for (var stride = WORKGROUP / 2u; stride > 0u; stride /= 2u) {
        workgroupBarrier();
        if lid < stride {
            scratch[lid] += scratch[lid + stride];
            scratch2[lid] += scratch2[lid + stride];
        }
    }
    workgroupBarrier();
}

// One workgroup per contracted cluster: its representative's row is the sum of its members'.
@compute @workgroup_size(256)
fn gather_clusters(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let cluster = wid.y * nwg.x + wid.x;
    // Uniform per workgroup, so the early return keeps the barriers uniform.
    if cluster >= C.counts.y {
        return;
    }
    let first = cluster_start[cluster];
    let end = cluster_start[cluster + 1u];
    var sum = 0.0;
    for (var i = first + lid.x; i < end; i += WORKGROUP) {
        sum += q[cluster_members[i]];
    }
    scratch[lid.x] = sum;
    scratch2[lid.x] = 0.0;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        q[cluster_members[first]] = scratch[0];
    }
}

// Per-workgroup partial sums of p·q over the free representatives.
@compute @workgroup_size(256)
fn dot_pq(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    var sum = 0.0;
    for (var j = 0u; j < COARSEN; j++) {
        let site = coarse_index(wid, nwg, lid, j);
        if site < C.counts.x && is_free(site) {
            sum += p[site] * q[site];
        }
    }
    scratch[lid.x] = sum;
    scratch2[lid.x] = 0.0;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        partials[wid.y * nwg.x + wid.x] = scratch[0];
    }
}

// Sums the per-workgroup partials (pairs at 2g, 2g + 1 when `pairs`) in one workgroup.
fn sum_partials(lid: u32, pairs: bool) {
    var a = 0.0;
    var b = 0.0;
    for (var g = lid; g < C.counts.z; g += WORKGROUP) {
        if pairs {
            a += partials[2u * g];
            b += partials[2u * g + 1u];
        } else {
            a += partials[g];
        }
    }
    scratch[lid] = a;
    scratch2[lid] = b;
    reduce_workgroup(lid);
}

// α = r·z / p·A·p (0 once inactive, and on a breakdown, which ends the iteration).
@compute @workgroup_size(256)
fn finish_pq(@builtin(local_invocation_id) lid: vec3<u32>) {
    sum_partials(lid.x, false);
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

// x += α·p, r −= α·q; per-workgroup partial sums of r·D⁻¹r and r·r.
@compute @workgroup_size(256)
fn update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let alpha = S.alpha;
    var rz = 0.0;
    var rr = 0.0;
    for (var j = 0u; j < COARSEN; j++) {
        let site = coarse_index(wid, nwg, lid, j);
        if site < C.counts.x && is_free(site) {
            x[site] += alpha * p[site];
            let residual = r[site] - alpha * q[site];
            r[site] = residual;
            rz += residual * residual * inv_diag[site];
            rr += residual * residual;
        }
    }
    scratch[lid.x] = rz;
    scratch2[lid.x] = rr;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        let g = wid.y * nwg.x + wid.x;
        partials[2u * g] = scratch[0];
        partials[2u * g + 1u] = scratch2[0];
    }
}

// β = r·z (new) / r·z (old); counts the iteration and stops at the target.
@compute @workgroup_size(256)
fn finish_rz(@builtin(local_invocation_id) lid: vec3<u32>) {
    sum_partials(lid.x, true);
    if lid.x == 0u {
        let rz = scratch[0];
        let rr = scratch2[0];
        if S.running != 0u {
            S.iterations += 1u;
            S.rr = rr;
            if rr <= S.target_rr || !(rz > 0.0) {
                S.running = 0u;
                S.beta = 0.0;
            } else {
                S.beta = rz / S.rz;
                S.rz = rz;
            }
        } else {
            S.beta = 0.0;
        }
    }
}

// p = D⁻¹r + β·p at the free representatives.
@compute @workgroup_size(256)
fn new_direction(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let site = linear_index(wid, nwg, lid);
    if site < C.counts.x && is_free(site) {
        p[site] = r[site] * inv_diag[site] + S.beta * p[site];
    }
}
