//! Saving and loading parameters as safetensors: names from field paths, bit-exact round
//! trips, the file layout PyTorch reads, and refusals that name what does not match.

use autodiff::io::{self, Error};
use autodiff::nn::{self, TrainingMode};
use autodiff::{Differentiable, Leaf};
use ndarray::{Array1, Array2, Array4};
use rand::{Rng, SeedableRng, rngs::StdRng};

#[derive(Clone, Debug, Differentiable)]
struct Net {
    conv: nn::Conv2d,
    bn: nn::BatchNorm2d,
    layers: Vec<nn::Linear>,
    norm: nn::LayerNorm,
    drop: nn::Dropout,
    #[no_grad]
    label: String,
}

fn net(seed: u64) -> Net {
    let mut rng = StdRng::seed_from_u64(seed);
    Net {
        conv: nn::Conv2d::new(2, 3, 3, 1, 1, &mut rng),
        bn: nn::BatchNorm2d::new(3),
        layers: vec![
            nn::Linear::new(12, 5, &mut rng),
            nn::Linear::new(5, 4, &mut rng),
        ],
        norm: nn::LayerNorm::new(4),
        drop: nn::Dropout::new(0.1),
        label: format!("net {seed}"),
    }
}

fn bits(model: &impl Differentiable) -> Vec<u64> {
    Differentiable::leaves(model)
        .iter()
        .flat_map(|leaf| match leaf {
            Leaf::F32(s) => s.iter().map(|v| v.to_bits() as u64).collect::<Vec<_>>(),
            Leaf::F64(s) => s.iter().map(|v| v.to_bits()).collect(),
        })
        .collect()
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "autodiff-io-{}-{name}.safetensors",
        std::process::id()
    ))
}

#[test]
fn names_follow_field_paths_like_pytorch() {
    let names: Vec<(String, Vec<usize>)> = io::parameter_shapes(&net(0));
    let expected: Vec<(&str, Vec<usize>)> = vec![
        ("conv.weight", vec![3, 2, 3, 3]),
        ("conv.bias", vec![3]),
        ("bn.weight", vec![3]),
        ("bn.bias", vec![3]),
        ("bn.running_mean", vec![3]),
        ("bn.running_var", vec![3]),
        ("layers.0.weight", vec![5, 12]),
        ("layers.0.bias", vec![5]),
        ("layers.1.weight", vec![4, 5]),
        ("layers.1.bias", vec![4]),
        ("norm.weight", vec![4]),
        ("norm.bias", vec![4]),
    ];
    let expected: Vec<(String, Vec<usize>)> = expected
        .into_iter()
        .map(|(n, s)| (n.to_string(), s))
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn round_trip_through_a_file_is_bit_exact() {
    let mut source = net(1);
    // Move the running statistics away from their initial values, and put awkward values in.
    source
        .bn
        .forward(&Array4::from_shape_fn((2, 3, 2, 2), |(n, c, i, j)| {
            (n * 7 + c * 3 + i + j) as f32 * 0.37
        }));
    source.layers[0].bias[0] = -0.0;
    source.layers[0].bias[1] = f32::MIN_POSITIVE / 3.0; // subnormal
    source.layers[0].bias[2] = f32::NAN;
    source.layers[0].bias[3] = f32::INFINITY;
    let path = temp_path("round-trip");
    io::save_safetensors(&source, &path).unwrap();

    let mut target = net(2);
    target.eval();
    assert_ne!(bits(&target), bits(&source));
    io::load_safetensors(&mut target, &path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(bits(&target), bits(&source));
    assert_eq!(target.bn.running_mean(), source.bn.running_mean());
    assert_eq!(target.bn.running_var(), source.bn.running_var());
    // Loading touches parameters and buffers only.
    assert_eq!(target.label, "net 2");
    assert!(!target.drop.is_training());
}

#[test]
fn f64_models_round_trip() {
    #[derive(Clone, Debug, Differentiable)]
    struct Small {
        w: Array2<f64>,
        b: f64,
        v: Vec<f64>,
    }
    let mut rng = StdRng::seed_from_u64(3);
    let mut random = || Small {
        w: Array2::from_shape_fn((3, 2), |_| rng.random::<f64>() - 0.5),
        b: rng.random(),
        v: (0..4).map(|_| rng.random()).collect(),
    };
    let source = random();
    let mut target = random();
    let bytes = io::to_safetensors_bytes(&source).unwrap();
    io::load_safetensors_bytes(&mut target, &bytes).unwrap();
    assert_eq!(bits(&target), bits(&source));
    assert_eq!(
        io::parameter_shapes(&source),
        [
            ("w".to_string(), vec![3, 2]),
            ("b".to_string(), vec![]),
            ("v".to_string(), vec![4])
        ]
    );
}

/// The layout PyTorch's `safetensors.torch.load_file` reads: an 8-byte little-endian
/// header length, a JSON header with dtype, shape and byte offsets per tensor (and
/// `"format": "pt"`), then the row-major little-endian data.
#[test]
fn file_layout_is_safetensors() {
    let mut rng = StdRng::seed_from_u64(4);
    let layer: nn::Linear = nn::Linear::new(3, 2, &mut rng);
    let bytes = io::to_safetensors_bytes(&layer).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    assert_eq!(header["__metadata__"]["format"], "pt");
    assert_eq!(header["weight"]["dtype"], "F32");
    assert_eq!(header["weight"]["shape"], serde_json::json!([2, 3]));
    assert_eq!(header["bias"]["shape"], serde_json::json!([2]));
    let data = &bytes[8 + header_len..];
    let offsets = |name: &str| {
        let o = &header[name]["data_offsets"];
        (
            o[0].as_u64().unwrap() as usize,
            o[1].as_u64().unwrap() as usize,
        )
    };
    let (start, end) = offsets("weight");
    let weight: Vec<f32> = data[start..end]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(weight, layer.weight.iter().copied().collect::<Vec<_>>());
    let (start, end) = offsets("bias");
    assert_eq!(end - start, 2 * 4);
}

#[test]
fn mismatched_names_are_named() {
    let mut rng = StdRng::seed_from_u64(5);
    let bytes = io::to_safetensors_bytes(&vec![nn::Linear::<f32>::new(2, 2, &mut rng)]).unwrap();
    let mut model = vec![
        nn::Linear::<f32>::new(2, 2, &mut rng),
        nn::Linear::new(2, 2, &mut rng),
    ];
    let err = io::load_safetensors_bytes(&mut model, &bytes).unwrap_err();
    let Error::Mismatch(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(m.missing, ["1.weight", "1.bias"]);
    assert!(m.unexpected.is_empty() && m.shapes.is_empty() && m.dtypes.is_empty());
    assert!(
        err.to_string()
            .contains("missing from the file: `1.weight`, `1.bias`"),
        "{err}"
    );

    // The other way round: tensors the model has no parameter for.
    let bytes = io::to_safetensors_bytes(&model).unwrap();
    let mut one = vec![nn::Linear::<f32>::new(2, 2, &mut rng)];
    let err = io::load_safetensors_bytes(&mut one, &bytes).unwrap_err();
    let Error::Mismatch(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(m.unexpected, ["1.bias", "1.weight"]);
    assert!(
        err.to_string()
            .contains("not parameters of the model: `1.bias`, `1.weight`"),
        "{err}"
    );
}

#[test]
fn mismatched_shapes_and_dtypes_are_named_and_nothing_changes() {
    let mut rng = StdRng::seed_from_u64(6);
    let wide: nn::Linear = nn::Linear::new(3, 4, &mut rng);
    let bytes = io::to_safetensors_bytes(&wide).unwrap();
    let mut narrow: nn::Linear = nn::Linear::new(3, 2, &mut rng);
    let before = bits(&narrow);
    let err = io::load_safetensors_bytes(&mut narrow, &bytes).unwrap_err();
    let Error::Mismatch(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(m.shapes.len(), 2);
    assert_eq!(
        (
            m.shapes[0].name.as_str(),
            m.shapes[0].model.clone(),
            m.shapes[0].file.clone()
        ),
        ("weight", vec![2, 3], vec![4, 3])
    );
    assert!(
        err.to_string()
            .contains("`weight` has shape [4, 3] in the file but [2, 3] in the model"),
        "{err}"
    );
    assert_eq!(bits(&narrow), before);

    let double = nn::Linear::<f64>::new(3, 2, &mut rng);
    let bytes = io::to_safetensors_bytes(&double).unwrap();
    let err = io::load_safetensors_bytes(&mut narrow, &bytes).unwrap_err();
    let Error::Mismatch(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(m.dtypes.len(), 2);
    assert!(
        err.to_string()
            .contains("`weight` is F64 in the file but F32 in the model"),
        "{err}"
    );
    assert_eq!(bits(&narrow), before);
}

#[test]
fn bad_files_are_errors() {
    let mut model: nn::Linear = nn::Linear::new(2, 2, &mut StdRng::seed_from_u64(7));
    let err = io::load_safetensors_bytes(&mut model, b"not a safetensors file").unwrap_err();
    assert!(matches!(err, Error::Format(_)), "{err:?}");
    let err = io::load_safetensors(&mut model, temp_path("does-not-exist")).unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
}

/// A hand-written implementation that names two buffers alike.
struct Twice(Vec<f32>);

impl io::NamedParameters for Twice {
    fn visit_parameters(&self, prefix: &mut String, f: &mut dyn FnMut(&str, &[usize], Leaf<'_>)) {
        io::visit_field(&self.0, "w", prefix, f);
        io::visit_field(&self.0, "w", prefix, f);
    }
    fn visit_parameters_mut(
        &mut self,
        prefix: &mut String,
        f: &mut dyn FnMut(&str, &[usize], autodiff::LeafMut<'_>),
    ) {
        io::visit_field_mut(&mut self.0, "w", prefix, f);
    }
}

#[test]
fn duplicate_names_are_refused() {
    let err = io::to_safetensors_bytes(&Twice(vec![1.0, 2.0])).unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateName(name) if name == "w"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("two parameters named `w`"),
        "{err}"
    );
}

#[test]
fn io_is_reachable_for_plain_arrays() {
    let mut a = Array1::<f64>::zeros(3);
    let b = Array1::from(vec![1.0, 2.0, 3.0]);
    io::load_safetensors_bytes(&mut a, &io::to_safetensors_bytes(&b).unwrap()).unwrap();
    assert_eq!(a, b);
}
