//! The resistor network of a lattice along one axis (MODEL.md §7), and its resistivity.
//!
//! - Nodes are sites; every superconducting cluster is contracted to one node, the site that
//!   labels it (its smallest site index). The other sites of the cluster become nodes without
//!   bonds, which pruning drops, so no renumbering pass or map is needed.
//! - Normal tunnels between different nodes are resistors of r = R0·Δ/Δ0 (R0 in the Bernoulli
//!   modes); a normal tunnel inside one superconducting cluster is shorted and left out.
//! - The electrodes are bus bars over the faces: every node holding a site with cell coordinate 0
//!   along the axis is at potential 1, every node holding one at n − 1 is at potential 0. A node
//!   on both faces is a superconducting cluster that spans the axis: R = 0 exactly, no solve.
//! - Bonds that cross a periodic boundary along the axis are left out, superconducting ones
//!   included (the electrodes cut the sample there); periodic bonds across the other axes stay.

use super::network::{Electrode, LinearSystem, Resistor, ResistorNetwork};
use super::{AxisResistance, Conduction, KirchhoffError, SolveOptions, Solver};
use crate::labels::{label_clusters, Network};
use rayon::prelude::*;
use std::borrow::Cow;
use tunnelgrid_host::axis::{
    bond_gap_ratio, check_solve_inputs, count_normal_tunnels, face_sites, resistivity,
    shares_superconducting_roots, site_chunks, superconducting_roots, MIN_GAP_RATIO,
};
use tunnelgrid_model::params::{sc_bit, tunnel_bit, ALL_TUNNEL_BITS, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Boundary, Lattice};

/// Calls `visit(site, cell, basis, k, neighbour)` for every forward bond of the present sites in
/// `sites` whose mask has a bit of `bits` for that bond (`bits` holds tunnel and/or sc bits),
/// that an open face does not cut and that does not cross a periodic boundary along `axis`.
pub(crate) fn for_each_axis_bond(
    lattice: &Lattice,
    masks: &[u32],
    axis: usize,
    bits: u32,
    sites: std::ops::Range<u64>,
    mut visit: impl FnMut(u64, [u32; 3], u32, usize, u64),
) {
    for site in sites {
        let mask = masks[site as usize];
        if mask & PRESENT_BIT == 0 || mask & bits == 0 {
            continue;
        }
        let (cell, b) = lattice.coords(site);
        for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
            if mask & bits & (tunnel_bit(k) | sc_bit(k)) == 0 {
                continue;
            }
            let Some(nb) = lattice.neighbour(cell, bond) else {
                continue;
            };
            if nb.crossing[axis] == 0 {
                visit(site, cell, b, k, nb.site);
            }
        }
    }
}

/// Collects, in parallel and in site order, `make(site, cell, basis, k, neighbour)` for every bond
/// of `for_each_axis_bond` that `accept(site, k, neighbour)` keeps. A first pass counts per chunk
/// and a second fills each chunk's slice of one exactly sized vector, so the list is never held
/// twice; `accept` is cheap and runs in both passes, `make` (which may hash) only in the second.
pub(crate) fn collect_axis_bonds<T: Default + Clone + Send + Sync>(
    lattice: &Lattice,
    masks: &[u32],
    axis: usize,
    bits: u32,
    accept: impl Fn(u64, usize, u64) -> bool + Sync,
    make: impl Fn(u64, [u32; 3], u32, usize, u64) -> T + Sync,
) -> Vec<T> {
    let chunks = site_chunks(lattice.sites());
    let counts: Vec<usize> = chunks
        .par_iter()
        .map(|range| {
            let mut count = 0;
            for_each_axis_bond(
                lattice,
                masks,
                axis,
                bits,
                range.clone(),
                |s, _, _, k, nb| {
                    count += usize::from(accept(s, k, nb));
                },
            );
            count
        })
        .collect();
    // Written in parallel first: `vec!` would fault in every page on this one thread.
    let mut items = crate::arrays::parallel_vec(counts.iter().sum(), T::default());
    let mut slices = Vec::with_capacity(chunks.len());
    let mut rest = &mut items[..];
    for &count in &counts {
        let (head, tail) = rest.split_at_mut(count);
        slices.push(head);
        rest = tail;
    }
    slices
        .into_par_iter()
        .zip(chunks.into_par_iter())
        .for_each(|(out, range)| {
            let mut i = 0;
            for_each_axis_bond(lattice, masks, axis, bits, range, |s, cell, b, k, nb| {
                if accept(s, k, nb) {
                    out[i] = make(s, cell, b, k, nb);
                    i += 1;
                }
            });
            debug_assert_eq!(i, out.len());
        });
    items
}

/// Superconducting labels for `axis` (see `tunnelgrid_host::axis::superconducting_roots`),
/// labelled by the CPU engine where the caller's cannot be used.
pub(crate) fn superconducting_labels<'a>(
    lattice: &Lattice,
    masks: &[u32],
    sc_labels: Option<&'a [u32]>,
    axis: usize,
) -> Cow<'a, [u32]> {
    superconducting_roots(lattice, masks, sc_labels, axis, |masks| {
        let slabs = 4 * rayon::current_num_threads();
        let mut labels = vec![0u32; masks.len()];
        label_clusters(lattice, masks, Network::Superconducting, slabs, &mut labels);
        labels
    })
}

/// A network of one node per site with the bus bars of `axis` set: the node (`node(site)`) of
/// every present site on the first face layer is a source, on the last a sink. `None` when one
/// node lies on both faces: a superconducting cluster shorts the bus bars.
pub(crate) fn network_with_bus_bars(
    lattice: &Lattice,
    masks: &[u32],
    axis: usize,
    node: impl Fn(u64) -> u32,
) -> Option<ResistorNetwork> {
    let n = lattice.cells[axis];
    let mut network = ResistorNetwork::new(lattice.sites() as usize);
    let present = |site: u64| masks[site as usize] & PRESENT_BIT != 0;
    for site in face_sites(lattice, axis, 0).filter(|&s| present(s)) {
        network.set_electrode(node(site), Electrode::Source);
    }
    for site in face_sites(lattice, axis, n - 1).filter(|&s| present(s)) {
        let v = node(site);
        if network.electrode(v) == Some(Electrode::Source) {
            return None;
        }
        network.set_electrode(v, Electrode::Sink);
    }
    Some(network)
}

/// Bytes `axis_resistance` needs for a lattice of `sites` sites and `normal_bonds` normal
/// tunnels, at most: the node map (4 B per site, twice with a mask copy for a periodic axis),
/// the resistor list (16 B each) and the solve (`ResistorNetwork::solve_bytes`), plus the site
/// current map.
fn lattice_bytes(
    sites: u64,
    normal_bonds: u64,
    periodic: bool,
    currents: bool,
    solver: Solver,
) -> u64 {
    let per_site = 4 + 1 + if periodic { 4 } else { 0 } + if currents { 4 } else { 0 };
    sites * per_site
        + normal_bonds * 16
        + ResistorNetwork::solve_bytes(sites, normal_bonds, currents, solver)
}

/// The resistor network of one axis: nodes are sites, or whole superconducting clusters
/// contracted to their label; the axis's faces are the bus bars.
struct AxisNetwork<'a> {
    network: ResistorNetwork,
    /// Node of each site when superconducting clusters are contracted (tunnel mode).
    labels: Option<Cow<'a, [u32]>>,
    /// Resistors before pruning.
    resistors: usize,
}

impl AxisNetwork<'_> {
    /// The node a site belongs to.
    fn node(&self, site: u64) -> u32 {
        match &self.labels {
            Some(l) => l[site as usize],
            None => site as u32,
        }
    }
}

/// Builds the network of `axis` (see `axis_resistance`); `None` when a superconducting cluster
/// joins the bus bars (R = 0).
fn axis_network<'a>(
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    sc_labels: Option<&'a [u32]>,
    axis: usize,
    options: &SolveOptions,
) -> Result<Option<AxisNetwork<'a>>, KirchhoffError> {
    check_solve_inputs(
        lattice,
        masks,
        sc_labels,
        axis,
        super::network::MAX_NODES as u64,
    )?;
    let sites = lattice.sites();
    let bernoulli = params.mode.is_bernoulli();
    let normal_bonds = count_normal_tunnels(masks, bernoulli);
    let periodic = lattice.boundary[axis] == Boundary::Periodic;
    options.check_memory(lattice_bytes(
        sites,
        normal_bonds,
        periodic,
        options.node_currents,
        options.solver,
    ))?;

    // node(site): the site itself, or the label of its superconducting cluster.
    let labels = (!bernoulli).then(|| superconducting_labels(lattice, masks, sc_labels, axis));
    let node = |site: u64| match &labels {
        Some(l) => l[site as usize],
        None => site as u32,
    };

    let Some(mut network) = network_with_bus_bars(lattice, masks, axis, node) else {
        return Ok(None);
    };

    let r0 = params.r0_ohm;
    let resistors = collect_axis_bonds(
        lattice,
        masks,
        axis,
        ALL_TUNNEL_BITS,
        // A normal tunnel between two nodes; one inside a superconducting cluster is shorted.
        |site, k, nb| {
            (bernoulli || masks[site as usize] & sc_bit(k) == 0) && node(site) != node(nb)
        },
        |site, cell, b, k, nb| {
            let r = if bernoulli {
                r0
            } else {
                // See MIN_GAP_RATIO: rounding may leave Δ ≤ 0 on a bond classified normal.
                let ratio = bond_gap_ratio(lattice, params, site, cell, b, k, nb);
                r0 * ratio.max(MIN_GAP_RATIO)
            };
            Resistor {
                a: node(site),
                b: node(nb),
                conductance_s: 1.0 / r,
            }
        },
    );
    let resistor_count = resistors.len();
    network.add_resistors(resistors);
    Ok(Some(AxisNetwork {
        network,
        labels,
        resistors: resistor_count,
    }))
}

/// The linear system `axis_resistance` solves along `axis` (for comparisons with other
/// solvers, `bench --resistance --export-system`); `None` when the bus bars are joined by a
/// superconducting cluster or not connected at all.
pub fn axis_linear_system(
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    axis: usize,
) -> Result<Option<LinearSystem>, KirchhoffError> {
    let options = SolveOptions::default();
    Ok(axis_network(lattice, params, masks, None, axis, &options)?
        .and_then(|built| built.network.linear_system()))
}

/// The resistance of the sample along `axis` (MODEL.md §7) from its bond masks.
///
/// `sc_labels` are the superconducting labels of `label_clusters(.., Network::Superconducting,
/// ..)` for these masks, if the caller has them; they are used for open axes and ignored (the
/// axis is relabelled with its periodic bonds cut) for a periodic one. `progress(iteration,
/// relative residual)` is called after every CG iteration.
pub fn axis_resistance(
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    sc_labels: Option<&[u32]>,
    axis: usize,
    options: &SolveOptions,
    progress: impl FnMut(usize, f64),
) -> Result<AxisResistance, KirchhoffError> {
    let Some(built) = axis_network(lattice, params, masks, sc_labels, axis, options)? else {
        return Ok(superconducting(axis));
    };
    let (network, resistor_count) = (&built.network, built.resistors);
    let node = |site: u64| built.node(site);
    let sites = lattice.sites();
    let span = (lattice.cells[axis] - 1) as f64;
    let guess_of_site = |site: u32| 1.0 - lattice.coords(site as u64).0[axis] as f64 / span;
    let solution = network.solve_with_guess(options, guess_of_site, progress)?;
    let conduction = if solution.current_a > 0.0 {
        Conduction::Normal
    } else {
        Conduction::Insulating
    };
    let site_current_a = solution.node_current_a.as_ref().map(|through| {
        (0..sites)
            .into_par_iter()
            .map(|site| {
                if masks[site as usize] & PRESENT_BIT == 0 {
                    0.0
                } else {
                    through[node(site) as usize] as f32
                }
            })
            .collect()
    });
    Ok(AxisResistance {
        axis,
        conduction,
        resistance_ohm: solution.resistance_ohm,
        resistivity_ohm_m: resistivity(lattice, params, axis, solution.resistance_ohm),
        iterations: solution.iterations,
        relative_residual: solution.relative_residual,
        setup_s: solution.setup_s,
        resistors: resistor_count,
        free_nodes: solution.free_nodes,
        site_current_a,
    })
}

/// The result for an axis spanned by a superconducting cluster.
fn superconducting(axis: usize) -> AxisResistance {
    AxisResistance {
        axis,
        conduction: Conduction::Superconducting,
        resistance_ohm: 0.0,
        resistivity_ohm_m: 0.0,
        iterations: 0,
        relative_residual: 0.0,
        setup_s: 0.0,
        resistors: 0,
        free_nodes: 0,
        site_current_a: None,
    }
}

/// `axis_resistance` along every axis of the lattice (x, y, z; x, y in 2D), labelling the
/// superconducting network once for all open axes. `progress(axis, iteration, residual)`.
pub fn resistances(
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    options: &SolveOptions,
    mut progress: impl FnMut(usize, usize, f64),
) -> Result<Vec<AxisResistance>, KirchhoffError> {
    let labels = (shares_superconducting_roots(lattice, params)
        && masks.len() as u64 == lattice.sites())
    .then(|| {
        let mut labels = vec![0u32; masks.len()];
        let slabs = 4 * rayon::current_num_threads();
        label_clusters(lattice, masks, Network::Superconducting, slabs, &mut labels);
        labels
    });
    (0..lattice.axes())
        .map(|axis| {
            axis_resistance(
                lattice,
                params,
                masks,
                labels.as_deref(),
                axis,
                options,
                |i, r| progress(axis, i, r),
            )
        })
        .collect()
}
