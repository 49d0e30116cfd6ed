//! Bond evaluation and labelling throughput of the CPU engine, in sites per second.
//!
//! `cargo bench --bench labelling` (or `scripts/bench`). Sizes are modest so the bench runs in a
//! minute on 2 cores; `scripts/peers` measures 256³ and 512³ against cc3d and scipy.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use tunnelgrid::cpu::{evaluate_bonds, label_clusters, CpuEngine};
use tunnelgrid::model::Network;
use tunnelgrid::model::{presets::preset, BondParams, Conditions, Engine, Model};

fn model(name: &str, n: u32) -> (Model, Conditions) {
    let mut material = preset(name).expect("shipped preset");
    material.lattice.cells = [n, n, n];
    let model = Model::new(material).expect("valid size");
    let conditions = model.default_conditions();
    (model, conditions)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("cpu");
    group.sample_size(10);
    for (name, n) in [("bernoulli-site", 128), ("default", 128)] {
        let (model, conditions) = model(name, n);
        let sites = model.lattice.sites();
        group.throughput(Throughput::Elements(sites));
        let params = BondParams::new(&model.material, &model.lattice, &conditions);
        let mut masks = vec![0u32; sites as usize];
        let mut presence = vec![0u32; sites as usize];
        group.bench_function(BenchmarkId::new(format!("bonds/{name}"), n), |b| {
            b.iter(|| {
                black_box(evaluate_bonds(
                    &model.lattice,
                    &params,
                    &mut masks,
                    &mut presence,
                ))
            })
        });
        let slabs = 4 * rayon::current_num_threads();
        let mut labels = vec![0u32; sites as usize];
        group.bench_function(BenchmarkId::new(format!("tunnel_labels/{name}"), n), |b| {
            b.iter(|| {
                black_box(label_clusters(
                    &model.lattice,
                    &masks,
                    Network::Tunnel,
                    slabs,
                    &mut labels,
                ))
            })
        });
        let engine = CpuEngine::default();
        group.bench_function(BenchmarkId::new(format!("analyze/{name}"), n), |b| {
            b.iter(|| black_box(engine.analyze(&model, &conditions).expect("analysis runs")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
