//! `tunnelgrid profile`: a material along a planet's pressure–temperature path. The work is in
//! the library (`tunnelgrid::profile`); this module parses flags and shows progress.

use super::progress::point_bar;
use super::stdout::outln;
use super::sweep::{pressure_temperature_model, AxisChoice};
use anyhow::Result;
use clap::{ArgGroup, Args};
use std::path::PathBuf;
use tunnelgrid::engines::{self, EngineChoice};
use tunnelgrid::output::check_output_dir;
use tunnelgrid::point::PointOptions;
use tunnelgrid::profile::{
    check_points, planet, read_profile_csv, render_profile, run_profile, write_profile_csv,
};
use tunnelgrid::spec::Names;
use tunnelgrid::sweep::check_seed_run;

/// Arguments of `profile`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("path").required(true).args(["planet", "csv"])))]
pub struct ProfileArgs {
    /// Built-in path: `earth` (PREM pressures, a standard geotherm; docs/MODEL-READINGS.md).
    #[arg(long, value_name = "NAME")]
    pub planet: Option<String>,
    /// Path CSV with columns depth_km,pressure_gpa,temperature_k, depths increasing.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,
    /// Shipped preset (see `tunnelgrid presets`).
    #[arg(long, value_name = "NAME", conflicts_with = "config")]
    pub preset: Option<String>,
    /// Material TOML file.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Cells along every axis of each depth's lattice (default: the material's).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub size: Option<u32>,
    /// First seed; --seeds K uses seed, seed+1, …, seed+K−1 (default: the material's).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Seeds per depth: the state is the majority, the resistivity the lower median (1..=1000).
    #[arg(long, value_name = "K", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub seeds: u32,
    /// Axes whose state is drawn and whose resistivity is solved.
    #[arg(long, value_enum, default_value_t = AxisChoice::All)]
    pub axis: AxisChoice,
    /// Engine for the analyses and the Kirchhoff solves.
    #[arg(long, value_enum, default_value_t = EngineChoice::Auto)]
    pub engine: EngineChoice,
    /// Skip the Kirchhoff solves: empty resistivity columns.
    #[arg(long)]
    pub no_resistance: bool,
    /// Output folder for profile.csv and profile.png.
    #[arg(long, value_name = "DIR", default_value = "tunnelgrid-profile")]
    pub out: PathBuf,
}

/// Reads the path, evaluates every depth with a progress bar, writes the CSV and the picture.
pub fn profile(args: &ProfileArgs) -> Result<()> {
    check_output_dir(&args.out, "--out")?;
    let (model, conditions) =
        pressure_temperature_model(&args.preset, &args.config, args.size, args.seed, "profile")?;
    let (points, source) = match (&args.planet, &args.csv) {
        (Some(name), _) => (planet(name)?, format!("--planet {name}")),
        (None, Some(path)) => (read_profile_csv(path)?, path.display().to_string()),
        // clap's group requires one of them.
        (None, None) => anyhow::bail!("give --planet NAME or --csv FILE.csv"),
    };
    check_points(&model, &points, &source)?;
    let axes = args.axis.axes(&model)?;
    check_seed_run(conditions.seed, args.seeds, Names::Flags)?;
    let options = PointOptions {
        seeds: args.seeds,
        base_seed: conditions.seed,
        axes: &axes,
        resistance: !args.no_resistance,
    };
    let selected = engines::select(args.engine, Default::default())?;
    eprintln!(
        "profile: {} depths from {source}, engine {} ({})",
        points.len(),
        selected.engine.name(),
        selected.reason
    );
    let bar = point_bar(points.len(), "depths");
    let rows = run_profile(
        selected.engine.as_ref(),
        &model,
        &points,
        &options,
        |done, _, row| {
            bar.set_position(done as u64);
            bar.set_message(format!(
                "({} km: P = {} GPa, T = {} K)",
                row.point.depth_km, row.point.pressure_gpa, row.point.temperature_k
            ));
        },
    )?;
    bar.finish_and_clear();
    let csv = args.out.join("profile.csv");
    write_profile_csv(&csv, &rows)?;
    outln!("wrote {} ({} depths)", csv.display(), rows.len());
    let [nx, ny, nz] = model.lattice.cells;
    let path_name = args
        .planet
        .clone()
        .unwrap_or_else(|| source.rsplit('/').next().unwrap_or(&source).to_string());
    let title = format!(
        "{} along {path_name} — {nx}×{ny}×{nz} cells, {} seed(s) per depth",
        model.material.name, args.seeds
    );
    let image = render_profile(&rows, &axes, &title, &args.out)?;
    outln!("wrote {}", image.display());
    Ok(())
}
