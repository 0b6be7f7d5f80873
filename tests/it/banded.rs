//! Banded and cyclic banded solves (`lagc::backend::banded`) against the dense LU: random
//! shapes and entries (diagonally dominant, general, symmetric indefinite), the band's
//! storage (including the aliasing of diagonals for tiny cyclic orders), the folded order
//! of cyclic bands and its bandwidth, singular matrices, non-finite entries, workspace
//! reuse without allocation, and n = 100 000.

use lagc::backend::banded::{Banded, BandedSolver};
use lagc::backend::solve::lu_solve_in_place;
use proptest::collection::vec;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ops::Range;
use std::time::Instant;

/// Counts the allocations of the current thread (tests run on several threads).
struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCS.with(|c| c.get())
}

/// A random band: shape, the entry of every (row, diagonal) slot, and a right-hand side.
#[derive(Clone, Debug)]
struct Draw {
    n: usize,
    lower: usize,
    upper: usize,
    cyclic: bool,
    entries: Vec<f64>,
    rhs: Vec<f64>,
}

/// Entries in [-1, 1]; in a quarter of the draws a fifth of them are exact zeros (ties
/// and zero pivots; more often would make most leading blocks singular).
fn entries(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        3 => vec(-1.0..1.0f64, len),
        1 => vec(prop_oneof![4 => -1.0..1.0f64, 1 => Just(0.0)], len),
    ]
}

/// Orders in `ns`, bandwidths in 0..4 (`lower == upper` when `symmetric`).
fn draw(ns: Range<usize>, cyclic: Option<bool>, symmetric: bool) -> impl Strategy<Value = Draw> {
    let cyclic = match cyclic {
        Some(c) => Just(c).boxed(),
        None => any::<bool>().boxed(),
    };
    (ns, 0usize..4, 0usize..4, cyclic).prop_flat_map(move |(n, lower, upper, cyclic)| {
        let upper = if symmetric { lower } else { upper };
        let w = lower + upper + 1;
        (entries(n * w), vec(-1.0..1.0f64, n)).prop_map(move |(entries, rhs)| Draw {
            n,
            lower,
            upper,
            cyclic,
            entries,
            rhs,
        })
    })
}

/// The general matrix of a draw (slots outside a non-cyclic matrix are skipped).
fn general(dr: &Draw) -> Banded {
    let (n, l, u) = (dr.n, dr.lower as isize, dr.upper as isize);
    let mut a = Banded::new(n, dr.lower, dr.upper, dr.cyclic);
    for i in 0..n {
        for (s, d) in (-l..=u).enumerate() {
            let c = i as isize + d;
            if dr.cyclic || (0..n as isize).contains(&c) {
                a.add(i, d, dr.entries[i * (l + u + 1) as usize + s]);
            }
        }
    }
    a
}

/// A symmetric matrix from a draw with `lower == upper` (diagonal `d > 0` of row `i` is
/// mirrored to diagonal `-d` of row `i + d`).
fn symmetric(dr: &Draw) -> Banded {
    let (n, b) = (dr.n, dr.lower);
    let mut a = Banded::new(n, b, b, dr.cyclic);
    for i in 0..n {
        let row = &dr.entries[i * (2 * b + 1)..];
        a.add(i, 0, row[b]);
        for d in 1..=b {
            if dr.cyclic || i + d < n {
                a.add(i, d as isize, row[b + d]);
                a.add((i + d) % n, -(d as isize), row[b + d]);
            }
        }
    }
    a
}

/// Makes every row strictly diagonally dominant with a margin of at least 1
/// (so `|A^-1|_inf <= 1`), keeping the diagonal's sign.
fn make_dominant(a: &mut Banded) {
    let n = a.order();
    let m = a.to_dense();
    for i in 0..n {
        let off: f64 = (0..n).filter(|&j| j != i).map(|j| m[i * n + j].abs()).sum();
        let sign = if m[i * n + i] < 0.0 { -1.0 } else { 1.0 };
        a.add(i, 0, sign * (off + 1.0));
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn dense_solve(a: &Banded, b: &[f64]) -> Option<Vec<f64>> {
    let mut m = a.to_dense();
    let mut x = b.to_vec();
    lu_solve_in_place(a.order(), &mut m, &mut x).then_some(x)
}

fn band_solve(a: &Banded, b: &[f64]) -> Option<Vec<f64>> {
    let mut x = b.to_vec();
    BandedSolver::new().solve(a, &mut x).then_some(x)
}

/// Normwise backward error `|b - A x| / (|A| |x| + |b|)` (infinity norms), computed densely.
fn backward_error(a: &Banded, x: &[f64], b: &[f64]) -> f64 {
    let n = a.order();
    let m = a.to_dense();
    let mut r = 0.0f64;
    let mut norm_a = 0.0f64;
    for i in 0..n {
        let row = &m[i * n..(i + 1) * n];
        let ax: f64 = row.iter().zip(x).map(|(a, x)| a * x).sum();
        r = r.max((b[i] - ax).abs());
        norm_a = norm_a.max(row.iter().map(|a| a.abs()).sum());
    }
    let scale = norm_a * max_abs(x) + max_abs(b);
    if scale == 0.0 {
        r
    } else {
        r / scale
    }
}

/// 2-norm condition number of the leading `m x m` block of a row-major `n x n` matrix.
fn cond(n: usize, m: usize, dense: &[f64]) -> f64 {
    if m == 0 {
        return 1.0;
    }
    let sv = nalgebra::DMatrix::from_fn(m, m, |i, j| dense[i * n + j]).singular_values();
    let (hi, lo) = (sv.max(), sv.min());
    if lo > 0.0 {
        hi / lo
    } else {
        f64::INFINITY
    }
}

/// `|x - y|_inf <= tol |y|_inf`.
fn assert_close(x: &[f64], y: &[f64], tol: f64) -> Result<(), TestCaseError> {
    let diff = x
        .iter()
        .zip(y)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    prop_assert!(
        diff <= tol * max_abs(y),
        "|x - x_dense| = {diff:e} > {tol:e} |x_dense| = {:e}",
        tol * max_abs(y)
    );
    Ok(())
}

/// Reasonably conditioned nonsingular matrices: the banded solve succeeds, agrees with
/// the dense LU up to the condition number, and has a small backward error.
fn check_against_dense(a: &Banded, b: &[f64]) -> Result<(), TestCaseError> {
    let x_dense = dense_solve(a, b);
    prop_assume!(x_dense.is_some());
    let k = cond(a.order(), a.order(), &a.to_dense());
    prop_assume!(k <= 1e6);
    let x = band_solve(a, b);
    prop_assert!(
        x.is_some(),
        "banded solve failed where the dense LU succeeded (cond {k:e})"
    );
    let x = x.unwrap();
    // Both solutions have a forward error of at most about 2 n cond_2 eta, with backward
    // errors eta of about n eps (both pivot) and n < 200.
    assert_close(&x, &x_dense.unwrap(), 1e-9 * k)?;
    let eta = backward_error(a, &x, b);
    prop_assert!(eta <= 1e-11, "backward error {eta:e}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Diagonally dominant: agrees with the dense LU to 1e-9 relative, small residual.
    #[test]
    fn dominant_matches_dense(dr in draw(1..48, None, false)) {
        let mut a = general(&dr);
        make_dominant(&mut a);
        let x_dense = dense_solve(&a, &dr.rhs).expect("dominant matrices are nonsingular");
        let x = band_solve(&a, &dr.rhs);
        prop_assert!(x.is_some(), "banded solve failed on a dominant matrix");
        let x = x.unwrap();
        assert_close(&x, &x_dense, 1e-9)?;
        let eta = backward_error(&a, &x, &dr.rhs);
        prop_assert!(eta <= 1e-12, "backward error {eta:e}");
    }

    /// General (non-symmetric, indefinite) matrices: wherever the dense LU succeeds on a
    /// reasonably conditioned matrix, so does the banded solve, and they agree.
    #[test]
    fn general_matches_dense(dr in draw(1..48, None, false)) {
        check_against_dense(&general(&dr), &dr.rhs)?;
    }

    /// Symmetric indefinite matrices (what a learned Hessian can be).
    #[test]
    fn symmetric_indefinite_matches_dense(dr in draw(1..48, None, true)) {
        let a = symmetric(&dr);
        let (n, m) = (a.order(), a.to_dense());
        for i in 0..n {
            for j in 0..n {
                // Aliased diagonals of tiny cyclic orders sum in different orders.
                prop_assert!((m[i * n + j] - m[j * n + i]).abs() <= 1e-14);
            }
        }
        check_against_dense(&a, &dr.rhs)?;
    }

    /// One solver reused across random shapes gives the same bits as a fresh one.
    #[test]
    fn reused_solver_matches_fresh(
        draws in vec(draw(1..40, None, false), 1..5)
    ) {
        let mut solver = BandedSolver::new();
        for dr in &draws {
            let mut a = general(dr);
            make_dominant(&mut a);
            let mut x = dr.rhs.clone();
            prop_assert!(solver.solve(&a, &mut x));
            let fresh = band_solve(&a, &dr.rhs).unwrap();
            prop_assert_eq!(x, fresh);
        }
    }

    /// `get`, `to_dense` and `mul_vec` agree with entries added one by one to a dense
    /// matrix, including tiny cyclic orders where several diagonals name one column.
    #[test]
    fn storage_agrees(
        (n, lower, upper, cyclic, adds, x) in (1usize..9, 0usize..5, 0usize..5, any::<bool>())
            .prop_flat_map(|(n, lower, upper, cyclic)| {
                // A diagonal of row i inside the matrix (the range always holds 0).
                let add = (0..n, 0usize..64, -4i32..5).prop_map(move |(i, t, v)| {
                    let (l, u) = (lower as isize, upper as isize);
                    let (lo, hi) = if cyclic {
                        (-l, u)
                    } else {
                        (-l.min(i as isize), u.min((n - 1 - i) as isize))
                    };
                    (i, lo + (t as isize).rem_euclid(hi - lo + 1), v)
                });
                (Just(n), Just(lower), Just(upper), Just(cyclic), vec(add, 0..40), vec(-2i32..3, n))
            })
    ) {
        let mut a = Banded::new(n, lower, upper, cyclic);
        let mut want = vec![0.0; n * n];
        for &(i, d, v) in &adds {
            a.add(i, d, v as f64);
            let j = (i as isize + d).rem_euclid(n as isize) as usize;
            want[i * n + j] += v as f64;
        }
        prop_assert_eq!((a.order(), a.lower(), a.upper(), a.cyclic()), (n, lower, upper, cyclic));
        prop_assert_eq!(&a.to_dense(), &want);
        for i in 0..n {
            for j in 0..n {
                prop_assert_eq!(a.get(i, j), want[i * n + j], "entry ({}, {})", i, j);
            }
        }
        // Small integers: every sum is exact.
        let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let mut y = vec![f64::NAN; n];
        a.mul_vec(&x, &mut y);
        let want_y: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| want[i * n + j] * x[j]).sum())
            .collect();
        prop_assert_eq!(y, want_y);
        a.clear();
        prop_assert_eq!(a.to_dense(), vec![0.0; n * n]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Cyclic orders well above the bandwidth, general or symmetric indefinite entries
    /// (or made diagonally dominant): wherever the dense LU succeeds on a reasonably
    /// conditioned matrix, so does the banded solve, and they agree, however
    /// ill-conditioned its leading blocks (which a border method would factor) are.
    #[test]
    fn large_cyclic_matches_dense(
        (sym, dr) in any::<bool>().prop_flat_map(|sym| (Just(sym), draw(65..200, Some(true), sym))),
        dominant: bool,
    ) {
        let mut a = if sym { symmetric(&dr) } else { general(&dr) };
        if dominant {
            make_dominant(&mut a);
        }
        check_against_dense(&a, &dr.rhs)?;
    }
}

#[test]
fn aliased_diagonals_accumulate() {
    // n = 2, diagonals -2..=2: columns 0, 1, 0, 1, 0 from row 0.
    let mut a = Banded::new(2, 2, 2, true);
    for (d, v) in [(-2, 1.0), (-1, 2.0), (0, 4.0), (1, 8.0), (2, 16.0)] {
        a.add(0, d, v);
    }
    a.add(1, 0, 32.0);
    a.add(1, 1, 64.0);
    assert_eq!(a.get(0, 0), 21.0);
    assert_eq!(a.get(0, 1), 10.0);
    assert_eq!(a.get(1, 0), 64.0);
    assert_eq!(a.get(1, 1), 32.0);
    assert_eq!(a.to_dense(), vec![21.0, 10.0, 64.0, 32.0]);
    let mut x = vec![31.0, 96.0]; // A (1, 1)
    assert!(BandedSolver::new().solve(&a, &mut x));
    assert!(
        (x[0] - 1.0).abs() < 1e-14 && (x[1] - 1.0).abs() < 1e-14,
        "{x:?}"
    );
    // n = 1: every diagonal is the one entry.
    let mut a = Banded::new(1, 3, 2, true);
    for d in -3..=2 {
        a.add(0, d, 1.0);
    }
    assert_eq!(a.get(0, 0), 6.0);
    let mut x = vec![3.0];
    assert!(BandedSolver::new().solve(&a, &mut x));
    assert_eq!(x, vec![0.5]);
}

/// Shapes covering plain and cyclic bands, tiny cyclic orders (aliased diagonals) and
/// larger ones.
const SHAPES: [(usize, usize, usize, bool); 10] = [
    (1, 0, 0, false),
    (5, 1, 1, false),
    (200, 2, 3, false),
    (1, 2, 2, true),
    (6, 1, 2, true),
    (9, 2, 2, true),
    (40, 2, 1, true),
    (64, 3, 3, true),
    (65, 3, 3, true),
    (500, 1, 0, true),
];

#[test]
fn singular_zero_matrix() {
    let mut solver = BandedSolver::new();
    for (n, l, u, cyclic) in SHAPES {
        let a = Banded::new(n, l, u, cyclic);
        let mut b = vec![1.0; n];
        assert!(
            !solver.solve(&a, &mut b),
            "zero matrix {n} {l} {u} {cyclic}"
        );
    }
}

/// A dominant matrix with one row (or column) zero: every row position, in the band,
/// in the leading block and in the border.
#[test]
fn singular_zero_row_or_column() {
    let mut solver = BandedSolver::new();
    for (n, l, u, cyclic) in SHAPES {
        for zero in [0, n / 2, n.saturating_sub(2), n - 1] {
            for column in [false, true] {
                let mut a = Banded::new(n, l, u, cyclic);
                for i in 0..n {
                    for d in -(l as isize)..=u as isize {
                        let c = i as isize + d;
                        if !cyclic && !(0..n as isize).contains(&c) {
                            continue;
                        }
                        let j = c.rem_euclid(n as isize) as usize;
                        if (if column { j } else { i }) == zero {
                            continue;
                        }
                        let v = if d == 0 { 10.0 } else { 1.0 + 0.1 * (i as f64) };
                        a.add(i, d, v);
                    }
                }
                let mut b = vec![1.0; n];
                assert!(
                    !solver.solve(&a, &mut b),
                    "zero {} {zero} in {n} {l} {u} {cyclic}",
                    if column { "column" } else { "row" }
                );
            }
        }
    }
}

/// Singular up to rounding with a two-dimensional null space: the periodic second
/// difference shifted by one of its double eigenvalues. With `lower = upper = 1` the
/// border is two unknowns wide, so the Schur complement is rounding noise: it must be
/// judged singular relative to `max|A|`, not to its own size.
#[test]
fn singular_double_null_space() {
    let mut solver = BandedSolver::new();
    for (n, j) in [(20, 3), (40, 2), (100, 5), (1000, 7)] {
        let mut a = Banded::new(n, 1, 1, true);
        let shift = 2.0 * (2.0 * std::f64::consts::PI * j as f64 / n as f64).cos();
        for i in 0..n {
            a.add(i, -1, -1.0);
            a.add(i, 0, shift);
            a.add(i, 1, -1.0);
        }
        if n <= 100 {
            assert!(
                dense_solve(&a, &vec![1.0; n]).is_none(),
                "dense LU, n = {n}"
            );
        }
        let mut b = vec![1.0; n];
        assert!(!solver.solve(&a, &mut b), "n = {n}: {:?}", &b[..4]);
    }
}

#[test]
fn non_finite_entries_propagate() {
    let mut solver = BandedSolver::new();
    for (n, l, u, cyclic) in SHAPES {
        let mut a = Banded::new(n, l, u, cyclic);
        for i in 0..n {
            a.add(i, 0, 4.0);
        }
        a.add(n / 2, 0, f64::NAN);
        let mut b = vec![1.0; n];
        assert!(solver.solve(&a, &mut b), "NaN entry {n} {l} {u} {cyclic}");
        assert!(b[n / 2].is_nan(), "NaN entry {n} {l} {u} {cyclic}: {b:?}");
        a.clear();
        for i in 0..n {
            a.add(i, 0, 4.0);
        }
        let mut b = vec![1.0; n];
        b[0] = f64::INFINITY;
        assert!(
            solver.solve(&a, &mut b),
            "infinite rhs {n} {l} {u} {cyclic}"
        );
        assert!(
            b.iter().any(|x| !x.is_finite()),
            "infinite rhs {n} {l} {u} {cyclic}"
        );
    }
}

/// Once warmed up on a shape, solving allocates nothing.
#[test]
fn warm_solver_does_not_allocate() {
    let mut solver = BandedSolver::new();
    for (n, l, u, cyclic) in SHAPES {
        let mut a = Banded::new(n, l, u, cyclic);
        for i in 0..n {
            for d in -(l as isize)..=u as isize {
                if cyclic || (0..n as isize).contains(&(i as isize + d)) {
                    a.add(i, d, if d == 0 { 10.0 } else { 1.0 + (i % 3) as f64 });
                }
            }
        }
        let b = vec![1.0; n];
        let mut x = b.clone();
        assert!(solver.solve(&a, &mut x));
        x.copy_from_slice(&b);
        let before = allocations();
        assert!(solver.solve(&a, &mut x));
        assert_eq!(allocations(), before, "allocated on {n} {l} {u} {cyclic}");
    }
}

/// `delta I +` a cyclic shift `S^d`: well conditioned for `|delta|` away from 1 (it is
/// normal with eigenvalues `delta + w`, `w^n = 1`, so `cond_2 <= (1 + |delta|) / |1 - |delta||`),
/// but a border method's leading block is triangular with pivots `delta`, singular for
/// `delta = 0` and with an inverse growing like `delta^-n` for `|delta| < 1`. Every order
/// up to 300 succeeds, agrees with the dense LU and has a small backward error.
#[test]
fn shifted_cyclic_shift() {
    for (lower, upper, d) in [(1, 0, -1), (0, 1, 1), (2, 1, -2), (3, 3, 3)] {
        for delta in [-3.0, -0.9, -0.5, 0.0, 0.3, 0.5, 0.8, 0.95, 1.5] {
            let bound = (1.0 + f64::abs(delta)) / (1.0 - f64::abs(delta)).abs();
            for n in 1..=300 {
                let mut a = Banded::new(n, lower, upper, true);
                for i in 0..n {
                    a.add(i, 0, delta);
                    a.add(i, d, 1.0);
                }
                let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.9).cos()).collect();
                let case = format!("{n} {lower} {upper} delta {delta}");
                let x_dense = dense_solve(&a, &b);
                let x = band_solve(&a, &b);
                // Tiny orders where the shift aliases onto the diagonal (n divides d) are
                // singular for delta = -1 only, which is not drawn.
                let x_dense = x_dense.unwrap_or_else(|| panic!("{case}: dense LU failed"));
                let x = x.unwrap_or_else(|| panic!("{case}: banded solve failed"));
                assert_close(&x, &x_dense, 1e-12 * n as f64 * bound)
                    .map_err(|e| format!("{case}: {e}"))
                    .unwrap();
                let eta = backward_error(&a, &x, &b);
                assert!(eta <= 1e-14, "{case}: backward error {eta:e}");
            }
        }
    }
}

/// Folding `0, n-1, 1, n-2, ...` turns a band (cyclic or not) into a plain band of
/// half-widths exactly `2 max(lower, upper)` once `n >= 2 max(lower, upper) + 2` (at
/// most that below): checked on the nonzeros of the permuted dense matrix.
#[test]
fn folded_bandwidth() {
    for n in 1..=40 {
        let order: Vec<usize> = (0..n)
            .map(|p| if p % 2 == 0 { p / 2 } else { n - 1 - p / 2 })
            .collect();
        for lower in 0..=4 {
            for upper in 0..=4 {
                for cyclic in [false, true] {
                    let mut a = Banded::new(n, lower, upper, cyclic);
                    for i in 0..n {
                        for d in -(lower as isize)..=upper as isize {
                            if cyclic || (0..n as isize).contains(&(i as isize + d)) {
                                // Positive: aliased diagonals never cancel.
                                a.add(i, d, 1.0 + 0.01 * i as f64 + 0.1 * d as f64 + 0.5);
                            }
                        }
                    }
                    let case = format!("{n} {lower} {upper} {cyclic}");
                    let m = lower.max(upper);
                    let f = a.folded();
                    assert!(!f.cyclic(), "{case}");
                    assert_eq!(f.order(), n, "{case}");
                    assert_eq!(
                        (f.lower(), f.upper()),
                        ((2 * m).min(n - 1), (2 * m).min(n - 1)),
                        "{case}"
                    );
                    let (dense, folded) = (a.to_dense(), f.to_dense());
                    let (mut below, mut above) = (0, 0);
                    for p in 0..n {
                        for q in 0..n {
                            assert_eq!(
                                folded[p * n + q],
                                dense[order[p] * n + order[q]],
                                "{case}: ({p}, {q})"
                            );
                            if folded[p * n + q] != 0.0 {
                                below = below.max(p.saturating_sub(q));
                                above = above.max(q.saturating_sub(p));
                            }
                        }
                    }
                    assert!(below <= 2 * m && above <= 2 * m, "{case}: {below} {above}");
                    if n >= 2 * m + 2 {
                        assert_eq!((below, above), (2 * m, 2 * m), "{case}");
                    }
                }
            }
        }
    }
}

/// `b = A x` for a known `x`, solved back; returns the maximum error and the time taken.
fn solve_known(a: &Banded) -> (f64, f64) {
    let n = a.order();
    let want: Vec<f64> = (0..n).map(|i| (0.37 * i as f64).sin() + 0.5).collect();
    let mut b = vec![0.0; n];
    a.mul_vec(&want, &mut b);
    let start = Instant::now();
    assert!(BandedSolver::new().solve(a, &mut b));
    let secs = start.elapsed().as_secs_f64();
    let err = b
        .iter()
        .zip(&want)
        .fold(0.0f64, |m, (x, w)| m.max((x - w).abs()));
    (err / max_abs(&want), secs)
}

#[test]
fn large_cyclic_pentadiagonal() {
    let n = 100_000;
    let mut a = Banded::new(n, 2, 2, true);
    for i in 0..n {
        let t = i as f64;
        a.add(i, -2, 0.3 * t.cos());
        a.add(i, -1, -1.0 + 0.2 * (0.7 * t).sin());
        a.add(i, 0, 4.0 + (0.1 * t).sin());
        a.add(i, 1, -1.1);
        a.add(i, 2, 0.25);
    }
    let (err, secs) = solve_known(&a);
    eprintln!(
        "n = {n} cyclic pentadiagonal: solved in {:.1} ms, error {err:e}",
        secs * 1e3
    );
    assert!(err <= 1e-10, "relative error {err:e}");
}

/// A symmetric indefinite periodic stencil (diagonal of alternating sign, couplings
/// that are not dominated by it), as a Hessian of a periodic chain can be.
fn indefinite_stencil(n: usize) -> Banded {
    let mut a = Banded::new(n, 2, 2, true);
    for i in 0..n {
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        for (d, v) in [(1, 1.0), (2, 0.4)] {
            a.add(i, d, v);
            a.add((i + d as usize) % n, -d, v);
        }
        a.add(i, 0, sign * (2.5 + 0.5 * (0.013 * i as f64).sin()));
    }
    a
}

#[test]
fn large_cyclic_symmetric_indefinite() {
    let n = 100_000;
    let (err, secs) = solve_known(&indefinite_stencil(n));
    eprintln!(
        "n = {n} symmetric indefinite: solved in {:.1} ms, error {err:e}",
        secs * 1e3
    );
    assert!(err <= 1e-10, "relative error {err:e}");
}

/// The indefinite stencil with site 0 coupled only to the sites before it (n - 1, n - 2):
/// row 0 of the leading `n - 4` block is zero, so a border of the last `lower + upper`
/// unknowns has an exactly singular leading block, while the matrix is well conditioned.
fn stencil_with_singular_leading_block(n: usize) -> Banded {
    let mut a = indefinite_stencil(n);
    a.add(0, 0, -a.get(0, 0));
    for d in 1..=2 {
        let v = a.get(0, d as usize);
        a.add(0, d, -v);
        a.add(d as usize, -d, -v);
    }
    a
}

#[test]
fn large_cyclic_singular_leading_block() {
    // Small: the matrix is well conditioned and matches the dense LU.
    let a = stencil_with_singular_leading_block(200);
    let dense = a.to_dense();
    for i in 0..200 {
        for j in 0..200 {
            assert_eq!(dense[i * 200 + j], dense[j * 200 + i], "symmetric");
        }
    }
    let k = cond(200, 200, &dense);
    assert!(k < 100.0, "cond {k:e}");
    assert!(
        cond(200, 196, &dense).is_infinite(),
        "leading block not singular"
    );
    let b: Vec<f64> = (0..200).map(|i| (i as f64 * 0.3).sin()).collect();
    let x_dense = dense_solve(&a, &b).unwrap();
    assert_close(&band_solve(&a, &b).unwrap(), &x_dense, 1e-12 * k).unwrap();
    // n = 100 000.
    let n = 100_000;
    let a = stencil_with_singular_leading_block(n);
    assert!((0..n - 4).all(|j| a.get(0, j) == 0.0));
    let (err, secs) = solve_known(&a);
    eprintln!(
        "n = {n} symmetric indefinite, singular leading block: solved in {:.1} ms, error {err:e}",
        secs * 1e3
    );
    assert!(err <= 1e-10, "relative error {err:e}");
}
