//! Normalization: batch normalization over N, H, W per channel, layer normalization over
//! the last axis.
//!
//! Both normalize groups of elements to zero mean and unit (biased) variance, then scale
//! and shift:
//!
//! ```text
//! x̂ = (x - μ) / √(σ² + eps),    y = γ x̂ + β
//! ```
//!
//! and share one adjoint, for a group of `m` elements with `g = γ d_y`:
//!
//! ```text
//! d_x = 1/(m √(σ² + eps)) · (m g - Σ g - x̂ Σ (g x̂))
//! d_γ = Σ d_y x̂,    d_β = Σ d_y        (summed over every group that shares γ, β)
//! ```

use ndarray::{Array, Array1, Array4, Dimension};

use super::{check_seed, standard};
use crate::Real;

/// Mean and `1 / √(σ² + eps)` of the elements of `runs` (two passes: no cancellation).
fn moments<'a, A: Real>(runs: impl Iterator<Item = &'a [A]> + Clone, m: usize, eps: A) -> (A, A) {
    let m = A::from_f64(m as f64);
    let mean = runs
        .clone()
        .map(|r| r.iter().copied().sum::<A>())
        .sum::<A>()
        / m;
    let var = runs
        .map(|r| r.iter().map(|&v| (v - mean) * (v - mean)).sum::<A>())
        .sum::<A>()
        / m;
    (mean, (var + eps).sqrt().recip())
}

// ---- batch_norm2d ----

/// Checks the shapes of `batch_norm2d`'s operands; returns `(channels, H·W, N·H·W)`.
#[track_caller]
fn batch_norm_sizes(shape: &[usize], gamma: usize, beta: usize) -> (usize, usize, usize) {
    let c = shape[1];
    assert!(
        gamma == c && beta == c,
        "nn::batch_norm2d: x of shape {shape:?} has {c} channels but gamma has {gamma} and beta {beta} elements"
    );
    let area = shape[2] * shape[3];
    assert!(
        shape[0] * area > 0,
        "nn::batch_norm2d: x of shape {shape:?} has no element per channel"
    );
    (c, area, shape[0] * area)
}

/// `(y, x̂, 1/√(σ² + eps) per channel)`.
fn batch_norm_forward<A: Real>(
    x: &Array4<A>,
    gamma: &Array1<A>,
    beta: &Array1<A>,
    eps: A,
) -> (Array4<A>, Array4<A>, Vec<A>) {
    let (c, area, m) = batch_norm_sizes(x.shape(), gamma.len(), beta.len());
    let mut x_hat = standard(x.clone());
    let mut y = Array4::zeros(x.raw_dim());
    let mut inv_stds = Vec::with_capacity(c);
    let xs = x_hat.as_slice_mut().expect("standard layout");
    let ys = y.as_slice_mut().expect("standard layout");
    for ch in 0..c {
        // The runs of channel `ch` are the chunks ch, ch + C, ch + 2C, ...
        let (mean, inv_std) = moments(xs.chunks_exact(area).skip(ch).step_by(c), m, eps);
        inv_stds.push(inv_std);
        for (x_run, y_run) in xs
            .chunks_exact_mut(area)
            .zip(ys.chunks_exact_mut(area))
            .skip(ch)
            .step_by(c)
        {
            for (xv, yv) in x_run.iter_mut().zip(y_run) {
                *xv = (*xv - mean) * inv_std;
                *yv = gamma[ch] * *xv + beta[ch];
            }
        }
    }
    (y, x_hat, inv_stds)
}

/// Batch normalization of N x C x H x W images with batch statistics: each channel is
/// normalized over N, H and W (biased variance), then scaled by `gamma` and shifted by
/// `beta`, as PyTorch's `BatchNorm2d` in training mode.
///
/// ```text
/// μ_c, σ²_c = mean and biased variance of x[:, c, :, :]
/// x̂ = (x - μ_c) / √(σ²_c + eps)
/// y = gamma[c] · x̂ + beta[c]
///
/// with m = N·H·W and g = gamma[c] · d_y, over channel c:
/// d_x        = 1/(m √(σ²_c + eps)) · (m g - Σ g - x̂ Σ (g x̂))
/// d_gamma[c] = Σ d_y x̂
/// d_beta[c]  = Σ d_y
/// ```
///
/// # Panics
/// When `gamma` or `beta` has not one element per channel, or `N·H·W` is 0.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{array, Array};
///
/// let x = Array::from_shape_vec((2, 1, 1, 1), vec![1.0_f64, 3.0]).unwrap();
/// let y = nn::batch_norm2d(&x, &array![2.0], &array![0.5], 0.0);
/// assert_eq!(y.into_raw_vec_and_offset().0, vec![-1.5, 2.5]);
/// ```
#[track_caller]
pub fn batch_norm2d<A: Real>(
    x: &Array4<A>,
    gamma: &Array1<A>,
    beta: &Array1<A>,
    eps: A,
) -> Array4<A> {
    batch_norm_forward(x, gamma, beta, eps).0
}

/// Vector-Jacobian product of [`batch_norm2d`]: its value and the pullback
/// `d_y ↦ (d_x, d_gamma, d_beta)`.
///
/// The pullback keeps `x̂` and the per-channel `1/√(σ² + eps)`.
///
/// # Panics
/// As [`batch_norm2d`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{array, Array, Array4};
///
/// let x = Array::from_shape_vec((2, 1, 1, 1), vec![1.0_f64, 3.0]).unwrap();
/// let (_, pullback) = nn::batch_norm2d_vjp(&x, &array![2.0], &array![0.5], 0.0);
/// let (dx, dgamma, dbeta) = pullback(Array4::ones((2, 1, 1, 1)));
/// // a uniform seed is absorbed by the mean: no gradient reaches x
/// assert_eq!(dx, Array4::<f64>::zeros((2, 1, 1, 1)));
/// assert_eq!((dgamma, dbeta), (array![0.0], array![2.0]));
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn batch_norm2d_vjp<A: Real>(
    x: &Array4<A>,
    gamma: &Array1<A>,
    beta: &Array1<A>,
    eps: A,
) -> (
    Array4<A>,
    impl FnOnce(Array4<A>) -> (Array4<A>, Array1<A>, Array1<A>) + use<A>,
) {
    let (y, x_hat, inv_stds) = batch_norm_forward(x, gamma, beta, eps);
    let (c, area, m) = batch_norm_sizes(x.shape(), gamma.len(), beta.len());
    let gamma = gamma.clone();
    let pullback = move |d_y: Array4<A>| {
        check_seed("batch_norm2d", d_y.shape(), x_hat.shape());
        let mut d_x = standard(d_y);
        let mut d_gamma = Array1::zeros(c);
        let mut d_beta = Array1::zeros(c);
        let xs = x_hat.as_slice().expect("standard layout");
        let ds = d_x.as_slice_mut().expect("standard layout");
        let m_a = A::from_f64(m as f64);
        for ch in 0..c {
            let runs = || {
                ds.chunks_exact(area)
                    .zip(xs.chunks_exact(area))
                    .skip(ch)
                    .step_by(c)
            };
            // d_β = Σ d_y,  d_γ = Σ d_y x̂
            let (sum_d, sum_dx) = runs().fold((A::zero(), A::zero()), |(s, sx), (d_run, x_run)| {
                let sx_run = d_run.iter().zip(x_run).map(|(&d, &xh)| d * xh).sum::<A>();
                (s + d_run.iter().copied().sum::<A>(), sx + sx_run)
            });
            d_beta[ch] = sum_d;
            d_gamma[ch] = sum_dx;
            // d_x = γ / (m √(σ² + eps)) · (m d_y - Σ d_y - x̂ Σ d_y x̂)
            let k = gamma[ch] * inv_stds[ch] / m_a;
            for (d_run, x_run) in ds
                .chunks_exact_mut(area)
                .zip(xs.chunks_exact(area))
                .skip(ch)
                .step_by(c)
            {
                for (d, &xh) in d_run.iter_mut().zip(x_run) {
                    *d = k * (m_a * *d - sum_d - xh * sum_dx);
                }
            }
        }
        (d_x, d_gamma, d_beta)
    };
    (y, pullback)
}

// ---- layer_norm ----

/// Checks the shapes of `layer_norm`'s operands; returns the length of the last axis.
#[track_caller]
fn layer_norm_size(shape: &[usize], gamma: usize, beta: usize) -> usize {
    let d = *shape.last().unwrap_or_else(|| {
        panic!("nn::layer_norm: x is 0-dimensional; it needs a last axis to normalize")
    });
    assert!(
        gamma == d && beta == d,
        "nn::layer_norm: the last axis of x (shape {shape:?}) has {d} elements but gamma has {gamma} and beta {beta}"
    );
    d
}

/// `(y, x̂, 1/√(σ² + eps) per row)`.
fn layer_norm_forward<A: Real, D: Dimension>(
    x: &Array<A, D>,
    gamma: &Array1<A>,
    beta: &Array1<A>,
    eps: A,
) -> (Array<A, D>, Array<A, D>, Vec<A>) {
    let d = layer_norm_size(x.shape(), gamma.len(), beta.len());
    let mut x_hat = standard(x.clone());
    let mut y = Array::zeros(x.raw_dim());
    let mut inv_stds = Vec::new();
    if d > 0 {
        let xs = x_hat.as_slice_mut().expect("standard layout");
        let ys = y.as_slice_mut().expect("standard layout");
        for (x_row, y_row) in xs.chunks_exact_mut(d).zip(ys.chunks_exact_mut(d)) {
            let (mean, inv_std) = moments(std::iter::once(&*x_row), d, eps);
            inv_stds.push(inv_std);
            for (k, (xv, yv)) in x_row.iter_mut().zip(y_row).enumerate() {
                *xv = (*xv - mean) * inv_std;
                *yv = gamma[k] * *xv + beta[k];
            }
        }
    }
    (y, x_hat, inv_stds)
}

/// Layer normalization over the last axis: each row (lane of the last axis) is normalized to
/// zero mean and unit (biased) variance, then scaled by `gamma` and shifted by `beta`
/// elementwise, as PyTorch's `LayerNorm(d)`.
///
/// ```text
/// μ, σ² = mean and biased variance of the row x[..., :]
/// x̂ = (x - μ) / √(σ² + eps)
/// y[..., k] = gamma[k] · x̂[..., k] + beta[k]
///
/// with m the length of the last axis and g = gamma · d_y, per row:
/// d_x     = 1/(m √(σ² + eps)) · (m g - Σ g - x̂ Σ (g x̂))
/// d_gamma = Σ_rows d_y x̂
/// d_beta  = Σ_rows d_y
/// ```
///
/// # Panics
/// When `x` is 0-dimensional or `gamma` or `beta` has not the length of its last axis.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[1.0_f64, 3.0], [0.0, -4.0]];
/// let y = nn::layer_norm(&x, &array![1.0, 2.0], &array![0.0, 0.5], 0.0);
/// assert_eq!(y, array![[-1.0, 2.5], [1.0, -1.5]]);
/// ```
#[track_caller]
pub fn layer_norm<A: Real, D: Dimension>(
    x: &Array<A, D>,
    gamma: &Array1<A>,
    beta: &Array1<A>,
    eps: A,
) -> Array<A, D> {
    layer_norm_forward(x, gamma, beta, eps).0
}

/// Vector-Jacobian product of [`layer_norm`]: its value and the pullback
/// `d_y ↦ (d_x, d_gamma, d_beta)`.
///
/// The pullback keeps `x̂` and the per-row `1/√(σ² + eps)`.
///
/// # Panics
/// As [`layer_norm`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let x = array![[1.0_f64, 3.0], [0.0, -4.0]];
/// let (_, pullback) = nn::layer_norm_vjp(&x, &array![1.0, 2.0], &array![0.0, 0.5], 0.0);
/// let (_, dgamma, dbeta) = pullback(array![[1.0, 0.0], [0.0, 1.0]]);
/// assert_eq!((dgamma, dbeta), (array![-1.0, -1.0], array![1.0, 1.0]));
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn layer_norm_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    gamma: &Array1<A>,
    beta: &Array1<A>,
    eps: A,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> (Array<A, D>, Array1<A>, Array1<A>) + use<A, D>,
) {
    let (y, x_hat, inv_stds) = layer_norm_forward(x, gamma, beta, eps);
    let d = layer_norm_size(x.shape(), gamma.len(), beta.len());
    let gamma = gamma.clone();
    let pullback = move |d_y: Array<A, D>| {
        check_seed("layer_norm", d_y.shape(), x_hat.shape());
        let mut d_x = standard(d_y);
        let mut d_gamma = Array1::zeros(d);
        let mut d_beta = Array1::zeros(d);
        if d > 0 {
            let xs = x_hat.as_slice().expect("standard layout");
            let ds = d_x.as_slice_mut().expect("standard layout");
            let m = A::from_f64(d as f64);
            for ((d_row, x_row), &inv_std) in ds
                .chunks_exact_mut(d)
                .zip(xs.chunks_exact(d))
                .zip(&inv_stds)
            {
                // g = γ d_y;  d_γ += d_y x̂;  d_β += d_y
                let (mut sum_g, mut sum_gx) = (A::zero(), A::zero());
                for (k, (dv, &xh)) in d_row.iter_mut().zip(x_row).enumerate() {
                    d_gamma[k] += *dv * xh;
                    d_beta[k] += *dv;
                    *dv = gamma[k] * *dv;
                    sum_g += *dv;
                    sum_gx += *dv * xh;
                }
                // d_x = 1/(m √(σ² + eps)) · (m g - Σ g - x̂ Σ g x̂)
                let k = inv_std / m;
                for (g, &xh) in d_row.iter_mut().zip(x_row) {
                    *g = k * (m * *g - sum_g - xh * sum_gx);
                }
            }
        }
        (d_x, d_gamma, d_beta)
    };
    (y, pullback)
}
