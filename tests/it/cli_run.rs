//! `lagc run`, run as the real binary: every simulate block in file order with its
//! `set`, many initial conditions from a CSV or `sample(...)`, `compare`, train blocks
//! whose weights reach later blocks, and the blocks it refuses.

use crate::common::lagc_in;
use std::path::Path;

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("utf-8")
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let t = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(t.ends_with('\n'));
    let mut lines = t.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert!(rows.iter().all(|r: &Vec<f64>| r.len() == header.len()));
    (header, rows)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn pendulum_example_runs_both_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let lag = format!("{}/examples/pendulum.lag", env!("CARGO_MANIFEST_DIR"));
    let o = lagc_in(dir.path(), &["run", &lag]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("simulate pendulum (rk4): 1000 steps, 1001 rows"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("simulate pendulum (variational): 3000 steps"),
        "{out}"
    );
    assert!(lines[0].contains("max relative energy error") && lines[0].contains("steps/s"));
    let (header, rows) = read_csv(&dir.path().join("pendulum.csv"));
    assert_eq!(header, ["t", "theta", "theta'", "theta''", "energy"]);
    assert_eq!(rows.len(), 1001);
    // E = theta'^2/2 - g cos(theta) with g = 9.81 on Earth, 1.62 (`set`) on the Moon.
    assert!((rows[0][4] + 9.81 * 1f64.cos()).abs() < 1e-12);
    let (_, moon) = read_csv(&dir.path().join("pendulum_moon.csv"));
    assert_eq!(moon.len(), 3001);
    assert!((moon[0][4] + 1.62 * 1f64.cos()).abs() < 1e-12);
    assert!((moon[0][3] + 1.62 * 1f64.sin()).abs() < 1e-12);
    assert!(std::fs::read_to_string(dir.path().join("pendulum.svg"))
        .unwrap()
        .contains("<svg"));
}

#[test]
fn falling_ball_example_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let lag = format!("{}/examples/falling_ball.lag", env!("CARGO_MANIFEST_DIR"));
    let o = lagc_in(dir.path(), &["run", &lag, "--quiet"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (_, rows) = read_csv(&dir.path().join("falling_ball.csv"));
    for r in &rows {
        let t = r[0];
        assert!((r[1] - (5.0 * t - 9.81 * t * t / 2.0)).abs() < 1e-12);
        assert!((r[2] - t).abs() < 1e-12);
        assert!((r[5] + 9.81).abs() < 1e-12 && r[6].abs() < 1e-12);
    }
}

const TWO: &str = "
system a { coord x; param m = 1, k = 4; L = m/2*x'^2 - k/2*x^2; }
system b { coord x; param m = 2, k = 8; L = m/2*x'^2 - k/2*x^2; }
";

#[test]
fn initial_states_from_csv_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ics.csv", "x,extra\n1,5\n0.5,5\n-2,5\n");
    let src = format!(
        "{TWO}\nsimulate a {{ init = \"ics.csv\"; t_end = 1; dt = 0.25; method = dopri5; compare = b; out = \"many.csv\"; plot = \"many.png\"; }}\n"
    );
    let lag = write(dir.path(), "many.lag", &src);
    let o = lagc_in(dir.path(), &["run", &lag]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("3 runs") && out.contains("mean") && out.contains("b energy"),
        "{out}"
    );
    let (header, rows) = read_csv(&dir.path().join("many.csv"));
    assert_eq!(
        header,
        ["t", "x", "x'", "x''", "energy", "truth_energy", "run"]
    );
    assert_eq!(rows.len(), 15);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[6], (i / 5) as f64);
        // x = x0 cos(2t) (x' starts at 0: a missing column), and b's energy is twice a's.
        let x0 = [1.0, 0.5, -2.0][i / 5];
        assert!((r[1] - x0 * (2.0 * r[0]).cos()).abs() < 1e-8, "{r:?}");
        assert!((r[5] - 2.0 * r[4]).abs() < 1e-12 * r[4].abs().max(1.0));
    }
    let png = std::fs::read(dir.path().join("many.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}

#[test]
fn stops_at_the_first_failing_block() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!(
        "{TWO}
system blow {{ coord x; L = x'^2/2 + x^4; }}
simulate a {{ init x = 1; t_end = 1; dt = 0.5; out = \"first.csv\"; }}
simulate blow {{ init x = 1; t_end = 3; dt = 0.01; }}
simulate a {{ init x = 1; t_end = 1; dt = 0.5; out = \"never.csv\"; }}
"
    );
    let lag = write(dir.path(), "t.lag", &src);
    // A failure only the run can find (everything `check` can find is refused before
    // any block): the second block's solution blows up at t = 0.93.
    let o = lagc_in(dir.path(), &["run", &lag]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("system `blow`") && err.contains("does not resolve"),
        "{err}"
    );
    assert!(dir.path().join("first.csv").exists());
    assert!(!dir.path().join("never.csv").exists());
    assert_eq!(text(&o.stdout).lines().count(), 1);
}

#[test]
fn refused_blocks_say_why() {
    let dir = tempfile::tempdir().unwrap();
    for (body, needle) in [
        (
            "system h { coord x; momentum p; H = p^2/2 + x^2/2; }\nsimulate h { init x = 1; t_end = 1; dt = 0.5; compare = a; }",
            "is an H system",
        ),
        (
            "system n { coord x; net f = mlp(in: 2, hidden: [4]); L = f(x, x'); }\nsimulate n { init x = 1; t_end = 1; dt = 0.5; }",
            "needs weights",
        ),
        (
            "system blow { coord x; L = x'^2/2 + x^4; }\nsimulate blow { init x = 1; t_end = 3; dt = 0.01; out = \"blow.csv\"; }",
            "does not resolve the dynamics",
        ),
    ] {
        let lag = write(dir.path(), "r.lag", &format!("{TWO}\n{body}\n"));
        let o = lagc_in(dir.path(), &["run", &lag]);
        assert_eq!(o.status.code(), Some(1), "{body}");
        let err = text(&o.stderr);
        assert!(err.contains(needle) && err.contains("r.lag:"), "{body}: {err}");
    }
}

#[test]
fn sampled_initial_states_give_one_run_each() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!(
        "{TWO}\nsimulate a {{ init = sample(n = 3, seed = 4, x = uniform(0.5, 1), x' = normal(0, 0.1)); \
         t_end = 1; dt = 0.5; out = \"s.csv\"; }}\n"
    );
    let lag = write(dir.path(), "s.lag", &src);
    let o = lagc_in(dir.path(), &["run", &lag]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (header, rows) = read_csv(&dir.path().join("s.csv"));
    let run = header.iter().position(|h| h == "run").expect("run column");
    assert_eq!(rows.len(), 9);
    let starts: Vec<&Vec<f64>> = rows.iter().filter(|r| r[0] == 0.0).collect();
    assert_eq!(starts.len(), 3);
    for (k, r) in starts.iter().enumerate() {
        assert_eq!(r[run], k as f64);
        assert!((0.5..1.0).contains(&r[1]), "{r:?}");
    }
    assert_ne!(starts[0][1], starts[1][1]);
}

#[test]
fn a_train_block_fits_a_learn_param_that_later_blocks_use() {
    // x'' = -k x with k = 4 in the truth; the model learns k from 1 and then flies with it
    let dir = tempfile::tempdir().unwrap();
    let src = "system truth { coord x; param k = 4; L = x'^2/2 - k*x^2/2; }
system model { coord x; learn k = 1; L = x'^2/2 - k*x^2/2; }
train model { data = sample(truth, n = 256, seed = 1, x = uniform(-1, 1), x' = uniform(-1, 1));
              steps = 400; batch = 32; lr = 0.05; val = 0; }
simulate model { init x = 1; t_end = 1; dt = 0.05; out = \"m.csv\"; }
";
    let lag = write(dir.path(), "k.lag", src);
    let o = lagc_in(dir.path(), &["run", &lag]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (header, rows) = read_csv(&dir.path().join("m.csv"));
    let x = header.iter().position(|h| h == "x").unwrap();
    for r in &rows {
        // trained k = 4: x = cos(2t)
        assert!((r[x] - (2.0 * r[0]).cos()).abs() < 1e-3, "{r:?}");
    }
}

#[test]
fn a_diverging_run_ends_alone_and_fails_the_block_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ics.csv", "x\n0.01\n1\n0.02\n");
    let src = "system blow { coord x; L = x'^2/2 + x^4; }
simulate blow { init = \"ics.csv\"; t_end = 3; dt = 0.01; out = \"blow.csv\"; }
simulate blow { init x = 0.01; t_end = 1; dt = 0.5; out = \"never.csv\"; }
";
    let lag = write(dir.path(), "b.lag", src);
    let o = lagc_in(dir.path(), &["run", &lag]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("1 of 3 runs diverged")
            && err.contains("run 1: the step dt = 0.01 does not resolve the dynamics"),
        "{err}"
    );
    assert!(err.contains("the other 2 runs finished"), "{err}");
    let (header, rows) = read_csv(&dir.path().join("blow.csv"));
    let run = header.iter().position(|h| h == "run").unwrap();
    for r in [0.0, 2.0] {
        let last = rows
            .iter()
            .filter(|row| row[run] == r)
            .map(|row| row[0])
            .fold(0.0, f64::max);
        assert_eq!(last, 3.0, "run {r} reaches t_end");
    }
    let last1 = rows
        .iter()
        .filter(|row| row[run] == 1.0)
        .map(|row| row[0])
        .fold(0.0, f64::max);
    assert!(last1 > 0.0 && last1 < 3.0, "{last1}");
    assert!(!dir.path().join("never.csv").exists());
}

#[test]
fn no_train_reuses_the_saved_weights() {
    let dir = tempfile::tempdir().unwrap();
    let src = "system truth { coord x; param k = 4; L = x'^2/2 - k*x^2/2; }
system model { coord x; learn k = 1; L = x'^2/2 - k*x^2/2; }
train model { data = sample(truth, n = 256, seed = 1, x = uniform(-1, 1), x' = uniform(-1, 1));
              steps = 400; batch = 32; lr = 0.05; val = 0; save = \"k.weights\"; }
simulate model { init x = 1; t_end = 1; dt = 0.05; out = \"m.csv\"; }
";
    let lag = write(dir.path(), "k.lag", src);
    // without the saved file, the learn param keeps its initial value k = 1
    let o = lagc_in(dir.path(), &["run", &lag, "--no-train"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("train model: skipped (--no-train)\n"));
    let (_, rows) = read_csv(&dir.path().join("m.csv"));
    assert!((rows[20][1] - 1f64.cos()).abs() < 1e-3, "{:?}", rows[20]);
    // train once, then the trained k = 4 comes from k.weights
    assert!(lagc_in(dir.path(), &["run", &lag]).status.success());
    std::fs::remove_file(dir.path().join("m.csv")).unwrap();
    let o = lagc_in(dir.path(), &["run", &lag, "--no-train"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("using k.weights"),
        "{}",
        text(&o.stdout)
    );
    let (_, rows) = read_csv(&dir.path().join("m.csv"));
    assert!((rows[20][1] - 2f64.cos()).abs() < 1e-3, "{:?}", rows[20]);
}
