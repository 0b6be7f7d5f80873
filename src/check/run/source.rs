//! Where states come from: `init` and `data` (a file, a `sample(...)`, or assignments),
//! the `batch` size, and the `--init` flag of `lagc simulate`.

use super::*;

/// `init = ...` or `data = ...`: a file, a sample, or (init only) nothing else.
pub(super) fn source(
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
pub(super) fn batch(value: Option<usize>, span: Span, diags: &mut Vec<Diagnostic>) -> usize {
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
pub(super) fn assign(
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
