//! Energy behaviour over long runs: dopri5 at its default tolerances on the chaotic
//! double pendulum, the variational integrator's bounded energy error on the pendulum
//! (and implicit midpoint on an H pendulum), and the forced variational integrator on
//! a damped oscillator against its analytic solution.

use crate::common;

use lagc::backend::Kind;
use lagc::integrate::{self, Method, Settings, System};
use lagc::symbolic::eom::Eom;
use std::sync::atomic::AtomicBool;

fn system(src: &str, implicit: bool) -> System {
    let m = common::checked_model(src, &[]);
    let mut eom = Eom::derive(&m.systems[0]);
    System::new(&mut eom, Kind::Interp, None, &[], implicit).expect("compiles")
}

/// (t, state, energy) at every row.
fn rows(src: &str, y0: &[f64], t_end: f64, dt: f64, method: Method) -> Vec<(f64, Vec<f64>, f64)> {
    let mut sys = system(src, method == Method::Variational);
    let s = Settings {
        t_end,
        dt,
        dt_out: None,
        method,
        rtol: 1e-9,
        atol: 1e-9,
        project_init: false,
    };
    let mut out = vec![];
    integrate::simulate(&mut sys, y0, &s, &AtomicBool::new(false), &mut |r| {
        out.push((r.t, r.state.to_vec(), *r.outputs.last().unwrap()));
        Ok(())
    })
    .expect("runs to the end");
    out
}

/// Largest |E - E0| / |E0| over rows `from..to`.
fn max_rel(rows: &[(f64, Vec<f64>, f64)], from: usize, to: usize) -> f64 {
    let e0 = rows[0].2;
    rows[from..to]
        .iter()
        .map(|r| ((r.2 - e0) / e0).abs())
        .fold(0.0, f64::max)
}

const DOUBLE: &str = "system dp { coord t1, t2; param g = 9.8;
    L = t1'^2 + t2'^2/2 + t1'*t2'*cos(t1 - t2) + 2*g*cos(t1) + g*cos(t2); }";
const PENDULUM: &str = "system p { coord th; param g = 9.81; L = th'^2/2 + g*cos(th); }";

/// Rows between dopri5's steps come from its dense output, whose error (order 4) is
/// larger than the steps' own (order 5): at the default tolerances the energy holds to
/// about 1e-7 at the step ends and 3e-7 at rows every 0.01 s over 100 s (measured
/// 1.05e-7 and 3.2e-7).
#[test]
fn dopri5_keeps_double_pendulum_energy_within_1e_6_over_100_s() {
    let y0 = [
        3.0 * std::f64::consts::PI / 7.0,
        3.0 * std::f64::consts::PI / 4.0,
        0.0,
        0.0,
    ];
    let r = rows(DOUBLE, &y0, 100.0, 0.01, Method::Dopri5);
    assert_eq!(r.len(), 10_001);
    // The motion is chaotic and lively (both angles swing widely).
    assert!(r.iter().any(|x| x.1[1].abs() > 2.0));
    let err = max_rel(&r, 0, r.len());
    eprintln!("dopri5 double pendulum: max relative energy error at rows {err:e}");
    assert!(err < 1e-6, "max relative energy error {err:e}");
    // Over every step end (the rows' times do not change the steps).
    let mut sys = system(DOUBLE, false);
    let s = Settings {
        t_end: 100.0,
        dt: 0.01,
        dt_out: Some(100.0),
        method: Method::Dopri5,
        rtol: 1e-9,
        atol: 1e-9,
        project_init: false,
    };
    let stats = integrate::simulate(&mut sys, &y0, &s, &AtomicBool::new(false), &mut |_| Ok(()))
        .expect("runs to the end");
    let (lo, hi) = stats.energy.unwrap();
    let e0 = r[0].2;
    let steps = ((lo - e0) / e0).abs().max(((hi - e0) / e0).abs());
    eprintln!("dopri5 double pendulum: max relative energy error over steps {steps:e}");
    assert!(steps < 2e-7, "over steps {steps:e}");
}

/// The pendulum's energy error under the variational integrator: no growth from the
/// first half to the second, and O(dt^2) small.
fn variational_bounded(steps: usize) {
    let dt = 0.01;
    let r = rows(
        PENDULUM,
        &[1.0, 0.0],
        steps as f64 * dt,
        dt,
        Method::Variational,
    );
    assert_eq!(r.len(), steps + 1);
    let half = r.len() / 2;
    let (first, second) = (max_rel(&r, 0, half), max_rel(&r, half, r.len()));
    assert!(
        second <= 1.05 * first,
        "first half {first:e}, second half {second:e}"
    );
    assert!(first < 1e-3, "{first:e}");
    // rk4 at the same step, for contrast, drifts: its error keeps growing.
    let rk = rows(PENDULUM, &[1.0, 0.0], steps as f64 * dt, dt, Method::Rk4);
    let (a, b) = (max_rel(&rk, 0, half), max_rel(&rk, half, rk.len()));
    assert!(b > 1.5 * a, "rk4 first half {a:e}, second half {b:e}");
}

#[test]
fn variational_energy_error_stays_bounded_over_1e5_steps() {
    variational_bounded(100_000);
}

#[test]
#[ignore = "long: 1e6 steps"]
fn variational_energy_error_stays_bounded_over_1e6_steps() {
    variational_bounded(1_000_000);
}

#[test]
fn implicit_midpoint_keeps_h_pendulum_energy_bounded() {
    let src = "system hp { coord q; momentum p; param g = 9.81; H = p^2/2 - g*cos(q); }";
    let r = rows(src, &[1.0, 0.0], 200.0, 0.01, Method::Variational);
    let half = r.len() / 2;
    let (first, second) = (max_rel(&r, 0, half), max_rel(&r, half, r.len()));
    assert!(
        second <= 1.05 * first && first < 1e-3,
        "{first:e} {second:e}"
    );
    // Same motion as the L pendulum: the L system's variational run gives the same
    // angles to O(dt^2).
    let l = rows(PENDULUM, &[1.0, 0.0], 2.0, 0.01, Method::Variational);
    for (a, b) in l.iter().zip(&r) {
        assert!((a.1[0] - b.1[0]).abs() < 1e-3, "t={}", a.0);
        assert!((a.1[1] - b.1[1]).abs() < 1e-3, "t={}", a.0);
    }
}

#[test]
fn forced_variational_matches_the_damped_oscillator() {
    // x'' + b x' + k x = 0 from x = 1, x' = 0: x = e^(-b t/2) (cos(w t) + b/(2w) sin(w t)).
    let (b, k) = (0.3, 4.0);
    let src = format!("system d {{ coord x; param b = {b}, k = {k}; L = x'^2/2 - k*x^2/2; dissipation = b*x'^2/2; }}");
    let w = (k - b * b / 4.0f64).sqrt();
    let exact = |t: f64| (-b * t / 2.0).exp() * ((w * t).cos() + b / (2.0 * w) * (w * t).sin());
    for (method, dt, tol) in [
        (Method::Variational, 0.001, 1e-5),
        (Method::Rk4, 0.01, 1e-8),
        (Method::Dopri5, 0.01, 1e-8),
    ] {
        let r = rows(&src, &[1.0, 0.0], 10.0, dt, method);
        for (t, y, _) in &r {
            assert!(
                (y[0] - exact(*t)).abs() < tol,
                "{method:?} t={t}: {} vs {}",
                y[0],
                exact(*t)
            );
        }
    }
}
