//! Arithmetic rules (`+ - * /`, unary `-`, `as` casts) and the elementwise machinery that
//! every scalar and elementwise rule (see [`method`](super::method)) is built on.
//!
//! # Forward
//! A forward function takes its operands by reference and returns an owned result. Each
//! operand is a scalar `T` or `&T` (`T: Real`), or an ndarray `ArrayBase<S, D>` or
//! `&ArrayBase<S, D>`; two arrays co-broadcast as ndarray's operators do. The combinations
//! are implemented one by one ([`Binary`], [`Unary`], [`Ternary`]), so that a float literal
//! operand infers its width from the other operand (`mul(&x, &2.0)` with `x: f32`).
//!
//! # Backward
//! A backward function takes the output's accumulator `d` (an [`Adjoint`], skipped when
//! empty), the kept values it needs ([`Operand`]s), and adds into the operand's accumulator
//! (an [`AccBroadcast`]: a scalar, a [`Slot`] or an owned `Array`), summing over the axes
//! along which the operand was broadcast. With scalars everywhere, a backward function
//! inlines to the hand-written expression (`dl += d * r`).

use ndarray::{
    Array, ArrayBase, ArrayView, ArrayViewMut, Axis, Data, DimMax, Dimension, Ix0, ShapeBuilder,
    Zip,
};

use super::{Adjoint, Slot};
use crate::Real;

// ---------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------

/// The shape two shapes co-broadcast to (NumPy rules), as the dimension type `O`.
#[track_caller]
fn co_broadcast<O: Dimension>(op: &str, a: &[usize], b: &[usize]) -> O {
    let n = a.len().max(b.len());
    let mut out = O::zeros(n);
    let o = out.slice_mut();
    for i in 0..n {
        let x = if i < a.len() { a[a.len() - 1 - i] } else { 1 };
        let y = if i < b.len() { b[b.len() - 1 - i] } else { 1 };
        o[n - 1 - i] = if x == y || y == 1 {
            x
        } else if x == 1 {
            y
        } else {
            panic!("`{op}`: operands of shapes {a:?} and {b:?} cannot be broadcast together")
        };
    }
    out
}

/// `a` viewed with shape `dim` (stride 0 along broadcast axes).
#[track_caller]
fn broadcast_view<'a, T, S: Data<Elem = T>, D: Dimension, E: Dimension>(
    op: &str,
    a: &'a ArrayBase<S, D>,
    dim: &E,
) -> ArrayView<'a, T, E> {
    match a.broadcast(dim.clone()) {
        Some(v) => v,
        None => panic!(
            "`{op}`: an operand of shape {:?} cannot be broadcast to shape {:?}",
            a.shape(),
            dim.slice()
        ),
    }
}

/// A scalar viewed as an array of shape `dim` (every stride 0).
#[inline]
fn scalar_view<'a, T, E: Dimension>(s: &'a T, dim: &E) -> ArrayView<'a, T, E> {
    let strides = E::zeros(dim.ndim());
    ArrayView::from_shape(dim.clone().strides(strides), std::slice::from_ref(s))
        .expect("a read-only view may repeat one element")
}

// ---------------------------------------------------------------------------------------
// Operands
// ---------------------------------------------------------------------------------------

/// A scalar operand: `T` or `&T`.
pub trait ScalarArg<T: Real> {
    /// The scalar's value.
    fn get(&self) -> T;
}

impl<T: Real> ScalarArg<T> for T {
    #[inline(always)]
    fn get(&self) -> T {
        *self
    }
}

impl<T: Real> ScalarArg<T> for &T {
    #[inline(always)]
    fn get(&self) -> T {
        **self
    }
}

/// Any operand of an elementwise rule (a scalar or an array), as read by backward functions
/// (kept values) and by the array forms of [`Ternary`].
pub trait Operand<T: Real> {
    /// The operand's dimension type (`Ix0` for a scalar, which broadcasts to anything).
    type Dim: Dimension;
    /// The value, when the operand is a scalar.
    fn scalar(&self) -> Option<T>;
    /// The operand's shape (`[]` for a scalar).
    fn raw_dim(&self) -> Self::Dim;
    /// The operand viewed with shape `dim`.
    ///
    /// # Panics
    /// When the operand does not broadcast to `dim`.
    fn view_as<E: Dimension>(&self, op: &str, dim: &E) -> ArrayView<'_, T, E>;
}

impl<T: Real> Operand<T> for T {
    type Dim = Ix0;
    #[inline(always)]
    fn scalar(&self) -> Option<T> {
        Some(*self)
    }
    #[inline(always)]
    fn raw_dim(&self) -> Ix0 {
        Ix0()
    }
    #[inline]
    fn view_as<E: Dimension>(&self, _op: &str, dim: &E) -> ArrayView<'_, T, E> {
        scalar_view(self, dim)
    }
}

impl<T: Real> Operand<T> for &T {
    type Dim = Ix0;
    #[inline(always)]
    fn scalar(&self) -> Option<T> {
        Some(**self)
    }
    #[inline(always)]
    fn raw_dim(&self) -> Ix0 {
        Ix0()
    }
    #[inline]
    fn view_as<E: Dimension>(&self, _op: &str, dim: &E) -> ArrayView<'_, T, E> {
        scalar_view(*self, dim)
    }
}

impl<T: Real, S: Data<Elem = T>, D: Dimension> Operand<T> for ArrayBase<S, D> {
    type Dim = D;
    #[inline(always)]
    fn scalar(&self) -> Option<T> {
        None
    }
    #[inline]
    fn raw_dim(&self) -> D {
        ArrayBase::raw_dim(self)
    }
    #[track_caller]
    fn view_as<E: Dimension>(&self, op: &str, dim: &E) -> ArrayView<'_, T, E> {
        broadcast_view(op, self, dim)
    }
}

impl<T: Real, S: Data<Elem = T>, D: Dimension> Operand<T> for &ArrayBase<S, D> {
    type Dim = D;
    #[inline(always)]
    fn scalar(&self) -> Option<T> {
        None
    }
    #[inline]
    fn raw_dim(&self) -> D {
        ArrayBase::raw_dim(*self)
    }
    #[track_caller]
    fn view_as<E: Dimension>(&self, op: &str, dim: &E) -> ArrayView<'_, T, E> {
        broadcast_view(op, *self, dim)
    }
}

// ---------------------------------------------------------------------------------------
// Forward: elementwise maps over every operand combination
// ---------------------------------------------------------------------------------------

/// An operand of an elementwise unary rule: `T`, `&T`, `ArrayBase`, `&ArrayBase`.
pub trait Unary<T: Real> {
    /// `T` for scalars, `Array<T, D>` for arrays.
    type Output;
    /// Applies `f` (to every element).
    fn unary(&self, f: impl Fn(T) -> T) -> Self::Output;
}

impl<T: Real> Unary<T> for T {
    type Output = T;
    #[inline(always)]
    fn unary(&self, f: impl Fn(T) -> T) -> T {
        f(*self)
    }
}

impl<T: Real> Unary<T> for &T {
    type Output = T;
    #[inline(always)]
    fn unary(&self, f: impl Fn(T) -> T) -> T {
        f(**self)
    }
}

impl<T: Real, S: Data<Elem = T>, D: Dimension> Unary<T> for ArrayBase<S, D> {
    type Output = Array<T, D>;
    #[inline]
    fn unary(&self, f: impl Fn(T) -> T) -> Array<T, D> {
        self.map(|&x| f(x))
    }
}

impl<T: Real, S: Data<Elem = T>, D: Dimension> Unary<T> for &ArrayBase<S, D> {
    type Output = Array<T, D>;
    #[inline]
    fn unary(&self, f: impl Fn(T) -> T) -> Array<T, D> {
        self.map(|&x| f(x))
    }
}

/// The left operand of an elementwise binary rule, combined with a right operand `R`.
///
/// Implemented for each of the 16 combinations of `T`, `&T`, `ArrayBase<S, D>` and
/// `&ArrayBase<S, D>`; two arrays co-broadcast to `<D1 as DimMax<D2>>::Output`.
pub trait Binary<R, T: Real> {
    /// `T` when both operands are scalars, an owned `Array` otherwise.
    type Output;
    /// Applies `f` elementwise; `op` names the operation in shape errors.
    fn binary(&self, r: &R, op: &str, f: impl Fn(T, T) -> T) -> Self::Output;
}

#[inline]
fn bin_scalar_array<T: Real, S: Data<Elem = T>, D: Dimension>(
    l: T,
    r: &ArrayBase<S, D>,
    f: impl Fn(T, T) -> T,
) -> Array<T, D> {
    r.map(|&b| f(l, b))
}

#[inline]
fn bin_array_scalar<T: Real, S: Data<Elem = T>, D: Dimension>(
    l: &ArrayBase<S, D>,
    r: T,
    f: impl Fn(T, T) -> T,
) -> Array<T, D> {
    l.map(|&a| f(a, r))
}

#[track_caller]
fn bin_array_array<T, S1, S2, D1, D2>(
    l: &ArrayBase<S1, D1>,
    r: &ArrayBase<S2, D2>,
    op: &str,
    f: impl Fn(T, T) -> T,
) -> Array<T, <D1 as DimMax<D2>>::Output>
where
    T: Real,
    S1: Data<Elem = T>,
    S2: Data<Elem = T>,
    D1: Dimension + DimMax<D2>,
    D2: Dimension,
{
    let dim: <D1 as DimMax<D2>>::Output = co_broadcast(op, l.shape(), r.shape());
    let lv = broadcast_view(op, l, &dim);
    let rv = broadcast_view(op, r, &dim);
    Zip::from(&lv).and(&rv).map_collect(|&a, &b| f(a, b))
}

macro_rules! binary_scalar_scalar {
    ($([$($g:tt)*] $L:ty, $R:ty;)*) => {$(
        impl<$($g)*> Binary<$R, T> for $L {
            type Output = T;
            #[inline(always)]
            fn binary(&self, r: &$R, _op: &str, f: impl Fn(T, T) -> T) -> T {
                f(ScalarArg::get(self), ScalarArg::get(r))
            }
        }
    )*};
}
binary_scalar_scalar! {
    [T: Real] T, T;
    [T: Real] T, &T;
    [T: Real] &T, T;
    [T: Real] &T, &T;
}

macro_rules! binary_scalar_array {
    ($([$($g:tt)*] $L:ty, $R:ty;)*) => {$(
        impl<$($g)*> Binary<$R, T> for $L {
            type Output = Array<T, D>;
            #[inline]
            fn binary(&self, r: &$R, _op: &str, f: impl Fn(T, T) -> T) -> Array<T, D> {
                bin_scalar_array(ScalarArg::get(self), r, f)
            }
        }
    )*};
}
binary_scalar_array! {
    [T: Real, S: Data<Elem = T>, D: Dimension] T, ArrayBase<S, D>;
    [T: Real, S: Data<Elem = T>, D: Dimension] T, &ArrayBase<S, D>;
    [T: Real, S: Data<Elem = T>, D: Dimension] &T, ArrayBase<S, D>;
    [T: Real, S: Data<Elem = T>, D: Dimension] &T, &ArrayBase<S, D>;
}

macro_rules! binary_array_scalar {
    ($([$($g:tt)*] $L:ty, $R:ty;)*) => {$(
        impl<$($g)*> Binary<$R, T> for $L {
            type Output = Array<T, D>;
            #[inline]
            fn binary(&self, r: &$R, _op: &str, f: impl Fn(T, T) -> T) -> Array<T, D> {
                bin_array_scalar(self, ScalarArg::get(r), f)
            }
        }
    )*};
}
binary_array_scalar! {
    [T: Real, S: Data<Elem = T>, D: Dimension] ArrayBase<S, D>, T;
    [T: Real, S: Data<Elem = T>, D: Dimension] ArrayBase<S, D>, &T;
    [T: Real, S: Data<Elem = T>, D: Dimension] &ArrayBase<S, D>, T;
    [T: Real, S: Data<Elem = T>, D: Dimension] &ArrayBase<S, D>, &T;
}

macro_rules! binary_array_array {
    ($([$($g:tt)*] $L:ty, $R:ty;)*) => {$(
        impl<$($g)*> Binary<$R, T> for $L {
            type Output = Array<T, <D1 as DimMax<D2>>::Output>;
            #[track_caller]
            fn binary(&self, r: &$R, op: &str, f: impl Fn(T, T) -> T) -> Self::Output {
                bin_array_array(self, r, op, f)
            }
        }
    )*};
}
binary_array_array! {
    [T: Real, S1: Data<Elem = T>, S2: Data<Elem = T>, D1: Dimension + DimMax<D2>, D2: Dimension]
        ArrayBase<S1, D1>, ArrayBase<S2, D2>;
    [T: Real, S1: Data<Elem = T>, S2: Data<Elem = T>, D1: Dimension + DimMax<D2>, D2: Dimension]
        ArrayBase<S1, D1>, &ArrayBase<S2, D2>;
    [T: Real, S1: Data<Elem = T>, S2: Data<Elem = T>, D1: Dimension + DimMax<D2>, D2: Dimension]
        &ArrayBase<S1, D1>, ArrayBase<S2, D2>;
    [T: Real, S1: Data<Elem = T>, S2: Data<Elem = T>, D1: Dimension + DimMax<D2>, D2: Dimension]
        &ArrayBase<S1, D1>, &ArrayBase<S2, D2>;
}

/// The first operand of an elementwise ternary rule (`clamp`, `mul_add`), combined with
/// operands `B` and `C`.
///
/// With a scalar first operand, `B` and `C` are scalars (`T` or `&T`) and the result is `T`.
/// With an array first operand, `B` and `C` are scalars or arrays, broadcast together.
pub trait Ternary<B, C, T: Real> {
    /// `T` for scalars, an owned `Array` otherwise.
    type Output;
    /// Applies `f` elementwise; `op` names the operation in shape errors.
    fn ternary(&self, b: &B, c: &C, op: &str, f: impl Fn(T, T, T) -> T) -> Self::Output;
}

impl<T: Real, B: ScalarArg<T>, C: ScalarArg<T>> Ternary<B, C, T> for T {
    type Output = T;
    #[inline(always)]
    fn ternary(&self, b: &B, c: &C, _op: &str, f: impl Fn(T, T, T) -> T) -> T {
        f(*self, b.get(), c.get())
    }
}

impl<T: Real, B: ScalarArg<T>, C: ScalarArg<T>> Ternary<B, C, T> for &T {
    type Output = T;
    #[inline(always)]
    fn ternary(&self, b: &B, c: &C, _op: &str, f: impl Fn(T, T, T) -> T) -> T {
        f(**self, b.get(), c.get())
    }
}

/// The dimension three operands broadcast to.
type Dim3<A, B, C> = <<A as DimMax<B>>::Output as DimMax<C>>::Output;

/// The array three operands produce.
type Out3<T, A, B, C> =
    Array<T, Dim3<<A as Operand<T>>::Dim, <B as Operand<T>>::Dim, <C as Operand<T>>::Dim>>;

#[track_caller]
fn tern_array<T, A, B, C>(
    a: &A,
    b: &B,
    c: &C,
    op: &str,
    f: impl Fn(T, T, T) -> T,
) -> Out3<T, A, B, C>
where
    T: Real,
    A: Operand<T>,
    B: Operand<T>,
    C: Operand<T>,
    A::Dim: DimMax<B::Dim>,
    <A::Dim as DimMax<B::Dim>>::Output: DimMax<C::Dim>,
{
    let ab: <A::Dim as DimMax<B::Dim>>::Output =
        co_broadcast(op, a.raw_dim().slice(), b.raw_dim().slice());
    let dim: Dim3<A::Dim, B::Dim, C::Dim> = co_broadcast(op, ab.slice(), c.raw_dim().slice());
    match (b.scalar(), c.scalar()) {
        (Some(b), Some(c)) => a.view_as(op, &dim).map(|&a| f(a, b, c)),
        _ => Zip::from(&a.view_as(op, &dim))
            .and(&b.view_as(op, &dim))
            .and(&c.view_as(op, &dim))
            .map_collect(|&a, &b, &c| f(a, b, c)),
    }
}

macro_rules! ternary_array {
    ($($L:ty;)*) => {$(
        impl<T, S, D, B, C> Ternary<B, C, T> for $L
        where
            T: Real,
            S: Data<Elem = T>,
            D: Dimension + DimMax<B::Dim>,
            B: Operand<T>,
            C: Operand<T>,
            <D as DimMax<B::Dim>>::Output: DimMax<C::Dim>,
        {
            type Output = Array<T, Dim3<D, B::Dim, C::Dim>>;
            #[track_caller]
            fn ternary(&self, b: &B, c: &C, op: &str, f: impl Fn(T, T, T) -> T) -> Self::Output {
                tern_array(self, b, c, op, f)
            }
        }
    )*};
}
ternary_array! {
    ArrayBase<S, D>;
    &ArrayBase<S, D>;
}

// ---------------------------------------------------------------------------------------
// Backward: contributions and sinks
// ---------------------------------------------------------------------------------------

/// An elementwise adjoint contribution over the output's shape `E`, computed lazily from
/// the output adjoint and the kept operands (all viewed with shape `E`).
pub trait Contribution<T: Real, E: Dimension> {
    /// The output's shape.
    fn dim(&self) -> E;
    /// `dst += c`, with `dst` of the output's shape.
    fn add_to(self, dst: ArrayViewMut<'_, T, E>);
    /// The contribution as a new array.
    fn collect(self) -> Array<T, E>;
    /// The sum of all elements.
    fn sum(self) -> T;
}

macro_rules! contribution {
    ($(#[$m:meta])* $name:ident ($($k:ident),*)) => {
        $(#[$m])*
        pub struct $name<'a, T, E: Dimension, F> {
            d: ArrayView<'a, T, E>,
            $($k: ArrayView<'a, T, E>,)*
            f: F,
        }

        impl<T: Real, E: Dimension, F: Fn(T, $(contribution!(@t $k T)),*) -> T> Contribution<T, E>
            for $name<'_, T, E, F>
        {
            #[inline]
            fn dim(&self) -> E {
                self.d.raw_dim()
            }
            #[inline]
            fn add_to(self, dst: ArrayViewMut<'_, T, E>) {
                let f = self.f;
                Zip::from(dst)
                    .and(&self.d)
                    $(.and(&self.$k))*
                    .for_each(|o, &d, $(&$k),*| *o += f(d, $($k),*));
            }
            #[inline]
            fn collect(self) -> Array<T, E> {
                let f = self.f;
                Zip::from(&self.d)$(.and(&self.$k))*.map_collect(|&d, $(&$k),*| f(d, $($k),*))
            }
            #[inline]
            fn sum(self) -> T {
                let f = self.f;
                Zip::from(&self.d)
                    $(.and(&self.$k))*
                    .fold(T::zero(), |acc, &d, $(&$k),*| acc + f(d, $($k),*))
            }
        }
    };
    (@t $k:ident $T:ident) => { $T };
}

contribution!(
    /// `f(d)` elementwise.
    Contrib1()
);
contribution!(
    /// `f(d, a)` elementwise.
    Contrib2(a)
);
contribution!(
    /// `f(d, a, b)` elementwise.
    Contrib3(a, b)
);
contribution!(
    /// `f(d, a, b, c)` elementwise.
    Contrib4(a, b, c)
);

/// An accumulator that elementwise rules add into: a scalar (`T`), a lazy [`Slot`] or an
/// owned `Array` (eager). Contributions over a larger (broadcast) shape are summed over the
/// broadcast axes down to the accumulator's shape; a scalar accumulator sums everything.
pub trait AccBroadcast<T: Real> {
    /// `self += c` for a scalar contribution (the output was a scalar).
    fn acc_scalar(&mut self, op: &str, c: T);
    /// `self += c`, summed over broadcast axes.
    ///
    /// # Panics
    /// When the contribution's shape does not reduce to the accumulator's shape.
    fn acc_elementwise<E: Dimension, C: Contribution<T, E>>(&mut self, op: &str, c: C);
}

impl<T: Real> AccBroadcast<T> for T {
    #[inline(always)]
    fn acc_scalar(&mut self, _op: &str, c: T) {
        *self += c;
    }
    #[inline]
    fn acc_elementwise<E: Dimension, C: Contribution<T, E>>(&mut self, _op: &str, c: C) {
        *self += c.sum();
    }
}

/// Sums `c` over the axes along which an operand of shape `target` was broadcast.
#[track_caller]
fn reduce_to<T: Real, E: Dimension, D: Dimension>(
    op: &str,
    c: Array<T, E>,
    target: &[usize],
) -> Array<T, D> {
    let shape = c.shape();
    let lead = shape.len().wrapping_sub(target.len());
    let compatible = target.len() <= shape.len()
        && target
            .iter()
            .zip(&shape[lead..])
            .all(|(&t, &s)| t == s || t == 1);
    assert!(
        compatible,
        "`{op}`: an adjoint of shape {shape:?} cannot flow to an operand of shape {target:?}"
    );
    let mut c = c.into_dyn();
    for _ in 0..lead {
        c = c.sum_axis(Axis(0));
    }
    for (i, &t) in target.iter().enumerate() {
        if t == 1 && c.shape()[i] != 1 {
            c = c.sum_axis(Axis(i)).insert_axis(Axis(i));
        }
    }
    c.into_dimensionality::<D>()
        .expect("reduced to the operand's dimensionality")
}

/// Adds `c` into `dst` (an array of the operand's shape).
#[track_caller]
fn add_into<T: Real, D: Dimension, E: Dimension, C: Contribution<T, E>>(
    op: &str,
    dst: &mut Array<T, D>,
    c: C,
) {
    if c.dim().slice() == dst.shape() {
        let view = dst
            .view_mut()
            .into_dimensionality::<E>()
            .expect("same shape");
        c.add_to(view);
    } else {
        let r = reduce_to::<T, E, D>(op, c.collect(), dst.shape());
        dst.zip_mut_with(&r, |a, &b| *a += b);
    }
}

#[track_caller]
fn scalar_into_array(op: &str, shape: &[usize]) -> ! {
    panic!("`{op}`: a scalar adjoint cannot flow to an array operand of shape {shape:?}")
}

impl<T: Real, D: Dimension> AccBroadcast<T> for Slot<T, D> {
    #[track_caller]
    fn acc_scalar(&mut self, op: &str, _c: T) {
        scalar_into_array(op, self.shape())
    }
    #[track_caller]
    fn acc_elementwise<E: Dimension, C: Contribution<T, E>>(&mut self, op: &str, c: C) {
        if self.get().is_some() {
            add_into(op, self.materialize(), c);
        } else if c.dim().slice() == self.shape() {
            let value = c.collect().into_dimensionality::<D>().expect("same shape");
            self.add_value(value);
        } else {
            let value = reduce_to::<T, E, D>(op, c.collect(), self.shape());
            self.add_value(value);
        }
    }
}

impl<T: Real, D: Dimension> AccBroadcast<T> for Array<T, D> {
    #[track_caller]
    fn acc_scalar(&mut self, op: &str, _c: T) {
        scalar_into_array(op, self.shape())
    }
    #[track_caller]
    fn acc_elementwise<E: Dimension, C: Contribution<T, E>>(&mut self, op: &str, c: C) {
        add_into(op, self, c);
    }
}

/// The value held by an output accumulator (`T` or `Array<T, E>`): what drives a backward
/// function. Each method computes `f(d, kept...)` elementwise and adds it into `dx`.
pub trait DValue {
    /// The scalar type.
    type Elem: Real;
    /// `dx += f(d)`.
    fn back1<X: AccBroadcast<Self::Elem>>(
        &self,
        op: &str,
        dx: &mut X,
        f: impl Fn(Self::Elem) -> Self::Elem,
    );
    /// `dx += f(d, a)`.
    fn back2<A: Operand<Self::Elem>, X: AccBroadcast<Self::Elem>>(
        &self,
        op: &str,
        a: &A,
        dx: &mut X,
        f: impl Fn(Self::Elem, Self::Elem) -> Self::Elem,
    );
    /// `dx += f(d, a, b)`.
    fn back3<A: Operand<Self::Elem>, B: Operand<Self::Elem>, X: AccBroadcast<Self::Elem>>(
        &self,
        op: &str,
        a: &A,
        b: &B,
        dx: &mut X,
        f: impl Fn(Self::Elem, Self::Elem, Self::Elem) -> Self::Elem,
    );
    /// `dx += f(d, a, b, c)`.
    #[allow(clippy::too_many_arguments)]
    fn back4<
        A: Operand<Self::Elem>,
        B: Operand<Self::Elem>,
        C: Operand<Self::Elem>,
        X: AccBroadcast<Self::Elem>,
    >(
        &self,
        op: &str,
        a: &A,
        b: &B,
        c: &C,
        dx: &mut X,
        f: impl Fn(Self::Elem, Self::Elem, Self::Elem, Self::Elem) -> Self::Elem,
    );
}

#[track_caller]
fn array_kept_for_scalar(op: &str) -> ! {
    panic!("`{op}`: an array operand cannot have a scalar output")
}

/// A kept operand's scalar value (the output is a scalar, so every operand is).
#[inline(always)]
#[track_caller]
fn sc<T: Real, A: Operand<T>>(op: &str, a: &A) -> T {
    match a.scalar() {
        Some(v) => v,
        None => array_kept_for_scalar(op),
    }
}

impl<T: Real> DValue for T {
    type Elem = T;
    #[inline(always)]
    fn back1<X: AccBroadcast<T>>(&self, op: &str, dx: &mut X, f: impl Fn(T) -> T) {
        dx.acc_scalar(op, f(*self));
    }
    #[inline(always)]
    fn back2<A: Operand<T>, X: AccBroadcast<T>>(
        &self,
        op: &str,
        a: &A,
        dx: &mut X,
        f: impl Fn(T, T) -> T,
    ) {
        dx.acc_scalar(op, f(*self, sc(op, a)));
    }
    #[inline(always)]
    fn back3<A: Operand<T>, B: Operand<T>, X: AccBroadcast<T>>(
        &self,
        op: &str,
        a: &A,
        b: &B,
        dx: &mut X,
        f: impl Fn(T, T, T) -> T,
    ) {
        dx.acc_scalar(op, f(*self, sc(op, a), sc(op, b)));
    }
    #[inline(always)]
    fn back4<A: Operand<T>, B: Operand<T>, C: Operand<T>, X: AccBroadcast<T>>(
        &self,
        op: &str,
        a: &A,
        b: &B,
        c: &C,
        dx: &mut X,
        f: impl Fn(T, T, T, T) -> T,
    ) {
        dx.acc_scalar(op, f(*self, sc(op, a), sc(op, b), sc(op, c)));
    }
}

impl<T: Real, E: Dimension> DValue for Array<T, E> {
    type Elem = T;
    #[track_caller]
    fn back1<X: AccBroadcast<T>>(&self, op: &str, dx: &mut X, f: impl Fn(T) -> T) {
        dx.acc_elementwise(op, Contrib1 { d: self.view(), f });
    }
    #[track_caller]
    fn back2<A: Operand<T>, X: AccBroadcast<T>>(
        &self,
        op: &str,
        a: &A,
        dx: &mut X,
        f: impl Fn(T, T) -> T,
    ) {
        let d = self.view();
        match a.scalar() {
            Some(a) => dx.acc_elementwise(op, Contrib1 { d, f: |d| f(d, a) }),
            None => {
                let a = a.view_as(op, &self.raw_dim());
                dx.acc_elementwise(op, Contrib2 { d, a, f });
            }
        }
    }
    #[track_caller]
    fn back3<A: Operand<T>, B: Operand<T>, X: AccBroadcast<T>>(
        &self,
        op: &str,
        a: &A,
        b: &B,
        dx: &mut X,
        f: impl Fn(T, T, T) -> T,
    ) {
        let d = self.view();
        match (a.scalar(), b.scalar()) {
            (Some(a), Some(b)) => dx.acc_elementwise(
                op,
                Contrib1 {
                    d,
                    f: |d| f(d, a, b),
                },
            ),
            (None, Some(b)) => {
                let a = a.view_as(op, &self.raw_dim());
                dx.acc_elementwise(
                    op,
                    Contrib2 {
                        d,
                        a,
                        f: |d, a| f(d, a, b),
                    },
                );
            }
            (Some(a), None) => {
                let b = b.view_as(op, &self.raw_dim());
                dx.acc_elementwise(
                    op,
                    Contrib2 {
                        d,
                        a: b,
                        f: |d, b| f(d, a, b),
                    },
                );
            }
            (None, None) => {
                let dim = self.raw_dim();
                let (a, b) = (a.view_as(op, &dim), b.view_as(op, &dim));
                dx.acc_elementwise(op, Contrib3 { d, a, b, f });
            }
        }
    }
    #[track_caller]
    fn back4<A: Operand<T>, B: Operand<T>, C: Operand<T>, X: AccBroadcast<T>>(
        &self,
        op: &str,
        a: &A,
        b: &B,
        c: &C,
        dx: &mut X,
        f: impl Fn(T, T, T, T) -> T,
    ) {
        let d = self.view();
        match (a.scalar(), b.scalar(), c.scalar()) {
            (None, Some(b), Some(c)) => {
                let a = a.view_as(op, &self.raw_dim());
                dx.acc_elementwise(
                    op,
                    Contrib2 {
                        d,
                        a,
                        f: |d, a| f(d, a, b, c),
                    },
                );
            }
            (Some(a), Some(b), Some(c)) => dx.acc_elementwise(
                op,
                Contrib1 {
                    d,
                    f: |d| f(d, a, b, c),
                },
            ),
            _ => {
                let dim = self.raw_dim();
                let (a, b, c) = (
                    a.view_as(op, &dim),
                    b.view_as(op, &dim),
                    c.view_as(op, &dim),
                );
                dx.acc_elementwise(op, Contrib4 { d, a, b, c, f });
            }
        }
    }
}

/// The scalar type of the values an accumulator `DY` holds.
pub type ElemOf<DY> = <<DY as Adjoint>::Value as DValue>::Elem;

// ---------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------

/// `l + r` (scalars, arrays, broadcasting).
#[inline(always)]
#[track_caller]
pub fn add<T: Real, L: Binary<R, T>, R>(l: &L, r: &R) -> L::Output {
    l.binary(r, "add", |a, b| a + b)
}

/// `l - r` (scalars, arrays, broadcasting).
#[inline(always)]
#[track_caller]
pub fn sub<T: Real, L: Binary<R, T>, R>(l: &L, r: &R) -> L::Output {
    l.binary(r, "sub", |a, b| a - b)
}

/// `l * r` (elementwise for arrays, broadcasting).
#[inline(always)]
#[track_caller]
pub fn mul<T: Real, L: Binary<R, T>, R>(l: &L, r: &R) -> L::Output {
    l.binary(r, "mul", |a, b| a * b)
}

/// `l / r` (elementwise for arrays, broadcasting).
#[inline(always)]
#[track_caller]
pub fn div<T: Real, L: Binary<R, T>, R>(l: &L, r: &R) -> L::Output {
    l.binary(r, "div", |a, b| a / b)
}

/// `-x`.
#[inline(always)]
pub fn neg<T: Real, X: Unary<T>>(x: &X) -> X::Output {
    x.unary(|a| -a)
}

/// `x as Y` between `f32` and `f64` (call as `cast::<Y, _>(&x)`).
#[inline(always)]
pub fn cast<Y: Real, X: Real>(x: &X) -> Y {
    Y::from_f64(Real::to_f64(*x))
}

/// The backward functions of the arithmetic rules, each a table row: its doc, its name, the
/// operation's name (for shape errors), the kept operands, and the contribution added to the
/// operand's accumulator from the seed `d` and those operands. Every function skips all work
/// when the seed is known to be zero.
macro_rules! backward_rules {
    ($(
        $(#[$doc:meta])*
        $back:ident($op:literal; $($k:ident: $K:ident),*) => |$d:ident| $e:expr;
    )*) => {$(
        $(#[$doc])*
        #[inline(always)]
        #[track_caller]
        pub fn $back<DY, $($K,)* DX>(d: &DY, $($k: &$K,)* dx: &mut DX)
        where
            DY: Adjoint,
            DY::Value: DValue,
            $($K: Operand<ElemOf<DY>>,)*
            DX: AccBroadcast<ElemOf<DY>>,
        {
            if let Some(g) = d.get() {
                backward_rules!(@back g, $op, dx, ($($k),*), |$d| $e);
            }
        }
    )*};
    (@back $g:ident, $op:literal, $dx:ident, (), |$d:ident| $e:expr) => {
        $g.back1($op, $dx, |$d| $e)
    };
    (@back $g:ident, $op:literal, $dx:ident, ($a:ident), |$d:ident| $e:expr) => {
        $g.back2($op, $a, $dx, |$d, $a| $e)
    };
    (@back $g:ident, $op:literal, $dx:ident, ($a:ident, $b:ident), |$d:ident| $e:expr) => {
        $g.back3($op, $a, $b, $dx, |$d, $a, $b| $e)
    };
}

backward_rules! {
    /// Backward of [`add`] for the left operand: `dl += d`.
    add_back_lhs("add";) => |d| d;
    /// Backward of [`add`] for the right operand: `dr += d`.
    add_back_rhs("add";) => |d| d;
    /// Backward of [`sub`] for the left operand: `dl += d`.
    sub_back_lhs("sub";) => |d| d;
    /// Backward of [`sub`] for the right operand: `dr -= d`.
    sub_back_rhs("sub";) => |d| -d;
    /// Backward of [`mul`] for the left operand: `dl += d * r`.
    mul_back_lhs("mul"; r: R) => |d| d * r;
    /// Backward of [`mul`] for the right operand: `dr += d * l`.
    mul_back_rhs("mul"; l: L) => |d| d * l;
    /// Backward of [`div`] for the left operand: `dl += d / r`.
    div_back_lhs("div"; r: R) => |d| d / r;
    /// Backward of [`div`] for the right operand: `dr -= d * l / (r * r)`.
    div_back_rhs("div"; l: L, r: R) => |d| -(d * l) / (r * r);
    /// Backward of [`neg`]: `dx -= d`.
    neg_back("neg";) => |d| -d;
}

/// Backward of [`cast`]: `dx += d as X` (converted through `f64`).
#[inline(always)]
pub fn cast_back<DY, DX>(d: &DY, dx: &mut DX)
where
    DY: Adjoint,
    DY::Value: Real,
    DX: Adjoint,
    DX::Value: Real,
{
    if let Some(d) = d.get() {
        dx.add_value(<DX::Value as Real>::from_f64(Real::to_f64(*d)));
    }
}
