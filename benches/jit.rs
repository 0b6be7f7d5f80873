//! The JIT against the interpreter and against a hand-written Rust double pendulum
//! (q'' and energy from the textbook equations), compile times, and N-link chains.
//!
//! `cargo bench --bench jit`; the ratios reported in README.md come from one run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lagc::backend::jit::JitKernel;
use lagc::backend::{Backend, Interpreter};
use lagc::kernel::{self, Program};
use lagc::symbolic::eom::Eom;
use std::hint::black_box;

const STATES: usize = 1024;

fn program_of(path: &str, system: &str) -> Program {
    let src = std::fs::read_to_string(path).expect("example file");
    let ast = lagc::syntax::parse(&src).expect("parses");
    let model = lagc::check::check(&src, &ast, &[]).model.expect("checks");
    let sys = &model.systems[model.system_index(system).expect("system")];
    let mut eom = Eom::derive_unrolled(sys);
    let spec = kernel::spec_for(&mut eom);
    kernel::lower(&eom.dag, &spec).expect("lowers")
}

/// Rows of (q, q', t) with angles in [-pi, pi) and velocities in [-1, 1).
fn states(dof: usize, n: usize) -> Vec<f64> {
    let mut s: u64 = 7;
    let mut u = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut v = Vec::with_capacity(n * (2 * dof + 1));
    for _ in 0..n {
        v.extend((0..dof).map(|_| std::f64::consts::PI * (2.0 * u() - 1.0)));
        v.extend((0..dof).map(|_| 2.0 * u() - 1.0));
        v.push(0.0);
    }
    v
}

/// The double pendulum (m1 = m2 = l1 = l2 = 1, g = 9.8) by hand: q'' from the
/// textbook closed form and the energy, per state row (t1, t2, t1', t2', t).
fn hand_written(inputs: &[f64], outputs: &mut [f64]) {
    let g = 9.8;
    for (x, y) in inputs.chunks_exact(5).zip(outputs.chunks_exact_mut(3)) {
        let (t1, t2, w1, w2) = (x[0], x[1], x[2], x[3]);
        let d = t1 - t2;
        let (s, c) = d.sin_cos();
        let den = 2.0 - c * c;
        let a1 = (-g * 2.0 * t1.sin() - s * (w2 * w2 + w1 * w1 * c) + g * c * t2.sin()) / den;
        let a2 =
            (2.0 * w1 * w1 * s - 2.0 * g * t2.sin() + 2.0 * g * t1.sin() * c + w2 * w2 * s * c)
                / den;
        let kinetic = w1 * w1 + 0.5 * w2 * w2 + w1 * w2 * c;
        let potential = -2.0 * g * t1.cos() - g * t2.cos();
        y[0] = a1;
        y[1] = a2;
        y[2] = kinetic + potential;
    }
}

fn double_pendulum(c: &mut Criterion) {
    let program = program_of("examples/double_pendulum.lag", "double_pendulum");
    let inputs = states(2, STATES);
    let mut out = vec![0.0; STATES * 3];
    // the hand-written kernel computes what the generated one does
    let mut check = vec![0.0; STATES * 3];
    hand_written(&inputs, &mut check);
    let mut jit = JitKernel::compile(&program, None).expect("compiles");
    jit.eval_batch(&inputs, &mut out).expect("runs");
    for (a, b) in out.iter().zip(&check) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
    }
    let mut interp = Interpreter::new(program.clone());
    let mut g = c.benchmark_group("eval/double_pendulum");
    g.throughput(Throughput::Elements(STATES as u64));
    g.bench_function("hand_written", |b| {
        b.iter(|| hand_written(black_box(&inputs), black_box(&mut out)))
    });
    g.bench_function("jit", |b| {
        b.iter(|| {
            jit.eval_batch(black_box(&inputs), black_box(&mut out))
                .unwrap()
        })
    });
    g.bench_function("interp", |b| {
        b.iter(|| {
            interp
                .eval_batch(black_box(&inputs), black_box(&mut out))
                .unwrap()
        })
    });
    g.finish();
    let mut g = c.benchmark_group("compile/double_pendulum");
    g.bench_function("jit", |b| {
        b.iter(|| JitKernel::compile(black_box(&program), None).unwrap())
    });
    g.bench_function("derive_lower_jit", |b| {
        b.iter(|| {
            let p = program_of("examples/double_pendulum.lag", "double_pendulum");
            JitKernel::compile(&p, None).unwrap()
        })
    });
    g.finish();
}

fn chains(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain");
    g.sample_size(10);
    for n in [2usize, 4, 8, 16] {
        let path = format!("tests/data/chains/chain{n}.lag");
        g.bench_with_input(BenchmarkId::new("derive_lower_jit", n), &path, |b, p| {
            b.iter(|| {
                let prog = program_of(p, &format!("chain{n}"));
                JitKernel::compile(&prog, None).unwrap()
            })
        });
        let program = program_of(&path, &format!("chain{n}"));
        let inputs = states(n, STATES);
        let mut out = vec![0.0; STATES * program.outputs.len()];
        let mut jit = JitKernel::compile(&program, None).unwrap();
        g.throughput(Throughput::Elements(STATES as u64));
        g.bench_with_input(BenchmarkId::new("jit_eval", n), &n, |b, _| {
            b.iter(|| {
                jit.eval_batch(black_box(&inputs), black_box(&mut out))
                    .unwrap()
            })
        });
        g.throughput(Throughput::Elements(1));
    }
    g.finish();
}

criterion_group!(benches, double_pendulum, chains);
criterion_main!(benches);
