//! Whether two systems fit together: `compare = truth` in a simulate block, and
//! `data = sample(truth, ...)` in a train block.

use super::*;

/// Why `compare = truth` cannot follow `sys`'s trajectory (located at `at`): an H system
/// against an L or accel one, or a truth coordinate the simulated system lacks.
pub(super) fn compare_problem(
    sys: &SystemModel,
    truth: &SystemModel,
    at: Span,
) -> Option<Diagnostic> {
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
pub(super) fn truth_problem(
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
