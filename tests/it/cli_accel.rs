//! The `lagc accel`, `derive --format json` and `emit` commands, run as the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REF: &str = "tests/data/reference";

fn lagc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("lagc runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// A header and rows of numbers (`nan` parses as NaN).
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .expect("a header")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let rows = lines
        .map(|l| {
            l.split(',')
                .map(|c| {
                    c.trim()
                        .parse::<f64>()
                        .unwrap_or_else(|_| panic!("cell {c:?}"))
                })
                .collect()
        })
        .collect();
    (header, rows)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The reference pendulum states: (theta, theta', theta'', energy) per row.
fn pendulum_reference() -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(format!("{REF}/pendulum.csv")).unwrap();
    let (header, rows) = parse_csv(&text);
    assert_eq!(header, ["theta", "theta'", "theta''", "energy"]);
    rows
}

fn check_pendulum_output(text: &str, reference: &[Vec<f64>]) {
    let (header, rows) = parse_csv(text);
    assert_eq!(header, ["theta''", "energy"]);
    assert_eq!(rows.len(), reference.len());
    for (row, r) in rows.iter().zip(reference) {
        assert!(close(row[0], r[2], 1e-10), "theta'' {} vs {}", row[0], r[2]);
        assert!(close(row[1], r[3], 1e-10), "energy {} vs {}", row[1], r[3]);
    }
}

fn pendulum_args(states: &str) -> Vec<&str> {
    vec![
        "accel",
        "tests/data/reference/systems.lag",
        "--system",
        "pendulum",
        "--states",
        states,
        "--backend",
        "interp",
    ]
}

#[test]
fn pendulum_to_stdout_matches_reference() {
    let o = lagc(&pendulum_args("tests/data/reference/pendulum.csv"));
    assert!(o.status.success(), "{}", stderr(&o));
    check_pendulum_output(&stdout(&o), &pendulum_reference());
    // --backend interp: no JIT note.
    assert!(stderr(&o).is_empty(), "stderr: {}", stderr(&o));
}

#[test]
fn pendulum_to_out_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let mut args = pendulum_args("tests/data/reference/pendulum.csv");
    args.extend(["--out", path_str(&out)]);
    let o = lagc(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "stdout should be empty with --out");
    check_pendulum_output(
        &std::fs::read_to_string(&out).unwrap(),
        &pendulum_reference(),
    );
}

#[test]
fn columns_in_any_order_with_extra_and_time_columns() {
    let reference = pendulum_reference();
    let mut text = String::from("extra,theta',t,theta\n");
    for (k, r) in reference.iter().enumerate() {
        text.push_str(&format!(
            "{},{:e},{},{:e}\n",
            k * 7,
            r[1],
            k as f64 * 0.1,
            r[0]
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let states = write(dir.path(), "states.csv", &text);
    let o = lagc(&pendulum_args(path_str(&states)));
    assert!(o.status.success(), "{}", stderr(&o));
    check_pendulum_output(&stdout(&o), &reference);
}

#[test]
fn both_backends_agree_and_stderr_stays_clean() {
    let base = [
        "accel",
        "tests/data/reference/systems.lag",
        "--system",
        "pendulum",
        "--states",
        "tests/data/reference/pendulum.csv",
    ];
    for backend in ["jit", "interp"] {
        let mut args = base.to_vec();
        args.extend(["--backend", backend]);
        let o = lagc(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{backend}: {}", stderr(&o));
        check_pendulum_output(&stdout(&o), &pendulum_reference());
    }
}

/// Runs the pendulum on a bad states file, with and without `--out`; checks exit 1,
/// a diagnostic naming `file:line:col` and the given fragments, and that an existing
/// `--out` file is left untouched and a new one is not created.
fn bad_states(name: &str, text: &str, line_col: &str, fragments: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let states = write(dir.path(), name, text);
    let o = lagc(&pendulum_args(path_str(&states)));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "stdout: {}", stdout(&o));
    let err = stderr(&o);
    let loc = format!("{name}:{line_col}");
    assert!(err.contains(&loc), "expected {loc} in:\n{err}");
    for f in fragments {
        assert!(err.contains(f), "expected {f:?} in:\n{err}");
    }
    // An existing output file is left as it was.
    let out = write(dir.path(), "out.csv", "old contents\n");
    let mut args = pendulum_args(path_str(&states));
    args.extend(["--out", path_str(&out)]);
    let o = lagc(&args);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old contents\n");
    // A new output file is not created.
    let fresh = dir.path().join("fresh.csv");
    let mut args = pendulum_args(path_str(&states));
    args.extend(["--out", path_str(&fresh)]);
    let o = lagc(&args);
    assert_eq!(o.status.code(), Some(1));
    assert!(!fresh.exists(), "--out file created despite bad input");
}

#[test]
fn missing_column_is_named_with_what_the_file_has() {
    bad_states(
        "missing.csv",
        "theta,x\n1,2\n",
        "1:1",
        &["theta'", "the file has: theta, x"],
    );
}

#[test]
fn non_numeric_cell_names_line_and_column() {
    bad_states(
        "nonnum.csv",
        "theta,theta'\n0.5,0\n1,abc\n",
        "3:3",
        &["line 3", "theta'", "abc"],
    );
}

#[test]
fn empty_file() {
    bad_states("empty.csv", "", "1:1", &["empty"]);
}

#[test]
fn row_with_too_few_cells() {
    bad_states("short.csv", "theta,theta'\n1,2\n3\n", "3:", &["line 3"]);
}

#[test]
fn unknown_system_is_a_usage_error() {
    let o = lagc(&[
        "accel",
        "tests/data/reference/systems.lag",
        "--system",
        "nope",
        "--states",
        "tests/data/reference/pendulum.csv",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nope"));
}

#[test]
fn system_with_nets_needs_weights() {
    let o = lagc(&[
        "accel",
        "examples/relativistic.lag",
        "--system",
        "lnn",
        "--states",
        "tests/data/reference/relativistic.csv",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("lnn") && err.contains("weights"), "{err}");
    assert!(o.stdout.is_empty());
}

/// Runs `accel` on `source` (system `sys`) and states `csv`; returns the parsed output
/// and stderr.
fn run_inline(source: &str, sys: &str, csv: &str) -> (Vec<String>, Vec<Vec<f64>>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "sys.lag", source);
    let states = write(dir.path(), "states.csv", csv);
    let o = lagc(&[
        "accel",
        path_str(&file),
        "--system",
        sys,
        "--states",
        path_str(&states),
        "--backend",
        "interp",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    (h, rows, stderr(&o))
}

#[test]
fn hamiltonian_system() {
    let src = "system osc { coord x; momentum p; param k = 4; H = p^2/2 + k*x^2/2; }\n";
    let states = [(1.0, 0.0), (0.3, -2.0), (-1.5, 0.7)];
    let mut csv = String::from("x,p\n");
    for (x, p) in states {
        csv.push_str(&format!("{x},{p}\n"));
    }
    let (header, rows, _) = run_inline(src, "osc", &csv);
    assert_eq!(header, ["x'", "p'", "energy"]);
    for ((x, p), row) in states.iter().zip(&rows) {
        assert!(close(row[0], *p, 1e-14));
        assert!(close(row[1], -4.0 * x, 1e-14));
        assert!(close(row[2], p * p / 2.0 + 2.0 * x * x, 1e-14));
    }
}

#[test]
fn explicit_accel_system_has_nan_energy() {
    let (header, rows, _) = run_inline(
        "system f { coord x; accel x = -x; }\n",
        "f",
        "x,x'\n2,1\n-0.5,0\n",
    );
    assert_eq!(header, ["x''", "energy"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], -2.0);
    assert_eq!(rows[1][0], 0.5);
    assert!(rows.iter().all(|r| r[1].is_nan()));
}

#[test]
fn singular_mass_matrix_warns_once() {
    // H = diag(1, x^2): singular at x = 0 only (an H singular everywhere is a
    // degenerate L, an error: tests/it/stress.rs).
    let (header, rows, err) = run_inline(
        "system s { coord x, y; L = x'^2/2 + x^2*y'^2/2 + x*y; }\n",
        "s",
        "x,y,x',y'\n1,2,0,0\n0.5,-1,3,4\n0,0,0,0\n",
    );
    assert_eq!(header, ["x''", "y''", "energy"]);
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().flatten().all(|v| v.is_finite()), "{rows:?}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "stderr: {err}");
    assert!(
        lines[0].contains("warning") && lines[0].contains("`s`") && lines[0].contains("1 of 3"),
        "{err}"
    );
    // x'' = x y'^2 + y, y'' = (x - 2 x x' y') / x^2; at x = 0 the pseudo-inverse gives 0.
    for (row, want) in rows.iter().zip([[2.0, 1.0], [7.0, -46.0], [0.0, 0.0]]) {
        assert!(
            close(row[0], want[0], 1e-12),
            "x'' = {} not {}",
            row[0],
            want[0]
        );
        assert!(
            close(row[1], want[1], 1e-12),
            "y'' = {} not {}",
            row[1],
            want[1]
        );
    }
}

#[test]
fn dissipation_and_time_dependent_force() {
    let src = "system d { coord x; param b = 0.5; L = x'^2/2 - x^2/2; \
               dissipation = b*x'^2/2; force x = cos(t); }\n";
    let states: [(f64, f64, f64); 3] = [(1.0, 0.0, 0.0), (0.3, -2.0, 1.7), (-1.5, 0.7, 12.0)];
    let mut csv = String::from("t,x,x'\n");
    for (x, v, t) in states {
        csv.push_str(&format!("{t},{x},{v}\n"));
    }
    let (header, rows, _) = run_inline(src, "d", &csv);
    assert_eq!(header, ["x''", "energy"]);
    for ((x, v, t), row) in states.iter().zip(&rows) {
        let want = -x - 0.5 * v + t.cos();
        assert!(close(row[0], want, 1e-14), "x'' {} vs {want}", row[0]);
        assert!(close(row[1], v * v / 2.0 + x * x / 2.0, 1e-14));
    }
}

#[test]
fn derive_json_has_one_key_per_system() {
    let o = lagc(&["derive", "examples/relativistic.lag", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["hnn_canonical", "hnn_velocity", "lnn", "relativistic"]
    );
    let o = lagc(&["derive", "examples/double_pendulum.lag", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let dp = &v["double_pendulum"];
    for key in ["dL_dq", "dL_dqdot", "H", "M", "energy", "accel"] {
        assert!(dp.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn emit_kernel_listing_ends_with_out() {
    let o = lagc(&[
        "emit",
        "tests/data/reference/systems.lag",
        "--system",
        "pendulum",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(
        last.trim_start().starts_with("out"),
        "last line: {last:?}\n{text}"
    );
}
