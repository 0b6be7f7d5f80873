//! Property tests: derivatives agree with finite differences, and the simplifying
//! builders never change an expression's value.

use crate::common;

use common::{build, naive, test_net, tree, T};
use lagc::symbolic::Dag;
use proptest::prelude::*;

fn setup(t: &T) -> (Dag, lagc::symbolic::ExprId, Vec<lagc::symbolic::ExprId>) {
    let mut d = Dag::new();
    let vars = vec![d.var("x"), d.var("y"), d.var("z")];
    let net = d.declare_net("f", 2, 1);
    let e = build(t, &mut d, &vars, net);
    (d, e, vars)
}

fn eval(d: &Dag, e: lagc::symbolic::ExprId, x: &[f64]) -> f64 {
    d.eval(e, &|v| x[v.0 as usize], &test_net)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn builders_preserve_value(t in tree(3), x in prop::array::uniform3(0.2..2.0f64)) {
        let (d, e, _) = setup(&t);
        let mut scale = 1.0;
        let want = naive(&t, &x, &mut scale);
        let got = eval(&d, e, &x);
        prop_assert!((got - want).abs() <= 1e-9 * scale, "{} vs {} for {}", got, want, d.to_text(e));
        prop_assert_eq!(d.verify(), Ok(()));
    }

    #[test]
    fn diff_matches_finite_differences(t in tree(3), x in prop::array::uniform3(0.2..2.0f64)) {
        let (mut d, e, vars) = setup(&t);
        for (k, &v) in vars.iter().enumerate() {
            let de = d.diff(e, v);
            let got = eval(&d, de, &x);
            let mut scale = 1.0;
            let mut central = |h: f64| {
                let (mut xp, mut xm) = (x, x);
                xp[k] += h;
                xm[k] -= h;
                (naive(&t, &xp, &mut scale) - naive(&t, &xm, &mut scale)) / (2.0 * h)
            };
            // Richardson: the O(h^2) error of central differences cancels, so rapidly
            // varying expressions (sin(x^6)) do not fail on the difference's own error
            let (f1, f2) = (central(1e-5), central(5e-6));
            let fd = (4.0 * f2 - f1) / 3.0;
            prop_assert!((got - fd).abs() <= 1e-6 * (1.0 + got.abs() + scale),
                "d/d{}: {} vs fd {} for {}", k, got, fd, d.to_text(e));
            // second derivative against differences of the first
            let dde = d.diff(de, v);
            let got2 = eval(&d, dde, &x);
            let central1 = |h: f64| {
                let (mut xp, mut xm) = (x, x);
                xp[k] += h;
                xm[k] -= h;
                (eval(&d, de, &xp) - eval(&d, de, &xm)) / (2.0 * h)
            };
            let fd2 = (4.0 * central1(5e-6) - central1(1e-5)) / 3.0;
            prop_assert!((got2 - fd2).abs() <= 1e-5 * (1.0 + got2.abs() + got.abs() + scale),
                "d2/d{}2: {} vs fd {}", k, got2, fd2);
        }
        prop_assert_eq!(d.verify(), Ok(()));
    }
}
