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
    /// For directional plans: direction vectors per sample (tangent row `a` is vector
    /// `dirs[a]` of its sample instead of a unit vector).
    directions: Option<usize>,
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
            directions: None,
        }
    }

    /// A plan over `n_dirs` direction vectors per sample instead of the coordinate
    /// axes: in `lanes`, `partials` index directions, so `[a]` is the directional
    /// derivative `D f(x)[u_a]` and `[a, b]` is `D2 f(x)[u_a, u_b]`.
    pub fn directional(lanes: &[NetLane], arity: usize, n_dirs: usize, outs: usize) -> JetPlan {
        let mut p = JetPlan::new(lanes, n_dirs, outs);
        p.arity = arity;
        p.directions = Some(n_dirs);
        p
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
    /// the argument vector, tangent row `a` the unit vector of its position (or, for a
    /// directional plan, direction `a` of the sample from `u`, `samples x n_dirs x
    /// arity`), pairs zero.
    fn seed(&self, x: &[f64], u: &[f64], samples: usize, h: &mut Vec<f64>) {
        let (r, n) = (self.rows(), self.arity);
        h.clear();
        h.resize(samples * r * n, 0.0);
        for s in 0..samples {
            let base = s * r * n;
            h[base..base + n].copy_from_slice(&x[s * n..(s + 1) * n]);
            for (a, &d) in self.dirs.iter().enumerate() {
                let row = base + (1 + a) * n;
                match self.directions {
                    Some(nd) => {
                        let from = (s * nd + d as usize) * n;
                        h[row..row + n].copy_from_slice(&u[from..from + n]);
                    }
                    None => h[row + d as usize] = 1.0,
                }
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
        u: &[f64],
        samples: usize,
        mut tape: Option<&mut Tape>,
    ) -> Vec<f64> {
        let r = plan.rows();
        let mut h = Vec::new();
        plan.seed(x, u, samples, &mut h);
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
    /// A directional plan reads its directions from `u` (`rows x n_dirs x arity`);
    /// other plans ignore `u`.
    pub fn jet(&self, plan: &JetPlan, x: &[f64], u: &[f64], out: &mut [f64]) {
        let (n, nl, no, r) = (
            plan.arity.max(1),
            plan.n_lanes(),
            self.n_outputs(),
            plan.rows(),
        );
        let un = plan.directions.map_or(0, |nd| nd * n);
        if nl == 0 || u.len() < un * (x.len() / n) {
            return;
        }
        for (c, (xc, oc)) in x
            .chunks(CHUNK * n)
            .zip(out.chunks_mut(CHUNK * nl))
            .enumerate()
        {
            let samples = (xc.len() / n).min(oc.len() / nl);
            let uc = &u[c * CHUNK * un..(c * CHUNK + samples) * un];
            let z = self.jet_forward(plan, &xc[..samples * n], uc, samples, None);
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
        self.jet(&plan, x, &[], out);
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
    /// `-e2_i e3_i` on the diagonal) on lane `d2/dx_i dx_j`; it is cheaper with a
    /// directional plan ([`JetPlan::directional`] over the directions `e1, e2, e3`, lanes
    /// `[0]` and `[1, 2]` with cotangents 1 and -1, through [`Mlp::plan_vjp`]): five jet
    /// rows (value, three tangents, one pair) instead of one per coordinate and pair.
    pub fn jet_vjp(
        &self,
        x: &[f64],
        lanes: &[NetLane],
        lane_cotangents: &[f64],
        grad_params: &mut [f64],
    ) {
        let plan = JetPlan::new(lanes, self.n_inputs(), self.n_outputs());
        self.plan_vjp(&plan, x, &[], lane_cotangents, grad_params);
    }

    /// [`Mlp::jet_vjp`] for a plan, directional or not (`u` as in [`Mlp::jet`]).
    pub fn plan_vjp(
        &self,
        plan: &JetPlan,
        x: &[f64],
        u: &[f64],
        lane_cotangents: &[f64],
        grad_params: &mut [f64],
    ) {
        let (n, nl, r) = (plan.arity.max(1), plan.n_lanes(), plan.rows());
        let un = plan.directions.map_or(0, |nd| nd * n);
        if grad_params.len() != self.n_params() || nl == 0 || u.len() < un * (x.len() / n) {
            return;
        }
        for (c, (xc, cc)) in x
            .chunks(CHUNK * n)
            .zip(lane_cotangents.chunks(CHUNK * nl))
            .enumerate()
        {
            let samples = (xc.len() / n).min(cc.len() / nl);
            let uc = &u[c * CHUNK * un..(c * CHUNK + samples) * un];
            let mut tape = Tape {
                inputs: Vec::new(),
                hidden_z: Vec::new(),
                derivs: Vec::new(),
            };
            self.jet_forward(plan, &xc[..samples * n], uc, samples, Some(&mut tape));
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

/// Where a lane of an [`EvalPlan::Reverse`] is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Src {
    /// Output `o` of the forward pass.
    Value(usize),
    /// `df/dx_i` from the reverse pass of the `r`-th differentiated output.
    Grad(usize, usize),
    /// `d2f/dx_i dx_c` from that reverse pass's tangent row `c` (an index into the cover).
    Hess(usize, usize, usize),
    /// Not available: NaN.
    Nan,
}

/// How [`Mlp::eval_lanes`] computes a call's lanes: whichever of two schemes moves
/// fewer jet rows through the layers.
///
/// - forward: the second-order forward jet of [`JetPlan`] (1 + tangents + pairs rows).
/// - forward over reverse: forward tangents only along a *cover* of the
///   needed pairs (a set of argument positions that meets every pair), then, per
///   differentiated output, one reverse pass of the value row and those tangent rows.
///   The reverse pass of the value row is the whole gradient; that of tangent `c` is
///   the Hessian column `d2f/dx dx_c`, which holds every needed pair through `c`. For an
///   LNN's `L(q, q')` the pairs are the velocity Hessian and the mixed block, so the
///   cover is the velocities: 2 * (1 + d) rows instead of 1 + 2d + d(d+1)/2 + d^2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalPlan {
    mode: Mode,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Mode {
    /// Pure forward second-order jets.
    Forward(JetPlan),
    /// Forward over reverse.
    Reverse {
        /// Tangent directions (argument positions), ascending.
        cover: Vec<u32>,
        /// Outputs that need a reverse pass.
        outs: Vec<usize>,
        /// Per lane, where it is read.
        srcs: Vec<Src>,
        /// Number of net inputs.
        arity: usize,
    },
}

impl EvalPlan {
    /// The cheaper plan for `lanes` of a net with `arity` inputs and `outs` outputs.
    pub fn new(lanes: &[NetLane], arity: usize, outs: usize) -> EvalPlan {
        let fwd = JetPlan::new(lanes, arity, outs);
        let ok = |l: &NetLane| {
            (l.out as usize) < outs
                && l.partials.len() <= 2
                && l.partials.iter().all(|&p| (p as usize) < arity)
        };
        // Greedy cover of the pairs: take the position in most uncovered pairs.
        let mut pairs: Vec<(u32, u32)> = lanes
            .iter()
            .filter(|l| ok(l) && l.partials.len() == 2)
            .map(|l| (l.partials[0], l.partials[1]))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut cover: Vec<u32> = Vec::new();
        let mut left = pairs.clone();
        while !left.is_empty() {
            let mut best = (0usize, 0u32);
            for &(a, b) in &left {
                for p in [a, b] {
                    let n = left.iter().filter(|&&(x, y)| x == p || y == p).count();
                    if n > best.0 || (n == best.0 && p < best.1) {
                        best = (n, p);
                    }
                }
            }
            cover.push(best.1);
            left.retain(|&(x, y)| x != best.1 && y != best.1);
        }
        cover.sort_unstable();
        let mut d_outs: Vec<usize> = lanes
            .iter()
            .filter(|l| ok(l) && !l.partials.is_empty())
            .map(|l| l.out as usize)
            .collect();
        d_outs.sort_unstable();
        d_outs.dedup();
        let reverse_rows = (1 + cover.len()) * (1 + d_outs.len());
        if d_outs.is_empty() || reverse_rows >= fwd.rows() {
            return EvalPlan {
                mode: Mode::Forward(fwd),
            };
        }
        let srcs = lanes
            .iter()
            .map(|l| {
                if !ok(l) {
                    return Src::Nan;
                }
                let r = d_outs
                    .iter()
                    .position(|&o| o == l.out as usize)
                    .unwrap_or(0);
                match *l.partials {
                    [] => Src::Value(l.out as usize),
                    [i] => Src::Grad(r, i as usize),
                    [i, j] => match (cover.binary_search(&j), cover.binary_search(&i)) {
                        (Ok(c), _) => Src::Hess(r, c, i as usize),
                        (_, Ok(c)) => Src::Hess(r, c, j as usize),
                        _ => Src::Nan,
                    },
                    _ => Src::Nan,
                }
            })
            .collect();
        EvalPlan {
            mode: Mode::Reverse {
                cover,
                outs: d_outs,
                srcs,
                arity,
            },
        }
    }

    /// True when the plan runs forward over reverse.
    pub fn is_reverse(&self) -> bool {
        matches!(self.mode, Mode::Reverse { .. })
    }

    /// Jet rows moved through the layers per sample (forward plus reverse).
    pub fn rows(&self) -> usize {
        match &self.mode {
            Mode::Forward(p) => p.rows(),
            Mode::Reverse { cover, outs, .. } => (1 + cover.len()) * (1 + outs.len()),
        }
    }
}

impl Mlp {
    /// Evaluates the lanes of `plan` at `rows` argument vectors: `x` is `rows x arity`
    /// row-major, `out` is `rows x lanes` (lanes the plan cannot give are NaN).
    pub fn eval_lanes(&self, plan: &EvalPlan, x: &[f64], out: &mut [f64]) {
        let (cover, outs, srcs, arity) = match &plan.mode {
            Mode::Forward(p) => return self.jet(p, x, &[], out),
            Mode::Reverse {
                cover,
                outs,
                srcs,
                arity,
            } => (cover, outs, srcs, arity),
        };
        let (n, nl) = ((*arity).max(1), srcs.len());
        if nl == 0 {
            return;
        }
        for (xc, oc) in x.chunks(CHUNK * n).zip(out.chunks_mut(CHUNK * nl)) {
            let samples = (xc.len() / n).min(oc.len() / nl);
            self.reverse_chunk(cover, outs, srcs, &xc[..samples * n], samples, oc);
        }
    }

    /// One chunk of [`Mlp::eval_lanes`] in forward-over-reverse mode.
    fn reverse_chunk(
        &self,
        cover: &[u32],
        outs: &[usize],
        srcs: &[Src],
        x: &[f64],
        samples: usize,
        out: &mut [f64],
    ) {
        let r = 1 + cover.len();
        let n = self.n_inputs();
        let layers = self.n_layers();
        if layers == 0 {
            out.fill(f64::NAN);
            return;
        }
        // Forward: value and tangent rows; keep each hidden layer's tangent
        // pre-activations and s', s'' of its value row.
        let mut h = vec![0.0; samples * r * n];
        for s in 0..samples {
            h[s * r * n..s * r * n + n].copy_from_slice(&x[s * n..(s + 1) * n]);
            for (c, &d) in cover.iter().enumerate() {
                h[(s * r + 1 + c) * n + d as usize] = 1.0;
            }
        }
        let mut kept: Vec<(Vec<f64>, Vec<[f64; 2]>)> = Vec::with_capacity(layers);
        for k in 0..layers {
            let (w, b) = self.layer(k);
            let fo = self.widths()[k + 1];
            let mut z = vec![0.0; samples * r * fo];
            for s in 0..samples {
                z[s * r * fo..s * r * fo + fo].copy_from_slice(b);
            }
            matmul_acc(samples * r, &h, w, fo, &mut z);
            if k + 1 == layers {
                h = z;
                break;
            }
            let mut d = vec![[0.0; 2]; samples * fo];
            let mut next = vec![0.0; z.len()];
            for s in 0..samples {
                let (zb, hb) = (
                    &z[s * r * fo..(s + 1) * r * fo],
                    &mut next[s * r * fo..(s + 1) * r * fo],
                );
                let ds = &mut d[s * fo..(s + 1) * fo];
                for j in 0..fo {
                    let a = act_derivs(self.act(), zb[j]);
                    hb[j] = a[0];
                    ds[j] = [a[1], a[2]];
                }
                for row in 1..r {
                    for j in 0..fo {
                        hb[row * fo + j] = ds[j][0] * zb[row * fo + j];
                    }
                }
            }
            kept.push((z, d));
            h = next;
        }
        let no = self.n_outputs();
        let y = h;
        // Reverse, once per differentiated output.
        let mut grads: Vec<Vec<f64>> = Vec::with_capacity(outs.len());
        for &o in outs {
            let last = layers - 1;
            let fi = self.widths()[last];
            let (w, _) = self.layer(last);
            // Adjoint of the last layer's input: column `o` of its weights on the value row.
            let mut hbar = vec![0.0; samples * r * fi];
            for s in 0..samples {
                for (i, hv) in hbar[s * r * fi..s * r * fi + fi].iter_mut().enumerate() {
                    *hv = w[i * no + o];
                }
            }
            for k in (0..last).rev() {
                let (z, d) = &kept[k];
                let m = self.widths()[k + 1];
                let mut zbar = vec![0.0; samples * r * m];
                for s in 0..samples {
                    let base = s * r * m;
                    let ds = &d[s * m..(s + 1) * m];
                    for row in 1..r {
                        for j in 0..m {
                            zbar[base + row * m + j] = hbar[base + row * m + j] * ds[j][0]
                                + hbar[base + j] * ds[j][1] * z[base + row * m + j];
                        }
                    }
                    for j in 0..m {
                        zbar[base + j] = hbar[base + j] * ds[j][0];
                    }
                }
                let fi = self.widths()[k];
                let (w, _) = self.layer(k);
                hbar = vec![0.0; samples * r * fi];
                matmul_t_acc(samples * r, &zbar, w, fi, &mut hbar);
            }
            grads.push(hbar);
        }
        for (s, o) in out.chunks_exact_mut(srcs.len()).enumerate().take(samples) {
            for (v, src) in o.iter_mut().zip(srcs) {
                *v = match *src {
                    Src::Value(k) => y[s * r * no + k],
                    Src::Grad(g, i) => grads[g][s * r * n + i],
                    Src::Hess(g, c, i) => grads[g][(s * r + 1 + c) * n + i],
                    Src::Nan => f64::NAN,
                };
            }
        }
    }
}
