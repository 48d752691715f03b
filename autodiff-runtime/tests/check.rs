//! `check`: accepts correct gradients, rejects wrong ones and names the worst element, for
//! every stencil and for scalar, `Vec`, ndarray and tuple inputs.

use autodiff_runtime::check::{self, Config, Stencil};
use ndarray::{Array1, Array2, array};

const STENCILS: [Stencil; 5] = [
    Stencil::Forward,
    Stencil::Backward,
    Stencil::Central,
    Stencil::Central4,
    Stencil::Central6,
];

/// Settings that every stencil passes with on smooth functions of order-one scale: the
/// first-order stencils have truncation error ~ h |f''| / 2.
fn cfg(stencil: Stencil) -> Config {
    match stencil {
        Stencil::Forward | Stencil::Backward => {
            Config::default().stencil(stencil).step(1e-7).rtol(1e-5)
        }
        _ => Config::default().stencil(stencil).step(1e-4).rtol(1e-7),
    }
}

// ---- scalar ----

// f(x) = sin(x) * exp(x), f'(x) = (cos x + sin x) exp(x)
fn scalar_f(x: &f64) -> f64 {
    x.sin() * x.exp()
}
fn scalar_grad(x: &f64) -> f64 {
    (x.cos() + x.sin()) * x.exp()
}

#[test]
fn scalar_correct_passes_for_every_stencil() {
    for s in STENCILS {
        let r = check::gradient_with(&cfg(s), scalar_f, scalar_grad, &0.7);
        assert!(r.passed(), "{r}");
        assert_eq!(r.checked(), 1);
    }
}

#[test]
fn scalar_wrong_fails_for_every_stencil() {
    for s in STENCILS {
        let r = check::gradient_with(&cfg(s), scalar_f, |x| x.cos() * x.exp(), &0.7);
        assert!(!r.passed(), "{s:?} accepted a wrong gradient");
        let w = r.worst().unwrap();
        assert_eq!((w.leaf, w.index), (0, 0));
        assert!((w.numeric - scalar_grad(&0.7)).abs() < 1e-4, "{r}");
    }
}

#[test]
fn default_is_central() {
    check::gradient(scalar_f, scalar_grad, &-1.3).assert();
    assert_eq!(Config::default().stencil, Stencil::Central);
    assert_eq!(
        Config::default(),
        Config {
            step: 1e-6,
            rtol: 1e-6,
            atol: 1e-8,
            stencil: Stencil::Central
        }
    );
}

// ---- Vec ----

// f(x) = Σ_i x_i^2 x_{i+1}, ∂f/∂x_i = 2 x_i x_{i+1} + x_{i-1}^2
#[allow(clippy::ptr_arg)] // `check` passes `&X` with `X = Vec<f64>`
fn vec_f(x: &Vec<f64>) -> f64 {
    x.windows(2).map(|w| w[0] * w[0] * w[1]).sum()
}
#[allow(clippy::ptr_arg)]
fn vec_grad(x: &Vec<f64>) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|i| {
            let right = if i + 1 < n {
                2.0 * x[i] * x[i + 1]
            } else {
                0.0
            };
            let left = if i > 0 { x[i - 1] * x[i - 1] } else { 0.0 };
            right + left
        })
        .collect()
}

#[test]
fn vec_correct_passes_and_wrong_names_the_element() {
    let x = vec![0.5, -1.25, 2.0, 0.75, -0.3];
    for s in STENCILS {
        let r = check::gradient_with(&cfg(s), vec_f, vec_grad, &x);
        assert!(r.passed(), "{r}");
        assert_eq!(r.checked(), 5);

        // Corrupt element 3 a lot and element 1 a little: 3 is the worst.
        let wrong = |x: &Vec<f64>| {
            let mut g = vec_grad(x);
            g[3] += 0.5;
            g[1] *= 1.001;
            g
        };
        let r = check::gradient_with(&cfg(s), vec_f, wrong, &x);
        assert!(!r.passed());
        assert_eq!(r.failures(), 2, "{r}");
        let w = r.worst().unwrap();
        assert_eq!((w.leaf, w.index), (0, 3), "{r}");
        assert!((w.abs_error - 0.5).abs() < 1e-4, "{r}");
        assert!(r.to_string().contains("leaf 0, index 3"), "{r}");
    }
}

// ---- ndarray ----

// f(W) = Σ tanh(W v), ∇f = (1 - tanh²(W v)) v^T
fn array_f(v: &Array1<f64>) -> impl Fn(&Array2<f64>) -> f64 + '_ {
    move |w| w.dot(v).mapv(f64::tanh).sum()
}
fn array_grad(v: &Array1<f64>) -> impl Fn(&Array2<f64>) -> Array2<f64> + '_ {
    move |w| {
        let d = w.dot(v).mapv(|t| 1.0 - t.tanh() * t.tanh());
        Array2::from_shape_fn(w.dim(), |(i, j)| d[i] * v[j])
    }
}

#[test]
fn ndarray_correct_passes_and_wrong_names_the_flat_index() {
    let w = array![[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]];
    let v = array![1.0, 0.5, -1.5];
    for s in STENCILS {
        let r = check::gradient_with(&cfg(s), array_f(&v), array_grad(&v), &w);
        assert!(r.passed(), "{r}");
        assert_eq!(r.checked(), 6);

        // Transposed-style bug in one element: [1, 2] is flat index 5.
        let wrong = |w: &Array2<f64>| {
            let mut g = array_grad(&v)(w);
            g[[1, 2]] = -g[[1, 2]];
            g
        };
        let r = check::gradient_with(&cfg(s), array_f(&v), wrong, &w);
        assert!(!r.passed());
        let e = r.worst().unwrap();
        assert_eq!((e.leaf, e.index), (0, 5), "{r}");
    }
}

#[test]
fn ndarray_f32_input_is_accepted() {
    // f(x) = Σ x_i^3 in f32, ∇f = 3 x^2; f32 rounding needs a large step and loose tolerance.
    let x = array![0.5_f32, -1.0, 1.5];
    let cfg = Config::default().step(1e-2).rtol(1e-2).atol(1e-3);
    let f = |x: &Array1<f32>| x.mapv(|v| v * v * v).sum();
    check::gradient_with(&cfg, f, |x| x.mapv(|v| 3.0 * v * v), &x).assert();
    let r = check::gradient_with(&cfg, f, |x| x.mapv(|v| 2.0 * v * v), &x);
    assert_eq!(r.worst().unwrap().index, 2, "{r}");
    assert!(!r.passed());
}

// ---- tuples ----

// f(a, M, c) = c * Σ_ij M_ij a_j + c^2, ∇ = (c M^T 1, c 1 a^T, Σ M a + 2c)
type In = (Vec<f64>, Array2<f64>, f64);
fn tuple_f((a, m, c): &In) -> f64 {
    let a = Array1::from(a.clone());
    c * m.dot(&a).sum() + c * c
}
fn tuple_grad((a, m, c): &In) -> (Vec<f64>, Array2<f64>, f64) {
    let arr = Array1::from(a.clone());
    let da = m.sum_axis(ndarray::Axis(0)) * *c;
    let dm = Array2::from_shape_fn(m.dim(), |(_, j)| c * a[j]);
    (da.to_vec(), dm, m.dot(&arr).sum() + 2.0 * c)
}

#[test]
fn tuple_correct_passes_and_wrong_names_the_leaf() {
    let x: In = (
        vec![1.0, -0.5],
        array![[0.3, 0.2], [-0.1, 0.4], [0.7, -0.8]],
        1.5,
    );
    for s in STENCILS {
        let r = check::gradient_with(&cfg(s), tuple_f, tuple_grad, &x);
        assert!(r.passed(), "{r}");
        assert_eq!(r.checked(), 2 + 6 + 1);

        // Forget the c^2 term: only the scalar (leaf 2) is wrong.
        let wrong = |x: &In| {
            let mut g = tuple_grad(x);
            g.2 -= 2.0 * x.2;
            g
        };
        let r = check::gradient_with(&cfg(s), tuple_f, wrong, &x);
        assert_eq!(r.failures(), 1, "{r}");
        let e = r.worst().unwrap();
        assert_eq!((e.leaf, e.index), (2, 0), "{r}");
        assert!(r.to_string().contains("leaf 2, index 0"), "{r}");

        // A wrong matrix entry: leaf 1, row 2 column 1 is flat index 5.
        let wrong = |x: &In| {
            let mut g = tuple_grad(x);
            g.1[[2, 1]] += 1.0;
            g
        };
        let e = *check::gradient_with(&cfg(s), tuple_f, wrong, &x)
            .worst()
            .unwrap();
        assert_eq!((e.leaf, e.index), (1, 5));
    }
}

#[test]
fn mixed_precision_tuple() {
    // f(a, b) = a * b with a: f32, b: f64, output f64.
    let cfg = Config::default().step(1e-3).rtol(1e-4);
    let f = |(a, b): &(f32, f64)| f64::from(*a) * b;
    check::gradient_with(
        &cfg,
        f,
        |(a, b)| (*b as f32, f64::from(*a)),
        &(1.5_f32, -2.0),
    )
    .assert();
}

// ---- vjp ----

#[test]
fn vjp_every_stencil_on_a_matrix_product() {
    // Y = A B with A the input: Ā = Ȳ B^T.
    let b = array![[1.0, -2.0], [0.5, 0.25], [3.0, 1.0]];
    let a = array![[0.2, 0.4, -0.6], [1.0, -1.0, 0.5]];
    let seed = array![[0.3, -0.7], [1.1, 0.9]];
    let f = |a: &Array2<f64>| a.dot(&b);
    for s in STENCILS {
        let r = check::vjp_with(&cfg(s), f, |_, dy: Array2<f64>| dy.dot(&b.t()), &a, &seed);
        assert!(r.passed(), "{r}");
        assert_eq!(r.checked(), 6);
        // The classic bug: multiply by B instead of B^T (shapes agree only by transposing
        // the result), wrong everywhere.
        let r = check::vjp_with(
            &cfg(s),
            f,
            |_, dy: Array2<f64>| dy.dot(&b.t()) * 2.0,
            &a,
            &seed,
        );
        assert_eq!(r.failures(), 6, "{r}");
    }
}

#[test]
#[should_panic(expected = "the seed has buffers of lengths [3] but f(x) has [2]")]
fn vjp_seed_of_the_wrong_shape_panics() {
    let f = |x: &Vec<f64>| vec![x[0], x[1]];
    check::vjp(
        f,
        |_, dy: Vec<f64>| dy,
        &vec![1.0, 2.0],
        &vec![1.0, 1.0, 1.0],
    );
}

// ---- reporting ----

#[test]
fn derivative_of_the_wrong_shape_fails() {
    let r = check::gradient(
        |x: &Vec<f64>| x.iter().sum::<f64>(),
        |_| vec![1.0; 2],
        &vec![0.0; 3],
    );
    assert!(!r.passed());
    assert!(
        r.to_string().contains("lengths [2] but the input has [3]"),
        "{r}"
    );
}

#[test]
#[should_panic(expected = "gradient check failed: 1 of 3 elements out of tolerance")]
fn assert_panics_with_the_report() {
    check::gradient(
        |x: &Vec<f64>| x[0] * x[1] * x[2],
        |x| vec![x[1] * x[2], x[0] * x[2], x[0]],
        &vec![1.0, 2.0, 3.0],
    )
    .assert();
}

#[test]
fn report_text_names_analytic_numeric_and_errors() {
    let r = check::gradient(|x: &f64| x * x, |_| 5.0, &2.0);
    let text = r.to_string();
    for needle in [
        "worst element: leaf 0, index 0",
        "analytic  5e0",
        "numeric   4",
        "abs error",
        "rel error",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let ok = check::gradient(|x: &f64| x * x, |x| 2.0 * x, &2.0).to_string();
    assert!(
        ok.starts_with("gradient check passed: 1 element within tolerance (central differences"),
        "{ok}"
    );
}

#[test]
fn nan_gradient_fails() {
    let r = check::gradient(
        |x: &Vec<f64>| x[0] + x[1],
        |_| vec![1.0, f64::NAN],
        &vec![0.0, 0.0],
    );
    assert!(!r.passed());
    assert_eq!(r.worst().unwrap().index, 1);
}

#[test]
fn tolerances_apply_as_documented() {
    // |a - n| = 0.01 with max(|a|, |n|) = 1.01: passes iff atol + rtol * 1.01 >= 0.01.
    let f = |x: &f64| *x;
    let g = |_: &f64| 1.01;
    let base = Config::default().stencil(Stencil::Central4).step(1e-3);
    assert!(check::gradient_with(&base.clone().atol(0.0101).rtol(0.0), f, g, &0.0).passed());
    assert!(!check::gradient_with(&base.clone().atol(0.0099).rtol(0.0), f, g, &0.0).passed());
    assert!(check::gradient_with(&base.clone().atol(0.0).rtol(0.0100), f, g, &0.0).passed());
    assert!(!check::gradient_with(&base.clone().atol(0.0).rtol(0.0098), f, g, &0.0).passed());
    let r = check::gradient_with(&base, f, g, &0.0);
    assert!((r.max_abs_error() - 0.01).abs() < 1e-9);
    assert!((r.max_rel_error() - 0.01 / 1.01).abs() < 1e-9);
}

#[test]
fn tiny_steps_are_widened_to_a_representable_one() {
    // 1e-6 is below the f64 spacing at 1e12 (1.2e-4) and the f32 spacing at 1e3 (6e-5);
    // the check widens the step instead of dividing 0 by 0.
    check::gradient(|x: &f64| 2.0 * x, |_| 2.0, &1e12).assert();
    check::gradient(|x: &f32| 0.5 * x, |_| 0.5, &1e3_f32).assert();
}

#[test]
#[should_panic(expected = "check step must be finite and positive, got -0.001")]
fn negative_step_panics() {
    let _ = Config::default().step(-1e-3);
}

#[test]
#[should_panic(expected = "check rtol must be non-negative, got NaN")]
fn nan_rtol_set_directly_panics_when_checking() {
    let cfg = Config {
        rtol: f64::NAN,
        ..Config::default()
    };
    check::gradient_with(&cfg, |x: &f64| *x, |_| 1.0, &0.0);
}

#[test]
fn input_is_left_untouched() {
    let x = vec![1.0, 2.0];
    let before = x.clone();
    check::gradient(|x: &Vec<f64>| x[0] * x[1], |x| vec![x[1], x[0]], &x).assert();
    assert_eq!(x, before);
}

// ---- accuracy of the stencils ----

#[test]
fn higher_order_stencils_are_more_accurate_than_forward_differences() {
    // f(x) = exp(x) sin(3x) at x = 0.4 with a coarse step, so truncation error dominates:
    // forward O(h), central O(h^2), 4-point O(h^4), 6-point O(h^6).
    let f = |x: &f64| x.exp() * (3.0 * x).sin();
    let g = |x: &f64| x.exp() * ((3.0 * x).sin() + 3.0 * (3.0 * x).cos());
    let err = |s| {
        let cfg = Config::default().stencil(s).step(1e-2);
        check::gradient_with(&cfg, f, g, &0.4).max_abs_error()
    };
    let (fwd, bwd, c2, c4, c6) = (
        err(Stencil::Forward),
        err(Stencil::Backward),
        err(Stencil::Central),
        err(Stencil::Central4),
        err(Stencil::Central6),
    );
    assert!(fwd > 1e-2 && bwd > 1e-2, "{fwd} {bwd}");
    assert!(c2 < fwd / 10.0, "{c2} vs {fwd}");
    assert!(c4 < c2 / 100.0, "{c4} vs {c2}");
    assert!(c6 < c4 / 100.0, "{c6} vs {c4}");
    // The error of the first-order stencils shrinks linearly with h, of central ones
    // quadratically.
    let err_h = |s, h| {
        let cfg = Config::default().stencil(s).step(h);
        check::gradient_with(&cfg, f, g, &0.4).max_abs_error()
    };
    let ratio_fwd = err_h(Stencil::Forward, 1e-2) / err_h(Stencil::Forward, 5e-3);
    let ratio_c2 = err_h(Stencil::Central, 1e-2) / err_h(Stencil::Central, 5e-3);
    assert!((ratio_fwd - 2.0).abs() < 0.1, "{ratio_fwd}");
    assert!((ratio_c2 - 4.0).abs() < 0.1, "{ratio_c2}");
}
