//! Extra kernels of one system, beside the equations of motion of [`super::spec_for`]:
//! the derivatives the implicit integrators need for Newton's method, and the energy alone.

use super::{KernelSpec, Output};
use crate::symbolic::eom::{Eom, EomKind};
use crate::symbolic::ExprId;

/// The kernel inputs every system kernel shares: q, v (or p), t, learn params.
fn inputs(eom: &Eom) -> Vec<ExprId> {
    let mut inputs: Vec<_> = eom.q.iter().chain(&eom.v).copied().collect();
    inputs.push(eom.t);
    inputs.extend(&eom.learns);
    inputs
}

/// The energy alone (same inputs as [`super::spec_for`]; NaN for `accel` systems).
pub fn energy_spec(eom: &mut Eom) -> KernelSpec {
    let energy = eom.energy();
    KernelSpec {
        inputs: inputs(eom),
        solve: None,
        outputs: vec![Output::Expr(energy)],
    }
}

/// Number of outputs of [`implicit_spec`] for `n` degrees of freedom: L systems give
/// 3 vectors and 5 matrices, H systems 1 vector of 2n and one 2n x 2n matrix.
pub fn implicit_outputs(n: usize, hamiltonian: bool) -> usize {
    if hamiltonian {
        2 * n + 4 * n * n
    } else {
        3 * n + 5 * n * n
    }
}

/// The derivatives an implicit step needs, at the kernel's inputs (q, v or p, t, learns).
///
/// - L systems (the variational integrator): `g = dL/dq`, `P = dL/dq'`, the generalized
///   force `Q` (forces minus dD/dq'), then the row-major n x n matrices `d2L/dq dq`,
///   `d2L/dq'_i dq_j` (the mixed term M), `d2L/dq'dq'` (H), `dQ_i/dq_j` and `dQ_i/dq'_j`.
/// - H systems (implicit midpoint): `f = (q', p')` and its Jacobian `df_i/dy_j` with
///   y = (q, p), row-major 2n x 2n.
/// - `accel` systems and lattices: `None` (lattices are derived again unrolled for it).
pub fn implicit_spec(eom: &mut Eom) -> Option<KernelSpec> {
    let inputs = inputs(eom);
    let (q, v, t) = (eom.q.clone(), eom.v.clone(), eom.t);
    let n = q.len();
    let dag = &mut eom.dag;
    let outputs: Vec<ExprId> = match &eom.kind {
        EomKind::Lagrangian {
            dl_dq,
            dl_dv,
            hess,
            mixed,
            rhs,
            ..
        } => {
            // Q = rhs - g + M v + dP/dt (rhs = g - M v - dP/dt + Q).
            let mut force = Vec::with_capacity(n);
            for i in 0..n {
                let mut terms = vec![rhs[i]];
                terms.push(dag.neg(dl_dq[i]));
                for j in 0..n {
                    terms.push(dag.mul(mixed[i * n + j], v[j]));
                }
                terms.push(dag.diff(dl_dv[i], t));
                force.push(dag.sum(&terms));
            }
            let mut out: Vec<ExprId> = dl_dq.iter().chain(dl_dv).chain(&force).copied().collect();
            for &gi in dl_dq {
                for &qj in &q {
                    out.push(dag.diff(gi, qj));
                }
            }
            out.extend(mixed);
            out.extend(hess);
            for wrt in [&q, &v] {
                for &fi in &force {
                    for &x in wrt.iter() {
                        out.push(dag.diff(fi, x));
                    }
                }
            }
            out
        }
        EomKind::Hamiltonian { dq, dp, .. } => {
            let f: Vec<ExprId> = dq.iter().chain(dp).copied().collect();
            let y: Vec<ExprId> = q.iter().chain(&v).copied().collect();
            let mut out = f.clone();
            for &fi in &f {
                for &yj in &y {
                    out.push(dag.diff(fi, yj));
                }
            }
            out
        }
        EomKind::Accel(_) | EomKind::Lattice(_) => return None,
    };
    Some(KernelSpec {
        inputs,
        solve: None,
        outputs: outputs.into_iter().map(Output::Expr).collect(),
    })
}
