//! One (pressure, temperature) point analysed over several seeds: the states per axis by
//! majority, the observables as means, the resistivity per axis as the lower median, and the
//! conventional state from the material's phase lines. `sweep` evaluates a grid of such points,
//! `profile` a planet's pressure–temperature path; both therefore agree with `run` point for
//! point.

use anyhow::{Context, Result};
use tunnelgrid_model::{
    BondParams, Conditions, ConventionalState, Engine, Model, ResistanceOptions, State,
};

/// How a point is analysed.
#[derive(Debug, Clone, Copy)]
pub struct PointOptions<'a> {
    /// Seeds per point (≥ 1), starting at `base_seed`.
    pub seeds: u32,
    /// First seed.
    pub base_seed: u64,
    /// Axes whose resistivity is solved (0 = x, 1 = y, 2 = z).
    pub axes: &'a [usize],
    /// Solve the resistivity along `axes`.
    pub resistance: bool,
}

/// One point aggregated over its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct PointAnalysis {
    /// Seeds aggregated.
    pub seeds: u32,
    /// Majority state per axis (a tie goes to the less conducting state; `None` for z of 2D
    /// lattices).
    pub states: [Option<State>; 3],
    /// Mean tunnel-bond fraction.
    pub tunnel_bond_fraction: f64,
    /// Mean superconducting-bond fraction.
    pub sc_bond_fraction: f64,
    /// Mean largest-cluster fraction.
    pub largest_cluster_fraction: f64,
    /// Mean finite-cluster size.
    pub mean_cluster_size: f64,
    /// Mean gap of normal tunnels, eV (`None` when no seed has any).
    pub mean_gap_ev: Option<f64>,
    /// Lower median resistivity per axis, Ω·m: `None` when not solved, +∞ insulating, 0
    /// superconducting.
    pub resistivity_ohm_m: [Option<f64>; 3],
    /// Solid, liquid or gas by the material's `[phases]` lines (`None` without them).
    pub conventional: Option<ConventionalState>,
}

/// The states a point's seeds vote for, from the least conducting up (ties go to the first).
const VOTED: [State; 3] = [State::Insulating, State::Conducting, State::Superconducting];

/// Analyses `model` at (P, T) over `options.seeds` seeds on `engine`, whose Kirchhoff solver
/// gives the resistivity (on its own bond masks).
pub fn analyze_point(
    engine: &dyn Engine,
    model: &Model,
    pressure: f64,
    temperature: f64,
    options: &PointOptions<'_>,
) -> Result<PointAnalysis> {
    let axes = model.lattice.axes();
    let k = options.seeds.max(1);
    let mut votes = [[0u32; 3]; 3];
    let (mut tunnel, mut sc, mut largest, mut mean_size) = (0.0, 0.0, 0.0, 0.0);
    let (mut gap_sum, mut gap_n) = (0.0, 0u32);
    let mut rho: [Vec<f64>; 3] = Default::default();
    for s in 0..k {
        let conditions = Conditions {
            pressure_gpa: pressure,
            temperature_k: temperature,
            // The CLI refuses a first seed whose run would pass u64::MAX.
            seed: options.base_seed + u64::from(s),
            p: model.material.bernoulli.p,
        };
        let report = engine
            .analyze(model, &conditions)
            .with_context(|| format!("point P = {pressure} GPa, T = {temperature} K"))?;
        let states = report.states.to_vec();
        for (a, st) in states.iter().enumerate() {
            // A thin axis has no state to vote for (its cell stays empty).
            if let Some(i) = VOTED.iter().position(|v| v == st) {
                votes[a][i] += 1;
            }
        }
        tunnel += report.tunnel_bond_fraction;
        sc += report.sc_bond_fraction;
        largest += report.largest_cluster_fraction;
        mean_size += report.mean_cluster_size;
        if let Some(g) = report.mean_gap_ev {
            gap_sum += g;
            gap_n += 1;
        }
        if options.resistance {
            let masks = engine.bond_masks(model, &conditions)?.masks;
            let params = BondParams::new(&model.material, &model.lattice, &conditions);
            for &a in options.axes.iter().filter(|&&a| a < axes) {
                let value = match states[a] {
                    // Nothing to solve between faces in one layer.
                    State::NotApplicable => continue,
                    State::Insulating => f64::INFINITY,
                    State::Superconducting => 0.0,
                    State::Conducting => {
                        engine
                            .axis_resistance(
                                &model.lattice,
                                &params,
                                &masks,
                                None,
                                a,
                                &ResistanceOptions::default(),
                                &mut |_, _| {},
                            )?
                            .axis
                            .resistivity_ohm_m
                    }
                };
                rho[a].push(value);
            }
        }
    }
    let n = f64::from(k);
    let mut states = [None; 3];
    for a in 0..axes {
        let v = votes[a];
        if v.iter().sum::<u32>() == 0 {
            continue; // a thin axis: no state
        }
        // Most votes; ties go to the less conducting state (the first maximum).
        let best = (0..3).fold(0, |best, s| if v[s] > v[best] { s } else { best });
        states[a] = Some(VOTED[best]);
    }
    let mut resistivity = [None; 3];
    for a in 0..3 {
        let mut values = std::mem::take(&mut rho[a]);
        if !values.is_empty() {
            values.sort_by(|x, y| x.total_cmp(y));
            resistivity[a] = Some(values[(values.len() - 1) / 2]);
        }
    }
    Ok(PointAnalysis {
        seeds: k,
        states,
        tunnel_bond_fraction: tunnel / n,
        sc_bond_fraction: sc / n,
        largest_cluster_fraction: largest / n,
        mean_cluster_size: mean_size / n,
        mean_gap_ev: (gap_n > 0).then(|| gap_sum / f64::from(gap_n)),
        resistivity_ohm_m: resistivity,
        conventional: model
            .material
            .phases
            .as_ref()
            .map(|phases| phases.state(pressure, temperature)),
    })
}
