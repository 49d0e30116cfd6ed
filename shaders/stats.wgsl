// Cluster statistics of one slab (twin of crates/tunnelgrid-cpu/src/stats.rs). Clusters whose
// root the host marked GLOBAL (joined across slabs or periodic faces) are counted into
// `global_counts` and `global_faces` and summed on the host; every other cluster lies inside
// the slab, has its root there, and is reduced here. Face-touch bits gathered at the roots
// (bit 2a: low face of open axis a, bit 2a + 1: high face) say which clusters span: those count
// as clusters but not in the mean finite-cluster size.
#include "common.wgsl"

const GLOBAL: u32 = 0x80000000u;
// A local cluster the host found wrapping a periodic axis (a self-connection across the face).
const SPANNING: u32 = 0x40000000u;
const COUNT: u32 = 0x3fffffffu;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(4) var<storage, read> masks: array<u32>;
@group(0) @binding(6) var<storage, read> labels: array<u32>;
// Length word, then (root, flag) pairs for mark_roots; length word, then sorted global roots for
// count_sites and gather_globals.
@group(0) @binding(7) var<storage, read> table: array<u32>;
// Per slab site: flags of the root at that index, and the number of sites it roots.
@group(0) @binding(8) var<storage, read_write> sizes: array<atomic<u32>>;
// Sites of each global root (same order as the sorted global roots), over all slabs.
@group(0) @binding(9) var<storage, read_write> global_counts: array<atomic<u32>>;
// Eight words per workgroup (of COARSEN × 256 sites): clusters, singletons, largest, Σs (lo, hi),
// Σs² (lo, hi), axes spanned (bit a).
@group(0) @binding(10) var<storage, read_write> partials: array<u32>;
// Per slab site: face-touch bits of the cluster rooted at that index.
@group(0) @binding(12) var<storage, read_write> faces: array<atomic<u32>>;
// Face-touch bits of each global root, over all slabs.
@group(0) @binding(13) var<storage, read_write> global_faces: array<atomic<u32>>;

var<workgroup> wg_leader: u32;
var<workgroup> wg_leader_count: atomic<u32>;

@compute @workgroup_size(256)
fn mark_roots(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let e = linear_index(wid, nwg, lid);
    if e >= table[0] {
        return;
    }
    let root = table[1u + 2u * e];
    if root >= P.slab.x && root < P.slab.x + P.slab.y {
        atomicOr(&sizes[root - P.slab.x], table[2u + 2u * e]);
    }
}

fn global_slot(root: u32) -> u32 {
    var lo = 0u;
    var hi = table[0];
    while lo < hi {
        let mid = (lo + hi) / 2u;
        if table[1u + mid] < root {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

fn count_one(root: u32, n: u32) {
    if root >= P.slab.x && root < P.slab.x + P.slab.y {
        atomicAdd(&sizes[root - P.slab.x], n);
    } else {
        atomicAdd(&global_counts[global_slot(root)], n);
    }
}

// Which faces of open axes the site touches (bit 2a low, 2a + 1 high).
fn face_bits(site: u32) -> u32 {
    let s = site_coords(site);
    var bits = 0u;
    for (var a = 0u; a < P.blocks.w; a++) {
        if P.periodic[a] == 0u {
            bits |= select(0u, 1u << (2u * a), s.cell[a] == 0u);
            bits |= select(0u, 2u << (2u * a), s.cell[a] == P.cells[a] - 1u);
        }
    }
    return bits;
}

fn touch(root: u32, bits: u32) {
    if root >= P.slab.x && root < P.slab.x + P.slab.y {
        atomicOr(&faces[root - P.slab.x], bits);
    } else {
        atomicOr(&global_faces[global_slot(root)], bits);
    }
}

// Axes (bit a) along which face-touch bits hold both faces.
fn spanned_axes(bits: u32) -> u32 {
    let both = bits & (bits >> 1u) & 0x15u;
    return (both & 1u) | ((both >> 1u) & 2u) | ((both >> 2u) & 4u);
}

// Every site adds itself to its root. The root of the workgroup's first site is counted in
// workgroup memory first, so that a giant cluster costs one global atomic per workgroup.
@compute @workgroup_size(256)
fn count_sites(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    if lid.x == 0u {
        let first = coarse_index(wid, nwg, lid, 0u);
        wg_leader = 0xffffffffu;
        if first < P.slab.y && (masks[first] & PRESENT_BIT) != 0u {
            wg_leader = labels[first];
        }
        atomicStore(&wg_leader_count, 0u);
    }
    workgroupBarrier();
    let leader = wg_leader;
    var mine = 0u;
    for (var j = 0u; j < COARSEN; j++) {
        let i = coarse_index(wid, nwg, lid, j);
        if i >= P.slab.y {
            break;
        }
        if (masks[i] & PRESENT_BIT) != 0u {
            let root = labels[i];
            if root == leader {
                mine += 1u;
            } else {
                count_one(root, 1u);
            }
            let bits = face_bits(P.slab.x + i);
            if bits != 0u {
                touch(root, bits);
            }
        }
    }
    if mine > 0u {
        atomicAdd(&wg_leader_count, mine);
    }
    workgroupBarrier();
    if lid.x == 0u && leader != 0xffffffffu {
        count_one(leader, atomicLoad(&wg_leader_count));
    }
}

var<workgroup> wg_a: array<vec4<u32>, 256>;
var<workgroup> wg_b: array<vec4<u32>, 256>;

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// s² as (lo, hi) for s < 2^30, from 16-bit halves.
fn square64(s: u32) -> vec2<u32> {
    let h = s >> 16u;
    let l = s & 0xffffu;
    let mid = 2u * h * l;
    return add64(vec2<u32>(l * l, h * h), vec2<u32>((mid & 0xffffu) << 16u, mid >> 16u));
}

@compute @workgroup_size(256)
fn reduce_sizes(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    // a: clusters, singletons, largest, Σs lo; b: Σs hi, Σs² lo, Σs² hi, axes spanned
    var a = vec4<u32>(0u);
    var b = vec4<u32>(0u);
    for (var j = 0u; j < COARSEN; j++) {
        let i = coarse_index(wid, nwg, lid, j);
        if i >= P.slab.y {
            break;
        }
        let entry = atomicLoad(&sizes[i]);
        let s = entry & COUNT;
        if (entry & GLOBAL) == 0u && s > 0u {
            a.x += select(0u, 1u, s > 1u);
            a.y += select(0u, 1u, s == 1u);
            a.z = max(a.z, s);
            let spans = spanned_axes(atomicLoad(&faces[i]));
            b.w |= spans;
            if spans == 0u && (entry & SPANNING) == 0u {
                let sum = add64(vec2<u32>(a.w, b.x), vec2<u32>(s, 0u));
                a.w = sum.x;
                b.x = sum.y;
                let sum2 = add64(b.yz, square64(s));
                b.y = sum2.x;
                b.z = sum2.y;
            }
        }
    }
    wg_a[lid.x] = a;
    wg_b[lid.x] = b;
    workgroupBarrier();
    for (var stride = WORKGROUP / 2u; stride > 0u; stride >>= 1u) {
        if lid.x < stride {
            let x = wg_a[lid.x];
            let y = wg_a[lid.x + stride];
            let xb = wg_b[lid.x];
            let yb = wg_b[lid.x + stride];
            let sum = add64(vec2<u32>(x.w, xb.x), vec2<u32>(y.w, yb.x));
            let sum2 = add64(xb.yz, yb.yz);
            wg_a[lid.x] = vec4<u32>(x.x + y.x, x.y + y.y, max(x.z, y.z), sum.x);
            wg_b[lid.x] = vec4<u32>(sum.y, sum2.x, sum2.y, xb.w | yb.w);
        }
        workgroupBarrier();
    }
    if lid.x == 0u {
        let w = (wid.y * nwg.x + wid.x) * 8u;
        let ra = wg_a[0];
        let rb = wg_b[0];
        partials[w] = ra.x;
        partials[w + 1u] = ra.y;
        partials[w + 2u] = ra.z;
        partials[w + 3u] = ra.w;
        partials[w + 4u] = rb.x;
        partials[w + 5u] = rb.y;
        partials[w + 6u] = rb.z;
        partials[w + 7u] = rb.w;
    }
}

// Global roots of this slab hold their local sites and faces in `sizes` and `faces`: move them
// to `global_counts` and `global_faces`.
@compute @workgroup_size(256)
fn gather_globals(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let e = linear_index(wid, nwg, lid);
    if e >= table[0] {
        return;
    }
    let root = table[1u + e];
    if root >= P.slab.x && root < P.slab.x + P.slab.y {
        atomicAdd(&global_counts[e], atomicLoad(&sizes[root - P.slab.x]) & COUNT);
        atomicOr(&global_faces[e], atomicLoad(&faces[root - P.slab.x]));
    }
}
