//! `tunnelgrid export`: per-site fields as NumPy arrays.

use super::ModelArgs;
use anyhow::{bail, ensure, Result};
use clap::{Args, ValueEnum};
use std::borrow::Cow;
use std::path::PathBuf;
use tunnelgrid::cpu::kirchhoff::{axis_resistance, SolveOptions};
use tunnelgrid::cpu::maxflow::critical_current;
use tunnelgrid::cpu::{export_labels, CpuEngine, Network};
use tunnelgrid::engines::EngineChoice;
use tunnelgrid::gpu::GpuEngine;
use tunnelgrid::model::params::PRESENT_BIT;
use tunnelgrid::model::{BondParams, Conditions, Model};
use tunnelgrid::output::write_npy;
use tunnelgrid::transport::conduction_model;

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
    if let Some(available) = tunnelgrid::cpu::available_memory() {
        model.check_memory(available)?;
    }
    let gpu = match args.model.engine_choice(args.engine)? {
        EngineChoice::Cpu => None,
        EngineChoice::Gpu => Some(GpuEngine::new()?),
        EngineChoice::Auto => tunnelgrid::engines::auto_gpu().ok(),
    };
    let cpu = CpuEngine::default();
    let masks = match &gpu {
        Some(gpu) => gpu.bond_masks(&model, &conditions)?.0,
        None => cpu.bond_masks(&model, &conditions).bond_masks,
    };
    let labels = |network: Network| -> Result<Vec<u32>> {
        let roots = match &gpu {
            Some(gpu) => gpu.labels(&model, &conditions, network)?,
            None => cpu.cluster_roots(&model, &masks, network),
        };
        Ok(export_labels(&masks, roots))
    };
    let [nx, ny, nz] = model.lattice.cells.map(u64::from);
    let basis = model.lattice.basis_len() as u64;
    let mut shape = vec![nz, ny, nx];
    if basis > 1 {
        shape.push(basis);
    }
    match args.field {
        Field::Bonds => write_npy(&args.out, &shape, &masks)?,
        Field::Labels => write_npy(&args.out, &shape, &labels(Network::Tunnel)?)?,
        Field::ScLabels => write_npy(&args.out, &shape, &labels(Network::Superconducting)?)?,
        Field::Occupancy => {
            let occupancy: Vec<u8> = match args.keep {
                None => masks
                    .iter()
                    .map(|&m| u8::from(m & PRESENT_BIT != 0))
                    .collect(),
                Some(keep) => {
                    let labels = labels(Network::Tunnel)?;
                    let kept = kept_labels(&model, &labels, keep);
                    labels.iter().map(|l| u8::from(kept.contains(l))).collect()
                }
            };
            write_npy(&args.out, &shape, &occupancy)?
        }
        Field::Current => {
            // A volume conducts through voxel faces only, whatever --connectivity labels with.
            let network = conduction_model(&model)?;
            let face_masks;
            let masks = if matches!(network, Cow::Owned(_)) {
                face_masks = cpu.bond_masks(&network, &conditions).bond_masks;
                &face_masks
            } else {
                &masks
            };
            write_npy(
                &args.out,
                &shape,
                &current_map(&network, &conditions, masks, args.axis as usize)?,
            )?
        }
        Field::MinCut => {
            let params = BondParams::new(&model.material, &model.lattice, &conditions);
            let cut = critical_current(
                &model.lattice,
                &params,
                &masks,
                args.axis as usize,
                model.material.overlap.j0_amp,
            )?;
            let mut bonds = vec![0u8; masks.len()];
            for (site, k) in cut.cut_bonds {
                bonds[site as usize] |= 1 << k;
            }
            write_npy(&args.out, &shape, &bonds)?
        }
    }
    println!(
        "wrote {} ({:?}, shape {shape:?})",
        args.out.display(),
        args.field
    );
    Ok(())
}

/// The exported labels (label 0 = absent, never kept) that `keep` keeps. A cluster spans an axis
/// when it holds a site in the first and the last cell layer of it (for periodic axes the engines'
/// wrapping rule is not repeated here: a cluster touching both faces is kept).
fn kept_labels(model: &Model, labels: &[u32], keep: Keep) -> std::collections::HashSet<u32> {
    let lattice = &model.lattice;
    let mut kept = std::collections::HashSet::new();
    match keep {
        Keep::Largest => {
            let mut sizes: std::collections::HashMap<u32, u64> = Default::default();
            for &l in labels.iter().filter(|&&l| l != 0) {
                *sizes.entry(l).or_default() += 1;
            }
            // Largest size, then smallest label, so ties are decided the same way every run.
            if let Some((&l, _)) = sizes
                .iter()
                .max_by_key(|(&l, &n)| (n, std::cmp::Reverse(l)))
            {
                kept.insert(l);
            }
        }
        Keep::Spanning => {
            for axis in 0..lattice.axes() {
                let last = lattice.cells[axis] - 1;
                let mut low = std::collections::HashSet::new();
                let mut high = std::collections::HashSet::new();
                for (site, &l) in labels.iter().enumerate() {
                    if l == 0 {
                        continue;
                    }
                    let c = lattice.coords(site as u64).0[axis];
                    if c == 0 {
                        low.insert(l);
                    }
                    if c == last {
                        high.insert(l);
                    }
                }
                kept.extend(low.intersection(&high));
            }
        }
    }
    kept
}

/// |current| per site at 1 V along `axis`.
fn current_map(
    model: &Model,
    conditions: &Conditions,
    masks: &[u32],
    axis: usize,
) -> Result<Vec<f32>> {
    let params = BondParams::new(&model.material, &model.lattice, conditions);
    let options = SolveOptions {
        node_currents: true,
        ..SolveOptions::default()
    };
    let solved = axis_resistance(
        &model.lattice,
        &params,
        masks,
        None,
        axis,
        &options,
        |_, _| {},
    )?;
    match solved.site_current_a {
        Some(map) => Ok(map),
        None => bail!("--field current: the sample superconducts along axis {axis}: the current at 1 V is unbounded (see --field min-cut for the critical current)"),
    }
}
