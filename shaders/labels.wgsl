// Union-find labelling of one slab (twin of crates/tunnelgrid-cpu/src/labels.rs): every label
// ends as the smallest global site index of its cluster inside the slab, because every union
// links the larger root under the smaller with atomicMin (Playne & Hawick 2018). Three passes:
// `label_blocks` labels each block of cells (≤ 256 sites) in workgroup memory, `hook_bonds`
// joins the blocks through the bonds between them in global memory, `compress_labels` points
// every site at its root. On software devices, where workgroup memory and barriers are slow,
// `init_labels` replaces `label_blocks` and `hook_bonds` takes every bond (P.block.w = 0).
// Bonds that cross a periodic face or leave the slab are joined on the host (slab merge and
// wrapping).
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

// A site's labelling block and its place in it.
struct BlockPlace {
    block: vec3<u32>,
    local: u32,
}

fn block_place(s: Site) -> BlockPlace {
    let rel = vec3<u32>(s.cell.x, s.cell.y, s.cell.z - P.slab.z);
    let block = rel / P.block.xyz;
    let inner = rel % P.block.xyz;
    return BlockPlace(block, ((inner.z * P.block.y + inner.y) * P.block.x + inner.x) * P.cells.w + s.basis);
}

var<workgroup> local_parent: array<atomic<u32>, 256>;

fn local_find(x0: u32) -> u32 {
    var x = x0;
    var p = atomicLoad(&local_parent[x]);
    while p != x {
        x = p;
        p = atomicLoad(&local_parent[x]);
    }
    return x;
}

fn local_union(a: u32, b: u32) {
    var x = a;
    var y = b;
    loop {
        x = local_find(x);
        y = local_find(y);
        if x == y {
            return;
        }
        if x < y {
            let t = x;
            x = y;
            y = t;
        }
        let old = atomicMin(&local_parent[x], y);
        if old == x {
            return;
        }
        x = old;
    }
}

// One workgroup per block of cells: union-find over the bonds inside the block in workgroup
// memory. Local order (z, y, x, b) inside a block is global index order, so the local root is
// the block-connected part's smallest global index, as the global passes require.
@compute @workgroup_size(256)
fn label_blocks(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let w = wid.y * nwg.x + wid.x;
    let block = vec3<u32>(w % P.blocks.x, (w / P.blocks.x) % P.blocks.y, w / (P.blocks.x * P.blocks.y));
    let basis = P.cells.w;
    let cell_in_block = lid.x / basis;
    let inner = vec3<u32>(
        cell_in_block % P.block.x,
        (cell_in_block / P.block.x) % P.block.y,
        cell_in_block / (P.block.x * P.block.y),
    );
    let cell = block * P.block.xyz + inner + vec3<u32>(0u, 0u, P.slab.z);
    let valid = w < P.blocks.x * P.blocks.y * P.blocks.z && inner.z < P.block.z
        && cell.x < P.cells.x && cell.y < P.cells.y && cell.z < P.slab.z + P.slab.w;
    atomicStore(&local_parent[lid.x], lid.x);
    workgroupBarrier();
    var site = 0u;
    if valid {
        site = site_index(cell, lid.x % basis);
        let s = Site(cell, lid.x % basis);
        var m = masks[site - P.slab.x] & P.run.x;
        loop {
            if m == 0u {
                break;
            }
            let k = countTrailingZeros(m) / 2u;
            m &= ~(3u << (2u * k));
            let nb = neighbour(s, bond_offsets[s.basis * P.run.y + k]);
            if nb.valid && !nb.crossed && nb.site < P.slab.x + P.slab.y {
                let other = block_place(site_coords(nb.site));
                if all(other.block == block) {
                    local_union(lid.x, other.local);
                }
            }
        }
    }
    workgroupBarrier();
    if valid {
        let root = local_find(lid.x);
        // Sites of one block differ from its first site by their local offsets in (z, y, x, b).
        let root_inner = vec3<u32>(
            (root / basis) % P.block.x,
            (root / basis / P.block.x) % P.block.y,
            root / basis / (P.block.x * P.block.y),
        );
        let root_cell = block * P.block.xyz + root_inner + vec3<u32>(0u, 0u, P.slab.z);
        atomicStore(&labels[site - P.slab.x], site_index(root_cell, root % basis));
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
    let own_block = block_place(s).block;
    let end = P.slab.x + P.slab.y;
    loop {
        if m == 0u {
            break;
        }
        let k = countTrailingZeros(m) / 2u;
        m &= ~(3u << (2u * k));
        let nb = neighbour(s, bond_offsets[s.basis * P.run.y + k]);
        if nb.valid && !nb.crossed && nb.site >= P.slab.x && nb.site < end {
            // Bonds inside a block were joined by label_blocks.
            if P.block.w == 0u || any(block_place(site_coords(nb.site)).block != own_block) {
                hook(site, nb.site);
            }
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
