//! Losses of `autodiff_runtime::nn`: pullbacks against finite differences, closed forms,
//! stability for logits of magnitude 1e4, and the panics on bad input.

mod nn_common;

use autodiff_runtime::{check, nn};
use ndarray::{Array, Array1, Array2, Array3, Axis, array};
use nn_common::*;

/// A (pred, target) pair of shape (3, 4, 5) whose residuals avoid `kinks` by at least 0.05.
fn pair_avoiding(seed: u64, kinks: &[f64]) -> (Array3<f64>, Array3<f64>) {
    let mut rng = rng(seed);
    let target: Array3<f64> = uniform(&mut rng, (3, 4, 5), -1.0, 1.0);
    let mut r: Array3<f64> = uniform(&mut rng, (3, 4, 5), -2.0, 2.0);
    r.mapv_inplace(|v| {
        if kinks.iter().any(|k| (v - k).abs() < 0.05) {
            v + 0.1
        } else {
            v
        }
    });
    (&target + &r, target)
}

type Pair = (Array3<f64>, Array3<f64>);

#[test]
fn mse_pullback() {
    let (p, t) = pair_avoiding(200, &[]);
    let s = scalar_seed(&mut rng(1));
    assert_eq!(nn::mse_vjp(&p, &t).0, nn::mse(&p, &t));
    check::vjp(
        |(p, t): &Pair| nn::mse(p, t),
        |(p, t), s| nn::mse_vjp(p, t).1(s),
        &(p, t),
        &s,
    )
    .assert();
}

#[test]
fn l1_pullback() {
    let (p, t) = pair_avoiding(201, &[0.0]);
    let s = scalar_seed(&mut rng(2));
    assert_eq!(nn::l1_vjp(&p, &t).0, nn::l1(&p, &t));
    check::vjp(
        |(p, t): &Pair| nn::l1(p, t),
        |(p, t), s| nn::l1_vjp(p, t).1(s),
        &(p, t),
        &s,
    )
    .assert();
}

#[test]
fn huber_pullback() {
    // residuals on both sides of ±delta
    let (p, t) = pair_avoiding(202, &[-0.7, 0.7]);
    let s = scalar_seed(&mut rng(3));
    assert_eq!(nn::huber_vjp(&p, &t, 0.7).0, nn::huber(&p, &t, 0.7));
    check::vjp(
        |(p, t): &Pair| nn::huber(p, t, 0.7),
        |(p, t), s| nn::huber_vjp(p, t, 0.7).1(s),
        &(p, t),
        &s,
    )
    .assert();
}

#[test]
fn bce_pullback() {
    let mut rng = rng(203);
    let p: Array2<f64> = uniform(&mut rng, (6, 4), 0.05, 0.95);
    let t: Array2<f64> = uniform(&mut rng, (6, 4), 0.0, 1.0);
    let s = scalar_seed(&mut rng);
    assert_eq!(nn::bce_vjp(&p, &t).0, nn::bce(&p, &t));
    check::vjp(
        |(p, t): &(Array2<f64>, Array2<f64>)| nn::bce(p, t),
        |(p, t), s| nn::bce_vjp(p, t).1(s),
        &(p, t),
        &s,
    )
    .assert();
}

#[test]
fn bce_with_logits_pullback() {
    let mut rng = rng(204);
    let z: Array2<f64> = uniform(&mut rng, (6, 4), -4.0, 4.0);
    let t: Array2<f64> = uniform(&mut rng, (6, 4), 0.0, 1.0);
    let s = scalar_seed(&mut rng);
    assert_eq!(
        nn::bce_with_logits_vjp(&z, &t).0,
        nn::bce_with_logits(&z, &t)
    );
    check::vjp(
        |(z, t): &(Array2<f64>, Array2<f64>)| nn::bce_with_logits(z, t),
        |(z, t), s| nn::bce_with_logits_vjp(z, t).1(s),
        &(z.clone(), t.clone()),
        &s,
    )
    .assert();
    // it is bce of the sigmoid
    let via_sigmoid = nn::bce(&nn::sigmoid(&z), &t);
    assert!((nn::bce_with_logits(&z, &t) - via_sigmoid).abs() < 1e-12);
}

#[test]
fn cross_entropy_pullback() {
    let mut rng = rng(205);
    let z: Array2<f64> = uniform(&mut rng, (5, 7), -3.0, 3.0);
    let labels = labels(&mut rng, 5, 7);
    let s = scalar_seed(&mut rng);
    assert_eq!(
        nn::cross_entropy_vjp(&z, &labels).0,
        nn::cross_entropy(&z, &labels)
    );
    check::vjp(
        |z| nn::cross_entropy(z, &labels),
        |z, s| nn::cross_entropy_vjp(z, &labels).1(s),
        &z,
        &s,
    )
    .assert();
}

#[test]
fn nll_pullback() {
    let mut rng = rng(206);
    let lp: Array2<f64> = uniform(&mut rng, (5, 3), -3.0, 0.0);
    let labels = labels(&mut rng, 5, 3);
    let s = scalar_seed(&mut rng);
    assert_eq!(nn::nll_vjp(&lp, &labels).0, nn::nll(&lp, &labels));
    check::vjp(
        |lp| nn::nll(lp, &labels),
        |lp, s| nn::nll_vjp(lp, &labels).1(s),
        &lp,
        &s,
    )
    .assert();
}

// ---- closed forms ----

#[test]
fn cross_entropy_of_uniform_logits_is_ln_c() {
    for c in [2, 3, 10, 1000] {
        let loss = nn::cross_entropy(&Array2::<f64>::from_elem((4, c), 0.7), &[0, 1, 1, c - 1]);
        assert!((loss - (c as f64).ln()).abs() < 1e-12, "C = {c}: {loss}");
    }
    let loss = nn::cross_entropy(&Array2::<f32>::zeros((3, 10)), &[0, 5, 9]);
    assert!((loss - 10.0_f32.ln()).abs() < 1e-6);
}

#[test]
fn cross_entropy_is_nll_of_log_softmax() {
    let mut rng = rng(207);
    let z: Array2<f64> = uniform(&mut rng, (6, 4), -3.0, 3.0);
    let labels = labels(&mut rng, 6, 4);
    let via_nll = nn::nll(&nn::log_softmax(&z, 1), &labels);
    assert!((nn::cross_entropy(&z, &labels) - via_nll).abs() < 1e-14);
    // the gradient rows of cross-entropy sum to zero
    let d = nn::cross_entropy_vjp(&z, &labels).1(1.0);
    for total in d.sum_axis(Axis(1)) {
        assert!(total.abs() < 1e-15);
    }
}

#[test]
fn regression_closed_forms() {
    let p = array![[1.0_f64, -2.0], [0.5, 4.0]];
    let t = array![[0.0_f64, 0.0], [0.5, 1.0]];
    // (1 + 4 + 0 + 9) / 4
    assert_eq!(nn::mse(&p, &t), 3.5);
    // (1 + 2 + 0 + 3) / 4
    assert_eq!(nn::l1(&p, &t), 1.5);
    // delta = 1: (0.5 + 1.5 + 0 + 2.5) / 4
    assert_eq!(nn::huber(&p, &t, 1.0), 1.125);
    // a large delta is half the squared error
    assert_eq!(nn::huber(&p, &t, 10.0), 1.75);
    // bce(0.5, t) = ln 2 for any t
    assert!(
        (nn::bce(&Array1::from_elem(3, 0.5), &array![0.0, 0.3, 1.0]) - 2.0_f64.ln()).abs() < 1e-15
    );
    // l1'(0) = 0
    let (_, pullback) = nn::l1_vjp(&array![1.0_f64], &array![1.0]);
    assert_eq!(pullback(1.0), (array![0.0], array![0.0]));
}

#[test]
fn bce_at_certain_probabilities_is_finite() {
    // ln 0 is clamped at -100, as PyTorch does
    let (loss, pullback) = nn::bce_vjp(&array![0.0_f64, 1.0], &array![1.0, 1.0]);
    assert_eq!(loss, 50.0);
    let (dp, dt) = pullback(1.0);
    assert!(dp.iter().chain(&dt).all(|v| v.is_finite()), "{dp} {dt}");
}

// ---- stability ----

#[test]
fn cross_entropy_is_stable_for_huge_logits() {
    let z = array![
        [1e4_f64, 0.0, -1e4],
        [1e4, 0.0, -1e4],
        [-1e4, -1e4, -1e4 + 1.0]
    ];
    let labels = [0, 2, 2];
    let (loss, pullback) = nn::cross_entropy_vjp(&z, &labels);
    // row 0: 0; row 1: 2e4; row 2: ln(1 + 2/e)
    let expected = (2e4 + (1.0 + 2.0 / 1.0_f64.exp()).ln()) / 3.0;
    assert!((loss - expected).abs() < 1e-9, "{loss}");
    let d = pullback(1.0);
    assert!(d.iter().all(|v| v.is_finite()), "{d}");
    assert_eq!(d.row(1), array![1.0 / 3.0, 0.0, -1.0 / 3.0]);
    // single precision
    let (loss, pullback) = nn::cross_entropy_vjp(&z.mapv(|v| v as f32), &labels);
    assert!(
        loss.is_finite() && (loss as f64 - expected).abs() < 1e-2,
        "{loss}"
    );
    assert!(pullback(1.0).iter().all(|v| v.is_finite()));
}

#[test]
fn bce_with_logits_is_stable_for_huge_logits() {
    let z = array![1e4_f64, -1e4, 1e4, -1e4];
    let t = array![1.0, 0.0, 0.0, 1.0];
    let (loss, pullback) = nn::bce_with_logits_vjp(&z, &t);
    assert_eq!(loss, 1e4 / 2.0);
    let (dz, dt) = pullback(4.0);
    assert_eq!(dz, array![0.0, 0.0, 1.0, -1.0]);
    assert_eq!(dt, array![-1e4, 1e4, -1e4, 1e4]);
    let loss = nn::bce_with_logits(&z.mapv(|v| v as f32), &t.mapv(|v| v as f32));
    assert_eq!(loss, 5e3);
}

// ---- bad input ----

#[test]
#[should_panic(
    expected = "nn::cross_entropy: label 7 of row 1 is out of range for 7 classes (input of shape [2, 7])"
)]
fn cross_entropy_rejects_label_out_of_range() {
    nn::cross_entropy(&Array2::<f64>::zeros((2, 7)), &[0, 7]);
}

#[test]
#[should_panic(expected = "nn::nll: 3 labels for a batch of 2 rows (input of shape [2, 4])")]
fn nll_rejects_label_count_mismatch() {
    nn::nll(&Array2::<f64>::zeros((2, 4)), &[0, 1, 2]);
}

#[test]
#[should_panic(
    expected = "nn::mse: pred of shape [2, 3] and target of shape [3, 2] differ (no broadcasting)"
)]
fn mse_rejects_shape_mismatch() {
    nn::mse(&Array2::<f64>::zeros((2, 3)), &Array2::zeros((3, 2)));
}

#[test]
#[should_panic(
    expected = "nn::bce_with_logits: logits of shape [4] and target of shape [5] differ"
)]
fn bce_with_logits_rejects_shape_mismatch() {
    nn::bce_with_logits(&Array1::<f64>::zeros(4), &Array1::zeros(5));
}

#[test]
#[should_panic(
    expected = "nn::bce: p must hold probabilities in [0, 1], but element 1 (row-major) of p (shape [3]) is 1.5"
)]
fn bce_rejects_non_probabilities() {
    nn::bce(&array![0.5_f64, 1.5, 0.2], &array![0.0, 1.0, 0.0]);
}

#[test]
#[should_panic(expected = "nn::huber: delta must be positive, got 0")]
fn huber_rejects_zero_delta() {
    nn::huber(&Array::<f64, _>::zeros(2), &Array::zeros(2), 0.0);
}
