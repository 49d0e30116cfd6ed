//! `ModelSpec`: which material, how large and at which conditions, as a library value. The
//! command line parses its flags into one (`cli/model_args.rs`), the Python module will fill one
//! from keyword arguments; `build` loads the preset, material file or volume, applies the
//! overrides and validates the whole model, with errors that name the flag or keyword the value
//! came from and the file it was read from.

use crate::volume::{read_volume, Volume};
use anyhow::{bail, ensure, Context, Result};
use std::path::{Path, PathBuf};
use tunnelgrid_model::config::short_number;
use tunnelgrid_model::presets::preset;
use tunnelgrid_model::{
    Boundary, Conditions, ConfigError, LatticeKind, Material, Mode, Model, Occupancy,
};

/// Where the material comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum MaterialSource {
    /// A shipped preset, by name (`tunnelgrid presets`).
    Preset(String),
    /// A material TOML file.
    Config(PathBuf),
    /// A 3D `.npy`/TIFF occupancy volume: one sc site per voxel, in volume mode.
    Volume(VolumeSpec),
    /// A material already read and validated (the Python module's `Model.from_toml`).
    Material(Box<Material>),
    /// A volume already in memory (the Python module's arrays), in volume mode as a file's.
    Voxels(VoxelsSpec),
}

/// A volume in memory and how to analyse it.
#[derive(Debug, Clone, PartialEq)]
pub struct VoxelsSpec {
    /// The occupancy.
    pub volume: Volume,
    /// Voxel neighbours that join clusters: 6, 18 or 26 (`None`: 6).
    pub connectivity: Option<u32>,
    /// Voxel edge in metres, 1e-13 to 1.
    pub voxel_m: f64,
}

impl Default for MaterialSource {
    fn default() -> Self {
        Self::Preset("default".into())
    }
}

/// A voxel volume and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeSpec {
    /// The file, shaped (nz, ny, nx).
    pub path: PathBuf,
    /// The voxel value of the conducting phase (`None`: any nonzero value).
    pub phase: Option<i64>,
    /// Voxel neighbours that join clusters: 6, 18 or 26 (`None`: 6).
    pub connectivity: Option<u32>,
    /// Voxel edge in metres, 1e-13 to 1.
    pub voxel_m: f64,
}

/// How errors name a value the caller set: as the command line's flags (`--pressure`) or as
/// keyword arguments (`pressure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Names {
    /// `--pressure`, `--size`, ...
    #[default]
    Flags,
    /// `pressure`, `size`, ...
    Keywords,
}

impl Names {
    /// The name of `key` (written with underscores) in this style.
    pub fn of(self, key: &str) -> String {
        match self {
            Names::Flags => format!("--{}", key.replace('_', "-")),
            Names::Keywords => key.to_string(),
        }
    }
}

/// A model and its conditions, as a caller asks for them: a source and overrides of the
/// material's own values (`None`: the material's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelSpec {
    /// The material.
    pub source: MaterialSource,
    /// Cells along every axis (N×N×N; N×N for the 2D square lattice).
    pub size: Option<u32>,
    /// Cells along x, y and z.
    pub cells: Option<[u32; 3]>,
    /// Pressure in GPa.
    pub pressure: Option<f64>,
    /// Temperature in K.
    pub temperature: Option<f64>,
    /// Seed of the site hash.
    pub seed: Option<u64>,
    /// Occupation or opening probability (Bernoulli modes only).
    pub p: Option<f64>,
}

/// Smallest voxel edge, metres: lattice.a0's 0.001 Å.
pub const MIN_VOXEL_M: f64 = 1e-13;
/// Largest voxel edge, metres.
pub const MAX_VOXEL_M: f64 = 1.0;

/// Largest material file read: a material is a page of TOML, and a bound keeps `--config
/// /dev/zero` (or a log file given by mistake) from reading without end.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

impl ModelSpec {
    /// Loads the material, applies the overrides and validates the whole model; errors name
    /// values the caller set in the `names` style.
    pub fn build(&self, names: Names) -> Result<(Model, Conditions)> {
        let mut material = self.material(names)?;
        if let Some(n) = self.size {
            let nz = if material.lattice.kind.is_2d() { 1 } else { n };
            material.lattice.cells = [n, n, nz];
        }
        if let Some(cells) = self.cells {
            material.lattice.cells = cells;
        }
        if self.p.is_some() && !material.mode.is_bernoulli() {
            bail!(
                "{} applies to the Bernoulli modes only; material '{}' is in {} mode",
                names.of("p"),
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
        let model = Model::new(material).map_err(|e| self.name_the_value(e, names))?;
        let conditions = model.default_conditions();
        Ok((model, conditions))
    }

    /// A config error about a value the caller set names that value, not the TOML key it
    /// overrides (`--pressure 1e308`, not `conditions.pressure_gpa`).
    fn name_the_value(&self, error: ConfigError, names: Names) -> anyhow::Error {
        let ConfigError::OutOfRange {
            field,
            value,
            allowed,
        } = &error
        else {
            return error.into();
        };
        let key = match field.as_str() {
            "conditions.pressure_gpa" if self.pressure.is_some() => "pressure",
            "conditions.temperature_k" if self.temperature.is_some() => "temperature",
            "bernoulli.p" if self.p.is_some() => "p",
            f if f.starts_with("lattice.cells") && self.size.is_some() => "size",
            f if f.starts_with("lattice.cells") && self.cells.is_some() => "cells",
            _ => return error.into(),
        };
        anyhow::anyhow!(
            "{} {value} is out of range ({field}): allowed {allowed}",
            names.of(key)
        )
    }

    /// The material before the overrides.
    fn material(&self, names: Names) -> Result<Material> {
        match &self.source {
            MaterialSource::Preset(name) => Ok(preset(name)?),
            MaterialSource::Config(path) => read_material(path, &names.of("config")),
            MaterialSource::Volume(volume) => volume_material(volume, names),
            MaterialSource::Material(material) => Ok((**material).clone()),
            MaterialSource::Voxels(voxels) => {
                check_voxel_options(voxels.voxel_m, voxels.connectivity, names)?;
                voxel_material(
                    voxels.volume.clone(), // the occupancy is shared, not copied
                    "voxel volume from an array".into(),
                    voxels.connectivity,
                    voxels.voxel_m,
                )
            }
        }
    }
}

/// The material of a volume file: its voxel options checked, then the file read.
fn volume_material(volume: &VolumeSpec, names: Names) -> Result<Material> {
    check_voxel_options(volume.voxel_m, volume.connectivity, names)?;
    let path = &volume.path;
    let occupancy = read_volume(path, volume.phase)?;
    voxel_material(
        occupancy,
        format!("voxel volume {}", path.display()),
        volume.connectivity,
        volume.voxel_m,
    )
}

/// Refuses a voxel edge or a connectivity no volume can have, before any voxel is read.
fn check_voxel_options(voxel_m: f64, connectivity: Option<u32>, names: Names) -> Result<()> {
    // The same range as lattice.a0 in volume mode (0.001 Å to 1 m), said in metres.
    ensure!(
        voxel_m.is_finite() && (MIN_VOXEL_M..=MAX_VOXEL_M).contains(&voxel_m),
        "{} {} is out of range: allowed a voxel edge in metres in [{MIN_VOXEL_M:e}, {MAX_VOXEL_M}]",
        names.of("voxel"),
        short_number(voxel_m)
    );
    if let Some(c) = connectivity {
        ensure!(
            matches!(c, 6 | 18 | 26),
            "{} {c} is not a voxel connectivity; use 6, 18 or 26",
            names.of("connectivity")
        );
    }
    Ok(())
}

/// The material of a volume: an sc lattice of one site per voxel, open faces, R0 = 1 ohm per
/// bond (a volume takes no material file yet), and the reference state (P = 0, T = T_ref) so
/// the cell edge is exactly the voxel size.
fn voxel_material(
    occupancy: Volume,
    description: String,
    connectivity: Option<u32>,
    voxel_m: f64,
) -> Result<Material> {
    let mut material = preset("default")?;
    material.name = "volume".into();
    material.description = description;
    material.mode = Mode::Volume;
    material.lattice.kind = LatticeKind::Sc;
    material.lattice.cells = occupancy.cells;
    material.lattice.boundary = [Boundary::Open; 3];
    material.lattice.vacancy = 0.0;
    material.lattice.a0 = voxel_m * 1e10; // metres to Å
    material.lattice.c_over_a = 1.0;
    material.overlap.r0_ohm = 1.0;
    material.conditions.pressure_gpa = 0.0;
    material.conditions.temperature_k = material.eos.t_ref_k;
    material.volume = Some(Occupancy(occupancy.occupancy));
    // 6 is the sc lattice's own shell: left unset, so the material reads as before.
    material.lattice.connectivity = connectivity.filter(|&c| c != 6);
    Ok(material)
}

/// Reads and validates a material TOML file; every error names `what` (the flag or keyword)
/// and the file.
pub fn read_material(path: &Path, what: &str) -> Result<Material> {
    use std::io::Read;
    let name = path.display();
    ensure!(
        !path.is_dir(),
        "{what}: {name} is a folder; give a material .toml file"
    );
    let file = std::fs::File::open(path).with_context(|| format!("{what}: cannot open {name}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{what}: reading {name}"))?;
    ensure!(
        bytes.len() as u64 <= MAX_CONFIG_BYTES,
        "{what}: {name} is larger than {} KiB; a material file is a short TOML text",
        MAX_CONFIG_BYTES >> 10
    );
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{what}: {name} is not UTF-8 text (a material is TOML)"))?;
    Material::from_toml_str(&text).with_context(|| format!("{what}: in {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_value_in_the_callers_style() {
        let spec = ModelSpec {
            pressure: Some(1e308),
            ..ModelSpec::default()
        };
        let flag = spec.build(Names::Flags).unwrap_err().to_string();
        assert!(flag.starts_with("--pressure 1"), "{flag}");
        let keyword = spec.build(Names::Keywords).unwrap_err().to_string();
        assert!(keyword.starts_with("pressure 1"), "{keyword}");
    }

    #[test]
    fn a_spec_builds_the_preset_with_its_overrides() {
        let spec = ModelSpec {
            source: MaterialSource::Preset("bernoulli-site".into()),
            cells: Some([5, 6, 7]),
            p: Some(0.5),
            seed: Some(9),
            ..ModelSpec::default()
        };
        let (model, conditions) = spec.build(Names::Keywords).unwrap();
        assert_eq!(model.lattice.cells, [5, 6, 7]);
        assert_eq!((conditions.p, conditions.seed), (0.5, 9));
        let missing = ModelSpec {
            source: MaterialSource::Config("/nonexistent/m.toml".into()),
            ..ModelSpec::default()
        };
        let e = format!("{:#}", missing.build(Names::Keywords).unwrap_err());
        assert!(e.contains("config: cannot open /nonexistent/m.toml"), "{e}");
    }
}
