//! Shape manipulation: `concat`, `stack`, `reshape`, `expand_dims`, `squeeze`, `flatten`.
//! The adjoint of each moves the gradient back to the input's shape; no arithmetic.

use ndarray::{Array, Array2, ArrayD, ArrayView, Axis, Dimension, IxDyn, RemoveAxis, Slice};

use super::{check_axis, into_standard, seed};
use crate::Real;

/// `v` as dimension type `D` (the number of axes is known to match).
fn as_dim<A, E: Dimension, D: Dimension>(v: ArrayView<'_, A, E>) -> ArrayView<'_, A, D> {
    v.into_dimensionality::<D>().expect("same number of axes")
}

// ---- concat ----

/// Joins arrays along an existing axis; all other axes must agree.
///
/// ```text
/// y = [x₀ | x₁ | …]  along axis      d_xᵢ = the slice of d_y that xᵢ occupies
/// ```
///
/// # Panics
/// When `xs` is empty, `axis` is out of range, or the shapes differ off `axis`.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let y = ops::concat(&[&array![[1.0_f64, 2.0]], &array![[3.0, 4.0], [5.0, 6.0]]], 0);
/// assert_eq!(y, array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
/// ```
#[track_caller]
pub fn concat<A: Real, D: RemoveAxis>(xs: &[&Array<A, D>], axis: usize) -> Array<A, D> {
    assert!(!xs.is_empty(), "`concat`: no arrays to concatenate");
    let ax = check_axis("concat", axis, xs[0].shape());
    let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
    match ndarray::concatenate(ax, &views) {
        Ok(y) => into_standard(y),
        Err(_) => {
            let shapes: Vec<_> = xs.iter().map(|x| x.shape()).collect();
            panic!("`concat`: arrays of shapes {shapes:?} cannot be joined along axis {axis}")
        }
    }
}

/// Vector-Jacobian product of [`concat()`]: one tangent per input array.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::concat_vjp(&[&array![1.0_f64], &array![2.0, 3.0]], 0);
/// assert_eq!(pullback(array![4.0, 5.0, 6.0]), vec![array![4.0], array![5.0, 6.0]]);
/// ```
#[track_caller]
pub fn concat_vjp<A: Real, D: RemoveAxis>(
    xs: &[&Array<A, D>],
    axis: usize,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Vec<Array<A, D>> + use<A, D>,
) {
    let y = concat(xs, axis);
    let lens: Vec<usize> = xs.iter().map(|x| x.len_of(Axis(axis))).collect();
    let out = y.raw_dim();
    (y, move |d_y| {
        let g = seed("concat", d_y, out.slice());
        let mut start = 0;
        lens.iter()
            .map(|&n| {
                let part = g.slice_axis(Axis(axis), Slice::from(start..start + n));
                start += n;
                into_standard(part.to_owned())
            })
            .collect()
    })
}

// ---- stack ----

/// Joins arrays of one shape along a new axis.
///
/// ```text
/// y[.., i, ..] = xᵢ   (i along the new axis)      d_xᵢ = d_y[.., i, ..]
/// ```
///
/// # Panics
/// When `xs` is empty, `axis` is greater than the arrays' number of axes, or the shapes
/// differ.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let y = ops::stack(&[&array![1.0_f64, 2.0], &array![3.0, 4.0]], 1);
/// assert_eq!(y, array![[1.0, 3.0], [2.0, 4.0]]);
/// ```
#[track_caller]
pub fn stack<A: Real, D: Dimension>(xs: &[&Array<A, D>], axis: usize) -> Array<A, D::Larger> {
    assert!(!xs.is_empty(), "`stack`: no arrays to stack");
    let ndim = xs[0].ndim();
    assert!(
        axis <= ndim,
        "`stack`: axis {axis} is out of range for arrays of shape {:?}",
        xs[0].shape()
    );
    let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
    match ndarray::stack(Axis(axis), &views) {
        Ok(y) => into_standard(y),
        Err(_) => {
            let shapes: Vec<_> = xs.iter().map(|x| x.shape()).collect();
            panic!("`stack`: arrays of shapes {shapes:?} cannot be stacked (they differ)")
        }
    }
}

/// Vector-Jacobian product of [`stack`]: one tangent per input array.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::stack_vjp(&[&array![1.0_f64, 2.0], &array![3.0, 4.0]], 0);
/// assert_eq!(pullback(array![[5.0, 6.0], [7.0, 8.0]]), vec![array![5.0, 6.0], array![7.0, 8.0]]);
/// ```
#[track_caller]
pub fn stack_vjp<A: Real, D: Dimension>(
    xs: &[&Array<A, D>],
    axis: usize,
) -> (
    Array<A, D::Larger>,
    impl FnOnce(Array<A, D::Larger>) -> Vec<Array<A, D>> + use<A, D>,
) {
    let y = stack(xs, axis);
    let out = y.raw_dim();
    (y, move |d_y| {
        let g = seed("stack", d_y, out.slice());
        g.axis_iter(Axis(axis))
            .map(|part| into_standard(as_dim::<A, _, D>(part).to_owned()))
            .collect()
    })
}

// ---- reshape ----

/// The elements in row-major order, with a new shape of the same number of elements.
///
/// ```text
/// y = x reshaped (row-major)        d_x = d_y reshaped back
/// ```
///
/// # Panics
/// When `shape` holds a different number of elements.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let y = ops::reshape(&array![[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]], &[3, 2]);
/// assert_eq!(y, array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]].into_dyn());
/// ```
#[track_caller]
pub fn reshape<A: Real, D: Dimension>(x: &Array<A, D>, shape: &[usize]) -> ArrayD<A> {
    match x.to_shape(IxDyn(shape)) {
        Ok(y) => into_standard(y.into_owned()),
        Err(_) => panic!(
            "`reshape`: an array of shape {:?} ({} elements) cannot be reshaped to {shape:?}",
            x.shape(),
            x.len()
        ),
    }
}

/// Vector-Jacobian product of [`reshape`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::reshape_vjp(&array![1.0_f64, 2.0], &[1, 2]);
/// assert_eq!(pullback(array![[3.0, 4.0]].into_dyn()), array![3.0, 4.0]);
/// ```
#[track_caller]
pub fn reshape_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    shape: &[usize],
) -> (ArrayD<A>, impl FnOnce(ArrayD<A>) -> Array<A, D> + use<A, D>) {
    let y = reshape(x, shape);
    let (dim, out) = (x.raw_dim(), y.raw_dim());
    (y, move |d_y| {
        let g = seed("reshape", d_y, out.slice());
        into_standard(
            g.into_shape_with_order(dim)
                .expect("the same number of elements"),
        )
    })
}

// ---- expand_dims ----

/// Inserts an axis of length 1 at position `axis` (`0 ..= ndim`).
///
/// ```text
/// y = x with a new axis of length 1      d_x = d_y without it
/// ```
///
/// # Panics
/// When `axis` is greater than the number of axes.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::expand_dims(&array![1.0_f64, 2.0], 1), array![[1.0], [2.0]]);
/// ```
#[track_caller]
pub fn expand_dims<A: Real, D: Dimension>(x: &Array<A, D>, axis: usize) -> Array<A, D::Larger> {
    assert!(
        axis <= x.ndim(),
        "`expand_dims`: axis {axis} is out of range for an array of shape {:?}",
        x.shape()
    );
    into_standard(x.view().insert_axis(Axis(axis)).to_owned())
}

/// Vector-Jacobian product of [`expand_dims`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::expand_dims_vjp(&array![1.0_f64, 2.0], 0);
/// assert_eq!(pullback(array![[3.0, 4.0]]), array![3.0, 4.0]);
/// ```
#[track_caller]
pub fn expand_dims_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D::Larger>,
    impl FnOnce(Array<A, D::Larger>) -> Array<A, D> + use<A, D>,
) {
    let y = expand_dims(x, axis);
    let (dim, out) = (x.raw_dim(), y.raw_dim());
    (y, move |d_y| {
        let g = seed("expand_dims", d_y, out.slice());
        g.into_shape_with_order(dim)
            .expect("the same elements without the axis of length 1")
    })
}

// ---- squeeze ----

/// Removes the axis `axis`, which must have length 1.
///
/// ```text
/// y = x without the axis                 d_x = d_y with the axis put back
/// ```
///
/// # Panics
/// When `axis` is out of range or its length is not 1.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::squeeze(&array![[1.0_f64], [2.0]], 1), array![1.0, 2.0]);
/// ```
#[track_caller]
pub fn squeeze<A: Real, D: RemoveAxis>(x: &Array<A, D>, axis: usize) -> Array<A, D::Smaller> {
    let ax = check_axis("squeeze", axis, x.shape());
    assert!(
        x.len_of(ax) == 1,
        "`squeeze`: axis {axis} of an array of shape {:?} has length {}, not 1",
        x.shape(),
        x.len_of(ax)
    );
    into_standard(x.index_axis(ax, 0).to_owned())
}

/// Vector-Jacobian product of [`squeeze`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::squeeze_vjp(&array![[1.0_f64, 2.0]], 0);
/// assert_eq!(pullback(array![3.0, 4.0]), array![[3.0, 4.0]]);
/// ```
#[track_caller]
pub fn squeeze_vjp<A: Real, D: RemoveAxis>(
    x: &Array<A, D>,
    axis: usize,
) -> (
    Array<A, D::Smaller>,
    impl FnOnce(Array<A, D::Smaller>) -> Array<A, D> + use<A, D>,
) {
    let y = squeeze(x, axis);
    let (dim, out) = (x.raw_dim(), y.raw_dim());
    (y, move |d_y| {
        let g = seed("squeeze", d_y, out.slice());
        g.into_shape_with_order(dim)
            .expect("the same elements with the axis of length 1")
    })
}

// ---- flatten ----

/// Keeps axis 0 (the batch) and flattens the others, in row-major order: shape
/// `(n₀, n₁ · n₂ · …)`. A 1-D array of length `n` becomes `(n, 1)`.
///
/// ```text
/// y = x reshaped to (n₀, rest)           d_x = d_y reshaped back
/// ```
///
/// # Panics
/// When `x` has no axis (0-D).
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::Array3;
///
/// let x = Array3::<f64>::zeros((2, 3, 4));
/// assert_eq!(ops::flatten(&x).dim(), (2, 12));
/// ```
#[track_caller]
pub fn flatten<A: Real, D: Dimension>(x: &Array<A, D>) -> Array2<A> {
    assert!(
        x.ndim() > 0,
        "`flatten`: a 0-dimensional array has no batch axis"
    );
    let n = x.shape()[0];
    let rest = x.shape()[1..].iter().product::<usize>();
    let y = x.to_shape((n, rest)).expect("the same number of elements");
    into_standard(y.into_owned())
}

/// Vector-Jacobian product of [`flatten`].
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::flatten_vjp(&array![[[1.0_f64, 2.0]], [[3.0, 4.0]]]);
/// assert_eq!(pullback(array![[5.0, 6.0], [7.0, 8.0]]), array![[[5.0, 6.0]], [[7.0, 8.0]]]);
/// ```
#[track_caller]
pub fn flatten_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (Array2<A>, impl FnOnce(Array2<A>) -> Array<A, D> + use<A, D>) {
    let y = flatten(x);
    let (dim, out) = (x.raw_dim(), y.raw_dim());
    (y, move |d_y| {
        let g = seed("flatten", d_y, out.slice());
        g.into_shape_with_order(dim)
            .expect("the same number of elements")
    })
}
