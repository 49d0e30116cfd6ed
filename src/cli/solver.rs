//! `--solver`: the preconditioner of the CPU Kirchhoff solver, as a command-line choice.

use clap::ValueEnum;
use tunnelgrid::cpu::kirchhoff::Solver;

/// `--solver amg|jacobi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SolverChoice {
    /// Smoothed-aggregation algebraic multigrid (the default).
    Amg,
    /// Jacobi: no setup, iterations growing like L (kept for comparison).
    Jacobi,
}

impl From<SolverChoice> for Solver {
    fn from(choice: SolverChoice) -> Self {
        match choice {
            SolverChoice::Amg => Solver::Amg,
            SolverChoice::Jacobi => Solver::Jacobi,
        }
    }
}
