use autodiff::Differentiable;

#[derive(Differentiable)]
struct Model {
    #[autodiff(skip)]
    w: f32,
}

fn main() {}
