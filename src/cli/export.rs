//! `tunnelgrid export`: per-site fields as NumPy arrays.

use super::stdout::outln;
use super::ModelArgs;
use anyhow::{ensure, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tunnelgrid::engines::{self, EngineChoice};
use tunnelgrid::fields::{cluster_summary, largest_label, Fields};
use tunnelgrid::model::params::PRESENT_BIT;
use tunnelgrid::model::Network;
use tunnelgrid::output::{check_output_file, write_npy};

/// Which per-site field to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Field {
    /// u32 bond mask: bit 2k = forward bond k tunnels, 2k+1 = it superconducts, 31 = site present.
    Bonds,
    /// u32 tunnel-cluster labels: 0 for absent sites, equal labels ⇔ same cluster.
    Labels,
    /// u32 superconducting-cluster labels, as `labels`.
    ScLabels,
    /// u8 occupancy: 1 for present sites, 0 for vacancies / empty sites.
    Occupancy,
    /// f32 |current| through each site, amperes, at 1 V between bus bars on the faces of --axis
    /// (Kirchhoff's laws, CPU solver); refused along a superconducting axis, where it is unbounded.
    Current,
    /// u8 bonds of a minimum cut of the superconducting network along --axis (bit k: forward
    /// bond k of the site): the bonds that limit the critical current.
    MinCut,
}

/// Which clusters `--field occupancy` keeps (PoreSpy's trim filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Keep {
    /// Only sites in tunnel clusters that span (or wrap) at least one axis.
    Spanning,
    /// Only sites in the largest tunnel cluster (the one with the smallest label on a tie).
    Largest,
}

/// An axis of the lattice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Axis {
    /// Along x.
    X,
    /// Along y.
    Y,
    /// Along z.
    Z,
}

/// Arguments of `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Field to export.
    #[arg(long, value_enum)]
    pub field: Field,
    /// Output .npy file, shaped (nz, ny, nx) for one-site lattices, (nz, ny, nx, basis) otherwise.
    #[arg(long, value_name = "FILE.npy")]
    pub out: PathBuf,
    /// Engine that computes the field (the engines agree; see MODEL.md §5).
    #[arg(long, value_enum, default_value_t = EngineChoice::Cpu)]
    pub engine: EngineChoice,
    /// Axis of the bus bars for --field current and min-cut.
    #[arg(long, value_enum, default_value_t = Axis::X)]
    pub axis: Axis,
    /// With --field occupancy: keep only the sites of spanning clusters, or of the largest one.
    #[arg(long, value_enum)]
    pub keep: Option<Keep>,
}

/// Computes the field on the chosen engine and writes it.
pub fn export(args: &ExportArgs) -> Result<()> {
    check_output_file(&args.out, "--out")?;
    ensure!(
        args.out.extension().is_some_and(|e| e == "npy"),
        "--out must name a .npy file, got {}",
        args.out.display()
    );
    ensure!(
        args.keep.is_none() || args.field == Field::Occupancy,
        "--keep applies to --field occupancy only"
    );
    let (model, conditions) = args.model.build()?;
    let selected = engines::select_for(args.engine, Default::default(), args.model.cpu_only())?;
    let fields = Fields::new(model, conditions, selected.engine.as_ref())?;
    let model = &fields.model;
    let masks = &fields.masks;
    let shape = fields.npy_shape();
    let axis = args.axis as usize;
    match args.field {
        Field::Bonds => write_npy(&args.out, &shape, masks)?,
        Field::Labels => write_npy(&args.out, &shape, &fields.labels(Network::Tunnel)?)?,
        Field::ScLabels => write_npy(&args.out, &shape, &fields.labels(Network::Superconducting)?)?,
        Field::Occupancy => {
            let occupancy: Vec<u8> = match args.keep {
                None => masks
                    .iter()
                    .map(|&m| u8::from(m & PRESENT_BIT != 0))
                    .collect(),
                Some(keep) => {
                    let labels = fields.labels(Network::Tunnel)?;
                    let (sizes, spanning) = cluster_summary(model, &labels);
                    let kept: std::collections::HashSet<u32> = match keep {
                        Keep::Largest => largest_label(&sizes).into_iter().collect(),
                        Keep::Spanning => spanning,
                    };
                    labels.iter().map(|l| u8::from(kept.contains(l))).collect()
                }
            };
            write_npy(&args.out, &shape, &occupancy)?
        }
        Field::Current => write_npy(&args.out, &shape, &fields.current(axis)?)?,
        Field::MinCut => write_npy(&args.out, &shape, &fields.min_cut(axis)?)?,
    }
    outln!(
        "wrote {} ({:?}, shape {shape:?})",
        args.out.display(),
        args.field
    );
    Ok(())
}
