//! Research mode (issue 7): percolation thresholds, ν and d_f with error bars from Newman–Ziff
//! sweeps (`tunnelgrid_cpu::newman_ziff`) and finite-size scaling; and bisection with
//! confidence over seeds for the physical model (critical pressure, `design`).

pub mod bisect;
pub mod fss;
pub mod physical;
pub mod plan;
pub mod plots;
pub mod reference;
pub mod scaling;
pub mod threshold;
