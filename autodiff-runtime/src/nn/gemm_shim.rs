//! The one entry point through which `nn` multiplies matrices: the runtime's GEMM,
//! `C ← α A B + β C` with transposes passed as views (`w.t()`).
//!
//! Every matrix product of `nn` (linear layers, the im2col convolutions and their adjoints)
//! calls `gemm` from here, so the engine is chosen in one place.

pub(super) use crate::linalg::gemm::gemm;
