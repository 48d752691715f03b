//! Generic functions, methods, wrt selection, custom derivatives, `no_grad` and passive code.

#![allow(clippy::needless_range_loop, clippy::assign_op_pattern)]

use autodiff::{Real, check, differentiable, no_grad};

#[differentiable]
fn poly<T: Real>(x: T, y: T) -> T {
    let two = T::from_f64(2.0);
    x * x * y + two * y.sin()
}

#[test]
fn generic_scalar_functions_in_f32_and_f64() {
    check::gradient(
        |&(x, y): &(f64, f64)| poly(x, y),
        |&(x, y)| poly_grad(x, y).1,
        &(0.8, -1.2),
    )
    .assert();
    let (v, (dx, dy)) = poly_grad(0.8_f32, -1.2_f32);
    let (v64, (dx64, dy64)) = poly_grad(0.8_f64, -1.2_f64);
    assert!(
        (v as f64 - v64).abs() < 1e-5
            && (dx as f64 - dx64).abs() < 1e-5
            && (dy as f64 - dy64).abs() < 1e-5
    );
}

struct Spring {
    k: f64,
    rest: f64,
}

impl Spring {
    #[differentiable(wrt(x))]
    fn energy(&self, x: f64) -> f64 {
        let d = x - self.rest;
        0.5 * self.k * d * d
    }

    #[differentiable(wrt(a, b))]
    fn total(&self, a: f64, b: f64) -> f64 {
        let d = a - self.rest;
        0.5 * self.k * d * d + Self::scaled(b, 3)
    }

    #[differentiable]
    fn scaled(x: f64, factor: i32) -> f64 {
        x.exp() * factor as f64
    }

    /// Calls a method of its receiver, and passes it on, though `Spring` is not
    /// differentiable: an argument of a type without a tangent takes no gradient.
    #[differentiable(wrt(x))]
    fn doubled(&self, x: f64) -> f64 {
        2.0 * self.energy(x) + damped(self, x)
    }
}

#[differentiable]
fn damped(#[no_grad] s: &Spring, v: f64) -> f64 {
    s.k * v.sin()
}

#[test]
fn methods_and_associated_functions() {
    let s = Spring { k: 3.5, rest: 0.7 };
    let (e, de) = s.energy_grad(1.9);
    assert_eq!(e, s.energy(1.9));
    assert!((de - 3.5 * (1.9 - 0.7)).abs() < 1e-12);
    check::gradient(
        |&(a, b): &(f64, f64)| s.total(a, b),
        |&(a, b)| s.total_grad(a, b).1,
        &(1.3, -0.4),
    )
    .assert();
    let (_, dx) = Spring::scaled_grad(0.3, 2);
    assert!((dx - 2.0 * 0.3_f64.exp()).abs() < 1e-12);
    for x in [1.9, -0.6] {
        check::gradient(|x: &f64| s.doubled(*x), |x| s.doubled_grad(*x).1, &x).assert();
    }
}

/// A hand-written rule: softplus with a custom pullback.
fn softplus(x: f64) -> f64 {
    x.exp().ln_1p()
}

fn softplus_vjp(x: f64) -> (f64, impl FnOnce(f64) -> f64) {
    let y = softplus(x);
    let s = 1.0 / (1.0 + (-x).exp());
    (y, move |d: f64| d * s)
}

#[differentiable]
fn uses_custom(x: f64, y: f64) -> f64 {
    softplus(x * y) + softplus(y)
}

#[test]
fn hand_written_vjp_companions_are_picked_up() {
    check::gradient(
        |&(x, y): &(f64, f64)| uses_custom(x, y),
        |&(x, y)| uses_custom_grad(x, y).1,
        &(0.6, -1.4),
    )
    .assert();
}

#[differentiable]
fn with_no_grad(x: f64, #[no_grad] scale: f64, n: usize) -> f64 {
    let frozen = no_grad(x * x);
    let mut total = 0.0;
    let mut count = 0;
    for i in 0..n {
        count += i;
        total += x * frozen * scale;
    }
    assert!(count <= n * n, "passive statements run as written");
    total
}

#[test]
fn no_grad_and_passive_statements() {
    let (v, dx) = with_no_grad_grad(1.5, 2.0, 4);
    assert_eq!(v, with_no_grad(1.5, 2.0, 4));
    // d/dx of 4 * x * c * 2 with c = x^2 frozen.
    assert!((dx - 4.0 * 2.25 * 2.0).abs() < 1e-12);
}

/// Macros naming a variable that a second binding of the same name shadows (the generated
/// code renames both), in arguments and captured by a format string.
#[differentiable]
fn logged(x: &[f64], #[no_grad] log: &std::cell::RefCell<Vec<String>>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
    }
    let width = 3;
    let mut p = 1.0;
    for i in 0..x.len() {
        p = p * (x[i] + 2.0);
        log.borrow_mut().push(format!("{i:>width$}: {}", i * 2));
        assert!(i < x.len(), "index {i} past {}", x.len());
        println!("step {i} of {}", x.len());
    }
    s + p
}

#[test]
fn macros_name_shadowed_variables() {
    let x = vec![0.6, -1.1, 0.3];
    let log = Default::default();
    let (value, _) = logged_grad(&x, &log);
    assert_eq!(value, logged(&x, &Default::default()));
    assert_eq!(log.into_inner(), ["  0: 0", "  1: 2", "  2: 4"]);
    let fresh = || Default::default();
    check::gradient(
        |x: &Vec<f64>| logged(x, &fresh()),
        |x| logged_grad(x, &fresh()).1,
        &x,
    )
    .assert();
}

#[differentiable]
fn zero_iterations(x: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in 0..n {
        y *= x;
    }
    y
}

#[test]
fn loops_of_zero_one_and_many_iterations() {
    for n in [0, 1, 7] {
        check::gradient(
            |x: &f64| zero_iterations(*x, n),
            |x| zero_iterations_grad(*x, n).1,
            &1.1,
        )
        .assert();
    }
}

#[differentiable]
fn vector_output(x: f64, y: f64) -> (f64, f64) {
    (x * y, y.exp())
}

#[test]
fn vjp_with_tuple_output_takes_a_tuple_seed() {
    let (out, pullback) = vector_output_vjp(0.5, 1.5);
    assert_eq!(out, vector_output(0.5, 1.5));
    let (dx, dy) = pullback((2.0, 3.0));
    assert!((dx - 2.0 * 1.5).abs() < 1e-12);
    assert!((dy - (2.0 * 0.5 + 3.0 * 1.5_f64.exp())).abs() < 1e-12);
}

// Callees that leave a parameter out (`#[no_grad]`, `wrt(...)`) return no gradient for it;
// the caller writes the argument in that position as `no_grad(...)`.

#[differentiable]
fn scaled_sine<T: Real>(x: T, #[no_grad] scale: T) -> T {
    scale * x.sin()
}

#[differentiable]
fn two_scaled_sines<T: Real>(x: T, y: T, #[no_grad] scale: T) -> T {
    scaled_sine(x * y, no_grad(scale)) + scaled_sine(y, no_grad(scale * scale))
}

#[test]
fn calls_into_no_grad_parameters() {
    for (x, y) in [(0.8, -1.3), (-0.4, 2.1)] {
        check::gradient(
            |&(x, y): &(f64, f64)| two_scaled_sines(x, y, 1.7),
            |&(x, y)| two_scaled_sines_grad(x, y, 1.7).1,
            &(x, y),
        )
        .assert();
    }
    let (v32, (dx32, _)) = two_scaled_sines_grad(0.8_f32, -1.3, 1.7);
    let (v64, (dx64, _)) = two_scaled_sines_grad(0.8_f64, -1.3, 1.7);
    assert!((v32 as f64 - v64).abs() < 1e-5 && (dx32 as f64 - dx64).abs() < 1e-5);
}

#[differentiable(wrt(w))]
fn weighted(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

/// A squared residual through a callee with `wrt(w)`, and one that keeps the default (the
/// `no_grad` argument of `scaled_sine` there only stops the gradient).
#[differentiable]
fn residual(w: &[f64], b: f64, #[no_grad] x: &[f64], #[no_grad] y: f64) -> f64 {
    let r = weighted(w, no_grad(x)) + b - y;
    r * r + poly(b, no_grad(y))
}

#[test]
fn calls_into_wrt_subsets_and_stopped_arguments() {
    let (x, y) = ([0.5, -1.25, 2.0], 0.3);
    check::gradient(
        |(w, b): &(Vec<f64>, f64)| residual(w, *b, &x, y),
        |(w, b)| residual_grad(w, *b, &x, y).1,
        &(vec![0.7, 0.2, -0.9], 1.1),
    )
    .assert();
}

#[derive(Clone, Debug, autodiff::Differentiable)]
struct Line {
    slope: f64,
    intercept: f64,
}

impl Line {
    /// Mean squared error on the points `(x[i], y[i])`.
    #[differentiable]
    fn loss(&self, #[no_grad] x: &[f64], #[no_grad] y: &[f64]) -> f64 {
        let mut total = 0.0;
        for i in 0..x.len() {
            let r = self.slope * x[i] + self.intercept - y[i];
            total += r * r;
        }
        total / x.len() as f64
    }

    /// The loss of the model with a ridge penalty, calling the model's own `loss`.
    #[differentiable]
    fn ridge(&self, #[no_grad] x: &[f64], #[no_grad] y: &[f64], #[no_grad] lambda: f64) -> f64 {
        self.loss(no_grad(x), no_grad(y)) + lambda * self.slope * self.slope
    }
}

#[test]
fn a_method_calls_a_method_with_no_grad_data() {
    let (x, y) = ([0.5, -1.0, 2.0, 3.5], [1.2, -0.3, 2.9, 4.1]);
    check::gradient(
        |m: &Line| m.ridge(&x, &y, 0.25),
        |m| m.ridge_grad(&x, &y, 0.25).1,
        &Line {
            slope: 0.8,
            intercept: -0.4,
        },
    )
    .assert();
}

/// Counts its calls: an argument expression with a side effect.
struct Counter(std::cell::Cell<u32>);

impl Counter {
    fn next_weight(&self) -> f64 {
        self.0.set(self.0.get() + 1);
        0.5 + 0.25 * self.0.get() as f64
    }

    fn weights(&self, n: usize) -> Vec<f64> {
        self.0.set(self.0.get() + 1);
        (0..n).map(|i| 1.5 - 0.4 * i as f64).collect()
    }
}

/// Takes `v` by value, so the caller's argument is moved into the call.
#[differentiable]
fn dot_owned(x: &[f64], #[no_grad] v: Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * v[i];
    }
    s
}

/// Arguments that are expressions of their own, to callees that differentiate them or
/// leave them out, in straight-line code and in a loop.
#[differentiable]
fn with_counted_arguments(x: &[f64], #[no_grad] c: &Counter) -> f64 {
    let a = dot_owned(x, no_grad(c.weights(x.len())));
    let mut b = poly(x[0], c.next_weight());
    for i in 1..x.len() {
        b += scaled_sine(x[i], no_grad(c.next_weight()));
    }
    a * b
}

#[test]
fn argument_expressions_run_once_per_call() {
    let x = [0.7, -1.2, 0.4];
    let primal_runs = {
        let c = Counter(Default::default());
        with_counted_arguments(&x, &c);
        c.0.get()
    };
    assert_eq!(primal_runs, 4);
    let c = Counter(Default::default());
    let (value, _) = with_counted_arguments_grad(&x, &c);
    assert_eq!(
        c.0.get(),
        primal_runs,
        "the gradient ran argument expressions again"
    );
    let c = Counter(Default::default());
    let (vjp_value, pullback) = with_counted_arguments_vjp(&x, &c);
    pullback(1.0);
    assert_eq!(
        c.0.get(),
        primal_runs,
        "the pullback ran argument expressions again"
    );
    assert_eq!(value, vjp_value);
    // A fresh counter per evaluation, so that every point sees the same weights.
    check::gradient(
        |x: &Vec<f64>| with_counted_arguments(x, &Counter(Default::default())),
        |x| with_counted_arguments_grad(x, &Counter(Default::default())).1,
        &x.to_vec(),
    )
    .assert();
}
