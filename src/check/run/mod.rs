//! Checking `simulate` and `train` blocks against the checked systems.

use super::expr::{Ctx, Resolver};
use super::model::*;
use super::scope::{closest, Name, Scope};
use super::system::quote_list;
use crate::diagnostics::{line_col, Diagnostic, Span};
use crate::syntax::ast::{self, Expr, ExprKind, RunBlock, RunKind, Setting, Value};
use std::collections::HashMap;

mod compat;
mod plot_vars;
mod source;

use self::plot_vars::plot_vars;
use compat::{compare_problem, truth_problem};
pub use source::init_flag;
use source::{assign, batch, source};

const SIMULATE_KEYS: [&str; 12] = [
    "t_end",
    "dt",
    "dt_out",
    "method",
    "rtol",
    "atol",
    "compare",
    "weights",
    "out",
    "plot",
    "plot_vars",
    "inputs",
];
const TRAIN_KEYS: [&str; 13] = [
    "data",
    "steps",
    "batch",
    "lr",
    "lr_decay",
    "seed",
    "val",
    "loss",
    "reg",
    "momenta",
    "checkpoint",
    "save",
    "weights",
];

/// Checks one run block. `systems` holds the checked systems so far by name (`None`
/// for systems that failed to check, so that no follow-up errors are reported);
/// `cli_set` the command line's `--set` values (a block `set` of another value for the
/// same param is warned about).
pub fn check_run(
    src: &str,
    block: &RunBlock,
    systems: &[(String, Option<SystemModel>)],
    cli_set: &[(String, f64)],
    diags: &mut Vec<Diagnostic>,
) -> Option<Run> {
    let before = diags.len();
    let kind_word = if block.kind == RunKind::Train {
        "train"
    } else {
        "simulate"
    };
    let find = |id: &ast::Ident, diags: &mut Vec<Diagnostic>| -> Option<Option<usize>> {
        match systems.iter().position(|(n, _)| *n == id.name) {
            Some(k) => Some(systems[k].1.as_ref().map(|_| k)),
            None => {
                let mut d = Diagnostic::error(id.span, format!("unknown system `{}`", id.name))
                    .with_label("expected the name of a system declared earlier in the file");
                if let Some(s) = closest(&id.name, systems.iter().map(|(n, _)| n.as_str())) {
                    d = d.with_note(format!("did you mean `{s}`?"));
                }
                diags.push(d);
                None
            }
        }
    };
    let sys_index = find(&block.system, diags)??;
    let sys = systems[sys_index].1.as_ref()?;

    let mut seen: HashMap<String, Span> = HashMap::new();
    let mut keys: HashMap<&str, (&Value, Span)> = HashMap::new();
    let mut init: Option<Source> = None;
    // Settings an unknown key was probably meant to be: not also reported missing.
    let mut misspelled: Vec<String> = vec![];
    let mut set = vec![];
    let keys_allowed: &[&str] = if block.kind == RunKind::Train {
        &TRAIN_KEYS
    } else {
        &SIMULATE_KEYS
    };
    let mut once = |name: &str, sp: Span, diags: &mut Vec<Diagnostic>| -> bool {
        if let Some(first) = seen.insert(name.to_string(), sp) {
            let (l, c) = line_col(src, first.start);
            diags.push(
                Diagnostic::error(sp, format!("`{name}` given twice"))
                    .with_label("expected each setting once per block")
                    .with_note(format!("first given at line {l}:{c}")),
            );
            return false;
        }
        true
    };
    for s in &block.settings {
        match s {
            Setting::Key(k, v) => {
                if !keys_allowed.contains(&k.name.as_str()) {
                    let mut d = Diagnostic::error(
                        k.span,
                        format!("unknown {kind_word} setting `{}`", k.name),
                    )
                    .with_label(format!(
                        "expected one of init, set, {}",
                        keys_allowed.join(", ")
                    ));
                    if let Some(s) = closest(&k.name, keys_allowed.iter().copied()) {
                        d = d.with_note(format!("did you mean `{s}`?"));
                        misspelled.push(s);
                    }
                    diags.push(d);
                } else if once(&k.name, k.span, diags) {
                    keys.insert(
                        keys_allowed
                            .iter()
                            .find(|a| **a == k.name)
                            .copied()
                            .unwrap_or(""),
                        (v, k.span),
                    );
                }
            }
            Setting::Set(bs) => {
                for b in bs {
                    match sys.params.iter().find(|(n, _)| *n == b.name.name) {
                        None => diags.push(
                            Diagnostic::error(
                                b.name.span,
                                format!(
                                    "`set` of `{}`, which is not a param of `{}`",
                                    b.name.name, sys.name
                                ),
                            )
                            .with_label("expected a param of the system this block runs"),
                        ),
                        Some(_) => {
                            if let Some(v) = constant(sys, diags, &b.value) {
                                let cli = cli_set.iter().rev().find(|(n, _)| *n == b.name.name);
                                if let Some((n, c)) = cli.filter(|(_, c)| *c != v) {
                                    diags.push(
                                        Diagnostic::warning(
                                            b.name.span.join(b.value.span),
                                            format!("`set {n} = {v}` in this block overrides `--set {n}={c}`"),
                                        )
                                        .with_label(format!("this block runs with {n} = {v}"))
                                        .with_note(format!(
                                            "--set {n}={c} applies everywhere else; remove this `set` to use it here too"
                                        )),
                                    );
                                }
                                set.push((b.name.name.clone(), v));
                            }
                        }
                    }
                }
            }
            Setting::InitValues(bs, sp) => {
                if block.kind == RunKind::Train {
                    diags.push(
                        Diagnostic::error(*sp, "`init` in a train block")
                            .with_label("expected `data = ...;` for training"),
                    );
                } else if once("init", *sp, diags) {
                    let assigns: Vec<Option<Assign>> = bs
                        .iter()
                        .map(|b| assign(sys, diags, b, Ctx::Init))
                        .collect();
                    init = assigns
                        .into_iter()
                        .collect::<Option<Vec<_>>>()
                        .map(Source::Values);
                }
            }
            Setting::InitFrom(v, sp) => {
                if block.kind == RunKind::Train {
                    diags.push(
                        Diagnostic::error(*sp, "`init` in a train block")
                            .with_label("expected `data = ...;` for training"),
                    );
                } else if once("init", *sp, diags) {
                    init = source(v, sys, systems, diags, false);
                }
            }
        }
    }

    let number = |key: &str, diags: &mut Vec<Diagnostic>| -> Option<(f64, Span)> {
        let (v, sp) = keys.get(key)?;
        match v {
            Value::Expr(e) => constant(sys, diags, e).map(|x| (x, e.span)),
            _ => {
                diags.push(
                    Diagnostic::error(*sp, format!("`{key}` takes a number"))
                        .with_label("expected a number"),
                );
                None
            }
        }
    };
    let positive = |key: &str, default: Option<f64>, diags: &mut Vec<Diagnostic>| -> Option<f64> {
        match number(key, diags) {
            Some((x, _)) if x > 0.0 => Some(x),
            Some((x, sp)) => {
                diags.push(
                    Diagnostic::error(sp, format!("`{key} = {x}`"))
                        .with_label(format!("expected `{key}` > 0")),
                );
                None
            }
            None => default,
        }
    };
    let integer = |key: &str,
                   default: Option<usize>,
                   min: usize,
                   diags: &mut Vec<Diagnostic>|
     -> Option<usize> {
        match number(key, diags) {
            Some((x, _)) if x.fract() == 0.0 && x >= min as f64 && x <= 1e15 => Some(x as usize),
            Some((x, sp)) => {
                diags.push(
                    Diagnostic::error(sp, format!("`{key} = {x}`"))
                        .with_label(format!("expected an integer >= {min}")),
                );
                None
            }
            None => default,
        }
    };
    let word =
        |key: &str, choices: &[&str], diags: &mut Vec<Diagnostic>| -> Option<Option<String>> {
            let Some((v, sp)) = keys.get(key) else {
                return Some(None);
            };
            if let Value::Expr(Expr {
                kind:
                    ExprKind::Var {
                        name,
                        primes: 0,
                        index: None,
                    },
                ..
            }) = v
            {
                if choices.is_empty() || choices.contains(&name.name.as_str()) {
                    return Some(Some(name.name.clone()));
                }
                let mut d = Diagnostic::error(name.span, format!("unknown {key} `{}`", name.name))
                    .with_label(format!("expected one of {}", choices.join(", ")));
                if let Some(s) = closest(&name.name, choices.iter().copied()) {
                    d = d.with_note(format!("did you mean `{s}`?"));
                }
                diags.push(d);
                return None;
            }
            let what = if choices.is_empty() {
                "a system name".to_string()
            } else {
                format!("one of {}", choices.join(", "))
            };
            diags.push(
                Diagnostic::error(*sp, format!("bad value for `{key}`"))
                    .with_label(format!("expected {what}")),
            );
            None
        };
    let string = |key: &str, diags: &mut Vec<Diagnostic>| -> Option<String> {
        let (v, sp) = keys.get(key)?;
        match v {
            Value::Str(s, ssp) if !s.trim().is_empty() => {
                if key == "plot" && !(s.ends_with(".png") || s.ends_with(".svg")) {
                    diags.push(
                        Diagnostic::error(*ssp, "unknown plot format")
                            .with_label("expected a file name ending in .png or .svg"),
                    );
                }
                Some(s.clone())
            }
            _ => {
                diags.push(
                    Diagnostic::error(*sp, format!("`{key}` takes a file name"))
                        .with_label("expected a quoted, non-empty file name"),
                );
                None
            }
        }
    };

    let settings = match block.kind {
        RunKind::Simulate => {
            let t_end = positive("t_end", None, diags);
            let dt = positive("dt", None, diags);
            for (key, v) in [("t_end", t_end), ("dt", dt)] {
                if v.is_none() && !keys.contains_key(key) && !misspelled.iter().any(|m| m == key) {
                    diags.push(
                        Diagnostic::error(
                            block.system.span,
                            format!("simulate block without `{key}`"),
                        )
                        .with_label(format!("expected `{key} = ...;` in this block")),
                    );
                }
            }
            if let (Some(t), Some(d)) = (t_end, dt) {
                if d > t {
                    let sp = keys.get("dt").map_or(block.span, |k| k.1);
                    diags.push(
                        Diagnostic::error(sp, format!("dt = {d} is longer than t_end = {t}"))
                            .with_label("expected dt <= t_end"),
                    );
                }
                if let Some(why) = crate::limits::steps_problem(t, d) {
                    let sp = keys.get("dt").map_or(block.span, |k| k.1);
                    diags.push(
                        Diagnostic::error(sp, format!("too many steps: {why}"))
                            .with_label("expected a larger dt or a smaller t_end"),
                    );
                }
            }
            let method = match word("method", &["rk4", "dopri5", "variational"], diags) {
                Some(Some(m)) => Method::ALL.iter().find(|(n, _)| *n == m).map(|(_, x)| *x),
                Some(None) => Some(Method::Rk4),
                None => None,
            };
            if method == Some(Method::Variational) && matches!(sys.dynamics, Dynamics::Accel(_)) {
                let sp = keys.get("method").map_or(block.span, |k| k.1);
                diags.push(
                    Diagnostic::error(sp, "variational integration of an accel system")
                        .with_label("expected rk4 or dopri5: `variational` needs L or H"),
                );
            }
            let compare = match word("compare", &[], diags) {
                Some(Some(name)) => {
                    let (v, _) = keys["compare"];
                    let id = match v {
                        Value::Expr(Expr {
                            kind: ExprKind::Var { name: id, .. },
                            ..
                        }) => id.clone(),
                        _ => ast::Ident {
                            name,
                            span: block.span,
                        },
                    };
                    find(&id, diags).flatten()
                }
                _ => None,
            };
            if let Some(m) = method.filter(|m| *m != Method::Dopri5) {
                for key in ["rtol", "atol"] {
                    if let Some((_, sp)) = keys.get(key) {
                        let name = Method::ALL
                            .iter()
                            .find(|(_, x)| *x == m)
                            .map_or("this method", |(n, _)| n);
                        diags.push(
                            Diagnostic::warning(
                                *sp,
                                format!("`{key}` has no effect with `method = {name}`"),
                            )
                            .with_label("only dopri5 uses tolerances")
                            .with_note(format!(
                                "{name} steps by dt; remove `{key}`, or use `method = dopri5;`"
                            )),
                        );
                    }
                }
            }
            if let (Some(k), Some((v, _))) = (compare, keys.get("compare")) {
                if let (Some(truth), Value::Expr(e)) = (systems[k].1.as_ref(), v) {
                    if let Some(d) = compare_problem(sys, truth, e.span) {
                        diags.push(d);
                    }
                }
            }
            super::input::simulate_setting(
                sys,
                keys.get("inputs").map(|k| k.1),
                block.system.span,
                diags,
            );
            let dt_out = positive("dt_out", None, diags);
            let dt_out = dt_out_setting(&keys, dt_out, (t_end, dt, method), diags);
            RunSettings::Simulate(SimulateSettings {
                init: init.unwrap_or(Source::Values(vec![])),
                t_end: t_end.unwrap_or(1.0),
                dt: dt.unwrap_or(1.0),
                dt_out,
                method: method.unwrap_or(Method::Rk4),
                rtol: positive("rtol", Some(1e-9), diags).unwrap_or(1e-9),
                atol: positive("atol", Some(1e-9), diags).unwrap_or(1e-9),
                compare,
                weights: string("weights", diags),
                out: string("out", diags),
                plot: string("plot", diags),
                plot_vars: keys
                    .get("plot_vars")
                    .and_then(|(v, sp)| plot_vars(sys, v, *sp, diags)),
                project_init: false,
                inputs: string("inputs", diags),
            })
        }
        RunKind::Train => {
            let data = match keys.get("data") {
                Some((v, _)) => source(v, sys, systems, diags, true),
                None if misspelled.iter().any(|m| m == "data") => None,
                None => {
                    diags.push(
                        Diagnostic::error(block.system.span, "train block without `data`")
                            .with_label(
                                "expected `data = sample(TRUTH, ...);` or `data = \"file.csv\";`",
                            ),
                    );
                    None
                }
            };
            let steps = integer("steps", None, 1, diags);
            if !keys.contains_key("steps") && !misspelled.iter().any(|m| m == "steps") {
                diags.push(
                    Diagnostic::error(block.system.span, "train block without `steps`")
                        .with_label("expected `steps = N;` in this block"),
                );
            }
            let val = number("val", diags).map(|(x, sp)| {
                if !(0.0..1.0).contains(&x) {
                    diags.push(
                        Diagnostic::error(sp, format!("`val = {x}`"))
                            .with_label("expected a fraction in [0, 1)"),
                    );
                }
                x
            });
            let reg = number("reg", diags).map(|(x, sp)| {
                if x < 0.0 {
                    diags.push(
                        Diagnostic::error(sp, format!("`reg = {x}`"))
                            .with_label("expected reg >= 0"),
                    );
                }
                x
            });
            let loss = match word("loss", &["mse", "l1"], diags) {
                Some(Some(w)) if w == "l1" => Loss::L1,
                _ => Loss::Mse,
            };
            let momenta = match word("momenta", &["canonical", "velocity"], diags) {
                Some(Some(w)) if w == "velocity" => Momenta::Velocity,
                _ => Momenta::Canonical,
            };
            if let (Some(Source::Sample(spec)), Some((Value::Sample(sv), _))) =
                (&data, keys.get("data"))
            {
                let truth = spec.truth.and_then(|k| systems[k].1.as_ref());
                if let (Some(truth), Some(id)) = (truth, sv.positional.first()) {
                    if let Some(d) = truth_problem(sys, truth, momenta, id.span) {
                        diags.push(d);
                    }
                }
            }
            RunSettings::Train(TrainSettings {
                data: data.unwrap_or(Source::Values(vec![])),
                steps: steps.unwrap_or(1),
                batch: batch(
                    integer("batch", Some(32), 1, diags),
                    keys.get("batch").map_or(block.span, |k| k.1),
                    diags,
                ),
                lr: positive("lr", Some(1e-3), diags).unwrap_or(1e-3),
                lr_decay: positive("lr_decay", Some(1.0), diags).unwrap_or(1.0),
                seed: integer("seed", Some(0), 0, diags).unwrap_or(0) as u64,
                val: val.unwrap_or(0.1),
                loss,
                reg: reg.unwrap_or(0.0),
                momenta,
                checkpoint: integer("checkpoint", None, 1, diags),
                save: string("save", diags),
                weights: string("weights", diags),
            })
        }
    };
    let mut files = vec![];
    for key in ["out", "plot", "save", "weights", "data", "inputs"] {
        if let Some((Value::Str(path, span), _)) = keys.get(key) {
            files.push(FileRef {
                key,
                path: path.clone(),
                span: *span,
            });
        }
    }
    for s in &block.settings {
        if let Setting::InitFrom(Value::Str(path, span), _) = s {
            files.push(FileRef {
                key: "init",
                path: path.clone(),
                span: *span,
            });
        }
    }
    (diags[before..].iter().all(|d| !d.is_error())).then_some(Run {
        system: sys_index,
        set,
        settings,
        span: block.span,
        files,
    })
}

/// Whether a state variable is held as a momentum (H systems) or a velocity.
fn is_hamiltonian(s: &SystemModel) -> bool {
    matches!(s.dynamics, Dynamics::Hamiltonian(_))
}

/// The `dt_out` of a simulate block: positive, at most t_end, and for rk4 and
/// variational a multiple of dt (every error located at its value).
fn dt_out_setting(
    keys: &HashMap<&str, (&Value, Span)>,
    dt_out: Option<f64>,
    (t_end, dt, method): (Option<f64>, Option<f64>, Option<Method>),
    diags: &mut Vec<Diagnostic>,
) -> Option<f64> {
    let d = dt_out?;
    let sp = match keys.get("dt_out") {
        Some((Value::Expr(e), _)) => e.span,
        Some((_, sp)) => *sp,
        None => return Some(d),
    };
    if let Some(t) = t_end {
        if d > t {
            diags.push(
                Diagnostic::error(sp, format!("dt_out = {d} is longer than t_end = {t}"))
                    .with_label("expected dt_out <= t_end"),
            );
        } else if let Some(why) = crate::limits::steps_problem(t, d) {
            diags.push(
                Diagnostic::error(sp, format!("too many rows: {why}"))
                    .with_label("expected a larger dt_out or a smaller t_end"),
            );
        }
    }
    if let (Some(dt), Some(m)) = (dt, method) {
        if m != Method::Dopri5 {
            if let Err(near) = crate::timeline::steps_per_row(dt, d) {
                diags.push(
                    Diagnostic::error(sp, format!("dt_out = {d} is not a multiple of dt = {dt}"))
                        .with_label(crate::timeline::output_interval_hint(
                            m == Method::Variational,
                            &near,
                        )),
                );
            }
        }
    }
    Some(d)
}

/// A scope with the params and coordinates (and momenta) of a checked system.
fn system_scope(sys: &SystemModel) -> Scope {
    let mut s = Scope::default();
    for (k, (n, v)) in sys.params.iter().enumerate() {
        let _ = s.define(n, Name::Param(k, *v), Span::default());
    }
    for (k, c) in sys.coords.iter().enumerate() {
        let _ = s.define(&c.name, Name::Coord(k), Span::default());
        s.coords.push(c.clone());
    }
    for (k, p) in sys.momenta.iter().enumerate() {
        let _ = s.define(p, Name::Momentum(k), Span::default());
    }
    s
}

fn constant(sys: &SystemModel, diags: &mut Vec<Diagnostic>, e: &Expr) -> Option<f64> {
    let scope = system_scope(sys);
    let mut r = Resolver {
        scope: &scope,
        diags,
        ctx: Ctx::Constant,
        indices: vec![],
        relu_used: None,
        symbolic: false,
    };
    match r.expr(e)? {
        CExpr::Num(x) => Some(x),
        _ => {
            diags.push(
                Diagnostic::error(e.span, "not a constant")
                    .with_label("expected numbers, `pi` and params"),
            );
            None
        }
    }
}
