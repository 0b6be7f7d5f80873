//! Trajectories in memory: one run, or an ensemble of runs in parallel.
//!
//! Rows are at t_k = k*dt_out ([`integrate::Clock`]) exactly as `lagc simulate` writes them
//! (the same integrator code), so a run here and one on the command line agree to the
//! last bit.

use super::system::System;
use super::{Error, Method};
use crate::integrate::{self, Settings, Signals};
use ndarray::{Array1, Array2, ArrayView2};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Most rows one trajectory may hold in memory.
pub const MAX_ROWS: usize = 100_000_000;

/// How to integrate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimOptions {
    /// End time (the start is 0).
    pub t_end: f64,
    /// The step of rk4 and the variational method; for dopri5 the bound on its first
    /// step (and on every step of a system with events), and the output interval
    /// without `dt_out`.
    pub dt: f64,
    /// The output interval (`None`: dt). For rk4 and variational a multiple of dt (within
    /// 1e-9 relative); dopri5 takes its rows from its dense output.
    pub dt_out: Option<f64>,
    /// The integrator.
    pub method: Method,
    /// Relative tolerance of dopri5.
    pub rtol: f64,
    /// Absolute tolerance of dopri5.
    pub atol: f64,
    /// Project initial states that violate the constraints onto them (else such a
    /// state is an error).
    pub project_init: bool,
}

impl SimOptions {
    fn settings(&self) -> Result<Settings, Error> {
        let ok = |x: f64| x.is_finite() && x > 0.0;
        if !ok(self.t_end) || !ok(self.dt) {
            return Err(Error::usage(format!(
                "t_end and dt must be finite numbers > 0, got t_end = {} and dt = {}",
                self.t_end, self.dt
            )));
        }
        if let Some(d) = self.dt_out {
            if !ok(d) {
                return Err(Error::usage(format!(
                    "dt_out must be a finite number > 0, got {d}"
                )));
            }
        }
        if !ok(self.rtol) || !ok(self.atol) {
            return Err(Error::usage("rtol and atol must be finite numbers > 0"));
        }
        let settings = Settings {
            t_end: self.t_end,
            dt: self.dt,
            dt_out: self.dt_out,
            method: self.method,
            rtol: self.rtol,
            atol: self.atol,
            project_init: self.project_init,
        };
        settings.steps_per_row().map_err(Error::usage)?;
        let rows = self.t_end / settings.output_interval();
        if rows >= MAX_ROWS as f64 {
            let what = if self.dt_out.is_some() {
                "dt_out"
            } else {
                "dt"
            };
            return Err(Error::usage(format!(
                "t_end / {what} = {rows:e} rows; at most {MAX_ROWS} rows fit in memory"
            )));
        }
        if let Some(why) = crate::limits::steps_problem(self.t_end, self.dt) {
            return Err(Error::usage(format!("too many steps: {why}")));
        }
        Ok(settings)
    }
}

/// The rows of one run: times, states (q, then v or p) and kernel outputs (q'' or
/// (q', p'), then the energy).
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// Row times (m).
    pub t: Array1<f64>,
    /// States (m x 2 dof).
    pub y: Array2<f64>,
    /// Kernel outputs (m x outputs).
    pub out: Array2<f64>,
}

/// A run that stopped early: why, and the finite rows before the stop.
#[derive(Clone, Debug, PartialEq)]
pub struct Diverged {
    /// The message (`state became non-finite at t = ...`).
    pub message: String,
    /// The rows kept.
    pub trajectory: Trajectory,
}

impl System {
    /// Integrates from every initial state (rows of `init`, k x 2 dof), the runs spread
    /// over the machine's cores. Each run ends alone: a diverged run is an `Err` in its
    /// place, the others still finish. Raising `stop` ends every run (each an `Err`
    /// saying it was interrupted, with its rows so far).
    pub fn simulate(
        &self,
        init: ArrayView2<f64>,
        opts: &SimOptions,
        stop: &AtomicBool,
    ) -> Result<Vec<Result<Trajectory, Box<Diverged>>>, Error> {
        self.simulate_with_inputs(init, opts, None, stop)
    }

    /// [`System::simulate`] with the measured inputs as signals of time (required when
    /// the system has inputs; their names must include every one of
    /// [`System::input_names`] and their times cover [0, t_end]).
    pub fn simulate_with_inputs(
        &self,
        init: ArrayView2<f64>,
        opts: &SimOptions,
        inputs: Option<&Signals>,
        stop: &AtomicBool,
    ) -> Result<Vec<Result<Trajectory, Box<Diverged>>>, Error> {
        let settings = opts.settings()?;
        let signals = self.signals_for(inputs, opts.t_end)?;
        let (k, w) = init.dim();
        if w != 2 * self.dof() {
            return Err(Error::usage(format!(
                "initial states of system `{}` have {} columns ({}), got {w}",
                self.name(),
                2 * self.dof(),
                self.state_names().join(", ")
            )));
        }
        let starts: Vec<Vec<f64>> = init.outer_iter().map(|r| r.to_vec()).collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(k.max(1));
        let mut slots: Vec<Option<Result<Trajectory, Box<Diverged>>>> = vec![None; k];
        let per = k.div_ceil(threads).max(1);
        std::thread::scope(|scope| -> Result<(), Error> {
            let mut handles = vec![];
            for (chunk, out) in starts.chunks(per).zip(slots.chunks_mut(per)) {
                let signals = signals.clone();
                handles.push(scope.spawn(move || -> Result<(), Error> {
                    let mut integrator = self.integrator(settings.method)?;
                    integrator.set_signals(signals);
                    for (y0, slot) in chunk.iter().zip(out.iter_mut()) {
                        *slot = Some(run_one(&mut integrator, y0, &settings, stop));
                    }
                    Ok(())
                }));
            }
            for h in handles {
                h.join()
                    .map_err(|_| Error::runtime("internal: a simulation thread panicked"))??;
            }
            Ok(())
        })?;
        Ok(slots.into_iter().flatten().collect())
    }

    /// The system's inputs, in its slot order, from `inputs` (which may hold more).
    pub fn signals_for(
        &self,
        inputs: Option<&Signals>,
        t_end: f64,
    ) -> Result<Option<Arc<Signals>>, Error> {
        let names = self.input_names();
        if names.is_empty() {
            return Ok(None);
        }
        let Some(s) = inputs else {
            return Err(Error::usage(format!(
                "system `{}` has measured inputs ({}): give them as signals of time (`inputs = \"u.csv\";` in a simulate block)",
                self.name(),
                names.join(", ")
            )));
        };
        let s = s.select(names).map_err(Error::usage)?;
        s.check_range(t_end).map_err(Error::usage)?;
        Ok(Some(Arc::new(s)))
    }

    /// A compiled integrator system with this system's nets and `learn` values.
    fn integrator(&self, method: Method) -> Result<integrate::System, Error> {
        let implicit = method == Method::Variational;
        let why = implicit.then_some("method = variational needs its dense Newton matrices");
        let mut eom = self.derive_eom(why)?;
        integrate::System::new(
            &mut eom,
            self.backend(),
            self.shared_nets(),
            self.learn_values(),
            implicit,
        )
        .map_err(|e| {
            Error::runtime(format!(
                "internal: cannot lower system `{}`: {e}",
                self.name()
            ))
        })
    }
}

fn run_one(
    sys: &mut integrate::System,
    y0: &[f64],
    s: &Settings,
    stop: &AtomicBool,
) -> Result<Trajectory, Box<Diverged>> {
    let n2 = y0.len();
    let no = sys.n_outputs();
    let rows = s.intervals() + 1;
    let (mut t, mut y, mut out) = (
        Vec::with_capacity(rows),
        Vec::with_capacity(rows * n2),
        Vec::with_capacity(rows * no),
    );
    let result = integrate::simulate(sys, y0, s, stop, &mut |r| {
        t.push(r.t);
        y.extend_from_slice(r.state);
        out.extend_from_slice(r.outputs);
        Ok(())
    });
    let m = t.len();
    let tr = Trajectory {
        t: Array1::from_vec(t),
        y: Array2::from_shape_vec((m, n2), y).unwrap_or_else(|_| Array2::zeros((0, n2))),
        out: Array2::from_shape_vec((m, no), out).unwrap_or_else(|_| Array2::zeros((0, no))),
    };
    match result {
        Ok(_) => Ok(tr),
        Err(stopped) => Err(Box::new(Diverged {
            message: stopped.fault.to_string(),
            trajectory: tr,
        })),
    }
}
