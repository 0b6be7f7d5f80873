//! Array systems in loop form: the Lagrangian as a sum over sites of one density per
//! term shape, differentiated once, not element by element.
//!
//! An L system whose coordinates are all arrays of one length N (all `periodic` or all
//! not) and whose L is a linear combination of `sum(i, ...)` terms (coefficients free of
//! coordinates) is a lattice. Inside a sum body every coordinate index must be `i + c`
//! for a constant c: the term reads the *slots* (field, c) at each site i. For one term
//! with density f at site i and slot variables q_s, v_s:
//!
//! ```text
//! r at (field_s, i + c_s)  +=  df/dq_s - sum_s' d2f/dv_s dq_s' v_s' - d2f/dv_s dt
//! H at (s, s')             +=  d2f/dv_s dv_s'
//! E                        +=  sum_s v_s df/dv_s - f
//! ```
//!
//! which is exact because dL/dq_j collects df/dq_s from every site whose slot s lands on
//! j. Forces and a dissipation function of the same shape add to r. Parts of L outside
//! any sum (boundary terms such as `k*x[0]^2/2`) are terms evaluated once, at i = 0,
//! whose offsets are the indices they read. H is banded: two unknowns interact only when
//! some term reads both, so the bandwidth is the widest velocity stencil.

use super::dag::{Dag, ExprId};
use super::lower::{binary, call, int_value};
use crate::check::{CExpr, Dynamics, Op, SystemModel};
use std::collections::HashMap;

/// A lattice system's derivation (all ids point into the owning `Eom`'s DAG).
#[derive(Clone, Debug)]
pub struct Lattice {
    /// Number of sites N (the common array length).
    pub sites: usize,
    /// Field (array coordinate) names, in declaration order.
    pub fields: Vec<String>,
    /// Whether indices wrap around.
    pub periodic: bool,
    /// The site index variable `i` (an input of every site program).
    pub index: ExprId,
    /// The terms, each evaluated at every site of its range.
    pub terms: Vec<SiteTerm>,
}

/// Where a term reads: field `field` at site `i + offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    /// Field position (coordinate declaration order).
    pub field: usize,
    /// Offset from the site index.
    pub offset: i64,
}

/// One term shape: what it contributes at site i, for every i in `lo..hi`.
#[derive(Clone, Debug)]
pub struct SiteTerm {
    /// First site.
    pub lo: i64,
    /// One past the last site.
    pub hi: i64,
    /// Evaluated once, at i = 0 (a part of L outside any sum: offsets are indices).
    pub once: bool,
    /// The slots read, sorted.
    pub slots: Vec<Slot>,
    /// Coordinate variable of each slot (`phi[i+1]`).
    pub q: Vec<ExprId>,
    /// Velocity variable of each slot (`phi'[i+1]`).
    pub v: Vec<ExprId>,
    /// The term's share of L at site i (`None` for forces and dissipation).
    pub density: Option<ExprId>,
    /// (slot, contribution to r at that slot's unknown).
    pub rhs: Vec<(usize, ExprId)>,
    /// (slot a, slot b, contribution to H at (a, b)); only entries that are not 0.
    pub hess: Vec<(usize, usize, ExprId)>,
    /// The term's share of the energy.
    pub energy: Option<ExprId>,
}

impl Lattice {
    /// Number of scalar unknowns (sites x fields).
    pub fn dof(&self) -> usize {
        self.sites * self.fields.len()
    }

    /// Half-bandwidths (lower, upper) of H with unknowns interleaved site by site
    /// (unknown `site * fields + field`).
    pub fn band(&self) -> (usize, usize) {
        let m = self.fields.len() as i64;
        let (mut lo, mut up) = (0i64, 0i64);
        for t in &self.terms {
            for &(a, b, _) in &t.hess {
                let (sa, sb) = (t.slots[a], t.slots[b]);
                let d = (sb.offset - sa.offset) * m + sb.field as i64 - sa.field as i64;
                lo = lo.max(-d);
                up = up.max(d);
            }
        }
        (lo as usize, up as usize)
    }
}

/// The equations at one index i, assembled from every term (for printing): what
/// `lagc derive` shows for a lattice. Valid at every site of a periodic lattice and at
/// the interior sites of a bounded one.
pub struct PerIndex {
    /// Per field: dL/dq[i].
    pub dl_dq: Vec<ExprId>,
    /// Per field: dL/dq'[i].
    pub dl_dv: Vec<ExprId>,
    /// (row field, column field, column offset d, d2L/dq'_row[i] dq'_col[i+d]), nonzero only.
    pub hess: Vec<(usize, usize, i64, ExprId)>,
    /// Per field: r[i] (q'' = H^-1 r).
    pub rhs: Vec<ExprId>,
}

impl Lattice {
    /// Assembles the equations at index i ([`PerIndex`]).
    pub fn per_index(&self, dag: &mut Dag) -> PerIndex {
        let m = self.fields.len();
        let zero = dag.num(0.0);
        let mut dl_dq = vec![vec![]; m];
        let mut dl_dv = vec![vec![]; m];
        let mut rhs = vec![vec![]; m];
        let mut hess: Vec<((usize, usize, i64), Vec<ExprId>)> = vec![];
        // Terms at fixed indices act on a few sites only: not part of the row at i.
        for t in self.terms.iter().filter(|t| !t.once || t.slots.is_empty()) {
            if let Some(f) = t.density {
                for (s, slot) in t.slots.iter().enumerate() {
                    let (dq, dv) = (dag.diff(f, t.q[s]), dag.diff(f, t.v[s]));
                    dl_dq[slot.field].push(self.shift(dag, t, dq, -slot.offset));
                    dl_dv[slot.field].push(self.shift(dag, t, dv, -slot.offset));
                }
            }
            for &(s, r) in &t.rhs {
                rhs[t.slots[s].field].push(self.shift(dag, t, r, -t.slots[s].offset));
            }
            for &(a, b, h) in &t.hess {
                let (sa, sb) = (t.slots[a], t.slots[b]);
                let key = (sa.field, sb.field, sb.offset - sa.offset);
                let e = self.shift(dag, t, h, -sa.offset);
                match hess.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, v)) => v.push(e),
                    None => hess.push((key, vec![e])),
                }
            }
        }
        let mut sum = |v: &[ExprId]| if v.is_empty() { zero } else { dag.sum(v) };
        let dl_dq = dl_dq.iter().map(|v| sum(v)).collect();
        let dl_dv = dl_dv.iter().map(|v| sum(v)).collect();
        let rhs = rhs.iter().map(|v| sum(v)).collect();
        hess.sort_by_key(|(k, _)| *k);
        let hess = hess
            .iter()
            .map(|&((a, b, d), ref v)| (a, b, d, sum(v)))
            .collect();
        PerIndex {
            dl_dq,
            dl_dv,
            hess,
            rhs,
        }
    }

    /// `e` (an expression of term `t` at site i) at site i + k.
    fn shift(&self, dag: &mut Dag, t: &SiteTerm, e: ExprId, k: i64) -> ExprId {
        if k == 0 {
            return e;
        }
        let idx = dag.as_var(self.index).map(|v| dag.var_name(v).to_string());
        let idx = idx.unwrap_or_default();
        let mut map = HashMap::new();
        for (s, slot) in t.slots.iter().enumerate() {
            for (vel, var) in [(false, t.q[s]), (true, t.v[s])] {
                let name = slot_name(&self.fields[slot.field], vel, &idx, slot.offset + k);
                let to = dag.var(&name);
                if let Some(v) = dag.as_var(var) {
                    map.insert(v, to);
                }
            }
        }
        if let Some(v) = dag.as_var(self.index) {
            let kk = dag.num(k as f64);
            map.insert(v, dag.add(self.index, kk));
        }
        dag.substitute(e, &map)
    }
}

/// Derives `sys` in loop form into `dag`, or `None` when it is not a lattice (the
/// caller then unrolls it): not an L system, not all coordinates arrays of one length
/// and one boundary, or an index that is not `i + c` inside a sum. `t` and `learns` are the shared time and learn variables.
pub fn derive(sys: &SystemModel, dag: &mut Dag, t: ExprId, learns: &[ExprId]) -> Option<Lattice> {
    let Dynamics::Lagrangian(l) = &sys.dynamics else {
        return None;
    };
    let first = sys.coords.first()?;
    let sites = first.len?;
    if sys
        .coords
        .iter()
        .any(|c| c.len != Some(sites) || c.periodic != first.periodic)
    {
        return None;
    }
    let index_name = if sys.learns.iter().any(|(n, _)| n == "i") {
        "%i"
    } else {
        "i"
    };
    let index = dag.var(index_name);
    let mut site = Site {
        sys,
        dag,
        t,
        learns,
        index,
        mode: Mode::Free,
        slots: vec![],
    };
    let mut terms = vec![];
    // L = sum of coefficient * sum(...) + a coordinate-free rest.
    let mut parts = vec![];
    let one = site.dag.num(1.0);
    site.linear(l, one, &mut parts)?;
    for part in parts {
        terms.push(site.term(part, Role::Lagrangian)?);
    }
    if let Some(d) = &sys.dissipation {
        let mut parts = vec![];
        site.linear(d, one, &mut parts)?;
        for part in parts.into_iter().filter(|p| p.body.is_some()) {
            terms.push(site.term(part, Role::Dissipation)?);
        }
    }
    for (field, f) in sys.forces.iter().enumerate() {
        if !matches!(f, CExpr::Num(x) if *x == 0.0) {
            let part = Part {
                coef: one,
                body: Some(f),
                lo: 0,
                hi: sites as i64,
                once: false,
            };
            terms.push(site.term(part, Role::Force(field))?);
        }
    }
    Some(Lattice {
        sites,
        fields: sys.coords.iter().map(|c| c.name.clone()).collect(),
        periodic: first.periodic,
        index,
        terms,
    })
}

/// Name of a slot variable: `phi[i]`, `phi'[i+1]`, `phi[i-2]`.
pub fn slot_name(field: &str, vel: bool, index: &str, offset: i64) -> String {
    let prime = if vel { "'" } else { "" };
    match offset {
        0 => format!("{field}{prime}[{index}]"),
        o if o > 0 => format!("{field}{prime}[{index}+{o}]"),
        o => format!("{field}{prime}[{index}{o}]"),
    }
}

/// A summand of a linear decomposition: `coef * sum(i in lo..hi, body)`, or with no
/// body the coordinate-free `coef`.
struct Part<'e> {
    coef: ExprId,
    body: Option<&'e CExpr>,
    lo: i64,
    hi: i64,
    /// The body reads coordinates at constant indices (evaluated once, at i = 0).
    once: bool,
}

/// How coordinates and sum index 0 convert.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No coordinates may appear.
    Free,
    /// A sum body: `env[0]` is the symbolic site index i, indices are i + c.
    Site,
    /// Constant indices: each is the offset from site 0.
    Once,
}

impl<'e> Part<'e> {
    /// `coef * e`, evaluated once at site 0.
    fn once(coef: ExprId, e: &'e CExpr) -> Part<'e> {
        Part {
            coef,
            body: Some(e),
            lo: 0,
            hi: 1,
            once: true,
        }
    }
}

/// What a term is part of.
#[derive(Clone, Copy)]
enum Role {
    Lagrangian,
    Dissipation,
    Force(usize),
}

struct Site<'a> {
    sys: &'a SystemModel,
    dag: &'a mut Dag,
    t: ExprId,
    learns: &'a [ExprId],
    index: ExprId,
    /// How the expression being converted reads coordinates.
    mode: Mode,
    /// Slots met while converting the current body.
    slots: Vec<Slot>,
}

impl<'a> Site<'a> {
    /// Splits `e` (times `coef`) into sums and a coordinate-free rest; `None` when some
    /// summand multiplies coordinates outside a sum.
    fn linear<'e>(&mut self, e: &'e CExpr, coef: ExprId, out: &mut Vec<Part<'e>>) -> Option<()> {
        if !self.mentions_coords(e) {
            let x = self.expr(e, &mut vec![])?;
            let c = self.dag.mul(coef, x);
            out.push(Part {
                coef: c,
                body: None,
                lo: 0,
                hi: 1,
                once: true,
            });
            return Some(());
        }
        match e {
            CExpr::Neg(a) => {
                let c = self.dag.neg(coef);
                self.linear(a, c, out)
            }
            CExpr::Binary(op @ (Op::Add | Op::Sub), a, b) => {
                self.linear(a, coef, out)?;
                let c = match op {
                    Op::Sub => self.dag.neg(coef),
                    _ => coef,
                };
                self.linear(b, c, out)
            }
            CExpr::Binary(Op::Mul, a, b) => {
                let (k, rest) = if !self.mentions_coords(a) {
                    (a, b)
                } else if !self.mentions_coords(b) {
                    (b, a)
                } else {
                    out.push(Part::once(coef, e));
                    return Some(());
                };
                let k = self.expr(k, &mut vec![])?;
                let c = self.dag.mul(coef, k);
                self.linear(rest, c, out)
            }
            CExpr::Binary(Op::Div, a, b) if !self.mentions_coords(b) => {
                let k = self.expr(b, &mut vec![])?;
                let c = self.dag.div(coef, k);
                self.linear(a, c, out)
            }
            CExpr::Sum {
                level: 0,
                lo,
                hi,
                body,
            } => {
                out.push(Part {
                    coef,
                    body: Some(body),
                    lo: *lo,
                    hi: *hi,
                    once: false,
                });
                Some(())
            }
            _ => {
                out.push(Part::once(coef, e));
                Some(())
            }
        }
    }

    /// The derivatives of one part at site i.
    fn term(&mut self, part: Part, role: Role) -> Option<SiteTerm> {
        self.slots.clear();
        let value = match part.body {
            Some(body) => {
                let (mode, mut env) = if part.once {
                    (Mode::Once, vec![])
                } else {
                    (Mode::Site, vec![0])
                };
                self.mode = mode;
                let b = self.expr(body, &mut env);
                self.mode = Mode::Free;
                self.dag.mul(part.coef, b?)
            }
            None => part.coef,
        };
        if let Role::Force(field) = role {
            self.slot(field, 0);
        }
        let mut slots = std::mem::take(&mut self.slots);
        slots.sort();
        slots.dedup();
        let names = &self.sys.coords;
        let idx = self.dag.var_name(self.dag.as_var(self.index)?).to_string();
        let mut var = |s: &Slot, vel: bool| {
            let f = &names[s.field].name;
            let name = if part.once {
                format!("{f}{}[{}]", if vel { "'" } else { "" }, s.offset)
            } else {
                slot_name(f, vel, &idx, s.offset)
            };
            self.dag.var(&name)
        };
        let q: Vec<ExprId> = slots.iter().map(|s| var(s, false)).collect();
        let v: Vec<ExprId> = slots.iter().map(|s| var(s, true)).collect();
        let dag = &mut *self.dag;
        let mut term = SiteTerm {
            lo: part.lo,
            hi: part.hi,
            once: part.once,
            slots,
            q,
            v,
            density: None,
            rhs: vec![],
            hess: vec![],
            energy: None,
        };
        match role {
            Role::Force(field) => {
                let s = term
                    .slots
                    .iter()
                    .position(|s| s.field == field && s.offset == 0)?;
                term.rhs.push((s, value));
            }
            Role::Dissipation => {
                for (s, &vs) in term.v.iter().enumerate() {
                    let d = dag.diff(value, vs);
                    if dag.as_const(d) != Some(0.0) {
                        term.rhs.push((s, dag.neg(d)));
                    }
                }
            }
            Role::Lagrangian => {
                let dv: Vec<ExprId> = term.v.iter().map(|&x| dag.diff(value, x)).collect();
                for (s, &dvs) in dv.iter().enumerate() {
                    let mut parts = vec![dag.diff(value, term.q[s])];
                    for s2 in 0..term.slots.len() {
                        let m = dag.diff(dvs, term.q[s2]);
                        let mv = dag.mul(m, term.v[s2]);
                        parts.push(dag.neg(mv));
                        let h = dag.diff(dvs, term.v[s2]);
                        if dag.as_const(h) != Some(0.0) {
                            term.hess.push((s, s2, h));
                        }
                    }
                    let dt = dag.diff(dvs, self.t);
                    parts.push(dag.neg(dt));
                    let r = dag.sum(&parts);
                    if dag.as_const(r) != Some(0.0) {
                        term.rhs.push((s, r));
                    }
                }
                let pv: Vec<ExprId> = term
                    .v
                    .iter()
                    .zip(&dv)
                    .map(|(&a, &b)| dag.mul(a, b))
                    .collect();
                let pv = dag.sum(&pv);
                term.energy = Some(dag.sub(pv, value));
                term.density = Some(value);
            }
        }
        Some(term)
    }

    fn slot(&mut self, field: usize, offset: i64) -> Slot {
        let s = Slot { field, offset };
        if !self.slots.contains(&s) {
            self.slots.push(s);
        }
        s
    }

    fn mentions_coords(&self, e: &CExpr) -> bool {
        match e {
            CExpr::Coord { .. } | CExpr::Momentum { .. } => true,
            CExpr::Let(k) => self.mentions_coords(&self.sys.lets[*k].1),
            CExpr::Num(_)
            | CExpr::Time
            | CExpr::Learn(_)
            | CExpr::Input(_)
            | CExpr::Param(_)
            | CExpr::IndexVar(_) => false,
            CExpr::Neg(a) | CExpr::Rate(a) => self.mentions_coords(a),
            CExpr::Binary(_, a, b) | CExpr::Random(_, a, b) => {
                self.mentions_coords(a) || self.mentions_coords(b)
            }
            CExpr::Call(_, args) | CExpr::Net { args, .. } => {
                args.iter().any(|a| self.mentions_coords(a))
            }
            CExpr::Sum { body, .. } => self.mentions_coords(body),
        }
    }

    /// Converts a body; `env[0]` (when present) is the symbolic site index `i`.
    fn expr(&mut self, e: &CExpr, env: &mut Vec<i64>) -> Option<ExprId> {
        Some(match e {
            CExpr::Num(x) => self.dag.num(*x),
            CExpr::Coord {
                coord,
                vel,
                index: Some(ix),
            } if self.mode != Mode::Free => {
                let offset = match self.mode {
                    Mode::Site => affine_offset(ix, env)?,
                    _ => int_value(ix, env),
                };
                let s = self.slot(*coord, offset);
                let name = &self.sys.coords[*coord].name;
                if self.mode == Mode::Once {
                    let prime = if *vel { "'" } else { "" };
                    self.dag.var(&format!("{name}{prime}[{}]", s.offset))
                } else {
                    let idx = self.dag.var_name(self.dag.as_var(self.index)?).to_string();
                    self.dag.var(&slot_name(name, *vel, &idx, s.offset))
                }
            }
            CExpr::Coord { .. } | CExpr::Momentum { .. } => return None,
            CExpr::Time => self.t,
            CExpr::Learn(k) => self.learns[*k],
            // Systems with inputs are derived unrolled (`Eom::derive_lattice`).
            CExpr::Input(_) => return None,
            CExpr::Param(k) => self.dag.var(&self.sys.params[*k].0),
            CExpr::Let(k) => {
                let body = &self.sys.lets[*k].1;
                if self.mentions_coords(body) {
                    return None;
                }
                self.expr(body, &mut vec![])?
            }
            CExpr::IndexVar(0) if self.mode == Mode::Site => self.index,
            CExpr::IndexVar(level) => self.dag.num(*env.get(*level)? as f64),
            CExpr::Neg(a) => {
                let a = self.expr(a, env)?;
                self.dag.neg(a)
            }
            CExpr::Binary(op, a, b) => {
                let (a, b) = (self.expr(a, env)?, self.expr(b, env)?);
                binary(self.dag, *op, a, b)
            }
            CExpr::Call(f, args) => {
                let a = args
                    .iter()
                    .map(|x| self.expr(x, env))
                    .collect::<Option<Vec<_>>>()?;
                call(self.dag, *f, &a)
            }
            CExpr::Net { net, out, args } => {
                let a = args
                    .iter()
                    .map(|x| self.expr(x, env))
                    .collect::<Option<Vec<_>>>()?;
                self.dag.net(*net as u32, *out as u32, &a)
            }
            // A sum inside a site body (or a coordinate-free one) runs over constants.
            CExpr::Sum { lo, hi, body, .. } => {
                let mut terms = Vec::with_capacity((hi - lo).max(0) as usize);
                for i in *lo..*hi {
                    env.push(i);
                    let t = self.expr(body, env);
                    env.pop();
                    terms.push(t?);
                }
                self.dag.sum(&terms)
            }
            // The velocity of a let of coordinates makes the system unrolled (the
            // let itself does); one of `t` alone is its time derivative.
            CExpr::Rate(a) => {
                if self.mentions_coords(a) {
                    return None;
                }
                let e = self.expr(a, env)?;
                self.dag.diff(e, self.t)
            }
            CExpr::Random(..) => self.dag.num(f64::NAN),
        })
    }
}

/// The offset c of an index expression that equals `i + c` for the site index
/// `i = env[0]` (with the inner sum indices `env[1..]` fixed), or `None` when it is not
/// of that form.
fn affine_offset(ix: &CExpr, env: &[i64]) -> Option<i64> {
    let at = |k: i64| {
        let mut e = env.to_vec();
        e[0] = k;
        int_value(ix, &e)
    };
    let c = at(0);
    [1, 2, 37, -5]
        .into_iter()
        .all(|k| at(k) == k + c)
        .then_some(c)
}
