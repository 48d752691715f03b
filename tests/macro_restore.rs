//! Overwritten variables and the old values the reverse sweep needs back: gradients
//! against finite differences for assignments whose old value is kept (read again by the
//! reverse of an earlier statement, of an earlier iteration or of the statement itself)
//! and for accumulators whose old values are not (`autodiff-macros` unit tests in
//! `restore.rs` check which is which).

#![allow(clippy::needless_range_loop)]
// `s = s + e` is one of the forms under test, next to `s += e`.
#![allow(clippy::assign_op_pattern)]

use autodiff::check;
use autodiff::differentiable;

/// Accumulators whose final values nonlinear rules read: `+=`, `= s + e` and `-=` into
/// scalars, and `+=` into an element. No old value of theirs is read back.
#[differentiable]
fn log_of_sums(x: &[f64]) -> f64 {
    let mut squares = 0.0;
    for i in 0..x.len() {
        squares += x[i] * x[i];
    }
    let mut exps = 1.0;
    for i in 0..x.len() {
        exps = exps + x[i].exp();
    }
    let mut parts = vec![0.5; 2];
    for i in 0..x.len() {
        parts[i % 2] += x[i] * x[i] * x[i];
        parts[1 - i % 2] -= 0.25 * x[i];
    }
    squares.ln() * exps.ln() + squares / exps + parts[0] * parts[1]
}

/// `v` is overwritten at the top of each iteration and read by a rule after it: the
/// reverse of the previous iteration needs the previous `v` back. `w` carries from one
/// iteration to the next, `m` reads its own old value, and a branch and a `while` assign
/// `u` before a rule reads it.
#[differentiable]
fn carried(x: &[f64], a: f64) -> f64 {
    let mut v = a;
    let mut w = 1.0;
    let mut m = x[0];
    let mut u = 0.0;
    let mut s = 0.0;
    for i in 0..x.len() {
        v = x[i] * w + 0.2;
        w = 0.9 * w + 0.1 * v.sin();
        m = m.max(x[i] * a);
        if x[i] > 0.0 {
            u = x[i] * a;
        } else {
            u = x[i] - a;
        }
        let mut k = 0;
        while k < i % 3 {
            u = u * 0.5 + v;
            k += 1;
        }
        s += v.cos() * v + u * u.sin();
    }
    s + v * w + m + u
}

/// An accumulator read by a rule inside the loop that fills it: its old values are kept.
#[differentiable]
fn read_while_filling(x: &[f64]) -> f64 {
    let mut s = 1.0;
    let mut t = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
        t += s.ln() * x[i];
    }
    t + s.sqrt()
}

/// Straight-line overwrites that read the value they replace.
#[differentiable]
fn own_old_value(x: &[f64]) -> f64 {
    let mut m = x[0] * 0.5;
    m = m * x[1];
    m = m.max(x[1]) * m;
    m = m.sin() + x[2] * m;
    m
}

const POINTS: [&[f64]; 3] = [&[0.7, -1.2, 0.4, 1.9, -0.3], &[0.35, 0.8, -0.6], &[1.1]];

/// `f`'s generated gradient `grad` against finite differences at every point of `points`.
fn check_at(points: &[&[f64]], f: fn(&[f64]) -> f64, grad: fn(&[f64]) -> Vec<f64>) {
    for x in points {
        check::gradient(|x: &Vec<f64>| f(x), |x| grad(x), &x.to_vec()).assert();
    }
}

#[test]
fn accumulators_read_only_at_the_end() {
    check_at(&POINTS, log_of_sums, |x| log_of_sums_grad(x).1);
}

#[test]
fn overwrites_read_back_by_earlier_statements_and_iterations() {
    for (x, a) in POINTS.iter().zip([1.3, -0.45, 0.8]) {
        check::gradient(
            |(x, a): &(Vec<f64>, f64)| carried(x, *a),
            |(x, a)| carried_grad(x, *a).1,
            &(x.to_vec(), a),
        )
        .assert();
    }
}

#[test]
fn accumulator_read_inside_its_loop() {
    check_at(&POINTS, read_while_filling, |x| {
        read_while_filling_grad(x).1
    });
}

#[test]
fn overwrites_reading_their_old_value() {
    let points: [&[f64]; 2] = [&[0.7, -1.2, 0.4], &[0.3, 0.9, -0.6]];
    check_at(&points, own_old_value, |x| own_old_value_grad(x).1);
}

#[test]
fn vjp_pullbacks_agree_with_grad() {
    for (x, a) in POINTS.iter().zip([1.3, -0.45, 0.8]) {
        let (value, (gx, ga)) = carried_grad(x, a);
        let (value2, pullback) = carried_vjp(x, a);
        let (vx, va) = pullback(-2.0);
        assert_eq!(value, value2);
        assert!(
            (-2.0 * ga - va).abs() <= 1e-12 * (1.0 + va.abs()),
            "{ga} vs {va}"
        );
        for (g, v) in gx.iter().zip(&vx) {
            assert!(
                (-2.0 * g - v).abs() <= 1e-12 * (1.0 + v.abs()),
                "{g} vs {v}"
            );
        }
        let (value, g) = log_of_sums_grad(x);
        let (value2, pullback) = log_of_sums_vjp(x);
        assert_eq!(value, value2);
        for (g, v) in g.iter().zip(&pullback(0.5)) {
            assert!((0.5 * g - v).abs() <= 1e-12 * (1.0 + v.abs()), "{g} vs {v}");
        }
    }
}
