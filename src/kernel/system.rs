//! The kernel of one system's equations of motion.

use super::lattice::{lower_lattice, LatticeOutputs, LatticeProgram};
use super::{derivs, lower, KernelSpec, LowerError, Output, Program, SolveSpec};
use crate::symbolic::constraints::Constraints;
use crate::symbolic::dag::ExprId;
use crate::symbolic::eom::{Eom, EomKind};

/// A system's kernel, ready for a backend: one straight-line program, or site programs
/// run over a lattice.
#[derive(Clone, Debug, PartialEq)]
pub enum EomProgram {
    /// A straight-line program (dense solve, if any).
    Dense(Program),
    /// Site programs, a scatter and a banded solve.
    Lattice(LatticeProgram),
}

impl std::fmt::Display for EomProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EomProgram::Dense(p) => write!(f, "{p}"),
            EomProgram::Lattice(l) => {
                let (lo, up) = l.band;
                writeln!(
                    f,
                    "; lattice: {} sites x {} field(s){}; H banded ({lo} below, {up} above)",
                    l.sites,
                    l.fields,
                    if l.periodic { ", periodic" } else { "" }
                )?;
                for (k, t) in l.terms.iter().enumerate() {
                    let slots: Vec<String> = t
                        .slots
                        .iter()
                        .map(|s| format!("({}, {:+})", s.field, s.offset))
                        .collect();
                    writeln!(
                        f,
                        "; site program {k}: sites {}..{}, slots (field, offset) {}",
                        t.lo,
                        t.hi,
                        slots.join(" ")
                    )?;
                    write!(f, "{}", t.program)?;
                }
                Ok(())
            }
        }
    }
}

impl EomProgram {
    /// The straight-line programs (one, or one per site program).
    pub fn programs(&self) -> Vec<&Program> {
        match self {
            EomProgram::Dense(p) => vec![p],
            EomProgram::Lattice(l) => l.terms.iter().map(|t| &t.program).collect(),
        }
    }

    /// Instructions over all programs.
    pub fn n_instructions(&self) -> usize {
        match self {
            EomProgram::Dense(p) => p.n_instructions(),
            EomProgram::Lattice(l) => l.n_instructions(),
        }
    }
}

/// The lowered equations of motion of `eom`: the outputs of [`spec_for`] (q'' or
/// (q', p'), then the energy), each of the two parts only when asked for.
pub fn eom_program(eom: &mut Eom, accel: bool, energy: bool) -> Result<EomProgram, LowerError> {
    if eom.lattice().is_some() {
        return Ok(EomProgram::Lattice(lower_lattice(
            eom,
            LatticeOutputs { accel, energy },
        )?));
    }
    let mut spec = if accel {
        spec_for(eom)
    } else {
        derivs::energy_spec(eom)
    };
    if accel && !energy {
        spec.outputs.pop();
    }
    Ok(EomProgram::Dense(lower(&eom.dag, &spec)?))
}

/// The system [H A^T; A 0] [q''; lambda] = [r; c] (just H q'' = r without constraints).
/// `zero` is the DAG's constant 0.
pub fn saddle_point(
    n: usize,
    hess: &[ExprId],
    rhs: &[ExprId],
    cons: &Constraints,
    zero: ExprId,
) -> SolveSpec {
    if cons.is_empty() {
        return SolveSpec {
            n,
            matrix: hess.to_vec(),
            rhs: rhs.to_vec(),
        };
    }
    let m = cons.len();
    let size = n + m;
    let mut matrix = Vec::with_capacity(size * size);
    for i in 0..n {
        matrix.extend_from_slice(&hess[i * n..(i + 1) * n]);
        matrix.extend((0..m).map(|k| cons.a[k * n + i]));
    }
    for k in 0..m {
        matrix.extend_from_slice(&cons.a[k * n..(k + 1) * n]);
        matrix.extend(std::iter::repeat_n(zero, m));
    }
    SolveSpec {
        n: size,
        matrix,
        rhs: rhs.iter().chain(&cons.c).copied().collect(),
    }
}

/// The kernel that maps (q, q' or p, t, learn params) to (q'' or (q', p'), the
/// constraint multipliers, energy).
/// Lattice systems have no dense kernel: use [`eom_program`].
pub fn spec_for(eom: &mut Eom) -> KernelSpec {
    let mut inputs: Vec<_> = eom.q.iter().chain(&eom.v).copied().collect();
    inputs.push(eom.t);
    inputs.extend(&eom.learns);
    let energy = eom.energy();
    let n = eom.dof();
    let zero = eom.dag.num(0.0);
    let (solve, mut outputs) = match &eom.kind {
        EomKind::Lagrangian { hess, rhs, .. } => {
            let solve = saddle_point(n, hess, rhs, &eom.constraints, zero);
            let outputs = (0..solve.n).map(Output::Solved).collect::<Vec<_>>();
            (Some(solve), outputs)
        }
        EomKind::Hamiltonian { dq, dp, .. } => (
            None,
            dq.iter().chain(dp).map(|&e| Output::Expr(e)).collect(),
        ),
        EomKind::Accel(acc) => (None, acc.iter().map(|&e| Output::Expr(e)).collect()),
        // Lattices lower through `eom_program`; a dense spec of one has no outputs.
        EomKind::Lattice(_) => (None, vec![]),
    };
    outputs.push(Output::Expr(energy));
    KernelSpec {
        inputs,
        solve,
        outputs,
    }
}

/// The constraint residuals and Jacobians of a constrained system, for projecting states
/// onto the constraints: outputs phi (holonomic constraints), dphi/dq (row-major), g
/// (every constraint, velocity level) and A = dg/dq' (row-major); inputs as
/// [`spec_for`]. `None` without constraints.
pub fn constraint_spec(eom: &Eom) -> Option<KernelSpec> {
    let cons = &eom.constraints;
    if cons.is_empty() {
        return None;
    }
    let n = eom.dof();
    let mut inputs: Vec<_> = eom.q.iter().chain(&eom.v).copied().collect();
    inputs.push(eom.t);
    inputs.extend(&eom.learns);
    let holonomic = cons.holonomic();
    let phi = holonomic.iter().filter_map(|&k| cons.phi[k]);
    let jac = holonomic.iter().flat_map(|&k| &cons.a[k * n..(k + 1) * n]);
    let outputs = phi
        .chain(jac.copied())
        .chain(cons.g.iter().copied())
        .chain(cons.a.iter().copied())
        .map(Output::Expr)
        .collect();
    Some(KernelSpec {
        inputs,
        solve: None,
        outputs,
    })
}

/// The events of a system: outputs every guard, then every event's reset values in
/// order; inputs as [`spec_for`]. `None` without events.
pub fn event_spec(eom: &Eom) -> Option<KernelSpec> {
    if eom.events.is_empty() {
        return None;
    }
    let mut inputs: Vec<_> = eom.q.iter().chain(&eom.v).copied().collect();
    inputs.push(eom.t);
    inputs.extend(&eom.learns);
    let guards = eom.events.iter().map(|e| e.guard);
    let values = eom.events.iter().flat_map(|e| e.resets.iter().map(|r| r.1));
    Some(KernelSpec {
        inputs,
        solve: None,
        outputs: guards.chain(values).map(Output::Expr).collect(),
    })
}
