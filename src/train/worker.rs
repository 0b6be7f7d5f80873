//! One chunk of training samples on one worker thread: the forward kernel over the
//! chunk, the loss, the adjoint solve (lambda from the forward solve's own matrix) and the
//! gradient kernel, then the nets' reverse pass over all the chunk's rows of a call.
//!
//! Invariant: a chunk's [`Partial`] depends only on its rows and theta, never on which
//! worker ran it, so the trainer can sum chunks in chunk order on any number of threads.

use super::adjoint::{Call, Form, Kernels, Kind};
use super::data::Dataset;
use super::{loss, TrainNets, CHUNK};
use crate::backend::lattice::LatticeKernel;
use crate::backend::{self, solve::lu_solve_in_place, Backend, EvalError, SharedNets};

/// Per-thread evaluators and scratch space (buffers hold [`CHUNK`] rows).
pub(super) struct Worker {
    eval: Evaluators,
    buf: Buffers,
}

/// A worker's kernels on its backend.
pub(super) enum Evaluators {
    /// One forward and one gradient row per sample.
    Dense {
        forward: Box<dyn Backend + Send>,
        gradient: Box<dyn Backend + Send>,
        calls: Vec<Call>,
    },
    /// The lattice kernel (its H solves lambda too) and one gradient kernel per term
    /// (with its net calls), fed one row per site.
    Lattice {
        forward: Box<LatticeKernel>,
        gradients: Vec<(Box<dyn Backend + Send>, Vec<Call>)>,
        rows: Vec<Vec<f64>>,
    },
}

/// A worker's scratch space.
#[derive(Default)]
pub(super) struct Buffers {
    fin: Vec<f64>,
    fout: Vec<f64>,
    gin: Vec<f64>,
    gout: Vec<f64>,
    cot: Vec<f64>,
    lu: Vec<f64>,
    lam: Vec<f64>,
    /// Arguments and lane cotangents of one net call over the chunk's used samples.
    args: Vec<f64>,
    lane_cot: Vec<f64>,
}

/// What a chunk of samples adds up to.
#[derive(Default)]
pub(super) struct Partial {
    pub(super) loss: f64,
    pub(super) used: usize,
    pub(super) skipped: usize,
    pub(super) grad: Vec<f64>,
}

/// Where a kernel's learn input comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum LearnSrc {
    /// Trained: component `i` of theta.
    Theta(usize),
    /// A per-sample param: column `c` after `t` in the data row.
    Data(usize),
}

/// Read-only inputs of a chunk evaluation.
pub(super) struct Shared<'a> {
    pub(super) kernels: &'a Kernels,
    pub(super) learn_src: &'a [LearnSrc],
    pub(super) data: &'a Dataset,
    pub(super) theta: &'a [f64],
    pub(super) nets: Option<&'a dyn TrainNets>,
    pub(super) loss: crate::check::Loss,
    /// Learn params in theta (the nets' weights follow them).
    pub(super) n_theta_learn: usize,
}

impl Worker {
    /// Builds the evaluators of `kernels` on backend `kind`.
    pub(super) fn new(kernels: &Kernels, kind: backend::Kind, nets: Option<SharedNets>) -> Worker {
        let create = |p: &crate::kernel::Program| backend::create(p.clone(), kind, nets.clone());
        let eval = match &kernels.form {
            Form::Dense {
                forward,
                gradient,
                calls,
            } => Evaluators::Dense {
                forward: create(forward),
                gradient: create(gradient),
                calls: calls.clone(),
            },
            Form::Lattice {
                forward,
                reg,
                terms,
            } => Evaluators::Lattice {
                forward: Box::new(
                    LatticeKernel::new(forward.clone(), kind, nets.clone()).with_reg(*reg),
                ),
                gradients: terms
                    .iter()
                    .map(|t| (create(&t.program), t.calls.clone()))
                    .collect(),
                rows: vec![vec![]; terms.len()],
            },
        };
        let (n, np) = (kernels.dof, kernels.n_pred());
        let buf = match &eval {
            Evaluators::Dense {
                forward, gradient, ..
            } => Buffers {
                fin: vec![0.0; CHUNK * forward.n_inputs()],
                fout: vec![0.0; CHUNK * forward.n_outputs()],
                gin: vec![0.0; CHUNK * gradient.n_inputs()],
                gout: vec![0.0; CHUNK * gradient.n_outputs()],
                lu: vec![0.0; (n + kernels.n_mult).pow(2)],
                cot: vec![0.0; np],
                ..Buffers::default()
            },
            Evaluators::Lattice { forward, .. } => Buffers {
                fin: vec![0.0; forward.n_inputs()],
                fout: vec![0.0; forward.n_outputs()],
                cot: vec![0.0; np],
                lam: vec![0.0; n],
                ..Buffers::default()
            },
        };
        Worker { eval, buf }
    }

    /// Loss and gradient sums of the samples `rows` (at most [`CHUNK`]).
    pub(super) fn chunk(
        &mut self,
        sh: &Shared,
        rows: &[usize],
        want_grad: bool,
    ) -> Result<Partial, EvalError> {
        let mut p = Partial {
            grad: if want_grad {
                vec![0.0; sh.theta.len()]
            } else {
                vec![]
            },
            ..Partial::default()
        };
        match &mut self.eval {
            Evaluators::Dense {
                forward,
                gradient,
                calls,
            } => dense_chunk(
                forward.as_mut(),
                gradient.as_mut(),
                calls,
                &mut self.buf,
                sh,
                rows,
                want_grad,
                &mut p,
            )?,
            Evaluators::Lattice {
                forward,
                gradients,
                rows: site_rows,
            } => {
                site_rows.iter_mut().for_each(Vec::clear);
                for &r in rows {
                    lattice_sample(forward, site_rows, &mut self.buf, sh, r, want_grad, &mut p)?;
                }
                if want_grad && p.used > 0 {
                    let b = &mut self.buf;
                    for ((g, calls), gin) in gradients.iter_mut().zip(site_rows.iter()) {
                        let (ngi, ngo) = (g.n_inputs(), g.n_outputs());
                        b.gout.resize(gin.len() / ngi * ngo, 0.0);
                        g.eval_batch(gin, &mut b.gout)?;
                        add_gradient(
                            sh,
                            &b.gout,
                            ngo,
                            calls,
                            &mut b.args,
                            &mut b.lane_cot,
                            &mut p.grad,
                        );
                    }
                }
            }
        }
        Ok(p)
    }
}

/// The input row of sample `r` (q, v|p, t, then each learn param from theta or the data).
fn fill_input(sh: &Shared, r: usize, fin: &mut [f64]) {
    let n_in = 2 * sh.kernels.dof + 1;
    let row = sh.data.input(r);
    fin[..n_in].copy_from_slice(&row[..n_in]);
    for (x, src) in fin[n_in..].iter_mut().zip(sh.learn_src) {
        *x = match *src {
            LearnSrc::Theta(i) => sh.theta[i],
            LearnSrc::Data(c) => row[n_in + c],
        };
    }
}

/// Dense kernels: the forward kernel over all samples of the chunk at once, then the
/// gradient kernel over the usable ones, then one reverse net pass per net call.
#[allow(clippy::too_many_arguments)]
fn dense_chunk(
    forward: &mut dyn Backend,
    gradient: &mut dyn Backend,
    calls: &[Call],
    b: &mut Buffers,
    sh: &Shared,
    rows: &[usize],
    want_grad: bool,
    p: &mut Partial,
) -> Result<(), EvalError> {
    let k = sh.kernels;
    let (n, np, nl) = (k.dof, k.n_pred(), k.n_learn);
    let n_in = 2 * n + 1;
    let (nfi, nfo) = (forward.n_inputs(), forward.n_outputs());
    let (ngi, ngo) = (gradient.n_inputs(), gradient.n_outputs());
    let m = rows.len();
    for (fin, &r) in b.fin.chunks_exact_mut(nfi).zip(rows) {
        fill_input(sh, r, fin);
    }
    let rep = forward.eval_batch(&b.fin[..m * nfi], &mut b.fout[..m * nfo])?;
    // Which rows had a singular system (rare): evaluate those one by one.
    let mut singular = vec![false; m];
    if rep.singular > 0 {
        for (s, flag) in singular.iter_mut().enumerate() {
            let one = forward.eval(
                &b.fin[s * nfi..(s + 1) * nfi],
                &mut b.fout[s * nfo..(s + 1) * nfo],
            )?;
            *flag = one.singular > 0;
        }
    }
    let mut used = 0;
    for (s, &r) in rows.iter().enumerate() {
        let fout = &b.fout[s * nfo..(s + 1) * nfo];
        let pred = &fout[..np];
        if singular[s] || !pred.iter().all(|x| x.is_finite()) {
            p.skipped += 1;
            continue;
        }
        let l = loss::sample_loss(sh.loss, pred, sh.data.target(r), &mut b.cot);
        if want_grad {
            let gin = &mut b.gin[used * ngi..(used + 1) * ngi];
            let ni = n_in + nl;
            gin[..ni].copy_from_slice(&b.fin[s * nfi..(s + 1) * nfi]);
            if k.kind == Kind::Lagrangian {
                // lambda = K^-1 (abar, 0), from the matrix the forward solve used.
                let s = n + k.n_mult;
                b.lu.copy_from_slice(&fout[s..s + s * s]);
                let lam = &mut gin[ni..ni + s];
                lam[..n].copy_from_slice(&b.cot);
                lam[n..].fill(0.0);
                if !lu_solve_in_place(s, &mut b.lu, lam) {
                    p.skipped += 1;
                    continue;
                }
                gin[ni + s..].copy_from_slice(&fout[..s]);
            } else {
                gin[ni..].copy_from_slice(&b.cot);
            }
        }
        p.loss += l;
        p.used += 1;
        used += 1;
    }
    if !want_grad || used == 0 {
        return Ok(());
    }
    gradient.eval_batch(&b.gin[..used * ngi], &mut b.gout[..used * ngo])?;
    add_gradient(
        sh,
        &b.gout[..used * ngo],
        ngo,
        calls,
        &mut b.args,
        &mut b.lane_cot,
        &mut p.grad,
    );
    Ok(())
}

/// A lattice sample: the forward solve, the loss, lambda from the same matrix, and (with
/// `want_grad`) the gradient site rows of every term appended to `site_rows`.
fn lattice_sample(
    forward: &mut LatticeKernel,
    site_rows: &mut [Vec<f64>],
    b: &mut Buffers,
    sh: &Shared,
    r: usize,
    want_grad: bool,
    p: &mut Partial,
) -> Result<(), EvalError> {
    fill_input(sh, r, &mut b.fin);
    let rep = forward.eval(&b.fin, &mut b.fout)?;
    if rep.singular > 0 || !b.fout.iter().all(|x| x.is_finite()) {
        p.skipped += 1;
        return Ok(());
    }
    let l = loss::sample_loss(sh.loss, &b.fout, sh.data.target(r), &mut b.cot);
    if want_grad {
        if !forward.adjoint_solve(&b.cot, &mut b.lam) {
            p.skipped += 1;
            return Ok(());
        }
        for (t, rows) in site_rows.iter_mut().enumerate() {
            forward.site_rows(t, &b.fin, &[&b.lam, &b.fout], rows);
        }
    }
    p.loss += l;
    p.used += 1;
    Ok(())
}

/// Adds gradient kernel rows `gout` (`ngo` wide) to `grad`: each row's dS/dlearn to the
/// trained learn params, and each net call's lane cotangents through the nets' reverse
/// jet pass (all rows of a call at once).
fn add_gradient(
    sh: &Shared,
    gout: &[f64],
    ngo: usize,
    calls: &[Call],
    args: &mut Vec<f64>,
    lane_cot: &mut Vec<f64>,
    grad: &mut [f64],
) {
    let nl = sh.kernels.n_learn;
    for g in gout.chunks_exact(ngo) {
        for (src, d) in sh.learn_src.iter().zip(&g[..nl]) {
            if let LearnSrc::Theta(i) = *src {
                grad[i] += d;
            }
        }
    }
    let Some(nets) = sh.nets else {
        return;
    };
    let mut pos = nl;
    for call in calls {
        let (na, nc) = (call.arity, call.lanes.len());
        args.clear();
        lane_cot.clear();
        for g in gout.chunks_exact(ngo) {
            args.extend_from_slice(&g[pos..pos + na]);
            lane_cot.extend_from_slice(&g[pos + na..pos + na + nc]);
        }
        pos += na + nc;
        let nt = sh.n_theta_learn;
        nets.jet_vjp(call.net, args, &call.lanes, lane_cot, &mut grad[nt..]);
    }
}
