//! One test per device stage that the end-to-end equivalence tests (tests/equivalence.rs) see
//! only through their results: `gather` (reading the mask and label of chosen sites off the
//! slabs), `remap` (applying the host's (old root, final root) table) and `stats` (cluster
//! sizes and spanning of remapped labels). Each compares the stage's output with its host twin
//! on the same device arrays, so a broken stage fails here by name (docs/ARCHITECTURE.md, stage
//! table). Runs on lavapipe in CI.

use crate::engine::{GpuEngine, GpuOptions};
use crate::host::{cluster_stats, gather, join};
use crate::run::Run;
use pollster::block_on;
use tunnelgrid_model::{BondParams, Boundary, Conditions, LatticeKind, Model, Network};

/// The test device, or `None` (said on stderr) where there is none; CI needs one.
fn engine() -> Option<GpuEngine> {
    match GpuEngine::new() {
        Ok(e) => Some(e),
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI needs a GPU adapter: {e}"),
        Err(e) => {
            eprintln!("SKIPPED: GPU stage tests found no adapter ({e})");
            None
        }
    }
}

/// Site percolation near threshold on a 13×11×10 sc lattice, periodic along x (wrapping
/// clusters) and open along y and z (spanning clusters), cut into slabs of at most 3 layers.
fn case() -> (Model, BondParams) {
    let mut material = tunnelgrid_model::presets::preset("bernoulli-site").unwrap();
    material.lattice.kind = LatticeKind::Sc;
    material.lattice.cells = [13, 11, 10];
    material.lattice.boundary = [Boundary::Periodic, Boundary::Open, Boundary::Open];
    let model = Model::new(material).unwrap();
    let conditions = Conditions {
        p: 0.45,
        seed: 17,
        ..model.default_conditions()
    };
    let params = BondParams::new(&model.material, &model.lattice, &conditions);
    (model, params)
}

/// The engine with thin slabs, so every stage works across several of them.
fn sliced(gpu: &GpuEngine) -> GpuEngine {
    gpu.with_options(GpuOptions {
        slab_layers: Some(3),
        ..GpuOptions::default()
    })
}

#[test]
fn gather_reads_the_mask_and_label_of_each_chosen_site() {
    let Some(gpu) = engine() else { return };
    let gpu = sliced(&gpu);
    let (model, params) = case();
    let run = block_on(Run::new(&gpu, &model, &params)).unwrap();
    block_on(run.evaluate_bonds()).unwrap();
    block_on(run.label(Network::Tunnel)).unwrap();
    let masks = block_on(run.read_all(false)).unwrap();
    let labels = block_on(run.read_all(true)).unwrap();
    // Sites from every slab, sorted as `gather` wants them, first and last included.
    let n = model.lattice.sites() as u32;
    let sites: Vec<u32> = (0..n).step_by(7).chain([n - 1]).collect();
    let got = block_on(gather(&run, &sites)).unwrap();
    assert_eq!(got.len(), sites.len());
    for (&site, &(mask, label)) in sites.iter().zip(&got) {
        let s = site as usize;
        assert_eq!((mask, label), (masks[s], labels[s]), "site {site}");
    }
}

#[test]
fn remap_gives_every_site_of_a_listed_root_its_final_root() {
    let Some(gpu) = engine() else { return };
    let gpu = sliced(&gpu);
    let (model, params) = case();
    let run = block_on(Run::new(&gpu, &model, &params)).unwrap();
    block_on(run.evaluate_bonds()).unwrap();
    block_on(run.label(Network::Tunnel)).unwrap();
    let before = block_on(run.read_all(true)).unwrap();
    // Per-slab roots; send every third one (but the smallest) to the smallest, a final root.
    let mut roots: Vec<u32> = before.clone();
    roots.sort_unstable();
    roots.dedup();
    let target = roots[0];
    let table: Vec<(u32, u32)> = roots[1..].iter().step_by(3).map(|&r| (r, target)).collect();
    assert!(table.len() > 10, "{} roots remapped", table.len());
    block_on(run.set_remap(&table)).unwrap();
    let after = block_on(run.read_all(true)).unwrap();
    // The host twin: look each site's root up in the table.
    let expected: Vec<u32> = before
        .iter()
        .map(|r| match table.binary_search_by_key(r, |&(old, _)| old) {
            Ok(i) => table[i].1,
            Err(_) => *r,
        })
        .collect();
    let wrong = expected.iter().zip(&after).filter(|(e, a)| e != a).count();
    assert_eq!(wrong, 0, "{wrong} sites remapped wrongly");
}

/// The default material where it superconducts in part (both networks have bonds), on a
/// 12×10×9 lattice periodic along z.
fn superconducting_case() -> (Model, BondParams) {
    let mut material = tunnelgrid_model::presets::preset("default").unwrap();
    material.lattice.cells = [12, 10, 9];
    material.lattice.boundary = [Boundary::Open, Boundary::Open, Boundary::Periodic];
    let model = Model::new(material).unwrap();
    let conditions = Conditions {
        pressure_gpa: 80.0,
        temperature_k: 50.0,
        seed: 3,
        ..model.default_conditions()
    };
    let params = BondParams::new(&model.material, &model.lattice, &conditions);
    (model, params)
}

#[test]
fn stats_of_merged_labels_equal_the_host_count_on_the_same_masks() {
    let Some(gpu) = engine() else { return };
    let gpu = sliced(&gpu);
    for (model, params) in [case(), superconducting_case()] {
        assert_stats_agree(&gpu, &model, &params);
    }
}

fn assert_stats_agree(gpu: &GpuEngine, model: &Model, params: &BondParams) {
    let lattice = &model.lattice;
    let run = block_on(Run::new(gpu, model, params)).unwrap();
    let totals = block_on(run.evaluate_bonds()).unwrap();
    assert!(totals.sc_bonds > 0 || model.material.mode.is_bernoulli());
    let masks = block_on(run.read_all(false)).unwrap();
    for network in [Network::Tunnel, Network::Superconducting] {
        block_on(run.label(network)).unwrap();
        let joined = block_on(join(&run, network)).unwrap();
        block_on(run.set_remap(&joined.remap)).unwrap();
        let device = block_on(cluster_stats(&run, &joined)).unwrap();
        // The CPU engine's statistics of its own labels of the device's masks.
        let mut labels = vec![0u32; masks.len()];
        let wraps = tunnelgrid_cpu::label_clusters(lattice, &masks, network, 1, &mut labels);
        let span = tunnelgrid_cpu::stats::spanning(lattice, &masks, &labels, &wraps);
        let host = tunnelgrid_cpu::stats::cluster_stats(lattice, &masks, &mut labels, &span);
        assert_eq!(device, host, "{} {network:?}", model.material.name);
    }
}

#[test]
fn runs_of_the_same_shape_reuse_their_buffers_and_agree() {
    use tunnelgrid_model::{Engine, Report};
    let Some(gpu) = engine() else { return };
    let (a, _) = case();
    let (b, _) = superconducting_case();
    let conditions = |m: &Model| m.default_conditions();
    // Reports without their timings and engine description (which names the slabs).
    let physics = |mut r: Report| {
        r.timings = Default::default();
        r.elapsed_s = 0.0;
        r
    };
    let first = physics(gpu.analyze(&a, &conditions(&a)).unwrap());
    assert_eq!(gpu.site_buffer_allocations(), 1);
    let again = physics(gpu.analyze(&a, &conditions(&a)).unwrap());
    assert_eq!(
        gpu.site_buffer_allocations(),
        1,
        "the same shape allocates nothing"
    );
    assert_eq!(again, first, "a run on reused buffers");
    gpu.analyze(&b, &conditions(&b)).unwrap();
    assert_eq!(gpu.site_buffer_allocations(), 2, "another shape allocates");
    let back = physics(gpu.analyze(&a, &conditions(&a)).unwrap());
    assert_eq!(gpu.site_buffer_allocations(), 3);
    assert_eq!(back, first);
    // Thin slabs, streamed: one buffer pair for every slab, kept as well.
    let streamed = gpu.with_options(GpuOptions {
        slab_layers: Some(2),
        force_streaming: true,
        ..GpuOptions::default()
    });
    let s1 = physics(streamed.analyze(&a, &conditions(&a)).unwrap());
    let s2 = physics(streamed.analyze(&a, &conditions(&a)).unwrap());
    assert_eq!(gpu.site_buffer_allocations(), 4, "the streamed shape once");
    assert_eq!(s2, s1);
    assert_eq!(s1.clusters, first.clusters);
}
