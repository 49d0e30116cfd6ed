//! Evaluating a sweep: each point through `point::analyze_point` on the engine, appended to the
//! CSV as soon as it is finished.

use super::{SweepPlan, SweepRow, SweepWriter, WriterLock};
use crate::point::analyze_point;
use anyhow::Result;
use std::path::Path;
use tunnelgrid_model::Engine;

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
