//! Backward halves of the heavy runtime functions, for generated code.
//!
//! A call `nn::linear(x, &w, &b)` in differentiable code runs the public forward as
//! written; the reverse sweep then calls one function per active argument here, giving it
//! the values it needs from the forward sweep's own bindings. Compared with the `_vjp`
//! closures this copies no operand (the closure must own them) and computes no gradient for
//! a passive argument (the input batch of a first layer). Every product goes through the
//! GEMM entry point and accumulates with beta = 1 into an adjoint that already holds a
//! value, or is moved into an empty one.

use ndarray::{Array, Array1, Array2, ArrayView2, Axis, Dimension};

use super::Adjoint;
use crate::Real;
use crate::linalg::gemm::gemm;

/// `sink += a b`, through the GEMM entry point.
#[track_caller]
fn gemm_into<A: Real, S: Adjoint<Value = Array2<A>>>(
    sink: &mut S,
    a: ArrayView2<'_, A>,
    b: ArrayView2<'_, A>,
) {
    if sink.get().is_some() {
        gemm(A::one(), a, b, A::one(), sink.materialize().view_mut());
    } else {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        gemm(A::one(), a, b, A::zero(), c.view_mut());
        sink.add_value(c);
    }
}

// ---- nn::linear, nn::linear_no_bias: y = x W^T (+ b) ----

/// `d_x += d_y W`.
#[track_caller]
pub fn linear_back_0<A: Real, DY, DX>(d: &DY, w: &Array2<A>, dx: &mut DX)
where
    DY: Adjoint<Value = Array2<A>>,
    DX: Adjoint<Value = Array2<A>>,
{
    if let Some(dy) = d.get() {
        gemm_into(dx, dy.view(), w.view());
    }
}

/// `d_W += d_y^T x`.
#[track_caller]
pub fn linear_back_1<A: Real, DY, DW>(d: &DY, x: &Array2<A>, dw: &mut DW)
where
    DY: Adjoint<Value = Array2<A>>,
    DW: Adjoint<Value = Array2<A>>,
{
    if let Some(dy) = d.get() {
        gemm_into(dw, dy.t(), x.view());
    }
}

/// `d_b += Σ_rows d_y`.
#[track_caller]
pub fn linear_back_2<A: Real, DY, DB>(d: &DY, db: &mut DB)
where
    DY: Adjoint<Value = Array2<A>>,
    DB: Adjoint<Value = Array1<A>>,
{
    if let Some(dy) = d.get() {
        db.add_value(dy.sum_axis(Axis(0)));
    }
}

pub use linear_back_0 as linear_no_bias_back_0;
pub use linear_back_1 as linear_no_bias_back_1;

// ---- ops::matmul: y = a b ----

/// `d_a += d_y b^T`.
#[track_caller]
pub fn matmul_back_0<A: Real, DY, DA>(d: &DY, b: &Array2<A>, da: &mut DA)
where
    DY: Adjoint<Value = Array2<A>>,
    DA: Adjoint<Value = Array2<A>>,
{
    if let Some(dy) = d.get() {
        gemm_into(da, dy.view(), b.t());
    }
}

/// `d_b += a^T d_y`.
#[track_caller]
pub fn matmul_back_1<A: Real, DY, DB>(d: &DY, a: &Array2<A>, db: &mut DB)
where
    DY: Adjoint<Value = Array2<A>>,
    DB: Adjoint<Value = Array2<A>>,
{
    if let Some(dy) = d.get() {
        gemm_into(db, a.t(), dy.view());
    }
}

// ---- nn::relu: y = max(x, 0) ----

/// `d_x += d_y ⊙ [y > 0]` (from the output: `relu'(0) = 0`).
#[track_caller]
pub fn relu_back_0<A: Real, D: Dimension, DY, DX>(d: &DY, y: &Array<A, D>, dx: &mut DX)
where
    DY: Adjoint<Value = Array<A, D>>,
    DX: Adjoint<Value = Array<A, D>>,
{
    let Some(dy) = d.get() else { return };
    if dx.get().is_some() {
        let acc = dx.materialize();
        ndarray::Zip::from(acc)
            .and(dy)
            .and(y)
            .for_each(|a, &g, &v| {
                if v > A::zero() {
                    *a += g;
                }
            });
    } else {
        let mut g = dy.clone();
        g.zip_mut_with(y, |g, &v| {
            if v <= A::zero() {
                *g = A::zero();
            }
        });
        dx.add_value(g);
    }
}
