//! integrate stage: driving a compiled system through time.
//!
//! [`System`] wraps a system's kernel (and, for the implicit method, its derivative
//! kernel) behind backends built by [`crate::backend::create`]. The state is
//! `y = (q, v)` for L and `accel` systems and `y = (q, p)` for H systems. [`simulate`]
//! runs one trajectory with [`Method::Rk4`] ([`rk4`]), [`Method::Dopri5`] ([`dopri5`])
//! or [`Method::Variational`] ([`variational`]), handing every output row (at
//! t_k = k*dt_out, see [`Clock`] and [`Settings::intervals`]) to a callback, and stops on a
//! non-finite state or an interrupt with a [`Fault`] after the rows already handed out.
//! The fixed-step methods write a row every dt_out/dt steps; dopri5 steps as its error
//! control chooses and takes rows between step ends from its dense output.
//!
//! Architecture invariant: this stage reads kernels through backends only; it never
//! parses, checks or differentiates.

mod constraints;
pub mod dopri5;
mod events;
pub mod inputs;
pub mod rk4;
mod system;
pub mod variational;

pub use crate::check::Method;
pub use constraints::{Projection, INITIAL_TOLERANCE};
use events::Events;
pub use inputs::Signals;
pub use system::{Form, System};

use crate::backend::EvalError;
pub use crate::timeline::{n_steps, output_interval_hint, steps_per_row, time, Clock};
use std::sync::atomic::{AtomicBool, Ordering};

/// A right-hand side dy/dt = f(t, y) that the explicit steppers integrate.
pub trait Rhs {
    /// Length of the state vector.
    fn dim(&self) -> usize;
    /// Writes f(t, y) into `dy`.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), Fault>;
    /// Like [`Rhs::rhs`], and returns the energy at (t, y) (NaN when there is none).
    fn rhs_energy(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<f64, Fault> {
        self.rhs(t, y, dy).map(|()| f64::NAN)
    }
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
    /// The settings cannot be run (an output interval that is not a multiple of the step).
    #[error("{0}")]
    Settings(String),
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
    /// The step of the fixed-step methods; for dopri5 the bound on its first step (and,
    /// for systems with events, on every step).
    pub dt: f64,
    /// The output interval (`None`: dt). For rk4 and variational a multiple of dt
    /// ([`steps_per_row`]).
    pub dt_out: Option<f64>,
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

impl Settings {
    /// The output interval: dt_out, or dt without one.
    pub fn output_interval(&self) -> f64 {
        self.dt_out.unwrap_or(self.dt)
    }

    /// Steps of dt per output interval (rk4, variational; 1 for dopri5).
    pub fn steps_per_row(&self) -> Result<usize, String> {
        match (self.method, self.dt_out) {
            (Method::Dopri5, _) | (_, None) => Ok(1),
            (m, Some(dt_out)) => steps_per_row(self.dt, dt_out).map_err(|why| {
                format!(
                    "dt_out = {dt_out} is not a multiple of dt = {}: {}",
                    self.dt,
                    output_interval_hint(m == Method::Variational, &why)
                )
            }),
        }
    }

    /// The number n of output intervals: a finished trajectory has rows at k = 0..=n
    /// (and rows at events between them). dopri5: n = [`n_steps`]`(t_end, dt_out)`;
    /// rk4 and variational: the whole output intervals in [`n_steps`]`(t_end, dt)` steps.
    pub fn intervals(&self) -> usize {
        match self.method {
            Method::Dopri5 => n_steps(self.t_end, self.output_interval()),
            _ => n_steps(self.t_end, self.dt) / self.steps_per_row().unwrap_or(1).max(1),
        }
    }
}

/// One output row: the time, the state, and the kernel's outputs there (q'' for L and
/// `accel` systems, (q', p') for H systems, then the energy).
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// Row index k (t = k*dt_out, see [`Clock`]); a row at an event has the index of
    /// the next row at an output time.
    pub k: usize,
    /// The time.
    pub t: f64,
    /// The state y = (q, v) or (q, p).
    pub state: &'a [f64],
    /// The kernel outputs at this state; the last one is the energy.
    pub outputs: &'a [f64],
}

/// Counters of one trajectory.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
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
    /// The smallest and the largest energy over every step end and row (both NaN once
    /// one was NaN; `None` before the first row). The energy error over all steps,
    /// not only over the rows, follows from it and the first row's energy.
    pub energy: Option<(f64, f64)>,
}

/// Widens `range` to hold the energy `e` (a NaN makes it NaN for good).
fn see(range: &mut Option<(f64, f64)>, e: f64) {
    *range = Some(match *range {
        None => (e, e),
        Some((lo, _)) if lo.is_nan() || e.is_nan() => (f64::NAN, f64::NAN),
        Some((lo, hi)) => (lo.min(e), hi.max(e)),
    });
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
    let per = s.steps_per_row().map_err(Fault::Settings)?;
    let n = s.intervals();
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
        see(&mut stats.energy, out.last().copied().unwrap_or(f64::NAN));
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
            let clock = Clock::new(s.dt);
            let mut stepper = rk4::Rk4::new(dim);
            for j in 1..=n * per {
                let t0 = clock.at(j - 1);
                interrupted(t0)?;
                if (j - 1) % per != 0 {
                    // No row was written here: evaluate for the first stage (with the
                    // energy, as a row would, so that every step's energy is seen).
                    sys.eval(t0, &y, &mut out)?;
                    see(&mut stats.energy, out.last().copied().unwrap_or(f64::NAN));
                }
                if events.is_some() {
                    y0.copy_from_slice(&y);
                }
                // The evaluation at (t0, y) (a row's, or the one above) is the first stage.
                sys.derivative(&y, &out, stepper.k1_mut());
                stepper.step_from_k1(sys, t0, &mut y, s.dt)?;
                stats.steps += 1;
                let t1 = clock.at(j);
                check_finite(&y, t1, t0)?;
                sys.project(t1, &mut y)?;
                let k = j.div_ceil(per);
                if let Some(ev) = events.as_mut() {
                    let mut row =
                        |sys: &mut System, t: f64, y: &[f64]| emit(sys, k, t, y, &mut out, stats);
                    stats.events += handle_events(sys, ev, s, (t0, &y0), (t1, &mut y), &mut row)?;
                }
                if j % per == 0 {
                    emit(sys, k, t1, &y, &mut out, stats)?;
                }
            }
        }
        Method::Dopri5 => {
            let clock = Clock::new(s.output_interval());
            let t_last = clock.at(n);
            // With events, steps are at most dt: guards are only looked at step ends.
            let h_max = if events.is_some() {
                s.dt
            } else {
                f64::INFINITY
            };
            let mut stepper = dopri5::Dopri5::new(dim, s.rtol, s.atol);
            stepper.first_step_at_most(s.dt);
            let mut dense = vec![0.0; dim];
            let (mut t, mut next) = (0.0, 1);
            // Events since the last row at an output time (a Zeno cascade is refused).
            let mut cascade = 0;
            while next <= n {
                if t >= t_last {
                    return Err(Fault::Output(format!(
                        "internal: dopri5 reached t = {} with rows still to write",
                        time(t)
                    )));
                }
                interrupted(t)?;
                let before = t;
                if events.is_some() {
                    y0.copy_from_slice(&y);
                }
                stepper.step(sys, &mut t, &mut y, t_last, h_max)?;
                see(&mut stats.energy, stepper.start_energy());
                check_finite(&y, t, before)?;
                if sys.project(t, &mut y)? {
                    stepper.restart();
                }
                let event = match events.as_mut() {
                    Some(ev) => first_event(sys, ev, s, (before, &y0), (t, &y))?,
                    None => None,
                };
                // Rows inside the step: up to its end, or before the event.
                let limit = event.as_ref().map_or(t, |e| e.0);
                while next <= n {
                    let tk = clock.at(next);
                    if tk > limit || (tk == limit && event.is_some()) {
                        break;
                    }
                    if tk == t {
                        emit(sys, next, tk, &y, &mut out, stats)?;
                    } else {
                        stepper.dense(tk, &y, &mut dense);
                        sys.project(tk, &mut dense)?;
                        check_finite(&dense, tk, before)?;
                        emit(sys, next, tk, &dense, &mut out, stats)?;
                    }
                    next += 1;
                    cascade = 0;
                }
                if let Some((te, ye)) = event {
                    emit(sys, next, te, &ye, &mut out, stats)?;
                    stats.events += 1;
                    cascade += 1;
                    if cascade > events::MAX_PER_INTERVAL {
                        return Err(zeno(
                            events.as_ref(),
                            clock.at(next - 1),
                            clock.at(next.min(n)),
                        ));
                    }
                    (t, y) = (te, ye);
                    stepper.restart();
                    // A row due at the event's time holds the reset state.
                    while next <= n && clock.at(next) == t {
                        emit(sys, next, t, &y, &mut out, stats)?;
                        next += 1;
                        cascade = 0;
                    }
                }
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
            let clock = Clock::new(s.dt);
            let mut stepper = variational::Variational::new(sys, 0.0, &y)?;
            for j in 1..=n * per {
                let t0 = clock.at(j - 1);
                interrupted(t0)?;
                stepper.step(sys, t0, &mut y, s.dt)?;
                see(&mut stats.energy, stepper.start_energy());
                stats.steps += 1;
                check_finite(&y, clock.at(j), t0)?;
                if j % per == 0 {
                    emit(sys, j / per, clock.at(j), &y, &mut out, stats)?;
                }
            }
        }
    }
    Ok(())
}

/// The error of a Zeno cascade: more than [`events::MAX_PER_INTERVAL`] events between
/// two output times.
fn zeno(ev: Option<&Events>, t0: f64, t1: f64) -> Fault {
    Fault::Constraints(format!(
        "more than {} events between t = {} and t = {} (events {}): the resets do not let the state leave the guards",
        events::MAX_PER_INTERVAL,
        time(t0),
        time(t1),
        ev.map_or(String::new(), |e| e.names().join(", "))
    ))
}

/// The first event of the step from (t0, y0) to (t1, y1), if one fires: its time
/// (located by re-integrating from t0) and the state there, reset and projected onto
/// the constraints.
fn first_event(
    sys: &mut System,
    ev: &mut Events,
    s: &Settings,
    (t0, y0): (f64, &[f64]),
    (t1, y1): (f64, &[f64]),
) -> Result<Option<(f64, Vec<f64>)>, Fault> {
    let armed = ev.armed(t0, y0)?;
    if !ev.fired(&armed, t1, y1)?.iter().any(|&f| f) {
        return Ok(None);
    }
    let (h, mut ye, fired) =
        events::locate(ev, &armed, t0, t1 - t0, |dt| advance(sys, s, t0, y0, dt))?;
    let te = (t0 + h).min(t1);
    ev.reset(&fired, te, &mut ye)?;
    sys.project(te, &mut ye)?;
    check_finite(&ye, te, te)?;
    Ok(Some((te, ye)))
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
    Err(zeno(Some(ev), t0, t1))
}

/// The state at ts + dt integrated from (ts, ys) by `s.method` alone (rk4: one step;
/// dopri5: adaptive steps from a fresh start, the last one clipped to end at ts + dt).
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

/// A [`Fault::NonFinite`] unless every component of `y` is finite.
pub fn check_finite(y: &[f64], t: f64, last_finite: f64) -> Result<(), Fault> {
    if y.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(Fault::NonFinite { t, last_finite })
    }
}
