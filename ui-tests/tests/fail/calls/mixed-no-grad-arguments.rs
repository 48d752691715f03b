use autodiff::{differentiable, no_grad};

#[differentiable]
fn scaled(x: f64, #[no_grad] scale: f64, shift: f64) -> f64 {
    scale * x.sin() + shift
}

// Of the two `no_grad` arguments, `scaled` leaves out the first and differentiates the
// second: the pullback's result fits neither all of them taken nor all of them left out.
#[differentiable]
fn f(x: f64, y: f64) -> f64 {
    scaled(x, no_grad(y), no_grad(y * y)) * y
}

fn main() {}
