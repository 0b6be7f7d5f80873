//! The reverse jet pass through the fewest jet rows: lane cotangents folded into
//! directions (the "directional adjoint" of ARCHITECTURE.md).
//!
//! The trainer's cotangents of one net call weight many lanes (for an LNN every entry of
//! the velocity Hessian and of the mixed block), but their weighted sum is a handful of
//! directional derivatives. Per output `o`:
//!
//! - the first partials: `sum_i c_i df/dx_i = D f(x)[u]` with `u = (c_i)`, one direction;
//! - the second partials: with `C` the symmetric matrix of their cotangents (an
//!   off-diagonal lane `(i, j)` puts half its cotangent at `(i, j)` and half at `(j, i)`),
//!   `sum c_ij d2f/dx_i dx_j = sum_k mu_k D2 f(x)[v_k, v_k]` over the eigenpairs
//!   `(mu_k, v_k)` of `C` with `mu_k != 0`; an eigenvalue `p > 0` and one `n < 0` join
//!   into one cross term `D2 f(x)[a, b]` with `a, b = sqrt(p) v_p +- sqrt(-n) v_n`
//!   (since `(a b^T + b a^T)/2 = p v_p v_p^T + n v_n v_n^T`).
//!
//! For the trainer's `d/dtheta [D L[e1] - D2 L[e2, e3]]`, `C = -(e2 e3^T + e3 e2^T)/2`
//! has one positive and one negative eigenvalue, so the pass moves five jet rows per
//! sample (value, three tangents, one second-order row) instead of one per coordinate
//! and Hessian entry: ARCHITECTURE.md's form, found from the lane cotangents alone. All
//! samples of a call share one directional [`JetPlan`]: each output gets as many cross
//! and square terms as the samples need at most, padded with zero directions (and zero
//! cotangents) elsewhere.

use super::jet::JetPlan;
use super::mlp::Mlp;
use crate::kernel::NetLane;
use nalgebra::{DMatrix, SymmetricEigen};

/// The folded cotangents of one sample and output.
struct Folded {
    value: f64,
    /// The first-order direction, `None` when every first-partial cotangent is 0.
    first: Option<Vec<f64>>,
    /// Square terms `mu D2[v, v]` of the second-order cotangents: `(mu, v)`.
    square: Vec<(f64, Vec<f64>)>,
    /// Cross terms `D2[a, b]`: `(a, b)`.
    cross: Vec<(Vec<f64>, Vec<f64>)>,
}

/// Folds the cotangents `cot` of `lanes` (one sample) for output `o` of a net with
/// `n` inputs. Lanes with more than two partials or out of range are left out.
fn fold(lanes: &[NetLane], cot: &[f64], n: usize, o: usize) -> Folded {
    let mut value = 0.0;
    let mut first = vec![0.0; n];
    let mut second = vec![0.0; n * n];
    for (l, &c) in lanes.iter().zip(cot) {
        if l.out as usize != o || l.partials.iter().any(|&p| p as usize >= n) {
            continue;
        }
        match *l.partials {
            [] => value += c,
            [a] => first[a as usize] += c,
            [a, b] => {
                let (a, b) = (a as usize, b as usize);
                second[a * n + b] += c / 2.0;
                second[b * n + a] += c / 2.0;
            }
            _ => {}
        }
    }
    let first = first.iter().any(|&c| c != 0.0).then_some(first);
    let m = DMatrix::from_row_slice(n, n, &second);
    let big = m.amax();
    let mut pairs = vec![];
    if big > 0.0 && big.is_finite() {
        let eig = SymmetricEigen::new(m);
        for (k, &mu) in eig.eigenvalues.iter().enumerate() {
            if mu.abs() > 1e-14 * big {
                pairs.push((mu, eig.eigenvectors.column(k).iter().copied().collect()));
            }
        }
    } else if !big.is_finite() {
        // Non-finite cotangents: keep them visible in the gradient.
        pairs.push((f64::NAN, vec![f64::NAN; n]));
    }
    // Join positive and negative eigenvalues into cross terms.
    let (mut pos, mut neg): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|p| p.0 > 0.0);
    let mut cross = vec![];
    while !pos.is_empty() && !neg.is_empty() {
        let ((p, vp), (q, vq)) = (pos.remove(0), neg.remove(0));
        let (sp, sq) = (p.sqrt(), (-q).sqrt());
        let a = vp.iter().zip(&vq).map(|(x, y)| sp * x + sq * y).collect();
        let b = vp.iter().zip(&vq).map(|(x, y)| sp * x - sq * y).collect();
        cross.push((a, b));
    }
    pos.extend(neg);
    Folded {
        value,
        first,
        square: pos,
        cross,
    }
}

impl Mlp {
    /// The same gradient as [`Mlp::jet_vjp`] (same arguments: `x` is `rows x arity`,
    /// `lane_cotangents` is `rows x lanes.len()`, the gradient is added to
    /// `grad_params`), computed through a directional plan over the folded cotangents
    /// (see the module documentation): fewer jet rows whenever the second-order
    /// cotangents have low rank, as the trainer's always do.
    pub fn folded_vjp(
        &self,
        x: &[f64],
        lanes: &[NetLane],
        lane_cotangents: &[f64],
        grad_params: &mut [f64],
    ) {
        let (n, no, nl) = (self.n_inputs(), self.n_outputs(), lanes.len());
        if nl == 0 || n == 0 || grad_params.len() != self.n_params() {
            return;
        }
        let rows = (x.len() / n).min(lane_cotangents.len() / nl);
        // folded[s * no + o]
        let folded: Vec<Folded> = (0..rows)
            .flat_map(|s| {
                let c = &lane_cotangents[s * nl..(s + 1) * nl];
                (0..no).map(move |o| fold(lanes, c, n, o))
            })
            .collect();
        // Per output: a first-order slot if any sample needs it, and the largest rank.
        // Per output: (first slot, first cross slot, crosses, first square slot, squares).
        let mut slots = Vec::with_capacity(no);
        let mut n_dirs = 0;
        let mut plan_lanes = vec![];
        for o in 0..no {
            let samples = || folded.iter().skip(o).step_by(no);
            let has_first = samples().any(|f| f.first.is_some());
            let crosses = samples().map(|f| f.cross.len()).max().unwrap_or(0);
            let squares = samples().map(|f| f.square.len()).max().unwrap_or(0);
            plan_lanes.push(NetLane {
                out: o as u32,
                partials: Box::new([]),
            });
            let first = has_first.then(|| {
                n_dirs += 1;
                plan_lanes.push(NetLane {
                    out: o as u32,
                    partials: Box::new([(n_dirs - 1) as u32]),
                });
                n_dirs - 1
            });
            let cross0 = n_dirs;
            for k in 0..crosses {
                let d = (cross0 + 2 * k) as u32;
                plan_lanes.push(NetLane {
                    out: o as u32,
                    partials: Box::new([d, d + 1]),
                });
            }
            n_dirs += 2 * crosses;
            let square0 = n_dirs;
            for k in 0..squares {
                let d = (square0 + k) as u32;
                plan_lanes.push(NetLane {
                    out: o as u32,
                    partials: Box::new([d, d]),
                });
            }
            n_dirs += squares;
            slots.push((first, cross0, crosses, square0, squares));
        }
        let npl = plan_lanes.len();
        let mut u = vec![0.0; rows * n_dirs * n];
        let mut cot = vec![0.0; rows * npl];
        for s in 0..rows {
            let us = &mut u[s * n_dirs * n..(s + 1) * n_dirs * n];
            let cs = &mut cot[s * npl..(s + 1) * npl];
            let mut lane = 0;
            for (o, &(first, cross0, crosses, square0, squares)) in slots.iter().enumerate() {
                let f = &folded[s * no + o];
                cs[lane] = f.value;
                lane += 1;
                if let Some(d) = first {
                    if let Some(v) = &f.first {
                        us[d * n..(d + 1) * n].copy_from_slice(v);
                    }
                    cs[lane] = 1.0;
                    lane += 1;
                }
                for (k, (a, b)) in f.cross.iter().enumerate() {
                    let d = cross0 + 2 * k;
                    us[d * n..(d + 1) * n].copy_from_slice(a);
                    us[(d + 1) * n..(d + 2) * n].copy_from_slice(b);
                    cs[lane + k] = 1.0;
                }
                lane += crosses;
                for (k, (mu, v)) in f.square.iter().enumerate() {
                    let d = square0 + k;
                    us[d * n..(d + 1) * n].copy_from_slice(v);
                    cs[lane + k] = *mu;
                }
                lane += squares;
            }
        }
        let plan = JetPlan::directional(&plan_lanes, n, n_dirs, no);
        self.plan_vjp(&plan, &x[..rows * n], &u, &cot, grad_params);
    }
}
