//! Every example checks cleanly, and its `lagc check` summary is pinned by a snapshot.

use std::path::{Path, PathBuf};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lag"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_checks_without_errors() {
    let files = examples();
    assert!(!files.is_empty());
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_snapshot_suffix("summary");
    let _guard = settings.bind_to_scope();
    for path in files {
        let text = lagc::driver::read_source(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = path.display().to_string();
        let render =
            |d: &[lagc::diagnostics::Diagnostic]| lagc::diagnostics::render(&name, &text, d);
        let ast = lagc::syntax::parse(&text).unwrap_or_else(|d| panic!("{}", render(&[d])));
        let checked = lagc::check::check(&text, &ast, &[]);
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        assert!(errors.is_empty(), "{}", render(&errors));
        let model = checked.model.expect("a model without errors");
        let summary: String = model
            .systems
            .iter()
            .map(|s| format!("{}\n", s.summary()))
            .collect();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(stem, summary);
    }
}
