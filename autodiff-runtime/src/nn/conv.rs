//! 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) by im2col and one GEMM per
//! image.
//!
//! For image `n`, `im2col` unrolls every receptive field into a column of a
//! `(C·KH·KW) x (HO·WO)` matrix, so that the convolution is `Y_n = W_mat · col_n` with
//! `W_mat` the weight seen as `O x (C·KH·KW)`. The pullback recomputes `col_n` from the kept
//! input instead of keeping all of them (one `im2col` per image, cheap next to the GEMMs):
//!
//! ```text
//! d_W_mat += d_Y_n · col_n^T
//! d_col_n  = W_mat^T · d_Y_n          then col2im scatters d_col_n back onto d_x[n]
//! ```

use ndarray::{Array1, Array2, Array4, ArrayView2, ArrayView4, Axis};

use super::gemm_shim::gemm;
use super::{check_seed, standard};
use crate::Real;

/// The sizes of one convolution, checked.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    stride: usize,
    padding: usize,
    ho: usize,
    wo: usize,
}

impl Geometry {
    /// Rows of the im2col matrix: `C·KH·KW`.
    fn patch(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Columns of the im2col matrix: `HO·WO`.
    fn positions(&self) -> usize {
        self.ho * self.wo
    }
    /// Elements of one input image: `C·H·W`.
    fn image(&self) -> usize {
        self.c * self.h * self.w
    }
}

#[track_caller]
fn geometry(
    func: &str,
    x: &[usize],
    w: &[usize],
    b: Option<usize>,
    stride: usize,
    padding: usize,
) -> Geometry {
    let (n, c, h, wd) = (x[0], x[1], x[2], x[3]);
    let (o, wc, kh, kw) = (w[0], w[1], w[2], w[3]);
    assert!(stride > 0, "nn::{func}: stride must be positive, got 0");
    assert!(
        c == wc,
        "nn::{func}: x of shape {x:?} has {c} channels but w of shape {w:?} expects {wc} \
         (x is N x C x H x W, w is O x C x KH x KW)"
    );
    if let Some(b) = b {
        assert!(
            b == o,
            "nn::{func}: b has {b} elements but w of shape {w:?} has {o} output channels"
        );
    }
    let (hp, wp) = (h + 2 * padding, wd + 2 * padding);
    assert!(
        kh >= 1 && kw >= 1 && kh <= hp && kw <= wp,
        "nn::{func}: kernel {kh}x{kw} does not fit the padded input {hp}x{wp} \
         (x of shape {x:?}, padding {padding})"
    );
    Geometry {
        n,
        c,
        h,
        w: wd,
        o,
        kh,
        kw,
        stride,
        padding,
        ho: (hp - kh) / stride + 1,
        wo: (wp - kw) / stride + 1,
    }
}

/// Unrolls the receptive fields of one image `x_n` (`C·H·W`, row-major) into `col`
/// (`(C·KH·KW) x (HO·WO)`, row-major); positions in the padding read 0.
fn im2col<A: Real>(g: &Geometry, x_n: &[A], col: &mut [A]) {
    let l = g.positions();
    for c in 0..g.c {
        let plane = &x_n[c * g.h * g.w..][..g.h * g.w];
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = &mut col[((c * g.kh + ki) * g.kw + kj) * l..][..l];
                for (oh, out) in row.chunks_exact_mut(g.wo).enumerate() {
                    let ih = (oh * g.stride + ki).wrapping_sub(g.padding);
                    if ih >= g.h {
                        out.fill(A::zero());
                        continue;
                    }
                    let src = &plane[ih * g.w..][..g.w];
                    for (ow, v) in out.iter_mut().enumerate() {
                        let iw = (ow * g.stride + kj).wrapping_sub(g.padding);
                        *v = if iw < g.w { src[iw] } else { A::zero() };
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every entry of `col` onto the input position it was
/// read from.
fn col2im<A: Real>(g: &Geometry, col: &[A], d_x_n: &mut [A]) {
    let l = g.positions();
    for c in 0..g.c {
        let plane = &mut d_x_n[c * g.h * g.w..][..g.h * g.w];
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = &col[((c * g.kh + ki) * g.kw + kj) * l..][..l];
                for (oh, src) in row.chunks_exact(g.wo).enumerate() {
                    let ih = (oh * g.stride + ki).wrapping_sub(g.padding);
                    if ih >= g.h {
                        continue;
                    }
                    let dst = &mut plane[ih * g.w..][..g.w];
                    for (ow, &v) in src.iter().enumerate() {
                        let iw = (ow * g.stride + kj).wrapping_sub(g.padding);
                        if iw < g.w {
                            dst[iw] += v;
                        }
                    }
                }
            }
        }
    }
}

/// `W` seen as `O x (C·KH·KW)`; `w` in standard layout.
fn weight_matrix<'a, A>(g: &Geometry, w: ArrayView4<'a, A>) -> ArrayView2<'a, A> {
    w.into_shape_with_order((g.o, g.patch()))
        .expect("standard layout")
}

/// `Y[n] = W_mat · im2col(x[n]) (+ b)` for every image; `x` and `w` in standard layout.
fn conv_forward<A: Real>(
    g: &Geometry,
    x: ArrayView4<'_, A>,
    w: ArrayView4<'_, A>,
    b: Option<&Array1<A>>,
) -> Array4<A> {
    let xs = x.to_slice().expect("standard layout");
    let w_mat = weight_matrix(g, w);
    let mut y = Array4::zeros((g.n, g.o, g.ho, g.wo));
    let mut col = Array2::zeros((g.patch(), g.positions()));
    for (n, y_n) in y.outer_iter_mut().enumerate() {
        im2col(
            g,
            &xs[n * g.image()..][..g.image()],
            col.as_slice_mut().expect("standard layout"),
        );
        let mut y_n = y_n
            .into_shape_with_order((g.o, g.positions()))
            .expect("standard layout");
        let beta = match b {
            Some(b) => {
                y_n.axis_iter_mut(Axis(0))
                    .zip(b)
                    .for_each(|(mut row, &bo)| row.fill(bo));
                A::one()
            }
            None => A::zero(),
        };
        gemm(A::one(), w_mat, col.view(), beta, y_n);
    }
    y
}

/// `(d_x, d_w)` of `y = conv(x, w)` for the seed `d_y`; all in standard layout.
fn conv_back<A: Real>(
    g: &Geometry,
    d_y: &Array4<A>,
    x: &Array4<A>,
    w: &Array4<A>,
) -> (Array4<A>, Array4<A>) {
    let xs = x.as_slice().expect("standard layout");
    let w_mat = weight_matrix(g, w.view());
    let mut d_x = Array4::zeros(x.raw_dim());
    let mut d_w_mat = Array2::zeros((g.o, g.patch()));
    let mut col = Array2::zeros((g.patch(), g.positions()));
    let mut d_col = Array2::zeros((g.patch(), g.positions()));
    let d_xs = d_x.as_slice_mut().expect("standard layout");
    for (n, d_y_n) in d_y.outer_iter().enumerate() {
        let d_y_n = d_y_n
            .into_shape_with_order((g.o, g.positions()))
            .expect("standard layout");
        im2col(
            g,
            &xs[n * g.image()..][..g.image()],
            col.as_slice_mut().expect("standard layout"),
        );
        // d_W_mat += d_Y_n · col_n^T
        gemm(A::one(), d_y_n, col.t(), A::one(), d_w_mat.view_mut());
        // d_col_n = W_mat^T · d_Y_n
        gemm(A::one(), w_mat.t(), d_y_n, A::zero(), d_col.view_mut());
        col2im(
            g,
            d_col.as_slice().expect("standard layout"),
            &mut d_xs[n * g.image()..][..g.image()],
        );
    }
    let d_w = d_w_mat
        .into_shape_with_order((g.o, g.c, g.kh, g.kw))
        .expect("standard layout");
    (d_x, d_w)
}

// ---- conv2d ----

/// 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) with bias, stride and zero
/// padding on all four sides.
///
/// `x` is N x C x H x W, `w` is O x C x KH x KW, `b` has O elements; the result is
/// N x O x HO x WO with `HO = (H + 2·padding - KH) / stride + 1` (likewise `WO`). Computed
/// by im2col and one GEMM per image.
///
/// ```text
/// y[n, o, i, j] = b[o] + Σ_{c, p, q} w[o, c, p, q] · x_pad[n, c, i·stride + p, j·stride + q]
/// d_x = Σ over the windows that read each input position of w · d_y
/// d_w[o, c, p, q] = Σ_{n, i, j} d_y[n, o, i, j] · x_pad[n, c, i·stride + p, j·stride + q]
/// d_b[o] = Σ_{n, i, j} d_y[n, o, i, j]
/// ```
///
/// # Panics
/// When `stride` is 0, the channels of `x` and `w` differ, `b` has not O elements, or the
/// kernel is larger than the padded input.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{Array, Array1, Array4};
///
/// let x = Array::from_shape_vec((1, 1, 3, 3), (1..=9).map(f64::from).collect()).unwrap();
/// let w = Array4::ones((1, 1, 2, 2));
/// let y = nn::conv2d(&x, &w, &Array1::from(vec![0.5]), 1, 0);
/// assert_eq!(y.into_raw_vec_and_offset().0, vec![12.5, 16.5, 24.5, 28.5]);
/// ```
#[track_caller]
pub fn conv2d<A: Real>(
    x: &Array4<A>,
    w: &Array4<A>,
    b: &Array1<A>,
    stride: usize,
    padding: usize,
) -> Array4<A> {
    let g = geometry(
        "conv2d",
        x.shape(),
        w.shape(),
        Some(b.len()),
        stride,
        padding,
    );
    conv_forward(
        &g,
        x.as_standard_layout().view(),
        w.as_standard_layout().view(),
        Some(b),
    )
}

/// Vector-Jacobian product of [`conv2d`]: its value and the pullback
/// `d_y ↦ (d_x, d_w, d_b)`.
///
/// The pullback keeps copies of `x` and `w`.
///
/// # Panics
/// As [`conv2d`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::{Array1, Array4};
///
/// let x = Array4::<f64>::ones((1, 1, 3, 3));
/// let w = Array4::ones((1, 1, 2, 2));
/// let (_, pullback) = nn::conv2d_vjp(&x, &w, &Array1::zeros(1), 1, 0);
/// let (dx, dw, db) = pullback(Array4::ones((1, 1, 2, 2)));
/// // the centre pixel is read by all four windows
/// assert_eq!(dx[[0, 0, 1, 1]], 4.0);
/// assert_eq!(dw, Array4::from_elem((1, 1, 2, 2), 4.0));
/// assert_eq!(db[0], 4.0);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn conv2d_vjp<A: Real>(
    x: &Array4<A>,
    w: &Array4<A>,
    b: &Array1<A>,
    stride: usize,
    padding: usize,
) -> (
    Array4<A>,
    impl FnOnce(Array4<A>) -> (Array4<A>, Array4<A>, Array1<A>) + use<A>,
) {
    let g = geometry(
        "conv2d",
        x.shape(),
        w.shape(),
        Some(b.len()),
        stride,
        padding,
    );
    let (x, w) = (standard(x.clone()), standard(w.clone()));
    let y = conv_forward(&g, x.view(), w.view(), Some(b));
    let pullback = move |d_y: Array4<A>| {
        check_seed("conv2d", d_y.shape(), &[g.n, g.o, g.ho, g.wo]);
        let d_y = standard(d_y);
        let (d_x, d_w) = conv_back(&g, &d_y, &x, &w);
        // d_b[o] = Σ_{n, i, j} d_y[n, o, i, j]
        let d_b = d_y.sum_axis(Axis(3)).sum_axis(Axis(2)).sum_axis(Axis(0));
        (d_x, d_w, d_b)
    };
    (y, pullback)
}

// ---- conv2d_no_bias ----

/// 2-D convolution without bias: [`conv2d`] with `b = 0`.
///
/// ```text
/// y[n, o, i, j] = Σ_{c, p, q} w[o, c, p, q] · x_pad[n, c, i·stride + p, j·stride + q]
/// ```
///
/// # Panics
/// When `stride` is 0, the channels of `x` and `w` differ, or the kernel is larger than the
/// padded input.
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array4;
///
/// let x = Array4::<f64>::ones((2, 3, 5, 4));
/// let w = Array4::ones((6, 3, 3, 3));
/// // stride 2, padding 1: HO = (5 + 2 - 3) / 2 + 1 = 3, WO = (4 + 2 - 3) / 2 + 1 = 2
/// let y = nn::conv2d_no_bias(&x, &w, 2, 1);
/// assert_eq!(y.shape(), &[2, 6, 3, 2]);
/// assert_eq!(y[[0, 0, 1, 1]], 27.0);
/// ```
#[track_caller]
pub fn conv2d_no_bias<A: Real>(
    x: &Array4<A>,
    w: &Array4<A>,
    stride: usize,
    padding: usize,
) -> Array4<A> {
    let g = geometry(
        "conv2d_no_bias",
        x.shape(),
        w.shape(),
        None,
        stride,
        padding,
    );
    conv_forward(
        &g,
        x.as_standard_layout().view(),
        w.as_standard_layout().view(),
        None,
    )
}

/// Vector-Jacobian product of [`conv2d_no_bias`]: its value and the pullback
/// `d_y ↦ (d_x, d_w)`.
///
/// # Panics
/// As [`conv2d_no_bias`].
///
/// # Examples
/// ```
/// use autodiff_runtime::nn;
/// use ndarray::Array4;
///
/// let x = Array4::<f64>::ones((1, 1, 3, 3));
/// let w = Array4::ones((1, 1, 2, 2));
/// let (_, pullback) = nn::conv2d_no_bias_vjp(&x, &w, 1, 0);
/// let (dx, dw) = pullback(Array4::ones((1, 1, 2, 2)));
/// assert_eq!(dx[[0, 0, 0, 0]], 1.0);
/// assert_eq!(dw[[0, 0, 0, 0]], 4.0);
/// ```
#[allow(clippy::type_complexity)]
#[track_caller]
pub fn conv2d_no_bias_vjp<A: Real>(
    x: &Array4<A>,
    w: &Array4<A>,
    stride: usize,
    padding: usize,
) -> (
    Array4<A>,
    impl FnOnce(Array4<A>) -> (Array4<A>, Array4<A>) + use<A>,
) {
    let g = geometry(
        "conv2d_no_bias",
        x.shape(),
        w.shape(),
        None,
        stride,
        padding,
    );
    let (x, w) = (standard(x.clone()), standard(w.clone()));
    let y = conv_forward(&g, x.view(), w.view(), None);
    let pullback = move |d_y: Array4<A>| {
        check_seed("conv2d_no_bias", d_y.shape(), &[g.n, g.o, g.ho, g.wo]);
        conv_back(&g, &standard(d_y), &x, &w)
    };
    (y, pullback)
}
