//! Lattices (MODEL.md §2): conventional cells with a basis, forward-bond tables, boundaries.
//!
//! A site is `((z*ny + y)*nx + x)*B + b`. Each bond is stored once, on the site that owns its
//! *forward* half: the bond vector v (in units of the cell edges) is forward when it is
//! lexicographically positive in (z, y, x), i.e. v.z > 0, or v.z = 0 and v.y > 0, or v.z = v.y = 0
//! and v.x > 0. Forward bonds of one basis site are ordered by (v.z, v.y, v.x), which gives
//! `sc`, `tetragonal`: k = 0 +x, 1 +y, 2 +z (a) · (1,0,0), (0,1,0), (0,0,1);
//! `square`: k = 0 +x, 1 +y;
//! `bcc` (basis 0 at the corner, 1 at the body centre): k = 0..3 are (±½, ±½, +½) in the order
//! (−,−), (+,−), (−,+), (+,+) of (x, y);
//! `fcc` (basis 0 corner, 1 (0,½,½), 2 (½,0,½), 3 (½,½,0)): the six vectors (±½,±½,0),
//! (±½,0,±½), (0,±½,±½) that are forward: (−½,+½,0), (+½,+½,0), (0,−½,+½), (−½,0,+½), (+½,0,+½),
//! (0,+½,+½) in that order;
//! `diamond` (fcc basis 0..3, then 4..7 shifted by (¼,¼,¼)): two forward bonds per site, the
//! forward ones of (+¼,+¼,+¼), (+¼,−¼,−¼), (−¼,+¼,−¼), (−¼,−¼,+¼) for basis 0..3 and of their
//! negatives for basis 4..7.
//! `forward_table_is_half_of_the_shell` in the tests checks these against the shell rule.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The lattice kinds of MODEL.md §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LatticeKind {
    /// Simple cubic, 6 neighbours.
    Sc,
    /// Body-centred cubic, 8 neighbours, 2 sites per cell.
    Bcc,
    /// Face-centred cubic, 12 neighbours, 4 sites per cell.
    Fcc,
    /// Diamond, 4 neighbours, 8 sites per cell.
    Diamond,
    /// Two-dimensional square lattice, 4 neighbours (nz = 1).
    Square,
    /// Layered: square planes of edge a stacked at c = a·c_over_a; 4 in-plane + 2 out-of-plane.
    Tetragonal,
}

impl LatticeKind {
    /// Every kind, in documentation order.
    pub const ALL: [LatticeKind; 6] = [
        LatticeKind::Sc,
        LatticeKind::Bcc,
        LatticeKind::Fcc,
        LatticeKind::Diamond,
        LatticeKind::Square,
        LatticeKind::Tetragonal,
    ];

    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LatticeKind::Sc => "sc",
            LatticeKind::Bcc => "bcc",
            LatticeKind::Fcc => "fcc",
            LatticeKind::Diamond => "diamond",
            LatticeKind::Square => "square",
            LatticeKind::Tetragonal => "tetragonal",
        }
    }

    /// Fractional positions of the basis sites in the conventional cell.
    pub fn basis(self) -> &'static [[f64; 3]] {
        const ORIGIN: &[[f64; 3]] = &[[0.0, 0.0, 0.0]];
        const BCC: &[[f64; 3]] = &[[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]];
        const FCC: &[[f64; 3]] = &[
            [0.0, 0.0, 0.0],
            [0.0, 0.5, 0.5],
            [0.5, 0.0, 0.5],
            [0.5, 0.5, 0.0],
        ];
        const DIAMOND: &[[f64; 3]] = &[
            [0.0, 0.0, 0.0],
            [0.0, 0.5, 0.5],
            [0.5, 0.0, 0.5],
            [0.5, 0.5, 0.0],
            [0.25, 0.25, 0.25],
            [0.25, 0.75, 0.75],
            [0.75, 0.25, 0.75],
            [0.75, 0.75, 0.25],
        ];
        match self {
            LatticeKind::Sc | LatticeKind::Square | LatticeKind::Tetragonal => ORIGIN,
            LatticeKind::Bcc => BCC,
            LatticeKind::Fcc => FCC,
            LatticeKind::Diamond => DIAMOND,
        }
    }

    /// Number of nearest neighbours of every site (the first coordination shell).
    pub fn coordination(self) -> u32 {
        match self {
            LatticeKind::Sc | LatticeKind::Tetragonal => 6,
            LatticeKind::Bcc => 8,
            LatticeKind::Fcc => 12,
            LatticeKind::Diamond | LatticeKind::Square => 4,
        }
    }

    /// Whether the lattice is two-dimensional (one layer, no z bonds).
    pub fn is_2d(self) -> bool {
        self == LatticeKind::Square
    }
}

impl fmt::Display for LatticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Boundary condition of one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Boundary {
    /// Sites on the faces have fewer neighbours; clusters *span* by touching both faces.
    #[default]
    Open,
    /// The axis wraps around; clusters *wrap* by connecting to their own periodic image.
    Periodic,
}

/// One entry of the forward-bond table: from basis site `from` of a cell to basis site `to` of the
/// cell at `cell_offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForwardBond {
    /// Offset of the target cell, each component in {−1, 0, 1} (z in {0, 1}).
    pub cell_offset: [i32; 3],
    /// Basis index of the site that stores the bond.
    pub from: u32,
    /// Basis index of the bonded site.
    pub to: u32,
    /// Ideal bond vector in units of the cell edges (multiply by a_i for ångström).
    pub vector_cells: [f64; 3],
}

/// Builds the forward-bond table of a kind: for each basis site, the forward half of its first
/// coordination shell (see the module documentation for the rule and the resulting order).
/// `shells` > 1 keeps the first `shells` distinct distances instead: on sc, 2 shells are the 18
/// face and edge neighbours and 3 shells the 26 face, edge and corner neighbours of a voxel.
fn forward_table(kind: LatticeKind, shells: usize) -> Vec<Vec<ForwardBond>> {
    let basis = kind.basis();
    let z_offsets: &[i32] = if kind.is_2d() { &[0] } else { &[-1, 0, 1] };
    // Shell selection in cubic units; tetragonal keeps the sc table (its 4 + 2 neighbours).
    let mut table = Vec::with_capacity(basis.len());
    for (from, fb) in basis.iter().enumerate() {
        let mut candidates: Vec<(f64, ForwardBond)> = Vec::new();
        for &dz in z_offsets {
            for dy in -1..=1 {
                for dx in -1..=1 {
                    for (to, tb) in basis.iter().enumerate() {
                        let offset = [dx, dy, dz];
                        let v: [f64; 3] = std::array::from_fn(|i| offset[i] as f64 + tb[i] - fb[i]);
                        let d2 = v.iter().map(|c| c * c).sum::<f64>();
                        if d2 > 1e-9 {
                            let bond = ForwardBond {
                                cell_offset: offset,
                                from: from as u32,
                                to: to as u32,
                                vector_cells: v,
                            };
                            candidates.push((d2, bond));
                        }
                    }
                }
            }
        }
        let mut distances: Vec<f64> = candidates.iter().map(|c| c.0).collect();
        distances.sort_by(|a, b| a.partial_cmp(b).expect("finite distances"));
        distances.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        let shell = distances[shells.min(distances.len()) - 1];
        let mut forward: Vec<ForwardBond> = candidates
            .into_iter()
            .filter(|(d2, b)| *d2 < shell + 1e-9 && is_forward(b.vector_cells))
            .map(|(_, b)| b)
            .collect();
        forward.sort_by(|a, b| {
            let key = |v: [f64; 3]| [v[2], v[1], v[0]];
            key(a.vector_cells)
                .partial_cmp(&key(b.vector_cells))
                .expect("bond vectors are finite")
        });
        table.push(forward);
    }
    table
}

fn is_forward(v: [f64; 3]) -> bool {
    const EPS: f64 = 1e-9;
    v[2] > EPS || (v[2].abs() < EPS && (v[1] > EPS || (v[1].abs() < EPS && v[0] > EPS)))
}

/// A lattice of `cells` conventional cells with per-axis boundaries.
#[derive(Debug, Clone)]
pub struct Lattice {
    /// Which lattice.
    pub kind: LatticeKind,
    /// Number of cells along x, y, z.
    pub cells: [u32; 3],
    /// Boundary condition per axis.
    pub boundary: [Boundary; 3],
    forward: Vec<Vec<ForwardBond>>,
}

/// The bonded site reached by a forward bond, and how many times it crossed a periodic boundary
/// per axis (−1, 0 or +1), which wrapping detection needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    /// Site index of the bonded site.
    pub site: u64,
    /// Periodic crossings per axis.
    pub crossing: [i32; 3],
}

impl Lattice {
    /// A lattice of the given kind and size. Sizes are validated by the config layer.
    pub fn new(kind: LatticeKind, cells: [u32; 3], boundary: [Boundary; 3]) -> Self {
        Self {
            kind,
            cells,
            boundary,
            forward: forward_table(kind, 1),
        }
    }

    /// An sc lattice whose sites bond to their 6 face, 18 face and edge, or 26 face, edge and
    /// corner neighbours (voxel connectivity; validated by the config layer). The forward table
    /// follows the module's order rule, so with 18 or 26 the face bonds +x, +y, +z are no longer
    /// k = 0, 1, 2 (13 forward bonds use 26 of the bond mask's 32 bits).
    pub fn sc_with_connectivity(
        cells: [u32; 3],
        boundary: [Boundary; 3],
        connectivity: u32,
    ) -> Self {
        let shells = match connectivity {
            26 => 3,
            18 => 2,
            _ => 1,
        };
        Self {
            kind: LatticeKind::Sc,
            cells,
            boundary,
            forward: forward_table(LatticeKind::Sc, shells),
        }
    }

    /// Neighbours per site: the first-shell coordination, or 18/26 for voxel connectivity.
    pub fn connectivity(&self) -> u32 {
        2 * self.max_forward_bonds() as u32
    }

    /// Sites per cell (B).
    pub fn basis_len(&self) -> u32 {
        self.kind.basis().len() as u32
    }

    /// Total number of sites, nx·ny·nz·B.
    pub fn sites(&self) -> u64 {
        self.cells.iter().map(|&n| n as u64).product::<u64>() * self.basis_len() as u64
    }

    /// Sites in one z layer of cells (nx·ny·B).
    pub fn sites_per_layer(&self) -> u64 {
        self.cells[0] as u64 * self.cells[1] as u64 * self.basis_len() as u64
    }

    /// The axes that carry a spanning/state question: x, y, z (x, y for 2D lattices).
    pub fn axes(&self) -> usize {
        if self.kind.is_2d() {
            2
        } else {
            3
        }
    }

    /// Forward bonds stored on basis site `b`.
    pub fn forward_bonds(&self, b: u32) -> &[ForwardBond] {
        &self.forward[b as usize]
    }

    /// Largest number of forward bonds of any basis site (bits 2k, 2k+1 of the bond mask).
    pub fn max_forward_bonds(&self) -> usize {
        self.forward.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Site index of cell (x, y, z), basis b.
    #[inline(always)]
    pub fn site_index(&self, x: u32, y: u32, z: u32, b: u32) -> u64 {
        let [nx, ny, _] = self.cells;
        (((z as u64 * ny as u64) + y as u64) * nx as u64 + x as u64) * self.basis_len() as u64
            + b as u64
    }

    /// Cell coordinates and basis index of a site.
    #[inline(always)]
    pub fn coords(&self, site: u64) -> ([u32; 3], u32) {
        let basis = self.basis_len() as u64;
        let b = (site % basis) as u32;
        let cell = site / basis;
        let [nx, ny, _] = self.cells;
        let x = (cell % nx as u64) as u32;
        let y = ((cell / nx as u64) % ny as u64) as u32;
        let z = (cell / (nx as u64 * ny as u64)) as u32;
        ([x, y, z], b)
    }

    /// The site a forward bond of cell `cell` leads to, or `None` where an open boundary cuts it.
    #[inline(always)]
    pub fn neighbour(&self, cell: [u32; 3], bond: &ForwardBond) -> Option<Neighbour> {
        let mut target = [0u32; 3];
        let mut crossing = [0i32; 3];
        for axis in 0..3 {
            let n = self.cells[axis] as i64;
            let c = cell[axis] as i64 + bond.cell_offset[axis] as i64;
            if c < 0 || c >= n {
                if self.boundary[axis] == Boundary::Open || (self.kind.is_2d() && axis == 2) {
                    return None;
                }
                crossing[axis] = if c < 0 { -1 } else { 1 };
                target[axis] = c.rem_euclid(n) as u32;
            } else {
                target[axis] = c as u32;
            }
        }
        Some(Neighbour {
            site: self.site_index(target[0], target[1], target[2], bond.to),
            crossing,
        })
    }

    /// Number of bonds of the lattice graph (every possible bond, whether or not it tunnels).
    pub fn possible_bonds(&self) -> u64 {
        let mut total = 0u64;
        for b in 0..self.basis_len() {
            for bond in self.forward_bonds(b) {
                let mut count = 1u64;
                for axis in 0..3 {
                    let n = self.cells[axis] as u64;
                    let off = bond.cell_offset[axis].unsigned_abs() as u64;
                    let cut =
                        self.boundary[axis] == Boundary::Open || (self.kind.is_2d() && axis == 2);
                    count *= if cut { n.saturating_sub(off) } else { n };
                }
                total += count;
            }
        }
        total
    }

    /// Whether cell coordinate `c` lies on the low (`high == false`) or high face of `axis`.
    #[inline(always)]
    pub fn on_face(&self, c: u32, axis: usize, high: bool) -> bool {
        if high {
            c == self.cells[axis] - 1
        } else {
            c == 0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn all_open(kind: LatticeKind, n: u32) -> Lattice {
        let nz = if kind.is_2d() { 1 } else { n };
        Lattice::new(kind, [n, n, nz], [Boundary::Open; 3])
    }

    #[test]
    fn forward_table_is_half_of_the_shell() {
        for kind in LatticeKind::ALL {
            let lattice = all_open(kind, 4);
            let forward_total: usize = (0..lattice.basis_len())
                .map(|b| lattice.forward_bonds(b).len())
                .sum();
            assert_eq!(
                2 * forward_total,
                (kind.coordination() * lattice.basis_len()) as usize,
                "{kind}"
            );
        }
        let sc = all_open(LatticeKind::Sc, 2);
        let vectors: Vec<_> = sc.forward_bonds(0).iter().map(|b| b.vector_cells).collect();
        assert_eq!(
            vectors,
            vec![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        );
        for kind in LatticeKind::ALL {
            assert!(all_open(kind, 2).max_forward_bonds() <= crate::params::MAX_FORWARD_BONDS);
        }
        let square = all_open(LatticeKind::Square, 2);
        assert_eq!(square.max_forward_bonds(), 2);
        assert_eq!(
            all_open(LatticeKind::Fcc, 2).max_forward_bonds(),
            6,
            "fcc stores 6 bonds: 12 mask bits"
        );
    }

    /// Degree of every site in a periodic lattice equals the coordination number, and in an open
    /// lattice the bond count equals what `possible_bonds` predicts.
    #[test]
    fn neighbour_and_bond_counts() {
        for kind in LatticeKind::ALL {
            for boundary in [Boundary::Open, Boundary::Periodic] {
                let n = 4;
                let nz = if kind.is_2d() { 1 } else { n };
                let lattice = Lattice::new(kind, [n, n, nz], [boundary; 3]);
                let mut degree = vec![0u32; lattice.sites() as usize];
                let mut pairs = HashSet::new();
                let mut bonds = 0u64;
                for site in 0..lattice.sites() {
                    let (cell, b) = lattice.coords(site);
                    for bond in lattice.forward_bonds(b) {
                        if let Some(nb) = lattice.neighbour(cell, bond) {
                            degree[site as usize] += 1;
                            degree[nb.site as usize] += 1;
                            bonds += 1;
                            let pair = (site.min(nb.site), site.max(nb.site));
                            assert!(pairs.insert(pair), "{kind}: bond stored twice");
                        }
                    }
                }
                assert_eq!(bonds, lattice.possible_bonds(), "{kind} {boundary:?}");
                if boundary == Boundary::Periodic {
                    assert!(
                        degree.iter().all(|&d| d == kind.coordination()),
                        "{kind}: periodic degree"
                    );
                } else {
                    let max = *degree.iter().max().unwrap();
                    assert_eq!(max, kind.coordination(), "{kind}: interior degree");
                    assert!(degree.iter().any(|&d| d < kind.coordination()));
                }
            }
        }
    }

    #[test]
    fn open_bond_counts_by_hand() {
        // sc L³: 3·L²·(L−1) bonds; square L²: 2·L·(L−1).
        assert_eq!(all_open(LatticeKind::Sc, 5).possible_bonds(), 3 * 25 * 4);
        assert_eq!(all_open(LatticeKind::Square, 5).possible_bonds(), 2 * 5 * 4);
        let periodic = Lattice::new(LatticeKind::Fcc, [3, 3, 3], [Boundary::Periodic; 3]);
        assert_eq!(periodic.possible_bonds(), 27 * 4 * 12 / 2);
    }

    #[test]
    fn site_index_round_trips() {
        let lattice = Lattice::new(LatticeKind::Diamond, [3, 4, 5], [Boundary::Open; 3]);
        for site in 0..lattice.sites() {
            let (c, b) = lattice.coords(site);
            assert_eq!(lattice.site_index(c[0], c[1], c[2], b), site);
        }
    }

    #[test]
    fn forward_bonds_never_step_back_in_z() {
        for kind in LatticeKind::ALL {
            let lattice = all_open(kind, 3);
            for b in 0..lattice.basis_len() {
                assert!(lattice
                    .forward_bonds(b)
                    .iter()
                    .all(|f| f.cell_offset[2] == 0 || f.cell_offset[2] == 1));
            }
        }
    }

    #[test]
    fn voxel_connectivity_keeps_faces_edges_and_corners() {
        for (connectivity, forward, max_d2) in [(6, 3, 1.0), (18, 9, 2.0), (26, 13, 3.0)] {
            let l = Lattice::sc_with_connectivity([4, 4, 4], [Boundary::Open; 3], connectivity);
            let table = l.forward_bonds(0);
            assert_eq!(table.len(), forward, "{connectivity}");
            assert_eq!(l.connectivity(), connectivity);
            let d2 = |f: &ForwardBond| f.vector_cells.iter().map(|c| c * c).sum::<f64>();
            assert!(table
                .iter()
                .all(|f| d2(f) <= max_d2 + 1e-9 && is_forward(f.vector_cells)));
            // Every neighbour of the 3×3×3 block is in the table once, forward or backward.
            let mut offsets: Vec<[i32; 3]> = table.iter().map(|f| f.cell_offset).collect();
            offsets.extend(table.iter().map(|f| f.cell_offset.map(|c| -c)));
            offsets.sort();
            offsets.dedup();
            assert_eq!(offsets.len(), connectivity as usize);
            // 13 forward bonds need 26 mask bits, below the present bit 31.
            assert!(2 * table.len() <= 31);
        }
    }
}
