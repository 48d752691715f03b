//! `Linear`: a fully connected layer.

use autodiff_macros::Differentiable;
use ndarray::{Array1, Array2};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::init::fan_in_uniform;
use crate::Real;

/// A fully connected layer, `y = x Wᵀ + b`, as PyTorch's `nn.Linear`.
///
/// `x` is batch x `in_features`; the weight is laid out as PyTorch's (out x in), so weights
/// move between the two unchanged.
///
/// ```text
/// y   = x Wᵀ + b
/// d_x = d_y W,    d_W = d_yᵀ x,    d_b = Σ_rows d_y
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array2;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let layer: nn::Linear = nn::Linear::new(3, 2, &mut rng);
/// let x = Array2::<f32>::ones((4, 3));
/// let (y, pullback) = layer.forward_vjp(&x);
/// assert_eq!(y.dim(), (4, 2));
/// let (grads, dx) = pullback(Array2::ones((4, 2)));
/// assert_eq!(grads.weight.dim(), (2, 3));
/// assert_eq!(grads.bias, ndarray::array![4.0, 4.0]);
/// assert_eq!(dx.dim(), (4, 3));
/// ```
#[derive(Clone, Debug, Differentiable, Serialize, Deserialize)]
#[autodiff(crate = "crate")]
#[serde(bound = "")]
pub struct Linear<A: Real = f32> {
    /// The weight `W`, `out_features` x `in_features`.
    pub weight: Array2<A>,
    /// The bias `b`, `out_features` elements.
    pub bias: Array1<A>,
}

impl<A: Real> Linear<A> {
    /// A layer from `in_features` to `out_features`, initialized as PyTorch initializes
    /// `nn.Linear`: weight and bias uniform in `[-1/√in_features, 1/√in_features)`
    /// (`kaiming_uniform_` with `a = √5` for the weight).
    ///
    /// # Panics
    /// When `in_features` or `out_features` is 0.
    #[track_caller]
    pub fn new(in_features: usize, out_features: usize, rng: &mut (impl Rng + ?Sized)) -> Self {
        assert!(
            in_features > 0 && out_features > 0,
            "nn::Linear::new: in_features and out_features must be positive, got in_features = {in_features}, \
             out_features = {out_features}"
        );
        let weight = fan_in_uniform((out_features, in_features), in_features, rng);
        let bias = fan_in_uniform(out_features, in_features, rng);
        Linear { weight, bias }
    }

    /// The number of input features (columns of `x`).
    pub fn in_features(&self) -> usize {
        self.weight.ncols()
    }

    /// The number of output features (columns of `y`).
    pub fn out_features(&self) -> usize {
        self.weight.nrows()
    }

    /// `x Wᵀ + b` for a batch `x` of `in_features` columns.
    ///
    /// # Panics
    /// When `x` has not `in_features` columns.
    #[track_caller]
    pub fn forward(&self, x: &Array2<A>) -> Array2<A> {
        crate::nn::linear(x, &self.weight, &self.bias)
    }

    /// Vector-Jacobian product of [`Linear::forward`]: the output and the pullback
    /// `d_y ↦ (d_layer, d_x)`.
    ///
    /// # Panics
    /// As [`Linear::forward`].
    #[allow(clippy::type_complexity)]
    #[track_caller]
    pub fn forward_vjp(
        &self,
        x: &Array2<A>,
    ) -> (
        Array2<A>,
        impl FnOnce(Array2<A>) -> (LinearTangent<A>, Array2<A>) + use<A>,
    ) {
        let (y, pullback) = crate::nn::linear_vjp(x, &self.weight, &self.bias);
        (y, move |d_y| {
            let (d_x, weight, bias) = pullback(d_y);
            (LinearTangent { weight, bias }, d_x)
        })
    }
}
