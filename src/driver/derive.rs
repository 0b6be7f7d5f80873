//! The derived equations of a system as text, LaTeX or JSON (what `lagc derive` prints).

use super::accel::{self, Accel};
use crate::check::SystemModel;
use crate::symbolic::eom::{velocity_name, Eom, EomKind};
use crate::symbolic::lattice::{slot_name, Lattice, PerIndex, SiteTerm};
use crate::symbolic::simplify::Simplifier;
use crate::symbolic::{Dag, ExprId};
use std::collections::HashMap;

/// How to print one expression.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Infix text.
    Text,
    /// LaTeX.
    Latex,
}

/// A system's derivation as `lagc derive` shows it: the equations (with params as
/// symbols when derived from [`crate::check::symbolic_system`]'s model), the param
/// values listed once, and how q'' follows from H q'' = r.
pub struct Derivation {
    name: String,
    params: Vec<(String, f64)>,
    eom: Eom,
    accel: Accel,
}

impl Derivation {
    /// The derivation of `sys`, whose equations are `eom`.
    pub fn new(sys: &SystemModel, mut eom: Eom) -> Derivation {
        let values: HashMap<String, f64> = sys.params.iter().chain(&sys.learns).cloned().collect();
        let mut accel = accel::accel(&mut eom, &values);
        simplify_for_display(&mut eom, &mut accel);
        Derivation {
            name: sys.name.clone(),
            params: sys.params.clone(),
            eom,
            accel,
        }
    }

    /// The sentence saying where H is singular, if it is.
    pub fn singular(&self) -> Option<&str> {
        match &self.accel {
            Accel::Singular(s) => Some(s),
            _ => None,
        }
    }
}

/// Replaces every expression of `eom` (constraints included) and `accel` by its display form
/// ([`display_form`]); the kernels are built from another [`Eom`], so their numbers
/// do not change.
fn simplify_for_display(eom: &mut Eom, accel: &mut Accel) {
    let mut simp = Simplifier::new();
    let dag = &mut eom.dag;
    let mut each = |ids: &mut [ExprId]| {
        for id in ids {
            *id = display_form(dag, &mut simp, *id);
        }
    };
    match &mut eom.kind {
        EomKind::Lagrangian {
            l,
            dl_dq,
            dl_dv,
            hess,
            mixed,
            rhs,
            energy,
        } => {
            each(std::slice::from_mut(l));
            each(std::slice::from_mut(energy));
            for v in [dl_dq, dl_dv, hess, mixed, rhs] {
                each(v);
            }
        }
        EomKind::Hamiltonian { h, dq, dp } => {
            each(std::slice::from_mut(h));
            each(dq);
            each(dp);
        }
        EomKind::Accel(acc) => each(acc),
        EomKind::Lattice(_) => {}
    }
    if let Accel::Explicit(acc) = accel {
        each(acc);
    }
    let cons = &mut eom.constraints;
    for v in [&mut cons.g, &mut cons.a, &mut cons.c] {
        each(v);
    }
    for phi in cons.phi.iter_mut().flatten() {
        each(std::slice::from_mut(phi));
    }
}

/// How `id` is printed: the form that prints shortest ([`Simplifier::shortest`]), or
/// `id` itself when it is too large to print at all.
fn display_form(dag: &mut Dag, simp: &mut Simplifier, id: ExprId) -> ExprId {
    if dag.tree_size(id) > MAX_PRINTED_NODES {
        return id;
    }
    simp.shortest(dag, id)
}

/// Expressions larger than this (written out as trees) are summarised, not printed.
pub const MAX_PRINTED_NODES: f64 = 20_000.0;

fn show(eom: &Eom, id: ExprId, style: Style) -> String {
    let size = eom.dag.tree_size(id);
    if size > MAX_PRINTED_NODES {
        return format!(
            "<{size:.0} operations written out ({} shared): too large to print; see `lagc emit --ir kernel`>",
            eom.dag.count_reachable(&[id])
        );
    }
    match style {
        Style::Text => eom.dag.to_text(id),
        Style::Latex => eom.dag.to_latex(id),
    }
}

fn lhs(name: &str, style: Style) -> String {
    match style {
        Style::Text => name.to_string(),
        Style::Latex => crate::symbolic::print::latex_name(name),
    }
}

/// The derivation of one system as text or LaTeX lines.
pub fn render(d: &mut Derivation, style: Style) -> String {
    let Derivation {
        name,
        params,
        eom,
        accel,
    } = d;
    let n = eom.dof();
    let qn: Vec<String> = eom.q_names();
    let vn: Vec<String> = qn.iter().map(|q| velocity_name(q)).collect();
    let mut lines: Vec<(String, String)> = vec![];
    let (text, tex) = (style == Style::Text, style == Style::Latex);
    let frac = |a: &str, b: &str| {
        if text {
            format!("dL/d{b}")
        } else {
            format!("\\frac{{\\partial L}}{{\\partial {}}}", lhs(a, style))
        }
    };
    let second = |a: &str, b: &str| {
        if text {
            format!("d2L/d{a}d{b}")
        } else {
            format!(
                "\\frac{{\\partial^2 L}}{{\\partial {} \\partial {}}}",
                lhs(a, style),
                lhs(b, style)
            )
        }
    };
    let kind;
    match &eom.kind {
        EomKind::Lattice(lat) => {
            kind = "Lagrangian, loop form";
            let lat = lat.clone();
            let at = lattice_lines(eom, &lat);
            lines.push(("L".into(), sums_text(eom, &at.density, style)));
            let (fq, fv) = (&at.q_names, &at.v_names);
            for (f, &e) in at.eq.dl_dq.iter().enumerate() {
                lines.push((frac(&fq[f], &fq[f]), show(eom, e, style)));
            }
            for (f, &e) in at.eq.dl_dv.iter().enumerate() {
                lines.push((frac(&fv[f], &fv[f]), show(eom, e, style)));
            }
            for &(a, b, d, e) in &at.eq.hess {
                let col = slot_name(&lat.fields[b], true, "i", d);
                let key = if text {
                    format!("H[{}, {col}] = {}", fv[a], second(&fv[a], &col))
                } else {
                    format!(
                        "H_{{{},{}}} = {}",
                        lhs(&fv[a], style),
                        lhs(&col, style),
                        second(&fv[a], &col)
                    )
                };
                lines.push((key, show(eom, e, style)));
            }
            lines.push(("energy".into(), sums_text(eom, &at.energy, style)));
            for (f, &e) in at.eq.rhs.iter().enumerate() {
                let key = if tex {
                    format!("r_{{{}}}", lhs(&fq[f], style))
                } else {
                    format!("r[{}]", fq[f])
                };
                lines.push((key, show(eom, e, style)));
            }
            let (lo, up) = lat.band();
            let q2 = if tex { "\\ddot{q}" } else { "q''" };
            let solve = format!(
                "H^-1 r  (H banded: {lo} below, {up} above the diagonal{}; {} sites; solved in O(N){})",
                if lat.periodic { ", cyclic" } else { "" },
                lat.sites,
                if lat.periodic {
                    ""
                } else {
                    "; the rows at index i hold away from the ends"
                }
            );
            lines.push((q2.into(), if tex { "H^{-1} r".into() } else { solve }));
        }
        EomKind::Lagrangian {
            l,
            dl_dq,
            dl_dv,
            hess,
            mixed,
            rhs,
            energy,
        } => {
            kind = "Lagrangian";
            lines.push(("L".into(), show(eom, *l, style)));
            for i in 0..n {
                lines.push((frac(&qn[i], &qn[i]), show(eom, dl_dq[i], style)));
            }
            for i in 0..n {
                lines.push((frac(&vn[i], &vn[i]), show(eom, dl_dv[i], style)));
            }
            for (m, name, cols) in [(hess, "H", &vn), (mixed, "M", &qn)] {
                let mut any = false;
                for i in 0..n {
                    for j in 0..n {
                        let e = m[i * n + j];
                        if eom.dag.as_const(e) == Some(0.0) {
                            continue;
                        }
                        any = true;
                        let key = if text {
                            format!(
                                "{name}[{}, {}] = {}",
                                vn[i],
                                cols[j],
                                second(&vn[i], &cols[j])
                            )
                        } else {
                            format!(
                                "{name}_{{{},{}}} = {}",
                                lhs(&vn[i], style),
                                lhs(&cols[j], style),
                                second(&vn[i], &cols[j])
                            )
                        };
                        lines.push((key, show(eom, e, style)));
                    }
                }
                if !any {
                    lines.push((name.to_string(), "0".into()));
                }
            }
            lines.push(("energy".into(), show(eom, *energy, style)));
            if eom.constraints.is_empty() {
                match accel {
                    Accel::Explicit(acc) => {
                        for i in 0..n {
                            lines.push((
                                lhs(&velocity_name(&vn[i]), style),
                                show(eom, acc[i], style),
                            ));
                        }
                    }
                    Accel::Solved | Accel::Singular(_) => {
                        for i in 0..n {
                            let key = if tex {
                                format!("r_{{{}}}", lhs(&qn[i], style))
                            } else {
                                format!("r[{}]", qn[i])
                            };
                            lines.push((key, show(eom, rhs[i], style)));
                        }
                        let q2 = if tex { "\\ddot{q}" } else { "q''" };
                        let r = match (&*accel, tex) {
                            (Accel::Singular(_), true) => "H^{+} r",
                            (Accel::Singular(_), false) => {
                                "H^+ r  (H singular: the pseudo-inverse, as the integrators use)"
                            }
                            (_, true) => "H^{-1} r",
                            (_, false) => {
                                "H^-1 r  (r = dL/dq - M q' - d2L/dq'dt + Q; solved by LU)"
                            }
                        };
                        lines.push((q2.into(), r.into()));
                    }
                }
            } else {
                constraint_lines(eom, rhs, &qn, style, &mut lines);
            }
        }
        EomKind::Hamiltonian { h, dq, dp } => {
            kind = "Hamiltonian";
            lines.push(("H".into(), show(eom, *h, style)));
            for i in 0..n {
                lines.push((lhs(&velocity_name(&qn[i]), style), show(eom, dq[i], style)));
            }
            for (&p, &d) in eom.v.iter().zip(dp) {
                let p = eom
                    .dag
                    .as_var(p)
                    .map(|v| eom.dag.var_name(v).to_string())
                    .unwrap_or_default();
                lines.push((lhs(&velocity_name(&p), style), show(eom, d, style)));
            }
            lines.push(("energy".into(), show(eom, *h, style)));
        }
        EomKind::Accel(acc) => {
            kind = "explicit accelerations";
            for i in 0..n {
                lines.push((lhs(&velocity_name(&vn[i]), style), show(eom, acc[i], style)));
            }
            lines.push((
                "energy".into(),
                if text {
                    "nan (accel systems have no energy)".into()
                } else {
                    "\\text{n/a}".into()
                },
            ));
        }
    }
    let mut out = String::new();
    let values = params_line(params);
    let warn = match accel {
        Accel::Singular(s) if eom.constraints.is_empty() => {
            format!("warning: the mass matrix is singular: {s}")
        }
        _ => String::new(),
    };
    if text {
        out.push_str(&format!("system {name} ({kind})\n"));
        for extra in [values, warn].iter().filter(|l| !l.is_empty()) {
            out.push_str(&format!("  {extra}\n"));
        }
        for (k, v) in lines {
            out.push_str(&format!("  {k} = {v}\n"));
        }
    } else {
        out.push_str(&format!("% system {name} ({kind})\n"));
        for extra in [values, warn].iter().filter(|l| !l.is_empty()) {
            out.push_str(&format!("% {extra}\n"));
        }
        out.push_str("\\begin{align*}\n");
        let body: Vec<String> = lines.iter().map(|(k, v)| format!("  {k} &= {v}")).collect();
        out.push_str(&body.join(" \\\\\n"));
        out.push_str("\n\\end{align*}\n");
    }
    out
}

/// A constrained system's lines: each constraint at the level it is kept (phi or g), its
/// row of A, c, the r of H q'' = r, and the saddle-point system q'' comes from.
fn constraint_lines(
    eom: &Eom,
    rhs: &[ExprId],
    qn: &[String],
    style: Style,
    lines: &mut Vec<(String, String)>,
) {
    let tex = style != Style::Text;
    let cons = &eom.constraints;
    let n = qn.len();
    for k in 0..cons.len() {
        let name = &cons.names[k];
        let (level, e) = match cons.phi[k] {
            Some(phi) => ("phi", phi),
            None => ("g", cons.g[k]),
        };
        let row: Vec<String> = (0..n)
            .map(|j| show(eom, cons.a[k * n + j], style))
            .collect();
        let (key, a, c) = if tex {
            let name = name.replace('_', r"\_");
            (
                format!("\\{level}_{{\\mathrm{{{name}}}}}"),
                format!("A_{{\\mathrm{{{name}}}}}"),
                format!("c_{{\\mathrm{{{name}}}}}"),
            )
        } else {
            (
                format!("{level}[{name}]"),
                format!("A[{name}]"),
                format!("c[{name}]"),
            )
        };
        lines.push((key, show(eom, e, style)));
        lines.push((a, format!("[{}]", row.join(", "))));
        lines.push((c, show(eom, cons.c[k], style)));
    }
    for (i, q) in qn.iter().enumerate() {
        let key = if tex {
            format!("r_{{{}}}", lhs(q, style))
        } else {
            format!("r[{q}]")
        };
        lines.push((key, show(eom, rhs[i], style)));
    }
    let solved = if tex {
        r"\begin{bmatrix} H & A^T \\ A & 0 \end{bmatrix}^{-1} \begin{bmatrix} r \\ c \end{bmatrix}"
    } else {
        "[H A^T; A 0]^-1 [r; c]  (A = dg/dq', g = dphi/dt or the constraint, c = -(dg/dq q' + dg/dt); the force is -A^T lambda; solved by LU)"
    };
    let q2 = if tex {
        r"(\ddot{q}, \lambda)"
    } else {
        "(q'', lambda)"
    };
    lines.push((q2.into(), solved.into()));
}

/// `params: g = 9.81, l = 2` (empty without params).
fn params_line(params: &[(String, f64)]) -> String {
    if params.is_empty() {
        return String::new();
    }
    let each: Vec<String> = params.iter().map(|(n, v)| format!("{n} = {v}")).collect();
    format!("params: {}", each.join(", "))
}

/// The derivation of one system as a JSON object of expression strings, with `params`
/// (name -> value) and, when H is singular, `singular` (where).
pub fn json(d: &mut Derivation) -> serde_json::Value {
    let mut v = eom_json(&mut d.eom, &d.accel);
    if let Some(obj) = v.as_object_mut() {
        let params: serde_json::Map<String, serde_json::Value> = d
            .params
            .iter()
            .map(|(n, x)| (n.clone(), serde_json::json!(x)))
            .collect();
        obj.insert("params".into(), params.into());
        if let Accel::Singular(s) = &d.accel {
            obj.insert("singular".into(), s.clone().into());
        }
    }
    v
}

fn eom_json(eom: &mut Eom, accel: &Accel) -> serde_json::Value {
    use serde_json::{json, Value};
    let n = eom.dof();
    let s = |eom: &Eom, ids: &[ExprId]| -> Vec<Value> {
        ids.iter()
            .map(|&i| Value::String(show(eom, i, Style::Text)))
            .collect()
    };
    let rows = |eom: &Eom, m: &[ExprId]| -> Vec<Value> {
        m.chunks(n.max(1))
            .map(|r| Value::Array(s(eom, r)))
            .collect()
    };
    match &eom.kind {
        EomKind::Lagrangian {
            l,
            dl_dq,
            dl_dv,
            hess,
            mixed,
            rhs,
            energy,
        } => {
            let cons = &eom.constraints;
            let constraints: Vec<Value> = (0..cons.len())
                .map(|k| {
                    json!({
                        "name": cons.names[k],
                        "holonomic": cons.phi[k].is_some(),
                        "expr": show(eom, cons.phi[k].unwrap_or(cons.g[k]), Style::Text),
                        "A": s(eom, &cons.a[k * n..(k + 1) * n]),
                        "c": show(eom, cons.c[k], Style::Text),
                    })
                })
                .collect();
            let mut obj = json!({
                "kind": "L",
                "coords": eom.q_names(),
                "L": show(eom, *l, Style::Text),
                "dL_dq": s(eom, dl_dq),
                "dL_dqdot": s(eom, dl_dv),
                "H": rows(eom, hess),
                "M": rows(eom, mixed),
                "energy": show(eom, *energy, Style::Text),
                "rhs": s(eom, rhs),
                "accel": match accel {
                    _ if !cons.is_empty() => Value::String("[H A^T; A 0]^-1 [rhs; c]".into()),
                    Accel::Explicit(a) => Value::Array(s(eom, a)),
                    Accel::Solved => Value::String("H^-1 rhs".into()),
                    Accel::Singular(_) => Value::String("H^+ rhs".into()),
                },
            });
            if !constraints.is_empty() {
                obj["constraints"] = Value::Array(constraints);
            }
            obj
        }
        EomKind::Lattice(lat) => {
            let lat = lat.clone();
            let at = lattice_lines(eom, &lat);
            let hess: Vec<Value> = at
                .eq
                .hess
                .iter()
                .map(|&(a, b, d, e)| {
                    json!({
                        "row": at.v_names[a],
                        "col": slot_name(&lat.fields[b], true, "i", d),
                        "value": show(eom, e, Style::Text),
                    })
                })
                .collect();
            let (lo, up) = lat.band();
            json!({
                "kind": "L",
                "form": "lattice",
                "coords": eom.q_names(),
                "sites": lat.sites,
                "periodic": lat.periodic,
                "band": [lo, up],
                "L": sums_text(eom, &at.density, Style::Text),
                "at_index": at.q_names,
                "dL_dq": s(eom, &at.eq.dl_dq),
                "dL_dqdot": s(eom, &at.eq.dl_dv),
                "H": hess,
                "energy": sums_text(eom, &at.energy, Style::Text),
                "rhs": s(eom, &at.eq.rhs),
                "accel": "H^-1 rhs",
            })
        }
        EomKind::Hamiltonian { h, dq, dp } => json!({
            "kind": "H",
            "coords": eom.q_names(),
            "H": show(eom, *h, Style::Text),
            "dq": s(eom, dq),
            "dp": s(eom, dp),
            "energy": show(eom, *h, Style::Text),
        }),
        EomKind::Accel(acc) => json!({
            "kind": "accel",
            "coords": eom.q_names(),
            "accel": s(eom, acc),
            "energy": "nan",
        }),
    }
}

/// What `lagc derive` shows of a lattice: the densities with their ranges, and the
/// equations at index i with the names they are printed under.
struct LatticeLines {
    /// Each term's share of L with its range (empty: outside any sum).
    density: Vec<(String, ExprId)>,
    /// Each term's share of the energy, likewise.
    energy: Vec<(String, ExprId)>,
    q_names: Vec<String>,
    v_names: Vec<String>,
    eq: PerIndex,
}

/// The lattice's lines with every expression in its display form ([`display_form`]).
fn lattice_lines(eom: &mut Eom, lat: &Lattice) -> LatticeLines {
    let with_range = |pick: fn(&SiteTerm) -> Option<ExprId>| -> Vec<(String, ExprId)> {
        lat.terms
            .iter()
            .filter_map(|t| {
                let e = pick(t)?;
                let range = match (t.once, t.lo == 0 && t.hi == lat.sites as i64) {
                    (true, _) => String::new(),
                    (false, true) => "i".to_string(),
                    (false, false) => format!("i in {}..{}", t.lo, t.hi),
                };
                Some((range, e))
            })
            .collect()
    };
    let mut lines = LatticeLines {
        density: with_range(|t| t.density),
        energy: with_range(|t| t.energy),
        q_names: lat
            .fields
            .iter()
            .map(|f| slot_name(f, false, "i", 0))
            .collect(),
        v_names: lat
            .fields
            .iter()
            .map(|f| slot_name(f, true, "i", 0))
            .collect(),
        eq: lat.per_index(&mut eom.dag),
    };
    let mut simp = Simplifier::new();
    let dag = &mut eom.dag;
    let mut show = |id: &mut ExprId| *id = display_form(dag, &mut simp, *id);
    for (_, e) in lines.density.iter_mut().chain(&mut lines.energy) {
        show(e);
    }
    for e in lines
        .eq
        .dl_dq
        .iter_mut()
        .chain(&mut lines.eq.dl_dv)
        .chain(&mut lines.eq.rhs)
    {
        show(e);
    }
    for (.., e) in &mut lines.eq.hess {
        show(e);
    }
    lines
}

/// Terms with their ranges as one sum: `sum(i, a) + sum(i in 0..5, b) - c`.
fn sums_text(eom: &Eom, terms: &[(String, ExprId)], style: Style) -> String {
    let mut out = String::new();
    for (k, (range, e)) in terms.iter().enumerate() {
        let t = sum_text(range, show(eom, *e, style), style);
        match (k, t.strip_prefix('-')) {
            (0, _) => out.push_str(&t),
            (_, Some(rest)) => out.push_str(&format!(" - {rest}")),
            (_, None) => out.push_str(&format!(" + {t}")),
        }
    }
    if out.is_empty() {
        out.push('0');
    }
    out
}

/// `sum(range, body)` (`\sum_{range} (body)` in LaTeX), or the body alone for a term
/// outside any sum (empty range).
fn sum_text(range: &str, body: String, style: Style) -> String {
    match (range.is_empty(), style) {
        (true, _) => body,
        (false, Style::Text) => format!("sum({range}, {body})"),
        (false, Style::Latex) => format!("\\sum_{{{range}}} \\left({body}\\right)"),
    }
}
