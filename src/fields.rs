//! Per-site fields of one run, shared by `export` (NumPy arrays) and `render` (pictures, VTK):
//! bond masks, cluster labels and current from the chosen engine, the minimum cut from the CPU
//! max-flow, and the per-site tunnel density and gap.

use crate::transport::conduction_model;
use anyhow::{bail, Result};
use std::borrow::Cow;
use tunnelgrid_cpu::export_labels;
use tunnelgrid_cpu::kirchhoff::bond_gap_ratio;
use tunnelgrid_cpu::maxflow::critical_current;
use tunnelgrid_host::axis::face_sites;
use tunnelgrid_model::params::{sc_bit, tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Conditions, Engine, Model, Network, ResistanceOptions};

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

/// Cluster labels numbered 1, 2, …, n in the order of each cluster's first site (its smallest
/// site index, i.e. C order of a (nz, ny, nx) array), 0 for absent sites, from an engine's
/// `roots` (each site's cluster root, the smallest site index of its cluster; absent sites are
/// their own), relabelled in place, and `present` (bit s % 64 of word s / 64 is site s); with n.
/// The numbering scipy.ndimage.label and cc3d give.
///
/// In parallel over chunks of sites: each chunk counts the clusters that start in it (present
/// sites that are their own root), the counts give each chunk its first number, the roots take
/// their numbers, then every other site takes its root's number (0 when absent).
pub fn numbered_labels(mut roots: Vec<u32>, present: &[u64]) -> (Vec<u32>, u32) {
    use rayon::prelude::*;
    use std::sync::atomic::Ordering::Relaxed;
    // Sites per chunk, a multiple of 64, so that each chunk owns whole words of the bits.
    const CHUNK: usize = 1 << 16;
    const WORDS: usize = CHUNK / 64;
    // The present sites of a chunk that are their own root, one bit each as `present`.
    let cluster_starts = |c: usize, chunk: &[u32], words: &[u64]| -> Vec<u64> {
        words
            .iter()
            .enumerate()
            .map(|(k, &word)| {
                let (mut left, mut starts) = (word, 0u64);
                while left != 0 {
                    let bit = left.trailing_zeros() as usize;
                    left &= left - 1;
                    let i = k * 64 + bit;
                    if chunk.get(i).is_some_and(|&r| r as usize == c * CHUNK + i) {
                        starts |= 1 << bit;
                    }
                }
                starts
            })
            .collect()
    };
    let starts: Vec<Vec<u64>> = roots
        .par_chunks(CHUNK)
        .zip(present.par_chunks(WORDS))
        .enumerate()
        .map(|(c, (chunk, words))| cluster_starts(c, chunk, words))
        .collect();
    let mut first = Vec::with_capacity(starts.len());
    let mut n = 0u32;
    for words in &starts {
        first.push(n);
        n += words.iter().map(|w| w.count_ones()).sum::<u32>();
    }
    // The roots take their numbers, in site order within each chunk.
    roots
        .par_chunks_mut(CHUNK)
        .zip(&starts)
        .zip(&first)
        .for_each(|((chunk, words), &first)| {
            let mut next = first;
            for (k, &word) in words.iter().enumerate() {
                let mut left = word;
                while left != 0 {
                    let i = k * 64 + left.trailing_zeros() as usize;
                    left &= left - 1;
                    next += 1;
                    chunk[i] = next;
                }
            }
        });
    // Every other site reads its root's entry, which holds a number and is not written here;
    // the atomic view lets tasks read words other tasks own. A site that is its own root and
    // was not numbered is absent.
    let labels = tunnelgrid_host::atomic_view::as_atomic(&mut roots);
    labels
        .par_chunks(CHUNK)
        .zip(&starts)
        .enumerate()
        .for_each(|(c, (chunk, words))| {
            for (i, label) in chunk.iter().enumerate() {
                if words[i / 64] >> (i % 64) & 1 != 0 {
                    continue;
                }
                let root = label.load(Relaxed) as usize;
                let number = if root == c * CHUNK + i {
                    0
                } else {
                    labels[root].load(Relaxed)
                };
                label.store(number, Relaxed);
            }
        });
    (roots, n)
}

/// Clusters of a Bernoulli-site or volume model numbered as `numbered_labels` does, labelled
/// from the occupancy on the CPU engine (`CpuEngine::occupancy_roots`: no bond masks, the
/// labelling `analyze` times), with their number n. The Python module's `label`.
pub fn numbered_occupancy_labels(
    model: &Model,
    conditions: &Conditions,
) -> Result<(Vec<u32>, u32)> {
    let engine = tunnelgrid_cpu::CpuEngine::default();
    match engine.occupancy_roots(model, conditions)? {
        Some((roots, presence)) => Ok(numbered_labels(roots, presence.words())),
        None => bail!(
            "material '{}' is in {} mode, whose clusters come from bonds: label it with bond masks (Fields::labels)",
            model.material.name,
            model.material.mode.name()
        ),
    }
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
    (sizes, spanning_labels(model, labels, &axes))
}

/// The labels (of `labels`, 0 = absent) of the clusters that touch both faces of at least one
/// of `axes` (PoreSpy's `trim_nonpercolating_paths`, over several axes at once).
pub fn spanning_labels(
    model: &Model,
    labels: &[u32],
    axes: &[usize],
) -> std::collections::HashSet<u32> {
    let lattice = &model.lattice;
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
