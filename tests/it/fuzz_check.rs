//! Property tests: no input makes the parse + check + render pipeline panic, and every
//! outcome is either a model or at least one error.

use lagc::diagnostics::render;
use proptest::prelude::*;
use std::path::Path;

/// Runs the pipeline on `src`; returns true for "ok". Panics (the failure proptest
/// reports) when the outcome is inconsistent or a span is outside the text.
fn pipeline(src: &str) -> bool {
    let diags = match lagc::syntax::parse(src) {
        Err(d) => {
            assert!(d.is_error(), "a syntax diagnostic must be an error");
            vec![d]
        }
        Ok(ast) => {
            let checked = lagc::check::check(src, &ast, &[]);
            let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
            assert_eq!(
                checked.model.is_some(),
                errors == 0,
                "model present exactly when there are no errors"
            );
            if errors == 0 {
                let _ = render("fuzz.lag", src, &checked.diagnostics);
                return true;
            }
            checked.diagnostics
        }
    };
    for d in &diags {
        assert!(
            d.span.start <= d.span.end && d.span.end <= src.len(),
            "span {:?} outside 0..{} for {:?}",
            d.span,
            src.len(),
            d.message
        );
        assert!(
            src.is_char_boundary(d.span.start) && src.is_char_boundary(d.span.end),
            "span {:?} splits a character for {:?}",
            d.span,
            d.message
        );
    }
    let text = render("fuzz.lag", src, &diags);
    assert!(text.contains("fuzz.lag:"), "{text}");
    false
}

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lag"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

const TOKENS: &[&str] = &[
    "system",
    "simulate",
    "train",
    "coord",
    "momentum",
    "param",
    "learn",
    "let",
    "net",
    "L",
    "H",
    "accel",
    "dissipation",
    "force",
    "sum",
    "in",
    "pi",
    "t",
    "periodic",
    "init",
    "set",
    "sample",
    "mlp",
    "x",
    "y",
    "phi",
    "i",
    "f",
    "sin",
    "cos",
    "atan2",
    "uniform",
    "0",
    "1",
    "2.5",
    ".5",
    "1e-3",
    "1.",
    "1e",
    "0..4",
    "'",
    "''",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "^",
    "-",
    "+",
    "*",
    "/",
    "=",
    ":",
    ",",
    ";",
    "..",
    "\"a.csv\"",
    "\"",
    "#",
    "\n",
    " ",
    "é",
    "θ",
    "in:",
    "out:",
    "hidden:",
    "act:",
    "t_end",
    "dt",
    "steps",
    "data",
    "n",
];

/// Edits applied to an example, byte positions taken modulo the length and moved
/// back to a character boundary.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Duplicate(usize, usize),
    Swap(usize, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<usize>(), 0usize..60).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), any::<usize>(), 1usize..30).prop_map(|(a, b, n)| Edit::Swap(a, b, n)),
    ]
}

fn floor(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(src: &str, e: &Edit) -> String {
    let n = src.len().max(1);
    let range = |a: usize, len: usize| {
        let a = floor(src, a % n);
        (a, floor(src, a + len))
    };
    match *e {
        Edit::Delete(a, len) => {
            let (a, b) = range(a, len);
            format!("{}{}", &src[..a], &src[b..])
        }
        Edit::Insert(a, t) => {
            let a = floor(src, a % n);
            format!("{}{t}{}", &src[..a], &src[a..])
        }
        Edit::Duplicate(a, len) => {
            let (a, b) = range(a, len);
            format!("{}{}{}", &src[..b], &src[a..b], &src[b..])
        }
        Edit::Swap(a, b, len) => {
            let (a0, a1) = range(a, len);
            let (b0, b1) = range(b, len);
            if a1 <= b0 {
                format!(
                    "{}{}{}{}{}",
                    &src[..a0],
                    &src[b0..b1],
                    &src[a1..b0],
                    &src[a0..a1],
                    &src[b1..]
                )
            } else {
                src.to_string()
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    // 256 cases keeps CI fast; PROPTEST_CASES=N runs more locally.
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let src = String::from_utf8_lossy(&bytes);
        pipeline(&src);
    }

    #[test]
    fn random_token_strings_never_panic(
        toks in prop::collection::vec(prop::sample::select(TOKENS), 0..120),
        sep in prop::sample::select(&[" ", "", "\n"][..]),
    ) {
        pipeline(&toks.join(sep));
    }

    #[test]
    fn mutated_examples_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..5),
    ) {
        let all = examples();
        let mut src = which.get(&all).clone();
        for e in &edits {
            src = apply(&src, e);
        }
        pipeline(&src);
    }
}

#[test]
fn the_examples_themselves_check() {
    for src in examples() {
        assert!(pipeline(&src));
    }
}

/// Spans at the very end of the text and next to multi-byte characters render.
#[test]
fn edge_positions_render() {
    for src in [
        "system p { coord θ; L = θ'^2 }",
        "system é",
        "system p { coord x; L = x'^2/2 + ñ; }",
        "system p { coord x; L = x'^2/2; }\nsimulate p { out = \"é",
        "é",
        "\u{feff}system p { coord x; L = x'^2; }",
        "system p { coord x; L = x'^2; } # ünïcödé at the end",
        "system p { coord x; L = 1.é; }",
    ] {
        pipeline(src);
    }
}

/// The real binary on a few mutated files: exit 0 or 1, never a panic or a signal.
#[test]
fn binary_on_mutated_files_exits_0_or_1() {
    let dir = tempfile::tempdir().unwrap();
    let all = examples();
    let cases: Vec<(usize, Edit)> = vec![
        (0, Edit::Delete(300, 7)),
        (1, Edit::Insert(500, "'")),
        (2, Edit::Insert(400, "[")),
        (3, Edit::Duplicate(350, 40)),
        (4, Edit::Swap(300, 420, 12)),
        (5, Edit::Insert(600, "^")),
        (6, Edit::Delete(250, 30)),
        (7, Edit::Insert(700, "}")),
        (8, Edit::Insert(800, "-(")),
        (0, Edit::Insert(0, "")),
    ];
    for (k, (which, e)) in cases.iter().enumerate() {
        let src = apply(&all[which % all.len()], e);
        let path = dir.path().join(format!("m{k}.lag"));
        std::fs::write(&path, &src).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lagc"))
            .arg("check")
            .arg(&path)
            .output()
            .unwrap();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "exit {code:?} on\n{src}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if code == Some(1) {
            assert!(out.stdout.is_empty());
            assert!(!out.stderr.is_empty());
        }
    }
}

/// Seeded mutations of the examples: `(example index, mutated text)`, the same on every
/// machine (proptest's deterministic runner).
fn seeded_mutations(count: usize) -> Vec<(usize, String)> {
    use proptest::strategy::ValueTree;
    let all = examples();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (0..all.len(), prop::collection::vec(edit(), 1..4));
    (0..count)
        .map(|_| {
            let (which, edits) = strategy.new_tree(&mut runner).unwrap().current();
            let src = edits.iter().fold(all[which].clone(), |s, e| apply(&s, e));
            (which, src)
        })
        .collect()
}

/// The property of the stress issue: under a 2 GB address-space limit (`prlimit
/// --as`), `check`, `derive` and `run` of any mutated example exit 0, 1 or 2 with a
/// message; never a panic (101), an abort or another signal. `run` is limited to the
/// examples without `train` blocks and to 10 s (a mutation can lengthen a simulation;
/// `timeout`'s 124 counts as "no crash"). PROPTEST_CASES scales the number of files.
#[test]
fn binary_under_an_address_space_limit_never_crashes() {
    let files = (cases() as usize / 4).max(8);
    let dir = tempfile::tempdir().unwrap();
    let mut outcomes = [0usize; 3];
    for (k, (_, src)) in seeded_mutations(files).into_iter().enumerate() {
        let path = dir.path().join(format!("m{k}.lag"));
        std::fs::write(&path, &src).unwrap();
        let mut commands = vec!["check", "derive"];
        if !src.contains("train ") {
            commands.push("run");
        }
        for command in commands {
            let out = std::process::Command::new("prlimit")
                .arg("--as=2147483648")
                .args(["timeout", "-s", "KILL", "10"])
                .arg(env!("CARGO_BIN_EXE_lagc"))
                .args([command, path.to_str().unwrap(), "--quiet"])
                .current_dir(dir.path())
                .output()
                .expect("prlimit and timeout (util-linux, coreutils) are installed");
            let code = out.status.code();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                matches!(code, Some(0..=2 | 137)),
                "`lagc {command}` exited {code:?} on\n{src}\n{err}"
            );
            if let Some(c @ 1..=2) = code {
                outcomes[c as usize] += 1;
                assert!(err.contains("rror"), "`lagc {command}`: no message\n{err}");
                assert!(!err.contains("panicked"), "{err}");
            } else if code == Some(0) {
                outcomes[0] += 1;
            }
        }
    }
    eprintln!("{files} mutated files: {outcomes:?} commands exited 0, 1, 2");
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
