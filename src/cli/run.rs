//! `tunnelgrid run`: one analysis, a readable summary and `DIR/report.json`.

use super::solver::SolverChoice;
use super::stdout::{out, outln};
use super::ModelArgs;
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};
use tunnelgrid::engines::{self, EngineChoice};
use tunnelgrid::fields::Fields;
use tunnelgrid::model::{Report, State};
use tunnelgrid::output::{check_output_dir, write_npy, write_text};
use tunnelgrid::summary::summary;
use tunnelgrid::transport::transport;

use super::progress::SolveProgress;

/// Arguments of `run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Engine: auto picks a GPU when one is available, else the CPU.
    #[arg(long, value_enum, default_value_t = EngineChoice::Auto)]
    pub engine: EngineChoice,
    /// Folder for report.json (created if missing).
    #[arg(long, value_name = "DIR", default_value = "tunnelgrid-out")]
    pub out: PathBuf,
    /// CPU engine: number of z-slabs labelled in parallel (tests use it to exercise the merge).
    #[arg(long, value_name = "N")]
    pub slabs: Option<usize>,
    /// Also solve Kirchhoff's laws for the resistance along each axis (on the engine's device:
    /// f64 CG on the CPU, f32 CG with f64 refinement on a GPU), and the max-flow for the
    /// critical current along superconducting axes (CPU; can take minutes above 100³).
    #[arg(long)]
    pub resistance: bool,
    /// Preconditioner of the Kirchhoff solver, on either engine: amg (smoothed-aggregation
    /// multigrid, iterations nearly independent of size) or jacobi (the older path, for
    /// comparison; on the GPU also the one that cuts lattices too large for one binding into z
    /// slabs).
    #[arg(long, value_enum, default_value_t = SolverChoice::Amg)]
    pub solver: SolverChoice,
    /// Also write |current| per site (f32, amperes at 1 V, shaped as `export`) along each axis
    /// that conducts, to DIR/current_x.npy, current_y.npy, current_z.npy (the run engine's
    /// solver; the same field as `export --field current`, for `render` and ParaView).
    #[arg(long)]
    pub current_map: bool,
    /// GPU engine and GPU Kirchhoff solver: most z layers per slab (default: as many as one
    /// storage binding holds); small values force the multi-slab path.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub slab_layers: Option<u32>,
}

/// Runs the analysis, prints the summary and writes the report.
pub fn run(args: &RunArgs) -> Result<()> {
    check_output_dir(&args.out, "--out")?;
    let (model, conditions) = args.model.build()?;
    let slabs = engines::SlabOptions {
        cpu_slabs: args.slabs,
        gpu_slab_layers: args.slab_layers,
    };
    let selected = engines::select_for(args.engine, slabs, args.model.cpu_only())?;
    let mut report = selected.engine.analyze(&model, &conditions)?;
    if args.resistance {
        let mut progress = SolveProgress::default();
        report.transport = Some(transport(
            &model,
            &conditions,
            selected.engine.as_ref(),
            args.solver.into(),
            |a, i, r| progress.show(a, i, r),
        )?);
        progress.finish();
    }
    out!("{}", summary(&model, &report, &selected.reason));
    if args.current_map {
        let fields = Fields::new(model.clone(), conditions, selected.engine.as_ref())?;
        write_current_maps(&fields, &report, &args.out)?;
    }
    let path = args.out.join("report.json");
    write_text(&path, &(serde_json::to_string_pretty(&report)? + "\n"))?;
    outln!("report       {}", path.display());
    Ok(())
}

/// `--current-map`: |current| per site along every conducting axis, on the run's engine.
/// Superconducting axes carry an unbounded current at 1 V and insulating ones none, so they get
/// no file.
fn write_current_maps(fields: &Fields, report: &Report, out: &Path) -> Result<()> {
    let shape = fields.npy_shape();
    let states = report.states.to_vec();
    for (axis, state) in states.iter().enumerate() {
        let name = ["x", "y", "z"][axis];
        if *state != State::Conducting {
            outln!("current      {name}: none written ({state:?})");
            continue;
        }
        let path = out.join(format!("current_{name}.npy"));
        write_npy(&path, &shape, &fields.current(axis)?)?;
        outln!("current      {}", path.display());
    }
    Ok(())
}
