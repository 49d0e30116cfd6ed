//! Research mode end to end: a small `threshold` run brackets the known p_c, `scaling` gives a
//! plausible d_f, and the bisections of `design` and `critical-pressure` agree with direct
//! `run`s on either side of the value they report.

use tunnelgrid::cpu::CpuEngine;
use tunnelgrid::model::presets::preset;
use tunnelgrid::research::physical::{self, Axes, Target};

mod common;

use common::{scratch, text, tunnelgrid};

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_small_threshold_run_brackets_the_known_threshold() {
    let dir = scratch("threshold");
    for (lattice, mode, p_c) in [("sc", "site", 0.3116077), ("square", "bond", 0.5)] {
        let sizes = if lattice == "sc" {
            "8,12,16"
        } else {
            "16,32,64"
        };
        let out = tunnelgrid(
            &[
                "threshold",
                "--lattice",
                lattice,
                "--mode",
                mode,
                "--sizes",
                sizes,
                "--samples",
                "300",
                "--json",
                "t.json",
                "--curves",
                "c.csv",
                "--plots",
                "plots",
            ],
            &dir,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let study = json(&dir.join("t.json"));
        let estimate = study["p_c"].as_f64().unwrap();
        let se = study["p_c_se"].as_f64().unwrap();
        assert!(se > 0.0 && se < 0.01, "{lattice} {mode}: se {se}");
        // Generous: five standard errors or 1 %, whichever is larger.
        let tolerance = (5.0 * se).max(0.01 * p_c);
        assert!(
            (estimate - p_c).abs() < tolerance,
            "{lattice} {mode}: {estimate} ± {se}"
        );
        let nu = study["nu"].as_f64().unwrap();
        assert!(nu > 0.5 && nu < 2.0, "nu {nu}");
        // The curves rise from near 0 to near 1 through the estimate.
        let curves = std::fs::read_to_string(dir.join("c.csv")).unwrap();
        let rows: Vec<Vec<f64>> = curves
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
            .collect();
        let last_size = rows.last().unwrap()[0];
        let last: Vec<&Vec<f64>> = rows.iter().filter(|r| r[0] == last_size).collect();
        assert!(last.first().unwrap()[2] < 0.05 && last.last().unwrap()[2] > 0.95);
        assert!(
            last.windows(2).all(|w| w[1][2] >= w[0][2] - 1e-12),
            "R(p) rises"
        );
        for plot in ["curves", "extrapolation"] {
            let png =
                std::fs::read(dir.join(format!("plots/{lattice}-{mode}-wrap-any-{plot}.png")))
                    .unwrap();
            assert!(png.starts_with(b"\x89PNG") && png.len() > 5000, "{plot}");
        }
    }
}

#[test]
fn bad_research_arguments_are_refused_with_the_flag_named() {
    let dir = scratch("research-bad");
    for (args, flag) in [
        (vec!["threshold", "--sizes", "32,16"], "--sizes"),
        (vec!["threshold", "--sizes", "2"], "--sizes"),
        (
            vec!["threshold", "--sizes", "8,16", "--samples", "5,5,5"],
            "--samples",
        ),
        (vec!["scaling", "--lattice", "sc", "--p", "1.5"], "--p"),
        (
            vec!["design", "--preset", "default", "--size", "8"],
            "--pair",
        ),
        (
            vec![
                "design", "--preset", "alloy", "--size", "8", "--range", "0.9,0.1",
            ],
            "--range",
        ),
    ] {
        let out = tunnelgrid(&args, &dir);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn scaling_gives_a_plausible_fractal_dimension() {
    let dir = scratch("scaling");
    let out = tunnelgrid(
        &[
            "scaling",
            "--lattice",
            "sc",
            "--sizes",
            "8,16,24",
            "--samples",
            "100",
            "--json",
            "s.json",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let study = json(&dir.join("s.json"));
    let d_f = study["fit"]["slope"].as_f64().unwrap();
    // Small sizes carry corrections to scaling; this only catches a broken mass measurement
    // (d_f = 3 for a compact cluster, ≈ 0 for a finite one).
    assert!((d_f - 2.5226).abs() < 0.25, "d_f {d_f}");
}

/// A material written as TOML with the given δ of pair 0, for direct `run`s.
fn alloy_with_delta(dir: &std::path::Path, delta: f64, size: u32) -> String {
    let mut material = preset("alloy").unwrap();
    material.pairs[0].attraction = delta;
    material.lattice.cells = [size; 3];
    let path = dir.join(format!("alloy-{delta}.toml"));
    std::fs::write(&path, material.to_toml_string()).unwrap();
    path.display().to_string()
}

fn direct_states(dir: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = tunnelgrid(
        &[&["run", "--engine", "cpu", "--out", "r"], args].concat(),
        dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = json(&dir.join("r/report.json"));
    ["x", "y", "z"]
        .iter()
        .map(|a| report["states"][a].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn design_agrees_with_direct_runs_either_side() {
    let dir = scratch("design");
    let size = 12;
    let mut material = preset("alloy").unwrap();
    material.lattice.cells = [size; 3];
    let pair = physical::design_pair(&mut material, None).unwrap();
    let seeds = [1, 2];
    let b = physical::design(
        &CpuEngine::default(),
        &material,
        pair,
        0.0,
        300.0,
        &seeds,
        (0.0, 1.5),
        0.01,
        Axes::All,
    )
    .unwrap();
    // MODEL.md §10: about 0.515 Å at 32³; a 12³ sample is near that.
    assert!(b.mean > 0.4 && b.mean < 0.65, "{b:?}");
    for bracket in &b.seeds {
        let seed = bracket.seed.to_string();
        let below = alloy_with_delta(&dir, bracket.below, size);
        let above = alloy_with_delta(&dir, bracket.at_or_above, size);
        let states = direct_states(&dir, &["--config", &below, "--seed", &seed]);
        assert!(
            states.iter().any(|s| s != "superconducting"),
            "below: {states:?}"
        );
        let states = direct_states(&dir, &["--config", &above, "--seed", &seed]);
        assert!(
            states.iter().all(|s| s == "superconducting"),
            "above: {states:?}"
        );
    }
}

#[test]
fn critical_pressure_agrees_with_direct_runs_either_side() {
    let dir = scratch("critical");
    let mut material = preset("default").unwrap();
    material.lattice.cells = [12; 3];
    let b = physical::critical_pressure(
        &CpuEngine::default(),
        &material,
        300.0,
        &[1, 2],
        (0.0, 100.0),
        0.5,
        Target::Conducting,
        Axes::All,
    )
    .unwrap();
    // MODEL.md §10: insulating below ≈ 5 GPa at 10 K and ≈ 19 GPa at 400 K.
    assert!(b.mean > 3.0 && b.mean < 25.0, "{b:?}");
    for bracket in &b.seeds {
        let seed = bracket.seed.to_string();
        let run = |p: f64| {
            direct_states(
                &dir,
                &[
                    "--preset",
                    "default",
                    "--size",
                    "12",
                    "--temperature",
                    "300",
                    "--pressure",
                    &p.to_string(),
                    "--seed",
                    &seed,
                ],
            )
        };
        assert!(run(bracket.below).iter().any(|s| s == "insulating"));
        assert!(run(bracket.at_or_above).iter().all(|s| s != "insulating"));
    }
    // The CLI prints the same bisection.
    let out = tunnelgrid(
        &[
            "critical-pressure",
            "--preset",
            "default",
            "--size",
            "12",
            "--seeds",
            "2",
            "--temperature",
            "300",
            "--range",
            "0,100",
            "--json",
            "cp.json",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cli = json(&dir.join("cp.json"));
    assert!((cli["mean"].as_f64().unwrap() - b.mean).abs() < 1e-12);
}
