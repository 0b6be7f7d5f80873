//! The Adam optimiser (Kingma and Ba), with the learning-rate schedule of LANGUAGE.md:
//! `lr * lr_decay^(k / steps)` at step k.

/// Adam's state: first and second moment estimates and the number of updates applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// First moments.
    pub m: Vec<f64>,
    /// Second moments.
    pub v: Vec<f64>,
    /// Updates applied so far (skipped steps do not count).
    pub t: u64,
}

/// Exponential decay of the first moment.
pub const BETA1: f64 = 0.9;
/// Exponential decay of the second moment.
pub const BETA2: f64 = 0.999;
/// Added to the root of the second moment.
pub const EPS: f64 = 1e-8;

impl Adam {
    /// Fresh state for `n` parameters.
    pub fn new(n: usize) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// Applies one update with learning rate `lr` to `theta` given its gradient.
    pub fn update(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        self.t += 1;
        let b1 = 1.0 - BETA1.powf(self.t as f64);
        let b2 = 1.0 - BETA2.powf(self.t as f64);
        for (((x, g), m), v) in theta.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *x -= lr * (*m / b1) / ((*v / b2).sqrt() + EPS);
        }
    }
}

/// The learning rate at step `k` of `steps`: `lr * lr_decay^(k / steps)`.
pub fn schedule(lr: f64, lr_decay: f64, k: usize, steps: usize) -> f64 {
    lr * lr_decay.powf(k as f64 / steps.max(1) as f64)
}
