//! `tunnelgrid render`: a connectivity heat map of one run (PNG), optionally the 3D field as
//! VTK ImageData. The field computations are shared with `export` (`tunnelgrid::fields`).

use super::export::Axis;
use super::stdout::outln;
use super::ModelArgs;
use anyhow::{ensure, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tunnelgrid::engines::{self, EngineChoice};
use tunnelgrid::fields::Fields;
use tunnelgrid::output::check_output_file;
use tunnelgrid::picture::{field_heatmap, picture_size, write_vti, PictureField, Plane};
use tunnelgrid::render::heatmap::write_heatmap;

/// Which field `render` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderField {
    /// Fraction of each site's forward bonds that tunnel.
    Tunnels,
    /// Mean gap Δ (eV) of each site's normal tunnels.
    Gap,
    /// Tunnel clusters, the largest and the spanning ones highlighted.
    Clusters,
    /// The superconducting network, its largest and spanning clusters highlighted.
    Sc,
    /// |current| per site at 1 V along --axis (log scale).
    Current,
}

/// Projection along z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Projection {
    /// Maximum over each column (clusters: the most important category).
    Max,
    /// Mean over each column's present sites (clusters: as max).
    Mean,
}

/// Export formats of the 3D field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// VTK ImageData (.vti) for ParaView.
    Vti,
}

/// Arguments of `render`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Field to draw.
    #[arg(long, value_enum)]
    pub field: RenderField,
    /// Draw the cell layer AXIS=K (e.g. z=10; default: the middle z layer).
    #[arg(long, value_name = "AXIS=K", conflicts_with = "project")]
    pub slice: Option<String>,
    /// Project along z instead of slicing.
    #[arg(long, value_enum)]
    pub project: Option<Projection>,
    /// Output PNG.
    #[arg(long, value_name = "FILE.png", default_value = "render.png")]
    pub out: PathBuf,
    /// Also write the whole 3D field next to --out (same name, .vti).
    #[arg(long, value_enum)]
    pub export: Option<ExportFormat>,
    /// Engine for bonds and labels (the engines agree; see MODEL.md §5).
    #[arg(long, value_enum, default_value_t = EngineChoice::Cpu)]
    pub engine: EngineChoice,
    /// Axis of the bus bars for --field current.
    #[arg(long, value_enum, default_value_t = Axis::X)]
    pub axis: Axis,
}

/// Computes the field, draws it and writes the files.
pub fn render(args: &RenderArgs) -> Result<()> {
    check_output_file(&args.out, "--out")?;
    ensure!(
        args.out.extension().is_some_and(|e| e == "png"),
        "--out must name a .png file, got {}",
        args.out.display()
    );
    let (model, conditions) = args.model.build()?;
    let plane = match (&args.slice, args.project) {
        (Some(spec), _) => Plane::parse_slice(spec)?,
        (None, Some(Projection::Max)) => Plane::ProjectMax,
        (None, Some(Projection::Mean)) => Plane::ProjectMean,
        (None, None) => Plane::Slice {
            axis: 2,
            index: model.lattice.cells[2] / 2,
        },
    };
    let selected = engines::select_for(args.engine, Default::default(), args.model.cpu_only())?;
    let fields = Fields::new(model, conditions, selected.engine.as_ref())?;
    let field = match args.field {
        RenderField::Tunnels => PictureField::Tunnels,
        RenderField::Gap => PictureField::Gap,
        RenderField::Clusters => PictureField::Clusters,
        RenderField::Sc => PictureField::Sc,
        RenderField::Current => PictureField::Current(args.axis as usize),
    };
    let m = &fields.model;
    let [nx, ny, nz] = m.lattice.cells;
    let what = match args.field {
        RenderField::Tunnels => "Tunnel density".to_string(),
        RenderField::Gap => "Gap".to_string(),
        RenderField::Clusters => "Tunnel clusters".to_string(),
        RenderField::Sc => "Superconducting network".to_string(),
        RenderField::Current => format!("Current along {:?}", args.axis).to_lowercase(),
    };
    let c = &fields.conditions;
    let title = if m.material.volume.is_some() {
        format!("{what} — volume {nx}×{ny}×{nz}")
    } else {
        format!(
            "{what} — {}, {nx}×{ny}×{nz}, P = {} GPa, T = {} K",
            m.material.name, c.pressure_gpa, c.temperature_k
        )
    };
    let map = field_heatmap(&fields, field, plane, &title)?;
    write_heatmap(&map, &args.out, picture_size(&map))?;
    outln!("wrote {}", args.out.display());
    if args.export == Some(ExportFormat::Vti) {
        let path = args.out.with_extension("vti");
        let name = format!("{:?}", args.field).to_lowercase();
        write_vti(&fields, field, &name, &path)?;
        outln!("wrote {}", path.display());
    }
    Ok(())
}
