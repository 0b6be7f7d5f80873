//! How `lagc derive` shows q'' of an L system: explicit expressions when the mass
//! matrix H = d2L/dq'dq' splits into small diagonal blocks (Cramer's rule per block), a
//! note that H is singular and where (instead of dividing by a zero determinant), or
//! `H^-1 r` when the inverse would be large.

use crate::symbolic::eom::{Eom, EomKind};
use crate::symbolic::{Dag, ExprId, VarId};
use nalgebra::DMatrix;
use std::collections::HashMap;

/// Blocks of H up to this size get explicit q'' (Cramer's rule).
pub const MAX_EXPLICIT_BLOCK: usize = 3;

/// How q'' follows from H q'' = r.
pub enum Accel {
    /// One expression per coordinate.
    Explicit(Vec<ExprId>),
    /// Solved numerically: H has a block larger than [`MAX_EXPLICIT_BLOCK`].
    Solved,
    /// H is singular; the sentence says where.
    Singular(String),
}

/// q'' of `eom` (an unrolled L system; [`Accel::Solved`] for other kinds). `values`
/// gives the params and `learn` values by name, for the numerical singularity test.
pub fn accel(eom: &mut Eom, values: &HashMap<String, f64>) -> Accel {
    let EomKind::Lagrangian { hess, rhs, .. } = &eom.kind else {
        return Accel::Solved;
    };
    let (hess, rhs) = (hess.clone(), rhs.clone());
    let n = rhs.len();
    let blocks = blocks(&eom.dag, &hess, n);
    let names = eom.q_names();
    for b in &blocks {
        if let Some(rank) = singular_rank(&eom.dag, &hess, n, b, values) {
            let coords: Vec<&str> = b.iter().map(|&i| names[i].as_str()).collect();
            return Accel::Singular(singular_sentence(&coords, rank));
        }
    }
    if blocks.iter().any(|b| b.len() > MAX_EXPLICIT_BLOCK) {
        return Accel::Solved;
    }
    let mut out: Vec<Option<ExprId>> = vec![None; n];
    for b in &blocks {
        let m: Vec<ExprId> = b
            .iter()
            .flat_map(|&i| b.iter().map(|&j| (i, j)).collect::<Vec<_>>())
            .map(|(i, j)| hess[i * n + j])
            .collect();
        let r: Vec<ExprId> = b.iter().map(|&i| rhs[i]).collect();
        for (k, x) in cramer(&mut eom.dag, &m, &r).into_iter().enumerate() {
            out[b[k]] = Some(x);
        }
    }
    Accel::Explicit(out.into_iter().flatten().collect())
}

fn singular_sentence(coords: &[&str], rank: usize) -> String {
    match coords {
        [q] => format!("d2L/d{q}'d{q}' = 0: L has no {q}'^2 term, so {q}'' is not determined"),
        _ => format!(
            "the block of d2L/dq'dq' for {} has rank {rank} of {} at every state tried, so their q'' are not determined",
            coords.join(", "),
            coords.len()
        ),
    }
}

/// The coordinates coupled through non-zero entries of H, in blocks (each sorted).
fn blocks(dag: &Dag, hess: &[ExprId], n: usize) -> Vec<Vec<usize>> {
    let mut root: Vec<usize> = (0..n).collect();
    fn find(root: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while root[r] != r {
            r = root[r];
        }
        root[i] = r;
        r
    }
    for i in 0..n {
        for j in 0..n {
            if dag.as_const(hess[i * n + j]) != Some(0.0) {
                let (a, b) = (find(&mut root, i), find(&mut root, j));
                root[a.max(b)] = a.min(b);
            }
        }
    }
    let mut out: Vec<Vec<usize>> = vec![];
    let mut at: HashMap<usize, usize> = HashMap::new();
    for i in 0..n {
        let r = find(&mut root, i);
        let k = *at.entry(r).or_insert_with(|| {
            out.push(vec![]);
            out.len() - 1
        });
        out[k].push(i);
    }
    out
}

/// States tried by [`singular_rank`].
const TRIALS: u64 = 3;

/// The rank of H's block `b` when it is singular at every one of [`TRIALS`] states
/// (coordinates and velocities drawn in [-1, 1], `t` likewise); `None` when it is
/// regular somewhere or cannot be evaluated (nets).
fn singular_rank(
    dag: &Dag,
    hess: &[ExprId],
    n: usize,
    b: &[usize],
    values: &HashMap<String, f64>,
) -> Option<usize> {
    let mut rank = 0;
    for trial in 0..TRIALS {
        let vars = |v: VarId| {
            let name = dag.var_name(v);
            values
                .get(name)
                .copied()
                .unwrap_or_else(|| draw(name, trial))
        };
        let nets = |_: u32, _: u32, _: &[f64], _: &[u32]| f64::NAN;
        let m = DMatrix::from_fn(b.len(), b.len(), |i, j| {
            dag.eval(hess[b[i] * n + b[j]], &vars, &nets)
        });
        if m.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let sv = m.singular_values();
        let top = sv.max();
        let r = sv.iter().filter(|&&s| s > 1e-12 * top).count();
        if r == b.len() {
            return None;
        }
        rank = rank.max(r);
    }
    Some(rank)
}

/// A value in [-1, 1] fixed by a variable's name and the trial number.
fn draw(name: &str, trial: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ trial.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for byte in name.bytes() {
        h = (h ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
    }
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// The solution of `m x = r` (`m` k x k row-major, k <= 3) by Cramer's rule.
fn cramer(dag: &mut Dag, m: &[ExprId], r: &[ExprId]) -> Vec<ExprId> {
    let k = r.len();
    let idx: Vec<usize> = (0..k).collect();
    let det = det(dag, m, k, &idx, &idx);
    (0..k)
        .map(|col| {
            // x_col = sum_row C[row][col] r[row] / det, C the cofactors of m.
            let terms: Vec<ExprId> = (0..k)
                .map(|row| {
                    let c = cofactor(dag, m, k, row, col);
                    dag.mul(c, r[row])
                })
                .collect();
            let num = dag.sum(&terms);
            dag.div(num, det)
        })
        .collect()
}

/// The cofactor of entry (row, col) of the k x k matrix `m`.
fn cofactor(dag: &mut Dag, m: &[ExprId], k: usize, row: usize, col: usize) -> ExprId {
    if k == 1 {
        return dag.num(1.0);
    }
    let rows: Vec<usize> = (0..k).filter(|&i| i != row).collect();
    let cols: Vec<usize> = (0..k).filter(|&j| j != col).collect();
    let minor = det(dag, m, k, &rows, &cols);
    if (row + col).is_multiple_of(2) {
        minor
    } else {
        dag.neg(minor)
    }
}

/// The determinant of the sub-matrix of `m` (k x k) on `rows` x `cols`, by expansion
/// along its first row.
fn det(dag: &mut Dag, m: &[ExprId], k: usize, rows: &[usize], cols: &[usize]) -> ExprId {
    let at = |i: usize, j: usize| m[rows[i] * k + cols[j]];
    match rows.len() {
        1 => at(0, 0),
        2 => {
            let ad = dag.mul(at(0, 0), at(1, 1));
            let bc = dag.mul(at(0, 1), at(1, 0));
            dag.sub(ad, bc)
        }
        s => {
            let terms: Vec<ExprId> = (0..s)
                .map(|j| {
                    let sub_cols: Vec<usize> =
                        (0..s).filter(|&c| c != j).map(|c| cols[c]).collect();
                    let minor = det(dag, m, k, &rows[1..], &sub_cols);
                    let t = dag.mul(at(0, j), minor);
                    if j.is_multiple_of(2) {
                        t
                    } else {
                        dag.neg(t)
                    }
                })
                .collect();
            dag.sum(&terms)
        }
    }
}
