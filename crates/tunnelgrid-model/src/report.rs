//! The result of one analysis (MODEL.md §6): observables, per-axis spanning and states.

use crate::engine::Model;
use crate::lattice::Boundary;
use crate::network::BondTotals;
use crate::params::{BondParams, Conditions};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The state of the sample along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No tunnel cluster spans the axis.
    Insulating,
    /// A tunnel cluster spans, but no superconducting cluster does.
    Conducting,
    /// A superconducting cluster spans the axis.
    Superconducting,
    /// The axis is one cell thick: both its faces are the same layer, so every cluster would
    /// "span" it and the axis has no state (docs/MODEL-READINGS.md, thin axes). JSON null,
    /// "n/a" in summaries.
    NotApplicable,
}

/// Fewest cells along an axis that give it a state: with one, both faces are the same layer.
pub const MIN_CELLS_FOR_A_STATE: u32 = 2;

impl State {
    /// The state of an axis of `cells` cells from the two spanning answers of §6.
    pub fn of_axis(cells: u32, tunnel_spans: bool, sc_spans: bool) -> Self {
        if cells < MIN_CELLS_FOR_A_STATE {
            State::NotApplicable
        } else {
            State::from_spanning(tunnel_spans, sc_spans)
        }
    }

    /// The state from the two spanning answers of §6 (on an axis that has one).
    pub fn from_spanning(tunnel_spans: bool, sc_spans: bool) -> Self {
        if sc_spans {
            State::Superconducting
        } else if tunnel_spans {
            State::Conducting
        } else {
            State::Insulating
        }
    }
}

impl State {
    /// The state's name in reports and CSVs; `None` for [`State::NotApplicable`].
    pub fn name(self) -> Option<&'static str> {
        match self {
            State::Insulating => Some("insulating"),
            State::Conducting => Some("conducting"),
            State::Superconducting => Some("superconducting"),
            State::NotApplicable => None,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name().unwrap_or("n/a"))
    }
}

impl Serialize for State {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.name().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(
            match Option::<String>::deserialize(deserializer)?.as_deref() {
                None => State::NotApplicable,
                Some("insulating") => State::Insulating,
                Some("conducting") => State::Conducting,
                Some("superconducting") => State::Superconducting,
                Some(other) => {
                    return Err(serde::de::Error::custom(format!(
                    "'{other}' is not a state (insulating, conducting, superconducting or null)"
                )))
                }
            },
        )
    }
}

/// One value per axis; `z` is `None` (JSON null) for two-dimensional lattices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PerAxis<T> {
    /// Along x.
    pub x: T,
    /// Along y.
    pub y: T,
    /// Along z (absent for 2D lattices).
    pub z: Option<T>,
}

impl<T: Copy> PerAxis<T> {
    /// Builds from the first `axes` entries of `values`.
    pub fn from_slice(values: &[T], axes: usize) -> Self {
        Self {
            x: values[0],
            y: values[1],
            z: (axes > 2).then(|| values[2]),
        }
    }

    /// The values present, in axis order.
    pub fn to_vec(&self) -> Vec<T> {
        let mut v = vec![self.x, self.y];
        v.extend(self.z);
        v
    }
}

/// Wall-clock time of each stage, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Bond evaluation (masks).
    pub bonds_s: f64,
    /// Labelling of the tunnel network.
    pub tunnel_labels_s: f64,
    /// Labelling of the superconducting network.
    pub sc_labels_s: f64,
    /// Cluster statistics and spanning.
    pub stats_s: f64,
}

/// Statistics of the clusters of one network (tunnel or superconducting).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Clusters of two or more sites.
    pub clusters: u64,
    /// Present sites with no bond in this network.
    pub singletons: u64,
    /// Sites in the largest cluster.
    pub largest_cluster: u64,
    /// Largest cluster over all lattice sites.
    pub largest_cluster_fraction: f64,
    /// Σs²/Σs over clusters that span no axis (singletons included), 0 when there are none.
    pub mean_cluster_size: f64,
    /// Whether a cluster spans (open axis) or wraps (periodic axis), per axis.
    pub spans: PerAxis<bool>,
}

/// Everything one analysis reports; serialised as `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Preset or config name.
    pub material: String,
    /// tunnel, bernoulli-site or bernoulli-bond.
    pub mode: String,
    /// Lattice kind.
    pub lattice: String,
    /// Cells along x, y, z.
    pub cells: [u32; 3],
    /// Boundary per axis.
    pub boundary: [Boundary; 3],
    /// All lattice sites, present or not.
    pub sites: u64,
    /// Sites that are present (not vacancies / occupied).
    pub present_sites: u64,
    /// Bonds of the lattice graph.
    pub bonds: u64,
    /// Which engine ran, with its device.
    pub engine: String,
    /// Pressure, GPa.
    pub pressure_gpa: f64,
    /// Temperature, K.
    pub temperature_k: f64,
    /// Seed of the site hash.
    pub seed: u64,
    /// Bernoulli probability (Bernoulli modes only).
    pub p: Option<f64>,
    /// Cell edge per axis at (P, T), Å.
    pub cell_edge_angstrom: [f64; 3],
    /// Bonds that tunnel (normal or superconducting).
    pub tunnel_bonds: u64,
    /// Bonds that superconduct.
    pub sc_bonds: u64,
    /// tunnel_bonds / bonds.
    pub tunnel_bond_fraction: f64,
    /// sc_bonds / bonds.
    pub sc_bond_fraction: f64,
    /// Bonds whose squared length lies within 1e-5 of a tunnel or superconducting threshold
    /// squared (MODEL.md §5): the only bonds on which two engines may decide differently, so
    /// `tunnel_bonds` and `sc_bonds` of two engines differ by at most this many. 0 in the
    /// Bernoulli and volume modes, whose decisions are exact.
    #[serde(default)]
    pub near_threshold_bonds: u64,
    /// Tunnel clusters of two or more sites.
    pub clusters: u64,
    /// Present sites with no tunnel.
    pub singletons: u64,
    /// Sites in the largest tunnel cluster.
    pub largest_cluster: u64,
    /// Largest tunnel cluster over all sites.
    pub largest_cluster_fraction: f64,
    /// Mean finite tunnel-cluster size Σs²/Σs over non-spanning clusters.
    pub mean_cluster_size: f64,
    /// Whether a tunnel cluster spans (open) or wraps (periodic) each axis.
    pub spans: PerAxis<bool>,
    /// Whether a superconducting cluster spans or wraps each axis.
    pub sc_spans: PerAxis<bool>,
    /// State per axis.
    pub states: PerAxis<State>,
    /// Statistics of the superconducting network.
    pub sc_network: ClusterStats,
    /// Mean lifting energy of normal tunnels, eV (None when there are none or in Bernoulli modes).
    pub mean_gap_ev: Option<f64>,
    /// Per-stage wall-clock times.
    pub timings: Timings,
    /// Whole analysis, seconds.
    pub elapsed_s: f64,
    /// Resistance and critical current per axis, when requested (`run --resistance`); its keys
    /// appear at the top level of report.json.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
}

/// Transport along each axis (MODEL.md §7, §8). `None` (JSON null) stands for +∞ where a
/// resistance is infinite, and for "not applicable" where a critical current is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Transport {
    /// R between bus bars on the axis's faces, ohm: 0 superconducting, null insulating.
    pub resistance_ohm: PerAxis<Option<f64>>,
    /// ρ = R·A/L from the strained sample extents, ohm·metre: 0 or null with R.
    pub resistivity_ohm_m: PerAxis<Option<f64>>,
    /// Maximum supercurrent between the faces, amperes, along superconducting axes.
    pub critical_current_a: PerAxis<Option<f64>>,
    /// Conjugate-gradient iterations per axis (0 without a solve).
    pub solver_iterations: PerAxis<usize>,
    /// Final relative residual per axis (0 without a solve).
    pub solver_residual: PerAxis<f64>,
    /// The solver that ran: "amg" or "jacobi" (f64 CG on the CPU, by its preconditioner), or
    /// "gpu-amg" or "gpu-jacobi" (f32 CG on the GPU inside f64 refinement, by its
    /// preconditioner).
    #[serde(default)]
    pub solver: String,
    /// Seconds building the preconditioner per axis (the multigrid hierarchy), apart from the
    /// iterations; 0 for Jacobi and without a solve.
    #[serde(default)]
    pub solver_setup_s: PerAxis<f64>,
    /// GPU solver: f64 refinements per axis (outer iterations around the f32 CG, whose
    /// iterations `solver_iterations` counts in all). Absent on the CPU solver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solver_refinements: Option<PerAxis<usize>>,
    /// GPU solver: z slabs its vectors were cut into per axis, each within one storage binding
    /// (0 without a solve). Absent on the CPU solver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solver_slabs: Option<PerAxis<usize>>,
    /// Time of the resistance and critical-current computations, seconds.
    pub transport_s: f64,
    /// Volume mode: σ_eff/σ_0 per axis, the conductance over that of the full block of the same
    /// shape (null when insulating). Absent outside volume mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative_conductivity: Option<PerAxis<Option<f64>>>,
    /// Volume mode: tortuosity factor τ = ε·σ_0/σ_eff per axis, ε the occupied fraction (null
    /// when insulating). Absent outside volume mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tortuosity: Option<PerAxis<Option<f64>>>,
}

/// Assembles a report from the engine-independent pieces every engine computes: the bond
/// totals and the two networks' cluster statistics.
#[allow(clippy::too_many_arguments)]
pub fn build_report(
    model: &Model,
    conditions: &Conditions,
    params: &BondParams,
    totals: &BondTotals,
    tunnel: ClusterStats,
    sc: ClusterStats,
    engine: String,
    timings: Timings,
    elapsed_s: f64,
) -> Report {
    let lattice = &model.lattice;
    let bonds = lattice.possible_bonds();
    let fraction = |n: u64| {
        if bonds == 0 {
            0.0
        } else {
            n as f64 / bonds as f64
        }
    };
    let tunnel_spans = tunnel.spans.to_vec();
    let sc_spans = sc.spans.to_vec();
    let states: Vec<State> = tunnel_spans
        .iter()
        .zip(&sc_spans)
        .zip(lattice.cells)
        .map(|((&t, &s), cells)| State::of_axis(cells, t, s))
        .collect();
    let normal = totals.normal_tunnels();
    let bernoulli = model.material.mode.is_bernoulli();
    Report {
        material: model.material.name.clone(),
        mode: model.material.mode.name().to_string(),
        lattice: lattice.kind.name().to_string(),
        cells: lattice.cells,
        boundary: lattice.boundary,
        sites: lattice.sites(),
        present_sites: totals.present_sites,
        bonds,
        engine,
        pressure_gpa: conditions.pressure_gpa,
        temperature_k: conditions.temperature_k,
        seed: conditions.seed,
        p: bernoulli.then_some(conditions.p),
        cell_edge_angstrom: params.cell_edge,
        tunnel_bonds: totals.tunnel_bonds,
        sc_bonds: totals.sc_bonds,
        tunnel_bond_fraction: fraction(totals.tunnel_bonds),
        sc_bond_fraction: fraction(totals.sc_bonds),
        near_threshold_bonds: totals.near_threshold_bonds,
        clusters: tunnel.clusters,
        singletons: tunnel.singletons,
        largest_cluster: tunnel.largest_cluster,
        largest_cluster_fraction: tunnel.largest_cluster_fraction,
        mean_cluster_size: tunnel.mean_cluster_size,
        spans: tunnel.spans,
        sc_spans: sc.spans,
        states: PerAxis::from_slice(&states, lattice.axes()),
        sc_network: sc,
        mean_gap_ev: (!bernoulli && normal > 0).then(|| totals.gap_sum_ev / normal as f64),
        timings,
        elapsed_s,
        transport: None,
    }
}
