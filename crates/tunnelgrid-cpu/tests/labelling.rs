//! The union-find labelling against an independent breadth-first search, slab independence and
//! wrapping on hand-built periodic clusters.

use proptest::prelude::*;
use std::collections::{HashMap, VecDeque};
use tunnelgrid_cpu::{evaluate_bonds, label_clusters, CpuEngine};
use tunnelgrid_model::params::{tunnel_bit, PRESENT_BIT};
use tunnelgrid_model::{BondParams, Boundary, Conditions, Lattice, LatticeKind, Material, Mode};
use tunnelgrid_model::{Engine, Network};

/// A Bernoulli material on `kind` (the labelling does not care where masks come from).
fn bernoulli(
    kind: LatticeKind,
    mode: Mode,
    cells: [u32; 3],
    boundary: [Boundary; 3],
) -> (Material, Lattice) {
    let mut material = tunnelgrid_model::presets::preset("bernoulli-bond").unwrap();
    material.mode = mode;
    material.lattice.kind = kind;
    material.lattice.cells = cells;
    material.lattice.boundary = boundary;
    let lattice = Lattice::new(kind, cells, boundary);
    (material, lattice)
}

fn masks_for(material: &Material, lattice: &Lattice, p: f64, seed: u64) -> Vec<u32> {
    let conditions = Conditions {
        pressure_gpa: 0.0,
        temperature_k: 300.0,
        seed,
        p,
    };
    let params = BondParams::new(material, lattice, &conditions);
    let mut masks = vec![0u32; lattice.sites() as usize];
    let mut presence = vec![0u32; masks.len()];
    evaluate_bonds(lattice, &params, &mut masks, &mut presence);
    masks
}

/// Components by breadth-first search over every bond of `bits`, periodic bonds included.
fn bfs_components(lattice: &Lattice, masks: &[u32], bits: u32) -> Vec<u32> {
    let n = lattice.sites() as usize;
    let mut adjacency: Vec<Vec<u32>> = vec![Vec::new(); n];
    for site in 0..n as u64 {
        let (cell, b) = lattice.coords(site);
        for (k, bond) in lattice.forward_bonds(b).iter().enumerate() {
            let set = masks[site as usize] & bits & (0b11 << (2 * k)) != 0;
            if set {
                let nb = lattice
                    .neighbour(cell, bond)
                    .expect("a set bit has a neighbour");
                adjacency[site as usize].push(nb.site as u32);
                adjacency[nb.site as usize].push(site as u32);
            }
        }
    }
    let mut component = vec![u32::MAX; n];
    let mut next = 0;
    for start in 0..n {
        if component[start] != u32::MAX {
            continue;
        }
        component[start] = next;
        let mut queue = VecDeque::from([start as u32]);
        while let Some(v) = queue.pop_front() {
            for &w in &adjacency[v as usize] {
                if component[w as usize] == u32::MAX {
                    component[w as usize] = next;
                    queue.push_back(w);
                }
            }
        }
        next += 1;
    }
    component
}

/// Whether two labellings describe the same partition (a bijection between label values).
fn same_partition(a: &[u32], b: &[u32]) -> bool {
    let mut ab = HashMap::new();
    let mut ba = HashMap::new();
    a.iter()
        .zip(b)
        .all(|(&x, &y)| *ab.entry(x).or_insert(y) == y && *ba.entry(y).or_insert(x) == x)
}

fn kind_strategy() -> impl Strategy<Value = LatticeKind> {
    prop::sample::select(LatticeKind::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// On random small lattices of every kind, mode and boundary, union-find equals BFS, every
    /// label is the smallest index of its cluster, and the slab count changes nothing.
    #[test]
    fn union_find_equals_bfs(
        kind in kind_strategy(),
        site_mode in any::<bool>(),
        nx in 1u32..7, ny in 1u32..7, nz in 1u32..7,
        periodic in prop::array::uniform3(any::<bool>()),
        p in 0.0f64..1.0,
        seed in any::<u64>(),
        slabs in 1usize..8,
    ) {
        let nz = if kind.is_2d() { 1 } else { nz };
        let boundary = periodic.map(|p| if p { Boundary::Periodic } else { Boundary::Open });
        let mode = if site_mode { Mode::BernoulliSite } else { Mode::BernoulliBond };
        let (material, lattice) = bernoulli(kind, mode, [nx, ny, nz], boundary);
        let masks = masks_for(&material, &lattice, p, seed);
        for network in [Network::Tunnel, Network::Superconducting] {
            let mut labels = vec![0u32; masks.len()];
            label_clusters(&lattice, &masks, network, slabs, &mut labels);
            let bfs = bfs_components(&lattice, &masks, network.bits());
            prop_assert!(same_partition(&labels, &bfs), "{kind} {boundary:?} slabs {slabs}");
            for (i, &l) in labels.iter().enumerate() {
                prop_assert!(l as usize <= i && labels[l as usize] == l, "label is the cluster's smallest index");
            }
            let mut one_slab = vec![0u32; masks.len()];
            label_clusters(&lattice, &masks, network, 1, &mut one_slab);
            prop_assert_eq!(&labels, &one_slab);
        }
        // Absent sites carry no bond.
        for &m in &masks {
            prop_assert!(m & PRESENT_BIT != 0 || m == 0);
        }
    }
}

#[test]
fn labels_do_not_depend_on_the_slab_count_at_scale() {
    let (material, lattice) = bernoulli(
        LatticeKind::Sc,
        Mode::BernoulliSite,
        [40, 40, 40],
        [Boundary::Open; 3],
    );
    let masks = masks_for(&material, &lattice, 0.3116, 11);
    let mut reference = vec![0u32; masks.len()];
    label_clusters(&lattice, &masks, Network::Tunnel, 1, &mut reference);
    for slabs in [2, 3, 7, 40] {
        let mut labels = vec![0u32; masks.len()];
        label_clusters(&lattice, &masks, Network::Tunnel, slabs, &mut labels);
        assert_eq!(labels, reference, "{slabs} slabs");
    }
    let engine = CpuEngine::with_slabs(5);
    let model = tunnelgrid_model::Model::new(material).unwrap();
    let exported = tunnelgrid_cpu::export_labels(
        &masks,
        engine
            .cluster_roots(&model, &model.default_conditions(), &masks, Network::Tunnel)
            .unwrap(),
    );
    for (i, (&e, &m)) in exported.iter().zip(&masks).enumerate() {
        if m & PRESENT_BIT == 0 {
            assert_eq!(e, 0);
        } else {
            assert_eq!(e, reference[i] + 1);
        }
    }
}

/// An empty periodic sc lattice with hand-set tunnel bonds.
struct HandBuilt {
    lattice: Lattice,
    masks: Vec<u32>,
}

impl HandBuilt {
    fn new(n: u32, boundary: [Boundary; 3]) -> Self {
        let lattice = Lattice::new(LatticeKind::Sc, [n, n, n], boundary);
        let masks = vec![PRESENT_BIT; lattice.sites() as usize];
        Self { lattice, masks }
    }

    /// Opens forward bond `k` (0 +x, 1 +y, 2 +z) of cell (x, y, z).
    fn open(&mut self, cell: [u32; 3], k: usize) {
        let site = self.lattice.site_index(cell[0], cell[1], cell[2], 0);
        self.masks[site as usize] |= tunnel_bit(k);
    }

    fn wraps(&self) -> [bool; 3] {
        let mut labels = vec![0u32; self.masks.len()];
        let flags = label_clusters(&self.lattice, &self.masks, Network::Tunnel, 2, &mut labels);
        let mut any = [false; 3];
        for f in flags.values() {
            for a in 0..3 {
                any[a] |= f[a];
            }
        }
        any
    }
}

#[test]
fn a_straight_line_wraps_its_axis_only() {
    let mut h = HandBuilt::new(5, [Boundary::Periodic; 3]);
    for x in 0..5 {
        h.open([x, 2, 2], 0);
    }
    assert_eq!(h.wraps(), [true, false, false]);
    // The same line one bond short does not wrap.
    let mut h = HandBuilt::new(5, [Boundary::Periodic; 3]);
    for x in 0..4 {
        h.open([x, 2, 2], 0);
    }
    assert_eq!(h.wraps(), [false, false, false]);
}

#[test]
fn rings_without_net_winding_do_not_wrap() {
    // A closed 2×2 ring in the interior.
    let mut h = HandBuilt::new(5, [Boundary::Periodic; 3]);
    h.open([1, 1, 1], 0);
    h.open([1, 1, 1], 1);
    h.open([2, 1, 1], 1);
    h.open([1, 2, 1], 0);
    assert_eq!(h.wraps(), [false; 3]);
    // The same ring straddling the x boundary (cells x = 4 and x = 0) has no net winding.
    let mut h = HandBuilt::new(5, [Boundary::Periodic; 3]);
    h.open([4, 1, 1], 0); // 4 → 0 across the boundary
    h.open([4, 1, 1], 1);
    h.open([0, 1, 1], 1);
    h.open([4, 2, 1], 0);
    assert_eq!(h.wraps(), [false; 3]);
}

#[test]
fn a_helix_wraps_along_z_only() {
    // A staircase that climbs one layer per step and walks around a 2×2 square in x–y: after four
    // steps it is back above its start, so it connects to its own image along z only.
    let n = 4;
    let mut h = HandBuilt::new(n, [Boundary::Periodic; 3]);
    let square = [[1u32, 1], [2, 1], [2, 2], [1, 2]];
    for z in 0..n {
        let [x, y] = square[z as usize % 4];
        h.open([x, y, z], 2); // up one layer
        let [nx, ny] = square[(z as usize + 1) % 4];
        // Walk in the plane above to the next corner of the square.
        let (cell, k) = if nx > x {
            ([x, y, (z + 1) % n], 0)
        } else if nx < x {
            ([nx, ny, (z + 1) % n], 0)
        } else if ny > y {
            ([x, y, (z + 1) % n], 1)
        } else {
            ([nx, ny, (z + 1) % n], 1)
        };
        h.open(cell, k);
    }
    assert_eq!(h.wraps(), [false, false, true]);
}

#[test]
fn open_boundaries_never_wrap() {
    let mut h = HandBuilt::new(5, [Boundary::Open; 3]);
    for x in 0..4 {
        h.open([x, 2, 2], 0);
    }
    assert_eq!(h.wraps(), [false; 3]);
}

/// The superconducting network of the physical model (alloy: only A–B bonds superconduct) and its
/// tunnel network both equal BFS, with periodic boundaries.
#[test]
fn physical_networks_equal_bfs() {
    let mut material = tunnelgrid_model::presets::preset("alloy").unwrap();
    material.lattice.cells = [9, 8, 7];
    material.lattice.boundary = [Boundary::Periodic, Boundary::Open, Boundary::Periodic];
    let model = tunnelgrid_model::Model::new(material).unwrap();
    let conditions = model.default_conditions();
    let fields = CpuEngine::default()
        .bond_masks(&model, &conditions)
        .unwrap();
    assert!(fields.totals.sc_bonds > 0 && fields.totals.sc_bonds < fields.totals.tunnel_bonds);
    for network in [Network::Tunnel, Network::Superconducting] {
        let mut labels = vec![0u32; fields.masks.len()];
        label_clusters(&model.lattice, &fields.masks, network, 3, &mut labels);
        let bfs = bfs_components(&model.lattice, &fields.masks, network.bits());
        assert!(same_partition(&labels, &bfs), "{network:?}");
    }
}

proptest! {
    /// The shortcut for networks without bonds equals the full labelling and statistics.
    #[test]
    fn bondless_statistics_equal_the_full_pass(
        kind in kind_strategy(),
        nx in 1u32..5, ny in 1u32..5, nz in 1u32..5,
        periodic in prop::array::uniform3(any::<bool>()),
        p in 0.0f64..1.0,
        seed in any::<u64>(),
    ) {
        let nz = if kind.is_2d() { 1 } else { nz };
        let boundary = periodic.map(|p| if p { Boundary::Periodic } else { Boundary::Open });
        let (material, lattice) = bernoulli(kind, Mode::BernoulliSite, [nx, ny, nz], boundary);
        // Superconducting network of a Bernoulli lattice: present sites, no bonds.
        let masks = masks_for(&material, &lattice, p, seed);
        let present = masks.iter().filter(|&&m| m & PRESENT_BIT != 0).count() as u64;
        let mut labels = vec![0u32; masks.len()];
        let wraps = label_clusters(&lattice, &masks, Network::Superconducting, 2, &mut labels);
        let span = tunnelgrid_cpu::stats::spanning(&lattice, &masks, &labels, &wraps);
        let full = tunnelgrid_cpu::stats::cluster_stats(&lattice, &masks, &mut labels, &span);
        prop_assert_eq!(tunnelgrid_cpu::stats::bondless(&lattice, present), full);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The parallel, row-wise and general bond paths equal the plain site-by-site oracle, for
    /// every lattice, boundary and mode (the physical mode on the alloy and layered presets).
    #[test]
    fn bond_masks_equal_the_reference(
        kind in kind_strategy(),
        mode in prop::sample::select(vec![Mode::BernoulliSite, Mode::BernoulliBond, Mode::Tunnel]),
        nx in 1u32..7, ny in 1u32..7, nz in 1u32..7,
        periodic in prop::array::uniform3(any::<bool>()),
        p in 0.0f64..1.0,
        pressure in 0.0f64..200.0,
        seed in any::<u64>(),
    ) {
        let nz = if kind.is_2d() { 1 } else { nz };
        let boundary = periodic.map(|p| if p { Boundary::Periodic } else { Boundary::Open });
        let mut material = tunnelgrid_model::presets::preset("alloy").unwrap();
        material.mode = mode;
        material.lattice.kind = kind;
        material.lattice.cells = [nx, ny, nz];
        material.lattice.boundary = boundary;
        material.lattice.vacancy = 0.1;
        let lattice = Lattice::new(kind, [nx, ny, nz], boundary);
        let conditions = Conditions { pressure_gpa: pressure, temperature_k: 300.0, seed, p };
        let params = BondParams::new(&material, &lattice, &conditions);
        let mut masks = vec![0u32; lattice.sites() as usize];
        let mut presence = vec![0u32; masks.len()];
        let totals = evaluate_bonds(&lattice, &params, &mut masks, &mut presence);
        let reference = tunnelgrid_cpu::bonds::reference_masks(&lattice, &params);
        prop_assert_eq!(&masks, &reference);
        let tunnels: u64 = reference.iter().map(|m| (m & tunnelgrid_model::params::ALL_TUNNEL_BITS).count_ones() as u64).sum();
        prop_assert_eq!(totals.tunnel_bonds, tunnels);
        prop_assert_eq!(totals.present_sites, reference.iter().filter(|&&m| m & PRESENT_BIT != 0).count() as u64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Cluster statistics (counted in place in the labels array) against sizes taken directly from
    /// the breadth-first components, with open boundaries, where spanning is face contact.
    #[test]
    fn cluster_statistics_equal_the_bfs_sizes(
        kind in kind_strategy(),
        nx in 1u32..9, ny in 1u32..9, nz in 1u32..9,
        p in 0.0f64..1.0,
        seed in any::<u64>(),
    ) {
        let nz = if kind.is_2d() { 1 } else { nz };
        let (material, lattice) = bernoulli(kind, Mode::BernoulliSite, [nx, ny, nz], [Boundary::Open; 3]);
        let masks = masks_for(&material, &lattice, p, seed);
        let bfs = bfs_components(&lattice, &masks, Network::Tunnel.bits());
        let mut sizes: HashMap<u32, u64> = HashMap::new();
        let mut faces: HashMap<u32, [[bool; 2]; 3]> = HashMap::new();
        for (site, &c) in bfs.iter().enumerate() {
            if masks[site] & PRESENT_BIT == 0 {
                continue;
            }
            *sizes.entry(c).or_default() += 1;
            let (cell, _) = lattice.coords(site as u64);
            let touch = faces.entry(c).or_default();
            for a in 0..3 {
                touch[a][0] |= cell[a] == 0;
                touch[a][1] |= cell[a] == lattice.cells[a] - 1;
            }
        }
        let spans = |c: &u32| (0..lattice.axes()).any(|a| faces[c][a] == [true, true]);
        let finite: Vec<u64> = sizes.iter().filter(|(c, _)| !spans(c)).map(|(_, &s)| s).collect();
        let sum: u64 = finite.iter().sum();
        let sum2: u64 = finite.iter().map(|s| s * s).sum();

        let mut labels = vec![0u32; masks.len()];
        let wraps = label_clusters(&lattice, &masks, Network::Tunnel, 2, &mut labels);
        let span = tunnelgrid_cpu::stats::spanning(&lattice, &masks, &labels, &wraps);
        let stats = tunnelgrid_cpu::stats::cluster_stats(&lattice, &masks, &mut labels, &span);
        prop_assert_eq!(stats.clusters, sizes.values().filter(|&&s| s > 1).count() as u64);
        prop_assert_eq!(stats.singletons, sizes.values().filter(|&&s| s == 1).count() as u64);
        prop_assert_eq!(stats.largest_cluster, sizes.values().copied().max().unwrap_or(0));
        let mean = if sum > 0 { sum2 as f64 / sum as f64 } else { 0.0 };
        prop_assert!((stats.mean_cluster_size - mean).abs() <= 1e-12 * mean.max(1.0));
        for (a, &spans_axis) in span.axes.iter().enumerate().take(lattice.axes()) {
            let any = sizes.keys().any(|c| faces[c][a] == [true, true]);
            prop_assert_eq!(spans_axis, any);
        }
    }
}

/// The general bond pass works in runs of up to 8 consecutive layers, moving its displacement
/// cache up one layer at a time: thick lattices (runs of several layers, a short last run,
/// periodic and open z) on 1 and 2 threads equal the site-by-site oracle, and the totals do
/// not depend on the thread count.
#[test]
fn bond_masks_in_runs_of_layers_equal_the_reference() {
    for (kind, cells, z) in [
        (LatticeKind::Sc, [5, 4, 35], Boundary::Periodic),
        (LatticeKind::Bcc, [4, 3, 17], Boundary::Open),
        (LatticeKind::Fcc, [3, 3, 64], Boundary::Periodic),
    ] {
        let boundary = [Boundary::Periodic, Boundary::Open, z];
        let mut material = tunnelgrid_model::presets::preset("alloy").unwrap();
        material.lattice.kind = kind;
        material.lattice.cells = cells;
        material.lattice.boundary = boundary;
        material.lattice.vacancy = 0.1;
        let lattice = Lattice::new(kind, cells, boundary);
        let conditions = Conditions {
            pressure_gpa: 20.0,
            temperature_k: 300.0,
            seed: 11,
            p: 0.5,
        };
        let params = BondParams::new(&material, &lattice, &conditions);
        assert_eq!(params.mode, Mode::Tunnel);
        let reference = tunnelgrid_cpu::bonds::reference_masks(&lattice, &params);
        let mut totals = Vec::new();
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut masks = vec![0u32; lattice.sites() as usize];
            let mut presence = vec![0u32; masks.len()];
            let t = pool.install(|| evaluate_bonds(&lattice, &params, &mut masks, &mut presence));
            assert!(
                masks == reference,
                "{kind:?} {cells:?} z {z:?}, {threads} threads"
            );
            totals.push(t);
        }
        assert!(
            totals[0].tunnel_bonds > 0,
            "{kind:?}: the alloy tunnels at 20 GPa"
        );
        assert_eq!(totals[0], totals[1], "{kind:?}: totals on 1 and 2 threads");
    }
}
