//! Helpers shared by the command-line test files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the tunnelgrid binary with `args` in `dir`.
pub fn tunnelgrid(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tunnelgrid"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// A fresh, empty folder for one test, named after the test file and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tunnelgrid-{}-{name}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Command output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
