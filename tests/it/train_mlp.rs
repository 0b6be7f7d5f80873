//! The trainer's nets backed by `nn` ([`lagc::train::nets::NnNets`]): the batched,
//! folded reverse jet pass against finite differences in the weights, seeded initial
//! weights and weights files as `nn` makes them, and LNN and black-box baseline
//! training gradients (full loss, through the JIT and the interpreter) against finite
//! differences, independent of the number of threads.

use crate::common;

use common::checked_model;
use lagc::backend::Kind;
use lagc::check::{Activation, Init, Model, Net, RunSettings, Source, SystemModel};
use lagc::kernel::NetLane;
use lagc::nn::{SystemNets, Weights};
use lagc::train::data::from_sample;
use lagc::train::nets::NnNets;
use lagc::train::{initial_from, TrainNets, Trainer};
use std::sync::Arc;

fn lane(out: u32, p: &[u32]) -> NetLane {
    NetLane {
        out,
        partials: p.into(),
    }
}

/// A system whose only net is `net` (3 inputs, 2 outputs).
fn system_with(act: Activation, init: Init) -> SystemModel {
    let src = format!(
        "system s {{ coord a, b, c; net f = mlp(in: 3, out: 2, hidden: [6, 4], act: {}, init: {});
            L = f(a, b, c)[0] + f(a, b, c)[1] + a'^2 + b'^2 + c'^2; }}",
        act_name(act),
        match init {
            Init::Lnn => "lnn",
            Init::Xavier => "xavier",
            Init::Kaiming => "kaiming",
        }
    );
    checked_model(&src, &[]).systems.remove(0)
}

fn act_name(act: Activation) -> &'static str {
    Activation::ALL
        .iter()
        .find(|(_, a)| *a == act)
        .map(|(n, _)| *n)
        .expect("named")
}

#[test]
fn batched_reverse_pass_matches_finite_differences_in_the_weights() {
    // Three samples, lanes of both outputs with first and second partials (off-diagonal
    // and diagonal): the folded pass must give exactly the lane form's gradient.
    let x = [0.3, -0.7, 0.45, -0.2, 0.1, 0.8, 0.5, 0.5, -0.6];
    let lanes = vec![
        lane(0, &[]),
        lane(1, &[]),
        lane(0, &[2]),
        lane(1, &[0]),
        lane(0, &[1, 2]),
        lane(1, &[0, 0]),
        lane(0, &[2, 2]),
        lane(0, &[0, 1]),
    ];
    let nl = lanes.len();
    let cot: Vec<f64> = (0..3 * nl)
        .map(|i| ((i * 37 % 11) as f64 - 5.0) / 4.0)
        .collect();
    for (_, act) in Activation::ALL {
        if act == Activation::Relu {
            continue; // no second derivative: the objective's weight gradient is 0 a.e.
        }
        let sys = system_with(act, Init::Lnn);
        let t = NnNets::init(&sys, 5);
        let theta = t.params();
        let mut grad = vec![0.0; theta.len()];
        t.jet_vjp(0, &x, &lanes, &cot, &mut grad);
        // nn's lane form, independently.
        let mut lane_form = vec![0.0; theta.len()];
        SystemNets::init(&sys, 5).mlps()[0].jet_vjp(&x, &lanes, &cot, &mut lane_form);
        let objective = |w: &[f64]| {
            t.set_params(w);
            let mut out = vec![0.0; 3 * nl];
            t.evaluator().eval_batch(0, &x, &lanes, &mut out);
            out.iter().zip(&cot).map(|(a, b)| a * b).sum::<f64>()
        };
        let scale = grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
        assert!(scale > 1e-3, "{act:?}");
        for (g, l) in grad.iter().zip(&lane_form) {
            assert!((g - l).abs() <= 1e-10 * scale, "{act:?}: {g} vs {l}");
        }
        for i in (0..theta.len()).step_by(2) {
            let h = 1e-6;
            let mut w = theta.clone();
            w[i] += h;
            let p = objective(&w);
            w[i] -= 2.0 * h;
            let m = objective(&w);
            let fd = (p - m) / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() < 1e-6 * scale.max(1.0),
                "{act:?} weight {i}: {} vs {fd}",
                grad[i]
            );
        }
        t.set_params(&theta);
    }
}

#[test]
fn initial_weights_are_nn_seeded_init_and_files_round_trip() {
    let sys = system_with(Activation::Tanh, Init::Xavier);
    let t = NnNets::init(&sys, 7);
    let direct: Vec<f64> = SystemNets::init(&sys, 7).mlps()[0].params().to_vec();
    assert_eq!(t.params(), direct);
    assert_eq!(t.n_params(), sys.nets[0].weight_count());
    // Through safetensors bytes and back, with a learn scalar beside the net.
    let bytes = t.weights().to_bytes().unwrap();
    let file = Weights::from_bytes(&bytes).unwrap();
    let other = NnNets::init(&sys, 8);
    assert_ne!(other.params(), direct);
    let (learns, flat) = initial_from(&sys, Some(&other), &file).unwrap();
    assert!(learns.is_empty());
    assert_eq!(flat, direct);
    // A file without the net's tensors is refused, naming the tensor.
    let e = initial_from(&sys, Some(&other), &Weights::new()).unwrap_err();
    assert!(e.contains("f.w0"), "{e}");
}

const SRC: &str = "
system truth { coord a, b; param g = 9.8;
    L = (2*a'^2 + b'^2 + 2*a'*b'*cos(a - b))/2 + 2*g*cos(a) + g*cos(b); }
system lnn { coord a, b; net f = mlp(in: 4, hidden: [8, 8], act: softplus);
    L = f(a, b, a', b'); }
system base { coord a, b; net h = mlp(in: 4, out: 2, hidden: [8, 8], act: tanh, init: xavier);
    accel a = h(a, b, a', b')[0], b = h(a, b, a', b')[1]; }
train lnn {
    data = sample(truth, n = 64, seed = 5, a = uniform(-1, 1), b = uniform(-1, 1),
                  a' = normal(0, 1), b' = normal(0, 1));
    steps = 10; val = 0; reg = 0.01;
}
train base {
    data = sample(truth, n = 64, seed = 5, a = uniform(-1, 1), b = uniform(-1, 1),
                  a' = normal(0, 1), b' = normal(0, 1));
    steps = 10; val = 0; loss = l1;
}
";

fn trainer(m: &Model, name: &str, kind: Kind, threads: usize) -> (Trainer, Vec<f64>) {
    let k = m.system_index(name).unwrap();
    let sys = &m.systems[k];
    let settings = m
        .runs
        .iter()
        .find_map(|r| match &r.settings {
            RunSettings::Train(t) if r.system == k => Some(t.clone()),
            _ => None,
        })
        .expect("a train block");
    let Source::Sample(spec) = &settings.data else {
        panic!("sampled data")
    };
    let truth = &m.systems[spec.truth.unwrap()];
    let made = from_sample(spec, truth, sys, settings.momenta, Kind::Interp)
        .unwrap_or_else(|_| panic!("data"));
    let nets = Arc::new(NnNets::init(sys, 3));
    let theta = nets.params();
    let tr = Trainer::new(sys, &settings, &made.data, Some(nets), &[], kind, threads)
        .unwrap_or_else(|e| panic!("{e}"));
    (tr, theta)
}

#[test]
fn lnn_and_baseline_training_gradients_match_finite_differences() {
    let m = checked_model(SRC, &[]);
    for (name, kind) in [
        ("lnn", Kind::Jit),
        ("lnn", Kind::Interp),
        ("base", Kind::Jit),
    ] {
        let (mut tr, theta) = trainer(&m, name, kind, 2);
        // 40 rows: two full chunks and a partial one.
        let rows: Vec<usize> = (0..40).collect();
        check_fd(
            &mut tr,
            &theta,
            &rows,
            theta.len() / 37 + 1,
            &format!("{name} {kind:?}"),
        );
    }
}

/// The trainer's gradient on `rows` at `theta` against central finite differences of
/// its loss, for every `stride`-th weight.
fn check_fd(tr: &mut Trainer, theta: &[f64], rows: &[usize], stride: usize, what: &str) {
    let ev = tr.evaluate(theta, rows, false, true).unwrap();
    assert_eq!(ev.used, rows.len(), "{what}");
    let scale = ev.grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    assert!(scale > 1e-6, "{what}: gradient vanishes");
    for i in (0..theta.len()).step_by(stride) {
        let h = 1e-6 * theta[i].abs().max(1.0);
        let mut tp = theta.to_vec();
        tp[i] += h;
        let lp = tr.evaluate(&tp, rows, false, false).unwrap().loss;
        tp[i] -= 2.0 * h;
        let lm = tr.evaluate(&tp, rows, false, false).unwrap().loss;
        let fd = (lp - lm) / (2.0 * h);
        assert!(
            (fd - ev.grad[i]).abs() <= 1e-5 * scale.max(fd.abs()),
            "{what} weight {i}: adjoint {} vs finite difference {fd}",
            ev.grad[i]
        );
    }
}

#[test]
fn gradients_do_not_depend_on_threads_or_backend() {
    let m = checked_model(SRC, &[]);
    let rows: Vec<usize> = (0..50).collect();
    let (mut one, theta) = trainer(&m, "lnn", Kind::Jit, 1);
    let reference = one.evaluate(&theta, &rows, false, true).unwrap();
    let (mut two, _) = trainer(&m, "lnn", Kind::Jit, 2);
    // The trainer times one thread against two on its first evaluations: both ways.
    for _ in 0..8 {
        let ev = two.evaluate(&theta, &rows, false, true).unwrap();
        assert_eq!(ev.grad, reference.grad);
        assert_eq!(ev.loss, reference.loss);
    }
    let (mut interp, _) = trainer(&m, "lnn", Kind::Interp, 2);
    let ev = interp.evaluate(&theta, &rows, false, true).unwrap();
    // The backends round differently; the LNN's mass matrix amplifies that a little.
    let scale = reference.grad.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    for (a, b) in ev.grad.iter().zip(&reference.grad) {
        assert!((a - b).abs() <= 1e-8 * scale, "{a} vs {b}");
    }
}

#[test]
fn checked_nets_keep_their_shapes() {
    // The net declaration the adapter names its tensors after.
    let sys = system_with(Activation::Sigmoid, Init::Kaiming);
    let net: &Net = &sys.nets[0];
    assert_eq!(net.widths(), vec![3, 6, 4, 2]);
    let names: Vec<String> = NnNets::init(&sys, 0)
        .weights()
        .names()
        .map(String::from)
        .collect();
    assert_eq!(names, ["f.b0", "f.b1", "f.b2", "f.w0", "f.w1", "f.w2"]);
}

/// A per-sample param (g, drawn per sample) feeding a net's argument, as in the
/// relativistic reproduction: the trained system sees g as data, and its gradient in
/// the weights still matches finite differences.
#[test]
fn per_sample_params_as_net_arguments_have_exact_gradients() {
    let src = "system rtruth { coord q; param g = 0.5; L = (1 - q'^2)^(-1/2) - 1 + g*q; }
system rl { coord q; param g = 0; net f = mlp(in: 3, hidden: [8]); L = f(q/10, q', g/10); }
train rl { data = sample(rtruth, n = 64, seed = 1, q = uniform(-1, 1), q' = uniform(-0.5, 0.5),
                         g = normal(0, 1));
           steps = 10; val = 0; }
";
    let ast = lagc::syntax::parse(src).unwrap();
    let m = checked_model(src, &[]);
    let run = &m.runs[0];
    let RunSettings::Train(settings) = &run.settings else {
        panic!()
    };
    let Source::Sample(spec) = &settings.data else {
        panic!()
    };
    let t = spec.truth.unwrap();
    let params = lagc::train::data::sampled_params(spec, &m.systems[t]);
    assert_eq!(params, ["g"]);
    let m2 = lagc::train::data::per_sample_model(
        src,
        &ast,
        &[],
        &[t, run.system],
        &params,
        (run.system, &[]),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let sys = &m2.systems[run.system];
    let made = from_sample(spec, &m2.systems[t], sys, settings.momenta, Kind::Interp)
        .unwrap_or_else(|_| panic!("data"));
    let nets = Arc::new(NnNets::init(sys, 3));
    let theta = nets.params();
    let mut tr = Trainer::new(sys, settings, &made.data, Some(nets), &[0.0], Kind::Jit, 1)
        .unwrap_or_else(|e| panic!("{e}"));
    let rows: Vec<usize> = (0..32).collect();
    check_fd(&mut tr, &theta, &rows, 1, "per-sample g");
}
