//! Training throughput (criterion): one optimiser step of batch 32 through the JIT
//! backend, for system identification of a double pendulum (four `learn` params) and of
//! a driven, damped pendulum, and for the LNN 4-128-128-1 and 4-500-500-500-1 softplus
//! on double-pendulum data with `nn`'s nets and seeded initial weights
//! ([`lagc::train::nets::NnNets`]). The JAX figures to compare with are ~19,000 and
//! ~1,200 samples/s (benches/peers/README.md).
//!
//!     cargo bench --bench train

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lagc::backend::Kind;
use lagc::check::{RunSettings, Source};
use lagc::train::nets::NnNets;
use lagc::train::{data::from_sample, TrainNets, Trainer};
use std::sync::Arc;

const SRC: &str = "
system truth { coord t1, t2; param m1 = 1, m2 = 1, l1 = 1, l2 = 1, g = 9.8;
    L = (m1 + m2)*(l1*t1')^2/2 + m2*(l2*t2')^2/2 + m2*l1*l2*t1'*t2'*cos(t1 - t2)
        + (m1 + m2)*g*l1*cos(t1) + m2*g*l2*cos(t2); }
system fit { coord t1, t2; param m1 = 1; learn m2 = 0.5, l1 = 1.2, l2 = 0.8, g = 5;
    L = (m1 + m2)*(l1*t1')^2/2 + m2*(l2*t2')^2/2 + m2*l1*l2*t1'*t2'*cos(t1 - t2)
        + (m1 + m2)*g*l1*cos(t1) + m2*g*l2*cos(t2); }
system dtruth { coord th; param k = 9.8, c = 0.3, A = 0.5;
    L = th'^2/2 + k*cos(th); dissipation = c*th'^2/2; force th = A*sin(t); }
system damped { coord th; learn k = 1, c = 0.1, A = 0;
    L = th'^2/2 + k*cos(th); dissipation = c*th'^2/2; force th = A*sin(t); }
train fit {
    data = sample(truth, n = 10000, seed = 0, t1 = uniform(0, 2*pi), t2 = uniform(0, 2*pi),
                  t1' = uniform(-10, 10), t2' = uniform(-10, 10));
    steps = 1000000; batch = 32;
}
system lnn { coord t1, t2; net lagrangian = mlp(in: 4, hidden: [128, 128], act: softplus);
    L = lagrangian(t1, t2, t1', t2'); }
train lnn {
    data = sample(truth, n = 10000, seed = 0, t1 = uniform(0, 2*pi), t2 = uniform(0, 2*pi),
                  t1' = uniform(-10, 10), t2' = uniform(-10, 10));
    steps = 1000000; batch = 32;
}
system big { coord t1, t2; net wide = mlp(in: 4, hidden: [500, 500, 500], act: softplus);
    L = wide(t1, t2, t1', t2'); }
train big {
    data = sample(truth, n = 10000, seed = 0, t1 = uniform(0, 2*pi), t2 = uniform(0, 2*pi),
                  t1' = uniform(-10, 10), t2' = uniform(-10, 10));
    steps = 1000000; batch = 32;
}
train damped {
    data = sample(dtruth, n = 10000, seed = 0, th = uniform(0, 2*pi), th' = uniform(-3, 3),
                  t = uniform(0, 10));
    steps = 1000000; batch = 32;
}
";

fn trainer(name: &str, threads: usize) -> Trainer {
    let ast = lagc::syntax::parse(SRC).expect("parses");
    let model = lagc::check::check(SRC, &ast, &[]).model.expect("checks");
    let k = model.system_index(name).expect("system");
    let settings = model
        .runs
        .iter()
        .find_map(|r| match &r.settings {
            RunSettings::Train(t) if r.system == k => Some(t.clone()),
            _ => None,
        })
        .expect("train block");
    let Source::Sample(spec) = &settings.data else {
        unreachable!("sampled data")
    };
    let sys = &model.systems[k];
    let truth = &model.systems[spec.truth.expect("truth")];
    let made = from_sample(spec, truth, sys, settings.momenta, Kind::Interp)
        .unwrap_or_else(|_| panic!("data"));
    let learns: Vec<f64> = sys.learns.iter().map(|(_, v)| *v).collect();
    let nets = (!sys.nets.is_empty())
        .then(|| Arc::new(NnNets::init(sys, settings.seed)) as Arc<dyn TrainNets>);
    Trainer::new(
        sys,
        &settings,
        &made.data,
        nets,
        &learns,
        Kind::Jit,
        threads,
    )
    .expect("trainer")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("train");
    g.throughput(Throughput::Elements(32));
    for (name, threads) in [
        ("fit", 1),
        ("fit", 2),
        ("damped", 2),
        ("lnn", 1),
        ("lnn", 2),
        ("big", 2),
    ] {
        let mut tr = trainer(name, threads);
        g.bench_function(format!("{name}_batch32_threads{threads}"), |b| {
            b.iter(|| tr.step().expect("step"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
