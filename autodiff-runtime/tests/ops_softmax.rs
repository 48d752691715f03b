//! `ops::softmax`, `log_softmax` and `logsumexp`: finite-difference checks in `f64` along
//! every axis, the identities between them, and numerical stability for logits of
//! magnitude 1e4 in both widths.

mod ops_common;

use autodiff_runtime::check::{Config, Stencil};
use autodiff_runtime::ops;
use ndarray::{Array, Axis, Dimension, IxDyn, RemoveAxis, array};
use ops_common::*;
use rand::rngs::StdRng;

fn check_every_axis<D: RemoveAxis + 'static>(rng: &mut StdRng, x: &Array<f64, D>) {
    for axis in 0..x.ndim() {
        let seed = seed_like(rng, x);
        check_vjp(
            |x| ops::softmax(x, axis),
            |x| ops::softmax_vjp(x, axis),
            x,
            &seed,
        );
        check_vjp(
            |x| ops::log_softmax(x, axis),
            |x| ops::log_softmax_vjp(x, axis),
            x,
            &seed,
        );
        let seed = seed_like(rng, &ops::logsumexp(x, axis));
        check_vjp(
            |x| ops::logsumexp(x, axis),
            |x| ops::logsumexp_vjp(x, axis),
            x,
            &seed,
        );
    }
}

#[test]
fn softmax_family_matches_finite_differences_along_every_axis() {
    let mut rng = rng(31);
    let x = normalish(&mut rng, 5);
    check_every_axis(&mut rng, &x);
    let x = normalish(&mut rng, (3, 4));
    check_every_axis(&mut rng, &x);
    let x = normalish(&mut rng, (2, 3, 4));
    check_every_axis(&mut rng, &x);
    let x = normalish(&mut rng, IxDyn(&[3, 1, 2]));
    check_every_axis(&mut rng, &x);
}

#[test]
fn identities_hold() {
    let mut rng = rng(32);
    let x = normalish(&mut rng, (3, 4, 5));
    for axis in 0..3 {
        let p = ops::softmax(&x, axis);
        assert_close(
            &p.sum_axis(Axis(axis)),
            &Array::ones(p.raw_dim().remove_axis(Axis(axis))),
            1e-12,
        );
        assert_close(&ops::log_softmax(&x, axis), &p.mapv(f64::ln), 1e-12);
        let lse = ops::logsumexp(&x, axis);
        assert_close(
            &lse,
            &x.mapv(f64::exp).sum_axis(Axis(axis)).mapv(f64::ln),
            1e-12,
        );
    }
}

fn assert_finite<D: Dimension>(a: &Array<f64, D>) {
    assert!(a.iter().all(|v| v.is_finite()), "not finite: {a}");
}

#[test]
fn logits_of_magnitude_1e4_give_finite_values_and_gradients() {
    let mut rng = rng(33);
    let x = normalish(&mut rng, (4, 6)) * 1e4;
    let seed = seed_like(&mut rng, &x);
    for axis in 0..2 {
        let (y, pullback) = ops::softmax_vjp(&x, axis);
        assert_finite(&y);
        assert_finite(&pullback(seed.clone()));
        let (y, pullback) = ops::log_softmax_vjp(&x, axis);
        assert_finite(&y);
        assert_finite(&pullback(seed.clone()));
        let (y, pullback) = ops::logsumexp_vjp(&x, axis);
        assert_finite(&y);
        assert_finite(&pullback(Array::ones(y.raw_dim())));
    }
    // Shift invariance: softmax(x + c) = softmax(x), logsumexp(x + c) = logsumexp(x) + c.
    let x = normalish(&mut rng, (3, 5));
    let shifted = &x + 1e4;
    assert_close(&ops::softmax(&shifted, 1), &ops::softmax(&x, 1), 1e-10);
    assert_close(
        &ops::log_softmax(&(&x - 1e4), 1),
        &ops::log_softmax(&x, 1),
        1e-9,
    );
    assert_close(
        &(ops::logsumexp(&shifted, 1) - 1e4),
        &ops::logsumexp(&x, 1),
        1e-9,
    );
    // The same in f32, with a gap of 1e4 between the logits of a row.
    let x32 = array![[1e4_f32, 0.0, -1e4], [-1e4, -1e4, -1e4]];
    let (y, pullback) = ops::log_softmax_vjp(&x32, 1);
    assert!(y.iter().all(|v| v.is_finite()));
    assert!(
        pullback(array![[1.0, -0.5, 0.25], [0.5, 0.5, 0.5]])
            .iter()
            .all(|v| v.is_finite())
    );
    assert_eq!(
        ops::softmax(&x32, 1),
        array![[1.0, 0.0, 0.0], [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]]
    );
    assert_eq!(ops::logsumexp(&x32, 1)[0], 1e4);
}

#[test]
fn gradients_are_correct_at_large_magnitudes() {
    // Finite differences at logits around 1e4: rounding in x + h is ~1e-12 there, so a
    // larger step with a fourth-order stencil keeps the estimate accurate.
    let mut rng = rng(34);
    let x = normalish(&mut rng, (2, 4)) + 1e4;
    let seed = seed_like(&mut rng, &x);
    let cfg = Config::default().step(1e-3).stencil(Stencil::Central4);
    check_vjp_with(
        &cfg,
        |x| ops::log_softmax(x, 1),
        |x| ops::log_softmax_vjp(x, 1),
        &x,
        &seed,
    );
    check_vjp_with(
        &cfg,
        |x| ops::softmax(x, 0),
        |x| ops::softmax_vjp(x, 0),
        &x,
        &seed,
    );
}

#[test]
fn negative_infinity_is_a_zero_probability() {
    let x = array![
        [0.0_f64, f64::NEG_INFINITY],
        [f64::NEG_INFINITY, f64::NEG_INFINITY]
    ];
    let lse = ops::logsumexp(&x, 1);
    assert_eq!(lse, array![0.0, f64::NEG_INFINITY]);
    assert_eq!(
        ops::softmax(&x.slice(ndarray::s![..1, ..]).to_owned(), 1),
        array![[1.0, 0.0]]
    );
}

#[test]
#[should_panic(expected = "`softmax`: axis 2 is out of range for an array of shape [3, 4]")]
fn an_axis_out_of_range_panics() {
    ops::softmax(&Array::<f64, _>::zeros((3, 4)), 2);
}
