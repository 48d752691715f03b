//! Scalar workloads: the extended Rosenbrock function and an explicit-Euler particle
//! simulation, each as a `#[differentiable]` function (primal + generated `_grad`) and a
//! hand-written adjoint of the same function.

use autodiff::differentiable;

// ---- extended Rosenbrock ----

/// Extended Rosenbrock function (the uncoupled form, Moré, Garbow and Hillstrom 1981,
/// problem 21), for even `n = x.len()`:
///
/// ```text
/// f(x) = Σ_{i=0}^{n/2-1} 100 (x_{2i+1} - x_{2i}²)² + (1 - x_{2i})²
/// ```
#[differentiable]
pub fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() / 2 {
        let a = x[2 * i];
        let b = x[2 * i + 1];
        let t = b - a * a;
        let u = 1.0 - a;
        s += 100.0 * t * t + u * u;
    }
    s
}

/// Hand-written adjoint of [`rosenbrock`]: value and gradient in one sweep (each term's
/// partial derivatives only involve its own pair, so no tape is needed).
///
/// ```text
/// ∂f/∂x_{2i}   = -400 x_{2i} t - 2 u      t = x_{2i+1} - x_{2i}²,  u = 1 - x_{2i}
/// ∂f/∂x_{2i+1} =  200 t
/// ```
pub fn rosenbrock_adjoint(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let mut s = 0.0;
    for (xp, gp) in x.chunks_exact(2).zip(g.chunks_exact_mut(2)) {
        let (a, b) = (xp[0], xp[1]);
        let t = b - a * a;
        let u = 1.0 - a;
        s += 100.0 * t * t + u * u;
        gp[0] = -400.0 * a * t - 2.0 * u;
        gp[1] = 200.0 * t;
    }
    (s, g)
}

/// Starting point of the benchmark: the classic `(-1.2, 1, -1.2, 1, ...)`, slightly
/// perturbed so that no two pairs are equal.
pub fn rosenbrock_point(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let base = if i % 2 == 0 { -1.2 } else { 1.0 };
            base + 1e-3 * ((i as f64) * 0.37).sin()
        })
        .collect()
}

// ---- particle with drag ----

/// Gravity, m/s².
pub const GRAVITY: f64 = 9.81;
/// Target of the particle's final position.
pub const TARGET: (f64, f64) = (10.0, 2.0);

/// A point mass thrown from the origin with initial velocity `(vx0, vy0)`, under gravity and
/// quadratic air drag `-drag |v| v`, integrated by `steps` explicit Euler steps of `dt`.
/// The loss is the squared distance of the final position to [`TARGET`]. Differentiated
/// with respect to `vx0`, `vy0` and `drag`.
#[differentiable]
pub fn particle(vx0: f64, vy0: f64, drag: f64, #[no_grad] dt: f64, steps: usize) -> f64 {
    let mut px = 0.0;
    let mut py = 0.0;
    let mut vx = vx0;
    let mut vy = vy0;
    for _ in 0..steps {
        let speed = (vx * vx + vy * vy).sqrt();
        let ax = -drag * speed * vx;
        let ay = -GRAVITY - drag * speed * vy;
        px += dt * vx;
        py += dt * vy;
        vx += dt * ax;
        vy += dt * ay;
    }
    let ex = px - TARGET.0;
    let ey = py - TARGET.1;
    ex * ex + ey * ey
}

/// Hand-written adjoint of [`particle`]: value and `(d vx0, d vy0, d drag)`.
///
/// The forward sweep stores the velocity at the start of every step and its norm (24 bytes
/// per step, all the reverse sweep needs: the position update is linear, so the position's
/// adjoint is constant). Per step, with `s = |v|` and `k = dt drag`:
///
/// ```text
/// v' = v - dt (drag s v + g e_y),  p' = p + dt v
/// P  = P'                                    (constant: 2 (p_final - target))
/// d_drag -= dt s (V'·v)
/// V  = dt P + M V',   M = (1 - k s) I - (k / s) v vᵀ   (the step's Jacobian, symmetric)
/// ```
///
/// `M` depends on stored values only, so the loop-carried chain through `V` is one 2x2
/// matrix-vector product per step.
pub fn particle_adjoint(
    vx0: f64,
    vy0: f64,
    drag: f64,
    dt: f64,
    steps: usize,
) -> (f64, (f64, f64, f64)) {
    let mut tape = Vec::with_capacity(steps);
    let (mut px, mut py, mut vx, mut vy) = (0.0, 0.0, vx0, vy0);
    for _ in 0..steps {
        let speed = (vx * vx + vy * vy).sqrt();
        tape.push((vx, vy, speed));
        let ax = -drag * speed * vx;
        let ay = -GRAVITY - drag * speed * vy;
        px += dt * vx;
        py += dt * vy;
        vx += dt * ax;
        vy += dt * ay;
    }
    let (ex, ey) = (px - TARGET.0, py - TARGET.1);
    let value = ex * ex + ey * ey;

    let (cx, cy) = (dt * 2.0 * ex, dt * 2.0 * ey);
    let k = dt * drag;
    let (mut bvx, mut bvy, mut bdrag) = (0.0, 0.0, 0.0);
    for &(vx, vy, speed) in tape.iter().rev() {
        bdrag -= dt * speed * (bvx * vx + bvy * vy);
        let keep = 1.0 - k * speed;
        let ks = k / speed;
        let (mxx, mxy, myy) = (keep - ks * vx * vx, -ks * vx * vy, keep - ks * vy * vy);
        (bvx, bvy) = (cx + mxx * bvx + mxy * bvy, cy + mxy * bvx + myy * bvy);
    }
    (value, (bvx, bvy, bdrag))
}

/// The benchmark's instance: 20 000 steps of 0.1 ms (2 s of flight).
pub const PARTICLE_STEPS: usize = 20_000;
/// Time step of the benchmark.
pub const PARTICLE_DT: f64 = 1e-4;
/// Initial velocity and drag coefficient of the benchmark.
pub const PARTICLE_ARGS: (f64, f64, f64) = (8.0, 9.0, 0.05);
