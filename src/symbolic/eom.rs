//! Model -> equations of motion in the DAG.
//!
//! For an L system with coordinates q and velocities v = q':
//! g = dL/dq, p = dL/dv, H = d2L/dv dv, M_ij = d2L/dv_i dq_j, Q = forces - dD/dv,
//! r = g - M v - d(dL/dv)/dt + Q, and q'' = H^-1 r (solved numerically).
//! E = sum v dL/dv - L. H systems give q' = dH/dp, p' = -dH/dq + Q, E = H.
//! Array systems are derived in loop form when they are lattices ([`super::lattice`]),
//! otherwise unrolled element by element.

use super::constraints::{self, Constraints};
use super::dag::{Dag, ExprId};
use super::lattice::{self, Lattice};
use super::lower::{binary, call, int_value};
use crate::check::{CExpr, Dynamics, Event, SystemModel};

/// Most scalar degrees of freedom derived in the unrolled form (the dense Hessian
/// has this many squared entries).
pub const MAX_UNROLLED_DOF: usize = 500;

/// The derived equations of one system.
pub struct Eom {
    /// The expression arena every id below points into.
    pub dag: Dag,
    /// Each coordinate's name and array length (`None` for a scalar); the scalar names
    /// (`theta`, `phi[3]`) come from [`Eom::q_names`], made only when asked for.
    pub coords: Vec<(String, Option<usize>)>,
    /// Coordinate variables.
    pub q: Vec<ExprId>,
    /// Velocity variables (L and accel systems) or momentum variables (H systems).
    pub v: Vec<ExprId>,
    /// Time.
    pub t: ExprId,
    /// `learn` parameters, then the measured inputs (`input u;`, the last
    /// [`Eom::n_inputs`] entries): kernel inputs after `t`, in this order.
    pub learns: Vec<ExprId>,
    /// How many of `learns` (at its end) are measured inputs.
    pub n_inputs: usize,
    /// An input whose time derivative the equations would need (it appears in dL/dq'
    /// or under the velocity `p'` of a `let`), which lagc does not take: its name.
    pub input_rate: Option<String>,
    /// The derived quantities.
    pub kind: EomKind,
    /// Constraints (L systems; empty otherwise).
    pub constraints: Constraints,
    /// Events, in declaration order.
    pub events: Vec<EventEom>,
}

/// An event in the DAG: its guard and its resets by state index.
#[derive(Clone, Debug)]
pub struct EventEom {
    /// Its name.
    pub name: String,
    /// Positive before the event, zero or below after it.
    pub guard: ExprId,
    /// (index into the state (q, q'), new value).
    pub resets: Vec<(usize, ExprId)>,
}

/// What was derived, by system kind.
pub enum EomKind {
    /// An L system.
    Lagrangian {
        /// L itself.
        l: ExprId,
        /// dL/dq.
        dl_dq: Vec<ExprId>,
        /// dL/dq'.
        dl_dv: Vec<ExprId>,
        /// d2L/dq'dq', row-major.
        hess: Vec<ExprId>,
        /// d2L/dq'_i dq_j, row-major.
        mixed: Vec<ExprId>,
        /// g - M q' - d2L/dq'dt + Q.
        rhs: Vec<ExprId>,
        /// The energy.
        energy: ExprId,
    },
    /// An H system.
    Hamiltonian {
        /// H itself.
        h: ExprId,
        /// q' = dH/dp.
        dq: Vec<ExprId>,
        /// p' = -dH/dq + Q.
        dp: Vec<ExprId>,
    },
    /// Explicit accelerations.
    Accel(Vec<ExprId>),
    /// An L system over arrays in loop form: per-site terms, a banded H
    /// ([`super::lattice`]). `Eom::q` and `Eom::v` are empty.
    Lattice(Lattice),
}

impl Eom {
    /// Derives the equations of motion of `sys`: in loop form when it is a lattice
    /// ([`super::lattice::derive`]), otherwise element by element.
    pub fn derive(sys: &SystemModel) -> Eom {
        Eom::derive_lattice(sys).unwrap_or_else(|| Eom::derive_unrolled(sys))
    }

    /// Derives `sys` in loop form, or `None` when it is not a lattice.
    pub fn derive_lattice(sys: &SystemModel) -> Option<Eom> {
        if !sys.constraints.is_empty() || !sys.events.is_empty() || !sys.inputs.is_empty() {
            return None;
        }
        let mut dag = Dag::new();
        let t = dag.var("t");
        let learns: Vec<ExprId> = sys.learns.iter().map(|(n, _)| dag.var(n)).collect();
        for net in &sys.nets {
            dag.declare_net(&net.name, net.inputs, net.outputs);
        }
        let lat = lattice::derive(sys, &mut dag, t, &learns)?;
        Some(Eom {
            dag,
            coords: coords_of(sys),
            q: vec![],
            v: vec![],
            t,
            learns,
            n_inputs: 0,
            input_rate: None,
            kind: EomKind::Lattice(lat),
            constraints: Constraints::default(),
            events: vec![],
        })
    }

    /// Derives the equations of motion of `sys` with arrays unrolled element by element
    /// (dense H; what training and the implicit integrator use).
    pub fn derive_unrolled(sys: &SystemModel) -> Eom {
        let mut dag = Dag::new();
        let coords = coords_of(sys);
        let q_names = element_names(&coords);
        let is_h = matches!(sys.dynamics, Dynamics::Hamiltonian(_));
        let q: Vec<ExprId> = q_names.iter().map(|n| dag.var(n)).collect();
        let v: Vec<ExprId> = if is_h {
            sys.momenta.iter().map(|p| dag.var(p)).collect()
        } else {
            q_names.iter().map(|n| dag.var(&velocity_name(n))).collect()
        };
        let t = dag.var("t");
        let learns = sys
            .learns
            .iter()
            .map(|(n, _)| n)
            .chain(&sys.inputs)
            .map(|n| dag.var(n))
            .collect();
        for net in &sys.nets {
            dag.declare_net(&net.name, net.inputs, net.outputs);
        }
        let mut b = Builder {
            input_rate: None,
            sys,
            q: q.clone(),
            v: v.clone(),
            t,
            learns,
            lets: vec![None; sys.lets.len()],
            offsets: offsets(sys),
            dag,
        };
        let forces: Vec<ExprId> = (0..sys.coords.len())
            .flat_map(|c| b.per_element(c, &sys.forces[c]))
            .collect();
        let exprs: Vec<(String, ExprId)> = sys
            .constraints
            .iter()
            .map(|c| (c.name.clone(), b.expr(&c.expr, &mut vec![])))
            .collect();
        let constraints = constraints::derive(&mut b.dag, &exprs, &q, &v, t);
        let events = sys.events.iter().map(|e| b.event(e)).collect();
        let kind = match &sys.dynamics {
            Dynamics::Lagrangian(l) => {
                let l = b.expr(l, &mut vec![]);
                let d = sys.dissipation.as_ref().map(|d| b.expr(d, &mut vec![]));
                b.lagrangian(l, d, &forces)
            }
            Dynamics::Hamiltonian(h) => {
                let h = b.expr(h, &mut vec![]);
                let dag = &mut b.dag;
                let dq = v.iter().map(|&p| dag.diff(h, p)).collect();
                let dp = q
                    .iter()
                    .zip(&forces)
                    .map(|(&qi, &f)| {
                        let d = dag.diff(h, qi);
                        dag.sub(f, d)
                    })
                    .collect();
                EomKind::Hamiltonian { h, dq, dp }
            }
            Dynamics::Accel(exprs) => {
                let acc = (0..sys.coords.len())
                    .flat_map(|c| b.per_element(c, &exprs[c]))
                    .collect();
                EomKind::Accel(acc)
            }
        };
        Eom {
            dag: b.dag,
            coords,
            q,
            v,
            t: b.t,
            learns: b.learns,
            n_inputs: sys.inputs.len(),
            input_rate: b.input_rate.map(|k| sys.inputs[k].clone()),
            kind,
            constraints,
            events,
        }
    }

    /// Number of scalar degrees of freedom.
    pub fn dof(&self) -> usize {
        self.coords.iter().map(|(_, n)| n.unwrap_or(1)).sum()
    }

    /// Scalar coordinate names: `theta`, `phi[0]`, `phi[1]`, ... (O(dof) strings).
    pub fn q_names(&self) -> Vec<String> {
        element_names(&self.coords)
    }

    /// The loop-form derivation, for lattice systems.
    pub fn lattice(&self) -> Option<&Lattice> {
        match &self.kind {
            EomKind::Lattice(l) => Some(l),
            _ => None,
        }
    }

    /// The energy expression (NaN for accel systems; lattice systems sum theirs per site).
    pub fn energy(&mut self) -> ExprId {
        match &self.kind {
            EomKind::Lagrangian { energy, .. } => *energy,
            EomKind::Hamiltonian { h, .. } => *h,
            EomKind::Accel(_) | EomKind::Lattice(_) => self.dag.num(f64::NAN),
        }
    }

    /// Names of the kernel's inputs, in order: coordinates, velocities (or momenta),
    /// `t`, learn params.
    pub fn input_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match self.kind {
            EomKind::Lattice(_) => {
                let q = self.q_names();
                let v: Vec<String> = q.iter().map(|n| velocity_name(n)).collect();
                q.into_iter().chain(v).collect()
            }
            _ => self
                .q
                .iter()
                .chain(&self.v)
                .map(|&x| self.name_of(x))
                .collect(),
        };
        names.push("t".into());
        names.extend(self.learns.iter().map(|&x| self.name_of(x)));
        names
    }

    /// Names of the kernel's outputs: `q''...` (or `q'...,p'...`), the constraint
    /// multipliers `lambda_NAME...`, then `energy`.
    pub fn output_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match self.kind {
            EomKind::Hamiltonian { .. } => self
                .q
                .iter()
                .chain(&self.v)
                .map(|&x| velocity_name(&self.name_of(x)))
                .collect(),
            _ => self
                .q_names()
                .iter()
                .map(|n| velocity_name(&velocity_name(n)))
                .collect(),
        };
        names.extend(self.constraints.names.iter().map(|c| format!("lambda_{c}")));
        names.push("energy".into());
        names
    }

    fn name_of(&self, var: ExprId) -> String {
        self.dag
            .as_var(var)
            .map_or_else(String::new, |v| self.dag.var_name(v).to_string())
    }
}

/// `x` -> `x'`, `phi[3]` -> `phi'[3]`.
pub fn velocity_name(name: &str) -> String {
    match name.find('[') {
        Some(k) => format!("{}'{}", &name[..k], &name[k..]),
        None => format!("{name}'"),
    }
}

/// Scalar element names of `coords`: `theta`, `phi[0]`, `phi[1]`, ...
fn element_names(coords: &[(String, Option<usize>)]) -> Vec<String> {
    let mut names = vec![];
    for (name, len) in coords {
        match len {
            None => names.push(name.clone()),
            Some(n) => names.extend((0..*n).map(|i| format!("{name}[{i}]"))),
        }
    }
    names
}

/// Each coordinate's name and array length.
fn coords_of(sys: &SystemModel) -> Vec<(String, Option<usize>)> {
    sys.coords.iter().map(|c| (c.name.clone(), c.len)).collect()
}

/// First scalar index of each coordinate.
fn offsets(sys: &SystemModel) -> Vec<usize> {
    let mut acc = 0;
    sys.coords
        .iter()
        .map(|c| {
            let o = acc;
            acc += c.size();
            o
        })
        .collect()
}

struct Builder<'a> {
    sys: &'a SystemModel,
    dag: Dag,
    q: Vec<ExprId>,
    v: Vec<ExprId>,
    t: ExprId,
    learns: Vec<ExprId>,
    lets: Vec<Option<ExprId>>,
    offsets: Vec<usize>,
    /// The first input found where its time derivative would be needed.
    input_rate: Option<usize>,
}

impl Builder<'_> {
    /// One expression per element of coordinate `c` (the element is `IndexVar(0)`).
    fn per_element(&mut self, c: usize, e: &CExpr) -> Vec<ExprId> {
        match self.sys.coords[c].len {
            None => vec![self.expr(e, &mut vec![])],
            Some(n) => (0..n as i64).map(|i| self.expr(e, &mut vec![i])).collect(),
        }
    }

    fn lagrangian(&mut self, l: ExprId, d: Option<ExprId>, forces: &[ExprId]) -> EomKind {
        let (q, v, t) = (self.q.clone(), self.v.clone(), self.t);
        let n = q.len();
        let dag = &mut self.dag;
        let dl_dq: Vec<ExprId> = q.iter().map(|&x| dag.diff(l, x)).collect();
        let dl_dv: Vec<ExprId> = v.iter().map(|&x| dag.diff(l, x)).collect();
        let mut hess = Vec::with_capacity(n * n);
        let mut mixed = Vec::with_capacity(n * n);
        for &p in &dl_dv {
            for &vj in &v {
                hess.push(dag.diff(p, vj));
            }
            for &qj in &q {
                mixed.push(dag.diff(p, qj));
            }
        }
        for &p in &dl_dv {
            self.note_input_rate(p);
        }
        let dag = &mut self.dag;
        let mut rhs = Vec::with_capacity(n);
        for i in 0..n {
            let mut terms = vec![dl_dq[i], forces[i]];
            for j in 0..n {
                let mv = dag.mul(mixed[i * n + j], v[j]);
                terms.push(dag.neg(mv));
            }
            let dpdt = dag.diff(dl_dv[i], t);
            terms.push(dag.neg(dpdt));
            if let Some(d) = d {
                let dd = dag.diff(d, v[i]);
                terms.push(dag.neg(dd));
            }
            rhs.push(dag.sum(&terms));
        }
        let pv: Vec<ExprId> = v.iter().zip(&dl_dv).map(|(&a, &b)| dag.mul(a, b)).collect();
        let pv = dag.sum(&pv);
        let energy = dag.sub(pv, l);
        EomKind::Lagrangian {
            l,
            dl_dq,
            dl_dv,
            hess,
            mixed,
            rhs,
            energy,
        }
    }

    /// Records the first input that `e` depends on, when `e` is differentiated in time
    /// (its rate du/dt is not known to the kernel).
    fn note_input_rate(&mut self, e: ExprId) {
        if self.input_rate.is_some() {
            return;
        }
        let first = self.learns.len() - self.sys.inputs.len();
        for k in 0..self.sys.inputs.len() {
            let d = self.dag.diff(e, self.learns[first + k]);
            if self.dag.as_const(d) != Some(0.0) {
                self.input_rate = Some(k);
                return;
            }
        }
    }

    /// Converts a checked expression; `env` holds the values of enclosing sum indices.
    fn expr(&mut self, e: &CExpr, env: &mut Vec<i64>) -> ExprId {
        match e {
            CExpr::Num(x) => self.dag.num(*x),
            CExpr::Coord { coord, vel, index } => {
                let k = self.offsets[*coord]
                    + match index {
                        None => 0,
                        Some(ix) => {
                            let c = &self.sys.coords[*coord];
                            let i = int_value(ix, env);
                            let n = c.size() as i64;
                            // The checker proved non-periodic indices in range.
                            i.rem_euclid(n) as usize
                        }
                    };
                if *vel {
                    self.v[k]
                } else {
                    self.q[k]
                }
            }
            CExpr::Momentum { coord } => self.v[self.offsets[*coord]],
            CExpr::Time => self.t,
            CExpr::Learn(k) => self.learns[*k],
            CExpr::Input(k) => self.learns[self.sys.learns.len() + k],
            CExpr::Param(k) => self.dag.var(&self.sys.params[*k].0),
            CExpr::Let(k) => match self.lets[*k] {
                Some(id) => id,
                None => {
                    let body = self.sys.lets[*k].1.clone();
                    let id = self.expr(&body, &mut vec![]);
                    self.lets[*k] = Some(id);
                    id
                }
            },
            CExpr::IndexVar(level) => self.dag.num(env[*level] as f64),
            CExpr::Neg(a) => {
                let a = self.expr(a, env);
                self.dag.neg(a)
            }
            CExpr::Binary(op, a, b) => {
                let (a, b) = (self.expr(a, env), self.expr(b, env));
                binary(&mut self.dag, *op, a, b)
            }
            CExpr::Call(f, args) => {
                let a: Vec<ExprId> = args.iter().map(|x| self.expr(x, env)).collect();
                call(&mut self.dag, *f, &a)
            }
            CExpr::Net { net, out, args } => {
                let a: Vec<ExprId> = args.iter().map(|x| self.expr(x, env)).collect();
                self.dag.net(*net as u32, *out as u32, &a)
            }
            CExpr::Sum { lo, hi, body, .. } => {
                let mut terms = Vec::with_capacity((hi - lo).max(0) as usize);
                for i in *lo..*hi {
                    env.push(i);
                    terms.push(self.expr(body, env));
                    env.pop();
                }
                self.dag.sum(&terms)
            }
            CExpr::Rate(a) => {
                let e = self.expr(a, env);
                self.rate(e)
            }
            // The checker only allows random atoms in run blocks.
            CExpr::Random(..) => self.dag.num(f64::NAN),
        }
    }

    /// The total time derivative of `e` (a function of q and t) along the motion:
    /// sum_i de/dq_i q'_i + de/dt.
    fn event(&mut self, e: &Event) -> EventEom {
        let n = self.q.len();
        let resets = e
            .resets
            .iter()
            .map(|r| {
                let k = self.offsets[r.coord] + r.index.unwrap_or(0);
                (
                    if r.vel { n + k } else { k },
                    self.expr(&r.value, &mut vec![]),
                )
            })
            .collect();
        EventEom {
            name: e.name.clone(),
            guard: self.expr(&e.guard, &mut vec![]),
            resets,
        }
    }

    fn rate(&mut self, e: ExprId) -> ExprId {
        self.note_input_rate(e);
        constraints::along_velocity(&mut self.dag, e, &self.q, &self.v, self.t)
    }
}
