//! Finite-difference stencils for a first derivative.

use std::fmt;

/// A finite-difference formula for the first derivative, `f'(x) ≈ Σ c_k f(x + k h) / h`.
///
/// ```text
/// Forward    (f(x+h) - f(x)) / h                                              error O(h)
/// Backward   (f(x) - f(x-h)) / h                                              error O(h)
/// Central    (f(x+h) - f(x-h)) / 2h                                           error O(h²)
/// Central4   (-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)) / 12h                   error O(h⁴)
/// Central6   (f(x+3h) - 9f(x+2h) + 45f(x+h) - 45f(x-h) + 9f(x-2h) - f(x-3h)) / 60h   error O(h⁶)
/// ```
///
/// One-sided stencils are for functions defined on one side of the point only (at a
/// domain boundary or a kink); the higher-order central stencils allow a larger step, which
/// keeps rounding error small, at the cost of more evaluations per element.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::check::{Config, Stencil};
///
/// assert_eq!(Stencil::default(), Stencil::Central);
/// assert_eq!(Stencil::Central4.evaluations(), 4);
/// let cfg = Config::default().stencil(Stencil::Central6).step(1e-3);
/// assert_eq!(cfg.stencil, Stencil::Central6);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Stencil {
    /// `(f(x+h) - f(x)) / h`, first order.
    Forward,
    /// `(f(x) - f(x-h)) / h`, first order.
    Backward,
    /// `(f(x+h) - f(x-h)) / 2h`, second order (the default).
    #[default]
    Central,
    /// Four-point central differences, fourth order.
    Central4,
    /// Six-point central differences, sixth order.
    Central6,
}

impl Stencil {
    /// The `(k, c_k)` pairs and the denominator `d` of `Σ c_k f(x + k h) / (d h)`.
    pub(crate) fn weights(self) -> (&'static [(i32, f64)], f64) {
        match self {
            Stencil::Forward => (&[(1, 1.0), (0, -1.0)], 1.0),
            Stencil::Backward => (&[(0, 1.0), (-1, -1.0)], 1.0),
            Stencil::Central => (&[(1, 1.0), (-1, -1.0)], 2.0),
            Stencil::Central4 => (&[(2, -1.0), (1, 8.0), (-1, -8.0), (-2, 1.0)], 12.0),
            Stencil::Central6 => (
                &[
                    (3, 1.0),
                    (2, -9.0),
                    (1, 45.0),
                    (-1, -45.0),
                    (-2, 9.0),
                    (-3, -1.0),
                ],
                60.0,
            ),
        }
    }

    /// How many function evaluations the stencil needs per element (the value at `x`
    /// itself, which the one-sided stencils use, is computed once for all elements and
    /// not counted).
    ///
    /// ```
    /// use autodiff_runtime::check::Stencil;
    ///
    /// assert_eq!(Stencil::Forward.evaluations(), 1);
    /// assert_eq!(Stencil::Central6.evaluations(), 6);
    /// ```
    pub fn evaluations(self) -> usize {
        self.weights().0.iter().filter(|(k, _)| *k != 0).count()
    }

    /// The order of accuracy: the error of the estimate is `O(h^order)`.
    ///
    /// ```
    /// use autodiff_runtime::check::Stencil;
    ///
    /// assert_eq!(Stencil::Central4.order(), 4);
    /// ```
    pub fn order(self) -> u32 {
        match self {
            Stencil::Forward | Stencil::Backward => 1,
            Stencil::Central => 2,
            Stencil::Central4 => 4,
            Stencil::Central6 => 6,
        }
    }

    /// Whether the stencil uses the value at the unperturbed point.
    pub(crate) fn uses_center(self) -> bool {
        self.weights().0.iter().any(|(k, _)| *k == 0)
    }

    /// The derivative estimate from `eval(k)`, the function at `x + k h`.
    pub(crate) fn estimate(self, h: f64, mut eval: impl FnMut(i32) -> f64) -> f64 {
        let (points, denominator) = self.weights();
        let sum: f64 = points.iter().map(|&(k, c)| c * eval(k)).sum();
        sum / (denominator * h)
    }
}

impl fmt::Display for Stencil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stencil::Forward => "forward differences",
            Stencil::Backward => "backward differences",
            Stencil::Central => "central differences",
            Stencil::Central4 => "4-point central differences",
            Stencil::Central6 => "6-point central differences",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Stencil; 5] = [
        Stencil::Forward,
        Stencil::Backward,
        Stencil::Central,
        Stencil::Central4,
        Stencil::Central6,
    ];

    #[test]
    fn weights_are_exact_on_polynomials_of_their_order() {
        // A stencil of order p differentiates x^q exactly for q <= p (one-sided: q <= 1).
        for s in ALL {
            for q in 0..=s.order() as i32 {
                let (x, h) = (0.75_f64, 0.125);
                let est = s.estimate(h, |k| (x + k as f64 * h).powi(q));
                let exact = if q == 0 {
                    0.0
                } else {
                    q as f64 * x.powi(q - 1)
                };
                assert!(
                    (est - exact).abs() < 1e-12,
                    "{s:?} on x^{q}: {est} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn center_use_and_counts() {
        assert!(Stencil::Forward.uses_center() && Stencil::Backward.uses_center());
        assert!(!Stencil::Central.uses_center());
        assert_eq!(Stencil::Central.evaluations(), 2);
    }
}
