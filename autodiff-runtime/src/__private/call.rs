//! Calls to functions with a `_vjp` companion: which arguments receive a gradient, and how
//! the pullback's result is split over the callers' accumulators.
//!
//! ```text
//! // forward
//! let __plan = __private::plan((&a, &b, &n));     // a ZST typed by the argument kinds
//! let (t, __pb) = foo_vjp(a, &b, n);
//! // reverse
//! if let Some(seed) = __private::into_seed(d_t) {
//!     let __g = __pb(seed);
//!     __plan.scatter(__g, (__private::sink(&mut d_a), __private::NoSink, __private::NoSink));
//! }
//! ```
//!
//! Each argument type is classified by [`ArgKind`] as differentiable ([`Yes`]: floats,
//! arrays and containers of floats, derived structs) or not ([`No`]: integers, `bool`,
//! `char`, strings, random number generators, and containers of these), following the
//! default wrt rule of `#[differentiable]`. The pullback returns the gradient `G` of the
//! `Yes` arguments: bare when there is exactly one, a tuple in argument order otherwise.
//! [`Plan::scatter`] dispatches on the tuple of kinds, so each `Yes` position takes one part
//! of `G` and each `No` position takes nothing. A type with no kind at all takes nothing
//! ([`Classify`]), and arguments written `no_grad(e)` may go either way ([`EitherPlan`]),
//! since a caller cannot see which parameters its callee leaves out.

use std::marker::PhantomData;

use ndarray::{ArrayBase, Dimension, RawData};

use super::{Adjoint, Primal};
use crate::Real;

// ---------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------

/// Kind of an argument that receives a gradient.
#[derive(Clone, Copy, Debug)]
pub struct Yes;

/// Kind of an argument that receives no gradient.
#[derive(Clone, Copy, Debug)]
pub struct No;

/// How an [`ArgKind`] impl applies to a type that is not a reference, tuple or generator:
/// the default, and the only one derived structs use
/// (`impl ArgKind for Name { type Kind = Yes; }`).
#[derive(Clone, Copy, Debug)]
pub struct ByValue;

/// How an [`ArgKind`] impl applies to a reference `&T` or `&mut T` whose target is
/// classified by `H`.
#[derive(Clone, Copy, Debug)]
pub struct ByRef<H>(PhantomData<H>);

/// How an [`ArgKind`] impl applies to `&mut R` with `R` a random number generator.
#[derive(Clone, Copy, Debug)]
pub struct ByRng;

/// Whether an argument of this type receives a gradient: `Kind` is [`Yes`] or [`No`].
///
/// `H` only keeps the impls apart (references, tuples and generators each have their own
/// `H`, so that `impl<T: Real> ArgKind for T` does not overlap with them); it is always
/// inferred. A derived struct implements `ArgKind` (with the default `H = ByValue`).
pub trait ArgKind<H = ByValue> {
    /// [`Yes`] or [`No`].
    type Kind;
}

impl<T: Real> ArgKind for T {
    type Kind = Yes;
}

macro_rules! no_grad_types {
    ($($t:ty),* $(,)?) => {$(
        impl ArgKind for $t {
            type Kind = No;
        }
    )*};
}
no_grad_types!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    bool,
    char,
    str,
    String,
    ()
);

impl<S: RawData, D: Dimension> ArgKind for ArrayBase<S, D>
where
    S::Elem: ArgKind,
{
    type Kind = <S::Elem as ArgKind>::Kind;
}

impl<T: ArgKind> ArgKind for Vec<T> {
    type Kind = T::Kind;
}

impl<T: ArgKind> ArgKind for [T] {
    type Kind = T::Kind;
}

impl<T: ArgKind, const N: usize> ArgKind for [T; N] {
    type Kind = T::Kind;
}

/// Marker of [`ArgKind`] for lists of references (`&[&a, &b]`, `Vec<&Array>`).
pub struct ListOf<H>(PhantomData<H>);

impl<T: ArgKind<H> + ?Sized, H, const N: usize> ArgKind<ListOf<H>> for [&T; N] {
    type Kind = T::Kind;
}

impl<T: ArgKind<H> + ?Sized, H> ArgKind<ListOf<H>> for [&T] {
    type Kind = T::Kind;
}

impl<T: ArgKind<H> + ?Sized, H> ArgKind<ListOf<H>> for Vec<&T> {
    type Kind = T::Kind;
}

impl<T: ArgKind> ArgKind for Option<T> {
    type Kind = T::Kind;
}

impl<T: ArgKind<H> + ?Sized, H> ArgKind<ByRef<H>> for &T {
    type Kind = T::Kind;
}

impl<T: ArgKind<H> + ?Sized, H> ArgKind<ByRef<H>> for &mut T {
    type Kind = T::Kind;
}

impl<R: rand::RngCore + ?Sized> ArgKind<ByRng> for &mut R {
    type Kind = No;
}

/// Type-level "or" of two kinds.
pub trait Or<K> {
    /// [`Yes`] when either side is.
    type Out;
}
impl Or<Yes> for Yes {
    type Out = Yes;
}
impl Or<No> for Yes {
    type Out = Yes;
}
impl Or<Yes> for No {
    type Out = Yes;
}
impl Or<No> for No {
    type Out = No;
}

/// [`Yes`] when any kind of a tuple of kinds is.
pub trait AnyYes {
    /// The combined kind.
    type Out;
}
impl AnyYes for (Yes,) {
    type Out = Yes;
}
impl AnyYes for (No,) {
    type Out = No;
}

macro_rules! tuple_kind {
    ($A:ident $HA:ident $(, $B:ident $HB:ident)*) => {
        impl<$A: ArgKind<$HA>, $HA $(, $B: ArgKind<$HB>, $HB)*> ArgKind<($HA, $($HB,)*)>
            for ($A, $($B,)*)
        where
            ($A::Kind, $($B::Kind,)*): AnyYes,
        {
            type Kind = <($A::Kind, $($B::Kind,)*) as AnyYes>::Out;
        }
    };
}
macro_rules! any_yes {
    ($($K:ident),+) => {
        impl<K0: Or<<($($K,)+) as AnyYes>::Out>, $($K),+> AnyYes for (K0, $($K,)+)
        where
            ($($K,)+): AnyYes,
        {
            type Out = <K0 as Or<<($($K,)+) as AnyYes>::Out>>::Out;
        }
    };
}
any_yes!(K1);
any_yes!(K1, K2);
any_yes!(K1, K2, K3);
tuple_kind!(A HA);
tuple_kind!(A HA, B HB);
tuple_kind!(A HA, B HB, C HC);
tuple_kind!(A HA, B HB, C HC, D HD);

// ---------------------------------------------------------------------------------------
// Plans and sinks
// ---------------------------------------------------------------------------------------

/// What the reverse sweep needs to know about a call's arguments: their kinds, as a type.
/// Zero-sized and `Copy`.
pub struct Plan<K>(PhantomData<fn() -> K>);

impl<K> Clone for Plan<K> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Plan<K> {}

/// A tuple of references to a call's arguments, `(&a, &b, ...)`, classified by [`ArgKind`].
pub trait PlanArgs<H> {
    /// The tuple of the arguments' kinds.
    type Kinds;
}

impl PlanArgs<()> for () {
    type Kinds = ();
}

macro_rules! plan_args {
    ($($A:ident $HA:ident),+) => {
        impl<$($A: ArgKind<$HA> + ?Sized, $HA),+> PlanArgs<($($HA,)+)> for ($(&$A,)+) {
            type Kinds = ($($A::Kind,)+);
        }
    };
}
plan_args!(A HA);
plan_args!(A HA, B HB);
plan_args!(A HA, B HB, C HC);
plan_args!(A HA, B HB, C HC, D HD);
plan_args!(A HA, B HB, C HC, D HD, E HE);
plan_args!(A HA, B HB, C HC, D HD, E HE, F HF);

/// Classifies a call's arguments (`plan((&a, &b, &n))`, before the call moves them).
#[inline(always)]
pub fn plan<H, Args: PlanArgs<H>>(args: Args) -> Plan<Args::Kinds> {
    let _ = args;
    Plan(PhantomData)
}

/// The plan of a call with arguments written `no_grad(e)`, which a callee may differentiate
/// or leave out (`#[no_grad]`, `wrt(...)`): `Taken` classifies them by their type (the callee
/// gives them a gradient, which the caller drops), `Left` as receiving nothing. The reverse
/// sweep scatters the pullback's result with the first that fits it, through [`Tiers`].
pub struct EitherPlan<Taken, Left>(PhantomData<fn() -> (Taken, Left)>);

impl<Taken, Left> Clone for EitherPlan<Taken, Left> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<Taken, Left> Copy for EitherPlan<Taken, Left> {}

/// Classifies a call's arguments twice (see [`EitherPlan`]): `taken` as [`plan`] does,
/// `left` with the `no_grad(e)` arguments wrapped in [`NotWrt`].
#[inline(always)]
pub fn either_plan<H1, H2, Taken: PlanArgs<H1>, Left: PlanArgs<H2>>(
    taken: Taken,
    left: Left,
) -> EitherPlan<Taken::Kinds, Left::Kinds> {
    let _ = (taken, left);
    EitherPlan(PhantomData)
}

/// A pullback result and its sinks, to be scattered by the first plan of an [`EitherPlan`]
/// that fits the result's type. Generated code calls `(&&Tiers::new(..)).scatter_tier()`
/// with [`TakenTier`] and [`LeftTier`] in scope: method lookup tries `&&Tiers` first, which
/// only `TakenTier` implements, and only when the result fits `Taken`; otherwise it settles
/// on `LeftTier` for `&Tiers`, whose bound reports a result that fits neither.
pub struct Tiers<Taken, Left, G, S> {
    parts: std::cell::Cell<Option<(G, S)>>,
    plan: PhantomData<fn() -> (Taken, Left)>,
}

impl<Taken, Left, G, S> Tiers<Taken, Left, G, S> {
    /// The result `g` of the pullback of a call planned by `plan`, and its sinks.
    #[inline(always)]
    pub fn new(plan: EitherPlan<Taken, Left>, g: G, sinks: S) -> Self {
        let _ = plan;
        Tiers {
            parts: std::cell::Cell::new(Some((g, sinks))),
            plan: PhantomData,
        }
    }

    #[inline(always)]
    fn take(&self) -> (G, S) {
        self.parts
            .take()
            .unwrap_or_else(|| unreachable!("a pullback result is scattered once"))
    }
}

/// Scatters a [`Tiers`] result by its `Taken` plan (see there).
pub trait TakenTier {
    /// Hands each part of the result to its sink.
    fn scatter_tier(&self);
}

impl<Taken, Left, G: Scatter<Taken, S>, S> TakenTier for &Tiers<Taken, Left, G, S> {
    #[inline(always)]
    #[track_caller]
    fn scatter_tier(&self) {
        let (g, sinks) = self.take();
        g.scatter(sinks);
    }
}

/// Scatters a [`Tiers`] result by its `Left` plan (see there).
pub trait LeftTier<Left, G, S> {
    /// Hands each part of the result to its sink.
    fn scatter_tier(&self)
    where
        G: Scatter<Left, S>;
}

impl<Taken, Left, G, S> LeftTier<Left, G, S> for Tiers<Taken, Left, G, S> {
    #[inline(always)]
    #[track_caller]
    fn scatter_tier(&self)
    where
        G: Scatter<Left, S>,
    {
        let (g, sinks) = self.take();
        g.scatter(sinks);
    }
}

/// An argument of a call, classified by [`ArgKind`] where its type has a kind and as
/// [`NotWrt`] where it has none (a plain struct, such as the receiver of a method that is
/// differentiated with respect to its other inputs only: a type without a kind cannot be
/// differentiable). Generated code writes `(&&Classify(&arg)).classified()` with
/// [`ClassifyByKind`] and [`ClassifyOther`] in scope; method lookup tries `&&Classify` first,
/// which only `ClassifyByKind` implements, and only for types with a kind.
pub struct Classify<'a, T: ?Sized>(pub &'a T);

/// The argument itself, for types with an [`ArgKind`] (see [`Classify`]).
pub trait ClassifyByKind<'a, T: ?Sized, H> {
    /// The argument, to be classified by its type.
    fn classified(&self) -> &'a T;
}

impl<'a, T: ArgKind<H> + ?Sized, H> ClassifyByKind<'a, T, H> for &Classify<'a, T> {
    #[inline(always)]
    fn classified(&self) -> &'a T {
        self.0
    }
}

/// [`NotWrt`] of the argument, for types without an [`ArgKind`] (see [`Classify`]).
pub trait ClassifyOther<'a, T: ?Sized> {
    /// The argument, as one that takes no gradient.
    fn classified(&self) -> NotWrt<'a, T>;
}

impl<'a, T: ?Sized> ClassifyOther<'a, T> for Classify<'a, T> {
    #[inline(always)]
    fn classified(&self) -> NotWrt<'a, T> {
        NotWrt(self.0)
    }
}

/// Where one argument's part of a pullback result goes.
pub trait SinkFor<G> {
    /// Consumes the argument's tangent.
    fn put(self, g: G);
}

/// Adds an argument's tangent into an accumulator (made by [`sink`]).
pub struct Sink<'a, A>(&'a mut A);

/// A sink that adds the argument's tangent into `acc`.
#[inline(always)]
pub fn sink<A: Adjoint>(acc: &mut A) -> Sink<'_, A> {
    Sink(acc)
}

impl<A: Adjoint> SinkFor<A::Value> for Sink<'_, A> {
    #[inline(always)]
    #[track_caller]
    fn put(self, g: A::Value) {
        self.0.add_value(g);
    }
}

/// The sink of an argument that receives nothing: a passive argument of a differentiable
/// type (its tangent is dropped) or a non-differentiable argument (nothing to take).
#[derive(Clone, Copy, Debug)]
pub struct NoSink;

impl<G> SinkFor<G> for NoSink {
    #[inline(always)]
    fn put(self, g: G) {
        drop(g);
    }
}

/// A pullback result that splits over the arguments of a call whose kinds are `K`, handing
/// each `Yes` argument's part to its sink in `S`; implemented for every tuple of kinds of
/// arity 0 to 6. The result type is `Self`, so a result that does not fit the arguments is an
/// unsatisfied bound, reported with the message below, rather than a bare type mismatch.
#[diagnostic::on_unimplemented(
    message = "the pullback of this call returns `{Self}`, which does not fit the arguments that take a gradient",
    label = "its gradient does not fit these arguments",
    note = "each argument of a differentiable type takes a part of the gradient, in order; write each argument whose parameter the callee leaves out (`#[no_grad]` or `wrt(...)`) as `autodiff::no_grad(...)`, and stop the gradient of any other argument in a `let` before the call"
)]
pub trait Scatter<K, S> {
    /// Hands each `Yes` argument's tangent to its sink.
    fn scatter(self, sinks: S);
}

impl<K> Plan<K> {
    /// Hands each differentiable argument's part of the pullback result `g` to its sink,
    /// in argument order; non-differentiable arguments take `NoSink`.
    #[inline(always)]
    #[track_caller]
    pub fn scatter<G, S>(self, g: G, sinks: S)
    where
        G: Scatter<K, S>,
    {
        g.scatter(sinks);
    }
}

impl<G> Scatter<(), ()> for G {
    #[inline(always)]
    fn scatter(self, _sinks: ()) {}
}

macro_rules! scatter_impls {
    // Decide the next position: `Yes` (takes a part of `G`) or `No` (takes nothing).
    (@step [($G:ident $S:ident $s:ident $g:ident) $($rest:tt)*]
        [$($k:tt)*] [$($st:tt)*] [$($sp:tt)*] [$($y:tt)*]) => {
        scatter_impls!(@step [$($rest)*]
            [$($k)* Yes,] [$($st)* $S,] [$($sp)* $s,] [$($y)* ($G $S $s $g)]);
        scatter_impls!(@step [$($rest)*]
            [$($k)* No,] [$($st)* NoSink,] [$($sp)* _,] [$($y)*]);
    };
    (@step [] [$($k:tt)*] [$($st:tt)*] [$($sp:tt)*] [$($y:tt)*]) => {
        scatter_impls!(@emit ($($k)*) ($($st)*) ($($sp)*) [$($y)*]);
    };
    // No argument is differentiable: `G` is whatever the pullback returns (`()`).
    (@emit $kinds:tt $st:tt $sp:tt []) => {
        #[diagnostic::do_not_recommend]
        impl<G> Scatter<$kinds, $st> for G {
            #[inline(always)]
            fn scatter(self, _sinks: $st) {}
        }
    };
    // Exactly one: `G` is its bare tangent.
    (@emit $kinds:tt $st:tt $sp:tt [($G:ident $S:ident $s:ident $g:ident)]) => {
        #[diagnostic::do_not_recommend]
        impl<$G, $S: SinkFor<$G>> Scatter<$kinds, $st> for $G {
            #[inline(always)]
            #[track_caller]
            fn scatter(self, sinks: $st) {
                let $sp = sinks;
                $s.put(self);
            }
        }
    };
    // Several: `G` is a tuple of their tangents.
    (@emit $kinds:tt $st:tt $sp:tt [$(($G:ident $S:ident $s:ident $g:ident))*]) => {
        #[diagnostic::do_not_recommend]
        impl<$($G, $S: SinkFor<$G>),*> Scatter<$kinds, $st> for ($($G,)*) {
            #[inline(always)]
            #[track_caller]
            fn scatter(self, sinks: $st) {
                let $sp = sinks;
                let ($($g,)*) = self;
                $($s.put($g);)*
            }
        }
    };
    // Entry: one `(G S s g)` group of names per argument position.
    ($($pos:tt)*) => {
        scatter_impls!(@step [$($pos)*] [] [] [] []);
    };
}
scatter_impls!((G0 S0 s0 g0));
scatter_impls!((G0 S0 s0 g0) (G1 S1 s1 g1));
scatter_impls!((G0 S0 s0 g0) (G1 S1 s1 g1) (G2 S2 s2 g2));
scatter_impls!((G0 S0 s0 g0) (G1 S1 s1 g1) (G2 S2 s2 g2) (G3 S3 s3 g3));
scatter_impls!((G0 S0 s0 g0) (G1 S1 s1 g1) (G2 S2 s2 g2) (G3 S3 s3 g3) (G4 S4 s4 g4));
scatter_impls!(
    (G0 S0 s0 g0) (G1 S1 s1 g1) (G2 S2 s2 g2) (G3 S3 s3 g3) (G4 S4 s4 g4) (G5 S5 s5 g5)
);

// ---------------------------------------------------------------------------------------
// `Result` and `Option` (for `unwrap` / `expect`): the adjoint of the contained value
// ---------------------------------------------------------------------------------------

#[track_caller]
fn no_value() -> ! {
    panic!("no adjoint for an `Err` or `None` value (it was unwrapped in the forward sweep)")
}

/// `Result<T, E>` has the tangent and accumulator of `T`. Its metadata is `None` for an
/// `Err`, which the forward sweep's `unwrap` rejects before any accumulator is made.
impl<T: Primal, E> Primal for Result<T, E> {
    type Tangent = T::Tangent;
    type Adj = T::Adj;
    type MetaData = Option<T::MetaData>;
    #[inline(always)]
    fn meta_data(&self) -> Option<T::MetaData> {
        self.as_ref().ok().map(T::meta_data)
    }
    #[inline(always)]
    #[track_caller]
    fn zero_adj(meta: &Option<T::MetaData>) -> T::Adj {
        match meta {
            Some(m) => T::zero_adj(m),
            None => no_value(),
        }
    }
    #[inline(always)]
    #[track_caller]
    fn finish(adj: T::Adj, meta: &Option<T::MetaData>) -> T::Tangent {
        match meta {
            Some(m) => T::finish(adj, m),
            None => no_value(),
        }
    }
}

/// `Option<T>` has the tangent and accumulator of `T`, like `Result`.
impl<T: Primal> Primal for Option<T> {
    type Tangent = T::Tangent;
    type Adj = T::Adj;
    type MetaData = Option<T::MetaData>;
    #[inline(always)]
    fn meta_data(&self) -> Option<T::MetaData> {
        self.as_ref().map(T::meta_data)
    }
    #[inline(always)]
    #[track_caller]
    fn zero_adj(meta: &Option<T::MetaData>) -> T::Adj {
        match meta {
            Some(m) => T::zero_adj(m),
            None => no_value(),
        }
    }
    #[inline(always)]
    #[track_caller]
    fn finish(adj: T::Adj, meta: &Option<T::MetaData>) -> T::Tangent {
        match meta {
            Some(m) => T::finish(adj, m),
            None => no_value(),
        }
    }
}

/// An argument that a callee does not differentiate although its type would be: a rule's
/// hyper-parameter such as `nn::dropout`'s `p`. Generated code wraps such arguments when it
/// builds a [`plan`], so that the pullback's gradients line up with the other arguments.
pub struct NotWrt<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> ArgKind for NotWrt<'_, T> {
    type Kind = No;
}

/// Receives the tangents of a slice argument written as a list (`ops::concat(&[&a, &b], 0)`),
/// to be handed out element by element after the scatter (the same array may appear twice).
pub struct SinkList<'a, V>(&'a mut Option<Vec<V>>);

/// A sink that keeps a list argument's tangents in `slot`.
#[inline(always)]
pub fn sink_list<V>(slot: &mut Option<Vec<V>>) -> SinkList<'_, V> {
    SinkList(slot)
}

impl<V> SinkFor<Vec<V>> for SinkList<'_, V> {
    #[inline(always)]
    fn put(self, g: Vec<V>) {
        *self.0 = Some(g);
    }
}

/// Adds the next tangent of a list argument into `acc`.
#[inline(always)]
#[track_caller]
pub fn acc_next<A: Adjoint>(tangents: &mut impl Iterator<Item = A::Value>, acc: &mut A) {
    if let Some(t) = tangents.next() {
        acc.add_value(t);
    }
}
