//! The nn layer structs: PyTorch's initialization, `forward` against closed forms,
//! `forward_vjp` against finite differences (layer and input together), training and
//! evaluation, construction errors, serde.

use autodiff::check::{self, Config};
use autodiff::nn::{self, TrainingMode};
use autodiff::{Differentiable, Tangent};
use ndarray::{Array, Array1, Array2, Array3, Array4, Dimension, ShapeBuilder, array};
use rand::{Rng, SeedableRng, rngs::StdRng};

fn random<Sh: ShapeBuilder>(shape: Sh, rng: &mut StdRng) -> Array<f64, Sh::Dim>
where
    Sh::Dim: Dimension,
{
    Array::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0))
}

/// `(min, max, mean, std)` of the elements.
fn summary<D: Dimension>(a: &Array<f32, D>) -> (f64, f64, f64, f64) {
    let v: Vec<f64> = a.iter().map(|&x| x as f64).collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let std = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt();
    (
        v.iter().copied().fold(f64::MAX, f64::min),
        v.iter().copied().fold(f64::MIN, f64::max),
        mean,
        std,
    )
}

/// Uniform in `[-b, b)` with `b = 1/√fan_in`: the std is `b/√3`.
fn assert_fan_in_uniform<D: Dimension>(a: &Array<f32, D>, fan_in: usize) {
    let bound = 1.0 / (fan_in as f64).sqrt();
    let (min, max, mean, std) = summary(a);
    assert!(
        min >= -bound && max < bound,
        "[{min}, {max}] outside ±{bound}"
    );
    assert!(mean.abs() < 0.1 * bound, "mean {mean}");
    assert!(
        (std - bound / 3f64.sqrt()).abs() < 0.1 * bound,
        "std {std}, expected {}",
        bound / 3f64.sqrt()
    );
}

// ---- Linear ----

#[test]
fn linear_initialization_is_pytorchs() {
    let mut rng = StdRng::seed_from_u64(0);
    let layer: nn::Linear = nn::Linear::new(100, 60, &mut rng);
    assert_eq!((layer.weight.dim(), layer.bias.len()), ((60, 100), 60));
    assert_eq!((layer.in_features(), layer.out_features()), (100, 60));
    assert_fan_in_uniform(&layer.weight, 100);
    let bound = 0.1;
    assert!(layer.bias.iter().all(|&b| (b as f64).abs() <= bound));
}

#[test]
fn linear_forward_is_x_wt_plus_b() {
    let layer = nn::Linear {
        weight: array![[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]],
        bias: array![0.5, 0.0, -1.0],
    };
    let x = array![[1.0_f64, 1.0], [2.0, -1.0]];
    // row 0: [1+2, -1, 3+1] + b;  row 1: [2-2, 1, 6-1] + b
    assert_eq!(layer.forward(&x), array![[3.5, -1.0, 3.0], [0.5, 1.0, 4.0]]);
    assert_eq!(layer.forward_vjp(&x).0, layer.forward(&x));
}

#[test]
fn linear_vjp_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(1);
    let layer = nn::Linear::<f64>::new(5, 3, &mut rng);
    let x = random((4, 5), &mut rng);
    let seed = random((4, 3), &mut rng);
    check::vjp(
        |(l, x): &(nn::Linear<f64>, Array2<f64>)| l.forward(x),
        |(l, x), d_y| l.forward_vjp(x).1(d_y),
        &(layer, x),
        &seed,
    )
    .assert();
}

// ---- Conv2d ----

#[test]
fn conv2d_initialization_is_pytorchs() {
    let mut rng = StdRng::seed_from_u64(2);
    let conv: nn::Conv2d = nn::Conv2d::new(4, 16, 3, 2, 1, &mut rng);
    assert_eq!(conv.weight.dim(), (16, 4, 3, 3));
    assert_eq!(
        (conv.in_channels(), conv.out_channels(), conv.kernel_size()),
        (4, 16, 3)
    );
    assert_eq!((conv.stride, conv.padding), (2, 1));
    assert_fan_in_uniform(&conv.weight, 4 * 9);
    assert!(conv.bias.iter().all(|&b| (b as f64).abs() <= 1.0 / 6.0));
}

#[test]
fn conv2d_forward_closed_form() {
    // One 2x2 kernel of ones over a 3x3 image: sums of 2x2 windows, plus the bias.
    let conv = nn::Conv2d {
        weight: Array4::ones((1, 1, 2, 2)),
        bias: array![10.0],
        stride: 1,
        padding: 0,
    };
    let x = Array4::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect()).unwrap();
    let y = conv.forward(&x);
    assert_eq!(y.into_raw_vec_and_offset().0, vec![22.0, 26.0, 34.0, 38.0]);
}

#[test]
fn conv2d_vjp_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(3);
    let conv = nn::Conv2d::<f64>::new(2, 3, 3, 2, 1, &mut rng);
    let x = random((2, 2, 5, 4), &mut rng);
    let y = conv.forward(&x);
    assert_eq!(y.dim(), (2, 3, 3, 2));
    let seed = random(y.raw_dim(), &mut rng);
    check::vjp(
        |(c, x): &(nn::Conv2d<f64>, Array4<f64>)| c.forward(x),
        |(c, x), d_y| c.forward_vjp(x).1(d_y),
        &(conv, x),
        &seed,
    )
    .assert();
}

// ---- BatchNorm2d ----

#[test]
fn batch_norm_starts_as_pytorch() {
    let bn: nn::BatchNorm2d = nn::BatchNorm2d::new(3);
    assert_eq!(
        (bn.weight.clone(), bn.bias.clone()),
        (Array1::ones(3), Array1::zeros(3))
    );
    assert_eq!(
        (bn.running_mean(), bn.running_var()),
        (Array1::zeros(3), Array1::ones(3))
    );
    assert_eq!((bn.eps, bn.momentum), (1e-5, 0.1));
    assert!(bn.is_training());
}

#[test]
fn batch_norm_updates_running_statistics_while_training() {
    // One channel, values 1..=4: mean 2.5, unbiased variance 5/3.
    let bn = nn::BatchNorm2d::<f64>::new(1).momentum(0.5);
    let x = Array4::from_shape_vec((2, 1, 1, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    bn.forward(&x);
    assert_eq!(bn.running_mean(), array![0.5 * 0.0 + 0.5 * 2.5]);
    assert!((bn.running_var()[0] - (0.5 * 1.0 + 0.5 * 5.0 / 3.0)).abs() < 1e-15);
    let _ = bn.forward_vjp(&x);
    assert_eq!(bn.running_mean(), array![0.5 * 1.25 + 0.5 * 2.5]);
}

#[test]
fn batch_norm_evaluation_uses_running_statistics() {
    let mut bn = nn::BatchNorm2d::<f64>::new(2);
    bn.weight = array![2.0, 1.0];
    bn.bias = array![0.0, 1.0];
    bn.set_running_stats(array![1.0, -1.0], array![4.0, 0.25]);
    bn.eval();
    let x = Array4::from_shape_fn((1, 2, 1, 1), |(_, c, _, _)| [3.0, 0.0][c]);
    let y = bn.forward(&x);
    // (3 - 1)/√(4 + eps) · 2 + 0 ≈ 2;  (0 + 1)/√(0.25 + eps) · 1 + 1 ≈ 3
    assert!(
        (y[[0, 0, 0, 0]] - 2.0).abs() < 1e-5 && (y[[0, 1, 0, 0]] - 3.0).abs() < 1e-4,
        "{y}"
    );
    // Evaluation leaves the running statistics alone.
    assert_eq!(bn.running_mean(), array![1.0, -1.0]);
    assert_eq!(bn.forward_vjp(&x).0, y);
}

#[test]
fn batch_norm_vjp_matches_finite_differences_in_both_modes() {
    let mut rng = StdRng::seed_from_u64(4);
    let mut bn = nn::BatchNorm2d::<f64>::new(3);
    bn.weight = random(3, &mut rng) + 1.5;
    bn.bias = random(3, &mut rng);
    let x = random((3, 3, 2, 3), &mut rng) * 2.0 + 0.5;
    let seed = random(x.raw_dim(), &mut rng);
    let cfg = Config::default().rtol(1e-5).atol(1e-7);
    let f = |(b, x): &(nn::BatchNorm2d<f64>, Array4<f64>)| b.forward(x);
    let vjp = |(b, x): &(nn::BatchNorm2d<f64>, Array4<f64>), d_y| b.forward_vjp(x).1(d_y);
    check::vjp_with(&cfg, f, vjp, &(bn.clone(), x.clone()), &seed).assert();

    bn.set_running_stats(
        random(3, &mut rng),
        random(3, &mut rng).mapv(|v| v.abs() + 0.5),
    );
    bn.eval();
    check::vjp_with(&cfg, f, vjp, &(bn, x), &seed).assert();
}

#[test]
#[should_panic(
    expected = "nn::BatchNorm2d::forward: training needs more than one value per channel"
)]
fn batch_norm_needs_more_than_one_value_per_channel_to_train() {
    nn::BatchNorm2d::<f32>::new(2).forward(&Array4::zeros((1, 2, 1, 1)));
}

#[test]
#[should_panic(
    expected = "nn::BatchNorm2d::forward: x of shape [2, 3, 1, 1] has 3 channels, but the layer has 2"
)]
fn batch_norm_checks_channels() {
    nn::BatchNorm2d::<f32>::new(2).forward(&Array4::zeros((2, 3, 1, 1)));
}

// ---- LayerNorm ----

#[test]
fn layer_norm_starts_as_pytorch_and_normalizes_rows() {
    let norm = nn::LayerNorm::<f64>::new(4);
    assert_eq!(
        (norm.weight.clone(), norm.bias.clone(), norm.eps),
        (Array1::ones(4), Array1::zeros(4), 1e-5)
    );
    let y = norm.forward(&array![[1.0, 2.0, 3.0, 4.0]]);
    // mean 2.5, biased variance 1.25
    let expected = [-1.5, -0.5, 0.5, 1.5].map(|d: f64| d / (1.25_f64 + 1e-5).sqrt());
    for (a, b) in y.iter().zip(expected) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn layer_norm_vjp_matches_finite_differences() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut norm = nn::LayerNorm::<f64>::new(5).eps(1e-3);
    norm.weight = random(5, &mut rng) + 1.0;
    norm.bias = random(5, &mut rng);
    let x: Array3<f64> = random((2, 3, 5), &mut rng);
    let seed = random(x.raw_dim(), &mut rng);
    check::vjp_with(
        &Config::default().rtol(1e-5).atol(1e-7),
        |(n, x): &(nn::LayerNorm<f64>, Array3<f64>)| n.forward(x),
        |(n, x), d_y| n.forward_vjp(x).1(d_y),
        &(norm, x),
        &seed,
    )
    .assert();
}

// ---- Dropout ----

#[test]
fn dropout_trains_with_masks_and_evaluates_as_identity() {
    let mut drop = nn::Dropout::<f64>::new(0.25).seed(9);
    let x = Array2::from_elem((50, 40), 3.0);
    let y = drop.forward(&x);
    let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / 2000.0;
    assert!(
        y.iter().all(|&v| v == 0.0 || v == 4.0),
        "kept elements are scaled by 1/(1 - p)"
    );
    assert!((kept - 0.75).abs() < 0.05, "kept {kept}");
    assert_ne!(drop.forward(&x), y, "every call draws a new mask");
    // The same seed gives the same masks.
    assert_eq!(nn::Dropout::<f64>::new(0.25).seed(9).forward(&x), y);

    drop.eval();
    assert_eq!(drop.forward(&x), x);
    let (y, pullback) = drop.forward_vjp(&x);
    assert_eq!(y, x);
    assert_eq!(pullback(x.clone()).1, x);
}

#[test]
fn dropout_vjp_matches_finite_differences() {
    // A clone replays the original's next mask, which makes the function deterministic.
    let drop = nn::Dropout::<f64>::new(0.5).seed(1);
    let mut rng = StdRng::seed_from_u64(6);
    let x = random((3, 7), &mut rng);
    let seed = random((3, 7), &mut rng);
    let (y, pullback) = drop.clone().forward_vjp(&x);
    assert_eq!(y, drop.clone().forward(&x));
    assert_eq!(pullback(seed.clone()).0.num_elements(), 0);
    check::vjp(
        |x: &Array2<f64>| drop.clone().forward(x),
        |x, d_y| drop.clone().forward_vjp(x).1(d_y).1,
        &x,
        &seed,
    )
    .assert();
}

// ---- all layers ----

#[test]
fn bad_hyper_parameters_panic_naming_layer_and_values() {
    fn message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let err = std::panic::catch_unwind(f).expect_err("should panic");
        match err.downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => err.downcast_ref::<String>().cloned().unwrap_or_default(),
        }
    }
    let rng = StdRng::seed_from_u64(7);
    let mut r = rng.clone();
    let m = message(move || {
        nn::Linear::<f32>::new(0, 3, &mut r);
    });
    assert!(
        m.contains("nn::Linear::new") && m.contains("in_features = 0"),
        "{m}"
    );
    let mut r = rng.clone();
    let m = message(move || {
        nn::Conv2d::<f32>::new(1, 2, 3, 0, 0, &mut r);
    });
    assert!(
        m.contains("nn::Conv2d::new") && m.contains("stride = 0"),
        "{m}"
    );
    let m = message(|| {
        nn::Dropout::<f32>::new(1.0);
    });
    assert!(m.contains("nn::Dropout::new") && m.contains("p = 1"), "{m}");
    let m = message(|| {
        nn::BatchNorm2d::<f32>::new(0);
    });
    assert!(
        m.contains("nn::BatchNorm2d::new") && m.contains("num_features = 0"),
        "{m}"
    );
    let m = message(|| {
        nn::BatchNorm2d::<f32>::new(2).momentum(1.5);
    });
    assert!(m.contains("momentum = 1.5"), "{m}");
    let m = message(|| {
        nn::LayerNorm::<f64>::new(3).eps(-1.0);
    });
    assert!(
        m.contains("nn::LayerNorm::eps") && m.contains("eps = -1"),
        "{m}"
    );
}

#[derive(Clone, Debug, Differentiable)]
struct Cnn {
    conv: nn::Conv2d,
    bn: nn::BatchNorm2d,
    drop: nn::Dropout,
    head: nn::Linear,
}

#[test]
fn a_model_of_layers_switches_mode_as_a_whole() {
    let mut rng = StdRng::seed_from_u64(8);
    let mut model = Cnn {
        conv: nn::Conv2d::new(1, 2, 3, 1, 1, &mut rng),
        bn: nn::BatchNorm2d::new(2),
        drop: nn::Dropout::new(0.5),
        head: nn::Linear::new(8, 2, &mut rng),
    };
    model.eval();
    assert!(!model.bn.is_training() && !model.drop.is_training());
    model.train();
    assert!(model.bn.is_training() && model.drop.is_training());
    let grads = model.zero_tangent();
    assert_eq!(
        (grads.bn.weight.len(), grads.conv.weight.dim()),
        (2, (2, 1, 3, 3))
    );
}

#[test]
fn layers_and_tangents_serialize() {
    let mut rng = StdRng::seed_from_u64(10);
    let layer: nn::Linear = nn::Linear::new(3, 2, &mut rng);
    let back: nn::Linear = serde_json::from_str(&serde_json::to_string(&layer).unwrap()).unwrap();
    assert_eq!(
        (back.weight, back.bias),
        (layer.weight.clone(), layer.bias.clone())
    );

    let bn = nn::BatchNorm2d::<f64>::new(2).momentum(0.3);
    bn.forward(&Array4::from_shape_fn((2, 2, 2, 2), |(a, b, c, d)| {
        (a + 2 * b + c * d) as f64
    }));
    let back: nn::BatchNorm2d<f64> =
        serde_json::from_str(&serde_json::to_string(&bn).unwrap()).unwrap();
    assert_eq!(
        (back.running_mean(), back.running_var(), back.momentum),
        (bn.running_mean(), bn.running_var(), 0.3)
    );

    let drop = nn::Dropout::<f32>::new(0.2).seed(5);
    let back: nn::Dropout = serde_json::from_str(&serde_json::to_string(&drop).unwrap()).unwrap();
    let x = Array2::ones((4, 4));
    assert_eq!(back.forward(&x), drop.forward(&x));

    let grads = nn::Conv2d::<f32>::new(1, 1, 1, 1, 0, &mut rng).zero_tangent();
    let back: nn::Conv2dTangent =
        serde_json::from_str(&serde_json::to_string(&grads).unwrap()).unwrap();
    assert_eq!(back.weight, grads.weight);
    let _: nn::LayerNorm =
        serde_json::from_str(&serde_json::to_string(&nn::LayerNorm::<f32>::new(2)).unwrap())
            .unwrap();
}

#[test]
fn layers_are_clone_and_debug() {
    let bn = nn::BatchNorm2d::<f32>::new(1);
    let text = format!("{:?}", bn.clone());
    assert!(
        text.starts_with("BatchNorm2d { weight: [1.0]") && text.contains("running_var: [1.0]"),
        "{text}"
    );
    let text = format!("{:?}", nn::Dropout::<f32>::new(0.5).clone());
    assert_eq!(text, "Dropout { p: 0.5, training: true, .. }");
    let text = format!("{:?}", nn::LayerNorm::<f64>::new(1).zero_tangent());
    assert!(
        text.starts_with("LayerNormTangent { weight: [0.0]"),
        "{text}"
    );
}
