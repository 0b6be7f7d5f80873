//! Resolving AST expressions into checked expressions ([`CExpr`]), with constant
//! folding and every naming error reported.

use super::model::*;
use super::scope::{Name, Scope};
use super::vector::{Value, VecFn};
use crate::diagnostics::{Diagnostic, Span};
use crate::syntax::ast::{BinOp, Expr, ExprKind, Ident};

/// Estimated bytes per term of a sum with an explicit range (for the memory limit).
const BYTES_PER_SUM_TERM: f64 = 256.0;

/// What an expression may refer to, by where it appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ctx {
    /// A `param` value, array length or net option: numbers, `pi`, earlier params.
    Constant,
    /// `L`, `let`, `dissipation`, `force`, `accel`: the system's variables.
    Lagrangian,
    /// `H`: coordinates and momenta, no velocities.
    Hamiltonian,
    /// An `init` value: constants and the element index.
    Init,
    /// A `sample(...)` distribution: constants, the element index, `uniform`, `normal`.
    Distribution,
}

/// Resolves expressions of one system, collecting diagnostics.
pub struct Resolver<'a> {
    /// The names visible so far.
    pub scope: &'a Scope,
    /// Where diagnostics go.
    pub diags: &'a mut Vec<Diagnostic>,
    /// What may be referred to.
    pub ctx: Ctx,
    /// Names of enclosing sum indices (outermost first).
    pub indices: Vec<String>,
    /// Set when a net with zero second derivative (relu) is called.
    pub relu_used: Option<Span>,
    /// Params in `L`, `H` and the other system expressions stay symbols
    /// ([`CExpr::Param`]); array indices and ranges always get their values.
    pub symbolic: bool,
}

/// Folds the top node of `e` when its operands are numbers.
pub(super) fn fold(e: CExpr) -> CExpr {
    match e {
        CExpr::Neg(a) => match *a {
            CExpr::Num(x) => CExpr::Num(-x),
            a => CExpr::Neg(Box::new(a)),
        },
        CExpr::Binary(op, a, b) => match (*a, *b) {
            (CExpr::Num(x), CExpr::Num(y)) => CExpr::Num(op.apply(x, y)),
            (a, b) => CExpr::Binary(op, Box::new(a), Box::new(b)),
        },
        CExpr::Call(f, args) if args.iter().all(|a| matches!(a, CExpr::Num(_))) => {
            let v: Vec<f64> = args
                .iter()
                .map(|a| if let CExpr::Num(x) = a { *x } else { 0.0 })
                .collect();
            CExpr::Num(f.apply(v[0], v.get(1).copied().unwrap_or(0.0)))
        }
        e => e,
    }
}

impl Resolver<'_> {
    fn symbolic_params(&self) -> bool {
        self.symbolic && matches!(self.ctx, Ctx::Lagrangian | Ctx::Hamiltonian)
    }

    pub(super) fn err<T>(&mut self, d: Diagnostic) -> Option<T> {
        self.diags.push(d);
        None
    }

    /// Resolves `e`, which must be a scalar; `None` after at least one diagnostic.
    pub fn expr(&mut self, e: &Expr) -> Option<CExpr> {
        let v = self.value(e)?;
        self.scalar(v, e.span)
    }

    /// Resolves `e`, a scalar or a vector; `None` after at least one diagnostic.
    pub fn value(&mut self, e: &Expr) -> Option<Value> {
        let out = match &e.kind {
            ExprKind::Num(x) => Value::Scalar(CExpr::Num(*x)),
            ExprKind::Neg(a) => self.value(a)?.map(|a| CExpr::Neg(Box::new(a))),
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.value(a), self.value(b));
                let (a, b) = (a?, b?);
                let op = match op {
                    BinOp::Add => Op::Add,
                    BinOp::Sub => Op::Sub,
                    BinOp::Mul => Op::Mul,
                    BinOp::Div => Op::Div,
                    BinOp::Pow => Op::Pow,
                };
                let ExprKind::Binary(_, _, den) = &e.kind else {
                    unreachable!()
                };
                self.binary(e.span, op, a, b, den.span)?
            }
            ExprKind::Var {
                name,
                primes,
                index,
            } => self.var(e.span, name, *primes, index.as_deref())?,
            ExprKind::Call { name, args, index } => {
                self.call(e.span, name, args, index.as_deref())?
            }
            ExprKind::Sum { var, range, body } => {
                Value::Scalar(self.sum(e.span, var, range, body)?)
            }
        };
        let out = out.map(fold);
        if let Some(x) = out.non_finite() {
            return self.err(
                Diagnostic::error(e.span, "this constant expression is not a finite number")
                    .with_label(format!("evaluates to {x}")),
            );
        }
        Some(out)
    }

    /// `a op b` for scalars or vectors; `den` is where the right operand is written.
    fn binary(&mut self, span: Span, op: Op, a: Value, b: Value, den: Span) -> Option<Value> {
        if op == Op::Div && b == Value::Scalar(CExpr::Num(0.0)) {
            return self.err(
                Diagnostic::error(den, "division by zero")
                    .with_label("expected a divisor that is not the constant 0"),
            );
        }
        match (a, b) {
            (Value::Scalar(a), Value::Scalar(b)) => {
                Some(Value::Scalar(CExpr::Binary(op, Box::new(a), Box::new(b))))
            }
            (a, b) => self.vector_binary(span, op, a, b),
        }
    }

    fn var(&mut self, span: Span, name: &Ident, primes: u8, index: Option<&Expr>) -> Option<Value> {
        let n = name.name.as_str();
        if let Some(found @ (Name::Let(_) | Name::Vector { .. })) = self.scope.get(n) {
            self.system_only(span, n)?;
            return self.let_value(span, n, found, primes, index);
        }
        self.scalar_var(span, name, primes, index)
            .map(Value::Scalar)
    }

    fn scalar_var(
        &mut self,
        span: Span,
        name: &Ident,
        primes: u8,
        index: Option<&Expr>,
    ) -> Option<CExpr> {
        let n = name.name.as_str();
        // Sum indices shadow nothing: they are checked to be fresh where bound.
        if let Some(level) = self.indices.iter().rposition(|i| i == n) {
            if primes > 0 || index.is_some() {
                return self.err(
                    Diagnostic::error(span, format!("`{n}` is a sum index, a number"))
                        .with_label("expected no `'` and no `[...]` after a sum index"),
                );
            }
            return Some(CExpr::IndexVar(level));
        }
        let found = self.scope.get(n);
        if found == Some(Name::Broken) {
            return None;
        }
        if primes > 0 && !matches!(found, Some(Name::Coord(_))) {
            let what = match found {
                Some(f) => format!("`{n}` is {}, not a coordinate", f.describe()),
                None => format!("unknown name `{n}`"),
            };
            return self.err(
                Diagnostic::error(span, format!("velocity of a non-coordinate: {what}"))
                    .with_label(
                        "expected a coordinate before `'` (only coordinates have velocities)",
                    ),
            );
        }
        if index.is_some() && !matches!(found, Some(Name::Coord(_))) && found.is_some() {
            return self.err(
                Diagnostic::error(span, format!("`{n}` is not an array"))
                    .with_label("only array coordinates can be indexed"),
            );
        }
        match found {
            Some(Name::Broken) => None,
            Some(Name::Param(k, v)) => Some(if self.symbolic_params() {
                CExpr::Param(k)
            } else {
                CExpr::Num(v)
            }),
            Some(Name::Coord(c)) => self.coord(span, name, c, primes, index),
            Some(Name::Momentum(c)) => {
                if self.ctx != Ctx::Hamiltonian {
                    return self.err(
                        Diagnostic::error(span, format!("momentum `{n}` used outside H"))
                            .with_label("momenta may only appear in `H` (and its forces)"),
                    );
                }
                Some(CExpr::Momentum { coord: c })
            }
            Some(Name::Learn(i)) => self.system_only(span, n).map(|_| CExpr::Learn(i)),
            Some(Name::Input(i)) => self.system_only(span, n).map(|_| CExpr::Input(i)),
            // Lets are resolved by `let_value`.
            Some(Name::Let(_) | Name::Vector { .. }) => None,
            Some(Name::Net(_)) => self.err(
                Diagnostic::error(span, format!("net `{n}` used without arguments"))
                    .with_label(format!("expected a call `{n}(...)`")),
            ),
            None => match n {
                "pi" => Some(CExpr::Num(std::f64::consts::PI)),
                "t" => self.system_only(span, n).map(|_| CExpr::Time),
                _ if Builtin::from_name(n).is_some() || VecFn::from_name(n).is_some() => self.err(
                    Diagnostic::error(span, format!("`{n}` is a function"))
                        .with_label(format!("expected a call `{n}(...)`")),
                ),
                _ => {
                    let mut d = Diagnostic::error(span, format!("unknown name `{n}`"))
                        .with_label("not defined before this point");
                    if let Some(s) = self.scope.suggest(n) {
                        d = d.with_note(format!("did you mean `{s}`?"));
                    }
                    if let Some(later) = self.scope.later(n) {
                        d = d.with_note(format!(
                            "`{n}` is declared later, at {later}; declare it before use"
                        ));
                    }
                    self.err(d)
                }
            },
        }
    }

    /// Errors unless the context may refer to the system's variables.
    pub(super) fn system_only(&mut self, span: Span, n: &str) -> Option<()> {
        match self.ctx {
            Ctx::Lagrangian | Ctx::Hamiltonian => Some(()),
            ctx => {
                let expected = match ctx {
                    Ctx::Constant => "a constant: numbers, `pi` and earlier params",
                    _ => "numbers, `pi`, params and the element index",
                };
                self.err(
                    Diagnostic::error(span, format!("`{n}` is not a constant"))
                        .with_label(format!("expected {expected}")),
                )
            }
        }
    }

    fn coord(
        &mut self,
        span: Span,
        name: &Ident,
        c: usize,
        primes: u8,
        index: Option<&Expr>,
    ) -> Option<CExpr> {
        let n = &name.name;
        self.system_only(span, n)?;
        if primes > 1 {
            return self.err(
                Diagnostic::error(span, format!("acceleration `{n}{}` in an expression", "'".repeat(primes as usize)))
                    .with_label("expected a coordinate (`x`) or a velocity (`x'`); accelerations are what lagc derives"),
            );
        }
        if primes == 1 && self.ctx == Ctx::Hamiltonian {
            return self.err(
                Diagnostic::error(span, format!("velocity `{n}'` inside H")).with_label(
                    "expected coordinates and momenta only (H is a function of q and p); use the momentum",
                ),
            );
        }
        let coord = &self.scope.coords[c];
        let index = match (coord.len, index) {
            (None, None) => None,
            (None, Some(_)) => {
                return self.err(
                    Diagnostic::error(span, format!("`{n}` is a scalar coordinate, not an array"))
                        .with_label("expected no index"),
                )
            }
            (Some(len), None) => {
                return self.err(
                    Diagnostic::error(span, format!("array `{n}` used without an index"))
                        .with_label(format!(
                            "expected an element, e.g. `{n}[i]` with i in 0..{len}"
                        )),
                )
            }
            (Some(len), Some(ix)) => Some(Box::new(self.index(ix, len, coord.periodic, n)?)),
        };
        Some(CExpr::Coord {
            coord: c,
            vel: primes == 1,
            index,
        })
    }

    /// Resolves an array index; constants are range-checked (or wrapped).
    fn index(&mut self, ix: &Expr, len: usize, periodic: bool, n: &str) -> Option<CExpr> {
        let saved = (self.ctx, self.symbolic);
        self.symbolic = false;
        let e = self.expr(ix);
        (self.ctx, self.symbolic) = saved;
        let e = e?;
        match e {
            CExpr::Num(x) => {
                if x.fract() != 0.0 {
                    return self.err(
                        Diagnostic::error(ix.span, format!("index {x} of `{n}` is not an integer"))
                            .with_label("expected an integer index"),
                    );
                }
                let k = x as i64;
                if periodic {
                    Some(CExpr::Num(k.rem_euclid(len as i64) as f64))
                } else if k < 0 || k >= len as i64 {
                    self.err(
                        Diagnostic::error(ix.span, format!("index {k} out of range for `{n}`"))
                            .with_label(format!(
                                "expected an index in 0..{len} (`{n}` is not periodic)"
                            )),
                    )
                } else {
                    Some(CExpr::Num(k as f64))
                }
            }
            e if uses_only_indices(&e) => Some(e),
            _ => self.err(
                Diagnostic::error(ix.span, format!("index of `{n}` depends on the state"))
                    .with_label("expected an integer expression of sum indices and params"),
            ),
        }
    }

    fn call(
        &mut self,
        span: Span,
        name: &Ident,
        args: &[Expr],
        index: Option<&Expr>,
    ) -> Option<Value> {
        let n = name.name.as_str();
        if let Some(f) = VecFn::from_name(n) {
            return self.vector_call(span, f, name, args, index);
        }
        self.scalar_call(span, name, args, index).map(Value::Scalar)
    }

    fn scalar_call(
        &mut self,
        span: Span,
        name: &Ident,
        args: &[Expr],
        index: Option<&Expr>,
    ) -> Option<CExpr> {
        let n = name.name.as_str();
        let resolved: Vec<Option<CExpr>> = args.iter().map(|a| self.expr(a)).collect();
        if let Some(b) = Builtin::from_name(n) {
            if index.is_some() {
                return self.err(
                    Diagnostic::error(span, format!("`{n}(...)` returns one number"))
                        .with_label("expected no `[...]` after a built-in function"),
                );
            }
            if args.len() != b.arity() {
                return self.err(arity_error(name, b.arity(), args.len(), "function"));
            }
            let args: Option<Vec<CExpr>> = resolved.into_iter().collect();
            return Some(CExpr::Call(b, args?));
        }
        if matches!(n, "uniform" | "normal")
            && self.ctx == Ctx::Distribution
            && self.scope.get(n).is_none()
        {
            if args.len() != 2 {
                return self.err(arity_error(name, 2, args.len(), "distribution"));
            }
            let mut args: Vec<CExpr> = resolved.into_iter().collect::<Option<_>>()?;
            let b = args.pop()?;
            let a = args.pop()?;
            let kind = if n == "uniform" {
                Random::Uniform
            } else {
                Random::Normal
            };
            // Constant arguments are checked here, so that `lagc check` refuses what
            // drawing the first sample would (arguments that vary are checked per draw).
            if let (CExpr::Num(x), CExpr::Num(y)) = (&a, &b) {
                let why = match kind {
                    Random::Uniform if y < x => Some((
                        format!("uniform({x}, {y}) has its bounds reversed"),
                        "expected uniform(low, high) with low <= high",
                    )),
                    Random::Normal if *y < 0.0 => Some((
                        format!("normal({x}, {y}) has a negative standard deviation"),
                        "expected normal(mean, sd) with sd >= 0",
                    )),
                    _ => None,
                };
                if let Some((msg, label)) = why {
                    return self.err(Diagnostic::error(span, msg).with_label(label));
                }
            }
            return Some(CExpr::Random(kind, Box::new(a), Box::new(b)));
        }
        match self.scope.get(n) {
            Some(Name::Broken) => None,
            Some(Name::Net(k)) => {
                self.system_only(span, n)?;
                let net = &self.scope.nets[k];
                if args.len() != net.inputs {
                    return self.err(arity_error(name, net.inputs, args.len(), "net"));
                }
                if net.act == Activation::Relu && self.relu_used.is_none() {
                    self.relu_used = Some(name.span);
                }
                let outputs = net.outputs;
                let out = match index {
                    None if outputs == 1 => 0,
                    None => {
                        return self.err(
                            Diagnostic::error(span, format!("net `{n}` has {outputs} outputs"))
                                .with_label(format!(
                                    "expected an output pick `{n}(...)[k]`, k in 0..{outputs}"
                                )),
                        )
                    }
                    Some(ix) => {
                        let saved = self.ctx;
                        self.ctx = Ctx::Constant;
                        let k = self.expr(ix);
                        self.ctx = saved;
                        match k? {
                            CExpr::Num(k)
                                if k.fract() == 0.0 && k >= 0.0 && (k as usize) < outputs =>
                            {
                                k as usize
                            }
                            _ => {
                                return self.err(
                                    Diagnostic::error(
                                        ix.span,
                                        format!("bad output index for net `{n}`"),
                                    )
                                    .with_label(format!(
                                        "expected an integer constant in 0..{outputs}"
                                    )),
                                )
                            }
                        }
                    }
                };
                let args: Option<Vec<CExpr>> = resolved.into_iter().collect();
                Some(CExpr::Net {
                    net: k,
                    out,
                    args: args?,
                })
            }
            Some(other) => self.err(
                Diagnostic::error(
                    name.span,
                    format!("`{n}` is {}, not a function", other.describe()),
                )
                .with_label("expected a built-in function or a net"),
            ),
            None => {
                let mut d = Diagnostic::error(name.span, format!("unknown function `{n}`"))
                    .with_label(
                    "expected a built-in function (sin, cos, exp, ...) or a net declared before",
                );
                if let Some(s) = self.scope.suggest_function(n) {
                    d = d.with_note(format!("did you mean `{s}`?"));
                }
                self.err(d)
            }
        }
    }

    fn sum(
        &mut self,
        span: Span,
        var: &Ident,
        range: &Option<(Box<Expr>, Box<Expr>)>,
        body: &Expr,
    ) -> Option<CExpr> {
        let v = var.name.as_str();
        if self.scope.get(v).is_some()
            || self.indices.iter().any(|i| i == v)
            || v == "t"
            || v == "pi"
        {
            return self.err(
                Diagnostic::error(var.span, format!("sum index `{v}` hides another name"))
                    .with_label("expected a fresh name for the sum index"),
            );
        }
        let (lo, hi) = match range {
            Some((a, b)) => {
                let saved = self.ctx;
                self.ctx = Ctx::Constant;
                let (lo, hi) = (
                    self.int_const(a, "range start"),
                    self.int_const(b, "range end"),
                );
                self.ctx = saved;
                let (lo, hi) = (lo?, hi?);
                // Each term of an unrolled sum is a few expression nodes.
                let terms = (hi as f64 - lo as f64).max(0.0);
                let what = format!("`sum({v} in {lo}..{hi}, ...)`, {terms} terms,");
                if let Some(why) = crate::limits::refuse(BYTES_PER_SUM_TERM * terms, &what) {
                    return self
                        .err(Diagnostic::error(span, why).with_label("expected a smaller range"));
                }
                (lo, hi)
            }
            None => {
                let lens = index_lengths(body, v, self.scope);
                let Some(&(len, _)) = lens.first() else {
                    if mentions_broken(body, self.scope) {
                        // An array declared with an error: already reported.
                        return None;
                    }
                    return self.err(
                        Diagnostic::error(span, format!("cannot tell how far `sum({v}, ...)` runs"))
                            .with_label(format!("expected an array indexed by `{v}`, or a range `sum({v} in 0..N, ...)`")),
                    );
                };
                if let Some(&(other, sp)) = lens.iter().find(|(l, _)| *l != len) {
                    return self.err(
                        Diagnostic::error(
                            sp,
                            format!(
                                "arrays of different lengths ({len} and {other}) indexed by `{v}`"
                            ),
                        )
                        .with_label("expected arrays of one length in one sum"),
                    );
                }
                (0, len as i64)
            }
        };
        let ast_body = body;
        self.indices.push(v.to_string());
        let level = self.indices.len() - 1;
        let body = self.expr(body);
        self.indices.pop();
        let body = body?;
        // Non-periodic arrays indexed by i +- k must stay in range over the whole sum.
        if let Some(bad) = out_of_range(&body, level, lo, hi, self.scope) {
            let at = self.element_span(ast_body, v, &bad).unwrap_or(span);
            let name = &self.scope.coords[bad.coord].name;
            return self.err(
                Diagnostic::error(
                    at,
                    format!(
                        "index out of range: `{name}[{}]` when `{v}` is {}",
                        bad.k, bad.i
                    ),
                )
                .with_label(format!(
                    "expected indices in 0..{}; declare `{name}` periodic to wrap around",
                    bad.len
                )),
            );
        }
        Some(CExpr::Sum {
            level,
            lo,
            hi,
            body: Box::new(body),
        })
    }

    /// The span of the element `coord[...]` in the sum body `body` (index variable
    /// `var`) whose index is the one `bad` found out of range, if it can be told.
    fn element_span(&mut self, body: &Expr, var: &str, bad: &OutOfRange) -> Option<Span> {
        fn elements<'e>(e: &'e Expr, name: &str, out: &mut Vec<(&'e Expr, Span)>) {
            match &e.kind {
                ExprKind::Num(_) => {}
                ExprKind::Var { name: n, index, .. } => {
                    if let Some(ix) = index {
                        if n.name == name {
                            out.push((ix, e.span));
                        }
                        elements(ix, name, out);
                    }
                }
                ExprKind::Call { args, index, .. } => {
                    args.iter().for_each(|a| elements(a, name, out));
                    if let Some(ix) = index {
                        elements(ix, name, out);
                    }
                }
                ExprKind::Neg(a) => elements(a, name, out),
                ExprKind::Binary(_, a, b) => {
                    elements(a, name, out);
                    elements(b, name, out);
                }
                // Elements inside inner sums depend on other indices too.
                ExprKind::Sum { .. } => {}
            }
        }
        let name = self.scope.coords[bad.coord].name.clone();
        let mut found = vec![];
        elements(body, &name, &mut found);
        let mark = self.diags.len();
        self.indices.push(var.to_string());
        let level = self.indices.len() - 1;
        let saved = self.ctx;
        self.ctx = Ctx::Init;
        let at = found.into_iter().find_map(|(ix, sp)| {
            let k = self.expr(ix)?;
            (eval_index(&k, level, bad.i) == Some(bad.k)).then_some(sp)
        });
        self.ctx = saved;
        self.indices.pop();
        self.diags.truncate(mark);
        at
    }

    fn int_const(&mut self, e: &Expr, what: &str) -> Option<i64> {
        match self.expr(e)? {
            CExpr::Num(x) if x.fract() == 0.0 && x.abs() < 1e15 => Some(x as i64),
            _ => self.err(
                Diagnostic::error(e.span, format!("{what} is not an integer constant"))
                    .with_label("expected an integer expression of numbers and params"),
            ),
        }
    }
}

pub(super) fn arity_error(name: &Ident, want: usize, got: usize, what: &str) -> Diagnostic {
    let s = |k: usize| if k == 1 { "" } else { "s" };
    Diagnostic::error(
        name.span,
        format!(
            "{what} `{}` called with {got} argument{}",
            name.name,
            s(got)
        ),
    )
    .with_label(format!("expected {want} argument{}", s(want)))
}

/// True when `e` is built from numbers and sum indices only.
fn uses_only_indices(e: &CExpr) -> bool {
    match e {
        CExpr::Num(_) | CExpr::IndexVar(_) => true,
        CExpr::Neg(a) => uses_only_indices(a),
        CExpr::Binary(_, a, b) => uses_only_indices(a) && uses_only_indices(b),
        CExpr::Call(_, args) => args.iter().all(uses_only_indices),
        _ => false,
    }
}

/// True when `e` refers to a name whose declaration had an error.
fn mentions_broken(e: &Expr, scope: &Scope) -> bool {
    match &e.kind {
        ExprKind::Num(_) => false,
        ExprKind::Var { name, index, .. } => {
            scope.get(&name.name) == Some(Name::Broken)
                || index.as_deref().is_some_and(|i| mentions_broken(i, scope))
        }
        ExprKind::Call { name, args, index } => {
            scope.get(&name.name) == Some(Name::Broken)
                || args.iter().any(|a| mentions_broken(a, scope))
                || index.as_deref().is_some_and(|i| mentions_broken(i, scope))
        }
        ExprKind::Neg(a) => mentions_broken(a, scope),
        ExprKind::Binary(_, a, b) => mentions_broken(a, scope) || mentions_broken(b, scope),
        ExprKind::Sum { range, body, .. } => {
            mentions_broken(body, scope)
                || range
                    .as_ref()
                    .is_some_and(|(a, b)| mentions_broken(a, scope) || mentions_broken(b, scope))
        }
    }
}

/// Lengths of the arrays that `body` indexes with an expression mentioning `var`.
fn index_lengths(body: &Expr, var: &str, scope: &Scope) -> Vec<(usize, Span)> {
    fn mentions(e: &Expr, var: &str) -> bool {
        match &e.kind {
            ExprKind::Num(_) => false,
            ExprKind::Var { name, index, .. } => {
                name.name == var || index.as_deref().is_some_and(|i| mentions(i, var))
            }
            ExprKind::Call { args, index, .. } => {
                args.iter().any(|a| mentions(a, var))
                    || index.as_deref().is_some_and(|i| mentions(i, var))
            }
            ExprKind::Neg(a) => mentions(a, var),
            ExprKind::Binary(_, a, b) => mentions(a, var) || mentions(b, var),
            ExprKind::Sum {
                var: v,
                range,
                body,
            } => {
                v.name != var
                    && (mentions(body, var)
                        || range
                            .as_ref()
                            .is_some_and(|(a, b)| mentions(a, var) || mentions(b, var)))
            }
        }
    }
    fn walk(e: &Expr, var: &str, scope: &Scope, out: &mut Vec<(usize, Span)>) {
        match &e.kind {
            ExprKind::Num(_) => {}
            ExprKind::Var { name, index, .. } => {
                if let Some(ix) = index {
                    if mentions(ix, var) {
                        if let Some(Name::Coord(c)) = scope.get(&name.name) {
                            if let Some(len) = scope.coords[c].len {
                                out.push((len, e.span));
                            }
                        }
                    }
                    walk(ix, var, scope, out);
                }
            }
            ExprKind::Call { args, index, .. } => {
                args.iter().for_each(|a| walk(a, var, scope, out));
                if let Some(i) = index {
                    walk(i, var, scope, out);
                }
            }
            ExprKind::Neg(a) => walk(a, var, scope, out),
            ExprKind::Binary(_, a, b) => {
                walk(a, var, scope, out);
                walk(b, var, scope, out);
            }
            ExprKind::Sum { var: v, body, .. } => {
                if v.name != var {
                    walk(body, var, scope, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(body, var, scope, &mut out);
    out
}

/// An array element found out of range by [`out_of_range`].
struct OutOfRange {
    /// The coordinate array.
    coord: usize,
    /// Its length.
    len: usize,
    /// The value of the sum index.
    i: i64,
    /// The element index it gives.
    k: f64,
}

/// Value of index expression `e` when index `level` is `i`; `None` if it depends on
/// anything else.
fn eval_index(e: &CExpr, level: usize, i: i64) -> Option<f64> {
    Some(match e {
        CExpr::Num(x) => *x,
        CExpr::IndexVar(l) if *l == level => i as f64,
        CExpr::Neg(a) => -eval_index(a, level, i)?,
        CExpr::Binary(op, a, b) => op.apply(eval_index(a, level, i)?, eval_index(b, level, i)?),
        CExpr::Call(f, args) => {
            let a = eval_index(args.first()?, level, i)?;
            let b = args
                .get(1)
                .map(|b| eval_index(b, level, i))
                .unwrap_or(Some(0.0))?;
            f.apply(a, b)
        }
        _ => return None,
    })
}

/// Finds a non-periodic array element indexed out of range for some value of index
/// `level` in `lo..hi` (other indices fixed at 0 is not attempted: only indices that
/// depend on `level` alone are checked).
fn out_of_range(body: &CExpr, level: usize, lo: i64, hi: i64, scope: &Scope) -> Option<OutOfRange> {
    let mut found = None;
    visit(body, &mut |e| {
        if found.is_some() {
            return;
        }
        if let CExpr::Coord {
            coord,
            index: Some(ix),
            ..
        } = e
        {
            let c = &scope.coords[*coord];
            let Some(len) = c.len else { return };
            for i in lo..hi {
                let Some(k) = eval_index(ix, level, i) else {
                    return;
                };
                let bad = k.fract() != 0.0 || (!c.periodic && (k < 0.0 || k >= len as f64));
                if bad {
                    found = Some(OutOfRange {
                        coord: *coord,
                        len,
                        i,
                        k,
                    });
                    return;
                }
            }
        }
    });
    found
}

/// Calls `f` on every node of `e`, parents first.
pub fn visit(e: &CExpr, f: &mut dyn FnMut(&CExpr)) {
    f(e);
    match e {
        CExpr::Coord { index: Some(i), .. } => visit(i, f),
        CExpr::Neg(a) | CExpr::Rate(a) => visit(a, f),
        CExpr::Binary(_, a, b) | CExpr::Random(_, a, b) => {
            visit(a, f);
            visit(b, f);
        }
        CExpr::Call(_, args) | CExpr::Net { args, .. } => args.iter().for_each(|a| visit(a, f)),
        CExpr::Sum { body, .. } => visit(body, f),
        _ => {}
    }
}

/// Resolves the system expression `e` in `ctx` (see [`resolve_with`]).
pub(super) fn resolve(
    scope: &Scope,
    diags: &mut Vec<Diagnostic>,
    ctx: Ctx,
    e: &Expr,
    relu: &mut Option<Span>,
) -> Option<CExpr> {
    resolve_with(scope, diags, ctx, relu, |r| r.expr(e))
}

/// Runs `f` on a resolver of the system's expressions in `ctx`.
pub(super) fn resolve_with<T>(
    scope: &Scope,
    diags: &mut Vec<Diagnostic>,
    ctx: Ctx,
    relu: &mut Option<Span>,
    f: impl FnOnce(&mut Resolver) -> Option<T>,
) -> Option<T> {
    let mut r = Resolver {
        scope,
        diags,
        ctx,
        indices: vec![],
        relu_used: None,
        symbolic: scope.symbolic_params,
    };
    let out = f(&mut r);
    if relu.is_none() {
        *relu = r.relu_used;
    }
    out
}

/// An array coordinate assigned without an element index (`expected` shows the form).
pub(super) fn missing_index(name: &str, at: Span, expected: String) -> Diagnostic {
    Diagnostic::error(at, format!("array `{name}` needs an element index")).with_label(expected)
}

/// A scalar coordinate assigned with an index.
pub(super) fn scalar_indexed(name: &str, at: Span) -> Diagnostic {
    Diagnostic::error(at, format!("`{name}` is a scalar coordinate, not an array"))
        .with_label("expected no index")
}
