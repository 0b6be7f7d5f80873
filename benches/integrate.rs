//! Integrator throughput: rk4 steps per second on the double pendulum, lagc's compiled
//! kernel (through `backend::create`, so the JIT once it exists) against a hand-written
//! Rust rk4 over the textbook closed-form double pendulum. After the criterion groups,
//! prints the ratio of the two (lagc time / hand-written time; 1.5 is the goal).

use criterion::Criterion;
use lagc::backend::Kind;
use lagc::integrate::rk4::Rk4;
use lagc::integrate::{self, Method, Settings, System};
use lagc::symbolic::eom::Eom;
use std::hint::black_box;
use std::time::Instant;

const DOUBLE: &str = include_str!("../examples/double_pendulum.lag");
const Y0: [f64; 4] = [1.0, 2.0, 0.0, 0.0];
const H: f64 = 1e-3;
const STEPS: usize = 1000;

fn lagc_system() -> System {
    let ast = lagc::syntax::parse(DOUBLE).expect("parses");
    let checked = lagc::check::check(DOUBLE, &ast, &[]);
    let model = checked.model.expect("checks");
    let mut eom = Eom::derive(&model.systems[0]);
    System::new(&mut eom, Kind::Jit, None, &[], false).expect("compiles")
}

/// The double pendulum (m = l = 1, g = 9.8) in closed form, as in the LNN paper's code.
fn accel(y: &[f64; 4]) -> [f64; 4] {
    let (t1, t2, w1, w2) = (y[0], y[1], y[2], y[3]);
    let g = 9.8;
    let (s, c) = (t1 - t2).sin_cos();
    let a1 = 0.5 * c;
    let a2 = c;
    let f1 = -0.5 * w2 * w2 * s - g * t1.sin();
    let f2 = w1 * w1 * s - g * t2.sin();
    let det = 1.0 - a1 * a2;
    [w1, w2, (f1 - a1 * f2) / det, (f2 - a2 * f1) / det]
}

/// A hand-written rk4 step over [`accel`].
fn hand_step(y: &mut [f64; 4], h: f64) {
    let add = |y: &[f64; 4], k: &[f64; 4], c: f64| std::array::from_fn(|i| y[i] + c * k[i]);
    let k1 = accel(y);
    let k2 = accel(&add(y, &k1, h / 2.0));
    let k3 = accel(&add(y, &k2, h / 2.0));
    let k4 = accel(&add(y, &k3, h));
    for i in 0..4 {
        y[i] += h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]);
    }
}

fn lagc_steps(sys: &mut System, stepper: &mut Rk4) -> [f64; 4] {
    let mut y = Y0;
    for k in 0..STEPS {
        // Errors cannot occur on this finite trajectory; a failure would show as NaN.
        if stepper.step(sys, k as f64 * H, &mut y, H).is_err() {
            return [f64::NAN; 4];
        }
    }
    y
}

fn hand_steps() -> [f64; 4] {
    let mut y = Y0;
    for _ in 0..STEPS {
        hand_step(&mut y, H);
    }
    y
}

fn bench(c: &mut Criterion) {
    let mut sys = lagc_system();
    let mut stepper = Rk4::new(4);
    let mut g = c.benchmark_group("integrate");
    g.throughput(criterion::Throughput::Elements(STEPS as u64));
    g.bench_function("rk4_double_pendulum_lagc", |b| {
        b.iter(|| black_box(lagc_steps(&mut sys, &mut stepper)))
    });
    g.bench_function("rk4_double_pendulum_hand_written", |b| {
        b.iter(|| black_box(hand_steps()))
    });
    g.finish();
    let mut sys = lagc_system();
    let settings = Settings {
        t_end: 10.0,
        dt: 0.01,
        dt_out: None,
        method: Method::Dopri5,
        rtol: 1e-9,
        atol: 1e-9,
        project_init: false,
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut g = c.benchmark_group("integrate_simulate");
    g.sample_size(10);
    g.bench_function("dopri5_double_pendulum_10s", |b| {
        b.iter(|| {
            integrate::simulate(&mut sys, &Y0, &settings, &stop, &mut |_| Ok(()))
                .map(|s| s.steps)
                .ok()
        })
    });
    g.finish();
}

/// Best of several timed batches, in seconds per step.
fn per_step(mut f: impl FnMut() -> [f64; 4]) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..20 {
        let t = Instant::now();
        black_box(f());
        best = best.min(t.elapsed().as_secs_f64() / STEPS as f64);
    }
    best
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    let mut sys = lagc_system();
    let mut stepper = Rk4::new(4);
    let (a, b) = (lagc_steps(&mut sys, &mut stepper), hand_steps());
    let agree = a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9);
    let lagc = per_step(|| lagc_steps(&mut sys, &mut stepper));
    let hand = per_step(hand_steps);
    println!(
        "rk4 on the double pendulum: lagc {:.3e} steps/s, hand-written {:.3e} steps/s, ratio (lagc time / hand-written time) {:.2}; final states agree: {agree}",
        1.0 / lagc,
        1.0 / hand,
        lagc / hand
    );
}
