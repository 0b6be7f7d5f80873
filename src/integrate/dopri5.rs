//! The adaptive Dormand-Prince 5(4) method (Hairer, Norsett and Wanner's DOPRI5):
//! fifth-order steps, a fourth-order embedded error estimate measured in the max norm
//! (each component against atol + rtol * |y|), the classic step-size controller
//! h_new = h * clamp(0.9 * err^(-1/5), 0.2, 10), and first-same-as-last stages.
//! (Hairer's PI controller and the RMS norm were tried: on the chaotic double pendulum
//! they let the energy error grow two to three times larger at equal tolerances.)
//!
//! Steps are chosen by the error control alone; output rows between step ends come
//! from the method's dense output, the continuous extension of order 4 of Hairer,
//! Norsett and Wanner (their `CONTD5`), built from the stages of the step (no extra
//! evaluation). Only a step that would pass the end of the integration is clipped to it
//! ([`Dopri5::step`]); [`Dopri5::advance`] clips to a given time instead (event location
//! and fixed-interval use: the unclipped step size is remembered and tried again
//! afterwards).

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
/// The dense output's last coefficients (Hairer, Norsett and Wanner, `dopri5.f`): the
/// weights of stages 1, 3, 4, 5, 6 and 7 in the fifth coefficient of the interpolant.
const D: [f64; 7] = [
    -12715105075.0 / 11282082432.0,
    0.0,
    87487479700.0 / 32700410799.0,
    -10690763975.0 / 1880347072.0,
    701980252875.0 / 199316789632.0,
    -1453857185.0 / 822651844.0,
    69997945.0 / 29380423.0,
];
const SAFETY: f64 = 0.9;
const FAC_MIN: f64 = 0.2;
const FAC_MAX: f64 = 10.0;
const MAX_STEPS_PER_INTERVAL: usize = 1_000_000;

/// State of the adaptive integrator across steps.
pub struct Dopri5 {
    rtol: f64,
    atol: f64,
    /// The stages of the last step; after an accepted one, k[0] is f at its end (first
    /// same as last) and k[6] f at its start.
    k: [Vec<f64>; 7],
    /// The end of the last trial step (of the last accepted one after a step).
    y1: Vec<f64>,
    tmp: Vec<f64>,
    /// The start of the last accepted step, for the dense output.
    y_old: Vec<f64>,
    t_old: f64,
    h_old: f64,
    /// The next step size to try (0 before the first step).
    h: f64,
    /// The largest first step (the first step size is estimated, then bounded by this).
    first_max: f64,
    /// k[0] holds f(t, y) for the current (t, y).
    fsal: bool,
    /// The energy at the state k[0] was evaluated at (NaN when the right-hand side has none).
    energy: f64,
    /// The energy at the start of the last step.
    start_energy: f64,
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
            y_old: vec![0.0; dim],
            t_old: 0.0,
            h_old: 0.0,
            h: 0.0,
            first_max: f64::INFINITY,
            fsal: false,
            energy: f64::NAN,
            start_energy: f64::NAN,
            steps: 0,
            rejected: 0,
        }
    }

    /// Bounds the first step (its size is otherwise estimated from f, Hairer's way).
    pub fn first_step_at_most(&mut self, h: f64) {
        self.first_max = h;
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

    /// Forgets the stored first stage: the state was changed between steps (projected
    /// onto constraints, or reset by an event). The dense output of the last step stays
    /// valid until the next step.
    pub fn restart(&mut self) {
        self.fsal = false;
    }

    /// The energy at the start of the last step (from the evaluation of its first
    /// stage; NaN when the right-hand side reports none).
    pub fn start_energy(&self) -> f64 {
        self.start_energy
    }

    /// One accepted step from (t, y), in place, of the size the error control chooses,
    /// but at most `h_max` and ending at `t_max` at the latest (a step that would end
    /// within 1% of its length before `t_max` is stretched to it; one that would pass it
    /// is clipped, and its unclipped size tried again afterwards). Rejected trials are
    /// retried smaller. Afterwards [`Dopri5::dense`] interpolates inside the step.
    pub fn step(
        &mut self,
        f: &mut impl Rhs,
        t: &mut f64,
        y: &mut [f64],
        t_max: f64,
        h_max: f64,
    ) -> Result<(), Fault> {
        let dim = y.len();
        if !self.fsal {
            self.energy = f.rhs_energy(*t, y, &mut self.k[0])?;
            self.fsal = true;
        }
        self.start_energy = self.energy;
        if self.h == 0.0 {
            self.h = self.initial_step(f, *t, y, self.first_max.min(h_max).min(t_max - *t))?;
        }
        let mut last_rejected = false;
        let h_min = 1e-14 * t.abs().max(t_max.abs()).max(1.0);
        loop {
            let natural = self.h;
            let mut h = natural.min(h_max);
            let clipped = *t + 1.01 * h >= t_max;
            if clipped {
                h = t_max - *t;
            }
            if h < h_min && !clipped {
                return Err(Fault::StepUnderflow { t: *t, h });
            }
            let mut trial_energy = f64::NAN;
            for s in 1..7 {
                for i in 0..dim {
                    let mut acc = 0.0;
                    for j in 0..s {
                        acc += A[s][j] * self.k[j][i];
                    }
                    self.tmp[i] = y[i] + h * acc;
                }
                let (_, rest) = self.k.split_at_mut(s);
                if s == 6 {
                    self.y1.copy_from_slice(&self.tmp);
                    trial_energy = f.rhs_energy(*t + h, &self.tmp, &mut rest[0])?;
                } else {
                    f.rhs(*t + C[s] * h, &self.tmp, &mut rest[0])?;
                }
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
                self.y_old.copy_from_slice(y);
                self.t_old = *t;
                self.h_old = h;
                y.copy_from_slice(&self.y1);
                self.k.swap(0, 6);
                self.energy = trial_energy;
                *t = if clipped { t_max } else { *t + h };
                self.h = if clipped { h_new.max(natural) } else { h_new };
                return Ok(());
            }
            let fac = (err.powf(0.2) / SAFETY).min(1.0 / FAC_MIN);
            self.h = h / fac;
            self.rejected += 1;
            last_rejected = true;
        }
    }

    /// The state at time `t` inside the last accepted step, from the continuous
    /// extension of order 4, into `out`. `y_end` is the state kept at the step's end:
    /// when it differs from the step's own end (a projection onto constraints), the
    /// difference is blended in linearly, theta * (y_end - y1), so that the interpolant
    /// runs from the kept start to the kept end. Valid until the next step.
    pub fn dense(&self, t: f64, y_end: &[f64], out: &mut [f64]) {
        let h = self.h_old;
        let theta = (t - self.t_old) / h;
        let theta1 = 1.0 - theta;
        // After the step, k[0] is f at its end and k[6] f at its start.
        let (k1, k7) = (&self.k[6], &self.k[0]);
        for i in 0..out.len() {
            let y0 = self.y_old[i];
            let diff = self.y1[i] - y0;
            let bspl = h * k1[i] - diff;
            let c4 = diff - h * k7[i] - bspl;
            let c5 = h
                * (D[0] * k1[i]
                    + D[2] * self.k[2][i]
                    + D[3] * self.k[3][i]
                    + D[4] * self.k[4][i]
                    + D[5] * self.k[5][i]
                    + D[6] * k7[i]);
            out[i] = y0
                + theta * (diff + theta1 * (bspl + theta * (c4 + theta1 * c5)))
                + theta * (y_end[i] - self.y1[i]);
        }
    }

    /// Integrates from (t, y) to exactly `target`, in place, every step ending on or
    /// before it; `poll` is called with the current time before every step and may stop
    /// the integration.
    pub fn advance(
        &mut self,
        f: &mut impl Rhs,
        t: &mut f64,
        y: &mut [f64],
        target: f64,
        poll: &dyn Fn(f64) -> Result<(), Fault>,
    ) -> Result<(), Fault> {
        let mut count = 0;
        while *t < target {
            poll(*t)?;
            count += 1;
            if count > MAX_STEPS_PER_INTERVAL {
                return Err(Fault::StepUnderflow { t: *t, h: self.h });
            }
            self.step(f, t, y, target, f64::INFINITY)?;
        }
        Ok(())
    }
}
