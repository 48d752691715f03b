use autodiff::Differentiable;

#[derive(Differentiable)]
struct Model {
    w: f32,
    #[autodiff(training, buffer)]
    training: bool,
}

fn main() {}
