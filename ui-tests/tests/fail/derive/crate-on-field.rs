use autodiff::Differentiable;

#[derive(Differentiable)]
struct Model {
    #[autodiff(crate = "autodiff")]
    w: f32,
}

fn main() {}
