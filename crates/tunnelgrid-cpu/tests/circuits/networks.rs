//! Generic resistor networks: solved by hand, random networks against a dense LU solve, the
//! exported linear system, and the errors.

use proptest::prelude::*;
use tunnelgrid_cpu::kirchhoff::{Electrode, KirchhoffError, ResistorNetwork, SolveOptions, Solver};
use tunnelgrid_testkit::assert_rel;
use tunnelgrid_testkit::dense::{dense_current, lu_solve};
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
