//! Reading the DAG: traversal in topological order, tree sizes, products split into
//! numerator and denominator, and evaluation with the kernel interpreter's arithmetic.
//!
//! Invariant: nothing here adds a node; every function takes `&Dag`.

use super::dag::{Dag, ExprId, Node, VarId};
use super::func::PowKind;
use std::collections::HashMap;

/// A net evaluator for [`Dag::eval`]: `(net, out, args, partials) -> value`.
pub type NetFn<'a> = dyn Fn(u32, u32, &[f64], &[u32]) -> f64 + 'a;

/// A product split for evaluation and printing: `sign * coef * num / den`, where each
/// denominator entry is `(base, positive exponent)`.
#[derive(Clone, Debug, PartialEq)]
pub struct MulParts {
    /// True when the product's constant coefficient is negative.
    pub negative: bool,
    /// Magnitude of the constant coefficient (1 when absent).
    pub coef: f64,
    /// Numerator factors, in stored order.
    pub num: Vec<ExprId>,
    /// Denominator factors `base^exp` (exp > 0), from factors `base^-exp`.
    pub den: Vec<(ExprId, f64)>,
}

impl Dag {
    /// Splits a `Mul` node (or any node, as a one-factor product) for evaluation and
    /// printing: constant sign and magnitude, numerator, and denominator factors
    /// (those with negative constant exponents).
    pub fn mul_parts(&self, id: ExprId) -> MulParts {
        let single = [id];
        let ops: &[ExprId] = match self.node(id) {
            Node::Mul(ops) => ops,
            _ => &single,
        };
        let mut parts = MulParts {
            negative: false,
            coef: 1.0,
            num: Vec::new(),
            den: Vec::new(),
        };
        for &f in ops {
            match self.node(f) {
                Node::Const(c) => {
                    parts.negative = *c < 0.0;
                    parts.coef = c.abs();
                }
                Node::Pow(b, e) => match self.as_const(*e) {
                    Some(c) if c < 0.0 => parts.den.push((*b, -c)),
                    _ => parts.num.push(f),
                },
                _ => parts.num.push(f),
            }
        }
        parts
    }

    /// Checks the builders' invariants (the `dag` module's doc) on every node; `Err`
    /// names the first node that breaks one. Interning checks each new node with it in
    /// debug builds; the tests check whole DAGs.
    pub fn verify(&self) -> Result<(), String> {
        (0..self.len() as u32).try_for_each(|i| self.verify_node(ExprId(i)))
    }

    /// [`Dag::verify`] of one node.
    pub fn verify_node(&self, id: ExprId) -> Result<(), String> {
        let fail = |why: &str| Err(format!("node {}: {why}", id.0));
        let mut late = false;
        self.for_each_child(id, |c| late |= c >= id);
        if late {
            return fail("an operand is not older than the node");
        }
        let (ops, is_add) = match self.node(id) {
            Node::Func(super::func::Func::Sqrt, _) => return fail("sqrt is built as x^0.5"),
            Node::Add(ops) => (ops, true),
            Node::Mul(ops) => (ops, false),
            _ => return Ok(()),
        };
        if ops.len() < 2 {
            return fail("fewer than two operands");
        }
        let consts: Vec<usize> = (0..ops.len())
            .filter(|&k| self.as_const(ops[k]).is_some())
            .collect();
        let place = if is_add { ops.len() - 1 } else { 0 };
        if consts.len() > 1 || consts.first().is_some_and(|&k| k != place) {
            return fail("constants are not one, in their place");
        }
        let rest: Vec<ExprId> = ops
            .iter()
            .copied()
            .filter(|&o| self.as_const(o).is_none())
            .collect();
        if rest.windows(2).any(|w| w[0] >= w[1]) {
            return fail("operands are not sorted by id");
        }
        let nested = rest.iter().any(|&o| match self.node(o) {
            Node::Add(_) => is_add,
            Node::Mul(_) => !is_add,
            _ => false,
        });
        if nested {
            return fail("not flat");
        }
        // Like terms collected (distinct non-constant factor lists), like factors
        // collected (distinct bases).
        let mut keys: Vec<Vec<ExprId>> = rest
            .iter()
            .map(|&o| match self.node(o) {
                Node::Mul(f) if is_add => f
                    .iter()
                    .copied()
                    .filter(|&x| self.as_const(x).is_none())
                    .collect(),
                Node::Pow(b, e) if !is_add && self.as_const(*e).is_some() => vec![*b],
                _ => vec![o],
            })
            .collect();
        keys.sort();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return fail(if is_add {
                "like terms not collected"
            } else {
                "like factors not collected"
            });
        }
        Ok(())
    }

    /// Nodes reachable from `roots`, in ascending id order (a topological order).
    pub fn reachable(&self, roots: &[ExprId]) -> Vec<ExprId> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<ExprId> = roots.to_vec();
        let mut out = Vec::new();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut seen[id.0 as usize], true) {
                continue;
            }
            out.push(id);
            self.for_each_child(id, |c| stack.push(c));
        }
        out.sort_unstable();
        out
    }

    /// Number of nodes of `id` written out as a tree (a shared node counts at every
    /// use), as f64 because it can grow exponentially with the sharing depth.
    pub fn tree_size(&self, id: ExprId) -> f64 {
        let order = self.reachable(&[id]);
        let mut size: HashMap<ExprId, f64> = HashMap::with_capacity(order.len());
        for &n in &order {
            let mut s = 1.0;
            self.for_each_child(n, |c| s += size[&c]);
            size.insert(n, s);
        }
        size[&id]
    }

    /// Number of distinct nodes reachable from `roots`.
    pub fn count_reachable(&self, roots: &[ExprId]) -> usize {
        self.reachable(roots).len()
    }

    /// Calls `f` on every direct operand of `id`.
    pub fn for_each_child(&self, id: ExprId, mut f: impl FnMut(ExprId)) {
        match self.node(id) {
            Node::Const(_) | Node::Var(_) => {}
            Node::Add(ops) | Node::Mul(ops) => ops.iter().for_each(|&c| f(c)),
            Node::Pow(a, b) | Node::Atan2(a, b) => {
                f(*a);
                f(*b);
            }
            Node::Func(_, a) => f(*a),
            Node::Net { args, .. } => args.iter().for_each(|&c| f(c)),
        }
    }

    /// Evaluates `id` (every shared node once). `vars` gives variable values; `nets`
    /// gives `(net, out, args, partials) -> value` for net nodes. The arithmetic is the
    /// same, operation for operation, as the kernel interpreter's.
    pub fn eval(&self, id: ExprId, vars: &dyn Fn(VarId) -> f64, nets: &NetFn) -> f64 {
        let order = self.reachable(&[id]);
        let mut val: HashMap<ExprId, f64> = HashMap::with_capacity(order.len());
        let mut args = Vec::new();
        for &n in &order {
            let v = |e: &ExprId| val[e];
            let x = match self.node(n) {
                Node::Const(c) => *c,
                Node::Var(var) => vars(*var),
                Node::Add(ops) => {
                    let mut acc: Option<f64> = None;
                    for t in ops.iter() {
                        let parts = self.mul_parts(*t);
                        let tv = self.eval_product(&parts, &val);
                        acc = Some(match (acc, parts.negative) {
                            (None, false) => tv,
                            (None, true) => -tv,
                            (Some(a), false) => a + tv,
                            (Some(a), true) => a - tv,
                        });
                    }
                    acc.unwrap_or(0.0)
                }
                Node::Mul(_) => {
                    let parts = self.mul_parts(n);
                    let m = self.eval_product(&parts, &val);
                    if parts.negative {
                        -m
                    } else {
                        m
                    }
                }
                Node::Pow(a, b) => match self.as_const(*b) {
                    Some(c) => PowKind::of(c).apply(v(a)),
                    None => v(a).powf(v(b)),
                },
                Node::Func(f, a) => f.apply(v(a)),
                Node::Atan2(y, x) => crate::numeric::atan2(v(y), v(x)),
                Node::Net {
                    net,
                    out,
                    args: a,
                    partials,
                } => {
                    args.clear();
                    args.extend(a.iter().map(v));
                    nets(*net, *out, &args, partials)
                }
            };
            val.insert(n, x);
        }
        val[&id]
    }

    /// `coef * prod(num) / prod(den)` (without the sign), in the kernel's order.
    fn eval_product(&self, parts: &MulParts, val: &HashMap<ExprId, f64>) -> f64 {
        let mut n: Option<f64> = None;
        for f in &parts.num {
            n = Some(match n {
                None => val[f],
                Some(a) => a * val[f],
            });
        }
        if parts.coef != 1.0 {
            n = Some(match n {
                None => parts.coef,
                Some(a) => parts.coef * a,
            });
        }
        let mut d: Option<f64> = None;
        for (b, e) in &parts.den {
            let p = PowKind::of(*e).apply(val[b]);
            d = Some(match d {
                None => p,
                Some(a) => a * p,
            });
        }
        match (n, d) {
            (Some(n), Some(d)) => n / d,
            (Some(n), None) => n,
            (None, Some(d)) => 1.0 / d,
            (None, None) => 1.0,
        }
    }
}
