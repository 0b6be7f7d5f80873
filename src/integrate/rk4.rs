//! The classic fourth-order Runge-Kutta method with a fixed step.
//!
//! Invariant: a step whose stages show that h is outside the method's stability region
//! is refused ([`Fault::Unresolved`]) instead of stepping on into a wrong answer. Stages 2
//! and 3 are both taken at t + h/2, from states h/2 (k2 - k1) apart, so
//! 2 |k3 - k2| / |k2 - k1| estimates h |lambda| for the local Jacobian (exactly, for a
//! linear system); rk4 is stable up to about 2.8 on both axes.

use super::{Fault, Rhs};

/// The largest h |lambda| a step may show: past rk4's stability boundary (2.785 on the
/// negative real axis, 2.828 on the imaginary one) with a margin for the estimate.
const MAX_STEP_LAMBDA: f64 = 3.5;

/// Stage differences below this fraction of the stages themselves are rounding noise,
/// whose ratio means nothing.
const NOISE: f64 = 1e-6;

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
        self.check_resolved(t, h)?;
        let sixth = h / 6.0;
        for (i, yi) in y.iter_mut().enumerate() {
            *yi += sixth * (self.k1[i] + 2.0 * (self.k2[i] + self.k3[i]) + self.k4[i]);
        }
        Ok(())
    }

    /// [`Fault::Unresolved`] when the stages estimate h |lambda| beyond
    /// [`MAX_STEP_LAMBDA`] (see the module's invariant).
    fn check_resolved(&self, t: f64, h: f64) -> Result<(), Fault> {
        let (mut d21, mut d32, mut size) = (0.0f64, 0.0f64, 0.0f64);
        for i in 0..self.k1.len() {
            let (k1, k2, k3) = (self.k1[i], self.k2[i], self.k3[i]);
            d21 += (k2 - k1) * (k2 - k1);
            d32 += (k3 - k2) * (k3 - k2);
            size += k1 * k1 + k2 * k2 + k3 * k3;
        }
        let ratio = 2.0 * (d32 / d21).sqrt();
        if ratio > MAX_STEP_LAMBDA && d32 > NOISE * NOISE * size {
            return Err(Fault::Unresolved { t, h, ratio });
        }
        Ok(())
    }

    /// The first-stage buffer, for [`Rk4::step_from_k1`].
    pub fn k1_mut(&mut self) -> &mut [f64] {
        &mut self.k1
    }
}
