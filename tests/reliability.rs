//! The reliability findings of a hostile but fair new user (issue 16), one test per finding,
//! each named after it. Every test drives the binary, so it can be pointed at an older build
//! with `TUNNELGRID_BIN=/path/to/tunnelgrid` to show that it fails there.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{binary, fails, ok, scratch, text, tunnelgrid, volume};

/// Runs `args` in `dir`, killing the process if it has not ended within `limit`; `None` then.
fn run_within(args: &[&str], dir: &Path, limit: Duration) -> Option<Output> {
    let child = Command::new(binary())
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    wait_within(child, limit)
}

/// Waits for `child` (stderr piped), killing it after `limit`.
fn wait_within(mut child: Child, limit: Duration) -> Option<Output> {
    let start = Instant::now();
    // Drain stderr on a thread so a chatty child never blocks on a full pipe.
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    loop {
        if let Some(status) = child.try_wait().expect("waiting works") {
            let mut stdout = Vec::new();
            if let Some(mut out) = child.stdout.take() {
                let _ = out.read_to_end(&mut stdout);
            }
            let stderr = reader.join().unwrap_or_default();
            return Some(Output {
                status,
                stdout,
                stderr,
            });
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A clean refusal within `limit`: non-zero exit, no panic; returns stderr.
fn refused_within(args: &[&str], dir: &Path, limit: Duration) -> String {
    let out = run_within(args, dir, limit)
        .unwrap_or_else(|| panic!("{args:?} did not end within {limit:?}"));
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} should be refused");
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    err
}

// 1. Thin axes.

/// An axis one cell thick has both faces in one layer: it has no state (JSON null, "n/a").
#[test]
fn thin_axes_have_no_state_rather_than_superconducting() {
    let dir = scratch("thin");
    let report = |out: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(out).join("report.json")).unwrap())
            .unwrap()
    };
    let summary = ok(
        &[
            "run",
            "--engine",
            "cpu",
            "--cells",
            "1",
            "8",
            "8",
            "--pressure",
            "0",
            "--temperature",
            "1000",
            "--out",
            "plate",
        ],
        &dir,
    );
    let states = &report("plate")["states"];
    assert!(states["x"].is_null(), "{states}");
    assert!(
        states["y"].is_string() && states["z"].is_string(),
        "{states}"
    );
    assert!(summary.contains("axis x       n/a"), "{summary}");

    ok(
        &[
            "run",
            "--engine",
            "cpu",
            "--preset",
            "bernoulli-bond",
            "--p",
            "0",
            "--size",
            "1",
            "--out",
            "one",
        ],
        &dir,
    );
    let states = &report("one")["states"];
    assert!(
        ["x", "y", "z"].iter().all(|a| states[a].is_null()),
        "{states}"
    );

    volume(&dir.join("thin.npy"), [16, 16, 1], |x, y, _| {
        u8::from((x * 7 + y * 3) % 4 == 0)
    });
    ok(
        &[
            "run", "--engine", "cpu", "--volume", "thin.npy", "--out", "vol",
        ],
        &dir,
    );
    let states = &report("vol")["states"];
    assert!(states["z"].is_null() && states["x"].is_string(), "{states}");

    // A sweep has nothing to draw when no swept axis has a state, and solves none on thin axes.
    let sweep = [
        "sweep",
        "--pressure",
        "0:100:2",
        "--temperature",
        "10:300:2",
        "--engine",
        "cpu",
        "--size",
    ];
    let err = fails(&[&sweep[..], &["1", "--out", "sw1"]].concat(), &dir);
    assert!(err.contains("--size") && err.contains("state"), "{err}");
    assert!(!dir.join("sw1/sweep.csv").exists());
    // The resistance of a thin axis is refused as before, naming the reason.
    let err = fails(
        &[
            "run",
            "--engine",
            "cpu",
            "--size",
            "1",
            "--resistance",
            "--out",
            "r",
        ],
        &dir,
    );
    assert!(err.contains("2 cells"), "{err}");
}

// 2. Broken pipe.

/// Every subcommand with stdout closed before it writes: it must end as usual (exit 0) with
/// all its files written.
#[test]
fn broken_pipe_ends_quietly_after_every_file_is_written() {
    let dir = scratch("pipe");
    let sweep = |out: &str| -> Vec<String> {
        [
            "sweep",
            "--size",
            "6",
            "--pressure",
            "0:200:2",
            "--temperature",
            "10:300:2",
            "--engine",
            "cpu",
            "--out",
            out,
        ]
        .map(String::from)
        .to_vec()
    };
    let mut shard_1 = sweep("shards");
    shard_1.extend(["--shard".into(), "1/2".into()]);
    let mut shard_2 = sweep("shards");
    shard_2.extend(["--shard".into(), "2/2".into()]);
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (vec!["info".into()], vec![]),
        (vec!["presets".into()], vec![]),
        (vec!["preset".into(), "default".into()], vec![]),
        (
            [
                "run",
                "--engine",
                "cpu",
                "--size",
                "8",
                "--resistance",
                "--out",
                "run",
            ]
            .map(String::from)
            .to_vec(),
            vec!["run/report.json"],
        ),
        (
            [
                "bench",
                "--engine",
                "cpu",
                "--sizes",
                "8",
                "--repeat",
                "1",
                "--json",
                "bench.json",
            ]
            .map(String::from)
            .to_vec(),
            vec!["bench.json"],
        ),
        (
            [
                "export",
                "--size",
                "8",
                "--field",
                "labels",
                "--out",
                "labels.npy",
            ]
            .map(String::from)
            .to_vec(),
            vec!["labels.npy"],
        ),
        (
            [
                "threshold",
                "--sizes",
                "6,8",
                "--samples",
                "8",
                "--json",
                "t.json",
                "--curves",
                "t.csv",
                "--plots",
                "tplots",
            ]
            .map(String::from)
            .to_vec(),
            vec!["t.json", "t.csv", "tplots"],
        ),
        (
            [
                "scaling",
                "--sizes",
                "6,8",
                "--samples",
                "4",
                "--json",
                "s.json",
                "--plots",
                "splots",
            ]
            .map(String::from)
            .to_vec(),
            vec!["s.json", "splots"],
        ),
        (
            [
                "critical-pressure",
                "--size",
                "6",
                "--seeds",
                "1",
                "--tolerance",
                "20",
                "--json",
                "cp.json",
            ]
            .map(String::from)
            .to_vec(),
            vec!["cp.json"],
        ),
        (
            [
                "design",
                "--preset",
                "alloy",
                "--size",
                "6",
                "--seeds",
                "1",
                "--tolerance",
                "0.1",
                "--json",
                "d.json",
            ]
            .map(String::from)
            .to_vec(),
            vec!["d.json"],
        ),
        (
            sweep("sweep"),
            vec!["sweep/sweep.csv", "sweep/phase_diagram.png"],
        ),
        (shard_1, vec!["shards/sweep-shard-1-of-2.csv"]),
        (shard_2, vec!["shards/sweep-shard-2-of-2.csv"]),
        (
            ["merge", "shards", "--out", "merged"]
                .map(String::from)
                .to_vec(),
            vec!["merged/sweep.csv", "merged/phase_diagram.png"],
        ),
        (
            [
                "render", "--size", "8", "--field", "clusters", "--out", "r.png", "--export", "vti",
            ]
            .map(String::from)
            .to_vec(),
            vec!["r.png", "r.vti"],
        ),
        (
            ["plot-study", "t.json", "--out", "replotted"]
                .map(String::from)
                .to_vec(),
            vec!["replotted"],
        ),
        (
            [
                "profile", "--planet", "earth", "--size", "6", "--engine", "cpu", "--out", "prof",
            ]
            .map(String::from)
            .to_vec(),
            vec!["prof/profile.csv", "prof/profile.png"],
        ),
    ];
    let mut commands = std::collections::BTreeSet::new();
    for (args, files) in cases {
        commands.insert(args[0].clone());
        let mut child = Command::new(binary())
            .args(&args)
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader leaves before the first line, as `| head -0` would.
        drop(child.stdout.take());
        let out = wait_within(child, Duration::from_secs(120)).expect("ends");
        let err = text(&out.stderr);
        assert!(
            out.status.success() && !err.contains("panicked"),
            "{args:?} with stdout closed: {:?}\n{err}",
            out.status
        );
        for file in files {
            let path = dir.join(file);
            assert!(
                path.exists(),
                "{args:?} with stdout closed did not write {file}"
            );
            if path.is_dir() {
                assert!(
                    std::fs::read_dir(&path).unwrap().count() > 0,
                    "{file} is empty"
                );
            }
        }
    }
    // Every subcommand of `tunnelgrid --help` was tried.
    let help = ok(&["--help"], &dir);
    let listed: std::collections::BTreeSet<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect();
    assert_eq!(commands, listed, "a subcommand was left out of this test");
}

// 3. Unwritable outputs.

#[test]
fn unwritable_outputs_are_refused_before_the_work_starts() {
    let dir = scratch("unwritable");
    // A file where a folder would have to be: no user, root included, can write below it.
    std::fs::write(dir.join("blocker"), "a file").unwrap();
    for (args, flag) in [
        (
            &[
                "threshold",
                "--sizes",
                "8,12",
                "--samples",
                "40",
                "--json",
                "blocker/t.json",
            ][..],
            "--json",
        ),
        (
            &[
                "threshold",
                "--sizes",
                "8,12",
                "--samples",
                "40",
                "--curves",
                "blocker/t.csv",
            ],
            "--curves",
        ),
        (
            &[
                "threshold",
                "--sizes",
                "8,12",
                "--samples",
                "40",
                "--plots",
                "blocker/plots",
            ],
            "--plots",
        ),
        (
            &[
                "scaling",
                "--sizes",
                "8,12",
                "--samples",
                "8",
                "--json",
                "blocker/s.json",
            ],
            "--json",
        ),
        (
            &[
                "bench",
                "--engine",
                "cpu",
                "--sizes",
                "8",
                "--repeat",
                "1",
                "--json",
                "blocker/b.json",
            ],
            "--json",
        ),
        (
            &[
                "critical-pressure",
                "--size",
                "6",
                "--seeds",
                "1",
                "--tolerance",
                "20",
                "--json",
                "blocker/c.json",
            ],
            "--json",
        ),
        (
            &[
                "run",
                "--engine",
                "cpu",
                "--size",
                "8",
                "--out",
                "blocker/out",
            ],
            "--out",
        ),
        (
            &[
                "export",
                "--size",
                "8",
                "--field",
                "labels",
                "--out",
                "blocker/l.npy",
            ],
            "--out",
        ),
        (
            &[
                "render",
                "--size",
                "8",
                "--field",
                "clusters",
                "--out",
                "blocker/r.png",
            ],
            "--out",
        ),
        (
            &[
                "sweep",
                "--size",
                "6",
                "--pressure",
                "0:100:2",
                "--temperature",
                "10:300:2",
                "--engine",
                "cpu",
                "--out",
                "blocker/sw",
            ],
            "--out",
        ),
        (
            &[
                "profile",
                "--planet",
                "earth",
                "--size",
                "6",
                "--engine",
                "cpu",
                "--out",
                "blocker/p",
            ],
            "--out",
        ),
    ] {
        let out = tunnelgrid(args, &dir);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} should be refused");
        assert!(
            err.contains(flag) && err.contains("blocker"),
            "{args:?}: {err}"
        );
        // Refused before the work: no result was printed.
        assert!(
            text(&out.stdout).trim().is_empty(),
            "{args:?} worked first:\n{}",
            text(&out.stdout)
        );
    }
}

// 4. Bisection hangs.

#[test]
fn bisection_tolerances_below_f64_resolution_end_with_an_error() {
    let dir = scratch("bisect");
    let limit = Duration::from_secs(60);
    let err = refused_within(
        &[
            "critical-pressure",
            "--size",
            "4",
            "--seeds",
            "1",
            "--tolerance",
            "1e-15",
        ],
        &dir,
        limit,
    );
    assert!(
        err.contains("--tolerance") && err.contains("at least"),
        "{err}"
    );
    let err = refused_within(
        &[
            "design",
            "--preset",
            "alloy",
            "--size",
            "4",
            "--seeds",
            "1",
            "--tolerance",
            "1e-17",
        ],
        &dir,
        limit,
    );
    assert!(
        err.contains("--tolerance") && err.contains("at least"),
        "{err}"
    );
}

// 5. Threads.

#[test]
fn threads_beyond_the_bound_are_refused_at_once() {
    let dir = scratch("threads");
    let out = run_within(
        &[
            "--threads",
            "100000",
            "run",
            "--engine",
            "cpu",
            "--size",
            "8",
            "--out",
            "o",
        ],
        &dir,
        Duration::from_secs(20),
    )
    .expect("--threads 100000 ends at once");
    let err = text(&out.stderr);
    assert!(!out.status.success(), "--threads 100000 was accepted");
    assert!(
        err.contains("--threads") && err.contains("1..=1024"),
        "{err}"
    );
    ok(
        &[
            "--threads",
            "3",
            "run",
            "--engine",
            "cpu",
            "--size",
            "8",
            "--out",
            "o",
        ],
        &dir,
    );
}

// 6. Concurrent sweeps.

#[test]
fn a_second_sweep_writer_is_refused_naming_the_first() {
    let dir = scratch("concurrent");
    let args = [
        "sweep",
        "--size",
        "20",
        "--pressure",
        "0:200:40",
        "--temperature",
        "10:300:40",
        "--engine",
        "cpu",
        "--out",
        "sw",
    ];
    let mut first = Command::new(binary())
        .args(args)
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let csv = dir.join("sw/sweep.csv");
    let start = Instant::now();
    // Wait until the first writer has appended a row.
    while std::fs::read_to_string(&csv).map_or(true, |t| t.lines().count() < 3) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the first sweep wrote no row"
        );
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first sweep ended too soon"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut resume = args.to_vec();
    resume.push("--resume");
    let second = tunnelgrid(&resume, &dir);
    let still_running = first.try_wait().unwrap().is_none();
    let _ = first.kill();
    let _ = first.wait();
    let err = text(&second.stderr);
    assert!(!second.status.success(), "a second writer was let in");
    assert!(
        still_running,
        "the first sweep ended before the second was refused: make it longer"
    );
    assert!(err.contains(&format!("PID {}", first.id())), "{err}");
    // The rows are each point once.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut indices: Vec<&str> = text
        .lines()
        .skip(2)
        .filter_map(|l| l.split(',').next())
        .collect();
    let rows = indices.len();
    indices.sort();
    indices.dedup();
    assert_eq!(indices.len(), rows, "a point was written twice");
}

// 7. Edited CSVs.

#[test]
fn resumed_and_merged_rows_off_the_plan_are_refused_with_their_line() {
    let dir = scratch("edited");
    let sweep = [
        "sweep",
        "--size",
        "6",
        "--pressure",
        "0:200:3",
        "--temperature",
        "10:300:2",
        "--engine",
        "cpu",
        "--no-resistance",
        "--out",
        "sw",
    ];
    ok(&sweep, &dir);
    let csv = dir.join("sw/sweep.csv");
    let original = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    // The CSV with its first row replaced by an edit of it (line 3 of the file).
    let edited = |edit: &dyn Fn(&mut Vec<String>)| -> String {
        let mut fields: Vec<String> = lines[2].split(',').map(String::from).collect();
        edit(&mut fields);
        let mut out = vec![lines[0].to_string(), lines[1].to_string(), fields.join(",")];
        out.extend(lines[3..].iter().map(|l| l.to_string()));
        out.join("\n") + "\n"
    };
    let cases: Vec<(&str, String)> = vec![
        ("outside the grid", edited(&|f| f[0] = "99".into())),
        ("wrong pressure", edited(&|f| f[3] = "17".into())),
        ("wrong indices", edited(&|f| f[1] = "2".into())),
        ("wrong seeds", edited(&|f| f[5] = "3".into())),
        ("duplicated row", format!("{original}{}\n", lines[3])),
    ];
    let mut resume = sweep.to_vec();
    resume.push("--resume");
    for (what, content) in cases {
        std::fs::write(&csv, &content).unwrap();
        let err = fails(&resume, &dir);
        let line = if what == "duplicated row" {
            lines.len() + 1
        } else {
            3
        };
        assert!(err.contains(&format!("line {line}")), "{what}: {err}");
        assert_eq!(
            std::fs::read_to_string(&csv).unwrap(),
            content,
            "{what}: the file changed"
        );
    }
    // merge: a shard row whose coordinates are not on the grid.
    for shard in ["1/2", "2/2"] {
        let mut args = sweep.to_vec();
        args.pop();
        args.extend(["shards", "--shard", shard]);
        ok(&args, &dir);
    }
    let shard = dir.join("shards/sweep-shard-2-of-2.csv");
    let text = std::fs::read_to_string(&shard).unwrap();
    let mut rows: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = rows[2].split(',').map(String::from).collect();
    fields[4] = "123".into();
    rows[2] = fields.join(",");
    std::fs::write(&shard, rows.join("\n") + "\n").unwrap();
    let err = fails(&["merge", "shards", "--out", "merged"], &dir);
    assert!(err.contains("line 3") && err.contains("T = 123"), "{err}");
    assert!(!dir.join("merged/sweep.csv").exists());
}

// 8. merge overwrites.

#[test]
fn merge_refuses_to_overwrite_an_existing_sweep() {
    let dir = scratch("overwrite");
    for shard in ["1/2", "2/2"] {
        ok(
            &[
                "sweep",
                "--size",
                "6",
                "--pressure",
                "0:200:2",
                "--temperature",
                "10:300:2",
                "--engine",
                "cpu",
                "--no-resistance",
                "--out",
                "shards",
                "--shard",
                shard,
            ],
            &dir,
        );
    }
    std::fs::create_dir_all(dir.join("merged")).unwrap();
    std::fs::write(dir.join("merged/sweep.csv"), "someone's finished sweep\n").unwrap();
    let err = fails(&["merge", "shards", "--out", "merged"], &dir);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("merged/sweep.csv")).unwrap(),
        "someone's finished sweep\n"
    );
    ok(&["merge", "shards", "--out", "fresh"], &dir);
}

// 9. design --pair.

#[test]
fn design_pair_takes_the_helps_own_example_and_refuses_a_second_pair() {
    let dir = scratch("pair");
    let args = [
        "design",
        "--preset",
        "alloy",
        "--size",
        "6",
        "--seeds",
        "1",
        "--tolerance",
        "0.1",
        "--pair",
    ];
    let out = ok(&[&args[..], &["0,1"]].concat(), &dir);
    assert!(out.contains("pair 0–1"), "{out}");
    let err = fails(&[&args[..], &["0,1", "5,5"]].concat(), &dir);
    assert!(err.contains("5,5"), "{err}");
    let err = fails(&[&args[..], &["0"]].concat(), &dir);
    assert!(err.contains("A,B"), "{err}");
}

// 10. Material files.

#[test]
fn material_files_with_a_pair_twice_or_names_of_another_count_are_refused() {
    let dir = scratch("material");
    let alloy = ok(&["preset", "alloy"], &dir);
    let pair_start = alloy.find("[[pair]]").expect("the alloy preset has a pair");
    let pair_block = alloy[pair_start..]
        .split("\n\n")
        .next()
        .unwrap()
        .to_string();
    std::fs::write(dir.join("twice.toml"), format!("{alloy}\n{pair_block}\n")).unwrap();
    let err = fails(
        &[
            "run",
            "--engine",
            "cpu",
            "--size",
            "6",
            "--config",
            "twice.toml",
        ],
        &dir,
    );
    assert!(
        err.contains("twice.toml") && err.contains("pair[") && err.contains("already"),
        "{err}"
    );

    let names = alloy.replacen("names = [\"A\", \"B\"]", "names = [\"A\", \"B\", \"C\"]", 1);
    assert_ne!(names, alloy, "the alloy preset names its two species");
    std::fs::write(dir.join("names.toml"), names).unwrap();
    let err = fails(
        &[
            "run",
            "--engine",
            "cpu",
            "--size",
            "6",
            "--config",
            "names.toml",
        ],
        &dir,
    );
    assert!(
        err.contains("names.toml") && err.contains("species.names"),
        "{err}"
    );
}

// 11. Ranges and seeds.

#[test]
fn one_point_ranges_and_seeds_past_u64_max_are_refused() {
    let dir = scratch("ranges");
    let base = [
        "sweep",
        "--size",
        "6",
        "--engine",
        "cpu",
        "--no-resistance",
        "--out",
        "sw",
    ];
    let err = fails(
        &[
            &base[..],
            &["--pressure", "0:300:1", "--temperature", "10:10:1"],
        ]
        .concat(),
        &dir,
    );
    assert!(err.contains("--pressure") && err.contains("COUNT"), "{err}");
    let err = fails(
        &[
            &base[..],
            &[
                "--pressure",
                "0:0:1",
                "--temperature",
                "10:10:1",
                "--seed",
                "18446744073709551614",
                "--seeds",
                "3",
            ],
        ]
        .concat(),
        &dir,
    );
    assert!(
        err.contains("--seed") && err.contains("18446744073709551613"),
        "{err}"
    );
    ok(
        &[
            &base[..],
            &[
                "--pressure",
                "0:0:1",
                "--temperature",
                "10:10:1",
                "--seed",
                "18446744073709551613",
                "--seeds",
                "3",
            ],
        ]
        .concat(),
        &dir,
    );
}

// 12. Unclear messages.

#[test]
fn messages_name_the_flag_the_file_and_what_is_allowed() {
    let dir = scratch("messages");
    volume(&dir.join("v.npy"), [8, 8, 8], |x, y, z| {
        u8::from((x + y + z) % 3 != 0)
    });

    let err = fails(&["run", "--engine", "cpu", "--pressure", "1e308"], &dir);
    assert!(
        err.contains("--pressure 1e308") && err.contains("[0, 10000]"),
        "{err}"
    );
    assert!(err.len() < 300, "{err}");

    let err = fails(
        &[
            "run", "--engine", "cpu", "--volume", "v.npy", "--voxel", "1e-300",
        ],
        &dir,
    );
    assert!(
        err.contains("--voxel") && !err.contains("lattice.a0"),
        "{err}"
    );
    let err = fails(
        &[
            "run", "--engine", "cpu", "--volume", "v.npy", "--voxel", "-1",
        ],
        &dir,
    );
    assert!(err.contains("--voxel -1 is out of range"), "{err}");

    std::fs::create_dir_all(dir.join("a-folder")).unwrap();
    let err = fails(&["run", "--engine", "cpu", "--volume", "a-folder"], &dir);
    assert!(
        err.contains("--volume") && err.contains("a-folder") && err.contains("folder"),
        "{err}"
    );

    let mut garbage = b"II*\0".to_vec();
    garbage.extend([0x55u8; 60]);
    std::fs::write(dir.join("garbage.tif"), garbage).unwrap();
    let err = fails(&["run", "--engine", "cpu", "--volume", "garbage.tif"], &dir);
    assert!(
        err.contains("garbage.tif") && err.contains("not a readable TIFF"),
        "{err}"
    );

    // bench measures a volume at its own shape.
    let out = ok(
        &[
            "bench", "--engine", "cpu", "--volume", "v.npy", "--repeat", "1",
        ],
        &dir,
    );
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("8 ")),
        "{out}"
    );

    // The alloy superconducts at P = 0: there is no onset, and no lower range to ask for.
    let err = fails(
        &[
            "critical-pressure",
            "--preset",
            "alloy",
            "--size",
            "6",
            "--seeds",
            "1",
            "--temperature",
            "300",
            "--target",
            "superconducting",
        ],
        &dir,
    );
    assert!(
        err.contains("lowest value allowed") && !err.contains("lower the range"),
        "{err}"
    );

    let err = fails(
        &[
            "render",
            "--engine",
            "cpu",
            "--size",
            "8",
            "--pressure",
            "200",
            "--temperature",
            "10",
            "--field",
            "current",
            "--out",
            "c.png",
        ],
        &dir,
    );
    assert!(
        err.contains("export --field min-cut") && !err.contains("see --field min-cut"),
        "{err}"
    );

    std::fs::write(dir.join("blocker"), "a file").unwrap();
    let err = fails(
        &[
            "render",
            "--engine",
            "cpu",
            "--size",
            "8",
            "--field",
            "clusters",
            "--out",
            "blocker/r.png",
        ],
        &dir,
    );
    // Refused up front now; the write error itself (RenderError::Io) says the OS error once,
    // which crates/tunnelgrid-render/tests/heatmap.rs checks.
    assert!(
        err.contains("blocker") && err.matches("os error").count() <= 1,
        "{err}"
    );

    let out = ok(
        &[
            "run",
            "--engine",
            "cpu",
            "--size",
            "6",
            "--pressure",
            "-0",
            "--out",
            "o",
        ],
        &dir,
    );
    assert!(
        out.contains("P = 0 GPa") && !out.contains("-0 GPa"),
        "{out}"
    );
}

// 13. Memory and input limits.

#[test]
fn memory_limits_and_config_sizes_are_respected() {
    let dir = scratch("limits");
    // 512³ sites need gigabytes; under a 1.5 GiB address space the run must be refused with a
    // message, not abort (exit 134) on a failed allocation.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 1500000 && exec '{}' run --engine cpu --size 512 --out o",
            binary().display()
        ))
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("too large"), "{err}");

    let out = run_within(
        &["run", "--config", "/dev/zero"],
        &dir,
        Duration::from_secs(20),
    )
    .expect("--config /dev/zero ends");
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--config") && err.contains("/dev/zero") && err.contains("KiB"),
        "{err}"
    );
}

// 14. CPU/GPU tolerance.

#[test]
fn near_threshold_bonds_are_reported_and_bound_the_engines_difference() {
    let dir = scratch("near");
    let args = [
        "run",
        "--pressure",
        "150",
        "--temperature",
        "10",
        "--size",
        "32",
        "--engine",
    ];
    ok(&[&args[..], &["cpu", "--out", "cpu"]].concat(), &dir);
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name).join("report.json")).unwrap())
            .unwrap()
    };
    let cpu = read("cpu");
    let near = cpu["near_threshold_bonds"]
        .as_u64()
        .expect("report.json has near_threshold_bonds");
    assert!(near > 0, "this point has bonds within 1e-5 of a threshold");
    if !common::gpu_available(&dir) {
        return;
    }
    ok(&[&args[..], &["gpu", "--out", "gpu"]].concat(), &dir);
    let gpu = read("gpu");
    assert_eq!(gpu["near_threshold_bonds"], cpu["near_threshold_bonds"]);
    for key in ["tunnel_bonds", "sc_bonds"] {
        let (c, g) = (cpu[key].as_u64().unwrap(), gpu[key].as_u64().unwrap());
        assert!(
            c.abs_diff(g) <= near,
            "{key}: cpu {c}, gpu {g}, {near} near a threshold"
        );
    }
}
