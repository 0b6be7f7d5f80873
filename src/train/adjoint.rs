//! The two kernels of training: the forward pass (predictions, and for L systems the
//! matrix `H + reg I` whose solve gave them) and the gradient pass (ARCHITECTURE.md "Training
//! gradients are adjoints").
//!
//! For an L system with a = q'' = (H + reg I)^-1 r and a loss cotangent abar = dLoss/da,
//! lambda = (H + reg I)^-1 abar (the matrix is symmetric), and for every parameter theta
//!
//! ```text
//! dLoss/dtheta = d/dtheta [ lambda^T r(theta) - lambda^T H(theta) a ]   (lambda, a fixed)
//! ```
//!
//! With constraints the kernel solves K a_aug = r_aug, K = [H A^T; A 0] (symmetric),
//! a_aug = (q'', mu), r_aug = (r, c); the same formula holds with K for H, lambda =
//! K^-1 (abar, 0) and a_aug for a (n + m rows; `reg` only on H's diagonal).
//!
//! The scalar `S = lambda^T r - lambda^T H a` is built in the DAG with lambda and a as
//! new input variables and differentiated symbolically: with respect to every `learn`
//! param (its gradient), and with respect to every net lane node (value or partial of a
//! net call, treated as an opaque leaf: its cotangent). The cotangents of a call's lanes
//! then go through the MLP's reverse jet pass ([`super::TrainNets::jet_vjp`]). Accel
//! systems use `S = abar^T a(theta)`, H systems `S = qbar^T dH/dp + pbar^T (-dH/dq + Q)`.
//!
//! For a lattice ([`crate::symbolic::lattice`]) r and H are sums of per-site shares, so
//! S is too: each term's share `lambda_slots . r_site - lambda_slots . H_site a_slots`
//! becomes a gradient site program (lambda and a gathered at the term's slots), run over
//! every site; the forward is the lattice kernel, whose banded `H + reg I` also gives
//! lambda.

use crate::check::SystemModel;
use crate::kernel::{
    self, KernelSpec, LatticeOutputs, LatticeProgram, NetLane, Output, Program, SolveSpec,
};
use crate::symbolic::eom::{Eom, EomKind};
use crate::symbolic::{Dag, ExprId, Node};

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
    /// Constraint multipliers solved with q'' (L systems with constraints).
    pub n_mult: usize,
    /// Number of `learn` params (kernel inputs after q, v|p, t).
    pub n_learn: usize,
    /// Dense programs, or site programs for a lattice.
    pub form: Form,
}

/// The shape of a system's training kernels.
#[derive(Clone, Debug)]
pub enum Form {
    /// One row per sample.
    Dense {
        /// Inputs (q, v|p, t, learns) -> predictions (n for L/accel, 2n for H), then
        /// for L systems the multipliers (`n_mult`) and the row-major entries of
        /// `K + reg I_H` (K is H without constraints).
        forward: Program,
        /// Inputs (q, v|p, t, learns, cotangent (lambda for L, n + `n_mult`), then a_aug
        /// for L) -> the gradient of S with respect to each learn param, then for each
        /// call in `calls` its argument values and its lane cotangents.
        gradient: Program,
        /// The net calls S depends on, in gradient-output order.
        calls: Vec<Call>,
    },
    /// A lattice L system: S is a sum over sites, one gradient site program per term.
    Lattice {
        /// q'' of the lattice (no energy), solved with `H + reg I`.
        forward: LatticeProgram,
        /// `reg`, added to H's diagonal.
        reg: f64,
        /// The gradient of each forward term's share of S, in the forward's term order.
        terms: Vec<SiteGradient>,
    },
}

/// The gradient of one lattice term's share of S at a site.
#[derive(Clone, Debug)]
pub struct SiteGradient {
    /// Inputs: the forward site program's (q and q' at the slots, i, t, learns), then
    /// lambda at the slots, then a at the slots. Outputs: dS/dlearn, then per call in
    /// `calls` its argument values and lane cotangents.
    pub program: Program,
    /// The net calls, in output order.
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

    /// True for a lattice system's site programs.
    pub fn is_lattice(&self) -> bool {
        matches!(self.form, Form::Lattice { .. })
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
    let mut eom = Eom::derive(sys);
    if eom.lattice().is_some() {
        return build_lattice(eom, reg, fixed);
    }
    let n = eom.dof();
    let mut base: Vec<ExprId> = eom.q.iter().chain(&eom.v).copied().collect();
    base.push(eom.t);
    base.extend(&eom.learns);
    let learns = eom.learns.clone();
    let dag = &mut eom.dag;
    let mut cot: Vec<ExprId> = (0..n_pred_of(&eom.kind, n))
        .map(|i| dag.var(&format!("%cot{i}")))
        .collect();
    let (kind, fwd_spec, s, extra) = match &eom.kind {
        EomKind::Lagrangian { hess, rhs, .. } => {
            let zero = dag.num(0.0);
            let k = kernel::saddle_point(n, hess, rhs, &eom.constraints, zero);
            let (spec, s, a) = lagrangian(dag, base.clone(), k, n, reg, &mut cot);
            (Kind::Lagrangian, spec, s, a)
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
    let (outputs, call_info) = gradient_outputs(dag, s, &learns, fixed);
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
        n_mult: eom.constraints.len(),
        n_learn: learns.len(),
        form: Form::Dense {
            forward: kernel::lower(&eom.dag, &fwd_spec)?,
            gradient: kernel::lower(&eom.dag, &grad_spec)?,
            calls: call_info,
        },
    })
}

/// The lattice form: S = sum over sites and terms of
/// lambda . r_site - lambda . H_site a, built per term with lambda and a at its slots.
fn build_lattice(mut eom: Eom, reg: f64, fixed: &[bool]) -> Result<Kernels, AdjointError> {
    let forward = kernel::lower_lattice(
        &mut eom,
        LatticeOutputs {
            accel: true,
            energy: false,
        },
    )?;
    let Some(lat) = eom.lattice().cloned() else {
        return Err(kernel::LowerError::NotLattice.into());
    };
    let learns = eom.learns.clone();
    let mut terms = vec![];
    // The forward keeps exactly the terms with a share of r or H, in order.
    for t in lat
        .terms
        .iter()
        .filter(|t| !t.rhs.is_empty() || !t.hess.is_empty())
    {
        let dag = &mut eom.dag;
        let lam: Vec<ExprId> = (0..t.slots.len())
            .map(|s| dag.var(&format!("%lam{s}")))
            .collect();
        let a: Vec<ExprId> = (0..t.slots.len())
            .map(|s| dag.var(&format!("%a{s}")))
            .collect();
        let mut parts = vec![];
        for &(s, r) in &t.rhs {
            parts.push(dag.mul(lam[s], r));
        }
        for &(x, y, h) in &t.hess {
            let p = dag.product(&[lam[x], h, a[y]]);
            parts.push(dag.neg(p));
        }
        let s = dag.sum(&parts);
        let (outputs, calls) = gradient_outputs(dag, s, &learns, fixed);
        let mut inputs: Vec<ExprId> = t.q.iter().chain(&t.v).copied().collect();
        inputs.push(lat.index);
        inputs.push(eom.t);
        inputs.extend(&learns);
        inputs.extend(&lam);
        inputs.extend(&a);
        let spec = KernelSpec {
            inputs,
            solve: None,
            outputs,
        };
        terms.push(SiteGradient {
            program: kernel::lower(&eom.dag, &spec)?,
            calls,
        });
    }
    if terms.len() != forward.terms.len() {
        return Err(kernel::LowerError::NotLattice.into());
    }
    Ok(Kernels {
        kind: Kind::Lagrangian,
        dof: eom.dof(),
        n_mult: 0,
        n_learn: learns.len(),
        form: Form::Lattice {
            forward,
            reg,
            terms,
        },
    })
}

/// The forward spec and the scalar S of an L system whose kernel solves `k` (size
/// n + m: H q'' = r, or the saddle point with m constraints). The forward outputs the
/// solution a_aug = (q'', mu), then the row-major entries of K = k.matrix with `reg` on
/// H's diagonal. S = lambda . (r_aug - K a_aug) over all n + m rows, with `cot` extended
/// by m multiplier cotangents to lambda; returns the a_aug variables too.
fn lagrangian(
    dag: &mut Dag,
    inputs: Vec<ExprId>,
    k: SolveSpec,
    n: usize,
    reg: f64,
    cot: &mut Vec<ExprId>,
) -> (KernelSpec, ExprId, Vec<ExprId>) {
    let size = k.n;
    cot.extend((n..size).map(|i| dag.var(&format!("%cot{i}"))));
    let a: Vec<ExprId> = (0..size).map(|i| dag.var(&format!("%a{i}"))).collect();
    let mut terms = Vec::with_capacity(size + size * size);
    for (i, (&l, &r)) in cot.iter().zip(&k.rhs).enumerate() {
        terms.push(dag.mul(l, r));
        for (&kij, &aj) in k.matrix[i * size..(i + 1) * size].iter().zip(&a) {
            let t = dag.product(&[l, kij, aj]);
            terms.push(dag.neg(t));
        }
    }
    let s = dag.sum(&terms);
    let r = dag.num(reg);
    let mut solve = k;
    for i in 0..n {
        let d = &mut solve.matrix[i * size + i];
        *d = dag.add(*d, r);
    }
    let mut outputs: Vec<Output> = (0..size).map(Output::Solved).collect();
    outputs.extend(solve.matrix.iter().map(|&e| Output::Expr(e)));
    let spec = KernelSpec {
        inputs,
        solve: Some(solve),
        outputs,
    };
    (spec, s, a)
}

/// Gradient outputs of the scalar `s`: dS/dlearn (0 for `fixed` ones), then per net
/// call its argument values and the cotangents of the lanes S reads.
fn gradient_outputs(
    dag: &mut Dag,
    s: ExprId,
    learns: &[ExprId],
    fixed: &[bool],
) -> (Vec<Output>, Vec<Call>) {
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
    (outputs, call_info)
}

fn n_pred_of(kind: &EomKind, n: usize) -> usize {
    match kind {
        EomKind::Hamiltonian { .. } => 2 * n,
        _ => n,
    }
}
