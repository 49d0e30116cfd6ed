//! Connectivity heat maps of one run (`tunnelgrid render`): a per-site field reduced to a 2D
//! picture by a slice or a projection, drawn with a colour bar or a categorical legend, and the
//! full 3D field as VTK ImageData for ParaView.
//!
//! Readings (see docs/MODEL-READINGS.md, "Pictures"):
//! - Multi-site cells (bcc, fcc, diamond) are drawn per cell: continuous fields take the mean of
//!   the cell's present sites, categorical ones the highest-priority category among them.
//! - `--project max|mean` reduces along z. Continuous fields take the maximum or the mean over
//!   the present sites of the column; categorical fields show the highest-priority category of
//!   the column for both (largest cluster > other spanning cluster > finite cluster > isolated
//!   site > absent), since a mean of labels means nothing.

use crate::fields::{cluster_summary, largest_label, Fields};
use crate::output::write_atomic;
use anyhow::{bail, ensure, Context, Result};
use std::io::Write;
use std::path::Path;
use tunnelgrid_model::Network;
use tunnelgrid_render::colormap::{categorical, Colormap, Rgb, BACKGROUND};
use tunnelgrid_render::{Cell, ColourBar, Heatmap, Panel};

/// Which field to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureField {
    /// Fraction of each site's forward bonds that tunnel (viridis, 0..1).
    Tunnels,
    /// Mean gap Δ of each site's normal tunnels, eV (viridis).
    Gap,
    /// Tunnel clusters: largest highlighted, other spanning clusters, finite clusters.
    Clusters,
    /// The superconducting network: its largest and spanning clusters highlighted.
    Sc,
    /// |current| per site at 1 V along an axis (magma, log10 A).
    Current(usize),
}

/// How the 3D field becomes a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// The cell layer `index` across `axis` (0 = x, 1 = y, 2 = z).
    Slice {
        /// Axis the slice is perpendicular to.
        axis: usize,
        /// Cell layer along that axis.
        index: u32,
    },
    /// Maximum along z.
    ProjectMax,
    /// Mean along z.
    ProjectMean,
}

impl Plane {
    /// Parses `--slice AXIS=K` (e.g. `z=10`).
    pub fn parse_slice(spec: &str) -> Result<Self> {
        let (axis, k) = spec
            .split_once('=')
            .with_context(|| format!("--slice takes AXIS=K (e.g. z=10), got '{spec}'"))?;
        let axis = match axis.trim() {
            "x" => 0,
            "y" => 1,
            "z" => 2,
            other => bail!("--slice: axis '{other}' must be x, y or z"),
        };
        let index = k
            .trim()
            .parse()
            .with_context(|| format!("--slice: layer '{k}' is not a whole number"))?;
        Ok(Plane::Slice { axis, index })
    }
}

/// Categories of the cluster pictures, in priority order (higher wins in a projection).
const ABSENT: u32 = 0;
const ISOLATED: u32 = 1;
const FINITE: u32 = 2;
const SPANNING: u32 = 3;
const LARGEST: u32 = 4;

/// Colours of the cluster pictures.
pub const LARGEST_CLUSTER: Rgb = Rgb(225, 87, 89); // Tableau red
/// Other clusters that span an axis.
pub const SPANNING_CLUSTER: Rgb = Rgb(242, 142, 43); // Tableau orange
/// Largest superconducting cluster.
pub const LARGEST_SC_CLUSTER: Rgb = Rgb(78, 121, 167); // Tableau blue
/// Other spanning superconducting clusters.
pub const SPANNING_SC_CLUSTER: Rgb = Rgb(118, 183, 178); // Tableau teal
/// Present sites outside every (superconducting) cluster.
pub const ISOLATED_SITE: Rgb = Rgb(215, 215, 215);

/// A finite cluster's colour: a light categorical colour picked by its label.
fn finite_colour(label: u32) -> Rgb {
    // Skip the highlight colours (Tableau blue, orange, red, teal: 0..=3) and the grey (9) that
    // isolated sites use, and lighten the rest halfway to white so the highlights stand out.
    let c = categorical(4 + (label.wrapping_mul(2_654_435_761) >> 16) as usize % 5);
    let lighten = |v: u8| ((u16::from(v) + 255) / 2) as u8;
    Rgb(lighten(c.0), lighten(c.1), lighten(c.2))
}

/// A per-site field ready to be reduced: a value per site or a category + label per site.
enum SiteField {
    Continuous(Vec<f32>),
    /// (category, label) per site.
    Categorical(Vec<(u32, u32)>),
}

/// Computes `field` on every site.
fn site_field(fields: &Fields, field: PictureField) -> Result<SiteField> {
    Ok(match field {
        PictureField::Tunnels => SiteField::Continuous(fields.tunnel_density()),
        PictureField::Gap => SiteField::Continuous(fields.gap_ev()),
        PictureField::Current(axis) => SiteField::Continuous(fields.current(axis)?),
        PictureField::Clusters | PictureField::Sc => {
            let network = if field == PictureField::Sc {
                Network::Superconducting
            } else {
                Network::Tunnel
            };
            let labels = fields.labels(network)?;
            let (sizes, spanning) = cluster_summary(&fields.model, &labels);
            let largest = largest_label(&sizes).filter(|l| sizes[l] > 1);
            SiteField::Categorical(
                labels
                    .iter()
                    .map(|&l| {
                        let category = if l == 0 {
                            ABSENT
                        } else if sizes[&l] < 2 {
                            ISOLATED
                        } else if Some(l) == largest {
                            LARGEST
                        } else if spanning.contains(&l) {
                            SPANNING
                        } else {
                            FINITE
                        };
                        (category, l)
                    })
                    .collect(),
            )
        }
    })
}

/// The 2D picture of `field` on `plane`, titled `title`.
pub fn field_heatmap(
    fields: &Fields,
    field: PictureField,
    plane: Plane,
    title: &str,
) -> Result<Heatmap> {
    let lattice = &fields.model.lattice;
    let cells = lattice.cells;
    let basis = lattice.basis_len();
    // Picture axes (across, up) and the reduced axis.
    let (u, v, w) = match plane {
        Plane::Slice { axis: 0, .. } => (1, 2, 0),
        Plane::Slice { axis: 1, .. } => (0, 2, 1),
        _ => (0, 1, 2),
    };
    if let Plane::Slice { axis, index } = plane {
        ensure!(
            axis < 3 && index < cells[axis],
            "--slice {}={index}: the lattice has {} cell layers along {} (0..={})",
            ["x", "y", "z"][axis.min(2)],
            cells[axis.min(2)],
            ["x", "y", "z"][axis.min(2)],
            cells[axis.min(2)].saturating_sub(1)
        );
    }
    let layers: Vec<u32> = match plane {
        Plane::Slice { index, .. } => vec![index],
        _ => (0..cells[w]).collect(),
    };
    let (nu, nv) = (cells[u] as usize, cells[v] as usize);
    let site_of = |iu: u32, iv: u32, iw: u32, b: u32| {
        let mut c = [0u32; 3];
        c[u] = iu;
        c[v] = iv;
        c[w] = iw;
        lattice.site_index(c[0], c[1], c[2], b) as usize
    };
    let values = site_field(fields, field)?;
    let mut out = Vec::with_capacity(nu * nv);
    for iv in 0..nv as u32 {
        for iu in 0..nu as u32 {
            let sites = layers
                .iter()
                .flat_map(|&iw| (0..basis).map(move |b| (iw, b)))
                .map(|(iw, b)| site_of(iu, iv, iw, b));
            let cell = match &values {
                SiteField::Continuous(vals) => {
                    let present: Vec<f64> = sites
                        .map(|s| f64::from(vals[s]))
                        .filter(|x| x.is_finite())
                        .collect();
                    if present.is_empty() {
                        Cell::Empty
                    } else if matches!(plane, Plane::ProjectMax) {
                        Cell::Value(present.iter().copied().fold(f64::MIN, f64::max))
                    } else {
                        // Slices average over the basis; `mean` projections over the column.
                        Cell::Value(present.iter().sum::<f64>() / present.len() as f64)
                    }
                }
                SiteField::Categorical(cats) => {
                    let (cat, label) = sites.map(|s| cats[s]).fold((ABSENT, 0), |best, c| {
                        if c.0 > best.0 {
                            c
                        } else {
                            best
                        }
                    });
                    let sc = field == PictureField::Sc;
                    match cat {
                        ABSENT => Cell::Empty,
                        ISOLATED => Cell::Colour(ISOLATED_SITE),
                        FINITE => Cell::Colour(finite_colour(label)),
                        SPANNING if sc => Cell::Colour(SPANNING_SC_CLUSTER),
                        SPANNING => Cell::Colour(SPANNING_CLUSTER),
                        _ if sc => Cell::Colour(LARGEST_SC_CLUSTER),
                        _ => Cell::Colour(LARGEST_CLUSTER),
                    }
                }
            };
            out.push(cell);
        }
    }
    // Current spans decades: draw log10 |I|, leaving sites without current empty.
    if let PictureField::Current(_) = field {
        for c in &mut out {
            if let Cell::Value(x) = *c {
                *c = if x > 0.0 {
                    Cell::Value(x.log10())
                } else {
                    Cell::Empty
                };
            }
        }
    }
    let finite: Vec<f64> = out
        .iter()
        .filter_map(|c| match c {
            Cell::Value(x) => Some(*x),
            _ => None,
        })
        .collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if finite.is_empty() {
        (0.0, 1.0)
    } else {
        (lo, hi)
    };
    let colour_bar = |label: &str, colormap, lo: f64, hi: f64| {
        Some(ColourBar {
            colormap,
            min: lo,
            max: hi,
            label: label.into(),
        })
    };
    let (colour_bar, legend) = match field {
        PictureField::Tunnels => (
            colour_bar(
                "tunnel fraction of forward bonds",
                Colormap::Viridis,
                0.0,
                1.0,
            ),
            vec![("absent site".to_string(), BACKGROUND)],
        ),
        PictureField::Gap => (
            colour_bar(
                "gap Δ (eV)",
                Colormap::Viridis,
                lo.min(0.0),
                hi.max(lo + 1e-9),
            ),
            vec![("no normal tunnel".to_string(), BACKGROUND)],
        ),
        // Dead ends carry only the solver's round-off (~1e-15 of the total): six decades below
        // the strongest current show the backbone without drowning in that noise.
        PictureField::Current(_) => (
            colour_bar(
                "log10 |current| (A) at 1 V",
                Colormap::Magma,
                lo.max(hi - 6.0),
                hi,
            ),
            vec![("no current".to_string(), BACKGROUND)],
        ),
        PictureField::Clusters => (
            None,
            vec![
                ("largest cluster".to_string(), LARGEST_CLUSTER),
                ("other spanning clusters".to_string(), SPANNING_CLUSTER),
                ("finite clusters".to_string(), finite_colour(1)),
                ("isolated sites".to_string(), ISOLATED_SITE),
            ],
        ),
        PictureField::Sc => (
            None,
            vec![
                ("largest sc cluster".to_string(), LARGEST_SC_CLUSTER),
                (
                    "other spanning sc clusters".to_string(),
                    SPANNING_SC_CLUSTER,
                ),
                ("finite sc clusters".to_string(), finite_colour(1)),
                ("no sc bond".to_string(), ISOLATED_SITE),
            ],
        ),
    };
    let names = ["x", "y", "z"];
    let panel_title = match plane {
        Plane::Slice { axis, index } => format!("slice {}={index}", names[axis]),
        Plane::ProjectMax => "maximum along z".into(),
        Plane::ProjectMean => "mean along z".into(),
    };
    Ok(Heatmap {
        title: title.into(),
        x_label: format!("{} (cells)", names[u]),
        y_label: format!("{} (cells)", names[v]),
        x_range: (0.0, nu as f64),
        y_range: (0.0, nv as f64),
        panels: vec![Panel {
            title: panel_title,
            nx: nu,
            ny: nv,
            cells: out,
            hatched: Vec::new(),
        }],
        colour_bar,
        legend,
        boundaries: false,
        overlays: Vec::new(),
        annotations: Vec::new(),
        hatch_legend: None,
    })
}

/// A picture size that keeps cells square-ish and readable: the plot about 700 px on its longer
/// side, plus room for the axes, colour bar and legend.
pub fn picture_size(map: &Heatmap) -> (u32, u32) {
    let (nx, ny) = (map.panels[0].nx as f64, map.panels[0].ny as f64);
    let long = nx.max(ny);
    let (w, h) = (700.0 * nx / long, 700.0 * ny / long);
    let bar = if map.colour_bar.is_some() { 170.0 } else { 0.0 };
    // At least 980 px wide so the title and the four-entry legends fit.
    (
        (w.max(300.0) + 120.0 + bar).max(980.0) as u32,
        (h.max(300.0) + 190.0) as u32,
    )
}

/// Writes the whole 3D field as VTK ImageData (`.vti`, raw appended binary, little endian):
/// one point per cell, spacing the strained cell edges in Å, values per cell as in the
/// pictures (mean over the basis; for `clusters`/`sc` the exported label of the cell's first
/// present site, 0 = absent, as UInt32).
pub fn write_vti(fields: &Fields, field: PictureField, name: &str, path: &Path) -> Result<()> {
    let lattice = &fields.model.lattice;
    let [nx, ny, nz] = lattice.cells;
    let basis = lattice.basis_len();
    let params =
        tunnelgrid_model::BondParams::new(&fields.model.material, lattice, &fields.conditions);
    let spacing = params.cell_edge;
    let cells = (0..u64::from(nz) * u64::from(ny) * u64::from(nx))
        .map(|c| (0..u64::from(basis)).map(move |b| (c * u64::from(basis) + b) as usize));
    let (kind, bytes): (&str, Vec<u8>) = match field {
        PictureField::Clusters | PictureField::Sc => {
            let network = if field == PictureField::Sc {
                Network::Superconducting
            } else {
                Network::Tunnel
            };
            let labels = fields.labels(network)?;
            let values: Vec<u32> = cells
                .map(|mut sites| sites.find(|&s| labels[s] != 0).map_or(0, |s| labels[s]))
                .collect();
            (
                "UInt32",
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        }
        _ => {
            let values = match site_field(fields, field)? {
                SiteField::Continuous(v) => v,
                SiteField::Categorical(_) => unreachable!("clusters and sc handled above"),
            };
            let per_cell: Vec<f32> = cells
                .map(|sites| {
                    let present: Vec<f32> =
                        sites.map(|s| values[s]).filter(|x| x.is_finite()).collect();
                    if present.is_empty() {
                        f32::NAN
                    } else {
                        present.iter().sum::<f32>() / present.len() as f32
                    }
                })
                .collect();
            (
                "Float32",
                per_cell.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        }
    };
    let header = format!(
        "<?xml version=\"1.0\"?>\n<VTKFile type=\"ImageData\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n  <ImageData WholeExtent=\"0 {} 0 {} 0 {}\" Origin=\"0 0 0\" Spacing=\"{} {} {}\">\n    <Piece Extent=\"0 {} 0 {} 0 {}\">\n      <PointData Scalars=\"{name}\">\n        <DataArray type=\"{kind}\" Name=\"{name}\" NumberOfComponents=\"1\" format=\"appended\" offset=\"0\"/>\n      </PointData>\n    </Piece>\n  </ImageData>\n  <AppendedData encoding=\"raw\">\n   _",
        nx - 1, ny - 1, nz - 1, spacing[0], spacing[1], spacing[2], nx - 1, ny - 1, nz - 1
    );
    write_atomic(path, |w| {
        w.write_all(header.as_bytes())?;
        w.write_all(&(bytes.len() as u64).to_le_bytes())?;
        w.write_all(&bytes)?;
        w.write_all(b"\n  </AppendedData>\n</VTKFile>\n")?;
        Ok(())
    })
}
