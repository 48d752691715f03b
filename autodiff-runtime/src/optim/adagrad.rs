//! Adagrad.

use super::{
    Optimizer, State, Update, check_lr, check_non_negative, check_positive, const_bool, l2,
};
use crate::{Differentiable, Real};

/// Adagrad, as PyTorch's `torch.optim.Adagrad`.
///
/// ```text
/// γ̃ ← γ / (1 + (t − 1) η)                (learning-rate decay η, step t = 1, 2, ...)
/// g ← ∇θ + λ θ                          (if λ ≠ 0)
/// s ← s + g²                            (s starts at the initial accumulator value)
/// θ ← θ − γ̃ g / (√s + ε)
/// ```
///
/// Defaults: `η = 0`, `λ = 0`, initial accumulator value 0, `ε = 1e-10`. (PyTorch's default
/// learning rate is `1e-2`.)
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{Adagrad, Optimizer};
///
/// let mut x = 1.0_f64;
/// let mut opt = Adagrad::new(0.1);
/// opt.step(&mut x, &4.0);
/// // s = 16, θ = 1 − 0.1 · 4 / (4 + 1e-10)
/// assert!((x - 0.9).abs() < 1e-10);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad {
    hyper: Hyper,
    state: State,
}

#[derive(Clone, Debug)]
struct Hyper {
    lr: f64,
    lr_decay: f64,
    weight_decay: f64,
    initial_accumulator_value: f64,
    eps: f64,
}

impl Adagrad {
    /// Adagrad with learning rate `lr` and the default hyper-parameters.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::{Adagrad, Optimizer};
    ///
    /// assert_eq!(Adagrad::new(1e-2).learning_rate(), 1e-2);
    /// ```
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        check_lr("Adagrad", lr);
        let hyper = Hyper {
            lr,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        };
        Adagrad {
            hyper,
            state: State::default(),
        }
    }

    /// Sets the learning-rate decay `η` (default 0).
    ///
    /// # Panics
    /// If `lr_decay` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::Adagrad;
    ///
    /// let opt = Adagrad::new(1e-2).lr_decay(1e-3);
    /// ```
    #[track_caller]
    pub fn lr_decay(mut self, lr_decay: f64) -> Self {
        check_non_negative("Adagrad", "lr decay", lr_decay);
        self.hyper.lr_decay = lr_decay;
        self
    }

    /// Sets the L2 weight decay `λ`, added to the gradient as `λ θ` (default 0).
    ///
    /// # Panics
    /// If `weight_decay` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::Adagrad;
    ///
    /// let opt = Adagrad::new(1e-2).weight_decay(1e-4);
    /// ```
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        check_non_negative("Adagrad", "weight decay", weight_decay);
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// Sets the value the sum of squares starts at (default 0).
    ///
    /// # Panics
    /// If `value` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::Adagrad;
    ///
    /// let opt = Adagrad::new(1e-2).initial_accumulator_value(0.1);
    /// ```
    #[track_caller]
    pub fn initial_accumulator_value(mut self, value: f64) -> Self {
        check_non_negative("Adagrad", "initial accumulator value", value);
        self.hyper.initial_accumulator_value = value;
        self
    }

    /// Sets `ε`, added to the denominator for stability (default `1e-10`).
    ///
    /// # Panics
    /// If `eps` is not finite and positive.
    ///
    /// ```
    /// use autodiff_runtime::optim::Adagrad;
    ///
    /// let opt = Adagrad::new(1e-2).eps(1e-8);
    /// ```
    #[track_caller]
    pub fn eps(mut self, eps: f64) -> Self {
        check_positive("Adagrad", "eps", eps);
        self.hyper.eps = eps;
        self
    }
}

impl Optimizer for Adagrad {
    #[track_caller]
    fn step<M: Differentiable>(&mut self, model: &mut M, grads: &M::Tangent) {
        self.state.apply(&self.hyper, model, grads);
    }
    fn learning_rate(&self) -> f64 {
        self.hyper.lr
    }
    #[track_caller]
    fn set_learning_rate(&mut self, lr: f64) {
        check_lr("Adagrad", lr);
        self.hyper.lr = lr;
    }
}

impl Update for Hyper {
    fn name(&self) -> &'static str {
        "Adagrad"
    }

    fn slots(&self) -> usize {
        1
    }

    fn initial(&self) -> f64 {
        self.initial_accumulator_value
    }

    fn update<T: Real>(&self, t: u64, p: &mut [T], g: &[T], slots: &mut [Vec<T>]) {
        let Hyper {
            lr,
            lr_decay,
            weight_decay,
            eps,
            ..
        } = *self;
        let clr = T::from_f64(lr / (1.0 + (t - 1) as f64 * lr_decay));
        let (wd, eps) = (T::from_f64(weight_decay), T::from_f64(eps));
        let sum = &mut slots[0];
        const_bool!(DECAY = weight_decay != 0.0 => {
            for ((p, &g), s) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
                let theta = *p;
                let g = l2::<T, DECAY>(g, theta, wd);
                let s_i = *s + g * g;
                *s = s_i;
                *p = theta - clr * g / (s_i.sqrt() + eps);
            }
        })
    }
}
