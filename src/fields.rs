//! Per-site fields of one run, shared by `export` (NumPy arrays) and `render` (pictures, VTK):
//! bond masks, cluster labels and current from the chosen engine, the minimum cut from the CPU
//! max-flow, and the per-site tunnel density and gap.

use crate::transport::conduction_model;
use crate::volume::VoxelPresence;
use anyhow::{bail, ensure, Result};
use std::borrow::Cow;
use tunnelgrid_cpu::export_labels;
use tunnelgrid_cpu::kirchhoff::bond_gap_ratio;
use tunnelgrid_cpu::maxflow::critical_current;
use tunnelgrid_host::axis::face_sites;
use tunnelgrid_model::params::{sc_bit, tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{
    BondParams, Conditions, Engine, Lattice, Model, Network, ResistanceOptions,
};

/// A model at its conditions with its bond masks computed; fields are derived on request, all
/// on one engine.
pub struct Fields<'e> {
    /// The model.
    pub model: Model,
    /// Its conditions.
    pub conditions: Conditions,
    /// u32 bond mask per site (MODEL.md §2), from the engine.
    pub masks: Vec<u32>,
    engine: &'e dyn Engine,
}

impl<'e> Fields<'e> {
    /// Computes the bond masks on `engine` (e.g. the one a run used).
    pub fn new(model: Model, conditions: Conditions, engine: &'e dyn Engine) -> Result<Self> {
        if let Some(available) = tunnelgrid_cpu::available_memory() {
            model.check_memory(available)?;
        }
        let masks = engine.bond_masks(&model, &conditions)?.masks;
        Ok(Self {
            model,
            conditions,
            masks,
            engine,
        })
    }

    /// The NumPy shape of a per-site field: (nz, ny, nx) for one-site lattices, (nz, ny, nx,
    /// basis) otherwise.
    pub fn npy_shape(&self) -> Vec<u64> {
        let [nx, ny, nz] = self.model.lattice.cells.map(u64::from);
        let mut shape = vec![nz, ny, nx];
        let basis = self.model.lattice.basis_len() as u64;
        if basis > 1 {
            shape.push(basis);
        }
        shape
    }

    /// Exported cluster labels of `network`: 0 for absent sites, else the smallest site index of
    /// the cluster plus one (canonical on every engine).
    pub fn labels(&self, network: Network) -> Result<Vec<u32>> {
        let roots =
            self.engine
                .cluster_roots(&self.model, &self.conditions, &self.masks, network)?;
        Ok(export_labels(&self.masks, roots))
    }

    /// |current| through each site, amperes, at 1 V between bus bars on the faces of `axis`
    /// (Kirchhoff's laws, on the chosen engine's solver); refused along a superconducting axis,
    /// where it is unbounded.
    /// A volume conducts through voxel faces only, whatever `--connectivity` labels with
    /// (`transport::conduction_model`).
    pub fn current(&self, axis: usize) -> Result<Vec<f32>> {
        let network = conduction_model(&self.model)?;
        let face_masks;
        let masks = match &network {
            Cow::Owned(faces) => {
                face_masks = self.engine.bond_masks(faces, &self.conditions)?.masks;
                &face_masks
            }
            Cow::Borrowed(_) => &self.masks,
        };
        let params = BondParams::new(&network.material, &network.lattice, &self.conditions);
        let options = ResistanceOptions {
            currents: true,
            ..ResistanceOptions::default()
        };
        let solved = self
            .engine
            .axis_resistance(
                &network.lattice,
                &params,
                masks,
                None,
                axis,
                &options,
                &mut |_, _| {},
            )?
            .axis;
        match solved.site_current_a {
            Some(map) => Ok(map),
            None => bail!("--field current: the sample superconducts along axis {axis}: the current at 1 V is unbounded (its critical current is in the report of `run --resistance`; `export --field min-cut` writes the bonds that limit it)"),
        }
    }

    /// Bonds of a minimum cut of the superconducting network along `axis` (bit k: forward bond
    /// k of the site): the bonds that limit the critical current.
    pub fn min_cut(&self, axis: usize) -> Result<Vec<u8>> {
        let params = BondParams::new(&self.model.material, &self.model.lattice, &self.conditions);
        let cut = critical_current(
            &self.model.lattice,
            &params,
            &self.masks,
            axis,
            self.model.material.overlap.j0_amp,
        )?;
        let mut bonds = vec![0u8; self.masks.len()];
        for (site, k) in cut.cut_bonds {
            bonds[site as usize] |= 1 << k;
        }
        Ok(bonds)
    }

    /// Tunnel density: the fraction of a site's forward bonds that tunnel (NaN for absent sites).
    pub fn tunnel_density(&self) -> Vec<f32> {
        let lattice = &self.model.lattice;
        self.masks
            .iter()
            .enumerate()
            .map(|(site, &mask)| {
                if mask & PRESENT_BIT == 0 {
                    return f32::NAN;
                }
                let (_, b) = lattice.coords(site as u64);
                let bonds = lattice.forward_bonds(b).len();
                let tunnels = (0..bonds).filter(|&k| mask & tunnel_bit(k) != 0).count();
                tunnels as f32 / bonds.max(1) as f32
            })
            .collect()
    }

    /// Gap: mean lifting energy Δ (eV) over a site's forward normal tunnels; 0 where all its
    /// forward tunnels superconduct, NaN where it has none (or is absent). Bernoulli and volume
    /// modes have no gap: NaN everywhere.
    pub fn gap_ev(&self) -> Vec<f32> {
        let lattice = &self.model.lattice;
        let material = &self.model.material;
        if material.mode.is_bernoulli() || self.model.material.volume.is_some() {
            return vec![f32::NAN; self.masks.len()];
        }
        let params = BondParams::new(material, lattice, &self.conditions);
        let gap0 = material.overlap.gap_ev;
        self.masks
            .iter()
            .enumerate()
            .map(|(site, &mask)| {
                if mask & PRESENT_BIT == 0 {
                    return f32::NAN;
                }
                let (cell, b) = lattice.coords(site as u64);
                let (mut sum, mut normal, mut sc) = (0.0, 0, 0);
                for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
                    if mask & tunnel_bit(k) == 0 {
                        continue;
                    }
                    if mask & sc_bit(k) != 0 {
                        sc += 1;
                        continue;
                    }
                    if let Some(nb) = lattice.neighbour(cell, bond) {
                        let ratio =
                            bond_gap_ratio(lattice, &params, site as u64, cell, b, k, nb.site);
                        sum += ratio.max(0.0) * gap0;
                        normal += 1;
                    }
                }
                if normal > 0 {
                    (sum / f64::from(normal)) as f32
                } else if sc > 0 {
                    0.0
                } else {
                    f32::NAN
                }
            })
            .collect()
    }
}

/// Clusters of a voxel volume numbered 1, 2, …, n in the C order of their first voxel, 0 for
/// empty voxels (scipy's and cc3d's numbering), with n: labelled on the CPU engine as
/// `run --volume` labels them, through 6, 18 or 26 neighbours, from the presence bits alone;
/// the labelling's last pass numbers the clusters (`CpuEngine::numbered_clusters`). The Python
/// module's `label`.
pub fn numbered_voxel_labels(voxels: &VoxelPresence, connectivity: u32) -> Result<(Vec<u32>, u32)> {
    ensure!(
        matches!(connectivity, 6 | 18 | 26),
        "connectivity {connectivity} is not a voxel connectivity; use 6, 18 or 26"
    );
    let engine = tunnelgrid_cpu::CpuEngine::default();
    Ok(engine.numbered_clusters(&voxels.lattice(connectivity), &voxels.presence)?)
}

/// Sizes of the clusters of exported `labels` (0 = absent), and which of them touch both faces
/// of some axis (span; for periodic axes a cluster touching both faces counts, the engines'
/// wrapping rule is not repeated here).
pub fn cluster_summary(
    model: &Model,
    labels: &[u32],
) -> (
    std::collections::HashMap<u32, u64>,
    std::collections::HashSet<u32>,
) {
    let mut sizes: std::collections::HashMap<u32, u64> = Default::default();
    for &l in labels.iter().filter(|&&l| l != 0) {
        *sizes.entry(l).or_default() += 1;
    }
    let axes: Vec<usize> = (0..model.lattice.axes()).collect();
    (sizes, spanning_labels(&model.lattice, labels, &axes))
}

/// The labels (of `labels`, 0 = absent) of the clusters that touch both faces of at least one
/// of `axes` (PoreSpy's `trim_nonpercolating_paths`, over several axes at once).
pub fn spanning_labels(
    lattice: &Lattice,
    labels: &[u32],
    axes: &[usize],
) -> std::collections::HashSet<u32> {
    let mut spanning = std::collections::HashSet::new();
    for &axis in axes {
        let last = lattice.cells[axis] - 1;
        let on_face = |c: u32| -> std::collections::HashSet<u32> {
            face_sites(lattice, axis, c)
                .map(|site| labels[site as usize])
                .filter(|&l| l != 0)
                .collect()
        };
        let (low, high) = (on_face(0), on_face(last));
        spanning.extend(low.intersection(&high));
    }
    spanning
}

/// The largest cluster's label (the smallest label on a tie, so every run decides alike).
pub fn largest_label(sizes: &std::collections::HashMap<u32, u64>) -> Option<u32> {
    sizes
        .iter()
        .max_by_key(|(&l, &n)| (n, std::cmp::Reverse(l)))
        .map(|(&l, _)| l)
}
