//! The critical current of lattices (max-flow over the superconducting bonds): perfect lattices
//! by hand, a single bond, no superconducting path, and a random lattice against Edmonds–Karp.

use crate::lattices::{bernoulli_lattice, edge_by_hand, perfect_lattice, NORMAL_GPA, SC_GPA};
use crate::max_flow::edmonds_karp;
use tunnelgrid_cpu::maxflow::{critical_current, Terminal};
use tunnelgrid_model::params::{sc_bit, tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Boundary, LatticeKind, Mode};
use tunnelgrid_testkit::assert_rel;
use tunnelgrid_testkit::lattices::build;

/// Bond critical current of a perfect default lattice by hand (MODEL.md §8): J0·(−Δ/Δ0) with
/// J0 = 1 A.
fn bond_capacity_by_hand(pressure_gpa: f64) -> f64 {
    let d = edge_by_hand(pressure_gpa);
    assert!(d < 2.5, "every bond superconducting");
    (2.5 - d) / 0.35
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
