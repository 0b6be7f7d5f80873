//! Measured inputs (`input u;`): where a system may use them.
//!
//! An input is a signal of time known only from data. Kernels take it as an input slot
//! that the caller fills (the integrators with the interpolated signal at each stage's
//! time, the trainer from the data's column), so it may appear wherever the equations
//! need no time derivative of it: in `L` (outside the velocity terms, which the
//! symbolic stage checks), `H`, `accel`, `force` and `dissipation`. Constraints and
//! event guards or resets are projected and bisected on the state alone, so inputs are
//! refused there.

use super::model::{CExpr, SystemModel};
use crate::diagnostics::{Diagnostic, Span};

/// The first input `e` uses, directly or through `let` bindings.
pub fn input_in(e: &CExpr, lets: &[(String, CExpr)]) -> Option<usize> {
    let mut seen = vec![false; lets.len()];
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        let mut found = None;
        let mut deps = vec![];
        super::expr::visit(x, &mut |n| match n {
            CExpr::Input(k) => found = found.or(Some(*k)),
            CExpr::Let(k) => deps.push(*k),
            _ => {}
        });
        if found.is_some() {
            return found;
        }
        for k in deps {
            if !std::mem::replace(&mut seen[k], true) {
                stack.push(&lets[k].1);
            }
        }
    }
    None
}

/// Errors for inputs in the constraints and events of a checked system.
pub fn check_uses(m: &SystemModel, diags: &mut Vec<Diagnostic>) {
    for c in &m.constraints {
        if let Some(k) = input_in(&c.expr, &m.lets) {
            diags.push(
                Diagnostic::error(c.span, format!("input `{}` in a constraint", m.inputs[k]))
                    .with_label(
                        "constraints are kept by projecting the state: expected coordinates, velocities, params and `t` only",
                    ),
            );
        }
    }
    for e in &m.events {
        let mut exprs = vec![&e.guard];
        exprs.extend(e.resets.iter().map(|r| &r.value));
        if let Some(k) = exprs.iter().find_map(|x| input_in(x, &m.lets)) {
            diags.push(
                Diagnostic::error(e.span, format!("input `{}` in an event", m.inputs[k]))
                    .with_label(
                        "events are located on the state alone: expected coordinates, velocities, params and `t` in the guard and the resets",
                    ),
            );
        }
    }
}

/// A simulate block's `inputs = "F";` (written at `key`): required exactly when the
/// system has inputs.
pub(super) fn simulate_setting(
    sys: &SystemModel,
    key: Option<Span>,
    system_span: Span,
    diags: &mut Vec<Diagnostic>,
) {
    match (key, sys.inputs.is_empty()) {
        (None, false) => diags.push(
            Diagnostic::error(
                system_span,
                format!(
                    "system `{}` has measured inputs ({}), and this block does not give them",
                    sys.name,
                    sys.inputs.join(", ")
                ),
            )
            .with_label(format!(
                "expected `inputs = \"FILE.csv\";` (columns t, {}) in this block",
                sys.inputs.join(", ")
            )),
        ),
        (Some(sp), true) => diags.push(
            Diagnostic::error(sp, format!("system `{}` has no inputs", sys.name))
                .with_label("expected `input u;` in the system for `inputs = ...;`"),
        ),
        _ => {}
    }
}
