//! The two kernels of training: the forward pass (predictions, and for L systems the
//! matrix `H + reg I` whose solve gave them) and the gradient pass (DESIGN.md "Training
//! gradients are adjoints").
//!
//! For an L system with a = q'' = (H + reg I)^-1 r and a loss cotangent abar = dLoss/da,
//! lambda = (H + reg I)^-1 abar (the matrix is symmetric), and for every parameter theta
//!
//! ```text
//! dLoss/dtheta = d/dtheta [ lambda^T r(theta) - lambda^T H(theta) a ]   (lambda, a fixed)
//! ```
//!
//! The scalar `S = lambda^T r - lambda^T H a` is built in the DAG with lambda and a as
//! new input variables and differentiated symbolically: with respect to every `learn`
//! param (its gradient), and with respect to every net lane node (value or partial of a
//! net call, treated as an opaque leaf: its cotangent). The cotangents of a call's lanes
//! then go through the MLP's reverse jet pass ([`super::TrainNets::jet_vjp`]). Accel
//! systems use `S = abar^T a(theta)`, H systems `S = qbar^T dH/dp + pbar^T (-dH/dq + Q)`.

use crate::check::SystemModel;
use crate::kernel::{self, KernelSpec, NetLane, Output, Program, SolveSpec};
use crate::symbolic::eom::{Eom, EomKind};
use crate::symbolic::{ExprId, Node};

/// Which equations a trained system has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `L`: predictions are q'' from a linear solve.
    Lagrangian,
    /// `H`: predictions are (q', p').
    Hamiltonian,
    /// `accel`: predictions are q'' directly.
    Accel,
}

/// One net call in the gradient kernel: which net, and the lanes whose cotangents the
/// kernel outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Net index (the system's declaration order).
    pub net: u32,
    /// Number of arguments.
    pub arity: usize,
    /// The lanes (value or partials) the scalar S depends on.
    pub lanes: Vec<NetLane>,
}

/// The compiled forward and gradient kernels of one trained system.
#[derive(Clone, Debug)]
pub struct Kernels {
    /// L, H or accel.
    pub kind: Kind,
    /// Scalar degrees of freedom.
    pub dof: usize,
    /// Number of `learn` params (kernel inputs after q, v|p, t).
    pub n_learn: usize,
    /// Inputs (q, v|p, t, learns) -> predictions (n for L/accel, 2n for H), then for L
    /// systems the row-major entries of `H + reg I`.
    pub forward: Program,
    /// Inputs (q, v|p, t, learns, cotangent (lambda for L), then a for L) -> the
    /// gradient of S with respect to each learn param, then for each call in
    /// [`Kernels::calls`] its argument values and its lane cotangents.
    pub gradient: Program,
    /// The net calls S depends on, in gradient-output order.
    pub calls: Vec<Call>,
}

impl Kernels {
    /// Number of predicted components per sample.
    pub fn n_pred(&self) -> usize {
        match self.kind {
            Kind::Hamiltonian => 2 * self.dof,
            _ => self.dof,
        }
    }

    /// Inputs per row of the forward kernel: 2 dof + 1 (t) + learn params.
    pub fn n_forward_inputs(&self) -> usize {
        2 * self.dof + 1 + self.n_learn
    }
}

/// Why kernels could not be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AdjointError {
    /// Lowering failed (an internal error).
    #[error("internal: cannot lower the training kernels: {0}")]
    Lower(#[from] kernel::LowerError),
}

/// Derives and lowers the forward and gradient kernels of `sys`, with `reg` added to the
/// diagonal of H before the solve (L systems). `fixed[i]` marks learn param `i` as data
/// (a per-sample param): its derivative is not taken (its output is 0), which also keeps
/// third-order net lanes out of the gradient kernel when it is a net's argument.
pub fn build(sys: &SystemModel, reg: f64, fixed: &[bool]) -> Result<Kernels, AdjointError> {
    // Training differentiates the dense form (arrays unrolled element by element).
    let mut eom = Eom::derive_unrolled(sys);
    let n = eom.dof();
    let mut base: Vec<ExprId> = eom.q.iter().chain(&eom.v).copied().collect();
    base.push(eom.t);
    base.extend(&eom.learns);
    let learns = eom.learns.clone();
    let dag = &mut eom.dag;
    let cot: Vec<ExprId> = (0..n_pred_of(&eom.kind, n))
        .map(|i| dag.var(&format!("%cot{i}")))
        .collect();
    let (kind, fwd_spec, s, extra) = match &eom.kind {
        EomKind::Lagrangian { hess, rhs, .. } => {
            let r = dag.num(reg);
            let matrix: Vec<ExprId> = hess
                .iter()
                .enumerate()
                .map(|(k, &h)| if k % (n + 1) == 0 { dag.add(h, r) } else { h })
                .collect();
            let mut outputs: Vec<Output> = (0..n).map(Output::Solved).collect();
            outputs.extend(matrix.iter().map(|&e| Output::Expr(e)));
            let spec = KernelSpec {
                inputs: base.clone(),
                solve: Some(SolveSpec {
                    n,
                    matrix,
                    rhs: rhs.clone(),
                }),
                outputs,
            };
            // S = lambda . r - lambda . H a
            let a: Vec<ExprId> = (0..n).map(|i| dag.var(&format!("%a{i}"))).collect();
            let mut terms = Vec::with_capacity(n + n * n);
            for i in 0..n {
                terms.push(dag.mul(cot[i], rhs[i]));
                for j in 0..n {
                    let t = dag.product(&[cot[i], hess[i * n + j], a[j]]);
                    terms.push(dag.neg(t));
                }
            }
            (Kind::Lagrangian, spec, dag.sum(&terms), a)
        }
        EomKind::Hamiltonian { dq, dp, .. } => {
            let preds: Vec<ExprId> = dq.iter().chain(dp).copied().collect();
            let spec = KernelSpec {
                inputs: base.clone(),
                solve: None,
                outputs: preds.iter().map(|&e| Output::Expr(e)).collect(),
            };
            let terms: Vec<ExprId> = cot
                .iter()
                .zip(&preds)
                .map(|(&c, &p)| dag.mul(c, p))
                .collect();
            (Kind::Hamiltonian, spec, dag.sum(&terms), vec![])
        }
        EomKind::Lattice(_) => return Err(kernel::LowerError::LatticeDense.into()),
        EomKind::Accel(acc) => {
            let spec = KernelSpec {
                inputs: base.clone(),
                solve: None,
                outputs: acc.iter().map(|&e| Output::Expr(e)).collect(),
            };
            let terms: Vec<ExprId> = cot.iter().zip(acc).map(|(&c, &p)| dag.mul(c, p)).collect();
            (Kind::Accel, spec, dag.sum(&terms), vec![])
        }
    };
    // Gradient outputs: dS/dlearn, then per net call its args and lane cotangents.
    let mut outputs: Vec<Output> = learns
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            Output::Expr(if fixed.get(i).copied().unwrap_or(false) {
                dag.num(0.0)
            } else {
                dag.diff(s, l)
            })
        })
        .collect();
    // Net calls of S: (net, args, [(lane, its node)]).
    type Calls = Vec<(u32, Box<[ExprId]>, Vec<(NetLane, ExprId)>)>;
    let mut calls: Calls = vec![];
    for id in dag.reachable(&[s]) {
        if let Node::Net {
            net,
            out,
            args,
            partials,
        } = dag.node(id).clone()
        {
            let lane = NetLane { out, partials };
            match calls.iter_mut().find(|c| c.0 == net && c.1 == args) {
                Some(c) => c.2.push((lane, id)),
                None => calls.push((net, args, vec![(lane, id)])),
            }
        }
    }
    let mut call_info = Vec::with_capacity(calls.len());
    for (net, args, lanes) in calls {
        outputs.extend(args.iter().map(|&a| Output::Expr(a)));
        for (_, id) in &lanes {
            outputs.push(Output::Expr(dag.diff(s, *id)));
        }
        call_info.push(Call {
            net,
            arity: args.len(),
            lanes: lanes.into_iter().map(|(l, _)| l).collect(),
        });
    }
    let mut inputs = base;
    inputs.extend(&cot);
    inputs.extend(&extra);
    let grad_spec = KernelSpec {
        inputs,
        solve: None,
        outputs,
    };
    Ok(Kernels {
        kind,
        dof: n,
        n_learn: learns.len(),
        forward: kernel::lower(&eom.dag, &fwd_spec)?,
        gradient: kernel::lower(&eom.dag, &grad_spec)?,
        calls: call_info,
    })
}

fn n_pred_of(kind: &EomKind, n: usize) -> usize {
    match kind {
        EomKind::Hamiltonian { .. } => 2 * n,
        _ => n,
    }
}
