//! Vectors in `.lag` (docs/language.md, "Vectors and positions"): the lowered scalars
//! against independent forms of the same mechanics, on both backends.
//!
//! - the double pendulum written with positions (examples/double_pendulum_vec.lag)
//!   against the angle form (examples/double_pendulum.lag) and the SymPy reference;
//! - the velocity `p'` of a `let` against the hand-derived chain rule and against a
//!   central difference of `p` along the motion;
//! - the charged particle (examples/charged_particle.lag, `cross` and `norm`) against
//!   the Lorentz force written out by hand;
//! - vector components built from array sums against the same sums written as scalars.

use lagc::driver::{Backend, Model, System, Times};
use ndarray::Array2;
use std::path::Path;

const BACKENDS: [Backend; 2] = [Backend::Interp, Backend::Jit];

/// Unequal masses and lengths, so that no term hides behind a factor of 1.
const DOUBLE_PENDULUM_SET: [(&str, f64); 5] = [
    ("m1", 1.3),
    ("m2", 0.7),
    ("l1", 1.1),
    ("l2", 0.8),
    ("g", 9.81),
];

/// A small deterministic generator of uniform numbers in [lo, hi).
struct Draws(u64);

impl Draws {
    fn next(&mut self, lo: f64, hi: f64) -> f64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        lo + (hi - lo) * (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` rows of `w` numbers in [lo, hi).
    fn states(&mut self, n: usize, w: usize, lo: f64, hi: f64) -> Array2<f64> {
        Array2::from_shape_fn((n, w), |_| self.next(lo, hi))
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

fn overrides(set: &[(&str, f64)]) -> Vec<(String, f64)> {
    set.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

fn load(path: &str, set: &[(&str, f64)]) -> Model {
    Model::load(Path::new(path), &overrides(set)).unwrap_or_else(|e| panic!("{e:?}"))
}

fn system(m: &Model, name: &str, backend: Backend) -> System {
    m.system(name, backend)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// Kernel outputs (q'' then energy, or the accel expressions) of `sys` at `states`.
fn outputs(sys: &System, states: &Array2<f64>, t: Times) -> Array2<f64> {
    let (out, singular) = sys.eval(states.view(), t).expect("evaluates");
    assert_eq!(singular, 0, "{}: singular mass matrix", sys.name());
    out
}

/// Asserts that two output tables agree entry by entry.
fn assert_tables_close(what: &str, got: &Array2<f64>, want: &Array2<f64>, rel: f64) {
    assert_eq!(got.dim(), want.dim(), "{what}: shapes");
    for ((i, j), &w) in want.indexed_iter() {
        let g = got[(i, j)];
        assert!(
            close(g, w, rel),
            "{what}: row {i} column {j}: {g} but the reference gives {w}"
        );
    }
}

#[test]
fn vec_double_pendulum_equals_the_angle_form() {
    let set = DOUBLE_PENDULUM_SET;
    let angles = load("examples/double_pendulum.lag", &set);
    let vectors = load("examples/double_pendulum_vec.lag", &set);
    let states = Draws(20).states(50, 4, -3.0, 3.0);
    for backend in BACKENDS {
        let want = outputs(
            &system(&angles, "double_pendulum", backend),
            &states,
            Times::Zero,
        );
        let got = outputs(
            &system(&vectors, "double_pendulum_vec", backend),
            &states,
            Times::Zero,
        );
        // q'' (two columns) and the energy.
        assert_tables_close(&format!("{backend:?}"), &got, &want, 1e-12);
    }
}

#[test]
fn vec_double_pendulum_matches_the_sympy_reference() {
    let table =
        lagc::report::csv::read_table(Path::new("tests/data/reference/double_pendulum.csv"))
            .expect("reference table");
    let names = ["t1", "t2", "t1'", "t2'", "t1''", "t2''", "energy"];
    let cols = table.require_columns(&names.map(String::from)).unwrap();
    let column = |k: usize| table.rows.iter().map(|r| r[cols[k]]).collect::<Vec<_>>();
    let n = table.rows.len();
    let states = Array2::from_shape_fn((n, 4), |(i, j)| column(j)[i]);
    let want = Array2::from_shape_fn((n, 3), |(i, j)| column(4 + j)[i]);
    let m = load("examples/double_pendulum_vec.lag", &[]);
    for backend in BACKENDS {
        let got = outputs(
            &system(&m, "double_pendulum_vec", backend),
            &states,
            Times::Zero,
        );
        assert_tables_close(&format!("{backend:?}"), &got, &want, 1e-10);
    }
}

/// An `accel` system whose "accelerations" are the velocity p' of a time-dependent
/// position p, and one whose are p itself.
const MOVING_POINT: &str = "
system velocity {
    coord a, b;
    param l = 1.3, w = 0.7;
    let p = vec(l*sin(a) + b^2, b*cos(a) + sin(w*t));
    accel a = p'[0], b = p'[1];
}
system position {
    coord a, b;
    param l = 1.3, w = 0.7;
    let p = vec(l*sin(a) + b^2, b*cos(a) + sin(w*t));
    accel a = p[0], b = p[1];
}
";

/// p' by hand: d/dt (l sin a + b^2, b cos a + sin(w t)).
fn moving_point_velocity(a: f64, b: f64, da: f64, db: f64, t: f64) -> [f64; 2] {
    let (l, w) = (1.3, 0.7);
    [
        l * a.cos() * da + 2.0 * b * db,
        db * a.cos() - b * a.sin() * da + w * (w * t).cos(),
    ]
}

#[test]
fn let_velocity_is_the_chain_rule() {
    let m = Model::loads(MOVING_POINT, "moving.lag", &[]).expect("checks");
    let mut draws = Draws(7);
    let states = draws.states(50, 4, -2.0, 2.0);
    let times: Vec<f64> = (0..50).map(|_| draws.next(-5.0, 5.0)).collect();
    for backend in BACKENDS {
        let got = outputs(
            &system(&m, "velocity", backend),
            &states,
            Times::Each(times.clone()),
        );
        for (i, s) in states.outer_iter().enumerate() {
            let want = moving_point_velocity(s[0], s[1], s[2], s[3], times[i]);
            for k in 0..2 {
                assert!(
                    close(got[(i, k)], want[k], 1e-13),
                    "{backend:?} row {i}: p'[{k}] = {} but by hand {}",
                    got[(i, k)],
                    want[k]
                );
            }
        }
    }
}

#[test]
fn let_velocity_matches_a_central_difference_along_the_motion() {
    let m = Model::loads(MOVING_POINT, "moving.lag", &[]).expect("checks");
    let mut draws = Draws(11);
    let states = draws.states(50, 4, -2.0, 2.0);
    let times: Vec<f64> = (0..50).map(|_| draws.next(-5.0, 5.0)).collect();
    let h = 1e-5;
    // The state moved by +-h along q' (and t by +-h): p there, by the `position` system.
    let shifted = |sign: f64| {
        let mut s = states.clone();
        for mut row in s.outer_iter_mut() {
            row[0] += sign * h * row[2];
            row[1] += sign * h * row[3];
        }
        let t: Vec<f64> = times.iter().map(|t| t + sign * h).collect();
        (s, t)
    };
    let ((ahead, t_ahead), (behind, t_behind)) = (shifted(1.0), shifted(-1.0));
    for backend in BACKENDS {
        let position = system(&m, "position", backend);
        let p_ahead = outputs(&position, &ahead, Times::Each(t_ahead.clone()));
        let p_behind = outputs(&position, &behind, Times::Each(t_behind.clone()));
        let rate = outputs(
            &system(&m, "velocity", backend),
            &states,
            Times::Each(times.clone()),
        );
        for i in 0..states.nrows() {
            for k in 0..2 {
                let fd = (p_ahead[(i, k)] - p_behind[(i, k)]) / (2.0 * h);
                assert!(
                    close(rate[(i, k)], fd, 1e-8),
                    "{backend:?} row {i}: p'[{k}] = {} but the central difference gives {fd}",
                    rate[(i, k)]
                );
            }
        }
    }
}

/// q'' = (e r' x B - k r/|r|^3)/m with the params of examples/charged_particle.lag.
fn lorentz_accel(s: &[f64]) -> [f64; 3] {
    let (m, e, k) = (1.0, 1.0, 1.0);
    let b = [0.2, -0.1, 1.0];
    let (r, v) = ([s[0], s[1], s[2]], [s[3], s[4], s[5]]);
    let vxb = [
        v[1] * b[2] - v[2] * b[1],
        v[2] * b[0] - v[0] * b[2],
        v[0] * b[1] - v[1] * b[0],
    ];
    let r3 = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).powf(1.5);
    [0, 1, 2].map(|i| (e * vxb[i] - k * r[i] / r3) / m)
}

#[test]
fn charged_particle_follows_the_lorentz_force() {
    let m = load("examples/charged_particle.lag", &[]);
    let states = Draws(3).states(50, 6, -2.0, 2.0);
    for backend in BACKENDS {
        let got = outputs(
            &system(&m, "charged_particle", backend),
            &states,
            Times::Zero,
        );
        for (i, s) in states.outer_iter().enumerate() {
            let s = s.to_vec();
            let want = lorentz_accel(&s);
            // The magnetic term does no work: E = m/2 |r'|^2 - k/|r|.
            let v2 = s[3] * s[3] + s[4] * s[4] + s[5] * s[5];
            let r = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
            let energy = v2 / 2.0 - 1.0 / r;
            for (k, w) in want.into_iter().chain([energy]).enumerate() {
                assert!(
                    close(got[(i, k)], w, 1e-12),
                    "{backend:?} row {i} column {k}: {} but by hand {w}",
                    got[(i, k)]
                );
            }
        }
    }
}

/// The centre of mass and the second moment of a chain as a vector of sums, and the
/// same with their velocities written by hand.
const CHAIN: &str = "
system with_vec {
    coord x[4];
    param k = 2;
    let c = vec(sum(i, x[i])/4, sum(i, x[i]^2)/4);
    L = sum(i, x'[i]^2)/2 + dot(c', c') - k*sum(i in 0..3, (x[i+1] - x[i])^2)/2 - c[1];
}
system by_hand {
    coord x[4];
    param k = 2;
    let c0 = sum(i, x'[i])/4;
    let c1 = sum(i, 2*x[i]*x'[i])/4;
    L = sum(i, x'[i]^2)/2 + c0^2 + c1^2 - k*sum(i in 0..3, (x[i+1] - x[i])^2)/2
        - sum(i, x[i]^2)/4;
}
";

#[test]
fn vector_components_from_array_sums() {
    let m = Model::loads(CHAIN, "chain.lag", &[]).expect("checks");
    let states = Draws(5).states(50, 8, -1.5, 1.5);
    for backend in BACKENDS {
        let want = outputs(&system(&m, "by_hand", backend), &states, Times::Zero);
        let got = outputs(&system(&m, "with_vec", backend), &states, Times::Zero);
        assert_tables_close(&format!("{backend:?}"), &got, &want, 1e-11);
    }
}

#[test]
fn vector_lets_lower_to_one_scalar_let_per_component() {
    let m = Model::loads(CHAIN, "chain.lag", &[]).expect("checks");
    let sys = m.system_model("with_vec").expect("system");
    let names: Vec<&str> = sys.lets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["c[0]", "c[1]"]);
}

/// A lattice whose coefficient is the speed of a moving point that does not depend on
/// the coordinates, and the same coefficient written out by hand.
const DRIVEN_LATTICE: &str = "
system with_vec {
    coord phi[6] periodic;
    param w = 1.7;
    let s = vec(sin(w*t), t^2);
    L = (2 + dot(s', s'))*sum(i, phi'[i]^2/2 - (phi[i+1] - phi[i])^2/2);
}
system by_hand {
    coord phi[6] periodic;
    param w = 1.7;
    L = (2 + (w*cos(w*t))^2 + (2*t)^2)*sum(i, phi'[i]^2/2 - (phi[i+1] - phi[i])^2/2);
}
";

#[test]
fn coordinate_free_let_velocity_keeps_the_loop_form() {
    let m = Model::loads(DRIVEN_LATTICE, "driven.lag", &[]).expect("checks");
    let states = Draws(9).states(20, 12, -1.0, 1.0);
    for backend in BACKENDS {
        let with_vec = system(&m, "with_vec", backend);
        let eom = with_vec.derive_eom(None).expect("derives");
        assert!(eom.lattice().is_some(), "derived in loop form");
        let want = outputs(&system(&m, "by_hand", backend), &states, Times::One(0.7));
        let got = outputs(&with_vec, &states, Times::One(0.7));
        assert_tables_close(&format!("{backend:?}"), &got, &want, 1e-12);
    }
}
