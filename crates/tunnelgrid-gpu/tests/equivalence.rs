//! The GPU engine against the CPU reference engine (MODEL.md §5): bond masks, cluster
//! partitions (labels are canonical — the smallest site index of each cluster — so they must be
//! equal, not just equivalent), observables and states, with one slab and with many.
//!
//! Runs on whatever adapter wgpu finds; CI installs lavapipe. Under CI a missing adapter fails
//! the tests; elsewhere they say loudly that they were skipped.

use proptest::prelude::*;
use std::sync::{Mutex, OnceLock};
use tunnelgrid_cpu::{label_clusters, CpuEngine};
use tunnelgrid_gpu::{GpuEngine, GpuOptions};
use tunnelgrid_model::presets::preset;
use tunnelgrid_model::{
    BondParams, Boundary, Conditions, Engine, LatticeKind, Mode, Model, Network, Occupancy, Report,
};
use tunnelgrid_testkit::rng::TestRng;

fn engine() -> Option<&'static Mutex<GpuEngine>> {
    static ENGINE: OnceLock<Option<Mutex<GpuEngine>>> = OnceLock::new();
    ENGINE
        .get_or_init(|| match GpuEngine::new() {
            Ok(e) => {
                eprintln!("GPU tests run on {}", e.context().describe());
                Some(Mutex::new(e))
            }
            Err(e) if std::env::var_os("CI").is_some() => panic!("CI needs a GPU adapter: {e}"),
            Err(e) => {
                eprintln!("SKIPPED: GPU equivalence tests found no adapter ({e})");
                None
            }
        })
        .as_ref()
}

fn model(
    name: &str,
    kind: LatticeKind,
    mode: Option<Mode>,
    cells: [u32; 3],
    boundary: [Boundary; 3],
) -> Model {
    let mut material = preset(name).unwrap();
    material.lattice.kind = kind;
    if kind != LatticeKind::Tetragonal {
        material.lattice.c_over_a = 1.0;
    }
    if let Some(mode) = mode {
        material.mode = mode;
    }
    material.lattice.cells = cells;
    material.lattice.boundary = boundary;
    Model::new(material).unwrap()
}

/// A report without what legitimately differs between engines.
fn comparable(mut r: Report) -> Report {
    r.engine = String::new();
    r.timings = Default::default();
    r.elapsed_s = 0.0;
    r.mean_gap_ev = r.mean_gap_ev.map(|g| (g * 1e4).round() / 1e4);
    r
}

/// Labels of both networks and the report, on both engines, with `slab_layers` on the GPU.
fn assert_engines_agree(model: &Model, conditions: &Conditions, slab_layers: Option<u32>) {
    assert_engines_agree_streaming(model, conditions, slab_layers, false);
}

/// As `assert_engines_agree`, streaming the slabs through one set of buffers if `streaming`.
fn assert_engines_agree_streaming(
    model: &Model,
    conditions: &Conditions,
    slab_layers: Option<u32>,
    streaming: bool,
) {
    let Some(gpu) = engine() else { return };
    let shared = gpu.lock().unwrap();
    let options = GpuOptions {
        slab_layers,
        force_streaming: streaming,
        ..GpuOptions::default()
    };
    let gpu = shared.with_options(options);
    let cpu = CpuEngine::default();
    let what = format!(
        "{} {} {:?} {:?} slab layers {slab_layers:?} streaming {streaming}",
        model.material.name, model.lattice.kind, model.lattice.cells, model.lattice.boundary
    );

    let gpu_bonds = gpu.bond_masks(model, conditions).unwrap();
    let (gpu_masks, gpu_totals) = (gpu_bonds.masks, gpu_bonds.totals);
    let fields = cpu.bond_masks(model, conditions).unwrap();
    let differing = gpu_masks
        .iter()
        .zip(&fields.masks)
        .filter(|(g, c)| g != c)
        .count() as u64;
    if model.material.mode.is_bernoulli() {
        assert_eq!(differing, 0, "{what}: Bernoulli masks are bit-identical");
    } else {
        // MODEL.md §5: only bonds within 1e-5 of a threshold may differ.
        assert!(
            differing <= fields.totals.near_threshold_bonds,
            "{what}: {differing} masks differ, {} bonds near a threshold",
            fields.totals.near_threshold_bonds
        );
        if differing > 0 {
            eprintln!("{what}: {differing} site masks differ on near-threshold bonds");
        }
    }
    assert_eq!(
        gpu_totals.near_threshold_bonds, fields.totals.near_threshold_bonds,
        "{what}"
    );
    // Both labelling strategies: blocks in workgroup memory (hardware default) and global only.
    for blocks in [true, false] {
        let gpu = shared.with_options(GpuOptions {
            block_labelling: Some(blocks),
            ..options
        });
        for network in [Network::Tunnel, Network::Superconducting] {
            let gpu_labels = gpu
                .cluster_roots(model, conditions, &fields.masks, network)
                .unwrap();
            // Label the GPU's own masks on the CPU, so near-threshold differences cannot matter.
            let mut cpu_labels = vec![0u32; gpu_masks.len()];
            label_clusters(&model.lattice, &gpu_masks, network, 3, &mut cpu_labels);
            assert!(
                gpu_labels == cpu_labels,
                "{what}: {network:?} labels differ (block labelling {blocks})"
            );
        }
        if differing == 0 {
            let report = gpu.analyze(model, conditions).unwrap();
            let multi_slab = slab_layers.is_some_and(|l| l < model.lattice.cells[2]);
            assert_eq!(
                report.engine.contains("streamed"),
                streaming && multi_slab,
                "{what}: {}",
                report.engine
            );
            let g = comparable(report);
            let c = comparable(cpu.analyze(model, conditions).unwrap());
            assert_eq!(g, c, "{what}: reports differ (block labelling {blocks})");
        }
    }
}

#[test]
fn every_lattice_and_bernoulli_mode_agrees() {
    for kind in LatticeKind::ALL {
        for mode in [Mode::BernoulliSite, Mode::BernoulliBond] {
            for boundary in [
                [Boundary::Open; 3],
                [Boundary::Periodic, Boundary::Open, Boundary::Periodic],
            ] {
                let cells = if kind.is_2d() { [23, 17, 1] } else { [9, 7, 8] };
                let m = model("bernoulli-site", kind, Some(mode), cells, boundary);
                let p = if mode == Mode::BernoulliSite {
                    0.45
                } else {
                    0.4
                };
                let conditions = Conditions {
                    p,
                    seed: 5,
                    ..m.default_conditions()
                };
                assert_engines_agree(&m, &conditions, None);
                if !kind.is_2d() {
                    assert_engines_agree(&m, &conditions, Some(3));
                }
            }
        }
    }
}

#[test]
fn physical_presets_agree_within_the_model_tolerance() {
    for (name, pressure, temperature) in [
        ("default", 5.0, 10.0),
        ("default", 60.0, 300.0),
        ("default", 150.0, 10.0),
        ("layered", 180.0, 10.0),
        ("alloy", 0.0, 300.0),
    ] {
        let mut material = preset(name).unwrap();
        material.lattice.cells = [20, 18, 16];
        material.lattice.vacancy = 0.05;
        let m = Model::new(material).unwrap();
        let conditions = Conditions {
            pressure_gpa: pressure,
            temperature_k: temperature,
            ..m.default_conditions()
        };
        assert_engines_agree(&m, &conditions, None);
        assert_engines_agree(&m, &conditions, Some(4));
        assert_engines_agree_streaming(&m, &conditions, Some(5), true);
    }
}

#[test]
fn a_spanning_lattice_split_into_many_slabs_agrees() {
    // Near p_c the clusters wind through many slabs; one layer per slab is the hardest merge.
    let m = model(
        "bernoulli-site",
        LatticeKind::Sc,
        None,
        [24, 24, 24],
        [Boundary::Periodic, Boundary::Open, Boundary::Periodic],
    );
    let conditions = Conditions {
        p: 0.3116,
        seed: 9,
        ..m.default_conditions()
    };
    for layers in [None, Some(1), Some(5)] {
        assert_engines_agree(&m, &conditions, layers);
    }
    // A lattice larger than device memory streams its slabs; forcing it here tests that path.
    assert_engines_agree_streaming(&m, &conditions, Some(5), true);
    assert_engines_agree_streaming(&m, &conditions, Some(1), true);
}

#[test]
fn gpu_hash_matches_the_pinned_cpu_hash() {
    // Bernoulli-bond masks at p = 0.5 expose six streams' hashes bit for bit.
    let m = model(
        "bernoulli-bond",
        LatticeKind::Fcc,
        None,
        [5, 5, 5],
        [Boundary::Periodic; 3],
    );
    let conditions = Conditions {
        p: 0.5,
        seed: u64::MAX - 3,
        ..m.default_conditions()
    };
    assert_engines_agree(&m, &conditions, None);
    let params = BondParams::new(&m.material, &m.lattice, &conditions);
    assert_eq!(
        params.keys.bond[5].hash(7),
        tunnelgrid_model::hash::site_hash(u64::MAX - 3, 7, 11)
    );
}

/// A volume-mode model: an sc lattice of `cells` whose voxels are nonzero (any of 1..=255) with
/// probability `fill`, drawn from the test stream seeded by `seed`.
fn random_volume(cells: [u32; 3], boundary: [Boundary; 3], fill: f64, seed: u64) -> Model {
    let sites = cells.iter().map(|&n| n as usize).product();
    let mut rng = TestRng::new(seed);
    let voxels: Vec<u8> = (0..sites)
        .map(|_| {
            if rng.uniform() < fill {
                1 + rng.below(255) as u8
            } else {
                0
            }
        })
        .collect();
    let mut material = preset("default").unwrap();
    material.mode = Mode::Volume;
    material.lattice.kind = LatticeKind::Sc;
    material.lattice.c_over_a = 1.0;
    material.lattice.vacancy = 0.0;
    material.lattice.cells = cells;
    material.lattice.boundary = boundary;
    material.volume = Some(Occupancy(voxels.into()));
    Model::new(material).unwrap()
}

#[test]
fn volumes_agree_in_one_slab_many_slabs_and_streaming() {
    // Odd sizes, so that slabs and the packed occupancy words end mid-row; periodic z makes the
    // last slab's forward bonds reach layer 0 through the occupancy's extra layer.
    for (fill, boundary) in [
        (0.2, [Boundary::Open; 3]),
        (0.3116, [Boundary::Open; 3]),
        (
            0.5,
            [Boundary::Periodic, Boundary::Open, Boundary::Periodic],
        ),
        (0.8, [Boundary::Periodic; 3]),
    ] {
        let m = random_volume([37, 23, 19], boundary, fill, (fill * 1e4) as u64);
        let conditions = m.default_conditions();
        assert_engines_agree(&m, &conditions, None);
        assert_engines_agree(&m, &conditions, Some(1));
        assert_engines_agree(&m, &conditions, Some(4));
        assert_engines_agree_streaming(&m, &conditions, Some(4), true);
        assert_engines_agree_streaming(&m, &conditions, Some(1), true);
    }
}

#[test]
fn volume_edge_cases_agree() {
    // Empty, full, one layer, one row and a single voxel, in one and in many slabs.
    for (cells, fill) in [
        ([9, 8, 7], 0.0),
        ([9, 8, 7], 1.0),
        ([11, 13, 1], 0.6),
        ([17, 1, 1], 0.7),
        ([1, 1, 5], 0.7),
        ([1, 1, 1], 1.0),
    ] {
        for boundary in [[Boundary::Open; 3], [Boundary::Periodic; 3]] {
            let m = random_volume(cells, boundary, fill, 77);
            let conditions = m.default_conditions();
            assert_engines_agree(&m, &conditions, None);
            assert_engines_agree(&m, &conditions, Some(2));
            assert_engines_agree_streaming(&m, &conditions, Some(2), true);
        }
    }
}

#[test]
fn volumes_beyond_6_connectivity_are_refused_on_the_gpu() {
    let Some(gpu) = engine() else { return };
    let gpu = gpu.lock().unwrap();
    let mut material = random_volume([6, 5, 4], [Boundary::Open; 3], 0.5, 3).material;
    material.lattice.connectivity = Some(18);
    let m = Model::new(material).unwrap();
    let err = gpu
        .analyze(&m, &m.default_conditions())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--connectivity 18") && err.contains("--connectivity 6"),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_small_lattices_agree(
        kind in prop::sample::select(LatticeKind::ALL.to_vec()),
        site_mode in any::<bool>(),
        nx in 1u32..8, ny in 1u32..8, nz in 1u32..8,
        periodic in prop::array::uniform3(any::<bool>()),
        p in 0.0f64..1.0,
        seed in any::<u64>(),
        layers in prop::option::of(1u32..4),
    ) {
        let nz = if kind.is_2d() { 1 } else { nz };
        let boundary = periodic.map(|p| if p { Boundary::Periodic } else { Boundary::Open });
        let mode = if site_mode { Mode::BernoulliSite } else { Mode::BernoulliBond };
        let m = model("bernoulli-site", kind, Some(mode), [nx, ny, nz], boundary);
        let conditions = Conditions { p, seed, ..m.default_conditions() };
        assert_engines_agree(&m, &conditions, layers);
    }
}
