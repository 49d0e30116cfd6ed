// Shared by every stage: the per-slab parameters, the site hash (twin of
// crates/tunnelgrid-model/src/hash.rs), site coordinates and neighbour lookup (twin of
// lattice.rs), and the 2D dispatch index.

struct Params {
    cells: vec4<u32>,        // nx, ny, nz, basis sites per cell
    periodic: vec4<u32>,     // periodic x, y, z (0/1; z is 0 for 2D lattices), mode (0 tunnel, 1 site, 2 bond, 3 volume)
    slab: vec4<u32>,         // first site, sites, first z layer, layers
    run: vec4<u32>,          // network bits, bonds per site, species pattern, species count
    keys_a: vec4<u32>,       // occupation, vacancy, species, (unused)
    keys_disp: vec4<u32>,    // displacement x, y, z, (unused)
    keys_bond_a: vec4<u32>,  // bernoulli bonds 0..3
    keys_bond_b: vec4<u32>,  // bernoulli bonds 4, 5, (unused)
    thresholds: vec4<u32>,   // bernoulli threshold, bernoulli always, vacancy threshold, vacancy always
    species_thr: vec4<u32>,  // cumulative species thresholds
    species_all: vec4<u32>,  // 1 where the cumulative threshold is 2^32 (always below)
    sigma: vec4<f32>,        // displacement rms per component, (unused)
    block: vec4<u32>,        // labelling block in cells: bx, by, bz (bx·by·bz·B ≤ 256), blocks in use (0/1)
    blocks: vec4<u32>,       // blocks covering the slab along x, y, z; axes with a spanning question (2 or 3)
}

const WORKGROUP: u32 = 256u;
// Sites per invocation in the stages that reduce per workgroup (buffers::COARSEN on the host): fewer
// workgroups mean fewer barriers and partial sums, which matters most on software devices.
const COARSEN: u32 = 64u;
const PRESENT_BIT: u32 = 0x80000000u;

// Index of this invocation in a dispatch of (x, y, 1) workgroups of 256.
fn linear_index(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
    return (wid.y * nwg.x + wid.x) * WORKGROUP + lid.x;
}

// Site j (0 ≤ j < COARSEN) of this invocation in a coarsened dispatch: strided by the workgroup
// size, so that neighbouring invocations still read neighbouring sites.
fn coarse_index(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>, j: u32) -> u32 {
    return ((wid.y * nwg.x + wid.x) * COARSEN + j) * WORKGROUP + lid.x;
}

fn rotl(x: u32, r: u32) -> u32 {
    return (x << r) | (x >> (32u - r));
}

fn mix_block(h: u32, k0: u32) -> u32 {
    var k = k0 * 0xcc9e2d51u;
    k = rotl(k, 15u) * 0x1b873593u;
    return rotl(h ^ k, 13u) * 5u + 0xe6546b64u;
}

fn fmix32(h0: u32) -> u32 {
    var h = h0;
    h = h ^ (h >> 16u);
    h = h * 0x85ebca6bu;
    h = h ^ (h >> 13u);
    h = h * 0xc2b2ae35u;
    return h ^ (h >> 16u);
}

// site_hash(seed, site, stream) for sites below 2^32: `key` is the stream key with the zero high
// word of the site already mixed in (StreamKey::low_word_key on the host).
fn site_hash(key: u32, site: u32) -> u32 {
    return fmix32(mix_block(key, site) ^ 20u);
}

fn draw_succeeds(h: u32, threshold: u32, always: u32) -> bool {
    return always != 0u || h < threshold;
}

// Irwin–Hall sum of four 16-bit uniforms, centred and scaled to unit variance (exact integer
// sum, one conversion, one multiplication: bit-identical to the CPU).
fn irwin_hall(key: u32, site: u32) -> f32 {
    let first = site_hash(key, site);
    let second = fmix32(first + 0x9e3779b9u);
    let sum = (first & 0xffffu) + (first >> 16u) + (second & 0xffffu) + (second >> 16u);
    return f32(i32(sum) - 131070) * (1.7320508 / 65536.0);
}

struct Site {
    cell: vec3<u32>,
    basis: u32,
}

fn site_coords(site: u32) -> Site {
    let b = P.cells.w;
    let cell = site / b;
    let nx = P.cells.x;
    let ny = P.cells.y;
    return Site(vec3<u32>(cell % nx, (cell / nx) % ny, cell / (nx * ny)), site % b);
}

fn site_index(cell: vec3<u32>, basis: u32) -> u32 {
    return ((cell.z * P.cells.y + cell.y) * P.cells.x + cell.x) * P.cells.w + basis;
}

struct Neighbour {
    valid: bool,
    crossed: bool,
    site: u32,
}

// The cell bond `offset` of `s` leads to, wrapped across periodic faces; invalid where an open
// face cuts the bond.
struct WrappedCell {
    valid: bool,
    crossed: bool,
    cell: vec3<u32>,
}

fn wrapped_cell(s: Site, offset: vec4<i32>) -> WrappedCell {
    var cell = vec3<u32>(0u);
    var crossed = false;
    let n = vec3<i32>(P.cells.xyz);
    for (var axis = 0u; axis < 3u; axis++) {
        let c = i32(s.cell[axis]) + offset[axis];
        if c < 0 || c >= n[axis] {
            if P.periodic[axis] == 0u {
                return WrappedCell(false, false, cell);
            }
            crossed = true;
            cell[axis] = u32((c + n[axis]) % n[axis]);
        } else {
            cell[axis] = u32(c);
        }
    }
    return WrappedCell(true, crossed, cell);
}

// The site forward bond (offset, to) of `s` leads to; invalid where an open face cuts it.
fn neighbour(s: Site, offset: vec4<i32>) -> Neighbour {
    let w = wrapped_cell(s, offset);
    if !w.valid {
        return Neighbour(false, false, 0u);
    }
    return Neighbour(true, w.crossed, site_index(w.cell, u32(offset.w)));
}
