//! Small oscillations about a state at rest (`lagc linearize`): the equilibrium check,
//! the linearised equations M q'' + C q' + K q = 0 (q the deviation from the point) and
//! the normal modes, K x = omega^2 M x, solved through the Cholesky factor of M.
//!
//! For an L system H(q) q'' = r(q, q', t), at a point where q' = 0 and q'' = 0:
//! M = H, C = -dr/dq', K = -dr/dq (the term dH/dq q'' vanishes there). For an accel
//! system q'' = a(q, q', t): M = 1, C = -da/dq', K = -da/dq. Derivatives are symbolic,
//! evaluated at the point with t = 0.

use super::{Error, System};
use crate::symbolic::eom::{Eom, EomKind};
use crate::symbolic::{Dag, ExprId, VarId};
use nalgebra::{DMatrix, SymmetricEigen};
use std::collections::HashMap;

/// Symbolic matrices are tried up to this many coordinates.
pub const SYMBOLIC_MAX_DOF: usize = 6;

/// A symbolic entry longer than this (in operations written out) drops the symbolic form.
const SYMBOLIC_MAX_SIZE: f64 = 60.0;

/// |q''| at or below this (relative to 1 + |r|) counts as an equilibrium.
const EQUILIBRIUM_TOL: f64 = 1e-9;

/// The linearisation of a system about a point.
#[derive(Clone, Debug)]
pub struct Linearization {
    /// The system's name.
    pub system: String,
    /// Scalar coordinate names.
    pub coords: Vec<String>,
    /// The point (one value per coordinate; velocities are 0).
    pub at: Vec<f64>,
    /// q'' at the point: zero at an equilibrium.
    pub accel: Vec<f64>,
    /// Whether the point is an equilibrium (q'' = 0 there).
    pub equilibrium: bool,
    /// The mass matrix.
    pub m: DMatrix<f64>,
    /// The damping (and gyroscopic) matrix.
    pub c: DMatrix<f64>,
    /// The stiffness matrix.
    pub k: DMatrix<f64>,
    /// M, C and K with the params as symbols (row-major expression strings), when the
    /// system has at most [`SYMBOLIC_MAX_DOF`] coordinates and every entry is short.
    pub symbolic: Option<[Vec<String>; 3]>,
    /// The normal modes, lowest omega^2 first; empty when they do not exist (see `notes`).
    pub modes: Vec<Mode>,
    /// Sentences on what the modes leave out or why there are none.
    pub notes: Vec<String>,
}

/// One normal mode.
#[derive(Clone, Debug)]
pub struct Mode {
    /// The eigenvalue of K x = omega^2 M x; negative: unstable (growth rate sqrt(-omega^2)).
    pub omega2: f64,
    /// The angular frequency sqrt(omega^2) (0 when omega^2 < 0).
    pub omega: f64,
    /// The shape, scaled so that its largest component (the first of equals) is +1.
    pub shape: Vec<f64>,
}

impl System {
    /// Linearises about the state at rest with coordinates `at` (by name; others 0).
    pub fn linearize(&self, at: &[(String, f64)]) -> Result<Linearization, Error> {
        if !self.checked().nets.is_empty() {
            return Err(Error::usage(format!(
                "system `{}` has nets: linearize works on systems written out in formulas",
                self.name()
            )));
        }
        if let Some(u) = self.checked().inputs.first() {
            return Err(Error::usage(format!(
                "system `{}` has the measured input `{u}`: linearize works on systems without inputs",
                self.name()
            )));
        }
        if !self.checked().constraints.is_empty() {
            return Err(Error::usage(format!(
                "system `{}` has constraints: linearize works on independent coordinates (write the system in them)",
                self.name()
            )));
        }
        let coords = self.coords().to_vec();
        let point = point(&coords, at, self.name())?;
        let mut eom =
            self.derive_eom(Some("linearize needs the full mass and stiffness matrices"))?;
        let mut values: HashMap<String, f64> = HashMap::new();
        for (name, x) in coords.iter().zip(&point) {
            values.insert(name.clone(), *x);
        }
        for ((name, _), x) in self.checked().learns.iter().zip(self.learn_values()) {
            values.insert(name.clone(), *x);
        }
        let (m, c, k, rhs) = matrices(&mut eom, &values, self.name())?;
        let symbolic = symbolic(self, &values);
        let accel = m.clone().lu().solve(&rhs).ok_or_else(|| {
            Error::runtime(format!(
                "the mass matrix of `{}` is singular at this point: no linearisation",
                self.name()
            ))
        })?;
        let scale = 1.0 + rhs.amax();
        let equilibrium = accel.iter().all(|a| a.abs() <= EQUILIBRIUM_TOL * scale);
        let (modes, notes) = if equilibrium {
            modes(&m, &c, &k)
        } else {
            (
                vec![],
                vec!["not an equilibrium (q'' is not 0 at rest there): no normal modes".into()],
            )
        };
        Ok(Linearization {
            system: self.name().to_string(),
            coords,
            at: point,
            accel: accel.iter().map(|a| a + 0.0).collect(),
            equilibrium,
            m,
            c,
            k,
            symbolic,
            modes,
            notes,
        })
    }
}

/// M, C and K at the point with params as symbols (see [`Linearization::symbolic`]).
fn symbolic(s: &System, values: &HashMap<String, f64>) -> Option<[Vec<String>; 3]> {
    if s.dof() > SYMBOLIC_MAX_DOF {
        return None;
    }
    let model = s.model();
    let sys =
        crate::check::symbolic_system(model.text(), model.ast(), model.overrides(), s.name())?;
    let mut eom = Eom::derive_unrolled(&sys);
    let n = eom.dof();
    let (hess, rhs) = match &eom.kind {
        EomKind::Lagrangian { hess, rhs, .. } => (Some(hess.clone()), rhs.clone()),
        EomKind::Accel(a) => (None, a.clone()),
        _ => return None,
    };
    let (q, v) = (eom.q.clone(), eom.v.clone());
    let dag = &mut eom.dag;
    let mut point: HashMap<VarId, ExprId> = HashMap::new();
    for &x in q.iter().chain(&v).chain([&eom.t]) {
        let var = dag.as_var(x)?;
        let value = values.get(dag.var_name(var)).copied().unwrap_or(0.0);
        point.insert(var, dag.num(value));
    }
    let show = |dag: &mut Dag, e: ExprId, negate: bool| -> Option<String> {
        let e = if negate { dag.neg(e) } else { e };
        let e = dag.substitute(e, &point);
        (dag.tree_size(e) <= SYMBOLIC_MAX_SIZE).then(|| dag.to_text(e))
    };
    let entries = |dag: &mut Dag, by: Option<&[ExprId]>| -> Option<Vec<String>> {
        (0..n * n)
            .map(|ij| {
                let (i, j) = (ij / n, ij % n);
                match (by, &hess) {
                    (Some(x), _) => {
                        let d = dag.diff(rhs[i], x[j]);
                        show(dag, d, true)
                    }
                    (None, Some(h)) => show(dag, h[ij], false),
                    (None, None) => Some(if i == j { "1" } else { "0" }.to_string()),
                }
            })
            .collect()
    };
    let m = entries(dag, None)?;
    let c = entries(dag, Some(&v))?;
    let k = entries(dag, Some(&q))?;
    Some([m, c, k])
}

/// The coordinate values of `at`; unknown names (and velocities) are usage errors.
fn point(coords: &[String], at: &[(String, f64)], system: &str) -> Result<Vec<f64>, Error> {
    let mut x = vec![0.0; coords.len()];
    for (name, v) in at {
        let k = coords.iter().position(|c| c == name).ok_or_else(|| {
            Error::unknown(format!(
                "--at {name}: not a coordinate of `{system}` (expected one of {}; velocities are 0)",
                coords.join(", ")
            ))
        })?;
        x[k] = *v;
    }
    Ok(x)
}

type Matrices = (
    DMatrix<f64>,
    DMatrix<f64>,
    DMatrix<f64>,
    nalgebra::DVector<f64>,
);

/// M, C, K and the right-hand side r (with M q'' = r) at the point in `values`.
fn matrices(eom: &mut Eom, values: &HashMap<String, f64>, system: &str) -> Result<Matrices, Error> {
    let n = eom.dof();
    let (q, v) = (eom.q.clone(), eom.v.clone());
    let (hess, rhs): (Option<Vec<ExprId>>, Vec<ExprId>) = match &eom.kind {
        EomKind::Lagrangian { hess, rhs, .. } => (Some(hess.clone()), rhs.clone()),
        EomKind::Accel(a) => (None, a.clone()),
        _ => {
            return Err(Error::usage(format!(
                "system `{system}` is an H system: linearize works on L and accel systems"
            )))
        }
    };
    let dag = &mut eom.dag;
    let grad = |dag: &mut Dag, by: &[ExprId]| -> Vec<ExprId> {
        rhs.iter()
            .flat_map(|&r| by.iter().map(|&x| dag.diff(r, x)).collect::<Vec<_>>())
            .collect()
    };
    let (dq, dv) = (grad(dag, &q), grad(dag, &v));
    // `+ 0.0` turns -0 into 0.
    let at = |id: ExprId| -> f64 {
        let vars = |var: VarId| values.get(dag.var_name(var)).copied().unwrap_or(0.0);
        dag.eval(id, &vars, &|_, _, _, _| f64::NAN) + 0.0
    };
    let m = match &hess {
        Some(h) => DMatrix::from_fn(n, n, |i, j| at(h[i * n + j])),
        None => DMatrix::identity(n, n),
    };
    let k = DMatrix::from_fn(n, n, |i, j| -at(dq[i * n + j]));
    let c = DMatrix::from_fn(n, n, |i, j| -at(dv[i * n + j]));
    let r = nalgebra::DVector::from_fn(n, |i, _| at(rhs[i]));
    if m.iter()
        .chain(k.iter())
        .chain(c.iter())
        .chain(r.iter())
        .any(|x| !x.is_finite())
    {
        return Err(Error::runtime(format!(
            "the equations of `{system}` are not finite at this point"
        )));
    }
    Ok((m, c, k, r))
}

/// The normal modes of M x'' + K x = 0, with notes on what they leave out.
fn modes(m: &DMatrix<f64>, c: &DMatrix<f64>, k: &DMatrix<f64>) -> (Vec<Mode>, Vec<String>) {
    let mut notes = vec![];
    let asym = (k - k.transpose()).amax();
    if asym > 1e-9 * (1.0 + k.amax()) {
        notes.push(format!(
            "K is not symmetric (|K - K^T| = {asym:.3e}: non-conservative forces): no normal modes"
        ));
        return (vec![], notes);
    }
    if c.amax() > 0.0 {
        notes.push("C is not 0: the modes below leave out damping and gyroscopic terms".into());
    }
    let Some(chol) = m.clone().cholesky() else {
        notes.push("M is not positive definite here: no normal modes".into());
        return (vec![], notes);
    };
    let l = chol.l();
    let Some(l_inv) = l.clone().try_inverse() else {
        notes.push("M is singular here: no normal modes".into());
        return (vec![], notes);
    };
    let a = &l_inv * k * l_inv.transpose();
    let a = (&a + a.transpose()) * 0.5;
    let eig = SymmetricEigen::new(a);
    let back = l_inv.transpose();
    let mut out: Vec<Mode> = (0..m.nrows())
        .map(|j| {
            let x = &back * eig.eigenvectors.column(j);
            let omega2 = eig.eigenvalues[j];
            Mode {
                omega2,
                omega: omega2.max(0.0).sqrt(),
                shape: scaled(x.iter().copied().collect()),
            }
        })
        .collect();
    out.sort_by(|a, b| a.omega2.total_cmp(&b.omega2));
    if out.iter().any(|md| md.omega2 < -1e-12 * (1.0 + k.amax())) {
        notes.push(
            "omega^2 < 0: the point is unstable along those modes (growth rate sqrt(-omega^2))"
                .into(),
        );
    }
    (out, notes)
}

/// `x` scaled so that its largest component (in magnitude; the first of those equal
/// to 1e-9) is +1.
fn scaled(x: Vec<f64>) -> Vec<f64> {
    let big = x.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    let Some(&top) = x.iter().find(|v| v.abs() >= big * (1.0 - 1e-9)) else {
        return x;
    };
    if top == 0.0 {
        return x;
    }
    x.into_iter().map(|v| v / top + 0.0).collect()
}

/// `x` rounded to 12 significant digits, printed in its shortest form (no `-0`).
fn num(x: f64) -> String {
    let r: f64 = format!("{x:.11e}").parse().unwrap_or(x);
    format!("{}", r + 0.0)
}

fn matrix_lines(name: &str, m: &DMatrix<f64>) -> Vec<String> {
    let cells: Vec<Vec<String>> = m
        .row_iter()
        .map(|r| r.iter().map(|&x| num(x)).collect())
        .collect();
    let width = cells.iter().flatten().map(String::len).max().unwrap_or(1);
    cells
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let lead = if i == 0 {
                format!("{name} =")
            } else {
                " ".repeat(name.len() + 2)
            };
            let body: Vec<String> = row.iter().map(|c| format!("{c:>width$}")).collect();
            format!("  {lead} [ {} ]", body.join("  "))
        })
        .collect()
}

impl Linearization {
    /// What `lagc linearize` prints.
    pub fn text(&self) -> String {
        let point: Vec<String> = self
            .coords
            .iter()
            .zip(&self.at)
            .map(|(c, x)| format!("{c} = {}", num(*x)))
            .collect();
        let mut lines = vec![format!(
            "system {} at {} (velocities 0)",
            self.system,
            point.join(", ")
        )];
        if self.equilibrium {
            lines.push("  equilibrium: yes (q' = 0 and q'' = 0 there)".into());
        } else {
            let acc: Vec<String> = self
                .coords
                .iter()
                .zip(&self.accel)
                .map(|(c, a)| format!("{c}'' = {}", num(*a)))
                .collect();
            lines.push(format!("  equilibrium: no ({})", acc.join(", ")));
        }
        lines.push(format!(
            "  M q'' + C q' + K q = 0, q = ({}) minus the point",
            self.coords.join(", ")
        ));
        for (name, m) in [("M", &self.m), ("C", &self.c), ("K", &self.k)] {
            lines.extend(matrix_lines(name, m));
        }
        if let Some(sym) = &self.symbolic {
            lines.push("  with the params as symbols:".into());
            let n = self.coords.len();
            for (name, entries) in ["M", "C", "K"].iter().zip(sym) {
                let rows: Vec<String> = entries.chunks(n.max(1)).map(|r| r.join(", ")).collect();
                lines.push(format!("  {name} = [ {} ]", rows.join("; ")));
            }
        }
        if !self.modes.is_empty() {
            lines.push(
                "  normal modes (K x = omega^2 M x; shapes scaled to a largest component of 1):"
                    .into(),
            );
        }
        for (j, md) in self.modes.iter().enumerate() {
            let shape: Vec<String> = md.shape.iter().map(|&x| num(x)).collect();
            let freq = if md.omega2 >= 0.0 {
                format!("omega = {}", num(md.omega))
            } else {
                format!("unstable, growth rate {}", num((-md.omega2).sqrt()))
            };
            lines.push(format!(
                "    {}: omega^2 = {}, {freq}, shape ({})",
                j + 1,
                num(md.omega2),
                shape.join(", ")
            ));
        }
        for n in &self.notes {
            lines.push(format!("  note: {n}"));
        }
        lines.join("\n") + "\n"
    }

    /// What `lagc linearize --format json` prints.
    pub fn json(&self) -> serde_json::Value {
        let rows = |m: &DMatrix<f64>| -> Vec<Vec<f64>> {
            m.row_iter().map(|r| r.iter().copied().collect()).collect()
        };
        let at: serde_json::Map<String, serde_json::Value> = self
            .coords
            .iter()
            .zip(&self.at)
            .map(|(c, x)| (c.clone(), serde_json::json!(x)))
            .collect();
        let modes: Vec<serde_json::Value> = self
            .modes
            .iter()
            .map(
                |md| serde_json::json!({"omega2": md.omega2, "omega": md.omega, "shape": md.shape}),
            )
            .collect();
        serde_json::json!({
            "system": self.system,
            "coords": self.coords,
            "at": at,
            "equilibrium": self.equilibrium,
            "accel": self.accel,
            "M": rows(&self.m),
            "C": rows(&self.c),
            "K": rows(&self.k),
            "symbolic": self.symbolic.as_ref().map(|[m, c, k]| {
                let n = self.coords.len().max(1);
                let rows = |e: &Vec<String>| -> Vec<Vec<String>> {
                    e.chunks(n).map(<[String]>::to_vec).collect()
                };
                serde_json::json!({"M": rows(m), "C": rows(c), "K": rows(k)})
            }),
            "modes": modes,
            "notes": self.notes,
        })
    }
}
