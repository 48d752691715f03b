//! Gradient checks of the arithmetic rules (`__private::{add, sub, mul, div, neg, cast}`)
//! against central finite differences, over scalars, arrays and every broadcasting
//! direction, into every kind of accumulator.

mod rules_common;

use autodiff_runtime::__private::*;
use autodiff_runtime::Real;
use ndarray::{Array1, Array2, Array3, ArrayView2, Ix1, Ix2, Ix3, array};
use rules_common::{check_rule, fill};

/// Runs one binary rule over every operand shape combination.
macro_rules! binary_suite {
    ($op:ident, lo: $lo:expr, hi: $hi:expr,
        |$d:ident, $l:ident, $r:ident, $dx:ident| lhs: $lcall:expr, rhs: $rcall:expr) => {
        // same shape, non-square
        check_rule!(concat!(stringify!($op), " (2,3)x(2,3)"),
            inputs: [array $l = fill::<Ix2>(&[2, 3], $lo, $hi), array $r = fill::<Ix2>(&[2, 3], $lo, $hi) + 0.1],
            forward: $op(&$l, &$r),
            backs: [array $l => |$d, $dx| $lcall, array $r => |$d, $dx| $rcall]);
        // row broadcast on the right
        check_rule!(concat!(stringify!($op), " (2,3)x(3)"),
            inputs: [array $l = fill::<Ix2>(&[2, 3], $lo, $hi), array $r = fill::<Ix1>(&[3], $lo, $hi)],
            forward: $op(&$l, &$r),
            backs: [array $l => |$d, $dx| $lcall, array $r => |$d, $dx| $rcall]);
        // row broadcast on the left
        check_rule!(concat!(stringify!($op), " (3)x(2,3)"),
            inputs: [array $l = fill::<Ix1>(&[3], $lo, $hi), array $r = fill::<Ix2>(&[2, 3], $lo, $hi)],
            forward: $op(&$l, &$r),
            backs: [array $l => |$d, $dx| $lcall, array $r => |$d, $dx| $rcall]);
        // column broadcast
        check_rule!(concat!(stringify!($op), " (2,3)x(2,1)"),
            inputs: [array $l = fill::<Ix2>(&[2, 3], $lo, $hi), array $r = fill::<Ix2>(&[2, 1], $lo, $hi)],
            forward: $op(&$l, &$r),
            backs: [array $l => |$d, $dx| $lcall, array $r => |$d, $dx| $rcall]);
        // both broadcast
        check_rule!(concat!(stringify!($op), " (1,3)x(4,1)"),
            inputs: [array $l = fill::<Ix2>(&[1, 3], $lo, $hi), array $r = fill::<Ix2>(&[4, 1], $lo, $hi)],
            forward: $op(&$l, &$r),
            backs: [array $l => |$d, $dx| $lcall, array $r => |$d, $dx| $rcall]);
        // 3-d with 2-d (leading axis and a middle axis of 1)
        check_rule!(concat!(stringify!($op), " (2,3,4)x(3,1)"),
            inputs: [array $l = fill::<Ix3>(&[2, 3, 4], $lo, $hi), array $r = fill::<Ix2>(&[3, 1], $lo, $hi)],
            forward: $op(&$l, &$r),
            backs: [array $l => |$d, $dx| $lcall, array $r => |$d, $dx| $rcall]);
        // array with scalar, both ways
        check_rule!(concat!(stringify!($op), " (2,3)x()"),
            inputs: [array $l = fill::<Ix2>(&[2, 3], $lo, $hi), scalar $r = 1.37_f64],
            forward: $op(&$l, &$r),
            backs: [array $l => |$d, $dx| $lcall, scalar $r => |$d, $dx| $rcall]);
        check_rule!(concat!(stringify!($op), " ()x(3,2)"),
            inputs: [scalar $l = 1.37_f64, array $r = fill::<Ix2>(&[3, 2], $lo, $hi)],
            forward: $op(&$l, &$r),
            backs: [scalar $l => |$d, $dx| $lcall, array $r => |$d, $dx| $rcall]);
        // scalars
        check_rule!(concat!(stringify!($op), " ()x()"),
            inputs: [scalar $l = 1.37_f64, scalar $r = 0.83_f64],
            forward: $op(&$l, &$r),
            backs: [scalar $l => |$d, $dx| $lcall, scalar $r => |$d, $dx| $rcall]);
    };
}

#[test]
fn add_matches_finite_differences() {
    binary_suite!(add, lo: -2.0, hi: 2.0,
        |d, l, r, dx| lhs: add_back_lhs(d, dx), rhs: add_back_rhs(d, dx));
}

#[test]
fn sub_matches_finite_differences() {
    binary_suite!(sub, lo: -2.0, hi: 2.0,
        |d, l, r, dx| lhs: sub_back_lhs(d, dx), rhs: sub_back_rhs(d, dx));
}

#[test]
fn mul_matches_finite_differences() {
    binary_suite!(mul, lo: -2.0, hi: 2.0,
        |d, l, r, dx| lhs: mul_back_lhs(d, &r, dx), rhs: mul_back_rhs(d, &l, dx));
}

#[test]
fn div_matches_finite_differences() {
    binary_suite!(div, lo: 0.5, hi: 2.5,
        |d, l, r, dx| lhs: div_back_lhs(d, &r, dx), rhs: div_back_rhs(d, &l, &r, dx));
}

#[test]
fn neg_matches_finite_differences() {
    check_rule!("neg (2,3)",
        inputs: [array x = fill::<Ix2>(&[2, 3], -2.0, 2.0)],
        forward: neg(&x),
        backs: [array x => |d, dx| neg_back(d, dx)]);
    check_rule!("neg ()",
        inputs: [scalar x = 0.37_f64],
        forward: neg(&x),
        backs: [scalar x => |d, dx| neg_back(d, dx)]);
}

#[test]
fn references_and_views_are_operands() {
    let a: Array2<f64> = fill(&[2, 3], -1.0, 1.0);
    let b: Array1<f64> = fill(&[3], -1.0, 1.0);
    let ra = &a;
    let v: ArrayView2<f64> = a.view();
    // `&x` where `x` is itself a reference or a view
    assert_eq!(mul(&ra, &b), &a * &b);
    assert_eq!(mul(&v, &&b), &a * &b);
    assert_eq!(sub(&v, &2.0), &a - 2.0);
    assert_eq!(div(&&2.0, &ra), a.mapv(|x| 2.0 / x));
    let s = 1.5_f64;
    let rs = &s;
    assert_eq!(mul(&rs, &rs), 2.25);
    assert_eq!(add(&rs, &s), 3.0);
    // kept operands as references and views
    let mut da = zero_adj(&meta(&ra));
    let d = {
        let mut d = zero_adj(&meta(&a));
        d.add_value(Array2::ones((2, 3)));
        d
    };
    mul_back_lhs(&d, &&b, &mut da);
    mul_back_lhs(&d, &b.view(), &mut da);
    assert_eq!(da.into_value(), &b * 2.0 + Array2::<f64>::zeros((2, 3)));
}

#[test]
fn scalar_accumulators_start_at_negative_zero() {
    // `-0.0 + c == c` exactly, so the first contribution is a move.
    let mut dx = f64::adjoint_zero();
    mul_back_lhs(&0.0_f64, &3.0, &mut dx);
    assert_eq!(dx, 0.0);
    let mut dx = f64::adjoint_zero();
    add_back_lhs(&1.25_f64, &mut dx);
    assert_eq!(dx, 1.25);
}

#[test]
fn float_literals_infer_their_width() {
    let x = 3.0_f32;
    let y = mul(&x, &2.0);
    let z = add(&2.0, &x);
    let w = div(&x, &&4.0);
    let _: (f32, f32, f32) = (y, z, w);
    assert_eq!((y, z, w), (6.0, 5.0, 0.75));
    let a = array![[1.0_f32, 2.0]];
    let b = mul(&a, &2.0);
    let c = sub(&1.0, &a);
    let _: (Array2<f32>, Array2<f32>) = (b.clone(), c.clone());
    assert_eq!(b, array![[2.0_f32, 4.0]]);
    assert_eq!(c, array![[0.0_f32, -1.0]]);
    let mut dx = -0.0_f32;
    mul_back_lhs(&1.5_f32, &2.0, &mut dx);
    div_back_lhs(&1.0_f32, &4.0, &mut dx);
    assert_eq!(dx, 3.25);
}

fn generic_product<T: Real>(x: T, y: T) -> (T, T, T) {
    let z = mul(&x, &y);
    let w = add(&z, &x);
    let mut dz = T::adjoint_zero();
    let mut dx = T::adjoint_zero();
    let mut dy = T::adjoint_zero();
    let dw = T::one();
    add_back_lhs(&dw, &mut dz);
    add_back_rhs(&dw, &mut dx);
    mul_back_lhs(&dz, &y, &mut dx);
    mul_back_rhs(&dz, &x, &mut dy);
    (w, dx, dy)
}

fn generic_array<T: Real>(x: &Array2<T>, s: T) -> Array2<T> {
    let y = mul(&x, &s);
    let y = sub(&y, &T::from_f64(0.5));
    let mut dx = zero_adj(&meta(&x));
    let mut ds = T::adjoint_zero();
    let mut d = zero_adj(&meta(&y));
    d.add_value(y.clone());
    mul_back_lhs(&d, &s, &mut dx);
    mul_back_rhs(&d, &x, &mut ds);
    finish(dx, &meta(&x))
}

#[test]
fn generic_code_compiles_for_both_widths() {
    assert_eq!(generic_product(2.0_f64, 3.0), (8.0, 4.0, 2.0));
    assert_eq!(generic_product(2.0_f32, 3.0), (8.0, 4.0, 2.0));
    let x = array![[1.0_f32, 2.0]];
    assert_eq!(generic_array(&x, 2.0), array![[3.0_f32, 7.0]]);
}

#[test]
fn cast_round_trips_through_f64() {
    let x = 1.25_f64;
    let y: f32 = cast::<f32, _>(&x);
    assert_eq!(y, 1.25_f32);
    let z: f64 = cast::<f64, _>(&0.1_f32);
    assert_eq!(z, 0.1_f32 as f64);
    let mut dx = f64::adjoint_zero();
    cast_back(&2.5_f32, &mut dx);
    cast_back(&0.5_f32, &mut dx);
    assert_eq!(dx, 3.0);
    let mut df = f32::adjoint_zero();
    cast_back(&0.25_f64, &mut df);
    assert_eq!(df, 0.25);
    // f(x) = (x as f32) * 3, in f64 through f32: derivative 3
    let mut d = f64::adjoint_zero();
    let dy = 3.0_f32;
    cast_back(&dy, &mut d);
    assert_eq!(d, 3.0);
}

#[test]
fn three_dim_outputs_reduce_to_scalars() {
    let x: Array3<f64> = fill(&[2, 2, 3], -1.0, 1.0);
    let mut d = zero_adj(&meta(&x));
    d.add_value(x.clone());
    let mut ds = f64::adjoint_zero();
    add_back_rhs(&d, &mut ds);
    assert!((ds - x.sum()).abs() < 1e-12);
}

#[test]
#[should_panic(expected = "`add`: operands of shapes [2, 3] and [2] cannot be broadcast together")]
fn forward_shape_mismatch_panics() {
    let a: Array2<f64> = Array2::zeros((2, 3));
    let b: Array1<f64> = Array1::zeros(2);
    let _ = add(&a, &b);
}

#[test]
#[should_panic(
    expected = "`mul`: an adjoint of shape [2, 3] cannot flow to an operand of shape [2]"
)]
fn backward_shape_mismatch_panics() {
    let a: Array2<f64> = Array2::ones((2, 3));
    let mut d = zero_adj(&meta(&a));
    d.add_value(a.clone());
    let mut dx = Slot::<f64, Ix1>::zero(Ix1(2));
    mul_back_lhs(&d, &2.0, &mut dx);
}

#[test]
#[should_panic(
    expected = "`sub`: an adjoint of shape [2, 3] cannot flow to an operand of shape [3, 2]"
)]
fn backward_shape_mismatch_into_filled_slot_panics() {
    let a: Array2<f64> = Array2::ones((2, 3));
    let mut d = zero_adj(&meta(&a));
    d.add_value(a.clone());
    let mut dx: Array2<f64> = Array2::ones((3, 2));
    sub_back_rhs(&d, &mut dx);
}
