//! Array systems in loop form (site programs, scatter, banded solve) against
//! hand-derived equations and against the unrolled form, on both backends.

use crate::common;

use common::checked_model;
use lagc::backend::{self, Backend, Kind, SharedNets};
use lagc::kernel::{self, EomProgram};
use lagc::nn::SystemNets;
use lagc::symbolic::eom::Eom;
use std::sync::Arc;

/// A deterministic pseudo-random sequence in [-1, 1).
fn noise(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The kernel of system `name` of `src`: in loop form (asserting it is a lattice) or
/// unrolled (dense).
fn kernel_of(
    src: &str,
    name: &str,
    loop_form: bool,
    kind: Kind,
    nets: Option<SharedNets>,
) -> Box<dyn Backend + Send> {
    let m = checked_model(src, &[]);
    let sys = &m.systems[m.system_index(name).expect("system")];
    let mut eom = if loop_form {
        Eom::derive(sys)
    } else {
        Eom::derive_unrolled(sys)
    };
    let program = kernel::eom_program(&mut eom, true, true).unwrap();
    assert_eq!(
        matches!(program, EomProgram::Lattice(_)),
        loop_form,
        "{name}"
    );
    backend::create_eom(program, kind, nets)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

const CHAINS: &str = "
system ring {
    param N = 7, m = 1.3, k = 2.1;
    coord x[N] periodic;
    L = sum(i, m*x'[i]^2/2 - k*(x[i+1] - x[i])^2/2);
}
system walls {
    param N = 6, m = 0.7, k = 1.9;
    coord x[N];
    L = sum(i, m*x'[i]^2/2) - sum(i in 0..N-1, k*(x[i+1] - x[i])^2/2) - k*x[0]^2/2 - k*x[N-1]^2/2;
}
";

/// m x_i'' = k (x_{i+1} - 2 x_i + x_{i-1}), with x_{-1} = x_{N-1} (ring) or 0 (walls),
/// and E = sum m v^2/2 + the spring energies.
fn chain_case(name: &str, n: usize, m: f64, k: f64, ring: bool) {
    for kind in [Kind::Interp, Kind::Jit] {
        let mut be = kernel_of(CHAINS, name, true, kind, None);
        let mut rnd = noise(7);
        let mut out = vec![0.0; n + 1];
        for _ in 0..20 {
            let mut input: Vec<f64> = (0..2 * n).map(|_| 2.0 * rnd()).collect();
            input.push(0.0);
            be.eval(&input, &mut out).unwrap();
            let (x, v) = (&input[..n], &input[n..2 * n]);
            let at = |j: i64| -> f64 {
                if ring {
                    x[j.rem_euclid(n as i64) as usize]
                } else if (0..n as i64).contains(&j) {
                    x[j as usize]
                } else {
                    0.0
                }
            };
            let mut energy: f64 = v.iter().map(|v| m * v * v / 2.0).sum();
            for i in 0..n as i64 {
                let want = k / m * (at(i + 1) - 2.0 * at(i) + at(i - 1));
                assert!(
                    close(out[i as usize], want, 1e-12),
                    "{name} {kind:?} x''[{i}] = {} vs {want}",
                    out[i as usize]
                );
            }
            let springs = if ring { n as i64 } else { n as i64 + 1 };
            for s in 0..springs {
                let (a, b) = if ring {
                    (at(s), at(s + 1))
                } else {
                    (at(s - 1), at(s))
                };
                energy += k * (b - a) * (b - a) / 2.0;
            }
            assert!(
                close(out[n], energy, 1e-12),
                "{name} {kind:?} energy {} vs {energy}",
                out[n]
            );
        }
    }
}

#[test]
fn periodic_spring_chain_matches_hand_derived_forces() {
    chain_case("ring", 7, 1.3, 2.1, true);
}

#[test]
fn bounded_chain_with_walls_matches_hand_derived_forces() {
    chain_case("walls", 6, 0.7, 1.9, false);
}

/// Two fields, velocity coupling across sites (H not diagonal, band 3 wide), a force
/// and a dissipation function, a coordinate-free term and a learn param.
const COUPLED: &str = "
system coupled {
    param N = 9, b = 0.2;
    learn a = 0.3;
    coord x[N] periodic, y[N] periodic;
    L = sum(i, (2 + cos(x[i]))*x'[i]^2/2 + y'[i]^2/2 + a*x'[i]*y'[i+1]*cos(y[i])
               - (1 - cos(x[i+1] - x[i])) - x[i]^2*y[i]^2/2 + i*y[i]/N) + 3*a;
    dissipation = sum(i, b*(x'[i] - x'[i-1])^2/2);
    force y[i] = -b*sin(t)*y'[i];
}
";

#[test]
fn loop_form_matches_unrolled_form() {
    let n = 18;
    for kind in [Kind::Interp, Kind::Jit] {
        let mut lat = kernel_of(COUPLED, "coupled", true, kind, None);
        let mut dense = kernel_of(COUPLED, "coupled", false, kind, None);
        assert_eq!(lat.n_inputs(), dense.n_inputs());
        assert_eq!(lat.n_outputs(), n + 1);
        let mut rnd = noise(3);
        let (mut a, mut b) = (vec![0.0; n + 1], vec![0.0; n + 1]);
        for _ in 0..20 {
            let mut input: Vec<f64> = (0..2 * n).map(|_| rnd()).collect();
            input.push(0.8 * rnd()); // t
            input.push(0.3 + 0.1 * rnd()); // a
            lat.eval(&input, &mut a).unwrap();
            dense.eval(&input, &mut b).unwrap();
            for k in 0..=n {
                assert!(
                    close(a[k], b[k], 1e-10),
                    "{kind:?} output {k}: loop {} vs unrolled {}",
                    a[k],
                    b[k]
                );
            }
        }
    }
}

const LGN: &str = "
system lgn {
    param N = 12, dx = 1/N;
    coord phi[N] periodic;
    net density = mlp(in: 6, hidden: [16, 16], act: softplus);
    L = sum(i, density(phi[i-1], phi[i], phi[i+1], dx*phi'[i-1], dx*phi'[i], dx*phi'[i+1]))/dx
        + sum(i, phi'[i]^2/2);
}
";

#[test]
fn net_in_a_sum_matches_unrolled_form() {
    let m = checked_model(LGN, &[]);
    let nets: SharedNets = Arc::new(SystemNets::init(&m.systems[0], 1));
    let n = 12;
    for kind in [Kind::Interp, Kind::Jit] {
        let mut lat = kernel_of(LGN, "lgn", true, kind, Some(nets.clone()));
        let mut dense = kernel_of(LGN, "lgn", false, kind, Some(nets.clone()));
        let mut rnd = noise(11);
        let (mut a, mut b) = (vec![0.0; n + 1], vec![0.0; n + 1]);
        // A batch of 5 states through eval_batch.
        let rows: Vec<f64> = (0..5)
            .flat_map(|_| {
                let mut r: Vec<f64> = (0..2 * n).map(|_| rnd()).collect();
                r.push(0.0);
                r
            })
            .collect();
        let mut ya = vec![0.0; 5 * (n + 1)];
        lat.eval_batch(&rows, &mut ya).unwrap();
        for (s, row) in rows.chunks(2 * n + 1).enumerate() {
            lat.eval(row, &mut a).unwrap();
            dense.eval(row, &mut b).unwrap();
            for k in 0..=n {
                assert!(
                    close(a[k], b[k], 1e-9),
                    "{kind:?} state {s} output {k}: loop {} vs unrolled {}",
                    a[k],
                    b[k]
                );
                assert_eq!(a[k], ya[s * (n + 1) + k], "eval_batch equals eval");
            }
        }
    }
}

/// A large ring: derived, lowered and evaluated without unrolling (the site program is
/// the same as for 7 sites), with the hand-derived forces.
#[test]
fn large_ring_is_not_unrolled() {
    let src = CHAINS.replace("N = 7", "N = 200000");
    let m = checked_model(&src, &[]);
    let small = checked_model(CHAINS, &[]);
    let mut eom = Eom::derive(&m.systems[0]);
    let mut small_eom = Eom::derive(&small.systems[0]);
    let p = kernel::eom_program(&mut eom, true, true).unwrap();
    let q = kernel::eom_program(&mut small_eom, true, true).unwrap();
    assert_eq!(p.n_instructions(), q.n_instructions());
    assert!(eom.dag.len() < 200, "DAG of {} nodes", eom.dag.len());
    let n = 200_000;
    let mut be = backend::create_eom(p, Kind::Jit, None);
    let mut input: Vec<f64> = (0..n).map(|j| (j as f64 * 0.001).sin()).collect();
    input.extend(std::iter::repeat_n(0.0, n + 1));
    let mut out = vec![0.0; n + 1];
    be.eval(&input, &mut out).unwrap();
    let (m_, k) = (1.3, 2.1);
    for i in [0usize, 1, 777, n - 1] {
        let x = |j: i64| input[j.rem_euclid(n as i64) as usize];
        let i = i as i64;
        let want = k / m_ * (x(i + 1) - 2.0 * x(i) + x(i - 1));
        assert!(
            close(out[i as usize], want, 1e-9),
            "x''[{i}] = {} vs {want}",
            out[i as usize]
        );
    }
}

/// One random summand of a site density: `kind` picks the shape, `o` the offsets (in
/// -2..=2) and `c` a coefficient in [-1, 1]. Velocity terms are scaled small so that the
/// kinetic `3*x'[i]^2/2` keeps H diagonally dominant.
fn summand(kind: u8, o: [i64; 3], c: f64, f: &str) -> String {
    let s = |k: usize| match o[k] {
        0 => "i".to_string(),
        d if d > 0 => format!("i+{d}"),
        d => format!("i{d}"),
    };
    match kind % 6 {
        0 => format!("{c}*cos({f}[{}] - {f}[{}])", s(0), s(1)),
        1 => format!("{c}*{f}[{}]*{f}[{}]", s(0), s(1)),
        2 => format!("0.2*{c}*{f}'[{}]*{f}'[{}]*cos({f}[{}])", s(0), s(1), s(2)),
        3 => format!("{c}*sin({f}[{}])*{f}'[{}]", s(0), s(1)),
        4 => format!("{c}*{f}[{}]^2*{f}[{}]^2/4", s(0), s(1)),
        _ => format!("0.1*{c}*sin(t)*{f}[{}]*{f}'[{}]*i/N", s(0), s(1)),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Random lattices (one or two fields, periodic or bounded, stencils up to +-2,
    /// velocity couplings, explicit time and index dependence): the loop form gives the
    /// unrolled form's q'' and energy.
    #[test]
    fn random_lattices_match_unrolled(
        n in 5usize..11,
        periodic in proptest::bool::ANY,
        two in proptest::bool::ANY,
        terms in proptest::collection::vec(
            (0u8..6, [-2i64..=2, -2i64..=2, -2i64..=2], -1.0f64..1.0, proptest::bool::ANY),
            1..5,
        ),
        seed in 0u64..1000,
    ) {
        let boundary = if periodic { " periodic" } else { "" };
        let fields = if two {
            format!("x[N]{boundary}, y[N]{boundary}")
        } else {
            format!("x[N]{boundary}")
        };
        let range = if periodic { "i" } else { "i in 2..N-2" };
        let body: Vec<String> = terms
            .iter()
            .map(|&(k, o, c, second)| summand(k, o, (c * 1000.0).round() / 1000.0, if two && second { "y" } else { "x" }))
            .collect();
        let kinetic = if two { "3*x'[i]^2/2 + 3*y'[i]^2/2 + 0.1*x'[i]*y'[i]" } else { "3*x'[i]^2/2" };
        let src = format!(
            "system s {{ param N = {n}; coord {fields};\n L = sum(i, {kinetic}) + sum({range}, {}); }}",
            body.join(" + ")
        );
        let dof = n * if two { 2 } else { 1 };
        let mut lat = kernel_of(&src, "s", true, Kind::Interp, None);
        let mut dense = kernel_of(&src, "s", false, Kind::Interp, None);
        let mut rnd = noise(seed);
        let (mut a, mut b) = (vec![0.0; dof + 1], vec![0.0; dof + 1]);
        for _ in 0..3 {
            let mut input: Vec<f64> = (0..2 * dof).map(|_| rnd()).collect();
            input.push(rnd()); // t
            lat.eval(&input, &mut a).unwrap();
            dense.eval(&input, &mut b).unwrap();
            for k in 0..=dof {
                proptest::prop_assert!(
                    close(a[k], b[k], 1e-9),
                    "{src}\noutput {k}: loop {} vs unrolled {}", a[k], b[k]
                );
            }
        }
    }
}

/// `lagc derive` of a bounded chain prints the equations at index i (the interior
/// forces by hand: k (x[i+1] + x[i-1] - 2 x[i])), and L and the energy with every
/// term's range, boundary terms included.
#[test]
fn derive_prints_the_row_at_index_i() {
    let m = checked_model(CHAINS, &[]);
    let sys = &m.systems[m.system_index("walls").unwrap()];
    let mut d = lagc::driver::derive::Derivation::new(sys, Eom::derive(sys));
    let text = lagc::driver::derive::render(&mut d, lagc::driver::derive::Style::Text);
    for line in [
        "L = sum(i, 0.35*x'[i]^2) + sum(i in 0..5, -0.95*(x[i+1] - x[i])^2) - 0.95*x[0]^2 - 0.95*x[5]^2",
        "dL/dx[i] = 1.9*x[i+1] + 1.9*x[i-1] - 3.8*x[i]",
        "H[x'[i], x'[i]] = d2L/dx'[i]dx'[i] = 0.7",
        "energy = sum(i, 0.35*x'[i]^2) + sum(i in 0..5, 0.95*(x[i+1] - x[i])^2) + 0.95*x[0]^2 + 0.95*x[5]^2",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
}

/// Index expressions of every kind the language allows (affine or not, constant,
/// nested sums, `i` as a number): whatever form lagc picks, loop or unrolled, it
/// evaluates to the unrolled form's numbers, and nothing panics.
#[test]
fn any_index_expression_gives_the_unrolled_numbers() {
    let pieces = [
        "x[i+1]*x[i-1]",
        "x[2*i]^2",
        "x[N-1-i]*x'[i]",
        "x[3]*x[i]",
        "sum(j in 0..3, x[i+j]*x'[i+j-1])",
        "i*x[i]/N",
        "cos(x[i] - x[i+2])",
        "x'[i+1]*x'[i]*0.1",
        "x[i*i]",
    ];
    let mut rnd = noise(5);
    for (a, pa) in pieces.iter().enumerate() {
        for pb in &pieces[a..] {
            let src = format!(
                "system s {{ param N = 7; coord x[N] periodic;\n L = sum(i, 2*x'[i]^2) + sum(i, {pa}) - 0.5*sum(i, {pb}); }}"
            );
            let m = checked_model(&src, &[]);
            let sys = &m.systems[0];
            let loop_form = Eom::derive_lattice(sys).is_some();
            let mut be = kernel_of(&src, "s", loop_form, Kind::Interp, None);
            let mut dense = kernel_of(&src, "s", false, Kind::Interp, None);
            let mut input: Vec<f64> = (0..14).map(|_| rnd()).collect();
            input.push(0.0);
            let (mut y, mut z) = (vec![0.0; 8], vec![0.0; 8]);
            be.eval(&input, &mut y).unwrap();
            dense.eval(&input, &mut z).unwrap();
            for k in 0..8 {
                assert!(
                    close(y[k], z[k], 1e-9),
                    "{src}\noutput {k}: {} vs {}",
                    y[k],
                    z[k]
                );
            }
            let affine = |p: &str| {
                !["2*i", "N-1-i", "i*i", "x[3]"]
                    .iter()
                    .any(|s| p.contains(s))
            };
            assert_eq!(loop_form, affine(pa) && affine(pb), "{src}");
        }
    }
}

/// A singular H (x[2] = 0 zeroes its diagonal entry): a small lattice reports it and
/// falls back to the pseudo-inverse, giving the unrolled form's numbers.
#[test]
fn singular_mass_matrix_falls_back_like_the_dense_form() {
    let src = "system s { param N = 5; coord x[N] periodic;
        L = sum(i, x[i]^2*x'[i]^2/2 + x'[i]*x'[i+1]*x[i]^2*x[i+1]^2/4 - (x[i+1] - x[i])^2/2); }";
    for kind in [Kind::Interp, Kind::Jit] {
        let mut lat = kernel_of(src, "s", true, kind, None);
        let mut dense = kernel_of(src, "s", false, kind, None);
        let input = [0.3, -0.7, 0.0, 0.9, 0.4, 0.1, 0.2, -0.3, 0.5, -0.6, 0.0];
        let (mut a, mut b) = (vec![0.0; 6], vec![0.0; 6]);
        assert_eq!(lat.eval(&input, &mut a).unwrap().singular, 1);
        assert_eq!(dense.eval(&input, &mut b).unwrap().singular, 1);
        for k in 0..6 {
            assert!(
                a[k].is_finite() && close(a[k], b[k], 1e-9),
                "output {k}: loop {} vs unrolled {}",
                a[k],
                b[k]
            );
        }
    }
}
