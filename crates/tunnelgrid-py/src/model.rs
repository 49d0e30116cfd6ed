//! `tunnelgrid.Model`: a material (preset or TOML) analysed at conditions; its `Report`, per-site
//! fields and pressure–temperature sweeps.

use crate::{compute, invalid};
use anyhow::{anyhow, ensure};
use numpy::ndarray::{Array, IxDyn};
use numpy::IntoPyArray;
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tunnelgrid::engines::{select_named, EngineChoice};
use tunnelgrid::fields::Fields;
use tunnelgrid::model::params::PRESENT_BIT;
use tunnelgrid::model::presets::{preset, PRESETS};
use tunnelgrid::model::{
    ConventionalState, Material, Model as LatticeModel, Network, Solver, State,
};
use tunnelgrid::point::{analyze_point, PointOptions};
use tunnelgrid::spec::{MaterialSource, ModelSpec, Names};
use tunnelgrid::sweep::{check_seed_run, pressure_temperature_model, swept_axes};
use tunnelgrid::transport::transport;

/// A keyword's value among the names clap knows for `T` (`engine="gpu"`, `solver="amg"`).
fn choice<T: clap::ValueEnum>(value: &str, keyword: &str) -> PyResult<T> {
    T::from_str(value, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        invalid(anyhow!(
            "{keyword}={value:?} is not allowed; use one of {}",
            names.join(", ")
        ))
    })
}

/// The Kirchhoff solver's preconditioner, by name.
fn solver(name: &str) -> PyResult<Solver> {
    match name {
        "amg" => Ok(Solver::Amg),
        "jacobi" => Ok(Solver::Jacobi),
        other => Err(invalid(anyhow!(
            "solver={other:?} is not allowed; use amg or jacobi"
        ))),
    }
}

/// An axis of a model's lattice: "x", "y", "z", or a NumPy axis of its fields (shaped
/// (nz, ny, nx): 0 = z, 1 = y, 2 = x).
fn model_axis(axis: &Bound<'_, PyAny>, keyword: &str) -> PyResult<usize> {
    if let Ok(name) = axis.extract::<String>() {
        return match name.as_str() {
            "x" => Ok(0),
            "y" => Ok(1),
            "z" => Ok(2),
            _ => Err(invalid(anyhow!(
                "{keyword}={name:?} is not an axis; use \"x\", \"y\", \"z\" or a NumPy axis 0..2 (0 = z)"
            ))),
        };
    }
    match axis.extract::<i64>() {
        Ok(a @ -3..=2) => Ok((2 - a.rem_euclid(3)) as usize),
        _ => Err(invalid(anyhow!(
            "{keyword}={} is not an axis; use \"x\", \"y\", \"z\" or a NumPy axis 0..2 (0 = z)",
            axis.repr().map_or_else(|_| "?".into(), |r| r.to_string())
        ))),
    }
}

/// JSON text as Python values (dicts, lists, floats, None).
fn from_json<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.getattr("loads")?.call1((text,))
}

/// A material: a preset or a TOML text, validated. Analyse it with :meth:`analyze`, read its
/// per-site fields with :meth:`field`, and sweep pressure and temperature with :meth:`sweep`.
#[pyclass(module = "tunnelgrid", frozen)]
pub struct Model {
    material: Material,
}

/// The conditions and size an analysis asks for, as keyword arguments.
#[derive(Default)]
struct Overrides {
    pressure: Option<f64>,
    temperature: Option<f64>,
    size: Option<u32>,
    cells: Option<[u32; 3]>,
    seed: Option<u64>,
    p: Option<f64>,
}

impl Model {
    /// The lattice model and its conditions with `overrides`, validated; errors name the
    /// keywords.
    fn build(&self, o: &Overrides) -> PyResult<(LatticeModel, tunnelgrid::model::Conditions)> {
        if o.size.is_some() && o.cells.is_some() {
            return Err(invalid(anyhow!(
                "give size or cells, not both (size=N is N×N×N cells)"
            )));
        }
        ModelSpec {
            source: MaterialSource::Material(Box::new(self.material.clone())),
            size: o.size,
            cells: o.cells,
            pressure: o.pressure,
            temperature: o.temperature,
            seed: o.seed,
            p: o.p,
        }
        .build(Names::Keywords)
        .map_err(invalid)
    }
}

#[pymethods]
impl Model {
    /// A shipped preset by name (see :meth:`presets`).
    ///
    /// Raises:
    ///     ValueError: no preset has that name.
    #[staticmethod]
    fn preset(name: &str) -> PyResult<Self> {
        Ok(Self {
            material: preset(name).map_err(|e| invalid(e.into()))?,
        })
    }

    /// A material from TOML text (the format of ``tunnelgrid preset NAME``), validated.
    ///
    /// Raises:
    ///     ValueError: the text is not a valid material; the message names the key.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        Ok(Self {
            material: Material::from_toml_str(text).map_err(|e| invalid(e.into()))?,
        })
    }

    /// The shipped presets: a dict of name to one-line description, in the order
    /// ``tunnelgrid presets`` lists them.
    #[staticmethod]
    fn presets(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
        let dict = PyDict::new(py);
        for (name, _) in PRESETS {
            let material = preset(name).map_err(|e| invalid(e.into()))?;
            dict.set_item(name, material.description)?;
        }
        Ok(dict)
    }

    /// The material's name.
    #[getter]
    fn name(&self) -> &str {
        &self.material.name
    }

    /// The material's one-line description.
    #[getter]
    fn description(&self) -> &str {
        &self.material.description
    }

    /// The material as TOML text (what :meth:`from_toml` reads back).
    fn to_toml(&self) -> String {
        self.material.to_toml_string()
    }

    fn __repr__(&self) -> String {
        format!("Model({:?})", self.material.name)
    }

    /// Analyses the material at one pressure and temperature, as ``tunnelgrid run`` does.
    ///
    /// Args:
    ///     pressure: GPa (default: the material's).
    ///     temperature: K (default: the material's).
    ///     size: N for N×N×N cells (N×N for the 2D square lattice); or
    ///     cells: (nx, ny, nz), as report.json's ``cells``.
    ///     seed: seed of the site hash (the same seed gives the same lattice on every engine).
    ///     p: occupation or opening probability (Bernoulli presets only).
    ///     engine: "auto" (a hardware GPU when wgpu finds one, else the CPU), "cpu" or "gpu".
    ///     resistance: also solve Kirchhoff's laws per axis (``run --resistance``).
    ///     solver: "amg" or "jacobi", the CPU solver's preconditioner.
    ///
    /// Returns:
    ///     A :class:`Report`; ``report.to_dict()`` equals ``run``'s report.json.
    ///
    /// Raises:
    ///     ValueError: a value out of range (NaN included), both size and cells.
    ///     RuntimeError: engine="gpu" and no GPU adapter; a failed solve or device.
    #[pyo3(signature = (*, pressure = None, temperature = None, size = None, cells = None,
                        seed = None, p = None, engine = "auto", resistance = false, solver = "amg"))]
    #[allow(clippy::too_many_arguments)]
    fn analyze(
        &self,
        py: Python<'_>,
        pressure: Option<f64>,
        temperature: Option<f64>,
        size: Option<u32>,
        cells: Option<[u32; 3]>,
        seed: Option<u64>,
        p: Option<f64>,
        engine: &str,
        resistance: bool,
        solver: &str,
    ) -> PyResult<Report> {
        let choice: EngineChoice = choice(engine, "engine")?;
        let solver = self::solver(solver)?;
        let (model, conditions) = self.build(&Overrides {
            pressure,
            temperature,
            size,
            cells,
            seed,
            p,
        })?;
        let json = compute(py, || {
            let selected = select_named(choice, Default::default(), Names::Keywords)?;
            let engine = selected.engine.as_ref();
            let mut report = engine.analyze(&model, &conditions)?;
            if resistance {
                report.transport = Some(transport(
                    &model,
                    &conditions,
                    engine,
                    solver,
                    |_, _, _| {},
                )?);
            }
            // The very text `run` writes to report.json.
            Ok(serde_json::to_string_pretty(&report)? + "\n")
        })?;
        Report::new(py, json)
    }

    /// A per-site field of one run, as ``tunnelgrid export --field`` writes it.
    ///
    /// Args:
    ///     name: "labels" (uint32 tunnel-cluster labels: 0 absent, else the smallest site
    ///         index of the cluster + 1), "sc_labels" (the same for the superconducting
    ///         network), "bonds" (uint32 bond masks), "occupancy" (uint8), "gap" (float32 mean
    ///         gap of a site's normal tunnels, eV; NaN where none), "tunnels" (float32 fraction
    ///         of a site's bonds that tunnel), "current" (float32 |current| in amperes at 1 V
    ///         along ``axis``), "min_cut" (uint8 bonds of a minimum cut along ``axis``).
    ///     axis: for current and min_cut: "x", "y", "z" or a NumPy axis (0 = z).
    ///     engine: "cpu" (the default, as ``export``'s), "gpu" or "auto".
    ///     pressure, temperature, size, cells, seed, p: as for :meth:`analyze`.
    ///
    /// Returns:
    ///     A NumPy array shaped (nz, ny, nx), or (nz, ny, nx, basis) for multi-site lattices.
    ///
    /// Raises:
    ///     ValueError: an unknown field name or axis, or values out of range.
    ///     RuntimeError: the current along a superconducting axis (it is unbounded).
    #[pyo3(signature = (name, *, axis = None, pressure = None, temperature = None, size = None,
                        cells = None, seed = None, p = None, engine = "cpu"))]
    #[allow(clippy::too_many_arguments)]
    fn field<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        axis: Option<Bound<'py, PyAny>>,
        pressure: Option<f64>,
        temperature: Option<f64>,
        size: Option<u32>,
        cells: Option<[u32; 3]>,
        seed: Option<u64>,
        p: Option<f64>,
        engine: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let choice: EngineChoice = choice(engine, "engine")?;
        let axis = match &axis {
            Some(a) => model_axis(a, "axis")?,
            None => 0,
        };
        let field = FieldName::parse(name)?;
        let (model, conditions) = self.build(&Overrides {
            pressure,
            temperature,
            size,
            cells,
            seed,
            p,
        })?;
        let (shape, values) = compute(py, || {
            let selected = select_named(choice, Default::default(), Names::Keywords)?;
            let fields = Fields::new(model, conditions, selected.engine.as_ref())?;
            ensure!(
                axis < fields.model.lattice.axes(),
                "axis z: the {} lattice is two-dimensional",
                fields.model.material.lattice.kind.name()
            );
            let shape: Vec<usize> = fields.npy_shape().iter().map(|&n| n as usize).collect();
            let values = match field {
                FieldName::Labels => Values::U32(fields.labels(Network::Tunnel)?),
                FieldName::ScLabels => Values::U32(fields.labels(Network::Superconducting)?),
                FieldName::Bonds => Values::U32(fields.masks.clone()),
                FieldName::Occupancy => Values::U8(
                    fields
                        .masks
                        .iter()
                        .map(|&m| u8::from(m & PRESENT_BIT != 0))
                        .collect(),
                ),
                FieldName::Gap => Values::F32(fields.gap_ev()),
                FieldName::Tunnels => Values::F32(fields.tunnel_density()),
                FieldName::Current => Values::F32(fields.current(axis)?),
                FieldName::MinCut => Values::U8(fields.min_cut(axis)?),
            };
            Ok((shape, values))
        })?;
        values.into_numpy(py, &shape)
    }

    /// Evaluates every (pressure, temperature) point of a grid, as ``tunnelgrid sweep`` does
    /// (each point over ``seeds`` seeds: majority state, mean observables, lower-median
    /// resistivity), without writing files.
    ///
    /// Args:
    ///     pressures: GPa, any 1D sequence.
    ///     temperatures: K, any 1D sequence.
    ///     size: N cells per axis of every point's lattice (default: the material's).
    ///     axis: "x", "y", "z", a NumPy axis (0 = z), or None for every axis: the axes whose
    ///         resistivity is solved.
    ///     seeds: seeds per point, starting at ``seed`` (default: the material's seed).
    ///     engine: "auto", "cpu" or "gpu".
    ///     resistance: solve the resistivity (the Kirchhoff solves dominate the time).
    ///     progress: called as ``progress(done, total)`` after every point; an exception it
    ///         raises stops the sweep and is raised by it.
    ///
    /// Returns:
    ///     A dict of NumPy arrays indexed [i_t, i_p] (temperature, then pressure):
    ///     "pressure_gpa" (n_p,), "temperature_k" (n_t,), "state" int8 (n_t, n_p, 3) with codes
    ///     0, 1, 2 = ``tunnelgrid.STATES`` and -1 for no state (a 2D lattice's z, a thin axis),
    ///     "resistivity_ohm_m" (n_t, n_p, 3) (inf insulating, 0 superconducting, NaN not solved),
    ///     "tunnel_bond_fraction", "sc_bond_fraction", "largest_cluster_fraction",
    ///     "mean_cluster_size", "mean_gap_ev" (NaN when no normal tunnel), each (n_t, n_p), and
    ///     "conventional_state" int8 (n_t, n_p): 0 solid, 1 liquid, 2 gas, -1 without [phases].
    ///
    /// Raises:
    ///     ValueError: a Bernoulli material, empty grids, values out of the material's range.
    ///     RuntimeError: a failed analysis or device.
    #[pyo3(signature = (pressures, temperatures, *, size = None, axis = None, seed = None,
                        seeds = 1, engine = "auto", resistance = true, progress = None))]
    #[allow(clippy::too_many_arguments)]
    fn sweep<'py>(
        &self,
        py: Python<'py>,
        pressures: Vec<f64>,
        temperatures: Vec<f64>,
        size: Option<u32>,
        axis: Option<Bound<'py, PyAny>>,
        seed: Option<u64>,
        seeds: u32,
        engine: &str,
        resistance: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let choice: EngineChoice = choice(engine, "engine")?;
        let spec = ModelSpec {
            source: MaterialSource::Material(Box::new(self.material.clone())),
            size,
            seed,
            ..ModelSpec::default()
        };
        let (model, conditions) =
            pressure_temperature_model(&spec, Names::Keywords, "sweep").map_err(invalid)?;
        let axis = match &axis {
            Some(a) => Some(model_axis(a, "axis")?),
            None => None,
        };
        let axes = swept_axes(&model, axis, Names::Keywords).map_err(invalid)?;
        if pressures.is_empty() || temperatures.is_empty() {
            return Err(invalid(anyhow!(
                "sweep: give at least one pressure and one temperature"
            )));
        }
        if !(1..=1000).contains(&seeds) {
            return Err(invalid(anyhow!("seeds {seeds}: allowed 1..=1000")));
        }
        check_seed_run(conditions.seed, seeds, Names::Keywords).map_err(invalid)?;
        // Every point checked before any is analysed: a bad value fails at once.
        for &pressure in &pressures {
            for &temperature in &temperatures {
                model
                    .check_conditions(&tunnelgrid::model::Conditions {
                        pressure_gpa: pressure,
                        temperature_k: temperature,
                        ..conditions
                    })
                    .map_err(|e| {
                        invalid(anyhow::Error::from(e).context(format!(
                            "sweep point pressure {pressure} / temperature {temperature}"
                        )))
                    })?;
            }
        }
        let (n_p, n_t) = (pressures.len(), temperatures.len());
        let total = n_p * n_t;
        let options = PointOptions {
            seeds,
            base_seed: conditions.seed,
            axes: &axes,
            resistance,
        };
        // An exception of the callback (or Ctrl-C) stops the sweep and is raised as it was.
        let mut raised: Option<PyErr> = None;
        let points = compute(py, || {
            let selected = select_named(choice, Default::default(), Names::Keywords)?;
            let mut points = Vec::with_capacity(total);
            for &temperature in &temperatures {
                for &pressure in &pressures {
                    points.push(analyze_point(
                        selected.engine.as_ref(),
                        &model,
                        pressure,
                        temperature,
                        &options,
                    )?);
                    // Signals and the callback need the GIL: taken between points only.
                    let called = Python::attach(|py| -> PyResult<()> {
                        py.check_signals()?;
                        if let Some(callback) = &progress {
                            callback.call1(py, (points.len(), total))?;
                        }
                        Ok(())
                    });
                    if let Err(e) = called {
                        raised = Some(e);
                        anyhow::bail!("sweep stopped after {} of {total} points", points.len());
                    }
                }
            }
            Ok(points)
        });
        if let Some(e) = raised {
            return Err(e);
        }
        let points = points?;
        let dict = PyDict::new(py);
        let grid = |values: Vec<f64>| -> PyResult<Bound<'py, PyAny>> {
            Ok(Array::from_shape_vec(IxDyn(&[n_t, n_p]), values)
                .map_err(|e| invalid(anyhow!("internal: {e}")))?
                .into_pyarray(py)
                .into_any())
        };
        let mut state = Vec::with_capacity(total * 3);
        let mut rho = Vec::with_capacity(total * 3);
        for point in &points {
            for a in 0..3 {
                state.push(match point.states[a] {
                    Some(State::Insulating) => 0i8,
                    Some(State::Conducting) => 1,
                    Some(State::Superconducting) => 2,
                    Some(State::NotApplicable) | None => -1,
                });
                rho.push(point.resistivity_ohm_m[a].unwrap_or(f64::NAN));
            }
        }
        let per_axis = |values: Vec<f64>| -> PyResult<Bound<'py, PyAny>> {
            Ok(Array::from_shape_vec(IxDyn(&[n_t, n_p, 3]), values)
                .map_err(|e| invalid(anyhow!("internal: {e}")))?
                .into_pyarray(py)
                .into_any())
        };
        dict.set_item("pressure_gpa", pressures.clone().into_pyarray(py))?;
        dict.set_item("temperature_k", temperatures.clone().into_pyarray(py))?;
        dict.set_item(
            "state",
            Array::from_shape_vec(IxDyn(&[n_t, n_p, 3]), state)
                .map_err(|e| invalid(anyhow!("internal: {e}")))?
                .into_pyarray(py),
        )?;
        dict.set_item("resistivity_ohm_m", per_axis(rho)?)?;
        let observable =
            |f: fn(&tunnelgrid::point::PointAnalysis) -> f64| grid(points.iter().map(f).collect());
        dict.set_item(
            "tunnel_bond_fraction",
            observable(|p| p.tunnel_bond_fraction)?,
        )?;
        dict.set_item("sc_bond_fraction", observable(|p| p.sc_bond_fraction)?)?;
        dict.set_item(
            "largest_cluster_fraction",
            observable(|p| p.largest_cluster_fraction)?,
        )?;
        dict.set_item("mean_cluster_size", observable(|p| p.mean_cluster_size)?)?;
        dict.set_item(
            "mean_gap_ev",
            observable(|p| p.mean_gap_ev.unwrap_or(f64::NAN))?,
        )?;
        let conventional: Vec<i8> = points
            .iter()
            .map(|p| match p.conventional {
                Some(ConventionalState::Solid) => 0,
                Some(ConventionalState::Liquid) => 1,
                Some(ConventionalState::Gas) => 2,
                None => -1,
            })
            .collect();
        dict.set_item(
            "conventional_state",
            Array::from_shape_vec(IxDyn(&[n_t, n_p]), conventional)
                .map_err(|e| invalid(anyhow!("internal: {e}")))?
                .into_pyarray(py),
        )?;
        Ok(dict)
    }
}

/// The fields `Model.field` knows.
#[derive(Debug, Clone, Copy)]
enum FieldName {
    Labels,
    ScLabels,
    Bonds,
    Occupancy,
    Gap,
    Tunnels,
    Current,
    MinCut,
}

impl FieldName {
    fn parse(name: &str) -> PyResult<Self> {
        Ok(match name {
            "labels" => Self::Labels,
            "sc_labels" => Self::ScLabels,
            "bonds" => Self::Bonds,
            "occupancy" => Self::Occupancy,
            "gap" => Self::Gap,
            "tunnels" => Self::Tunnels,
            "current" => Self::Current,
            "min_cut" => Self::MinCut,
            other => {
                return Err(invalid(anyhow!(
                    "field {other:?} is not a field; use labels, sc_labels, bonds, occupancy, gap, tunnels, current or min_cut"
                )))
            }
        })
    }
}

/// A field's values, in its own element type.
enum Values {
    U32(Vec<u32>),
    U8(Vec<u8>),
    F32(Vec<f32>),
}

impl Values {
    fn into_numpy<'py>(self, py: Python<'py>, shape: &[usize]) -> PyResult<Bound<'py, PyAny>> {
        let wrong = |e: numpy::ndarray::ShapeError| invalid(anyhow!("internal: {e}"));
        Ok(match self {
            Values::U32(v) => Array::from_shape_vec(IxDyn(shape), v)
                .map_err(wrong)?
                .into_pyarray(py)
                .into_any(),
            Values::U8(v) => Array::from_shape_vec(IxDyn(shape), v)
                .map_err(wrong)?
                .into_pyarray(py)
                .into_any(),
            Values::F32(v) => Array::from_shape_vec(IxDyn(shape), v)
                .map_err(wrong)?
                .into_pyarray(py)
                .into_any(),
        })
    }
}

/// The result of :meth:`Model.analyze`: every observable of report.json as an attribute
/// (``report.clusters``, ``report.tunnel_bond_fraction``, ``report.transport``, …).
#[pyclass(module = "tunnelgrid", frozen)]
pub struct Report {
    /// report.json's text.
    json: String,
    /// The same, parsed once.
    values: Py<PyDict>,
}

impl Report {
    fn new(py: Python<'_>, json: String) -> PyResult<Self> {
        let values = from_json(py, &json)?.cast_into::<PyDict>()?.unbind();
        Ok(Self { json, values })
    }
}

#[pymethods]
impl Report {
    /// The report as a dict, equal to ``json.load(open("report.json"))`` of the same run
    /// (a fresh copy each call).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        from_json(py, &self.json)
    }

    /// The report as JSON text, byte for byte what ``run`` writes to report.json.
    fn to_json(&self) -> &str {
        &self.json
    }

    /// The state along each axis: {"x": ..., "y": ..., "z": ...}, each "insulating",
    /// "conducting", "superconducting" or None (a 2D lattice's z, a one-cell axis).
    #[getter]
    fn states<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.values.bind(py).as_any().get_item("states")
    }

    fn __getattr__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.values.bind(py).get_item(name)? {
            Some(value) => Ok(value),
            None => Err(PyAttributeError::new_err(format!(
                "Report has no attribute '{name}' (its attributes are the keys of Report.to_dict())"
            ))),
        }
    }

    fn __dir__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let keys = self.values.bind(py).keys();
        for extra in ["to_dict", "to_json", "states"] {
            keys.append(extra)?;
        }
        Ok(keys)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let values = self.values.bind(py);
        let get = |k: &str| -> String {
            values
                .get_item(k)
                .ok()
                .flatten()
                .and_then(|v| v.str().ok().map(|s| s.to_string()))
                .unwrap_or_default()
        };
        Ok(format!(
            "Report(material={}, sites={}, states={}, engine={})",
            get("material"),
            get("sites"),
            get("states"),
            get("engine")
        ))
    }
}
