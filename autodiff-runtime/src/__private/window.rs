//! Windows: the part of an array a reverse loop walks, taken once before the loop.
//!
//! A reverse loop that reads and writes arrays only at `base + j` (its loop variable plus
//! something the loop does not change) runs on windows of them, handed to a closure as
//! parameters ([`with_windows`]). Inside the closure each window is a distinct `&mut [T]`
//! parameter, which the compiler knows aliases nothing else, and its length is the trip
//! count, so the loop keeps neither bounds checks nor reloads after stores and can be
//! vectorised: the guarantee Fortran gives Tapenade's generated adjoints by its rules.
//!
//! The macro calls the methods with method syntax so that `Vec`s, fixed arrays and
//! references reach the slice impl by auto-deref; it only windows arrays indexed by
//! `usize`, which for active values are slices, `Vec`s, fixed arrays and ndarray vectors.

use ndarray::{ArrayBase, Data, DataMut, Dimension, Ix1};

/// An array read at `start..start + len` through a window.
pub trait Window {
    /// The element type.
    type Elem;
    /// The window, indexed from 0 (`w[j]`).
    type View<'a>
    where
        Self: 'a,
        Self::Elem: 'a;
    /// Elements `start..start + len`.
    fn ad_window(&self, start: usize, len: usize) -> Self::View<'_>;
}

/// An array written at `start..start + len` through a window.
pub trait WindowMut: Window {
    /// The window, indexed from 0 (`w[j]`).
    type ViewMut<'a>
    where
        Self: 'a,
        Self::Elem: 'a;
    /// Elements `start..start + len`, mutably.
    fn ad_window_mut(&mut self, start: usize, len: usize) -> Self::ViewMut<'_>;
}

impl<T> Window for [T] {
    type Elem = T;
    type View<'a>
        = &'a [T]
    where
        T: 'a;
    #[inline(always)]
    fn ad_window(&self, start: usize, len: usize) -> &[T] {
        &self[start..][..len]
    }
}

impl<T> WindowMut for [T] {
    type ViewMut<'a>
        = &'a mut [T]
    where
        T: 'a;
    #[inline(always)]
    fn ad_window_mut(&mut self, start: usize, len: usize) -> &mut [T] {
        &mut self[start..][..len]
    }
}

/// ndarray vectors (`Ix1`, or `IxDyn` of one axis: the arrays a `usize` indexes) give
/// vector views, which have no aliasing guarantee but index alike.
impl<A, S: Data<Elem = A>, D: Dimension> Window for ArrayBase<S, D> {
    type Elem = A;
    type View<'a>
        = ndarray::ArrayView1<'a, A>
    where
        Self: 'a,
        A: 'a;
    #[inline]
    fn ad_window(&self, start: usize, len: usize) -> ndarray::ArrayView1<'_, A> {
        one_axis(self.view()).slice_move(ndarray::s![start..start + len])
    }
}

impl<A, S: DataMut<Elem = A>, D: Dimension> WindowMut for ArrayBase<S, D> {
    type ViewMut<'a>
        = ndarray::ArrayViewMut1<'a, A>
    where
        Self: 'a,
        A: 'a;
    #[inline]
    fn ad_window_mut(&mut self, start: usize, len: usize) -> ndarray::ArrayViewMut1<'_, A> {
        one_axis(self.view_mut()).slice_move(ndarray::s![start..start + len])
    }
}

/// `a` as a vector: indexing by one `usize` (what the windowed loop did) needs one axis.
fn one_axis<S: ndarray::RawData, D: Dimension>(a: ArrayBase<S, D>) -> ArrayBase<S, Ix1> {
    let ndim = a.ndim();
    a.into_dimensionality::<Ix1>()
        .unwrap_or_else(|_| panic!("indexing a {ndim}-dimensional array by one usize"))
}

/// `with_windowsN(w1, .., wN, body)` calls `body(w1, .., wN)`: each window becomes a
/// parameter of the closure (see the module documentation). The closure's parameter types
/// come from the windows, so generated code needs no type names.
macro_rules! with_windows {
    ($($name:ident($($w:ident: $t:ident),+);)+) => {$(
        #[doc = concat!("Calls `body` with ", stringify!($($w),+), " as its parameters.")]
        #[inline(always)]
        #[allow(clippy::too_many_arguments)] // one per window, as the closure takes them
        pub fn $name<$($t,)+ R>($($w: $t,)+ body: impl FnOnce($($t),+) -> R) -> R {
            body($($w),+)
        }
    )+};
}

with_windows! {
    with_windows1(a: A);
    with_windows2(a: A, b: B);
    with_windows3(a: A, b: B, c: C);
    with_windows4(a: A, b: B, c: C, d: D);
    with_windows5(a: A, b: B, c: C, d: D, e: E);
    with_windows6(a: A, b: B, c: C, d: D, e: E, f: F);
    with_windows7(a: A, b: B, c: C, d: D, e: E, f: F, g: G);
    with_windows8(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H);
}
