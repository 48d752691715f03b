//! ndarray values in differentiable code: operators with broadcasting, methods, calls to
//! `ops`/`nn` and to layer methods, loops that reassign arrays.

use autodiff::ndarray::{Array1, Array2, Array3, ArrayD, ArrayView2, Axis, IxDyn, array, s};
use autodiff::{ArrayExt, Differentiable, check, differentiable, nn, ops};
use rand::{Rng, SeedableRng, rngs::StdRng};

fn rand2(r: usize, c: usize, seed: u64) -> Array2<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((r, c), |_| rng.random_range(-1.0..1.0))
}

fn rand1(n: usize, seed: u64) -> Array1<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array1::from_shape_fn(n, |_| rng.random_range(-1.0..1.0))
}

#[differentiable]
fn broadcasting(a: &Array2<f64>, row: &Array1<f64>, col: &Array2<f64>, k: f64) -> f64 {
    let b = a * row + col;
    let c = (&b - 0.5) * k / (a * a + 1.0);
    let d = -c.exp() + b.sin() * 2.0;
    d.sum() + d.mean().unwrap() * k
}

#[test]
fn operators_broadcast_in_each_direction() {
    let x = (rand2(3, 4, 1), rand1(4, 2), rand2(3, 1, 3), 0.7);
    check::gradient(
        |(a, r, c, k): &(Array2<f64>, Array1<f64>, Array2<f64>, f64)| broadcasting(a, r, c, *k),
        |(a, r, c, k)| broadcasting_grad(a, r, c, *k).1,
        &x,
    )
    .assert();
}

#[differentiable]
fn matrix_methods(a: &Array2<f64>, b: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let p = a.dot(b);
    let q = p.t().dot(v);
    let r = p.sum_axis(Axis(0)) + q * 2.0;
    let m = p.mean_axis(Axis(1)).unwrap();
    let sl = p.slice(s![1.., ..2]).to_owned();
    let row = p.row(0).to_owned();
    r.sum() + m.dot(&m) + sl.sum() * row.sum()
}

#[test]
fn dot_transpose_reductions_and_slices() {
    let x = (rand2(3, 4, 4), rand2(4, 5, 5), rand1(3, 6));
    check::gradient(
        |(a, b, v): &(Array2<f64>, Array2<f64>, Array1<f64>)| matrix_methods(a, b, v),
        |(a, b, v)| matrix_methods_grad(a, b, v).1,
        &x,
    )
    .assert();
}

/// Inputs of `mlp_loss` as one value for `check`.
type MlpParams = (
    Array2<f64>,
    Array2<f64>,
    Array1<f64>,
    Array2<f64>,
    Array1<f64>,
);

#[differentiable]
fn mlp_loss(
    x: &Array2<f64>,
    w1: &Array2<f64>,
    b1: &Array1<f64>,
    w2: &Array2<f64>,
    b2: &Array1<f64>,
    labels: &[usize],
) -> f64 {
    let h = nn::relu(&nn::linear(x, w1, b1));
    let h = nn::leaky_relu(&h, 0.1);
    nn::cross_entropy(&nn::linear(&h, w2, b2), labels)
}

#[test]
fn calls_to_nn_functions() {
    let labels = [0, 2, 1, 2, 0];
    let x = (
        rand2(5, 4, 7),
        rand2(6, 4, 8),
        rand1(6, 9),
        rand2(3, 6, 10),
        rand1(3, 11),
    );
    let (v, _) = mlp_loss_grad(&x.0, &x.1, &x.2, &x.3, &x.4, &labels);
    assert_eq!(v, mlp_loss(&x.0, &x.1, &x.2, &x.3, &x.4, &labels));
    check::gradient(
        |(x, w1, b1, w2, b2): &MlpParams| mlp_loss(x, w1, b1, w2, b2, &labels),
        |(x, w1, b1, w2, b2)| mlp_loss_grad(x, w1, b1, w2, b2, &labels).1,
        &x,
    )
    .assert();
}

#[derive(Differentiable, Clone, Debug)]
struct Mlp {
    l1: nn::Linear<f64>,
    l2: nn::Linear<f64>,
}

impl Mlp {
    #[differentiable]
    fn loss(&self, #[no_grad] x: &Array2<f64>, labels: &[usize]) -> f64 {
        let h = nn::tanh(&self.l1.forward(x));
        nn::cross_entropy(&self.l2.forward(&h), labels)
    }
}

#[test]
fn model_struct_with_layer_calls() {
    let mut rng = StdRng::seed_from_u64(3);
    let model = Mlp {
        l1: nn::Linear::new(4, 5, &mut rng),
        l2: nn::Linear::new(5, 3, &mut rng),
    };
    let x = rand2(6, 4, 12);
    let labels = [0, 1, 2, 2, 1, 0];
    let (loss, grads) = model.loss_grad(&x, &labels);
    assert_eq!(loss, model.loss(&x, &labels));
    assert_eq!(grads.l1.weight.dim(), (5, 4));
    check::gradient(
        |m: &Mlp| m.loss(&x, &labels),
        |m| m.loss_grad(&x, &labels).1,
        &model,
    )
    .assert();
}

#[differentiable]
fn rnn(xs: &Array3<f64>, w: &Array2<f64>, u: &Array2<f64>, h0: &Array2<f64>) -> f64 {
    let mut h = h0.to_owned();
    for t in 0..xs.len_of(Axis(0)) {
        let x = xs.index_axis(Axis(0), t).to_owned();
        h = nn::tanh(&(x.dot(w) + h.dot(u)));
    }
    (&h * &h).sum()
}

#[test]
fn recurrent_loop_reassigning_an_array() {
    let mut rng = StdRng::seed_from_u64(5);
    let xs = Array3::from_shape_fn((4, 2, 3), |_| rng.random_range(-1.0..1.0));
    let x = (rand2(3, 5, 13), rand2(5, 5, 14), rand2(2, 5, 15));
    check::gradient(
        |(w, u, h0): &(Array2<f64>, Array2<f64>, Array2<f64>)| rnn(&xs, w, u, h0),
        |(w, u, h0)| {
            let (_, (_, dw, du, dh0)) = rnn_grad(&xs, w, u, h0);
            (dw, du, dh0)
        },
        &x,
    )
    .assert();
}

#[differentiable]
fn indexing_arrays(a: &Array2<f64>) -> f64 {
    let mut out = Array2::<f64>::zeros((2, 2));
    out[[0, 0]] = a[[0, 1]] * a[[1, 2]];
    out[[1, 1]] += a[[1, 0]].exp();
    out.sum() + ops::sum(&ops::concat(&[&out, &out], 0))
}

#[test]
fn element_reads_and_writes_of_arrays() {
    let a = array![[0.3, -0.4, 1.2], [0.7, 0.1, -0.9]];
    check::gradient(
        |a: &Array2<f64>| indexing_arrays(a),
        |a| indexing_arrays_grad(a).1,
        &a,
    )
    .assert();
}

#[differentiable]
fn array_output(a: &Array2<f64>, v: Array1<f64>) -> Array2<f64> {
    let e = a.exp() + a.sin() * a.cos();
    let r = (a.abs() + 1.0).ln() + (a * a + 0.5).sqrt() + a.powi(3) + a.tanh();
    let c = r.column(1).to_owned().insert_axis(Axis(1));
    &e * &v + c
}

#[test]
fn array_outputs_take_an_array_seed() {
    let x = (rand2(3, 4, 21), rand1(4, 22));
    let seed = rand2(3, 4, 23);
    let (value, pullback) = array_output_vjp(&x.0, x.1.clone());
    assert_eq!(value, array_output(&x.0, x.1.clone()));
    let _ = pullback(seed.clone());
    check::vjp(
        |(a, v): &(Array2<f64>, Array1<f64>)| array_output(a, v.clone()),
        |(a, v), s| array_output_vjp(a, v.clone()).1(s),
        &x,
        &seed,
    )
    .assert();
}

#[differentiable]
fn views_and_dyn(a: ArrayView2<f64>, d: &ArrayD<f64>) -> f64 {
    let r = a.into_shape_with_order((2, 6)).unwrap();
    let m = r.index_axis(Axis(0), 1).to_owned();
    let dd = d * 2.0 + d.sin();
    let s = dd.sum_axis(Axis(2));
    m.sum() * s.sum() + r.clone().mean().expect("non-empty")
}

#[test]
fn views_dynamic_dimension_and_reshapes() {
    let a = rand2(3, 4, 24);
    let mut rng = StdRng::seed_from_u64(25);
    let d = ArrayD::from_shape_fn(IxDyn(&[2, 3, 2]), |_| rng.random_range(-1.0..1.0));
    check::gradient(
        |(a, d): &(Array2<f64>, ArrayD<f64>)| views_and_dyn(a.view(), d),
        |(a, d)| views_and_dyn_grad(a.view(), d).1,
        &(a, d),
    )
    .assert();
}

#[differentiable]
fn three_d(x: &Array3<f64>, w: &Array1<f64>) -> f64 {
    let y = x * w - x.mean_axis(Axis(0)).unwrap();
    let z = y.slice(s![.., 1.., ..]).to_owned();
    (&z * &z).sum() + ops::logsumexp(&y, 2).sum()
}

#[test]
fn three_dimensional_arrays() {
    let mut rng = StdRng::seed_from_u64(26);
    let x = Array3::from_shape_fn((2, 3, 4), |_| rng.random_range(-1.0..1.0));
    check::gradient(
        |(x, w): &(Array3<f64>, Array1<f64>)| three_d(x, w),
        |(x, w)| three_d_grad(x, w).1,
        &(x, rand1(4, 27)),
    )
    .assert();
}

#[differentiable]
fn single_precision(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    let p = a.dot(&b.t());
    (p * 0.5).sum()
}

#[test]
fn f32_arrays() {
    let a = Array2::from_shape_fn((2, 3), |(i, j)| 0.1 * (i + 2 * j) as f32 - 0.2);
    let b = Array2::from_shape_fn((4, 3), |(i, j)| 0.3 - 0.05 * (3 * i + j) as f32);
    let (v, (da, db)) = single_precision_grad(&a, &b);
    assert!((v - single_precision(&a, &b)).abs() < 1e-6);
    // d/da of 0.5 sum(a b^T) = 0.5 * (column sums of b) per row.
    let col = b.sum_axis(Axis(0)) * 0.5;
    for i in 0..2 {
        for j in 0..3 {
            assert!((da[[i, j]] - col[j]).abs() < 1e-6);
        }
    }
    assert_eq!(db.dim(), (4, 3));
}

#[differentiable]
fn loops_over_elements(a: &Array2<f64>) -> f64 {
    let mut s = 0.0;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            s += a[[i, j]] * a[[i, (j + 1) % a.ncols()]];
        }
    }
    s
}

#[test]
fn element_indexing_in_loops() {
    check::gradient(
        |a: &Array2<f64>| loops_over_elements(a),
        |a| loops_over_elements_grad(a).1,
        &rand2(3, 4, 28),
    )
    .assert();
}

#[differentiable]
fn rules_reassigned(x: &Array2<f64>, w: &Array2<f64>, b: &Array1<f64>) -> f64 {
    let mut h = x.to_owned();
    for _ in 0..3 {
        h = nn::relu(&nn::linear(&h, w, b));
        h = nn::relu(&ops::matmul(&h, w)) - &h * 0.5;
    }
    nn::linear_no_bias(&h, w).sum()
}

#[test]
fn rule_calls_in_loops_that_reassign() {
    let x = (rand2(3, 4, 31), rand2(4, 4, 32), rand1(4, 33));
    check::gradient(
        |(x, w, b): &(Array2<f64>, Array2<f64>, Array1<f64>)| rules_reassigned(x, w, b),
        |(x, w, b)| rules_reassigned_grad(x, w, b).1,
        &x,
    )
    .assert();
}
