//! TEMPORARY stand-in with the banded solver's API (dense inside); replaced by the real
//! O(n) module before this lands.

use super::solve::lu_solve_in_place;

/// Banded matrix (stand-in).
pub struct Banded {
    n: usize,
    lower: usize,
    upper: usize,
    cyclic: bool,
    a: Vec<f64>,
}

impl Banded {
    /// Zeros.
    pub fn new(n: usize, lower: usize, upper: usize, cyclic: bool) -> Banded {
        Banded {
            n,
            lower,
            upper,
            cyclic,
            a: vec![0.0; n * n],
        }
    }
    /// Order.
    pub fn order(&self) -> usize {
        self.n
    }
    /// Zeroes.
    pub fn clear(&mut self) {
        self.a.iter_mut().for_each(|x| *x = 0.0);
    }
    /// Adds.
    pub fn add(&mut self, i: usize, d: isize, v: f64) {
        let _ = (self.lower, self.upper, self.cyclic);
        let j = (i as isize + d).rem_euclid(self.n as isize) as usize;
        self.a[i * self.n + j] += v;
    }
    /// Dense.
    pub fn to_dense(&self) -> Vec<f64> {
        self.a.clone()
    }
}

/// Solver (stand-in).
#[derive(Default)]
pub struct BandedSolver;

impl BandedSolver {
    /// New.
    pub fn new() -> BandedSolver {
        BandedSolver
    }
    /// Solves.
    pub fn solve(&mut self, a: &Banded, b: &mut [f64]) -> bool {
        let mut m = a.to_dense();
        lu_solve_in_place(a.n, &mut m, b)
    }
}
