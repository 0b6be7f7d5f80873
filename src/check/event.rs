//! Checking `event NAME: A <= B => x' = EXPR, ...;`: a guard of the system's variables
//! and assignments to coordinates or velocities (array elements by constant index).

use super::expr::{missing_index, resolve, scalar_indexed, Ctx};
use super::model::{CExpr, Event, Op, Reset};
use super::scope::{Name, Scope};
use crate::diagnostics::{line_col, Diagnostic};
use crate::syntax::ast::{EventDecl, TargetBinding};

/// The checked event, or `None` after a diagnostic.
pub fn check_event(
    src: &str,
    scope: &Scope,
    earlier: &[Event],
    decl: &EventDecl,
    diags: &mut Vec<Diagnostic>,
) -> Option<Event> {
    if let Some(first) = earlier.iter().find(|e| e.name == decl.name.name) {
        let (l, c) = line_col(src, first.span.start);
        diags.push(
            Diagnostic::error(
                decl.name.span,
                format!("duplicate event `{}`", decl.name.name),
            )
            .with_label("expected a new event name")
            .with_note(format!("first declared at line {l}:{c}")),
        );
        return None;
    }
    let mut relu = None;
    let lhs = resolve(scope, diags, Ctx::Lagrangian, &decl.lhs, &mut relu);
    let rhs = resolve(scope, diags, Ctx::Lagrangian, &decl.rhs, &mut relu);
    let resets: Vec<Option<Reset>> = decl
        .resets
        .iter()
        .map(|b| check_reset(scope, b, diags))
        .collect();
    let (lhs, rhs) = (lhs?, rhs?);
    let resets: Vec<Reset> = resets.into_iter().collect::<Option<_>>()?;
    let (a, b) = if decl.falling { (lhs, rhs) } else { (rhs, lhs) };
    Some(Event {
        name: decl.name.name.clone(),
        guard: CExpr::Binary(Op::Sub, Box::new(a), Box::new(b)),
        resets,
        span: decl.span,
    })
}

/// `x = EXPR`, `x' = EXPR` or `phi'[3] = EXPR`.
fn check_reset(scope: &Scope, b: &TargetBinding, diags: &mut Vec<Diagnostic>) -> Option<Reset> {
    let t = &b.target;
    let n = &t.name.name;
    let Some(Name::Coord(c)) = scope.get(n) else {
        diags.push(
            Diagnostic::error(
                t.name.span,
                format!("event resets `{n}`, which is not a coordinate"),
            )
            .with_label("expected a coordinate or its velocity: `x = ...` or `x' = ...`"),
        );
        return None;
    };
    if t.primes > 1 {
        diags.push(
            Diagnostic::error(t.span, "an event cannot set an acceleration")
                .with_label("expected a coordinate or its velocity: `x = ...` or `x' = ...`"),
        );
        return None;
    }
    let index = match (&t.index, scope.coords[c].len) {
        (None, None) => None,
        (Some(ix), Some(len)) => {
            let mut relu = None;
            let k = match resolve(scope, diags, Ctx::Constant, ix, &mut relu)? {
                CExpr::Num(k) if k.fract() == 0.0 && k >= 0.0 && (k as usize) < len => k as usize,
                _ => {
                    diags.push(
                        Diagnostic::error(ix.span, "event target index out of range")
                            .with_label(format!("expected a constant integer in 0..{len}")),
                    );
                    return None;
                }
            };
            Some(k)
        }
        (None, Some(_)) => {
            let expected = format!("expected `{n}[k] = ...` with a constant k");
            diags.push(missing_index(n, t.span, expected));
            return None;
        }
        (Some(ix), None) => {
            diags.push(scalar_indexed(n, ix.span));
            return None;
        }
    };
    let mut relu = None;
    let value = resolve(scope, diags, Ctx::Lagrangian, &b.value, &mut relu)?;
    Some(Reset {
        coord: c,
        vel: t.primes == 1,
        index,
        value,
    })
}
