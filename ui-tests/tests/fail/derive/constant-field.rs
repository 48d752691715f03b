use autodiff::Differentiable;
use ndarray::Array2;

#[derive(Differentiable)]
struct Model {
    w: Array2<f32>,
    steps: usize,
}

fn main() {}
