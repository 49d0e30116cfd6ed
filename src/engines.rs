//! Engine selection for `--engine auto|cpu|gpu`.

use anyhow::{Context as _, Result};
use tunnelgrid_cpu::CpuEngine;
use tunnelgrid_gpu::GpuEngine;
use tunnelgrid_model::Engine;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EngineChoice {
    /// A GPU when wgpu finds an adapter, else the CPU.
    #[default]
    Auto,
    /// The CPU reference engine.
    Cpu,
    /// The GPU engine (wgpu); fails when no adapter is found.
    Gpu,
}

/// How the engines slice the lattice into z-slabs (tests use small slabs to exercise merges).
#[derive(Debug, Clone, Copy, Default)]
pub struct SlabOptions {
    /// CPU: number of z-slabs labelled in parallel.
    pub cpu_slabs: Option<usize>,
    /// GPU: most z layers per slab.
    pub gpu_slab_layers: Option<u32>,
}

/// The engine to run and a note on why it was chosen.
pub struct Selected {
    /// The engine.
    pub engine: Box<dyn Engine>,
    /// Why this engine, for the summary.
    pub reason: String,
}

/// Picks an engine.
pub fn select(choice: EngineChoice, slabs: SlabOptions) -> Result<Selected> {
    let cpu = || {
        Box::new(CpuEngine {
            slabs: slabs.cpu_slabs,
        })
    };
    let gpu = || {
        GpuEngine::new().map(|mut engine| {
            engine.slab_layers = slabs.gpu_slab_layers;
            Box::new(engine)
        })
    };
    match choice {
        EngineChoice::Cpu => Ok(Selected {
            engine: cpu(),
            reason: "requested".into(),
        }),
        EngineChoice::Gpu => Ok(Selected {
            engine: gpu().context("--engine gpu")?,
            reason: "requested".into(),
        }),
        EngineChoice::Auto => Ok(match gpu() {
            Ok(engine) => Selected {
                engine,
                reason: "auto: a GPU adapter was found".into(),
            },
            Err(e) => Selected {
                engine: cpu(),
                reason: format!("auto: {e}"),
            },
        }),
    }
}
