//! `ops` elementwise math, `clip` and broadcasting arithmetic: finite-difference checks in
//! `f64` on 1-D, 2-D, 3-D and dynamic-dimension inputs, kinks, broadcasting in each
//! direction, and shape errors.

mod ops_common;

use autodiff_runtime::ops;
use ndarray::{Array, ArrayD, Dimension, IxDyn, array};
use ops_common::*;

/// Runs `check` on a 1-D, 2-D, 3-D and dynamic-dimension input made by `make`.
macro_rules! each_rank {
    ($rng:ident, $make:expr, |$x:ident| $check:expr) => {{
        let make = $make;
        {
            let $x = make(&mut $rng, &[7][..])
                .into_dimensionality::<ndarray::Ix1>()
                .unwrap();
            $check;
        }
        {
            let $x = make(&mut $rng, &[3, 5][..])
                .into_dimensionality::<ndarray::Ix2>()
                .unwrap();
            $check;
        }
        {
            let $x = make(&mut $rng, &[2, 3, 4][..])
                .into_dimensionality::<ndarray::Ix3>()
                .unwrap();
            $check;
        }
        {
            let $x: ArrayD<f64> = make(&mut $rng, &[2, 1, 3][..]);
            $check;
        }
    }};
}

fn any(rng: &mut rand::rngs::StdRng, shape: &[usize]) -> ArrayD<f64> {
    normalish(rng, IxDyn(shape))
}

fn positive(rng: &mut rand::rngs::StdRng, shape: &[usize]) -> ArrayD<f64> {
    uniform(rng, IxDyn(shape), 0.3, 3.0)
}

fn nonzero(rng: &mut rand::rngs::StdRng, shape: &[usize]) -> ArrayD<f64> {
    away_from_zero(rng, IxDyn(shape))
}

fn check_unary<D: Dimension + 'static, P: FnOnce(Array<f64, D>) -> Array<f64, D>>(
    rng: &mut rand::rngs::StdRng,
    f: impl Fn(&Array<f64, D>) -> Array<f64, D>,
    vjp: impl Fn(&Array<f64, D>) -> (Array<f64, D>, P),
    x: &Array<f64, D>,
) {
    let seed = seed_like(rng, &f(x));
    check_vjp(f, vjp, x, &seed);
}

// ---- unary math ----

#[test]
fn exp_ln_sqrt_match_finite_differences() {
    let mut rng = rng(1);
    each_rank!(rng, any, |x| check_unary(
        &mut rng,
        ops::exp,
        ops::exp_vjp,
        &x
    ));
    each_rank!(rng, positive, |x| check_unary(
        &mut rng,
        ops::ln,
        ops::ln_vjp,
        &x
    ));
    each_rank!(rng, positive, |x| check_unary(
        &mut rng,
        ops::sqrt,
        ops::sqrt_vjp,
        &x
    ));
}

#[test]
fn abs_tanh_sin_cos_match_finite_differences() {
    let mut rng = rng(2);
    each_rank!(rng, nonzero, |x| check_unary(
        &mut rng,
        ops::abs,
        ops::abs_vjp,
        &x
    ));
    each_rank!(rng, any, |x| check_unary(
        &mut rng,
        ops::tanh,
        ops::tanh_vjp,
        &x
    ));
    each_rank!(rng, any, |x| check_unary(
        &mut rng,
        ops::sin,
        ops::sin_vjp,
        &x
    ));
    each_rank!(rng, any, |x| check_unary(
        &mut rng,
        ops::cos,
        ops::cos_vjp,
        &x
    ));
}

#[test]
fn powi_matches_finite_differences_for_several_exponents() {
    let mut rng = rng(3);
    for n in [-2, 0, 1, 2, 3, 5] {
        each_rank!(rng, nonzero, |x| check_unary(
            &mut rng,
            |x: &Array<f64, _>| ops::powi(x, n),
            |x: &Array<f64, _>| ops::powi_vjp(x, n),
            &x
        ));
    }
}

#[test]
fn kinks_follow_their_conventions() {
    // abs'(0) = 0
    let (_, pullback) = ops::abs_vjp(&array![0.0_f64, -0.0]);
    assert_eq!(pullback(array![3.0, -2.0]), array![0.0, 0.0]);
    // sqrt'(0) = +inf
    let (_, pullback) = ops::sqrt_vjp(&array![0.0_f64]);
    assert_eq!(pullback(array![1.0]), array![f64::INFINITY]);
    // powi with n = 0 has a zero derivative everywhere, 0 included
    let (y, pullback) = ops::powi_vjp(&array![0.0_f64, 2.0], 0);
    assert_eq!(y, array![1.0, 1.0]);
    assert_eq!(pullback(array![1.0, 1.0]), array![0.0, 0.0]);
}

#[test]
fn f32_values_agree_with_f64() {
    let mut rng = rng(4);
    let x = positive(&mut rng, &[4, 3]);
    let x32 = x.mapv(|v| v as f32);
    let (y, pullback) = ops::ln_vjp(&x32);
    let d = pullback(Array::ones(y.raw_dim()));
    assert_close(&y.mapv(f64::from), &ops::ln(&x), 1e-6);
    assert_close(&d.mapv(f64::from), &x.mapv(|v| 1.0 / v), 1e-6);
}

// ---- clip ----

#[test]
fn clip_matches_finite_differences_for_x_and_both_bounds() {
    let mut rng = rng(5);
    // Values placed away from the bounds -0.5 and 0.7 (the kinks).
    let x = uniform(&mut rng, (4, 5), -1.5, 1.5).mapv(|v: f64| {
        if (v + 0.5).abs() < 0.05 || (v - 0.7).abs() < 0.05 {
            v + 0.2
        } else {
            v
        }
    });
    let y = ops::clip(&x, -0.5, 0.7);
    let seed = seed_like(&mut rng, &y);
    check_vjp(
        |(x, lo, hi): &(Array<f64, _>, f64, f64)| ops::clip(x, *lo, *hi),
        |(x, lo, hi): &(Array<f64, _>, f64, f64)| ops::clip_vjp(x, *lo, *hi),
        &(x, -0.5, 0.7),
        &seed,
    );
}

#[test]
fn clip_at_a_bound_gives_the_gradient_to_x() {
    let (y, pullback) = ops::clip_vjp(&array![0.0_f64, 1.0, f64::NAN], 0.0, 1.0);
    assert_eq!(y.slice(ndarray::s![..2]), array![0.0, 1.0]);
    assert!(y[2].is_nan());
    let (d_x, d_lo, d_hi) = pullback(array![2.0, 3.0, 4.0]);
    assert_eq!(d_x, array![2.0, 3.0, 4.0]);
    assert_eq!((d_lo, d_hi), (0.0, 0.0));
}

#[test]
#[should_panic(expected = "`clip`: lower bound 2 is greater than upper bound 1")]
fn clip_with_crossed_bounds_panics() {
    ops::clip(&array![0.0_f64], 2.0, 1.0);
}

// ---- broadcasting arithmetic ----

/// Checks `op` on `(a, b)` against finite differences, with a random seed.
macro_rules! check_binary {
    ($rng:ident, $op:ident, $vjp:ident, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        let y = ops::$op(&a, &b);
        let seed = seed_like(&mut $rng, &y);
        check_vjp(
            |(a, b): &(_, _)| ops::$op(a, b),
            |(a, b): &(_, _)| ops::$vjp(a, b),
            &(a, b),
            &seed,
        );
    }};
}

/// Every broadcasting direction: same shape, a trailing vector, a column against a row,
/// a missing leading axis on the left, size-1 axes in 3-D, a 0-D operand, and dynamic
/// dimensions.
macro_rules! each_broadcast {
    ($rng:ident, $make_b:ident, $op:ident, $vjp:ident) => {{
        check_binary!(
            $rng,
            $op,
            $vjp,
            normalish(&mut $rng, (3, 4)),
            $make_b(&mut $rng, (3, 4))
        );
        check_binary!(
            $rng,
            $op,
            $vjp,
            normalish(&mut $rng, (3, 4)),
            $make_b(&mut $rng, 4)
        );
        check_binary!(
            $rng,
            $op,
            $vjp,
            normalish(&mut $rng, (3, 1)),
            $make_b(&mut $rng, (1, 4))
        );
        check_binary!(
            $rng,
            $op,
            $vjp,
            normalish(&mut $rng, 5),
            $make_b(&mut $rng, (2, 5))
        );
        check_binary!(
            $rng,
            $op,
            $vjp,
            normalish(&mut $rng, (2, 3, 4)),
            $make_b(&mut $rng, (3, 1))
        );
        check_binary!(
            $rng,
            $op,
            $vjp,
            normalish(&mut $rng, (2, 1, 4)),
            $make_b(&mut $rng, (2, 3, 1))
        );
        check_binary!(
            $rng,
            $op,
            $vjp,
            normalish(&mut $rng, ()),
            $make_b(&mut $rng, (2, 3))
        );
        check_binary!(
            $rng,
            $op,
            $vjp,
            normalish(&mut $rng, IxDyn(&[2, 3])),
            $make_b(&mut $rng, IxDyn(&[3]))
        );
    }};
}

#[test]
fn add_and_sub_match_finite_differences_in_every_broadcast_direction() {
    let mut rng = rng(6);
    each_broadcast!(rng, normalish, add, add_vjp);
    each_broadcast!(rng, normalish, sub, sub_vjp);
}

#[test]
fn mul_and_div_match_finite_differences_in_every_broadcast_direction() {
    let mut rng = rng(7);
    each_broadcast!(rng, normalish, mul, mul_vjp);
    each_broadcast!(rng, away_from_zero, div, div_vjp);
}

#[test]
fn broadcast_values_match_ndarray() {
    let mut rng = rng(8);
    let a = normalish(&mut rng, (2, 3, 4));
    let b = away_from_zero(&mut rng, (3, 1));
    assert_eq!(ops::add(&a, &b), &a + &b);
    assert_eq!(ops::sub(&b, &a), &b - &a);
    assert_eq!(ops::mul(&a, &b), &a * &b);
    assert_eq!(ops::div(&a, &b), &a / &b);
}

#[test]
#[should_panic(expected = "`add`: arrays of shapes [3, 4] and [3] cannot be broadcast together")]
fn incompatible_shapes_panic_with_both_shapes() {
    ops::add(&Array::<f64, _>::zeros((3, 4)), &Array::zeros(3));
}

#[test]
#[should_panic(expected = "`mul` pullback: seed of shape [2, 1] for an output of shape [2, 2]")]
fn a_seed_of_the_wrong_shape_panics() {
    let (_, pullback) = ops::mul_vjp(&array![[1.0_f64, 2.0], [3.0, 4.0]], &array![1.0, 2.0]);
    pullback(Array::zeros((2, 1)));
}

#[test]
#[should_panic(expected = "`exp` pullback: seed of shape [3] for an output of shape [2]")]
fn a_unary_seed_of_the_wrong_shape_panics() {
    let (_, pullback) = ops::exp_vjp(&array![1.0_f64, 2.0]);
    pullback(array![1.0, 1.0, 1.0]);
}

#[test]
fn outputs_and_gradients_are_in_standard_layout() {
    let x = array![[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]].reversed_axes();
    assert!(!x.is_standard_layout());
    let (y, pullback) = ops::exp_vjp(&x);
    assert!(y.is_standard_layout());
    assert!(pullback(Array::ones((2, 3)).reversed_axes()).is_standard_layout());
    let (y, pullback) = ops::mul_vjp(&x, &array![2.0]);
    assert!(y.is_standard_layout());
    let (d_a, _) = pullback(Array::ones((3, 2)));
    assert!(d_a.is_standard_layout());
}
