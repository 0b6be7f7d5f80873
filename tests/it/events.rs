//! Events: a bouncing ball against its closed form, an elastic wall for a pendulum,
//! rows at events, and the refusals.

use crate::common::{driver_error, driver_system};
use lagc::driver::{SimOptions, Trajectory};
use lagc::{Backend, Method};
use ndarray::Array2;
use std::sync::atomic::AtomicBool;

fn run(
    s: &lagc::driver::System,
    y0: &[f64],
    method: Method,
    t_end: f64,
) -> Result<Trajectory, String> {
    let init = Array2::from_shape_vec((1, y0.len()), y0.to_vec()).unwrap();
    let opts = SimOptions {
        t_end,
        dt: 0.01,
        dt_out: None,
        method,
        rtol: 1e-12,
        atol: 1e-12,
        project_init: false,
    };
    let mut runs = s
        .simulate(init.view(), &opts, &AtomicBool::new(false))
        .map_err(|e| e.message)?;
    runs.remove(0).map_err(|d| d.message)
}

/// Rows off the output grid: the events.
fn event_rows(tr: &Trajectory, dt: f64) -> Vec<usize> {
    (0..tr.t.len())
        .filter(|&k| {
            let r = tr.t[k] / dt;
            (r - r.round()).abs() > 1e-6
        })
        .collect()
}

/// Bounce times t_1 = sqrt(2h/g), t_(k+1) = t_k + 2 e^k v_1/g with v_1 = sqrt(2 g h),
/// rebound speeds e^k v_1 and heights e^(2k) h: to 1e-10 with rk4 (exact on parabolas)
/// and dopri5, on both backends.
#[test]
fn bouncing_ball_matches_the_closed_form() {
    let src = std::fs::read_to_string("examples/bouncing_ball.lag").unwrap();
    let (g, e, h) = (9.81f64, 0.8f64, 1.0f64);
    let v1 = (2.0 * g * h).sqrt();
    let mut times = vec![(2.0 * h / g).sqrt()];
    for k in 1..8 {
        times.push(times[k - 1] + 2.0 * e.powi(k as i32) * v1 / g);
    }
    for backend in [Backend::Jit, Backend::Interp] {
        for method in [Method::Rk4, Method::Dopri5] {
            let s = driver_system(&src, "ball", backend);
            let tr = run(&s, &[h, 0.0], method, 3.0).unwrap();
            let rows = event_rows(&tr, 0.01);
            let expected: Vec<f64> = times.iter().copied().filter(|&t| t <= 3.0).collect();
            assert_eq!(rows.len(), expected.len(), "{backend:?} {method:?}");
            for (k, (&row, &t)) in rows.iter().zip(&expected).enumerate() {
                assert!(
                    (tr.t[row] - t).abs() < 1e-10,
                    "bounce {k}: {} vs {t}",
                    tr.t[row]
                );
                assert!(tr.y[[row, 0]].abs() < 1e-10);
                let up = e.powi(k as i32 + 1) * v1;
                assert!(
                    (tr.y[[row, 1]] - up).abs() < 1e-9,
                    "speed {k}: {} vs {up}",
                    tr.y[[row, 1]]
                );
            }
            // The top of each flight: max y between bounces is e^(2k) h.
            for k in 0..expected.len() - 1 {
                let top = (rows[k]..rows[k + 1])
                    .map(|i| tr.y[[i, 0]])
                    .fold(0.0, f64::max);
                let want = e.powi(2 * (k as i32 + 1)) * h;
                // Rows every 0.01 s sample the apex within g dt^2 / 8.
                assert!(
                    top <= want + 1e-12 && top > want - g * 1e-4 / 8.0 - 1e-12,
                    "{top} vs {want}"
                );
            }
        }
    }
}

/// A pendulum on an elastic wall at theta = -0.3: each hit reverses theta', the energy
/// stays (to the integrator's accuracy), and the pendulum never passes the wall.
#[test]
fn pendulum_bounces_off_an_elastic_wall() {
    let src = "system p { coord th; param g = 9.81, l = 1;
        L = l^2/2*th'^2 + g*l*cos(th);
        event wall: th <= -0.3 => th' = -th'; }";
    let s = driver_system(src, "p", Backend::Jit);
    let tr = run(&s, &[1.0, 0.0], Method::Dopri5, 10.0).unwrap();
    let rows = event_rows(&tr, 0.01);
    assert!(rows.len() >= 5, "{} hits", rows.len());
    let e0 = tr.out[[0, 1]];
    for k in 0..tr.t.len() {
        assert!(
            tr.y[[k, 0]] >= -0.3 - 1e-10,
            "passed the wall at t = {}",
            tr.t[k]
        );
        assert!((tr.out[[k, 1]] - e0).abs() < 1e-9 * e0.abs());
    }
    for &r in &rows {
        assert!((tr.y[[r, 0]] + 0.3).abs() < 1e-10);
        assert!(tr.y[[r, 1]] > 0.0);
    }
}

#[test]
fn events_that_cannot_work_are_refused() {
    let ball = std::fs::read_to_string("examples/bouncing_ball.lag").unwrap();
    let constant = ball.replace("y <= 0", "g <= 0");
    assert!(driver_error(&constant, "ball")
        .contains("the guard of event `floor` of system `ball` depends on no coordinate"));
    let h = "system h { coord x; momentum p; H = p^2/2; event e: x <= 0 => x = 1; }";
    assert!(driver_error(h, "h").contains("event in an H system"));
    let not_coord = ball.replace("=> y' = -e*y'", "=> g = 1");
    let text = driver_error(&not_coord, "ball");
    assert!(
        text.contains("event resets `g`, which is not a coordinate"),
        "{text}"
    );
    let accel = ball.replace("=> y' = -e*y'", "=> y'' = 0");
    assert!(driver_error(&accel, "ball").contains("cannot set an acceleration"));
    let s = driver_system(&ball, "ball", Backend::Interp);
    let err = run(&s, &[1.0, 0.0], Method::Variational, 1.0).unwrap_err();
    assert!(
        err.contains("variational method does not handle events"),
        "{err}"
    );
}

/// A floor that the resets never leave (no restitution, no lift): a Zeno cascade is an
/// error, not a hang.
#[test]
fn a_state_stuck_on_its_guard_is_an_error() {
    let src =
        "system b { coord y; L = y'^2/2 - 9.81*y; event floor: y <= 0 => y = 1e-300, y' = 0; }";
    let s = driver_system(src, "b", Backend::Jit);
    match run(&s, &[1.0, 0.0], Method::Rk4, 2.0) {
        Err(e) => assert!(e.contains("events between"), "{e}"),
        Ok(tr) => panic!("ran to {}", tr.t[tr.t.len() - 1]),
    }
}
