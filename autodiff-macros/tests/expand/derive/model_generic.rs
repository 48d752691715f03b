// A model generic over a layer: where-clause predicates for the field types, `'static` for
// the tangent's parameter, and serde bounds on the tangent's projections.
#[derive(Differentiable)]
pub struct Residual<L, const N: usize>
where
    L: Clone,
{
    pub inner: L,
    pub scales: [f64; N],
    #[no_grad]
    pub label: &'static str,
}
