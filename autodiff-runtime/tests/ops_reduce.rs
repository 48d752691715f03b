//! `ops` reductions, whole-array and along an axis: finite-difference checks in `f64` on
//! 1-D, 2-D, 3-D and dynamic-dimension inputs, every axis, the tie and `NaN` rules of
//! `max`/`min`, and errors.

mod ops_common;

use autodiff_runtime::ops;
use ndarray::{Array, Array1, ArrayD, Axis, Dimension, IxDyn, RemoveAxis, array};
use ops_common::*;
use rand::rngs::StdRng;

/// Whole-array reductions on one input, with a random scalar seed.
fn check_whole<D: Dimension + 'static>(rng: &mut StdRng, x: &Array<f64, D>) {
    let s = scalar_seed(rng);
    check_vjp(ops::sum, ops::sum_vjp, x, &s);
    check_vjp(ops::mean, ops::mean_vjp, x, &s);
    // Random continuous values have no ties: max and min are differentiable there.
    check_vjp(ops::max, ops::max_vjp, x, &s);
    check_vjp(ops::min, ops::min_vjp, x, &s);
}

/// Axis reductions along every axis of one input, with random seeds.
fn check_axes<D: RemoveAxis + 'static>(rng: &mut StdRng, x: &Array<f64, D>) {
    for axis in 0..x.ndim() {
        let seed = seed_like(rng, &ops::sum_axis(x, axis));
        check_vjp(
            |x| ops::sum_axis(x, axis),
            |x| ops::sum_axis_vjp(x, axis),
            x,
            &seed,
        );
        check_vjp(
            |x| ops::mean_axis(x, axis),
            |x| ops::mean_axis_vjp(x, axis),
            x,
            &seed,
        );
        check_vjp(
            |x| ops::max_axis(x, axis),
            |x| ops::max_axis_vjp(x, axis),
            x,
            &seed,
        );
        check_vjp(
            |x| ops::min_axis(x, axis),
            |x| ops::min_axis_vjp(x, axis),
            x,
            &seed,
        );
    }
}

#[test]
fn whole_array_reductions_match_finite_differences() {
    let mut rng = rng(11);
    let x = normalish(&mut rng, 7);
    check_whole(&mut rng, &x);
    let x = normalish(&mut rng, (3, 5));
    check_whole(&mut rng, &x);
    let x = normalish(&mut rng, (2, 3, 4));
    check_whole(&mut rng, &x);
    let x = normalish(&mut rng, IxDyn(&[3, 1, 2]));
    check_whole(&mut rng, &x);
}

#[test]
fn axis_reductions_match_finite_differences_along_every_axis() {
    let mut rng = rng(12);
    let x = normalish(&mut rng, 6);
    check_axes(&mut rng, &x);
    let x = normalish(&mut rng, (3, 5));
    check_axes(&mut rng, &x);
    let x = normalish(&mut rng, (2, 3, 4));
    check_axes(&mut rng, &x);
    let x = normalish(&mut rng, (4, 1, 3));
    check_axes(&mut rng, &x);
    let x = normalish(&mut rng, IxDyn(&[2, 3, 2]));
    check_axes(&mut rng, &x);
}

#[test]
fn values_match_ndarray() {
    let mut rng = rng(13);
    let x = normalish(&mut rng, (3, 4, 5));
    let s = x.sum();
    assert!((ops::sum(&x) - s).abs() < 1e-12);
    assert!((ops::mean(&x) - s / 60.0).abs() < 1e-12);
    for axis in 0..3 {
        assert_close(&ops::sum_axis(&x, axis), &x.sum_axis(Axis(axis)), 1e-12);
        assert_close(
            &ops::mean_axis(&x, axis),
            &x.mean_axis(Axis(axis)).unwrap(),
            1e-12,
        );
        let max = x.map_axis(Axis(axis), |l| l.fold(f64::MIN, |m, &v| m.max(v)));
        let min = x.map_axis(Axis(axis), |l| l.fold(f64::MAX, |m, &v| m.min(v)));
        assert_eq!(ops::max_axis(&x, axis), max);
        assert_eq!(ops::min_axis(&x, axis), min);
    }
    assert_eq!(ops::max(&x), x.fold(f64::MIN, |m, &v| m.max(v)));
    assert_eq!(ops::min(&x), x.fold(f64::MAX, |m, &v| m.min(v)));
}

// ---- ties and NaN ----

#[test]
fn ties_send_the_gradient_to_the_first_extremum() {
    let x = array![[3.0_f64, 1.0, 3.0], [1.0, 1.0, 0.0]];
    let (y, pullback) = ops::max_vjp(&x);
    assert_eq!(y, 3.0);
    assert_eq!(pullback(2.0), array![[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]);
    let (_, pullback) = ops::min_vjp(&array![1.0_f64, 0.0, 0.0]);
    assert_eq!(pullback(2.0), array![0.0, 2.0, 0.0]);

    let (y, pullback) = ops::max_axis_vjp(&x, 1);
    assert_eq!(y, array![3.0, 1.0]);
    assert_eq!(
        pullback(array![1.0, 2.0]),
        array![[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
    );
    let (y, pullback) = ops::min_axis_vjp(&x, 0);
    assert_eq!(y, array![1.0, 1.0, 0.0]);
    assert_eq!(
        pullback(array![1.0, 2.0, 3.0]),
        array![[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]]
    );
}

#[test]
fn nan_wins_and_takes_the_gradient() {
    let x = array![1.0_f64, f64::NAN, 5.0, f64::NAN];
    let (y, pullback) = ops::max_vjp(&x);
    assert!(y.is_nan());
    assert_eq!(pullback(1.0), array![0.0, 1.0, 0.0, 0.0]);
    let (y, pullback) = ops::min_axis_vjp(&x.clone().insert_axis(Axis(0)), 1);
    assert!(y[0].is_nan());
    assert_eq!(pullback(array![2.0]), array![[0.0, 2.0, 0.0, 0.0]]);
}

#[test]
fn mean_of_an_empty_array_is_nan() {
    assert!(ops::mean(&Array1::<f64>::zeros(0)).is_nan());
    let y = ops::mean_axis(&Array::<f64, _>::zeros((2, 0)), 1);
    assert_eq!(y.len(), 2);
    assert!(y.iter().all(|v| v.is_nan()));
}

// ---- errors ----

#[test]
#[should_panic(expected = "`max`: empty array of shape [0, 3]")]
fn max_of_an_empty_array_panics() {
    ops::max(&Array::<f64, _>::zeros((0, 3)));
}

#[test]
#[should_panic(expected = "`min_axis`: axis 1 is empty in an array of shape [2, 0]")]
fn min_along_an_empty_axis_panics() {
    ops::min_axis(&Array::<f64, _>::zeros((2, 0)), 1);
}

#[test]
#[should_panic(expected = "`sum_axis`: axis 2 is out of range for an array of shape [2, 3]")]
fn an_axis_out_of_range_panics() {
    ops::sum_axis(&Array::<f64, _>::zeros((2, 3)), 2);
}

#[test]
#[should_panic(expected = "`mean_axis` pullback: seed of shape [2] for an output of shape [3]")]
fn a_seed_of_the_wrong_shape_panics() {
    let (_, pullback) = ops::mean_axis_vjp(&Array::<f64, _>::zeros((2, 3)), 0);
    pullback(Array::zeros(2));
}

#[test]
fn dynamic_dimension_axis_reductions_keep_the_rank() {
    let x: ArrayD<f64> = Array::zeros(IxDyn(&[2, 3, 4]));
    assert_eq!(ops::sum_axis(&x, 1).shape(), &[2, 4]);
    let (_, pullback) = ops::max_axis_vjp(&x, 2);
    assert_eq!(pullback(Array::ones(IxDyn(&[2, 3]))).shape(), &[2, 3, 4]);
}
