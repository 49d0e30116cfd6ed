//! Engine selection for `--engine auto|cpu|gpu`.

use crate::spec::Names;
use anyhow::{Context as _, Result};
use tunnelgrid_cpu::CpuEngine;
use tunnelgrid_gpu::{GpuEngine, GpuOptions};
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
    /// The engine. Callers use it through the trait alone.
    pub engine: Box<dyn Engine>,
    /// Why this engine, for the summary.
    pub reason: String,
}

/// Picks an engine. This is the one place that knows which engines exist.
pub fn select(choice: EngineChoice, slabs: SlabOptions) -> Result<Selected> {
    select_named(choice, slabs, Names::Flags)
}

/// `select`, with errors that name the choice in the caller's style (`--engine gpu` or
/// `engine gpu`).
pub fn select_named(choice: EngineChoice, slabs: SlabOptions, names: Names) -> Result<Selected> {
    let cpu = || {
        Box::new(match slabs.cpu_slabs {
            Some(n) => CpuEngine::with_slabs(n),
            None => CpuEngine::default(),
        })
    };
    let gpu = |engine: GpuEngine| {
        Box::new(engine.with_options(GpuOptions {
            slab_layers: slabs.gpu_slab_layers,
            ..GpuOptions::default()
        }))
    };
    Ok(match choice {
        EngineChoice::Cpu => Selected {
            engine: cpu(),
            reason: "requested".into(),
        },
        EngineChoice::Gpu => Selected {
            engine: gpu(GpuEngine::new().with_context(|| format!("{} gpu", names.of("engine")))?),
            reason: "requested".into(),
        },
        EngineChoice::Auto => match auto_gpu() {
            Ok(engine) => Selected {
                engine: gpu(engine),
                reason: "auto: a GPU adapter was found".into(),
            },
            Err(why) => Selected {
                engine: cpu(),
                reason: format!("auto: {why}"),
            },
        },
    })
}

/// Why a model runs on the CPU engine only, e.g. a volume labelled with 18 or 26 neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuOnly {
    /// What asks for it, as the user wrote it ("--connectivity 18").
    pub what: String,
    /// What the GPU engine supports instead ("--connectivity 6").
    pub gpu_supports: String,
}

/// `select` for a model that may run on the CPU engine only: then `--engine gpu` is refused
/// with the reason and `auto` picks the CPU engine and says why.
pub fn select_for(
    choice: EngineChoice,
    slabs: SlabOptions,
    cpu_only: Option<CpuOnly>,
) -> Result<Selected> {
    let Some(limit) = cpu_only else {
        return select(choice, slabs);
    };
    match choice {
        EngineChoice::Gpu => anyhow::bail!(
            "{} runs on the CPU engine only; --engine gpu supports {} (use --engine cpu)",
            limit.what,
            limit.gpu_supports
        ),
        EngineChoice::Cpu => select(EngineChoice::Cpu, slabs),
        EngineChoice::Auto => {
            let mut selected = select(EngineChoice::Cpu, slabs)?;
            selected.reason = format!("auto: {} runs on the CPU engine only", limit.what);
            Ok(selected)
        }
    }
}

/// The GPU engine `auto` uses: a hardware adapter. A software Vulkan device (lavapipe) runs on
/// the same CPU cores as the CPU engine, far slower, so `auto` leaves it to `--engine gpu`.
/// The error says why there is none.
fn auto_gpu() -> Result<GpuEngine, String> {
    let engine = GpuEngine::new().map_err(|e| e.to_string())?;
    if engine.context().info.device_type == tunnelgrid_gpu::DeviceType::Cpu {
        return Err(format!(
            "the only adapter, {}, is a software device; --engine gpu uses it",
            engine.context().info.name
        ));
    }
    Ok(engine)
}
