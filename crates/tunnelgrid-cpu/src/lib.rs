//! The CPU reference engine of tunnelgrid: bond masks, union-find labelling of the tunnel and
//! superconducting networks, and the observables of MODEL.md §6, in parallel with rayon.
//!
//! It is the oracle every GPU stage is compared with. Resident memory is 8 bytes per site: the
//! bond mask and one u32 array that holds, in turn, the site presence of the bond pass, the
//! labels and the cluster sizes of each network (12 bytes above 2^31 sites, where the sizes need
//! an array of their own). Site and volume modes need no bond masks: they label straight from
//! the occupancy (`occupancy.rs`), one bit per site, so 4 bytes per site and 1 bit.

#![warn(missing_docs)]

pub mod arrays;
pub mod bonds;
pub mod kirchhoff;
pub mod labels;
pub mod maxflow;
pub mod newman_ziff;
pub mod numbering;
pub mod occupancy;
mod runs;
pub mod stats;

// std::time::Instant panics in the browser; web_time::Instant is std's natively.
use tunnelgrid_model::params::PRESENT_BIT;
use tunnelgrid_model::{
    build_report, AxisSolution, BondMasks, BondParams, BondTotals, ClusterStats, Conditions,
    Engine, EngineError, Lattice, Model, Network, Report, ResistanceOptions, Timings,
};
use web_time::Instant;

pub use bonds::evaluate_bonds;
pub use labels::label_clusters;
pub use tunnelgrid_host::{available_memory, geometry, wrap};

/// The CPU engine.
#[derive(Debug, Clone, Default)]
pub struct CpuEngine {
    /// Number of z-slabs labelled in parallel; `None` picks 4 per rayon thread.
    slabs: Option<usize>,
    /// The mask and label arrays of the last analysis, kept for the next one of the same shape.
    arrays: arrays::ArrayPool,
}

/// Per-site fields an analysis can hand out for export and rendering.
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

impl CpuEngine {
    /// The tunnel network's cluster roots of a model whose occupancy is its network (Bernoulli
    /// site, volume), labelled straight from the occupancy as `analyze` labels it, without bond
    /// masks (4 bytes per site instead of 8 plus the bond pass), with the presence of every
    /// site. `None` in the modes with bonds of their own (use `bond_masks` and `cluster_roots`).
    pub fn occupancy_roots(
        &self,
        model: &Model,
        conditions: &Conditions,
    ) -> Result<Option<(Vec<u32>, occupancy::Presence)>, EngineError> {
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        if !occupancy::labels_from_occupancy(params.mode) {
            return Ok(None);
        }
        if let Some(available) = available_memory() {
            model.check_memory(available)?;
        }
        model.check_conditions(conditions)?;
        let presence = occupancy::Presence::draw(&model.lattice, &params);
        let mut labels = arrays::site_array(model.lattice.sites() as usize);
        occupancy::label_occupancy(&model.lattice, &presence, self.slab_count(), &mut labels);
        Ok(Some((labels, presence)))
    }
}

impl CpuEngine {
    /// The clusters of the present sites of `presence` on `lattice`, numbered 1, 2, …, n in
    /// the order of their first site (0 for absent sites: scipy's and cc3d's numbering), with
    /// n: the tunnel network of a site or volume model labelled as `analyze` labels it, the
    /// numbering done by the labelling's last pass (`numbering.rs`). What a volume read into
    /// presence bits needs (the Python module's `label`), without a model's occupancy bytes.
    pub fn numbered_clusters(
        &self,
        lattice: &Lattice,
        presence: &occupancy::Presence,
    ) -> Result<(Vec<u32>, u32), EngineError> {
        if let Some(available) = available_memory() {
            tunnelgrid_model::engine::check_site_memory(lattice.sites(), available)?;
        }
        Ok(occupancy::number_occupancy(
            lattice,
            presence,
            self.slab_count(),
        ))
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

impl Engine for CpuEngine {
    fn name(&self) -> String {
        format!("cpu (rayon, {} threads)", rayon::current_num_threads())
    }

    fn bond_masks(&self, model: &Model, conditions: &Conditions) -> Result<BondMasks, EngineError> {
        model.check_conditions(conditions)?;
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let mut masks = arrays::site_array(model.lattice.sites() as usize);
        let mut presence = arrays::site_array(masks.len());
        let totals = evaluate_bonds(&model.lattice, &params, &mut masks, &mut presence);
        Ok(BondMasks { masks, totals })
    }

    fn cluster_roots(
        &self,
        model: &Model,
        _conditions: &Conditions,
        masks: &[u32],
        network: Network,
    ) -> Result<Vec<u32>, EngineError> {
        let mut labels = arrays::site_array(masks.len());
        label_clusters(
            &model.lattice,
            masks,
            network,
            self.slab_count(),
            &mut labels,
        );
        Ok(labels)
    }

    fn axis_resistance(
        &self,
        lattice: &Lattice,
        params: &BondParams,
        masks: &[u32],
        sc_roots: Option<&[u32]>,
        axis: usize,
        options: &ResistanceOptions,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<AxisSolution, EngineError> {
        let options = kirchhoff::SolveOptions {
            solver: options.solver,
            node_currents: options.currents,
            ..kirchhoff::SolveOptions::default()
        };
        let solved =
            kirchhoff::axis_resistance(lattice, params, masks, sc_roots, axis, &options, progress)?;
        Ok(AxisSolution::host(solved))
    }

    fn solver_name(&self, options: &ResistanceOptions) -> String {
        options.solver.name().to_string()
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
        let (totals, tunnel, sc) = if occupancy::labels_from_occupancy(params.mode) {
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
            (totals, tunnel, sc)
        } else {
            // Both arrays are overwritten entirely, so kept ones of an earlier call serve as
            // they are. The labels array is the presence scratch of the bond pass: the labelling
            // overwrites it.
            let mut masks = self.arrays.take(sites);
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
            (totals, tunnel, sc)
        };
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
