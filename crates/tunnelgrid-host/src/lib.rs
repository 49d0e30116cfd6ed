//! Host algorithms both tunnelgrid engines use, so that neither engine depends on the other:
//! lattice walkers (`geometry`), the periodic wrap forest (`wrap`), cluster-size totals
//! (`sizes`), one axis as a resistance question (`axis`), the f64 Kirchhoff stencil
//! (`stencil`, the CPU twin of `shaders/kirchhoff.wgsl`), a plain labelling for the stencil's
//! superconducting clusters (`labels`), the setup of the multigrid preconditioner (`amg`) and
//! the memory this process can still get (`memory`).

#![warn(missing_docs)]

pub mod amg;
pub mod atomic_view;
pub mod axis;
pub mod geometry;
pub mod labels;
pub mod memory;
pub mod sizes;
pub mod stencil;
pub mod wrap;

pub use memory::available_memory;
