//! Cluster statistics and spanning (MODEL.md §6), from flattened labels.

use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use tunnelgrid_host::geometry::for_each_face_site;
pub use tunnelgrid_host::sizes::{bondless, SizeTotals};
use tunnelgrid_host::wrap::WrapFlags;
use tunnelgrid_model::params::PRESENT_BIT;
use tunnelgrid_model::{Boundary, ClusterStats, Lattice};

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

/// Flag of an entry that holds a root's cluster size after `count_in_place`.
const COUNTED: u32 = 1 << 31;

/// Sizes, counts and mean finite-cluster size. Consumes `labels`: afterwards the entries hold
/// cluster sizes, not labels.
///
/// Below 2^31 sites the sizes are counted into the labels array itself, so an analysis needs no
/// third per-site array (a fresh array costs a page fault per page on first touch, which on a
/// virtual machine is as slow as the counting). Larger lattices count into a separate array.
pub fn cluster_stats(
    lattice: &Lattice,
    masks: &[u32],
    labels: &mut [u32],
    span: &Spanning,
) -> ClusterStats {
    cluster_stats_of(lattice, |site| masks[site] & PRESENT_BIT != 0, labels, span)
}

/// `cluster_stats` where `is_present(site)` says which sites count (the occupancy path has no
/// bond masks).
pub fn cluster_stats_of(
    lattice: &Lattice,
    is_present: impl Fn(usize) -> bool + Sync,
    labels: &mut [u32],
    span: &Spanning,
) -> ClusterStats {
    // Few clusters span: a short list beats hashing every root.
    let spanning_roots: Vec<u32> = span.roots.iter().copied().collect();
    let acc = if (labels.len() as u64) < COUNTED as u64 {
        count_in_place(&is_present, labels);
        fold_sizes(labels, &spanning_roots, |entry| {
            (entry & COUNTED != 0).then_some(entry & !COUNTED)
        })
    } else {
        let mut sizes = crate::arrays::site_array(labels.len());
        count_separately(&is_present, labels, &mut sizes);
        fold_sizes(&sizes, &spanning_roots, |entry| {
            (entry > 0).then_some(entry)
        })
    };
    acc.stats(lattice, &span.axes)
}

/// Sites per counting task.
const COUNT_CHUNK: usize = 1 << 18;

/// Adds the run-length encoded counts of roots outside their sites' chunks.
fn add_foreign(entries: &mut [u32], foreign: Vec<Vec<(u32, u32)>>) {
    for (root, n) in foreign.into_iter().flatten() {
        entries[root as usize] += n;
    }
}

/// Appends one site of `root` to a run-length list.
fn push_run(runs: &mut Vec<(u32, u32)>, root: u32) {
    match runs.last_mut() {
        Some((r, n)) if *r == root => *n += 1,
        _ => runs.push((root, 1)),
    }
}

/// Turns each present root's entry into `COUNTED | size`; other entries keep their labels.
///
/// A root is the smallest index of its cluster, so when a chunk is swept in ascending order a
/// site's own entry is still its label when it is read (only later sites of its cluster write to
/// it) and its root's entry is already a count. Roots in earlier chunks are run-length encoded
/// and added afterwards: no atomics, no contention on the giant cluster's counter.
fn count_in_place(is_present: &(impl Fn(usize) -> bool + Sync), labels: &mut [u32]) {
    let foreign: Vec<Vec<(u32, u32)>> = labels
        .par_chunks_mut(COUNT_CHUNK)
        .enumerate()
        .map(|(c, own)| {
            let lo = c * COUNT_CHUNK;
            let mut runs = Vec::new();
            for i in 0..own.len() {
                if !is_present(lo + i) {
                    continue;
                }
                let root = own[i] as usize;
                if root == lo + i {
                    own[i] = COUNTED | 1;
                } else if root >= lo {
                    own[root - lo] += 1;
                } else {
                    push_run(&mut runs, root as u32);
                }
            }
            runs
        })
        .collect();
    add_foreign(labels, foreign);
}

/// Counts each present site into `sizes[root]` (for lattices too large for `count_in_place`).
fn count_separately(
    is_present: &(impl Fn(usize) -> bool + Sync),
    labels: &[u32],
    sizes: &mut [u32],
) {
    let foreign: Vec<Vec<(u32, u32)>> = sizes
        .par_chunks_mut(COUNT_CHUNK)
        .zip(labels.par_chunks(COUNT_CHUNK))
        .enumerate()
        .map(|(c, (own, l))| {
            let lo = (c * COUNT_CHUNK) as u32;
            let mut runs = Vec::new();
            for (i, &root) in l.iter().enumerate() {
                if !is_present(lo as usize + i) {
                    continue;
                }
                if root >= lo {
                    own[(root - lo) as usize] += 1;
                } else {
                    push_run(&mut runs, root);
                }
            }
            runs
        })
        .collect();
    add_foreign(sizes, foreign);
}

/// Totals over the cluster sizes that `size_of(entry)` finds in `entries` (indexed by root).
fn fold_sizes(
    entries: &[u32],
    spanning_roots: &[u32],
    size_of: impl Fn(u32) -> Option<u32> + Sync,
) -> SizeTotals {
    const CHUNK: usize = 1 << 16;
    entries
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut a = SizeTotals::default();
            for (i, &entry) in chunk.iter().enumerate() {
                let Some(s) = size_of(entry) else {
                    continue;
                };
                let root = (c * CHUNK + i) as u32;
                a.add_cluster(s as u64, !spanning_roots.contains(&root));
            }
            a
        })
        .reduce(SizeTotals::default, SizeTotals::merge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{evaluate_bonds, label_clusters, Network};
    use tunnelgrid_model::{BondParams, Conditions, Model};

    /// The separate-array path (lattices of 2^31 sites and more) counts what the in-place path
    /// counts.
    #[test]
    fn both_counting_paths_agree() {
        let mut material = tunnelgrid_model::presets::preset("bernoulli-site").unwrap();
        material.lattice.cells = [30, 20, 25];
        let model = Model::new(material).unwrap();
        let conditions = Conditions {
            p: 0.33,
            ..model.default_conditions()
        };
        let params = BondParams::new(&model.material, &model.lattice, &conditions);
        let n = model.lattice.sites() as usize;
        let (mut masks, mut labels) = (vec![0u32; n], vec![0u32; n]);
        evaluate_bonds(&model.lattice, &params, &mut masks, &mut labels);
        label_clusters(&model.lattice, &masks, Network::Tunnel, 3, &mut labels);
        let roots = [labels[0], labels[n / 2]];
        let mut sizes = vec![0u32; n];
        let is_present = |site: usize| masks[site] & PRESENT_BIT != 0;
        count_separately(&is_present, &labels, &mut sizes);
        let separate = fold_sizes(&sizes, &roots, |e| (e > 0).then_some(e));
        count_in_place(&is_present, &mut labels);
        let in_place = fold_sizes(&labels, &roots, |e| {
            (e & COUNTED != 0).then_some(e & !COUNTED)
        });
        assert_eq!(
            (
                separate.clusters,
                separate.singletons,
                separate.largest,
                separate.finite_sum,
                separate.finite_sum2
            ),
            (
                in_place.clusters,
                in_place.singletons,
                in_place.largest,
                in_place.finite_sum,
                in_place.finite_sum2
            )
        );
        assert!(separate.clusters > 100);
    }
}
