//! `dt_out`: the output interval apart from the step. rk4 and variational write every
//! k-th step (the same bits as the run at dt); dopri5 steps freely and takes its rows
//! from its dense output (against a harmonic oscillator's exact solution); row counts
//! and times; the refusals, in a block, on the command line and in the driver.

use crate::common::driver_system;
use lagc::driver::{SimOptions, Trajectory};
use lagc::integrate::{self, Clock, Settings};
use lagc::{Backend, Method};
use ndarray::Array2;
use std::process::Command;
use std::sync::atomic::AtomicBool;

/// x'' = -w^2 x with w = 3: x = cos(3t) - ... from (x, x') = (1, 0.6).
const OSCILLATOR: &str = "system osc { coord x; param w = 3; L = x'^2/2 - w^2*x^2/2; }";
const BALL: &str = "system ball { coord y; param g = 9.81, e = 0.8;
    L = y'^2/2 - g*y; event floor: y <= 0 => y' = -e*y'; }";
const CART: &str = "system cart { coord x, y; param g = 9.81, l = 2;
    L = (x'^2 + y'^2)/2 - g*y; constraint rod: x^2 + y^2 - l^2; }";

fn opts(method: Method, t_end: f64, dt: f64, dt_out: Option<f64>, tol: f64) -> SimOptions {
    SimOptions {
        t_end,
        dt,
        dt_out,
        method,
        rtol: tol,
        atol: tol,
        project_init: false,
    }
}

fn run(s: &lagc::driver::System, y0: &[f64], o: &SimOptions) -> Result<Trajectory, String> {
    let init = Array2::from_shape_vec((1, y0.len()), y0.to_vec()).unwrap();
    let mut runs = s
        .simulate(init.view(), o, &AtomicBool::new(false))
        .map_err(|e| e.message)?;
    runs.remove(0).map_err(|d| d.message)
}

fn double_pendulum(backend: Backend) -> lagc::driver::System {
    let src = std::fs::read_to_string("examples/double_pendulum.lag").unwrap();
    driver_system(&src, "double_pendulum", backend)
}

/// rk4 and variational at dt_out = 10 dt write exactly every 10th row of the run at dt:
/// same times, states and outputs, to the bit.
#[test]
fn fixed_steps_write_every_kth_row_bit_for_bit() {
    for backend in [Backend::Jit, Backend::Interp] {
        let s = double_pendulum(backend);
        for method in [Method::Rk4, Method::Variational] {
            let y0 = [1.0, 2.0, 0.3, -0.1];
            let every = run(&s, &y0, &opts(method, 3.0, 0.01, None, 1e-9)).unwrap();
            let tenth = run(&s, &y0, &opts(method, 3.0, 0.01, Some(0.1), 1e-9)).unwrap();
            assert_eq!(every.t.len(), 301);
            assert_eq!(tenth.t.len(), 31, "{method:?}");
            for (j, &t) in tenth.t.iter().enumerate() {
                assert_eq!(t.to_bits(), every.t[10 * j].to_bits());
                assert_eq!(t, j as f64 / 10.0, "t is the decimal k*dt_out");
                for (a, b) in tenth.y.row(j).iter().zip(every.y.row(10 * j)) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{method:?} {backend:?} t = {t}");
                }
                for (a, b) in tenth.out.row(j).iter().zip(every.out.row(10 * j)) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{method:?} {backend:?} t = {t}");
                }
            }
        }
    }
}

/// Row counts and times: rows at k*dt_out (exact decimals) up to t_end; a dt_out that
/// does not divide t_end stops at the last whole interval.
#[test]
fn row_counts_and_times() {
    let s = driver_system(OSCILLATOR, "osc", Backend::Jit);
    let y0 = [1.0, 0.6];
    let cases = [
        (Method::Rk4, 1.0, 0.01, Some(0.03), 34, 0.03),
        (Method::Rk4, 1.0, 0.01, Some(0.1), 11, 0.1),
        (Method::Rk4, 2.0, 0.05, None, 41, 0.05),
        (Method::Variational, 1.0, 0.005, Some(0.25), 5, 0.25),
        (Method::Dopri5, 1.0, 0.01, Some(0.07), 15, 0.07),
        (Method::Dopri5, 1.0, 0.5, Some(0.001), 1001, 0.001),
        (Method::Dopri5, 2.0, 0.05, None, 41, 0.05),
    ];
    for (method, t_end, dt, dt_out, rows, every) in cases {
        let tr = run(&s, &y0, &opts(method, t_end, dt, dt_out, 1e-10)).unwrap();
        assert_eq!(tr.t.len(), rows, "{method:?} dt_out {dt_out:?}");
        let clock = Clock::new(every);
        for (k, &t) in tr.t.iter().enumerate() {
            assert_eq!(t, clock.at(k), "{method:?} row {k}");
        }
        let settings = Settings {
            t_end,
            dt,
            dt_out,
            method,
            rtol: 1e-10,
            atol: 1e-10,
            project_init: false,
        };
        assert_eq!(settings.intervals() + 1, rows);
    }
    assert_eq!(Clock::new(0.07).at(3), 0.21);
}

/// The exact solution from (x, x') = (1, 0.6) with w = 3 and its energy.
fn exact(t: f64) -> (f64, f64) {
    let w = 3.0;
    let (c, s) = ((w * t).cos(), (w * t).sin());
    (c + 0.2 * s, -w * s + 0.6 * c)
}

/// dopri5's rows between its steps come from the dense output: at every output time
/// the state is within a small multiple of rtol of the exact solution (as close as at
/// the step ends), the energy too, and the steps do not depend on dt_out.
#[test]
fn dopri5_dense_output_matches_the_harmonic_oscillator() {
    let s = driver_system(OSCILLATOR, "osc", Backend::Jit);
    let y0 = [1.0, 0.6];
    let e0 = (0.6f64 * 0.6 + 9.0) / 2.0;
    for tol in [1e-6, 1e-8, 1e-10] {
        let mut steps = vec![];
        for dt_out in [0.001, 0.01, 0.37, 10.0] {
            let o = opts(Method::Dopri5, 10.0, 0.01, Some(dt_out), tol);
            let tr = run(&s, &y0, &o).unwrap();
            let (mut err, mut energy) = (0.0f64, 0.0f64);
            for (k, &t) in tr.t.iter().enumerate() {
                let (x, v) = exact(t);
                err = err
                    .max((tr.y[[k, 0]] - x).abs())
                    .max((tr.y[[k, 1]] - v).abs() / 3.0);
                energy = energy.max((tr.out[[k, 1]] - e0).abs() / e0);
            }
            // Global error: the local tolerance times the steps' accumulation.
            assert!(
                err < 100.0 * tol,
                "tol {tol:e} dt_out {dt_out}: error {err:e}"
            );
            assert!(energy < 100.0 * tol, "tol {tol:e}: energy {energy:e}");
            steps.push(steps_of(&o, &y0));
        }
        assert!(steps.windows(2).all(|w| w[0] == w[1]), "{steps:?}");
    }
}

/// Steps (accepted, rejected) of one run through the integrate stage.
fn steps_of(o: &SimOptions, y0: &[f64]) -> (usize, usize) {
    let m = crate::common::checked_model(OSCILLATOR, &[]);
    let mut eom = lagc::symbolic::eom::Eom::derive(&m.systems[0]);
    let mut sys =
        integrate::System::new(&mut eom, lagc::backend::Kind::Jit, None, &[], false).unwrap();
    let settings = Settings {
        t_end: o.t_end,
        dt: o.dt,
        dt_out: o.dt_out,
        method: o.method,
        rtol: o.rtol,
        atol: o.atol,
        project_init: false,
    };
    let stats = integrate::simulate(
        &mut sys,
        y0,
        &settings,
        &AtomicBool::new(false),
        &mut |_| Ok(()),
    )
    .unwrap();
    assert!(stats.energy.is_some());
    (stats.steps, stats.rejected)
}

/// Free stepping: with a small dt (a bound on the first step only) dopri5 takes as
/// many steps as its tolerance needs, not one per dt; clipping to every output time
/// would take at least t_end/dt.
#[test]
fn dopri5_steps_do_not_follow_dt() {
    let y0 = [1.0, 0.6];
    let (steps, _) = steps_of(&opts(Method::Dopri5, 10.0, 0.001, None, 1e-8), &y0);
    assert!(steps < 2000, "{steps} steps for 10,000 rows");
    let (steps_big, _) = steps_of(&opts(Method::Dopri5, 10.0, 0.5, None, 1e-8), &y0);
    assert!(steps.abs_diff(steps_big) <= 5, "{steps} vs {steps_big}");
}

/// Events with free steps and a long dt_out: the bounce rows are still at the bounce
/// times (to 1e-10), between the rows at k*dt_out.
#[test]
fn dopri5_events_with_a_long_output_interval() {
    let s = driver_system(BALL, "ball", Backend::Jit);
    let (g, e) = (9.81f64, 0.8f64);
    let v1 = (2.0 * g).sqrt();
    let mut times = vec![(2.0 / g).sqrt()];
    for k in 1..6 {
        times.push(times[k - 1] + 2.0 * e.powi(k as i32) * v1 / g);
    }
    let times: Vec<f64> = times.into_iter().filter(|&t| t <= 3.0).collect();
    let tr = run(
        &s,
        &[1.0, 0.0],
        &opts(Method::Dopri5, 3.0, 0.01, Some(0.5), 1e-12),
    )
    .unwrap();
    let off: Vec<usize> = (0..tr.t.len())
        .filter(|&k| {
            let r = tr.t[k] / 0.5;
            (r - r.round()).abs() > 1e-9
        })
        .collect();
    assert_eq!(tr.t.len(), 7 + times.len());
    assert_eq!(off.len(), times.len());
    for (&k, &t) in off.iter().zip(&times) {
        assert!((tr.t[k] - t).abs() < 1e-10, "{} vs {t}", tr.t[k]);
        assert!(tr.y[[k, 0]].abs() < 1e-10);
    }
    assert!(
        tr.t.to_vec().windows(2).all(|w| w[0] < w[1]),
        "rows in time order"
    );
}

/// Constrained dopri5 rows between steps stay on the constraint.
#[test]
fn dopri5_dense_rows_stay_on_the_constraints() {
    let s = driver_system(CART, "cart", Backend::Jit);
    let tr = run(
        &s,
        &[1.2, -1.6, 0.8, 0.6],
        &opts(Method::Dopri5, 5.0, 0.01, Some(0.003), 1e-10),
    )
    .unwrap();
    assert_eq!(tr.t.len(), 1667);
    for row in tr.y.outer_iter() {
        let (x, y, vx, vy) = (row[0], row[1], row[2], row[3]);
        assert!((x * x + y * y - 4.0).abs() < 1e-12);
        assert!((x * vx + y * vy).abs() < 1e-12);
    }
}

/// dt_out that is not a multiple of dt (rk4, variational), or not positive: refused by
/// the driver, the command line and the checker (located; pinned by the error corpus,
/// `tests/errors/dt_out_not_multiple.lag`).
#[test]
fn bad_output_intervals_are_refused() {
    let s = driver_system(OSCILLATOR, "osc", Backend::Interp);
    let err = run(
        &s,
        &[1.0, 0.0],
        &opts(Method::Rk4, 1.0, 0.01, Some(0.025), 1e-9),
    )
    .unwrap_err();
    insta::assert_snapshot!(err, @"dt_out = 0.025 is not a multiple of dt = 0.01: rk4 writes rows at the ends of its steps of dt; expected a multiple of dt such as 0.02 or 0.03 (or method = dopri5, whose rows come from its dense output)");
    let err = run(
        &s,
        &[1.0, 0.0],
        &opts(Method::Variational, 1.0, 0.01, Some(0.004), 1e-9),
    )
    .unwrap_err();
    assert!(
        err.contains("variational writes rows") && err.contains("such as 0.01"),
        "{err}"
    );
    let err = run(
        &s,
        &[1.0, 0.0],
        &opts(Method::Rk4, 1.0, 0.01, Some(-1.0), 1e-9),
    )
    .unwrap_err();
    assert!(err.contains("dt_out must be a finite number > 0"), "{err}");
    // Within 1e-9 relative of a multiple is a multiple.
    assert_eq!(integrate::steps_per_row(0.1, 0.3), Ok(3));
    assert_eq!(integrate::steps_per_row(1.0 / 3.0, 1.0), Ok(3));
    assert!(run(
        &s,
        &[1.0, 0.0],
        &opts(Method::Dopri5, 1.0, 0.01, Some(0.025), 1e-9)
    )
    .is_ok());

    let dir = tempfile::tempdir().unwrap();
    let lag = dir.path().join("osc.lag");
    std::fs::write(&lag, OSCILLATOR).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args([
            "simulate",
            lag.to_str().unwrap(),
            "--system",
            "osc",
            "--init",
            "x=1",
        ])
        .args([
            "--t-end", "1", "--dt", "0.01", "--dt-out", "0.025", "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    insta::assert_snapshot!(stderr, @"error: --dt-out 0.025 is not a multiple of --dt 0.01: rk4 writes rows at the ends of its steps of dt; expected a multiple of dt such as 0.02 or 0.03 (or method = dopri5, whose rows come from its dense output)");
}

/// The command line and a block: `--dt-out` and `dt_out =` give the rows of k*dt_out.
#[test]
fn command_line_and_block_write_rows_every_dt_out() {
    let dir = tempfile::tempdir().unwrap();
    let lag = dir.path().join("osc.lag");
    std::fs::write(
        &lag,
        format!(
            "{OSCILLATOR}\nsimulate osc {{ init x = 1; t_end = 2; dt = 0.001; dt_out = 0.25; out = \"block.csv\"; }}\n"
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(["run", "osc.lag", "--quiet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        summary.contains("2000 steps") && summary.contains("9 rows"),
        "{summary}"
    );
    let block = std::fs::read_to_string(dir.path().join("block.csv")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(["simulate", "osc.lag", "--system", "osc", "--init", "x=1"])
        .args([
            "--t-end", "2", "--dt", "0.001", "--dt-out", "0.25", "--quiet",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout, block);
    let times: Vec<&str> = stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        times,
        ["0", "0.25", "0.5", "0.75", "1", "1.25", "1.5", "1.75", "2"]
    );
}
