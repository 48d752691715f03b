use autodiff::Differentiable;

#[derive(Differentiable)]
#[autodiff(training)]
struct Model {
    w: f32,
    #[no_grad]
    training: bool,
}

fn main() {}
