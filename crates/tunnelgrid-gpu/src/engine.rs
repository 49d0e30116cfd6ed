//! The GPU engine: the analysis of MODEL.md §6 as compute passes, z-slab by z-slab.
//!
//! Each slab (as many z layers as one storage binding holds) evaluates its bonds and labels its
//! clusters on the device. The host then reads only O(L²) words — the layers at slab boundaries
//! and the faces — joins clusters across slabs and periodic faces with the same `ShiftForest`
//! as the CPU engine, finds spanning clusters, and sends back a remap table. Cluster sizes are
//! counted and reduced on the device; clusters joined across slabs are summed on the host.

use crate::context::Context;
use crate::io::{coarse_groups, table, WORKGROUP};
use crate::pipelines::Pipelines;
use crate::timer::Stage;
use crate::GpuError;
use bytemuck::{Pod, Zeroable};
use std::collections::{HashMap, HashSet};
use std::time::Instant;
use tunnelgrid_cpu::geometry::for_each_face_site;
use tunnelgrid_cpu::stats::{bondless, spanning_from_faces};
use tunnelgrid_cpu::wrap::{join_periodic_faces, ShiftForest};
use tunnelgrid_cpu::{BondTotals, Network};
use tunnelgrid_model::{
    BondParams, Boundary, ClusterStats, Conditions, Engine, EngineError, Lattice, Mode, Model,
    PerAxis, Report, SpeciesPattern, Timings,
};

/// Per-slab parameters, laid out as `Params` in shaders/common.wgsl (twelve vec4s).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    cells: [u32; 4],
    periodic: [u32; 4],
    slab: [u32; 4],
    run: [u32; 4],
    keys_a: [u32; 4],
    keys_disp: [u32; 4],
    keys_bond_a: [u32; 4],
    keys_bond_b: [u32; 4],
    thresholds: [u32; 4],
    species_thr: [u32; 4],
    species_all: [u32; 4],
    sigma: [f32; 4],
    block: [u32; 4],
    blocks: [u32; 4],
}

/// Cells per labelling block (a workgroup of ≤ 256 sites labels one block in shared memory).
fn labelling_block(lattice: &Lattice) -> [u32; 3] {
    match (lattice.basis_len(), lattice.kind.is_2d()) {
        (1, true) => [16, 16, 1],
        (1, false) => [8, 8, 4],
        (2, _) => [8, 4, 4],
        (4, _) => [4, 4, 4],
        _ => [4, 4, 2],
    }
}

/// A u64 threshold in [0, 2^32] as (low word, "always" flag).
fn split_threshold(t: u64) -> (u32, u32) {
    if t >= 1 << 32 {
        (u32::MAX, 1)
    } else {
        (t as u32, 0)
    }
}

/// A run of z layers processed as one binding.
#[derive(Debug, Clone, Copy)]
struct Slab {
    first_site: u64,
    sites: u64,
    first_z: u32,
    layers: u32,
}

/// The GPU engine.
pub struct GpuEngine {
    ctx: Context,
    pipelines: Pipelines,
    /// Largest number of z layers per slab; `None` fills each binding.
    pub slab_layers: Option<u32>,
    /// Label blocks of cells in workgroup memory first (fast on GPUs); the default is on for
    /// hardware adapters and off for software ones (lavapipe), where workgroup memory is slow.
    pub block_labelling: bool,
}

/// Device-resident state of one run.
struct Run<'a> {
    engine: &'a GpuEngine,
    lattice: &'a Lattice,
    slabs: Vec<Slab>,
    params: Vec<wgpu::Buffer>,
    params_host: Vec<Params>,
    bond_offsets: wgpu::Buffer,
    bond_vectors: wgpu::Buffer,
    pair_laws: wgpu::Buffer,
    masks: Vec<wgpu::Buffer>,
    labels: Vec<wgpu::Buffer>,
}

/// What the host learns about one labelled network.
struct Joined {
    /// (old root, final root) of every cluster joined across slabs or periodic faces, sorted.
    remap: Vec<(u32, u32)>,
    /// Spanning and wrapping clusters (by final root).
    spanning: tunnelgrid_cpu::stats::Spanning,
}

impl GpuEngine {
    /// Opens the best adapter and compiles the pipelines.
    pub fn new() -> Result<Self, GpuError> {
        let ctx = Context::new()?;
        let pipelines = Pipelines::new(&ctx.device);
        let block_labelling = ctx.info.device_type != wgpu::DeviceType::Cpu;
        Ok(Self {
            ctx,
            pipelines,
            slab_layers: None,
            block_labelling,
        })
    }

    /// The context (adapter, device, limits).
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Turns per-stage device timing on or off; returns whether the adapter supports it.
    pub fn set_profiling(&self, on: bool) -> bool {
        self.ctx.timer.set_profiling(on);
        self.ctx.timer.supported()
    }

    /// Device seconds per stage since the last call (zeros unless profiling).
    pub fn take_device_times(&self) -> crate::timer::DeviceTimes {
        self.ctx.timer.take()
    }

    /// Bond masks of the whole lattice, read back (for tests and export).
    pub fn bond_masks(
        &self,
        model: &Model,
        conditions: &Conditions,
    ) -> Result<(Vec<u32>, BondTotals), EngineError> {
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params)?;
        let totals = run.evaluate_bonds()?;
        Ok((run.read_all(&run.masks)?, totals))
    }

    /// Cluster labels of the whole lattice after slab merge and wrapping, read back: each site's
    /// label is the smallest site index of its cluster (as the CPU engine's `label_clusters`).
    pub fn labels(
        &self,
        model: &Model,
        conditions: &Conditions,
        network: Network,
    ) -> Result<Vec<u32>, EngineError> {
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params)?;
        run.evaluate_bonds()?;
        run.label(network)?;
        let joined = run.join(network)?;
        run.apply_remap(&joined)?;
        run.read_all(&run.labels)
    }
}

impl Engine for GpuEngine {
    fn name(&self) -> String {
        format!("gpu ({})", self.ctx.describe())
    }

    fn analyze(&self, model: &Model, conditions: &Conditions) -> Result<Report, EngineError> {
        let start = Instant::now();
        tunnelgrid_model::config::check_conditions(
            &model.material,
            conditions.pressure_gpa,
            conditions.temperature_k,
            "",
        )?;
        tunnelgrid_model::config::check_range(
            "p",
            conditions.p,
            0.0,
            1.0,
            "a probability in [0, 1]",
        )?;
        let mut timings = Timings::default();
        let t = Instant::now();
        let params = BondParams::new(&model.material, &model.lattice, conditions);
        let run = Run::new(self, model, &params)?;
        let totals = run.evaluate_bonds()?;
        timings.bonds_s = t.elapsed().as_secs_f64();

        let network_stats =
            |network: Network, bonds: u64| -> Result<(ClusterStats, f64, f64), EngineError> {
                if bonds == 0 {
                    return Ok((bondless(&model.lattice, totals.present_sites), 0.0, 0.0));
                }
                let t = Instant::now();
                run.label(network)?;
                let label_s = t.elapsed().as_secs_f64();
                let t = Instant::now();
                let joined = run.join(network)?;
                run.apply_remap(&joined)?;
                let stats = run.cluster_stats(&joined)?;
                Ok((stats, label_s, t.elapsed().as_secs_f64()))
            };
        let (tunnel, label_s, stats_s) = network_stats(Network::Tunnel, totals.tunnel_bonds)?;
        timings.tunnel_labels_s = label_s;
        timings.stats_s = stats_s;
        let (sc, label_s, stats_s) = network_stats(Network::Superconducting, totals.sc_bonds)?;
        timings.sc_labels_s = label_s;
        timings.stats_s += stats_s;
        Ok(tunnelgrid_cpu::build_report(
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

impl<'a> Run<'a> {
    /// Plans the slabs and allocates the device buffers of a run.
    fn new(
        engine: &'a GpuEngine,
        model: &'a Model,
        bond_params: &BondParams,
    ) -> Result<Self, EngineError> {
        let ctx = &engine.ctx;
        let lattice = &model.lattice;
        // A software adapter's device memory is the host's: refuse before allocating. Real GPUs
        // report a failed allocation through the out-of-memory error scope below.
        if ctx.info.device_type == wgpu::DeviceType::Cpu {
            if let Some(available) = tunnelgrid_cpu::available_memory() {
                model.check_memory(available)?;
            }
        }
        let layer = lattice.sites_per_layer();
        let per_binding = ctx.max_words_per_binding();
        let fit = per_binding / layer;
        if fit == 0 {
            return Err(GpuError::LayerTooLarge {
                layer_sites: layer,
                binding_words: per_binding,
            }
            .into());
        }
        let layers = (fit as u32)
            .min(engine.slab_layers.unwrap_or(u32::MAX))
            .max(1);
        let nz = lattice.cells[2];
        let slabs: Vec<Slab> = (0..nz)
            .step_by(layers as usize)
            .map(|first_z| {
                let count = layers.min(nz - first_z);
                Slab {
                    first_site: first_z as u64 * layer,
                    sites: count as u64 * layer,
                    first_z,
                    layers: count,
                }
            })
            .collect();

        let per_site = lattice.max_forward_bonds();
        let mut offsets: Vec<[i32; 4]> = Vec::new();
        let mut vectors: Vec<[f32; 4]> = Vec::new();
        for b in 0..lattice.basis_len() {
            let forward = lattice.forward_bonds(b);
            assert_eq!(
                forward.len(),
                per_site,
                "every basis site of a lattice has as many forward bonds"
            );
            for (k, f) in forward.iter().enumerate() {
                offsets.push([
                    f.cell_offset[0],
                    f.cell_offset[1],
                    f.cell_offset[2],
                    f.to as i32,
                ]);
                let v = bond_params.bond_vectors[b as usize][k];
                vectors.push([v[0], v[1], v[2], 0.0]);
            }
        }
        let mut laws: Vec<[f32; 4]> = Vec::new();
        for p in 0..4 {
            for q in 0..4 {
                let l = bond_params.pairs[p][q];
                laws.push([l.tunnel_d2, l.sc_d2, l.contraction, l.tunnel_distance]);
                laws.push([l.sc_distance, l.gap_ev, 0.0, 0.0]);
            }
        }

        let keys = &bond_params.keys;
        let (bern, bern_all) = split_threshold(bond_params.bernoulli_threshold);
        let (vac, vac_all) = split_threshold(bond_params.vacancy_threshold);
        let species = bond_params.species_thresholds.map(split_threshold);
        let periodic: [u32; 3] = std::array::from_fn(|a| {
            u32::from(
                lattice.boundary[a] == Boundary::Periodic && !(lattice.kind.is_2d() && a == 2),
            )
        });
        let mode = match bond_params.mode {
            Mode::Tunnel => 0,
            Mode::BernoulliSite => 1,
            Mode::BernoulliBond => 2,
        };
        let pattern = match bond_params.species_pattern {
            SpeciesPattern::Uniform => 0,
            SpeciesPattern::Alternating => 1,
            SpeciesPattern::Layers => 2,
            SpeciesPattern::Random => 3,
        };
        let block = labelling_block(lattice);
        debug_assert!(block.iter().product::<u32>() * lattice.basis_len() <= 256);
        let params_host: Vec<Params> = slabs
            .iter()
            .map(|s| Params {
                cells: [
                    lattice.cells[0],
                    lattice.cells[1],
                    lattice.cells[2],
                    lattice.basis_len(),
                ],
                periodic: [periodic[0], periodic[1], periodic[2], mode],
                slab: [s.first_site as u32, s.sites as u32, s.first_z, s.layers],
                run: [0, per_site as u32, pattern, bond_params.species_count],
                keys_a: [
                    keys.occupation.low_word_key(),
                    keys.vacancy.low_word_key(),
                    keys.species.low_word_key(),
                    0,
                ],
                keys_disp: [
                    keys.displacement[0].low_word_key(),
                    keys.displacement[1].low_word_key(),
                    keys.displacement[2].low_word_key(),
                    0,
                ],
                keys_bond_a: std::array::from_fn(|k| keys.bond[k].low_word_key()),
                keys_bond_b: [
                    keys.bond[4].low_word_key(),
                    keys.bond[5].low_word_key(),
                    0,
                    0,
                ],
                thresholds: [bern, bern_all, vac, vac_all],
                species_thr: species.map(|s| s.0),
                species_all: species.map(|s| s.1),
                sigma: [bond_params.sigma, 0.0, 0.0, 0.0],
                block: [
                    block[0],
                    block[1],
                    block[2],
                    u32::from(engine.block_labelling),
                ],
                blocks: [
                    lattice.cells[0].div_ceil(block[0]),
                    lattice.cells[1].div_ceil(block[1]),
                    s.layers.div_ceil(block[2]),
                    0,
                ],
            })
            .collect();

        let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let params = params_host
            .iter()
            .map(|p| ctx.uniform_with("params", bytemuck::bytes_of(p)))
            .collect();
        let bond_offsets = ctx.storage_with("bond offsets", bytemuck::cast_slice(&offsets));
        let bond_vectors = ctx.storage_with("bond vectors", bytemuck::cast_slice(&vectors));
        let pair_laws = ctx.storage_with("pair laws", bytemuck::cast_slice(&laws));
        let masks = slabs
            .iter()
            .map(|s| ctx.storage("bond masks", s.sites))
            .collect();
        let labels = slabs
            .iter()
            .map(|s| ctx.storage("labels", s.sites))
            .collect();
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(GpuError::OutOfMemory {
                needed: tunnelgrid_model::engine::human_bytes(lattice.sites() * 8),
                detail: error.to_string(),
            }
            .into());
        }
        Ok(Self {
            engine,
            lattice,
            slabs,
            params,
            params_host,
            bond_offsets,
            bond_vectors,
            pair_laws,
            masks,
            labels,
        })
    }

    fn ctx(&self) -> &Context {
        &self.engine.ctx
    }

    fn pipelines(&self) -> &Pipelines {
        &self.engine.pipelines
    }

    /// Writes the network bits into every slab's parameters.
    fn set_network(&self, network: Network) {
        for (buffer, host) in self.params.iter().zip(&self.params_host) {
            let mut p = *host;
            p.run[0] = network.bits();
            self.ctx()
                .queue
                .write_buffer(buffer, 0, bytemuck::bytes_of(&p));
        }
    }

    /// Bond masks of every slab and the totals.
    fn evaluate_bonds(&self) -> Result<BondTotals, EngineError> {
        let ctx = self.ctx();
        let mut totals = BondTotals::default();
        for (s, slab) in self.slabs.iter().enumerate() {
            let groups = coarse_groups(slab.sites);
            let partials = ctx.storage("bond partials", groups * 5);
            let pipeline =
                &self.pipelines().evaluate_bonds[self.params_host[s].periodic[3] as usize];
            let bind = ctx.bind(
                pipeline,
                &[
                    (0, &self.params[s]),
                    (1, &self.bond_offsets),
                    (2, &self.bond_vectors),
                    (3, &self.pair_laws),
                    (4, &self.masks[s]),
                    (5, &partials),
                ],
            );
            let mut encoder = ctx.encoder();
            ctx.dispatch_coarse(&mut encoder, Stage::Bonds, pipeline, &bind, slab.sites);
            ctx.submit_and_wait(encoder)?;
            let words = ctx.read_words(&partials, 0, groups * 5)?;
            for w in words.chunks_exact(5) {
                totals.present_sites += w[0] as u64;
                totals.tunnel_bonds += w[1] as u64;
                totals.sc_bonds += w[2] as u64;
                totals.near_threshold_bonds += w[3] as u64;
                totals.gap_sum_ev += f32::from_bits(w[4]) as f64;
            }
        }
        Ok(totals)
    }

    /// Labels every slab's clusters of `network` on the device (no merge yet).
    fn label(&self, network: Network) -> Result<(), EngineError> {
        self.set_network(network);
        let ctx = self.ctx();
        let p = self.pipelines();
        let mut encoder = ctx.encoder();
        for (s, slab) in self.slabs.iter().enumerate() {
            let bind = ctx.bind(
                &p.hook_bonds,
                &[
                    (0, &self.params[s]),
                    (1, &self.bond_offsets),
                    (4, &self.masks[s]),
                    (6, &self.labels[s]),
                ],
            );
            let bind_compress = ctx.bind(
                &p.compress_labels,
                &[(0, &self.params[s]), (6, &self.labels[s])],
            );
            if self.engine.block_labelling {
                let blocks = self.params_host[s].blocks;
                let count = blocks[0] as u64 * blocks[1] as u64 * blocks[2] as u64;
                let bind_blocks = ctx.bind(
                    &p.label_blocks,
                    &[
                        (0, &self.params[s]),
                        (1, &self.bond_offsets),
                        (4, &self.masks[s]),
                        (6, &self.labels[s]),
                    ],
                );
                ctx.dispatch(
                    &mut encoder,
                    Stage::Labels,
                    &p.label_blocks,
                    &bind_blocks,
                    count * WORKGROUP as u64,
                );
            } else {
                let bind_init = ctx.bind(
                    &p.init_labels,
                    &[(0, &self.params[s]), (6, &self.labels[s])],
                );
                ctx.dispatch(
                    &mut encoder,
                    Stage::Labels,
                    &p.init_labels,
                    &bind_init,
                    slab.sites,
                );
            }
            ctx.dispatch(
                &mut encoder,
                Stage::Labels,
                &p.hook_bonds,
                &bind,
                slab.sites,
            );
            ctx.dispatch(
                &mut encoder,
                Stage::Labels,
                &p.compress_labels,
                &bind_compress,
                slab.sites,
            );
        }
        ctx.submit_and_wait(encoder)?;
        Ok(())
    }

    /// The sites the host needs: the layers on both sides of every slab boundary and the faces
    /// of every axis (for spanning and wrapping).
    fn host_sites(&self) -> Vec<u32> {
        let lattice = self.lattice;
        let layer = lattice.sites_per_layer();
        let mut sites: HashSet<u32> = HashSet::new();
        for pair in self.slabs.windows(2) {
            let boundary = pair[1].first_site;
            sites.extend((boundary - layer..boundary + layer).map(|s| s as u32));
        }
        for axis in 0..lattice.axes() {
            for high in [false, true] {
                for_each_face_site(lattice, axis, high, |site| {
                    sites.insert(site.index as u32);
                });
            }
        }
        let mut sites: Vec<u32> = sites.into_iter().collect();
        sites.sort_unstable();
        sites
    }

    /// Reads the masks and labels of `sites` from whichever slab holds them.
    fn gather(&self, sites: &[u32]) -> Result<HashMap<u64, (u32, u32)>, EngineError> {
        let ctx = self.ctx();
        let p = self.pipelines();
        let list = ctx.storage_with(
            "host sites",
            bytemuck::cast_slice(&table(sites.iter().copied(), sites.len())),
        );
        let gathered = ctx.storage("gathered", 2 * sites.len() as u64);
        let mut encoder = ctx.encoder();
        for s in 0..self.slabs.len() {
            let bind = ctx.bind(
                &p.gather_sites,
                &[
                    (0, &self.params[s]),
                    (4, &self.masks[s]),
                    (6, &self.labels[s]),
                    (7, &list),
                    (11, &gathered),
                ],
            );
            ctx.dispatch(
                &mut encoder,
                Stage::Merge,
                &p.gather_sites,
                &bind,
                sites.len() as u64,
            );
        }
        ctx.submit_and_wait(encoder)?;
        let words = ctx.read_words(&gathered, 0, 2 * sites.len() as u64)?;
        Ok(sites
            .iter()
            .zip(words.chunks_exact(2))
            .map(|(&site, w)| (site as u64, (w[0], w[1])))
            .collect())
    }

    /// Joins clusters across slab boundaries and periodic faces, and finds spanning clusters.
    fn join(&self, network: Network) -> Result<Joined, EngineError> {
        let lattice = self.lattice;
        let bits = network.bits();
        let host = self.gather(&self.host_sites())?;
        let mask_of = |site: u64| host[&site].0;
        let label_of = |site: u64| host[&site].1;
        let mut forest = ShiftForest::default();
        for pair in self.slabs.windows(2) {
            let boundary = pair[1].first_site;
            let z = pair[0].first_z + pair[0].layers - 1;
            let mut walker = tunnelgrid_cpu::geometry::LayerWalker::new(lattice, z);
            while let Some(site) = walker.next_site() {
                let mut m = mask_of(site.index) & bits;
                while m != 0 {
                    let k = (m.trailing_zeros() / 2) as usize;
                    m &= m - 1;
                    let bond = &lattice.forward_bonds(site.basis)[k];
                    if let Some(nb) = lattice.neighbour(site.cell, bond) {
                        if nb.crossing == [0; 3] && nb.site >= boundary {
                            forest.join(label_of(site.index), label_of(nb.site), [0; 3]);
                        }
                    }
                }
            }
        }
        join_periodic_faces(lattice, bits, mask_of, label_of, &mut forest);
        let remap = forest.remap();
        let lookup: HashMap<u32, u32> = remap.iter().copied().collect();
        let final_label = |site: u64| {
            let l = label_of(site);
            lookup.get(&l).copied().unwrap_or(l)
        };
        let spanning = spanning_from_faces(lattice, mask_of, final_label, forest.wraps());
        Ok(Joined { remap, spanning })
    }

    /// Sends the joined roots' final labels to the device.
    fn apply_remap(&self, joined: &Joined) -> Result<(), EngineError> {
        let remap = &joined.remap;
        if remap.is_empty() {
            return Ok(());
        }
        let ctx = self.ctx();
        let p = self.pipelines();
        let words = table(remap.iter().flat_map(|&(a, b)| [a, b]), remap.len());
        let list = ctx.storage_with("remap", bytemuck::cast_slice(&words));
        let mut encoder = ctx.encoder();
        for (s, slab) in self.slabs.iter().enumerate() {
            let bind_roots = ctx.bind(
                &p.remap_roots,
                &[(0, &self.params[s]), (6, &self.labels[s]), (7, &list)],
            );
            let bind_sites = ctx.bind(
                &p.remap_sites,
                &[(0, &self.params[s]), (6, &self.labels[s])],
            );
            ctx.dispatch(
                &mut encoder,
                Stage::Merge,
                &p.remap_roots,
                &bind_roots,
                remap.len() as u64,
            );
            ctx.dispatch(
                &mut encoder,
                Stage::Merge,
                &p.remap_sites,
                &bind_sites,
                slab.sites,
            );
        }
        ctx.submit_and_wait(encoder)?;
        Ok(())
    }

    /// Cluster sizes and the statistics of §6 for the (remapped) labels.
    fn cluster_stats(&self, joined: &Joined) -> Result<ClusterStats, EngineError> {
        const GLOBAL: u32 = 0x8000_0000;
        const SPANNING: u32 = 0x4000_0000;
        let ctx = self.ctx();
        let p = self.pipelines();
        let mut globals: Vec<u32> = joined.remap.iter().map(|&(_, root)| root).collect();
        globals.sort_unstable();
        globals.dedup();
        let mut marks: Vec<(u32, u32)> = globals.iter().map(|&g| (g, GLOBAL)).collect();
        for &r in &joined.spanning.roots {
            if globals.binary_search(&r).is_err() {
                marks.push((r, SPANNING));
            }
        }
        let marks_table = ctx.storage_with(
            "marks",
            bytemuck::cast_slice(&table(marks.iter().flat_map(|&(r, f)| [r, f]), marks.len())),
        );
        let globals_table = ctx.storage_with(
            "global roots",
            bytemuck::cast_slice(&table(globals.iter().copied(), globals.len())),
        );
        let global_counts = ctx.storage("global counts", globals.len() as u64);
        let largest_slab = self.slabs.iter().map(|s| s.sites).max().unwrap_or(0);
        let sizes = ctx.storage("sizes", largest_slab);
        let partials = ctx.storage("size partials", coarse_groups(largest_slab) * 7);

        let mut totals = SizeTotals::default();
        for (s, slab) in self.slabs.iter().enumerate() {
            let mut encoder = ctx.encoder();
            encoder.clear_buffer(&sizes, 0, None);
            let bind_mark = ctx.bind(
                &p.mark_roots,
                &[(0, &self.params[s]), (7, &marks_table), (8, &sizes)],
            );
            let bind_count = ctx.bind(
                &p.count_sites,
                &[
                    (0, &self.params[s]),
                    (4, &self.masks[s]),
                    (6, &self.labels[s]),
                    (7, &globals_table),
                    (8, &sizes),
                    (9, &global_counts),
                ],
            );
            let bind_reduce = ctx.bind(
                &p.reduce_sizes,
                &[(0, &self.params[s]), (8, &sizes), (10, &partials)],
            );
            let bind_gather = ctx.bind(
                &p.gather_globals,
                &[
                    (0, &self.params[s]),
                    (7, &globals_table),
                    (8, &sizes),
                    (9, &global_counts),
                ],
            );
            ctx.dispatch(
                &mut encoder,
                Stage::Stats,
                &p.mark_roots,
                &bind_mark,
                marks.len() as u64,
            );
            ctx.dispatch_coarse(
                &mut encoder,
                Stage::Stats,
                &p.count_sites,
                &bind_count,
                slab.sites,
            );
            ctx.dispatch_coarse(
                &mut encoder,
                Stage::Stats,
                &p.reduce_sizes,
                &bind_reduce,
                slab.sites,
            );
            ctx.dispatch(
                &mut encoder,
                Stage::Stats,
                &p.gather_globals,
                &bind_gather,
                globals.len() as u64,
            );
            ctx.submit_and_wait(encoder)?;
            let words = ctx.read_words(&partials, 0, coarse_groups(slab.sites) * 7)?;
            for w in words.chunks_exact(7) {
                totals.clusters += w[0] as u64;
                totals.singletons += w[1] as u64;
                totals.largest = totals.largest.max(w[2] as u64);
                totals.finite_sum += w[3] as u64 | (w[4] as u64) << 32;
                totals.finite_sum2 += (w[5] as u64 | (w[6] as u64) << 32) as u128;
            }
        }
        let counts = ctx.read_words(&global_counts, 0, globals.len() as u64)?;
        for (&root, &count) in globals.iter().zip(&counts) {
            let s = count as u64;
            if s == 0 {
                continue;
            }
            totals.clusters += u64::from(s > 1);
            totals.singletons += u64::from(s == 1);
            totals.largest = totals.largest.max(s);
            if !joined.spanning.roots.contains(&root) {
                totals.finite_sum += s;
                totals.finite_sum2 += (s * s) as u128;
            }
        }
        let lattice = self.lattice;
        Ok(ClusterStats {
            clusters: totals.clusters,
            singletons: totals.singletons,
            largest_cluster: totals.largest,
            largest_cluster_fraction: totals.largest as f64 / lattice.sites() as f64,
            mean_cluster_size: if totals.finite_sum > 0 {
                totals.finite_sum2 as f64 / totals.finite_sum as f64
            } else {
                0.0
            },
            spans: PerAxis::from_slice(&joined.spanning.axes, lattice.axes()),
        })
    }

    /// The whole of a per-slab array, read back in site order.
    fn read_all(&self, buffers: &[wgpu::Buffer]) -> Result<Vec<u32>, EngineError> {
        let mut out = Vec::with_capacity(self.lattice.sites() as usize);
        for (buffer, slab) in buffers.iter().zip(&self.slabs) {
            out.extend(self.ctx().read_words(buffer, 0, slab.sites)?);
        }
        Ok(out)
    }
}

#[derive(Default)]
struct SizeTotals {
    clusters: u64,
    singletons: u64,
    largest: u64,
    finite_sum: u64,
    finite_sum2: u128,
}
