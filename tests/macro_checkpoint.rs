//! Loop bodies the reverse sweep runs again instead of taping (checkpointing), and element
//! adjoints summed over a loop: gradients against finite differences, for bodies that are
//! checkpointed and for their near misses that must not be (`autodiff-macros` unit tests
//! check which is which).

#![allow(clippy::needless_range_loop)]

use autodiff::check;
use autodiff::differentiable;

/// A tuple of three input vectors, the way `check` perturbs them.
type Three = (Vec<f64>, Vec<f64>, Vec<f64>);

/// Work arrays rewritten in every iteration, a triangular loop accumulating into one of
/// them, a branch and a `while` in the body, an outer array written only and scalar
/// accumulators: the inner loop over `c` is run again in the reverse sweep.
#[differentiable]
fn mixture_like(weights: &[f64], centers: &[f64], lower: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let k = weights.len();
    let d = centers.len() / k;
    let n = x.len() / d;
    let mut diff = vec![0.0; d];
    let mut scaled = vec![0.0; d];
    let mut terms = vec![0.0; k];
    let mut total = 0.0;
    for i in 0..n {
        for c in 0..k {
            for j in 0..d {
                diff[j] = x[i * d + j] - centers[c * d + j];
            }
            for j in 0..d {
                scaled[j] = diff[j] * weights[c];
            }
            let mut l = c * d * d;
            for a in 0..d {
                for b in a + 1..d {
                    scaled[b] += lower[l] * diff[a];
                    l += 1;
                }
            }
            let mut norm = 0.0;
            for j in 0..d {
                if scaled[j] > 0.0 {
                    norm += scaled[j] * scaled[j];
                } else {
                    norm += 0.5 * scaled[j] * scaled[j];
                }
            }
            let mut halvings = 0;
            let mut damp = norm;
            while damp > 4.0 && halvings < 3 {
                damp *= 0.5;
                halvings += 1;
            }
            terms[c] = weights[c] * weights[c] - damp;
        }
        let mut best = terms[0];
        for c in 1..k {
            best = best.max(terms[c]);
        }
        total += best;
    }
    total
}

fn mixture_inputs() -> (Three, Vec<f64>) {
    let (k, d, n) = (3, 4, 5);
    let wave = |len: usize, f: f64, off: f64| -> Vec<f64> {
        (0..len)
            .map(|i| off + 0.8 * (f * i as f64 + 0.3).sin())
            .collect()
    };
    (
        (
            wave(k, 1.7, 0.9),
            wave(k * d, 0.9, 0.1),
            wave(k * d * d, 2.3, 0.05),
        ),
        wave(n * d, 1.1, -0.2),
    )
}

#[test]
fn checkpointed_loop_with_work_arrays_branches_and_while() {
    let (inputs, x) = mixture_inputs();
    check::gradient(
        |(w, m, l): &Three| mixture_like(w, m, l, &x),
        |(w, m, l)| mixture_like_grad(w, m, l, &x).1,
        &inputs,
    )
    .assert();
    // Scaled up so that the `while` halves, and shifted so that branches flip.
    let (w, m, l) = &inputs;
    let big: Three = (
        w.iter().map(|v| 3.0 * v).collect(),
        m.iter().map(|v| v - 0.7).collect(),
        l.clone(),
    );
    check::gradient(
        |(w, m, l): &Three| mixture_like(w, m, l, &x),
        |(w, m, l)| mixture_like_grad(w, m, l, &x).1,
        &big,
    )
    .assert();
}

#[test]
fn checkpointed_loop_vjp_scales_with_the_seed() {
    let (inputs, x) = mixture_inputs();
    let (w, m, l) = &inputs;
    let (value, grad) = mixture_like_grad(w, m, l, &x);
    let (value2, pullback) = mixture_like_vjp(w, m, l, &x);
    assert_eq!(value, value2);
    let (gw, gm, gl) = pullback(-2.5);
    for (a, b) in gw.iter().zip(&grad.0) {
        assert!((a + 2.5 * b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
    }
    assert_eq!(gm.len(), grad.1.len());
    assert_eq!(gl.len(), grad.2.len());
}

/// The loop body carries `w[0]` from one iteration to the next: it is taped, not run again.
#[differentiable]
fn carried_work(x: &[f64]) -> f64 {
    let mut w = vec![1.0; 2];
    let mut s = 0.0;
    for i in 0..x.len() {
        for j in 0..1 {
            w[j + 1] = w[j] * 0.5;
        }
        w[0] = x[i] * w[1] + 0.3;
        s += w[0] * w[0];
    }
    s
}

#[test]
fn loop_carried_work_array() {
    let x = vec![0.7, -1.2, 0.4, 1.9, -0.3];
    check::gradient(
        |x: &Vec<f64>| carried_work(x),
        |x| carried_work_grad(x).1,
        &x,
    )
    .assert();
}

/// The array the loop reads is written again after it: the loop is taped.
#[differentiable]
fn rewritten_after(x: &[f64]) -> f64 {
    let n = x.len();
    let mut c = vec![0.0; n];
    for j in 0..n {
        c[j] = x[j] * 2.0;
    }
    let mut w = vec![0.0; n];
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            w[j] = c[j] * x[i];
        }
        for j in 0..n {
            s += w[j] * w[j] * c[j];
        }
    }
    c[0] = 5.0 * x[0] * x[1];
    s + c[0] * c[1]
}

#[test]
fn input_array_rewritten_after_the_loop() {
    let x = vec![0.7, -1.2, 0.4, 1.9];
    check::gradient(
        |x: &Vec<f64>| rewritten_after(x),
        |x| rewritten_after_grad(x).1,
        &x,
    )
    .assert();
}

/// The same loop without the later write (checkpointed), with a scalar work variable set
/// outright in every iteration, zero iterations of the outer loop and of the inner one.
#[differentiable]
#[allow(unused_assignments)] // `t` starts as the user wrote it, then is set every iteration
fn scalar_work(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let mut w = vec![0.0; n];
    let mut t = 0.0;
    let mut s = 0.0;
    for i in 0..y.len() {
        t = y[i] * y[i];
        for j in 0..n {
            w[j] = x[j] * t;
        }
        for j in 0..n {
            s += w[j].sin() * x[j];
        }
        s += t;
    }
    s
}

#[test]
fn scalar_work_variable_and_empty_loops() {
    let x = vec![0.7, -1.2, 0.4, 1.9];
    let y = vec![0.3, -0.8, 1.1];
    for (x, y) in [
        (x.clone(), y.clone()),
        (vec![], y.clone()),
        (x.clone(), vec![]),
        (x.clone(), vec![0.45]),
    ] {
        check::gradient(
            |(x, y): &(Vec<f64>, Vec<f64>)| scalar_work(x, y),
            |(x, y)| scalar_work_grad(x, y).1,
            &(x, y),
        )
        .assert();
    }
}

/// Reads `x[a]` with `a` fixed in the inner loop: its adjoint is summed over the loop.
#[differentiable]
fn triangle(x: &[f64], w: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for a in 0..n {
        for b in a + 1..n {
            let xa = x[a];
            s += xa * x[b] * w[b];
        }
    }
    s
}

#[test]
fn element_adjoint_summed_over_the_inner_loop() {
    let x = vec![0.7, -1.2, 0.4, 1.9, -0.6];
    let w = vec![1.3, 0.2, -0.9, 0.5, 1.1];
    check::gradient(
        |(x, w): &(Vec<f64>, Vec<f64>)| triangle(x, w),
        |(x, w)| triangle_grad(x, w).1,
        &(x, w),
    )
    .assert();
    // A last row with no inner iteration, and a single element.
    check::gradient(
        |(x, w): &(Vec<f64>, Vec<f64>)| triangle(x, w),
        |(x, w)| triangle_grad(x, w).1,
        &(vec![0.3], vec![0.8]),
    )
    .assert();
}

// ---- `NAME_grad` reverses a last accumulating loop in its forward sweep ----

/// A last loop that only accumulates the returned scalar (`+=` and `-=`), reading inputs, a
/// top-level active value and a branch; the output's initial value is itself active.
#[differentiable]
fn accumulated(x: &[f64], y: f64) -> f64 {
    let scale = y * y + 0.5;
    let mut s = x[0] * y;
    for i in 1..x.len() {
        let a = x[i - 1];
        let b = x[i];
        if a > b {
            s += scale * (a - b).powi(2);
        } else {
            s -= (b * a).sin() * y;
        }
        for j in 0..i {
            s += 0.1 * x[j] * b;
        }
    }
    assert!(s.is_finite(), "accumulated: {s}");
    s
}

#[test]
fn accumulating_last_loop_matches_finite_differences_and_the_vjp() {
    for (x, y) in [
        (vec![0.7, -1.2, 0.4, 1.9, -0.3], 1.3),
        (vec![0.2, 0.9, 1.4], -0.6),
        (vec![0.5], 0.8),
    ] {
        check::gradient(
            |(x, y): &(Vec<f64>, f64)| accumulated(x, *y),
            |(x, y)| accumulated_grad(x, *y).1,
            &(x.clone(), y),
        )
        .assert();
        // `_vjp` keeps the loop in its pullback: both must agree to rounding.
        let (value, (gx, gy)) = accumulated_grad(&x, y);
        let (value2, pullback) = accumulated_vjp(&x, y);
        let (vx, vy) = pullback(1.0);
        assert_eq!(value, value2);
        assert!((gy - vy).abs() <= 1e-12 * (1.0 + gy.abs()));
        for (a, b) in gx.iter().zip(&vx) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}

/// A fused loop whose work arrays are read after the loops that write them. What is read
/// as the iteration left it (`t` after its loop, `u` and `v` in the last sum) `NAME_grad`
/// reads again in the reverse instead of taping it; `t[c]` in the loop writing `t`, and
/// `u[c]` and `v[c]` in the (merged) loop writing both, are taped.
#[differentiable]
fn reads_after_writing(x: &[f64], y: &[f64]) -> f64 {
    let k = y.len();
    let mut t = vec![0.0; k];
    let mut u = vec![0.0; k];
    let mut v = vec![0.0; k];
    let mut s = 0.0;
    for i in 0..x.len() {
        for c in 0..k {
            t[c] = x[i] * y[c];
            u[c] = t[c].sin();
        }
        let mut m = t[0];
        for c in 1..k {
            m = m.max(t[c]);
        }
        let mut e = 0.0;
        for c in 0..k {
            e += (t[c] - m).exp();
        }
        for c in 0..k {
            v[c] = u[c] * t[c];
        }
        for c in 0..k {
            u[c] = v[c] * y[c];
        }
        let mut w = 0.0;
        for c in 0..k {
            w += u[c] * v[c];
        }
        s += e.ln() + m + w;
    }
    s
}

#[test]
fn fused_loop_reading_work_arrays_back() {
    for (x, y) in [
        (vec![0.7, -1.2, 0.4], vec![1.3, -0.4, 0.9, 2.1]),
        (vec![-0.3, 1.1], vec![0.6, 1.7]),
        (vec![0.8], vec![-1.4]),
    ] {
        check::gradient(
            |(x, y): &(Vec<f64>, Vec<f64>)| reads_after_writing(x, y),
            |(x, y)| reads_after_writing_grad(x, y).1,
            &(x.clone(), y.clone()),
        )
        .assert();
        let (value, (gx, gy)) = reads_after_writing_grad(&x, &y);
        let (value2, pullback) = reads_after_writing_vjp(&x, &y);
        let (vx, vy) = pullback(1.0);
        assert_eq!(value, value2);
        for (a, b) in gx.iter().chain(&gy).zip(vx.iter().chain(&vy)) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}

/// Three fused loops (their sums reach the output through `+`). The first reads each
/// element of `x` once (`x[3 * i + k]`), so its reverse stores their adjoints instead of
/// adding them; the second stores `y`'s but must add `x`'s, which the first already wrote;
/// the third reads `z[i]` twice and `z[i + 1]`, shared with the next iteration: it adds.
#[differentiable]
fn strided(x: &[f64], y: &[f64], z: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() / 3 {
        let a = x[3 * i];
        let c = x[3 * i + 2];
        let b = x[1 + i * 3];
        s += a * b - c.sin();
    }
    let mut t = 0.0;
    for i in (0..y.len()).rev() {
        let p = y[i];
        let r = x[i];
        t += p * p * r;
    }
    let mut v = 0.0;
    for i in 0..z.len() - 1 {
        let e = z[i];
        let f = z[i + 1];
        let w = z[i];
        v += e * f + w.exp();
    }
    s + t + v
}

#[test]
fn fused_loops_storing_or_adding_element_adjoints() {
    let inputs = (
        vec![0.7, -1.2, 0.4, 1.9, -0.3, 0.8],
        vec![0.2, 0.9, -1.4, 0.6],
        vec![0.5, -0.25, 1.1, 0.35, -0.9],
    );
    check::gradient(
        |(x, y, z): &Three| strided(x, y, z),
        |(x, y, z)| strided_grad(x, y, z).1,
        &inputs,
    )
    .assert();
    let (x, y, z) = &inputs;
    let (_, pullback) = strided_vjp(x, y, z);
    let (gx, gy, gz) = strided_grad(x, y, z).1;
    let (vx, vy, vz) = pullback(1.0);
    for (a, b) in [gx, gy, gz].concat().iter().zip([vx, vy, vz].concat()) {
        assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
    }
}

/// Adjacent loops over one range, merged into one before the analysis (`merge_loops.rs` in
/// `autodiff-macros`): at the top level, inside a loop over data points (a branch in the
/// merged body, a reduction merged too), and two near misses that must stay apart: a sum
/// read by the next loop, and a loop reading the element after its own.
#[differentiable]
fn merged(m: &[f64], q: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let d = q.len();
    let n = x.len() / d;
    let mut e = vec![0.0; d];
    for j in 0..d {
        e[j] = q[j].exp();
    }
    for j in 0..d {
        e[j] = e[j] * q[j] + 1.0;
    }
    let mut xc = vec![0.0; d];
    let mut z = vec![0.0; d];
    let mut total = 0.0;
    for i in 0..n {
        let mut s = 0.0;
        for j in 0..d {
            xc[j] = x[i * d + j] - m[j];
        }
        for j in 0..d {
            let t = e[j] * xc[j];
            if t > 0.0 {
                z[j] = t;
            } else {
                z[j] = 0.5 * t;
            }
        }
        for j in 0..d {
            s += z[j] * z[j] + xc[j];
        }
        total += s.sqrt();
    }
    let mut acc = 0.0;
    for j in 0..d {
        acc += m[j] * m[j];
    }
    for j in 0..d {
        total += m[j] / (1.0 + acc);
    }
    let mut w = vec![0.0; d + 1];
    for j in 0..d {
        w[j] = q[j] * m[j];
    }
    for j in 0..d {
        total += w[j + 1] * (0.3 + j as f64);
    }
    total
}

#[test]
fn merged_loops() {
    let x = vec![0.7, -1.2, 0.4, 1.9, -0.3, 0.8, 1.3, 0.2, -0.6];
    let inputs = (vec![0.2, -0.9, 0.45], vec![0.5, -0.25, 1.1]);
    check::gradient(
        |(m, q): &(Vec<f64>, Vec<f64>)| merged(m, q, &x),
        |(m, q)| merged_grad(m, q, &x).1,
        &inputs,
    )
    .assert();
    let (m, q) = &inputs;
    // Each element sees the same operations in the same order: the same value, exactly.
    assert_eq!(merged_grad(m, q, &x).0, merged(m, q, &x));
    let (gm, gq) = merged_grad(m, q, &x).1;
    let (vm, vq) = merged_vjp(m, q, &x).1(1.0);
    for (a, b) in [gm, gq].concat().iter().zip([vm, vq].concat()) {
        assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
    }
}

/// The loop reads the accumulator, so its iterations depend on each other: not reversed
/// early.
#[differentiable]
fn compounding(x: &[f64]) -> f64 {
    let mut s = 1.0;
    for i in 0..x.len() {
        s += 0.1 * s * x[i];
    }
    s
}

#[test]
fn loop_reading_its_accumulator() {
    let x = vec![0.7, -1.2, 0.4, 1.9, -0.3];
    check::gradient(|x: &Vec<f64>| compounding(x), |x| compounding_grad(x).1, &x).assert();
}

/// A model's loss as a sum over data points: a method with `&self` (the receiver's adjoint
/// is declared before the fused loop) and a generic scalar type.
#[derive(Clone, Debug, autodiff::Differentiable)]
struct Line<T: autodiff::Real> {
    slope: T,
    offsets: Vec<T>,
}

impl<T: autodiff::Real> Line<T> {
    #[differentiable]
    fn loss(&self, #[no_grad] xs: &[T], #[no_grad] ys: &[T]) -> T {
        let k = self.offsets.len();
        let mut s = T::zero();
        for i in 0..xs.len() {
            let r = self.slope * xs[i] + self.offsets[i % k] - ys[i];
            s += r * r;
        }
        s
    }
}

#[test]
fn fused_loop_in_a_generic_method() {
    let xs = vec![0.3, -1.1, 0.8, 1.7, -0.4];
    let ys = vec![1.0, -0.5, 0.2, 2.1, 0.0];
    let line = Line {
        slope: 0.7,
        offsets: vec![0.1, -0.3],
    };
    check::gradient(
        |l: &Line<f64>| l.loss(&xs, &ys),
        |l| l.loss_grad(&xs, &ys).1,
        &line,
    )
    .assert();
    // f32 runs the same generated code.
    let line32 = Line {
        slope: 0.7f32,
        offsets: vec![0.1, -0.3],
    };
    let xs32: Vec<f32> = xs.iter().map(|&v| v as f32).collect();
    let ys32: Vec<f32> = ys.iter().map(|&v| v as f32).collect();
    let (_, g32) = line32.loss_grad(&xs32, &ys32);
    let (_, g64) = line.loss_grad(&xs, &ys);
    assert!((f64::from(g32.slope) - g64.slope).abs() < 1e-4 * (1.0 + g64.slope.abs()));
}

/// A checkpointed body in generic code.
#[differentiable]
fn generic_work<T: autodiff::Real>(x: &[T], m: &[T]) -> T {
    let d = m.len();
    let mut w = vec![T::zero(); d];
    let mut s = T::zero();
    for i in 0..x.len() {
        for j in 0..d {
            w[j] = x[i] * m[j];
        }
        for a in 0..d {
            for b in a + 1..d {
                let t = w[a] * m[a];
                w[b] += t;
            }
        }
        for j in 0..d {
            s += w[j].sin();
        }
    }
    s * s
}

#[test]
fn checkpointed_loop_in_generic_code() {
    let x = vec![0.7, -1.2, 0.4];
    let m = vec![0.3, 0.9, -0.5, 1.1];
    check::gradient(
        |(x, m): &(Vec<f64>, Vec<f64>)| generic_work(x, m),
        |(x, m)| generic_work_grad(x, m).1,
        &(x, m),
    )
    .assert();
}

#[differentiable]
fn huber_term(r: f64, delta: f64) -> f64 {
    if r.abs() <= delta {
        0.5 * r * r
    } else {
        delta * (r.abs() - 0.5 * delta)
    }
}

/// A fused loop that calls a differentiable function and keeps a work array across its
/// statements: the call's pullback runs right after it, iteration by iteration.
#[differentiable]
fn robust_fit(params: &[f64], #[no_grad] xs: &[f64], #[no_grad] ys: &[f64]) -> f64 {
    let mut pred = vec![0.0; 2];
    let mut total = 0.0;
    for i in 0..xs.len() {
        pred[0] = params[0] + params[1] * xs[i];
        pred[1] = pred[0] * params[2];
        let r = pred[1] - ys[i];
        total += huber_term(r, params[3]);
    }
    let reg = 0.01 * params[1] * params[1];
    // A sum after the loop: the adjoint of `total` is still the output's.
    total + reg
}

#[test]
fn fused_loop_with_a_call_and_a_work_array() {
    let xs = vec![0.3, -1.1, 0.8, 1.7, -0.4, 2.2];
    let ys = vec![1.0, -0.5, 0.2, 2.1, 0.0, 5.0];
    for p in [vec![0.2, 0.9, 1.1, 0.7], vec![-0.4, 1.3, 0.8, 2.5]] {
        check::gradient(
            |p: &Vec<f64>| robust_fit(p, &xs, &ys),
            |p| robust_fit_grad(p, &xs, &ys).1,
            &p,
        )
        .assert();
        let (v, g) = robust_fit_grad(&p, &xs, &ys);
        let (v2, pullback) = robust_fit_vjp(&p, &xs, &ys);
        assert_eq!(v, v2);
        for (a, b) in g.iter().zip(&pullback(1.0)) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}

/// Inside a fused loop, a checkpointed inner loop keeps copies of its work arrays instead of
/// running again (`NAME_grad`); `NAME_vjp` runs it again. Work arrays as a fixed array and
/// an ndarray vector.
#[differentiable]
fn snapshot_kinds(m: &[f64], v: &autodiff::ndarray::Array1<f64>, #[no_grad] x: &[f64]) -> f64 {
    let d = 3;
    let mut fixed = [0.0; 3];
    let mut arr = autodiff::ndarray::Array1::<f64>::zeros(3);
    let mut total = 0.0;
    for i in 0..x.len() {
        let mut inner = vec![0.0; 2];
        for c in 0..2 {
            for j in 0..d {
                fixed[j] = x[i] - m[c * d + j];
            }
            for j in 0..d {
                arr[j] = fixed[j] * v[j];
            }
            let mut q = 0.0;
            for j in 0..d {
                q += arr[j] * arr[j] + fixed[j].sin();
            }
            inner[c] = q;
        }
        total += inner[0] * inner[1];
    }
    total
}

#[test]
fn snapshots_of_fixed_and_ndarray_work_arrays() {
    use autodiff::ndarray::{Array1, array};
    let x = vec![0.7, -1.2, 0.4, 1.9];
    let m = vec![0.3, 0.9, -0.5, 1.1, -0.2, 0.6];
    let v: Array1<f64> = array![0.8, -1.3, 0.45];
    check::gradient(
        |(m, v): &(Vec<f64>, Array1<f64>)| snapshot_kinds(m, v, &x),
        |(m, v)| snapshot_kinds_grad(m, v, &x).1,
        &(m.clone(), v.clone()),
    )
    .assert();
    let (value, (gm, gv)) = snapshot_kinds_grad(&m, &v, &x);
    let (value2, pullback) = snapshot_kinds_vjp(&m, &v, &x);
    let (vm, vv) = pullback(1.0);
    assert_eq!(value, value2);
    for (a, b) in gm.iter().chain(gv.iter()).zip(vm.iter().chain(vv.iter())) {
        assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
    }
}

/// As [`snapshot_kinds`], with a work array that a branch condition reads (`w`): its copy is
/// put back before the reverse of an iteration; the copy of `u`, read only by element, is
/// read where it lies on the tape.
#[differentiable]
fn snapshot_read_whole(m: &[f64], #[no_grad] x: &[f64]) -> f64 {
    let d = m.len() / 2;
    let mut u = vec![0.0; d];
    let mut w = vec![0.0; d];
    let mut total = 0.0;
    for i in 0..x.len() {
        let mut inner = vec![0.0; 2];
        for c in 0..2 {
            for j in 0..d {
                u[j] = x[i] - m[c * d + j];
                w[j] = u[j] * m[j];
            }
            let mut q = 0.0;
            for j in 0..d {
                if w[j] > 0.0 {
                    q += w[j] * u[j];
                } else {
                    q -= w[j].sin();
                }
            }
            inner[c] = q;
        }
        total += inner[0] * inner[1];
    }
    total
}

#[test]
fn snapshots_put_back_or_read_in_place() {
    for (m, x) in [
        (
            vec![0.3, 0.9, -0.5, 1.1, -0.2, 0.6],
            vec![0.7, -1.2, 0.4, 1.9],
        ),
        (vec![-0.8, 0.35, 1.4, 0.2], vec![0.15, -0.6, 2.2]),
    ] {
        check::gradient(
            |m: &Vec<f64>| snapshot_read_whole(m, &x),
            |m| snapshot_read_whole_grad(m, &x).1,
            &m,
        )
        .assert();
        let (value, gm) = snapshot_read_whole_grad(&m, &x);
        let (value2, pullback) = snapshot_read_whole_vjp(&m, &x);
        assert_eq!(value, value2);
        for (a, b) in gm.iter().zip(&pullback(1.0)) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }
}
