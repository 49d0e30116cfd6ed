//! Resistance and critical current of a run (MODEL.md §7, §8), from the CPU solvers.
//!
//! The bond masks are recomputed on the CPU engine: both engines produce the same masks
//! (MODEL.md §5), and the solvers read them directly.

use anyhow::Result;
use std::time::Instant;
use tunnelgrid_cpu::kirchhoff::{resistances, Conduction, SolveOptions};
use tunnelgrid_cpu::maxflow::critical_current;
use tunnelgrid_cpu::CpuEngine;
use tunnelgrid_model::{BondParams, Conditions, Model, PerAxis, Transport};

/// Resistance, resistivity and (along superconducting axes) critical current per axis.
/// `progress(axis, iteration, residual)` is called during long solves.
pub fn transport(
    model: &Model,
    conditions: &Conditions,
    progress: impl FnMut(usize, usize, f64),
) -> Result<Transport> {
    let start = Instant::now();
    let lattice = &model.lattice;
    let params = BondParams::new(&model.material, lattice, conditions);
    let masks = CpuEngine::default()
        .bond_masks(model, conditions)
        .bond_masks;
    let axes = resistances(lattice, &params, &masks, &SolveOptions::default(), progress)?;
    let finite = |v: f64| v.is_finite().then_some(v);
    let mut critical = Vec::with_capacity(axes.len());
    for axis in &axes {
        critical.push(match axis.conduction {
            Conduction::Superconducting => Some(
                critical_current(
                    lattice,
                    &params,
                    &masks,
                    axis.axis,
                    model.material.overlap.j0_amp,
                )?
                .critical_current_a,
            ),
            _ => None,
        });
    }
    let n = lattice.axes();
    let per_axis = |values: Vec<Option<f64>>| PerAxis::from_slice(&values, n);
    Ok(Transport {
        resistance_ohm: per_axis(axes.iter().map(|a| finite(a.resistance_ohm)).collect()),
        resistivity_ohm_m: per_axis(axes.iter().map(|a| finite(a.resistivity_ohm_m)).collect()),
        critical_current_a: per_axis(critical),
        solver_iterations: PerAxis::from_slice(
            &axes.iter().map(|a| a.iterations).collect::<Vec<_>>(),
            n,
        ),
        solver_residual: PerAxis::from_slice(
            &axes.iter().map(|a| a.relative_residual).collect::<Vec<_>>(),
            n,
        ),
        transport_s: start.elapsed().as_secs_f64(),
    })
}
