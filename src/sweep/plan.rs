//! A sweep's plan: the pressure and temperature axes, the shard, the model and what each point
//! computes, with the identity line that ties a CSV to it.

use super::phase_lines;
use crate::point::PointOptions;
use crate::spec::{ModelSpec, Names};
use anyhow::{ensure, Context, Result};
use tunnelgrid_model::report::MIN_CELLS_FOR_A_STATE;
use tunnelgrid_model::{Conditions, Model};

/// The model of a study that varies pressure and temperature (`sweep`, `profile`), refused in
/// the Bernoulli and volume modes, where P and T have no effect. `command` names the study in
/// the error.
pub fn pressure_temperature_model(
    spec: &ModelSpec,
    names: Names,
    command: &str,
) -> Result<(Model, Conditions)> {
    let (model, conditions) = spec.build(names)?;
    ensure!(
        !model.material.mode.is_bernoulli(),
        "{command} varies pressure and temperature; material '{}' is in {} mode, where they have no effect",
        model.material.name,
        model.material.mode.name()
    );
    Ok((model, conditions))
}

/// The axes a study of `model` draws and solves: `axis` (0 = x, 1 = y, 2 = z) or, for `None`,
/// every axis of the lattice. Refuses z on a 2D lattice, and a choice in which no axis is thick
/// enough to have a state (then no point would have one); errors name the values in the
/// caller's style.
pub fn swept_axes(model: &Model, axis: Option<usize>, names: Names) -> Result<Vec<usize>> {
    let axes = match axis {
        None => (0..model.lattice.axes()).collect(),
        Some(a) => {
            ensure!(
                a < model.lattice.axes(),
                "{} {}: the {} lattice is two-dimensional",
                names.of("axis"),
                ["x", "y", "z"].get(a).copied().unwrap_or("?"),
                model.material.lattice.kind.name()
            );
            vec![a]
        }
    };
    let cells = model.lattice.cells;
    ensure!(
        axes.iter().any(|&a| cells[a] >= MIN_CELLS_FOR_A_STATE),
        "the lattice is {}×{}×{} cells: no swept axis is at least {MIN_CELLS_FOR_A_STATE} cells thick, so no point would have a state ({}, {})",
        cells[0],
        cells[1],
        cells[2],
        names.of("size"),
        names.of("axis")
    );
    Ok(axes)
}

/// Refuses seeds `seed`, seed + 1, …, seed + seeds − 1 that would pass u64::MAX (they would wrap
/// to seed 0).
pub fn check_seed_run(seed: u64, seeds: u32, names: Names) -> Result<()> {
    let last = u64::from(seeds.max(1)) - 1;
    ensure!(
        seed.checked_add(last).is_some(),
        "{} {seed} {} {seeds}: the seeds would pass 2^64 − 1 = {}; allowed a first seed up to {}",
        names.of("seed"),
        names.of("seeds"),
        u64::MAX,
        u64::MAX - last
    );
    Ok(())
}

/// The file a sweep (or one shard of it) appends to, inside its output folder.
pub fn csv_name(shard: Option<Shard>) -> String {
    match shard {
        None => "sweep.csv".into(),
        Some(s) => format!("sweep-shard-{}-of-{}.csv", s.index, s.count),
    }
}

/// `A:B:N`: N evenly spaced values from A to B inclusive (N = 1 gives A).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridAxis {
    /// First value.
    pub start: f64,
    /// Last value.
    pub stop: f64,
    /// Number of values, 1..=4096.
    pub count: usize,
}

impl GridAxis {
    /// Parses `A:B:N`; errors name `flag` and the allowed ranges.
    pub fn parse(spec: &str, flag: &str) -> Result<Self> {
        let parts: Vec<&str> = spec.split(':').collect();
        ensure!(
            parts.len() == 3,
            "{flag} takes START:STOP:COUNT (e.g. 0:300:16), got '{spec}'"
        );
        let number = |s: &str, what: &str| -> Result<f64> {
            let v: f64 = s
                .trim()
                .parse()
                .with_context(|| format!("{flag}: {what} '{s}' is not a number"))?;
            ensure!(v.is_finite(), "{flag}: {what} must be finite, got {s}");
            // −0 reads as 0, so no row or picture says "-0".
            Ok(v + 0.0)
        };
        let start = number(parts[0], "START")?;
        let stop = number(parts[1], "STOP")?;
        let count: usize = parts[2]
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=4096).contains(n))
            .with_context(|| {
                format!(
                    "{flag}: COUNT must be a whole number in 1..=4096, got '{}'",
                    parts[2]
                )
            })?;
        // One value cannot span a range: `0:300:1` would silently evaluate only START.
        ensure!(
            count > 1 || start == stop,
            "{flag} {spec}: COUNT 1 gives the single value START, so STOP must equal START; give COUNT ≥ 2 to span {start}…{stop}, or {start}:{start}:1"
        );
        Ok(Self { start, stop, count })
    }

    /// The values, computed as start + (stop − start)·i/(N − 1) in f64.
    pub fn values(&self) -> Vec<f64> {
        if self.count == 1 {
            return vec![self.start];
        }
        let step = (self.stop - self.start) / (self.count - 1) as f64;
        (0..self.count)
            .map(|i| {
                if i + 1 == self.count {
                    self.stop
                } else {
                    self.start + step * i as f64
                }
            })
            .collect()
    }
}

impl std::fmt::Display for GridAxis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.start, self.stop, self.count)
    }
}

/// One shard `I/N` of a grid (1 ≤ I ≤ N): the points whose index mod N is I − 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// I, 1-based (matches job-array task ids).
    pub index: u32,
    /// N.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(spec: &str) -> Result<Self> {
        let (i, n) = spec
            .split_once('/')
            .with_context(|| format!("--shard takes I/N (e.g. 3/8), got '{spec}'"))?;
        let i: u32 = i
            .trim()
            .parse()
            .with_context(|| format!("--shard: I '{i}' is not a whole number"))?;
        let n: u32 = n
            .trim()
            .parse()
            .with_context(|| format!("--shard: N '{n}' is not a whole number"))?;
        ensure!(
            n >= 1 && (1..=n).contains(&i),
            "--shard I/N needs 1 ≤ I ≤ N, got {i}/{n}"
        );
        Ok(Self { index: i, count: n })
    }

    /// Whether grid point `index` belongs to this shard.
    pub fn owns(&self, index: usize) -> bool {
        index % self.count as usize == (self.index - 1) as usize
    }
}

/// Everything that defines a sweep's rows.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// The validated model (its lattice size is the size of every point).
    pub model: Model,
    /// Pressure axis, GPa.
    pub pressure: GridAxis,
    /// Temperature axis, K.
    pub temperature: GridAxis,
    /// Seeds per point (≥ 1), starting at `base_seed`.
    pub seeds: u32,
    /// First seed.
    pub base_seed: u64,
    /// Axes whose state is drawn and whose resistivity is solved (0 = x, 1 = y, 2 = z).
    pub axes: Vec<usize>,
    /// Solve the resistivity along `axes` (Kirchhoff solver of the analysing engine).
    pub resistance: bool,
    /// Only this shard's points, if any.
    pub shard: Option<Shard>,
}

impl SweepPlan {
    /// Refuses a plan whose grid leaves the material's allowed pressures or temperatures (each
    /// corner is checked; the axes are monotonic) or whose seeds would pass 2^64 − 1; errors
    /// name the values in the caller's style.
    pub fn check(&self, names: Names) -> Result<()> {
        let base = Conditions {
            seed: self.base_seed,
            ..self.model.default_conditions()
        };
        for p in [self.pressure.start, self.pressure.stop] {
            for t in [self.temperature.start, self.temperature.stop] {
                self.model
                    .check_conditions(&Conditions {
                        pressure_gpa: p,
                        temperature_k: t,
                        ..base
                    })
                    .with_context(|| {
                        format!(
                            "{} {} / {} {}",
                            names.of("pressure"),
                            self.pressure,
                            names.of("temperature"),
                            self.temperature
                        )
                    })?;
            }
        }
        check_seed_run(self.base_seed, self.seeds, names)
    }

    /// Number of pressures × temperatures.
    pub fn points(&self) -> usize {
        self.pressure.count * self.temperature.count
    }

    /// The indices this plan evaluates, in order.
    pub fn indices(&self) -> Vec<usize> {
        (0..self.points())
            .filter(|&i| self.shard.is_none_or(|s| s.owns(i)))
            .collect()
    }

    /// (pressure, temperature) of grid point `index`.
    pub fn conditions_of(&self, index: usize) -> (usize, usize, f64, f64) {
        let (ip, it) = (index % self.pressure.count, index / self.pressure.count);
        (
            ip,
            it,
            self.pressure.values()[ip],
            self.temperature.values()[it],
        )
    }

    /// How each point is analysed.
    pub fn options(&self) -> PointOptions<'_> {
        PointOptions {
            seeds: self.seeds,
            base_seed: self.base_seed,
            axes: &self.axes,
            resistance: self.resistance,
        }
    }

    /// The first line of the CSV: what the rows depend on. Resuming or merging checks it.
    pub fn identity(&self) -> String {
        let m = &self.model.material;
        let [nx, ny, nz] = self.model.lattice.cells;
        let axes: String = self.axes.iter().map(|&a| ["x", "y", "z"][a]).collect();
        let mut line = format!(
            "# tunnelgrid sweep v2 material={} fingerprint={:016x} cells={nx}x{ny}x{nz} pressure={} temperature={} seeds={} seed={} axes={axes} resistance={}",
            m.name.replace(char::is_whitespace, "_"),
            material_fingerprint(&self.model),
            self.pressure,
            self.temperature,
            self.seeds,
            self.base_seed,
            self.resistance
        );
        if let Some(phases) = &m.phases {
            line += &phase_lines::identity_fields(phases);
        }
        if let Some(s) = self.shard {
            line += &format!(" shard={}/{}", s.index, s.count);
        }
        line
    }
}

/// FNV-1a of the material's TOML without its default conditions (the sweep sets those), so a
/// resumed or merged sweep refuses rows of another material.
pub(crate) fn material_fingerprint(model: &Model) -> u64 {
    let mut material = model.material.clone();
    material.conditions = Default::default();
    let text = toml::to_string(&material).unwrap_or_default();
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
