//! Measured inputs (`input u;`): signals interpolated linearly, the equations with u in
//! L and in a force, rk4 against a hand-written rk4 on the same interpolation, the
//! located errors of a simulate block's `inputs = "u.csv";`, and a driven damped
//! pendulum identified from (t, theta, u) data (examples/driven_pendulum.lag).

use crate::common::lagc_in;
use crate::common::{driver_error, driver_system};
use lagc::driver::{SimOptions, Times};
use lagc::integrate::Signals;
use lagc::{Backend, Method};
use ndarray::Array2;
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// u in L (a torque potential u*theta) and in a force, with damping: by hand,
/// m l^2 theta'' = -m g l sin(theta) + u + u - c theta'.
const DRIVEN: &str = "system driven {
    coord theta;
    input u;
    param m = 2, l = 1.5, g = 9.81, c = 0.3;
    L = m*l^2*theta'^2/2 + m*g*l*cos(theta) + u*theta;
    dissipation = c*theta'^2/2;
    force theta = u;
}
";

fn hand_accel(theta: f64, w: f64, u: f64) -> f64 {
    let (m, l, g, c) = (2.0, 1.5, 9.81, 0.3);
    (-m * g * l * theta.sin() + 2.0 * u - c * w) / (m * l * l)
}

fn read(path: &Path) -> lagc::report::csv::Table {
    lagc::report::csv::read_table(path).expect("reads")
}

#[test]
fn inputs_are_interpolated_exactly_at_data_rows_and_linearly_between() {
    let table = read(Path::new("tests/data/inputs/drive.csv"));
    let (t, u): (Vec<f64>, Vec<f64>) = table.rows.iter().map(|r| (r[0], r[1])).unzip();
    let s = Signals::new(vec!["u".into()], t.clone(), vec![u.clone()]).unwrap();
    let mut out = [0.0];
    for (k, (&tk, &uk)) in t.iter().zip(&u).enumerate() {
        s.at(tk, &mut out);
        assert_eq!(out[0], uk, "row {k}");
        if k + 1 < t.len() {
            let w = 0.3;
            let tm = tk + w * (t[k + 1] - tk);
            s.at(tm, &mut out);
            let expected = uk + (tm - tk) / (t[k + 1] - tk) * (u[k + 1] - uk);
            assert!(
                (out[0] - expected).abs() <= 1e-15 * (1.0 + uk.abs()),
                "row {k}"
            );
        }
    }
}

#[test]
fn an_input_in_l_and_in_a_force_gives_the_hand_derived_acceleration() {
    let states = [[0.5, 0.2], [0.1, -0.3], [-2.0, 1.5]];
    let us = [1.5, -2.0, 0.25];
    for backend in [Backend::Jit, Backend::Interp] {
        let s = driver_system(DRIVEN, "driven", backend);
        assert_eq!(s.input_names(), ["u"]);
        let y = Array2::from_shape_fn((3, 2), |(i, j)| states[i][j]);
        let u = Array2::from_shape_fn((3, 1), |(i, _)| us[i]);
        let (out, _) = s
            .eval_with_inputs(y.view(), Times::Zero, Some(u.view()))
            .unwrap();
        for i in 0..3 {
            let a = hand_accel(states[i][0], states[i][1], us[i]);
            assert!(
                (out[[i, 0]] - a).abs() < 1e-12 * (1.0 + a.abs()),
                "{backend:?} {i}"
            );
        }
        // Without the inputs' values the system cannot be evaluated.
        let e = s.eval(y.view(), Times::Zero).unwrap_err();
        assert!(e.message.contains("measured inputs (u)"), "{}", e.message);
    }
    // The command line: `lagc accel` reads the input's column.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.lag"), DRIVEN).unwrap();
    let mut csv = String::from("theta,theta',u\n");
    for (s, u) in states.iter().zip(us) {
        csv.push_str(&format!("{},{},{}\n", s[0], s[1], u));
    }
    std::fs::write(dir.path().join("s.csv"), csv).unwrap();
    let o = lagc_in(
        dir.path(),
        &["accel", "t.lag", "--system", "driven", "--states", "s.csv"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let table = lagc::report::csv::parse_table(&text).unwrap();
    for (i, row) in table.rows.iter().enumerate() {
        let a = hand_accel(states[i][0], states[i][1], us[i]);
        assert!((row[0] - a).abs() < 1e-12 * (1.0 + a.abs()), "{i}");
    }
    // ... and requires it.
    std::fs::write(dir.path().join("s.csv"), "theta,theta'\n0.5,0.2\n").unwrap();
    let o = lagc_in(
        dir.path(),
        &["accel", "t.lag", "--system", "driven", "--states", "s.csv"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("u"));
}

/// rk4 through the driver against a hand-written rk4 whose stages read the same linear
/// interpolation of the drive (at t, t + h/2, t + h).
#[test]
fn rk4_with_inputs_matches_a_hand_written_rk4() {
    let table = read(Path::new("tests/data/inputs/drive.csv"));
    let (t, u): (Vec<f64>, Vec<f64>) = table.rows.iter().map(|r| (r[0], r[1])).unzip();
    let signals = Signals::new(vec!["u".into()], t, vec![u]).unwrap();
    let (dt, t_end) = (0.025, 5.0);
    let opts = SimOptions {
        t_end,
        dt,
        dt_out: None,
        method: Method::Rk4,
        rtol: 1e-9,
        atol: 1e-9,
        project_init: false,
    };
    let y0 = [1.0, 0.0];
    let init = Array2::from_shape_vec((1, 2), y0.to_vec()).unwrap();
    for backend in [Backend::Jit, Backend::Interp] {
        let s = driver_system(DRIVEN, "driven", backend);
        let tr = s
            .simulate_with_inputs(init.view(), &opts, Some(&signals), &AtomicBool::new(false))
            .unwrap()
            .remove(0)
            .unwrap();
        let f = |t: f64, y: [f64; 2]| {
            let mut u = [0.0];
            signals.at(t, &mut u);
            [y[1], hand_accel(y[0], y[1], u[0])]
        };
        let mut y = y0;
        let n = (t_end / dt).round() as usize;
        assert_eq!(tr.t.len(), n + 1);
        let mut worst: f64 = 0.0;
        for k in 0..n {
            let tk = tr.t[k];
            let h = tr.t[k + 1] - tk;
            let k1 = f(tk, y);
            let k2 = f(
                tk + h / 2.0,
                [y[0] + h / 2.0 * k1[0], y[1] + h / 2.0 * k1[1]],
            );
            let k3 = f(
                tk + h / 2.0,
                [y[0] + h / 2.0 * k2[0], y[1] + h / 2.0 * k2[1]],
            );
            let k4 = f(tk + h, [y[0] + h * k3[0], y[1] + h * k3[1]]);
            for i in 0..2 {
                y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
            }
            for (i, yi) in y.iter().enumerate() {
                worst = worst.max((tr.y[[k + 1, i]] - yi).abs());
            }
        }
        assert!(worst < 1e-11, "{backend:?}: {worst:e}");
        // Without signals a system with inputs does not simulate.
        let e = s
            .simulate(init.view(), &opts, &AtomicBool::new(false))
            .unwrap_err();
        assert!(e.message.contains("measured inputs"), "{}", e.message);
    }
}

#[test]
fn an_input_where_its_rate_is_needed_is_refused() {
    let src = "system s { coord x; input u; L = (x' - u)^2/2 - x^2/2; }\n";
    let e = driver_error(src, "s");
    assert!(
        e.contains("input `u`") && e.contains("time derivative"),
        "{e}"
    );
}

/// examples/driven_pendulum.lag: m, g and c of a driven damped pendulum (l known)
/// identified from (t, theta, u) alone, velocities and accelerations estimated by
/// central differences: each within 1% (measured: about 0.02%).
#[test]
fn a_driven_damped_pendulum_is_identified_from_t_theta_u() {
    let dir = tempfile::tempdir().unwrap();
    let lag = std::fs::canonicalize("examples/driven_pendulum.lag").unwrap();
    let o = lagc_in(
        dir.path(),
        &[
            "train",
            lag.to_str().unwrap(),
            "--system",
            "model",
            "--save",
            "w.safetensors",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(dir.path().join("w.safetensors")).unwrap();
    let w = lagc::nn::Weights::from_bytes(&bytes).unwrap();
    for (name, truth) in [("m", 1.3), ("g", 9.81), ("c", 0.25)] {
        let fitted = w.scalar(name).unwrap();
        let err = (fitted - truth).abs() / truth;
        assert!(
            err < 0.01,
            "{name} = {fitted}, truth {truth}: {:.3}%",
            100.0 * err
        );
    }
}

/// The truth run of the example reads its drive and writes it beside the state.
#[test]
fn the_truth_run_writes_the_input_column() {
    let dir = tempfile::tempdir().unwrap();
    let lag = std::fs::canonicalize("examples/driven_pendulum.lag").unwrap();
    let o = lagc_in(dir.path(), &["run", lag.to_str().unwrap(), "--no-train"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = read(&dir.path().join("driven_pendulum_truth.csv"));
    assert_eq!(
        table.header,
        ["t", "theta", "theta'", "theta''", "energy", "u"]
    );
    let drive = read(Path::new("tests/data/inputs/drive.csv"));
    for (r, d) in table.rows.iter().zip(&drive.rows) {
        assert_eq!(r[0], d[0]);
        assert_eq!(r[5], d[1]);
    }
    // The committed measurements are these rows' t, theta and u.
    let kept = read(Path::new("tests/data/inputs/driven_pendulum.csv"));
    assert_eq!(kept.rows.len(), table.rows.len());
    for (k, r) in kept.rows.iter().zip(&table.rows) {
        assert_eq!(k[..], [r[0], r[1], r[5]]);
    }
}

fn check_snapshot(name: &str, src: &str, files: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.lag"), src).unwrap();
    for (f, text) in files {
        std::fs::write(dir.path().join(f), text).unwrap();
    }
    let o = lagc_in(dir.path(), &["check", "t.lag"]);
    assert_eq!(o.status.code(), Some(1), "{name}");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("t.lag:"), "{name}: not located: {err}");
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, err));
}

const BLOCK: &str =
    "simulate driven { init theta = 1; t_end = 1; dt = 0.1; inputs = \"u.csv\"; }\n";

#[test]
fn inputs_without_the_column_are_a_located_error() {
    check_snapshot(
        "inputs_missing_column",
        &format!("{DRIVEN}{BLOCK}"),
        &[("u.csv", "t,v\n0,1\n1,2\n")],
    );
}

#[test]
fn inputs_that_end_before_t_end_are_a_located_error() {
    check_snapshot(
        "inputs_short_range",
        &format!("{DRIVEN}{BLOCK}"),
        &[("u.csv", "t,u\n0,1\n0.5,2\n")],
    );
}

#[test]
fn inputs_whose_t_does_not_increase_are_a_located_error() {
    check_snapshot(
        "inputs_t_not_increasing",
        &format!("{DRIVEN}{BLOCK}"),
        &[("u.csv", "t,u\n0,1\n0.6,2\n0.4,3\n1,0\n")],
    );
}

#[test]
fn a_simulate_block_of_a_system_with_inputs_must_give_them() {
    check_snapshot(
        "inputs_not_given",
        &format!("{DRIVEN}simulate driven {{ init theta = 1; t_end = 1; dt = 0.1; }}\n"),
        &[],
    );
}

#[test]
fn inputs_in_constraints_and_events_are_located_errors() {
    check_snapshot(
        "inputs_in_constraint_and_event",
        "system s {
    coord x, y;
    input u;
    L = (x'^2 + y'^2)/2 - y;
    constraint rod: x^2 + y^2 - 1 - u;
    event floor: y <= u => y' = -y';
}
",
        &[],
    );
}
