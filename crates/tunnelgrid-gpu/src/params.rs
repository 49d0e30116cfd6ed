//! The per-slab uniform block (`Params` in shaders/common.wgsl) and the constant tables the
//! shaders read, built from the model's `BondParams`.

use bytemuck::{Pod, Zeroable};
use tunnelgrid_model::{BondParams, Boundary, Lattice, Mode, SpeciesPattern};

/// Per-slab parameters, laid out as `Params` in shaders/common.wgsl (fourteen vec4s).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct Params {
    pub cells: [u32; 4],
    pub periodic: [u32; 4],
    pub slab: [u32; 4],
    pub run: [u32; 4],
    pub keys_a: [u32; 4],
    pub keys_disp: [u32; 4],
    pub keys_bond_a: [u32; 4],
    pub keys_bond_b: [u32; 4],
    pub thresholds: [u32; 4],
    pub species_thr: [u32; 4],
    pub species_all: [u32; 4],
    pub sigma: [f32; 4],
    pub block: [u32; 4],
    pub blocks: [u32; 4],
}

/// A run of z layers processed as one binding.
#[derive(Debug, Clone, Copy)]
pub struct Slab {
    /// Global index of its first site.
    pub first_site: u64,
    /// Number of sites.
    pub sites: u64,
    /// First z layer.
    pub first_z: u32,
    /// Number of z layers.
    pub layers: u32,
}

/// Splits the lattice into slabs of at most `layers` z layers.
pub fn plan_slabs(lattice: &Lattice, layers: u32) -> Vec<Slab> {
    let layer = lattice.sites_per_layer();
    let nz = lattice.cells[2];
    (0..nz)
        .step_by(layers as usize)
        .map(|first_z| {
            let count = layers.min(nz - first_z);
            Slab {
                first_site: first_z as u64 * layer,
                sites: count as u64 * layer,
                first_z,
                layers: count,
            }
        })
        .collect()
}

/// A u64 threshold in [0, 2^32] as (low word, "always" flag).
fn split_threshold(t: u64) -> (u32, u32) {
    if t >= 1 << 32 {
        (u32::MAX, 1)
    } else {
        (t as u32, 0)
    }
}

/// Cells per labelling block (a workgroup of ≤ 256 sites labels one block in shared memory).
pub fn labelling_block(lattice: &Lattice) -> [u32; 3] {
    match (lattice.basis_len(), lattice.kind.is_2d()) {
        (1, true) => [16, 16, 1],
        (1, false) => [8, 8, 4],
        (2, _) => [8, 4, 4],
        (4, _) => [4, 4, 4],
        _ => [4, 4, 2],
    }
}

/// The parameters of slab `slab`; the network bits (`run[0]`) are set per labelling.
pub fn slab_params(
    lattice: &Lattice,
    bond: &BondParams,
    slab: &Slab,
    block_labelling: bool,
) -> Params {
    let keys = &bond.keys;
    let (bern, bern_all) = split_threshold(bond.bernoulli_threshold);
    let (vac, vac_all) = split_threshold(bond.vacancy_threshold);
    let species = bond.species_thresholds.map(split_threshold);
    let periodic: [u32; 3] = std::array::from_fn(|a| {
        u32::from(lattice.boundary[a] == Boundary::Periodic && !(lattice.kind.is_2d() && a == 2))
    });
    let block = labelling_block(lattice);
    debug_assert!(block.iter().product::<u32>() * lattice.basis_len() <= 256);
    Params {
        cells: [
            lattice.cells[0],
            lattice.cells[1],
            lattice.cells[2],
            lattice.basis_len(),
        ],
        periodic: [periodic[0], periodic[1], periodic[2], mode_index(bond.mode)],
        slab: [
            slab.first_site as u32,
            slab.sites as u32,
            slab.first_z,
            slab.layers,
        ],
        run: [
            0,
            lattice.max_forward_bonds() as u32,
            match bond.species_pattern {
                SpeciesPattern::Uniform => 0,
                SpeciesPattern::Alternating => 1,
                SpeciesPattern::Layers => 2,
                SpeciesPattern::Random => 3,
            },
            bond.species_count,
        ],
        keys_a: [
            keys.occupation.low_word_key(),
            keys.vacancy.low_word_key(),
            keys.species.low_word_key(),
            0,
        ],
        keys_disp: std::array::from_fn(|k| {
            if k < 3 {
                keys.displacement[k].low_word_key()
            } else {
                0
            }
        }),
        keys_bond_a: std::array::from_fn(|k| keys.bond[k].low_word_key()),
        keys_bond_b: [
            keys.bond[4].low_word_key(),
            keys.bond[5].low_word_key(),
            0,
            0,
        ],
        thresholds: [bern, bern_all, vac, vac_all],
        species_thr: species.map(|s| s.0),
        species_all: species.map(|s| s.1),
        sigma: [bond.sigma, 0.0, 0.0, 0.0],
        block: [block[0], block[1], block[2], u32::from(block_labelling)],
        blocks: [
            lattice.cells[0].div_ceil(block[0]),
            lattice.cells[1].div_ceil(block[1]),
            slab.layers.div_ceil(block[2]),
            lattice.axes() as u32,
        ],
    }
}

/// Index of a mode in the shaders (and of its bond pipeline).
pub fn mode_index(mode: Mode) -> u32 {
    match mode {
        Mode::Tunnel => 0,
        Mode::BernoulliSite => 1,
        Mode::BernoulliBond => 2,
        Mode::Volume => 3,
    }
}

/// Words of a slab's packed occupancy: one bit per site of the slab and of the layer after it.
pub fn occupancy_words(lattice: &Lattice, slab: &Slab) -> u64 {
    (slab.sites + lattice.sites_per_layer()).div_ceil(32)
}

/// Packs slab `slab`'s occupancy for shaders/bonds.wgsl (volume mode): bit i % 32 of word i / 32
/// is slab-local site i (nonzero voxel), and the slab's sites are followed by the layer its
/// forward z bonds reach — layer first_z + layers, or layer 0 where z wraps, or nothing (zeros)
/// at an open top face. Bytes past the end of `volume` read as absent, as on the CPU.
pub fn pack_occupancy(lattice: &Lattice, volume: &[u8], slab: &Slab) -> Vec<u32> {
    let layer = lattice.sites_per_layer();
    let next_z = slab.first_z + slab.layers;
    let next_layer = if next_z < lattice.cells[2] {
        Some(next_z as u64 * layer)
    } else if lattice.boundary[2] == Boundary::Periodic && !lattice.kind.is_2d() {
        Some(0)
    } else {
        None
    };
    let bytes = |first: u64, count: u64| {
        let start = (first as usize).min(volume.len());
        &volume[start..(first + count).min(volume.len() as u64) as usize]
    };
    let mut words = vec![0u32; occupancy_words(lattice, slab) as usize];
    // The slab's own sites start word-aligned: 32 bytes to a word (a loop the compiler vectorises).
    for (word, chunk) in words
        .iter_mut()
        .zip(bytes(slab.first_site, slab.sites).chunks(32))
    {
        *word = chunk
            .iter()
            .enumerate()
            .fold(0, |w, (j, &b)| w | (u32::from(b != 0) << j));
    }
    if let Some(first) = next_layer {
        for (i, &b) in bytes(first, layer).iter().enumerate() {
            let local = slab.sites + i as u64;
            words[(local / 32) as usize] |= u32::from(b != 0) << (local % 32);
        }
    }
    words
}

/// The forward-bond table: per basis site b and bond k (index b·bonds_per_site + k) the cell
/// offset and target basis, and the ideal bond vector in Å.
pub fn bond_tables(lattice: &Lattice, bond: &BondParams) -> (Vec<[i32; 4]>, Vec<[f32; 4]>) {
    let mut offsets = Vec::new();
    let mut vectors = Vec::new();
    for b in 0..lattice.basis_len() {
        let forward = lattice.forward_bonds(b);
        // The shaders index the table by b·bonds_per_site + k.
        assert_eq!(
            forward.len(),
            lattice.max_forward_bonds(),
            "every basis site has as many forward bonds"
        );
        for (k, f) in forward.iter().enumerate() {
            offsets.push([
                f.cell_offset[0],
                f.cell_offset[1],
                f.cell_offset[2],
                f.to as i32,
            ]);
            let v = bond.bond_vectors[b as usize][k];
            vectors.push([v[0], v[1], v[2], 0.0]);
        }
    }
    (offsets, vectors)
}

/// The laws per species pair p·4 + q: (tunnel_d2, sc_d2, contraction, tunnel_distance), then
/// (sc_distance, gap_ev, 0, 0).
pub fn pair_laws(bond: &BondParams) -> Vec<[f32; 4]> {
    bond.pairs
        .iter()
        .flatten()
        .flat_map(|l| {
            [
                [l.tunnel_d2, l.sc_d2, l.contraction, l.tunnel_distance],
                [l.sc_distance, l.gap_ev, 0.0, 0.0],
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The occupancy bits of `words` from bit 0 to `count`.
    fn bits(words: &[u32], count: u64) -> Vec<u8> {
        (0..count)
            .map(|i| ((words[(i / 32) as usize] >> (i % 32)) & 1) as u8)
            .collect()
    }

    #[test]
    fn packed_occupancy_is_the_slab_then_the_layer_its_z_bonds_reach() {
        // 4 × 3 × 5 voxels, one byte per site: voxel i is i % 3 (zero, one, two: nonzero = 1).
        let volume: Vec<u8> = (0..60).map(|i| (i % 3) as u8).collect();
        let expected = |site: u64| u8::from(site % 3 != 0);
        for boundary in [Boundary::Open, Boundary::Periodic] {
            let lattice = Lattice::sc_with_connectivity([4, 3, 5], [boundary; 3], 6);
            let slabs = plan_slabs(&lattice, 2);
            assert_eq!(slabs.len(), 3);
            for slab in &slabs {
                let words = pack_occupancy(&lattice, &volume, slab);
                assert_eq!(words.len() as u64, occupancy_words(&lattice, slab));
                let got = bits(&words, slab.sites + 12);
                let next_z = slab.first_z + slab.layers;
                let next_first = match (next_z < 5, boundary) {
                    (true, _) => Some(next_z as u64 * 12),
                    (false, Boundary::Periodic) => Some(0),
                    (false, Boundary::Open) => None,
                };
                let want: Vec<u8> = (0..slab.sites)
                    .map(|i| expected(slab.first_site + i))
                    .chain((0..12).map(|i| next_first.map_or(0, |f| expected(f + i))))
                    .collect();
                assert_eq!(got, want, "{boundary:?} slab at z {}", slab.first_z);
                // Bits past the last site stay clear.
                let total = words.len() as u64 * 32;
                assert!(bits(&words, total)[(slab.sites + 12) as usize..]
                    .iter()
                    .all(|&b| b == 0));
            }
        }
        // A short volume reads as absent past its end, as on the CPU.
        let lattice = Lattice::sc_with_connectivity([4, 3, 5], [Boundary::Open; 3], 6);
        let slab = plan_slabs(&lattice, 5)[0];
        assert!(
            bits(&pack_occupancy(&lattice, &volume[..7], &slab), 60)[7..]
                .iter()
                .all(|&b| b == 0)
        );
    }
}
