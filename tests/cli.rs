//! The command line end to end: the newcomer's first run, presets, export, and bad input that
//! must give a clear error and a non-zero exit, never a panic.

use std::collections::HashSet;
use std::path::Path;
use tunnelgrid::model::Material;

mod common;

use common::{gpu_available, read_npy, scratch, text, tunnelgrid};

#[test]
fn run_without_arguments_analyses_the_default_preset() {
    let dir = scratch("run");
    let out = tunnelgrid(&["run"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for needle in [
        "default", "sites", "clusters", "axis x", "axis z", "engine", "time",
    ] {
        assert!(
            stdout.contains(needle),
            "summary lacks '{needle}':\n{stdout}"
        );
    }
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("tunnelgrid-out/report.json")).unwrap(),
    )
    .unwrap();
    for key in [
        "sites",
        "engine",
        "tunnel_bond_fraction",
        "sc_bond_fraction",
        "clusters",
        "largest_cluster_fraction",
        "mean_cluster_size",
        "spans",
        "states",
        "elapsed_s",
    ] {
        assert!(report.get(key).is_some(), "report.json lacks {key}");
    }
    for axis in ["x", "y", "z"] {
        assert!(report["spans"][axis].is_boolean());
        let state = report["states"][axis].as_str().unwrap();
        assert!(["insulating", "conducting", "superconducting"].contains(&state));
    }
    assert_eq!(report["sites"], 64 * 64 * 64);
}

#[test]
fn presets_are_listed_and_printed_as_loadable_toml() {
    let dir = scratch("presets");
    let out = tunnelgrid(&["presets"], &dir);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    for name in [
        "default",
        "layered",
        "alloy",
        "bernoulli-site",
        "bernoulli-bond",
    ] {
        assert!(listing.contains(name), "{listing}");
        let shown = tunnelgrid(&["preset", name], &dir);
        assert!(shown.status.success());
        let material = Material::from_toml_str(&text(&shown.stdout)).unwrap();
        assert_eq!(material.name, name);
    }
    // An edited copy runs through --config.
    let edited = text(&tunnelgrid(&["preset", "bernoulli-bond"], &dir).stdout)
        .replace("p = 0.2488126", "p = 0.9");
    std::fs::write(dir.join("mine.toml"), edited).unwrap();
    let out = tunnelgrid(
        &["run", "--config", "mine.toml", "--size", "12", "--out", "o"],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("p = 0.9"));
}

#[test]
fn exported_labels_are_a_partition_that_matches_the_report() {
    let dir = scratch("export");
    let common = [
        "--preset",
        "bernoulli-site",
        "--cells",
        "10",
        "12",
        "14",
        "--p",
        "0.4",
        "--seed",
        "3",
    ];
    let mut args = vec!["export"];
    args.extend(common);
    args.extend(["--field", "labels", "--out", "labels.npy"]);
    let out = tunnelgrid(&args, &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (shape, labels) = read_npy::<u32>(&dir.join("labels.npy"));
    assert_eq!(shape, vec![14, 12, 10]);

    let mut run = vec!["run"];
    run.extend(common);
    run.extend(["--out", "r"]);
    assert!(tunnelgrid(&run, &dir).status.success());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("r/report.json")).unwrap()).unwrap();
    let distinct: HashSet<u32> = labels.iter().copied().filter(|&l| l != 0).collect();
    let expected = report["clusters"].as_u64().unwrap() + report["singletons"].as_u64().unwrap();
    assert_eq!(distinct.len() as u64, expected);
    let present = labels.iter().filter(|&&l| l != 0).count() as u64;
    assert_eq!(present, report["present_sites"].as_u64().unwrap());

    // Multi-site lattices get a basis axis.
    let out = tunnelgrid(&["export", "--preset", "default", "--config", "x"], &dir);
    assert!(!out.status.success(), "--preset and --config conflict");
    std::fs::write(
        dir.join("fcc.toml"),
        text(&tunnelgrid(&["preset", "default"], &dir).stdout)
            .replace("kind = \"sc\"", "kind = \"fcc\""),
    )
    .unwrap();
    let out = tunnelgrid(
        &[
            "export", "--config", "fcc.toml", "--size", "3", "--field", "bonds", "--out", "b.npy",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(read_npy::<u32>(&dir.join("b.npy")).0, vec![3, 3, 3, 4]);
}

/// Runs with `args`, expects failure with a message containing every `needles` entry.
fn expect_error(dir: &Path, args: &[&str], needles: &[&str]) {
    let out = tunnelgrid(args, dir);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: error lacks '{needle}':\n{stderr}"
        );
    }
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = scratch("errors");
    expect_error(&dir, &["run", "--size", "-5"], &["--size"]);
    expect_error(
        &dir,
        &["run", "--size", "0"],
        &["--size 0", "lattice.cells[0]", "[1, 1048576]"],
    );
    expect_error(
        &dir,
        &["run", "--pressure", "NaN"],
        &["pressure_gpa", "NaN", "[0, 10000]"],
    );
    expect_error(&dir, &["run", "--temperature", "-3"], &["temperature_k"]);
    expect_error(
        &dir,
        &["run", "--preset", "bernoulli-site", "--p", "1.5"],
        &["bernoulli.p", "[0, 1]"],
    );
    expect_error(
        &dir,
        &["run", "--p", "0.3"],
        &["--p applies to the Bernoulli modes"],
    );
    expect_error(
        &dir,
        &["run", "--preset", "nope"],
        &["unknown preset 'nope'"],
    );
    expect_error(
        &dir,
        &["run", "--size", "2000"],
        &["too large", "u32 site index"],
    );
    expect_error(
        &dir,
        &["run", "--engine", "cpu", "--size", "1600"],
        &["too large", "GiB", "memory available"],
    );
    expect_error(
        &dir,
        &["export", "--field", "labels", "--out", "x.txt"],
        &[".npy"],
    );

    let default = text(&tunnelgrid(&["preset", "default"], &dir).stdout);
    let write = |name: &str, from: &str, to: &str| {
        assert!(default.contains(from), "{from}");
        std::fs::write(dir.join(name), default.replace(from, to)).unwrap();
    };
    write("lattice.toml", "kind = \"sc\"", "kind = \"hexagonal\"");
    expect_error(
        &dir,
        &["run", "--config", "lattice.toml"],
        &["hexagonal", "sc"],
    );
    write("vacancy.toml", "vacancy = 0.0", "vacancy = 1.2");
    expect_error(
        &dir,
        &["run", "--config", "vacancy.toml"],
        &["lattice.vacancy", "[0, 1]"],
    );
    write(
        "fractions.toml",
        "pattern = \"uniform\"\ncount = 1",
        "pattern = \"random\"\ncount = 2\nfractions = [1.5, -0.5]",
    );
    expect_error(
        &dir,
        &["run", "--config", "fractions.toml"],
        &["species.fractions[0]", "[0, 1]"],
    );
    write(
        "unknown.toml",
        "vacancy = 0.0",
        "vacancy = 0.0\nvacancies = 0.1",
    );
    expect_error(&dir, &["run", "--config", "unknown.toml"], &["vacancies"]);
    write("nan.toml", "a0 = 3.0 ", "a0 = nan ");
    expect_error(
        &dir,
        &["run", "--config", "nan.toml"],
        &["lattice.a0", "NaN"],
    );
    write(
        "onset.toml",
        "sc_onset = 5.754602676005731",
        "sc_onset = 0.5",
    );
    expect_error(
        &dir,
        &["run", "--config", "onset.toml"],
        &["overlap.sc_onset"],
    );
    expect_error(
        &dir,
        &["run", "--config", "missing.toml"],
        &["missing.toml"],
    );
}

#[test]
fn gpu_and_cpu_engines_report_the_same_from_the_command_line() {
    let dir = scratch("gpu");
    if !gpu_available(&dir) {
        return;
    }
    let common = [
        "run",
        "--preset",
        "alloy",
        "--cells",
        "14",
        "12",
        "10",
        "--temperature",
        "200",
    ];
    let report = |engine: &[&str], out: &str| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend(engine);
        args.extend(["--out", out]);
        let run = tunnelgrid(&args, &dir);
        assert!(run.status.success(), "{}", text(&run.stderr));
        let mut r: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(out).join("report.json")).unwrap(),
        )
        .unwrap();
        let engine_name = r["engine"].as_str().unwrap().to_string();
        for key in ["engine", "timings", "elapsed_s", "mean_gap_ev"] {
            r.as_object_mut().unwrap().remove(key);
        }
        (r, engine_name)
    };
    let (gpu, gpu_name) = report(&["--engine", "gpu", "--slab-layers", "3"], "g");
    let (cpu, cpu_name) = report(&["--engine", "cpu"], "c");
    assert!(gpu_name.starts_with("gpu"), "{gpu_name}");
    assert!(cpu_name.starts_with("cpu"), "{cpu_name}");
    assert_eq!(gpu, cpu);

    // Exported labels agree too.
    for engine in ["gpu", "cpu"] {
        let out = tunnelgrid(
            &[
                "export",
                "--preset",
                "bernoulli-site",
                "--size",
                "20",
                "--p",
                "0.32",
                "--field",
                "labels",
                "--engine",
                engine,
                "--out",
                &format!("{engine}.npy"),
            ],
            &dir,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert_eq!(
        read_npy::<u32>(&dir.join("gpu.npy")),
        read_npy::<u32>(&dir.join("cpu.npy"))
    );
}

#[test]
fn run_resistance_on_the_gpu_matches_the_cpu() {
    let dir = scratch("gpu-resistance");
    if !gpu_available(&dir) {
        return;
    }
    // Conducting default preset (normal tunnels and finite superconducting clusters); on the
    // GPU also with the solver's vectors in slabs of 4 z layers.
    let report = |engine: &str, slab_layers: Option<&str>| {
        let out = format!("r-{engine}-{}", slab_layers.unwrap_or("all"));
        let mut args = vec![
            "run",
            "--size",
            "14",
            "--pressure",
            "100",
            "--temperature",
            "10",
            "--resistance",
            "--current-map",
            "--engine",
            engine,
            "--out",
            &out,
        ];
        if let Some(layers) = slab_layers {
            args.extend(["--slab-layers", layers]);
        }
        let run = tunnelgrid(&args, &dir);
        assert!(run.status.success(), "{}", text(&run.stderr));
        let stdout = text(&run.stdout);
        let r: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(&out).join("report.json")).unwrap(),
        )
        .unwrap();
        (r, stdout)
    };
    let (cpu, _) = report("cpu", None);
    assert!(cpu.get("solver_refinements").is_none() && cpu.get("solver_slabs").is_none());
    for slab_layers in [None, Some("4")] {
        let (gpu, gpu_text) = report("gpu", slab_layers);
        assert!(gpu_text.contains("f64 refinements"), "{gpu_text}");
        assert!(gpu.get("solver_refinements").is_some());
        // 14 layers: one slab, or four of at most 4 layers.
        let slabs = if slab_layers.is_some() { 4 } else { 1 };
        assert_eq!(gpu["solver_slabs"]["z"].as_u64(), Some(slabs), "{gpu_text}");
        assert!(
            gpu_text.contains(&format!("in {slabs} z slab(s)")),
            "{gpu_text}"
        );
        assert_gpu_report_matches(&gpu, &cpu);
        // `--current-map` on the GPU's solver: the CPU's map to what the GPU's 1e-6 residual
        // allows locally (the crate's tests compare the maps exactly at a 1e-10 residual).
        let out = format!("r-gpu-{}", slab_layers.unwrap_or("all"));
        for axis in ["x", "y", "z"] {
            let file = format!("current_{axis}.npy");
            let (_, cpu_map) = read_npy::<f32>(&dir.join("r-cpu-all").join(&file));
            let (_, gpu_map) = read_npy::<f32>(&dir.join(&out).join(&file));
            let largest = cpu_map.iter().fold(0.0f32, |m, &c| m.max(c));
            assert!(largest > 0.0 && cpu_map.len() == gpu_map.len());
            for (c, g) in cpu_map.iter().zip(&gpu_map) {
                assert!((c - g).abs() <= 1e-3 * largest, "{file}: {g} vs {c}");
            }
        }
    }
}

/// The GPU's resistances and resistivities equal the CPU's to 1e-6, at a residual ≤ 1e-6.
fn assert_gpu_report_matches(gpu: &serde_json::Value, cpu: &serde_json::Value) {
    for axis in ["x", "y", "z"] {
        for key in ["resistance_ohm", "resistivity_ohm_m"] {
            let g = gpu[key][axis].as_f64().unwrap();
            let c = cpu[key][axis].as_f64().unwrap();
            assert!(
                g > 0.0 && ((g - c) / c).abs() <= 1e-6,
                "{key}.{axis}: {g} vs {c}"
            );
        }
        let residual = gpu["solver_residual"][axis].as_f64().unwrap();
        assert!(residual <= 1e-6, "{residual}");
        assert!(gpu["solver_iterations"][axis].as_u64().unwrap() > 0);
    }
}

#[test]
fn run_reports_resistance_when_asked() {
    let dir = scratch("resistance");
    let run = |p: &str, t: &str, out: &str| {
        let r = tunnelgrid(
            &[
                "run",
                "--engine",
                "cpu",
                "--size",
                "12",
                "--pressure",
                p,
                "--temperature",
                t,
                "--resistance",
                "--out",
                out,
            ],
            &dir,
        );
        assert!(r.status.success(), "{}", text(&r.stderr));
        assert!(text(&r.stdout).contains("transport x"));
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(out).join("report.json")).unwrap(),
        )
        .unwrap();
        report
    };
    let conducting = run("60", "300", "c");
    assert!(conducting["resistance_ohm"]["x"].as_f64().unwrap() > 0.0);
    assert!(conducting["resistivity_ohm_m"]["x"].as_f64().unwrap() > 0.0);
    assert!(conducting["critical_current_a"]["x"].is_null());
    let superconducting = run("250", "10", "s");
    assert_eq!(superconducting["resistance_ohm"]["y"].as_f64(), Some(0.0));
    assert!(superconducting["critical_current_a"]["y"].as_f64().unwrap() > 0.0);
    let insulating = run("1", "400", "i");
    assert!(insulating["resistance_ohm"]["z"].is_null());
    // Without --resistance the keys are absent.
    let plain = tunnelgrid(
        &["run", "--engine", "cpu", "--size", "8", "--out", "p"],
        &dir,
    );
    assert!(plain.status.success());
    assert!(!std::fs::read_to_string(dir.join("p/report.json"))
        .unwrap()
        .contains("resistance_ohm"));
}

#[test]
fn current_and_min_cut_fields_are_consistent_with_the_report() {
    let dir = scratch("current");
    let model = ["--preset", "default", "--cells", "10", "9", "8"];
    // Conducting: the currents out of the x = 0 face add up to the total current 1/R at 1 V.
    let conducting = ["--pressure", "60", "--temperature", "300"];
    let mut args = vec!["export"];
    args.extend(model);
    args.extend(conducting);
    args.extend(["--field", "current", "--axis", "x", "--out", "current.npy"]);
    let out = tunnelgrid(&args, &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(dir.join("current.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), &[8, 9, 10]);
    let current: Vec<f32> = npy.into_vec().unwrap();
    assert!(current.iter().all(|c| c.is_finite() && *c >= 0.0));
    let face: f64 = current.iter().step_by(10).map(|&c| c as f64).sum();
    let mut run = vec!["run", "--engine", "cpu"];
    run.extend(model);
    run.extend(conducting);
    run.extend(["--resistance", "--current-map", "--out", "r"]);
    assert!(tunnelgrid(&run, &dir).status.success());
    // `run --current-map` stores the same field as `export --field current`, byte for byte.
    assert_eq!(
        std::fs::read(dir.join("r/current_x.npy")).unwrap(),
        bytes,
        "run --current-map = export --field current"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("r/report.json")).unwrap()).unwrap();
    let r = report["resistance_ohm"]["x"].as_f64().unwrap();
    assert!(
        (face * r - 1.0).abs() < 1e-5,
        "Σ face current {face} A, 1/R = {} A",
        1.0 / r
    );

    // Superconducting: the current is refused, and the min-cut bonds are superconducting bonds.
    let sc = ["--pressure", "250", "--temperature", "10"];
    let mut args = vec!["export"];
    args.extend(model);
    args.extend(sc);
    args.extend(["--field", "current", "--out", "nope.npy"]);
    let refused = tunnelgrid(&args, &dir);
    assert!(
        !refused.status.success() && text(&refused.stderr).contains("superconducts along axis 0")
    );
    let mut run = vec!["run", "--engine", "cpu", "--current-map", "--out", "sc"];
    run.extend(model);
    run.extend(sc);
    assert!(tunnelgrid(&run, &dir).status.success());
    assert!(
        !dir.join("sc/current_x.npy").exists(),
        "no current map along a superconducting axis"
    );
    for (field, file) in [("min-cut", "cut.npy"), ("bonds", "bonds.npy")] {
        let mut args = vec!["export"];
        args.extend(model);
        args.extend(sc);
        args.extend(["--field", field, "--axis", "y", "--out", file]);
        assert!(tunnelgrid(&args, &dir).status.success());
    }
    let cut: Vec<u8> = npyz::NpyFile::new(&std::fs::read(dir.join("cut.npy")).unwrap()[..])
        .unwrap()
        .into_vec()
        .unwrap();
    let (_, masks) = read_npy::<u32>(&dir.join("bonds.npy"));
    let cut_bonds: u32 = cut.iter().map(|c| c.count_ones()).sum();
    assert!(cut_bonds > 0);
    for (c, m) in cut.iter().zip(&masks) {
        for k in 0..3 {
            if c >> k & 1 == 1 {
                assert!(m >> (2 * k + 1) & 1 == 1, "a cut bond superconducts");
            }
        }
    }
}

#[test]
fn both_solvers_give_the_same_resistance_and_the_report_says_which_ran() {
    let dir = scratch("solvers");
    let model = [
        "--preset",
        "bernoulli-bond",
        "--p",
        "0.6",
        "--size",
        "24",
        "--engine",
        "cpu",
    ];
    let mut reports = Vec::new();
    for solver in ["amg", "jacobi"] {
        let out = format!("out-{solver}");
        let args = [
            &["run"][..],
            &model,
            &["--resistance", "--solver", solver, "--out", &out],
        ]
        .concat();
        let summary = text(&tunnelgrid(&args, &dir).stdout);
        assert!(
            summary.contains(&format!("CG iterations, {solver}")),
            "{summary}"
        );
        let report: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(&out).join("report.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(report["solver"], solver);
        reports.push(report);
    }
    let (amg, jacobi) = (&reports[0], &reports[1]);
    for axis in ["x", "y", "z"] {
        let (a, j) = (
            amg["resistance_ohm"][axis].as_f64().unwrap(),
            jacobi["resistance_ohm"][axis].as_f64().unwrap(),
        );
        assert!((a - j).abs() <= 1e-9 * j, "{axis}: {a} vs {j}");
        let (ia, ij) = (
            amg["solver_iterations"][axis].as_u64().unwrap(),
            jacobi["solver_iterations"][axis].as_u64().unwrap(),
        );
        assert!(
            ia * 5 < ij,
            "{axis}: multigrid {ia} iterations, Jacobi {ij}"
        );
        assert!(amg["solver_setup_s"][axis].as_f64().unwrap() > 0.0);
        assert_eq!(jacobi["solver_setup_s"][axis].as_f64().unwrap(), 0.0);
    }
    let err = text(
        &tunnelgrid(
            &[&["run"][..], &model, &["--resistance", "--solver", "lu"]].concat(),
            &dir,
        )
        .stderr,
    );
    assert!(err.contains("--solver") && err.contains("amg"), "{err}");
}
