use std::time::Instant;
use tunnelgrid_cpu::kirchhoff::{axis_resistance, SolveOptions};
use tunnelgrid_cpu::maxflow::critical_current;
use tunnelgrid_cpu::CpuEngine;
use tunnelgrid_model::{BondParams, Conditions, Model};

fn run(name: &str, n: u32, p: f64, pressure: f64, temp: f64) {
    let mut material = tunnelgrid_model::presets::preset(name).unwrap();
    material.lattice.cells = [n, n, n];
    let model = Model::new(material).unwrap();
    let conditions = Conditions { pressure_gpa: pressure, temperature_k: temp, seed: 1, p };
    let params = BondParams::new(&model.material, &model.lattice, &conditions);
    let t = Instant::now();
    let masks = CpuEngine::default().bond_masks(&model, &conditions).bond_masks;
    let tb = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut last = (0, 0.0);
    let r = axis_resistance(&model.lattice, &params, &masks, None, 0, &SolveOptions::default(), |i, r| last = (i, r));
    let tr = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let ic = critical_current(&model.lattice, &params, &masks, 0, 1.0);
    let tf = t.elapsed().as_secs_f64();
    match (r, ic) {
        (Ok(r), Ok(ic)) => eprintln!("{name} n={n} p={p} P={pressure} T={temp}: bonds {tb:.2}s; R={:.6e} {:?} it={} free={} resistors={} in {tr:.2}s; Ic={:.4e} cut={} scb={} phases={} in {tf:.2}s",
            r.resistance_ohm, r.conduction, r.iterations, r.free_nodes, r.resistors, ic.critical_current_a, ic.cut_bonds.len(), ic.sc_bonds, ic.phases),
        (a, b) => eprintln!("{name}: {:?} {:?}", a.err(), b.err()),
    }
}

#[test]
fn perf() {
    run("bernoulli-bond", 96, 0.35, 0.0, 300.0);
    run("bernoulli-bond", 96, 0.26, 0.0, 300.0);
    run("default", 96, 0.5, 80.0, 300.0);
    run("default", 96, 0.5, 150.0, 10.0);
    run("default", 96, 0.5, 125.0, 10.0);
    run("alloy", 64, 0.5, 0.0, 300.0);
}
