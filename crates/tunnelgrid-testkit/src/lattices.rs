//! Lattice fixtures shared by the CPU circuit tests and the GPU Kirchhoff tests: a preset on
//! another lattice, and its model, bond parameters and CPU bond masks.

use tunnelgrid_cpu::CpuEngine;
use tunnelgrid_model::params::{ALL_SC_BITS, ALL_TUNNEL_BITS};
use tunnelgrid_model::{BondParams, Boundary, Conditions, Engine, LatticeKind, Material, Model};

/// The preset `preset` on a lattice of `kind`, `cells` and `boundary`.
pub fn material(
    preset: &str,
    kind: LatticeKind,
    cells: [u32; 3],
    boundary: [Boundary; 3],
) -> Material {
    let mut material = tunnelgrid_model::presets::preset(preset).unwrap();
    material.lattice.kind = kind;
    material.lattice.cells = cells;
    material.lattice.boundary = boundary;
    material
}

/// The model of `material` at (P, T, p, seed), its bond parameters and its CPU bond masks.
pub fn build(
    material: Material,
    pressure_gpa: f64,
    temperature_k: f64,
    p: f64,
    seed: u64,
) -> (Model, BondParams, Vec<u32>) {
    let model = Model::new(material).unwrap();
    let conditions = Conditions {
        pressure_gpa,
        temperature_k,
        seed,
        p,
    };
    let params = BondParams::new(&model.material, &model.lattice, &conditions);
    let masks = CpuEngine::default()
        .bond_masks(&model, &conditions)
        .expect("valid conditions")
        .masks;
    (model, params, masks)
}

/// Tunnel mode near the gap closing, with vacancies: random resistances (r = R0·Δ/Δ0), missing
/// bonds and finite superconducting clusters (5–25% of the tunnels, checked here); sc 12×12×11
/// (1 584 sites), open x, periodic y and z. The random network the solvers are checked on
/// against a dense LU.
pub fn tunnel_network() -> (Model, BondParams, Vec<u32>) {
    let mut m = material(
        "default",
        LatticeKind::Sc,
        [12, 12, 11],
        [Boundary::Open, Boundary::Periodic, Boundary::Periodic],
    );
    m.lattice.vacancy = 0.05;
    let network = build(m, 150.0, 300.0, 0.5, 5);
    let count = |bits: u32| {
        network
            .2
            .iter()
            .map(|m| (m & bits).count_ones())
            .sum::<u32>()
    };
    let (sc, tunnels) = (count(ALL_SC_BITS), count(ALL_TUNNEL_BITS));
    assert!(
        sc > tunnels / 20 && sc < tunnels / 4,
        "{sc} of {tunnels} bonds superconduct"
    );
    network
}
