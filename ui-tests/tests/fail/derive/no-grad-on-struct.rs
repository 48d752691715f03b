use autodiff::Differentiable;

#[derive(Differentiable)]
#[no_grad]
struct Model {
    w: f32,
}

fn main() {}
