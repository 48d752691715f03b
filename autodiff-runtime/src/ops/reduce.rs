//! Reductions: `sum mean max min` over the whole array and along one axis.
//!
//! Tie rule of `max`/`min`: the whole gradient goes to the first maximal (minimal) element,
//! in row-major order (along the axis, for the `_axis` forms). A `NaN` wins over every
//! number: the result is `NaN` and the gradient goes to the first `NaN`.

use ndarray::{Array, Axis, Dimension, RemoveAxis, Zip};

use super::{check_axis, seed};
use crate::Real;

/// Whether `v` replaces `best` as the running maximum (`greater`) or minimum: strictly
/// better, or the first `NaN`.
#[inline]
fn better<A: Real>(v: A, best: A, greater: bool) -> bool {
    if best.is_nan() {
        false
    } else if v.is_nan() {
        true
    } else if greater {
        v > best
    } else {
        v < best
    }
}

/// The value and position of the first extremum of `it`.
fn extremum<'a, A: Real>(mut it: impl Iterator<Item = &'a A>, greater: bool) -> Option<(A, usize)> {
    let mut best = (*it.next()?, 0);
    for (i, &v) in it.enumerate() {
        if better(v, best.0, greater) {
            best = (v, i + 1);
        }
    }
    Some(best)
}

// ---- sum ----

/// The sum of all elements.
///
/// ```text
/// y = Σᵢ xᵢ          d_x = d_y (every element)
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::sum(&array![[1.0_f64, 2.0], [3.0, 4.0]]), 10.0);
/// ```
pub fn sum<A: Real, D: Dimension>(x: &Array<A, D>) -> A {
    x.sum()
}

/// Vector-Jacobian product of [`sum`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::sum_vjp(&array![1.0_f64, 2.0]);
/// assert_eq!(pullback(3.0), array![3.0, 3.0]);
/// ```
pub fn sum_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (A, impl FnOnce(A) -> Array<A, D> + use<A, D>) {
    let dim = x.raw_dim();
    (sum(x), move |d_y| Array::from_elem(dim, d_y))
}

// ---- mean ----

/// The mean of all elements (`NaN` for an empty array).
///
/// ```text
/// y = (1/n) Σᵢ xᵢ    d_x = d_y / n (every element)
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::mean(&array![[1.0_f64, 2.0], [3.0, 4.0]]), 2.5);
/// ```
pub fn mean<A: Real, D: Dimension>(x: &Array<A, D>) -> A {
    x.sum() / A::from_f64(x.len() as f64)
}

/// Vector-Jacobian product of [`mean`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::mean_vjp(&array![1.0_f64, 2.0]);
/// assert_eq!(pullback(3.0), array![1.5, 1.5]);
/// ```
pub fn mean_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (A, impl FnOnce(A) -> Array<A, D> + use<A, D>) {
    let dim = x.raw_dim();
    let n = A::from_f64(x.len() as f64);
    (mean(x), move |d_y| Array::from_elem(dim, d_y / n))
}

// ---- max ----

#[track_caller]
fn whole_extremum<A: Real, D: Dimension>(op: &str, x: &Array<A, D>, greater: bool) -> (A, usize) {
    extremum(x.iter(), greater)
        .unwrap_or_else(|| panic!("`{op}`: empty array of shape {:?}", x.shape()))
}

/// Scatters `d_y` to the row-major position `at` of a zero array of shape `dim`.
fn one_hot<A: Real, D: Dimension>(dim: D, at: usize, d_y: A) -> Array<A, D> {
    let mut d = Array::zeros(dim);
    if let Some(v) = d.as_slice_mut().and_then(|s| s.get_mut(at)) {
        *v = d_y;
    }
    d
}

/// The largest element. `NaN` if any element is `NaN`.
///
/// ```text
/// y = maxᵢ xᵢ        d_x = d_y at the first i with xᵢ = y, 0 elsewhere
/// ```
///
/// # Panics
/// When the array is empty.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::max(&array![[1.0_f64, 4.0], [3.0, 2.0]]), 4.0);
/// ```
#[track_caller]
pub fn max<A: Real, D: Dimension>(x: &Array<A, D>) -> A {
    whole_extremum("max", x, true).0
}

/// Vector-Jacobian product of [`max`]: the gradient goes to the first maximal element.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (y, pullback) = ops::max_vjp(&array![1.0_f64, 4.0, 4.0]);
/// assert_eq!(y, 4.0);
/// assert_eq!(pullback(2.0), array![0.0, 2.0, 0.0]);
/// ```
#[track_caller]
pub fn max_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (A, impl FnOnce(A) -> Array<A, D> + use<A, D>) {
    let (y, at) = whole_extremum("max", x, true);
    let dim = x.raw_dim();
    (y, move |d_y| one_hot(dim, at, d_y))
}

// ---- min ----

/// The smallest element. `NaN` if any element is `NaN`.
///
/// ```text
/// y = minᵢ xᵢ        d_x = d_y at the first i with xᵢ = y, 0 elsewhere
/// ```
///
/// # Panics
/// When the array is empty.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::min(&array![[1.0_f64, 4.0], [3.0, 0.5]]), 0.5);
/// ```
#[track_caller]
pub fn min<A: Real, D: Dimension>(x: &Array<A, D>) -> A {
    whole_extremum("min", x, false).0
}

/// Vector-Jacobian product of [`min`]: the gradient goes to the first minimal element.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::min_vjp(&array![1.0_f64, 4.0, 1.0]);
/// assert_eq!(pullback(2.0), array![2.0, 0.0, 0.0]);
/// ```
#[track_caller]
pub fn min_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (A, impl FnOnce(A) -> Array<A, D> + use<A, D>) {
    let (y, at) = whole_extremum("min", x, false);
    let dim = x.raw_dim();
    (y, move |d_y| one_hot(dim, at, d_y))
}

// ---- sum_axis ----

/// `d_y` (shape without `axis`) broadcast back along `axis` to `dim`, times `scale`.
fn spread<A: Real, D: RemoveAxis>(
    op: &str,
    d_y: Array<A, D::Smaller>,
    axis: Axis,
    dim: D,
    scale: A,
) -> Array<A, D> {
    let out_dim = dim.remove_axis(axis);
    let g = seed(op, d_y, out_dim.slice());
    let mut d = Array::zeros(dim.clone());
    let g = g.insert_axis(axis);
    let g = g
        .broadcast(dim)
        .expect("the reduced shape broadcasts back along its axis");
    d.zip_mut_with(&g, |d, &g| *d = g * scale);
    d
}

/// The sum along `axis`, which is removed.
///
/// ```text
/// y[..] = Σₖ x[.., k, ..]     d_x[.., k, ..] = d_y[..] (for every k)
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
/// let x = array![[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// assert_eq!(ops::sum_axis(&x, 0), array![5.0, 7.0, 9.0]);
/// assert_eq!(ops::sum_axis(&x, 1), array![6.0, 15.0]);
/// ```
#[track_caller]
pub fn sum_axis<A: Real, D: RemoveAxis>(x: &Array<A, D>, axis: usize) -> Array<A, D::Smaller> {
    x.sum_axis(check_axis("sum_axis", axis, x.shape()))
}

/// Vector-Jacobian product of [`sum_axis`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::sum_axis_vjp(&array![[1.0_f64, 2.0], [3.0, 4.0]], 1);
/// assert_eq!(pullback(array![1.0, 2.0]), array![[1.0, 1.0], [2.0, 2.0]]);
/// ```
#[track_caller]
pub fn sum_axis_vjp<A: Real, D: RemoveAxis>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D::Smaller>,
    impl FnOnce(Array<A, D::Smaller>) -> Array<A, D> + use<A, D>,
) {
    let y = sum_axis(x, axis);
    let dim = x.raw_dim();
    (y, move |d_y| {
        spread("sum_axis", d_y, Axis(axis), dim, A::one())
    })
}

// ---- mean_axis ----

/// The mean along `axis`, which is removed (`NaN` where the axis is empty).
///
/// ```text
/// y[..] = (1/n) Σₖ x[.., k, ..]     d_x[.., k, ..] = d_y[..] / n     (n: the axis length)
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
/// assert_eq!(ops::mean_axis(&array![[1.0_f64, 2.0], [3.0, 6.0]], 0), array![2.0, 4.0]);
/// ```
#[track_caller]
pub fn mean_axis<A: Real, D: RemoveAxis>(x: &Array<A, D>, axis: usize) -> Array<A, D::Smaller> {
    let ax = check_axis("mean_axis", axis, x.shape());
    let n = A::from_f64(x.len_of(ax) as f64);
    let mut y = x.sum_axis(ax);
    y.mapv_inplace(|v| v / n);
    y
}

/// Vector-Jacobian product of [`mean_axis`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::mean_axis_vjp(&array![[1.0_f64, 2.0], [3.0, 6.0]], 0);
/// assert_eq!(pullback(array![2.0, 4.0]), array![[1.0, 2.0], [1.0, 2.0]]);
/// ```
#[track_caller]
pub fn mean_axis_vjp<A: Real, D: RemoveAxis>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D::Smaller>,
    impl FnOnce(Array<A, D::Smaller>) -> Array<A, D> + use<A, D>,
) {
    let y = mean_axis(x, axis);
    let dim = x.raw_dim();
    let scale = A::one() / A::from_f64(x.len_of(Axis(axis)) as f64);
    (y, move |d_y| {
        spread("mean_axis", d_y, Axis(axis), dim, scale)
    })
}

// ---- max_axis ----

/// The extremum of every lane along `axis`, and its position in the lane.
#[track_caller]
fn axis_extremum<A: Real, D: RemoveAxis>(
    op: &str,
    x: &Array<A, D>,
    axis: usize,
    greater: bool,
) -> (Array<A, D::Smaller>, Array<usize, D::Smaller>) {
    let ax = check_axis(op, axis, x.shape());
    assert!(
        x.len_of(ax) > 0,
        "`{op}`: axis {axis} is empty in an array of shape {:?}",
        x.shape()
    );
    let out_dim = x.raw_dim().remove_axis(ax);
    let mut y = Array::zeros(out_dim.clone());
    let mut at = Array::zeros(out_dim);
    Zip::from(x.lanes(ax))
        .and(&mut y)
        .and(&mut at)
        .for_each(|lane, y, at| {
            (*y, *at) = extremum(lane.iter(), greater).expect("the lane is not empty");
        });
    (y, at)
}

/// Scatters each element of `d_y` to position `at` of its lane along `axis`.
fn scatter_lanes<A: Real, D: RemoveAxis>(
    op: &str,
    d_y: Array<A, D::Smaller>,
    at: &Array<usize, D::Smaller>,
    axis: Axis,
    dim: D,
) -> Array<A, D> {
    let g = seed(op, d_y, at.shape());
    let mut d = Array::zeros(dim);
    Zip::from(d.lanes_mut(axis))
        .and(&g)
        .and(at)
        .for_each(|mut lane, &g, &i| lane[i] = g);
    d
}

/// The largest element along `axis`, which is removed. `NaN` where a lane holds a `NaN`.
///
/// ```text
/// y[..] = maxₖ x[.., k, ..]     d_x[.., k, ..] = d_y[..] at the first maximal k, 0 elsewhere
/// ```
///
/// # Panics
/// When `axis` is out of range or has length 0.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let x = array![[1.0_f64, 5.0, 3.0], [4.0, 2.0, 6.0]];
/// assert_eq!(ops::max_axis(&x, 1), array![5.0, 6.0]);
/// assert_eq!(ops::max_axis(&x, 0), array![4.0, 5.0, 6.0]);
/// ```
#[track_caller]
pub fn max_axis<A: Real, D: RemoveAxis>(x: &Array<A, D>, axis: usize) -> Array<A, D::Smaller> {
    axis_extremum("max_axis", x, axis, true).0
}

/// Vector-Jacobian product of [`max_axis`]: in each lane, the gradient goes to the first
/// maximal element.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::max_axis_vjp(&array![[1.0_f64, 5.0, 5.0], [4.0, 2.0, 6.0]], 1);
/// assert_eq!(pullback(array![1.0, 2.0]), array![[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]);
/// ```
#[track_caller]
pub fn max_axis_vjp<A: Real, D: RemoveAxis>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D::Smaller>,
    impl FnOnce(Array<A, D::Smaller>) -> Array<A, D> + use<A, D>,
) {
    let (y, at) = axis_extremum("max_axis", x, axis, true);
    let dim = x.raw_dim();
    (y, move |d_y| {
        scatter_lanes("max_axis", d_y, &at, Axis(axis), dim)
    })
}

// ---- min_axis ----

/// The smallest element along `axis`, which is removed. `NaN` where a lane holds a `NaN`.
///
/// ```text
/// y[..] = minₖ x[.., k, ..]     d_x[.., k, ..] = d_y[..] at the first minimal k, 0 elsewhere
/// ```
///
/// # Panics
/// When `axis` is out of range or has length 0.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::min_axis(&array![[1.0_f64, 5.0], [4.0, 2.0]], 1), array![1.0, 2.0]);
/// ```
#[track_caller]
pub fn min_axis<A: Real, D: RemoveAxis>(x: &Array<A, D>, axis: usize) -> Array<A, D::Smaller> {
    axis_extremum("min_axis", x, axis, false).0
}

/// Vector-Jacobian product of [`min_axis`]: in each lane, the gradient goes to the first
/// minimal element.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::min_axis_vjp(&array![[1.0_f64, 5.0], [4.0, 2.0]], 0);
/// assert_eq!(pullback(array![1.0, 2.0]), array![[1.0, 0.0], [0.0, 2.0]]);
/// ```
#[track_caller]
pub fn min_axis_vjp<A: Real, D: RemoveAxis>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D::Smaller>,
    impl FnOnce(Array<A, D::Smaller>) -> Array<A, D> + use<A, D>,
) {
    let (y, at) = axis_extremum("min_axis", x, axis, false);
    let dim = x.raw_dim();
    (y, move |d_y| {
        scatter_lanes("min_axis", d_y, &at, Axis(axis), dim)
    })
}
