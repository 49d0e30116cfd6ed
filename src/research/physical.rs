//! Bisection over the physical model: the critical pressure of a material at a temperature, and
//! `design`'s smallest engineered attraction δ of one species pair that makes the sample
//! superconducting at (P, T). Both ask, per seed, a monotone question of the engine's report.

use super::bisect::{bisect_over_seeds, Bisection};
use anyhow::{bail, Context, Result};
use tunnelgrid_model::{Conditions, Engine, Material, Model, Report, State};

/// The state the question asks for (at least this state counts as yes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A tunnel cluster spans (conducting or superconducting).
    Conducting,
    /// A superconducting cluster spans.
    Superconducting,
}

/// Which axes must reach the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Axes {
    /// Along x.
    X,
    /// Along y.
    Y,
    /// Along z.
    Z,
    /// Along at least one axis.
    Any,
    /// Along every axis.
    All,
}

/// Whether the report reaches `target` along `axes`.
pub fn reaches(report: &Report, target: Target, axes: Axes) -> bool {
    let states = report.states.to_vec();
    let ok = |s: &State| match target {
        Target::Conducting => matches!(s, State::Conducting | State::Superconducting),
        Target::Superconducting => *s == State::Superconducting,
    };
    match axes {
        Axes::X => states.first().is_some_and(ok),
        Axes::Y => states.get(1).is_some_and(ok),
        Axes::Z => states.get(2).is_some_and(ok),
        Axes::Any => states.iter().any(ok),
        Axes::All => states.iter().all(ok),
    }
}

/// Runs the engine on `material` at (P, T, seed).
pub fn analyze(
    engine: &dyn Engine,
    material: &Material,
    pressure_gpa: f64,
    temperature_k: f64,
    seed: u64,
) -> Result<Report> {
    let model = Model::new(material.clone())?;
    let conditions = Conditions {
        pressure_gpa,
        temperature_k,
        seed,
        p: model.material.bernoulli.p,
    };
    Ok(engine.analyze(&model, &conditions)?)
}

/// The pressure at which `material` first reaches `target` at `temperature_k`, per seed.
#[allow(clippy::too_many_arguments)]
pub fn critical_pressure(
    engine: &dyn Engine,
    material: &Material,
    temperature_k: f64,
    seeds: &[u64],
    range: (f64, f64),
    tolerance: f64,
    target: Target,
    axes: Axes,
) -> Result<Bisection> {
    bisect_over_seeds(seeds, range, tolerance, "--range", |p, seed| {
        Ok(reaches(
            &analyze(engine, material, p, temperature_k, seed)?,
            target,
            axes,
        ))
    })
}

/// The index in `material.pairs` of the pair `design` varies: `species` if given (added with
/// δ = 0 when the material has no entry for it), else the material's only attractive pair.
pub fn design_pair(material: &mut Material, species: Option<[u32; 2]>) -> Result<usize> {
    if let Some([a, b]) = species {
        let count = material.species.count;
        if a >= count || b >= count {
            bail!(
                "--pair: species are 0..{} in material '{}', got {a},{b}",
                count - 1,
                material.name
            );
        }
        let found = material
            .pairs
            .iter()
            .position(|p| p.species == [a, b] || p.species == [b, a]);
        return Ok(found.unwrap_or_else(|| {
            material.pairs.push(tunnelgrid_model::config::PairConfig {
                species: [a, b],
                contact_distance: None,
                gap_ev: None,
                attraction: 0.0,
                compression_bond: 0.0,
            });
            material.pairs.len() - 1
        }));
    }
    let attractive: Vec<usize> = (0..material.pairs.len())
        .filter(|&i| material.pairs[i].attraction > 0.0)
        .collect();
    match attractive.as_slice() {
        [i] => Ok(*i),
        [] => bail!(
            "--pair: material '{}' has no attractive pair; name one, e.g. --pair 0,1",
            material.name
        ),
        _ => bail!(
            "--pair: material '{}' has {} attractive pairs; name the one to vary, e.g. --pair 0,1",
            material.name,
            attractive.len()
        ),
    }
}

/// The smallest δ of pair `pair` at which the sample reaches `axes` superconducting at (P, T).
#[allow(clippy::too_many_arguments)]
pub fn design(
    engine: &dyn Engine,
    material: &Material,
    pair: usize,
    pressure_gpa: f64,
    temperature_k: f64,
    seeds: &[u64],
    range: (f64, f64),
    tolerance: f64,
    axes: Axes,
) -> Result<Bisection> {
    let mut trial = material.clone();
    bisect_over_seeds(seeds, range, tolerance, "--range", |delta, seed| {
        trial.pairs[pair].attraction = delta;
        let report = analyze(engine, &trial, pressure_gpa, temperature_k, seed)
            .with_context(|| format!("δ = {delta} Å"))?;
        Ok(reaches(&report, Target::Superconducting, axes))
    })
}
