//! Bond evaluation: the bond mask of every site (CPU twin of `shaders/bonds.wgsl`).
//!
//! Mask layout (MODEL.md §2): bit 2k = forward bond k tunnels, bit 2k+1 = it superconducts,
//! bit 31 = the site is present. Evaluation runs in two passes over z layers in parallel: the
//! first marks present sites, the second reads the neighbours' present bits instead of hashing
//! them again.

use crate::atomic_view::as_atomic;
use crate::geometry::{LayerWalker, NeighbourSteps, SiteRef};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use tunnelgrid_model::params::{sc_bit, tunnel_bit, ALL_SC_BITS, ALL_TUNNEL_BITS, PRESENT_BIT};
use tunnelgrid_model::{BondClass, BondParams, Lattice, Mode};

/// Totals gathered while evaluating bonds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BondTotals {
    /// Present sites.
    pub present_sites: u64,
    /// Bonds that tunnel (normal or superconducting).
    pub tunnel_bonds: u64,
    /// Bonds that superconduct.
    pub sc_bonds: u64,
    /// Sum of the lifting energy Δ over normal tunnels, eV.
    pub gap_sum_ev: f64,
    /// Bonds whose d² lies within MODEL.md §5's tolerance of a threshold.
    pub near_threshold_bonds: u64,
}

impl BondTotals {
    fn add(self, o: Self) -> Self {
        Self {
            present_sites: self.present_sites + o.present_sites,
            tunnel_bonds: self.tunnel_bonds + o.tunnel_bonds,
            sc_bonds: self.sc_bonds + o.sc_bonds,
            gap_sum_ev: self.gap_sum_ev + o.gap_sum_ev,
            near_threshold_bonds: self.near_threshold_bonds + o.near_threshold_bonds,
        }
    }

    /// Normal (non-superconducting) tunnels.
    pub fn normal_tunnels(&self) -> u64 {
        self.tunnel_bonds - self.sc_bonds
    }
}

/// Computes the bond mask of every site into `masks` (length = sites) and returns the totals.
pub fn evaluate_bonds(lattice: &Lattice, params: &BondParams, masks: &mut [u32]) -> BondTotals {
    let layer = lattice.sites_per_layer() as usize;
    assert_eq!(masks.len() as u64, lattice.sites());
    masks
        .par_chunks_mut(layer)
        .enumerate()
        .for_each(|(z, chunk)| {
            let first = z as u64 * layer as u64;
            for (i, m) in chunk.iter_mut().enumerate() {
                *m = if params.is_present(first + i as u64) {
                    PRESENT_BIT
                } else {
                    0
                };
            }
        });
    // Each task writes only the masks of its own layer and reads the present bit of neighbours,
    // which this pass never changes: relaxed atomics make that sharing well-defined.
    let shared = as_atomic(masks);
    let steps = NeighbourSteps::new(lattice);
    (0..lattice.cells[2])
        .into_par_iter()
        .map(|z| {
            let mut totals = BondTotals::default();
            let mut walker = LayerWalker::new(lattice, z);
            while let Some(site) = walker.next_site() {
                let own = shared[site.index as usize].load(Relaxed);
                if own & PRESENT_BIT == 0 {
                    continue;
                }
                totals.present_sites += 1;
                let bits = site_bonds(lattice, &steps, params, &site, shared, &mut totals);
                shared[site.index as usize].store(own | bits, Relaxed);
            }
            totals
        })
        .reduce(BondTotals::default, BondTotals::add)
}

/// The bond bits of one present site.
#[inline]
fn site_bonds(
    lattice: &Lattice,
    steps: &NeighbourSteps,
    params: &BondParams,
    site: &SiteRef,
    shared: &[AtomicU32],
    totals: &mut BondTotals,
) -> u32 {
    let mut bits = 0u32;
    let physical = params.mode == Mode::Tunnel;
    let (displacement, species) = if physical {
        (
            params.displacement(site.index),
            params.species(site.index, site.cell, site.basis),
        )
    } else {
        ([0.0; 3], 0)
    };
    for k in 0..lattice.forward_bonds(site.basis).len() {
        let Some(nb) = steps.neighbour(lattice, site, k) else {
            continue;
        };
        if shared[nb.site as usize].load(Relaxed) & PRESENT_BIT == 0 {
            continue;
        }
        match params.mode {
            Mode::BernoulliSite => bits |= tunnel_bit(k),
            Mode::BernoulliBond => {
                if params.bond_open(site.index, k) {
                    bits |= tunnel_bit(k);
                }
            }
            Mode::Tunnel => {
                let (nb_cell, nb_basis) = lattice.coords(nb.site);
                let nb_species = params.species(nb.site, nb_cell, nb_basis);
                let ideal = params.bond_vectors[site.basis as usize][k];
                let d2 =
                    BondParams::bond_length2(ideal, displacement, params.displacement(nb.site));
                if params.near_threshold(species, nb_species, d2) {
                    totals.near_threshold_bonds += 1;
                }
                match params.classify(species, nb_species, d2) {
                    BondClass::None => {}
                    BondClass::Tunnel => {
                        bits |= tunnel_bit(k);
                        totals.gap_sum_ev += params.pairs[species][nb_species].gap_ev(d2) as f64;
                    }
                    BondClass::Superconducting => bits |= tunnel_bit(k) | sc_bit(k),
                }
            }
        }
    }
    totals.tunnel_bonds += (bits & ALL_TUNNEL_BITS).count_ones() as u64;
    totals.sc_bonds += (bits & ALL_SC_BITS).count_ones() as u64;
    bits
}
