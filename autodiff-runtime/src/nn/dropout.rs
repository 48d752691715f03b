//! Inverted dropout: kept elements are scaled by `1/(1 - p)` so that the expected output is
//! the input, and evaluation needs no rescaling.
//!
//! The mask is drawn from the caller's random number generator; the pullback keeps it, so
//! the gradient flows through exactly the elements that were kept.

use ndarray::{Array, Dimension, Zip};
use rand::Rng;

use super::check_seed;
use crate::Real;

/// Checks `p`; returns the scale `1/(1 - p)` of kept elements.
#[track_caller]
fn keep_scale<A: Real>(func: &str, p: A) -> A {
    assert!(
        p >= A::zero() && p < A::one(),
        "nn::{func}: the drop probability p must be in [0, 1), got {p}"
    );
    A::one() / (A::one() - p)
}

/// A mask of `len` elements, each 0 (probability `p`) or `scale`.
fn draw_mask<A: Real, R: Rng + ?Sized>(len: usize, p: A, scale: A, rng: &mut R) -> Vec<A> {
    if p == A::zero() {
        return vec![A::one(); len];
    }
    let p = p.to_f64();
    (0..len)
        .map(|_| {
            if rng.random::<f64>() < p {
                A::zero()
            } else {
                scale
            }
        })
        .collect()
}

/// The dropout mask of `x`, one element per element (`per_element`) or one per
/// `(sample, channel)` pair broadcast over the remaining axes; same dimension as `x`.
#[track_caller]
fn mask_for<A: Real, D: Dimension, R: Rng + ?Sized>(
    func: &str,
    x: &Array<A, D>,
    p: A,
    per_element: bool,
    rng: &mut R,
) -> Array<A, D> {
    let scale = keep_scale(func, p);
    let mut dim = x.raw_dim();
    if !per_element {
        assert!(
            dim.ndim() >= 2,
            "nn::{func}: x of shape {:?} has no channel axis (it needs at least 2 axes, N x C x ...)",
            x.shape()
        );
        for k in 2..dim.ndim() {
            dim[k] = 1;
        }
    }
    let mask = draw_mask(dim.size(), p, scale, rng);
    Array::from_shape_vec(dim, mask).expect("sizes agree")
}

/// `x · mask`, broadcasting the mask (equal shape for dropout, size 1 on axes 2.. for
/// dropout2d).
fn apply_mask<A: Real, D: Dimension>(mut x: Array<A, D>, mask: &Array<A, D>) -> Array<A, D> {
    Zip::from(&mut x)
        .and_broadcast(mask)
        .for_each(|v, &m| *v *= m);
    x
}

// ---- dropout ----

/// Inverted dropout: zeroes each element with probability `p` and scales the others by
/// `1/(1 - p)`. `p` and `rng` are not differentiated.
///
/// ```text
/// m   ~ Bernoulli(1 - p) elementwise
/// y   = x · m / (1 - p)
/// d_x = d_y · m / (1 - p)
/// ```
///
/// # Panics
/// When `p` is not in `[0, 1)`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array1;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let y = nn::dropout(&Array1::<f64>::ones(1000), 0.5, &mut rng);
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// assert!((y.mean().unwrap() - 1.0).abs() < 0.1);
/// ```
#[track_caller]
pub fn dropout<A: Real, D: Dimension>(
    x: &Array<A, D>,
    p: A,
    rng: &mut (impl Rng + ?Sized),
) -> Array<A, D> {
    let mask = mask_for("dropout", x, p, true, rng);
    apply_mask(x.clone(), &mask)
}

/// Vector-Jacobian product of [`dropout`]: its value and the pullback `d_y ↦ d_x`, which
/// keeps the mask.
///
/// # Panics
/// As [`dropout`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array1;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let (y, pullback) = nn::dropout_vjp(&Array1::<f64>::ones(100), 0.25, &mut rng);
/// // the gradient flows through the kept elements only, with the same scale
/// assert_eq!(pullback(Array1::ones(100)), y);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn dropout_vjp<A: Real, D: Dimension, R: Rng + ?Sized>(
    x: &Array<A, D>,
    p: A,
    rng: &mut R,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D, R>,
) {
    let mask = mask_for("dropout", x, p, true, rng);
    let y = apply_mask(x.clone(), &mask);
    let pullback = move |d_y: Array<A, D>| {
        check_seed("dropout", d_y.shape(), mask.shape());
        // d_x = d_y · m / (1 - p)
        apply_mask(d_y, &mask)
    };
    (y, pullback)
}

// ---- dropout2d ----

/// Channel dropout: zeroes whole channels `x[n, c, ...]` with probability `p` and scales
/// the others by `1/(1 - p)`, as PyTorch's `Dropout2d` on N x C x H x W images. `p` and
/// `rng` are not differentiated.
///
/// ```text
/// m[n, c] ~ Bernoulli(1 - p)
/// y[n, c, ...] = x[n, c, ...] · m[n, c] / (1 - p)
/// d_x[n, c, ...] = d_y[n, c, ...] · m[n, c] / (1 - p)
/// ```
///
/// # Panics
/// When `p` is not in `[0, 1)` or `x` has fewer than 2 axes.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{Array4, Axis};
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let y = nn::dropout2d(&Array4::<f64>::ones((4, 8, 3, 3)), 0.5, &mut rng);
/// for image in y.axis_iter(Axis(0)) {
///     for channel in image.axis_iter(Axis(0)) {
///         let first = channel[[0, 0]];
///         assert!(first == 0.0 || first == 2.0);
///         assert!(channel.iter().all(|&v| v == first));
///     }
/// }
/// ```
#[track_caller]
pub fn dropout2d<A: Real, D: Dimension>(
    x: &Array<A, D>,
    p: A,
    rng: &mut (impl Rng + ?Sized),
) -> Array<A, D> {
    let mask = mask_for("dropout2d", x, p, false, rng);
    apply_mask(x.clone(), &mask)
}

/// Vector-Jacobian product of [`dropout2d`]: its value and the pullback `d_y ↦ d_x`, which
/// keeps the per-channel mask.
///
/// # Panics
/// As [`dropout2d`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array4;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let (y, pullback) = nn::dropout2d_vjp(&Array4::<f64>::ones((2, 3, 2, 2)), 0.5, &mut rng);
/// assert_eq!(pullback(Array4::ones((2, 3, 2, 2))), y);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn dropout2d_vjp<A: Real, D: Dimension, R: Rng + ?Sized>(
    x: &Array<A, D>,
    p: A,
    rng: &mut R,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D, R>,
) {
    let mask = mask_for("dropout2d", x, p, false, rng);
    let y = apply_mask(x.clone(), &mask);
    let shape = x.shape().to_vec();
    let pullback = move |d_y: Array<A, D>| {
        check_seed("dropout2d", d_y.shape(), &shape);
        // d_x = d_y · m[n, c] / (1 - p)
        apply_mask(d_y, &mask)
    };
    (y, pullback)
}
