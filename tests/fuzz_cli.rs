//! A fuzz harness over the command line: random argument vectors for `run`, `sweep`, `export`
//! and `render`, drawn from valid, borderline and hostile values with sizes kept small (or so
//! large that they must be refused at once). Every run must end within a bound with exit 0
//! (success) or a clear error (1, or clap's 2 for a malformed command line): never a panic, a
//! hang, or a NaN in what it wrote.

use proptest::prelude::*;
use std::path::Path;
use std::time::Duration;

mod common;

use common::{binary, scratch, text};

/// How long one fuzzed command may take; the sizes below finish in well under a second.
const BOUND: Duration = Duration::from_secs(60);

/// One flag with a value from a mix of good and bad ones.
fn flag(name: &'static str, values: &'static [&'static str]) -> BoxedStrategy<Vec<String>> {
    prop::sample::select(values)
        .prop_map(move |v| vec![name.to_string(), v.to_string()])
        .boxed()
}

/// A flag that takes no value.
fn switch(name: &'static str) -> BoxedStrategy<Vec<String>> {
    Just(vec![name.to_string()]).boxed()
}

const SIZES: &[&str] = &[
    "-1", "0", "1", "2", "3", "5", "8", "12", "5000", "abc", "1e3", "",
];
const PRESSURES: &[&str] = &["0", "-0", "-5", "50", "150", "1e308", "NaN", "inf", "x"];
const TEMPERATURES: &[&str] = &["0", "10", "300", "1000", "-1", "1e9", "NaN"];
const SEEDS: &[&str] = &["0", "1", "7", "18446744073709551615", "-1", "1.5"];
const PRESETS: &[&str] = &[
    "default",
    "layered",
    "alloy",
    "bernoulli-site",
    "bernoulli-bond",
    "nope",
];
const PROBABILITIES: &[&str] = &["0", "0.3", "1", "1.5", "-0.1", "NaN"];
const ENGINES: &[&str] = &["cpu", "auto", "gpu", "tpu"];
const AXES: &[&str] = &["x", "y", "z", "w"];

/// The model flags every command shares.
fn model_flags() -> Vec<BoxedStrategy<Vec<String>>> {
    vec![
        flag("--size", SIZES),
        flag("--pressure", PRESSURES),
        flag("--temperature", TEMPERATURES),
        flag("--seed", SEEDS),
        flag("--preset", PRESETS),
        flag("--p", PROBABILITIES),
        prop::collection::vec(prop::sample::select(SIZES), 3)
            .prop_map(|c| {
                let mut v = vec!["--cells".to_string()];
                v.extend(c.iter().map(|s| s.to_string()));
                v
            })
            .boxed(),
    ]
}

/// `command` followed by up to five flags from `flags`, in any order.
fn command(
    name: &'static str,
    mut flags: Vec<BoxedStrategy<Vec<String>>>,
) -> impl Strategy<Value = Vec<String>> {
    flags.extend(model_flags());
    prop::collection::vec(prop::strategy::Union::new(flags), 0..=5).prop_map(move |chunks| {
        let mut args = vec![name.to_string()];
        args.extend(chunks.into_iter().flatten());
        // Bounded sizes: without a size of its own, a command runs 6³ rather than the preset's 64³.
        if !args.iter().any(|a| a == "--size" || a == "--cells") {
            args.extend(["--size".to_string(), "6".to_string()]);
        }
        args
    })
}

/// Runs one fuzzed command in a fresh folder and checks how it ended and what it wrote.
fn check(args: &[String], dir: &Path) -> Result<(), TestCaseError> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let mut child = std::process::Command::new(binary())
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TestCaseError::fail(format!("{args:?} ran past {BOUND:?}")));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = Vec::new();
    std::io::Read::read_to_end(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let err = text(&stderr);
    prop_assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    prop_assert!(
        matches!(status.code(), Some(0..=2)),
        "{args:?} ended with {status:?}: {err}"
    );
    if status.code() == Some(1) {
        prop_assert!(err.starts_with("error: "), "{args:?}: unclear error: {err}");
    }
    // Whatever it wrote holds no NaN: JSON has no NaN literal (serde writes null), so the
    // observables must be numbers, and CSVs must not say NaN.
    for entry in walk(dir) {
        let name = entry.to_string_lossy().into_owned();
        if name.ends_with(".json") {
            let value: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
            for key in [
                "tunnel_bond_fraction",
                "sc_bond_fraction",
                "largest_cluster_fraction",
                "mean_cluster_size",
            ] {
                if let Some(v) = value.get(key) {
                    prop_assert!(
                        v.as_f64().is_some_and(f64::is_finite),
                        "{args:?}: {name} {key} = {v}"
                    );
                }
            }
        } else if name.ends_with(".csv") {
            let csv = std::fs::read_to_string(&entry).unwrap();
            prop_assert!(
                !csv.to_lowercase().contains("nan"),
                "{args:?}: NaN in {name}"
            );
        }
    }
    Ok(())
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        // Shrinking reruns the binary many times; the first failing vector says enough.
        max_shrink_iters: 16,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzzed_run_commands_end_cleanly(args in command("run", vec![
        flag("--engine", ENGINES),
        switch("--resistance"),
        switch("--current-map"),
        flag("--out", &["out", "", "/dev/null/x"]),
    ])) {
        check(&args, &scratch("fuzz-run"))?;
    }

    #[test]
    fn fuzzed_sweep_commands_end_cleanly(args in command("sweep", vec![
        flag("--pressure", &["0:100:2", "0:300:1", "100:0:3", "0:0:1", "a:b:c", "0:1e308:2", "0:100:0", "0:100:5000"]),
        flag("--temperature", &["10:300:2", "10:10:1", "-5:10:2", "10:300", "300:10:3"]),
        flag("--seeds", &["1", "2", "0", "1001"]),
        flag("--axis", AXES),
        flag("--engine", ENGINES),
        flag("--shard", &["1/2", "2/2", "0/2", "3/2", "x"]),
        switch("--no-resistance"),
        switch("--resume"),
    ])) {
        check(&args, &scratch("fuzz-sweep"))?;
    }

    #[test]
    fn fuzzed_export_commands_end_cleanly(args in command("export", vec![
        flag("--field", &["bonds", "labels", "sc-labels", "occupancy", "current", "min-cut", "nope"]),
        flag("--out", &["f.npy", "", "sub/f.npy", "/dev/null/f.npy"]),
        flag("--axis", AXES),
        flag("--keep", &["spanning", "largest", "nope"]),
        flag("--engine", ENGINES),
    ])) {
        check(&args, &scratch("fuzz-export"))?;
    }

    #[test]
    fn fuzzed_render_commands_end_cleanly(args in command("render", vec![
        flag("--field", &["tunnels", "gap", "clusters", "sc", "current", "nope"]),
        flag("--slice", &["z=0", "x=3", "z=-1", "z=99", "q=1", "z"]),
        flag("--project", &["max", "mean", "min"]),
        flag("--out", &["r.png", "", "sub/r.png", "/dev/null/r.png"]),
        flag("--export", &["vti", "vtk"]),
        flag("--axis", AXES),
        flag("--engine", ENGINES),
    ])) {
        check(&args, &scratch("fuzz-render"))?;
    }
}
