//! The display simplifier (src/symbolic/simplify.rs) keeps every expression's value:
//! the simplified form and the shortest printed form agree with the original at random
//! points to 1e-12 relative to the largest intermediate magnitude, over every equation
//! of every example and over random expression trees.

use crate::common::{build, test_net, tree, T};
use lagc::driver::{derive_eom, Model};
use lagc::symbolic::eom::EomKind;
use lagc::symbolic::simplify::Simplifier;
use lagc::symbolic::{Dag, ExprId, NetFn, VarId};
use proptest::prelude::*;

/// A smooth stand-in for any net: the same value for the same call, whatever the names.
fn any_net(net: u32, out: u32, args: &[f64], partials: &[u32]) -> f64 {
    let s: f64 = args
        .iter()
        .enumerate()
        .map(|(k, a)| ((k + 1) as f64 * a).sin())
        .sum();
    s + f64::from(net) + f64::from(out) * 0.5 + partials.len() as f64 * 0.25
}

/// The largest magnitude of any node reachable from `id`.
fn scale(d: &Dag, id: ExprId, vars: &dyn Fn(VarId) -> f64, nets: &NetFn) -> f64 {
    d.reachable(&[id])
        .into_iter()
        .map(|n| d.eval(n, vars, nets).abs())
        .filter(|x| x.is_finite())
        .fold(1.0, f64::max)
}

/// Checks `simplified` against `original` at one point; `Err` says where they differ.
fn agree(
    d: &Dag,
    original: ExprId,
    simplified: ExprId,
    vars: &dyn Fn(VarId) -> f64,
    nets: &NetFn,
) -> Result<(), String> {
    let want = d.eval(original, vars, nets);
    if !want.is_finite() {
        return Ok(());
    }
    let got = d.eval(simplified, vars, nets);
    let tol = 1e-12 * scale(d, original, vars, nets).max(scale(d, simplified, vars, nets));
    if (got - want).abs() <= tol {
        Ok(())
    } else {
        Err(format!(
            "{got} vs {want}:\n  original   {}\n  simplified {}",
            d.to_text(original),
            d.to_text(simplified)
        ))
    }
}

/// A value for a variable, fixed by its name and the point: velocities in [-0.6, 0.6]
/// (the relativistic examples need |q'| < 1), other coordinates (plain, or lattice slots
/// `phi[i+1]`) in [-1, 1], t in [0, 1], everything else (params, learn params) in
/// [0.5, 1.5].
fn draw(name: &str, coords: &[String], point: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ point.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h ^= h >> 29;
    let u = (h >> 11) as f64 / (1u64 << 53) as f64;
    if name.contains('\'') {
        1.2 * u - 0.6
    } else if name == "t" {
        u
    } else if name.contains('[') || coords.iter().any(|c| c == name) {
        2.0 * u - 1.0
    } else {
        0.5 + u
    }
}

/// Every expression `lagc derive` prints for an example's system (unrolled or per site).
fn equations(d: &mut Dag, kind: &EomKind) -> Vec<ExprId> {
    match kind {
        EomKind::Lagrangian {
            l,
            dl_dq,
            dl_dv,
            hess,
            mixed,
            rhs,
            energy,
        } => [
            vec![*l, *energy],
            dl_dq.clone(),
            dl_dv.clone(),
            hess.clone(),
            mixed.clone(),
            rhs.clone(),
        ]
        .concat(),
        EomKind::Hamiltonian { h, dq, dp } => [vec![*h], dq.clone(), dp.clone()].concat(),
        EomKind::Accel(a) => a.clone(),
        EomKind::Lattice(lat) => {
            let eq = lat.per_index(d);
            let terms = lat
                .terms
                .iter()
                .flat_map(|t| [t.density, t.energy])
                .flatten();
            let hess = eq.hess.iter().map(|h| h.3);
            terms
                .chain(eq.dl_dq)
                .chain(eq.dl_dv)
                .chain(eq.rhs)
                .chain(hess)
                .collect()
        }
    }
}

#[test]
fn every_example_equation_keeps_its_value() {
    let mut checked = 0;
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "lag") {
            continue;
        }
        let model = Model::load(&path, &[]).expect("example checks");
        for name in model.system_names() {
            let mut eom = derive_eom(model.system_model(&name).unwrap(), None).unwrap();
            let coords = eom.q_names();
            let ids = equations(&mut eom.dag, &eom.kind);
            let d = &mut eom.dag;
            let mut simp = Simplifier::new();
            for id in ids {
                let s = simp.simplify(d, id);
                let short = simp.shortest(d, id);
                for point in 0..4 {
                    let vars = |v: VarId| draw(d.var_name(v), &coords, point);
                    for out in [s, short] {
                        if let Err(e) = agree(d, id, out, &vars, &any_net) {
                            panic!("{} / {name}: {e}", path.display());
                        }
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} equations");
}

fn setup(t: &T) -> (Dag, ExprId) {
    let mut d = Dag::new();
    let vars = vec![d.var("x"), d.var("y"), d.var("z")];
    let net = d.declare_net("f", 2, 1);
    let e = build(t, &mut d, &vars, net);
    (d, e)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn simplifying_random_expressions_keeps_their_value(
        t in tree(3),
        x in prop::array::uniform3(0.2..2.0f64),
    ) {
        let (mut d, e) = setup(&t);
        let mut simp = Simplifier::new();
        let s = simp.simplify(&mut d, e);
        let short = simp.shortest(&mut d, e);
        let vars = |v: VarId| x[v.0 as usize];
        for out in [s, short] {
            let agreed = agree(&d, e, out, &vars, &test_net);
            prop_assert!(agreed.is_ok(), "{}", agreed.unwrap_err());
        }
    }
}
