//! Gradient checks of the float-method rules (`__private::method`) against central finite
//! differences, for scalars and (elementwise, broadcasting) arrays, into every kind of
//! accumulator; and the kink conventions.

mod rules_common;

use autodiff_runtime::__private::method::*;
use autodiff_runtime::__private::{Adjoint, finish, meta, zero_adj};
use autodiff_runtime::Real;
use ndarray::{Array1, Array2, Ix1, Ix2, array};
use rules_common::{check_rule, fill};

/// Checks a unary rule on a scalar, a non-square array and an array view.
macro_rules! unary_suite {
    ($op:ident, $lo:expr, $hi:expr, |$d:ident, $x:ident, $dx:ident| $call:expr) => {
        check_rule!(concat!(stringify!($op), " ()"),
            inputs: [scalar $x = $lo + ($hi - $lo) * 0.3217_f64],
            forward: $op(&$x),
            backs: [scalar $x => |$d, $dx| $call]);
        check_rule!(concat!(stringify!($op), " (2,3)"),
            inputs: [array $x = fill::<Ix2>(&[2, 3], $lo, $hi)],
            forward: $op(&$x),
            backs: [array $x => |$d, $dx| $call]);
        check_rule!(concat!(stringify!($op), " (5) by reference"),
            inputs: [array $x = fill::<Ix1>(&[5], $lo, $hi)],
            forward: $op(&&$x),
            backs: [array $x => |$d, $dx| {
                let $x = $x.view();
                $call
            }]);
    };
}

#[test]
fn unary_rules_keeping_the_input() {
    unary_suite!(sin, -1.2, 1.2, |d, x, dx| sin_back(d, &x, dx));
    unary_suite!(cos, -1.2, 1.2, |d, x, dx| cos_back(d, &x, dx));
    unary_suite!(tan, -1.2, 1.2, |d, x, dx| tan_back(d, &x, dx));
    unary_suite!(asin, -0.9, 0.9, |d, x, dx| asin_back(d, &x, dx));
    unary_suite!(acos, -0.9, 0.9, |d, x, dx| acos_back(d, &x, dx));
    unary_suite!(atan, -2.0, 2.0, |d, x, dx| atan_back(d, &x, dx));
    unary_suite!(sinh, -2.0, 2.0, |d, x, dx| sinh_back(d, &x, dx));
    unary_suite!(cosh, -2.0, 2.0, |d, x, dx| cosh_back(d, &x, dx));
    unary_suite!(ln, 0.2, 3.0, |d, x, dx| ln_back(d, &x, dx));
    unary_suite!(log10, 0.2, 3.0, |d, x, dx| log10_back(d, &x, dx));
    unary_suite!(log2, 0.2, 3.0, |d, x, dx| log2_back(d, &x, dx));
    unary_suite!(ln_1p, -0.5, 2.0, |d, x, dx| ln_1p_back(d, &x, dx));
    unary_suite!(abs, -2.0, 2.0, |d, x, dx| abs_back(d, &x, dx));
    unary_suite!(signum, -2.0, 2.0, |d, x, dx| signum_back(d, &x, dx));
    unary_suite!(recip, 0.3, 2.0, |d, x, dx| recip_back(d, &x, dx));
    unary_suite!(recip, -2.0, -0.3, |d, x, dx| recip_back(d, &x, dx));
}

#[test]
fn unary_rules_keeping_the_output() {
    unary_suite!(exp, -1.0, 1.5, |d, x, dx| exp_back(d, &exp(&x), dx));
    unary_suite!(exp2, -1.0, 1.5, |d, x, dx| exp2_back(d, &exp2(&x), dx));
    unary_suite!(exp_m1, -1.0, 1.5, |d, x, dx| exp_m1_back(
        d,
        &exp_m1(&x),
        dx
    ));
    unary_suite!(sqrt, 0.2, 3.0, |d, x, dx| sqrt_back(d, &sqrt(&x), dx));
    unary_suite!(cbrt, 0.2, 3.0, |d, x, dx| cbrt_back(d, &cbrt(&x), dx));
    unary_suite!(cbrt, -3.0, -0.2, |d, x, dx| cbrt_back(d, &cbrt(&x), dx));
    unary_suite!(tanh, -2.0, 2.0, |d, x, dx| tanh_back(d, &tanh(&x), dx));
}

#[test]
fn powi_matches_finite_differences() {
    for n in [-3, -1, 1, 2, 3, 5] {
        check_rule!("powi ()",
            inputs: [scalar x = 1.37_f64],
            forward: powi(&x, n),
            backs: [scalar x => |d, dx| powi_back(d, &x, n, dx)]);
        check_rule!("powi (2,3)",
            inputs: [array x = fill::<Ix2>(&[2, 3], -2.0, -0.3)],
            forward: powi(&x, n),
            backs: [array x => |d, dx| powi_back(d, &x, n, dx)]);
    }
}

/// Checks a binary rule on scalars, arrays, arrays with scalars and row broadcasting.
macro_rules! binary_suite {
    ($op:ident, a: ($alo:expr, $ahi:expr), b: ($blo:expr, $bhi:expr),
        |$d:ident, $a:ident, $b:ident, $dx:ident| lhs: $lcall:expr, rhs: $rcall:expr) => {
        check_rule!(concat!(stringify!($op), " ()x()"),
            inputs: [scalar $a = $alo + ($ahi - $alo) * 0.3217_f64, scalar $b = $blo + ($bhi - $blo) * 0.7033_f64],
            forward: $op(&$a, &$b),
            backs: [scalar $a => |$d, $dx| $lcall, scalar $b => |$d, $dx| $rcall]);
        check_rule!(concat!(stringify!($op), " (2,3)x(2,3)"),
            inputs: [array $a = fill::<Ix2>(&[2, 3], $alo, $ahi), array $b = fill::<Ix2>(&[2, 3], $blo, $bhi).mapv(|v| $blo + $bhi - v)],
            forward: $op(&$a, &$b),
            backs: [array $a => |$d, $dx| $lcall, array $b => |$d, $dx| $rcall]);
        check_rule!(concat!(stringify!($op), " (2,3)x(3)"),
            inputs: [array $a = fill::<Ix2>(&[2, 3], $alo, $ahi), array $b = fill::<Ix1>(&[3], $blo, $bhi).mapv(|v| $blo + $bhi - v)],
            forward: $op(&$a, &$b),
            backs: [array $a => |$d, $dx| $lcall, array $b => |$d, $dx| $rcall]);
        check_rule!(concat!(stringify!($op), " (4,1)x(1,3)"),
            inputs: [array $a = fill::<Ix2>(&[4, 1], $alo, $ahi), array $b = fill::<Ix2>(&[1, 3], $blo, $bhi)],
            forward: $op(&$a, &$b),
            backs: [array $a => |$d, $dx| $lcall, array $b => |$d, $dx| $rcall]);
        check_rule!(concat!(stringify!($op), " (2,3)x()"),
            inputs: [array $a = fill::<Ix2>(&[2, 3], $alo, $ahi), scalar $b = $blo + ($bhi - $blo) * 0.4189_f64],
            forward: $op(&$a, &$b),
            backs: [array $a => |$d, $dx| $lcall, scalar $b => |$d, $dx| $rcall]);
        check_rule!(concat!(stringify!($op), " ()x(3,2)"),
            inputs: [scalar $a = $alo + ($ahi - $alo) * 0.5791_f64, array $b = fill::<Ix2>(&[3, 2], $blo, $bhi)],
            forward: $op(&$a, &$b),
            backs: [scalar $a => |$d, $dx| $lcall, array $b => |$d, $dx| $rcall]);
    };
}

#[test]
fn binary_rules_match_finite_differences() {
    binary_suite!(powf, a: (0.4, 2.5), b: (-1.5, 2.5),
        |d, x, p, dx| lhs: powf_back_lhs(d, &x, &p, dx), rhs: powf_back_rhs(d, &x, &p, dx));
    binary_suite!(log, a: (0.3, 3.0), b: (1.5, 4.0),
        |d, x, b, dx| lhs: log_back_lhs(d, &x, &b, dx), rhs: log_back_rhs(d, &x, &b, dx));
    binary_suite!(log, a: (0.3, 3.0), b: (0.2, 0.8),
        |d, x, b, dx| lhs: log_back_lhs(d, &x, &b, dx), rhs: log_back_rhs(d, &x, &b, dx));
    binary_suite!(atan2, a: (-2.0, 2.0), b: (-1.7, 2.3),
        |d, a, b, dx| lhs: atan2_back_lhs(d, &a, &b, dx), rhs: atan2_back_rhs(d, &a, &b, dx));
    binary_suite!(hypot, a: (-2.0, 2.0), b: (-1.7, 2.3),
        |d, a, b, dx| lhs: hypot_back_lhs(d, &a, &b, dx), rhs: hypot_back_rhs(d, &a, &b, dx));
    binary_suite!(max, a: (-2.0, 2.0), b: (-1.7, 2.3),
        |d, a, b, dx| lhs: max_back_lhs(d, &a, &b, dx), rhs: max_back_rhs(d, &a, &b, dx));
    binary_suite!(min, a: (-2.0, 2.0), b: (-1.7, 2.3),
        |d, a, b, dx| lhs: min_back_lhs(d, &a, &b, dx), rhs: min_back_rhs(d, &a, &b, dx));
}

#[test]
fn clamp_matches_finite_differences() {
    check_rule!("clamp ()",
    inputs: [scalar x = 0.37_f64, scalar lo = -0.5_f64, scalar hi = 0.8_f64],
    forward: clamp(&x, &lo, &hi),
    backs: [
        scalar x => |d, dx| clamp_back_0(d, &x, &lo, &hi, dx),
        scalar lo => |d, dx| clamp_back_1(d, &x, &lo, &hi, dx),
        scalar hi => |d, dx| clamp_back_2(d, &x, &lo, &hi, dx),
    ]);
    for x0 in [-0.93_f64, 1.21] {
        check_rule!("clamp () outside",
        inputs: [scalar x = x0, scalar lo = -0.5_f64, scalar hi = 0.8_f64],
        forward: clamp(&x, &lo, &hi),
        backs: [
            scalar x => |d, dx| clamp_back_0(d, &x, &lo, &hi, dx),
            scalar lo => |d, dx| clamp_back_1(d, &x, &lo, &hi, dx),
            scalar hi => |d, dx| clamp_back_2(d, &x, &lo, &hi, dx),
        ]);
    }
    check_rule!("clamp (3,4) with scalar bounds",
    inputs: [array x = fill::<Ix2>(&[3, 4], -2.0, 2.0), scalar lo = -0.55_f64, scalar hi = 0.85_f64],
    forward: clamp(&x, &lo, &hi),
    backs: [
        array x => |d, dx| clamp_back_0(d, &x, &lo, &hi, dx),
        scalar lo => |d, dx| clamp_back_1(d, &x, &lo, &hi, dx),
        scalar hi => |d, dx| clamp_back_2(d, &x, &lo, &hi, dx),
    ]);
    check_rule!("clamp (3,4) with row and column bounds",
    inputs: [
        array x = fill::<Ix2>(&[3, 4], -2.0, 2.0),
        array lo = fill::<Ix1>(&[4], -1.0, -0.2),
        array hi = fill::<Ix2>(&[3, 1], 0.3, 1.1),
    ],
    forward: clamp(&x, &lo, &hi),
    backs: [
        array x => |d, dx| clamp_back_0(d, &x, &lo, &hi, dx),
        array lo => |d, dx| clamp_back_1(d, &x, &lo, &hi, dx),
        array hi => |d, dx| clamp_back_2(d, &x, &lo, &hi, dx),
    ]);
}

#[test]
fn mul_add_matches_finite_differences() {
    check_rule!("mul_add ()",
    inputs: [scalar a = 0.37_f64, scalar b = -1.3_f64, scalar c = 0.8_f64],
    forward: mul_add(&a, &b, &c),
    backs: [
        scalar a => |d, dx| mul_add_back_0(d, &a, &b, &c, dx),
        scalar b => |d, dx| mul_add_back_1(d, &a, &b, &c, dx),
        scalar c => |d, dx| mul_add_back_2(d, &a, &b, &c, dx),
    ]);
    check_rule!("mul_add (2,3) with scalars",
    inputs: [array a = fill::<Ix2>(&[2, 3], -2.0, 2.0), scalar b = -1.3_f64, scalar c = 0.8_f64],
    forward: mul_add(&a, &b, &c),
    backs: [
        array a => |d, dx| mul_add_back_0(d, &a, &b, &c, dx),
        scalar b => |d, dx| mul_add_back_1(d, &a, &b, &c, dx),
        scalar c => |d, dx| mul_add_back_2(d, &a, &b, &c, dx),
    ]);
    check_rule!("mul_add (2,3) with a row and a column",
    inputs: [
        array a = fill::<Ix2>(&[2, 3], -2.0, 2.0),
        array b = fill::<Ix1>(&[3], -1.0, 1.5),
        array c = fill::<Ix2>(&[2, 1], 0.3, 1.1),
    ],
    forward: mul_add(&a, &b, &c),
    backs: [
        array a => |d, dx| mul_add_back_0(d, &a, &b, &c, dx),
        array b => |d, dx| mul_add_back_1(d, &a, &b, &c, dx),
        array c => |d, dx| mul_add_back_2(d, &a, &b, &c, dx),
    ]);
}

fn grad1(back: impl Fn(&f64, &mut f64)) -> f64 {
    let mut dx = f64::adjoint_zero();
    back(&1.0, &mut dx);
    finish(dx, &meta(&0.0_f64))
}

#[test]
fn kink_conventions() {
    assert_eq!(grad1(|d, dx| abs_back(d, &0.0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| abs_back(d, &-0.0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| abs_back(d, &-2.0, dx)), -1.0);
    assert_eq!(grad1(|d, dx| signum_back(d, &0.0, dx)), 0.0);
    // ties of max/min go to the receiver
    assert_eq!(grad1(|d, dx| max_back_lhs(d, &1.5, &1.5, dx)), 1.0);
    assert_eq!(grad1(|d, dx| max_back_rhs(d, &1.5, &1.5, dx)), 0.0);
    assert_eq!(grad1(|d, dx| min_back_lhs(d, &1.5, &1.5, dx)), 1.0);
    assert_eq!(grad1(|d, dx| min_back_rhs(d, &1.5, &1.5, dx)), 0.0);
    // NaN operands: the gradient follows the value f64::max/min return
    assert_eq!(grad1(|d, dx| max_back_lhs(d, &1.0, &f64::NAN, dx)), 1.0);
    assert_eq!(grad1(|d, dx| max_back_rhs(d, &f64::NAN, &1.0, dx)), 1.0);
    assert_eq!(grad1(|d, dx| min_back_lhs(d, &f64::NAN, &1.0, dx)), 0.0);
    // clamp: bounds included for x
    assert_eq!(grad1(|d, dx| clamp_back_0(d, &-0.5, &-0.5, &0.5, dx)), 1.0);
    assert_eq!(grad1(|d, dx| clamp_back_0(d, &0.5, &-0.5, &0.5, dx)), 1.0);
    assert_eq!(grad1(|d, dx| clamp_back_1(d, &-0.5, &-0.5, &0.5, dx)), 0.0);
    assert_eq!(grad1(|d, dx| clamp_back_2(d, &0.5, &-0.5, &0.5, dx)), 0.0);
    assert_eq!(grad1(|d, dx| clamp_back_2(d, &0.7, &-0.5, &0.5, dx)), 1.0);
    // powf, powi at special points: finite, by convention
    assert_eq!(grad1(|d, dx| powf_back_rhs(d, &0.0, &2.0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| powf_back_lhs(d, &0.0, &0.0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| powf_back_lhs(d, &0.0, &2.0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| powi_back(d, &0.0, 0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| powi_back(d, &0.0, 1, dx)), 1.0);
    // atan2 and hypot at the origin
    assert_eq!(grad1(|d, dx| atan2_back_lhs(d, &0.0, &0.0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| atan2_back_rhs(d, &0.0, &0.0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| hypot_back_lhs(d, &0.0, &0.0, dx)), 0.0);
    assert_eq!(grad1(|d, dx| hypot_back_rhs(d, &0.0, &0.0, dx)), 0.0);
}

#[test]
fn relu_through_max_with_a_literal() {
    let x: Array2<f32> = array![[-1.0, 2.0], [0.5, -0.25]];
    let y = max(&x, &0.0);
    assert_eq!(y, array![[0.0_f32, 2.0], [0.5, 0.0]]);
    let mut d = zero_adj(&meta(&y));
    d.add_value(Array2::ones((2, 2)));
    let mut dx = zero_adj(&meta(&x));
    let mut dzero = f32::adjoint_zero();
    max_back_lhs(&d, &x, &0.0, &mut dx);
    max_back_rhs(&d, &x, &0.0, &mut dzero);
    assert_eq!(dx.into_value(), array![[0.0_f32, 1.0], [1.0, 0.0]]);
    assert_eq!(dzero, 2.0);
}

#[test]
fn scalar_literals_infer_their_width() {
    let x = 0.5_f32;
    let (a, b, c, e) = (
        powf(&x, &2.0),
        clamp(&x, &0.0, &1.0),
        mul_add(&x, &2.0, &1.0),
        hypot(&3.0, &x),
    );
    let _: (f32, f32, f32, f32) = (a, b, c, e);
    let mut dx = f32::adjoint_zero();
    powf_back_lhs(&1.0_f32, &x, &2.0, &mut dx);
    clamp_back_0(&1.0_f32, &x, &0.0, &1.0, &mut dx);
    assert_eq!(dx, 2.0);
    let v: Array1<f32> = array![0.25, 4.0];
    let _: Array1<f32> = powf(&v, &0.5);
    let _: Array1<f32> = clamp(&v, &0.0, &1.0);
    let _: Array1<f32> = min(&2.0, &v);
}

fn generic_rule<T: Real>(x: T) -> (T, T) {
    let s = sin(&x);
    let y = tanh(&s);
    let z = powi(&y, 3);
    let mut dy = T::adjoint_zero();
    let mut ds = T::adjoint_zero();
    let mut dx = T::adjoint_zero();
    powi_back(&T::one(), &y, 3, &mut dy);
    tanh_back(&dy, &y, &mut ds);
    sin_back(&ds, &x, &mut dx);
    (z, dx)
}

#[test]
fn generic_code_compiles_for_both_widths() {
    let (z, dx) = generic_rule(0.7_f64);
    let y = 0.7_f64.sin().tanh();
    assert!((z - y.powi(3)).abs() < 1e-15);
    let want = 3.0 * y * y * (1.0 - y * y) * 0.7_f64.cos();
    assert!((dx - want).abs() < 1e-14);
    let (_, dx32) = generic_rule(0.7_f32);
    assert!((dx32 as f64 - want).abs() < 1e-5);
}

#[test]
#[should_panic(expected = "min > max")]
fn clamp_with_crossed_bounds_panics() {
    let _ = clamp(&0.5_f64, &1.0, &0.0);
}
