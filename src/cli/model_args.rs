//! The arguments that choose a model and its conditions, shared by `run` and `export`.

use anyhow::{bail, Result};
use clap::Args;
use std::path::PathBuf;
use tunnelgrid::engines::CpuOnly;
use tunnelgrid::spec::{MaterialSource, ModelSpec, Names, VolumeSpec};
use tunnelgrid_model::{Conditions, Model};

/// Which material, how large, and at which conditions.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Shipped preset to run (see `tunnelgrid presets`).
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    pub preset: Option<String>,
    /// Material TOML file (start from `tunnelgrid preset default > mine.toml`).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Cells along every axis (N×N×N; N×N for the 2D square lattice).
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "cells",
        allow_negative_numbers = true
    )]
    pub size: Option<u32>,
    /// Cells along x, y and z.
    #[arg(long, num_args = 3, value_names = ["NX", "NY", "NZ"], allow_negative_numbers = true)]
    pub cells: Option<Vec<u32>>,
    /// Pressure in GPa (default: the material's).
    #[arg(long, value_name = "GPA", allow_negative_numbers = true)]
    pub pressure: Option<f64>,
    /// Temperature in K (default: the material's).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub temperature: Option<f64>,
    /// Seed of the site hash: the same seed gives the same lattice on every engine.
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Occupation (bernoulli-site) or opening (bernoulli-bond) probability.
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub p: Option<f64>,
    /// A 3D `.npy` array shaped (nz, ny, nx), C order, bool or integer: each voxel is an sc site,
    /// occupied when nonzero (or equal to --phase). Runs in volume mode on either engine
    /// (--connectivity 18 and 26 on the CPU engine only).
    #[arg(long, value_name = "FILE.npy", conflicts_with_all = ["preset", "config", "size", "cells", "p"])]
    pub volume: Option<PathBuf>,
    /// The voxel value of the conducting phase (default: any nonzero value).
    #[arg(
        long,
        value_name = "V",
        requires = "volume",
        allow_negative_numbers = true
    )]
    pub phase: Option<i64>,
    /// Voxel neighbours that join clusters: 6 (faces), 18 (faces, edges) or 26 (faces, edges,
    /// corners), as scipy.ndimage.label's structures (default 6; 18 and 26 on the CPU engine
    /// only). Conductance always flows through faces only.
    #[arg(
        long,
        value_name = "N",
        requires = "volume",
        value_parser = parse_connectivity
    )]
    pub connectivity: Option<u32>,
    /// Voxel edge in metres (sets the cell edge for resistivity), 1e-13 to 1.
    #[arg(
        long,
        value_name = "M",
        requires = "volume",
        default_value_t = 1e-6,
        allow_negative_numbers = true
    )]
    pub voxel: f64,
}

impl ModelArgs {
    /// The library's description of what these flags ask for.
    pub fn spec(&self) -> ModelSpec {
        let source = match (&self.volume, &self.config) {
            (Some(path), _) => MaterialSource::Volume(VolumeSpec {
                path: path.clone(),
                phase: self.phase,
                connectivity: self.connectivity,
                voxel_m: self.voxel,
            }),
            (None, Some(path)) => MaterialSource::Config(path.clone()),
            (None, None) => {
                MaterialSource::Preset(self.preset.clone().unwrap_or_else(|| "default".into()))
            }
        };
        ModelSpec {
            source,
            size: self.size,
            cells: self.cells.as_ref().map(|c| [c[0], c[1], c[2]]),
            pressure: self.pressure,
            temperature: self.temperature,
            seed: self.seed,
            p: self.p,
        }
    }

    /// Loads the material, applies the overrides and validates the whole model.
    pub fn build(&self) -> Result<(Model, Conditions)> {
        // clap's `requires` does not fire through the flattened subcommand arguments, so say it here.
        if self.volume.is_none() {
            if let Some(phase) = self.phase {
                bail!("--phase {phase} applies to --volume only");
            }
            if let Some(c) = self.connectivity {
                bail!("--connectivity {c} applies to --volume only (lattices keep their own neighbour shell)");
            }
        }
        self.spec().build(Names::Flags)
    }

    /// Why this model runs on the CPU engine only, if it does: volumes run on either engine
    /// with 6-connectivity, 18 and 26 on the CPU engine only.
    pub fn cpu_only(&self) -> Option<CpuOnly> {
        self.connectivity.filter(|&c| c != 6).map(|c| CpuOnly {
            what: format!("--connectivity {c}"),
            gpu_supports: "--connectivity 6".into(),
        })
    }
}

/// `--connectivity`: 6, 18 or 26.
fn parse_connectivity(s: &str) -> std::result::Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n @ (6 | 18 | 26)) => Ok(n),
        _ => Err(format!("{s} is not a voxel connectivity; use 6, 18 or 26")),
    }
}
