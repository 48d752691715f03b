//! Elementwise methods that ndarray does not have but differentiable code may call.

use ndarray::{Array, ArrayBase, Data, Dimension};

use crate::Real;

/// `tanh` on arrays, elementwise (ndarray 0.16 has `sin`, `cos`, `exp`, ... but not `tanh`).
///
/// Import it (`use autodiff::ArrayExt;`) to write `a.tanh()` on an array, in ordinary and in
/// `#[differentiable]` code alike.
///
/// ```
/// use autodiff_runtime::ArrayExt;
/// use ndarray::array;
///
/// let y = array![0.0_f64, 1.0].tanh();
/// assert!((y[1] - 1.0_f64.tanh()).abs() < 1e-15);
/// ```
pub trait ArrayExt<A, D> {
    /// The hyperbolic tangent of each element.
    fn tanh(&self) -> Array<A, D>;
}

impl<A: Real, S: Data<Elem = A>, D: Dimension> ArrayExt<A, D> for ArrayBase<S, D> {
    fn tanh(&self) -> Array<A, D> {
        self.mapv(A::tanh)
    }
}
