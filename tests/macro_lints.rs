//! The expansion of `#[differentiable]` is clean under strict lints a user may enable.

#![deny(
    warnings,
    unused_qualifications,
    missing_docs,
    unused_results,
    clippy::all
)]
#![allow(clippy::needless_range_loop)]

use autodiff::differentiable;
use autodiff::ndarray::{Array1, Array2, Axis};

/// Every scalar construct in one function.
#[differentiable]
pub fn scalar_constructs(x: &[f64], y: f64, n: usize) -> f64 {
    let mut acc = 0.0;
    let mut buf = vec![0.0; n];
    for i in (0..n).rev() {
        buf[i] = x[i % x.len()] * y;
    }
    let mut k = 0;
    while k < n {
        if buf[k] > 0.0 {
            acc += buf[k].exp();
        } else {
            acc -= buf[k].sin() * 2.0;
        }
        k += 1;
    }
    let (a, b) = (acc * 2.0, y.powi(2));
    let z = if a > b { a / b } else { b - a };
    z + (y as f32).cos() as f64
}

/// Arrays, reductions and calls.
#[differentiable]
pub fn array_constructs(w: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let h = autodiff::nn::relu(&w.dot(v));
    let s = w.sum_axis(Axis(1)) * &h;
    s.sum() + autodiff::ops::sum(&h)
}

#[test]
fn expansions_compile_under_strict_lints() {
    let (v, g) = scalar_constructs_grad(&[0.5, -0.2, 0.9], 1.3, 4);
    assert!(v.is_finite() && g.0.len() == 3 && g.1.is_finite());
    let w = Array2::from_shape_fn((2, 3), |(i, j)| 0.1 * (i + j) as f64 - 0.15);
    let (v, (dw, dv)) = array_constructs_grad(&w, &Array1::from(vec![0.4, -0.3, 0.8]));
    assert!(v.is_finite() && dw.dim() == (2, 3) && dv.len() == 3);
}

/// A loop body the reverse sweep runs again (work arrays rewritten every iteration) and an
/// element adjoint summed over an inner loop.
#[differentiable]
pub fn checkpointed_constructs(m: &[f64], x: &[f64]) -> f64 {
    let d = m.len();
    let mut w = vec![0.0; d];
    let mut s = 0.0;
    for i in 0..x.len() {
        for j in 0..d {
            w[j] = x[i] - m[j];
        }
        for a in 0..d {
            for b in a + 1..d {
                w[b] += w[a] * m[a];
            }
        }
        for j in 0..d {
            s += w[j] * w[j];
        }
    }
    s
}
