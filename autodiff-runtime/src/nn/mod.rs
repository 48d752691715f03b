//! Neural-network functions: activations, layers, pooling, normalization, dropout and losses.
//!
//! Every function `foo(...)` has a companion `foo_vjp(...)` that takes the same inputs and
//! returns `(output, pullback)`. The pullback is an `FnOnce` from the output's tangent (the
//! seed) to the tangents of the differentiable inputs, in declaration order: bare when there
//! is one, a tuple when there are several. Arrays and `alpha`, `gamma`, `beta`, weights and
//! biases are differentiable; integer arguments (stride, padding, kernel, labels), `p`,
//! `eps`, the slope/alpha of [`leaky_relu`]/[`elu`], the `delta` of [`huber`] and random
//! number generators are not.
//!
//! Pullbacks own what they keep (a copy of the input, the output, a mask): they borrow
//! nothing from the arguments, so they can outlive them and be stored in other pullbacks.
//!
//! Images are `Array4` in N, C, H, W order; convolution weights are O, C, KH, KW.
//!
//! ```
//! use autodiff_runtime::nn;
//! use ndarray::array;
//!
//! let x = array![[1.0_f64, -2.0], [0.5, 3.0]];
//! let (y, pullback) = nn::relu_vjp(&x);
//! assert_eq!(y, array![[1.0, 0.0], [0.5, 3.0]]);
//! let dx = pullback(array![[1.0, 1.0], [1.0, 1.0]]);
//! assert_eq!(dx, array![[1.0, 0.0], [1.0, 1.0]]);
//! ```

mod activation;
mod conv;
mod dropout;
mod gemm_shim;
pub mod layers;
mod linear;
mod loss;
mod norm;
mod pool;

pub use activation::*;
pub use conv::*;
pub use dropout::*;
pub use layers::*;
pub use linear::*;
pub use loss::*;
pub use norm::*;
pub use pool::*;

// The same functions as in `ops`, next to the other activations.
pub use crate::ops::{log_softmax, log_softmax_vjp, softmax, softmax_vjp, tanh, tanh_vjp};

use ndarray::{Array, Dimension};

/// Panics unless a pullback's seed has the shape of the forward output.
#[track_caller]
fn check_seed(func: &str, seed: &[usize], output: &[usize]) {
    assert!(
        seed == output,
        "nn::{func}_vjp: the pullback's seed has shape {seed:?}, but the output has shape {output:?}"
    );
}

/// `a` itself when it is in standard (row-major, contiguous) layout, else a standard copy.
fn standard<A: Clone, D: Dimension>(a: Array<A, D>) -> Array<A, D> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}
