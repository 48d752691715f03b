//! Gradient accumulation over micro-batches.

use autodiff_runtime::optim::{GradAccumulator, Optimizer, Sgd};
use ndarray::{Array1, array};

type Grads = (f64, Vec<f32>, Array1<f64>);

#[test]
fn mean_of_micro_batches() {
    let mut acc = GradAccumulator::<Grads>::new();
    assert!(acc.is_empty() && acc.mean().is_none());
    acc.add(&(1.0, vec![2.0, 4.0], array![1.0, -1.0]));
    acc.add(&(3.0, vec![0.0, 2.0], array![0.0, 1.0]));
    acc.add(&(2.0, vec![1.0, 0.0], array![2.0, 3.0]));
    assert_eq!(acc.count(), 3);
    assert_eq!(acc.sum().unwrap().0, 6.0);
    let mean = acc.mean().unwrap();
    assert_eq!(mean.0, 2.0);
    assert_eq!(mean.1, vec![1.0, 2.0]);
    assert_eq!(mean.2, array![1.0, 1.0]);
    // mean() does not reset; take_mean() does.
    assert_eq!(acc.count(), 3);
    let taken = acc.take_mean().unwrap();
    assert_eq!(taken.2, mean.2);
    assert!(acc.is_empty() && acc.take_mean().is_none());
}

#[test]
fn accumulated_step_equals_the_full_batch_step() {
    // Loss over a batch of 4 samples, L = mean_k (w − x_k)², ∇ = mean_k 2 (w − x_k).
    // Two micro-batches of 2 give the same mean gradient as the full batch.
    let xs = [1.0, 2.0, 4.0, 5.0];
    let grad = |w: f64, batch: &[f64]| {
        batch.iter().map(|x| 2.0 * (w - x)).sum::<f64>() / batch.len() as f64
    };
    let (mut w_full, mut w_acc) = (vec![0.0_f64], vec![0.0_f64]);
    let (mut opt_full, mut opt_acc) = (Sgd::new(0.1), Sgd::new(0.1));
    let mut acc = GradAccumulator::new();
    for _ in 0..3 {
        let g_full = vec![grad(w_full[0], &xs)];
        opt_full.step(&mut w_full, &g_full);
        for micro in xs.chunks(2) {
            acc.add(&vec![grad(w_acc[0], micro)]);
        }
        opt_acc.step(&mut w_acc, &acc.take_mean().unwrap());
    }
    assert!((w_full[0] - w_acc[0]).abs() < 1e-15);
}

#[test]
fn weighted_mean_for_uneven_micro_batches() {
    // Micro-batches of 3 and 1 samples, each gradient the mean over its micro-batch:
    // the batch mean is (3 g1 + 1 g2) / 4.
    let mut acc = GradAccumulator::new();
    acc.add_weighted(&array![1.0_f64, 2.0], 3.0);
    acc.add_weighted(&array![5.0_f64, -2.0], 1.0);
    assert_eq!(acc.mean().unwrap(), array![2.0, 1.0]);
    assert_eq!(acc.count(), 2);
    acc.reset();
    assert!(acc.is_empty());
}

#[test]
fn zero_total_weight_has_no_mean() {
    let mut acc = GradAccumulator::new();
    acc.add_weighted(&1.0_f64, 0.0);
    assert_eq!(acc.count(), 1);
    assert_eq!(acc.mean(), None);
}

#[test]
fn accumulator_is_clone_and_debug() {
    let mut acc = GradAccumulator::new();
    acc.add(&vec![1.0_f64]);
    let copy = acc.clone();
    acc.add(&vec![3.0_f64]);
    assert_eq!(copy.mean(), Some(vec![1.0]));
    assert_eq!(acc.mean(), Some(vec![2.0]));
    assert!(format!("{acc:?}").contains("count: 2"));
}

#[test]
#[should_panic(
    expected = "GradAccumulator: the gradient has buffers of lengths [3] but earlier ones had [2]"
)]
fn mismatched_gradients_panic() {
    let mut acc = GradAccumulator::new();
    acc.add(&vec![1.0_f64, 2.0]);
    acc.add(&vec![1.0_f64, 2.0, 3.0]);
}

#[test]
#[should_panic(expected = "GradAccumulator: invalid weight -1.0")]
fn negative_weight_panics() {
    GradAccumulator::new().add_weighted(&1.0_f64, -1.0);
}
