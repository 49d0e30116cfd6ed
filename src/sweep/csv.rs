//! The sweep CSV: its header, one row per finished point in a fixed number format, reading a
//! file back (dropping a torn last line) and appending rows safely.

use super::{SweepGrid, SweepPlan};
use crate::output::write_text;
use anyhow::{bail, ensure, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use tunnelgrid_model::{ConventionalState, State};

/// The CSV header (after the identity line).
pub const HEADER: &str = "index,i_p,i_t,pressure_gpa,temperature_k,seeds,state_x,state_y,state_z,tunnel_bond_fraction,sc_bond_fraction,largest_cluster_fraction,mean_cluster_size,mean_gap_ev,resistivity_x_ohm_m,resistivity_y_ohm_m,resistivity_z_ohm_m,conventional_state";

/// The header of v1 files (before `conventional_state`), recognised only to refuse them clearly.
pub(crate) const HEADER_V1: &str = "index,i_p,i_t,pressure_gpa,temperature_k,seeds,state_x,state_y,state_z,tunnel_bond_fraction,sc_bond_fraction,largest_cluster_fraction,mean_cluster_size,mean_gap_ev,resistivity_x_ohm_m,resistivity_y_ohm_m,resistivity_z_ohm_m";

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

pub(crate) fn fmt_f(v: f64) -> String {
    if v.is_infinite() {
        "inf".into()
    } else {
        format!("{v:.9e}")
    }
}

pub(crate) fn state_name(s: Option<State>) -> String {
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

/// Number of grid points from an identity line's `pressure=` and `temperature=` fields.
pub fn grid_points(identity: &str) -> Result<usize> {
    Ok(SweepGrid::of_identity(identity)?.points())
}
