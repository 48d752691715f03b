//! Saving and loading a model's parameters, by name.
//!
//! Every parameter of a model has a name made of its field path, as PyTorch names the
//! entries of a `state_dict`: `l1.weight`, `encoder.norm.bias`; the elements of a `Vec` of
//! layers are numbered like a `ModuleList` (`layers.0.weight`, `layers.1.weight`), and a
//! `Vec<f32>` or `[f64; N]` field is one 1-D tensor. `#[derive(Differentiable)]` implements
//! [`NamedParameters`], which lists them; fields marked `#[autodiff(buffer)]` (such as the
//! running statistics of [`BatchNorm2d`](crate::nn::BatchNorm2d)) are listed too, as PyTorch's
//! buffers are, and `#[no_grad]` fields are not.
//!
//! [`save_safetensors`] writes them to a [safetensors](https://github.com/huggingface/safetensors)
//! file (`F32` or `F64`, row-major, the arrays' shapes), which PyTorch reads directly:
//!
//! ```text
//! from safetensors.torch import load_file
//! model.load_state_dict(load_file("model.safetensors"))
//! ```
//!
//! and [`load_safetensors`] reads such a file back into a model of the same architecture,
//! refusing, before it changes anything, a file whose names, shapes or dtypes differ.
//!
//! ```
//! use autodiff_runtime::{io, nn};
//! use rand::{rngs::StdRng, SeedableRng};
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let layer = nn::Linear::<f32>::new(3, 2, &mut rng);
//! assert_eq!(
//!     io::parameter_shapes(&layer),
//!     vec![("weight".to_string(), vec![2, 3]), ("bias".to_string(), vec![2])]
//! );
//!
//! let bytes = io::to_safetensors_bytes(&layer).unwrap();
//! let mut copy = nn::Linear::<f32>::new(3, 2, &mut rng);
//! io::load_safetensors_bytes(&mut copy, &bytes).unwrap();
//! assert_eq!(copy.weight, layer.weight);
//! ```

mod safetensors_file;

use std::sync::Mutex;

use ndarray::{ArrayBase, DataMut, Dimension};

use crate::{Leaf, LeafMut, Real};

pub use safetensors_file::{
    DtypeMismatch, Error, Mismatch, ShapeMismatch, load_safetensors, load_safetensors_bytes,
    save_safetensors, to_safetensors_bytes,
};

/// A value whose parameters have names and shapes: what saving and loading need.
///
/// Derived by `#[derive(Differentiable)]` (parameter fields and `#[autodiff(buffer)]` fields,
/// in declaration order, each under its field name) and implemented here for `f32`, `f64`
/// (shape `[]`), ndarray arrays (their shape), `Vec`s and fixed-size arrays (elements
/// numbered from 0, or one 1-D tensor for scalars), tuples (`0`, `1`, ...) and `Mutex`es
/// (what they hold).
///
/// A hand-written implementation calls [`visit_field`] / [`visit_field_mut`] once per
/// field, or `f(prefix, shape, leaf)` once per buffer of its own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no named parameters",
    label = "`{Self}` does not implement `NamedParameters`",
    note = "`NamedParameters` is implemented for `f32`, `f64`, ndarray arrays, `Vec`s, arrays, tuples and \
            `Mutex`es of these, and by `#[derive(Differentiable)]`",
    note = "in a struct with `#[derive(Differentiable)]`, mark a constant field `#[no_grad]`"
)]
pub trait NamedParameters {
    /// Calls `f(name, shape, data)` for each parameter, depth first, in field order.
    ///
    /// `prefix` holds the name of `self` (empty for the model itself); implementations
    /// append to it for their fields and restore it before returning.
    fn visit_parameters(&self, prefix: &mut String, f: &mut dyn FnMut(&str, &[usize], Leaf<'_>));

    /// As [`NamedParameters::visit_parameters`], with mutable access to the data.
    fn visit_parameters_mut(
        &mut self,
        prefix: &mut String,
        f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>),
    );

    #[doc(hidden)]
    /// A slice of values as one buffer, when they are plain scalars (a `Vec<f32>` field is
    /// one 1-D tensor, not one scalar tensor per element).
    fn scalar_slice(_values: &[Self]) -> Option<Leaf<'_>>
    where
        Self: Sized,
    {
        None
    }

    #[doc(hidden)]
    /// As [`NamedParameters::scalar_slice`], mutably.
    fn scalar_slice_mut(_values: &mut [Self]) -> Option<LeafMut<'_>>
    where
        Self: Sized,
    {
        None
    }
}

/// Visits the parameters of the field `name` of a value whose name is `prefix`: they are
/// named `prefix.name.*` (`name.*` at the top level).
pub fn visit_field<T: NamedParameters + ?Sized>(
    value: &T,
    name: &str,
    prefix: &mut String,
    f: &mut dyn FnMut(&str, &[usize], Leaf<'_>),
) {
    let len = push_segment(prefix, name);
    value.visit_parameters(prefix, f);
    prefix.truncate(len);
}

/// As [`visit_field`], with mutable access to the data.
pub fn visit_field_mut<T: NamedParameters + ?Sized>(
    value: &mut T,
    name: &str,
    prefix: &mut String,
    f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>),
) {
    let len = push_segment(prefix, name);
    value.visit_parameters_mut(prefix, f);
    prefix.truncate(len);
}

/// Appends `.name` (or `name` at the top level); returns the length to truncate back to.
fn push_segment(prefix: &mut String, name: &str) -> usize {
    let len = prefix.len();
    if len > 0 {
        prefix.push('.');
    }
    prefix.push_str(name);
    len
}

/// The name and shape of every parameter of `model`, in order.
///
/// ```
/// use autodiff_runtime::io;
/// use ndarray::Array2;
///
/// let model = (Array2::<f64>::zeros((2, 3)), vec![0.0_f64; 4], 1.0_f64);
/// assert_eq!(
///     io::parameter_shapes(&model),
///     vec![("0".to_string(), vec![2, 3]), ("1".to_string(), vec![4]), ("2".to_string(), vec![])]
/// );
/// ```
pub fn parameter_shapes<M: NamedParameters + ?Sized>(model: &M) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    model.visit_parameters(&mut String::new(), &mut |name, shape, _| {
        out.push((name.to_string(), shape.to_vec()))
    });
    out
}

// ---- scalars ----

macro_rules! scalar_named {
    ($t:ty) => {
        impl NamedParameters for $t {
            fn visit_parameters(
                &self,
                prefix: &mut String,
                f: &mut dyn FnMut(&str, &[usize], Leaf<'_>),
            ) {
                f(prefix, &[], <$t as Real>::leaf(std::slice::from_ref(self)));
            }
            fn visit_parameters_mut(
                &mut self,
                prefix: &mut String,
                f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>),
            ) {
                f(
                    prefix,
                    &[],
                    <$t as Real>::leaf_mut(std::slice::from_mut(self)),
                );
            }
            fn scalar_slice(values: &[Self]) -> Option<Leaf<'_>> {
                Some(<$t as Real>::leaf(values))
            }
            fn scalar_slice_mut(values: &mut [Self]) -> Option<LeafMut<'_>> {
                Some(<$t as Real>::leaf_mut(values))
            }
        }
    };
}
scalar_named!(f32);
scalar_named!(f64);

// ---- ndarray ----

impl<A: Real, S: DataMut<Elem = A>, D: Dimension> NamedParameters for ArrayBase<S, D> {
    #[track_caller]
    fn visit_parameters(&self, prefix: &mut String, f: &mut dyn FnMut(&str, &[usize], Leaf<'_>)) {
        let Some(data) = self.as_slice() else {
            not_standard(prefix, self.shape())
        };
        f(prefix, self.shape(), A::leaf(data));
    }
    #[track_caller]
    fn visit_parameters_mut(
        &mut self,
        prefix: &mut String,
        f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>),
    ) {
        let shape = self.shape().to_vec();
        let Some(data) = self.as_slice_mut() else {
            not_standard(prefix, &shape)
        };
        f(prefix, &shape, A::leaf_mut(data));
    }
}

#[track_caller]
fn not_standard(name: &str, shape: &[usize]) -> ! {
    panic!(
        "parameter `{name}` of shape {shape:?} is not in standard (row-major, contiguous) layout; \
         store it as `.as_standard_layout().to_owned()`"
    )
}

// ---- Vec, fixed arrays ----

fn visit_slice<T: NamedParameters>(
    values: &[T],
    prefix: &mut String,
    f: &mut dyn FnMut(&str, &[usize], Leaf<'_>),
) {
    if let Some(leaf) = T::scalar_slice(values) {
        f(prefix, &[values.len()], leaf);
        return;
    }
    for (i, value) in values.iter().enumerate() {
        visit_field(value, &i.to_string(), prefix, f);
    }
}

fn visit_slice_mut<T: NamedParameters>(
    values: &mut [T],
    prefix: &mut String,
    f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>),
) {
    let len = values.len();
    if let Some(leaf) = T::scalar_slice_mut(values) {
        f(prefix, &[len], leaf);
        return;
    }
    for (i, value) in values.iter_mut().enumerate() {
        visit_field_mut(value, &i.to_string(), prefix, f);
    }
}

impl<T: NamedParameters> NamedParameters for Vec<T> {
    fn visit_parameters(&self, prefix: &mut String, f: &mut dyn FnMut(&str, &[usize], Leaf<'_>)) {
        visit_slice(self, prefix, f);
    }
    fn visit_parameters_mut(
        &mut self,
        prefix: &mut String,
        f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>),
    ) {
        visit_slice_mut(self, prefix, f);
    }
}

impl<T: NamedParameters, const N: usize> NamedParameters for [T; N] {
    fn visit_parameters(&self, prefix: &mut String, f: &mut dyn FnMut(&str, &[usize], Leaf<'_>)) {
        visit_slice(self, prefix, f);
    }
    fn visit_parameters_mut(
        &mut self,
        prefix: &mut String,
        f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>),
    ) {
        visit_slice_mut(self, prefix, f);
    }
}

// ---- tuples ----

macro_rules! tuple_named {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: NamedParameters),+> NamedParameters for ($($name,)+) {
            fn visit_parameters(&self, prefix: &mut String, f: &mut dyn FnMut(&str, &[usize], Leaf<'_>)) {
                $(visit_field(&self.$idx, stringify!($idx), prefix, f);)+
            }
            fn visit_parameters_mut(&mut self, prefix: &mut String, f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>)) {
                $(visit_field_mut(&mut self.$idx, stringify!($idx), prefix, f);)+
            }
        }
    };
}
tuple_named!(A 0);
tuple_named!(A 0, B 1);
tuple_named!(A 0, B 1, C 2);
tuple_named!(A 0, B 1, C 2, D 3);
tuple_named!(A 0, B 1, C 2, D 3, E 4);
tuple_named!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_named!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_named!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

// ---- Mutex: buffers that a `&self` forward pass updates ----

/// What the mutex holds. A poisoned mutex is read all the same: buffers are plain numbers.
impl<T: NamedParameters + ?Sized> NamedParameters for Mutex<T> {
    fn visit_parameters(&self, prefix: &mut String, f: &mut dyn FnMut(&str, &[usize], Leaf<'_>)) {
        let guard = self
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.visit_parameters(prefix, f);
    }
    fn visit_parameters_mut(
        &mut self,
        prefix: &mut String,
        f: &mut dyn FnMut(&str, &[usize], LeafMut<'_>),
    ) {
        self.get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .visit_parameters_mut(prefix, f);
    }
}
