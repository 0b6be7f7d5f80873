//! Dense linear solves: LU with partial pivoting, and the pseudo-inverse fallback for
//! singular systems.
//!
//! The singularity test is scale-aware: the pivot of column k, found in row p, counts
//! as zero when it is at most `PIVOT_TOL * min(row scale of p, column scale of k)`,
//! the scales being the largest magnitudes of the original row and column. A mass 1e300
//! beside a mass 1 is therefore not singular, while a matrix of rank n - 1 is at any
//! scale. The JIT's inline solve performs the same operations in the same order.

/// Relative pivot threshold: a pivot below `PIVOT_TOL` times its row's and column's
/// scale means singular.
pub const PIVOT_TOL: f64 = 1e-12;

/// The largest magnitude of each row and of each column of the row-major `n x n`
/// matrix `a`, and whether every entry is finite.
pub fn scales(n: usize, a: &[f64]) -> (Vec<f64>, Vec<f64>, bool) {
    let mut rows = vec![0.0f64; n];
    let mut cols = vec![0.0f64; n];
    let mut finite = true;
    for i in 0..n {
        for j in 0..n {
            let x = a[i * n + j];
            finite &= x.is_finite();
            rows[i] = rows[i].max(x.abs());
            cols[j] = cols[j].max(x.abs());
        }
    }
    (rows, cols, finite)
}

/// Solves `a x = b` in place by Gaussian elimination with partial pivoting (`a` is
/// row-major `n x n`, `b` becomes `x`). Returns `false`, leaving `a` and `b`
/// overwritten, when a pivot is negligible against its row's and column's scale
/// (module docs; including `a = 0`). Non-finite entries never count as singular: they
/// propagate to `x`.
pub fn lu_solve_in_place(n: usize, a: &mut [f64], b: &mut [f64]) -> bool {
    let (mut rows, cols, finite) = scales(n, a);
    for k in 0..n {
        let mut p = k;
        let mut best = a[k * n + k].abs();
        for i in k + 1..n {
            let v = a[i * n + k].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            b.swap(k, p);
            rows.swap(k, p);
        }
        if finite && best <= PIVOT_TOL * rows[k].min(cols[k]) {
            return false;
        }
        let pivot = a[k * n + k];
        for i in k + 1..n {
            let f = a[i * n + k] / pivot;
            if f == 0.0 {
                continue;
            }
            for j in k + 1..n {
                a[i * n + j] -= f * a[k * n + j];
            }
            b[i] -= f * b[k];
        }
    }
    for k in (0..n).rev() {
        let mut s = b[k];
        for j in k + 1..n {
            s -= a[k * n + j] * b[j];
        }
        b[k] = s / a[k * n + k];
    }
    true
}

/// `x = pinv(a) b` (Moore–Penrose, singular values below `PIVOT_TOL * max σ` dropped)
/// for a finite row-major `n x n` matrix; the zero matrix gives `x = 0`. If the SVD
/// does not converge, `x` is NaN.
pub fn pinv_solve(n: usize, a: &[f64], b: &[f64], x: &mut [f64]) {
    let m = nalgebra::DMatrix::from_row_slice(n, n, a);
    let rhs = nalgebra::DVector::from_column_slice(b);
    let Some(svd) = m.try_svd(true, true, f64::EPSILON, 10_000) else {
        x.iter_mut().for_each(|v| *v = f64::NAN);
        return;
    };
    let smax = svd.singular_values.max();
    let eps = PIVOT_TOL * smax;
    let sol = match svd.pseudo_inverse(eps) {
        Ok(p) => p * rhs,
        Err(_) => nalgebra::DVector::from_element(n, f64::NAN),
    };
    for (xi, si) in x.iter_mut().zip(sol.iter()) {
        *xi = *si;
    }
}
