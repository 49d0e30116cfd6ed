//! The page's heat maps: `tunnelgrid render`'s picture of the middle z slice
//! (`picture::field_heatmap`), with every cell coloured by tunnelgrid-render's colour maps
//! (`cell_colour`) and the colour bar sampled from the same map; the page only lays it out.

use crate::analysis::{Analysis, Backend};
use crate::computed::Computed;
use anyhow::{bail, Result};
use serde::Serialize;
use tunnelgrid::fields::Fields;
use tunnelgrid::picture::{field_heatmap, PictureField, Plane};
use tunnelgrid_render::colormap::BACKGROUND;
use tunnelgrid_render::{cell_colour, Rgb};

/// Colours sampled along a colour bar, bottom to top.
const BAR_SAMPLES: usize = 128;

#[derive(Serialize)]
struct ColourBarJson {
    label: String,
    min: f64,
    max: f64,
    /// RGB triples from `min` to `max`.
    colours: Vec<[u8; 3]>,
}

#[derive(Serialize)]
struct LegendJson {
    label: String,
    rgb: [u8; 3],
}

#[derive(Serialize)]
struct HeatmapJson {
    title: String,
    panel_title: String,
    x_label: String,
    y_label: String,
    nx: usize,
    ny: usize,
    /// RGB per cell, row-major with row 0 at the bottom (as `Panel::cells`).
    rgb: Vec<u8>,
    colour_bar: Option<ColourBarJson>,
    legend: Vec<LegendJson>,
}

fn triple(c: Rgb) -> [u8; 3] {
    [c.0, c.1, c.2]
}

/// `render`'s field for the page's name of it.
fn picture_field(name: &str) -> Result<(PictureField, &'static str)> {
    Ok(match name {
        "tunnels" => (PictureField::Tunnels, "Tunnel density"),
        "clusters" => (PictureField::Clusters, "Tunnel clusters"),
        "sc" => (PictureField::Sc, "Superconducting network"),
        "gap" => (PictureField::Gap, "Gap"),
        other => bail!("field: '{other}' is not one of tunnels, clusters, sc, gap"),
    })
}

/// The heat map of `field` on the middle z slice of `analysis`, as JSON for the page.
pub fn heatmap_json(analysis: &Analysis, backend: &Backend, field: &str) -> Result<String> {
    let (field, what) = picture_field(field)?;
    let engine = Computed {
        name: backend.name(),
        masks: &analysis.masks,
        tunnel_roots: &analysis.tunnel_roots,
        sc_roots: &analysis.sc_roots,
    };
    let model = &analysis.model;
    let fields = Fields::new(model.clone(), analysis.conditions, &engine)?;
    let [nx, ny, nz] = model.lattice.cells;
    let c = &analysis.conditions;
    // `tunnelgrid render`'s title.
    let title = format!(
        "{what} — {}, {nx}×{ny}×{nz}, P = {} GPa, T = {} K",
        model.material.name, c.pressure_gpa, c.temperature_k
    );
    let plane = Plane::Slice {
        axis: 2,
        index: nz / 2,
    };
    let map = field_heatmap(&fields, field, plane, &title)?;
    let panel = &map.panels[0];
    let rgb = panel
        .cells
        .iter()
        .flat_map(|&cell| triple(cell_colour(&map, cell).unwrap_or(BACKGROUND)))
        .collect();
    let colour_bar = map.colour_bar.as_ref().map(|bar| ColourBarJson {
        label: bar.label.clone(),
        min: bar.min,
        max: bar.max,
        colours: (0..BAR_SAMPLES)
            .map(|i| triple(bar.colormap.at(i as f64 / (BAR_SAMPLES - 1) as f64)))
            .collect(),
    });
    let json = HeatmapJson {
        title: map.title.clone(),
        panel_title: panel.title.clone(),
        x_label: map.x_label.clone(),
        y_label: map.y_label.clone(),
        nx: panel.nx,
        ny: panel.ny,
        rgb,
        colour_bar,
        legend: map
            .legend
            .iter()
            .map(|(label, colour)| LegendJson {
                label: label.clone(),
                rgb: triple(*colour),
            })
            .collect(),
    };
    Ok(serde_json::to_string(&json)?)
}
