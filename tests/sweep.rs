//! `tunnelgrid sweep` and `merge`: the presets' phase diagrams have the theory's topology, the
//! pictures show the expected colours at known points, a killed and resumed sweep equals an
//! uninterrupted one byte for byte, merged shards equal the unsharded sweep, and bad flags get
//! clear errors.

mod common;

use common::{distinct_colours, gpu_available, pixel, scratch, text, tunnelgrid};
use std::path::Path;
use tunnelgrid::model::{ConventionalState, State};
use tunnelgrid::render::colormap::{BACKGROUND, CONDUCTING, INSULATING, SUPERCONDUCTING};
use tunnelgrid::render::heatmap::draw_heatmap;
use tunnelgrid::render::{faded, PanelPixels, Rgb};
use tunnelgrid::sweep::{read_sweep, sweep_figures, SweepRow};

fn sweep_ok(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["sweep", "--engine", "cpu"];
    all.extend_from_slice(args);
    let out = tunnelgrid(&all, dir);
    assert!(
        out.status.success(),
        "sweep {args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn rows(path: &Path) -> Vec<SweepRow> {
    read_sweep(path, false).unwrap().rows
}

fn row_at(rows: &[SweepRow], p: f64, t: f64) -> &SweepRow {
    rows.iter()
        .find(|r| r.pressure_gpa == p && r.temperature_k == t)
        .unwrap_or_else(|| panic!("no row at P = {p}, T = {t}"))
}

/// The panels' pixel geometry of a sweep's pictures, from the same figures the CLI drew.
fn geometry(csv: &Path) -> (Vec<PanelPixels>, Option<Vec<PanelPixels>>) {
    let figures = sweep_figures(&read_sweep(csv, false).unwrap()).unwrap();
    let (map, size) = &figures.phase_diagram;
    let phase = draw_heatmap(map, *size).unwrap().1;
    let rho = figures
        .resistivity
        .as_ref()
        .map(|(map, size)| draw_heatmap(map, *size).unwrap().1);
    (phase, rho)
}

/// The phase diagram of a sweep with its cells only (lines and labels taken off), so a
/// region's colour can be read at any point.
fn bare_phase_diagram(csv: &Path) -> (image::RgbImage, Vec<PanelPixels>) {
    let figures = sweep_figures(&read_sweep(csv, false).unwrap()).unwrap();
    let (mut bare, size) = figures.phase_diagram;
    bare.overlays.clear();
    bare.annotations.clear();
    let (rgb, geom) = draw_heatmap(&bare, size).unwrap();
    (
        image::RgbImage::from_raw(size.0, size.1, rgb).unwrap(),
        geom,
    )
}

/// First pressure of a temperature row whose state along x is at least `state`.
fn onset(rows: &[SweepRow], t: f64, state: State) -> f64 {
    let mut at: Vec<&SweepRow> = rows.iter().filter(|r| r.temperature_k == t).collect();
    at.sort_by(|a, b| a.pressure_gpa.total_cmp(&b.pressure_gpa));
    at.iter()
        .find(|r| r.states[0].unwrap() as u8 >= state as u8)
        .map_or(f64::INFINITY, |r| r.pressure_gpa)
}

#[test]
fn default_preset_diagram_has_the_theorys_three_regions() {
    let dir = scratch("default");
    let out = dir.join("d");
    let stdout = sweep_ok(
        &dir,
        &[
            "--preset",
            "default",
            "--size",
            "16",
            "--pressure",
            "0:300:13",
            "--temperature",
            "10:400:3",
            "--axis",
            "x",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    for name in [
        "sweep.csv",
        "phase_diagram.png",
        "resistivity.png",
        "tunnel_fraction.png",
        "largest_cluster.png",
        "resistivity_vs_pressure.png",
    ] {
        assert!(out.join(name).exists(), "{name} missing; stdout:\n{stdout}");
    }
    let csv = out.join("sweep.csv");
    let rows = rows(&csv);
    assert_eq!(rows.len(), 39);
    let x = |p, t| row_at(&rows, p, t).states[0].unwrap();
    // Insulating at low P (all T), superconducting at high P and low T, conducting between.
    assert_eq!(x(0.0, 400.0), State::Insulating);
    assert_eq!(x(0.0, 10.0), State::Insulating);
    assert_eq!(x(300.0, 10.0), State::Superconducting);
    assert_eq!(x(100.0, 400.0), State::Conducting);
    assert_eq!(x(100.0, 10.0), State::Conducting);
    // Cooling acts like pressure: both boundaries move to higher P as T rises.
    assert!(onset(&rows, 10.0, State::Conducting) <= onset(&rows, 400.0, State::Conducting));
    assert!(
        onset(&rows, 10.0, State::Superconducting) < onset(&rows, 400.0, State::Superconducting)
    );
    // Resistivity: ∞ insulating, 0 superconducting, finite and falling with P in between.
    let rho = |p, t| row_at(&rows, p, t).resistivity_ohm_m[0].unwrap();
    assert!(rho(0.0, 400.0).is_infinite());
    assert_eq!(rho(300.0, 10.0), 0.0);
    assert!(rho(50.0, 400.0).is_finite() && rho(50.0, 400.0) > rho(100.0, 400.0));

    // The conventional states of the preset's [phases] lines: the vapour line puts P = 0 in the
    // gas, T_m(100 GPa) = 150·√6 ≈ 367 K puts (100 GPa, 400 K) in the liquid, the rest is solid.
    let conventional = |p, t| row_at(&rows, p, t).conventional.unwrap();
    assert_eq!(conventional(0.0, 10.0), ConventionalState::Gas);
    assert_eq!(conventional(100.0, 400.0), ConventionalState::Liquid);
    assert_eq!(conventional(100.0, 205.0), ConventionalState::Solid);
    assert_eq!(conventional(300.0, 10.0), ConventionalState::Solid);

    // The pictures: the PNG is the figure, sizes, several colours.
    let figures = sweep_figures(&read_sweep(&csv, false).unwrap()).unwrap();
    let (phase_geom, rho_geom) = geometry(&csv);
    let img = image::open(out.join("phase_diagram.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(img.dimensions(), (1000, 760));
    assert_eq!(
        img.as_raw(),
        &draw_heatmap(&figures.phase_diagram.0, figures.phase_diagram.1)
            .unwrap()
            .0
    );
    assert!(distinct_colours(&img) > 10);
    // The region colours at known points, on the cells alone (labels and lines taken off):
    // solid points in the state's colour, liquid and gas ones faded and hatched in it.
    let (cells, geom) = bare_phase_diagram(&csv);
    let g = geom[0];
    assert_eq!(pixel(&cells, g.pixel(300.0, 10.0)), SUPERCONDUCTING);
    assert_eq!(pixel(&cells, g.pixel(100.0, 205.0)), CONDUCTING);
    let cell_colours = |p: f64, t: f64| {
        // Every pixel of the cell around (p, t), a few pixels in from its edges.
        let (a, b) = (g.pixel(p - 10.0, t - 60.0), g.pixel(p + 10.0, t + 60.0));
        let mut colours = std::collections::HashSet::new();
        for x in a.0.min(b.0)..=a.0.max(b.0) {
            for y in a.1.min(b.1)..=a.1.max(b.1) {
                colours.insert(pixel(&cells, (x, y)));
            }
        }
        colours
    };
    for (p, t, colour) in [(0.0, 400.0, INSULATING), (100.0, 400.0, CONDUCTING)] {
        let seen = cell_colours(p, t);
        assert!(
            seen.contains(&faded(colour)) && seen.contains(&colour),
            "({p}, {t}) is not hatched in {colour:?}: {seen:?}"
        );
    }
    assert_eq!(
        cell_colours(300.0, 10.0).len(),
        1,
        "solid cells are not hatched"
    );
    // The lines and labels: the melting line runs through (60 GPa, 300 K) in its colour, and
    // each conventional state is named once.
    let map = &figures.phase_diagram.0;
    let names: Vec<&str> = map.annotations.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(names, ["solid", "liquid", "gas"]);
    assert!(map.overlays.iter().any(|o| o.label == "melting line"));
    assert!(map.overlays.iter().any(|o| o.label == "vapour line"));
    let melting = map.overlays[0].colour;
    let (x, y) = phase_geom[0].pixel(60.0, 300.0);
    let near_line = (x - 12..=x + 12)
        .flat_map(|x| (y - 12..=y + 12).map(move |y| (x, y)))
        .any(|at| pixel(&img, at) == melting);
    assert!(near_line, "no melting line near (60 GPa, 300 K)");
    let rimg = image::open(out.join("resistivity.png")).unwrap().to_rgb8();
    let g = rho_geom.unwrap()[0];
    assert_eq!(pixel(&rimg, g.pixel(0.0, 400.0)), INSULATING);
    assert_eq!(pixel(&rimg, g.pixel(300.0, 10.0)), SUPERCONDUCTING);
    let normal = pixel(&rimg, g.pixel(50.0, 400.0));
    for fixed in [INSULATING, SUPERCONDUCTING, BACKGROUND] {
        assert!(
            normal.distance2(fixed) > 1000,
            "conducting cell drawn as {normal:?}"
        );
    }
    // Higher resistivity is brighter on magma: the 50 GPa cell outshines the 100 GPa cell.
    let luma = |c: Rgb| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
    assert!(luma(normal) > luma(pixel(&rimg, g.pixel(100.0, 400.0))));
    for name in ["tunnel_fraction.png", "largest_cluster.png"] {
        let img = image::open(out.join(name)).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (900, 620));
        assert!(distinct_colours(&img) > 10, "{name} looks uniform");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn layered_preset_superconducts_in_plane_but_not_along_z() {
    let dir = scratch("layered");
    let out = dir.join("l");
    sweep_ok(
        &dir,
        &[
            "--preset",
            "layered",
            "--size",
            "16",
            "--pressure",
            "0:300:7",
            "--temperature",
            "10:200:2",
            "--no-resistance",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let csv = out.join("sweep.csv");
    let rows = rows(&csv);
    let plane = rows
        .iter()
        .find(|r| {
            r.states[0] == Some(State::Superconducting)
                && r.states[1] == Some(State::Superconducting)
                && r.states[2] != Some(State::Superconducting)
        })
        .expect("a point superconducting in x and y but not in z");
    // Per-axis panels, because the states differ by axis.
    let (geom, rho) = geometry(&csv);
    assert!(rho.is_none(), "--no-resistance draws no resistivity");
    assert!(!out.join("resistivity.png").exists());
    assert_eq!(geom.len(), 3);
    // Read the cells without the melting line and the region labels over them.
    let (img, geom) = bare_phase_diagram(&csv);
    assert_eq!(plane.conventional, Some(ConventionalState::Solid));
    let (p, t) = (plane.pressure_gpa, plane.temperature_k);
    assert_eq!(pixel(&img, geom[0].pixel(p, t)), SUPERCONDUCTING);
    assert_eq!(pixel(&img, geom[1].pixel(p, t)), SUPERCONDUCTING);
    assert_eq!(
        pixel(&img, geom[2].pixel(p, t)),
        plane.states[2]
            .map(|s| match s {
                State::Insulating => INSULATING,
                _ => CONDUCTING,
            })
            .unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const RESUME_ARGS: [&str; 12] = [
    "--preset",
    "default",
    "--size",
    "24",
    "--seeds",
    "2",
    "--pressure",
    "0:300:10",
    "--temperature",
    "10:400:4",
    "--axis",
    "all",
];

fn with_out<'a>(args: &[&'a str], out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend_from_slice(&["--out", out]);
    v.extend_from_slice(extra);
    v
}

#[test]
fn a_killed_and_resumed_sweep_equals_an_uninterrupted_one() {
    let dir = scratch("resume");
    let whole = dir.join("whole");
    sweep_ok(&dir, &with_out(&RESUME_ARGS, whole.to_str().unwrap(), &[]));
    let expected = std::fs::read(whole.join("sweep.csv")).unwrap();
    let lines: Vec<&[u8]> = expected.split_inclusive(|&b| b == b'\n').collect();
    assert_eq!(lines.len(), 2 + 40);

    // A sweep cut after k rows, with a torn half row (what a kill during a write leaves).
    for k in [0usize, 7, 39] {
        let cut = dir.join(format!("cut{k}"));
        std::fs::create_dir_all(&cut).unwrap();
        let mut partial: Vec<u8> = lines[..2 + k].concat();
        let torn = lines[2 + k];
        partial.extend_from_slice(&torn[..torn.len() / 2]);
        std::fs::write(cut.join("sweep.csv"), &partial).unwrap();
        sweep_ok(
            &dir,
            &with_out(&RESUME_ARGS, cut.to_str().unwrap(), &["--resume"]),
        );
        assert_eq!(
            std::fs::read(cut.join("sweep.csv")).unwrap(),
            expected,
            "resumed after {k} rows"
        );
    }

    // A real kill: SIGKILL the process once some rows are on disk, then resume.
    let killed = dir.join("killed");
    let mut args = vec!["sweep", "--engine", "cpu"];
    args.extend(with_out(&RESUME_ARGS, killed.to_str().unwrap(), &[]));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tunnelgrid"))
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let csv = killed.join("sweep.csv");
    let start = std::time::Instant::now();
    loop {
        let rows = std::fs::read(&csv)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        if rows >= 2 + 3 || start.elapsed().as_secs() > 120 {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break; // finished before we could kill it: the resume below is then a no-op
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    sweep_ok(
        &dir,
        &with_out(&RESUME_ARGS, killed.to_str().unwrap(), &["--resume"]),
    );
    assert_eq!(std::fs::read(&csv).unwrap(), expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn merged_shards_equal_the_unsharded_sweep() {
    let dir = scratch("shards");
    let args = [
        "--preset",
        "default",
        "--size",
        "16",
        "--pressure",
        "0:300:5",
        "--temperature",
        "10:400:3",
    ];
    let whole = dir.join("whole");
    sweep_ok(&dir, &with_out(&args, whole.to_str().unwrap(), &[]));
    let shards = dir.join("shards");
    for i in 1..=4 {
        let spec = format!("{i}/4");
        let out = sweep_ok(
            &dir,
            &with_out(&args, shards.to_str().unwrap(), &["--shard", &spec]),
        );
        assert!(out.contains("merge"), "{out}");
    }
    assert!(!shards.join("sweep.csv").exists());
    assert!(!shards.join("phase_diagram.png").exists());

    // A missing shard is refused by name.
    let lonely = dir.join("lonely");
    std::fs::create_dir_all(&lonely).unwrap();
    std::fs::copy(
        shards.join("sweep-shard-1-of-4.csv"),
        lonely.join("sweep-shard-1-of-4.csv"),
    )
    .unwrap();
    let merged_bad = dir.join("bad");
    let out = tunnelgrid(
        &[
            "merge",
            "--out",
            merged_bad.to_str().unwrap(),
            lonely.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("missing"),
        "{}",
        text(&out.stderr)
    );

    let merged = dir.join("merged");
    let out = tunnelgrid(
        &[
            "merge",
            "--out",
            merged.to_str().unwrap(),
            shards.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(merged.join("sweep.csv")).unwrap(),
        std::fs::read(whole.join("sweep.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(merged.join("phase_diagram.png")).unwrap(),
        std::fs::read(whole.join("phase_diagram.png")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_sweep_flags_get_clear_errors() {
    let dir = scratch("errors");
    let expect = |args: &[&str], needles: &[&str]| {
        let mut all = vec!["sweep", "--engine", "cpu", "--size", "8"];
        all.extend_from_slice(args);
        let out = tunnelgrid(&all, &dir);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = text(&out.stderr);
        for n in needles {
            assert!(err.contains(n), "{args:?}: '{n}' not in: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    };
    let t = ["--temperature", "10:400:2"];
    expect(
        &["--pressure", "0:300", t[0], t[1]],
        &["--pressure", "START:STOP:COUNT"],
    );
    expect(
        &["--pressure", "0:300:0", t[0], t[1]],
        &["--pressure", "COUNT", "1..=4096"],
    );
    expect(
        &["--pressure", "a:300:3", t[0], t[1]],
        &["--pressure", "START"],
    );
    expect(
        &["--pressure", "0:300:3", "--temperature", "-5:10:2"],
        &["temperature"],
    );
    expect(
        &["--pressure", "0:300:3", t[0], t[1], "--shard", "5/4"],
        &["--shard", "1 ≤ I ≤ N"],
    );
    expect(
        &["--pressure", "0:300:3", t[0], t[1], "--seeds", "0"],
        &["--seeds"],
    );
    expect(
        &[
            "--preset",
            "bernoulli-site",
            "--pressure",
            "0:300:3",
            t[0],
            t[1],
        ],
        &["bernoulli-site"],
    );
    // An existing sweep is neither overwritten nor resumed with another grid.
    let out = dir.join("o");
    let o = out.to_str().unwrap();
    let base = ["--pressure", "0:300:3", t[0], t[1], "--out", o];
    let first = tunnelgrid(
        &[&["sweep", "--engine", "cpu", "--size", "8"][..], &base].concat(),
        &dir,
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    expect(&base, &["already exists", "--resume"]);
    expect(
        &["--pressure", "0:200:3", t[0], t[1], "--out", o, "--resume"],
        &["--resume", "different sweep"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_gpu_sweep_solves_the_same_resistivity_as_the_cpu() {
    let dir = scratch("gpu");
    if !gpu_available(&dir) {
        return;
    }
    let args = [
        "--preset",
        "default",
        "--size",
        "12",
        "--pressure",
        "20:100:3",
        "--temperature",
        "10:300:2",
        "--axis",
        "x",
    ];
    let cpu = dir.join("cpu");
    sweep_ok(&dir, &with_out(&args, cpu.to_str().unwrap(), &[]));
    let gpu = dir.join("gpu");
    let mut all = vec!["sweep", "--engine", "gpu"];
    all.extend(with_out(&args, gpu.to_str().unwrap(), &[]));
    let out = tunnelgrid(&all, &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (cpu, gpu) = (rows(&cpu.join("sweep.csv")), rows(&gpu.join("sweep.csv")));
    assert_eq!(cpu.len(), 6);
    let mut solved = 0;
    for (c, g) in cpu.iter().zip(&gpu) {
        assert_eq!(c.states, g.states, "P = {} GPa", c.pressure_gpa);
        match (c.resistivity_ohm_m[0], g.resistivity_ohm_m[0]) {
            (Some(a), Some(b)) if a.is_finite() && a > 0.0 => {
                // The GPU solver stops at a relative residual of 1e-6 (MODEL.md §7).
                assert!((a - b).abs() <= 1e-5 * a, "ρ_x cpu {a} gpu {b}");
                solved += 1;
            }
            (a, b) => assert_eq!(a, b),
        }
    }
    assert!(solved >= 3, "the grid has conducting points ({solved})");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sweeps_written_before_the_conventional_state_column_are_refused_clearly() {
    let dir = scratch("v1");
    let args = [
        "--preset",
        "default",
        "--size",
        "8",
        "--pressure",
        "0:300:3",
        "--temperature",
        "10:400:2",
    ];
    let new = dir.join("new");
    sweep_ok(
        &dir,
        &with_out(&args, new.to_str().unwrap(), &["--shard", "1/2"]),
    );
    // The same rows as the previous version wrote them: v1, without the last column.
    let written = std::fs::read_to_string(new.join("sweep-shard-1-of-2.csv")).unwrap();
    let v1: String = written
        .lines()
        .enumerate()
        .map(|(i, line)| match i {
            0 => line.replace(" v2 ", " v1 ") + "\n",
            _ => line[..line.rfind(',').unwrap()].to_string() + "\n",
        })
        .collect();
    assert!(v1.lines().nth(1).unwrap().ends_with("resistivity_z_ohm_m"));
    let old = dir.join("old");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("sweep-shard-1-of-2.csv"), &v1).unwrap();
    let expect_refusal = |out: std::process::Output| {
        assert!(!out.status.success());
        let err = text(&out.stderr);
        for needle in [
            "sweep-shard-1-of-2.csv",
            "older tunnelgrid",
            "conventional_state",
        ] {
            assert!(err.contains(needle), "'{needle}' not in: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    };
    let mut resume = vec!["sweep", "--engine", "cpu"];
    resume.extend(with_out(
        &args,
        old.to_str().unwrap(),
        &["--shard", "1/2", "--resume"],
    ));
    expect_refusal(tunnelgrid(&resume, &dir));
    // The old file is left as it was.
    assert_eq!(
        std::fs::read_to_string(old.join("sweep-shard-1-of-2.csv")).unwrap(),
        v1
    );
    let merged = dir.join("merged");
    expect_refusal(tunnelgrid(
        &[
            "merge",
            "--out",
            merged.to_str().unwrap(),
            old.to_str().unwrap(),
        ],
        &dir,
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The library drives a sweep without the binary (issue 13): a plan built from a `ModelSpec`
/// and run through the `Engine` trait writes the file the command line writes, byte for byte.
#[test]
fn the_library_sweep_writes_the_file_the_command_line_writes() {
    use tunnelgrid::cpu::CpuEngine;
    use tunnelgrid::spec::{MaterialSource, ModelSpec, Names};
    use tunnelgrid::sweep::{pressure_temperature_model, run_sweep, GridAxis, SweepPlan};
    let dir = scratch("library-sweep");
    sweep_ok(
        &dir,
        &[
            "--preset",
            "default",
            "--size",
            "6",
            "--seed",
            "3",
            "--pressure",
            "0:100:3",
            "--temperature",
            "50:350:2",
            "--out",
            "cli",
        ],
    );
    let spec = ModelSpec {
        source: MaterialSource::Preset("default".into()),
        size: Some(6),
        seed: Some(3),
        ..ModelSpec::default()
    };
    let (model, conditions) = pressure_temperature_model(&spec, Names::Keywords, "sweep").unwrap();
    let plan = SweepPlan {
        axes: (0..model.lattice.axes()).collect(),
        model,
        pressure: GridAxis::parse("0:100:3", "pressure").unwrap(),
        temperature: GridAxis::parse("50:350:2", "temperature").unwrap(),
        seeds: 1,
        base_seed: conditions.seed,
        resistance: true,
        shard: None,
    };
    plan.check(Names::Keywords).unwrap();
    let path = dir.join("library.csv");
    let rows = run_sweep(&CpuEngine::default(), &plan, &path, false, |_, _, _| {}).unwrap();
    assert_eq!(rows.len(), 6);
    let library = std::fs::read(&path).unwrap();
    let cli = std::fs::read(dir.join("cli").join("sweep.csv")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&library),
        String::from_utf8_lossy(&cli)
    );
    // Out of the material's range: refused, naming the keyword.
    let hot = SweepPlan {
        temperature: GridAxis::parse("50:1e9:2", "temperature").unwrap(),
        ..plan
    };
    let e = format!("{:#}", hot.check(Names::Keywords).unwrap_err());
    assert!(
        e.starts_with("pressure 0:100:3 / temperature 50:") && e.contains("temperature_k"),
        "{e}"
    );
}
