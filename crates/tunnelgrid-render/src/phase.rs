//! The resistance phase diagram in the style of the theory's figure: pressure across, temperature
//! up, insulating / conducting / superconducting regions in fixed colours with black boundary
//! lines between them, a legend, and one panel per axis when the states differ by axis.

use crate::colormap::{Rgb, CONDUCTING, INSULATING, SUPERCONDUCTING};
use crate::heatmap::{Cell, Heatmap, Panel};

/// The state of a region (mirrors the model's per-axis state; this crate has no model types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// No tunnel cluster spans.
    Insulating,
    /// A tunnel cluster spans, no superconducting one does.
    Conducting,
    /// A superconducting cluster spans.
    Superconducting,
}

impl Region {
    /// The region's colour in every diagram.
    pub fn colour(self) -> Rgb {
        match self {
            Region::Insulating => INSULATING,
            Region::Conducting => CONDUCTING,
            Region::Superconducting => SUPERCONDUCTING,
        }
    }
}

/// Outer edges of cells centred on evenly spaced `values` (half a step beyond each end; ±0.5
/// around a single value).
pub fn cell_edges(values: &[f64]) -> (f64, f64) {
    match values {
        [] => (0.0, 1.0),
        [v] => (v - 0.5, v + 0.5),
        [first, .., last] => {
            let half = (last - first) / (values.len() - 1) as f64 / 2.0;
            if half > 0.0 {
                (first - half, last + half)
            } else {
                (first - 0.5, first + 0.5)
            }
        }
    }
}

/// A phase diagram: `panels` of (title, region per grid point, index `i_t·n_p + i_p`; `None`
/// for points not evaluated).
pub fn phase_diagram(
    title: &str,
    pressures: &[f64],
    temperatures: &[f64],
    panels: Vec<(String, Vec<Option<Region>>)>,
) -> Heatmap {
    Heatmap {
        title: title.into(),
        x_label: "pressure (GPa)".into(),
        y_label: "temperature (K)".into(),
        x_range: cell_edges(pressures),
        y_range: cell_edges(temperatures),
        panels: panels
            .into_iter()
            .map(|(title, regions)| Panel {
                title,
                nx: pressures.len(),
                ny: temperatures.len(),
                cells: regions
                    .into_iter()
                    .map(|r| r.map_or(Cell::Empty, |r| Cell::Colour(r.colour())))
                    .collect(),
                hatched: Vec::new(),
            })
            .collect(),
        colour_bar: None,
        legend: vec![
            ("insulating".into(), INSULATING),
            ("conducting".into(), CONDUCTING),
            ("superconducting".into(), SUPERCONDUCTING),
        ],
        boundaries: true,
        overlays: Vec::new(),
        annotations: Vec::new(),
        hatch_legend: None,
    }
}
