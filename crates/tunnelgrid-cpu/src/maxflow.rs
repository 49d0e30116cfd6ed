//! Critical current (MODEL.md §8): the maximum supercurrent between the bus bars of an axis.
//!
//! Each superconducting bond carries at most I_c = J0·(−Δ/Δ0); the sample's critical current is
//! the maximum flow through the superconducting network from one face to the other, which by
//! max-flow = min-cut is also the capacity of its weakest cross-section. Two layers:
//! - [`FlowNetwork`]: a generic graph of undirected capacities with source and sink node sets,
//!   solved by Dinic's algorithm ([`FlowNetwork::max_flow`]), which also returns a minimum cut;
//! - [`critical_current`]: builds that graph from a lattice's bond masks for one axis.
//!
//! Dinic's algorithm alternates a breadth-first search that layers the residual graph by distance
//! from the sources with a depth-first search that saturates every shortest augmenting path of
//! that layering (a blocking flow). The depth-first search is iterative, with a current-arc
//! pointer per node, because augmenting paths through a lattice can be as long as the lattice has
//! sites and would overflow the call stack.
//!
//! Capacities are f64. A residual capacity at most `RELATIVE_EPSILON` times the largest capacity
//! counts as saturated: every augmentation then saturates at least one arc despite rounding, so
//! the algorithm terminates, and the flow equals the returned cut's capacity to within that
//! tolerance per cut edge.

use crate::kirchhoff::{bond_gap_ratio, check_axis, collect_axis_bonds, face_sites};
use tunnelgrid_model::engine::human_bytes;
use tunnelgrid_model::params::{ALL_SC_BITS, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Lattice};

/// Residual capacities at most this times the largest capacity count as saturated.
pub const RELATIVE_EPSILON: f64 = 1e-12;

/// Which terminal set a node belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    /// Flow enters the network here.
    Source,
    /// Flow leaves the network here.
    Sink,
}

/// An undirected edge: flow may go either way, at most `capacity` in absolute value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FlowEdge {
    /// One end.
    pub a: u32,
    /// The other end.
    pub b: u32,
    /// Largest |flow|, finite and ≥ 0 (amperes for a critical current).
    pub capacity: f64,
}

const FREE: u8 = 0;
const SOURCE: u8 = 1;
const SINK: u8 = 2;
const BOTH: u8 = SOURCE | SINK;

/// A level no node has: unreached by the search, or a dead end of the current phase.
const NO_LEVEL: u32 = u32::MAX;

/// Nodes joined by undirected capacities, with source and sink node sets.
#[derive(Debug, Clone, Default)]
pub struct FlowNetwork {
    nodes: usize,
    edges: Vec<FlowEdge>,
    role: Vec<u8>,
}

/// A maximum flow and a minimum cut.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxFlow {
    /// Net flow leaving the source set, i.e. the maximum flow.
    pub value: f64,
    /// Net flow entering the sink set (equals `value` up to rounding).
    pub sink_value: f64,
    /// Flow of every edge, signed: positive from `a` to `b`.
    pub edge_flow: Vec<f64>,
    /// The edges of a minimum cut: every edge of positive capacity between `source_side` and the
    /// rest, in edge order. Zero-capacity edges are left out: they separate nothing.
    pub cut: Vec<usize>,
    /// Sum of the capacities of `cut` (equals `value` up to the tolerance).
    pub cut_capacity: f64,
    /// Nodes the sources still reach through unsaturated edges: the source side of the cut.
    pub source_side: Vec<bool>,
    /// Dinic phases (breadth-first layerings) it took.
    pub phases: usize,
}

/// Why a maximum flow could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MaxFlowError {
    /// The network is malformed (a caller's bug, not a physical outcome).
    #[error("invalid flow network: {0}")]
    InvalidNetwork(String),
    /// The axis cannot carry a critical-current question on this lattice.
    #[error("no critical current along axis {axis}: {reason}")]
    InvalidAxis {
        /// The axis asked for.
        axis: usize,
        /// Why it is refused.
        reason: String,
    },
    /// The network would not fit in memory.
    #[error(
        "the flow network needs about {} of memory, but only {} is available",
        human_bytes(*needed_bytes),
        human_bytes(*available_bytes)
    )]
    OutOfMemory {
        /// Estimated bytes it needs.
        needed_bytes: u64,
        /// Bytes available.
        available_bytes: u64,
    },
}

/// The residual graph of a flow network during Dinic's algorithm. Arc 2e runs a → b of edge e,
/// arc 2e + 1 runs b → a; with f the signed flow of e, their residual capacities are c − f and
/// c + f, so one f64 per edge holds the whole state.
struct Residual<'a> {
    edges: &'a [FlowEdge],
    flow: Vec<f64>,
    /// Arcs leaving node u are `arcs[adjacency_start[u]..adjacency_start[u + 1]]`.
    adjacency_start: Vec<usize>,
    arcs: Vec<u32>,
    epsilon: f64,
}

impl<'a> Residual<'a> {
    fn new(nodes: usize, edges: &'a [FlowEdge], epsilon: f64) -> Self {
        let useful = |e: &FlowEdge| e.a != e.b && e.capacity > 0.0;
        let mut adjacency_start = vec![0usize; nodes + 1];
        for e in edges.iter().filter(|e| useful(e)) {
            adjacency_start[e.a as usize + 1] += 1;
            adjacency_start[e.b as usize + 1] += 1;
        }
        for u in 0..nodes {
            adjacency_start[u + 1] += adjacency_start[u];
        }
        let mut fill = adjacency_start.clone();
        let mut arcs = vec![0u32; adjacency_start[nodes]];
        for (i, e) in edges.iter().enumerate().filter(|(_, e)| useful(e)) {
            let forward = 2 * i as u32;
            arcs[fill[e.a as usize]] = forward;
            fill[e.a as usize] += 1;
            arcs[fill[e.b as usize]] = forward + 1;
            fill[e.b as usize] += 1;
        }
        Self {
            edges,
            flow: vec![0.0; edges.len()],
            adjacency_start,
            arcs,
            epsilon,
        }
    }

    #[inline(always)]
    fn head(&self, arc: u32) -> u32 {
        let e = &self.edges[(arc >> 1) as usize];
        if arc & 1 == 0 {
            e.b
        } else {
            e.a
        }
    }

    #[inline(always)]
    fn tail(&self, arc: u32) -> u32 {
        self.head(arc ^ 1)
    }

    #[inline(always)]
    fn residual(&self, arc: u32) -> f64 {
        let e = (arc >> 1) as usize;
        if arc & 1 == 0 {
            self.edges[e].capacity - self.flow[e]
        } else {
            self.edges[e].capacity + self.flow[e]
        }
    }

    #[inline(always)]
    fn open(&self, arc: u32) -> bool {
        self.residual(arc) > self.epsilon
    }

    fn push(&mut self, arc: u32, amount: f64) {
        let e = (arc >> 1) as usize;
        if arc & 1 == 0 {
            self.flow[e] += amount;
        } else {
            self.flow[e] -= amount;
        }
    }

    fn out_arcs(&self, u: u32) -> std::ops::Range<usize> {
        self.adjacency_start[u as usize]..self.adjacency_start[u as usize + 1]
    }

    /// Layers the residual graph by distance from the sources into `level`. Returns the distance
    /// of the nearest sinks; nothing at or beyond it is expanded, so every layered path ends in
    /// a sink at that distance. `None` when no sink is reachable.
    fn layer(&self, role: &[u8], level: &mut [u32], queue: &mut Vec<u32>) -> Option<u32> {
        level.fill(NO_LEVEL);
        queue.clear();
        for (u, &r) in role.iter().enumerate() {
            if r == SOURCE {
                level[u] = 0;
                queue.push(u as u32);
            }
        }
        let mut sink_level = None;
        let mut next = 0;
        while next < queue.len() {
            let u = queue[next];
            next += 1;
            if sink_level.is_some_and(|d| level[u as usize] >= d) {
                continue;
            }
            for i in self.out_arcs(u) {
                let arc = self.arcs[i];
                let v = self.head(arc);
                if level[v as usize] == NO_LEVEL && self.open(arc) {
                    level[v as usize] = level[u as usize] + 1;
                    if role[v as usize] == SINK {
                        sink_level.get_or_insert(level[v as usize]);
                    } else {
                        queue.push(v);
                    }
                }
            }
        }
        sink_level
    }

    /// Saturates every layered path from the sources to the sinks; returns the flow added.
    fn blocking_flow(&mut self, role: &[u8], level: &mut [u32], current: &mut [usize]) -> f64 {
        current.copy_from_slice(&self.adjacency_start[..current.len()]);
        let mut added = 0.0;
        let mut path: Vec<u32> = Vec::new();
        for s in 0..role.len() as u32 {
            if role[s as usize] != SOURCE {
                continue;
            }
            let mut u = s;
            path.clear();
            while level[s as usize] != NO_LEVEL {
                if role[u as usize] == SINK {
                    let amount = path
                        .iter()
                        .map(|&arc| self.residual(arc))
                        .fold(f64::INFINITY, f64::min);
                    for &arc in &path {
                        self.push(arc, amount);
                    }
                    added += amount;
                    // Restart from the source: the current-arc pointers skip the saturated arcs.
                    path.clear();
                    u = s;
                    continue;
                }
                let end = self.adjacency_start[u as usize + 1];
                let mut advanced = false;
                while current[u as usize] < end {
                    let arc = self.arcs[current[u as usize]];
                    let v = self.head(arc);
                    if level[v as usize] == level[u as usize].wrapping_add(1) && self.open(arc) {
                        path.push(arc);
                        u = v;
                        advanced = true;
                        break;
                    }
                    current[u as usize] += 1;
                }
                if !advanced {
                    // A dead end for the rest of this phase.
                    level[u as usize] = NO_LEVEL;
                    if let Some(arc) = path.pop() {
                        u = self.tail(arc);
                        current[u as usize] += 1;
                    }
                }
            }
        }
        added
    }
}

impl FlowNetwork {
    /// A network of `nodes` nodes (numbered 0..nodes), no edges, no terminals.
    pub fn new(nodes: usize) -> Self {
        Self {
            nodes,
            edges: Vec::new(),
            role: vec![FREE; nodes],
        }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The edges, in the order they were added (their index is their id).
    pub fn edges(&self) -> &[FlowEdge] {
        &self.edges
    }

    /// Adds an undirected edge of `capacity` between `a` and `b`; returns its id.
    pub fn add_edge(&mut self, a: u32, b: u32, capacity: f64) -> usize {
        self.edges.push(FlowEdge { a, b, capacity });
        self.edges.len() - 1
    }

    /// Makes `node` a source or a sink. Making one node both makes `max_flow` refuse the network.
    ///
    /// # Panics
    /// If `node` is out of range.
    pub fn set_terminal(&mut self, node: u32, terminal: Terminal) {
        self.role[node as usize] |= match terminal {
            Terminal::Source => SOURCE,
            Terminal::Sink => SINK,
        };
    }

    /// The terminal set `node` belongs to, if any (`None` also for a node set as both).
    pub fn terminal(&self, node: u32) -> Option<Terminal> {
        match self.role.get(node as usize) {
            Some(&SOURCE) => Some(Terminal::Source),
            Some(&SINK) => Some(Terminal::Sink),
            _ => None,
        }
    }

    /// Bytes `max_flow` needs beyond the network itself: per node the level, current arc,
    /// adjacency start, queue entry and cut side; per edge two arcs and its flow.
    pub fn max_flow_bytes(nodes: u64, edges: u64) -> u64 {
        nodes * (4 + 8 + 8 + 4 + 1 + 8) + edges * (2 * 4 + 8)
    }

    fn validate(&self) -> Result<(), MaxFlowError> {
        let invalid = |m: String| Err(MaxFlowError::InvalidNetwork(m));
        if self.nodes >= NO_LEVEL as usize {
            return invalid(format!("{} nodes do not fit a u32 index", self.nodes));
        }
        if self.edges.len() >= (1 << 31) {
            return invalid(format!(
                "{} edges do not fit the u32 arc index",
                self.edges.len()
            ));
        }
        for (i, e) in self.edges.iter().enumerate() {
            if e.a as usize >= self.nodes || e.b as usize >= self.nodes {
                return invalid(format!(
                    "edge {i} joins nodes {} and {}, but there are {} nodes",
                    e.a, e.b, self.nodes
                ));
            }
            if !(e.capacity >= 0.0 && e.capacity.is_finite()) {
                return invalid(format!(
                    "edge {i} has capacity {}; capacities must be finite and ≥ 0",
                    e.capacity
                ));
            }
        }
        if let Some(node) = self.role.iter().position(|&r| r == BOTH) {
            return invalid(format!("node {node} is both a source and a sink"));
        }
        Ok(())
    }

    /// The maximum flow from the sources to the sinks and a minimum cut (Dinic's algorithm).
    /// Without a source, a sink or a path between them the flow is 0 and the cut empty.
    pub fn max_flow(&self) -> Result<MaxFlow, MaxFlowError> {
        self.validate()?;
        if let Some(available_bytes) = crate::available_memory() {
            let needed_bytes = Self::max_flow_bytes(self.nodes as u64, self.edges.len() as u64);
            if needed_bytes > available_bytes {
                return Err(MaxFlowError::OutOfMemory {
                    needed_bytes,
                    available_bytes,
                });
            }
        }
        let largest = self.edges.iter().map(|e| e.capacity).fold(0.0, f64::max);
        let mut residual = Residual::new(self.nodes, &self.edges, RELATIVE_EPSILON * largest);
        let mut level = vec![NO_LEVEL; self.nodes];
        let mut current = vec![0usize; self.nodes];
        let mut queue = Vec::new();
        let mut phases = 0;
        while residual.layer(&self.role, &mut level, &mut queue).is_some() {
            phases += 1;
            residual.blocking_flow(&self.role, &mut level, &mut current);
        }
        drop(current);
        drop(level);

        // The source side of the cut: what the sources reach through open arcs.
        let mut source_side = vec![false; self.nodes];
        queue.clear();
        for (u, &r) in self.role.iter().enumerate() {
            if r == SOURCE {
                source_side[u] = true;
                queue.push(u as u32);
            }
        }
        while let Some(u) = queue.pop() {
            for i in residual.out_arcs(u) {
                let arc = residual.arcs[i];
                let v = residual.head(arc) as usize;
                if !source_side[v] && residual.open(arc) {
                    source_side[v] = true;
                    queue.push(v as u32);
                }
            }
        }
        let (mut value, mut sink_value) = (0.0, 0.0);
        for (e, &f) in self.edges.iter().zip(&residual.flow) {
            let (ra, rb) = (self.role[e.a as usize], self.role[e.b as usize]);
            if (ra == SOURCE) != (rb == SOURCE) {
                value += if ra == SOURCE { f } else { -f };
            }
            if (ra == SINK) != (rb == SINK) {
                sink_value += if rb == SINK { f } else { -f };
            }
        }
        let cut: Vec<usize> = self
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.capacity > 0.0 && source_side[e.a as usize] != source_side[e.b as usize]
            })
            .map(|(i, _)| i)
            .collect();
        let cut_capacity = cut.iter().map(|&i| self.edges[i].capacity).sum();
        Ok(MaxFlow {
            value,
            sink_value,
            edge_flow: residual.flow,
            cut,
            cut_capacity,
            source_side,
            phases,
        })
    }
}

/// The critical current of a lattice along one axis.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalCurrent {
    /// 0, 1 or 2 for x, y, z.
    pub axis: usize,
    /// Maximum supercurrent between the bus bars, amperes; 0 when no superconducting path joins
    /// the two faces.
    pub critical_current_a: f64,
    /// The bonds of a minimum cut, as (site, k): forward bond k of `site`, for export. Their
    /// capacities sum to `critical_current_a`.
    pub cut_bonds: Vec<(u64, usize)>,
    /// Superconducting bonds in the flow network (those not crossing the axis's periodic
    /// boundary).
    pub sc_bonds: usize,
    /// Dinic phases it took.
    pub phases: usize,
}

/// One superconducting bond of the lattice flow network.
#[derive(Debug, Clone, Copy, Default)]
struct ScBond {
    site: u32,
    neighbour: u32,
    k: u8,
    capacity: f64,
}

/// The critical current of the sample along `axis` (MODEL.md §8): the maximum flow through the
/// superconducting bonds, each of capacity J0·(−Δ/Δ0), between bus bars on the two faces (cell
/// coordinate 0 and n − 1 along the axis). `j0_amp` is the material's `overlap.j0_amp`.
///
/// Superconducting bonds that cross a periodic boundary along the axis are left out (the
/// electrodes cut the sample there), as in `kirchhoff::axis_resistance`. A bond whose rounding
/// gives Δ > 0 although the d² comparison made it superconducting gets capacity 0: it sits at
/// the gap-closing distance, where −Δ/Δ0 is 0. The Bernoulli modes have no superconducting bonds.
pub fn critical_current(
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    axis: usize,
    j0_amp: f64,
) -> Result<CriticalCurrent, MaxFlowError> {
    check_axis(lattice, axis).map_err(|reason| MaxFlowError::InvalidAxis { axis, reason })?;
    let sites = lattice.sites();
    if masks.len() as u64 != sites {
        return Err(MaxFlowError::InvalidNetwork(format!(
            "{} bond masks for a lattice of {sites} sites",
            masks.len()
        )));
    }
    if !(j0_amp >= 0.0 && j0_amp.is_finite()) {
        return Err(MaxFlowError::InvalidNetwork(format!(
            "J0 = {j0_amp} A must be finite and ≥ 0"
        )));
    }
    let empty = CriticalCurrent {
        axis,
        critical_current_a: 0.0,
        cut_bonds: Vec::new(),
        sc_bonds: 0,
        phases: 0,
    };
    if params.mode.is_bernoulli() {
        return Ok(empty);
    }
    if let Some(available_bytes) = crate::available_memory() {
        let sc_bonds: u64 = masks
            .iter()
            .map(|&m| (m & ALL_SC_BITS).count_ones() as u64)
            .sum();
        // The site map, the bond list and the flow network with its solve, every site a node.
        let needed_bytes =
            sites * (4 + 1) + sc_bonds * (24 + 16) + FlowNetwork::max_flow_bytes(sites, sc_bonds);
        if needed_bytes > available_bytes {
            return Err(MaxFlowError::OutOfMemory {
                needed_bytes,
                available_bytes,
            });
        }
    }
    let bonds: Vec<ScBond> = collect_axis_bonds(
        lattice,
        masks,
        axis,
        ALL_SC_BITS,
        |_, _, _| true,
        |site, cell, b, k, nb| ScBond {
            site: site as u32,
            neighbour: nb as u32,
            k: k as u8,
            capacity: j0_amp * (-bond_gap_ratio(lattice, params, site, cell, b, k, nb)).max(0.0),
        },
    );
    if bonds.is_empty() {
        return Ok(empty);
    }

    // Only sites with a superconducting bond become nodes, numbered as first met.
    let mut node_of_site = vec![u32::MAX; sites as usize];
    let mut nodes = 0u32;
    let mut node = |site: u32, map: &mut Vec<u32>| {
        let slot = &mut map[site as usize];
        if *slot == u32::MAX {
            *slot = nodes;
            nodes += 1;
        }
        *slot
    };
    let mut edges = Vec::with_capacity(bonds.len());
    for bond in &bonds {
        let a = node(bond.site, &mut node_of_site);
        let b = node(bond.neighbour, &mut node_of_site);
        edges.push(FlowEdge {
            a,
            b,
            capacity: bond.capacity,
        });
    }
    let mut network = FlowNetwork {
        nodes: nodes as usize,
        edges,
        role: vec![FREE; nodes as usize],
    };
    let n = lattice.cells[axis];
    for (c, terminal) in [(0, Terminal::Source), (n - 1, Terminal::Sink)] {
        for site in face_sites(lattice, axis, c) {
            let v = node_of_site[site as usize];
            if v != u32::MAX && masks[site as usize] & PRESENT_BIT != 0 {
                network.set_terminal(v, terminal);
            }
        }
    }
    drop(node_of_site);
    let flow = network.max_flow()?;
    Ok(CriticalCurrent {
        axis,
        critical_current_a: flow.value,
        cut_bonds: flow
            .cut
            .iter()
            .map(|&e| (bonds[e].site as u64, bonds[e].k as usize))
            .collect(),
        sc_bonds: bonds.len(),
        phases: flow.phases,
    })
}

/// `critical_current` along every axis of the lattice (x, y, z; x, y in 2D).
pub fn critical_currents(
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    j0_amp: f64,
) -> Result<Vec<CriticalCurrent>, MaxFlowError> {
    (0..lattice.axes())
        .map(|axis| critical_current(lattice, params, masks, axis, j0_amp))
        .collect()
}
