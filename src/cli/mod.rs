//! Command-line interface (clap): argument definitions and dispatch.

mod bench;
mod export;
mod info;
mod model_args;
mod presets;
mod profile;
mod progress;
mod render;
mod research;
mod run;
mod solver;
mod stdout;
mod sweep;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub use model_args::ModelArgs;

/// tunnelgrid: isopotential electron tunnels, percolation and superconductivity on large lattices.
///
/// Builds a lattice of molecules, decides for every bond whether an electron tunnel forms and
/// whether its gap has closed (superconducting), labels the tunnel and superconducting clusters,
/// and reports whether the sample is insulating, conducting or superconducting along each axis.
///
/// Start with `tunnelgrid run` (the default preset), then `tunnelgrid presets`.
#[derive(Parser, Debug)]
#[command(name = "tunnelgrid", version, propagate_version = true)]
struct Cli {
    /// Worker threads for the CPU engine, 1..=1024 (default: all cores).
    #[arg(long, global = true, value_name = "N", value_parser = parse_threads)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Analyse one lattice at one pressure and temperature; print a summary, write report.json.
    Run(run::RunArgs),
    /// List the shipped presets with a one-line description each.
    Presets,
    /// Print one preset as TOML, to copy, edit and pass back with --config.
    Preset {
        /// Preset name (see `tunnelgrid presets`).
        name: String,
    },
    /// Measure per-stage times and sites per second of an engine at several sizes.
    Bench(bench::BenchArgs),
    /// List the GPU adapters wgpu finds, their limits, and the engine `auto` picks.
    Info,
    /// Write a per-site field (bond masks, cluster labels, occupancy) as a NumPy .npy array.
    Export(export::ExportArgs),
    /// Percolation threshold p_c and exponent ν with error bars: Newman–Ziff sweeps over sizes
    /// and finite-size scaling.
    Threshold(research::ThresholdArgs),
    /// Fractal dimension d_f of the incipient infinite cluster from its mass versus L at p_c.
    Scaling(research::ScalingArgs),
    /// The pressure at which a material turns conducting (or superconducting) at a temperature,
    /// by bisection per seed.
    CriticalPressure(research::CriticalPressureArgs),
    /// The smallest engineered attraction δ of a species pair that makes the sample
    /// superconducting at (P, T), by bisection per seed.
    Design(research::DesignArgs),
    /// Plot a study written by `threshold --json` or `scaling --json` (PNG).
    PlotStudy(research::PlotStudyArgs),
    /// Evaluate a pressure × temperature grid: sweep.csv (appended point by point, resumable,
    /// shardable), phase_diagram.png, resistivity.png and line plots of the observables.
    Sweep(sweep::SweepArgs),
    /// Draw a connectivity heat map of one run (tunnels, gap, clusters, sc network, current)
    /// as PNG with a colour bar or legend; --export vti also writes the 3D field for ParaView.
    Render(render::RenderArgs),
    /// Join the shard CSVs of a sharded sweep into one sweep.csv and render its pictures.
    Merge(sweep::MergeArgs),
    /// Evaluate a material along a planet's pressure–temperature path (--planet earth, or a CSV
    /// of depth_km,pressure_gpa,temperature_k): profile.csv with the state per axis, resistivity
    /// and conventional phase per depth, and profile.png with the states as bands against depth.
    Profile(profile::ProfileArgs),
}

/// Parses the arguments, runs the command, and turns errors into a message and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(threads) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
        {
            eprintln!("error: --threads: {e}");
            return ExitCode::FAILURE;
        }
    }
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Presets => presets::list(),
        Command::Preset { name } => presets::show(&name),
        Command::Export(args) => export::export(&args),
        Command::Info => info::info(),
        Command::Bench(args) => bench::bench(&args),
        Command::Threshold(args) => research::threshold(&args),
        Command::Scaling(args) => research::scaling(&args),
        Command::CriticalPressure(args) => research::critical_pressure(&args),
        Command::Design(args) => research::design(&args),
        Command::PlotStudy(args) => research::plot_study_command(&args),
        Command::Sweep(args) => sweep::sweep(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Render(args) => render::render(&args),
        Command::Profile(args) => profile::profile(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Most worker threads `--threads` accepts: far beyond any machine's cores, yet few enough
/// that starting them takes no noticeable time (100 000 took minutes).
const MAX_THREADS: usize = 1024;

/// `--threads`: a whole number in 1..=MAX_THREADS.
fn parse_threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "{s} is not a thread count; use a whole number in 1..={MAX_THREADS} (this machine has {} cores)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        )),
    }
}
