//! The CPU reference engine of tunnelgrid: bond masks, union-find labelling of the tunnel and
//! superconducting networks, and the observables of MODEL.md §6, in parallel with rayon.
//!
//! It is the oracle every GPU stage is compared with. Resident memory is 8 bytes per site: the
//! bond mask and one u32 array that holds, in turn, the site presence of the bond pass, the
//! labels and the cluster sizes of each network (12 bytes above 2^31 sites, where the sizes need
//! an array of their own). Site and volume modes need no bond masks: they label straight from
//! the occupancy (`occupancy.rs`), one bit per site, so 4 bytes per site and 1 bit.

pub mod arrays;
mod atomic_view;
pub mod bonds;
pub mod geometry;
pub mod kirchhoff;
pub mod labels;
pub mod maxflow;
pub mod newman_ziff;
pub mod occupancy;
mod runs;
pub mod stats;
pub mod wrap;

use std::time::Instant;
use tunnelgrid_model::params::PRESENT_BIT;
use tunnelgrid_model::{
    BondParams, ClusterStats, Conditions, Engine, EngineError, Model, PerAxis, Report, State,
    Timings,
};

pub use bonds::{evaluate_bonds, BondTotals};
pub use labels::{label_clusters, Network};

/// The CPU engine.
#[derive(Debug, Clone, Default)]
pub struct CpuEngine {
    /// Number of z-slabs labelled in parallel; `None` picks 4 per rayon thread.
    pub slabs: Option<usize>,
    /// The mask and label arrays of the last analysis, kept for the next one of the same shape.
    arrays: arrays::ArrayPool,
}

/// Per-site fields an analysis can hand out for export and rendering.
#[derive(Debug, Clone)]
pub struct Fields {
    /// Bond mask per site.
    pub bond_masks: Vec<u32>,
    /// Totals gathered while evaluating the bonds.
    pub totals: BondTotals,
}

impl CpuEngine {
    /// An engine that labels `slabs` z-slabs in parallel.
    pub fn with_slabs(slabs: usize) -> Self {
        Self {
            slabs: Some(slabs),
            ..Self::default()
        }
    }

    /// Slab count used for a lattice with `nz` layers.
    fn slab_count(&self) -> usize {
        self.slabs
            .unwrap_or(4 * rayon::current_num_threads())
            .max(1)
    }

    /// Evaluates the bond masks of a run.
    pub fn bond_masks(&self, model: &Model, conditions: &Conditions) -> Fields {
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let mut bond_masks = arrays::site_array(model.lattice.sites() as usize);
        let mut presence = arrays::site_array(bond_masks.len());
        let totals = evaluate_bonds(&model.lattice, &params, &mut bond_masks, &mut presence);
        Fields { bond_masks, totals }
    }

    /// Cluster roots of every site (the smallest site index of its cluster).
    pub fn cluster_roots(&self, model: &Model, masks: &[u32], network: Network) -> Vec<u32> {
        let mut labels = arrays::site_array(masks.len());
        label_clusters(
            &model.lattice,
            masks,
            network,
            self.slab_count(),
            &mut labels,
        );
        labels
    }

    /// Labels one network into `labels` and computes its statistics (which consumes the
    /// labels). `bonds` is the number of bonds of this network.
    fn network_stats(
        &self,
        model: &Model,
        masks: &[u32],
        network: Network,
        bonds: u64,
        present_sites: u64,
        labels: &mut [u32],
    ) -> (ClusterStats, f64, f64) {
        if bonds == 0 {
            return (stats::bondless(&model.lattice, present_sites), 0.0, 0.0);
        }
        let t = Instant::now();
        let wraps = label_clusters(&model.lattice, masks, network, self.slab_count(), labels);
        let label_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let span = stats::spanning(&model.lattice, masks, labels, &wraps);
        let stats = stats::cluster_stats(&model.lattice, masks, labels, &span);
        (stats, label_s, t.elapsed().as_secs_f64())
    }
}

impl CpuEngine {
    /// Site and volume modes: labels the tunnel network straight from `presence` into `labels`,
    /// counting its bonds on the way, and computes its statistics (which consumes the labels).
    /// The totals are the bond pass's: nothing superconducts, and no bond is near a threshold.
    fn occupancy_stats(
        &self,
        model: &Model,
        presence: &occupancy::Presence,
        labels: &mut [u32],
        timings: &mut Timings,
    ) -> (ClusterStats, BondTotals) {
        let lattice = &model.lattice;
        let t = Instant::now();
        let (wraps, tunnel_bonds) =
            occupancy::label_occupancy(lattice, presence, self.slab_count(), labels);
        timings.tunnel_labels_s = t.elapsed().as_secs_f64();
        let present_sites = presence.present_sites();
        let totals = BondTotals {
            present_sites,
            tunnel_bonds,
            ..BondTotals::default()
        };
        // As `network_stats`: a network without bonds takes the statistics that need no pass.
        if tunnel_bonds == 0 {
            return (stats::bondless(lattice, present_sites), totals);
        }
        let t = Instant::now();
        let span = stats::spanning_from_faces(
            lattice,
            |site| presence.mask(site),
            |site| labels[site as usize],
            &wraps,
        );
        let is_present = |site: usize| presence.is_present(site as u64);
        let tunnel = stats::cluster_stats_of(lattice, is_present, labels, &span);
        timings.stats_s = t.elapsed().as_secs_f64();
        (tunnel, totals)
    }
}

/// Labels for export from cluster roots: 0 for absent sites, otherwise 1 + the root (equal
/// labels ⇔ same cluster).
pub fn export_labels(masks: &[u32], mut roots: Vec<u32>) -> Vec<u32> {
    for (label, &mask) in roots.iter_mut().zip(masks) {
        *label = if mask & PRESENT_BIT == 0 {
            0
        } else {
            *label + 1
        };
    }
    roots
}

/// Bytes of memory this process can still get (None where nothing is known): the least of the
/// system's available memory (/proc/meminfo), the headroom under the address-space limit
/// (`ulimit -v`, RLIMIT_AS) and the headroom under the memory limit of the process's cgroup
/// (containers, `systemd-run -p MemoryMax=`). A run refused here gets a clear message; one
/// that passed MemAvailable alone could abort on a failed allocation under either limit.
pub fn available_memory() -> Option<u64> {
    [
        system_available(),
        address_space_headroom(),
        cgroup_headroom(),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// `MemAvailable` of /proc/meminfo.
fn system_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    kib_field(&info, "MemAvailable:")
}

/// A `Name:   123 kB` line of a /proc file, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// RLIMIT_AS less the address space already mapped (VmSize).
fn address_space_headroom() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } != 0
        || limit.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let mapped = kib_field(&status, "VmSize:").unwrap_or(0);
    Some(limit.rlim_cur.saturating_sub(mapped))
}

/// The cgroup's memory limit less its usage: cgroup v2 (`memory.max`, `memory.current`) or v1
/// (`memory.limit_in_bytes`, `memory.usage_in_bytes`).
fn cgroup_headroom() -> Option<u64> {
    let read_u64 =
        |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in membership.lines() {
        // v2: "0::/path"; v1: "N:memory:/path" (or with other controllers joined by commas).
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (limit, usage) = if controllers.is_empty() {
            let dir = format!("/sys/fs/cgroup{path}");
            (
                read_u64(&format!("{dir}/memory.max")),
                read_u64(&format!("{dir}/memory.current")),
            )
        } else if controllers.split(',').any(|c| c == "memory") {
            let dir = format!("/sys/fs/cgroup/memory{path}");
            (
                read_u64(&format!("{dir}/memory.limit_in_bytes")),
                read_u64(&format!("{dir}/memory.usage_in_bytes")),
            )
        } else {
            continue;
        };
        // "max" (no limit) does not parse; v1 writes a huge number for none.
        if let Some(limit) = limit.filter(|&l| l < 1 << 60) {
            return Some(limit.saturating_sub(usage.unwrap_or(0)));
        }
    }
    None
}

impl Engine for CpuEngine {
    fn name(&self) -> String {
        format!("cpu (rayon, {} threads)", rayon::current_num_threads())
    }

    fn analyze(&self, model: &Model, conditions: &Conditions) -> Result<Report, EngineError> {
        let start = Instant::now();
        if let Some(available) = available_memory() {
            model.check_memory(available)?;
        }
        model.check_conditions(conditions)?;
        let lattice = &model.lattice;
        let sites = lattice.sites() as usize;
        let mut timings = Timings::default();

        let t = Instant::now();
        let params = BondParams::new(&model.material, lattice, conditions);
        if occupancy::labels_from_occupancy(params.mode) {
            // The occupancy is the tunnel network: one bit per site, no bond masks.
            let presence = occupancy::Presence::draw(lattice, &params);
            // Taken inside the bond stage's time, as the mask path takes both its arrays: a
            // fresh array's first touch is part of the work.
            let mut labels = self.arrays.take(sites);
            timings.bonds_s = t.elapsed().as_secs_f64();
            let (tunnel, totals) =
                self.occupancy_stats(model, &presence, &mut labels, &mut timings);
            self.arrays.give(labels);
            let sc = stats::bondless(lattice, presence.present_sites());
            return Ok(build_report(
                model,
                conditions,
                &params,
                &totals,
                tunnel,
                sc,
                self.name(),
                timings,
                start.elapsed().as_secs_f64(),
            ));
        }
        // Both arrays are overwritten entirely, so kept ones of an earlier call serve as they are.
        let mut masks = self.arrays.take(sites);
        // The labels array is the presence scratch of the bond pass: the labelling overwrites it.
        let mut labels = self.arrays.take(sites);
        let totals = evaluate_bonds(lattice, &params, &mut masks, &mut labels);
        timings.bonds_s = t.elapsed().as_secs_f64();

        let (tunnel, label_s, stats_s) = self.network_stats(
            model,
            &masks,
            Network::Tunnel,
            totals.tunnel_bonds,
            totals.present_sites,
            &mut labels,
        );
        timings.tunnel_labels_s = label_s;
        timings.stats_s = stats_s;
        let (sc, label_s, stats_s) = self.network_stats(
            model,
            &masks,
            Network::Superconducting,
            totals.sc_bonds,
            totals.present_sites,
            &mut labels,
        );
        timings.sc_labels_s = label_s;
        timings.stats_s += stats_s;
        self.arrays.give(masks);
        self.arrays.give(labels);

        Ok(build_report(
            model,
            conditions,
            &params,
            &totals,
            tunnel,
            sc,
            self.name(),
            timings,
            start.elapsed().as_secs_f64(),
        ))
    }
}

/// Assembles a report from the engine-independent pieces; shared with the GPU engine.
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
