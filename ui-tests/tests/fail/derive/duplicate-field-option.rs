use autodiff::Differentiable;
use ndarray::Array1;

#[derive(Differentiable)]
struct Model {
    w: f32,
    #[autodiff(buffer)]
    #[autodiff(buffer)]
    running_mean: Array1<f32>,
}

fn main() {}
