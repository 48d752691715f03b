use autodiff::Differentiable;
use ndarray::Array2;

#[derive(Differentiable)]
struct Batch<'a> {
    x: &'a Array2<f32>,
    scale: f32,
}

fn main() {}
