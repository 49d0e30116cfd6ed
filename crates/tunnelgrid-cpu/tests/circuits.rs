//! Exact circuits for the Kirchhoff solver and the critical-current max-flow (MODEL.md §7, §8).
//!
//! Every expected value is either solved by hand (series/parallel chains, Wheatstone bridges,
//! perfect lattices between bus bars, small flow networks) or computed independently here: a
//! dense LU solve with partial pivoting of the same network, pruned and contracted by the
//! testkit's own code (`tunnelgrid_testkit::dense`), and a brute-force minimum cut.

use proptest::prelude::*;
use std::collections::VecDeque;
use tunnelgrid_cpu::kirchhoff::{
    axis_resistance, resistances, AxisResistance, Conduction, Electrode, KirchhoffError,
    ResistorNetwork, SolveOptions, Solver,
};
use tunnelgrid_cpu::label_clusters;
use tunnelgrid_cpu::maxflow::{critical_current, FlowNetwork, MaxFlowError, Terminal};
use tunnelgrid_model::params::{sc_bit, tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::Network;
use tunnelgrid_model::{BondParams, Boundary, Lattice, LatticeKind, Mode, Model};
use tunnelgrid_testkit::assert_rel;
use tunnelgrid_testkit::dense::{dense_current, dense_lattice_resistance, lu_solve};
use tunnelgrid_testkit::lattices::{build, material, tunnel_network};
use tunnelgrid_testkit::rng::TestRng;

fn network_of(
    nodes: usize,
    edges: &[(usize, usize, f64)],
    fixed: &[Option<f64>],
) -> ResistorNetwork {
    let mut network = ResistorNetwork::new(nodes);
    for &(a, b, g) in edges {
        network.add_conductance(a as u32, b as u32, g);
    }
    for (i, f) in fixed.iter().enumerate() {
        match f {
            Some(v) if *v == 1.0 => network.set_electrode(i as u32, Electrode::Source),
            Some(_) => network.set_electrode(i as u32, Electrode::Sink),
            None => {}
        }
    }
    network
}

fn solve(network: &ResistorNetwork) -> tunnelgrid_cpu::kirchhoff::Solution {
    network
        .solve(&SolveOptions::default(), |_, _| {})
        .expect("solves")
}

// ---------------------------------------------------------------------------------------------
// Generic resistor networks solved by hand.
// ---------------------------------------------------------------------------------------------

#[test]
fn series_chain() {
    // 0 -1Ω- 1 -2Ω- 2 -3Ω- 3 -4Ω- 4: R = 10 Ω; 0.1 A through every node.
    let mut network = ResistorNetwork::new(5);
    for (i, r) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
        network.add_resistor(i as u32, i as u32 + 1, r);
    }
    network.set_electrode(0, Electrode::Source);
    network.set_electrode(4, Electrode::Sink);
    let options = SolveOptions {
        node_currents: true,
        ..SolveOptions::default()
    };
    let s = network.solve(&options, |_, _| {}).unwrap();
    assert_rel(s.resistance_ohm, 10.0, 1e-12, "series R");
    assert_rel(s.current_a, 0.1, 1e-12, "series I");
    assert_rel(s.sink_current_a, 0.1, 1e-12, "series I at the sink");
    assert_eq!(s.free_nodes, 3);
    for (node, &i) in s.node_current_a.as_ref().unwrap().iter().enumerate() {
        assert_rel(i, 0.1, 1e-12, &format!("current through node {node}"));
    }
}

#[test]
fn parallel_and_series_parallel() {
    // 2 ∥ 3 ∥ 6 = 1 Ω.
    let mut network = ResistorNetwork::new(2);
    for r in [2.0, 3.0, 6.0] {
        network.add_resistor(0, 1, r);
    }
    network.set_electrode(0, Electrode::Source);
    network.set_electrode(1, Electrode::Sink);
    let s = solve(&network);
    assert_rel(s.resistance_ohm, 1.0, 1e-12, "parallel R");
    assert_eq!(s.iterations, 0, "no free node: nothing to iterate");

    // (2 ∥ 2) + 3 + (4 ∥ 12) = 1 + 3 + 3 = 7 Ω.
    let mut network = ResistorNetwork::new(4);
    network.add_resistor(0, 1, 2.0);
    network.add_resistor(0, 1, 2.0);
    network.add_resistor(1, 2, 3.0);
    network.add_resistor(2, 3, 4.0);
    network.add_resistor(3, 2, 12.0);
    network.set_electrode(0, Electrode::Source);
    network.set_electrode(3, Electrode::Sink);
    assert_rel(
        solve(&network).resistance_ohm,
        7.0,
        1e-12,
        "series-parallel R",
    );
}

/// A (source) – C: r_ac, C – B (sink): r_cb, A – D: r_ad, D – B: r_db, bridge C – D: r_cd.
fn wheatstone(r_ac: f64, r_cb: f64, r_ad: f64, r_db: f64, r_cd: f64) -> ResistorNetwork {
    let (a, b, c, d) = (0, 1, 2, 3);
    let mut network = ResistorNetwork::new(4);
    network.add_resistor(a, c, r_ac);
    network.add_resistor(c, b, r_cb);
    network.add_resistor(a, d, r_ad);
    network.add_resistor(d, b, r_db);
    network.add_resistor(c, d, r_cd);
    network.set_electrode(a, Electrode::Source);
    network.set_electrode(b, Electrode::Sink);
    network
}

#[test]
fn wheatstone_bridges() {
    // Balanced (1/2 = 2/4): no current in the bridge, R = (1 + 2) ∥ (2 + 4) = 2 Ω.
    let options = SolveOptions {
        node_currents: true,
        ..SolveOptions::default()
    };
    let s = wheatstone(1.0, 2.0, 2.0, 4.0, 5.0)
        .solve(&options, |_, _| {})
        .unwrap();
    assert_rel(s.resistance_ohm, 2.0, 1e-12, "balanced bridge");
    let through = s.node_current_a.unwrap();
    assert_rel(through[2], 1.0 / 3.0, 1e-12, "branch A-C-B carries 1/3 A");
    assert_rel(through[3], 1.0 / 6.0, 1e-12, "branch A-D-B carries 1/6 A");
    assert_rel(through[0], 0.5, 1e-12, "the source node injects I");

    // Unbalanced (1, 2, 3, 4, bridge 5). KCL at C: 1.7·V_C − 0.2·V_D = 1; at D:
    // 12·V_C − 47·V_D = −20, so V_D = 92/155, V_C = 102/155 and
    // I = (1 − V_C)/1 + (1 − V_D)/3 = 74/155 A: R = 155/74 Ω.
    let s = solve(&wheatstone(1.0, 2.0, 3.0, 4.0, 5.0));
    assert_rel(s.resistance_ohm, 155.0 / 74.0, 1e-11, "unbalanced bridge");
    assert_rel(
        s.sink_current_a,
        74.0 / 155.0,
        1e-11,
        "sink side: V_C/2 + V_D/4",
    );
}

#[test]
fn electrode_sets_and_pruning() {
    // Sources {0, 1}, sinks {5, 6}. 0–1 joins two source nodes (no current), 0–2 2 Ω, 1–2 2 Ω,
    // 2–5 1 Ω, 2–6 1 Ω; a dead end 2–3 (1 Ω) and a floating island 7–8–9 with no electrode, and a
    // source-only branch 1–4. R = (2 ∥ 2) + (1 ∥ 1) = 1.5 Ω.
    let mut network = ResistorNetwork::new(10);
    network.add_resistor(0, 1, 1.0);
    network.add_resistor(0, 2, 2.0);
    network.add_resistor(1, 2, 2.0);
    network.add_resistor(2, 5, 1.0);
    network.add_resistor(2, 6, 1.0);
    network.add_resistor(2, 3, 1.0);
    network.add_resistor(7, 8, 1.0);
    network.add_resistor(8, 9, 1.0);
    network.add_resistor(1, 4, 1.0);
    network.add_resistor(4, 4, 1.0); // a loop on one node carries nothing
    network.add_conductance(3, 9, 0.0); // an open bond joins nothing
    for s in [0, 1] {
        network.set_electrode(s, Electrode::Source);
    }
    for t in [5, 6] {
        network.set_electrode(t, Electrode::Sink);
    }
    let options = SolveOptions {
        node_currents: true,
        ..SolveOptions::default()
    };
    let s = network.solve(&options, |_, _| {}).unwrap();
    assert_rel(s.resistance_ohm, 1.5, 1e-12, "R");
    assert_eq!(s.connected_nodes, 7, "the island 7–8–9 is pruned");
    let through = s.node_current_a.unwrap();
    assert_eq!(&through[7..], &[0.0, 0.0, 0.0]);
    assert!(
        through[3].abs() < 1e-12 && through[4].abs() < 1e-12,
        "dead ends carry nothing"
    );
    assert_rel(through[2], 1.0 / 1.5, 1e-12, "all current passes node 2");
    assert_rel(
        through[0] + through[1],
        1.0 / 1.5,
        1e-12,
        "injections add up to I",
    );
}

#[test]
fn insulating_networks_give_zero_current_and_infinite_resistance() {
    // Two halves that never meet, and a network without a sink.
    let mut network = ResistorNetwork::new(6);
    network.add_resistor(0, 1, 1.0);
    network.add_resistor(1, 2, 1.0);
    network.add_resistor(3, 4, 1.0);
    network.add_resistor(4, 5, 1.0);
    network.set_electrode(0, Electrode::Source);
    network.set_electrode(5, Electrode::Sink);
    let options = SolveOptions {
        node_currents: true,
        ..SolveOptions::default()
    };
    for net in [network.clone(), {
        let mut n = ResistorNetwork::new(3);
        n.add_resistor(0, 1, 1.0);
        n.set_electrode(0, Electrode::Source);
        n
    }] {
        let s = net.solve(&options, |_, _| {}).unwrap();
        assert_eq!(s.current_a, 0.0);
        assert_eq!(s.resistance_ohm, f64::INFINITY);
        assert!(!s.relative_residual.is_nan());
        assert!(s.node_current_a.unwrap().iter().all(|&i| i == 0.0));
    }
    let empty = ResistorNetwork::new(0).solve(&options, |_, _| {}).unwrap();
    assert_eq!(empty.resistance_ohm, f64::INFINITY);
}

#[test]
fn malformed_networks_are_refused() {
    let mut both = wheatstone(1.0, 1.0, 1.0, 1.0, 1.0);
    both.set_electrode(0, Electrode::Sink);
    let mut negative = wheatstone(1.0, 1.0, 1.0, 1.0, 1.0);
    negative.add_conductance(2, 3, -1.0);
    let mut short = wheatstone(1.0, 1.0, 1.0, 1.0, 1.0);
    short.add_resistor(2, 3, 0.0);
    let mut nan = wheatstone(1.0, 1.0, 1.0, 1.0, 1.0);
    nan.add_conductance(2, 3, f64::NAN);
    let mut outside = wheatstone(1.0, 1.0, 1.0, 1.0, 1.0);
    outside.add_conductance(2, 4, 1.0);
    for (what, network) in [
        ("node on both electrodes", both),
        ("negative conductance", negative),
        ("zero resistance", short),
        ("NaN conductance", nan),
        ("node out of range", outside),
    ] {
        let result = network.solve(&SolveOptions::default(), |_, _| {});
        assert!(
            matches!(result, Err(KirchhoffError::InvalidNetwork(_))),
            "{what}: {result:?}"
        );
    }
    let bad_tolerance = SolveOptions {
        tolerance: 0.0,
        ..SolveOptions::default()
    };
    assert!(wheatstone(1.0, 1.0, 1.0, 1.0, 1.0)
        .solve(&bad_tolerance, |_, _| {})
        .is_err());
}

/// Resistors as (a, b, conductance), and each node's fixed potential if it is an electrode.
type Circuit = (Vec<(usize, usize, f64)>, Vec<Option<f64>>);

/// A random connected-ish network of `nodes` nodes with conductances over two decades, some
/// electrode nodes, and islands that must be pruned.
fn random_network(rng: &mut TestRng, nodes: usize, degree: usize) -> Circuit {
    let mut edges = Vec::new();
    let island = nodes - nodes / 20; // the last 5 % only bond among themselves
    for a in 0..nodes {
        for _ in 0..degree / 2 {
            let b = if a < island {
                rng.below(island)
            } else {
                island + rng.below(nodes - island)
            };
            let g = 10f64.powf(2.0 * rng.uniform() - 1.0);
            edges.push((a, b, g));
        }
    }
    let mut fixed = vec![None; nodes];
    for _ in 0..(nodes / 100).max(1) {
        fixed[rng.below(island)] = Some(1.0);
    }
    for _ in 0..(nodes / 100).max(1) {
        let t = rng.below(island);
        if fixed[t].is_none() {
            fixed[t] = Some(0.0);
        }
    }
    (edges, fixed)
}

#[test]
fn random_networks_agree_with_a_dense_solve() {
    let mut rng = TestRng::new(7);
    for (nodes, degree) in [(3000, 3), (2500, 6)] {
        let (edges, fixed) = random_network(&mut rng, nodes, degree);
        let expected = dense_current(nodes, &edges, &fixed);
        assert!(expected > 0.0);
        for solver in [Solver::Amg, Solver::Jacobi] {
            let options = SolveOptions {
                solver,
                ..SolveOptions::default()
            };
            let mut progress = Vec::new();
            let s = network_of(nodes, &edges, &fixed)
                .solve(&options, |i, r| progress.push((i, r)))
                .unwrap();
            assert_rel(
                s.current_a,
                expected,
                1e-9,
                &format!("{solver:?}: {nodes} nodes, degree {degree}"),
            );
            // The raw electrode currents are only first-order accurate in the residual.
            assert_rel(
                s.source_current_a,
                expected,
                1e-6,
                "source electrode current",
            );
            assert_rel(s.sink_current_a, expected, 1e-6, "sink electrode current");
            assert_rel(s.resistance_ohm, 1.0 / expected, 1e-9, "R");
            assert!(s.relative_residual <= 1e-10);
            assert!(s.iterations > 10, "a real CG solve");
            assert_eq!(progress.len(), s.iterations, "progress once per iteration");
            assert!(progress.iter().enumerate().all(|(k, &(i, _))| i == k + 1));
            assert!(s.connected_nodes < nodes, "the islands are pruned");
        }
    }
}

#[test]
fn the_exported_linear_system_gives_the_solved_current() {
    // What `bench --resistance --export-system` hands to peers: solving it independently
    // (dense LU) must give the current of the network, direct source–sink resistors included.
    let mut rng = TestRng::new(5);
    let (mut edges, fixed) = random_network(&mut rng, 300, 4);
    let source = fixed.iter().position(|f| *f == Some(1.0)).unwrap();
    let sink = fixed.iter().position(|f| *f == Some(0.0)).unwrap();
    edges.push((source, sink, 0.125));
    let network = network_of(300, &edges, &fixed);
    let system = network
        .linear_system()
        .expect("the electrodes are connected");
    let n = system.rhs.len();
    let mut dense = vec![0.0; n * n];
    for i in 0..n {
        for k in system.row_start[i] as usize..system.row_start[i + 1] as usize {
            dense[i * n + system.columns[k] as usize] += system.values[k];
        }
    }
    let x = lu_solve(dense, system.rhs.clone());
    let b_dot_x: f64 = system.rhs.iter().zip(&x).map(|(b, x)| b * x).sum();
    let current = system.direct_conductance_s + system.rhs.iter().sum::<f64>() - b_dot_x;
    assert_eq!(system.direct_conductance_s, 0.125);
    assert_rel(current, solve(&network).current_a, 1e-9, "exported system");
    assert_rel(
        current,
        dense_current(300, &edges, &fixed),
        1e-9,
        "dense network",
    );
}

#[test]
fn non_convergence_and_memory_refusal_are_errors() {
    let mut rng = TestRng::new(11);
    let (edges, fixed) = random_network(&mut rng, 400, 4);
    let network = network_of(400, &edges, &fixed);
    // Multigrid solves this small network exactly in one iteration, so it is cut off at none.
    for (solver, allowed) in [(Solver::Jacobi, 3), (Solver::Amg, 0)] {
        let few = SolveOptions {
            solver,
            max_iterations: Some(allowed),
            ..SolveOptions::default()
        };
        match network.solve(&few, |_, _| {}) {
            Err(KirchhoffError::NotConverged {
                iterations,
                residual,
                tolerance,
            }) => {
                assert_eq!(iterations, allowed);
                assert!(residual > tolerance && residual.is_finite());
            }
            other => panic!("{solver:?}: expected non-convergence, got {other:?}"),
        }
    }
    let tiny = SolveOptions {
        memory_limit: Some(1000),
        ..SolveOptions::default()
    };
    match network.solve(&tiny, |_, _| {}) {
        Err(e @ KirchhoffError::OutOfMemory { needed_bytes, .. }) => {
            assert!(needed_bytes > 1000);
            assert!(e.to_string().contains("KiB"), "{e}");
        }
        other => panic!("expected a memory refusal, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Small random networks (any topology, islands, dead ends) agree with the dense solve.
    #[test]
    fn small_networks_agree_with_a_dense_solve(seed in any::<u64>(), nodes in 2usize..40, degree in 1usize..6) {
        let mut rng = TestRng::new(seed);
        let (edges, fixed) = random_network(&mut rng, nodes, degree.max(2));
        let expected = dense_current(nodes, &edges, &fixed);
        let s = solve(&network_of(nodes, &edges, &fixed));
        prop_assert!(!s.current_a.is_nan() && !s.resistance_ohm.is_nan());
        if expected == 0.0 {
            prop_assert_eq!(s.current_a, 0.0);
            prop_assert_eq!(s.resistance_ohm, f64::INFINITY);
        } else {
            prop_assert!((s.current_a - expected).abs() <= 1e-9 * expected,
                "{} vs {}", s.current_a, expected);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lattices.
// ---------------------------------------------------------------------------------------------

/// A perfect lattice of the `default` material (no vibration) at `pressure_gpa` and 300 K (= T_ref,
/// so no thermal expansion): its model, bond parameters and bond masks.
fn perfect_lattice(
    kind: LatticeKind,
    cells: [u32; 3],
    boundary: [Boundary; 3],
    pressure_gpa: f64,
) -> (Model, BondParams, Vec<u32>) {
    let mut material = material("default", kind, cells, boundary);
    material.eos.sigma_static = 0.0;
    material.eos.sigma_thermal = 0.0;
    build(material, pressure_gpa, 300.0, 0.5, 1)
}

/// A Bernoulli preset on `kind` at probability `p`.
fn bernoulli_lattice(
    mode: Mode,
    kind: LatticeKind,
    cells: [u32; 3],
    boundary: [Boundary; 3],
    p: f64,
    seed: u64,
) -> (Model, BondParams, Vec<u32>) {
    let name = if mode == Mode::BernoulliSite {
        "bernoulli-site"
    } else {
        "bernoulli-bond"
    };
    build(material(name, kind, cells, boundary), 0.0, 300.0, p, seed)
}

/// Cell edge of the default material at `pressure_gpa` and T_ref, by hand from MODEL.md §3:
/// a = a0·(V/V0)^(1/3) with V/V0 = (1 + K0'·P/K0)^(−1/K0'), a0 = 3 Å, K0 = 100 GPa, K0' = 4.
fn edge_by_hand(pressure_gpa: f64) -> f64 {
    3.0 * (1.0 + 4.0 * pressure_gpa / 100.0).powf(-1.0 / 12.0)
}

/// Bond resistance of a perfect default lattice by hand (MODEL.md §5): d_t = 2.85 Å,
/// d_sc = 2.85 − 0.2·1.75 = 2.50 Å, r = R0·Δ/Δ0 = R0·(d − d_sc)/(d_t − d_sc), R0 = 1 kΩ.
fn bond_resistance_by_hand(pressure_gpa: f64) -> f64 {
    let d = edge_by_hand(pressure_gpa);
    assert!(d > 2.5 && d < 2.85, "every bond a normal tunnel");
    1000.0 * (d - 2.5) / 0.35
}

/// Bond critical current of a perfect default lattice by hand (MODEL.md §8): J0·(−Δ/Δ0) with
/// J0 = 1 A.
fn bond_capacity_by_hand(pressure_gpa: f64) -> f64 {
    let d = edge_by_hand(pressure_gpa);
    assert!(d < 2.5, "every bond superconducting");
    (2.5 - d) / 0.35
}

const NORMAL_GPA: f64 = 60.0; // a ≈ 2.709 Å: r ≈ 597 Ω
const SC_GPA: f64 = 350.0; // a ≈ 2.394 Å: I_c ≈ 0.303 A per bond

fn options() -> SolveOptions {
    SolveOptions::default()
}

#[test]
fn full_square_lattice_between_bus_bars() {
    let r = bond_resistance_by_hand(NORMAL_GPA);
    let (nx, ny) = (9, 6);
    for boundary in [[Boundary::Open; 3], [Boundary::Periodic; 3]] {
        let (model, params, masks) =
            perfect_lattice(LatticeKind::Square, [nx, ny, 1], boundary, NORMAL_GPA);
        let lattice = &model.lattice;
        let x = axis_resistance(lattice, &params, &masks, None, 0, &options(), |_, _| {}).unwrap();
        // nx − 1 bonds in series per row, ny rows in parallel; rungs carry nothing. A periodic
        // x boundary changes nothing: the bus bars cut the sample there.
        assert_rel(
            x.resistance_ohm,
            r * (nx - 1) as f64 / ny as f64,
            1e-5,
            "R_x",
        );
        assert_eq!(x.conduction, Conduction::Normal);
        assert_eq!(
            x.iterations, 0,
            "the linear guess is exact on a perfect lattice"
        );
        let y = axis_resistance(lattice, &params, &masks, None, 1, &options(), |_, _| {}).unwrap();
        assert_rel(
            y.resistance_ohm,
            r * (ny - 1) as f64 / nx as f64,
            1e-5,
            "R_y",
        );
        // ρ = R·A/L with A = ny·a × (1 layer)·a_z and L = nx·a, in metres.
        let a = params.cell_edge;
        let rho = x.resistance_ohm * (ny as f64 * a[1] * a[2] * 1e-20) / (nx as f64 * a[0] * 1e-10);
        assert_rel(x.resistivity_ohm_m, rho, 1e-12, "ρ_x");
        assert_rel(a[0], edge_by_hand(NORMAL_GPA), 1e-12, "strained edge");
    }
}

#[test]
fn full_sc_lattice_between_bus_bars() {
    let r = bond_resistance_by_hand(NORMAL_GPA);
    let n = [6u32, 5, 4];
    let boundary = [Boundary::Open, Boundary::Periodic, Boundary::Open];
    let (model, params, masks) = perfect_lattice(LatticeKind::Sc, n, boundary, NORMAL_GPA);
    let all = resistances(&model.lattice, &params, &masks, &options(), |_, _, _| {}).unwrap();
    assert_eq!(all.len(), 3);
    for (axis, result) in all.iter().enumerate() {
        let others: u32 = (0..3).filter(|&i| i != axis).map(|i| n[i]).product();
        let expected = r * (n[axis] - 1) as f64 / others as f64;
        assert_rel(
            result.resistance_ohm,
            expected,
            1e-5,
            &format!("R along {axis}"),
        );
        let a = params.cell_edge;
        let area: f64 = (0..3)
            .filter(|&i| i != axis)
            .map(|i| n[i] as f64 * a[i] * 1e-10)
            .product();
        let length = n[axis] as f64 * a[axis] * 1e-10;
        assert_rel(
            result.resistivity_ohm_m,
            expected * area / length,
            1e-5,
            "ρ",
        );
    }
}

#[test]
fn full_lattices_of_bernoulli_bonds_at_p_one() {
    // Every bond is R0 = 1 Ω.
    let (nx, ny) = (12, 7);
    for mode in [Mode::BernoulliBond, Mode::BernoulliSite] {
        let (model, params, masks) = bernoulli_lattice(
            mode,
            LatticeKind::Square,
            [nx, ny, 1],
            [Boundary::Open; 3],
            1.0,
            3,
        );
        let x = axis_resistance(
            &model.lattice,
            &params,
            &masks,
            None,
            0,
            &options(),
            |_, _| {},
        )
        .unwrap();
        assert_rel(
            x.resistance_ohm,
            (nx - 1) as f64 / ny as f64,
            1e-12,
            "square R_x",
        );
    }
    let n = [5u32, 4, 6];
    let (model, params, masks) = bernoulli_lattice(
        Mode::BernoulliBond,
        LatticeKind::Sc,
        n,
        [Boundary::Periodic; 3],
        1.0,
        3,
    );
    for axis in 0..3 {
        let others: u32 = (0..3).filter(|&i| i != axis).map(|i| n[i]).product();
        let x = axis_resistance(
            &model.lattice,
            &params,
            &masks,
            None,
            axis,
            &options(),
            |_, _| {},
        )
        .unwrap();
        assert_rel(
            x.resistance_ohm,
            (n[axis] - 1) as f64 / others as f64,
            1e-12,
            "sc R",
        );
    }
}

/// Sets the superconducting bit of every bond between two sites of a square lattice for which
/// `inside(x, y)` holds.
fn mark_superconducting(lattice: &Lattice, masks: &mut [u32], inside: impl Fn(u32, u32) -> bool) {
    for site in 0..lattice.sites() {
        let (cell, b) = lattice.coords(site);
        for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
            if let Some(nb) = lattice.neighbour(cell, bond) {
                let (nc, _) = lattice.coords(nb.site);
                if masks[site as usize] & tunnel_bit(k) != 0
                    && inside(cell[0], cell[1])
                    && inside(nc[0], nc[1])
                {
                    masks[site as usize] |= sc_bit(k);
                }
            }
        }
    }
}

#[test]
fn a_superconducting_bond_in_a_chain_is_a_short() {
    // 0 – 1 = 2 – 3 with 1 = 2 superconducting: R = 2r instead of 3r.
    let r = bond_resistance_by_hand(NORMAL_GPA);
    let (model, params, mut masks) = perfect_lattice(
        LatticeKind::Square,
        [4, 1, 1],
        [Boundary::Open; 3],
        NORMAL_GPA,
    );
    let normal = axis_resistance(
        &model.lattice,
        &params,
        &masks,
        None,
        0,
        &options(),
        |_, _| {},
    )
    .unwrap();
    assert_rel(normal.resistance_ohm, 3.0 * r, 1e-5, "three bonds");
    mark_superconducting(&model.lattice, &mut masks, |x, _| x == 1 || x == 2);
    let shorted = axis_resistance(
        &model.lattice,
        &params,
        &masks,
        None,
        0,
        &options(),
        |_, _| {},
    )
    .unwrap();
    assert_rel(shorted.resistance_ohm, 2.0 * r, 1e-5, "one bond shorted");
}

#[test]
fn a_superconducting_cluster_equals_the_hand_contracted_network() {
    let r = bond_resistance_by_hand(NORMAL_GPA);
    let (nx, ny) = (7u32, 5u32);
    let (model, params, mut masks) = perfect_lattice(
        LatticeKind::Square,
        [nx, ny, 1],
        [Boundary::Open; 3],
        NORMAL_GPA,
    );
    let lattice = &model.lattice;
    let block = |x: u32, y: u32| (2..=4).contains(&x) && (1..=3).contains(&y);
    mark_superconducting(lattice, &mut masks, block);
    let with_map = SolveOptions {
        node_currents: true,
        ..options()
    };
    let result = axis_resistance(lattice, &params, &masks, None, 0, &with_map, |_, _| {}).unwrap();

    // By hand: every block site is node `hub`, every other site its own node; every bond not
    // inside the block is a resistor r; x = 0 at 1, x = nx − 1 at 0.
    let hub = lattice.site_index(2, 1, 0, 0) as usize;
    let node = |x: u32, y: u32| {
        if block(x, y) {
            hub
        } else {
            lattice.site_index(x, y, 0, 0) as usize
        }
    };
    let mut edges = Vec::new();
    for y in 0..ny {
        for x in 0..nx {
            if x + 1 < nx && !(block(x, y) && block(x + 1, y)) {
                edges.push((node(x, y), node(x + 1, y), 1.0 / r));
            }
            if y + 1 < ny && !(block(x, y) && block(x, y + 1)) {
                edges.push((node(x, y), node(x, y + 1), 1.0 / r));
            }
        }
    }
    let mut fixed = vec![None; (nx * ny) as usize];
    for y in 0..ny {
        fixed[node(0, y)] = Some(1.0);
        fixed[node(nx - 1, y)] = Some(0.0);
    }
    let expected = 1.0 / dense_current(fixed.len(), &edges, &fixed);
    assert_rel(result.resistance_ohm, expected, 1e-5, "contracted lattice");
    assert!(
        expected < r * (nx - 1) as f64 / ny as f64,
        "the cluster lowers R"
    );

    let map = result.site_current_a.unwrap();
    let hub_current = map[hub];
    assert!(hub_current > 0.0);
    for y in 0..ny {
        for x in 0..nx {
            if block(x, y) {
                assert_eq!(map[lattice.site_index(x, y, 0, 0) as usize], hub_current);
            }
        }
    }
    let injected: f64 = (0..ny)
        .map(|y| map[lattice.site_index(0, y, 0, 0) as usize] as f64)
        .sum();
    assert_rel(
        injected,
        1.0 / result.resistance_ohm,
        1e-5,
        "face currents add up to I",
    );
}

#[test]
fn superconducting_and_insulating_samples() {
    // Every bond superconducts: R = 0 exactly, along every axis, without a solve.
    let (model, params, masks) =
        perfect_lattice(LatticeKind::Sc, [4, 4, 4], [Boundary::Open; 3], SC_GPA);
    for result in resistances(&model.lattice, &params, &masks, &options(), |_, _, _| {}).unwrap() {
        assert_eq!(result.conduction, Conduction::Superconducting);
        assert_eq!(result.resistance_ohm, 0.0);
        assert_eq!(result.resistivity_ohm_m, 0.0);
        assert_eq!(result.iterations, 0);
    }

    // One superconducting row across a normal lattice shorts x, not y.
    let (model, params, mut masks) = perfect_lattice(
        LatticeKind::Square,
        [6, 4, 1],
        [Boundary::Open; 3],
        NORMAL_GPA,
    );
    mark_superconducting(&model.lattice, &mut masks, |_, y| y == 2);
    let x = axis_resistance(
        &model.lattice,
        &params,
        &masks,
        None,
        0,
        &options(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(x.resistance_ohm, 0.0);
    let y = axis_resistance(
        &model.lattice,
        &params,
        &masks,
        None,
        1,
        &options(),
        |_, _| {},
    )
    .unwrap();
    assert!(y.resistance_ohm > 0.0 && y.resistance_ohm.is_finite());

    // ... but not when the row only joins the faces across a periodic boundary along x: cut a
    // superconducting row at x = 2..3 and close it through the periodic x bond instead.
    let periodic = [Boundary::Periodic, Boundary::Open, Boundary::Open];
    let (model, params, mut masks) =
        perfect_lattice(LatticeKind::Square, [6, 4, 1], periodic, NORMAL_GPA);
    mark_superconducting(&model.lattice, &mut masks, |x, y| y == 2 && x != 3);
    let x = axis_resistance(
        &model.lattice,
        &params,
        &masks,
        None,
        0,
        &options(),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(
        x.conduction,
        Conduction::Normal,
        "the periodic bond does not short the bus bars"
    );

    // Zero pressure: a = 3 Å > d_t, no tunnels at all.
    let (model, params, masks) =
        perfect_lattice(LatticeKind::Sc, [5, 5, 5], [Boundary::Open; 3], 0.0);
    assert!(masks.iter().all(|&m| m == PRESENT_BIT));
    let with_map = SolveOptions {
        node_currents: true,
        ..options()
    };
    for axis in 0..3 {
        let result = axis_resistance(
            &model.lattice,
            &params,
            &masks,
            None,
            axis,
            &with_map,
            |_, _| {},
        )
        .unwrap();
        assert_eq!(result.conduction, Conduction::Insulating);
        assert_eq!(result.resistance_ohm, f64::INFINITY);
        assert_eq!(result.resistivity_ohm_m, f64::INFINITY);
        assert!(result.site_current_a.unwrap().iter().all(|&i| i == 0.0));
    }
}

#[test]
fn invalid_axes_are_refused() {
    let (model, params, masks) = perfect_lattice(
        LatticeKind::Square,
        [4, 4, 1],
        [Boundary::Open; 3],
        NORMAL_GPA,
    );
    let result = axis_resistance(
        &model.lattice,
        &params,
        &masks,
        None,
        2,
        &options(),
        |_, _| {},
    );
    assert!(matches!(
        result,
        Err(KirchhoffError::InvalidAxis { axis: 2, .. })
    ));
    let result = critical_current(&model.lattice, &params, &masks, 2, 1.0);
    assert!(matches!(
        result,
        Err(MaxFlowError::InvalidAxis { axis: 2, .. })
    ));
    let (model, params, masks) =
        perfect_lattice(LatticeKind::Sc, [4, 4, 1], [Boundary::Open; 3], NORMAL_GPA);
    let result = axis_resistance(
        &model.lattice,
        &params,
        &masks,
        None,
        2,
        &options(),
        |_, _| {},
    );
    assert!(
        matches!(result, Err(KirchhoffError::InvalidAxis { .. })),
        "one layer along z"
    );
    let refusal = SolveOptions {
        memory_limit: Some(100),
        ..options()
    };
    let result = axis_resistance(
        &model.lattice,
        &params,
        &masks,
        None,
        0,
        &refusal,
        |_, _| {},
    );
    assert!(matches!(result, Err(KirchhoffError::OutOfMemory { .. })));
}

#[test]
fn random_lattices_agree_with_a_dense_solve() {
    // Tunnel mode with vibration near the gap closing: a mixture of normal tunnels, missing
    // bonds and finite superconducting clusters, mixed boundaries.
    let (model, params, masks) = tunnel_network();
    let with_map = SolveOptions {
        node_currents: true,
        ..options()
    };
    let mut labels = vec![0u32; masks.len()];
    label_clusters(
        &model.lattice,
        &masks,
        Network::Superconducting,
        3,
        &mut labels,
    );
    for axis in 0..3 {
        let expected = dense_lattice_resistance(&model.lattice, &params, &masks, axis);
        let result = axis_resistance(
            &model.lattice,
            &params,
            &masks,
            None,
            axis,
            &with_map,
            |_, _| {},
        )
        .unwrap();
        assert_eq!(result.conduction, Conduction::Normal);
        assert!(result.iterations > 0);
        assert_rel(
            result.resistance_ohm,
            expected,
            1e-9,
            &format!("tunnel lattice axis {axis}"),
        );
        // The engine's labels join clusters across the periodic y and z boundaries; they are
        // used along the open x axis and replaced (relabelled with the cut) along y and z.
        let reused = axis_resistance(
            &model.lattice,
            &params,
            &masks,
            Some(&labels),
            axis,
            &with_map,
            |_, _| {},
        )
        .unwrap();
        // Equal in everything but the time the preconditioner took to build.
        assert_eq!(
            AxisResistance {
                setup_s: 0.0,
                ..reused
            },
            AxisResistance {
                setup_s: 0.0,
                ..result
            }
        );
    }

    // Bond percolation on bcc above threshold, periodic along the current axis.
    let (model, params, masks) = bernoulli_lattice(
        Mode::BernoulliBond,
        LatticeKind::Bcc,
        [7, 7, 6],
        [Boundary::Periodic, Boundary::Open, Boundary::Periodic],
        0.45,
        9,
    );
    for axis in 0..3 {
        let expected = dense_lattice_resistance(&model.lattice, &params, &masks, axis);
        let result = axis_resistance(
            &model.lattice,
            &params,
            &masks,
            None,
            axis,
            &with_map,
            |_, _| {},
        )
        .unwrap();
        assert_rel(
            result.resistance_ohm,
            expected,
            1e-9,
            &format!("bcc bond axis {axis}"),
        );
        // Without superconducting clusters every site is its own node, so the source face's
        // sites carry the whole current between them.
        let map = result.site_current_a.unwrap();
        let injected: f64 = (0..model.lattice.sites())
            .filter(|&s| model.lattice.coords(s).0[axis] == 0)
            .map(|s| map[s as usize] as f64)
            .sum();
        assert_rel(injected, 1.0 / expected, 1e-5, "face currents add up to I");
    }
}

// ---------------------------------------------------------------------------------------------
// Max-flow.
// ---------------------------------------------------------------------------------------------

#[test]
fn max_flow_with_the_min_cut_inside() {
    // Sources {0, 1} and sinks {4, 5}, each joined to the middle by capacity 5; the middle is
    // the single edge 2–3 of capacity 1: flow 1, cut {2–3}.
    let mut network = FlowNetwork::new(6);
    network.add_edge(0, 2, 5.0);
    network.add_edge(1, 2, 5.0);
    let bottleneck = network.add_edge(3, 2, 1.0); // stored "backwards": edges are undirected
    network.add_edge(3, 4, 5.0);
    network.add_edge(5, 3, 5.0);
    for s in [0, 1] {
        network.set_terminal(s, Terminal::Source);
    }
    for t in [4, 5] {
        network.set_terminal(t, Terminal::Sink);
    }
    let flow = network.max_flow().unwrap();
    assert_eq!(flow.value, 1.0);
    assert_eq!(flow.sink_value, 1.0);
    assert_eq!(flow.cut, vec![bottleneck]);
    assert_eq!(
        flow.edge_flow[bottleneck], -1.0,
        "flows from 2 to 3, against the stored order"
    );

    // A bridge network: s–a 3, s–b 1, a–b 1, a–t 1, b–t 3. Cuts: {s} 4, {s,a,b} 4, {s,b} 7,
    // {s,a} = s–b + a–b + a–t = 3: the minimum, and not at either electrode.
    let (s, a, b, t) = (0, 1, 2, 3);
    let mut network = FlowNetwork::new(4);
    let sa = network.add_edge(s, a, 3.0);
    let sb = network.add_edge(s, b, 1.0);
    let ab = network.add_edge(a, b, 1.0);
    let at = network.add_edge(a, t, 1.0);
    let bt = network.add_edge(b, t, 3.0);
    network.set_terminal(s, Terminal::Source);
    network.set_terminal(t, Terminal::Sink);
    let flow = network.max_flow().unwrap();
    assert_eq!(flow.value, 3.0);
    assert_eq!(flow.cut, vec![sb, ab, at]);
    assert_eq!(flow.cut_capacity, 3.0);
    assert_eq!(flow.source_side, vec![true, true, false, false]);
    assert_eq!(flow.edge_flow[sa], 2.0);
    assert_eq!(flow.edge_flow[bt], 2.0);

    // The bridge used the other way: s–a 2, s–b 3, a–b 1, a–t 3, b–t 1. Cuts: {s} 5, {s,a} 7,
    // {s,b} = s–a + a–b + b–t = 4, {s,a,b} = a–t + b–t = 4: flow 4, and a–t can only be filled
    // with 2 from s plus 1 from b, so the bridge carries b → a.
    let mut network = FlowNetwork::new(4);
    network.add_edge(s, a, 2.0);
    network.add_edge(s, b, 3.0);
    let ab = network.add_edge(a, b, 1.0);
    network.add_edge(a, t, 3.0);
    network.add_edge(b, t, 1.0);
    network.set_terminal(s, Terminal::Source);
    network.set_terminal(t, Terminal::Sink);
    let flow = network.max_flow().unwrap();
    assert_eq!(flow.value, 4.0);
    assert_eq!(flow.edge_flow[ab], -1.0, "the bridge carries b → a");
}

#[test]
fn max_flow_edge_cases() {
    // Disconnected, no sink, no source: zero flow, empty cut.
    let mut network = FlowNetwork::new(4);
    network.add_edge(0, 1, 2.0);
    network.add_edge(2, 3, 2.0);
    network.set_terminal(0, Terminal::Source);
    network.set_terminal(3, Terminal::Sink);
    let flow = network.max_flow().unwrap();
    assert_eq!((flow.value, flow.cut.len()), (0.0, 0));
    let mut no_sink = FlowNetwork::new(2);
    no_sink.add_edge(0, 1, 1.0);
    no_sink.set_terminal(0, Terminal::Source);
    assert_eq!(no_sink.max_flow().unwrap().value, 0.0);
    // Zero capacities separate nothing and never appear in the cut.
    let mut zero = FlowNetwork::new(2);
    zero.add_edge(0, 1, 0.0);
    zero.set_terminal(0, Terminal::Source);
    zero.set_terminal(1, Terminal::Sink);
    let flow = zero.max_flow().unwrap();
    assert_eq!((flow.value, flow.cut.len()), (0.0, 0));
    // Malformed networks.
    let mut both = FlowNetwork::new(2);
    both.set_terminal(0, Terminal::Source);
    both.set_terminal(0, Terminal::Sink);
    let mut negative = FlowNetwork::new(2);
    negative.add_edge(0, 1, -1.0);
    let mut infinite = FlowNetwork::new(2);
    infinite.add_edge(0, 1, f64::INFINITY);
    let mut outside = FlowNetwork::new(2);
    outside.add_edge(0, 2, 1.0);
    for network in [both, negative, infinite, outside] {
        assert!(matches!(
            network.max_flow(),
            Err(MaxFlowError::InvalidNetwork(_))
        ));
    }
}

/// The minimum cut by brute force over every split of the free nodes.
fn brute_force_min_cut(nodes: usize, edges: &[(u32, u32, f64)], role: &[Option<Terminal>]) -> f64 {
    let free: Vec<usize> = (0..nodes).filter(|&i| role[i].is_none()).collect();
    let mut best = f64::INFINITY;
    for bits in 0u32..(1 << free.len()) {
        let mut side = vec![false; nodes];
        for i in 0..nodes {
            side[i] = role[i] == Some(Terminal::Source);
        }
        for (j, &i) in free.iter().enumerate() {
            side[i] = bits & (1 << j) != 0;
        }
        let cut: f64 = edges
            .iter()
            .filter(|(a, b, _)| side[*a as usize] != side[*b as usize])
            .map(|e| e.2)
            .sum();
        best = best.min(cut);
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// On random networks: the flow equals the capacity of the returned cut, is feasible
    /// (|flow| ≤ capacity, conserved at free nodes), never exceeds the capacity at either
    /// electrode, and equals the brute-force minimum cut.
    #[test]
    fn max_flow_equals_the_min_cut(
        nodes in 2usize..14,
        raw_edges in prop::collection::vec((0u32..14, 0u32..14, 0u32..5), 0..40),
        raw_roles in prop::collection::vec(0u8..5, 14),
    ) {
        let edges: Vec<(u32, u32, f64)> = raw_edges
            .into_iter()
            .filter(|(a, b, _)| (*a as usize) < nodes && (*b as usize) < nodes)
            .map(|(a, b, c)| (a, b, c as f64 * 0.75))
            .collect();
        let role: Vec<Option<Terminal>> = (0..nodes)
            .map(|i| match raw_roles[i] {
                0 => Some(Terminal::Source),
                1 => Some(Terminal::Sink),
                _ => None,
            })
            .collect();
        let mut network = FlowNetwork::new(nodes);
        for &(a, b, c) in &edges {
            network.add_edge(a, b, c);
        }
        for (i, r) in role.iter().enumerate() {
            if let Some(t) = r {
                network.set_terminal(i as u32, *t);
            }
        }
        let flow = network.max_flow().unwrap();
        let tolerance = 1e-9 * (1.0 + edges.iter().map(|e| e.2).sum::<f64>());
        prop_assert!((flow.value - flow.cut_capacity).abs() <= tolerance);
        prop_assert!((flow.value - flow.sink_value).abs() <= tolerance);
        let cut_sum: f64 = flow.cut.iter().map(|&e| edges[e].2).sum();
        prop_assert!((cut_sum - flow.cut_capacity).abs() <= tolerance);
        for &e in &flow.cut {
            let (a, b, _) = edges[e];
            prop_assert!(flow.source_side[a as usize] != flow.source_side[b as usize]);
        }
        for terminal in [Terminal::Source, Terminal::Sink] {
            let at_electrode: f64 = edges
                .iter()
                .filter(|(a, b, _)| (role[*a as usize] == Some(terminal)) != (role[*b as usize] == Some(terminal)))
                .map(|e| e.2)
                .sum();
            prop_assert!(flow.value <= at_electrode + tolerance);
        }
        let mut net_in = vec![0.0; nodes];
        for (e, &(a, b, c)) in edges.iter().enumerate() {
            let f = flow.edge_flow[e];
            prop_assert!(f.abs() <= c + tolerance);
            net_in[a as usize] -= f;
            net_in[b as usize] += f;
        }
        for i in 0..nodes {
            if role[i].is_none() {
                prop_assert!(net_in[i].abs() <= tolerance, "conservation at {}", i);
            }
        }
        let has = |t| role.contains(&Some(t));
        if has(Terminal::Source) && has(Terminal::Sink) {
            let expected = brute_force_min_cut(nodes, &edges, &role);
            prop_assert!((flow.value - expected).abs() <= tolerance, "{} vs brute force {}", flow.value, expected);
        } else {
            prop_assert_eq!(flow.value, 0.0);
        }
    }
}

#[test]
fn critical_current_of_a_full_superconducting_lattice() {
    // Every bond carries c = J0·(d_sc − a)/(d_t − d_sc); a cross-section holds ny·nz bonds.
    let c = bond_capacity_by_hand(SC_GPA);
    let n = [6u32, 4, 3];
    for boundary in [[Boundary::Open; 3], [Boundary::Periodic; 3]] {
        let (model, params, masks) = perfect_lattice(LatticeKind::Sc, n, boundary, SC_GPA);
        let j0 = model.material.overlap.j0_amp;
        for axis in 0..3 {
            let others: u32 = (0..3).filter(|&i| i != axis).map(|i| n[i]).product();
            let result = critical_current(&model.lattice, &params, &masks, axis, j0).unwrap();
            assert_rel(
                result.critical_current_a,
                c * others as f64,
                1e-5,
                &format!("I_c {axis}"),
            );
            // Every axis bond saturates, so the sources reach no further than their own face:
            // the cut is the bonds leaving it.
            assert_eq!(result.cut_bonds.len(), others as usize);
            for &(site, k) in &result.cut_bonds {
                assert_eq!(model.lattice.coords(site).0[axis], 0);
                assert_eq!(k, axis);
            }
        }
    }
}

#[test]
fn critical_current_through_a_single_bond() {
    // A full superconducting square lattice whose column of x bonds from x = 2 to 3 is cut
    // except at y = 1: the only path carries one bond's capacity, and that bond is the cut.
    let c = bond_capacity_by_hand(SC_GPA);
    let (model, params, mut masks) =
        perfect_lattice(LatticeKind::Square, [6, 4, 1], [Boundary::Open; 3], SC_GPA);
    let lattice = &model.lattice;
    for y in [0, 2, 3] {
        masks[lattice.site_index(2, y, 0, 0) as usize] &= !(tunnel_bit(0) | sc_bit(0));
    }
    let result = critical_current(lattice, &params, &masks, 0, 1.0).unwrap();
    assert_rel(result.critical_current_a, c, 1e-5, "one bond");
    assert_eq!(result.cut_bonds, vec![(lattice.site_index(2, 1, 0, 0), 0)]);
    // Twice the J0, twice the current.
    let doubled = critical_current(lattice, &params, &masks, 0, 2.0).unwrap();
    assert_rel(
        doubled.critical_current_a,
        2.0 * result.critical_current_a,
        1e-12,
        "linear in J0",
    );
    // Along y the lattice is intact: nx bonds per cross-section.
    let y = critical_current(lattice, &params, &masks, 1, 1.0).unwrap();
    assert_rel(y.critical_current_a, 6.0 * c, 1e-5, "along y");
}

#[test]
fn no_superconducting_path_means_zero_critical_current() {
    let (model, params, masks) =
        perfect_lattice(LatticeKind::Sc, [4, 4, 4], [Boundary::Open; 3], NORMAL_GPA);
    let result = critical_current(&model.lattice, &params, &masks, 0, 1.0).unwrap();
    assert_eq!(result.critical_current_a, 0.0);
    assert!(result.cut_bonds.is_empty());
    let (model, params, masks) = bernoulli_lattice(
        Mode::BernoulliBond,
        LatticeKind::Sc,
        [4, 4, 4],
        [Boundary::Open; 3],
        1.0,
        1,
    );
    let result = critical_current(&model.lattice, &params, &masks, 0, 1.0).unwrap();
    assert_eq!(result.critical_current_a, 0.0);
    // A superconducting row that reaches the far face only through the periodic x boundary:
    // keep only row y = 2's x bonds 0–1, 1–2, 4–5 and the wrap 5–0 of a superconducting lattice.
    let periodic = [Boundary::Periodic, Boundary::Open, Boundary::Open];
    let (model, params, mut masks) =
        perfect_lattice(LatticeKind::Square, [6, 4, 1], periodic, SC_GPA);
    let lattice = &model.lattice;
    let keep_row = |masks: &mut [u32], cut: &[u32]| {
        for site in 0..lattice.sites() {
            let (cell, _) = lattice.coords(site);
            let keep = cell[1] == 2 && !cut.contains(&cell[0]);
            let bits = if keep { tunnel_bit(0) | sc_bit(0) } else { 0 };
            masks[site as usize] = PRESENT_BIT | bits;
        }
    };
    keep_row(&mut masks, &[2, 3]);
    let result = critical_current(lattice, &params, &masks, 0, 1.0).unwrap();
    assert_eq!(result.critical_current_a, 0.0);
    assert!(result.sc_bonds == 3, "the wrap bond is left out");
    // The whole row (bonds 0–1 ... 4–5) carries one bond's capacity.
    keep_row(&mut masks, &[5]);
    let result = critical_current(lattice, &params, &masks, 0, 1.0).unwrap();
    assert_rel(
        result.critical_current_a,
        bond_capacity_by_hand(SC_GPA),
        1e-5,
        "one row",
    );
}

/// Maximum flow by Edmonds–Karp (shortest augmenting paths) with a super source and sink:
/// slow, simple and independent of the push–relabel under test.
fn edmonds_karp(nodes: usize, edges: &[(u32, u32, f64)], role: &[Option<Terminal>]) -> f64 {
    let (source, sink) = (nodes, nodes + 1);
    let mut head = Vec::new();
    let mut capacity = Vec::new();
    let mut adjacency = vec![Vec::new(); nodes + 2];
    let mut add = |a: usize, b: usize, c: f64, back: f64| {
        adjacency[a].push(head.len());
        head.push(b);
        capacity.push(c);
        adjacency[b].push(head.len());
        head.push(a);
        capacity.push(back);
    };
    for &(a, b, c) in edges {
        add(a as usize, b as usize, c, c);
    }
    for (i, r) in role.iter().enumerate() {
        match r {
            Some(Terminal::Source) => add(source, i, f64::INFINITY, 0.0),
            Some(Terminal::Sink) => add(i, sink, f64::INFINITY, 0.0),
            None => {}
        }
    }
    let mut total = 0.0;
    loop {
        let mut via = vec![usize::MAX; nodes + 2];
        let mut queue = VecDeque::from([source]);
        while let Some(u) = queue.pop_front() {
            for &arc in &adjacency[u] {
                let v = head[arc];
                if v != source && via[v] == usize::MAX && capacity[arc] > 1e-12 {
                    via[v] = arc;
                    queue.push_back(v);
                }
            }
        }
        if via[sink] == usize::MAX {
            return total;
        }
        let mut amount = f64::INFINITY;
        let mut v = sink;
        while v != source {
            amount = amount.min(capacity[via[v]]);
            v = head[via[v] ^ 1];
        }
        let mut v = sink;
        while v != source {
            capacity[via[v]] -= amount;
            capacity[via[v] ^ 1] += amount;
            v = head[via[v] ^ 1];
        }
        total += amount;
    }
}

#[test]
fn random_flow_networks_agree_with_edmonds_karp() {
    let mut rng = TestRng::new(23);
    for _ in 0..6 {
        let nodes = 300;
        let edges: Vec<(u32, u32, f64)> = (0..900)
            .map(|_| {
                (
                    rng.below(nodes) as u32,
                    rng.below(nodes) as u32,
                    rng.uniform(),
                )
            })
            .collect();
        let mut role = vec![None; nodes];
        for _ in 0..10 {
            role[rng.below(nodes)] = Some(Terminal::Source);
            role[rng.below(nodes)] = Some(Terminal::Sink);
        }
        let mut network = FlowNetwork::new(nodes);
        for &(a, b, c) in &edges {
            network.add_edge(a, b, c);
        }
        for (i, r) in role.iter().enumerate() {
            if let Some(t) = r {
                network.set_terminal(i as u32, *t);
            }
        }
        let flow = network.max_flow().unwrap();
        let expected = edmonds_karp(nodes, &edges, &role);
        assert!(expected > 1.0);
        assert_rel(flow.value, expected, 1e-9, "max flow");
        assert_rel(flow.cut_capacity, expected, 1e-9, "min cut");
    }
}

#[test]
fn critical_current_of_a_random_lattice_agrees_with_edmonds_karp() {
    // Vibration at 125 GPa and 10 K: about 40 % of the bonds superconduct, with random
    // capacities; periodic along x (the wrap bonds must be left out) and y.
    let mut material = tunnelgrid_model::presets::preset("default").unwrap();
    material.lattice.cells = [10, 9, 8];
    material.lattice.boundary = [Boundary::Periodic, Boundary::Periodic, Boundary::Open];
    let (model, params, masks) = build(material, 125.0, 10.0, 0.5, 4);
    let lattice = &model.lattice;
    let j0 = model.material.overlap.j0_amp;
    for axis in 0..3 {
        // Independently: every superconducting bond not crossing the axis's periodic boundary,
        // capacity J0·max(0, −Δ/Δ0); terminals on the faces.
        let n = lattice.sites() as usize;
        let mut edges = Vec::new();
        for site in 0..n as u64 {
            let (cell, b) = lattice.coords(site);
            for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
                if masks[site as usize] & sc_bit(k) == 0 {
                    continue;
                }
                let nb = lattice.neighbour(cell, bond).unwrap();
                if nb.crossing[axis] != 0 {
                    continue;
                }
                let (nc, nbb) = lattice.coords(nb.site);
                let p = params.species(site, cell, b);
                let q = params.species(nb.site, nc, nbb);
                let d2 = BondParams::bond_length2(
                    params.bond_vectors[b as usize][k],
                    params.displacement(site),
                    params.displacement(nb.site),
                );
                let law = &params.pairs[p][q];
                let ratio = law.gap_ev(d2) as f64 / law.gap_ev as f64;
                edges.push((site as u32, nb.site as u32, j0 * (-ratio).max(0.0)));
            }
        }
        let role: Vec<Option<Terminal>> = (0..n as u64)
            .map(|s| match lattice.coords(s).0[axis] {
                0 => Some(Terminal::Source),
                c if c == lattice.cells[axis] - 1 => Some(Terminal::Sink),
                _ => None,
            })
            .collect();
        let expected = edmonds_karp(n, &edges, &role);
        let result = critical_current(lattice, &params, &masks, axis, j0).unwrap();
        assert!(
            expected > 0.0,
            "the superconducting network spans axis {axis}"
        );
        assert_rel(
            result.critical_current_a,
            expected,
            1e-9,
            &format!("I_c axis {axis}"),
        );
        let cut: f64 = result
            .cut_bonds
            .iter()
            .map(|&(site, k)| {
                let (cell, b) = lattice.coords(site);
                let nb = lattice
                    .neighbour(cell, &lattice.forward_bonds(b)[k])
                    .unwrap();
                edges
                    .iter()
                    .find(|e| e.0 as u64 == site && e.1 as u64 == nb.site)
                    .unwrap()
                    .2
            })
            .sum();
        assert_rel(cut, expected, 1e-9, "the exported cut bonds carry I_c");
    }
}

/// The GPU solver's network in site space (`AxisStencil`), solved here with a plain f64
/// Jacobi-PCG on its own residual, equals `axis_resistance`: the stencil (forward and backward
/// bonds, contracted clusters, bus bars, pruning) is the same network. Runs without a GPU.
#[test]
fn the_gpu_stencil_is_the_same_network() {
    use tunnelgrid_cpu::kirchhoff::stencil::{axis_stencil, NodeRole};
    let mut material = tunnelgrid_model::presets::preset("default").unwrap();
    material.lattice.cells = [10, 9, 8];
    material.lattice.boundary = [Boundary::Open, Boundary::Periodic, Boundary::Open];
    material.lattice.vacancy = 0.05;
    let (model, params, masks) = build(material, 150.0, 300.0, 0.5, 3);
    let lattice = &model.lattice;
    for axis in 0..3 {
        let stencil = axis_stencil(lattice, &params, &masks, None, axis, &options()).unwrap();
        let n = stencil.sites();
        let free: Vec<bool> = (0..n)
            .map(|s| stencil.role(s as u32) == Some(NodeRole::Free))
            .collect();
        assert_eq!(free.iter().filter(|&&f| f).count(), stencil.free_nodes);
        let mut b = vec![0.0; n];
        stencil.residual(&vec![0.0; n], &mut b);
        // A·v = b − residual(v).
        let apply = |v: &[f64]| {
            let mut r = vec![0.0; n];
            stencil.residual(v, &mut r);
            b.iter().zip(&r).map(|(b, r)| b - r).collect::<Vec<f64>>()
        };
        let inv: Vec<f64> = (0..n)
            .map(|s| {
                if free[s] {
                    1.0 / stencil.diagonal[s]
                } else {
                    0.0
                }
            })
            .collect();
        let dot = |a: &[f64], c: &[f64]| a.iter().zip(c).map(|(a, c)| a * c).sum::<f64>();
        let mut x = vec![0.0; n];
        let mut r = b.clone();
        let mut z: Vec<f64> = r.iter().zip(&inv).map(|(r, d)| r * d).collect();
        let mut p = z.clone();
        let mut rz = dot(&r, &z);
        let b_norm = dot(&b, &b).sqrt();
        let mut iterations = 0;
        while dot(&r, &r).sqrt() > 1e-12 * b_norm && iterations < 10 * n {
            let q = apply(&p);
            let alpha = rz / dot(&p, &q);
            for i in 0..n {
                x[i] += alpha * p[i];
                r[i] -= alpha * q[i];
                z[i] = r[i] * inv[i];
            }
            let rz_new = dot(&r, &z);
            for i in 0..n {
                p[i] = z[i] + rz_new / rz * p[i];
            }
            rz = rz_new;
            iterations += 1;
        }
        let from_stencil = stencil.resistance(&params, &x, iterations).unwrap();
        let reference =
            axis_resistance(lattice, &params, &masks, None, axis, &options(), |_, _| {}).unwrap();
        assert_eq!(from_stencil.conduction, reference.conduction);
        assert_eq!(from_stencil.free_nodes, reference.free_nodes);
        assert_eq!(from_stencil.resistors, reference.resistors);
        assert!(stencil.clusters() > 0, "contracted clusters are exercised");
        assert_rel(
            from_stencil.resistance_ohm,
            reference.resistance_ohm,
            1e-9,
            &format!("stencil axis {axis}"),
        );
    }
}
