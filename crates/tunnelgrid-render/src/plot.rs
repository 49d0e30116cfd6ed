//! Line plots with axes, ticks, labels, a title and a legend: observables against pressure in
//! sweeps, threshold and finite-size-scaling plots in research scripts.
//!
//! ```no_run
//! use tunnelgrid_render::plot::*;
//! let chart = LineChart {
//!     title: "Tunnel fraction at 10 K".into(),
//!     x_label: "pressure (GPa)".into(),
//!     y_label: "tunnel-bond fraction".into(),
//!     log_x: false,
//!     log_y: false,
//!     series: vec![Series {
//!         name: "sc 32³".into(),
//!         points: vec![(0.0, 0.1), (50.0, 0.6), (100.0, 0.9)],
//!         y_err: None,
//!         style: SeriesStyle::LineMarkers,
//!     }],
//! };
//! write_line_chart(&chart, std::path::Path::new("fraction.png"), (800, 600)).unwrap();
//! ```

use crate::colormap::categorical;
use crate::font::{ensure_registered, FAMILY};
use crate::png::{check_size, write_rgb_png};
use crate::RenderError;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One named set of (x, y) points, with optional symmetric y error bars.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// The points, drawn in the given order.
    pub points: Vec<(f64, f64)>,
    /// Half-width of the error bar of each point (same length as `points`), if any.
    pub y_err: Option<Vec<f64>>,
    /// How the points are drawn.
    pub style: SeriesStyle,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeriesStyle {
    /// A polyline through the points.
    Line,
    /// A marker at each point.
    Markers,
    /// Both.
    #[default]
    LineMarkers,
}

/// A chart of one or more series on shared axes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Caption above the plot.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Logarithmic horizontal axis (every x must be > 0).
    pub log_x: bool,
    /// Logarithmic vertical axis (every y, and y − err, must be > 0).
    pub log_y: bool,
    /// The series; each gets the next categorical colour and a legend entry.
    pub series: Vec<Series>,
}

/// Draws `chart` and writes it as a PNG of `size` (width, height) pixels, atomically.
pub fn write_line_chart(
    chart: &LineChart,
    path: &Path,
    size: (u32, u32),
) -> Result<(), RenderError> {
    let rgb = draw_line_chart(chart, size)?;
    write_rgb_png(path, size.0, size.1, &rgb)
}

/// Draws `chart` into an RGB buffer of `size` pixels (rows top to bottom).
pub fn draw_line_chart(chart: &LineChart, size: (u32, u32)) -> Result<Vec<u8>, RenderError> {
    check_size(size)?;
    validate(chart)?;
    ensure_registered();
    let (x_range, y_range) = ranges(chart);
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(RenderError::drawing)?;
        let (x0, x1) = x_range;
        let (y0, y1) = y_range;
        match (chart.log_x, chart.log_y) {
            (false, false) => draw_on(&root, chart, x0..x1, y0..y1)?,
            (true, false) => draw_on(&root, chart, (x0..x1).log_scale(), y0..y1)?,
            (false, true) => draw_on(&root, chart, x0..x1, (y0..y1).log_scale())?,
            (true, true) => draw_on(&root, chart, (x0..x1).log_scale(), (y0..y1).log_scale())?,
        }
        root.present().map_err(RenderError::drawing)?;
    }
    Ok(rgb)
}

/// The colour of series `i` (the legend uses the same).
pub fn series_colour(i: usize) -> crate::Rgb {
    categorical(i)
}

fn draw_on<X, Y>(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    chart: &LineChart,
    x_spec: X,
    y_spec: Y,
) -> Result<(), RenderError>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let (width, height) = root.dim_in_pixel();
    let scale = (f64::from(width.min(height)) / 600.0).max(0.5);
    let px = |v: f64| (v * scale).round() as u32;
    let mut ctx = ChartBuilder::on(root)
        .caption(&chart.title, (FAMILY, px(24.0)))
        .margin(px(14.0))
        .x_label_area_size(px(50.0))
        .y_label_area_size(px(80.0))
        .build_cartesian_2d(x_spec, y_spec)
        .map_err(RenderError::drawing)?;
    ctx.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FAMILY, px(14.0)))
        .axis_desc_style((FAMILY, px(16.0)))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(RenderError::drawing)?;

    let stroke = px(2.0).max(1);
    let radius = px(4.0).max(2);
    for (i, series) in chart.series.iter().enumerate() {
        let colour = series_colour(i).to_plotters();
        let line = colour.stroke_width(stroke);
        let points = series.points.clone();
        if let Some(err) = &series.y_err {
            ctx.draw_series(points.iter().zip(err).map(|(&(x, y), &e)| {
                ErrorBar::new_vertical(x, y - e, y, y + e, colour.stroke_width(1), px(8.0))
            }))
            .map_err(RenderError::drawing)?;
        }
        let with_line = matches!(series.style, SeriesStyle::Line | SeriesStyle::LineMarkers);
        let with_markers = matches!(
            series.style,
            SeriesStyle::Markers | SeriesStyle::LineMarkers
        );
        let legend_anchor = if with_line {
            ctx.draw_series(LineSeries::new(points.iter().copied(), line))
                .map_err(RenderError::drawing)?
        } else {
            ctx.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, radius, colour.filled())),
            )
            .map_err(RenderError::drawing)?
        };
        let legend_radius = radius as i32;
        legend_anchor
            .label(series.name.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(
                        if with_line {
                            vec![(0, 0), (20, 0)]
                        } else {
                            vec![]
                        },
                        line,
                    )
                    + Circle::new(
                        (10, 0),
                        if with_markers { legend_radius } else { 0 },
                        colour.filled(),
                    )
            });
        if with_line && with_markers {
            ctx.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, radius, colour.filled())),
            )
            .map_err(RenderError::drawing)?;
        }
    }
    if chart.series.iter().any(|s| !s.name.is_empty()) {
        ctx.configure_series_labels()
            .label_font((FAMILY, px(14.0)))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(120, 120, 120))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(RenderError::drawing)?;
    }
    Ok(())
}

/// Refuses what cannot be drawn, naming the series and point.
fn validate(chart: &LineChart) -> Result<(), RenderError> {
    let bad = |msg: String| Err(RenderError::InvalidInput(msg));
    if chart.series.iter().all(|s| s.points.is_empty()) {
        return bad(format!("chart '{}' has no points to draw", chart.title));
    }
    for s in &chart.series {
        if let Some(err) = &s.y_err {
            if err.len() != s.points.len() {
                return bad(format!(
                    "series '{}': y_err has {} values for {} points",
                    s.name,
                    err.len(),
                    s.points.len()
                ));
            }
            if let Some(e) = err.iter().find(|e| !e.is_finite() || **e < 0.0) {
                return bad(format!(
                    "series '{}': error bar {e} must be finite and ≥ 0",
                    s.name
                ));
            }
        }
        for (k, &(x, y)) in s.points.iter().enumerate() {
            if !x.is_finite() || !y.is_finite() {
                return bad(format!(
                    "series '{}': point {k} ({x}, {y}) is not finite",
                    s.name
                ));
            }
            if chart.log_x && x <= 0.0 {
                return bad(format!(
                    "series '{}': point {k} has x = {x}, but a log x axis needs x > 0",
                    s.name
                ));
            }
            let lo = y - s.y_err.as_ref().map_or(0.0, |e| e[k]);
            if chart.log_y && (y <= 0.0 || lo <= 0.0) {
                return bad(format!(
                    "series '{}': point {k} reaches y = {lo}, but a log y axis needs y > 0",
                    s.name
                ));
            }
        }
    }
    Ok(())
}

/// Axis ranges over all points and error bars, padded by 5 % (a factor on log axes).
fn ranges(chart: &LineChart) -> ((f64, f64), (f64, f64)) {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in &chart.series {
        for (k, &(x, y)) in s.points.iter().enumerate() {
            let e = s.y_err.as_ref().map_or(0.0, |e| e[k]);
            xs.push(x);
            ys.extend([y - e, y + e]);
        }
    }
    (pad(&xs, chart.log_x), pad(&ys, chart.log_y))
}

fn pad(values: &[f64], log: bool) -> (f64, f64) {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if log {
        let (l, h) = (lo.ln(), hi.ln());
        let margin = if h > l { 0.05 * (h - l) } else { 0.5 };
        ((l - margin).exp(), (h + margin).exp())
    } else {
        let margin = if hi > lo {
            0.05 * (hi - lo)
        } else {
            0.5 * lo.abs().max(1.0)
        };
        (lo - margin, hi + margin)
    }
}
