//! Array systems in loop form: the cost of one q'' evaluation per lattice site from 10^3
//! to 10^5 sites (linear is flat per site), and the compile time (derive + lower + JIT),
//! which must not grow with N. Systems: the analytic wave and the Lagrangian graph
//! network of examples/wave.lag (density net 6-400-400-400-1, seeded weights).
//!
//! The analytic wave is also written by hand, for the ratio lagc / hand-written Rust.
//!
//! `cargo bench --bench lattice`; criterion's throughput is in sites per second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lagc::backend::{self, Backend, Kind, SharedNets};
use lagc::check::Model;
use lagc::kernel;
use lagc::nn::SystemNets;
use lagc::symbolic::eom::Eom;
use std::hint::black_box;
use std::sync::Arc;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn model(n: usize) -> Model {
    let src = std::fs::read_to_string("examples/wave.lag").expect("example file");
    let ast = lagc::syntax::parse(&src).expect("parses");
    lagc::check::check(&src, &ast, &[("N".to_string(), n as f64)])
        .model
        .expect("checks")
}

/// The JIT kernel of `system` with N = n, and one state (a smooth field, random-ish
/// velocities).
fn kernel_and_state(system: &str, n: usize) -> (Box<dyn Backend + Send>, Vec<f64>) {
    let m = model(n);
    let sys = &m.systems[m.system_index(system).expect("system")];
    let mut eom = Eom::derive(sys);
    assert!(eom.lattice().is_some());
    let nets: Option<SharedNets> =
        (!sys.nets.is_empty()).then(|| Arc::new(SystemNets::init(sys, 0)) as SharedNets);
    let program = kernel::eom_program(&mut eom, true, false).expect("lowers");
    let be = backend::create_eom(program, Kind::Jit, nets);
    let mut state: Vec<f64> = (0..n)
        .map(|j| (std::f64::consts::TAU * j as f64 / n as f64).sin())
        .collect();
    state.extend((0..n).map(|j| ((j * 7919) % 101) as f64 / 101.0 - 0.5));
    state.push(0.0);
    (be, state)
}

fn per_site(c: &mut Criterion, group: &str, system: &str) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    for n in SIZES {
        let (mut be, state) = kernel_and_state(system, n);
        let mut out = vec![0.0; be.n_outputs()];
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| be.eval(black_box(&state), &mut out).expect("evaluates"))
        });
    }
    g.finish();
}

fn wave_qdd(c: &mut Criterion) {
    per_site(c, "lattice_wave_qdd", "wave");
}

/// The wave's q'' written by hand (c = 1, dx = 1/N): with H = dx I,
/// q''_i = (phi_{i+2} - 2 phi_i + phi_{i-2}) / (4 dx^2), periodic.
fn hand_wave(phi: &[f64], out: &mut [f64]) {
    let n = phi.len();
    let k = (n * n) as f64 / 4.0;
    for i in 0..n {
        let (p, m) = ((i + 2) % n, (i + n - 2) % n);
        out[i] = k * (phi[p] - 2.0 * phi[i] + phi[m]);
    }
}

/// The same q'' by hand, for the ratio lagc / hand-written.
fn wave_by_hand(c: &mut Criterion) {
    let mut g = c.benchmark_group("lattice_wave_by_hand");
    g.sample_size(10);
    for n in SIZES {
        let (mut be, state) = kernel_and_state("wave", n);
        let mut out = vec![0.0; n];
        let mut lagc_out = vec![0.0; be.n_outputs()];
        be.eval(&state, &mut lagc_out).expect("evaluates");
        hand_wave(&state[..n], &mut out);
        for i in 0..n {
            assert!(
                (out[i] - lagc_out[i]).abs() <= 1e-6 * (1.0 + out[i].abs()),
                "site {i}"
            );
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| hand_wave(black_box(&state[..n]), &mut out))
        });
    }
    g.finish();
}

fn lgn_qdd(c: &mut Criterion) {
    per_site(c, "lattice_lgn_qdd", "lgn100");
}

/// Derive + lower + JIT compile of the wave systems: the same work at every N.
fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("lattice_compile");
    g.sample_size(10);
    for n in [1_000, 100_000] {
        let m = model(n);
        for system in ["wave", "lgn100"] {
            let sys = &m.systems[m.system_index(system).expect("system")];
            g.bench_function(BenchmarkId::new(system, n), |b| {
                b.iter(|| {
                    let mut eom = Eom::derive(sys);
                    let p = kernel::eom_program(&mut eom, true, true).expect("lowers");
                    black_box(backend::create_eom(p, Kind::Jit, None))
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, wave_qdd, wave_by_hand, lgn_qdd, compile);
criterion_main!(benches);
