//! Activation functions, elementwise over arrays of any dimension.
//!
//! Each pullback reuses the seed's buffer for the input's tangent and keeps only what the
//! derivative needs: the output when the derivative is cheaper in terms of it (`relu`,
//! `sigmoid`, `tanh`), the input otherwise.

use ndarray::{Array, Array1, Dimension, Zip};

use super::{check_seed, standard};
use crate::Real;

/// `d_y ← g(d_y, k)` elementwise and in place, `k` being the kept value: the body of every
/// elementwise pullback.
fn pull<A: Real, D: Dimension>(
    func: &str,
    mut d_y: Array<A, D>,
    kept: &Array<A, D>,
    g: impl Fn(A, A) -> A,
) -> Array<A, D> {
    check_seed(func, d_y.shape(), kept.shape());
    Zip::from(&mut d_y)
        .and(kept)
        .for_each(|d, &k| *d = g(*d, k));
    d_y
}

/// `σ(x) = 1 / (1 + e^-x)`, without overflow for either sign.
pub(crate) fn sigmoid_scalar<A: Real>(x: A) -> A {
    if x >= A::zero() {
        A::one() / (A::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (A::one() + e)
    }
}

/// `ln(1 + e^x)`, without overflow for either sign.
pub(crate) fn softplus_scalar<A: Real>(x: A) -> A {
    x.max(A::zero()) + (-x.abs()).exp().ln_1p()
}

/// `Φ(x)`, the standard normal CDF, through `erfc` so that it keeps full relative accuracy
/// in the left tail.
fn normal_cdf<A: Real>(x: A) -> A {
    A::from_f64(0.5 * libm::erfc(-x.to_f64() * std::f64::consts::FRAC_1_SQRT_2))
}

/// `φ(x)`, the standard normal density.
fn normal_pdf<A: Real>(x: A) -> A {
    let inv_sqrt_2pi =
        A::from_f64(0.5 * std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2);
    inv_sqrt_2pi * (-(x * x) * A::from_f64(0.5)).exp()
}

// ---- relu ----

/// Rectified linear unit, elementwise.
///
/// ```text
/// y   = max(x, 0)
/// d_x = d_y · [x > 0]        relu'(0) = 0
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::relu(&array![-1.0_f64, 0.0, 2.0]), array![0.0, 0.0, 2.0]);
/// ```
pub fn relu<A: Real, D: Dimension>(x: &Array<A, D>) -> Array<A, D> {
    // `<=` rather than `>` so that a NaN propagates
    x.mapv(|v| if v <= A::zero() { A::zero() } else { v })
}

/// Vector-Jacobian product of [`relu`]: its value and the pullback `d_y ↦ d_x`.
///
/// The pullback keeps a copy of the output; the derivative at 0 is 0.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (y, pullback) = nn::relu_vjp(&array![-1.0_f64, 0.0, 2.0]);
/// assert_eq!(y, array![0.0, 0.0, 2.0]);
/// assert_eq!(pullback(array![5.0, 5.0, 5.0]), array![0.0, 0.0, 5.0]);
/// ```
#[allow(clippy::type_complexity)]
pub fn relu_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let y = relu(x);
    let kept = y.clone();
    // d_x = d_y · [y > 0]
    let pullback = move |d_y| {
        pull("relu", d_y, &kept, |d, y| {
            if y > A::zero() { d } else { A::zero() }
        })
    };
    (y, pullback)
}

// ---- sigmoid ----

/// Logistic sigmoid, elementwise; no overflow for large `|x|`.
///
/// ```text
/// y   = 1 / (1 + e^-x)
/// d_x = d_y · y (1 - y)
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let y = nn::sigmoid(&array![0.0_f64, 1e4, -1e4]);
/// assert_eq!(y, array![0.5, 1.0, 0.0]);
/// ```
pub fn sigmoid<A: Real, D: Dimension>(x: &Array<A, D>) -> Array<A, D> {
    x.mapv(sigmoid_scalar)
}

/// Vector-Jacobian product of [`sigmoid`]: its value and the pullback `d_y ↦ d_x`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::sigmoid_vjp(&array![0.0_f64]);
/// assert_eq!(pullback(array![1.0]), array![0.25]);
/// ```
#[allow(clippy::type_complexity)]
pub fn sigmoid_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let y = sigmoid(x);
    let kept = y.clone();
    // d_x = d_y · y (1 - y)
    let pullback = move |d_y| pull("sigmoid", d_y, &kept, |d, y| d * y * (A::one() - y));
    (y, pullback)
}

// ---- gelu ----

/// Gaussian error linear unit in its exact form (PyTorch's default), elementwise.
///
/// ```text
/// y   = x Φ(x) = x/2 · (1 + erf(x / √2))
/// d_x = d_y · (Φ(x) + x φ(x)),      φ(x) = e^(-x²/2) / √(2π)
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let y = nn::gelu(&array![0.0_f64, 1.0]);
/// assert_eq!(y[0], 0.0);
/// assert!((y[1] - 0.841_344_746_068_542_9).abs() < 1e-15);
/// ```
pub fn gelu<A: Real, D: Dimension>(x: &Array<A, D>) -> Array<A, D> {
    x.mapv(|v| v * normal_cdf(v))
}

/// Vector-Jacobian product of [`gelu`]: its value and the pullback `d_y ↦ d_x`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::gelu_vjp(&array![0.0_f64]);
/// assert_eq!(pullback(array![1.0]), array![0.5]);
/// ```
#[allow(clippy::type_complexity)]
pub fn gelu_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let kept = x.clone();
    // d_x = d_y · (Φ(x) + x φ(x))
    let pullback = move |d_y| {
        pull("gelu", d_y, &kept, |d, x| {
            d * (normal_cdf(x) + x * normal_pdf(x))
        })
    };
    (gelu(x), pullback)
}

// ---- swish ----

/// Swish (SiLU), elementwise.
///
/// ```text
/// y   = x σ(x)
/// d_x = d_y · σ(x) (1 + x (1 - σ(x)))
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::swish(&array![0.0_f64, 1e4, -1e4]), array![0.0, 1e4, -0.0]);
/// ```
pub fn swish<A: Real, D: Dimension>(x: &Array<A, D>) -> Array<A, D> {
    x.mapv(|v| v * sigmoid_scalar(v))
}

/// Vector-Jacobian product of [`swish`]: its value and the pullback `d_y ↦ d_x`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::swish_vjp(&array![0.0_f64]);
/// assert_eq!(pullback(array![1.0]), array![0.5]);
/// ```
#[allow(clippy::type_complexity)]
pub fn swish_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let kept = x.clone();
    // d_x = d_y · σ (1 + x (1 - σ))
    let pullback = move |d_y| {
        pull("swish", d_y, &kept, |d, x| {
            let s = sigmoid_scalar(x);
            d * s * (A::one() + x * (A::one() - s))
        })
    };
    (swish(x), pullback)
}

// ---- mish ----

/// Mish, elementwise.
///
/// ```text
/// y   = x tanh(softplus(x))
/// d_x = d_y · (t + x (1 - t²) σ(x)),      t = tanh(softplus(x))
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let y = nn::mish(&array![0.0_f64, 1.0]);
/// assert_eq!(y[0], 0.0);
/// assert!((y[1] - (1.0 + 1.0_f64.exp()).ln().tanh()).abs() < 1e-15);
/// ```
pub fn mish<A: Real, D: Dimension>(x: &Array<A, D>) -> Array<A, D> {
    x.mapv(|v| v * softplus_scalar(v).tanh())
}

/// Vector-Jacobian product of [`mish`]: its value and the pullback `d_y ↦ d_x`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::mish_vjp(&array![0.0_f64]);
/// // mish'(0) = tanh(ln 2) = 0.6
/// assert!((pullback(array![1.0])[0] - 0.6).abs() < 1e-15);
/// ```
#[allow(clippy::type_complexity)]
pub fn mish_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let kept = x.clone();
    // d_x = d_y · (t + x (1 - t²) σ(x))
    let pullback = move |d_y| {
        pull("mish", d_y, &kept, |d, x| {
            let t = softplus_scalar(x).tanh();
            d * (t + x * (A::one() - t * t) * sigmoid_scalar(x))
        })
    };
    (mish(x), pullback)
}

// ---- softplus ----

/// Softplus, elementwise; no overflow for large `|x|`.
///
/// ```text
/// y   = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)
/// d_x = d_y · σ(x)
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let y = nn::softplus(&array![0.0_f64, 1e4, -1e4]);
/// assert_eq!(y, array![2.0_f64.ln(), 1e4, 0.0]);
/// ```
pub fn softplus<A: Real, D: Dimension>(x: &Array<A, D>) -> Array<A, D> {
    x.mapv(softplus_scalar)
}

/// Vector-Jacobian product of [`softplus`]: its value and the pullback `d_y ↦ d_x`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::softplus_vjp(&array![0.0_f64]);
/// assert_eq!(pullback(array![1.0]), array![0.5]);
/// ```
#[allow(clippy::type_complexity)]
pub fn softplus_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let kept = x.clone();
    // d_x = d_y · σ(x)
    let pullback = move |d_y| pull("softplus", d_y, &kept, |d, x| d * sigmoid_scalar(x));
    (softplus(x), pullback)
}

// ---- leaky_relu ----

/// Leaky rectified linear unit, elementwise. `slope` is not differentiated.
///
/// ```text
/// y   = x            if x > 0
///       slope · x    otherwise
/// d_x = d_y · (x > 0 ? 1 : slope)        leaky_relu'(0) = slope
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::leaky_relu(&array![-2.0_f64, 3.0], 0.1), array![-0.2, 3.0]);
/// ```
pub fn leaky_relu<A: Real, D: Dimension>(x: &Array<A, D>, slope: A) -> Array<A, D> {
    x.mapv(|v| if v > A::zero() { v } else { slope * v })
}

/// Vector-Jacobian product of [`leaky_relu`]: its value and the pullback `d_y ↦ d_x`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::leaky_relu_vjp(&array![-2.0_f64, 3.0], 0.1);
/// assert_eq!(pullback(array![1.0, 1.0]), array![0.1, 1.0]);
/// ```
#[allow(clippy::type_complexity)]
pub fn leaky_relu_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    slope: A,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let kept = x.clone();
    // d_x = d_y · (x > 0 ? 1 : slope)
    let pullback = move |d_y| {
        pull("leaky_relu", d_y, &kept, |d, x| {
            if x > A::zero() { d } else { d * slope }
        })
    };
    (leaky_relu(x, slope), pullback)
}

// ---- elu ----

/// Exponential linear unit, elementwise. `alpha` is not differentiated.
///
/// ```text
/// y   = x                 if x > 0
///       alpha (e^x - 1)   otherwise
/// d_x = d_y · (x > 0 ? 1 : alpha e^x)        elu'(0) = alpha
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let y = nn::elu(&array![0.0_f64, 2.0, -1e4], 1.5);
/// assert_eq!(y, array![0.0, 2.0, -1.5]);
/// ```
pub fn elu<A: Real, D: Dimension>(x: &Array<A, D>, alpha: A) -> Array<A, D> {
    x.mapv(|v| if v > A::zero() { v } else { alpha * v.exp_m1() })
}

/// Vector-Jacobian product of [`elu`]: its value and the pullback `d_y ↦ d_x`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::elu_vjp(&array![0.0_f64, 2.0], 1.5);
/// assert_eq!(pullback(array![1.0, 1.0]), array![1.5, 1.0]);
/// ```
#[allow(clippy::type_complexity)]
pub fn elu_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    alpha: A,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let kept = x.clone();
    // d_x = d_y · (x > 0 ? 1 : alpha e^x)
    let pullback = move |d_y| {
        pull("elu", d_y, &kept, |d, x| {
            if x > A::zero() {
                d
            } else {
                d * alpha * x.exp()
            }
        })
    };
    (elu(x, alpha), pullback)
}

// ---- prelu ----

/// Checks `alpha` against `x` of shape `shape` and returns `(channels, inner)`: the elements
/// of the standard-layout buffer of `x` come in runs of `inner` that share a channel, run `k`
/// belonging to channel `k % channels`. A single alpha is one channel holding everything.
#[track_caller]
fn prelu_runs(shape: &[usize], alpha_len: usize) -> (usize, usize) {
    if alpha_len == 1 {
        return (1, shape.iter().product());
    }
    assert!(
        shape.len() >= 2 && shape[1] == alpha_len,
        "nn::prelu: alpha has {alpha_len} elements but x of shape {shape:?} has {} channels on axis 1 \
         (alpha needs one element per channel, or a single element shared by all)",
        if shape.len() >= 2 {
            shape[1].to_string()
        } else {
            "no".to_string()
        }
    );
    (alpha_len, shape[2..].iter().product())
}

/// Parametric ReLU: a leaky ReLU whose slope is learned, one per axis-1 channel.
///
/// `alpha` has one element per channel (`x.shape()[1]`), or a single element shared by all
/// channels (the only choice for a 1-D `x`).
///
/// ```text
/// y[n, c, ...]   = x                 if x > 0
///                  alpha[c] · x      otherwise
/// d_x            = d_y · (x > 0 ? 1 : alpha[c])        prelu'(0) = alpha[c]
/// d_alpha[c]     = Σ_{n, ...; x ≤ 0} d_y · x
/// ```
///
/// # Panics
/// When `alpha` has neither one element nor one per channel.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[-1.0_f64, -1.0], [2.0, -3.0]];
/// assert_eq!(nn::prelu(&x, &array![0.1, 0.5]), array![[-0.1, -0.5], [2.0, -1.5]]);
/// ```
#[track_caller]
pub fn prelu<A: Real, D: Dimension>(x: &Array<A, D>, alpha: &Array1<A>) -> Array<A, D> {
    let (channels, inner) = prelu_runs(x.shape(), alpha.len());
    let mut y = standard(x.clone());
    if inner > 0 {
        let ys = y.as_slice_mut().expect("standard layout");
        for (k, run) in ys.chunks_exact_mut(inner).enumerate() {
            let a = alpha[k % channels];
            run.iter_mut()
                .filter(|v| **v <= A::zero())
                .for_each(|v| *v *= a);
        }
    }
    y
}

/// Vector-Jacobian product of [`prelu`]: its value and the pullback
/// `d_y ↦ (d_x, d_alpha)`.
///
/// # Panics
/// As [`prelu`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[-1.0_f64, -1.0], [2.0, -3.0]];
/// let (_, pullback) = nn::prelu_vjp(&x, &array![0.1, 0.5]);
/// let (dx, dalpha) = pullback(array![[1.0, 1.0], [1.0, 1.0]]);
/// assert_eq!(dx, array![[0.1, 0.5], [1.0, 0.5]]);
/// assert_eq!(dalpha, array![-1.0, -4.0]);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn prelu_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    alpha: &Array1<A>,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> (Array<A, D>, Array1<A>) + use<A, D>,
) {
    let y = prelu(x, alpha);
    let (channels, inner) = prelu_runs(x.shape(), alpha.len());
    let kept_x = standard(x.clone());
    let kept_alpha = alpha.clone();
    let pullback = move |d_y: Array<A, D>| {
        check_seed("prelu", d_y.shape(), kept_x.shape());
        let mut d_x = standard(d_y);
        let mut d_alpha = Array1::zeros(kept_alpha.len());
        if inner > 0 {
            let xs = kept_x.as_slice().expect("standard layout");
            let ds = d_x.as_slice_mut().expect("standard layout");
            for (k, (d_run, x_run)) in ds
                .chunks_exact_mut(inner)
                .zip(xs.chunks_exact(inner))
                .enumerate()
            {
                let c = k % channels;
                let a = kept_alpha[c];
                let mut acc = A::zero();
                for (d, &xv) in d_run
                    .iter_mut()
                    .zip(x_run)
                    .filter(|(_, xv)| **xv <= A::zero())
                {
                    // d_alpha[c] += d_y · x;  d_x = d_y · alpha[c]
                    acc += *d * xv;
                    *d *= a;
                }
                d_alpha[c] += acc;
            }
        }
        (d_x, d_alpha)
    };
    (y, pullback)
}
