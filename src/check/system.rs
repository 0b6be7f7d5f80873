//! Checking one `system` block: declarations in order, then the one L, H or accel.

use super::event::check_event;
use super::expr::{missing_index, resolve, resolve_with, scalar_indexed, Ctx, Resolver};
use super::model::*;
use super::scope::{Name, Scope};
use super::vector::{uses_velocity, Value, VecFn};
use crate::diagnostics::{line_col, Diagnostic, Span};
use crate::syntax::ast::{self, Expr, Ident, Item, NetOptValue};
use std::collections::{HashMap, HashSet};

/// Words that cannot name anything.
pub const RESERVED: [&str; 22] = [
    "system",
    "simulate",
    "train",
    "coord",
    "momentum",
    "param",
    "learn",
    "input",
    "let",
    "net",
    "L",
    "H",
    "accel",
    "dissipation",
    "force",
    "constraint",
    "event",
    "sum",
    "in",
    "pi",
    "t",
    "periodic",
];

/// Largest array length accepted.
pub const MAX_ARRAY_LEN: usize = 10_000_000;

/// Param overrides from the command line or a run block, and which of them were used.
#[derive(Default)]
pub struct Overrides {
    /// NAME -> VALUE.
    pub values: HashMap<String, f64>,
    /// Names some system declared.
    pub used: HashSet<String>,
}

/// Checks one system; `None` after at least one diagnostic in `diags`. With `symbolic`,
/// params stay symbols in its expressions ([`CExpr::Param`]).
pub fn check_system(
    src: &str,
    sys: &ast::System,
    over: &mut Overrides,
    diags: &mut Vec<Diagnostic>,
    symbolic: bool,
) -> Option<SystemModel> {
    let start_errors = diags.len();
    let mut scope = Scope::default();
    scope.symbolic_params = symbolic;
    scope.hamiltonian = sys.items.iter().any(|i| matches!(i, Item::Hamiltonian(..)));
    for item in &sys.items {
        for id in declared(item) {
            let (l, c) = line_col(src, id.span.start);
            scope
                .declared_later
                .entry(id.name.clone())
                .or_insert(format!("line {l}:{c}"));
        }
    }
    let mut m = SystemModel {
        name: sys.name.name.clone(),
        span: sys.name.span,
        coords: vec![],
        momenta: vec![],
        params: vec![],
        learns: vec![],
        inputs: vec![],
        lets: vec![],
        nets: vec![],
        dynamics: Dynamics::Accel(vec![]),
        dissipation: None,
        forces: vec![],
        constraints: vec![],
        events: vec![],
    };
    let mut dynamics: Option<(Dynamics, Span)> = None;
    let mut momentum_span = None;
    let mut forces: Vec<(usize, CExpr)> = vec![];
    let mut relu: Option<Span> = None;
    let mut dissipation_span = None;
    // A coordinate declaration failed (and was reported): do not also say "no coordinates".
    let mut coord_failed = false;

    for item in &sys.items {
        let define =
            |scope: &mut Scope, id: &Ident, what: Name, diags: &mut Vec<Diagnostic>| -> bool {
                if let Some(d) = reserved(id) {
                    diags.push(d);
                    scope.poison(&id.name, id.span);
                    return false;
                }
                match scope.define(&id.name, what, id.span) {
                    Ok(()) => true,
                    Err(first) => {
                        let (l, c) = line_col(src, first.start);
                        diags.push(
                            Diagnostic::error(id.span, format!("duplicate name `{}`", id.name))
                                .with_label("already declared in this system")
                                .with_note(format!("first declared at line {l}:{c}")),
                        );
                        false
                    }
                }
            };
        match item {
            Item::Param(bs) => {
                for b in bs {
                    let value = resolve(&scope, diags, Ctx::Constant, &b.value, &mut relu);
                    let value = match over.values.get(&b.name.name) {
                        Some(v) => {
                            over.used.insert(b.name.name.clone());
                            Some(*v)
                        }
                        None => value.and_then(|e| num(e, &b.value, "a param", diags)),
                    };
                    match value {
                        Some(v) => {
                            let param = Name::Param(m.params.len(), v);
                            if define(&mut scope, &b.name, param, diags) {
                                m.params.push((b.name.name.clone(), v));
                            }
                        }
                        None => scope.poison(&b.name.name, b.name.span),
                    }
                }
            }
            Item::Coord(items) => {
                for c in items {
                    let len = match &c.len {
                        None => None,
                        Some(e) => match array_len(&scope, diags, e, &c.name) {
                            Some(n) => Some(n),
                            None => {
                                coord_failed = true;
                                scope.poison(&c.name.name, c.name.span);
                                continue;
                            }
                        },
                    };
                    if c.periodic && len.is_none() {
                        diags.push(
                            Diagnostic::error(
                                c.name.span,
                                format!("scalar coordinate `{}` declared periodic", c.name.name),
                            )
                            .with_label("expected an array, e.g. `phi[N] periodic`"),
                        );
                        coord_failed = true;
                        scope.poison(&c.name.name, c.name.span);
                        continue;
                    }
                    let k = scope.coords.len();
                    if define(&mut scope, &c.name, Name::Coord(k), diags) {
                        scope.coords.push(Coord {
                            name: c.name.name.clone(),
                            len,
                            periodic: c.periodic,
                        });
                    } else {
                        coord_failed = true;
                    }
                }
            }
            Item::Momentum(ids) => {
                momentum_span.get_or_insert(ids[0].span);
                for id in ids {
                    let k = m.momenta.len();
                    if k >= scope.coords.len() {
                        diags.push(
                            Diagnostic::error(id.span, format!("momentum `{}` has no coordinate to pair with", id.name))
                                .with_label(format!(
                                    "expected one momentum per coordinate, declared after them ({} coordinate{} so far)",
                                    scope.coords.len(),
                                    if scope.coords.len() == 1 { "" } else { "s" }
                                )),
                        );
                        scope.poison(&id.name, id.span);
                        continue;
                    }
                    if scope.coords[k].len.is_some() {
                        diags.push(
                            Diagnostic::error(
                                id.span,
                                "momenta of array coordinates are not supported",
                            )
                            .with_label("expected scalar coordinates in an H system"),
                        );
                        scope.poison(&id.name, id.span);
                        continue;
                    }
                    if define(&mut scope, id, Name::Momentum(k), diags) {
                        m.momenta.push(id.name.clone());
                    }
                }
            }
            Item::Learn(bs) => {
                for b in bs {
                    let v = resolve(&scope, diags, Ctx::Constant, &b.value, &mut relu)
                        .and_then(|e| num(e, &b.value, "a learn param's initial value", diags));
                    match v {
                        Some(v) => {
                            if define(&mut scope, &b.name, Name::Learn(m.learns.len()), diags) {
                                m.learns.push((b.name.name.clone(), v));
                            }
                        }
                        None => scope.poison(&b.name.name, b.name.span),
                    }
                }
            }
            Item::Input(ids, _) => {
                for id in ids {
                    if define(&mut scope, id, Name::Input(m.inputs.len()), diags) {
                        m.inputs.push(id.name.clone());
                    }
                }
            }
            Item::Let(bs) => {
                for b in bs {
                    let ctx = if momentum_span.is_some() {
                        Ctx::Hamiltonian
                    } else {
                        Ctx::Lagrangian
                    };
                    let value = resolve_with(&scope, diags, ctx, &mut relu, |r| r.value(&b.value));
                    match value {
                        Some(v) => {
                            let first = m.lets.len();
                            let what = match &v {
                                Value::Scalar(_) => Name::Let(first),
                                Value::Vector(c) => Name::Vector {
                                    first,
                                    len: c.len(),
                                },
                            };
                            if define(&mut scope, &b.name, what, diags) {
                                push_let(&mut m, &mut scope, &b.name.name, v);
                            }
                        }
                        None => scope.poison(&b.name.name, b.name.span),
                    }
                }
            }
            Item::Net(decl) => match check_net(&scope, decl, diags) {
                Some(net) => {
                    let k = scope.nets.len();
                    if define(&mut scope, &decl.name, Name::Net(k), diags) {
                        scope.nets.push(net);
                    }
                }
                None => scope.poison(&decl.name.name, decl.name.span),
            },
            Item::Lagrangian(e, sp) | Item::Hamiltonian(e, sp) => {
                let is_h = matches!(item, Item::Hamiltonian(..));
                if is_h && m.momenta.is_empty() {
                    diags.push(
                        Diagnostic::error(*sp, "H without momenta").with_label(
                            "expected `momentum p, ...;` (one per coordinate) before `H`",
                        ),
                    );
                    continue;
                }
                let ctx = if is_h {
                    Ctx::Hamiltonian
                } else {
                    Ctx::Lagrangian
                };
                // A placeholder keeps the slot taken when the body has errors, so a
                // second L/H/accel is still reported.
                let body = resolve(&scope, diags, ctx, e, &mut relu).unwrap_or(CExpr::Num(0.0));
                let d = if is_h {
                    Dynamics::Hamiltonian(body)
                } else {
                    Dynamics::Lagrangian(body)
                };
                set_dynamics(src, &mut dynamics, d, *sp, diags);
            }
            Item::Accel(bindings, sp) => {
                let mut exprs: Vec<Option<CExpr>> = vec![None; scope.coords.len()];
                let mut ok = true;
                for b in bindings {
                    let Some((c, e)) = coord_equation(&scope, diags, b, "accel", &mut relu) else {
                        ok = false;
                        continue;
                    };
                    if exprs[c].is_some() {
                        diags.push(
                            Diagnostic::error(
                                b.target.span,
                                format!("second acceleration for `{}`", b.target.name.name),
                            )
                            .with_label("expected one `accel` per coordinate"),
                        );
                        ok = false;
                    }
                    exprs[c] = Some(e);
                }
                if !ok {
                    continue;
                }
                let missing: Vec<&str> = scope
                    .coords
                    .iter()
                    .zip(&exprs)
                    .filter(|(_, e)| e.is_none())
                    .map(|(c, _)| c.name.as_str())
                    .collect();
                if !missing.is_empty() {
                    diags.push(
                        Diagnostic::error(
                            *sp,
                            format!("no acceleration given for {}", quote_list(&missing)),
                        )
                        .with_label("expected `accel` to give every coordinate declared before it"),
                    );
                    continue;
                }
                set_dynamics(
                    src,
                    &mut dynamics,
                    Dynamics::Accel(exprs.into_iter().flatten().collect()),
                    *sp,
                    diags,
                );
            }
            Item::Dissipation(e, sp) => {
                if let Some(first) = dissipation_span {
                    let (l, c) = line_col(src, first);
                    diags.push(
                        Diagnostic::error(*sp, "second dissipation function")
                            .with_label("expected at most one `dissipation` per system")
                            .with_note(format!("the first is at line {l}:{c}")),
                    );
                    continue;
                }
                dissipation_span = Some(sp.start);
                m.dissipation = resolve(&scope, diags, Ctx::Lagrangian, e, &mut relu);
            }
            Item::Force(bindings) => {
                for b in bindings {
                    if let Some(f) = coord_equation(&scope, diags, b, "force", &mut relu) {
                        forces.push(f);
                    }
                }
            }
            Item::Event(decl) => {
                if let Some(e) = check_event(src, &scope, &m.events, decl, diags) {
                    m.events.push(e);
                }
            }
            Item::Constraint(name, e, sp) => {
                if let Some(c) = check_constraint(src, &scope, &m.constraints, name, e, *sp, diags)
                {
                    m.constraints.push(c);
                }
            }
        }
    }

    let Some((dyn_, _)) = dynamics else {
        if diags.len() == start_errors {
            diags.push(
                Diagnostic::error(
                    sys.name.span,
                    format!("system `{}` has no dynamics", sys.name.name),
                )
                .with_label("expected one of `L = ...;`, `H = ...;` or `accel ... ;`"),
            );
        }
        return None;
    };
    if scope.coords.is_empty() && !coord_failed {
        diags.push(
            Diagnostic::error(
                sys.name.span,
                format!("system `{}` has no coordinates", sys.name.name),
            )
            .with_label("expected `coord ...;`"),
        );
    }
    if let (Some(sp), false) = (momentum_span, matches!(dyn_, Dynamics::Hamiltonian(_))) {
        diags.push(
            Diagnostic::error(sp, "momenta declared in a system without H")
                .with_label("expected `H = ...;` with momenta, or no `momentum` in a system with `L` or `accel`"),
        );
    }
    if let Dynamics::Hamiltonian(_) = dyn_ {
        if m.momenta.len() != scope.coords.len() {
            diags.push(
                Diagnostic::error(
                    momentum_span.unwrap_or(sys.name.span),
                    "not one momentum per coordinate",
                )
                .with_label(format!(
                    "expected {} momenta, found {}",
                    scope.coords.len(),
                    m.momenta.len()
                )),
            );
        }
        if m.dissipation.is_some() {
            diags.push(
                Diagnostic::error(sys.name.span, "dissipation in an H system").with_label(
                    "a Rayleigh dissipation function needs velocities; use `force` in H systems",
                ),
            );
        }
    }
    if let (Some(c), false) = (
        m.constraints.first(),
        matches!(dyn_, Dynamics::Lagrangian(_)),
    ) {
        diags.push(
            Diagnostic::error(c.span, format!("constraint in {}", dyn_.kind_name()))
                .with_label("constraints need a Lagrangian: expected `L = ...;` in this system"),
        );
    }
    if let (Some(e), Dynamics::Hamiltonian(_)) = (m.events.first(), &dyn_) {
        diags.push(
            Diagnostic::error(e.span, "event in an H system").with_label(
                "events reset coordinates and velocities: expected `L` or `accel` in this system",
            ),
        );
    }
    if let (Some(sp), Dynamics::Lagrangian(_) | Dynamics::Hamiltonian(_)) = (relu, &dyn_) {
        diags.push(
            Diagnostic::warning(sp, "relu net inside a Lagrangian or Hamiltonian").with_label(
                "its second derivative is zero, so the mass matrix gets no contribution from it",
            ),
        );
    }
    super::input::check_uses(&m, diags);
    if diags[start_errors..].iter().any(Diagnostic::is_error) {
        return None;
    }
    m.forces = (0..scope.coords.len())
        .map(|c| {
            forces
                .iter()
                .filter(|(k, _)| *k == c)
                .map(|(_, e)| e.clone())
                .reduce(|a, b| CExpr::Binary(Op::Add, Box::new(a), Box::new(b)))
                .unwrap_or(CExpr::Num(0.0))
        })
        .collect();
    m.dynamics = dyn_;
    m.coords = scope.coords;
    m.nets = scope.nets;
    Some(m)
}

/// A `constraint NAME: EXPR;`: a fresh name and an expression of the system's variables.
fn check_constraint(
    src: &str,
    scope: &Scope,
    earlier: &[Constraint],
    name: &Ident,
    e: &Expr,
    span: Span,
    diags: &mut Vec<Diagnostic>,
) -> Option<Constraint> {
    if let Some(first) = earlier.iter().find(|c| c.name == name.name) {
        let (l, c) = line_col(src, first.span.start);
        diags.push(
            Diagnostic::error(name.span, format!("duplicate constraint `{}`", name.name))
                .with_label("expected a new constraint name")
                .with_note(format!("first declared at line {l}:{c}")),
        );
        return None;
    }
    let mut relu = None;
    let expr = resolve(scope, diags, Ctx::Lagrangian, e, &mut relu)?;
    Some(Constraint {
        name: name.name.clone(),
        expr,
        span,
    })
}

fn declared(item: &Item) -> Vec<&Ident> {
    match item {
        Item::Coord(cs) => cs.iter().map(|c| &c.name).collect(),
        Item::Momentum(ids) | Item::Input(ids, _) => ids.iter().collect(),
        Item::Param(bs) | Item::Learn(bs) | Item::Let(bs) => bs.iter().map(|b| &b.name).collect(),
        Item::Net(n) => vec![&n.name],
        _ => vec![],
    }
}

fn reserved(id: &Ident) -> Option<Diagnostic> {
    let n = id.name.as_str();
    let why = if RESERVED.contains(&n) {
        "a reserved word"
    } else if Builtin::from_name(n).is_some() || VecFn::from_name(n).is_some() {
        "a built-in function"
    } else {
        return None;
    };
    Some(
        Diagnostic::error(id.span, format!("`{n}` is {why}"))
            .with_label("expected a name that is not a keyword or a built-in function"),
    )
}

/// Adds the `let` binding `name`: one scalar `let`, or one per component of a vector
/// (named `name[k]`).
fn push_let(m: &mut SystemModel, scope: &mut Scope, name: &str, v: Value) {
    let parts = match v {
        Value::Scalar(e) => vec![(name.to_string(), e)],
        Value::Vector(c) => c
            .into_iter()
            .enumerate()
            .map(|(k, e)| (format!("{name}[{k}]"), e))
            .collect(),
    };
    for (n, e) in parts {
        scope
            .let_uses_velocity
            .push(uses_velocity(&e, &scope.let_uses_velocity));
        m.lets.push((n, e));
    }
}

fn num(e: CExpr, src: &Expr, what: &str, diags: &mut Vec<Diagnostic>) -> Option<f64> {
    match e {
        CExpr::Num(x) => Some(x),
        _ => {
            diags.push(
                Diagnostic::error(src.span, format!("{what} must be a constant"))
                    .with_label("expected numbers, `pi` and earlier params only"),
            );
            None
        }
    }
}

fn array_len(scope: &Scope, diags: &mut Vec<Diagnostic>, e: &Expr, name: &Ident) -> Option<usize> {
    let v = resolve(scope, diags, Ctx::Constant, e, &mut None)
        .and_then(|c| num(c, e, "an array length", diags))?;
    if v.fract() != 0.0 || v < 1.0 || v > MAX_ARRAY_LEN as f64 {
        diags.push(
            Diagnostic::error(e.span, format!("bad length {v} for array `{}`", name.name))
                .with_label(format!("expected an integer from 1 to {MAX_ARRAY_LEN}")),
        );
        return None;
    }
    Some(v as usize)
}

fn set_dynamics(
    src: &str,
    slot: &mut Option<(Dynamics, Span)>,
    d: Dynamics,
    sp: Span,
    diags: &mut Vec<Diagnostic>,
) {
    if let Some((first, first_span)) = slot {
        let (l, c) = line_col(src, first_span.start);
        diags.push(
            Diagnostic::error(
                sp,
                format!("a second dynamics (`{}`) in one system", d.kind_name()),
            )
            .with_label("expected exactly one of `L`, `H` or `accel` per system")
            .with_note(format!(
                "`{}` is already given at line {l}:{c}",
                first.kind_name()
            )),
        );
        return;
    }
    *slot = Some((d, sp));
}

/// Resolves `a = EXPR` or `phi[i] = EXPR` of `accel` and `force`: the coordinate and the
/// expression (which, for arrays, uses `IndexVar(0)` for the element).
fn coord_equation(
    scope: &Scope,
    diags: &mut Vec<Diagnostic>,
    b: &ast::TargetBinding,
    what: &str,
    relu: &mut Option<Span>,
) -> Option<(usize, CExpr)> {
    let t = &b.target;
    let n = &t.name.name;
    let Some(Name::Coord(c)) = scope.get(n) else {
        let msg = match scope.get(n) {
            Some(other) => format!("`{what}` on `{n}`, which is {}", other.describe()),
            None => format!("`{what}` on unknown coordinate `{n}`"),
        };
        diags.push(
            Diagnostic::error(t.name.span, msg)
                .with_label("expected a coordinate declared before this point"),
        );
        return None;
    };
    if t.primes > 0 {
        diags.push(
            Diagnostic::error(t.span, format!("`{what}` target written with primes"))
                .with_label(format!("expected the bare coordinate: `{what} {n} = ...`")),
        );
        return None;
    }
    let len = scope.coords[c].len;
    let mut indices = vec![];
    match (&t.index, len) {
        (None, None) => {}
        (Some(ix), Some(_)) => match &ix.kind {
            ast::ExprKind::Var {
                name,
                primes: 0,
                index: None,
            } if scope.get(&name.name).is_none() => indices.push(name.name.clone()),
            _ => {
                diags.push(
                    Diagnostic::error(ix.span, "array element must be named by a fresh index")
                        .with_label(format!(
                            "expected e.g. `{what} {n}[i] = ...` with i a new name"
                        )),
                );
                return None;
            }
        },
        (None, Some(_)) => {
            let expected = format!("expected `{what} {n}[i] = ...`");
            diags.push(missing_index(n, t.span, expected));
            return None;
        }
        (Some(ix), None) => {
            diags.push(scalar_indexed(n, ix.span));
            return None;
        }
    }
    let mut r = Resolver {
        scope,
        diags,
        ctx: Ctx::Lagrangian,
        indices,
        relu_used: None,
        symbolic: scope.symbolic_params,
    };
    let e = r.expr(&b.value);
    if relu.is_none() {
        *relu = r.relu_used;
    }
    Some((c, e?))
}

fn check_net(scope: &Scope, decl: &ast::NetDecl, diags: &mut Vec<Diagnostic>) -> Option<Net> {
    let before = diags.len();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let (mut inputs, mut outputs, mut hidden) = (None, 1, vec![128, 128]);
    let (mut act, mut init) = (Activation::Softplus, Init::Lnn);
    for opt in &decl.opts {
        let key = opt.key.name.as_str();
        if let Some(_first) = seen.insert(key, opt.key.span) {
            diags.push(
                Diagnostic::error(opt.key.span, format!("option `{key}` given twice"))
                    .with_label("expected each option at most once"),
            );
            continue;
        }
        let word = |v: &NetOptValue| match v {
            NetOptValue::Expr(Expr {
                kind:
                    ast::ExprKind::Var {
                        name,
                        primes: 0,
                        index: None,
                    },
                ..
            }) => Some(name.name.clone()),
            _ => None,
        };
        match key {
            "in" | "out" => {
                if let Some(n) = net_size(scope, diags, &opt.value, key) {
                    if key == "in" {
                        inputs = Some(n);
                    } else {
                        outputs = n;
                    }
                }
            }
            "hidden" => match &opt.value {
                NetOptValue::List(items, list_span) => {
                    if items.is_empty() {
                        diags.push(
                            Diagnostic::warning(
                                *list_span,
                                format!("net `{}` has no hidden layer", decl.name.name),
                            )
                            .with_label("this net is linear: x @ w + b, no activation")
                            .with_note(
                                "its second derivatives are zero, so inside `L` or `H` it adds nothing to the mass matrix; expected e.g. `hidden: [64]`",
                            ),
                        );
                    }
                    let sizes: Vec<Option<usize>> = items
                        .iter()
                        .map(|e| net_size(scope, diags, &NetOptValue::Expr(e.clone()), "hidden"))
                        .collect();
                    hidden = sizes.into_iter().flatten().collect();
                }
                NetOptValue::Expr(e) => diags.push(
                    Diagnostic::error(e.span, "`hidden` takes a list of layer widths")
                        .with_label("expected e.g. `hidden: [128, 128]`"),
                ),
            },
            "act" | "init" => {
                let names: Vec<&str> = if key == "act" {
                    Activation::ALL.iter().map(|(n, _)| *n).collect()
                } else {
                    Init::ALL.iter().map(|(n, _)| *n).collect()
                };
                let w = word(&opt.value);
                let found = w.as_deref().and_then(|w| {
                    if key == "act" {
                        Activation::ALL.iter().find(|(n, _)| *n == w).map(|(_, a)| {
                            act = *a;
                        })
                    } else {
                        Init::ALL.iter().find(|(n, _)| *n == w).map(|(_, i)| {
                            init = *i;
                        })
                    }
                });
                if found.is_none() {
                    let sp = match &opt.value {
                        NetOptValue::Expr(e) => e.span,
                        NetOptValue::List(_, s) => *s,
                    };
                    let what = if key == "act" {
                        "activation"
                    } else {
                        "initialisation"
                    };
                    let mut d = Diagnostic::error(
                        sp,
                        format!(
                            "unknown {what}{}",
                            w.as_ref().map(|w| format!(" `{w}`")).unwrap_or_default()
                        ),
                    )
                    .with_label(format!("expected one of {}", names.join(", ")));
                    if let Some(s) = w
                        .as_deref()
                        .and_then(|w| super::scope::closest(w, names.iter().copied()))
                    {
                        d = d.with_note(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                }
            }
            _ => {
                let mut d = Diagnostic::error(opt.key.span, format!("unknown net option `{key}`"))
                    .with_label("expected one of in, out, hidden, act, init");
                if let Some(s) =
                    super::scope::closest(key, ["in", "out", "hidden", "act", "init"].into_iter())
                {
                    d = d.with_note(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
        }
    }
    let Some(inputs) = inputs else {
        if !seen.contains_key("in") {
            diags.push(
                Diagnostic::error(
                    decl.name.span,
                    format!("net `{}` has no input size", decl.name.name),
                )
                .with_label("expected `in: N` among the mlp options"),
            );
        }
        return None;
    };
    let net = Net {
        name: decl.name.name.clone(),
        inputs,
        outputs,
        hidden,
        act,
        init,
    };
    // Weights, gradients, Adam's two moments, the saved copy: about six values each.
    let count = net.weight_count();
    let what = format!("net `{}` ({count} weights)", net.name);
    if let Some(why) = crate::limits::refuse(6.0 * 8.0 * count as f64, &what) {
        diags.push(Diagnostic::error(decl.name.span, why).with_label("expected smaller layers"));
    }
    diags[before..].iter().all(|d| !d.is_error()).then_some(net)
}

fn net_size(
    scope: &Scope,
    diags: &mut Vec<Diagnostic>,
    v: &NetOptValue,
    key: &str,
) -> Option<usize> {
    let e = match v {
        NetOptValue::Expr(e) => e,
        NetOptValue::List(_, sp) => {
            diags.push(
                Diagnostic::error(*sp, format!("`{key}` takes one number"))
                    .with_label("expected a positive integer"),
            );
            return None;
        }
    };
    let x = resolve(scope, diags, Ctx::Constant, e, &mut None)
        .and_then(|c| num(c, e, "a net size", diags))?;
    if x.fract() != 0.0 || !(1.0..=1e6).contains(&x) {
        diags.push(
            Diagnostic::error(e.span, format!("bad net size {x} for `{key}`"))
                .with_label("expected a positive integer (at most 1000000)"),
        );
        return None;
    }
    Some(x as usize)
}

/// `"a", "b" and "c"` for messages.
pub fn quote_list(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match q.as_slice() {
        [] => String::new(),
        [a] => a.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
