//! The kernel of one system's equations of motion.

use super::{KernelSpec, Output, SolveSpec};
use crate::symbolic::eom::{Eom, EomKind};

/// The kernel that maps (q, q' or p, t, learn params) to (q'' or (q', p'), energy).
pub fn spec_for(eom: &mut Eom) -> KernelSpec {
    let mut inputs: Vec<_> = eom.q.iter().chain(&eom.v).copied().collect();
    inputs.push(eom.t);
    inputs.extend(&eom.learns);
    let energy = eom.energy();
    let n = eom.dof();
    let (solve, mut outputs) = match &eom.kind {
        EomKind::Lagrangian { hess, rhs, .. } => (
            Some(SolveSpec {
                n,
                matrix: hess.clone(),
                rhs: rhs.clone(),
            }),
            (0..n).map(Output::Solved).collect::<Vec<_>>(),
        ),
        EomKind::Hamiltonian { dq, dp, .. } => (
            None,
            dq.iter().chain(dp).map(|&e| Output::Expr(e)).collect(),
        ),
        EomKind::Accel(acc) => (None, acc.iter().map(|&e| Output::Expr(e)).collect()),
    };
    outputs.push(Output::Expr(energy));
    KernelSpec {
        inputs,
        solve,
        outputs,
    }
}
