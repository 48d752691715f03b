//! `Dropout`: inverted dropout while training, the identity in evaluation.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use autodiff_macros::Differentiable;
use ndarray::{Array, Dimension};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::Real;

/// Inverted dropout, as PyTorch's `nn.Dropout`: while training, each element is zeroed with
/// probability `p` and the others are scaled by `1/(1 - p)`; in evaluation the layer is the
/// identity. See [`TrainingMode`](super::TrainingMode).
///
/// ```text
/// training:   y = x · m / (1 - p),  m ~ Bernoulli(1 - p);   d_x = d_y · m / (1 - p)
/// evaluation: y = x;                                        d_x = d_y
/// ```
///
/// The layer has no parameters. It draws its masks from its own random stream, so that
/// `forward(&self, x)` needs no generator: a seed (random unless [`Dropout::seed`] sets it)
/// and a counter of the masks drawn so far, advanced by every training-mode call. A clone
/// continues the stream where the original is.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn::{self, TrainingMode};
/// use ndarray::Array2;
///
/// let mut drop = nn::Dropout::<f32>::new(0.5).seed(42);
/// let x = Array2::ones((4, 8));
/// let y = drop.forward(&x);
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// drop.eval();
/// assert_eq!(drop.forward(&x), x);
/// ```
#[derive(Differentiable, Serialize, Deserialize)]
#[autodiff(crate = "crate")]
#[serde(bound = "")]
pub struct Dropout<A: Real = f32> {
    /// The probability of zeroing an element, in `[0, 1)`.
    #[no_grad]
    pub p: A,
    /// Whether the layer is in training mode (it starts there).
    #[autodiff(training)]
    training: bool,
    /// The seed of the layer's random stream.
    #[no_grad]
    seed: u64,
    /// How many masks the layer has drawn.
    #[no_grad]
    draws: AtomicU64,
}

impl<A: Real> Dropout<A> {
    /// A dropout layer that zeroes elements with probability `p` while training, with a
    /// random seed. It starts in training mode.
    ///
    /// # Panics
    /// When `p` is not in `[0, 1)`.
    #[track_caller]
    pub fn new(p: A) -> Self {
        assert!(
            p >= A::zero() && p < A::one(),
            "nn::Dropout::new: the drop probability p must be in [0, 1), got p = {p}"
        );
        Dropout {
            p,
            training: true,
            seed: rand::rng().random(),
            draws: AtomicU64::new(0),
        }
    }

    /// The same layer with a fixed seed (and its stream restarted), for reproducible masks.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.draws = AtomicU64::new(0);
        self
    }

    /// Whether the layer is in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The generator of the next mask.
    fn next_rng(&self) -> StdRng {
        let draw = self.draws.fetch_add(1, Ordering::Relaxed);
        // Distinct draws get unrelated streams: `seed_from_u64` scrambles its argument.
        StdRng::seed_from_u64(self.seed ^ draw.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Dropout of `x` while training, `x` itself in evaluation.
    pub fn forward<D: Dimension>(&self, x: &Array<A, D>) -> Array<A, D> {
        if self.training {
            crate::nn::dropout(x, self.p, &mut self.next_rng())
        } else {
            x.clone()
        }
    }

    /// Vector-Jacobian product of [`Dropout::forward`]: the output and the pullback
    /// `d_y ↦ (DropoutTangent, d_x)`, which keeps the mask.
    #[allow(clippy::type_complexity)]
    pub fn forward_vjp<D: Dimension>(
        &self,
        x: &Array<A, D>,
    ) -> (
        Array<A, D>,
        impl FnOnce(Array<A, D>) -> (DropoutTangent, Array<A, D>) + use<A, D>,
    ) {
        let (y, pullback) = if self.training {
            let (y, pullback) = crate::nn::dropout_vjp(x, self.p, &mut self.next_rng());
            (y, Some(pullback))
        } else {
            (x.clone(), None)
        };
        (y, move |d_y| {
            let d_x = match pullback {
                Some(pullback) => pullback(d_y),
                None => d_y,
            };
            (DropoutTangent {}, d_x)
        })
    }
}

impl<A: Real> Clone for Dropout<A> {
    fn clone(&self) -> Self {
        Dropout {
            p: self.p,
            training: self.training,
            seed: self.seed,
            draws: AtomicU64::new(self.draws.load(Ordering::Relaxed)),
        }
    }
}

impl<A: Real> fmt::Debug for Dropout<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dropout")
            .field("p", &self.p)
            .field("training", &self.training)
            .finish_non_exhaustive()
    }
}
