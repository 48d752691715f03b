// No parameter field: the tangent has no field and no type parameter. The training flag is
// written by `set_training`; the buffer is saved but has no gradient.
#[derive(Differentiable)]
#[autodiff(crate = "crate")]
pub struct Dropout<A: Real = f32> {
    #[no_grad]
    pub p: A,
    #[autodiff(buffer)]
    seen: Mutex<Array1<A>>,
    #[autodiff(training)]
    training: bool,
}
