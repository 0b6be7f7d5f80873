//! Symplectic implicit steps.
//!
//! **L systems: a variational integrator.** With the midpoint discrete Lagrangian
//! L_d(q0, q1) = h L(qm, vm, tm), qm = (q0 + q1)/2, vm = (q1 - q0)/h, tm = t + h/2, and
//! the midpoint discrete forces F = (h/2) Q(qm, vm, tm) on each end, the forced discrete
//! Euler-Lagrange equations in position-momentum form are
//!
//! ```text
//! p0 = -D1 L_d(q0, q1) - F = P(m) - (h/2) (g(m) + Q(m))
//! p1 =  D2 L_d(q0, q1) + F = P(m) + (h/2) (g(m) + Q(m))
//! ```
//!
//! with g = dL/dq and P = dL/dq' at the midpoint m. Each step solves the first equation
//! for q1 by Newton's method (Jacobian `(h/4)(L_qq + Q_q) + (1/2)(L_qv + Q_v - L_vq) - L_vv/h`
//! from the compiled derivative kernel), then reads p1 off the second. The state the
//! integrator reports carries velocities, recovered from p by the Legendre transform
//! P(q, v, t) = p (again Newton, with L_vv). Without forces the map (q0, p0) -> (q1, p1)
//! is symplectic, so the energy error stays bounded instead of drifting.
//!
//! **H systems: the implicit midpoint rule** y1 = y0 + h f(t + h/2, (y0 + y1)/2), solved
//! by Newton's method with the Jacobian of f. It is symplectic too.

// Index loops read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use super::{Fault, Form, System};
use crate::backend::solve::lu_solve_in_place;
use crate::kernel::implicit_outputs;

/// Newton stops when the update is below this, relative to the size of the unknowns.
const NEWTON_TOL: f64 = 1e-13;
/// Newton gives up after this many iterations.
const NEWTON_MAX: usize = 50;

/// State and scratch space of the implicit steps of one trajectory.
pub struct Variational {
    n: usize,
    /// The discrete momentum p_k of the current step (L systems).
    p: Vec<f64>,
    d: Vec<f64>,
    out: Vec<f64>,
    jac: Vec<f64>,
    res: Vec<f64>,
    x: Vec<f64>,
    y1: Vec<f64>,
}

impl Variational {
    /// Starts at (t, y): for L systems p0 = dL/dq'(q0, v0, t).
    pub fn new(sys: &mut System, t: f64, y: &[f64]) -> Result<Variational, Fault> {
        let n = sys.dof();
        let h_form = sys.form() == Form::Hamiltonian;
        let m = if h_form { 2 * n } else { n };
        let mut v = Variational {
            n,
            p: vec![0.0; n],
            d: vec![0.0; implicit_outputs(n, h_form)],
            out: vec![0.0; sys.n_outputs()],
            jac: vec![0.0; m * m],
            res: vec![0.0; m],
            x: vec![0.0; 2 * n],
            y1: vec![0.0; 2 * n],
        };
        if sys.form() == Form::Lagrangian {
            sys.eval_implicit(t, y, &mut v.d)?;
            v.p.copy_from_slice(&v.d[n..2 * n]);
        }
        Ok(v)
    }

    /// The energy at the start of the last step (each step evaluates the system there
    /// for its initial guess).
    pub fn start_energy(&self) -> f64 {
        self.out.last().copied().unwrap_or(f64::NAN)
    }

    /// One step of size `h` from (t, y), in place (y = (q, v) or (q, p)).
    pub fn step(&mut self, sys: &mut System, t: f64, y: &mut [f64], h: f64) -> Result<(), Fault> {
        match sys.form() {
            Form::Lagrangian => self.step_lagrangian(sys, t, y, h),
            Form::Hamiltonian => self.step_midpoint(sys, t, y, h),
            Form::Accel => Err(Fault::Output(
                "the variational method needs an L or H system".into(),
            )),
        }
    }

    fn step_lagrangian(
        &mut self,
        sys: &mut System,
        t: f64,
        y: &mut [f64],
        h: f64,
    ) -> Result<(), Fault> {
        let n = self.n;
        let tm = t + 0.5 * h;
        // Initial guess: a Taylor step q1 = q0 + h v0 + h^2/2 q''.
        sys.eval(t, y, &mut self.out)?;
        let mut q1: Vec<f64> = (0..n)
            .map(|i| y[i] + h * y[n + i] + 0.5 * h * h * self.out[i])
            .collect();
        if q1.iter().any(|x| !x.is_finite()) {
            q1.copy_from_slice(&y[..n]);
        }
        let mut converged = false;
        for _ in 0..NEWTON_MAX {
            self.eval_midpoint(sys, tm, &y[..n], &q1, h)?;
            let d = &self.d;
            let (g, pm, f) = (&d[..n], &d[n..2 * n], &d[2 * n..3 * n]);
            let nn = n * n;
            let base = 3 * n;
            let (lqq, lvq, lvv) = (
                &d[base..base + nn],
                &d[base + nn..base + 2 * nn],
                &d[base + 2 * nn..base + 3 * nn],
            );
            let (fq, fv) = (
                &d[base + 3 * nn..base + 4 * nn],
                &d[base + 4 * nn..base + 5 * nn],
            );
            for i in 0..n {
                // Solve J delta = -R with R = p0 + (h/2)(g + Q) - P.
                self.res[i] = -(self.p[i] + 0.5 * h * (g[i] + f[i]) - pm[i]);
                for j in 0..n {
                    let ij = i * n + j;
                    let ji = j * n + i;
                    self.jac[ij] = 0.25 * h * (lqq[ij] + fq[ij]) + 0.5 * (lvq[ji] + fv[ij])
                        - 0.5 * lvq[ij]
                        - lvv[ij] / h;
                }
            }
            if !self.solve(n) {
                return Err(Fault::NoConvergence { t });
            }
            let mut size = 1.0f64;
            let mut change = 0.0f64;
            for i in 0..n {
                q1[i] += self.res[i];
                size = size.max(q1[i].abs());
                change = change.max(self.res[i].abs());
            }
            if !change.is_finite() {
                return Err(Fault::NonFinite {
                    t: t + h,
                    last_finite: t,
                });
            }
            if change <= NEWTON_TOL * size {
                converged = true;
                break;
            }
        }
        if !converged {
            return Err(Fault::NoConvergence { t });
        }
        // p1 = P + (h/2)(g + Q) at the converged midpoint.
        self.eval_midpoint(sys, tm, &y[..n], &q1, h)?;
        for i in 0..n {
            self.p[i] = self.d[n + i] + 0.5 * h * (self.d[i] + self.d[2 * n + i]);
        }
        // Velocities by the Legendre transform P(q1, v1, t + h) = p1, from the guess
        // v1 = 2 vm - v0.
        let mut v1: Vec<f64> = (0..n)
            .map(|i| 2.0 * (q1[i] - y[i]) / h - y[n + i])
            .collect();
        self.legendre(sys, t + h, &q1, &mut v1, t)?;
        y[..n].copy_from_slice(&q1);
        y[n..].copy_from_slice(&v1);
        Ok(())
    }

    /// Evaluates the derivative kernel at the midpoint of q0 and q1.
    fn eval_midpoint(
        &mut self,
        sys: &mut System,
        tm: f64,
        q0: &[f64],
        q1: &[f64],
        h: f64,
    ) -> Result<(), Fault> {
        let n = self.n;
        for i in 0..n {
            self.x[i] = 0.5 * (q0[i] + q1[i]);
            self.x[n + i] = (q1[i] - q0[i]) / h;
        }
        sys.eval_implicit(tm, &self.x, &mut self.d)
    }

    /// Solves P(q, v, t) = self.p for v by Newton's method from the guess in `v`.
    fn legendre(
        &mut self,
        sys: &mut System,
        t: f64,
        q: &[f64],
        v: &mut [f64],
        t_step: f64,
    ) -> Result<(), Fault> {
        let n = self.n;
        let nn = n * n;
        for _ in 0..NEWTON_MAX {
            self.x[..n].copy_from_slice(q);
            self.x[n..].copy_from_slice(v);
            sys.eval_implicit(t, &self.x, &mut self.d)?;
            let lvv = &self.d[3 * n + 2 * nn..3 * n + 3 * nn];
            self.jac.copy_from_slice(lvv);
            for i in 0..n {
                self.res[i] = self.p[i] - self.d[n + i];
            }
            if !self.solve(n) {
                return Err(Fault::NoConvergence { t: t_step });
            }
            let mut size = 1.0f64;
            let mut change = 0.0f64;
            for i in 0..n {
                v[i] += self.res[i];
                size = size.max(v[i].abs());
                change = change.max(self.res[i].abs());
            }
            if !change.is_finite() {
                return Err(Fault::NonFinite {
                    t,
                    last_finite: t_step,
                });
            }
            if change <= NEWTON_TOL * size {
                return Ok(());
            }
        }
        Err(Fault::NoConvergence { t: t_step })
    }

    fn step_midpoint(
        &mut self,
        sys: &mut System,
        t: f64,
        y: &mut [f64],
        h: f64,
    ) -> Result<(), Fault> {
        let m = 2 * self.n;
        let tm = t + 0.5 * h;
        // Initial guess: an Euler step.
        sys.eval(t, y, &mut self.out)?;
        for i in 0..m {
            self.y1[i] = y[i] + h * self.out[i];
            if !self.y1[i].is_finite() {
                self.y1[i] = y[i];
            }
        }
        for _ in 0..NEWTON_MAX {
            for i in 0..m {
                self.x[i] = 0.5 * (y[i] + self.y1[i]);
            }
            sys.eval_implicit(tm, &self.x, &mut self.d)?;
            let (f, jf) = self.d.split_at(m);
            for i in 0..m {
                // G = y1 - y0 - h f(ym), dG/dy1 = I - (h/2) df/dy.
                self.res[i] = -(self.y1[i] - y[i] - h * f[i]);
                for j in 0..m {
                    let id = if i == j { 1.0 } else { 0.0 };
                    self.jac[i * m + j] = id - 0.5 * h * jf[i * m + j];
                }
            }
            if !self.solve(m) {
                return Err(Fault::NoConvergence { t });
            }
            let mut size = 1.0f64;
            let mut change = 0.0f64;
            for i in 0..m {
                self.y1[i] += self.res[i];
                size = size.max(self.y1[i].abs());
                change = change.max(self.res[i].abs());
            }
            if !change.is_finite() {
                return Err(Fault::NonFinite {
                    t: t + h,
                    last_finite: t,
                });
            }
            if change <= NEWTON_TOL * size {
                y.copy_from_slice(&self.y1);
                return Ok(());
            }
        }
        Err(Fault::NoConvergence { t })
    }

    /// Solves `jac * x = res` in place (`x` into `res`); false when singular.
    fn solve(&mut self, m: usize) -> bool {
        lu_solve_in_place(m, &mut self.jac[..m * m], &mut self.res[..m])
    }
}
