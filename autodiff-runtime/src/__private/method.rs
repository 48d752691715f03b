//! Rules for the float methods of `f32`/`f64` (`x.sin()`, `f64::powf(x, p)`, ...), for
//! scalars (`T`, `&T` with `T: Real`) and, elementwise, for ndarray arrays (`ArrayBase`,
//! `&ArrayBase`; binary and ternary methods also mix arrays with scalars, broadcasting).
//!
//! Each rule is one line of a table, in the style of ChainRules: the forward expression and
//! the partial derivatives in terms of the kept values, which the backward function
//! multiplies by the output's adjoint `d` (`sin(x) => x.cos()` gives
//! `sin_back(d, &x, &mut dx)`: `dx += d * x.cos()`). `select(c)` stands for "all of `d`
//! where `c` holds, nothing elsewhere" (kinks of `abs`, `max`, `min`, `clamp`).
//!
//! | forward | backward |
//! |---|---|
//! | `sin cos tan asin acos atan sinh cosh ln log10 log2 ln_1p abs signum recip` `(&x)` | `NAME_back(d, &x, &mut dx)` |
//! | `exp exp2 exp_m1 sqrt cbrt tanh` `(&x)` | `NAME_back(d, &y, &mut dx)` (y: the output) |
//! | `powi(&x, n)` | `powi_back(d, &x, n, &mut dx)` |
//! | `powf log atan2 hypot max min` `(&a, &b)` | `NAME_back_lhs(d, &a, &b, &mut da)`, `NAME_back_rhs(d, &a, &b, &mut db)` |
//! | `clamp(&x, &lo, &hi)` | `clamp_back_0(d, &x, &lo, &hi, &mut dx)`, `clamp_back_1(.., &mut dlo)`, `clamp_back_2(.., &mut dhi)` |
//! | `mul_add(&a, &b, &c)` | `mul_add_back_0(d, &a, &b, &c, &mut da)`, `_1`, `_2` |

use std::f64::consts::{LN_2, LN_10};

use num_traits::Float;

use super::{AccBroadcast, Adjoint, Binary, DValue, Operand, Ternary, Unary};
use crate::Real;

/// The contribution `d * partial`, or `d` where a `select(..)` condition holds.
macro_rules! contrib {
    ($d:ident, (select($c:expr))) => {
        if $c { $d } else { T::zero() }
    };
    ($d:ident, $e:expr) => {
        $d * ($e)
    };
}

/// Unary methods: `NAME(&x)` and `NAME_back(d, &kept, &mut dx)`, with `kept` the input `x`
/// or the output `y` as the table names it.
macro_rules! unary_rules {
    ($($(#[$m:meta])* $name:ident, $back:ident ($k:ident) => $der:tt;)*) => {$(
        #[doc = concat!("`x.", stringify!($name), "()`, elementwise for arrays.")]
        #[inline(always)]
        pub fn $name<T: Real, X: Unary<T>>(x: &X) -> X::Output {
            x.unary(|v| Float::$name(v))
        }

        #[doc = concat!(
            "Backward of [`", stringify!($name), "`]: `dx += d * (", stringify!($der),
            ")`, with `", stringify!($k), "` the kept ",
            unary_rules!(@kept $k), "."
        )]
        $(#[$m])*
        #[inline(always)]
        #[track_caller]
        pub fn $back<T, DY, K, DX>(d: &DY, $k: &K, dx: &mut DX)
        where
            T: Real,
            DY: Adjoint,
            DY::Value: DValue<Elem = T>,
            K: Operand<T>,
            DX: AccBroadcast<T>,
        {
            if let Some(d) = d.get() {
                d.back2(stringify!($name), $k, dx, |d, $k: T| contrib!(d, $der));
            }
        }
    )*};
    (@kept x) => { "input" };
    (@kept y) => { "output" };
}

unary_rules! {
    sin, sin_back(x) => (x.cos());
    cos, cos_back(x) => (-x.sin());
    tan, tan_back(x) => ({ let t = x.tan(); T::one() + t * t });
    asin, asin_back(x) => ((T::one() - x * x).sqrt().recip());
    acos, acos_back(x) => (-(T::one() - x * x).sqrt().recip());
    atan, atan_back(x) => ((T::one() + x * x).recip());
    sinh, sinh_back(x) => (x.cosh());
    cosh, cosh_back(x) => (x.sinh());
    ln, ln_back(x) => (x.recip());
    log10, log10_back(x) => ((x * T::from_f64(LN_10)).recip());
    log2, log2_back(x) => ((x * T::from_f64(LN_2)).recip());
    ln_1p, ln_1p_back(x) => ((T::one() + x).recip());
    /// Kink: `abs'(0) = 0` (the gradient is `signum(x)` elsewhere).
    abs, abs_back(x) => (if x == T::zero() { T::zero() } else { x.signum() });
    recip, recip_back(x) => (-(x * x).recip());
    exp, exp_back(y) => y;
    exp2, exp2_back(y) => (y * T::from_f64(LN_2));
    exp_m1, exp_m1_back(y) => (y + T::one());
    sqrt, sqrt_back(y) => ((y + y).recip());
    cbrt, cbrt_back(y) => ((T::from_f64(3.0) * y * y).recip());
    tanh, tanh_back(y) => (T::one() - y * y);
}

/// `x.signum()`, elementwise for arrays.
#[inline(always)]
pub fn signum<T: Real, X: Unary<T>>(x: &X) -> X::Output {
    x.unary(Float::signum)
}

/// Backward of [`signum`]: nothing flows (the derivative is 0 everywhere it exists, and
/// taken as 0 at the jump `x = 0`).
#[inline(always)]
pub fn signum_back<T, DY, K, DX>(d: &DY, x: &K, dx: &mut DX)
where
    T: Real,
    DY: Adjoint,
    DY::Value: DValue<Elem = T>,
    K: Operand<T>,
    DX: AccBroadcast<T>,
{
    let _ = (d, x, dx);
}

/// `x.powi(n)`, elementwise for arrays.
#[inline(always)]
pub fn powi<T: Real, X: Unary<T>>(x: &X, n: i32) -> X::Output {
    x.unary(|v| v.powi(n))
}

/// Backward of [`powi`]: `dx += d * n * x.powi(n - 1)` (and nothing for `n = 0`, also at
/// `x = 0`).
#[inline(always)]
#[track_caller]
pub fn powi_back<T, DY, K, DX>(d: &DY, x: &K, n: i32, dx: &mut DX)
where
    T: Real,
    DY: Adjoint,
    DY::Value: DValue<Elem = T>,
    K: Operand<T>,
    DX: AccBroadcast<T>,
{
    if let Some(d) = d.get() {
        if n == 0 {
            return;
        }
        let nf = T::from_f64(f64::from(n));
        d.back2("powi", x, dx, |d, x| d * nf * x.powi(n - 1));
    }
}

/// Binary methods: `NAME(&a, &b)`, `NAME_back_lhs(d, &a, &b, &mut da)` and
/// `NAME_back_rhs(d, &a, &b, &mut db)`.
macro_rules! binary_rules {
    ($($(#[$m:meta])* $name:ident($a:ident, $b:ident) = $fwd:expr,
        $lhs:ident => $dl:tt, $rhs:ident => $dr:tt;)*) => {$(
        #[doc = concat!("`", stringify!($fwd), "`, elementwise for arrays, broadcasting.")]
        #[inline(always)]
        #[track_caller]
        pub fn $name<T: Real, L: Binary<R, T>, R>(l: &L, r: &R) -> L::Output {
            l.binary(r, stringify!($name), |$a: T, $b: T| $fwd)
        }

        #[doc = concat!(
            "Backward of [`", stringify!($name), "`] for `", stringify!($a), "`: `d",
            stringify!($a), " += d * ", stringify!($dl), "`."
        )]
        $(#[$m])*
        #[inline(always)]
        #[track_caller]
        pub fn $lhs<T, DY, A, B, DX>(d: &DY, $a: &A, $b: &B, dx: &mut DX)
        where
            T: Real,
            DY: Adjoint,
            DY::Value: DValue<Elem = T>,
            A: Operand<T>,
            B: Operand<T>,
            DX: AccBroadcast<T>,
        {
            if let Some(d) = d.get() {
                d.back3(stringify!($name), $a, $b, dx, |d, $a: T, $b: T| contrib!(d, $dl));
            }
        }

        #[doc = concat!(
            "Backward of [`", stringify!($name), "`] for `", stringify!($b), "`: `d",
            stringify!($b), " += d * ", stringify!($dr), "`."
        )]
        $(#[$m])*
        #[inline(always)]
        #[track_caller]
        pub fn $rhs<T, DY, A, B, DX>(d: &DY, $a: &A, $b: &B, dx: &mut DX)
        where
            T: Real,
            DY: Adjoint,
            DY::Value: DValue<Elem = T>,
            A: Operand<T>,
            B: Operand<T>,
            DX: AccBroadcast<T>,
        {
            if let Some(d) = d.get() {
                d.back3(stringify!($name), $a, $b, dx, |d, $a: T, $b: T| contrib!(d, $dr));
            }
        }
    )*};
}

binary_rules! {
    /// Conventions: nothing flows to `x` when `p = 0` (the function is constant), and
    /// nothing flows to `p` at `x = 0` with `p > 0` (the limit of `x^p ln x`).
    powf(x, p) = x.powf(p),
        powf_back_lhs => (if p == T::zero() { T::zero() } else { p * x.powf(p - T::one()) }),
        powf_back_rhs => (if x == T::zero() && p > T::zero() { T::zero() } else { x.powf(p) * x.ln() });
    log(x, b) = x.log(b),
        log_back_lhs => ((x * b.ln()).recip()),
        log_back_rhs => ({ let lb = b.ln(); -x.ln() / (b * lb * lb) });
    /// Convention: nothing flows at the origin `a = b = 0`.
    atan2(a, b) = a.atan2(b),
        atan2_back_lhs => ({ let r2 = a * a + b * b; if r2 == T::zero() { T::zero() } else { b / r2 } }),
        atan2_back_rhs => ({ let r2 = a * a + b * b; if r2 == T::zero() { T::zero() } else { -a / r2 } });
    /// Convention: nothing flows at the origin `a = b = 0`.
    hypot(a, b) = a.hypot(b),
        hypot_back_lhs => ({ let h = a.hypot(b); if h == T::zero() { T::zero() } else { a / h } }),
        hypot_back_rhs => ({ let h = a.hypot(b); if h == T::zero() { T::zero() } else { b / h } });
    /// Convention: ties (`a == b`) send the whole gradient to the receiver `a`; a NaN
    /// operand gets nothing unless both are NaN (the result is the other operand, as for
    /// `f64::max`).
    max(a, b) = a.max(b),
        max_back_lhs => (select(a >= b || b.is_nan())),
        max_back_rhs => (select(!(a >= b || b.is_nan())));
    /// Convention: ties (`a == b`) send the whole gradient to the receiver `a`; a NaN
    /// operand gets nothing unless both are NaN (the result is the other operand, as for
    /// `f64::min`).
    min(a, b) = a.min(b),
        min_back_lhs => (select(a <= b || b.is_nan())),
        min_back_rhs => (select(!(a <= b || b.is_nan())));
}

/// `x.clamp(lo, hi)` as `f64::clamp` computes it, elementwise for arrays.
///
/// # Panics
/// When `lo > hi` or either is NaN, as `f64::clamp` does.
#[inline(always)]
#[track_caller]
fn clamp1<T: Real>(x: T, lo: T, hi: T) -> T {
    assert!(
        lo <= hi,
        "min > max, or either was NaN. min = {lo:?}, max = {hi:?}"
    );
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// Ternary methods: `NAME(&a, &b, &c)` and `NAME_back_i(d, &a, &b, &c, &mut d_i)`.
macro_rules! ternary_rules {
    ($($(#[$m:meta])* $name:ident($a:ident, $b:ident, $c:ident) = $fwd:expr,
        $b0:ident => $d0:tt, $b1:ident => $d1:tt, $b2:ident => $d2:tt;)*) => {$(
        #[doc = concat!("`", stringify!($fwd), "`, elementwise for arrays, broadcasting.")]
        $(#[$m])*
        #[inline(always)]
        #[track_caller]
        pub fn $name<T: Real, A: Ternary<B, C, T>, B, C>($a: &A, $b: &B, $c: &C) -> A::Output {
            $a.ternary($b, $c, stringify!($name), |$a: T, $b: T, $c: T| $fwd)
        }
        ternary_rules!(@back $(#[$m])* $name($a, $b, $c) $b0 => $d0);
        ternary_rules!(@back $(#[$m])* $name($a, $b, $c) $b1 => $d1);
        ternary_rules!(@back $(#[$m])* $name($a, $b, $c) $b2 => $d2);
    )*};
    (@back $(#[$m:meta])* $name:ident($a:ident, $b:ident, $c:ident) $back:ident => $der:tt) => {
        #[doc = concat!(
            "Backward of [`", stringify!($name), "`] (`", stringify!($back), "`): `dx += d * ",
            stringify!($der), "`."
        )]
        $(#[$m])*
        #[allow(unused_variables)]
        #[inline(always)]
        #[track_caller]
        pub fn $back<T, DY, A, B, C, DX>(d: &DY, $a: &A, $b: &B, $c: &C, dx: &mut DX)
        where
            T: Real,
            DY: Adjoint,
            DY::Value: DValue<Elem = T>,
            A: Operand<T>,
            B: Operand<T>,
            C: Operand<T>,
            DX: AccBroadcast<T>,
        {
            if let Some(d) = d.get() {
                d.back4(
                    stringify!($name), $a, $b, $c, dx,
                    |d, $a: T, $b: T, $c: T| contrib!(d, $der),
                );
            }
        }
    };
}

ternary_rules! {
    /// Convention: the gradient flows to `x` when `lo <= x <= hi` (also at the bounds),
    /// to `lo` when `x < lo` and to `hi` when `x > hi`.
    clamp(x, lo, hi) = clamp1(x, lo, hi),
        clamp_back_0 => (select(lo <= x && x <= hi)),
        clamp_back_1 => (select(x < lo)),
        clamp_back_2 => (select(x > hi));
    mul_add(a, b, c) = a.mul_add(b, c),
        mul_add_back_0 => b,
        mul_add_back_1 => a,
        mul_add_back_2 => (T::one());
}
