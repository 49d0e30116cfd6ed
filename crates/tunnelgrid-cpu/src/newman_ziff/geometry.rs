//! Sites and their neighbours computed from the site index, so that a sweep reads no neighbour
//! table: a table of every site's neighbours (what the sweep used before) is 48 bytes per sc site,
//! larger than the whole sweep state, and every lookup in it is one more cache miss.
//!
//! A site index is `((z·ny + y)·nx + x)·B + b` (MODEL.md §2); decoding it takes three divisions by
//! run constants, done as multiplications ([`FastDiv`]).

use tunnelgrid_model::{Boundary, Lattice};

/// Division of u32 numbers by a fixed u32 divisor by one 64×64→128-bit multiplication
/// (Lemire, Kaser & Kurz, "Faster remainder by direct computation", 2019: with
/// M = ⌊(2^64 − 1)/d⌋ + 1, ⌊n/d⌋ is the high word of M·n for every 32-bit n and d).
#[derive(Debug, Clone, Copy)]
pub(super) struct FastDiv {
    divisor: u32,
    magic: u64,
}

impl FastDiv {
    pub(super) fn new(divisor: u32) -> Self {
        assert!(divisor > 0);
        let magic = if divisor == 1 {
            0
        } else {
            u64::MAX / divisor as u64 + 1
        };
        Self { divisor, magic }
    }

    /// ⌊n / d⌋ and n mod d.
    #[inline(always)]
    pub(super) fn div_rem(self, n: u32) -> (u32, u32) {
        let q = if self.divisor == 1 {
            n
        } else {
            ((self.magic as u128 * n as u128) >> 64) as u32
        };
        (q, n - q * self.divisor)
    }
}

/// One neighbour of a basis site: the cell offset and the basis index reached.
#[derive(Debug, Clone, Copy)]
pub(super) struct Step {
    offset: [i32; 3],
    to: u32,
}

/// A decoded site.
#[derive(Debug, Clone, Copy)]
pub(super) struct Place {
    pub(super) cell: [u32; 3],
    pub(super) basis: u32,
}

/// The lattice's shape, reduced to what neighbour arithmetic needs.
#[derive(Debug, Clone)]
pub(super) struct Geometry {
    cells: [u32; 3],
    basis: u32,
    /// Whether a step past a face wraps (periodic axis of the lattice's dimension) or is cut.
    periodic: [bool; 3],
    /// Axes whose faces count for spanning (open axes of the lattice's dimension).
    open: [bool; 3],
    div_basis: FastDiv,
    div_nx: FastDiv,
    div_ny: FastDiv,
    /// Per basis site: every neighbour, forward bonds first, then the backward ones.
    all: Vec<Vec<Step>>,
    /// Per basis site: the forward bonds in the lattice's order k.
    forward: Vec<Vec<Step>>,
}

impl Geometry {
    pub(super) fn new(lattice: &Lattice) -> Self {
        let basis = lattice.basis_len();
        let axes = lattice.axes();
        let forward: Vec<Vec<Step>> = (0..basis)
            .map(|b| {
                lattice
                    .forward_bonds(b)
                    .iter()
                    .map(|fb| Step {
                        offset: fb.cell_offset,
                        to: fb.to,
                    })
                    .collect()
            })
            .collect();
        let all = (0..basis)
            .map(|b| {
                let mut steps = forward[b as usize].clone();
                for from in 0..basis {
                    for fb in lattice.forward_bonds(from) {
                        if fb.to == b {
                            steps.push(Step {
                                offset: fb.cell_offset.map(|o| -o),
                                to: from,
                            });
                        }
                    }
                }
                steps
            })
            .collect();
        Self {
            cells: lattice.cells,
            basis,
            periodic: std::array::from_fn(|a| {
                a < axes && lattice.boundary[a] == Boundary::Periodic
            }),
            open: std::array::from_fn(|a| a < axes && lattice.boundary[a] == Boundary::Open),
            div_basis: FastDiv::new(basis),
            div_nx: FastDiv::new(lattice.cells[0]),
            div_ny: FastDiv::new(lattice.cells[1]),
            all,
            forward,
        }
    }

    /// Forward bonds per site when every basis site has the same number (true of every lattice
    /// kind: a site's forward bonds are half of its coordination shell).
    pub(super) fn uniform_forward_bonds(&self) -> Option<u32> {
        let first = self.forward[0].len();
        self.forward
            .iter()
            .all(|f| f.len() == first)
            .then_some(first as u32)
    }

    #[inline(always)]
    pub(super) fn place(&self, site: u32) -> Place {
        let (cell, basis) = self.div_basis.div_rem(site);
        let (row, x) = self.div_nx.div_rem(cell);
        let (z, y) = self.div_ny.div_rem(row);
        Place {
            cell: [x, y, z],
            basis,
        }
    }

    /// Face-touch bits of a site: bit 2i on the low face of open axis i, bit 2i + 1 on its high
    /// face (a multi-site lattice's faces are its first and last cell layers, MODEL-READINGS).
    #[inline(always)]
    pub(super) fn faces(&self, place: &Place) -> u8 {
        let mut bits = 0u8;
        for axis in 0..3 {
            if self.open[axis] {
                let c = place.cell[axis];
                bits |= u8::from(c == 0) << (2 * axis);
                bits |= u8::from(c + 1 == self.cells[axis]) << (2 * axis + 1);
            }
        }
        bits
    }

    /// The site one step away and the periodic crossings on the way, or `None` where an open
    /// face cuts the bond.
    #[inline(always)]
    fn target(&self, place: &Place, step: &Step) -> Option<(u32, [i8; 3])> {
        let mut cell = [0u32; 3];
        let mut crossing = [0i8; 3];
        for axis in 0..3 {
            let n = self.cells[axis] as i32;
            let mut c = place.cell[axis] as i32 + step.offset[axis];
            if c < 0 || c >= n {
                if !self.periodic[axis] {
                    return None;
                }
                crossing[axis] = if c < 0 { -1 } else { 1 };
                c -= crossing[axis] as i32 * n;
            }
            cell[axis] = c as u32;
        }
        let [nx, ny, _] = self.cells;
        let site = ((cell[2] * ny + cell[1]) * nx + cell[0]) * self.basis + step.to;
        Some((site, crossing))
    }

    /// Calls `visit(neighbour, crossing)` for every neighbour of a site.
    #[inline(always)]
    pub(super) fn for_each_neighbour(&self, place: &Place, mut visit: impl FnMut(u32, [i8; 3])) {
        for step in &self.all[place.basis as usize] {
            if let Some((site, crossing)) = self.target(place, step) {
                visit(site, crossing);
            }
        }
    }

    /// The far end of forward bond `k` of a site, with its crossings.
    #[inline(always)]
    pub(super) fn forward_target(&self, place: &Place, k: u32) -> Option<(u32, [i8; 3])> {
        self.target(place, &self.forward[place.basis as usize][k as usize])
    }

    /// Forward bonds of basis site `b`.
    pub(super) fn forward_len(&self, b: u32) -> u32 {
        self.forward[b as usize].len() as u32
    }

    /// Sites in cell order: (site, place) for every site, without divisions.
    pub(super) fn for_each_site(&self, mut visit: impl FnMut(u32, Place)) {
        let mut site = 0u32;
        for z in 0..self.cells[2] {
            for y in 0..self.cells[1] {
                for x in 0..self.cells[0] {
                    for basis in 0..self.basis {
                        visit(
                            site,
                            Place {
                                cell: [x, y, z],
                                basis,
                            },
                        );
                        site += 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelgrid_model::LatticeKind;

    #[test]
    fn fast_division_is_exact() {
        for d in [1u32, 2, 3, 7, 8, 12, 100, 127, 128, 1000, 65535, 1 << 20] {
            let f = FastDiv::new(d);
            for n in (0..5000u32).chain([u32::MAX, u32::MAX - 1, 1 << 31, (1 << 31) - 1]) {
                assert_eq!(f.div_rem(n), (n / d, n % d), "{n} / {d}");
            }
        }
    }

    /// Computed neighbours are the lattice's own, forward and backward, with the same crossings.
    #[test]
    fn computed_neighbours_match_the_lattice() {
        use Boundary::{Open, Periodic};
        for kind in LatticeKind::ALL {
            for boundary in [[Open; 3], [Periodic; 3], [Periodic, Open, Periodic]] {
                let n = 4;
                let lattice =
                    Lattice::new(kind, [n, n + 1, if kind.is_2d() { 1 } else { 3 }], boundary);
                let geometry = Geometry::new(&lattice);
                let mut want = vec![Vec::new(); lattice.sites() as usize];
                for site in 0..lattice.sites() {
                    let (cell, b) = lattice.coords(site);
                    for bond in lattice.forward_bonds(b) {
                        if let Some(nb) = lattice.neighbour(cell, bond) {
                            let c = nb.crossing.map(|c| c as i8);
                            want[site as usize].push((nb.site as u32, c));
                            want[nb.site as usize].push((site as u32, c.map(|c| -c)));
                        }
                    }
                }
                for site in 0..lattice.sites() as u32 {
                    let place = geometry.place(site);
                    assert_eq!(
                        (place.cell, place.basis),
                        lattice.coords(site as u64),
                        "{kind}"
                    );
                    let mut got = Vec::new();
                    geometry.for_each_neighbour(&place, |t, c| got.push((t, c)));
                    let mut expected = want[site as usize].clone();
                    got.sort_unstable();
                    expected.sort_unstable();
                    assert_eq!(got, expected, "{kind} {boundary:?} site {site}");
                }
            }
        }
    }
}
