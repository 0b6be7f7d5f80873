//! What several commands share: loading a file with the common flags, finding a
//! `--system`, reading CSVs with located errors, deriving, the backend choice and
//! stdout. Invariant: nothing here knows a particular command (no import of a command
//! module), so the commands import it and never each other's helpers.

use super::args::{BackendKind, Common};
use super::Failure;
use crate::backend;
use crate::check::SystemModel;
use crate::driver;
use crate::report::csv as csvio;
use crate::symbolic::eom::Eom;
use std::path::Path;

/// Parses `--set NAME=VALUE` flags.
pub fn parse_overrides(common: &Common) -> Result<Vec<(String, f64)>, Failure> {
    common
        .set
        .iter()
        .map(|s| {
            let bad = || {
                Failure::usage(format!(
                    "error: --set expects NAME=VALUE with a number, got `{s}`\n"
                ))
            };
            let (name, value) = s.split_once('=').ok_or_else(bad)?;
            let value: f64 = value.trim().parse().map_err(|_| bad())?;
            let name = name.trim();
            let ok_name = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok_name || !value.is_finite() {
                return Err(bad());
            }
            Ok((name.to_string(), value))
        })
        .collect()
}

/// Reads, parses and checks a file (with `--set` applied); prints its warnings (also
/// with `--quiet`, which silences progress only).
pub fn load(path: &Path, common: &Common) -> Result<driver::Model, Failure> {
    if let Some(m) = common.max_memory {
        crate::limits::set_max_memory(m);
    }
    let overrides = parse_overrides(common)?;
    if let Some(w) = &common.weights {
        // Every command refuses a weights file it cannot open, used or not.
        let open = std::fs::File::open(w).and_then(|f| {
            if f.metadata()?.is_dir() {
                Err(std::io::Error::other("it is a folder"))
            } else {
                Ok(())
            }
        });
        if let Err(e) = open {
            return Err(Failure::user(format!(
                "error: --weights: cannot read weights file {}: {e}\n",
                w.display()
            )));
        }
    }
    let model = driver::Model::load(path, &overrides)?;
    let warnings = model.warnings();
    if !warnings.is_empty() {
        eprint!("{warnings}");
    }
    Ok(model)
}

/// The systems named by `--system`, or every system; an unknown name is a usage error.
pub fn select(model: &driver::Model, name: Option<&str>) -> Result<Vec<String>, Failure> {
    match name {
        None => Ok(model.system_names()),
        Some(n) => Ok(vec![model
            .system_model(n)
            .map_err(system_flag(n))?
            .name
            .clone()]),
    }
}

/// The index of the system `--system name` names.
pub fn system_index(model: &driver::Model, name: &str) -> Result<usize, Failure> {
    model.system_model(name).map_err(system_flag(name))?;
    Ok(model.checked().system_index(name).unwrap_or(0))
}

fn system_flag(name: &str) -> impl Fn(driver::Error) -> Failure + '_ {
    move |e| Failure::usage(format!("error: --system {name}: {e}\n"))
}

/// The backend the command line asks for.
pub fn backend_kind(common: &Common) -> backend::Kind {
    match common.backend {
        BackendKind::Jit => backend::Kind::Jit,
        BackendKind::Interp => backend::Kind::Interp,
    }
}

/// Reads a numeric CSV; errors are rendered against the CSV text with a caret.
pub fn read_csv(path: &Path) -> Result<csvio::Table, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::user(format!("error: cannot read {}: {e}\n", path.display())))?;
    csvio::parse_table_bytes(&bytes)
        .map_err(|e| Failure::user(render_csv_error_text(path, &bytes, &e)))
}

pub fn render_csv_error(path: &Path, e: &csvio::CsvError) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    render_csv_error_text(path, &bytes, e)
}

fn render_csv_error_text(path: &Path, bytes: &[u8], e: &csvio::CsvError) -> String {
    let text = String::from_utf8_lossy(bytes);
    crate::diagnostics::render(&path.display().to_string(), &text, &[e.to_diagnostic()])
}

/// Derives a system's equations (lattices in loop form), refusing systems too large for
/// the unrolled form.
pub fn derive_eom(sys: &SystemModel) -> Result<Eom, Failure> {
    Ok(driver::derive_eom(sys, None)?)
}

/// Derives a system's equations element by element (dense H), refusing systems too
/// large for that; `why` says why the dense form is needed.
pub fn derive_unrolled(sys: &SystemModel, why: &str) -> Result<Eom, Failure> {
    Ok(driver::derive_eom(sys, Some(why))?)
}

/// Writes to stdout; a closed pipe (`lagc derive ... | head`) ends output quietly.
pub fn stdout(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let captured = super::CAPTURED.with(|c| c.borrow_mut().as_mut().map(|s| s.push_str(text)));
    if captured.is_some() {
        return Ok(());
    }
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::user(format!(
            "error: writing to stdout failed: {e}\n"
        ))),
        _ => Ok(()),
    }
}
