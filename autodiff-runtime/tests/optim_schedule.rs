//! Learning-rate schedules and the scheduler that applies them to any optimizer.

use autodiff_runtime::optim::{
    Adam, ConstantLr, CosineAnnealingLr, ExponentialLr, LinearWarmup, LrSchedule, Optimizer,
    RmsProp, Scheduler, Sgd, StepLr,
};
use std::f64::consts::PI;

fn values<S: LrSchedule>(s: &S, base: f64, n: usize) -> Vec<f64> {
    (0..n).map(|t| s.lr(base, t)).collect()
}

#[track_caller]
fn assert_all_close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
    }
}

#[test]
fn step_lr() {
    // lr(t) = base · γ^⌊t / step_size⌋
    let s = StepLr::new(3).gamma(0.5);
    assert_all_close(&values(&s, 0.8, 7), &[0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2]);
    assert_all_close(&values(&StepLr::new(1), 1.0, 3), &[1.0, 0.1, 0.01]);
}

#[test]
fn exponential_lr() {
    // lr(t) = base · γᵗ
    assert_all_close(
        &values(&ExponentialLr::new(0.9), 2.0, 4),
        &[2.0, 1.8, 1.62, 1.458],
    );
}

#[test]
fn cosine_annealing_lr() {
    // lr(t) = η_min + (base − η_min)(1 + cos(π t / T)) / 2
    let s = CosineAnnealingLr::new(4).eta_min(0.1);
    let want: Vec<f64> = (0..9)
        .map(|t| 0.1 + 0.9 * (1.0 + (PI * t as f64 / 4.0).cos()) / 2.0)
        .collect();
    assert_all_close(&values(&s, 1.0, 9), &want);
    assert!((s.lr(1.0, 2) - 0.55).abs() < 1e-12);
    assert!((s.lr(1.0, 4) - 0.1).abs() < 1e-12);
    // Past T the cosine goes on, as PyTorch's closed form.
    assert!((s.lr(1.0, 8) - 1.0).abs() < 1e-12);
}

#[test]
fn linear_warmup_then_inner_schedule() {
    // t < W: inner(0) · (f + (1 − f) t / W); then inner(t − W).
    let s = LinearWarmup::new(StepLr::new(2).gamma(0.5), 4);
    assert_all_close(
        &values(&s, 1.0, 9),
        &[0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.5, 0.25],
    );
    let s = LinearWarmup::new(ConstantLr, 2).start_factor(0.2);
    assert_all_close(&values(&s, 0.5, 4), &[0.1, 0.3, 0.5, 0.5]);
    // No warm-up: the inner schedule alone.
    let s = LinearWarmup::new(ExponentialLr::new(0.5), 0);
    assert_all_close(&values(&s, 1.0, 3), &[1.0, 0.5, 0.25]);
}

#[test]
fn closures_are_schedules() {
    let s = |base: f64, t: usize| base / (1.0 + t as f64);
    assert_all_close(&values(&s, 1.0, 3), &[1.0, 0.5, 1.0 / 3.0]);
}

#[test]
fn scheduler_drives_any_optimizer() {
    fn drive<O: Optimizer>(mut opt: O) -> Vec<f64> {
        let mut sched = Scheduler::new(StepLr::new(2).gamma(0.5), &mut opt);
        let mut lrs = vec![opt.learning_rate()];
        let mut x = 1.0_f64;
        for _ in 0..4 {
            opt.step(&mut x, &1.0);
            lrs.push(sched.step(&mut opt));
            assert_eq!(opt.learning_rate(), *lrs.last().unwrap());
        }
        assert_eq!(sched.current_step(), 4);
        lrs
    }
    let want = [0.1, 0.1, 0.05, 0.05, 0.025];
    assert_all_close(&drive(Sgd::new(0.1)), &want);
    assert_all_close(&drive(Adam::new(0.1)), &want);
    assert_all_close(&drive(RmsProp::new(0.1).momentum(0.9)), &want);
}

#[test]
fn scheduler_sets_step_zero_at_construction() {
    let mut opt = Sgd::new(1.0);
    let sched = Scheduler::new(
        LinearWarmup::new(ConstantLr, 10).start_factor(0.1),
        &mut opt,
    );
    assert_eq!(sched.base_lr(), 1.0);
    assert!((opt.learning_rate() - 0.1).abs() < 1e-15);
    assert!((sched.learning_rate() - 0.1).abs() < 1e-15);
}

#[test]
fn scheduled_sgd_matches_a_hand_computation() {
    // θ ← θ − lr_t g with g = 1 and lr = 1, 0.5, 0.25 (exponential, γ = 0.5).
    let mut opt = Sgd::new(1.0);
    let mut sched = Scheduler::new(ExponentialLr::new(0.5), &mut opt);
    let mut x = 0.0_f64;
    for _ in 0..3 {
        opt.step(&mut x, &1.0);
        sched.step(&mut opt);
    }
    assert_eq!(x, -1.75);
}

#[test]
#[should_panic(expected = "StepLr: invalid step size 0: must be > 0")]
fn zero_step_size_panics() {
    let _ = StepLr::new(0);
}

#[test]
#[should_panic(expected = "StepLr: invalid gamma -0.5")]
fn negative_gamma_panics() {
    let _ = StepLr::new(2).gamma(-0.5);
}

#[test]
#[should_panic(expected = "ExponentialLr: invalid gamma NaN")]
fn nan_gamma_panics() {
    let _ = ExponentialLr::new(f64::NAN);
}

#[test]
#[should_panic(expected = "CosineAnnealingLr: invalid t_max 0: must be > 0")]
fn zero_t_max_panics() {
    let _ = CosineAnnealingLr::new(0);
}

#[test]
#[should_panic(expected = "LinearWarmup: invalid start factor 1.5: must be in [0, 1]")]
fn start_factor_above_one_panics() {
    let _ = LinearWarmup::new(ConstantLr, 3).start_factor(1.5);
}

#[test]
#[should_panic(expected = "Sgd: invalid learning rate -0.5")]
fn schedule_giving_a_negative_rate_panics() {
    let mut opt = Sgd::new(0.5);
    let _ = Scheduler::new(|base: f64, _| -base, &mut opt);
}
