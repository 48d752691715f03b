use autodiff::Differentiable;

#[derive(Differentiable)]
#[autodiff(crate = "not a path")]
struct Model {
    w: f32,
}

fn main() {}
