use autodiff::Differentiable;

#[derive(Differentiable)]
#[autodiff(rename = "Params")]
struct Model {
    w: f32,
}

fn main() {}
