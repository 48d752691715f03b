use autodiff::Differentiable;
use ndarray::Array2;

#[derive(Differentiable)]
struct Weight(Array2<f32>, f32);

fn main() {}
