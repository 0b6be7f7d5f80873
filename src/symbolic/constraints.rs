//! Constraints in the DAG. Each constraint is brought to the velocity level,
//! g(q, q', t) = A(q, t) q' + b(q, t) = 0 (g = dphi/dt for a holonomic phi(q, t) = 0, the
//! expression itself for a nonholonomic one), and differentiated once more:
//! A q'' = c with c = -(dg/dq q' + dg/dt). With the Lagrangian's H q'' = r this gives
//! the saddle-point system [H A^T; A 0] [q''; lambda] = [r; c] that the kernel solves
//! (the constraint force on the coordinates is -A^T lambda).
//!
//! Invariant: every expression here is built from the same q, q', t variables as the
//! equations of motion, in the same DAG.

use super::dag::{Dag, ExprId};

/// The derived constraints of one system (empty when it has none).
#[derive(Clone, Debug, Default)]
pub struct Constraints {
    /// Constraint names, in declaration order.
    pub names: Vec<String>,
    /// The position-level residual phi(q, t) of each holonomic constraint; `None` for
    /// nonholonomic ones.
    pub phi: Vec<Option<ExprId>>,
    /// The velocity-level residual g of each constraint.
    pub g: Vec<ExprId>,
    /// A = dg/dq', row-major (one row per constraint, one column per coordinate).
    pub a: Vec<ExprId>,
    /// The acceleration-level right side c = -(dg/dq q' + dg/dt).
    pub c: Vec<ExprId>,
    /// The first nonholonomic constraint that is not linear in the velocities.
    pub nonlinear: Option<usize>,
    /// The first constraint that depends on neither coordinates nor velocities.
    pub constant: Option<usize>,
}

impl Constraints {
    /// Number of constraints.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the system has none.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Indices of the holonomic constraints.
    pub fn holonomic(&self) -> Vec<usize> {
        (0..self.len()).filter(|&k| self.phi[k].is_some()).collect()
    }
}

/// Derives `exprs` (name, expression) over coordinates `q`, velocities `v` and time `t`.
pub fn derive(
    dag: &mut Dag,
    exprs: &[(String, ExprId)],
    q: &[ExprId],
    v: &[ExprId],
    t: ExprId,
) -> Constraints {
    let mut out = Constraints::default();
    let zero = |dag: &Dag, id: ExprId| dag.as_const(id) == Some(0.0);
    for (k, (name, e)) in exprs.iter().enumerate() {
        let de_dv: Vec<ExprId> = v.iter().map(|&x| dag.diff(*e, x)).collect();
        let holonomic = de_dv.iter().all(|&d| zero(dag, d));
        let g = if holonomic {
            along_velocity(dag, *e, q, v, t)
        } else {
            *e
        };
        let row: Vec<ExprId> = v.iter().map(|&x| dag.diff(g, x)).collect();
        if row.iter().all(|&d| zero(dag, d)) && out.constant.is_none() {
            out.constant = Some(k);
        }
        let mut linear = true;
        for &a in &row {
            for &x in v {
                let d = dag.diff(a, x);
                linear &= zero(dag, d);
            }
        }
        if !linear && out.nonlinear.is_none() {
            out.nonlinear = Some(k);
        }
        let dg = along_velocity(dag, g, q, v, t);
        out.c.push(dag.neg(dg));
        out.names.push(name.clone());
        out.phi.push(holonomic.then_some(*e));
        out.g.push(g);
        out.a.extend(row);
    }
    out
}

/// sum_j de/dq_j v_j + de/dt: d/dt of `e(q, t)` along q' = `v`, or the part of
/// d/dt `e(q, q', t)` that does not involve q''.
pub(super) fn along_velocity(
    dag: &mut Dag,
    e: ExprId,
    q: &[ExprId],
    v: &[ExprId],
    t: ExprId,
) -> ExprId {
    let mut terms: Vec<ExprId> = q
        .iter()
        .zip(v)
        .map(|(&qj, &vj)| {
            let d = dag.diff(e, qj);
            dag.mul(d, vj)
        })
        .collect();
    terms.push(dag.diff(e, t));
    dag.sum(&terms)
}
