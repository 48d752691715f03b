//! Support code for what `#[differentiable]` and `#[derive(Differentiable)]` generate. Not a
//! public API: names and signatures change without notice.

mod adjoint;
mod arith;
pub mod array;
mod assign;
mod call;
mod derive;
pub mod method;
pub mod rules;
mod stack;
mod window;

pub use adjoint::*;
pub use arith::*;
pub use assign::*;
pub use call::*;
pub use derive::*;
pub use stack::*;
pub use window::*;

pub use ndarray;
pub use serde;

/// The value of `e`, with no gradient flowing through it (the forward half of
/// `autodiff::no_grad`, which generated code treats as passive).
#[inline(always)]
pub fn no_grad<T>(e: T) -> T {
    e
}
