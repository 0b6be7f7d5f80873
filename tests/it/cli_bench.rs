//! `lagc bench` and `lagc emit --ir clif` from the command line.

use std::process::{Command, Output};

fn lagc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("lagc runs")
}

#[test]
fn bench_json_has_the_contract_keys_and_sane_values() {
    let o = lagc(&[
        "bench",
        "examples/double_pendulum.lag",
        "--system",
        "double_pendulum",
        "--n",
        "200",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    for key in [
        "compile_ms",
        "jit_ns_per_eval",
        "interp_ns_per_eval",
        "derive_ms",
        "speedup",
    ] {
        let x = v[key].as_f64().unwrap_or(f64::NAN);
        assert!(x.is_finite() && x > 0.0, "{key} = {x}");
    }
    assert_eq!(v["n"], 200);
    assert_eq!(v["system"], "double_pendulum");
}

#[test]
fn bench_text_and_bad_command_lines() {
    let o = lagc(&[
        "bench",
        "examples/pendulum.lag",
        "--system",
        "pendulum",
        "--n",
        "50",
    ]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in ["JIT compile", "ns/state", "interpreter", "speedup"] {
        assert!(text.contains(needle), "{text}");
    }
    let o = lagc(&["bench", "examples/pendulum.lag", "--system", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    let o = lagc(&[
        "bench",
        "examples/pendulum.lag",
        "--system",
        "pendulum",
        "--n",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn emit_clif_prints_the_compiled_function() {
    let o = lagc(&[
        "emit",
        "examples/pendulum.lag",
        "--system",
        "pendulum",
        "--ir",
        "clif",
    ]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("; u0:0 = lagc_kernel"), "{text}");
    assert!(
        text.contains("function u0:0(i64, i64, i64, i64) -> i64"),
        "{text}"
    );
    assert!(text.contains("return"), "{text}");
}

#[test]
fn bench_of_a_net_system_uses_seeded_weights_and_measures_training() {
    let o = lagc(&[
        "bench",
        "examples/hybrid_spring_pendulum.lag",
        "--system",
        "hybrid",
        "--n",
        "64",
        "--json",
        "--train",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("seeded initial weights"));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    for key in [
        "compile_ms",
        "jit_ns_per_eval",
        "interp_ns_per_eval",
        "train_samples_per_s",
    ] {
        let x = v[key].as_f64().unwrap_or(f64::NAN);
        assert!(x.is_finite() && x > 0.0, "{key} = {x}");
    }
    // a system without a train block cannot measure training
    let o = lagc(&[
        "bench",
        "examples/pendulum.lag",
        "--system",
        "pendulum",
        "--train",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no train block"));
}
