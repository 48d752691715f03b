//! Support for what `#[derive(Differentiable)]` generates.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Differentiable;

pub use crate::io::{NamedParameters, visit_field, visit_field_mut};
pub use crate::nn::TrainingMode;

/// A differentiable type whose tangent serde can write and read.
///
/// A derived tangent struct bounds the *type* of each generic field by this trait (serde's
/// `bound`) and reads and writes the field through [`serialize_tangent`] and
/// [`deserialize_tangent`]. A bound on the tangent itself (`<A as Differentiable>::Tangent:
/// DeserializeOwned`) would compete, for a field `a: A` with `A: Real`, with the
/// `Deserialize` that `Real` implies, and rustc rejects the two as ambiguous.
pub trait SerdeTangent: Differentiable {
    /// Serializes a tangent of this type.
    fn serialize_tangent<S: Serializer>(
        t: &Self::Tangent,
        serializer: S,
    ) -> Result<S::Ok, S::Error>;
    /// Deserializes a tangent of this type.
    fn deserialize_tangent<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Self::Tangent, D::Error>;
}

impl<T: Differentiable + ?Sized> SerdeTangent for T
where
    T::Tangent: Serialize + DeserializeOwned,
{
    fn serialize_tangent<S: Serializer>(
        t: &Self::Tangent,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        t.serialize(serializer)
    }
    fn deserialize_tangent<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Self::Tangent, D::Error> {
        Self::Tangent::deserialize(deserializer)
    }
}

/// `#[serde(serialize_with)]` of a derived tangent's generic field of type `F`.
pub fn serialize_tangent<F: SerdeTangent + ?Sized, S: Serializer>(
    t: &F::Tangent,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    F::serialize_tangent(t, serializer)
}

/// `#[serde(deserialize_with)]` of a derived tangent's generic field of type `F`.
pub fn deserialize_tangent<'de, F: SerdeTangent + ?Sized, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<F::Tangent, D::Error> {
    F::deserialize_tangent(deserializer)
}
