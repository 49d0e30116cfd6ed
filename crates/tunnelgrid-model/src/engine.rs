//! The contract between the facade and the engines.

use crate::config::{ConfigError, Material, Mode};
use crate::lattice::{Boundary, Lattice, LatticeKind};
use crate::network::{BondMasks, Network};
use crate::params::{BondParams, Conditions};
use crate::report::Report;
use crate::resistance::{AxisSolution, KirchhoffError, ResistanceOptions};

/// A material with its lattice built and validated: what every engine analyses.
#[derive(Debug, Clone)]
pub struct Model {
    /// The validated material.
    pub material: Material,
    /// Its lattice.
    pub lattice: Lattice,
}

/// Resident bytes per site of an analysis, at most: bond mask, labels and (above 2^31 sites) a
/// separate array of cluster sizes, each u32 (ARCHITECTURE.md: ≤ 12 B/site).
pub const BYTES_PER_SITE: u64 = 12;

/// Largest lattice the u32 site index and label (index + 1, 0 = absent) can address.
pub const MAX_SITES: u64 = u32::MAX as u64;

impl Model {
    /// Validates `material` and builds its lattice.
    pub fn new(material: Material) -> Result<Self, ConfigError> {
        material.validate()?;
        let l = &material.lattice;
        let mut boundary: [Boundary; 3] = l.boundary;
        if l.kind.is_2d() {
            boundary[2] = Boundary::Open;
        }
        let lattice = match l.connectivity {
            Some(c) if l.kind == LatticeKind::Sc => {
                Lattice::sc_with_connectivity(l.cells, boundary, c)
            }
            _ => Lattice::new(l.kind, l.cells, boundary),
        };
        let sites = lattice.sites();
        if sites > MAX_SITES {
            return Err(ConfigError::TooLarge {
                sites,
                needed: human_bytes(sites * BYTES_PER_SITE),
                limit: format!("more than the {MAX_SITES} sites a u32 site index addresses"),
            });
        }
        if material.mode == Mode::Volume {
            // A volume is a voxel grid: one sc site per voxel, and exactly one byte per site.
            let len = material.volume.as_ref().map(|v| v.0.len() as u64);
            if l.kind != LatticeKind::Sc || len != Some(sites) {
                return Err(ConfigError::Volume(format!(
                    "volume mode needs an sc lattice and one occupancy byte per site ({sites} sites, {} bytes given)",
                    len.map_or("no".to_string(), |n| n.to_string())
                )));
            }
        }
        Ok(Self { material, lattice })
    }

    /// The material's default conditions.
    pub fn default_conditions(&self) -> Conditions {
        let c = &self.material.conditions;
        Conditions {
            pressure_gpa: c.pressure_gpa,
            temperature_k: c.temperature_k,
            seed: c.seed,
            p: self.material.bernoulli.p,
        }
    }

    /// Checks conditions against this material (what every engine does before running).
    pub fn check_conditions(&self, conditions: &Conditions) -> Result<(), ConfigError> {
        crate::config::check_conditions(
            &self.material,
            conditions.pressure_gpa,
            conditions.temperature_k,
            "",
        )?;
        crate::config::check_range("p", conditions.p, 0.0, 1.0, "a probability in [0, 1]")
    }

    /// Refuses a lattice whose resident arrays would not fit in `available_bytes`.
    pub fn check_memory(&self, available_bytes: u64) -> Result<(), ConfigError> {
        check_site_memory(self.lattice.sites(), available_bytes)
    }
}

/// Refuses `sites` sites whose resident arrays (`BYTES_PER_SITE` each) would not fit in
/// `available_bytes`: `Model::check_memory` for a lattice without a model.
pub fn check_site_memory(sites: u64, available_bytes: u64) -> Result<(), ConfigError> {
    let needed = sites * BYTES_PER_SITE;
    if needed > available_bytes {
        return Err(ConfigError::TooLarge {
            sites,
            needed: human_bytes(needed),
            limit: format!(
                "more than the {} of memory available",
                human_bytes(available_bytes)
            ),
        });
    }
    Ok(())
}

/// Bytes in binary units, e.g. "1.50 GiB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// Why an engine could not answer. Each variant keeps its source: a caller can match on it, and
/// `std::error::Error::source` (anyhow's chain) reaches the engine's own error.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The model or conditions are invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The resistance could not be computed (no convergence, out of memory, invalid axis).
    #[error(transparent)]
    Kirchhoff(#[from] KirchhoffError),
    /// The engine cannot run this model (e.g. a volume connectivity its shaders do not know).
    #[error("{0}")]
    Unsupported(String),
    /// The engine's device failed (no adapter, device lost, out of device memory, ...): the
    /// engine's own error, e.g. `tunnelgrid_gpu::GpuError`.
    #[error(transparent)]
    Device(Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// Device seconds per stage of one analysis, from an engine that times its device (the GPU
/// engine with timestamp queries).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DeviceStageTimes {
    /// Evaluating the bonds.
    pub bonds_s: f64,
    /// Labelling both networks.
    pub labels_s: f64,
    /// Merging slabs and cluster statistics.
    pub stats_s: f64,
    /// Every timed stage.
    pub total_s: f64,
}

/// An engine: everything a caller needs from one, whichever it is. The CPU engine
/// (`tunnelgrid_cpu::CpuEngine`) is the reference; the GPU engine (`tunnelgrid_gpu::GpuEngine`)
/// must agree with it (MODEL.md §5). Callers hold a `Box<dyn Engine>` and never ask which.
pub trait Engine {
    /// Engine name with its device, e.g. "cpu (rayon, 2 threads)".
    fn name(&self) -> String;

    /// Runs the whole analysis of MODEL.md §6.
    fn analyze(&self, model: &Model, conditions: &Conditions) -> Result<Report, EngineError>;

    /// The bond mask of every site (MODEL.md §2) with the totals of the pass.
    fn bond_masks(&self, model: &Model, conditions: &Conditions) -> Result<BondMasks, EngineError>;

    /// The cluster root of every site in `network` (the smallest site index of its cluster;
    /// absent sites are their own), after slab merges and periodic wrapping. `masks` are this
    /// model's bond masks at `conditions` (as `bond_masks` returns them); an engine may evaluate
    /// them again on its device rather than upload them, since every engine's masks are equal.
    fn cluster_roots(
        &self,
        model: &Model,
        conditions: &Conditions,
        masks: &[u32],
        network: Network,
    ) -> Result<Vec<u32>, EngineError>;

    /// The resistance of the sample along `axis` (MODEL.md §7) from its bond masks, with the
    /// |current| map when `options.currents`. `sc_roots` are the superconducting network's
    /// cluster roots for these masks if the caller has them (saves relabelling per axis).
    /// `progress(iteration, relative residual)` is called during long solves.
    #[allow(clippy::too_many_arguments)]
    fn axis_resistance(
        &self,
        lattice: &Lattice,
        params: &BondParams,
        masks: &[u32],
        sc_roots: Option<&[u32]>,
        axis: usize,
        options: &ResistanceOptions,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<AxisSolution, EngineError>;

    /// The name report.json gives the solver `axis_resistance` uses with `options`
    /// ("amg", "jacobi", "gpu-amg", "gpu-jacobi").
    fn solver_name(&self, options: &ResistanceOptions) -> String;

    /// Turns per-stage device timing on or off; true when this engine can time its device.
    fn set_profiling(&self, _on: bool) -> bool {
        false
    }

    /// Device seconds per stage of the last analysis, if profiling is on and the engine times
    /// its device; `None` otherwise (time such an engine by wall clock).
    fn take_device_times(&self) -> Option<DeviceStageTimes> {
        None
    }
}
