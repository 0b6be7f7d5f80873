//! Symbolic differentiation on the DAG, memoised on `(node, variable)`.

use super::dag::{Dag, ExprId, Func, Node};

impl Dag {
    /// The derivative of `e` with respect to the variable node `v` (any other node `v`
    /// is treated as an opaque leaf: only occurrences of `v` itself count).
    ///
    /// Memoised on `(node, v)`, so shared subexpressions are differentiated once and
    /// repeated calls are free. Works bottom-up in id order (no recursion).
    pub fn diff(&mut self, e: ExprId, v: ExprId) -> ExprId {
        if let Some(&d) = self.diff_memo.get(&(e, v)) {
            return d;
        }
        // Nodes under `e` whose derivative is not yet known, in topological order.
        let mut todo = Vec::new();
        let mut seen = rustc_hash::FxHashSet::default();
        let mut stack = vec![e];
        while let Some(n) = stack.pop() {
            if self.diff_memo.contains_key(&(n, v)) || !seen.insert(n) {
                continue;
            }
            todo.push(n);
            self.for_each_child(n, |c| stack.push(c));
        }
        todo.sort_unstable();
        for n in todo {
            let d = self.diff_node(n, v);
            self.diff_memo.insert((n, v), d);
        }
        self.diff_memo[&(e, v)]
    }

    /// Derivative of one node, its operands' derivatives being memoised already.
    fn diff_node(&mut self, n: ExprId, v: ExprId) -> ExprId {
        let d = |dag: &Dag, c: ExprId| dag.diff_memo[&(c, v)];
        if n == v {
            return self.num(1.0);
        }
        match self.node(n).clone() {
            Node::Const(_) | Node::Var(_) => self.num(0.0),
            Node::Add(ops) => {
                let terms: Vec<ExprId> = ops.iter().map(|&t| d(self, t)).collect();
                self.sum(&terms)
            }
            Node::Mul(ops) => {
                let mut terms = Vec::new();
                for i in 0..ops.len() {
                    let di = d(self, ops[i]);
                    if self.as_const(di) == Some(0.0) {
                        continue;
                    }
                    let mut fs: Vec<ExprId> = ops.to_vec();
                    fs[i] = di;
                    terms.push(self.product(&fs));
                }
                self.sum(&terms)
            }
            Node::Pow(a, b) => {
                let da = d(self, a);
                if let Some(c) = self.as_const(b) {
                    // c * a^(c-1) * a'
                    let k = self.num(c);
                    let cm1 = self.num(c - 1.0);
                    let p = self.pow(a, cm1);
                    return self.product(&[k, p, da]);
                }
                // a^b (b' ln a + b a'/a)
                let db = d(self, b);
                let ln = self.func(Func::Log, a);
                let t1 = self.mul(db, ln);
                let q = self.div(da, a);
                let t2 = self.mul(b, q);
                let s = self.add(t1, t2);
                self.mul(n, s)
            }
            Node::Func(f, a) => {
                let da = d(self, a);
                if self.as_const(da) == Some(0.0) {
                    return da;
                }
                let outer = self.func_derivative(f, a);
                self.mul(outer, da)
            }
            Node::Atan2(y, x) => {
                // (x y' - y x') / (x^2 + y^2)
                let (dy, dx) = (d(self, y), d(self, x));
                let a = self.mul(x, dy);
                let b = self.mul(y, dx);
                let num = self.sub(a, b);
                let two = self.num(2.0);
                let x2 = self.pow(x, two);
                let y2 = self.pow(y, two);
                let den = self.add(x2, y2);
                self.div(num, den)
            }
            Node::Net {
                net,
                out,
                args,
                partials,
            } => {
                let mut terms = Vec::new();
                for (k, &arg) in args.iter().enumerate() {
                    let da = d(self, arg);
                    if self.as_const(da) == Some(0.0) {
                        continue;
                    }
                    let mut p = partials.to_vec();
                    p.push(k as u32);
                    let part = self.net_partial(net, out, &args, &p);
                    terms.push(self.mul(part, da));
                }
                self.sum(&terms)
            }
        }
    }

    /// `f'(a)` for an elementary function.
    fn func_derivative(&mut self, f: Func, a: ExprId) -> ExprId {
        let one = self.num(1.0);
        let two = self.num(2.0);
        match f {
            Func::Sin => self.func(Func::Cos, a),
            Func::Cos => {
                let s = self.func(Func::Sin, a);
                self.neg(s)
            }
            Func::Tan => {
                let t = self.func(Func::Tan, a);
                let t2 = self.pow(t, two);
                self.add(one, t2)
            }
            Func::Asin | Func::Acos => {
                let a2 = self.pow(a, two);
                let r = self.sub(one, a2);
                let k = self.num(-0.5);
                let p = self.pow(r, k);
                if f == Func::Asin {
                    p
                } else {
                    self.neg(p)
                }
            }
            Func::Atan => {
                let a2 = self.pow(a, two);
                let r = self.add(one, a2);
                self.div(one, r)
            }
            Func::Sinh => self.func(Func::Cosh, a),
            Func::Cosh => self.func(Func::Sinh, a),
            Func::Tanh => {
                let t = self.func(Func::Tanh, a);
                let t2 = self.pow(t, two);
                self.sub(one, t2)
            }
            Func::Exp => self.func(Func::Exp, a),
            Func::Log => self.div(one, a),
            Func::Sqrt => {
                let k = self.num(-0.5);
                let p = self.pow(a, k);
                let h = self.num(0.5);
                self.mul(h, p)
            }
            Func::Abs => self.func(Func::Sign, a),
            Func::Sign => self.num(0.0),
        }
    }
}
