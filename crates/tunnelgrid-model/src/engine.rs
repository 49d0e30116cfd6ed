//! The contract between the facade and the engines.

use crate::config::{ConfigError, Material, Mode};
use crate::lattice::{Boundary, Lattice, LatticeKind};
use crate::params::Conditions;
use crate::report::Report;

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
        let sites = self.lattice.sites();
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

/// Why an engine could not analyse a model.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The model or conditions are invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The engine failed (device lost, out of memory, ...).
    #[error("{0}")]
    Failed(String),
}

/// A way to analyse a model at given conditions.
pub trait Engine {
    /// Engine name with its device, e.g. "cpu (rayon, 2 threads)".
    fn name(&self) -> String;
    /// Runs the whole analysis of MODEL.md §6.
    fn analyze(&self, model: &Model, conditions: &Conditions) -> Result<Report, EngineError>;
}
