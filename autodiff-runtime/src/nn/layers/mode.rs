//! Training and evaluation mode.

use std::sync::Mutex;

use ndarray::{ArrayBase, Data, Dimension};

/// Switches a model between training and evaluation, as PyTorch's `train()` / `eval()`.
///
/// Two layers behave differently in the two modes: [`Dropout`](super::Dropout) zeroes
/// activations only while training, and [`BatchNorm2d`](super::BatchNorm2d) normalizes with
/// the batch's statistics (updating its running statistics) while training and with the
/// running statistics in evaluation. Layers start in training mode.
///
/// `#[derive(Differentiable)]` implements this trait: `set_training` reaches every
/// parameter field (so every layer of a model, however nested) and writes the `bool` field
/// marked `#[autodiff(training)]`, if there is one.
///
/// ```
/// use autodiff_runtime::nn::{self, TrainingMode};
///
/// let mut layers = vec![nn::Dropout::<f32>::new(0.5), nn::Dropout::new(0.1)];
/// layers.eval();
/// assert!(layers.iter().all(|d| !d.is_training()));
/// layers.train();
/// assert!(layers[1].is_training());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no training mode",
    label = "`{Self}` does not implement `TrainingMode`",
    note = "`TrainingMode` is implemented for `f32`, `f64`, ndarray arrays, `Vec`s, arrays, tuples and \
            `Mutex`es of these, and by `#[derive(Differentiable)]`",
    note = "in a struct with `#[derive(Differentiable)]`, mark a constant field `#[no_grad]`"
)]
pub trait TrainingMode {
    /// Puts `self` and everything in it in training mode (`true`) or evaluation mode (`false`).
    fn set_training(&mut self, training: bool);

    /// Training mode: `set_training(true)`.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Evaluation mode: `set_training(false)`.
    fn eval(&mut self) {
        self.set_training(false);
    }
}

// Parameters with no mode: scalars and arrays.

impl TrainingMode for f32 {
    fn set_training(&mut self, _training: bool) {}
}

impl TrainingMode for f64 {
    fn set_training(&mut self, _training: bool) {}
}

impl<S: Data, D: Dimension> TrainingMode for ArrayBase<S, D> {
    fn set_training(&mut self, _training: bool) {}
}

// Containers: every element.

impl<T: TrainingMode> TrainingMode for Vec<T> {
    fn set_training(&mut self, training: bool) {
        self.iter_mut().for_each(|t| t.set_training(training));
    }
}

impl<T: TrainingMode, const N: usize> TrainingMode for [T; N] {
    fn set_training(&mut self, training: bool) {
        self.iter_mut().for_each(|t| t.set_training(training));
    }
}

impl<T: TrainingMode + ?Sized> TrainingMode for Mutex<T> {
    fn set_training(&mut self, training: bool) {
        self.get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .set_training(training);
    }
}

impl<T: TrainingMode + ?Sized> TrainingMode for &mut T {
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training);
    }
}

macro_rules! tuple_mode {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: TrainingMode),+> TrainingMode for ($($name,)+) {
            fn set_training(&mut self, training: bool) {
                $(self.$idx.set_training(training);)+
            }
        }
    };
}
tuple_mode!(A 0);
tuple_mode!(A 0, B 1);
tuple_mode!(A 0, B 1, C 2);
tuple_mode!(A 0, B 1, C 2, D 3);
tuple_mode!(A 0, B 1, C 2, D 3, E 4);
tuple_mode!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_mode!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_mode!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
