//! `lagc linearize`: small-oscillation frequencies and shapes against closed forms, the
//! equilibrium check, and the command line (text, JSON, errors).

use lagc::driver::Model;
use std::process::Command;

fn system(src: &str, name: &str, set: &[(&str, f64)]) -> lagc::driver::System {
    let set: Vec<(String, f64)> = set.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    Model::loads(src, "t.lag", &set)
        .expect("checks")
        .system(name, lagc::Backend::Interp)
        .expect("compiles")
}

/// The double pendulum about its lowest point: omega^2 =
/// g [(m1+m2)(l1+l2) -+ sqrt((m1+m2)^2 (l1+l2)^2 - 4 m1 (m1+m2) l1 l2)] / (2 m1 l1 l2),
/// shapes x2/x1 = (K11 - omega^2 M11) / (omega^2 M12), from det(K - omega^2 M) = 0 by hand.
#[test]
fn double_pendulum_frequencies_match_the_closed_form() {
    let src = std::fs::read_to_string("examples/double_pendulum.lag").unwrap();
    let (m1, m2, l1, l2, g) = (1.3, 0.7, 1.5, 0.8, 9.81);
    let s = system(
        &src,
        "double_pendulum",
        &[("m1", m1), ("m2", m2), ("l1", l1), ("l2", l2), ("g", g)],
    );
    let lin = s.linearize(&[]).unwrap();
    assert!(lin.equilibrium);
    let (ms, ls) = (m1 + m2, l1 + l2);
    let root = (ms * ms * ls * ls - 4.0 * m1 * ms * l1 * l2).sqrt();
    let expect = [
        g * (ms * ls - root) / (2.0 * m1 * l1 * l2),
        g * (ms * ls + root) / (2.0 * m1 * l1 * l2),
    ];
    assert_eq!(lin.modes.len(), 2);
    for (md, w2) in lin.modes.iter().zip(expect) {
        assert!((md.omega2 - w2).abs() < 1e-12 * w2, "{} vs {w2}", md.omega2);
        assert!((md.omega - w2.sqrt()).abs() < 1e-12 * w2.sqrt());
        let ratio = (ms * g * l1 - w2 * ms * l1 * l1) / (w2 * m2 * l1 * l2);
        let got = md.shape[1] / md.shape[0];
        assert!(
            (got - ratio).abs() < 1e-10 * ratio.abs(),
            "{got} vs {ratio}"
        );
    }
    assert!(lin.c.iter().all(|&x| x == 0.0));
    let [m, c, k] = lin.symbolic.expect("a 2-dof system has symbolic matrices");
    assert_eq!(m, ["m1*l1^2 + l1^2*m2", "l1*m2*l2", "l1*m2*l2", "m2*l2^2"]);
    assert_eq!(c, ["0", "0", "0", "0"]);
    assert_eq!(k, ["m1*l1*g + l1*m2*g", "0", "0", "m2*l2*g"]);
}

/// N masses m between two walls, springs k: omega_j = 2 sqrt(k/m) sin(j pi / (2(N+1))),
/// shapes sin(i j pi / (N+1)).
#[test]
fn spring_chain_normal_modes_match_the_analytic_ones() {
    let n = 7;
    let (m, k): (f64, f64) = (0.6, 2.5);
    let src = format!(
        "system chain {{ coord x[{n}]; param m = {m}, k = {k};
           L = sum(i, m*x'[i]^2/2) - sum(i in 0..{last}, k*(x[i+1] - x[i])^2/2)
               - k*x[0]^2/2 - k*x[{last}]^2/2; }}",
        last = n - 1
    );
    let lin = system(&src, "chain", &[]).linearize(&[]).unwrap();
    assert!(lin.equilibrium);
    let pi = std::f64::consts::PI;
    for (j, md) in lin.modes.iter().enumerate() {
        let j = (j + 1) as f64;
        let w = 2.0 * (k / m).sqrt() * (j * pi / (2.0 * (n + 1) as f64)).sin();
        assert!(
            (md.omega - w).abs() < 1e-12 * w,
            "mode {j}: {} vs {w}",
            md.omega
        );
        let exact: Vec<f64> = (1..=n)
            .map(|i| (i as f64 * j * pi / (n + 1) as f64).sin())
            .collect();
        let big = exact.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        let top = *exact
            .iter()
            .find(|v| v.abs() >= big * (1.0 - 1e-9))
            .unwrap();
        for (got, e) in md.shape.iter().zip(&exact) {
            assert!(
                (got - e / top).abs() < 1e-9,
                "mode {j}: {:?} vs {exact:?}",
                md.shape
            );
        }
    }
}

/// A pendulum held at 1 rad is not at rest there: q'' = -(g/l) sin 1, no modes. At the
/// top it is an equilibrium with omega^2 = -g/l (unstable).
#[test]
fn the_equilibrium_check() {
    let src =
        "system p { coord theta; param g = 9.81, l = 2; L = l^2*theta'^2/2 + g*l*cos(theta); }";
    let s = system(src, "p", &[]);
    let off = s.linearize(&[("theta".into(), 1.0)]).unwrap();
    assert!(!off.equilibrium);
    assert!((off.accel[0] + 9.81 / 2.0 * 1f64.sin()).abs() < 1e-14);
    assert!(off.modes.is_empty());
    assert!(
        off.text().contains("equilibrium: no (theta'' = -4.12"),
        "{}",
        off.text()
    );
    let top = s
        .linearize(&[("theta".into(), std::f64::consts::PI)])
        .unwrap();
    assert!(top.equilibrium);
    assert!((top.modes[0].omega2 + 9.81 / 2.0).abs() < 1e-12);
    assert!(top.text().contains("unstable"), "{}", top.text());
}

/// A damped oscillator's C, and an accel system (M = 1).
#[test]
fn damping_and_accel_systems() {
    let src =
        "system d { coord x; param c = 0.3, k = 4; L = x'^2/2 - k*x^2/2; dissipation = c*x'^2/2; }
               system a { coord x; accel x = -9*x - 0.5*x'; }";
    let d = system(src, "d", &[]).linearize(&[]).unwrap();
    assert_eq!((d.m[(0, 0)], d.c[(0, 0)], d.k[(0, 0)]), (1.0, 0.3, 4.0));
    assert!(d.notes.iter().any(|n| n.contains("damping")));
    assert_eq!(d.modes[0].omega, 2.0);
    let a = system(src, "a", &[]).linearize(&[]).unwrap();
    assert_eq!((a.m[(0, 0)], a.c[(0, 0)], a.k[(0, 0)]), (1.0, 0.5, 9.0));
    assert_eq!(a.modes[0].omega, 3.0);
}

fn lagc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("lagc runs")
}

#[test]
fn command_line_text_json_and_errors() {
    let base = [
        "linearize",
        "examples/double_pendulum.lag",
        "--system",
        "double_pendulum",
    ];
    let o = lagc(&[&base[..], &["--at", "t1=0,t2=0"]].concat());
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("equilibrium: yes"), "{text}");
    assert!(text.contains("K = [ 19.6     0 ]"), "{text}");
    let o = lagc(&[&base[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let w2 = v["modes"][0]["omega2"].as_f64().unwrap();
    assert!((w2 - 9.8 * (2.0 - 2f64.sqrt())).abs() < 1e-12, "{w2}");
    assert_eq!(v["symbolic"]["K"][1][1], "m2*l2*g");
    for key in [
        "system",
        "coords",
        "at",
        "equilibrium",
        "accel",
        "M",
        "C",
        "K",
        "symbolic",
        "modes",
        "notes",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let o = lagc(&[&base[..], &["--at", "t3=1"]].concat());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: --at t3: not a coordinate"), "{err}");
    let o = lagc(&[&base[..], &["--at", "t1=x"]].concat());
    assert_eq!(o.status.code(), Some(2));
    let o = lagc(&["linearize", "examples/two_body.lag", "--system", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}
