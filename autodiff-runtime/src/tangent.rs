//! `Differentiable` values and their tangents.
//!
//! Every value that a gradient can flow through has a tangent type ([`Differentiable::Tangent`])
//! of the same shape: a scalar's tangent is the scalar, an array's is an owned array of the
//! same shape, a struct's is a generated `NameTangent` struct. Tangents expose their storage
//! as flat buffers ([`Leaf`]), which is all that optimizers, gradient checking and the
//! arithmetic of [`Tangent`] need.

use std::fmt::Debug;

use ndarray::{Array, ArrayBase, Data, DataMut, Dimension, RawData};

use crate::Real;

/// A read-only view of one flat parameter buffer.
#[derive(Debug)]
pub enum Leaf<'a> {
    /// An `f32` buffer.
    F32(&'a [f32]),
    /// An `f64` buffer.
    F64(&'a [f64]),
}

/// A mutable view of one flat parameter buffer.
#[derive(Debug)]
pub enum LeafMut<'a> {
    /// An `f32` buffer.
    F32(&'a mut [f32]),
    /// An `f64` buffer.
    F64(&'a mut [f64]),
}

impl Leaf<'_> {
    /// Number of scalars in the buffer.
    pub fn len(&self) -> usize {
        match self {
            Leaf::F32(s) => s.len(),
            Leaf::F64(s) => s.len(),
        }
    }
    /// Whether the buffer holds no scalar.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Element `i`, widened to `f64`.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Leaf::F32(s) => s[i] as f64,
            Leaf::F64(s) => s[i],
        }
    }
}

impl LeafMut<'_> {
    /// Number of scalars in the buffer.
    pub fn len(&self) -> usize {
        match self {
            LeafMut::F32(s) => s.len(),
            LeafMut::F64(s) => s.len(),
        }
    }
    /// Whether the buffer holds no scalar.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Element `i`, widened to `f64`.
    pub fn get(&self, i: usize) -> f64 {
        match self {
            LeafMut::F32(s) => s[i] as f64,
            LeafMut::F64(s) => s[i],
        }
    }
    /// Sets element `i` from an `f64` (rounded for `f32`).
    pub fn set(&mut self, i: usize, v: f64) {
        match self {
            LeafMut::F32(s) => s[i] = v as f32,
            LeafMut::F64(s) => s[i] = v,
        }
    }
}

/// The tangent (gradient) of a [`Differentiable`] value.
///
/// Tangents add, scale and take dot products, which is what optimizers, gradient
/// accumulation and clipping need. Implementations only provide access to their flat
/// buffers; the arithmetic is derived from that.
///
/// ```
/// use autodiff_runtime::Tangent;
///
/// let mut g = vec![1.0_f64, 2.0];
/// g.add_assign_tangent(&vec![0.5, 0.5]);
/// g.scale(2.0);
/// assert_eq!(g, vec![3.0, 5.0]);
/// assert_eq!(g.dot(&g), 34.0);
/// ```
pub trait Tangent: Clone + Debug + 'static {
    /// The flat buffers of this tangent, in a fixed order.
    fn leaves(&self) -> Vec<Leaf<'_>>;
    /// The flat buffers of this tangent, mutably, in the order of [`Tangent::leaves`].
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>>;

    /// `self += other`.
    fn add_assign_tangent(&mut self, other: &Self) {
        zip_leaves(self.leaves_mut(), other.leaves(), |a, b| a + b);
    }
    /// `self *= factor`.
    fn scale(&mut self, factor: f64) {
        for leaf in self.leaves_mut() {
            match leaf {
                LeafMut::F32(s) => s.iter_mut().for_each(|v| *v *= factor as f32),
                LeafMut::F64(s) => s.iter_mut().for_each(|v| *v *= factor),
            }
        }
    }
    /// The inner product `<self, other>`, accumulated in `f64`.
    fn dot(&self, other: &Self) -> f64 {
        let mut total = 0.0;
        for (a, b) in self.leaves().iter().zip(other.leaves().iter()) {
            total += match (a, b) {
                (Leaf::F32(a), Leaf::F32(b)) => a
                    .iter()
                    .zip(b.iter())
                    .map(|(x, y)| *x as f64 * *y as f64)
                    .sum::<f64>(),
                (Leaf::F64(a), Leaf::F64(b)) => a.iter().zip(b.iter()).map(|(x, y)| x * y).sum(),
                _ => (0..a.len()).map(|i| a.get(i) * b.get(i)).sum(),
            };
        }
        total
    }
    /// The Euclidean norm `sqrt(<self, self>)`.
    fn norm(&self) -> f64 {
        self.dot(self).sqrt()
    }
    /// A tangent of the same shape, filled with zeros.
    fn zero_like(&self) -> Self {
        let mut z = self.clone();
        for leaf in z.leaves_mut() {
            match leaf {
                LeafMut::F32(s) => s.fill(0.0),
                LeafMut::F64(s) => s.fill(0.0),
            }
        }
        z
    }
    /// Total number of scalars.
    fn num_elements(&self) -> usize {
        self.leaves().iter().map(Leaf::len).sum()
    }

    #[doc(hidden)]
    /// A contiguous slice of tangents as one leaf, when they are plain scalars.
    fn slice_leaf(_values: &[Self]) -> Option<Leaf<'_>>
    where
        Self: Sized,
    {
        None
    }
    #[doc(hidden)]
    /// A contiguous slice of tangents as one mutable leaf, when they are plain scalars.
    fn slice_leaf_mut(_values: &mut [Self]) -> Option<LeafMut<'_>>
    where
        Self: Sized,
    {
        None
    }
}

fn slice_leaves<T: Tangent>(values: &[T]) -> Vec<Leaf<'_>> {
    match T::slice_leaf(values) {
        Some(leaf) => vec![leaf],
        None => values.iter().flat_map(Tangent::leaves).collect(),
    }
}

fn slice_leaves_mut<T: Tangent>(values: &mut [T]) -> Vec<LeafMut<'_>> {
    if T::slice_leaf(values).is_some() {
        return T::slice_leaf_mut(values).into_iter().collect();
    }
    values.iter_mut().flat_map(Tangent::leaves_mut).collect()
}

/// Applies `f(a, b)` elementwise, writing into `a`. Both sides must have the same layout.
#[track_caller]
pub(crate) fn zip_leaves(dst: Vec<LeafMut<'_>>, src: Vec<Leaf<'_>>, f: impl Fn(f64, f64) -> f64) {
    assert_eq!(
        dst.len(),
        src.len(),
        "tangents have different numbers of buffers"
    );
    for (a, b) in dst.into_iter().zip(src) {
        assert_eq!(a.len(), b.len(), "tangent buffers have different lengths");
        match (a, b) {
            (LeafMut::F32(a), Leaf::F32(b)) => a
                .iter_mut()
                .zip(b)
                .for_each(|(x, y)| *x = f(*x as f64, *y as f64) as f32),
            (LeafMut::F64(a), Leaf::F64(b)) => {
                a.iter_mut().zip(b).for_each(|(x, y)| *x = f(*x, *y))
            }
            (mut a, b) => (0..b.len()).for_each(|i| a.set(i, f(a.get(i), b.get(i)))),
        }
    }
}

/// A value that gradients flow through.
///
/// Implemented for `f32`, `f64`, ndarray arrays (owned, borrowed and views), `Vec`s,
/// slices, fixed-size arrays and tuples of these, and for structs with
/// `#[derive(Differentiable)]`.
///
/// | primal | tangent |
/// |---|---|
/// | `f32`, `f64`, `T: Real` | the same type |
/// | `Array<A, D>`, `&Array<A, D>`, `ArrayView<A, D>` | `Array<A, D>` |
/// | `Vec<A>`, `&[A]` | `Vec<A>` |
/// | `[A; N]` | `[A; N]` |
/// | tuples | tuples of tangents |
///
/// ```
/// use autodiff_runtime::Differentiable;
/// use ndarray::array;
///
/// let w = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// assert_eq!(w.zero_tangent(), array![[0.0, 0.0], [0.0, 0.0]]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not differentiable",
    label = "`{Self}` has no tangent",
    note = "differentiable types are `f32`, `f64`, ndarray arrays, `Vec`s, slices, arrays and tuples of \
            these, and structs with `#[derive(Differentiable)]`",
    note = "in a struct with `#[derive(Differentiable)]`, mark a constant field `#[no_grad]`"
)]
pub trait Differentiable {
    /// The type of this value's gradients.
    type Tangent: Tangent;
    /// A zero tangent of this value's shape.
    fn zero_tangent(&self) -> Self::Tangent;
    /// The value's own parameter buffers, in the order of its tangent's [`Tangent::leaves`].
    fn leaves(&self) -> Vec<Leaf<'_>>;
    /// The parameter buffers, mutably: how optimizers and gradient checking update a value.
    ///
    /// # Panics
    /// For borrowed values (`&T`, views), which cannot be updated in place.
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>>;

    /// `self += factor * t`, one step along a tangent.
    fn add_scaled(&mut self, t: &Self::Tangent, factor: f64) {
        zip_leaves(self.leaves_mut(), t.leaves(), |p, g| p + factor * g);
    }

    #[doc(hidden)]
    /// A contiguous slice of values as one leaf, when the values are plain scalars.
    fn slice_leaf(_values: &[Self]) -> Option<Leaf<'_>>
    where
        Self: Sized,
    {
        None
    }
    #[doc(hidden)]
    /// A contiguous slice of values as one mutable leaf, when the values are plain scalars.
    fn slice_leaf_mut(_values: &mut [Self]) -> Option<LeafMut<'_>>
    where
        Self: Sized,
    {
        None
    }
}

// ---- scalars ----

macro_rules! scalar_tangent {
    ($t:ty) => {
        impl Tangent for $t {
            fn leaves(&self) -> Vec<Leaf<'_>> {
                vec![<$t as Real>::leaf(std::slice::from_ref(self))]
            }
            fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
                vec![<$t as Real>::leaf_mut(std::slice::from_mut(self))]
            }
            fn slice_leaf(values: &[Self]) -> Option<Leaf<'_>> {
                Some(<$t as Real>::leaf(values))
            }
            fn slice_leaf_mut(values: &mut [Self]) -> Option<LeafMut<'_>> {
                Some(<$t as Real>::leaf_mut(values))
            }
        }
        impl Differentiable for $t {
            type Tangent = $t;
            #[inline]
            fn zero_tangent(&self) -> $t {
                0.0
            }
            fn leaves(&self) -> Vec<Leaf<'_>> {
                Tangent::leaves(self)
            }
            fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
                Tangent::leaves_mut(self)
            }
            fn slice_leaf(values: &[Self]) -> Option<Leaf<'_>> {
                Some(<$t as Real>::leaf(values))
            }
            fn slice_leaf_mut(values: &mut [Self]) -> Option<LeafMut<'_>> {
                Some(<$t as Real>::leaf_mut(values))
            }
        }
    };
}
scalar_tangent!(f32);
scalar_tangent!(f64);

// ---- ndarray ----

#[track_caller]
fn standard_slice<S: Data, D: Dimension>(a: &ArrayBase<S, D>) -> &[S::Elem] {
    a.as_slice().unwrap_or_else(|| {
        panic!(
            "array of shape {:?} is not in standard (row-major, contiguous) layout; \
             use `.as_standard_layout().to_owned()` before using it as a parameter",
            a.shape()
        )
    })
}

#[track_caller]
fn standard_slice_mut<S: DataMut, D: Dimension>(a: &mut ArrayBase<S, D>) -> &mut [S::Elem] {
    let shape = a.shape().to_vec();
    a.as_slice_mut().unwrap_or_else(|| {
        panic!(
            "array of shape {shape:?} is not in standard (row-major, contiguous) layout; \
             use `.as_standard_layout().to_owned()` before using it as a parameter"
        )
    })
}

impl<A: Real, D: Dimension + 'static> Tangent for Array<A, D> {
    fn leaves(&self) -> Vec<Leaf<'_>> {
        vec![A::leaf(standard_slice(self))]
    }
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        vec![A::leaf_mut(standard_slice_mut(self))]
    }
    fn zero_like(&self) -> Self {
        Array::zeros(self.raw_dim())
    }
}

/// The ndarray storage kinds a parameter can live in, and whether it can be updated in place.
#[doc(hidden)]
pub trait ArrayStorage: Data {
    /// The array's buffer as one mutable leaf.
    fn leaf_mut<D: Dimension>(a: &mut ArrayBase<Self, D>) -> LeafMut<'_>
    where
        Self: Sized;
}

impl<A: Real> ArrayStorage for ndarray::OwnedRepr<A> {
    #[track_caller]
    fn leaf_mut<D: Dimension>(a: &mut ArrayBase<Self, D>) -> LeafMut<'_> {
        A::leaf_mut(standard_slice_mut(a))
    }
}

impl<A: Real> ArrayStorage for ndarray::OwnedArcRepr<A> {
    #[track_caller]
    fn leaf_mut<D: Dimension>(a: &mut ArrayBase<Self, D>) -> LeafMut<'_> {
        A::leaf_mut(standard_slice_mut(a))
    }
}

impl<A: Real> ArrayStorage for ndarray::ViewRepr<&A> {
    #[track_caller]
    fn leaf_mut<D: Dimension>(_a: &mut ArrayBase<Self, D>) -> LeafMut<'_> {
        panic!("cannot update an array view in place; use an owned `Array`")
    }
}

impl<A: Real> ArrayStorage for ndarray::CowRepr<'_, A> {
    #[track_caller]
    fn leaf_mut<D: Dimension>(a: &mut ArrayBase<Self, D>) -> LeafMut<'_> {
        A::leaf_mut(standard_slice_mut(a))
    }
}

impl<A: Real, S: RawData<Elem = A> + ArrayStorage, D: Dimension + 'static> Differentiable
    for ArrayBase<S, D>
{
    type Tangent = Array<A, D>;
    fn zero_tangent(&self) -> Array<A, D> {
        Array::zeros(self.raw_dim())
    }
    fn leaves(&self) -> Vec<Leaf<'_>> {
        vec![A::leaf(standard_slice(self))]
    }
    #[track_caller]
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        vec![S::leaf_mut(self)]
    }
}

// ---- Vec, slices, fixed arrays ----

impl<T: Tangent> Tangent for Vec<T> {
    fn leaves(&self) -> Vec<Leaf<'_>> {
        slice_leaves(self)
    }
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        slice_leaves_mut(self)
    }
}

impl<T: Differentiable> Differentiable for Vec<T> {
    type Tangent = Vec<T::Tangent>;
    fn zero_tangent(&self) -> Self::Tangent {
        self.iter().map(T::zero_tangent).collect()
    }
    fn leaves(&self) -> Vec<Leaf<'_>> {
        self.as_slice().leaves()
    }
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        self.as_mut_slice().leaves_mut()
    }
}

impl<T: Differentiable> Differentiable for [T] {
    type Tangent = Vec<T::Tangent>;
    fn zero_tangent(&self) -> Self::Tangent {
        self.iter().map(T::zero_tangent).collect()
    }
    fn leaves(&self) -> Vec<Leaf<'_>> {
        match T::slice_leaf(self) {
            Some(leaf) => vec![leaf],
            None => self.iter().flat_map(T::leaves).collect(),
        }
    }
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        if T::slice_leaf(self).is_some() {
            // Checked above that the elements are plain scalars.
            return T::slice_leaf_mut(self).into_iter().collect();
        }
        self.iter_mut().flat_map(T::leaves_mut).collect()
    }
}

impl<T: Tangent, const N: usize> Tangent for [T; N] {
    fn leaves(&self) -> Vec<Leaf<'_>> {
        slice_leaves(self)
    }
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        slice_leaves_mut(self)
    }
}

impl<T: Differentiable, const N: usize> Differentiable for [T; N] {
    type Tangent = [T::Tangent; N];
    fn zero_tangent(&self) -> Self::Tangent {
        std::array::from_fn(|i| self[i].zero_tangent())
    }
    fn leaves(&self) -> Vec<Leaf<'_>> {
        self.as_slice().leaves()
    }
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        self.as_mut_slice().leaves_mut()
    }
}

// ---- references ----

impl<T: Differentiable + ?Sized> Differentiable for &T {
    type Tangent = T::Tangent;
    fn zero_tangent(&self) -> Self::Tangent {
        (**self).zero_tangent()
    }
    fn leaves(&self) -> Vec<Leaf<'_>> {
        (**self).leaves()
    }
    #[track_caller]
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        panic!("cannot update a value through a shared reference; pass an owned value")
    }
}

impl<T: Differentiable + ?Sized> Differentiable for &mut T {
    type Tangent = T::Tangent;
    fn zero_tangent(&self) -> Self::Tangent {
        (**self).zero_tangent()
    }
    fn leaves(&self) -> Vec<Leaf<'_>> {
        (**self).leaves()
    }
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        (**self).leaves_mut()
    }
}

// ---- tuples ----

impl Tangent for () {
    fn leaves(&self) -> Vec<Leaf<'_>> {
        Vec::new()
    }
    fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
        Vec::new()
    }
}

macro_rules! tuple_impls {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Tangent),+> Tangent for ($($name,)+) {
            fn leaves(&self) -> Vec<Leaf<'_>> {
                let mut out = Vec::new();
                $(out.extend(self.$idx.leaves());)+
                out
            }
            fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
                let mut out = Vec::new();
                $(out.extend(self.$idx.leaves_mut());)+
                out
            }
        }
        impl<$($name: Differentiable),+> Differentiable for ($($name,)+) {
            type Tangent = ($($name::Tangent,)+);
            fn zero_tangent(&self) -> Self::Tangent {
                ($(self.$idx.zero_tangent(),)+)
            }
            fn leaves(&self) -> Vec<Leaf<'_>> {
                let mut out = Vec::new();
                $(out.extend(self.$idx.leaves());)+
                out
            }
            fn leaves_mut(&mut self) -> Vec<LeafMut<'_>> {
                let mut out = Vec::new();
                $(out.extend(self.$idx.leaves_mut());)+
                out
            }
        }
    };
}
tuple_impls!(A 0);
tuple_impls!(A 0, B 1);
tuple_impls!(A 0, B 1, C 2);
tuple_impls!(A 0, B 1, C 2, D 3);
tuple_impls!(A 0, B 1, C 2, D 3, E 4);
tuple_impls!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_impls!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_impls!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn tangent_arithmetic_spans_every_leaf() {
        let mut t = (
            1.5_f64,
            vec![1.0_f32, -2.0],
            array![[0.5_f64, 1.0], [2.0, 3.0]],
        );
        let u = t.clone();
        t.add_assign_tangent(&u);
        assert_eq!(t.0, 3.0);
        assert_eq!(t.1, vec![2.0, -4.0]);
        t.scale(0.5);
        assert_eq!(t.2, array![[0.5, 1.0], [2.0, 3.0]]);
        assert_eq!(u.dot(&u), 1.5 * 1.5 + 1.0 + 4.0 + 0.25 + 1.0 + 4.0 + 9.0);
        assert_eq!(u.num_elements(), 7);
        assert_eq!(u.zero_like().norm(), 0.0);
    }

    #[test]
    fn slices_of_scalars_are_one_leaf() {
        let mut v = vec![1.0_f64; 1000];
        assert_eq!(Differentiable::leaves(&v).len(), 1);
        v.add_scaled(&vec![2.0; 1000], 0.5);
        assert!(v.iter().all(|&x| x == 2.0));
    }
}
