//! Branches, loops and indexing: every construct checked against finite differences at
//! several points, with branches taken both ways and loops of 0, 1 and many iterations.

#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)]

use autodiff::check;
use autodiff::differentiable;

fn assert_grad1(f: impl Fn(f64) -> f64, g: impl Fn(f64) -> f64, points: &[f64]) {
    for &p in points {
        check::gradient(|x: &f64| f(*x), |x| g(*x), &p).assert();
    }
}

fn assert_grad_vec(f: impl Fn(&[f64]) -> f64, g: impl Fn(&[f64]) -> Vec<f64>, x: &[f64]) {
    check::gradient(|x: &Vec<f64>| f(x), |x| g(x), &x.to_vec()).assert();
}

#[differentiable]
fn branchy(x: f64) -> f64 {
    let mut y = x * 1.5;
    if x > 0.3 {
        y = y * x;
    } else if x < -0.7 {
        y = y.sin();
    } else {
        y += 2.0 * x;
    }
    let z = if y > 1.0 { y.ln() } else { y * y };
    z + x
}

#[test]
fn if_else_chains_both_ways() {
    assert_grad1(branchy, |x| branchy_grad(x).1, &[1.3, 0.2, -0.9, -0.4, 2.7]);
}

#[differentiable]
fn horner(coeffs: &[f64], x: f64) -> f64 {
    let mut acc = 0.0;
    for i in (0..coeffs.len()).rev() {
        acc = acc * x + coeffs[i];
    }
    acc
}

#[test]
fn horner_polynomial() {
    let c = vec![0.7, -1.3, 2.1, 0.4, -0.25];
    check::gradient(
        |(c, x): &(Vec<f64>, f64)| horner(c, *x),
        |(c, x)| horner_grad(c, *x).1,
        &(c.clone(), 1.37),
    )
    .assert();
    // 0 and 1 iterations.
    check::gradient(
        |(c, x): &(Vec<f64>, f64)| horner(c, *x),
        |(c, x)| horner_grad(c, *x).1,
        &(vec![], 0.5),
    )
    .assert();
    check::gradient(
        |(c, x): &(Vec<f64>, f64)| horner(c, *x),
        |(c, x)| horner_grad(c, *x).1,
        &(vec![1.7], 0.5),
    )
    .assert();
}

#[differentiable]
fn newton_sqrt(a: f64) -> f64 {
    let mut x = a;
    let mut k = 0;
    while k < 6 {
        x = 0.5 * (x + a / x);
        k += 1;
    }
    x
}

#[test]
fn while_newton_iteration() {
    assert_grad1(newton_sqrt, |a| newton_sqrt_grad(a).1, &[2.3, 0.7, 11.0]);
    let (v, g) = newton_sqrt_grad(4.0);
    assert!((v - 2.0).abs() < 1e-9 && (g - 0.25).abs() < 1e-6);
}

#[differentiable]
fn quad_form(m: &[f64], v: &[f64], n: usize) -> f64 {
    let mut total = 0.0;
    for i in 0..n {
        let mut row = 0.0;
        for j in 0..n {
            row += m[i * n + j] * v[j];
        }
        total += v[i] * row;
    }
    total
}

#[test]
fn nested_loops_over_flat_matrix() {
    let n = 3;
    let m: Vec<f64> = (0..9).map(|i| 0.3 + 0.17 * i as f64).collect();
    let v = vec![0.4, -1.2, 0.9];
    check::gradient(
        |(m, v): &(Vec<f64>, Vec<f64>)| quad_form(m, v, n),
        |(m, v)| quad_form_grad(m, v, n).1,
        &(m, v),
    )
    .assert();
}

#[differentiable]
fn loop_with_branch(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        let xi = x[i];
        if xi > 0.0 {
            s += xi * xi;
        } else {
            s -= xi.exp();
        }
    }
    s
}

#[test]
fn branch_inside_loop() {
    let x = [0.5, -0.3, 1.7, -2.2, 0.05];
    assert_grad_vec(loop_with_branch, |x| loop_with_branch_grad(x).1, &x);
}

#[differentiable]
fn buffer_two_loops(x: &[f64]) -> f64 {
    let n = x.len();
    let mut buf = vec![0.0; n];
    for i in 0..n {
        buf[i] = x[i].sin() * 2.0;
    }
    let mut s = 0.0;
    for i in 1..n {
        s += buf[i] * buf[i - 1];
    }
    s
}

#[test]
fn buffer_written_in_one_loop_read_in_another() {
    assert_grad_vec(
        buffer_two_loops,
        |x| buffer_two_loops_grad(x).1,
        &[0.3, 1.1, -0.7, 2.0],
    );
}

#[differentiable]
fn ranges(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in (0..x.len()).step_by(2) {
        s += x[i] * 3.0;
    }
    for i in 1..=2 {
        s = s * x[i];
    }
    for i in (0..x.len()).rev() {
        s = s + x[i] * s.cos();
    }
    s
}

#[test]
fn range_forms() {
    assert_grad_vec(ranges, |x| ranges_grad(x).1, &[0.3, 1.1, -0.7, 0.6, 0.2]);
}

/// A loop over an iterator whose size hint is not exact (flattened ranges): the stacks its
/// body pushes to, directly and in a branch, are reserved for the counted trips.
#[differentiable]
fn inexact_trips(x: &[f64]) -> f64 {
    let mut s = 1.0;
    for i in [0..2, 3..x.len()].into_iter().flatten() {
        s = s * x[i] + s.sin();
        if x[i] > 0.0 {
            s = s * s;
        }
    }
    s
}

#[test]
fn loops_over_iterators_of_unknown_length() {
    let hint = [0..2, 3..5].into_iter().flatten().size_hint();
    assert_ne!(Some(hint.0), hint.1, "the case this test is about");
    for x in [
        &[0.3, -0.8, 0.5][..],
        &[0.3, -0.8, 0.5, 0.9, -0.4, 0.7],
        &[-0.6, 0.4, 0.2, -0.3, 0.8],
    ] {
        assert_grad_vec(inexact_trips, |x| inexact_trips_grad(x).1, x);
        let (v, pb) = inexact_trips_vjp(x);
        assert_eq!(v, inexact_trips(x));
        let from_vjp = pb(1.0);
        let from_grad = inexact_trips_grad(x).1;
        for (a, b) in from_vjp.iter().zip(&from_grad) {
            approx::assert_relative_eq!(a, b, max_relative = 1e-12);
        }
    }
}

/// The same element read more than once: twice in one expression, again in a later
/// statement, and again after a write to it, which must see the new value (the reverse sweep
/// adds one adjoint for reads of one unchanged element, and separate ones across the write).
#[differentiable]
fn repeated_reads(x: &[f64], w: f64) -> f64 {
    let n = x.len();
    let mut work = vec![0.0; n];
    let mut s = 0.0;
    for i in 0..n {
        work[i] = x[i] * x[i] + w * x[i];
        let a = work[i] * work[i];
        let b = work[i].sin() + x[(i + 1) % n] * x[(i + 1) % n];
        work[i] = a * x[i] - b;
        s += work[i] * work[i] * x[i] + a * b;
    }
    s
}

#[test]
fn repeated_reads_of_one_element() {
    for (x, w) in [
        (&[0.3, -0.8, 0.5][..], 0.7),
        (&[0.6, -0.4, 0.9, -1.1, 0.25], -1.3),
        (&[1.2][..], 0.4),
    ] {
        check::gradient(
            |(x, w): &(Vec<f64>, f64)| repeated_reads(x, *w),
            |(x, w)| repeated_reads_grad(x, *w).1,
            &(x.to_vec(), w),
        )
        .assert();
    }
}

#[differentiable]
fn pair(x: f64, y: f64) -> (f64, f64) {
    (x * y, x.sin() + y)
}

#[differentiable]
fn uses_pair(x: f64, y: f64) -> f64 {
    let (a, b) = pair(x, y);
    a * b + a
}

#[test]
fn call_returning_a_tuple() {
    check::gradient(
        |&(x, y): &(f64, f64)| uses_pair(x, y),
        |&(x, y)| uses_pair_grad(x, y).1,
        &(0.7, -1.3),
    )
    .assert();
}

#[differentiable]
fn in_place_writes(x: &[f64]) -> f64 {
    let mut y = vec![0.0; 3];
    y[0] = x[0] * x[1];
    y[1] += x[1].exp();
    y[1] -= x[2];
    y[2] = y[0] * y[1];
    y[0] = y[2] * 2.0;
    y[0] + y[1] + y[2]
}

#[test]
fn indexed_assignment_targets() {
    assert_grad_vec(
        in_place_writes,
        |x| in_place_writes_grad(x).1,
        &[0.3, 1.1, -0.7],
    );
}

#[differentiable]
fn recompute_or_keep(x: &[f64]) -> f64 {
    let mut s = 0.5;
    for i in 0..x.len() {
        // `a` reads `s`, which the body overwrites: it must be kept, not recomputed.
        let a = s * x[i];
        s = s + a.sin();
        // `b` reads only `x` and `i`: the reverse sweep recomputes it.
        let b = x[i] * x[i];
        s = s * b.cos();
    }
    s
}

#[test]
fn loop_locals_kept_or_recomputed() {
    assert_grad_vec(
        recompute_or_keep,
        |x| recompute_or_keep_grad(x).1,
        &[0.3, 1.1, -0.7, 0.45],
    );
}

/// `let y;` assigned later, outright or in both branches of an `if`, at the top level and
/// in a loop body, before and after a loop that `_grad` reverses as it runs.
#[differentiable]
#[allow(clippy::needless_late_init)] // the late initializations are what is tested
fn declared_then_assigned(x: &[f64], w: f64) -> f64 {
    let scale;
    scale = 2.0 * w;
    let first;
    if x[0] > 0.0 {
        first = scale * x[0];
    } else {
        first = x[0] * x[0];
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        let y;
        if x[i] > 0.3 {
            y = x[i].sin() * w;
        } else {
            y = x[i] * 3.0;
        }
        s += y * y;
    }
    let last;
    if w > 1.0 {
        last = w * x[1];
    } else {
        last = x[1];
    }
    s + first + last
}

#[test]
fn let_declared_then_assigned_in_branches() {
    for (x, w) in [
        (vec![0.7, -1.2, 0.4, 1.9], 1.3),
        (vec![-0.5, 0.9, 0.1], 0.6),
    ] {
        check::gradient(
            |(x, w): &(Vec<f64>, f64)| declared_then_assigned(x, *w),
            |(x, w)| declared_then_assigned_grad(x, *w).1,
            &(x.clone(), w),
        )
        .assert();
        let (_, pullback) = declared_then_assigned_vjp(&x, w);
        let (gx, gw) = pullback(1.0);
        let (_, (hx, hw)) = declared_then_assigned_grad(&x, w);
        assert!((gw - hw).abs() <= 1e-12 * (1.0 + gw.abs()));
        for (a, b) in gx.iter().zip(&hx) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}
