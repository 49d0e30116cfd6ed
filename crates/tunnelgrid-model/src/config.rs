//! Materials as TOML (the preset format) and their validation.
//!
//! Every field has a documented unit and range; `Material::validate` checks them all and names the
//! field and the allowed range in its error. Unknown keys are rejected by serde
//! (`deny_unknown_fields`), so a typo never silently falls back to a default.

use crate::lattice::{Boundary, LatticeKind};
use crate::phases::PhasesConfig;
use serde::{Deserialize, Serialize};

/// What decides whether a bond exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The physical model: tunnels from orbital overlap (MODEL.md §5).
    #[default]
    Tunnel,
    /// Site percolation: each site occupied with probability p, occupied neighbours bonded.
    BernoulliSite,
    /// Bond percolation: each bond open with probability p.
    BernoulliBond,
    /// A voxel volume: site occupancy comes from `Material::volume` (one byte per site), every
    /// bond between two occupied neighbours is open with R0 and nothing superconducts.
    Volume,
}

impl Mode {
    /// Whether this is a geometry-free mode (Bernoulli or volume): every open bond is a resistor
    /// of R0 and nothing superconducts.
    pub fn is_bernoulli(self) -> bool {
        self != Mode::Tunnel
    }

    /// The name used in configs.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tunnel => "tunnel",
            Mode::BernoulliSite => "bernoulli-site",
            Mode::BernoulliBond => "bernoulli-bond",
            Mode::Volume => "volume",
        }
    }
}

/// How species are assigned to sites (MODEL.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpeciesPattern {
    /// Every site is species 0.
    #[default]
    Uniform,
    /// Rock-salt parity: species (x + y + z + b) mod 2 of the cell coordinates and basis index.
    Alternating,
    /// By layer: species z mod count.
    Layers,
    /// At random with the given fractions, from the site hash (stream 4).
    Random,
}

/// A whole material: lattice, species, equation of state, laws and default conditions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Short name (the preset name).
    pub name: String,
    /// One line saying what the material shows.
    pub description: String,
    /// `tunnel` (physical), `bernoulli-site` or `bernoulli-bond`.
    #[serde(default)]
    pub mode: Mode,
    /// Lattice geometry.
    pub lattice: LatticeConfig,
    /// Species assignment.
    #[serde(default)]
    pub species: SpeciesConfig,
    /// Equation of state, thermal expansion and vibration.
    #[serde(default)]
    pub eos: EosConfig,
    /// Overlap, tunnel and gap laws shared by all species pairs.
    #[serde(default)]
    pub overlap: OverlapConfig,
    /// Per species-pair overrides: contact distance, gap, engineered attraction.
    #[serde(default, rename = "pair")]
    pub pairs: Vec<PairConfig>,
    /// Default run conditions.
    #[serde(default)]
    pub conditions: ConditionsConfig,
    /// Bernoulli-mode parameters.
    #[serde(default)]
    pub bernoulli: BernoulliConfig,
    /// Conventional phase lines (melting, vapour), if the material has them; they mark points
    /// solid, liquid or gas and never change a tunnel state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<PhasesConfig>,
    /// Occupancy of volume mode, handed over at run time (the model crate does no I/O).
    #[serde(skip)]
    pub volume: Option<Occupancy>,
}

/// Site occupancy of a voxel volume: one byte per site in site-index order, nonzero = occupied.
/// Shared, so cloning a material never copies the volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupancy(pub std::sync::Arc<[u8]>);

/// `[lattice]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatticeConfig {
    /// sc, bcc, fcc, diamond, square, tetragonal.
    pub kind: LatticeKind,
    /// Conventional cell edge at P = 0, T = T_ref, in Å (in-plane edge for tetragonal).
    #[serde(default = "default_a0")]
    pub a0: f64,
    /// Stacking over in-plane edge, c/a (tetragonal only; 1 elsewhere).
    #[serde(default = "one")]
    pub c_over_a: f64,
    /// Cells along x, y, z (z = 1 for square).
    #[serde(default = "default_cells")]
    pub cells: [u32; 3],
    /// Boundary per axis: "open" or "periodic".
    #[serde(default)]
    pub boundary: [Boundary; 3],
    /// Probability that a site is absent, in [0, 1].
    #[serde(default)]
    pub vacancy: f64,
    /// Neighbours of an sc site in volume mode: 6 (faces, the default), 18 (faces and edges) or
    /// 26 (faces, edges and corners). Other lattices keep their first shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectivity: Option<u32>,
}

/// `[species]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeciesConfig {
    /// uniform, alternating, layers or random.
    #[serde(default)]
    pub pattern: SpeciesPattern,
    /// Number of species, 1 to 4.
    #[serde(default = "one_u32")]
    pub count: u32,
    /// Fractions of each species for the random pattern (sum 1).
    #[serde(default)]
    pub fractions: Vec<f64>,
    /// Optional names, for reports.
    #[serde(default)]
    pub names: Vec<String>,
}

/// `[eos]`: Murnaghan equation of state, compressibility weights, thermal laws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EosConfig {
    /// Bulk modulus K0, GPa.
    #[serde(default = "default_k0")]
    pub k0_gpa: f64,
    /// Pressure derivative of the bulk modulus, K0'.
    #[serde(default = "default_k0_prime")]
    pub k0_prime: f64,
    /// Per-axis compressibility weights (mean 1).
    #[serde(default = "default_weights")]
    pub weights: [f64; 3],
    /// Linear thermal expansion α, 1/K.
    #[serde(default = "default_alpha")]
    pub alpha_per_k: f64,
    /// Reference temperature T_ref, K.
    #[serde(default = "default_t_ref")]
    pub t_ref_k: f64,
    /// Static displacement rms per component, Å.
    #[serde(default)]
    pub sigma_static: f64,
    /// Thermal displacement rms per component at T_ref, Å.
    #[serde(default)]
    pub sigma_thermal: f64,
}

/// `[overlap]`: the laws of MODEL.md §5 shared by every species pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverlapConfig {
    /// Contact distance r, Å (pairs may override).
    #[serde(default = "default_contact")]
    pub contact_distance: f64,
    /// Overlap decay length λ, Å.
    #[serde(default = "default_decay")]
    pub decay_length: f64,
    /// Tunnel onset S_t: a tunnel exists iff S ≥ S_t.
    #[serde(default = "one")]
    pub tunnel_onset: f64,
    /// Gap closing S_sc > S_t: the bond superconducts iff S ≥ S_sc.
    #[serde(default = "default_sc_onset")]
    pub sc_onset: f64,
    /// Lifting energy Δ0 at the tunnel onset, eV (pairs may override).
    #[serde(default = "one")]
    pub gap_ev: f64,
    /// Bond resistance R0 at Δ = Δ0, ohm.
    #[serde(default = "default_r0")]
    pub r0_ohm: f64,
    /// Critical-current scale J0 of a superconducting bond, A.
    #[serde(default = "one")]
    pub j0_amp: f64,
}

/// One `[[pair]]` entry: laws of the bond between species `species[0]` and `species[1]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairConfig {
    /// The two species (order does not matter).
    pub species: [u32; 2],
    /// Contact distance r_pq, Å (default: `[overlap] contact_distance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_distance: Option<f64>,
    /// Lifting energy Δ0_pq, eV (default: `[overlap] gap_ev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_ev: Option<f64>,
    /// Engineered attraction δ_pq ≥ 0, Å: shortens the effective bond distance.
    #[serde(default)]
    pub attraction: f64,
    /// Compression bond β_pq ≥ 0, Å/GPa: attraction induced by pressure.
    #[serde(default)]
    pub compression_bond: f64,
}

/// `[conditions]`: defaults for a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionsConfig {
    /// Pressure, GPa.
    #[serde(default)]
    pub pressure_gpa: f64,
    /// Temperature, K.
    #[serde(default = "default_t_ref")]
    pub temperature_k: f64,
    /// Seed of the site hash.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

/// `[bernoulli]`: parameters of the geometry-free modes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BernoulliConfig {
    /// Occupation (site) or opening (bond) probability, in [0, 1].
    #[serde(default = "default_p")]
    pub p: f64,
}

fn default_a0() -> f64 {
    3.0
}
fn one() -> f64 {
    1.0
}
fn one_u32() -> u32 {
    1
}
fn default_cells() -> [u32; 3] {
    [64, 64, 64]
}
fn default_k0() -> f64 {
    100.0
}
fn default_k0_prime() -> f64 {
    4.0
}
fn default_weights() -> [f64; 3] {
    [1.0; 3]
}
fn default_alpha() -> f64 {
    2e-5
}
fn default_t_ref() -> f64 {
    300.0
}
fn default_contact() -> f64 {
    2.85
}
fn default_decay() -> f64 {
    0.2
}
fn default_sc_onset() -> f64 {
    1.75f64.exp()
}
fn default_r0() -> f64 {
    1000.0
}
fn default_seed() -> u64 {
    1
}
fn default_p() -> f64 {
    0.5
}

impl Default for SpeciesConfig {
    fn default() -> Self {
        Self {
            pattern: SpeciesPattern::Uniform,
            count: 1,
            fractions: Vec::new(),
            names: Vec::new(),
        }
    }
}

impl Default for EosConfig {
    fn default() -> Self {
        Self {
            k0_gpa: default_k0(),
            k0_prime: default_k0_prime(),
            weights: default_weights(),
            alpha_per_k: default_alpha(),
            t_ref_k: default_t_ref(),
            sigma_static: 0.0,
            sigma_thermal: 0.0,
        }
    }
}

impl Default for OverlapConfig {
    fn default() -> Self {
        Self {
            contact_distance: default_contact(),
            decay_length: default_decay(),
            tunnel_onset: 1.0,
            sc_onset: default_sc_onset(),
            gap_ev: 1.0,
            r0_ohm: default_r0(),
            j0_amp: 1.0,
        }
    }
}

impl Default for ConditionsConfig {
    fn default() -> Self {
        Self {
            pressure_gpa: 0.0,
            temperature_k: default_t_ref(),
            seed: default_seed(),
        }
    }
}

impl Default for BernoulliConfig {
    fn default() -> Self {
        Self { p: default_p() }
    }
}

/// A config that cannot be used, with the field at fault and what would be allowed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    /// The TOML did not parse or named an unknown key.
    #[error("invalid material TOML: {0}")]
    Parse(String),
    /// A number outside its allowed range (or NaN).
    #[error("{field} = {value} is out of range: allowed {allowed}")]
    OutOfRange {
        /// Dotted path of the field, e.g. `lattice.vacancy`.
        field: String,
        /// The value given.
        value: String,
        /// The allowed range, in words.
        allowed: String,
    },
    /// The lattice is larger than memory or the index type allows.
    #[error("lattice of {sites} sites is too large: it needs {needed}, {limit}")]
    TooLarge {
        /// Sites requested.
        sites: u64,
        /// Memory it would need, human-readable.
        needed: String,
        /// Which limit it exceeds.
        limit: String,
    },
    /// No preset of that name.
    #[error("unknown preset '{0}' (see `tunnelgrid presets`)")]
    UnknownPreset(String),
    /// Volume mode without a matching occupancy.
    #[error("{0}")]
    Volume(String),
}

/// Checks `lo <= value <= hi` (NaN fails) and names the field otherwise.
pub fn check_range(
    field: &str,
    value: f64,
    lo: f64,
    hi: f64,
    allowed: &str,
) -> Result<(), ConfigError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            field: field.to_string(),
            value: short_number(value),
            allowed: allowed.to_string(),
        })
    }
}

/// A number as a person reads it in a message: `1e308`, not its 309 digits; `0` for −0.
pub fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if magnitude.is_finite() && !(1e-4..1e9).contains(&magnitude) {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

/// Largest cell count per axis accepted (the site index of a lattice must fit u32 with room for
/// label 0 = absent, which `Material::validate` checks on the product).
pub const MAX_CELLS_PER_AXIS: u32 = 1 << 20;

impl Material {
    /// Parses and validates a material from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Material, ConfigError> {
        let material: Material =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        material.validate()?;
        Ok(material)
    }

    /// This material as TOML, for users to copy and edit.
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).expect("a material always serialises")
    }

    /// Checks every field against its allowed range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.lattice;
        let lattice = l.kind;
        for (axis, &n) in l.cells.iter().enumerate() {
            let field = format!("lattice.cells[{axis}]");
            let max = if lattice.is_2d() && axis == 2 {
                1
            } else {
                MAX_CELLS_PER_AXIS
            };
            if n < 1 || n > max {
                return Err(ConfigError::OutOfRange {
                    field,
                    value: n.to_string(),
                    allowed: format!("an integer in [1, {max}]"),
                });
            }
        }
        if let Some(c) = l.connectivity {
            let allowed = if lattice == LatticeKind::Sc && self.mode == Mode::Volume {
                "6, 18 or 26"
            } else {
                "6 on sc lattices (18 and 26 need volume mode); other lattices keep their shell"
            };
            let ok = match c {
                6 => lattice == LatticeKind::Sc,
                18 | 26 => lattice == LatticeKind::Sc && self.mode == Mode::Volume,
                _ => false,
            };
            if !ok {
                return Err(ConfigError::OutOfRange {
                    field: "lattice.connectivity".into(),
                    value: c.to_string(),
                    allowed: allowed.into(),
                });
            }
        }
        if self.mode == Mode::Volume {
            // A voxel is an image pixel, not an atom: nanometres to a metre.
            check_range(
                "lattice.a0",
                l.a0,
                1e-3,
                1e10,
                "a voxel edge in Å in [0.001, 1e10] (--voxel up to 1 m)",
            )?;
        } else {
            check_range(
                "lattice.a0",
                l.a0,
                1e-3,
                1e3,
                "a length in Å in [0.001, 1000]",
            )?;
        }
        check_range(
            "lattice.c_over_a",
            l.c_over_a,
            0.1,
            10.0,
            "a ratio in [0.1, 10]",
        )?;
        if lattice != LatticeKind::Tetragonal && l.c_over_a != 1.0 {
            return Err(ConfigError::OutOfRange {
                field: "lattice.c_over_a".into(),
                value: l.c_over_a.to_string(),
                allowed: "1 (only tetragonal lattices have c/a ≠ 1)".into(),
            });
        }
        check_range(
            "lattice.vacancy",
            l.vacancy,
            0.0,
            1.0,
            "a probability in [0, 1]",
        )?;

        let s = &self.species;
        if !(1..=4).contains(&s.count) {
            return Err(ConfigError::OutOfRange {
                field: "species.count".into(),
                value: s.count.to_string(),
                allowed: "an integer in [1, 4]".into(),
            });
        }
        if s.pattern == SpeciesPattern::Random {
            if s.fractions.len() != s.count as usize {
                return Err(ConfigError::OutOfRange {
                    field: "species.fractions".into(),
                    value: format!("{} entries", s.fractions.len()),
                    allowed: format!("species.count = {} entries", s.count),
                });
            }
            for (i, &f) in s.fractions.iter().enumerate() {
                check_range(
                    &format!("species.fractions[{i}]"),
                    f,
                    0.0,
                    1.0,
                    "a fraction in [0, 1]",
                )?;
            }
            let sum: f64 = s.fractions.iter().sum();
            check_range(
                "species.fractions (sum)",
                sum,
                1.0 - 1e-9,
                1.0 + 1e-9,
                "fractions that sum to 1",
            )?;
        }
        if !s.names.is_empty() && s.names.len() != s.count as usize {
            return Err(ConfigError::OutOfRange {
                field: "species.names".into(),
                value: format!("{} entries", s.names.len()),
                allowed: format!(
                    "none, or species.count = {} entries (one name per species)",
                    s.count
                ),
            });
        }
        if s.pattern == SpeciesPattern::Alternating && s.count != 2 {
            return Err(ConfigError::OutOfRange {
                field: "species.count".into(),
                value: s.count.to_string(),
                allowed: "2 for the alternating pattern".into(),
            });
        }

        let e = &self.eos;
        check_range(
            "eos.k0_gpa",
            e.k0_gpa,
            1e-3,
            1e5,
            "a bulk modulus in GPa in [0.001, 100000]",
        )?;
        check_range(
            "eos.k0_prime",
            e.k0_prime,
            0.01,
            100.0,
            "a number in [0.01, 100]",
        )?;
        for (i, &w) in e.weights.iter().enumerate() {
            check_range(
                &format!("eos.weights[{i}]"),
                w,
                0.0,
                3.0,
                "a weight in [0, 3]",
            )?;
        }
        let mean_w = e.weights.iter().sum::<f64>() / 3.0;
        check_range(
            "eos.weights (mean)",
            mean_w,
            1.0 - 1e-6,
            1.0 + 1e-6,
            "weights whose mean is 1",
        )?;
        check_range(
            "eos.alpha_per_k",
            e.alpha_per_k,
            0.0,
            1e-2,
            "an expansion coefficient in [0, 0.01] 1/K",
        )?;
        check_range(
            "eos.t_ref_k",
            e.t_ref_k,
            1.0,
            1e5,
            "a temperature in K in [1, 100000]",
        )?;
        check_range(
            "eos.sigma_static",
            e.sigma_static,
            0.0,
            10.0,
            "a length in Å in [0, 10]",
        )?;
        check_range(
            "eos.sigma_thermal",
            e.sigma_thermal,
            0.0,
            10.0,
            "a length in Å in [0, 10]",
        )?;

        let o = &self.overlap;
        check_range(
            "overlap.contact_distance",
            o.contact_distance,
            1e-3,
            1e3,
            "a length in Å in [0.001, 1000]",
        )?;
        check_range(
            "overlap.decay_length",
            o.decay_length,
            1e-4,
            1e2,
            "a length in Å in [0.0001, 100]",
        )?;
        check_range(
            "overlap.tunnel_onset",
            o.tunnel_onset,
            1e-300,
            1e300,
            "a positive overlap",
        )?;
        check_range(
            "overlap.sc_onset",
            o.sc_onset,
            o.tunnel_onset * (1.0 + 1e-9),
            1e300,
            "an overlap greater than overlap.tunnel_onset",
        )?;
        check_range(
            "overlap.gap_ev",
            o.gap_ev,
            1e-9,
            1e3,
            "an energy in eV in (0, 1000]",
        )?;
        check_range(
            "overlap.r0_ohm",
            o.r0_ohm,
            1e-12,
            1e15,
            "a resistance in ohm in (0, 1e15]",
        )?;
        check_range(
            "overlap.j0_amp",
            o.j0_amp,
            1e-12,
            1e15,
            "a current in A in (0, 1e15]",
        )?;
        let d_t = o.contact_distance - o.decay_length * o.tunnel_onset.ln();
        if d_t.is_nan() || d_t <= 0.0 {
            return Err(ConfigError::OutOfRange {
                field: "overlap.tunnel_onset".into(),
                value: o.tunnel_onset.to_string(),
                allowed: "an onset whose tunnel distance r − λ·ln S_t is positive".into(),
            });
        }
        for (i, pair) in self.pairs.iter().enumerate() {
            let [a, b] = pair.species;
            // Two entries for one pair would leave which one applies to their order.
            if let Some(first) = self.pairs[..i]
                .iter()
                .position(|q| q.species == [a, b] || q.species == [b, a])
            {
                return Err(ConfigError::OutOfRange {
                    field: format!("pair[{i}].species"),
                    value: format!("[{a}, {b}]"),
                    allowed: format!(
                        "a species pair not given before (pair[{first}] already sets {a}–{b})"
                    ),
                });
            }
            for (j, &sp) in pair.species.iter().enumerate() {
                if sp >= s.count {
                    return Err(ConfigError::OutOfRange {
                        field: format!("pair[{i}].species[{j}]"),
                        value: sp.to_string(),
                        allowed: format!("a species index in [0, {}]", s.count - 1),
                    });
                }
            }
            if let Some(r) = pair.contact_distance {
                check_range(
                    &format!("pair[{i}].contact_distance"),
                    r,
                    1e-3,
                    1e3,
                    "a length in Å in [0.001, 1000]",
                )?;
                let d_t = r - o.decay_length * o.tunnel_onset.ln();
                check_range(
                    &format!("pair[{i}].contact_distance"),
                    d_t,
                    1e-9,
                    f64::MAX,
                    "a contact distance whose tunnel distance r − λ·ln S_t is positive",
                )?;
            }
            if let Some(g) = pair.gap_ev {
                check_range(
                    &format!("pair[{i}].gap_ev"),
                    g,
                    1e-9,
                    1e3,
                    "an energy in eV in (0, 1000]",
                )?;
            }
            check_range(
                &format!("pair[{i}].attraction"),
                pair.attraction,
                0.0,
                1e2,
                "a length in Å in [0, 100]",
            )?;
            check_range(
                &format!("pair[{i}].compression_bond"),
                pair.compression_bond,
                0.0,
                10.0,
                "Å/GPa in [0, 10]",
            )?;
        }
        check_conditions(
            self,
            self.conditions.pressure_gpa,
            self.conditions.temperature_k,
            "conditions.",
        )?;
        check_range(
            "bernoulli.p",
            self.bernoulli.p,
            0.0,
            1.0,
            "a probability in [0, 1]",
        )?;
        if let Some(phases) = &self.phases {
            phases.validate()?;
        }
        Ok(())
    }
}

/// Checks a pressure and temperature for a material; `prefix` names where they came from.
pub fn check_conditions(
    material: &Material,
    pressure_gpa: f64,
    temperature_k: f64,
    prefix: &str,
) -> Result<(), ConfigError> {
    check_range(
        &format!("{prefix}pressure_gpa"),
        pressure_gpa,
        0.0,
        1e4,
        "a pressure in GPa in [0, 10000]",
    )?;
    check_range(
        &format!("{prefix}temperature_k"),
        temperature_k,
        0.0,
        1e5,
        "a temperature in K in [0, 100000]",
    )?;
    let e = &material.eos;
    let t = 1.0 + e.alpha_per_k * (temperature_k - e.t_ref_k);
    if t <= 0.0 {
        return Err(ConfigError::OutOfRange {
            field: format!("{prefix}temperature_k"),
            value: temperature_k.to_string(),
            allowed: format!(
                "a temperature where 1 + α·(T − T_ref) > 0, i.e. above {} K",
                e.t_ref_k - 1.0 / e.alpha_per_k
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::preset;

    fn volume_material(kind: LatticeKind, connectivity: u32) -> Material {
        let mut m = preset("default").unwrap();
        m.lattice.kind = kind;
        m.mode = Mode::Volume;
        m.lattice.connectivity = Some(connectivity);
        m
    }

    #[test]
    fn connectivity_is_6_18_or_26_and_only_volumes_go_beyond_the_shell() {
        for c in [6, 18, 26] {
            assert!(
                volume_material(LatticeKind::Sc, c).validate().is_ok(),
                "{c}"
            );
        }
        for (kind, c) in [
            (LatticeKind::Sc, 8),
            (LatticeKind::Bcc, 18),
            (LatticeKind::Fcc, 6),
        ] {
            let err = volume_material(kind, c).validate().unwrap_err().to_string();
            assert!(err.contains("lattice.connectivity"), "{err}");
        }
        let mut tunnel = preset("default").unwrap();
        tunnel.lattice.connectivity = Some(26);
        let err = tunnel.validate().unwrap_err().to_string();
        assert!(
            err.contains("lattice.connectivity") && err.contains("volume"),
            "{err}"
        );
        // Unset, it stays out of the TOML a user copies.
        assert!(!preset("default")
            .unwrap()
            .to_toml_string()
            .contains("connectivity"));
    }
}
