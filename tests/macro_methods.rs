//! Every float method of API.md, in method and path form, checked by finite differences.

#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)]

use autodiff::check;
use autodiff::differentiable;

macro_rules! unary_method {
    ($test:ident, $method:ident, $points:expr) => {
        mod $test {
            use super::*;
            #[differentiable]
            fn by_method(x: f64) -> f64 {
                x.$method() * 1.3 + x
            }
            #[differentiable]
            fn by_path(x: f64) -> f64 {
                f64::$method(x) * 0.7
            }
            #[test]
            fn matches_finite_differences() {
                for &p in $points.iter() {
                    check::gradient(|x: &f64| by_method(*x), |x| by_method_grad(*x).1, &p).assert();
                    check::gradient(|x: &f64| by_path(*x), |x| by_path_grad(*x).1, &p).assert();
                }
            }
        }
    };
}

unary_method!(sin, sin, [0.3, -1.7, 2.9]);
unary_method!(cos, cos, [0.3, -1.7, 2.9]);
unary_method!(tan, tan, [0.3, -1.1, 0.9]);
unary_method!(asin, asin, [0.3, -0.7]);
unary_method!(acos, acos, [0.3, -0.7]);
unary_method!(atan, atan, [0.3, -1.7, 2.9]);
unary_method!(sinh, sinh, [0.3, -1.7]);
unary_method!(cosh, cosh, [0.3, -1.7]);
unary_method!(tanh, tanh, [0.3, -1.7]);
unary_method!(exp, exp, [0.3, -1.7, 2.2]);
unary_method!(exp2, exp2, [0.3, -1.7, 2.2]);
unary_method!(exp_m1, exp_m1, [0.3, -1.7]);
unary_method!(ln, ln, [0.3, 1.7, 12.5]);
unary_method!(log10, log10, [0.3, 1.7]);
unary_method!(log2, log2, [0.3, 1.7]);
unary_method!(ln_1p, ln_1p, [0.3, 1.7, -0.4]);
unary_method!(sqrt, sqrt, [0.3, 1.7, 9.2]);
unary_method!(cbrt, cbrt, [0.3, -1.7, 9.2]);
unary_method!(abs, abs, [0.3, -1.7]);
unary_method!(recip, recip, [0.3, -1.7]);
unary_method!(signum, signum, [0.3, -1.7]);

#[differentiable]
fn binary_methods(a: f64, b: f64) -> f64 {
    let p = a.powf(b) + a.powi(3) + f64::powi(b, 2);
    let l = a.log(b) + a.atan2(b) + a.hypot(b);
    let m = a.max(b) * 2.0 + a.min(b) * 3.0 + f64::max(b, 0.1);
    let c = a.clamp(0.2, 5.0) + b.clamp(a, 10.0) + a.mul_add(b, 0.5);
    p + l + m + c
}

#[test]
fn binary_and_ternary_methods() {
    for &(a, b) in &[(1.7, 2.3), (2.6, 1.4), (0.9, 3.1)] {
        check::gradient(
            |&(a, b): &(f64, f64)| binary_methods(a, b),
            |&(a, b)| binary_methods_grad(a, b).1,
            &(a, b),
        )
        .assert();
    }
}

#[differentiable]
fn casts(x: f64) -> f64 {
    let y = (x * 2.0) as f32;
    let z = y.sin() as f64;
    z * x
}

#[test]
fn casts_between_widths() {
    let cfg = check::Config::default().step(1e-3).rtol(1e-3).atol(1e-5);
    check::gradient_with(&cfg, |x: &f64| casts(*x), |x| casts_grad(*x).1, &0.37).assert();
}

#[differentiable]
fn shadowing(x: f64) -> f64 {
    let y = x * 2.0;
    let y = y.sin() + x;
    let x = y * x;
    let mut s = x;
    s *= y;
    s /= 1.5;
    s - (-x)
}

#[test]
fn shadowing_and_compound_assignment() {
    for &p in &[0.4, -1.3, 2.2] {
        check::gradient(|x: &f64| shadowing(*x), |x| shadowing_grad(*x).1, &p).assert();
    }
}
