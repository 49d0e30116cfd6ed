//! Site and volume modes straight from the occupancy: in these modes a tunnel joins every pair
//! of present neighbours and nothing superconducts, so the tunnel network is the occupancy
//! itself and the bond masks are a detour. The analysis writes each site's presence (the bond
//! mask's PRESENT bit alone, so the statistics read it as they read a mask), labels the present
//! sites directly and counts the tunnel bonds on the way. `CpuEngine::bond_masks` still derives
//! full masks for export and the GPU comparison.

use crate::geometry::{NeighbourSteps, SiteRef};
use crate::labels::{label_network, label_slab_by_bonds, BondSource};
use crate::runs::label_slab_runs;
use crate::wrap::WrapFlags;
use rayon::prelude::*;
use std::collections::HashMap;
use tunnelgrid_model::params::{tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Lattice, Mode};

/// Whether a run of `mode` labels from the occupancy: every bond between present neighbours
/// tunnels and none superconducts.
pub fn labels_from_occupancy(mode: Mode) -> bool {
    matches!(mode, Mode::BernoulliSite | Mode::Volume)
}

/// Writes `PRESENT_BIT` or 0 for every site (the site and volume modes' draw) and returns the
/// number of present sites.
pub fn fill_occupancy(lattice: &Lattice, params: &BondParams, presence: &mut [u32]) -> u64 {
    assert_eq!(presence.len() as u64, lattice.sites());
    let layer = lattice.sites_per_layer() as usize;
    match params.mode {
        Mode::BernoulliSite => {
            let (key, threshold) = (params.keys.occupation, params.bernoulli_threshold);
            fill(presence, layer, |site| (key.hash(site) as u64) < threshold)
        }
        Mode::Volume => {
            let volume = params.volume.as_deref().unwrap_or(&[]);
            // A missing or short volume has no sites there (as `BondParams::is_present`).
            presence
                .par_chunks_mut(layer)
                .enumerate()
                .map(|(z, chunk)| {
                    let first = z * layer;
                    let bytes = volume.get(first..).unwrap_or(&[]);
                    let bytes = &bytes[..bytes.len().min(chunk.len())];
                    let mut present = 0u64;
                    for (p, &b) in chunk.iter_mut().zip(bytes) {
                        let bit = u32::from(b != 0);
                        present += u64::from(bit);
                        *p = bit << 31;
                    }
                    chunk[bytes.len()..].fill(0);
                    present
                })
                .sum()
        }
        mode => panic!(
            "{} mode has bonds of its own: evaluate the bond masks",
            mode.name()
        ),
    }
}

/// `PRESENT_BIT` where `draw(site)`, in parallel over layers; returns the count.
fn fill(presence: &mut [u32], layer: usize, draw: impl Fn(u64) -> bool + Sync) -> u64 {
    presence
        .par_chunks_mut(layer)
        .enumerate()
        .map(|(z, chunk)| {
            let first = z as u64 * layer as u64;
            let mut present = 0u32;
            for (i, p) in chunk.iter_mut().enumerate() {
                let bit = u32::from(draw(first + i as u64));
                present += bit;
                *p = bit << 31;
            }
            present as u64
        })
        .sum()
}

/// The tunnel bonds of the occupancy: a forward bond tunnels when both its ends are present.
pub(crate) struct OccupancyBonds<'a> {
    /// `PRESENT_BIT` or 0 per site.
    pub presence: &'a [u32],
}

impl OccupancyBonds<'_> {
    #[inline(always)]
    fn present(&self, site: u64) -> bool {
        self.presence[site as usize] & PRESENT_BIT != 0
    }
}

impl BondSource for OccupancyBonds<'_> {
    #[inline(always)]
    fn forward_bonds(&self, lattice: &Lattice, steps: &NeighbourSteps, site: &SiteRef) -> u32 {
        if !self.present(site.index) {
            return 0;
        }
        let mut bits = 0;
        for k in 0..lattice.forward_bonds(site.basis).len() {
            if let Some(nb) = steps.neighbour(lattice, site, k) {
                if self.present(nb.site) {
                    bits |= tunnel_bit(k);
                }
            }
        }
        bits
    }

    fn face_bonds(&self, lattice: &Lattice, site: u64) -> u32 {
        if !self.present(site) {
            return 0;
        }
        let (cell, basis) = lattice.coords(site);
        let mut bits = 0;
        for (k, bond) in lattice.forward_bonds(basis).iter().enumerate() {
            if let Some(nb) = lattice.neighbour(cell, bond) {
                if self.present(nb.site) {
                    bits |= tunnel_bit(k);
                }
            }
        }
        bits
    }
}

/// Labels the clusters of present sites (each label the smallest site index of its cluster,
/// absent sites their own) from `presence` (`PRESENT_BIT` or 0 per site) and returns the
/// wrapping flags and the number of tunnel bonds, exactly the labels, flags and
/// `tunnel_bonds` of the bond-mask path.
pub fn label_occupancy(
    lattice: &Lattice,
    presence: &[u32],
    slabs: usize,
    labels: &mut [u32],
) -> (HashMap<u32, WrapFlags>, u64) {
    assert_eq!(presence.len(), labels.len());
    let source = OccupancyBonds { presence };
    // Runs need the bonds along ±x, ±y, ±z only: not bcc/fcc/diamond, not 18/26 connectivity.
    if lattice.basis_len() == 1 && lattice.max_forward_bonds() <= 3 {
        label_network(lattice, &source, slabs, labels, |zs, chunk, base| {
            label_slab_runs(lattice, presence, zs, chunk, base)
        })
    } else {
        label_network(lattice, &source, slabs, labels, |zs, chunk, base| {
            label_slab_by_bonds(lattice, &source, zs, chunk, base)
        })
    }
}

#[cfg(test)]
mod tests {
    //! The occupancy path against the bond-mask path it replaces (`evaluate_bonds`, then
    //! `label_clusters` with one union per bond): the oracle, kept in production for the bond
    //! and tunnel modes.
    use super::*;
    use crate::{build_report, evaluate_bonds, label_clusters, CpuEngine, Network};
    use proptest::prelude::*;
    use std::sync::Arc;
    use tunnelgrid_model::{
        Boundary, Conditions, Engine, LatticeKind, Model, Occupancy, Report, Timings,
    };

    /// Lattices the occupancy path meets: every kind, and sc voxels with 18 or 26 neighbours.
    fn lattice_of(choice: usize, cells: [u32; 3], boundary: [Boundary; 3]) -> Lattice {
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

        let mut presence = vec![7u32; n];
        let present = fill_occupancy(lattice, params, &mut presence);
        let mut labels = vec![0u32; n];
        let (wraps, bonds) = label_occupancy(lattice, &presence, slabs, &mut labels);
        let context = format!(
            "{:?} {:?} {:?} slabs {slabs}",
            lattice.kind, lattice.cells, lattice.boundary
        );
        assert_eq!(totals.sc_bonds, 0, "{context}");
        assert_eq!(present, totals.present_sites, "{context}");
        for (p, m) in presence.iter().zip(&masks) {
            assert_eq!(*p, m & PRESENT_BIT, "{context}");
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
}
