//! The scalar types differentiable code computes with.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};
use num_traits::Float;

/// A real floating-point scalar: `f32` or `f64`.
///
/// Write generic differentiable code against `T: Real`; every rule of the runtime is
/// implemented for both widths.
///
/// ```
/// use autodiff_runtime::Real;
///
/// fn half<T: Real>(x: T) -> T {
///     x * T::from_f64(0.5)
/// }
/// assert_eq!(half(3.0_f32), 1.5);
/// ```
pub trait Real:
    Float
    + crate::Differentiable<Tangent = Self>
    + crate::Tangent
    + crate::__private::Primal<Tangent = Self, Adj = Self, MetaData = ()>
    + crate::__private::Adjoint<Value = Self>
    + ScalarOperand
    + LinalgScalar
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + serde::Serialize
    + for<'de> serde::Deserialize<'de>
    + 'static
{
    /// Converts an `f64` constant (rounding for `f32`).
    fn from_f64(v: f64) -> Self;
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
    /// The additive identity that is also an identity under IEEE addition: `-0.0 + x == x`
    /// for every `x`, so an adjoint that starts here costs nothing once the first
    /// contribution is added (the compiler folds the addition away).
    fn adjoint_zero() -> Self;
    /// Wraps this scalar as a [`Leaf`](crate::Leaf) for parameter traversal.
    fn leaf(s: &[Self]) -> crate::Leaf<'_>;
    /// Wraps this scalar as a [`LeafMut`](crate::LeafMut) for parameter traversal.
    fn leaf_mut(s: &mut [Self]) -> crate::LeafMut<'_>;
}

impl Real for f32 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn adjoint_zero() -> Self {
        -0.0
    }
    fn leaf(s: &[Self]) -> crate::Leaf<'_> {
        crate::Leaf::F32(s)
    }
    fn leaf_mut(s: &mut [Self]) -> crate::LeafMut<'_> {
        crate::LeafMut::F32(s)
    }
}

impl Real for f64 {
    #[inline(always)]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn adjoint_zero() -> Self {
        -0.0
    }
    fn leaf(s: &[Self]) -> crate::Leaf<'_> {
        crate::Leaf::F64(s)
    }
    fn leaf_mut(s: &mut [Self]) -> crate::LeafMut<'_> {
        crate::LeafMut::F64(s)
    }
}
