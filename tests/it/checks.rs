//! What `lagc check` catches before anything runs, and the diagnostics a physicist
//! meets on the command line: one test per mistake, asserting the exit status and the
//! message (rendered diagnostics are pinned by snapshots).

use crate::common::lagc_in;
use std::path::Path;

const SPRING: &str = "system s {\n    coord x;\n    param k = 1;\n    L = x'^2/2 - k*x^2/2;\n}\n";
const HAMILTON: &str = "system h {\n    coord x;\n    momentum p;\n    H = p^2/2 + x^2/2;\n}\n";
const LEARN: &str = "system l {\n    coord x;\n    learn k = 1;\n    L = x'^2/2 - k*x^2/2;\n}\n";
const NET: &str =
    "system m {\n    coord x;\n    net f = mlp(in: 1, hidden: [8]);\n    L = x'^2/2 - f(x);\n}\n";

/// Exit status, stdout and stderr (the temporary folder's path replaced by `[DIR]`).
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let o = lagc_in(dir, args);
    let clean = |b: &[u8]| {
        let s = String::from_utf8_lossy(b).into_owned();
        let d = dir.canonicalize().unwrap();
        s.replace(&d.display().to_string(), "[DIR]")
            .replace(&dir.display().to_string(), "[DIR]")
    };
    (o.status.code(), clean(&o.stdout), clean(&o.stderr))
}

/// A folder holding `t.lag` with `src`, and the other files given.
fn folder(src: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.lag"), src).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// `lagc check t.lag` of `src` (plus `extra` flags): the exit status and stderr.
fn check(src: &str, files: &[(&str, &str)], extra: &[&str]) -> (Option<i32>, String) {
    let dir = folder(src, files);
    let mut args = vec!["check", "t.lag"];
    args.extend_from_slice(extra);
    let (code, _, err) = run(dir.path(), &args);
    (code, err)
}

/// `lagc check` of `src` exits 1 with a message containing `needle`; returns stderr.
fn check_fails(src: &str, needle: &str) -> String {
    let (code, err) = check(src, &[], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(needle), "{err}");
    err
}

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn misspelled_param_keyword_suggests_param() {
    let (code, err) = check(
        "system s {\n    coord x;\n    parm k = 1;\n    L = x'^2/2 - k*x^2/2;\n}\n",
        &[],
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("t.lag:3:5"), "{err}");
    assert!(err.contains("did you mean `param`?"), "{err}");
    snapshot("misspelled_param", &err);
}

#[test]
fn output_folders_that_do_not_exist_are_errors_before_any_block_runs() {
    let src = format!(
        "{SPRING}{NET}\
         simulate s {{ init x = 1; t_end = 1; dt = 0.5; out = \"first.csv\"; }}\n\
         simulate s {{ init x = 1; t_end = 1; dt = 0.5; out = \"nodir/a.csv\"; plot = \"nodir/a.png\"; }}\n\
         train m {{ data = sample(s, n = 10, x = uniform(0, 1), x' = uniform(0, 1)); steps = 1; save = \"nodir/w.safetensors\"; }}\n"
    );
    let dir = folder(&src, &[]);
    let (code, out, err) = run(dir.path(), &["check", "t.lag"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err.matches("the folder nodir does not exist").count(),
        3,
        "{err}"
    );
    snapshot("output_folder_missing", &err);
    // `run` refuses it before the first block writes anything.
    let (code, _, err2) = run(dir.path(), &["run", "t.lag", "--quiet"]);
    assert_eq!(code, Some(1));
    assert_eq!(err, err2);
    assert!(!dir.path().join("first.csv").exists());
}

#[test]
fn an_output_path_that_is_a_folder_is_an_error() {
    let src = format!("{SPRING}simulate s {{ init x = 1; t_end = 1; dt = 0.5; out = \"sub\"; }}\n");
    let dir = folder(&src, &[]);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let (code, _, err) = run(dir.path(), &["check", "t.lag"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("sub is a folder, not a file"), "{err}");
}

#[test]
fn simulate_flags_with_a_missing_folder_or_plot_format_fail_before_running() {
    let dir = folder(SPRING, &[]);
    let base = [
        "simulate", "t.lag", "--system", "s", "--init", "x=1", "--t-end", "1", "--dt", "0.5",
    ];
    for (extra, code, needle) in [
        (&["--out", "nodir/a.csv"][..], 1, "error: --out: cannot write nodir/a.csv: the folder nodir does not exist"),
        (&["--plot", "nodir/a.png"], 1, "error: --plot: cannot write nodir/a.png: the folder nodir does not exist"),
        (&["--plot", "a.jpg"], 2, "error: --plot a.jpg: unknown plot format (expected a file name ending in .png or .svg)"),
    ] {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        let (c, out, err) = run(dir.path(), &args);
        assert_eq!(c, Some(code), "{args:?}: {err}");
        assert_eq!(err.trim_end(), needle, "{args:?}");
        assert!(out.is_empty(), "{out}");
    }
    let (c, _, err) = run(
        dir.path(),
        &[
            "accel",
            "t.lag",
            "--system",
            "s",
            "--states",
            "x.csv",
            "--out",
            "nodir/o.csv",
        ],
    );
    assert_eq!(c, Some(1));
    assert!(
        err.contains("--out: cannot write nodir/o.csv: the folder nodir does not exist"),
        "{err}"
    );
}

#[test]
fn two_blocks_writing_one_file_is_an_error_at_the_second() {
    let src = format!(
        "{SPRING}{NET}\
         simulate s {{ init x = 1; t_end = 1; dt = 0.5; out = \"a.csv\"; }}\n\
         simulate s {{ init x = 2; t_end = 1; dt = 0.5; out = \"./a.csv\"; }}\n\
         train m {{ data = sample(s, n = 10, x = uniform(0, 1)); steps = 1; save = \"w.st\"; }}\n\
         simulate s {{ init x = 2; t_end = 1; dt = 0.5; out = \"w.loss.csv\"; }}\n"
    );
    let err = check_fails(&src, "t.lag:12:53");
    assert!(
        err.contains("first written by `out = \"a.csv\"` at line 11:53"),
        "{err}"
    );
    assert!(err.contains("`save = \"w.st\"` at line 13:"), "{err}");
    snapshot("duplicate_outputs", &err);
    // Devices take any number of writers.
    let dev = format!(
        "{SPRING}simulate s {{ init x = 1; t_end = 1; dt = 0.5; out = \"/dev/null\"; }}\n\
         simulate s {{ init x = 1; t_end = 1; dt = 0.5; out = \"/dev/null\"; }}\n"
    );
    assert_eq!(check(&dev, &[], &[]).0, Some(0));
}

#[test]
fn a_truth_without_the_models_coordinates_is_an_error() {
    let src = format!(
        "{SPRING}{NET}system y {{\n    coord y;\n    L = y'^2/2;\n}}\n\
         train y {{ data = sample(s, n = 10, x = uniform(0, 1)); steps = 1; }}\n"
    );
    let err = check_fails(
        &src,
        "`y` has the coordinate `y`, which the truth `s` lacks",
    );
    snapshot("truth_lacks_coordinate", &err);
    // An analytic truth only.
    let src = format!(
        "{SPRING}{NET}train s {{ data = sample(m, n = 10, x = uniform(0, 1)); steps = 1; }}\n"
    );
    check_fails(&src, "the truth `m` calls neural nets");
    // Accelerations from an H truth.
    let src = format!(
        "{SPRING}{HAMILTON}system hx {{\n    coord x;\n    learn k = 1;\n    L = x'^2/2 - k*x^2/2;\n}}\n\
         train hx {{ data = sample(h, n = 10, x = uniform(0, 1)); steps = 1; }}\n"
    );
    check_fails(
        &src,
        "needs accelerations, and the truth `h` is an H system",
    );
}

#[test]
fn compare_between_incompatible_systems_is_an_error() {
    let src = format!(
        "{SPRING}{HAMILTON}simulate s {{ init x = 1; t_end = 1; dt = 0.5; compare = h; }}\n"
    );
    let err = check_fails(&src, "`s` and `h` cannot be compared");
    snapshot("compare_h_with_l", &err);
    let src = format!(
        "{SPRING}system two {{\n    coord x, y;\n    L = x'^2/2 + y'^2/2;\n}}\n\
         simulate s {{ init x = 1; t_end = 1; dt = 0.5; compare = two; }}\n"
    );
    check_fails(
        &src,
        "the truth `two` has the coordinate `y`, which `s` lacks",
    );
}

#[test]
fn reversed_uniform_bounds_and_negative_sd_are_errors() {
    let src = format!(
        "{SPRING}simulate s {{ init = sample(n = 3, x = uniform(1, -1), x' = normal(0, -0.5)); t_end = 1; dt = 0.5; }}\n"
    );
    let err = check_fails(&src, "uniform(1, -1) has its bounds reversed");
    assert!(
        err.contains("normal(0, -0.5) has a negative standard deviation"),
        "{err}"
    );
    snapshot("bad_distributions", &err);
}

#[test]
fn unreadable_weights_files_are_errors() {
    let src = format!(
        "{SPRING}{NET}simulate m {{ init x = 1; t_end = 1; dt = 0.5; weights = \"missing.safetensors\"; }}\n"
    );
    let err = check_fails(&src, "cannot read weights file missing.safetensors");
    snapshot("block_weights_missing", &err);
    // A file that is not safetensors.
    let (code, err) = check(&src, &[("missing.safetensors", "not weights")], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("t.lag:11:57"), "{err}");
    // The flag, for every command (and `check` with no block needing it).
    for cmd in [&["check", "t.lag"][..], &["derive", "t.lag"]] {
        let dir = folder(SPRING, &[]);
        let mut args = cmd.to_vec();
        args.extend(["--weights", "missing"]);
        let (code, _, err) = run(dir.path(), &args);
        assert_eq!(code, Some(1), "{args:?}");
        assert!(
            err.starts_with("error: --weights: cannot read weights file missing"),
            "{err}"
        );
    }
    // A system with nets and no weights at all.
    let src = format!("{SPRING}{NET}simulate m {{ init x = 1; t_end = 1; dt = 0.5; }}\n");
    let (code, err) = check(&src, &[], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(
            "system `m` calls neural nets and needs weights, which this block does not give"
        ),
        "{err}"
    );
}

#[test]
fn an_mlp_without_hidden_layers_is_a_warning() {
    let src = "system m {\n    coord x;\n    net f = mlp(in: 1, hidden: [], act: softplus);\n    L = x'^2/2 - f(x);\n}\n";
    let (code, err) = check(src, &[], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("Warning: net `f` has no hidden layer"),
        "{err}"
    );
    snapshot("mlp_without_hidden", &err);
}

#[test]
fn non_finite_csv_cells_are_errors() {
    let nan = "x,x'\n1,0\n2,nan\n";
    // `lagc accel --states`.
    let dir = folder(SPRING, &[("st.csv", nan)]);
    let (code, out, err) = run(
        dir.path(),
        &["accel", "t.lag", "--system", "s", "--states", "st.csv"],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err,
        "error: st.csv: line 3, column \"x'\": NaN is not a finite number (states must be finite)\n"
    );
    // Initial states of a block, caught by `check`.
    let src = format!("{SPRING}simulate s {{ init = \"ics.csv\"; t_end = 1; dt = 0.5; }}\n");
    let (code, err) = check(&src, &[("ics.csv", "x,x'\n1,inf\n")], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("line 2, column \"x'\": inf is not a finite number"),
        "{err}"
    );
    // Training data, caught by `check` (a NaN in a column training ignores is fine).
    let src = format!("{LEARN}train l {{ data = \"d.csv\"; steps = 1; }}\n");
    let (code, err) = check(
        &src,
        &[("d.csv", "x,x',x'',energy\n1,0,-1,nan\n2,0,NaN,nan\n")],
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("d.csv: line 3, column \"x''\": NaN is not a finite number"),
        "{err}"
    );
    let (code, err) = check(&src, &[("d.csv", "x,x',x'',energy\n1,0,-1,nan\n")], &[]);
    assert_eq!(code, Some(0), "{err}");
    // Columns training needs, also found by `check`: no targets and no `t` to
    // differentiate, or a missing coordinate.
    for (csv, needle) in [
        ("x,x'\n1,0\n2,1\n", "missing column \"x''\""),
        ("y,x',x''\n1,0,-1\n", "missing column \"x\""),
    ] {
        let (code, err) = check(&src, &[("d.csv", csv)], &[]);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains("d.csv") && err.contains(needle),
            "{csv}: {err}"
        );
    }
}

#[test]
fn header_only_csvs() {
    let header = "x,x',x''\n";
    // Training data and initial states: errors at the file name.
    let src = format!(
        "{LEARN}train l {{ data = \"d.csv\"; steps = 1; }}\n\
         simulate l {{ init = \"d.csv\"; t_end = 1; dt = 0.5; }}\n"
    );
    let (code, err) = check(&src, &[("d.csv", header)], &[]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err.matches("d.csv has a header but no rows").count(),
        2,
        "{err}"
    );
    snapshot("header_only_csv", &err);
    // `lagc accel`: an empty table in, an empty table out, with a warning.
    let dir = folder(SPRING, &[("st.csv", "x,x'\n")]);
    let (code, out, err) = run(
        dir.path(),
        &["accel", "t.lag", "--system", "s", "--states", "st.csv"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "x'',energy\n");
    assert!(
        err.contains("warning: st.csv: the file has a header but no rows"),
        "{err}"
    );
}

#[test]
fn a_block_set_overriding_a_command_line_set_is_a_warning() {
    let src = format!("{SPRING}simulate s {{ set k = 2; init x = 1; t_end = 1; dt = 0.5; }}\n");
    let (code, err) = check(&src, &[], &["--set", "k=3"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("`set k = 2` in this block overrides `--set k=3`"),
        "{err}"
    );
    snapshot("block_set_overrides_cli_set", &err);
    // The same value, or no --set: nothing to say.
    assert_eq!(
        check(&src, &[], &["--set", "k=2"]),
        (Some(0), String::new())
    );
    assert_eq!(check(&src, &[], &[]), (Some(0), String::new()));
}

#[test]
fn tolerances_without_dopri5_are_warnings() {
    let src = format!(
        "{SPRING}simulate s {{ init x = 1; t_end = 1; dt = 0.5; method = rk4; rtol = 1e-3; }}\n"
    );
    let (code, err) = check(&src, &[], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("`rtol` has no effect with `method = rk4`"),
        "{err}"
    );
    snapshot("rtol_with_rk4", &err);
    let dir = folder(SPRING, &[]);
    let (code, _, err) = run(
        dir.path(),
        &[
            "simulate",
            "t.lag",
            "--system",
            "s",
            "--init",
            "x=1",
            "--t-end",
            "1",
            "--dt",
            "0.5",
            "--method",
            "variational",
            "--atol",
            "1e-6",
            "--quiet",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("warning: --atol has no effect with --method variational"),
        "{err}"
    );
}

#[test]
fn negative_numeric_flags_reach_lagcs_own_checks() {
    let dir = folder(SPRING, &[]);
    for (flag, needle) in [
        ("--dt", "error: --dt -0.1: expected a positive number"),
        ("--t-end", "error: --t-end -0.1: expected a positive number"),
        ("--rtol", "error: --rtol -0.1: expected a positive number"),
    ] {
        let mut args = vec![
            "simulate", "t.lag", "--system", "s", "--t-end", "1", "--dt", "0.5",
        ];
        match args.iter().position(|a| *a == flag) {
            Some(k) => args[k + 1] = "-0.1",
            None => args.extend([flag, "-0.1"]),
        }
        let (code, _, err) = run(dir.path(), &args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let (code, _, err) = run(
        dir.path(),
        &["bench", "t.lag", "--system", "s", "--n", "-5"],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid value '-5' for '--n <N>'"), "{err}");
}

#[test]
fn init_flag_takes_expressions() {
    let dir = folder(SPRING, &[]);
    let (code, out, err) = run(
        dir.path(),
        &[
            "simulate",
            "t.lag",
            "--system",
            "s",
            "--init",
            "x=k/4,x'=2*pi/5",
            "--t-end",
            "1",
            "--dt",
            "0.5",
            "--set",
            "k=2",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let first = out.lines().nth(1).unwrap();
    let cells: Vec<f64> = first.split(',').map(|c| c.parse().unwrap()).collect();
    assert_eq!(cells[1], 0.5);
    assert_eq!(cells[2], 2.0 * std::f64::consts::PI / 5.0);
    // A mistake in it is located in the flag's text (exit status 2).
    let (code, out, err) = run(
        dir.path(),
        &[
            "simulate",
            "t.lag",
            "--system",
            "s",
            "--init",
            "x=1,x'=2*pii",
            "--t-end",
            "1",
            "--dt",
            "0.5",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("--init:1:10"), "{err}");
    snapshot("init_flag_unknown_name", &err);
}

#[test]
fn quiet_keeps_warnings_of_simulate_and_train() {
    let singular = "system s { coord x, y; L = (x' + y')^2/2 - x^2/2 - y^2/2; }\n";
    let dir = folder(singular, &[]);
    let (code, _, err) = run(
        dir.path(),
        &[
            "simulate", "t.lag", "--system", "s", "--init", "x=1", "--t-end", "1", "--dt", "0.5",
            "--quiet",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("warning: system `s`: the mass matrix d2L/dq'dq' was singular"),
        "{err}"
    );
    let src = "system l {\n    coord x;\n    learn k = 1;\n    L = x'^2/2 - k*x^2/2;\n}\ntrain l { data = \"d.csv\"; steps = 2; }\n";
    let dir = folder(src, &[("d.csv", "t,x\n0,1\n0.1,2\n0.2,3\n0.3,4\n")]);
    let (code, _, err) = run(dir.path(), &["run", "t.lag", "--quiet"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("estimated them by central differences"),
        "{err}"
    );
}
