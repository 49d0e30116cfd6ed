//! `tunnelgrid profile`: a material along a pressure–temperature path gives the states `run`
//! gives at the same conditions (the built-in earth and a hand-written path), the conventional
//! phase lines are computed as the laws say, and bad paths and bad `[phases]` tables get clear
//! errors naming the file, the line or key, and what is allowed.

mod common;

use common::{fails, ok, report, scratch};
use std::path::Path;
use tunnelgrid::profile::planet;

/// The rows of a profile.csv as maps from column name to text.
fn profile_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{l}");
            header
                .iter()
                .cloned()
                .zip(fields.iter().map(|f| f.to_string()))
                .collect()
        })
        .collect()
}

/// `run`'s states per axis and its conventional phase at (P, T), same material and size.
fn run_states(dir: &Path, preset: &str, size: &str, p: &str, t: &str) -> (Vec<String>, String) {
    let stdout = ok(
        &[
            "run",
            "--engine",
            "cpu",
            "--preset",
            preset,
            "--size",
            size,
            "--pressure",
            p,
            "--temperature",
            t,
            "--out",
            "out",
        ],
        dir,
    );
    let report = report(dir);
    let states = ["x", "y", "z"]
        .iter()
        .map(|a| report["states"][a].as_str().unwrap().to_string())
        .collect();
    let phase = stdout
        .lines()
        .find_map(|l| l.strip_prefix("phase"))
        .unwrap_or_else(|| panic!("no phase line in:\n{stdout}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    (states, phase)
}

fn assert_matches_run(
    dir: &Path,
    preset: &str,
    size: &str,
    row: &std::collections::HashMap<String, String>,
) {
    let (states, phase) = run_states(
        dir,
        preset,
        size,
        &row["pressure_gpa"],
        &row["temperature_k"],
    );
    for (a, state) in ["x", "y", "z"].iter().zip(&states) {
        assert_eq!(
            &row[&format!("state_{a}")],
            state,
            "state along {a} at depth {} km",
            row["depth_km"]
        );
    }
    assert_eq!(
        row["conventional_state"], phase,
        "depth {} km",
        row["depth_km"]
    );
}

#[test]
fn the_earth_profile_of_default_matches_run_at_three_depths() {
    let dir = scratch("earth");
    let stdout = ok(
        &[
            "profile", "--planet", "earth", "--preset", "default", "--size", "12", "--engine",
            "cpu", "--out", "earth",
        ],
        &dir,
    );
    assert!(stdout.contains("profile.png"), "{stdout}");
    let rows = profile_rows(&dir.join("earth/profile.csv"));
    let earth = planet("earth").unwrap();
    assert_eq!(rows.len(), earth.len());
    // The path is the built-in one, surface to centre.
    for (row, point) in rows.iter().zip(&earth) {
        assert_eq!(row["depth_km"].parse::<f64>().unwrap(), point.depth_km);
        assert_eq!(
            row["pressure_gpa"].parse::<f64>().unwrap(),
            point.pressure_gpa
        );
        assert_eq!(
            row["temperature_k"].parse::<f64>().unwrap(),
            point.temperature_k
        );
    }
    // Upper mantle, lower mantle, inner core.
    for depth in ["400", "2000", "5800"] {
        let row = rows.iter().find(|r| r["depth_km"] == depth).unwrap();
        assert_matches_run(&dir, "default", "12", row);
    }
    let img = image::open(dir.join("earth/profile.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(img.dimensions(), (1100, 800));
    assert!(common::distinct_colours(&img) > 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hand_written_path_gives_the_states_of_run() {
    let dir = scratch("csv");
    // Insulating, conducting and superconducting for the default preset (MODEL.md §10), in the
    // gas, the liquid and the solid of its [phases] lines; columns in another order, with an
    // extra one and a comment.
    std::fs::write(
        dir.join("path.csv"),
        "# three layers\ntemperature_k,depth_km,layer,pressure_gpa\n300,0,top,0\n400,10,middle,100\n10,20,bottom,250\n",
    )
    .unwrap();
    ok(
        &[
            "profile", "--csv", "path.csv", "--preset", "default", "--size", "12", "--engine",
            "cpu", "--out", "p",
        ],
        &dir,
    );
    let rows = profile_rows(&dir.join("p/profile.csv"));
    assert_eq!(rows.len(), 3);
    let x: Vec<&str> = rows.iter().map(|r| r["state_x"].as_str()).collect();
    assert_eq!(x, ["insulating", "conducting", "superconducting"]);
    let phases: Vec<&str> = rows
        .iter()
        .map(|r| r["conventional_state"].as_str())
        .collect();
    assert_eq!(phases, ["gas", "liquid", "solid"]);
    assert_eq!(rows[0]["resistivity_x_ohm_m"], "inf");
    assert_eq!(rows[2]["resistivity_x_ohm_m"].parse::<f64>().unwrap(), 0.0);
    assert!(rows[1]["resistivity_x_ohm_m"].parse::<f64>().unwrap() > 0.0);
    for row in &rows {
        assert_matches_run(&dir, "default", "12", row);
    }
    // The conducting layer's resistivity is run's (the same CPU solver, printed to 10 digits).
    ok(
        &[
            "run",
            "--engine",
            "cpu",
            "--size",
            "12",
            "--pressure",
            "100",
            "--temperature",
            "400",
            "--resistance",
            "--out",
            "out",
        ],
        &dir,
    );
    let by_run = report(&dir)["resistivity_ohm_m"]["x"].as_f64().unwrap();
    let by_profile: f64 = rows[1]["resistivity_x_ohm_m"].parse().unwrap();
    assert!(
        (by_run - by_profile).abs() <= 1e-8 * by_run,
        "run {by_run}, profile {by_profile}"
    );
    assert!(dir.join("p/profile.png").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_paths_are_refused_with_the_file_line_and_column() {
    let dir = scratch("bad");
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "missing.csv",
            "depth_km,temperature_k\n0,300\n",
            &["missing.csv", "no column pressure_gpa"],
        ),
        (
            "word.csv",
            "depth_km,pressure_gpa,temperature_k\n0,0,300\n10,abc,300\n",
            &[
                "word.csv",
                "line 3",
                "pressure_gpa 'abc' is not a finite number",
            ],
        ),
        (
            "negative.csv",
            "depth_km,pressure_gpa,temperature_k\n0,-1,300\n",
            &[
                "negative.csv",
                "line 2",
                "pressure_gpa = -1 is negative",
                "≥ 0",
            ],
        ),
        (
            "unsorted.csv",
            "depth_km,pressure_gpa,temperature_k\n0,0,300\n100,3,1600\n50,1.5,1000\n",
            &[
                "unsorted.csv",
                "line 4",
                "depth_km = 50 does not increase",
                "sort",
            ],
        ),
        (
            "short.csv",
            "depth_km,pressure_gpa,temperature_k\n0,0\n",
            &["short.csv", "line 2", "2 fields", "header has 3"],
        ),
        (
            "empty.csv",
            "# nothing\n",
            &["empty.csv", "empty", "depth_km,pressure_gpa,temperature_k"],
        ),
        (
            "hot.csv",
            "depth_km,pressure_gpa,temperature_k\n0,0,300\n10,20000,300\n",
            &["hot.csv", "row 2", "pressure_gpa", "[0, 10000]"],
        ),
    ];
    for (name, text, needles) in cases {
        std::fs::write(dir.join(name), text).unwrap();
        let err = fails(
            &["profile", "--csv", name, "--size", "8", "--engine", "cpu"],
            &dir,
        );
        for needle in needles {
            assert!(err.contains(needle), "{name}: '{needle}' not in: {err}");
        }
    }
    let err = fails(&["profile", "--planet", "mars", "--size", "8"], &dir);
    assert!(err.contains("mars") && err.contains("earth"), "{err}");
    let err = fails(&["profile", "--size", "8"], &dir);
    assert!(err.contains("--planet") && err.contains("--csv"), "{err}");
    assert!(
        !dir.join("tunnelgrid-profile").exists(),
        "no output for refused paths"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_melting_line_is_simon_glatzel_and_bad_phases_are_refused_by_key() {
    let dir = scratch("phases");
    // default: T_m = 150 K·(1 + P/20 GPa)^(1/2), by hand 150·√4 = 300 K at 60 GPa and
    // 150·√(1 + 250/20) = 551.1 K at 250 GPa.
    for (p, t_m) in [("60", "300.0"), ("250", "551.1")] {
        let out = ok(
            &[
                "run",
                "--engine",
                "cpu",
                "--size",
                "8",
                "--pressure",
                p,
                "--out",
                "o",
            ],
            &dir,
        );
        assert!(
            out.contains(&format!("melting line at {t_m} K")),
            "P = {p}: {out}"
        );
    }
    let text = ok(&["preset", "default"], &dir);
    for (from, to, key) in [
        ("a_gpa = 20.0", "a_gpa = 0.0", "phases.melting.a_gpa"),
        ("c = 2.0", "c = -2.0", "phases.melting.c"),
        ("c = 2.0", "c = nan", "phases.melting.c"),
        (
            "latent_heat_kj_per_mol = 15.0",
            "latent_heat_kj_per_mol = -1.0",
            "phases.vapour.latent_heat_kj_per_mol",
        ),
    ] {
        assert!(text.contains(from), "{from} not in the preset");
        std::fs::write(dir.join("bad.toml"), text.replacen(from, to, 1)).unwrap();
        for command in ["run", "sweep", "profile"] {
            let mut args = vec![command, "--config", "bad.toml", "--size", "8"];
            match command {
                "sweep" => args.extend(["--pressure", "0:10:2", "--temperature", "10:20:2"]),
                "profile" => args.extend(["--planet", "earth"]),
                _ => {}
            }
            let err = fails(&args, &dir);
            assert!(
                err.contains(key) && err.contains("bad.toml") && err.contains("> 0"),
                "{command} with {to}: {err}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
