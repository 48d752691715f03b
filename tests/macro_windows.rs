//! Reverse loops that walk arrays element by element run on windows taken before the loop
//! (`autodiff-macros/src/window.rs`): gradients against finite differences for the kinds of
//! arrays, offsets and ranges that reach that path, and for near misses that must not.

// Loops over indices are what the windows are for; `l` walks like `j` on purpose.
#![allow(clippy::needless_range_loop, clippy::explicit_counter_loop)]

use autodiff::check;
use autodiff::differentiable;
use autodiff::ndarray::{Array1, array};

/// Asserts that `_grad` and `_vjp` agree to rounding.
fn assert_close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-12 * (1.0 + x.abs()), "{x} vs {y}");
    }
}

/// A 3×4 matrix stored by rows (`m[r * 4 + j]`), a slice of row weights, an ndarray vector
/// and a fixed array. Reverse loops with offsets `r * cols + j`, ranges that start above 0,
/// an ndarray work array and a fixed work array written by element, a row overwritten in
/// place (its old values put back in the reverse loop) and a range that may be empty.
#[differentiable]
fn window_kinds(m: &[f64], v: &Array1<f64>, f: [f64; 4], #[no_grad] skip: usize) -> f64 {
    let cols = v.len();
    let rows = m.len() / cols;
    let mut work = Array1::<f64>::zeros(cols);
    let mut fixed = [0.0; 4];
    let mut scaled = vec![0.0; m.len()];
    for i in 0..m.len() {
        scaled[i] = m[i] * 0.5;
    }
    let mut total = 0.0;
    for r in 0..rows {
        for j in 0..cols {
            work[j] = m[r * cols + j] * v[j];
            fixed[j] = work[j].sin() + f[j];
        }
        for j in 1..cols {
            scaled[r * cols + j] *= fixed[j];
        }
        for j in skip..cols {
            total += scaled[r * cols + j] * work[j] - fixed[j] * fixed[j];
        }
    }
    total
}

#[test]
fn offsets_ranges_and_array_kinds() {
    let m = vec![
        0.3, -0.9, 1.4, 0.2, //
        -0.5, 0.8, 0.6, -1.3, //
        1.1, 0.25, -0.7, 0.9,
    ];
    let v: Array1<f64> = array![0.8, -1.3, 0.45, 1.7];
    let f = [0.2, -0.6, 1.1, 0.35];
    // `skip = 4` leaves the last loop empty, `skip = 9` makes its range empty backwards.
    for skip in [0, 2, 4, 9] {
        check::gradient(
            |(m, v, f): &(Vec<f64>, Array1<f64>, [f64; 4])| window_kinds(m, v, *f, skip),
            |(m, v, f)| window_kinds_grad(m, v, *f, skip).1,
            &(m.clone(), v.clone(), f),
        )
        .assert();
        let (value, (gm, gv, gf)) = window_kinds_grad(&m, &v, f, skip);
        let (value2, pullback) = window_kinds_vjp(&m, &v, f, skip);
        let (vm, vv, vf) = pullback(1.0);
        assert_eq!(value, value2);
        assert_close(&gm, &vm);
        assert_close(gv.as_slice().unwrap(), vv.as_slice().unwrap());
        assert_close(&gf, &vf);
    }
}

/// Near misses: one buffer at two offsets (`d_x[j]` and `d_x[j + 1]`), a counter that
/// steps by two (`l`), and an array the body also reads whole (`x.len()`). `x` stays out of
/// the windows in all three loops while `y` beside it is windowed (and `d_x` in the third).
#[differentiable]
fn near_misses(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for j in 0..n - 1 {
        s += (x[j + 1] - x[j] * x[j]).powi(2) * y[j];
    }
    let mut l = 0;
    for j in 0..n / 2 {
        s += x[l] * y[j];
        l += 2;
    }
    for j in 0..n {
        s += y[j] * (x.len() as f64) * x[j].cos();
    }
    s
}

#[test]
fn loops_that_keep_their_form() {
    for (x, y) in [
        (
            vec![0.3, -0.9, 1.4, 0.2, 0.7],
            vec![1.5, -0.5, 0.8, 2.0, 0.1],
        ),
        (vec![-1.2, 0.4, 0.9], vec![0.6, 1.1, -0.3]),
    ] {
        check::gradient(
            |(x, y): &(Vec<f64>, Vec<f64>)| near_misses(x, y),
            |(x, y)| near_misses_grad(x, y).1,
            &(x.clone(), y.clone()),
        )
        .assert();
    }
}

/// A packed strictly lower triangle walked by a counter, as GMM's `Q (x − μ)`: `t[l]` with
/// `l` stepped once per iteration, whose reverse reads `t[l]` after the step. Then a
/// counter read after the user's step (so before it in the reverse loop) over an `i32`
/// range.
#[differentiable]
fn packed_triangle(t: &[f64], v: &[f64]) -> f64 {
    let d = v.len();
    let mut z = vec![0.0; d];
    for j in 0..d {
        z[j] = v[j] * v[j];
    }
    let mut l = 0;
    for a in 0..d {
        for b in a + 1..d {
            z[b] += t[l] * v[a];
            l += 1;
        }
    }
    let mut s = 0.0;
    for j in 0..d {
        s += z[j].sin();
    }
    let mut k = 0;
    for j in 0..(t.len() as i32 - 1) {
        k += 1;
        s += t[k] * t[k] * f64::from(j + 2);
    }
    s
}

#[test]
fn counters_walk_their_windows() {
    let t = [0.3, -0.9, 1.4, 0.2, -0.5, 0.8, 0.6, -1.3, 1.1, 0.25];
    let v = [0.7, -0.2, 1.1, 0.45, -0.8];
    // d = 1 leaves every triangle loop and the `i32` range empty; d = 2 runs them once.
    for d in [1, 2, 3, 5] {
        let (t, v) = (t[..d * (d - 1) / 2].to_vec(), v[..d].to_vec());
        check::gradient(
            |(t, v): &(Vec<f64>, Vec<f64>)| packed_triangle(t, v),
            |(t, v)| packed_triangle_grad(t, v).1,
            &(t.clone(), v.clone()),
        )
        .assert();
        let (value, (gt, gv)) = packed_triangle_grad(&t, &v);
        let (value2, pullback) = packed_triangle_vjp(&t, &v);
        let (vt, vv) = pullback(1.0);
        assert_eq!(value, value2);
        assert_close(&gt, &vt);
        assert_close(&gv, &vv);
    }
}

/// The same windows in generic code, run in `f32` and `f64`.
#[differentiable]
fn generic_rows<T: autodiff::Real>(m: &[T], w: &[T]) -> T {
    let cols = w.len();
    let mut acc = vec![T::zero(); cols];
    let mut s = T::zero();
    for r in 0..m.len() / cols {
        for j in 0..cols {
            acc[j] += m[r * cols + j] * w[j];
        }
    }
    for j in 0..cols {
        s += acc[j].tanh();
    }
    s
}

#[test]
fn windows_in_generic_code() {
    let m = vec![0.3, -0.9, 1.4, -0.5, 0.8, 0.6];
    let w = vec![0.7, -0.2, 1.1];
    check::gradient(
        |(m, w): &(Vec<f64>, Vec<f64>)| generic_rows(m, w),
        |(m, w)| generic_rows_grad(m, w).1,
        &(m.clone(), w.clone()),
    )
    .assert();
    let m32: Vec<f32> = m.iter().map(|&v| v as f32).collect();
    let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    let (_, (gm32, _)) = generic_rows_grad(&m32, &w32);
    let (_, (gm, _)) = generic_rows_grad(&m, &w);
    for (a, b) in gm32.iter().zip(&gm) {
        assert!(
            (f64::from(*a) - b).abs() < 1e-4 * (1.0 + b.abs()),
            "{a} vs {b}"
        );
    }
}
