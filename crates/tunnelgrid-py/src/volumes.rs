//! Voxel volumes from NumPy arrays: `label`, `spanning` and `transport`, each on the CPU
//! engine through the library's volume mode (the same model `run --volume` builds).

use crate::{compute, invalid};
use anyhow::anyhow;
use numpy::ndarray::IxDyn;
use numpy::{
    Element, IntoPyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use tunnelgrid::cpu::occupancy::Presence;
use tunnelgrid::engines::{select_named, EngineChoice};
use tunnelgrid::fields::{numbered_voxel_labels, spanning_labels};
use tunnelgrid::model::{Conditions, Engine, Lattice, Model, Solver};
use tunnelgrid::spec::{MaterialSource, ModelSpec, Names, VoxelsSpec};
use tunnelgrid::transport::volume_axis_transport;
use tunnelgrid::volume::VoxelPresence;

/// The element types a volume may hold, as named in errors (those of `run --volume`).
const SUPPORTED: &str = "bool, uint8, uint16, uint32, uint64, int8, int16, int32, int64";

/// A NumPy volume read into one presence bit per voxel: all that labelling needs.
pub(crate) struct ArrayVolume {
    /// Which voxels are occupied, cells (x, y, z); a 2D image is one z layer.
    voxels: VoxelPresence,
    /// The array's shape, for the arrays returned.
    shape: Vec<usize>,
}

impl ArrayVolume {
    /// Reads `array` (bool or integer, 2D or 3D, any memory order): occupied where nonzero.
    /// A C-contiguous array is read where it lies, in parallel, with the GIL released; any
    /// other layout is read once through its strides. The presence bits (1/8 byte per voxel)
    /// are the only array made.
    fn read(py: Python<'_>, array: &Bound<'_, PyAny>, function: &str) -> PyResult<Self> {
        let untyped = array.cast::<PyUntypedArray>().map_err(|_| {
            invalid(anyhow!(
                "{function}: volume must be a NumPy array of {SUPPORTED}, got {}",
                type_name(array)
            ))
        })?;
        let shape = untyped.shape().to_vec();
        let ndim = shape.len();
        if !(2..=3).contains(&ndim) {
            return Err(invalid(anyhow!(
                "{function}: volume is a {ndim}D array of shape {}; give a 3D volume shaped (nz, ny, nx) or a 2D image shaped (ny, nx)",
                tuple(&shape)
            )));
        }
        if shape.contains(&0) {
            return Err(invalid(anyhow!(
                "{function}: volume has an empty axis, shape {}",
                tuple(&shape)
            )));
        }
        // A 2D image is one z layer (checked above: 2 or 3 axes).
        let (nz, ny, nx) = match shape[..] {
            [nz, ny, nx] => (nz, ny, nx),
            [ny, nx] => (1, ny, nx),
            _ => (0, 0, 0),
        };
        let cells = VoxelPresence::cells_of([nz, ny, nx].map(|n| n as u64)).map_err(invalid)?;
        let dtype = untyped.dtype();
        let (kind, size) = (dtype.kind(), dtype.itemsize());
        let presence = match (kind, size) {
            (b'b', 1) => presence::<bool>(py, array)?,
            (b'u', 1) => presence::<u8>(py, array)?,
            (b'u', 2) => presence::<u16>(py, array)?,
            (b'u', 4) => presence::<u32>(py, array)?,
            (b'u', 8) => presence::<u64>(py, array)?,
            (b'i', 1) => presence::<i8>(py, array)?,
            (b'i', 2) => presence::<i16>(py, array)?,
            (b'i', 4) => presence::<i32>(py, array)?,
            (b'i', 8) => presence::<i64>(py, array)?,
            _ => {
                return Err(invalid(anyhow!(
                    "{function}: volume has dtype {}, which is not supported; a volume needs one of {SUPPORTED} (threshold a grey image first, e.g. image > level)",
                    dtype.str().map_or_else(|_| "?".to_string(), |s| s.to_string())
                )))
            }
        };
        let voxels = VoxelPresence::new(cells, presence).map_err(invalid)?;
        Ok(Self { voxels, shape })
    }

    /// Whether the caller gave a 2D image.
    fn is_image(&self) -> bool {
        self.shape.len() == 2
    }

    /// The library's connectivity for `connectivity` as given: 6, 18 or 26 for volumes; for a
    /// 2D image (one z layer) also cc3d's 4 (= 6: the in-plane faces) and 8 (= 18 = 26: faces
    /// and corners in the plane).
    fn connectivity(&self, connectivity: u32, function: &str) -> PyResult<u32> {
        match (self.is_image(), connectivity) {
            (_, 6 | 18 | 26) => Ok(connectivity),
            (true, 4) => Ok(6),
            (true, 8) => Ok(18),
            (true, c) => Err(invalid(anyhow!(
                "{function}: connectivity {c} is not a connectivity of a 2D image; use 4 or 8 (or 6, 18, 26)"
            ))),
            (false, c) => Err(invalid(anyhow!(
                "{function}: connectivity {c} is not a voxel connectivity; use 6, 18 or 26 (4 and 8 are for 2D images)"
            ))),
        }
    }

    /// The lattice axis of NumPy axis `axis` (negative counts from the end, as NumPy does).
    fn lattice_axis(&self, axis: i64, function: &str) -> PyResult<usize> {
        let ndim = self.shape.len() as i64;
        let a = if axis < 0 { axis + ndim } else { axis };
        if !(0..ndim).contains(&a) {
            return Err(invalid(anyhow!(
                "{function}: axis {axis} is out of range for a {ndim}D array (NumPy axes 0..{}, axis 0 = {})",
                ndim - 1,
                if ndim == 3 { "z" } else { "y" }
            )));
        }
        // NumPy's last axis is x: axis k of an n-dimensional array is lattice axis n − 1 − k.
        Ok((ndim - 1 - a) as usize)
    }

    /// The volume-mode model of this volume (`run --volume`'s, from memory).
    fn model(&self, connectivity: u32, voxel_m: f64) -> anyhow::Result<(Model, Conditions)> {
        ModelSpec {
            source: MaterialSource::Voxels(VoxelsSpec {
                volume: self.voxels.volume(),
                connectivity: Some(connectivity),
                voxel_m,
            }),
            ..ModelSpec::default()
        }
        .build(Names::Keywords)
    }

    /// The clusters numbered 1..n (0 empty) and n, labelled from the presence bits on the CPU
    /// engine as `run --volume` labels them, with the lattice they were labelled on.
    fn numbered_labels(&self, connectivity: u32) -> anyhow::Result<(Lattice, Vec<u32>, u32)> {
        let (labels, n) = numbered_voxel_labels(&self.voxels, connectivity)?;
        Ok((self.voxels.lattice(connectivity), labels, n))
    }
}

/// Refuses a thread count the command line's --threads would refuse (1 to 1024).
fn check_threads(threads: Option<usize>) -> PyResult<()> {
    match threads {
        Some(n) if !(1..=1024).contains(&n) => Err(invalid(anyhow!(
            "threads {n}: allowed 1 to 1024 worker threads"
        ))),
        _ => Ok(()),
    }
}

/// Runs `work` on a pool of `threads` worker threads, or on the global pool (every core) for
/// None: several Python threads labelling at once can each take their share of the cores.
fn on_threads<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> anyhow::Result<T> + Send,
) -> anyhow::Result<T> {
    match threads {
        None => work(),
        Some(n) => {
            anyhow::ensure!(
                (1..=1024).contains(&n),
                "threads {n}: checked by check_threads"
            );
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()?
                .install(work)
        }
    }
}

/// The voxel edge of `run --volume` when none is given, metres.
const DEFAULT_VOXEL_M: f64 = 1e-6;

/// The CPU engine, chosen the way every caller chooses one.
fn cpu_engine() -> anyhow::Result<Box<dyn Engine>> {
    Ok(select_named(EngineChoice::Cpu, Default::default(), Names::Keywords)?.engine)
}

/// One presence bit per element of a `T` array, in C order: nonzero is occupied.
fn presence<T: Element + Copy + Sync + Send + PartialEq + Default>(
    py: Python<'_>,
    array: &Bound<'_, PyAny>,
) -> PyResult<Presence> {
    // Fails for a non-native byte order (a '>i4' array on a little-endian machine).
    let typed = array.cast::<PyArrayDyn<T>>().map_err(|_| {
        invalid(anyhow!(
            "volume: the array's byte order is not this machine's; convert it first (volume.astype(volume.dtype.newbyteorder('=')))"
        ))
    })?;
    let readonly = typed
        .try_readonly()
        .map_err(|e| invalid(anyhow!("volume: cannot read the array: {e}")))?;
    let zero = T::default();
    if typed.is_c_contiguous() {
        // In place: the array's own buffer, no copy.
        let voxels = readonly
            .as_slice()
            .map_err(|e| invalid(anyhow!("volume: {e}")))?;
        compute(py, move || Ok(Presence::of_voxels(voxels, |v| v != zero)))
    } else {
        // Fortran order or strided: one pass in C (logical) order through the strides.
        let view = readonly.as_array();
        let voxels = view.len() as u64;
        compute(py, move || {
            Ok(Presence::of_flags(voxels, view.iter().map(|&v| v != zero)))
        })
    }
}

fn type_name(object: &Bound<'_, PyAny>) -> String {
    object
        .get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// A shape as Python writes it: (4, 5).
fn tuple(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A flat site array as a NumPy array of the caller's shape (no copy).
fn shaped<'py, T: Element>(
    py: Python<'py>,
    values: Vec<T>,
    shape: &[usize],
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let array = numpy::ndarray::Array::from_shape_vec(IxDyn(shape), values)
        .map_err(|e| invalid(anyhow!("internal: result of the wrong size: {e}")))?;
    Ok(array.into_pyarray(py))
}

/// Labels the connected clusters of the nonzero voxels, like
/// ``cc3d.connected_components(volume, connectivity=..., return_N=True)``.
///
/// Args:
///     volume: a bool or integer array, 3D shaped (nz, ny, nx) or a 2D image shaped (ny, nx),
///         C or Fortran order. Nonzero voxels are occupied. A C-contiguous array is read in
///         place (no copy of it is made).
///     connectivity: 6 (faces), 18 (+ edges) or 26 (+ corners), as
///         ``scipy.ndimage.generate_binary_structure(3, 1|2|3)``; a 2D image also takes 4 and 8.
///     threads: worker threads of this call (default: every core, shared with other calls).
///
/// Returns:
///     (labels, n): uint32 labels of the array's shape, 0 for empty voxels and 1..n for the
///     clusters in the order of their first voxel in C order (scipy's and cc3d's numbering),
///     and the number of clusters n.
///
/// Raises:
///     ValueError: an array that is not bool or integer, not 2D or 3D, or empty; a
///         connectivity not listed above.
#[pyfunction]
#[pyo3(signature = (volume, connectivity = 6, threads = None))]
pub fn label<'py>(
    py: Python<'py>,
    volume: &Bound<'py, PyAny>,
    connectivity: u32,
    threads: Option<usize>,
) -> PyResult<(Bound<'py, PyArrayDyn<u32>>, u32)> {
    check_threads(threads)?;
    let input = ArrayVolume::read(py, volume, "label")?;
    let connectivity = input.connectivity(connectivity, "label")?;
    let (labels, n) = compute(py, || {
        on_threads(threads, || {
            let (_, labels, n) = input.numbered_labels(connectivity)?;
            Ok((labels, n))
        })
    })?;
    Ok((shaped(py, labels, &input.shape)?, n))
}

/// The voxels of clusters that span the volume, like PoreSpy's
/// ``trim_nonpercolating_paths``: a cluster spans an axis when it touches both faces across it.
///
/// Args:
///     volume: as for :func:`label`.
///     axis: the NumPy axis to span (0 = z of a 3D volume, 0 = y of a 2D image; negative
///         counts from the end), or None for clusters that span at least one axis.
///     connectivity: as for :func:`label`.
///     threads: as for :func:`label`.
///
/// Returns:
///     A bool array of the volume's shape, True on the voxels of spanning clusters.
///
/// Raises:
///     ValueError: as :func:`label`, and an axis out of range.
#[pyfunction]
#[pyo3(signature = (volume, axis = None, connectivity = 6, threads = None))]
pub fn spanning<'py>(
    py: Python<'py>,
    volume: &Bound<'py, PyAny>,
    axis: Option<i64>,
    connectivity: u32,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArrayDyn<bool>>> {
    check_threads(threads)?;
    let input = ArrayVolume::read(py, volume, "spanning")?;
    let connectivity = input.connectivity(connectivity, "spanning")?;
    let axes: Vec<usize> = match axis {
        Some(a) => vec![input.lattice_axis(a, "spanning")?],
        // A 2D image is one z layer: z is no axis of it.
        None => (0..input.shape.len()).collect(),
    };
    let kept = compute(py, || {
        on_threads(threads, || {
            let (lattice, labels, n) = input.numbered_labels(connectivity)?;
            let mut spans = vec![false; n as usize + 1];
            for l in spanning_labels(&lattice, &labels, &axes) {
                spans[l as usize] = true;
            }
            Ok(labels.iter().map(|&l| spans[l as usize]).collect())
        })
    })?;
    shaped(py, kept, &input.shape)
}

/// The transport of a voxel volume along one axis: Kirchhoff's laws on the occupied voxels,
/// 1 ohm per shared face, 1 V between bus bars on the two faces across `axis`.
#[pyclass(module = "tunnelgrid", frozen)]
pub struct Transport {
    /// Resistance between the bus bars, ohm (inf when no cluster spans).
    #[pyo3(get)]
    resistance_ohm: f64,
    /// Resistivity R·A/L, ohm·metre, with the voxel edge given (inf when insulating).
    #[pyo3(get)]
    resistivity_ohm_m: f64,
    /// σ_eff/σ_0: the conductance over that of the full block of the same shape (None when
    /// insulating).
    #[pyo3(get)]
    relative_conductivity: Option<f64>,
    /// Tortuosity factor τ = ε·σ_0/σ_eff, ε the occupied fraction (None when insulating).
    #[pyo3(get)]
    tortuosity: Option<f64>,
    /// Conjugate-gradient iterations of the solve (0 without one).
    #[pyo3(get)]
    iterations: usize,
    /// The solve's final relative residual.
    #[pyo3(get)]
    residual: f64,
    /// |current| through each voxel at 1 V, amperes, float32 of the volume's shape, when asked
    /// for (``current=True``); else None.
    #[pyo3(get)]
    current: Option<Py<PyAny>>,
}

#[pymethods]
impl Transport {
    fn __repr__(&self) -> String {
        let python = |v: Option<f64>| v.map_or("None".to_string(), |v| v.to_string());
        format!(
            "Transport(resistance_ohm={}, relative_conductivity={}, tortuosity={}, iterations={})",
            self.resistance_ohm,
            python(self.relative_conductivity),
            python(self.tortuosity),
            self.iterations
        )
    }
}

/// The resistance of a voxel volume along a NumPy axis, as ``tunnelgrid run --volume FILE
/// --resistance`` computes it (face-connected voxels, 1 ohm per face, f64 conjugate gradients
/// with multigrid to a relative residual of 1e-10, on the CPU engine).
///
/// Args:
///     volume: as for :func:`label`.
///     axis: the NumPy axis of the current (0 = z of a 3D volume, 0 = y of a 2D image).
///     current: also return |current| per voxel (``Transport.current``).
///     voxel: the voxel edge in metres, for the resistivity (1e-13 to 1).
///     threads: as for :func:`label`.
///
/// Returns:
///     A :class:`Transport`.
///
/// Raises:
///     ValueError: as :func:`label`, an axis out of range, a voxel edge out of range.
///     RuntimeError: the solver did not converge.
#[pyfunction]
#[pyo3(signature = (volume, axis = 0, current = false, voxel = DEFAULT_VOXEL_M, threads = None))]
pub fn transport(
    py: Python<'_>,
    volume: &Bound<'_, PyAny>,
    axis: i64,
    current: bool,
    voxel: f64,
    threads: Option<usize>,
) -> PyResult<Transport> {
    check_threads(threads)?;
    let input = ArrayVolume::read(py, volume, "transport")?;
    let lattice_axis = input.lattice_axis(axis, "transport")?;
    let (model, conditions) = input.model(6, voxel).map_err(invalid)?;
    let solved = compute(py, || {
        on_threads(threads, || {
            let engine = cpu_engine()?;
            volume_axis_transport(
                &model,
                &conditions,
                engine.as_ref(),
                Solver::Amg,
                lattice_axis,
                current,
            )
        })
    })?;
    let axis_solution = solved.solved;
    let current = match axis_solution.site_current_a {
        Some(map) if current => Some(shaped(py, map, &input.shape)?.into_any().unbind()),
        _ => None,
    };
    Ok(Transport {
        resistance_ohm: axis_solution.resistance_ohm,
        resistivity_ohm_m: axis_solution.resistivity_ohm_m,
        relative_conductivity: solved.relative_conductivity,
        tortuosity: solved.tortuosity,
        iterations: axis_solution.iterations,
        residual: axis_solution.relative_residual,
        current,
    })
}
