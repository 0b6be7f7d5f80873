//! Constraints: a Cartesian pendulum against the angle form and the rod tension, a
//! rolling disk against its closed form, projection, and every refusal.

use crate::common::{driver_error, driver_system};
use lagc::driver::{SimOptions, Trajectory};
use lagc::{Backend, Method};
use ndarray::{arr2, Array2};
use std::process::Command;
use std::sync::atomic::AtomicBool;

const CARTESIAN: &str = "system cart {
  coord x, y;
  param m = 1.5, g = 9.81, l = 2;
  L = m/2*(x'^2 + y'^2) - m*g*y;
  constraint rod: x^2 + y^2 - l^2;
}
system angle {
  coord th;
  param m = 1.5, g = 9.81, l = 2;
  L = m/2*l^2*th'^2 + m*g*l*cos(th);
}";

fn run(
    s: &lagc::driver::System,
    y0: &[f64],
    method: Method,
    dt: f64,
    project_init: bool,
) -> Result<Trajectory, String> {
    let init = Array2::from_shape_vec((1, y0.len()), y0.to_vec()).unwrap();
    let opts = SimOptions {
        t_end: 10.0,
        dt,
        dt_out: None,
        method,
        rtol: 1e-12,
        atol: 1e-12,
        project_init,
    };
    let mut runs = s
        .simulate(init.view(), &opts, &AtomicBool::new(false))
        .map_err(|e| e.message)?;
    runs.remove(0).map_err(|d| d.message)
}

fn column(s: &lagc::driver::System, name: &str) -> usize {
    s.output_names().iter().position(|n| n == name).expect(name)
}

/// At theta = asin(0.6), theta' = 0.5 (l = 2): theta'' = -(g/l) sin(theta), and
/// (x'', y'') = l (cos th th'' - sin th th'^2, sin th th'' + cos th th'^2); the tension
/// m (l th'^2 + g cos th) is 2 l lambda (the force on the bob is -2 lambda (x, y)).
#[test]
fn cartesian_accelerations_and_multiplier_match_the_angle_form_by_hand() {
    let (m, g, l) = (1.5, 9.81, 2.0);
    let (s, c, w) = (0.6f64, 0.8f64, 0.5f64);
    let thdd = -g / l * s;
    let want = [
        l * (c * thdd - s * w * w),
        l * (s * thdd + c * w * w),
        m * (l * w * w + g * c) / (2.0 * l),
    ];
    for backend in [Backend::Jit, Backend::Interp] {
        let sys = driver_system(CARTESIAN, "cart", backend);
        assert_eq!(sys.output_names(), ["x''", "y''", "lambda_rod", "energy"]);
        let state = arr2(&[[l * s, -l * c, l * c * w, l * s * w]]);
        let (out, singular) = sys.eval(state.view(), lagc::driver::Times::Zero).unwrap();
        assert_eq!(singular, 0);
        for (k, w) in want.iter().enumerate() {
            assert!(
                (out[[0, k]] - w).abs() < 1e-13 * w.abs().max(1.0),
                "{k}: {} vs {w}",
                out[[0, k]]
            );
        }
    }
}

/// Ten seconds from theta = asin(0.6), theta' = 0.5: the Cartesian run stays on the
/// angle run's circle (positions to 1e-9), on its constraint (1e-10) and gives the
/// tension along the way, on both backends.
#[test]
fn cartesian_pendulum_follows_the_angle_pendulum_for_ten_seconds() {
    let (m, g, l) = (1.5, 9.81, 2.0);
    let th0 = 0.6f64.asin();
    let angle = run(
        &driver_system(CARTESIAN, "angle", Backend::Jit),
        &[th0, 0.5],
        Method::Dopri5,
        0.01,
        false,
    )
    .unwrap();
    for backend in [Backend::Jit, Backend::Interp] {
        let sys = driver_system(CARTESIAN, "cart", backend);
        let cart = run(&sys, &[1.2, -1.6, 0.8, 0.6], Method::Dopri5, 0.01, false).unwrap();
        assert_eq!(cart.t.len(), 1001);
        let lambda = column(&sys, "lambda_rod");
        let (mut pos, mut drift, mut tension) = (0.0f64, 0.0f64, 0.0f64);
        for k in 0..cart.t.len() {
            let (th, w) = (angle.y[[k, 0]], angle.y[[k, 1]]);
            let (x, y) = (cart.y[[k, 0]], cart.y[[k, 1]]);
            pos = pos
                .max((x - l * th.sin()).abs())
                .max((y + l * th.cos()).abs());
            drift = drift.max((x * x + y * y - l * l).abs());
            let t = m * (l * w * w + g * th.cos()) / (2.0 * l);
            tension = tension.max((cart.out[[k, lambda]] - t).abs());
        }
        assert!(pos < 1e-9, "{backend:?}: positions differ by {pos:e}");
        assert!(drift < 1e-10, "{backend:?}: drift {drift:e}");
        assert!(tension < 1e-8, "{backend:?}: multiplier off by {tension:e}");
    }
}

/// rk4 drifts off the circle by O(dt^4) per step; projection after each step keeps it on.
#[test]
fn projection_keeps_rk4_on_the_constraint() {
    let sys = driver_system(CARTESIAN, "cart", Backend::Jit);
    let cart = run(&sys, &[1.2, -1.6, 0.8, 0.6], Method::Rk4, 0.05, false).unwrap();
    for row in cart.y.outer_iter() {
        let (x, y, vx, vy) = (row[0], row[1], row[2], row[3]);
        assert!(
            (x * x + y * y - 4.0).abs() < 1e-12,
            "phi = {:e}",
            x * x + y * y - 4.0
        );
        assert!(
            (x * vx + y * vy).abs() < 1e-12,
            "phi' = {:e}",
            2.0 * (x * vx + y * vy)
        );
    }
}

/// Rolling at theta' = w, phi' = W from the origin heading along x: the constraints keep
/// w and W constant and x = (R w / W) sin(W t), y = (R w / W) (1 - cos(W t)).
#[test]
fn rolling_disk_traces_its_circle() {
    let src = std::fs::read_to_string("examples/rolling_disk.lag").unwrap();
    let (r, w, big_w) = (0.5, 2.0, 0.5);
    for backend in [Backend::Jit, Backend::Interp] {
        let sys = driver_system(&src, "disk", backend);
        let tr = run(
            &sys,
            &[0.0, 0.0, 0.0, 0.0, r * w, 0.0, w, big_w],
            Method::Dopri5,
            0.1,
            false,
        )
        .unwrap();
        let radius = r * w / big_w;
        for (k, &t) in tr.t.iter().enumerate() {
            let x = radius * (big_w * t).sin();
            let y = radius * (1.0 - (big_w * t).cos());
            assert!((tr.y[[k, 0]] - x).abs() < 1e-9, "x at {t}");
            assert!((tr.y[[k, 1]] - y).abs() < 1e-9, "y at {t}");
            assert!((tr.y[[k, 6]] - w).abs() < 1e-10 && (tr.y[[k, 7]] - big_w).abs() < 1e-10);
        }
    }
}

#[test]
fn an_inconsistent_initial_state_is_an_error_unless_projected() {
    let sys = driver_system(CARTESIAN, "cart", Backend::Jit);
    let err = run(&sys, &[1.3, -1.6, 0.8, 0.6], Method::Rk4, 0.01, false).unwrap_err();
    assert!(
        err.contains("violates constraint `rod` by 2.500e-1"),
        "{err}"
    );
    assert!(err.contains("--project-init"), "{err}");
    let err = run(&sys, &[1.2, -1.6, 0.8, 0.0], Method::Rk4, 0.01, false).unwrap_err();
    assert!(
        err.contains("violates constraint `rod`") && err.contains("its rate"),
        "{err}"
    );
    let tr = run(&sys, &[1.3, -1.6, 0.8, 0.6], Method::Rk4, 0.01, true).unwrap();
    let (x, y, vx, vy) = (tr.y[[0, 0]], tr.y[[0, 1]], tr.y[[0, 2]], tr.y[[0, 3]]);
    assert!((x * x + y * y - 4.0).abs() < 1e-14);
    assert!((x * vx + y * vy).abs() < 1e-14);
    // The nearest point of the circle lies along the ray through (1.3, -1.6).
    assert!((y / x + 1.6 / 1.3).abs() < 1e-14);
}

#[test]
fn dependent_constraints_are_named() {
    let src = CARTESIAN.replace(
        "constraint rod: x^2 + y^2 - l^2;",
        "constraint rod: x^2 + y^2 - l^2;\n  constraint again: 2*(x^2 + y^2 - l^2);",
    );
    let sys = driver_system(&src, "cart", Backend::Interp);
    let err = run(&sys, &[1.2, -1.6, 0.8, 0.6], Method::Rk4, 0.01, false).unwrap_err();
    assert!(
        err.contains("the constraints `rod`, `again` are not independent at t = 0"),
        "{err}"
    );
}

#[test]
fn constraints_that_cannot_be_used_are_refused() {
    let constant = CARTESIAN.replace("x^2 + y^2 - l^2", "l - 2");
    assert!(driver_error(&constant, "cart")
        .contains("constraint `rod` of system `cart` depends on none of its coordinates"));
    let nonlinear = CARTESIAN.replace("x^2 + y^2 - l^2", "x'^2 - y");
    assert!(driver_error(&nonlinear, "cart").contains("is not linear in the velocities"));
    let h = "system h { coord x; momentum p; H = p^2/2 + x^2/2; constraint c: x - 1; }";
    let text = driver_error(h, "h");
    assert!(
        text.contains("t.lag:1:") && text.contains("constraint in H"),
        "{text}"
    );
    let dup = CARTESIAN.replace(
        "constraint rod: x^2 + y^2 - l^2;",
        "constraint rod: x^2 + y^2 - l^2;\n  constraint rod: x;",
    );
    assert!(driver_error(&dup, "cart").contains("duplicate constraint `rod`"));
}

#[test]
fn variational_and_linearize_refuse_constraints() {
    let sys = driver_system(CARTESIAN, "cart", Backend::Interp);
    let err = run(
        &sys,
        &[1.2, -1.6, 0.8, 0.6],
        Method::Variational,
        0.01,
        false,
    )
    .unwrap_err();
    assert!(
        err.contains("variational method does not handle constraints"),
        "{err}"
    );
    let err = sys.linearize(&[]).unwrap_err();
    assert!(err.message.contains("has constraints"), "{}", err.message);
}

/// The command line: the multiplier column in `simulate`'s CSV, `--project-init`, and
/// the error (exit 1, no row) without it.
#[test]
fn simulate_writes_the_multiplier_and_refuses_an_inconsistent_start() {
    let dir = std::env::temp_dir().join(format!("lagc-constraints-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cart.lag");
    std::fs::write(&file, CARTESIAN).unwrap();
    let lagc = |extra: &[&str], init: &str| {
        Command::new(env!("CARGO_BIN_EXE_lagc"))
            .args([
                "simulate",
                file.to_str().unwrap(),
                "--system",
                "cart",
                "--t-end",
                "1",
                "--dt",
                "0.5",
            ])
            .args(["--init", init])
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = lagc(&[], "x=1.2,y=-1.6,x'=0.8,y'=0.6");
    assert!(ok.status.success());
    let csv = String::from_utf8(ok.stdout).unwrap();
    assert!(
        csv.starts_with("t,x,y,x',y',x'',y'',lambda_rod,energy\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 4);
    let bad = lagc(&[], "x=1.3,y=-1.6,x'=0.8,y'=0.6");
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8(bad.stderr).unwrap();
    assert!(
        err.starts_with("error: system `cart`: the initial state violates constraint `rod`"),
        "{err}"
    );
    assert!(err.contains("no row was written"), "{err}");
    let fixed = lagc(&["--project-init"], "x=1.3,y=-1.6,x'=0.8,y'=0.6");
    assert!(fixed.status.success());
    std::fs::remove_dir_all(&dir).ok();
}
