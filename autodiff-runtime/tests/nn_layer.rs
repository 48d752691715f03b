//! Layers of `autodiff_runtime::nn` (linear, conv2d, pooling, normalization, dropout):
//! pullbacks against finite differences, forward passes against naive references, and the
//! panics on bad shapes.

mod nn_common;

use autodiff_runtime::{check, nn};
use ndarray::{Array1, Array2, Array3, Array4, ArrayD, Axis, IxDyn, array, s};
use nn_common::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

// ---- linear ----

#[test]
fn linear_pullback() {
    let mut rng = rng(100);
    let x: Array2<f64> = uniform(&mut rng, (5, 3), -1.0, 1.0);
    let w: Array2<f64> = uniform(&mut rng, (4, 3), -1.0, 1.0);
    let b: Array1<f64> = uniform(&mut rng, 4, -1.0, 1.0);
    let (y, _) = nn::linear_vjp(&x, &w, &b);
    assert_eq!(y, nn::linear(&x, &w, &b));
    let s = seed_like(&mut rng, &y);
    check::vjp(
        |(x, w, b): &(Array2<f64>, Array2<f64>, Array1<f64>)| nn::linear(x, w, b),
        |(x, w, b), s| nn::linear_vjp(x, w, b).1(s),
        &(x, w, b),
        &s,
    )
    .assert();
}

#[test]
fn linear_no_bias_pullback() {
    let mut rng = rng(101);
    let x: Array2<f64> = uniform(&mut rng, (2, 7), -1.0, 1.0);
    let w: Array2<f64> = uniform(&mut rng, (3, 7), -1.0, 1.0);
    let s = seed_like(&mut rng, &nn::linear_no_bias(&x, &w));
    check::vjp(
        |(x, w): &(Array2<f64>, Array2<f64>)| nn::linear_no_bias(x, w),
        |(x, w), s| nn::linear_no_bias_vjp(x, w).1(s),
        &(x, w),
        &s,
    )
    .assert();
}

#[test]
fn linear_is_x_w_transpose_plus_b() {
    let mut rng = rng(102);
    let x: Array2<f64> = uniform(&mut rng, (6, 5), -1.0, 1.0);
    let w: Array2<f64> = uniform(&mut rng, (3, 5), -1.0, 1.0);
    let b: Array1<f64> = uniform(&mut rng, 3, -1.0, 1.0);
    let expected = x.dot(&w.t()) + &b;
    let y = nn::linear(&x, &w, &b);
    for (u, v) in y.iter().zip(&expected) {
        assert!((u - v).abs() < 1e-14);
    }
    // Non-standard layouts are read correctly.
    let xt = x.t().to_owned().reversed_axes();
    assert_eq!(nn::linear(&xt, &w, &b), y);
}

#[test]
#[should_panic(
    expected = "nn::linear: x of shape [2, 4] has 4 features but w of shape [3, 5] expects 5"
)]
fn linear_rejects_feature_mismatch() {
    nn::linear(
        &Array2::<f64>::zeros((2, 4)),
        &Array2::zeros((3, 5)),
        &Array1::zeros(3),
    );
}

#[test]
#[should_panic(expected = "nn::linear: b has 2 elements but w of shape [3, 5] has 3 outputs")]
fn linear_rejects_bias_mismatch() {
    nn::linear(
        &Array2::<f64>::zeros((2, 5)),
        &Array2::zeros((3, 5)),
        &Array1::zeros(2),
    );
}

// ---- conv2d ----

/// Direct convolution by the definition, for reference.
fn naive_conv(
    x: &Array4<f64>,
    w: &Array4<f64>,
    b: Option<&Array1<f64>>,
    stride: usize,
    padding: usize,
) -> Array4<f64> {
    let (n, c, h, wd) = x.dim();
    let (o, _, kh, kw) = w.dim();
    let ho = (h + 2 * padding - kh) / stride + 1;
    let wo = (wd + 2 * padding - kw) / stride + 1;
    let mut y = Array4::zeros((n, o, ho, wo));
    for ((ni, oi, i, j), v) in y.indexed_iter_mut() {
        let mut acc = b.map_or(0.0, |b| b[oi]);
        for ci in 0..c {
            for p in 0..kh {
                for q in 0..kw {
                    let (ih, iw) = (
                        (i * stride + p) as isize - padding as isize,
                        (j * stride + q) as isize - padding as isize,
                    );
                    if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < wd {
                        acc += w[[oi, ci, p, q]] * x[[ni, ci, ih as usize, iw as usize]];
                    }
                }
            }
        }
        *v = acc;
    }
    y
}

fn assert_close(a: &Array4<f64>, b: &Array4<f64>) {
    assert_eq!(a.shape(), b.shape());
    for (u, v) in a.iter().zip(b) {
        assert!((u - v).abs() < 1e-12, "{u} vs {v}");
    }
}

#[test]
fn conv2d_matches_the_definition() {
    let mut rng = rng(110);
    for (shape, kernel, stride, padding) in [
        ((2, 3, 7, 5), (4, 3, 3, 3), 2, 1),
        ((1, 2, 6, 9), (3, 2, 2, 3), 1, 0),
        ((3, 1, 5, 5), (2, 1, 5, 5), 3, 2),
        ((2, 2, 4, 3), (1, 2, 1, 1), 2, 0),
    ] {
        let x: Array4<f64> = uniform(&mut rng, shape, -1.0, 1.0);
        let w: Array4<f64> = uniform(&mut rng, kernel, -1.0, 1.0);
        let b: Array1<f64> = uniform(&mut rng, kernel.0, -1.0, 1.0);
        assert_close(
            &nn::conv2d(&x, &w, &b, stride, padding),
            &naive_conv(&x, &w, Some(&b), stride, padding),
        );
        assert_close(
            &nn::conv2d_no_bias(&x, &w, stride, padding),
            &naive_conv(&x, &w, None, stride, padding),
        );
    }
}

#[test]
fn conv2d_pullback_stride_2_padding_1() {
    let mut rng = rng(111);
    let x: Array4<f64> = uniform(&mut rng, (2, 3, 7, 5), -1.0, 1.0);
    let w: Array4<f64> = uniform(&mut rng, (4, 3, 3, 3), -1.0, 1.0);
    let b: Array1<f64> = uniform(&mut rng, 4, -1.0, 1.0);
    let (y, _) = nn::conv2d_vjp(&x, &w, &b, 2, 1);
    assert_eq!(y.shape(), &[2, 4, 4, 3]);
    assert_eq!(y, nn::conv2d(&x, &w, &b, 2, 1));
    let s = seed_like(&mut rng, &y);
    check::vjp(
        |(x, w, b): &(Array4<f64>, Array4<f64>, Array1<f64>)| nn::conv2d(x, w, b, 2, 1),
        |(x, w, b), s| nn::conv2d_vjp(x, w, b, 2, 1).1(s),
        &(x, w, b),
        &s,
    )
    .assert();
}

#[test]
fn conv2d_pullback_rectangular_kernel() {
    let mut rng = rng(112);
    let x: Array4<f64> = uniform(&mut rng, (1, 2, 6, 7), -1.0, 1.0);
    let w: Array4<f64> = uniform(&mut rng, (3, 2, 2, 3), -1.0, 1.0);
    let b: Array1<f64> = uniform(&mut rng, 3, -1.0, 1.0);
    let s = seed_like(&mut rng, &nn::conv2d(&x, &w, &b, 1, 0));
    check::vjp(
        |(x, w, b): &(Array4<f64>, Array4<f64>, Array1<f64>)| nn::conv2d(x, w, b, 1, 0),
        |(x, w, b), s| nn::conv2d_vjp(x, w, b, 1, 0).1(s),
        &(x, w, b),
        &s,
    )
    .assert();
}

#[test]
fn conv2d_no_bias_pullback() {
    let mut rng = rng(113);
    let x: Array4<f64> = uniform(&mut rng, (2, 2, 5, 6), -1.0, 1.0);
    let w: Array4<f64> = uniform(&mut rng, (3, 2, 3, 2), -1.0, 1.0);
    let s = seed_like(&mut rng, &nn::conv2d_no_bias(&x, &w, 2, 1));
    check::vjp(
        |(x, w): &(Array4<f64>, Array4<f64>)| nn::conv2d_no_bias(x, w, 2, 1),
        |(x, w), s| nn::conv2d_no_bias_vjp(x, w, 2, 1).1(s),
        &(x, w),
        &s,
    )
    .assert();
}

/// The adjoint of [`naive_conv`] by the definition: `(d_x, d_w, d_b)`.
fn naive_conv_adjoint(
    x: &Array4<f64>,
    w: &Array4<f64>,
    d_y: &Array4<f64>,
    stride: usize,
    padding: usize,
) -> (Array4<f64>, Array4<f64>, Array1<f64>) {
    let (_, c, h, wd) = x.dim();
    let (_, _, kh, kw) = w.dim();
    let mut d_x = Array4::zeros(x.raw_dim());
    let mut d_w = Array4::zeros(w.raw_dim());
    let mut d_b = Array1::zeros(w.dim().0);
    for ((ni, oi, i, j), &g) in d_y.indexed_iter() {
        d_b[oi] += g;
        for ci in 0..c {
            for p in 0..kh {
                for q in 0..kw {
                    let (ih, iw) = (
                        (i * stride + p) as isize - padding as isize,
                        (j * stride + q) as isize - padding as isize,
                    );
                    if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < wd {
                        let (ih, iw) = (ih as usize, iw as usize);
                        d_x[[ni, ci, ih, iw]] += w[[oi, ci, p, q]] * g;
                        d_w[[oi, ci, p, q]] += x[[ni, ci, ih, iw]] * g;
                    }
                }
            }
        }
    }
    (d_x, d_w, d_b)
}

/// Forward and pullback against the definition over many geometries: stride 1 with an
/// output as wide as the input (the span path of im2col / col2im: "same" padding, 1 x 1,
/// kernels taller or shorter than wide, planes smaller than a block), wider or narrower
/// outputs, strides 2 and 3, and non-standard layouts of every argument.
#[test]
fn conv2d_forward_and_pullback_match_the_definition_across_geometries() {
    let mut rng = rng(114);
    for (shape, kernel, stride, padding) in [
        ((2, 3, 9, 8), (4, 3, 3, 3), 1, 1),
        ((1, 2, 11, 13), (3, 2, 5, 5), 1, 2),
        ((2, 2, 6, 7), (2, 2, 1, 1), 1, 0),
        ((1, 2, 5, 6), (2, 2, 1, 3), 1, 1),
        ((1, 2, 5, 6), (2, 2, 5, 3), 1, 1),
        ((2, 1, 2, 3), (2, 1, 3, 3), 1, 1),
        ((1, 1, 1, 1), (1, 1, 3, 3), 1, 1),
        ((1, 3, 4, 40), (2, 3, 3, 3), 1, 1),
        ((2, 2, 6, 5), (3, 2, 3, 3), 1, 2),
        ((2, 2, 7, 6), (3, 2, 3, 3), 1, 0),
        ((1, 2, 8, 9), (2, 2, 3, 3), 2, 1),
        ((2, 1, 10, 7), (2, 1, 4, 2), 3, 2),
        ((1, 2, 3, 3), (1, 2, 3, 3), 1, 4),
    ] {
        let x: Array4<f64> = uniform(&mut rng, shape, -1.0, 1.0);
        let w: Array4<f64> = uniform(&mut rng, kernel, -1.0, 1.0);
        let b: Array1<f64> = uniform(&mut rng, kernel.0, -1.0, 1.0);
        let want = naive_conv(&x, &w, Some(&b), stride, padding);
        let d_y = seed_like(&mut rng, &want);
        let (want_dx, want_dw, want_db) = naive_conv_adjoint(&x, &w, &d_y, stride, padding);
        let what = format!("x {shape:?}, w {kernel:?}, stride {stride}, padding {padding}");
        let (y, pullback) = nn::conv2d_vjp(&x, &w, &b, stride, padding);
        assert_close(&y, &want);
        let (d_x, d_w, d_b) = pullback(d_y.clone());
        assert_close(&d_x, &want_dx);
        assert_close(&d_w, &want_dw);
        for (u, v) in d_b.iter().zip(&want_db) {
            assert!((u - v).abs() < 1e-12, "{what}: d_b {u} vs {v}");
        }
        let (y, pullback) = nn::conv2d_no_bias_vjp(&x, &w, stride, padding);
        assert_close(&y, &naive_conv(&x, &w, None, stride, padding));
        let (d_x, d_w) = pullback(d_y.clone());
        assert_close(&d_x, &want_dx);
        assert_close(&d_w, &want_dw);
        // Column-major copies of every argument, and of the seed.
        let f = |a: &Array4<f64>| a.t().as_standard_layout().into_owned().reversed_axes();
        let (y, pullback) = nn::conv2d_vjp(&f(&x), &f(&w), &b, stride, padding);
        assert_close(&y, &want);
        let (d_x, d_w, _) = pullback(f(&d_y));
        assert_close(&d_x, &want_dx);
        assert_close(&d_w, &want_dw);
    }
}

/// The span path in f32 at the benchmark's geometry (batch cut to 3), against the f64
/// definition.
#[test]
fn conv2d_f32_same_padding_matches_the_definition() {
    let mut rng = rng(115);
    let x: Array4<f64> = uniform(&mut rng, (3, 16, 28, 28), -1.0, 1.0);
    let w: Array4<f64> = uniform(&mut rng, (32, 16, 3, 3), -0.1, 0.1);
    let b: Array1<f64> = uniform(&mut rng, 32, -0.1, 0.1);
    let want = naive_conv(&x, &w, Some(&b), 1, 1);
    let d_y = seed_like(&mut rng, &want);
    let (want_dx, want_dw, want_db) = naive_conv_adjoint(&x, &w, &d_y, 1, 1);
    let f = |a: &Array4<f64>| a.mapv(|v| v as f32);
    let (y, pullback) = nn::conv2d_vjp(&f(&x), &f(&w), &b.mapv(|v| v as f32), 1, 1);
    let (d_x, d_w, d_b) = pullback(f(&d_y));
    let close = |got: f32, want: f64, scale: f64| (f64::from(got) - want).abs() <= 1e-5 * scale;
    assert!(y.iter().zip(&want).all(|(&u, &v)| close(u, v, 4.0)));
    assert!(d_x.iter().zip(&want_dx).all(|(&u, &v)| close(u, v, 4.0)));
    assert!(d_w.iter().zip(&want_dw).all(|(&u, &v)| close(u, v, 100.0)));
    assert!(d_b.iter().zip(&want_db).all(|(&u, &v)| close(u, v, 100.0)));
}

#[test]
#[should_panic(expected = "nn::conv2d: stride must be positive, got 0")]
fn conv2d_rejects_zero_stride() {
    nn::conv2d(
        &Array4::<f64>::zeros((1, 1, 3, 3)),
        &Array4::zeros((1, 1, 2, 2)),
        &Array1::zeros(1),
        0,
        0,
    );
}

#[test]
#[should_panic(
    expected = "nn::conv2d: kernel 4x4 does not fit the padded input 3x5 (x of shape [1, 1, 3, 5], padding 0)"
)]
fn conv2d_rejects_kernel_larger_than_input() {
    nn::conv2d(
        &Array4::<f64>::zeros((1, 1, 3, 5)),
        &Array4::zeros((1, 1, 4, 4)),
        &Array1::zeros(1),
        1,
        0,
    );
}

#[test]
#[should_panic(
    expected = "nn::conv2d_no_bias: x of shape [1, 3, 4, 4] has 3 channels but w of shape [2, 2, 3, 3] expects 2"
)]
fn conv2d_rejects_channel_mismatch() {
    nn::conv2d_no_bias(
        &Array4::<f64>::zeros((1, 3, 4, 4)),
        &Array4::zeros((2, 2, 3, 3)),
        1,
        1,
    );
}

#[test]
#[should_panic(
    expected = "nn::conv2d: b has 3 elements but w of shape [2, 1, 1, 1] has 2 output channels"
)]
fn conv2d_rejects_bias_mismatch() {
    nn::conv2d(
        &Array4::<f64>::zeros((1, 1, 2, 2)),
        &Array4::zeros((2, 1, 1, 1)),
        &Array1::zeros(3),
        1,
        0,
    );
}

#[test]
fn conv2d_padding_lets_a_kernel_exceed_the_input() {
    // 4x4 kernel, 3x3 input, padding 1, stride 2: one output, (5 - 4) / 2 + 1 = 1
    let y = nn::conv2d_no_bias(
        &Array4::<f64>::ones((1, 1, 3, 3)),
        &Array4::ones((1, 1, 4, 4)),
        2,
        1,
    );
    assert_eq!(y.shape(), &[1, 1, 1, 1]);
    assert_eq!(y[[0, 0, 0, 0]], 9.0);
}

// ---- pooling ----

#[test]
fn max_pool2d_pullback() {
    let mut rng = rng(120);
    // stride 2 < kernel 3 (overlapping windows), then stride 3 > kernel 2 (gaps)
    for (kernel, stride) in [(3, 2), (2, 3)] {
        let x: Array4<f64> = uniform(&mut rng, (2, 3, 7, 9), -1.0, 1.0);
        let (y, _) = nn::max_pool2d_vjp(&x, kernel, stride);
        assert_eq!(y, nn::max_pool2d(&x, kernel, stride));
        let s = seed_like(&mut rng, &y);
        check::vjp(
            |x| nn::max_pool2d(x, kernel, stride),
            |x, s| nn::max_pool2d_vjp(x, kernel, stride).1(s),
            &x,
            &s,
        )
        .assert();
    }
}

#[test]
fn max_pool2d_values_and_ties() {
    let x = Array4::from_shape_vec(
        (1, 1, 2, 4),
        vec![1.0_f64, 5.0, 2.0, 2.0, 5.0, 0.0, 2.0, 2.0],
    )
    .unwrap();
    let (y, pullback) = nn::max_pool2d_vjp(&x, 2, 2);
    assert_eq!(y.into_raw_vec_and_offset().0, vec![5.0, 2.0]);
    // ties go to the first maximum in row-major order
    let dx = pullback(Array4::from_elem((1, 1, 1, 2), 1.0));
    assert_eq!(
        dx.into_raw_vec_and_offset().0,
        vec![0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    );
}

#[test]
fn avg_pool2d_pullback() {
    let mut rng = rng(121);
    for (kernel, stride) in [(3, 2), (2, 3)] {
        let x: Array4<f64> = uniform(&mut rng, (2, 3, 7, 9), -1.0, 1.0);
        let y = nn::avg_pool2d(&x, kernel, stride);
        let s = seed_like(&mut rng, &y);
        check::vjp(
            |x| nn::avg_pool2d(x, kernel, stride),
            |x, s| nn::avg_pool2d_vjp(x, kernel, stride).1(s),
            &x,
            &s,
        )
        .assert();
        // the mean of each window
        let (i, j) = (1, 2);
        let window = x.slice(s![
            1,
            2,
            i * stride..i * stride + kernel,
            j * stride..j * stride + kernel
        ]);
        assert!((y[[1, 2, i, j]] - window.mean().unwrap()).abs() < 1e-15);
    }
}

#[test]
fn global_avg_pool2d_pullback() {
    let mut rng = rng(122);
    let x: Array4<f64> = uniform(&mut rng, (3, 4, 5, 2), -1.0, 1.0);
    let y = nn::global_avg_pool2d(&x);
    assert_eq!(y.shape(), &[3, 4]);
    assert!((y[[2, 1]] - x.slice(s![2, 1, .., ..]).mean().unwrap()).abs() < 1e-15);
    let s = seed_like(&mut rng, &y);
    check::vjp(
        nn::global_avg_pool2d,
        |x, s| nn::global_avg_pool2d_vjp(x).1(s),
        &x,
        &s,
    )
    .assert();
}

#[test]
#[should_panic(
    expected = "nn::max_pool2d: kernel 4x4 does not fit the input 3x5 (x of shape [1, 2, 3, 5])"
)]
fn max_pool2d_rejects_kernel_larger_than_input() {
    nn::max_pool2d(&Array4::<f64>::zeros((1, 2, 3, 5)), 4, 1);
}

#[test]
#[should_panic(expected = "nn::avg_pool2d: stride must be positive, got 0")]
fn avg_pool2d_rejects_zero_stride() {
    nn::avg_pool2d(&Array4::<f64>::zeros((1, 2, 3, 5)), 2, 0);
}

// ---- normalization ----

#[test]
fn batch_norm2d_pullback() {
    let mut rng = rng(130);
    let x: Array4<f64> = uniform(&mut rng, (3, 2, 4, 5), -2.0, 3.0);
    let gamma: Array1<f64> = uniform(&mut rng, 2, 0.5, 1.5);
    let beta: Array1<f64> = uniform(&mut rng, 2, -1.0, 1.0);
    let (y, _) = nn::batch_norm2d_vjp(&x, &gamma, &beta, 1e-5);
    assert_eq!(y, nn::batch_norm2d(&x, &gamma, &beta, 1e-5));
    let s = seed_like(&mut rng, &y);
    check::vjp(
        |(x, g, b): &(Array4<f64>, Array1<f64>, Array1<f64>)| nn::batch_norm2d(x, g, b, 1e-5),
        |(x, g, b), s| nn::batch_norm2d_vjp(x, g, b, 1e-5).1(s),
        &(x, gamma, beta),
        &s,
    )
    .assert();
}

#[test]
fn batch_norm2d_normalizes_each_channel() {
    let mut rng = rng(131);
    let x: Array4<f64> = uniform(&mut rng, (4, 3, 3, 2), -5.0, 9.0);
    let gamma = array![1.0, 2.0, 0.5];
    let beta = array![0.0, -1.0, 3.0];
    let y = nn::batch_norm2d(&x, &gamma, &beta, 0.0);
    for c in 0..3 {
        let yc = y.index_axis(Axis(1), c);
        let mean = yc.mean().unwrap();
        let var = yc.mapv(|v| (v - mean).powi(2)).mean().unwrap();
        assert!((mean - beta[c]).abs() < 1e-12, "channel {c}: mean {mean}");
        assert!(
            (var - gamma[c] * gamma[c]).abs() < 1e-12,
            "channel {c}: var {var}"
        );
    }
}

#[test]
#[should_panic(
    expected = "nn::batch_norm2d: x of shape [2, 3, 2, 2] has 3 channels but gamma has 2 and beta 3 elements"
)]
fn batch_norm2d_rejects_gamma_mismatch() {
    nn::batch_norm2d(
        &Array4::<f64>::zeros((2, 3, 2, 2)),
        &Array1::ones(2),
        &Array1::zeros(3),
        1e-5,
    );
}

#[test]
fn layer_norm_pullback() {
    let mut rng = rng(132);
    let x: Array3<f64> = uniform(&mut rng, (2, 3, 6), -2.0, 3.0);
    let gamma: Array1<f64> = uniform(&mut rng, 6, 0.5, 1.5);
    let beta: Array1<f64> = uniform(&mut rng, 6, -1.0, 1.0);
    let s = seed_like(&mut rng, &x);
    check::vjp(
        |(x, g, b): &(Array3<f64>, Array1<f64>, Array1<f64>)| nn::layer_norm(x, g, b, 1e-5),
        |(x, g, b), s| nn::layer_norm_vjp(x, g, b, 1e-5).1(s),
        &(x, gamma.clone(), beta.clone()),
        &s,
    )
    .assert();
    // 2-D and dynamic-dimensional inputs
    let x: Array2<f64> = uniform(&mut rng, (5, 6), -2.0, 3.0);
    let s = seed_like(&mut rng, &x);
    check::vjp(
        |(x, g, b): &(Array2<f64>, Array1<f64>, Array1<f64>)| nn::layer_norm(x, g, b, 1e-5),
        |(x, g, b), s| nn::layer_norm_vjp(x, g, b, 1e-5).1(s),
        &(x, gamma.clone(), beta.clone()),
        &s,
    )
    .assert();
    let x: ArrayD<f64> = uniform(&mut rng, IxDyn(&[2, 2, 6]), -2.0, 3.0);
    let s = seed_like(&mut rng, &x);
    check::vjp(
        |(x, g, b): &(ArrayD<f64>, Array1<f64>, Array1<f64>)| nn::layer_norm(x, g, b, 1e-5),
        |(x, g, b), s| nn::layer_norm_vjp(x, g, b, 1e-5).1(s),
        &(x, gamma, beta),
        &s,
    )
    .assert();
}

#[test]
fn layer_norm_normalizes_each_row() {
    let mut rng = rng(133);
    let x: Array2<f64> = uniform(&mut rng, (4, 7), -5.0, 9.0);
    let y = nn::layer_norm(&x, &Array1::ones(7), &Array1::zeros(7), 0.0);
    for row in y.rows() {
        assert!(row.mean().unwrap().abs() < 1e-14);
        assert!((row.mapv(|v| v * v).mean().unwrap() - 1.0).abs() < 1e-14);
    }
}

#[test]
#[should_panic(
    expected = "nn::layer_norm: the last axis of x (shape [2, 5]) has 5 elements but gamma has 4 and beta 5"
)]
fn layer_norm_rejects_gamma_mismatch() {
    nn::layer_norm(
        &Array2::<f64>::zeros((2, 5)),
        &Array1::ones(4),
        &Array1::zeros(5),
        1e-5,
    );
}

// ---- dropout ----

#[test]
fn dropout_pullback_uses_the_forward_mask() {
    let mut rng = rng(140);
    let x: Array3<f64> = uniform(&mut rng, (3, 4, 5), -1.0, 1.0);
    let s = seed_like(&mut rng, &x);
    // A fresh generator with the same seed draws the same mask on every call.
    let mask_rng = || StdRng::seed_from_u64(7);
    check::vjp(
        |x| nn::dropout(x, 0.3, &mut mask_rng()),
        |x, s| nn::dropout_vjp(x, 0.3, &mut mask_rng()).1(s),
        &x,
        &s,
    )
    .assert();
    check::vjp(
        |x| nn::dropout2d(x, 0.3, &mut mask_rng()),
        |x, s| nn::dropout2d_vjp(x, 0.3, &mut mask_rng()).1(s),
        &x,
        &s,
    )
    .assert();
}

#[test]
fn dropout_statistics() {
    let mut rng = rng(141);
    let x = Array2::<f64>::ones((200, 100));
    let (y, pullback) = nn::dropout_vjp(&x, 0.25, &mut rng);
    let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
    assert!((dropped - 0.25).abs() < 0.02, "dropped {dropped}");
    assert!(y.iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
    // inverted dropout keeps the mean
    assert!((y.mean().unwrap() - 1.0).abs() < 0.03);
    // the pullback is the same mask
    assert_eq!(pullback(Array2::ones((200, 100))), y);
    // p = 0 is the identity
    assert_eq!(nn::dropout(&x, 0.0, &mut rng), x);
}

#[test]
fn dropout2d_drops_whole_channels() {
    let mut rng = rng(142);
    let x = Array4::<f64>::ones((8, 16, 3, 2));
    let (y, pullback) = nn::dropout2d_vjp(&x, 0.5, &mut rng);
    let mut dropped = 0;
    for image in y.outer_iter() {
        for channel in image.outer_iter() {
            let v = channel[[0, 0]];
            assert!(v == 0.0 || v == 2.0);
            assert!(channel.iter().all(|&u| u == v));
            dropped += usize::from(v == 0.0);
        }
    }
    assert!(
        (dropped as f64 / 128.0 - 0.5).abs() < 0.15,
        "dropped {dropped} of 128"
    );
    let d = pullback(Array4::ones((8, 16, 3, 2)));
    assert_eq!(d, y);
}

#[test]
#[should_panic(expected = "nn::dropout: the drop probability p must be in [0, 1), got 1")]
fn dropout_rejects_p_of_one() {
    nn::dropout(&Array1::<f64>::ones(3), 1.0, &mut rng(0));
}

#[test]
#[should_panic(expected = "nn::dropout2d: the drop probability p must be in [0, 1), got -0.1")]
fn dropout2d_rejects_negative_p() {
    nn::dropout2d(&Array4::<f64>::ones((1, 1, 2, 2)), -0.1, &mut rng(0));
}

#[test]
#[should_panic(expected = "nn::dropout2d: x of shape [3] has no channel axis")]
fn dropout2d_rejects_1d_input() {
    nn::dropout2d(&Array1::<f64>::ones(3), 0.5, &mut rng(0));
}

// ---- single precision ----

#[test]
fn layers_work_in_single_precision() {
    let mut rng = rng(150);
    let x = uniform(&mut rng, (2, 3, 6, 5), -1.0, 1.0).mapv(|v: f64| v as f32);
    let w = uniform(&mut rng, (4, 3, 3, 3), -1.0, 1.0).mapv(|v: f64| v as f32);
    let b = Array1::<f32>::zeros(4);
    let (y, pullback) = nn::conv2d_vjp(&x, &w, &b, 2, 1);
    let reference = naive_conv(&x.mapv(f64::from), &w.mapv(f64::from), None, 2, 1);
    for (u, v) in y.iter().zip(&reference) {
        assert!((f64::from(*u) - v).abs() < 1e-5);
    }
    let (dx, dw, db) = pullback(Array4::ones(y.raw_dim()));
    assert_eq!(
        (dx.shape(), dw.shape(), db.len()),
        (x.shape(), w.shape(), 4)
    );
    let h = nn::relu(&nn::global_avg_pool2d(&nn::max_pool2d(&y, 2, 1)));
    let out = nn::linear(&h, &Array2::ones((5, 4)), &Array1::zeros(5));
    assert_eq!(out.shape(), &[2, 5]);
}
