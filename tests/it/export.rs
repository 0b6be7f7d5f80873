//! `lagc export`: the object file, linked into a C driver, against `lagc accel`; the
//! header in C and C++; the object's undefined symbols; an aarch64 object read back.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every symbol an exported object may leave undefined (libm's and libc's): exp, log,
/// tanh, atan, atan2 and sin/cos of moderate arguments are inline code.
const LIBC: &[&str] = &[
    "sin", "cos", "tan", "asin", "acos", "sinh", "cosh", "pow", "sincos", "malloc", "free",
];

/// Systems without nets beyond the examples: an H system, an accel system, a learn
/// param, a time-dependent force, a singular mass matrix.
const EXTRA: &str = "
system osc_h {
    coord q; momentum p;
    param k = 3;
    H = p^2/2 + k*q^2/2 + q^4/4;
}
system hand {
    coord x, y;
    param w = 2;
    accel x = -w^2*x + atan2(y, 1 + x^2) + sinh(x)/10 + tanh(y),
          y = -y*abs(x) + exp(-x^2) + log(1 + y^2) + (1 + x^2)^0.3 + asin(x/10) + acos(y/10) + atan(x) + cosh(y)/10 + tan(x/10);
}
system fit {
    coord x;
    learn g = 5;
    param m = 2;
    L = m*x'^2/2 - m*g*x;
}
system spin {
    coord a;
    L = cos(a)^2*a'^2/2 - a^2/2;
}
";

fn lagc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("lagc runs")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn has(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_ok(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("command runs");
    assert!(
        o.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A deterministic pseudo-random number in [-1, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The C driver: reads rows of inputs from `in.bin`, writes the outputs of
/// `lagc_S_accel`, then per row `lagc_S_rhs` and `lagc_S_energy`, to `out.bin`.
fn driver(s: &str) -> String {
    let up = s.to_uppercase();
    format!(
        r#"#include <stdio.h>
#include <stdlib.h>
#include "{s}.h"
int main(int argc, char **argv) {{
    size_t rows = (size_t)atol(argv[1]), ni = LAGC_{up}_N_INPUTS, no = LAGC_{up}_N_OUTPUTS;
    size_t ns = LAGC_{up}_N_STATE, r;
    double *in = malloc(rows * ni * sizeof *in), *out = malloc(rows * no * sizeof *out);
    double *dy = malloc(rows * ns * sizeof *dy), *e = malloc(rows * sizeof *e);
    FILE *f = fopen("in.bin", "rb");
    int singular, s2 = 0;
    (void)argc;
    if (fread(in, sizeof *in, rows * ni, f) != rows * ni) return 3;
    fclose(f);
    singular = lagc_{s}_accel(in, out, rows);
    for (r = 0; r < rows; r++) {{
        const double *row = in + r * ni;
        s2 += lagc_{s}_rhs(row[ns], row, dy + r * ns, row + ns + 1);
        lagc_{s}_energy(row[ns], row, e + r, row + ns + 1);
    }}
    f = fopen("out.bin", "wb");
    fwrite(out, sizeof *out, rows * no, f);
    fwrite(dy, sizeof *dy, rows * ns, f);
    fwrite(e, sizeof *e, rows, f);
    fclose(f);
    printf("%d %d\n", singular, s2);
    return 0;
}}
"#
    )
}

fn read_f64s(p: &Path) -> Vec<f64> {
    std::fs::read(p)
        .unwrap()
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Same number to `rel` relative (NaN equals NaN).
fn close(a: f64, b: f64, rel: f64) -> bool {
    a.to_bits() == b.to_bits() || (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// Exports `system` of `file` into a fresh folder; returns it.
fn export(file: &Path, system: &str, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "export",
        path_str(file),
        "--system",
        system,
        "--out",
        path_str(dir.path()),
        "--quiet",
    ];
    args.extend(extra);
    let o = lagc(&args);
    assert!(
        o.status.success(),
        "export {system}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    dir
}

/// Exports, compiles the driver, runs it on `rows` random states and compares with
/// `lagc accel` (and rhs and energy with the same numbers) to 1e-12 relative.
/// Returns how many values were bitwise equal, of how many.
fn check_system(file: &Path, system: &str, scale: f64, rows: usize) -> (usize, usize) {
    let model = lagc::Model::load(file, &[]).unwrap();
    let sys = model.system(system, lagc::Backend::Jit).unwrap();
    let dir = export(file, system, &[]);
    let d = dir.path();
    let names = sys.state_names().to_vec();
    let (n, nl) = (sys.dof(), sys.learn_values().len());
    let mut rng = Lcg(system.len() as u64 * 7919 + 1);
    let mut inputs: Vec<f64> = Vec::new();
    let mut csv = names.join(",") + ",t\n";
    for _ in 0..rows {
        let row: Vec<f64> = (0..2 * n + 1).map(|_| scale * rng.next()).collect();
        let cells: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
        csv += &(cells.join(",") + "\n");
        inputs.extend(&row);
        inputs.extend(sys.learn_values());
    }
    std::fs::write(d.join("states.csv"), csv).unwrap();
    let bytes: Vec<u8> = inputs.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(d.join("in.bin"), bytes).unwrap();
    std::fs::write(d.join("driver.c"), driver(system)).unwrap();
    let obj = format!("{system}.o");
    run_ok(
        Command::new("cc")
            .current_dir(d)
            .args([
                "-std=c99", "-Wall", "-Werror", "-O1", "-o", "driver", "driver.c",
            ])
            .arg(&obj)
            .arg("-lm"),
    );
    let o = run_ok(
        Command::new(d.join("driver"))
            .current_dir(d)
            .arg(rows.to_string()),
    );
    let counts = String::from_utf8_lossy(&o.stdout).trim().to_string();

    let reference = sys
        .eval(
            ndarray::Array2::from_shape_fn((rows, 2 * n), |(i, j)| {
                inputs[i * (2 * n + 1 + nl) + j]
            })
            .view(),
            lagc::driver::Times::Each(
                (0..rows)
                    .map(|i| inputs[i * (2 * n + 1 + nl) + 2 * n])
                    .collect(),
            ),
        )
        .unwrap();
    let (want, singular) = reference;
    // `lagc accel` prints what `System::eval` computes; check one row of it too
    let accel = lagc(&[
        "accel",
        path_str(file),
        "--system",
        system,
        "--states",
        path_str(&d.join("states.csv")),
        "--quiet",
    ]);
    assert!(accel.status.success());
    let text = String::from_utf8_lossy(&accel.stdout);
    let first: Vec<f64> = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(|c| c.trim().parse().unwrap())
        .collect();
    for (k, v) in first.iter().enumerate() {
        assert!(
            close(*v, want[[0, k]], 0.0),
            "{system}: lagc accel and eval differ"
        );
    }

    let got = read_f64s(&d.join("out.bin"));
    let no = want.ncols();
    let (acc, rest) = got.split_at(rows * no);
    let (dy, energy) = rest.split_at(rows * 2 * n);
    let (mut same, mut total) = (0, 0);
    let mut cmp = |what: &str, r: usize, a: f64, b: f64| {
        total += 1;
        if a.to_bits() == b.to_bits() {
            same += 1;
        }
        assert!(
            close(a, b, 1e-12),
            "{system} row {r} {what}: export {a}, lagc {b}"
        );
    };
    for r in 0..rows {
        let y = &inputs[r * (2 * n + 1 + nl)..];
        for k in 0..no {
            cmp("accel", r, acc[r * no + k], want[[r, k]]);
        }
        for k in 0..2 * n {
            let expect = match (sys.is_hamiltonian(), k < n) {
                (true, _) => want[[r, k]],
                (false, true) => y[n + k],
                (false, false) => want[[r, k - n]],
            };
            cmp("rhs", r, dy[r * 2 * n + k], expect);
        }
        cmp("energy", r, energy[r], want[[r, no - 1]]);
    }
    assert_eq!(
        counts,
        format!("{singular} {singular}"),
        "{system}: singular rows"
    );
    (same, total)
}

fn examples() -> Vec<(PathBuf, String)> {
    let mut out = vec![];
    let mut files: Vec<PathBuf> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "lag"))
        .collect();
    files.push("tests/data/reference/systems.lag".into());
    files.push("tests/data/chains/chain8.lag".into());
    files.sort();
    for f in files {
        let model = lagc::Model::load(&f, &[]).unwrap();
        for name in model.system_names() {
            out.push((f.clone(), name));
        }
    }
    out
}

#[test]
fn every_system_without_nets_matches_lagc_accel() {
    if !has("cc") {
        eprintln!("skipped: no C compiler `cc`");
        return;
    }
    let extra = tempfile::tempdir().unwrap();
    let extra_file = extra.path().join("extra.lag");
    std::fs::write(&extra_file, EXTRA).unwrap();
    let mut cases = examples();
    for s in ["osc_h", "hand", "fit", "spin"] {
        cases.push((extra_file.clone(), s.to_string()));
    }
    let mut exported = 0;
    for (file, name) in cases {
        let model = lagc::Model::load(&file, &[]).unwrap();
        let sys = model.system_model(&name).unwrap();
        // Nets and measured inputs are refused (a test below pins the message for nets).
        if !sys.nets.is_empty() || !sys.inputs.is_empty() {
            continue;
        }
        // `relativistic` needs |q'| < 1
        let scale = if name.contains("relativistic") {
            0.9
        } else {
            2.0
        };
        let (same, total) = check_system(&file, &name, scale, 100);
        eprintln!(
            "{}: {name}: {same} of {total} values bitwise equal",
            file.display()
        );
        exported += 1;
    }
    assert!(exported >= 15, "only {exported} systems exported");
}

#[test]
fn a_singular_mass_matrix_gives_nan_and_counts() {
    if !has("cc") {
        eprintln!("skipped: no C compiler `cc`");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.lag");
    // H = [[1, 1], [1, 1]] everywhere: singular at every state
    std::fs::write(
        &file,
        "system sing { coord x, y; L = (x' + y')^2/2 - x^2/2 - y^2/2; }",
    )
    .unwrap();
    let out = export(&file, "sing", &[]);
    let d = out.path();
    let rows = 3;
    let inputs: Vec<u8> = (0..rows * 5)
        .flat_map(|i| (i as f64 * 0.1).to_le_bytes())
        .collect();
    std::fs::write(d.join("in.bin"), inputs).unwrap();
    std::fs::write(d.join("driver.c"), driver("sing")).unwrap();
    run_ok(
        Command::new("cc")
            .current_dir(d)
            .args(["-o", "driver", "driver.c", "sing.o", "-lm"]),
    );
    let o = run_ok(
        Command::new(d.join("driver"))
            .current_dir(d)
            .arg(rows.to_string()),
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "3 3");
    let got = read_f64s(&d.join("out.bin"));
    assert!(got[0].is_nan() && got[1].is_nan() && got[2].is_finite());
}

#[test]
fn header_compiles_as_c99_and_cxx() {
    let dir = export(
        Path::new("examples/double_pendulum.lag"),
        "double_pendulum",
        &[],
    );
    let d = dir.path();
    std::fs::write(
        d.join("use.c"),
        "#include \"double_pendulum.h\"\nint main(void) { return LAGC_DOUBLE_PENDULUM_DOF - 2; }\n",
    )
    .unwrap();
    if has("cc") {
        run_ok(Command::new("cc").current_dir(d).args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-pedantic",
            "-Werror",
            "-c",
            "use.c",
        ]));
    } else {
        eprintln!("skipped C: no C compiler `cc`");
    }
    if has("c++") {
        std::fs::copy(d.join("use.c"), d.join("use.cpp")).unwrap();
        run_ok(
            Command::new("c++")
                .current_dir(d)
                .args(["-Wall", "-Wextra", "-Werror", "-c", "use.cpp"]),
        );
    } else {
        eprintln!("skipped C++: no C++ compiler `c++`");
    }
}

fn undefined(object: &[u8]) -> Vec<String> {
    use object::{Object, ObjectSymbol};
    let file = object::File::parse(object).expect("an object file");
    file.symbols()
        .filter(|s| s.is_undefined() && !s.name().unwrap_or("").is_empty())
        .map(|s| s.name().unwrap().to_string())
        .collect()
}

#[test]
fn the_object_needs_only_libm_and_libc() {
    // chain8 has a large solve (the LU function); hand calls every elementary function
    let extra = tempfile::tempdir().unwrap();
    let extra_file = extra.path().join("extra.lag");
    std::fs::write(&extra_file, EXTRA).unwrap();
    for (file, system) in [
        (Path::new("tests/data/chains/chain8.lag"), "chain8"),
        (extra_file.as_path(), "hand"),
    ] {
        let dir = export(file, system, &[]);
        let obj = dir.path().join(format!("{system}.o"));
        for name in undefined(&std::fs::read(&obj).unwrap()) {
            assert!(
                LIBC.contains(&name.as_str()),
                "{system}: undefined symbol {name}"
            );
        }
        if has("nm") {
            let o = run_ok(Command::new("nm").arg("-u").arg(&obj));
            for line in String::from_utf8_lossy(&o.stdout).lines() {
                let name = line.split_whitespace().last().unwrap_or("");
                assert!(LIBC.contains(&name), "{system}: nm -u shows {name}");
            }
        }
    }
}

#[test]
fn aarch64_object_reads_back() {
    use object::{Architecture, Object, ObjectSymbol};
    let dir = export(
        Path::new("tests/data/chains/chain8.lag"),
        "chain8",
        &["--target", "aarch64-unknown-linux-gnu"],
    );
    let bytes = std::fs::read(dir.path().join("chain8.o")).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    assert_eq!(file.architecture(), Architecture::Aarch64);
    assert_eq!(file.format(), object::BinaryFormat::Elf);
    let globals: Vec<String> = file
        .symbols()
        .filter(|s| s.is_global() && s.is_definition())
        .map(|s| s.name().unwrap().to_string())
        .collect();
    for f in ["lagc_chain8_accel", "lagc_chain8_rhs", "lagc_chain8_energy"] {
        assert!(
            globals.iter().any(|g| g == f),
            "{f} missing from {globals:?}"
        );
    }
    assert_eq!(globals.len(), 3, "{globals:?}");
    for name in undefined(&bytes) {
        assert!(LIBC.contains(&name.as_str()), "undefined symbol {name}");
    }
}

#[test]
fn shared_library_links() {
    if !has("cc") {
        eprintln!("skipped: no C compiler `cc`");
        return;
    }
    let dir = export(
        Path::new("examples/pendulum.lag"),
        "pendulum",
        &["--format", "shared"],
    );
    assert!(dir.path().join("libpendulum.so").is_file());
    assert!(dir.path().join("pendulum.h").is_file());
    assert!(!dir.path().join("pendulum.o").exists());
}

fn one_error_line(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );
    err
}

#[test]
fn refusals_are_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = path_str(dir.path());
    let o = lagc(&[
        "export",
        "examples/lnn_double_pendulum.lag",
        "--system",
        "lnn",
        "--out",
        out,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_error_line(&o).contains("net `lagrangian`"));
    let o = lagc(&[
        "export",
        "examples/pendulum.lag",
        "--system",
        "pendulum",
        "--out",
        out,
        "--target",
        "riscv64gc-unknown-linux-gnu",
    ]);
    assert_eq!(o.status.code(), Some(2));
    one_error_line(&o);
    let o = lagc(&[
        "export",
        "examples/pendulum.lag",
        "--system",
        "pendulum",
        "--out",
        out,
        "--target",
        "not-a-triple",
    ]);
    assert_eq!(o.status.code(), Some(2));
    one_error_line(&o);
    let o = lagc(&[
        "export",
        "examples/pendulum.lag",
        "--system",
        "nope",
        "--out",
        out,
    ]);
    assert_eq!(o.status.code(), Some(2));
    // nothing was written, no temporary files left
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_existing_file_is_replaced_whole() {
    let dir = export(Path::new("examples/pendulum.lag"), "pendulum", &[]);
    let h = dir.path().join("pendulum.h");
    let before = std::fs::read(&h).unwrap();
    let o = lagc(&[
        "export",
        "examples/pendulum.lag",
        "--system",
        "pendulum",
        "--out",
        path_str(dir.path()),
        "--quiet",
    ]);
    assert!(o.status.success());
    assert_eq!(std::fs::read(&h).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn weights_set_the_learn_values_in_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fit.lag");
    std::fs::write(&file, EXTRA).unwrap();
    let mut w = lagc::nn::Weights::new();
    w.insert_scalar("g", 7.25);
    let wpath = dir.path().join("w.safetensors");
    std::fs::write(&wpath, w.to_bytes().unwrap()).unwrap();
    let out = export(&file, "fit", &["--weights", path_str(&wpath)]);
    let h = std::fs::read_to_string(out.path().join("fit.h")).unwrap();
    assert!(h.contains("#define LAGC_FIT_N_PARAMS 1"), "{h}");
    assert!(
        h.contains("lagc_fit_param_values[LAGC_FIT_N_PARAMS] = {7.25};"),
        "{h}"
    );
    assert!(
        h.contains(r#"lagc_fit_inputs[LAGC_FIT_N_INPUTS] = {"x", "x'", "t", "g"};"#),
        "{h}"
    );
}
