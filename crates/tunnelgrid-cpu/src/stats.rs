//! Cluster statistics and spanning (MODEL.md §6), from flattened labels.

use crate::atomic_view::as_atomic;
use crate::geometry::for_each_face_site;
use crate::wrap::WrapFlags;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
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
pub fn spanning(lattice: &Lattice, masks: &[u32], labels: &[u32], wraps: &HashMap<u32, WrapFlags>) -> Spanning {
    let mut result = Spanning::default();
    for axis in 0..lattice.axes() {
        let spanning_roots: Vec<u32> = if lattice.boundary[axis] == Boundary::Periodic {
            wraps.iter().filter(|(_, f)| f[axis]).map(|(&r, _)| r).collect()
        } else {
            let face_roots = |high| {
                let mut roots = HashSet::new();
                for_each_face_site(lattice, axis, high, |site| {
                    if masks[site.index as usize] & PRESENT_BIT != 0 {
                        roots.insert(labels[site.index as usize]);
                    }
                });
                roots
            };
            let low = face_roots(false);
            face_roots(true).into_iter().filter(|r| low.contains(r)).collect()
        };
        result.axes[axis] = !spanning_roots.is_empty();
        result.roots.extend(spanning_roots);
    }
    result
}

/// Sizes, counts and mean finite-cluster size. `sizes` is scratch of one u32 per site.
pub fn cluster_stats(lattice: &Lattice, masks: &[u32], labels: &[u32], span: &Spanning, sizes: &mut [u32]) -> ClusterStats {
    sizes.par_iter_mut().for_each(|s| *s = 0);
    {
        let shared = as_atomic(sizes);
        // Neighbouring sites mostly share a root: add runs, not single sites, so that threads
        // rarely contend on the giant cluster's counter.
        masks
            .par_chunks(1 << 16)
            .zip(labels.par_chunks(1 << 16))
            .for_each(|(m, l)| {
                let mut run_root = u32::MAX;
                let mut run = 0u32;
                for (&mask, &root) in m.iter().zip(l) {
                    if mask & PRESENT_BIT == 0 {
                        continue;
                    }
                    if root != run_root {
                        if run > 0 {
                            shared[run_root as usize].fetch_add(run, Relaxed);
                        }
                        run_root = root;
                        run = 0;
                    }
                    run += 1;
                }
                if run > 0 {
                    shared[run_root as usize].fetch_add(run, Relaxed);
                }
            });
    }
    #[derive(Default, Clone, Copy)]
    struct Acc {
        clusters: u64,
        singletons: u64,
        largest: u64,
        finite_sum: f64,
        finite_sum2: f64,
    }
    // Few clusters span: a short list beats hashing every root.
    let spanning_roots: Vec<u32> = span.roots.iter().copied().collect();
    let acc = sizes
        .par_iter()
        .enumerate()
        .fold(Acc::default, |mut a, (root, &s)| {
            if s > 0 {
                let s = s as u64;
                if s == 1 {
                    a.singletons += 1;
                } else {
                    a.clusters += 1;
                }
                a.largest = a.largest.max(s);
                if !spanning_roots.contains(&(root as u32)) {
                    a.finite_sum += s as f64;
                    a.finite_sum2 += (s * s) as f64;
                }
            }
            a
        })
        .reduce(Acc::default, |a, b| Acc {
            clusters: a.clusters + b.clusters,
            singletons: a.singletons + b.singletons,
            largest: a.largest.max(b.largest),
            finite_sum: a.finite_sum + b.finite_sum,
            finite_sum2: a.finite_sum2 + b.finite_sum2,
        });
    ClusterStats {
        clusters: acc.clusters,
        singletons: acc.singletons,
        largest_cluster: acc.largest,
        largest_cluster_fraction: acc.largest as f64 / lattice.sites() as f64,
        mean_cluster_size: if acc.finite_sum > 0.0 { acc.finite_sum2 / acc.finite_sum } else { 0.0 },
        spans: PerAxis::from_slice(&span.axes, lattice.axes()),
    }
}
