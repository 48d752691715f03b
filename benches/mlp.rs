//! Workload W1: one MLP training step (f32, batch 128, 784-512-256-10, ReLU, softmax
//! cross-entropy, SGD): the generated gradient against a hand-written forward+backward on
//! the same GEMM engine, and the forward pass alone, in one criterion run.
//! `cargo bench --bench mlp`.

mod common;

use std::hint::black_box;

use autodiff::optim::{Optimizer, Sgd};
use common::mlp::{LR, Mlp, batch, hand_written_grad};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_mlp(c: &mut Criterion) {
    let (x, labels) = batch(1);
    let mut group = c.benchmark_group("mlp_w1_step");
    let model = Mlp::new(0);
    group.bench_function("primal", |b| {
        b.iter(|| black_box(&model).loss(black_box(&x), &labels))
    });
    let mut model = Mlp::new(0);
    group.bench_function("generated", |b| {
        b.iter(|| {
            let (loss, g) = model.loss_grad(black_box(&x), &labels);
            model.sgd(&g, LR);
            loss
        })
    });
    let mut model = Mlp::new(0);
    group.bench_function("hand-written", |b| {
        b.iter(|| {
            let (loss, g) = hand_written_grad(&model, black_box(&x), &labels);
            model.sgd(&g, LR);
            loss
        })
    });
    // For reference: the generated gradient with the library's optimizer instead of the
    // plain `scaled_add` update both sides above use.
    let mut model = Mlp::new(0);
    let mut opt = Sgd::new(f64::from(LR));
    group.bench_function("generated+optim::Sgd", |b| {
        b.iter(|| {
            let (loss, g) = model.loss_grad(black_box(&x), &labels);
            opt.step(&mut model, &g);
            loss
        })
    });
    group.finish();
}

criterion_group!(benches, bench_mlp);
criterion_main!(benches);
