//! Straight-line scalar code: arithmetic, methods, shadowing, tuples.

#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)]

use autodiff::check;
use autodiff::differentiable;

#[differentiable]
fn f(x: f64, y: f64) -> f64 {
    let z = x * y + x.sin();
    z.exp() / (1.0 + y * y)
}

#[test]
fn api_example() {
    let (value, (dx, dy)) = f_grad(1.0, 2.0);
    assert_eq!(value, f(1.0, 2.0));
    let (v2, pullback) = f_vjp(1.0, 2.0);
    assert_eq!(v2, value);
    let (dx2, dy2) = pullback(1.0);
    assert_eq!((dx, dy), (dx2, dy2));
    check::gradient(
        |&(x, y): &(f64, f64)| f(x, y),
        |&(x, y)| f_grad(x, y).1,
        &(1.0, 2.0),
    )
    .assert();
}
