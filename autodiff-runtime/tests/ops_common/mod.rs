//! Shared helpers of the `ops_*` and `rules_array` tests: seeded random inputs and seeds,
//! and finite-difference checks of `_vjp` functions through `autodiff_runtime::check`.

#![allow(dead_code)]

use autodiff_runtime::check::{self, Config};
use autodiff_runtime::{Differentiable, Tangent};
use ndarray::{Array, Dimension, IntoDimension};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Uniform values in `[lo, hi)`.
pub fn uniform<Sh: IntoDimension>(
    rng: &mut StdRng,
    shape: Sh,
    lo: f64,
    hi: f64,
) -> Array<f64, Sh::Dim> {
    Array::from_shape_simple_fn(shape, || rng.random_range(lo..hi))
}

/// Uniform values in `[-2, 2)`.
pub fn normalish<Sh: IntoDimension>(rng: &mut StdRng, shape: Sh) -> Array<f64, Sh::Dim> {
    uniform(rng, shape, -2.0, 2.0)
}

/// Values of magnitude in `[0.2, 2)` with random signs (away from 0, for kinks and
/// divisions).
pub fn away_from_zero<Sh: IntoDimension>(rng: &mut StdRng, shape: Sh) -> Array<f64, Sh::Dim> {
    Array::from_shape_simple_fn(shape, || {
        let v = rng.random_range(0.2..2.0);
        if rng.random_bool(0.5) { v } else { -v }
    })
}

/// A random pullback seed of `y`'s shape (not all ones).
pub fn seed_like<D: Dimension>(rng: &mut StdRng, y: &Array<f64, D>) -> Array<f64, D> {
    uniform(rng, y.raw_dim(), -1.5, 1.5)
}

/// A random scalar seed.
pub fn scalar_seed(rng: &mut StdRng) -> f64 {
    rng.random_range(0.5..1.5) * if rng.random_bool(0.5) { 1.0 } else { -1.0 }
}

/// The settings every smooth op here passes with in `f64`.
pub fn cfg() -> Config {
    Config::default()
}

/// Checks `vjp` against central differences of `f` at `x` with `seed`, and that the value
/// `vjp` returns equals `f(x)`.
#[track_caller]
pub fn check_vjp<X, Y, P>(f: impl Fn(&X) -> Y, vjp: impl Fn(&X) -> (Y, P), x: &X, seed: &Y::Tangent)
where
    X: Differentiable + Clone,
    Y: Differentiable + PartialEq + std::fmt::Debug,
    P: FnOnce(Y::Tangent) -> X::Tangent,
{
    check_vjp_with(&cfg(), f, vjp, x, seed);
}

/// [`check_vjp`] with explicit settings.
#[track_caller]
pub fn check_vjp_with<X, Y, P>(
    cfg: &Config,
    f: impl Fn(&X) -> Y,
    vjp: impl Fn(&X) -> (Y, P),
    x: &X,
    seed: &Y::Tangent,
) where
    X: Differentiable + Clone,
    Y: Differentiable + PartialEq + std::fmt::Debug,
    P: FnOnce(Y::Tangent) -> X::Tangent,
{
    let (y, _) = vjp(x);
    assert_eq!(
        y,
        f(x),
        "the value of the `_vjp` differs from the forward function"
    );
    check::vjp_with(cfg, &f, |x: &X, s: Y::Tangent| (vjp(x).1)(s), x, seed).assert();
}

/// `a ≈ b` elementwise (absolute and relative tolerance `tol`).
#[track_caller]
pub fn assert_close<T: Tangent>(a: &T, b: &T, tol: f64) {
    let (la, lb) = (a.leaves(), b.leaves());
    assert_eq!(la.len(), lb.len());
    for (x, y) in la.iter().zip(&lb) {
        assert_eq!(x.len(), y.len());
        for i in 0..x.len() {
            let (u, v) = (x.get(i), y.get(i));
            assert!(
                (u - v).abs() <= tol * (1.0 + u.abs().max(v.abs())),
                "element {i}: {u} vs {v}"
            );
        }
    }
}
