use autodiff::Differentiable;

// A type with no tangent, which only rustc can tell: the error names the type and says
// what to do, on the field's type.
struct Config {
    depth: u32,
}

#[derive(Differentiable)]
struct Model {
    w: f32,
    config: Config,
}

fn main() {}
