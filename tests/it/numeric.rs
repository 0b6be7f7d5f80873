//! The inline sine and cosine against correctly rounded values (a table made with
//! mpmath at 60 digits, `scripts/make_sin_cos_table.py`), in `numeric` itself, the
//! interpreter and the JIT: at most 1 ulp everywhere, and the two backends give the same
//! bits as `numeric`.

use lagc::backend::{interp::Interpreter, jit::JitKernel, Backend};
use lagc::kernel::{lower, KernelSpec, Output};
use lagc::symbolic::{Dag, Func};

/// (x, sin x, cos x) with the functions correctly rounded.
fn table() -> Vec<[f64; 3]> {
    let text = std::fs::read_to_string("tests/data/numeric/sin_cos.csv").unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let v: Vec<f64> = l
                .split(',')
                .map(|h| f64::from_bits(u64::from_str_radix(h, 16).unwrap()))
                .collect();
            [v[0], v[1], v[2]]
        })
        .collect()
}

fn ulps(a: f64, b: f64) -> u64 {
    if a == b {
        return 0;
    }
    let key = |x: f64| {
        let i = x.to_bits() as i64;
        if i < 0 {
            i64::MIN - i
        } else {
            i
        }
    };
    (key(a) - key(b)).unsigned_abs()
}

#[test]
fn within_one_ulp_of_the_correctly_rounded_value() {
    let rows = table();
    assert!(rows.len() > 4000);
    let (mut worst_sin, mut worst_cos, mut exact) = (0, 0, 0);
    for [x, s, c] in &rows {
        let (ls, lc) = lagc::numeric::sin_cos(*x);
        worst_sin = worst_sin.max(ulps(ls, *s));
        worst_cos = worst_cos.max(ulps(lc, *c));
        exact += usize::from(ls == *s && lc == *c);
    }
    assert!(
        worst_sin <= 1 && worst_cos <= 1,
        "sin {worst_sin} ulp, cos {worst_cos} ulp"
    );
    // the polynomials are accurate, not merely within the bound: most pairs are exact
    assert!(
        exact * 10 > rows.len() * 9,
        "{exact} of {} exact",
        rows.len()
    );
}

#[test]
fn both_backends_give_the_bits_of_numeric() {
    let mut d = Dag::new();
    let x = d.var("x");
    let (s, c) = (d.func(Func::Sin, x), d.func(Func::Cos, x));
    let spec = KernelSpec {
        inputs: vec![x],
        solve: None,
        outputs: vec![Output::Expr(s), Output::Expr(c)],
    };
    let p = lower(&d, &spec).unwrap();
    let mut xs: Vec<f64> = table().iter().map(|r| r[0]).collect();
    xs.extend([
        0.0,
        -0.0,
        1e6,
        -3e7,
        1e300,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]);
    let mut jit_out = vec![0.0; 2 * xs.len()];
    let mut interp_out = vec![0.0; 2 * xs.len()];
    JitKernel::compile(&p, None)
        .unwrap()
        .eval_batch(&xs, &mut jit_out)
        .unwrap();
    Interpreter::new(p)
        .eval_batch(&xs, &mut interp_out)
        .unwrap();
    for (k, &x) in xs.iter().enumerate() {
        let (ns, nc) = lagc::numeric::sin_cos(x);
        for (what, got) in [("jit", &jit_out), ("interp", &interp_out)] {
            let (gs, gc) = (got[2 * k], got[2 * k + 1]);
            let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            assert!(
                same(gs, ns) && same(gc, nc),
                "{what} at {x:e}: {gs:e} {gc:e}"
            );
        }
    }
}
