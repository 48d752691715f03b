//! 2-D convolution (cross-correlation, as PyTorch's `Conv2d`) by im2col and one GEMM per
//! image.
//!
//! For image `n`, `im2col` unrolls every receptive field into a column of a
//! `(C·KH·KW) x (HO·WO)` matrix, so that the convolution is `Y_n = W_mat · col_n` with
//! `W_mat` the weight seen as `O x (C·KH·KW)`. One image's columns (451 KB for 16 channels,
//! 3 x 3, 28 x 28 in `f32`) stay in cache between `im2col` and the GEMMs; the buffer is
//! reused from image to image and from the forward pass to the pullback.
//!
//! The pullback keeps a copy of the input, not the columns (`KH·KW` times larger), and
//! recomputes `col_n` image by image; once `col_n` is built, the copy of `x[n]` is no
//! longer needed and its storage becomes `d_x[n]`:
//!
//! ```text
//! d_W_mat += d_Y_n · col_n^T
//! d_col_n  = W_mat^T · d_Y_n          into the buffer of col_n; col2im sums it onto d_x[n]
//! d_b     += the row sums of d_Y_n
//! ```
//!
//! With stride 1 and an output as wide as the input (`2·padding = KW − 1`, "same"
//! padding), each row of `col_n` is the input plane shifted by a constant: `im2col` copies
//! one slice per row and `col2im` gathers the shifted rows in one pass over the plane.

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

/// The output positions `o < n_out` whose input position `o·stride + k − padding` lies in
/// `0..n_in`, for kernel offset `k`: a range `lo..hi` (empty, `lo == hi`, when none).
fn valid(k: usize, n_in: usize, n_out: usize, stride: usize, padding: usize) -> (usize, usize) {
    let lo = padding.saturating_sub(k).div_ceil(stride);
    // o·stride + k − padding ≤ n_in − 1  ⟺  o·stride ≤ n_in + padding − k − 1
    let hi = (n_in + padding)
        .checked_sub(k + 1)
        .map_or(0, |m| (m / stride + 1).min(n_out));
    (lo.min(hi), hi)
}

/// Where the row of kernel offset `(ki, kj)` reads and writes, within one channel.
#[derive(Clone, Copy)]
struct RowMap {
    /// Output rows whose input row is inside the image.
    oh: (usize, usize),
    /// Output columns whose input column is inside the image.
    ow: (usize, usize),
}

impl Geometry {
    /// The [`RowMap`] of every kernel offset, at index `ki·KW + kj`.
    fn row_maps(&self) -> Vec<RowMap> {
        let ow: Vec<_> = (0..self.kw)
            .map(|kj| valid(kj, self.w, self.wo, self.stride, self.padding))
            .collect();
        (0..self.kh)
            .flat_map(|ki| {
                let oh = valid(ki, self.h, self.ho, self.stride, self.padding);
                ow.iter().map(move |&ow| RowMap { oh, ow })
            })
            .collect()
    }

    /// Stride 1 with an output as wide as the input (`2·padding = KW − 1`, "same" padding):
    /// output position `i` of a column row then reads input position `i + shift` of the
    /// plane, so the in-image part of a row is one contiguous span up to the entries that
    /// wrap around a row edge.
    fn spans(&self) -> bool {
        self.stride == 1 && self.wo == self.w
    }

    /// For [`Geometry::spans`]: the span `start..end` of a column row that lies between the
    /// first and the last in-image entry, and where it starts in the input plane.
    fn span(&self, ki: usize, kj: usize, m: RowMap) -> (usize, usize, usize) {
        let start = m.oh.0 * self.wo + m.ow.0;
        let end = (m.oh.1 - 1) * self.wo + m.ow.1;
        // (oh + ki − p)·W + (ow + kj − p) with ow + kj ≥ p and oh + ki ≥ p at the start.
        let src = start + ki * self.w + kj - self.padding * (self.w + 1);
        (start, end, src)
    }
}

/// Sets the entries of rows `oh` of a column row whose input column is in the padding (the
/// `ow` outside `m.ow`) to zero: a few strided columns, written as such (not one small
/// `memset` per output row).
fn zero_edges<A: Real>(row: &mut [A], wo: usize, m: RowMap) {
    let rows = &mut row[m.oh.0 * wo..m.oh.1 * wo];
    for j in (0..m.ow.0).chain(m.ow.1..wo) {
        rows[j..]
            .iter_mut()
            .step_by(wo)
            .for_each(|v| *v = A::zero());
    }
}

/// Unrolls the receptive fields of one image `x_n` (`C·H·W`, row-major) into `col`
/// (`(C·KH·KW) x (HO·WO)`, row-major); positions in the padding read 0.
///
/// Each row of `col` (one channel and kernel offset) is a shifted, strided copy of the
/// channel's plane: with [`Geometry::spans`] one slice copy per row, else one per output
/// row.
fn im2col<A: Real>(g: &Geometry, x_n: &[A], col: &mut [A]) {
    let (l, wo, s, p) = (g.positions(), g.wo, g.stride, g.padding);
    let maps = g.row_maps();
    for c in 0..g.c {
        let plane = &x_n[c * g.h * g.w..][..g.h * g.w];
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = &mut col[((c * g.kh + ki) * g.kw + kj) * l..][..l];
                let m = maps[ki * g.kw + kj];
                if m.oh.0 == m.oh.1 || m.ow.0 == m.ow.1 {
                    row.fill(A::zero());
                    continue;
                }
                row[..m.oh.0 * wo].fill(A::zero());
                row[m.oh.1 * wo..].fill(A::zero());
                if g.spans() {
                    let (start, end, src) = g.span(ki, kj, m);
                    row[start..end].copy_from_slice(&plane[src..][..end - start]);
                    zero_edges(row, wo, m);
                    continue;
                }
                for oh in m.oh.0..m.oh.1 {
                    let out = &mut row[oh * wo..][..wo];
                    out[..m.ow.0].fill(A::zero());
                    out[m.ow.1..].fill(A::zero());
                    let src = &plane[(oh * s + ki - p) * g.w..][..g.w];
                    let first = m.ow.0 * s + kj - p;
                    let out = &mut out[m.ow.0..m.ow.1];
                    if s == 1 {
                        out.copy_from_slice(&src[first..][..out.len()]);
                    } else {
                        for (v, &x) in out.iter_mut().zip(src[first..].iter().step_by(s)) {
                            *v = x;
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every entry of `col` onto the input position it was
/// read from (entries read from the padding are dropped). `col` is scratch (see
/// [`col2im_spans`]).
fn col2im<A: Real>(g: &Geometry, col: &mut [A], d_x_n: &mut [A]) {
    if g.spans() {
        col2im_spans(g, col, d_x_n);
        return;
    }
    let (l, wo, s, p) = (g.positions(), g.wo, g.stride, g.padding);
    let maps = g.row_maps();
    for c in 0..g.c {
        let plane = &mut d_x_n[c * g.h * g.w..][..g.h * g.w];
        plane.fill(A::zero());
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = &col[((c * g.kh + ki) * g.kw + kj) * l..][..l];
                let m = maps[ki * g.kw + kj];
                if m.ow.0 == m.ow.1 {
                    continue;
                }
                for oh in m.oh.0..m.oh.1 {
                    let src = &row[oh * wo + m.ow.0..oh * wo + m.ow.1];
                    let dst = &mut plane[(oh * s + ki - p) * g.w..][..g.w];
                    let first = m.ow.0 * s + kj - p;
                    for (d, &v) in dst[first..].iter_mut().step_by(s).zip(src) {
                        *d += v;
                    }
                }
            }
        }
    }
}

/// [`col2im`] with [`Geometry::spans`]: column row `(c, ki, kj)` is the plane of channel
/// `c` shifted by `(ki − p)·W + kj − p`, so after setting every entry of `col` that was
/// read from the padding to zero,
///
/// ```text
/// d_x[c][q] = Σ_{ki, kj} col[(c, ki, kj)][q − shift(ki, kj)]    (terms inside the row)
/// ```
///
/// computed in one pass over the plane, 32 positions at a time in registers, adding the
/// rows in the order `(ki, kj)`. (Adding the rows one after the other onto the plane
/// instead, each pass reloading what the previous pass had just stored one element away,
/// took about twice as long.)
fn col2im_spans<A: Real>(g: &Geometry, col: &mut [A], d_x_n: &mut [A]) {
    const LANES: usize = 32;
    let (l, wo, hw) = (g.positions(), g.wo, g.h * g.w);
    let k = g.kh * g.kw;
    let maps = g.row_maps();
    // The shift of each kernel offset, as q − i for plane position q and row entry i.
    let mut shifts = Vec::with_capacity(k);
    for (i, c_row) in col.chunks_exact_mut(l).enumerate() {
        let (ki, kj) = ((i % k) / g.kw, i % g.kw);
        let m = maps[ki * g.kw + kj];
        if m.oh.0 == m.oh.1 || m.ow.0 == m.ow.1 {
            c_row.fill(A::zero());
            if i < k {
                shifts.push(0);
            }
            continue;
        }
        let (start, end, src) = g.span(ki, kj, m);
        c_row[..start].fill(A::zero());
        c_row[end..].fill(A::zero());
        zero_edges(c_row, wo, m);
        if i < k {
            shifts.push(src as isize - start as isize);
        }
    }
    // Positions q where every row's entry q − shift exists: no test in the main loop.
    let lo = shifts.iter().map(|&d| d.max(0)).max().unwrap_or(0) as usize;
    let hi = shifts
        .iter()
        .map(|&d| (d + l as isize).clamp(0, hw as isize))
        .min()
        .unwrap_or(0) as usize;
    let (lo, hi) = (lo.min(hw), hi.max(lo).min(hw));
    for (plane, rows) in d_x_n.chunks_exact_mut(hw).zip(col.chunks_exact(k * l)) {
        // The ends of the plane, row after row.
        plane[..lo].fill(A::zero());
        plane[hi..].fill(A::zero());
        for (row, &d) in rows.chunks_exact(l).zip(&shifts) {
            // Plane positions q with 0 ≤ q − d < l.
            let (first, last) = (d.max(0) as usize, (d + l as isize).clamp(0, hw as isize));
            let ranges = [first..lo.min(last as usize), hi.max(first)..last as usize];
            for range in ranges.into_iter().filter(|r| !r.is_empty()) {
                for (q, &v) in range
                    .clone()
                    .zip(&row[(range.start as isize - d) as usize..])
                {
                    plane[q] += v;
                }
            }
        }
        // The middle, LANES positions at a time; the last block overlaps the one before.
        if hi - lo < LANES {
            for q in lo..hi {
                plane[q] = A::zero();
                for (row, &d) in rows.chunks_exact(l).zip(&shifts) {
                    plane[q] += row[(q as isize - d) as usize];
                }
            }
            continue;
        }
        let blocks = (lo..hi - LANES).step_by(LANES).chain([hi - LANES]);
        for q in blocks {
            let mut acc = [A::zero(); LANES];
            for (row, &d) in rows.chunks_exact(l).zip(&shifts) {
                let src = &row[(q as isize - d) as usize..][..LANES];
                for (a, &v) in acc.iter_mut().zip(src) {
                    *a += v;
                }
            }
            plane[q..q + LANES].copy_from_slice(&acc);
        }
    }
}

/// A standard-layout copy of `a` (one copy, whatever the layout of `a`).
fn owned_standard<A: Real>(a: &Array4<A>) -> Array4<A> {
    a.as_standard_layout().into_owned()
}

/// `W` seen as `O x (C·KH·KW)`; `w` in standard layout.
fn weight_matrix<'a, A>(g: &Geometry, w: ArrayView4<'a, A>) -> ArrayView2<'a, A> {
    w.into_shape_with_order((g.o, g.patch()))
        .expect("standard layout")
}

/// The column-matrix buffer of one image, `(C·KH·KW) x (HO·WO)`.
fn col_buffer<A: Real>(g: &Geometry) -> Array2<A> {
    Array2::zeros((g.patch(), g.positions()))
}

/// `Y[n] = W_mat · im2col(x[n]) (+ b)` for every image, one image at a time through `col`
/// (a [`col_buffer`]); `x` and `w` in standard layout.
fn conv_forward<A: Real>(
    g: &Geometry,
    x: ArrayView4<'_, A>,
    w: ArrayView4<'_, A>,
    b: Option<&Array1<A>>,
    col: &mut Array2<A>,
) -> Array4<A> {
    let xs = x.to_slice().expect("standard layout");
    let w_mat = weight_matrix(g, w);
    let mut y = Array4::zeros((g.n, g.o, g.ho, g.wo));
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

/// `(d_x, d_w)` of `y = conv(x, w)` for the seed `d_y`, and `d_b` added into `d_b` when
/// given; all in standard layout. `x` is consumed: its storage becomes `d_x`, image by
/// image once the image's columns are built. `col` is a [`col_buffer`].
fn conv_back<A: Real>(
    g: &Geometry,
    d_y: &Array4<A>,
    x: Array4<A>,
    w: &Array4<A>,
    col: &mut Array2<A>,
    mut d_b: Option<&mut Array1<A>>,
) -> (Array4<A>, Array4<A>) {
    let w_mat = weight_matrix(g, w.view());
    let mut d_w_mat = Array2::zeros((g.o, g.patch()));
    let mut d_x = x;
    let d_xs = d_x.as_slice_mut().expect("standard layout");
    for (n, d_y_n) in d_y.outer_iter().enumerate() {
        let d_y_n = d_y_n
            .into_shape_with_order((g.o, g.positions()))
            .expect("standard layout");
        let x_n = &mut d_xs[n * g.image()..][..g.image()];
        im2col(g, x_n, col.as_slice_mut().expect("standard layout"));
        // d_W_mat += d_Y_n · col_n^T
        gemm(A::one(), d_y_n, col.t(), A::one(), d_w_mat.view_mut());
        // d_col_n = W_mat^T · d_Y_n, into the buffer of col_n
        gemm(A::one(), w_mat.t(), d_y_n, A::zero(), col.view_mut());
        // x[n] is no longer needed: it becomes d_x[n].
        col2im(g, col.as_slice_mut().expect("standard layout"), x_n);
        // d_b[o] += Σ_{i, j} d_y[n, o, i, j]
        if let Some(d_b) = d_b.as_deref_mut() {
            d_b.iter_mut()
                .zip(d_y_n.rows())
                .for_each(|(d, row)| *d += row.sum());
        }
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
        &mut col_buffer(&g),
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
    let (x, w) = (owned_standard(x), owned_standard(w));
    let mut col = col_buffer(&g);
    let y = conv_forward(&g, x.view(), w.view(), Some(b), &mut col);
    let pullback = move |d_y: Array4<A>| {
        check_seed("conv2d", d_y.shape(), &[g.n, g.o, g.ho, g.wo]);
        let mut d_b = Array1::zeros(g.o);
        let (d_x, d_w) = conv_back(&g, &standard(d_y), x, &w, &mut col, Some(&mut d_b));
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
        &mut col_buffer(&g),
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
    let (x, w) = (owned_standard(x), owned_standard(w));
    let mut col = col_buffer(&g);
    let y = conv_forward(&g, x.view(), w.view(), None, &mut col);
    let pullback = move |d_y: Array4<A>| {
        check_seed("conv2d_no_bias", d_y.shape(), &[g.n, g.o, g.ho, g.wo]);
        conv_back(&g, &standard(d_y), x, &w, &mut col, None)
    };
    (y, pullback)
}
