//! AST -> [`Model`]: names resolved, params folded (with overrides), arrays sized,
//! nets shaped, run blocks validated. Every error in the file is reported in one pass.

mod event;
mod expr;
mod input;
pub mod model;
mod run;
mod scope;
mod system;
mod vector;

pub use expr::visit;
pub use input::input_in;
pub use model::*;
pub use run::init_flag;
pub use system::RESERVED;

use crate::diagnostics::{line_col, Diagnostic, Span};
use crate::syntax::ast::{Block, File};
use std::collections::HashMap;

/// The outcome of checking: the model (if there were no errors) and every diagnostic.
pub struct Checked {
    /// The model, when no error was found.
    pub model: Option<Model>,
    /// Errors and warnings in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// `--set` names that no system declares.
    pub unused_overrides: Vec<String>,
}

impl Checked {
    /// The model, or the errors (warnings dropped) when there is none.
    pub fn into_model(self) -> Result<Model, Vec<Diagnostic>> {
        let errors: Vec<Diagnostic> = self
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        match self.model {
            Some(m) if errors.is_empty() => Ok(m),
            _ => Err(errors),
        }
    }
}

/// Checks a parsed file. `overrides` replace params of that name in every system.
pub fn check(src: &str, file: &File, overrides: &[(String, f64)]) -> Checked {
    let mut diags = vec![];
    let mut over = system::Overrides {
        values: overrides.iter().cloned().collect(),
        used: Default::default(),
    };
    let mut systems: Vec<(String, Option<SystemModel>)> = vec![];
    let mut first_span: HashMap<String, Span> = HashMap::new();
    let mut runs = vec![];
    let mut any_run_failed = false;
    for block in &file.blocks {
        match block {
            Block::System(s) => {
                if let Some(first) = first_span.get(&s.name.name) {
                    let (l, c) = line_col(src, first.start);
                    diags.push(
                        Diagnostic::error(
                            s.name.span,
                            format!("duplicate system `{}`", s.name.name),
                        )
                        .with_label("expected a new system name")
                        .with_note(format!("first declared at line {l}:{c}")),
                    );
                    continue;
                }
                if let Some(d) = system_name_error(&s.name.name, s.name.span) {
                    diags.push(d);
                }
                first_span.insert(s.name.name.clone(), s.name.span);
                let m = system::check_system(src, s, &mut over, &mut diags, false);
                systems.push((s.name.name.clone(), m));
            }
            Block::Run(r) => match run::check_run(src, r, &systems, overrides, &mut diags) {
                Some(run) => runs.push(run),
                None => any_run_failed = true,
            },
        }
    }
    if systems.is_empty() && !diags.iter().any(Diagnostic::is_error) {
        // At the end of the last non-blank line, not past the final newline.
        let end = src.trim_end().len();
        diags.push(
            Diagnostic::error(Span::new(end, end), "no system in this file")
                .with_label("expected at least one `system NAME { ... }` block"),
        );
    }
    check_shared_nets(&systems, &mut diags);
    check_outputs(src, &runs, &mut diags);
    diags.sort_by_key(|d| d.span.start);
    let failed = any_run_failed
        || diags.iter().any(Diagnostic::is_error)
        || systems.iter().any(|(_, s)| s.is_none());
    let model = (!failed).then(|| Model {
        systems: systems.into_iter().filter_map(|(_, s)| s).collect(),
        runs,
    });
    let mut unused: Vec<String> = over
        .values
        .keys()
        .filter(|k| !over.used.contains(*k))
        .cloned()
        .collect();
    unused.sort();
    Checked {
        model,
        diagnostics: diags,
        unused_overrides: unused,
    }
}

/// System `name` of a file that checked, with its params kept as symbols
/// ([`CExpr::Param`], values in [`SystemModel::params`]): the equations `lagc derive`
/// prints. Kernels are built from [`check`]'s model, whose params are folded numbers.
pub fn symbolic_system(
    src: &str,
    file: &File,
    overrides: &[(String, f64)],
    name: &str,
) -> Option<SystemModel> {
    let mut over = system::Overrides {
        values: overrides.iter().cloned().collect(),
        used: Default::default(),
    };
    file.blocks.iter().find_map(|block| match block {
        Block::System(s) if s.name.name == name => {
            system::check_system(src, s, &mut over, &mut vec![], true)
        }
        _ => None,
    })
}

fn system_name_error(name: &str, span: Span) -> Option<Diagnostic> {
    let builtin = Builtin::from_name(name).is_some() || vector::VecFn::from_name(name).is_some();
    (RESERVED.contains(&name) || builtin).then(|| {
        Diagnostic::error(span, format!("`{name}` is reserved"))
            .with_label("expected a system name that is not a keyword or a built-in function")
    })
}

/// Two blocks (or two settings of one block) writing the same file: an error at the
/// second, with a note at the first. Paths are compared as written, after removing `.`
/// and `x/..` components; a `save` also counts for the checkpoint and loss-curve files
/// it writes beside it.
fn check_outputs(src: &str, runs: &[Run], diags: &mut Vec<Diagnostic>) {
    fn also(f: &FileRef, written: &str) -> String {
        if written == f.path {
            String::new()
        } else {
            format!(" (which also writes {written})")
        }
    }
    let mut first: HashMap<std::path::PathBuf, (&FileRef, String)> = HashMap::new();
    for f in runs.iter().flat_map(|r| &r.files).filter(|f| f.is_output()) {
        for written in f.written() {
            let key = crate::report::output::lexical_normal(std::path::Path::new(&written));
            // Devices (`/dev/null`) take any number of writers.
            if key.starts_with("/dev") {
                continue;
            }
            let Some((other, other_written)) = first.get(&key) else {
                first.insert(key, (f, written));
                continue;
            };
            let (l, c) = line_col(src, other.span.start);
            diags.push(
                Diagnostic::error(
                    f.span,
                    format!(
                        "`{}` writes {written}, which an earlier setting writes too",
                        f.key
                    ),
                )
                .with_label(format!(
                    "expected a file no other block writes{}",
                    also(f, &written)
                ))
                .with_note(format!(
                    "first written by `{} = \"{}\"` at line {l}:{c}{}; the later block would replace it",
                    other.key,
                    other.path,
                    also(other, other_written)
                )),
            );
            break;
        }
    }
}

/// Nets of one name share weights, so every declaration must have the same shape.
fn check_shared_nets(systems: &[(String, Option<SystemModel>)], diags: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, (&Net, &SystemModel)> = HashMap::new();
    for sys in systems.iter().filter_map(|(_, s)| s.as_ref()) {
        for net in &sys.nets {
            match first.get(net.name.as_str()) {
                None => {
                    first.insert(&net.name, (net, sys));
                }
                Some((other, other_sys)) if other.widths() != net.widths() => diags.push(
                    Diagnostic::error(sys.span, format!("net `{}` has two shapes", net.name))
                        .with_label(format!(
                            "expected the shape {:?} declared in system `{}` (nets of one name share weights)",
                            other.widths(),
                            other_sys.name
                        ))
                        .with_note(format!("here it is {:?}", net.widths())),
                ),
                _ => {}
            }
        }
    }
}
