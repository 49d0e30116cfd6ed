//! Pictures of tunnelgrid results: perceptually uniform colour maps, PNG writing, heat maps with
//! colour bars, the pressure–temperature phase diagram and line plots.
//!
//! Every picture is drawn into an RGB buffer (plotters' bitmap backend with an embedded font, so
//! no system font package is needed) and written atomically as PNG by [`png::write_rgb_png`].

#![warn(missing_docs)]

pub mod atomic;
pub mod colormap;
pub mod heatmap;
pub mod overlay;
pub mod phase;
pub mod plot;
pub mod png;
pub mod profile;

mod font;

pub use colormap::{Colormap, Rgb};
pub use heatmap::{cell_colour, Cell, ColourBar, Heatmap, Panel, PanelPixels};
pub use overlay::{faded, Annotation, Overlay};
pub use phase::{phase_diagram, Region};

/// Why a picture could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The data cannot be drawn as asked (names the offending input).
    #[error("{0}")]
    InvalidInput(String),
    /// plotters failed while drawing.
    #[error("drawing failed: {0}")]
    Drawing(String),
    /// PNG encoding failed.
    #[error("encoding PNG {path}: {message}")]
    Encoding {
        /// The file being written.
        path: std::path::PathBuf,
        /// The encoder's message.
        message: String,
    },
    /// Creating, writing or renaming the file failed. The OS error is the source, shown once by
    /// an error chain (`{:#}`), not repeated in this message.
    #[error("writing {path}")]
    Io {
        /// The file being written.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl RenderError {
    pub(crate) fn drawing(e: impl std::fmt::Display) -> Self {
        RenderError::Drawing(e.to_string())
    }
}
