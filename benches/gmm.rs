//! The ADBench GMM objective (d = 10, K = 25, n = 1000, the instance, and ADBench's
//! larger d = 64, K = 100, n = 1000): primal, generated gradient (`_grad`, and `_vjp` with its
//! pullback called on one) and a hand-written adjoint, in one criterion run.
//! `cargo bench --bench gmm`.

mod common;

use std::hint::black_box;

use common::gmm::{
    data_path, gmm_adjoint, gmm_objective, gmm_objective_grad, gmm_objective_vjp, load_gmm,
};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_gmm(c: &mut Criterion) {
    for name in ["gmm_d10_K25", "gmm_d64_K100"] {
        bench_instance(c, name);
    }
}

fn bench_instance(c: &mut Criterion, name: &str) {
    let g = load_gmm(&data_path(&format!("gmm/1k/{name}.txt")));
    let mut group = c.benchmark_group(name);
    if g.d > 10 {
        // Some 0.2 s a call: criterion's least number of samples.
        group.sample_size(10);
    }
    group.bench_function("primal", |b| {
        b.iter(|| {
            gmm_objective(
                black_box(&g.alphas),
                black_box(&g.means),
                black_box(&g.icf),
                &g.x,
                g.gamma,
                g.m,
            )
        })
    });
    group.bench_function("generated", |b| {
        b.iter(|| {
            gmm_objective_grad(
                black_box(&g.alphas),
                black_box(&g.means),
                black_box(&g.icf),
                &g.x,
                g.gamma,
                g.m,
            )
        })
    });
    group.bench_function("hand-written", |b| b.iter(|| gmm_adjoint(black_box(&g))));
    // `_vjp` does not know its seed in advance, so it cannot reverse loops as they run.
    group.bench_function("generated_vjp", |b| {
        b.iter(|| {
            let (value, pullback) = gmm_objective_vjp(
                black_box(&g.alphas),
                black_box(&g.means),
                black_box(&g.icf),
                &g.x,
                g.gamma,
                g.m,
            );
            (value, pullback(1.0))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_gmm);
criterion_main!(benches);
