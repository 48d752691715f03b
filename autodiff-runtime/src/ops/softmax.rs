//! `softmax`, `log_softmax` and `logsumexp` along one axis.
//!
//! All three subtract the lane's maximum before exponentiating (the max-shift), so values
//! and gradients stay finite for finite inputs of any magnitude (logits of ±1e4 included).

use ndarray::{Array, ArrayView1, ArrayViewMut1, Axis, Dimension, RemoveAxis, Zip};

use super::{check_axis, into_standard, seed};
use crate::Real;

/// The shift for a lane: its maximum, or 0 when that is not finite (an empty lane or one
/// of `-∞`s, where shifting by `-∞` would turn `-∞ - -∞` into `NaN`).
fn shift<A: Real>(lane: &ArrayView1<'_, A>) -> A {
    let m = lane.fold(A::neg_infinity(), |m, &v| if v > m { v } else { m });
    if m.is_finite() { m } else { A::zero() }
}

/// `ln Σⱼ exp(xⱼ)` of one lane, with the max-shift.
fn lane_logsumexp<A: Real>(lane: ArrayView1<'_, A>) -> A {
    let m = shift(&lane);
    m + lane.fold(A::zero(), |s, &v| s + (v - m).exp()).ln()
}

/// Overwrites a lane with its softmax.
fn lane_softmax<A: Real>(mut lane: ArrayViewMut1<'_, A>) {
    let m = shift(&lane.view());
    let mut s = A::zero();
    lane.mapv_inplace(|v| {
        let e = (v - m).exp();
        s += e;
        e
    });
    let inv = A::one() / s;
    lane.mapv_inplace(|e| e * inv);
}

/// Overwrites a lane with its log-softmax.
fn lane_log_softmax<A: Real>(mut lane: ArrayViewMut1<'_, A>) {
    let lse = lane_logsumexp(lane.view());
    lane.mapv_inplace(|v| v - lse);
}

/// An owned standard-layout copy of `x` with `f` applied to every lane along `axis`.
fn per_lane<A: Real, D: Dimension>(
    x: &Array<A, D>,
    axis: Axis,
    f: impl Fn(ArrayViewMut1<'_, A>),
) -> Array<A, D> {
    let mut y = into_standard(x.to_owned());
    y.lanes_mut(axis).into_iter().for_each(f);
    y
}

// ---- softmax ----

/// The softmax along `axis`: every lane is exponentiated and normalized to sum to 1.
///
/// ```text
/// y_i = exp(x_i − m) / Σⱼ exp(x_j − m)         (m = maxⱼ x_j, per lane)
/// d_x = y ⊙ (d_y − Σⱼ d_y_j y_j)               (the sum per lane)
/// ```
///
/// # Panics
/// When `axis` is out of range.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let y = ops::softmax(&array![[0.0_f64, 0.0], [1e4, 0.0]], 1);
/// assert_eq!(y, array![[0.5, 0.5], [1.0, 0.0]]);
/// ```
#[track_caller]
pub fn softmax<A: Real, D: Dimension>(x: &Array<A, D>, axis: usize) -> Array<A, D> {
    per_lane(x, check_axis("softmax", axis, x.shape()), lane_softmax)
}

/// Vector-Jacobian product of [`softmax()`]; keeps the output.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::softmax_vjp(&array![0.0_f64, 0.0], 0);
/// assert_eq!(pullback(array![1.0, 0.0]), array![0.25, -0.25]);
/// ```
#[track_caller]
pub fn softmax_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let y = softmax(x, axis);
    let kept = y.clone();
    (y, move |d_y| {
        let mut d = seed("softmax", d_y, kept.shape());
        Zip::from(d.lanes_mut(Axis(axis)))
            .and(kept.lanes(Axis(axis)))
            .for_each(|mut g, y| {
                let s = g.dot(&y);
                g.zip_mut_with(&y, |g, &y| *g = y * (*g - s));
            });
        d
    })
}

// ---- log_softmax ----

/// The logarithm of [`softmax()`] along `axis`, computed directly.
///
/// ```text
/// y_i = x_i − m − ln Σⱼ exp(x_j − m)           (m = maxⱼ x_j, per lane)
/// d_x = d_y − exp(y) Σⱼ d_y_j                  (the sum per lane)
/// ```
///
/// # Panics
/// When `axis` is out of range.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let y = ops::log_softmax(&array![0.0_f64, 0.0], 0);
/// assert_eq!(y, array![-(2.0_f64.ln()), -(2.0_f64.ln())]);
/// ```
#[track_caller]
pub fn log_softmax<A: Real, D: Dimension>(x: &Array<A, D>, axis: usize) -> Array<A, D> {
    per_lane(
        x,
        check_axis("log_softmax", axis, x.shape()),
        lane_log_softmax,
    )
}

/// Vector-Jacobian product of [`log_softmax`]; keeps the output.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::log_softmax_vjp(&array![0.0_f64, 0.0], 0);
/// assert_eq!(pullback(array![1.0, 0.0]), array![0.5, -0.5]);
/// ```
#[track_caller]
pub fn log_softmax_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let y = log_softmax(x, axis);
    let kept = y.clone();
    (y, move |d_y| {
        let mut d = seed("log_softmax", d_y, kept.shape());
        Zip::from(d.lanes_mut(Axis(axis)))
            .and(kept.lanes(Axis(axis)))
            .for_each(|mut g, y| {
                let s = g.sum();
                g.zip_mut_with(&y, |g, &y| *g -= y.exp() * s);
            });
        d
    })
}

// ---- logsumexp ----

/// `ln Σ exp(x)` along `axis`, which is removed.
///
/// ```text
/// y = m + ln Σⱼ exp(x_j − m)                   (m = maxⱼ x_j, per lane)
/// d_x_i = d_y · exp(x_i − y)                   (= d_y · softmax(x)_i)
/// ```
///
/// # Panics
/// When `axis` is out of range.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let y = ops::logsumexp(&array![[0.0_f64, 0.0], [1e4, 1e4]], 1);
/// assert_eq!(y, array![2.0_f64.ln(), 1e4 + 2.0_f64.ln()]);
/// ```
#[track_caller]
pub fn logsumexp<A: Real, D: RemoveAxis>(x: &Array<A, D>, axis: usize) -> Array<A, D::Smaller> {
    let ax = check_axis("logsumexp", axis, x.shape());
    let mut y = Array::zeros(x.raw_dim().remove_axis(ax));
    Zip::from(&mut y)
        .and(x.lanes(ax))
        .for_each(|y, lane| *y = lane_logsumexp(lane));
    y
}

/// Vector-Jacobian product of [`logsumexp`]; keeps the input and the output.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::logsumexp_vjp(&array![[0.0_f64, 0.0]], 1);
/// assert_eq!(pullback(array![2.0]), array![[1.0, 1.0]]);
/// ```
#[track_caller]
pub fn logsumexp_vjp<A: Real, D: RemoveAxis>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D::Smaller>,
    impl FnOnce(Array<A, D::Smaller>) -> Array<A, D> + use<A, D>,
) {
    let y = logsumexp(x, axis);
    let kept = (into_standard(x.to_owned()), y.clone());
    (y, move |d_y| {
        let (mut d, y) = kept;
        let g = seed("logsumexp", d_y, y.shape());
        Zip::from(d.lanes_mut(Axis(axis)))
            .and(&y)
            .and(&g)
            .for_each(|mut lane, &y, &g| {
                lane.mapv_inplace(|x| g * (x - y).exp());
            });
        d
    })
}
