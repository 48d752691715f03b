//! Scalar code: the generated gradient against a hand-written adjoint and the primal, in one
//! criterion run. `cargo bench --bench scalar`.

mod common;

use std::hint::black_box;

use common::scalar::{
    PARTICLE_ARGS, PARTICLE_DT, PARTICLE_STEPS, particle, particle_adjoint, particle_grad,
    rosenbrock, rosenbrock_adjoint, rosenbrock_grad, rosenbrock_point,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn bench_rosenbrock(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock");
    for n in [10_000, 1_000_000] {
        let x = rosenbrock_point(n);
        group.bench_with_input(BenchmarkId::new("primal", n), &x, |b, x| {
            b.iter(|| rosenbrock(black_box(x)))
        });
        group.bench_with_input(BenchmarkId::new("generated", n), &x, |b, x| {
            b.iter(|| rosenbrock_grad(black_box(x)))
        });
        group.bench_with_input(BenchmarkId::new("hand-written", n), &x, |b, x| {
            b.iter(|| rosenbrock_adjoint(black_box(x)))
        });
    }
    group.finish();
}

fn bench_particle(c: &mut Criterion) {
    let mut group = c.benchmark_group("particle");
    let (vx, vy, drag) = PARTICLE_ARGS;
    let (dt, steps) = (PARTICLE_DT, PARTICLE_STEPS);
    group.bench_function(BenchmarkId::new("primal", steps), |b| {
        b.iter(|| particle(black_box(vx), black_box(vy), black_box(drag), dt, steps))
    });
    group.bench_function(BenchmarkId::new("generated", steps), |b| {
        b.iter(|| particle_grad(black_box(vx), black_box(vy), black_box(drag), dt, steps))
    });
    group.bench_function(BenchmarkId::new("hand-written", steps), |b| {
        b.iter(|| particle_adjoint(black_box(vx), black_box(vy), black_box(drag), dt, steps))
    });
    group.finish();
}

criterion_group!(benches, bench_rosenbrock, bench_particle);
criterion_main!(benches);
