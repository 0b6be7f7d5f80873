//! One function per command. Each loads and checks the file the same way.

use super::args::{Cli, Command, Common};
use super::{Failure, SourceFile};
use crate::check::{self, Model};
use crate::diagnostics::Diagnostic;
use crate::syntax;
use std::path::Path;

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Check { file, common } => {
            let (_, model) = load(&file, &common)?;
            for sys in &model.systems {
                println!("{}", sys.summary());
            }
            Ok(())
        }
        Command::Run { .. } => not_yet("run"),
        Command::Derive { .. } => not_yet("derive"),
        Command::Emit { .. } => not_yet("emit"),
        Command::Accel { .. } => not_yet("accel"),
        Command::Simulate { .. } => not_yet("simulate"),
        Command::Train { .. } => not_yet("train"),
        Command::Bench { .. } => not_yet("bench"),
    }
}

fn not_yet(cmd: &str) -> Result<(), Failure> {
    Err(Failure::user(format!(
        "error: `lagc {cmd}` is not implemented yet in this version\n"
    )))
}

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

/// Reads, parses and checks a file; prints warnings; diagnostics become a failure.
pub fn load(path: &Path, common: &Common) -> Result<(SourceFile, Model), Failure> {
    let overrides = parse_overrides(common)?;
    let src = SourceFile::read(path)?;
    let ast = syntax::parse(&src.text).map_err(|d| Failure::user(src.render(&[d])))?;
    let checked = check::check(&src.text, &ast, &overrides);
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = checked
        .diagnostics
        .into_iter()
        .partition(Diagnostic::is_error);
    if !errors.is_empty() {
        let mut all = errors;
        all.extend(warnings);
        all.sort_by_key(|d| d.span.start);
        return Err(Failure::user(src.render(&all)));
    }
    if !warnings.is_empty() && !common.quiet {
        eprint!("{}", src.render(&warnings));
    }
    if let Some(name) = checked.unused_overrides.first() {
        return Err(Failure::usage(format!(
            "error: --set {name}=...: no system in {} declares a param `{name}`\n",
            path.display()
        )));
    }
    let model = checked
        .model
        .ok_or_else(|| Failure::user("error: the file did not check\n"))?;
    Ok((src, model))
}
