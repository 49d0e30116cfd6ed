"""tunnelgrid: lattice tunnel solver, percolation and transport; NumPy arrays in and out.

Axes are NumPy axes: a volume shaped (nz, ny, nx) has axis 0 = z, 1 = y, 2 = x (C order is
the lattice's site order (z*ny + y)*nx + x); a 2D image shaped (ny, nx) is one z layer with
axis 0 = y, 1 = x. Model methods also take the axis names "x", "y", "z" of report.json.
Every computation releases the GIL. Invalid arguments raise ValueError; failed computations
or devices raise RuntimeError.
"""

from typing import Any, Callable, Dict, List, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
STATES: Tuple[str, str, str]
"""State names; a sweep's state code is the index into this tuple (-1: no state)."""

Axis = Union[Literal["x", "y", "z"], int]
Engine = Literal["auto", "cpu", "gpu"]

def label(
    volume: npt.NDArray[Any], connectivity: int = 6, threads: Optional[int] = None
) -> Tuple[npt.NDArray[np.uint32], int]:
    """Label the clusters of the nonzero voxels, like cc3d.connected_components(..., return_N=True).

    volume: bool or integer array, 3D (nz, ny, nx) or 2D (ny, nx), C or Fortran order; a
    C-contiguous array is read in place. connectivity: 6, 18 or 26 (2D images also 4 and 8).
    threads: worker threads of this call (default: every core, shared with other calls).
    Returns (labels, n): uint32 labels 1..n numbered in C order of each cluster's first voxel,
    0 for empty voxels.
    """

def spanning(
    volume: npt.NDArray[Any],
    axis: Optional[int] = None,
    connectivity: int = 6,
    threads: Optional[int] = None,
) -> npt.NDArray[np.bool_]:
    """The voxels of clusters touching both faces across NumPy `axis` (any axis if None),
    like porespy.filters.trim_nonpercolating_paths."""

class Transport:
    """One axis's transport of a voxel volume (1 ohm per shared face, 1 V across the axis)."""

    resistance_ohm: float
    """Resistance, ohm (inf when insulating)."""
    resistivity_ohm_m: float
    """R*A/L with the voxel edge given, ohm*metre."""
    relative_conductivity: Optional[float]
    """sigma_eff / sigma_0 (None when insulating)."""
    tortuosity: Optional[float]
    """tau = porosity * sigma_0 / sigma_eff (None when insulating)."""
    iterations: int
    """Conjugate-gradient iterations."""
    residual: float
    """Final relative residual."""
    current: Optional[npt.NDArray[np.float32]]
    """|current| per voxel, amperes, when transport(..., current=True)."""

def transport(
    volume: npt.NDArray[Any],
    axis: int = 0,
    current: bool = False,
    voxel: float = 1e-6,
    threads: Optional[int] = None,
) -> Transport:
    """The resistance of a voxel volume along NumPy `axis`, as `tunnelgrid run --volume
    FILE --resistance` computes it (CPU engine, f64 CG with multigrid to 1e-10)."""

class Report:
    """The result of Model.analyze: every key of report.json is an attribute."""

    states: Dict[str, Optional[str]]
    """State per axis: {"x": ..., "y": ..., "z": ...}; None for a 2D lattice's z."""
    sites: int
    clusters: int
    singletons: int
    tunnel_bond_fraction: float
    sc_bond_fraction: float
    largest_cluster_fraction: float
    mean_cluster_size: float
    mean_gap_ev: Optional[float]
    spans: Dict[str, Optional[bool]]
    resistance_ohm: Optional[Dict[str, Optional[float]]]
    """With resistance=True: per axis, ohm (None when insulating)."""
    engine: str
    def to_dict(self) -> Dict[str, Any]:
        """The report as a dict, equal to report.json of the same run (a fresh copy)."""
    def to_json(self) -> str:
        """The report as JSON text, byte for byte what `run` writes."""
    def __getattr__(self, name: str) -> Any: ...

class Model:
    """A material (preset or TOML), validated."""

    @staticmethod
    def preset(name: str) -> "Model":
        """A shipped preset (Model.presets() lists them)."""
    @staticmethod
    def from_toml(text: str) -> "Model":
        """A material from TOML text (the format of `tunnelgrid preset NAME`)."""
    @staticmethod
    def presets() -> Dict[str, str]:
        """Name -> description of every shipped preset."""
    @property
    def name(self) -> str:
        """The material's name."""
    @property
    def description(self) -> str:
        """The material's description."""
    def to_toml(self) -> str:
        """The material as TOML text."""
    def analyze(
        self,
        *,
        pressure: Optional[float] = None,
        temperature: Optional[float] = None,
        size: Optional[int] = None,
        cells: Optional[Tuple[int, int, int]] = None,
        seed: Optional[int] = None,
        p: Optional[float] = None,
        engine: Engine = "auto",
        resistance: bool = False,
        solver: Literal["amg", "jacobi"] = "amg",
    ) -> Report:
        """Analyse at one (P, T), as `tunnelgrid run`; cells are (nx, ny, nz)."""
    def field(
        self,
        name: Literal[
            "labels", "sc_labels", "bonds", "occupancy", "gap", "tunnels", "current", "min_cut"
        ],
        *,
        axis: Optional[Axis] = None,
        pressure: Optional[float] = None,
        temperature: Optional[float] = None,
        size: Optional[int] = None,
        cells: Optional[Tuple[int, int, int]] = None,
        seed: Optional[int] = None,
        p: Optional[float] = None,
        engine: Engine = "cpu",
    ) -> npt.NDArray[Any]:
        """A per-site field shaped (nz, ny, nx[, basis]), as `tunnelgrid export --field`."""
    def sweep(
        self,
        pressures: Sequence[float],
        temperatures: Sequence[float],
        *,
        size: Optional[int] = None,
        axis: Optional[Axis] = None,
        seed: Optional[int] = None,
        seeds: int = 1,
        engine: Engine = "auto",
        resistance: bool = True,
        progress: Optional[Callable[[int, int], Any]] = None,
    ) -> Dict[str, npt.NDArray[Any]]:
        """Every (P, T) point of a grid, as `tunnelgrid sweep`: arrays indexed [i_t, i_p]
        ("state" and "resistivity_ohm_m" with a last axis x, y, z)."""

def threshold(
    lattice: str = "sc",
    mode: Literal["site", "bond"] = "site",
    sizes: Optional[Sequence[int]] = None,
    samples: Union[int, Sequence[int], None] = None,
    criterion: Literal["span", "wrap-any", "wrap-all"] = "wrap-any",
    seed: int = 1,
) -> Dict[str, Any]:
    """p_c and nu by Newman-Ziff sweeps and finite-size scaling, as `tunnelgrid threshold --json`."""

def adapters() -> List[Dict[str, Any]]:
    """The GPU adapters wgpu finds, best first (empty when none)."""
