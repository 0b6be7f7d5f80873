//! Second-order jets through an MLP, forward and reverse.
//!
//! A net call needs some of: its value, first partials `df/dx_i` and second partials
//! `d2f/dx_i dx_j` (the lanes of a [`NetLane`] list). The forward pass propagates, per
//! sample, one *jet row* per needed quantity through the layers:
//!
//! - the value row `h`,
//! - one tangent row `h_a = dh/dx_a` per argument position `a` that any lane
//!   differentiates with respect to,
//! - one second-order row `h_ab = d2h/dx_a dx_b` per distinct pair `(a, b)` that a lane
//!   names (only those pairs: never the full Hessian).
//!
//! A dense layer maps every row through the same weights (`z = h @ w`, plus the bias on
//! the value row only), so a layer is one matrix product over (samples x jet rows); an
//! activation `s` acts per sample as `s(z)`, `s'(z) z_a` and `s''(z) z_a z_b + s'(z) z_ab`.
//!
//! The reverse pass ([`Mlp::jet_vjp`]) differentiates `sum_k c_k * lane_k` with respect
//! to the parameters, through the same rows (it needs `s'''`).

use super::mlp::{act_derivs, matmul_acc, matmul_t_acc, matmul_tn_acc, Mlp};
use crate::kernel::NetLane;

/// Samples processed together: large enough to amortise reading the weights, small
/// enough for the jet rows to stay in cache.
const CHUNK: usize = 32;

/// Which jet rows one call needs, and where each lane is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JetPlan {
    /// Argument positions with a tangent row, ascending.
    dirs: Vec<u32>,
    /// Second-order rows as pairs of indices into `dirs` (`a <= b`).
    pairs: Vec<(usize, usize)>,
    /// Per lane: `(row, output)`, or `None` for a lane the jet cannot give (more than
    /// two partials, or an argument or output out of range): it reads NaN.
    lanes: Vec<Option<(usize, usize)>>,
    arity: usize,
}

impl JetPlan {
    /// The plan for `lanes` of a net with `arity` inputs and `outs` outputs.
    pub fn new(lanes: &[NetLane], arity: usize, outs: usize) -> JetPlan {
        let ok = |l: &NetLane| {
            (l.out as usize) < outs
                && l.partials.len() <= 2
                && l.partials.iter().all(|&p| (p as usize) < arity)
        };
        let mut dirs: Vec<u32> = lanes
            .iter()
            .filter(|l| ok(l))
            .flat_map(|l| l.partials.iter().copied())
            .collect();
        dirs.sort_unstable();
        dirs.dedup();
        let di = |p: u32| dirs.binary_search(&p).unwrap_or(0);
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        for l in lanes.iter().filter(|l| ok(l) && l.partials.len() == 2) {
            let (a, b) = (di(l.partials[0]), di(l.partials[1]));
            let p = (a.min(b), a.max(b));
            if !pairs.contains(&p) {
                pairs.push(p);
            }
        }
        let lanes = lanes
            .iter()
            .map(|l| {
                if !ok(l) {
                    return None;
                }
                let row = match *l.partials {
                    [] => 0,
                    [a] => 1 + di(a),
                    [a, b] => {
                        let (a, b) = (di(a), di(b));
                        let p = (a.min(b), a.max(b));
                        1 + dirs.len() + pairs.iter().position(|&q| q == p).unwrap_or(0)
                    }
                    _ => return None,
                };
                Some((row, l.out as usize))
            })
            .collect();
        JetPlan {
            dirs,
            pairs,
            lanes,
            arity,
        }
    }

    /// Jet rows per sample: 1 + tangents + second-order pairs.
    pub fn rows(&self) -> usize {
        1 + self.dirs.len() + self.pairs.len()
    }

    /// Number of lanes.
    pub fn n_lanes(&self) -> usize {
        self.lanes.len()
    }

    /// The input rows of `samples` samples (`x` is `samples x arity`): the value row is
    /// the argument vector, tangent row `a` the unit vector of its position, pairs zero.
    fn seed(&self, x: &[f64], samples: usize, h: &mut Vec<f64>) {
        let (r, n) = (self.rows(), self.arity);
        h.clear();
        h.resize(samples * r * n, 0.0);
        for s in 0..samples {
            let base = s * r * n;
            h[base..base + n].copy_from_slice(&x[s * n..(s + 1) * n]);
            for (a, &d) in self.dirs.iter().enumerate() {
                h[base + (1 + a) * n + d as usize] = 1.0;
            }
        }
    }

    /// Applies the activation jet to `samples` blocks of `z` (`rows() x m` each),
    /// writing `h`; `d` receives `[s', s'', s''']` per sample and unit when given.
    fn activate(
        &self,
        mlp: &Mlp,
        z: &[f64],
        m: usize,
        h: &mut [f64],
        mut keep: Option<&mut Vec<[f64; 3]>>,
    ) {
        let r = self.rows();
        let nd = self.dirs.len();
        let mut d1 = vec![0.0; m];
        let mut d2 = vec![0.0; m];
        for (zb, hb) in z.chunks_exact(r * m).zip(h.chunks_exact_mut(r * m)) {
            for j in 0..m {
                let d = act_derivs(mlp.act(), zb[j]);
                hb[j] = d[0];
                d1[j] = d[1];
                d2[j] = d[2];
                if let Some(k) = keep.as_deref_mut() {
                    k.push([d[1], d[2], d[3]]);
                }
            }
            for (p, &(a, b)) in self.pairs.iter().enumerate() {
                let row = (1 + nd + p) * m;
                for j in 0..m {
                    let (za, zb2) = (zb[(1 + a) * m + j], zb[(1 + b) * m + j]);
                    hb[row + j] = d2[j] * za * zb2 + d1[j] * zb[row + j];
                }
            }
            for a in 0..nd {
                let row = (1 + a) * m;
                for j in 0..m {
                    hb[row + j] = d1[j] * zb[row + j];
                }
            }
        }
    }
}

/// Scratch of one forward pass kept for the reverse pass: per layer, its input rows,
/// and per hidden layer the activation derivatives.
struct Tape {
    inputs: Vec<Vec<f64>>,
    hidden_z: Vec<Vec<f64>>,
    derivs: Vec<Vec<[f64; 3]>>,
}

impl Mlp {
    /// Forward jets of `samples` samples through every layer; returns the output rows
    /// (`samples x rows x n_outputs`). With `tape`, keeps what the reverse pass needs.
    fn jet_forward(
        &self,
        plan: &JetPlan,
        x: &[f64],
        samples: usize,
        mut tape: Option<&mut Tape>,
    ) -> Vec<f64> {
        let r = plan.rows();
        let mut h = Vec::new();
        plan.seed(x, samples, &mut h);
        for k in 0..self.n_layers() {
            let (w, b) = self.layer(k);
            let fo = self.widths()[k + 1];
            let mut z = vec![0.0; samples * r * fo];
            for s in 0..samples {
                z[s * r * fo..s * r * fo + fo].copy_from_slice(b);
            }
            matmul_acc(samples * r, &h, w, fo, &mut z);
            if k + 1 == self.n_layers() {
                if let Some(t) = tape.as_deref_mut() {
                    t.inputs.push(h);
                }
                return z;
            }
            let mut next = vec![0.0; z.len()];
            match tape.as_deref_mut() {
                Some(t) => {
                    let mut d = Vec::with_capacity(samples * fo);
                    plan.activate(self, &z, fo, &mut next, Some(&mut d));
                    t.inputs.push(h);
                    t.hidden_z.push(z);
                    t.derivs.push(d);
                }
                None => plan.activate(self, &z, fo, &mut next, None),
            }
            h = next;
        }
        h
    }

    /// Evaluates the lanes of `plan` at `rows` argument vectors: `x` is `rows x arity`
    /// row-major, `out` is `rows x plan.n_lanes()`. Lanes the plan cannot give are NaN.
    pub fn jet(&self, plan: &JetPlan, x: &[f64], out: &mut [f64]) {
        let (n, nl, no, r) = (
            plan.arity.max(1),
            plan.n_lanes(),
            self.n_outputs(),
            plan.rows(),
        );
        if nl == 0 {
            return;
        }
        for (xc, oc) in x.chunks(CHUNK * n).zip(out.chunks_mut(CHUNK * nl)) {
            let samples = (xc.len() / n).min(oc.len() / nl);
            let z = self.jet_forward(plan, &xc[..samples * n], samples, None);
            for (s, o) in oc.chunks_exact_mut(nl).enumerate() {
                for (v, lane) in o.iter_mut().zip(&plan.lanes) {
                    *v = match lane {
                        Some((row, k)) => z[(s * r + row) * no + k],
                        None => f64::NAN,
                    };
                }
            }
        }
    }

    /// The lanes `lanes` at `rows` argument vectors (`x` is `rows x arity`, `out` is
    /// `rows x lanes.len()`, both row-major).
    pub fn jet_lanes(&self, x: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        let plan = JetPlan::new(lanes, self.n_inputs(), self.n_outputs());
        self.jet(&plan, x, out);
    }

    /// The reverse pass of the jet: accumulates into `grad_params` (laid out like
    /// [`Mlp::params`]) the gradient with respect to the parameters of
    ///
    /// `sum over rows s, lanes k of lane_cotangents[s, k] * lane_k(x_s)`,
    ///
    /// where `x` is `rows x arity` and `lane_cotangents` is `rows x lanes.len()`, both
    /// row-major (one row: one sample). `lane_k` is the value or mixed partial that
    /// `lanes[k]` names (output `out`, argument positions `partials`, at most two).
    /// Lanes with more than two partials or out of range contribute nothing. The
    /// gradient is added to what `grad_params` holds (so several calls accumulate).
    /// The trainer's directional adjoint `d/dtheta [D L[e1] - D2 L[e2, e3]]` is this
    /// with cotangents `e1_i` on lane `d/dx_i` and `-(e2_i e3_j + e2_j e3_i)` (or
    /// `-e2_i e3_i` on the diagonal) on lane `d2/dx_i dx_j`.
    pub fn jet_vjp(
        &self,
        x: &[f64],
        lanes: &[NetLane],
        lane_cotangents: &[f64],
        grad_params: &mut [f64],
    ) {
        let plan = JetPlan::new(lanes, self.n_inputs(), self.n_outputs());
        let (n, nl, r) = (self.n_inputs().max(1), lanes.len(), plan.rows());
        if grad_params.len() != self.n_params() {
            return;
        }
        for (xc, cc) in x
            .chunks(CHUNK * n)
            .zip(lane_cotangents.chunks(CHUNK * nl.max(1)))
        {
            let samples = (xc.len() / n).min(cc.len() / nl.max(1));
            let mut tape = Tape {
                inputs: Vec::new(),
                hidden_z: Vec::new(),
                derivs: Vec::new(),
            };
            self.jet_forward(&plan, &xc[..samples * n], samples, Some(&mut tape));
            // Seed the output rows' adjoints with the cotangents.
            let no = self.n_outputs();
            let mut zbar = vec![0.0; samples * r * no];
            for s in 0..samples {
                for (lane, &c) in plan.lanes.iter().zip(&cc[s * nl..(s + 1) * nl]) {
                    if let Some((row, k)) = lane {
                        zbar[(s * r + row) * no + k] += c;
                    }
                }
            }
            for k in (0..self.n_layers()).rev() {
                let (fi, fo) = (self.widths()[k], self.widths()[k + 1]);
                let (wr, br) = self.layer_ranges(k);
                let h = &tape.inputs[k];
                matmul_tn_acc(samples * r, h, &zbar, &mut grad_params[wr.clone()]);
                let gb = &mut grad_params[br];
                for s in 0..samples {
                    for (g, &v) in gb.iter_mut().zip(&zbar[s * r * fo..s * r * fo + fo]) {
                        *g += v;
                    }
                }
                if k == 0 {
                    break;
                }
                let mut hbar = vec![0.0; samples * r * fi];
                matmul_t_acc(samples * r, &zbar, &self.params()[wr], fi, &mut hbar);
                zbar = plan.activate_adjoint(&tape.hidden_z[k - 1], &tape.derivs[k - 1], fi, &hbar);
            }
        }
    }
}

impl JetPlan {
    /// Adjoint of [`JetPlan::activate`]: from the adjoints of the activated rows `hbar`
    /// to those of the pre-activation rows, given the pre-activations `z` and the kept
    /// derivatives.
    fn activate_adjoint(&self, z: &[f64], d: &[[f64; 3]], m: usize, hbar: &[f64]) -> Vec<f64> {
        let r = self.rows();
        let nd = self.dirs.len();
        let mut zbar = vec![0.0; hbar.len()];
        for (s, ((zb, hb), out)) in z
            .chunks_exact(r * m)
            .zip(hbar.chunks_exact(r * m))
            .zip(zbar.chunks_exact_mut(r * m))
            .enumerate()
        {
            let ds = &d[s * m..(s + 1) * m];
            for j in 0..m {
                let [d1, d2, d3] = ds[j];
                let mut v = hb[j] * d1;
                for a in 0..nd {
                    let row = (1 + a) * m + j;
                    v += hb[row] * d2 * zb[row];
                    out[row] = hb[row] * d1;
                }
                for (p, &(a, b)) in self.pairs.iter().enumerate() {
                    let row = (1 + nd + p) * m + j;
                    let (ia, ib) = ((1 + a) * m + j, (1 + b) * m + j);
                    let (za, zb2) = (zb[ia], zb[ib]);
                    let g = hb[row];
                    v += g * (d3 * za * zb2 + d2 * zb[row]);
                    out[ia] += g * d2 * zb2;
                    out[ib] += g * d2 * za;
                    out[row] = g * d1;
                }
                out[j] = v;
            }
        }
        zbar
    }
}
