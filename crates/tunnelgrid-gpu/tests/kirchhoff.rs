//! The GPU Kirchhoff solver (f32 CG with f64 refinement, MODEL.md §7) against independent
//! references: exact circuits solved by hand, random lattice networks of a few thousand nodes
//! solved by a dense LU (`tunnelgrid_testkit::dense`), and the CPU engine's f64 solver.
//! Every comparison is to 1e-6 relative.
//!
//! Runs on whatever adapter wgpu finds; CI installs lavapipe. Under CI a missing adapter fails
//! the tests; elsewhere they say loudly that they were skipped.

use std::sync::{Mutex, OnceLock};
use tunnelgrid_cpu::kirchhoff::stencil::axis_stencil;
use tunnelgrid_cpu::kirchhoff::{axis_resistance, Conduction, SolveOptions};
use tunnelgrid_gpu::{GpuEngine, GpuOptions, GpuResistance, GpuSolveOptions};
use tunnelgrid_model::params::{sc_bit, tunnel_bit, ALL_SC_BITS};
use tunnelgrid_model::{BondParams, Boundary, Conditions, Lattice, LatticeKind, Model, Solver};
use tunnelgrid_testkit::assert_rel;
use tunnelgrid_testkit::dense::dense_lattice_resistance;
use tunnelgrid_testkit::lattices::{build, material, tunnel_network};
use tunnelgrid_testkit::rng::TestRng;

fn engine() -> Option<&'static Mutex<GpuEngine>> {
    static ENGINE: OnceLock<Option<Mutex<GpuEngine>>> = OnceLock::new();
    ENGINE
        .get_or_init(|| match GpuEngine::new() {
            Ok(e) => {
                eprintln!("GPU Kirchhoff tests run on {}", e.context().describe());
                Some(Mutex::new(e))
            }
            Err(e) if std::env::var_os("CI").is_some() => panic!("CI needs a GPU adapter: {e}"),
            Err(e) => {
                eprintln!("SKIPPED: GPU Kirchhoff tests found no adapter ({e})");
                None
            }
        })
        .as_ref()
}

/// The shared engine, one test at a time (a test that panicked poisons the mutex, recovered
/// here: the engine itself is immutable, so nothing of that test is left in it).
fn locked(gpu: &Mutex<GpuEngine>) -> std::sync::MutexGuard<'_, GpuEngine> {
    gpu.lock().unwrap_or_else(|e| e.into_inner())
}

/// The same device and pipelines with at most `layers` z layers per slab.
fn with_slabs(gpu: &GpuEngine, layers: Option<u32>) -> GpuEngine {
    gpu.with_options(GpuOptions {
        slab_layers: layers,
        ..GpuOptions::default()
    })
}

/// The GPU resistance along `axis` with the multigrid solver (the default), checked against the
/// Jacobi solver of the same engine (same slabs) to 1e-6: every test that calls this covers
/// both preconditioners.
fn gpu_resistance(
    gpu: &GpuEngine,
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    axis: usize,
) -> GpuResistance {
    let amg = gpu_resistance_with(
        gpu,
        lattice,
        params,
        masks,
        axis,
        &GpuSolveOptions::default(),
    );
    let jacobi = gpu_resistance_with(
        gpu,
        lattice,
        params,
        masks,
        axis,
        &GpuSolveOptions {
            solver: Solver::Jacobi,
            ..GpuSolveOptions::default()
        },
    );
    assert_eq!(
        amg.slabs, jacobi.slabs,
        "row blocks of the fine matrix = z slabs"
    );
    assert!(jacobi.levels.is_empty());
    assert_eq!(
        amg.levels.is_empty(),
        amg.axis.conduction != Conduction::Normal,
        "a hierarchy exactly when there is something to solve"
    );
    if amg.axis.resistance_ohm.is_finite() {
        assert_rel(
            amg.axis.resistance_ohm,
            jacobi.axis.resistance_ohm,
            2e-6,
            &format!("multigrid and Jacobi on the GPU, axis {axis}"),
        );
    } else {
        assert_eq!(amg.axis.resistance_ohm, jacobi.axis.resistance_ohm);
    }
    amg
}

fn gpu_resistance_with(
    gpu: &GpuEngine,
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    axis: usize,
    options: &GpuSolveOptions,
) -> GpuResistance {
    let result = gpu
        .solve_axis(lattice, params, masks, None, axis, options, |_, _| {})
        .unwrap();
    assert!(!result.axis.resistance_ohm.is_nan());
    assert!(result.axis.relative_residual <= 1e-6);
    eprintln!(
        "axis {axis}: R = {:.9e} Ω, {} inner iterations, {} refinements, residual {:.1e}",
        result.axis.resistance_ohm,
        result.axis.iterations,
        result.refinements,
        result.axis.relative_residual
    );
    // A correct f32 operator gains about three digits per refinement (inner tolerance 1e-3);
    // a wrong one would still converge through the f64 residual, only slowly, so this is what
    // shows the device computes A·p right.
    assert!(
        result.refinements <= 4,
        "{} refinements: the device's operator is not the host's",
        result.refinements
    );
    result
}

#[test]
fn full_lattices_of_bernoulli_bonds_match_the_hand_solution() {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    // p = 1: every bond is R0, so the block is ny·nz parallel chains of nx − 1 resistors.
    for (kind, cells) in [
        (LatticeKind::Square, [20u32, 12, 1]),
        (LatticeKind::Sc, [10, 8, 6]),
    ] {
        let m = material("bernoulli-bond", kind, cells, [Boundary::Open; 3]);
        let (model, params, masks) = build(m, 0.0, 300.0, 1.0, 1);
        let r0 = params.r0_ohm;
        let axes = model.lattice.axes();
        for axis in 0..axes {
            let chains: f64 = (0..axes)
                .filter(|&i| i != axis)
                .map(|i| cells[i] as f64)
                .product();
            let expected = r0 * (cells[axis] - 1) as f64 / chains;
            // From 0, not from the linear profile, which is already the solution here.
            let from_zero = GpuSolveOptions {
                linear_guess: false,
                ..Default::default()
            };
            let result =
                gpu_resistance_with(&gpu, &model.lattice, &params, &masks, axis, &from_zero);
            assert_eq!(result.axis.conduction, Conduction::Normal);
            assert!(result.axis.iterations > 0 && result.refinements > 0);
            assert_rel(
                result.axis.resistance_ohm,
                expected,
                1e-6,
                &format!("{kind:?} axis {axis}"),
            );
        }
    }
}

#[test]
fn a_contracted_superconducting_cluster_matches_the_dense_solve() {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    // A perfect sc lattice of normal tunnels (no vibration, 50 GPa), with a block of bonds
    // marked superconducting: one contracted node of 4·3·3 sites in the middle.
    let mut m = material("default", LatticeKind::Sc, [9, 7, 6], [Boundary::Open; 3]);
    m.eos.sigma_static = 0.0;
    m.eos.sigma_thermal = 0.0;
    let (model, params, mut masks) = build(m, 50.0, 300.0, 0.5, 1);
    let lattice = &model.lattice;
    assert!(masks.iter().all(|&m| m & ALL_SC_BITS == 0));
    let inside =
        |c: [u32; 3]| (3..=6).contains(&c[0]) && (2..=4).contains(&c[1]) && (2..=4).contains(&c[2]);
    for site in 0..lattice.sites() {
        let (cell, b) = lattice.coords(site);
        for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
            if let Some(nb) = lattice.neighbour(cell, bond) {
                let ok = masks[site as usize] & tunnel_bit(k) != 0;
                if ok && inside(cell) && inside(lattice.coords(nb.site).0) {
                    masks[site as usize] |= sc_bit(k);
                }
            }
        }
    }
    for axis in 0..3 {
        let stencil =
            axis_stencil(lattice, &params, &masks, None, axis, &Default::default()).unwrap();
        assert_eq!(stencil.clusters(), 1, "one contracted node");
        assert_eq!(stencil.cluster_members.len(), 4 * 3 * 3);
        let expected = dense_lattice_resistance(lattice, &params, &masks, axis);
        let result = gpu_resistance(&gpu, lattice, &params, &masks, axis);
        assert_rel(
            result.axis.resistance_ohm,
            expected,
            1e-6,
            &format!("contracted cluster, axis {axis}"),
        );
    }
}

#[test]
fn random_lattice_networks_agree_with_a_dense_solve() {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    // Tunnel mode near the gap closing with vacancies: random resistances (r = R0·Δ/Δ0), missing
    // bonds and finite superconducting clusters (contracted on the GPU by the gather pass);
    // open x, periodic y and z. 1 584 sites.
    let (model, params, masks) = tunnel_network();
    for axis in 0..3 {
        let expected = dense_lattice_resistance(&model.lattice, &params, &masks, axis);
        let result = gpu_resistance(&gpu, &model.lattice, &params, &masks, axis);
        assert_rel(
            result.axis.resistance_ohm,
            expected,
            1e-6,
            &format!("tunnel lattice axis {axis}"),
        );
    }

    // Bond percolation above threshold on sc (2 197 sites) and bcc (2 basis sites, backward
    // bonds across the basis), periodic along the current axis for x.
    for (kind, cells, p, seed) in [
        (LatticeKind::Sc, [13u32, 13, 13], 0.45, 3u64),
        (LatticeKind::Bcc, [9, 9, 9], 0.3, 9),
    ] {
        let m = material(
            "bernoulli-bond",
            kind,
            cells,
            [Boundary::Periodic, Boundary::Open, Boundary::Periodic],
        );
        let (model, params, masks) = build(m, 0.0, 300.0, p, seed);
        for axis in 0..3 {
            let expected = dense_lattice_resistance(&model.lattice, &params, &masks, axis);
            let result = gpu_resistance(&gpu, &model.lattice, &params, &masks, axis);
            assert_rel(
                result.axis.resistance_ohm,
                expected,
                1e-6,
                &format!("{kind:?} bond p = {p}, axis {axis}"),
            );
        }
    }
}

/// GPU against the CPU engine's f64 solver (relative residual 1e-10) on every axis.
fn assert_gpu_matches_cpu(model: &Model, params: &BondParams, masks: &[u32], what: &str) {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    for axis in 0..model.lattice.axes() {
        let cpu = axis_resistance(
            &model.lattice,
            params,
            masks,
            None,
            axis,
            &SolveOptions::default(),
            |_, _| {},
        )
        .unwrap();
        let result = gpu_resistance(&gpu, &model.lattice, params, masks, axis);
        assert_eq!(result.axis.conduction, cpu.conduction, "{what} axis {axis}");
        assert_eq!(result.axis.free_nodes, cpu.free_nodes, "{what} axis {axis}");
        assert_eq!(result.axis.resistors, cpu.resistors, "{what} axis {axis}");
        if cpu.conduction == Conduction::Normal {
            assert_rel(
                result.axis.resistance_ohm,
                cpu.resistance_ohm,
                1e-6,
                &format!("{what} axis {axis}"),
            );
            assert_rel(
                result.axis.resistivity_ohm_m,
                cpu.resistivity_ohm_m,
                1e-6,
                &format!("{what} resistivity axis {axis}"),
            );
        } else {
            assert_eq!(result.axis.resistance_ohm, cpu.resistance_ohm);
        }
    }
}

#[test]
fn gpu_and_cpu_agree_on_the_default_preset_and_bernoulli_bonds() {
    // The default preset in its conducting range (about 5 to 117 GPa at 10 K), with vibration.
    let m = material(
        "default",
        LatticeKind::Sc,
        [16, 16, 16],
        [Boundary::Open; 3],
    );
    let (model, params, masks) = build(m, 60.0, 300.0, 0.5, 7);
    assert_gpu_matches_cpu(&model, &params, &masks, "default 60 GPa");
    // Bernoulli bonds at p = 0.6 (sc threshold 0.2488), periodic y.
    let m = material(
        "bernoulli-bond",
        LatticeKind::Sc,
        [18, 16, 14],
        [Boundary::Open, Boundary::Periodic, Boundary::Open],
    );
    let (model, params, masks) = build(m, 0.0, 300.0, 0.6, 11);
    assert_gpu_matches_cpu(&model, &params, &masks, "bernoulli bond p = 0.6");
    // Near the threshold: sparse, tortuous paths, many dead ends.
    let m = material(
        "bernoulli-bond",
        LatticeKind::Sc,
        [16, 16, 16],
        [Boundary::Open; 3],
    );
    let (model, params, masks) = build(m, 0.0, 300.0, 0.3, 2);
    assert_gpu_matches_cpu(&model, &params, &masks, "bernoulli bond p = 0.3");
}

#[test]
fn insulating_and_superconducting_samples() {
    let Some(gpu) = engine() else { return };
    let m = material(
        "default",
        LatticeKind::Sc,
        [12, 12, 12],
        [Boundary::Open; 3],
    );
    // 0 GPa at 400 K: insulating (below ≈ 19 GPa), so R = ∞, never NaN.
    let (model, params, masks) = build(m.clone(), 0.0, 400.0, 0.5, 1);
    for axis in 0..3 {
        let gpu = locked(gpu);
        let result = gpu_resistance(&gpu, &model.lattice, &params, &masks, axis);
        assert_eq!(result.axis.conduction, Conduction::Insulating);
        assert_eq!(result.axis.resistance_ohm, f64::INFINITY);
        assert_eq!(result.axis.resistivity_ohm_m, f64::INFINITY);
    }
    // 250 GPa at 10 K: superconducting (above ≈ 117 GPa), so R = 0.
    let (model, params, masks) = build(m, 250.0, 10.0, 0.5, 1);
    for axis in 0..3 {
        let gpu = locked(gpu);
        let result = gpu_resistance(&gpu, &model.lattice, &params, &masks, axis);
        assert_eq!(result.axis.conduction, Conduction::Superconducting);
        assert_eq!(result.axis.resistance_ohm, 0.0);
        assert_eq!(result.axis.iterations, 0);
    }
    // A Bernoulli network below threshold: insulating too.
    let m = material(
        "bernoulli-bond",
        LatticeKind::Sc,
        [12, 12, 12],
        [Boundary::Open; 3],
    );
    let (model, params, masks) = build(m, 0.0, 300.0, 0.1, 4);
    let gpu = locked(gpu);
    let result = gpu_resistance(&gpu, &model.lattice, &params, &masks, 0);
    assert_eq!(result.axis.resistance_ohm, f64::INFINITY);
}

/// The resistance along every axis with the vectors cut into slabs of at most `layers` z
/// layers, against `expected` per axis.
fn assert_slabs_agree(
    gpu: &GpuEngine,
    model: &Model,
    params: &BondParams,
    masks: &[u32],
    expected: &[f64],
    what: &str,
) {
    let nz = model.lattice.cells[2];
    for layers in [1, 2, 5] {
        let sliced = with_slabs(gpu, Some(layers));
        for (axis, &expected) in expected.iter().enumerate() {
            let result = gpu_resistance(&sliced, &model.lattice, params, masks, axis);
            assert_eq!(result.slabs as u32, nz.div_ceil(layers), "{what}");
            assert_rel(
                result.axis.resistance_ohm,
                expected,
                1e-6,
                &format!("{what}, slabs of {layers} layers, axis {axis}"),
            );
        }
    }
}

#[test]
fn slabs_of_any_thickness_agree_with_a_dense_solve() {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    // Tunnel mode with vacancies and finite superconducting clusters, which thin slabs cut into
    // several segments each; periodic z, so the first and last slabs exchange halos.
    let (model, params, masks) = tunnel_network();
    let stencil = axis_stencil(
        &model.lattice,
        &params,
        &masks,
        None,
        0,
        &Default::default(),
    )
    .unwrap();
    let across_layers = (0..stencil.clusters()).any(|c| {
        let members = &stencil.cluster_members
            [stencil.cluster_start[c] as usize..stencil.cluster_start[c + 1] as usize];
        let layer = model.lattice.sites_per_layer() as u32;
        members.first().map(|m| m / layer) != members.last().map(|m| m / layer)
    });
    assert!(across_layers, "a contracted cluster spans z layers");
    let expected: Vec<f64> = (0..3)
        .map(|axis| dense_lattice_resistance(&model.lattice, &params, &masks, axis))
        .collect();
    assert_slabs_agree(&gpu, &model, &params, &masks, &expected, "tunnel sc");

    // Bond percolation on bcc (backward bonds across the basis reach the layer below) with open
    // z, and on fcc with periodic z.
    for (kind, cells, p, z) in [
        (LatticeKind::Bcc, [9u32, 9, 9], 0.3, Boundary::Open),
        (LatticeKind::Fcc, [6, 6, 7], 0.2, Boundary::Periodic),
    ] {
        let m = material(
            "bernoulli-bond",
            kind,
            cells,
            [Boundary::Periodic, Boundary::Open, z],
        );
        let (model, params, masks) = build(m, 0.0, 300.0, p, 9);
        let expected: Vec<f64> = (0..3)
            .map(|axis| dense_lattice_resistance(&model.lattice, &params, &masks, axis))
            .collect();
        assert!(expected.iter().all(|r| r.is_finite()), "{kind:?} conducts");
        assert_slabs_agree(
            &gpu,
            &model,
            &params,
            &masks,
            &expected,
            &format!("{kind:?} bond p = {p}"),
        );
    }
}

#[test]
fn the_current_map_matches_the_cpu_solver() {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    // Superconducting clusters, some of them electrodes, and a bond network near threshold.
    let tunnel = tunnel_network();
    let m = material(
        "bernoulli-bond",
        LatticeKind::Sc,
        [14, 13, 12],
        [Boundary::Open; 3],
    );
    let bond = build(m, 0.0, 300.0, 0.3, 2);
    // Refined to the CPU's 1e-10, so the maps agree to f32 rounding: local currents are only
    // as good as the potentials, and a 1e-6 residual leaves local errors of ~1e-4.
    let options = GpuSolveOptions {
        node_currents: true,
        tolerance: 1e-10,
        ..Default::default()
    };
    for (what, (model, params, masks)) in [("tunnel", tunnel), ("bond p = 0.3", bond)] {
        for (axis, layers) in [(0, None), (1, None), (2, Some(3))] {
            let sliced = with_slabs(&gpu, layers);
            let cpu = axis_resistance(
                &model.lattice,
                &params,
                &masks,
                None,
                axis,
                &SolveOptions {
                    node_currents: true,
                    ..Default::default()
                },
                |_, _| {},
            )
            .unwrap();
            let result =
                gpu_resistance_with(&sliced, &model.lattice, &params, &masks, axis, &options);
            let (Some(expected), Some(got)) = (cpu.site_current_a, result.axis.site_current_a)
            else {
                panic!("{what} axis {axis}: both solvers map the current");
            };
            let largest = expected.iter().fold(0.0f32, |m, &c| m.max(c));
            assert!(largest > 0.0, "{what} axis {axis} carries current");
            // The same current at every site (dead ends carry 0 up to rounding in both).
            for (site, (&e, &g)) in expected.iter().zip(&got).enumerate() {
                assert!(
                    (e - g).abs() <= 1e-6 * largest,
                    "{what} axis {axis} site {site}: {g} vs {e} (largest {largest})"
                );
            }
        }
    }
}

/// A reproducible direction in [−1, 1) per site.
fn random_direction(sites: usize, seed: u64) -> Vec<f64> {
    let mut rng = TestRng::new(seed);
    (0..sites).map(|_| 2.0 * rng.uniform() - 1.0).collect()
}

/// The refinement on the host drives every resistance to 1e-6 whatever the device computes, so
/// the resistance tests alone would miss a slightly wrong operator (a stale halo, a dropped
/// backward bond). Here the device's A·p is compared entry by entry with the f64 stencil's, on
/// a random direction: every lattice kind, open and periodic z, one slab and slabs of 1 and 2
/// layers, with contracted clusters, and periodic lattices one or two layers thick (a slab that
/// is its own halo).
#[test]
fn the_device_operator_equals_its_cpu_twin_entry_by_entry() {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    let mut cases = vec![("tunnel sc".to_string(), tunnel_network())];
    for kind in LatticeKind::ALL {
        let cells = if kind.is_2d() { [9, 8, 1] } else { [5, 4, 5] };
        for z in [Boundary::Open, Boundary::Periodic] {
            let m = material(
                "bernoulli-bond",
                kind,
                cells,
                [Boundary::Periodic, Boundary::Open, z],
            );
            cases.push((format!("{kind:?} z {z:?}"), build(m, 0.0, 300.0, 0.7, 3)));
        }
    }
    for nz in [1, 2] {
        let m = material(
            "bernoulli-bond",
            LatticeKind::Sc,
            [6, 5, nz],
            [Boundary::Periodic; 3],
        );
        cases.push((
            format!("sc periodic nz = {nz}"),
            build(m, 0.0, 300.0, 0.8, 4),
        ));
    }
    let mut compared = 0;
    for (what, (model, params, masks)) in &cases {
        // (An axis of one cell puts every site on both bus bars: no network to compare.)
        for axis in (0..model.lattice.axes()).filter(|&a| model.lattice.cells[a] > 1) {
            let stencil = axis_stencil(
                &model.lattice,
                params,
                masks,
                None,
                axis,
                &Default::default(),
            )
            .unwrap();
            // Two cells along the axis put every site on a bus bar: nothing free to compare.
            if stencil.conduction != Conduction::Normal || stencil.free_nodes == 0 {
                continue;
            }
            let n = stencil.sites();
            let p = random_direction(n, axis as u64 + 1);
            // A·p = r(0) − r(p) with r(x) = b − A·x, the stencil's f64 residual.
            let (mut at_zero, mut at_p) = (vec![0.0; n], vec![0.0; n]);
            stencil.residual(&vec![0.0; n], &mut at_zero);
            stencil.residual(&p, &mut at_p);
            let expected: Vec<f64> = at_zero.iter().zip(&at_p).map(|(a, b)| a - b).collect();
            let largest = expected.iter().fold(0.0f64, |m, e| m.max(e.abs()));
            assert!(largest > 0.0, "{what} axis {axis}");
            for layers in [None, Some(1), Some(2)] {
                let got = with_slabs(&gpu, layers)
                    .apply_stencil(&stencil, params, &p)
                    .unwrap();
                for (site, (g, e)) in got.iter().zip(&expected).enumerate() {
                    assert!(
                        (g - e).abs() <= 1e-5 * largest,
                        "{what} axis {axis}, slabs of {layers:?}: site {site} {g} vs {e}"
                    );
                }
                compared += 1;
            }
        }
    }
    assert!(compared >= 3 * 30, "{compared} comparisons");
}

#[test]
fn a_lattice_whose_thinnest_slab_exceeds_one_binding_is_refused_with_the_limit() {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    let words = gpu.context().max_words_per_binding();
    // One layer of 3 conductances per site, with its two halos, must not fit.
    let side = ((words / 9) as f64).sqrt() as u32 + 1;
    if side > 4096 {
        eprintln!("this adapter's binding holds {words} words: the refusal is not exercised here");
        return;
    }
    let m = material(
        "bernoulli-bond",
        LatticeKind::Sc,
        [side, side, 4],
        [Boundary::Open; 3],
    );
    let model = Model::new(m).unwrap();
    let conditions = Conditions {
        pressure_gpa: 0.0,
        temperature_k: 300.0,
        seed: 1,
        p: 0.6,
    };
    let params = BondParams::new(&model.material, &model.lattice, &conditions);
    // The masks are never read: the refusal comes before the network is built. The slabs are
    // the Jacobi path's (the multigrid path keeps whole vectors and is refused by their size:
    // the unit test of `amg::vectors_fit`).
    let masks = vec![0u32; model.lattice.sites() as usize];
    let error = gpu
        .solve_axis(
            &model.lattice,
            &params,
            &masks,
            None,
            0,
            &GpuSolveOptions {
                solver: Solver::Jacobi,
                ..GpuSolveOptions::default()
            },
            |_, _| {},
        )
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("thinnest slab") && error.contains("--engine cpu"),
        "{error}"
    );
}

/// The multigrid solver where the hierarchy has several levels, at conducting and near-threshold
/// bond percolation: R equals the CPU's to 1e-6 in one slab and in several (the fine matrix cut
/// into row blocks), and the inner f32 iterations (to 1e-6 in all refinements) stay within 2×
/// of the CPU's multigrid iterations (to 1e-10).
#[test]
fn the_multigrid_solve_matches_the_cpu_in_one_slab_and_several() {
    let Some(gpu) = engine() else { return };
    let gpu = locked(gpu);
    for (p, seed) in [(0.6, 3), (0.3, 8)] {
        let m = material(
            "bernoulli-bond",
            LatticeKind::Sc,
            [26, 24, 22],
            [Boundary::Open, Boundary::Open, Boundary::Periodic],
        );
        let (model, params, masks) = build(m, 0.0, 300.0, p, seed);
        for axis in 0..3 {
            let cpu = axis_resistance(
                &model.lattice,
                &params,
                &masks,
                None,
                axis,
                &SolveOptions::default(),
                |_, _| {},
            )
            .unwrap();
            assert_eq!(cpu.conduction, Conduction::Normal, "p = {p} conducts");
            for layers in [None, Some(5)] {
                let engine = with_slabs(&gpu, layers);
                let what = format!("p = {p}, axis {axis}, slabs of {layers:?} layers");
                let result = gpu_resistance_with(
                    &engine,
                    &model.lattice,
                    &params,
                    &masks,
                    axis,
                    &GpuSolveOptions::default(),
                );
                assert!(
                    result.levels.len() >= 3,
                    "{what}: levels {:?}",
                    result.levels
                );
                assert_eq!(
                    result.slabs as u32,
                    22u32.div_ceil(layers.unwrap_or(22)),
                    "{what}"
                );
                assert_rel(result.axis.resistance_ohm, cpu.resistance_ohm, 1e-6, &what);
                assert!(
                    result.axis.iterations <= 2 * cpu.iterations,
                    "{what}: {} GPU iterations against {} on the CPU",
                    result.axis.iterations,
                    cpu.iterations
                );
                eprintln!(
                    "{what}: {} GPU iterations ({} refinements), {} CPU, levels {:?}",
                    result.axis.iterations, result.refinements, cpu.iterations, result.levels
                );
            }
        }
    }
}
