use autodiff::Differentiable;

#[derive(Differentiable)]
enum Layer {
    Dense { w: f32 },
    Identity,
}

fn main() {}
