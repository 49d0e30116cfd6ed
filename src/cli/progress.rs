//! Progress on stderr: a bar over the points of a sweep or profile, and lines for long solves.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar with elapsed time, count and ETA over `total` `unit` (e.g. "points", "depths").
pub fn point_bar(total: usize, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit}, ETA {{eta}} {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// CG progress on stderr, at most once a second and only after the first second.
pub struct SolveProgress {
    start: std::time::Instant,
    last: std::time::Instant,
    shown: bool,
}

impl Default for SolveProgress {
    fn default() -> Self {
        let now = std::time::Instant::now();
        Self {
            start: now,
            last: now,
            shown: false,
        }
    }
}

impl SolveProgress {
    /// Shows (axis, iteration, residual) once a second after the first second.
    pub fn show(&mut self, axis: usize, iteration: usize, residual: f64) {
        let now = std::time::Instant::now();
        if now.duration_since(self.start).as_secs_f64() > 1.0
            && now.duration_since(self.last).as_secs_f64() >= 1.0
        {
            self.last = now;
            self.shown = true;
            eprint!(
                "\r\x1b[Ksolving axis {}: iteration {iteration}, relative residual {residual:.2e}",
                ["x", "y", "z"][axis]
            );
        }
    }

    /// Clears the progress line, if one was shown.
    pub fn finish(&self) {
        if self.shown {
            eprint!("\r\x1b[K");
        }
    }
}
