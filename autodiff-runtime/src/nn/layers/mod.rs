//! Layer structs: parameters and hyper-parameters together, with PyTorch's default
//! initialization, a `forward` and its hand-written `forward_vjp`.
//!
//! Every layer is generic over its scalar (`Layer<A: Real = f32>`), derives
//! `Differentiable` (its tangent is `LayerTangent<A>`, with a field per parameter),
//! `Clone`, `Debug` and serde's traits, and names its parameters as PyTorch does (`weight`,
//! `bias`, `running_mean`, `running_var`), so [`io`](crate::io) files load into the PyTorch
//! module of the same shape.
//!
//! `forward_vjp(&self, x)` has the shape `#[differentiable]` generates for a method: the
//! output, and a pullback from the output's tangent to `(layer tangent, d_x)`. So
//! differentiable code calls `self.l1.forward(x)` like any other differentiable function.
//!
//! [`Dropout`] and [`BatchNorm2d`] behave differently when training and in evaluation:
//! switch a whole model with [`TrainingMode::train`] / [`TrainingMode::eval`].

mod batch_norm;
mod conv2d;
mod dropout;
mod init;
mod layer_norm;
mod linear;
mod mode;

pub use batch_norm::{BatchNorm2d, BatchNorm2dTangent};
pub use conv2d::{Conv2d, Conv2dTangent};
pub use dropout::{Dropout, DropoutTangent};
pub use layer_norm::{LayerNorm, LayerNormTangent};
pub use linear::{Linear, LinearTangent};
pub use mode::TrainingMode;
