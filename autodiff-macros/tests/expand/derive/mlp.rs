// A model of layers: nested structs, a `Vec` of layers, a constant field.
#[derive(Differentiable)]
struct Mlp {
    l1: Linear,
    hidden: Vec<Linear>,
    #[no_grad]
    name: String,
}
