use autodiff::differentiable;

fn scale(v: &mut f64) -> f64 {
    *v * 2.0
}

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x * 3.0;
    let z = scale(&mut y);
    z
}

fn main() {}
