//! Checking `simulate` and `train` blocks against the checked systems.

use super::expr::{Ctx, Resolver};
use super::model::*;
use super::scope::{closest, Name, Scope};
use super::system::quote_list;
use crate::diagnostics::{line_col, Diagnostic, Span};
use crate::syntax::ast::{self, Expr, ExprKind, RunBlock, RunKind, Setting, Value};
use std::collections::HashMap;

const SIMULATE_KEYS: [&str; 11] = [
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
    for key in ["out", "plot", "save", "weights", "data"] {
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

/// Why `compare = truth` cannot follow `sys`'s trajectory (located at `at`): an H system
/// against an L or accel one, or a truth coordinate the simulated system lacks.
fn compare_problem(sys: &SystemModel, truth: &SystemModel, at: Span) -> Option<Diagnostic> {
    if is_hamiltonian(sys) != is_hamiltonian(truth) {
        let (h, l) = if is_hamiltonian(sys) {
            (sys, truth)
        } else {
            (truth, sys)
        };
        return Some(
            Diagnostic::error(
                at,
                format!("`{}` and `{}` cannot be compared", sys.name, truth.name),
            )
            .with_label("expected a truth system of the same kind (L or accel with L, H with H)")
            .with_note(format!(
                "`{}` is an H system (its state holds momenta) and `{}` is not (its state holds velocities), so the truth energy along the trajectory is not defined",
                h.name, l.name
            )),
        );
    }
    for c in &truth.coords {
        let found = sys.coords.iter().find(|s| s.name == c.name);
        let fits = found.is_some_and(|s| match (s.len, c.len) {
            (None, None) => true,
            (Some(a), Some(b)) => b <= a,
            _ => false,
        });
        if !fits {
            let have: Vec<&str> = sys.coords.iter().map(|c| c.name.as_str()).collect();
            return Some(
                Diagnostic::error(
                    at,
                    format!(
                        "the truth `{}` has the coordinate `{}`{}, which `{}` lacks",
                        truth.name,
                        c.name,
                        c.len.map(|n| format!("[{n}]")).unwrap_or_default(),
                        sys.name
                    ),
                )
                .with_label(format!(
                    "expected a system whose state variables are among those of `{}`",
                    sys.name
                ))
                .with_note(format!(
                    "variables are matched by name; `{}` has {}",
                    sys.name,
                    quote_list(&have)
                )),
            );
        }
    }
    if let Some(m) = truth.momenta.iter().find(|m| !sys.momenta.contains(m)) {
        return Some(
            Diagnostic::error(
                at,
                format!(
                    "the truth `{}` has the momentum `{m}`, which `{}` lacks",
                    truth.name, sys.name
                ),
            )
            .with_label("expected a truth whose momenta are among those of the simulated system")
            .with_note("variables are matched by name"),
        );
    }
    None
}

/// Why `data = sample(truth, ...)` cannot train `sys` (located at `at`): a coordinate
/// the truth lacks, accelerations asked of an H truth, or canonical momenta of an
/// accel truth.
fn truth_problem(
    sys: &SystemModel,
    truth: &SystemModel,
    momenta: Momenta,
    at: Span,
) -> Option<Diagnostic> {
    if !truth.nets.is_empty() {
        return Some(
            Diagnostic::error(at, format!("the truth `{}` calls neural nets", truth.name))
                .with_label("expected an analytic truth system (no `net`)"),
        );
    }
    for c in &sys.coords {
        let found = truth.coords.iter().find(|t| t.name == c.name);
        let fits = found.is_some_and(|t| match (c.len, t.len) {
            (None, None) => true,
            (Some(a), Some(b)) => a <= b,
            _ => false,
        });
        if !fits {
            let have: Vec<&str> = truth.coords.iter().map(|c| c.name.as_str()).collect();
            return Some(
                Diagnostic::error(
                    at,
                    format!(
                        "`{}` has the coordinate `{}`{}, which the truth `{}` lacks",
                        sys.name,
                        c.name,
                        c.len.map(|n| format!("[{n}]")).unwrap_or_default(),
                        truth.name
                    ),
                )
                .with_label(format!(
                    "expected a truth system with every coordinate of `{}`",
                    sys.name
                ))
                .with_note(format!(
                    "coordinates are matched by name; `{}` has {}",
                    truth.name,
                    quote_list(&have)
                )),
            );
        }
    }
    let wants_accel = !is_hamiltonian(sys);
    if wants_accel && is_hamiltonian(truth) {
        return Some(
            Diagnostic::error(
                at,
                format!(
                    "`{}` needs accelerations, and the truth `{}` is an H system",
                    sys.name, truth.name
                ),
            )
            .with_label("expected an L or accel truth for an L or accel model")
            .with_note("train an H system on an H truth"),
        );
    }
    let truth_is_l = matches!(truth.dynamics, Dynamics::Lagrangian(_));
    if is_hamiltonian(sys) && !is_hamiltonian(truth) && !truth_is_l && momenta == Momenta::Canonical
    {
        return Some(
            Diagnostic::error(
                at,
                format!(
                    "canonical momenta need a Lagrangian truth, and `{}` gives accelerations",
                    truth.name
                ),
            )
            .with_label("expected an L truth with `momenta = canonical`")
            .with_note("use `momenta = velocity;` to set p := q'"),
        );
    }
    None
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
            if let Err(near) = crate::integrate::steps_per_row(dt, d) {
                diags.push(
                    Diagnostic::error(sp, format!("dt_out = {d} is not a multiple of dt = {dt}"))
                        .with_label(crate::integrate::output_interval_hint(m, &near)),
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

/// `init = ...` or `data = ...`: a file, a sample, or (init only) nothing else.
fn source(
    v: &Value,
    sys: &SystemModel,
    systems: &[(String, Option<SystemModel>)],
    diags: &mut Vec<Diagnostic>,
    is_data: bool,
) -> Option<Source> {
    match v {
        Value::Str(s, sp) => {
            if s.trim().is_empty() {
                diags.push(
                    Diagnostic::error(*sp, "empty file name")
                        .with_label("expected a CSV file name"),
                );
                return None;
            }
            Some(Source::File(s.clone()))
        }
        Value::List(_, sp) => {
            let what = if is_data {
                "`data = sample(TRUTH, ...)` or a quoted CSV file"
            } else {
                "`init = sample(...)`, a quoted CSV file, or `init a = ..., a' = ...;`"
            };
            diags.push(Diagnostic::error(*sp, "bad source").with_label(format!("expected {what}")));
            None
        }
        Value::Expr(e) => {
            let what = if is_data {
                "`data = sample(TRUTH, ...)` or a quoted CSV file"
            } else {
                "`init = sample(...)`, a quoted CSV file, or `init a = ..., a' = ...;`"
            };
            diags.push(
                Diagnostic::error(e.span, "bad source").with_label(format!("expected {what}")),
            );
            None
        }
        Value::Sample(s) => {
            let truth = match (is_data, s.positional.as_slice()) {
                (true, [id]) => match systems.iter().position(|(n, _)| *n == id.name) {
                    Some(k) => Some(k),
                    None => {
                        diags.push(
                            Diagnostic::error(
                                id.span,
                                format!("unknown truth system `{}`", id.name),
                            )
                            .with_label("expected a system declared earlier in the file"),
                        );
                        return None;
                    }
                },
                (true, []) => {
                    diags.push(
                        Diagnostic::error(
                            s.span,
                            "`sample` for training data names no truth system",
                        )
                        .with_label("expected `sample(TRUTH, n = ..., ...)`"),
                    );
                    return None;
                }
                (false, []) => None,
                (_, [.., extra]) => {
                    diags.push(
                        Diagnostic::error(extra.span, "unexpected positional argument").with_label(
                            if is_data {
                                "expected one truth system, then `name = value` arguments"
                            } else {
                                "expected `name = value` arguments"
                            },
                        ),
                    );
                    return None;
                }
            };
            let target = match truth {
                Some(k) => systems[k].1.as_ref()?,
                None => sys,
            };
            let (mut n, mut seed) = (None, 0u64);
            let mut assigns = vec![];
            let mut ok = true;
            for b in &s.named {
                let name = b.target.name.name.as_str();
                if (name == "n" || name == "seed")
                    && b.target.primes == 0
                    && b.target.index.is_none()
                    && target.params.iter().all(|(p, _)| p != name)
                    && target.coords.iter().all(|c| c.name != name)
                {
                    match constant(sys, diags, &b.value) {
                        Some(x)
                            if x.fract() == 0.0
                                && x >= if name == "n" { 1.0 } else { 0.0 }
                                && x <= 1e12 =>
                        {
                            if name == "n" {
                                n = Some(x as usize)
                            } else {
                                seed = x as u64
                            }
                        }
                        Some(x) => {
                            diags.push(
                                Diagnostic::error(b.value.span, format!("`{name} = {x}`"))
                                    .with_label(if name == "n" {
                                        "expected a positive integer"
                                    } else {
                                        "expected an integer >= 0"
                                    }),
                            );
                            ok = false;
                        }
                        None => ok = false,
                    }
                    continue;
                }
                match assign(target, diags, b, Ctx::Distribution) {
                    Some(a) => assigns.push(a),
                    None => ok = false,
                }
            }
            let Some(n) = n else {
                diags.push(
                    Diagnostic::error(s.span, "`sample` without `n`")
                        .with_label("expected `n = NUMBER_OF_SAMPLES`"),
                );
                return None;
            };
            // Drawn rows, then the data made of them: about three copies of each row.
            let width = 2 * target.dof() + target.params.len() + 1;
            let bytes = 3.0 * 8.0 * n as f64 * width as f64;
            if let Some(why) = crate::limits::refuse(bytes, &format!("`sample` of {n} rows")) {
                diags.push(Diagnostic::error(s.span, why).with_label("expected a smaller `n`"));
                return None;
            }
            ok.then_some(Source::Sample(SampleSpec {
                truth,
                n,
                seed,
                assigns,
            }))
        }
    }
}

/// The `batch` setting (32 when absent or bad), refused (at `span`) when its per-step
/// buffers would not fit the memory limit.
fn batch(value: Option<usize>, span: Span, diags: &mut Vec<Diagnostic>) -> usize {
    let b = value.unwrap_or(32);
    // Row indices, inputs, targets and gradient lanes: about 16 values a row.
    if let Some(why) = crate::limits::refuse(16.0 * 8.0 * b as f64, &format!("`batch = {b}`")) {
        diags.push(Diagnostic::error(span, why).with_label("expected a smaller batch"));
        return 32;
    }
    b
}

/// One `name = value` of `init` or `sample`: a coordinate, a velocity (or momentum), a
/// param (sample only) or `t`.
fn assign(
    sys: &SystemModel,
    diags: &mut Vec<Diagnostic>,
    b: &ast::TargetBinding,
    ctx: Ctx,
) -> Option<Assign> {
    let t = &b.target;
    let name = t.name.name.as_str();
    let scope = system_scope(sys);
    let is_sample = ctx == Ctx::Distribution;
    let mut indices = vec![];
    let mut element = None;
    match scope.get(name) {
        Some(Name::Coord(c)) => {
            if t.primes > 1 {
                diags.push(
                    Diagnostic::error(
                        t.span,
                        format!(
                            "`{name}{}` is not part of the state",
                            "'".repeat(t.primes as usize)
                        ),
                    )
                    .with_label("expected a coordinate or its velocity"),
                );
                return None;
            }
            let coord = &sys.coords[c];
            match (&t.index, coord.len) {
                (None, _) => {}
                (Some(_), None) => {
                    diags.push(
                        Diagnostic::error(t.span, format!("`{name}` is not an array"))
                            .with_label("expected no index"),
                    );
                    return None;
                }
                (Some(ix), Some(len)) => match &ix.kind {
                    ExprKind::Var {
                        name: i,
                        primes: 0,
                        index: None,
                    } if scope.get(&i.name).is_none() => indices.push(i.name.clone()),
                    _ => {
                        let k = constant(sys, diags, ix)?;
                        if k.fract() != 0.0 || k < 0.0 || k >= len as f64 {
                            diags.push(
                                Diagnostic::error(
                                    ix.span,
                                    format!("index {k} out of range for `{name}`"),
                                )
                                .with_label(format!(
                                    "expected an integer in 0..{len}, or a fresh index name"
                                )),
                            );
                            return None;
                        }
                        element = Some(k as usize);
                    }
                },
            }
        }
        Some(Name::Momentum(_)) if t.primes == 0 && t.index.is_none() => {}
        Some(Name::Param(..)) if is_sample && t.primes == 0 && t.index.is_none() => {}
        None if name == "t" && is_sample && t.primes == 0 && t.index.is_none() => {}
        other => {
            let what = match other {
                Some(o) => format!("`{name}` is {}", o.describe()),
                None => format!("`{name}` is not a variable of system `{}`", sys.name),
            };
            let expected = if is_sample {
                "a coordinate, velocity, param or `t`"
            } else {
                "a coordinate or velocity"
            };
            let names: Vec<&str> = sys.coords.iter().map(|c| c.name.as_str()).collect();
            diags.push(
                Diagnostic::error(t.span, format!("cannot set this: {what}")).with_label(format!(
                    "expected {expected} of `{}` ({})",
                    sys.name,
                    quote_list(&names)
                )),
            );
            return None;
        }
    }
    let mut r = Resolver {
        scope: &scope,
        diags,
        ctx,
        indices,
        relu_used: None,
        symbolic: false,
    };
    let value = r.expr(&b.value)?;
    Some(Assign {
        name: name.to_string(),
        primes: t.primes,
        element,
        value,
        span: t.span,
    })
}

/// The `--init NAME=VALUE,...` flag of `lagc simulate`, read as the `init` setting of a
/// simulate block of `sys` (values are expressions of numbers, `pi` and the system's
/// params, `i` for arrays). Diagnostics are located in `text` itself.
pub fn init_flag(sys: &SystemModel, text: &str) -> Result<Vec<Assign>, Vec<Diagnostic>> {
    if text.trim().is_empty() {
        return Ok(vec![]);
    }
    let prefix = format!("simulate {} {{ init ", sys.name);
    let wrapped = format!("{prefix}{text}\n;}}");
    let shift = |mut d: Diagnostic| {
        let at = |x: usize| x.saturating_sub(prefix.len()).min(text.len());
        d.span = Span::new(at(d.span.start), at(d.span.end));
        d
    };
    let expected = || {
        vec![
            Diagnostic::error(Span::new(0, text.len()), "cannot read --init").with_label(
                "expected NAME=VALUE,... (values are expressions, as in `init` in a .lag file)",
            ),
        ]
    };
    // A syntax error names the flag's end, not the text wrapped around it.
    let syntax = |mut d: Diagnostic| {
        let tail = format!("`{}`", &wrapped[prefix.len() + text.len() + 1..]);
        d.message = d
            .message
            .replace(&format!("unexpected {tail}"), "unexpected end of --init")
            .replace(&tail, "the end of --init");
        if let Some(l) = d.label.as_mut() {
            if let Some(k) = l.find(&format!(", before {tail}")) {
                l.truncate(k);
            }
        }
        vec![shift(d)]
    };
    let file = crate::syntax::parse(&wrapped).map_err(syntax)?;
    let bindings = match file.blocks.as_slice() {
        [ast::Block::Run(RunBlock { settings, .. })] => match settings.as_slice() {
            [Setting::InitValues(bs, _)] => bs,
            _ => return Err(expected()),
        },
        _ => return Err(expected()),
    };
    let mut diags = vec![];
    let assigns: Option<Vec<Assign>> = bindings
        .iter()
        .map(|b| assign(sys, &mut diags, b, Ctx::Init))
        .collect();
    match assigns {
        Some(a) if diags.iter().all(|d| !d.is_error()) => Ok(a),
        _ => Err(diags.into_iter().map(shift).collect()),
    }
}

/// At most this many names in `plot_vars`.
const MAX_PLOT_VARS: usize = 16;

/// The scalar columns a plot can draw for `sys` (array elements are not listed): the
/// coordinates, velocities and accelerations (`H` systems: coordinates, momenta and
/// their derivatives), the multipliers `lambda_NAME`, and `energy`.
fn plot_names(sys: &SystemModel) -> Vec<String> {
    let is_h = matches!(sys.dynamics, Dynamics::Hamiltonian(_));
    let scalars = sys.coords.iter().filter(|c| c.len.is_none());
    let mut names: Vec<String> = vec![];
    if is_h {
        let qs: Vec<String> = scalars.map(|c| c.name.clone()).collect();
        let ps = sys.momenta.clone();
        names.extend(qs.iter().cloned().chain(ps.iter().cloned()));
        names.extend(qs.iter().chain(&ps).map(|n| format!("{n}'")));
    } else {
        for primes in ["", "'", "''"] {
            names.extend(
                sys.coords
                    .iter()
                    .filter(|c| c.len.is_none())
                    .map(|c| format!("{}{primes}", c.name)),
            );
        }
    }
    names.extend(sys.constraints.iter().map(|c| format!("lambda_{}", c.name)));
    names.push("energy".into());
    names
}

/// `plot_vars = [theta, theta', lambda_rod, energy, phi[3]];`: the columns drawn over
/// time, by their CSV names; each name is checked against the system's columns.
fn plot_vars(
    sys: &SystemModel,
    v: &Value,
    key: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<String>> {
    let Value::List(items, sp) = v else {
        diags.push(
            Diagnostic::error(key, "`plot_vars` takes a list")
                .with_label("expected `plot_vars = [name, name', ...];`"),
        );
        return None;
    };
    if items.is_empty() || items.len() > MAX_PLOT_VARS {
        diags.push(
            Diagnostic::error(*sp, format!("`plot_vars` with {} names", items.len()))
                .with_label(format!("expected 1 to {MAX_PLOT_VARS} names")),
        );
        return None;
    }
    let known = plot_names(sys);
    let is_h = matches!(sys.dynamics, Dynamics::Hamiltonian(_));
    let mut out = vec![];
    let mut ok = true;
    for e in items {
        let ExprKind::Var {
            name,
            primes,
            index,
        } = &e.kind
        else {
            diags.push(
                Diagnostic::error(e.span, "not a column name")
                    .with_label("expected a name such as `theta`, `theta'` or `energy`"),
            );
            ok = false;
            continue;
        };
        let marks = "'".repeat(*primes as usize);
        let array = sys
            .coords
            .iter()
            .find(|c| c.name == name.name && c.len.is_some());
        let column = match (array, index) {
            (Some(c), Some(ix)) if *primes <= if is_h { 1 } else { 2 } => {
                let len = c.len.unwrap_or(0);
                let Some(k) = constant(sys, diags, ix) else {
                    ok = false;
                    continue;
                };
                if k.fract() != 0.0 || k < 0.0 || k >= len as f64 {
                    diags.push(
                        Diagnostic::error(
                            ix.span,
                            format!("index {k} out of range for `{}`", c.name),
                        )
                        .with_label(format!("expected an integer in 0..{len}")),
                    );
                    ok = false;
                    continue;
                }
                Some(format!("{}{marks}[{}]", c.name, k as usize))
            }
            (Some(c), None) => {
                diags.push(
                    Diagnostic::error(e.span, format!("`{}` is an array", c.name))
                        .with_label(format!("expected one element, `{}[k]`", c.name)),
                );
                ok = false;
                continue;
            }
            (None, None) => Some(format!("{}{marks}", name.name)).filter(|n| known.contains(n)),
            _ => None,
        };
        match column {
            Some(c) => out.push(c),
            None => {
                let shown = format!("{}{marks}", name.name);
                let mut list: Vec<&str> = known.iter().map(String::as_str).take(12).collect();
                if known.len() > 12 {
                    list.push("...");
                }
                let mut d = Diagnostic::error(e.span, format!("unknown plot quantity `{shown}`"))
                    .with_label(format!(
                        "expected a column of `{}`: {}",
                        sys.name,
                        list.join(", ")
                    ));
                if let Some(s) = closest(&shown, known.iter().map(String::as_str)) {
                    d = d.with_note(format!("did you mean `{s}`?"));
                }
                diags.push(d);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}
