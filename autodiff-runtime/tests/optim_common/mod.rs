//! Shared fixtures of the optimizer tests: a model made of a scalar, a `Vec` and an ndarray
//! matrix, three steps of fixed gradients, and helpers to run an optimizer over them.
//!
//! The expected values come from two independent sources: a scalar reference written from
//! PyTorch's documented update in each test file, and literals computed by a Python
//! transcription of the same formulas (`PY_*` constants in the test files), `reference.py`
//! next to this file.
#![allow(dead_code)] // each test file uses a different subset

use autodiff_runtime::Differentiable;
use autodiff_runtime::optim::Optimizer;
use ndarray::{Array1, Array2};

/// A model of every kind of buffer: `(scalar, Vec, 2x2 matrix)`, 8 elements in all.
pub type Model = (f64, Vec<f64>, Array2<f64>);

/// The same model in `f32`, with a vector instead of a matrix.
pub type Model32 = (f32, Vec<f32>, Array1<f32>);

/// The initial parameters, flattened in leaf order.
pub const THETA0: [f64; 8] = [0.5, -1.0, 2.0, 0.25, 1.5, -0.75, 0.0, 3.0];

/// The gradient at each of the three steps, flattened in leaf order.
pub const GRADS: [[f64; 8]; 3] = [
    [0.3, -0.2, 1.5, 0.0, -2.0, 0.7, 0.1, -0.4],
    [0.1, 0.4, -0.5, 0.2, -1.0, 0.7, -0.3, 0.05],
    [-0.2, 0.1, 0.25, -0.6, 0.5, 0.7, 0.2, -0.1],
];

/// A model (or a gradient: the model's tangent type is the model's type) from flat values.
pub fn model_from(v: &[f64; 8]) -> Model {
    let m = Array2::from_shape_vec((2, 2), v[4..].to_vec()).unwrap();
    (v[0], v[1..4].to_vec(), m)
}

/// The `f32` model from flat values.
pub fn model32_from(v: &[f64; 8]) -> Model32 {
    let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    (f[0], f[1..4].to_vec(), Array1::from(f[4..].to_vec()))
}

/// The parameters of any model, flattened in leaf order, in `f64`.
pub fn flat<M: Differentiable>(m: &M) -> Vec<f64> {
    m.leaves()
        .iter()
        .flat_map(|l| (0..l.len()).map(|i| l.get(i)).collect::<Vec<_>>())
        .collect()
}

/// Runs three steps of `opt` on the `f64` model; returns the parameters after each step.
pub fn run<O: Optimizer>(opt: &mut O) -> Vec<Vec<f64>> {
    let mut model = model_from(&THETA0);
    GRADS
        .iter()
        .map(|g| {
            opt.step(&mut model, &model_from(g));
            flat(&model)
        })
        .collect()
}

/// Runs three steps of `opt` on the `f32` model; returns the parameters after each step.
pub fn run32<O: Optimizer>(opt: &mut O) -> Vec<Vec<f64>> {
    let mut model = model32_from(&THETA0);
    GRADS
        .iter()
        .map(|g| {
            opt.step(&mut model, &model32_from(g));
            flat(&model)
        })
        .collect()
}

/// Runs a scalar reference update `f(t, i, θ_i, g_i)` (1-based step `t`, element `i`) over
/// the three steps; returns the parameters after each step.
pub fn reference(mut f: impl FnMut(usize, usize, f64, f64) -> f64) -> Vec<Vec<f64>> {
    let mut theta = THETA0.to_vec();
    GRADS
        .iter()
        .enumerate()
        .map(|(t, g)| {
            for i in 0..8 {
                theta[i] = f(t + 1, i, theta[i], g[i]);
            }
            theta.clone()
        })
        .collect()
}

/// Asserts `|a - b| <= tol (1 + |b|)` elementwise.
#[track_caller]
pub fn assert_close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "element {i}: {x} vs {y}\n got {a:?}\nwant {b:?}"
        );
    }
}

/// Checks all three steps against the reference, the last one against the Python literals,
/// and the `f32` model against the same reference.
#[track_caller]
pub fn check_optimizer<O: Optimizer + Clone>(opt: O, want: &[Vec<f64>], py: &[f64; 8]) {
    let got = run(&mut opt.clone());
    for (step, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.iter()
                .zip(w)
                .all(|(a, b)| (a - b).abs() <= 1e-12 * (1.0 + b.abs())),
            "step {}:\n got {g:?}\nwant {w:?}",
            step + 1
        );
    }
    assert_close(&got[2], py, 1e-12);
    let got32 = run32(&mut opt.clone());
    for (g, w) in got32.iter().zip(want) {
        assert_close(g, w, 1e-5);
    }
}
