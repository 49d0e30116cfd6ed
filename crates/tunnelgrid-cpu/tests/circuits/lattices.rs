//! `axis_resistance` on lattices between bus bars: perfect lattices by hand, superconducting
//! shorts and clusters contracted by hand, superconducting and insulating samples, refusals,
//! and random lattices against a dense solve.

use tunnelgrid_cpu::kirchhoff::{
    axis_resistance, resistances, AxisResistance, Conduction, KirchhoffError, SolveOptions,
};
use tunnelgrid_cpu::label_clusters;
use tunnelgrid_cpu::maxflow::{critical_current, MaxFlowError};
use tunnelgrid_model::params::{sc_bit, tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Boundary, Lattice, LatticeKind, Mode, Model, Network};
use tunnelgrid_testkit::assert_rel;
use tunnelgrid_testkit::dense::{dense_current, dense_lattice_resistance};
use tunnelgrid_testkit::lattices::{build, material, tunnel_network};

/// A perfect lattice of the `default` material (no vibration) at `pressure_gpa` and 300 K (= T_ref,
/// so no thermal expansion): its model, bond parameters and bond masks.
pub(crate) fn perfect_lattice(
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
pub(crate) fn bernoulli_lattice(
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
pub(crate) fn edge_by_hand(pressure_gpa: f64) -> f64 {
    3.0 * (1.0 + 4.0 * pressure_gpa / 100.0).powf(-1.0 / 12.0)
}

/// Bond resistance of a perfect default lattice by hand (MODEL.md §5): d_t = 2.85 Å,
/// d_sc = 2.85 − 0.2·1.75 = 2.50 Å, r = R0·Δ/Δ0 = R0·(d − d_sc)/(d_t − d_sc), R0 = 1 kΩ.
fn bond_resistance_by_hand(pressure_gpa: f64) -> f64 {
    let d = edge_by_hand(pressure_gpa);
    assert!(d > 2.5 && d < 2.85, "every bond a normal tunnel");
    1000.0 * (d - 2.5) / 0.35
}

pub(crate) const NORMAL_GPA: f64 = 60.0; // a ≈ 2.709 Å: r ≈ 597 Ω
pub(crate) const SC_GPA: f64 = 350.0; // a ≈ 2.394 Å: I_c ≈ 0.303 A per bond

pub(crate) fn options() -> SolveOptions {
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
