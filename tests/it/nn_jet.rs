//! Jets through MLPs against finite differences, for every activation: values, first
//! and second partials (forward), and the parameter gradient of a lane combination
//! (the reverse pass the trainer uses). Also the seeded initialisation's statistics.

use lagc::check::{Activation, Init, Net};
use lagc::kernel::NetLane;
use lagc::nn::init::{init_mlp, weight_std};
use lagc::nn::{JetPlan, Mlp};

fn net(act: Activation, init: Init, widths: &[usize], outs: usize) -> Net {
    Net {
        name: "f".into(),
        inputs: widths[0],
        outputs: outs,
        hidden: widths[1..].to_vec(),
        act,
        init,
    }
}

/// A small net with weights of moderate size (so every activation is exercised away
/// from saturation) and non-zero biases.
fn small_mlp(act: Activation, seed: u64) -> Mlp {
    let mut m = init_mlp(&net(act, Init::Xavier, &[3, 6, 5], 2), seed);
    let n = m.n_params();
    for (i, p) in m.params_mut().iter_mut().enumerate() {
        if *p == 0.0 {
            *p = 0.1 * ((i * 7919 % n) as f64 / n as f64 - 0.5);
        }
    }
    m
}

fn lane(out: u32, partials: &[u32]) -> NetLane {
    NetLane {
        out,
        partials: partials.into(),
    }
}

/// Every lane of a 3-input, 2-output net up to second order.
fn all_lanes() -> Vec<NetLane> {
    let mut v = Vec::new();
    for o in 0..2 {
        v.push(lane(o, &[]));
        for i in 0..3 {
            v.push(lane(o, &[i]));
        }
        for i in 0..3 {
            for j in i..3 {
                v.push(lane(o, &[i, j]));
            }
        }
    }
    v
}

fn f(m: &Mlp, x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; m.n_outputs()];
    m.forward(x, &mut out);
    out
}

/// The lane by central differences of the plain forward pass.
fn fd_lane(m: &Mlp, x: &[f64], l: &NetLane) -> f64 {
    let h = 1e-4;
    let o = l.out as usize;
    let shifted = |d: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(i, s) in d {
            y[i] += s;
        }
        f(m, &y)[o]
    };
    match *l.partials {
        [] => f(m, x)[o],
        [i] => {
            let i = i as usize;
            (shifted(&[(i, h)]) - shifted(&[(i, -h)])) / (2.0 * h)
        }
        [i, j] => {
            let (i, j) = (i as usize, j as usize);
            (shifted(&[(i, h), (j, h)]) - shifted(&[(i, h), (j, -h)]) - shifted(&[(i, -h), (j, h)])
                + shifted(&[(i, -h), (j, -h)]))
                / (4.0 * h * h)
        }
        _ => f64::NAN,
    }
}

const ACTS: [Activation; 6] = [
    Activation::Softplus,
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Relu2,
    Activation::Sin,
    Activation::Relu,
];

#[test]
fn forward_jets_match_finite_differences_for_every_activation() {
    let xs = [[0.3, -0.7, 1.1], [-1.2, 0.4, 0.25], [0.9, 1.3, -0.6]];
    for act in ACTS {
        let m = small_mlp(act, 3);
        let lanes = all_lanes();
        for x in &xs {
            let mut out = vec![0.0; lanes.len()];
            m.jet_lanes(x, &lanes, &mut out);
            for (l, &v) in lanes.iter().zip(&out) {
                let fd = fd_lane(&m, x, l);
                let tol = 1e-6 * (1.0 + fd.abs());
                assert!(
                    (v - fd).abs() < tol,
                    "{act:?} at {x:?}: lane {l:?} jet {v} vs finite differences {fd}"
                );
            }
        }
    }
}

#[test]
fn only_the_named_pairs_get_second_order_rows() {
    // The LNN's lanes for L(q1, q2, v1, v2): 7 of the 10 Hessian entries are needed.
    let lanes: Vec<NetLane> = [
        vec![],
        vec![0],
        vec![1],
        vec![2],
        vec![3],
        vec![2, 2],
        vec![2, 3],
        vec![3, 3],
        vec![0, 2],
        vec![1, 2],
        vec![0, 3],
        vec![1, 3],
    ]
    .iter()
    .map(|p| lane(0, p))
    .collect();
    let plan = JetPlan::new(&lanes, 4, 1);
    assert_eq!(plan.rows(), 1 + 4 + 7);
    // Only a value and one Hessian entry: one tangent row, one pair row.
    let plan = JetPlan::new(&[lane(0, &[]), lane(0, &[1, 1])], 4, 1);
    assert_eq!(plan.rows(), 3);
}

#[test]
fn batched_jets_equal_single_ones_and_bad_lanes_are_nan() {
    let m = small_mlp(Activation::Softplus, 5);
    let mut lanes = all_lanes();
    lanes.push(lane(0, &[0, 1, 2])); // third order: not provided
    lanes.push(lane(7, &[])); // no such output
    let rows = 77; // more than one chunk, not a multiple of it
    let x: Vec<f64> = (0..rows * 3)
        .map(|i| ((i * 37 % 101) as f64) / 50.0 - 1.0)
        .collect();
    let mut batch = vec![0.0; rows * lanes.len()];
    m.jet_lanes(&x, &lanes, &mut batch);
    for r in 0..rows {
        let mut one = vec![0.0; lanes.len()];
        m.jet_lanes(&x[r * 3..r * 3 + 3], &lanes, &mut one);
        let got = &batch[r * lanes.len()..(r + 1) * lanes.len()];
        for (k, (a, b)) in got.iter().zip(&one).enumerate() {
            if k >= lanes.len() - 2 {
                assert!(a.is_nan() && b.is_nan());
            } else {
                assert!(
                    (a - b).abs() <= 1e-13 * (1.0 + b.abs()),
                    "row {r} lane {k}: {a} vs {b}"
                );
            }
        }
        let mut y = vec![0.0; 2];
        m.forward(&x[r * 3..r * 3 + 3], &mut y);
        assert!((got[0] - y[0]).abs() < 1e-13 * (1.0 + y[0].abs()));
    }
}

/// sum_s sum_k c[s, k] lane_k(x_s) with parameters `p`.
fn combo(m: &Mlp, p: &[f64], x: &[f64], lanes: &[NetLane], c: &[f64]) -> f64 {
    let m = Mlp::with_params(m.widths(), m.act(), p.to_vec()).expect("shape");
    let mut out = vec![0.0; c.len()];
    m.jet_lanes(x, lanes, &mut out);
    out.iter().zip(c).map(|(a, b)| a * b).sum()
}

#[test]
fn reverse_pass_matches_finite_differences_in_the_parameters() {
    for act in ACTS {
        let m = small_mlp(act, 11);
        let lanes = all_lanes();
        // Two samples, so accumulation over rows is covered too.
        let x = [0.3, -0.7, 1.1, -0.5, 0.2, 0.8];
        let c: Vec<f64> = (0..2 * lanes.len())
            .map(|k| ((k * 13 % 7) as f64 - 3.0) / 3.0)
            .collect();
        let mut grad = vec![0.0; m.n_params()];
        m.jet_vjp(&x, &lanes, &c, &mut grad);
        let p0 = m.params().to_vec();
        let h = 1e-6;
        for i in 0..p0.len() {
            let mut pp = p0.clone();
            pp[i] += h;
            let up = combo(&m, &pp, &x, &lanes, &c);
            pp[i] -= 2.0 * h;
            let down = combo(&m, &pp, &x, &lanes, &c);
            let fd = (up - down) / (2.0 * h);
            let tol = 1e-6 * (1.0 + fd.abs());
            assert!(
                (grad[i] - fd).abs() < tol,
                "{act:?}: d/dparam[{i}] reverse {} vs finite differences {fd}",
                grad[i]
            );
        }
    }
}

#[test]
fn reverse_pass_of_a_big_batch_uses_the_matrix_products_correctly() {
    // Wide enough layers and enough rows to go through matrixmultiply.
    let n = net(Activation::Tanh, Init::Xavier, &[4, 16, 16], 1);
    let m = init_mlp(&n, 2);
    let lanes = vec![
        lane(0, &[]),
        lane(0, &[2]),
        lane(0, &[2, 3]),
        lane(0, &[0, 3]),
    ];
    let rows = 40;
    let x: Vec<f64> = (0..rows * 4)
        .map(|i| ((i * 29 % 89) as f64) / 45.0 - 1.0)
        .collect();
    let c: Vec<f64> = (0..rows * lanes.len())
        .map(|k| ((k * 17 % 11) as f64 - 5.0) / 5.0)
        .collect();
    let mut grad = vec![0.0; m.n_params()];
    m.jet_vjp(&x, &lanes, &c, &mut grad);
    // Per-row accumulation must give the same gradient.
    let mut acc = vec![0.0; m.n_params()];
    for r in 0..rows {
        m.jet_vjp(&x[r * 4..r * 4 + 4], &lanes, &c[r * 4..r * 4 + 4], &mut acc);
    }
    for (a, b) in grad.iter().zip(&acc) {
        assert!((a - b).abs() < 1e-11 * (1.0 + b.abs()));
    }
    // And spot-check some parameters by finite differences.
    let p0 = m.params().to_vec();
    for i in (0..p0.len()).step_by(37) {
        let h = 1e-6;
        let mut pp = p0.clone();
        pp[i] += h;
        let up = combo(&m, &pp, &x, &lanes, &c);
        pp[i] -= 2.0 * h;
        let down = combo(&m, &pp, &x, &lanes, &c);
        let fd = (up - down) / (2.0 * h);
        assert!(
            (grad[i] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
            "param {i}: {} vs {fd}",
            grad[i]
        );
    }
}

#[test]
fn initialisation_is_seeded_and_has_the_stated_spread() {
    for init in [Init::Lnn, Init::Xavier, Init::Kaiming] {
        let n = net(Activation::Softplus, init, &[4, 128, 128], 1);
        let a = init_mlp(&n, 7);
        assert_eq!(a, init_mlp(&n, 7), "same seed, same weights");
        assert_ne!(a.params(), init_mlp(&n, 8).params());
        let layers = a.n_layers();
        for k in 0..layers {
            let (fi, fo) = (a.widths()[k], a.widths()[k + 1]);
            let (w, b) = a.layer(k);
            assert!(b.iter().all(|&v| v == 0.0));
            let expected = weight_std(init, k, layers, fi, fo);
            let var = w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
            let rel = (var.sqrt() - expected).abs() / expected;
            // 512 to 16384 draws: the sample std is within a few standard errors.
            let tol = 4.0 / (2.0 * w.len() as f64).sqrt();
            assert!(
                rel < tol,
                "{init:?} layer {k}: std {} vs {expected}",
                var.sqrt()
            );
        }
    }
    // The LNN scheme as LANGUAGE.md states it, for 4-128-128-1: n = 128 everywhere.
    let s = 128f64.sqrt();
    assert!((weight_std(Init::Lnn, 0, 3, 4, 128) - 2.2 / s).abs() < 1e-15);
    assert!((weight_std(Init::Lnn, 1, 3, 128, 128) - 0.58 / s).abs() < 1e-15);
    assert!((weight_std(Init::Lnn, 2, 3, 128, 1) - s).abs() < 1e-15);
    assert!((weight_std(Init::Xavier, 0, 3, 4, 128) - (2.0f64 / 132.0).sqrt()).abs() < 1e-15);
    assert!((weight_std(Init::Kaiming, 1, 3, 128, 128) - (2.0f64 / 128.0).sqrt()).abs() < 1e-15);
}

#[test]
fn forward_over_reverse_agrees_with_forward_jets() {
    use lagc::nn::EvalPlan;
    // An LNN-like call (value, gradient, velocity Hessian, mixed block) on output 0,
    // and a few lanes on output 1 of a 4-input, 2-output net.
    let mut lanes: Vec<NetLane> = [
        vec![],
        vec![0],
        vec![1],
        vec![2],
        vec![3],
        vec![2, 2],
        vec![2, 3],
        vec![3, 3],
        vec![0, 2],
        vec![1, 2],
        vec![0, 3],
        vec![1, 3],
    ]
    .iter()
    .map(|p| lane(0, p))
    .collect();
    lanes.push(lane(1, &[]));
    lanes.push(lane(1, &[3]));
    lanes.push(lane(1, &[1, 3]));
    lanes.push(lane(0, &[0, 1, 2])); // not provided: NaN either way
    for act in ACTS {
        let n = net(act, Init::Xavier, &[4, 9, 7], 2);
        let mut m = init_mlp(&n, 4);
        for (i, p) in m.params_mut().iter_mut().enumerate() {
            *p += 0.05 * ((i % 5) as f64 - 2.0);
        }
        let plan = EvalPlan::new(&lanes, 4, 2);
        assert!(
            plan.is_reverse(),
            "the cheaper plan here is forward over reverse"
        );
        assert!(plan.rows() < JetPlan::new(&lanes, 4, 2).rows());
        let rows = 45;
        let x: Vec<f64> = (0..rows * 4)
            .map(|i| ((i * 41 % 83) as f64) / 40.0 - 1.0)
            .collect();
        let mut rev = vec![0.0; rows * lanes.len()];
        m.eval_lanes(&plan, &x, &mut rev);
        let mut fwd = vec![0.0; rows * lanes.len()];
        m.jet_lanes(&x, &lanes, &mut fwd);
        for (k, (a, b)) in rev.iter().zip(&fwd).enumerate() {
            if k % lanes.len() == lanes.len() - 1 {
                assert!(a.is_nan() && b.is_nan());
            } else {
                assert!(
                    (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
                    "{act:?} entry {k}: {a} vs {b}"
                );
            }
        }
    }
    // A value-only call and a one-dimensional second derivative stay forward.
    assert!(!EvalPlan::new(&[lane(0, &[])], 4, 1).is_reverse());
    assert!(!EvalPlan::new(&[lane(0, &[]), lane(0, &[0]), lane(0, &[0, 0])], 1, 1).is_reverse());
}

#[test]
fn directional_jets_contract_the_coordinate_ones_and_their_reverse_pass_is_exact() {
    // Directions u0, u1, u2 per sample; lanes: value, D f[u0], D2 f[u1, u2], D2 f[u1, u1].
    let lanes = vec![
        lane(0, &[]),
        lane(0, &[0]),
        lane(1, &[1, 2]),
        lane(0, &[1, 1]),
    ];
    let all = all_lanes();
    for act in ACTS {
        let m = small_mlp(act, 21);
        let plan = JetPlan::directional(&lanes, 3, 3, 2);
        assert_eq!(plan.rows(), 1 + 3 + 2);
        let rows = 37;
        let x: Vec<f64> = (0..rows * 3)
            .map(|i| ((i * 43 % 71) as f64) / 35.0 - 1.0)
            .collect();
        let u: Vec<f64> = (0..rows * 9)
            .map(|i| ((i * 19 % 53) as f64) / 26.0 - 1.0)
            .collect();
        let mut out = vec![0.0; rows * lanes.len()];
        m.jet(&plan, &x, &u, &mut out);
        let mut full = vec![0.0; rows * all.len()];
        m.jet_lanes(&x, &all, &mut full);
        // all_lanes per output: value, 3 first, 6 second (i <= j).
        let idx = |o: usize, p: &[usize]| -> usize {
            let base = o * 10;
            match *p {
                [] => base,
                [i] => base + 1 + i,
                [i, j] => {
                    let (i, j) = (i.min(j), i.max(j));
                    let mut k = base + 4;
                    for a in 0..3 {
                        for b in a..3 {
                            if (a, b) == (i, j) {
                                return k;
                            }
                            k += 1;
                        }
                    }
                    unreachable!()
                }
                _ => unreachable!(),
            }
        };
        for s in 0..rows {
            let f = &full[s * all.len()..(s + 1) * all.len()];
            let uv = |d: usize, i: usize| u[(s * 3 + d) * 3 + i];
            let first: f64 = (0..3).map(|i| uv(0, i) * f[idx(0, &[i])]).sum();
            let mut second = 0.0;
            let mut diag = 0.0;
            for i in 0..3 {
                for j in 0..3 {
                    second += uv(1, i) * uv(2, j) * f[idx(1, &[i, j])];
                    diag += uv(1, i) * uv(1, j) * f[idx(0, &[i, j])];
                }
            }
            let got = &out[s * 4..s * 4 + 4];
            for (g, w) in got.iter().zip([f[idx(0, &[])], first, second, diag]) {
                assert!(
                    (g - w).abs() < 1e-11 * (1.0 + w.abs()),
                    "{act:?} row {s}: {g} vs {w}"
                );
            }
        }
        // Reverse pass against finite differences in the parameters.
        let c: Vec<f64> = (0..rows * 4)
            .map(|k| ((k * 7 % 5) as f64 - 2.0) / 2.0)
            .collect();
        let mut grad = vec![0.0; m.n_params()];
        m.plan_vjp(&plan, &x, &u, &c, &mut grad);
        let p0 = m.params().to_vec();
        let value = |p: &[f64]| {
            let mm = Mlp::with_params(m.widths(), m.act(), p.to_vec()).expect("shape");
            let mut o = vec![0.0; rows * 4];
            mm.jet(&plan, &x, &u, &mut o);
            o.iter().zip(&c).map(|(a, b)| a * b).sum::<f64>()
        };
        for i in (0..p0.len()).step_by(3) {
            let h = 1e-6;
            let mut pp = p0.clone();
            pp[i] += h;
            let up = value(&pp);
            pp[i] -= 2.0 * h;
            let fd = (up - value(&pp)) / (2.0 * h);
            assert!(
                (grad[i] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "{act:?} param {i}: {} vs {fd}",
                grad[i]
            );
        }
    }
}
