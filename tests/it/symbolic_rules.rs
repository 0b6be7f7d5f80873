//! Simplification, derivative and printing rules of the expression DAG, one per line.

use lagc::symbolic::{Dag, ExprId, Func};

/// Parses nothing: a tiny helper set for building expressions tersely.
struct B {
    d: Dag,
}

impl B {
    fn new() -> B {
        B { d: Dag::new() }
    }
    fn v(&mut self, n: &str) -> ExprId {
        self.d.var(n)
    }
    fn n(&mut self, c: f64) -> ExprId {
        self.d.num(c)
    }
    fn t(&self, e: ExprId) -> String {
        self.d.to_text(e)
    }
}

#[test]
fn hash_consing_returns_same_id() {
    let mut b = B::new();
    let x = b.v("x");
    assert_eq!(x, b.v("x"));
    let s1 = b.d.func(Func::Sin, x);
    let s2 = b.d.func(Func::Sin, x);
    assert_eq!(s1, s2);
    let y = b.v("y");
    assert_eq!(b.d.add(x, y), b.d.add(y, x));
    assert_eq!(b.d.mul(x, y), b.d.mul(y, x));
    assert_eq!(b.n(-0.0), b.n(0.0));
    let len = b.d.len();
    let _ = b.d.mul(y, x);
    assert_eq!(len, b.d.len());
}

#[test]
fn simplification_rules() {
    let mut b = B::new();
    let x = b.v("x");
    let y = b.v("y");
    let (zero, one, two, three) = (b.n(0.0), b.n(1.0), b.n(2.0), b.n(3.0));
    assert_eq!(b.d.mul(x, zero), zero);
    assert_eq!(b.d.mul(x, one), x);
    assert_eq!(b.d.add(x, zero), x);
    assert_eq!(b.d.pow(x, one), x);
    assert_eq!(b.d.pow(x, zero), one);
    let nx = b.d.neg(x);
    assert_eq!(b.d.neg(nx), x);
    assert_eq!(b.d.add(two, three), b.n(5.0));
    let xx = b.d.add(x, x);
    assert_eq!(xx, b.d.mul(two, x));
    let tx = b.d.mul(two, x);
    assert_eq!(b.d.sub(tx, tx), zero);
    let x2 = b.d.pow(x, two);
    assert_eq!(b.d.mul(x, x), x2);
    assert_eq!(b.d.div(x2, x), x);
    assert_eq!(b.d.div(x, x), one);
    let x3 = b.d.pow(x, three);
    let six = b.n(6.0);
    let x6 = b.d.pow(x, six);
    assert_eq!(b.d.pow(x3, two), x6);
    let sqrt = b.d.func(Func::Sqrt, x);
    assert_eq!(b.d.mul(sqrt, sqrt), x);
    // flattening: (x + y) + x == 2x + y
    let xy = b.d.add(x, y);
    let lhs = b.d.add(xy, x);
    let rhs = b.d.add(tx, y);
    assert_eq!(lhs, rhs);
    // constant folding through functions and powers
    let c = b.d.func(Func::Cos, zero);
    assert_eq!(c, one);
    let m2 = b.n(-2.0);
    assert_eq!(b.d.pow(m2, three), b.n(-8.0));
    // (2x)^2 = 4x^2
    let four = b.n(4.0);
    let four_x2 = b.d.mul(four, x2);
    assert_eq!(b.d.pow(tx, two), four_x2);
    // no expansion of products of sums
    let p = b.d.mul(xy, xy);
    assert_eq!(b.t(p), "(x + y)^2");
}

#[test]
fn derivative_rules() {
    let mut b = B::new();
    let x = b.v("x");
    let y = b.v("y");
    let cases: Vec<(ExprId, &str)> = vec![
        (b.d.func(Func::Sin, x), "cos(x)"),
        (b.d.func(Func::Cos, x), "-sin(x)"),
        (b.d.func(Func::Tan, x), "tan(x)^2 + 1"),
        (b.d.func(Func::Asin, x), "1/sqrt(1 - x^2)"),
        (b.d.func(Func::Acos, x), "-1/sqrt(1 - x^2)"),
        (b.d.func(Func::Atan, x), "1/(x^2 + 1)"),
        (b.d.func(Func::Sinh, x), "cosh(x)"),
        (b.d.func(Func::Cosh, x), "sinh(x)"),
        (b.d.func(Func::Tanh, x), "1 - tanh(x)^2"),
        (b.d.func(Func::Exp, x), "exp(x)"),
        (b.d.func(Func::Log, x), "1/x"),
        (b.d.func(Func::Sqrt, x), "1/(2*sqrt(x))"),
        (b.d.func(Func::Abs, x), "sign(x)"),
        (b.d.func(Func::Sign, x), "0"),
        (b.d.atan2(y, x), "-y/(x^2 + y^2)"),
        (b.d.pow(x, y), "y*x^y/x"),
    ];
    for (e, want) in cases {
        let d = b.d.diff(e, x);
        assert_eq!(b.t(d), want, "d/dx {}", b.t(e));
    }
    let three = b.n(3.0);
    let x3 = b.d.pow(x, three);
    let d = b.d.diff(x3, x);
    assert_eq!(b.t(d), "3*x^2");
    let yx = b.d.pow(y, x);
    let d = b.d.diff(yx, x);
    assert_eq!(b.t(d), "y^x*log(y)");
    let xy = b.d.mul(x, y);
    let s = b.d.func(Func::Sin, xy);
    let d = b.d.diff(s, x);
    assert_eq!(b.t(d), "y*cos(x*y)");
    // memoised: the same id again
    assert_eq!(b.d.diff(s, x), d);
}

#[test]
fn net_partials_are_shared() {
    let mut b = B::new();
    let q = b.v("q");
    let qd = b.v("q'");
    let f = b.d.declare_net("f", 2, 1);
    let l = b.d.net(f, 0, &[q, qd]);
    let d1 = b.d.diff(l, qd);
    let d12 = b.d.diff(d1, q);
    let d2 = b.d.diff(l, q);
    let d21 = b.d.diff(d2, qd);
    assert_eq!(d12, d21);
    // Readable partials: later argument positions first, no argument list for a net
    // called at one point.
    assert_eq!(b.t(d12), "d2f/dq'dq");
    assert_eq!(
        b.d.to_latex(d12),
        "\\frac{\\partial^2 f}{\\partial \\dot{q} \\partial q}"
    );
    let g = b.d.declare_net("g", 1, 2);
    let two = b.n(2.0);
    let arg = b.d.mul(two, q);
    let gv = b.d.net(g, 1, &[arg]);
    let dg = b.d.diff(gv, q);
    // A non-variable argument is named by its position.
    assert_eq!(b.t(dg), "2*(dg[1]/d#1)");
}

/// `1/x` as a node.
fn inv_of(b: &mut B, x: ExprId) -> ExprId {
    let m1 = b.n(-1.0);
    b.d.pow(x, m1)
}

#[test]
fn printing() {
    let mut b = B::new();
    let th = b.v("theta");
    let thd = b.v("theta'");
    let m = b.v("m");
    let l = b.v("l");
    let two = b.n(2.0);
    let half = b.n(0.5);
    let l2 = b.d.pow(l, two);
    let w2 = b.d.pow(thd, two);
    let ke = b.d.product(&[half, m, l2, w2]);
    let c = b.d.func(Func::Cos, th);
    let g = b.n(9.81);
    let pe = b.d.mul(g, c);
    let lag = b.d.add(ke, pe);
    // 0.5 is exactly 1/2: printed as a fraction; 9.81 is a terminating decimal with a
    // factor of 5 in its denominator: printed as written.
    assert_eq!(b.t(lag), "m*l^2*theta'^2/2 + 9.81*cos(theta)");
    assert_eq!(
        b.d.to_latex(lag),
        "\\frac{m l^{2} \\dot{\\theta}^{2}}{2} + 9.81 \\cos\\left(\\theta\\right)"
    );
    let d = b.d.sub(ke, pe);
    assert_eq!(b.t(d), "m*l^2*theta'^2/2 - 9.81*cos(theta)");
    let q = b.d.div(m, l);
    assert_eq!(b.t(q), "m/l");
    assert_eq!(b.d.to_latex(q), "\\frac{m}{l}");
    let ml = b.d.mul(m, l);
    let inv = b.d.div(th, ml);
    assert_eq!(b.t(inv), "theta/(l*m)");
    let neg = b.d.neg(inv);
    assert_eq!(b.t(neg), "-theta/(l*m)");
    let s = b.d.add(m, l);
    let ns = b.d.neg(s);
    assert_eq!(b.t(ns), "-m - l"); // the coefficient distributes over the sum
    let p = b.d.pow(s, m);
    assert_eq!(b.t(p), "(m + l)^m");
    let t1 = b.v("t1''");
    assert_eq!(b.d.to_latex(t1), "\\ddot{t}_{1}");
    let ph = b.v("phi'[3]");
    assert_eq!(b.d.to_latex(ph), "\\dot{\\phi}_{3}");
    let sm = b.n(1e-7);
    assert_eq!(b.t(sm), "1e-7");
    let sq = b.d.func(Func::Sqrt, s);
    assert_eq!(b.d.to_latex(sq), "\\sqrt{m + l}");
    let third = b.n(1.0 / 3.0);
    assert_eq!(b.t(third), "1/3");
    assert_eq!(b.d.to_latex(third), "\\frac{1}{3}");
    let fifth = b.n(0.2);
    assert_eq!(b.t(fifth), "0.2");
    let k = b.n(-0.75);
    let kth = b.d.mul(k, th);
    assert_eq!(b.t(kth), "-3*theta/4");
    let k = b.n(2.0 / 3.0);
    let inv_m = inv_of(&mut b, m);
    let kq = b.d.product(&[k, th, inv_m]);
    assert_eq!(b.t(kq), "2*theta/(3*m)");
}

/// Every example's derivation keeps the DAG's canonical form (the unit tests of
/// `symbolic::dag` show the check failing on nodes the builders would never make).
#[test]
fn every_example_dag_is_canonical() {
    for path in std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        if path.extension().is_none_or(|e| e != "lag") {
            continue;
        }
        let m = crate::common::checked_model(&std::fs::read_to_string(&path).unwrap(), &[]);
        for sys in &m.systems {
            let eom = lagc::symbolic::eom::Eom::derive(sys);
            assert_eq!(eom.dag.verify(), Ok(()), "{}:{}", path.display(), sys.name);
        }
    }
}
