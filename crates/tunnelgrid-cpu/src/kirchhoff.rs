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
pub mod stencil;

pub use lattice::{
    axis_linear_system, axis_resistance, bond_gap_ratio, resistances, resistivity, AxisResistance,
    Conduction, MIN_GAP_RATIO,
};
pub use network::{Electrode, LinearSystem, Resistor, ResistorNetwork, Solution, MAX_NODES};

pub(crate) use lattice::{check_axis, collect_axis_bonds, face_sites};

use tunnelgrid_model::engine::human_bytes;

/// Default relative residual ‖b − A·x‖ / ‖b‖ of the f64 reference (MODEL.md §7).
pub const DEFAULT_TOLERANCE: f64 = 1e-10;

/// The preconditioner of the f64 conjugate gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// Smoothed-aggregation algebraic multigrid, one V-cycle per iteration: iterations nearly
    /// independent of the lattice size (the default).
    #[default]
    Amg,
    /// The diagonal: no setup, but iterations that grow like L (the path before multigrid,
    /// kept for comparison).
    Jacobi,
}

impl Solver {
    /// "amg" or "jacobi", as `--solver` and report.json spell it.
    pub fn name(self) -> &'static str {
        match self {
            Solver::Amg => "amg",
            Solver::Jacobi => "jacobi",
        }
    }
}

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
        let available = self.memory_limit.or_else(crate::available_memory);
        match available {
            Some(available_bytes) if needed_bytes > available_bytes => {
                Err(KirchhoffError::OutOfMemory {
                    needed_bytes,
                    available_bytes,
                })
            }
            _ => Ok(()),
        }
    }
}

/// Why a resistance could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KirchhoffError {
    /// Conjugate gradients stopped before reaching the tolerance.
    #[error(
        "conjugate gradients did not converge: relative residual {residual:.3e} after \
         {iterations} iterations, wanted ≤ {tolerance:.1e}"
    )]
    NotConverged {
        /// Iterations done.
        iterations: usize,
        /// Relative residual reached.
        residual: f64,
        /// Relative residual asked for.
        tolerance: f64,
    },
    /// The network would not fit in memory.
    #[error(
        "the resistor network needs about {} of memory, but only {} is available",
        human_bytes(*needed_bytes),
        human_bytes(*available_bytes)
    )]
    OutOfMemory {
        /// Estimated bytes the solve needs.
        needed_bytes: u64,
        /// Bytes available to it.
        available_bytes: u64,
    },
    /// The network or the options are malformed (a caller's bug, not a physical outcome).
    #[error("invalid resistor network: {0}")]
    InvalidNetwork(String),
    /// The axis cannot carry a resistance question on this lattice.
    #[error("no resistance along axis {axis}: {reason}")]
    InvalidAxis {
        /// The axis asked for.
        axis: usize,
        /// Why it is refused.
        reason: String,
    },
    /// The currents through the two electrodes differ by more than the residual allows: the
    /// solution violates Kirchhoff's current law somewhere it should not.
    #[error(
        "electrode currents disagree: {source_a:.12e} A in, {sink_a:.12e} A out \
         (the residual allows {allowed_a:.3e} A)"
    )]
    ElectrodeMismatch {
        /// Current leaving the electrode at potential 1.
        source_a: f64,
        /// Current entering the electrode at potential 0.
        sink_a: f64,
        /// Largest difference the final residual explains.
        allowed_a: f64,
    },
}
