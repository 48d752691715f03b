use autodiff::Differentiable;

#[derive(Differentiable)]
struct Model {
    w: f32,
    #[no_grad(true)]
    steps: usize,
}

fn main() {}
