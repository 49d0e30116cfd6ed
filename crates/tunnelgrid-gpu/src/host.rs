//! The host's part of a GPU analysis: joining clusters across slabs and periodic faces and
//! summing the clusters so joined, from O(L²) words gathered off the device. Spanning along open
//! axes is found on the device, from face-touch bits gathered at the roots.

use crate::buffers::{coarse_groups, table};
use crate::run::Run;
use crate::timer::Stage;
use std::collections::{HashMap, HashSet};
use tunnelgrid_host::geometry::{for_each_face_site, LayerWalker};
use tunnelgrid_host::sizes::SizeTotals;
use tunnelgrid_host::wrap::{join_periodic_faces, ShiftForest, WrapFlags};
use tunnelgrid_model::Network;
use tunnelgrid_model::{ClusterStats, EngineError};

/// Root flag: the cluster was joined across slabs or periodic faces (summed on the host).
const GLOBAL: u32 = 0x8000_0000;
/// Root flag: a cluster inside one slab that wraps a periodic axis.
const SPANNING: u32 = 0x4000_0000;

/// What the host learns about one labelled network.
pub struct Joined {
    /// (old root, final root) of every cluster joined across slabs or periodic faces, sorted.
    pub remap: Vec<(u32, u32)>,
    /// Wrapping flags of the clusters that wrap a periodic axis, by final root.
    pub wraps: HashMap<u32, WrapFlags>,
}

/// Every site on a face of a periodic axis (for wrapping), sorted.
fn periodic_face_sites(run: &Run<'_>) -> Vec<u32> {
    let lattice = run.lattice;
    let mut sites: HashSet<u32> = HashSet::new();
    for axis in
        (0..lattice.axes()).filter(|&a| lattice.boundary[a] == tunnelgrid_model::Boundary::Periodic)
    {
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

/// Reads (mask, label) of each of the sorted `sites` from whichever slab holds it, in chunks
/// that fit one storage binding, loading only the slabs that hold some of them.
pub(crate) async fn gather(run: &Run<'_>, sites: &[u32]) -> Result<Vec<(u32, u32)>, EngineError> {
    let ctx = run.ctx();
    let p = &run.engine.pipelines;
    let chunk = (ctx.max_words_per_binding() / 2 - 1).max(1) as usize;
    let mut out = Vec::with_capacity(sites.len());
    for part in sites.chunks(chunk) {
        let list = ctx.storage_with(
            "host sites",
            bytemuck::cast_slice(&table(part.iter().copied(), part.len())),
        );
        let gathered = ctx.storage("gathered", 2 * part.len() as u64);
        let (lo, hi) = (
            part[0] as u64,
            *part.last().expect("chunks are not empty") as u64,
        );
        for (s, slab) in run.slabs.iter().enumerate() {
            if slab.first_site > hi || slab.first_site + slab.sites <= lo {
                continue;
            }
            run.load(s).await?;
            let mut encoder = ctx.encoder();
            let bind = ctx.bind(
                &p.gather_sites,
                &[
                    (0, run.params(s)),
                    (4, run.masks(s)),
                    (6, run.labels(s)),
                    (7, &list),
                    (11, &gathered),
                ],
            );
            ctx.dispatch(
                &mut encoder,
                Stage::Merge,
                &p.gather_sites,
                &bind,
                part.len() as u64,
            );
            ctx.submit_and_wait_async(encoder).await?;
        }
        let words = ctx
            .read_words_async(&gathered, 0, 2 * part.len() as u64)
            .await?;
        out.extend(words.chunks_exact(2).map(|w| (w[0], w[1])));
    }
    Ok(out)
}

/// Joins clusters across slab boundaries and periodic faces with the CPU engine's
/// `ShiftForest`. Each slab boundary is read on its own (its two layers), so the host holds
/// O(L²) words whatever the number of slabs.
pub async fn join(run: &Run<'_>, network: Network) -> Result<Joined, EngineError> {
    let lattice = run.lattice;
    let bits = network.bits();
    let layer = lattice.sites_per_layer();
    let mut forest = ShiftForest::default();
    for pair in run.slabs.windows(2) {
        let boundary = pair[1].first_site;
        let first = boundary - layer;
        let sites: Vec<u32> = (first..boundary + layer).map(|s| s as u32).collect();
        let data = gather(run, &sites).await?;
        let at = |site: u64| data[(site - first) as usize];
        let mut walker = LayerWalker::new(lattice, pair[0].first_z + pair[0].layers - 1);
        while let Some(site) = walker.next_site() {
            let mut m = at(site.index).0 & bits;
            while m != 0 {
                let k = (m.trailing_zeros() / 2) as usize;
                m &= m - 1;
                let bond = &lattice.forward_bonds(site.basis)[k];
                if let Some(nb) = lattice.neighbour(site.cell, bond) {
                    if nb.crossing == [0; 3] && nb.site >= boundary {
                        forest.join(at(site.index).1, at(nb.site).1, [0; 3]);
                    }
                }
            }
        }
    }
    let faces = periodic_face_sites(run);
    if !faces.is_empty() {
        let face_data: HashMap<u64, (u32, u32)> = faces
            .iter()
            .map(|&s| s as u64)
            .zip(gather(run, &faces).await?)
            .collect();
        join_periodic_faces(
            lattice,
            bits,
            |site| face_data[&site].0,
            |site| face_data[&site].1,
            &mut forest,
        );
    }
    let remap = forest.remap();
    let wraps = forest.wraps().clone();
    Ok(Joined { remap, wraps })
}

/// Axes (as flags) along which face-touch bits (2a low, 2a + 1 high) hold both faces.
fn spanned_axes(bits: u32) -> [bool; 3] {
    std::array::from_fn(|a| bits >> (2 * a) & 3 == 3)
}

/// Cluster sizes and the statistics of MODEL.md §6 for remapped labels: clusters inside one slab
/// are reduced on the device, clusters joined across slabs are summed here.
pub async fn cluster_stats(run: &Run<'_>, joined: &Joined) -> Result<ClusterStats, EngineError> {
    let ctx = run.ctx();
    let p = &run.engine.pipelines;
    let mut globals: Vec<u32> = joined.remap.iter().map(|&(_, root)| root).collect();
    globals.sort_unstable();
    globals.dedup();
    let mut marks: Vec<(u32, u32)> = globals.iter().map(|&g| (g, GLOBAL)).collect();
    marks.extend(
        joined
            .wraps
            .keys()
            .filter(|r| globals.binary_search(r).is_err())
            .map(|&r| (r, SPANNING)),
    );
    let marks_table = ctx.storage_with(
        "marks",
        bytemuck::cast_slice(&table(marks.iter().flat_map(|&(r, f)| [r, f]), marks.len())),
    );
    let globals_table = ctx.storage_with(
        "global roots",
        bytemuck::cast_slice(&table(globals.iter().copied(), globals.len())),
    );
    let global_counts = ctx.storage("global counts", globals.len() as u64);
    let global_faces = ctx.storage("global faces", globals.len() as u64);
    let largest_slab = run.slabs.iter().map(|s| s.sites).max().unwrap_or(0);
    let sizes = ctx.storage("sizes", largest_slab);
    let faces = ctx.storage("faces", largest_slab);
    let partials = ctx.storage("size partials", coarse_groups(largest_slab) * 8);
    let mut spans = [false; 3];

    let mut totals = SizeTotals::default();
    for (s, slab) in run.slabs.iter().enumerate() {
        run.load(s).await?;
        let (params, masks, labels) = (run.params(s), run.masks(s), run.labels(s));
        let mut encoder = ctx.encoder();
        encoder.clear_buffer(&sizes, 0, None);
        encoder.clear_buffer(&faces, 0, None);
        let bind = ctx.bind(
            &p.mark_roots,
            &[(0, params), (7, &marks_table), (8, &sizes)],
        );
        ctx.dispatch(
            &mut encoder,
            Stage::Stats,
            &p.mark_roots,
            &bind,
            marks.len() as u64,
        );
        let bind = ctx.bind(
            &p.count_sites,
            &[
                (0, params),
                (4, masks),
                (6, labels),
                (7, &globals_table),
                (8, &sizes),
                (9, &global_counts),
                (12, &faces),
                (13, &global_faces),
            ],
        );
        ctx.dispatch_coarse(
            &mut encoder,
            Stage::Stats,
            &p.count_sites,
            &bind,
            slab.sites,
        );
        let bind = ctx.bind(
            &p.reduce_sizes,
            &[(0, params), (8, &sizes), (10, &partials), (12, &faces)],
        );
        ctx.dispatch_coarse(
            &mut encoder,
            Stage::Stats,
            &p.reduce_sizes,
            &bind,
            slab.sites,
        );
        let bind = ctx.bind(
            &p.gather_globals,
            &[
                (0, params),
                (7, &globals_table),
                (8, &sizes),
                (9, &global_counts),
                (12, &faces),
                (13, &global_faces),
            ],
        );
        ctx.dispatch(
            &mut encoder,
            Stage::Stats,
            &p.gather_globals,
            &bind,
            globals.len() as u64,
        );
        ctx.submit_and_wait_async(encoder).await?;
        for w in ctx
            .read_words_async(&partials, 0, coarse_groups(slab.sites) * 8)
            .await?
            .chunks_exact(8)
        {
            totals.clusters += w[0] as u64;
            totals.singletons += w[1] as u64;
            totals.largest = totals.largest.max(w[2] as u64);
            totals.finite_sum += w[3] as u64 | (w[4] as u64) << 32;
            totals.finite_sum2 += (w[5] as u64 | (w[6] as u64) << 32) as u128;
            for (a, span) in spans.iter_mut().enumerate() {
                *span |= w[7] >> a & 1 == 1;
            }
        }
    }
    // Wrapping clusters (periodic axes) and the clusters joined across slabs (open axes, from
    // their face bits summed over the slabs).
    let wrapping = |root: &u32| joined.wraps.get(root).copied().unwrap_or_default();
    for flags in joined.wraps.values() {
        for (span, &wraps) in spans.iter_mut().zip(flags) {
            *span |= wraps;
        }
    }
    let counts = ctx
        .read_words_async(&global_counts, 0, globals.len() as u64)
        .await?;
    let face_bits = ctx
        .read_words_async(&global_faces, 0, globals.len() as u64)
        .await?;
    for ((root, &count), &bits) in globals.iter().zip(&counts).zip(&face_bits) {
        if count > 0 {
            let open = spanned_axes(bits);
            let wraps = wrapping(root);
            let spanning: Vec<bool> = (0..3).map(|a| open[a] || wraps[a]).collect();
            for (span, &s) in spans.iter_mut().zip(&spanning) {
                *span |= s;
            }
            totals.add_cluster(count as u64, !spanning.iter().any(|&s| s));
        }
    }
    Ok(totals.stats(run.lattice, &spans))
}
