//! Pressure–temperature sweeps: every (P, T) point of a grid is analysed (optionally over several
//! seeds and with the resistivity per axis), and each finished point is appended to `sweep.csv`
//! at once, so a killed sweep loses nothing and `--resume` skips the points already there.
//!
//! # The file
//! `sweep.csv` starts with one `#` line that identifies the sweep (material fingerprint, lattice
//! size, grid, seeds, axes, resistance; a shard adds ` shard=I/N`), then the CSV header, then one
//! row per point. Every number is written with a fixed format (`{:.9e}` for observables, Rust's
//! shortest round-trip form for P and T), so the same sweep gives the same bytes. The last
//! column, `conventional_state`, is solid, liquid or gas by the material's `[phases]` lines
//! (empty without them); files of v1, which lack it, are refused with a message saying so.
//!
//! # Order
//! Points are evaluated one after another in grid order (`index = i_t·n_p + i_p`, pressure
//! fastest; a shard takes the indices `index mod N = I − 1`), each using every core through the
//! engine. The rows of a file are therefore always an increasing prefix of its points, and a
//! resumed sweep appends exactly the rows an uninterrupted one would have: the files are equal
//! byte for byte. `merge` sorts the shards' rows by index.
//!
//! # Appending safely
//! A row is formatted in memory, written with one `write_all` and then `fsync`ed. A kill can
//! at worst leave a torn last line (no trailing newline); `--resume` drops it (truncating the
//! file to the last newline) and evaluates that point again.
//!
//! # Several seeds
//! With `--seeds K` a point is analysed with seeds s, s+1, …, s+K−1 (s the material's or
//! `--seed`). Its state along each axis is the majority state (a tie goes to the less conducting
//! state), the observables are arithmetic means (the mean gap over the seeds that have normal
//! tunnels), and the resistivity is the lower median of the K values (∞ for insulating seeds,
//! 0 for superconducting ones), which agrees with the majority state when K is odd.

mod figures;
mod grid;
mod lock;
pub mod phase_lines;

pub use figures::{render_sweep, sweep_figures, SweepFigures};
pub use grid::SweepGrid;
pub use lock::WriterLock;

use crate::output::write_text;
use crate::point::{analyze_point, PointOptions};
use anyhow::{bail, ensure, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use tunnelgrid_model::{ConventionalState, Engine, Model, State};

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
fn material_fingerprint(model: &Model) -> u64 {
    let mut material = model.material.clone();
    material.conditions = Default::default();
    let text = toml::to_string(&material).unwrap_or_default();
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The CSV header (after the identity line).
pub const HEADER: &str = "index,i_p,i_t,pressure_gpa,temperature_k,seeds,state_x,state_y,state_z,tunnel_bond_fraction,sc_bond_fraction,largest_cluster_fraction,mean_cluster_size,mean_gap_ev,resistivity_x_ohm_m,resistivity_y_ohm_m,resistivity_z_ohm_m,conventional_state";

/// The header of v1 files (before `conventional_state`), recognised only to refuse them clearly.
const HEADER_V1: &str = "index,i_p,i_t,pressure_gpa,temperature_k,seeds,state_x,state_y,state_z,tunnel_bond_fraction,sc_bond_fraction,largest_cluster_fraction,mean_cluster_size,mean_gap_ev,resistivity_x_ohm_m,resistivity_y_ohm_m,resistivity_z_ohm_m";

/// One finished grid point (aggregated over its seeds).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRow {
    /// Grid index, `i_t·n_p + i_p`.
    pub index: usize,
    /// Pressure index.
    pub i_p: usize,
    /// Temperature index.
    pub i_t: usize,
    /// Pressure, GPa.
    pub pressure_gpa: f64,
    /// Temperature, K.
    pub temperature_k: f64,
    /// Seeds aggregated.
    pub seeds: u32,
    /// State per axis (`None` for z of 2D lattices).
    pub states: [Option<State>; 3],
    /// Mean tunnel-bond fraction.
    pub tunnel_bond_fraction: f64,
    /// Mean superconducting-bond fraction.
    pub sc_bond_fraction: f64,
    /// Mean largest-cluster fraction.
    pub largest_cluster_fraction: f64,
    /// Mean finite-cluster size.
    pub mean_cluster_size: f64,
    /// Mean gap of normal tunnels, eV (`None` when no seed has any).
    pub mean_gap_ev: Option<f64>,
    /// Resistivity per axis, Ω·m: `None` when not solved, +∞ insulating, 0 superconducting.
    pub resistivity_ohm_m: [Option<f64>; 3],
    /// Solid, liquid or gas by the material's `[phases]` lines (`None` without them).
    pub conventional: Option<ConventionalState>,
}

fn fmt_f(v: f64) -> String {
    if v.is_infinite() {
        "inf".into()
    } else {
        format!("{v:.9e}")
    }
}

fn state_name(s: Option<State>) -> String {
    s.and_then(State::name).unwrap_or_default().to_string()
}

impl SweepRow {
    /// The row as one CSV line, with its newline.
    pub fn to_line(&self) -> String {
        let opt = |v: Option<f64>| v.map(fmt_f).unwrap_or_default();
        format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            self.index,
            self.i_p,
            self.i_t,
            self.pressure_gpa,
            self.temperature_k,
            self.seeds,
            state_name(self.states[0]),
            state_name(self.states[1]),
            state_name(self.states[2]),
            fmt_f(self.tunnel_bond_fraction),
            fmt_f(self.sc_bond_fraction),
            fmt_f(self.largest_cluster_fraction),
            fmt_f(self.mean_cluster_size),
            opt(self.mean_gap_ev),
            opt(self.resistivity_ohm_m[0]),
            opt(self.resistivity_ohm_m[1]),
            opt(self.resistivity_ohm_m[2]),
            self.conventional.map_or("", ConventionalState::name),
        )
    }

    /// Parses a line written by [`SweepRow::to_line`] (without its newline).
    pub fn parse(line: &str) -> Result<Self> {
        let f: Vec<&str> = line.split(',').collect();
        ensure!(f.len() == 18, "expected 18 fields, found {}", f.len());
        let num = |i: usize| -> Result<f64> {
            let s = f[i];
            if s == "inf" {
                return Ok(f64::INFINITY);
            }
            s.parse()
                .with_context(|| format!("field {} '{s}' is not a number", i + 1))
        };
        let opt = |i: usize| -> Result<Option<f64>> {
            if f[i].is_empty() {
                Ok(None)
            } else {
                num(i).map(Some)
            }
        };
        let int = |i: usize| -> Result<usize> {
            f[i].parse()
                .with_context(|| format!("field {} '{}' is not an integer", i + 1, f[i]))
        };
        let state = |i: usize| -> Result<Option<State>> {
            Ok(match f[i] {
                "" => None,
                "insulating" => Some(State::Insulating),
                "conducting" => Some(State::Conducting),
                "superconducting" => Some(State::Superconducting),
                other => bail!("field {} '{other}' is not a state", i + 1),
            })
        };
        Ok(Self {
            index: int(0)?,
            i_p: int(1)?,
            i_t: int(2)?,
            pressure_gpa: num(3)?,
            temperature_k: num(4)?,
            seeds: int(5)? as u32,
            states: [state(6)?, state(7)?, state(8)?],
            tunnel_bond_fraction: num(9)?,
            sc_bond_fraction: num(10)?,
            largest_cluster_fraction: num(11)?,
            mean_cluster_size: num(12)?,
            mean_gap_ev: opt(13)?,
            resistivity_ohm_m: [opt(14)?, opt(15)?, opt(16)?],
            conventional: match f[17] {
                "" => None,
                name => {
                    Some(ConventionalState::from_name(name).with_context(|| {
                        format!("field 18 '{name}' is not solid, liquid or gas")
                    })?)
                }
            },
        })
    }
}

/// Analyses grid point `index` over the plan's seeds (`point::analyze_point`).
pub fn evaluate_point(engine: &dyn Engine, plan: &SweepPlan, index: usize) -> Result<SweepRow> {
    let (i_p, i_t, pressure, temperature) = plan.conditions_of(index);
    let point = analyze_point(engine, &plan.model, pressure, temperature, &plan.options())?;
    Ok(SweepRow {
        index,
        i_p,
        i_t,
        pressure_gpa: pressure,
        temperature_k: temperature,
        seeds: point.seeds,
        states: point.states,
        tunnel_bond_fraction: point.tunnel_bond_fraction,
        sc_bond_fraction: point.sc_bond_fraction,
        largest_cluster_fraction: point.largest_cluster_fraction,
        mean_cluster_size: point.mean_cluster_size,
        mean_gap_ev: point.mean_gap_ev,
        resistivity_ohm_m: point.resistivity_ohm_m,
        conventional: point.conventional,
    })
}

/// A sweep file read back: its identity line and rows.
#[derive(Debug, Clone)]
pub struct SweepFile {
    /// The `#` identity line.
    pub identity: String,
    /// The rows, in file order.
    pub rows: Vec<SweepRow>,
}

/// Reads a sweep CSV. A torn last line (no newline: the sweep was killed while writing it) is
/// dropped; when `repair` is set the file is also truncated to its last newline, so the next
/// append starts a clean line.
pub fn read_sweep(path: &Path, repair: bool) -> Result<SweepFile> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => last + 1,
        None => 0,
    };
    if complete < bytes.len() && repair {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.set_len(complete as u64)?;
        file.sync_all()?;
    }
    let text = std::str::from_utf8(&bytes[..complete])
        .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
    let mut lines = text.lines();
    let identity = lines.next().unwrap_or_default().to_string();
    ensure!(
        identity.starts_with("# tunnelgrid sweep"),
        "{} is not a tunnelgrid sweep file (its first line is not '# tunnelgrid sweep …')",
        path.display()
    );
    let header = lines.next().unwrap_or_default();
    ensure!(
        header != HEADER_V1,
        "{} was written by an older tunnelgrid (sweep v1, without the conventional_state column); \
         this version neither resumes nor merges it: rerun the sweep into another --out folder, \
         or finish it with the version that started it",
        path.display()
    );
    ensure!(
        header == HEADER,
        "{}: unexpected CSV header (written by another version?)",
        path.display()
    );
    let rows = lines
        .enumerate()
        .map(|(i, l)| {
            SweepRow::parse(l).with_context(|| format!("{} line {}", path.display(), i + 3))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SweepFile { identity, rows })
}

/// Appends rows to an open sweep file, one `write_all` + `fsync` per row.
pub struct SweepWriter {
    file: File,
    path: PathBuf,
}

impl SweepWriter {
    /// Opens `path` for a plan: creates it with the identity and header lines, or (with
    /// `resume`) checks an existing one and returns the rows already finished. Refuses to
    /// overwrite an existing file without `resume`.
    pub fn open(path: &Path, plan: &SweepPlan, resume: bool) -> Result<(Self, Vec<SweepRow>)> {
        let identity = plan.identity();
        let mut done = Vec::new();
        if path.exists() {
            ensure!(
                resume,
                "{} already exists: pass --resume to continue that sweep, or choose another --out",
                path.display()
            );
            let file = read_sweep(path, true)?;
            ensure!(
                file.identity == identity,
                "--resume: {} was written by a different sweep:\n  file: {}\n  this: {identity}",
                path.display(),
                file.identity
            );
            SweepGrid::of_plan(plan).check_rows(
                path,
                &file.rows,
                |index| plan.shard.is_none_or(|s| s.owns(index)),
                "--resume",
            )?;
            done = file.rows;
        } else {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating folder {}", dir.display()))?;
            }
            // The identity and header appear atomically: a file either has both or is absent.
            write_text(path, &format!("{identity}\n{HEADER}\n"))?;
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {} to append", path.display()))?;
        Ok((
            Self {
                file,
                path: path.to_path_buf(),
            },
            done,
        ))
    }

    /// Appends one row durably.
    pub fn append(&mut self, row: &SweepRow) -> Result<()> {
        let line = row.to_line();
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.sync_data())
            .with_context(|| format!("appending to {}", self.path.display()))
    }
}

/// Runs the plan's remaining points in order, appending each to `path`; `on_point(done, total,
/// row)` is called after each (for progress bars). Returns all rows of the file, sorted by index.
pub fn run_sweep(
    engine: &dyn Engine,
    plan: &SweepPlan,
    path: &Path,
    resume: bool,
    mut on_point: impl FnMut(usize, usize, Option<&SweepRow>),
) -> Result<Vec<SweepRow>> {
    let _lock = WriterLock::acquire(path)?;
    let (mut writer, mut rows) = SweepWriter::open(path, plan, resume)?;
    let finished: std::collections::HashSet<usize> = rows.iter().map(|r| r.index).collect();
    let indices = plan.indices();
    let total = indices.len();
    on_point(finished.len(), total, None);
    for index in indices.into_iter().filter(|i| !finished.contains(i)) {
        let row = evaluate_point(engine, plan, index)?;
        writer.append(&row)?;
        rows.push(row);
        on_point(rows.len(), total, rows.last());
    }
    rows.sort_by_key(|r| r.index);
    Ok(rows)
}

/// Joins shard files into one unsharded `sweep.csv` at `out`: all shards must come from the same
/// sweep (identity equal but for ` shard=I/N`), every shard 1..=N present once, and together
/// cover every grid point exactly once. Rows are written sorted by index, so the result equals
/// the file of an unsharded sweep byte for byte. Returns the identity and rows.
pub fn merge_shards(inputs: &[PathBuf], out: &Path) -> Result<SweepFile> {
    ensure!(!inputs.is_empty(), "merge: no shard files given");
    let _lock = WriterLock::acquire(out)?;
    // As `sweep` does, never replace a finished sweep.
    ensure!(
        !out.exists(),
        "merge: {} already exists; remove it or choose another --out",
        out.display()
    );
    let mut identity: Option<String> = None;
    let mut seen_shards = std::collections::BTreeSet::new();
    let mut shard_count = None;
    let mut rows = Vec::new();
    for path in inputs {
        let file = read_sweep(path, false)?;
        let (base, shard) = match file.identity.rsplit_once(" shard=") {
            Some((base, s)) => (base.to_string(), Some(Shard::parse(s)?)),
            None => (file.identity.clone(), None),
        };
        let shard = shard.with_context(|| {
            format!(
                "merge: {} is not a shard (no shard=I/N in its first line)",
                path.display()
            )
        })?;
        match &identity {
            None => identity = Some(base),
            Some(id) => ensure!(
                *id == base,
                "merge: {} belongs to another sweep:\n  {}\n  {id}",
                path.display(),
                base
            ),
        }
        ensure!(
            *shard_count.get_or_insert(shard.count) == shard.count,
            "merge: {} is shard {}/{}, but other files split the grid in {} shards",
            path.display(),
            shard.index,
            shard.count,
            shard_count.unwrap_or(0)
        );
        ensure!(
            seen_shards.insert(shard.index),
            "merge: shard {}/{} given twice",
            shard.index,
            shard.count
        );
        SweepGrid::of_identity(&file.identity)?.check_rows(
            path,
            &file.rows,
            |index| shard.owns(index),
            "merge",
        )?;
        rows.extend(file.rows);
    }
    let count = shard_count.unwrap_or(0);
    let missing: Vec<u32> = (1..=count).filter(|i| !seen_shards.contains(i)).collect();
    ensure!(
        missing.is_empty(),
        "merge: shards {missing:?} of {count} are missing"
    );
    let identity = identity.unwrap_or_default();
    let points = grid_points(&identity)?;
    rows.sort_by_key(|r| r.index);
    for w in rows.windows(2) {
        ensure!(
            w[0].index != w[1].index,
            "merge: point {} appears twice",
            w[0].index
        );
    }
    if rows.len() != points {
        let present: std::collections::HashSet<usize> = rows.iter().map(|r| r.index).collect();
        let first_missing = (0..points).find(|i| !present.contains(i)).unwrap_or(0);
        bail!(
            "merge: the shards hold {} of {points} points (point {first_missing} is missing: finish that shard with --resume first)",
            rows.len()
        );
    }
    let mut text = format!("{identity}\n{HEADER}\n");
    for r in &rows {
        text += &r.to_line();
    }
    write_text(out, &text)?;
    Ok(SweepFile { identity, rows })
}

/// Number of grid points from an identity line's `pressure=` and `temperature=` fields.
pub fn grid_points(identity: &str) -> Result<usize> {
    Ok(SweepGrid::of_identity(identity)?.points())
}
