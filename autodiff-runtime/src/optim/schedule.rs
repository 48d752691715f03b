//! Learning-rate schedules.

use std::f64::consts::PI;

use super::{Optimizer, check_non_negative, check_unit};

/// A learning-rate schedule: the learning rate at each step, from the optimizer's initial
/// learning rate (`base_lr`).
///
/// Schedules are pure functions of the step; a [`Scheduler`] keeps the step count and sets
/// the learning rate of any [`Optimizer`]. Closures `Fn(f64, usize) -> f64` are schedules
/// too (PyTorch's `LambdaLR`, with the base learning rate passed in).
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{LrSchedule, StepLr};
///
/// let s = StepLr::new(10).gamma(0.5);
/// assert_eq!(s.lr(0.1, 9), 0.1);
/// assert_eq!(s.lr(0.1, 10), 0.05);
///
/// let inverse_sqrt = |base: f64, step: usize| base / ((step + 1) as f64).sqrt();
/// assert_eq!(inverse_sqrt.lr(1.0, 3), 0.5);
/// ```
pub trait LrSchedule {
    /// The learning rate at `step` (0 before the first scheduler step).
    fn lr(&self, base_lr: f64, step: usize) -> f64;
}

impl<F: Fn(f64, usize) -> f64> LrSchedule for F {
    fn lr(&self, base_lr: f64, step: usize) -> f64 {
        self(base_lr, step)
    }
}

/// Drives an optimizer's learning rate through a schedule.
///
/// [`Scheduler::new`] records the optimizer's learning rate as the base and sets the
/// schedule's value at step 0; each [`Scheduler::step`] advances one step (call it once per
/// epoch or once per batch, as the schedule is meant) and sets the new value, as PyTorch's
/// `scheduler.step()` after `optimizer.step()` does.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{ExponentialLr, Optimizer, Scheduler, Sgd};
///
/// let mut opt = Sgd::new(1.0);
/// let mut sched = Scheduler::new(ExponentialLr::new(0.5), &mut opt);
/// let mut model = 0.0_f64;
/// for _ in 0..3 {
///     opt.step(&mut model, &1.0);
///     sched.step(&mut opt);
/// }
/// assert_eq!(model, -(1.0 + 0.5 + 0.25));
/// assert_eq!(opt.learning_rate(), 0.125);
/// assert_eq!(sched.current_step(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct Scheduler<S> {
    schedule: S,
    base_lr: f64,
    step: usize,
}

impl<S: LrSchedule> Scheduler<S> {
    /// Starts `schedule` from `optimizer`'s current learning rate, setting the learning
    /// rate of step 0.
    ///
    /// # Panics
    /// If the schedule gives a negative or non-finite learning rate.
    ///
    /// ```
    /// use autodiff_runtime::optim::{Adam, LinearWarmup, ConstantLr, Optimizer, Scheduler};
    ///
    /// let mut opt = Adam::new(1e-3);
    /// let sched = Scheduler::new(LinearWarmup::new(ConstantLr, 10), &mut opt);
    /// assert_eq!(sched.base_lr(), 1e-3);
    /// assert_eq!(opt.learning_rate(), 0.0);
    /// ```
    #[track_caller]
    pub fn new<O: Optimizer>(schedule: S, optimizer: &mut O) -> Self {
        let sched = Scheduler {
            schedule,
            base_lr: optimizer.learning_rate(),
            step: 0,
        };
        optimizer.set_learning_rate(sched.learning_rate());
        sched
    }

    /// Advances one step, sets the optimizer's learning rate, and returns it.
    ///
    /// # Panics
    /// If the schedule gives a negative or non-finite learning rate.
    ///
    /// ```
    /// use autodiff_runtime::optim::{Optimizer, Scheduler, Sgd, StepLr};
    ///
    /// let mut opt = Sgd::new(0.1);
    /// let mut sched = Scheduler::new(StepLr::new(1), &mut opt);
    /// let lr = sched.step(&mut opt);
    /// assert!((lr - 0.01).abs() < 1e-15);
    /// assert_eq!(opt.learning_rate(), lr);
    /// ```
    #[track_caller]
    pub fn step<O: Optimizer>(&mut self, optimizer: &mut O) -> f64 {
        self.step += 1;
        let lr = self.learning_rate();
        optimizer.set_learning_rate(lr);
        lr
    }

    /// The learning rate of the current step.
    ///
    /// ```
    /// use autodiff_runtime::optim::{ExponentialLr, Scheduler, Sgd};
    ///
    /// let mut opt = Sgd::new(2.0);
    /// let mut sched = Scheduler::new(ExponentialLr::new(0.5), &mut opt);
    /// sched.step(&mut opt);
    /// assert_eq!(sched.learning_rate(), 1.0);
    /// ```
    pub fn learning_rate(&self) -> f64 {
        self.schedule.lr(self.base_lr, self.step)
    }

    /// How many times [`Scheduler::step`] was called.
    ///
    /// ```
    /// use autodiff_runtime::optim::{ConstantLr, Scheduler, Sgd};
    ///
    /// let mut opt = Sgd::new(0.1);
    /// let mut sched = Scheduler::new(ConstantLr, &mut opt);
    /// sched.step(&mut opt);
    /// assert_eq!(sched.current_step(), 1);
    /// ```
    pub fn current_step(&self) -> usize {
        self.step
    }

    /// The optimizer's learning rate when the scheduler was made.
    ///
    /// ```
    /// use autodiff_runtime::optim::{ConstantLr, Scheduler, Sgd};
    ///
    /// let mut opt = Sgd::new(0.1);
    /// assert_eq!(Scheduler::new(ConstantLr, &mut opt).base_lr(), 0.1);
    /// ```
    pub fn base_lr(&self) -> f64 {
        self.base_lr
    }

    /// The schedule.
    ///
    /// ```
    /// use autodiff_runtime::optim::{Scheduler, Sgd, StepLr};
    ///
    /// let mut opt = Sgd::new(0.1);
    /// let sched = Scheduler::new(StepLr::new(30), &mut opt);
    /// assert_eq!(sched.schedule().step_size(), 30);
    /// ```
    pub fn schedule(&self) -> &S {
        &self.schedule
    }
}

/// The base learning rate at every step; useful inside [`LinearWarmup`].
///
/// ```
/// use autodiff_runtime::optim::{ConstantLr, LrSchedule};
///
/// assert_eq!(ConstantLr.lr(0.1, 1000), 0.1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConstantLr;

impl LrSchedule for ConstantLr {
    fn lr(&self, base_lr: f64, _step: usize) -> f64 {
        base_lr
    }
}

/// Decays the learning rate by `gamma` every `step_size` steps, as PyTorch's `StepLR`.
///
/// ```text
/// lr(t) = base_lr · gamma^⌊t / step_size⌋
/// ```
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{LrSchedule, StepLr};
///
/// let s = StepLr::new(2); // gamma 0.1
/// let lrs: Vec<f64> = (0..5).map(|t| s.lr(1.0, t)).collect();
/// assert_eq!(lrs, [1.0, 1.0, 0.1, 0.1, 0.1 * 0.1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLr {
    step_size: usize,
    gamma: f64,
}

impl StepLr {
    /// Decays by 0.1 every `step_size` steps.
    ///
    /// # Panics
    /// If `step_size` is 0.
    ///
    /// ```
    /// use autodiff_runtime::optim::StepLr;
    ///
    /// let s = StepLr::new(30);
    /// ```
    #[track_caller]
    pub fn new(step_size: usize) -> Self {
        assert!(step_size > 0, "StepLr: invalid step size 0: must be > 0");
        StepLr {
            step_size,
            gamma: 0.1,
        }
    }

    /// Sets the decay factor (default 0.1).
    ///
    /// # Panics
    /// If `gamma` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::StepLr;
    ///
    /// let s = StepLr::new(30).gamma(0.5);
    /// ```
    #[track_caller]
    pub fn gamma(mut self, gamma: f64) -> Self {
        check_non_negative("StepLr", "gamma", gamma);
        self.gamma = gamma;
        self
    }

    /// Steps between decays.
    ///
    /// ```
    /// use autodiff_runtime::optim::StepLr;
    ///
    /// assert_eq!(StepLr::new(30).step_size(), 30);
    /// ```
    pub fn step_size(&self) -> usize {
        self.step_size
    }
}

impl LrSchedule for StepLr {
    fn lr(&self, base_lr: f64, step: usize) -> f64 {
        base_lr * powu(self.gamma, step / self.step_size)
    }
}

/// Decays the learning rate by `gamma` every step, as PyTorch's `ExponentialLR`.
///
/// ```text
/// lr(t) = base_lr · gammaᵗ
/// ```
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{ExponentialLr, LrSchedule};
///
/// let s = ExponentialLr::new(0.5);
/// assert_eq!(s.lr(1.0, 3), 0.125);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialLr {
    gamma: f64,
}

impl ExponentialLr {
    /// Multiplies the learning rate by `gamma` every step.
    ///
    /// # Panics
    /// If `gamma` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::ExponentialLr;
    ///
    /// let s = ExponentialLr::new(0.95);
    /// ```
    #[track_caller]
    pub fn new(gamma: f64) -> Self {
        check_non_negative("ExponentialLr", "gamma", gamma);
        ExponentialLr { gamma }
    }
}

impl LrSchedule for ExponentialLr {
    fn lr(&self, base_lr: f64, step: usize) -> f64 {
        base_lr * powu(self.gamma, step)
    }
}

/// Cosine annealing from the base learning rate down to `eta_min` over `t_max` steps, as
/// PyTorch's `CosineAnnealingLR` (its closed form).
///
/// ```text
/// lr(t) = eta_min + (base_lr − eta_min) · (1 + cos(π t / t_max)) / 2
/// ```
///
/// As in PyTorch, past `t_max` the cosine goes on (the rate rises again over the next
/// `t_max` steps): set `t_max` to the number of steps you train for.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{CosineAnnealingLr, LrSchedule};
///
/// let s = CosineAnnealingLr::new(100).eta_min(0.01);
/// assert_eq!(s.lr(1.0, 0), 1.0);
/// assert!((s.lr(1.0, 50) - 0.505).abs() < 1e-12);
/// assert!((s.lr(1.0, 100) - 0.01).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineAnnealingLr {
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Anneals to 0 over `t_max` steps.
    ///
    /// # Panics
    /// If `t_max` is 0.
    ///
    /// ```
    /// use autodiff_runtime::optim::CosineAnnealingLr;
    ///
    /// let s = CosineAnnealingLr::new(1000);
    /// ```
    #[track_caller]
    pub fn new(t_max: usize) -> Self {
        assert!(t_max > 0, "CosineAnnealingLr: invalid t_max 0: must be > 0");
        CosineAnnealingLr {
            t_max,
            eta_min: 0.0,
        }
    }

    /// Sets the final learning rate (default 0).
    ///
    /// # Panics
    /// If `eta_min` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::CosineAnnealingLr;
    ///
    /// let s = CosineAnnealingLr::new(1000).eta_min(1e-5);
    /// ```
    #[track_caller]
    pub fn eta_min(mut self, eta_min: f64) -> Self {
        check_non_negative("CosineAnnealingLr", "eta_min", eta_min);
        self.eta_min = eta_min;
        self
    }
}

impl LrSchedule for CosineAnnealingLr {
    fn lr(&self, base_lr: f64, step: usize) -> f64 {
        let phase = PI * step as f64 / self.t_max as f64;
        self.eta_min + (base_lr - self.eta_min) * (1.0 + phase.cos()) / 2.0
    }
}

/// A linear warm-up before another schedule: over `warmup_steps` steps the learning rate
/// rises linearly from `start_factor` times the inner schedule's first value to that
/// value; then the inner schedule runs, its step count starting when the warm-up ends.
///
/// ```text
/// lr(t) = inner(0) · (f + (1 − f) · t / warmup_steps)     for t < warmup_steps
/// lr(t) = inner(t − warmup_steps)                          afterwards
/// ```
///
/// The start factor `f` defaults to 0, so the first step has learning rate 0 (as the
/// usual "linear warm-up" of transformer training does).
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{CosineAnnealingLr, LinearWarmup, LrSchedule};
///
/// let s = LinearWarmup::new(CosineAnnealingLr::new(10), 4);
/// let lrs: Vec<f64> = (0..6).map(|t| s.lr(1.0, t)).collect();
/// assert_eq!(&lrs[..5], [0.0, 0.25, 0.5, 0.75, 1.0]);
/// assert!(lrs[5] < 1.0); // annealing has begun
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearWarmup<S> {
    inner: S,
    warmup_steps: usize,
    start_factor: f64,
}

impl<S: LrSchedule> LinearWarmup<S> {
    /// Warms up over `warmup_steps` steps, then follows `inner`.
    ///
    /// ```
    /// use autodiff_runtime::optim::{ConstantLr, LinearWarmup};
    ///
    /// let s = LinearWarmup::new(ConstantLr, 500);
    /// ```
    pub fn new(inner: S, warmup_steps: usize) -> Self {
        LinearWarmup {
            inner,
            warmup_steps,
            start_factor: 0.0,
        }
    }

    /// Sets the fraction of the target learning rate the warm-up starts from (default 0).
    ///
    /// # Panics
    /// If `start_factor` is outside `[0, 1]`.
    ///
    /// ```
    /// use autodiff_runtime::optim::{ConstantLr, LinearWarmup, LrSchedule};
    ///
    /// let s = LinearWarmup::new(ConstantLr, 2).start_factor(0.5);
    /// assert_eq!([s.lr(1.0, 0), s.lr(1.0, 1), s.lr(1.0, 2)], [0.5, 0.75, 1.0]);
    /// ```
    #[track_caller]
    pub fn start_factor(mut self, start_factor: f64) -> Self {
        check_unit("LinearWarmup", "start factor", start_factor);
        self.start_factor = start_factor;
        self
    }
}

impl<S: LrSchedule> LrSchedule for LinearWarmup<S> {
    fn lr(&self, base_lr: f64, step: usize) -> f64 {
        if step < self.warmup_steps {
            let frac = step as f64 / self.warmup_steps as f64;
            let f = self.start_factor;
            self.inner.lr(base_lr, 0) * (f + (1.0 - f) * frac)
        } else {
            self.inner.lr(base_lr, step - self.warmup_steps)
        }
    }
}

/// `x^n` for a step count, exact for small `n` and without overflow of `i32` exponents.
fn powu(x: f64, n: usize) -> f64 {
    match i32::try_from(n) {
        Ok(n) => x.powi(n),
        Err(_) => x.powf(n as f64),
    }
}
