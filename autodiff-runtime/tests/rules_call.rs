//! Calls to functions with a `_vjp` companion: argument classification (`plan`), splitting
//! the pullback's result over accumulators (`scatter`, `sink`, `NoSink`), checked against
//! finite differences; and `Primal` for `Result` / `Option`.

mod rules_common;

use autodiff_runtime::__private::*;
use autodiff_runtime::Real;
use ndarray::{Array1, Array2, ArrayView2, array};
use rand::{SeedableRng, rngs::StdRng};
use rules_common::{TestVal, assert_close, fd, fill, minus, prefill};

/// A stand-in for a derived struct (`#[derive(Differentiable)]` writes this impl).
struct Model {
    _w: Array2<f64>,
}
impl ArgKind for Model {
    type Kind = Yes;
}

#[test]
fn arguments_are_classified_by_the_default_wrt_rule() {
    let (x32, x64) = (1.0_f32, 2.0_f64);
    let a: Array2<f64> = Array2::zeros((2, 2));
    let (ra, va) = (&a, a.view());
    let v = vec![1.0_f64];
    let s: &[f64] = &v;
    let fixed = [1.0_f64; 3];
    let pair = (1.0_f64, 2_usize);
    let m = Model { _w: a.clone() };
    let rm = &m;
    let _: Plan<(Yes, Yes, Yes, Yes, Yes, Yes)> = plan((&x32, &x64, &a, &ra, &va, &v));
    let _: Plan<(Yes, Yes, Yes, Yes, Yes)> = plan((&s, &fixed, &pair, &m, &rm));

    let (n, i, b, c) = (3_usize, -1_i32, true, 'c');
    let (st, string) = ("s", String::from("s"));
    let labels = vec![1_usize, 2];
    let ls: &[usize] = &labels;
    let bytes = [0_u8; 4];
    let idx: Array1<usize> = Array1::zeros(3);
    let ints = (1_usize, false);
    let mut rng = StdRng::seed_from_u64(0);
    let r = &mut rng;
    let _: Plan<(No, No, No, No, No, No)> = plan((&n, &i, &b, &c, &st, &string));
    let _: Plan<(No, No, No, No, No, No)> = plan((&labels, &ls, &bytes, &idx, &ints, &r));
    let _: Plan<()> = plan(());
}

fn generic_plan<T: Real, R: rand::Rng>(
    x: T,
    v: &[T],
    n: usize,
    rng: &mut R,
) -> Plan<(Yes, Yes, No, No)> {
    plan((&x, &v, &n, &rng))
}

#[test]
fn generic_arguments_are_classified() {
    let mut rng = StdRng::seed_from_u64(1);
    let _ = generic_plan(1.0_f32, &[2.0], 3, &mut rng);
    let _ = generic_plan(1.0_f64, &[2.0], 3, &mut rng);
}

/// `foo(a, n, s) = s * sum(a^2) + n`, a hand-written `_vjp` over an array, an integer and
/// a scalar.
fn foo(a: &Array2<f64>, n: usize, s: f64) -> f64 {
    s * a.mapv(|v| v * v).sum() + n as f64
}

fn foo_vjp(a: &Array2<f64>, n: usize, s: f64) -> (f64, impl FnOnce(f64) -> (Array2<f64>, f64)) {
    let y = foo(a, n, s);
    let a = a.clone();
    (y, move |seed| {
        (
            a.mapv(|v| 2.0 * s * v * seed),
            seed * a.mapv(|v| v * v).sum(),
        )
    })
}

#[test]
fn scatter_matches_finite_differences() {
    let a: Array2<f64> = fill(&[2, 3], -1.0, 1.0);
    let (n, s, seed) = (4_usize, 0.7_f64, 1.3_f64);
    let want_a: Vec<f64> = fd(&a, |a| seed * foo(a, n, s));
    let want_s: Vec<f64> = fd(&s, |&s| seed * foo(&a, n, s));

    // Into a fresh Slot and a fresh scalar.
    let plan_ = plan((&a, &n, &s));
    let (_, pb) = foo_vjp(&a, n, s);
    let mut da = zero_adj(&meta(&a));
    let mut ds = f64::adjoint_zero();
    plan_.scatter(pb(seed), (sink(&mut da), NoSink, sink(&mut ds)));
    assert_close(&da.into_value().flat(), &want_a, "da (fresh Slot)");
    assert_close(&[ds], &want_s, "ds");

    // Into accumulators that already hold something: an owned array and a filled Slot.
    let c0 = prefill(&a);
    let mut da_owned = c0.clone();
    let mut ds = 0.25_f64;
    let (_, pb) = foo_vjp(&a, n, s);
    plan_.scatter(pb(seed), (sink(&mut da_owned), NoSink, sink(&mut ds)));
    assert_close(
        &minus(&da_owned.flat(), &c0.flat()),
        &want_a,
        "da (owned Array)",
    );
    assert_close(&[ds - 0.25], &want_s, "ds (filled)");
    let mut da = zero_adj(&meta(&a));
    da.add_value(c0.clone());
    let (_, pb) = foo_vjp(&a, n, s);
    plan_.scatter(pb(seed), (sink(&mut da), NoSink, NoSink));
    assert_close(
        &minus(&da.into_value().flat(), &c0.flat()),
        &want_a,
        "da (filled Slot)",
    );
}

#[test]
fn one_differentiable_argument_takes_the_bare_tangent() {
    let a: Array2<f64> = fill(&[2, 2], -1.0, 1.0);
    let labels = [1_usize, 0];
    let p = plan((&a, &labels));
    let mut da = zero_adj(&meta(&a));
    p.scatter(a.clone(), (sink(&mut da), NoSink));
    p.scatter(a.clone(), (sink(&mut da), NoSink));
    assert_eq!(da.into_value(), &a * 2.0);
    // A receiver that is a reference, then a view.
    let ra = &a;
    let p = plan((&ra, &a.view()));
    let mut d1 = zero_adj(&meta(&ra));
    let view: ArrayView2<f64> = a.view();
    let mut d2 = zero_adj(&meta(&view));
    p.scatter((a.clone(), a.clone() * 3.0), (sink(&mut d1), sink(&mut d2)));
    assert_eq!(d2.into_value(), &a * 3.0);
}

#[test]
fn no_sink_drops_the_tangent_of_a_passive_argument() {
    let (x, y) = (1.5_f64, 2.5_f64);
    let p = plan((&x, &y));
    let mut dy = f64::adjoint_zero();
    p.scatter((10.0, 20.0), (NoSink, sink(&mut dy)));
    assert_eq!(dy, 20.0);
    let p = plan((&x,));
    p.scatter(10.0, (NoSink,));
    // No differentiable argument at all: the pullback returns `()`.
    let n = 3_usize;
    plan((&n, &"name")).scatter((), (NoSink, NoSink));
}

#[test]
fn six_arguments_in_every_position() {
    let (a, b) = (1.0_f64, 2.0_f32);
    let v = vec![1.0_f64, 2.0];
    let w: Array1<f64> = array![1.0, 2.0, 3.0];
    let (n, flag) = (7_usize, true);
    let p: Plan<(Yes, No, Yes, No, Yes, Yes)> = plan((&a, &n, &v, &flag, &b, &w));
    let (mut da, mut dv, mut db) = (f64::adjoint_zero(), vec![1.0, 1.0], f32::adjoint_zero());
    let mut dw = zero_adj(&meta(&w));
    p.scatter(
        (0.5, vec![1.0, 2.0], 0.25_f32, array![1.0, 1.0, 1.0]),
        (
            sink(&mut da),
            NoSink,
            sink(&mut dv),
            NoSink,
            sink(&mut db),
            sink(&mut dw),
        ),
    );
    assert_eq!((da, db), (0.5, 0.25));
    assert_eq!(dv, vec![2.0, 3.0]);
    assert_eq!(dw.into_value(), array![1.0, 1.0, 1.0]);
    // Only the last one.
    let p: Plan<(No, No, No, No, No, Yes)> = plan((&n, &n, &n, &n, &flag, &w));
    let mut dw = zero_adj(&meta(&w));
    p.scatter(
        array![1.0, 2.0, 3.0],
        (NoSink, NoSink, NoSink, NoSink, NoSink, sink(&mut dw)),
    );
    assert_eq!(dw.into_value(), array![1.0, 2.0, 3.0]);
}

#[test]
fn plans_are_zero_sized_and_copy() {
    let a = 1.0_f64;
    let p = plan((&a, &3_usize));
    let q = p;
    assert_eq!(std::mem::size_of_val(&q), 0);
    let mut da = f64::adjoint_zero();
    p.scatter(1.0, (sink(&mut da), NoSink));
    q.scatter(1.0, (sink(&mut da), NoSink));
    assert_eq!(da, 2.0);
}

#[test]
fn result_and_option_delegate_to_their_value() {
    let a: Array2<f64> = Array2::ones((2, 3));
    let r: Result<Array2<f64>, ndarray::ShapeError> = a.clone().into_shape_with_order((3, 2));
    let m = meta(&r);
    let mut adj = zero_adj(&m);
    assert!(adj.get().is_none());
    adj.add_value(Array2::ones((3, 2)));
    let t: Array2<f64> = finish(adj, &m);
    assert_eq!(t.shape(), &[3, 2]);
    let o = Some(1.5_f64);
    let m = meta(&o);
    let mut adj = zero_adj(&m);
    adj += 2.0;
    assert_eq!(finish(adj, &m), 2.0);
}

#[test]
#[should_panic(expected = "no adjoint for an `Err` or `None` value")]
fn an_err_has_no_adjoint() {
    let r: Result<f64, String> = Err("bad".into());
    let m = meta(&r);
    let _ = zero_adj(&m);
}
