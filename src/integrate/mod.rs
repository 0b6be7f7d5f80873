//! integrate stage: driving a compiled system through time.
//!
//! [`System`] wraps a system's kernel (and, for the implicit method, its derivative
//! kernel) behind backends built by [`crate::backend::create`]. The state is
//! `y = (q, v)` for L and `accel` systems and `y = (q, p)` for H systems. [`simulate`]
//! runs one trajectory with [`Method::Rk4`] ([`rk4`]), [`Method::Dopri5`] ([`dopri5`])
//! or [`Method::Variational`] ([`variational`]), handing every output row (at
//! t_k = k*dt, see [`Clock`] and [`n_steps`]) to a callback, and stops on a non-finite state or an
//! interrupt with a [`Fault`] after the rows already handed out.
//!
//! Architecture invariant: this stage reads kernels through backends only; it never
//! parses, checks or differentiates.

mod constraints;
pub mod dopri5;
mod events;
pub mod rk4;
mod system;
pub mod variational;

pub use crate::check::Method;
pub use constraints::{Projection, INITIAL_TOLERANCE};
use events::Events;
pub use system::{Form, System};

use crate::backend::EvalError;
use std::sync::atomic::{AtomicBool, Ordering};

/// A right-hand side dy/dt = f(t, y) that the explicit steppers integrate.
pub trait Rhs {
    /// Length of the state vector.
    fn dim(&self) -> usize;
    /// Writes f(t, y) into `dy`.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), Fault>;
}

/// Why a trajectory stopped early.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum Fault {
    /// The state (or the step's error estimate) became NaN or infinite.
    #[error("state became non-finite at t = {}; last finite time {}", time(*.t), time(*.last_finite))]
    NonFinite {
        /// The time the step was trying to reach.
        t: f64,
        /// The last time at which the state was finite.
        last_finite: f64,
    },
    /// The stop flag was raised (Ctrl-C).
    #[error("interrupted at t = {}", time(*.t))]
    Interrupted {
        /// The time reached.
        t: f64,
    },
    /// Newton's method of an implicit step did not converge.
    #[error("the implicit step from t = {} did not converge (Newton's method); try a smaller dt", time(*.t))]
    NoConvergence {
        /// The start of the failed step.
        t: f64,
    },
    /// The adaptive step size shrank below what the time resolution allows.
    #[error("the step size fell below {h:e} at t = {} (the solution is probably singular there)", time(*.t))]
    StepUnderflow {
        /// The time reached.
        t: f64,
        /// The step size.
        h: f64,
    },
    /// A fixed step far beyond what the dynamics allow: the stages of the step disagree
    /// as they do only outside the method's stability region (a mass matrix passing
    /// through a singularity, a close encounter, a stiff force).
    #[error("the step dt = {h} does not resolve the dynamics at t = {} (its stages estimate dt*|lambda| = {ratio:.3}, beyond rk4's stability limit of about 2.8; the solution is probably singular there); use a smaller dt or method dopri5", time(*.t))]
    Unresolved {
        /// The start of the step.
        t: f64,
        /// The step size.
        h: f64,
        /// The stages' estimate of h times the local Jacobian's largest eigenvalue.
        ratio: f64,
    },
    /// The kernel could not be evaluated.
    #[error("{0}")]
    Eval(#[from] EvalError),
    /// The constraints cannot be kept: an inconsistent initial state, or constraints
    /// that are not independent.
    #[error("{0}")]
    Constraints(String),
    /// The row callback failed (for example writing the output file).
    #[error("{0}")]
    Output(String),
}

impl Fault {
    /// True when the trajectory itself failed (non-finite, no convergence, step-size
    /// underflow), as opposed to an interruption or an output error.
    pub fn is_divergence(&self) -> bool {
        matches!(
            self,
            Fault::NonFinite { .. }
                | Fault::NoConvergence { .. }
                | Fault::StepUnderflow { .. }
                | Fault::Unresolved { .. }
        )
    }
}

/// What one trajectory needs besides the system and the initial state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// End time (the start is 0).
    pub t_end: f64,
    /// Output interval, and the step of the fixed-step methods.
    pub dt: f64,
    /// The integrator.
    pub method: Method,
    /// Relative tolerance of `dopri5`.
    pub rtol: f64,
    /// Absolute tolerance of `dopri5`.
    pub atol: f64,
    /// Project an initial state that violates the constraints onto them (else such a
    /// state is a [`Fault::Constraints`]).
    pub project_init: bool,
}

/// Number of steps n of a trajectory: rows are at t_k = k*dt for k = 0..=n, with
/// n = round(t_end/dt) when t_end/dt is within 1e-9 relative of an integer, else its floor.
pub fn n_steps(t_end: f64, dt: f64) -> usize {
    let r = t_end / dt;
    if !r.is_finite() || r <= 0.0 {
        return 0;
    }
    let k = r.round();
    if (r - k).abs() <= 1e-9 * r.max(1.0) {
        k as usize
    } else {
        r.floor() as usize
    }
}

/// The times of a trajectory's rows: t_k is the double nearest to k times dt's shortest
/// decimal (m / 10^d), computed as (k*m) / 10^d, one correctly rounded division of exact
/// numbers, so that rows at dt = 0.1 fall at 0.3, not at 3*0.1 = 0.30000000000000004.
/// When k*m passes 2^53 (or dt has no short decimal) t_k = k*dt.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    dt: f64,
    /// `(m, 10^d)` with dt = m / 10^d, when d is in 1..=22 (10^d is then exact).
    decimal: Option<(u64, f64)>,
}

impl Clock {
    /// The clock of step `dt`.
    pub fn new(dt: f64) -> Clock {
        Clock {
            dt,
            decimal: decimal_parts(dt),
        }
    }

    /// The time of row `k`.
    pub fn at(&self, k: usize) -> f64 {
        match self.decimal {
            Some((m, scale)) => match (k as u64).checked_mul(m) {
                Some(km) if km < 1 << 53 => km as f64 / scale,
                _ => k as f64 * self.dt,
            },
            None => k as f64 * self.dt,
        }
    }
}

/// `(m, 10^d)` with `x = m / 10^d` in x's shortest decimal, when 1 <= d <= 22.
fn decimal_parts(x: f64) -> Option<(u64, f64)> {
    let s = format!("{x:e}");
    let (mantissa, exp) = s.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let d = frac.len() as i32 - exp;
    let m: u64 = format!("{int}{frac}").parse().ok()?;
    (1..=22)
        .contains(&d)
        .then(|| (m, format!("1e{d}").parse().unwrap_or(f64::NAN)))
}

/// One output row: the time, the state, and the kernel's outputs there (q'' for L and
/// `accel` systems, (q', p') for H systems, then the energy).
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// Row index k (t = k*dt, see [`Clock`]).
    pub k: usize,
    /// The time.
    pub t: f64,
    /// The state y = (q, v) or (q, p).
    pub state: &'a [f64],
    /// The kernel outputs at this state; the last one is the energy.
    pub outputs: &'a [f64],
}

/// Counters of one trajectory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Accepted steps.
    pub steps: usize,
    /// Rejected steps (dopri5).
    pub rejected: usize,
    /// Rows handed to the callback.
    pub rows: usize,
    /// Kernel evaluations where the mass matrix was singular.
    pub singular: usize,
    /// Events that fired (each wrote a row at its time).
    pub events: usize,
}

/// A trajectory that stopped early: why, and what had been done.
#[derive(Debug, PartialEq)]
pub struct Stopped {
    /// Why it stopped.
    pub fault: Fault,
    /// Counters up to the stop.
    pub stats: Stats,
}

/// Integrates `sys` from `y0` at t = 0 to `settings.t_end`, calling `on_row` at every
/// output time (k = 0 first). `stop` is polled every step. Every row handed out is
/// whole and finite in its state; on a fault no further row is produced.
pub fn simulate(
    sys: &mut System,
    y0: &[f64],
    settings: &Settings,
    stop: &AtomicBool,
    on_row: &mut dyn FnMut(Row) -> Result<(), String>,
) -> Result<Stats, Stopped> {
    let mut stats = Stats::default();
    let mut events = sys.take_events();
    let result = drive(sys, &mut events, y0, settings, stop, on_row, &mut stats);
    sys.put_events(events);
    stats.singular = sys.singular();
    match result {
        Ok(()) => Ok(stats),
        Err(fault) => Err(Stopped { fault, stats }),
    }
}

fn drive(
    sys: &mut System,
    events: &mut Option<Events>,
    y0: &[f64],
    s: &Settings,
    stop: &AtomicBool,
    on_row: &mut dyn FnMut(Row) -> Result<(), String>,
    stats: &mut Stats,
) -> Result<(), Fault> {
    let n = n_steps(s.t_end, s.dt);
    let dim = sys.dim();
    let mut y = y0.to_vec();
    if y.iter().any(|x| !x.is_finite()) {
        return Err(Fault::NonFinite {
            t: 0.0,
            last_finite: 0.0,
        });
    }
    sys.start_on_constraints(&mut y, s.project_init)?;
    let mut out = vec![0.0; sys.n_outputs()];
    let clock = Clock::new(s.dt);
    // The state at the start of each step, kept only for systems with events.
    let mut y0 = vec![0.0; if events.is_some() { y.len() } else { 0 }];
    let mut emit = |sys: &mut System,
                    k: usize,
                    t: f64,
                    y: &[f64],
                    out: &mut [f64],
                    stats: &mut Stats|
     -> Result<(), Fault> {
        sys.eval(t, y, out)?;
        on_row(Row {
            k,
            t,
            state: y,
            outputs: out,
        })
        .map_err(Fault::Output)?;
        stats.rows += 1;
        Ok(())
    };
    emit(sys, 0, 0.0, &y, &mut out, stats)?;
    let interrupted = |t: f64| -> Result<(), Fault> {
        if stop.load(Ordering::Relaxed) {
            Err(Fault::Interrupted { t })
        } else {
            Ok(())
        }
    };
    match s.method {
        Method::Rk4 => {
            let mut stepper = rk4::Rk4::new(dim);
            for k in 1..=n {
                let t0 = clock.at(k - 1);
                interrupted(t0)?;
                if events.is_some() {
                    y0.copy_from_slice(&y);
                }
                // The row just emitted evaluated f(t0, y): reuse it as the first stage.
                sys.derivative(&y, &out, stepper.k1_mut());
                stepper.step_from_k1(sys, t0, &mut y, s.dt)?;
                stats.steps += 1;
                check_finite(&y, clock.at(k), t0)?;
                sys.project(clock.at(k), &mut y)?;
                if let Some(ev) = events.as_mut() {
                    let mut row =
                        |sys: &mut System, t: f64, y: &[f64]| emit(sys, k, t, y, &mut out, stats);
                    stats.events +=
                        handle_events(sys, ev, s, (t0, &y0), (clock.at(k), &mut y), &mut row)?;
                }
                emit(sys, k, clock.at(k), &y, &mut out, stats)?;
            }
        }
        Method::Dopri5 => {
            let mut stepper = dopri5::Dopri5::new(dim, s.rtol, s.atol);
            let mut t = 0.0;
            for k in 1..=n {
                let target = clock.at(k);
                let before = t;
                if events.is_some() {
                    y0.copy_from_slice(&y);
                }
                stepper.advance(sys, &mut t, &mut y, target, &|t| interrupted(t))?;
                check_finite(&y, target, before)?;
                t = target;
                if sys.project(t, &mut y)? {
                    stepper.restart();
                }
                if let Some(ev) = events.as_mut() {
                    let mut row =
                        |sys: &mut System, t: f64, y: &[f64]| emit(sys, k, t, y, &mut out, stats);
                    let fired = handle_events(sys, ev, s, (before, &y0), (t, &mut y), &mut row)?;
                    if fired > 0 {
                        stepper.restart();
                        stats.events += fired;
                    }
                }
                emit(sys, k, target, &y, &mut out, stats)?;
            }
            stats.steps = stepper.steps;
            stats.rejected = stepper.rejected;
        }
        Method::Variational => {
            if events.is_some() {
                return Err(Fault::Constraints(
                    "the variational method does not handle events; use rk4 or dopri5".into(),
                ));
            }
            if sys.constrained() {
                return Err(Fault::Constraints(
                    "the variational method does not handle constraints; use rk4 or dopri5".into(),
                ));
            }
            let mut stepper = variational::Variational::new(sys, 0.0, &y)?;
            for k in 1..=n {
                let t0 = clock.at(k - 1);
                interrupted(t0)?;
                stepper.step(sys, t0, &mut y, s.dt)?;
                stats.steps += 1;
                check_finite(&y, clock.at(k), t0)?;
                emit(sys, k, clock.at(k), &y, &mut out, stats)?;
            }
        }
    }
    Ok(())
}

/// Writes a row at an event: (system, time, state).
type RowAt<'a> = dyn FnMut(&mut System, f64, &[f64]) -> Result<(), Fault> + 'a;

/// Fires the events of the step from (t0, y0) to (t1, y1), if any: each is located,
/// reset, projected onto the constraints and handed to `row`, and the rest of the step
/// integrated again from there into `y1`. Returns how many fired.
fn handle_events(
    sys: &mut System,
    ev: &mut Events,
    s: &Settings,
    (t0, y0): (f64, &[f64]),
    (t1, y1): (f64, &mut Vec<f64>),
    row: &mut RowAt,
) -> Result<usize, Fault> {
    let armed = ev.armed(t0, y0)?;
    if !ev.fired(&armed, t1, y1)?.iter().any(|&f| f) {
        return Ok(0);
    }
    let (mut ts, mut ys) = (t0, y0.to_vec());
    for fired_count in 0..events::MAX_PER_INTERVAL {
        let armed = ev.armed(ts, &ys)?;
        let end = advance(sys, s, ts, &ys, t1 - ts)?;
        if !ev.fired(&armed, t1, &end)?.iter().any(|&f| f) {
            *y1 = end;
            return Ok(fired_count);
        }
        let (h, mut ye, fired) =
            events::locate(ev, &armed, ts, t1 - ts, |dt| advance(sys, s, ts, &ys, dt))?;
        ts += h;
        ev.reset(&fired, ts, &mut ye)?;
        sys.project(ts, &mut ye)?;
        check_finite(&ye, ts, ts)?;
        row(sys, ts, &ye)?;
        ys = ye;
    }
    Err(Fault::Constraints(format!(
        "more than {} events between t = {} and t = {} (events {}): the resets do not let the state leave the guards",
        events::MAX_PER_INTERVAL,
        time(t0),
        time(t1),
        ev.names().join(", ")
    )))
}

/// The state at ts + dt integrated from (ts, ys) by `s.method` alone (rk4: one step;
/// dopri5: adaptive steps from a fresh start).
fn advance(
    sys: &mut System,
    s: &Settings,
    ts: f64,
    ys: &[f64],
    dt: f64,
) -> Result<Vec<f64>, Fault> {
    let mut y = ys.to_vec();
    match s.method {
        Method::Dopri5 => {
            let mut t = ts;
            dopri5::Dopri5::new(y.len(), s.rtol, s.atol).advance(
                sys,
                &mut t,
                &mut y,
                ts + dt,
                &|_| Ok(()),
            )?;
        }
        _ => rk4::Rk4::new(y.len()).step(sys, ts, &mut y, dt)?,
    }
    Ok(y)
}

/// A time for messages: 12 significant digits, so k*dt prints as `0.95`, not
/// `0.9500000000000001`.
pub fn time(t: f64) -> String {
    let s = format!("{t:.12e}");
    s.parse::<f64>().map_or(s, |x| x.to_string())
}

/// A [`Fault::NonFinite`] unless every component of `y` is finite.
pub fn check_finite(y: &[f64], t: f64, last_finite: f64) -> Result<(), Fault> {
    if y.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Fault::NonFinite { t, last_finite })
    }
}
