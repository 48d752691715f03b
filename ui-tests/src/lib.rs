//! trybuild compile-fail cases for `#[differentiable]`.
