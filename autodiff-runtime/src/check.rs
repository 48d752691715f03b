//! Numerical gradient checking by finite differences.
//!
//! [`gradient`] compares the gradient of a scalar-valued function with finite differences,
//! element by element; [`vjp`] does the same for a vector-valued function through a
//! vector-Jacobian product, comparing `vjp(x, seed)[i]` with the directional derivative
//! `<seed, ∂f/∂x_i>`. Both return a [`Report`]: call [`Report::assert`] in tests.
//!
//! The input is cloned once; each element is perturbed in the clone through
//! [`Differentiable::leaves_mut`] and restored afterwards, and the function's output is
//! widened to `f64`, so `f32` and `f64` inputs (and outputs) are both accepted. The
//! analytic derivative is read through [`Tangent::leaves`], in the same order. Central
//! differences are the default; [`Config`] selects forward, backward, 4- and 6-point
//! central differences ([`Stencil`]), the step and the tolerances.
//!
//! Several inputs: make the input a tuple.
//!
//! # Examples
//!
//! ```
//! use autodiff_runtime::check::{self, Config, Stencil};
//! use ndarray::{array, Array1};
//!
//! // f(a, b) = b * Σ a_i², ∇f = (2 b a, Σ a_i²)
//! let f = |(a, b): &(Array1<f64>, f64)| b * a.dot(a);
//! let grad = |(a, b): &(Array1<f64>, f64)| (a * (2.0 * b), a.dot(a));
//! let x = (array![1.0, -2.0, 0.5], 3.0);
//! check::gradient(f, grad, &x).assert();
//!
//! // The same with a fourth-order stencil and a larger step.
//! let cfg = Config::default().stencil(Stencil::Central4).step(1e-3);
//! check::gradient_with(&cfg, f, grad, &x).assert();
//!
//! // A wrong gradient is caught, and the report names the element.
//! let wrong = |(a, b): &(Array1<f64>, f64)| (a * *b, a.dot(a));
//! let report = check::gradient(f, wrong, &x);
//! assert!(!report.passed());
//! assert!(report.to_string().contains("leaf 0, index 1"));
//! ```

mod report;
mod stencil;

pub use report::{Config, Element, Report};
pub use stencil::Stencil;

use crate::{Differentiable, Leaf, Real, Tangent};

/// Checks the gradient of a scalar-valued function against central differences with the
/// default [`Config`].
///
/// `grad(x)` is the analytic gradient, a tangent of `X` (with several inputs, make `X` a
/// tuple and return a tuple of gradients).
///
/// # Panics
/// If `f` panics, or if `X` cannot be updated in place (a reference or an array view).
///
/// # Examples
///
/// ```
/// use autodiff_runtime::check;
///
/// // f(a, b) = Σ a_i * b, ∇f = ([b; n], Σ a_i)
/// let f = |(a, b): &(Vec<f64>, f64)| a.iter().sum::<f64>() * b;
/// let grad = |(a, b): &(Vec<f64>, f64)| (vec![*b; a.len()], a.iter().sum::<f64>());
/// check::gradient(f, grad, &(vec![1.0, 2.0, 3.0], 0.5)).assert();
/// ```
#[track_caller]
pub fn gradient<X, O, F, G>(f: F, grad: G, x: &X) -> Report
where
    X: Differentiable + Clone,
    O: Real,
    F: Fn(&X) -> O,
    G: Fn(&X) -> X::Tangent,
{
    gradient_with(&Config::default(), f, grad, x)
}

/// [`gradient`] with explicit settings.
///
/// # Panics
/// If `cfg` holds an invalid step or tolerance, if `f` panics, or if `X` cannot be
/// updated in place (a reference or an array view).
///
/// # Examples
///
/// ```
/// use autodiff_runtime::check::{self, Config, Stencil};
///
/// // sqrt is only defined for x >= 0: check at 0 from the right.
/// let cfg = Config::default().stencil(Stencil::Forward).step(1e-8).rtol(1e-3);
/// check::gradient_with(&cfg, |x: &f64| (x + 1.0).sqrt(), |x| 0.5 / (x + 1.0).sqrt(), &0.0).assert();
/// ```
#[track_caller]
pub fn gradient_with<X, O, F, G>(cfg: &Config, f: F, grad: G, x: &X) -> Report
where
    X: Differentiable + Clone,
    O: Real,
    F: Fn(&X) -> O,
    G: Fn(&X) -> X::Tangent,
{
    cfg.validate();
    let analytic = grad(x);
    compare("gradient", cfg, x, &analytic, |x| f(x).to_f64())
}

/// Checks a vector-Jacobian product against finite differences with the default
/// [`Config`].
///
/// For every input element `i`, `vjp(x, seed)[i]` is compared with the derivative of
/// `<seed, f(x)>` with respect to `x_i`. `seed` must have the shape of `f(x)`; a seed that
/// is not all ones (random, say) catches transposed or mis-broadcast rules.
///
/// # Panics
/// If `seed` does not match the buffers of `f(x)`, if `f` panics, or if `X` cannot be
/// updated in place.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::check;
/// use ndarray::{array, Array1};
///
/// // y = exp(x) elementwise, so x̄ = ȳ * exp(x).
/// let f = |x: &Array1<f64>| x.exp();
/// let vjp = |x: &Array1<f64>, dy: Array1<f64>| dy * x.exp();
/// check::vjp(f, vjp, &array![0.1, -0.4, 1.2], &array![1.0, -2.0, 0.5]).assert();
/// ```
#[track_caller]
pub fn vjp<X, Y, F, V>(f: F, vjp: V, x: &X, seed: &Y::Tangent) -> Report
where
    X: Differentiable + Clone,
    Y: Differentiable,
    F: Fn(&X) -> Y,
    V: Fn(&X, Y::Tangent) -> X::Tangent,
{
    vjp_with(&Config::default(), f, vjp, x, seed)
}

/// [`vjp`] with explicit settings.
///
/// # Panics
/// If `cfg` holds an invalid step or tolerance, if `seed` does not match the buffers of
/// `f(x)`, if `f` panics, or if `X` cannot be updated in place.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::check::{self, Config, Stencil};
///
/// // y = (x0 * x1, x0 + x1): x̄ = (ȳ0 x1 + ȳ1, ȳ0 x0 + ȳ1)
/// let f = |x: &Vec<f64>| (x[0] * x[1], x[0] + x[1]);
/// let vjp = |x: &Vec<f64>, (a, b): (f64, f64)| vec![a * x[1] + b, a * x[0] + b];
/// let cfg = Config::default().stencil(Stencil::Central6).step(1e-3);
/// check::vjp_with(&cfg, f, vjp, &vec![2.0, 3.0], &(0.7, -1.3)).assert();
/// ```
#[track_caller]
pub fn vjp_with<X, Y, F, V>(cfg: &Config, f: F, vjp: V, x: &X, seed: &Y::Tangent) -> Report
where
    X: Differentiable + Clone,
    Y: Differentiable,
    F: Fn(&X) -> Y,
    V: Fn(&X, Y::Tangent) -> X::Tangent,
{
    cfg.validate();
    let seed_leaves = seed.leaves();
    let y = f(x);
    let y_shape = shape(&y.leaves());
    let seed_shape = shape(&seed_leaves);
    assert!(
        y_shape == seed_shape,
        "check::vjp: the seed has buffers of lengths {seed_shape:?} but f(x) has {y_shape:?}"
    );
    let analytic = vjp(x, seed.clone());
    compare("vjp", cfg, x, &analytic, |x| {
        dot(&f(x).leaves(), &seed_leaves)
    })
}

/// Compares `analytic` with finite differences of the scalar function `s` at `x`.
#[track_caller]
fn compare<X, T>(
    kind: &'static str,
    cfg: &Config,
    x: &X,
    analytic: &T,
    s: impl Fn(&X) -> f64,
) -> Report
where
    X: Differentiable + Clone,
    T: Tangent,
{
    let grad_leaves = analytic.leaves();
    let x_shape = shape(&x.leaves());
    let grad_shape = shape(&grad_leaves);
    if x_shape != grad_shape {
        let message = format!(
            "the derivative has buffers of lengths {grad_shape:?} but the input has {x_shape:?}"
        );
        return Report::mismatch(kind, cfg, message);
    }

    let mut report = Report::new(kind, cfg);
    let mut xp = x.clone();
    let center = cfg.stencil.uses_center().then(|| s(x));
    for (leaf, g) in grad_leaves.iter().enumerate() {
        for index in 0..g.len() {
            let x0 = xp.leaves_mut()[leaf].get(index);
            let h = representable_step(&mut xp, leaf, index, x0, cfg.step);
            let numeric = cfg.stencil.estimate(h, |k| match (k, center) {
                (0, Some(c)) => c,
                _ => {
                    xp.leaves_mut()[leaf].set(index, x0 + f64::from(k) * h);
                    s(&xp)
                }
            });
            xp.leaves_mut()[leaf].set(index, x0);
            report.record(leaf, index, g.get(index), numeric);
        }
    }
    report
}

/// The step actually stored when `x0 + step` is written into the element (for `f32`, or
/// for large values, this differs from `step`), doubling `step` while it rounds away.
/// Leaves the element perturbed; the caller restores it.
fn representable_step<X: Differentiable>(
    xp: &mut X,
    leaf: usize,
    index: usize,
    x0: f64,
    step: f64,
) -> f64 {
    let mut step = step;
    loop {
        let mut leaves = xp.leaves_mut();
        leaves[leaf].set(index, x0 + step);
        let h = leaves[leaf].get(index) - x0;
        if h != 0.0 || !x0.is_finite() || !step.is_finite() {
            return h;
        }
        step *= 2.0;
    }
}

fn shape(leaves: &[Leaf<'_>]) -> Vec<usize> {
    leaves.iter().map(Leaf::len).collect()
}

fn dot(a: &[Leaf<'_>], b: &[Leaf<'_>]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (0..a.len()).map(|i| a.get(i) * b.get(i)).sum::<f64>())
        .sum()
}
