//! Run-based labelling of one-site lattices (sc, square, tetragonal) straight from the
//! occupancy: pass 1 of `labels.rs` (and its merge across slab faces) for the site and volume
//! modes.
//!
//! A row is a sequence of runs of present sites. A branch-free scan of the row's presence bits
//! points every site of a run at the run's first site (its smallest index). Two runs of
//! adjacent rows (−y) or layers (−z) touch where the AND of their bit rows is set, and each run
//! of that AND is exactly one touching pair of runs, so one union per run of the AND joins
//! them: at p_c 2p²(1 − p²) ≈ 0.18 unions per site, against 3p² ≈ 0.29 bonds per site in the
//! bond-mask raster scan, and bonds along x cost nothing. The tunnel bonds are the popcounts of
//! the same ANDs (and of a row with itself shifted by one along x), periodic ones included, so
//! the bond count costs no pass of its own. A labelling that numbers its clusters
//! (`numbering.rs`) has pass 1 keep each slab's roots instead: every run's first site, less
//! those a union links under another (`SlabRoots`).

use crate::labels::{union_local, SlabRoots};
use crate::occupancy::Presence;
use std::ops::Range;
use tunnelgrid_model::{Boundary, Lattice};

/// Whether `lattice` can be labelled by runs: one site per cell and bonds along ±x, ±y, ±z
/// only (sc, square, tetragonal; not bcc/fcc/diamond, not a volume's 18/26 connectivity).
pub(crate) fn labels_by_runs(lattice: &Lattice) -> bool {
    lattice.basis_len() == 1 && lattice.max_forward_bonds() <= 3
}

/// Calls `join(site, site one layer up)` once per pair of touching runs of layers `z` and
/// z + 1: the merge of two slabs, each of whose runs is already one cluster.
pub(crate) fn joins_between_layers(
    lattice: &Lattice,
    presence: &Presence,
    z: u32,
    mut join: impl FnMut(u64, u64),
) {
    let [nx, ny, _] = lattice.cells.map(|n| n as usize);
    let layer = (nx * ny) as u64;
    let words = nx.div_ceil(64);
    let (mut low, mut high) = (vec![0u64; words], vec![0u64; words]);
    for y in 0..ny {
        let row_start = z as u64 * layer + (y * nx) as u64;
        presence.row_bits(row_start, nx, &mut low);
        presence.row_bits(row_start + layer, nx, &mut high);
        for_each_touching_run(&low, &high, |x| {
            join(row_start + x as u64, row_start + x as u64 + layer);
        });
    }
}

/// Labels the sites of layers `zs` (`chunk`, sites `base..`) into a slab-local forest (every
/// parent a smaller index of the slab) from `presence`, telling `roots` of its roots, and
/// returns the number of tunnel bonds stored on them: the forward bonds of the bond mask,
/// counted from the other end (each site's bonds along −x, −y, −z, across periodic faces and
/// the slab's lower face too).
pub(crate) fn label_slab_runs<R: SlabRoots>(
    lattice: &Lattice,
    presence: &Presence,
    zs: Range<u32>,
    chunk: &mut [u32],
    base: u32,
    roots: &mut R,
) -> u64 {
    let [nx, ny, nz] = lattice.cells.map(|n| n as usize);
    let layer = nx * ny;
    let words = nx.div_ceil(64);
    let periodic = lattice.boundary.map(|b| b == Boundary::Periodic);
    let first_z = zs.start as usize;
    // The layer under the slab's first one: its bonds into the slab are counted here but joined
    // by the merge pass (or, across the periodic z face, by the wrap pass).
    let under = if lattice.kind.is_2d() {
        None
    } else if first_z > 0 {
        Some(first_z - 1)
    } else if periodic[2] {
        Some(nz - 1)
    } else {
        None
    };
    let mut current = vec![0u64; ny * words];
    let mut below = vec![0u64; ny * words];
    if let Some(z) = under {
        for (y, bits) in below.chunks_mut(words).enumerate() {
            presence.row_bits((z * layer + y * nx) as u64, nx, bits);
        }
    }
    let mut bonds = 0u64;
    for z in zs.map(|z| z as usize) {
        let has_below = z > first_z || under.is_some();
        for y in 0..ny {
            let row_start = z * layer + y * nx;
            let local = row_start - base as usize;
            let (done, rest) = current.split_at_mut(y * words);
            let bits = &mut rest[..words];
            presence.row_bits(row_start as u64, nx, bits);
            runs_of_row::<R>(bits, &mut chunk[local..][..nx], row_start as u32);
            roots.add_runs(local, bits);
            if !R::NUMBERING {
                bonds += x_bonds(bits, nx, periodic[0]);
            }
            if y > 0 {
                let up = &done[(y - 1) * words..];
                if !R::NUMBERING {
                    bonds += common_sites(bits, up);
                }
                for_each_touching_run(bits, up, |x| {
                    let site = (row_start + x) as u32;
                    if let Some(linked) = union_local(chunk, base, site, site - nx as u32) {
                        roots.remove((linked - base) as usize);
                    }
                });
            }
            if has_below {
                let down = &below[y * words..][..words];
                if !R::NUMBERING {
                    bonds += common_sites(bits, down);
                }
                if z > first_z {
                    for_each_touching_run(bits, down, |x| {
                        let site = (row_start + x) as u32;
                        if let Some(linked) = union_local(chunk, base, site, site - layer as u32) {
                            roots.remove((linked - base) as usize);
                        }
                    });
                }
            }
        }
        if periodic[1] && !R::NUMBERING {
            // Row ny − 1 bonds forward across the face into row 0 (into itself when ny = 1).
            bonds += common_sites(&current[..words], &current[(ny - 1) * words..]);
        }
        std::mem::swap(&mut current, &mut below);
    }
    bonds
}

/// One row: every present site points at the first site of its run, every absent site at
/// itself (or is 0 when numbering, `SlabRoots::NUMBERING`). Branch-free, so random occupancy
/// near p_c costs no mispredictions here.
#[inline]
fn runs_of_row<R: SlabRoots>(bits: &[u64], labels: &mut [u32], first: u32) {
    let mut head = first;
    let mut previous = 0u32;
    let mut site = first;
    for (&word, label_row) in bits.iter().zip(labels.chunks_mut(64)) {
        let len = label_row.len();
        // Whole words of absent or of present sites (common in porous volumes): no per-site
        // decision.
        if word == 0 {
            if R::NUMBERING {
                label_row.fill(0);
            } else {
                for (i, label) in label_row.iter_mut().enumerate() {
                    *label = site + i as u32;
                }
            }
            site += len as u32;
            previous = 0;
            continue;
        }
        if word == u64::MAX >> (64 - len) {
            if previous == 0 {
                head = site;
            }
            label_row.fill(head);
            site += len as u32;
            previous = 1;
            continue;
        }
        for (i, label) in label_row.iter_mut().enumerate() {
            let present = (word >> i) as u32 & 1;
            // A present site after a present one continues the run; any other starts afresh.
            head = if present & previous != 0 { head } else { site };
            *label = if R::NUMBERING {
                head & present.wrapping_neg()
            } else {
                head
            };
            previous = present;
            site += 1;
        }
    }
}

/// Sites present in both bit rows: the bonds between them along the axis that separates them.
#[inline]
fn common_sites(a: &[u64], b: &[u64]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(&a, &b)| u64::from((a & b).count_ones()))
        .sum()
}

/// Bonds inside a row: neighbours x − 1, x both present, and across the periodic x face the
/// pair (nx − 1, 0) (a site with itself when nx = 1, as the bond mask has it).
#[inline]
fn x_bonds(bits: &[u64], nx: usize, periodic: bool) -> u64 {
    let mut carry = 0u64;
    let mut bonds = 0u64;
    for &w in bits {
        bonds += u64::from((w & ((w << 1) | carry)).count_ones());
        carry = w >> 63;
    }
    if periodic {
        let last = nx - 1;
        bonds += bits[0] & (bits[last / 64] >> (last % 64)) & 1;
    }
    bonds
}

/// Calls `join(x)` at the first site x of every run of `a AND b`: each such run is one pair of
/// touching runs, one of `a`'s row and one of `b`'s.
#[inline]
fn for_each_touching_run(a: &[u64], b: &[u64], mut join: impl FnMut(usize)) {
    let mut carry = 0u64;
    for (w, (&a, &b)) in a.iter().zip(b).enumerate() {
        let both = a & b;
        let mut starts = both & !((both << 1) | carry);
        carry = both >> 63;
        while starts != 0 {
            join(w * 64 + starts.trailing_zeros() as usize);
            starts &= starts - 1;
        }
    }
}
