//! `v += e` and `v -= e` in the forward sweep, for every operand combination.

use ndarray::{ArrayBase, Data, DataMut, Dimension};

use crate::Real;

/// `target += value` (scalar, or array with ndarray's broadcasting of `value`).
pub trait AddAssignFrom<R: ?Sized> {
    /// `self += value`.
    fn add_assign_from(&mut self, value: &R);
    /// `self -= value`.
    fn sub_assign_from(&mut self, value: &R);
}

impl<T: Real> AddAssignFrom<T> for T {
    #[inline(always)]
    fn add_assign_from(&mut self, value: &T) {
        *self += *value;
    }
    #[inline(always)]
    fn sub_assign_from(&mut self, value: &T) {
        *self -= *value;
    }
}

impl<T: Real> AddAssignFrom<&T> for T {
    #[inline(always)]
    fn add_assign_from(&mut self, value: &&T) {
        *self += **value;
    }
    #[inline(always)]
    fn sub_assign_from(&mut self, value: &&T) {
        *self -= **value;
    }
}

impl<T: Real, S: DataMut<Elem = T>, D: Dimension> AddAssignFrom<T> for ArrayBase<S, D> {
    fn add_assign_from(&mut self, value: &T) {
        let v = *value;
        self.mapv_inplace(|x| x + v);
    }
    fn sub_assign_from(&mut self, value: &T) {
        let v = *value;
        self.mapv_inplace(|x| x - v);
    }
}

impl<T: Real, S: DataMut<Elem = T>, S2: Data<Elem = T>, D: Dimension, E: Dimension>
    AddAssignFrom<ArrayBase<S2, E>> for ArrayBase<S, D>
{
    #[track_caller]
    fn add_assign_from(&mut self, value: &ArrayBase<S2, E>) {
        *self += value;
    }
    #[track_caller]
    fn sub_assign_from(&mut self, value: &ArrayBase<S2, E>) {
        *self -= value;
    }
}

impl<'a, T: Real, S: DataMut<Elem = T>, S2: Data<Elem = T>, D: Dimension, E: Dimension>
    AddAssignFrom<&'a ArrayBase<S2, E>> for ArrayBase<S, D>
{
    #[track_caller]
    fn add_assign_from(&mut self, value: &&'a ArrayBase<S2, E>) {
        *self += *value;
    }
    #[track_caller]
    fn sub_assign_from(&mut self, value: &&'a ArrayBase<S2, E>) {
        *self -= *value;
    }
}

/// `*target += *value` (the forward of `v += e`).
#[inline(always)]
#[track_caller]
pub fn add_assign<L: AddAssignFrom<R>, R: ?Sized>(target: &mut L, value: &R) {
    target.add_assign_from(value);
}

/// `*target -= *value` (the forward of `v -= e`).
#[inline(always)]
#[track_caller]
pub fn sub_assign<L: AddAssignFrom<R>, R: ?Sized>(target: &mut L, value: &R) {
    target.sub_assign_from(value);
}

/// The tangent type of a primal type (what a pullback takes and returns).
pub type TangentOf<T> = <T as super::Primal>::Tangent;

/// The seed of `NAME_grad`: one.
#[inline(always)]
pub fn one<T: Real>() -> T {
    T::one()
}
