// Bond evaluation (twin of crates/tunnelgrid-cpu/src/bonds.rs): the bond mask of every site of
// the slab, and per-workgroup totals (present sites, tunnels, superconducting bonds, bonds near a
// decision threshold, sum of the normal tunnels' gap in eV).
#include "common.wgsl"

// Mode (0 tunnel, 1 Bernoulli site, 2 Bernoulli bond, 3 volume) as a pipeline constant, so that
// each pipeline is compiled without the other modes' code.
override MODE: u32 = 0u;
@group(0) @binding(0) var<uniform> P: Params;
// Per basis site b and forward bond k (index b * bonds_per_site + k): cell offset and target basis.
@group(0) @binding(1) var<storage, read> bond_offsets: array<vec4<i32>>;
// Same index: ideal bond vector in Å at this run's (P, T).
@group(0) @binding(2) var<storage, read> bond_vectors: array<vec4<f32>>;
// Per species pair p * 4 + q: (tunnel_d2, sc_d2, contraction, tunnel_distance),
// then (sc_distance, gap_ev, 0, 0).
@group(0) @binding(3) var<storage, read> pair_laws: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> masks: array<u32>;
// Five words per workgroup (of COARSEN × 256 sites): present, tunnels, sc bonds, near-threshold bonds, gap sum (f32 bits).
@group(0) @binding(5) var<storage, read_write> partials: array<u32>;

// Volume mode: the slab's occupancy, one bit per site (bit i % 32 of word i / 32 for slab-local
// site i), followed by the one layer past the slab that its forward z bonds reach (layer
// first_z + layers, or layer 0 when z wraps). Other modes bind a one-word placeholder.
@group(0) @binding(6) var<storage, read> occupancy: array<u32>;

var<workgroup> wg_counts: array<vec4<u32>, 256>;
var<workgroup> wg_gap: array<f32, 256>;

fn is_present(site: u32) -> bool {
    switch MODE {
        case 0u: {
            return !draw_succeeds(site_hash(P.keys_a.y, site), P.thresholds.z, P.thresholds.w);
        }
        case 1u: {
            return draw_succeeds(site_hash(P.keys_a.x, site), P.thresholds.x, P.thresholds.y);
        }
        case 3u: {
            return voxel_present(site);
        }
        default: {
            return true;
        }
    }
}

// Volume mode: whether `site` (in the slab or in the layer after it) holds a nonzero voxel.
fn voxel_present(site: u32) -> bool {
    var local = site - P.slab.x;
    if site < P.slab.x || local >= P.slab.y {
        // Forward bonds leave the slab only along +z, into the next layer (or layer 0 when z
        // wraps), which follows the slab's own sites in the occupancy buffer.
        let layer = P.cells.x * P.cells.y * P.cells.w;
        local = P.slab.y + site % layer;
    }
    return ((occupancy[local >> 5u] >> (local & 31u)) & 1u) != 0u;
}

fn species_of(site: u32, s: Site) -> u32 {
    switch P.run.z {
        case 1u: {
            return (s.cell.x + s.cell.y + s.cell.z + s.basis) & 1u;
        }
        case 2u: {
            return s.cell.z % P.run.w;
        }
        case 3u: {
            let h = site_hash(P.keys_a.z, site);
            for (var sp = 0u; sp < 3u; sp++) {
                if draw_succeeds(h, P.species_thr[sp], P.species_all[sp]) {
                    return sp;
                }
            }
            return 3u;
        }
        default: {
            return 0u;
        }
    }
}

fn displacement(site: u32) -> vec3<f32> {
    let sigma = P.sigma.x;
    return vec3<f32>(
        sigma * irwin_hall(P.keys_disp.x, site),
        sigma * irwin_hall(P.keys_disp.y, site),
        sigma * irwin_hall(P.keys_disp.z, site),
    );
}

fn bond_key(k: u32) -> u32 {
    if k < 4u {
        return P.keys_bond_a[k];
    }
    return P.keys_bond_b[k - 4u];
}

fn near(d2: f32, t: f32) -> bool {
    return t > 0.0 && abs(d2 - t) <= 1e-5 * t;
}

// The bond bits of one present site; adds to `counts` (tunnels, sc, near) and `gap`.
fn site_mask(site: u32, counts: ptr<function, vec4<u32>>, gap: ptr<function, f32>) -> u32 {
    var mask = PRESENT_BIT;
    let s = site_coords(site);
    var own_species = 0u;
    var own_disp = vec3<f32>(0.0);
    if MODE == 0u {
        own_species = species_of(site, s);
        own_disp = displacement(site);
    }
    for (var k = 0u; k < P.run.y; k++) {
        let entry = s.basis * P.run.y + k;
        let nb = neighbour(s, bond_offsets[entry]);
        if !nb.valid || !is_present(nb.site) {
            continue;
        }
        switch MODE {
            case 1u, 3u: {
                mask |= 1u << (2u * k);
            }
            case 2u: {
                if draw_succeeds(site_hash(bond_key(k), site), P.thresholds.x, P.thresholds.y) {
                    mask |= 1u << (2u * k);
                }
            }
            default: {
                let nb_species = species_of(nb.site, site_coords(nb.site));
                let ideal = bond_vectors[entry].xyz;
                let other = displacement(nb.site);
                let dx = ideal.x + (other.x - own_disp.x);
                let dy = ideal.y + (other.y - own_disp.y);
                let dz = ideal.z + (other.z - own_disp.z);
                let d2 = dx * dx + dy * dy + dz * dz;
                let law = pair_laws[2u * (own_species * 4u + nb_species)];
                let law2 = pair_laws[2u * (own_species * 4u + nb_species) + 1u];
                if near(d2, law.x) || near(d2, law.y) {
                    (*counts).w += 1u;
                }
                if d2 <= law.y {
                    mask |= 3u << (2u * k);
                } else if d2 <= law.x {
                    mask |= 1u << (2u * k);
                    let d_eff = sqrt(d2) - law.z;
                    *gap += law2.y * (d_eff - law2.x) / (law.w - law2.x);
                }
            }
        }
    }
    (*counts).y += countOneBits(mask & 0x55555555u & ~PRESENT_BIT);
    (*counts).z += countOneBits(mask & 0xaaaaaaaau & ~PRESENT_BIT);
    return mask;
}

@compute @workgroup_size(256)
fn evaluate_bonds(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    var counts = vec4<u32>(0u);
    var gap = 0.0;
    for (var j = 0u; j < COARSEN; j++) {
        let i = coarse_index(wid, nwg, lid, j);
        if i >= P.slab.y {
            break;
        }
        let site = P.slab.x + i;
        var mask = 0u;
        if is_present(site) {
            counts.x += 1u;
            mask = site_mask(site, &counts, &gap);
        }
        masks[i] = mask;
    }
    wg_counts[lid.x] = counts;
    wg_gap[lid.x] = gap;
    workgroupBarrier();
    for (var stride = WORKGROUP / 2u; stride > 0u; stride >>= 1u) {
        if lid.x < stride {
            wg_counts[lid.x] += wg_counts[lid.x + stride];
            wg_gap[lid.x] += wg_gap[lid.x + stride];
        }
        workgroupBarrier();
    }
    if lid.x == 0u {
        let w = (wid.y * nwg.x + wid.x) * 5u;
        let c = wg_counts[0];
        partials[w] = c.x;
        partials[w + 1u] = c.y;
        partials[w + 2u] = c.z;
        partials[w + 3u] = c.w;
        partials[w + 4u] = bitcast<u32>(wg_gap[0]);
    }
}
