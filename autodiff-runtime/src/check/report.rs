//! Tolerances and the report of a check.

use std::fmt;

use super::Stencil;

/// Settings of a gradient check: the finite-difference step and stencil, and the
/// tolerances.
///
/// An element passes when `|a - n| <= atol + rtol * max(|a|, |n|)`, with `a` the analytic
/// and `n` the numeric derivative. The defaults (`step` 1e-6, `rtol` 1e-6, `atol` 1e-8,
/// central differences) suit smooth `f64` functions of moderate scale.
///
/// `f32` inputs are perturbed in `f32` and the differences taken in `f64`, but `f32`
/// rounding (about 6e-8 relative) divided by the step dominates small steps: use something
/// like `Config::default().step(1e-3).rtol(1e-2).atol(1e-4)` there. A step below the
/// precision of an element is widened (doubled) until the perturbation is representable,
/// and the step actually stored in the input is used in the formula.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::check::{self, Config, Stencil};
///
/// let cfg = Config::default().step(1e-4).rtol(1e-8).atol(1e-10).stencil(Stencil::Central4);
/// check::gradient_with(&cfg, |x: &f64| x.exp(), |x| x.exp(), &0.5).assert();
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The finite-difference step `h` (absolute). Default `1e-6`.
    pub step: f64,
    /// Relative tolerance. Default `1e-6`.
    pub rtol: f64,
    /// Absolute tolerance. Default `1e-8`.
    pub atol: f64,
    /// The finite-difference formula. Default [`Stencil::Central`].
    pub stencil: Stencil,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            step: 1e-6,
            rtol: 1e-6,
            atol: 1e-8,
            stencil: Stencil::Central,
        }
    }
}

impl Config {
    /// Sets the finite-difference step.
    ///
    /// # Panics
    /// If `step` is not finite and positive.
    ///
    /// ```
    /// use autodiff_runtime::check::Config;
    ///
    /// assert_eq!(Config::default().step(1e-4).step, 1e-4);
    /// ```
    #[track_caller]
    pub fn step(mut self, step: f64) -> Self {
        assert!(
            step.is_finite() && step > 0.0,
            "check step must be finite and positive, got {step:?}"
        );
        self.step = step;
        self
    }

    /// Sets the relative tolerance.
    ///
    /// # Panics
    /// If `rtol` is negative or NaN.
    ///
    /// ```
    /// use autodiff_runtime::check::Config;
    ///
    /// assert_eq!(Config::default().rtol(1e-3).rtol, 1e-3);
    /// ```
    #[track_caller]
    pub fn rtol(mut self, rtol: f64) -> Self {
        assert!(rtol >= 0.0, "check rtol must be non-negative, got {rtol:?}");
        self.rtol = rtol;
        self
    }

    /// Sets the absolute tolerance.
    ///
    /// # Panics
    /// If `atol` is negative or NaN.
    ///
    /// ```
    /// use autodiff_runtime::check::Config;
    ///
    /// assert_eq!(Config::default().atol(0.0).atol, 0.0);
    /// ```
    #[track_caller]
    pub fn atol(mut self, atol: f64) -> Self {
        assert!(atol >= 0.0, "check atol must be non-negative, got {atol:?}");
        self.atol = atol;
        self
    }

    /// Sets the finite-difference formula.
    ///
    /// ```
    /// use autodiff_runtime::check::{Config, Stencil};
    ///
    /// assert_eq!(Config::default().stencil(Stencil::Forward).stencil, Stencil::Forward);
    /// ```
    pub fn stencil(mut self, stencil: Stencil) -> Self {
        self.stencil = stencil;
        self
    }

    /// Checks fields that were set directly rather than through the builder methods.
    #[track_caller]
    pub(crate) fn validate(&self) {
        let Config {
            step, rtol, atol, ..
        } = *self;
        assert!(
            step.is_finite() && step > 0.0,
            "check step must be finite and positive, got {step:?}"
        );
        assert!(rtol >= 0.0, "check rtol must be non-negative, got {rtol:?}");
        assert!(atol >= 0.0, "check atol must be non-negative, got {atol:?}");
    }
}

/// One compared element: where it is and how far apart the two derivatives are.
///
/// ```
/// use autodiff_runtime::check;
///
/// // d/dx of x^2 at 3 is 6; claim 7 instead.
/// let report = check::gradient(|x: &f64| x * x, |_| 7.0, &3.0);
/// let worst = report.worst().unwrap();
/// assert_eq!((worst.leaf, worst.index), (0, 0));
/// assert!((worst.numeric - 6.0).abs() < 1e-6);
/// assert_eq!(worst.analytic, 7.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Element {
    /// Which flat buffer of the input (in `Differentiable::leaves` order: tuple elements,
    /// struct fields, `Vec` items in turn; a `Vec` of scalars is one buffer).
    pub leaf: usize,
    /// The flat (row-major) index within that buffer.
    pub index: usize,
    /// The derivative from the function under test.
    pub analytic: f64,
    /// The finite-difference estimate.
    pub numeric: f64,
    /// `|analytic - numeric|`.
    pub abs_error: f64,
    /// `|analytic - numeric| / max(|analytic|, |numeric|)` (0 when both are 0).
    pub rel_error: f64,
}

impl Element {
    fn new(leaf: usize, index: usize, analytic: f64, numeric: f64) -> Self {
        let abs_error = (analytic - numeric).abs();
        let scale = analytic.abs().max(numeric.abs());
        let rel_error = if abs_error == 0.0 {
            0.0
        } else {
            abs_error / scale
        };
        Element {
            leaf,
            index,
            analytic,
            numeric,
            abs_error,
            rel_error,
        }
    }

    /// How much of the tolerance the error uses: > 1 fails; NaN counts as infinite.
    fn badness(&self, cfg: &Config) -> f64 {
        let tol = cfg.atol + cfg.rtol * self.analytic.abs().max(self.numeric.abs());
        let ratio = self.abs_error / tol;
        if ratio.is_nan() {
            if self.abs_error == 0.0 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            ratio
        }
    }

    fn passes(&self, cfg: &Config) -> bool {
        self.abs_error <= cfg.atol + cfg.rtol * self.analytic.abs().max(self.numeric.abs())
    }
}

/// The outcome of a gradient check: whether every element passed, the largest errors, and
/// the worst element (the one that uses most of its tolerance).
///
/// `Display` gives a readable summary naming the worst element; [`Report::assert`] panics
/// with it.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::check;
///
/// let f = |x: &Vec<f64>| x.iter().map(|v| v * v).sum::<f64>();
/// let good = check::gradient(f, |x| x.iter().map(|v| 2.0 * v).collect(), &vec![1.0, 2.0]);
/// assert!(good.passed());
/// assert_eq!(good.checked(), 2);
///
/// let bad = check::gradient(f, |x| vec![2.0 * x[0], x[1]], &vec![1.0, 2.0]);
/// assert!(!bad.passed());
/// assert_eq!(bad.worst().unwrap().index, 1);
/// assert!(bad.to_string().contains("leaf 0, index 1"));
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    kind: &'static str,
    config: Config,
    checked: usize,
    failures: usize,
    max_abs_error: f64,
    max_rel_error: f64,
    worst: Option<Element>,
    worst_badness: f64,
    mismatch: Option<String>,
}

impl Report {
    pub(crate) fn new(kind: &'static str, config: &Config) -> Self {
        Report {
            kind,
            config: config.clone(),
            checked: 0,
            failures: 0,
            max_abs_error: 0.0,
            max_rel_error: 0.0,
            worst: None,
            worst_badness: f64::NEG_INFINITY,
            mismatch: None,
        }
    }

    /// A report for a derivative whose buffers do not match the input's.
    pub(crate) fn mismatch(kind: &'static str, config: &Config, message: String) -> Self {
        Report {
            mismatch: Some(message),
            ..Report::new(kind, config)
        }
    }

    /// Records one element.
    pub(crate) fn record(&mut self, leaf: usize, index: usize, analytic: f64, numeric: f64) {
        let e = Element::new(leaf, index, analytic, numeric);
        self.checked += 1;
        if !e.passes(&self.config) {
            self.failures += 1;
        }
        self.max_abs_error = nan_max(self.max_abs_error, e.abs_error);
        self.max_rel_error = nan_max(self.max_rel_error, e.rel_error);
        let badness = e.badness(&self.config);
        if badness > self.worst_badness {
            self.worst_badness = badness;
            self.worst = Some(e);
        }
    }

    /// Whether every element is within tolerance (and the derivative has the input's shape).
    ///
    /// ```
    /// use autodiff_runtime::check;
    ///
    /// assert!(check::gradient(|x: &f64| x.sin(), |x| x.cos(), &0.3).passed());
    /// assert!(!check::gradient(|x: &f64| x.sin(), |x| -x.cos(), &0.3).passed());
    /// ```
    pub fn passed(&self) -> bool {
        self.mismatch.is_none() && self.failures == 0
    }

    /// Panics with the report's text unless the check passed.
    ///
    /// # Panics
    /// If [`Report::passed`] is false; the message names the worst element.
    ///
    /// ```should_panic
    /// use autodiff_runtime::check;
    ///
    /// // Wrong: d/dx x^3 is 3x^2.
    /// check::gradient(|x: &f64| x.powi(3), |x| 2.0 * x * x, &1.5).assert();
    /// ```
    #[track_caller]
    pub fn assert(&self) {
        if !self.passed() {
            panic!("{self}");
        }
    }

    /// Number of elements compared.
    ///
    /// ```
    /// use autodiff_runtime::check;
    ///
    /// let r = check::gradient(|x: &(f64, Vec<f64>)| x.0 * x.1[2], |x| (x.1[2], vec![0.0, 0.0, x.0]), &(2.0, vec![1.0; 3]));
    /// assert_eq!(r.checked(), 4);
    /// ```
    pub fn checked(&self) -> usize {
        self.checked
    }

    /// Number of elements out of tolerance.
    ///
    /// ```
    /// use autodiff_runtime::check;
    ///
    /// let r = check::gradient(|x: &Vec<f64>| x[0] + x[1], |_| vec![1.0, 0.0], &vec![1.0, 1.0]);
    /// assert_eq!(r.failures(), 1);
    /// ```
    pub fn failures(&self) -> usize {
        self.failures
    }

    /// The largest `|analytic - numeric|` over all elements (NaN if any was NaN).
    ///
    /// ```
    /// use autodiff_runtime::check;
    ///
    /// let r = check::gradient(|x: &f64| 3.0 * x, |_| 3.5, &1.0);
    /// assert!((r.max_abs_error() - 0.5).abs() < 1e-6);
    /// ```
    pub fn max_abs_error(&self) -> f64 {
        self.max_abs_error
    }

    /// The largest `|analytic - numeric| / max(|analytic|, |numeric|)` over all elements.
    ///
    /// ```
    /// use autodiff_runtime::check;
    ///
    /// let r = check::gradient(|x: &f64| 4.0 * x, |_| 2.0, &1.0);
    /// assert!((r.max_rel_error() - 0.5).abs() < 1e-6);
    /// ```
    pub fn max_rel_error(&self) -> f64 {
        self.max_rel_error
    }

    /// The element that uses the largest share of its tolerance (`None` if nothing was
    /// compared).
    ///
    /// ```
    /// use autodiff_runtime::check;
    ///
    /// let r = check::gradient(|x: &Vec<f64>| x[0] * x[1], |x| vec![x[1], x[0] + 1.0], &vec![2.0, 3.0]);
    /// assert_eq!(r.worst().unwrap().index, 1);
    /// ```
    pub fn worst(&self) -> Option<&Element> {
        self.worst.as_ref()
    }

    /// The settings the check ran with.
    ///
    /// ```
    /// use autodiff_runtime::check::{self, Stencil};
    ///
    /// let r = check::gradient(|x: &f64| *x, |_| 1.0, &0.0);
    /// assert_eq!(r.config().stencil, Stencil::Central);
    /// ```
    pub fn config(&self) -> &Config {
        &self.config
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Config {
            step,
            rtol,
            atol,
            stencil,
        } = &self.config;
        let settings = format!("{stencil}, step {step:e}, rtol {rtol:e}, atol {atol:e}");
        if let Some(message) = &self.mismatch {
            return write!(f, "{} check failed: {message}", self.kind);
        }
        if self.passed() {
            write!(
                f,
                "{} check passed: {} element{} within tolerance ({settings})",
                self.kind,
                self.checked,
                if self.checked == 1 { "" } else { "s" }
            )?;
        } else {
            write!(
                f,
                "{} check failed: {} of {} element{} out of tolerance ({settings})",
                self.kind,
                self.failures,
                self.checked,
                if self.checked == 1 { "" } else { "s" }
            )?;
        }
        if let Some(e) = &self.worst {
            write!(
                f,
                "\n  worst element: leaf {}, index {}\n    analytic  {:e}\n    numeric   {:e}\n    \
                 abs error {:e}, rel error {:e}\n  max abs error {:e}, max rel error {:e}",
                e.leaf,
                e.index,
                e.analytic,
                e.numeric,
                e.abs_error,
                e.rel_error,
                self.max_abs_error,
                self.max_rel_error
            )?;
        }
        Ok(())
    }
}
