//! The model against numbers computed by hand (MODEL.md §3, §5), determinism, and the
//! percolation reference behaviour of MODEL.md §9.

use tunnelgrid::cpu::CpuEngine;
use tunnelgrid::model::{presets::preset, Conditions, Engine, LatticeKind, Model, Report, State};

/// Nearest-neighbour distance over the cell edge (in-plane for tetragonal).
fn neighbour_ratio(kind: LatticeKind) -> f64 {
    match kind {
        LatticeKind::Sc | LatticeKind::Square | LatticeKind::Tetragonal => 1.0,
        LatticeKind::Bcc => 3f64.sqrt() / 2.0,
        LatticeKind::Fcc => 1.0 / 2f64.sqrt(),
        LatticeKind::Diamond => 3f64.sqrt() / 4.0,
    }
}

/// A perfect lattice (no vibration, no vacancies) of `kind` at T_ref, with its cell edge chosen
/// so that the nearest-neighbour distance is 3 Å at P = 0.
fn perfect(kind: LatticeKind) -> Model {
    let mut material = preset("default").unwrap();
    material.lattice.kind = kind;
    material.lattice.a0 = 3.0 / neighbour_ratio(kind);
    material.lattice.cells = if kind.is_2d() { [6, 6, 1] } else { [4, 4, 4] };
    material.lattice.c_over_a = if kind == LatticeKind::Tetragonal {
        1.15
    } else {
        1.0
    };
    material.eos.sigma_static = 0.0;
    material.eos.sigma_thermal = 0.0;
    Model::new(material).unwrap()
}

fn analyze(model: &Model, pressure_gpa: f64) -> Report {
    let conditions = Conditions {
        pressure_gpa,
        temperature_k: 300.0,
        ..model.default_conditions()
    };
    CpuEngine::default().analyze(model, &conditions).unwrap()
}

/// Pressure at which a bond of length 3 Å at P = 0 (K0 = 100 GPa, K0' = 4, isotropic) contracts
/// to `distance`: (d/3)³ = V/V0 = (1 + 0.04·P)^(−1/4).
fn pressure_for(distance: f64) -> f64 {
    let scale = distance / 3.0;
    ((scale.powi(3)).powf(-4.0) - 1.0) / 0.04
}

/// Every bond switches to a tunnel at d = d_t = 2.85 Å and superconducts at d = d_sc = 2.50 Å,
/// at the pressures computed by hand from the nearest-neighbour distance of each lattice.
#[test]
fn perfect_lattices_switch_at_hand_computed_pressures() {
    let d_t = 2.85;
    let d_sc = 2.85 - 0.2 * 1.75;
    for kind in LatticeKind::ALL {
        let model = perfect(kind);
        let bonds = model.lattice.possible_bonds();
        let p_t = pressure_for(d_t);
        let p_sc = pressure_for(d_sc);
        let below = analyze(&model, p_t * 0.995);
        let above = analyze(&model, p_t * 1.005);
        let sc_below = analyze(&model, p_sc * 0.995);
        let sc_above = analyze(&model, p_sc * 1.005);
        if kind == LatticeKind::Tetragonal {
            // Only the in-plane bonds (2 of 3 per site) reach d_t and d_sc at these pressures.
            let in_plane = bonds - 4 * 4 * 3;
            assert_eq!(below.tunnel_bonds, 0, "{kind}");
            assert_eq!(above.tunnel_bonds, in_plane, "{kind}");
            assert_eq!(sc_below.sc_bonds, 0, "{kind}");
            assert_eq!(sc_above.sc_bonds, in_plane, "{kind}");
            assert_eq!(sc_above.states.z, Some(State::Insulating));
            assert_eq!(sc_above.states.x, State::Superconducting);
            continue;
        }
        assert_eq!(
            below.tunnel_bonds, 0,
            "{kind}: no tunnel just below {p_t} GPa"
        );
        assert_eq!(
            above.tunnel_bonds, bonds,
            "{kind}: every bond tunnels just above {p_t} GPa"
        );
        assert_eq!(above.sc_bonds, 0, "{kind}");
        assert_eq!(
            sc_below.sc_bonds, 0,
            "{kind}: none superconducts below {p_sc} GPa"
        );
        assert_eq!(
            sc_above.sc_bonds, bonds,
            "{kind}: all superconduct above {p_sc} GPa"
        );
        assert!(below
            .states
            .to_vec()
            .iter()
            .all(|&s| s == State::Insulating));
        assert!(above
            .states
            .to_vec()
            .iter()
            .all(|&s| s == State::Conducting));
        assert!(sc_above
            .states
            .to_vec()
            .iter()
            .all(|&s| s == State::Superconducting));
        // Mean gap just above the onset is just below Δ0 = 1 eV; deep in the SC phase it is undefined.
        assert!(
            above.mean_gap_ev.unwrap() > 0.95 && above.mean_gap_ev.unwrap() <= 1.0,
            "{kind}"
        );
        assert_eq!(sc_above.mean_gap_ev, None);
    }
}

#[test]
fn the_same_seed_gives_the_same_report_twice() {
    for name in [
        "default",
        "alloy",
        "bernoulli-site",
        "bernoulli-bond",
        "layered",
    ] {
        let mut material = preset(name).unwrap();
        material.lattice.cells = [20, 18, 16];
        let model = Model::new(material).unwrap();
        let conditions = model.default_conditions();
        let strip = |mut r: Report| {
            r.timings = Default::default();
            r.elapsed_s = 0.0;
            r
        };
        let a = strip(
            CpuEngine::with_slabs(1)
                .analyze(&model, &conditions)
                .unwrap(),
        );
        let b = strip(
            CpuEngine::with_slabs(6)
                .analyze(&model, &conditions)
                .unwrap(),
        );
        assert_eq!(a, b, "{name}");
        let other_seed = Conditions {
            seed: conditions.seed + 1,
            ..conditions
        };
        let c = strip(CpuEngine::default().analyze(&model, &other_seed).unwrap());
        assert_ne!(
            a.tunnel_bonds, c.tunnel_bonds,
            "{name}: a different seed gives a different lattice"
        );
    }
}

/// Fraction of `seeds` samples of sc site percolation at L = 64 that span x.
fn spanning_probability(p: f64, seeds: u64) -> f64 {
    let mut material = preset("bernoulli-site").unwrap();
    material.lattice.cells = [64, 64, 64];
    let model = Model::new(material).unwrap();
    let engine = CpuEngine::default();
    let spanning = (0..seeds)
        .filter(|&seed| {
            let conditions = Conditions {
                seed: 1000 + seed,
                p,
                ..model.default_conditions()
            };
            engine.analyze(&model, &conditions).unwrap().spans.x
        })
        .count();
    spanning as f64 / seeds as f64
}

/// MODEL.md §9: p_c(sc site) = 0.3116. At L = 64 the spanning probability is far below ½ at
/// p = 0.28 and far above at p = 0.35.
#[test]
fn sc_site_percolation_spans_around_the_reference_threshold() {
    let low = spanning_probability(0.28, 60);
    let high = spanning_probability(0.35, 60);
    assert!(low < 0.1, "P(span | p = 0.28) = {low}");
    assert!(high > 0.9, "P(span | p = 0.35) = {high}");
}

/// The default preset holds all three states with the topology of the theory's figure.
#[test]
fn default_preset_has_three_states() {
    let mut material = preset("default").unwrap();
    material.lattice.cells = [24, 24, 24];
    let model = Model::new(material).unwrap();
    let state = |p: f64, t: f64| {
        let c = Conditions {
            pressure_gpa: p,
            temperature_k: t,
            ..model.default_conditions()
        };
        CpuEngine::default().analyze(&model, &c).unwrap().states.x
    };
    assert_eq!(state(1.0, 400.0), State::Insulating);
    assert_eq!(state(60.0, 200.0), State::Conducting);
    assert_eq!(state(250.0, 10.0), State::Superconducting);
    // Cooling acts like pressure: 150 GPa superconducts at 10 K but not at 400 K.
    assert_eq!(state(150.0, 10.0), State::Superconducting);
    assert_eq!(state(150.0, 400.0), State::Conducting);
}

#[test]
fn alloy_superconducts_at_room_conditions_without_pressure() {
    let mut material = preset("alloy").unwrap();
    material.lattice.cells = [32, 32, 32];
    let model = Model::new(material).unwrap();
    let report = CpuEngine::default()
        .analyze(&model, &model.default_conditions())
        .unwrap();
    assert_eq!(report.pressure_gpa, 0.0);
    assert_eq!(report.temperature_k, 300.0);
    assert!(report
        .states
        .to_vec()
        .iter()
        .all(|&s| s == State::Superconducting));
    // Nearly all A–B bonds (half of all bonds) superconduct; no A–A or B–B bond does.
    assert!(
        report.sc_bond_fraction > 0.45 && report.sc_bond_fraction <= 0.55,
        "{}",
        report.sc_bond_fraction
    );
}

/// MODEL.md §7 on the default preset: resistivity falls with pressure and with cooling, and is
/// exactly 0 where the state is superconducting (∞, JSON null, where insulating).
#[test]
fn default_resistivity_falls_with_pressure_and_cooling() {
    let mut material = preset("default").unwrap();
    material.lattice.cells = [16, 16, 16];
    let model = Model::new(material).unwrap();
    let rho = |p: f64, t: f64| {
        let c = Conditions {
            pressure_gpa: p,
            temperature_k: t,
            ..model.default_conditions()
        };
        let engine = tunnelgrid::cpu::CpuEngine::default();
        let tr =
            tunnelgrid::transport::transport(&model, &c, &engine, Default::default(), |_, _, _| {})
                .unwrap();
        (tr.resistivity_ohm_m.x, tr.resistance_ohm.x)
    };
    let values: Vec<f64> = [40.0, 60.0, 80.0, 100.0]
        .iter()
        .map(|&p| rho(p, 300.0).0.unwrap())
        .collect();
    assert!(
        values.windows(2).all(|w| w[1] < w[0]),
        "ρ against pressure at 300 K: {values:?}"
    );
    assert!(
        rho(60.0, 10.0).0.unwrap() < rho(60.0, 300.0).0.unwrap(),
        "cooling lowers ρ"
    );
    assert_eq!(
        rho(250.0, 10.0),
        (Some(0.0), Some(0.0)),
        "superconducting: exactly 0"
    );
    assert_eq!(rho(1.0, 400.0), (None, None), "insulating: infinite");
}
