//! kernel stage: the DAG lowered to a flat straight-line program over f64 slots.
//!
//! A [`Program`] is the single input of every backend (the interpreter now, a
//! Cranelift JIT later). It is SSA: each instruction writes fresh slots (one, or `n`
//! consecutive ones for a [`Op::Solve`]), every operand slot is written by an earlier
//! instruction, and no instruction is dead. Slots are dense `0..n_slots`.
//!
//! Architecture invariant: the kernel reads the DAG and nothing earlier; backends read
//! the kernel and never the DAG.

mod derivs;
pub mod lattice;
mod system;
mod verify;

pub use derivs::{energy_spec, implicit_outputs, implicit_spec};
pub use lattice::{lower_lattice, LatticeOutputs, LatticeProgram, SiteProgram};
pub use system::{constraint_spec, eom_program, event_spec, saddle_point, spec_for, EomProgram};

use std::collections::HashMap;
use std::fmt;

use crate::symbolic::{Dag, ExprId, Func, MulParts, NetInfo, Node, PowKind};

/// Index of an f64 slot of a program.
pub type Slot = u32;

/// What one instruction computes.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// A constant.
    Const(f64),
    /// Input `i` of the program.
    Input(u32),
    /// An elementary function.
    Func(Func, Slot),
    /// `-a`.
    Neg(Slot),
    /// `a + b`.
    Add(Slot, Slot),
    /// `a - b`.
    Sub(Slot, Slot),
    /// `a * b`.
    Mul(Slot, Slot),
    /// `a / b`.
    Div(Slot, Slot),
    /// `a ^ n` by [`crate::symbolic::powi`] (binary exponentiation).
    Powi(Slot, i32),
    /// `a ^ b` (`f64::powf`).
    Powf(Slot, Slot),
    /// `atan2(y, x)`.
    Atan2(Slot, Slot),
    /// One call of net `net` at `args`: lane `k` (slot `dst + k`) is the partial that
    /// `lanes[k]` names. All partials of one call are computed together by a
    /// [`NetEval`] (one jet pass through the layers).
    Net {
        /// Net index (as declared in the DAG).
        net: u32,
        /// Argument slots.
        args: Box<[Slot]>,
        /// The values the call produces, one slot each.
        lanes: Box<[NetLane]>,
    },
    /// Solves the dense system `matrix * x = rhs` (matrix row-major `n x n`); `x`
    /// occupies the `n` slots starting at the instruction's `dst`. A singular matrix
    /// (a pivot below `1e-12 * max|matrix|`) is solved with the pseudo-inverse.
    Solve {
        /// System size.
        n: u32,
        /// Row-major matrix slots (`n * n`).
        matrix: Box<[Slot]>,
        /// Right-hand side slots (`n`).
        rhs: Box<[Slot]>,
    },
}

impl Op {
    /// Number of slots the instruction writes.
    pub fn width(&self) -> u32 {
        match self {
            Op::Solve { n, .. } => *n,
            Op::Net { lanes, .. } => lanes.len() as u32,
            _ => 1,
        }
    }

    /// Calls `f` on every operand slot.
    pub fn for_each_operand(&self, mut f: impl FnMut(Slot)) {
        match self {
            Op::Const(_) | Op::Input(_) => {}
            Op::Func(_, a) | Op::Neg(a) | Op::Powi(a, _) => f(*a),
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Powf(a, b)
            | Op::Atan2(a, b) => {
                f(*a);
                f(*b);
            }
            Op::Net { args, .. } => args.iter().for_each(|&s| f(s)),
            Op::Solve { matrix, rhs, .. } => matrix.iter().chain(rhs.iter()).for_each(|&s| f(s)),
        }
    }

    fn map_operands(&mut self, f: impl Fn(Slot) -> Slot) {
        match self {
            Op::Const(_) | Op::Input(_) => {}
            Op::Func(_, a) | Op::Neg(a) | Op::Powi(a, _) => *a = f(*a),
            Op::Add(a, b)
            | Op::Sub(a, b)
            | Op::Mul(a, b)
            | Op::Div(a, b)
            | Op::Powf(a, b)
            | Op::Atan2(a, b) => {
                *a = f(*a);
                *b = f(*b);
            }
            Op::Net { args, .. } => args.iter_mut().for_each(|s| *s = f(*s)),
            Op::Solve { matrix, rhs, .. } => matrix
                .iter_mut()
                .chain(rhs.iter_mut())
                .for_each(|s| *s = f(*s)),
        }
    }
}

/// One value of a net call: the mixed partial of output `out` with respect to the
/// sorted argument positions `partials` (empty: the value itself).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NetLane {
    /// Output index.
    pub out: u32,
    /// Sorted argument positions differentiated with respect to (at most two).
    pub partials: Box<[u32]>,
}

/// One instruction: `op` writing slot `dst` (and the following `op.width() - 1`).
#[derive(Clone, Debug, PartialEq)]
pub struct Inst {
    /// First slot written.
    pub dst: Slot,
    /// The operation.
    pub op: Op,
}

/// A straight-line kernel program.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Length of the input vector.
    pub n_inputs: usize,
    /// Number of slots (scratch size for one evaluation).
    pub n_slots: usize,
    /// Instructions in execution order.
    pub insts: Vec<Inst>,
    /// Slots copied to the output vector, in order.
    pub outputs: Vec<Slot>,
    /// The nets the program calls (names for listings), indexed by net number.
    pub nets: Vec<NetInfo>,
}

impl Program {
    /// Number of instructions.
    pub fn n_instructions(&self) -> usize {
        self.insts.len()
    }

    /// The same program with only the outputs at positions `keep` (in that order),
    /// without the instructions those do not need. Each kept output is computed by the
    /// same instructions as before, so it has the same value to the bit.
    pub fn with_outputs(&self, keep: &[usize]) -> Program {
        let outputs: Vec<Slot> = keep.iter().map(|&k| self.outputs[k]).collect();
        let mut live = vec![false; self.n_slots];
        for &o in &outputs {
            live[o as usize] = true;
        }
        let mut insts = Vec::new();
        for inst in self.insts.iter().rev() {
            let d = inst.dst as usize;
            if live[d..d + inst.op.width() as usize].iter().any(|&l| l) {
                inst.op.for_each_operand(|s| live[s as usize] = true);
                insts.push(inst.clone());
            }
        }
        insts.reverse();
        Program {
            insts,
            outputs,
            ..self.clone()
        }
    }

    /// True when some instruction calls a net.
    pub fn has_nets(&self) -> bool {
        self.insts.iter().any(|i| matches!(i.op, Op::Net { .. }))
    }

    /// True when the program contains a linear solve.
    pub fn has_solve(&self) -> bool {
        self.insts.iter().any(|i| matches!(i.op, Op::Solve { .. }))
    }
}

/// Evaluates net calls for a backend.
pub trait NetEval {
    /// Writes `out[k]` = the value `lanes[k]` names, of net `net` at `args`
    /// (`out.len() == lanes.len()`).
    fn eval(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]);

    /// [`NetEval::eval`] for many calls at once: `args` holds one row of arguments per
    /// call and `out` one row of `lanes.len()` values. Implementations should read the
    /// weights once per batch; this default evaluates row by row.
    fn eval_batch(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        if lanes.is_empty() {
            return;
        }
        let rows = out.len() / lanes.len();
        let arity = args.len().checked_div(rows).unwrap_or(0);
        for r in 0..rows {
            self.eval(
                net,
                &args[r * arity..(r + 1) * arity],
                lanes,
                &mut out[r * lanes.len()..(r + 1) * lanes.len()],
            );
        }
    }
}

impl<F: Fn(u32, u32, &[f64], &[u32]) -> f64> NetEval for F {
    fn eval(&self, net: u32, args: &[f64], lanes: &[NetLane], out: &mut [f64]) {
        for (o, l) in out.iter_mut().zip(lanes) {
            *o = self(net, l.out, args, &l.partials);
        }
    }
}

/// What to compute: inputs, an optional linear solve, outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KernelSpec {
    /// `Var` nodes, in input-vector order.
    pub inputs: Vec<ExprId>,
    /// The linear system, if any.
    pub solve: Option<SolveSpec>,
    /// The outputs, in output-vector order.
    pub outputs: Vec<Output>,
}

/// A dense linear system `matrix * x = rhs`.
#[derive(Clone, Debug, PartialEq)]
pub struct SolveSpec {
    /// System size.
    pub n: usize,
    /// Row-major `n * n` matrix entries.
    pub matrix: Vec<ExprId>,
    /// The `n` right-hand side entries.
    pub rhs: Vec<ExprId>,
}

/// One output of a kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Output {
    /// An expression of the inputs.
    Expr(ExprId),
    /// Component `i` of the solution of the spec's linear system.
    Solved(usize),
}

/// Why a [`KernelSpec`] could not be lowered.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LowerError {
    /// An expression uses a variable that is not an input.
    #[error("variable `{0}` is not an input of the kernel")]
    UnboundVar(String),
    /// An input is not a variable node.
    #[error("kernel input {0} is not a variable")]
    InputNotVar(usize),
    /// The solve's matrix or rhs has the wrong length.
    #[error("linear system of size {n} needs {n}x{n} matrix entries and {n} rhs entries, got {matrix} and {rhs}")]
    SolveShape {
        /// Declared size.
        n: usize,
        /// Matrix entries given.
        matrix: usize,
        /// Rhs entries given.
        rhs: usize,
    },
    /// An output refers to a solution component that does not exist.
    #[error("output refers to solution component {0}, but the system has {1}")]
    SolvedOutOfRange(usize, usize),
    /// A lattice lowering was asked of a system that is not a lattice.
    #[error("the system is not a lattice")]
    NotLattice,
    /// A dense kernel was asked of a lattice system (its kernels are site programs).
    #[error("this kernel is not available for an array system in loop form")]
    LatticeDense,
}

/// Lowers the expressions of `spec` to a program. Every DAG node reachable from the
/// spec is lowered once (common subexpressions are shared), then dead instructions are
/// removed.
pub fn lower(dag: &Dag, spec: &KernelSpec) -> Result<Program, LowerError> {
    let mut inputs = HashMap::new();
    for (i, &v) in spec.inputs.iter().enumerate() {
        if dag.as_var(v).is_none() {
            return Err(LowerError::InputNotVar(i));
        }
        inputs.entry(v).or_insert(i as u32);
    }
    let n_solved = spec.solve.as_ref().map_or(0, |s| s.n);
    if let Some(s) = &spec.solve {
        if s.matrix.len() != s.n * s.n || s.rhs.len() != s.n {
            return Err(LowerError::SolveShape {
                n: s.n,
                matrix: s.matrix.len(),
                rhs: s.rhs.len(),
            });
        }
    }
    let mut roots: Vec<ExprId> = Vec::new();
    if let Some(s) = &spec.solve {
        roots.extend(&s.matrix);
        roots.extend(&s.rhs);
    }
    for o in &spec.outputs {
        match *o {
            Output::Expr(e) => roots.push(e),
            Output::Solved(i) if i >= n_solved => {
                return Err(LowerError::SolvedOutOfRange(i, n_solved))
            }
            Output::Solved(_) => {}
        }
    }
    let mut b = Builder {
        dag,
        insts: Vec::new(),
        n_slots: 0,
        cse: HashMap::new(),
        slot_of: HashMap::new(),
        net_calls: HashMap::new(),
    };
    let order = dag.reachable(&roots);
    b.group_net_calls(&order);
    for id in order {
        let s = b.lower_node(id, &inputs)?;
        b.slot_of.insert(id, s);
    }
    let mut solve_dst = 0;
    if let Some(s) = &spec.solve {
        let matrix = s.matrix.iter().map(|e| b.slot_of[e]).collect();
        let rhs = s.rhs.iter().map(|e| b.slot_of[e]).collect();
        solve_dst = b.n_slots;
        b.insts.push(Inst {
            dst: solve_dst,
            op: Op::Solve {
                n: s.n as u32,
                matrix,
                rhs,
            },
        });
        b.n_slots += s.n as u32;
    }
    let outputs: Vec<Slot> = spec
        .outputs
        .iter()
        .map(|o| match *o {
            Output::Expr(e) => b.slot_of[&e],
            Output::Solved(i) => solve_dst + i as u32,
        })
        .collect();
    let mut program = Program {
        n_inputs: spec.inputs.len(),
        n_slots: b.n_slots as usize,
        insts: b.insts,
        outputs,
        nets: dag.nets().to_vec(),
    };
    eliminate_dead(&mut program);
    debug_assert_eq!(program.verify(), Ok(()));
    Ok(program)
}

/// A net call site: the net and its argument expressions.
type NetCallKey = (u32, Box<[ExprId]>);

struct Builder<'a> {
    dag: &'a Dag,
    insts: Vec<Inst>,
    n_slots: u32,
    cse: HashMap<(u8, u32, u32, u64), Slot>,
    slot_of: HashMap<ExprId, Slot>,
    /// Net calls by (net, args): their lanes, and the block's first slot once emitted.
    net_calls: HashMap<NetCallKey, (Vec<NetLane>, Option<Slot>)>,
}

impl Builder<'_> {
    /// Collects, for every distinct call `(net, args)` among `order`, the lanes that
    /// are needed, so that each call is lowered as one block.
    fn group_net_calls(&mut self, order: &[ExprId]) {
        for &id in order {
            if let Node::Net {
                net,
                out,
                args,
                partials,
            } = self.dag.node(id)
            {
                let lane = NetLane {
                    out: *out,
                    partials: partials.clone(),
                };
                let entry = self
                    .net_calls
                    .entry((*net, args.clone()))
                    .or_insert_with(|| (Vec::new(), None));
                if !entry.0.contains(&lane) {
                    entry.0.push(lane);
                }
            }
        }
    }

    /// Emits `op` (or reuses an identical earlier scalar instruction).
    fn emit(&mut self, op: Op) -> Slot {
        let key = match &op {
            Op::Const(c) => Some((0, 0, 0, c.to_bits())),
            Op::Input(i) => Some((1, *i, 0, 0)),
            Op::Func(f, a) => Some((2, *a, 0, *f as u64)),
            Op::Neg(a) => Some((3, *a, 0, 0)),
            Op::Add(a, b) => Some((4, *a, *b, 0)),
            Op::Sub(a, b) => Some((5, *a, *b, 0)),
            Op::Mul(a, b) => Some((6, *a, *b, 0)),
            Op::Div(a, b) => Some((7, *a, *b, 0)),
            Op::Powi(a, n) => Some((8, *a, 0, *n as u32 as u64)),
            Op::Powf(a, b) => Some((9, *a, *b, 0)),
            Op::Atan2(a, b) => Some((10, *a, *b, 0)),
            Op::Net { .. } | Op::Solve { .. } => None,
        };
        if let Some(&s) = key.as_ref().and_then(|k| self.cse.get(k)) {
            return s;
        }
        let dst = self.n_slots;
        self.n_slots += op.width();
        self.insts.push(Inst { dst, op });
        if let Some(k) = key {
            self.cse.insert(k, dst);
        }
        dst
    }

    fn slot(&self, e: ExprId) -> Slot {
        self.slot_of[&e]
    }

    /// `x ^ c` for a constant `c`, exactly as [`PowKind::apply`] computes it.
    fn pow_const(&mut self, x: Slot, c: f64) -> Slot {
        match PowKind::of(c) {
            PowKind::Int(n) => self.emit(Op::Powi(x, n)),
            PowKind::Sqrt => self.emit(Op::Func(Func::Sqrt, x)),
            PowKind::InvSqrt => {
                let one = self.emit(Op::Const(1.0));
                let r = self.emit(Op::Func(Func::Sqrt, x));
                self.emit(Op::Div(one, r))
            }
            PowKind::Real(c) => {
                let k = self.emit(Op::Const(c));
                self.emit(Op::Powf(x, k))
            }
        }
    }

    /// `coef * prod(num) / prod(den)`, in the same order as `Dag::eval`.
    fn product(&mut self, parts: &MulParts) -> Slot {
        let mut n: Option<Slot> = None;
        for &f in &parts.num {
            let s = self.slot(f);
            n = Some(match n {
                None => s,
                Some(a) => self.emit(Op::Mul(a, s)),
            });
        }
        if parts.coef != 1.0 {
            let k = self.emit(Op::Const(parts.coef));
            n = Some(match n {
                None => k,
                Some(a) => self.emit(Op::Mul(k, a)),
            });
        }
        let mut d: Option<Slot> = None;
        for &(b, e) in &parts.den {
            let bs = self.slot(b);
            let p = self.pow_const(bs, e);
            d = Some(match d {
                None => p,
                Some(a) => self.emit(Op::Mul(a, p)),
            });
        }
        match (n, d) {
            (Some(n), Some(d)) => self.emit(Op::Div(n, d)),
            (Some(n), None) => n,
            (None, Some(d)) => {
                let one = self.emit(Op::Const(1.0));
                self.emit(Op::Div(one, d))
            }
            (None, None) => self.emit(Op::Const(1.0)),
        }
    }

    fn lower_node(
        &mut self,
        id: ExprId,
        inputs: &HashMap<ExprId, u32>,
    ) -> Result<Slot, LowerError> {
        let dag = self.dag;
        Ok(match dag.node(id) {
            Node::Const(c) => self.emit(Op::Const(*c)),
            Node::Var(v) => match inputs.get(&id) {
                Some(&i) => self.emit(Op::Input(i)),
                None => return Err(LowerError::UnboundVar(dag.var_name(*v).to_string())),
            },
            Node::Add(ops) => {
                let mut acc: Option<Slot> = None;
                for &t in ops.iter() {
                    let parts = dag.mul_parts(t);
                    let tv = self.product(&parts);
                    acc = Some(match (acc, parts.negative) {
                        (None, false) => tv,
                        (None, true) => self.emit(Op::Neg(tv)),
                        (Some(a), false) => self.emit(Op::Add(a, tv)),
                        (Some(a), true) => self.emit(Op::Sub(a, tv)),
                    });
                }
                match acc {
                    Some(s) => s,
                    None => self.emit(Op::Const(0.0)),
                }
            }
            Node::Mul(_) => {
                let parts = dag.mul_parts(id);
                let m = self.product(&parts);
                if parts.negative {
                    self.emit(Op::Neg(m))
                } else {
                    m
                }
            }
            Node::Pow(a, b) => {
                let sa = self.slot(*a);
                match dag.as_const(*b) {
                    Some(c) => self.pow_const(sa, c),
                    None => {
                        let sb = self.slot(*b);
                        self.emit(Op::Powf(sa, sb))
                    }
                }
            }
            Node::Func(f, a) => {
                let sa = self.slot(*a);
                self.emit(Op::Func(*f, sa))
            }
            Node::Atan2(y, x) => {
                let (sy, sx) = (self.slot(*y), self.slot(*x));
                self.emit(Op::Atan2(sy, sx))
            }
            Node::Net {
                net,
                out,
                args,
                partials,
            } => {
                let key = (*net, args.clone());
                let (lanes, first) = &self.net_calls[&key];
                let lane = NetLane {
                    out: *out,
                    partials: partials.clone(),
                };
                let k = lanes.iter().position(|l| *l == lane).unwrap_or(0) as Slot;
                let first = match first {
                    Some(f) => *f,
                    None => {
                        let op = Op::Net {
                            net: *net,
                            args: args.iter().map(|&a| self.slot(a)).collect(),
                            lanes: lanes.clone().into_boxed_slice(),
                        };
                        let f = self.emit(op);
                        if let Some(e) = self.net_calls.get_mut(&key) {
                            e.1 = Some(f);
                        }
                        f
                    }
                };
                first + k
            }
        })
    }
}

/// Removes instructions whose results are never used and renumbers slots densely.
fn eliminate_dead(p: &mut Program) {
    let mut live = vec![false; p.n_slots];
    for &o in &p.outputs {
        live[o as usize] = true;
    }
    let mut keep = vec![false; p.insts.len()];
    for (k, inst) in p.insts.iter().enumerate().rev() {
        let range = inst.dst as usize..(inst.dst + inst.op.width()) as usize;
        if live[range].iter().any(|&l| l) {
            keep[k] = true;
            inst.op.for_each_operand(|s| live[s as usize] = true);
        }
    }
    let mut remap = vec![0 as Slot; p.n_slots];
    let mut next: Slot = 0;
    let mut insts = Vec::new();
    for (k, mut inst) in std::mem::take(&mut p.insts).into_iter().enumerate() {
        if !keep[k] {
            continue;
        }
        for j in 0..inst.op.width() {
            remap[(inst.dst + j) as usize] = next + j;
        }
        inst.op.map_operands(|s| remap[s as usize]);
        inst.dst = next;
        next += inst.op.width();
        insts.push(inst);
    }
    p.insts = insts;
    p.n_slots = next as usize;
    for o in &mut p.outputs {
        *o = remap[*o as usize];
    }
}

fn list(slots: &[Slot]) -> String {
    let v: Vec<String> = slots.iter().map(|s| format!("%{s}")).collect();
    v.join(", ")
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "; {} inputs, {} instructions, {} slots, {} outputs",
            self.n_inputs,
            self.insts.len(),
            self.n_slots,
            self.outputs.len()
        )?;
        for inst in &self.insts {
            let d = inst.dst;
            match &inst.op {
                Op::Const(c) => {
                    writeln!(f, "%{d} = const {}", crate::symbolic::print::fmt_num(*c))?
                }
                Op::Input(i) => writeln!(f, "%{d} = input {i}")?,
                Op::Func(func, a) => writeln!(f, "%{d} = {} %{a}", func.name())?,
                Op::Neg(a) => writeln!(f, "%{d} = neg %{a}")?,
                Op::Add(a, b) => writeln!(f, "%{d} = add %{a}, %{b}")?,
                Op::Sub(a, b) => writeln!(f, "%{d} = sub %{a}, %{b}")?,
                Op::Mul(a, b) => writeln!(f, "%{d} = mul %{a}, %{b}")?,
                Op::Div(a, b) => writeln!(f, "%{d} = div %{a}, %{b}")?,
                Op::Powi(a, n) => writeln!(f, "%{d} = powi %{a}, {n}")?,
                Op::Powf(a, b) => writeln!(f, "%{d} = powf %{a}, %{b}")?,
                Op::Atan2(a, b) => writeln!(f, "%{d} = atan2 %{a}, %{b}")?,
                Op::Net { net, args, lanes } => {
                    let name = self
                        .nets
                        .get(*net as usize)
                        .map_or_else(|| format!("net{net}"), |n| n.name.clone());
                    let l: Vec<String> = lanes
                        .iter()
                        .map(|l| {
                            let p: Vec<String> = l.partials.iter().map(|p| p.to_string()).collect();
                            format!("[{}]d[{}]", l.out, p.join(","))
                        })
                        .collect();
                    writeln!(
                        f,
                        "%{d}..%{} = net {name}({}) lanes {}",
                        d + (lanes.len() as u32).saturating_sub(1),
                        list(args),
                        l.join(" ")
                    )?
                }
                Op::Solve { n, matrix, rhs } => writeln!(
                    f,
                    "%{d}..%{} = solve {n}x{n} [{}] [{}]",
                    d + n.saturating_sub(1),
                    list(matrix),
                    list(rhs)
                )?,
            }
        }
        writeln!(f, "out {}", list(&self.outputs))
    }
}
