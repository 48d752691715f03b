//! Code shared by the benchmarks and by `tests/bench_adjoints.rs` / `tests/adbench_gmm.rs`:
//! the differentiable workloads, their hand-written adjoints and the ADBench data loader.
//! Each user includes this module and uses only part of it.

#![allow(dead_code)]

pub mod gmm;
pub mod mlp;
pub mod scalar;
