//! Fully connected layers: `x W^T (+ b)`, with the weight laid out as PyTorch's (out x in).

use ndarray::{Array1, Array2, Axis};

use super::check_seed;
use super::gemm_shim::gemm;
use crate::Real;

/// Checks the shapes of `linear`'s operands; returns `(batch, out)`.
#[track_caller]
fn linear_shapes<A>(
    func: &str,
    x: &Array2<A>,
    w: &Array2<A>,
    b: Option<&Array1<A>>,
) -> (usize, usize) {
    assert!(
        x.ncols() == w.ncols(),
        "nn::{func}: x of shape {:?} has {} features but w of shape {:?} expects {} \
         (w is out x in)",
        x.shape(),
        x.ncols(),
        w.shape(),
        w.ncols()
    );
    if let Some(b) = b {
        assert!(
            b.len() == w.nrows(),
            "nn::{func}: b has {} elements but w of shape {:?} has {} outputs",
            b.len(),
            w.shape(),
            w.nrows()
        );
    }
    (x.nrows(), w.nrows())
}

/// `x W^T (+ b)` through the one GEMM.
fn linear_forward<A: Real>(
    x: &Array2<A>,
    w: &Array2<A>,
    b: Option<&Array1<A>>,
    (n, out): (usize, usize),
) -> Array2<A> {
    let mut y = match b {
        Some(b) => b.broadcast((n, out)).expect("checked shapes").to_owned(),
        None => Array2::zeros((n, out)),
    };
    let beta = if b.is_some() { A::one() } else { A::zero() };
    gemm(A::one(), x.view(), w.t(), beta, y.view_mut());
    y
}

/// `(d_x, d_w)` of `y = x W^T` for the seed `d_y`.
fn linear_back<A: Real>(d_y: &Array2<A>, x: &Array2<A>, w: &Array2<A>) -> (Array2<A>, Array2<A>) {
    // d_x = d_y W
    let mut d_x = Array2::zeros(x.raw_dim());
    gemm(A::one(), d_y.view(), w.view(), A::zero(), d_x.view_mut());
    // d_W = d_y^T x
    let mut d_w = Array2::zeros(w.raw_dim());
    gemm(A::one(), d_y.t(), x.view(), A::zero(), d_w.view_mut());
    (d_x, d_w)
}

// ---- linear ----

/// Affine map of a batch of row vectors: `x W^T + b`, as PyTorch's `Linear`.
///
/// `x` is batch x in, `w` is out x in, `b` has `out` elements; the result is batch x out.
///
/// ```text
/// y   = x W^T + b
/// d_x = d_y W
/// d_W = d_y^T x
/// d_b = Σ_rows d_y
/// ```
///
/// # Panics
/// When `x` has not `w.ncols()` columns or `b` has not `w.nrows()` elements.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[1.0_f64, 2.0]];
/// let w = array![[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]];
/// let b = array![0.5, 0.0, 1.0];
/// assert_eq!(nn::linear(&x, &w, &b), array![[1.5, 3.0, -1.0]]);
/// ```
#[track_caller]
pub fn linear<A: Real>(x: &Array2<A>, w: &Array2<A>, b: &Array1<A>) -> Array2<A> {
    let shape = linear_shapes("linear", x, w, Some(b));
    linear_forward(x, w, Some(b), shape)
}

/// Vector-Jacobian product of [`linear`]: its value and the pullback
/// `d_y ↦ (d_x, d_w, d_b)`.
///
/// The pullback keeps copies of `x` and `w`.
///
/// # Panics
/// As [`linear`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[1.0_f64, 2.0]];
/// let w = array![[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]];
/// let (_, pullback) = nn::linear_vjp(&x, &w, &array![0.0, 0.0, 0.0]);
/// let (dx, dw, db) = pullback(array![[1.0, 0.0, 2.0]]);
/// assert_eq!(dx, array![[1.0, -2.0]]);
/// assert_eq!(dw, array![[1.0, 2.0], [0.0, 0.0], [2.0, 4.0]]);
/// assert_eq!(db, array![1.0, 0.0, 2.0]);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn linear_vjp<A: Real>(
    x: &Array2<A>,
    w: &Array2<A>,
    b: &Array1<A>,
) -> (
    Array2<A>,
    impl FnOnce(Array2<A>) -> (Array2<A>, Array2<A>, Array1<A>) + use<A>,
) {
    let shape = linear_shapes("linear", x, w, Some(b));
    let y = linear_forward(x, w, Some(b), shape);
    let (x, w) = (x.clone(), w.clone());
    let pullback = move |d_y: Array2<A>| {
        check_seed("linear", d_y.shape(), &[shape.0, shape.1]);
        let (d_x, d_w) = linear_back(&d_y, &x, &w);
        // d_b = Σ_rows d_y
        let d_b = d_y.sum_axis(Axis(0));
        (d_x, d_w, d_b)
    };
    (y, pullback)
}

// ---- linear_no_bias ----

/// Linear map of a batch of row vectors: `x W^T`, as PyTorch's `Linear` without bias.
///
/// ```text
/// y   = x W^T
/// d_x = d_y W
/// d_W = d_y^T x
/// ```
///
/// # Panics
/// When `x` has not `w.ncols()` columns.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[1.0_f64, 2.0]];
/// let w = array![[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]];
/// assert_eq!(nn::linear_no_bias(&x, &w), array![[1.0, 3.0, -2.0]]);
/// ```
#[track_caller]
pub fn linear_no_bias<A: Real>(x: &Array2<A>, w: &Array2<A>) -> Array2<A> {
    let shape = linear_shapes("linear_no_bias", x, w, None);
    linear_forward(x, w, None, shape)
}

/// Vector-Jacobian product of [`linear_no_bias`]: its value and the pullback
/// `d_y ↦ (d_x, d_w)`.
///
/// # Panics
/// As [`linear_no_bias`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[1.0_f64, 2.0]];
/// let w = array![[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]];
/// let (_, pullback) = nn::linear_no_bias_vjp(&x, &w);
/// let (dx, dw) = pullback(array![[1.0, 0.0, 2.0]]);
/// assert_eq!(dx, array![[1.0, -2.0]]);
/// assert_eq!(dw, array![[1.0, 2.0], [0.0, 0.0], [2.0, 4.0]]);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn linear_no_bias_vjp<A: Real>(
    x: &Array2<A>,
    w: &Array2<A>,
) -> (
    Array2<A>,
    impl FnOnce(Array2<A>) -> (Array2<A>, Array2<A>) + use<A>,
) {
    let shape = linear_shapes("linear_no_bias", x, w, None);
    let y = linear_forward(x, w, None, shape);
    let (x, w) = (x.clone(), w.clone());
    let pullback = move |d_y: Array2<A>| {
        check_seed("linear_no_bias", d_y.shape(), &[shape.0, shape.1]);
        linear_back(&d_y, &x, &w)
    };
    (y, pullback)
}
