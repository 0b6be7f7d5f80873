//! A compiled system: its kernel on a backend, its nets and `learn` values, evaluated on
//! batches of states.
//!
//! Kernel rows are laid out as [`crate::symbolic::eom::Eom::input_names`] says: the
//! state (2 dof), `t`, then the `learn` values, which this type fills in. Backends are
//! kept in a pool so that calls from several threads run in parallel, each on its own.

use super::derive::Style;
use super::{Backend, Error, Model};
use crate::backend::{self, SharedNets};
use crate::check::{Dynamics, SystemModel};
use crate::kernel::{self, EomProgram, KernelSpec, Output, Program};
use crate::nn::{SystemNets, Weights};
use crate::symbolic::eom::{Eom, EomKind, MAX_UNROLLED_DOF};
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2};
use std::sync::{Arc, Mutex, OnceLock};

type Kernel = Box<dyn backend::Backend + Send>;

/// One system of a [`Model`], derived and compiled.
pub struct System {
    model: Model,
    sys: SystemModel,
    kind: Backend,
    program: EomProgram,
    inputs: Vec<String>,
    outputs: Vec<String>,
    dof: usize,
    nets: Option<SystemNets>,
    shared: Option<SharedNets>,
    learns: Vec<f64>,
    pool: Mutex<Vec<Kernel>>,
    terms: OnceLock<Result<Program, Error>>,
}

/// Derives a system's equations: in loop form when it is a lattice, else unrolled
/// (refused above [`MAX_UNROLLED_DOF`] coordinates; `why` says why unrolling is needed).
pub fn derive_eom(sys: &SystemModel, why: Option<&str>) -> Result<Eom, Error> {
    if why.is_none() {
        if let Some(eom) = Eom::derive_lattice(sys) {
            return Ok(eom);
        }
    }
    let dof = sys.dof();
    if dof > MAX_UNROLLED_DOF {
        let why = why.unwrap_or(
            "it is not a lattice (docs/language.md, section 5: loop form), so its arrays are unrolled",
        );
        return Err(Error::usage(format!(
            "system `{}` has {dof} scalar coordinates; {why}, and unrolled systems have at most {MAX_UNROLLED_DOF}",
            sys.name
        )));
    }
    let eom = Eom::derive_unrolled(sys);
    constraints_problem(sys, &eom)
        .or_else(|| constant_guard(sys, &eom))
        .or_else(|| input_rate(sys, &eom))
        .map_or(Ok(()), |why| Err(Error::usage(why)))?;
    match degenerate(&eom) {
        Some(name) => Err(Error::runtime(format!(
            "system `{}` is degenerate: L does not depend quadratically on `{name}'` (the row of `{name}` in the mass matrix d2L/dq'dq' is identically 0), so its accelerations are undetermined; L must be quadratic in every velocity",
            sys.name
        ))),
        None => Ok(eom),
    }
}

/// Why the constraints of `sys` cannot be used, if they cannot: one free of the
/// system's variables, or a nonholonomic one not linear in the velocities.
fn constraints_problem(sys: &SystemModel, eom: &Eom) -> Option<String> {
    let c = &eom.constraints;
    if let Some(k) = c.constant {
        return Some(format!(
            "constraint `{}` of system `{}` depends on none of its coordinates: expected an expression that is zero on the constraint",
            c.names[k], sys.name
        ));
    }
    c.nonlinear.map(|k| {
        format!(
            "constraint `{}` of system `{}` is not linear in the velocities: a constraint with velocities must be A(q, t) q' + b(q, t)",
            c.names[k], sys.name
        )
    })
}

/// The message for an event whose guard depends on none of q, q' and t (it can never
/// cross zero), if there is one.
fn constant_guard(sys: &SystemModel, eom: &Eom) -> Option<String> {
    eom.events
        .iter()
        .find(|e| eom.dag.as_const(e.guard).is_some())
        .map(|e| {
            format!(
                "the guard of event `{}` of system `{}` depends on no coordinate, velocity or time, so it never fires",
                e.name, sys.name
            )
        })
}

/// The message for a measured input whose time derivative the equations would need.
fn input_rate(sys: &SystemModel, eom: &Eom) -> Option<String> {
    eom.input_rate.as_ref().map(|u| {
        format!(
            "input `{u}` of system `{}` appears where the equations need its time derivative (in dL/dq', i.e. multiplied with a velocity in L, or in the velocity of a `let`), which lagc does not take from data; use it in `force`, `dissipation` or the velocity-free part of L",
            sys.name
        )
    })
}

/// The first coordinate whose row of the mass matrix d2L/dq'dq' is identically zero
/// (L linear in, or free of, that velocity): its acceleration is undetermined
/// everywhere.
fn degenerate(eom: &Eom) -> Option<String> {
    let EomKind::Lagrangian { hess, .. } = &eom.kind else {
        return None;
    };
    let n = eom.dof();
    let zero = |id| eom.dag.as_const(id) == Some(0.0);
    (0..n)
        .find(|&i| hess[i * n..(i + 1) * n].iter().all(|&h| zero(h)))
        .map(|i| eom.q_names()[i].clone())
}

/// The kernel (q'' or (q', p'), then the energy) of a derived system.
pub fn lower_eom(eom: &mut Eom, name: &str) -> Result<EomProgram, Error> {
    kernel::eom_program(eom, true, true)
        .map_err(|e| Error::runtime(format!("internal: cannot lower system `{name}`: {e}")))
}

impl System {
    pub(super) fn compile(
        model: &Model,
        sys: &SystemModel,
        kind: Backend,
    ) -> Result<System, Error> {
        let mut eom = derive_eom(sys, None)?;
        let program = lower_eom(&mut eom, &sys.name)?;
        let nets = (!sys.nets.is_empty()).then(|| SystemNets::init(sys, 0));
        Ok(System {
            model: model.clone(),
            sys: sys.clone(),
            kind,
            inputs: eom.input_names(),
            outputs: eom.output_names(),
            dof: eom.dof(),
            program,
            shared: nets.clone().map(|n| Arc::new(n) as SharedNets),
            nets,
            // The measured inputs' slots follow the learn values (filled per call).
            learns: sys
                .learns
                .iter()
                .map(|(_, v)| *v)
                .chain(sys.inputs.iter().map(|_| 0.0))
                .collect(),
            pool: Mutex::new(vec![]),
            terms: OnceLock::new(),
        })
    }

    /// The system's name.
    pub fn name(&self) -> &str {
        &self.sys.name
    }

    /// The model it came from.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The checked system.
    pub fn checked(&self) -> &SystemModel {
        &self.sys
    }

    /// The backend it runs on.
    pub fn backend(&self) -> Backend {
        self.kind
    }

    /// Scalar degrees of freedom.
    pub fn dof(&self) -> usize {
        self.dof
    }

    /// Scalar coordinate names (`theta`, `phi[0]`, ...).
    pub fn coords(&self) -> &[String] {
        &self.inputs[..self.dof]
    }

    /// State column names: coordinates, then velocities (or momenta).
    pub fn state_names(&self) -> &[String] {
        &self.inputs[..2 * self.dof]
    }

    /// Kernel output names: `q''` (or `q'`, `p'`), then `energy`.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// True for an H system (states are (q, p); the kernel gives (q', p')).
    pub fn is_hamiltonian(&self) -> bool {
        matches!(self.sys.dynamics, Dynamics::Hamiltonian(_))
    }

    /// Current `learn` values by name, in declaration order.
    pub fn learns(&self) -> Vec<(String, f64)> {
        let names = self.sys.learns.iter().map(|(n, _)| n.clone());
        names.zip(self.learns.iter().copied()).collect()
    }

    /// The nets and `learn` values now in use, as a weights file.
    pub fn weights(&self) -> Weights {
        match &self.nets {
            Some(n) => n.to_weights(&self.sys, &self.learns),
            None => SystemNets::new(vec![]).to_weights(&self.sys, &self.learns),
        }
    }

    /// Replaces nets and `learn` values by those of `w`. Every net's tensors must be
    /// there with their shapes; a `learn` param missing from `w` keeps its value;
    /// other tensors are ignored.
    pub fn set_weights(&mut self, w: &Weights) -> Result<(), Error> {
        let nets = match &self.nets {
            Some(_) => Some(SystemNets::from_weights(&self.sys, w).map_err(|e| {
                Error::usage(format!(
                    "weights do not fit system `{}`: {e}",
                    self.sys.name
                ))
            })?),
            None => None,
        };
        let mut learns = self.learns.clone();
        for ((name, _), v) in self.sys.learns.iter().zip(learns.iter_mut()) {
            match w.scalar(name) {
                Ok(x) => *v = x,
                Err(crate::nn::WeightsError::Missing(_)) => {}
                Err(e) => return Err(Error::usage(format!("learn param `{name}`: {e}"))),
            }
        }
        self.shared = nets.clone().map(|n| Arc::new(n) as SharedNets);
        self.nets = nets;
        self.learns = learns;
        self.pool = Mutex::new(vec![]);
        Ok(())
    }

    /// The nets now in use (for integrators and trainers built on this system).
    pub fn shared_nets(&self) -> Option<SharedNets> {
        self.shared.clone()
    }

    /// The current `learn` values, in declaration order.
    pub fn learn_values(&self) -> &[f64] {
        &self.learns[..self.sys.learns.len()]
    }

    /// The measured inputs (`input u;`) in declaration order: the columns of the
    /// `inputs` arrays of [`System::eval_with_inputs`] and of simulations' signals.
    pub fn input_names(&self) -> &[String] {
        &self.sys.inputs
    }

    /// Derives the equations again (the derivation is cheap; kernels are kept).
    pub fn derive_eom(&self, why: Option<&str>) -> Result<Eom, Error> {
        derive_eom(&self.sys, why)
    }

    /// The derivation as text or LaTeX (what `lagc derive` prints).
    pub fn derive_text(&self, style: Style) -> Result<String, Error> {
        self.model.derive_text(&self.sys.name, style)
    }

    /// The derivation as `lagc derive --format json`'s value for this system.
    pub fn derive_json(&self) -> Result<serde_json::Value, Error> {
        self.model.derive_json(&self.sys.name)
    }

    /// The kernel program (`lagc emit --ir kernel`).
    pub fn program(&self) -> &EomProgram {
        &self.program
    }

    fn take_kernel(&self) -> Kernel {
        let pooled = self.pool.lock().map(|mut p| p.pop()).unwrap_or(None);
        pooled.unwrap_or_else(|| {
            backend::create_eom(self.program.clone(), self.kind, self.shared.clone())
        })
    }

    fn give_kernel(&self, k: Kernel) {
        if let Ok(mut p) = self.pool.lock() {
            p.push(k);
        }
    }

    /// Kernel input rows for `states` (n x 2 dof) at times `t` (a scalar, n values, or
    /// 0), with the `learn` values and the measured inputs (n x inputs) filled in.
    fn input_rows(
        &self,
        states: ArrayView2<f64>,
        t: Times,
        inputs: Option<ArrayView2<f64>>,
    ) -> Result<Vec<f64>, Error> {
        let (n, w) = states.dim();
        let ni = self.sys.inputs.len();
        match inputs {
            None if ni > 0 => {
                return Err(Error::usage(format!(
                    "system `{}` has measured inputs ({}): give their values at each state",
                    self.sys.name,
                    self.sys.inputs.join(", ")
                )))
            }
            Some(u) if u.dim() != (n, ni) => {
                return Err(Error::usage(format!(
                    "the inputs of system `{}` are {} values per state ({}), got {} x {} for {n} states",
                    self.sys.name,
                    ni,
                    self.sys.inputs.join(", "),
                    u.nrows(),
                    u.ncols()
                )))
            }
            _ => {}
        }
        if w != 2 * self.dof {
            return Err(Error::usage(format!(
                "states of system `{}` have {} columns ({}), got {w}",
                self.sys.name,
                2 * self.dof,
                self.state_names().join(", ")
            )));
        }
        if let Times::Each(ts) = &t {
            if ts.len() != n {
                return Err(Error::usage(format!(
                    "t has {} values for {n} states",
                    ts.len()
                )));
            }
        }
        let ni_all = w + 1 + self.learns.len();
        let mut rows = vec![0.0; n * ni_all];
        for (i, (row, state)) in rows
            .chunks_exact_mut(ni_all)
            .zip(states.outer_iter())
            .enumerate()
        {
            for (r, s) in row[..w].iter_mut().zip(state.iter()) {
                *r = *s;
            }
            row[w] = match &t {
                Times::Zero => 0.0,
                Times::One(x) => *x,
                Times::Each(ts) => ts[i],
            };
            row[w + 1..].copy_from_slice(&self.learns);
            if let Some(u) = &inputs {
                for (r, x) in row[ni_all - ni..].iter_mut().zip(u.row(i)) {
                    *r = *x;
                }
            }
        }
        Ok(rows)
    }

    /// Runs the kernel on every state: the outputs (n x outputs: q'' or (q', p'), then
    /// the energy) and the number of states whose mass matrix was singular
    /// (pseudo-inverse used).
    pub fn eval(&self, states: ArrayView2<f64>, t: Times) -> Result<(Array2<f64>, usize), Error> {
        self.eval_with_inputs(states, t, None)
    }

    /// [`System::eval`] with the measured inputs' values at each state (n x inputs, in
    /// [`System::input_names`] order); required when the system has inputs.
    pub fn eval_with_inputs(
        &self,
        states: ArrayView2<f64>,
        t: Times,
        inputs: Option<ArrayView2<f64>>,
    ) -> Result<(Array2<f64>, usize), Error> {
        let rows = self.input_rows(states, t, inputs)?;
        let n = states.nrows();
        let no = self.outputs.len();
        let mut out = vec![0.0; n * no];
        let mut k = self.take_kernel();
        let report = k.eval_batch(&rows, &mut out);
        self.give_kernel(k);
        let report =
            report.map_err(|e| Error::runtime(format!("system `{}`: {e}", self.sys.name)))?;
        let out =
            Array2::from_shape_vec((n, no), out).map_err(|e| Error::runtime(e.to_string()))?;
        Ok((out, report.singular))
    }

    /// q'' at each state (n x dof); for H systems (q', p') (n x 2 dof). Constraint
    /// multipliers are in [`System::eval`]'s outputs.
    pub fn accel(
        &self,
        states: ArrayView2<f64>,
        t: Option<ArrayView1<f64>>,
    ) -> Result<Array2<f64>, Error> {
        self.accel_at(states, Times::from(t))
    }

    /// [`System::accel`] at the times `t`.
    pub fn accel_at(&self, states: ArrayView2<f64>, t: Times) -> Result<Array2<f64>, Error> {
        let (out, _) = self.eval(states, t)?;
        let rates = out.ncols() - 1 - self.sys.constraints.len();
        Ok(out.slice(ndarray::s![.., ..rates]).to_owned())
    }

    /// The energy at each state.
    pub fn energy(
        &self,
        states: ArrayView2<f64>,
        t: Option<ArrayView1<f64>>,
    ) -> Result<Array1<f64>, Error> {
        let (out, _) = self.eval(states, Times::from(t))?;
        let no = out.ncols();
        Ok(out.column(no - 1).to_owned())
    }

    /// dy/dt of the first-order form at each state y (n x 2 dof): (q', q'') for L and
    /// accel systems, (q', p') for H systems.
    pub fn rhs(&self, t: Times, y: ArrayView2<f64>) -> Result<Array2<f64>, Error> {
        let (out, _) = self.eval(y, t)?;
        let n = self.dof;
        if self.is_hamiltonian() {
            return Ok(out.slice_move(ndarray::s![.., ..2 * n]));
        }
        let mut dy = Array2::zeros((y.nrows(), 2 * n));
        dy.slice_mut(ndarray::s![.., ..n])
            .assign(&y.slice(ndarray::s![.., n..]));
        dy.slice_mut(ndarray::s![.., n..])
            .assign(&out.slice(ndarray::s![.., ..n]));
        Ok(dy)
    }

    /// The mass matrix H = d2L/dq'dq', the mixed term M = d2L/dq'dq and g = dL/dq at
    /// each state of an L system: (n x dof x dof, n x dof x dof, n x dof).
    pub fn terms(
        &self,
        states: ArrayView2<f64>,
        t: Option<ArrayView1<f64>>,
    ) -> Result<Terms, Error> {
        let program = self.terms.get_or_init(|| self.terms_program()).clone()?;
        let rows = self.input_rows(states, Times::from(t), None)?;
        let (n, d) = (states.nrows(), self.dof);
        let no = 2 * d * d + d;
        let mut out = vec![0.0; n * no];
        let mut k = backend::create(program, self.kind, self.shared.clone());
        k.eval_batch(&rows, &mut out)
            .map_err(|e| Error::runtime(format!("system `{}`: {e}", self.sys.name)))?;
        let mut h = Array3::zeros((n, d, d));
        let mut m = Array3::zeros((n, d, d));
        let mut g = Array2::zeros((n, d));
        for (s, row) in out.chunks_exact(no).enumerate() {
            for i in 0..d {
                for j in 0..d {
                    h[[s, i, j]] = row[i * d + j];
                    m[[s, i, j]] = row[d * d + i * d + j];
                }
                g[[s, i]] = row[2 * d * d + i];
            }
        }
        Ok(Terms { h, m, g })
    }

    fn terms_program(&self) -> Result<Program, Error> {
        if !matches!(self.sys.dynamics, Dynamics::Lagrangian(_)) {
            return Err(Error::usage(format!(
                "terms: system `{}` is not an L system (H, M and dL/dq are derivatives of L)",
                self.sys.name
            )));
        }
        let eom = self.derive_eom(Some("terms needs the dense mass matrix"))?;
        let EomKind::Lagrangian {
            hess, mixed, dl_dq, ..
        } = &eom.kind
        else {
            return Err(Error::runtime(
                "internal: an L system derived to another kind",
            ));
        };
        let mut inputs: Vec<_> = eom.q.iter().chain(&eom.v).copied().collect();
        inputs.push(eom.t);
        inputs.extend(&eom.learns);
        let outputs = hess
            .iter()
            .chain(mixed)
            .chain(dl_dq)
            .map(|&e| Output::Expr(e))
            .collect();
        let spec = KernelSpec {
            inputs,
            solve: None,
            outputs,
        };
        kernel::lower(&eom.dag, &spec).map_err(|e| Error::runtime(format!("internal: {e}")))
    }
}

/// H, M and dL/dq at a batch of states ([`System::terms`]).
pub struct Terms {
    /// d2L/dq'dq', n x dof x dof.
    pub h: Array3<f64>,
    /// d2L/dq'dq, n x dof x dof.
    pub m: Array3<f64>,
    /// dL/dq, n x dof.
    pub g: Array2<f64>,
}

/// The times of a batch of states.
pub enum Times {
    /// t = 0 everywhere.
    Zero,
    /// One time for every state.
    One(f64),
    /// One time per state.
    Each(Vec<f64>),
}

impl From<Option<ArrayView1<'_, f64>>> for Times {
    fn from(t: Option<ArrayView1<f64>>) -> Times {
        match t {
            None => Times::Zero,
            Some(t) => Times::Each(t.to_vec()),
        }
    }
}
