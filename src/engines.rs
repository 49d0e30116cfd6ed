//! Engine selection for `--engine auto|cpu|gpu`.

use anyhow::{bail, Result};
use tunnelgrid_cpu::CpuEngine;
use tunnelgrid_model::Engine;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EngineChoice {
    /// A GPU when one is available, else the CPU.
    #[default]
    Auto,
    /// The CPU reference engine.
    Cpu,
    /// The GPU engine (wgpu).
    Gpu,
}

/// The engine to run and a note on why it was chosen.
pub struct Selected {
    /// The engine.
    pub engine: Box<dyn Engine>,
    /// Why this engine, for the summary.
    pub reason: &'static str,
}

/// Picks an engine. `slabs` forces the CPU engine's slab count (tests use it).
pub fn select(choice: EngineChoice, slabs: Option<usize>) -> Result<Selected> {
    let cpu = Box::new(CpuEngine { slabs });
    match choice {
        EngineChoice::Cpu => Ok(Selected {
            engine: cpu,
            reason: "requested",
        }),
        EngineChoice::Auto => Ok(Selected {
            engine: cpu,
            reason: "auto: this build has no GPU engine yet",
        }),
        EngineChoice::Gpu => {
            bail!("--engine gpu: this build has no GPU engine yet; use --engine cpu (or auto)")
        }
    }
}
