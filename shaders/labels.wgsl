// Union-find labelling of one slab (twin of crates/tunnelgrid-cpu/src/labels.rs): every label
// ends as the smallest global site index of its cluster inside the slab, because a hook always
// links the larger root under the smaller with atomicMin (Playne & Hawick 2018). Bonds that
// cross a periodic face or leave the slab are joined on the host (slab merge and wrapping).
#include "common.wgsl"

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> bond_offsets: array<vec4<i32>>;
@group(0) @binding(4) var<storage, read> masks: array<u32>;
// Global site index of each slab site's parent; roots point at themselves.
@group(0) @binding(6) var<storage, read_write> labels: array<atomic<u32>>;

fn parent(x: u32) -> u32 {
    return atomicLoad(&labels[x - P.slab.x]);
}

fn find(x0: u32) -> u32 {
    var x = x0;
    var p = parent(x);
    while p != x {
        x = p;
        p = parent(x);
    }
    return x;
}

fn hook(a: u32, b: u32) {
    var x = a;
    var y = b;
    loop {
        x = find(x);
        y = find(y);
        if x == y {
            return;
        }
        if x < y {
            let t = x;
            x = y;
            y = t;
        }
        // x > y: link x under y unless another invocation linked x first; then retry from there.
        let old = atomicMin(&labels[x - P.slab.x], y);
        if old == x {
            return;
        }
        x = old;
    }
}

@compute @workgroup_size(256)
fn init_labels(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i < P.slab.y {
        atomicStore(&labels[i], P.slab.x + i);
    }
}

@compute @workgroup_size(256)
fn hook_bonds(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= P.slab.y {
        return;
    }
    var m = masks[i] & P.run.x;
    if m == 0u {
        return;
    }
    let site = P.slab.x + i;
    let s = site_coords(site);
    let end = P.slab.x + P.slab.y;
    loop {
        if m == 0u {
            break;
        }
        let k = countTrailingZeros(m) / 2u;
        m &= ~(3u << (2u * k));
        let nb = neighbour(s, bond_offsets[s.basis * P.run.y + k]);
        if nb.valid && !nb.crossed && nb.site >= P.slab.x && nb.site < end {
            hook(site, nb.site);
        }
    }
}

// Path compression: every site points straight at its root.
@compute @workgroup_size(256)
fn compress_labels(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i < P.slab.y {
        atomicStore(&labels[i], find(P.slab.x + i));
    }
}
