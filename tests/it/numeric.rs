//! The inline elementary functions against correctly rounded values (tables made with
//! mpmath at 60 digits, `scripts/make_sin_cos_table.py` and
//! `scripts/make_elementary_table.py`), in `numeric` itself, the interpreter and the
//! JIT: at most 1 ulp for sine and cosine, 2 ulp for exp, log, tanh, atan and atan2;
//! the two backends give the same bits as `numeric`, on the tables, special values and
//! random expressions; special values are classified as the C library does.

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

/// (function, first argument, second argument (atan2's x), correctly rounded value).
fn elementary_table() -> Vec<(String, f64, f64, f64)> {
    let text = std::fs::read_to_string("tests/data/numeric/elementary.csv").unwrap();
    let hex = |h: &str| f64::from_bits(u64::from_str_radix(h, 16).unwrap());
    text.lines()
        .skip(1)
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            (v[0].to_string(), hex(v[1]), hex(v[2]), hex(v[3]))
        })
        .collect()
}

/// A function of one argument, or two (atan2(y, x)); the second is ignored otherwise.
type Binary = fn(f64, f64) -> f64;

/// `numeric`'s function of that name.
fn numeric_fn(name: &str) -> Binary {
    match name {
        "exp" => |a, _| lagc::numeric::exp(a),
        "log" => |a, _| lagc::numeric::log(a),
        "tanh" => |a, _| lagc::numeric::tanh(a),
        "atan" => |a, _| lagc::numeric::atan(a),
        "atan2" => lagc::numeric::atan2,
        _ => panic!("no function {name}"),
    }
}

const ELEMENTARY: [&str; 5] = ["exp", "log", "tanh", "atan", "atan2"];

#[test]
fn elementary_functions_within_two_ulp_of_the_correctly_rounded_value() {
    let rows = elementary_table();
    for name in ELEMENTARY {
        let f = numeric_fn(name);
        let (mut worst, mut n, mut exact) = ((0, 0.0, 0.0), 0, 0);
        for (_, a, b, want) in rows.iter().filter(|r| r.0 == name) {
            let u = ulps(f(*a, *b), *want);
            if u > worst.0 {
                worst = (u, *a, *b);
            }
            n += 1;
            exact += usize::from(u == 0);
        }
        eprintln!("{name}: {n} rows, {exact} exact, worst {} ulp", worst.0);
        assert!(n > 2000, "{name}: {n} rows");
        assert!(
            worst.0 <= 2,
            "{name}: {} ulp at {:e}, {:e}",
            worst.0,
            worst.1,
            worst.2
        );
    }
}

/// Every pairing of these, for the special cases.
const SPECIAL: [f64; 16] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    5e-324,
    -2.5e-310,
    1e-300,
    709.8,
    -745.2,
    1e300,
    -1e300,
    f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

#[test]
fn special_values_match_the_c_library() {
    let libm: [(&str, Binary); 5] = [
        ("exp", |a, _| a.exp()),
        ("log", |a, _| a.ln()),
        ("tanh", |a, _| a.tanh()),
        ("atan", |a, _| a.atan()),
        ("atan2", f64::atan2),
    ];
    for (name, c) in libm {
        let f = numeric_fn(name);
        for a in SPECIAL {
            for b in SPECIAL {
                let (got, want) = (f(a, b), c(a, b));
                let class = |v: f64| {
                    (
                        v.is_nan(),
                        v.is_infinite(),
                        v == 0.0,
                        v.is_sign_negative() && !v.is_nan(),
                    )
                };
                assert_eq!(
                    class(got),
                    class(want),
                    "{name}({a:e}, {b:e}): {got:e} vs {want:e}"
                );
                assert!(
                    ulps(got, want) <= 2 || want.is_nan(),
                    "{name}({a:e}, {b:e}): {got:e} vs {want:e}"
                );
            }
        }
    }
}

/// A kernel of each elementary function of x (atan2 of (x, y)) and expressions mixing
/// them, compiled for both backends.
fn elementary_program() -> lagc::kernel::Program {
    let mut d = Dag::new();
    let (x, y) = (d.var("x"), d.var("y"));
    let f = |d: &mut Dag, f: Func, a| d.func(f, a);
    let mut outs = vec![
        f(&mut d, Func::Exp, x),
        f(&mut d, Func::Log, x),
        f(&mut d, Func::Tanh, x),
        f(&mut d, Func::Atan, x),
        d.atan2(x, y),
    ];
    let xy = d.mul(x, y);
    let sx = f(&mut d, Func::Sin, x);
    let e = f(&mut d, Func::Exp, xy);
    let ex = d.add(e, sx);
    outs.push(f(&mut d, Func::Log, ex));
    let t = f(&mut d, Func::Tanh, ex);
    let a = d.atan2(t, sx);
    outs.push(d.mul(a, e));
    let at = f(&mut d, Func::Atan, xy);
    let ly = f(&mut d, Func::Log, y);
    outs.push(d.sub(at, ly));
    let spec = KernelSpec {
        inputs: vec![x, y],
        solve: None,
        outputs: outs.into_iter().map(Output::Expr).collect(),
    };
    lower(&d, &spec).unwrap()
}

#[test]
fn both_backends_give_the_bits_of_numeric_for_the_elementary_functions() {
    let p = elementary_program();
    let no = p.outputs.len();
    let mut rows: Vec<[f64; 2]> = elementary_table().iter().map(|r| [r.1, r.2]).collect();
    for a in SPECIAL {
        for b in SPECIAL {
            rows.push([a, b]);
        }
    }
    let mut state = 7u64;
    for _ in 0..5000 {
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (u, v, s) = (next(), next(), next());
        rows.push([(u - 0.5) * 40.0, (v - 0.5) * 10f64.powf(6.0 * s - 3.0)]);
    }
    let xs: Vec<f64> = rows.iter().flatten().copied().collect();
    let mut jit_out = vec![0.0; no * rows.len()];
    let mut interp_out = vec![0.0; no * rows.len()];
    JitKernel::compile(&p, None)
        .unwrap()
        .eval_batch(&xs, &mut jit_out)
        .unwrap();
    Interpreter::new(p)
        .eval_batch(&xs, &mut interp_out)
        .unwrap();
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    for (k, &[x, y]) in rows.iter().enumerate() {
        let direct = ELEMENTARY.map(|name| numeric_fn(name)(x, y));
        for (j, want) in direct.iter().enumerate() {
            assert!(
                same(interp_out[k * no + j], *want),
                "interp {} at {x:e}, {y:e}",
                ELEMENTARY[j]
            );
        }
        for j in 0..no {
            let (i, g) = (interp_out[k * no + j], jit_out[k * no + j]);
            assert!(
                same(i, g),
                "output {j} at {x:e}, {y:e}: interp {i:e}, jit {g:e}"
            );
        }
    }
}

#[test]
fn clif_text_has_no_calls_for_the_elementary_functions() {
    let mut d = Dag::new();
    let (x, y) = (d.var("x"), d.var("y"));
    let mut outs: Vec<_> = [Func::Exp, Func::Log, Func::Tanh, Func::Atan]
        .into_iter()
        .map(|f| d.func(f, x))
        .collect();
    outs.push(d.atan2(x, y));
    let spec = KernelSpec {
        inputs: vec![x, y],
        solve: None,
        outputs: outs.into_iter().map(Output::Expr).collect(),
    };
    let text = lagc::backend::jit::clif_text(&lower(&d, &spec).unwrap()).unwrap();
    assert!(!text.contains("call"), "{text}");
    for needle in ["fdiv", "band", "bxor", "fcopysign", "bitcast"] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
}
