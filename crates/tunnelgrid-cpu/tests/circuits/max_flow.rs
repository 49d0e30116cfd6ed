//! Maximum flow on generic networks: by hand, edge cases and refusals, against a brute-force
//! minimum cut, and against Edmonds–Karp.

use proptest::prelude::*;
use std::collections::VecDeque;
use tunnelgrid_cpu::maxflow::{FlowNetwork, MaxFlowError, Terminal};
use tunnelgrid_testkit::assert_rel;
use tunnelgrid_testkit::rng::TestRng;

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

/// Maximum flow by Edmonds–Karp (shortest augmenting paths) with a super source and sink:
/// slow, simple and independent of the push–relabel under test.
pub(crate) fn edmonds_karp(
    nodes: usize,
    edges: &[(u32, u32, f64)],
    role: &[Option<Terminal>],
) -> f64 {
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
