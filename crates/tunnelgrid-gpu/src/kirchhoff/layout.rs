//! Where the GPU solver keeps the network of an `AxisStencil`: z slabs with one halo layer on
//! each side, and one *cluster block* for the contracted superconducting clusters.
//!
//! *Slabs.* The lattice is cut into z slabs as in the GPU engine (params::plan_slabs), each small
//! enough that its largest vector (the conductances, K f32 per site) fits one storage binding.
//! Every per-slab vector is a *window*: the layer below the slab, the slab's layers, the layer
//! above (wrapped where z is periodic; absent at an open face, so a 2D lattice or a whole open
//! lattice in one slab has no halo at all). Bonds reach one layer at most, so the stencil of any
//! site of the slab reads only its window. The halo layers of the search
//! direction are refreshed from the neighbouring slabs after every iteration (`halo_copies`);
//! the node codes and conductances in the halos are static and uploaded once.
//!
//! *Node codes.* A site's code says where its node's unknown lives: `SELF` (a free node of one
//! site: its own window entry), a cluster index c (a contracted free node: entry c of the cluster
//! block, wherever its members are), or `NOT_FREE` (an electrode, or no node). A cluster's row
//! is the sum of its members' partial rows: each slab sums its members of each cluster in
//! *segments* of at most `SEGMENT_MEMBERS` sites, one workgroup each, and one pass adds each
//! cluster's segment sums in a fixed order. Exact, no float atomics, and balanced however large
//! a cluster is.

use crate::params::{plan_slabs, Slab};
use tunnelgrid_host::stencil::{AxisStencil, NodeRole, NO_NODE};
use tunnelgrid_model::{Boundary, Lattice};

/// Node code of a site with no free node (electrode, pruned, absent).
pub const NOT_FREE: u32 = u32::MAX;
/// Node code of a free node of one site.
pub const SELF: u32 = u32::MAX - 1;
/// Most member sites one workgroup sums (256 invocations × 64).
pub const SEGMENT_MEMBERS: usize = 256 * 64;

/// One slab's share of the network.
#[derive(Debug, Clone)]
pub struct SlabLayout {
    /// The slab's layers.
    pub slab: Slab,
    /// Sites per layer (a halo's length).
    pub layer: u64,
    /// Window entry of the slab's first site: one layer when there is a halo below, else 0.
    pub first: u64,
    /// Per window site: its node code.
    pub codes: Vec<u32>,
    /// Per window site and forward bond k, at `site·K + k`: the f32 conductance.
    pub conductance: Vec<f32>,
    /// Window indices of the slab's cluster members, grouped by segment.
    pub members: Vec<u32>,
    /// Per segment: (end of its members in `members`, slot of its sum in the segment sums);
    /// a segment starts where the previous one ends.
    pub segments: Vec<[u32; 2]>,
}

/// The whole layout of one solve.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Per site of the lattice: its node code.
    pub codes: Vec<u32>,
    /// The slabs in z order.
    pub slabs: Vec<SlabLayout>,
    /// Per contracted cluster c: its representative site (the stencil's cluster order).
    pub representatives: Vec<u32>,
    /// Cluster c's segment sums are slots `cluster_segments[c]..cluster_segments[c + 1]`.
    pub cluster_segments: Vec<u32>,
}

/// Whether z wraps (never for a 2D lattice).
fn z_periodic(lattice: &Lattice) -> bool {
    lattice.boundary[2] == Boundary::Periodic && !lattice.kind.is_2d()
}

/// Layers of the window of one slab holding the whole lattice: with its two halos where z wraps.
pub fn whole_window_layers(lattice: &Lattice) -> u64 {
    lattice.cells[2] as u64 + if z_periodic(lattice) { 2 } else { 0 }
}

/// The most z layers per slab such that every window vector of `per_site` words per site fits
/// `max_words`: the whole lattice when it fits in one window, else slabs with two halos each;
/// `None` when not even one layer with its halos does.
pub fn layers_per_slab(lattice: &Lattice, per_site: u64, max_words: u64) -> Option<u32> {
    let layer_words = lattice.sites_per_layer() * per_site;
    if whole_window_layers(lattice) * layer_words <= max_words {
        return Some(lattice.cells[2]);
    }
    let fit = (max_words / layer_words).checked_sub(2)?;
    (fit >= 1).then(|| fit.min(u32::MAX as u64) as u32)
}

/// The global z layer of window layer `j` of `slab` (j = 0 is the halo below), or `None` at an
/// open face.
pub fn window_layer(lattice: &Lattice, slab: &Slab, j: u32) -> Option<u32> {
    let nz = lattice.cells[2] as i64;
    let z = slab.first_z as i64 + j as i64 - 1;
    if (0..nz).contains(&z) {
        Some(z as u32)
    } else if z_periodic(lattice) {
        Some(z.rem_euclid(nz) as u32)
    } else {
        None
    }
}

/// Window entry of the first site of `slab`: one layer when it has a halo below, else 0.
pub fn window_first(lattice: &Lattice, slab: &Slab) -> u64 {
    match window_layer(lattice, slab, 0) {
        Some(_) => lattice.sites_per_layer(),
        None => 0,
    }
}

/// `global` (site space, `per_site` entries per site) cut to the window of `slab`.
pub fn window<T: Copy, U>(
    lattice: &Lattice,
    slab: &Slab,
    global: &[T],
    per_site: usize,
    convert: impl Fn(T) -> U,
) -> Vec<U> {
    let layer = lattice.sites_per_layer() as usize * per_site;
    (0..slab.layers + 2)
        .filter_map(|j| window_layer(lattice, slab, j))
        .flat_map(|z| global[z as usize * layer..(z as usize + 1) * layer].iter())
        .map(|&v| convert(v))
        .collect()
}

/// Per site: its node code (`SELF`, a cluster index, or `NOT_FREE`).
pub fn node_codes(stencil: &AxisStencil) -> Vec<u32> {
    let mut codes: Vec<u32> = stencil
        .node
        .iter()
        .map(|&rep| {
            if rep != NO_NODE && stencil.role(rep) == Some(NodeRole::Free) {
                SELF
            } else {
                NOT_FREE
            }
        })
        .collect();
    for c in 0..stencil.clusters() {
        for &m in cluster(stencil, c) {
            codes[m as usize] = c as u32;
        }
    }
    codes
}

/// Member sites of contracted cluster `c`, ascending.
fn cluster(stencil: &AxisStencil, c: usize) -> &[u32] {
    &stencil.cluster_members
        [stencil.cluster_start[c] as usize..stencil.cluster_start[c + 1] as usize]
}

impl Layout {
    /// The layout of `stencil` in slabs of at most `layers` z layers.
    pub fn new(stencil: &AxisStencil, layers: u32) -> Self {
        Self::with_segments(stencil, layers, SEGMENT_MEMBERS)
    }

    /// As `new`, with segments of at most `segment_members` sites.
    fn with_segments(stencil: &AxisStencil, layers: u32, segment_members: usize) -> Self {
        let lattice = &stencil.lattice;
        let k_count = stencil.bonds_per_site;
        let codes = node_codes(stencil);
        let slabs = plan_slabs(lattice, layers);
        let layer = lattice.sites_per_layer();
        // Segments per (slab, cluster): members of cluster c in slab i, in chunks.
        let clusters = stencil.clusters();
        let mut per_slab: Vec<Vec<(u32, Vec<u32>)>> = vec![Vec::new(); slabs.len()];
        for c in 0..clusters {
            let members = cluster(stencil, c);
            for (i, slab) in slabs.iter().enumerate() {
                let end = slab.first_site + slab.sites;
                let lo = members.partition_point(|&m| (m as u64) < slab.first_site);
                let hi = members.partition_point(|&m| (m as u64) < end);
                let first = window_first(lattice, slab);
                for chunk in members[lo..hi].chunks(segment_members) {
                    let local = chunk
                        .iter()
                        .map(|&m| (m as u64 - slab.first_site + first) as u32)
                        .collect();
                    per_slab[i].push((c as u32, local));
                }
            }
        }
        // Slots ordered by cluster, then slab, then chunk: each cluster's sums are contiguous.
        let mut cluster_segments = vec![0u32; clusters + 1];
        for segments in &per_slab {
            for (c, _) in segments {
                cluster_segments[*c as usize + 1] += 1;
            }
        }
        for c in 0..clusters {
            cluster_segments[c + 1] += cluster_segments[c];
        }
        let mut next_slot = cluster_segments.clone();
        let slabs = slabs
            .iter()
            .zip(per_slab)
            .map(|(slab, segments_of)| {
                let mut members = Vec::new();
                let mut segments = Vec::with_capacity(segments_of.len());
                for (c, local) in segments_of {
                    members.extend(local);
                    let slot = &mut next_slot[c as usize];
                    segments.push([members.len() as u32, *slot]);
                    *slot += 1;
                }
                SlabLayout {
                    slab: *slab,
                    layer,
                    first: window_first(lattice, slab),
                    codes: window(lattice, slab, &codes, 1, |c| c),
                    conductance: window(lattice, slab, &stencil.conductance, k_count, |g| g as f32),
                    members,
                    segments,
                }
            })
            .collect();
        Self {
            codes,
            slabs,
            representatives: (0..clusters).map(|c| cluster(stencil, c)[0]).collect(),
            cluster_segments,
        }
    }

    /// Frees the per-slab tables (codes, conductances, members, segments) once they are on the
    /// device: the solve never reads them again, and they hold (8 + 4K) bytes per site.
    pub fn release_tables(&mut self) {
        for slab in &mut self.slabs {
            slab.codes = Vec::new();
            slab.conductance = Vec::new();
            slab.members = Vec::new();
            slab.segments = Vec::new();
        }
    }

    /// Total segments (slots of segment sums).
    pub fn segment_count(&self) -> u64 {
        *self.cluster_segments.last().expect("one entry") as u64
    }
}

/// One halo refresh: copy `layer` entries from window `from.0` at entry `from.1` to window
/// `to.0` at entry `to.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HaloCopy {
    /// (slab, first entry) read.
    pub from: (usize, u64),
    /// (slab, first entry) written.
    pub to: (usize, u64),
}

/// The copies that refresh every slab's halo layers from the slabs that own those layers.
pub fn halo_copies(lattice: &Lattice, slabs: &[Slab]) -> Vec<HaloCopy> {
    let layer = lattice.sites_per_layer();
    let owner = |z: u32| {
        slabs
            .iter()
            .position(|s| (s.first_z..s.first_z + s.layers).contains(&z))
            .expect("every layer is in a slab")
    };
    let mut copies = Vec::new();
    for (i, slab) in slabs.iter().enumerate() {
        // The halo below is the window's start, the halo above follows the slab's sites.
        let below = (0, 0);
        let above = (slab.layers + 1, window_first(lattice, slab) + slab.sites);
        for (j, to) in [below, above] {
            if let Some(z) = window_layer(lattice, slab, j) {
                let o = owner(z);
                let from = window_first(lattice, &slabs[o]) + (z - slabs[o].first_z) as u64 * layer;
                copies.push(HaloCopy {
                    from: (o, from),
                    to: (i, to),
                });
            }
        }
    }
    copies
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lattice(boundary: Boundary) -> Lattice {
        Lattice::sc_with_connectivity([3, 2, 5], [boundary; 3], 6)
    }

    /// Sites of layers `from..to` of the 3 × 2 × 5 test lattice (6 sites a layer).
    fn layers(from: u32, to: u32) -> Vec<u32> {
        (from * 6..to * 6).collect()
    }

    #[test]
    fn windows_hold_the_layer_below_the_slab_and_the_layer_above_where_they_exist() {
        let global: Vec<u32> = (0..30).collect();
        let open = lattice(Boundary::Open);
        let periodic = lattice(Boundary::Periodic);
        let slabs = plan_slabs(&open, 2);
        let cat = |parts: &[Vec<u32>]| parts.concat();
        // First slab (layers 0, 1): nothing below an open face, layer 4 below where z wraps.
        let w = window(&open, &slabs[0], &global, 1, |v| v);
        assert_eq!((w, window_first(&open, &slabs[0])), (layers(0, 3), 0));
        let w = window(&periodic, &slabs[0], &global, 1, |v| v);
        let want = cat(&[layers(4, 5), layers(0, 3)]);
        assert_eq!((w, window_first(&periodic, &slabs[0])), (want, 6));
        // Middle slab (layers 2, 3): a halo on each side.
        let w = window(&open, &slabs[1], &global, 1, |v| v);
        assert_eq!((w, window_first(&open, &slabs[1])), (layers(1, 5), 6));
        // Last slab (layer 4): nothing above an open face, layer 0 above where z wraps.
        let w = window(&open, &slabs[2], &global, 1, |v| v);
        assert_eq!(w, layers(3, 5));
        let w = window(&periodic, &slabs[2], &global, 1, |v| v);
        assert_eq!(w, cat(&[layers(3, 5), layers(0, 1)]));
        // Two values per site: each site's pair stays together.
        let pairs: Vec<u32> = (0..60).collect();
        let w = window(&open, &slabs[2], &pairs, 2, |v| v);
        assert_eq!(w, (36..60).collect::<Vec<_>>());
        // One slab of an open lattice, and a 2D lattice: no halo at all.
        let whole = plan_slabs(&open, 5);
        assert_eq!(window(&open, &whole[0], &global, 1, |v| v), layers(0, 5));
        let square = Lattice::new(
            tunnelgrid_model::LatticeKind::Square,
            [6, 5, 1],
            [Boundary::Periodic; 3],
        );
        let slab = plan_slabs(&square, 1)[0];
        assert_eq!(window(&square, &slab, &global, 1, |v| v), layers(0, 5));
        assert_eq!(window_first(&square, &slab), 0);
    }

    #[test]
    fn halo_copies_bring_each_halo_layer_from_its_owner() {
        for boundary in [Boundary::Open, Boundary::Periodic] {
            let l = lattice(boundary);
            for thickness in [1, 2, 5] {
                let slabs = plan_slabs(&l, thickness);
                let global: Vec<u32> = (0..30).collect();
                let windows: Vec<Vec<u32>> = slabs
                    .iter()
                    .map(|s| window(&l, s, &global, 1, |v| v))
                    .collect();
                // Start from windows whose halos are blank and apply the copies.
                let mut refreshed = windows.clone();
                for (w, slab) in refreshed.iter_mut().zip(&slabs) {
                    let first = window_first(&l, slab) as usize;
                    w[..first].fill(u32::MAX);
                    w[first + slab.sites as usize..].fill(u32::MAX);
                }
                for copy in halo_copies(&l, &slabs) {
                    let source = refreshed[copy.from.0].clone();
                    let (from, to) = (copy.from.1 as usize, copy.to.1 as usize);
                    refreshed[copy.to.0][to..to + 6].copy_from_slice(&source[from..from + 6]);
                }
                assert_eq!(refreshed, windows, "{boundary:?}, slabs of {thickness}");
            }
        }
    }

    #[test]
    fn segments_cover_every_cluster_member_once_with_contiguous_slots() {
        use tunnelgrid_model::{BondParams, Conditions, LatticeKind, Model};
        let mut material = tunnelgrid_model::presets::preset("default").unwrap();
        material.lattice.kind = LatticeKind::Sc;
        material.lattice.cells = [10, 10, 9];
        material.lattice.boundary = [Boundary::Open, Boundary::Open, Boundary::Periodic];
        let model = Model::new(material).unwrap();
        let conditions = Conditions {
            pressure_gpa: 150.0,
            temperature_k: 300.0,
            seed: 5,
            p: 0.5,
        };
        let params = BondParams::new(&model.material, &model.lattice, &conditions);
        let masks = tunnelgrid_model::Engine::bond_masks(
            &tunnelgrid_cpu::CpuEngine::default(),
            &model,
            &conditions,
        )
        .unwrap()
        .masks;
        let stencil = tunnelgrid_host::stencil::axis_stencil(
            &model.lattice,
            &params,
            &masks,
            None,
            0,
            &Default::default(),
        )
        .unwrap();
        let largest = (0..stencil.clusters())
            .map(|c| cluster(&stencil, c).len())
            .max()
            .unwrap();
        assert!(largest >= 6, "a cluster of {largest} sites");
        for (layers, chunk) in [(9, SEGMENT_MEMBERS), (2, 3), (1, 2)] {
            let layout = Layout::with_segments(&stencil, layers, chunk);
            // Per slot: the global sites its segment sums.
            let mut slots = vec![Vec::new(); layout.segment_count() as usize];
            for s in &layout.slabs {
                let mut first = 0;
                for &[end, slot] in &s.segments {
                    assert!((1..=chunk).contains(&(end as usize - first)));
                    slots[slot as usize] = s.members[first..end as usize]
                        .iter()
                        .map(|&m| m - s.layer as u32 + s.slab.first_site as u32)
                        .collect::<Vec<_>>();
                    first = end as usize;
                }
                assert_eq!(first, s.members.len());
            }
            for c in 0..stencil.clusters() {
                let range = layout.cluster_segments[c]..layout.cluster_segments[c + 1];
                let summed: Vec<u32> = range
                    .flat_map(|slot| slots[slot as usize].clone())
                    .collect();
                assert_eq!(summed, cluster(&stencil, c), "cluster {c}, {layers} layers");
                assert_eq!(layout.representatives[c], cluster(&stencil, c)[0]);
                for &m in cluster(&stencil, c) {
                    assert_eq!(layout.codes[m as usize], c as u32);
                }
            }
        }
    }

    #[test]
    fn slabs_are_as_thick_as_the_binding_allows_and_no_thinner_than_one_layer() {
        let l = Lattice::sc_with_connectivity([10, 10, 100], [Boundary::Open; 3], 6);
        // 3 words per site, 300 words per layer: 10 layers of window, 8 inside.
        assert_eq!(layers_per_slab(&l, 3, 3000), Some(8));
        assert_eq!(layers_per_slab(&l, 3, 899), None);
        assert_eq!(layers_per_slab(&l, 3, 900), Some(1));
        // The whole open lattice in one window needs no halo; a periodic one needs two.
        assert_eq!(layers_per_slab(&l, 3, 30_000), Some(100));
        let p = Lattice::sc_with_connectivity([10, 10, 100], [Boundary::Periodic; 3], 6);
        assert_eq!(layers_per_slab(&p, 3, 30_000), Some(98));
        assert_eq!(layers_per_slab(&p, 3, 30_600), Some(100));
        // A 2D lattice is one layer without halos.
        let square = Lattice::new(
            tunnelgrid_model::LatticeKind::Square,
            [10, 10, 1],
            [Boundary::Periodic; 3],
        );
        assert_eq!(layers_per_slab(&square, 2, 200), Some(1));
        assert_eq!(layers_per_slab(&square, 2, 199), None);
    }
}
