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
//!    was resolved in step 3. This is the only full pass after step 1;
//! 5. *wrap* (only with periodic axes, O(faces)): bonds that cross a periodic boundary join
//!    clusters with displacement tracking, see `wrap.rs`.

use crate::geometry::{LayerWalker, NeighbourSteps, SiteRef};
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
    assert_eq!(labels.len() as u64, lattice.sites());
    let steps = NeighbourSteps::new(lattice);
    let ranges = slab_layers(lattice.cells[2], slabs);
    let layer = lattice.sites_per_layer() as usize;

    // 1. local
    let mut chunks: Vec<(Range<u32>, &mut [u32])> = Vec::with_capacity(ranges.len());
    let mut rest = &mut labels[..];
    for r in &ranges {
        let (head, tail) = rest.split_at_mut((r.end - r.start) as usize * layer);
        chunks.push((r.clone(), head));
        rest = tail;
    }
    let counted: u64 = chunks
        .par_iter_mut()
        .map(|(zs, chunk)| {
            let base = lattice.site_index(0, 0, zs.start, 0) as u32;
            local(zs.clone(), chunk, base)
        })
        .sum();

    // 2. merge and 3. resolve
    let mut changed = Vec::new();
    for r in ranges.iter().take(ranges.len().saturating_sub(1)) {
        source.joins_across_layer(lattice, &steps, r.end - 1, |site, nb| {
            union_recording(labels, site as u32, nb as u32, &mut changed);
        });
    }
    changed.sort_unstable();
    changed.dedup();
    for &node in &changed {
        labels[node as usize] = root(labels, node);
    }

    // 4. flatten
    let mut rest = &mut labels[..];
    let mut offset = 0usize;
    let mut slices = Vec::with_capacity(ranges.len());
    for r in &ranges {
        let len = (r.end - r.start) as usize * layer;
        let (head, tail) = rest.split_at_mut(len);
        slices.push((offset, head));
        offset += len;
        rest = tail;
    }
    slices.into_par_iter().for_each(|(lo, chunk)| {
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
        label_slab_by_bonds(lattice, source, zs, chunk, base);
    }
}

/// Pass 1 for any lattice: one union per bond that stays inside the slab.
/// Returns the number of bonds stored on the slab's sites (periodic crossings included).
pub(crate) fn label_slab_by_bonds(
    lattice: &Lattice,
    source: &impl BondSource,
    zs: Range<u32>,
    chunk: &mut [u32],
    base: u32,
) -> u64 {
    let steps = NeighbourSteps::new(lattice);
    let lo = base as u64;
    let hi = lo + chunk.len() as u64;
    for (i, label) in chunk.iter_mut().enumerate() {
        *label = (lo + i as u64) as u32;
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
                        union_local(chunk, base, site.index as u32, nb as u32);
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

#[inline(always)]
pub(crate) fn union_local(chunk: &mut [u32], base: u32, a: u32, b: u32) {
    let ra = find_local(chunk, base, a);
    let rb = find_local(chunk, base, b);
    if ra < rb {
        chunk[(rb - base) as usize] = ra;
    } else if rb < ra {
        chunk[(ra - base) as usize] = rb;
    }
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

/// Union over the whole array that remembers every node whose parent it changes.
fn union_recording(labels: &mut [u32], a: u32, b: u32, changed: &mut Vec<u32>) {
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
