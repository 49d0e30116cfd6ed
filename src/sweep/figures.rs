//! The pictures of a sweep: the phase diagram, the resistivity heat map and the line plots of
//! the observables, drawn from the rows of a sweep file (so `sweep` and `merge` draw alike).

use super::{phase_lines, GridAxis, SweepFile, SweepRow};
use anyhow::{ensure, Context, Result};
use std::path::{Path, PathBuf};
use tunnelgrid_model::{ConventionalState, State};
use tunnelgrid_render::heatmap::write_heatmap;
use tunnelgrid_render::plot::{write_line_chart, LineChart};
use tunnelgrid_render::Heatmap;

/// The pictures of a sweep, before they are drawn.
pub struct SweepFigures {
    /// `phase_diagram.png` and its size.
    pub phase_diagram: (Heatmap, (u32, u32)),
    /// `resistivity.png` and its size, when the resistivity was solved.
    pub resistivity: Option<(Heatmap, (u32, u32))>,
    /// Line plots (file name, chart), drawn at 900 × 620.
    pub charts: Vec<(&'static str, LineChart)>,
}

/// Writes the pictures of a finished sweep into `dir`: `phase_diagram.png`, `resistivity.png`
/// (when the resistivity was solved), and line plots of the observables against pressure at up
/// to four temperatures (`tunnel_fraction.png`, `largest_cluster.png`,
/// `resistivity_vs_pressure.png`, each when it has points). Returns the files written.
pub fn render_sweep(file: &SweepFile, dir: &Path) -> Result<Vec<PathBuf>> {
    let figures = sweep_figures(file)?;
    let mut written = Vec::new();
    let path = dir.join("phase_diagram.png");
    write_heatmap(&figures.phase_diagram.0, &path, figures.phase_diagram.1)?;
    written.push(path);
    if let Some((map, size)) = &figures.resistivity {
        let path = dir.join("resistivity.png");
        write_heatmap(map, &path, *size)?;
        written.push(path);
    }
    for (name, chart) in &figures.charts {
        let path = dir.join(name);
        write_line_chart(chart, &path, (900, 620))?;
        written.push(path);
    }
    Ok(written)
}

/// The pictures of a sweep file (rows in any order; missing points are left empty).
pub fn sweep_figures(file: &SweepFile) -> Result<SweepFigures> {
    use tunnelgrid_render::plot::{Series, SeriesStyle};
    use tunnelgrid_render::{colormap, phase_diagram, Cell, Colormap, ColourBar, Region};
    let field = |key: &str| -> Result<&str> {
        file.identity
            .split(' ')
            .find_map(|w| w.strip_prefix(key))
            .with_context(|| format!("sweep identity has no {key}"))
    };
    let pressures = GridAxis::parse(field("pressure=")?, "pressure")?.values();
    let temperatures = GridAxis::parse(field("temperature=")?, "temperature")?.values();
    let material = field("material=")?.to_string();
    let cells = field("cells=")?.replace('x', "×");
    let seeds = field("seeds=")?;
    let axes: Vec<usize> = field("axes=")?
        .chars()
        .filter_map(|c| "xyz".find(c))
        .collect();
    let n = pressures.len() * temperatures.len();
    let mut by_index: Vec<Option<&SweepRow>> = vec![None; n];
    for r in &file.rows {
        if r.index < n {
            by_index[r.index] = Some(r);
        }
    }
    let region = |s: State| match s {
        State::Insulating => Some(Region::Insulating),
        State::Conducting => Some(Region::Conducting),
        State::Superconducting => Some(Region::Superconducting),
        State::NotApplicable => None,
    };
    let axis_name = ["x", "y", "z"];
    // Axes that exist in these rows (z is absent in 2D).
    let axes: Vec<usize> = axes
        .into_iter()
        .filter(|&a| file.rows.iter().any(|r| r.states[a].is_some()))
        .collect();
    ensure!(!axes.is_empty(), "the sweep has no rows to draw");
    let differ = file
        .rows
        .iter()
        .any(|r| axes.iter().any(|&a| r.states[a] != r.states[axes[0]]));
    let shown: Vec<usize> = if differ { axes.clone() } else { vec![axes[0]] };
    let panel_title = |a: usize| {
        if differ || axes.len() == 1 {
            format!("along {}", axis_name[a])
        } else {
            "all axes alike".to_string()
        }
    };
    let subtitle = format!("{material}, {cells} cells, {seeds} seed(s) per point");
    let size = (1000 * shown.len().max(1) as u32).min(2400);

    // Points where the lattice would be liquid or gas keep their tunnel state, drawn hatched.
    let hatched: Vec<bool> = by_index
        .iter()
        .map(|r| {
            r.and_then(|r| r.conventional)
                .is_some_and(|c| c != ConventionalState::Solid)
        })
        .collect();
    let panels = shown
        .iter()
        .map(|&a| {
            let regions = by_index
                .iter()
                .map(|r| r.and_then(|r| r.states[a]).and_then(region))
                .collect();
            (panel_title(a), regions)
        })
        .collect();
    let mut diagram = phase_diagram(
        &format!("Phase diagram — {subtitle}"),
        &pressures,
        &temperatures,
        panels,
    );
    let phases = phase_lines::from_identity(&file.identity)?;
    let overlays = phases
        .as_ref()
        .map(|p| phase_lines::overlays(p, diagram.x_range, diagram.y_range))
        .unwrap_or_default();
    if phases.is_some() {
        for panel in &mut diagram.panels {
            panel.hatched = hatched.clone();
        }
        let conventional: Vec<Option<ConventionalState>> = by_index
            .iter()
            .map(|r| r.and_then(|r| r.conventional))
            .collect();
        diagram.annotations = phase_lines::region_labels(&conventional, &pressures, &temperatures);
        diagram.overlays = overlays.clone();
        diagram.hatch_legend = Some("liquid or gas (hatched)".into());
    }

    let solved = file
        .rows
        .iter()
        .any(|r| axes.iter().any(|&a| r.resistivity_ohm_m[a].is_some()));
    let mut resistivity = None;
    if solved {
        let logs: Vec<f64> = file
            .rows
            .iter()
            .flat_map(|r| shown.iter().filter_map(|&a| r.resistivity_ohm_m[a]))
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(f64::log10)
            .collect();
        let lo = logs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if logs.is_empty() {
            (0.0, 1.0)
        } else {
            (lo, hi)
        };
        let cell = |v: Option<f64>| match v {
            None => Cell::Empty,
            Some(v) if v.is_infinite() => Cell::Colour(colormap::INSULATING),
            Some(0.0) => Cell::Colour(colormap::SUPERCONDUCTING),
            Some(v) => Cell::Value(v.log10()),
        };
        let mut map = phase_diagram(
            &format!("Resistivity — {subtitle}"),
            &pressures,
            &temperatures,
            vec![],
        );
        map.panels = shown
            .iter()
            .map(|&a| tunnelgrid_render::Panel {
                title: panel_title(a),
                nx: pressures.len(),
                ny: temperatures.len(),
                cells: by_index
                    .iter()
                    .map(|r| cell(r.and_then(|r| r.resistivity_ohm_m[a])))
                    .collect(),
                hatched: Vec::new(),
            })
            .collect();
        map.colour_bar = Some(ColourBar {
            colormap: Colormap::Magma,
            min: lo,
            max: hi,
            label: "log10 resistivity (Ω·m)".into(),
        });
        map.legend = vec![
            ("insulating (ρ = ∞)".into(), colormap::INSULATING),
            ("superconducting (ρ = 0)".into(), colormap::SUPERCONDUCTING),
        ];
        map.boundaries = false;
        // The conventional lines, without hatching or labels: the colour bar needs the cells.
        map.overlays = overlays;
        resistivity = Some((map, (size + 160, 760)));
    }

    // Up to four temperatures, evenly spread over the grid.
    let nt = temperatures.len();
    let mut chosen: Vec<usize> = (0..4).map(|k| k * (nt - 1) / 3).collect();
    chosen.dedup();
    let chart_of =
        |title: &str, y_label: &str, log_y: bool, value: &dyn Fn(&SweepRow) -> Option<f64>| {
            let series = chosen
                .iter()
                .map(|&it| Series {
                    name: format!("{} K", temperatures[it]),
                    points: (0..pressures.len())
                        .filter_map(|ip| by_index[it * pressures.len() + ip])
                        .filter_map(|r| value(r).map(|v| (r.pressure_gpa, v)))
                        .filter(|&(_, v)| v.is_finite() && (!log_y || v > 0.0))
                        .collect(),
                    y_err: None,
                    style: SeriesStyle::LineMarkers,
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            LineChart {
                title: format!("{title} — {subtitle}"),
                x_label: "pressure (GPa)".into(),
                y_label: y_label.into(),
                log_x: false,
                log_y,
                series,
            }
        };
    let a0 = axes[0];
    let charts = [
        (
            "tunnel_fraction.png",
            chart_of(
                "Tunnel-bond fraction",
                "tunnel-bond fraction",
                false,
                &|r| Some(r.tunnel_bond_fraction),
            ),
        ),
        (
            "largest_cluster.png",
            chart_of(
                "Largest tunnel cluster",
                "largest-cluster fraction of sites",
                false,
                &|r| Some(r.largest_cluster_fraction),
            ),
        ),
        (
            "resistivity_vs_pressure.png",
            chart_of(
                &format!("Resistivity along {} (normal states)", axis_name[a0]),
                "resistivity (Ω·m)",
                true,
                &|r| r.resistivity_ohm_m[a0],
            ),
        ),
    ];
    Ok(SweepFigures {
        phase_diagram: (diagram, (size, 760)),
        resistivity,
        // A chart without points (e.g. no finite, non-zero resistivity anywhere) is left out.
        charts: charts
            .into_iter()
            .filter(|(_, c)| !c.series.is_empty())
            .collect(),
    })
}
