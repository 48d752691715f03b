use autodiff::differentiable;

#[differentiable]
fn f(x: &[f64], w: f64) -> f64 {
    let s: f64 = x.iter().map(|v| v * w).sum();
    s
}

fn main() {}
