//! The sweep's union-find: one [`Node`] per site, union by size, path halving, image shifts.

use super::shift::Shift;
use super::{prefetch, BinomialWeights, Percolation, SweepEvents, SweepGraph};

/// Steps decoded ahead of their turn: their nodes are prefetched, so that the cache misses of
/// a step (its site and its neighbours, at random places of a state larger than the cache)
/// overlap with the work of the steps before it.
const RING: usize = 16;

/// Neighbours a site can have in a sweep (fcc's 12).
pub(super) const MAX_NEIGHBOURS: usize = 12;

/// One step of the order, decoded: the site occupied (site mode) with its neighbours, or a bond's
/// two ends (bond mode: `site` and `neighbours[0]`).
#[derive(Debug, Clone, Copy, Default)]
struct Ahead {
    site: u32,
    faces: u8,
    len: u8,
    neighbours: [u32; MAX_NEIGHBOURS],
    crossings: [[i8; 3]; MAX_NEIGHBOURS],
}

/// `link` of a site not yet occupied (site mode).
const EMPTY: i32 = i32::MIN;

/// One site: `link` ≥ 0 is the parent, `link` < 0 makes the site a root of −link sites
/// (Newman & Ziff's ptr array); `aux` is the image shift to the parent, or a root's face bits.
/// Both live in one word pair so that a find step is one cache access.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Node<S> {
    link: i32,
    aux: S,
}

/// The union-find of one sweep, with shifts of width `S`.
pub(super) struct Forest<S> {
    nodes: Vec<Node<S>>,
    /// Axes whose shift overflowed during the current step.
    overflow: u8,
}

impl<S: Shift> Forest<S> {
    pub(super) fn new(sites: u32) -> Self {
        Self {
            nodes: crate::arrays::huge_page_vec(
                sites as usize,
                Node {
                    link: EMPTY,
                    aux: S::ZERO,
                },
            ),
            overflow: 0,
        }
    }

    /// Root of `x` and the image shift of `x` relative to it (path halving; roots have shift 0).
    #[inline(always)]
    fn find(&mut self, mut x: u32) -> (u32, S) {
        let mut total = S::ZERO;
        loop {
            let node = self.nodes[x as usize];
            if node.link < 0 {
                return (x, total);
            }
            let p = node.link as u32;
            let parent = self.nodes[p as usize];
            if parent.link < 0 {
                let (t, o) = total.add(node.aux);
                self.overflow |= o;
                return (p, t);
            }
            // x skips to its grandparent, with the shift of both steps.
            let (shift, o1) = node.aux.add(parent.aux);
            let (t, o2) = total.add(shift);
            self.overflow |= o1 | o2;
            self.nodes[x as usize] = Node {
                link: parent.link,
                aux: shift,
            };
            total = t;
            x = parent.link as u32;
        }
    }

    /// Joins the clusters of `a` and of the image of `b` shifted by `crossing` (the convention
    /// of `ShiftForest::join`). Returns the root, and the axes a closed loop wraps (bit i).
    #[inline(always)]
    fn union(&mut self, a: u32, b: u32, crossing: S) -> (u32, u8) {
        let (ra, sa) = self.find(a);
        let (rb, sb) = self.find(b);
        let (t, o1) = crossing.add(sa);
        let (d, o2) = t.sub(sb);
        self.overflow |= o1 | o2;
        if ra == rb {
            return (ra, d.nonzero());
        }
        let (na, nb) = (self.nodes[ra as usize], self.nodes[rb as usize]);
        // Sizes are −link: the larger cluster (a's on a tie) keeps its root.
        let (keep, attach, shift) = if na.link <= nb.link {
            (ra, rb, d)
        } else {
            let (minus_d, o) = S::ZERO.sub(d);
            self.overflow |= o;
            (rb, ra, minus_d)
        };
        self.nodes[keep as usize] = Node {
            link: na.link + nb.link,
            aux: S::root(na.aux.faces() | nb.aux.faces()),
        };
        self.nodes[attach as usize] = Node {
            link: keep as i32,
            aux: shift,
        };
        (keep, 0)
    }

    /// −link of a root.
    #[inline(always)]
    fn size(&self, root: u32) -> u32 {
        self.nodes[root as usize].link.unsigned_abs()
    }

    /// Occupies a site (site mode) and bonds it to its occupied neighbours: (root, wrapped axes).
    #[inline(always)]
    fn occupy_site(&mut self, ahead: &Ahead) -> (u32, u8) {
        let site = ahead.site;
        self.nodes[site as usize] = Node {
            link: -1,
            aux: S::root(ahead.faces),
        };
        let mut root = site;
        let mut wrapped = 0u8;
        for i in 0..ahead.len as usize {
            let t = ahead.neighbours[i];
            if self.nodes[t as usize].link != EMPTY {
                let (r, w) = self.union(site, t, S::crossing(ahead.crossings[i]));
                root = r;
                wrapped |= w;
            }
        }
        (root, wrapped)
    }

    /// Opens a bond (bond mode): (root, wrapped axes).
    #[inline(always)]
    fn open_bond(&mut self, ahead: &Ahead) -> (u32, u8) {
        self.union(
            ahead.site,
            ahead.neighbours[0],
            S::crossing(ahead.crossings[0]),
        )
    }

    /// Decodes the item `item` of the order and prefetches the nodes its step will read.
    #[inline(always)]
    fn look_ahead(&self, graph: &SweepGraph, item: u32, ahead: &mut Ahead) {
        let geometry = &graph.geometry;
        match graph.percolation {
            Percolation::Site => {
                let place = geometry.place(item);
                ahead.site = item;
                ahead.faces = geometry.faces(&place);
                let mut len = 0;
                geometry.for_each_neighbour(&place, |t, crossing| {
                    ahead.neighbours[len] = t;
                    ahead.crossings[len] = crossing;
                    len += 1;
                });
                ahead.len = len as u8;
            }
            Percolation::Bond => {
                let slot = match &graph.bond_slots {
                    Some(slots) => slots[item as usize],
                    None => item,
                };
                let site = slot / graph.forward_bonds;
                let k = slot - site * graph.forward_bonds;
                let place = geometry.place(site);
                let (target, crossing) = geometry
                    .forward_target(&place, k)
                    .expect("a bond slot of the graph has a target");
                ahead.site = site;
                ahead.neighbours[0] = target;
                ahead.crossings[0] = crossing;
                ahead.len = 1;
            }
        }
        prefetch(&self.nodes[ahead.site as usize]);
        for &t in &ahead.neighbours[..ahead.len as usize] {
            prefetch(&self.nodes[t as usize]);
        }
    }

    /// Every site present as its own cluster (bond mode), or none (site mode).
    fn reset(&mut self, graph: &SweepGraph) {
        match graph.percolation {
            Percolation::Site => self.nodes.iter_mut().for_each(|n| {
                *n = Node {
                    link: EMPTY,
                    aux: S::ZERO,
                }
            }),
            Percolation::Bond => {
                let nodes = &mut self.nodes;
                graph.geometry.for_each_site(|site, place| {
                    nodes[site as usize] = Node {
                        link: -1,
                        aux: S::root(graph.geometry.faces(&place)),
                    };
                });
            }
        }
    }

    /// Runs one sample with a given order; `None` when a shift overflowed on an axis whose
    /// event was still pending (the caller reruns with wider shifts).
    pub(super) fn run(
        &mut self,
        graph: &SweepGraph,
        order: &[u32],
        weights: Option<&BinomialWeights>,
    ) -> Option<SweepEvents> {
        let (mut pending_span, mut pending_wrap) = graph.pending();
        let mut events = SweepEvents::default();
        self.reset(graph);
        let mut largest: u32 = match graph.percolation {
            Percolation::Site => 0,
            Percolation::Bond => 1,
        };
        let mut weighted = weights.map_or(0.0, |w| w.weight(0) * largest as f64);
        let mut occupied = 0u32;
        let mut ring = [Ahead::default(); RING];
        for (i, &item) in order.iter().take(RING).enumerate() {
            self.look_ahead(graph, item, &mut ring[i]);
        }
        for (i, _) in order.iter().enumerate() {
            occupied += 1;
            let n = occupied;
            self.overflow = 0;
            let slot = i % RING;
            let ahead = ring[slot];
            if let Some(&later) = order.get(i + RING) {
                self.look_ahead(graph, later, &mut ring[slot]);
            }
            let (root, wrapped) = match graph.percolation {
                Percolation::Site => self.occupy_site(&ahead),
                Percolation::Bond => self.open_bond(&ahead),
            };
            if self.overflow & pending_wrap != 0 {
                return None;
            }
            largest = largest.max(self.size(root));
            let faces = self.nodes[root as usize].aux.faces();
            let spanned = (0..3).fold(0u8, |m, a| m | ((((faces >> (2 * a)) & 3 == 3) as u8) << a));
            let new_span = spanned & pending_span;
            let new_wrap = wrapped & pending_wrap;
            if new_span | new_wrap != 0 {
                for axis in 0..3 {
                    if new_span & (1 << axis) != 0 {
                        events.span[axis] = Some(n);
                    }
                    if new_wrap & (1 << axis) != 0 {
                        events.wrap[axis] = Some(n);
                    }
                }
                pending_span &= !new_span;
                pending_wrap &= !new_wrap;
            }
            match weights {
                Some(w) => weighted += w.weight(n) * largest as f64,
                // Only first events are asked for: the rest of the sweep changes nothing.
                None if pending_span | pending_wrap == 0 => break,
                None => {}
            }
        }
        events.weighted_largest = weighted;
        events.occupied = occupied;
        Some(events)
    }
}
