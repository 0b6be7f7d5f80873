//! `plot_vars = [...]`: the columns a simulate block's plot draws, checked against the
//! system's columns.

use super::*;

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
pub(super) fn plot_vars(
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
