//! The hash-consed expression DAG: nodes and simplifying builders (reading it is in
//! `walk.rs`, its functions in `func.rs`).
//!
//! Invariants every builder maintains:
//! - a node's operands always have smaller ids than the node itself, so ascending id
//!   order is a topological order (evaluation and differentiation iterate, never recurse);
//! - `Add` and `Mul` are flat (no `Add` inside `Add`, no `Mul` inside `Mul`), have at least
//!   two operands and hold at most one constant: last in an `Add`, first in a `Mul`;
//!   the other operands are sorted by id;
//! - `Add` terms are `coefficient * rest` with distinct `rest`s (like terms collected),
//!   `Mul` factors are `base ^ constant` with distinct bases (like factors collected);
//! - `sqrt(x)` is represented as `x ^ 0.5`; `Func(Sqrt, _)` is never built.

use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

pub use super::func::{powi, Func, PowKind, MAX_POWI};
pub use super::walk::{MulParts, NetFn};

/// Handle of a node in a [`Dag`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ExprId(pub u32);

/// Handle of a named variable (a leaf) in a [`Dag`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct VarId(pub u32);

/// One node of the DAG. Constants compare and hash by their bits (`-0.0` is stored as `0.0`).
#[derive(Clone, Debug)]
pub enum Node {
    /// A number.
    Const(f64),
    /// A named leaf (coordinate, velocity, parameter, time, ...).
    Var(VarId),
    /// A sum of at least two terms.
    Add(Box<[ExprId]>),
    /// A product of at least two factors.
    Mul(Box<[ExprId]>),
    /// `base ^ exponent`.
    Pow(ExprId, ExprId),
    /// An elementary function applied to one argument.
    Func(Func, ExprId),
    /// `atan2(y, x)`.
    Atan2(ExprId, ExprId),
    /// The mixed partial derivative of output `out` of net `net` with respect to the
    /// argument positions `partials` (sorted; empty means the value), at `args`.
    Net {
        /// Net index, from [`Dag::declare_net`].
        net: u32,
        /// Output index.
        out: u32,
        /// Argument expressions.
        args: Box<[ExprId]>,
        /// Sorted argument positions differentiated with respect to.
        partials: Box<[u32]>,
    },
}

impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        use Node::*;
        match (self, other) {
            (Const(a), Const(b)) => a.to_bits() == b.to_bits(),
            (Var(a), Var(b)) => a == b,
            (Add(a), Add(b)) | (Mul(a), Mul(b)) => a == b,
            (Pow(a, b), Pow(c, d)) | (Atan2(a, b), Atan2(c, d)) => a == c && b == d,
            (Func(f, a), Func(g, b)) => f == g && a == b,
            (
                Net {
                    net: n1,
                    out: o1,
                    args: a1,
                    partials: p1,
                },
                Net {
                    net: n2,
                    out: o2,
                    args: a2,
                    partials: p2,
                },
            ) => n1 == n2 && o1 == o2 && a1 == a2 && p1 == p2,
            _ => false,
        }
    }
}

impl Eq for Node {}

impl Hash for Node {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Node::Const(c) => c.to_bits().hash(state),
            Node::Var(v) => v.hash(state),
            Node::Add(ops) | Node::Mul(ops) => ops.hash(state),
            Node::Pow(a, b) | Node::Atan2(a, b) => (a, b).hash(state),
            Node::Func(f, a) => (f, a).hash(state),
            Node::Net {
                net,
                out,
                args,
                partials,
            } => (net, out, args, partials).hash(state),
        }
    }
}

/// A declared neural net: its name (for printing) and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetInfo {
    /// Name used in printed expressions.
    pub name: String,
    /// Number of arguments.
    pub arity: usize,
    /// Number of outputs.
    pub outs: usize,
}

/// The arena of hash-consed expression nodes.
#[derive(Clone, Debug, Default)]
pub struct Dag {
    nodes: Vec<Node>,
    index: FxHashMap<Node, ExprId>,
    var_names: Vec<String>,
    var_index: HashMap<String, VarId>,
    var_nodes: Vec<ExprId>,
    nets: Vec<NetInfo>,
    pub(crate) diff_memo: FxHashMap<(ExprId, ExprId), ExprId>,
}

impl Dag {
    /// An empty DAG.
    pub fn new() -> Dag {
        Dag::default()
    }

    /// Number of nodes in the arena.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the arena holds no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node behind an id.
    pub fn node(&self, id: ExprId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// The value of a constant node, `None` for other nodes.
    pub fn as_const(&self, id: ExprId) -> Option<f64> {
        match self.node(id) {
            Node::Const(c) => Some(*c),
            _ => None,
        }
    }

    /// The variable of a `Var` node, `None` for other nodes.
    pub fn as_var(&self, id: ExprId) -> Option<VarId> {
        match self.node(id) {
            Node::Var(v) => Some(*v),
            _ => None,
        }
    }

    /// The name of a variable.
    pub fn var_name(&self, v: VarId) -> &str {
        &self.var_names[v.0 as usize]
    }

    /// Declares a neural net and returns its index (used by [`Dag::net`]).
    pub fn declare_net(&mut self, name: &str, arity: usize, outs: usize) -> u32 {
        self.nets.push(NetInfo {
            name: name.to_string(),
            arity,
            outs,
        });
        (self.nets.len() - 1) as u32
    }

    /// Every declared net, indexed by net number.
    pub fn nets(&self) -> &[NetInfo] {
        &self.nets
    }

    /// Information on a declared net (`None` for an undeclared index).
    pub fn net_info(&self, net: u32) -> Option<&NetInfo> {
        self.nets.get(net as usize)
    }

    fn intern(&mut self, node: Node) -> ExprId {
        if let Some(&id) = self.index.get(&node) {
            return id;
        }
        let id = ExprId(self.nodes.len() as u32);
        self.nodes.push(node.clone());
        self.index.insert(node, id);
        debug_assert_eq!(self.verify_node(id), Ok(()));
        id
    }

    /// A constant (`-0.0` becomes `0.0`).
    pub fn num(&mut self, c: f64) -> ExprId {
        let c = if c == 0.0 { 0.0 } else { c };
        self.intern(Node::Const(c))
    }

    /// The variable node named `name`, created on first use.
    pub fn var(&mut self, name: &str) -> ExprId {
        if let Some(&v) = self.var_index.get(name) {
            return self.var_nodes[v.0 as usize];
        }
        let v = VarId(self.var_names.len() as u32);
        self.var_names.push(name.to_string());
        self.var_index.insert(name.to_string(), v);
        let id = self.intern(Node::Var(v));
        self.var_nodes.push(id);
        id
    }

    /// `a + b`.
    pub fn add(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.sum(&[a, b])
    }

    /// `a - b`, built as `a + (-1)*b`.
    pub fn sub(&mut self, a: ExprId, b: ExprId) -> ExprId {
        let nb = self.neg(b);
        self.sum(&[a, nb])
    }

    /// `a * b`.
    pub fn mul(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.product(&[a, b])
    }

    /// `a / b`, built as `a * b^-1`.
    pub fn div(&mut self, a: ExprId, b: ExprId) -> ExprId {
        let m1 = self.num(-1.0);
        let inv = self.pow(b, m1);
        self.product(&[a, inv])
    }

    /// `-a`, built as `(-1)*a`.
    pub fn neg(&mut self, a: ExprId) -> ExprId {
        let m1 = self.num(-1.0);
        self.product(&[m1, a])
    }

    /// Splits a term into `(coefficient, rest)`; `rest` is `None` for a constant.
    fn split_term(&mut self, t: ExprId) -> (f64, Option<ExprId>) {
        match self.node(t) {
            Node::Const(c) => (*c, None),
            Node::Mul(ops) => {
                if let Some(c) = self.as_const(ops[0]) {
                    let rest: Vec<ExprId> = ops[1..].to_vec();
                    let r = if rest.len() == 1 {
                        rest[0]
                    } else {
                        self.intern(Node::Mul(rest.into()))
                    };
                    (c, Some(r))
                } else {
                    (1.0, Some(t))
                }
            }
            _ => (1.0, Some(t)),
        }
    }

    /// `c * rest` where `rest` is a non-constant term without coefficient.
    fn scale(&mut self, c: f64, rest: ExprId) -> ExprId {
        if c == 1.0 {
            return rest;
        }
        let k = self.num(c);
        let mut ops = vec![k];
        match self.node(rest) {
            Node::Mul(f) => ops.extend_from_slice(f),
            _ => ops.push(rest),
        }
        self.intern(Node::Mul(ops.into()))
    }

    /// The sum of `terms` (flattened, like terms collected, constants folded).
    pub fn sum(&mut self, terms: &[ExprId]) -> ExprId {
        let mut flat = Vec::with_capacity(terms.len());
        for &t in terms {
            match self.node(t) {
                Node::Add(ops) => flat.extend_from_slice(ops),
                _ => flat.push(t),
            }
        }
        let mut constant = 0.0;
        let mut order: Vec<ExprId> = Vec::new();
        let mut coefs: FxHashMap<ExprId, f64> = FxHashMap::default();
        for t in flat {
            match self.split_term(t) {
                (c, None) => constant += c,
                (c, Some(r)) => {
                    let e = coefs.entry(r).or_insert_with(|| {
                        order.push(r);
                        0.0
                    });
                    *e += c;
                }
            }
        }
        let mut out = Vec::with_capacity(order.len() + 1);
        for r in order {
            let c = coefs[&r];
            if c != 0.0 {
                out.push(self.scale(c, r));
            }
        }
        out.sort();
        if constant != 0.0 || out.is_empty() {
            out.push(self.num(constant));
        }
        if out.len() == 1 {
            out[0]
        } else {
            self.intern(Node::Add(out.into()))
        }
    }

    /// The product of `factors` (flattened, like factors collected, constants folded).
    pub fn product(&mut self, factors: &[ExprId]) -> ExprId {
        let mut coef = 1.0;
        let mut order: Vec<ExprId> = Vec::new();
        let mut exps: FxHashMap<ExprId, ExprId> = FxHashMap::default();
        let mut stack: Vec<ExprId> = factors.iter().rev().copied().collect();
        while let Some(f) = stack.pop() {
            match self.node(f) {
                Node::Mul(ops) => stack.extend(ops.iter().rev()),
                Node::Const(c) => coef *= c,
                node => {
                    let (base, exp) = match node {
                        Node::Pow(b, e) if self.as_const(*e).is_some() => (*b, *e),
                        _ => (f, self.num(1.0)),
                    };
                    if let Some(old) = exps.get(&base).copied() {
                        let e = self.add(old, exp);
                        exps.insert(base, e);
                    } else {
                        order.push(base);
                        exps.insert(base, exp);
                    }
                }
            }
        }
        if coef == 0.0 {
            return self.num(0.0);
        }
        let mut out = Vec::with_capacity(order.len() + 1);
        let mut again = false;
        for b in order {
            let e = exps[&b];
            let p = self.pow(b, e);
            match self.node(p) {
                Node::Const(c) => coef *= c,
                Node::Mul(_) => {
                    again = true;
                    out.push(p);
                }
                _ => out.push(p),
            }
        }
        if again {
            let k = self.num(coef);
            out.push(k);
            return self.product(&out);
        }
        if coef == 0.0 {
            return self.num(0.0);
        }
        out.sort();
        if out.is_empty() {
            return self.num(coef);
        }
        // A numeric coefficient distributes over a lone sum: -(a + b) -> -a - b,
        // 0.5*(2*x + 2*y) -> x + y, so like terms meet and collect in `sum`.
        if let (1, false, Node::Add(ops)) = (out.len(), coef == 1.0, self.node(out[0])) {
            let ops = ops.clone();
            let k = self.num(coef);
            let terms: Vec<ExprId> = ops.iter().map(|&t| self.product(&[k, t])).collect();
            return self.sum(&terms);
        }
        if coef != 1.0 {
            out.insert(0, self.num(coef));
        }
        if out.len() == 1 {
            out[0]
        } else {
            self.intern(Node::Mul(out.into()))
        }
    }

    /// `a ^ b`.
    pub fn pow(&mut self, a: ExprId, b: ExprId) -> ExprId {
        let (ca, cb) = (self.as_const(a), self.as_const(b));
        if let (Some(x), Some(c)) = (ca, cb) {
            return self.num(PowKind::of(c).apply(x));
        }
        if let Some(c) = cb {
            if c == 0.0 {
                return self.num(1.0);
            }
            if c == 1.0 {
                return a;
            }
            let integer = c.fract() == 0.0 && c.abs() <= MAX_POWI;
            match self.node(a).clone() {
                Node::Pow(base, e) if integer => {
                    if let Some(inner) = self.as_const(e) {
                        let k = self.num(inner * c);
                        return self.pow(base, k);
                    }
                    let k = self.mul(e, b);
                    return self.pow(base, k);
                }
                Node::Mul(ops) if integer => {
                    let parts: Vec<ExprId> = ops.iter().map(|&f| self.pow(f, b)).collect();
                    return self.product(&parts);
                }
                _ => {}
            }
        }
        if ca == Some(1.0) {
            return self.num(1.0);
        }
        self.intern(Node::Pow(a, b))
    }

    /// `f(a)`; `sqrt(a)` is built as `a^0.5`.
    pub fn func(&mut self, f: Func, a: ExprId) -> ExprId {
        if let Some(x) = self.as_const(a) {
            return self.num(f.apply(x));
        }
        match f {
            Func::Sqrt => {
                let h = self.num(0.5);
                self.pow(a, h)
            }
            Func::Abs | Func::Sign => match self.node(a) {
                Node::Func(Func::Abs, _) if f == Func::Abs => a,
                Node::Func(Func::Sign, _) if f == Func::Sign => a,
                _ => self.intern(Node::Func(f, a)),
            },
            _ => self.intern(Node::Func(f, a)),
        }
    }

    /// `atan2(y, x)`.
    pub fn atan2(&mut self, y: ExprId, x: ExprId) -> ExprId {
        if let (Some(a), Some(b)) = (self.as_const(y), self.as_const(x)) {
            return self.num(crate::numeric::atan2(a, b));
        }
        self.intern(Node::Atan2(y, x))
    }

    /// The value of output `out` of net `net` at `args`.
    pub fn net(&mut self, net: u32, out: u32, args: &[ExprId]) -> ExprId {
        self.net_partial(net, out, args, &[])
    }

    /// The mixed partial of output `out` of net `net` with respect to the argument
    /// positions `partials` (any order; stored sorted), at `args`.
    pub fn net_partial(&mut self, net: u32, out: u32, args: &[ExprId], partials: &[u32]) -> ExprId {
        let mut p = partials.to_vec();
        p.sort_unstable();
        self.intern(Node::Net {
            net,
            out,
            args: args.into(),
            partials: p.into(),
        })
    }

    /// `id` with every variable `v` that `map` names replaced by `map[v]` (rebuilt through
    /// the simplifying constructors).
    pub fn substitute(&mut self, id: ExprId, map: &HashMap<VarId, ExprId>) -> ExprId {
        let mut memo = HashMap::new();
        self.subst(id, map, &mut memo)
    }

    fn subst(
        &mut self,
        id: ExprId,
        map: &HashMap<VarId, ExprId>,
        memo: &mut HashMap<ExprId, ExprId>,
    ) -> ExprId {
        if let Some(&done) = memo.get(&id) {
            return done;
        }
        let mut kids = |dag: &mut Dag, ids: &[ExprId]| -> Vec<ExprId> {
            ids.iter().map(|&k| dag.subst(k, map, memo)).collect()
        };
        let out = match self.node(id).clone() {
            Node::Const(_) => id,
            Node::Var(v) => map.get(&v).copied().unwrap_or(id),
            Node::Add(ops) => {
                let k = kids(self, &ops);
                self.sum(&k)
            }
            Node::Mul(ops) => {
                let k = kids(self, &ops);
                self.product(&k)
            }
            Node::Pow(a, b) => {
                let k = kids(self, &[a, b]);
                self.pow(k[0], k[1])
            }
            Node::Func(f, a) => {
                let k = kids(self, &[a]);
                self.func(f, k[0])
            }
            Node::Atan2(y, x) => {
                let k = kids(self, &[y, x]);
                self.atan2(k[0], k[1])
            }
            Node::Net {
                net,
                out,
                args,
                partials,
            } => {
                let k = kids(self, &args);
                self.net_partial(net, out, &k, &partials)
            }
        };
        memo.insert(id, out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nodes the builders never make, pushed past them: each is named by `verify`.
    #[test]
    fn verify_names_nodes_that_break_the_canonical_form() {
        type Make = fn(ExprId, ExprId, ExprId) -> Node;
        let cases: Vec<(Make, &str)> = vec![
            (|x, y, _| Node::Add([y, x].into()), "not sorted"),
            (|x, _, c| Node::Add([c, x].into()), "constants are not one"),
            (|x, _, c| Node::Mul([x, c].into()), "constants are not one"),
            (|x, _, _| Node::Add([x].into()), "fewer than two"),
            (|x, _, _| Node::Func(Func::Sqrt, x), "sqrt"),
            (|x, _, _| Node::Pow(x, ExprId(99)), "not older"),
        ];
        for (make, what) in cases {
            let mut d = Dag::new();
            let (x, y, c) = (d.var("x"), d.var("y"), d.num(2.0));
            assert_eq!(d.verify(), Ok(()));
            d.nodes.push(make(x, y, c));
            let err = d.verify().unwrap_err();
            assert!(err.contains(what), "{err} (wanted: {what})");
        }
        let fresh = || {
            let mut d = Dag::new();
            let (x, y, z) = (d.var("x"), d.var("y"), d.var("z"));
            (d, x, y, z)
        };
        let (mut d, x, y, z) = fresh();
        let yz = d.add(y, z);
        d.nodes.push(Node::Add([x, yz].into()));
        assert!(d.verify().unwrap_err().contains("not flat"));
        let (mut d, x, y, z) = fresh();
        let yz = d.mul(y, z);
        d.nodes.push(Node::Mul([x, yz].into()));
        assert!(d.verify().unwrap_err().contains("not flat"));
        let (mut d, x, _, _) = fresh();
        let x2 = d.mul(x, x);
        d.nodes.push(Node::Mul([x, x2].into()));
        assert!(d.verify().unwrap_err().contains("like factors"));
        let (mut d, x, y, _) = fresh();
        let three = d.num(3.0);
        let tx = d.mul(three, x);
        d.nodes.push(Node::Add([x, y, tx].into()));
        assert!(d.verify().unwrap_err().contains("like terms"));
    }
}
