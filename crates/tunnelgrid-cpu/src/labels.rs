//! Connected-component labelling of the tunnel or superconducting network by union-find
//! (CPU twin of `shaders/labels.wgsl`; the GPU's slab merge is `shaders/remap.wgsl`).
//!
//! Every label is the smallest site index of its cluster, whatever the slab count, because every
//! union links the larger root under the smaller one. That makes parent pointers always point to
//! smaller indices, which the passes below rely on:
//! 1. *local* (parallel over z-slabs): each slab unions the bonds that stay inside it, leaving
//!    a forest whose parents lie in the slab (site and volume modes: runs, see `runs.rs`);
//! 2. *merge* (sequential, O(faces)): bonds from the last layer of a slab into the next are
//!    unioned over the whole array; every node whose parent changes is remembered;
//! 3. *resolve* (sequential, O(faces)): those nodes, ascending, get their final root;
//! 4. *flatten* (parallel over slabs, one ascending sweep): a node whose parent is inside its
//!    slab takes its parent's parent, which the sweep has already made final; any other node
//!    was resolved in step 3. This is the only full pass after step 1. On open lattices the
//!    sweep can number the clusters 1..n instead (`number_network`, `numbering.rs`);
//! 5. *wrap* (only with periodic axes, O(faces)): bonds that cross a periodic boundary join
//!    clusters with displacement tracking, see `wrap.rs`.

use crate::geometry::{LayerWalker, NeighbourSteps, SiteRef};
use crate::numbering::RootBits;
use crate::wrap::{join_periodic_faces, ShiftForest, WrapFlags};
use rayon::prelude::*;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::Ordering::Relaxed;
use tunnelgrid_host::atomic_view::as_atomic;
pub use tunnelgrid_model::network::Network;
use tunnelgrid_model::params::PRESENT_BIT;
use tunnelgrid_model::{Boundary, Lattice};

/// Labels every site with the smallest site index of its cluster (absent sites are their own
/// cluster) and returns the wrapping flags of clusters that wrap a periodic axis.
///
/// `slabs` is the number of z-slabs labelled in parallel (clamped to [1, nz]).
pub fn label_clusters(
    lattice: &Lattice,
    masks: &[u32],
    network: Network,
    slabs: usize,
    labels: &mut [u32],
) -> HashMap<u32, WrapFlags> {
    assert_eq!(masks.len(), labels.len());
    let source = MaskBonds {
        masks,
        bits: network.bits(),
    };
    let (wraps, _) = label_network(lattice, &source, slabs, labels, |zs, chunk, base| {
        label_slab(lattice, &source, zs, chunk, base);
        0
    });
    wraps
}

/// Where a labelling reads the bonds of a site: a bond mask array, or (site and volume modes)
/// the site occupancy itself, so that no bond-mask pass is needed when nothing asks for masks.
pub(crate) trait BondSource: Sync {
    /// The site's forward bonds of the network being labelled, as bits 2k or 2k + 1 for
    /// forward bond k (only `trailing_zeros / 2` is read), periodic crossings included.
    fn forward_bonds(&self, lattice: &Lattice, steps: &NeighbourSteps, site: &SiteRef) -> u32;

    /// The same bits for a site on a periodic face, where only the index is at hand.
    fn face_bonds(&self, lattice: &Lattice, site: u64) -> u32;

    /// Calls `join(site, neighbour)` for bonds from layer `z` into the layers above it (the
    /// merge across a slab face): every such bond, or (a source that knows its clusters' shape)
    /// enough of them to connect the same clusters.
    fn joins_across_layer(
        &self,
        lattice: &Lattice,
        steps: &NeighbourSteps,
        z: u32,
        mut join: impl FnMut(u64, u64),
    ) {
        let above = (z as u64 + 1) * lattice.sites_per_layer();
        for_each_bond_in_layer(lattice, steps, self, z, |site, nb| {
            if nb >= above {
                join(site, nb);
            }
        });
    }
}

/// The bonds of one network in a bond mask array.
struct MaskBonds<'a> {
    masks: &'a [u32],
    bits: u32,
}

impl BondSource for MaskBonds<'_> {
    #[inline(always)]
    fn forward_bonds(&self, _: &Lattice, _: &NeighbourSteps, site: &SiteRef) -> u32 {
        self.masks[site.index as usize] & self.bits
    }

    fn face_bonds(&self, _: &Lattice, site: u64) -> u32 {
        self.masks[site as usize] & self.bits
    }
}

/// The passes of the module documentation over any bond source. `local(zs, chunk, base)` is
/// pass 1 for one slab: it leaves every site of `chunk` (sites `base..`) pointing at itself or a
/// smaller index of the slab in its cluster, and returns a count the caller wants summed over
/// slabs (the occupancy path counts bonds there).
pub(crate) fn label_network<S: BondSource>(
    lattice: &Lattice,
    source: &S,
    slabs: usize,
    labels: &mut [u32],
    local: impl Fn(Range<u32>, &mut [u32], u32) -> u64 + Sync,
) -> (HashMap<u32, WrapFlags>, u64) {
    let merged = label_and_merge(lattice, source, slabs, labels, local);
    let counted = merged.local.iter().sum();

    // 4. flatten
    merged
        .slabs
        .split(labels)
        .into_par_iter()
        .for_each(|(lo, chunk)| {
            for i in 0..chunk.len() {
                let parent = chunk[i] as usize;
                if parent >= lo {
                    chunk[i] = chunk[parent - lo];
                }
            }
        });

    // 5. wrap
    let wraps = if (0..lattice.axes()).any(|a| lattice.boundary[a] == Boundary::Periodic) {
        join_periodic_bonds_of(lattice, |site| source.face_bonds(lattice, site), labels)
    } else {
        HashMap::new()
    };
    (wraps, counted)
}

/// `label_network` with the clusters numbered 1, 2, …, n in the order of their first site and
/// absent sites 0 (`numbering.rs`) instead of named by their root: pass 4 numbers as it
/// flattens, so the numbering costs no pass of its own over the labels. `local` is pass 1 as
/// for `label_network` that also returns the roots of its slab's forest; `present` holds the
/// presence bits (bit s % 64 of word s / 64 is site s). Returns n.
///
/// Open lattices only: a bond across a periodic face would join clusters after pass 4 (pass 5),
/// and a cluster's number depends on its first site.
pub(crate) fn number_network<S: BondSource>(
    lattice: &Lattice,
    source: &S,
    present: &[u64],
    slabs: usize,
    labels: &mut [u32],
    local: impl Fn(Range<u32>, &mut [u32], u32) -> RootBits + Sync,
) -> u32 {
    assert!(
        lattice.boundary.iter().all(|&b| b == Boundary::Open),
        "numbering while labelling needs open boundaries"
    );
    let merged = label_and_merge(lattice, source, slabs, labels, local);
    crate::numbering::number_slabs(
        merged.slabs.split(labels),
        merged.local,
        &merged.changed,
        &merged.linked,
        present,
    )
}

/// What pass 1 tells of the roots of its slab-local forest: nothing (`()`, the labelling by
/// roots), or every root (`RootBits`, one bit per site), which the numbering reads to count and
/// rank the clusters of a slab without reading its labels. Offsets are from the slab's first
/// site.
pub(crate) trait SlabRoots {
    /// Whether pass 1 labels for the numbering: absent sites are labelled 0 instead of
    /// pointing at themselves (their number, written while pass 1 writes every label anyway;
    /// nothing before the numbering reads an absent site's label), and the bonds are not
    /// counted (pass 1 by runs counts them on the side).
    const NUMBERING: bool;

    /// The label pass 1 by bonds starts `site` (at `offset`) with: the site itself, or 0 for
    /// an absent site when numbering.
    #[inline(always)]
    fn first_label(&self, _offset: usize, site: u32) -> u32 {
        site
    }

    /// The runs of present sites of `row` (bit i: site `offset` + i) start there, and each
    /// run's first site is a root.
    fn add_runs(&mut self, offset: usize, row: &[u64]);
    /// The root at `offset` was linked under another.
    fn remove(&mut self, offset: usize);
}

/// No account of the roots.
impl SlabRoots for () {
    const NUMBERING: bool = false;

    #[inline(always)]
    fn add_runs(&mut self, _: usize, _: &[u64]) {}
    #[inline(always)]
    fn remove(&mut self, _: usize) {}
}

/// What passes 1 to 3 leave for pass 4.
struct Merged<L> {
    /// The slabs labelled.
    slabs: Slabs,
    /// What `local` returned for each slab.
    local: Vec<L>,
    /// The nodes whose parent the merge changed, ascending, each pointing at its final root
    /// (every other site points at itself or at a smaller index of its slab).
    changed: Vec<u32>,
    /// The roots of slab forests that the merge linked under another root.
    linked: Vec<u32>,
}

/// Passes 1 (local, in parallel over slabs), 2 (merge) and 3 (resolve).
fn label_and_merge<S: BondSource, L: Send>(
    lattice: &Lattice,
    source: &S,
    slabs: usize,
    labels: &mut [u32],
    local: impl Fn(Range<u32>, &mut [u32], u32) -> L + Sync,
) -> Merged<L> {
    assert_eq!(labels.len() as u64, lattice.sites());
    let steps = NeighbourSteps::new(lattice);
    let slabs = Slabs::new(lattice, slabs);

    // 1. local
    let local: Vec<L> = slabs
        .split(labels)
        .into_par_iter()
        .zip(slabs.ranges.par_iter())
        .map(|((base, chunk), zs)| local(zs.clone(), chunk, base as u32))
        .collect();

    // 2. merge and 3. resolve
    let (mut changed, mut linked) = (Vec::new(), Vec::new());
    for r in slabs
        .ranges
        .iter()
        .take(slabs.ranges.len().saturating_sub(1))
    {
        source.joins_across_layer(lattice, &steps, r.end - 1, |site, nb| {
            union_recording(labels, site as u32, nb as u32, &mut changed, &mut linked);
        });
    }
    changed.sort_unstable();
    changed.dedup();
    for &node in &changed {
        labels[node as usize] = root(labels, node);
    }
    Merged {
        slabs,
        local,
        changed,
        linked,
    }
}

/// The z-slabs of one labelling: contiguous ranges of layers, each a contiguous range of sites.
struct Slabs {
    /// The layers of each slab.
    ranges: Vec<Range<u32>>,
    /// Sites per layer.
    layer: usize,
}

impl Slabs {
    /// At most `slabs` near-equal slabs of `lattice`'s layers.
    fn new(lattice: &Lattice, slabs: usize) -> Self {
        Self {
            ranges: slab_layers(lattice.cells[2], slabs),
            layer: lattice.sites_per_layer() as usize,
        }
    }

    /// Each slab's first site and its part of the per-site array `labels`.
    fn split<'a>(&self, labels: &'a mut [u32]) -> Vec<(usize, &'a mut [u32])> {
        let mut parts = Vec::with_capacity(self.ranges.len());
        let mut rest = labels;
        let mut first = 0;
        for r in &self.ranges {
            let len = (r.end - r.start) as usize * self.layer;
            let (head, tail) = rest.split_at_mut(len);
            parts.push((first, head));
            first += len;
            rest = tail;
        }
        parts
    }
}

/// Splits `nz` layers into at most `slabs` contiguous, near-equal ranges.
pub fn slab_layers(nz: u32, slabs: usize) -> Vec<Range<u32>> {
    let count = slabs.clamp(1, nz as usize) as u32;
    (0..count)
        .map(|s| (s * nz / count)..((s + 1) * nz / count))
        .collect()
}

/// Labels one slab of layers `zs` from a bond mask array; `chunk` holds its sites' labels.
fn label_slab(lattice: &Lattice, source: &MaskBonds, zs: Range<u32>, chunk: &mut [u32], base: u32) {
    // The raster scan looks back along −x, −y, −z only: not for a volume's 18/26 connectivity.
    if lattice.basis_len() == 1 && lattice.max_forward_bonds() <= 3 {
        raster_one_site(lattice, source.masks, source.bits, zs, chunk, base);
    } else {
        label_slab_by_bonds(lattice, source, zs, chunk, base, &mut ());
    }
}

/// Pass 1 for any lattice: one union per bond that stays inside the slab; every root linked
/// under another is removed from `roots`, which starts with every present site (and gives each
/// site its first label).
/// Returns the number of bonds stored on the slab's sites (periodic crossings included).
pub(crate) fn label_slab_by_bonds(
    lattice: &Lattice,
    source: &impl BondSource,
    zs: Range<u32>,
    chunk: &mut [u32],
    base: u32,
    roots: &mut impl SlabRoots,
) -> u64 {
    let steps = NeighbourSteps::new(lattice);
    let lo = base as u64;
    let hi = lo + chunk.len() as u64;
    for (i, label) in chunk.iter_mut().enumerate() {
        *label = roots.first_label(i, (lo + i as u64) as u32);
    }
    let mut bonds = 0u64;
    for z in zs {
        let mut walker = LayerWalker::new(lattice, z);
        while let Some(site) = walker.next_site() {
            let mut m = source.forward_bonds(lattice, &steps, &site);
            bonds += u64::from(m.count_ones());
            while m != 0 {
                let k = (m.trailing_zeros() / 2) as usize;
                m &= m - 1;
                if let Some(nb) = bond_target(lattice, &steps, &site, k) {
                    if nb < hi {
                        if let Some(linked) = union_local(chunk, base, site.index as u32, nb as u32)
                        {
                            roots.remove((linked - base) as usize);
                        }
                    }
                }
            }
        }
    }
    bonds
}

/// One-site lattices (sc, square, tetragonal), in raster order: a site looks back along −x, −y
/// and −z, where every neighbour is already labelled, so most sites just take their first
/// bonded neighbour's root and only the second and third backward bonds need a union
/// (Hoshen–Kopelman's scan with union-find). Bonds that cross a periodic face or leave the slab
/// backwards are left to the merge and wrap passes.
fn raster_one_site(
    lattice: &Lattice,
    masks: &[u32],
    bits: u32,
    zs: Range<u32>,
    chunk: &mut [u32],
    base: u32,
) {
    let [nx, ny, _] = lattice.cells.map(|n| n as usize);
    let layer = nx * ny;
    let (bx, by, bz) = (bits & 0b11, bits & (0b11 << 2), bits & (0b11 << 4));
    let first_z = zs.start;
    let mut local = 0usize;
    for z in zs {
        for y in 0..ny {
            for x in 0..nx {
                let site = base as usize + local;
                let mut root = u32::MAX;
                let mut join = |chunk: &mut [u32], neighbour: usize| {
                    let r = find_local(chunk, base, neighbour as u32);
                    if root == u32::MAX {
                        root = r;
                    } else if r != root {
                        let (low, high) = (r.min(root), r.max(root));
                        chunk[(high - base) as usize] = low;
                        root = low;
                    }
                };
                if x > 0 && masks[site - 1] & bx != 0 {
                    join(chunk, site - 1);
                }
                if y > 0 && masks[site - nx] & by != 0 {
                    join(chunk, site - nx);
                }
                if z > first_z && masks[site - layer] & bz != 0 {
                    join(chunk, site - layer);
                }
                chunk[local] = if root == u32::MAX { site as u32 } else { root };
                local += 1;
            }
        }
    }
}

/// Calls `bond(site, neighbour)` for every bond of `source` stored in layer `z` that does not
/// cross a periodic boundary.
#[inline]
pub(crate) fn for_each_bond_in_layer<S: BondSource + ?Sized>(
    lattice: &Lattice,
    steps: &NeighbourSteps,
    source: &S,
    z: u32,
    mut bond: impl FnMut(u64, u64),
) {
    let mut walker = LayerWalker::new(lattice, z);
    while let Some(site) = walker.next_site() {
        let mut m = source.forward_bonds(lattice, steps, &site);
        while m != 0 {
            let k = (m.trailing_zeros() / 2) as usize;
            m &= m - 1;
            if let Some(nb) = bond_target(lattice, steps, &site, k) {
                bond(site.index, nb);
            }
        }
    }
}

#[inline(always)]
fn bond_target(lattice: &Lattice, steps: &NeighbourSteps, site: &SiteRef, k: usize) -> Option<u64> {
    let nb = steps.neighbour(lattice, site, k)?;
    (nb.crossing == [0; 3]).then_some(nb.site)
}

/// Find with path halving inside a slab whose first site is `base`.
#[inline(always)]
pub(crate) fn find_local(chunk: &mut [u32], base: u32, mut x: u32) -> u32 {
    loop {
        let parent = chunk[(x - base) as usize];
        if parent == x {
            return x;
        }
        let grandparent = chunk[(parent - base) as usize];
        chunk[(x - base) as usize] = grandparent;
        x = grandparent;
    }
}

/// Union inside a slab whose first site is `base`; returns the root linked under the other
/// (which stops being a root), or None when `a` and `b` were joined already.
#[inline(always)]
pub(crate) fn union_local(chunk: &mut [u32], base: u32, a: u32, b: u32) -> Option<u32> {
    let ra = find_local(chunk, base, a);
    let rb = find_local(chunk, base, b);
    let (low, high) = (ra.min(rb), ra.max(rb));
    if low == high {
        return None;
    }
    chunk[(high - base) as usize] = low;
    Some(high)
}

/// The root of `x` without changing anything.
#[inline]
pub(crate) fn root(labels: &[u32], mut x: u32) -> u32 {
    loop {
        let parent = labels[x as usize];
        if parent == x {
            return x;
        }
        x = parent;
    }
}

/// Union over the whole array that remembers every node whose parent it changes in `changed`,
/// and in `linked` the root it links under the other.
fn union_recording(
    labels: &mut [u32],
    a: u32,
    b: u32,
    changed: &mut Vec<u32>,
    linked: &mut Vec<u32>,
) {
    let mut find = |mut x: u32, labels: &mut [u32]| loop {
        let parent = labels[x as usize];
        if parent == x {
            return x;
        }
        let grandparent = labels[parent as usize];
        if grandparent != parent {
            labels[x as usize] = grandparent;
            changed.push(x);
        }
        x = grandparent;
    };
    let ra = find(a, labels);
    let rb = find(b, labels);
    let (low, high) = (ra.min(rb), ra.max(rb));
    if low != high {
        labels[high as usize] = low;
        changed.push(high);
        linked.push(high);
    }
}

/// Joins the clusters connected by bonds that cross a periodic boundary (`face_bonds` gives a
/// face site's forward-bond bits), relabels the joined clusters to their smallest site index,
/// and returns the flags of wrapping clusters, for any bond source.
fn join_periodic_bonds_of(
    lattice: &Lattice,
    face_bonds: impl Fn(u64) -> u32,
    labels: &mut [u32],
) -> HashMap<u32, WrapFlags> {
    let mut forest = ShiftForest::default();
    join_periodic_faces(
        lattice,
        !PRESENT_BIT,
        face_bonds,
        |site| labels[site as usize],
        &mut forest,
    );
    let remap = forest.remap();
    if remap.is_empty() {
        return forest.wraps().clone();
    }
    // Old roots now point at their final root; every other site points at an old root.
    for (node, root) in remap {
        labels[node as usize] = root;
    }
    let shared = as_atomic(labels);
    shared.par_iter().for_each(|label| {
        let old_root = label.load(Relaxed);
        let new_root = shared[old_root as usize].load(Relaxed);
        if new_root != old_root {
            label.store(new_root, Relaxed);
        }
    });
    forest.wraps().clone()
}
