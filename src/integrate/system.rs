//! A compiled system as the integrators see it.

use super::constraints::{Projection, INITIAL_TOLERANCE};
use super::events::Events;
use super::inputs::Signals;
use super::{Fault, Rhs};
use crate::backend::{self, Backend, SharedNets};
use crate::kernel::{self, LowerError};
use crate::symbolic::eom::{Eom, EomKind};

/// Which equations a system's kernel computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// An L system: the kernel gives q''; the state is (q, q').
    Lagrangian,
    /// An H system: the kernel gives (q', p'); the state is (q, p).
    Hamiltonian,
    /// Explicit accelerations: the kernel gives q''; the state is (q, q'); no energy.
    Accel,
}

/// A system's kernels behind backends, with the fixed inputs (`learn` values) filled in.
///
/// Kernel inputs are q, v (or p), t, learn params ([`Eom::input_names`]); outputs are
/// q'' (or q', p') then the energy ([`Eom::output_names`]).
pub struct System {
    n: usize,
    form: Form,
    kernel: Box<dyn Backend + Send>,
    /// The same kernel without the energy output, for the intermediate stages.
    rate: Box<dyn Backend + Send>,
    implicit: Option<Box<dyn Backend + Send>>,
    projection: Option<Projection>,
    events: Option<Events>,
    input: Vec<f64>,
    scratch: Vec<f64>,
    singular: usize,
    /// First kernel input of the measured inputs (after t and the `learn` params).
    first_input: usize,
    /// Their signals, written into the input row at each evaluation's time.
    signals: Option<std::sync::Arc<Signals>>,
}

impl System {
    /// Compiles the equations of motion of `eom` (and, with `implicit`, the derivative
    /// kernel of [`kernel::implicit_spec`] for the variational method) on backend `kind`.
    /// The implicit kernel needs a dense derivation ([`Eom::derive_unrolled`] for arrays).
    /// `learns` are the values of the `learn` params, in declaration order (the measured
    /// inputs after them, if given, are replaced by [`System::set_signals`]'s values).
    pub fn new(
        eom: &mut Eom,
        kind: backend::Kind,
        nets: Option<SharedNets>,
        learns: &[f64],
        implicit: bool,
    ) -> Result<System, LowerError> {
        let first_input = 2 * eom.dof() + 1 + eom.learns.len() - eom.n_inputs;
        let mut learns = learns.to_vec();
        learns.resize(eom.learns.len(), 0.0);
        let learns = &learns[..];
        let form = match eom.kind {
            EomKind::Lagrangian { .. } | EomKind::Lattice(_) => Form::Lagrangian,
            EomKind::Hamiltonian { .. } => Form::Hamiltonian,
            EomKind::Accel(_) => Form::Accel,
        };
        let program = kernel::eom_program(eom, true, true)?;
        let rate = backend::create_eom(kernel::eom_program(eom, true, false)?, kind, nets.clone());
        if implicit && eom.lattice().is_some() {
            return Err(LowerError::LatticeDense);
        }
        let implicit = match implicit.then(|| kernel::implicit_spec(eom)).flatten() {
            Some(spec) => Some(backend::create(
                kernel::lower(&eom.dag, &spec)?,
                kind,
                nets.clone(),
            )),
            None => None,
        };
        let n = eom.dof();
        let projection = match kernel::constraint_spec(eom) {
            Some(spec) => Some(Projection::new(
                backend::create(kernel::lower(&eom.dag, &spec)?, kind, nets.clone()),
                eom.constraints.names.clone(),
                eom.constraints.holonomic(),
                n,
                learns,
            )),
            None => None,
        };
        let events = match kernel::event_spec(eom) {
            Some(spec) => Some(Events::new(
                backend::create(kernel::lower(&eom.dag, &spec)?, kind, nets.clone()),
                eom.events.iter().map(|e| e.name.clone()).collect(),
                eom.events
                    .iter()
                    .map(|e| e.resets.iter().map(|r| r.0).collect())
                    .collect(),
                n,
                learns,
            )),
            None => None,
        };
        let mut input = vec![0.0; 2 * n + 1 + learns.len()];
        input[2 * n + 1..].copy_from_slice(learns);
        Ok(System {
            n,
            form,
            kernel: backend::create_eom(program, kind, nets),
            rate,
            implicit,
            projection,
            events,
            input,
            scratch: vec![],
            singular: 0,
            first_input,
            signals: None,
        })
    }

    /// Measured inputs: from now on every evaluation at time t reads the system's input
    /// slots from `signals` at t (their names in the system's declaration order).
    pub fn set_signals(&mut self, signals: Option<std::sync::Arc<Signals>>) {
        self.signals = signals;
    }

    /// Writes the state, t and the inputs at t into the kernel's input row.
    fn set_input(&mut self, t: f64, y: &[f64]) {
        let n2 = 2 * self.n;
        self.input[..n2].copy_from_slice(y);
        self.input[n2] = t;
        if let Some(s) = &self.signals {
            s.at(t, &mut self.input[self.first_input..]);
        }
    }

    /// Scalar degrees of freedom.
    pub fn dof(&self) -> usize {
        self.n
    }

    /// L, H or accel.
    pub fn form(&self) -> Form {
        self.form
    }

    /// Length of the state (2 * dof).
    pub fn dim(&self) -> usize {
        2 * self.n
    }

    /// Number of kernel outputs: dof (or 2 dof for H systems) plus the energy.
    pub fn n_outputs(&self) -> usize {
        self.kernel.n_outputs()
    }

    /// Kernel evaluations so far at which the mass matrix was singular.
    pub fn singular(&self) -> usize {
        self.singular
    }

    /// Evaluates the kernel at (t, y) into `out` (q'' or (q', p'), then the energy).
    pub fn eval(&mut self, t: f64, y: &[f64], out: &mut [f64]) -> Result<(), Fault> {
        self.set_input(t, y);
        let r = self.kernel.eval(&self.input, out)?;
        self.singular += r.singular;
        Ok(())
    }

    /// dy/dt from the kernel outputs `out` at the state `y`.
    pub fn derivative(&self, y: &[f64], out: &[f64], dy: &mut [f64]) {
        let n = self.n;
        match self.form {
            Form::Hamiltonian => dy.copy_from_slice(&out[..2 * n]),
            Form::Lagrangian | Form::Accel => {
                dy[..n].copy_from_slice(&y[n..2 * n]);
                dy[n..].copy_from_slice(&out[..n]);
            }
        }
    }

    /// The event kernel, lent to the integrator for one run ([`System::put_events`]).
    pub(super) fn take_events(&mut self) -> Option<Events> {
        self.events.take()
    }

    /// Returns what [`System::take_events`] lent.
    pub(super) fn put_events(&mut self, events: Option<Events>) {
        self.events = events;
    }

    /// Whether the system has constraints.
    pub fn constrained(&self) -> bool {
        self.projection.is_some()
    }

    /// Checks an initial state against the constraints: independent, and satisfied to
    /// [`INITIAL_TOLERANCE`] relative, or projected onto them when `project` is set.
    pub fn start_on_constraints(&mut self, y: &mut [f64], project: bool) -> Result<(), Fault> {
        let Some(p) = &mut self.projection else {
            return Ok(());
        };
        if let Some(why) = p.independent(0.0, y)? {
            return Err(Fault::Constraints(why));
        }
        let tolerance = INITIAL_TOLERANCE * (1.0 + y.iter().fold(0.0f64, |m, x| m.max(x.abs())));
        let r = p.residuals(0.0, y)?;
        if r.size <= tolerance {
            return Ok(());
        }
        if project {
            return p.project(0.0, y);
        }
        Err(Fault::Constraints(format!(
            "the initial state violates constraint `{}` by {:.3e} ({}; tolerance {tolerance:.1e}): fix the initial values or project them onto the constraints (`--project-init`)",
            r.name,
            r.size,
            if r.position { "its value" } else { "its rate" },
        )))
    }

    /// Projects y onto the constraints at time t; false (y untouched) without any.
    pub fn project(&mut self, t: f64, y: &mut [f64]) -> Result<bool, Fault> {
        match &mut self.projection {
            Some(p) => p.project(t, y).map(|()| true),
            None => Ok(false),
        }
    }

    /// Evaluates the derivative kernel at (t, x) where x is (q, v) or (q, p), into
    /// `out` (laid out as [`kernel::implicit_spec`] says). Errors if it was not compiled.
    pub fn eval_implicit(&mut self, t: f64, x: &[f64], out: &mut [f64]) -> Result<(), Fault> {
        self.set_input(t, x);
        match &mut self.implicit {
            Some(b) => {
                b.eval(&self.input, out)?;
                Ok(())
            }
            None => Err(Fault::Output(
                "internal: the derivative kernel for implicit steps was not compiled".into(),
            )),
        }
    }
}

impl Rhs for System {
    fn dim(&self) -> usize {
        2 * self.n
    }

    /// dy/dt at (t, y), without the energy.
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<(), Fault> {
        let mut out = std::mem::take(&mut self.scratch);
        out.resize(self.rate.n_outputs(), 0.0);
        self.set_input(t, y);
        let r = self.rate.eval(&self.input, &mut out);
        if let Ok(report) = r {
            self.singular += report.singular;
            self.derivative(y, &out, dy);
        }
        self.scratch = out;
        r.map(|_| ()).map_err(Fault::from)
    }

    /// dy/dt at (t, y) from the kernel with the energy, which it returns.
    fn rhs_energy(&mut self, t: f64, y: &[f64], dy: &mut [f64]) -> Result<f64, Fault> {
        let mut out = std::mem::take(&mut self.scratch);
        out.resize(self.kernel.n_outputs(), 0.0);
        let r = self.eval(t, y, &mut out);
        if r.is_ok() {
            self.derivative(y, &out, dy);
        }
        let energy = out.last().copied().unwrap_or(f64::NAN);
        self.scratch = out;
        r.map(|()| energy)
    }
}
