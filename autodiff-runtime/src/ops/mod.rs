//! Differentiable array operations: elementwise math, broadcasting arithmetic, reductions,
//! matrix products, softmax and shape manipulation.
//!
//! Every function `foo(...)` has a companion `foo_vjp(...)` that takes the same inputs and
//! returns `(output, pullback)`. The pullback is an `FnOnce` from the output's tangent (the
//! seed, an owned array of the output's shape, or a scalar for a scalar output) to the
//! tangents of the differentiable inputs, in order: bare when there is one, a tuple when
//! there are several. Arrays and float scalars (the bounds of [`clip`]) are
//! differentiable; `axis: usize`, shapes `&[usize]` and integer exponents are not. For
//! [`concat()`] and [`stack`], the tangent of the slice of arrays is a `Vec` of arrays.
//! These are the same conventions as `#[differentiable]` functions, so the functions here
//! can be called from differentiable code.
//!
//! Arrays are taken by reference, results are owned and in standard (row-major) layout.
//! Pullbacks own what they keep (a copy of an input or of the output): they borrow
//! nothing, so they outlive their arguments.
//!
//! Shape errors (arrays that do not broadcast, a matrix product whose inner dimensions
//! differ, an axis out of range, a seed of the wrong shape) panic with a message that names
//! the operation and the shapes involved.
//!
//! | family | functions |
//! |---|---|
//! | elementwise | [`exp`] [`ln`] [`sqrt`] [`abs`] [`tanh`] [`sin`] [`cos`] [`powi`] [`clip`] |
//! | broadcasting arithmetic | [`add`] [`sub`] [`mul`] [`div`] |
//! | reductions | [`sum`] [`mean`] [`max`] [`min`], [`sum_axis`] [`mean_axis`] [`max_axis`] [`min_axis`] |
//! | linear algebra | [`matmul`] [`transpose`] |
//! | softmax | [`softmax()`] [`log_softmax`] [`logsumexp`] |
//! | shape | [`concat()`] [`stack`] [`reshape`] [`expand_dims`] [`squeeze`] [`flatten`] |
//!
//! # Examples
//!
//! ```
//! use autodiff_runtime::ops;
//! use ndarray::array;
//!
//! let x = array![[1.0_f64, 2.0], [3.0, 4.0]];
//! let w = array![[0.5, -1.0], [2.0, 0.0]];
//! // y = x · w, then the gradient of Σ y
//! let (y, pullback) = ops::matmul_vjp(&x, &w);
//! assert_eq!(y, array![[4.5, -1.0], [9.5, -3.0]]);
//! let (d_x, d_w) = pullback(array![[1.0, 1.0], [1.0, 1.0]]);
//! assert_eq!(d_x, array![[-0.5, 2.0], [-0.5, 2.0]]);
//! assert_eq!(d_w, array![[4.0, 4.0], [6.0, 6.0]]);
//! ```

// Every `_vjp` returns `(output, impl FnOnce(seed) -> tangents)`: the signature is the
// convention, and `impl Trait` cannot be named by a type alias on stable Rust.
#![allow(clippy::type_complexity)]

mod elementwise;
mod linalg;
mod reduce;
mod shape;
mod softmax;

pub use elementwise::*;
pub use linalg::*;
pub use reduce::*;
pub use shape::*;
pub use softmax::*;

use ndarray::{Array, Axis, Dimension};

use crate::Real;

/// Panics unless `axis` is an axis of an array of shape `shape`.
#[track_caller]
fn check_axis(op: &str, axis: usize, shape: &[usize]) -> Axis {
    assert!(
        axis < shape.len(),
        "`{op}`: axis {axis} is out of range for an array of shape {shape:?}"
    );
    Axis(axis)
}

/// Panics unless the seed passed to `op`'s pullback has the output's shape.
#[track_caller]
fn check_seed(op: &str, seed: &[usize], output: &[usize]) {
    assert!(
        seed == output,
        "`{op}` pullback: seed of shape {seed:?} for an output of shape {output:?}"
    );
}

/// `a` in standard layout (moved when it already is).
fn into_standard<A: Real, D: Dimension>(a: Array<A, D>) -> Array<A, D> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

/// The seed of `op`'s pullback, checked against the output's shape, in standard layout.
#[track_caller]
fn seed<A: Real, D: Dimension>(op: &str, seed: Array<A, D>, output: &[usize]) -> Array<A, D> {
    check_seed(op, seed.shape(), output);
    into_standard(seed)
}
