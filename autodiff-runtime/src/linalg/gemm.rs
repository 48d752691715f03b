//! The runtime's one general matrix multiply: `C ← α A B + β C`.
//!
//! Every matrix product of the runtime (`dot` and its adjoints, `ops::matmul`, `nn`'s
//! linear and convolution layers) goes through [`gemm`]. It takes ndarray views, so a
//! transpose is a view (`w.t()`) with swapped strides and is never copied: the engine reads
//! any strides, including negative ones.
//!
//! Engine, chosen by measurement (docs/gemm.md): faer's single-threaded kernels for `f32`
//! and `f64`, which pick AVX-512 or AVX2 micro-kernels at run time. With the cargo feature
//! `openblas`, ndarray's BLAS path is used instead (system OpenBLAS; ndarray itself falls
//! back to `matrixmultiply` for layouts BLAS cannot take).

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Real;

/// `C ← α A B + β C` for `A: m×k`, `B: k×n`, `C: m×n`, each with arbitrary strides.
///
/// With `β = 0`, `C` is only written, never read (a `NaN` in `C` does not survive), as
/// in BLAS.
///
/// # Panics
/// When the shapes do not agree; the message names all three.
#[track_caller]
pub(crate) fn gemm<A: Real>(
    alpha: A,
    a: ArrayView2<'_, A>,
    b: ArrayView2<'_, A>,
    beta: A,
    c: ArrayViewMut2<'_, A>,
) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(
        k == k2 && c.dim() == (m, n),
        "gemm: shapes do not agree: A {:?} times B {:?} into C {:?}",
        a.shape(),
        b.shape(),
        c.shape()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == A::zero() {
        scale(beta, c);
        return;
    }
    engine(alpha, a, b, beta, c);
}

/// `C ← β C`, with `β = 0` writing zeros.
fn scale<A: Real>(beta: A, mut c: ArrayViewMut2<'_, A>) {
    if beta == A::zero() {
        c.fill(A::zero());
    } else if beta != A::one() {
        c.map_inplace(|v| *v *= beta);
    }
}

#[cfg(feature = "openblas")]
fn engine<A: Real>(
    alpha: A,
    a: ArrayView2<'_, A>,
    b: ArrayView2<'_, A>,
    beta: A,
    mut c: ArrayViewMut2<'_, A>,
) {
    ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c);
}

#[cfg(not(feature = "openblas"))]
fn engine<A: Real>(
    alpha: A,
    a: ArrayView2<'_, A>,
    b: ArrayView2<'_, A>,
    beta: A,
    c: ArrayViewMut2<'_, A>,
) {
    use std::any::TypeId;

    if TypeId::of::<A>() == TypeId::of::<f32>() {
        faer_gemm::<A, f32>(alpha.to_f64() as f32, a, b, beta, c);
    } else if TypeId::of::<A>() == TypeId::of::<f64>() {
        faer_gemm::<A, f64>(alpha.to_f64(), a, b, beta, c);
    } else {
        // Another `Real` type: ndarray's portable kernel.
        let mut c = c;
        ndarray::linalg::general_mat_mul(alpha, &a, &b, beta, &mut c);
    }
}

/// The faer call for `A == T` (checked by the caller through `TypeId`).
#[cfg(not(feature = "openblas"))]
fn faer_gemm<A: Real, T: faer::traits::ComplexField + Copy + 'static>(
    alpha: T,
    a: ArrayView2<'_, A>,
    b: ArrayView2<'_, A>,
    beta: A,
    mut c: ArrayViewMut2<'_, A>,
) {
    use faer::{Accum, MatMut, MatRef, Par};

    debug_assert_eq!(std::any::TypeId::of::<A>(), std::any::TypeId::of::<T>());
    // faer accumulates with β ∈ {0, 1}; any other β is applied to C first.
    let accum = if beta == A::zero() {
        Accum::Replace
    } else {
        if beta != A::one() {
            scale(beta, c.view_mut());
        }
        Accum::Add
    };
    let ((m, k), n) = (a.dim(), b.ncols());
    let (sa, sb, sc) = (a.strides(), b.strides(), c.strides());
    let (sa, sb, sc) = ((sa[0], sa[1]), (sb[0], sb[1]), (sc[0], sc[1]));
    // SAFETY: `A` and `T` are the same type (checked by the caller), so the pointer casts
    // only rename the element type. Each view's pointer, shape and strides describe
    // exactly the elements ndarray guarantees valid for that view; `c` is borrowed
    // mutably, so it aliases neither `a` nor `b`, and the borrows outlive the call.
    unsafe {
        let a = MatRef::<T>::from_raw_parts(a.as_ptr().cast::<T>(), m, k, sa.0, sa.1);
        let b = MatRef::<T>::from_raw_parts(b.as_ptr().cast::<T>(), k, n, sb.0, sb.1);
        let c = MatMut::<T>::from_raw_parts_mut(c.as_mut_ptr().cast::<T>(), m, n, sc.0, sc.1);
        faer::linalg::matmul::matmul(c, accum, a, b, alpha, Par::Seq);
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder, s};

    use super::*;

    fn naive(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|l| a[[i, l]] * b[[l, j]]).sum()
        })
    }

    fn filled(r: usize, c: usize, seed: u64) -> Array2<f64> {
        Array2::from_shape_fn((r, c), |(i, j)| {
            ((i * 31 + j * 17 + seed as usize) % 23) as f64 / 7.0 - 1.5
        })
    }

    #[test]
    fn every_layout_and_beta() {
        let (m, k, n) = (13, 29, 7);
        let a = filled(m, k, 1);
        let b = filled(k, n, 2);
        let want = naive(&a, &b);
        // Transposed operands and a column-major destination.
        let at = a.t().as_standard_layout().into_owned();
        let bt = b.t().as_standard_layout().into_owned();
        for beta in [0.0, 1.0, 0.5] {
            for f_order in [false, true] {
                let mut c = Array2::from_elem((m, n).set_f(f_order), 2.0);
                gemm(1.5, at.t(), bt.t(), beta, c.view_mut());
                let expected = &want * 1.5 + beta * 2.0;
                assert!(
                    (&c - &expected).iter().all(|e| e.abs() < 1e-12),
                    "beta {beta}, f {f_order}"
                );
            }
        }
        // Negative strides and f32.
        let mut c = Array2::<f32>::zeros((m, n));
        let a32 = a.mapv(|v| v as f32);
        let b32 = b.mapv(|v| v as f32);
        gemm(1.0, a32.slice(s![..;-1, ..]), b32.view(), 0.0, c.view_mut());
        let flipped = want.slice(s![..;-1, ..]).to_owned();
        assert!(
            c.iter()
                .zip(&flipped)
                .all(|(x, y)| (*x as f64 - y).abs() < 1e-4)
        );
    }

    #[test]
    fn beta_zero_overwrites_nan_and_empty_inner_dimension_scales() {
        let a = Array2::<f64>::ones((2, 3));
        let b = Array2::<f64>::ones((3, 2));
        let mut c = Array2::from_elem((2, 2), f64::NAN);
        gemm(1.0, a.view(), b.view(), 0.0, c.view_mut());
        assert_eq!(c, Array2::from_elem((2, 2), 3.0));
        let mut c = Array2::from_elem((2, 2), 4.0);
        gemm(
            1.0,
            Array2::zeros((2, 0)).view(),
            Array2::zeros((0, 2)).view(),
            0.5,
            c.view_mut(),
        );
        assert_eq!(c, Array2::from_elem((2, 2), 2.0));
    }

    #[test]
    #[should_panic(expected = "gemm: shapes do not agree: A [2, 3] times B [2, 2] into C [2, 2]")]
    fn mismatched_shapes_panic() {
        let mut c = Array2::<f64>::zeros((2, 2));
        gemm(
            1.0,
            Array2::zeros((2, 3)).view(),
            Array2::zeros((2, 2)).view(),
            0.0,
            c.view_mut(),
        );
    }
}
