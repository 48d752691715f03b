//! The GMM objective of the benchmarks (`benches/common/gmm.rs`) and its generated gradient
//! reproduce ADBench's reference outputs (objective `F` and gradient `J` of its hand-written
//! C++ tool, `benches/data/adbench/reference_outputs/`). ADBench gives no `J` for d = 64,
//! K = 100: there the gradient is held to the benchmark's hand-written adjoint, which the
//! smaller instances hold to ADBench's.

#[path = "../benches/common/mod.rs"]
mod common;

use common::gmm::{data_path, generated, gmm_adjoint, load_gmm, load_numbers, objective};

/// Relative error of `got` against `want`, entrywise relative to the largest entry of
/// `want` (the gradient has entries near zero).
fn max_rel_error(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "lengths differ");
    let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / scale)
        .fold(0.0, f64::max)
}

fn check_instance(name: &str) {
    let g = load_gmm(&data_path(&format!("gmm/1k/{name}.txt")));
    let f_ref = load_numbers(&data_path(&format!(
        "reference_outputs/{name}_F_Manual.txt"
    )))[0];
    let j_path = data_path(&format!("reference_outputs/{name}_J_Manual.txt"));
    let (hf, hj) = gmm_adjoint(&g);
    let j_ref = if j_path.exists() {
        load_numbers(&j_path)
    } else {
        hj.clone()
    };
    assert_eq!(j_ref.len(), g.grad_len());

    let (f, j) = generated(&g);
    assert_eq!(
        f,
        objective(&g),
        "{name}: generated value differs from the primal"
    );
    let f_err = ((f - f_ref) / f_ref).abs();
    assert!(
        f_err < 1e-8,
        "{name}: objective {f:e} vs ADBench {f_ref:e} ({f_err:e})"
    );
    let j_err = max_rel_error(&j, &j_ref);
    assert!(
        j_err < 1e-8,
        "{name}: gradient differs from ADBench's by {j_err:e}"
    );

    // The hand-written adjoint of the benchmark, too.
    let hf_err = ((hf - f_ref) / f_ref).abs();
    assert!(
        hf_err < 1e-8,
        "{name}: hand-written objective {hf:e} ({hf_err:e})"
    );
    let hj_err = max_rel_error(&hj, &j_ref);
    assert!(
        hj_err < 1e-8,
        "{name}: hand-written gradient error {hj_err:e}"
    );
    eprintln!(
        "{name}: relative error to ADBench: objective {f_err:.1e}, gradient {j_err:.1e} \
         (hand-written: {hf_err:.1e}, {hj_err:.1e})"
    );
}

#[test]
fn gmm_d2_k5_matches_adbench() {
    check_instance("gmm_d2_K5");
}

#[test]
fn gmm_d10_k25_matches_adbench() {
    check_instance("gmm_d10_K25");
}

#[test]
fn gmm_d64_k100_matches_adbench() {
    check_instance("gmm_d64_K100");
}
