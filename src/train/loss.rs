//! Training losses: the value of one sample and its cotangent (dLoss/dprediction).

use crate::check::Loss;

/// Adds the loss of one sample, summed over its components, to `total`, and writes the
/// unscaled cotangent dLoss/dpred per component into `cot` (`2 (pred - target)` for MSE,
/// `sign(pred - target)` for L1). The caller divides both by the number of terms of the
/// mean (samples times components).
pub fn sample_loss(loss: Loss, pred: &[f64], target: &[f64], cot: &mut [f64]) -> f64 {
    let mut total = 0.0;
    for ((c, p), t) in cot.iter_mut().zip(pred).zip(target) {
        let d = p - t;
        match loss {
            Loss::Mse => {
                total += d * d;
                *c = 2.0 * d;
            }
            Loss::L1 => {
                total += d.abs();
                *c = if d > 0.0 {
                    1.0
                } else if d < 0.0 {
                    -1.0
                } else {
                    0.0
                };
            }
        }
    }
    total
}
