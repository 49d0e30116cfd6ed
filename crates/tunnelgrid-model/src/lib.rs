//! The tunnel model of tunnelgrid (MODEL.md): lattices, the counter-based hash, the equation of
//! state, overlap/tunnel/gap laws, materials (TOML presets) and the report every engine returns.
//! No GPU or I/O code lives here: both engines build on this crate.

#![warn(missing_docs)]

pub mod config;
pub mod engine;
pub mod eos;
pub mod hash;
pub mod lattice;
pub mod network;
pub mod params;
pub mod phases;
pub mod presets;
pub mod report;
pub mod resistance;

pub use config::{ConfigError, Material, Mode, Occupancy, SpeciesPattern};
pub use engine::{DeviceStageTimes, Engine, EngineError, Model};
pub use lattice::{Boundary, Lattice, LatticeKind};
pub use network::{BondMasks, BondTotals, Network};
pub use params::{BondClass, BondParams, Conditions};
pub use phases::{ConventionalState, PhasesConfig};
pub use report::{build_report, ClusterStats, PerAxis, Report, State, Timings, Transport};
pub use resistance::{
    AxisResistance, AxisSolution, Conduction, KirchhoffError, ResistanceOptions, Solver,
};
