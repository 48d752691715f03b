//! Workload W1: one training step of an MLP in `f32`, batch 128, layers 784-512-256-10,
//! ReLU, biases on every layer, softmax cross-entropy with integer labels, plain SGD.
//!
//! The loss is a `#[differentiable]` method written with `nn::linear`, `nn::relu` and
//! `nn::cross_entropy`; [`hand_written_grad`] is a hand-written forward and backward pass
//! through the same GEMM engine (the runtime's, faer): every matrix product, forward and
//! backward, is `autodiff::__private::array::dot` on views, with the transposes passed as
//! strided views (never copied), the entry point the generated code's `dot` also uses.

use autodiff::__private::array::dot;
use autodiff::ndarray::{Array1, Array2, Axis, Zip};
use autodiff::{Differentiable, differentiable, nn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Batch size of W1.
pub const BATCH: usize = 128;
/// Layer widths of W1.
pub const SIZES: [usize; 4] = [784, 512, 256, 10];
/// Learning rate of the SGD step.
pub const LR: f32 = 1e-3;

/// The MLP's parameters, `W` stored out × in as PyTorch's `Linear`.
#[derive(Differentiable, Clone, Debug)]
pub struct Mlp {
    pub w1: Array2<f32>,
    pub b1: Array1<f32>,
    pub w2: Array2<f32>,
    pub b2: Array1<f32>,
    pub w3: Array2<f32>,
    pub b3: Array1<f32>,
}

impl Mlp {
    /// PyTorch's default `Linear` initialisation, `U(−1/√in, 1/√in)` for weights and biases.
    pub fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layer = |i: usize, o: usize| {
            let bound = 1.0 / (i as f32).sqrt();
            let w = Array2::from_shape_fn((o, i), |_| rng.random_range(-bound..bound));
            let b = Array1::from_shape_fn(o, |_| rng.random_range(-bound..bound));
            (w, b)
        };
        let (w1, b1) = layer(SIZES[0], SIZES[1]);
        let (w2, b2) = layer(SIZES[1], SIZES[2]);
        let (w3, b3) = layer(SIZES[2], SIZES[3]);
        Mlp {
            w1,
            b1,
            w2,
            b2,
            w3,
            b3,
        }
    }

    /// Mean cross-entropy of the batch `x` (N × 784) with integer `labels`.
    #[differentiable]
    pub fn loss(&self, #[no_grad] x: &Array2<f32>, labels: &[usize]) -> f32 {
        let h1 = nn::relu(&nn::linear(x, &self.w1, &self.b1));
        let h2 = nn::relu(&nn::linear(&h1, &self.w2, &self.b2));
        nn::cross_entropy(&nn::linear(&h2, &self.w3, &self.b3), labels)
    }

    /// `θ ← θ − lr g`, in `f32`, for every parameter (the same update for both sides of the
    /// benchmark).
    pub fn sgd(&mut self, g: &MlpTangent, lr: f32) {
        self.w1.scaled_add(-lr, &g.w1);
        self.b1.scaled_add(-lr, &g.b1);
        self.w2.scaled_add(-lr, &g.w2);
        self.b2.scaled_add(-lr, &g.b2);
        self.w3.scaled_add(-lr, &g.w3);
        self.b3.scaled_add(-lr, &g.b3);
    }
}

/// A batch of W1: pixels in `[0, 1)` and labels in `0..10`.
pub fn batch(seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((BATCH, SIZES[0]), |_| rng.random_range(0.0..1.0));
    let labels = (0..BATCH).map(|_| rng.random_range(0..SIZES[3])).collect();
    (x, labels)
}

/// `x Wᵀ + b` through the runtime's GEMM (`Wᵀ` is a view).
fn affine(x: &Array2<f32>, w: &Array2<f32>, b: &Array1<f32>) -> Array2<f32> {
    let mut y = dot(x, &w.t());
    y += b;
    y
}

/// Hand-written forward and backward pass of [`Mlp::loss`]: the loss and the gradient.
///
/// ```text
/// z1 = x W1ᵀ + b1,  h1 = relu(z1),  z2 = h1 W2ᵀ + b2,  h2 = relu(z2),  z3 = h2 W3ᵀ + b3
/// L  = mean_i (lse(z3_i) − z3_i,label_i)
/// d z3 = (softmax(z3) − onehot) / N
/// d W3 = d z3ᵀ h2,   d b3 = Σ_rows d z3,   d h2 = d z3 W3,   d z2 = d h2 ⊙ [h2 > 0]
/// d W2 = d z2ᵀ h1,   d b2 = Σ_rows d z2,   d h1 = d z2 W2,   d z1 = d h1 ⊙ [h1 > 0]
/// d W1 = d z1ᵀ x,    d b1 = Σ_rows d z1                     (no d x: x is data)
/// ```
///
/// ReLU is applied in place, the softmax overwrites the logits, the masks are applied in
/// place to the incoming adjoints.
pub fn hand_written_grad(m: &Mlp, x: &Array2<f32>, labels: &[usize]) -> (f32, MlpTangent) {
    let relu = |v: &mut f32| *v = v.max(0.0);
    let mut h1 = affine(x, &m.w1, &m.b1);
    h1.map_inplace(relu);
    let mut h2 = affine(&h1, &m.w2, &m.b2);
    h2.map_inplace(relu);
    let mut p = affine(&h2, &m.w3, &m.b3);

    // softmax cross-entropy; p becomes d z3
    let n = labels.len() as f32;
    let mut loss = 0.0;
    for (mut row, &y) in p.axis_iter_mut(Axis(0)).zip(labels) {
        let mx = row.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let zy = row[y] - mx;
        let mut se = 0.0;
        row.map_inplace(|v| {
            *v = (*v - mx).exp();
            se += *v;
        });
        loss += se.ln() - zy;
        row.map_inplace(|v| *v /= se * n);
        row[y] -= 1.0 / n;
    }
    let loss = loss / n;
    let dz3 = p;

    let w3 = dot(&dz3.t(), &h2);
    let b3 = dz3.sum_axis(Axis(0));
    let mut dz2 = dot(&dz3, &m.w3);
    Zip::from(&mut dz2).and(&h2).for_each(|d, &h| {
        if h <= 0.0 {
            *d = 0.0
        }
    });
    let w2 = dot(&dz2.t(), &h1);
    let b2 = dz2.sum_axis(Axis(0));
    let mut dz1 = dot(&dz2, &m.w2);
    Zip::from(&mut dz1).and(&h1).for_each(|d, &h| {
        if h <= 0.0 {
            *d = 0.0
        }
    });
    let w1 = dot(&dz1.t(), x);
    let b1 = dz1.sum_axis(Axis(0));
    (
        loss,
        MlpTangent {
            w1,
            b1,
            w2,
            b2,
            w3,
            b3,
        },
    )
}
