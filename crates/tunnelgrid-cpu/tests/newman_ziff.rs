//! Newman–Ziff sweeps against the CPU engine's direct labelling: when a sweep has added exactly
//! the sites (bonds) that a Bernoulli run occupies (opens), it must report the same spanning and
//! wrapping per axis and the same largest cluster.

use tunnelgrid_cpu::newman_ziff::{BinomialWeights, Percolation, Sweep, SweepGraph};
use tunnelgrid_cpu::{evaluate_bonds, CpuEngine};
use tunnelgrid_model::params::{tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Boundary, Engine, Lattice, LatticeKind, Mode, Model};

/// Runs the engine and a sweep on the same occupation; returns how many axes spanned.
fn compare(
    kind: LatticeKind,
    mode: Mode,
    n: u32,
    boundary: [Boundary; 3],
    p: f64,
    seed: u64,
) -> usize {
    let mut material = tunnelgrid_model::presets::preset("bernoulli-bond").unwrap();
    material.mode = mode;
    material.lattice.kind = kind;
    let cells = [n, n, if kind.is_2d() { 1 } else { n }];
    material.lattice.cells = cells;
    material.lattice.boundary = boundary;
    material.bernoulli.p = p;
    material.conditions.seed = seed;
    let model = Model::new(material.clone()).unwrap();
    let conditions = model.default_conditions();
    let report = CpuEngine::default().analyze(&model, &conditions).unwrap();

    let lattice = Lattice::new(kind, cells, boundary);
    let params = BondParams::new(&material, &lattice, &conditions);
    let mut masks = vec![0u32; lattice.sites() as usize];
    let mut presence = vec![0u32; masks.len()];
    evaluate_bonds(&lattice, &params, &mut masks, &mut presence);

    let percolation = match mode {
        Mode::BernoulliSite => Percolation::Site,
        _ => Percolation::Bond,
    };
    // The occupied items first (in index order), then the rest: after `count` steps the sweep
    // holds exactly the engine's occupation.
    let mut first = Vec::new();
    let mut rest = Vec::new();
    match percolation {
        Percolation::Site => {
            for (site, &mask) in masks.iter().enumerate() {
                if mask & PRESENT_BIT != 0 {
                    first.push(site as u32);
                } else {
                    rest.push(site as u32);
                }
            }
        }
        Percolation::Bond => {
            // The graph's bond order: sites in index order, forward bonds k that have a target.
            let mut index = 0u32;
            for site in 0..lattice.sites() {
                let (cell, b) = lattice.coords(site);
                for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
                    if lattice.neighbour(cell, bond).is_some() {
                        if masks[site as usize] & tunnel_bit(k) != 0 {
                            first.push(index);
                        } else {
                            rest.push(index);
                        }
                        index += 1;
                    }
                }
            }
        }
    }
    let count = first.len() as u32;
    first.extend(rest);
    let graph = SweepGraph::new(lattice.clone(), percolation).unwrap();
    assert_eq!(first.len() as u32, graph.order_len());
    let at_count = BinomialWeights {
        start: count,
        weights: vec![1.0],
    };
    let events = Sweep::new(&graph).run_order(&graph, &first, Some(&at_count));
    let engine_spans = report.spans.to_vec();
    let case = format!("{kind} {mode:?} {n} {boundary:?} p={p} seed={seed}");
    for (axis, &spans) in engine_spans.iter().enumerate() {
        let event = match boundary[axis] {
            Boundary::Open => events.span[axis],
            Boundary::Periodic => events.wrap[axis],
        };
        let sweep_spans = event.is_some_and(|e| e <= count);
        assert_eq!(sweep_spans, spans, "{case}: axis {axis}");
    }
    assert_eq!(
        events.weighted_largest as u64, report.largest_cluster,
        "{case}: largest cluster"
    );
    engine_spans.iter().filter(|&&s| s).count()
}

#[test]
fn sweeps_agree_with_direct_labelling() {
    use Boundary::{Open, Periodic};
    let boundaries = [[Open; 3], [Periodic; 3], [Periodic, Open, Periodic]];
    let cases: &[(LatticeKind, f64, f64, u32)] = &[
        (LatticeKind::Square, 0.5927, 0.5, 12),
        (LatticeKind::Sc, 0.3116, 0.2488, 6),
        (LatticeKind::Bcc, 0.246, 0.180, 4),
        (LatticeKind::Fcc, 0.199, 0.120, 3),
        (LatticeKind::Diamond, 0.430, 0.389, 3),
    ];
    let (mut axes, mut spanning) = (0, 0);
    for &(kind, site_pc, bond_pc, n) in cases {
        for boundary in boundaries {
            for seed in 0..6u64 {
                for (mode, pc) in [
                    (Mode::BernoulliSite, site_pc),
                    (Mode::BernoulliBond, bond_pc),
                ] {
                    // Around the threshold, where spanning is a coin flip.
                    let p = pc * (0.9 + 0.04 * seed as f64);
                    spanning += compare(kind, mode, n, boundary, p, seed);
                    axes += if kind.is_2d() { 2 } else { 3 };
                }
            }
        }
    }
    // The comparison means something only if both answers occur often.
    assert!(
        spanning > axes / 5 && spanning < axes * 4 / 5,
        "{spanning} of {axes}"
    );
}

/// The packed (i8) shifts and the wide (i32) ones give the same events on every lattice kind,
/// boundary and mode, with and without weights (the wide path is what an i8 overflow falls back
/// to, so it must be right even though random samples almost never reach it).
#[test]
fn packed_and_wide_shifts_agree() {
    use tunnelgrid_cpu::newman_ziff::sample_seed;
    use Boundary::{Open, Periodic};
    for kind in LatticeKind::ALL {
        for boundary in [[Open; 3], [Periodic; 3], [Periodic, Open, Periodic]] {
            for percolation in [Percolation::Site, Percolation::Bond] {
                let n = if kind.is_2d() { 16 } else { 5 };
                let cells = [n, n + 1, if kind.is_2d() { 1 } else { n - 1 }];
                let graph =
                    SweepGraph::new(Lattice::new(kind, cells, boundary), percolation).unwrap();
                let weights = BinomialWeights::new(graph.order_len(), 0.4);
                let mut sweep = Sweep::new(&graph);
                let mut order = Vec::new();
                for sample in 0..4 {
                    Sweep::shuffled_order(graph.order_len(), sample_seed(3, sample), &mut order);
                    for w in [None, Some(&weights)] {
                        let narrow = sweep.run_order(&graph, &order, w);
                        let wide = sweep.run_order_wide(&graph, &order, w);
                        assert_eq!(narrow, wide, "{kind} {boundary:?} {percolation:?}");
                    }
                }
            }
        }
    }
}
