//! `lagc simulate`, run as the real binary: CSV on stdout or in a file, plots, bad flags
//! (exit 2), a diverging system (exit 1, whole rows kept) and Ctrl-C.

use crate::common::lagc_in;
use std::path::Path;
use std::process::{Command, Stdio};

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("utf-8")
}

/// A header and rows of numbers; every row must be as long as the header.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    assert!(text.ends_with('\n'), "the file ends with a whole row");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("a header")
        .split(',')
        .map(String::from)
        .collect();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| {
            l.split(',')
                .map(|c| c.parse::<f64>().unwrap_or_else(|_| panic!("cell {c:?}")))
                .collect()
        })
        .collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "a whole row");
    }
    (header, rows)
}

/// Output temporaries (`.lagc-PID-N.NAME`) left in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(".lagc-"))
        .collect()
}

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The t column holds the shortest decimals of k*dt (`0.35`, not `0.35000000000000003`),
/// and a pendulum at rest, whose theta'' = -g*sin(0)/l is -0 in the kernel, writes `0`.
#[test]
fn times_are_short_decimals_and_zeros_are_unsigned() {
    let dir = tempfile::tempdir().unwrap();
    let o = lagc_in(
        dir.path(),
        &[
            "simulate",
            &example("pendulum.lag"),
            "--system",
            "pendulum",
            "--init",
            "theta=0,theta'=0",
            "--t-end",
            "1",
            "--dt",
            "0.05",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let times: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(times.len(), 21);
    for (k, t) in times.iter().enumerate() {
        let want = format!("{}", k as f64 / 20.0);
        assert_eq!(*t, want, "row {k}");
    }
    assert!(times.contains(&"0.35"), "{times:?}");
    let cells: Vec<&str> = out.lines().skip(1).flat_map(|l| l.split(',')).collect();
    assert!(!cells.contains(&"-0"), "{out}");
    assert!(cells.contains(&"0"), "{out}");
}

#[test]
fn csv_to_stdout_summary_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let o = lagc_in(
        dir.path(),
        &[
            "simulate",
            &example("pendulum.lag"),
            "--system",
            "pendulum",
            "--init",
            "theta=0.001,theta'=0",
            "--t-end",
            "1",
            "--dt",
            "0.01",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (header, rows) = parse_csv(&text(&o.stdout));
    assert_eq!(header, ["t", "theta", "theta'", "theta''", "energy"]);
    assert_eq!(rows.len(), 101);
    let w = 9.81f64.sqrt();
    for (k, r) in rows.iter().enumerate() {
        assert_eq!(r[0], k as f64 / 100.0); // the double nearest to k*0.01
        assert!((r[1] - 0.001 * (w * r[0]).cos()).abs() < 2e-9, "{r:?}");
        assert!((r[3] + 9.81 * r[1].sin()).abs() < 1e-12);
        // E = theta'^2/2 - g cos(theta)
        assert!((r[4] - (r[2] * r[2] / 2.0 - 9.81 * r[1].cos())).abs() < 1e-12);
    }
    let err = text(&o.stderr);
    assert!(
        err.contains("simulate pendulum (rk4)") && err.contains("steps/s"),
        "{err}"
    );
}

#[test]
fn out_file_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    for (method, plot) in [("dopri5", "p.svg"), ("variational", "p.png")] {
        let o = lagc_in(
            dir.path(),
            &[
                "simulate",
                &example("double_pendulum.lag"),
                "--system",
                "double_pendulum",
                "--init",
                "t1=1,t2=0.5",
                "--t-end",
                "2",
                "--dt",
                "0.05",
                "--method",
                method,
                "--out",
                "traj.csv",
                "--plot",
                plot,
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        let out = text(&o.stdout);
        assert!(
            out.contains(&format!("({method})")) && out.contains("traj.csv"),
            "{out}"
        );
        let (header, rows) =
            parse_csv(&std::fs::read_to_string(dir.path().join("traj.csv")).unwrap());
        assert_eq!(
            header,
            ["t", "t1", "t2", "t1'", "t2'", "t1''", "t2''", "energy"]
        );
        assert_eq!(rows.len(), 41);
        assert!((rows[40][0] - 2.0).abs() < 1e-12);
        assert!(temporaries(dir.path()).is_empty());
        let bytes = std::fs::read(dir.path().join(plot)).unwrap();
        if plot.ends_with(".png") {
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        } else {
            assert!(text(&bytes).contains("<svg"));
        }
    }
}

#[test]
fn hamiltonian_columns_are_q_p_then_their_derivatives() {
    let dir = tempfile::tempdir().unwrap();
    let lag = dir.path().join("h.lag");
    std::fs::write(
        &lag,
        "system hp { coord q; momentum p; param k = 4; H = p^2/2 + k*q^2/2; }\n",
    )
    .unwrap();
    let o = lagc_in(
        dir.path(),
        &[
            "simulate",
            lag.to_str().unwrap(),
            "--system",
            "hp",
            "--init",
            "q=1",
            "--t-end",
            "1",
            "--dt",
            "0.5",
            "--method",
            "variational",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (header, rows) = parse_csv(&text(&o.stdout));
    assert_eq!(header, ["t", "q", "p", "q'", "p'", "energy"]);
    for r in &rows {
        assert_eq!(r[3], r[2]);
        assert_eq!(r[4], -4.0 * r[1]);
        // Implicit midpoint conserves quadratic invariants exactly.
        assert!((r[5] - 2.0).abs() < 1e-12, "{r:?}");
    }
}

#[test]
fn bad_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = example("pendulum.lag");
    let base = [
        "simulate",
        p.as_str(),
        "--system",
        "pendulum",
        "--t-end",
        "1",
        "--dt",
        "0.1",
    ];
    for (extra, needle) in [
        (vec!["--init", "phi=1"], "`phi` is not a variable of system"),
        (vec!["--init", "theta=abc"], "unknown name `abc`"),
        (vec!["--init", "theta"], "expected `=`"),
        (
            vec!["--method", "euler"],
            "expected rk4, dopri5 or variational",
        ),
        (vec!["--rtol", "0"], "expected a positive number"),
    ] {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(extra.iter());
        let o = lagc_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(needle),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty());
    }
    let o = lagc_in(
        dir.path(),
        &["simulate", &p, "--system", "pendulum", "--dt", "0.1"],
    );
    assert_eq!(o.status.code(), Some(2));
    let o = lagc_in(
        dir.path(),
        &[
            "simulate", &p, "--system", "nope", "--t-end", "1", "--dt", "0.1",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no such system"));
}

#[test]
fn diverging_state_stops_with_exit_1_and_keeps_whole_rows() {
    // x'' = 4 x^3 from x = 1 at rest blows up at t = 0.93 (x'^2/2 = x^4 - 1): rk4's
    // stages see the step outrun the dynamics at t = 0.92, before any value overflows.
    let dir = tempfile::tempdir().unwrap();
    let lag = dir.path().join("blow.lag");
    std::fs::write(&lag, "system blow { coord x; L = x'^2/2 + x^4; }\n").unwrap();
    let o = lagc_in(
        dir.path(),
        &[
            "simulate",
            lag.to_str().unwrap(),
            "--system",
            "blow",
            "--init",
            "x=1",
            "--t-end",
            "5",
            "--dt",
            "0.01",
            "--out",
            "b.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("system `blow`")
            && err.contains("the step dt = 0.01 does not resolve the dynamics at t = 0.92")
            && err.contains("use a smaller dt or method dopri5"),
        "{err}"
    );
    assert!(err.contains("b.csv"), "{err}");
    let (_, rows) = parse_csv(&std::fs::read_to_string(dir.path().join("b.csv")).unwrap());
    let last = rows.last().unwrap();
    assert!(
        rows.len() > 50 && last[0] < 5.0,
        "{} rows, last t {}",
        rows.len(),
        last[0]
    );
    assert!(last[1].is_finite());
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn ctrl_c_ends_cleanly_with_whole_rows() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args([
            "simulate",
            &example("pendulum.lag"),
            "--system",
            "pendulum",
            "--init",
            "theta=1",
            "--t-end",
            "100000",
            "--dt",
            "0.001",
            "--out",
            "long.csv",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until rows are being written, then interrupt.
    for _ in 0..200 {
        let written = temporaries(dir.path())
            .iter()
            .any(|p| std::fs::metadata(dir.path().join(p)).is_ok_and(|m| m.len() > 1000));
        if written {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("interrupted at t = "),
        "{}",
        text(&o.stderr)
    );
    let (_, rows) = parse_csv(&std::fs::read_to_string(dir.path().join("long.csv")).unwrap());
    assert!(rows.len() > 10 && rows.last().unwrap()[0] < 100000.0);
    assert!(temporaries(dir.path()).is_empty());
}

/// Negative numbers reach lagc's own checks (exit 2 with its message), not the argument
/// parser's "unexpected argument".
#[test]
fn negative_numbers_get_lagc_errors() {
    for (flag, value) in [("--dt", "-0.1"), ("--t-end", "-1")] {
        let mut args = vec![
            "simulate",
            "examples/pendulum.lag",
            "--system",
            "pendulum",
            "--t-end",
            "1",
            "--dt",
            "0.1",
        ];
        let k = args.iter().position(|a| *a == flag).unwrap();
        args[k + 1] = value;
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_lagc"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            err,
            format!("error: {flag} {value}: expected a positive number\n")
        );
    }
}
