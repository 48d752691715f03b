//! `nn::conv2d` forward, and forward + backward through `nn::conv2d_vjp` (d_x, d_w and d_b):
//! batch 64, 16 → 32 channels, 28 × 28, 3 × 3 kernel, stride 1, padding 1, f32.
//! `benches/pytorch_conv.py` times the same in PyTorch. `cargo bench --bench conv`.

use std::hint::black_box;

use autodiff::ndarray::{Array1, Array4};
use autodiff::nn;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const N: usize = 64;
const C_IN: usize = 16;
const C_OUT: usize = 32;
const HW: usize = 28;
const K: usize = 3;
const STRIDE: usize = 1;
const PADDING: usize = 1;

fn random4(shape: (usize, usize, usize, usize), bound: f32, rng: &mut StdRng) -> Array4<f32> {
    Array4::from_shape_fn(shape, |_| rng.random_range(-bound..bound))
}

fn bench_conv(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let bound = 1.0 / ((C_IN * K * K) as f32).sqrt();
    let x = random4((N, C_IN, HW, HW), 1.0, &mut rng);
    let w = random4((C_OUT, C_IN, K, K), bound, &mut rng);
    let b = Array1::from_shape_fn(C_OUT, |_| rng.random_range(-bound..bound));
    let d_y = random4((N, C_OUT, HW, HW), 1.0, &mut rng);

    let mut group = c.benchmark_group("conv2d_b64_16x32_28x28_k3");
    group.bench_function("forward", |bn| {
        bn.iter(|| nn::conv2d(black_box(&x), black_box(&w), &b, STRIDE, PADDING))
    });
    // The seed is moved into the pullback: cloned outside the timed routine.
    group.bench_function("forward+backward", |bn| {
        bn.iter_batched(
            || d_y.clone(),
            |d_y| {
                let (y, pullback) =
                    nn::conv2d_vjp(black_box(&x), black_box(&w), &b, STRIDE, PADDING);
                (y, pullback(d_y))
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_conv);
criterion_main!(benches);
