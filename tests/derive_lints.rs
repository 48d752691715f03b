//! The derive's expansion compiles without a warning under strict lints that users may
//! enable (and clippy's pedantic group, which CI turns into errors).

#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    unused_qualifications,
    unused_results,
    unreachable_pub,
    trivial_casts,
    trivial_numeric_casts,
    unused_lifetimes,
    single_use_lifetimes
)]
#![warn(clippy::pedantic)]

use autodiff::{Differentiable, Real, nn};
use ndarray::{Array1, Array2};

/// A generic layer with a constant and a training flag.
#[derive(Clone, Debug, Differentiable)]
pub struct Layer<A: Real = f32> {
    /// The weights.
    pub weight: Array2<A>,
    /// A scale.
    pub scale: A,
    /// The number of updates.
    #[no_grad]
    pub steps: usize,
    /// Training or evaluation.
    #[autodiff(training)]
    pub training: bool,
    /// Saved, not trained.
    #[autodiff(buffer)]
    pub running: Array1<A>,
}

/// A model of layers, generic over one of them.
#[derive(Clone, Debug, Differentiable)]
pub struct Model<L, const N: usize> {
    /// The body.
    pub body: L,
    /// More layers.
    pub heads: Vec<nn::Linear>,
    /// Fixed-size parameters.
    pub gains: [f64; N],
}

/// A stateless layer.
#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Identity;

#[test]
fn expansions_compile_under_strict_lints() {
    let layer = Layer::<f64> {
        weight: Array2::zeros((2, 2)),
        scale: 1.0,
        steps: 0,
        training: true,
        running: Array1::zeros(2),
    };
    let model = Model::<Layer<f64>, 2> {
        body: layer,
        heads: Vec::new(),
        gains: [1.0; 2],
    };
    let grads: ModelTangent<Layer<f64>, 2> = model.zero_tangent();
    assert_eq!(grads.body.weight.dim(), (2, 2));
    let _: IdentityTangent = Identity.zero_tangent();
}

/// A layer the crate keeps to itself.
#[derive(Clone, Debug, Differentiable)]
struct Private {
    w: f64,
}

/// A public model with a private layer.
#[derive(Clone, Debug, Differentiable)]
pub struct Outer {
    inner: Private,
    /// A public part.
    pub bias: f64,
}

#[test]
fn private_field_types_are_no_private_bounds() {
    let outer = Outer {
        inner: Private { w: 1.0 },
        bias: 0.0,
    };
    let t: OuterTangent = outer.zero_tangent();
    assert_eq!((t.inner.w, t.bias), (0.0, 0.0));
}
