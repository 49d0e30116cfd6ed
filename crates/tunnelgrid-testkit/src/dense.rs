//! Independent dense references for resistor networks, shared by the CPU circuit tests and the
//! GPU solver tests: a dense LU solve with partial pivoting, a network's current between two
//! electrodes solved densely, and a lattice's network built and contracted with its own code.

use std::collections::VecDeque;
use tunnelgrid_cpu::kirchhoff::MIN_GAP_RATIO;
use tunnelgrid_model::params::{sc_bit, tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Lattice};
// ---------------------------------------------------------------------------------------------
// Independent reference: dense LU with partial pivoting.
// ---------------------------------------------------------------------------------------------

/// Solves A·x = b (A row-major n×n) by Gaussian elimination with partial pivoting.
pub fn lu_solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    assert_eq!(a.len(), n * n);
    for k in 0..n {
        let pivot = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap();
        assert!(a[pivot * n + k].abs() > 1e-300, "singular matrix");
        if pivot != k {
            for c in 0..n {
                a.swap(k * n + c, pivot * n + c);
            }
            b.swap(k, pivot);
        }
        let (top, bottom) = a.split_at_mut((k + 1) * n);
        let row_k = &top[k * n..];
        for i in k + 1..n {
            let row_i = &mut bottom[(i - k - 1) * n..(i - k) * n];
            let f = row_i[k] / row_k[k];
            if f != 0.0 {
                for c in k..n {
                    row_i[c] -= f * row_k[c];
                }
                b[i] -= f * b[k];
            }
        }
    }
    let mut x = vec![0.0; n];
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|c| a[k * n + c] * x[c]).sum();
        x[k] = (b[k] - s) / a[k * n + k];
    }
    x
}

/// The current between electrodes at 1 (`Some(1.0)`) and 0 (`Some(0.0)`) of a network given as
/// (a, b, conductance) edges, solved densely: a breadth-first search from the source nodes
/// (bus bar included) keeps the component that holds the sources, which must also hold a sink
/// for any current to flow.
pub fn dense_current(nodes: usize, edges: &[(usize, usize, f64)], fixed: &[Option<f64>]) -> f64 {
    let mut adjacency = vec![Vec::new(); nodes];
    for &(a, b, g) in edges {
        if a != b && g > 0.0 {
            adjacency[a].push(b);
            adjacency[b].push(a);
        }
    }
    let mut seen = vec![false; nodes];
    let mut queue: VecDeque<usize> = (0..nodes).filter(|&i| fixed[i] == Some(1.0)).collect();
    for &s in &queue {
        seen[s] = true;
    }
    while let Some(u) = queue.pop_front() {
        let mut next = adjacency[u].clone();
        if fixed[u] == Some(0.0) {
            // The sink bus bar joins every sink node.
            next.extend((0..nodes).filter(|&i| fixed[i] == Some(0.0)));
        }
        for v in next {
            if !seen[v] {
                seen[v] = true;
                queue.push_back(v);
            }
        }
    }
    if !(0..nodes).any(|i| seen[i] && fixed[i] == Some(0.0)) {
        return 0.0;
    }
    let mut index = vec![usize::MAX; nodes];
    let mut free = 0;
    for i in 0..nodes {
        if seen[i] && fixed[i].is_none() {
            index[i] = free;
            free += 1;
        }
    }
    let mut a = vec![0.0; free * free];
    let mut rhs = vec![0.0; free];
    for &(u, v, g) in edges {
        if u == v || g == 0.0 || !seen[u] {
            continue;
        }
        for (p, q) in [(u, v), (v, u)] {
            if index[p] == usize::MAX {
                continue;
            }
            a[index[p] * free + index[p]] += g;
            match fixed[q] {
                Some(potential) => rhs[index[p]] += g * potential,
                None => a[index[p] * free + index[q]] -= g,
            }
        }
    }
    let x = lu_solve(a, rhs);
    let potential = |i: usize| fixed[i].unwrap_or_else(|| x[index[i]]);
    edges
        .iter()
        .filter(|&&(u, v, g)| seen[u] && u != v && g > 0.0)
        .map(|&(u, v, g)| match (fixed[u], fixed[v]) {
            (Some(1.0), Some(1.0)) => 0.0,
            (Some(1.0), _) => g * (1.0 - potential(v)),
            (_, Some(1.0)) => g * (1.0 - potential(u)),
            _ => 0.0,
        })
        .sum()
}
/// The lattice's network built independently: union-find contraction over the superconducting
/// bonds, resistors r = R0·max(Δ/Δ0, MIN_GAP_RATIO) (R0 in the Bernoulli modes), bonds across
/// the periodic boundary of `axis` dropped, bus bars on the faces; solved densely.
pub fn dense_lattice_resistance(
    lattice: &Lattice,
    params: &BondParams,
    masks: &[u32],
    axis: usize,
) -> f64 {
    let n = lattice.sites() as usize;
    let bernoulli = params.mode.is_bernoulli();
    let mut bonds = Vec::new(); // (site, nb, k, superconducting)
    for site in 0..n as u64 {
        let (cell, b) = lattice.coords(site);
        for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
            let m = masks[site as usize];
            if m & tunnel_bit(k) == 0 {
                continue;
            }
            let nb = lattice.neighbour(cell, bond).unwrap();
            if nb.crossing[axis] != 0 {
                continue;
            }
            bonds.push((site, nb.site, k, !bernoulli && m & sc_bit(k) != 0));
        }
    }
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            x = parent[x];
        }
        x
    }
    for &(a, b, _, sc) in &bonds {
        if sc {
            let (ra, rb) = (root(&mut parent, a as usize), root(&mut parent, b as usize));
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    // Face 0 first, then face n − 1: a cluster already at 1 that reaches face n − 1 spans.
    let mut fixed = vec![None; n];
    let present: Vec<usize> = (0..n).filter(|&s| masks[s] & PRESENT_BIT != 0).collect();
    for (face, potential) in [(0, 1.0), (lattice.cells[axis] - 1, 0.0)] {
        for &site in &present {
            if lattice.coords(site as u64).0[axis] != face {
                continue;
            }
            let r = root(&mut parent, site);
            if potential == 0.0 && fixed[r] == Some(1.0) {
                return 0.0;
            }
            fixed[r] = Some(potential);
        }
    }
    let mut edges = Vec::new();
    for &(a, b, k, sc) in &bonds {
        if sc {
            continue;
        }
        let resistance = if bernoulli {
            params.r0_ohm
        } else {
            let (ca, ba) = lattice.coords(a);
            let (cb, bb) = lattice.coords(b);
            let p = params.species(a, ca, ba);
            let q = params.species(b, cb, bb);
            let d2 = BondParams::bond_length2(
                params.bond_vectors[ba as usize][k],
                params.displacement(a),
                params.displacement(b),
            );
            let law = &params.pairs[p][q];
            let ratio = law.gap_ev(d2) as f64 / law.gap_ev as f64;
            params.r0_ohm * ratio.max(MIN_GAP_RATIO)
        };
        edges.push((
            root(&mut parent, a as usize),
            root(&mut parent, b as usize),
            1.0 / resistance,
        ));
    }
    1.0 / dense_current(n, &edges, &fixed)
}
