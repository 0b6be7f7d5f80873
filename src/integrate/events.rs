//! Events: guards that fall through zero and the resets they trigger.
//!
//! An event is armed while its guard is positive; it fires when a step ends with the
//! guard at zero or below. The step is then cut by bisection to the first such time
//! (to [`TIME_TOLERANCE`] relative), the resets are applied there, and integration
//! resumes from the reset state.
//!
//! Invariant: a fired event's time is bracketed: armed at the previous point, fired at
//! the returned one, the two at most [`TIME_TOLERANCE`] apart.

use super::Fault;
use crate::backend::Backend;

/// Bisection stops when the bracket is this small relative to max(1, |t|).
pub const TIME_TOLERANCE: f64 = 1e-13;

/// Most events located in one output interval (more is taken for a Zeno cascade).
pub const MAX_PER_INTERVAL: usize = 1000;

/// The event kernel of a system.
pub struct Events {
    kernel: Box<dyn Backend + Send>,
    names: Vec<String>,
    /// State indices each event assigns, in order; the kernel's values follow the guards.
    targets: Vec<Vec<usize>>,
    n2: usize,
    input: Vec<f64>,
    out: Vec<f64>,
}

impl Events {
    /// Wraps the kernel of [`crate::kernel::event_spec`]; `learns` fill the inputs after t.
    pub fn new(
        kernel: Box<dyn Backend + Send>,
        names: Vec<String>,
        targets: Vec<Vec<usize>>,
        dof: usize,
        learns: &[f64],
    ) -> Events {
        let n2 = 2 * dof;
        let mut input = vec![0.0; n2 + 1 + learns.len()];
        input[n2 + 1..].copy_from_slice(learns);
        let out = vec![0.0; kernel.n_outputs()];
        Events {
            kernel,
            names,
            targets,
            n2,
            input,
            out,
        }
    }

    /// The events' names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn eval(&mut self, t: f64, y: &[f64]) -> Result<(), Fault> {
        self.input[..self.n2].copy_from_slice(y);
        self.input[self.n2] = t;
        self.kernel.eval(&self.input, &mut self.out)?;
        Ok(())
    }

    /// Which events are armed at (t, y): guard > 0.
    pub fn armed(&mut self, t: f64, y: &[f64]) -> Result<Vec<bool>, Fault> {
        self.eval(t, y)?;
        Ok(self.out[..self.names.len()]
            .iter()
            .map(|&g| g > 0.0)
            .collect())
    }

    /// Which of the `armed` events have fired at (t, y): guard <= 0 (a NaN guard fires
    /// nothing).
    pub fn fired(&mut self, armed: &[bool], t: f64, y: &[f64]) -> Result<Vec<bool>, Fault> {
        self.eval(t, y)?;
        Ok(armed
            .iter()
            .zip(&self.out)
            .map(|(&a, &g)| a && g <= 0.0)
            .collect())
    }

    /// Applies the resets of the `fired` events at (t, y), each evaluated at the state
    /// before any of them.
    pub fn reset(&mut self, fired: &[bool], t: f64, y: &mut [f64]) -> Result<(), Fault> {
        self.eval(t, y)?;
        let mut k = self.names.len();
        for (targets, &f) in self.targets.iter().zip(fired) {
            for &i in targets {
                if f {
                    y[i] = self.out[k];
                }
                k += 1;
            }
        }
        Ok(())
    }
}

/// Locates the first time in (t0, t0 + h] at which one of the `armed` events fires,
/// given that some fires at t0 + h. `advance(dt)` integrates from (t0, y0) over dt.
/// Returns the step to the event, the state there and which events fired.
pub fn locate(
    events: &mut Events,
    armed: &[bool],
    t0: f64,
    h: f64,
    mut advance: impl FnMut(f64) -> Result<Vec<f64>, Fault>,
) -> Result<(f64, Vec<f64>, Vec<bool>), Fault> {
    let (mut lo, mut hi) = (0.0, h);
    let mut y_hi = advance(h)?;
    let mut fired = events.fired(armed, t0 + h, &y_hi)?;
    let tolerance = TIME_TOLERANCE * (t0 + h).abs().max(1.0);
    while hi - lo > tolerance {
        let mid = 0.5 * (lo + hi);
        let y = advance(mid)?;
        let f = events.fired(armed, t0 + mid, &y)?;
        if f.iter().any(|&x| x) {
            (hi, y_hi, fired) = (mid, y, f);
        } else {
            lo = mid;
        }
    }
    Ok((hi, y_hi, fired))
}
