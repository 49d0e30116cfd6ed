//! One writer per sweep file. Two sweeps appending to one CSV (or a `--resume` while the first
//! still runs) would both evaluate the missing points and write them twice, so a writer holds
//! an exclusive lock on a small file beside the CSV for as long as it runs. The lock is the
//! kernel's (`flock`): it ends with the process however the process ends, so a killed sweep
//! never leaves a stale lock behind. The lock file holds the writer's PID, which the refusal
//! names. Shards write different CSVs and so run side by side in one folder.

use anyhow::{bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Takes the kernel's exclusive lock on `file` without waiting (`WouldBlock`: another holds it).
#[cfg(unix)]
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock only acts on the descriptor, which `file` keeps open.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Where there is no flock (the library compiled for the browser, which has no files to sweep
/// into) a sweep file cannot be locked, so none is written.
#[cfg(not(unix))]
fn lock_exclusive(_file: &File) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "sweep files are locked with flock, which this platform lacks",
    ))
}

/// Held while a process writes one sweep file; dropping it releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    // Kept open: closing the file releases the lock.
    _file: File,
    path: PathBuf,
}

impl WriterLock {
    /// Locks `csv` for writing, or refuses when another process holds it.
    pub fn acquire(csv: &Path) -> Result<Self> {
        let path = lock_path(csv);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating folder {}", dir.display()))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        if let Err(error) = lock_exclusive(&file) {
            if error.kind() != std::io::ErrorKind::WouldBlock {
                return Err(error).with_context(|| format!("locking {}", path.display()));
            }
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another process".to_string()
            } else {
                format!("another tunnelgrid, PID {holder}")
            };
            bail!(
                "{} is being written by {who}; two writers would evaluate and append the same points twice. Wait for it to end (or stop it), then --resume",
                csv.display()
            );
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_data()?;
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `DIR/.NAME.lock` for `DIR/NAME`.
fn lock_path(csv: &Path) -> PathBuf {
    let name = csv
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    csv.with_file_name(format!(".{name}.lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("tunnelgrid-lock-{}", std::process::id()));
        let csv = dir.join("sweep.csv");
        let first = WriterLock::acquire(&csv).unwrap();
        // flock locks belong to the open file, so a second open in this process conflicts too.
        let err = WriterLock::acquire(&csv).unwrap_err().to_string();
        assert!(
            err.contains(&format!("PID {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = WriterLock::acquire(&csv).unwrap();
        assert!(again.path().exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
