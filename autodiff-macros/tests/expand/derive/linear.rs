// A generic layer: the tangent keeps the type parameter, its bound and its default.
#[derive(Differentiable)]
pub struct Linear<A: Real = f32> {
    pub weight: Array2<A>,
    pub bias: Array1<A>,
}
