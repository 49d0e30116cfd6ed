// Jacobi-preconditioned conjugate gradients on the lattice Laplacian of one axis, in f32 (twin of
// crates/tunnelgrid-host/src/stencil.rs, whose f64 residual drives the iterative
// refinement on the host). Matrix-free: A·p is a stencil over the lattice's forward and backward
// bonds, neighbours from the lattice geometry, one f32 conductance per forward bond.
//
// Vectors live in *blocks* (crates/tunnelgrid-gpu/src/kirchhoff/layout.rs): one per z slab, a
// window of the slab's layers plus a halo layer on each side where one exists, and one cluster block whose
// entry c is the unknown of contracted superconducting cluster c. A site's node code says where
// its node's unknown is: its own window entry (SELF), cluster block entry c, or nowhere
// (NOT_FREE: an electrode or no node, potential 0 in the correction system). A cluster's row is
// the sum of its members' partial rows, summed per slab in segments (gather_segments) and then
// per cluster in a fixed order (finish_clusters): exact, no float atomics. Entries that are not
// free unknowns (inv_diag = 0) are never updated and stay 0.
//
// One iteration: apply_laplacian (per slab), gather_segments (per slab), finish_clusters,
// dot_pq (per block), finish_pq (α), update (per block), finish_rz (β, convergence),
// new_direction (per block); the host then copies the halo layers of p between slabs. The
// scalars stay on the device, so the host submits many iterations at once and reads back only
// `S` between batches.
#include "common.wgsl"

struct Block {
    counts: vec4<u32>,  // entries, first entry (a slab window's halo below: 0 or a layer), first partial, all partials
    shape: vec4<u32>,   // segments of the slab, clusters, (unused), (unused)
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

const NOT_FREE: u32 = 0xffffffffu;
const SELF: u32 = 0xfffffffeu;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> bond_offsets: array<vec4<i32>>;
@group(0) @binding(2) var<uniform> B: Block;
@group(0) @binding(3) var<storage, read> node: array<u32>;
@group(0) @binding(4) var<storage, read> inv_diag: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> r: array<f32>;
@group(0) @binding(7) var<storage, read_write> p: array<f32>;
@group(0) @binding(8) var<storage, read_write> q: array<f32>;
@group(0) @binding(9) var<storage, read_write> partials: array<f32>;
@group(0) @binding(10) var<storage, read_write> S: Scalars;
// Per segment of a slab: (end of its members, slot of its sum); it starts where the last ended.
@group(0) @binding(11) var<storage, read> segments: array<vec2<u32>>;
@group(0) @binding(12) var<storage, read> members: array<u32>;
@group(0) @binding(13) var<storage, read_write> segment_sums: array<f32>;
// Cluster c's segment sums are slots cluster_segments[c] .. cluster_segments[c + 1].
@group(0) @binding(14) var<storage, read> cluster_segments: array<u32>;
// The cluster block's p, read by the stencil of every slab.
@group(0) @binding(15) var<storage, read> cluster_p: array<f32>;
// Conductance of forward bond k of window site s at s·K + k.
@group(0) @binding(16) var<storage, read> conductance: array<f32>;

fn is_free(entry: u32) -> bool {
    return inv_diag[entry] > 0.0;
}

// The window entry of the site bond `offset` leads to from `s` (a site of this slab); invalid
// where an open face cuts the bond. Bonds reach one layer, so the entry is in the window.
fn window_neighbour(s: Site, offset: vec4<i32>) -> Neighbour {
    let w = wrapped_cell(s, offset);
    if !w.valid {
        return Neighbour(false, false, 0u);
    }
    // Layer relative to the slab's first (−1: the halo below, which exists wherever a bond can
    // reach it); the slab's first site is window entry B.counts.y.
    let layer = i32(s.cell.z - P.slab.z) + offset.z;
    let row = (layer * i32(P.cells.y) + i32(w.cell.y)) * i32(P.cells.x) + i32(w.cell.x);
    let entry = u32(i32(B.counts.y) + row * i32(P.cells.w) + offset.w);
    return Neighbour(true, w.crossed, entry);
}

// The search direction at the node of window entry `entry`.
fn direction(entry: u32) -> f32 {
    let code = node[entry];
    if code == SELF {
        return p[entry];
    }
    if code == NOT_FREE {
        return 0.0;
    }
    return cluster_p[code];
}

// q = A·p per site of the slab: each site's own bond terms (forward and backward) against its
// node's direction. A cluster member's entry holds its partial row for gather_segments.
@compute @workgroup_size(256)
fn apply_laplacian(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= B.counts.x {
        return;
    }
    let entry = B.counts.y + i;
    if node[entry] == NOT_FREE {
        q[entry] = 0.0;
        return;
    }
    let here = site_coords(P.slab.x + i);
    let own = direction(entry);
    let bonds = P.run.y;
    var sum = 0.0;
    for (var k = 0u; k < bonds; k++) {
        let g = conductance[entry * bonds + k];
        if g != 0.0 {
            let nb = window_neighbour(here, bond_offsets[here.basis * bonds + k]);
            if nb.valid {
                sum += g * (own - direction(nb.site));
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
            let nb = window_neighbour(here, vec4<i32>(-offset.x, -offset.y, -offset.z, i32(owner)));
            if nb.valid {
                let g = conductance[nb.site * bonds + k];
                if g != 0.0 {
                    sum += g * (own - direction(nb.site));
                }
            }
        }
    }
    q[entry] = sum;
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

// One workgroup per segment of this slab: the sum of its members' partial rows.
@compute @workgroup_size(256)
fn gather_segments(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let segment = wid.y * nwg.x + wid.x;
    // Uniform per workgroup, so the early return keeps the barriers uniform.
    if segment >= B.shape.x {
        return;
    }
    var first = 0u;
    if segment > 0u {
        first = segments[segment - 1u].x;
    }
    let end = segments[segment].x;
    var sum = 0.0;
    for (var j = first + lid.x; j < end; j += WORKGROUP) {
        sum += q[members[j]];
    }
    scratch[lid.x] = sum;
    scratch2[lid.x] = 0.0;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        segment_sums[segments[segment].y] = scratch[0];
    }
}

// One invocation per cluster: its row of A·p in the cluster block (q bound to the block's).
@compute @workgroup_size(256)
fn finish_clusters(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let c = linear_index(wid, nwg, lid);
    if c >= B.shape.y {
        return;
    }
    var sum = 0.0;
    for (var s = cluster_segments[c]; s < cluster_segments[c + 1u]; s++) {
        sum += segment_sums[s];
    }
    q[c] = sum;
}

// This workgroup's slot among all the partial sums.
fn partial_slot(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return B.counts.z + wid.y * nwg.x + wid.x;
}

// Per-workgroup partial sums of p·q over the block's free unknowns.
@compute @workgroup_size(256)
fn dot_pq(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    var sum = 0.0;
    for (var j = 0u; j < COARSEN; j++) {
        let i = coarse_index(wid, nwg, lid, j);
        let entry = B.counts.y + i;
        if i < B.counts.x && is_free(entry) {
            sum += p[entry] * q[entry];
        }
    }
    scratch[lid.x] = sum;
    scratch2[lid.x] = 0.0;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        partials[partial_slot(wid, nwg)] = scratch[0];
    }
}

// Sums the partials of every block (pairs at 2g, 2g + 1 when `pairs`) in one workgroup.
fn sum_partials(lid: u32, pairs: bool) {
    var a = 0.0;
    var b = 0.0;
    for (var g = lid; g < B.counts.w; g += WORKGROUP) {
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
        let i = coarse_index(wid, nwg, lid, j);
        let entry = B.counts.y + i;
        if i < B.counts.x && is_free(entry) {
            x[entry] += alpha * p[entry];
            let residual = r[entry] - alpha * q[entry];
            r[entry] = residual;
            rz += residual * residual * inv_diag[entry];
            rr += residual * residual;
        }
    }
    scratch[lid.x] = rz;
    scratch2[lid.x] = rr;
    reduce_workgroup(lid.x);
    if lid.x == 0u {
        let g = partial_slot(wid, nwg);
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

// p = D⁻¹r + β·p at the block's free unknowns.
@compute @workgroup_size(256)
fn new_direction(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    let entry = B.counts.y + i;
    if i < B.counts.x && is_free(entry) {
        p[entry] = r[entry] * inv_diag[entry] + S.beta * p[entry];
    }
}
