//! `sample::draw`: names, reproducibility, distribution moments, arrays, params and errors.

use crate::common;

use common::checked_model;
use lagc::check::{Model, RunSettings, SampleSpec, Source};
use lagc::sample::{draw, Rng};

fn spec_of(m: &Model, run: usize) -> SampleSpec {
    let s = match &m.runs[run].settings {
        RunSettings::Train(t) => &t.data,
        RunSettings::Simulate(s) => &s.init,
    };
    match s {
        Source::Sample(s) => s.clone(),
        other => panic!("not a sample: {other:?}"),
    }
}

const SRC: &str = "
system p { coord a, b; param g = 9.81; L = a'^2/2 + b'^2/2 - g*a; }
system chain { coord phi[4]; L = sum(i, phi'[i]^2/2); }
train p {
    data = sample(p, n = 20000, seed = 7, a = uniform(-1, 3), a' = normal(2, 0.5),
                  g = uniform(1, 2), t = 0.25);
    steps = 1;
}
simulate chain {
    init = sample(n = 3, seed = 1, phi[i] = i + uniform(0, 1), phi'[2] = 5);
    t_end = 1; dt = 0.1;
}
";

fn mean_var(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = xs.clone().count() as f64;
    let m = xs.clone().sum::<f64>() / n;
    (m, xs.map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0))
}

#[test]
fn names_moments_and_unset_zero() {
    let m = checked_model(SRC, &[]);
    let s = draw(&spec_of(&m, 0), &m.systems[0]).unwrap();
    assert_eq!(s.names, ["a", "b", "a'", "b'", "g", "t"]);
    assert_eq!(s.rows.len(), 20000);
    let col = |k: usize| s.rows.iter().map(move |r| r[k]);
    // uniform(-1, 3): mean 1, variance 16/12, within [-1, 3)
    let (ma, va) = mean_var(col(0));
    assert!((ma - 1.0).abs() < 0.05, "{ma}");
    assert!((va - 16.0 / 12.0).abs() < 0.05, "{va}");
    assert!(col(0).all(|x| (-1.0..3.0).contains(&x)));
    // normal(2, 0.5)
    let (mv, vv) = mean_var(col(2));
    assert!((mv - 2.0).abs() < 0.02, "{mv}");
    assert!((vv - 0.25).abs() < 0.01, "{vv}");
    // b and b' unspecified: 0; t constant
    assert!(col(1).all(|x| x == 0.0) && col(3).all(|x| x == 0.0));
    assert!(col(5).all(|x| x == 0.25));
    assert!(col(4).all(|x| (1.0..2.0).contains(&x)));
}

#[test]
fn same_seed_same_rows_other_seed_other_rows() {
    let m = checked_model(SRC, &[]);
    let spec = spec_of(&m, 0);
    let a = draw(&spec, &m.systems[0]).unwrap();
    assert_eq!(a, draw(&spec, &m.systems[0]).unwrap());
    let mut other = spec.clone();
    other.seed = 8;
    assert_ne!(a.rows[0], draw(&other, &m.systems[0]).unwrap().rows[0]);
}

#[test]
fn arrays_get_each_element_with_its_index() {
    let m = checked_model(SRC, &[]);
    let s = draw(&spec_of(&m, 1), &m.systems[1]).unwrap();
    assert_eq!(
        s.names,
        ["phi[0]", "phi[1]", "phi[2]", "phi[3]", "phi'[0]", "phi'[1]", "phi'[2]", "phi'[3]"]
    );
    for r in &s.rows {
        for i in 0..4 {
            assert!(r[i] >= i as f64 && r[i] < i as f64 + 1.0, "{r:?}");
        }
        assert_eq!(&r[4..], &[0.0, 0.0, 5.0, 0.0]);
    }
    // the four elements of a row are distinct draws
    assert!(s.rows[0][0].fract() != s.rows[0][1].fract());
}

#[test]
fn rng_is_the_documented_chacha8_stream() {
    // Independent check of the uniform mapping: 53-bit fractions of ChaCha8 words.
    use rand_chacha::rand_core::{Rng as _, SeedableRng};
    let mut raw = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut r = Rng::new(3);
    for _ in 0..10 {
        let u = (raw.next_u64() >> 11) as f64 / 9007199254740992.0;
        assert_eq!(r.unit(), u);
    }
    // below(n) is in range and roughly uniform
    let mut counts = [0usize; 5];
    for _ in 0..5000 {
        counts[r.below(5) as usize] += 1;
    }
    assert!(
        counts.iter().all(|&c| (850..1150).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn bad_values_are_located_errors() {
    let m = checked_model(
        "system p { coord a; L = a'^2; }
         train p { data = sample(p, n = 5, seed = 0, a = log(uniform(-2, -1))); steps = 1; }
         train p { data = sample(p, n = 5, seed = 0, a = uniform(2, uniform(0, 1))); steps = 1; }",
        &[],
    );
    let e = draw(&spec_of(&m, 0), &m.systems[0]).unwrap_err();
    assert!(e.message.contains("cannot sample `a`"), "{}", e.message);
    assert!(e.span.end > e.span.start);
    let e = draw(&spec_of(&m, 1), &m.systems[0]).unwrap_err();
    assert!(e.message.contains("reversed"), "{}", e.message);
    // Constant bounds are refused by the checker already (tests/it/checks.rs).
}
