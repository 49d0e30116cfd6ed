// Applying the host's slab merge and wrapping (twin of the relabelling in
// crates/tunnelgrid-host/src/wrap.rs): `table` holds (old root, final root) pairs after a length
// word. Old roots of this slab get their final root, then every site takes its root's entry.
#include "common.wgsl"

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(6) var<storage, read_write> labels: array<atomic<u32>>;
@group(0) @binding(7) var<storage, read> table: array<u32>;

@compute @workgroup_size(256)
fn remap_roots(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let e = linear_index(wid, nwg, lid);
    if e >= table[0] {
        return;
    }
    let old = table[1u + 2u * e];
    if old >= P.slab.x && old < P.slab.x + P.slab.y {
        atomicStore(&labels[old - P.slab.x], table[2u + 2u * e]);
    }
}

// Roots of a slab lie in the slab before remapping, and a root's entry is only ever rewritten to
// the same final root, so reading it while other invocations rewrite it is safe.
@compute @workgroup_size(256)
fn remap_sites(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = linear_index(wid, nwg, lid);
    if i >= P.slab.y {
        return;
    }
    let root = atomicLoad(&labels[i]);
    if root >= P.slab.x && root < P.slab.x + P.slab.y {
        atomicStore(&labels[i], atomicLoad(&labels[root - P.slab.x]));
    }
}
