//! `Adam` and `AdamW`: three steps against PyTorch's documented updates.

mod optim_common;

use autodiff_runtime::optim::{Adam, AdamW, Optimizer};
use optim_common::*;

/// PyTorch's Adam (`decoupled = false`) and AdamW (`decoupled = true`), element by element:
///
/// ```text
/// AdamW: θ ← θ − γ λ θ          Adam: g ← g + λ θ
/// m ← β1 m + (1 − β1) g
/// v ← β2 v + (1 − β2) g²
/// m̂ ← m / (1 − β1ᵗ)
/// v̂ ← v / (1 − β2ᵗ)            AMSGrad: v_max ← max(v_max, v), v̂ ← v_max / (1 − β2ᵗ)
/// θ ← θ − γ m̂ / (√v̂ + ε)
/// ```
fn adam_reference(
    lr: f64,
    b1: f64,
    b2: f64,
    wd: f64,
    amsgrad: bool,
    decoupled: bool,
) -> Vec<Vec<f64>> {
    let eps = 1e-8;
    let (mut m, mut v, mut v_max) = ([0.0; 8], [0.0; 8], [0.0_f64; 8]);
    reference(|t, i, mut theta, mut g| {
        if decoupled {
            theta -= lr * wd * theta;
        } else {
            g += wd * theta;
        }
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        let m_hat = m[i] / (1.0 - b1.powi(t as i32));
        v_max[i] = v_max[i].max(v[i]);
        let v_hat = if amsgrad { v_max[i] } else { v[i] } / (1.0 - b2.powi(t as i32));
        theta - lr * m_hat / (v_hat.sqrt() + eps)
    })
}

// From the Python transcription (see optim_common).
const PY_ADAM: [f64; 8] = [
    0.29017109101043004,
    -0.9781754749638348,
    1.8194356039181128,
    0.21801066847506495,
    1.7495841000195613,
    -1.049999995714285,
    -0.05245977823406551,
    3.215601314685202,
];
const PY_ADAM_L2_AMSGRAD: [f64; 8] = [
    0.2811838307811062,
    -0.9231146186572513,
    1.8020904239393878,
    0.11036122461228101,
    1.7320919525244431,
    -1.0498147901168173,
    -0.04778790043621492,
    2.971588909642593,
];
const PY_ADAMW: [f64; 8] = [
    0.2889595968949429,
    -0.9753417636022937,
    1.8136815237736175,
    0.2173358319021611,
    1.7447954805572692,
    -1.0474523449685693,
    -0.05230929723517557,
    3.206353158234635,
];
const PY_ADAMW_AMSGRAD: [f64; 8] = [
    0.28777918259710134,
    -0.9578861288293314,
    1.7711721348117129,
    0.2139361817039393,
    1.6950642943512595,
    -1.024734245757,
    -0.04950814421901295,
    3.1133796242988034,
];

#[test]
fn adam_defaults() {
    // First step: m̂ = g, v̂ = g², so every element with g ≠ 0 moves by γ g / (|g| + ε).
    let got = run(&mut Adam::new(0.1));
    assert!((got[0][0] - (0.5 - 0.1 * 0.3 / (0.3 + 1e-8))).abs() < 1e-15);
    assert_eq!(got[0][3], 0.25); // g = 0
    check_optimizer(
        Adam::new(0.1),
        &adam_reference(0.1, 0.9, 0.999, 0.0, false, false),
        &PY_ADAM,
    );
}

#[test]
fn adam_l2_weight_decay_and_amsgrad() {
    let opt = Adam::new(0.1)
        .betas(0.8, 0.9)
        .weight_decay(0.1)
        .amsgrad(true);
    check_optimizer(
        opt,
        &adam_reference(0.1, 0.8, 0.9, 0.1, true, false),
        &PY_ADAM_L2_AMSGRAD,
    );
}

#[test]
fn adamw_defaults() {
    // Default weight decay 0.01, decoupled.
    check_optimizer(
        AdamW::new(0.1),
        &adam_reference(0.1, 0.9, 0.999, 0.01, false, true),
        &PY_ADAMW,
    );
}

#[test]
fn adamw_amsgrad() {
    let opt = AdamW::new(0.1)
        .betas(0.8, 0.9)
        .weight_decay(0.1)
        .amsgrad(true);
    check_optimizer(
        opt,
        &adam_reference(0.1, 0.8, 0.9, 0.1, true, true),
        &PY_ADAMW_AMSGRAD,
    );
}

#[test]
fn eps_is_outside_the_square_root() {
    // v̂ = 0 with g = 0 after a step with g ≠ 0 is impossible, so use a large ε instead:
    // θ = 1 − γ g / (|g| + ε) at the first step.
    let mut x = 1.0_f64;
    Adam::new(1.0).eps(1.0).step(&mut x, &3.0);
    assert!((x - (1.0 - 3.0 / 4.0)).abs() < 1e-15);
}

#[test]
fn learning_rate_access() {
    let mut opt = AdamW::new(1e-3);
    opt.set_learning_rate(5e-4);
    assert_eq!(opt.learning_rate(), 5e-4);
}

#[test]
#[should_panic(expected = "Adam: invalid beta1 1.0: must be in [0, 1)")]
fn beta1_of_one_panics() {
    let _ = Adam::new(1e-3).betas(1.0, 0.999);
}

#[test]
#[should_panic(expected = "AdamW: invalid beta2 -0.1: must be in [0, 1)")]
fn negative_beta2_panics() {
    let _ = AdamW::new(1e-3).betas(0.9, -0.1);
}

#[test]
#[should_panic(expected = "Adam: invalid beta2 NaN")]
fn nan_beta_panics() {
    let _ = Adam::new(1e-3).betas(0.9, f64::NAN);
}

#[test]
#[should_panic(expected = "Adam: invalid eps 0.0: must be finite and > 0")]
fn zero_eps_panics() {
    let _ = Adam::new(1e-3).eps(0.0);
}

#[test]
#[should_panic(expected = "AdamW: invalid weight decay -0.01")]
fn negative_weight_decay_panics() {
    let _ = AdamW::new(1e-3).weight_decay(-0.01);
}

#[test]
#[should_panic(expected = "AdamW: invalid learning rate inf")]
fn infinite_lr_panics() {
    let _ = AdamW::new(f64::INFINITY);
}

#[test]
#[should_panic(expected = "AdamW: the model's parameter buffers changed between steps")]
fn changed_model_panics_with_the_optimizer_name() {
    let mut opt = AdamW::new(1e-3);
    opt.step(&mut vec![1.0_f64], &vec![1.0]);
    opt.step(&mut (1.0_f64, 2.0_f64), &(1.0, 1.0));
}
