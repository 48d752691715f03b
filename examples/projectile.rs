//! Fits the launch speed and drag coefficient of a simulated projectile to observed
//! positions by gradient descent, differentiating through 400 explicit Euler steps.
//!
//! Run with `cargo run --release --example projectile`.

use autodiff::differentiable;

const DT: f64 = 0.01;
const STEPS: usize = 400;
const G: f64 = 9.81;

/// Squared distance between the simulated and the observed positions, sampled every 40
/// steps. The projectile starts at the origin at 45 degrees with speed `v0` and feels
/// quadratic drag `-c |v| v`.
#[differentiable]
fn misfit(v0: f64, c: f64, #[no_grad] observed: &[f64]) -> f64 {
    let angle: f64 = std::f64::consts::FRAC_PI_4;
    let mut x = 0.0;
    let mut y = 0.0;
    let mut vx = v0 * angle.cos();
    let mut vy = v0 * angle.sin();
    let mut loss = 0.0;
    for step in 0..STEPS {
        let speed = (vx * vx + vy * vy).sqrt();
        let ax = -c * speed * vx;
        let ay = -G - c * speed * vy;
        x += DT * vx;
        y += DT * vy;
        vx += DT * ax;
        vy += DT * ay;
        if (step + 1) % 40 == 0 {
            let k = (step + 1) / 40 - 1;
            let ex = x - observed[2 * k];
            let ey = y - observed[2 * k + 1];
            loss += ex * ex + ey * ey;
        }
    }
    loss
}

/// Observations from the "true" parameters, with no noise.
fn observe(v0: f64, c: f64) -> Vec<f64> {
    let (mut x, mut y) = (0.0, 0.0);
    let a = std::f64::consts::FRAC_PI_4;
    let (mut vx, mut vy) = (v0 * a.cos(), v0 * a.sin());
    let mut out = Vec::new();
    for step in 0..STEPS {
        let speed = (vx * vx + vy * vy).sqrt();
        let (ax, ay) = (-c * speed * vx, -G - c * speed * vy);
        x += DT * vx;
        y += DT * vy;
        vx += DT * ax;
        vy += DT * ay;
        if (step + 1) % 40 == 0 {
            out.push(x);
            out.push(y);
        }
    }
    out
}

fn main() {
    let (true_v0, true_c) = (23.0, 0.031);
    let observed = observe(true_v0, true_c);
    let (mut v0, mut c) = (15.0, 0.005);
    // Plain gradient descent with per-parameter step sizes (the two scales differ by 1e3).
    let (lr_v0, lr_c) = (2e-3, 2e-8);
    println!(
        "fitting launch speed and drag to {} observed positions",
        observed.len() / 2
    );
    for iter in 0..=3000 {
        let (loss, (d_v0, d_c)) = misfit_grad(v0, c, &observed);
        if iter % 300 == 0 {
            println!("iter {iter:5}  loss {loss:12.6e}  v0 {v0:8.4}  c {c:8.5}");
        }
        v0 -= lr_v0 * d_v0;
        c -= lr_c * d_c;
    }
    println!("true      v0 {true_v0:8.4}  c {true_c:8.5}");
    println!(
        "recovered v0 {v0:8.4}  c {c:8.5}  (misfit {:.3e})",
        misfit(v0, c, &observed)
    );
}
