//! `Sgd`: three steps against PyTorch's documented update, and the shared optimizer
//! behaviour (state per buffer, structure checks, learning rate access).

mod optim_common;

use autodiff_runtime::optim::{Optimizer, Sgd};
use ndarray::array;
use optim_common::*;

/// PyTorch's SGD, element by element:
///
/// ```text
/// g ← g + λ θ
/// b ← g (t = 1),  b ← μ b + (1 − τ) g (t > 1)
/// g ← g + μ b (Nesterov) or b
/// θ ← θ − γ g
/// ```
fn sgd_reference(lr: f64, mu: f64, tau: f64, wd: f64, nesterov: bool) -> Vec<Vec<f64>> {
    let mut b = [0.0; 8];
    reference(|t, i, theta, g| {
        let mut g = g + wd * theta;
        if mu != 0.0 {
            b[i] = if t == 1 {
                g
            } else {
                mu * b[i] + (1.0 - tau) * g
            };
            g = if nesterov { g + mu * b[i] } else { b[i] };
        }
        theta - lr * g
    })
}

// From the Python transcription (see optim_common).
const PY_PLAIN: [f64; 8] = [
    0.48,
    -1.03,
    1.8750000000000002,
    0.29,
    1.75,
    -0.9599999999999999,
    -6.938893903907228e-18,
    3.045,
];
const PY_MOMENTUM: [f64; 8] = [
    0.41705279029500003,
    -1.01792021299,
    1.6463408368799999,
    0.2684872572975,
    2.1592615057850004,
    -1.1181171285925,
    0.006209891899999991,
    3.09276996997,
];
const PY_NESTEROV: [f64; 8] = [
    0.4040572848005,
    -1.050646323961,
    1.5574429734319999,
    0.30786342528525,
    2.3493281235115004,
    -1.30643059598575,
    0.008904611410000002,
    3.118511107783,
];

#[test]
fn plain() {
    // θ ← θ − γ g: after one step, θ_0 = 0.5 − 0.1 · 0.3 = 0.47.
    let got = run(&mut Sgd::new(0.1));
    assert!((got[0][0] - 0.47).abs() < 1e-15);
    check_optimizer(
        Sgd::new(0.1),
        &sgd_reference(0.1, 0.0, 0.0, 0.0, false),
        &PY_PLAIN,
    );
}

#[test]
fn momentum_dampening_weight_decay() {
    let opt = Sgd::new(0.1)
        .momentum(0.9)
        .dampening(0.1)
        .weight_decay(0.01);
    check_optimizer(
        opt,
        &sgd_reference(0.1, 0.9, 0.1, 0.01, false),
        &PY_MOMENTUM,
    );
}

#[test]
fn nesterov() {
    let opt = Sgd::new(0.1)
        .momentum(0.9)
        .nesterov(true)
        .weight_decay(0.01);
    check_optimizer(opt, &sgd_reference(0.1, 0.9, 0.0, 0.01, true), &PY_NESTEROV);
}

#[test]
fn learning_rate_can_change_between_steps() {
    let mut opt = Sgd::new(0.1).momentum(0.5);
    assert_eq!(opt.learning_rate(), 0.1);
    let mut x = vec![1.0_f64];
    opt.step(&mut x, &vec![1.0]); // b = 1, θ = 1 − 0.1
    opt.set_learning_rate(1.0);
    assert_eq!(opt.learning_rate(), 1.0);
    opt.step(&mut x, &vec![1.0]); // b = 0.5 + 1, θ = 0.9 − 1.5
    assert!((x[0] - (0.9 - 1.5)).abs() < 1e-15);
}

#[test]
fn optimizers_are_clone_and_debug() {
    let mut opt = Sgd::new(0.1).momentum(0.9);
    let mut a = 1.0_f64;
    opt.step(&mut a, &1.0);
    // A clone carries the state: both continue identically.
    let mut twin = opt.clone();
    let mut b = a;
    opt.step(&mut a, &1.0);
    twin.step(&mut b, &1.0);
    assert_eq!(a, b);
    let text = format!("{opt:?}");
    assert!(
        text.contains("momentum: 0.9") && text.contains("step: 2"),
        "{text}"
    );
}

#[test]
#[should_panic(expected = "Sgd: invalid learning rate -0.1: must be finite and >= 0")]
fn negative_lr_panics() {
    let _ = Sgd::new(-0.1);
}

#[test]
#[should_panic(expected = "Sgd: invalid learning rate NaN")]
fn nan_lr_panics() {
    let _ = Sgd::new(f64::NAN);
}

#[test]
#[should_panic(expected = "Sgd: invalid learning rate -1")]
fn negative_lr_from_set_learning_rate_panics() {
    Sgd::new(0.1).set_learning_rate(-1.0);
}

#[test]
#[should_panic(expected = "Sgd: invalid momentum -0.5: must be finite and >= 0")]
fn negative_momentum_panics() {
    let _ = Sgd::new(0.1).momentum(-0.5);
}

#[test]
#[should_panic(expected = "Sgd: invalid weight decay -0.001")]
fn negative_weight_decay_panics() {
    let _ = Sgd::new(0.1).weight_decay(-1e-3);
}

#[test]
#[should_panic(expected = "Sgd: invalid dampening 1.5: must be in [0, 1]")]
fn dampening_above_one_panics() {
    let _ = Sgd::new(0.1).momentum(0.9).dampening(1.5);
}

#[test]
#[should_panic(
    expected = "Sgd: Nesterov momentum requires momentum > 0 and dampening 0, got momentum 0.0"
)]
fn nesterov_without_momentum_panics() {
    let _ = Sgd::new(0.1).nesterov(true);
}

#[test]
#[should_panic(
    expected = "Sgd: Nesterov momentum requires momentum > 0 and dampening 0, got momentum 0.9 and dampening 0.1"
)]
fn nesterov_with_dampening_panics() {
    let _ = Sgd::new(0.1).momentum(0.9).dampening(0.1).nesterov(true);
}

#[test]
#[should_panic(
    expected = "Sgd: Nesterov momentum requires momentum > 0 and dampening 0, got momentum 0.0 and"
)]
fn removing_momentum_under_nesterov_panics() {
    let _ = Sgd::new(0.1).momentum(0.9).nesterov(true).momentum(0.0);
}

#[test]
#[should_panic(
    expected = "Sgd: the model's parameter buffers changed between steps (lengths [3], were [2])"
)]
fn changed_model_panics() {
    let mut opt = Sgd::new(0.1).momentum(0.9);
    let mut x = vec![1.0_f64, 2.0];
    opt.step(&mut x, &vec![1.0, 1.0]);
    let mut y = vec![1.0_f64, 2.0, 3.0];
    opt.step(&mut y, &vec![1.0, 1.0, 1.0]);
}

#[test]
#[should_panic(expected = "Sgd: the gradient has buffers of lengths [2] but the model has [3]")]
fn gradient_of_the_wrong_shape_panics() {
    let mut x = vec![1.0_f64, 2.0, 3.0];
    Sgd::new(0.1).step(&mut x, &vec![1.0, 1.0]);
}

#[test]
fn arrays_of_any_dimension_and_fixed_arrays() {
    let mut model = (array![[[1.0_f64]], [[2.0]]], [0.5_f32, 1.5]);
    let mut opt = Sgd::new(0.5);
    opt.step(&mut model, &(array![[[2.0]], [[2.0]]], [1.0, -1.0]));
    assert_eq!(model.0, array![[[0.0]], [[1.0]]]);
    assert_eq!(model.1, [0.0, 2.0]);
}
