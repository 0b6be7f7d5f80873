//! Banded and cyclic banded linear solves in O(n) for a fixed bandwidth.
//!
//! Array coordinates give Hessians whose nonzeros lie near the diagonal (a stencil),
//! wrapping around the corners when the array is `periodic`. [`BandedSolver`] solves
//! such systems with partial pivoting; a pivot below [`PIVOT_TOL`]` * max|a|` means
//! singular (a scale of the whole matrix, unlike the per-row and per-column scales of
//! [`super::solve`]), and non-finite entries propagate.

use super::solve::PIVOT_TOL;
use std::ops::RangeInclusive;

/// A square matrix of order `n` whose nonzeros lie on the diagonals `d` in
/// `-lower..=upper` (entry (i, i + d)); with `cyclic`, the diagonals wrap around
/// (entry (i, (i + d) mod n)).
#[derive(Clone, Debug, Default, PartialEq)]
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

    /// The dense row-major n x n matrix (for tests and dense fallbacks).
    pub fn to_dense(&self) -> Vec<f64> {
        let n = self.n;
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for (c, v) in self.row(i) {
                out[i * n + c] += v;
            }
        }
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

    /// This matrix with its unknowns in the folded order `0, n-1, 1, n-2, 2, ...`
    /// (unknown `i` moves to position `2i` when `2i < n`, else `2(n-1-i)+1`), as a plain
    /// band (not cyclic) with `lower = upper = min(2 max(lower, upper), n - 1)`.
    ///
    /// Why that band holds it: neighbours on the cycle (`i` and `i + 1 mod n`) land at
    /// most 2 positions apart (2 inside either half, 1 where the halves meet: in the
    /// middle and at the wrap-around), so an entry `|d|` diagonals off the main one lands
    /// at most `2|d|` off it. The bound is attained once each half holds a whole stencil
    /// (`n >= 2 max(lower, upper) + 2`, no cancelling entries): in the first half diagonals
    /// `-lower`, `upper` land at `-2 lower`, `2 upper`; the second half runs backwards, so
    /// there they land at `2 lower`, `-2 upper`.
    pub fn folded(&self) -> Banded {
        let mut out = Banded::default();
        self.fold_into(&mut out);
        out
    }

    /// [`Banded::folded`] into `out`, reusing its allocation.
    fn fold_into(&self, out: &mut Banded) {
        let n = self.n;
        let w = (2 * self.lower.max(self.upper)).min(n.saturating_sub(1));
        (out.n, out.lower, out.upper, out.cyclic) = (n, w, w, false);
        out.data.clear();
        out.data.resize(n * (2 * w + 1), 0.0);
        for i in 0..n {
            let r = fold(n, i);
            for (c, v) in self.row(i) {
                out.add(r, fold(n, c) as isize - r as isize, v);
            }
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
}

/// Reusable workspace: solving allocates nothing once warmed up for a shape.
///
/// A plain band is factored by LU with partial pivoting (LAPACK `gbtrf` style: the
/// upper band of `U` grows to `lower + upper`): O(n lower (lower + upper)) time,
/// O(n (2 lower + upper)) memory.
///
/// A cyclic band is first renumbered in the folded order `0, n-1, 1, n-2, 2, ...`
/// ([`Banded::folded`]), which makes it a plain band of half-widths `2m`,
/// `m = max(lower, upper)`, factored the same way: O(n m^2) time (about `8 n m^2`
/// multiply-adds), O(n m) memory (`6m + 1` factor and `4m + 1` folded entries per row).
/// Pivoting then ranges over the whole matrix, as in the dense LU, at every order: the
/// wrapped corners need no special case, and tiny orders (where diagonals alias) no
/// dense fallback. It replaced a border of the last
/// `lower + upper` unknowns with a Schur complement, which failed on well-conditioned
/// matrices whose leading block is (nearly) singular and, at `n = 1e5` with
/// `lower = upper = 2`, was about 1.6 times slower.
#[derive(Default)]
pub struct BandedSolver {
    /// LU factors of the (folded) band.
    band: BandLu,
    /// The folded matrix.
    folded: Banded,
    /// The right-hand side and solution in the folded order.
    x: Vec<f64>,
}

impl BandedSolver {
    /// An empty workspace.
    pub fn new() -> BandedSolver {
        BandedSolver::default()
    }

    /// Solves `a x = b` in place (`b` becomes `x`) in O(n (lower + upper)^2) time.
    /// Returns false, leaving `b` unchanged, when `a` is singular: a pivot below
    /// PIVOT_TOL * max|a| (against the whole matrix's scale). Non-finite entries
    /// propagate to x.
    pub fn solve(&mut self, a: &Banded, b: &mut [f64]) -> bool {
        assert_eq!(b.len(), a.n, "right-hand side length must be the order");
        if a.lower == 0 && a.upper == 0 {
            return diagonal_solve(&a.data, b);
        }
        if !a.cyclic {
            self.band.load(a);
            if !self.band.factor() {
                return false;
            }
            self.band.solve(b);
            return true;
        }
        a.fold_into(&mut self.folded);
        self.band.load(&self.folded);
        if !self.band.factor() {
            return false;
        }
        let n = a.n;
        self.x.resize(n, 0.0);
        for (i, &bi) in b.iter().enumerate() {
            self.x[fold(n, i)] = bi;
        }
        self.band.solve(&mut self.x);
        for (i, xi) in b.iter_mut().enumerate() {
            *xi = self.x[fold(n, i)];
        }
        true
    }
}

/// Solves a diagonal system (`d` holds the diagonal) with the band LU's pivot test;
/// `b` is left unchanged when it fails.
fn diagonal_solve(d: &[f64], b: &mut [f64]) -> bool {
    let mut max = 0.0f64;
    let mut finite = true;
    for &v in d {
        finite &= v.is_finite();
        max = max.max(v.abs());
    }
    if finite && d.iter().any(|v| v.abs() <= PIVOT_TOL * max) {
        return false;
    }
    for (x, &v) in b.iter_mut().zip(d) {
        *x /= v;
    }
    true
}

/// Position of unknown `i` in the folded order `0, n-1, 1, n-2, 2, ...`.
fn fold(n: usize, i: usize) -> usize {
    if 2 * i < n {
        2 * i
    } else {
        2 * (n - 1 - i) + 1
    }
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

    /// Loads a band that is not cyclic.
    fn load(&mut self, a: &Banded) {
        debug_assert!(!a.cyclic, "a cyclic band is folded first");
        (self.n, self.kl, self.ku) = (a.n, a.lower, a.upper);
        self.lu.clear();
        self.lu.resize(a.n * (2 * self.kl + self.ku + 1), 0.0);
        self.piv.clear();
        self.piv.resize(a.n, 0);
        for i in 0..a.n {
            for (c, v) in a.row(i) {
                let at = self.at(i, c);
                self.lu[at] = v;
            }
        }
    }

    /// Factors in place; false at a pivot `<= PIVOT_TOL * max|a|` (never when an entry
    /// is not finite: it propagates instead).
    fn factor(&mut self) -> bool {
        let mut max = 0.0f64;
        let mut finite = true;
        for &v in &self.lu {
            finite &= v.is_finite();
            max = max.max(v.abs());
        }
        let tol = if finite { PIVOT_TOL * max } else { -1.0 };
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
