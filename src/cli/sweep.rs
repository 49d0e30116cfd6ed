//! `tunnelgrid sweep` and `tunnelgrid merge`: pressure–temperature grids, their CSV and pictures.
//! The work is in the library (`tunnelgrid::sweep`); this module parses flags and shows progress.

use super::progress::point_bar;
use super::stdout::outln;
use anyhow::{ensure, Context, Result};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use tunnelgrid::engines::{self, EngineChoice};
use tunnelgrid::model::{Conditions, Model};
use tunnelgrid::output::check_output_dir;
use tunnelgrid::spec::{MaterialSource, ModelSpec, Names};
use tunnelgrid::sweep::{
    csv_name, merge_shards, render_sweep, run_sweep, swept_axes, GridAxis, Shard, SweepPlan,
};

/// Which axes a sweep draws and solves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AxisChoice {
    /// Along x only.
    X,
    /// Along y only.
    Y,
    /// Along z only.
    Z,
    /// Every axis of the lattice (one panel per axis when their states differ).
    All,
}

impl AxisChoice {
    /// The axes chosen, refusing z on a 2D lattice (`sweep::swept_axes`).
    pub fn axes(self, model: &Model) -> Result<Vec<usize>> {
        let axis = match self {
            AxisChoice::All => None,
            one => Some(one as usize),
        };
        swept_axes(model, axis, Names::Flags)
    }
}

/// The model of a command that varies pressure and temperature (`sweep`, `profile`): a preset
/// or config with `--size` and `--seed` applied (`sweep::pressure_temperature_model`).
pub fn pressure_temperature_model(
    preset: &Option<String>,
    config: &Option<PathBuf>,
    size: Option<u32>,
    seed: Option<u64>,
    command: &str,
) -> Result<(Model, Conditions)> {
    let source = match config {
        Some(path) => MaterialSource::Config(path.clone()),
        None => MaterialSource::Preset(preset.clone().unwrap_or_else(|| "default".into())),
    };
    let spec = ModelSpec {
        source,
        size,
        seed,
        ..ModelSpec::default()
    };
    tunnelgrid::sweep::pressure_temperature_model(&spec, Names::Flags, command)
}

/// Arguments of `sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Shipped preset (see `tunnelgrid presets`).
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    pub preset: Option<String>,
    /// Material TOML file.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Cells along every axis of each point's lattice (default: the material's).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub size: Option<u32>,
    /// First seed; --seeds K uses seed, seed+1, …, seed+K−1 (default: the material's).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Pressures START:STOP:COUNT in GPa, evenly spaced, both ends included.
    #[arg(long, value_name = "A:B:N", allow_hyphen_values = true)]
    pub pressure: String,
    /// Temperatures START:STOP:COUNT in K.
    #[arg(long, value_name = "A:B:N", allow_hyphen_values = true)]
    pub temperature: String,
    /// Axis whose state is drawn and whose resistivity is solved.
    #[arg(long, value_enum, default_value_t = AxisChoice::All)]
    pub axis: AxisChoice,
    /// Seeds per point: the state is the majority, observables the mean (1..=1000).
    #[arg(long, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub seeds: u32,
    /// Output folder for sweep.csv and the pictures.
    #[arg(long, value_name = "DIR", default_value = "tunnelgrid-sweep")]
    pub out: PathBuf,
    /// Continue the sweep in DIR: skip the points already in its CSV.
    #[arg(long)]
    pub resume: bool,
    /// Evaluate only shard I of N (points whose index mod N = I−1) into
    /// DIR/sweep-shard-I-of-N.csv; join the shards with `tunnelgrid merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Engine for the analyses and the resistivity (its Kirchhoff solver).
    #[arg(long, value_enum, default_value_t = EngineChoice::Auto)]
    pub engine: EngineChoice,
    /// Skip the Kirchhoff solve: no resistivity column values and no resistivity.png.
    #[arg(long)]
    pub no_resistance: bool,
}

/// Builds the plan, runs the remaining points with a progress bar, and renders the pictures.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    check_output_dir(&args.out, "--out")?;
    let (model, conditions) =
        pressure_temperature_model(&args.preset, &args.config, args.size, args.seed, "sweep")?;
    let pressure = GridAxis::parse(&args.pressure, "--pressure")?;
    let temperature = GridAxis::parse(&args.temperature, "--temperature")?;
    let axes = args.axis.axes(&model)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let plan = SweepPlan {
        model,
        pressure,
        temperature,
        seeds: args.seeds,
        base_seed: conditions.seed,
        axes,
        resistance: !args.no_resistance,
        shard,
    };
    plan.check(Names::Flags)?;
    let selected = engines::select(args.engine, Default::default())?;
    eprintln!(
        "sweep: {} points ({} × {}), engine {} ({})",
        plan.indices().len(),
        plan.pressure.count,
        plan.temperature.count,
        selected.engine.name(),
        selected.reason
    );
    let path = args.out.join(csv_name(shard));
    let bar = point_bar(plan.indices().len(), "points");
    let rows = run_sweep(
        selected.engine.as_ref(),
        &plan,
        &path,
        args.resume,
        |done, _, row| {
            bar.set_position(done as u64);
            if let Some(r) = row {
                bar.set_message(format!(
                    "(P = {} GPa, T = {} K)",
                    r.pressure_gpa, r.temperature_k
                ));
            }
        },
    )?;
    bar.finish_and_clear();
    outln!("wrote {} ({} points)", path.display(), rows.len());
    if shard.is_some() {
        outln!(
            "shard done: join all shards with `tunnelgrid merge --out DIR {}`",
            args.out.display()
        );
        return Ok(());
    }
    let file = tunnelgrid::sweep::read_sweep(&path, false)?;
    for image in render_sweep(&file, &args.out)? {
        outln!("wrote {}", image.display());
    }
    Ok(())
}

/// Arguments of `merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard CSV files, or folders holding sweep-shard-*.csv.
    #[arg(required = true, value_name = "SHARD")]
    pub inputs: Vec<PathBuf>,
    /// Folder for the joined sweep.csv and its pictures.
    #[arg(long, value_name = "DIR", default_value = "tunnelgrid-sweep")]
    pub out: PathBuf,
}

/// Joins shard CSVs into DIR/sweep.csv and renders it.
pub fn merge(args: &MergeArgs) -> Result<()> {
    check_output_dir(&args.out, "--out")?;
    let mut files = Vec::new();
    for input in &args.inputs {
        if input.is_dir() {
            files.extend(shard_files(input)?);
        } else {
            files.push(input.clone());
        }
    }
    let out = args.out.join("sweep.csv");
    let file = merge_shards(&files, &out)?;
    outln!(
        "wrote {} ({} points from {} shards)",
        out.display(),
        file.rows.len(),
        files.len()
    );
    for image in render_sweep(&file, &args.out)? {
        outln!("wrote {}", image.display());
    }
    Ok(())
}

fn shard_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("sweep-shard-") && n.ends_with(".csv"))
        })
        .collect();
    files.sort();
    ensure!(
        !files.is_empty(),
        "merge: no sweep-shard-*.csv in {}",
        dir.display()
    );
    Ok(files)
}
