//! Elementwise math (`exp`, `ln`, ...), `clip`, and broadcasting arithmetic (`add`, `sub`,
//! `mul`, `div`).

use ndarray::{Array, ArrayView, Axis, DimMax, Dimension, Zip};

use super::{into_standard, seed};
use crate::Real;

/// `f` applied to every element, in standard layout.
fn map<A: Real, D: Dimension>(x: &Array<A, D>, f: impl Fn(A) -> A) -> Array<A, D> {
    into_standard(x.mapv(f))
}

/// The pullback of a unary op: `d_x = f(d_y, kept)` elementwise, computed in the seed's
/// buffer.
#[track_caller]
fn pull<A: Real, D: Dimension>(
    op: &str,
    d_y: Array<A, D>,
    kept: &Array<A, D>,
    f: impl Fn(A, A) -> A,
) -> Array<A, D> {
    let mut d = seed(op, d_y, kept.shape());
    d.zip_mut_with(kept, |g, &k| *g = f(*g, k));
    d
}

/// The unary elementwise functions and their VJPs, each a table row: the forward applies
/// `A::NAME` to every element; the VJP keeps the input or the output and multiplies the
/// seed elementwise by the derivative `|g, v| ...` of `g` (the seed) and `v` (the kept value).
macro_rules! unary_ops {
    ($(
        $(#[$fwd_doc:meta])*
        fn $name:ident;
        $(#[$vjp_doc:meta])*
        fn $vjp:ident keeps $kept:ident: |$g:ident, $v:ident| $der:expr;
    )*) => {$(
        $(#[$fwd_doc])*
        pub fn $name<A: Real, D: Dimension>(x: &Array<A, D>) -> Array<A, D> {
            map(x, A::$name)
        }

        $(#[$vjp_doc])*
        pub fn $vjp<A: Real, D: Dimension>(
            x: &Array<A, D>,
        ) -> (
            Array<A, D>,
            impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
        ) {
            let (y, kept) = unary_ops!(@keep $kept, $name, x);
            (y, move |d_y| {
                pull(stringify!($name), d_y, &kept, |$g, $v| $der)
            })
        }
    )*};
    (@keep input, $name:ident, $x:ident) => {
        ($name($x), $x.clone())
    };
    (@keep output, $name:ident, $x:ident) => {{
        let y = $name($x);
        let kept = y.clone();
        (y, kept)
    }};
}

unary_ops! {
    /// Elementwise `eˣ`.
    ///
    /// ```text
    /// y = exp(x)        d_x = d_y ⊙ y
    /// ```
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// assert_eq!(ops::exp(&array![0.0_f64, 1.0]), array![1.0, 1.0_f64.exp()]);
    /// ```
    fn exp;

    /// Vector-Jacobian product of [`exp`]; keeps the output.
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// let (y, pullback) = ops::exp_vjp(&array![0.0_f64, 1.0]);
    /// assert_eq!(pullback(array![2.0, 1.0]), array![2.0, y[1]]);
    /// ```
    fn exp_vjp keeps output: |g, y| g * y;

    /// Elementwise natural logarithm.
    ///
    /// ```text
    /// y = ln(x)         d_x = d_y / x
    /// ```
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// assert_eq!(ops::ln(&array![1.0_f64, 1.0_f64.exp()]), array![0.0, 1.0]);
    /// ```
    fn ln;

    /// Vector-Jacobian product of [`ln`]; keeps the input.
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// let (_, pullback) = ops::ln_vjp(&array![2.0_f64, 4.0]);
    /// assert_eq!(pullback(array![1.0, 1.0]), array![0.5, 0.25]);
    /// ```
    fn ln_vjp keeps input: |g, x| g / x;

    /// Elementwise square root.
    ///
    /// ```text
    /// y = √x            d_x = d_y / (2 y)      (infinite at x = 0)
    /// ```
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// assert_eq!(ops::sqrt(&array![4.0_f64, 9.0]), array![2.0, 3.0]);
    /// ```
    fn sqrt;

    /// Vector-Jacobian product of [`sqrt`]; keeps the output.
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// let (_, pullback) = ops::sqrt_vjp(&array![4.0_f64, 9.0]);
    /// assert_eq!(pullback(array![1.0, 6.0]), array![0.25, 1.0]);
    /// ```
    fn sqrt_vjp keeps output: |g, y| A::from_f64(0.5) * g / y;

    /// Elementwise absolute value.
    ///
    /// ```text
    /// y = |x|           d_x = d_y ⊙ sign(x),   with sign(0) = 0 (abs'(0) = 0)
    /// ```
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// assert_eq!(ops::abs(&array![-2.0_f64, 3.0]), array![2.0, 3.0]);
    /// ```
    fn abs;

    /// Vector-Jacobian product of [`abs`]; keeps the input. At `x = 0` the gradient is 0.
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// let (_, pullback) = ops::abs_vjp(&array![-2.0_f64, 0.0, 3.0]);
    /// assert_eq!(pullback(array![1.0, 1.0, 1.0]), array![-1.0, 0.0, 1.0]);
    /// ```
    fn abs_vjp keeps input: |g, x| {
            if x > A::zero() {
                g
            } else if x < A::zero() {
                -g
            } else {
                A::zero()
            }
        };

    /// Elementwise hyperbolic tangent.
    ///
    /// ```text
    /// y = tanh(x)       d_x = d_y ⊙ (1 − y²)
    /// ```
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// assert_eq!(ops::tanh(&array![0.0_f64]), array![0.0]);
    /// ```
    fn tanh;

    /// Vector-Jacobian product of [`tanh`]; keeps the output.
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// let (_, pullback) = ops::tanh_vjp(&array![0.0_f64]);
    /// assert_eq!(pullback(array![3.0]), array![3.0]);
    /// ```
    fn tanh_vjp keeps output: |g, y| g * (A::one() - y * y);

    /// Elementwise sine.
    ///
    /// ```text
    /// y = sin(x)        d_x = d_y ⊙ cos(x)
    /// ```
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// assert_eq!(ops::sin(&array![0.0_f64]), array![0.0]);
    /// ```
    fn sin;

    /// Vector-Jacobian product of [`sin`]; keeps the input.
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// let (_, pullback) = ops::sin_vjp(&array![0.0_f64]);
    /// assert_eq!(pullback(array![2.0]), array![2.0]);
    /// ```
    fn sin_vjp keeps input: |g, x| g * x.cos();

    /// Elementwise cosine.
    ///
    /// ```text
    /// y = cos(x)        d_x = −d_y ⊙ sin(x)
    /// ```
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// assert_eq!(ops::cos(&array![0.0_f64]), array![1.0]);
    /// ```
    fn cos;

    /// Vector-Jacobian product of [`cos`]; keeps the input.
    ///
    /// # Examples
    /// ```
    /// use autodiff_runtime::ops;
    /// use ndarray::array;
    ///
    /// let (_, pullback) = ops::cos_vjp(&array![0.0_f64]);
    /// assert_eq!(pullback(array![2.0]), array![0.0]);
    /// ```
    fn cos_vjp keeps input: |g, x| -g * x.sin();
}

// ---- powi ----

/// Elementwise integer power.
///
/// ```text
/// y = xⁿ            d_x = d_y ⊙ n xⁿ⁻¹      (0 for n = 0)
/// ```
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::powi(&array![2.0_f64, -3.0], 3), array![8.0, -27.0]);
/// ```
pub fn powi<A: Real, D: Dimension>(x: &Array<A, D>, n: i32) -> Array<A, D> {
    map(x, |v| v.powi(n))
}

/// Vector-Jacobian product of [`powi`]; keeps the input. `n` is not differentiable.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::powi_vjp(&array![2.0_f64, -3.0], 3);
/// assert_eq!(pullback(array![1.0, 1.0]), array![12.0, 27.0]);
/// ```
pub fn powi_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    n: i32,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> Array<A, D> + use<A, D>,
) {
    let kept = x.clone();
    let nf = A::from_f64(n as f64);
    (powi(x, n), move |d_y| {
        pull("powi", d_y, &kept, move |g, x| {
            if n == 0 {
                A::zero()
            } else {
                g * nf * x.powi(n - 1)
            }
        })
    })
}

// ---- clip ----

#[track_caller]
fn check_bounds<A: Real>(lo: A, hi: A) {
    assert!(
        lo <= hi,
        "`clip`: lower bound {lo} is greater than upper bound {hi}"
    );
}

/// Clamps every element to `[lo, hi]`; `NaN` stays `NaN`.
///
/// ```text
/// y = min(max(x, lo), hi)
/// d_x  = d_y where lo ≤ x ≤ hi, else 0      (the bounds themselves pass the gradient to x)
/// d_lo = Σ d_y where x < lo
/// d_hi = Σ d_y where x > hi
/// ```
///
/// # Panics
/// When `lo > hi` or either bound is `NaN`.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::clip(&array![-2.0_f64, 0.5, 3.0], 0.0, 1.0), array![0.0, 0.5, 1.0]);
/// ```
#[track_caller]
pub fn clip<A: Real, D: Dimension>(x: &Array<A, D>, lo: A, hi: A) -> Array<A, D> {
    check_bounds(lo, hi);
    map(x, |v| {
        if v < lo {
            lo
        } else if v > hi {
            hi
        } else {
            v
        }
    })
}

/// Vector-Jacobian product of [`clip`]: the tangents of `(x, lo, hi)`; keeps the input.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::clip_vjp(&array![-2.0_f64, 0.5, 3.0, 4.0], 0.0, 1.0);
/// let (d_x, d_lo, d_hi) = pullback(array![1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(d_x, array![0.0, 2.0, 0.0, 0.0]);
/// assert_eq!((d_lo, d_hi), (1.0, 7.0));
/// ```
#[track_caller]
pub fn clip_vjp<A: Real, D: Dimension>(
    x: &Array<A, D>,
    lo: A,
    hi: A,
) -> (
    Array<A, D>,
    impl FnOnce(Array<A, D>) -> (Array<A, D>, A, A) + use<A, D>,
) {
    let y = clip(x, lo, hi);
    let kept = x.clone();
    (y, move |d_y| {
        let mut d = seed("clip", d_y, kept.shape());
        let (mut d_lo, mut d_hi) = (A::zero(), A::zero());
        d.zip_mut_with(&kept, |g, &x| {
            if x < lo {
                d_lo += *g;
                *g = A::zero();
            } else if x > hi {
                d_hi += *g;
                *g = A::zero();
            }
        });
        (d, d_lo, d_hi)
    })
}

// ---- broadcasting helpers ----

/// The shape two shapes co-broadcast to (NumPy rules), as the dimension type `O`.
#[track_caller]
fn co_broadcast<O: Dimension>(op: &str, a: &[usize], b: &[usize]) -> O {
    let n = a.len().max(b.len());
    let mut out = O::zeros(n);
    for i in 0..n {
        let x = if i < a.len() { a[a.len() - 1 - i] } else { 1 };
        let y = if i < b.len() { b[b.len() - 1 - i] } else { 1 };
        out.slice_mut()[n - 1 - i] = if x == y || y == 1 {
            x
        } else if x == 1 {
            y
        } else {
            panic!("`{op}`: arrays of shapes {a:?} and {b:?} cannot be broadcast together")
        };
    }
    out
}

/// `a` and `b` viewed with their common broadcast shape.
#[track_caller]
fn broadcast_pair<'a, A: Real, D1, D2>(
    op: &str,
    a: &'a Array<A, D1>,
    b: &'a Array<A, D2>,
) -> (
    ArrayView<'a, A, <D1 as DimMax<D2>>::Output>,
    ArrayView<'a, A, <D1 as DimMax<D2>>::Output>,
)
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let dim: <D1 as DimMax<D2>>::Output = co_broadcast(op, a.shape(), b.shape());
    let msg = "a shape that co-broadcasts is reachable by each operand";
    (
        a.broadcast(dim.clone()).expect(msg),
        b.broadcast(dim).expect(msg),
    )
}

/// `f(a, b)` elementwise over the broadcast shape, in standard layout.
#[track_caller]
fn zip_map<A: Real, D1, D2>(
    op: &str,
    a: &Array<A, D1>,
    b: &Array<A, D2>,
    f: impl Fn(A, A) -> A,
) -> Array<A, <D1 as DimMax<D2>>::Output>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let (av, bv) = broadcast_pair(op, a, b);
    let mut y = Array::zeros(av.raw_dim());
    Zip::from(&mut y)
        .and(&av)
        .and(&bv)
        .for_each(|y, &a, &b| *y = f(a, b));
    y
}

/// Sums `g` over the axes along which an operand of shape `dim` was broadcast, giving an
/// array of shape `dim`.
fn unbroadcast<A: Real, E: Dimension, D: Dimension>(g: Array<A, E>, dim: &D) -> Array<A, D> {
    let msg = "the broadcast shape reduces to the operand's shape";
    if g.shape() == dim.slice() {
        return g.into_dimensionality::<D>().expect(msg);
    }
    let mut g = g.into_dyn();
    while g.ndim() > dim.ndim() {
        g = g.sum_axis(Axis(0));
    }
    for (axis, &n) in dim.slice().iter().enumerate() {
        if n == 1 && g.shape()[axis] != 1 {
            g = g.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    into_standard(g.into_dimensionality::<D>().expect(msg))
}

/// The pullback seed of a binary op, checked against the broadcast output shape.
#[track_caller]
fn binary_seed<A: Real, E: Dimension>(
    op: &str,
    d_y: Array<A, E>,
    a: &[usize],
    b: &[usize],
) -> Array<A, E> {
    let out: E = co_broadcast(op, a, b);
    seed(op, d_y, out.slice())
}

// ---- add ----

/// `a + b` with broadcasting (NumPy rules: shapes are aligned at the last axis, and an axis
/// of length 1, or a missing leading axis, stretches to the other's length).
///
/// ```text
/// y = a + b         d_a = unbroadcast(d_y)       d_b = unbroadcast(d_y)
/// ```
/// where `unbroadcast` sums over the axes along which the operand was stretched.
///
/// # Panics
/// When the shapes do not broadcast together.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let y = ops::add(&array![[1.0_f64, 2.0], [3.0, 4.0]], &array![10.0, 20.0]);
/// assert_eq!(y, array![[11.0, 22.0], [13.0, 24.0]]);
/// ```
#[track_caller]
pub fn add<A: Real, D1, D2>(
    a: &Array<A, D1>,
    b: &Array<A, D2>,
) -> Array<A, <D1 as DimMax<D2>>::Output>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    zip_map("add", a, b, |a, b| a + b)
}

/// Vector-Jacobian product of [`add`]: the tangents of `(a, b)`, each of its operand's shape.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::add_vjp(&array![[1.0_f64, 2.0], [3.0, 4.0]], &array![10.0, 20.0]);
/// let (d_a, d_b) = pullback(array![[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(d_a, array![[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(d_b, array![4.0, 6.0]);
/// ```
#[track_caller]
pub fn add_vjp<A: Real, D1, D2>(
    a: &Array<A, D1>,
    b: &Array<A, D2>,
) -> (
    Array<A, <D1 as DimMax<D2>>::Output>,
    impl FnOnce(Array<A, <D1 as DimMax<D2>>::Output>) -> (Array<A, D1>, Array<A, D2>) + use<A, D1, D2>,
)
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let y = add(a, b);
    let (da, db) = (a.raw_dim(), b.raw_dim());
    (y, move |d_y| {
        let g = binary_seed("add", d_y, da.slice(), db.slice());
        (unbroadcast(g.clone(), &da), unbroadcast(g, &db))
    })
}

// ---- sub ----

/// `a − b` with broadcasting (see [`add`]).
///
/// ```text
/// y = a − b         d_a = unbroadcast(d_y)       d_b = −unbroadcast(d_y)
/// ```
///
/// # Panics
/// When the shapes do not broadcast together.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::sub(&array![5.0_f64, 6.0], &array![[1.0], [2.0]]), array![[4.0, 5.0], [3.0, 4.0]]);
/// ```
#[track_caller]
pub fn sub<A: Real, D1, D2>(
    a: &Array<A, D1>,
    b: &Array<A, D2>,
) -> Array<A, <D1 as DimMax<D2>>::Output>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    zip_map("sub", a, b, |a, b| a - b)
}

/// Vector-Jacobian product of [`sub`]: the tangents of `(a, b)`.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::sub_vjp(&array![5.0_f64, 6.0], &array![[1.0], [2.0]]);
/// let (d_a, d_b) = pullback(array![[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(d_a, array![4.0, 6.0]);
/// assert_eq!(d_b, array![[-3.0], [-7.0]]);
/// ```
#[track_caller]
pub fn sub_vjp<A: Real, D1, D2>(
    a: &Array<A, D1>,
    b: &Array<A, D2>,
) -> (
    Array<A, <D1 as DimMax<D2>>::Output>,
    impl FnOnce(Array<A, <D1 as DimMax<D2>>::Output>) -> (Array<A, D1>, Array<A, D2>) + use<A, D1, D2>,
)
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let y = sub(a, b);
    let (da, db) = (a.raw_dim(), b.raw_dim());
    (y, move |d_y| {
        let g = binary_seed("sub", d_y, da.slice(), db.slice());
        let d_a = unbroadcast(g.clone(), &da);
        let mut d_b = unbroadcast(g, &db);
        d_b.mapv_inplace(|v| -v);
        (d_a, d_b)
    })
}

// ---- mul ----

/// `a ⊙ b` (elementwise product) with broadcasting (see [`add`]).
///
/// ```text
/// y = a ⊙ b         d_a = unbroadcast(d_y ⊙ b)   d_b = unbroadcast(d_y ⊙ a)
/// ```
///
/// # Panics
/// When the shapes do not broadcast together.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::mul(&array![[1.0_f64, 2.0]], &array![[3.0], [4.0]]), array![[3.0, 6.0], [4.0, 8.0]]);
/// ```
#[track_caller]
pub fn mul<A: Real, D1, D2>(
    a: &Array<A, D1>,
    b: &Array<A, D2>,
) -> Array<A, <D1 as DimMax<D2>>::Output>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    zip_map("mul", a, b, |a, b| a * b)
}

/// Vector-Jacobian product of [`mul`]: the tangents of `(a, b)`; keeps both inputs.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::mul_vjp(&array![[1.0_f64, 2.0]], &array![[3.0], [4.0]]);
/// let (d_a, d_b) = pullback(array![[1.0, 1.0], [1.0, 1.0]]);
/// assert_eq!(d_a, array![[7.0, 7.0]]);
/// assert_eq!(d_b, array![[3.0], [3.0]]);
/// ```
#[track_caller]
pub fn mul_vjp<A: Real, D1, D2>(
    a: &Array<A, D1>,
    b: &Array<A, D2>,
) -> (
    Array<A, <D1 as DimMax<D2>>::Output>,
    impl FnOnce(Array<A, <D1 as DimMax<D2>>::Output>) -> (Array<A, D1>, Array<A, D2>) + use<A, D1, D2>,
)
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let y = mul(a, b);
    let (a, b) = (a.clone(), b.clone());
    (y, move |d_y| {
        let mut g_b = binary_seed("mul", d_y, a.shape(), b.shape());
        let (av, bv) = broadcast_pair("mul", &a, &b);
        let mut g_a = g_b.clone();
        Zip::from(&mut g_a).and(&bv).for_each(|g, &b| *g *= b);
        Zip::from(&mut g_b).and(&av).for_each(|g, &a| *g *= a);
        (
            unbroadcast(g_a, &a.raw_dim()),
            unbroadcast(g_b, &b.raw_dim()),
        )
    })
}

// ---- div ----

/// `a ⊘ b` (elementwise quotient) with broadcasting (see [`add`]).
///
/// ```text
/// y = a ⊘ b         d_a = unbroadcast(d_y ⊘ b)   d_b = −unbroadcast(d_y ⊙ a ⊘ b²)
/// ```
///
/// # Panics
/// When the shapes do not broadcast together.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// assert_eq!(ops::div(&array![[2.0_f64, 4.0]], &array![2.0]), array![[1.0, 2.0]]);
/// ```
#[track_caller]
pub fn div<A: Real, D1, D2>(
    a: &Array<A, D1>,
    b: &Array<A, D2>,
) -> Array<A, <D1 as DimMax<D2>>::Output>
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    zip_map("div", a, b, |a, b| a / b)
}

/// Vector-Jacobian product of [`div`]: the tangents of `(a, b)`; keeps both inputs.
///
/// # Examples
/// ```
/// use autodiff_runtime::ops;
/// use ndarray::array;
///
/// let (_, pullback) = ops::div_vjp(&array![[2.0_f64, 4.0]], &array![2.0]);
/// let (d_a, d_b) = pullback(array![[1.0, 1.0]]);
/// assert_eq!(d_a, array![[0.5, 0.5]]);
/// assert_eq!(d_b, array![-1.5]);
/// ```
#[track_caller]
pub fn div_vjp<A: Real, D1, D2>(
    a: &Array<A, D1>,
    b: &Array<A, D2>,
) -> (
    Array<A, <D1 as DimMax<D2>>::Output>,
    impl FnOnce(Array<A, <D1 as DimMax<D2>>::Output>) -> (Array<A, D1>, Array<A, D2>) + use<A, D1, D2>,
)
where
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let y = div(a, b);
    let (a, b) = (a.clone(), b.clone());
    (y, move |d_y| {
        let mut g_b = binary_seed("div", d_y, a.shape(), b.shape());
        let (av, bv) = broadcast_pair("div", &a, &b);
        let mut g_a = g_b.clone();
        Zip::from(&mut g_a).and(&bv).for_each(|g, &b| *g /= b);
        Zip::from(&mut g_b)
            .and(&av)
            .and(&bv)
            .for_each(|g, &a, &b| *g = -*g * a / (b * b));
        (
            unbroadcast(g_a, &a.raw_dim()),
            unbroadcast(g_b, &b.raw_dim()),
        )
    })
}
