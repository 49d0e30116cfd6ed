//! The arguments that choose a model and its conditions, shared by `run` and `export`.

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use tunnelgrid::engines::EngineChoice;
use tunnelgrid::volume::read_volume;
use tunnelgrid_model::config::short_number;
use tunnelgrid_model::presets::preset;
use tunnelgrid_model::{
    Boundary, Conditions, ConfigError, LatticeKind, Material, Mode, Model, Occupancy,
};

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
        let mut material = self.material()?;
        if let Some(n) = self.size {
            let nz = if material.lattice.kind.is_2d() { 1 } else { n };
            material.lattice.cells = [n, n, nz];
        }
        if let Some(cells) = &self.cells {
            material.lattice.cells = [cells[0], cells[1], cells[2]];
        }
        if self.p.is_some() && !material.mode.is_bernoulli() {
            bail!(
                "--p applies to the Bernoulli modes only; material '{}' is in {} mode",
                material.name,
                material.mode.name()
            );
        }
        if let Some(p) = self.p {
            material.bernoulli.p = p;
        }
        // `+ 0.0` turns −0 into 0, so no summary says "P = -0 GPa".
        if let Some(pressure) = self.pressure {
            material.conditions.pressure_gpa = pressure + 0.0;
        }
        if let Some(temperature) = self.temperature {
            material.conditions.temperature_k = temperature + 0.0;
        }
        if let Some(seed) = self.seed {
            material.conditions.seed = seed;
        }
        let model = Model::new(material).map_err(|e| self.name_the_flag(e))?;
        let conditions = model.default_conditions();
        Ok((model, conditions))
    }

    /// A config error about a value that came from a flag names the flag, not the TOML key the
    /// flag overrides (`--pressure 1e308`, not `conditions.pressure_gpa`).
    fn name_the_flag(&self, error: ConfigError) -> anyhow::Error {
        let ConfigError::OutOfRange {
            field,
            value,
            allowed,
        } = &error
        else {
            return error.into();
        };
        let flag = match field.as_str() {
            "conditions.pressure_gpa" if self.pressure.is_some() => "--pressure",
            "conditions.temperature_k" if self.temperature.is_some() => "--temperature",
            "bernoulli.p" if self.p.is_some() => "--p",
            f if f.starts_with("lattice.cells") && self.size.is_some() => "--size",
            f if f.starts_with("lattice.cells") && self.cells.is_some() => "--cells",
            _ => return error.into(),
        };
        anyhow::anyhow!("{flag} {value} is out of range ({field}): allowed {allowed}")
    }

    /// The engine to use. Volumes run on either engine with 6-connectivity; 18 and 26 are
    /// CPU-only (`auto` picks the CPU, `gpu` is refused).
    pub fn engine_choice(&self, choice: EngineChoice) -> Result<EngineChoice> {
        match self.connectivity {
            Some(c) if c != 6 => match choice {
                EngineChoice::Gpu => bail!(
                    "--connectivity {c} runs on the CPU engine only; --engine gpu supports --connectivity 6 (use --engine cpu)"
                ),
                EngineChoice::Auto | EngineChoice::Cpu => Ok(EngineChoice::Cpu),
            },
            _ => Ok(choice),
        }
    }

    /// Why `engine_choice` turned `auto` into the CPU engine, if it did.
    pub fn cpu_only_reason(&self) -> Option<String> {
        self.connectivity
            .filter(|&c| c != 6)
            .map(|c| format!("auto: --connectivity {c} runs on the CPU engine only"))
    }

    /// The material of a volume: an sc lattice of one site per voxel, open faces, R0 = 1 ohm per
    /// bond (--volume takes no --config yet), and the reference state (P = 0, T = T_ref) so the
    /// cell edge is exactly the voxel size.
    fn volume_material(&self, path: &std::path::Path) -> Result<Material> {
        // The same range as lattice.a0 in volume mode (0.001 Å to 1 m), said in metres.
        ensure!(
            self.voxel.is_finite() && (MIN_VOXEL_M..=MAX_VOXEL_M).contains(&self.voxel),
            "--voxel {} is out of range: allowed a voxel edge in metres in [{MIN_VOXEL_M:e}, {MAX_VOXEL_M}]",
            short_number(self.voxel)
        );
        let volume = read_volume(path, self.phase)?;
        let mut material = preset("default")?;
        material.name = "volume".into();
        material.description = format!("voxel volume {}", path.display());
        material.mode = Mode::Volume;
        material.lattice.kind = LatticeKind::Sc;
        material.lattice.cells = volume.cells;
        material.lattice.boundary = [Boundary::Open; 3];
        material.lattice.vacancy = 0.0;
        material.lattice.a0 = self.voxel * 1e10; // metres to Å
        material.lattice.c_over_a = 1.0;
        material.overlap.r0_ohm = 1.0;
        material.conditions.pressure_gpa = 0.0;
        material.conditions.temperature_k = material.eos.t_ref_k;
        material.volume = Some(Occupancy(volume.occupancy));
        // 6 is the sc lattice's own shell: left unset, so the material reads as before.
        material.lattice.connectivity = self.connectivity.filter(|&c| c != 6);
        Ok(material)
    }

    fn material(&self) -> Result<Material> {
        if let Some(path) = &self.volume {
            return self.volume_material(path);
        }
        if let Some(path) = &self.config {
            return read_material(path);
        }
        Ok(preset(self.preset.as_deref().unwrap_or("default"))?)
    }
}

/// Smallest `--voxel`, metres: lattice.a0's 0.001 Å.
const MIN_VOXEL_M: f64 = 1e-13;
/// Largest `--voxel`, metres.
const MAX_VOXEL_M: f64 = 1.0;

/// Largest material file read: a material is a page of TOML, and a bound keeps `--config
/// /dev/zero` (or a log file given by mistake) from reading without end.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads and validates a `--config` material file; every error names the file.
pub fn read_material(path: &Path) -> Result<Material> {
    use std::io::Read;
    let name = path.display();
    ensure!(
        !path.is_dir(),
        "--config: {name} is a folder; give a material .toml file"
    );
    let file =
        std::fs::File::open(path).with_context(|| format!("--config: cannot open {name}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("--config: reading {name}"))?;
    ensure!(
        bytes.len() as u64 <= MAX_CONFIG_BYTES,
        "--config: {name} is larger than {} KiB; a material file is a short TOML text",
        MAX_CONFIG_BYTES >> 10
    );
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("--config: {name} is not UTF-8 text (a material is TOML)"))?;
    Material::from_toml_str(&text).with_context(|| format!("--config: in {name}"))
}

/// `--connectivity`: 6, 18 or 26.
fn parse_connectivity(s: &str) -> std::result::Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n @ (6 | 18 | 26)) => Ok(n),
        _ => Err(format!("{s} is not a voxel connectivity; use 6, 18 or 26")),
    }
}
