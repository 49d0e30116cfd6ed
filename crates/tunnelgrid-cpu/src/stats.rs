//! Cluster statistics and spanning (MODEL.md §6), from flattened labels.

use crate::geometry::for_each_face_site;
use crate::wrap::WrapFlags;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use tunnelgrid_model::params::PRESENT_BIT;
use tunnelgrid_model::{Boundary, ClusterStats, Lattice, PerAxis};

/// Which clusters span (open axes) or wrap (periodic axes) each axis.
#[derive(Debug, Clone, Default)]
pub struct Spanning {
    /// Per axis: whether any cluster spans or wraps it.
    pub axes: [bool; 3],
    /// Roots of every cluster that spans or wraps at least one axis.
    pub roots: HashSet<u32>,
}

/// Finds the spanning and wrapping clusters. Only present sites count as touching a face.
pub fn spanning(
    lattice: &Lattice,
    masks: &[u32],
    labels: &[u32],
    wraps: &HashMap<u32, WrapFlags>,
) -> Spanning {
    spanning_from_faces(
        lattice,
        |site| masks[site as usize],
        |site| labels[site as usize],
        wraps,
    )
}

/// `spanning` for engines that hold only the faces on the host: `mask_of` and `label_of` (the
/// final root) are only asked about sites on the faces of open axes.
pub fn spanning_from_faces(
    lattice: &Lattice,
    mask_of: impl Fn(u64) -> u32,
    label_of: impl Fn(u64) -> u32,
    wraps: &HashMap<u32, WrapFlags>,
) -> Spanning {
    let mut result = Spanning::default();
    for axis in 0..lattice.axes() {
        let spanning_roots: Vec<u32> = if lattice.boundary[axis] == Boundary::Periodic {
            wraps
                .iter()
                .filter(|(_, f)| f[axis])
                .map(|(&r, _)| r)
                .collect()
        } else {
            let face_roots = |high| {
                let mut roots = HashSet::new();
                for_each_face_site(lattice, axis, high, |site| {
                    if mask_of(site.index) & PRESENT_BIT != 0 {
                        roots.insert(label_of(site.index));
                    }
                });
                roots
            };
            let low = face_roots(false);
            face_roots(true)
                .into_iter()
                .filter(|r| low.contains(r))
                .collect()
        };
        result.axes[axis] = !spanning_roots.is_empty();
        result.roots.extend(spanning_roots);
    }
    result
}

/// Sizes, counts and mean finite-cluster size. `sizes` is scratch of one u32 per site.
pub fn cluster_stats(
    lattice: &Lattice,
    masks: &[u32],
    labels: &[u32],
    span: &Spanning,
    sizes: &mut [u32],
) -> ClusterStats {
    // Roots are the smallest index of their cluster, so a site's root lies in its own chunk or an
    // earlier one. Each task counts own-chunk roots directly and run-length encodes the others,
    // which are added afterwards: no atomics, no contention on the giant cluster's counter.
    const COUNT_CHUNK: usize = 1 << 18;
    let foreign: Vec<Vec<(u32, u32)>> = sizes
        .par_chunks_mut(COUNT_CHUNK)
        .zip(
            masks
                .par_chunks(COUNT_CHUNK)
                .zip(labels.par_chunks(COUNT_CHUNK)),
        )
        .enumerate()
        .map(|(c, (own, (m, l)))| {
            own.fill(0);
            let lo = (c * COUNT_CHUNK) as u32;
            let mut runs: Vec<(u32, u32)> = Vec::new();
            for (&mask, &root) in m.iter().zip(l) {
                if mask & PRESENT_BIT == 0 {
                    continue;
                }
                if root >= lo {
                    own[(root - lo) as usize] += 1;
                } else {
                    match runs.last_mut() {
                        Some((r, n)) if *r == root => *n += 1,
                        _ => runs.push((root, 1)),
                    }
                }
            }
            runs
        })
        .collect();
    for (root, n) in foreign.into_iter().flatten() {
        sizes[root as usize] += n;
    }
    // Few clusters span: a short list beats hashing every root.
    let spanning_roots: Vec<u32> = span.roots.iter().copied().collect();
    const CHUNK: usize = 1 << 16;
    let acc = sizes
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut a = SizeTotals::default();
            for (i, &s) in chunk.iter().enumerate() {
                if s == 0 {
                    continue;
                }
                let s = s as u64;
                a.clusters += u64::from(s > 1);
                a.singletons += u64::from(s == 1);
                a.largest = a.largest.max(s);
                let root = (c * CHUNK + i) as u32;
                if !spanning_roots.contains(&root) {
                    a.finite_sum += s;
                    a.finite_sum2 += (s * s) as u128;
                }
            }
            a
        })
        .reduce(SizeTotals::default, SizeTotals::add);
    ClusterStats {
        clusters: acc.clusters,
        singletons: acc.singletons,
        largest_cluster: acc.largest,
        largest_cluster_fraction: acc.largest as f64 / lattice.sites() as f64,
        mean_cluster_size: if acc.finite_sum > 0 {
            acc.finite_sum2 as f64 / acc.finite_sum as f64
        } else {
            0.0
        },
        spans: PerAxis::from_slice(&span.axes, lattice.axes()),
    }
}

/// Integer totals over cluster sizes (exact at any lattice size).
#[derive(Default, Clone, Copy)]
struct SizeTotals {
    clusters: u64,
    singletons: u64,
    largest: u64,
    finite_sum: u64,
    finite_sum2: u128,
}

impl SizeTotals {
    fn add(self, o: Self) -> Self {
        Self {
            clusters: self.clusters + o.clusters,
            singletons: self.singletons + o.singletons,
            largest: self.largest.max(o.largest),
            finite_sum: self.finite_sum + o.finite_sum,
            finite_sum2: self.finite_sum2 + o.finite_sum2,
        }
    }
}

/// Statistics of a network without bonds, where every present site is its own cluster: no pass
/// over the lattice is needed. A site spans an open axis only when that axis is one cell thick;
/// a lone site never wraps.
pub fn bondless(lattice: &Lattice, present_sites: u64) -> ClusterStats {
    let axes: Vec<bool> = (0..lattice.axes())
        .map(|a| {
            lattice.boundary[a] == Boundary::Open && lattice.cells[a] == 1 && present_sites > 0
        })
        .collect();
    let any_span = axes.iter().any(|&s| s);
    ClusterStats {
        clusters: 0,
        singletons: present_sites,
        largest_cluster: present_sites.min(1),
        largest_cluster_fraction: present_sites.min(1) as f64 / lattice.sites() as f64,
        mean_cluster_size: if any_span || present_sites == 0 {
            0.0
        } else {
            1.0
        },
        spans: PerAxis::from_slice(&axes, lattice.axes()),
    }
}
