//! Training gradients (adjoints) against central finite differences of the loss: learn
//! params of L, accel and H systems (mse, l1, reg), and net weights through a
//! polynomial test "net" whose reverse jet pass is exact and easy to write.

use crate::common;

use common::checked_model;
use lagc::backend::{Kind, SharedNets};
use lagc::check::{Model, RunSettings, Source, TrainSettings};
use lagc::kernel::{NetEval, NetLane};
use lagc::nn::{Weights, WeightsError};
use lagc::train::data::from_sample;
use lagc::train::{TrainNets, Trainer};
use std::sync::{Arc, RwLock};

/// A linear-in-weights test net: output o = sum_k w[o][k] * prod_j x_j^e[k][j] over all
/// monomials of degree <= 3 in its arguments. Partials of any order are exact.
struct Poly {
    arity: usize,
    outs: usize,
    monos: Vec<Vec<u32>>,
    w: RwLock<Vec<f64>>,
}

fn monomials(arity: usize, deg: u32) -> Vec<Vec<u32>> {
    if arity == 0 {
        return vec![vec![]];
    }
    let mut out = vec![];
    for e in 0..=deg {
        for mut rest in monomials(arity - 1, deg - e) {
            rest.insert(0, e);
            out.push(rest);
        }
    }
    out
}

impl Poly {
    fn new(arity: usize, outs: usize, init: impl Fn(&[u32], usize) -> f64) -> Poly {
        let monos = monomials(arity, 3);
        let mut w = vec![];
        for o in 0..outs {
            for m in &monos {
                w.push(init(m, o));
            }
        }
        Poly {
            arity,
            outs,
            monos,
            w: RwLock::new(w),
        }
    }

    /// d^partials of monomial m at x.
    fn dmono(m: &[u32], partials: &[u32], x: &[f64]) -> f64 {
        let mut e: Vec<i32> = m.iter().map(|&v| v as i32).collect();
        let mut coef = 1.0;
        for &p in partials {
            coef *= e[p as usize] as f64;
            e[p as usize] -= 1;
        }
        if coef == 0.0 {
            return 0.0;
        }
        x.iter()
            .zip(&e)
            .fold(coef, |acc, (xi, &ei)| acc * xi.powi(ei))
    }
}

impl NetEval for Poly {
    fn eval(&self, _net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        let w = self.w.read().unwrap();
        let nm = self.monos.len();
        for (o, l) in out.iter_mut().zip(lanes) {
            let ws = &w[l.out as usize * nm..(l.out as usize + 1) * nm];
            *o = ws
                .iter()
                .zip(&self.monos)
                .map(|(wk, m)| wk * Poly::dmono(m, &l.partials, args))
                .sum();
        }
    }
}

struct PolyNets(Arc<Poly>);

impl TrainNets for PolyNets {
    fn n_params(&self) -> usize {
        self.0.outs * self.0.monos.len()
    }
    fn params(&self) -> Vec<f64> {
        self.0.w.read().unwrap().clone()
    }
    fn set_params(&self, params: &[f64]) {
        self.0.w.write().unwrap().copy_from_slice(params);
    }
    fn evaluator(&self) -> SharedNets {
        self.0.clone()
    }
    fn jet_vjp(&self, _net: u32, args: &[f64], lanes: &[NetLane], cot: &[f64], grad: &mut [f64]) {
        let (na, nl) = (self.0.arity, lanes.len());
        assert_eq!(args.len() / na, cot.len() / nl);
        let nm = self.0.monos.len();
        for (x, cs) in args.chunks_exact(na).zip(cot.chunks_exact(nl)) {
            for (l, c) in lanes.iter().zip(cs) {
                for (k, m) in self.0.monos.iter().enumerate() {
                    grad[l.out as usize * nm + k] += c * Poly::dmono(m, &l.partials, x);
                }
            }
        }
    }
    fn weights(&self) -> Weights {
        let mut w = Weights::new();
        w.insert("poly", &[self.n_params()], self.params());
        w
    }
    fn params_from(&self, file: &Weights) -> Result<Vec<f64>, WeightsError> {
        Ok(file.get("poly", &[self.n_params()])?.to_vec())
    }
}

fn train_settings(m: &Model, system: usize) -> TrainSettings {
    m.runs
        .iter()
        .find_map(|r| match &r.settings {
            RunSettings::Train(t) if r.system == system => Some(t.clone()),
            _ => None,
        })
        .expect("a train block")
}

fn trainer(src: &str, name: &str, nets: Option<Arc<dyn TrainNets>>) -> Trainer {
    let m = checked_model(src, &[]);
    let k = m.system_index(name).unwrap();
    let settings = train_settings(&m, k);
    let Source::Sample(spec) = &settings.data else {
        panic!()
    };
    let truth = &m.systems[spec.truth.unwrap()];
    let made = from_sample(spec, truth, &m.systems[k], settings.momenta, Kind::Interp)
        .unwrap_or_else(|_| panic!("data"));
    let learns: Vec<f64> = m.systems[k].learns.iter().map(|(_, v)| *v).collect();
    Trainer::new(
        &m.systems[k],
        &settings,
        &made.data,
        nets,
        &learns,
        Kind::Interp,
        2,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Checks the adjoint gradient against central differences at theta, component by
/// component (every component when there are few, else a spread of them).
fn check_fd(tr: &mut Trainer, theta: &[f64], tol: f64) {
    let rows: Vec<usize> = (0..tr.train_data().len().min(24)).collect();
    let ev = tr.evaluate(theta, &rows, false, true).unwrap();
    assert!(ev.used > 0);
    let n = theta.len();
    let picks: Vec<usize> = if n <= 40 {
        (0..n).collect()
    } else {
        (0..n).step_by(n / 37 + 1).collect()
    };
    let scale = ev.grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    assert!(scale > 1e-6, "gradient vanishes: {:?}", ev.grad);
    for i in picks {
        let h = 1e-6 * theta[i].abs().max(1.0);
        let mut tp = theta.to_vec();
        tp[i] += h;
        let lp = tr.evaluate(&tp, &rows, false, false).unwrap().loss;
        tp[i] -= 2.0 * h;
        let lm = tr.evaluate(&tp, &rows, false, false).unwrap().loss;
        let fd = (lp - lm) / (2.0 * h);
        let err = (fd - ev.grad[i]).abs();
        assert!(
            err <= tol * scale.max(fd.abs()),
            "component {i}: adjoint {} vs finite difference {fd} (scale {scale})",
            ev.grad[i]
        );
    }
}

const PENDULUMS: &str = "
system truth { coord th; param m = 1.3, l = 0.8, g = 9.81;
    L = 0.5*m*l^2*th'^2 + m*g*l*cos(th); }
system fit { coord th; param m = 1.3; learn l = 1.1, g = 5;
    L = 0.5*m*l^2*th'^2 + m*g*l*cos(th); }
train fit {
    data = sample(truth, n = 64, seed = 3, th = uniform(-3, 3), th' = normal(0, 2));
    steps = 10; val = 0;
}
";

#[test]
fn pendulum_learn_params_mse_and_l1() {
    let mut tr = trainer(PENDULUMS, "fit", None);
    check_fd(&mut tr, &[1.1, 5.0], 1e-6);
    check_fd(&mut tr, &[0.7, 12.0], 1e-6);
    let l1 = PENDULUMS.replace("val = 0;", "val = 0; loss = l1; reg = 0.3;");
    let mut tr = trainer(&l1, "fit", None);
    check_fd(&mut tr, &[1.1, 5.0], 1e-6);
}

const TWO_DOF: &str = "
system truth { coord a, b; param k = 3, c = 0.2;
    L = (a'^2 + b'^2 + a'*b'*cos(a - b))/2 - k*(a^2 + b^2)/2 + sin(t)*a;
    dissipation = c*(a'^2 + b'^2)/2; }
system fit { coord a, b; learn k = 1, c = 0.5, mu = 1.2, f = 0.4;
    L = (mu*a'^2 + b'^2 + a'*b'*cos(a - b))/2 - k*(a^2 + b^2)/2 + f*sin(t)*a*b';
    dissipation = c*(a'^2 + b'^2)/2 + c^2*a'*b';
    force b = f*a'*cos(t); }
train fit {
    data = sample(truth, n = 64, seed = 1, a = uniform(-1, 1), b = uniform(-1, 1),
                  a' = normal(0, 1), b' = normal(0, 1), t = uniform(0, 6));
    steps = 10; val = 0; reg = 0.01;
}
";

#[test]
fn coupled_system_with_dissipation_forces_and_time() {
    let mut tr = trainer(TWO_DOF, "fit", None);
    check_fd(&mut tr, &[1.0, 0.5, 1.2, 0.4], 1e-6);
    check_fd(&mut tr, &[2.5, -0.3, 0.9, -1.0], 1e-6);
}

#[test]
fn accel_and_hamiltonian_systems() {
    let src = "
system truth { coord x; param k = 4, c = 0.3;
    L = x'^2/2 - k*x^2/2 - c*x^4/4; }
system acc { coord x; learn k = 1, c = 0;
    accel x = -k*x - c*x^3 - 0.01*k*c*x'; }
system ham { coord x; momentum p; learn m = 2, k = 1, c = 0.1;
    H = p^2/(2*m) + k*x^2/2 + c*x^4/4 + 0.1*m*p*x; }
train acc {
    data = sample(truth, n = 64, seed = 2, x = uniform(-2, 2), x' = normal(0, 1));
    steps = 10; val = 0; loss = l1;
}
train ham {
    data = sample(truth, n = 64, seed = 2, x = uniform(-2, 2), x' = normal(0, 1));
    steps = 10; val = 0;
}
";
    let mut tr = trainer(src, "acc", None);
    check_fd(&mut tr, &[1.0, 0.0], 1e-6);
    let mut tr = trainer(src, "ham", None);
    check_fd(&mut tr, &[2.0, 1.0, 0.1], 1e-6);
    let vel = src.replace(
        "steps = 10; val = 0;\n}\n",
        "steps = 10; val = 0; momenta = velocity;\n}\n",
    );
    let mut tr = trainer(&vel, "ham", None);
    check_fd(&mut tr, &[0.5, 3.0, -0.2], 1e-6);
}

#[test]
fn net_weights_of_an_lnn_and_a_hybrid() {
    let src = "
system truth { coord a, b; param g = 9.8;
    L = (2*a'^2 + b'^2 + 2*a'*b'*cos(a - b))/2 + 2*g*cos(a) + g*cos(b); }
system lnn { coord a, b; net f = mlp(in: 4, hidden: [8], act: softplus);
    L = f(a, b, a', b'); }
system hybrid { coord a, b; learn g = 5; net V = mlp(in: 2, hidden: [8], act: softplus);
    L = (2*a'^2 + b'^2 + 2*a'*b'*cos(a - b))/2 + g*cos(b) - V(a, a*b); }
train lnn {
    data = sample(truth, n = 64, seed = 5, a = uniform(-1, 1), b = uniform(-1, 1),
                  a' = normal(0, 1), b' = normal(0, 1));
    steps = 10; val = 0;
}
train hybrid {
    data = sample(truth, n = 64, seed = 5, a = uniform(-1, 1), b = uniform(-1, 1),
                  a' = normal(0, 1), b' = normal(0, 1));
    steps = 10; val = 0; loss = l1;
}
";
    // LNN: a positive-definite velocity Hessian from the v^2 terms, small other weights.
    let poly = Arc::new(Poly::new(4, 1, |m, _| {
        let s: u32 = m.iter().sum();
        if (m[2] == 2 || m[3] == 2) && s == 2 {
            1.0
        } else {
            0.05 * ((m[0] + 2 * m[1] + 3 * m[2] + 5 * m[3]) as f64).sin()
        }
    }));
    let nets: Arc<dyn TrainNets> = Arc::new(PolyNets(poly));
    let mut tr = trainer(src, "lnn", Some(nets.clone()));
    assert_eq!(tr.n_params(), nets.n_params());
    let theta = nets.params();
    check_fd(&mut tr, &theta, 1e-5);

    let poly = Arc::new(Poly::new(2, 1, |m, _| {
        0.1 * ((m[0] + 3 * m[1]) as f64).cos()
    }));
    let nets: Arc<dyn TrainNets> = Arc::new(PolyNets(poly));
    let mut tr = trainer(src, "hybrid", Some(nets.clone()));
    let mut theta = vec![5.0];
    theta.extend(nets.params());
    check_fd(&mut tr, &theta, 1e-5);
}

/// Array systems train in loop form (site programs; lambda from the banded H): a
/// bounded chain with boundary terms, dissipation, a force and learn params, and a
/// Lagrangian graph network (a net summed over a periodic grid, shared weights).
#[test]
fn lattice_learn_params_and_a_graph_network() {
    let src = "
system truth { param N = 6, k = 2, c = 0.1; coord x[N];
    L = sum(i, (1 + 0.2*cos(x[i]))*x'[i]^2/2) - sum(i in 0..N-1, k*(x[i+1] - x[i])^2/2)
        - k*x[0]^2/2 - k*x[N-1]^2/2;
    dissipation = sum(i in 0..N-1, c*(x'[i+1] - x'[i])^2/2); }
system fit { param N = 6; coord x[N]; learn k = 1, c = 0.3, a = 0.1, w = 1.5;
    L = sum(i, (1 + a*cos(x[i]))*x'[i]^2/2) - sum(i in 0..N-1, k*(x[i+1] - x[i])^2/2)
        - w*x[0]^2/2 - k*x[N-1]^2/2 + sum(i in 0..N-1, 0.1*a*x'[i]*x'[i+1]);
    dissipation = sum(i in 0..N-1, c*(x'[i+1] - x'[i])^2/2);
    force x[i] = a*sin(t)*x'[i]; }
system wave { param N = 5; coord phi[N] periodic;
    L = sum(i, phi'[i]^2/2 - (phi[i+1] - phi[i-1])^2/8); }
system lgn { param N = 5; coord phi[N] periodic; net f = mlp(in: 3, hidden: [4]);
    L = sum(i, f(phi[i+1] - phi[i-1], phi'[i], phi'[i+1])); }
train fit {
    data = sample(truth, n = 64, seed = 4, x = uniform(-1, 1), x' = normal(0, 1),
                  t = uniform(0, 3));
    steps = 10; val = 0; reg = 0.01;
}
train lgn {
    data = sample(wave, n = 64, seed = 6, phi = uniform(-1, 1), phi' = normal(0, 1));
    steps = 10; val = 0; loss = l1;
}
";
    let mut tr = trainer(src, "fit", None);
    assert!(tr.kernels().is_lattice());
    check_fd(&mut tr, &[1.0, 0.3, 0.1, 1.5], 1e-6);
    check_fd(&mut tr, &[2.5, -0.2, 0.3, 0.7], 1e-6);
    // Velocity Hessian 2 I + a little coupling, so H stays positive definite.
    let poly = Arc::new(Poly::new(3, 1, |m, _| {
        let s: u32 = m.iter().sum();
        if (m[1] == 2 || m[2] == 2) && s == 2 {
            1.0
        } else {
            0.05 * ((m[0] + 2 * m[1] + 3 * m[2]) as f64).sin()
        }
    }));
    let nets: Arc<dyn TrainNets> = Arc::new(PolyNets(poly));
    let mut tr = trainer(src, "lgn", Some(nets.clone()));
    assert!(tr.kernels().is_lattice());
    check_fd(&mut tr, &nets.params(), 1e-5);
}

/// A net inside a vector `let` whose velocity is taken: L holds the net's partials
/// (p' = dp/da a'), so the adjoint differentiates through them.
#[test]
fn net_inside_the_velocity_of_a_vector_let() {
    let src = "
system truth { coord a; param g = 9.8; L = a'^2 + g*cos(a); }
system fit { coord a; learn g = 5; net h = mlp(in: 1, hidden: [8], act: softplus);
    let p = vec(sin(a), cos(a), h(a));
    L = dot(p', p') + g*cos(a); }
train fit {
    data = sample(truth, n = 64, seed = 5, a = uniform(-1, 1), a' = normal(0, 1));
    steps = 10; val = 0;
}
";
    let poly = Arc::new(Poly::new(1, 1, |m, _| 0.2 * ((1 + m[0]) as f64).sin()));
    let nets: Arc<dyn TrainNets> = Arc::new(PolyNets(poly));
    let mut tr = trainer(src, "fit", Some(nets.clone()));
    let mut theta = vec![5.0];
    theta.extend(nets.params());
    check_fd(&mut tr, &theta, 1e-5);

    // The same through a real MLP's jets (seeded initial weights).
    let m = checked_model(src, &[]);
    let sys = &m.systems[m.system_index("fit").unwrap()];
    let nets: Arc<dyn TrainNets> = Arc::new(lagc::train::nets::NnNets::init(sys, 1));
    let mut tr = trainer(src, "fit", Some(nets.clone()));
    let mut theta = vec![5.0];
    theta.extend(nets.params());
    check_fd(&mut tr, &theta, 1e-5);
}

/// A Cartesian pendulum whose truth keeps to a rod: the trained systems keep to
/// constraints too, so q'' comes from the saddle-point solve and the adjoint goes
/// through K = [H A^T; A 0].
const CARTESIAN: &str = "
system truth { coord x, y; param m = 1.3, g = 9.81, l = 0.8;
    L = m/2*(x'^2 + y'^2) - m*g*y; constraint rod: x^2 + y^2 - l^2; }
system fit { coord x, y; param l = 0.8; learn m = 1, g = 5;
    L = m/2*(x'^2 + y'^2) - m*g*y + 0.1*m*x*y'; constraint rod: x^2 + y^2 - l^2; }
system hybrid { coord x, y; learn g = 5; net V = mlp(in: 2, hidden: [8], act: softplus);
    L = (x'^2 + y'^2)/2 - g*y - V(x, y); constraint rod: x^2 + y^2 - 0.64; }
system moving { coord x, y; param m = 1.3; learn g = 5, l = 1, w = 0.1;
    L = m/2*(x'^2 + y'^2) - m*g*y; constraint rod: x^2 + y^2 - (l + w*sin(t))^2; }
train fit {
    data = sample(truth, n = 64, seed = 7, x = uniform(-1, 1), y = uniform(-1, 1),
                  x' = normal(0, 1), y' = normal(0, 1));
    steps = 10; val = 0;
}
train hybrid {
    data = sample(truth, n = 64, seed = 7, x = uniform(-1, 1), y = uniform(-1, 1),
                  x' = normal(0, 1), y' = normal(0, 1));
    steps = 10; val = 0; loss = l1;
}
train moving {
    data = sample(truth, n = 64, seed = 7, x = uniform(-1, 1), y = uniform(-1, 1),
                  x' = normal(0, 1), y' = normal(0, 1), t = uniform(0, 3));
    steps = 10; val = 0;
}
";

#[test]
fn constrained_learn_params_nets_and_params_in_the_constraint() {
    let mut tr = trainer(CARTESIAN, "fit", None);
    check_fd(&mut tr, &[1.0, 5.0], 1e-6);
    check_fd(&mut tr, &[2.0, 12.0], 1e-6);
    // reg goes on H's diagonal only, not on the zero block.
    let reg = CARTESIAN.replacen("steps = 10; val = 0;", "steps = 10; val = 0; reg = 0.3;", 1);
    let mut tr = trainer(&reg, "fit", None);
    check_fd(&mut tr, &[1.0, 5.0], 1e-6);

    let poly = Arc::new(Poly::new(2, 1, |m, _| {
        0.1 * ((m[0] + 3 * m[1]) as f64).cos()
    }));
    let nets: Arc<dyn TrainNets> = Arc::new(PolyNets(poly));
    let mut tr = trainer(CARTESIAN, "hybrid", Some(nets.clone()));
    let mut theta = vec![5.0];
    theta.extend(nets.params());
    check_fd(&mut tr, &theta, 1e-5);

    // l and w reach q'' only through the constraint's c (a moving rod).
    let mut tr = trainer(CARTESIAN, "moving", None);
    check_fd(&mut tr, &[5.0, 1.0, 0.1], 1e-6);
    check_fd(&mut tr, &[9.0, 0.7, -0.4], 1e-6);
}
