//! What is drawn over a heat map's cells: hatching of marked cells, labelled lines (the
//! conventional melting and vapour lines over the resistance phase diagram) and text labels of
//! regions ("solid", "liquid", "gas").
//!
//! Everything is drawn in pixels of the panel's plotting area, so hatching runs continuously
//! across neighbouring cells and labels keep their size whatever the data ranges.

use crate::colormap::Rgb;
use crate::font::FAMILY;
use crate::heatmap::PanelPixels;
use crate::RenderError;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// A labelled line in data coordinates, drawn over every panel and clipped to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    /// Text written next to the line (empty: no label).
    pub label: String,
    /// The line's points in data coordinates, in order.
    pub points: Vec<(f64, f64)>,
    /// Where the label sits along the visible part of the line, as a fraction of its length.
    pub label_at: f64,
    /// Line colour.
    pub colour: Rgb,
    /// Dashed (true) or solid.
    pub dashed: bool,
}

/// A text label at a point in data coordinates (its centre), on a light box.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The text.
    pub text: String,
    /// Centre of the text, data coordinates.
    pub at: (f64, f64),
}

/// A marked cell's fill: its colour mixed halfway with white, so the state stays readable.
pub fn faded(colour: Rgb) -> Rgb {
    let mix = |c: u8| ((u16::from(c) + 255) / 2) as u8;
    Rgb(mix(colour.0), mix(colour.1), mix(colour.2))
}

/// Pixel spacing of the hatch lines at scale 1.
const HATCH_SPACING: f64 = 9.0;

impl PanelPixels {
    /// The data point at pixel (x, y) (the inverse of [`PanelPixels::pixel`]).
    pub fn data(&self, x: f64, y: f64) -> (f64, f64) {
        let fx = (x - f64::from(self.x_px.0)) / f64::from(self.x_px.1 - self.x_px.0);
        let fy = (f64::from(self.y_px.1) - y) / f64::from(self.y_px.1 - self.y_px.0);
        (
            self.x_range.0 + fx * (self.x_range.1 - self.x_range.0),
            self.y_range.0 + fy * (self.y_range.1 - self.y_range.0),
        )
    }

    pub(crate) fn pixel_f(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let fx = (x - self.x_range.0) / (self.x_range.1 - self.x_range.0);
        let fy = (y - self.y_range.0) / (self.y_range.1 - self.y_range.0);
        (
            f64::from(self.x_px.0) + fx * f64::from(self.x_px.1 - self.x_px.0),
            f64::from(self.y_px.1) - fy * f64::from(self.y_px.1 - self.y_px.0),
        )
    }
}

/// Where `area` (a panel) sits in the bitmap, to turn absolute pixels into its own.
fn origin(area: &DrawingArea<BitMapBackend<'_>, Shift>) -> (f64, f64) {
    let (x, y) = area.get_pixel_range();
    (f64::from(x.start), f64::from(y.start))
}

fn local(o: (f64, f64), p: (f64, f64)) -> (i32, i32) {
    ((p.0 - o.0).round() as i32, (p.1 - o.1).round() as i32)
}

/// Diagonal hatch lines ("/") over the pixel rectangles `rects` (left, top, right, bottom), in
/// `colour`, on one global grid x + y = k·spacing so they run on across neighbouring cells.
pub(crate) fn draw_hatching(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    rects: &[(f64, f64, f64, f64, Rgb)],
    scale: f64,
) -> Result<(), RenderError> {
    let o = origin(area);
    let spacing = (HATCH_SPACING * scale).max(4.0);
    let width = ((1.6 * scale).round() as u32).max(1);
    for &(l, t, r, b, colour) in rects {
        let style = colour.to_plotters().stroke_width(width);
        let first = ((l + t) / spacing).ceil() as i64;
        let last = ((r + b) / spacing).floor() as i64;
        for k in first..=last {
            let k = k as f64 * spacing;
            // The line x + y = k inside the rectangle.
            let (x0, x1) = ((k - b).max(l), (k - t).min(r));
            if x1 <= x0 {
                continue;
            }
            area.draw(&PathElement::new(
                vec![local(o, (x0, k - x0)), local(o, (x1, k - x1))],
                style,
            ))
            .map_err(RenderError::drawing)?;
        }
    }
    Ok(())
}

/// Clips the segment a–b to the rectangle (Liang–Barsky); `None` when it misses.
fn clip(
    a: (f64, f64),
    b: (f64, f64),
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

fn inside((x, y): (f64, f64), frame: &PanelPixels) -> bool {
    (frame.x_range.0..=frame.x_range.1).contains(&x)
        && (frame.y_range.0..=frame.y_range.1).contains(&y)
}

/// The visible pieces of a polyline, in pixels of the bitmap.
fn visible_pieces(overlay: &Overlay, frame: &PanelPixels) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for w in overlay.points.windows(2) {
        match clip(w[0], w[1], frame.x_range, frame.y_range) {
            Some((a, b)) => {
                let (a, b) = (frame.pixel_f(a), frame.pixel_f(b));
                if !open {
                    pieces.push(vec![a]);
                }
                if let Some(piece) = pieces.last_mut() {
                    piece.push(b);
                }
                // A segment cut at its end leaves the frame: the next visible one starts anew.
                open = inside(w[1], frame);
            }
            None => open = false,
        }
    }
    pieces.retain(|p| p.len() >= 2);
    pieces
}

/// The point at `fraction` of the pieces' total pixel length.
fn point_along(pieces: &[Vec<(f64, f64)>], fraction: f64) -> Option<(f64, f64)> {
    let length = |p: &[(f64, f64)]| {
        p.windows(2)
            .map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1))
            .sum::<f64>()
    };
    let total: f64 = pieces.iter().map(|p| length(p)).sum();
    if total <= 0.0 {
        return None;
    }
    let mut left = fraction.clamp(0.0, 1.0) * total;
    for piece in pieces {
        for w in piece.windows(2) {
            let d = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
            if left <= d && d > 0.0 {
                let t = left / d;
                return Some((
                    w[0].0 + t * (w[1].0 - w[0].0),
                    w[0].1 + t * (w[1].1 - w[0].1),
                ));
            }
            left -= d;
        }
    }
    pieces.last().and_then(|p| p.last().copied())
}

/// Where a label's box goes relative to its anchor point.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Anchor {
    /// Centred on the point (region labels).
    Centre,
    /// Just right of the point, vertically centred (line labels: off the line itself).
    RightOf,
}

/// Text at pixel `at` on a light, slightly transparent box (the cells stay visible around the
/// letters), kept inside the plotting area.
fn draw_label(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    frame: &PanelPixels,
    text: &str,
    (at, anchor): ((f64, f64), Anchor),
    size: f64,
    colour: Rgb,
) -> Result<(), RenderError> {
    let ink = colour.to_plotters();
    let style = TextStyle::from((FAMILY, size as u32).into_font()).color(&ink);
    let (w, h) = area
        .estimate_text_size(text, &style)
        .map_err(RenderError::drawing)?;
    let (w, h) = (f64::from(w), f64::from(h));
    let pad = (size * 0.25).round();
    let half_w = w / 2.0 + pad;
    let half_h = h / 2.0 + pad;
    let centre_x = match anchor {
        Anchor::Centre => at.0,
        Anchor::RightOf => at.0 + half_w + size * 0.6,
    };
    // Keep the whole box inside the plotting area.
    let x = centre_x.clamp(
        f64::from(frame.x_px.0) + half_w,
        f64::from(frame.x_px.1) - half_w,
    );
    let y = at.1.clamp(
        f64::from(frame.y_px.0) + half_h,
        f64::from(frame.y_px.1) - half_h,
    );
    let o = origin(area);
    area.draw(&Rectangle::new(
        [
            local(o, (x - half_w, y - half_h)),
            local(o, (x + half_w, y + half_h)),
        ],
        WHITE.mix(0.8).filled(),
    ))
    .map_err(RenderError::drawing)?;
    area.draw_text(text, &style, local(o, (x - w / 2.0, y - h / 2.0)))
        .map_err(RenderError::drawing)?;
    Ok(())
}

/// Draws the overlays (white halo under a coloured dashed or solid line, then its label just
/// right of the line) and the annotations of one panel.
pub(crate) fn draw_overlays(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    frame: &PanelPixels,
    overlays: &[Overlay],
    annotations: &[Annotation],
    scale: f64,
) -> Result<(), RenderError> {
    let o = origin(area);
    let width = ((3.0 * scale).round() as u32).max(1);
    for overlay in overlays {
        let pieces = visible_pieces(overlay, frame);
        for piece in &pieces {
            let points: Vec<(i32, i32)> = piece.iter().map(|&p| local(o, p)).collect();
            // A thin white halo keeps the line apart from the black state boundaries.
            area.draw(&PathElement::new(
                points.clone(),
                WHITE.stroke_width(width + 2),
            ))
            .map_err(RenderError::drawing)?;
            let style = overlay.colour.to_plotters().stroke_width(width);
            if overlay.dashed {
                let dash = (12.0 * scale).round() as i32;
                let gap = (6.0 * scale).round() as i32;
                area.draw(&DashedPathElement::new(points, dash, gap, style))
                    .map_err(RenderError::drawing)?;
            } else {
                area.draw(&PathElement::new(points, style))
                    .map_err(RenderError::drawing)?;
            }
        }
        if overlay.label.is_empty() {
            continue;
        }
        if let Some(at) = point_along(&pieces, overlay.label_at) {
            draw_label(
                area,
                frame,
                &overlay.label,
                (at, Anchor::RightOf),
                15.0 * scale,
                overlay.colour,
            )?;
        }
    }
    for note in annotations {
        let at = frame.pixel_f(note.at);
        let inside = |v: f64, (a, b): (i32, i32)| v >= f64::from(a) && v <= f64::from(b);
        if inside(at.0, frame.x_px) && inside(at.1, frame.y_px) {
            draw_label(
                area,
                frame,
                &note.text,
                (at, Anchor::Centre),
                17.0 * scale,
                Rgb(20, 20, 20),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_clipped_to_the_frame() {
        let r = ((0.0, 10.0), (0.0, 10.0));
        assert_eq!(
            clip((-5.0, 5.0), (15.0, 5.0), r.0, r.1),
            Some(((0.0, 5.0), (10.0, 5.0)))
        );
        assert_eq!(clip((-5.0, 20.0), (15.0, 20.0), r.0, r.1), None);
        let ((_, _), (bx, by)) = clip((0.0, 0.0), (20.0, 20.0), r.0, r.1).unwrap();
        assert_eq!((bx, by), (10.0, 10.0));
    }

    #[test]
    fn faded_colours_keep_their_hue_halfway_to_white() {
        assert_eq!(faded(Rgb(0, 100, 255)), Rgb(127, 177, 255));
        assert_eq!(faded(Rgb(255, 255, 255)), Rgb(255, 255, 255));
    }
}
