//! The safetensors format: an 8-byte little-endian header length, a JSON header giving each
//! tensor's dtype, shape and byte range, then the little-endian data.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView, View};

use super::NamedParameters;
use crate::{Leaf, LeafMut};

/// Why saving or loading parameters failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the file failed.
    Io(std::io::Error),
    /// The bytes are not a valid safetensors file (or could not be encoded as one).
    Format(String),
    /// Two parameters of the model have this name, so a file cannot tell them apart.
    DuplicateName(String),
    /// The file's tensors do not match the model's parameters; the model is unchanged.
    Mismatch(Mismatch),
}

/// How a safetensors file differs from the model it is loaded into.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mismatch {
    /// Parameters of the model that the file lacks.
    pub missing: Vec<String>,
    /// Tensors of the file that the model has no parameter for.
    pub unexpected: Vec<String>,
    /// Tensors whose shape differs from the parameter's.
    pub shapes: Vec<ShapeMismatch>,
    /// Tensors whose element type differs from the parameter's.
    pub dtypes: Vec<DtypeMismatch>,
}

/// A tensor whose shape differs from its parameter's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeMismatch {
    /// The tensor's name.
    pub name: String,
    /// The parameter's shape.
    pub model: Vec<usize>,
    /// The tensor's shape in the file.
    pub file: Vec<usize>,
}

/// A tensor whose element type differs from its parameter's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtypeMismatch {
    /// The tensor's name.
    pub name: String,
    /// The parameter's type: `F32` or `F64`.
    pub model: String,
    /// The tensor's type in the file, as safetensors names it (`F16`, `BF16`, `I64`, ...).
    pub file: String,
}

impl Mismatch {
    fn is_empty(&self) -> bool {
        self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.shapes.is_empty()
            && self.dtypes.is_empty()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Format(e) => write!(f, "not a valid safetensors file: {e}"),
            Error::DuplicateName(name) => {
                write!(
                    f,
                    "the model has two parameters named `{name}`; a safetensors file needs distinct names"
                )
            }
            Error::Mismatch(m) => write!(f, "{m}"),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn names(names: &[String]) -> String {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("missing from the file: {}", names(&self.missing)));
        }
        if !self.unexpected.is_empty() {
            parts.push(format!(
                "not parameters of the model: {}",
                names(&self.unexpected)
            ));
        }
        for s in &self.shapes {
            parts.push(format!(
                "`{}` has shape {:?} in the file but {:?} in the model",
                s.name, s.file, s.model
            ));
        }
        for d in &self.dtypes {
            parts.push(format!(
                "`{}` is {} in the file but {} in the model",
                d.name, d.file, d.model
            ));
        }
        write!(
            f,
            "the safetensors file does not match the model: {}",
            parts.join("; ")
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

fn format_error(e: safetensors::SafeTensorError) -> Error {
    Error::Format(e.to_string())
}

/// One parameter, encoded.
struct Tensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Tensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

#[track_caller]
fn check_len(name: &str, shape: &[usize], len: usize) {
    let expected: usize = shape.iter().product();
    assert!(
        expected == len,
        "NamedParameters: parameter `{name}` has shape {shape:?} ({expected} elements) but a buffer of {len}"
    );
}

/// The parameters of `model` as the bytes of a safetensors file (see [`save_safetensors`]).
///
/// # Errors
/// [`Error::DuplicateName`] when two parameters share a name.
pub fn to_safetensors_bytes<M: NamedParameters + ?Sized>(model: &M) -> Result<Vec<u8>, Error> {
    let mut tensors = Vec::new();
    model.visit_parameters(&mut String::new(), &mut |name, shape, leaf| {
        check_len(name, shape, leaf.len());
        let (dtype, data) = match leaf {
            Leaf::F32(s) => (Dtype::F32, s.iter().flat_map(|v| v.to_le_bytes()).collect()),
            Leaf::F64(s) => (Dtype::F64, s.iter().flat_map(|v| v.to_le_bytes()).collect()),
        };
        tensors.push(Tensor {
            name: name.to_string(),
            dtype,
            shape: shape.to_vec(),
            data,
        });
    });
    let mut seen = HashSet::new();
    if let Some(t) = tensors.iter().find(|t| !seen.insert(t.name.as_str())) {
        return Err(Error::DuplicateName(t.name.clone()));
    }
    // `format: pt` is what PyTorch's and transformers' loaders expect to find.
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(tensors.iter().map(|t| (t.name.as_str(), t)), Some(metadata))
        .map_err(format_error)
}

/// Saves the parameters of `model` to a safetensors file at `path`.
///
/// Tensors are named by field path (`l1.weight`, `layers.0.bias`), stored as `F32` or `F64`
/// in row-major order with the arrays' shapes; scalars have shape `[]`. PyTorch reads the
/// file with `safetensors.torch.load_file`, and a module with the same names takes it with
/// `load_state_dict`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written, [`Error::DuplicateName`] when two
/// parameters share a name.
///
/// # Panics
/// When a parameter array is not in standard layout.
pub fn save_safetensors<M: NamedParameters + ?Sized>(
    model: &M,
    path: impl AsRef<Path>,
) -> Result<(), Error> {
    let bytes = to_safetensors_bytes(model)?;
    std::fs::write(path, bytes)?;
    Ok(())
}

/// Loads the parameters of `model` from a safetensors file at `path` (see
/// [`load_safetensors_bytes`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; as [`load_safetensors_bytes`] otherwise.
pub fn load_safetensors<M: NamedParameters + ?Sized>(
    model: &mut M,
    path: impl AsRef<Path>,
) -> Result<(), Error> {
    let bytes = std::fs::read(path)?;
    load_safetensors_bytes(model, &bytes)
}

fn dtype_name(leaf: &Leaf<'_>) -> (Dtype, &'static str) {
    match leaf {
        Leaf::F32(_) => (Dtype::F32, "F32"),
        Leaf::F64(_) => (Dtype::F64, "F64"),
    }
}

/// Loads the parameters of `model` from the bytes of a safetensors file.
///
/// The file must hold exactly the model's parameters, each with its name, shape and dtype
/// (`F32` for `f32` parameters, `F64` for `f64` ones); nothing is converted. The model is
/// changed only when everything matches.
///
/// # Errors
/// [`Error::Format`] when the bytes are not a safetensors file, [`Error::Mismatch`] listing
/// every missing, unexpected, mis-shaped and mis-typed tensor.
pub fn load_safetensors_bytes<M: NamedParameters + ?Sized>(
    model: &mut M,
    bytes: &[u8],
) -> Result<(), Error> {
    let file = SafeTensors::deserialize(bytes).map_err(format_error)?;
    let tensors: HashMap<&str, TensorView<'_>> = file.iter().collect();

    let mut mismatch = Mismatch::default();
    let mut wanted = HashSet::new();
    model.visit_parameters(&mut String::new(), &mut |name, shape, leaf| {
        wanted.insert(name.to_string());
        let Some(tensor) = tensors.get(name) else {
            mismatch.missing.push(name.to_string());
            return;
        };
        let (dtype, dtype_name) = dtype_name(&leaf);
        if tensor.dtype() != dtype {
            mismatch.dtypes.push(DtypeMismatch {
                name: name.to_string(),
                model: dtype_name.to_string(),
                file: format!("{:?}", tensor.dtype()),
            });
        } else if tensor.shape() != shape {
            mismatch.shapes.push(ShapeMismatch {
                name: name.to_string(),
                model: shape.to_vec(),
                file: tensor.shape().to_vec(),
            });
        }
    });
    mismatch.unexpected = tensors
        .keys()
        .filter(|name| !wanted.contains(**name))
        .map(|n| n.to_string())
        .collect();
    mismatch.unexpected.sort();
    if !mismatch.is_empty() {
        return Err(Error::Mismatch(mismatch));
    }

    model.visit_parameters_mut(&mut String::new(), &mut |name, shape, leaf| {
        // Checked above: present, same dtype, same shape.
        let data = tensors[name].data();
        check_len(name, shape, leaf.len());
        match leaf {
            LeafMut::F32(dst) => {
                for (d, s) in dst.iter_mut().zip(data.chunks_exact(4)) {
                    *d = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                }
            }
            LeafMut::F64(dst) => {
                for (d, s) in dst.iter_mut().zip(data.chunks_exact(8)) {
                    *d = f64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
                }
            }
        }
    });
    Ok(())
}
