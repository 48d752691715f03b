//! The ADBench Gaussian mixture model objective (github.com/microsoft/ADBench, `gmm`):
//! the data loader, the objective as a `#[differentiable]` function written with loops over
//! slices, as ADBench's C++ reference, and a hand-written adjoint.
//!
//! Layout, definition and data: `benches/data/adbench/` (copied from ADBench, MIT licence,
//! Copyright (c) Microsoft Corporation).

// Differentiable code indexes slices in range loops (iterator adapters take closures,
// which `#[differentiable]` does not accept).
#![allow(clippy::needless_range_loop)]

use std::path::{Path, PathBuf};

use autodiff::differentiable;

/// `PI` of ADBench's `defs.h`, a truncated π. It enters the constant term and the `ln π` of
/// the Wishart normalisation, exactly as in the C++ code the reference outputs come from.
#[allow(clippy::approx_constant)]
const ADBENCH_PI: f64 = 3.14159265359;

/// One GMM instance, as read from an ADBench file.
#[derive(Clone, Debug)]
pub struct GmmInput {
    /// Dimension of the data.
    pub d: usize,
    /// Number of components.
    pub k: usize,
    /// Number of points.
    pub n: usize,
    /// `K` unnormalised log weights.
    pub alphas: Vec<f64>,
    /// `K·d` means, `means[c*d + j]`.
    pub means: Vec<f64>,
    /// `K·d(d+1)/2`: per component `d` log-diagonal entries of `Q`, then its strictly lower
    /// entries column by column.
    pub icf: Vec<f64>,
    /// `n·d` data points.
    pub x: Vec<f64>,
    /// Wishart prior `γ`.
    pub gamma: f64,
    /// Wishart prior `m`.
    pub m: usize,
}

impl GmmInput {
    /// The number of gradient entries, `K(d+1)(d+2)/2`.
    pub fn grad_len(&self) -> usize {
        self.alphas.len() + self.means.len() + self.icf.len()
    }
}

/// `benches/data/adbench/<rel>` in this repository.
pub fn data_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/data/adbench")
        .join(rel)
}

/// Reads an ADBench GMM file (`docs/FileFormat.md`): `d K n`, the alphas, the means, the
/// icf rows, the points (a single point in ADBench's "replicate" mode, copied `n` times),
/// then `γ m`.
pub fn load_gmm(path: &Path) -> GmmInput {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut tok = text.split_whitespace();
    let mut int = || -> usize { tok.next().expect("truncated GMM file").parse().unwrap() };
    let (d, k, n) = (int(), int(), int());
    let icf_sz = d * (d + 1) / 2;
    let nums: Vec<&str> = text.split_whitespace().skip(3).collect();
    let num = |i: usize| -> f64 { nums[i].parse().expect("a number") };
    let mut at = 0;
    let mut take = |len: usize| -> Vec<f64> {
        let v = (at..at + len).map(num).collect();
        at += len;
        v
    };
    let alphas = take(k);
    let means = take(k * d);
    let icf = take(k * icf_sz);
    // Points, then the two wishart numbers.
    let points = (nums.len() - (k + k * d + k * icf_sz) - 2) / d;
    assert!(
        points == n || points == 1,
        "{}: {points} points for n = {n}",
        path.display()
    );
    let first = take(points * d);
    let x = if points == n {
        first
    } else {
        first.iter().copied().cycle().take(n * d).collect()
    };
    let gamma = take(1)[0];
    let m = take(1)[0] as usize;
    GmmInput {
        d,
        k,
        n,
        alphas,
        means,
        icf,
        x,
        gamma,
        m,
    }
}

/// A file of numbers, one or more per line (ADBench's reference outputs).
pub fn load_numbers(path: &Path) -> Vec<f64> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
        .split_whitespace()
        .map(|t| t.parse().expect("a number"))
        .collect()
}

/// `ln Γ(a)` for `a` a positive multiple of ½, exactly (to rounding): `Γ(a) = (a-1)!` for
/// integers and `√π · Π_{j < a-½} (j + ½)` for half-integers. The Wishart normalisation
/// only evaluates `ln Γ` there (`a = n_w/2 + (1-j)/2` with integer `n_w`). Passive code.
fn ln_gamma_half_integer(a: f64) -> f64 {
    let twice = 2.0 * a;
    assert!(
        a > 0.0 && a < 100.0 && twice == twice.round(),
        "ln_gamma_half_integer({a})"
    );
    let (mut prod, mut base, mut ln) = (1.0_f64, a - 1.0, 0.0);
    if twice as u64 % 2 == 1 {
        ln = 0.5 * std::f64::consts::PI.ln();
    }
    while base > 0.25 {
        prod *= base;
        base -= 1.0;
    }
    ln + prod.ln()
}

/// `ln Γ_p(a) = ¼ p(p-1) ln π + Σ_{j=1..p} ln Γ(a + (1-j)/2)` (`log_gamma_distrib` of
/// ADBench's `matrix.h`, with its truncated π). Passive code.
fn log_gamma_distrib(a: f64, p: usize) -> f64 {
    let mut out = 0.25 * (p * (p - 1)) as f64 * ADBENCH_PI.ln();
    for j in 1..=p {
        out += ln_gamma_half_integer(a + 0.5 * (1.0 - j as f64));
    }
    out
}

/// The constant `C` of the Wishart prior for dimension `d` and parameters `γ`, `m`:
/// `n_w·d·(ln γ − ½ ln 2) − ln Γ_d(n_w / 2)` with `n_w = d + m + 1`. Passive code.
pub fn wishart_constant(d: usize, gamma: f64, m: usize) -> f64 {
    let nw = d + m + 1;
    (nw * d) as f64 * (gamma.ln() - 0.5 * 2.0_f64.ln()) - log_gamma_distrib(0.5 * nw as f64, d)
}

/// The GMM objective of ADBench (`gmm_objective` of its C++ tools), with `K = alphas.len()`,
/// `d = means.len() / K` and `n = x.len() / d`:
///
/// ```text
/// β_ic = α_c + Σ_j q_cj − ½ ‖Q_c (x_i − μ_c)‖²
/// f    = −n d ½ ln(2π) + Σ_i lse_c(β_ic) − n lse(α)
///        + Σ_c [½ γ² (‖exp(q_c)‖² + ‖l_c‖²) − m Σ_j q_cj] − K C
/// ```
///
/// Written as the C++ reference: points outer, components inner, `Q (x − μ)` column by
/// column, `lse` shifted by the maximum.
#[differentiable]
pub fn gmm_objective(
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    #[no_grad] x: &[f64],
    #[no_grad] wishart_gamma: f64,
    wishart_m: usize,
) -> f64 {
    let k = alphas.len();
    let d = means.len() / k;
    let n = x.len() / d;
    let icf_sz = d * (d + 1) / 2;

    // log-determinants and diagonals of the Q_c
    let mut sum_qs = vec![0.0; k];
    let mut qdiags = vec![0.0; k * d];
    for c in 0..k {
        for j in 0..d {
            sum_qs[c] += icf[c * icf_sz + j];
            qdiags[c * d + j] = icf[c * icf_sz + j].exp();
        }
    }

    let mut xcentered = vec![0.0; d];
    let mut qxcentered = vec![0.0; d];
    let mut main_term = vec![0.0; k];
    let mut slse = 0.0;
    for i in 0..n {
        for c in 0..k {
            for j in 0..d {
                xcentered[j] = x[i * d + j] - means[c * d + j];
            }
            // Q_c · xcentered: the diagonal, then the strictly lower part column by column
            for j in 0..d {
                qxcentered[j] = qdiags[c * d + j] * xcentered[j];
            }
            let mut l = c * icf_sz + d;
            for a in 0..d {
                for b in a + 1..d {
                    qxcentered[b] += icf[l] * xcentered[a];
                    l += 1;
                }
            }
            let mut sqnorm = 0.0;
            for j in 0..d {
                sqnorm += qxcentered[j] * qxcentered[j];
            }
            main_term[c] = alphas[c] + sum_qs[c] - 0.5 * sqnorm;
        }
        // logsumexp over the components
        let mut mx = main_term[0];
        for c in 1..k {
            mx = mx.max(main_term[c]);
        }
        let mut semx = 0.0;
        for c in 0..k {
            semx += (main_term[c] - mx).exp();
        }
        slse += semx.ln() + mx;
    }

    // logsumexp of the alphas
    let mut mx_alpha = alphas[0];
    for c in 1..k {
        mx_alpha = mx_alpha.max(alphas[c]);
    }
    let mut se_alpha = 0.0;
    for c in 0..k {
        se_alpha += (alphas[c] - mx_alpha).exp();
    }
    let lse_alphas = se_alpha.ln() + mx_alpha;

    // Wishart prior
    let mut prior = 0.0;
    for c in 0..k {
        let mut frobenius = 0.0;
        for j in 0..d {
            frobenius += qdiags[c * d + j] * qdiags[c * d + j];
        }
        for j in d..icf_sz {
            frobenius += icf[c * icf_sz + j] * icf[c * icf_sz + j];
        }
        prior += 0.5 * wishart_gamma * wishart_gamma * frobenius - wishart_m as f64 * sum_qs[c];
    }

    let constant = -((n * d) as f64) * 0.5 * (2.0 * ADBENCH_PI).ln();
    let wishart_c = wishart_constant(d, wishart_gamma, wishart_m);
    constant + slse - n as f64 * lse_alphas + prior - k as f64 * wishart_c
}

/// [`gmm_objective`] on an instance.
pub fn objective(g: &GmmInput) -> f64 {
    gmm_objective(&g.alphas, &g.means, &g.icf, &g.x, g.gamma, g.m)
}

/// The generated value and gradient on an instance, the gradient in ADBench's order
/// `[alphas | means | icf]`.
pub fn generated(g: &GmmInput) -> (f64, Vec<f64>) {
    let (f, (da, dm, di)) = gmm_objective_grad(&g.alphas, &g.means, &g.icf, &g.x, g.gamma, g.m);
    let mut grad = da;
    grad.extend_from_slice(&dm);
    grad.extend_from_slice(&di);
    (f, grad)
}

/// Hand-written adjoint of [`gmm_objective`]: value and gradient `[alphas | means | icf]`.
///
/// One pass over the points. For each point, the forward part computes, per component,
/// `xc = x_i − μ_c`, `z = Q_c xc` and `β_c`, and keeps `xc` and `z` (`2·K·d` numbers reused
/// for every point); with the weights `w_c = softmax(β)_c = ∂ lse / ∂β_c` it then adds
///
/// ```text
/// d α_c   += w_c
/// d μ_c   += w_c Q_cᵀ z
/// d q_cj  += w_c (1 − z_j xc_j exp(q_cj))
/// d l_c,ba += −w_c z_b xc_a          (b > a)
/// ```
///
/// and at the end `d α −= n softmax(α)`, `d q_cj += γ² exp(2 q_cj) − m`, `d l += γ² l`.
pub fn gmm_adjoint(g: &GmmInput) -> (f64, Vec<f64>) {
    let (d, k, n) = (g.d, g.k, g.n);
    let icf_sz = d * (d + 1) / 2;
    let (alphas, means, icf, x) = (&g.alphas[..], &g.means[..], &g.icf[..], &g.x[..]);

    let mut sum_qs = vec![0.0; k];
    let mut qdiags = vec![0.0; k * d];
    for c in 0..k {
        let q = &icf[c * icf_sz..][..d];
        sum_qs[c] = q.iter().sum();
        for (qd, &qj) in qdiags[c * d..][..d].iter_mut().zip(q) {
            *qd = qj.exp();
        }
    }

    let mut d_alphas = vec![0.0; k];
    let mut d_means = vec![0.0; k * d];
    let mut d_icf = vec![0.0; k * icf_sz];
    let mut xc_all = vec![0.0; k * d];
    let mut z_all = vec![0.0; k * d];
    let mut beta = vec![0.0; k];
    let mut slse = 0.0;
    for xi in x.chunks_exact(d) {
        // forward, per component
        for c in 0..k {
            let xc = &mut xc_all[c * d..][..d];
            let z = &mut z_all[c * d..][..d];
            let (mu, qd) = (&means[c * d..][..d], &qdiags[c * d..][..d]);
            for j in 0..d {
                xc[j] = xi[j] - mu[j];
                z[j] = qd[j] * xc[j];
            }
            let lt = &icf[c * icf_sz + d..(c + 1) * icf_sz];
            let mut at = 0;
            for a in 0..d {
                for b in a + 1..d {
                    z[b] += lt[at] * xc[a];
                    at += 1;
                }
            }
            let sqnorm: f64 = z.iter().map(|v| v * v).sum();
            beta[c] = alphas[c] + sum_qs[c] - 0.5 * sqnorm;
        }
        let mx = beta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let semx: f64 = beta.iter().map(|b| (b - mx).exp()).sum();
        let lse = semx.ln() + mx;
        slse += lse;

        // reverse, per component, with ∂ lse / ∂β_c = exp(β_c − lse)
        for c in 0..k {
            let w = (beta[c] - lse).exp();
            d_alphas[c] += w;
            let xc = &xc_all[c * d..][..d];
            let z = &z_all[c * d..][..d];
            let qd = &qdiags[c * d..][..d];
            let d_mu = &mut d_means[c * d..][..d];
            let (d_q, d_lt) = d_icf[c * icf_sz..][..icf_sz].split_at_mut(d);
            let lt = &icf[c * icf_sz + d..(c + 1) * icf_sz];
            // β = ... − ½‖z‖²: d z = −w z; z = Q xc, xc = x − μ
            for j in 0..d {
                d_q[j] += w * (1.0 - z[j] * xc[j] * qd[j]);
                d_mu[j] += w * qd[j] * z[j];
            }
            let mut at = 0;
            for a in 0..d {
                let (xa, mut d_mu_a) = (xc[a], 0.0);
                for b in a + 1..d {
                    let wz = w * z[b];
                    d_lt[at] -= wz * xa;
                    d_mu_a += wz * lt[at];
                    at += 1;
                }
                d_mu[a] += d_mu_a;
            }
        }
    }

    // − n lse(α)
    let mx = alphas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let se: f64 = alphas.iter().map(|a| (a - mx).exp()).sum();
    let lse_alphas = se.ln() + mx;
    for (da, a) in d_alphas.iter_mut().zip(alphas) {
        *da -= n as f64 * (a - lse_alphas).exp();
    }

    // Wishart prior
    let (gamma, m) = (g.gamma, g.m as f64);
    let mut prior = 0.0;
    for c in 0..k {
        let qd = &qdiags[c * d..][..d];
        let lt = &icf[c * icf_sz + d..(c + 1) * icf_sz];
        let frobenius: f64 =
            qd.iter().map(|v| v * v).sum::<f64>() + lt.iter().map(|v| v * v).sum::<f64>();
        prior += 0.5 * gamma * gamma * frobenius - m * sum_qs[c];
        let (d_q, d_lt) = d_icf[c * icf_sz..][..icf_sz].split_at_mut(d);
        for j in 0..d {
            d_q[j] += gamma * gamma * qd[j] * qd[j] - m;
        }
        for (dl, l) in d_lt.iter_mut().zip(lt) {
            *dl += gamma * gamma * l;
        }
    }

    let constant = -((n * d) as f64) * 0.5 * (2.0 * ADBENCH_PI).ln();
    let f = constant + slse - n as f64 * lse_alphas + prior
        - k as f64 * wishart_constant(d, gamma, g.m);
    let mut grad = d_alphas;
    grad.extend_from_slice(&d_means);
    grad.extend_from_slice(&d_icf);
    (f, grad)
}
