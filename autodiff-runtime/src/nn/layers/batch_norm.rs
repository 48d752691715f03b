//! `BatchNorm2d`: batch normalization with running statistics.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use autodiff_macros::Differentiable;
use ndarray::{Array1, Array4, Axis, Zip};
use serde::{Deserialize, Serialize};

use crate::Real;

/// Batch normalization of N x C x H x W images, as PyTorch's `nn.BatchNorm2d(C)`.
///
/// While training, each channel is normalized with the batch's mean and biased variance
/// over N, H and W (through [`nn::batch_norm2d`](crate::nn::batch_norm2d)), and the running
/// statistics move towards the batch's: `running = (1 - momentum) · running + momentum ·
/// batch`, with the unbiased variance, as PyTorch does. In evaluation the running
/// statistics normalize instead, and are left alone. See [`TrainingMode`](super::TrainingMode).
///
/// ```text
/// training:   y = γ_c (x - μ_batch) / √(σ²_batch + eps) + β_c
/// evaluation: y = γ_c (x - running_mean_c) / √(running_var_c + eps) + β_c
/// ```
///
/// `weight` (γ) and `bias` (β) are the parameters; `running_mean` and `running_var` are
/// buffers: no gradient, but saved and loaded by [`io`](crate::io) under PyTorch's names.
/// `forward` takes `&self`, so the running statistics sit behind a `Mutex`.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn::{self, TrainingMode};
/// use ndarray::Array4;
///
/// let mut bn = nn::BatchNorm2d::<f64>::new(2);
/// let x = Array4::from_shape_fn((4, 2, 3, 3), |(n, c, i, j)| (n + 3 * c + i * j) as f64);
/// let y = bn.forward(&x); // batch statistics; the running ones move
/// assert!(y.mean().unwrap().abs() < 1e-12);
/// assert!(bn.running_mean()[1] > 0.0);
/// bn.eval();
/// let z = bn.forward(&x); // running statistics
/// assert_ne!(y, z);
/// ```
#[derive(Differentiable, Serialize, Deserialize)]
#[autodiff(crate = "crate")]
#[serde(bound = "")]
pub struct BatchNorm2d<A: Real = f32> {
    /// γ, one scale per channel (PyTorch's `weight`), initialized to 1.
    pub weight: Array1<A>,
    /// β, one shift per channel (PyTorch's `bias`), initialized to 0.
    pub bias: Array1<A>,
    /// The running mean of each channel, initialized to 0.
    #[autodiff(buffer)]
    running_mean: Mutex<Array1<A>>,
    /// The running (unbiased) variance of each channel, initialized to 1.
    #[autodiff(buffer)]
    running_var: Mutex<Array1<A>>,
    /// Added to the variance before the square root: `1e-5` unless [`BatchNorm2d::eps`] sets it.
    #[no_grad]
    pub eps: A,
    /// The weight of a batch in the running statistics: `0.1` unless
    /// [`BatchNorm2d::momentum`] sets it.
    #[no_grad]
    pub momentum: A,
    /// Whether the layer is in training mode (it starts there).
    #[autodiff(training)]
    training: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<A: Real> BatchNorm2d<A> {
    /// Batch normalization of `num_features` channels, with γ = 1, β = 0, running mean 0,
    /// running variance 1, eps = 1e-5 and momentum 0.1, as PyTorch initializes it.
    ///
    /// # Panics
    /// When `num_features` is 0.
    #[track_caller]
    pub fn new(num_features: usize) -> Self {
        assert!(
            num_features > 0,
            "nn::BatchNorm2d::new: num_features must be positive, got num_features = 0"
        );
        BatchNorm2d {
            weight: Array1::ones(num_features),
            bias: Array1::zeros(num_features),
            running_mean: Mutex::new(Array1::zeros(num_features)),
            running_var: Mutex::new(Array1::ones(num_features)),
            eps: A::from_f64(1e-5),
            momentum: A::from_f64(0.1),
            training: true,
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
            "nn::BatchNorm2d::eps: eps must be finite and non-negative, got eps = {eps}"
        );
        self.eps = eps;
        self
    }

    /// The same layer with another momentum for the running statistics.
    ///
    /// # Panics
    /// When `momentum` is not in `[0, 1]`.
    #[track_caller]
    pub fn momentum(mut self, momentum: A) -> Self {
        assert!(
            momentum >= A::zero() && momentum <= A::one(),
            "nn::BatchNorm2d::momentum: momentum must be in [0, 1], got momentum = {momentum}"
        );
        self.momentum = momentum;
        self
    }

    /// The number of channels.
    pub fn num_features(&self) -> usize {
        self.weight.len()
    }

    /// Whether the layer is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// A copy of the running mean.
    pub fn running_mean(&self) -> Array1<A> {
        lock(&self.running_mean).clone()
    }

    /// A copy of the running variance.
    pub fn running_var(&self) -> Array1<A> {
        lock(&self.running_var).clone()
    }

    /// Sets the running statistics (as loading a PyTorch model would).
    ///
    /// # Panics
    /// When either has not one element per channel.
    #[track_caller]
    pub fn set_running_stats(&mut self, mean: Array1<A>, var: Array1<A>) {
        let c = self.num_features();
        assert!(
            mean.len() == c && var.len() == c,
            "nn::BatchNorm2d::set_running_stats: {c} channels, but mean has {} and var {} elements",
            mean.len(),
            var.len()
        );
        *self
            .running_mean
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = mean;
        *self
            .running_var
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = var;
    }

    /// Normalizes `x`: with the batch's statistics (updating the running ones) while
    /// training, with the running statistics in evaluation.
    ///
    /// # Panics
    /// When `x` has not `num_features` channels, or, while training, one value per channel.
    #[track_caller]
    pub fn forward(&self, x: &Array4<A>) -> Array4<A> {
        self.check_channels(x);
        if self.training {
            self.update_running_stats(x);
            crate::nn::batch_norm2d(x, &self.weight, &self.bias, self.eps)
        } else {
            self.eval_forward(x).0
        }
    }

    /// Vector-Jacobian product of [`BatchNorm2d::forward`]: the output and the pullback
    /// `d_y ↦ (d_layer, d_x)`. While training it updates the running statistics, as
    /// `forward` does.
    ///
    /// # Panics
    /// As [`BatchNorm2d::forward`].
    #[allow(clippy::type_complexity)]
    #[track_caller]
    pub fn forward_vjp(
        &self,
        x: &Array4<A>,
    ) -> (
        Array4<A>,
        impl FnOnce(Array4<A>) -> (BatchNorm2dTangent<A>, Array4<A>) + use<A>,
    ) {
        self.check_channels(x);
        // Training: the batch statistics' rule; evaluation: an affine map per channel.
        let (y, pullback) = if self.training {
            self.update_running_stats(x);
            let (y, pullback) = crate::nn::batch_norm2d_vjp(x, &self.weight, &self.bias, self.eps);
            (y, Ok(pullback))
        } else {
            let (y, x_hat, scale) = self.eval_forward(x);
            (y, Err((x_hat, scale)))
        };
        (y, move |d_y: Array4<A>| match pullback {
            Ok(pullback) => {
                let (d_x, weight, bias) = pullback(d_y);
                (BatchNorm2dTangent { weight, bias }, d_x)
            }
            Err((x_hat, scale)) => {
                assert!(
                    d_y.shape() == x_hat.shape(),
                    "nn::BatchNorm2d::forward_vjp: the pullback's seed has shape {:?}, but the output has shape {:?}",
                    d_y.shape(),
                    x_hat.shape()
                );
                // d_γ_c = Σ d_y x̂,  d_β_c = Σ d_y,  d_x = d_y γ_c / √(running_var_c + eps)
                let weight = (&d_y * &x_hat)
                    .sum_axis(Axis(3))
                    .sum_axis(Axis(2))
                    .sum_axis(Axis(0));
                let bias = d_y.sum_axis(Axis(3)).sum_axis(Axis(2)).sum_axis(Axis(0));
                let mut d_x = d_y;
                for (c, mut channel) in d_x.axis_iter_mut(Axis(1)).enumerate() {
                    channel.mapv_inplace(|v| v * scale[c]);
                }
                (BatchNorm2dTangent { weight, bias }, d_x)
            }
        })
    }

    #[track_caller]
    fn check_channels(&self, x: &Array4<A>) {
        assert!(
            x.shape()[1] == self.num_features(),
            "nn::BatchNorm2d::forward: x of shape {:?} has {} channels, but the layer has {}",
            x.shape(),
            x.shape()[1],
            self.num_features()
        );
    }

    /// `running = (1 - momentum) running + momentum batch`, with the unbiased batch variance.
    #[track_caller]
    fn update_running_stats(&self, x: &Array4<A>) {
        let (n, _, h, w) = x.dim();
        let m = n * h * w;
        assert!(
            m > 1,
            "nn::BatchNorm2d::forward: training needs more than one value per channel, got x of shape {:?}",
            x.shape()
        );
        let count = A::from_f64(m as f64);
        let mut running_mean = lock(&self.running_mean);
        let mut running_var = lock(&self.running_var);
        for (c, channel) in x.axis_iter(Axis(1)).enumerate() {
            let mean = channel.sum() / count;
            let var = channel.fold(A::zero(), |acc, &v| acc + (v - mean) * (v - mean))
                / (count - A::one());
            running_mean[c] = (A::one() - self.momentum) * running_mean[c] + self.momentum * mean;
            running_var[c] = (A::one() - self.momentum) * running_var[c] + self.momentum * var;
        }
    }

    /// `(y, x̂, γ / √(running_var + eps))` with the running statistics.
    fn eval_forward(&self, x: &Array4<A>) -> (Array4<A>, Array4<A>, Array1<A>) {
        let running_mean = lock(&self.running_mean);
        let running_var = lock(&self.running_var);
        let inv_std = running_var.mapv(|v| (v + self.eps).sqrt().recip());
        let mut x_hat = x.to_owned();
        for (c, mut channel) in x_hat.axis_iter_mut(Axis(1)).enumerate() {
            let (mean, inv_std) = (running_mean[c], inv_std[c]);
            channel.mapv_inplace(|v| (v - mean) * inv_std);
        }
        let mut y = x_hat.clone();
        for (c, mut channel) in y.axis_iter_mut(Axis(1)).enumerate() {
            let (gamma, beta) = (self.weight[c], self.bias[c]);
            channel.mapv_inplace(|v| gamma * v + beta);
        }
        let scale = Zip::from(&self.weight)
            .and(&inv_std)
            .map_collect(|&g, &s| g * s);
        (y, x_hat, scale)
    }
}

impl<A: Real> Clone for BatchNorm2d<A> {
    fn clone(&self) -> Self {
        BatchNorm2d {
            weight: self.weight.clone(),
            bias: self.bias.clone(),
            running_mean: Mutex::new(self.running_mean()),
            running_var: Mutex::new(self.running_var()),
            eps: self.eps,
            momentum: self.momentum,
            training: self.training,
        }
    }
}

impl<A: Real> fmt::Debug for BatchNorm2d<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchNorm2d")
            .field("weight", &self.weight)
            .field("bias", &self.bias)
            .field("running_mean", &self.running_mean())
            .field("running_var", &self.running_var())
            .field("eps", &self.eps)
            .field("momentum", &self.momentum)
            .field("training", &self.training)
            .finish()
    }
}
