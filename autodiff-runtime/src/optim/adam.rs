//! Adam and AdamW.

use super::{
    Optimizer, State, Update, check_beta, check_lr, check_non_negative, check_positive, const_bool,
    l2,
};
use crate::{Differentiable, Real};

/// The hyper-parameters shared by Adam and AdamW.
#[derive(Clone, Debug)]
struct Hyper {
    name: &'static str,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    /// AdamW: decay the parameters directly instead of adding `λ θ` to the gradient.
    decoupled: bool,
}

impl Hyper {
    #[track_caller]
    fn new(name: &'static str, lr: f64, weight_decay: f64, decoupled: bool) -> Self {
        check_lr(name, lr);
        Hyper {
            name,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            amsgrad: false,
            decoupled,
        }
    }

    #[track_caller]
    fn betas(&mut self, beta1: f64, beta2: f64) {
        check_beta(self.name, "beta1", beta1);
        check_beta(self.name, "beta2", beta2);
        (self.beta1, self.beta2) = (beta1, beta2);
    }

    #[track_caller]
    fn eps(&mut self, eps: f64) {
        check_positive(self.name, "eps", eps);
        self.eps = eps;
    }

    #[track_caller]
    fn weight_decay(&mut self, weight_decay: f64) {
        check_non_negative(self.name, "weight decay", weight_decay);
        self.weight_decay = weight_decay;
    }
}

impl Update for Hyper {
    fn name(&self) -> &'static str {
        self.name
    }

    fn slots(&self) -> usize {
        if self.amsgrad { 3 } else { 2 }
    }

    fn update<T: Real>(&self, t: u64, p: &mut [T], g: &[T], slots: &mut [Vec<T>]) {
        let Hyper {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
            amsgrad,
            decoupled,
            ..
        } = *self;
        let t = t as f64;
        let k = Scalars {
            beta1: T::from_f64(beta1),
            one_minus_beta1: T::from_f64(1.0 - beta1),
            beta2: T::from_f64(beta2),
            one_minus_beta2: T::from_f64(1.0 - beta2),
            eps: T::from_f64(eps),
            wd: T::from_f64(weight_decay),
            decay: T::from_f64(1.0 - lr * weight_decay),
            bias2_sqrt: T::from_f64((1.0 - beta2.powf(t)).sqrt()),
            step_size: T::from_f64(lr / (1.0 - beta1.powf(t))),
        };
        let (m, rest) = slots
            .split_first_mut()
            .expect("Adam keeps two state buffers");
        let (v, rest) = rest
            .split_first_mut()
            .expect("Adam keeps two state buffers");
        let p_g_m_v = p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut());
        const_bool!(DECAY = weight_decay != 0.0 => const_bool!(DECOUPLED = decoupled => {
            match rest.first_mut().filter(|_| amsgrad) {
                Some(v_max) => {
                    for ((((p, &g), m), v), v_max) in p_g_m_v.zip(v_max.iter_mut()) {
                        adam::<T, DECAY, DECOUPLED>(&k, p, g, m, v, Some(v_max));
                    }
                }
                None => {
                    for (((p, &g), m), v) in p_g_m_v {
                        adam::<T, DECAY, DECOUPLED>(&k, p, g, m, v, None);
                    }
                }
            }
        }))
    }
}

/// The scalars of one Adam step, in the parameters' precision.
struct Scalars<T> {
    beta1: T,
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    eps: T,
    /// λ
    wd: T,
    /// `1 − γ λ`, AdamW's decay factor.
    decay: T,
    /// `√(1 − β2ᵗ)`
    bias2_sqrt: T,
    /// `γ / (1 − β1ᵗ)`
    step_size: T,
}

/// One element of an Adam or AdamW step (`DECOUPLED`), with weight decay if `DECAY` and
/// AMSGrad if `v_max` is given. Inlined into loops whose arms fix `v_max`, so that no
/// branch is left per element.
#[inline(always)]
fn adam<T: Real, const DECAY: bool, const DECOUPLED: bool>(
    k: &Scalars<T>,
    p: &mut T,
    g: T,
    m: &mut T,
    v: &mut T,
    v_max: Option<&mut T>,
) {
    let mut theta = *p;
    let mut g = g;
    if DECOUPLED {
        if DECAY {
            theta *= k.decay;
        }
    } else {
        g = l2::<T, DECAY>(g, theta, k.wd);
    }
    let m_i = k.beta1 * *m + k.one_minus_beta1 * g;
    let v_i = k.beta2 * *v + k.one_minus_beta2 * g * g;
    *m = m_i;
    *v = v_i;
    let v_hat = match v_max {
        Some(v_max) => {
            let vm = v_max.max(v_i);
            *v_max = vm;
            vm
        }
        None => v_i,
    };
    let denom = v_hat.sqrt() / k.bias2_sqrt + k.eps;
    *p = theta - k.step_size * m_i / denom;
}

macro_rules! adam_builders {
    ($name:ident, $ex:literal) => {
        impl $name {
            /// Sets the decay rates `(β1, β2)` of the moment estimates (default
            /// `(0.9, 0.999)`).
            ///
            /// # Panics
            /// If either is outside `[0, 1)`.
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::optim::", stringify!($name), ";")]
            ///
            #[doc = concat!("let opt = ", stringify!($name), "::new(1e-3).betas(0.9, 0.98);")]
            /// ```
            #[track_caller]
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                self.hyper.betas(beta1, beta2);
                self
            }

            /// Sets `ε`, added to the denominator for stability (default `1e-8`).
            ///
            /// # Panics
            /// If `eps` is not finite and positive.
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::optim::", stringify!($name), ";")]
            ///
            #[doc = concat!("let opt = ", stringify!($name), "::new(1e-3).eps(1e-6);")]
            /// ```
            #[track_caller]
            pub fn eps(mut self, eps: f64) -> Self {
                self.hyper.eps(eps);
                self
            }

            #[doc = $ex]
            ///
            /// # Panics
            /// If `weight_decay` is negative or not finite.
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::optim::", stringify!($name), ";")]
            ///
            #[doc = concat!("let opt = ", stringify!($name), "::new(1e-3).weight_decay(1e-4);")]
            /// ```
            #[track_caller]
            pub fn weight_decay(mut self, weight_decay: f64) -> Self {
                self.hyper.weight_decay(weight_decay);
                self
            }

            /// Turns on AMSGrad: divide by the running maximum of the second moment
            /// (default off).
            ///
            /// ```
            #[doc = concat!("use autodiff_runtime::optim::", stringify!($name), ";")]
            ///
            #[doc = concat!("let opt = ", stringify!($name), "::new(1e-3).amsgrad(true);")]
            /// ```
            pub fn amsgrad(mut self, amsgrad: bool) -> Self {
                self.hyper.amsgrad = amsgrad;
                self
            }
        }

        impl Optimizer for $name {
            #[track_caller]
            fn step<M: Differentiable>(&mut self, model: &mut M, grads: &M::Tangent) {
                self.state.apply(&self.hyper, model, grads);
            }
            fn learning_rate(&self) -> f64 {
                self.hyper.lr
            }
            #[track_caller]
            fn set_learning_rate(&mut self, lr: f64) {
                check_lr(self.hyper.name, lr);
                self.hyper.lr = lr;
            }
        }
    };
}

/// Adam, as PyTorch's `torch.optim.Adam`: adaptive moment estimation, with L2 weight decay
/// added to the gradient.
///
/// ```text
/// g ← ∇θ + λ θ                          (if λ ≠ 0)
/// m ← β1 m + (1 − β1) g
/// v ← β2 v + (1 − β2) g²
/// m̂ ← m / (1 − β1ᵗ)
/// v̂ ← v / (1 − β2ᵗ)                     (AMSGrad: v_max ← max(v_max, v), v̂ ← v_max / (1 − β2ᵗ))
/// θ ← θ − γ m̂ / (√v̂ + ε)
/// ```
///
/// Defaults: `β = (0.9, 0.999)`, `ε = 1e-8`, `λ = 0`, no AMSGrad.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{Adam, Optimizer};
///
/// let mut w = (1.0_f64, vec![2.0_f64, 3.0]);
/// let mut opt = Adam::new(1e-3).betas(0.9, 0.999).weight_decay(1e-4);
/// opt.step(&mut w, &(0.5, vec![-1.0, 0.0]));
/// // The first step moves every parameter with a non-zero gradient by about γ.
/// assert!((w.0 - (1.0 - 1e-3)).abs() < 1e-8);
/// assert!((w.1[0] - (2.0 + 1e-3)).abs() < 1e-8);
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    hyper: Hyper,
    state: State,
}

impl Adam {
    /// Adam with learning rate `lr` and the default hyper-parameters.
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::{Adam, Optimizer};
    ///
    /// assert_eq!(Adam::new(1e-3).learning_rate(), 1e-3);
    /// ```
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        Adam {
            hyper: Hyper::new("Adam", lr, 0.0, false),
            state: State::default(),
        }
    }
}

adam_builders!(
    Adam,
    "Sets the L2 weight decay `λ`, added to the gradient as `λ θ` (default 0)."
);

/// AdamW, as PyTorch's `torch.optim.AdamW`: Adam with decoupled weight decay.
///
/// ```text
/// θ ← θ − γ λ θ
/// m ← β1 m + (1 − β1) g
/// v ← β2 v + (1 − β2) g²
/// m̂ ← m / (1 − β1ᵗ)
/// v̂ ← v / (1 − β2ᵗ)                     (AMSGrad: v_max ← max(v_max, v), v̂ ← v_max / (1 − β2ᵗ))
/// θ ← θ − γ m̂ / (√v̂ + ε)
/// ```
///
/// Defaults: `β = (0.9, 0.999)`, `ε = 1e-8`, `λ = 0.01`, no AMSGrad.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{AdamW, Optimizer};
/// use ndarray::array;
///
/// let mut w = array![[1.0_f64, -1.0], [0.0, 2.0]];
/// let mut opt = AdamW::new(1e-2);
/// opt.step(&mut w, &array![[0.0, 0.0], [0.0, 0.0]]);
/// // With a zero gradient, only the decay acts: θ ← θ (1 − γ λ).
/// assert_eq!(w[[1, 1]], 2.0 * (1.0 - 1e-2 * 1e-2));
/// ```
#[derive(Clone, Debug)]
pub struct AdamW {
    hyper: Hyper,
    state: State,
}

impl AdamW {
    /// AdamW with learning rate `lr` and the default hyper-parameters (weight decay 0.01).
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    ///
    /// ```
    /// use autodiff_runtime::optim::{AdamW, Optimizer};
    ///
    /// assert_eq!(AdamW::new(1e-3).learning_rate(), 1e-3);
    /// ```
    #[track_caller]
    pub fn new(lr: f64) -> Self {
        AdamW {
            hyper: Hyper::new("AdamW", lr, 1e-2, true),
            state: State::default(),
        }
    }
}

adam_builders!(
    AdamW,
    "Sets the decoupled weight decay `λ`: each step first scales the parameters by \
     `1 − γ λ` (default 0.01)."
);
