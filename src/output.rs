//! Outputs written atomically: a temporary file in the same folder, then a rename, so a killed
//! run never leaves a half-written file where a finished one was.

use anyhow::{Context, Result};
use npyz::WriterBuilder;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tunnelgrid_render::atomic::AtomicError;

/// Writes `path` atomically by calling `fill` on a buffered temporary file
/// (`tunnelgrid_render::atomic`, the one atomic writer), with the failing step and path as
/// context.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    tunnelgrid_render::atomic::write_atomic(path, fill).map_err(|e| match e {
        AtomicError::Io { step, path, source } => {
            anyhow::Error::new(source).context(format!("{step} {}", path.display()))
        }
        AtomicError::Fill(e) => e,
    })
}

/// Writes text atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |w| Ok(w.write_all(text.as_bytes())?))
}

/// Writes a C-order NumPy array atomically.
pub fn write_npy<T>(path: &Path, shape: &[u64], data: &[T]) -> Result<()>
where
    T: npyz::AutoSerialize + npyz::Serialize + Copy,
{
    let expected: u64 = shape.iter().product();
    anyhow::ensure!(
        expected == data.len() as u64,
        "array of {} values does not match shape {shape:?}",
        data.len()
    );
    write_atomic(path, |w| {
        let mut npy = npyz::WriteOptions::<T>::new()
            .default_dtype()
            .shape(shape)
            .writer(w)
            .begin_nd()?;
        npy.extend(data.iter().copied())?;
        npy.finish()?;
        Ok(())
    })
}

/// Checks before any work that a file can be written at `path` (`flag` names where it came
/// from): its folder exists or can be made, is writable, and `path` is not itself a folder. A
/// long run then never learns at its end that it cannot save its result.
pub fn check_output_file(path: &Path, flag: &str) -> Result<()> {
    anyhow::ensure!(
        !path.is_dir(),
        "{flag} {}: is a folder; give a file name",
        path.display()
    );
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir,
        None => Path::new("."),
    };
    check_output_dir(dir, flag)
}

/// Checks before any work that files can be written into folder `dir`, which need not exist
/// yet: its nearest existing ancestor must be a folder that takes a new entry. Nothing is left
/// behind, so a command refused later leaves no empty folder.
pub fn check_output_dir(dir: &Path, flag: &str) -> Result<()> {
    let mut existing = dir;
    while !existing.exists() {
        existing = match existing.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
    }
    anyhow::ensure!(
        existing.is_dir(),
        "{flag} {}: cannot create the folder: {} is a file",
        dir.display(),
        existing.display()
    );
    // Permissions alone do not tell (root, read-only mounts): try an entry and remove it.
    let probe = existing.join(format!(".tunnelgrid-probe.{}.tmp", std::process::id()));
    File::create(&probe).with_context(|| {
        format!(
            "{flag} {}: cannot write into the folder {}",
            dir.display(),
            existing.display()
        )
    })?;
    let _ = fs::remove_file(&probe);
    Ok(())
}

/// [`check_output_file`] for an optional flag.
pub fn check_output_file_opt(path: &Option<PathBuf>, flag: &str) -> Result<()> {
    path.as_deref()
        .map_or(Ok(()), |p| check_output_file(p, flag))
}

/// [`check_output_dir`] for an optional flag.
pub fn check_output_dir_opt(dir: &Option<PathBuf>, flag: &str) -> Result<()> {
    dir.as_deref().map_or(Ok(()), |d| check_output_dir(d, flag))
}
