//! `lagc derive` as a physicist reads it (params as symbols, explicit q'' for small
//! blocks of H, a singular H named instead of printed as `inf`, equations simplified:
//! like terms collected, common factors cancelled, sin^2 + cos^2 = 1, exact fractions),
//! and `--quiet`, which silences progress but never warnings.

use crate::common::lagc_in;
use lagc::driver::{DeriveStyle, Model};

fn model(src: &str) -> Model {
    Model::loads(src, "t.lag", &[]).expect("checks")
}

fn text(src: &str, sys: &str) -> String {
    model(src)
        .derive_text(sys, DeriveStyle::Text)
        .expect("derives")
}

const PENDULUM: &str =
    "system p { coord theta; param g = 9.81, l = 2; L = l^2*theta'^2/2 + g*l*cos(theta); }";

#[test]
fn params_print_as_symbols_with_values_listed_once() {
    let out = text(PENDULUM, "p");
    assert!(out.contains("  params: g = 9.81, l = 2\n"), "{out}");
    assert!(out.contains("theta'' = -g*sin(theta)/l"), "{out}");
    assert_eq!(out.matches("9.81").count(), 1, "{out}");
}

/// A charge in a uniform magnetic field B along z, with A = B/2*(-y, x, 0): the
/// magnetic terms cancel in the energy, which prints as the kinetic energy alone.
const CHARGE: &str = "system charge {
    coord x, y, z;
    param m = 1, q = 1, B = 1.5;
    let Ax = -B/2*y;
    let Ay = B/2*x;
    let Az = 0;
    L = m/2*(x'^2 + y'^2 + z'^2) + q*(Ax*x' + Ay*y' + Az*z');
}";

/// The line `  NAME = ...` of a derivation.
fn line<'a>(out: &'a str, name: &str) -> &'a str {
    let key = format!("  {name} = ");
    out.lines()
        .find_map(|l| l.strip_prefix(&key))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

#[test]
fn a_charge_energy_collects_to_the_kinetic_energy() {
    let out = text(CHARGE, "charge");
    assert_eq!(
        line(&out, "energy"),
        "m*x'^2/2 + m*y'^2/2 + m*z'^2/2",
        "{out}"
    );
    assert_eq!(line(&out, "x''"), "y'*q*B/m", "{out}");
    assert_eq!(line(&out, "M[x', y] = d2L/dx'dy"), "-q*B/2", "{out}");
}

/// A damped oscillator as exp(0.2 t) times L0: the factor cancels from q''.
#[test]
fn common_factors_cancel_in_ratios() {
    let src = "system d { coord x; param m = 1, k = 1; L = exp(0.2*t)*(m*x'^2/2 - k*x^2/2); }";
    let out = text(src, "d");
    let before = "(-x*exp(0.2*t)*k - 0.2*x'*exp(0.2*t)*m)/(exp(0.2*t)*m)";
    assert!(!out.contains(before), "{out}");
    assert_eq!(line(&out, "x''"), "-0.2*x' - x*k/m", "{out}");
    let cancel = "system c { coord x; L = exp(0.2*t)/exp(t/5)*x'^2/2 - x^2/2; }";
    assert_eq!(line(&text(cancel, "c"), "L"), "x'^2/2 - x^2/2");
}

#[test]
fn sin_squared_plus_cos_squared_is_one() {
    let src = "system s { coord x, y; L = (sin(y)^2 + cos(y)^2)*x'^2/2 + y'^2/2 - x^2/2 - y^2/2; }";
    let out = text(src, "s");
    assert_eq!(line(&out, "L"), "y'^2/2 + x'^2/2 - x^2/2 - y^2/2", "{out}");
    assert_eq!(line(&out, "x''"), "-x", "{out}");
    // 1 - cos^2 is sin^2 (the double pendulum's determinant)
    let dp = text(
        &std::fs::read_to_string("examples/double_pendulum.lag").unwrap(),
        "double_pendulum",
    );
    assert!(
        line(&dp, "t1''").ends_with("/(m1*l1^2*m2*l2^2 + l1^2*l2^2*m2^2*sin(t1 - t2)^2)"),
        "{dp}"
    );
}

/// Numbers that are exactly small fractions print as fractions (powers of two and
/// non-terminating decimals in the denominator); others as their shortest decimal.
#[test]
fn exact_fractions_print_as_fractions() {
    let src = "system r { coord x; param k = 0.2; L = x'^2/3 - k*x^2/2 + 0.1*x; }";
    let out = text(src, "r");
    assert_eq!(line(&out, "L"), "x'^2/3 - k*x^2/2 + 0.1*x", "{out}");
    assert_eq!(line(&out, "H[x', x'] = d2L/dx'dx'"), "2/3", "{out}");
    assert_eq!(line(&out, "x''"), "0.15 - 3*x*k/2", "{out}");
}

/// The kernel keeps folded numbers: q'' = -(9.81/2) sin(theta), bit for bit.
#[test]
fn kernels_keep_folded_numbers() {
    let m = model(PENDULUM);
    let s = m.system("p", lagc::Backend::Interp).unwrap();
    let a = s.accel(ndarray::array![[0.3, 0.0]].view(), None).unwrap();
    assert_eq!(a[[0, 0]], -4.905 * 0.3f64.sin());
}

/// `--set` overrides show in the listed values, not in the equations.
#[test]
fn overrides_show_in_the_values() {
    let m = Model::loads(PENDULUM, "t.lag", &[("g".into(), 1.62)]).unwrap();
    let out = m.derive_text("p", DeriveStyle::Text).unwrap();
    assert!(out.contains("params: g = 1.62, l = 2"), "{out}");
    assert!(out.contains("theta'' = -g*sin(theta)/l"), "{out}");
}

/// H block-diagonal with blocks of 2 and 1 (three coordinates): explicit q'' for each,
/// checked against the hand-solved system a'' = 2(b - a)/(m - 1),
/// b'' = 2(a - m b)/(m - 1), c'' = -c.
#[test]
fn explicit_accelerations_for_small_blocks_beyond_two_dof() {
    let src = "system d { coord a, b, c; param m = 2; L = m*a'^2/2 + b'^2/2 + c'^2 + a'*b' - a^2 - b^2 - c^2; }";
    let out = text(src, "d");
    assert!(out.contains("a'' = (2*b - 2*a)/(m - 1)"), "{out}");
    assert!(out.contains("b'' = (2*a - 2*b*m)/(m - 1)"), "{out}");
    assert!(out.contains("c'' = -c"), "{out}");
    let s = model(src).system("d", lagc::Backend::Interp).unwrap();
    let (a, b, c) = (0.3, -0.2, 0.7);
    let acc = s
        .accel(ndarray::array![[a, b, c, 0.0, 0.0, 0.0]].view(), None)
        .unwrap();
    let expect = [2.0 * (b - a), 2.0 * (a - 2.0 * b), -c];
    for (k, e) in expect.iter().enumerate() {
        assert!(
            (acc[[0, k]] - e).abs() < 1e-14,
            "{k}: {} vs {e}",
            acc[[0, k]]
        );
    }
}

#[test]
fn a_singular_mass_matrix_is_named_not_printed_as_inf() {
    let src = "system s { coord x, y; L = (x' + y')^2/2 - x^2/2 - y^2/2; }\n\
               system z { coord x, y; L = x'^2/2 - x^2/2 - y^2; }";
    let s = text(src, "s");
    assert!(
        s.contains("warning: the mass matrix is singular: the block of d2L/dq'dq' for x, y has rank 1 of 2"),
        "{s}"
    );
    assert!(s.contains("q'' = H^+ r"), "{s}");
    assert!(!s.contains("inf"), "{s}");
    // A mass matrix with an identically zero row (a degenerate L) is an error naming it.
    let z = model(src).derive_text("z", DeriveStyle::Text).unwrap_err();
    assert!(
        z.message.contains("the row of `y` in the mass matrix"),
        "{z}"
    );
    let json = model(src).derive_json("s").unwrap();
    assert_eq!(json["accel"], "H^+ rhs");
    assert!(json["singular"].as_str().unwrap().contains("rank 1 of 2"));
}

/// `--quiet` drops progress, never the pseudo-inverse warning.
#[test]
fn quiet_keeps_warnings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.lag"),
        "system s { coord x, y; L = (x' + y')^2/2 - x^2/2 - y^2/2; }\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("st.csv"), "x,y,x',y'\n0.1,0.2,0,0\n").unwrap();
    let args = ["accel", "s.lag", "--system", "s", "--states", "st.csv"];
    for quiet in [false, true] {
        let mut a = args.to_vec();
        if quiet {
            a.push("--quiet");
        }
        let o = lagc_in(dir.path(), &a);
        assert_eq!(o.status.code(), Some(0));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("singular") && err.contains("pseudo-inverse"),
            "quiet={quiet}: {err}"
        );
    }
}
