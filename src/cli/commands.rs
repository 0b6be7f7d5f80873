//! One function per command, on top of the driver: arguments in, printing out.

use super::args::{BackendKind, Cli, Command, Common, DeriveFormat, IrKind, LinearizeFormat};
use super::weights;
use super::{run, simulate, Failure};
use crate::backend;
use crate::check::SystemModel;
use crate::driver::{self, DeriveStyle, Times};
use crate::report::csv::{self as csvio, CsvWriter};
use crate::report::output::OutputFile;
use crate::symbolic::eom::Eom;
use std::path::Path;

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Check { file, common } => {
            let model = load(&file, &common)?;
            super::preflight::blocks(&model, &file, &common, false)?;
            for sys in &model.checked().systems {
                stdout(&format!("{}\n", sys.summary()))?;
            }
            Ok(())
        }
        Command::Run {
            file,
            no_train,
            project_init,
            common,
        } => run::command(&file, no_train, project_init, &common),
        Command::Derive {
            file,
            system,
            format,
            common,
        } => {
            let model = load(&file, &common)?;
            let mut obj = serde_json::Map::new();
            for name in select(&model, system.as_deref())? {
                match format {
                    DeriveFormat::Json => {
                        let value = model.derive_json(&name)?;
                        obj.insert(name, value);
                    }
                    DeriveFormat::Text => stdout(&model.derive_text(&name, DeriveStyle::Text)?)?,
                    DeriveFormat::Latex => stdout(&model.derive_text(&name, DeriveStyle::Latex)?)?,
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
        Command::Linearize {
            file,
            system,
            at,
            format,
            common,
        } => {
            let model = load(&file, &common)?;
            let s = model.system(&system, backend::Kind::Interp)?;
            let lin = s.linearize(&parse_point(&at)?)?;
            if !lin.equilibrium {
                eprintln!("warning: system `{system}`: the point is not an equilibrium");
            }
            match format {
                LinearizeFormat::Text => stdout(&lin.text()),
                LinearizeFormat::Json => stdout(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&lin.json()).unwrap_or_default()
                )),
            }
        }
        Command::Emit {
            file,
            system,
            ir,
            common,
        } => {
            let model = load(&file, &common)?;
            let s = model.system(&system, backend::Kind::Interp)?;
            match ir {
                IrKind::Kernel => stdout(&s.program().to_string()),
                IrKind::Clif => {
                    let mut text = String::new();
                    for p in s.program().programs() {
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
            super::preflight::output_flag("--out", out.as_deref())?;
            let model = load(&file, &common)?;
            accel(&model, &system, &states, out.as_deref(), &common)
        }
        Command::Simulate {
            file,
            system,
            init,
            t_end,
            dt,
            dt_out,
            method,
            rtol,
            atol,
            out,
            plot,
            project_init,
            common,
        } => {
            simulate_flags(
                method.as_deref(),
                rtol,
                atol,
                out.as_deref(),
                plot.as_deref(),
            )?;
            simulate::command(
                &file,
                &system,
                &simulate::Flags {
                    init: init.as_deref(),
                    t_end,
                    dt,
                    dt_out,
                    method: method.as_deref(),
                    rtol,
                    atol,
                    out: out.as_deref(),
                    plot: plot.as_deref(),
                    project_init,
                },
                &common,
            )
        }
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
            super::preflight::output_flag("--save", save.as_deref())?;
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
        Command::Export {
            file,
            system,
            out,
            target,
            format,
            common,
        } => {
            let model = load(&file, &common)?;
            let flags = super::export::Flags {
                out: &out,
                target: target.as_deref(),
                format,
            };
            super::export::command(&model, &system, &flags, &common)
        }
        Command::Bench {
            file,
            system,
            n,
            json,
            train,
            common,
        } => {
            let model = load(&file, &common)?;
            let k = system_index(&model, &system)?;
            super::bench::bench(model.checked(), k, n, json, train, &common)
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

/// `lagc simulate`'s flags that need no file: the plot format and output folders
/// (refused before anything runs), and tolerances that the method ignores (a warning).
fn simulate_flags(
    method: Option<&str>,
    rtol: Option<f64>,
    atol: Option<f64>,
    out: Option<&Path>,
    plot: Option<&Path>,
) -> Result<(), Failure> {
    if let Some(p) = plot {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "png" && ext != "svg" {
            return Err(Failure::usage(format!(
                "error: --plot {}: unknown plot format (expected a file name ending in .png or .svg)\n",
                p.display()
            )));
        }
    }
    super::preflight::output_flag("--out", out)?;
    super::preflight::output_flag("--plot", plot)?;
    let method = method.unwrap_or("rk4");
    if matches!(method, "rk4" | "variational") {
        for (flag, v) in [("--rtol", rtol), ("--atol", atol)] {
            if v.is_some() {
                eprintln!(
                    "warning: {flag} has no effect with --method {method}: only dopri5 uses tolerances ({method} steps by --dt)"
                );
            }
        }
    }
    Ok(())
}

/// The initial state `--init NAME=VALUE,...` gives (values are expressions, as in a
/// block's `init`; unnamed variables start at 0). Anything wrong is a usage error,
/// located in the flag's text.
pub(super) fn init_state(
    sys: &SystemModel,
    names: &[String],
    text: &str,
) -> Result<Vec<f64>, Failure> {
    let assigns = crate::check::init_flag(sys, text)
        .map_err(|d| Failure::usage(crate::diagnostics::render("--init", text, &d)))?;
    let init = crate::check::Source::Values(assigns);
    let mut states = simulate::initial_states(sys, names, &init, Path::new("")).map_err(|e| {
        let f = e.plain_failure();
        Failure::usage(f.message.replacen("error: ", "error: --init: ", 1))
    })?;
    Ok(states.pop().unwrap_or_else(|| vec![0.0; names.len()]))
}

/// Parses `--at a=1,b=0.5` (numbers); anything else is a usage error.
fn parse_point(text: &str) -> Result<Vec<(String, f64)>, Failure> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let bad = |why: &str| Failure::usage(format!("error: --at {item}: {why}\n"));
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| bad("expected NAME=VALUE"))?;
            let x = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad("expected a finite number after `=`"))?;
            Ok((name.trim().to_string(), x))
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
pub(super) fn select(model: &driver::Model, name: Option<&str>) -> Result<Vec<String>, Failure> {
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
pub(super) fn system_index(model: &driver::Model, name: &str) -> Result<usize, Failure> {
    model.system_model(name).map_err(system_flag(name))?;
    Ok(model.checked().system_index(name).unwrap_or(0))
}

fn system_flag(name: &str) -> impl Fn(driver::Error) -> Failure + '_ {
    move |e| Failure::usage(format!("error: --system {name}: {e}\n"))
}

/// `lagc accel`: accelerations and energy at every state row of a CSV file.
fn accel(
    model: &driver::Model,
    system: &str,
    states: &Path,
    out: Option<&Path>,
    common: &Common,
) -> Result<(), Failure> {
    system_index(model, system)?;
    let mut s = model.system(system, backend_kind(common))?;
    let sys = s.checked().clone();
    // Every net and learn param must be in the weights file; nets need one.
    let path = common.weights.as_deref();
    weights::for_command(&sys, path, None, Path::new(""))?;
    if let Some(p) = path {
        s.set_weights(&weights::read(p)?)?;
    }
    let table = read_csv(states)?;
    // State columns are required; `t` defaults to 0.
    let cols = table
        .require_columns(s.state_names())
        .map_err(|e| Failure::user(render_csv_error(states, &e.in_file(states))))?;
    let rows = table.rows.len();
    // Measured inputs: a column each.
    let ucols = table
        .require_columns(s.input_names())
        .map_err(|e| Failure::user(render_csv_error(states, &e.in_file(states))))?;
    let used = |c: &str| {
        c == "t" || s.state_names().iter().any(|n| n == c) || s.input_names().iter().any(|n| n == c)
    };
    if let Some(e) = super::preflight::non_finite(&table, used) {
        return Err(Failure::user(format!("error: {}: {e}\n", states.display())));
    }
    if rows == 0 {
        eprintln!(
            "warning: {}: the file has a header but no rows; the output has a header only",
            states.display()
        );
    }
    let state = ndarray::Array2::from_shape_fn((rows, cols.len()), |(i, j)| table.rows[i][cols[j]]);
    let t: Vec<f64> = match table.column("t") {
        Some(c) => table.rows.iter().map(|r| r[c]).collect(),
        None => vec![0.0; rows],
    };
    // Every row is evaluated before the output is opened, so a failure leaves no file.
    let inputs = ndarray::Array2::from_shape_fn((rows, ucols.len()), |(i, j)| {
        table.rows[i][ucols[j]]
    });
    let inputs = (!ucols.is_empty()).then(|| inputs.view());
    let (results, singular) = s.eval_with_inputs(state.view(), Times::Each(t), inputs)?;
    let io_err =
        |e: std::io::Error| Failure::user(format!("error: writing the output failed: {e}\n"));
    match out {
        Some(p) => {
            let file = OutputFile::create(p).map_err(|e| {
                Failure::user(format!("error: cannot write {}: {e}\n", p.display()))
            })?;
            let file = write_rows(std::io::BufWriter::new(file), s.output_names(), &results)
                .map_err(io_err)?;
            file.into_inner()
                .map_err(|e| e.into_error())
                .and_then(OutputFile::commit)
                .map_err(io_err)?;
        }
        None => {
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            write_rows(stdout, s.output_names(), &results).map_err(io_err)?;
        }
    }
    if singular > 0 {
        eprintln!(
            "warning: system `{}`: the mass matrix d2L/dq'dq' is singular at {singular} of {rows} states; used the pseudo-inverse there",
            sys.name,
        );
    }
    Ok(())
}

/// Writes a header and `rows` as CSV to `w`, flushed; returns `w`.
fn write_rows<W: std::io::Write>(
    w: W,
    header: &[String],
    rows: &ndarray::Array2<f64>,
) -> std::io::Result<W> {
    let mut writer = CsvWriter::new(w, header)?;
    for row in rows.rows() {
        writer.write_row(&row.to_vec())?;
    }
    writer.flush()?;
    Ok(writer.into_inner())
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
    Ok(driver::derive_eom(sys, None)?)
}

/// Derives a system's equations element by element (dense H), refusing systems too
/// large for that; `why` says why the dense form is needed.
pub(super) fn derive_unrolled(sys: &SystemModel, why: &str) -> Result<Eom, Failure> {
    Ok(driver::derive_eom(sys, Some(why))?)
}

/// Writes to stdout; a closed pipe (`lagc derive ... | head`) ends output quietly.
pub(super) fn stdout(text: &str) -> Result<(), Failure> {
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
