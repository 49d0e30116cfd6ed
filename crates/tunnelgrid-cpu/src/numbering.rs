//! Cluster numbers 1, 2, …, n in the order of each cluster's first site (its smallest site
//! index, i.e. C order of a (nz, ny, nx) array), 0 for absent sites: the numbering
//! scipy.ndimage.label and cc3d give, which the Python module's `label` returns.
//!
//! Two ways to it, with equal results:
//! - `numbered_labels` numbers finished cluster roots: any lattice, periodic ones included, in
//!   three passes of its own (count, number the roots, number every other site);
//! - `number_slabs` is pass 4 of `labels.rs` on open lattices (the Python module's volumes): the
//!   flatten's one ascending sweep per slab writes numbers instead of roots. A cluster's root is
//!   its first site, so numbering the roots in ascending site order is the order wanted. Pass 1
//!   keeps each slab's roots as bits (`RootBits`: its runs' first sites, less those a union
//!   links under another), so the counts that give each slab its first number, and the ranks of
//!   the few roots (O(faces)) that later slabs reach through the merge, read one bit per site
//!   instead of the labels. Pass 1 also labels absent sites 0 and leaves the bonds uncounted, so
//!   that numbering costs about what the flatten costs (`SlabRoots::NUMBERING`).

use crate::labels::SlabRoots;
use rayon::prelude::*;

/// Cluster labels numbered 1, 2, …, n in the order of each cluster's first site (its smallest
/// site index, i.e. C order of a (nz, ny, nx) array), 0 for absent sites, from an engine's
/// `roots` (each site's cluster root, the smallest site index of its cluster; absent sites are
/// their own), relabelled in place, and `present` (bit s % 64 of word s / 64 is site s); with n.
///
/// In parallel over chunks of sites: each chunk counts the clusters that start in it (present
/// sites that are their own root), the counts give each chunk its first number, the roots take
/// their numbers, then every other site takes its root's number (0 when absent).
pub fn numbered_labels(mut roots: Vec<u32>, present: &[u64]) -> (Vec<u32>, u32) {
    use std::sync::atomic::Ordering::Relaxed;
    // Sites per chunk, a multiple of 64, so that each chunk owns whole words of the bits.
    const CHUNK: usize = 1 << 16;
    const WORDS: usize = CHUNK / 64;
    // The present sites of a chunk that are their own root, one bit each as `present`.
    let cluster_starts = |c: usize, chunk: &[u32], words: &[u64]| -> Vec<u64> {
        words
            .iter()
            .enumerate()
            .map(|(k, &word)| {
                let (mut left, mut starts) = (word, 0u64);
                while left != 0 {
                    let bit = left.trailing_zeros() as usize;
                    left &= left - 1;
                    let i = k * 64 + bit;
                    if chunk.get(i).is_some_and(|&r| r as usize == c * CHUNK + i) {
                        starts |= 1 << bit;
                    }
                }
                starts
            })
            .collect()
    };
    let starts: Vec<Vec<u64>> = roots
        .par_chunks(CHUNK)
        .zip(present.par_chunks(WORDS))
        .enumerate()
        .map(|(c, (chunk, words))| cluster_starts(c, chunk, words))
        .collect();
    let mut first = Vec::with_capacity(starts.len());
    let mut n = 0u32;
    for words in &starts {
        first.push(n);
        n += words.iter().map(|w| w.count_ones()).sum::<u32>();
    }
    // The roots take their numbers, in site order within each chunk.
    roots
        .par_chunks_mut(CHUNK)
        .zip(&starts)
        .zip(&first)
        .for_each(|((chunk, words), &first)| {
            let mut next = first;
            for (k, &word) in words.iter().enumerate() {
                let mut left = word;
                while left != 0 {
                    let i = k * 64 + left.trailing_zeros() as usize;
                    left &= left - 1;
                    next += 1;
                    chunk[i] = next;
                }
            }
        });
    // Every other site reads its root's entry, which holds a number and is not written here;
    // the atomic view lets tasks read words other tasks own. A site that is its own root and
    // was not numbered is absent.
    let labels = tunnelgrid_host::atomic_view::as_atomic(&mut roots);
    labels
        .par_chunks(CHUNK)
        .zip(&starts)
        .enumerate()
        .for_each(|(c, (chunk, words))| {
            for (i, label) in chunk.iter().enumerate() {
                if words[i / 64] >> (i % 64) & 1 != 0 {
                    continue;
                }
                let root = label.load(Relaxed) as usize;
                let number = if root == c * CHUNK + i {
                    0
                } else {
                    labels[root].load(Relaxed)
                };
                label.store(number, Relaxed);
            }
        });
    (roots, n)
}

/// Pass 4 of `labels.rs` numbering the clusters. `slabs` are each slab's first site and its
/// labels after passes 1 to 3: every site points at itself or at a smaller site of its slab,
/// except the `changed` ones (ascending), which point at their final root. `roots` are the roots
/// of each slab's forest after pass 1, `linked` the ones the merge linked under another, and
/// `present` the presence bits. Leaves every site numbered as `numbered_labels` numbers it and
/// returns n.
pub(crate) fn number_slabs(
    slabs: Vec<(usize, &mut [u32])>,
    mut roots: Vec<RootBits>,
    changed: &[u32],
    linked: &[u32],
    present: &[u64],
) -> u32 {
    let starts: Vec<usize> = slabs.iter().map(|(lo, _)| *lo).collect();
    let slab_of = |site: u32| starts.partition_point(|&lo| lo <= site as usize) - 1;
    for &root in linked {
        let s = slab_of(root);
        roots[s].remove(root as usize - starts[s]);
    }
    // Each slab's roots, and the ranks among them of the roots later slabs reach (an outside
    // root's number is the number before its slab's first plus its rank plus 1).
    let outside = outside_roots(&slabs, changed);
    let counted: Vec<(u32, Vec<u32>)> = roots
        .par_iter()
        .zip(&starts)
        .map(|(slab, &lo)| {
            let within = &outside[outside.partition_point(|&r| (r as usize) < lo)..];
            let offsets = within
                .iter()
                .map(|&r| r as usize - lo)
                .take_while(|&offset| offset < slab.sites);
            (slab.count(), slab.ranks(offsets))
        })
        .collect();
    let mut first = Vec::with_capacity(slabs.len());
    let mut numbers = Vec::with_capacity(outside.len());
    let mut n = 0u32;
    for (count, ranks) in counted {
        first.push(n);
        numbers.extend(ranks.into_iter().map(|rank| n + rank + 1));
        n += count;
    }
    let ends: Vec<u32> = slabs
        .into_par_iter()
        .zip(&first)
        .zip(&roots)
        .map(|(((lo, chunk), &first), roots)| {
            number_slab(lo, chunk, first, present, roots, &outside, &numbers)
        })
        .collect();
    // Each sweep numbered as many roots as its slab was counted to have.
    assert_eq!(ends[..ends.len() - 1], first[1..]);
    assert_eq!(ends.last(), Some(&n));
    n
}

/// The roots of one slab's forest, one bit per site of the slab (bit i % 64 of word i / 64 for
/// its site i): what pass 1 keeps when the labelling numbers, so that counting a slab's
/// clusters and ranking a root among them read 1/32 of what the labels would take.
#[derive(Debug)]
pub(crate) struct RootBits {
    words: Vec<u64>,
    /// Sites of the slab.
    sites: usize,
}

impl RootBits {
    /// No roots yet among `sites` sites: pass 1 by runs adds each run's first site.
    pub(crate) fn none(sites: usize) -> Self {
        Self {
            words: vec![0; sites.div_ceil(64)],
            sites,
        }
    }

    /// Every present site of the `sites` sites from `first` a root: pass 1 by bonds starts so.
    pub(crate) fn present(present: &[u64], first: usize, sites: usize) -> Self {
        let words = (0..sites)
            .step_by(64)
            .map(|i| bits_at(present, first + i, (sites - i).min(64)))
            .collect();
        Self { words, sites }
    }

    /// Number of roots.
    fn count(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }

    /// The rank of each root at `offsets` (ascending) among the slab's roots: how many precede
    /// it.
    fn ranks(&self, offsets: impl Iterator<Item = usize>) -> Vec<u32> {
        let (mut word, mut before) = (0, 0u32);
        offsets
            .map(|offset| {
                while word < offset / 64 {
                    before += self.words[word].count_ones();
                    word += 1;
                }
                before + (self.words[word] & ((1u64 << (offset % 64)) - 1)).count_ones()
            })
            .collect()
    }
}

impl SlabRoots for RootBits {
    const NUMBERING: bool = true;

    /// Every present site starts as its own root, every absent one as 0.
    #[inline(always)]
    fn first_label(&self, offset: usize, site: u32) -> u32 {
        site & ((self.words[offset / 64] >> (offset % 64)) as u32 & 1).wrapping_neg()
    }

    /// The first site of each run: a present site whose left neighbour in the row is absent.
    fn add_runs(&mut self, offset: usize, row: &[u64]) {
        let (word, shift) = (offset / 64, offset % 64);
        let mut carry = 0u64;
        for (k, &bits) in row.iter().enumerate() {
            let heads = bits & !((bits << 1) | carry);
            carry = bits >> 63;
            self.words[word + k] |= heads << shift;
            // A row that does not start on a word spills its high bits into the next word.
            if shift != 0 && heads >> (64 - shift) != 0 {
                self.words[word + k + 1] |= heads >> (64 - shift);
            }
        }
    }

    #[inline(always)]
    fn remove(&mut self, offset: usize) {
        self.words[offset / 64] &= !(1u64 << (offset % 64));
    }
}

/// The roots, ascending and each once, that `changed` sites point at from a later slab: the
/// only roots a slab's sweep cannot number itself.
fn outside_roots(slabs: &[(usize, &mut [u32])], changed: &[u32]) -> Vec<u32> {
    let mut roots = Vec::new();
    let mut s = 0;
    for &node in changed {
        let node = node as usize;
        while node >= slabs[s].0 + slabs[s].1.len() {
            s += 1;
        }
        let (lo, chunk) = (&slabs[s].0, &slabs[s].1);
        let root = chunk[node - lo];
        if (root as usize) < *lo {
            roots.push(root);
        }
    }
    roots.sort_unstable();
    roots.dedup();
    roots
}

/// The presence bits of the `len` (at most 64) sites from `start`, bit i for site start + i.
#[inline(always)]
fn bits_at(present: &[u64], start: usize, len: usize) -> u64 {
    let (word, shift) = (start / 64, start % 64);
    let low = present[word] >> shift;
    // Sites that do not start on a word take their high bits from the next word.
    let high = match (shift, present.get(word + 1)) {
        (0, _) | (_, None) => 0,
        (_, Some(&next)) => next << (64 - shift),
    };
    let bits = low | high;
    if len < 64 {
        bits & ((1u64 << len) - 1)
    } else {
        bits
    }
}

/// The numbering sweep of one slab (sites `lo..` of `chunk`) whose first cluster takes number
/// `first` + 1; `roots` are the slab's roots and `numbers` those of the `outside` roots.
/// Returns the slab's last number.
///
/// 64 sites at a time, ascending: the roots take the next numbers; every other present site
/// then takes its parent's entry, which holds a number already (its parent is a root, or a
/// smaller site of the slab), or an outside root's number. Absent sites hold 0 since pass 1
/// (`SlabRoots::NUMBERING`) and are not visited. The two kinds are told apart by their bits,
/// not by a branch per site: whether a site of a random volume is a root is a coin toss that a
/// branch would mispredict.
fn number_slab(
    lo: usize,
    chunk: &mut [u32],
    first: u32,
    present: &[u64],
    roots: &RootBits,
    outside: &[u32],
    numbers: &[u32],
) -> u32 {
    let mut next = first;
    for (k, &root_bits) in roots.words.iter().enumerate() {
        let b = 64 * k;
        let len = (chunk.len() - b).min(64);
        let bits = bits_at(present, lo + b, len);
        let mut left = root_bits;
        while left != 0 {
            let i = b + left.trailing_zeros() as usize;
            left &= left - 1;
            next += 1;
            chunk[i] = next;
        }
        let mut left = bits & !root_bits;
        while left != 0 {
            let i = b + left.trailing_zeros() as usize;
            left &= left - 1;
            let parent = chunk[i] as usize;
            chunk[i] = if parent >= lo {
                chunk[parent - lo]
            } else {
                let root = outside
                    .binary_search(&(parent as u32))
                    .expect("a root outside the slab is one of the merge's");
                numbers[root]
            };
        }
    }
    next
}

#[cfg(test)]
mod tests {
    //! The numbering sweep (`number_occupancy` on open lattices) against the oracle it replaces
    //! in production: `numbered_labels` of the roots `label_occupancy` gives (still the path of
    //! periodic lattices), itself checked against the plain definition.
    use crate::occupancy::tests::lattice_of;
    use crate::occupancy::{label_occupancy, number_occupancy, Presence};
    use proptest::prelude::*;
    use tunnelgrid_model::{Boundary, Lattice, LatticeKind};

    /// Random voxels of `lattice`, occupied with probability about `p`, from `seed`.
    fn presence_of(lattice: &Lattice, p: f64, seed: u64) -> Presence {
        let threshold = (p * f64::from(u32::MAX)) as u64;
        let voxels: Vec<u32> = (0..lattice.sites())
            .map(|i| {
                u32::from(u64::from(tunnelgrid_model::hash::site_hash(seed, i, 0)) < threshold)
            })
            .collect();
        Presence::of_voxels(&voxels, |v| v != 0)
    }

    /// The oracle: roots labelled on one slab, numbered afterwards.
    fn oracle(lattice: &Lattice, presence: &Presence) -> (Vec<u32>, u32) {
        let mut roots = vec![0u32; lattice.sites() as usize];
        label_occupancy(lattice, presence, 1, &mut roots);
        super::numbered_labels(roots, presence.words())
    }

    fn check(lattice: &Lattice, presence: &Presence, slabs: usize) {
        let context = format!(
            "{:?} {:?} connectivity {} {:?} slabs {slabs}",
            lattice.kind,
            lattice.cells,
            lattice.connectivity(),
            lattice.boundary
        );
        let (expected, n) = oracle(lattice, presence);
        let (labels, m) = number_occupancy(lattice, presence, slabs);
        assert_eq!(m, n, "{context}");
        if let Some(site) = (0..labels.len()).find(|&s| labels[s] != expected[s]) {
            panic!(
                "{context}: site {site} numbered {}, expected {}",
                labels[site], expected[site]
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Every lattice kind and voxel connectivity, open (the numbering sweep) or periodic
        /// (roots numbered after), sizes down to one cell, more slabs than layers.
        #[test]
        fn numbered_while_labelling_equals_the_oracle(
            choice in 0usize..8,
            nx in 1u32..9, ny in 1u32..9, nz in 1u32..9,
            periodic in prop::array::uniform3(prop::bool::weighted(0.2)),
            p in 0.0f64..1.0,
            seed in any::<u64>(),
            slabs in 1usize..12,
        ) {
            let boundary = periodic.map(|p| if p { Boundary::Periodic } else { Boundary::Open });
            let lattice = lattice_of(choice, [nx, ny, nz], boundary);
            check(&lattice, &presence_of(&lattice, p, seed), slabs);
        }

        /// Volumes as the Python module labels them: open sc voxels, 6, 18 or 26 neighbours,
        /// rows not a multiple of 64 sites (slabs that start inside a presence word), 2D images.
        #[test]
        fn numbered_volumes_equal_the_oracle(
            connectivity in prop::sample::select(vec![6u32, 18, 26]),
            nx in 1u32..150, ny in 1u32..12, nz in 1u32..12,
            image in prop::bool::weighted(0.2),
            p in 0.05f64..0.95,
            seed in any::<u64>(),
            slabs in 1usize..16,
        ) {
            let cells = [nx, ny, if image { 1 } else { nz }];
            let lattice = Lattice::sc_with_connectivity(cells, [Boundary::Open; 3], connectivity);
            check(&lattice, &presence_of(&lattice, p, seed), slabs);
        }
    }

    /// Percolating volumes, where one cluster crosses every slab face and most roots of a slab
    /// lie in earlier slabs.
    #[test]
    fn percolating_volumes_equal_the_oracle() {
        for (cells, connectivity, p) in [
            ([40, 37, 33], 6, 0.3116),
            ([64, 64, 16], 6, 0.6),
            ([130, 3, 20], 6, 0.75),
            ([33, 31, 29], 18, 0.14),
            ([33, 31, 29], 26, 0.1),
            ([257, 190, 1], 6, 0.593),
        ] {
            let lattice = Lattice::sc_with_connectivity(cells, [Boundary::Open; 3], connectivity);
            let presence = presence_of(&lattice, p, 7);
            for slabs in [1, 2, 3, 7, 64] {
                check(&lattice, &presence, slabs);
            }
        }
    }

    /// The oracle against the definition: clusters numbered 1, 2, … as their first site comes
    /// in site order, 0 for absent sites.
    #[test]
    fn the_oracle_numbers_clusters_by_their_first_site() {
        let lattice = Lattice::new(LatticeKind::Sc, [23, 19, 17], [Boundary::Open; 3]);
        let presence = presence_of(&lattice, 0.3116, 3);
        let mut roots = vec![0u32; lattice.sites() as usize];
        label_occupancy(&lattice, &presence, 3, &mut roots);
        let (numbered, n) = super::numbered_labels(roots.clone(), presence.words());
        let mut number_of_root = std::collections::HashMap::new();
        for (site, &root) in roots.iter().enumerate() {
            let expected = if presence.is_present(site as u64) {
                let next = number_of_root.len() as u32 + 1;
                *number_of_root.entry(root).or_insert(next)
            } else {
                0
            };
            assert_eq!(numbered[site], expected, "site {site}");
        }
        assert_eq!(n as usize, number_of_root.len());
        assert!(n > 100, "{n} clusters: a test of many");
    }

    /// Every slab empty but one site, and every site present: the edges of the counts.
    #[test]
    fn empty_and_full_volumes() {
        let lattice = Lattice::new(LatticeKind::Sc, [70, 5, 9], [Boundary::Open; 3]);
        for p in [0.0, 1.0] {
            let presence = presence_of(&lattice, p, 1);
            for slabs in [1, 4, 9, 20] {
                check(&lattice, &presence, slabs);
            }
        }
        let mut voxels = vec![0u8; lattice.sites() as usize];
        voxels[lattice.sites() as usize - 1] = 1;
        check(&lattice, &Presence::of_voxels(&voxels, |v| v != 0), 4);
    }
}
