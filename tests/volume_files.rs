//! `--volume` from files, end to end through the binary: labels equal scipy.ndimage.label's on
//! the committed fixtures (tests/data/, written by scripts/make-volume-fixtures) read from `.npy`
//! (memory-mapped, little- and big-endian) and from multi-page TIFF stacks (8-bit, 16-bit,
//! bilevel), for 6, 18 and 26 connectivity; `--connectivity` on hand-built volumes (a
//! diagonal-only chain joins under 26, not under 6, and carries no current: conductance flows
//! through faces only); and clear errors for truncated files and bad dtypes.

use npyz::WriterBuilder;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tunnelgrid::output::write_npy;

mod common;

use common::{fails, gpu_available, ok, read_npy, report, scratch, volume};

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
        .display()
        .to_string()
}

/// Exports tunnelgrid's labels of `volume` (extra arguments appended) and returns them.
fn labels(dir: &Path, volume: &str, extra: &[&str]) -> (Vec<u64>, Vec<u32>) {
    let out: PathBuf = dir.join("labels.npy");
    let mut args = vec![
        "export",
        "--volume",
        volume,
        "--field",
        "labels",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&args, dir);
    read_npy::<u32>(&out)
}

/// Asserts that two labellings (0 = background in both) are the same partition: a bijection
/// between their labels maps one onto the other voxel by voxel.
fn assert_same_partition(ours: &[u32], theirs: &[i32], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: sizes");
    let mut forward: HashMap<u32, i32> = HashMap::new();
    let mut backward: HashMap<i32, u32> = HashMap::new();
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        assert_eq!(
            a == 0,
            b == 0,
            "{what}: voxel {i} occupied in one labelling only"
        );
        if a == 0 {
            continue;
        }
        assert_eq!(
            *forward.entry(a).or_insert(b),
            b,
            "{what}: voxel {i} splits our cluster {a}"
        );
        assert_eq!(
            *backward.entry(b).or_insert(a),
            a,
            "{what}: voxel {i} joins scipy's cluster {b}"
        );
    }
    assert!(
        forward.len() > 1,
        "{what}: a fixture with one cluster tests nothing"
    );
}

#[test]
fn labels_equal_scipy_on_npy_and_tiff_for_every_connectivity() {
    let dir = scratch("scipy");
    let (shape6, scipy6) = read_npy::<i32>(Path::new(&data("pores_labels6.npy")));
    // The fixture must tell the connectivities apart, or the comparison below proves little.
    let (_, scipy18) = read_npy::<i32>(Path::new(&data("pores_labels18.npy")));
    let count = |l: &[i32]| l.iter().copied().max().unwrap();
    assert!(
        count(&scipy6) > count(&scipy18),
        "fixture: 6 and 18 must differ"
    );
    for file in ["pores.npy", "pores.tif", "pores_bits.tif"] {
        let (shape, ours) = labels(&dir, &data(file), &[]);
        assert_eq!(shape, shape6, "{file}: shape");
        assert_same_partition(&ours, &scipy6, file);
    }
    for (file, phase) in [("phases_be.npy", "1000"), ("phases.tif", "1000")] {
        let (_, ours) = labels(&dir, &data(file), &["--phase", phase]);
        assert_same_partition(&ours, &scipy6, file);
    }
    for connectivity in ["18", "26"] {
        let (_, scipy) =
            read_npy::<i32>(Path::new(&data(&format!("pores_labels{connectivity}.npy"))));
        for file in ["pores.npy", "pores.tif"] {
            let (_, ours) = labels(&dir, &data(file), &["--connectivity", connectivity]);
            assert_same_partition(
                &ours,
                &scipy,
                &format!("{file} --connectivity {connectivity}"),
            );
        }
    }
}

#[test]
fn a_diagonal_chain_connects_under_26_only_and_conducts_through_faces_only() {
    let dir = scratch("diagonal");
    // Voxels (i, i, i): corner contacts only, from the (0,0,0) corner to the (4,4,4) corner.
    volume(&dir.join("corner.npy"), [5, 5, 5], |x, y, z| {
        u8::from(x == y && y == z)
    });
    // Voxels (i, i, 1): edge contacts only, in one z plane.
    volume(&dir.join("edge.npy"), [5, 5, 3], |x, y, z| {
        u8::from(x == y && z == 1)
    });
    let run = |file: &str, connectivity: &str| {
        ok(
            &[
                "run",
                "--volume",
                file,
                "--connectivity",
                connectivity,
                "--resistance",
                "--out",
                "out",
            ],
            &dir,
        );
        report(&dir)
    };
    for (file, joins_at) in [("corner.npy", 26), ("edge.npy", 18)] {
        for connectivity in [6, 18, 26] {
            let r = run(file, &connectivity.to_string());
            let joined = connectivity >= joins_at;
            let what = format!("{file} --connectivity {connectivity}: {r}");
            assert_eq!(r["clusters"], u64::from(joined), "{what}");
            assert_eq!(r["singletons"], if joined { 0 } else { 5 }, "{what}");
            assert_eq!(r["spans"]["x"], joined, "{what}");
            assert_eq!(r["spans"]["y"], joined, "{what}");
            // Faces only: an edge or corner contact has no cross-section, so nothing conducts.
            assert!(r["resistance_ohm"]["x"].is_null(), "{what}");
            assert!(r["relative_conductivity"]["x"].is_null(), "{what}");
        }
    }
    // A face path plus diagonal shortcuts: the shortcuts join clusters but carry no current.
    volume(&dir.join("stairs.npy"), [4, 4, 2], |x, y, z| {
        u8::from(z == 0 && (y == 0 || (x == 3 && y >= 1) || (x == 1 && y == 1)))
    });
    // (1, 1) touches (0, 0) and (2, 0) by edges only... and (1, 0) by a face: one cluster at 6.
    let r6 = run("stairs.npy", "6");
    let r26 = run("stairs.npy", "26");
    assert_eq!(r6["clusters"], 1, "{r6}");
    assert_eq!(r26["clusters"], 1, "{r26}");
    // x: 3 bonds in series along y = 0 → 3 ohm; the stub at (1, 1) carries nothing.
    for r in [&r6, &r26] {
        let resistance = r["resistance_ohm"]["x"].as_f64().unwrap();
        assert!((resistance - 3.0).abs() < 1e-8, "{resistance}: {r}");
    }
}

#[test]
fn bad_files_fail_clearly() {
    let dir = scratch("bad");
    // Truncated: a valid header for 4×4×4 u16 voxels, half the data.
    let mut bytes = Vec::new();
    {
        let mut npy = npyz::WriteOptions::<u16>::new()
            .default_dtype()
            .shape(&[4, 4, 4])
            .writer(&mut bytes)
            .begin_nd()
            .unwrap();
        npy.extend([1u16; 64]).unwrap();
        npy.finish().unwrap();
    }
    bytes.truncate(bytes.len() - 64);
    std::fs::write(dir.join("short.npy"), &bytes).unwrap();
    let err = fails(&["run", "--volume", "short.npy", "--out", "out"], &dir);
    assert!(
        err.contains("truncated") && err.contains("needs 128 data bytes") && err.contains("64"),
        "{err}"
    );
    // A float dtype is named, with the supported list.
    write_npy(&dir.join("f64.npy"), &[2, 2, 2], &[1.0f64; 8]).unwrap();
    let err = fails(&["run", "--volume", "f64.npy", "--out", "out"], &dir);
    assert!(
        err.contains("<f8") && err.contains("uint16") && err.contains("bool"),
        "{err}"
    );
    // Neither format.
    std::fs::write(dir.join("text.npy"), "not a volume").unwrap();
    let err = fails(&["run", "--volume", "text.npy", "--out", "out"], &dir);
    assert!(
        err.contains("neither a NumPy .npy file nor a TIFF"),
        "{err}"
    );
    // --phase out of the TIFF's 16-bit range, and a bad connectivity.
    let err = fails(
        &[
            "run",
            "--volume",
            &data("phases.tif"),
            "--phase",
            "70000",
            "--out",
            "out",
        ],
        &dir,
    );
    assert!(
        err.contains("--phase 70000") && err.contains("65535"),
        "{err}"
    );
    let err = fails(
        &[
            "run",
            "--volume",
            &data("pores.npy"),
            "--connectivity",
            "8",
            "--out",
            "out",
        ],
        &dir,
    );
    assert!(err.contains("6, 18 or 26"), "{err}");
    let err = fails(
        &["run", "--size", "8", "--connectivity", "26", "--out", "out"],
        &dir,
    );
    assert!(err.contains("--volume"), "{err}");
}

#[test]
fn gpu_and_cpu_engines_report_the_same_volume() {
    let dir = scratch("gpu");
    if !gpu_available(&dir) {
        return;
    }
    let pores = data("pores.npy");
    let report = |engine: &[&str]| {
        let mut args = vec!["run", "--volume", pores.as_str(), "--out", "out"];
        args.extend(engine);
        ok(&args, &dir);
        let mut r = report(&dir);
        let engine_name = r["engine"].as_str().unwrap().to_string();
        for key in ["engine", "timings", "elapsed_s"] {
            r.as_object_mut().unwrap().remove(key);
        }
        (r, engine_name)
    };
    let (cpu, cpu_name) = report(&["--engine", "cpu"]);
    assert!(cpu_name.starts_with("cpu"), "{cpu_name}");
    for gpu_args in [
        &["--engine", "gpu"][..],
        &["--engine", "gpu", "--slab-layers", "3"],
    ] {
        let (gpu, gpu_name) = report(gpu_args);
        assert!(gpu_name.starts_with("gpu"), "{gpu_name}");
        assert_eq!(gpu, cpu, "{gpu_args:?}");
    }
    // Exported labels and bonds agree too.
    for field in ["labels", "bonds"] {
        for engine in ["gpu", "cpu"] {
            let out = format!("{field}-{engine}.npy");
            ok(
                &[
                    "export", "--volume", &pores, "--field", field, "--engine", engine, "--out",
                    &out,
                ],
                &dir,
            );
        }
        assert_eq!(
            std::fs::read(dir.join(format!("{field}-gpu.npy"))).unwrap(),
            std::fs::read(dir.join(format!("{field}-cpu.npy"))).unwrap(),
            "{field}"
        );
    }
}
