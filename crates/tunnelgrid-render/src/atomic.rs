//! Files written atomically: a temporary file in the same folder, fsync, then a rename, so a
//! killed run never leaves a half-written file where a finished one was. The one writer every
//! tunnelgrid output goes through (PNGs here; reports, CSVs, NPYs and VTIs in the facade).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why an atomic write failed: a file-system step, or the caller's `fill`.
#[derive(Debug)]
pub enum AtomicError<E> {
    /// A file-system step failed.
    Io {
        /// What was being done: "creating folder", "creating", "writing", "syncing",
        /// "renaming to".
        step: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The system's error.
        source: io::Error,
    },
    /// Filling the file failed.
    Fill(E),
}

/// Writes `path` atomically: `fill` writes the content into a buffered temporary file beside
/// it, which is synced and renamed over `path` (creating the parent folder first). On any
/// failure the temporary file is removed and `path` is left as it was.
pub fn write_atomic<E>(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), AtomicError<E>> {
    let io = |step, path: &Path| {
        let path = path.to_path_buf();
        move |source| AtomicError::Io { step, path, source }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io("creating folder", dir))?;
    }
    let tmp = temporary_path(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(io("creating", &tmp))?;
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        fill(&mut writer).map_err(AtomicError::Fill)?;
        writer.flush().map_err(io("writing", &tmp))?;
        let file = writer
            .into_inner()
            .map_err(|e| io("writing", &tmp)(e.into_error()))?;
        file.sync_all().map_err(io("syncing", &tmp))?;
        fs::rename(&tmp, path).map_err(io("renaming to", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `.NAME.PID.tmp` beside `path`: hidden, and distinct per process.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}
