//! Matrix product and transpose.

use ndarray::Array2;

use super::{into_standard, seed};
use crate::Real;
use crate::linalg::gemm::gemm;

// ---- matmul ----

#[track_caller]
fn check_matmul(a: &[usize], b: &[usize]) {
    assert!(
        a[1] == b[0],
        "`matmul`: shapes {a:?} and {b:?} do not agree (inner dimensions {} and {})",
        a[1],
        b[0]
    );
}

/// The matrix product `a · b` of an `m×k` and a `k×n` matrix.
///
/// ```text
/// y = a · b         d_a = d_y · bᵀ      d_b = aᵀ · d_y
/// ```
///
/// # Panics
/// When the inner dimensions differ.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let a = array![[1.0_f64, 2.0, 3.0]];
/// let b = array![[1.0], [0.0], [-1.0]];
/// assert_eq!(ops::matmul(&a, &b), array![[-2.0]]);
/// ```
#[track_caller]
pub fn matmul<A: Real>(a: &Array2<A>, b: &Array2<A>) -> Array2<A> {
    check_matmul(a.shape(), b.shape());
    let mut y = Array2::zeros((a.nrows(), b.ncols()));
    gemm(A::one(), a.view(), b.view(), A::zero(), y.view_mut());
    y
}

/// Vector-Jacobian product of [`matmul`]: the tangents of `(a, b)`; keeps both inputs.
/// Each adjoint is one GEMM call, with the transposes passed as views.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let a = array![[1.0_f64, 2.0, 3.0]];
/// let b = array![[1.0], [0.0], [-1.0]];
/// let (_, pullback) = ops::matmul_vjp(&a, &b);
/// let (d_a, d_b) = pullback(array![[2.0]]);
/// assert_eq!(d_a, array![[2.0, 0.0, -2.0]]);
/// assert_eq!(d_b, array![[2.0], [4.0], [6.0]]);
/// ```
#[track_caller]
pub fn matmul_vjp<A: Real>(
    a: &Array2<A>,
    b: &Array2<A>,
) -> (
    Array2<A>,
    impl FnOnce(Array2<A>) -> (Array2<A>, Array2<A>) + use<A>,
) {
    let y = matmul(a, b);
    let (a, b) = (a.clone(), b.clone());
    (y, move |d_y| {
        let g = seed("matmul", d_y, &[a.nrows(), b.ncols()]);
        let mut d_a = Array2::zeros(a.raw_dim());
        gemm(A::one(), g.view(), b.t(), A::zero(), d_a.view_mut());
        let mut d_b = Array2::zeros(b.raw_dim());
        gemm(A::one(), a.t(), g.view(), A::zero(), d_b.view_mut());
        (d_a, d_b)
    })
}

// ---- transpose ----

/// The transpose of a matrix, as an owned array in standard layout.
///
/// ```text
/// y = aᵀ            d_a = d_yᵀ
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::transpose(&array![[1.0_f64, 2.0, 3.0]]), array![[1.0], [2.0], [3.0]]);
/// ```
pub fn transpose<A: Real>(a: &Array2<A>) -> Array2<A> {
    a.t().as_standard_layout().into_owned()
}

/// Vector-Jacobian product of [`transpose`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::transpose_vjp(&array![[1.0_f64, 2.0, 3.0]]);
/// assert_eq!(pullback(array![[4.0], [5.0], [6.0]]), array![[4.0, 5.0, 6.0]]);
/// ```
pub fn transpose_vjp<A: Real>(
    a: &Array2<A>,
) -> (Array2<A>, impl FnOnce(Array2<A>) -> Array2<A> + use<A>) {
    let y = transpose(a);
    let out = [a.ncols(), a.nrows()];
    (y, move |d_y| {
        into_standard(seed("transpose", d_y, &out).reversed_axes())
    })
}
