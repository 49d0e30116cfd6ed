//! `tunnelgrid render`: connectivity heat maps show the clusters the exported labels say, at the
//! pixels where they are; every field draws a non-uniform picture; projections, volumes and the
//! VTK export work; bad flags get clear errors.

mod common;

use common::{distinct_colours, pixel, scratch, text, tunnelgrid};
use std::collections::HashMap;
use std::path::Path;
use tunnelgrid::cpu::CpuEngine;
use tunnelgrid::fields::Fields;
use tunnelgrid::picture::{
    field_heatmap, picture_size, PictureField, Plane, ISOLATED_SITE, LARGEST_CLUSTER,
    LARGEST_SC_CLUSTER,
};
use tunnelgrid::render::heatmap::draw_heatmap;
use tunnelgrid::render::Rgb;

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = tunnelgrid(args, dir);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn read_u32_npy(path: &Path) -> Vec<u32> {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    npy.into_vec::<u32>().unwrap()
}

const MODEL: [&str; 8] = [
    "--preset",
    "default",
    "--size",
    "24",
    "--pressure",
    "16.5",
    "--temperature",
    "300",
];

#[test]
fn cluster_picture_matches_the_exported_labels() {
    let dir = scratch("clusters");
    let png = dir.join("clusters.png");
    let npy = dir.join("labels.npy");
    let mut args = vec!["render", "--field", "clusters", "--slice", "z=12"];
    args.extend_from_slice(&MODEL);
    args.extend_from_slice(&["--out", png.to_str().unwrap()]);
    ok(&dir, &args);
    let mut args = vec!["export", "--field", "labels"];
    args.extend_from_slice(&MODEL);
    args.extend_from_slice(&["--out", npy.to_str().unwrap()]);
    ok(&dir, &args);

    // The largest cluster and the isolated sites, counted here from the exported labels.
    let labels = read_u32_npy(&npy);
    let mut sizes: HashMap<u32, usize> = HashMap::new();
    for &l in labels.iter().filter(|&&l| l != 0) {
        *sizes.entry(l).or_default() += 1;
    }
    let (&largest, _) = sizes
        .iter()
        .max_by_key(|(&l, &n)| (n, std::cmp::Reverse(l)))
        .unwrap();
    let n = 24usize;
    let z = 12usize;
    let at = |x: usize, y: usize| labels[(z * n + y) * n + x];

    // Where each cell landed: the same picture drawn through the library.
    let (model, conditions) = {
        let material = tunnelgrid::model::presets::preset("default").unwrap();
        let mut material = material;
        material.lattice.cells = [24, 24, 24];
        material.conditions.pressure_gpa = 16.5;
        material.conditions.temperature_k = 300.0;
        let model = tunnelgrid::model::Model::new(material).unwrap();
        let c = model.default_conditions();
        (model, c)
    };
    let engine = CpuEngine::default();
    let fields = Fields::new(model, conditions, &engine).unwrap();
    let map = field_heatmap(
        &fields,
        PictureField::Clusters,
        Plane::Slice { axis: 2, index: 12 },
        "t",
    )
    .unwrap();
    let size = picture_size(&map);
    let geom = draw_heatmap(&map, size).unwrap().1[0];

    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), size);
    assert!(distinct_colours(&img) > 8);
    let (mut checked_largest, mut checked_isolated) = (0, 0);
    for y in 0..n {
        for x in 0..n {
            let centre = geom.pixel(x as f64 + 0.5, y as f64 + 0.5);
            let l = at(x, y);
            if l == largest {
                assert_eq!(pixel(&img, centre), LARGEST_CLUSTER, "cell ({x}, {y})");
                checked_largest += 1;
            } else {
                assert_ne!(pixel(&img, centre), LARGEST_CLUSTER, "cell ({x}, {y})");
                if l != 0 && sizes[&l] == 1 {
                    assert_eq!(pixel(&img, centre), ISOLATED_SITE, "cell ({x}, {y})");
                    checked_isolated += 1;
                }
            }
        }
    }
    assert!(checked_largest > 20 && checked_isolated > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_field_draws_a_picture_with_a_scale() {
    let dir = scratch("fields");
    for (field, extra) in [
        ("tunnels", vec!["--slice", "y=5"]),
        ("gap", vec!["--project", "mean"]),
        ("current", vec!["--project", "max", "--axis", "y"]),
        ("sc", vec!["--pressure", "150", "--temperature", "10"]),
    ] {
        let png = dir.join(format!("{field}.png"));
        let mut args = vec!["render", "--field", field];
        // The sc picture needs high pressure and low temperature instead of MODEL's.
        args.extend_from_slice(if field == "sc" { &MODEL[..4] } else { &MODEL });
        args.extend(extra.iter().copied());
        args.extend_from_slice(&["--out", png.to_str().unwrap()]);
        ok(&dir, &args);
        let img = image::open(&png).unwrap().to_rgb8();
        assert!(img.width() >= 900 && img.height() >= 480, "{field}");
        assert!(distinct_colours(&img) > 20, "{field} looks uniform");
        if field == "sc" {
            let blue = img
                .pixels()
                .filter(|p| Rgb(p[0], p[1], p[2]) == LARGEST_SC_CLUSTER)
                .count();
            assert!(blue > 5000, "superconducting network not drawn ({blue} px)");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vti_export_and_volume_render() {
    let dir = scratch("vti");
    let png = dir.join("gap.png");
    let mut args = vec!["render", "--field", "gap", "--export", "vti"];
    args.extend_from_slice(&MODEL);
    args.extend_from_slice(&["--out", png.to_str().unwrap()]);
    ok(&dir, &args);
    let vti = std::fs::read(dir.join("gap.vti")).unwrap();
    let head = String::from_utf8_lossy(&vti[..400.min(vti.len())]).into_owned();
    assert!(head.contains("<VTKFile type=\"ImageData\""), "{head}");
    assert!(head.contains("WholeExtent=\"0 23 0 23 0 23\""), "{head}");
    let marker = b"encoding=\"raw\">\n   _";
    let start = vti.windows(marker.len()).position(|w| w == marker).unwrap() + marker.len();
    let len = u64::from_le_bytes(vti[start..start + 8].try_into().unwrap());
    assert_eq!(len, 24 * 24 * 24 * 4);
    assert!(vti.ends_with(b"</VTKFile>\n"));

    // A voxel volume (here: the occupancy of the largest cluster) renders like a lattice.
    let vol = dir.join("vol.npy");
    let mut args = vec!["export", "--field", "occupancy", "--keep", "largest"];
    args.extend_from_slice(&MODEL);
    args.extend_from_slice(&["--out", vol.to_str().unwrap()]);
    ok(&dir, &args);
    let png = dir.join("vol.png");
    ok(
        &dir,
        &[
            "render",
            "--volume",
            vol.to_str().unwrap(),
            "--field",
            "clusters",
            "--out",
            png.to_str().unwrap(),
        ],
    );
    let img = image::open(&png).unwrap().to_rgb8();
    let red = img
        .pixels()
        .filter(|p| Rgb(p[0], p[1], p[2]) == LARGEST_CLUSTER)
        .count();
    assert!(
        red > 1000,
        "the kept cluster is the volume's largest ({red} px)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_render_flags_get_clear_errors() {
    let dir = scratch("errors");
    let expect = |args: &[&str], needles: &[&str]| {
        let mut all = vec!["render", "--size", "8"];
        all.extend_from_slice(args);
        let out = tunnelgrid(&all, &dir);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = text(&out.stderr);
        for n in needles {
            assert!(err.contains(n), "{args:?}: '{n}' not in: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    };
    expect(
        &["--field", "clusters", "--slice", "z=8"],
        &["--slice", "0..=7"],
    );
    expect(
        &["--field", "clusters", "--slice", "q=1"],
        &["--slice", "x, y or z"],
    );
    expect(
        &["--field", "clusters", "--slice", "z"],
        &["--slice", "AXIS=K"],
    );
    expect(
        &["--field", "clusters", "--out", "a.jpg"],
        &["--out", ".png"],
    );
    expect(
        &[
            "--field",
            "current",
            "--pressure",
            "300",
            "--temperature",
            "10",
        ],
        &["superconducts"],
    );
    expect(
        &["--field", "clusters", "--slice", "z=1", "--project", "max"],
        &["--project"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
