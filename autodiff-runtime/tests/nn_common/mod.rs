//! Inputs for the `nn` gradient tests: seeded random arrays of chosen shapes and ranges.
#![allow(dead_code)]

use ndarray::{Array, Dimension, ShapeBuilder};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded generator: every test draws its inputs from its own fixed seed.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Uniform in `[lo, hi)`.
pub fn uniform<Sh, D>(rng: &mut StdRng, shape: Sh, lo: f64, hi: f64) -> Array<f64, D>
where
    Sh: ShapeBuilder<Dim = D>,
    D: Dimension,
{
    Array::from_shape_simple_fn(shape, || rng.random_range(lo..hi))
}

/// Uniform in `±[0.1, 2)`: away from the kinks at 0 of relu and friends.
pub fn away_from_zero<Sh, D>(rng: &mut StdRng, shape: Sh) -> Array<f64, D>
where
    Sh: ShapeBuilder<Dim = D>,
    D: Dimension,
{
    Array::from_shape_simple_fn(shape, || {
        let v = rng.random_range(0.1..2.0);
        if rng.random_bool(0.5) { v } else { -v }
    })
}

/// A random seed (output cotangent) of the shape of `y`, in `[-1, 1)`.
pub fn seed_like<D: Dimension>(rng: &mut StdRng, y: &Array<f64, D>) -> Array<f64, D> {
    Array::from_shape_simple_fn(y.raw_dim(), || rng.random_range(-1.0..1.0))
}

/// A random scalar seed away from 0.
pub fn scalar_seed(rng: &mut StdRng) -> f64 {
    rng.random_range(0.5..1.5) * if rng.random_bool(0.5) { 1.0 } else { -1.0 }
}

/// `n` random labels below `classes`.
pub fn labels(rng: &mut StdRng, n: usize, classes: usize) -> Vec<usize> {
    (0..n).map(|_| rng.random_range(0..classes)).collect()
}
