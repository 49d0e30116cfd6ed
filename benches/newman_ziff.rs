//! Newman–Ziff sweep throughput (research mode), in sites swept per second: sc site percolation
//! with periodic boundaries, as `threshold --criterion wrap-any` runs it.
//!
//! `cargo bench --bench newman_ziff`. Three measurements per size:
//! - `events`: what `threshold` does, samples in parallel on every rayon thread, each sweep
//!   stopping at its last first-event; throughput counts all N sites of every sample, as
//!   "sites swept" (the shuffle still orders all N);
//! - `full`: the whole sweep of every sample (what `scaling` does with its binomial weights);
//! - `shuffle`: the occupation order alone, one thread.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use tunnelgrid::cpu::newman_ziff::{run_samples, BinomialWeights, Percolation, Sweep, SweepGraph};
use tunnelgrid::model::{Boundary, Lattice, LatticeKind};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("newman_ziff");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    for (size, samples) in [(64u32, 16u64), (128, 4)] {
        let lattice = Lattice::new(LatticeKind::Sc, [size; 3], [Boundary::Periodic; 3]);
        let graph = SweepGraph::new(lattice, Percolation::Site).expect("small lattice");
        let n = graph.order_len() as u64;
        group.throughput(Throughput::Elements(n * samples));
        group.bench_function(BenchmarkId::new("sc-site/events", size), |b| {
            b.iter(|| black_box(run_samples(&graph, samples, 1, None)))
        });
        let weights = BinomialWeights::new(graph.order_len(), 0.3116);
        group.bench_function(BenchmarkId::new("sc-site/full", size), |b| {
            b.iter(|| black_box(run_samples(&graph, samples, 1, Some(&weights))))
        });
        group.throughput(Throughput::Elements(n));
        let mut order = Vec::new();
        group.bench_function(BenchmarkId::new("shuffle", size), |b| {
            b.iter(|| Sweep::shuffled_order(graph.order_len(), 1, black_box(&mut order)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
