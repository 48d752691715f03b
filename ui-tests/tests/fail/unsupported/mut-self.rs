use autodiff::differentiable;

struct S {
    w: f64,
}

impl S {
    #[differentiable]
    fn f(&mut self, x: f64) -> f64 {
        self.w * x
    }
}

fn main() {}
