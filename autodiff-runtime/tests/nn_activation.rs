//! Activations of `autodiff_runtime::nn`: pullbacks against finite differences, closed
//! forms, kink conventions, and stability for inputs of magnitude 1e4.

mod nn_common;

use autodiff_runtime::{check, nn};
use ndarray::{Array, Array1, Array2, Array3, Array4, ArrayD, Axis, IxDyn, array};
use nn_common::*;

/// Checks the pullback of an elementwise activation on a (3, 4, 5) input away from 0.
fn check_elementwise<V, P>(seed: u64, f: fn(&Array3<f64>) -> Array3<f64>, vjp: V)
where
    V: Fn(&Array3<f64>) -> (Array3<f64>, P),
    P: FnOnce(Array3<f64>) -> Array3<f64>,
{
    let mut rng = rng(seed);
    let x: Array3<f64> = away_from_zero(&mut rng, (3, 4, 5));
    let (y, _) = vjp(&x);
    assert_eq!(y, f(&x), "the vjp's value is the function's");
    let s = seed_like(&mut rng, &y);
    check::vjp(f, |x, s| vjp(x).1(s), &x, &s).assert();
}

#[test]
fn relu_pullback() {
    check_elementwise(1, nn::relu, nn::relu_vjp);
}

#[test]
fn sigmoid_pullback() {
    check_elementwise(2, nn::sigmoid, nn::sigmoid_vjp);
}

#[test]
fn tanh_pullback() {
    check_elementwise(3, nn::tanh, nn::tanh_vjp);
}

#[test]
fn gelu_pullback() {
    check_elementwise(4, nn::gelu, nn::gelu_vjp);
}

#[test]
fn swish_pullback() {
    check_elementwise(5, nn::swish, nn::swish_vjp);
}

#[test]
fn mish_pullback() {
    check_elementwise(6, nn::mish, nn::mish_vjp);
}

#[test]
fn softplus_pullback() {
    check_elementwise(7, nn::softplus, nn::softplus_vjp);
}

#[test]
fn leaky_relu_pullback() {
    let mut rng = rng(8);
    let x: Array2<f64> = away_from_zero(&mut rng, (6, 7));
    let s = seed_like(&mut rng, &x);
    check::vjp(
        |x| nn::leaky_relu(x, 0.1),
        |x, s| nn::leaky_relu_vjp(x, 0.1).1(s),
        &x,
        &s,
    )
    .assert();
}

#[test]
fn elu_pullback() {
    let mut rng = rng(9);
    let x: Array2<f64> = away_from_zero(&mut rng, (6, 7));
    let s = seed_like(&mut rng, &x);
    check::vjp(|x| nn::elu(x, 1.3), |x, s| nn::elu_vjp(x, 1.3).1(s), &x, &s).assert();
}

#[test]
fn prelu_pullback_per_channel() {
    let mut rng = rng(10);
    let x: Array4<f64> = away_from_zero(&mut rng, (2, 3, 4, 5));
    let alpha: Array1<f64> = uniform(&mut rng, 3, 0.05, 0.5);
    let s = seed_like(&mut rng, &x);
    check::vjp(
        |(x, a): &(Array4<f64>, Array1<f64>)| nn::prelu(x, a),
        |(x, a), s| nn::prelu_vjp(x, a).1(s),
        &(x, alpha),
        &s,
    )
    .assert();
}

#[test]
fn prelu_pullback_shared_alpha() {
    let mut rng = rng(11);
    let x: Array2<f64> = away_from_zero(&mut rng, (5, 3));
    let s = seed_like(&mut rng, &x);
    check::vjp(
        |(x, a): &(Array2<f64>, Array1<f64>)| nn::prelu(x, a),
        |(x, a), s| nn::prelu_vjp(x, a).1(s),
        &(x, array![0.2]),
        &s,
    )
    .assert();
    // A 1-D input has no channel axis: one shared alpha.
    let x: Array1<f64> = away_from_zero(&mut rng, 9);
    let s = seed_like(&mut rng, &x);
    check::vjp(
        |(x, a): &(Array1<f64>, Array1<f64>)| nn::prelu(x, a),
        |(x, a), s| nn::prelu_vjp(x, a).1(s),
        &(x, array![0.3]),
        &s,
    )
    .assert();
}

#[test]
fn prelu_matches_leaky_relu_per_channel() {
    let mut rng = rng(12);
    let x: Array3<f64> = away_from_zero(&mut rng, (2, 3, 4));
    let alpha = array![0.1, 0.2, 0.3];
    let y = nn::prelu(&x, &alpha);
    for c in 0..3 {
        let xc = x.index_axis(Axis(1), c).to_owned();
        assert_eq!(y.index_axis(Axis(1), c), nn::leaky_relu(&xc, alpha[c]));
    }
}

#[test]
#[should_panic(expected = "nn::prelu: alpha has 2 elements but x of shape [4, 3] has 3 channels")]
fn prelu_rejects_alpha_of_wrong_length() {
    nn::prelu(&Array2::<f64>::zeros((4, 3)), &array![0.1, 0.2]);
}

#[test]
fn any_dimension() {
    let mut rng = rng(13);
    let x: ArrayD<f64> = away_from_zero(&mut rng, IxDyn(&[2, 3, 2, 2, 3]));
    let s = seed_like(&mut rng, &x);
    check::vjp(nn::gelu, |x, s| nn::gelu_vjp(x).1(s), &x, &s).assert();
    check::vjp(
        |(x, a): &(ArrayD<f64>, Array1<f64>)| nn::prelu(x, a),
        |(x, a), s| nn::prelu_vjp(x, a).1(s),
        &(x, array![0.1, 0.2, 0.3]),
        &s,
    )
    .assert();
}

// ---- kinks and closed forms ----

#[test]
fn kinks_at_zero() {
    let zero = array![0.0_f64];
    // relu'(0) = 0
    assert_eq!(nn::relu_vjp(&zero).1(array![1.0]), array![0.0]);
    // leaky_relu'(0) = slope, elu'(0) = alpha, prelu'(0) = alpha
    assert_eq!(nn::leaky_relu_vjp(&zero, 0.1).1(array![1.0]), array![0.1]);
    assert_eq!(nn::elu_vjp(&zero, 1.5).1(array![1.0]), array![1.5]);
    assert_eq!(
        nn::prelu_vjp(&zero, &array![0.25]).1(array![1.0]),
        (array![0.25], array![0.0])
    );
}

#[test]
fn closed_forms() {
    let x = array![-1.0_f64, 0.0, 1.0];
    // PyTorch: gelu(±1) = ±0.8413447460685429 - (0 or 1)
    let g = nn::gelu(&x);
    assert!((g[0] + 0.158_655_253_931_457_05).abs() < 1e-15, "{g}");
    assert!((g[2] - 0.841_344_746_068_542_9).abs() < 1e-15, "{g}");
    assert_eq!(nn::sigmoid(&x)[1], 0.5);
    assert!((nn::sigmoid(&x)[2] - 1.0 / (1.0 + (-1.0_f64).exp())).abs() < 1e-16);
    assert!((nn::softplus(&x)[1] - 2.0_f64.ln()).abs() < 1e-16);
    assert!((nn::swish(&x)[2] - nn::sigmoid(&x)[2]).abs() < 1e-16);
    assert!((nn::mish(&x)[2] - (1.0 + 1.0_f64.exp()).ln().tanh()).abs() < 1e-16);
    assert!((nn::elu(&x, 2.0)[0] - 2.0 * ((-1.0_f64).exp() - 1.0)).abs() < 1e-16);
}

/// An activation on matrices.
type Activation<A> = fn(&Array2<A>) -> Array2<A>;

#[test]
fn single_precision_agrees_with_double() {
    let mut rng = rng(14);
    let x: Array2<f64> = away_from_zero(&mut rng, (4, 5));
    let xf = x.mapv(|v| v as f32);
    let fs: [(Activation<f64>, Activation<f32>); 7] = [
        (nn::relu, nn::relu),
        (nn::sigmoid, nn::sigmoid),
        (nn::tanh, nn::tanh),
        (nn::gelu, nn::gelu),
        (nn::swish, nn::swish),
        (nn::mish, nn::mish),
        (nn::softplus, nn::softplus),
    ];
    for (f64_fn, f32_fn) in fs {
        let (a, b) = (f64_fn(&x), f32_fn(&xf));
        for (u, v) in a.iter().zip(&b) {
            assert!((u - *v as f64).abs() < 1e-6, "{u} vs {v}");
        }
    }
    let (_, pullback) = nn::gelu_vjp(&xf);
    assert!(pullback(Array2::ones((4, 5))).iter().all(|v| v.is_finite()));
}

// ---- softmax and log_softmax (from ops) ----

#[test]
fn softmax_pullback() {
    let mut rng = rng(15);
    let x: Array2<f64> = uniform(&mut rng, (4, 6), -3.0, 3.0);
    let s = seed_like(&mut rng, &x);
    for axis in 0..2 {
        check::vjp(
            |x| nn::softmax(x, axis),
            |x, s| nn::softmax_vjp(x, axis).1(s),
            &x,
            &s,
        )
        .assert();
        check::vjp(
            |x| nn::log_softmax(x, axis),
            |x, s| nn::log_softmax_vjp(x, axis).1(s),
            &x,
            &s,
        )
        .assert();
    }
}

#[test]
fn softmax_rows_sum_to_one() {
    let mut rng = rng(16);
    let x: Array2<f64> = uniform(&mut rng, (5, 7), -5.0, 5.0);
    let p = nn::softmax(&x, 1);
    assert!(p.iter().all(|&v| v > 0.0));
    for total in p.sum_axis(Axis(1)) {
        assert!((total - 1.0).abs() < 1e-15);
    }
    // log_softmax is ln(softmax)
    let lp = nn::log_softmax(&x, 1);
    for (a, b) in lp.iter().zip(p.iter()) {
        assert!((a - b.ln()).abs() < 1e-14);
    }
}

// ---- stability ----

/// Logits of magnitude 1e4, in both signs, within rows and across them.
fn huge_logits() -> Array2<f64> {
    array![
        [1e4, 0.0, -1e4],
        [-1e4, -1e4 + 1.0, -1e4 + 2.0],
        [1e4, 1e4, 1e4 - 3.0]
    ]
}

#[test]
fn softmax_is_stable_for_huge_logits() {
    let z = huge_logits();
    for axis in 0..2 {
        let (p, pullback) = nn::softmax_vjp(&z, axis);
        assert!(p.iter().all(|v| v.is_finite()), "{p}");
        assert!(
            pullback(Array2::ones(z.raw_dim()))
                .iter()
                .all(|v| v.is_finite())
        );
        let (lp, pullback) = nn::log_softmax_vjp(&z, axis);
        assert!(lp.iter().all(|v| v.is_finite()), "{lp}");
        assert!(
            pullback(Array2::ones(z.raw_dim()))
                .iter()
                .all(|v| v.is_finite())
        );
    }
    let p = nn::softmax(&z, 1);
    assert_eq!(p.row(0), array![1.0, 0.0, 0.0]);
    let lp = nn::log_softmax(&z, 1);
    assert_eq!(lp[[0, 1]], -1e4);
    assert!((lp[[1, 2]] - -(1.0 + (-1.0_f64).exp() + (-2.0_f64).exp()).ln()).abs() < 1e-12);
    // single precision too
    let zf = z.mapv(|v| v as f32);
    assert!(nn::softmax(&zf, 1).iter().all(|v| v.is_finite()));
    assert!(nn::log_softmax(&zf, 1).iter().all(|v| v.is_finite()));
}

#[test]
fn logsumexp_is_stable_for_huge_logits() {
    let z = huge_logits();
    let l = autodiff_runtime::ops::logsumexp(&z, 1);
    assert_eq!(l[0], 1e4);
    assert!((l[1] - (-1e4 + 2.0 + (1.0 + (-1.0_f64).exp() + (-2.0_f64).exp()).ln())).abs() < 1e-9);
    let (_, pullback) = autodiff_runtime::ops::logsumexp_vjp(&z, 1);
    let d = pullback(Array1::ones(3));
    assert!(d.iter().all(|v| v.is_finite()), "{d}");
    for total in d.sum_axis(Axis(1)) {
        assert!((total - 1.0).abs() < 1e-12);
    }
}

/// An activation's value and its pullback of ones.
type ValueAndSlope = fn(&Array1<f64>) -> (Array1<f64>, Array1<f64>);

#[test]
fn elementwise_activations_are_stable_for_huge_inputs() {
    let x = array![1e4_f64, -1e4, 7e2, -7e2];
    let fs: [ValueAndSlope; 7] = [
        |x| {
            let (y, p) = nn::relu_vjp(x);
            (y, p(Array::ones(4)))
        },
        |x| {
            let (y, p) = nn::sigmoid_vjp(x);
            (y, p(Array::ones(4)))
        },
        |x| {
            let (y, p) = nn::tanh_vjp(x);
            (y, p(Array::ones(4)))
        },
        |x| {
            let (y, p) = nn::gelu_vjp(x);
            (y, p(Array::ones(4)))
        },
        |x| {
            let (y, p) = nn::swish_vjp(x);
            (y, p(Array::ones(4)))
        },
        |x| {
            let (y, p) = nn::mish_vjp(x);
            (y, p(Array::ones(4)))
        },
        |x| {
            let (y, p) = nn::softplus_vjp(x);
            (y, p(Array::ones(4)))
        },
    ];
    for f in fs {
        let (y, d) = f(&x);
        assert!(y.iter().chain(&d).all(|v| v.is_finite()), "{y} {d}");
        // Far right every one of these is the identity (relu, gelu, swish, mish, softplus)
        // or saturates at 1 (sigmoid, tanh), with slope 1 or 0.
        assert!(y[0] == 1e4 || y[0] == 1.0, "{y}");
        assert!(d[0] == 1.0 || d[0] == 0.0, "{d}");
    }
    let (y, p) = nn::elu_vjp(&x, 1.0);
    assert_eq!(y[1], -1.0);
    assert_eq!(p(Array::ones(4))[1], 0.0);
}
