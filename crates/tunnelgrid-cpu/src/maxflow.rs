//! Critical current (MODEL.md §8): the maximum supercurrent between the bus bars of an axis.
//!
//! Each superconducting bond carries at most I_c = J0·(−Δ/Δ0); the sample's critical current is
//! the maximum flow through the superconducting network from one face to the other, which by
//! max-flow = min-cut is also the capacity of its weakest cross-section. Two layers:
//! - [`FlowNetwork`]: a generic graph of undirected capacities with source and sink node sets,
//!   solved by push–relabel ([`FlowNetwork::max_flow`]), which also returns a minimum cut;
//! - [`critical_current`]: builds that graph from a lattice's bond masks for one axis.
//!
//! The algorithm is push–relabel (Goldberg–Tarjan) in two phases, highest label first, with the
//! gap heuristic and global relabelling (a breadth-first search that resets every label to the
//! exact residual distance to the targets, run whenever the relabelling work since the last one
//! exceeds 6·nodes + arcs), as in Cherkassky and Goldberg's HIPR. Phase 1 pushes a preflow from
//! the sources towards the sinks; its value is the maximum flow. Phase 2 runs the same machinery
//! towards the sources to return the excess that could not reach a sink, which turns the preflow
//! into a flow, conserved at every free node. Dinic's algorithm was the first choice, but it
//! needs one breadth-first phase per distinct augmenting-path length, and a random
//! superconducting network has over a thousand: on a 96³ default-material sample at 150 GPa,
//! 10 K (2 million superconducting bonds) it took 266 s against 13 s for this (FIFO
//! push–relabel without gaps: 21 s), on two cores.
//!
//! Capacities are f64. A residual capacity or excess at most `RELATIVE_EPSILON` times the largest
//! capacity counts as zero. A saturating push sets a residual to exactly 0 and a non-saturating
//! one an excess to exactly 0, so rounding never keeps a node active forever; what the tolerance
//! leaves behind is a conservation error of at most that much per node.

use crate::kirchhoff::{bond_gap_ratio, check_axis, collect_axis_bonds, face_sites};
use std::collections::VecDeque;
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

/// The residual graph during push–relabel, arcs grouped by tail (CSR). Each useful edge (two
/// different ends, positive capacity) becomes two arcs, each the other's reverse, both with
/// residual capacity c at the start: flow f from a to b leaves c − f on a → b and c + f on
/// b → a.
///
/// Free nodes with a label below `nodes` sit in a doubly linked *layer* per label, which finds
/// gaps: when a relabel empties a layer, no node above it can reach the targets any more (every
/// residual path down to them would have to cross the empty label), so they all jump to
/// `nodes` at once instead of climbing there one relabel at a time. Active nodes (excess left)
/// also sit on a singly linked stack per label, and the highest one is discharged first.
struct PushRelabel<'a> {
    role: &'a [u8],
    /// Arcs leaving node u are `start[u]..start[u + 1]`.
    start: Vec<usize>,
    head: Vec<u32>,
    residual: Vec<f64>,
    reverse: Vec<u32>,
    /// Arc a → b of every edge, or `NONE` for an edge that carries nothing.
    arc_of_edge: Vec<u32>,
    /// Distance label: a lower bound on the residual distance to the current targets; `nodes`
    /// means the targets are out of reach.
    label: Vec<u32>,
    excess: Vec<f64>,
    /// Next arc to try when discharging each node.
    current: Vec<usize>,
    /// First node of each label's layer, and each node's neighbours in its layer.
    layer: Vec<u32>,
    layer_next: Vec<u32>,
    layer_prev: Vec<u32>,
    /// No layer above this one holds a node.
    top_layer: u32,
    /// Top of each label's stack of active nodes, each node's successor, whether it is stacked.
    active: Vec<u32>,
    active_next: Vec<u32>,
    stacked: Vec<bool>,
    /// No stack above this one holds a node.
    top_active: u32,
    epsilon: f64,
    /// Relabelling work since the last global relabel.
    work: usize,
}

/// Ends a linked list, or marks an edge without arcs.
const NONE: u32 = u32::MAX;

impl<'a> PushRelabel<'a> {
    fn new(network: &'a FlowNetwork, epsilon: f64) -> Self {
        let nodes = network.nodes;
        let useful = |e: &FlowEdge| e.a != e.b && e.capacity > 0.0;
        let mut start = vec![0usize; nodes + 1];
        for e in network.edges.iter().filter(|e| useful(e)) {
            start[e.a as usize + 1] += 1;
            start[e.b as usize + 1] += 1;
        }
        for u in 0..nodes {
            start[u + 1] += start[u];
        }
        let arcs = start[nodes];
        let mut fill = start.clone();
        let mut head = vec![0u32; arcs];
        let mut residual = vec![0.0; arcs];
        let mut reverse = vec![0u32; arcs];
        let mut arc_of_edge = vec![NONE; network.edges.len()];
        for (i, e) in network.edges.iter().enumerate() {
            if !useful(e) {
                continue;
            }
            let (p, q) = (fill[e.a as usize], fill[e.b as usize]);
            fill[e.a as usize] += 1;
            fill[e.b as usize] += 1;
            head[p] = e.b;
            head[q] = e.a;
            residual[p] = e.capacity;
            residual[q] = e.capacity;
            reverse[p] = q as u32;
            reverse[q] = p as u32;
            arc_of_edge[i] = p as u32;
        }
        drop(fill);
        Self {
            role: &network.role,
            current: start[..nodes].to_vec(),
            start,
            head,
            residual,
            reverse,
            arc_of_edge,
            label: vec![0; nodes],
            excess: vec![0.0; nodes],
            layer: vec![NONE; nodes],
            layer_next: vec![NONE; nodes],
            layer_prev: vec![NONE; nodes],
            top_layer: 0,
            active: vec![NONE; nodes],
            active_next: vec![NONE; nodes],
            stacked: vec![false; nodes],
            top_active: 0,
            epsilon,
            work: 0,
        }
    }

    fn nodes(&self) -> u32 {
        self.label.len() as u32
    }

    fn layer_insert(&mut self, v: u32) {
        let d = self.label[v as usize] as usize;
        let first = self.layer[d];
        self.layer_next[v as usize] = first;
        self.layer_prev[v as usize] = NONE;
        if first != NONE {
            self.layer_prev[first as usize] = v;
        }
        self.layer[d] = v;
        self.top_layer = self.top_layer.max(d as u32);
    }

    fn layer_remove(&mut self, v: u32) {
        let d = self.label[v as usize] as usize;
        let (prev, next) = (self.layer_prev[v as usize], self.layer_next[v as usize]);
        if prev == NONE {
            self.layer[d] = next;
        } else {
            self.layer_next[prev as usize] = next;
        }
        if next != NONE {
            self.layer_prev[next as usize] = prev;
        }
    }

    /// Stacks a free node with excess and a label below `nodes` for discharging.
    fn activate(&mut self, v: u32) {
        let d = self.label[v as usize];
        if self.role[v as usize] == FREE
            && !self.stacked[v as usize]
            && d < self.nodes()
            && self.excess[v as usize] > self.epsilon
        {
            self.stacked[v as usize] = true;
            self.active_next[v as usize] = self.active[d as usize];
            self.active[d as usize] = v;
            self.top_active = self.top_active.max(d);
        }
    }

    /// Sets every label to the exact residual distance to the `target` nodes (`nodes` where
    /// they are out of reach) and rebuilds the layers and stacks. The other terminal set is
    /// never labelled, so nothing is ever pushed into it.
    fn global_relabel(&mut self, target: u8) {
        let n = self.nodes();
        self.label.fill(n);
        self.layer.fill(NONE);
        self.active.fill(NONE);
        self.stacked.fill(false);
        self.top_layer = 0;
        self.top_active = 0;
        let mut frontier: VecDeque<u32> = VecDeque::new();
        for (u, &r) in self.role.iter().enumerate() {
            if r == target {
                self.label[u] = 0;
                frontier.push_back(u as u32);
            }
        }
        while let Some(v) = frontier.pop_front() {
            let next = self.label[v as usize] + 1;
            for a in self.start[v as usize]..self.start[v as usize + 1] {
                // v → w here; w reaches v if its arc w → v (the reverse) is open.
                let w = self.head[a];
                if self.label[w as usize] == n
                    && self.role[w as usize] == FREE
                    && self.residual[self.reverse[a] as usize] > self.epsilon
                {
                    self.label[w as usize] = next;
                    self.layer_insert(w);
                    self.activate(w);
                    frontier.push_back(w);
                }
            }
        }
        self.current
            .copy_from_slice(&self.start[..self.label.len()]);
        self.work = 0;
    }

    /// Moves `amount` along arc `a` out of `u`, activating its head.
    fn push(&mut self, u: u32, a: usize, amount: f64) {
        let v = self.head[a];
        self.residual[a] -= amount;
        self.residual[self.reverse[a] as usize] += amount;
        self.excess[u as usize] -= amount;
        self.excess[v as usize] += amount;
        self.activate(v);
    }

    /// Raises `u` (which has no admissible arc left) to one above its lowest open neighbour, or
    /// with every node above it to `nodes` when it was the last of its layer (a gap).
    fn relabel(&mut self, u: u32) {
        let n = self.nodes();
        let (begin, end) = (self.start[u as usize], self.start[u as usize + 1]);
        self.work += end - begin + 12;
        let old = self.label[u as usize];
        self.layer_remove(u);
        if self.layer[old as usize] == NONE {
            for d in old + 1..=self.top_layer.max(old) {
                let mut v = std::mem::replace(&mut self.layer[d as usize], NONE);
                while v != NONE {
                    self.label[v as usize] = n;
                    v = self.layer_next[v as usize];
                }
            }
            self.top_layer = old.saturating_sub(1);
            self.label[u as usize] = n;
            return;
        }
        let lowest = (begin..end)
            .filter(|&a| self.residual[a] > self.epsilon)
            .map(|a| self.label[self.head[a] as usize])
            .min()
            .unwrap_or(n);
        self.label[u as usize] = lowest.saturating_add(1).min(n);
        self.current[u as usize] = begin;
        if self.label[u as usize] < n {
            self.layer_insert(u);
        }
    }

    /// Pushes `u`'s excess along admissible arcs (open, one label down), relabelling it when
    /// none is left, until the excess is gone or the targets are out of its reach.
    fn discharge(&mut self, u: u32) {
        let n = self.nodes();
        let end = self.start[u as usize + 1];
        while self.excess[u as usize] > self.epsilon && self.label[u as usize] < n {
            let a = self.current[u as usize];
            if a == end {
                self.relabel(u);
                continue;
            }
            let v = self.head[a] as usize;
            if self.residual[a] > self.epsilon && self.label[u as usize] == self.label[v] + 1 {
                let amount = self.excess[u as usize].min(self.residual[a]);
                self.push(u, a, amount);
                if self.residual[a] <= self.epsilon {
                    self.current[u as usize] += 1;
                }
            } else {
                self.current[u as usize] += 1;
            }
        }
    }

    /// Discharges the active node of highest label until none is left, towards `target`.
    fn run(&mut self, target: u8) {
        if self.label.is_empty() {
            return;
        }
        let global_every = 6 * self.label.len() + self.head.len();
        self.global_relabel(target);
        loop {
            while self.active[self.top_active as usize] == NONE && self.top_active > 0 {
                self.top_active -= 1;
            }
            let u = self.active[self.top_active as usize];
            if u == NONE {
                return;
            }
            self.active[self.top_active as usize] = self.active_next[u as usize];
            self.stacked[u as usize] = false;
            // A gap may have lifted a stacked node out of reach since it was stacked.
            if self.label[u as usize] == self.top_active {
                self.discharge(u);
            }
            if self.work > global_every {
                self.global_relabel(target);
            }
        }
    }

    /// Phase 1: saturate every arc out of the sources, then push towards the sinks.
    fn preflow(&mut self) {
        for s in 0..self.nodes() {
            if self.role[s as usize] != SOURCE {
                continue;
            }
            for a in self.start[s as usize]..self.start[s as usize + 1] {
                let v = self.head[a] as usize;
                if self.role[v] != SOURCE {
                    // `run` stacks the nodes this makes active.
                    let amount = self.residual[a];
                    self.residual[a] = 0.0;
                    self.residual[self.reverse[a] as usize] += amount;
                    self.excess[s as usize] -= amount;
                    self.excess[v] += amount;
                }
            }
        }
        self.run(SINK);
    }

    /// Signed flow of every edge, positive from `a` to `b`.
    fn edge_flow(&self, edges: &[FlowEdge]) -> Vec<f64> {
        edges
            .iter()
            .zip(&self.arc_of_edge)
            .map(|(e, &a)| {
                if a == NONE {
                    0.0
                } else {
                    e.capacity - self.residual[a as usize]
                }
            })
            .collect()
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

    /// Bytes `max_flow` needs beyond the network itself: per node the arc start, label,
    /// excess, current arc, list links and flags; per edge two arcs (head, residual, reverse),
    /// its arc index and its flow.
    pub fn max_flow_bytes(nodes: u64, edges: u64) -> u64 {
        nodes * (8 + 4 + 8 + 8 + 5 * 4 + 2) + edges * (2 * 16 + 4 + 8)
    }

    fn validate(&self) -> Result<(), MaxFlowError> {
        let invalid = |m: String| Err(MaxFlowError::InvalidNetwork(m));
        if self.nodes >= u32::MAX as usize {
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

    /// The maximum flow from the sources to the sinks and a minimum cut (push–relabel).
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
        let mut graph = PushRelabel::new(self, RELATIVE_EPSILON * largest);
        graph.preflow();
        graph.run(SOURCE);

        // The source side of the cut: what the sources reach through open arcs.
        let mut source_side = vec![false; self.nodes];
        let mut stack = Vec::new();
        for (u, &r) in self.role.iter().enumerate() {
            if r == SOURCE {
                source_side[u] = true;
                stack.push(u);
            }
        }
        while let Some(u) = stack.pop() {
            for a in graph.start[u]..graph.start[u + 1] {
                let v = graph.head[a] as usize;
                if !source_side[v] && graph.residual[a] > graph.epsilon {
                    source_side[v] = true;
                    stack.push(v);
                }
            }
        }
        let edge_flow = graph.edge_flow(&self.edges);
        drop(graph);
        let (mut value, mut sink_value) = (0.0, 0.0);
        for (e, &f) in self.edges.iter().zip(&edge_flow) {
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
            edge_flow,
            cut,
            cut_capacity,
            source_side,
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
