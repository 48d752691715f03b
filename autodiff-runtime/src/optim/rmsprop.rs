//! RMSprop.

use super::{
    Optimizer, State, Update, check_lr, check_non_negative, check_positive, check_unit, const_bool,
    l2,
};
use crate::{Differentiable, Real};

/// RMSprop, as PyTorch's `torch.optim.RMSprop`.
///
/// ```text
/// g ← ∇θ + λ θ                          (if λ ≠ 0)
/// v ← α v + (1 − α) g²
/// ṽ ← v
/// if centered:  ḡ ← α ḡ + (1 − α) g;  ṽ ← v − ḡ²
/// if μ > 0:     b ← μ b + g / (√ṽ + ε);  θ ← θ − γ b
/// else:         θ ← θ − γ g / (√ṽ + ε)
/// ```
///
/// Defaults: smoothing `α = 0.99`, `ε = 1e-8`, weight decay `λ = 0`, momentum `μ = 0`, not
/// centered. (PyTorch's default learning rate is `1e-2`.)
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{Optimizer, RmsProp};
///
/// let mut x = vec![1.0_f64];
/// let mut opt = RmsProp::new(1e-2).alpha(0.9).momentum(0.5).centered(true);
/// opt.step(&mut x, &vec![2.0]);
/// // v = 0.1 * 4, ḡ = 0.1 * 2, ṽ = 0.4 - 0.04, b = 2 / (√0.36 + ε)
/// assert!((x[0] - (1.0 - 1e-2 * 2.0 / (0.36_f64.sqrt() + 1e-8))).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp {
    hyper: Hyper,
    state: State,
}

#[derive(Clone, Debug)]
struct Hyper {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
}

impl RmsProp {
    /// RMSprop with learning rate `lr` and the default hyper-parameters.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::{Optimizer, RmsProp};
    ///
    /// assert_eq!(RmsProp::new(1e-2).learning_rate(), 1e-2);
    /// ```
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        check_lr("RmsProp", lr);
        let hyper = Hyper {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        };
        RmsProp {
            hyper,
            state: State::default(),
        }
    }

    /// Sets the smoothing constant `α` of the square average (default 0.99).
    ///
    /// # Panics
    /// If `alpha` is outside `[0, 1]`.
    ///
    /// ```
    /// use autodiff_runtime::optim::RmsProp;
    ///
    /// let opt = RmsProp::new(1e-2).alpha(0.9);
    /// ```
    #[track_caller]
    pub fn alpha(mut self, alpha: f64) -> Self {
        check_unit("RmsProp", "alpha", alpha);
        self.hyper.alpha = alpha;
        self
    }

    /// Sets `ε`, added to the denominator for stability (default `1e-8`).
    ///
    /// # Panics
    /// If `eps` is not finite and positive.
    ///
    /// ```
    /// use autodiff_runtime::optim::RmsProp;
    ///
    /// let opt = RmsProp::new(1e-2).eps(1e-6);
    /// ```
    #[track_caller]
    pub fn eps(mut self, eps: f64) -> Self {
        check_positive("RmsProp", "eps", eps);
        self.hyper.eps = eps;
        self
    }

    /// Sets the L2 weight decay `λ`, added to the gradient as `λ θ` (default 0).
    ///
    /// # Panics
    /// If `weight_decay` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::RmsProp;
    ///
    /// let opt = RmsProp::new(1e-2).weight_decay(1e-4);
    /// ```
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        check_non_negative("RmsProp", "weight decay", weight_decay);
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// Sets the momentum factor `μ` (default 0, none).
    ///
    /// # Panics
    /// If `momentum` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::RmsProp;
    ///
    /// let opt = RmsProp::new(1e-2).momentum(0.9);
    /// ```
    #[track_caller]
    pub fn momentum(mut self, momentum: f64) -> Self {
        check_non_negative("RmsProp", "momentum", momentum);
        self.hyper.momentum = momentum;
        self
    }

    /// Centered RMSprop: normalize by an estimate of the gradient's variance instead of its
    /// second moment (default off).
    ///
    /// ```
    /// use autodiff_runtime::optim::RmsProp;
    ///
    /// let opt = RmsProp::new(1e-2).centered(true);
    /// ```
    pub fn centered(mut self, centered: bool) -> Self {
        self.hyper.centered = centered;
        self
    }
}

impl Optimizer for RmsProp {
    #[track_caller]
    fn step<M: Differentiable>(&mut self, model: &mut M, grads: &M::Tangent) {
        self.state.apply(&self.hyper, model, grads);
    }
    fn learning_rate(&self) -> f64 {
        self.hyper.lr
    }
    #[track_caller]
    fn set_learning_rate(&mut self, lr: f64) {
        check_lr("RmsProp", lr);
        self.hyper.lr = lr;
    }
}

impl Update for Hyper {
    fn name(&self) -> &'static str {
        "RmsProp"
    }

    /// Square average, then the momentum buffer if `μ > 0`, then the mean gradient if
    /// centered.
    fn slots(&self) -> usize {
        1 + usize::from(self.momentum > 0.0) + usize::from(self.centered)
    }

    fn update<T: Real>(&self, _t: u64, p: &mut [T], g: &[T], slots: &mut [Vec<T>]) {
        let Hyper {
            lr,
            alpha,
            eps,
            weight_decay,
            momentum,
            centered,
        } = *self;
        let k = Scalars {
            lr: T::from_f64(lr),
            alpha: T::from_f64(alpha),
            one_minus_alpha: T::from_f64(1.0 - alpha),
            eps: T::from_f64(eps),
            wd: T::from_f64(weight_decay),
            mu: T::from_f64(momentum),
        };
        let (v, rest) = slots
            .split_first_mut()
            .expect("RmsProp keeps a square average");
        let mut rest = rest.iter_mut();
        let b = if momentum > 0.0 { rest.next() } else { None };
        let g_avg = if centered { rest.next() } else { None };
        let p_g_v = p.iter_mut().zip(g).zip(v.iter_mut());
        const_bool!(DECAY = weight_decay != 0.0 => match (b, g_avg) {
            (None, None) => {
                for ((p, &g), v) in p_g_v {
                    rms_prop::<T, DECAY>(&k, p, g, v, None, None);
                }
            }
            (Some(b), None) => {
                for (((p, &g), v), b) in p_g_v.zip(b.iter_mut()) {
                    rms_prop::<T, DECAY>(&k, p, g, v, Some(b), None);
                }
            }
            (None, Some(a)) => {
                for (((p, &g), v), a) in p_g_v.zip(a.iter_mut()) {
                    rms_prop::<T, DECAY>(&k, p, g, v, None, Some(a));
                }
            }
            (Some(b), Some(a)) => {
                for ((((p, &g), v), b), a) in p_g_v.zip(b.iter_mut()).zip(a.iter_mut()) {
                    rms_prop::<T, DECAY>(&k, p, g, v, Some(b), Some(a));
                }
            }
        })
    }
}

/// The scalars of one RMSprop step, in the parameters' precision.
struct Scalars<T> {
    lr: T,
    alpha: T,
    one_minus_alpha: T,
    eps: T,
    wd: T,
    mu: T,
}

/// One element of an RMSprop step, with weight decay if `DECAY`, momentum if `b` is given
/// and centered if `g_avg` is. Inlined into loops whose arms fix the options, so that no
/// branch is left per element.
#[inline(always)]
fn rms_prop<T: Real, const DECAY: bool>(
    k: &Scalars<T>,
    p: &mut T,
    g: T,
    v: &mut T,
    b: Option<&mut T>,
    g_avg: Option<&mut T>,
) {
    let theta = *p;
    let g = l2::<T, DECAY>(g, theta, k.wd);
    let v_i = k.alpha * *v + k.one_minus_alpha * g * g;
    *v = v_i;
    let var = match g_avg {
        Some(g_avg) => {
            let a = k.alpha * *g_avg + k.one_minus_alpha * g;
            *g_avg = a;
            v_i - a * a
        }
        None => v_i,
    };
    let denom = var.sqrt() + k.eps;
    let delta = match b {
        Some(b) => {
            let b_i = k.mu * *b + g / denom;
            *b = b_i;
            b_i
        }
        None => g / denom,
    };
    *p = theta - k.lr * delta;
}
