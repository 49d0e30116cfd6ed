//! `tunnelgrid export`: per-site fields as NumPy arrays.

use super::ModelArgs;
use anyhow::{bail, ensure, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tunnelgrid::cpu::kirchhoff::{axis_resistance, SolveOptions};
use tunnelgrid::cpu::maxflow::critical_current;
use tunnelgrid::cpu::{export_labels, CpuEngine, Network};
use tunnelgrid::engines::EngineChoice;
use tunnelgrid::gpu::GpuEngine;
use tunnelgrid::model::params::PRESENT_BIT;
use tunnelgrid::model::{BondParams, Conditions, Model};
use tunnelgrid::output::write_npy;

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
}

/// Computes the field on the chosen engine and writes it.
pub fn export(args: &ExportArgs) -> Result<()> {
    ensure!(
        args.out.extension().is_some_and(|e| e == "npy"),
        "--out must name a .npy file, got {}",
        args.out.display()
    );
    let (model, conditions) = args.model.build()?;
    if let Some(available) = tunnelgrid::cpu::available_memory() {
        model.check_memory(available)?;
    }
    let gpu = match args.engine {
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
            let occupancy: Vec<u8> = masks
                .iter()
                .map(|&m| u8::from(m & PRESENT_BIT != 0))
                .collect();
            write_npy(&args.out, &shape, &occupancy)?
        }
        Field::Current => write_npy(
            &args.out,
            &shape,
            &current_map(&model, &conditions, &masks, args.axis as usize)?,
        )?,
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
