//! Gradient clipping by global norm and by value.

use super::{check_non_negative, map_tangent};
use crate::Tangent;

/// Rescales `grads` so that their global Euclidean norm (over every buffer) is at most
/// `max_norm`, and returns the norm before clipping, as PyTorch's
/// `torch.nn.utils.clip_grad_norm_`.
///
/// ```text
/// n = √(Σ g²)                           over every element of every buffer
/// if n > max_norm:  g ← g · max_norm / (n + 1e-6)
/// ```
///
/// A non-finite norm (a NaN or infinite gradient) leaves the gradients unchanged; check
/// the returned value to skip such a step.
///
/// # Panics
/// If `max_norm` is negative or not finite.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::clip_grad_norm;
/// use ndarray::array;
///
/// let mut grads = (3.0_f64, array![0.0_f64, 4.0]);
/// let norm = clip_grad_norm(&mut grads, 1.0);
/// assert_eq!(norm, 5.0);
/// assert!((grads.0 - 0.6).abs() < 1e-6 && (grads.1[1] - 0.8).abs() < 1e-6);
/// ```
#[track_caller]
pub fn clip_grad_norm<T: Tangent>(grads: &mut T, max_norm: f64) -> f64 {
    check_non_negative("clip_grad_norm", "max norm", max_norm);
    let norm = grads.norm();
    let coef = max_norm / (norm + 1e-6);
    if norm.is_finite() && coef < 1.0 {
        grads.scale(coef);
    }
    norm
}

/// Clamps every element of `grads` to `[-clip_value, clip_value]`, as PyTorch's
/// `torch.nn.utils.clip_grad_value_`. NaN elements stay NaN.
///
/// # Panics
/// If `clip_value` is negative or not finite.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::clip_grad_value;
///
/// let mut grads = vec![-3.0_f64, 0.5, 2.0];
/// clip_grad_value(&mut grads, 1.0);
/// assert_eq!(grads, vec![-1.0, 0.5, 1.0]);
/// ```
#[track_caller]
pub fn clip_grad_value<T: Tangent>(grads: &mut T, clip_value: f64) {
    check_non_negative("clip_grad_value", "clip value", clip_value);
    map_tangent(grads, |g| g.clamp(-clip_value, clip_value));
}
