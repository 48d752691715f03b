//! Losses: scalar means over all elements (regression and binary losses) or over the batch
//! (`cross_entropy`, `nll`).
//!
//! Every pullback takes the scalar seed `s` and returns the tangents of all array inputs,
//! targets included (a target that is data simply ignores its tangent).

use ndarray::{Array, Array2, Axis, Dimension, Zip};

use super::activation::sigmoid_scalar;
use crate::Real;

/// Checks that the prediction (`pred`, `p` or `logits`) and `target` have one shape and at least one element; returns the
/// number of elements.
#[track_caller]
fn pair_len(func: &str, pred: &[usize], target: &[usize]) -> usize {
    let name = match func {
        "bce" => "p",
        "bce_with_logits" => "logits",
        _ => "pred",
    };
    assert!(
        pred == target,
        "nn::{func}: {name} of shape {pred:?} and target of shape {target:?} differ (no broadcasting)"
    );
    let n = pred.iter().product();
    assert!(
        n > 0,
        "nn::{func}: {name} and target of shape {pred:?} are empty; the mean is undefined"
    );
    n
}

/// `Σ f(p, t) / n` over corresponding elements.
fn pair_mean<A: Real, D: Dimension>(
    pred: &Array<A, D>,
    target: &Array<A, D>,
    n: usize,
    f: impl Fn(A, A) -> A,
) -> A {
    Zip::from(pred)
        .and(target)
        .fold(A::zero(), |acc, &p, &t| acc + f(p, t))
        / A::from_f64(n as f64)
}

/// `(s/n · g(r), -s/n · g(r))` for the residual `r = pred - target`: the pullback of every
/// loss of the residual alone, computed in `r`'s buffer.
fn residual_grads<A: Real, D: Dimension>(
    mut r: Array<A, D>,
    s: A,
    n: usize,
    g: impl Fn(A) -> A,
) -> (Array<A, D>, Array<A, D>) {
    let k = s / A::from_f64(n as f64);
    r.mapv_inplace(|v| k * g(v));
    let d_target = r.mapv(|v| -v);
    (r, d_target)
}

// ---- mse ----

/// Mean squared error.
///
/// ```text
/// L        = 1/n Σ (pred - target)²
/// d_pred   = s · 2/n (pred - target)
/// d_target = -d_pred
/// ```
///
/// # Panics
/// When `pred` and `target` differ in shape or are empty.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::mse(&array![1.0_f64, 2.0], &array![0.0, 4.0]), 2.5);
/// ```
#[track_caller]
pub fn mse<A: Real, D: Dimension>(pred: &Array<A, D>, target: &Array<A, D>) -> A {
    let n = pair_len("mse", pred.shape(), target.shape());
    pair_mean(pred, target, n, |p, t| (p - t) * (p - t))
}

/// Vector-Jacobian product of [`mse`]: its value and the pullback `s ↦ (d_pred, d_target)`.
///
/// # Panics
/// As [`mse`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (loss, pullback) = nn::mse_vjp(&array![1.0_f64, 2.0], &array![0.0, 4.0]);
/// assert_eq!(loss, 2.5);
/// let (dpred, dtarget) = pullback(1.0);
/// assert_eq!(dpred, array![1.0, -2.0]);
/// assert_eq!(dtarget, array![-1.0, 2.0]);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn mse_vjp<A: Real, D: Dimension>(
    pred: &Array<A, D>,
    target: &Array<A, D>,
) -> (A, impl FnOnce(A) -> (Array<A, D>, Array<A, D>) + use<A, D>) {
    let n = pair_len("mse", pred.shape(), target.shape());
    let r = pred - target;
    let loss = r.iter().map(|&v| v * v).sum::<A>() / A::from_f64(n as f64);
    // d_pred = s · 2/n r
    let two = A::from_f64(2.0);
    (loss, move |s| residual_grads(r, s, n, |v| two * v))
}

// ---- l1 ----

/// Mean absolute error.
///
/// ```text
/// L        = 1/n Σ |pred - target|
/// d_pred   = s/n · sign(pred - target)        sign(0) = 0
/// d_target = -d_pred
/// ```
///
/// # Panics
/// When `pred` and `target` differ in shape or are empty.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::l1(&array![1.0_f64, 2.0], &array![0.0, 4.0]), 1.5);
/// ```
#[track_caller]
pub fn l1<A: Real, D: Dimension>(pred: &Array<A, D>, target: &Array<A, D>) -> A {
    let n = pair_len("l1", pred.shape(), target.shape());
    pair_mean(pred, target, n, |p, t| (p - t).abs())
}

/// Vector-Jacobian product of [`l1`]: its value and the pullback `s ↦ (d_pred, d_target)`.
///
/// # Panics
/// As [`l1`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::l1_vjp(&array![1.0_f64, 2.0, 3.0], &array![0.0, 4.0, 3.0]);
/// let (dpred, _) = pullback(3.0);
/// assert_eq!(dpred, array![1.0, -1.0, 0.0]);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn l1_vjp<A: Real, D: Dimension>(
    pred: &Array<A, D>,
    target: &Array<A, D>,
) -> (A, impl FnOnce(A) -> (Array<A, D>, Array<A, D>) + use<A, D>) {
    let n = pair_len("l1", pred.shape(), target.shape());
    let r = pred - target;
    let loss = r.iter().map(|v| v.abs()).sum::<A>() / A::from_f64(n as f64);
    // d_pred = s/n · sign(r), sign(0) = 0
    let sign = |v: A| {
        if v > A::zero() {
            A::one()
        } else if v < A::zero() {
            -A::one()
        } else {
            A::zero()
        }
    };
    (loss, move |s| residual_grads(r, s, n, sign))
}

// ---- huber ----

/// Huber loss: quadratic for residuals up to `delta`, linear beyond, as PyTorch's
/// `HuberLoss`. `delta` is not differentiated.
///
/// ```text
/// r        = pred - target
/// L        = 1/n Σ (|r| ≤ delta ? r²/2 : delta (|r| - delta/2))
/// d_pred   = s/n · clamp(r, -delta, delta)
/// d_target = -d_pred
/// ```
///
/// # Panics
/// When `pred` and `target` differ in shape or are empty, or `delta` is not positive.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// // 0.5² / 2 = 0.125 and 1 · (3 - 0.5) = 2.5
/// assert_eq!(nn::huber(&array![0.5_f64, 3.0], &array![0.0, 0.0], 1.0), 1.3125);
/// ```
#[track_caller]
pub fn huber<A: Real, D: Dimension>(pred: &Array<A, D>, target: &Array<A, D>, delta: A) -> A {
    let n = pair_len("huber", pred.shape(), target.shape());
    check_delta(delta);
    pair_mean(pred, target, n, |p, t| huber_scalar(p - t, delta))
}

#[track_caller]
fn check_delta<A: Real>(delta: A) {
    assert!(
        delta > A::zero(),
        "nn::huber: delta must be positive, got {delta}"
    );
}

fn huber_scalar<A: Real>(r: A, delta: A) -> A {
    let a = r.abs();
    if a <= delta {
        A::from_f64(0.5) * r * r
    } else {
        delta * (a - A::from_f64(0.5) * delta)
    }
}

/// Vector-Jacobian product of [`huber`]: its value and the pullback
/// `s ↦ (d_pred, d_target)`.
///
/// # Panics
/// As [`huber`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::huber_vjp(&array![0.5_f64, 3.0], &array![0.0, 0.0], 1.0);
/// let (dpred, _) = pullback(2.0);
/// assert_eq!(dpred, array![0.5, 1.0]);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn huber_vjp<A: Real, D: Dimension>(
    pred: &Array<A, D>,
    target: &Array<A, D>,
    delta: A,
) -> (A, impl FnOnce(A) -> (Array<A, D>, Array<A, D>) + use<A, D>) {
    let n = pair_len("huber", pred.shape(), target.shape());
    check_delta(delta);
    let r = pred - target;
    let loss = r.iter().map(|&v| huber_scalar(v, delta)).sum::<A>() / A::from_f64(n as f64);
    // d_pred = s/n · clamp(r, -delta, delta)
    (loss, move |s| {
        residual_grads(r, s, n, |v| v.max(-delta).min(delta))
    })
}

// ---- bce ----

/// Checks that every probability is in `[0, 1]`.
#[track_caller]
fn check_probabilities<A: Real, D: Dimension>(p: &Array<A, D>) {
    if let Some((i, v)) = p
        .iter()
        .enumerate()
        .find(|(_, v)| !(**v >= A::zero() && **v <= A::one()))
    {
        panic!(
            "nn::bce: p must hold probabilities in [0, 1], but element {i} (row-major) of p (shape {:?}) is {v}",
            p.shape()
        );
    }
}

/// `ln(v)` clamped below at -100, as PyTorch's `BCELoss` does, so that `p = 0` or `1` gives
/// a finite loss.
fn clamped_ln<A: Real>(v: A) -> A {
    v.ln().max(A::from_f64(-100.0))
}

/// Binary cross-entropy of probabilities `p` against targets in `[0, 1]`, as PyTorch's
/// `BCELoss` (logarithms clamped at -100).
///
/// ```text
/// L        = -1/n Σ (target ln p + (1 - target) ln(1 - p))
/// d_p      = s/n · (p - target) / max(p (1 - p), 1e-12)
/// d_target = s/n · (ln(1 - p) - ln p)
/// ```
///
/// For probabilities that come from a sigmoid, [`bce_with_logits`] is more accurate.
///
/// # Panics
/// When `p` and `target` differ in shape or are empty, or `p` has an element outside
/// `[0, 1]`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let loss = nn::bce(&array![0.5_f64, 0.5], &array![1.0, 0.0]);
/// assert!((loss - 2.0_f64.ln()).abs() < 1e-15);
/// ```
#[track_caller]
pub fn bce<A: Real, D: Dimension>(p: &Array<A, D>, target: &Array<A, D>) -> A {
    let n = pair_len("bce", p.shape(), target.shape());
    check_probabilities(p);
    -pair_mean(p, target, n, |p, t| {
        t * clamped_ln(p) + (A::one() - t) * clamped_ln(A::one() - p)
    })
}

/// Vector-Jacobian product of [`bce`]: its value and the pullback `s ↦ (d_p, d_target)`.
///
/// # Panics
/// As [`bce`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::bce_vjp(&array![0.5_f64, 0.5], &array![1.0, 0.0]);
/// let (dp, dtarget) = pullback(1.0);
/// assert_eq!(dp, array![-1.0, 1.0]);
/// assert_eq!(dtarget, array![0.0, 0.0]);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn bce_vjp<A: Real, D: Dimension>(
    p: &Array<A, D>,
    target: &Array<A, D>,
) -> (A, impl FnOnce(A) -> (Array<A, D>, Array<A, D>) + use<A, D>) {
    let loss = bce(p, target);
    let n = p.len();
    let (p, target) = (p.clone(), target.clone());
    let pullback = move |s: A| {
        let k = s / A::from_f64(n as f64);
        let eps = A::from_f64(1e-12);
        let mut d_p = p;
        let mut d_target = target;
        Zip::from(&mut d_p).and(&mut d_target).for_each(|p, t| {
            let (pv, tv) = (*p, *t);
            // d_p = s/n (p - t) / max(p (1 - p), eps);  d_t = s/n (ln(1 - p) - ln p)
            *p = k * (pv - tv) / (pv * (A::one() - pv)).max(eps);
            *t = k * (clamped_ln(A::one() - pv) - clamped_ln(pv));
        });
        (d_p, d_target)
    };
    (loss, pullback)
}

// ---- bce_with_logits ----

/// Binary cross-entropy of `sigmoid(logits)` against targets in `[0, 1]`, computed from the
/// logits without overflow, as PyTorch's `BCEWithLogitsLoss`.
///
/// ```text
/// L          = 1/n Σ (max(z, 0) - z target + ln(1 + e^-|z|))
/// d_z        = s/n · (σ(z) - target)
/// d_target   = -s/n · z
/// ```
///
/// # Panics
/// When `logits` and `target` differ in shape or are empty.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// assert_eq!(nn::bce_with_logits(&array![1e4_f64, -1e4], &array![1.0, 0.0]), 0.0);
/// let loss = nn::bce_with_logits(&array![0.0_f64], &array![1.0]);
/// assert!((loss - 2.0_f64.ln()).abs() < 1e-15);
/// ```
#[track_caller]
pub fn bce_with_logits<A: Real, D: Dimension>(logits: &Array<A, D>, target: &Array<A, D>) -> A {
    let n = pair_len("bce_with_logits", logits.shape(), target.shape());
    pair_mean(logits, target, n, |z, t| {
        z.max(A::zero()) - z * t + (-z.abs()).exp().ln_1p()
    })
}

/// Vector-Jacobian product of [`bce_with_logits`]: its value and the pullback
/// `s ↦ (d_logits, d_target)`.
///
/// # Panics
/// As [`bce_with_logits`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let (_, pullback) = nn::bce_with_logits_vjp(&array![0.0_f64, 2.0], &array![1.0, 0.5]);
/// let (dz, dtarget) = pullback(2.0);
/// assert_eq!(dz[0], -0.5);
/// assert_eq!(dtarget, array![0.0, -2.0]);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn bce_with_logits_vjp<A: Real, D: Dimension>(
    logits: &Array<A, D>,
    target: &Array<A, D>,
) -> (A, impl FnOnce(A) -> (Array<A, D>, Array<A, D>) + use<A, D>) {
    let loss = bce_with_logits(logits, target);
    let n = logits.len();
    let (z, target) = (logits.clone(), target.clone());
    let pullback = move |s: A| {
        let k = s / A::from_f64(n as f64);
        let mut d_z = z;
        let mut d_target = target;
        Zip::from(&mut d_z).and(&mut d_target).for_each(|z, t| {
            let (zv, tv) = (*z, *t);
            // d_z = s/n (σ(z) - t);  d_t = -s/n z
            *z = k * (sigmoid_scalar(zv) - tv);
            *t = -k * zv;
        });
        (d_z, d_target)
    };
    (loss, pullback)
}

// ---- cross_entropy ----

/// Checks the labels of a batch of `shape` (N x C); returns `(N, C)`.
#[track_caller]
fn check_labels(func: &str, shape: &[usize], labels: &[usize]) -> (usize, usize) {
    let (n, c) = (shape[0], shape[1]);
    assert!(
        labels.len() == n,
        "nn::{func}: {} labels for a batch of {n} rows (input of shape {shape:?})",
        labels.len()
    );
    assert!(
        n > 0,
        "nn::{func}: the batch is empty (input of shape {shape:?}); the mean is undefined"
    );
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, l)| **l >= c) {
        panic!(
            "nn::{func}: label {l} of row {i} is out of range for {c} classes (input of shape {shape:?})"
        );
    }
    (n, c)
}

/// The log-sum-exp of each row, shifted by the row's max: finite for any finite logits.
fn row_logsumexp<A: Real>(logits: &Array2<A>) -> Vec<A> {
    logits
        .rows()
        .into_iter()
        .map(|row| {
            let m = row.fold(A::neg_infinity(), |m, &v| m.max(v));
            m + row.iter().map(|&v| (v - m).exp()).sum::<A>().ln()
        })
        .collect()
}

/// Mean softmax cross-entropy of a batch of logits (N x C) against class labels, as
/// PyTorch's `cross_entropy`. Computed through a max-shifted log-sum-exp: finite loss and
/// gradient for logits of any finite magnitude.
///
/// ```text
/// L   = 1/N Σ_i (logsumexp(z_i) - z_i[label_i])
/// d_z = s/N · (softmax(z_i) - onehot(label_i))
/// ```
///
/// # Panics
/// When `labels` has not one label per row, a label is not below C, or the batch is empty.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array2;
///
/// // uniform logits: the loss is ln C
/// let loss = nn::cross_entropy(&Array2::<f64>::zeros((2, 10)), &[3, 7]);
/// assert!((loss - 10.0_f64.ln()).abs() < 1e-15);
/// ```
#[track_caller]
pub fn cross_entropy<A: Real>(logits: &Array2<A>, labels: &[usize]) -> A {
    let (n, _) = check_labels("cross_entropy", logits.shape(), labels);
    let lse = row_logsumexp(logits);
    let total = lse
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(i, (&l, &y))| l - logits[[i, y]])
        .sum::<A>();
    total / A::from_f64(n as f64)
}

/// Vector-Jacobian product of [`cross_entropy`]: its value and the pullback `s ↦ d_logits`.
///
/// The pullback keeps the softmax probabilities and the labels.
///
/// # Panics
/// As [`cross_entropy`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{array, Array2};
///
/// let (_, pullback) = nn::cross_entropy_vjp(&Array2::<f64>::zeros((1, 4)), &[1]);
/// assert_eq!(pullback(1.0), array![[0.25, -0.75, 0.25, 0.25]]);
/// ```
#[track_caller]
pub fn cross_entropy_vjp<A: Real>(
    logits: &Array2<A>,
    labels: &[usize],
) -> (A, impl FnOnce(A) -> Array2<A> + use<A>) {
    let (n, _) = check_labels("cross_entropy", logits.shape(), labels);
    let lse = row_logsumexp(logits);
    let mut probs = logits.to_owned();
    let mut total = A::zero();
    for (i, (mut row, &l)) in probs.axis_iter_mut(Axis(0)).zip(&lse).enumerate() {
        total += l - row[labels[i]];
        // softmax(z_i) = exp(z_i - logsumexp(z_i))
        row.mapv_inplace(|v| (v - l).exp());
    }
    let loss = total / A::from_f64(n as f64);
    let labels = labels.to_vec();
    let pullback = move |s: A| {
        // d_z = s/N (softmax(z) - onehot(label))
        let k = s / A::from_f64(n as f64);
        let mut d_z = probs;
        for (i, &y) in labels.iter().enumerate() {
            d_z[[i, y]] -= A::one();
        }
        d_z.mapv_inplace(|v| v * k);
        d_z
    };
    (loss, pullback)
}

// ---- nll ----

/// Mean negative log-likelihood of a batch of log-probabilities (N x C) at the class labels,
/// as PyTorch's `nll_loss`. `nll(log_softmax(z, 1), labels)` is [`cross_entropy`]`(z, labels)`.
///
/// ```text
/// L            = -1/N Σ_i log_probs[i, label_i]
/// d_log_probs  = -s/N at (i, label_i), 0 elsewhere
/// ```
///
/// # Panics
/// When `labels` has not one label per row, a label is not below C, or the batch is empty.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let log_probs = array![[-0.5_f64, -1.0], [-2.0, -0.25]];
/// assert_eq!(nn::nll(&log_probs, &[1, 0]), 1.5);
/// ```
#[track_caller]
pub fn nll<A: Real>(log_probs: &Array2<A>, labels: &[usize]) -> A {
    let (n, _) = check_labels("nll", log_probs.shape(), labels);
    -labels
        .iter()
        .enumerate()
        .map(|(i, &y)| log_probs[[i, y]])
        .sum::<A>()
        / A::from_f64(n as f64)
}

/// Vector-Jacobian product of [`nll`]: its value and the pullback `s ↦ d_log_probs`.
///
/// # Panics
/// As [`nll`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let log_probs = array![[-0.5_f64, -1.0], [-2.0, -0.25]];
/// let (_, pullback) = nn::nll_vjp(&log_probs, &[1, 0]);
/// assert_eq!(pullback(1.0), array![[0.0, -0.5], [-0.5, 0.0]]);
/// ```
#[track_caller]
pub fn nll_vjp<A: Real>(
    log_probs: &Array2<A>,
    labels: &[usize],
) -> (A, impl FnOnce(A) -> Array2<A> + use<A>) {
    let loss = nll(log_probs, labels);
    let (n, labels, dim) = (log_probs.nrows(), labels.to_vec(), log_probs.raw_dim());
    let pullback = move |s: A| {
        // d_log_probs[i, label_i] = -s/N
        let mut d = Array2::zeros(dim);
        let k = -s / A::from_f64(n as f64);
        for (i, &y) in labels.iter().enumerate() {
            d[[i, y]] = k;
        }
        d
    };
    (loss, pullback)
}
