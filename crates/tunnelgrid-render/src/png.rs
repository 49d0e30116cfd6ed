//! PNG files, written atomically (`crate::atomic`), so a killed render never leaves a truncated
//! image where a finished one was.

use crate::atomic::{write_atomic, AtomicError};
use crate::RenderError;
use std::path::Path;

/// Writes an 8-bit RGB image (`width·height·3` bytes, rows top to bottom) as PNG, atomically.
pub fn write_rgb_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), RenderError> {
    if rgb.len() != width as usize * height as usize * 3 {
        return Err(RenderError::InvalidInput(format!(
            "image buffer of {} bytes does not match {width}×{height} RGB",
            rgb.len()
        )));
    }
    let written = write_atomic(path, |w| {
        use image::ImageEncoder;
        image::codecs::png::PngEncoder::new(w)
            .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)
            .map_err(|e| RenderError::Encoding {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
    });
    written.map_err(|e| match e {
        AtomicError::Io { path, source, .. } => RenderError::Io { path, source },
        AtomicError::Fill(e) => e,
    })
}

/// Checks a requested picture size: at least 64 pixels and at most 16384 along each side.
pub(crate) fn check_size(size: (u32, u32)) -> Result<(), RenderError> {
    let ok = |v: u32| (64..=16384).contains(&v);
    if ok(size.0) && ok(size.1) {
        Ok(())
    } else {
        Err(RenderError::InvalidInput(format!(
            "image size {}×{} is outside 64..=16384 pixels per side",
            size.0, size.1
        )))
    }
}
