//! Rules for ndarray methods called on active arrays (`x.dot(&w)`, `x.sum_axis(Axis(0))`,
//! `x.slice(s![.., 1..])`, ...): `__private::array::NAME`.
//!
//! # Forward
//! `NAME(&receiver, passive args...)`. The receiver (and the other array operand of
//! [`dot`]) is an `ArrayBase<S, D>` or a reference to one, seen through [`ArrayArg`]. Results
//! are owned arrays in standard (row-major) layout, also where ndarray would return a view
//! (`t`, `row`, `column`, `index_axis`, `slice`, `insert_axis`). Methods that return an
//! `Option` or a `Result` in ndarray (`mean`, `mean_axis`, `into_shape_with_order`) return
//! the same here, and [`unwrap`]/[`expect`] are identity rules on it.
//!
//! # Backward
//! `NAME_back(d, <kept values>, <same passive args>, &mut da)` where `d` is the output's
//! accumulator (nothing is done when it is empty) and `da` the receiver's: a [`Slot`](super::Slot)
//! (lazy: a contribution that covers the whole array is moved in when it is empty) or an
//! owned `Array` (eager, added in place). `dot` accumulates with one GEMM call (β = 1 into
//! the accumulator, β = 0 into a fresh buffer when the slot is empty); partial
//! contributions (`index_axis`, `row`, `slice`, ...) add into a sub-view of the materialized
//! accumulator.

use ndarray::{
    Array, Array1, Array2, ArrayBase, ArrayView, ArrayView1, ArrayView2, Axis, Data, Dimension,
    IntoDimension, Ix1, Ix2, RemoveAxis, ShapeError, SliceArg,
};

use super::Adjoint;
use crate::Real;
use crate::linalg::gemm::gemm;

// ---- operands ----

/// An array operand of a rule: `ArrayBase<S, D>` or any reference to one.
pub trait ArrayArg {
    /// The element type.
    type Elem: Real;
    /// The dimension type.
    type Dim: Dimension;
    /// The operand as a view.
    fn view(&self) -> ArrayView<'_, Self::Elem, Self::Dim>;
}

impl<A: Real, S: Data<Elem = A>, D: Dimension> ArrayArg for ArrayBase<S, D> {
    type Elem = A;
    type Dim = D;
    #[inline]
    fn view(&self) -> ArrayView<'_, A, D> {
        ArrayBase::view(self)
    }
}

impl<T: ArrayArg + ?Sized> ArrayArg for &T {
    type Elem = T::Elem;
    type Dim = T::Dim;
    #[inline]
    fn view(&self) -> ArrayView<'_, T::Elem, T::Dim> {
        (**self).view()
    }
}

impl<T: ArrayArg + ?Sized> ArrayArg for &mut T {
    type Elem = T::Elem;
    type Dim = T::Dim;
    #[inline]
    fn view(&self) -> ArrayView<'_, T::Elem, T::Dim> {
        (**self).view()
    }
}

// ---- helpers ----

/// An owned copy of `v` in standard layout (one copy, whatever `v`'s strides).
#[inline]
fn standard<A: Clone, D: Dimension>(v: ArrayView<'_, A, D>) -> Array<A, D> {
    v.as_standard_layout().into_owned()
}

/// `da += v`: added in place when `da` holds a value, else a standard-layout copy of `v`
/// is moved in.
#[track_caller]
fn acc_view<A: Real, D: Dimension, DA: Adjoint<Value = Array<A, D>>>(
    op: &str,
    da: &mut DA,
    v: ArrayView<'_, A, D>,
) {
    if da.get().is_some() {
        add_into(op, da.materialize(), v);
    } else {
        da.add_value(standard(v));
    }
}

/// `dst += v` for two arrays of the same shape.
#[track_caller]
fn add_into<A: Real, D: Dimension>(op: &str, dst: &mut Array<A, D>, v: ArrayView<'_, A, D>) {
    assert!(
        dst.shape() == v.shape(),
        "`{op}` backward: adjoint of shape {:?} for an operand of shape {:?}",
        v.shape(),
        dst.shape()
    );
    dst.zip_mut_with(&v, |x, &y| *x += y);
}

/// Runs `f(beta, sink)` on `da`'s value with `beta = 1`, or on a fresh zero array of shape
/// `dim` with `beta = 0` (then moved into `da`) when `da` is still empty.
#[inline]
fn gemm_sink<A: Real, D: Dimension, DA: Adjoint<Value = Array<A, D>>>(
    da: &mut DA,
    dim: D,
    f: impl FnOnce(A, &mut Array<A, D>),
) {
    if da.get().is_some() {
        f(A::one(), da.materialize());
    } else {
        let mut out = Array::zeros(dim);
        f(A::zero(), &mut out);
        da.add_value(out);
    }
}

/// `v` with its dimension type changed to `D` (same number of axes, checked at run time).
#[track_caller]
fn as_dim<'a, A, E: Dimension, D: Dimension>(
    op: &str,
    v: ArrayView<'a, A, E>,
) -> ArrayView<'a, A, D> {
    let shape = v.shape().to_vec();
    v.into_dimensionality::<D>().unwrap_or_else(|_| {
        panic!("`{op}` backward: adjoint of shape {shape:?} has the wrong number of axes")
    })
}

// ---- dot ----

/// The dimension pairs `dot` multiplies: matrix-matrix, matrix-vector, vector-matrix and
/// vector-vector, as ndarray's `Dot`.
pub trait DotDim<R: Dimension>: Dimension {
    /// `Array2<A>`, `Array1<A>` or `A`.
    type Product<A: Real>;
    /// The product.
    fn dot<A: Real>(a: ArrayView<'_, A, Self>, b: ArrayView<'_, A, R>) -> Self::Product<A>;
    /// `da += g bᵀ` (with vectors as rows or columns).
    fn back_lhs<A: Real, DA: Adjoint<Value = Array<A, Self>>>(
        g: &Self::Product<A>,
        b: ArrayView<'_, A, R>,
        da: &mut DA,
    );
    /// `db += aᵀ g` (with vectors as rows or columns).
    fn back_rhs<A: Real, DB: Adjoint<Value = Array<A, R>>>(
        g: &Self::Product<A>,
        a: ArrayView<'_, A, Self>,
        db: &mut DB,
    );
}

#[track_caller]
fn dot_shapes(a: &[usize], b: &[usize], ok: bool) {
    assert!(
        ok,
        "`dot`: shapes {a:?} and {b:?} are not compatible for matrix multiplication"
    );
}

fn col<A>(v: ArrayView1<'_, A>) -> ArrayView2<'_, A> {
    v.insert_axis(Axis(1))
}

fn row_of<A>(v: ArrayView1<'_, A>) -> ArrayView2<'_, A> {
    v.insert_axis(Axis(0))
}

impl DotDim<Ix2> for Ix2 {
    type Product<A: Real> = Array2<A>;
    #[track_caller]
    fn dot<A: Real>(a: ArrayView2<'_, A>, b: ArrayView2<'_, A>) -> Array2<A> {
        dot_shapes(a.shape(), b.shape(), a.ncols() == b.nrows());
        let mut y = Array2::zeros((a.nrows(), b.ncols()));
        gemm(A::one(), a, b, A::zero(), y.view_mut());
        y
    }
    fn back_lhs<A: Real, DA: Adjoint<Value = Array2<A>>>(
        g: &Array2<A>,
        b: ArrayView2<'_, A>,
        da: &mut DA,
    ) {
        // d_a += d_y bᵀ
        gemm_sink(da, Ix2(g.nrows(), b.nrows()), |beta, s| {
            gemm(A::one(), g.view(), b.t(), beta, s.view_mut())
        });
    }
    fn back_rhs<A: Real, DB: Adjoint<Value = Array2<A>>>(
        g: &Array2<A>,
        a: ArrayView2<'_, A>,
        db: &mut DB,
    ) {
        // d_b += aᵀ d_y
        gemm_sink(db, Ix2(a.ncols(), g.ncols()), |beta, s| {
            gemm(A::one(), a.t(), g.view(), beta, s.view_mut())
        });
    }
}

impl DotDim<Ix1> for Ix2 {
    type Product<A: Real> = Array1<A>;
    #[track_caller]
    fn dot<A: Real>(a: ArrayView2<'_, A>, b: ArrayView1<'_, A>) -> Array1<A> {
        dot_shapes(a.shape(), b.shape(), a.ncols() == b.len());
        let mut y = Array1::zeros(a.nrows());
        gemm(
            A::one(),
            a,
            col(b),
            A::zero(),
            y.view_mut().insert_axis(Axis(1)),
        );
        y
    }
    fn back_lhs<A: Real, DA: Adjoint<Value = Array2<A>>>(
        g: &Array1<A>,
        b: ArrayView1<'_, A>,
        da: &mut DA,
    ) {
        // d_a += d_y ⊗ b
        gemm_sink(da, Ix2(g.len(), b.len()), |beta, s| {
            gemm(A::one(), col(g.view()), row_of(b), beta, s.view_mut())
        });
    }
    fn back_rhs<A: Real, DB: Adjoint<Value = Array1<A>>>(
        g: &Array1<A>,
        a: ArrayView2<'_, A>,
        db: &mut DB,
    ) {
        // d_b += aᵀ d_y
        gemm_sink(db, Ix1(a.ncols()), |beta, s| {
            gemm(
                A::one(),
                a.t(),
                col(g.view()),
                beta,
                s.view_mut().insert_axis(Axis(1)),
            )
        });
    }
}

impl DotDim<Ix2> for Ix1 {
    type Product<A: Real> = Array1<A>;
    #[track_caller]
    fn dot<A: Real>(a: ArrayView1<'_, A>, b: ArrayView2<'_, A>) -> Array1<A> {
        dot_shapes(a.shape(), b.shape(), a.len() == b.nrows());
        let mut y = Array1::zeros(b.ncols());
        gemm(
            A::one(),
            row_of(a),
            b,
            A::zero(),
            y.view_mut().insert_axis(Axis(0)),
        );
        y
    }
    fn back_lhs<A: Real, DA: Adjoint<Value = Array1<A>>>(
        g: &Array1<A>,
        b: ArrayView2<'_, A>,
        da: &mut DA,
    ) {
        // d_a += b d_y
        gemm_sink(da, Ix1(b.nrows()), |beta, s| {
            gemm(
                A::one(),
                b,
                col(g.view()),
                beta,
                s.view_mut().insert_axis(Axis(1)),
            )
        });
    }
    fn back_rhs<A: Real, DB: Adjoint<Value = Array2<A>>>(
        g: &Array1<A>,
        a: ArrayView1<'_, A>,
        db: &mut DB,
    ) {
        // d_b += a ⊗ d_y
        gemm_sink(db, Ix2(a.len(), g.len()), |beta, s| {
            gemm(A::one(), col(a), row_of(g.view()), beta, s.view_mut())
        });
    }
}

impl DotDim<Ix1> for Ix1 {
    type Product<A: Real> = A;
    #[track_caller]
    fn dot<A: Real>(a: ArrayView1<'_, A>, b: ArrayView1<'_, A>) -> A {
        dot_shapes(a.shape(), b.shape(), a.len() == b.len());
        a.dot(&b)
    }
    fn back_lhs<A: Real, DA: Adjoint<Value = Array1<A>>>(g: &A, b: ArrayView1<'_, A>, da: &mut DA) {
        // d_a += d_y b
        let g = *g;
        if da.get().is_some() {
            da.materialize().scaled_add(g, &b);
        } else {
            da.add_value(b.iter().map(|&v| g * v).collect());
        }
    }
    fn back_rhs<A: Real, DB: Adjoint<Value = Array1<A>>>(g: &A, a: ArrayView1<'_, A>, db: &mut DB) {
        <Ix1 as DotDim<Ix1>>::back_lhs(g, a, db);
    }
}

/// `a.dot(&b)`: matrix-matrix, matrix-vector, vector-matrix or vector-vector product.
///
/// # Panics
/// When the inner dimensions differ.
#[track_caller]
pub fn dot<L, R>(a: &L, b: &R) -> <L::Dim as DotDim<R::Dim>>::Product<L::Elem>
where
    L: ArrayArg,
    R: ArrayArg<Elem = L::Elem>,
    L::Dim: DotDim<R::Dim>,
{
    <L::Dim as DotDim<R::Dim>>::dot(a.view(), b.view())
}

/// `d_a += d_y bᵀ`, the adjoint of [`dot`] for its receiver (one GEMM).
pub fn dot_back_lhs<DY, R, DL, DA>(d: &DY, b: &R, da: &mut DA)
where
    R: ArrayArg,
    DL: DotDim<R::Dim>,
    DA: Adjoint<Value = Array<R::Elem, DL>>,
    DY: Adjoint<Value = DL::Product<R::Elem>>,
{
    if let Some(g) = d.get() {
        DL::back_lhs(g, b.view(), da);
    }
}

/// `d_b += aᵀ d_y`, the adjoint of [`dot`] for its argument (one GEMM).
pub fn dot_back_rhs<DY, L, DR, DB>(d: &DY, a: &L, db: &mut DB)
where
    L: ArrayArg,
    DR: Dimension,
    L::Dim: DotDim<DR>,
    DB: Adjoint<Value = Array<L::Elem, DR>>,
    DY: Adjoint<Value = <L::Dim as DotDim<DR>>::Product<L::Elem>>,
{
    if let Some(g) = d.get() {
        <L::Dim as DotDim<DR>>::back_rhs(g, a.view(), db);
    }
}

// ---- t ----

/// `a.t()`: the transpose (axes reversed), owned, in standard layout.
pub fn t<X: ArrayArg>(a: &X) -> Array<X::Elem, X::Dim> {
    standard(a.view().reversed_axes())
}

/// `d_a += d_yᵀ`.
#[track_caller]
pub fn t_back<A: Real, D: Dimension, DY, DA>(d: &DY, da: &mut DA)
where
    DY: Adjoint<Value = Array<A, D>>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(g) = d.get() {
        acc_view("t", da, g.t());
    }
}

// ---- sum, mean ----

/// `a.sum()`.
pub fn sum<X: ArrayArg>(a: &X) -> X::Elem {
    a.view().sum()
}

/// `d_a += d_y` (broadcast).
pub fn sum_back<A: Real, D: Dimension, DY, DA>(d: &DY, da: &mut DA)
where
    DY: Adjoint<Value = A>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(&g) = d.get() {
        da.materialize().mapv_inplace(|v| v + g);
    }
}

/// `a.mean()`: `None` for an empty array, as in ndarray.
pub fn mean<X: ArrayArg>(a: &X) -> Option<X::Elem> {
    let a = a.view();
    (!a.is_empty()).then(|| a.sum() / X::Elem::from_f64(a.len() as f64))
}

/// `d_a += d_y / n`.
pub fn mean_back<A: Real, D: Dimension, DY, DA>(d: &DY, da: &mut DA)
where
    DY: Adjoint<Value = A>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(&g) = d.get() {
        let dst = da.materialize();
        let g = g / A::from_f64(dst.len() as f64);
        dst.mapv_inplace(|v| v + g);
    }
}

// ---- sum_axis, mean_axis ----

/// `a.sum_axis(axis)`.
#[track_caller]
pub fn sum_axis<X: ArrayArg>(a: &X, axis: Axis) -> Array<X::Elem, <X::Dim as Dimension>::Smaller>
where
    X::Dim: RemoveAxis,
{
    a.view().sum_axis(axis)
}

/// `d_a += d_y` broadcast along `axis`, scaled by `scale`.
#[track_caller]
fn axis_back<A: Real, D: Dimension, DA: Adjoint<Value = Array<A, D>>>(
    op: &str,
    g: &Array<A, D::Smaller>,
    axis: Axis,
    da: &mut DA,
    mean: bool,
) {
    let dst = da.materialize();
    let scale = if mean {
        A::one() / A::from_f64(dst.len_of(axis) as f64)
    } else {
        A::one()
    };
    let g = g.view().insert_axis(axis);
    let Some(g) = g.broadcast(dst.raw_dim()) else {
        panic!(
            "`{op}` backward: adjoint of shape {:?} for an operand of shape {:?}",
            g.shape(),
            dst.shape()
        )
    };
    dst.zip_mut_with(&g, |x, &y| *x += scale * y);
}

/// `d_a += d_y` broadcast along `axis`.
#[track_caller]
pub fn sum_axis_back<A: Real, D: RemoveAxis, DY, DA>(d: &DY, axis: Axis, da: &mut DA)
where
    DY: Adjoint<Value = Array<A, D::Smaller>>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(g) = d.get() {
        axis_back("sum_axis", g, axis, da, false);
    }
}

/// `a.mean_axis(axis)`: `None` when the axis is empty, as in ndarray.
#[track_caller]
pub fn mean_axis<X: ArrayArg>(
    a: &X,
    axis: Axis,
) -> Option<Array<X::Elem, <X::Dim as Dimension>::Smaller>>
where
    X::Dim: RemoveAxis,
{
    let a = a.view();
    let n = a.len_of(axis);
    (n > 0).then(|| {
        let mut y = a.sum_axis(axis);
        let n = X::Elem::from_f64(n as f64);
        y.mapv_inplace(|v| v / n);
        y
    })
}

/// `d_a += d_y / n` broadcast along `axis` (`n` its length).
#[track_caller]
pub fn mean_axis_back<A: Real, D: RemoveAxis, DY, DA>(d: &DY, axis: Axis, da: &mut DA)
where
    DY: Adjoint<Value = Array<A, D::Smaller>>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(g) = d.get() {
        axis_back("mean_axis", g, axis, da, true);
    }
}

// ---- into_shape_with_order ----

/// `a.into_shape_with_order(shape)` (row-major order), an owned copy; `Err` when the
/// number of elements differs.
///
/// Unlike ndarray's method on an owned array, a receiver that is not in standard layout
/// is copied rather than refused.
pub fn into_shape_with_order<X: ArrayArg, E: IntoDimension>(
    a: &X,
    shape: E,
) -> Result<Array<X::Elem, E::Dim>, ShapeError> {
    let a = a.view();
    let y = a.to_shape(shape.into_dimension())?;
    Ok(if y.is_standard_layout() {
        y.into_owned()
    } else {
        standard(y.view())
    })
}

/// `d_a += d_y` reshaped (row-major) to `a`'s shape.
#[track_caller]
pub fn into_shape_with_order_back<A: Real, D: Dimension, E: Dimension, DY, DA>(d: &DY, da: &mut DA)
where
    DY: Adjoint<Value = Array<A, E>>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(g) = d.get() {
        let dst = da.materialize();
        let Ok(g) = g.to_shape(dst.raw_dim()) else {
            panic!(
                "`into_shape_with_order` backward: adjoint of shape {:?} for an operand of shape {:?}",
                g.shape(),
                dst.shape()
            )
        };
        add_into("into_shape_with_order", dst, g.view());
    }
}

// ---- insert_axis ----

/// `a.insert_axis(axis)`, owned.
#[track_caller]
pub fn insert_axis<X: ArrayArg>(
    a: &X,
    axis: Axis,
) -> Array<X::Elem, <X::Dim as Dimension>::Larger> {
    standard(a.view().insert_axis(axis))
}

/// `d_a += d_y` with `axis` removed.
#[track_caller]
pub fn insert_axis_back<A: Real, D: Dimension, DY, DA>(d: &DY, axis: Axis, da: &mut DA)
where
    DY: Adjoint<Value = Array<A, D::Larger>>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(g) = d.get() {
        let g = as_dim::<A, _, D>("insert_axis", g.view().index_axis_move(axis, 0));
        acc_view("insert_axis", da, g);
    }
}

// ---- index_axis, row, column ----

/// `a.index_axis(axis, i)`, owned.
#[track_caller]
pub fn index_axis<X: ArrayArg>(
    a: &X,
    axis: Axis,
    i: usize,
) -> Array<X::Elem, <X::Dim as Dimension>::Smaller>
where
    X::Dim: RemoveAxis,
{
    standard(a.view().index_axis_move(axis, i))
}

/// `d_a[.., i, ..] += d_y` (index `i` along `axis`).
#[track_caller]
pub fn index_axis_back<A: Real, D: RemoveAxis, DY, DA>(d: &DY, axis: Axis, i: usize, da: &mut DA)
where
    DY: Adjoint<Value = Array<A, D::Smaller>>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(g) = d.get() {
        let dst = da.materialize();
        let mut part = dst.index_axis_mut(axis, i);
        assert!(
            part.shape() == g.shape(),
            "`index_axis` backward: adjoint of shape {:?} for a subview of shape {:?}",
            g.shape(),
            part.shape()
        );
        part.zip_mut_with(g, |x, &y| *x += y);
    }
}

/// `a.row(i)`, owned.
#[track_caller]
pub fn row<X: ArrayArg<Dim = Ix2>>(a: &X, i: usize) -> Array1<X::Elem> {
    a.view().row(i).to_owned()
}

/// `d_a[i, ..] += d_y`.
#[track_caller]
pub fn row_back<A: Real, DY, DA>(d: &DY, i: usize, da: &mut DA)
where
    DY: Adjoint<Value = Array1<A>>,
    DA: Adjoint<Value = Array2<A>>,
{
    index_axis_back::<A, Ix2, DY, DA>(d, Axis(0), i, da);
}

/// `a.column(j)`, owned.
#[track_caller]
pub fn column<X: ArrayArg<Dim = Ix2>>(a: &X, j: usize) -> Array1<X::Elem> {
    a.view().column(j).to_owned()
}

/// `d_a[.., j] += d_y`.
#[track_caller]
pub fn column_back<A: Real, DY, DA>(d: &DY, j: usize, da: &mut DA)
where
    DY: Adjoint<Value = Array1<A>>,
    DA: Adjoint<Value = Array2<A>>,
{
    index_axis_back::<A, Ix2, DY, DA>(d, Axis(1), j, da);
}

// ---- slice ----

/// `a.slice(info)` (`info` from `s![...]`), owned.
#[track_caller]
pub fn slice<X: ArrayArg, I: SliceArg<X::Dim>>(a: &X, info: I) -> Array<X::Elem, I::OutDim> {
    standard(a.view().slice_move(info))
}

/// `d_a[info] += d_y`.
#[track_caller]
pub fn slice_back<A: Real, D: Dimension, I: SliceArg<D>, DY, DA>(d: &DY, info: I, da: &mut DA)
where
    DY: Adjoint<Value = Array<A, I::OutDim>>,
    DA: Adjoint<Value = Array<A, D>>,
{
    if let Some(g) = d.get() {
        let dst = da.materialize();
        let mut part = dst.slice_mut(info);
        assert!(
            part.shape() == g.shape(),
            "`slice` backward: adjoint of shape {:?} for a slice of shape {:?}",
            g.shape(),
            part.shape()
        );
        part.zip_mut_with(g, |x, &y| *x += y);
    }
}

// ---- to_owned, clone ----

/// A receiver of `to_owned` / `clone`: arrays (any storage, any reference), scalars, `Vec`s
/// and slices of scalars.
pub trait OwnedCopy {
    /// The owned copy's type: `Array<A, D>` for arrays, the scalar, `Vec<T>`.
    type Owned;
    /// The owned copy (arrays in standard layout).
    fn owned_copy(&self) -> Self::Owned;
}

impl<A: Real, S: Data<Elem = A>, D: Dimension> OwnedCopy for ArrayBase<S, D> {
    type Owned = Array<A, D>;
    fn owned_copy(&self) -> Array<A, D> {
        standard(self.view())
    }
}

impl<T: OwnedCopy + ?Sized> OwnedCopy for &T {
    type Owned = T::Owned;
    #[inline]
    fn owned_copy(&self) -> T::Owned {
        (**self).owned_copy()
    }
}

impl<T: OwnedCopy + ?Sized> OwnedCopy for &mut T {
    type Owned = T::Owned;
    #[inline]
    fn owned_copy(&self) -> T::Owned {
        (**self).owned_copy()
    }
}

impl<T: Real> OwnedCopy for Vec<T> {
    type Owned = Vec<T>;
    fn owned_copy(&self) -> Vec<T> {
        self.clone()
    }
}

impl<T: Real> OwnedCopy for [T] {
    type Owned = Vec<T>;
    fn owned_copy(&self) -> Vec<T> {
        self.to_vec()
    }
}

macro_rules! scalar_owned_copy {
    ($($t:ty)*) => {$(
        impl OwnedCopy for $t {
            type Owned = $t;
            #[inline(always)]
            fn owned_copy(&self) -> $t {
                *self
            }
        }
    )*};
}
scalar_owned_copy!(f32 f64);

/// `a.to_owned()`.
#[inline]
pub fn to_owned<X: OwnedCopy + ?Sized>(a: &X) -> X::Owned {
    a.owned_copy()
}

/// `d_a += d_y`.
#[inline]
#[track_caller]
pub fn to_owned_back<DY: Adjoint, DA: Adjoint<Value = DY::Value>>(d: &DY, da: &mut DA) {
    if let Some(g) = d.get() {
        da.add_value_ref(g);
    }
}

/// `a.clone()`: an owned copy, as [`to_owned`] (a view's clone is an owned array here).
#[inline]
pub fn clone<X: OwnedCopy + ?Sized>(a: &X) -> X::Owned {
    a.owned_copy()
}

/// `d_a += d_y`.
#[inline]
#[track_caller]
pub fn clone_back<DY: Adjoint, DA: Adjoint<Value = DY::Value>>(d: &DY, da: &mut DA) {
    to_owned_back(d, da);
}

// ---- unwrap, expect ----

/// A receiver of `unwrap` / `expect`: `Option<T>`, `Result<T, E>` or a reference to one.
pub trait Unwrap {
    /// The value inside.
    type Output;
    /// The value inside (cloned), panicking as `Option::unwrap`/`Result::unwrap` do.
    #[track_caller]
    fn unwrap_value(&self) -> Self::Output;
    /// The value inside (cloned), panicking with `msg` as `expect` does.
    #[track_caller]
    fn expect_value(&self, msg: &str) -> Self::Output;
}

impl<T: Clone> Unwrap for Option<T> {
    type Output = T;
    #[track_caller]
    fn unwrap_value(&self) -> T {
        self.as_ref().unwrap().clone()
    }
    #[track_caller]
    fn expect_value(&self, msg: &str) -> T {
        self.as_ref().expect(msg).clone()
    }
}

impl<T: Clone, E: std::fmt::Debug> Unwrap for Result<T, E> {
    type Output = T;
    #[track_caller]
    fn unwrap_value(&self) -> T {
        self.as_ref().unwrap().clone()
    }
    #[track_caller]
    fn expect_value(&self, msg: &str) -> T {
        self.as_ref().expect(msg).clone()
    }
}

impl<R: Unwrap + ?Sized> Unwrap for &R {
    type Output = R::Output;
    #[track_caller]
    fn unwrap_value(&self) -> R::Output {
        (**self).unwrap_value()
    }
    #[track_caller]
    fn expect_value(&self, msg: &str) -> R::Output {
        (**self).expect_value(msg)
    }
}

/// `r.unwrap()` on an `Option` or `Result`: the value (cloned out of `r`).
///
/// # Panics
/// On `None` or `Err`, with the standard library's message, at the caller.
#[track_caller]
pub fn unwrap<R: Unwrap + ?Sized>(r: &R) -> R::Output {
    r.unwrap_value()
}

/// `d_r += d_y`: the adjoint of an `Option`/`Result` is the adjoint of its value.
#[inline]
#[track_caller]
pub fn unwrap_back<DY: Adjoint, DA: Adjoint<Value = DY::Value>>(d: &DY, da: &mut DA) {
    to_owned_back(d, da);
}

/// `r.expect(msg)` on an `Option` or `Result`.
///
/// # Panics
/// On `None` or `Err`, with `msg`, at the caller.
#[track_caller]
pub fn expect<R: Unwrap + ?Sized>(r: &R, msg: &str) -> R::Output {
    r.expect_value(msg)
}

/// `d_r += d_y`.
#[inline]
#[track_caller]
pub fn expect_back<DY: Adjoint, DA: Adjoint<Value = DY::Value>>(d: &DY, da: &mut DA) {
    to_owned_back(d, da);
}
