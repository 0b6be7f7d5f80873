//! A plain reference implementation of [`TrainNets`] for a system's MLPs: seeded
//! initialisation (LANGUAGE.md's `lnn`, `xavier`, `kaiming`), forward second-order jets
//! for any lanes, and their exact reverse pass for the weight gradient. One sample at a
//! time, no matrix-matrix products: the `nn` module's batched implementation is meant to
//! replace it; this one keeps nets trainable (and testable) meanwhile.
//!
//! Flat layout: net by net in declaration order; per layer k, `w{k}` row-major
//! (fan_in x fan_out, so `w[i * fan_out + o]`), then `b{k}`.
//!
//! Jets: component 0 is the value; then first-order components along directions d_i in
//! argument space, and second-order components along pairs of them. Through a hidden
//! layer z = W^T h + b, a = act(z): a1_i = act'(z) z1_i and
//! a2_ij = act''(z) z1_i z1_j + act'(z) z2_ij. Evaluating lanes uses unit directions; the
//! reverse pass first folds the lanes' cotangents into as few directions as it can (the
//! "directional adjoint" of DESIGN.md: for an LNN, a handful of components instead of
//! every Hessian entry). Lanes with more than two partials are not supported (they
//! evaluate to NaN).

use super::checkpoint::Tensor;
use super::TrainNets;
use crate::backend::SharedNets;
use crate::check::{Activation, Init, Net};
use crate::kernel::{NetEval, NetLane};
use crate::sample::Rng;
use std::sync::{Arc, RwLock};

/// One net's shape and where its weights start in the flat vector.
#[derive(Clone, Debug)]
struct Shape {
    name: String,
    widths: Vec<usize>,
    act: Activation,
    offset: usize,
}

impl Shape {
    /// Offsets of `w{k}` and `b{k}` in the flat vector.
    fn layer(&self, k: usize) -> (usize, usize) {
        let mut o = self.offset;
        for j in 0..k {
            o += self.widths[j] * self.widths[j + 1] + self.widths[j + 1];
        }
        (o, o + self.widths[k] * self.widths[k + 1])
    }
}

/// Activation and its first three derivatives at z.
fn act(a: Activation, z: f64) -> [f64; 4] {
    match a {
        Activation::Softplus => {
            let s = 1.0 / (1.0 + (-z).exp());
            let sp = if z > 30.0 { z } else { z.exp().ln_1p() };
            [sp, s, s * (1.0 - s), s * (1.0 - s) * (1.0 - 2.0 * s)]
        }
        Activation::Tanh => {
            let t = z.tanh();
            let d = 1.0 - t * t;
            [t, d, -2.0 * t * d, d * (6.0 * t * t - 2.0)]
        }
        Activation::Sigmoid => {
            let s = 1.0 / (1.0 + (-z).exp());
            let d = s * (1.0 - s);
            [s, d, d * (1.0 - 2.0 * s), d * (1.0 - 6.0 * s + 6.0 * s * s)]
        }
        Activation::Relu2 if z > 0.0 => [z * z, 2.0 * z, 2.0, 0.0],
        Activation::Relu2 => [0.0; 4],
        Activation::Sin => [z.sin(), z.cos(), -z.sin(), -z.cos()],
        Activation::Relu if z > 0.0 => [z, 1.0, 0.0, 0.0],
        Activation::Relu => [0.0; 4],
    }
}

/// The jet components of one pass: the value, first-order directional derivatives
/// along `dirs` (vectors in argument space), second-order ones along `pairs` of them.
struct Plan {
    /// First-order directions.
    dirs: Vec<Vec<f64>>,
    /// Pairs (indices into `dirs`) with a second-order component.
    pairs: Vec<(usize, usize)>,
}

impl Plan {
    fn n_comp(&self) -> usize {
        1 + self.dirs.len() + self.pairs.len()
    }

    fn pair(&mut self, p: (usize, usize)) -> usize {
        let k = match self.pairs.iter().position(|&x| x == p) {
            Some(k) => k,
            None => {
                self.pairs.push(p);
                self.pairs.len() - 1
            }
        };
        1 + self.dirs.len() + k
    }

    /// Unit directions for the lanes' partials; returns the plan and each lane's
    /// component (`None` for more than two partials).
    fn for_lanes(lanes: &[NetLane], arity: usize) -> (Plan, Vec<Option<usize>>) {
        let mut firsts: Vec<u32> = vec![];
        for l in lanes {
            for &p in l.partials.iter().take(2) {
                if !firsts.contains(&p) {
                    firsts.push(p);
                }
            }
        }
        let dirs = firsts
            .iter()
            .map(|&p| {
                (0..arity)
                    .map(|i| f64::from(u8::from(i == p as usize)))
                    .collect()
            })
            .collect();
        let mut plan = Plan {
            dirs,
            pairs: vec![],
        };
        let pos = |p: u32| firsts.iter().position(|&x| x == p).unwrap_or(0);
        let comps = lanes
            .iter()
            .map(|l| match *l.partials {
                [] => Some(0),
                [a] => Some(1 + pos(a)),
                [a, b] => Some(plan.pair((pos(a), pos(b)))),
                _ => None,
            })
            .collect();
        (plan, comps)
    }

    /// The fewest components whose seeded sum is `sum_k cot[k] * lane_k`: per output,
    /// the value, one direction for all first partials (`sum c_i d/dx_i = D[u]`), and the
    /// eigen-directions of the symmetric matrix of the second partials' cotangents
    /// (`sum c_ij d2/dx_i dx_j = sum_k mu_k D2[u_k, u_k]`). Returns the plan and the
    /// seeds `(component, output, weight)` of the last layer's cotangents.
    fn for_cotangents(
        lanes: &[NetLane],
        cot: &[f64],
        arity: usize,
        outs: usize,
    ) -> (Plan, Vec<(usize, usize, f64)>) {
        let mut value = vec![0.0; outs];
        let mut first = vec![vec![0.0; arity]; outs];
        let mut second = vec![vec![0.0; arity * arity]; outs];
        for (l, &c) in lanes.iter().zip(cot) {
            let o = l.out as usize;
            match *l.partials {
                [] => value[o] += c,
                [a] => first[o][a as usize] += c,
                [a, b] => {
                    let (a, b) = (a as usize, b as usize);
                    second[o][a * arity + b] += c / 2.0;
                    second[o][b * arity + a] += c / 2.0;
                }
                _ => {}
            }
        }
        let mut plan = Plan {
            dirs: vec![],
            pairs: vec![],
        };
        let mut firsts = vec![]; // (dir, out)
        let mut seconds = vec![]; // (dir, out, mu)
        for o in 0..outs {
            if first[o].iter().any(|&c| c != 0.0) {
                plan.dirs.push(first[o].clone());
                firsts.push((plan.dirs.len() - 1, o));
            }
            let m = nalgebra::DMatrix::from_row_slice(arity, arity, &second[o]);
            let big = m.amax();
            if big == 0.0 {
                continue;
            }
            let eig = nalgebra::SymmetricEigen::new(m);
            for (k, &mu) in eig.eigenvalues.iter().enumerate() {
                if mu.abs() > 1e-14 * big {
                    plan.dirs
                        .push(eig.eigenvectors.column(k).iter().copied().collect());
                    seconds.push((plan.dirs.len() - 1, o, mu));
                }
            }
        }
        let mut seeds: Vec<(usize, usize, f64)> = (0..outs)
            .filter(|&o| value[o] != 0.0)
            .map(|o| (0, o, value[o]))
            .collect();
        seeds.extend(firsts.into_iter().map(|(d, o)| (1 + d, o, 1.0)));
        for (d, o, mu) in seconds {
            let c = plan.pair((d, d));
            seeds.push((c, o, mu));
        }
        (plan, seeds)
    }
}

/// The nets of one system with their weights, evaluable by kernels and trainable.
pub struct RefNets {
    shapes: Vec<Shape>,
    weights: RwLock<Vec<f64>>,
}

/// Per-layer values kept by the forward jet for the reverse pass: the layer's input
/// components and its pre-activation components, each `n_comp x width`.
struct Tape {
    inputs: Vec<Vec<f64>>,
    pre: Vec<Vec<f64>>,
}

impl RefNets {
    /// The nets of a system, initialised by each net's `init` scheme from `seed`.
    pub fn new(nets: &[Net], seed: u64) -> RefNets {
        let mut shapes = vec![];
        let mut offset = 0;
        for n in nets {
            let widths = n.widths();
            shapes.push(Shape {
                name: n.name.clone(),
                widths,
                act: n.act,
                offset,
            });
            offset += n.weight_count();
        }
        let mut w = vec![0.0; offset];
        let mut rng = Rng::new(seed);
        for (n, s) in nets.iter().zip(&shapes) {
            let layers = s.widths.len() - 1;
            for k in 0..layers {
                let (fi, fo) = (s.widths[k], s.widths[k + 1]);
                let big = fi.max(fo) as f64;
                let sd = match n.init {
                    Init::Lnn if k == 0 => 2.2 / big.sqrt(),
                    Init::Lnn if k + 1 == layers => big.sqrt(),
                    Init::Lnn => 0.58 * k as f64 / big.sqrt(),
                    Init::Xavier => (2.0 / (fi + fo) as f64).sqrt(),
                    Init::Kaiming => (2.0 / fi as f64).sqrt(),
                };
                let (wo, _) = s.layer(k);
                for x in &mut w[wo..wo + fi * fo] {
                    *x = sd * rng.normal();
                }
            }
        }
        RefNets {
            shapes,
            weights: RwLock::new(w),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<f64>> {
        self.weights.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Forward jet of net `net` at `x`; returns the output components
    /// (`n_comp x outputs`) and, if `tape`, what the reverse pass needs.
    fn forward(
        &self,
        w: &[f64],
        net: usize,
        x: &[f64],
        plan: &Plan,
        tape: Option<&mut Tape>,
    ) -> Vec<f64> {
        let s = &self.shapes[net];
        let nc = plan.n_comp();
        let nf = plan.dirs.len();
        let n0 = s.widths[0];
        let mut h = vec![0.0; nc * n0];
        let k = n0.min(x.len());
        h[..k].copy_from_slice(&x[..k]);
        for (i, d) in plan.dirs.iter().enumerate() {
            h[(1 + i) * n0..(2 + i) * n0].copy_from_slice(&d[..n0]);
        }
        let layers = s.widths.len() - 1;
        let mut tape = tape;
        for k in 0..layers {
            let (fi, fo) = (s.widths[k], s.widths[k + 1]);
            let (wo, bo) = s.layer(k);
            let wk = &w[wo..wo + fi * fo];
            let mut z = vec![0.0; nc * fo];
            z[..fo].copy_from_slice(&w[bo..bo + fo]);
            // Row by row of W, every component: W is read once per pass.
            for (i, wrow) in wk.chunks_exact(fo).enumerate() {
                for (c, zc) in z.chunks_exact_mut(fo).enumerate() {
                    let hi = h[c * fi + i];
                    if hi == 0.0 {
                        continue;
                    }
                    for (zo, wio) in zc.iter_mut().zip(wrow) {
                        *zo += hi * wio;
                    }
                }
            }
            if let Some(t) = tape.as_deref_mut() {
                t.inputs.push(std::mem::take(&mut h));
            }
            if k + 1 == layers {
                if let Some(t) = tape.as_deref_mut() {
                    t.pre.push(z.clone());
                }
                return z;
            }
            let mut a = vec![0.0; nc * fo];
            for o in 0..fo {
                let d = act(s.act, z[o]);
                a[o] = d[0];
                for i in 0..nf {
                    a[(1 + i) * fo + o] = d[1] * z[(1 + i) * fo + o];
                }
                for (p, &(i, j)) in plan.pairs.iter().enumerate() {
                    let c = 1 + nf + p;
                    a[c * fo + o] =
                        d[2] * z[(1 + i) * fo + o] * z[(1 + j) * fo + o] + d[1] * z[c * fo + o];
                }
            }
            if let Some(t) = tape.as_deref_mut() {
                t.pre.push(z);
            }
            h = a;
        }
        h
    }
}

impl NetEval for RefNets {
    fn eval(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        let widths = &self.shapes[net as usize].widths;
        let (plan, comps) = Plan::for_lanes(lanes, widths[0]);
        let w = self.read();
        let y = self.forward(&w, net as usize, args, &plan, None);
        let outs = widths.last().copied().unwrap_or(1);
        for ((o, l), c) in out.iter_mut().zip(lanes).zip(&comps) {
            *o = match c {
                Some(c) => y[c * outs + l.out as usize],
                None => f64::NAN,
            };
        }
    }
}

/// [`RefNets`] shared with the kernels' evaluators.
pub struct SharedRefNets(pub Arc<RefNets>);

impl TrainNets for SharedRefNets {
    fn n_params(&self) -> usize {
        self.0.read().len()
    }

    fn params(&self) -> Vec<f64> {
        self.0.read().clone()
    }

    fn set_params(&self, params: &[f64]) {
        let mut w = self.0.weights.write().unwrap_or_else(|e| e.into_inner());
        w.copy_from_slice(params);
    }

    fn evaluator(&self) -> SharedNets {
        self.0.clone()
    }

    fn jet_vjp(&self, net: u32, args: &[f64], lanes: &[NetLane], cot: &[f64], grad: &mut [f64]) {
        let me = &self.0;
        let w = me.read();
        let net = net as usize;
        let s = &me.shapes[net];
        let layers = s.widths.len() - 1;
        let outs = s.widths[layers];
        let (plan, seeds) = Plan::for_cotangents(lanes, cot, s.widths[0], outs);
        let mut tape = Tape {
            inputs: vec![],
            pre: vec![],
        };
        me.forward(&w, net, args, &plan, Some(&mut tape));
        let nc = plan.n_comp();
        let nf = plan.dirs.len();
        // Cotangents of the last layer's output components.
        let mut zbar = vec![0.0; nc * outs];
        for (c, o, g) in seeds {
            zbar[c * outs + o] += g;
        }
        for k in (0..layers).rev() {
            let (fi, fo) = (s.widths[k], s.widths[k + 1]);
            let (wo, bo) = s.layer(k);
            let h = &tape.inputs[k];
            // z_c = W^T h_c (+ b for the value): weight and bias cotangents.
            for (i, grow) in grad[wo..wo + fi * fo].chunks_exact_mut(fo).enumerate() {
                for (c, zc) in zbar.chunks_exact(fo).enumerate() {
                    let hi = h[c * fi + i];
                    if hi == 0.0 {
                        continue;
                    }
                    for (g, zb) in grow.iter_mut().zip(zc) {
                        *g += hi * zb;
                    }
                }
            }
            for (g, zb) in grad[bo..bo + fo].iter_mut().zip(&zbar[..fo]) {
                *g += zb;
            }
            if k == 0 {
                break;
            }
            // hbar_c = W zbar_c, then back through the previous layer's activation.
            let wk = &w[wo..wo + fi * fo];
            let mut abar = vec![0.0; nc * fi];
            for (i, wrow) in wk.chunks_exact(fo).enumerate() {
                for (c, zc) in zbar.chunks_exact(fo).enumerate() {
                    abar[c * fi + i] = wrow.iter().zip(zc).map(|(a, b)| a * b).sum();
                }
            }
            let z = &tape.pre[k - 1];
            let mut nz = vec![0.0; nc * fi];
            for o in 0..fi {
                let d = act(s.act, z[o]);
                let z1 = |i: usize| z[(1 + i) * fi + o];
                let mut b0 = abar[o] * d[1];
                for i in 0..nf {
                    let a1 = abar[(1 + i) * fi + o];
                    nz[(1 + i) * fi + o] += a1 * d[1];
                    b0 += a1 * d[2] * z1(i);
                }
                for (p, &(i, j)) in plan.pairs.iter().enumerate() {
                    let c = 1 + nf + p;
                    let a2 = abar[c * fi + o];
                    nz[c * fi + o] += a2 * d[1];
                    nz[(1 + i) * fi + o] += a2 * d[2] * z1(j);
                    nz[(1 + j) * fi + o] += a2 * d[2] * z1(i);
                    b0 += a2 * (d[3] * z1(i) * z1(j) + d[2] * z[c * fi + o]);
                }
                nz[o] = b0;
            }
            zbar = nz;
        }
    }

    fn tensors(&self) -> Vec<Tensor> {
        let me = &self.0;
        let w = me.read();
        let mut out = vec![];
        for s in &me.shapes {
            for k in 0..s.widths.len() - 1 {
                let (fi, fo) = (s.widths[k], s.widths[k + 1]);
                let (wo, bo) = s.layer(k);
                out.push(Tensor {
                    name: format!("{}.w{k}", s.name),
                    shape: vec![fi, fo],
                    data: w[wo..wo + fi * fo].to_vec(),
                });
                out.push(Tensor {
                    name: format!("{}.b{k}", s.name),
                    shape: vec![fo],
                    data: w[bo..bo + fo].to_vec(),
                });
            }
        }
        out
    }
}
