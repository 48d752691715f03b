//! Shared helpers of the rule tests: central finite differences in `f64` and a macro that
//! checks one rule's backward functions against them, for every kind of accumulator.

#![allow(dead_code, unused_macros)]

use std::fmt::Debug;

use ndarray::{Array, Dimension, IxDyn};

/// A test value: a scalar or an array, seen as a flat vector of `f64`.
pub trait TestVal: Clone + Debug {
    fn n(&self) -> usize;
    fn at(&self, i: usize) -> f64;
    fn set(&mut self, i: usize, v: f64);
    fn flat(&self) -> Vec<f64> {
        (0..self.n()).map(|i| self.at(i)).collect()
    }
}

impl TestVal for f64 {
    fn n(&self) -> usize {
        1
    }
    fn at(&self, _: usize) -> f64 {
        *self
    }
    fn set(&mut self, _: usize, v: f64) {
        *self = v;
    }
}

impl<D: Dimension> TestVal for Array<f64, D> {
    fn n(&self) -> usize {
        self.len()
    }
    fn at(&self, i: usize) -> f64 {
        self.as_slice().expect("standard layout")[i]
    }
    fn set(&mut self, i: usize, v: f64) {
        self.as_slice_mut().expect("standard layout")[i] = v;
    }
}

/// Deterministic, irregular values in `[lo, hi]` (never exactly 0 or 1 unless asked).
pub fn fill<D: Dimension>(shape: &[usize], lo: f64, hi: f64) -> Array<f64, D> {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n)
        .map(|i| {
            let t = ((i as f64 + 1.0) * 0.618_033_988_75).fract();
            lo + (hi - lo) * (0.05 + 0.9 * t)
        })
        .collect();
    Array::from_shape_vec(IxDyn(shape), v)
        .unwrap()
        .into_dimensionality::<D>()
        .unwrap()
}

/// Weights of the test loss `L(out) = <w, out>`: the seed of the backward pass.
pub fn weights<V: TestVal>(out: &V) -> V {
    let mut w = out.clone();
    for i in 0..w.n() {
        w.set(
            i,
            0.3 + 0.45 * ((i * 7 % 5) as f64) - 0.2 * ((i % 3) as f64),
        );
    }
    w
}

/// A nonzero value already in an accumulator before the rule adds to it.
pub fn prefill<V: TestVal>(x: &V) -> V {
    let mut w = x.clone();
    for i in 0..w.n() {
        w.set(i, 0.7 - 0.13 * i as f64);
    }
    w
}

pub fn dot<V: TestVal>(a: &V, b: &V) -> f64 {
    assert_eq!(a.n(), b.n());
    (0..a.n()).map(|i| a.at(i) * b.at(i)).sum()
}

/// Central finite differences of `f` at `x`.
pub fn fd<V: TestVal>(x: &V, f: impl Fn(&V) -> f64) -> Vec<f64> {
    (0..x.n())
        .map(|i| {
            let h = 1e-6 * x.at(i).abs().max(1.0);
            let mut p = x.clone();
            p.set(i, x.at(i) + h);
            let mut m = x.clone();
            m.set(i, x.at(i) - h);
            (f(&p) - f(&m)) / (2.0 * h)
        })
        .collect()
}

#[track_caller]
pub fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = 1e-6 * (1.0 + w.abs());
        assert!(
            (g - w).abs() <= tol,
            "{what}: element {i}: backward {g} vs finite differences {w}\n got  {got:?}\n want {want:?}"
        );
    }
}

/// `got - base`, elementwise.
pub fn minus(got: &[f64], base: &[f64]) -> Vec<f64> {
    got.iter().zip(base).map(|(a, b)| a - b).collect()
}

/// Checks a rule: for each input `array x` or `scalar x`, compares the backward call (with
/// `d` the output accumulator seeded with [`weights`], `dx` an accumulator of `x`) against
/// finite differences of `<w, forward>`, into a fresh and a prefilled accumulator of every
/// kind (`Slot`, owned `Array`; scalars for scalars). Also checks that an empty output
/// accumulator adds nothing.
macro_rules! check_rule {
    (
        $name:expr,
        inputs: [$($xk:ident $x:ident = $init:expr),+ $(,)?],
        forward: $fwd:expr,
        backs: [$($kind:ident $target:ident => |$d:ident, $dx:ident| $call:expr),+ $(,)?] $(,)?
    ) => {{
        use autodiff_runtime::__private::{meta, zero_adj, Adjoint};
        $(let $x = $init;)+
        let out = $fwd;
        let w = $crate::rules_common::weights(&out);
        let mut dseed = zero_adj(&meta(&out));
        dseed.add_value(w.clone());
        let dempty = zero_adj(&meta(&out));
        $(
            let want = $crate::rules_common::fd(&$target, |v| {
                let $target = v.clone();
                let _ = &$target;
                $crate::rules_common::dot(&w, &$fwd)
            });
            check_rule!(@sinks $kind, concat!($name, ": d", stringify!($target)), $target, want,
                dseed, dempty, |$d, $dx| $call);
        )+
    }};
    (@sinks array, $what:expr, $t:ident, $want:ident, $dseed:ident, $dempty:ident,
        |$d:ident, $dx:ident| $call:expr) => {{
        use $crate::rules_common::{assert_close, minus, prefill, TestVal};
        // A fresh (empty) Slot: the contribution is moved in.
        let mut s = zero_adj(&meta(&$t));
        {
            let $d = &$dseed;
            let $dx = &mut s;
            $call;
        }
        assert_close(&s.into_value().flat(), &$want, concat!($what, " (fresh Slot)"));
        // A Slot that already holds a value: added in place.
        let c0 = prefill(&$t);
        let mut s = zero_adj(&meta(&$t));
        s.add_value(c0.clone());
        {
            let $d = &$dseed;
            let $dx = &mut s;
            $call;
        }
        assert_close(&minus(&s.into_value().flat(), &c0.flat()), &$want,
            concat!($what, " (filled Slot)"));
        // An owned array accumulator.
        let mut s = c0.clone();
        {
            let $d = &$dseed;
            let $dx = &mut s;
            $call;
        }
        assert_close(&minus(&s.flat(), &c0.flat()), &$want, concat!($what, " (owned Array)"));
        // An empty output adjoint adds nothing.
        let mut s = zero_adj(&meta(&$t));
        {
            let $d = &$dempty;
            let $dx = &mut s;
            $call;
        }
        assert!(s.get().is_none(), concat!($what, ": an empty adjoint must add nothing"));
    }};
    (@sinks scalar, $what:expr, $t:ident, $want:ident, $dseed:ident, $dempty:ident,
        |$d:ident, $dx:ident| $call:expr) => {{
        use $crate::rules_common::assert_close;
        let mut s: f64 = -0.0;
        {
            let $d = &$dseed;
            let $dx = &mut s;
            $call;
        }
        assert_close(&[s], &$want, concat!($what, " (scalar)"));
        let mut s: f64 = 0.7;
        {
            let $d = &$dseed;
            let $dx = &mut s;
            $call;
        }
        assert_close(&[s - 0.7], &$want, concat!($what, " (filled scalar)"));
        let _ = &$dempty;
    }};
}
#[allow(unused_imports)]
pub(crate) use check_rule;
