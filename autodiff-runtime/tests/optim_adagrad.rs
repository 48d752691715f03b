//! `Adagrad`: three steps against PyTorch's documented update.

mod optim_common;

use autodiff_runtime::optim::{Adagrad, Optimizer};
use optim_common::*;

/// PyTorch's Adagrad, element by element:
///
/// ```text
/// γ̃ ← γ / (1 + (t − 1) η)
/// g ← g + λ θ
/// s ← s + g²                     (s starts at the initial accumulator value)
/// θ ← θ − γ̃ g / (√s + ε)
/// ```
fn adagrad_reference(lr: f64, lr_decay: f64, wd: f64, init: f64, eps: f64) -> Vec<Vec<f64>> {
    let mut s = [init; 8];
    reference(|t, i, theta, g| {
        let clr = lr / (1.0 + (t - 1) as f64 * lr_decay);
        let g = g + wd * theta;
        s[i] += g * g;
        theta - clr * g / (s[i].sqrt() + eps)
    })
}

// From the Python transcription (see optim_common).
const PY_PLAIN: [f64; 8] = [
    0.42182947180984876,
    -1.011264508148829,
    1.9160054004184652,
    0.24486832984005136,
    1.622899570520349,
    -0.9784457050114268,
    -0.05858391849314782,
    3.111673697130513,
];
const PY_FULL: [f64; 8] = [
    0.45505935356223454,
    -0.9944456005864968,
    1.9035168956077033,
    0.2701576230005283,
    1.6043926243228523,
    -0.9058538561077535,
    0.00031791547575740417,
    2.9538071404388484,
];

#[test]
fn defaults() {
    // First step: s = g², θ ← θ − γ g / (|g| + 1e-10).
    let got = run(&mut Adagrad::new(0.1));
    assert!((got[0][0] - (0.5 - 0.1 * 0.3 / (0.3 + 1e-10))).abs() < 1e-15);
    check_optimizer(
        Adagrad::new(0.1),
        &adagrad_reference(0.1, 0.0, 0.0, 0.0, 1e-10),
        &PY_PLAIN,
    );
}

#[test]
fn lr_decay_weight_decay_initial_value_eps() {
    let opt = Adagrad::new(0.1)
        .lr_decay(0.1)
        .weight_decay(0.1)
        .initial_accumulator_value(0.5)
        .eps(1e-6);
    check_optimizer(opt, &adagrad_reference(0.1, 0.1, 0.1, 0.5, 1e-6), &PY_FULL);
}

#[test]
fn learning_rate_access() {
    let mut opt = Adagrad::new(1e-2);
    opt.set_learning_rate(0.0);
    assert_eq!(opt.learning_rate(), 0.0);
    let mut x = 1.0_f64;
    opt.step(&mut x, &1.0);
    assert_eq!(x, 1.0);
}

#[test]
#[should_panic(expected = "Adagrad: invalid lr decay -0.1")]
fn negative_lr_decay_panics() {
    let _ = Adagrad::new(1e-2).lr_decay(-0.1);
}

#[test]
#[should_panic(expected = "Adagrad: invalid initial accumulator value -1")]
fn negative_initial_value_panics() {
    let _ = Adagrad::new(1e-2).initial_accumulator_value(-1.0);
}

#[test]
#[should_panic(expected = "Adagrad: invalid eps 0.0: must be finite and > 0")]
fn zero_eps_panics() {
    let _ = Adagrad::new(1e-2).eps(0.0);
}

#[test]
#[should_panic(expected = "Adagrad: invalid weight decay NaN")]
fn nan_weight_decay_panics() {
    let _ = Adagrad::new(1e-2).weight_decay(f64::NAN);
}
