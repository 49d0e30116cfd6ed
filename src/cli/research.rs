//! Research commands (issue 7 and `design` of issue 6): `threshold`, `scaling`,
//! `critical-pressure` and `design`. The numerics live in `tunnelgrid::research`; these parse,
//! print and write.

use super::stdout::{out, outln};
use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;
use std::path::PathBuf;
use tunnelgrid::cpu::newman_ziff::Percolation;
use tunnelgrid::engines::{self, EngineChoice};
use tunnelgrid::model::presets::preset;
use tunnelgrid::model::{LatticeKind, Material};
use tunnelgrid::output::{
    check_output_dir, check_output_dir_opt, check_output_file_opt, write_text,
};
use tunnelgrid::research::bisect::Bisection;
use tunnelgrid::research::physical::{self, Axes, Target};
use tunnelgrid::research::plan::{samples_per_size, study_sizes};
use tunnelgrid::research::plots::plot_study;
use tunnelgrid::research::reference;
use tunnelgrid::research::scaling::{scaling_study, ScalingOptions, ScalingStudy};
use tunnelgrid::research::threshold::{
    default_sizes, sample_work, threshold_study, Criterion, ThresholdOptions, ThresholdStudy,
};
use tunnelgrid::spec::Names;

/// Site or bond percolation on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PercolationArg {
    /// Sites occupied with probability p.
    Site,
    /// Bonds open with probability p.
    Bond,
}

impl From<PercolationArg> for Percolation {
    fn from(p: PercolationArg) -> Self {
        match p {
            PercolationArg::Site => Percolation::Site,
            PercolationArg::Bond => Percolation::Bond,
        }
    }
}

fn parse_kind(name: &str) -> Result<LatticeKind, String> {
    LatticeKind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = LatticeKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown lattice '{name}'; one of {}", names.join(", "))
        })
}

/// Arguments of `threshold`.
#[derive(Args, Debug)]
pub struct ThresholdArgs {
    /// Lattice kind: sc, bcc, fcc, diamond, square, tetragonal.
    #[arg(long, value_parser = parse_kind, default_value = "sc")]
    pub lattice: LatticeKind,
    /// Site or bond percolation.
    #[arg(long, value_enum, default_value_t = PercolationArg::Site)]
    pub mode: PercolationArg,
    /// Linear sizes L (cells per axis), comma separated. Default: four doubling sizes, the
    /// largest with at most 2^22 sites (bonds) occupied at random (sc site: 16,32,64,128).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Option<Vec<u32>>,
    /// Samples (independent sweeps) per size: one number for every size, or one per size.
    #[arg(long, value_delimiter = ',', default_value = "400")]
    pub samples: Vec<u64>,
    /// Event read off: span (open, along x), wrap-any or wrap-all (periodic).
    #[arg(long, value_enum, default_value_t = Criterion::WrapAny)]
    pub criterion: Criterion,
    /// Seed of sample 0.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the whole study (per-size estimates, curves, fits) as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the curves R_L(p) as CSV (size,p,R,R_se) here.
    #[arg(long, value_name = "FILE.csv")]
    pub curves: Option<PathBuf>,
    /// Write PNG plots (R_L(p) curves, extrapolation of p_L) into this folder.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

fn pm(value: Option<f64>, se: Option<f64>) -> String {
    match (value, se) {
        (Some(v), Some(e)) => format!("{v:.7} ± {e:.7}"),
        (Some(v), None) => format!("{v:.7}"),
        _ => "n/a (needs two sizes)".into(),
    }
}

/// Runs `threshold`.
pub fn threshold(args: &ThresholdArgs) -> Result<()> {
    check_output_file_opt(&args.json, "--json")?;
    check_output_file_opt(&args.curves, "--curves")?;
    check_output_dir_opt(&args.plots, "--plots")?;
    let percolation: Percolation = args.mode.into();
    let sizes = match &args.sizes {
        Some(sizes) => sizes.clone(),
        None => default_sizes(args.lattice, percolation, args.criterion),
    };
    let options = ThresholdOptions {
        kind: args.lattice,
        percolation,
        sizes: study_sizes(&sizes, Names::Flags)?,
        samples: samples_per_size(&args.samples, &sizes, Names::Flags)?,
        criterion: args.criterion,
        seed: args.seed,
    };
    outln!(
        "threshold    {} {} percolation, criterion {}, sizes {:?}, samples {:?}, {} threads",
        options.kind,
        options.percolation.name(),
        options.criterion.name(),
        options.sizes,
        options.samples,
        rayon::current_num_threads()
    );
    outln!(
        "{:>6} {:>10} {:>12} {:>10} {:>10} {:>8}",
        "L",
        "sites",
        "p_L",
        "± se",
        "width",
        "seconds"
    );
    // The bar counts items to shuffle (each sample shuffles all of its lattice's), so that its
    // ETA weighs a large size's samples by their cost.
    let work = sample_work(&options);
    let total: u64 = work.iter().zip(&options.samples).map(|(w, s)| w * s).sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {percent}%, ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let study = threshold_study(
        &options,
        |s| {
            // `suspend`, not `println`: the line must appear where no bar is drawn too.
            bar.suspend(|| {
                outln!(
                    "{:>6} {:>10} {:>12.7} {:>10.7} {:>10.6} {:>8.1}",
                    s.size,
                    s.sites,
                    s.mean,
                    s.mean_se,
                    s.width,
                    s.seconds
                )
            })
        },
        |size| bar.inc(work[size]),
    );
    bar.finish_and_clear();
    let study = study?;
    out!("{}", threshold_summary(&study));
    if let Some(path) = &args.json {
        write_text(path, &(serde_json::to_string_pretty(&study)? + "\n"))?;
        outln!("json         {}", path.display());
    }
    if let Some(path) = &args.curves {
        let mut csv = String::from("size,p,R,R_se\n");
        for s in &study.sizes {
            for c in &s.curve {
                writeln!(csv, "{},{},{},{}", s.size, c.p, c.r, c.r_se)?;
            }
        }
        write_text(path, &csv)?;
        outln!("curves       {}", path.display());
    }
    if let Some(dir) = &args.plots {
        let stem = format!(
            "{}-{}-{}",
            study.lattice,
            study.mode,
            study.criterion.name()
        );
        for path in plot_study(&serde_json::to_value(&study)?, dir, &stem)? {
            outln!("plot         {}", path.display());
        }
    }
    Ok(())
}

/// The result lines of a threshold study.
pub fn threshold_summary(study: &ThresholdStudy) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "p_c          {}  (L → ∞, jackknife over {} groups)",
        pm(study.p_c, study.p_c_se),
        study.jackknife_groups
    );
    if let (Some(pc), Some(r)) = (study.p_c, study.reference) {
        let sigmas = study
            .p_c_se
            .map_or(String::new(), |e| format!(", {:.1} σ", (pc - r.value) / e));
        let _ = writeln!(
            s,
            "literature   {} ({}): deviation {:+.4}%{}",
            r.value,
            r.source,
            100.0 * (pc - r.value) / r.value,
            sigmas
        );
    }
    let _ = writeln!(
        s,
        "nu           {}  (width ∝ L^(−1/ν); MODEL.md §9: {})",
        pm(study.nu, study.nu_se),
        study.reference_nu
    );
    if let (Some(nu), Some(_)) = (study.nu, study.nu_se) {
        let _ = writeln!(
            s,
            "             deviation {:+.2}% from {}",
            100.0 * (nu - study.reference_nu) / study.reference_nu,
            study.reference_nu
        );
    }
    if let Some(f) = &study.fit {
        let _ = writeln!(
            s,
            "fit          p_L = p_c + ({:.4})·L^(−1/ν): χ²/dof = {:.2}/{}; width fit χ²/dof = {:.2}/{}",
            f.shift_fit.slope, f.shift_fit.chi2, f.shift_fit.dof, f.width_fit.chi2, f.width_fit.dof
        );
    }
    let _ = writeln!(
        s,
        "time         {:.1} s on {} threads",
        study.seconds, study.threads
    );
    s
}

/// Arguments of `scaling`.
#[derive(Args, Debug)]
pub struct ScalingArgs {
    /// Lattice kind: sc, bcc, fcc, diamond, square, tetragonal.
    #[arg(long, value_parser = parse_kind, default_value = "sc")]
    pub lattice: LatticeKind,
    /// Site or bond percolation.
    #[arg(long, value_enum, default_value_t = PercolationArg::Site)]
    pub mode: PercolationArg,
    /// Linear sizes L (cells per axis), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "16,32,64,128")]
    pub sizes: Vec<u32>,
    /// Samples per size: one number for every size, or one per size.
    #[arg(long, value_delimiter = ',', default_value = "200")]
    pub samples: Vec<u64>,
    /// Occupation probability (default: the literature p_c of the lattice and mode).
    #[arg(long, value_name = "P")]
    pub p: Option<f64>,
    /// Seed of sample 0.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the study as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a PNG plot (mass against L, log–log) into this folder.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

/// Runs `scaling`.
pub fn scaling(args: &ScalingArgs) -> Result<()> {
    check_output_file_opt(&args.json, "--json")?;
    check_output_dir_opt(&args.plots, "--plots")?;
    let percolation: Percolation = args.mode.into();
    let p = match args.p {
        Some(p) => {
            ensure!(p > 0.0 && p < 1.0, "--p must be in (0, 1), got {p}");
            p
        }
        None => match reference::threshold(args.lattice, percolation) {
            Some(r) => r.value,
            None => bail!(
                "--p: no literature p_c for {} {}; give one",
                args.lattice,
                percolation.name()
            ),
        },
    };
    let options = ScalingOptions {
        kind: args.lattice,
        percolation,
        sizes: study_sizes(&args.sizes, Names::Flags)?,
        samples: samples_per_size(&args.samples, &args.sizes, Names::Flags)?,
        p,
        seed: args.seed,
    };
    outln!(
        "scaling      {} {} percolation at p = {p}, periodic, samples {:?}, {} threads",
        options.kind,
        percolation.name(),
        options.samples,
        rayon::current_num_threads()
    );
    outln!(
        "{:>6} {:>10} {:>14} {:>12} {:>8}",
        "L",
        "sites",
        "M_L",
        "± se",
        "seconds"
    );
    let study = scaling_study(&options, |m| {
        outln!(
            "{:>6} {:>10} {:>14.2} {:>12.2} {:>8.1}",
            m.size,
            m.sites,
            m.mass,
            m.mass_se,
            m.seconds
        );
    })?;
    out!("{}", scaling_summary(&study));
    if let Some(path) = &args.json {
        write_text(path, &(serde_json::to_string_pretty(&study)? + "\n"))?;
        outln!("json         {}", path.display());
    }
    if let Some(dir) = &args.plots {
        let stem = format!("{}-{}-scaling", study.lattice, study.mode);
        for path in plot_study(&serde_json::to_value(&study)?, dir, &stem)? {
            outln!("plot         {}", path.display());
        }
    }
    Ok(())
}

/// Arguments of `plot-study`.
#[derive(Args, Debug)]
pub struct PlotStudyArgs {
    /// JSON written by `threshold --json` or `scaling --json`.
    #[arg(value_name = "FILE.json")]
    pub study: PathBuf,
    /// Folder for the PNGs.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

/// Runs `plot-study`: the plots of a study written earlier.
pub fn plot_study_command(args: &PlotStudyArgs) -> Result<()> {
    check_output_dir(&args.out, "--out")?;
    let text = std::fs::read_to_string(&args.study)
        .with_context(|| format!("reading {}", args.study.display()))?;
    let study: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.study.display()))?;
    let stem = args
        .study
        .file_stem()
        .map_or("study".into(), |s| s.to_string_lossy().into_owned());
    for path in plot_study(&study, &args.out, &stem)? {
        outln!("plot         {}", path.display());
    }
    Ok(())
}

/// The result lines of a scaling study.
pub fn scaling_summary(study: &ScalingStudy) -> String {
    let mut s = String::new();
    let r = study.reference_d_f;
    let line = |s: &mut String, name: &str, fit: &Option<tunnelgrid::research::fss::LineFit>| {
        if let Some(f) = fit {
            let _ = writeln!(
                s,
                "{name:<12} {:.4} ± {:.4}  (deviation {:+.2}% from {r}; χ²/dof = {:.2}/{})",
                f.slope,
                f.slope_se,
                100.0 * (f.slope - r) / r,
                f.chi2,
                f.dof
            );
        }
    };
    line(&mut s, "d_f", &study.fit);
    line(&mut s, "d_f (L>min)", &study.fit_without_smallest);
    let slopes: Vec<String> = study
        .local_slopes
        .iter()
        .map(|v| format!("{v:.4}"))
        .collect();
    let _ = writeln!(s, "local slopes {}", slopes.join(", "));
    let _ = writeln!(
        s,
        "time         {:.1} s on {} threads",
        study.seconds, study.threads
    );
    s
}

/// The material and seeds shared by `critical-pressure` and `design`.
#[derive(Args, Debug)]
pub struct PhysicalArgs {
    /// Shipped preset.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "default",
        conflicts_with = "config"
    )]
    pub preset: String,
    /// Material TOML file instead of a preset.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Cells along every axis.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub size: u32,
    /// Number of seeds (1, 2, … N) the bisection runs on.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub seeds: u64,
    /// Width each seed's bracket is bisected to.
    #[arg(long, value_name = "X")]
    pub tolerance: Option<f64>,
    /// Axes that must reach the state.
    #[arg(long, value_enum, default_value_t = Axes::All)]
    pub axis: Axes,
    /// Engine.
    #[arg(long, value_enum, default_value_t = EngineChoice::Cpu)]
    pub engine: EngineChoice,
    /// Write the result as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

impl PhysicalArgs {
    fn material(&self) -> Result<Material> {
        let mut material = match &self.config {
            Some(path) => tunnelgrid::spec::read_material(path, "--config")?,
            None => preset(&self.preset)?,
        };
        ensure!(
            material.mode == tunnelgrid::model::Mode::Tunnel,
            "--preset: '{}' is in {} mode; these commands bisect the physical (tunnel) model",
            material.name,
            material.mode.name()
        );
        ensure!(
            (2..=1024).contains(&self.size),
            "--size must be in [2, 1024] cells, got {}",
            self.size
        );
        let nz = if material.lattice.kind.is_2d() {
            1
        } else {
            self.size
        };
        material.lattice.cells = [self.size, self.size, nz];
        Ok(material)
    }

    fn seed_list(&self) -> Vec<u64> {
        (1..=self.seeds).collect()
    }
}

fn bisection_lines(name: &str, unit: &str, b: &Bisection) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{name:<12} {:.4} ± {:.4} {unit} (mean ± se over {} seeds; sd {:.4}, range {:.4} … {:.4}, each seed bracketed to {})",
        b.mean, b.se, b.seeds.len(), b.sd, b.min, b.max, b.tolerance
    );
    for seed in &b.seeds {
        let _ = writeln!(
            s,
            "  seed {:<5} ({:.4}, {:.4}] {unit}, {} runs",
            seed.seed, seed.below, seed.at_or_above, seed.runs
        );
    }
    s
}

fn range_arg(range: &[f64], flag: &str) -> Result<(f64, f64)> {
    ensure!(
        range.len() == 2 && range[0] < range[1] && range.iter().all(|v| v.is_finite()),
        "{flag}: give LO,HI with LO < HI, got {range:?}"
    );
    Ok((range[0], range[1]))
}

/// Arguments of `critical-pressure`.
#[derive(Args, Debug)]
pub struct CriticalPressureArgs {
    #[command(flatten)]
    pub common: PhysicalArgs,
    /// Temperature in K.
    #[arg(long, value_name = "K", default_value_t = 300.0)]
    pub temperature: f64,
    /// The state whose onset is sought.
    #[arg(long, value_enum, default_value_t = Target::Conducting)]
    pub target: Target,
    /// Pressure range searched, GPa.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,400",
        allow_negative_numbers = true
    )]
    pub range: Vec<f64>,
}

/// Runs `critical-pressure`.
pub fn critical_pressure(args: &CriticalPressureArgs) -> Result<()> {
    check_output_file_opt(&args.common.json, "--json")?;
    let material = args.common.material()?;
    let range = range_arg(&args.range, "--range")?;
    let selected = engines::select(args.common.engine, Default::default())?;
    let tolerance = args.common.tolerance.unwrap_or(0.5);
    let b = physical::critical_pressure(
        selected.engine.as_ref(),
        &material,
        args.temperature,
        &args.common.seed_list(),
        range,
        tolerance,
        args.target,
        args.common.axis,
    )?;
    outln!(
        "critical     {} ({}³) at T = {} K: onset of {:?} along {:?}, engine {}",
        material.name,
        args.common.size,
        args.temperature,
        args.target,
        args.common.axis,
        selected.engine.name()
    );
    out!("{}", bisection_lines("P_c", "GPa", &b));
    if let Some(path) = &args.common.json {
        write_text(path, &(serde_json::to_string_pretty(&b)? + "\n"))?;
        outln!("json         {}", path.display());
    }
    Ok(())
}

/// Arguments of `design`.
#[derive(Args, Debug)]
pub struct DesignArgs {
    #[command(flatten)]
    pub common: PhysicalArgs,
    /// Temperature in K.
    #[arg(long, value_name = "K", default_value_t = 300.0)]
    pub temperature: f64,
    /// Pressure in GPa.
    #[arg(
        long,
        value_name = "GPA",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub pressure: f64,
    /// The species pair whose attraction δ is varied, e.g. 0,1 (default: the material's only
    /// attractive pair).
    #[arg(long, value_name = "A,B", value_parser = parse_pair)]
    pub pair: Option<[u32; 2]>,
    /// δ range searched, Å.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,1.5",
        allow_negative_numbers = true
    )]
    pub range: Vec<f64>,
}

/// Runs `design`.
pub fn design(args: &DesignArgs) -> Result<()> {
    check_output_file_opt(&args.common.json, "--json")?;
    let mut material = args.common.material()?;
    let range = range_arg(&args.range, "--range")?;
    ensure!(range.0 >= 0.0, "--range: δ must be ≥ 0 Å, got {}", range.0);
    let pair = physical::design_pair(&mut material, args.pair)?;
    let selected = engines::select(args.common.engine, Default::default())?;
    let tolerance = args.common.tolerance.unwrap_or(0.002);
    let b = physical::design(
        selected.engine.as_ref(),
        &material,
        pair,
        args.pressure,
        args.temperature,
        &args.common.seed_list(),
        range,
        tolerance,
        args.common.axis,
    )?;
    let [a, bb] = material.pairs[pair].species;
    outln!(
        "design       {} ({}³) at P = {} GPa, T = {} K: smallest δ of pair {a}–{bb} superconducting along {:?}, engine {}",
        material.name, args.common.size, args.pressure, args.temperature, args.common.axis, selected.engine.name()
    );
    out!("{}", bisection_lines("delta", "Å", &b));
    // The report at the δ that works for every seed tried, on the first seed.
    material.pairs[pair].attraction = b.max;
    let report = physical::analyze(
        selected.engine.as_ref(),
        &material,
        args.pressure,
        args.temperature,
        1,
    )?;
    outln!(
        "at δ = {:.4} Å (superconducting for all {} seeds): seed 1 states {:?}, sc bond fraction {:.4}, tunnel bond fraction {:.4}",
        b.max,
        b.seeds.len(),
        report.states.to_vec(),
        report.sc_bond_fraction,
        report.tunnel_bond_fraction
    );
    if let Some(path) = &args.common.json {
        let out = serde_json::json!({ "bisection": b, "pair": [a, bb], "report": report });
        write_text(path, &(serde_json::to_string_pretty(&out)? + "\n"))?;
        outln!("json         {}", path.display());
    }
    Ok(())
}

/// `--pair A,B`: two species indices joined by a comma (one pair per run).
fn parse_pair(s: &str) -> std::result::Result<[u32; 2], String> {
    let parsed = s
        .split_once(',')
        .and_then(|(a, b)| Some([a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?]));
    parsed.ok_or_else(|| {
        format!("'{s}' is not a species pair; give two species indices as A,B, e.g. 0,1")
    })
}
