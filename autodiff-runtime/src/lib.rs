//! The runtime of `autodiff`: tangent traits, VJP rules, tensor kernels, neural-network
//! layers, optimizers and gradient checking. Users depend on the `autodiff` facade, which
//! re-exports everything here.

#![warn(missing_docs)]

mod real;
mod tangent;

pub use real::Real;
pub use tangent::{Differentiable, Leaf, LeafMut, Tangent};

#[doc(hidden)]
pub mod __private;
