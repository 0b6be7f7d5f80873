//! q'' and energy from the whole pipeline (text -> check -> DAG -> kernel -> interpreter
//! and JIT)
//! against the independent SymPy references in tests/data/reference/.

use crate::common;

use common::checked_model;
use lagc::backend::{self, Backend, Interpreter, Kind};
use lagc::check::SystemModel;
use lagc::kernel;
use lagc::report::csv::read_table;
use lagc::symbolic::eom::Eom;
use std::path::Path;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

/// Evaluates system `name` at every row of `csv` with both backends (and, for arrays,
/// both the loop form and the unrolled one) and compares q'' and energy.
fn compare(name: &str, csv: &str) {
    for kind in [Kind::Interp, Kind::Jit] {
        compare_with(name, csv, kind, Eom::derive);
        compare_with(name, csv, kind, Eom::derive_unrolled);
    }
}

fn compare_with(name: &str, csv: &str, kind: Kind, derive: fn(&SystemModel) -> Eom) {
    let src = std::fs::read_to_string("tests/data/reference/systems.lag").unwrap();
    let m = checked_model(&src, &[]);
    let sys = &m.systems[m.system_index(name).expect("system")];
    let mut eom = derive(sys);
    let program = kernel::eom_program(&mut eom, true, true).unwrap();
    let mut interp = backend::create_eom(program, kind, None);
    let table = read_table(Path::new("tests/data/reference").join(csv).as_path()).unwrap();
    let inputs = eom.input_names();
    let outputs = eom.output_names();
    let in_cols = table.require_columns(&inputs[..2 * eom.dof()]).unwrap();
    let out_cols = table.require_columns(&outputs).unwrap();
    assert_eq!(table.rows.len(), 20);
    let mut x = vec![0.0; interp.n_inputs()];
    let mut y = vec![0.0; interp.n_outputs()];
    for row in &table.rows {
        for (k, &c) in in_cols.iter().enumerate() {
            x[k] = row[c];
        }
        let report = interp.eval(&x, &mut y).unwrap();
        assert_eq!(report.singular, 0);
        for (k, &c) in out_cols.iter().enumerate() {
            assert!(
                close(y[k], row[c], 1e-10),
                "{name} ({kind:?}): {} = {} but the reference says {}",
                outputs[k],
                y[k],
                row[c]
            );
        }
    }
}

#[test]
fn falling_ball() {
    compare("falling_ball", "falling_ball.csv");
}

#[test]
fn pendulum() {
    compare("pendulum", "pendulum.csv");
}

#[test]
fn double_pendulum() {
    compare("double_pendulum", "double_pendulum.csv");
}

#[test]
fn relativistic() {
    compare("relativistic", "relativistic.csv");
}

#[test]
fn two_body() {
    compare("two_body", "two_body.csv");
}

#[test]
fn wave8_periodic_array() {
    compare("wave8", "wave8.csv");
    let src = std::fs::read_to_string("tests/data/reference/systems.lag").unwrap();
    let m = checked_model(&src, &[]);
    let eom = Eom::derive(&m.systems[m.system_index("wave8").unwrap()]);
    assert!(eom.lattice().is_some(), "wave8 is derived in loop form");
}

/// The textbook closed form of the double pendulum (m = l = 1, g = 9.8):
/// with d = t1 - t2, den = 2 - cos(d)^2 = 3 - cos(2d),
/// t1'' = (-g(2 + 1) sin t1 - g sin(t1 - 2 t2) - 2 sin d (t2'^2 + t1'^2 cos d)) / (3 - cos 2d)
/// t2'' = 2 sin d (2 t1'^2 + 2 g cos t1 + t2'^2 cos d) / (3 - cos 2d).
#[test]
fn double_pendulum_matches_textbook_closed_form() {
    let src = std::fs::read_to_string("tests/data/reference/systems.lag").unwrap();
    let m = checked_model(&src, &[]);
    let sys = &m.systems[m.system_index("double_pendulum").unwrap()];
    let mut eom = Eom::derive(sys);
    let spec = kernel::spec_for(&mut eom);
    let mut interp = Interpreter::new(kernel::lower(&eom.dag, &spec).unwrap());
    let g = 9.8;
    let mut y = [0.0; 3];
    for k in 0..50 {
        let s = k as f64;
        let (t1, t2, w1, w2) = (
            (0.37 * s).sin() * 3.0,
            (1.3 * s).cos() * 2.5,
            (0.7 * s).sin() * 4.0,
            (0.11 * s).cos() * 5.0,
        );
        interp.eval(&[t1, t2, w1, w2, 0.0], &mut y).unwrap();
        let d = t1 - t2;
        let den = 3.0 - (2.0 * d).cos();
        let a1 = (-3.0 * g * t1.sin()
            - g * (t1 - 2.0 * t2).sin()
            - 2.0 * d.sin() * (w2 * w2 + w1 * w1 * d.cos()))
            / den;
        let a2 = 2.0 * d.sin() * (2.0 * w1 * w1 + 2.0 * g * t1.cos() + w2 * w2 * d.cos()) / den;
        assert!(
            close(y[0], a1, 1e-12) && close(y[1], a2, 1e-12),
            "state {k}: {:?} vs ({a1}, {a2})",
            &y[..2]
        );
    }
}
