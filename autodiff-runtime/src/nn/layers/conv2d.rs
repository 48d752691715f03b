//! `Conv2d`: a 2-D convolution layer.

use autodiff_macros::Differentiable;
use ndarray::{Array1, Array4};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::init::fan_in_uniform;
use crate::Real;

/// A 2-D convolution (cross-correlation, as in PyTorch) of N x C x H x W images with a
/// square kernel, as PyTorch's `nn.Conv2d(in_channels, out_channels, kernel_size, stride,
/// padding)`.
///
/// The weight is `out_channels` x `in_channels` x `kernel_size` x `kernel_size` (O, C, KH,
/// KW, PyTorch's layout); the output is N x O x H' x W' with
/// `H' = (H + 2 padding - kernel_size) / stride + 1`, and likewise W'.
///
/// ```text
/// y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x_pad[n, c, i·stride + u, j·stride + v]
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array4;
/// use rand::{rngs::StdRng, SeedableRng};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let conv = nn::Conv2d::<f32>::new(3, 8, 3, 1, 1, &mut rng);
/// let y = conv.forward(&Array4::zeros((2, 3, 5, 5)));
/// assert_eq!(y.dim(), (2, 8, 5, 5));
/// ```
#[derive(Clone, Debug, Differentiable, Serialize, Deserialize)]
#[autodiff(crate = "crate")]
#[serde(bound = "")]
pub struct Conv2d<A: Real = f32> {
    /// The kernels, `out_channels` x `in_channels` x `kernel_size` x `kernel_size`.
    pub weight: Array4<A>,
    /// One bias per output channel.
    pub bias: Array1<A>,
    /// The step between kernel positions, in both directions.
    #[no_grad]
    pub stride: usize,
    /// Zeros added on each side of the height and width.
    #[no_grad]
    pub padding: usize,
}

impl<A: Real> Conv2d<A> {
    /// A convolution from `in_channels` to `out_channels` channels, initialized as PyTorch
    /// initializes `nn.Conv2d`: weight and bias uniform in `[-1/√fan_in, 1/√fan_in)` with
    /// `fan_in = in_channels · kernel_size²` (`kaiming_uniform_` with `a = √5` for the weight).
    ///
    /// # Panics
    /// When `in_channels`, `out_channels`, `kernel_size` or `stride` is 0.
    #[track_caller]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        stride: usize,
        padding: usize,
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        assert!(
            in_channels > 0 && out_channels > 0 && kernel_size > 0 && stride > 0,
            "nn::Conv2d::new: in_channels, out_channels, kernel_size and stride must be positive, got \
             in_channels = {in_channels}, out_channels = {out_channels}, kernel_size = {kernel_size}, \
             stride = {stride}"
        );
        let fan_in = in_channels * kernel_size * kernel_size;
        let weight = fan_in_uniform(
            (out_channels, in_channels, kernel_size, kernel_size),
            fan_in,
            rng,
        );
        let bias = fan_in_uniform(out_channels, fan_in, rng);
        Conv2d {
            weight,
            bias,
            stride,
            padding,
        }
    }

    /// The number of input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The number of output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.shape()[0]
    }

    /// The side of the square kernel.
    pub fn kernel_size(&self) -> usize {
        self.weight.shape()[2]
    }

    /// The convolution of a batch `x` (N x `in_channels` x H x W).
    ///
    /// # Panics
    /// When `x` has not `in_channels` channels, or the padded image is smaller than the kernel.
    #[track_caller]
    pub fn forward(&self, x: &Array4<A>) -> Array4<A> {
        crate::nn::conv2d(x, &self.weight, &self.bias, self.stride, self.padding)
    }

    /// Vector-Jacobian product of [`Conv2d::forward`]: the output and the pullback
    /// `d_y ↦ (d_layer, d_x)`.
    ///
    /// # Panics
    /// As [`Conv2d::forward`].
    #[allow(clippy::type_complexity)]
    #[track_caller]
    pub fn forward_vjp(
        &self,
        x: &Array4<A>,
    ) -> (
        Array4<A>,
        impl FnOnce(Array4<A>) -> (Conv2dTangent<A>, Array4<A>) + use<A>,
    ) {
        let (y, pullback) =
            crate::nn::conv2d_vjp(x, &self.weight, &self.bias, self.stride, self.padding);
        (y, move |d_y| {
            let (d_x, weight, bias) = pullback(d_y);
            (Conv2dTangent { weight, bias }, d_x)
        })
    }
}
