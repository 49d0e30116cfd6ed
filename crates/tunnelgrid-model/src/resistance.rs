//! The resistance contract every engine answers (MODEL.md §7): how the sample conducts along
//! an axis, what a solve may be asked, and why it can fail. The CPU engine solves in f64 with
//! conjugate gradients; the GPU engine in f32 inside f64 refinement; both return these types.

use crate::engine::human_bytes;

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

/// What a caller may ask of any engine's resistance solve; each engine keeps its own tolerances
/// (MODEL.md §7: 1e-10 on the CPU, 1e-6 on the GPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResistanceOptions {
    /// The preconditioner (both engines have both; `Engine::solver_name` says which ran).
    pub solver: Solver,
    /// Also map |current| per site (`AxisResistance::site_current_a`).
    pub currents: bool,
}

/// One axis's resistance with the solver's own counts.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisSolution {
    /// The result.
    pub axis: AxisResistance,
    /// Outer f64 refinements of an engine that iterates in lower precision (GPU), else `None`.
    pub refinements: Option<usize>,
    /// z slabs the solve's vectors were cut into (GPU), else `None`.
    pub slabs: Option<usize>,
    /// Seconds in the device's iterations (GPU), else `None`.
    pub device_s: Option<f64>,
}

impl AxisSolution {
    /// A solution without device counts (the CPU engine's).
    pub fn host(axis: AxisResistance) -> Self {
        Self {
            axis,
            refinements: None,
            slabs: None,
            device_s: None,
        }
    }
}

/// How the sample conducts along an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conduction {
    /// A superconducting cluster joins the two faces: R = 0.
    Superconducting,
    /// Normal tunnels (and contracted superconducting clusters) join the faces: 0 < R < ∞.
    Normal,
    /// Nothing joins the faces: R = +∞.
    Insulating,
}

/// The resistance of a lattice along one axis.
#[derive(Debug, Clone, PartialEq)]
pub struct AxisResistance {
    /// 0, 1 or 2 for x, y, z.
    pub axis: usize,
    /// Superconducting, normal or insulating.
    pub conduction: Conduction,
    /// R between the bus bars, ohm: 0, finite or +∞ (never NaN).
    pub resistance_ohm: f64,
    /// ρ = R·A/L, ohm·metre, with A the product of the two transverse sample extents n_i·a_i and
    /// L = n_axis·a_axis, from the strained cell edges. Whole cells are used (not the
    /// (n − 1)·a between the bus-bar planes) so that ρ is the sample's resistance per volume
    /// the way a measurement on a crystal of n cells quotes it; for the 2D square lattice the
    /// thickness is one cell edge a_z. 0 or +∞ with R.
    pub resistivity_ohm_m: f64,
    /// CG iterations (0 without a solve).
    pub iterations: usize,
    /// Final relative residual (0 without a solve).
    pub relative_residual: f64,
    /// Seconds building the preconditioner (the multigrid hierarchy) before the iterations;
    /// 0 for Jacobi and without a solve.
    pub setup_s: f64,
    /// Resistors in the network before pruning.
    pub resistors: usize,
    /// Unknown potentials solved for.
    pub free_nodes: usize,
    /// |current| through every site at 1 V between the bus bars, amperes, when asked for; `None`
    /// for a superconducting axis (the current at 1 V would be infinite). Sites of one
    /// superconducting cluster share the cluster's value: a zero-resistance network has no
    /// unique current distribution inside it, only the total through it. Pruned and absent
    /// sites carry 0. f32 because the map is for rendering and is one value per site.
    pub site_current_a: Option<Vec<f32>>,
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
