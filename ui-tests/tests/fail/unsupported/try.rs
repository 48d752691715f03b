use autodiff::differentiable;

fn parse(s: &str) -> Result<f64, std::num::ParseFloatError> {
    s.parse()
}

#[differentiable]
fn f(x: f64, s: &str) -> f64 {
    let y = x * parse(s)?;
    y
}

fn main() {}
