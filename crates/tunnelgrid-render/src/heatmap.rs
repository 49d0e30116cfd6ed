//! Heat maps of a regular grid of cells, in one or more side-by-side panels, with axes, a title,
//! an optional colour bar (sequential colour map) and an optional legend of fixed colours
//! (categorical cells, "insulating", "absent"), and optional boundary lines between cells of
//! different category (phase boundaries).

use crate::colormap::{Colormap, Rgb};
use crate::font::{ensure_registered, FAMILY};
use crate::overlay::{draw_hatching, draw_overlays, faded, Annotation, Overlay};
use crate::png::{check_size, write_rgb_png};
use crate::RenderError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// What one cell shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A value mapped through the colour bar's map (clamped to its range).
    Value(f64),
    /// A fixed colour (a category, or a special value such as ∞).
    Colour(Rgb),
    /// Nothing: drawn as the background.
    Empty,
}

/// One panel: `nx × ny` cells covering `x_range × y_range`, row-major with row 0 at the bottom
/// (cell (i, j) is `cells[j·nx + i]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Panel caption (e.g. "along x").
    pub title: String,
    /// Cells per row.
    pub nx: usize,
    /// Rows.
    pub ny: usize,
    /// The cells.
    pub cells: Vec<Cell>,
    /// Cells drawn faded and hatched in their own colour (e.g. points where the lattice would be
    /// liquid or gas), same order as `cells`; empty when none is.
    pub hatched: Vec<bool>,
}

/// The continuous colour scale of a heat map.
#[derive(Debug, Clone, PartialEq)]
pub struct ColourBar {
    /// Colour map.
    pub colormap: Colormap,
    /// Value at the bottom of the bar.
    pub min: f64,
    /// Value at the top of the bar.
    pub max: f64,
    /// Label along the bar (e.g. "log10 ρ (Ω·m)").
    pub label: String,
}

/// A heat map figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Figure title.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Data range spanned by the cells horizontally (outer edges).
    pub x_range: (f64, f64),
    /// Data range spanned by the cells vertically (outer edges).
    pub y_range: (f64, f64),
    /// Panels side by side, sharing ranges and colours.
    pub panels: Vec<Panel>,
    /// Colour bar for `Cell::Value` cells.
    pub colour_bar: Option<ColourBar>,
    /// Legend entries for fixed colours.
    pub legend: Vec<(String, Rgb)>,
    /// Draw black lines between neighbouring cells of different fixed colour.
    pub boundaries: bool,
    /// Labelled lines drawn over every panel (e.g. the conventional melting line).
    pub overlays: Vec<Overlay>,
    /// Text labels drawn over every panel (e.g. "solid", "liquid").
    pub annotations: Vec<Annotation>,
    /// Legend entry for hatched cells (e.g. "liquid or gas (hatched)"), if any.
    pub hatch_legend: Option<String>,
}

/// Where the cells of each panel landed: pixel rectangle of the plotting area and data ranges,
/// so tests (and callers) can find the pixel of a data point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelPixels {
    /// Left, right pixel of the plotting area.
    pub x_px: (i32, i32),
    /// Top, bottom pixel.
    pub y_px: (i32, i32),
    /// Data x at the left and right edges.
    pub x_range: (f64, f64),
    /// Data y at the bottom and top edges.
    pub y_range: (f64, f64),
}

impl PanelPixels {
    /// The pixel of data point (x, y).
    pub fn pixel(&self, x: f64, y: f64) -> (u32, u32) {
        let fx = (x - self.x_range.0) / (self.x_range.1 - self.x_range.0);
        let fy = (y - self.y_range.0) / (self.y_range.1 - self.y_range.0);
        let px = f64::from(self.x_px.0) + fx * f64::from(self.x_px.1 - self.x_px.0);
        let py = f64::from(self.y_px.1) - fy * f64::from(self.y_px.1 - self.y_px.0);
        (px.round().max(0.0) as u32, py.round().max(0.0) as u32)
    }
}

/// Draws and writes the heat map as PNG (atomically); returns the panels' pixel geometry.
pub fn write_heatmap(
    map: &Heatmap,
    path: &Path,
    size: (u32, u32),
) -> Result<Vec<PanelPixels>, RenderError> {
    let (rgb, pixels) = draw_heatmap(map, size)?;
    write_rgb_png(path, size.0, size.1, &rgb)?;
    Ok(pixels)
}

/// Draws the heat map into an RGB buffer.
pub fn draw_heatmap(
    map: &Heatmap,
    size: (u32, u32),
) -> Result<(Vec<u8>, Vec<PanelPixels>), RenderError> {
    check_size(size)?;
    validate(map)?;
    ensure_registered();
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    let mut pixels = Vec::new();
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(RenderError::drawing)?;
        let scale = (f64::from(size.0.min(size.1)) / 600.0).clamp(0.5, 1.25);
        let px = |v: f64| (v * scale).round() as u32;
        let root = root
            .titled(&map.title, (FAMILY, px(20.0)))
            .map_err(RenderError::drawing)?;
        let (w, h) = root.dim_in_pixel();
        let legend_h = if map.legend.is_empty() && map.hatch_legend.is_none() {
            0
        } else {
            px(36.0)
        };
        let bar_w = if map.colour_bar.is_some() {
            px(170.0)
        } else {
            0
        };
        let (body, legend_area) = root.split_vertically(h - legend_h);
        let (panels_area, bar_area) = body.split_horizontally(w - bar_w);
        let areas = panels_area.split_evenly((1, map.panels.len()));
        for (panel, area) in map.panels.iter().zip(&areas) {
            pixels.push(draw_panel(map, panel, area, scale)?);
        }
        if let Some(bar) = &map.colour_bar {
            draw_colour_bar(bar, &bar_area, scale)?;
        }
        if !map.legend.is_empty() || map.hatch_legend.is_some() {
            draw_legend(
                &map.legend,
                map.hatch_legend.as_deref(),
                &legend_area,
                scale,
            )?;
        }
        root.present().map_err(RenderError::drawing)?;
    }
    Ok((rgb, pixels))
}

fn validate(map: &Heatmap) -> Result<(), RenderError> {
    let bad = |m: String| Err(RenderError::InvalidInput(m));
    if map.panels.is_empty() {
        return bad(format!("heat map '{}' has no panels", map.title));
    }
    for p in &map.panels {
        if p.nx == 0 || p.ny == 0 || p.cells.len() != p.nx * p.ny {
            return bad(format!(
                "panel '{}': {} cells do not fill {}×{}",
                p.title,
                p.cells.len(),
                p.nx,
                p.ny
            ));
        }
        if !p.hatched.is_empty() && p.hatched.len() != p.cells.len() {
            return bad(format!(
                "panel '{}': {} hatch marks for {} cells",
                p.title,
                p.hatched.len(),
                p.cells.len()
            ));
        }
    }
    let ok = |r: (f64, f64)| r.0.is_finite() && r.1.is_finite() && r.1 > r.0;
    if !ok(map.x_range) || !ok(map.y_range) {
        return bad(format!(
            "heat map '{}': axis ranges {:?} × {:?} must be finite and increasing",
            map.title, map.x_range, map.y_range
        ));
    }
    if let Some(b) = &map.colour_bar {
        if !(b.min.is_finite() && b.max.is_finite() && b.max >= b.min) {
            return bad(format!(
                "colour bar '{}': range {}..{} must be finite and increasing",
                b.label, b.min, b.max
            ));
        }
    }
    Ok(())
}

/// The colour `map` draws `cell` in: a value through the colour bar's map (clamped to its
/// range), a fixed colour as is; `None` for an empty cell (drawn as the background). The web
/// page colours its canvas with this, so its pictures match the PNGs.
pub fn cell_colour(map: &Heatmap, cell: Cell) -> Option<Rgb> {
    match cell {
        Cell::Value(v) => {
            let bar = map.colour_bar.as_ref()?;
            let span = bar.max - bar.min;
            let t = if span > 0.0 {
                (v - bar.min) / span
            } else {
                0.5
            };
            Some(bar.colormap.at(t))
        }
        Cell::Colour(c) => Some(c),
        Cell::Empty => None,
    }
}

fn draw_panel(
    map: &Heatmap,
    panel: &Panel,
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    scale: f64,
) -> Result<PanelPixels, RenderError> {
    let px = |v: f64| (v * scale).round() as u32;
    let (x0, x1) = map.x_range;
    let (y0, y1) = map.y_range;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FAMILY, px(18.0)))
        .margin(px(10.0))
        .x_label_area_size(px(46.0))
        .y_label_area_size(px(64.0))
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(RenderError::drawing)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&|v| crate::plot::tick_label(*v))
        .y_label_formatter(&|v| crate::plot::tick_label(*v))
        .x_desc(map.x_label.as_str())
        .y_desc(map.y_label.as_str())
        .label_style((FAMILY, px(13.0)))
        .axis_desc_style((FAMILY, px(15.0)))
        .x_labels(6)
        .y_labels(6)
        .draw()
        .map_err(RenderError::drawing)?;
    let dx = (x1 - x0) / panel.nx as f64;
    let dy = (y1 - y0) / panel.ny as f64;
    let rect = |i: usize, j: usize| {
        [
            (x0 + dx * i as f64, y0 + dy * j as f64),
            (x0 + dx * (i + 1) as f64, y0 + dy * (j + 1) as f64),
        ]
    };
    let hatched = |k: usize| panel.hatched.get(k).copied().unwrap_or(false);
    let colours: Vec<Option<Rgb>> = panel
        .cells
        .iter()
        .enumerate()
        .map(|(k, &c)| cell_colour(map, c).map(|c| if hatched(k) { faded(c) } else { c }))
        .collect();
    chart
        .draw_series((0..panel.ny).flat_map(|j| {
            let colours = &colours;
            (0..panel.nx).filter_map(move |i| {
                colours[j * panel.nx + i]
                    .map(|c| Rectangle::new(rect(i, j), c.to_plotters().filled()))
            })
        }))
        .map_err(RenderError::drawing)?;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let frame = PanelPixels {
        x_px: (xr.start, xr.end - 1),
        y_px: (yr.start, yr.end - 1),
        x_range: map.x_range,
        y_range: map.y_range,
    };
    let hatch_rects: Vec<_> = (0..panel.cells.len())
        .filter(|&k| hatched(k))
        .filter_map(|k| {
            let colour = cell_colour(map, panel.cells[k])?;
            let [a, b] = rect(k % panel.nx, k / panel.nx);
            let (l, bottom) = frame.pixel_f(a);
            let (r, top) = frame.pixel_f(b);
            Some((l, top, r, bottom, colour))
        })
        .collect();
    draw_hatching(area, &hatch_rects, scale)?;
    if map.boundaries {
        let fixed = |i: usize, j: usize| match panel.cells[j * panel.nx + i] {
            Cell::Colour(c) => Some(c),
            _ => None,
        };
        let mut segments = Vec::new();
        for j in 0..panel.ny {
            for i in 0..panel.nx {
                let here = fixed(i, j);
                if i + 1 < panel.nx && fixed(i + 1, j) != here {
                    let x = x0 + dx * (i + 1) as f64;
                    segments.push([(x, y0 + dy * j as f64), (x, y0 + dy * (j + 1) as f64)]);
                }
                if j + 1 < panel.ny && fixed(i, j + 1) != here {
                    let y = y0 + dy * (j + 1) as f64;
                    segments.push([(x0 + dx * i as f64, y), (x0 + dx * (i + 1) as f64, y)]);
                }
            }
        }
        let line = BLACK.stroke_width(px(2.5).max(1));
        chart
            .draw_series(
                segments
                    .into_iter()
                    .map(|s| PathElement::new(s.to_vec(), line)),
            )
            .map_err(RenderError::drawing)?;
    }
    draw_overlays(area, &frame, &map.overlays, &map.annotations, scale)?;
    Ok(frame)
}

fn draw_colour_bar(
    bar: &ColourBar,
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    scale: f64,
) -> Result<(), RenderError> {
    let px = |v: f64| (v * scale).round() as u32;
    let (lo, hi) = if bar.max > bar.min {
        (bar.min, bar.max)
    } else {
        (bar.min - 0.5, bar.min + 0.5)
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(px(40.0))
        .margin_bottom(px(56.0))
        .margin_right(px(8.0))
        .margin_left(px(30.0))
        .right_y_label_area_size(px(110.0))
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(RenderError::drawing)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_label_formatter(&|v| crate::plot::tick_label(*v))
        .y_desc(bar.label.as_str())
        .label_style((FAMILY, px(13.0)))
        .axis_desc_style((FAMILY, px(15.0)))
        .y_labels(6)
        .draw()
        .map_err(RenderError::drawing)?;
    let steps = 256;
    let step = (hi - lo) / steps as f64;
    chart
        .draw_series((0..steps).map(|k| {
            let t = (k as f64 + 0.5) / steps as f64;
            Rectangle::new(
                [
                    (0.0, lo + step * k as f64),
                    (1.0, lo + step * (k + 1) as f64),
                ],
                bar.colormap.at(t).to_plotters().filled(),
            )
        }))
        .map_err(RenderError::drawing)?;
    Ok(())
}

/// The legend row: a swatch and a name per entry, centred; the hatched entry last.
pub(crate) fn draw_legend(
    entries: &[(String, Rgb)],
    hatch: Option<&str>,
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    scale: f64,
) -> Result<(), RenderError> {
    // The hatched entry comes last, drawn as a grey swatch with its hatching.
    let hatch_colour = crate::colormap::INSULATING;
    let mut entries = entries.to_vec();
    if let Some(name) = hatch {
        entries.push((name.to_string(), faded(hatch_colour)));
    }
    let entries = &entries[..];
    let px = |v: f64| (v * scale).round() as i32;
    let (w, h) = area.dim_in_pixel();
    let style = TextStyle::from((FAMILY, px(15.0) as u32).into_font()).color(&BLACK);
    let widths: Vec<i32> = entries
        .iter()
        .map(|(name, _)| {
            area.estimate_text_size(name, &style)
                .map(|(tw, _)| tw as i32)
                .unwrap_or(100)
        })
        .collect();
    let swatch = px(18.0);
    let gap = px(26.0);
    let total: i32 = widths
        .iter()
        .map(|tw| swatch + px(6.0) + tw + gap)
        .sum::<i32>()
        - gap;
    let mut x = ((w as i32 - total) / 2).max(0);
    let y = (h as i32 - swatch) / 2;
    let hatched_entry = hatch.map(|_| entries.len() - 1);
    for (k, ((name, colour), tw)) in entries.iter().zip(widths).enumerate() {
        area.draw(&Rectangle::new(
            [(x, y), (x + swatch, y + swatch)],
            colour.to_plotters().filled(),
        ))
        .map_err(RenderError::drawing)?;
        if hatched_entry == Some(k) {
            let (xr, yr) = area.get_pixel_range();
            let l = f64::from(xr.start) + f64::from(x);
            let t = f64::from(yr.start) + f64::from(y);
            let s = f64::from(swatch);
            draw_hatching(area, &[(l, t, l + s, t + s, hatch_colour)], scale)?;
        }
        area.draw(&Rectangle::new(
            [(x, y), (x + swatch, y + swatch)],
            BLACK.stroke_width(1),
        ))
        .map_err(RenderError::drawing)?;
        area.draw_text(name, &style, (x + swatch + px(6.0), y + px(1.0)))
            .map_err(RenderError::drawing)?;
        x += swatch + px(6.0) + tw + gap;
    }
    Ok(())
}
