//! Trains a small convolutional network to read handwritten digits, with gradients from
//! `#[differentiable]`: the flagship example.
//!
//! ```sh
//! cargo run --release --example digits                          # the 1797 8x8 UCI digits shipped in data/
//! cargo run --release --example digits -- --mnist path/to/dir   # MNIST, from its four IDX files
//! cargo run --release --example digits -- --epochs 5            # fewer epochs
//! ```
//!
//! The model is a struct of layer structs with `#[derive(Differentiable)]`; its loss is a
//! `#[differentiable]` method, so `model.loss_grad(&x, &labels)` returns the loss and a
//! `CnnTangent` with one gradient per parameter, which [`Adam`] applies to the model:
//!
//! ```text
//! conv 3x3, 16 ─ relu ─ conv 3x3, 32 ─ relu ─ max-pool 2x2 ─ dropout 0.25
//!   ─ linear 128 ─ relu ─ dropout 0.5 ─ linear 10 ─ cross-entropy
//! ```
//!
//! The digits are split once, by a seeded shuffle, into 1437 training and 360 test images
//! (80/20). Each epoch shuffles the training images into mini-batches of 32; after each
//! epoch the model is evaluated (in evaluation mode: no dropout) on both sets. The example
//! writes, under `target/digits/` (`target/mnist/` for MNIST):
//! - `curves.png`, the loss and accuracy per epoch;
//! - `model.safetensors`, the trained weights, named as PyTorch would name them
//!   (`conv1.weight`, `fc2.bias`, ...).
//!
//! For MNIST, `--mnist DIR` reads `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
//! `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` from `DIR` (each may also be
//! gzipped, with a `.gz` suffix, or named with a `.` before `idx`, as some mirrors do) and
//! uses MNIST's own train/test split, for 3 epochs by default (about a minute and a half per
//! epoch on two cores).

use std::error::Error;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use autodiff::ndarray::{Array2, Array4, Axis};
use autodiff::nn::{self, TrainingMode};
use autodiff::optim::{Adam, Optimizer};
use autodiff::rand::rngs::StdRng;
use autodiff::rand::seq::SliceRandom;
use autodiff::rand::{Rng, SeedableRng};
use autodiff::{Differentiable, differentiable, io, ops};
use flate2::read::GzDecoder;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;

/// The UCI digits as one gzipped CSV: per line, 64 pixels (0..16, row-major) and the label.
/// Made by `scripts/make_digits.py`; see `data/README.md`.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// DejaVu Sans, cut down to printable ASCII, for the plot's text: with it the plot needs no
/// system fonts. See `data/fonts/LICENSE`.
const FONT: &[u8] = include_bytes!("../data/fonts/DejaVuSans-ascii.ttf");

/// The seed of everything random: the split, the initial weights, the batches, the dropout masks.
const SEED: u64 = 0;

/// The number of classes.
const CLASSES: usize = 10;

/// Images per mini-batch.
const BATCH: usize = 32;

/// At most this many training images are evaluated after each epoch.
const TRAIN_PROBE: usize = 10_000;

/// Images per batch when evaluating.
const EVAL_BATCH: usize = 1000;

// --------------------------------------------------------------------------------------
// The model.

/// A small convolutional network for square one-channel images whose side is even.
#[derive(Differentiable, Clone, Debug)]
struct Cnn {
    conv1: nn::Conv2d,
    conv2: nn::Conv2d,
    drop1: nn::Dropout,
    fc1: nn::Linear,
    drop2: nn::Dropout,
    fc2: nn::Linear,
}

impl Cnn {
    /// A freshly initialized network for `side` x `side` images (PyTorch's initialization).
    fn new(side: usize, rng: &mut StdRng) -> Self {
        let pooled = side / 2;
        Cnn {
            conv1: nn::Conv2d::new(1, 16, 3, 1, 1, rng),
            conv2: nn::Conv2d::new(16, 32, 3, 1, 1, rng),
            drop1: nn::Dropout::new(0.25).seed(rng.random()),
            fc1: nn::Linear::new(32 * pooled * pooled, 128, rng),
            drop2: nn::Dropout::new(0.5).seed(rng.random()),
            fc2: nn::Linear::new(128, CLASSES, rng),
        }
    }

    /// The class scores (N x 10) of a batch of images (N x 1 x side x side).
    #[differentiable]
    fn logits(&self, x: &Array4<f32>) -> Array2<f32> {
        let h = nn::relu(&self.conv1.forward(x));
        let h = nn::relu(&self.conv2.forward(&h));
        let h = nn::max_pool2d(&h, 2, 2);
        let h = self.drop1.forward(&ops::flatten(&h));
        let h = nn::relu(&self.fc1.forward(&h));
        let h = self.drop2.forward(&h);
        self.fc2.forward(&h)
    }

    /// The mean cross-entropy of a batch: what training minimizes.
    #[differentiable]
    fn loss(&self, #[no_grad] x: &Array4<f32>, labels: &[usize]) -> f32 {
        nn::cross_entropy(&self.logits(x), labels)
    }

    /// The mean loss and the accuracy over a whole data set, in batches. Call it in
    /// evaluation mode.
    fn evaluate(&self, data: &Dataset) -> (f32, f32) {
        let (mut loss, mut correct) = (0.0, 0);
        let all: Vec<usize> = (0..data.len()).collect();
        for idx in all.chunks(EVAL_BATCH) {
            let (x, labels) = data.batch(idx);
            let logits = self.logits(&x);
            loss += nn::cross_entropy(&logits, &labels) * idx.len() as f32;
            correct += count_correct(&logits, &labels);
        }
        (loss / data.len() as f32, correct as f32 / data.len() as f32)
    }
}

/// How many rows of `logits` have their largest score at the label.
fn count_correct(logits: &Array2<f32>, labels: &[usize]) -> usize {
    logits
        .outer_iter()
        .zip(labels)
        .filter(|(row, label)| {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (k, &v)| {
                    if v > best.1 { (k, v) } else { best }
                });
            best.0 == **label
        })
        .count()
}

// --------------------------------------------------------------------------------------
// Data.

/// Labelled one-channel images, pixels scaled to [0, 1].
struct Dataset {
    /// N x 1 x side x side.
    images: Array4<f32>,
    /// N labels in 0..10.
    labels: Vec<usize>,
}

impl Dataset {
    /// The number of images.
    fn len(&self) -> usize {
        self.labels.len()
    }

    /// The side of the (square) images.
    fn side(&self) -> usize {
        self.images.shape()[2]
    }

    /// The images and labels at `idx`, in that order.
    fn batch(&self, idx: &[usize]) -> (Array4<f32>, Vec<usize>) {
        let x = self.images.select(Axis(0), idx);
        (x, idx.iter().map(|&i| self.labels[i]).collect())
    }

    /// The data set of `images` (`n` images of `side` x `side` bytes each, row-major) and
    /// `labels`, pixels divided by `max`.
    fn from_bytes(images: &[u8], labels: Vec<usize>, side: usize, max: f32) -> Self {
        let n = labels.len();
        assert_eq!(images.len(), n * side * side, "one image per label");
        assert!(labels.iter().all(|&l| l < CLASSES), "labels in 0..10");
        let images = Array4::from_shape_vec(
            (n, 1, side, side),
            images.iter().map(|&p| f32::from(p) / max).collect(),
        )
        .expect("n * side * side pixels");
        Dataset { images, labels }
    }
}

/// Parses the digits CSV (64 pixels and a label per line) into 8x8 images and labels.
fn parse_digits_csv(text: &str) -> Result<Dataset, Box<dyn Error>> {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let values = line
            .split(',')
            .map(|v| v.trim().parse::<u8>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("digits.csv line {}: {e}", i + 1))?;
        if values.len() != 65 || values[..64].iter().any(|&p| p > 16) || values[64] > 9 {
            return Err(format!(
                "digits.csv line {}: expected 64 pixels in 0..=16 and a label in 0..=9",
                i + 1
            )
            .into());
        }
        pixels.extend_from_slice(&values[..64]);
        labels.push(usize::from(values[64]));
    }
    Ok(Dataset::from_bytes(&pixels, labels, 8, 16.0))
}

/// The shipped UCI digits, split by a seeded shuffle into 80% training and 20% test images.
fn load_digits() -> Result<(Dataset, Dataset), Box<dyn Error>> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_CSV_GZ).read_to_string(&mut text)?;
    let all = parse_digits_csv(&text)?;
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(SEED));
    let n_train = all.len() * 4 / 5;
    let (train, test) = order.split_at(n_train);
    let split = |idx: &[usize]| {
        let (images, labels) = all.batch(idx);
        Dataset { images, labels }
    };
    Ok((split(train), split(test)))
}

/// An IDX array of unsigned bytes (the format of the MNIST files): its dimensions and data.
#[derive(Debug, PartialEq)]
struct Idx {
    dims: Vec<usize>,
    data: Vec<u8>,
}

/// Parses an IDX file: two zero bytes, the element type (`0x08`, unsigned byte, is the only
/// one accepted), the number of dimensions, each dimension as a big-endian `u32`, then the
/// elements in row-major order.
fn parse_idx(bytes: &[u8]) -> Result<Idx, String> {
    let header = bytes
        .get(..4)
        .ok_or("IDX: shorter than its 4-byte header")?;
    if header[..2] != [0, 0] {
        return Err(format!(
            "IDX: bad magic number {:02x}{:02x}{:02x}{:02x}",
            header[0], header[1], header[2], header[3]
        ));
    }
    if header[2] != 0x08 {
        return Err(format!(
            "IDX: element type 0x{:02x}, only 0x08 (unsigned byte) is supported",
            header[2]
        ));
    }
    let ndim = usize::from(header[3]);
    let dims_bytes = bytes
        .get(4..4 + 4 * ndim)
        .ok_or_else(|| format!("IDX: shorter than its {ndim} dimensions"))?;
    let dims: Vec<usize> = dims_bytes
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let len: usize = dims.iter().product();
    let data = &bytes[4 + 4 * ndim..];
    if data.len() != len {
        return Err(format!(
            "IDX: dimensions {dims:?} make {len} bytes of data, the file has {}",
            data.len()
        ));
    }
    Ok(Idx {
        dims,
        data: data.to_vec(),
    })
}

/// Reads the IDX file `stem` from `dir`: `stem`, `stem.gz`, or either with the `-` before
/// `idx` written as `.` (`train-images.idx3-ubyte`); gzipped files are decompressed.
fn read_idx(dir: &Path, stem: &str) -> Result<Idx, Box<dyn Error>> {
    let dotted = stem.replacen("-idx", ".idx", 1);
    let candidates = [stem, &dotted]
        .into_iter()
        .flat_map(|s| [s.to_string(), format!("{s}.gz")]);
    for name in candidates {
        let path = dir.join(&name);
        if !path.is_file() {
            continue;
        }
        let raw = fs::read(&path)?;
        let bytes = if name.ends_with(".gz") {
            let mut out = Vec::new();
            GzDecoder::new(raw.as_slice()).read_to_end(&mut out)?;
            out
        } else {
            raw
        };
        return Ok(parse_idx(&bytes).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    Err(format!("{}: no file {stem} (nor {stem}.gz)", dir.display()).into())
}

/// One MNIST split from its image and label IDX files.
fn load_mnist_split(dir: &Path, images: &str, labels: &str) -> Result<Dataset, Box<dyn Error>> {
    let images = read_idx(dir, images)?;
    let labels = read_idx(dir, labels)?;
    let [n, rows, cols] = images.dims[..] else {
        return Err(format!("MNIST images: expected 3 dimensions, got {:?}", images.dims).into());
    };
    if labels.dims != [n] {
        return Err(format!("MNIST: {n} images but labels of shape {:?}", labels.dims).into());
    }
    if rows != cols || rows % 2 != 0 {
        return Err(
            format!("MNIST: images must be square with an even side, got {rows}x{cols}").into(),
        );
    }
    if let Some(bad) = labels.data.iter().find(|&&l| usize::from(l) >= CLASSES) {
        return Err(format!("MNIST: label {bad} is not a digit").into());
    }
    let labels = labels.data.iter().map(|&l| usize::from(l)).collect();
    Ok(Dataset::from_bytes(&images.data, labels, rows, 255.0))
}

/// MNIST's training and test sets from the four IDX files in `dir`.
fn load_mnist(dir: &Path) -> Result<(Dataset, Dataset), Box<dyn Error>> {
    let train = load_mnist_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")?;
    let test = load_mnist_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?;
    if train.side() != test.side() {
        return Err("MNIST: training and test images differ in size".into());
    }
    Ok((train, test))
}

// --------------------------------------------------------------------------------------
// Training.

/// The metrics of one epoch.
#[derive(Clone, Copy, Debug)]
struct Epoch {
    /// The mean mini-batch loss during the epoch (training mode, with dropout).
    train_loss: f32,
    /// Accuracy on the training set (its first [`TRAIN_PROBE`] images) after the epoch, in
    /// evaluation mode.
    train_acc: f32,
    /// Loss on the test set after the epoch, in evaluation mode.
    test_loss: f32,
    /// Accuracy on the test set after the epoch, in evaluation mode.
    test_acc: f32,
}

/// Trains `model` for `epochs` epochs of mini-batch Adam; returns the metrics of each epoch.
fn train(model: &mut Cnn, train: &Dataset, test: &Dataset, epochs: usize) -> Vec<Epoch> {
    let mut rng = StdRng::seed_from_u64(SEED + 1);
    let mut opt = Adam::new(1e-3);
    let steps_per_epoch = train.len().div_ceil(BATCH);
    let bar = ProgressBar::new((epochs * steps_per_epoch) as u64);
    bar.set_style(
        ProgressStyle::with_template("epoch {prefix:>5} [{bar:16.cyan/blue}] {msg} ({elapsed})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    // The training accuracy is measured on (at most) the first 10000 training images, which
    // is all of the digits and keeps MNIST's evaluation short.
    let probe = {
        let idx: Vec<usize> = (0..train.len().min(TRAIN_PROBE)).collect();
        let (images, labels) = train.batch(&idx);
        Dataset { images, labels }
    };
    let mut history = Vec::with_capacity(epochs);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut last = String::from("acc  --.-% train,  --.-% test");
    for epoch in 1..=epochs {
        bar.set_prefix(format!("{epoch}/{epochs}"));
        model.train();
        order.shuffle(&mut rng);
        let (mut sum, mut count) = (0.0, 0);
        for idx in order.chunks(BATCH) {
            let (x, labels) = train.batch(idx);
            let (loss, grads) = model.loss_grad(&x, &labels);
            opt.step(model, &grads);
            sum += loss * idx.len() as f32;
            count += idx.len();
            bar.set_message(format!("loss {:.4}  {last}", sum / count as f32));
            bar.inc(1);
        }
        model.eval();
        let (_, train_acc) = model.evaluate(&probe);
        let (test_loss, test_acc) = model.evaluate(test);
        let e = Epoch {
            train_loss: sum / count as f32,
            train_acc,
            test_loss,
            test_acc,
        };
        last = format!(
            "acc {:5.1}% train, {:5.1}% test",
            100.0 * train_acc,
            100.0 * test_acc
        );
        let line = format!(
            "epoch {epoch:>3}/{epochs}  train loss {:.4}  test loss {:.4}  train acc {:6.2}%  test acc {:6.2}%",
            e.train_loss,
            e.test_loss,
            100.0 * e.train_acc,
            100.0 * e.test_acc
        );
        // Printed above the bar; printed alone when the bar is hidden (output not a terminal).
        bar.suspend(|| println!("{line}"));
        history.push(e);
    }
    bar.finish_and_clear();
    history
}

// --------------------------------------------------------------------------------------
// The plot.

/// Draws the loss (log scale) and accuracy curves side by side into a PNG at `path`.
fn plot(history: &[Epoch], title: &str, path: &Path) -> Result<(), Box<dyn Error>> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "the shipped font is not a valid TrueType font")?;
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 24))?;
    let (left, right) = root.split_horizontally(600);
    let n = history.len() as f32;
    let epochs = |f: fn(&Epoch) -> f32| -> Vec<(f32, f32)> {
        history
            .iter()
            .enumerate()
            .map(|(i, e)| (i as f32 + 1.0, f(e)))
            .collect()
    };
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);

    // Loss, log scale.
    let losses: Vec<f32> = history
        .iter()
        .flat_map(|e| [e.train_loss, e.test_loss])
        .collect();
    let lo = losses
        .iter()
        .copied()
        .fold(f32::INFINITY, f32::min)
        .max(1e-4)
        * 0.8;
    let hi = losses.iter().copied().fold(0.0, f32::max) * 1.25;
    let mut chart = ChartBuilder::on(&left)
        .caption("cross-entropy loss", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1f32..n.max(2.0), (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    draw_lines(
        &mut chart,
        [
            ("train (with dropout)", blue, epochs(|e| e.train_loss)),
            ("test", orange, epochs(|e| e.test_loss)),
        ],
        SeriesLabelPosition::UpperRight,
    )?;

    // Accuracy, in percent.
    let worst = history
        .iter()
        .flat_map(|e| [e.train_acc, e.test_acc])
        .fold(1.0, f32::min);
    let floor = ((worst * 100.0 - 1.0) / 5.0).floor().max(0.0) * 5.0;
    let mut chart = ChartBuilder::on(&right)
        .caption("accuracy", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(1f32..n.max(2.0), floor..100.5f32)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("accuracy (%)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    draw_lines(
        &mut chart,
        [
            ("train", blue, epochs(|e| 100.0 * e.train_acc)),
            ("test", orange, epochs(|e| 100.0 * e.test_acc)),
        ],
        SeriesLabelPosition::LowerRight,
    )?;
    root.present()?;
    Ok(())
}

/// A curve of the training plots: its label, its color and its `(epoch, value)` points.
type Line<'a> = (&'a str, RGBColor, Vec<(f32, f32)>);

/// Draws one line per `(label, color, points)` on `chart`, with a legend at `legend`.
fn draw_lines<'a, Y: Ranged<ValueType = f32>>(
    chart: &mut ChartContext<
        'a,
        BitMapBackend<'a>,
        Cartesian2d<plotters::coord::types::RangedCoordf32, Y>,
    >,
    series: [Line<'_>; 2],
    legend: SeriesLabelPosition,
) -> Result<(), Box<dyn Error>> {
    for (label, color, points) in series {
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(legend)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

// --------------------------------------------------------------------------------------
// The program.

/// The command line.
struct Args {
    /// A folder with MNIST's IDX files, instead of the shipped digits.
    mnist: Option<PathBuf>,
    /// Epochs to train; the data set's default when absent.
    epochs: Option<usize>,
}

const USAGE: &str = "usage: digits [--mnist DIR] [--epochs N]

Trains a small CNN on the UCI handwritten digits shipped in data/ (or on MNIST, from the
IDX files in DIR) and writes the loss and accuracy curves and the trained weights under
target/digits/ (target/mnist/).";

/// The command line, or what is wrong with it.
fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        mnist: None,
        epochs: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--mnist" => args.mnist = Some(it.next().ok_or("--mnist needs a folder")?.into()),
            "--epochs" => {
                let n = it.next().ok_or("--epochs needs a number")?;
                args.epochs = Some(
                    n.parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(format!("--epochs: not a positive number: {n}"))?,
                );
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    match parse_args().map_err(Into::into).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the data, trains, evaluates, and writes the plot and the weights.
fn run(args: Args) -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let (name, (train_set, test_set), default_epochs) = match &args.mnist {
        Some(dir) => ("mnist", load_mnist(dir)?, 3),
        None => ("digits", load_digits()?, 30),
    };
    let epochs = args.epochs.unwrap_or(default_epochs);
    let side = train_set.side();
    println!(
        "{name}: {} training and {} test images of {side}x{side} pixels",
        train_set.len(),
        test_set.len()
    );

    let mut rng = StdRng::seed_from_u64(SEED);
    let mut model = Cnn::new(side, &mut rng);
    let n_params: usize = io::parameter_shapes(&model)
        .iter()
        .map(|(_, shape)| shape.iter().product::<usize>())
        .sum();
    println!(
        "model: conv 16 - conv 32 - max-pool - dropout - linear 128 - dropout - linear 10, {n_params} parameters"
    );
    println!("training: Adam (lr 1e-3), {epochs} epochs of mini-batches of {BATCH}");

    let trained = Instant::now();
    let history = train(&mut model, &train_set, &test_set, epochs);
    let train_time = trained.elapsed().as_secs_f32();

    model.eval();
    let (test_loss, test_acc) = model.evaluate(&test_set);
    let correct = (test_acc * test_set.len() as f32).round() as usize;

    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(name);
    fs::create_dir_all(&out)?;
    let png = out.join("curves.png");
    let weights = out.join("model.safetensors");
    plot(
        &history,
        &format!(
            "{name}: small CNN trained with autodiff, test accuracy {:.1}%",
            100.0 * test_acc
        ),
        &png,
    )?;
    io::save_safetensors(&model, &weights)?;

    // The saved weights, loaded into a freshly initialized network, give the same predictions.
    let mut reloaded = Cnn::new(side, &mut StdRng::seed_from_u64(SEED + 2));
    io::load_safetensors(&mut reloaded, &weights)?;
    reloaded.eval();
    if reloaded.evaluate(&test_set).1 != test_acc {
        return Err("the reloaded weights do not reproduce the test accuracy".into());
    }

    println!(
        "test accuracy: {:.2}% ({correct}/{}), test loss {test_loss:.4}",
        100.0 * test_acc,
        test_set.len()
    );
    println!(
        "trained in {train_time:.1} s ({:.1} s in all)",
        start.elapsed().as_secs_f32()
    );
    println!("curves:  {}", png.display());
    println!("weights: {}", weights.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    /// The bytes of an IDX file of unsigned bytes.
    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    /// A fresh, empty folder under the system's temporary folder.
    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("autodiff-digits-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn parses_idx_headers_and_data() {
        let bytes = idx(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let parsed = parse_idx(&bytes).unwrap();
        assert_eq!(parsed.dims, vec![2, 2, 3]);
        assert_eq!(parsed.data, (1..=12).collect::<Vec<u8>>());
        assert_eq!(parse_idx(&idx(&[0], &[])).unwrap().dims, vec![0]);
    }

    #[test]
    fn rejects_malformed_idx() {
        assert!(parse_idx(&[0, 0]).unwrap_err().contains("header"));
        assert!(
            parse_idx(&[1, 0, 8, 1, 0, 0, 0, 0])
                .unwrap_err()
                .contains("magic")
        );
        assert!(
            parse_idx(&[0, 0, 0x0d, 1, 0, 0, 0, 0])
                .unwrap_err()
                .contains("0x0d")
        );
        assert!(
            parse_idx(&[0, 0, 8, 2, 0, 0, 0, 1])
                .unwrap_err()
                .contains("dimensions")
        );
        let short = idx(&[2, 3], &[0; 5]);
        assert!(parse_idx(&short).unwrap_err().contains("6 bytes"));
        let long = idx(&[2], &[0; 3]);
        assert!(parse_idx(&long).unwrap_err().contains("the file has 3"));
    }

    /// Three 2x2 training images and two test images, as MNIST's four files (the training
    /// images gzipped, the test files with MNIST's dotted names).
    #[test]
    fn loads_mnist_from_a_folder_of_idx_files() {
        let dir = temp_dir("mnist");
        let train_pixels: Vec<u8> = (0..12).map(|p| p * 20).collect();
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&idx(&[3, 2, 2], &train_pixels)).unwrap();
        fs::write(dir.join("train-images-idx3-ubyte.gz"), gz.finish().unwrap()).unwrap();
        fs::write(dir.join("train-labels-idx1-ubyte"), idx(&[3], &[7, 0, 9])).unwrap();
        fs::write(
            dir.join("t10k-images.idx3-ubyte"),
            idx(&[2, 2, 2], &[255; 8]),
        )
        .unwrap();
        fs::write(dir.join("t10k-labels.idx1-ubyte"), idx(&[2], &[1, 2])).unwrap();

        let (train, test) = load_mnist(&dir).unwrap();
        assert_eq!(train.images.dim(), (3, 1, 2, 2));
        assert_eq!(train.labels, vec![7, 0, 9]);
        assert_eq!(train.images[[1, 0, 0, 1]], 100.0 / 255.0);
        assert_eq!(test.images.dim(), (2, 1, 2, 2));
        assert!(test.images.iter().all(|&p| p == 1.0));
        assert_eq!(test.labels, vec![1, 2]);

        // A label file that does not match its images.
        fs::write(dir.join("t10k-labels.idx1-ubyte"), idx(&[3], &[1, 2, 3])).unwrap();
        let err = load_mnist(&dir).err().unwrap().to_string();
        assert!(err.contains("2 images but labels of shape [3]"), "{err}");
        // A missing file.
        fs::remove_file(dir.join("t10k-labels.idx1-ubyte")).unwrap();
        let err = load_mnist(&dir).err().unwrap().to_string();
        assert!(err.contains("no file t10k-labels-idx1-ubyte"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_shipped_digits_load_and_split() {
        let (train, test) = load_digits().unwrap();
        assert_eq!((train.len(), test.len()), (1437, 360));
        assert_eq!(train.images.dim(), (1437, 1, 8, 8));
        assert!(train.images.iter().all(|&p| (0.0..=1.0).contains(&p)));
        for set in [&train, &test] {
            for class in 0..CLASSES {
                assert!(set.labels.iter().filter(|&&l| l == class).count() > 20);
            }
        }
    }

    #[test]
    fn the_model_runs_on_both_image_sizes() {
        let mut rng = StdRng::seed_from_u64(1);
        for side in [8, 28] {
            let model = Cnn::new(side, &mut rng);
            let x = Array4::zeros((2, 1, side, side));
            assert_eq!(model.logits(&x).dim(), (2, CLASSES));
            let (loss, grads) = model.loss_grad(&x, &[3, 4]);
            assert!(loss.is_finite());
            assert_eq!(grads.conv1.weight.dim(), (16, 1, 3, 3));
        }
    }

    #[test]
    fn counts_rows_whose_largest_score_is_the_label() {
        let logits = autodiff::ndarray::array![[0.1, 0.9, 0.0], [2.0, -1.0, 0.5], [0.0, 0.0, 3.0]];
        assert_eq!(count_correct(&logits, &[1, 2, 2]), 2);
    }
}
