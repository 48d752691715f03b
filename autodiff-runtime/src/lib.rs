//! The runtime of `autodiff`: tangent traits, VJP rules, tensor kernels, neural-network
//! layers, optimizers and gradient checking. Users depend on the `autodiff` facade, which
//! re-exports everything here.

#![warn(missing_docs)]

// Links the system OpenBLAS behind ndarray's BLAS path (feature `openblas`).
#[cfg(feature = "openblas")]
extern crate blas_src;

pub mod check;
mod ext;
pub mod io;
mod linalg;
pub mod nn;
pub mod ops;
pub mod optim;
mod real;
mod tangent;

pub use ext::ArrayExt;
pub use real::Real;
pub use tangent::{Differentiable, Leaf, LeafMut, Tangent};

#[doc(hidden)]
pub mod __private;
