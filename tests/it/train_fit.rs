//! System identification end to end (the fitted constants against the truth's), and the
//! run's reproducibility: thread count, checkpoint and resume, singular mass matrices.

use crate::common;
use crate::common::ROD_SYSTEMS;

use common::checked_model;
use lagc::backend::Kind;
use lagc::check::{RunSettings, Source, TrainSettings};
use lagc::train::data::from_sample;
use lagc::train::{checkpoint, Trainer};

fn trainer(src: &str, name: &str, threads: usize) -> Trainer {
    let m = checked_model(src, &[]);
    let k = m.system_index(name).unwrap();
    let settings: TrainSettings = m
        .runs
        .iter()
        .find_map(|r| match &r.settings {
            RunSettings::Train(t) if r.system == k => Some(t.clone()),
            _ => None,
        })
        .unwrap();
    let Source::Sample(spec) = &settings.data else {
        panic!()
    };
    let truth = &m.systems[spec.truth.unwrap()];
    let made = from_sample(spec, truth, &m.systems[k], settings.momenta, Kind::Interp)
        .unwrap_or_else(|_| panic!("data"));
    let learns: Vec<f64> = m.systems[k].learns.iter().map(|(_, v)| *v).collect();
    Trainer::new(
        &m.systems[k],
        &settings,
        &made.data,
        None,
        &learns,
        Kind::Interp,
        threads,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn run(tr: &mut Trainer) {
    while !tr.done() {
        tr.step().unwrap();
    }
}

const PENDULUM: &str = "
system truth { coord th; param m = 1.3, l = 0.8, g = 9.81;
    L = 0.5*m*l^2*th'^2 + m*g*l*cos(th); }
system fit { coord th; param m = 1.3, l = 0.8; learn g = 3;
    L = 0.5*m*l^2*th'^2 + m*g*l*cos(th); }
train fit {
    data = sample(truth, n = 2000, seed = 3, th = uniform(-3, 3), th' = normal(0, 2));
    steps = 600; batch = 32; lr = 0.3; lr_decay = 0.0001; val = 0.1; seed = 4;
}
";

#[test]
fn fits_the_gravity_of_a_pendulum() {
    let mut tr = trainer(PENDULUM, "fit", 2);
    run(&mut tr);
    let g = tr.learns()[0].1;
    assert!((g - 9.81).abs() < 1e-3, "g = {g}");
    // The loss curve ends near zero, and the validation loss with it.
    let last = tr.state.curve.last().unwrap();
    assert_eq!(last.step, 600);
    assert!(last.val_loss < 1e-4, "{last:?}");
    assert!(
        tr.state.curve[0].loss > 100.0 * last.loss,
        "{:?}",
        tr.state.curve[0]
    );
    assert_eq!(tr.state.skipped_steps, 0);
}

#[test]
fn fits_spring_constant_and_mass_ratio_of_a_chain() {
    // x'' and y'' of two coupled springs: identifiable k1/m and k2/m with m known.
    let src = "
system truth { coord x, y; param m = 2, k1 = 5, k2 = 1.5;
    L = m*(x'^2 + y'^2)/2 - k1*x^2/2 - k2*(y - x)^2/2; }
system fit { coord x, y; param m = 2; learn k1 = 1, k2 = 1;
    L = m*(x'^2 + y'^2)/2 - k1*x^2/2 - k2*(y - x)^2/2; }
train fit {
    data = sample(truth, n = 1000, seed = 1, x = normal(0, 1), y = normal(0, 1));
    steps = 600; batch = 16; lr = 0.2; lr_decay = 0.001; loss = l1;
}
";
    let mut tr = trainer(src, "fit", 2);
    run(&mut tr);
    let l = tr.learns();
    assert!((l[0].1 - 5.0).abs() < 1e-2, "{l:?}");
    assert!((l[1].1 - 1.5).abs() < 1e-2, "{l:?}");
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let mut one = trainer(PENDULUM, "fit", 1);
    let mut two = trainer(PENDULUM, "fit", 2);
    for _ in 0..40 {
        one.step().unwrap();
        two.step().unwrap();
    }
    assert_eq!(one.state, two.state);
}

#[test]
fn resume_continues_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");
    let mut straight = trainer(PENDULUM, "fit", 2);
    run(&mut straight);

    let mut first = trainer(PENDULUM, "fit", 2);
    for _ in 0..137 {
        first.step().unwrap();
    }
    checkpoint::save(&path, first.fingerprint(), &first.state).unwrap();
    drop(first);
    let mut second = trainer(PENDULUM, "fit", 1);
    second.state = checkpoint::load(&path, second.fingerprint(), second.n_params()).unwrap();
    assert_eq!(second.state.step, 137);
    run(&mut second);
    assert_eq!(straight.state, second.state);

    // A checkpoint of another run is refused.
    let other = trainer(&PENDULUM.replace("seed = 4", "seed = 5"), "fit", 1);
    let e = checkpoint::load(&path, other.fingerprint(), other.n_params()).unwrap_err();
    assert!(e.contains("another run"), "{e}");
    std::fs::write(&path, b"garbage").unwrap();
    assert!(checkpoint::load(&path, 0, 0).is_err());
}

#[test]
fn singular_and_indefinite_mass_matrices_never_crash() {
    // l starts at 0: H = m l^2 = 0 at every sample, so no sample is usable and each
    // step is skipped and counted. With l = 1 and m = -1, H is negative (indefinite as a
    // mass matrix), which trains like any other.
    let src = "
system truth { coord th; param g = 9.81; L = 0.5*th'^2 + g*cos(th); }
system fit { coord th; param g0 = 9.81; learn l = 0, m = -1;
    L = 0.5*m*l^2*th'^2 + g0*cos(th); }
train fit {
    data = sample(truth, n = 100, seed = 3, th = uniform(-3, 3), th' = normal(0, 2));
    steps = 5; val = 0;
}
";
    let mut tr = trainer(src, "fit", 2);
    run(&mut tr);
    assert_eq!(tr.state.skipped_steps, 5);
    assert_eq!(tr.state.skipped_samples, 5 * 32);
    assert_eq!(tr.learns()[0].1, 0.0);

    let indefinite = src.replace("learn l = 0,", "learn l = 1,");
    let mut tr = trainer(&indefinite, "fit", 2);
    run(&mut tr);
    assert_eq!(tr.state.skipped_steps, 0);
    assert!(tr.state.theta.iter().all(|x| x.is_finite()));
}

#[test]
fn throughput_function_for_lagc_bench() {
    let m = checked_model(PENDULUM, &[]);
    let k = m.system_index("fit").unwrap();
    let s = lagc::train::train_samples_per_s(&m, k, None, Kind::Interp, 2, 20).unwrap();
    assert!(s.is_finite() && s > 0.0, "{s}");
    let truth = m.system_index("truth").unwrap();
    assert!(lagc::train::train_samples_per_s(&m, truth, None, Kind::Interp, 2, 1).is_err());
    // A system with nets gets nn's seeded initial weights.
    let lnn = checked_model(
        "system truth { coord a; L = a'^2/2 + cos(a); }
         system lnn { coord a; net f = mlp(in: 2, hidden: [8]); L = f(a, a'); }
         train lnn { data = sample(truth, n = 100, seed = 0, a = uniform(-1, 1)); steps = 5; }",
        &[],
    );
    let s = lagc::train::train_samples_per_s(&lnn, 1, None, Kind::Interp, 1, 3).unwrap();
    assert!(s.is_finite() && s > 0.0, "{s}");
}

#[test]
fn hamiltonian_models_on_lagrangian_data_canonical_and_velocity() {
    // Truth: L = m x'^2/2 - k x^2/2 with m = 2, k = 3. Canonical momenta p = m x' make
    // H = p^2/(2 m) + k x^2/2 exact (m = 2, k = 3); with p := x' the best H of this form
    // has m = 1 and k = k/m = 1.5.
    let src = "
system truth { coord x; param m = 2, k = 3; L = m*x'^2/2 - k*x^2/2; }
system ham { coord x; momentum p; learn m = 1.3, k = 1; H = p^2/(2*m) + k*x^2/2; }
train ham {
    data = sample(truth, n = 1000, seed = 2, x = uniform(-2, 2), x' = normal(0, 1));
    steps = 800; lr = 0.1; lr_decay = 0.001; MOMENTA
}
";
    for (momenta, m, k) in [("canonical", 2.0, 3.0), ("velocity", 1.0, 1.5)] {
        let s = src.replace("MOMENTA", &format!("momenta = {momenta};"));
        let mut tr = trainer(&s, "ham", 2);
        run(&mut tr);
        let l = tr.learns();
        assert!(
            (l[0].1 - m).abs() < 1e-3 && (l[1].1 - k).abs() < 1e-3,
            "{momenta}: {l:?}"
        );
    }
}

#[test]
fn fits_the_gravity_of_a_cartesian_pendulum_on_its_rod() {
    let src = ROD_SYSTEMS.to_string()
        + "
train fit {
    data = sample(truth, n = 2000, seed = 3, x = uniform(-1, 1), y = uniform(-1, 1),
                  x' = normal(0, 2), y' = normal(0, 2));
    steps = 3000; batch = 32; lr = 0.3; lr_decay = 1e-6; val = 0.1; seed = 4;
}
";
    let mut tr = trainer(&src, "fit", 2);
    // Sampled states are projected onto the rod and its velocity constraint (to 1e-9
    // relative, as an initial state).
    let d = tr.train_data();
    for r in 0..d.len() {
        let s = d.input(r);
        assert!((s[0] * s[0] + s[1] * s[1] - 0.64).abs() < 1e-8, "{s:?}");
        assert!((s[0] * s[2] + s[1] * s[3]).abs() < 1e-8, "{s:?}");
    }
    run(&mut tr);
    let g = tr.learns()[0].1;
    let last = tr.state.curve.last().unwrap();
    assert!((g - 9.81).abs() < 1e-6, "g = {g}");
    assert!(last.val_loss < 1e-10, "{last:?}");
    assert_eq!(tr.state.skipped_steps, 0);
}
