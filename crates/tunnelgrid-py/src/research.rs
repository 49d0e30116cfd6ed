//! `tunnelgrid.threshold` (Newman–Ziff percolation thresholds) and `tunnelgrid.adapters`.

use crate::{compute, invalid};
use anyhow::anyhow;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tunnelgrid::cpu::newman_ziff::Percolation;
use tunnelgrid::model::LatticeKind;
use tunnelgrid::research::plan::{samples_per_size, study_sizes};
use tunnelgrid::research::threshold::{
    default_sizes, threshold_study, Criterion, ThresholdOptions,
};
use tunnelgrid::spec::Names;

/// The threshold p_c and exponent ν of site or bond percolation, by Newman–Ziff sweeps and
/// finite-size scaling, as ``tunnelgrid threshold --json`` computes them.
///
/// Args:
///     lattice: "sc", "bcc", "fcc", "diamond", "square" or "tetragonal".
///     mode: "site" or "bond".
///     sizes: linear sizes L, ascending, each 4 to 1024 (default: four doubling sizes, the
///         largest with at most 2^22 items occupied at random).
///     samples: sweeps per size: one count for every size, or one per size (2 to 10^7).
///     criterion: "span" (open, along x), "wrap-any" or "wrap-all" (periodic).
///     seed: seed of sample 0.
///
/// Returns:
///     The study as a dict, equal to ``threshold --json``'s file: "p_c", "p_c_se", "nu",
///     "nu_se", "sizes" (per-size estimates and curves), "fit", "reference", ...
///
/// Raises:
///     ValueError: an unknown lattice, mode or criterion; sizes or samples out of range.
#[pyfunction]
#[pyo3(signature = (lattice = "sc", mode = "site", sizes = None, samples = None,
                    criterion = "wrap-any", seed = 1))]
pub fn threshold<'py>(
    py: Python<'py>,
    lattice: &str,
    mode: &str,
    sizes: Option<Vec<u32>>,
    samples: Option<Bound<'py, PyAny>>,
    criterion: &str,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let kind = LatticeKind::ALL
        .into_iter()
        .find(|k| k.name() == lattice)
        .ok_or_else(|| {
            let names: Vec<&str> = LatticeKind::ALL.iter().map(|k| k.name()).collect();
            invalid(anyhow!(
                "lattice={lattice:?} is not a lattice; use one of {}",
                names.join(", ")
            ))
        })?;
    let percolation = match mode {
        "site" => Percolation::Site,
        "bond" => Percolation::Bond,
        other => {
            return Err(invalid(anyhow!(
                "mode={other:?} is not a percolation mode; use site or bond"
            )))
        }
    };
    let criterion = <Criterion as clap::ValueEnum>::from_str(criterion, false).map_err(|_| {
        invalid(anyhow!(
            "criterion={criterion:?} is not a criterion; use span, wrap-any or wrap-all"
        ))
    })?;
    let sizes = sizes.unwrap_or_else(|| default_sizes(kind, percolation, criterion));
    // `samples`: one count or one per size, as the command line's --samples (default 400).
    let samples: Vec<u64> = match &samples {
        None => vec![400],
        Some(s) => match s.extract::<u64>() {
            Ok(one) => vec![one],
            Err(_) => s.extract::<Vec<u64>>().map_err(|_| {
                invalid(anyhow!(
                    "samples: give one count or a list of counts, one per size"
                ))
            })?,
        },
    };
    let options = ThresholdOptions {
        kind,
        percolation,
        sizes: study_sizes(&sizes, Names::Keywords).map_err(invalid)?,
        samples: samples_per_size(&samples, &sizes, Names::Keywords).map_err(invalid)?,
        criterion,
        seed,
    };
    let json = compute(py, || {
        let study = threshold_study(&options, |_| {}, |_| {})?;
        Ok(serde_json::to_string(&study)?)
    })?;
    py.import("json")?.getattr("loads")?.call1((json,))
}

/// The GPU adapters wgpu finds (those that can run compute shaders), best first, as
/// ``tunnelgrid info`` lists them: dicts with "name", "backend", "device_type", "driver",
/// "max_storage_binding" and "max_buffer" (bytes). An empty list when there is none.
#[pyfunction]
pub fn adapters(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let found = compute(py, || Ok(tunnelgrid::gpu::adapters()))?;
    let list = PyList::empty(py);
    for a in found {
        let d = PyDict::new(py);
        d.set_item("name", a.name)?;
        d.set_item("backend", a.backend)?;
        d.set_item("device_type", a.device_type)?;
        d.set_item("driver", a.driver)?;
        d.set_item("max_storage_binding", a.max_storage_binding)?;
        d.set_item("max_buffer", a.max_buffer)?;
        list.append(d)?;
    }
    Ok(list)
}
