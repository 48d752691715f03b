// A unit struct (a stateless layer) has a unit tangent.
#[derive(Differentiable)]
pub struct Relu;
