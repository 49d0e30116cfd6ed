//! Wrapping across periodic boundaries (MODEL.md §6): a cluster wraps axis i when it connects to
//! its own periodic image shifted along i.
//!
//! Clusters are first labelled without the bonds that cross a periodic boundary. Those bonds
//! (only on the faces, O(L²)) then join clusters in a small union-find over cluster roots that
//! tracks, for every cluster, which periodic image of it is connected to its root's reference
//! copy (Machta et al. 1996; Newman & Ziff 2001). A bond that closes a loop with a non-zero net
//! image shift proves wrapping along every axis where the shift is non-zero.

use crate::geometry::for_each_face_site;
use std::collections::HashMap;
use tunnelgrid_model::{Boundary, Lattice};

/// Whether a cluster wraps x, y, z.
pub type WrapFlags = [bool; 3];

/// Union-find over cluster roots with the image shift of each node relative to its parent.
/// Shared with the GPU engine, which joins slabs and periodic faces with it on the host.
#[derive(Default, Debug)]
pub struct ShiftForest {
    parent: HashMap<u32, (u32, [i32; 3])>,
    wraps: HashMap<u32, WrapFlags>,
}

impl ShiftForest {
    /// Root of `x` and the image shift of `x` relative to it, compressing the path.
    pub fn find(&mut self, x: u32) -> (u32, [i32; 3]) {
        let mut path = Vec::new();
        let mut current = x;
        while let Some(&(parent, shift)) = self.parent.get(&current) {
            if parent == current {
                break;
            }
            path.push((current, shift));
            current = parent;
        }
        let root = current;
        let mut total = [0i32; 3];
        for &(node, shift) in path.iter().rev() {
            for a in 0..3 {
                total[a] += shift[a];
            }
            self.parent.insert(node, (root, total));
        }
        (root, total)
    }

    /// Records that the image of cluster `b` shifted by `crossing` touches cluster `a`
    /// (`crossing` = 0 for an ordinary bond, e.g. across a slab boundary).
    pub fn join(&mut self, a: u32, b: u32, crossing: [i32; 3]) {
        let (ra, sa) = self.find(a);
        let (rb, sb) = self.find(b);
        let d: [i32; 3] = std::array::from_fn(|i| crossing[i] + sa[i] - sb[i]);
        if ra == rb {
            if d != [0; 3] {
                let flags = self.wraps.entry(ra).or_default();
                for i in 0..3 {
                    flags[i] |= d[i] != 0;
                }
            }
            return;
        }
        let (low, high, shift) = if ra < rb {
            (ra, rb, d)
        } else {
            (rb, ra, d.map(|v| -v))
        };
        self.parent.insert(high, (low, shift));
        self.parent.entry(low).or_insert((low, [0; 3]));
        if let Some(flags) = self.wraps.remove(&high) {
            let target = self.wraps.entry(low).or_default();
            for i in 0..3 {
                target[i] |= flags[i];
            }
        }
    }
}

impl ShiftForest {
    /// Every cluster root that was joined to another, with the final root of its cluster, sorted
    /// by old root.
    pub fn remap(&mut self) -> Vec<(u32, u32)> {
        let mut nodes: Vec<u32> = self.parent.keys().copied().collect();
        nodes.sort_unstable();
        nodes.into_iter().map(|n| (n, self.find(n).0)).collect()
    }

    /// Wrapping flags per final root.
    pub fn wraps(&self) -> &HashMap<u32, WrapFlags> {
        &self.wraps
    }
}

/// Joins, in `forest`, the clusters that bonds (of `bits`) crossing a periodic boundary connect.
/// `mask_of` and `label_of` are only asked about sites on the faces of periodic axes.
pub fn join_periodic_faces(
    lattice: &Lattice,
    bits: u32,
    mask_of: impl Fn(u64) -> u32,
    label_of: impl Fn(u64) -> u32,
    forest: &mut ShiftForest,
) {
    for axis in 0..lattice.axes() {
        if lattice.boundary[axis] != Boundary::Periodic {
            continue;
        }
        for high in [false, true] {
            for_each_face_site(lattice, axis, high, |site| {
                let mut m = mask_of(site.index) & bits;
                while m != 0 {
                    let k = (m.trailing_zeros() / 2) as usize;
                    m &= m - 1;
                    let bond = &lattice.forward_bonds(site.basis)[k];
                    let Some(nb) = lattice.neighbour(site.cell, bond) else {
                        continue;
                    };
                    // A bond crossing two periodic faces is met on both; take it on the first
                    // periodic axis it crosses only.
                    let first_crossed = (0..3).find(|&a| nb.crossing[a] != 0);
                    if first_crossed == Some(axis) {
                        forest.join(label_of(site.index), label_of(nb.site), nb.crossing);
                    }
                }
            });
        }
    }
}
