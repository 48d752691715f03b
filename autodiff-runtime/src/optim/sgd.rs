//! Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

use super::{Optimizer, State, Update, check_lr, check_non_negative, check_unit, const_bool, l2};
use crate::{Differentiable, Real};

/// Stochastic gradient descent, as PyTorch's `torch.optim.SGD`.
///
/// ```text
/// g ← ∇θ + λ θ                          (weight decay λ, if λ ≠ 0)
/// if μ ≠ 0:
///     b ← g                   at the first step
///     b ← μ b + (1 − τ) g     afterwards (dampening τ)
///     g ← g + μ b             with Nesterov, else g ← b
/// θ ← θ − γ g
/// ```
///
/// Defaults: momentum `μ = 0`, dampening `τ = 0`, weight decay `λ = 0`, no Nesterov.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{Optimizer, Sgd};
///
/// let mut w = vec![1.0_f64, -2.0];
/// let mut opt = Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(1e-4);
/// opt.step(&mut w, &vec![0.5, 0.5]);
/// // g = 0.5 + 1e-4 w; b = g; θ -= 0.1 (g + 0.9 b)
/// assert!((w[0] - (1.0 - 0.1 * 1.9 * (0.5 + 1e-4))).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    hyper: Hyper,
    state: State,
}

#[derive(Clone, Debug)]
struct Hyper {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
}

impl Sgd {
    /// Plain gradient descent with learning rate `lr`.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::{Optimizer, Sgd};
    ///
    /// let mut x = 1.0_f64;
    /// Sgd::new(0.5).step(&mut x, &2.0);
    /// assert_eq!(x, 0.0);
    /// ```
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        check_lr("Sgd", lr);
        Sgd {
            hyper: Hyper {
                lr,
                momentum: 0.0,
                dampening: 0.0,
                weight_decay: 0.0,
                nesterov: false,
            },
            state: State::default(),
        }
    }

    /// Sets the momentum factor `μ` (default 0, none).
    ///
    /// # Panics
    /// If `momentum` is negative or not finite, or if it is 0 with Nesterov on.
    ///
    /// ```
    /// use autodiff_runtime::optim::Sgd;
    ///
    /// let opt = Sgd::new(0.1).momentum(0.9);
    /// ```
    #[track_caller]
    pub fn momentum(mut self, momentum: f64) -> Self {
        check_non_negative("Sgd", "momentum", momentum);
        self.hyper.momentum = momentum;
        self.check_nesterov();
        self
    }

    /// Sets the dampening `τ` of the momentum (default 0).
    ///
    /// # Panics
    /// If `dampening` is outside `[0, 1]`, or if it is not 0 with Nesterov on.
    ///
    /// ```
    /// use autodiff_runtime::optim::Sgd;
    ///
    /// let opt = Sgd::new(0.1).momentum(0.9).dampening(0.1);
    /// ```
    #[track_caller]
    pub fn dampening(mut self, dampening: f64) -> Self {
        check_unit("Sgd", "dampening", dampening);
        self.hyper.dampening = dampening;
        self.check_nesterov();
        self
    }

    /// Turns Nesterov momentum on or off (default off). Set the momentum first.
    ///
    /// # Panics
    /// If `nesterov` is true and the momentum is 0 or the dampening is not 0.
    ///
    /// ```
    /// use autodiff_runtime::optim::Sgd;
    ///
    /// let opt = Sgd::new(0.1).momentum(0.9).nesterov(true);
    /// ```
    ///
    /// ```should_panic
    /// use autodiff_runtime::optim::Sgd;
    ///
    /// let opt = Sgd::new(0.1).nesterov(true); // no momentum
    /// ```
    #[track_caller]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.hyper.nesterov = nesterov;
        self.check_nesterov();
        self
    }

    /// Sets the L2 weight decay `λ`, added to the gradient as `λ θ` (default 0).
    ///
    /// # Panics
    /// If `weight_decay` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::Sgd;
    ///
    /// let opt = Sgd::new(0.1).weight_decay(5e-4);
    /// ```
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        check_non_negative("Sgd", "weight decay", weight_decay);
        self.hyper.weight_decay = weight_decay;
        self
    }

    #[track_caller]
    fn check_nesterov(&self) {
        let Hyper {
            momentum,
            dampening,
            nesterov,
            ..
        } = self.hyper;
        assert!(
            !nesterov || (momentum > 0.0 && dampening == 0.0),
            "Sgd: Nesterov momentum requires momentum > 0 and dampening 0, got momentum \
             {momentum:?} and dampening {dampening:?} (set `.momentum(..)` before `.nesterov(true)`)"
        );
    }
}

impl Optimizer for Sgd {
    #[track_caller]
    fn step<M: Differentiable>(&mut self, model: &mut M, grads: &M::Tangent) {
        self.state.apply(&self.hyper, model, grads);
    }
    fn learning_rate(&self) -> f64 {
        self.hyper.lr
    }
    #[track_caller]
    fn set_learning_rate(&mut self, lr: f64) {
        check_lr("Sgd", lr);
        self.hyper.lr = lr;
    }
}

impl Update for Hyper {
    fn name(&self) -> &'static str {
        "Sgd"
    }

    fn slots(&self) -> usize {
        usize::from(self.momentum != 0.0)
    }

    fn update<T: Real>(&self, t: u64, p: &mut [T], g: &[T], slots: &mut [Vec<T>]) {
        let Hyper {
            lr,
            momentum,
            dampening,
            weight_decay,
            nesterov,
        } = *self;
        let lr = T::from_f64(lr);
        let (mu, keep) = (T::from_f64(momentum), T::from_f64(1.0 - dampening));
        let wd = T::from_f64(weight_decay);
        const_bool!(DECAY = weight_decay != 0.0 => match slots {
            [] => {
                for (p, &g) in p.iter_mut().zip(g) {
                    let g = l2::<T, DECAY>(g, *p, wd);
                    *p -= lr * g;
                }
            }
            [b, ..] => const_bool!(FIRST = t == 1 => const_bool!(NESTEROV = nesterov => {
                for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
                    let g = l2::<T, DECAY>(g, *p, wd);
                    let buf = if FIRST { g } else { mu * *b + keep * g };
                    *b = buf;
                    let g = if NESTEROV { g + mu * buf } else { buf };
                    *p -= lr * g;
                }
            })),
        })
    }
}
