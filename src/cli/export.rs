//! `tunnelgrid export`: per-site fields as NumPy arrays.

use super::ModelArgs;
use anyhow::{ensure, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tunnelgrid::cpu::{export_labels, CpuEngine, Network};
use tunnelgrid::engines::EngineChoice;
use tunnelgrid::gpu::GpuEngine;
use tunnelgrid::model::params::PRESENT_BIT;
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
    }
    println!(
        "wrote {} ({:?}, shape {shape:?})",
        args.out.display(),
        args.field
    );
    Ok(())
}
