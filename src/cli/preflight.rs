//! What `lagc check` and `lagc run` verify on disk before the first block runs, so that a
//! run does not stop at its third block for a folder that does not exist: output
//! folders, input files (CSV data and initial states, weights) and the weights' fit to
//! the systems that use them. The checker itself does no I/O; this is its file half.
//!
//! A file an earlier block of the same run writes (`out`, a train block's `save`) is not
//! looked for: it will exist by the time a later block reads it.

use super::args::Common;
use super::weights;
use super::Failure;
use crate::check::{FileRef, Model, RunSettings, SystemModel};
use crate::diagnostics::Diagnostic;
use crate::diagnostics::Span;
use crate::driver;
use crate::report::csv as csvio;
use crate::symbolic::eom::velocity_name;
use crate::train::data::DataError;
use std::path::{Path, PathBuf};

/// Checks every run block's files in file order (`no_train`: train blocks are skipped,
/// as `lagc run --no-train` does). Located errors are rendered against the `.lag` file.
pub(super) fn blocks(
    src: &driver::Model,
    file: &Path,
    common: &Common,
    no_train: bool,
) -> Result<(), Failure> {
    let model = src.checked();
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut diags: Vec<Diagnostic> = vec![];
    let mut plain: Vec<String> = vec![];
    // Absolute paths of the files earlier blocks write.
    let mut produced: Vec<PathBuf> = vec![];
    let flag_weights = match &common.weights {
        Some(w) => Some(weights::read(w)?),
        None => None,
    };
    let mut trained_before = false;
    for run in &model.runs {
        let is_train = matches!(run.settings, RunSettings::Train(_));
        if is_train && no_train {
            // The weights it saved before (if any) stand in for it.
            trained_before = true;
            continue;
        }
        let users = weight_users(model, run.system, &run.settings);
        let mut block_weights = false;
        for f in &run.files {
            if f.is_output() {
                if let Some(d) = output_problem(f) {
                    diags.push(d);
                }
                continue;
            }
            let path = dir.join(&f.path);
            if produced.contains(&absolute(&path)) {
                if f.key == "weights" {
                    block_weights = true;
                }
                continue;
            }
            match f.key {
                "weights" if common.weights.is_some() => {}
                "weights" => {
                    block_weights = true;
                    match weights::read(&path) {
                        Err(e) => diags.push(at(f, &e.message)),
                        Ok(w) if !is_train => {
                            for sys in &users {
                                if let Err(e) = weights::from_weights(sys, &w, &path) {
                                    diags.push(at(f, &e.message));
                                    break;
                                }
                            }
                        }
                        Ok(_) => {}
                    }
                }
                "inputs" => {
                    if let RunSettings::Simulate(s) = &run.settings {
                        let names = &model.systems[run.system].inputs;
                        if let Err(why) = super::inputs::read(&path, names, s.t_end) {
                            diags.push(Diagnostic::error(f.span, why).with_label(format!(
                                "expected a CSV with columns t, {}; t increasing and covering [0, t_end]",
                                names.join(", ")
                            )));
                        }
                    }
                }
                _ => match csv_problem(f, &path, model, run.system) {
                    Ok(None) => {}
                    Ok(Some(d)) => diags.push(d),
                    Err(rendered) => plain.push(rendered),
                },
            }
        }
        if let Some(w) = &flag_weights {
            let path = common.weights.as_deref().unwrap_or(Path::new(""));
            for sys in users.iter().filter(|_| !is_train) {
                if let Err(e) = weights::from_weights(sys, w, path) {
                    plain.push(e.message);
                    break;
                }
            }
        }
        let needs_nets = users.iter().find(|s| !s.nets.is_empty());
        if let Some(sys) = needs_nets
            .filter(|_| !is_train && !block_weights && flag_weights.is_none() && !trained_before)
        {
            diags.push(
                Diagnostic::error(
                    first_line(src.text(), run.span),
                    format!(
                        "system `{}` calls neural nets and needs weights, which this block does not give",
                        sys.name
                    ),
                )
                .with_label("expected weights for its nets")
                .with_note("give --weights FILE, `weights = \"FILE\";` in the block, or train it earlier in the file"),
            );
        }
        for f in run.files.iter().filter(|f| f.is_output()) {
            for w in f.written() {
                produced.push(absolute(Path::new(&w)));
            }
        }
        trained_before |= is_train;
    }
    let mut message = String::new();
    if !diags.is_empty() {
        diags.sort_by_key(|d| d.span.start);
        message.push_str(&src.render(&diags));
    }
    for p in plain {
        message.push_str(&p);
    }
    if message.is_empty() {
        Ok(())
    } else {
        Err(Failure::user(message))
    }
}

/// The systems a block evaluates with its weights: its own, and a `compare` truth;
/// only those with nets or `learn` params read weights.
fn weight_users<'a>(
    model: &'a Model,
    system: usize,
    settings: &RunSettings,
) -> Vec<&'a SystemModel> {
    let mut v = vec![&model.systems[system]];
    if let RunSettings::Simulate(s) = settings {
        if let Some(k) = s.compare {
            v.push(&model.systems[k]);
        }
    }
    v.retain(|s| !s.nets.is_empty() || !s.learns.is_empty());
    v
}

/// An error at the file name `f`, from a one-line `error: ...` message.
fn at(f: &FileRef, message: &str) -> Diagnostic {
    let msg = message.trim_start_matches("error: ").trim_end();
    Diagnostic::error(f.span, msg.to_string()).with_label(format!(
        "expected a readable file (`{}` is relative to the .lag file's folder)",
        f.key
    ))
}

/// Why the output `f` (relative to the current folder) cannot be written: its folder
/// does not exist, or it names a folder.
fn output_problem(f: &FileRef) -> Option<Diagnostic> {
    let why = output_folder_problem(Path::new(&f.path))?;
    Some(Diagnostic::error(f.span, why).with_label(format!(
                "expected a file in an existing folder (`{}` is relative to the current folder{})",
                f.key,
                std::env::current_dir()
                    .map(|d| format!(", {}", d.display()))
                    .unwrap_or_default()
            )))
}

/// Why a file cannot be created at `path`: its folder is missing or not a folder, or
/// `path` is a folder.
pub(super) fn output_folder_problem(path: &Path) -> Option<String> {
    if path.is_dir() {
        return Some(format!("{} is a folder, not a file", path.display()));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty())?;
    if parent.is_dir() {
        return None;
    }
    Some(if parent.exists() {
        format!(
            "cannot write {}: {} is not a folder",
            path.display(),
            parent.display()
        )
    } else {
        format!(
            "cannot write {}: the folder {} does not exist",
            path.display(),
            parent.display()
        )
    })
}

/// A command-line output path (`--out`, `--plot`, `--save`) whose folder is missing.
pub(super) fn output_flag(flag: &str, path: Option<&Path>) -> Result<(), Failure> {
    match path.and_then(output_folder_problem) {
        Some(why) => Err(Failure::user(format!("error: {flag}: {why}\n"))),
        None => Ok(()),
    }
}

/// Reads a CSV input (`data`, `init`): unreadable, unparsable (`Err`: the rendered CSV
/// error), without rows, or with a non-finite value in a column the block uses.
fn csv_problem(
    f: &FileRef,
    path: &Path,
    model: &Model,
    system: usize,
) -> Result<Option<Diagnostic>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Ok(Some(at(f, &format!("cannot read {}: {e}", path.display())))),
    };
    let table = csvio::parse_table_bytes(&bytes).map_err(|e| {
        let text = String::from_utf8_lossy(&bytes);
        crate::diagnostics::render(&path.display().to_string(), &text, &[e.to_diagnostic()])
    })?;
    if table.rows.is_empty() {
        return Ok(Some(
            Diagnostic::error(
                f.span,
                format!("{} has a header but no rows", path.display()),
            )
            .with_label(if f.key == "init" {
                "expected one initial state per row"
            } else {
                "expected training rows"
            }),
        ));
    }
    let sys = &model.systems[system];
    let states = crate::sample::state_names(sys);
    // Initial states use the state columns; training data also `t`, `run` and the
    // targets (q'' of L and accel models, q' and p' of H models).
    let data = f.key == "data";
    let used = |name: &str| {
        (data && (name == "t" || name == "run"))
            || states
                .iter()
                .any(|s| s == name || (data && velocity_name(s) == name))
    };
    if let Some(e) = non_finite(&table, used) {
        return Err(format!("error: {}: {e}\n", path.display()));
    }
    // Training data: the columns training needs (states, targets or `t`, inputs), found
    // by the same reading training does.
    if data {
        match crate::train::data::from_table(&table, sys) {
            Err(DataError::Csv(e)) => {
                let text = String::from_utf8_lossy(&bytes);
                let name = path.display().to_string();
                return Err(crate::diagnostics::render(
                    &name,
                    &text,
                    &[e.to_diagnostic()],
                ));
            }
            Err(DataError::Other(why)) => return Ok(Some(at(f, &why))),
            Err(DataError::Source(d)) => return Ok(Some(d)),
            Ok(_) => {}
        }
    }
    Ok(None)
}

/// The first non-finite value in a column `used` accepts, as `line L, column "C": ...`.
pub(super) fn non_finite(table: &csvio::Table, used: impl Fn(&str) -> bool) -> Option<String> {
    let cols: Vec<usize> = (0..table.header.len())
        .filter(|&c| used(&table.header[c]))
        .collect();
    for (i, row) in table.rows.iter().enumerate() {
        for &c in &cols {
            if !row[c].is_finite() {
                let shown = if row[c].is_nan() {
                    "NaN".to_string()
                } else {
                    row[c].to_string()
                };
                return Some(format!(
                    "line {}, column {:?}: {shown} is not a finite number (states must be finite)",
                    i + 2,
                    table.header[c]
                ));
            }
        }
    }
    None
}

/// `path` made absolute against the current folder, without `.` and `x/..` components.
fn absolute(path: &Path) -> PathBuf {
    let full = std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    crate::report::output::lexical_normal(&full)
}

/// The first line of the block at `span` (where block failures are shown).
fn first_line(text: &str, span: Span) -> Span {
    let start = span.start.min(text.len());
    let end = text[start..].find('\n').map_or(span.end, |k| start + k);
    Span::new(start, end.min(span.end))
}
