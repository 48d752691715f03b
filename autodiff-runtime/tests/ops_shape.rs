//! `ops` shape manipulation: finite-difference checks in `f64` for `concat`, `stack`,
//! `reshape`, `expand_dims`, `squeeze` and `flatten` on 1-D to 4-D and dynamic-dimension
//! inputs along every axis, values against ndarray, and shape errors.

mod ops_common;

use autodiff_runtime::ops;
use ndarray::{Array, Array1, Array2, Array3, Array4, ArrayD, Axis, IxDyn, array};
use ops_common::*;

#[test]
fn concat_matches_finite_differences_along_every_axis() {
    let mut rng = rng(41);
    for axis in 0..3 {
        // Three arrays of different lengths along `axis`.
        let xs: Vec<Array3<f64>> = (0..3)
            .map(|i| {
                let mut shape = [2, 3, 4];
                shape[axis] = i + 1;
                normalish(&mut rng, shape)
            })
            .collect();
        let refs: Vec<&Array3<f64>> = xs.iter().collect();
        let seed = seed_like(&mut rng, &ops::concat(&refs, axis));
        check_vjp(
            |xs: &Vec<Array3<f64>>| ops::concat(&xs.iter().collect::<Vec<_>>(), axis),
            |xs: &Vec<Array3<f64>>| ops::concat_vjp(&xs.iter().collect::<Vec<_>>(), axis),
            &xs,
            &seed,
        );
        let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
        assert_eq!(
            ops::concat(&refs, axis),
            ndarray::concatenate(Axis(axis), &views).unwrap()
        );
    }
}

#[test]
fn stack_matches_finite_differences_along_every_new_axis() {
    let mut rng = rng(42);
    for axis in 0..=2 {
        let xs: Vec<Array2<f64>> = (0..3).map(|_| normalish(&mut rng, (2, 5))).collect();
        let refs: Vec<&Array2<f64>> = xs.iter().collect();
        let y = ops::stack(&refs, axis);
        let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
        assert_eq!(y, ndarray::stack(Axis(axis), &views).unwrap());
        let seed = seed_like(&mut rng, &y);
        check_vjp(
            |xs: &Vec<Array2<f64>>| ops::stack(&xs.iter().collect::<Vec<_>>(), axis),
            |xs: &Vec<Array2<f64>>| ops::stack_vjp(&xs.iter().collect::<Vec<_>>(), axis),
            &xs,
            &seed,
        );
    }
}

#[test]
fn concat_and_stack_work_with_dynamic_dimensions() {
    let mut rng = rng(43);
    let xs: Vec<ArrayD<f64>> = vec![
        normalish(&mut rng, IxDyn(&[2, 3])),
        normalish(&mut rng, IxDyn(&[1, 3])),
    ];
    let seed = seed_like(&mut rng, &ops::concat(&xs.iter().collect::<Vec<_>>(), 0));
    check_vjp(
        |xs: &Vec<ArrayD<f64>>| ops::concat(&xs.iter().collect::<Vec<_>>(), 0),
        |xs: &Vec<ArrayD<f64>>| ops::concat_vjp(&xs.iter().collect::<Vec<_>>(), 0),
        &xs,
        &seed,
    );
    let xs: Vec<ArrayD<f64>> = vec![
        normalish(&mut rng, IxDyn(&[2, 3])),
        normalish(&mut rng, IxDyn(&[2, 3])),
    ];
    let seed = seed_like(&mut rng, &ops::stack(&xs.iter().collect::<Vec<_>>(), 1));
    check_vjp(
        |xs: &Vec<ArrayD<f64>>| ops::stack(&xs.iter().collect::<Vec<_>>(), 1),
        |xs: &Vec<ArrayD<f64>>| ops::stack_vjp(&xs.iter().collect::<Vec<_>>(), 1),
        &xs,
        &seed,
    );
}

#[test]
fn reshape_matches_finite_differences() {
    let mut rng = rng(44);
    let x = normalish(&mut rng, (2, 3, 4));
    for shape in [&[24][..], &[4, 6], &[3, 2, 2, 2], &[1, 24, 1]] {
        let y = ops::reshape(&x, shape);
        assert_eq!(y.shape(), shape);
        assert_eq!(
            y.iter().copied().collect::<Vec<_>>(),
            x.iter().copied().collect::<Vec<_>>()
        );
        let seed = seed_like(&mut rng, &y);
        check_vjp(
            |x| ops::reshape(x, shape),
            |x| ops::reshape_vjp(x, shape),
            &x,
            &seed,
        );
    }
    // A non-standard input is read in row-major (logical) order.
    let t = x.clone().reversed_axes();
    assert_eq!(
        ops::reshape(&t, &[24]).iter().copied().collect::<Vec<_>>(),
        t.iter().copied().collect::<Vec<_>>()
    );
}

#[test]
fn expand_dims_and_squeeze_match_finite_differences_at_every_position() {
    let mut rng = rng(45);
    let x = normalish(&mut rng, (3, 4));
    for axis in 0..=2 {
        let y = ops::expand_dims(&x, axis);
        assert_eq!(y, x.clone().insert_axis(Axis(axis)));
        let seed = seed_like(&mut rng, &y);
        check_vjp(
            |x| ops::expand_dims(x, axis),
            |x| ops::expand_dims_vjp(x, axis),
            &x,
            &seed,
        );

        let z = ops::squeeze(&y, axis);
        assert_eq!(z, x);
        let seed = seed_like(&mut rng, &z);
        check_vjp(
            |y| ops::squeeze(y, axis),
            |y| ops::squeeze_vjp(y, axis),
            &y,
            &seed,
        );
    }
    let d = normalish(&mut rng, IxDyn(&[2, 1, 3]));
    let seed = seed_like(&mut rng, &ops::squeeze(&d, 1));
    check_vjp(
        |d| ops::squeeze(d, 1),
        |d| ops::squeeze_vjp(d, 1),
        &d,
        &seed,
    );
}

#[test]
fn flatten_keeps_the_batch_axis_and_matches_finite_differences() {
    let mut rng = rng(46);
    let x4: Array4<f64> = normalish(&mut rng, (2, 3, 2, 2));
    assert_eq!(ops::flatten(&x4).dim(), (2, 12));
    let seed = seed_like(&mut rng, &ops::flatten(&x4));
    check_vjp(ops::flatten, ops::flatten_vjp, &x4, &seed);

    let x1: Array1<f64> = normalish(&mut rng, 5);
    assert_eq!(ops::flatten(&x1).dim(), (5, 1));
    let seed = seed_like(&mut rng, &ops::flatten(&x1));
    check_vjp(ops::flatten, ops::flatten_vjp, &x1, &seed);

    let xd = normalish(&mut rng, IxDyn(&[3, 2, 2]));
    let seed = seed_like(&mut rng, &ops::flatten(&xd));
    check_vjp(ops::flatten, ops::flatten_vjp, &xd, &seed);
}

// ---- errors ----

#[test]
#[should_panic(
    expected = "`concat`: arrays of shapes [[2, 3], [2, 4]] cannot be joined along axis 0"
)]
fn concat_of_mismatched_shapes_panics() {
    ops::concat(&[&Array2::<f64>::zeros((2, 3)), &Array2::zeros((2, 4))], 0);
}

#[test]
#[should_panic(expected = "`stack`: arrays of shapes [[3], [2]] cannot be stacked (they differ)")]
fn stack_of_mismatched_shapes_panics() {
    ops::stack(&[&array![1.0_f64, 2.0, 3.0], &array![1.0, 2.0]], 0);
}

#[test]
#[should_panic(
    expected = "`reshape`: an array of shape [2, 3] (6 elements) cannot be reshaped to [4, 2]"
)]
fn reshape_to_another_size_panics() {
    ops::reshape(&Array2::<f64>::zeros((2, 3)), &[4, 2]);
}

#[test]
#[should_panic(expected = "`squeeze`: axis 1 of an array of shape [2, 3] has length 3, not 1")]
fn squeeze_of_a_long_axis_panics() {
    ops::squeeze(&Array2::<f64>::zeros((2, 3)), 1);
}

#[test]
#[should_panic(expected = "`expand_dims`: axis 3 is out of range for an array of shape [2, 3]")]
fn expand_dims_past_the_end_panics() {
    ops::expand_dims(&Array2::<f64>::zeros((2, 3)), 3);
}

#[test]
#[should_panic(expected = "`concat`: no arrays to concatenate")]
fn concat_of_nothing_panics() {
    ops::concat::<f64, ndarray::Ix1>(&[], 0);
}

#[test]
#[should_panic(expected = "`flatten` pullback: seed of shape [3, 2] for an output of shape [2, 3]")]
fn a_seed_of_the_wrong_shape_panics() {
    let (_, pullback) = ops::flatten_vjp(&Array::<f64, _>::zeros((2, 3)));
    pullback(Array2::zeros((3, 2)));
}
