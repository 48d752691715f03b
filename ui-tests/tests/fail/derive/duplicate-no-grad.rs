use autodiff::Differentiable;

#[derive(Differentiable)]
struct Model {
    w: f32,
    #[no_grad]
    #[no_grad]
    steps: usize,
}

fn main() {}
