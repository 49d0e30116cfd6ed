//! Site and volume modes straight from the occupancy: in these modes a tunnel joins every pair
//! of present neighbours and nothing superconducts, so the tunnel network is the occupancy
//! itself and the bond masks are a detour. The analysis writes each site's presence (the bond
//! mask's PRESENT bit alone, so the statistics read it as they read a mask), labels the present
//! sites directly and counts the tunnel bonds on the way. `CpuEngine::bond_masks` still derives
//! full masks for export and the GPU comparison.

use crate::geometry::{NeighbourSteps, SiteRef};
use crate::labels::{label_network, label_slab_by_bonds, number_network, BondSource, SlabRoots};
use crate::numbering::RootBits;
use crate::runs::label_slab_runs;
use crate::wrap::WrapFlags;
use rayon::prelude::*;
use std::collections::HashMap;
use std::ops::Range;
use tunnelgrid_model::hash::StreamKey;
use tunnelgrid_model::params::tunnel_bit;
use tunnelgrid_model::{BondParams, Boundary, Lattice, Mode};

/// Whether a run of `mode` labels from the occupancy: every bond between present neighbours
/// tunnels and none superconducts.
pub fn labels_from_occupancy(mode: Mode) -> bool {
    matches!(mode, Mode::BernoulliSite | Mode::Volume)
}

/// Which sites are present, one bit per site (bit s % 64 of word s / 64): 1/32 of the bond-mask
/// array it replaces, so the page faults of its first touch and the reads of the labelling
/// almost vanish.
#[derive(Debug, Clone)]
pub struct Presence {
    bits: Vec<u64>,
    sites: u64,
    present: u64,
}

/// Sites drawn per task: a multiple of 64, so that tasks own whole words.
const DRAW_CHUNK: usize = 1 << 18;

impl Presence {
    /// The site and volume modes' draw for every site of `lattice`.
    pub fn draw(lattice: &Lattice, params: &BondParams) -> Self {
        let sites = lattice.sites();
        match params.mode {
            Mode::BernoulliSite => {
                let key = params.keys.occupation;
                match u32::try_from(params.bernoulli_threshold) {
                    Ok(threshold) => Self::filled(sites, |first| draw_word(key, threshold, first)),
                    // p = 1: every draw succeeds.
                    Err(_) => Self::filled(sites, |_| !0),
                }
            }
            // A missing or short volume has no sites there (as `BondParams::is_present`).
            Mode::Volume => Self::filled(sites, |first| {
                voxel_word(params.volume.as_deref().unwrap_or(&[]), first, |v| v != 0)
            }),
            mode => panic!(
                "{} mode has bonds of its own: evaluate the bond masks",
                mode.name()
            ),
        }
    }

    /// The presence of voxel values in site order, one site per value: present where
    /// `occupied(value)`. The values are read where they lie (a NumPy array's own buffer, any
    /// element type), in parallel: the bits are the only array made, so a volume needs no
    /// occupancy byte per site to be labelled.
    pub fn of_voxels<T: Copy + Sync>(voxels: &[T], occupied: impl Fn(T) -> bool + Sync) -> Self {
        let sites = voxels.len() as u64;
        assert!(
            sites <= tunnelgrid_model::engine::MAX_SITES,
            "{sites} voxels: more than a u32 site index addresses"
        );
        Self::filled(sites, |first| voxel_word(voxels, first, &occupied))
    }

    /// The presence of `sites` sites from one flag per site in site order, read once in
    /// sequence: for values that lie elsewhere than in one slice (an array read through its
    /// strides). Flags past `sites` are ignored, missing ones are absent sites.
    pub fn of_flags(sites: u64, flags: impl IntoIterator<Item = bool>) -> Self {
        let mut bits = crate::arrays::huge_page_vec(sites.div_ceil(64) as usize, 0u64);
        for (site, flag) in (0..sites).zip(flags) {
            bits[(site / 64) as usize] |= u64::from(flag) << (site % 64);
        }
        Self::of_bits(bits, sites)
    }

    /// Every word from `word(first site of the word)`, in parallel.
    fn filled(sites: u64, word: impl Fn(u32) -> u64 + Sync + Send) -> Self {
        let mut bits = crate::arrays::huge_page_vec(sites.div_ceil(64) as usize, 0u64);
        fill_words(&mut bits, sites, word);
        Self::of_bits(bits, sites)
    }

    /// The presence of `bits` (none past `sites`), with its count.
    fn of_bits(bits: Vec<u64>, sites: u64) -> Self {
        let present = bits.par_iter().map(|w| u64::from(w.count_ones())).sum();
        Self {
            bits,
            sites,
            present,
        }
    }

    /// Number of sites, present or not.
    pub fn sites(&self) -> u64 {
        self.sites
    }

    /// Number of present sites.
    pub fn present_sites(&self) -> u64 {
        self.present
    }

    /// One byte per site, 1 present and 0 absent: the occupancy of a volume-mode model (whose
    /// bond masks and Kirchhoff solve read bytes), from the bits, in parallel.
    pub fn occupancy_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0u8; self.sites as usize];
        bytes
            .par_chunks_mut(DRAW_CHUNK)
            .zip(self.bits.par_chunks(DRAW_CHUNK / 64))
            .for_each(|(bytes, words)| {
                for (sites, &word) in bytes.chunks_mut(64).zip(words) {
                    for (i, byte) in sites.iter_mut().enumerate() {
                        *byte = (word >> i) as u8 & 1;
                    }
                }
            });
        bytes
    }

    /// The presence bits: bit s % 64 of word s / 64 is site s.
    pub fn words(&self) -> &[u64] {
        &self.bits
    }

    /// Whether `site` is present.
    #[inline(always)]
    pub fn is_present(&self, site: u64) -> bool {
        (self.bits[(site >> 6) as usize] >> (site & 63)) & 1 != 0
    }

    /// The mask of `site` as far as the occupancy knows it: `PRESENT_BIT` or 0.
    #[inline(always)]
    pub fn mask(&self, site: u64) -> u32 {
        u32::from(self.is_present(site)) << 31
    }

    /// The presence of the `len` sites from `start` (a row), bit i of `row[i / 64]` for site
    /// start + i; bits past `len` are 0.
    #[inline]
    pub fn row_bits(&self, start: u64, len: usize, row: &mut [u64]) {
        let first = (start >> 6) as usize;
        let shift = (start & 63) as u32;
        for (k, word) in row.iter_mut().enumerate() {
            let low = self.bits[first + k] >> shift;
            // A row that does not start on a word takes its high bits from the next word.
            let high = match (shift, self.bits.get(first + k + 1)) {
                (0, _) | (_, None) => 0,
                (_, Some(&next)) => next << (64 - shift),
            };
            *word = low | high;
        }
        let tail = len % 64;
        if tail != 0 {
            if let Some(last) = row.last_mut() {
                *last &= (1u64 << tail) - 1;
            }
        }
    }
}

/// Fills every word of `bits` with `word(first site of the word)`, in parallel over chunks of
/// whole words; bits past the last site are cleared.
fn fill_words(bits: &mut [u64], sites: u64, word: impl Fn(u32) -> u64 + Sync + Send) {
    let fill = |c: usize, words: &mut [u64]| {
        let first = c * DRAW_CHUNK;
        for (k, w) in words.iter_mut().enumerate() {
            *w = word((first + 64 * k) as u32);
        }
    };
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        /// The same loop compiled for AVX2 (8 hashes at a time instead of SSE2's 4).
        #[target_feature(enable = "avx2")]
        unsafe fn fill_avx2(c: usize, words: &mut [u64], fill: &impl Fn(usize, &mut [u64])) {
            fill(c, words)
        }
        bits.par_chunks_mut(DRAW_CHUNK / 64)
            .enumerate()
            // SAFETY: AVX2 was detected at run time just above.
            .for_each(|(c, words)| unsafe { fill_avx2(c, words, &fill) });
        clear_past(bits, sites);
        return;
    }
    bits.par_chunks_mut(DRAW_CHUNK / 64)
        .enumerate()
        .for_each(|(c, words)| fill(c, words));
    clear_past(bits, sites);
}

/// Clears the bits of the last word that lie past the last site.
fn clear_past(bits: &mut [u64], sites: u64) {
    if sites % 64 != 0 {
        if let Some(last) = bits.last_mut() {
            *last &= (1u64 << (sites % 64)) - 1;
        }
    }
}

/// The Bernoulli draws of the 64 sites from `first`: bit i for site first + i. Written as a
/// flag per site and then packed, so that the hashes vectorise.
#[inline(always)]
fn draw_word(key: StreamKey, threshold: u32, first: u32) -> u64 {
    let mut flags = [0u8; 64];
    for (i, flag) in flags.iter_mut().enumerate() {
        let site = first.wrapping_add(i as u32);
        *flag = u8::from(key.hash(u64::from(site)) < threshold);
    }
    pack_flags(&flags)
}

/// The 64 voxels of `voxels` from `first` as a word: bit i when voxel first + i is occupied
/// (0 past the end). Written as a flag per voxel and then packed, so that the comparisons
/// vectorise for every element type.
#[inline(always)]
fn voxel_word<T: Copy>(voxels: &[T], first: u32, occupied: impl Fn(T) -> bool) -> u64 {
    let first = first as usize;
    let mut flags = [0u8; 64];
    match voxels.get(first..first + 64) {
        // A whole word: a loop of fixed length, which the compiler unrolls and vectorises.
        Some(word) => {
            for (flag, &voxel) in flags.iter_mut().zip(word) {
                *flag = u8::from(occupied(voxel));
            }
        }
        None => {
            for (flag, &voxel) in flags.iter_mut().zip(voxels.get(first..).unwrap_or(&[])) {
                *flag = u8::from(occupied(voxel));
            }
        }
    }
    pack_flags(&flags)
}

/// 64 flags (0 or 1) as the bits of a word. Eight flags at a time: multiplying the eight bytes
/// by 0x0102040810204080 moves flag k to bit 56 + k without carries.
#[inline(always)]
fn pack_flags(flags: &[u8; 64]) -> u64 {
    let mut word = 0u64;
    for (k, eight) in flags.chunks_exact(8).enumerate() {
        let bytes = u64::from_le_bytes(eight.try_into().expect("eight flags"));
        word |= (bytes.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    word
}

/// The tunnel bonds of the occupancy: a forward bond tunnels when both its ends are present.
pub(crate) struct OccupancyBonds<'a> {
    /// Which sites are present.
    pub presence: &'a Presence,
}

impl BondSource for OccupancyBonds<'_> {
    #[inline(always)]
    fn forward_bonds(&self, lattice: &Lattice, steps: &NeighbourSteps, site: &SiteRef) -> u32 {
        if !self.presence.is_present(site.index) {
            return 0;
        }
        let mut bits = 0;
        for k in 0..lattice.forward_bonds(site.basis).len() {
            if let Some(nb) = steps.neighbour(lattice, site, k) {
                if self.presence.is_present(nb.site) {
                    bits |= tunnel_bit(k);
                }
            }
        }
        bits
    }

    /// On one-site lattices with bonds along ±x, ±y, ±z only, the merge needs one join per
    /// pair of touching runs (each run is already one cluster in its slab), as in `runs.rs`.
    fn joins_across_layer(
        &self,
        lattice: &Lattice,
        steps: &NeighbourSteps,
        z: u32,
        mut join: impl FnMut(u64, u64),
    ) {
        if !crate::runs::labels_by_runs(lattice) {
            let above = (z as u64 + 1) * lattice.sites_per_layer();
            return crate::labels::for_each_bond_in_layer(lattice, steps, self, z, |site, nb| {
                if nb >= above {
                    join(site, nb);
                }
            });
        }
        crate::runs::joins_between_layers(lattice, self.presence, z, join);
    }

    fn face_bonds(&self, lattice: &Lattice, site: u64) -> u32 {
        if !self.presence.is_present(site) {
            return 0;
        }
        let (cell, basis) = lattice.coords(site);
        let mut bits = 0;
        for (k, bond) in lattice.forward_bonds(basis).iter().enumerate() {
            if let Some(nb) = lattice.neighbour(cell, bond) {
                if self.presence.is_present(nb.site) {
                    bits |= tunnel_bit(k);
                }
            }
        }
        bits
    }
}

/// Labels the clusters of present sites (each label the smallest site index of its cluster,
/// absent sites their own) from `presence` and returns the
/// wrapping flags and the number of tunnel bonds, exactly the labels, flags and
/// `tunnel_bonds` of the bond-mask path.
pub fn label_occupancy(
    lattice: &Lattice,
    presence: &Presence,
    slabs: usize,
    labels: &mut [u32],
) -> (HashMap<u32, WrapFlags>, u64) {
    assert_eq!(presence.sites, labels.len() as u64);
    let source = OccupancyBonds { presence };
    label_network(lattice, &source, slabs, labels, |zs, chunk, base| {
        label_slab(lattice, &source, zs, chunk, base, &mut ())
    })
}

/// Pass 1 of the occupancy path for the slab of layers `zs` (`chunk`, sites `base..`): by runs
/// where the lattice allows it (`runs.rs`), otherwise one union per bond; returns the tunnel
/// bonds counted and keeps `roots`' account.
fn label_slab(
    lattice: &Lattice,
    source: &OccupancyBonds<'_>,
    zs: Range<u32>,
    chunk: &mut [u32],
    base: u32,
    roots: &mut impl SlabRoots,
) -> u64 {
    if crate::runs::labels_by_runs(lattice) {
        label_slab_runs(lattice, source.presence, zs, chunk, base, roots)
    } else {
        label_slab_by_bonds(lattice, source, zs, chunk, base, roots)
    }
}

/// The clusters of present sites numbered 1, 2, …, n in the order of their first site, 0 for
/// absent sites (`numbering.rs`), labelled from `presence` as `label_occupancy` labels them;
/// with n. On open lattices the labelling's last pass numbers as it goes; a periodic lattice is
/// labelled first and its roots numbered after (`numbered_labels`), since a bond across a
/// periodic face joins clusters after that pass.
pub fn number_occupancy(lattice: &Lattice, presence: &Presence, slabs: usize) -> (Vec<u32>, u32) {
    assert_eq!(presence.sites, lattice.sites());
    let mut labels = crate::arrays::site_array(presence.sites as usize);
    if lattice.boundary.contains(&Boundary::Periodic) {
        label_occupancy(lattice, presence, slabs, &mut labels);
        return crate::numbering::numbered_labels(labels, presence.words());
    }
    let source = OccupancyBonds { presence };
    let present = presence.words();
    let by_runs = crate::runs::labels_by_runs(lattice);
    // Pass 1 as `label_occupancy`'s, keeping the roots of each slab's forest: the runs' first
    // sites, or every present site, less those linked under another.
    let n = number_network(
        lattice,
        &source,
        present,
        slabs,
        &mut labels,
        |zs, chunk, base| {
            let mut roots = if by_runs {
                RootBits::none(chunk.len())
            } else {
                RootBits::present(present, base as usize, chunk.len())
            };
            label_slab(lattice, &source, zs, chunk, base, &mut roots);
            roots
        },
    );
    (labels, n)
}

#[cfg(test)]
pub(crate) mod tests {
    //! The occupancy path against the bond-mask path it replaces (`evaluate_bonds`, then
    //! `label_clusters` with one union per bond): the oracle, kept in production for the bond
    //! and tunnel modes.
    use super::*;
    use crate::{build_report, evaluate_bonds, label_clusters, CpuEngine, Network};
    use proptest::prelude::*;
    use std::sync::Arc;
    use tunnelgrid_model::params::PRESENT_BIT;
    use tunnelgrid_model::{
        Boundary, Conditions, Engine, LatticeKind, Model, Occupancy, Report, Timings,
    };

    /// Lattices the occupancy path meets: every kind, and sc voxels with 18 or 26 neighbours.
    pub(crate) fn lattice_of(choice: usize, cells: [u32; 3], boundary: [Boundary; 3]) -> Lattice {
        match choice {
            6 => Lattice::sc_with_connectivity(cells, boundary, 18),
            7 => Lattice::sc_with_connectivity(cells, boundary, 26),
            k => {
                let kind = LatticeKind::ALL[k];
                let cells = if kind.is_2d() {
                    [cells[0], cells[1], 1]
                } else {
                    cells
                };
                Lattice::new(kind, cells, boundary)
            }
        }
    }

    /// Site-mode parameters at `p`, or volume-mode ones over `voxels` (repeated to the size).
    fn params_of(lattice: &Lattice, p: f64, seed: u64, voxels: Option<&[u8]>) -> BondParams {
        let material = tunnelgrid_model::presets::preset("bernoulli-site").unwrap();
        let conditions = Conditions {
            pressure_gpa: 0.0,
            temperature_k: 300.0,
            seed,
            p,
        };
        let mut params = BondParams::new(&material, lattice, &conditions);
        if let Some(voxels) = voxels {
            params.mode = Mode::Volume;
            let bytes: Vec<u8> = (0..lattice.sites() as usize)
                .map(|i| voxels[i % voxels.len()])
                .collect();
            params.volume = Some(Arc::from(bytes));
        }
        params
    }

    /// Checks labels, wrapping flags, present sites and bond count against the bond-mask path.
    fn check_against_masks(lattice: &Lattice, params: &BondParams, slabs: usize) {
        let n = lattice.sites() as usize;
        let (mut masks, mut scratch) = (vec![0u32; n], vec![0u32; n]);
        let totals = evaluate_bonds(lattice, params, &mut masks, &mut scratch);
        let mut expected = vec![0u32; n];
        let expected_wraps = label_clusters(lattice, &masks, Network::Tunnel, 1, &mut expected);

        let presence = Presence::draw(lattice, params);
        let present = presence.present_sites();
        let mut labels = vec![0u32; n];
        let (wraps, bonds) = label_occupancy(lattice, &presence, slabs, &mut labels);
        let context = format!(
            "{:?} {:?} {:?} slabs {slabs}",
            lattice.kind, lattice.cells, lattice.boundary
        );
        assert_eq!(totals.sc_bonds, 0, "{context}");
        assert_eq!(present, totals.present_sites, "{context}");
        for (site, m) in masks.iter().enumerate() {
            assert_eq!(presence.mask(site as u64), m & PRESENT_BIT, "{context}");
        }
        assert_eq!(bonds, totals.tunnel_bonds, "{context}");
        assert_eq!(labels, expected, "{context}");
        assert_eq!(wraps, expected_wraps, "{context}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Random occupancies (hash-drawn at p, or volumes of random bytes) on every lattice,
        /// open and periodic, sizes down to one cell per axis, any slab count.
        #[test]
        fn occupancy_labels_equal_the_bond_mask_labels(
            choice in 0usize..8,
            nx in 1u32..9, ny in 1u32..9, nz in 1u32..9,
            periodic in prop::array::uniform3(any::<bool>()),
            p in 0.0f64..1.0,
            seed in any::<u64>(),
            voxels in prop::option::of(prop::collection::vec(0u8..3, 1..40)),
            slabs in 1usize..10,
        ) {
            let boundary = periodic.map(|p| if p { Boundary::Periodic } else { Boundary::Open });
            let lattice = lattice_of(choice, [nx, ny, nz], boundary);
            let params = params_of(&lattice, p, seed, voxels.as_deref());
            check_against_masks(&lattice, &params, slabs);
        }

        /// Rows longer than one 64-bit word, where runs and touching runs cross word borders.
        #[test]
        fn long_rows_equal_the_bond_mask_labels(
            nx in 60u32..200, ny in 1u32..5, nz in 1u32..5,
            periodic in prop::array::uniform3(any::<bool>()),
            p in 0.2f64..1.0,
            seed in any::<u64>(),
            slabs in 1usize..4,
        ) {
            let boundary = periodic.map(|p| if p { Boundary::Periodic } else { Boundary::Open });
            let lattice = Lattice::new(LatticeKind::Sc, [nx, ny, nz], boundary);
            check_against_masks(&lattice, &params_of(&lattice, p, seed, None), slabs);
        }
    }

    proptest! {
        /// A presence read from voxel values of any element type, in place or one flag at a
        /// time, is volume mode's draw from the occupancy bytes, and gives those bytes back.
        #[test]
        fn presence_of_voxels_is_the_volume_draw(
            bytes in prop::collection::vec(0u8..3, 1..300),
            wide in any::<bool>(),
        ) {
            let sites = bytes.len() as u32;
            let lattice = Lattice::new(LatticeKind::Sc, [sites, 1, 1], [Boundary::Open; 3]);
            let drawn = Presence::draw(&lattice, &params_of(&lattice, 0.0, 0, Some(&bytes)));
            let of_voxels = if wide {
                let values: Vec<i64> = bytes.iter().map(|&b| -i64::from(b) << 40).collect();
                Presence::of_voxels(&values, |v| v != 0)
            } else {
                Presence::of_voxels(&bytes, |v| v != 0)
            };
            let of_flags = Presence::of_flags(bytes.len() as u64, bytes.iter().map(|&b| b != 0));
            for presence in [&of_voxels, &of_flags] {
                prop_assert_eq!(presence.words(), drawn.words());
                prop_assert_eq!(presence.present_sites(), drawn.present_sites());
                prop_assert_eq!(presence.sites(), u64::from(sites));
            }
            let occupancy: Vec<u8> = bytes.iter().map(|&b| u8::from(b != 0)).collect();
            prop_assert_eq!(drawn.occupancy_bytes(), occupancy);
        }
    }

    #[test]
    fn percolating_lattices_equal_the_bond_mask_labels() {
        for (cells, periodic, p) in [
            ([40, 37, 33], false, 0.3116),
            ([40, 37, 33], true, 0.3116),
            ([64, 64, 16], true, 0.6),
            ([130, 3, 20], false, 0.75),
        ] {
            let boundary = [if periodic {
                Boundary::Periodic
            } else {
                Boundary::Open
            }; 3];
            let lattice = Lattice::new(LatticeKind::Sc, cells, boundary);
            for slabs in [1, 2, 5, 64] {
                check_against_masks(&lattice, &params_of(&lattice, p, 9, None), slabs);
            }
        }
    }

    /// What `analyze` reported before the occupancy path: bond masks, then each network.
    fn bond_mask_report(engine: &CpuEngine, model: &Model, conditions: &Conditions) -> Report {
        let lattice = &model.lattice;
        let params = BondParams::new(&model.material, lattice, conditions);
        let n = lattice.sites() as usize;
        let (mut masks, mut labels) = (vec![0u32; n], vec![0u32; n]);
        let totals = evaluate_bonds(lattice, &params, &mut masks, &mut labels);
        let present = totals.present_sites;
        let (tunnel, _, _) = engine.network_stats(
            model,
            &masks,
            Network::Tunnel,
            totals.tunnel_bonds,
            present,
            &mut labels,
        );
        let (sc, _, _) = engine.network_stats(
            model,
            &masks,
            Network::Superconducting,
            totals.sc_bonds,
            present,
            &mut labels,
        );
        let timings = Timings::default();
        build_report(
            model,
            conditions,
            &params,
            &totals,
            tunnel,
            sc,
            engine.name(),
            timings,
            0.0,
        )
    }

    fn without_times(mut report: Report) -> Report {
        report.timings = Timings::default();
        report.elapsed_s = 0.0;
        report
    }

    /// Whole reports, site mode and volume mode (6, 18, 26), open and periodic: unchanged.
    #[test]
    fn reports_equal_the_bond_mask_reports() {
        let engine = CpuEngine::with_slabs(3);
        for periodic in [false, true] {
            for (mode, connectivity, p) in [
                (Mode::BernoulliSite, 6, 0.3116),
                (Mode::BernoulliSite, 6, 0.6),
                (Mode::BernoulliSite, 6, 0.0),
                (Mode::BernoulliSite, 6, 1.0),
                (Mode::Volume, 6, 0.45),
                (Mode::Volume, 18, 0.2),
                (Mode::Volume, 26, 0.1),
            ] {
                let mut material = tunnelgrid_model::presets::preset("bernoulli-site").unwrap();
                material.lattice.cells = [23, 17, 19];
                let boundary = if periodic {
                    Boundary::Periodic
                } else {
                    Boundary::Open
                };
                material.lattice.boundary = [boundary; 3];
                if mode == Mode::Volume {
                    let sites = 23 * 17 * 19;
                    let voxels: Vec<u8> = (0..sites)
                        .map(|i: u64| {
                            u8::from(
                                (tunnelgrid_model::hash::site_hash(5, i, 0) % 100)
                                    < (p * 100.0) as u32,
                            )
                        })
                        .collect();
                    material.mode = Mode::Volume;
                    material.lattice.connectivity = Some(connectivity);
                    material.lattice.a0 = 1.0;
                    material.volume = Some(Occupancy(Arc::from(voxels)));
                }
                let model = Model::new(material).unwrap();
                let conditions = Conditions {
                    p,
                    ..model.default_conditions()
                };
                let report = engine.analyze(&model, &conditions).unwrap();
                let expected = bond_mask_report(&engine, &model, &conditions);
                assert_eq!(
                    format!("{:?}", without_times(report)),
                    format!("{:?}", without_times(expected)),
                    "{mode:?} {connectivity} periodic {periodic} p {p}"
                );
            }
        }
    }

    /// One engine kept across modes and shapes (its array pool serves site mode one array and
    /// the bond-mask path two) reports what a fresh engine reports.
    #[test]
    fn a_reused_engine_reports_what_a_fresh_one_does() {
        let model = |preset: &str, n: u32| {
            let mut material = tunnelgrid_model::presets::preset(preset).unwrap();
            material.lattice.cells = [n, n + 1, n + 2];
            Model::new(material).unwrap()
        };
        let reused = CpuEngine::default();
        for (preset, n) in [
            ("bernoulli-site", 20),
            ("bernoulli-bond", 20),
            ("bernoulli-site", 20),
            ("bernoulli-site", 9),
            ("bernoulli-bond", 20),
            ("bernoulli-site", 20),
        ] {
            let model = model(preset, n);
            let conditions = Conditions {
                p: 0.4,
                ..model.default_conditions()
            };
            let fresh = CpuEngine::default().analyze(&model, &conditions).unwrap();
            let again = reused.analyze(&model, &conditions).unwrap();
            assert_eq!(
                format!("{:?}", without_times(again)),
                format!("{:?}", without_times(fresh)),
                "{preset} {n}"
            );
        }
    }
}
