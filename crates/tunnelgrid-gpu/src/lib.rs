//! The GPU engine of tunnelgrid: bond evaluation, union-find labelling and cluster statistics as
//! WGSL compute shaders run through wgpu (Vulkan, Metal, DX12; lavapipe in CI), equal to the CPU
//! reference engine (MODEL.md §5).

#![warn(missing_docs)]

mod buffers;
pub mod context;
pub mod engine;
mod host;
pub mod kirchhoff;
pub mod oneshot;
mod params;
pub mod pipelines;
mod run;
pub mod shader_source;
pub mod timer;

#[cfg(test)]
mod stage_tests;

pub use context::{adapters, AdapterSummary, Context};
pub use engine::{GpuEngine, GpuOptions};
pub use kirchhoff::{GpuResistance, GpuSolveError, GpuSolveOptions};
pub use wgpu::DeviceType;

/// Why the GPU engine cannot run.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// wgpu found no adapter able to run compute shaders.
    #[error(
        "no GPU adapter found: install a Vulkan driver (on Debian/Ubuntu, `apt-get install \
         mesa-vulkan-drivers libvulkan1` gives the lavapipe software device), or use --engine cpu"
    )]
    NoAdapter,
    /// The device could not be created or was lost.
    #[error("GPU device error: {0}")]
    Device(String),
    /// Allocation failed.
    #[error("the GPU is out of memory: the lattice needs {needed} on the device ({detail}); use --engine cpu")]
    OutOfMemory {
        /// Memory the run needs, human-readable.
        needed: String,
        /// wgpu's message.
        detail: String,
    },
    /// The Kirchhoff solver's thinnest slab (one z layer and its halo layers) does not fit one
    /// storage binding.
    #[error(
        "the GPU Kirchhoff solver cuts the lattice into z slabs, and its thinnest slab (one layer \
         of {layer_sites} sites with the halo layers it needs) needs {needed} of conductances \
         in one storage binding; the adapter's largest binding is {limit}; use --engine cpu for \
         the resistance"
    )]
    SolverTooLarge {
        /// Sites per z layer.
        layer_sites: u64,
        /// Bytes of the thinnest slab's conductances, human-readable.
        needed: String,
        /// The adapter's largest storage binding, human-readable.
        limit: String,
    },
    /// One z layer does not fit one storage binding.
    #[error("one z layer of {layer_sites} sites exceeds the adapter's largest storage binding of {binding_words} words; use --engine cpu")]
    LayerTooLarge {
        /// Sites per layer.
        layer_sites: u64,
        /// Words per binding.
        binding_words: u64,
    },
}

impl From<GpuError> for tunnelgrid_model::EngineError {
    fn from(e: GpuError) -> Self {
        tunnelgrid_model::EngineError::Device(Box::new(e))
    }
}

impl From<GpuSolveError> for tunnelgrid_model::EngineError {
    fn from(e: GpuSolveError) -> Self {
        match e {
            GpuSolveError::Kirchhoff(k) => k.into(),
            GpuSolveError::Gpu(g) => g.into(),
        }
    }
}
