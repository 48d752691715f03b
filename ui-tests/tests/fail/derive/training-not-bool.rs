use autodiff::Differentiable;

#[derive(Differentiable)]
struct Model {
    w: f32,
    #[autodiff(training)]
    mode: u8,
}

fn main() {}
