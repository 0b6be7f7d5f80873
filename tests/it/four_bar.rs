//! The four-bar linkage of examples/four_bar.lag (three angles held on a closed loop by
//! two constraints) against tests/data/constraints/four_bar.csv, the same linkage reduced
//! to the crank angle alone and integrated without constraints
//! (scripts/make_four_bar_reference.py): the crank's angle and velocity, the loop and
//! its rate, and the energy, on both backends.

use lagc::check::{CExpr, RunSettings, SimulateSettings, Source};
use lagc::driver::{Model, SimOptions, Trajectory};
use lagc::{Backend, Method};
use ndarray::Array2;
use std::sync::atomic::AtomicBool;

const EXAMPLE: &str = "examples/four_bar.lag";
/// The example's lengths: ground, crank, coupler, rocker.
const L: [f64; 4] = [4.0, 1.0, 3.5, 3.0];

/// The example's `simulate` block.
fn block(m: &Model) -> SimulateSettings {
    match &m.checked().runs[0].settings {
        RunSettings::Simulate(s) => s.clone(),
        other => panic!("not a simulate block: {other:?}"),
    }
}

/// The block's `init` values in state order (a1, a2, a3, a1', a2', a3').
fn initial_state(s: &SimulateSettings, names: &[String]) -> Vec<f64> {
    let Source::Values(assigns) = &s.init else {
        panic!("init is not a list of values")
    };
    let value = |e: &CExpr| match e {
        CExpr::Num(x) => *x,
        CExpr::Neg(a) => match **a {
            CExpr::Num(x) => -x,
            _ => panic!("init value {e:?}"),
        },
        _ => panic!("init value {e:?}"),
    };
    let mut y = vec![0.0; names.len()];
    for a in assigns {
        let name = format!("{}{}", a.name, "'".repeat(a.primes as usize));
        let k = names.iter().position(|n| *n == name).expect("a state name");
        y[k] = value(&a.value);
    }
    y
}

/// Rows of the reference: t, a1, a1'.
fn reference() -> Vec<[f64; 3]> {
    let text = std::fs::read_to_string("tests/data/constraints/four_bar.csv").unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,a1,a1'"));
    lines
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|x| x.parse().unwrap()).collect();
            [v[0], v[1], v[2]]
        })
        .collect()
}

fn simulate(m: &Model, backend: Backend) -> (lagc::driver::System, Trajectory) {
    let s = block(m);
    let sys = m.system("four_bar", backend).expect("compiles");
    assert_eq!(
        sys.state_names(),
        ["a1", "a2", "a3", "a1'", "a2'", "a3'"],
        "state order"
    );
    let y0 = initial_state(&s, sys.state_names());
    let opts = SimOptions {
        t_end: s.t_end,
        dt: s.dt,
        dt_out: None,
        method: s.method,
        rtol: s.rtol,
        atol: s.atol,
        project_init: false,
    };
    let init = Array2::from_shape_vec((1, y0.len()), y0).unwrap();
    let tr = sys
        .simulate(init.view(), &opts, &AtomicBool::new(false))
        .expect("runs")
        .remove(0)
        .expect("finishes");
    (sys, tr)
}

/// The loop x and y, and their rates, at one state.
fn closure(y: &[f64]) -> [f64; 4] {
    let [l0, l1, l2, l3] = L;
    let (a, w) = (&y[..3], &y[3..]);
    [
        l1 * a[0].cos() + l2 * a[1].cos() - l3 * a[2].cos() - l0,
        l1 * a[0].sin() + l2 * a[1].sin() - l3 * a[2].sin(),
        -l1 * a[0].sin() * w[0] - l2 * a[1].sin() * w[1] + l3 * a[2].sin() * w[2],
        l1 * a[0].cos() * w[0] + l2 * a[1].cos() * w[1] - l3 * a[2].cos() * w[2],
    ]
}

#[test]
fn four_bar_follows_the_reduced_crank_model() {
    let m = Model::load(std::path::Path::new(EXAMPLE), &[]).expect("checks");
    let s = block(&m);
    assert_eq!(s.method, Method::Dopri5);
    assert!(s.rtol <= 1e-12 && s.atol <= 1e-12);
    let want = reference();
    assert_eq!(want.len(), 51);
    for backend in [Backend::Jit, Backend::Interp] {
        let (sys, tr) = simulate(&m, backend);
        let energy = sys
            .output_names()
            .iter()
            .position(|n| n == "energy")
            .unwrap();
        assert_eq!(tr.t.len(), 501);
        // The reference's rows are every 0.1 s, the run's every 0.01 s.
        let (mut angle, mut speed) = (0.0f64, 0.0f64);
        for r in &want {
            let k = (r[0] / s.dt).round() as usize;
            assert!((tr.t[k] - r[0]).abs() < 1e-12, "row {k} at {}", tr.t[k]);
            angle = angle.max((tr.y[[k, 0]] - r[1]).abs());
            speed = speed.max((tr.y[[k, 3]] - r[2]).abs());
        }
        let (mut phi, mut rate, mut drift) = (0.0f64, 0.0f64, 0.0f64);
        let e0 = tr.out[[0, energy]];
        for k in 0..tr.t.len() {
            let c = closure(tr.y.row(k).as_slice().unwrap());
            phi = phi.max(c[0].abs()).max(c[1].abs());
            rate = rate.max(c[2].abs()).max(c[3].abs());
            drift = drift.max((tr.out[[k, energy]] - e0).abs() / e0.abs());
        }
        eprintln!(
            "four_bar {backend:?}: crank angle {angle:.1e}, velocity {speed:.1e}; \
             loop {phi:.1e}, its rate {rate:.1e}; energy {drift:.1e} relative"
        );
        // The crank has turned more than five times, at 4.7 to 11.7 rad/s.
        assert!(tr.y[[tr.t.len() - 1, 0]] > 10.0 * std::f64::consts::PI);
        assert!(angle < 1e-9, "{backend:?}: crank angle off by {angle:e}");
        assert!(speed < 1e-9, "{backend:?}: crank velocity off by {speed:e}");
        assert!(phi < 1e-10, "{backend:?}: loop open by {phi:e}");
        assert!(rate < 1e-10, "{backend:?}: loop rate {rate:e}");
        assert!(drift < 1e-10, "{backend:?}: energy drift {drift:e}");
    }
}
