//! A plain sequential labelling of one network of given bond masks, for the host side of a
//! device solve (the superconducting clusters a Kirchhoff stencil contracts, on masks with
//! periodic bonds cut). Deliberately not the CPU engine's slab-parallel labelling: the GPU
//! engine's solve must not share code with the oracle it is checked against.

use tunnelgrid_model::params::{sc_bit, tunnel_bit};
use tunnelgrid_model::{Lattice, Network};

/// The root of every site in `network` of `masks`: the smallest site index of its cluster
/// (absent sites, and sites without bonds of the network, are their own).
pub fn network_roots(lattice: &Lattice, masks: &[u32], network: Network) -> Vec<u32> {
    assert_eq!(masks.len() as u64, lattice.sites(), "one mask per site");
    let mut parent: Vec<u32> = (0..masks.len() as u32).collect();
    let bit = |k: usize| match network {
        Network::Tunnel => tunnel_bit(k),
        Network::Superconducting => sc_bit(k),
    };
    for (site, &mask) in masks.iter().enumerate() {
        if mask & network.bits() == 0 {
            continue;
        }
        let (cell, b) = lattice.coords(site as u64);
        for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
            if mask & bit(k) == 0 {
                continue;
            }
            if let Some(nb) = lattice.neighbour(cell, bond) {
                union(&mut parent, site as u32, nb.site as u32);
            }
        }
    }
    for site in 0..parent.len() {
        parent[site] = find(&mut parent, site as u32);
    }
    parent
}

/// The root of `x`, halving the path on the way.
pub(crate) fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let up = parent[parent[x as usize] as usize];
        parent[x as usize] = up;
        x = up;
    }
    x
}

/// Joins the clusters of `a` and `b` under the smaller root, so every root stays the smallest
/// index of its cluster.
pub(crate) fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[high as usize] = low;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tunnelgrid_model::params::PRESENT_BIT;
    use tunnelgrid_model::{Boundary, LatticeKind};

    #[test]
    fn a_periodic_ring_is_one_cluster_rooted_at_its_smallest_site() {
        // A 5×1×1 periodic sc chain: bonds 0→1, 2→3 and the wrapping 4→0 superconduct.
        let lattice = Lattice::new(LatticeKind::Sc, [5, 1, 1], [Boundary::Periodic; 3]);
        let mut masks = vec![PRESENT_BIT; 5];
        for site in [0, 2, 4] {
            masks[site] |= sc_bit(0) | tunnel_bit(0);
        }
        let roots = network_roots(&lattice, &masks, Network::Superconducting);
        assert_eq!(roots, vec![0, 0, 2, 2, 0]);
        // The tunnel network of masks without tunnels is every site on its own.
        let bare = vec![PRESENT_BIT; 5];
        assert_eq!(
            network_roots(&lattice, &bare, Network::Tunnel),
            vec![0, 1, 2, 3, 4]
        );
    }
}
