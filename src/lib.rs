//! autodiff: compile-time reverse-mode automatic differentiation for Rust.

pub use autodiff_macros::{Differentiable, differentiable};
pub use autodiff_runtime::check;
pub use autodiff_runtime::io;
pub use autodiff_runtime::nn;
pub use autodiff_runtime::ops;
pub use autodiff_runtime::optim;
pub use autodiff_runtime::{ArrayExt, Differentiable, Leaf, LeafMut, Real, Tangent};
pub use ndarray;
pub use rand;

#[doc(hidden)]
pub use autodiff_runtime::__private;

/// The value of `e`, with no gradient flowing through it.
///
/// Inside `#[differentiable]` code, `no_grad(e)` treats `e` as a constant: its value is
/// used, but no adjoint flows back into the variables it was computed from.
#[inline(always)]
pub fn no_grad<T>(e: T) -> T {
    e
}
