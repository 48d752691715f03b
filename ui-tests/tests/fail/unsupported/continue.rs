use autodiff::differentiable;

#[differentiable]
fn f(x: f64) -> f64 {
    let mut y = x;
    for i in 0..10 {
        if i % 2 == 0 {
            continue;
        }
        y = y * 0.5;
    }
    y
}

fn main() {}
