//! The device state of one analysis and the per-slab stages.
//!
//! Resident runs keep every slab's bond masks and labels on the device (8 bytes per site plus
//! one slab of cluster sizes). When that does not fit, the run *streams*: one slab's buffers are
//! reused for every slab, and a slab is recomputed (bonds and labels are deterministic) each time
//! a pass needs it — once to gather its boundary layers, once to count its clusters.

use crate::buffers::{coarse_groups, table, WORKGROUP};
use crate::context::Context;
use crate::engine::GpuEngine;
use crate::params::{
    bond_tables, occupancy_words, pack_occupancy, pair_laws, plan_slabs, slab_params, Params, Slab,
};
use crate::pipelines::Pipelines;
use crate::timer::Stage;
use crate::GpuError;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use tunnelgrid_model::engine::human_bytes;
use tunnelgrid_model::{BondParams, EngineError, Lattice, Mode, Model};
use tunnelgrid_model::{BondTotals, Network};

/// Device memory of a resident run, bytes per site (bond mask and label, both u32).
const RESIDENT_BYTES_PER_SITE: u64 = 8;

/// The buffers of one run and where its slabs stand.
pub struct Run<'a> {
    pub engine: &'a GpuEngine,
    pub lattice: &'a Lattice,
    pub slabs: Vec<Slab>,
    pub params_host: Vec<Params>,
    params: Vec<wgpu::Buffer>,
    bond_offsets: wgpu::Buffer,
    bond_vectors: wgpu::Buffer,
    pair_laws: wgpu::Buffer,
    /// Volume mode: the voxel bytes, packed into `occupancy` slab by slab before its bonds are
    /// evaluated (resident or streaming alike: 1/32 word per site, so one buffer serves all).
    volume: Option<Arc<[u8]>>,
    /// The packed occupancy of one slab and the layer after it (a placeholder word otherwise).
    occupancy: wgpu::Buffer,
    /// One per slab (resident) or one for all slabs (streaming).
    masks: Vec<wgpu::Buffer>,
    labels: Vec<wgpu::Buffer>,
    /// Streaming: the slab whose bonds and labels the buffers hold.
    loaded: Cell<Option<usize>>,
    /// The network being labelled.
    network: Cell<Network>,
    /// The current remap table (length word first) and its entry count, applied to every slab.
    remap: RefCell<Option<(wgpu::Buffer, u64)>>,
}

impl<'a> Run<'a> {
    /// Plans the slabs and allocates the buffers: resident when they fit, else streaming.
    pub async fn new(
        engine: &'a GpuEngine,
        model: &'a Model,
        bond: &BondParams,
    ) -> Result<Self, EngineError> {
        let ctx = &engine.ctx;
        let lattice = &model.lattice;
        // The bond shader knows each lattice's own neighbour shell only (face bonds of a voxel).
        if bond.mode == Mode::Volume && lattice.connectivity() != 6 {
            return Err(EngineError::Unsupported(format!(
                "--connectivity {} runs on the CPU engine only; the GPU engine supports --connectivity 6 (use --engine cpu)",
                lattice.connectivity()
            )));
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
        let layers = (fit.min(u32::MAX as u64) as u32)
            .min(engine.slab_layers.unwrap_or(u32::MAX))
            .max(1);
        let slabs = plan_slabs(lattice, layers);
        let largest = slabs.iter().map(|s| s.sites).max().unwrap_or(1);

        // A software adapter's device memory is the host's: decide before allocating. Hardware
        // adapters report a failed allocation through the out-of-memory error scope.
        let software = ctx.info.device_type == wgpu::DeviceType::Cpu;
        let host_memory = if software {
            tunnelgrid_host::available_memory()
        } else {
            None
        };
        let volume = match bond.mode {
            Mode::Volume => Some(bond.volume.clone().unwrap_or_else(|| Arc::from([]))),
            _ => None,
        };
        let occupancy_words = match volume {
            Some(_) => slabs.iter().map(|s| occupancy_words(lattice, s)).max(),
            None => None,
        }
        .unwrap_or(1);
        let streaming_bytes = largest * (RESIDENT_BYTES_PER_SITE + 4) + occupancy_words * 4;
        if let Some(available) = host_memory {
            if streaming_bytes > available {
                return Err(GpuError::OutOfMemory {
                    needed: human_bytes(streaming_bytes),
                    detail: format!(
                        "one slab does not fit the {} available",
                        human_bytes(available)
                    ),
                }
                .into());
            }
        }
        let resident_bytes =
            lattice.sites() * RESIDENT_BYTES_PER_SITE + largest * 4 + occupancy_words * 4;
        let mut streaming = engine.force_streaming && slabs.len() > 1;
        if let Some(available) = host_memory {
            streaming |= resident_bytes > available;
        }

        let params_host: Vec<Params> = slabs
            .iter()
            .map(|s| slab_params(lattice, bond, s, engine.block_labelling))
            .collect();
        let params = params_host
            .iter()
            .map(|p| ctx.uniform_with("params", bytemuck::bytes_of(p)))
            .collect();
        let (offsets, vectors) = bond_tables(lattice, bond);
        let bond_offsets = ctx.storage_with("bond offsets", bytemuck::cast_slice(&offsets));
        let bond_vectors = ctx.storage_with("bond vectors", bytemuck::cast_slice(&vectors));
        let pair_laws = ctx.storage_with("pair laws", bytemuck::cast_slice(&pair_laws(bond)));
        let occupancy = ctx.storage("occupancy", occupancy_words);

        // The last run's mask and label buffers serve again when their sizes are the ones this
        // run needs (every stage writes every site before reading it); otherwise they are freed
        // before the new ones are allocated, so the two never coexist on the device.
        let wanted: Vec<u64> = if streaming {
            vec![largest]
        } else {
            slabs.iter().map(|s| s.sites).collect()
        };
        let (masks, labels) = match engine.site_buffers.take(&wanted) {
            Some(buffers) => buffers,
            None => {
                let resident = if streaming {
                    None
                } else {
                    allocate(ctx, slabs.len(), &|s| slabs[s].sites).await.ok()
                };
                let buffers = match resident {
                    Some(buffers) => buffers,
                    None => allocate(ctx, 1, &|_| largest).await.map_err(|detail| {
                        GpuError::OutOfMemory {
                            needed: human_bytes(streaming_bytes),
                            detail,
                        }
                    })?,
                };
                engine.site_buffers.count_allocation();
                buffers
            }
        };
        Ok(Self {
            engine,
            lattice,
            slabs,
            params_host,
            params,
            bond_offsets,
            bond_vectors,
            pair_laws,
            volume,
            occupancy,
            masks,
            labels,
            loaded: Cell::new(None),
            network: Cell::new(Network::Tunnel),
            remap: RefCell::new(None),
        })
    }

    /// Whether slabs share one set of buffers and are recomputed on demand.
    pub fn streaming(&self) -> bool {
        self.masks.len() < self.slabs.len()
    }

    pub fn ctx(&self) -> &Context {
        &self.engine.ctx
    }

    fn pipelines(&self) -> &Pipelines {
        &self.engine.pipelines
    }

    fn slot(&self, s: usize) -> usize {
        if self.streaming() {
            0
        } else {
            s
        }
    }

    /// Slab `s`'s bond masks buffer.
    pub fn masks(&self, s: usize) -> &wgpu::Buffer {
        &self.masks[self.slot(s)]
    }

    /// Slab `s`'s labels buffer.
    pub fn labels(&self, s: usize) -> &wgpu::Buffer {
        &self.labels[self.slot(s)]
    }

    /// Slab `s`'s parameters.
    pub fn params(&self, s: usize) -> &wgpu::Buffer {
        &self.params[s]
    }

    /// Encodes the bond evaluation of slab `s`, with its per-workgroup totals into `partials`.
    fn encode_bonds(&self, encoder: &mut wgpu::CommandEncoder, s: usize, partials: &wgpu::Buffer) {
        let ctx = self.ctx();
        let pipeline = &self.pipelines().evaluate_bonds[self.params_host[s].periodic[3] as usize];
        let bind = ctx.bind(
            pipeline,
            &[
                (0, &self.params[s]),
                (1, &self.bond_offsets),
                (2, &self.bond_vectors),
                (3, &self.pair_laws),
                (4, self.masks(s)),
                (5, partials),
                (6, &self.occupancy),
            ],
        );
        ctx.dispatch_coarse(encoder, Stage::Bonds, pipeline, &bind, self.slabs[s].sites);
    }

    /// Volume mode: writes slab `s`'s packed occupancy, which the next submission's bond pass
    /// reads (queue writes land before later submissions).
    fn upload_occupancy(&self, s: usize) {
        if let Some(volume) = &self.volume {
            let words = pack_occupancy(self.lattice, volume, &self.slabs[s]);
            self.ctx()
                .queue
                .write_buffer(&self.occupancy, 0, bytemuck::cast_slice(&words));
        }
    }

    /// Encodes the labelling of slab `s` (blocks or init, hook, compress).
    fn encode_labels(&self, encoder: &mut wgpu::CommandEncoder, s: usize) {
        let ctx = self.ctx();
        let p = self.pipelines();
        let sites = self.slabs[s].sites;
        let (params, masks, labels) = (&self.params[s], self.masks(s), self.labels(s));
        if self.engine.block_labelling {
            let blocks = self.params_host[s].blocks;
            let count = blocks[0] as u64 * blocks[1] as u64 * blocks[2] as u64;
            let bind = ctx.bind(
                &p.label_blocks,
                &[
                    (0, params),
                    (1, &self.bond_offsets),
                    (4, masks),
                    (6, labels),
                ],
            );
            ctx.dispatch(
                encoder,
                Stage::Labels,
                &p.label_blocks,
                &bind,
                count * WORKGROUP as u64,
            );
        } else {
            let bind = ctx.bind(&p.init_labels, &[(0, params), (6, labels)]);
            ctx.dispatch(encoder, Stage::Labels, &p.init_labels, &bind, sites);
        }
        let bind = ctx.bind(
            &p.hook_bonds,
            &[
                (0, params),
                (1, &self.bond_offsets),
                (4, masks),
                (6, labels),
            ],
        );
        ctx.dispatch(encoder, Stage::Labels, &p.hook_bonds, &bind, sites);
        let bind = ctx.bind(&p.compress_labels, &[(0, params), (6, labels)]);
        ctx.dispatch(encoder, Stage::Labels, &p.compress_labels, &bind, sites);
    }

    /// Encodes the current remap table (if any) on slab `s`.
    fn encode_remap(&self, encoder: &mut wgpu::CommandEncoder, s: usize) {
        let remap = self.remap.borrow();
        let Some((list, entries)) = remap.as_ref() else {
            return;
        };
        let ctx = self.ctx();
        let p = self.pipelines();
        let bind = ctx.bind(
            &p.remap_roots,
            &[(0, &self.params[s]), (6, self.labels(s)), (7, list)],
        );
        ctx.dispatch(encoder, Stage::Merge, &p.remap_roots, &bind, *entries);
        let bind = ctx.bind(&p.remap_sites, &[(0, &self.params[s]), (6, self.labels(s))]);
        ctx.dispatch(
            encoder,
            Stage::Merge,
            &p.remap_sites,
            &bind,
            self.slabs[s].sites,
        );
    }

    /// Evaluates every slab's bonds and returns the totals.
    pub async fn evaluate_bonds(&self) -> Result<BondTotals, EngineError> {
        let ctx = self.ctx();
        let mut totals = BondTotals::default();
        for s in 0..self.slabs.len() {
            let groups = coarse_groups(self.slabs[s].sites);
            let partials = ctx.storage("bond partials", groups * 5);
            self.upload_occupancy(s);
            let mut encoder = ctx.encoder();
            self.encode_bonds(&mut encoder, s, &partials);
            ctx.submit_and_wait_async(encoder).await?;
            for w in ctx
                .read_words_async(&partials, 0, groups * 5)
                .await?
                .chunks_exact(5)
            {
                totals.present_sites += w[0] as u64;
                totals.tunnel_bonds += w[1] as u64;
                totals.sc_bonds += w[2] as u64;
                totals.near_threshold_bonds += w[3] as u64;
                totals.gap_sum_ev += f32::from_bits(w[4]) as f64;
            }
        }
        Ok(totals)
    }

    /// Starts labelling `network`: resident runs label every slab now, streaming runs when a
    /// slab is loaded.
    pub async fn label(&self, network: Network) -> Result<(), EngineError> {
        self.network.set(network);
        *self.remap.borrow_mut() = None;
        for (buffer, host) in self.params.iter().zip(&self.params_host) {
            let mut p = *host;
            p.run[0] = network.bits();
            self.ctx()
                .queue
                .write_buffer(buffer, 0, bytemuck::bytes_of(&p));
        }
        if self.streaming() {
            self.loaded.set(None);
            return Ok(());
        }
        let mut encoder = self.ctx().encoder();
        for s in 0..self.slabs.len() {
            self.encode_labels(&mut encoder, s);
        }
        self.ctx().submit_and_wait_async(encoder).await?;
        Ok(())
    }

    /// Makes slab `s`'s masks and (remapped) labels available in its buffers.
    pub async fn load(&self, s: usize) -> Result<(), EngineError> {
        if !self.streaming() || self.loaded.get() == Some(s) {
            return Ok(());
        }
        let ctx = self.ctx();
        let scratch = ctx.storage("bond partials", coarse_groups(self.slabs[s].sites) * 5);
        self.upload_occupancy(s);
        let mut encoder = ctx.encoder();
        self.encode_bonds(&mut encoder, s, &scratch);
        self.encode_labels(&mut encoder, s);
        self.encode_remap(&mut encoder, s);
        ctx.submit_and_wait_async(encoder).await?;
        self.loaded.set(Some(s));
        Ok(())
    }

    /// Sends the (old root, final root) pairs of the joined clusters and applies them: to every
    /// slab now (resident), or to each slab as it is loaded (streaming).
    pub async fn set_remap(&self, remap: &[(u32, u32)]) -> Result<(), EngineError> {
        if remap.is_empty() {
            return Ok(());
        }
        let words = table(remap.iter().flat_map(|&(a, b)| [a, b]), remap.len());
        let list = self
            .ctx()
            .storage_with("remap", bytemuck::cast_slice(&words));
        *self.remap.borrow_mut() = Some((list, remap.len() as u64));
        if self.streaming() {
            self.loaded.set(None);
            return Ok(());
        }
        let mut encoder = self.ctx().encoder();
        for s in 0..self.slabs.len() {
            self.encode_remap(&mut encoder, s);
        }
        self.ctx().submit_and_wait_async(encoder).await?;
        Ok(())
    }

    /// The whole of the masks (`labels == false`) or labels, read back in site order.
    pub async fn read_all(&self, labels: bool) -> Result<Vec<u32>, EngineError> {
        let mut out = Vec::with_capacity(self.lattice.sites() as usize);
        for (s, slab) in self.slabs.iter().enumerate() {
            self.load(s).await?;
            let buffer = if labels {
                self.labels(s)
            } else {
                self.masks(s)
            };
            out.extend(self.ctx().read_words_async(buffer, 0, slab.sites).await?);
        }
        Ok(out)
    }
}

/// Allocates `count` mask and label buffers of `words(s)` words each, or says why the device
/// refused them (its out-of-memory error).
async fn allocate(
    ctx: &Context,
    count: usize,
    words: &dyn Fn(usize) -> u64,
) -> Result<(Vec<wgpu::Buffer>, Vec<wgpu::Buffer>), String> {
    let scope = ctx.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let masks = (0..count)
        .map(|s| ctx.storage("bond masks", words(s)))
        .collect();
    let labels = (0..count)
        .map(|s| ctx.storage("labels", words(s)))
        .collect();
    match scope.pop().await {
        Some(error) => Err(error.to_string()),
        None => Ok((masks, labels)),
    }
}

/// A short description of how a run used the device, for the report's engine field.
pub fn describe(run: &Run<'_>) -> String {
    let slabs = run.slabs.len();
    match (slabs, run.streaming()) {
        (1, _) => String::new(),
        (n, false) => format!(", {n} slabs"),
        (n, true) => format!(", {n} slabs streamed through one slab of device memory"),
    }
}

impl Drop for Run<'_> {
    /// Hands the mask and label buffers back to the engine for its next run of the same shape.
    fn drop(&mut self) {
        let masks = std::mem::take(&mut self.masks);
        let labels = std::mem::take(&mut self.labels);
        self.engine.site_buffers.give(masks, labels);
    }
}

/// The mask and label buffers of an engine's last run, kept for its next run of the same shape
/// (a sweep's points, a threshold study's samples, repeated calls from Python), so the device
/// allocates and zeroes them once. Shared by the siblings of `GpuEngine::with_options`.
#[derive(Default)]
pub struct SiteBuffers {
    kept: std::sync::Mutex<Option<(Vec<wgpu::Buffer>, Vec<wgpu::Buffer>)>>,
    allocations: std::sync::atomic::AtomicU64,
}

impl SiteBuffers {
    /// The kept buffers if their sizes in words are `words` (one per buffer); otherwise none,
    /// and any kept ones are freed.
    fn take(&self, words: &[u64]) -> Option<(Vec<wgpu::Buffer>, Vec<wgpu::Buffer>)> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let fits = |(masks, _): &(Vec<wgpu::Buffer>, Vec<wgpu::Buffer>)| {
            masks.len() == words.len() && masks.iter().zip(words).all(|(b, &w)| b.size() == w * 4)
        };
        match kept.take() {
            Some(buffers) if fits(&buffers) => Some(buffers),
            _ => None,
        }
    }

    /// Keeps `masks` and `labels` for the next run.
    fn give(&self, masks: Vec<wgpu::Buffer>, labels: Vec<wgpu::Buffer>) {
        if !masks.is_empty() {
            *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some((masks, labels));
        }
    }

    fn count_allocation(&self) {
        self.allocations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many times mask and label buffers were allocated (tests check reuse with it).
    pub fn allocations(&self) -> u64 {
        self.allocations.load(std::sync::atomic::Ordering::Relaxed)
    }
}
