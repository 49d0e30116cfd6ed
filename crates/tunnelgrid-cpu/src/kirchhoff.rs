//! Resistance of a sample from Kirchhoff's laws (MODEL.md §7), in f64: the CPU reference.
//!
//! Two layers:
//! - [`ResistorNetwork`]: a generic network of conductances between numbered nodes, with two sets
//!   of electrode nodes held at potentials 1 and 0. [`ResistorNetwork::solve`] drops everything
//!   not connected to both electrodes, then solves for the free potentials with conjugate
//!   gradients (`cg`) preconditioned by smoothed-aggregation multigrid (`amg`, the default) or
//!   by Jacobi, and returns the current between the electrodes.
//! - [`axis_resistance`]: builds that network from a lattice's bond masks for one axis (normal
//!   tunnels are resistors, superconducting clusters are contracted to single nodes, the two faces
//!   of the axis are bus bars) and adds the resistivity from the strained sample dimensions.
//!
//! Electrodes are at 1 V and 0 V, so the current in amperes is the conductance in siemens and
//! R = 1/I in ohm.

mod amg;
mod cg;
mod lattice;
mod network;

pub use lattice::{axis_linear_system, axis_resistance, resistances};
pub use network::{Electrode, LinearSystem, Resistor, ResistorNetwork, Solution, MAX_NODES};
pub use tunnelgrid_host::axis::{bond_gap_ratio, resistivity, MIN_GAP_RATIO};
/// The f64 stencil of one axis (the GPU solver's CPU twin) lives with the host algorithms.
pub use tunnelgrid_host::stencil;

pub(crate) use lattice::collect_axis_bonds;
pub(crate) use tunnelgrid_host::axis::{check_axis, face_sites};

pub use tunnelgrid_model::resistance::{AxisResistance, Conduction, KirchhoffError, Solver};

/// Default relative residual ‖b − A·x‖ / ‖b‖ of the f64 reference (MODEL.md §7).
pub const DEFAULT_TOLERANCE: f64 = 1e-10;

/// How a resistor network is solved.
#[derive(Debug, Clone, PartialEq)]
pub struct SolveOptions {
    /// The preconditioner.
    pub solver: Solver,
    /// Stop when the relative residual ‖b − A·x‖ / ‖b‖ of the free potentials is at most this.
    pub tolerance: f64,
    /// Give up after this many iterations; `None` allows 4·(free nodes) + 1000, far more than a
    /// healthy solve needs (CG converges in at most n steps in exact arithmetic), so hitting it
    /// means the system is too ill-conditioned for f64.
    pub max_iterations: Option<usize>,
    /// Also return the |current| through every node (lattice: every site).
    pub node_currents: bool,
    /// Bytes the solve may use; `None` asks the system (`available_memory`) and does not check
    /// where the system cannot tell.
    pub memory_limit: Option<u64>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            solver: Solver::default(),
            tolerance: DEFAULT_TOLERANCE,
            max_iterations: None,
            node_currents: false,
            memory_limit: None,
        }
    }
}

impl SolveOptions {
    /// Refuses a solve that needs more than the memory limit (or the system's available memory).
    pub(crate) fn check_memory(&self, needed_bytes: u64) -> Result<(), KirchhoffError> {
        tunnelgrid_host::memory::check_solve_memory(needed_bytes, self.memory_limit)
    }
}
