//! Engine selection for `--engine auto|cpu|gpu`.

use anyhow::{Context as _, Result};
use std::rc::Rc;
use tunnelgrid_cpu::CpuEngine;
use tunnelgrid_gpu::GpuEngine;
use tunnelgrid_model::{Conditions, Engine, EngineError, Model, Report};

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
    /// The same engine when it is the GPU one, for the GPU Kirchhoff solver.
    pub gpu: Option<Rc<GpuEngine>>,
    /// Why this engine, for the summary.
    pub reason: String,
}

/// A GPU engine shared between `Selected::engine` and `Selected::gpu`.
struct SharedGpu(Rc<GpuEngine>);

impl Engine for SharedGpu {
    fn name(&self) -> String {
        self.0.name()
    }

    fn analyze(&self, model: &Model, conditions: &Conditions) -> Result<Report, EngineError> {
        self.0.analyze(model, conditions)
    }
}

impl Selected {
    fn gpu(engine: GpuEngine, reason: String) -> Self {
        let shared = Rc::new(engine);
        Self {
            engine: Box::new(SharedGpu(shared.clone())),
            gpu: Some(shared),
            reason,
        }
    }
}

/// Picks an engine.
pub fn select(choice: EngineChoice, slabs: SlabOptions) -> Result<Selected> {
    let cpu = || {
        let mut engine = CpuEngine::default();
        engine.slabs = slabs.cpu_slabs;
        Box::new(engine)
    };
    let gpu = || {
        GpuEngine::new().map(|mut engine| {
            engine.slab_layers = slabs.gpu_slab_layers;
            engine
        })
    };
    match choice {
        EngineChoice::Cpu => Ok(Selected {
            engine: cpu(),
            gpu: None,
            reason: "requested".into(),
        }),
        EngineChoice::Gpu => Ok(Selected::gpu(
            gpu().context("--engine gpu")?,
            "requested".into(),
        )),
        EngineChoice::Auto => Ok(match auto_gpu() {
            Ok(mut engine) => {
                engine.slab_layers = slabs.gpu_slab_layers;
                Selected::gpu(engine, "auto: a GPU adapter was found".into())
            }
            Err(why) => Selected {
                engine: cpu(),
                gpu: None,
                reason: format!("auto: {why}"),
            },
        }),
    }
}

/// The GPU engine `auto` uses: a hardware adapter. A software Vulkan device (lavapipe) runs on
/// the same CPU cores as the CPU engine, far slower, so `auto` leaves it to `--engine gpu`.
/// The error says why there is none.
pub fn auto_gpu() -> Result<GpuEngine, String> {
    let engine = GpuEngine::new().map_err(|e| e.to_string())?;
    if engine.context().info.device_type == tunnelgrid_gpu::DeviceType::Cpu {
        return Err(format!(
            "the only adapter, {}, is a software device; --engine gpu uses it",
            engine.context().info.name
        ));
    }
    Ok(engine)
}
