use autodiff::Differentiable;

#[derive(Differentiable)]
#[autodiff(crate = "autodiff", crate = "::autodiff")]
struct Model {
    w: f32,
}

fn main() {}
