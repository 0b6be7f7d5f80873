//! Keeping a constrained state on its constraints.
//!
//! The saddle-point kernel keeps A q'' = c exactly, but integration errors drift off
//! phi(q, t) = 0 and g(q, q', t) = 0. After a step, [`Projection::project`] moves q by
//! Gauss-Newton to the nearest point of phi = 0 (q -= J^T (J J^T)^-1 phi, J = dphi/dq)
//! and then q' to the nearest velocity with g = 0 (one step: g is linear in q').
//!
//! Invariant: a projection that cannot be done (dependent constraints) is a fault,
//! never a silently unprojected state.

use super::Fault;
use crate::backend::Backend;
use nalgebra::{DMatrix, DVector};

/// Gauss-Newton iterations allowed to reach phi = 0.
const MAX_ITERATIONS: usize = 8;

/// Relative tolerance of an initial state's residuals (against 1 + max |state|).
pub const INITIAL_TOLERANCE: f64 = 1e-9;

/// The constraint kernel of a system and the projection it allows.
pub struct Projection {
    kernel: Box<dyn Backend + Send>,
    names: Vec<String>,
    holonomic: Vec<usize>,
    n: usize,
    input: Vec<f64>,
    out: Vec<f64>,
}

/// What [`Projection::residuals`] found: the largest residual and whose it was.
pub struct Residual {
    /// The constraint's name.
    pub name: String,
    /// |phi| for a holonomic constraint at position level, else |g|.
    pub size: f64,
    /// Position level (phi) or velocity level (g).
    pub position: bool,
}

impl Projection {
    /// Wraps the kernel of [`crate::kernel::constraint_spec`]; `holonomic` are the
    /// indices of the holonomic constraints among `names`; `learns` fill the inputs
    /// after t.
    pub fn new(
        kernel: Box<dyn Backend + Send>,
        names: Vec<String>,
        holonomic: Vec<usize>,
        n: usize,
        learns: &[f64],
    ) -> Projection {
        let mut input = vec![0.0; 2 * n + 1 + learns.len()];
        input[2 * n + 1..].copy_from_slice(learns);
        let out = vec![0.0; kernel.n_outputs()];
        Projection {
            kernel,
            names,
            holonomic,
            n,
            input,
            out,
        }
    }

    /// Replaces the values of the `learn` params (the inputs after t).
    pub fn set_learns(&mut self, learns: &[f64]) {
        self.input[2 * self.n + 1..].copy_from_slice(learns);
    }

    /// Evaluates the constraint kernel at (t, y).
    fn eval(&mut self, t: f64, y: &[f64]) -> Result<(), Fault> {
        let n2 = 2 * self.n;
        self.input[..n2].copy_from_slice(y);
        self.input[n2] = t;
        self.kernel.eval(&self.input, &mut self.out)?;
        Ok(())
    }

    /// Slices of the last evaluation: (phi, dphi/dq, g, A).
    fn parts(&self) -> (&[f64], &[f64], &[f64], &[f64]) {
        let (h, m, n) = (self.holonomic.len(), self.names.len(), self.n);
        let (phi, rest) = self.out.split_at(h);
        let (jac, rest) = rest.split_at(h * n);
        let (g, a) = rest.split_at(m);
        (phi, jac, g, a)
    }

    /// The largest residual at (t, y): phi first, then g.
    pub fn residuals(&mut self, t: f64, y: &[f64]) -> Result<Residual, Fault> {
        self.eval(t, y)?;
        let (phi, _, g, _) = self.parts();
        let worst = |xs: &[f64]| {
            xs.iter().enumerate().fold(
                (0, 0.0f64),
                |(k, w), (i, x)| if x.abs() > w { (i, x.abs()) } else { (k, w) },
            )
        };
        let (kp, p) = worst(phi);
        let (kg, v) = worst(g);
        let (name, size, position) = if p >= v {
            (
                self.names[self.holonomic.get(kp).copied().unwrap_or(0)].clone(),
                p,
                true,
            )
        } else {
            (self.names[kg].clone(), v, false)
        };
        Ok(Residual {
            name,
            size,
            position,
        })
    }

    /// Whether A (every constraint's row) has full rank at (t, y); else the message.
    pub fn independent(&mut self, t: f64, y: &[f64]) -> Result<Option<String>, Fault> {
        self.eval(t, y)?;
        let (_, _, _, a) = self.parts();
        let a = DMatrix::from_row_slice(self.names.len(), self.n, a);
        let rank = a.rank(1e-10 * a.amax().max(f64::MIN_POSITIVE));
        Ok((rank < self.names.len()).then(|| {
            format!(
                "the constraints {} are not independent at t = {}: the rank of their Jacobian is {rank}, not {}",
                self.quoted_names(),
                super::time(t),
                self.names.len()
            )
        }))
    }

    fn quoted_names(&self) -> String {
        let names: Vec<String> = self.names.iter().map(|n| format!("`{n}`")).collect();
        names.join(", ")
    }

    /// Moves y = (q, q') onto phi = 0 and g = 0 at time t.
    pub fn project(&mut self, t: f64, y: &mut [f64]) -> Result<(), Fault> {
        let n = self.n;
        let h = self.holonomic.len();
        let iterations = if h == 0 { 0 } else { MAX_ITERATIONS };
        for _ in 0..iterations {
            self.eval(t, y)?;
            let (phi, jac, _, _) = self.parts();
            let step = self.least_norm(t, h, jac, phi)?;
            let mut moved = 0.0f64;
            let scale = 1.0 + y[..n].iter().fold(0.0f64, |m, x| m.max(x.abs()));
            for (qi, d) in y[..n].iter_mut().zip(step.iter()) {
                *qi -= d;
                moved = moved.max(d.abs());
            }
            if moved <= 4.0 * f64::EPSILON * scale {
                break;
            }
        }
        self.eval(t, y)?;
        let (_, _, g, a) = self.parts();
        let step = self.least_norm(t, self.names.len(), a, g)?;
        for (vi, d) in y[n..].iter_mut().zip(step.iter()) {
            *vi -= d;
        }
        Ok(())
    }

    /// The least-norm x with J x = r (J is rows x n, row-major): x = J^T (J J^T)^-1 r.
    fn least_norm(
        &self,
        t: f64,
        rows: usize,
        jac: &[f64],
        r: &[f64],
    ) -> Result<DVector<f64>, Fault> {
        let j = DMatrix::from_row_slice(rows, self.n, jac);
        let gram = &j * j.transpose();
        let chol = gram.cholesky().ok_or_else(|| {
            Fault::Constraints(format!(
                "the constraints {} became dependent at t = {}; cannot project onto them",
                self.quoted_names(),
                super::time(t)
            ))
        })?;
        Ok(j.transpose() * chol.solve(&DVector::from_column_slice(r)))
    }
}
