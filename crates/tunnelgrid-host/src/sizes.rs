//! Cluster-size totals and the statistics of a network without bonds: what both engines reduce
//! their labelled clusters to (the GPU adds the clusters it joins across slabs on the host).

use tunnelgrid_model::{Boundary, ClusterStats, Lattice, PerAxis};

/// Integer totals over cluster sizes (exact at any lattice size).
#[derive(Default, Clone, Copy, Debug)]
pub struct SizeTotals {
    /// Clusters of two or more sites.
    pub clusters: u64,
    /// Clusters of one site.
    pub singletons: u64,
    /// Sites of the largest cluster.
    pub largest: u64,
    /// Σs over clusters that span no axis.
    pub finite_sum: u64,
    /// Σs² over clusters that span no axis.
    pub finite_sum2: u128,
}

impl SizeTotals {
    /// Adds one cluster of `size` sites; `finite` when it spans no axis.
    pub fn add_cluster(&mut self, size: u64, finite: bool) {
        self.clusters += u64::from(size > 1);
        self.singletons += u64::from(size == 1);
        self.largest = self.largest.max(size);
        if finite {
            self.finite_sum += size;
            self.finite_sum2 += (size * size) as u128;
        }
    }

    /// The statistics these totals give on `lattice`, with the spanning answers.
    pub fn stats(&self, lattice: &Lattice, spans: &[bool; 3]) -> ClusterStats {
        ClusterStats {
            clusters: self.clusters,
            singletons: self.singletons,
            largest_cluster: self.largest,
            largest_cluster_fraction: self.largest as f64 / lattice.sites() as f64,
            mean_cluster_size: if self.finite_sum > 0 {
                self.finite_sum2 as f64 / self.finite_sum as f64
            } else {
                0.0
            },
            spans: PerAxis::from_slice(spans, lattice.axes()),
        }
    }

    /// Sum of two totals.
    pub fn merge(self, o: Self) -> Self {
        Self {
            clusters: self.clusters + o.clusters,
            singletons: self.singletons + o.singletons,
            largest: self.largest.max(o.largest),
            finite_sum: self.finite_sum + o.finite_sum,
            finite_sum2: self.finite_sum2 + o.finite_sum2,
        }
    }
}

/// Statistics of a network without bonds, where every present site is its own cluster: no pass
/// over the lattice is needed. A site spans an open axis only when that axis is one cell thick;
/// a lone site never wraps.
pub fn bondless(lattice: &Lattice, present_sites: u64) -> ClusterStats {
    let axes: Vec<bool> = (0..lattice.axes())
        .map(|a| {
            lattice.boundary[a] == Boundary::Open && lattice.cells[a] == 1 && present_sites > 0
        })
        .collect();
    let any_span = axes.iter().any(|&s| s);
    ClusterStats {
        clusters: 0,
        singletons: present_sites,
        largest_cluster: present_sites.min(1),
        largest_cluster_fraction: present_sites.min(1) as f64 / lattice.sites() as f64,
        mean_cluster_size: if any_span || present_sites == 0 {
            0.0
        } else {
            1.0
        },
        spans: PerAxis::from_slice(&axes, lattice.axes()),
    }
}
