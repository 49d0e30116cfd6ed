//! `tunnelgrid bench`: per-stage times and sites per second of an engine.

use super::solver::SolverChoice;
use super::stdout::outln;
use super::ModelArgs;
use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use tunnelgrid::bench::{Fastest, StageTime, TIMING_DEVICE, TIMING_WALL};
use tunnelgrid::engines::{self, EngineChoice};
use tunnelgrid::model::{Conditions, Engine, Model};
use tunnelgrid::output::{check_output_dir_opt, check_output_file_opt, write_npy, write_text};

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Lattice sizes (cells per axis) to measure, comma-separated (with --volume, the volume's
    /// own shape is measured instead).
    #[arg(long = "sizes", value_name = "N", value_delimiter = ',', default_values_t = [128u32, 256])]
    pub sizes: Vec<u32>,
    /// Engine to measure.
    #[arg(long, value_enum, default_value_t = EngineChoice::Auto)]
    pub engine: EngineChoice,
    /// Timed runs per size after one warm-up run; the best is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Also write the results as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Measure the Kirchhoff solver instead of the analysis: the resistance along x (CG
    /// iterations per second and time to solution), `--repeat` timed solves per size, no
    /// warm-up (the pipelines are compiled before the first).
    #[arg(long)]
    pub resistance: bool,
    /// With --resistance: the preconditioner, amg (default) or jacobi (either engine).
    #[arg(long, value_enum, default_value_t = SolverChoice::Amg)]
    pub solver: SolverChoice,
    /// GPU engine and GPU Kirchhoff solver: most z layers per slab (as `run --slab-layers`);
    /// small values force the multi-slab path.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub slab_layers: Option<u32>,
    /// With --resistance on the CPU: also write the linear system of the last size's solve
    /// (reduced Laplacian as scipy CSR indptr/indices/data, rhs, system.json) into DIR, for
    /// peers to solve the same network (`scripts/peers --kirchhoff`).
    #[arg(long, value_name = "DIR")]
    pub export_system: Option<PathBuf>,
}

impl BenchArgs {
    /// The models measured, with the size each row shows: one per `--sizes` entry, or the one
    /// volume of `--volume` at its own shape (its x extent in the size column).
    fn models(&self) -> Result<Vec<(u32, Model, Conditions)>> {
        if self.model.volume.is_some() {
            let (model, conditions) = self.model.build()?;
            return Ok(vec![(model.lattice.cells[0], model, conditions)]);
        }
        self.sizes
            .iter()
            .map(|&size| {
                let mut model_args = self.model.clone();
                model_args.size = Some(size);
                let (model, conditions) = model_args.build()?;
                Ok((size, model, conditions))
            })
            .collect()
    }
}

/// Runs the benchmark and prints a table.
pub fn bench(args: &BenchArgs) -> Result<()> {
    check_output_file_opt(&args.json, "--json")?;
    check_output_dir_opt(&args.export_system, "--export-system")?;
    if args.model.size.is_some() || args.model.cells.is_some() {
        bail!("bench takes --sizes N,N,...; --size and --cells are for run and export");
    }
    let slabs = engines::SlabOptions {
        gpu_slab_layers: args.slab_layers,
        ..Default::default()
    };
    let selected = engines::select(args.engine, slabs)?;
    let engine = selected.engine.as_ref();
    // Engines that time their device (the GPU with timestamp queries) report device seconds.
    let device_timing = engine.set_profiling(true);
    let timing = if device_timing {
        TIMING_DEVICE
    } else {
        TIMING_WALL
    };
    outln!("engine  {}\ntiming  {timing}", engine.name());
    if args.resistance {
        return bench_resistance(args, engine);
    }
    outln!(
        "{:>6} {:>12}  {:>22} {:>22} {:>22} {:>22}",
        "size",
        "sites",
        "bonds ms (Msites/s)",
        "labels ms (Msites/s)",
        "stats ms (Msites/s)",
        "whole ms (Msites/s)"
    );
    let mut records = Vec::new();
    for (size, model, conditions) in args.models()? {
        let sites = model.lattice.sites();
        let mut fastest = Fastest::default();
        for run in 0..=args.repeat {
            let report = engine.analyze(&model, &conditions)?;
            fastest.offer(run, report, engine);
        }
        let record = fastest
            .record(size, timing)
            .ok_or_else(|| anyhow::anyhow!("--repeat: no timed run (it must be at least 1)"))?;
        let cell = |s: &StageTime| {
            format!(
                "{:.2} ({:.1})",
                s.device_s.unwrap_or(s.wall_s) * 1e3,
                s.msites_per_s
            )
        };
        outln!(
            "{size:>6} {sites:>12}  {:>22} {:>22} {:>22} {:>22}",
            cell(&record.bonds),
            cell(&record.labels),
            cell(&record.stats),
            cell(&record.whole)
        );
        records.push(record);
    }
    if device_timing {
        outln!("(GPU columns are device time from timestamp queries; wall clock adds submission and readback)");
    }
    if let Some(path) = &args.json {
        write_text(path, &(serde_json::to_string_pretty(&records)? + "\n"))?;
        outln!("json    {}", path.display());
    }
    Ok(())
}

#[derive(Serialize)]
struct SolveRecord {
    size: u32,
    sites: u64,
    engine: String,
    free_nodes: usize,
    resistance_ohm: f64,
    relative_residual: f64,
    /// CG iterations (on the GPU: f32 iterations of all refinements).
    iterations: usize,
    /// GPU: f64 refinements.
    refinements: Option<usize>,
    /// GPU: z slabs the vectors were cut into (each fits one storage binding).
    slabs: Option<usize>,
    /// Building the network (CPU: resistor list and CSR are inside the solve; GPU: the stencil,
    /// uploads and f64 residuals on the host).
    setup_s: Option<f64>,
    /// "amg", "jacobi" (CPU f64 CG by preconditioner), "gpu-amg" or "gpu-jacobi".
    solver: String,
    /// Building the preconditioner (the multigrid hierarchy), inside `time_to_solution_s`.
    preconditioner_setup_s: f64,
    /// The whole solve, wall clock.
    time_to_solution_s: f64,
    /// GPU: wall clock of the device's CG batches (submission to readback).
    device_cg_s: Option<f64>,
    /// Iterations per second of the CG loop (GPU: over `device_cg_s`; CPU: over the whole solve).
    iterations_per_s: f64,
}

/// `bench --resistance`: the Kirchhoff solve along x per size.
fn bench_resistance(args: &BenchArgs, engine: &dyn Engine) -> Result<()> {
    use super::progress::SolveProgress;
    use tunnelgrid::cpu::kirchhoff::axis_linear_system;
    use tunnelgrid::model::{BondParams, ResistanceOptions};
    let options = ResistanceOptions {
        solver: args.solver.into(),
        currents: false,
    };
    outln!(
        "{:>6} {:>12} {:>12} {:>10} {:>7} {:>12} {:>11} {:>14} {:>14}",
        "size",
        "sites",
        "free nodes",
        "CG iters",
        "refine",
        "R ohm",
        "residual",
        "solution s",
        "CG iters/s"
    );
    let mut records = Vec::new();
    for (size, model, conditions) in args.models()? {
        let lattice = &model.lattice;
        let params = BondParams::new(&model.material, lattice, &conditions);
        let mut best: Option<SolveRecord> = None;
        for _ in 0..args.repeat {
            let masks = engine.bond_masks(&model, &conditions)?.masks;
            let start = std::time::Instant::now();
            let mut progress = SolveProgress::default();
            let solved = engine.axis_resistance(
                lattice,
                &params,
                &masks,
                None,
                0,
                &options,
                &mut |i, r| progress.show(0, i, r),
            )?;
            let axis = &solved.axis;
            progress.finish();
            let total = start.elapsed().as_secs_f64();
            // Engines that iterate on a device (GPU) add refinements, slabs and device seconds.
            let device_cg_s = solved.device_s;
            let record = SolveRecord {
                size,
                sites: lattice.sites(),
                engine: engine.name(),
                free_nodes: axis.free_nodes,
                resistance_ohm: axis.resistance_ohm,
                relative_residual: axis.relative_residual,
                iterations: axis.iterations,
                refinements: solved.refinements,
                slabs: solved.slabs,
                setup_s: device_cg_s.map(|s| total - s),
                solver: engine.solver_name(&options),
                preconditioner_setup_s: axis.setup_s,
                time_to_solution_s: total,
                device_cg_s,
                // CPU: over the whole solve; GPU: over the device's CG batches.
                iterations_per_s: axis.iterations as f64 / device_cg_s.unwrap_or(total).max(1e-12),
            };
            if best
                .as_ref()
                .is_none_or(|b| record.time_to_solution_s < b.time_to_solution_s)
            {
                best = Some(record);
            }
        }
        let r = best.expect("at least one timed solve");
        outln!(
            "{size:>6} {:>12} {:>12} {:>10} {:>7} {:>12.6e} {:>11.2e} {:>14.3} {:>14.1}",
            r.sites,
            r.free_nodes,
            r.iterations,
            r.refinements.map_or("-".to_string(), |n| n.to_string()),
            r.resistance_ohm,
            r.relative_residual,
            r.time_to_solution_s,
            r.iterations_per_s
        );
        if r.preconditioner_setup_s > 0.0 {
            outln!(
                "       {}: {:.3} s of the solution building the hierarchy",
                r.solver,
                r.preconditioner_setup_s
            );
        }
        if let (Some(setup), Some(cg), Some(slabs)) = (r.setup_s, r.device_cg_s, r.slabs) {
            outln!(
                "       GPU: {cg:.3} s in CG batches over {slabs} z slab(s), {setup:.3} s on the host (stencil, hierarchy, uploads, f64 residuals)"
            );
        }
        records.push(r);
        if let Some(dir) = &args.export_system {
            let masks = engine.bond_masks(&model, &conditions)?.masks;
            export_system(dir, &axis_linear_system(lattice, &params, &masks, 0)?)?;
            outln!("system  {}", dir.display());
        }
    }
    if let Some(path) = &args.json {
        write_text(path, &(serde_json::to_string_pretty(&records)? + "\n"))?;
        outln!("json    {}", path.display());
    }
    Ok(())
}

/// Writes a linear system for peers: scipy CSR arrays, the right-hand side and system.json.
fn export_system(
    dir: &std::path::Path,
    system: &Option<tunnelgrid::cpu::kirchhoff::LinearSystem>,
) -> Result<()> {
    let Some(s) = system else {
        bail!("--export-system: the x axis has no linear system to export (its bus bars are joined by a superconducting cluster or not connected)");
    };
    let n = s.rhs.len() as u64;
    write_npy(&dir.join("indptr.npy"), &[n + 1], &s.row_start)?;
    write_npy(
        &dir.join("indices.npy"),
        &[s.columns.len() as u64],
        &s.columns,
    )?;
    write_npy(&dir.join("data.npy"), &[s.values.len() as u64], &s.values)?;
    write_npy(&dir.join("rhs.npy"), &[n], &s.rhs)?;
    let meta = serde_json::json!({
        "free_nodes": n,
        "direct_conductance_s": s.direct_conductance_s,
        "axis": "x",
    });
    write_text(
        &dir.join("system.json"),
        &(serde_json::to_string_pretty(&meta)? + "\n"),
    )
}
