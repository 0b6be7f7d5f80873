//! Scaling of derivation and lowering for an N-link pendulum (run with
//! `cargo test --test kernel_scaling -- --ignored --nocapture`), plus the other
//! SymPy references that need no arrays.

use crate::common;

use common::lagrangian_spec;
use lagc::backend::{Backend, Interpreter};
use lagc::kernel::{lower, Output};
use lagc::symbolic::{Dag, ExprId, Func};
use std::time::Instant;

/// N-link pendulum with unit masses and lengths, g = 9.8, built through the Dag API.
fn n_pendulum(d: &mut Dag, n: usize) -> (ExprId, Vec<ExprId>, Vec<ExprId>) {
    let q: Vec<ExprId> = (0..n).map(|i| d.var(&format!("t{i}"))).collect();
    let qd: Vec<ExprId> = (0..n).map(|i| d.var(&format!("t{i}'"))).collect();
    let (two, half, g) = (d.num(2.0), d.num(0.5), d.num(9.8));
    let (mut vx, mut vy, mut h) = (d.num(0.0), d.num(0.0), d.num(0.0));
    let mut terms = Vec::new();
    for i in 0..n {
        let c = d.func(Func::Cos, q[i]);
        let s = d.func(Func::Sin, q[i]);
        let cx = d.mul(c, qd[i]);
        let sy = d.mul(s, qd[i]);
        vx = d.add(vx, cx);
        vy = d.add(vy, sy);
        h = d.add(h, c);
        let vx2 = d.pow(vx, two);
        let vy2 = d.pow(vy, two);
        let ke = d.add(vx2, vy2);
        terms.push(d.mul(half, ke));
        terms.push(d.mul(g, h));
    }
    (d.sum(&terms), q, qd)
}

#[test]
#[ignore]
fn n_link_pendulum_scaling() {
    println!("   N  dag_nodes  reachable  instructions  derive_ms  lower_ms  eval_us");
    for n in [2, 4, 8, 16] {
        let t0 = Instant::now();
        let mut d = Dag::new();
        let (l, q, qd) = n_pendulum(&mut d, n);
        let spec = lagrangian_spec(&mut d, l, &q, &qd);
        let derive = t0.elapsed();
        let mut roots: Vec<ExprId> = Vec::new();
        if let Some(s) = &spec.solve {
            roots.extend(&s.matrix);
            roots.extend(&s.rhs);
        }
        roots.extend(spec.outputs.iter().filter_map(|o| match o {
            Output::Expr(e) => Some(*e),
            Output::Solved(_) => None,
        }));
        let reach = d.count_reachable(&roots);
        let t1 = Instant::now();
        let program = lower(&d, &spec).unwrap();
        let lowering = t1.elapsed();
        let insts = program.n_instructions();
        let mut interp = Interpreter::new(program);
        let rows = 1000;
        let inputs: Vec<f64> = (0..rows * 2 * n)
            .map(|k| ((k * 7919) % 1000) as f64 / 700.0)
            .collect();
        let mut outs = vec![0.0; rows * (n + 1)];
        let t2 = Instant::now();
        interp.eval_batch(&inputs, &mut outs).unwrap();
        let per = t2.elapsed().as_secs_f64() * 1e6 / rows as f64;
        assert!(outs.iter().all(|v| v.is_finite()));
        println!(
            "{n:4} {:10} {reach:10} {insts:13} {:10.2} {:9.2} {per:8.2}",
            d.len(),
            derive.as_secs_f64() * 1e3,
            lowering.as_secs_f64() * 1e3
        );
    }
}

fn check_reference(
    file: &str,
    build: impl Fn(&mut Dag, &[ExprId], &[ExprId]) -> ExprId,
    names: &[&str],
) {
    let text = std::fs::read_to_string(format!("tests/data/reference/{file}")).unwrap();
    let mut d = Dag::new();
    let q: Vec<ExprId> = names.iter().map(|s| d.var(s)).collect();
    let qd: Vec<ExprId> = names.iter().map(|s| d.var(&format!("{s}'"))).collect();
    let l = build(&mut d, &q, &qd);
    let spec = lagrangian_spec(&mut d, l, &q, &qd);
    let mut interp = Interpreter::new(lower(&d, &spec).unwrap());
    let n = names.len();
    let mut out = vec![0.0; n + 1];
    for line in text.lines().skip(1) {
        let r: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        interp.eval(&r[..2 * n], &mut out).unwrap();
        for k in 0..=n {
            let want = r[2 * n + k];
            assert!(
                (out[k] - want).abs() <= 1e-10 * want.abs().max(1.0),
                "{file}: {} vs {want}",
                out[k]
            );
        }
    }
}

#[test]
fn relativistic_and_two_body_references() {
    // L = (1 - q'^2)^(-1/2) - 1 + 0.5 q
    check_reference(
        "relativistic.csv",
        |d, q, qd| {
            let (one, two, mh, g) = (d.num(1.0), d.num(2.0), d.num(-0.5), d.num(0.5));
            let v2 = d.pow(qd[0], two);
            let b = d.sub(one, v2);
            let gamma = d.pow(b, mh);
            let gq = d.mul(g, q[0]);
            let t = d.sub(gamma, one);
            d.add(t, gq)
        },
        &["q"],
    );
    // L = 1/4 (x'^2 + y'^2) + 1/sqrt(x^2 + y^2)
    check_reference(
        "two_body.csv",
        |d, q, qd| {
            let (two, quarter) = (d.num(2.0), d.num(0.25));
            let sq: Vec<ExprId> = qd.iter().map(|&v| d.pow(v, two)).collect();
            let k = d.sum(&sq);
            let ke = d.mul(quarter, k);
            let r2: Vec<ExprId> = q.iter().map(|&v| d.pow(v, two)).collect();
            let r2 = d.sum(&r2);
            let r = d.func(Func::Sqrt, r2);
            let one = d.num(1.0);
            let pot = d.div(one, r);
            d.add(ke, pot)
        },
        &["x", "y"],
    );
}
