//! Optimizers, gradient clipping, learning-rate schedules and gradient accumulation.
//!
//! Every optimizer implements [`Optimizer`]: `opt.step(&mut model, &grads)` updates any
//! [`Differentiable`] model (a derived struct, a tuple, a `Vec`, an array, a scalar) from
//! a gradient of the model's tangent type. The update formulas and defaults are PyTorch's
//! (`torch.optim`), so hyper-parameters carry over unchanged.
//!
//! | optimizer | PyTorch | state per parameter |
//! |---|---|---|
//! | [`Sgd`] | `SGD` (momentum, dampening, Nesterov, weight decay) | momentum buffer, if momentum > 0 |
//! | [`Adam`] | `Adam` (L2 weight decay, AMSGrad) | first and second moments |
//! | [`AdamW`] | `AdamW` (decoupled weight decay) | first and second moments |
//! | [`RmsProp`] | `RMSprop` (momentum, centered) | square average (+ momentum, mean gradient) |
//! | [`Adagrad`] | `Adagrad` (learning-rate decay) | sum of squares |
//!
//! Each constructor takes the learning rate; the other hyper-parameters are builder
//! methods, which panic on invalid values with a message naming the value. The state is
//! kept in the optimizer, one buffer per parameter buffer (in the order of
//! [`Differentiable::leaves_mut`]), in the parameter's own precision, and the update is
//! computed in that precision too, as PyTorch does: the hyper-parameters and the per-step
//! scalars (Adam's step size and bias corrections, Adagrad's decayed learning rate) are
//! computed in `f64` and rounded once per buffer. The state is created at the first step,
//! so an optimizer serves one model: a model whose buffers change between steps is a
//! panic.
//!
//! Around the optimizers: [`clip_grad_norm`] and [`clip_grad_value`] rescale gradients,
//! a [`Scheduler`] drives any optimizer's learning rate through an [`LrSchedule`]
//! ([`StepLr`], [`ExponentialLr`], [`CosineAnnealingLr`], [`LinearWarmup`]), and
//! [`GradAccumulator`] averages gradients over micro-batches.
//!
//! # Examples
//!
//! ```
//! use autodiff_runtime::optim::{Adam, CosineAnnealingLr, LinearWarmup, Optimizer, Scheduler};
//! use autodiff_runtime::optim::clip_grad_norm;
//! use ndarray::{array, Array1};
//!
//! // Least squares: minimize |A w - b|^2 over (w, c) with a scalar offset c.
//! let a = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
//! let b = array![1.0, 2.0, 3.0];
//! let mut model: (Array1<f64>, f64) = (array![0.0, 0.0], 0.0);
//! let mut opt = Adam::new(0.05);
//! let mut sched = Scheduler::new(LinearWarmup::new(CosineAnnealingLr::new(900), 100), &mut opt);
//! for _ in 0..1000 {
//!     let r = a.dot(&model.0) + model.1 - &b; // residual
//!     let mut grads = (a.t().dot(&r) * 2.0, 2.0 * r.sum());
//!     clip_grad_norm(&mut grads, 10.0);
//!     opt.step(&mut model, &grads);
//!     sched.step(&mut opt);
//! }
//! let r = a.dot(&model.0) + model.1 - &b;
//! assert!(r.dot(&r) < 1e-6);
//! ```

mod accumulate;
mod adagrad;
mod adam;
mod clip;
mod rmsprop;
mod schedule;
mod sgd;

pub use accumulate::GradAccumulator;
pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use rmsprop::RmsProp;
pub use schedule::{
    ConstantLr, CosineAnnealingLr, ExponentialLr, LinearWarmup, LrSchedule, Scheduler, StepLr,
};
pub use sgd::Sgd;

use std::fmt;

use crate::{Differentiable, Leaf, LeafMut, Real, Tangent};

/// A first-order optimizer: updates a model in place from its gradient.
///
/// `step` is generic over the model, so one optimizer type serves every model; its state
/// (moments, momentum buffers) is created at the first step and matched to the model's
/// parameter buffers by position afterwards.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{Optimizer, Sgd};
///
/// // Minimize (x - 3)^2: the gradient is 2 (x - 3).
/// let mut x = 0.0_f64;
/// let mut opt = Sgd::new(0.1);
/// for _ in 0..100 {
///     let g = 2.0 * (x - 3.0);
///     opt.step(&mut x, &g);
/// }
/// assert!((x - 3.0).abs() < 1e-6);
///
/// opt.set_learning_rate(0.01);
/// assert_eq!(opt.learning_rate(), 0.01);
/// ```
pub trait Optimizer {
    /// Updates `model` from `grads`, the gradient of the loss with respect to it.
    ///
    /// # Panics
    /// If `grads` does not have the model's buffers, or if the model's buffers changed
    /// since the previous step.
    fn step<M: Differentiable>(&mut self, model: &mut M, grads: &M::Tangent);
    /// The current learning rate.
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate (what a [`Scheduler`] calls).
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    fn set_learning_rate(&mut self, lr: f64);
}

// ---- hyper-parameter validation ----

#[track_caller]
pub(crate) fn check_lr(who: &str, lr: f64) {
    assert!(
        lr.is_finite() && lr >= 0.0,
        "{who}: invalid learning rate {lr:?}: must be finite and >= 0"
    );
}

#[track_caller]
pub(crate) fn check_non_negative(who: &str, name: &str, v: f64) {
    assert!(
        v.is_finite() && v >= 0.0,
        "{who}: invalid {name} {v:?}: must be finite and >= 0"
    );
}

#[track_caller]
pub(crate) fn check_positive(who: &str, name: &str, v: f64) {
    assert!(
        v.is_finite() && v > 0.0,
        "{who}: invalid {name} {v:?}: must be finite and > 0"
    );
}

#[track_caller]
pub(crate) fn check_beta(who: &str, name: &str, v: f64) {
    assert!(
        (0.0..1.0).contains(&v),
        "{who}: invalid {name} {v:?}: must be in [0, 1)"
    );
}

#[track_caller]
pub(crate) fn check_unit(who: &str, name: &str, v: f64) {
    assert!(
        (0.0..=1.0).contains(&v),
        "{who}: invalid {name} {v:?}: must be in [0, 1]"
    );
}

// ---- per-parameter state ----

/// One optimizer's update rule, applied buffer by buffer.
pub(crate) trait Update {
    /// The optimizer's name, for panic messages.
    fn name(&self) -> &'static str;
    /// How many state buffers each parameter buffer needs (with these hyper-parameters).
    fn slots(&self) -> usize;
    /// The value state buffers start at.
    fn initial(&self) -> f64 {
        0.0
    }
    /// Updates one parameter buffer `p` from its gradient `g` at step `t` (1-based), with
    /// its `slots()` state buffers, computing in `T`.
    fn update<T: Real>(&self, t: u64, p: &mut [T], g: &[T], slots: &mut [Vec<T>]);
}

/// The state buffers of one parameter buffer, in its precision.
#[derive(Clone)]
enum Slots {
    F32(Vec<Vec<f32>>),
    F64(Vec<Vec<f64>>),
}

/// An optimizer's state: the step count and the state buffers of every parameter buffer.
#[derive(Clone, Default)]
pub(crate) struct State {
    step: u64,
    /// `None` until the first step; then one entry per parameter buffer.
    leaves: Option<Vec<Slots>>,
    /// The buffer lengths seen at the first step.
    lengths: Vec<usize>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("step", &self.step)
            .field("buffer_lengths", &self.lengths)
            .finish()
    }
}

impl State {
    /// Applies `rule` to every parameter buffer of `model`.
    #[track_caller]
    pub(crate) fn apply<U: Update, M: Differentiable>(
        &mut self,
        rule: &U,
        model: &mut M,
        grads: &M::Tangent,
    ) {
        let who = rule.name();
        let g_leaves = grads.leaves();
        let p_leaves = model.leaves_mut();
        let p_lengths: Vec<usize> = p_leaves.iter().map(LeafMut::len).collect();
        let g_lengths: Vec<usize> = g_leaves.iter().map(Leaf::len).collect();
        assert!(
            p_lengths == g_lengths,
            "{who}: the gradient has buffers of lengths {g_lengths:?} but the model has \
             {p_lengths:?}"
        );
        if self.leaves.is_some() {
            assert!(
                p_lengths == self.lengths,
                "{who}: the model's parameter buffers changed between steps (lengths \
                 {p_lengths:?}, were {:?}); an optimizer's state belongs to one model, make \
                 a new optimizer for another",
                self.lengths
            );
        } else {
            self.lengths = p_lengths;
        }
        let slots = self.leaves.get_or_insert_with(|| {
            p_leaves
                .iter()
                .map(|p| match p {
                    LeafMut::F32(_) => Slots::F32(Vec::new()),
                    LeafMut::F64(_) => Slots::F64(Vec::new()),
                })
                .collect()
        });
        self.step += 1;
        let (n_slots, init) = (rule.slots(), rule.initial());
        for (i, ((p, g), s)) in p_leaves.into_iter().zip(g_leaves).zip(slots).enumerate() {
            // Hyper-parameters may have been changed (say momentum turned on) after the
            // first step: create the buffers that are missing.
            let len = p.len();
            match s {
                Slots::F32(s) => s.resize_with(n_slots.max(s.len()), || vec![init as f32; len]),
                Slots::F64(s) => s.resize_with(n_slots.max(s.len()), || vec![init; len]),
            }
            match (p, g, s) {
                (LeafMut::F32(p), Leaf::F32(g), Slots::F32(s)) => rule.update(self.step, p, g, s),
                (LeafMut::F64(p), Leaf::F64(g), Slots::F64(s)) => rule.update(self.step, p, g, s),
                (p, g, _) => panic!(
                    "{who}: parameter buffer {i} is {} but its gradient is {} (or its \
                     precision changed between steps)",
                    precision(matches!(p, LeafMut::F32(_))),
                    precision(matches!(g, Leaf::F32(_)))
                ),
            }
        }
    }
}

fn precision(is_f32: bool) -> &'static str {
    if is_f32 { "f32" } else { "f64" }
}

/// `g + λ θ`, the gradient with L2 weight decay, when `DECAY`; else `g`. Callers set
/// `DECAY = λ ≠ 0` once per buffer (see [`const_bool!`]): skipping the decay when `λ = 0`
/// is what PyTorch does, so that a non-finite parameter does not turn the gradient into NaN.
#[inline(always)]
pub(crate) fn l2<T: Real, const DECAY: bool>(g: T, theta: T, weight_decay: T) -> T {
    if DECAY { g + weight_decay * theta } else { g }
}

/// Evaluates `$body` with the `bool` constant `$name` set to the run-time condition
/// `$cond`: the test is made once, and each arm is compiled with the constant, so the
/// loops in `$body` carry no per-element branch on it.
macro_rules! const_bool {
    ($name:ident = $cond:expr => $body:expr) => {
        if $cond {
            const $name: bool = true;
            $body
        } else {
            const $name: bool = false;
            $body
        }
    };
}
pub(crate) use const_bool;

/// Applies `f` to every element of a tangent, in `f64`.
pub(crate) fn map_tangent<T: Tangent>(t: &mut T, f: impl Fn(f64) -> f64) {
    for leaf in t.leaves_mut() {
        match leaf {
            LeafMut::F32(s) => s.iter_mut().for_each(|v| *v = f(f64::from(*v)) as f32),
            LeafMut::F64(s) => s.iter_mut().for_each(|v| *v = f(*v)),
        }
    }
}
