//! Adjoint accumulators: where the reverse sweep of generated code sums contributions.
//!
//! Every primal type `V` that generated code handles implements [`Primal`], which names
//! - `V::Adj`, the accumulator the reverse sweep adds into (an [`Adjoint`]);
//! - `V::MetaData`, what the forward sweep records about a value (its shape) so that the
//!   reverse sweep can make a zero accumulator without keeping the value alive.
//!
//! Scalars accumulate in place, starting from `-0.0` (an exact identity of IEEE addition,
//! so the first `+=` compiles to a move). Arrays accumulate lazily in a [`Slot`]: the first
//! contribution is moved in, later ones are added in place, and an adjoint that never
//! received anything costs nothing and is skipped by every rule.

use std::marker::PhantomData;

use ndarray::{Array, ArrayBase, Data, Dimension, IntoDimension};

use crate::{Real, Tangent};

/// A value that can appear in differentiable code (inputs, locals, outputs).
pub trait Primal {
    /// The public tangent type (`Differentiable::Tangent` for differentiable types).
    type Tangent;
    /// The reverse-sweep accumulator for this type's adjoint.
    type Adj: Adjoint<Value = Self::Tangent>;
    /// What the forward sweep keeps to make a zero accumulator later: a shape, a length.
    type MetaData: Clone;
    /// Records this value's metadata.
    fn meta_data(&self) -> Self::MetaData;
    /// A zero accumulator for a value with this metadata.
    fn zero_adj(meta: &Self::MetaData) -> Self::Adj;
    /// Converts a finished accumulator into the public tangent (zeros where nothing flowed).
    fn finish(adj: Self::Adj, meta: &Self::MetaData) -> Self::Tangent;
    /// The zero tangents of a `Vec` or slice of such values (the buffer `d_x[i] += d`
    /// indexes).
    fn zero_tangents(meta: &[Self::MetaData]) -> Vec<Self::Tangent>
    where
        Self: Sized,
    {
        meta.iter()
            .map(|m| Self::finish(Self::zero_adj(m), m))
            .collect()
    }
}

/// An accumulator of adjoint contributions.
pub trait Adjoint {
    /// The materialized tangent this accumulator holds.
    type Value;
    /// The accumulated value, or `None` when it is known to be zero.
    fn get(&self) -> Option<&Self::Value>;
    /// The accumulated value mutably, materializing zeros when it was still empty.
    fn materialize(&mut self) -> &mut Self::Value;
    /// `self += c`, moving `c` in when `self` is still zero.
    fn add_value(&mut self, c: Self::Value);
    /// `self += *c`.
    fn add_value_ref(&mut self, c: &Self::Value);
    /// Moves the accumulated value out (`None` when zero), leaving zero behind.
    fn take_value(&mut self) -> Option<Self::Value>;
    /// Moves the whole accumulator out, leaving a zero one of the same shape behind.
    fn take(&mut self) -> Self
    where
        Self: Sized;
    /// The accumulated value, with zeros materialized where nothing flowed.
    fn into_value(self) -> Self::Value
    where
        Self: Sized;
}

/// The metadata of one value, typed by the value it describes.
pub struct Meta<V: Primal + ?Sized>(pub V::MetaData, PhantomData<fn() -> V::Tangent>);

impl<V: Primal + ?Sized> Clone for Meta<V> {
    fn clone(&self) -> Self {
        Meta(self.0.clone(), PhantomData)
    }
}

/// Records what the reverse sweep needs to know about `v` (its type and shape).
#[inline(always)]
pub fn meta<V: Primal + ?Sized>(v: &V) -> Meta<V> {
    Meta(v.meta_data(), PhantomData)
}

/// A zero accumulator for the value `meta` describes.
#[inline(always)]
pub fn zero_adj<V: Primal + ?Sized>(meta: &Meta<V>) -> V::Adj {
    V::zero_adj(&meta.0)
}

/// The public tangent of a finished accumulator.
#[inline(always)]
pub fn finish<V: Primal + ?Sized>(adj: V::Adj, meta: &Meta<V>) -> V::Tangent {
    V::finish(adj, &meta.0)
}

/// Turns the seed passed to a pullback (a public tangent) into an accumulator.
#[inline(always)]
pub fn seed<V: Primal + ?Sized>(meta: &Meta<V>, t: V::Tangent) -> V::Adj {
    let mut adj = V::zero_adj(&meta.0);
    adj.add_value(t);
    adj
}

/// An accumulator holding one: the adjoint of the output of `NAME_grad`, or of a value
/// that reaches it through sums only.
#[inline(always)]
pub fn seed_one<V: Primal + ?Sized>(meta: &Meta<V>) -> V::Adj
where
    V::Tangent: Real,
{
    seed(meta, num_traits::One::one())
}

/// `dst += src` for two accumulators of the same tangent (e.g. a `Slot` into a struct field).
#[inline(always)]
pub fn acc<D: Adjoint, S: Adjoint<Value = D::Value>>(dst: &mut D, mut src: S) {
    if let Some(v) = src.take_value() {
        dst.add_value(v);
    }
}

/// `dst += *src` for two accumulators of the same tangent, leaving `src` as it is.
#[inline(always)]
pub fn acc_ref<D: Adjoint, S: Adjoint<Value = D::Value>>(dst: &mut D, src: &S) {
    if let Some(v) = src.get() {
        dst.add_value_ref(v);
    }
}

/// Moves the accumulated adjoint out of `adj`, leaving zero: the reverse of an assignment,
/// after which the overwritten value's adjoint starts again from zero.
#[inline(always)]
pub fn take<A: Adjoint>(adj: &mut A) -> A {
    adj.take()
}

/// Elementwise access to an adjoint buffer for indexed reads and writes (`d_x[i] += d`).
#[inline(always)]
pub fn buffer<A: Adjoint>(adj: &mut A) -> &mut A::Value {
    adj.materialize()
}

/// The first `n` elements of an array, kept on a tape and put back (the work arrays of a
/// loop body that the reverse sweep reads as they were at the end of an iteration).
pub trait Snapshot {
    /// The element type.
    type Elem: Clone;
    /// Kept elements read where they lie on the tape, indexed as the array is.
    type View<'a>
    where
        Self::Elem: 'a;
    /// Pushes the first `n` elements onto `tape`.
    fn save(&self, n: usize, tape: &mut Vec<Self::Elem>);
    /// Pops the last `n` elements of `tape` back into the first `n` elements.
    fn load(&mut self, n: usize, tape: &mut Vec<Self::Elem>);
    /// `kept` as a view.
    fn view(kept: &[Self::Elem]) -> Self::View<'_>;
}

impl<T: Clone> Snapshot for [T] {
    type Elem = T;
    type View<'a>
        = &'a [T]
    where
        T: 'a;
    #[inline(always)]
    fn view(kept: &[T]) -> &[T] {
        kept
    }
    #[inline]
    fn save(&self, n: usize, tape: &mut Vec<T>) {
        tape.extend_from_slice(&self[..n]);
    }
    #[inline]
    fn load(&mut self, n: usize, tape: &mut Vec<T>) {
        let at = tape.len() - n;
        self[..n].clone_from_slice(&tape[at..]);
        tape.truncate(at);
    }
}

/// `Vec`s and fixed arrays keep, put back and view their elements as slices do.
macro_rules! snapshot_as_slice {
    ($({$($generics:tt)*} $array:ty),*) => {$(
        impl<$($generics)*> Snapshot for $array {
            type Elem = T;
            type View<'a>
                = &'a [T]
            where
                T: 'a;
            #[inline(always)]
            fn view(kept: &[T]) -> &[T] {
                kept
            }
            #[inline]
            fn save(&self, n: usize, tape: &mut Vec<T>) {
                self.as_slice().save(n, tape)
            }
            #[inline]
            fn load(&mut self, n: usize, tape: &mut Vec<T>) {
                self.as_mut_slice().load(n, tape)
            }
        }
    )*};
}

snapshot_as_slice!({T: Clone} Vec<T>, {T: Clone, const N: usize} [T; N]);

impl<A: Clone, S: ndarray::DataMut<Elem = A>> Snapshot for ArrayBase<S, ndarray::Ix1> {
    type Elem = A;
    type View<'a>
        = ndarray::ArrayView1<'a, A>
    where
        A: 'a;
    fn view(kept: &[A]) -> ndarray::ArrayView1<'_, A> {
        ndarray::ArrayView1::from(kept)
    }
    fn save(&self, n: usize, tape: &mut Vec<A>) {
        tape.extend(self.iter().take(n).cloned());
    }
    fn load(&mut self, n: usize, tape: &mut Vec<A>) {
        let at = tape.len() - n;
        for (dst, src) in self.iter_mut().zip(tape.drain(at..)) {
            *dst = src;
        }
    }
}

/// Keeps the first `n` elements of `w` on `tape`.
#[inline(always)]
pub fn snapshot<W: Snapshot + ?Sized>(tape: &mut Vec<W::Elem>, w: &W, n: usize) {
    w.save(n, tape);
}

/// Puts back into `w` the `n` elements [`snapshot`] kept last.
#[inline(always)]
pub fn restore<W: Snapshot + ?Sized>(tape: &mut Vec<W::Elem>, w: &mut W, n: usize) {
    w.load(n, tape);
}

/// The `n` elements [`snapshot`] kept last from `like`, read where they lie: a reverse sweep
/// that only reads the array shadows it with this view instead of copying the elements
/// back with [`restore`], and then calls [`release`].
#[inline(always)]
pub fn kept<'a, W: Snapshot + ?Sized>(tape: &'a [W::Elem], _like: &W, n: usize) -> W::View<'a> {
    W::view(&tape[tape.len() - n..])
}

/// Drops the `n` elements [`kept`] read.
#[inline(always)]
pub fn release<T>(tape: &mut Vec<T>, n: usize) {
    tape.truncate(tape.len() - n);
}

/// `acc += v` for a loop-local sum of the adjoint contributions one element receives in
/// every iteration of a loop (`d_x[a] += d` with `a` fixed in the loop): the reverse sweep
/// sums in a register and adds the sum to the element once, after the loop (`None` when the
/// loop ran no iteration, so the index is never evaluated).
#[inline(always)]
pub fn loop_sum<T: core::ops::AddAssign>(acc: &mut Option<T>, v: T) {
    match acc {
        Some(a) => *a += v,
        None => *acc = Some(v),
    }
}

/// The seed for a pullback: the accumulated value, or `None` when the adjoint is zero (the
/// pullback is then skipped).
#[inline(always)]
pub fn into_seed<A: Adjoint>(mut adj: A) -> Option<A::Value> {
    adj.take_value()
}

// ---- scalars ----

macro_rules! scalar_adjoint {
    ($t:ty) => {
        impl Primal for $t {
            type Tangent = $t;
            type Adj = $t;
            type MetaData = ();
            /// `+0.0` everywhere: the allocator hands out zeroed memory (fresh pages for a
            /// large buffer) instead of a filled one, and an element nothing flowed into
            /// reads `0`, not `-0`.
            #[inline]
            fn zero_tangents(meta: &[()]) -> Vec<$t> {
                vec![0.0; meta.len()]
            }
            #[inline(always)]
            fn meta_data(&self) {}
            #[inline(always)]
            fn zero_adj(_: &()) -> $t {
                <$t as Real>::adjoint_zero()
            }
            #[inline(always)]
            fn finish(adj: $t, _: &()) -> $t {
                // Turns the -0.0 of an untouched adjoint into +0.0.
                adj + 0.0
            }
        }
        impl Adjoint for $t {
            type Value = $t;
            #[inline(always)]
            fn get(&self) -> Option<&$t> {
                Some(self)
            }
            #[inline(always)]
            fn materialize(&mut self) -> &mut $t {
                self
            }
            #[inline(always)]
            fn add_value(&mut self, c: $t) {
                *self += c;
            }
            #[inline(always)]
            fn add_value_ref(&mut self, c: &$t) {
                *self += *c;
            }
            #[inline(always)]
            fn take_value(&mut self) -> Option<$t> {
                Some(std::mem::replace(self, <$t as Real>::adjoint_zero()))
            }
            #[inline(always)]
            fn take(&mut self) -> $t {
                std::mem::replace(self, <$t as Real>::adjoint_zero())
            }
            #[inline(always)]
            fn into_value(self) -> $t {
                self
            }
        }
    };
}
scalar_adjoint!(f32);
scalar_adjoint!(f64);

// ---- ndarray ----

/// The lazy adjoint accumulator of an array: empty until the first contribution arrives.
#[derive(Clone, Debug)]
pub struct Slot<A, D: Dimension> {
    dim: D,
    value: Option<Array<A, D>>,
}

impl<A: Real, D: Dimension> Slot<A, D> {
    /// An empty (zero) slot for an array of shape `dim`.
    pub fn zero(dim: D) -> Self {
        Slot { dim, value: None }
    }
    /// The shape of the array this slot accumulates for.
    pub fn dim(&self) -> &D {
        &self.dim
    }
    /// The shape as a slice.
    pub fn shape(&self) -> &[usize] {
        self.dim.slice()
    }
}

impl<A: Real, D: Dimension> Adjoint for Slot<A, D> {
    type Value = Array<A, D>;
    #[inline]
    fn get(&self) -> Option<&Array<A, D>> {
        self.value.as_ref()
    }
    #[inline]
    fn materialize(&mut self) -> &mut Array<A, D> {
        let dim = &self.dim;
        self.value.get_or_insert_with(|| Array::zeros(dim.clone()))
    }
    #[track_caller]
    fn add_value(&mut self, c: Array<A, D>) {
        match &mut self.value {
            Some(v) => add_same_shape(v, &c),
            None => {
                check_shape(self.dim.slice(), c.shape());
                self.value = Some(c);
            }
        }
    }
    #[track_caller]
    fn add_value_ref(&mut self, c: &Array<A, D>) {
        match &mut self.value {
            Some(v) => add_same_shape(v, c),
            None => {
                check_shape(self.dim.slice(), c.shape());
                self.value = Some(c.clone());
            }
        }
    }
    #[inline]
    fn take_value(&mut self) -> Option<Array<A, D>> {
        self.value.take()
    }
    #[inline]
    fn take(&mut self) -> Self {
        Slot {
            dim: self.dim.clone(),
            value: self.value.take(),
        }
    }
    fn into_value(self) -> Array<A, D> {
        let dim = self.dim;
        self.value.unwrap_or_else(|| Array::zeros(dim))
    }
}

#[track_caller]
fn check_shape(expected: &[usize], got: &[usize]) {
    assert!(
        expected == got,
        "adjoint accumulation: contribution of shape {got:?} for a value of shape {expected:?}"
    );
}

#[track_caller]
fn add_same_shape<A: Real, D: Dimension>(dst: &mut Array<A, D>, src: &Array<A, D>) {
    check_shape(dst.shape(), src.shape());
    dst.zip_mut_with(src, |a, &b| *a += b);
}

/// An eager array accumulator, as found in the fields of a derived tangent struct.
impl<A: Real, D: Dimension> Adjoint for Array<A, D> {
    type Value = Array<A, D>;
    #[inline]
    fn get(&self) -> Option<&Array<A, D>> {
        Some(self)
    }
    #[inline]
    fn materialize(&mut self) -> &mut Array<A, D> {
        self
    }
    #[track_caller]
    fn add_value(&mut self, c: Array<A, D>) {
        add_same_shape(self, &c);
    }
    #[track_caller]
    fn add_value_ref(&mut self, c: &Array<A, D>) {
        add_same_shape(self, c);
    }
    fn take_value(&mut self) -> Option<Array<A, D>> {
        let zero = Array::zeros(self.raw_dim());
        Some(std::mem::replace(self, zero))
    }
    fn take(&mut self) -> Self {
        let zero = Array::zeros(self.raw_dim());
        std::mem::replace(self, zero)
    }
    fn into_value(self) -> Self {
        self
    }
}

impl<A: Real, S: Data<Elem = A>, D: Dimension> Primal for ArrayBase<S, D> {
    type Tangent = Array<A, D>;
    type Adj = Slot<A, D>;
    type MetaData = D;
    #[inline]
    fn meta_data(&self) -> D {
        self.raw_dim()
    }
    #[inline]
    fn zero_adj(meta: &D) -> Slot<A, D> {
        Slot::zero(meta.clone())
    }
    #[inline]
    fn finish(adj: Slot<A, D>, meta: &D) -> Array<A, D> {
        adj.value.unwrap_or_else(|| Array::zeros(meta.clone()))
    }
}

// ---- Vec, slices, fixed arrays: eager buffers, indexed in place ----

/// The accumulator of a `Vec`, slice or fixed array: a tangent buffer of the same length
/// (`d_x[i] += d` indexes it directly).
impl<T: Tangent> Adjoint for Vec<T> {
    type Value = Vec<T>;
    #[inline]
    fn get(&self) -> Option<&Vec<T>> {
        Some(self)
    }
    #[inline]
    fn materialize(&mut self) -> &mut Vec<T> {
        self
    }
    #[track_caller]
    fn add_value(&mut self, c: Vec<T>) {
        self.add_value_ref(&c);
    }
    #[track_caller]
    fn add_value_ref(&mut self, c: &Vec<T>) {
        assert_eq!(
            self.len(),
            c.len(),
            "adjoint accumulation: vectors of lengths {} and {}",
            self.len(),
            c.len()
        );
        Tangent::add_assign_tangent(self, c);
    }
    fn take_value(&mut self) -> Option<Vec<T>> {
        Some(self.take())
    }
    fn take(&mut self) -> Self {
        let zero = Tangent::zero_like(self);
        std::mem::replace(self, zero)
    }
    fn into_value(self) -> Self {
        self
    }
}

/// Zero tangents for elements described by `meta`.
fn zero_tangents<T: Primal>(meta: &[T::MetaData]) -> Vec<T::Tangent> {
    T::zero_tangents(meta)
}

impl<T: Primal> Primal for Vec<T>
where
    T::Tangent: Tangent,
{
    type Tangent = Vec<T::Tangent>;
    type Adj = Vec<T::Tangent>;
    type MetaData = Vec<T::MetaData>;
    fn meta_data(&self) -> Self::MetaData {
        self.iter().map(T::meta_data).collect()
    }
    fn zero_adj(meta: &Self::MetaData) -> Self::Adj {
        zero_tangents::<T>(meta)
    }
    fn finish(adj: Self::Adj, _: &Self::MetaData) -> Self::Tangent {
        adj
    }
}

impl<T: Primal> Primal for [T]
where
    T::Tangent: Tangent,
{
    type Tangent = Vec<T::Tangent>;
    type Adj = Vec<T::Tangent>;
    type MetaData = Vec<T::MetaData>;
    fn meta_data(&self) -> Self::MetaData {
        self.iter().map(T::meta_data).collect()
    }
    fn zero_adj(meta: &Self::MetaData) -> Self::Adj {
        zero_tangents::<T>(meta)
    }
    fn finish(adj: Self::Adj, _: &Self::MetaData) -> Self::Tangent {
        adj
    }
}

impl<T: Tangent, const N: usize> Adjoint for [T; N] {
    type Value = [T; N];
    #[inline]
    fn get(&self) -> Option<&[T; N]> {
        Some(self)
    }
    #[inline]
    fn materialize(&mut self) -> &mut [T; N] {
        self
    }
    fn add_value(&mut self, c: [T; N]) {
        self.add_value_ref(&c);
    }
    fn add_value_ref(&mut self, c: &[T; N]) {
        Tangent::add_assign_tangent(self, c);
    }
    fn take_value(&mut self) -> Option<[T; N]> {
        Some(self.take())
    }
    fn take(&mut self) -> Self {
        let zero = Tangent::zero_like(self);
        std::mem::replace(self, zero)
    }
    fn into_value(self) -> Self {
        self
    }
}

impl<T: Primal, const N: usize> Primal for [T; N]
where
    T::Tangent: Tangent,
{
    type Tangent = [T::Tangent; N];
    type Adj = [T::Tangent; N];
    type MetaData = [T::MetaData; N];
    fn meta_data(&self) -> Self::MetaData {
        std::array::from_fn(|i| self[i].meta_data())
    }
    fn zero_adj(meta: &Self::MetaData) -> Self::Adj {
        std::array::from_fn(|i| T::finish(T::zero_adj(&meta[i]), &meta[i]))
    }
    fn finish(adj: Self::Adj, _: &Self::MetaData) -> Self::Tangent {
        adj
    }
}

// ---- references: the adjoint of `&T` is the adjoint of `T` ----

impl<T: Primal + ?Sized> Primal for &T {
    type Tangent = T::Tangent;
    type Adj = T::Adj;
    type MetaData = T::MetaData;
    #[inline(always)]
    fn meta_data(&self) -> T::MetaData {
        (**self).meta_data()
    }
    #[inline(always)]
    fn zero_adj(meta: &T::MetaData) -> T::Adj {
        T::zero_adj(meta)
    }
    #[inline(always)]
    fn finish(adj: T::Adj, meta: &T::MetaData) -> T::Tangent {
        T::finish(adj, meta)
    }
}

impl<T: Primal + ?Sized> Primal for &mut T {
    type Tangent = T::Tangent;
    type Adj = T::Adj;
    type MetaData = T::MetaData;
    #[inline(always)]
    fn meta_data(&self) -> T::MetaData {
        (**self).meta_data()
    }
    #[inline(always)]
    fn zero_adj(meta: &T::MetaData) -> T::Adj {
        T::zero_adj(meta)
    }
    #[inline(always)]
    fn finish(adj: T::Adj, meta: &T::MetaData) -> T::Tangent {
        T::finish(adj, meta)
    }
}

// ---- tuples: one accumulator per field ----

macro_rules! tuple_adjoint {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Adjoint),+> Adjoint for ($($name,)+) {
            type Value = ($($name::Value,)+);
            fn get(&self) -> Option<&Self::Value> {
                unreachable!("a tuple adjoint is read field by field")
            }
            fn materialize(&mut self) -> &mut Self::Value {
                unreachable!("a tuple adjoint is accumulated field by field")
            }
            fn add_value(&mut self, c: Self::Value) {
                $(self.$idx.add_value(c.$idx);)+
            }
            fn add_value_ref(&mut self, c: &Self::Value) {
                $(self.$idx.add_value_ref(&c.$idx);)+
            }
            fn take_value(&mut self) -> Option<Self::Value> {
                Some(self.take().into_value())
            }
            fn take(&mut self) -> Self {
                ($(self.$idx.take(),)+)
            }
            fn into_value(self) -> Self::Value {
                ($(self.$idx.into_value(),)+)
            }
        }
        impl<$($name: Primal),+> Primal for ($($name,)+) {
            type Tangent = ($($name::Tangent,)+);
            type Adj = ($($name::Adj,)+);
            type MetaData = ($($name::MetaData,)+);
            fn meta_data(&self) -> Self::MetaData {
                ($(self.$idx.meta_data(),)+)
            }
            fn zero_adj(meta: &Self::MetaData) -> Self::Adj {
                ($($name::zero_adj(&meta.$idx),)+)
            }
            fn finish(adj: Self::Adj, meta: &Self::MetaData) -> Self::Tangent {
                ($($name::finish(adj.$idx, &meta.$idx),)+)
            }
        }
    };
}
tuple_adjoint!(A 0);
tuple_adjoint!(A 0, B 1);
tuple_adjoint!(A 0, B 1, C 2);
tuple_adjoint!(A 0, B 1, C 2, D 3);
tuple_adjoint!(A 0, B 1, C 2, D 3, E 4);
tuple_adjoint!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Converts a dimension-like value into a `Dimension` (for generated shape code).
pub fn dim<D: IntoDimension>(d: D) -> D::Dim {
    d.into_dimension()
}
