//! `ops::matmul` and `ops::transpose`: finite-difference checks in `f64` on non-square
//! shapes, agreement with a naive product in `f32` and `f64`, and shape errors.

mod ops_common;

use autodiff_runtime::ops;
use ndarray::{Array2, array};
use ops_common::*;

fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
        (0..a.ncols()).map(|k| a[[i, k]] * b[[k, j]]).sum()
    })
}

#[test]
fn matmul_matches_finite_differences_on_non_square_shapes() {
    let mut rng = rng(21);
    for (m, k, n) in [(3, 5, 2), (1, 4, 6), (5, 1, 3), (4, 3, 1), (2, 2, 2)] {
        let a = normalish(&mut rng, (m, k));
        let b = normalish(&mut rng, (k, n));
        let seed = seed_like(&mut rng, &ops::matmul(&a, &b));
        check_vjp(
            |(a, b): &(Array2<f64>, Array2<f64>)| ops::matmul(a, b),
            |(a, b): &(Array2<f64>, Array2<f64>)| ops::matmul_vjp(a, b),
            &(a, b),
            &seed,
        );
    }
}

#[test]
fn matmul_agrees_with_a_naive_product_in_both_widths() {
    let mut rng = rng(22);
    // Large enough for the blocked kernels, odd so that edges are exercised.
    let a = normalish(&mut rng, (37, 53));
    let b = normalish(&mut rng, (53, 29));
    let want = naive(&a, &b);
    assert_close(&ops::matmul(&a, &b), &want, 1e-12);
    let y32 = ops::matmul(&a.mapv(|v| v as f32), &b.mapv(|v| v as f32));
    assert_close(&y32.mapv(f64::from), &want, 1e-4);

    // The adjoints are products too: d_a = g bᵀ, d_b = aᵀ g.
    let g = normalish(&mut rng, (37, 29));
    let (_, pullback) = ops::matmul_vjp(&a, &b);
    let (d_a, d_b) = pullback(g.clone());
    assert_close(&d_a, &naive(&g, &b.t().to_owned()), 1e-12);
    assert_close(&d_b, &naive(&a.t().to_owned(), &g), 1e-12);
}

#[test]
fn matmul_reads_non_standard_layouts() {
    let mut rng = rng(23);
    let a = normalish(&mut rng, (4, 3)).reversed_axes(); // 3×4, column-major
    let b = normalish(&mut rng, (5, 4)).reversed_axes(); // 4×5, column-major
    assert_close(&ops::matmul(&a, &b), &naive(&a, &b), 1e-12);
}

#[test]
fn transpose_matches_finite_differences() {
    let mut rng = rng(24);
    let x = normalish(&mut rng, (3, 5));
    let seed = seed_like(&mut rng, &ops::transpose(&x));
    check_vjp(ops::transpose, ops::transpose_vjp, &x, &seed);
    let y = ops::transpose(&x);
    assert_eq!(y, x.t());
    assert!(y.is_standard_layout());
}

#[test]
#[should_panic(
    expected = "`matmul`: shapes [2, 3] and [4, 5] do not agree (inner dimensions 3 and 4)"
)]
fn mismatched_inner_dimensions_panic() {
    ops::matmul(&Array2::<f64>::zeros((2, 3)), &Array2::zeros((4, 5)));
}

#[test]
#[should_panic(expected = "`matmul` pullback: seed of shape [2, 2] for an output of shape [1, 1]")]
fn a_seed_of_the_wrong_shape_panics() {
    let (_, pullback) = ops::matmul_vjp(&array![[1.0_f64, 2.0]], &array![[1.0], [2.0]]);
    pullback(Array2::zeros((2, 2)));
}
