//! The error corpus: every file in `tests/errors/` has exactly one mistake, and the
//! rendered diagnostics for it are pinned by an insta snapshot named after the file.
//! A few generated inputs (empty file, 1 MB of garbage, deep nesting) are checked too.

use lagc::diagnostics::{render, Diagnostic};
use std::path::{Path, PathBuf};

/// What the `lagc check` pipeline reports for one source: the rendered text and the
/// number of errors (0 when the file checks).
struct Outcome {
    rendered: String,
    errors: usize,
}

/// Parse and check `text` as `lagc check` does, rendering every diagnostic.
fn pipeline(name: &str, text: &str) -> Outcome {
    let ast = match lagc::syntax::parse(text) {
        Ok(ast) => ast,
        Err(d) => {
            return Outcome {
                errors: usize::from(d.is_error()),
                rendered: render(name, text, &[d]),
            }
        }
    };
    let checked = lagc::check::check(text, &ast, &[]);
    let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
    assert_eq!(
        errors == 0,
        checked.model.is_some(),
        "{name}: a model must exist exactly when there is no error"
    );
    Outcome {
        rendered: render(name, text, &checked.diagnostics),
        errors,
    }
}

/// Read a corpus file the way the CLI does; unreadable text is one error.
fn run_file(path: &Path) -> Outcome {
    let name = format!(
        "tests/errors/{}",
        path.file_name().unwrap().to_string_lossy()
    );
    match lagc::driver::read_source(path) {
        Ok(text) => pipeline(&name, &text),
        Err(e) => {
            let f = lagc::cli::Failure::from(e);
            assert_eq!(f.status, lagc::cli::EXIT_USER);
            Outcome {
                rendered: f.message.replace(&path.display().to_string(), &name),
                errors: 1,
            }
        }
    }
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/errors")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lag"))
        .collect();
    files.sort();
    files
}

/// Errors expected per file where the count is not 1.
const EXPECTED_ERRORS: &[(&str, usize)] = &[];

#[test]
fn corpus_is_big_enough_and_documented() {
    let files = corpus();
    assert!(files.len() >= 35, "only {} corpus files", files.len());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            bytes.starts_with(b"# "),
            "{} must start with a `# what is wrong` comment",
            f.display()
        );
    }
}

#[test]
fn every_corpus_file_fails_with_a_located_diagnostic() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();
    let mut failures = vec![];
    for path in corpus() {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let out = run_file(&path);
        let expected = EXPECTED_ERRORS
            .iter()
            .find(|(n, _)| *n == stem)
            .map_or(1, |(_, k)| *k);
        if out.errors != expected {
            failures.push(format!(
                "{stem}: {} errors, expected {expected}\n{}",
                out.errors, out.rendered
            ));
        }
        if !out.rendered.contains(&format!("tests/errors/{stem}.lag:")) {
            failures.push(format!("{stem}: no file:line:col\n{}", out.rendered));
        }
        insta::assert_snapshot!(stem.as_str(), out.rendered);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Generated inputs that are not worth committing.
#[test]
fn generated_inputs() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let _guard = settings.bind_to_scope();

    let empty = pipeline("empty.lag", "");
    assert_eq!(empty.errors, 1);
    insta::assert_snapshot!("gen_empty_file", empty.rendered);

    let whitespace = pipeline("blank.lag", "\n\n   \n");
    assert_eq!(whitespace.errors, 1);
    insta::assert_snapshot!("gen_blank_file", whitespace.rendered);

    // 1 MB of pseudo-random printable garbage and newlines (a fixed LCG: reproducible).
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let garbage: String = (0..1 << 20)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let b = (state >> 33) as u8 % 96;
            if b == 95 {
                '\n'
            } else {
                (b + 32) as char
            }
        })
        .collect();
    let out = pipeline("garbage.lag", &garbage);
    assert_eq!(out.errors, 1, "{}", out.rendered);
    insta::assert_snapshot!("gen_garbage_1mb", out.rendered);

    // Nested parentheses are rejected before any recursion: 100,000 of them must not
    // overflow the stack; the snapshot uses a short (but still too deep) nest.
    let parens = |n: usize| {
        format!(
            "system p {{\n    coord x;\n    L = {}x'{};\n}}\n",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    let out = pipeline("deep.lag", &parens(100_000));
    assert_eq!(out.errors, 1);
    assert!(out.rendered.contains("expression nested too deeply"));
    assert!(out.rendered.contains("deep.lag:3:209"), "{}", out.rendered);
    let out = pipeline("deep.lag", &parens(lagc::syntax::MAX_NESTING + 5));
    assert_eq!(out.errors, 1);
    insta::assert_snapshot!("gen_deep_parens", out.rendered);

    // Just under the limit still parses and checks.
    let depth = lagc::syntax::MAX_NESTING;
    let ok = format!(
        "system p {{\n    coord x;\n    L = {}x'{};\n}}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let out = pipeline("ok.lag", &ok);
    assert_eq!(out.errors, 0, "{}", out.rendered);

    // A deep chain of `^` and unary minus.
    let chain = |n: usize| {
        format!(
            "system p {{\n    coord x;\n    L = x'^2 + x{};\n}}\n",
            "^-x".repeat(n)
        )
    };
    let out = pipeline("chain.lag", &chain(100_000));
    assert_eq!(out.errors, 1);
    assert!(out.rendered.contains("expression nested too deeply"));
    let out = pipeline("chain.lag", &chain(lagc::syntax::MAX_NESTING / 2 + 5));
    assert_eq!(out.errors, 1);
    insta::assert_snapshot!("gen_deep_power_chain", out.rendered);
}

/// Diagnostics carry errors, not only warnings, for every corpus file; and none of
/// them points outside its text.
#[test]
fn spans_are_inside_the_text() {
    for path in corpus() {
        let Ok(text) = lagc::driver::read_source(&path) else {
            continue;
        };
        let diags: Vec<Diagnostic> = match lagc::syntax::parse(&text) {
            Err(d) => vec![d],
            Ok(ast) => lagc::check::check(&text, &ast, &[]).diagnostics,
        };
        for d in diags {
            assert!(
                d.span.start <= d.span.end && d.span.end <= text.len(),
                "{}: span {:?} outside 0..{}",
                path.display(),
                d.span,
                text.len()
            );
        }
    }
}
