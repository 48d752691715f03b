//! `__private::array`, the rules for ndarray methods in differentiable code: each forward
//! against ndarray's method, each backward against finite differences in `f64` (through an
//! empty `Slot`), and accumulation into a non-empty `Slot` and into an eager `Array`, on
//! 1-D, 2-D, 3-D and dynamic-dimension arrays, with random seeds.

mod ops_common;

use autodiff_runtime::__private::{self, Adjoint, Slot, array};
use autodiff_runtime::check;
use ndarray::{Array, Array1, Array2, ArrayD, Axis, Dimension, IxDyn, NewAxis, s};
use ops_common::*;
use rand::rngs::StdRng;

/// An accumulator holding `v`.
fn slot<D: Dimension>(v: Array<f64, D>) -> Slot<f64, D> {
    let mut s = Slot::zero(v.raw_dim());
    s.add_value(v);
    s
}

/// Checks the backward of a rule with one array receiver `x` and an array output:
/// finite differences through an empty `Slot`, then `base + contribution` when the
/// receiver's accumulator already holds `base` (as a `Slot` and as an eager `Array`), and
/// no work for an empty output adjoint.
#[track_caller]
fn check_rule<D, E>(
    rng: &mut StdRng,
    x: &Array<f64, D>,
    f: impl Fn(&Array<f64, D>) -> Array<f64, E>,
    back_slot: impl Fn(&Array<f64, D>, &Slot<f64, E>, &mut Slot<f64, D>),
    back_array: impl Fn(&Array<f64, D>, &Slot<f64, E>, &mut Array<f64, D>),
) where
    D: Dimension + 'static,
    E: Dimension + 'static,
{
    let seed = seed_like(rng, &f(x));
    let grad = |x: &Array<f64, D>, s: Array<f64, E>| {
        let mut da = Slot::zero(x.raw_dim());
        back_slot(x, &slot(s), &mut da);
        da.into_value()
    };
    check::vjp_with(&cfg(), &f, grad, x, &seed).assert();

    let fresh = grad(x, seed.clone());
    let base = normalish(rng, x.raw_dim());
    let mut da = slot(base.clone());
    back_slot(x, &slot(seed.clone()), &mut da);
    assert_close(&da.into_value(), &(&base + &fresh), 1e-12);
    let mut da = base.clone();
    back_array(x, &slot(seed.clone()), &mut da);
    assert_close(&da, &(&base + &fresh), 1e-12);

    let mut da = Slot::zero(x.raw_dim());
    back_slot(x, &Slot::zero(seed.raw_dim()), &mut da);
    assert!(
        da.get().is_none(),
        "an empty output adjoint must leave the accumulator empty"
    );
}

/// `check_rule` with the backward written once (it is instantiated for both sinks).
macro_rules! check_rule {
    ($rng:ident, $x:expr, |$xf:ident| $fwd:expr, |$xb:ident, $d:ident, $da:ident| $back:expr) => {
        check_rule(
            &mut $rng,
            &$x,
            |$xf| $fwd,
            |$xb, $d, $da| $back,
            |$xb, $d, $da| $back,
        )
    };
}

/// Inputs of every rank the rules are generic over.
fn inputs(
    rng: &mut StdRng,
) -> (
    Array1<f64>,
    Array2<f64>,
    Array<f64, ndarray::Ix3>,
    ArrayD<f64>,
) {
    (
        normalish(rng, 5),
        normalish(rng, (3, 4)),
        normalish(rng, (2, 3, 4)),
        normalish(rng, IxDyn(&[3, 2, 2])),
    )
}

// ---- dot ----

/// Checks `dot` and both adjoints for one pair of operands; `$seed` makes a seed like the
/// output.
macro_rules! check_dot {
    ($rng:ident, $a:expr, $b:expr, $seed:expr) => {{
        let (a, b) = ($a, $b);
        let y = array::dot(&a, &b);
        assert_close(&y, &a.dot(&b), 1e-12);
        let seed = $seed(&mut $rng, &y);
        let m_y = __private::meta(&y);
        let grad = |(a, b): &(_, _), s| {
            let d = __private::seed(&m_y, s);
            let (m_a, m_b) = (__private::meta(a), __private::meta(b));
            let (mut da, mut db) = (__private::zero_adj(&m_a), __private::zero_adj(&m_b));
            array::dot_back_lhs(&d, b, &mut da);
            array::dot_back_rhs(&d, a, &mut db);
            (__private::finish(da, &m_a), __private::finish(db, &m_b))
        };
        let x = (a.clone(), b.clone());
        check::vjp_with(&cfg(), |(a, b): &(_, _)| array::dot(a, b), grad, &x, &seed).assert();

        // Accumulation: into eager arrays and into non-empty slots (GEMM with beta = 1).
        let (fa, fb) = grad(&x, seed.clone());
        let (base_a, base_b) = (
            normalish(&mut $rng, a.raw_dim()),
            normalish(&mut $rng, b.raw_dim()),
        );
        let (mut da, mut db) = (base_a.clone(), base_b.clone());
        array::dot_back_lhs(&__private::seed(&m_y, seed.clone()), &b, &mut da);
        array::dot_back_rhs(&__private::seed(&m_y, seed.clone()), &a, &mut db);
        assert_close(&da, &(&base_a + &fa), 1e-12);
        assert_close(&db, &(&base_b + &fb), 1e-12);
        let (mut da, mut db) = (slot(base_a.clone()), slot(base_b.clone()));
        array::dot_back_lhs(&__private::seed(&m_y, seed.clone()), &&b, &mut da);
        array::dot_back_rhs(&__private::seed(&m_y, seed.clone()), &a.view(), &mut db);
        assert_close(&da.into_value(), &(&base_a + &fa), 1e-12);
        assert_close(&db.into_value(), &(&base_b + &fb), 1e-12);
    }};
}

fn scalar(rng: &mut StdRng, _: &f64) -> f64 {
    scalar_seed(rng)
}

#[test]
fn dot_matches_finite_differences_for_every_operand_rank() {
    let mut rng = rng(51);
    check_dot!(
        rng,
        normalish(&mut rng, (3, 5)),
        normalish(&mut rng, (5, 2)),
        seed_like
    );
    check_dot!(
        rng,
        normalish(&mut rng, (1, 4)),
        normalish(&mut rng, (4, 6)),
        seed_like
    );
    check_dot!(
        rng,
        normalish(&mut rng, (4, 3)),
        normalish(&mut rng, 3),
        seed_like
    );
    check_dot!(
        rng,
        normalish(&mut rng, 4),
        normalish(&mut rng, (4, 3)),
        seed_like
    );
    check_dot!(rng, normalish(&mut rng, 6), normalish(&mut rng, 6), scalar);
}

#[test]
fn dot_takes_views_references_and_transposes() {
    let mut rng = rng(52);
    let a = normalish(&mut rng, (5, 3));
    let b = normalish(&mut rng, (4, 5));
    let want = a.t().dot(&b.t()).as_standard_layout().into_owned();
    assert_close(&array::dot(&a.t(), &b.t()), &want, 1e-12);
    assert_close(&array::dot(&&a.t(), &&&b.t()), &want, 1e-12);
    // Adjoints with transposed kept operands.
    let g = normalish(&mut rng, (3, 4));
    let mut da = Slot::zero(ndarray::Ix2(3, 5));
    array::dot_back_lhs(&slot(g.clone()), &b.t(), &mut da);
    assert_close(&da.into_value(), &g.dot(&b), 1e-12);
}

#[test]
#[should_panic(
    expected = "`dot`: shapes [2, 3] and [2, 3] are not compatible for matrix multiplication"
)]
fn dot_of_mismatched_shapes_panics() {
    array::dot(&Array2::<f64>::zeros((2, 3)), &Array2::<f64>::zeros((2, 3)));
}

// ---- t ----

#[test]
fn t_matches_finite_differences() {
    let mut rng = rng(53);
    let (x1, x2, x3, xd) = inputs(&mut rng);
    assert_eq!(array::t(&x2), x2.t());
    assert!(array::t(&x2).is_standard_layout());
    assert_eq!(array::t(&x3), x3.t());
    check_rule!(rng, x1, |x| array::t(x), |_x, d, da| array::t_back(d, da));
    check_rule!(rng, x2, |x| array::t(x), |_x, d, da| array::t_back(d, da));
    check_rule!(rng, x3, |x| array::t(x), |_x, d, da| array::t_back(d, da));
    check_rule!(rng, xd, |x| array::t(x), |_x, d, da| array::t_back(d, da));
}

// ---- sum, mean ----

/// The backward of a scalar-valued rule: finite differences, accumulation, empty seed.
macro_rules! check_scalar_rule {
    ($rng:ident, $x:expr, |$xf:ident| $fwd:expr, |$d:ident, $da:ident| $back:expr) => {{
        let x = $x;
        let s = scalar_seed(&mut $rng);
        let grad = |x: &Array<f64, _>, s: f64| {
            let mut $da = Slot::zero(x.raw_dim());
            let $d = &s;
            $back;
            $da.into_value()
        };
        check::vjp_with(&cfg(), |$xf: &Array<f64, _>| $fwd, grad, &x, &s).assert();
        let base = normalish(&mut $rng, x.raw_dim());
        let mut $da = base.clone();
        let $d = &s;
        $back;
        assert_close(&$da, &(&base + &grad(&x, s)), 1e-12);
    }};
}

#[test]
fn sum_and_mean_match_finite_differences() {
    let mut rng = rng(54);
    let (x1, x2, x3, xd) = inputs(&mut rng);
    assert_eq!(array::sum(&x3), x3.sum());
    assert_eq!(array::mean(&x3), x3.mean());
    assert_eq!(array::mean(&Array1::<f64>::zeros(0)), None);
    check_scalar_rule!(rng, x1, |x| array::sum(x), |d, da| array::sum_back(
        d, &mut da
    ));
    check_scalar_rule!(rng, x2, |x| array::sum(&x.view()), |d, da| array::sum_back(
        d, &mut da
    ));
    check_scalar_rule!(rng, x3, |x| array::mean(x).unwrap(), |d, da| {
        array::mean_back(d, &mut da)
    });
    check_scalar_rule!(rng, xd, |x| array::mean(x).unwrap(), |d, da| {
        array::mean_back(d, &mut da)
    });
}

// ---- sum_axis, mean_axis ----

#[test]
fn sum_axis_and_mean_axis_match_finite_differences_along_every_axis() {
    let mut rng = rng(55);
    let (x1, x2, x3, xd) = inputs(&mut rng);
    for axis in 0..3 {
        let ax = Axis(axis);
        assert_close(&array::sum_axis(&x3, ax), &x3.sum_axis(ax), 1e-12);
        assert_close(
            &array::mean_axis(&x3, ax).unwrap(),
            &x3.mean_axis(ax).unwrap(),
            1e-12,
        );
        check_rule!(rng, x3, |x| array::sum_axis(x, ax), |_x, d, da| {
            array::sum_axis_back(d, ax, da)
        });
        check_rule!(
            rng,
            x3,
            |x| array::mean_axis(x, ax).unwrap(),
            |_x, d, da| array::mean_axis_back(d, ax, da)
        );
        check_rule!(rng, xd, |x| array::sum_axis(x, ax), |_x, d, da| {
            array::sum_axis_back(d, ax, da)
        });
        check_rule!(
            rng,
            xd,
            |x| array::mean_axis(x, ax).unwrap(),
            |_x, d, da| array::mean_axis_back(d, ax, da)
        );
    }
    for axis in 0..2 {
        let ax = Axis(axis);
        check_rule!(
            rng,
            x2,
            |x| array::mean_axis(x, ax).unwrap(),
            |_x, d, da| array::mean_axis_back(d, ax, da)
        );
    }
    let ax = Axis(0);
    assert!(array::mean_axis(&Array2::<f64>::zeros((0, 3)), ax).is_none());
    // 1-D to 0-D.
    check_rule!(rng, x1, |x| array::sum_axis(x, ax), |_x, d, da| {
        array::sum_axis_back(d, ax, da)
    });
}

// ---- into_shape_with_order, unwrap, expect ----

#[test]
fn into_shape_with_order_and_unwrap_match_finite_differences() {
    let mut rng = rng(56);
    let (_, x2, x3, xd) = inputs(&mut rng);
    let r = array::into_shape_with_order(&x3, (4, 6));
    assert_eq!(
        r.as_ref().unwrap(),
        &x3.clone().into_shape_with_order((4, 6)).unwrap()
    );
    assert!(array::into_shape_with_order(&x3, (5, 5)).is_err());
    // reshape, then unwrap: the reverse sweep runs unwrap_back, then the reshape's.
    check_rule!(
        rng,
        x3,
        |x| array::unwrap(&array::into_shape_with_order(x, (4, 6))),
        |_x, d, da| {
            let mut d_r = Slot::zero(ndarray::Ix2(4, 6));
            array::unwrap_back(d, &mut d_r);
            array::into_shape_with_order_back(&d_r, da)
        }
    );
    check_rule!(
        rng,
        x2,
        |x| array::expect(&array::into_shape_with_order(&x.view(), 12), "twelve"),
        |_x, d, da| {
            let mut d_r = Slot::zero(ndarray::Ix1(12));
            array::expect_back(d, &mut d_r);
            array::into_shape_with_order_back(&d_r, da)
        }
    );
    check_rule!(
        rng,
        xd,
        |x| array::into_shape_with_order(x, IxDyn(&[2, 6])).unwrap(),
        |_x, d, da| array::into_shape_with_order_back(d, da)
    );
    // A non-standard receiver is copied in row-major order rather than refused.
    let t = x2.t();
    let flat = array::into_shape_with_order(&t, 12).unwrap();
    assert_eq!(flat.to_vec(), t.iter().copied().collect::<Vec<_>>());
}

#[test]
fn unwrap_and_expect_pass_scalar_adjoints_through() {
    let mut rng = rng(57);
    let x = normalish(&mut rng, (2, 3));
    let m = array::mean(&x);
    assert_eq!(array::unwrap(&m), x.mean().unwrap());
    assert_eq!(array::expect(&&m, "mean"), x.mean().unwrap());
    let mut d_m = -0.0;
    array::unwrap_back(&2.5, &mut d_m);
    array::expect_back(&0.5, &mut d_m);
    assert_eq!(d_m, 3.0);
    // The accumulator of an `Option`/`Result` is the value's.
    let meta = __private::meta(&m);
    let mut adj = __private::zero_adj(&meta);
    adj += 1.0;
    assert_eq!(__private::finish(adj, &meta), 1.0);
}

#[test]
#[should_panic(expected = "called `Result::unwrap()` on an `Err` value")]
fn unwrap_of_an_error_panics_as_std_does() {
    array::unwrap(&array::into_shape_with_order(
        &Array1::<f64>::zeros(5),
        (2, 2),
    ));
}

#[test]
#[should_panic(expected = "the mean of nothing")]
fn expect_of_none_panics_with_the_message() {
    array::expect(
        &array::mean(&Array1::<f64>::zeros(0)),
        "the mean of nothing",
    );
}

// ---- insert_axis ----

#[test]
fn insert_axis_matches_finite_differences_at_every_position() {
    let mut rng = rng(58);
    let (x1, x2, _, xd) = inputs(&mut rng);
    for axis in 0..=2 {
        let ax = Axis(axis);
        assert_eq!(array::insert_axis(&x2, ax), x2.clone().insert_axis(ax));
        check_rule!(rng, x2, |x| array::insert_axis(x, ax), |_x, d, da| {
            array::insert_axis_back(d, ax, da)
        });
        check_rule!(rng, xd, |x| array::insert_axis(x, ax), |_x, d, da| {
            array::insert_axis_back(d, ax, da)
        });
    }
    let ax = Axis(1);
    check_rule!(rng, x1, |x| array::insert_axis(x, ax), |_x, d, da| {
        array::insert_axis_back(d, ax, da)
    });
}

// ---- index_axis, row, column ----

#[test]
fn index_axis_row_and_column_match_finite_differences() {
    let mut rng = rng(59);
    let (x1, x2, x3, xd) = inputs(&mut rng);
    for (axis, i) in [(0, 1), (1, 2), (2, 3)] {
        let ax = Axis(axis);
        assert_eq!(array::index_axis(&x3, ax, i), x3.index_axis(ax, i));
        check_rule!(rng, x3, |x| array::index_axis(x, ax, i), |_x, d, da| {
            array::index_axis_back(d, ax, i, da)
        });
    }
    let ax = Axis(1);
    check_rule!(rng, xd, |x| array::index_axis(x, ax, 1), |_x, d, da| {
        array::index_axis_back(d, ax, 1, da)
    });
    check_rule!(
        rng,
        x1,
        |x| array::index_axis(x, Axis(0), 3),
        |_x, d, da| array::index_axis_back(d, Axis(0), 3, da)
    );

    assert_eq!(array::row(&x2, 2), x2.row(2));
    assert_eq!(array::column(&x2, 3), x2.column(3));
    check_rule!(rng, x2, |x| array::row(x, 2), |_x, d, da| array::row_back(
        d, 2, da
    ));
    check_rule!(rng, x2, |x| array::column(&x.view(), 3), |_x, d, da| {
        array::column_back(d, 3, da)
    });
}

// ---- slice ----

#[test]
fn slice_matches_finite_differences_for_ranges_steps_indices_and_new_axes() {
    let mut rng = rng(60);
    let (x1, x2, x3, xd) = inputs(&mut rng);

    let info = s![1.., ..;2];
    assert_eq!(array::slice(&x2, info), x2.slice(info));
    check_rule!(rng, x2, |x| array::slice(x, info), |_x, d, da| {
        array::slice_back(d, info, da)
    });

    let info = s![..;-1, 1];
    assert_eq!(array::slice(&x2, info), x2.slice(info));
    check_rule!(rng, x2, |x| array::slice(x, info), |_x, d, da| {
        array::slice_back(d, info, da)
    });

    let info = s![1, NewAxis, 1..3, ..;-2];
    assert_eq!(array::slice(&x3, info), x3.slice(info));
    check_rule!(rng, x3, |x| array::slice(x, &info), |_x, d, da| {
        array::slice_back(d, &info, da)
    });

    let info = s![3..;1];
    check_rule!(rng, x1, |x| array::slice(x, info), |_x, d, da| {
        array::slice_back(d, info, da)
    });

    let info = s![.., 1, ..1];
    assert_eq!(array::slice(&xd, info), xd.slice(info));
    check_rule!(rng, xd, |x| array::slice(x, info), |_x, d, da| {
        array::slice_back(d, info, da)
    });
}

// ---- to_owned, clone ----

#[test]
fn to_owned_and_clone_are_identities_for_arrays_scalars_and_vecs() {
    let mut rng = rng(61);
    let (_, x2, x3, xd) = inputs(&mut rng);
    check_rule!(rng, x2, |x| array::to_owned(&x.view()), |_x, d, da| {
        array::to_owned_back(d, da)
    });
    check_rule!(rng, x3, |x| array::clone(x), |_x, d, da| array::clone_back(
        d, da
    ));
    check_rule!(
        rng,
        xd,
        |x| array::clone(&x),
        |_x, d, da| array::clone_back(d, da)
    );
    // A transposed view is copied into standard layout.
    let c = array::to_owned(&x2.t());
    assert!(c.is_standard_layout());
    assert_eq!(c, x2.t());

    assert_eq!(array::clone(&1.5_f64), 1.5);
    assert_eq!(array::to_owned(&[1.0_f64, 2.0][..]), vec![1.0, 2.0]);
    assert_eq!(array::clone(&&vec![3.0_f32]), vec![3.0]);
    let mut d_v = vec![1.0_f64, 1.0];
    array::to_owned_back(&vec![0.5, 2.0], &mut d_v);
    assert_eq!(d_v, vec![1.5, 3.0]);
    let mut d_s = -0.0_f64;
    array::clone_back(&2.0, &mut d_s);
    assert_eq!(d_s, 2.0);
}

// ---- f32 ----

#[test]
fn rules_work_in_f32() {
    let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32 * 0.25);
    let b = Array1::from_shape_fn(4, |i| i as f32 - 1.5);
    let y = array::dot(&a, &b);
    assert_eq!(y, a.dot(&b));
    let mut da = Slot::<f32, _>::zero(a.raw_dim());
    array::dot_back_lhs(&slot32(Array1::ones(3)), &b, &mut da);
    assert_eq!(
        da.into_value(),
        Array2::from_shape_fn((3, 4), |(_, j)| b[j])
    );
    assert_eq!(array::sum_axis(&a, Axis(1)), a.sum_axis(Axis(1)));
}

fn slot32<D: Dimension>(v: Array<f32, D>) -> Slot<f32, D> {
    let mut s = Slot::zero(v.raw_dim());
    s.add_value(v);
    s
}
