//! End-to-end training: a model struct with `#[derive(Differentiable)]`, a `#[differentiable]`
//! loss method and Adam learn a nonlinear classification problem.

use autodiff::ndarray::{Array2, Axis};
use autodiff::optim::{Adam, Optimizer};
use autodiff::rand::rngs::StdRng;
use autodiff::rand::seq::SliceRandom;
use autodiff::rand::{Rng, SeedableRng};
use autodiff::{Differentiable, differentiable, nn};

/// The number of classes (arms of the spiral).
const CLASSES: usize = 3;

/// `per_class` points on each of the three interleaved arms of a spiral in the plane, with
/// angular noise; the label of a point is its arm. No straight line separates two arms.
fn spiral(per_class: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = CLASSES * per_class;
    let mut x = Array2::zeros((n, 2));
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % CLASSES;
        let r: f32 = rng.random_range(0.05..1.0);
        let angle = class as f32 * std::f32::consts::TAU / CLASSES as f32
            + 4.0 * r
            + rng.random_range(-0.15..0.15);
        x[[i, 0]] = r * angle.sin();
        x[[i, 1]] = r * angle.cos();
        labels.push(class);
    }
    (x, labels)
}

/// A two-hidden-layer perceptron.
#[derive(Differentiable, Clone, Debug)]
struct Mlp {
    l1: nn::Linear,
    l2: nn::Linear,
    l3: nn::Linear,
}

impl Mlp {
    fn new(hidden: usize, rng: &mut StdRng) -> Self {
        Mlp {
            l1: nn::Linear::new(2, hidden, rng),
            l2: nn::Linear::new(hidden, hidden, rng),
            l3: nn::Linear::new(hidden, CLASSES, rng),
        }
    }

    #[differentiable]
    fn logits(&self, x: &Array2<f32>) -> Array2<f32> {
        let h = nn::relu(&self.l1.forward(x));
        let h = nn::tanh(&self.l2.forward(&h));
        self.l3.forward(&h)
    }

    #[differentiable]
    fn loss(&self, #[no_grad] x: &Array2<f32>, labels: &[usize]) -> f32 {
        nn::cross_entropy(&self.logits(x), labels)
    }

    /// The fraction of points whose largest score is at their label.
    fn accuracy(&self, x: &Array2<f32>, labels: &[usize]) -> f32 {
        let logits = self.logits(x);
        let correct = logits
            .axis_iter(Axis(0))
            .zip(labels)
            .filter(|(row, label)| {
                let best = (0..CLASSES)
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap();
                best == **label
            })
            .count();
        correct as f32 / labels.len() as f32
    }
}

#[test]
fn mlp_learns_a_spiral_with_adam_on_mini_batches() {
    let (x, labels) = spiral(200, 1);
    let (x_test, labels_test) = spiral(100, 2);
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = Mlp::new(32, &mut rng);
    let mut opt = Adam::new(0.01);

    let initial_loss = model.loss(&x, &labels);
    let initial_accuracy = model.accuracy(&x_test, &labels_test);
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let mut steps = 0;
    for _epoch in 0..40 {
        order.shuffle(&mut rng);
        for idx in order.chunks(64) {
            let xb = x.select(Axis(0), idx);
            let lb: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
            let (loss, grads) = model.loss_grad(&xb, &lb);
            assert!(loss.is_finite(), "loss {loss} at step {steps}");
            opt.step(&mut model, &grads);
            steps += 1;
        }
    }
    assert_eq!(steps, 40 * 10);

    let loss = model.loss(&x, &labels);
    let train_accuracy = model.accuracy(&x, &labels);
    let test_accuracy = model.accuracy(&x_test, &labels_test);
    println!(
        "loss {initial_loss:.3} -> {loss:.3}, test accuracy {initial_accuracy:.3} -> {test_accuracy:.3}, \
         train accuracy {train_accuracy:.3}"
    );
    assert!(loss < 0.2 * initial_loss, "loss {initial_loss} -> {loss}");
    assert!(train_accuracy >= 0.97, "train accuracy {train_accuracy}");
    assert!(test_accuracy >= 0.95, "test accuracy {test_accuracy}");
}

#[test]
fn gradients_of_the_derived_model_match_its_parameters() {
    let (x, labels) = spiral(4, 3);
    let mut rng = StdRng::seed_from_u64(4);
    let model = Mlp::new(5, &mut rng);
    let (loss, grads) = model.loss_grad(&x, &labels);
    assert_eq!(loss, model.loss(&x, &labels));
    assert_eq!(grads.l1.weight.dim(), (5, 2));
    assert_eq!(grads.l2.bias.len(), 5);
    assert_eq!(grads.l3.weight.dim(), (CLASSES, 5));
    // A small step against the gradient lowers the loss.
    let mut stepped = model.clone();
    autodiff::optim::Sgd::new(1e-2).step(&mut stepped, &grads);
    assert!(stepped.loss(&x, &labels) < loss);
}
