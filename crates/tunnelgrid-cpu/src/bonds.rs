//! Bond evaluation: the bond mask of every site (CPU twin of `shaders/bonds.wgsl`).
//!
//! Mask layout (MODEL.md §2): bit 2k = forward bond k tunnels, bit 2k+1 = it superconducts,
//! bit 31 = the site is present. Evaluation runs in two passes, in parallel over z layers: the
//! first writes every site's presence into a scratch array, the second reads the neighbours'
//! presence from it instead of hashing them again. One-site lattices in the Bernoulli modes take a
//! row-wise path that the compiler vectorises; everything else takes the general per-bond path.

use crate::geometry::{LayerWalker, NeighbourSteps, SiteRef};
use rayon::prelude::*;
pub use tunnelgrid_model::network::BondTotals;
use tunnelgrid_model::params::{sc_bit, tunnel_bit, ALL_SC_BITS, ALL_TUNNEL_BITS, PRESENT_BIT};
use tunnelgrid_model::{BondClass, BondParams, Boundary, Lattice, Mode};

/// Computes the bond mask of every site into `masks` and returns the totals. `presence` is
/// scratch of the same length (one u32 per site), overwritten.
pub fn evaluate_bonds(
    lattice: &Lattice,
    params: &BondParams,
    masks: &mut [u32],
    presence: &mut [u32],
) -> BondTotals {
    let layer = lattice.sites_per_layer() as usize;
    assert_eq!(masks.len() as u64, lattice.sites());
    assert_eq!(presence.len(), masks.len());
    // One monomorphised loop per mode: a straight hash-and-compare the compiler vectorises.
    match params.mode {
        Mode::BernoulliSite => {
            let (key, threshold) = (params.keys.occupation, params.bernoulli_threshold);
            fill_presence(presence, layer, |site| (key.hash(site) as u64) < threshold)
        }
        Mode::BernoulliBond => presence.par_iter_mut().for_each(|p| *p = 1),
        Mode::Volume => {
            let volume = params.volume.as_deref().unwrap_or(&[]);
            fill_presence(presence, layer, |site| {
                volume.get(site as usize).is_some_and(|&b| b != 0)
            })
        }
        Mode::Tunnel => {
            let (key, threshold) = (params.keys.vacancy, params.vacancy_threshold);
            fill_presence(presence, layer, |site| (key.hash(site) as u64) >= threshold)
        }
    }
    let presence = &*presence;
    // The row fast path knows the ±x, ±y, ±z bonds only (not a volume's 18/26 connectivity).
    let one_site_bernoulli =
        lattice.basis_len() == 1 && lattice.max_forward_bonds() <= 3 && params.mode.is_bernoulli();
    if one_site_bernoulli {
        return masks
            .par_chunks_mut(layer)
            .enumerate()
            .map(|(z, layer_masks)| {
                bernoulli_layer(lattice, params, presence, z as u32, layer_masks)
            })
            .reduce(BondTotals::default, std::ops::Add::add);
    }
    // Runs of consecutive layers, so that a run hashes each of its layers' displacements once
    // (and the layer above it once more), where one task per layer hashed every layer twice.
    // The layers' totals are summed in z order: the f64 gap sum is the same on any number of
    // threads.
    let steps = NeighbourSteps::new(lattice);
    let run = layers_per_run(lattice.cells[2] as usize);
    let per_run: Vec<Vec<BondTotals>> = masks
        .par_chunks_mut(layer * run)
        .enumerate()
        .map(|(r, run_masks)| {
            let z0 = (r * run) as u32;
            let mut displacements = LayerDisplacements::new(lattice, params, z0);
            let mut totals = Vec::with_capacity(run);
            for (i, layer_masks) in run_masks.chunks_mut(layer).enumerate() {
                let z = z0 + i as u32;
                if i > 0 {
                    displacements.advance(lattice, z);
                }
                totals.push(general_layer(
                    lattice,
                    &steps,
                    params,
                    presence,
                    z,
                    &displacements,
                    layer_masks,
                ));
            }
            totals
        })
        .collect();
    per_run
        .into_iter()
        .flatten()
        .fold(BondTotals::default(), std::ops::Add::add)
}

/// Layers per task of the general bond pass: up to 8, fewer when that would leave threads idle
/// (at least 4 tasks per thread where the lattice has the layers for it).
fn layers_per_run(nz: usize) -> usize {
    (nz / (4 * rayon::current_num_threads())).clamp(1, 8)
}

/// Writes `draw(site)` as 0/1 for every site, in parallel over layers.
fn fill_presence(presence: &mut [u32], layer: usize, draw: impl Fn(u64) -> bool + Sync) {
    presence
        .par_chunks_mut(layer)
        .enumerate()
        .for_each(|(z, chunk)| {
            let first = z as u64 * layer as u64;
            for (i, p) in chunk.iter_mut().enumerate() {
                *p = u32::from(draw(first + i as u64));
            }
        });
}

/// Presence of the site one step along `axis` from the start of a row, or the wrapped site, or
/// none: returns the index step to add, or None where an open face cuts the bond.
fn row_step(lattice: &Lattice, axis: usize, coordinate: u32, stride: usize) -> Option<isize> {
    let n = lattice.cells[axis];
    if coordinate + 1 < n {
        Some(stride as isize)
    } else if lattice.boundary[axis] == Boundary::Periodic && !(lattice.kind.is_2d() && axis == 2) {
        Some(-((n as isize - 1) * stride as isize))
    } else {
        None
    }
}

/// Bernoulli modes on one-site lattices (sc, square, tetragonal): whole rows at a time.
fn bernoulli_layer(
    lattice: &Lattice,
    params: &BondParams,
    presence: &[u32],
    z: u32,
    masks: &mut [u32],
) -> BondTotals {
    let [nx, ny, _] = lattice.cells.map(|n| n as usize);
    let layer_start = z as usize * nx * ny;
    let z_step = if lattice.kind.is_2d() {
        None
    } else {
        row_step(lattice, 2, z, nx * ny)
    };
    let x_wraps = lattice.boundary[0] == Boundary::Periodic;
    let bond_mode = params.mode == Mode::BernoulliBond;
    let mut totals = BondTotals::default();
    for y in 0..ny {
        let start = layer_start + y * nx;
        let row = &presence[start..start + nx];
        let y_step = row_step(lattice, 1, y as u32, nx);
        let neighbour_row =
            |step: Option<isize>| step.map(|s| &presence[(start as isize + s) as usize..][..nx]);
        let (up_y, up_z) = (neighbour_row(y_step), neighbour_row(z_step));
        let out = &mut masks[y * nx..(y + 1) * nx];
        let mut tunnels = 0u32;
        let mut present = 0u32;
        for x in 0..nx {
            let p = row[x];
            let px = if x + 1 < nx {
                row[x + 1]
            } else {
                u32::from(x_wraps) & row[0]
            };
            let py = up_y.map_or(0, |r| r[x]);
            let pz = up_z.map_or(0, |r| r[x]);
            let mut bits = (p & px) | ((p & py) << 2) | ((p & pz) << 4);
            if bond_mode {
                let site = (start + x) as u64;
                for k in 0..lattice.max_forward_bonds() {
                    if !params.bond_open(site, k) {
                        bits &= !tunnel_bit(k);
                    }
                }
            }
            present += p;
            tunnels += bits.count_ones();
            out[x] = (p << 31) | bits;
        }
        totals.present_sites += present as u64;
        totals.tunnel_bonds += tunnels as u64;
    }
    totals
}

/// Every other case: bond by bond, with the physical laws in tunnel mode.
fn general_layer(
    lattice: &Lattice,
    steps: &NeighbourSteps,
    params: &BondParams,
    presence: &[u32],
    z: u32,
    displacements: &LayerDisplacements,
    masks: &mut [u32],
) -> BondTotals {
    let mut totals = BondTotals::default();
    let mut walker = LayerWalker::new(lattice, z);
    let first = lattice.site_index(0, 0, z, 0);
    while let Some(site) = walker.next_site() {
        let slot = &mut masks[(site.index - first) as usize];
        if presence[site.index as usize] == 0 {
            *slot = 0;
            continue;
        }
        totals.present_sites += 1;
        *slot = PRESENT_BIT
            | site_bonds(
                lattice,
                steps,
                params,
                displacements,
                &site,
                presence,
                &mut totals,
            );
    }
    totals
}

/// Displacements of the sites of layers z and z + 1 (tunnel mode), where every forward bond of
/// layer z ends: each is hashed twice per pass instead of once per bond that reaches its site.
struct LayerDisplacements<'a> {
    params: &'a BondParams,
    first: u64,
    cached: Vec<[f32; 3]>,
}

impl<'a> LayerDisplacements<'a> {
    fn new(lattice: &Lattice, params: &'a BondParams, z: u32) -> Self {
        let first = lattice.site_index(0, 0, z, 0);
        let layers = if params.mode == Mode::Tunnel {
            2.min(lattice.cells[2] - z) as u64
        } else {
            0
        };
        let cached = (first..first + layers * lattice.sites_per_layer())
            .map(|s| params.displacement(s))
            .collect();
        Self {
            params,
            first,
            cached,
        }
    }

    /// Moves the cache up to layers `z` and `z + 1` from `z − 1` and `z`: layer z's
    /// displacements are kept, only layer z + 1's are hashed.
    fn advance(&mut self, lattice: &Lattice, z: u32) {
        let layer = lattice.sites_per_layer();
        self.first = lattice.site_index(0, 0, z, 0);
        if self.cached.is_empty() {
            return; // not tunnel mode: nothing is cached
        }
        self.cached.drain(..(layer as usize).min(self.cached.len()));
        if z + 1 < lattice.cells[2] {
            let above = self.first + layer;
            self.cached
                .extend((above..above + layer).map(|s| self.params.displacement(s)));
        }
    }

    /// The displacement of `site`, from the cache when it lies in the two layers.
    #[inline(always)]
    fn of(&self, site: u64) -> [f32; 3] {
        match site
            .checked_sub(self.first)
            .and_then(|i| self.cached.get(i as usize))
        {
            Some(d) => *d,
            None => self.params.displacement(site),
        }
    }
}

/// The bond bits of one present site.
#[inline]
fn site_bonds(
    lattice: &Lattice,
    steps: &NeighbourSteps,
    params: &BondParams,
    displacements: &LayerDisplacements,
    site: &SiteRef,
    presence: &[u32],
    totals: &mut BondTotals,
) -> u32 {
    let mut bits = 0u32;
    let physical = params.mode == Mode::Tunnel;
    let (displacement, species) = if physical {
        (
            displacements.of(site.index),
            params.species(site.index, site.cell, site.basis),
        )
    } else {
        ([0.0; 3], 0)
    };
    for k in 0..lattice.forward_bonds(site.basis).len() {
        let Some(nb) = steps.neighbour(lattice, site, k) else {
            continue;
        };
        if presence[nb.site as usize] == 0 {
            continue;
        }
        match params.mode {
            Mode::BernoulliSite | Mode::Volume => bits |= tunnel_bit(k),
            Mode::BernoulliBond => {
                if params.bond_open(site.index, k) {
                    bits |= tunnel_bit(k);
                }
            }
            Mode::Tunnel => {
                let nb_species = params.species_at(lattice, nb.site);
                let ideal = params.bond_vectors[site.basis as usize][k];
                let d2 = BondParams::bond_length2(ideal, displacement, displacements.of(nb.site));
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

/// The bond masks computed the plainest way: site by site, hashing every neighbour's presence
/// again, with the generic neighbour lookup. Slow; the tests use it as the oracle for
/// `evaluate_bonds`'s fast paths.
pub fn reference_masks(lattice: &Lattice, params: &BondParams) -> Vec<u32> {
    let presence: Vec<u32> = (0..lattice.sites())
        .map(|s| u32::from(params.is_present(s)))
        .collect();
    (0..lattice.sites())
        .map(|index| {
            if presence[index as usize] == 0 {
                return 0;
            }
            let (cell, basis) = lattice.coords(index);
            let mut bits = PRESENT_BIT;
            for (k, bond) in lattice.forward_bonds(basis).iter().enumerate() {
                let Some(nb) = lattice.neighbour(cell, bond) else {
                    continue;
                };
                if presence[nb.site as usize] == 0 {
                    continue;
                }
                bits |= match params.mode {
                    Mode::BernoulliSite | Mode::Volume => tunnel_bit(k),
                    Mode::BernoulliBond if params.bond_open(index, k) => tunnel_bit(k),
                    Mode::BernoulliBond => 0,
                    Mode::Tunnel => {
                        let species = params.species(index, cell, basis);
                        let (nb_cell, nb_basis) = lattice.coords(nb.site);
                        let nb_species = params.species(nb.site, nb_cell, nb_basis);
                        let d2 = BondParams::bond_length2(
                            params.bond_vectors[basis as usize][k],
                            params.displacement(index),
                            params.displacement(nb.site),
                        );
                        match params.classify(species, nb_species, d2) {
                            BondClass::None => 0,
                            BondClass::Tunnel => tunnel_bit(k),
                            BondClass::Superconducting => tunnel_bit(k) | sc_bit(k),
                        }
                    }
                };
            }
            bits
        })
        .collect()
}
