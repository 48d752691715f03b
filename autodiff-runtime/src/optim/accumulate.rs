//! Gradient accumulation over micro-batches.

use crate::Tangent;

/// Sums gradients over micro-batches and gives their mean, to train with a batch larger
/// than fits in memory at once: add each micro-batch's gradient, then step with the mean.
///
/// With micro-batches of different sizes, [`GradAccumulator::add_weighted`] with the
/// micro-batch size as the weight makes the result the gradient of the mean loss over the
/// whole batch.
///
/// # Examples
///
/// ```
/// use autodiff_runtime::optim::{GradAccumulator, Optimizer, Sgd};
///
/// let mut model = vec![0.0_f64, 0.0];
/// let mut opt = Sgd::new(1.0);
/// let mut acc = GradAccumulator::new();
/// for micro_batch_grad in [vec![1.0, 2.0], vec![3.0, 0.0]] {
///     acc.add(&micro_batch_grad);
/// }
/// assert_eq!(acc.count(), 2);
/// let mean = acc.take_mean().unwrap(); // resets the accumulator
/// assert_eq!(mean, vec![2.0, 1.0]);
/// opt.step(&mut model, &mean);
/// assert_eq!(model, vec![-2.0, -1.0]);
/// assert!(acc.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct GradAccumulator<T: Tangent> {
    sum: Option<T>,
    count: usize,
    total_weight: f64,
}

impl<T: Tangent> Default for GradAccumulator<T> {
    fn default() -> Self {
        GradAccumulator {
            sum: None,
            count: 0,
            total_weight: 0.0,
        }
    }
}

impl<T: Tangent> GradAccumulator<T> {
    /// An empty accumulator.
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// let acc = GradAccumulator::<Vec<f32>>::new();
    /// assert!(acc.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one micro-batch's gradient (weight 1).
    ///
    /// # Panics
    /// If `grads` does not have the buffers of the gradients added before.
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// let mut acc = GradAccumulator::new();
    /// acc.add(&1.0_f64);
    /// acc.add(&2.0_f64);
    /// assert_eq!(acc.sum(), Some(&3.0));
    /// ```
    #[track_caller]
    pub fn add(&mut self, grads: &T) {
        self.add_weighted(grads, 1.0);
    }

    /// Adds `weight · grads`; the mean divides by the total weight. Use the micro-batch size
    /// as the weight when micro-batches differ in size and each gradient is of a mean loss.
    ///
    /// # Panics
    /// If `weight` is negative or not finite, or if `grads` does not have the buffers of
    /// the gradients added before.
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// // Mean losses over micro-batches of 3 and 1 samples.
    /// let mut acc = GradAccumulator::new();
    /// acc.add_weighted(&vec![1.0_f64], 3.0);
    /// acc.add_weighted(&vec![5.0_f64], 1.0);
    /// assert_eq!(acc.mean(), Some(vec![2.0]));
    /// ```
    #[track_caller]
    pub fn add_weighted(&mut self, grads: &T, weight: f64) {
        super::check_non_negative("GradAccumulator", "weight", weight);
        match &mut self.sum {
            None => {
                let mut g = grads.clone();
                if weight != 1.0 {
                    g.scale(weight);
                }
                self.sum = Some(g);
            }
            Some(sum) => {
                assert_same_buffers(sum, grads);
                if weight == 1.0 {
                    sum.add_assign_tangent(grads);
                } else {
                    let mut g = grads.clone();
                    g.scale(weight);
                    sum.add_assign_tangent(&g);
                }
            }
        }
        self.count += 1;
        self.total_weight += weight;
    }

    /// Number of gradients added since the last reset.
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// let mut acc = GradAccumulator::new();
    /// acc.add(&vec![1.0_f64]);
    /// assert_eq!(acc.count(), 1);
    /// ```
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether no gradient was added since the last reset.
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// assert!(GradAccumulator::<f64>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The (weighted) sum of the gradients added, `None` if there is none.
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// let mut acc = GradAccumulator::new();
    /// assert_eq!(acc.sum(), None);
    /// acc.add(&vec![1.0_f64, 2.0]);
    /// acc.add(&vec![1.0_f64, 2.0]);
    /// assert_eq!(acc.sum(), Some(&vec![2.0, 4.0]));
    /// ```
    pub fn sum(&self) -> Option<&T> {
        self.sum.as_ref()
    }

    /// The mean of the gradients added (the sum divided by the total weight), `None` if
    /// there is none (or the total weight is 0).
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// let mut acc = GradAccumulator::new();
    /// acc.add(&vec![1.0_f64, 2.0]);
    /// acc.add(&vec![3.0_f64, 6.0]);
    /// assert_eq!(acc.mean(), Some(vec![2.0, 4.0]));
    /// ```
    pub fn mean(&self) -> Option<T> {
        let mut mean = self.sum.clone().filter(|_| self.total_weight > 0.0)?;
        if self.total_weight != 1.0 {
            mean.scale(1.0 / self.total_weight);
        }
        Some(mean)
    }

    /// The mean, leaving the accumulator empty for the next batch.
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// let mut acc = GradAccumulator::new();
    /// acc.add(&4.0_f64);
    /// assert_eq!(acc.take_mean(), Some(4.0));
    /// assert_eq!(acc.take_mean(), None);
    /// ```
    pub fn take_mean(&mut self) -> Option<T> {
        let GradAccumulator {
            sum, total_weight, ..
        } = std::mem::take(self);
        let mut mean = sum.filter(|_| total_weight > 0.0)?;
        if total_weight != 1.0 {
            mean.scale(1.0 / total_weight);
        }
        Some(mean)
    }

    /// Forgets every gradient added.
    ///
    /// ```
    /// use autodiff_runtime::optim::GradAccumulator;
    ///
    /// let mut acc = GradAccumulator::new();
    /// acc.add(&1.0_f32);
    /// acc.reset();
    /// assert!(acc.is_empty());
    /// ```
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[track_caller]
fn assert_same_buffers<T: Tangent>(sum: &T, grads: &T) {
    let a: Vec<usize> = sum.leaves().iter().map(crate::Leaf::len).collect();
    let b: Vec<usize> = grads.leaves().iter().map(crate::Leaf::len).collect();
    assert!(
        a == b,
        "GradAccumulator: the gradient has buffers of lengths {b:?} but earlier ones had {a:?}"
    );
}
