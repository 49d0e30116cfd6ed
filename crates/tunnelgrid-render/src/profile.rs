//! A planet's interior against depth: bands of state per column (one per axis, one for the
//! conventional phase), and the pressure and temperature curves beside them, all sharing the
//! depth axis (surface at the top, as geophysics draws it).

use crate::colormap::Rgb;
use crate::font::{ensure_registered, FAMILY};
use crate::heatmap::{draw_legend, PanelPixels};
use crate::overlay::{draw_hatching, faded};
use crate::plot::tick_label;
use crate::png::{check_size, write_rgb_png};
use crate::RenderError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One column of bands: a colour per depth (`None`: nothing drawn), hatched where marked, and
/// optional text per depth written once on each run of equal text that is tall enough.
#[derive(Debug, Clone, PartialEq)]
pub struct BandColumn {
    /// Title above the column (e.g. "x").
    pub title: String,
    /// Colour per depth.
    pub colours: Vec<Option<Rgb>>,
    /// Hatched per depth (empty: none).
    pub hatched: Vec<bool>,
    /// Text per depth (empty: none).
    pub labels: Vec<String>,
}

/// The whole picture.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileFigure {
    /// Figure title.
    pub title: String,
    /// Depths of the points, km, increasing.
    pub depths_km: Vec<f64>,
    /// Band columns, left to right.
    pub columns: Vec<BandColumn>,
    /// Pressure per depth, GPa.
    pub pressure_gpa: Vec<f64>,
    /// Temperature per depth, K.
    pub temperature_k: Vec<f64>,
    /// Legend entries of fixed colours.
    pub legend: Vec<(String, Rgb)>,
    /// Legend entry for hatched bands, if any.
    pub hatch_legend: Option<String>,
}

/// Where the band panel landed (x in columns, y in negative depth), for tests.
pub type BandPixels = PanelPixels;

/// Draws and writes the figure as PNG (atomically); returns the band panel's geometry.
pub fn write_profile(
    figure: &ProfileFigure,
    path: &Path,
    size: (u32, u32),
) -> Result<BandPixels, RenderError> {
    let (rgb, pixels) = draw_profile(figure, size)?;
    write_rgb_png(path, size.0, size.1, &rgb)?;
    Ok(pixels)
}

/// The depth of each band's top and bottom: halfway to the neighbouring points, the first and
/// last points at the ends.
pub fn band_edges(depths: &[f64]) -> Vec<(f64, f64)> {
    let n = depths.len();
    (0..n)
        .map(|i| {
            let top = if i == 0 {
                depths[0]
            } else {
                (depths[i - 1] + depths[i]) / 2.0
            };
            let bottom = if i + 1 == n {
                depths[n - 1]
            } else {
                (depths[i] + depths[i + 1]) / 2.0
            };
            (top, bottom)
        })
        .collect()
}

fn validate(f: &ProfileFigure) -> Result<(), RenderError> {
    let bad = |m: String| Err(RenderError::InvalidInput(m));
    let n = f.depths_km.len();
    if n == 0 {
        return bad(format!("profile '{}' has no points", f.title));
    }
    if f.depths_km.iter().any(|d| !d.is_finite()) || f.depths_km.windows(2).any(|w| w[1] <= w[0]) {
        return bad("profile depths must be finite and increasing".into());
    }
    if f.pressure_gpa.len() != n || f.temperature_k.len() != n {
        return bad(format!(
            "profile: {} pressures and {} temperatures for {n} depths",
            f.pressure_gpa.len(),
            f.temperature_k.len()
        ));
    }
    if f.pressure_gpa
        .iter()
        .chain(&f.temperature_k)
        .any(|v| !v.is_finite())
    {
        return bad("profile: pressures and temperatures must be finite".into());
    }
    for c in &f.columns {
        let ok = |len: usize| len == 0 || len == n;
        if c.colours.len() != n || !ok(c.hatched.len()) || !ok(c.labels.len()) {
            return bad(format!(
                "profile column '{}' does not have {n} depths",
                c.title
            ));
        }
    }
    Ok(())
}

/// The depth range drawn (a single point gets ±1 km).
fn depth_range(depths: &[f64]) -> (f64, f64) {
    let (first, last) = (depths[0], depths[depths.len() - 1]);
    if last > first {
        (first, last)
    } else {
        (first - 1.0, last + 1.0)
    }
}

/// Draws the figure into an RGB buffer.
pub fn draw_profile(
    figure: &ProfileFigure,
    size: (u32, u32),
) -> Result<(Vec<u8>, BandPixels), RenderError> {
    check_size(size)?;
    validate(figure)?;
    ensure_registered();
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    let pixels;
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(RenderError::drawing)?;
        let scale = (f64::from(size.0.min(size.1)) / 600.0).clamp(0.5, 1.25);
        let px = |v: f64| (v * scale).round() as u32;
        let root = root
            .titled(&figure.title, (FAMILY, px(20.0)))
            .map_err(RenderError::drawing)?;
        let (w, h) = root.dim_in_pixel();
        let (body, legend_area) = root.split_vertically(h - px(36.0));
        let bands_w = (f64::from(w) * 0.42) as u32;
        let (bands_area, curves_area) = body.split_horizontally(bands_w);
        let curve_areas = curves_area.split_evenly((1, 2));
        pixels = draw_bands(figure, &bands_area, scale)?;
        let depth = depth_range(&figure.depths_km);
        draw_curve(
            &curve_areas[0],
            "pressure",
            "pressure (GPa)",
            &figure.depths_km,
            &figure.pressure_gpa,
            depth,
            Rgb(31, 119, 180),
            scale,
        )?;
        draw_curve(
            &curve_areas[1],
            "temperature",
            "temperature (K)",
            &figure.depths_km,
            &figure.temperature_k,
            depth,
            Rgb(214, 39, 40),
            scale,
        )?;
        draw_legend(
            &figure.legend,
            figure.hatch_legend.as_deref(),
            &legend_area,
            scale,
        )?;
        root.present().map_err(RenderError::drawing)?;
    }
    Ok((rgb, pixels))
}

/// Depth runs downwards: the y axis holds −depth, labelled as depth.
fn depth_label(v: &f64) -> String {
    tick_label(-*v + 0.0)
}

fn draw_bands(
    figure: &ProfileFigure,
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    scale: f64,
) -> Result<BandPixels, RenderError> {
    let px = |v: f64| (v * scale).round() as u32;
    let (d0, d1) = depth_range(&figure.depths_km);
    let n_cols = figure.columns.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption("state", (FAMILY, px(17.0)))
        .margin(px(10.0))
        .margin_top(px(34.0))
        .x_label_area_size(px(46.0))
        .y_label_area_size(px(70.0))
        .build_cartesian_2d(0.0..n_cols, -d1..-d0)
        .map_err(RenderError::drawing)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&depth_label)
        .y_desc("depth (km)")
        .label_style((FAMILY, px(13.0)))
        .axis_desc_style((FAMILY, px(15.0)))
        .y_labels(8)
        .draw()
        .map_err(RenderError::drawing)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let frame = PanelPixels {
        x_px: (xr.start, xr.end - 1),
        y_px: (yr.start, yr.end - 1),
        x_range: (0.0, n_cols),
        y_range: (-d1, -d0),
    };
    let edges = if figure.depths_km.len() == 1 {
        vec![(d0, d1)]
    } else {
        band_edges(&figure.depths_km)
    };
    let gap = 0.06;
    let mut hatch = Vec::new();
    for (c, column) in figure.columns.iter().enumerate() {
        let (left, right) = (c as f64 + gap, c as f64 + 1.0 - gap);
        chart
            .draw_series(edges.iter().zip(&column.colours).enumerate().filter_map(
                |(i, (&(top, bottom), colour))| {
                    let colour = (*colour)?;
                    let colour = if column.hatched.get(i) == Some(&true) {
                        faded(colour)
                    } else {
                        colour
                    };
                    Some(Rectangle::new(
                        [(left, -top), (right, -bottom)],
                        colour.to_plotters().filled(),
                    ))
                },
            ))
            .map_err(RenderError::drawing)?;
        for (i, &(top, bottom)) in edges.iter().enumerate() {
            if let (Some(true), Some(Some(colour))) = (column.hatched.get(i), column.colours.get(i))
            {
                let (l, t) = frame.pixel_f((left, -top));
                let (r, b) = frame.pixel_f((right, -bottom));
                hatch.push((l, t, r, b, *colour));
            }
        }
    }
    draw_hatching(area, &hatch, scale)?;
    let origin = {
        let (x, y) = area.get_pixel_range();
        (x.start, y.start)
    };
    let text_style = |size: f64| {
        TextStyle::from((FAMILY, px(size)).into_font())
            .color(&BLACK)
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ))
    };
    for (c, column) in figure.columns.iter().enumerate() {
        // The column's title under it, where the (disabled) x axis would be: the caption sits
        // above, and every panel keeps the same top so the depth axes line up.
        let (x, _) = frame.pixel_f((c as f64 + 0.5, -d0));
        let title_y = frame.y_px.1 + px(18.0) as i32;
        area.draw_text(
            &column.title,
            &text_style(15.0),
            (x.round() as i32 - origin.0, title_y - origin.1),
        )
        .map_err(RenderError::drawing)?;
        // Each run of equal text, written once in its middle when the run is tall enough.
        let mut start = 0;
        while start < column.labels.len() {
            let mut end = start;
            while end + 1 < column.labels.len() && column.labels[end + 1] == column.labels[start] {
                end += 1;
            }
            let (top, bottom) = (edges[start].0, edges[end].1);
            let (_, y_top) = frame.pixel_f((0.0, -top));
            let (_, y_bottom) = frame.pixel_f((0.0, -bottom));
            if !column.labels[start].is_empty() && y_bottom - y_top >= 22.0 * scale {
                let y = (y_top + y_bottom) / 2.0;
                area.draw_text(
                    &column.labels[start],
                    &text_style(14.0),
                    (x.round() as i32 - origin.0, y.round() as i32 - origin.1),
                )
                .map_err(RenderError::drawing)?;
            }
            start = end + 1;
        }
    }
    Ok(frame)
}

#[allow(clippy::too_many_arguments)]
fn draw_curve(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    title: &str,
    x_label: &str,
    depths: &[f64],
    values: &[f64],
    (d0, d1): (f64, f64),
    colour: Rgb,
    scale: f64,
) -> Result<(), RenderError> {
    let px = |v: f64| (v * scale).round() as u32;
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .min(0.0);
    let hi = if hi > lo { hi * 1.05 } else { lo + 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, px(17.0)))
        .margin(px(10.0))
        .margin_top(px(34.0))
        .x_label_area_size(px(46.0))
        .y_label_area_size(px(60.0))
        .build_cartesian_2d(lo..hi, -d1..-d0)
        .map_err(RenderError::drawing)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&depth_label)
        .x_desc(x_label)
        .y_desc("depth (km)")
        .label_style((FAMILY, px(13.0)))
        .axis_desc_style((FAMILY, px(15.0)))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_labels(5)
        .y_labels(8)
        .draw()
        .map_err(RenderError::drawing)?;
    let points: Vec<(f64, f64)> = values.iter().zip(depths).map(|(&v, &d)| (v, -d)).collect();
    let style = colour.to_plotters().stroke_width(px(2.5).max(1));
    chart
        .draw_series(LineSeries::new(points.iter().copied(), style))
        .map_err(RenderError::drawing)?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, px(3.0).max(2), colour.to_plotters().filled())),
        )
        .map_err(RenderError::drawing)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::band_edges;

    #[test]
    fn bands_meet_halfway_between_points() {
        assert_eq!(
            band_edges(&[0.0, 100.0, 300.0]),
            vec![(0.0, 50.0), (50.0, 200.0), (200.0, 300.0)]
        );
        assert_eq!(band_edges(&[7.0]), vec![(7.0, 7.0)]);
    }
}
