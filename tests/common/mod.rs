//! Helpers shared by the command-line test files.
// Each test file is its own crate and uses a subset of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test: this build's, or `TUNNELGRID_BIN` when set (to run the CLI tests
/// against another build, e.g. to show that a regression test fails on an older main).
pub fn binary() -> PathBuf {
    std::env::var_os("TUNNELGRID_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tunnelgrid")))
}

/// Runs the tunnelgrid binary with `args` in `dir`.
pub fn tunnelgrid(args: &[&str], dir: &Path) -> Output {
    Command::new(binary())
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

/// Runs and asserts success, returning stdout.
pub fn ok(args: &[&str], dir: &Path) -> String {
    let out = tunnelgrid(args, dir);
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs and asserts a clean failure (non-zero exit, no panic), returning stderr.
pub fn fails(args: &[&str], dir: &Path) -> String {
    let out = tunnelgrid(args, dir);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    err
}

/// `DIR/out/report.json` as JSON.
pub fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap()).unwrap()
}

/// A `.npy` file's shape and data.
pub fn read_npy<T: npyz::Deserialize>(path: &Path) -> (Vec<u64>, Vec<T>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec().unwrap())
}

/// Writes a (nz, ny, nx) u8 volume with `f(x, y, z)` as voxel value.
pub fn volume(path: &Path, [nx, ny, nz]: [usize; 3], f: impl Fn(usize, usize, usize) -> u8) {
    let mut data = Vec::with_capacity(nx * ny * nz);
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                data.push(f(x, y, z));
            }
        }
    }
    tunnelgrid::output::write_npy(path, &[nz as u64, ny as u64, nx as u64], &data).unwrap();
}

/// Whether `tunnelgrid info` lists an adapter. Without one the GPU test is skipped with a note,
/// except under CI (`CI` set), where a missing adapter fails the test: GPU tests never skip
/// silently.
pub fn gpu_available(dir: &Path) -> bool {
    let info = text(&tunnelgrid(&["info"], dir).stdout);
    let found = info.contains("adapter 0");
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs a GPU adapter:\n{info}"
        );
        eprintln!("SKIPPED: no GPU adapter for this GPU test:\n{info}");
    }
    found
}

/// The colour of one pixel.
pub fn pixel(img: &image::RgbImage, at: (u32, u32)) -> tunnelgrid::render::Rgb {
    let p = img.get_pixel(at.0, at.1);
    tunnelgrid::render::Rgb(p[0], p[1], p[2])
}

/// How many different colours a picture holds.
pub fn distinct_colours(img: &image::RgbImage) -> usize {
    img.pixels()
        .map(|p| (p[0], p[1], p[2]))
        .collect::<std::collections::HashSet<_>>()
        .len()
}
