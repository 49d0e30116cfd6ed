//! Walking a lattice layer by layer without dividing site indices, and neighbour lookup with a
//! fast path for interior cells.

use tunnelgrid_model::lattice::{Lattice, Neighbour};

/// A site with its cell coordinates and basis index.
#[derive(Debug, Clone, Copy)]
pub struct SiteRef {
    /// Site index.
    pub index: u64,
    /// Cell coordinates.
    pub cell: [u32; 3],
    /// Basis index.
    pub basis: u32,
}

/// Iterates the sites of one z layer in index order.
pub struct LayerWalker {
    next: Option<SiteRef>,
    nx: u32,
    ny: u32,
    basis_len: u32,
}

impl LayerWalker {
    /// Starts at the first site of layer `z`.
    pub fn new(lattice: &Lattice, z: u32) -> Self {
        let index = lattice.site_index(0, 0, z, 0);
        Self {
            next: Some(SiteRef {
                index,
                cell: [0, 0, z],
                basis: 0,
            }),
            nx: lattice.cells[0],
            ny: lattice.cells[1],
            basis_len: lattice.basis_len(),
        }
    }

    /// The next site of the layer, or None at its end.
    #[inline(always)]
    pub fn next_site(&mut self) -> Option<SiteRef> {
        let current = self.next?;
        let mut n = current;
        n.index += 1;
        n.basis += 1;
        if n.basis == self.basis_len {
            n.basis = 0;
            n.cell[0] += 1;
            if n.cell[0] == self.nx {
                n.cell[0] = 0;
                n.cell[1] += 1;
            }
        }
        self.next = (n.cell[1] < self.ny).then_some(n);
        Some(current)
    }
}

/// Index steps of every forward bond for cells away from all faces.
pub struct NeighbourSteps {
    steps: Vec<Vec<i64>>,
    last: [u32; 3],
}

impl NeighbourSteps {
    /// Precomputes the steps of `lattice`'s forward bonds.
    pub fn new(lattice: &Lattice) -> Self {
        let [nx, ny, _] = lattice.cells.map(|n| n as i64);
        let basis = lattice.basis_len() as i64;
        let steps = (0..lattice.basis_len())
            .map(|b| {
                lattice
                    .forward_bonds(b)
                    .iter()
                    .map(|f| {
                        let [dx, dy, dz] = f.cell_offset.map(|o| o as i64);
                        ((dz * ny + dy) * nx + dx) * basis + f.to as i64 - f.from as i64
                    })
                    .collect()
            })
            .collect();
        Self {
            steps,
            last: lattice.cells.map(|n| n - 1),
        }
    }

    /// The site forward bond `k` of `site` leads to (`None` where an open face cuts it).
    #[inline(always)]
    pub fn neighbour(&self, lattice: &Lattice, site: &SiteRef, k: usize) -> Option<Neighbour> {
        let [x, y, z] = site.cell;
        if x > 0 && x < self.last[0] && y > 0 && y < self.last[1] && z < self.last[2] {
            Some(Neighbour {
                site: site
                    .index
                    .wrapping_add_signed(self.steps[site.basis as usize][k]),
                crossing: [0; 3],
            })
        } else {
            lattice.neighbour(site.cell, &lattice.forward_bonds(site.basis)[k])
        }
    }
}

/// Calls `visit` for every site whose cell lies on the low (`high == false`) or high face of
/// `axis`.
pub fn for_each_face_site(
    lattice: &Lattice,
    axis: usize,
    high: bool,
    mut visit: impl FnMut(SiteRef),
) {
    let fixed = if high { lattice.cells[axis] - 1 } else { 0 };
    let (u, v) = match axis {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    };
    for cv in 0..lattice.cells[v] {
        for cu in 0..lattice.cells[u] {
            let mut cell = [0u32; 3];
            cell[axis] = fixed;
            cell[u] = cu;
            cell[v] = cv;
            for basis in 0..lattice.basis_len() {
                let index = lattice.site_index(cell[0], cell[1], cell[2], basis);
                visit(SiteRef { index, cell, basis });
            }
        }
    }
}
