//! A generic resistor network between two electrodes, and its solution.
//!
//! Solving runs in four steps:
//! 1. *prune*: a union-find over the resistors, with every node of an electrode joined to the
//!    others of that electrode (a bus bar), keeps only the component holding both electrodes.
//!    Everything else carries no current and would make the Laplacian singular (a floating
//!    island has no fixed potential), so it must never reach CG. Dead ends hanging off the kept
//!    component stay: they are harmless (each is tied to a fixed potential through the
//!    component) and cutting them would cost a biconnected-component pass;
//! 2. *assemble*: the Laplacian of the kept free nodes in CSR, the electrode potentials moved to
//!    the right-hand side;
//! 3. *solve*: CG preconditioned by multigrid (`amg/`) or Jacobi (`cg.rs`);
//! 4. *currents*: the current leaving the electrode at 1 and the one entering the electrode at 0,
//!    from the currents of the bonds that touch them, checked against each other; the reported
//!    current is the source's corrected to second order in the residual (see `Solution`).

use super::amg::Amg;
use super::cg::{self, Laplacian};
use super::{KirchhoffError, SolveOptions, Solver};
use crate::arrays::parallel_vec;

/// Which electrode a node is tied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Electrode {
    /// The electrode at potential 1 (current leaves it into the network).
    Source,
    /// The electrode at potential 0 (current enters it from the network).
    Sink,
}

/// A resistor between nodes `a` and `b`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Resistor {
    /// One end.
    pub a: u32,
    /// The other end.
    pub b: u32,
    /// Conductance 1/r, siemens; finite and ≥ 0 (0 is an open bond and is ignored).
    pub conductance_s: f64,
}

const FREE: u8 = 0;
const SOURCE: u8 = 1;
const SINK: u8 = 2;
/// A node set on both electrodes: they would be shorted, which a caller must resolve itself.
const BOTH: u8 = SOURCE | SINK;

/// Index-map sentinels after pruning: the node was dropped, or is fixed at potential 1 or 0.
pub(crate) const PRUNED: u32 = u32::MAX;
pub(crate) const FIXED_SOURCE: u32 = u32::MAX - 1;
pub(crate) const FIXED_SINK: u32 = u32::MAX - 2;
/// Most nodes a network may have: the u32 index map numbers free nodes below its sentinels.
pub const MAX_NODES: usize = (u32::MAX - 2) as usize;

/// Nodes joined by resistors, with two sets of electrode nodes at potentials 1 and 0.
#[derive(Debug, Clone, Default)]
pub struct ResistorNetwork {
    nodes: usize,
    resistors: Vec<Resistor>,
    role: Vec<u8>,
}

/// The reduced Laplacian system of a network (see [`ResistorNetwork::linear_system`]), in the
/// CSR layout of scipy (`indptr`, `indices`, `data`); a pair of nodes joined by several
/// resistors has one entry per resistor.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearSystem {
    /// Row i's entries are `row_start[i]..row_start[i + 1]`.
    pub row_start: Vec<u64>,
    /// Column of each entry.
    pub columns: Vec<u32>,
    /// A_ij of each entry, siemens.
    pub values: Vec<f64>,
    /// Right-hand side: the conductance from each free node to the electrode at 1 V.
    pub rhs: Vec<f64>,
    /// Conductance of the resistors joining the electrodes directly, siemens.
    pub direct_conductance_s: f64,
}

/// The solved network.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Current between the electrodes at 1 V, amperes (= conductance in siemens); 0 when nothing
    /// connects them. It is the current through the source electrode's bonds minus its
    /// first-order error x·r (x the free potentials, r = b − A·x the final residual), which
    /// makes it accurate to second order in the residual: it equals the power the network
    /// dissipates at 1 V. The raw electrode currents are `source_current_a` and
    /// `sink_current_a`.
    pub current_a: f64,
    /// Current leaving the source electrode through its bonds, amperes.
    pub source_current_a: f64,
    /// Current entering the sink electrode through its bonds, amperes; checked to differ from
    /// `source_current_a` by no more than the final residual explains (Kirchhoff's current law).
    pub sink_current_a: f64,
    /// R = 1/I, ohm; +∞ when the electrodes are not connected.
    pub resistance_ohm: f64,
    /// CG iterations (0 when there was nothing to iterate).
    pub iterations: usize,
    /// Final relative residual ‖b − A·x‖/‖b‖ (0 when there was nothing to iterate).
    pub relative_residual: f64,
    /// Seconds spent building the preconditioner before the first iteration (the multigrid
    /// hierarchy; 0 for Jacobi).
    pub setup_s: f64,
    /// Unknown potentials CG solved for (free nodes connected to both electrodes).
    pub free_nodes: usize,
    /// Nodes kept by pruning, electrode nodes included.
    pub connected_nodes: usize,
    /// |current| through every node, amperes, when asked for: for a free node half the sum of
    /// |bond current| over its bonds (what flows in flows out); for an electrode node the sum of
    /// |bond current|, which is the current it exchanges with its bus bar (all its bond currents
    /// flow the same way, its potential being the extreme). 0 for pruned nodes.
    pub node_current_a: Option<Vec<f64>>,
}

impl Solution {
    /// The solution of a network whose electrodes are not connected.
    fn insulating(nodes: usize, options: &SolveOptions) -> Self {
        Self {
            current_a: 0.0,
            source_current_a: 0.0,
            sink_current_a: 0.0,
            resistance_ohm: f64::INFINITY,
            iterations: 0,
            relative_residual: 0.0,
            setup_s: 0.0,
            free_nodes: 0,
            connected_nodes: 0,
            node_current_a: options.node_currents.then(|| vec![0.0; nodes]),
        }
    }
}

impl ResistorNetwork {
    /// A network of `nodes` nodes (numbered 0..nodes), no resistors, no electrodes.
    pub fn new(nodes: usize) -> Self {
        Self {
            nodes,
            resistors: Vec::new(),
            role: vec![FREE; nodes],
        }
    }

    /// A network of `nodes` nodes with the given resistors and no electrodes.
    pub fn from_resistors(nodes: usize, resistors: Vec<Resistor>) -> Self {
        Self {
            nodes,
            resistors,
            role: vec![FREE; nodes],
        }
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The resistors, in the order they were added.
    pub fn resistors(&self) -> &[Resistor] {
        &self.resistors
    }

    /// Adds a resistor of conductance `conductance_s` (siemens) between `a` and `b`.
    pub fn add_conductance(&mut self, a: u32, b: u32, conductance_s: f64) {
        self.resistors.push(Resistor {
            a,
            b,
            conductance_s,
        });
    }

    /// Adds many resistors at once (moved in without a copy when the network has none yet).
    pub fn add_resistors(&mut self, resistors: Vec<Resistor>) {
        if self.resistors.is_empty() {
            self.resistors = resistors;
        } else {
            self.resistors.extend(resistors);
        }
    }

    /// Adds a resistor of `resistance_ohm` between `a` and `b` (+∞ is an open bond; 0 is refused
    /// by `solve`: contract zero-resistance bonds into one node instead).
    pub fn add_resistor(&mut self, a: u32, b: u32, resistance_ohm: f64) {
        self.add_conductance(a, b, 1.0 / resistance_ohm);
    }

    /// Ties `node` to an electrode. Tying one node to both makes `solve` refuse the network.
    ///
    /// # Panics
    /// If `node` is out of range.
    pub fn set_electrode(&mut self, node: u32, electrode: Electrode) {
        self.role[node as usize] |= match electrode {
            Electrode::Source => SOURCE,
            Electrode::Sink => SINK,
        };
    }

    /// The electrode `node` is tied to, if any (`None` also for a node tied to both).
    pub fn electrode(&self, node: u32) -> Option<Electrode> {
        match self.role.get(node as usize) {
            Some(&SOURCE) => Some(Electrode::Source),
            Some(&SINK) => Some(Electrode::Sink),
            _ => None,
        }
    }

    /// Bytes `solve` needs beyond the network itself, at most (every node free and kept): the
    /// union-find/index map (4 B per node), the CSR Laplacian (8 B per row start and per
    /// diagonal, 24 B per resistor), six f64 vectors per free node (x, b, r, p, q, D⁻¹) and the
    /// optional node currents; with multigrid also its hierarchy (prolongator and restriction,
    /// ≈ one entry per node and two per resistor each; coarse matrices, about 60 B per fine
    /// node in all; three more vectors per node).
    pub fn solve_bytes(nodes: u64, resistors: u64, node_currents: bool, solver: Solver) -> u64 {
        let per_node = 4 + 8 + 8 + 6 * 8 + if node_currents { 8 } else { 0 };
        let hierarchy = match solver {
            Solver::Amg => nodes * (2 * 12 + 60 + 3 * 8) + resistors * 2 * 2 * 12,
            Solver::Jacobi => 0,
        };
        nodes * per_node + resistors * 24 + hierarchy
    }

    pub(crate) fn validate(&self, options: &SolveOptions) -> Result<(), KirchhoffError> {
        let invalid = |m: String| Err(KirchhoffError::InvalidNetwork(m));
        if !(options.tolerance > 0.0 && options.tolerance < 1.0) {
            return invalid(format!("tolerance {} is not in (0, 1)", options.tolerance));
        }
        if self.nodes > MAX_NODES {
            return invalid(format!(
                "{} nodes do not fit the u32 node index (at most {MAX_NODES})",
                self.nodes
            ));
        }
        for (i, r) in self.resistors.iter().enumerate() {
            if r.a as usize >= self.nodes || r.b as usize >= self.nodes {
                return invalid(format!(
                    "resistor {i} joins nodes {} and {}, but there are {} nodes",
                    r.a, r.b, self.nodes
                ));
            }
            if !(r.conductance_s >= 0.0 && r.conductance_s.is_finite()) {
                return invalid(format!(
                    "resistor {i} has conductance {} S; conductances must be finite and ≥ 0 \
                     (contract zero resistances into one node)",
                    r.conductance_s
                ));
            }
        }
        if let Some(node) = self.role.iter().position(|&r| r == BOTH) {
            return invalid(format!(
                "node {node} is tied to both electrodes (a short circuit)"
            ));
        }
        Ok(())
    }

    /// Solves the network with every free potential starting at 0. `progress(iteration,
    /// relative residual)` is called after every CG iteration.
    pub fn solve(
        &self,
        options: &SolveOptions,
        progress: impl FnMut(usize, f64),
    ) -> Result<Solution, KirchhoffError> {
        self.solve_with_guess(options, |_| 0.0, progress)
    }

    /// Solves the network, starting CG from `guess(node)` for the free potentials (a good guess,
    /// such as a linear profile between the bus bars of a lattice, saves iterations; any guess
    /// gives the same answer). `progress(iteration, relative residual)` is called after every CG
    /// iteration, so long solves can report how far they are.
    pub fn solve_with_guess(
        &self,
        options: &SolveOptions,
        guess: impl Fn(u32) -> f64,
        mut progress: impl FnMut(usize, f64),
    ) -> Result<Solution, KirchhoffError> {
        self.validate(options)?;
        options.check_memory(Self::solve_bytes(
            self.nodes as u64,
            self.resistors.len() as u64,
            options.node_currents,
            options.solver,
        ))?;
        let Some((index, free)) = self.prune() else {
            return Ok(Solution::insulating(self.nodes, options));
        };
        let connected_nodes = index.iter().filter(|&&i| i != PRUNED).count();
        let (mut laplacian, rhs) = self.assemble(&index, free);
        let mut x = vec![0.0; free];
        for (node, &i) in index.iter().enumerate() {
            if (i as usize) < free {
                // The exact potentials lie in [0, 1] (maximum principle).
                x[i as usize] = guess(node as u32).clamp(0.0, 1.0);
            }
        }
        let max_iterations = options.max_iterations.unwrap_or(4 * free + 1000);
        let mut setup_s = 0.0;
        let converged = match options.solver {
            Solver::Jacobi => cg::solve(
                &laplacian,
                &rhs,
                &mut x,
                options.tolerance,
                max_iterations,
                &mut progress,
            )?,
            Solver::Amg => {
                let start = std::time::Instant::now();
                // Orders the rows of `laplacian` for the sweeps (the same matrix).
                let mut hierarchy = Amg::new(&mut laplacian);
                setup_s = start.elapsed().as_secs_f64();
                cg::solve_preconditioned(
                    &laplacian,
                    &rhs,
                    &mut x,
                    options.tolerance,
                    max_iterations,
                    &mut |r, z| hierarchy.precondition(&laplacian, r, z),
                    &mut progress,
                )?
            }
        };
        drop(laplacian);
        drop(rhs);

        let potential = |node: u32| match index[node as usize] {
            FIXED_SOURCE => 1.0,
            FIXED_SINK => 0.0,
            i => x[i as usize],
        };
        let (mut source, mut sink, mut magnitude, mut conductance) = (0.0, 0.0, 0.0, 0.0);
        for r in self.live_resistors() {
            let (ia, ib) = (index[r.a as usize], index[r.b as usize]);
            if ia == PRUNED {
                continue;
            }
            conductance += r.conductance_s;
            let current = r.conductance_s * (potential(r.a) - potential(r.b));
            let (a_source, b_source) = (ia == FIXED_SOURCE, ib == FIXED_SOURCE);
            let (a_sink, b_sink) = (ia == FIXED_SINK, ib == FIXED_SINK);
            if a_source != b_source {
                source += if a_source { current } else { -current };
                magnitude += current.abs();
            }
            if a_sink != b_sink {
                sink += if b_sink { current } else { -current };
                magnitude += current.abs();
            }
        }
        // Σ over free nodes of the residual (the net current into each) is exactly
        // I_source − I_sink, so |I_source − I_sink| ≤ √n·‖r‖. The slack on top covers rounding:
        // of the electrode sums (relative to their terms) and of the computed residual itself
        // (about ε per conductance). Anything beyond is a bookkeeping error, not a convergence
        // question.
        let allowed = 2.0 * (free as f64).sqrt() * converged.residual_norm
            + 1e-9 * magnitude
            + 1e-13 * conductance;
        if (source - sink).abs() > allowed {
            return Err(KirchhoffError::ElectrodeMismatch {
                source_a: source,
                sink_a: sink,
                allowed_a: allowed,
            });
        }

        let node_current_a = options.node_currents.then(|| {
            let mut through = vec![0.0; self.nodes];
            for r in self.live_resistors() {
                if index[r.a as usize] == PRUNED {
                    continue;
                }
                let current = (r.conductance_s * (potential(r.a) - potential(r.b))).abs();
                through[r.a as usize] += current;
                through[r.b as usize] += current;
            }
            for (t, &i) in through.iter_mut().zip(&index) {
                if (i as usize) < free {
                    *t *= 0.5;
                }
            }
            through
        });

        // The source current's error is −a·e with e = A⁻¹r the error of x; since the right-hand
        // side b is a, a·e = (A⁻¹a)·r = x*·r ≈ x·r, leaving an error of e·A·e, second order.
        let current = source - converged.x_dot_residual;
        Ok(Solution {
            current_a: current,
            source_current_a: source,
            sink_current_a: sink,
            resistance_ohm: if current > 0.0 {
                1.0 / current
            } else {
                f64::INFINITY
            },
            iterations: converged.iterations,
            relative_residual: converged.relative_residual,
            setup_s,
            free_nodes: free,
            connected_nodes,
            node_current_a,
        })
    }

    /// The linear system a solve works on: the reduced Laplacian of the free nodes kept by
    /// pruning, in CSR with its diagonal (A_ii = sum of the node's conductances, A_ij = −g), the
    /// right-hand side (the conductance from each free node to the electrode at 1 V) and the
    /// conductance joining the two electrodes directly. The current at 1 V of the solution x is
    /// `direct_conductance_s + Σ rhs − rhs·x`. `None` when the electrodes are not connected.
    pub fn linear_system(&self) -> Option<LinearSystem> {
        let (index, free) = self.prune()?;
        let (laplacian, rhs) = self.assemble(&index, free);
        let direct_conductance_s = self
            .live_resistors()
            .filter(|r| {
                let (a, b) = (index[r.a as usize], index[r.b as usize]);
                (a == FIXED_SOURCE && b == FIXED_SINK) || (a == FIXED_SINK && b == FIXED_SOURCE)
            })
            .map(|r| r.conductance_s)
            .sum();
        let mut row_start = Vec::with_capacity(free + 1);
        let mut columns = Vec::with_capacity(laplacian.columns.len() + free);
        let mut values = Vec::with_capacity(laplacian.columns.len() + free);
        row_start.push(0);
        for i in 0..free {
            columns.push(i as u32);
            values.push(laplacian.diagonal[i]);
            for k in laplacian.row_start[i]..laplacian.row_start[i + 1] {
                columns.push(laplacian.columns[k]);
                values.push(-laplacian.conductances[k]);
            }
            row_start.push(columns.len() as u64);
        }
        Some(LinearSystem {
            row_start,
            columns,
            values,
            rhs,
            direct_conductance_s,
        })
    }

    /// Resistors that connect two different nodes with a positive conductance.
    fn live_resistors(&self) -> impl Iterator<Item = &Resistor> {
        self.resistors
            .iter()
            .filter(|r| r.a != r.b && r.conductance_s > 0.0)
    }

    /// Keeps the component that holds both electrodes. Returns, per node, its free index
    /// (0..free), `FIXED_SOURCE`/`FIXED_SINK`, or `PRUNED`, and the number of free nodes; `None`
    /// when no such component exists (an electrode is empty or the two are not connected).
    pub(crate) fn prune(&self) -> Option<(Vec<u32>, usize)> {
        let first_source = self.role.iter().position(|&r| r == SOURCE)? as u32;
        let first_sink = self.role.iter().position(|&r| r == SINK)? as u32;
        let mut parent: Vec<u32> = (0..self.nodes as u32).collect();
        for r in self.live_resistors() {
            union(&mut parent, r.a, r.b);
        }
        // The bus bars: every node of an electrode is one conductor.
        for (node, &role) in self.role.iter().enumerate() {
            match role {
                SOURCE => union(&mut parent, first_source, node as u32),
                SINK => union(&mut parent, first_sink, node as u32),
                _ => {}
            }
        }
        let root = find(&mut parent, first_source);
        if find(&mut parent, first_sink) != root {
            return None;
        }
        // Resolve every root before numbering: `find` halves paths through other slots, so no
        // slot may hold an index while another node's root is still being looked up.
        for node in 0..self.nodes as u32 {
            let r = find(&mut parent, node);
            parent[node as usize] = r;
        }
        let mut free = 0u32;
        for (slot, &role) in parent.iter_mut().zip(&self.role) {
            *slot = if *slot != root {
                PRUNED
            } else {
                match role {
                    SOURCE => FIXED_SOURCE,
                    SINK => FIXED_SINK,
                    _ => {
                        free += 1;
                        free - 1
                    }
                }
            };
        }
        Some((parent, free as usize))
    }

    /// The CSR Laplacian of the free nodes and its right-hand side (the conductance from each
    /// free node to the electrode at potential 1).
    ///
    /// The passes over the resistors are serial (each row's entries in resistor order); the
    /// arrays are first written in parallel (`arrays::parallel_vec`), so that the page faults of
    /// a gigabyte of fresh memory are not all taken by the serial passes' one thread.
    fn assemble(&self, index: &[u32], free: usize) -> (Laplacian, Vec<f64>) {
        let mut diagonal = parallel_vec(free, 0.0);
        let mut rhs = parallel_vec(free, 0.0);
        // Counts go to row_start[i + 1] and become row ends by a prefix sum; filling then
        // decrements each row's end down to the row's start, and one shift puts the starts in
        // place: no second cursor array the size of the rows.
        let mut row_start = parallel_vec(free + 1, 0usize);
        for r in self.live_resistors() {
            let (ia, ib) = (index[r.a as usize] as usize, index[r.b as usize] as usize);
            for (i, j) in [(ia, ib), (ib, ia)] {
                if i < free {
                    diagonal[i] += r.conductance_s;
                    if j < free {
                        row_start[i + 1] += 1;
                    } else if j == FIXED_SOURCE as usize {
                        rhs[i] += r.conductance_s;
                    }
                }
            }
        }
        for i in 0..free {
            row_start[i + 1] += row_start[i];
        }
        let entries = row_start[free];
        let mut columns = parallel_vec(entries, 0u32);
        let mut conductances = parallel_vec(entries, 0.0);
        for r in self.live_resistors() {
            let (ia, ib) = (index[r.a as usize] as usize, index[r.b as usize] as usize);
            if ia < free && ib < free {
                for (i, j) in [(ia, ib), (ib, ia)] {
                    row_start[i + 1] -= 1;
                    columns[row_start[i + 1]] = j as u32;
                    conductances[row_start[i + 1]] = r.conductance_s;
                }
            }
        }
        row_start.copy_within(1.., 0);
        row_start[free] = entries;
        (
            Laplacian {
                diagonal,
                row_start,
                columns,
                conductances,
            },
            rhs,
        )
    }
}

/// Root of `x`, halving the path on the way.
fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let grandparent = parent[parent[x as usize] as usize];
        parent[x as usize] = grandparent;
        x = grandparent;
    }
    x
}

/// Joins the sets of `a` and `b` under the smaller root.
fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra < rb {
        parent[rb as usize] = ra;
    } else if rb < ra {
        parent[ra as usize] = rb;
    }
}
