//! `#[derive(Differentiable)]`: tangent structs, their arithmetic and leaves, nesting,
//! generics, `#[no_grad]` fields, serde, parameter names and training mode.

use autodiff::__private::{self, ArgKind, Yes};
use autodiff::io::{self, NamedParameters};
use autodiff::nn::{self, TrainingMode};
use autodiff::{Differentiable, Leaf, Real, Tangent, check};
use ndarray::{Array1, Array2, array};
use rand::{SeedableRng, rngs::StdRng};

/// A plain struct: an array, a scalar and a `Vec` of scalars.
#[derive(Clone, Debug, Differentiable)]
struct Params {
    w: Array2<f64>,
    b: f64,
    v: Vec<f64>,
}

fn params() -> Params {
    Params {
        w: array![[1.0, 2.0], [3.0, 4.0]],
        b: 5.0,
        v: vec![6.0, 7.0, 8.0],
    }
}

fn flat(leaves: Vec<Leaf<'_>>) -> Vec<f64> {
    leaves
        .iter()
        .flat_map(|l| (0..l.len()).map(move |i| l.get(i)))
        .collect()
}

#[test]
fn plain_struct_has_a_tangent_with_the_same_fields() {
    let p = params();
    let t: ParamsTangent = p.zero_tangent();
    assert_eq!(t.w, Array2::<f64>::zeros((2, 2)));
    assert_eq!(t.b, 0.0);
    assert_eq!(t.v, vec![0.0; 3]);
    // A tangent is written with the field names of the struct.
    let g = ParamsTangent {
        w: array![[1.0, 0.0], [0.0, 1.0]],
        b: 2.0,
        v: vec![1.0, 1.0, 1.0],
    };
    assert_eq!(g.num_elements(), 8);
}

#[test]
fn leaves_follow_field_order() {
    let p = params();
    assert_eq!(Differentiable::leaves(&p).len(), 3);
    assert_eq!(
        flat(Differentiable::leaves(&p)),
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    );
    let t = ParamsTangent {
        w: array![[1.0, 2.0], [3.0, 4.0]],
        b: 5.0,
        v: vec![6.0, 7.0, 8.0],
    };
    assert_eq!(flat(Tangent::leaves(&t)), flat(Differentiable::leaves(&p)));
}

#[test]
fn tangent_arithmetic_is_fieldwise() {
    let mut t = ParamsTangent {
        w: array![[1.0, 2.0], [3.0, 4.0]],
        b: 5.0,
        v: vec![6.0, 7.0, 8.0],
    };
    let u = t.clone();
    t.add_assign_tangent(&u);
    assert_eq!(t.w, array![[2.0, 4.0], [6.0, 8.0]]);
    assert_eq!(t.b, 10.0);
    t.scale(0.5);
    assert_eq!(t.v, vec![6.0, 7.0, 8.0]);
    assert_eq!(u.dot(&u), (1..=8).map(|i| (i * i) as f64).sum::<f64>());
    assert_eq!(u.norm(), u.dot(&u).sqrt());
    let z = u.zero_like();
    assert_eq!((z.b, z.v.clone()), (0.0, vec![0.0; 3]));

    // One step along a tangent, as an optimizer takes it.
    let mut p = params();
    p.add_scaled(&u, -1.0);
    assert_eq!(flat(Differentiable::leaves(&p)), vec![0.0; 8]);
}

/// A generic struct; the default scalar is `f32`.
#[derive(Clone, Debug, Differentiable)]
struct Affine<A: Real = f32> {
    scale: Array1<A>,
    shift: A,
}

#[test]
fn generic_struct_works_for_both_widths() {
    let a: Affine = Affine {
        scale: array![1.0, 2.0],
        shift: 0.5,
    };
    let t: AffineTangent<f32> = a.zero_tangent();
    assert_eq!(t.scale, array![0.0_f32, 0.0]);
    assert!(matches!(Differentiable::leaves(&a)[0], Leaf::F32(_)));

    let mut b = Affine::<f64> {
        scale: array![1.0, 2.0],
        shift: 0.5,
    };
    let g = AffineTangent {
        scale: array![1.0, 1.0],
        shift: 1.0,
    };
    b.add_scaled(&g, 2.0);
    assert_eq!((b.scale, b.shift), (array![3.0, 4.0], 2.5));
}

/// A model of layers, with a constant field.
#[derive(Clone, Debug, Differentiable)]
struct Mlp {
    l1: nn::Linear,
    l2: nn::Linear,
    #[no_grad]
    name: String,
}

fn mlp() -> Mlp {
    let mut rng = StdRng::seed_from_u64(7);
    Mlp {
        l1: nn::Linear::new(3, 4, &mut rng),
        l2: nn::Linear::new(4, 2, &mut rng),
        name: "mlp".into(),
    }
}

#[test]
fn nested_model_reads_as_expected() {
    let model = mlp();
    let grads: MlpTangent = model.zero_tangent();
    // `grads.l1.weight` reads as the user expects; `name` has no tangent.
    assert_eq!(grads.l1.weight.dim(), (4, 3));
    assert_eq!(grads.l2.bias.len(), 2);
    let leaves = Differentiable::leaves(&model);
    assert_eq!(
        leaves.iter().map(Leaf::len).collect::<Vec<_>>(),
        vec![12, 4, 8, 2]
    );
    assert_eq!(model.name, "mlp");
}

#[test]
fn nested_model_gradient_through_layer_pullbacks() {
    // loss(model) = Σ l2(tanh(l1(x))) as a function of the model's parameters.
    let x = array![[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]];
    let model = mlp();
    let to_f64 = |m: &Mlp| Mlp64 {
        l1: nn::Linear {
            weight: m.l1.weight.mapv(f64::from),
            bias: m.l1.bias.mapv(f64::from),
        },
        l2: nn::Linear {
            weight: m.l2.weight.mapv(f64::from),
            bias: m.l2.bias.mapv(f64::from),
        },
    };
    let f = |m: &Mlp64| m.l2.forward(&m.l1.forward(&x).mapv(f64::tanh)).sum();
    let grad = |m: &Mlp64| {
        let (h, pb1) = m.l1.forward_vjp(&x);
        let a = h.mapv(f64::tanh);
        let (y, pb2) = m.l2.forward_vjp(&a);
        let (d_l2, d_a) = pb2(Array2::ones(y.raw_dim()));
        let (d_l1, _) = pb1(d_a * (1.0 - &a * &a));
        Mlp64Tangent { l1: d_l1, l2: d_l2 }
    };
    check::gradient(f, grad, &to_f64(&model)).assert();
}

#[derive(Clone, Debug, Differentiable)]
struct Mlp64 {
    l1: nn::Linear<f64>,
    l2: nn::Linear<f64>,
}

/// A `Vec` of layers, numbered like PyTorch's `ModuleList`.
#[derive(Clone, Debug, Differentiable)]
struct Deep {
    layers: Vec<nn::Linear>,
    #[no_grad]
    depth: usize,
}

#[test]
fn vec_of_layers() {
    let mut rng = StdRng::seed_from_u64(1);
    let model = Deep {
        layers: (0..3).map(|_| nn::Linear::new(2, 2, &mut rng)).collect(),
        depth: 3,
    };
    let grads: DeepTangent = model.zero_tangent();
    assert_eq!(grads.layers.len(), model.depth);
    assert_eq!(grads.layers[2].weight.dim(), (2, 2));
    assert_eq!(Differentiable::leaves(&model).len(), 6);
    let names: Vec<String> = io::parameter_shapes(&model)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias",
            "layers.2.weight",
            "layers.2.bias"
        ]
    );
}

/// `#[no_grad]` fields are not parameters and may be of any type.
#[derive(Clone, Debug, Differentiable)]
struct WithConstants {
    #[no_grad]
    steps: usize,
    w: Vec<f32>,
    #[no_grad]
    scale: f32,
    #[no_grad]
    labels: Vec<String>,
}

#[test]
fn no_grad_fields_are_skipped() {
    let mut s = WithConstants {
        steps: 3,
        w: vec![1.0, 2.0],
        scale: 10.0,
        labels: vec!["a".into()],
    };
    // The tangent has only `w`: this literal would not compile otherwise.
    let t = WithConstantsTangent { w: vec![1.0, 1.0] };
    assert_eq!(Differentiable::leaves(&s).len(), 1);
    s.add_scaled(&t, 1.0);
    assert_eq!(
        (s.w, s.scale, s.steps, s.labels.len()),
        (vec![2.0, 3.0], 10.0, 3, 1)
    );
    assert_eq!(
        io::parameter_shapes(&WithConstants {
            steps: 0,
            w: vec![0.0; 5],
            scale: 0.0,
            labels: vec![]
        }),
        [("w".to_string(), vec![5])]
    );
}

/// A stateless layer: a unit struct has a unit tangent.
#[derive(Clone, Debug, Differentiable)]
struct Relu;

#[test]
fn unit_struct() {
    let t: ReluTangent = Relu.zero_tangent();
    assert_eq!(t.num_elements(), 0);
    assert!(Differentiable::leaves(&Relu).is_empty());
    assert_eq!(format!("{:?}", t.clone()), "ReluTangent");
}

#[test]
fn tangent_serde_round_trip() {
    let t = ParamsTangent {
        w: array![[1.5, -2.0], [0.1, 1e-300]],
        b: -0.0,
        v: vec![f64::MAX, 3.0],
    };
    let json = serde_json::to_string(&t).unwrap();
    let back: ParamsTangent = serde_json::from_str(&json).unwrap();
    assert_eq!(back.w, t.w);
    assert_eq!(back.b.to_bits(), t.b.to_bits());
    assert_eq!(back.v, t.v);

    // Nested and generic tangents too.
    let g = mlp().zero_tangent();
    let json = serde_json::to_string(&g).unwrap();
    assert!(json.starts_with(r#"{"l1":{"weight":"#), "{json}");
    let back: MlpTangent = serde_json::from_str(&json).unwrap();
    assert_eq!(back.l2.weight, g.l2.weight);
    let a = AffineTangent::<f32> {
        scale: array![1.0],
        shift: 2.0,
    };
    let back: AffineTangent<f32> =
        serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    assert_eq!((back.scale, back.shift), (a.scale, a.shift));
}

#[test]
fn tangent_debug_names_fields() {
    let t = AffineTangent::<f64> {
        scale: array![1.0],
        shift: 2.0,
    };
    let text = format!("{t:?}");
    assert!(text.starts_with("AffineTangent { scale: [1.0]"), "{text}");
    assert!(text.ends_with("shift: 2.0 }"), "{text}");
}

#[test]
fn accumulator_is_the_tangent() {
    // What `#[differentiable]` code does with a struct argument: zero accumulator from the
    // forward sweep's metadata, contributions added, handed back as the tangent.
    let p = params();
    let meta = __private::meta(&p);
    let mut adj = __private::zero_adj(&meta);
    let contribution = ParamsTangent {
        w: Array2::ones((2, 2)),
        b: 1.0,
        v: vec![1.0; 3],
    };
    __private::acc(&mut adj, contribution.clone());
    __private::acc_ref(&mut adj, &contribution);
    let g: ParamsTangent = __private::finish(adj, &meta);
    assert_eq!(g.w, Array2::from_elem((2, 2), 2.0));
    assert_eq!((g.b, g.v), (2.0, vec![2.0; 3]));
}

fn kind_is_yes<T: ArgKind<Kind = Yes>>() {}

#[test]
fn derived_structs_receive_gradients_in_calls() {
    kind_is_yes::<Params>();
    kind_is_yes::<Affine<f64>>();
    kind_is_yes::<Mlp>();
    kind_is_yes::<Relu>();
}

/// Training mode reaches nested layers and the struct's own flag.
#[derive(Clone, Debug, Differentiable)]
struct Net {
    body: Vec<nn::Linear>,
    drop: nn::Dropout,
    #[autodiff(training)]
    training: bool,
}

#[test]
fn training_mode_is_derived() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut net = Net {
        body: vec![nn::Linear::new(2, 2, &mut rng)],
        drop: nn::Dropout::new(0.5),
        training: true,
    };
    net.eval();
    assert!(!net.training && !net.drop.is_training());
    net.train();
    assert!(net.training && net.drop.is_training());
    // The flag is no parameter.
    assert_eq!(Differentiable::leaves(&net).len(), 2);
}

/// Parameter names come from the field path.
#[test]
fn named_parameters_are_field_paths() {
    let model = mlp();
    let mut seen = Vec::new();
    model.visit_parameters(&mut String::new(), &mut |name, shape, leaf| {
        seen.push((name.to_string(), shape.to_vec(), leaf.len()));
    });
    assert_eq!(
        seen,
        vec![
            ("l1.weight".to_string(), vec![4, 3], 12),
            ("l1.bias".to_string(), vec![4], 4),
            ("l2.weight".to_string(), vec![2, 4], 8),
            ("l2.bias".to_string(), vec![2], 2),
        ]
    );
}

/// A raw identifier field is named without `r#`.
#[derive(Clone, Debug, Differentiable)]
struct Keywords {
    r#type: f64,
}

#[test]
fn raw_identifiers() {
    assert_eq!(
        io::parameter_shapes(&Keywords { r#type: 1.0 }),
        [("type".to_string(), vec![])]
    );
    let t = KeywordsTangent { r#type: 2.0 };
    assert_eq!(format!("{t:?}"), "KeywordsTangent { type: 2.0 }");
}
