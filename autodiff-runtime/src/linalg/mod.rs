//! Dense linear-algebra kernels shared by the rules, `ops` and `nn`.

pub(crate) mod gemm;
