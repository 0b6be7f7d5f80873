//! The real `lagc` binary: `lagc check` output streams and exit statuses.

use clap::CommandFactory;
use lagc::cli::Cli;
use std::path::Path;
use std::process::{Command, Output};

fn lagc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run lagc")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const PENDULUM: &str = "examples/pendulum.lag";

#[test]
fn clap_definitions_are_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn check_of_an_example_prints_the_summary() {
    let out = lagc(&["check", PENDULUM]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("pendulum"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "one line per system: {stdout}");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn a_bad_file_exits_1_with_the_diagnostic_on_stderr() {
    let file = "tests/errors/unknown_name.lag";
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(file).exists());
    let out = lagc(&["check", file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("unknown name `gg`"), "{err}");
    assert!(err.contains("tests/errors/unknown_name.lag:5:18"), "{err}");
}

#[test]
fn a_missing_file_exits_1() {
    let out = lagc(&["check", "no/such/file.lag"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("cannot read"));
}

#[test]
fn set_of_an_unknown_param_exits_2() {
    let out = lagc(&["check", PENDULUM, "--set", "nosuch=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("nosuch"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn set_with_a_non_number_exits_2() {
    for bad in ["g=abc", "g", "=1", "g=inf", "1g=2"] {
        let out = lagc(&["check", PENDULUM, "--set", bad]);
        assert_eq!(out.status.code(), Some(2), "--set {bad}");
        assert!(out.stdout.is_empty(), "--set {bad}");
    }
}

#[test]
fn unknown_subcommands_and_flags_exit_2() {
    for args in [
        &["frobnicate", PENDULUM][..],
        &["check", PENDULUM, "--no-such-flag"],
        &["check"],
        &[],
        &["check", PENDULUM, "--backend", "gpu"],
    ] {
        let out = lagc(args);
        assert_eq!(out.status.code(), Some(2), "lagc {args:?}");
        assert!(out.stdout.is_empty(), "lagc {args:?}");
    }
}

#[test]
fn set_of_a_known_param_changes_nothing_visible() {
    let plain = lagc(&["check", PENDULUM]);
    let set = lagc(&["check", PENDULUM, "--set", "g=1.62"]);
    assert_eq!(set.status.code(), Some(0), "{}", text(&set.stderr));
    assert_eq!(plain.stdout, set.stdout);
}

#[test]
fn invalid_utf8_exits_1_with_a_location() {
    let out = lagc(&["check", "tests/errors/invalid_utf8.lag"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("not valid UTF-8"), "{err}");
    assert!(err.contains("invalid_utf8.lag:3:"), "{err}");
}
