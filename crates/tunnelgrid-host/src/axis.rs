//! One lattice axis as a resistance question (MODEL.md §7): which axes can carry one, the faces
//! that become bus bars, the normal tunnels that become resistors and their gap ratios, and the
//! superconducting clusters that become single nodes. Both engines' Kirchhoff solvers build on
//! these; each solves on its own.

use rayon::prelude::*;
use std::borrow::Cow;
use tunnelgrid_model::params::{sc_bit, tunnel_bit, ALL_SC_BITS, ALL_TUNNEL_BITS};
use tunnelgrid_model::{BondParams, Boundary, KirchhoffError, Lattice};

/// Sites per parallel task when walking the lattice's bonds.
pub const SITE_CHUNK: u64 = 1 << 14;

/// A normal tunnel's Δ/Δ0 never goes below this: where f32 rounding gives Δ ≤ 0 to a bond that
/// the d² comparison classified as normal (d_eff within rounding of d_sc), the bond is a very
/// small resistor, not a short and not a negative resistance.
pub const MIN_GAP_RATIO: f64 = 1e-6;

/// 1 Å in metres.
pub const ANGSTROM_M: f64 = 1e-10;

/// Why a lattice axis cannot carry a resistance or critical-current question, if it cannot.
pub fn check_axis(lattice: &Lattice, axis: usize) -> Result<(), String> {
    if axis >= lattice.axes() {
        return Err(format!(
            "a {} lattice has {} axes",
            lattice.kind,
            lattice.axes()
        ));
    }
    if lattice.cells[axis] < 2 {
        return Err(format!(
            "one cell along the axis puts every site on both bus bars (need at least 2 cells, \
             have {})",
            lattice.cells[axis]
        ));
    }
    Ok(())
}

/// Δ/Δ0 of forward bond `k` from `site` (cell `cell`, basis `b`) to `neighbour`: positive for a
/// normal tunnel, ≤ 0 for a superconducting one (MODEL.md §5), recomputed from the site hash
/// exactly as the bond evaluation does.
pub fn bond_gap_ratio(
    lattice: &Lattice,
    params: &BondParams,
    site: u64,
    cell: [u32; 3],
    b: u32,
    k: usize,
    neighbour: u64,
) -> f64 {
    let (nb_cell, nb_b) = lattice.coords(neighbour);
    let p = params.species(site, cell, b);
    let q = params.species(neighbour, nb_cell, nb_b);
    let d2 = BondParams::bond_length2(
        params.bond_vectors[b as usize][k],
        params.displacement(site),
        params.displacement(neighbour),
    );
    let law = &params.pairs[p][q];
    law.gap_ev(d2) as f64 / law.gap_ev as f64
}

/// Splits the sites into ranges of `SITE_CHUNK` for parallel walks.
pub fn site_chunks(sites: u64) -> Vec<std::ops::Range<u64>> {
    (0..sites.div_ceil(SITE_CHUNK))
        .map(|c| c * SITE_CHUNK..((c + 1) * SITE_CHUNK).min(sites))
        .collect()
}

/// Every site (all basis sites) whose cell coordinate along `axis` is `c`, in index order.
pub fn face_sites(lattice: &Lattice, axis: usize, c: u32) -> impl Iterator<Item = u64> + '_ {
    let mut ranges = [0..1u32, 0..1, 0..1];
    for (i, r) in ranges.iter_mut().enumerate() {
        *r = if i == axis {
            c..c + 1
        } else {
            0..lattice.cells[i]
        };
    }
    let [rx, ry, rz] = ranges;
    rz.flat_map(move |z| {
        let (rx, ry) = (rx.clone(), ry.clone());
        ry.flat_map(move |y| {
            rx.clone().flat_map(move |x| {
                (0..lattice.basis_len()).map(move |b| lattice.site_index(x, y, z, b))
            })
        })
    })
}

/// The checks every axis solve starts with: the axis exists and has two faces, there is one
/// bond mask per site, the sites fit the node index (`sites ≤ max_sites`), and superconducting
/// labels, when given, match the lattice.
pub fn check_solve_inputs(
    lattice: &Lattice,
    masks: &[u32],
    sc_labels: Option<&[u32]>,
    axis: usize,
    max_sites: u64,
) -> Result<(), KirchhoffError> {
    check_axis(lattice, axis).map_err(|reason| KirchhoffError::InvalidAxis { axis, reason })?;
    let sites = lattice.sites();
    if masks.len() as u64 != sites {
        return Err(KirchhoffError::InvalidNetwork(format!(
            "{} bond masks for a lattice of {sites} sites",
            masks.len()
        )));
    }
    if sites > max_sites {
        return Err(KirchhoffError::InvalidNetwork(format!(
            "{sites} sites do not fit the u32 node index"
        )));
    }
    if let Some(labels) = sc_labels {
        if labels.len() != masks.len() || labels.par_iter().any(|&l| l as u64 >= sites) {
            return Err(KirchhoffError::InvalidNetwork(
                "superconducting labels do not match the lattice".into(),
            ));
        }
    }
    Ok(())
}

/// The bits of a bond mask's normal (resistive) tunnels. In the Bernoulli modes every tunnel
/// bit is a resistor of R0 and nothing superconducts; otherwise the tunnels whose gap is open.
pub fn normal_tunnel_bits(mask: u32, bernoulli: bool) -> u32 {
    let tunnels = mask & ALL_TUNNEL_BITS;
    if bernoulli {
        tunnels
    } else {
        tunnels & !((mask & ALL_SC_BITS) >> 1)
    }
}

/// How many normal tunnels the masks hold (the resistors before pruning).
pub fn count_normal_tunnels(masks: &[u32], bernoulli: bool) -> u64 {
    masks
        .par_iter()
        .map(|&m| normal_tunnel_bits(m, bernoulli).count_ones() as u64)
        .sum()
}

/// ρ = R·A/L from the strained cell edges (see `AxisResistance::resistivity_ohm_m`).
pub fn resistivity(
    lattice: &Lattice,
    params: &BondParams,
    axis: usize,
    resistance_ohm: f64,
) -> f64 {
    let extent = |i: usize| lattice.cells[i] as f64 * params.cell_edge[i] * ANGSTROM_M;
    let area: f64 = (0..3).filter(|&i| i != axis).map(extent).product();
    let length = extent(axis);
    if resistance_ohm == 0.0 || resistance_ohm.is_infinite() {
        resistance_ohm
    } else {
        resistance_ohm * area / length
    }
}

/// Whether a solve of every axis should label the superconducting network once and share it:
/// only the physical mode has superconducting bonds, and only open axes can use shared roots
/// (a periodic axis is relabelled with its periodic bonds cut).
pub fn shares_superconducting_roots(lattice: &Lattice, params: &BondParams) -> bool {
    !params.mode.is_bernoulli()
        && (0..lattice.axes()).any(|a| lattice.boundary[a] == Boundary::Open)
}

/// `masks` with the bonds that cross the periodic boundary along `axis` removed (tunnel and
/// superconducting bits): clusters joined only through them would short the two bus bars.
pub fn cut_periodic_bonds(lattice: &Lattice, masks: &[u32], axis: usize) -> Vec<u32> {
    let mut cut = masks.to_vec();
    // Only the two faces hold bonds that can cross this axis's boundary.
    for c in [0, lattice.cells[axis] - 1] {
        for site in face_sites(lattice, axis, c) {
            let (cell, b) = lattice.coords(site);
            for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
                let crosses = lattice
                    .neighbour(cell, bond)
                    .is_some_and(|nb| nb.crossing[axis] != 0);
                if crosses {
                    cut[site as usize] &= !(sc_bit(k) | tunnel_bit(k));
                }
            }
        }
    }
    cut
}

/// Superconducting cluster roots for a solve along `axis`: the caller's where they can be used,
/// otherwise `label(masks)` of the masks with the bonds across a periodic boundary along `axis`
/// cut (the caller's roots join clusters through them, which would short the two bus bars).
/// `label` is the engine's labelling of the superconducting network of the masks it is given.
pub fn superconducting_roots<'a>(
    lattice: &Lattice,
    masks: &[u32],
    sc_roots: Option<&'a [u32]>,
    axis: usize,
    label: impl FnOnce(&[u32]) -> Vec<u32>,
) -> Cow<'a, [u32]> {
    let periodic = lattice.boundary[axis] == Boundary::Periodic;
    match (sc_roots, periodic) {
        (Some(roots), false) => Cow::Borrowed(roots),
        (None, false) => Cow::Owned(label(masks)),
        (_, true) => Cow::Owned(label(&cut_periodic_bonds(lattice, masks, axis))),
    }
}
