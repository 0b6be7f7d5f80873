//! Net systems against an independent reference: `tests/data/nn/make_fixture.py` writes
//! the weights (safetensors, by hand) and the accelerations and energies it computes
//! with numpy from finite-difference derivatives of the same Lagrangians. lagc reads the
//! weights, propagates jets through the nets, joins them to the analytic parts by the
//! chain rule and solves; both must agree. Also: `lagc accel --weights`, the errors for
//! files that do not fit, and writing weights back.

use crate::common;

use common::{checked_model, compile_system};
use lagc::backend::{self, Kind, SharedNets};
use lagc::check::Model;
use lagc::kernel::{NetEval, Op};
use lagc::nn::nets::learn_values;
use lagc::nn::{SystemNets, Weights};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

const DIR: &str = "tests/data/nn";

fn path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR).join(name)
}

fn model() -> Model {
    let src = std::fs::read_to_string(path("nets.lag")).expect("fixture .lag");
    checked_model(&src, &[])
}

fn weights() -> Weights {
    Weights::from_bytes(&std::fs::read(path("nets.safetensors")).expect("fixture weights"))
        .expect("parses")
}

/// Header and rows of a numeric CSV.
fn csv(text: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(|c| c.parse().expect("number")).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("column {name}"))
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * (1.0 + want.abs()),
        "{what}: lagc {got} vs numpy {want}"
    );
}

/// q'' and the energy of system `name` through `backend::create(.., kind, ..)`,
/// compared with the numpy CSV.
fn check_system(name: &str, kind: Kind) {
    let m = model();
    let k = m.system_index(name).expect("system");
    let sys = &m.systems[k];
    let (eom, program) = compile_system(&m, k);
    assert!(program.has_nets());
    let w = weights();
    let nets: SharedNets = Arc::new(SystemNets::from_weights(sys, &w).expect("weights fit"));
    let learns = learn_values(sys, &w).expect("learns");
    let mut be = backend::create(program, kind, Some(nets));
    let (header, rows) = csv(&std::fs::read_to_string(path(&format!("{name}.csv"))).expect("csv"));
    let inputs = eom.input_names();
    let outputs = eom.output_names();
    let n_state = 2 * eom.dof();
    let mut input = vec![0.0; be.n_inputs()];
    let mut output = vec![0.0; be.n_outputs()];
    let mut batch_in = Vec::new();
    for row in &rows {
        for (i, n) in inputs[..n_state].iter().enumerate() {
            input[i] = row[col(&header, n)];
        }
        input[n_state] = 0.0;
        input[n_state + 1..].copy_from_slice(&learns);
        batch_in.extend_from_slice(&input);
        be.eval(&input, &mut output).expect("evaluates");
        for (o, n) in output.iter().zip(&outputs) {
            close(*o, row[col(&header, n)], &format!("{name} {n} at {row:?}"));
        }
    }
    let mut batch_out = vec![0.0; rows.len() * outputs.len()];
    be.eval_batch(&batch_in, &mut batch_out).expect("batch");
    for (row, out) in rows.iter().zip(batch_out.chunks(outputs.len())) {
        for (o, n) in out.iter().zip(&outputs) {
            close(*o, row[col(&header, n)], &format!("{name} {n} (batch)"));
        }
    }
}

#[test]
fn tiny_lnn_matches_numpy() {
    check_system("lnn", Kind::Interp);
    check_system("lnn", Kind::Jit);
}

#[test]
fn hybrid_matches_numpy() {
    check_system("hybrid", Kind::Interp);
    check_system("hybrid", Kind::Jit);
}

#[test]
fn nets_of_subexpressions_lets_and_learns_match_numpy() {
    check_system("mixed", Kind::Interp);
    check_system("mixed", Kind::Jit);
    // The learn value comes from the file, not the declaration.
    let m = model();
    let sys = &m.systems[m.system_index("mixed").expect("mixed")];
    assert_eq!(sys.learns[0].1, 0.5);
    assert_eq!(learn_values(sys, &weights()).expect("k"), vec![0.75]);
}

#[test]
fn each_net_call_is_one_block_and_batches_agree() {
    let m = model();
    let k = m.system_index("mixed").expect("mixed");
    let (_, program) = compile_system(&m, k);
    // V(a - b), V(2a), T(a', b' cos a): three calls, three blocks.
    let blocks: Vec<_> = program
        .insts
        .iter()
        .filter_map(|i| match &i.op {
            Op::Net { net, args, lanes } => Some((*net, args.clone(), lanes.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(blocks.len(), 3);
    let nets = SystemNets::from_weights(&m.systems[k], &weights()).expect("fit");
    for (net, args, lanes) in blocks {
        let rows = 50;
        let x: Vec<f64> = (0..rows * args.len())
            .map(|i| ((i * 31 % 97) as f64) / 30.0 - 1.5)
            .collect();
        let mut batch = vec![0.0; rows * lanes.len()];
        nets.eval_batch(net, &x, &lanes, &mut batch);
        for r in 0..rows {
            let mut one = vec![0.0; lanes.len()];
            nets.eval(
                net,
                &x[r * args.len()..(r + 1) * args.len()],
                &lanes,
                &mut one,
            );
            for (a, b) in batch[r * lanes.len()..(r + 1) * lanes.len()]
                .iter()
                .zip(&one)
            {
                assert!((a - b).abs() <= 1e-13 * (1.0 + b.abs()));
            }
        }
    }
}

#[test]
fn weights_round_trip_through_safetensors() {
    let w = weights();
    let again = Weights::from_bytes(&w.to_bytes().expect("encodes")).expect("decodes");
    assert_eq!(w, again);
    let m = model();
    let sys = &m.systems[m.system_index("mixed").expect("mixed")];
    let nets = SystemNets::from_weights(sys, &w).expect("fit");
    let written = nets.to_weights(sys, &[0.75]);
    let back = Weights::from_bytes(&written.to_bytes().expect("encodes")).expect("decodes");
    assert_eq!(SystemNets::from_weights(sys, &back).expect("fit"), nets);
    assert_eq!(learn_values(sys, &back).expect("k"), vec![0.75]);
    let names: Vec<&str> = back.names().collect();
    assert_eq!(
        names,
        ["T.b0", "T.b1", "T.w0", "T.w1", "V.b0", "V.b1", "V.b2", "V.w0", "V.w1", "V.w2", "k"]
    );
}

fn lagc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("lagc runs")
}

#[test]
fn accel_command_reads_weights() {
    for name in ["lnn", "hybrid", "mixed"] {
        let states = format!("{DIR}/{name}.csv");
        let o = lagc(&[
            "accel",
            &format!("{DIR}/nets.lag"),
            "--system",
            name,
            "--states",
            &states,
            "--weights",
            &format!("{DIR}/nets.safetensors"),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        let (h_out, out) = csv(&String::from_utf8_lossy(&o.stdout));
        let (h_ref, reference) =
            csv(&std::fs::read_to_string(path(&format!("{name}.csv"))).expect("csv"));
        assert_eq!(out.len(), reference.len());
        for (got, want) in out.iter().zip(&reference) {
            for (k, n) in h_out.iter().enumerate() {
                close(
                    got[k],
                    want[col(&h_ref, n)],
                    &format!("lagc accel {name} {n}"),
                );
            }
        }
    }
}

/// Writes `tensors` (name, dtype, shape, little-endian bytes) as a safetensors file.
fn write_raw(file: &Path, tensors: &[(&str, safetensors::Dtype, Vec<usize>, Vec<u8>)]) {
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.to_string(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).expect("view"),
            )
        })
        .collect();
    std::fs::write(
        file,
        safetensors::tensor::serialize(views, None).expect("serialize"),
    )
    .expect("write");
}

fn f64s(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (0.01 * i as f64).to_le_bytes())
        .collect()
}

#[test]
fn weights_that_do_not_fit_are_errors_naming_the_tensor() {
    use safetensors::Dtype;
    let dir = tempfile::tempdir().expect("tempdir");
    let hybrid_ok = |skip: &str| -> Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> {
        let all: Vec<(&'static str, Dtype, Vec<usize>, Vec<u8>)> = vec![
            ("V.w0", Dtype::F64, vec![1, 8], f64s(8)),
            ("V.b0", Dtype::F64, vec![8], f64s(8)),
            ("V.w1", Dtype::F64, vec![8, 8], f64s(64)),
            ("V.b1", Dtype::F64, vec![8], f64s(8)),
            ("V.w2", Dtype::F64, vec![8, 1], f64s(8)),
            ("V.b2", Dtype::F64, vec![1], f64s(1)),
            ("unused", Dtype::F32, vec![2], vec![0; 8]),
        ];
        all.into_iter().filter(|t| t.0 != skip).collect()
    };
    let run = |file: &Path| {
        lagc(&[
            "accel",
            &format!("{DIR}/nets.lag"),
            "--system",
            "hybrid",
            "--states",
            &format!("{DIR}/hybrid.csv"),
            "--weights",
            file.to_str().expect("utf-8 path"),
        ])
    };
    // A complete file (with an unused tensor of another dtype) is fine.
    let ok = dir.path().join("ok.safetensors");
    write_raw(&ok, &hybrid_ok(""));
    assert_eq!(run(&ok).status.code(), Some(0));
    // Missing.
    let f = dir.path().join("missing.safetensors");
    write_raw(&f, &hybrid_ok("V.b1"));
    let o = run(&f);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("`V.b1`") && err.contains("missing"), "{err}");
    assert!(o.stdout.is_empty());
    // Wrong shape.
    let mut t = hybrid_ok("V.w1");
    t.push(("V.w1", Dtype::F64, vec![8, 4], f64s(32)));
    write_raw(&f, &t);
    let err = String::from_utf8_lossy(&run(&f).stderr).to_string();
    assert!(
        err.contains("`V.w1`") && err.contains("[8, 4]") && err.contains("[8, 8]"),
        "{err}"
    );
    // Wrong dtype.
    let mut t = hybrid_ok("V.w2");
    t.push(("V.w2", Dtype::F32, vec![8, 1], vec![0; 32]));
    write_raw(&f, &t);
    let err = String::from_utf8_lossy(&run(&f).stderr).to_string();
    assert!(err.contains("`V.w2`") && err.contains("F32"), "{err}");
    // Not a safetensors file at all.
    std::fs::write(&f, b"hello").expect("write");
    let o = run(&f);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("safetensors"));
    // No weights.
    let o = lagc(&[
        "accel",
        &format!("{DIR}/nets.lag"),
        "--system",
        "hybrid",
        "--states",
        &format!("{DIR}/hybrid.csv"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs weights: give --weights FILE"));
    // A missing learn param is named too.
    let o = lagc(&[
        "accel",
        &format!("{DIR}/nets.lag"),
        "--system",
        "mixed",
        "--states",
        &format!("{DIR}/mixed.csv"),
        "--weights",
        ok.to_str().expect("utf-8"),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("`T.w0`"), "{err}");
}

#[test]
fn weights_paths_resolve_flag_first_then_the_block_relative_to_the_lag_file() {
    use lagc::cli::weights::{for_command, resolve};
    let lag = Path::new("some/dir/model.lag");
    assert_eq!(
        resolve(Some(Path::new("w.safetensors")), Some("b.weights"), lag),
        Some("w.safetensors".into())
    );
    assert_eq!(
        resolve(None, Some("b.weights"), lag),
        Some(Path::new("some/dir").join("b.weights"))
    );
    assert_eq!(resolve(None, None, lag), None);
    // A block path next to the fixture's .lag file loads its nets and learn values.
    let m = model();
    let sys = &m.systems[m.system_index("mixed").expect("mixed")];
    let (nets, learns) =
        for_command(sys, None, Some("nets.safetensors"), &path("nets.lag")).expect("loads");
    assert!(nets.is_some());
    assert_eq!(learns, vec![0.75]);
    // Without any weights: refused for nets.
    let err = for_command(sys, None, None, &path("nets.lag"))
        .err()
        .expect("refused");
    assert_eq!(err.status, 1);
    assert!(err.message.contains("needs weights: give --weights FILE"));
}

#[test]
fn learn_params_without_nets_take_the_file_value_when_given() {
    use lagc::cli::weights::for_command;
    let m = checked_model(
        "system s { coord x; learn g = 3; L = 0.5*x'^2 - g*x; }",
        &[],
    );
    let sys = &m.systems[0];
    let lag = Path::new("s.lag");
    let (nets, learns) = for_command(sys, None, None, lag).expect("no weights needed");
    assert!(nets.is_none());
    assert_eq!(learns, vec![3.0]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("g.safetensors");
    let mut w = Weights::new();
    w.insert_scalar("g", 9.81);
    std::fs::write(&file, w.to_bytes().expect("encodes")).expect("write");
    let (_, learns) = for_command(sys, Some(&file), None, lag).expect("loads");
    assert_eq!(learns, vec![9.81]);
}

#[test]
fn misfitting_buffers_and_unknown_nets_give_nan() {
    let m = model();
    let sys = &m.systems[m.system_index("hybrid").expect("hybrid")];
    let nets = SystemNets::from_weights(sys, &weights()).expect("fit");
    let lanes = [lagc::kernel::NetLane {
        out: 0,
        partials: Box::new([]),
    }];
    let mut out = [0.0; 2];
    nets.eval_batch(0, &[0.1, 0.2, 0.3], &lanes, &mut out); // 3 rows for 2 outputs
    assert!(out.iter().all(|v| v.is_nan()));
    let mut out = [0.0; 1];
    nets.eval(5, &[0.1], &lanes, &mut out);
    assert!(out[0].is_nan());
    nets.eval(0, &[0.1], &lanes, &mut out);
    let mut v = [0.0];
    nets.mlps()[0].forward(&[0.1], &mut v);
    assert_eq!(out[0], v[0]);
}
