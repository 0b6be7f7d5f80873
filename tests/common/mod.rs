//! Shared test helpers: checking `.lag` text, compiling a system, random expression
//! trees and the L-system kernel spec.
#![allow(dead_code)]

use lagc::check::Model;
use lagc::kernel::{KernelSpec, Output, Program, SolveSpec};
use lagc::symbolic::eom::Eom;
use lagc::symbolic::{Dag, ExprId, Func};
use proptest::prelude::*;

/// A plain expression tree with valid domains by construction.
#[derive(Clone, Debug)]
pub enum T {
    Var(usize),
    Num(f64),
    Add(Box<T>, Box<T>),
    Sub(Box<T>, Box<T>),
    Mul(Box<T>, Box<T>),
    /// a / (1 + b^2)
    Div(Box<T>, Box<T>),
    /// a ^ k
    Powi(Box<T>, i32),
    /// (1 + a^2) ^ b
    Powf(Box<T>, Box<T>),
    /// f(g(a)) with g keeping f's domain valid
    F(Func, Box<T>),
    /// atan2(a, 1 + b^2)
    Atan2(Box<T>, Box<T>),
    /// net f(a, b) = exp(0.3 a) sin(b)
    Net(Box<T>, Box<T>),
}

/// Test net: value and any mixed partial of f(a, b) = exp(0.3 a) sin(b).
pub fn test_net(_net: u32, _out: u32, args: &[f64], partials: &[u32]) -> f64 {
    let na = partials.iter().filter(|&&p| p == 0).count() as i32;
    let nb = partials.len() as i32 - na;
    let s = match nb % 4 {
        0 => args[1].sin(),
        1 => args[1].cos(),
        2 => -args[1].sin(),
        _ => -args[1].cos(),
    };
    0.3f64.powi(na) * (0.3 * args[0]).exp() * s
}

pub fn tree(nvars: usize) -> impl Strategy<Value = T> {
    let leaf = prop_oneof![
        (0..nvars).prop_map(T::Var),
        (-3.0..3.0f64).prop_map(T::Num),
        Just(T::Num(2.0)),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        let b = |t: T| Box::new(t);
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Add(b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Sub(b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Mul(b(x), b(y))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Div(b(x), b(y))),
            (inner.clone(), -2..4i32).prop_map(move |(x, k)| T::Powi(b(x), k)),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Powf(b(x), b(y))),
            (proptest::sample::select(Func::ALL.to_vec()), inner.clone())
                .prop_map(move |(f, x)| T::F(f, b(x))),
            (inner.clone(), inner.clone()).prop_map(move |(x, y)| T::Atan2(b(x), b(y))),
            (inner.clone(), inner).prop_map(move |(x, y)| T::Net(b(x), b(y))),
        ]
    })
}

/// Naive evaluation; `scale` collects the largest magnitude of any intermediate.
pub fn naive(t: &T, x: &[f64], scale: &mut f64) -> f64 {
    let v = match t {
        T::Var(i) => x[*i],
        T::Num(c) => *c,
        T::Add(a, b) => naive(a, x, scale) + naive(b, x, scale),
        T::Sub(a, b) => naive(a, x, scale) - naive(b, x, scale),
        T::Mul(a, b) => naive(a, x, scale) * naive(b, x, scale),
        T::Div(a, b) => naive(a, x, scale) / (1.0 + naive(b, x, scale).powi(2)),
        T::Powi(a, k) => {
            let a = naive(a, x, scale);
            if *k < 0 {
                (1.0 + a * a).powi(*k)
            } else {
                a.powi(*k)
            }
        }
        T::Powf(a, b) => (1.0 + naive(a, x, scale).powi(2)).powf(naive(b, x, scale).sin()),
        T::F(f, a) => {
            let a = naive(a, x, scale);
            match f {
                Func::Tan => a.sin().tan(),
                Func::Asin => (0.5 * a.sin()).asin(),
                Func::Acos => (0.5 * a.sin()).acos(),
                Func::Sinh | Func::Cosh | Func::Exp => f.apply(a.sin()),
                Func::Log => (1.0 + a * a).ln(),
                Func::Sqrt => (2.0 + a.sin()).sqrt(),
                Func::Abs => (a * a + 0.5).abs(),
                Func::Sign => (a * a + 0.5).signum(),
                _ => f.apply(a),
            }
        }
        T::Atan2(a, b) => naive(a, x, scale).atan2(1.0 + naive(b, x, scale).powi(2)),
        T::Net(a, b) => test_net(0, 0, &[naive(a, x, scale), naive(b, x, scale)], &[]),
    };
    *scale = scale.max(v.abs());
    v
}

/// Builds the same expression through the simplifying builders.
pub fn build(t: &T, d: &mut Dag, vars: &[ExprId], net: u32) -> ExprId {
    let rec = |t: &T, d: &mut Dag| build(t, d, vars, net);
    match t {
        T::Var(i) => vars[*i],
        T::Num(c) => d.num(*c),
        T::Add(a, b) => {
            let (a, b) = (rec(a, d), rec(b, d));
            d.add(a, b)
        }
        T::Sub(a, b) => {
            let (a, b) = (rec(a, d), rec(b, d));
            d.sub(a, b)
        }
        T::Mul(a, b) => {
            let (a, b) = (rec(a, d), rec(b, d));
            d.mul(a, b)
        }
        T::Div(a, b) => {
            let (a, b) = (rec(a, d), rec(b, d));
            let den = one_plus_sq(d, b);
            d.div(a, den)
        }
        T::Powi(a, k) => {
            let a = rec(a, d);
            let k2 = d.num(*k as f64);
            if *k < 0 {
                let base = one_plus_sq(d, a);
                d.pow(base, k2)
            } else {
                d.pow(a, k2)
            }
        }
        T::Powf(a, b) => {
            let (a, b) = (rec(a, d), rec(b, d));
            let base = one_plus_sq(d, a);
            let e = d.func(Func::Sin, b);
            d.pow(base, e)
        }
        T::F(f, a) => {
            let a = rec(a, d);
            let s = d.func(Func::Sin, a);
            let arg = match f {
                Func::Tan | Func::Sinh | Func::Cosh | Func::Exp => s,
                Func::Asin | Func::Acos => {
                    let h = d.num(0.5);
                    d.mul(h, s)
                }
                Func::Log => one_plus_sq(d, a),
                Func::Sqrt => {
                    let two = d.num(2.0);
                    d.add(two, s)
                }
                Func::Abs | Func::Sign => {
                    let two = d.num(2.0);
                    let sq = d.pow(a, two);
                    let h = d.num(0.5);
                    d.add(sq, h)
                }
                _ => a,
            };
            d.func(*f, arg)
        }
        T::Atan2(a, b) => {
            let (a, b) = (rec(a, d), rec(b, d));
            let den = one_plus_sq(d, b);
            d.atan2(a, den)
        }
        T::Net(a, b) => {
            let (a, b) = (rec(a, d), rec(b, d));
            d.net(net, 0, &[a, b])
        }
    }
}

fn one_plus_sq(d: &mut Dag, a: ExprId) -> ExprId {
    let one = d.num(1.0);
    let two = d.num(2.0);
    let sq = d.pow(a, two);
    d.add(one, sq)
}

/// The kernel of an L system: inputs `q, q'`, solve `H q'' = g - M q'`, outputs
/// `q''` then the energy `sum q' dL/dq' - L`.
pub fn lagrangian_spec(d: &mut Dag, l: ExprId, q: &[ExprId], qd: &[ExprId]) -> KernelSpec {
    let n = q.len();
    let p: Vec<ExprId> = qd.iter().map(|&v| d.diff(l, v)).collect();
    let mut matrix = Vec::with_capacity(n * n);
    let mut rhs = Vec::with_capacity(n);
    for &pi in &p {
        for &v in qd {
            matrix.push(d.diff(pi, v));
        }
    }
    for i in 0..n {
        let g = d.diff(l, q[i]);
        let mut terms = vec![g];
        for j in 0..n {
            let m = d.diff(p[i], q[j]);
            let mq = d.mul(m, qd[j]);
            terms.push(d.neg(mq));
        }
        rhs.push(d.sum(&terms));
    }
    let mut e = Vec::new();
    for i in 0..n {
        e.push(d.mul(qd[i], p[i]));
    }
    e.push(d.neg(l));
    let energy = d.sum(&e);
    let mut outputs: Vec<Output> = (0..n).map(Output::Solved).collect();
    outputs.push(Output::Expr(energy));
    let mut inputs = q.to_vec();
    inputs.extend_from_slice(qd);
    KernelSpec {
        inputs,
        solve: Some(SolveSpec { n, matrix, rhs }),
        outputs,
    }
}

/// The checked model of `src` with `--set` overrides; fails the test on any error.
pub fn checked_model(src: &str, overrides: &[(String, f64)]) -> Model {
    let ast = lagc::syntax::parse(src).expect("parses");
    let checked = lagc::check::check(src, &ast, overrides);
    assert!(
        checked.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        checked.diagnostics
    );
    checked.model.expect("checks")
}

/// Derives (arrays unrolled: one dense program) and lowers system `k` of `m`.
pub fn compile_system(m: &Model, k: usize) -> (Eom, Program) {
    let mut eom = Eom::derive_unrolled(&m.systems[k]);
    let spec = lagc::kernel::spec_for(&mut eom);
    let program = lagc::kernel::lower(&eom.dag, &spec).expect("lowers");
    (eom, program)
}

/// System `name` of the `.lag` text `src`, derived and compiled on `backend`.
pub fn driver_system(src: &str, name: &str, backend: lagc::Backend) -> lagc::driver::System {
    lagc::driver::Model::loads(src, "t.lag", &[])
        .expect("checks")
        .system(name, backend)
        .expect("compiles")
}

/// The error text (as the CLI prints it) of loading and compiling system `name`.
pub fn driver_error(src: &str, name: &str) -> String {
    match lagc::driver::Model::loads(src, "t.lag", &[])
        .and_then(|m| m.system(name, lagc::Backend::Interp))
    {
        Ok(_) => panic!("accepted"),
        Err(e) => e.cli_text(),
    }
}

/// Runs the `lagc` binary with `args` in `dir`.
pub fn lagc_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lagc"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("lagc runs")
}

/// A Cartesian pendulum on a rod of length 0.8 (`truth`, g = 9.81) and the same system
/// with g to be learnt from 3 (`fit`): the constrained fitting tests' pair.
pub const ROD_SYSTEMS: &str = "
system truth { coord x, y; param m = 1.3, g = 9.81, l = 0.8;
    L = m/2*(x'^2 + y'^2) - m*g*y; constraint rod: x^2 + y^2 - l^2; }
system fit { coord x, y; param m = 1.3, l = 0.8; learn g = 3;
    L = m/2*(x'^2 + y'^2) - m*g*y; constraint rod: x^2 + y^2 - l^2; }
";
