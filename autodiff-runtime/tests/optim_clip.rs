//! Gradient clipping by global norm and by value.

use autodiff_runtime::optim::{clip_grad_norm, clip_grad_value};
use ndarray::array;

#[test]
fn norm_is_global_over_every_buffer() {
    // n = √(1² + 2² + 2² + 4²) = 5 over a scalar, a Vec and a matrix.
    let mut g = (1.0_f64, vec![2.0_f64, 2.0], array![[4.0_f64]]);
    let norm = clip_grad_norm(&mut g, 2.5);
    assert_eq!(norm, 5.0);
    // g ← g · 2.5 / (5 + 1e-6), as PyTorch.
    let c = 2.5 / (5.0 + 1e-6);
    assert_eq!(g, (c, vec![2.0 * c, 2.0 * c], array![[4.0 * c]]));
}

#[test]
fn norm_below_the_maximum_leaves_gradients_alone() {
    let mut g = vec![0.3_f64, 0.4];
    assert!((clip_grad_norm(&mut g, 1.0) - 0.5).abs() < 1e-15);
    assert_eq!(g, vec![0.3, 0.4]);
    // Exactly at the maximum: the coefficient is max / (n + 1e-6) < 1, still a no-op in
    // effect (PyTorch clamps the coefficient at 1 the same way).
    let mut g = vec![3.0_f64, 4.0];
    clip_grad_norm(&mut g, 5.0);
    assert!((g[1] - 4.0).abs() < 1e-6);
}

#[test]
fn norm_of_f32_gradients_is_computed_in_f64() {
    let mut g = (vec![3.0_f32], array![4.0_f32]);
    assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
    assert!((g.0[0] - 0.6).abs() < 1e-6 && (g.1[0] - 0.8).abs() < 1e-6);
}

#[test]
fn non_finite_norm_is_returned_and_gradients_are_untouched() {
    let mut g = vec![f64::INFINITY, 1.0];
    assert_eq!(clip_grad_norm(&mut g, 1.0), f64::INFINITY);
    assert_eq!(g, vec![f64::INFINITY, 1.0]);
    let mut g = vec![f64::NAN, 1.0];
    assert!(clip_grad_norm(&mut g, 1.0).is_nan());
    assert_eq!(g[1], 1.0);
}

#[test]
fn value_clamps_every_element() {
    let mut g = (
        -3.0_f64,
        vec![0.5_f32, -0.25],
        array![[2.0_f64, -1.0], [1.0, 0.0]],
    );
    clip_grad_value(&mut g, 1.0);
    assert_eq!(g, (-1.0, vec![0.5, -0.25], array![[1.0, -1.0], [1.0, 0.0]]));
    let mut z = vec![1.0_f64, -1.0];
    clip_grad_value(&mut z, 0.0);
    assert_eq!(z, vec![0.0, 0.0]);
}

#[test]
#[should_panic(expected = "clip_grad_norm: invalid max norm -1.0: must be finite and >= 0")]
fn negative_max_norm_panics() {
    clip_grad_norm(&mut vec![1.0_f64], -1.0);
}

#[test]
#[should_panic(expected = "clip_grad_value: invalid clip value NaN")]
fn nan_clip_value_panics() {
    clip_grad_value(&mut vec![1.0_f64], f64::NAN);
}
