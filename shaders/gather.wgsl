// Gathers the mask and label of listed sites (slab boundary layers and periodic or spanning
// faces) so that the host can merge slabs, detect wrapping and find spanning clusters reading
// O(L²) words instead of the whole lattice.
#include "common.wgsl"

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(4) var<storage, read> masks: array<u32>;
@group(0) @binding(6) var<storage, read> labels: array<u32>;
// Length word, then site indices (global).
@group(0) @binding(7) var<storage, read> table: array<u32>;
// Two words per listed site: mask, label (left untouched for sites outside this slab).
@group(0) @binding(11) var<storage, read_write> gathered: array<u32>;

@compute @workgroup_size(256)
fn gather_sites(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let e = linear_index(wid, nwg, lid);
    if e >= table[0] {
        return;
    }
    let site = table[1u + e];
    if site >= P.slab.x && site < P.slab.x + P.slab.y {
        gathered[2u * e] = masks[site - P.slab.x];
        gathered[2u * e + 1u] = labels[site - P.slab.x];
    }
}
