//! The grid a sweep file claims, and the check of its rows against it. A row read back (by
//! `--resume` or `merge`) must be a point of that grid, owned by the file's shard, with the
//! grid's coordinates and seed count, and must appear once: an edited or foreign row would
//! otherwise end up in the CSV and the pictures as if it had been computed.

use super::{GridAxis, SweepPlan, SweepRow};
use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::path::Path;

/// The pressures, temperatures and seeds per point of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepGrid {
    pressures: Vec<f64>,
    temperatures: Vec<f64>,
    seeds: u32,
}

impl SweepGrid {
    /// The grid of a plan.
    pub fn of_plan(plan: &SweepPlan) -> Self {
        Self {
            pressures: plan.pressure.values(),
            temperatures: plan.temperature.values(),
            seeds: plan.seeds.max(1),
        }
    }

    /// The grid named by a file's identity line (`pressure=A:B:N temperature=A:B:N seeds=K`).
    pub fn of_identity(identity: &str) -> Result<Self> {
        let field = |key: &str| -> Result<&str> {
            identity
                .split(' ')
                .find_map(|w| w.strip_prefix(key))
                .with_context(|| format!("sweep identity has no {key}"))
        };
        let seeds = field("seeds=")?;
        Ok(Self {
            pressures: GridAxis::parse(field("pressure=")?, "pressure=")?.values(),
            temperatures: GridAxis::parse(field("temperature=")?, "temperature=")?.values(),
            seeds: seeds
                .parse()
                .with_context(|| format!("sweep identity: seeds={seeds} is not a count"))?,
        })
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.pressures.len() * self.temperatures.len()
    }

    /// Checks every row of `path` (rows in file order, the first on line 3) against the grid:
    /// an index of the grid that `owns` accepts, given once, with its own pressure and
    /// temperature indices and values and the grid's seed count. `what` starts the message.
    pub fn check_rows(
        &self,
        path: &Path,
        rows: &[SweepRow],
        owns: impl Fn(usize) -> bool,
        what: &str,
    ) -> Result<()> {
        let mut seen = HashSet::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let at = || format!("{what}: {} line {}", path.display(), i + 3);
            let index = row.index;
            if index >= self.points() {
                bail!(
                    "{}: point {index} is not on the grid of {} points",
                    at(),
                    self.points()
                );
            }
            if !owns(index) {
                bail!("{}: point {index} belongs to another shard", at());
            }
            if !seen.insert(index) {
                bail!("{}: point {index} appears a second time", at());
            }
            let n_p = self.pressures.len();
            let (i_p, i_t) = (index % n_p, index / n_p);
            let (p, t) = (self.pressures[i_p], self.temperatures[i_t]);
            if (row.i_p, row.i_t) != (i_p, i_t) {
                bail!(
                    "{}: point {index} has indices i_p = {}, i_t = {}; the grid's are {i_p}, {i_t}",
                    at(),
                    row.i_p,
                    row.i_t
                );
            }
            // Exact: P and T are written in shortest round-trip form.
            if row.pressure_gpa != p || row.temperature_k != t {
                bail!(
                    "{}: point {index} is at P = {} GPa, T = {} K; the grid puts it at P = {p} GPa, T = {t} K",
                    at(),
                    row.pressure_gpa,
                    row.temperature_k
                );
            }
            if row.seeds != self.seeds {
                bail!(
                    "{}: point {index} aggregates {} seeds; the sweep uses {}",
                    at(),
                    row.seeds,
                    self.seeds
                );
            }
        }
        Ok(())
    }
}
