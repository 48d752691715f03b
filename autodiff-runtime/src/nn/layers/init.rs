//! PyTorch's default initialization.

use ndarray::{Array, Dimension, ShapeBuilder};
use rand::Rng;

use crate::Real;

/// Samples of `U(-1/√fan_in, 1/√fan_in)` in row-major order.
///
/// This is PyTorch's default for the weights of `Linear` and `Conv2d`
/// (`kaiming_uniform_(a = √5)`: gain `√(2 / (1 + 5))`, bound `gain · √(3 / fan_in)`, which is
/// `1/√fan_in`) and for their biases (`uniform_(-1/√fan_in, 1/√fan_in)`).
pub(super) fn fan_in_uniform<A, D, Sh, R>(shape: Sh, fan_in: usize, rng: &mut R) -> Array<A, D>
where
    A: Real,
    D: Dimension,
    Sh: ShapeBuilder<Dim = D>,
    R: Rng + ?Sized,
{
    let bound = 1.0 / (fan_in as f64).sqrt();
    Array::from_shape_simple_fn(shape, || A::from_f64(rng.random_range(-bound..bound)))
}
