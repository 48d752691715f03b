//! `LayerNorm`: normalization over the last axis.

use autodiff_macros::Differentiable;
use ndarray::{Array, Array1, Dimension};
use serde::{Deserialize, Serialize};

use crate::Real;

/// Layer normalization over the last axis, as PyTorch's `nn.LayerNorm(dim)`: each row
/// (every index of the other axes) is normalized to zero mean and unit (biased) variance,
/// then scaled by `weight` (γ) and shifted by `bias` (β), one of each per feature.
///
/// ```text
/// x̂ = (x - μ) / √(σ² + eps),   y = γ x̂ + β        (μ, σ² over the last axis)
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::array;
///
/// let norm = nn::LayerNorm::<f64>::new(2);
/// let y = norm.forward(&array![[1.0, 3.0], [-2.0, 0.0]]);
/// assert!((y[[0, 1]] - 1.0).abs() < 1e-4);
/// ```
#[derive(Clone, Debug, Differentiable, Serialize, Deserialize)]
#[autodiff(crate = "crate")]
#[serde(bound = "")]
pub struct LayerNorm<A: Real = f32> {
    /// γ, one scale per feature (PyTorch's `weight`), initialized to 1.
    pub weight: Array1<A>,
    /// β, one shift per feature (PyTorch's `bias`), initialized to 0.
    pub bias: Array1<A>,
    /// Added to the variance before the square root: `1e-5` unless [`LayerNorm::eps`] sets it.
    #[no_grad]
    pub eps: A,
}

impl<A: Real> LayerNorm<A> {
    /// Layer normalization of `dim` features (the length of the last axis), with γ = 1,
    /// β = 0 and eps = 1e-5, as PyTorch initializes it.
    ///
    /// # Panics
    /// When `dim` is 0.
    #[track_caller]
    pub fn new(dim: usize) -> Self {
        assert!(
            dim > 0,
            "nn::LayerNorm::new: dim must be positive, got dim = {dim}"
        );
        LayerNorm {
            weight: Array1::ones(dim),
            bias: Array1::zeros(dim),
            eps: A::from_f64(1e-5),
        }
    }

    /// The same layer with `eps` added to the variance.
    ///
    /// # Panics
    /// When `eps` is negative or not finite.
    #[track_caller]
    pub fn eps(mut self, eps: A) -> Self {
        assert!(
            eps >= A::zero() && eps.is_finite(),
            "nn::LayerNorm::eps: eps must be finite and non-negative, got eps = {eps}"
        );
        self.eps = eps;
        self
    }

    /// The normalized, scaled and shifted `x`.
    ///
    /// # Panics
    /// When the last axis of `x` has not `dim` elements.
    #[track_caller]
    pub fn forward<D: Dimension>(&self, x: &Array<A, D>) -> Array<A, D> {
        crate::nn::layer_norm(x, &self.weight, &self.bias, self.eps)
    }

    /// Vector-Jacobian product of [`LayerNorm::forward`]: the output and the pullback
    /// `d_y ↦ (d_layer, d_x)`.
    ///
    /// # Panics
    /// As [`LayerNorm::forward`].
    #[allow(clippy::type_complexity)]
    #[track_caller]
    pub fn forward_vjp<D: Dimension>(
        &self,
        x: &Array<A, D>,
    ) -> (
        Array<A, D>,
        impl FnOnce(Array<A, D>) -> (LayerNormTangent<A>, Array<A, D>) + use<A, D>,
    ) {
        let (y, pullback) = crate::nn::layer_norm_vjp(x, &self.weight, &self.bias, self.eps);
        (y, move |d_y| {
            let (d_x, weight, bias) = pullback(d_y);
            (LayerNormTangent { weight, bias }, d_x)
        })
    }
}
