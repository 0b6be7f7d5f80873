//! The classic fourth-order Runge-Kutta method with a fixed step.

use super::{Fault, Rhs};

/// Stage buffers of the classic RK4 method.
pub struct Rk4 {
    k1: Vec<f64>,
    k2: Vec<f64>,
    k3: Vec<f64>,
    k4: Vec<f64>,
    tmp: Vec<f64>,
}

impl Rk4 {
    /// Buffers for states of length `dim`.
    pub fn new(dim: usize) -> Rk4 {
        Rk4 {
            k1: vec![0.0; dim],
            k2: vec![0.0; dim],
            k3: vec![0.0; dim],
            k4: vec![0.0; dim],
            tmp: vec![0.0; dim],
        }
    }

    /// One step of size `h` from (t, y), in place.
    pub fn step(&mut self, f: &mut impl Rhs, t: f64, y: &mut [f64], h: f64) -> Result<(), Fault> {
        f.rhs(t, y, &mut self.k1)?;
        self.step_from_k1(f, t, y, h)
    }

    /// Like [`Rk4::step`], with the first stage f(t, y) already in [`Rk4::k1_mut`].
    pub fn step_from_k1(
        &mut self,
        f: &mut impl Rhs,
        t: f64,
        y: &mut [f64],
        h: f64,
    ) -> Result<(), Fault> {
        let half = 0.5 * h;
        let stage = |tmp: &mut [f64], y: &[f64], k: &[f64], c: f64| {
            for ((t, &yi), &ki) in tmp.iter_mut().zip(y).zip(k) {
                *t = yi + c * ki;
            }
        };
        stage(&mut self.tmp, y, &self.k1, half);
        f.rhs(t + half, &self.tmp, &mut self.k2)?;
        stage(&mut self.tmp, y, &self.k2, half);
        f.rhs(t + half, &self.tmp, &mut self.k3)?;
        stage(&mut self.tmp, y, &self.k3, h);
        f.rhs(t + h, &self.tmp, &mut self.k4)?;
        let sixth = h / 6.0;
        for (i, yi) in y.iter_mut().enumerate() {
            *yi += sixth * (self.k1[i] + 2.0 * (self.k2[i] + self.k3[i]) + self.k4[i]);
        }
        Ok(())
    }

    /// The first-stage buffer, for [`Rk4::step_from_k1`].
    pub fn k1_mut(&mut self) -> &mut [f64] {
        &mut self.k1
    }
}
