//! The hand-written adjoints of the benchmarks (`benches/common/`) agree with the generated
//! gradients, so that the benchmarks compare two correct implementations.

#[path = "../benches/common/mod.rs"]
mod common;

use common::{gmm, mlp, scalar};

#[track_caller]
fn assert_close(what: &str, got: f64, want: f64, rtol: f64) {
    let err = (got - want).abs() / want.abs().max(1e-300);
    assert!(
        err <= rtol,
        "{what}: hand-written {got:e} vs generated {want:e} (relative error {err:e})"
    );
}

#[track_caller]
fn assert_all_close(what: &str, got: &[f64], want: &[f64], rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    // Relative to the largest entry: single entries can be (near) zero.
    let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / scale;
        assert!(
            err <= rtol,
            "{what}[{i}]: hand-written {g:e} vs generated {w:e} (error {err:e} of the largest entry {scale:e})"
        );
    }
}

#[test]
fn rosenbrock_adjoint_matches_generated_gradient() {
    for n in [2, 10, 10_000] {
        let x = scalar::rosenbrock_point(n);
        let (v, g) = scalar::rosenbrock_grad(&x);
        let (hv, hg) = scalar::rosenbrock_adjoint(&x);
        assert_eq!(v, scalar::rosenbrock(&x));
        assert_close("rosenbrock value", hv, v, 1e-12);
        assert_all_close("rosenbrock gradient", &hg, &g, 1e-12);
    }
}

#[test]
fn particle_adjoint_matches_generated_gradient() {
    let (vx, vy, drag) = scalar::PARTICLE_ARGS;
    for steps in [1, 7, scalar::PARTICLE_STEPS] {
        let dt = scalar::PARTICLE_DT * (scalar::PARTICLE_STEPS / steps) as f64;
        let (v, (gx, gy, gd)) = scalar::particle_grad(vx, vy, drag, dt, steps);
        let (hv, (hx, hy, hd)) = scalar::particle_adjoint(vx, vy, drag, dt, steps);
        assert_eq!(v, scalar::particle(vx, vy, drag, dt, steps));
        assert_close("particle value", hv, v, 1e-12);
        assert_close("particle d vx0", hx, gx, 1e-10);
        assert_close("particle d vy0", hy, gy, 1e-10);
        assert_close("particle d drag", hd, gd, 1e-10);
    }
}

#[test]
fn gmm_adjoint_matches_generated_gradient() {
    for name in ["gmm_d2_K5", "gmm_d10_K25"] {
        let g = gmm::load_gmm(&gmm::data_path(&format!("gmm/1k/{name}.txt")));
        let (v, grad) = gmm::generated(&g);
        let (hv, hgrad) = gmm::gmm_adjoint(&g);
        assert_close("gmm value", hv, v, 1e-12);
        assert_all_close("gmm gradient", &hgrad, &grad, 1e-10);
    }
}

#[test]
fn mlp_hand_written_gradient_matches_generated_gradient() {
    let model = mlp::Mlp::new(0);
    let (x, labels) = mlp::batch(1);
    let (v, g) = model.loss_grad(&x, &labels);
    let (hv, hg) = mlp::hand_written_grad(&model, &x, &labels);
    assert_eq!(v, model.loss(&x, &labels));
    // f32 and GEMMs with different summation orders: relative to each gradient's largest entry.
    let rtol = 1e-4;
    assert_close("mlp loss", f64::from(hv), f64::from(v), rtol);
    for (name, h, gen_) in [
        ("w1", &hg.w1, &g.w1),
        ("w2", &hg.w2, &g.w2),
        ("w3", &hg.w3, &g.w3),
    ] {
        let (h, gen_) = (f64s(h.iter()), f64s(gen_.iter()));
        assert_all_close(name, &h, &gen_, rtol);
    }
    for (name, h, gen_) in [
        ("b1", &hg.b1, &g.b1),
        ("b2", &hg.b2, &g.b2),
        ("b3", &hg.b3, &g.b3),
    ] {
        let (h, gen_) = (f64s(h.iter()), f64s(gen_.iter()));
        assert_all_close(name, &h, &gen_, rtol);
    }
}

fn f64s<'a>(v: impl Iterator<Item = &'a f32>) -> Vec<f64> {
    v.map(|&x| f64::from(x)).collect()
}
