//! `lagc train` through the binary: the fitted constant, the files it writes, flags,
//! checkpoints and `--resume`, CSV data (with derivatives or by central differences),
//! Ctrl-C, and its errors.

use crate::common::ROD_SYSTEMS;
use std::path::Path;
use std::process::{Command, Output};

fn lagc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lagc"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Reads the scalar tensor `name` of a safetensors file (parsed independently here).
fn scalar(path: &Path, name: &str) -> f64 {
    let b = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    let h: serde_json::Value = serde_json::from_slice(&b[8..8 + n]).unwrap();
    let t = &h[name];
    assert_eq!(t["dtype"], "F64");
    assert_eq!(t["shape"], serde_json::json!([]));
    let start = t["data_offsets"][0].as_u64().unwrap() as usize + 8 + n;
    f64::from_le_bytes(b[start..start + 8].try_into().unwrap())
}

const FIT: &str = "
system truth { coord th; param m = 1.3, l = 0.8, g = 9.81;
    L = 0.5*m*l^2*th'^2 + m*g*l*cos(th); }
system fit { coord th; param m = 1.3, l = 0.8; learn g = 3;
    L = 0.5*m*l^2*th'^2 + m*g*l*cos(th); }
train fit {
    data = sample(truth, n = 1000, seed = 3, th = uniform(-3, 3), th' = normal(0, 2));
    steps = 600; batch = 32; lr = 0.3; lr_decay = 0.0001; seed = 4;
    save = \"fit.weights\";
}
";

/// A model whose coordinate the truth lacks: refused by the checker.
const FAR: &str = "
system far { coord other; L = other'^2; }
train far {
    data = sample(truth, n = 10, seed = 0);
    steps = 1;
}
";

#[test]
fn trains_saves_weights_and_a_loss_curve() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fit.lag"), FIT).unwrap();
    let o = lagc(
        dir.path(),
        &["train", "fit.lag", "--system", "fit", "--quiet"],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("train fit: 600 steps, batch 32, 900 training and 100 validation rows"),
        "{out}"
    );
    assert!(
        out.contains("wrote fit.weights") && out.contains("wrote fit.loss.csv"),
        "{out}"
    );
    let g = scalar(&dir.path().join("fit.weights"), "g");
    assert!((g - 9.81).abs() < 1e-3, "{g}");
    let png = std::fs::read(dir.path().join("fit.loss.png")).expect("the loss curve's plot");
    assert_eq!(&png[..4], b"\x89PNG");
    let curve = std::fs::read_to_string(dir.path().join("fit.loss.csv")).unwrap();
    let mut lines = curve.lines();
    assert_eq!(lines.next(), Some("step,loss,val_loss,lr"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 200);
    assert_eq!(rows.last().unwrap()[0], 600.0);
    // lr at the last step k = 599: 0.3 * 1e-4^(599/600)
    let lr = 0.3 * 1e-4f64.powf(599.0 / 600.0);
    assert!((rows.last().unwrap()[3] - lr).abs() < 1e-15);
    assert!(rows.last().unwrap()[2] < 1e-6 * rows[0][2]);
}

#[test]
fn resume_from_a_checkpoint_gives_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fit.lag"), FIT).unwrap();
    let base = ["train", "fit.lag", "--system", "fit", "--quiet"];
    let o = lagc(dir.path(), &[&base[..], &["--save", "a.weights"]].concat());
    assert!(o.status.success(), "{:?}", text(&o));
    // A run with checkpoints every 250 steps leaves the one of step 500.
    let o = lagc(
        dir.path(),
        &[&base[..], &["--save", "b.weights", "--checkpoint", "250"]].concat(),
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let o = lagc(
        dir.path(),
        &[
            &base[..],
            &["--save", "c.weights", "--resume", "b.weights.ckpt"],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
    assert_eq!(read("a.weights"), read("c.weights"));
    assert_eq!(read("a.loss.csv"), read("c.loss.csv"));
    // Another seed is another run: its checkpoint is refused.
    let o = lagc(
        dir.path(),
        &[&base[..], &["--seed", "9", "--resume", "b.weights.ckpt"]].concat(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("another run"), "{:?}", text(&o));
}

#[test]
fn csv_data_with_targets_and_by_central_differences() {
    let dir = tempfile::tempdir().unwrap();
    // Exact data of a spring x'' = -k x / m with k/m = 4: x = cos(2t), and its samples.
    let mut full = String::from("t,x,x',x''\n");
    let mut pos = String::from("run,t,x\n");
    for run in 0..3 {
        let a = 1.0 + run as f64;
        for i in 0..400 {
            let t = i as f64 * 0.01;
            let x = a * (2.0 * t).cos();
            full += &format!("{t},{x},{},{}\n", -2.0 * a * (2.0 * t).sin(), -4.0 * x);
            pos += &format!("{run},{t},{x}\n");
        }
    }
    std::fs::write(dir.path().join("full.csv"), full).unwrap();
    std::fs::write(dir.path().join("pos.csv"), pos).unwrap();
    let lag = "system s { coord x; param m = 1; learn k = 1; L = m*x'^2/2 - k*x^2/2; }
train s { data = \"full.csv\"; steps = 500; lr = 0.2; lr_decay = 0.001; save = \"k.weights\"; }";
    std::fs::write(dir.path().join("s.lag"), lag).unwrap();
    let o = lagc(dir.path(), &["train", "s.lag", "--system", "s", "--quiet"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let k = scalar(&dir.path().join("k.weights"), "k");
    assert!((k - 4.0).abs() < 1e-4, "{k}");
    // Positions only: a warning, and k within the O(dt^2) error of central differences.
    let o = lagc(
        dir.path(),
        &["train", "s.lag", "--system", "s", "--data", "pos.csv"],
    );
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("central differences") && err.contains("1194 rows"),
        "{err}"
    );
    let k = scalar(&dir.path().join("k.weights"), "k");
    assert!((k - 4.0).abs() < 1e-3, "{k}");
}

#[test]
fn errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fit.lag"), FIT).unwrap();
    let run = |args: &[&str]| {
        let o = lagc(dir.path(), args);
        (o.status.code(), text(&o).1)
    };
    let (code, err) = run(&["train", "fit.lag", "--system", "nope"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = run(&["train", "fit.lag", "--system", "truth"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no `train truth"), "{err}");
    let (code, err) = run(&["train", "fit.lag", "--system", "fit", "--val", "1.5"]);
    assert_eq!(code, Some(2), "{err}");
    std::fs::write(dir.path().join("far.lag"), format!("{FIT}{FAR}")).unwrap();
    let (code, err) = run(&["train", "far.lag", "--system", "far"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("`other`, which the truth `truth` lacks"),
        "{err}"
    );
    std::fs::write(dir.path().join("bad.csv"), "th,th'\n1,2\n").unwrap();
    let (code, err) = run(&["train", "fit.lag", "--system", "fit", "--data", "bad.csv"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("th''"), "{err}");
    let (code, err) = run(&[
        "train",
        "fit.lag",
        "--system",
        "fit",
        "--resume",
        "none.ckpt",
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("none.ckpt"), "{err}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_saves_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fit.lag"), FIT).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_lagc"))
        .current_dir(dir.path())
        .args([
            "train",
            "fit.lag",
            "--system",
            "fit",
            "--steps",
            "100000000",
            "--quiet",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let ckpt = dir.path().join("fit.weights.ckpt");
    // Wait until training runs (the handler is installed before the first step).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("interrupted at step") && err.contains("--resume fit.weights.ckpt"),
        "{err}"
    );
    assert!(std::fs::read(&ckpt).unwrap().starts_with(b"LAGCCKPT"));
}

#[test]
fn per_sample_params_and_time_and_block_set() {
    // The truth's g varies per sample; the model receives it through its own param g,
    // so only the length l is left to fit (th'' = -(g/l) sin th). A drive A sin(t) with
    // t sampled too, and the block's `set` fixing the model's mass.
    let lag = "
system truth { coord th; param m = 2, l = 0.8, g = 9.81, A = 1.5;
    L = 0.5*m*l^2*th'^2 + m*g*l*cos(th); force th = A*sin(t); }
system fit { coord th; param m = 1, g = 1; learn l = 2, A = 0;
    L = 0.5*m*l^2*th'^2 + m*g*l*cos(th); force th = A*sin(t); }
train fit {
    data = sample(truth, n = 2000, seed = 1, th = uniform(-3, 3), th' = normal(0, 1),
                  g = uniform(1, 20), t = uniform(0, 6));
    set m = 2;
    steps = 1500; lr = 0.1; lr_decay = 0.0001; loss = l1; save = \"p.weights\";
}
";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.lag"), lag).unwrap();
    let o = lagc(
        dir.path(),
        &["train", "p.lag", "--system", "fit", "--quiet"],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let w = dir.path().join("p.weights");
    let (l, a) = (scalar(&w, "l"), scalar(&w, "A"));
    assert!((l - 0.8).abs() < 1e-3, "l = {l}");
    assert!((a - 1.5).abs() < 1e-2, "A = {a}");
    // g is an input, not a trained tensor.
    let b = std::fs::read(&w).unwrap();
    let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    let h: serde_json::Value = serde_json::from_slice(&b[8..8 + n]).unwrap();
    assert!(h.get("g").is_none(), "{h}");
}

#[test]
fn a_small_lnn_learns_a_double_pendulum() {
    let lag = "
system truth { coord t1, t2; param g = 9.8;
    L = t1'^2 + t2'^2/2 + t1'*t2'*cos(t1 - t2) + 2*g*cos(t1) + g*cos(t2); }
system lnn { coord t1, t2; net f = mlp(in: 4, hidden: [32, 32], act: softplus, init: xavier);
    L = f(t1, t2, t1', t2'); }
train lnn {
    data = sample(truth, n = 2000, seed = 0, t1 = uniform(-1, 1), t2 = uniform(-1, 1),
                  t1' = uniform(-1, 1), t2' = uniform(-1, 1));
    steps = 800; batch = 32; lr = 1e-2; lr_decay = 0.1; seed = 1;
    save = \"lnn.safetensors\";
}
";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lnn.lag"), lag).unwrap();
    let o = lagc(
        dir.path(),
        &["train", "lnn.lag", "--system", "lnn", "--quiet"],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let curve = std::fs::read_to_string(dir.path().join("lnn.loss.csv")).unwrap();
    let val: Vec<f64> = curve
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    // The validation loss falls well below where it starts.
    assert!(val[val.len() - 1] < 0.05 * val[0], "{val:?}");
    // The weights file holds the net's tensors with their shapes.
    let b = std::fs::read(dir.path().join("lnn.safetensors")).unwrap();
    let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    let h: serde_json::Value = serde_json::from_slice(&b[8..8 + n]).unwrap();
    assert_eq!(h["f.w0"]["shape"], serde_json::json!([4, 32]));
    assert_eq!(h["f.b2"]["shape"], serde_json::json!([1]));
}

#[test]
fn starts_from_a_weights_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fit.lag"), FIT).unwrap();
    let o = lagc(
        dir.path(),
        &["train", "fit.lag", "--system", "fit", "--quiet"],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    // From the fitted g, one tiny step keeps it (and the report shows it).
    let o = lagc(
        dir.path(),
        &[
            "train",
            "fit.lag",
            "--system",
            "fit",
            "--quiet",
            "--weights",
            "fit.weights",
            "--steps",
            "1",
            "--lr",
            "1e-12",
            "--save",
            "again.weights",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let g = scalar(&dir.path().join("again.weights"), "g");
    assert!((g - 9.81).abs() < 1e-3, "{g}");
    // A net system needs every net tensor, with its shape.
    let lnn = "system truth { coord x; L = x'^2/2 - x^2/2; }
system lnn { coord x; learn k = 1; net f = mlp(in: 2, hidden: [4]); L = k*f(x, x'); }
train lnn { data = sample(truth, n = 10, seed = 0, x = uniform(0, 1)); steps = 1;
            weights = \"fit.weights\"; }";
    std::fs::write(dir.path().join("lnn.lag"), lnn).unwrap();
    let o = lagc(dir.path(), &["train", "lnn.lag", "--system", "lnn"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("tensor `f.w0` is missing"),
        "{:?}",
        text(&o)
    );
    std::fs::write(dir.path().join("junk.weights"), b"12345678junk").unwrap();
    let o = lagc(
        dir.path(),
        &[
            "train",
            "lnn.lag",
            "--system",
            "lnn",
            "--weights",
            "junk.weights",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("junk.weights"), "{:?}", text(&o));
}

/// A constrained system trains from the command line on states projected onto the
/// truth's rod.
#[test]
fn trains_a_constrained_system() {
    let src = ROD_SYSTEMS.to_string()
        + "
train fit {
    data = sample(truth, n = 1000, seed = 3, x = uniform(-1, 1), y = uniform(-1, 1),
                  x' = normal(0, 2), y' = normal(0, 2));
    steps = 3000; batch = 32; lr = 0.3; lr_decay = 1e-6; seed = 4;
    save = \"fit.weights\";
}
";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cart.lag"), src).unwrap();
    let o = lagc(
        dir.path(),
        &["train", "cart.lag", "--system", "fit", "--quiet"],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let g = scalar(&dir.path().join("fit.weights"), "g");
    assert!((g - 9.81).abs() < 1e-6, "{g}");
}
