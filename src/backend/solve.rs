//! Dense linear solves: LU with partial pivoting, and the pseudo-inverse fallback for
//! singular systems.

/// Relative pivot threshold: a pivot below `PIVOT_TOL * max|a|` means singular.
pub const PIVOT_TOL: f64 = 1e-12;

/// Solves `a x = b` in place by Gaussian elimination with partial pivoting (`a` is
/// row-major `n x n`, `b` becomes `x`). Returns `false`, leaving `a` and `b`
/// overwritten, when a pivot falls below `PIVOT_TOL * max|a|` (including `a = 0`).
/// Non-finite entries never count as singular: they propagate to `x`.
pub fn lu_solve_in_place(n: usize, a: &mut [f64], b: &mut [f64]) -> bool {
    let mut max = 0.0f64;
    let mut finite = true;
    for &x in a.iter() {
        finite &= x.is_finite();
        max = max.max(x.abs());
    }
    let tol = if finite { PIVOT_TOL * max } else { -1.0 };
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
        if best <= tol && finite {
            return false;
        }
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            b.swap(k, p);
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
