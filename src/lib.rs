//! tunnelgrid: a lattice tunnel solver. This facade re-exports the model and the engines, picks
//! an engine for `--engine auto|cpu|gpu`, and writes outputs atomically.

#![warn(missing_docs)]

pub mod bench;
pub mod engines;
pub mod fields;
pub mod output;
pub mod picture;
pub mod point;
pub mod profile;
pub mod research;
pub mod spec;
pub mod summary;
pub mod sweep;
pub mod transport;
pub mod volume;

pub use tunnelgrid_cpu as cpu;
pub use tunnelgrid_gpu as gpu;
pub use tunnelgrid_model as model;
pub use tunnelgrid_render as render;
