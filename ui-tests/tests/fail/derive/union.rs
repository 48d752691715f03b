use autodiff::Differentiable;

#[derive(Differentiable)]
union Bits {
    f: f32,
    u: u32,
}

fn main() {}
