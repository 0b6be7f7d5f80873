//! The adaptive Dormand-Prince 5(4) method (Hairer, Norsett and Wanner's DOPRI5):
//! fifth-order steps, a fourth-order embedded error estimate measured in the max norm
//! (each component against atol + rtol * |y|), the classic step-size controller
//! h_new = h * clamp(0.9 * err^(-1/5), 0.2, 10), and first-same-as-last stages.
//! (Hairer's PI controller and the RMS norm were tried: on the chaotic double pendulum
//! they let the energy error grow two to three times larger at equal tolerances.)
//!
//! Output times are hit exactly by clipping the step that would pass them (the
//! unclipped step size is remembered and tried again afterwards), so every output row
//! is a true step end, not an interpolation.

// Index loops read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use super::{Fault, Rhs};

const C: [f64; 7] = [0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [0.2, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// Fifth-order solution minus the embedded fourth-order one.
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];
const SAFETY: f64 = 0.9;
const FAC_MIN: f64 = 0.2;
const FAC_MAX: f64 = 10.0;
const MAX_STEPS_PER_INTERVAL: usize = 1_000_000;

/// State of the adaptive integrator across calls of [`Dopri5::advance`].
pub struct Dopri5 {
    rtol: f64,
    atol: f64,
    k: [Vec<f64>; 7],
    y1: Vec<f64>,
    tmp: Vec<f64>,
    /// The next step size to try (0 before the first step).
    h: f64,
    /// k[0] holds f(t, y) for the current (t, y).
    fsal: bool,
    /// Accepted steps so far.
    pub steps: usize,
    /// Rejected steps so far.
    pub rejected: usize,
}

impl Dopri5 {
    /// An integrator for states of length `dim` with the given tolerances.
    pub fn new(dim: usize, rtol: f64, atol: f64) -> Dopri5 {
        Dopri5 {
            rtol,
            atol,
            k: std::array::from_fn(|_| vec![0.0; dim]),
            y1: vec![0.0; dim],
            tmp: vec![0.0; dim],
            h: 0.0,
            fsal: false,
            steps: 0,
            rejected: 0,
        }
    }

    fn scale(&self, a: f64, b: f64) -> f64 {
        self.atol + self.rtol * a.abs().max(b.abs())
    }

    /// Hairer's starting step: from the sizes of y, f(t, y) and a trial Euler step.
    fn initial_step(
        &mut self,
        f: &mut impl Rhs,
        t: f64,
        y: &[f64],
        h_max: f64,
    ) -> Result<f64, Fault> {
        let dim = y.len().max(1) as f64;
        let (mut d0, mut d1) = (0.0, 0.0);
        for (i, &yi) in y.iter().enumerate() {
            let sk = self.scale(yi, yi);
            d0 += (yi / sk).powi(2);
            d1 += (self.k[0][i] / sk).powi(2);
        }
        let (d0, d1) = ((d0 / dim).sqrt(), (d1 / dim).sqrt());
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        }
        .min(h_max);
        for (i, &yi) in y.iter().enumerate() {
            self.tmp[i] = yi + h0 * self.k[0][i];
        }
        f.rhs(t + h0, &self.tmp, &mut self.k[1])?;
        let mut d2 = 0.0;
        for (i, &yi) in y.iter().enumerate() {
            let sk = self.scale(yi, yi);
            d2 += ((self.k[1][i] - self.k[0][i]) / sk).powi(2);
        }
        let d2 = (d2 / dim).sqrt() / h0;
        let h1 = if d1.max(d2) <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf(0.2)
        };
        let h = (100.0 * h0).min(h1).min(h_max);
        Ok(if h.is_finite() && h > 0.0 { h } else { h0 })
    }

    /// Forgets the stored first stage: the state was changed between calls to
    /// [`Dopri5::advance`] (projected onto constraints).
    pub fn restart(&mut self) {
        self.fsal = false;
    }

    /// Integrates from (t, y) to exactly `target`, in place; `poll` is called with the
    /// current time before every step and may stop the integration.
    pub fn advance(
        &mut self,
        f: &mut impl Rhs,
        t: &mut f64,
        y: &mut [f64],
        target: f64,
        poll: &dyn Fn(f64) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        let dim = y.len();
        if !self.fsal {
            f.rhs(*t, y, &mut self.k[0])?;
            self.fsal = true;
        }
        if self.h == 0.0 {
            self.h = self.initial_step(f, *t, y, target - *t)?;
        }
        let mut last_rejected = false;
        let mut count = 0;
        while *t < target {
            poll(*t)?;
            count += 1;
            let natural = self.h;
            let mut h = natural;
            let clipped = *t + 1.01 * h >= target;
            if clipped {
                h = target - *t;
            }
            let h_min = 1e-14 * t.abs().max(target.abs()).max(1.0);
            if h < h_min && !clipped || count > MAX_STEPS_PER_INTERVAL {
                return Err(Fault::StepUnderflow { t: *t, h });
            }
            for s in 1..7 {
                for i in 0..dim {
                    let mut acc = 0.0;
                    for j in 0..s {
                        acc += A[s][j] * self.k[j][i];
                    }
                    self.tmp[i] = y[i] + h * acc;
                }
                if s == 6 {
                    self.y1.copy_from_slice(&self.tmp);
                }
                let (done, rest) = self.k.split_at_mut(s);
                let _ = done;
                f.rhs(*t + C[s] * h, &self.tmp, &mut rest[0])?;
            }
            let mut err = 0.0;
            for i in 0..dim {
                let mut e = 0.0;
                for (j, ej) in E.iter().enumerate() {
                    e += ej * self.k[j][i];
                }
                let sk = self.scale(y[i], self.y1[i]);
                let ei = (h * e / sk).abs();
                // Not f64::max, which drops a NaN: a NaN anywhere must reject the step.
                if ei.is_nan() || ei > err {
                    err = ei;
                }
            }
            if !err.is_finite() || self.y1.iter().any(|x| !x.is_finite()) {
                // A trial stage left the domain (or overflowed): retry smaller, and
                // give up when the step cannot shrink any further.
                self.rejected += 1;
                self.h = h * FAC_MIN;
                last_rejected = true;
                if self.h < h_min {
                    return Err(Fault::NonFinite {
                        t: *t + h,
                        last_finite: *t,
                    });
                }
                continue;
            }
            if err <= 1.0 {
                let fac = (err.powf(0.2) / SAFETY).clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN);
                let mut h_new = h / fac;
                if last_rejected {
                    h_new = h_new.min(h);
                }
                self.steps += 1;
                last_rejected = false;
                y.copy_from_slice(&self.y1);
                self.k.swap(0, 6);
                *t = if clipped { target } else { *t + h };
                self.h = if clipped { h_new.max(natural) } else { h_new };
            } else {
                let fac = (err.powf(0.2) / SAFETY).min(1.0 / FAC_MIN);
                self.h = h / fac;
                self.rejected += 1;
                last_rejected = true;
            }
        }
        Ok(())
    }
}
