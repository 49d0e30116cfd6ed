//! The network of one lattice axis as a *stencil* (MODEL.md §7): per site its node, per forward
//! bond its conductance, neighbours found from the lattice itself. The GPU Kirchhoff solver
//! iterates on exactly this (shaders/kirchhoff.wgsl); the f64 operations here are its CPU twin
//! and compute the outer residual of the GPU's iterative refinement and the final current.
//!
//! *Site space.* Every vector has one entry per site. The unknown of a node lives at its
//! representative site: the site itself, or for a superconducting cluster the cluster's label
//! (its smallest site index). Contraction is exact: a contracted node's row is the sum of its
//! member sites' bond terms, gathered per cluster through a member list (`cluster_start`,
//! `cluster_members`), so no floating-point atomics are needed. Entries of sites that are not a
//! free node's representative (cluster members, electrode nodes, pruned or absent sites) are 0.
//!
//! The network (nodes, resistors r = R0·max(Δ/Δ0, MIN_GAP_RATIO), bus bars, pruning) is the one
//! the CPU engine's `axis_resistance` builds; only its storage differs. It is built here
//! independently of the CPU engine (its own bus bars, pruning and superconducting labelling),
//! so the GPU solve and the CPU oracle it is compared with share no network code.

use crate::amg::Laplacian;
use crate::axis::{
    bond_gap_ratio, check_solve_inputs, count_normal_tunnels, face_sites, normal_tunnel_bits,
    resistivity, site_chunks, superconducting_roots, MIN_GAP_RATIO,
};
use crate::labels::{self, network_roots};
use rayon::prelude::*;
use tunnelgrid_model::lattice::ForwardBond;
use tunnelgrid_model::params::{sc_bit, tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{AxisResistance, BondParams, Conduction, KirchhoffError, Lattice, Network};

/// What a stencil build may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StencilOptions {
    /// Bytes the build may use; `None` asks the system (`available_memory`) and does not check
    /// where the system cannot tell.
    pub memory_limit: Option<u64>,
}

impl StencilOptions {
    /// Refuses a build that needs more than the limit (or the system's available memory).
    fn check_memory(&self, needed_bytes: u64) -> Result<(), KirchhoffError> {
        crate::memory::check_solve_memory(needed_bytes, self.memory_limit)
    }
}

/// `node` of a site that belongs to no kept node (absent, or pruned).
pub const NO_NODE: u32 = u32::MAX;

/// What the representative site of a kept node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// An unknown potential.
    Free,
    /// Fixed at potential 1.
    Source,
    /// Fixed at potential 0.
    Sink,
}

const ROLE_NONE: u8 = 0;
const ROLE_FREE: u8 = 1;
const ROLE_SOURCE: u8 = 2;
const ROLE_SINK: u8 = 3;

/// The stencil of one axis. When `conduction` is not `Normal` there is nothing to solve and the
/// vectors are empty.
#[derive(Debug, Clone)]
pub struct AxisStencil {
    /// The lattice.
    pub lattice: Lattice,
    /// 0, 1 or 2 for x, y, z.
    pub axis: usize,
    /// Superconducting (a cluster joins the bus bars), insulating (nothing does) or normal.
    pub conduction: Conduction,
    /// Forward bonds per site (the lattice's `max_forward_bonds`).
    pub bonds_per_site: usize,
    /// Per site: the representative site of its node, or `NO_NODE`.
    pub node: Vec<u32>,
    /// Per site, the role of the node it represents (see `role`).
    role: Vec<u8>,
    /// Conductance of forward bond k of site s at `s·bonds_per_site + k`, siemens; 0 where the
    /// bond is no resistor of the kept network (no tunnel, superconducting, inside one node,
    /// across the periodic boundary of the axis, pruned).
    pub conductance: Vec<f64>,
    /// Per site: the diagonal of the Laplacian at free representatives (the sum of the node's
    /// conductances), 0 elsewhere.
    pub diagonal: Vec<f64>,
    /// Contracted free nodes (superconducting clusters of two or more sites): cluster c's member
    /// sites are `cluster_members[cluster_start[c]..cluster_start[c + 1]]`, ascending, so the
    /// first is the representative.
    pub cluster_start: Vec<u32>,
    /// See `cluster_start`.
    pub cluster_members: Vec<u32>,
    /// Resistors in the network before pruning.
    pub resistors: usize,
    /// Unknown potentials.
    pub free_nodes: usize,
    /// Backward bonds per basis site: (storing basis, bond k, the reversed bond).
    backward: Vec<Vec<(u32, usize, ForwardBond)>>,
}

/// Bytes `axis_stencil` needs for `sites` sites and `normal_bonds` normal tunnels, at most:
/// per site the node map, role, electrode, diagonal, f64 conductances, superconducting labels
/// and union-find parents; per normal tunnel a margin of 16 bytes (kept from the resistor list
/// an earlier version built, so the refusal threshold did not move).
pub fn stencil_bytes(sites: u64, bonds_per_site: u64, normal_bonds: u64) -> u64 {
    sites * (4 + 1 + 8 + 8 * bonds_per_site + 4 + 4 + 4) + normal_bonds * 16
}

impl AxisStencil {
    fn empty(lattice: &Lattice, axis: usize, conduction: Conduction, resistors: usize) -> Self {
        Self {
            lattice: lattice.clone(),
            axis,
            conduction,
            bonds_per_site: lattice.max_forward_bonds(),
            node: Vec::new(),
            role: Vec::new(),
            conductance: Vec::new(),
            diagonal: Vec::new(),
            cluster_start: vec![0],
            cluster_members: Vec::new(),
            resistors,
            free_nodes: 0,
            backward: Vec::new(),
        }
    }

    /// Role of the node that `site` represents; `None` if it represents no kept node.
    pub fn role(&self, site: u32) -> Option<NodeRole> {
        match self.role.get(site as usize) {
            Some(&ROLE_FREE) => Some(NodeRole::Free),
            Some(&ROLE_SOURCE) => Some(NodeRole::Source),
            Some(&ROLE_SINK) => Some(NodeRole::Sink),
            _ => None,
        }
    }

    /// Number of sites (the length of every site-space vector).
    pub fn sites(&self) -> usize {
        self.node.len()
    }

    /// Number of contracted free nodes.
    pub fn clusters(&self) -> usize {
        self.cluster_start.len() - 1
    }

    /// Calls `visit(neighbour, conductance)` for every resistor at `site`, forward and backward.
    #[inline]
    fn for_each_resistor(&self, site: u64, mut visit: impl FnMut(u64, f64)) {
        let k_count = self.bonds_per_site;
        let (cell, b) = self.lattice.coords(site);
        for (k, bond) in self.lattice.forward_bonds(b).iter().enumerate() {
            let g = self.conductance[site as usize * k_count + k];
            if g != 0.0 {
                if let Some(nb) = self.lattice.neighbour(cell, bond) {
                    visit(nb.site, g);
                }
            }
        }
        for &(_, k, ref reversed) in &self.backward[b as usize] {
            if let Some(nb) = self.lattice.neighbour(cell, reversed) {
                let g = self.conductance[nb.site as usize * k_count + k];
                if g != 0.0 {
                    visit(nb.site, g);
                }
            }
        }
    }

    /// Potential of the node represented by `rep` for free potentials `x` (site space).
    #[inline]
    fn potential(&self, x: &[f64], rep: u32) -> f64 {
        match self.role[rep as usize] {
            ROLE_FREE => x[rep as usize],
            ROLE_SOURCE => 1.0,
            _ => 0.0,
        }
    }

    /// Replaces each contracted node's representative entry of `partial` by the sum over its
    /// members, and zeroes the other members' entries.
    fn gather_clusters(&self, partial: &mut [f64]) {
        let sums: Vec<f64> = (0..self.clusters())
            .into_par_iter()
            .map(|c| {
                let range = self.cluster_start[c] as usize..self.cluster_start[c + 1] as usize;
                self.cluster_members[range]
                    .iter()
                    .map(|&m| partial[m as usize])
                    .sum()
            })
            .collect();
        for (c, sum) in sums.into_iter().enumerate() {
            let range = self.cluster_start[c] as usize..self.cluster_start[c + 1] as usize;
            let members = &self.cluster_members[range];
            for &m in &members[1..] {
                partial[m as usize] = 0.0;
            }
            partial[members[0] as usize] = sum;
        }
    }

    /// r = b − A·x in site space (the net current into every free node at free potentials `x`);
    /// returns (r·r, x·r), summed per fixed-size chunk in chunk order (reproducible).
    pub fn residual(&self, x: &[f64], r: &mut [f64]) -> (f64, f64) {
        assert_eq!(x.len(), self.sites());
        assert_eq!(r.len(), self.sites());
        const CHUNK: usize = 1 << 14;
        r.par_chunks_mut(CHUNK).enumerate().for_each(|(c, rc)| {
            for (j, ri) in rc.iter_mut().enumerate() {
                let site = (c * CHUNK + j) as u64;
                let rep = self.node[site as usize];
                *ri = 0.0;
                if rep == NO_NODE || self.role[rep as usize] != ROLE_FREE {
                    continue;
                }
                let here = x[rep as usize];
                let mut net = 0.0;
                self.for_each_resistor(site, |nb, g| {
                    net += g * (self.potential(x, self.node[nb as usize]) - here);
                });
                *ri = net;
            }
        });
        self.gather_clusters(r);
        let sums: Vec<(f64, f64)> = r
            .par_chunks(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .map(|(rc, xc)| {
                rc.iter().zip(xc).fold((0.0, 0.0), |(rr, xr), (&ri, &xi)| {
                    (rr + ri * ri, xr + xi * ri)
                })
            })
            .collect();
        sums.iter()
            .fold((0.0, 0.0), |(a, b), &(rr, xr)| (a + rr, b + xr))
    }

    /// The linear profile between the bus bars at the free representatives, 0 elsewhere: a
    /// starting guess that saves iterations (any guess gives the same answer).
    pub fn linear_guess(&self) -> Vec<f64> {
        let span = (self.lattice.cells[self.axis] - 1) as f64;
        (0..self.sites())
            .into_par_iter()
            .map(|site| {
                if self.role[site] == ROLE_FREE {
                    1.0 - self.lattice.coords(site as u64).0[self.axis] as f64 / span
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// |current| through every site at free potentials `x` (1 V between the bus bars), as
    /// `axis_resistance` maps it with `node_currents`: a free node carries half the sum of
    /// |bond current| over its resistors (what flows in flows out), an electrode node the whole
    /// sum; every site of a node shows the node's value; sites of no kept node show 0.
    pub fn site_currents(&self, x: &[f64]) -> Vec<f32> {
        // Per site: the sum of |current| over its own resistors, forward and backward.
        let partial: Vec<f64> = (0..self.sites() as u64)
            .into_par_iter()
            .map(|site| {
                let rep = self.node[site as usize];
                if rep == NO_NODE {
                    return 0.0;
                }
                let here = self.potential(x, rep);
                let mut sum = 0.0;
                self.for_each_resistor(site, |nb, g| {
                    sum += (g * (here - self.potential(x, self.node[nb as usize]))).abs();
                });
                sum
            })
            .collect();
        // Per node, at its representative (a node's sites may be anywhere: one pass in order).
        let mut through = vec![0.0f64; self.sites()];
        for (&rep, &p) in self.node.iter().zip(&partial) {
            if rep != NO_NODE {
                through[rep as usize] += p;
            }
        }
        drop(partial);
        self.node
            .par_iter()
            .map(|&rep| match rep {
                NO_NODE => 0.0,
                _ if self.role[rep as usize] == ROLE_FREE => (0.5 * through[rep as usize]) as f32,
                _ => through[rep as usize] as f32,
            })
            .collect()
    }

    /// Currents (source electrode out, sink electrode in), amperes, and the sum of |terms|.
    fn electrode_currents(&self, x: &[f64]) -> (f64, f64, f64) {
        let k_count = self.bonds_per_site;
        let partials: Vec<(f64, f64, f64)> = site_chunks(self.sites() as u64)
            .into_par_iter()
            .map(|range| {
                let (mut source, mut sink, mut magnitude) = (0.0, 0.0, 0.0);
                for site in range {
                    let a = self.node[site as usize];
                    if a == NO_NODE {
                        continue;
                    }
                    let (cell, b) = self.lattice.coords(site);
                    for (k, bond) in self.lattice.forward_bonds(b).iter().enumerate() {
                        let g = self.conductance[site as usize * k_count + k];
                        if g == 0.0 {
                            continue;
                        }
                        let Some(nb) = self.lattice.neighbour(cell, bond) else {
                            continue;
                        };
                        let c = self.node[nb.site as usize];
                        let current = g * (self.potential(x, a) - self.potential(x, c));
                        let (ra, rc) = (self.role[a as usize], self.role[c as usize]);
                        if (ra == ROLE_SOURCE) != (rc == ROLE_SOURCE) {
                            source += if ra == ROLE_SOURCE { current } else { -current };
                            magnitude += current.abs();
                        }
                        if (ra == ROLE_SINK) != (rc == ROLE_SINK) {
                            sink += if rc == ROLE_SINK { current } else { -current };
                            magnitude += current.abs();
                        }
                    }
                }
                (source, sink, magnitude)
            })
            .collect();
        partials
            .iter()
            .fold((0.0, 0.0, 0.0), |(a, b, c), &(x, y, z)| {
                (a + x, b + y, c + z)
            })
    }

    /// The reduced system as a sparse matrix: the free nodes' Laplacian with one row per free
    /// node, in the order of their representatives' sites (returned alongside), which the
    /// multigrid hierarchy is built from. A contracted node's row sums its members' resistors;
    /// parallel resistors between the same two nodes are one entry. Row i applied to x (free
    /// potentials by row) equals `residual`'s entry at representative i with the sign of A·x.
    pub fn laplacian(&self) -> (Vec<u32>, Laplacian) {
        const CHUNK: usize = 4096;
        let sites = self.sites();
        let reps: Vec<u32> = (0..sites as u32)
            .into_par_iter()
            .filter(|&s| self.role[s as usize] == ROLE_FREE)
            .collect();
        // Per site: its row if it represents a free node, and its cluster if it represents one.
        let mut row_of = vec![NO_NODE; sites];
        for (i, &s) in reps.iter().enumerate() {
            row_of[s as usize] = i as u32;
        }
        let mut cluster_of = vec![NO_NODE; sites];
        for c in 0..self.clusters() {
            cluster_of[self.cluster_members[self.cluster_start[c] as usize] as usize] = c as u32;
        }
        let chunks: Vec<(Vec<usize>, Vec<u32>, Vec<f64>)> = reps
            .par_chunks(CHUNK)
            .map(|chunk| {
                let (mut lengths, mut columns, mut conductances) = (Vec::new(), vec![], vec![]);
                let mut row: Vec<(u32, f64)> = Vec::new();
                for &rep in chunk {
                    row.clear();
                    let c = cluster_of[rep as usize];
                    let members = if c == NO_NODE {
                        std::slice::from_ref(&rep)
                    } else {
                        let start = self.cluster_start[c as usize] as usize;
                        &self.cluster_members[start..self.cluster_start[c as usize + 1] as usize]
                    };
                    for &m in members {
                        self.for_each_resistor(m as u64, |nb, g| {
                            let other = self.node[nb as usize];
                            if other != rep && other != NO_NODE {
                                let column = row_of[other as usize];
                                if column != NO_NODE {
                                    row.push((column, g));
                                }
                            }
                        });
                    }
                    // Parallel resistors merge in ascending order of conductance, so that both
                    // ends of a pair of nodes sum the same terms in the same order: A stays
                    // exactly symmetric.
                    row.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
                    let before = columns.len();
                    for &(column, g) in &row {
                        if columns.len() > before && *columns.last().unwrap() == column {
                            *conductances.last_mut().unwrap() += g;
                        } else {
                            columns.push(column);
                            conductances.push(g);
                        }
                    }
                    lengths.push(columns.len() - before);
                }
                (lengths, columns, conductances)
            })
            .collect();
        let mut a = Laplacian {
            diagonal: reps.iter().map(|&s| self.diagonal[s as usize]).collect(),
            row_start: Vec::with_capacity(reps.len() + 1),
            columns: Vec::with_capacity(chunks.iter().map(|c| c.1.len()).sum()),
            conductances: Vec::new(),
        };
        a.conductances.reserve(a.columns.capacity());
        a.row_start.push(0);
        for (lengths, columns, conductances) in chunks {
            for length in lengths {
                a.row_start.push(a.row_start.last().unwrap() + length);
            }
            a.columns.extend_from_slice(&columns);
            a.conductances.extend_from_slice(&conductances);
        }
        (reps, a)
    }

    /// The resistance from converged free potentials `x`: the source current corrected by x·r to
    /// second order in the residual, checked against the sink current as `ResistorNetwork`
    /// does. `iterations` and `relative_residual` are reported as given.
    pub fn resistance(
        &self,
        params: &BondParams,
        x: &[f64],
        iterations: usize,
    ) -> Result<AxisResistance, KirchhoffError> {
        if self.conduction != Conduction::Normal {
            return Ok(self.unsolved(params));
        }
        let mut r = vec![0.0; self.sites()];
        let (bb, _) = self.residual(&vec![0.0; self.sites()], &mut r);
        let b_norm = bb.sqrt();
        let (rr, x_dot_r_final) = self.residual(x, &mut r);
        let (source, sink, magnitude) = self.electrode_currents(x);
        let total_conductance: f64 = self.conductance.par_iter().sum();
        let allowed = 2.0 * (self.free_nodes as f64).sqrt() * rr.sqrt()
            + 1e-9 * magnitude
            + 1e-13 * total_conductance;
        if (source - sink).abs() > allowed {
            return Err(KirchhoffError::ElectrodeMismatch {
                source_a: source,
                sink_a: sink,
                allowed_a: allowed,
            });
        }
        let current = source - x_dot_r_final;
        let resistance_ohm = if current > 0.0 {
            1.0 / current
        } else {
            f64::INFINITY
        };
        Ok(AxisResistance {
            axis: self.axis,
            conduction: if current > 0.0 {
                Conduction::Normal
            } else {
                Conduction::Insulating
            },
            resistance_ohm,
            resistivity_ohm_m: resistivity(&self.lattice, params, self.axis, resistance_ohm),
            iterations,
            relative_residual: if b_norm == 0.0 {
                0.0
            } else {
                rr.sqrt() / b_norm
            },
            setup_s: 0.0,
            resistors: self.resistors,
            free_nodes: self.free_nodes,
            site_current_a: None,
        })
    }

    /// The result of an axis with nothing to solve (superconducting or insulating).
    pub fn unsolved(&self, params: &BondParams) -> AxisResistance {
        let resistance_ohm = match self.conduction {
            Conduction::Superconducting => 0.0,
            _ => f64::INFINITY,
        };
        AxisResistance {
            axis: self.axis,
            conduction: self.conduction,
            resistance_ohm,
            resistivity_ohm_m: resistivity(&self.lattice, params, self.axis, resistance_ohm),
            iterations: 0,
            relative_residual: 0.0,
            setup_s: 0.0,
            resistors: self.resistors,
            free_nodes: 0,
            site_current_a: None,
        }
    }
}

/// Backward bonds of every basis site b: the forward bonds (storing basis, k) that land on b,
/// reversed so that `Lattice::neighbour` finds the site that stores them.
fn backward_bonds(lattice: &Lattice) -> Vec<Vec<(u32, usize, ForwardBond)>> {
    let mut backward = vec![Vec::new(); lattice.basis_len() as usize];
    for from in 0..lattice.basis_len() {
        for (k, bond) in lattice.forward_bonds(from).iter().enumerate() {
            let reversed = ForwardBond {
                cell_offset: bond.cell_offset.map(|c| -c),
                from: bond.to,
                to: from,
                vector_cells: bond.vector_cells.map(|v| -v),
            };
            backward[bond.to as usize].push((from, k, reversed));
        }
    }
    backward
}

/// The stencil of the sample along `axis` from its bond masks: the network of
/// `axis_resistance` (same nodes, resistors, bus bars and pruning) in site space.
/// `sc_labels` are used as `axis_resistance` uses them.
pub fn axis_stencil(
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    sc_labels: Option<&[u32]>,
    axis: usize,
    options: &StencilOptions,
) -> Result<AxisStencil, KirchhoffError> {
    // Two node indices below NO_NODE stay free for the electrodes.
    check_solve_inputs(lattice, masks, sc_labels, axis, NO_NODE as u64 - 3)?;
    let sites = lattice.sites();
    let bernoulli = params.mode.is_bernoulli();
    let normal_bits = |mask: u32| normal_tunnel_bits(mask, bernoulli);
    let normal_bonds = count_normal_tunnels(masks, bernoulli);
    let k_count = lattice.max_forward_bonds();
    options.check_memory(stencil_bytes(sites, k_count as u64, normal_bonds))?;

    let labels = (!bernoulli).then(|| {
        superconducting_roots(lattice, masks, sc_labels, axis, |masks| {
            network_roots(lattice, masks, Network::Superconducting)
        })
    });
    let node_of = |site: u64| match &labels {
        Some(l) => l[site as usize],
        None => site as u32,
    };

    let present = |site: u64| masks[site as usize] & PRESENT_BIT != 0;
    // Bus bars, exactly as `axis_resistance` sets them.
    let Some(electrode) = bus_bars(lattice, masks, axis, node_of) else {
        return Ok(AxisStencil::empty(
            lattice,
            axis,
            Conduction::Superconducting,
            0,
        ));
    };

    // Conductances of the normal tunnels between different nodes.
    let r0 = params.r0_ohm;
    let mut conductance = vec![0.0f64; sites as usize * k_count];
    conductance
        .par_chunks_mut(k_count * 4096)
        .enumerate()
        .for_each(|(c, chunk)| {
            for (j, per_site) in chunk.chunks_mut(k_count).enumerate() {
                let site = (c * 4096 + j) as u64;
                let mask = masks[site as usize];
                if mask & PRESENT_BIT == 0 {
                    continue;
                }
                let (cell, b) = lattice.coords(site);
                for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
                    if normal_bits(mask) & tunnel_bit(k) == 0 {
                        continue;
                    }
                    debug_assert!(bernoulli || mask & sc_bit(k) == 0);
                    let Some(nb) = lattice.neighbour(cell, bond) else {
                        continue;
                    };
                    if nb.crossing[axis] != 0 || node_of(site) == node_of(nb.site) {
                        continue;
                    }
                    let r = if bernoulli {
                        r0
                    } else {
                        let ratio = bond_gap_ratio(lattice, params, site, cell, b, k, nb.site);
                        r0 * ratio.max(MIN_GAP_RATIO)
                    };
                    per_site[k] = 1.0 / r;
                }
            }
        });

    // Pruning: the component of the resistor graph (with the bus bars) holding both electrodes.
    let mut resistor_count = 0;
    let mut components = Components::new(sites as usize);
    for (site, per_site) in conductance.chunks(k_count).enumerate() {
        let (cell, b) = lattice.coords(site as u64);
        for (k, &g) in per_site.iter().enumerate() {
            if g == 0.0 {
                continue;
            }
            if !g.is_finite() {
                return Err(KirchhoffError::InvalidNetwork(format!(
                    "bond {k} of site {site} has conductance {g} S; conductances must be finite"
                )));
            }
            let bond = &lattice.forward_bonds(b)[k];
            if let Some(nb) = lattice.neighbour(cell, bond) {
                resistor_count += 1;
                components.join(node_of(site as u64), node_of(nb.site));
            }
        }
    }
    let Some(role) = components.roles_connected_to_both(&electrode) else {
        return Ok(AxisStencil::empty(
            lattice,
            axis,
            Conduction::Insulating,
            resistor_count,
        ));
    };
    let free = role.iter().filter(|&&r| r == ROLE_FREE).count();
    let node: Vec<u32> = (0..sites)
        .into_par_iter()
        .map(|site| {
            let rep = node_of(site);
            if present(site) && role[rep as usize] != ROLE_NONE {
                rep
            } else {
                NO_NODE
            }
        })
        .collect();
    drop(labels);
    // A pruned component's bonds carry nothing: both ends are pruned together.
    conductance
        .par_chunks_mut(k_count)
        .zip(node.par_iter())
        .for_each(|(per_site, &rep)| {
            if rep == NO_NODE {
                per_site.fill(0.0);
            }
        });

    // Member lists of the contracted free nodes, in site order (representative first).
    let mut members_of = vec![0u32; sites as usize];
    for &rep in &node {
        if rep != NO_NODE && role[rep as usize] == ROLE_FREE {
            members_of[rep as usize] += 1;
        }
    }
    let mut cluster_start = vec![0u32];
    let contracted: Vec<u32> = (0..sites as u32)
        .filter(|&s| members_of[s as usize] > 1)
        .collect();
    for &rep in &contracted {
        let last = *cluster_start.last().expect("one entry");
        cluster_start.push(last + members_of[rep as usize]);
    }
    // Reuse members_of as each contracted representative's next free slot (+1; 0 = none).
    members_of.fill(0);
    for (c, &rep) in contracted.iter().enumerate() {
        members_of[rep as usize] = cluster_start[c] + 1;
    }
    let mut cluster_members = vec![0u32; *cluster_start.last().expect("one entry") as usize];
    for (site, &rep) in node.iter().enumerate() {
        if rep != NO_NODE && members_of[rep as usize] != 0 {
            let slot = &mut members_of[rep as usize];
            cluster_members[*slot as usize - 1] = site as u32;
            *slot += 1;
        }
    }
    drop(members_of);

    let mut stencil = AxisStencil {
        lattice: lattice.clone(),
        axis,
        conduction: Conduction::Normal,
        bonds_per_site: k_count,
        node,
        role,
        conductance,
        diagonal: Vec::new(),
        cluster_start,
        cluster_members,
        resistors: resistor_count,
        free_nodes: free,
        backward: backward_bonds(lattice),
    };
    let mut diagonal = vec![0.0; sites as usize];
    diagonal
        .par_chunks_mut(4096)
        .enumerate()
        .for_each(|(c, chunk)| {
            for (j, d) in chunk.iter_mut().enumerate() {
                let site = (c * 4096 + j) as u64;
                let rep = stencil.node[site as usize];
                if rep == NO_NODE || stencil.role[rep as usize] != ROLE_FREE {
                    continue;
                }
                stencil.for_each_resistor(site, |_, g| *d += g);
            }
        });
    stencil.gather_clusters(&mut diagonal);
    stencil.diagonal = diagonal;
    Ok(stencil)
}

/// The electrode of every node along `axis` (`ROLE_SOURCE` on the first face layer,
/// `ROLE_SINK` on the last, `ROLE_NONE` elsewhere), the node of a site being `node(site)`;
/// `None` when one node lies on both faces: a superconducting cluster shorts the bus bars.
fn bus_bars(
    lattice: &Lattice,
    masks: &[u32],
    axis: usize,
    node: impl Fn(u64) -> u32,
) -> Option<Vec<u8>> {
    let n = lattice.cells[axis];
    let mut electrode = vec![ROLE_NONE; lattice.sites() as usize];
    let present = |site: u64| masks[site as usize] & PRESENT_BIT != 0;
    for site in face_sites(lattice, axis, 0).filter(|&s| present(s)) {
        electrode[node(site) as usize] = ROLE_SOURCE;
    }
    for site in face_sites(lattice, axis, n - 1).filter(|&s| present(s)) {
        let v = node(site) as usize;
        if electrode[v] == ROLE_SOURCE {
            return None;
        }
        electrode[v] = ROLE_SINK;
    }
    Some(electrode)
}

/// Connected components of the nodes under the resistors (the union-find of `labels`, the
/// smaller root wins).
struct Components {
    parent: Vec<u32>,
}

impl Components {
    fn new(nodes: usize) -> Self {
        Self {
            parent: (0..nodes as u32).collect(),
        }
    }

    fn find(&mut self, x: u32) -> u32 {
        labels::find(&mut self.parent, x)
    }

    fn join(&mut self, a: u32, b: u32) {
        labels::union(&mut self.parent, a, b);
    }

    /// Each node's role in the component holding both electrodes (each electrode's nodes are
    /// one conductor, the bus bar), `ROLE_NONE` outside it; `None` when an electrode is empty or
    /// the two are not connected (R = ∞).
    fn roles_connected_to_both(mut self, electrode: &[u8]) -> Option<Vec<u8>> {
        let first = |role| electrode.iter().position(|&e| e == role).map(|i| i as u32);
        let (source, sink) = (first(ROLE_SOURCE)?, first(ROLE_SINK)?);
        for (node, &e) in electrode.iter().enumerate() {
            match e {
                ROLE_SOURCE => self.join(source, node as u32),
                ROLE_SINK => self.join(sink, node as u32),
                _ => {}
            }
        }
        let root = self.find(source);
        if self.find(sink) != root {
            return None;
        }
        Some(
            (0..electrode.len() as u32)
                .map(|node| {
                    if self.find(node) != root {
                        ROLE_NONE
                    } else if electrode[node as usize] == ROLE_NONE {
                        ROLE_FREE
                    } else {
                        electrode[node as usize]
                    }
                })
                .collect(),
        )
    }
}
