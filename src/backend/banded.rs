//! Banded and cyclic banded linear solves in O(n) for a fixed bandwidth.
//!
//! Array coordinates give Hessians whose nonzeros lie near the diagonal (a stencil),
//! wrapping around the corners when the array is `periodic`. [`BandedSolver`] solves
//! such systems with the conventions of [`super::solve`]: partial pivoting, a pivot
//! below [`PIVOT_TOL`]` * max|a|` means singular, non-finite entries propagate.

use super::solve::{lu_solve_in_place, PIVOT_TOL};
use std::ops::RangeInclusive;

/// Cyclic systems up to this order are solved densely when the bordered solve cannot
/// be used (singular leading block) or is not accurate enough.
const DENSE_FALLBACK: usize = 64;

/// A cyclic solve is accepted when its normwise backward error
/// `|b - A x| / (|A| |x| + |b|)` (infinity norms) is at most this.
const BACKWARD_TOL: f64 = 1e-12;

/// Iterative refinement steps a cyclic solve may take to reach [`BACKWARD_TOL`].
const REFINE_STEPS: usize = 2;

/// A square matrix of order `n` whose nonzeros lie on the diagonals `d` in
/// `-lower..=upper` (entry (i, i + d)); with `cyclic`, the diagonals wrap around
/// (entry (i, (i + d) mod n)).
#[derive(Clone, Debug, PartialEq)]
pub struct Banded {
    n: usize,
    lower: usize,
    upper: usize,
    cyclic: bool,
    /// Row-major band: `data[i * (lower + upper + 1) + lower + d]` is diagonal `d` of
    /// row `i`. With a tiny cyclic `n`, several diagonals of a row may name one column.
    data: Vec<f64>,
}

impl Banded {
    /// The zero matrix of order `n` with this band shape.
    pub fn new(n: usize, lower: usize, upper: usize, cyclic: bool) -> Banded {
        let data = vec![0.0; n * (lower + upper + 1)];
        Banded {
            n,
            lower,
            upper,
            cyclic,
            data,
        }
    }

    /// The order `n`.
    pub fn order(&self) -> usize {
        self.n
    }

    /// Number of diagonals below the main one.
    pub fn lower(&self) -> usize {
        self.lower
    }

    /// Number of diagonals above the main one.
    pub fn upper(&self) -> usize {
        self.upper
    }

    /// Whether the diagonals wrap around.
    pub fn cyclic(&self) -> bool {
        self.cyclic
    }

    /// Zeroes every entry (keeps the shape and the allocation).
    pub fn clear(&mut self) {
        self.data.fill(0.0);
    }

    /// A[i][i + d] += v (column (i + d) mod n when cyclic). `d` must lie in
    /// -lower..=upper and, when not cyclic, i + d in 0..n (debug_assert; out of band is a bug).
    pub fn add(&mut self, i: usize, d: isize, v: f64) {
        debug_assert!(i < self.n, "row {i} out of 0..{}", self.n);
        debug_assert!(self.diagonals().contains(&d), "diagonal {d} out of band");
        debug_assert!(
            self.column(i, d).is_some(),
            "entry ({i}, {i} + {d}) out of matrix"
        );
        let w = self.width();
        self.data[i * w + (d + self.lower as isize) as usize] += v;
    }

    /// The entry (i, j) (0 outside the band).
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.row(i).filter(|&(c, _)| c == j).map(|(_, v)| v).sum()
    }

    /// The dense row-major n x n matrix (for tests and small fallbacks).
    pub fn to_dense(&self) -> Vec<f64> {
        let mut out = Vec::new();
        self.fill_dense(&mut out);
        out
    }

    /// `y = A x` in O(n (lower + upper)).
    pub fn mul_vec(&self, x: &[f64], y: &mut [f64]) {
        assert!(
            x.len() == self.n && y.len() == self.n,
            "vector lengths must be the order"
        );
        for (i, yi) in y.iter_mut().enumerate() {
            *yi = self.row(i).map(|(c, v)| v * x[c]).sum();
        }
    }

    fn width(&self) -> usize {
        self.lower + self.upper + 1
    }

    fn diagonals(&self) -> RangeInclusive<isize> {
        -(self.lower as isize)..=self.upper as isize
    }

    /// The column of diagonal `d` in row `i`, or `None` outside a non-cyclic matrix.
    fn column(&self, i: usize, d: isize) -> Option<usize> {
        let c = i as isize + d;
        if self.cyclic {
            Some(c.rem_euclid(self.n as isize) as usize)
        } else {
            (0..self.n as isize).contains(&c).then_some(c as usize)
        }
    }

    /// The stored (diagonal, value) pairs of row `i`.
    fn band_row(&self, i: usize) -> impl Iterator<Item = (isize, f64)> + '_ {
        let w = self.width();
        self.diagonals()
            .zip(self.data[i * w..(i + 1) * w].iter().copied())
    }

    /// The (column, value) pairs of row `i` (a column repeats when diagonals alias).
    fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.band_row(i)
            .filter_map(move |(d, v)| self.column(i, d).map(|c| (c, v)))
    }

    /// Writes the dense matrix into `out` (reusing its allocation).
    fn fill_dense(&self, out: &mut Vec<f64>) {
        let n = self.n;
        out.clear();
        out.resize(n * n, 0.0);
        for i in 0..n {
            for (c, v) in self.row(i) {
                out[i * n + c] += v;
            }
        }
    }

    /// The infinity norm `max_i sum_j |a_ij|` (an upper bound when diagonals alias).
    fn norm_inf(&self) -> f64 {
        (0..self.n)
            .map(|i| self.row(i).map(|(_, v)| v.abs()).sum::<f64>())
            .fold(0.0, f64::max)
    }
}

/// Reusable workspace: solving allocates nothing once warmed up for a shape.
///
/// Not cyclic: band LU with partial pivoting (LAPACK `gbtrf` style: the upper band of
/// `U` grows to `lower + upper`), O(n lower (lower + upper)) time, O(n (2 lower + upper))
/// memory.
///
/// Cyclic, with `k = lower + upper`: the last `k` unknowns form a border. The leading
/// `n - k` block `A11` is plainly banded and is factored as above; `Y = A11^-1 A12`
/// takes `k` banded solves, the `k x k` Schur complement `A22 - A21 Y` is solved with
/// [`lu_solve_in_place`], and `x1 = A11^-1 b1 - Y x2`: O(n k^2) time, O(n k) memory.
/// As the border is eliminated without pivoting across it, the result is checked by its
/// backward error and refined (up to two steps, O(n k) each) when needed. Fallbacks:
/// `n <= 2k + 2` is solved densely (O(n^3), where the border does not pay); so is
/// `n <= 64` when `A11` is singular or the refined result is still inaccurate. For a
/// larger `n` both return false, even where `A` itself is well conditioned (e.g.
/// `0.5 I +` a cyclic shift, whose leading block is nearly singular).
#[derive(Default)]
pub struct BandedSolver {
    /// Factors of the band (or of the leading block `A11`).
    band: BandLu,
    /// `A11^-1 A12`, column-major `(n - k) x k`.
    y: Vec<f64>,
    /// The Schur complement, row-major `k x k`.
    schur: Vec<f64>,
    /// Scratch for dense LU (the Schur complement's or the whole matrix's).
    work: Vec<f64>,
    /// The right-hand side, kept for residuals and fallbacks.
    rhs: Vec<f64>,
    /// Residual and correction.
    res: Vec<f64>,
}

impl BandedSolver {
    /// An empty workspace.
    pub fn new() -> BandedSolver {
        BandedSolver::default()
    }

    /// Solves `a x = b` in place (`b` becomes `x`) in O(n (lower + upper)^2) time.
    /// Returns false when `a` is singular (a pivot below PIVOT_TOL * max|a|), with `b`
    /// overwritten, as `lu_solve_in_place` does. Non-finite entries propagate to x.
    /// Cyclic systems over 64 unknowns also return false when the bordered method
    /// fails (see [`BandedSolver`]).
    pub fn solve(&mut self, a: &Banded, b: &mut [f64]) -> bool {
        let n = a.n;
        assert_eq!(b.len(), n, "right-hand side length must be the order");
        let mut max = 0.0f64;
        let mut finite = true;
        for &v in &a.data {
            finite &= v.is_finite();
            max = max.max(v.abs());
        }
        let tol = if finite { PIVOT_TOL * max } else { -1.0 };
        let k = a.lower + a.upper;
        if !a.cyclic || k == 0 {
            self.band.load(a, n);
            if !self.band.factor(tol) {
                return false;
            }
            self.band.solve(b);
            return true;
        }
        if n <= 2 * k + 2 {
            return self.dense(a, b);
        }
        self.rhs.clear();
        self.rhs.extend_from_slice(b);
        let checkable = finite && b.iter().all(|v| v.is_finite());
        if self.factor_bordered(a, tol)
            && self.bordered_solve(a, b, tol)
            && (!checkable || self.refine(a, b, tol))
        {
            return true;
        }
        n <= DENSE_FALLBACK && self.restore_and_dense(a, b)
    }

    /// Accepts the bordered solution `x` if its backward error against the saved
    /// right-hand side is at most [`BACKWARD_TOL`], refining it up to [`REFINE_STEPS`]
    /// times; false when it stays inaccurate (or is not finite).
    fn refine(&mut self, a: &Banded, x: &mut [f64], tol: f64) -> bool {
        let norm_a = a.norm_inf();
        let norm_b = max_abs(&self.rhs);
        let mut res = std::mem::take(&mut self.res);
        res.resize(a.n, 0.0);
        let mut accepted = false;
        for step in 0..=REFINE_STEPS {
            a.mul_vec(x, &mut res);
            res.iter_mut().zip(&self.rhs).for_each(|(r, b)| *r = b - *r);
            let bound = BACKWARD_TOL * (norm_a * max_abs(x) + norm_b);
            // NaN fails every comparison.
            if bound.is_finite() && res.iter().all(|r| r.abs() <= bound) {
                accepted = true;
                break;
            }
            if step == REFINE_STEPS || !self.bordered_solve(a, &mut res, tol) {
                break;
            }
            x.iter_mut().zip(&res).for_each(|(x, dx)| *x += dx);
        }
        self.res = res;
        accepted
    }

    /// Dense LU of the whole matrix (for small `n`).
    fn dense(&mut self, a: &Banded, b: &mut [f64]) -> bool {
        a.fill_dense(&mut self.work);
        lu_solve_in_place(a.n, &mut self.work, b)
    }

    /// Puts the saved right-hand side back into `b` and solves densely.
    fn restore_and_dense(&mut self, a: &Banded, b: &mut [f64]) -> bool {
        b.copy_from_slice(&self.rhs);
        self.dense(a, b)
    }

    /// Factors `A11`, forms `Y = A11^-1 A12` and the Schur complement; false when `A11`
    /// is singular.
    fn factor_bordered(&mut self, a: &Banded, tol: f64) -> bool {
        let k = a.lower + a.upper;
        let m = a.n - k;
        self.band.load(a, m);
        if !self.band.factor(tol) {
            return false;
        }
        self.y.clear();
        self.y.resize(m * k, 0.0);
        for i in 0..m {
            for (c, v) in a.row(i).filter(|&(c, _)| c >= m) {
                self.y[(c - m) * m + i] += v;
            }
        }
        for col in self.y.chunks_exact_mut(m) {
            self.band.solve(col);
        }
        self.schur.clear();
        self.schur.resize(k * k, 0.0);
        for r in 0..k {
            let s = &mut self.schur[r * k..(r + 1) * k];
            for (c, v) in a.row(m + r) {
                if c >= m {
                    s[c - m] += v;
                } else {
                    for (j, sj) in s.iter_mut().enumerate() {
                        *sj -= v * self.y[j * m + c];
                    }
                }
            }
        }
        true
    }

    /// Solves in place with the bordered factors; false when the Schur complement is
    /// singular (a pivot below `tol`, which is relative to the whole matrix).
    fn bordered_solve(&mut self, a: &Banded, b: &mut [f64], tol: f64) -> bool {
        let k = a.lower + a.upper;
        let m = a.n - k;
        let (b1, b2) = b.split_at_mut(m);
        self.band.solve(b1);
        for (r, b2r) in b2.iter_mut().enumerate() {
            *b2r -= a
                .row(m + r)
                .filter(|&(c, _)| c < m)
                .map(|(c, v)| v * b1[c])
                .sum::<f64>();
        }
        self.work.clear();
        self.work.extend_from_slice(&self.schur);
        // On success `work` holds U, with the pivots on its diagonal.
        if !lu_solve_in_place(k, &mut self.work, b2)
            || (0..k).any(|j| self.work[j * k + j].abs() <= tol)
        {
            return false;
        }
        for (col, &x2) in self.y.chunks_exact(m).zip(b2.iter()) {
            b1.iter_mut().zip(col).for_each(|(x1, y)| *x1 -= y * x2);
        }
        true
    }
}

/// `max_i |v_i|` (NaN entries are skipped).
fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// LU factors with partial pivoting of a plainly banded matrix: row `r` stores columns
/// `r - kl ..= r + kl + ku` (multipliers of `L` left of the diagonal, `U` from it on).
#[derive(Default)]
struct BandLu {
    n: usize,
    kl: usize,
    ku: usize,
    lu: Vec<f64>,
    /// Row interchanged with row `k` at step `k`.
    piv: Vec<usize>,
}

impl BandLu {
    /// Index of entry (r, c), `c - r` in `-kl..=kl + ku`.
    fn at(&self, r: usize, c: usize) -> usize {
        r * (2 * self.kl + self.ku + 1) + self.kl + c - r
    }

    /// Loads the leading `n x n` block of `a` without its wrapped-around entries.
    fn load(&mut self, a: &Banded, n: usize) {
        (self.n, self.kl, self.ku) = (n, a.lower, a.upper);
        self.lu.clear();
        self.lu.resize(n * (2 * self.kl + self.ku + 1), 0.0);
        self.piv.clear();
        self.piv.resize(n, 0);
        for i in 0..n {
            for (d, v) in a.band_row(i) {
                let c = i as isize + d;
                if (0..n as isize).contains(&c) {
                    let at = self.at(i, c as usize);
                    self.lu[at] = v;
                }
            }
        }
    }

    /// Factors in place; false at a pivot `<= tol`.
    fn factor(&mut self, tol: f64) -> bool {
        let n = self.n;
        for k in 0..n {
            let last = (k + self.kl).min(n - 1);
            let end = (k + self.kl + self.ku).min(n - 1);
            let mut p = k;
            let mut best = self.lu[self.at(k, k)].abs();
            for i in k + 1..=last {
                let v = self.lu[self.at(i, k)].abs();
                if v > best {
                    best = v;
                    p = i;
                }
            }
            if best <= tol {
                return false;
            }
            self.piv[k] = p;
            if p != k {
                for c in k..=end {
                    let (x, y) = (self.at(k, c), self.at(p, c));
                    self.lu.swap(x, y);
                }
            }
            let pivot = self.lu[self.at(k, k)];
            for i in k + 1..=last {
                let at = self.at(i, k);
                let f = self.lu[at] / pivot;
                self.lu[at] = f;
                if f == 0.0 {
                    continue;
                }
                for c in k + 1..=end {
                    let u = self.lu[self.at(k, c)];
                    let at = self.at(i, c);
                    self.lu[at] -= f * u;
                }
            }
        }
        true
    }

    /// Solves with the factors in place (`b.len() == n`).
    fn solve(&self, b: &mut [f64]) {
        let n = self.n;
        for k in 0..n {
            b.swap(k, self.piv[k]);
            let (head, tail) = b.split_at_mut(k + 1);
            let last = (k + self.kl).min(n - 1);
            for (i, bi) in (k + 1..=last).zip(tail) {
                *bi -= self.lu[self.at(i, k)] * head[k];
            }
        }
        for k in (0..n).rev() {
            // Row k of U is contiguous: columns k + 1 ..= end.
            let end = (k + self.kl + self.ku).min(n - 1);
            let u = &self.lu[self.at(k, k) + 1..=self.at(k, end)];
            let s = u
                .iter()
                .zip(&b[k + 1..=end])
                .fold(b[k], |s, (u, x)| s - u * x);
            b[k] = s / self.lu[self.at(k, k)];
        }
    }
}
