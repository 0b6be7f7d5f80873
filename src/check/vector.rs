//! Vectors in expressions: `vec(...)`, componentwise `+ -`, scaling by `* /`, `dot`,
//! `norm`, `cross`, components `p[k]` and velocities `p'` of `let` bindings.
//!
//! Vectors exist only here: a vector resolves to its scalar components, and a vector
//! `let` to one scalar `let` per component, so later stages see scalars only. The
//! velocity of a `let` is a [`CExpr::Rate`], which the symbolic stage differentiates.

use super::expr::{arity_error, fold, Resolver};
use super::model::{Builtin, CExpr, Op};
use super::scope::Name;
use crate::diagnostics::{Diagnostic, Span};
use crate::syntax::ast::{Expr, Ident};

/// A resolved expression: one number, or the components of a vector.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar.
    Scalar(CExpr),
    /// A vector's components, at least one.
    Vector(Vec<CExpr>),
}

impl Value {
    /// Applies `f` to the scalar or to every component.
    pub fn map(self, f: impl Fn(CExpr) -> CExpr) -> Value {
        match self {
            Value::Scalar(e) => Value::Scalar(f(e)),
            Value::Vector(c) => Value::Vector(c.into_iter().map(f).collect()),
        }
    }

    /// The scalar, or the components.
    pub fn parts(&self) -> &[CExpr] {
        match self {
            Value::Scalar(e) => std::slice::from_ref(e),
            Value::Vector(c) => c,
        }
    }

    /// A number (or component) that is not finite, if any.
    pub fn non_finite(&self) -> Option<f64> {
        self.parts().iter().find_map(|e| match e {
            CExpr::Num(x) if !x.is_finite() => Some(*x),
            _ => None,
        })
    }
}

/// The functions on vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VecFn {
    /// `vec(e1, ..., ek)`: a vector of k >= 1 components.
    Vec,
    /// `dot(a, b)`: the scalar product of two vectors of one size.
    Dot,
    /// `norm(a)`: the Euclidean length, sqrt(dot(a, a)).
    Norm,
    /// `cross(a, b)`: the vector product of two 3D vectors.
    Cross,
}

impl VecFn {
    /// Their spellings (reserved like the built-in functions).
    pub const NAMES: [&'static str; 4] = ["vec", "dot", "norm", "cross"];

    /// The function spelled `name`.
    pub fn from_name(name: &str) -> Option<VecFn> {
        match name {
            "vec" => Some(VecFn::Vec),
            "dot" => Some(VecFn::Dot),
            "norm" => Some(VecFn::Norm),
            "cross" => Some(VecFn::Cross),
            _ => None,
        }
    }
}

/// `a op b`, folded when both are numbers.
fn bin(op: Op, a: CExpr, b: CExpr) -> CExpr {
    fold(CExpr::Binary(op, Box::new(a), Box::new(b)))
}

/// The scalar product of two component lists of one length.
fn dot(a: &[CExpr], b: &[CExpr]) -> CExpr {
    a.iter()
        .zip(b)
        .map(|(x, y)| bin(Op::Mul, x.clone(), y.clone()))
        .reduce(|s, p| bin(Op::Add, s, p))
        .unwrap_or(CExpr::Num(0.0))
}

/// The vector product of two 3D component lists.
fn cross(a: &[CExpr], b: &[CExpr]) -> Vec<CExpr> {
    let term = |i: usize, j: usize| {
        let l = bin(Op::Mul, a[i].clone(), b[j].clone());
        let r = bin(Op::Mul, a[j].clone(), b[i].clone());
        bin(Op::Sub, l, r)
    };
    vec![term(1, 2), term(2, 0), term(0, 1)]
}

/// `a op b` with at least one vector side, or the message and label of the error.
fn combine(op: Op, a: Value, b: Value) -> Result<Value, (String, String)> {
    use Value::{Scalar, Vector};
    let s = symbol(op);
    let scaled =
        |v: Vec<CExpr>, f: &dyn Fn(CExpr) -> CExpr| Ok(Vector(v.into_iter().map(f).collect()));
    let fail = |m: String, l: &str| Err((m, l.to_string()));
    match (op, a, b) {
        (Op::Add | Op::Sub, Vector(a), Vector(b)) if a.len() == b.len() => {
            let sum = a.into_iter().zip(b).map(|(x, y)| bin(op, x, y));
            Ok(Vector(sum.collect()))
        }
        (Op::Add | Op::Sub, Vector(a), Vector(b)) => fail(
            format!(
                "vectors of different sizes ({} and {}) around `{s}`",
                a.len(),
                b.len()
            ),
            "expected two vectors with the same number of components",
        ),
        (Op::Mul, Scalar(k), Vector(v)) => scaled(v, &|x| bin(op, k.clone(), x)),
        (Op::Mul | Op::Div, Vector(v), Scalar(k)) => scaled(v, &|x| bin(op, x, k.clone())),
        (Op::Add | Op::Sub, ..) => fail(
            format!("a vector and a number around `{s}`"),
            "expected two vectors of one size, or two numbers (pick a component with `[k]`)",
        ),
        (Op::Mul, ..) => fail(
            "product of two vectors".into(),
            "expected a number on one side of `*`; use `dot(a, b)` or `cross(a, b)`",
        ),
        (Op::Div, ..) => fail("division by a vector".into(), "expected a number after `/`"),
        (Op::Pow, ..) => fail(
            "a vector around `^`".into(),
            "expected numbers on both sides of `^`; `dot(a, a)` is a squared length",
        ),
    }
}

/// How an operator is written, for messages.
fn symbol(op: Op) -> &'static str {
    match op {
        Op::Add => "+",
        Op::Sub => "-",
        Op::Mul => "*",
        Op::Div => "/",
        Op::Pow => "^",
    }
}

/// "1 component", "3 components".
fn components(n: usize) -> String {
    format!("{n} component{}", if n == 1 { "" } else { "s" })
}

impl Resolver<'_> {
    /// Requires `v` (written at `span`) to be a scalar.
    pub(super) fn scalar(&mut self, v: Value, span: Span) -> Option<CExpr> {
        match v {
            Value::Scalar(e) => Some(e),
            Value::Vector(c) => self.err(
                Diagnostic::error(
                    span,
                    format!(
                        "a vector ({}) where a number is expected",
                        components(c.len())
                    ),
                )
                .with_label(
                    "expected a scalar: pick a component with `[k]`, or use `dot` or `norm`",
                ),
            ),
        }
    }

    /// Resolves an argument of vector function `f`, which must be a vector.
    fn vector_arg(&mut self, arg: &Expr, f: &str) -> Option<Vec<CExpr>> {
        match self.value(arg)? {
            Value::Vector(c) => Some(c),
            Value::Scalar(_) => self.err(
                Diagnostic::error(arg.span, format!("a number given to `{f}`"))
                    .with_label("expected a vector, e.g. `vec(x, y)` or a vector `let`"),
            ),
        }
    }

    /// `a op b` when at least one side is a vector.
    pub(super) fn vector_binary(
        &mut self,
        span: Span,
        op: Op,
        a: Value,
        b: Value,
    ) -> Option<Value> {
        match combine(op, a, b) {
            Ok(v) => Some(v),
            Err((message, label)) => self.err(Diagnostic::error(span, message).with_label(label)),
        }
    }

    /// `vec(...)`, `dot(a, b)`, `norm(a)` or `cross(a, b)`, then the component `[k]` if
    /// one is picked.
    pub(super) fn vector_call(
        &mut self,
        span: Span,
        f: VecFn,
        name: &Ident,
        args: &[Expr],
        index: Option<&Expr>,
    ) -> Option<Value> {
        let n = name.name.as_str();
        let arity = match f {
            VecFn::Vec => args.len().max(1),
            VecFn::Norm => 1,
            VecFn::Dot | VecFn::Cross => 2,
        };
        if args.len() != arity {
            if args.is_empty() && f == VecFn::Vec {
                return self.err(
                    Diagnostic::error(span, "`vec()` without components")
                        .with_label("expected at least one component, e.g. `vec(x, y)`"),
                );
            }
            return self.err(arity_error(name, arity, args.len(), "function"));
        }
        let out = match f {
            VecFn::Vec => {
                let c: Vec<Option<CExpr>> = args.iter().map(|a| self.expr(a)).collect();
                Value::Vector(c.into_iter().collect::<Option<_>>()?)
            }
            VecFn::Norm => {
                let a = self.vector_arg(&args[0], n)?;
                Value::Scalar(fold(CExpr::Call(Builtin::Sqrt, vec![dot(&a, &a)])))
            }
            VecFn::Dot => {
                let (a, b) = self.vector_pair(span, args, n)?;
                Value::Scalar(dot(&a, &b))
            }
            VecFn::Cross => {
                let (a, b) = self.vector_pair(span, args, n)?;
                if a.len() != 3 {
                    return self.err(
                        Diagnostic::error(
                            span,
                            format!("`cross` of vectors with {}", components(a.len())),
                        )
                        .with_label("expected two 3D vectors (`cross` is defined in 3D only)"),
                    );
                }
                Value::Vector(cross(&a, &b))
            }
        };
        match (index, out) {
            (None, out) => Some(out),
            (Some(ix), Value::Vector(c)) => {
                let k = self.component(ix, c.len(), &format!("`{n}(...)`"))?;
                Some(Value::Scalar(c[k].clone()))
            }
            (Some(_), Value::Scalar(_)) => self.err(
                Diagnostic::error(span, format!("`{n}(...)` returns one number"))
                    .with_label(format!("expected no `[...]` after `{n}(...)`")),
            ),
        }
    }

    /// The two vector arguments of `dot` or `cross`, which must have one size.
    fn vector_pair(
        &mut self,
        span: Span,
        args: &[Expr],
        f: &str,
    ) -> Option<(Vec<CExpr>, Vec<CExpr>)> {
        let (a, b) = (self.vector_arg(&args[0], f), self.vector_arg(&args[1], f));
        let (a, b) = (a?, b?);
        if a.len() != b.len() {
            return self.err(
                Diagnostic::error(
                    span,
                    format!(
                        "`{f}` of vectors of different sizes ({} and {})",
                        a.len(),
                        b.len()
                    ),
                )
                .with_label("expected two vectors with the same number of components"),
            );
        }
        Some((a, b))
    }

    /// The component index `ix` of a vector of `len` components (`what` names it):
    /// an integer constant in 0..len.
    fn component(&mut self, ix: &Expr, len: usize, what: &str) -> Option<usize> {
        let symbolic = std::mem::replace(&mut self.symbolic, false);
        let k = self.expr(ix);
        self.symbolic = symbolic;
        match k? {
            CExpr::Num(x) if x.fract() == 0.0 && x >= 0.0 && x < len as f64 => Some(x as usize),
            CExpr::Num(x) => self.err(
                Diagnostic::error(ix.span, format!("index {x} out of range for {what}"))
                    .with_label(format!(
                        "expected an integer in 0..{len} ({what} has {})",
                        components(len)
                    )),
            ),
            _ => self.err(
                Diagnostic::error(ix.span, format!("index of {what} is not a constant"))
                    .with_label(format!("expected an integer constant in 0..{len}")),
            ),
        }
    }

    /// A `let` binding `n` (`found`: a scalar or a vector), its velocity with `'`, or one
    /// component with `[k]`.
    pub(super) fn let_value(
        &mut self,
        span: Span,
        n: &str,
        found: Name,
        primes: u8,
        index: Option<&Expr>,
    ) -> Option<Value> {
        if primes > 1 {
            return self.err(
                Diagnostic::error(
                    span,
                    format!("acceleration `{n}{}` of a let", "'".repeat(primes as usize)),
                )
                .with_label(format!(
                    "expected `{n}` or its velocity `{n}'`; accelerations are what lagc derives"
                )),
            );
        }
        let value = match (found, index) {
            (Name::Let(k), None) => Value::Scalar(CExpr::Let(k)),
            (Name::Let(_), Some(_)) => {
                return self.err(
                    Diagnostic::error(span, format!("`{n}` is a scalar let, not a vector"))
                        .with_label(
                            "expected no index (only vectors and array coordinates are indexed)",
                        ),
                )
            }
            (Name::Vector { first, len }, None) => {
                Value::Vector((first..first + len).map(CExpr::Let).collect())
            }
            (Name::Vector { first, len }, Some(ix)) => {
                let k = self.component(ix, len, &format!("vector `{n}`"))?;
                Value::Scalar(CExpr::Let(first + k))
            }
            _ => return None,
        };
        if primes == 0 {
            return Some(value);
        }
        self.rate_allowed(span, n, &value)?;
        Some(value.map(|e| CExpr::Rate(Box::new(e))))
    }

    /// Errors unless the velocity of `value` (the `let` `n`, written `n'` at `span`) can
    /// be taken: not in an `H` system, and no velocities inside.
    fn rate_allowed(&mut self, span: Span, n: &str, value: &Value) -> Option<()> {
        if self.scope.hamiltonian {
            return self.err(
                Diagnostic::error(span, format!("velocity `{n}'` in an H system")).with_label(
                    "expected coordinates and momenta only (H is a function of q and p)",
                ),
            );
        }
        let flags = &self.scope.let_uses_velocity;
        if value.parts().iter().any(|e| uses_velocity(e, flags)) {
            let message = format!("`{n}'` would need accelerations: `{n}` uses velocities");
            let label = format!(
                "expected the velocity of a let of coordinates, params and `t` only \
                 (`{n}'` is d{n}/dt by the chain rule)"
            );
            return self.err(Diagnostic::error(span, message).with_label(label));
        }
        Some(())
    }
}

/// Whether `e` depends on velocities (or momenta), directly or through the `let`
/// bindings flagged in `let_uses_velocity`.
pub fn uses_velocity(e: &CExpr, let_uses_velocity: &[bool]) -> bool {
    let mut found = false;
    super::expr::visit(e, &mut |x| {
        found |= match x {
            CExpr::Coord { vel, .. } => *vel,
            CExpr::Momentum { .. } | CExpr::Rate(_) => true,
            CExpr::Let(k) => let_uses_velocity[*k],
            _ => false,
        }
    });
    found
}
