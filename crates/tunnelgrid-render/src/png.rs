//! PNG files written atomically: a temporary file in the same folder, fsync, then a rename, so a
//! killed render never leaves a truncated image where a finished one was.

use crate::RenderError;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` produced by `fill` to `path` atomically (creating the parent folder).
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), RenderError>,
) -> Result<(), RenderError> {
    let io = |source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = temporary_path(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(io)?;
        let mut writer = BufWriter::new(file);
        fill(&mut writer)?;
        writer.flush().map_err(io)?;
        let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        fs::rename(&tmp, path).map_err(io)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes an 8-bit RGB image (`width·height·3` bytes, rows top to bottom) as PNG, atomically.
pub fn write_rgb_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), RenderError> {
    if rgb.len() != width as usize * height as usize * 3 {
        return Err(RenderError::InvalidInput(format!(
            "image buffer of {} bytes does not match {width}×{height} RGB",
            rgb.len()
        )));
    }
    write_atomic(path, |w| {
        use image::ImageEncoder;
        image::codecs::png::PngEncoder::new(w)
            .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)
            .map_err(|e| RenderError::Encoding {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
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
