use autodiff::differentiable;

#[differentiable]
fn scaled(x: f64, #[no_grad] scale: f64) -> f64 {
    scale * x.sin()
}

// `scaled` returns no gradient for `scale`; the argument there must be written `no_grad(y)`.
#[differentiable]
fn f(x: f64, y: f64) -> f64 {
    scaled(x, y) * y
}

fn main() {}
