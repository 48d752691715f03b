use autodiff::differentiable;

#[differentiable]
fn f(x: f64, k: u8) -> f64 {
    let y = match k {
        0 => x * 2.0,
        _ => x,
    };
    y
}

fn main() {}
