//! One function per command. Each loads and checks the file the same way.

use super::args::{BackendKind, Cli, Command, Common, DeriveFormat, IrKind};
use super::derive::{self, Style};
use super::weights;
use super::{run, simulate, Failure, SourceFile};
use crate::backend;
use crate::check::SystemModel;
use crate::check::{self, Model};
use crate::diagnostics::Diagnostic;
use crate::kernel::{self, EomProgram};
use crate::report::csv::{self as csvio, CsvWriter};
use crate::symbolic::eom::{Eom, MAX_UNROLLED_DOF};
use crate::syntax;
use std::path::Path;

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Check { file, common } => {
            let (_, model) = load(&file, &common)?;
            for sys in &model.systems {
                stdout(&format!("{}\n", sys.summary()))?;
            }
            Ok(())
        }
        Command::Run {
            file,
            no_train,
            common,
        } => run::command(&file, no_train, &common),
        Command::Derive {
            file,
            system,
            format,
            common,
        } => {
            let (_, model) = load(&file, &common)?;
            let systems = select(&model, system.as_deref())?;
            let mut obj = serde_json::Map::new();
            for sys in systems {
                let mut eom = derive_eom(sys)?;
                match format {
                    DeriveFormat::Json => {
                        obj.insert(sys.name.clone(), derive::json(&mut eom));
                    }
                    DeriveFormat::Text => {
                        stdout(&derive::render(&sys.name, &mut eom, Style::Text))?
                    }
                    DeriveFormat::Latex => {
                        stdout(&derive::render(&sys.name, &mut eom, Style::Latex))?
                    }
                }
            }
            if format == DeriveFormat::Json {
                stdout(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&obj).unwrap_or_default()
                ))?;
            }
            Ok(())
        }
        Command::Emit {
            file,
            system,
            ir,
            common,
        } => {
            let (_, model) = load(&file, &common)?;
            let sys = select(&model, Some(&system))?[0];
            let (program, _) = compile(sys)?;
            match ir {
                IrKind::Kernel => stdout(&program.to_string()),
                IrKind::Clif => {
                    let mut text = String::new();
                    for p in program.programs() {
                        text.push_str(
                            &backend::jit::clif_text(p)
                                .map_err(|e| Failure::user(format!("error: {e}\n")))?,
                        );
                    }
                    stdout(&text)
                }
            }
        }
        Command::Accel {
            file,
            system,
            states,
            out,
            common,
        } => {
            let (_, model) = load(&file, &common)?;
            let sys = select(&model, Some(&system))?[0];
            accel(sys, &file, &states, out.as_deref(), &common)
        }
        Command::Simulate {
            file,
            system,
            init,
            t_end,
            dt,
            method,
            rtol,
            atol,
            out,
            plot,
            common,
        } => simulate::command(
            &file,
            &system,
            &simulate::Flags {
                init: init.as_deref(),
                t_end,
                dt,
                method: method.as_deref(),
                rtol,
                atol,
                out: out.as_deref(),
                plot: plot.as_deref(),
            },
            &common,
        ),
        Command::Train {
            file,
            system,
            steps,
            batch,
            lr,
            lr_decay,
            seed,
            val,
            data,
            save,
            checkpoint,
            resume,
            common,
        } => {
            let over = super::train::Overrides {
                steps,
                batch,
                lr,
                lr_decay,
                seed,
                val,
                data,
                save,
                checkpoint,
                resume,
            };
            super::train::command(&file, &system, &over, &common)
        }
        Command::Bench {
            file,
            system,
            n,
            json,
            train,
            common,
        } => {
            let (_, model) = load(&file, &common)?;
            let sys = select(&model, Some(&system))?[0];
            let k = model.system_index(&sys.name).unwrap_or(0);
            super::bench::bench(&model, k, n, json, train, &common)
        }
    }
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

/// The system named by `--system`, or every system; an unknown name is a usage error.
pub(super) fn select<'m>(
    model: &'m Model,
    name: Option<&str>,
) -> Result<Vec<&'m SystemModel>, Failure> {
    match name {
        None => Ok(model.systems.iter().collect()),
        Some(n) => match model.system_index(n) {
            Some(k) => Ok(vec![&model.systems[k]]),
            None => {
                let names: Vec<&str> = model.systems.iter().map(|s| s.name.as_str()).collect();
                Err(Failure::usage(format!(
                    "error: --system {n}: no such system (the file has: {})\n",
                    names.join(", ")
                )))
            }
        },
    }
}

/// Derives and lowers the kernel of one system; returns it with the derivation (which
/// names the kernel's inputs and outputs).
fn compile(sys: &SystemModel) -> Result<(EomProgram, Eom), Failure> {
    let mut eom = derive_eom(sys)?;
    let program = kernel::eom_program(&mut eom, true, true).map_err(|e| {
        Failure::user(format!(
            "error: internal: cannot lower system `{}`: {e}\n",
            sys.name
        ))
    })?;
    Ok((program, eom))
}

/// `lagc accel`: accelerations and energy at every state row of a CSV file.
fn accel(
    sys: &SystemModel,
    file: &Path,
    states: &Path,
    out: Option<&Path>,
    common: &Common,
) -> Result<(), Failure> {
    let (nets, learn_values) = weights::for_command(sys, common.weights.as_deref(), None, file)?;
    let (program, eom) = compile(sys)?;
    let inputs = eom.input_names();
    let outputs = eom.output_names();
    let table = read_csv(states)?;
    // State columns are required; `t` defaults to 0 and learn params to their initial values.
    let n_state = 2 * eom.dof();
    let cols = table
        .require_columns(&inputs[..n_state])
        .map_err(|e| Failure::user(render_csv_error(states, &e.in_file(states))))?;
    let t_col = table.column("t");
    let mut backend = backend::create_eom(program, backend_kind(common), nets);
    let mut input = vec![0.0; backend.n_inputs()];
    let mut output = vec![0.0; backend.n_outputs()];
    // Every row is evaluated before the output is opened, so a failure leaves no file.
    let mut results = Vec::with_capacity(table.rows.len() * output.len());
    let mut singular = 0;
    for row in &table.rows {
        for (k, &c) in cols.iter().enumerate() {
            input[k] = row[c];
        }
        input[n_state] = t_col.map_or(0.0, |c| row[c]);
        input[n_state + 1..].copy_from_slice(&learn_values);
        let report = backend
            .eval(&input, &mut output)
            .map_err(|e| Failure::user(format!("error: system `{}`: {e}\n", sys.name)))?;
        singular += report.singular;
        results.extend_from_slice(&output);
    }
    let sink: Box<dyn std::io::Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |e| Failure::user(format!("error: cannot write {}: {e}\n", p.display())),
        )?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let io_err =
        |e: std::io::Error| Failure::user(format!("error: writing the output failed: {e}\n"));
    let mut writer = CsvWriter::new(sink, &outputs).map_err(io_err)?;
    for row in results.chunks(output.len()) {
        writer.write_row(row).map_err(io_err)?;
    }
    writer.flush().map_err(io_err)?;
    if singular > 0 && !common.quiet {
        eprintln!(
            "warning: system `{}`: the mass matrix d2L/dq'dq' is singular at {singular} of {} states; used the pseudo-inverse there",
            sys.name,
            table.rows.len()
        );
    }
    Ok(())
}

/// The backend the command line asks for.
pub fn backend_kind(common: &Common) -> backend::Kind {
    match common.backend {
        BackendKind::Jit => backend::Kind::Jit,
        BackendKind::Interp => backend::Kind::Interp,
    }
}

/// Reads a numeric CSV; errors are rendered against the CSV text with a caret.
pub(super) fn read_csv(path: &Path) -> Result<csvio::Table, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::user(format!("error: cannot read {}: {e}\n", path.display())))?;
    csvio::parse_table_bytes(&bytes)
        .map_err(|e| Failure::user(render_csv_error_text(path, &bytes, &e)))
}

fn render_csv_error(path: &Path, e: &csvio::CsvError) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    render_csv_error_text(path, &bytes, e)
}

fn render_csv_error_text(path: &Path, bytes: &[u8], e: &csvio::CsvError) -> String {
    let text = String::from_utf8_lossy(bytes);
    crate::diagnostics::render(&path.display().to_string(), &text, &[e.to_diagnostic()])
}

/// Derives a system's equations (lattices in loop form), refusing systems too large for
/// the unrolled form.
pub(super) fn derive_eom(sys: &SystemModel) -> Result<Eom, Failure> {
    match Eom::derive_lattice(sys) {
        Some(eom) => Ok(eom),
        None => derive_unrolled(
            sys,
            "it is not a lattice (docs/language.md, section 5: loop form), so its arrays are unrolled",
        ),
    }
}

/// Derives a system's equations element by element (dense H), refusing systems too
/// large for that; `why` says why the dense form is needed.
pub(super) fn derive_unrolled(sys: &SystemModel, why: &str) -> Result<Eom, Failure> {
    let dof = sys.dof();
    if dof > MAX_UNROLLED_DOF {
        return Err(Failure::user(format!(
            "error: system `{}` has {dof} scalar coordinates; {why}, and unrolled systems have at most {MAX_UNROLLED_DOF}\n",
            sys.name
        )));
    }
    Ok(Eom::derive_unrolled(sys))
}

/// Writes to stdout; a closed pipe (`lagc derive ... | head`) ends output quietly.
pub(super) fn stdout(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::user(format!(
            "error: writing to stdout failed: {e}\n"
        ))),
        _ => Ok(()),
    }
}
