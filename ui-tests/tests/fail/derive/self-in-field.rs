use autodiff::Differentiable;

#[derive(Differentiable)]
struct Tree {
    w: f32,
    children: Vec<Self>,
}

fn main() {}
