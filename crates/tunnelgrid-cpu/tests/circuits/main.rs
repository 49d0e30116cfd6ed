//! Exact circuits for the Kirchhoff solver and the critical-current max-flow (MODEL.md §7, §8),
//! one test binary in modules by subject:
//!
//! - `networks`: generic resistor networks (the CG solvers, multigrid and Jacobi-preconditioned)
//!   solved by hand and against a dense solve;
//! - `lattices`: `axis_resistance` on lattices between bus bars;
//! - `stencil`: the GPU solver's network in site space against `axis_resistance`;
//! - `max_flow`: generic flow networks against a brute-force cut and Edmonds–Karp;
//! - `critical_current`: the critical current of lattices.
//!
//! Every expected value is either solved by hand (series/parallel chains, Wheatstone bridges,
//! perfect lattices between bus bars, small flow networks) or computed independently: a dense LU
//! solve with partial pivoting of the same network, pruned and contracted by the testkit's own
//! code (`tunnelgrid_testkit::dense`), a brute-force minimum cut and Edmonds–Karp.
//!
//! Proptest keeps the regression seeds of these modules in `tests/proptest-regressions/
//! <module>.txt`: its layout for a source tree rooted at a `main.rs`.

mod critical_current;
mod lattices;
mod max_flow;
mod networks;
mod stencil;
