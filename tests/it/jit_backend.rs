//! The Cranelift JIT against the reference interpreter: every example and chain system,
//! random expressions (with NaN and infinite values), singular and large solves, net
//! callbacks and batches.

use crate::common;

use common::{build, checked_model, compile_system, test_net, tree};

/// A net of any arity for systems with nets: a smooth function of the arguments whose
/// "partials" differ per lane, so every lane is checked.
fn any_net(net: u32, out: u32, args: &[f64], partials: &[u32]) -> f64 {
    let s: f64 = args
        .iter()
        .enumerate()
        .map(|(i, a)| (a * (i + 1) as f64).sin())
        .sum();
    let p: u32 = partials.iter().map(|p| p + 1).product();
    s * (net + out + 1) as f64 + p as f64
}
use lagc::backend::jit::{clif_text, JitKernel, INLINE_SOLVE_MAX};
use lagc::backend::{Backend, EvalError, Interpreter};
use lagc::kernel::{lower, KernelSpec, Output, Program};
use lagc::symbolic::{Dag, ExprId};
use proptest::prelude::*;
use std::sync::Arc;

/// Same value to 1e-12 relative, or both NaN.
fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// A deterministic pseudo-random number in [-1, 1).
fn lcg(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

/// Evaluates `program` on `rows` random input rows with both backends, row by row and
/// as one batch, and asserts they agree; returns the number of singular rows.
fn agree(name: &str, program: &Program, rows: usize, scale: f64) -> usize {
    assert_eq!(
        program.verify(),
        Ok(()),
        "{name}: the program breaks the IR's rules"
    );
    let mut interp = Interpreter::new(program.clone()).with_nets(Arc::new(any_net));
    let mut jit = JitKernel::compile(program, Some(Arc::new(any_net))).expect("compiles");
    let (ni, no) = (program.n_inputs, program.outputs.len());
    let mut seed = 42;
    let inputs: Vec<f64> = (0..rows * ni).map(|_| scale * lcg(&mut seed)).collect();
    let mut want = vec![0.0; rows * no];
    let mut got = vec![0.0; rows * no];
    let ri = interp.eval_batch(&inputs, &mut want).unwrap();
    let rj = jit.eval_batch(&inputs, &mut got).unwrap();
    assert_eq!(ri, rj, "{name}: singular counts");
    for (k, (w, g)) in want.iter().zip(&got).enumerate() {
        assert!(
            same(*w, *g),
            "{name}: output {} of row {}: interp {w}, jit {g}",
            k % no,
            k / no
        );
    }
    let mut one = vec![0.0; no];
    for r in 0..rows.min(5) {
        jit.eval(&inputs[r * ni..(r + 1) * ni], &mut one).unwrap();
        for (a, b) in one.iter().zip(&got[r * no..(r + 1) * no]) {
            assert!(same(*a, *b), "{name}: row {r} alone: {one:?}");
        }
    }
    ri.singular
}

#[test]
fn every_example_and_chain_agrees_with_the_interpreter() {
    let mut files: Vec<_> = std::fs::read_dir("examples")
        .unwrap()
        .chain(std::fs::read_dir("tests/data/chains").unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lag"))
        .collect();
    files.push("tests/data/reference/systems.lag".into());
    files.sort();
    let mut systems = 0;
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap();
        let m = checked_model(&src, &[]);
        for (k, sys) in m.systems.iter().enumerate() {
            if sys.dof() > 40 {
                continue;
            }
            let (_, program) = compile_system(&m, k);
            agree(
                &format!("{}:{}", path.display(), sys.name),
                &program,
                50,
                2.0,
            );
            systems += 1;
        }
    }
    assert!(systems >= 20, "only {systems} systems");
}

/// A system whose mass matrix has size `n`, is singular where `x0 = 0` (row and column
/// 0 vanish there) and full elsewhere.
fn singular_system(n: usize) -> String {
    let coords: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let mut terms = vec!["x0^2*x0'^2/2".to_string()];
    for i in 1..n {
        terms.push(format!("({i} + cos(x{i}))*x{i}'^2/2 + x0*x0'*x{i}'/10"));
    }
    terms.push("-(".to_string() + &coords.join("^2 + ") + "^2)/2");
    format!(
        "system s {{ coord {}; L = {}; }}",
        coords.join(", "),
        terms.join(" + ")
    )
}

#[test]
fn singular_and_large_solves_agree() {
    for n in [1, 2, 3, INLINE_SOLVE_MAX, INLINE_SOLVE_MAX + 1, 7] {
        let m = checked_model(&singular_system(n), &[]);
        let (_, program) = compile_system(&m, 0);
        assert!(program.has_solve());
        agree(&format!("n={n}"), &program, 20, 1.0);
        // x0 = 0 exactly: singular on every row, pseudo-inverse in both backends
        let mut interp = Interpreter::new(program.clone());
        let mut jit = JitKernel::compile(&program, None).unwrap();
        let mut x = vec![0.5; program.n_inputs];
        x[0] = 0.0;
        let (mut a, mut b) = (
            vec![0.0; program.outputs.len()],
            vec![0.0; program.outputs.len()],
        );
        let ri = interp.eval(&x, &mut a).unwrap();
        let rj = jit.eval(&x, &mut b).unwrap();
        assert_eq!((ri.singular, rj.singular), (1, 1), "n={n}");
        for (p, q) in a.iter().zip(&b) {
            assert!(same(*p, *q), "n={n}: {a:?} vs {b:?}");
        }
    }
}

#[test]
fn net_programs_run_in_segments_over_chunks_of_rows() {
    // nested calls (a net of a net's output) and several chunks of rows
    let src = "system s { coord x, y; net f = mlp(in: 2); net g = mlp(in: 1, out: 2);\n\
               L = x'^2 + y'^2*(2 + g(x)[1]^2) + f(g(y)[0] + x', x*y') - f(x, y); }";
    let m = checked_model(src, &[]);
    let (_, program) = compile_system(&m, 0);
    assert!(program.has_nets());
    agree("nested nets", &program, 700, 1.5);
    let src = std::fs::read_to_string("examples/hybrid_spring_pendulum.lag").unwrap();
    let m = checked_model(&src, &[]);
    let k = m.system_index("hybrid").unwrap();
    let (_, program) = compile_system(&m, k);
    agree("hybrid", &program, 513, 1.0);
}

#[test]
fn non_finite_states_agree() {
    let src = std::fs::read_to_string("examples/double_pendulum.lag").unwrap();
    let m = checked_model(&src, &[]);
    let (_, program) = compile_system(&m, 0);
    let mut interp = Interpreter::new(program.clone());
    let mut jit = JitKernel::compile(&program, None).unwrap();
    let no = program.outputs.len();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e308] {
        for k in 0..program.n_inputs {
            let mut x = vec![0.3; program.n_inputs];
            x[k] = bad;
            let (mut a, mut b) = (vec![0.0; no], vec![0.0; no]);
            let ri = interp.eval(&x, &mut a).unwrap();
            let rj = jit.eval(&x, &mut b).unwrap();
            assert_eq!(ri, rj);
            for (p, q) in a.iter().zip(&b) {
                assert!(same(*p, *q), "input {k} = {bad}: {a:?} vs {b:?}");
            }
        }
    }
}

#[test]
fn shape_errors_missing_nets_and_empty_batches() {
    let mut d = Dag::new();
    let x = d.var("x");
    let f = d.declare_net("f", 1, 1);
    let n = d.net(f, 0, &[x]);
    let spec = KernelSpec {
        inputs: vec![x],
        solve: None,
        outputs: vec![Output::Expr(n)],
    };
    let p = lower(&d, &spec).unwrap();
    let mut jit = JitKernel::compile(&p, None).unwrap();
    assert_eq!(jit.eval(&[1.0], &mut [0.0]), Err(EvalError::MissingNets));
    let twice = |_: u32, _: u32, a: &[f64], _: &[u32]| 2.0 * a[0];
    let mut jit = JitKernel::compile(&p, Some(Arc::new(twice))).unwrap();
    assert!(matches!(
        jit.eval(&[1.0, 2.0], &mut [0.0]),
        Err(EvalError::Shape { .. })
    ));
    assert!(matches!(
        jit.eval_batch(&[1.0, 2.0, 3.0], &mut [0.0; 2]),
        Err(EvalError::Shape { .. })
    ));
    assert_eq!(jit.eval_batch(&[], &mut []).unwrap().singular, 0);
    let mut out = [0.0];
    jit.eval(&[1.5], &mut out).unwrap();
    assert_eq!(out[0], 3.0);
}

#[test]
fn clif_text_shows_the_loop_calls_and_inline_solve() {
    let src = std::fs::read_to_string("examples/double_pendulum.lag").unwrap();
    let m = checked_model(&src, &[]);
    let (_, program) = compile_system(&m, 0);
    let text = clif_text(&program).unwrap();
    assert!(text.starts_with("; u0:0 = lagc_kernel\n"), "{text}");
    assert!(text.contains("\nfunction"), "{text}");
    assert!(
        text.contains(" = sincos\n") || text.contains(" = lagc_sin\n"),
        "{text}"
    );
    assert!(text.contains(" = lagc_solve\n"), "{text}");
    // the row loop, math calls, row loads/stores, and the inline 2x2 solve: pivoting by
    // select, with the solver callback on the singular path only
    for needle in ["brif", "fdiv", "select", "call fn", "load.f64", "store"] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_expressions_agree(
        ts in prop::collection::vec(tree(3), 1..4),
        x in prop::array::uniform3(prop_oneof![
            8 => -3.0..3.0f64,
            1 => Just(0.0),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(-0.0),
        ]),
    ) {
        let mut d = Dag::new();
        let vars = vec![d.var("x"), d.var("y"), d.var("z")];
        let net = d.declare_net("f", 2, 1);
        let mut roots: Vec<ExprId> = ts.iter().map(|t| build(t, &mut d, &vars, net)).collect();
        let d0 = d.diff(roots[0], vars[0]);
        roots.push(d0);
        let spec = KernelSpec {
            inputs: vars.clone(),
            solve: None,
            outputs: roots.iter().map(|&r| Output::Expr(r)).collect(),
        };
        let program = lower(&d, &spec).unwrap();
        let mut interp = Interpreter::new(program.clone()).with_nets(Arc::new(test_net));
        let mut jit = JitKernel::compile(&program, Some(Arc::new(test_net))).unwrap();
        let (mut a, mut b) = (vec![0.0; roots.len()], vec![0.0; roots.len()]);
        interp.eval(&x, &mut a).unwrap();
        jit.eval(&x, &mut b).unwrap();
        for k in 0..roots.len() {
            prop_assert!(same(a[k], b[k]), "{} vs {} for {}", a[k], b[k], d.to_text(roots[k]));
        }
    }
}

#[test]
fn large_solves_do_not_live_on_the_stack() {
    // 120 unknowns: the dense matrix alone is 115 KB, more than this thread's stack
    let src = "system big { param N = 120; coord x[N];
               L = sum(i, (1 + x[i]^2)*x'[i]^2/2 - x[i]^2/2) + sum(i in 0..N-1, x'[i]*x'[i+1]/10); }";
    let m = checked_model(src, &[]);
    let (_, program) = compile_system(&m, 0);
    let n = program.n_inputs;
    let want = {
        let mut interp = Interpreter::new(program.clone());
        let mut out = vec![0.0; program.outputs.len()];
        interp.eval(&vec![0.3; n], &mut out).unwrap();
        out
    };
    let got = std::thread::Builder::new()
        .stack_size(96 * 1024)
        .spawn(move || {
            let mut jit = JitKernel::compile(&program, None).unwrap();
            let mut out = vec![0.0; program.outputs.len()];
            jit.eval(&vec![0.3; n], &mut out).unwrap();
            out
        })
        .unwrap()
        .join()
        .unwrap();
    for (a, b) in want.iter().zip(&got) {
        assert!(same(*a, *b), "{a} vs {b}");
    }
}
