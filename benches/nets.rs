//! Neural systems: q'' evaluations per second of an LNN 4-128-128-1 softplus on the
//! double pendulum (seeded init weights), one state per call and 1024 states per batch,
//! through `backend::create` with the interpreter and the JIT (which may still fall back
//! to the interpreter); and the net block alone (one call's jet lanes), per row and
//! batched (`SystemNets::eval_batch`: matrix products over samples x jet rows).
//!
//!     cargo bench --bench nets
//!
//! Compare with benches/peers/README.md: JAX LNN q'' 4-128-128-1, jit + vmap,
//! batch 1024: ~5.9 us per state; one jitted call: ~77 us.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lagc::backend::{self, Kind, SharedNets};
use lagc::kernel::{NetEval, Op};
use lagc::nn::SystemNets;
use lagc::symbolic::eom::Eom;
use std::hint::black_box;
use std::sync::Arc;

const LNN: &str = "
system lnn {
    coord t1, t2;
    net lagrangian = mlp(in: 4, hidden: [128, 128], act: softplus, init: lnn);
    L = lagrangian(t1, t2, t1', t2');
}
";

struct Setup {
    program: lagc::kernel::Program,
    nets: Arc<SystemNets>,
    states: Vec<f64>,
}

fn setup() -> Setup {
    let ast = lagc::syntax::parse(LNN).expect("parses");
    let checked = lagc::check::check(LNN, &ast, &[]);
    let model = checked.model.expect("checks");
    let sys = &model.systems[0];
    let mut eom = Eom::derive_unrolled(sys);
    let spec = lagc::kernel::spec_for(&mut eom);
    let program = lagc::kernel::lower(&eom.dag, &spec).expect("lowers");
    let nets = Arc::new(SystemNets::init(sys, 0));
    // Inputs per row: t1, t2, t1', t2', t.
    let n = program.n_inputs;
    let states = (0..1024 * n)
        .map(|i| {
            if i % n == n - 1 {
                0.0
            } else {
                ((i * 7919 % 1000) as f64) / 300.0 - 1.6
            }
        })
        .collect();
    Setup {
        program,
        nets,
        states,
    }
}

fn kernels(c: &mut Criterion) {
    let s = setup();
    let n_in = s.program.n_inputs;
    let n_out = s.program.outputs.len();
    let mut g = c.benchmark_group("lnn_4_128_128_1_accel");
    for (name, kind) in [("interp", Kind::Interp), ("jit", Kind::Jit)] {
        let nets: SharedNets = s.nets.clone();
        let mut be = backend::create(s.program.clone(), kind, Some(nets));
        let mut out = vec![0.0; n_out * 1024];
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new(name, "batch1"), |b| {
            let mut k = 0;
            b.iter(|| {
                let row = &s.states[k * n_in..(k + 1) * n_in];
                k = (k + 1) % 1024;
                be.eval(black_box(row), &mut out[..n_out]).expect("eval")
            })
        });
        g.throughput(Throughput::Elements(1024));
        g.bench_function(BenchmarkId::new(name, "batch1024"), |b| {
            b.iter(|| be.eval_batch(black_box(&s.states), &mut out).expect("eval"))
        });
    }
    g.finish();
}

fn net_block(c: &mut Criterion) {
    let s = setup();
    let (args_n, lanes) = s
        .program
        .insts
        .iter()
        .find_map(|i| match &i.op {
            Op::Net { args, lanes, .. } => Some((args.len(), lanes.clone())),
            _ => None,
        })
        .expect("a net block");
    let x: Vec<f64> = (0..1024 * args_n)
        .map(|i| ((i * 31 % 97) as f64) / 30.0 - 1.6)
        .collect();
    let mut out = vec![0.0; 1024 * lanes.len()];
    let mut g = c.benchmark_group("lnn_4_128_128_1_net_block");
    g.throughput(Throughput::Elements(1024));
    g.bench_function("per_row_x1024", |b| {
        b.iter(|| {
            for (xr, o) in x.chunks(args_n).zip(out.chunks_mut(lanes.len())) {
                s.nets.eval(0, black_box(xr), &lanes, o);
            }
        })
    });
    g.bench_function("eval_batch_1024", |b| {
        b.iter(|| s.nets.eval_batch(0, black_box(&x), &lanes, &mut out))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = kernels, net_block
}
criterion_main!(benches);
