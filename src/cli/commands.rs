//! One function per command, on top of the driver: arguments in, printing out.

use super::args::{Cli, Command, DeriveFormat, IrKind, LinearizeFormat};
use super::shared::{load, select, stdout, system_index};
use super::{run, simulate, Failure};
use crate::backend;
use crate::driver::DeriveStyle;
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
            super::accel::command(&model, &system, &states, out.as_deref(), &common)
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
            inputs,
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
                    inputs: inputs.as_deref(),
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
