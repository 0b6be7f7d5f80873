//! Kernel lowering and the interpreter: the double pendulum against the SymPy
//! reference and the textbook closed form, singular systems, random expressions.

use crate::common;

use common::{build, lagrangian_spec, test_net, tree};
use lagc::backend::{Backend, EvalError, Interpreter};
use lagc::kernel::{lower, KernelSpec, LowerError, Output, SolveSpec};
use lagc::symbolic::{Dag, ExprId, Func};
use proptest::prelude::*;

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1.0)
}

fn read_csv(path: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).expect("reference file");
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    (header, rows)
}

/// L = t1'^2 + t2'^2/2 + t1' t2' cos(t1 - t2) + 2 g cos(t1) + g cos(t2), g = 9.8.
fn double_pendulum(d: &mut Dag) -> (ExprId, [ExprId; 2], [ExprId; 2]) {
    let (t1, t2, w1, w2) = (d.var("t1"), d.var("t2"), d.var("t1'"), d.var("t2'"));
    let two = d.num(2.0);
    let half = d.num(0.5);
    let g = d.num(9.8);
    let w1s = d.pow(w1, two);
    let w2s = d.pow(w2, two);
    let w2h = d.mul(half, w2s);
    let dt = d.sub(t1, t2);
    let c12 = d.func(Func::Cos, dt);
    let cross = d.product(&[w1, w2, c12]);
    let c1 = d.func(Func::Cos, t1);
    let c2 = d.func(Func::Cos, t2);
    let v1 = d.product(&[two, g, c1]);
    let v2 = d.mul(g, c2);
    let l = d.sum(&[w1s, w2h, cross, v1, v2]);
    (l, [t1, t2], [w1, w2])
}

#[test]
fn double_pendulum_matches_reference_and_closed_form() {
    let mut d = Dag::new();
    let (l, q, qd) = double_pendulum(&mut d);
    let spec = lagrangian_spec(&mut d, l, &q, &qd);
    let program = lower(&d, &spec).unwrap();
    let listing = program.to_string();
    assert!(listing.contains("= solve 2x2"), "{listing}");
    let mut interp = Interpreter::new(program);
    let (header, rows) = read_csv("tests/data/reference/double_pendulum.csv");
    assert_eq!(header, ["t1", "t2", "t1'", "t2'", "t1''", "t2''", "energy"]);
    let mut out = [0.0; 3];
    for r in &rows {
        let rep = interp.eval(&r[..4], &mut out).unwrap();
        assert_eq!(rep.singular, 0);
        for k in 0..3 {
            assert!(rel(out[k], r[4 + k]) < 1e-10, "{} vs {}", out[k], r[4 + k]);
        }
        // textbook closed form (m1 = m2 = l1 = l2 = 1)
        let (a, b, wa, wb, g) = (r[0], r[1], r[2], r[3], 9.8);
        let den = 3.0 - (2.0 * a - 2.0 * b).cos();
        let a1 = (-3.0 * g * a.sin()
            - g * (a - 2.0 * b).sin()
            - 2.0 * (a - b).sin() * (wb * wb + wa * wa * (a - b).cos()))
            / den;
        let a2 =
            2.0 * (a - b).sin() * (2.0 * wa * wa + 2.0 * g * a.cos() + wb * wb * (a - b).cos())
                / den;
        assert!(rel(out[0], a1) < 1e-10 && rel(out[1], a2) < 1e-10);
    }
    // the batched entry point gives the same numbers
    let inputs: Vec<f64> = rows.iter().flat_map(|r| r[..4].to_vec()).collect();
    let mut outs = vec![0.0; rows.len() * 3];
    interp.eval_batch(&inputs, &mut outs).unwrap();
    for (r, o) in rows.iter().zip(outs.chunks(3)) {
        assert!(rel(o[0], r[4]) < 1e-10 && rel(o[2], r[6]) < 1e-10);
    }
}

#[test]
fn singular_mass_matrix_uses_pseudo_inverse() {
    // L = q' x: H = 0, so q'' = pinv(0) * rhs = 0, flagged.
    let mut d = Dag::new();
    let (x, xd) = (d.var("x"), d.var("x'"));
    let l = d.mul(xd, x);
    let spec = lagrangian_spec(&mut d, l, &[x], &[xd]);
    let mut interp = Interpreter::new(lower(&d, &spec).unwrap());
    let mut out = [f64::NAN; 2];
    let rep = interp.eval(&[0.3, 0.7], &mut out).unwrap();
    assert_eq!(rep.singular, 1);
    assert!(out.iter().all(|v| v.is_finite()), "{out:?}");
    assert_eq!(out[0], 0.0);
    // rank-deficient 2x2: L = (x' + y')^2/2 - (x + y)^2/2, a consistent singular system
    let mut d = Dag::new();
    let (x, y, xd, yd) = (d.var("x"), d.var("y"), d.var("x'"), d.var("y'"));
    let two = d.num(2.0);
    let half = d.num(0.5);
    let s = d.add(xd, yd);
    let s2 = d.pow(s, two);
    let k = d.mul(half, s2);
    let p = d.add(x, y);
    let p2 = d.pow(p, two);
    let v = d.mul(half, p2);
    let l = d.sub(k, v);
    let spec = lagrangian_spec(&mut d, l, &[x, y], &[xd, yd]);
    let mut interp = Interpreter::new(lower(&d, &spec).unwrap());
    let mut out = [0.0; 3];
    let rep = interp
        .eval_batch(&[1.0, 0.5, 0.0, 0.0, 0.2, 0.1, 0.3, 0.4], &mut [0.0; 6])
        .unwrap();
    assert_eq!(rep.singular, 2);
    interp.eval(&[1.0, 0.5, 0.0, 0.0], &mut out).unwrap();
    // H = [[1,1],[1,1]], rhs = -(x+y) (1, 1): minimum-norm solution q'' = -(x+y)/2 each
    assert!(
        (out[0] + 0.75).abs() < 1e-12 && (out[1] + 0.75).abs() < 1e-12,
        "{out:?}"
    );
}

#[test]
fn lowering_errors_and_missing_nets() {
    let mut d = Dag::new();
    let (x, y) = (d.var("x"), d.var("y"));
    let e = d.mul(x, y);
    let spec = KernelSpec {
        inputs: vec![x],
        solve: None,
        outputs: vec![Output::Expr(e)],
    };
    assert_eq!(lower(&d, &spec), Err(LowerError::UnboundVar("y".into())));
    let bad = KernelSpec {
        inputs: vec![x, y],
        solve: Some(SolveSpec {
            n: 2,
            matrix: vec![x],
            rhs: vec![y],
        }),
        outputs: vec![],
    };
    assert!(matches!(
        lower(&d, &bad),
        Err(LowerError::SolveShape { .. })
    ));
    let f = d.declare_net("f", 1, 1);
    let n = d.net(f, 0, &[x]);
    let spec = KernelSpec {
        inputs: vec![x],
        solve: None,
        outputs: vec![Output::Expr(n)],
    };
    let p = lower(&d, &spec).unwrap();
    let mut interp = Interpreter::new(p.clone());
    assert_eq!(interp.eval(&[1.0], &mut [0.0]), Err(EvalError::MissingNets));
    assert!(matches!(
        interp.eval(&[1.0, 2.0], &mut [0.0]),
        Err(EvalError::Shape { .. })
    ));
    let mut out = [0.0];
    let mut interp = Interpreter::new(p).with_nets(std::sync::Arc::new(
        |_: u32, _: u32, a: &[f64], _: &[u32]| a[0] * 2.0,
    ));
    interp.eval(&[1.5], &mut out).unwrap();
    assert_eq!(out[0], 3.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn interpreter_agrees_with_dag_eval(
        ts in prop::collection::vec(tree(3), 1..4),
        x in prop::array::uniform3(0.2..2.0f64),
    ) {
        let mut d = Dag::new();
        let vars = vec![d.var("x"), d.var("y"), d.var("z")];
        let net = d.declare_net("f", 2, 1);
        let mut roots: Vec<ExprId> = ts.iter().map(|t| build(t, &mut d, &vars, net)).collect();
        // derivatives share subexpressions with their expressions
        let d0 = d.diff(roots[0], vars[0]);
        roots.push(d0);
        let spec = KernelSpec {
            inputs: vars.clone(),
            solve: None,
            outputs: roots.iter().map(|&r| Output::Expr(r)).collect(),
        };
        let program = lower(&d, &spec).unwrap();
        let mut interp = Interpreter::new(program).with_nets(std::sync::Arc::new(test_net));
        let mut out = vec![0.0; roots.len()];
        interp.eval(&x, &mut out).unwrap();
        for (k, &r) in roots.iter().enumerate() {
            let want = d.eval(r, &|v| x[v.0 as usize], &test_net);
            prop_assert!(
                (out[k] - want).abs() <= 1e-12 * want.abs().max(1.0) || (want.is_nan() && out[k].is_nan()),
                "{} vs {} for {}", out[k], want, d.to_text(r)
            );
        }
    }
}

#[test]
fn double_pendulum_printing_and_listing() {
    let mut d = Dag::new();
    let (l, q, qd) = double_pendulum(&mut d);
    let spec = lagrangian_spec(&mut d, l, &q, &qd);
    let s = spec.solve.as_ref().unwrap();
    let text: Vec<String> = s
        .matrix
        .iter()
        .chain(&s.rhs)
        .map(|&e| d.to_text(e))
        .collect();
    assert_eq!(
        text,
        [
            "2",
            "cos(t1 - t2)",
            "cos(t1 - t2)",
            "1",
            "-t2'^2*sin(t1 - t2) - 19.6*sin(t1)",
            "t1'^2*sin(t1 - t2) - 9.8*sin(t2)",
        ]
    );
    let program = lower(&d, &spec).unwrap();
    let listing = program.to_string();
    let solve_line = listing
        .lines()
        .find(|l| l.contains("= solve 2x2 ["))
        .expect("a 2x2 solve");
    let (dst, _) = solve_line.split_once(" = ").unwrap();
    let (first, second) = dst.split_once("..").unwrap();
    let last = listing.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("out {first}, {second}, %")),
        "{listing}"
    );
    assert!(
        program.n_instructions() <= 45,
        "{}",
        program.n_instructions()
    );
    assert!(d
        .to_latex(l)
        .starts_with("\\dot{t}_{1}^{2} + \\frac{\\dot{t}_{2}^{2}}{2}"));
}

/// `Program::verify` finds each broken rule of the IR (and passes a sound program).
#[test]
fn verify_names_each_broken_rule() {
    use lagc::kernel::{Inst, Op, Program};
    let program = |insts: Vec<(u32, Op)>, outputs: Vec<u32>| Program {
        n_inputs: 1,
        n_slots: 3,
        insts: insts
            .into_iter()
            .map(|(dst, op)| Inst { dst, op })
            .collect(),
        outputs,
        nets: vec![],
    };
    let sound = program(
        vec![(0, Op::Input(0)), (1, Op::Const(2.0)), (2, Op::Mul(0, 1))],
        vec![2],
    );
    assert_eq!(sound.verify(), Ok(()));
    for (p, what) in [
        (
            program(vec![(0, Op::Input(0)), (1, Op::Mul(0, 2))], vec![1]),
            "reads slot 2 before it is written",
        ),
        (
            program(vec![(0, Op::Input(0)), (0, Op::Neg(0))], vec![0]),
            "writes slot 0 a second time",
        ),
        (
            program(vec![(0, Op::Input(3))], vec![0]),
            "reads input 3 of 1",
        ),
        (
            program(vec![(0, Op::Input(0)), (1, Op::Const(1.0))], vec![0]),
            "instruction 1 is dead",
        ),
        (
            program(vec![(0, Op::Input(0))], vec![1]),
            "output slot 1 is never written",
        ),
        (
            program(vec![(5, Op::Input(0))], vec![5]),
            "writes slots 5..6 of 3",
        ),
    ] {
        let err = p.verify().unwrap_err();
        assert!(err.contains(what), "{err} (wanted: {what})");
    }
}
