//! Integrators against analytic solutions: a small-angle pendulum, a circular and an
//! elliptic Kepler orbit (back at the start after one period), a falling ball (exact
//! for every method), and the convergence orders of rk4, dopri5 and variational.

use crate::common;

use lagc::backend::Kind;
use lagc::integrate::{self, Method, Settings, System};
use lagc::symbolic::eom::Eom;
use std::f64::consts::PI;
use std::sync::atomic::AtomicBool;

/// Compiles the first system of `src`.
fn system(src: &str, implicit: bool) -> System {
    let m = common::checked_model(src, &[]);
    let mut eom = Eom::derive(&m.systems[0]);
    System::new(&mut eom, Kind::Interp, None, &[], implicit).expect("compiles")
}

/// Rows as (t, state, kernel outputs).
type Rows = Vec<(f64, Vec<f64>, Vec<f64>)>;

/// All rows of one trajectory, and the step count.
fn run(src: &str, y0: &[f64], t_end: f64, dt: f64, method: Method, tol: f64) -> (Rows, usize) {
    let mut sys = system(src, method == Method::Variational);
    let settings = Settings {
        t_end,
        dt,
        dt_out: None,
        method,
        rtol: tol,
        atol: tol,
        project_init: false,
    };
    let mut rows = vec![];
    let stats = integrate::simulate(&mut sys, y0, &settings, &AtomicBool::new(false), &mut |r| {
        rows.push((r.t, r.state.to_vec(), r.outputs.to_vec()));
        Ok(())
    })
    .expect("runs to the end");
    (rows, stats.steps)
}

const PENDULUM: &str =
    "system p { coord th; param g = 9.81, l = 1; L = 0.5*l^2*th'^2 + g*l*cos(th); }";
const KEPLER: &str = "system kepler { coord x, y; param mu = 0.5, k = 1; L = mu/2*(x'^2 + y'^2) + k/sqrt(x^2 + y^2); }";
const BALL: &str =
    "system ball { coord q1, q2; param m = 2, g = 9.81; L = m/2*(q1'^2 + q2'^2) - m*g*q1; }";

#[test]
fn rows_at_multiples_of_dt() {
    assert_eq!(integrate::n_steps(10.0, 0.01), 1000);
    assert_eq!(integrate::n_steps(1.0, 0.3), 3);
    assert_eq!(integrate::n_steps(0.3, 0.1), 3);
    for method in [Method::Rk4, Method::Dopri5, Method::Variational] {
        let (rows, _) = run(PENDULUM, &[0.5, 0.0], 1.0, 0.3, method, 1e-9);
        let ts: Vec<f64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(ts, vec![0.0, 0.3, 0.6, 0.9], "{method:?}");
    }
}

/// Row times are the doubles nearest to k times dt as written (0.35, not 7*0.05 =
/// 0.35000000000000003), falling back to k*dt when dt has no short decimal.
#[test]
fn row_times_are_the_nearest_doubles_to_k_dt() {
    use integrate::Clock;
    assert_eq!(Clock::new(0.05).at(7), 0.35);
    assert_eq!(Clock::new(0.1).at(3), 0.3);
    assert_eq!(Clock::new(0.25).at(3), 0.75);
    assert_eq!(Clock::new(2.0).at(3), 6.0);
    for k in 0..100_000 {
        assert_eq!(Clock::new(0.01).at(k), k as f64 / 100.0);
        assert_eq!(
            Clock::new(1e-3).at(k).to_string(),
            (k as f64 / 1000.0).to_string()
        );
    }
    let third = 1.0 / 3.0;
    assert_eq!(Clock::new(third).at(1), third);
    assert_eq!(Clock::new(third).at(30), 30.0 * third);
}

#[test]
fn small_angle_pendulum_matches_the_harmonic_solution() {
    // theta = a cos(w t) up to O(a^2) relative (the frequency shift is a^2/16).
    let (a, w) = (1e-3, 9.81f64.sqrt());
    for (method, dt, tol) in [(Method::Rk4, 0.01, 1e-5), (Method::Dopri5, 0.01, 1e-5)] {
        let (rows, _) = run(PENDULUM, &[a, 0.0], 10.0, dt, method, 1e-12);
        for (t, y, out) in &rows {
            let exact = a * (w * t).cos();
            assert!(
                (y[0] - exact).abs() < tol * a,
                "{method:?} t={t}: {} vs {exact}",
                y[0]
            );
            let v = -a * w * (w * t).sin();
            assert!((y[1] - v).abs() < tol * a * w, "{method:?} t={t}");
            // The acceleration column is -g sin(theta).
            assert!((out[0] + 9.81 * y[0].sin()).abs() < 1e-12);
        }
    }
    // The midpoint variational integrator of a linear oscillator rotates with the
    // discrete frequency 2 atan(w h / 2) / h exactly (the Cayley transform).
    let h = 0.01;
    let wd = 2.0 * (w * h / 2.0).atan() / h;
    let (rows, _) = run(PENDULUM, &[a, 0.0], 10.0, h, Method::Variational, 1e-9);
    for (t, y, _) in &rows {
        let exact = a * (wd * t).cos();
        assert!(
            (y[0] - exact).abs() < 1e-5 * a,
            "variational t={t}: {} vs {exact}",
            y[0]
        );
    }
}

#[test]
fn circular_orbit_returns_after_one_period() {
    // mu v^2 / r = k / r^2 at r = 1: v = sqrt(2), T = 2 pi / sqrt(2).
    let v = 2f64.sqrt();
    let period = 2.0 * PI / v;
    let y0 = [1.0, 0.0, 0.0, v];
    for (method, tol) in [
        (Method::Rk4, 1e-9),
        (Method::Dopri5, 1e-7),
        (Method::Variational, 1e-3),
    ] {
        let (rows, _) = run(KEPLER, &y0, period, period / 1000.0, method, 1e-11);
        assert_eq!(rows.len(), 1001);
        for (_, y, _) in &rows {
            let r = (y[0] * y[0] + y[1] * y[1]).sqrt();
            assert!((r - 1.0).abs() < tol, "{method:?}: r = {r}");
        }
        let end = &rows.last().unwrap().1;
        for i in 0..4 {
            assert!((end[i] - y0[i]).abs() < 10.0 * tol, "{method:?}: {end:?}");
        }
    }
}

#[test]
fn falling_ball_is_exact() {
    // q1 = 5t - g t^2/2, q2 = t: every method here is exact for quadratics.
    let g = 9.81;
    for method in [Method::Rk4, Method::Dopri5, Method::Variational] {
        let (rows, _) = run(BALL, &[0.0, 0.0, 5.0, 1.0], 1.0, 0.01, method, 1e-9);
        assert_eq!(rows.len(), 101);
        for (t, y, out) in &rows {
            let scale = 1e-11;
            assert!(
                (y[0] - (5.0 * t - g * t * t / 2.0)).abs() < scale,
                "{method:?} t={t}"
            );
            assert!((y[1] - t).abs() < scale);
            assert!((y[2] - (5.0 - g * t)).abs() < 1e-10, "{method:?} t={t}");
            assert!((y[3] - 1.0).abs() < 1e-12);
            assert!((out[0] + g).abs() < 1e-12 && out[1].abs() < 1e-12);
        }
    }
}

/// The period of a pendulum (g/l = 9.81) released from rest at `a`:
/// T = 4 K(sin(a/2)) / sqrt(g/l), with K(k) = pi / (2 AGM(1, sqrt(1 - k^2))).
fn pendulum_period(a: f64) -> f64 {
    let k = (a / 2.0).sin();
    let (mut x, mut y) = (1.0f64, (1.0 - k * k).sqrt());
    for _ in 0..40 {
        (x, y) = ((x + y) / 2.0, (x * y).sqrt());
    }
    4.0 * (PI / (2.0 * x)) / 9.81f64.sqrt()
}

/// Distance from the start after one exact period of the pendulum released at 2 rad,
/// with `n` output intervals; and the steps taken.
fn period_error(method: Method, n: usize, tol: f64) -> (f64, usize) {
    let period = pendulum_period(2.0);
    let (rows, steps) = run(
        PENDULUM,
        &[2.0, 0.0],
        period,
        period / n as f64,
        method,
        tol,
    );
    let end = &rows.last().unwrap().1;
    (
        (end[0] - 2.0).abs().max(end[1].abs() / 9.81f64.sqrt()),
        steps,
    )
}

#[test]
fn rk4_converges_at_order_four() {
    let errs: Vec<f64> = [200, 400, 800]
        .iter()
        .map(|&n| period_error(Method::Rk4, n, 0.0).0)
        .collect();
    for w in errs.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!(
            (3.7..4.2).contains(&order),
            "rk4 order {order} from {errs:?}"
        );
    }
}

#[test]
fn variational_converges_at_order_two() {
    let errs: Vec<f64> = [100, 200, 400]
        .iter()
        .map(|&n| period_error(Method::Variational, n, 0.0).0)
        .collect();
    for w in errs.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!(
            (1.9..2.1).contains(&order),
            "variational order {order} from {errs:?}"
        );
    }
}

/// Distance from the start after one exact period of the pendulum released at 2 rad,
/// integrated by dopri5 in n intervals of T/n, each step clipped to end on one
/// (`Dopri5::advance`): with tolerances that accept every step, fixed steps of T/n.
fn dopri5_fixed_period_error(n: usize) -> f64 {
    let period = pendulum_period(2.0);
    let mut sys = system(PENDULUM, false);
    let mut stepper = integrate::dopri5::Dopri5::new(2, 1e6, 1e6);
    let (mut t, mut y) = (0.0, vec![2.0, 0.0]);
    for k in 1..=n {
        let target = period * k as f64 / n as f64;
        stepper
            .advance(&mut sys, &mut t, &mut y, target, &|_| Ok(()))
            .unwrap();
        assert_eq!(t, target);
    }
    (y[0] - 2.0).abs().max(y[1].abs() / 9.81f64.sqrt())
}

#[test]
fn dopri5_converges_at_order_five() {
    // With tolerances that accept every step, each step is clipped to the interval:
    // fixed steps of T/n, whose error falls as n^-5.
    let errs: Vec<f64> = [50, 100, 200]
        .iter()
        .map(|&n| dopri5_fixed_period_error(n))
        .collect();
    for w in errs.windows(2) {
        let order = (w[0] / w[1]).log2();
        assert!(
            (4.7..5.5).contains(&order),
            "dopri5 order {order} from {errs:?}"
        );
    }
    // Adaptive: tighter tolerances give smaller errors with more steps, and the
    // tolerance is honoured within a modest factor.
    let runs: Vec<(f64, usize)> = [1e-6, 1e-8, 1e-10]
        .iter()
        .map(|&tol| period_error(Method::Dopri5, 1, tol))
        .collect();
    for w in runs.windows(2) {
        assert!(w[1].0 < w[0].0 && w[1].1 > w[0].1, "{runs:?}");
    }
    assert!(runs[2].0 < 1e-8, "{runs:?}");
}
