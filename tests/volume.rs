//! `--volume`: user voxel images as the occupancy of an sc site lattice, end to end through the
//! binary: spanning, conductance against the full block, tortuosity, labels against an
//! independent BFS, `--phase`, `--keep`, and bad input that must fail clearly without a panic.

use npyz::WriterBuilder;
use std::collections::{HashMap, VecDeque};
use tunnelgrid::output::write_npy;

mod common;

use common::{fails, ok, read_npy, report, scratch, volume};

#[test]
fn a_winding_path_spans_x_but_not_y() {
    let dir = scratch("span");
    // An S-shaped path along x in the z = 1 plane: x 0..=3 at y = 1, up to y = 3, on to x = 7.
    volume(&dir.join("v.npy"), [8, 5, 3], |x, y, z| {
        u8::from(
            z == 1
                && ((y == 1 && x <= 3) || (x == 3 && (1..=3).contains(&y)) || (y == 3 && x >= 3)),
        )
    });
    ok(
        &["run", "--volume", "v.npy", "--out", "out", "--resistance"],
        &dir,
    );
    let r = report(&dir);
    assert_eq!(r["spans"]["x"], true, "{r}");
    assert_eq!(r["spans"]["y"], false, "{r}");
    assert_eq!(r["spans"]["z"], false, "{r}");
    // 3 + 2 + 4 = 9 bonds in series of R0 = 1 ohm.
    let resistance = r["resistance_ohm"]["x"].as_f64().unwrap();
    assert!((resistance - 9.0).abs() < 1e-8, "{resistance}");
    assert!(r["resistance_ohm"]["y"].is_null());
    assert!(r["tortuosity"]["y"].is_null());
}

#[test]
fn a_straight_channel_has_tortuosity_one_and_a_full_block_conducts_fully() {
    let dir = scratch("tau");
    volume(&dir.join("channel.npy"), [9, 4, 3], |_, y, z| {
        u8::from(y == 2 && z == 1)
    });
    ok(
        &[
            "run",
            "--volume",
            "channel.npy",
            "--out",
            "out",
            "--resistance",
        ],
        &dir,
    );
    let r = report(&dir);
    let tau = r["tortuosity"]["x"].as_f64().unwrap();
    assert!((tau - 1.0).abs() < 1e-9, "τ = {tau}");
    let rel = r["relative_conductivity"]["x"].as_f64().unwrap();
    assert!((rel - 1.0 / 12.0).abs() < 1e-9, "σ_eff/σ_0 = {rel}");

    volume(&dir.join("full.npy"), [6, 5, 4], |_, _, _| 7);
    let summary = ok(
        &[
            "run",
            "--volume",
            "full.npy",
            "--out",
            "out",
            "--resistance",
        ],
        &dir,
    );
    assert!(summary.contains("τ = 1.000000"), "{summary}");
    let r = report(&dir);
    for axis in ["x", "y", "z"] {
        let rel = r["relative_conductivity"][axis].as_f64().unwrap();
        assert!((rel - 1.0).abs() < 1e-9, "{axis}: σ_eff/σ_0 = {rel}");
        let tau = r["tortuosity"][axis].as_f64().unwrap();
        assert!((tau - 1.0).abs() < 1e-9, "{axis}: τ = {tau}");
    }
}

#[test]
fn labels_partition_the_occupied_sites_like_a_bfs() {
    let dir = scratch("labels");
    let cells = [11usize, 9, 7];
    // A fixed pseudo-random volume near the site threshold, so clusters of many sizes appear.
    let value = |x: usize, y: usize, z: usize| -> u8 {
        let h =
            ((x * 73_856_093) ^ (y * 19_349_663) ^ (z * 83_492_791)).wrapping_mul(2_654_435_761);
        u8::from((h >> 7) % 100 < 40)
    };
    volume(&dir.join("v.npy"), cells, value);
    ok(
        &[
            "export",
            "--volume",
            "v.npy",
            "--field",
            "labels",
            "--out",
            "labels.npy",
        ],
        &dir,
    );
    let (shape, labels) = read_npy::<u32>(&dir.join("labels.npy"));
    assert_eq!(shape, vec![7, 9, 11]);
    let [nx, ny, nz] = cells;
    let index = |x: usize, y: usize, z: usize| (z * ny + y) * nx + x;
    let mut component = vec![usize::MAX; nx * ny * nz];
    let mut components = 0;
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                if value(x, y, z) == 0 || component[index(x, y, z)] != usize::MAX {
                    continue;
                }
                let mut queue = VecDeque::from([(x, y, z)]);
                component[index(x, y, z)] = components;
                while let Some((x, y, z)) = queue.pop_front() {
                    let mut visit = |x: usize, y: usize, z: usize| {
                        if value(x, y, z) != 0 && component[index(x, y, z)] == usize::MAX {
                            component[index(x, y, z)] = components;
                            queue.push_back((x, y, z));
                        }
                    };
                    if x > 0 {
                        visit(x - 1, y, z)
                    }
                    if x + 1 < nx {
                        visit(x + 1, y, z)
                    }
                    if y > 0 {
                        visit(x, y - 1, z)
                    }
                    if y + 1 < ny {
                        visit(x, y + 1, z)
                    }
                    if z > 0 {
                        visit(x, y, z - 1)
                    }
                    if z + 1 < nz {
                        visit(x, y, z + 1)
                    }
                }
                components += 1;
            }
        }
    }
    assert!(components > 10, "only {components} components");
    // Equal labels ⇔ same BFS component, and label 0 ⇔ empty voxel.
    let mut to_component: HashMap<u32, usize> = HashMap::new();
    let mut to_label: HashMap<usize, u32> = HashMap::new();
    for (site, (&label, &c)) in labels.iter().zip(&component).enumerate() {
        assert_eq!(label == 0, c == usize::MAX, "site {site}");
        if label != 0 {
            assert_eq!(*to_component.entry(label).or_insert(c), c, "site {site}");
            assert_eq!(*to_label.entry(c).or_insert(label), label, "site {site}");
        }
    }
    assert_eq!(to_label.len(), components);
}

#[test]
fn phase_selects_a_value_and_keep_trims_the_volume() {
    let dir = scratch("phase");
    // Phase 2 is a plane x = 0..5 at z = 0 (spans x and y); phase 1 a 2-voxel blob; 3 elsewhere.
    volume(&dir.join("v.npy"), [5, 4, 3], |x, y, z| match (x, y, z) {
        (_, _, 0) => 2,
        (0..=1, 0, 2) => 1,
        _ => 3,
    });
    ok(
        &["run", "--volume", "v.npy", "--phase", "2", "--out", "out"],
        &dir,
    );
    let r = report(&dir);
    assert_eq!(r["spans"]["x"], true, "{r}");
    assert_eq!(r["spans"]["z"], false, "{r}");
    ok(
        &["run", "--volume", "v.npy", "--phase", "1", "--out", "out"],
        &dir,
    );
    let r = report(&dir);
    assert_eq!(r["spans"]["x"], false, "{r}");

    // Nonzero = occupied: every voxel is, so --keep largest keeps all 60.
    ok(
        &[
            "export",
            "--volume",
            "v.npy",
            "--field",
            "occupancy",
            "--keep",
            "largest",
            "--out",
            "all.npy",
        ],
        &dir,
    );
    let (_, all) = read_npy::<u8>(&dir.join("all.npy"));
    assert_eq!(all.iter().filter(|&&b| b == 1).count(), 60);

    // Phase 2 only: the plane spans x and y and is kept whole.
    ok(
        &[
            "export",
            "--volume",
            "v.npy",
            "--phase",
            "2",
            "--field",
            "occupancy",
            "--keep",
            "spanning",
            "--out",
            "s.npy",
        ],
        &dir,
    );
    let (shape, kept) = read_npy::<u8>(&dir.join("s.npy"));
    assert_eq!(shape, vec![3, 4, 5]);
    assert_eq!(kept.iter().filter(|&&b| b == 1).count(), 20);
    assert!(kept[..20].iter().all(|&b| b == 1));
    volume(&dir.join("two.npy"), [5, 4, 3], |x, y, z| {
        u8::from(z == 0 || (x <= 1 && y == 0 && z == 2))
    });
    ok(
        &[
            "export",
            "--volume",
            "two.npy",
            "--field",
            "occupancy",
            "--keep",
            "spanning",
            "--out",
            "s2.npy",
        ],
        &dir,
    );
    let (_, kept) = read_npy::<u8>(&dir.join("s2.npy"));
    assert_eq!(kept.iter().filter(|&&b| b == 1).count(), 20);
    ok(
        &[
            "export",
            "--volume",
            "two.npy",
            "--field",
            "occupancy",
            "--keep",
            "largest",
            "--out",
            "l2.npy",
        ],
        &dir,
    );
    let (_, kept) = read_npy::<u8>(&dir.join("l2.npy"));
    assert_eq!(kept, kept_plane(&kept));
}

/// The expected `--keep largest` result of `two.npy`: the z = 0 plane only.
fn kept_plane(kept: &[u8]) -> Vec<u8> {
    (0..kept.len()).map(|i| u8::from(i < 20)).collect()
}

#[test]
fn bad_volumes_fail_clearly() {
    let dir = scratch("bad");
    write_npy(&dir.join("flat.npy"), &[4, 5], &[1u8; 20]).unwrap();
    let err = fails(&["run", "--volume", "flat.npy", "--out", "out"], &dir);
    assert!(err.contains("2D") && err.contains("3D"), "{err}");
    write_npy(&dir.join("float.npy"), &[2, 2, 2], &[1.0f32; 8]).unwrap();
    let err = fails(&["run", "--volume", "float.npy", "--out", "out"], &dir);
    assert!(
        err.contains("dtype") && err.contains("not supported"),
        "{err}"
    );
    let mut file = std::fs::File::create(dir.join("fortran.npy")).unwrap();
    let mut npy = npyz::WriteOptions::<u8>::new()
        .default_dtype()
        .order(npyz::Order::Fortran)
        .shape(&[2, 2, 2])
        .writer(&mut file)
        .begin_nd()
        .unwrap();
    npy.extend([1u8; 8]).unwrap();
    npy.finish().unwrap();
    let err = fails(&["run", "--volume", "fortran.npy", "--out", "out"], &dir);
    assert!(err.contains("Fortran order"), "{err}");
    let err = fails(&["run", "--volume", "missing.npy", "--out", "out"], &dir);
    assert!(
        err.contains("cannot open") && err.contains("missing.npy"),
        "{err}"
    );
    volume(&dir.join("v.npy"), [3, 3, 3], |_, _, _| 1);
    // 18 and 26 connectivity are CPU-only: refused before any adapter is looked for.
    let err = fails(
        &[
            "run",
            "--volume",
            "v.npy",
            "--connectivity",
            "18",
            "--engine",
            "gpu",
            "--out",
            "out",
        ],
        &dir,
    );
    assert!(
        err.contains("--connectivity 18") && err.contains("supports --connectivity 6"),
        "{err}"
    );
    let err = fails(
        &[
            "export",
            "--volume",
            "v.npy",
            "--connectivity",
            "26",
            "--engine",
            "gpu",
            "--field",
            "labels",
            "--out",
            "l.npy",
        ],
        &dir,
    );
    assert!(err.contains("use --engine cpu"), "{err}");
    let err = fails(
        &["run", "--volume", "v.npy", "--phase", "300", "--out", "out"],
        &dir,
    );
    assert!(err.contains("--phase 300"), "{err}");
}
