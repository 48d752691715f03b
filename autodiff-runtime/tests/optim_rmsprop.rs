//! `RmsProp`: three steps against PyTorch's documented update.

mod optim_common;

use autodiff_runtime::optim::{Optimizer, RmsProp};
use optim_common::*;

/// PyTorch's RMSprop, element by element:
///
/// ```text
/// g ← g + λ θ
/// v ← α v + (1 − α) g²
/// ṽ ← v;   centered: ḡ ← α ḡ + (1 − α) g,  ṽ ← v − ḡ²
/// μ > 0:   b ← μ b + g / (√ṽ + ε),  θ ← θ − γ b
/// else:    θ ← θ − γ g / (√ṽ + ε)
/// ```
fn rmsprop_reference(lr: f64, alpha: f64, wd: f64, mu: f64, centered: bool) -> Vec<Vec<f64>> {
    let eps = 1e-8;
    let (mut v, mut b, mut g_avg) = ([0.0; 8], [0.0; 8], [0.0; 8]);
    reference(|_, i, theta, g| {
        let g = g + wd * theta;
        v[i] = alpha * v[i] + (1.0 - alpha) * g * g;
        let mut v_tilde = v[i];
        if centered {
            g_avg[i] = alpha * g_avg[i] + (1.0 - alpha) * g;
            v_tilde -= g_avg[i] * g_avg[i];
        }
        if mu > 0.0 {
            b[i] = mu * b[i] + g / (v_tilde.sqrt() + eps);
            theta - lr * b[i]
        } else {
            theta - lr * g / (v_tilde.sqrt() + eps)
        }
    })
}

// From the Python transcription (see optim_common).
const PY_PLAIN: [f64; 8] = [
    -0.279490773474136,
    -1.1147967397768241,
    1.1600259112319748,
    0.19915834560212275,
    2.7289089990184596,
    -3.0391300270300605,
    -0.5874740784760656,
    4.118392778917795,
];
const PY_FULL: [f64; 8] = [
    -0.0830550527201224,
    -0.7975008551557934,
    1.4320829200930634,
    -0.5240203039067606,
    2.1840050605415158,
    -1.916304327820882,
    -0.2681372790889192,
    2.9394779308135637,
];

#[test]
fn defaults() {
    // First step: v = 0.01 g², θ ← θ − γ g / (0.1 |g| + ε) = θ − 10 γ sign(g).
    let got = run(&mut RmsProp::new(0.1));
    assert!((got[0][0] - (0.5 - 0.1 * 0.3 / (0.1 * 0.3 + 1e-8))).abs() < 1e-12);
    check_optimizer(
        RmsProp::new(0.1),
        &rmsprop_reference(0.1, 0.99, 0.0, 0.0, false),
        &PY_PLAIN,
    );
}

#[test]
fn centered_momentum_weight_decay() {
    let opt = RmsProp::new(0.1)
        .alpha(0.9)
        .weight_decay(0.1)
        .momentum(0.5)
        .centered(true);
    check_optimizer(opt, &rmsprop_reference(0.1, 0.9, 0.1, 0.5, true), &PY_FULL);
}

#[test]
fn momentum_only_and_centered_only() {
    // The optional buffers are laid out by what is enabled; each alone must work too.
    for (mu, centered) in [(0.5, false), (0.0, true)] {
        let got = run(&mut RmsProp::new(0.1).momentum(mu).centered(centered));
        let want = rmsprop_reference(0.1, 0.99, 0.0, mu, centered);
        for (g, w) in got.iter().zip(&want) {
            assert_close(g, w, 1e-12);
        }
    }
}

#[test]
fn learning_rate_access() {
    let mut opt = RmsProp::new(1e-2);
    opt.set_learning_rate(0.5);
    assert_eq!(opt.learning_rate(), 0.5);
}

#[test]
#[should_panic(expected = "RmsProp: invalid alpha 1.5: must be in [0, 1]")]
fn alpha_above_one_panics() {
    let _ = RmsProp::new(1e-2).alpha(1.5);
}

#[test]
#[should_panic(expected = "RmsProp: invalid eps -1e-8: must be finite and > 0")]
fn negative_eps_panics() {
    let _ = RmsProp::new(1e-2).eps(-1e-8);
}

#[test]
#[should_panic(expected = "RmsProp: invalid momentum -0.9")]
fn negative_momentum_panics() {
    let _ = RmsProp::new(1e-2).momentum(-0.9);
}

#[test]
#[should_panic(expected = "RmsProp: invalid weight decay -1")]
fn negative_weight_decay_panics() {
    let _ = RmsProp::new(1e-2).weight_decay(-1.0);
}

#[test]
#[should_panic(expected = "RmsProp: invalid learning rate -0.01")]
fn negative_lr_panics() {
    let _ = RmsProp::new(-1e-2);
}
