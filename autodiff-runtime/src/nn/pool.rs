//! Pooling over the spatial axes of N x C x H x W images, without padding.

use ndarray::{Array2, Array4, Axis};

use super::{check_seed, standard};
use crate::Real;

/// The sizes of one pooling, checked: `(n, c, h, w, ho, wo)`.
#[track_caller]
fn pool_geometry(func: &str, shape: &[usize], kernel: usize, stride: usize) -> [usize; 6] {
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    assert!(stride > 0, "nn::{func}: stride must be positive, got 0");
    assert!(
        kernel >= 1 && kernel <= h && kernel <= w,
        "nn::{func}: kernel {kernel}x{kernel} does not fit the input {h}x{w} (x of shape {shape:?})"
    );
    [
        n,
        c,
        h,
        w,
        (h - kernel) / stride + 1,
        (w - kernel) / stride + 1,
    ]
}

/// `f(window_start, out)` for each output of each plane: `window_start` is the flat index in
/// `x`'s standard-layout buffer of the window's top-left element, `out` the output's flat
/// index.
fn for_each_window(geo: [usize; 6], stride: usize, mut f: impl FnMut(usize, usize)) {
    let [n, c, h, w, ho, wo] = geo;
    for plane in 0..n * c {
        for i in 0..ho {
            for j in 0..wo {
                f(
                    plane * h * w + i * stride * w + j * stride,
                    (plane * ho + i) * wo + j,
                );
            }
        }
    }
}

/// The max of each window and the flat index where it is (the first one on ties; a NaN wins).
fn max_pool_forward<A: Real>(
    x: &Array4<A>,
    geo: [usize; 6],
    kernel: usize,
    stride: usize,
) -> (Array4<A>, Vec<usize>) {
    let [n, c, _, w, ho, wo] = geo;
    let xs = x.as_standard_layout();
    let xs = xs.as_slice().expect("standard layout");
    let mut y = Vec::with_capacity(n * c * ho * wo);
    let mut argmax = Vec::with_capacity(n * c * ho * wo);
    for_each_window(geo, stride, |start, _| {
        let mut best = start;
        for p in 0..kernel {
            for q in 0..kernel {
                let k = start + p * w + q;
                if xs[k] > xs[best] || (xs[k].is_nan() && !xs[best].is_nan()) {
                    best = k;
                }
            }
        }
        y.push(xs[best]);
        argmax.push(best);
    });
    (
        Array4::from_shape_vec((n, c, ho, wo), y).expect("sizes agree"),
        argmax,
    )
}

// ---- max_pool2d ----

/// Max pooling with a square `kernel` and `stride`, no padding.
///
/// The output is N x C x HO x WO with `HO = (H - kernel) / stride + 1` (likewise `WO`).
///
/// ```text
/// y[n, c, i, j] = max_{0 ≤ p, q < kernel} x[n, c, i·stride + p, j·stride + q]
/// d_x[argmax]  += d_y[n, c, i, j]         (ties: the first maximum in row-major order)
/// ```
///
/// # Panics
/// When `stride` is 0 or the kernel is 0 or larger than the input.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array;
///
/// let x = Array::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect()).unwrap();
/// let y = nn::max_pool2d(&x, 2, 1);
/// assert_eq!(y.into_raw_vec_and_offset().0, vec![5.0, 6.0, 8.0, 9.0]);
/// ```
#[track_caller]
pub fn max_pool2d<A: Real>(x: &Array4<A>, kernel: usize, stride: usize) -> Array4<A> {
    let geo = pool_geometry("max_pool2d", x.shape(), kernel, stride);
    max_pool_forward(x, geo, kernel, stride).0
}

/// Vector-Jacobian product of [`max_pool2d`]: its value and the pullback `d_y ↦ d_x`.
///
/// The pullback keeps the position of each window's maximum, not the input.
///
/// # Panics
/// As [`max_pool2d`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{Array, Array4};
///
/// let x = Array::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect()).unwrap();
/// let (_, pullback) = nn::max_pool2d_vjp(&x, 2, 1);
/// let dx = pullback(Array4::ones((1, 1, 2, 2)));
/// assert_eq!(dx.into_raw_vec_and_offset().0, vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
/// ```
#[track_caller]
pub fn max_pool2d_vjp<A: Real>(
    x: &Array4<A>,
    kernel: usize,
    stride: usize,
) -> (Array4<A>, impl FnOnce(Array4<A>) -> Array4<A> + use<A>) {
    let geo = pool_geometry("max_pool2d", x.shape(), kernel, stride);
    let (y, argmax) = max_pool_forward(x, geo, kernel, stride);
    let (x_dim, y_shape) = (x.raw_dim(), y.shape().to_vec());
    let pullback = move |d_y: Array4<A>| {
        check_seed("max_pool2d", d_y.shape(), &y_shape);
        let d_y = standard(d_y);
        let mut d_x = Array4::zeros(x_dim);
        let d_xs = d_x.as_slice_mut().expect("standard layout");
        // d_x[argmax] += d_y
        for (&k, &d) in argmax.iter().zip(d_y.as_slice().expect("standard layout")) {
            d_xs[k] += d;
        }
        d_x
    };
    (y, pullback)
}

// ---- avg_pool2d ----

/// Average pooling with a square `kernel` and `stride`, no padding.
///
/// ```text
/// y[n, c, i, j] = 1/kernel² · Σ_{0 ≤ p, q < kernel} x[n, c, i·stride + p, j·stride + q]
/// d_x[n, c, i·stride + p, j·stride + q] += d_y[n, c, i, j] / kernel²
/// ```
///
/// # Panics
/// When `stride` is 0 or the kernel is 0 or larger than the input.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array;
///
/// let x = Array::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect()).unwrap();
/// let y = nn::avg_pool2d(&x, 2, 1);
/// assert_eq!(y.into_raw_vec_and_offset().0, vec![3.0, 4.0, 6.0, 7.0]);
/// ```
#[track_caller]
pub fn avg_pool2d<A: Real>(x: &Array4<A>, kernel: usize, stride: usize) -> Array4<A> {
    let geo = pool_geometry("avg_pool2d", x.shape(), kernel, stride);
    let [n, c, _, w, ho, wo] = geo;
    let xs = x.as_standard_layout();
    let xs = xs.as_slice().expect("standard layout");
    let scale = A::one() / A::from_f64((kernel * kernel) as f64);
    let mut y = vec![A::zero(); n * c * ho * wo];
    for_each_window(geo, stride, |start, out| {
        let mut acc = A::zero();
        for p in 0..kernel {
            acc += xs[start + p * w..][..kernel].iter().copied().sum::<A>();
        }
        y[out] = acc * scale;
    });
    Array4::from_shape_vec((n, c, ho, wo), y).expect("sizes agree")
}

/// Vector-Jacobian product of [`avg_pool2d`]: its value and the pullback `d_y ↦ d_x`.
///
/// # Panics
/// As [`avg_pool2d`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array4;
///
/// let x = Array4::<f64>::zeros((1, 1, 3, 3));
/// let (_, pullback) = nn::avg_pool2d_vjp(&x, 2, 1);
/// let dx = pullback(Array4::ones((1, 1, 2, 2)));
/// assert_eq!(dx[[0, 0, 1, 1]], 1.0);
/// assert_eq!(dx[[0, 0, 0, 0]], 0.25);
/// ```
#[track_caller]
pub fn avg_pool2d_vjp<A: Real>(
    x: &Array4<A>,
    kernel: usize,
    stride: usize,
) -> (Array4<A>, impl FnOnce(Array4<A>) -> Array4<A> + use<A>) {
    let y = avg_pool2d(x, kernel, stride);
    let geo = pool_geometry("avg_pool2d", x.shape(), kernel, stride);
    let (x_dim, y_shape) = (x.raw_dim(), y.shape().to_vec());
    let pullback = move |d_y: Array4<A>| {
        check_seed("avg_pool2d", d_y.shape(), &y_shape);
        let d_y = standard(d_y);
        let d_ys = d_y.as_slice().expect("standard layout");
        let w = geo[3];
        let scale = A::one() / A::from_f64((kernel * kernel) as f64);
        let mut d_x = Array4::zeros(x_dim);
        let d_xs = d_x.as_slice_mut().expect("standard layout");
        // d_x[window] += d_y / kernel²
        for_each_window(geo, stride, |start, out| {
            let d = d_ys[out] * scale;
            for p in 0..kernel {
                d_xs[start + p * w..][..kernel]
                    .iter_mut()
                    .for_each(|v| *v += d);
            }
        });
        d_x
    };
    (y, pullback)
}

// ---- global_avg_pool2d ----

/// Global average pooling: the mean of each channel over the spatial axes, N x C x H x W to
/// N x C.
///
/// ```text
/// y[n, c]          = 1/(H·W) · Σ_{i, j} x[n, c, i, j]
/// d_x[n, c, i, j]  = d_y[n, c] / (H·W)
/// ```
///
/// # Panics
/// When `H·W` is 0.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{array, Array};
///
/// let x = Array::from_shape_vec((1, 2, 1, 2), vec![1.0_f64, 3.0, -1.0, 0.0]).unwrap();
/// assert_eq!(nn::global_avg_pool2d(&x), array![[2.0, -0.5]]);
/// ```
#[track_caller]
pub fn global_avg_pool2d<A: Real>(x: &Array4<A>) -> Array2<A> {
    let area = x.shape()[2] * x.shape()[3];
    assert!(
        area > 0,
        "nn::global_avg_pool2d: x of shape {:?} has no pixels",
        x.shape()
    );
    x.sum_axis(Axis(3)).sum_axis(Axis(2)) / A::from_f64(area as f64)
}

/// Vector-Jacobian product of [`global_avg_pool2d`]: its value and the pullback
/// `d_y ↦ d_x`.
///
/// # Panics
/// As [`global_avg_pool2d`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{array, Array4};
///
/// let (_, pullback) = nn::global_avg_pool2d_vjp(&Array4::<f64>::zeros((1, 2, 1, 2)));
/// let dx = pullback(array![[2.0, 4.0]]);
/// assert_eq!(dx.into_raw_vec_and_offset().0, vec![1.0, 1.0, 2.0, 2.0]);
/// ```
#[track_caller]
pub fn global_avg_pool2d_vjp<A: Real>(
    x: &Array4<A>,
) -> (Array2<A>, impl FnOnce(Array2<A>) -> Array4<A> + use<A>) {
    let y = global_avg_pool2d(x);
    let x_dim = x.raw_dim();
    let pullback = move |d_y: Array2<A>| {
        check_seed("global_avg_pool2d", d_y.shape(), &[x_dim[0], x_dim[1]]);
        let scale = A::one() / A::from_f64((x_dim[2] * x_dim[3]) as f64);
        // d_x[n, c, i, j] = d_y[n, c] / (H·W)
        let d = (standard(d_y) * scale)
            .into_shape_with_order((x_dim[0], x_dim[1], 1, 1))
            .expect("contiguous");
        d.broadcast(x_dim).expect("broadcast over H, W").to_owned()
    };
    (y, pullback)
}
