//! Simplification for display (`lagc derive`): polynomial parts expanded and like terms
//! collected, common factors of ratios cancelled, sin(u)^2 + cos(u)^2 = 1 applied.
//!
//! An expression is read as a sum of monomials with numeric coefficients; a monomial is
//! a product of *atoms* (variables, function calls, sums that stay unexpanded, fractional
//! powers) raised to integer exponents, negative ones included, so `x*y/x` is `y` and
//! `exp(t/5)/exp(t/5)` is 1. Factors whose simplified forms agree cancel before any
//! expansion, so `(m - 1)*a/(m - 1)` is `a`.
//!
//! Invariant: the simplified expression equals the original as a function of its
//! variables (up to rounding; tests/it/simplify_props.rs checks 1e-12 relative on
//! random inputs). The result is new nodes in the same DAG; the nodes the kernels read
//! are never changed.
//!
//! Cost is bounded: a sum or product past [`MAX_TERMS`] terms, or a derivation past
//! [`WORK_BUDGET`] monomial products in all, is left as it was written.

use super::dag::{Dag, ExprId, Func, Node, MAX_POWI};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// Most terms an expanded sum may have; a larger one stays unexpanded.
pub const MAX_TERMS: usize = 200;

/// Most monomial products one [`Simplifier`] performs; past it, expressions print as built.
pub const WORK_BUDGET: usize = 2_000_000;

/// Largest expression (nodes written out) whose operands [`Simplifier::shortest`]
/// searches one by one.
pub const SEARCH_MAX_NODES: f64 = 2000.0;

/// Largest integer power of a sum that is expanded.
const MAX_EXPANDED_POWER: i32 = 8;

/// Largest denominator q of a fractional exponent p/q kept exact (`x^1.5` = sqrt(x)^3).
const MAX_ROOT: i32 = 12;

/// A product of atoms to nonzero integer powers, sorted by atom.
type Mono = Vec<(ExprId, i32)>;

/// A sum of monomials with their coefficients (no zero coefficient).
type Poly = BTreeMap<Mono, f64>;

/// Simplifies expressions of one DAG, remembering every node it has seen so that
/// shared sub-expressions are simplified once.
#[derive(Default)]
pub struct Simplifier {
    /// Expanded form of each node seen; `None` when it was too large to expand.
    polys: HashMap<ExprId, Option<Rc<Poly>>>,
    /// Simplified node of each node seen.
    nodes: HashMap<ExprId, ExprId>,
    /// Shortest printed form of each node seen ([`Simplifier::shortest`]).
    shortest: HashMap<ExprId, ExprId>,
    /// Monomial products done so far.
    work: usize,
}

impl Simplifier {
    /// A simplifier with nothing remembered.
    pub fn new() -> Simplifier {
        Simplifier::default()
    }

    /// The simplified form of `id`, built in `dag` (or `id` itself when the work budget
    /// is spent or the expansion would be too large).
    pub fn simplify(&mut self, dag: &mut Dag, id: ExprId) -> ExprId {
        if let Some(&done) = self.nodes.get(&id) {
            return done;
        }
        let out = match self.expand(dag, id) {
            Some(p) => self.build(dag, &p),
            None => id,
        };
        self.nodes.insert(id, out);
        out
    }

    /// The form of `id` that prints shortest: its simplified form (over a common
    /// denominator, or each term over its own), the node rebuilt from the shortest forms
    /// of its operands (so a factored numerator over an expanded denominator can win),
    /// or `id` itself. Operands are only searched below [`SEARCH_MAX_NODES`] nodes
    /// written out.
    pub fn shortest(&mut self, dag: &mut Dag, id: ExprId) -> ExprId {
        if let Some(&done) = self.shortest.get(&id) {
            return done;
        }
        let mut best = (dag.to_text(id).len(), id);
        let simplified = self.simplify(dag, id);
        let mut candidates = vec![simplified];
        if let Some(p) = self.expand(dag, id) {
            candidates.push(build_over(dag, &p, &shared_denominators(&p)));
        }
        if dag.tree_size(id) <= SEARCH_MAX_NODES {
            let mut kids = vec![];
            dag.for_each_child(id, |c| kids.push(c));
            let kids: Vec<ExprId> = kids.into_iter().map(|k| self.shortest(dag, k)).collect();
            candidates.push(rebuild(dag, id, &kids));
        }
        for c in candidates {
            let len = dag.to_text(c).len();
            if len < best.0 {
                best = (len, c);
            }
        }
        self.shortest.insert(id, best.1);
        best.1
    }

    /// The expanded form of `id`, or `None` when it is too large.
    fn expand(&mut self, dag: &mut Dag, id: ExprId) -> Option<Rc<Poly>> {
        if let Some(p) = self.polys.get(&id) {
            return p.clone();
        }
        let p = self.expand_node(dag, id).map(Rc::new);
        self.polys.insert(id, p.clone());
        p
    }

    /// The expansion of one node from its operands' (remembered) expansions.
    fn expand_node(&mut self, dag: &mut Dag, id: ExprId) -> Option<Poly> {
        if self.work > WORK_BUDGET {
            return None;
        }
        match dag.node(id).clone() {
            Node::Const(c) => Some(constant(c)),
            Node::Var(_) => Some(atom(id)),
            Node::Add(ops) => self.expand_sum(dag, &ops),
            Node::Mul(ops) => self.expand_product(dag, &ops),
            Node::Pow(b, e) => match dag.as_const(e) {
                Some(c) if c.fract() == 0.0 && c.abs() <= MAX_POWI => {
                    self.expand_product(dag, &[id])
                }
                Some(c) => Some(self.root_power(dag, b, c)),
                None => {
                    let (b, e) = (self.simplify(dag, b), self.simplify(dag, e));
                    let p = dag.pow(b, e);
                    Some(leaf(dag, p))
                }
            },
            Node::Func(f, a) => {
                let a = self.simplify(dag, a);
                let p = dag.func(f, a);
                Some(leaf(dag, p))
            }
            Node::Atan2(y, x) => {
                let (y, x) = (self.simplify(dag, y), self.simplify(dag, x));
                let p = dag.atan2(y, x);
                Some(leaf(dag, p))
            }
            Node::Net {
                net,
                out,
                args,
                partials,
            } => {
                let args: Vec<ExprId> = args.iter().map(|&a| self.simplify(dag, a)).collect();
                let p = dag.net_partial(net, out, &args, &partials);
                Some(leaf(dag, p))
            }
        }
    }

    /// The sum of `terms`, collected, with sin^2 + cos^2 = 1 applied.
    fn expand_sum(&mut self, dag: &mut Dag, terms: &[ExprId]) -> Option<Poly> {
        let mut acc = Poly::new();
        for &t in terms {
            let p = self.expand(dag, t)?;
            for (m, &c) in p.iter() {
                add_term(&mut acc, m.clone(), c);
            }
            if acc.len() > MAX_TERMS {
                return None;
            }
        }
        pythagoras(dag, &mut acc);
        Some(acc)
    }

    /// The product of `factors`: factors with equal simplified bases are combined
    /// first (so they cancel), then sums to positive powers are multiplied out.
    fn expand_product(&mut self, dag: &mut Dag, factors: &[ExprId]) -> Option<Poly> {
        let mut coef = 1.0;
        let mut bases: Vec<(ExprId, Rc<Poly>, i32)> = Vec::new();
        for &f in factors {
            let (base, n) = match dag.node(f) {
                Node::Const(c) => {
                    coef *= c;
                    continue;
                }
                Node::Pow(b, e) => match dag.as_const(*e) {
                    Some(c) if c.fract() == 0.0 && c.abs() <= MAX_POWI => (*b, c as i32),
                    _ => (f, 1),
                },
                _ => (f, 1),
            };
            let p = self.expand(dag, base)?;
            let key = self.simplify(dag, base);
            match bases.iter_mut().find(|(k, _, _)| *k == key) {
                Some(entry) => entry.2 += n,
                None => bases.push((key, p, n)),
            }
        }
        let mut acc = constant(coef);
        for (key, p, n) in bases {
            let factor = match (single(&p), n) {
                (_, 0) => continue,
                (Some((m, c)), _) => mono_power(m, c, n),
                (None, 1..=MAX_EXPANDED_POWER) => self.power(&p, n)?,
                (None, _) => Poly::from([(vec![(key, n)], 1.0)]),
            };
            acc = self.multiply(&acc, &factor)?;
        }
        Some(acc)
    }

    /// `base^c` for a non-integer constant c: `(base^(1/q))^p` when c = p/q with a small
    /// q, so that powers of one root combine (`x^1.5/x^0.5` is x); else an atom.
    fn root_power(&mut self, dag: &mut Dag, base: ExprId, c: f64) -> Poly {
        let b = self.simplify(dag, base);
        match (2..=MAX_ROOT).find(|&q| (c * f64::from(q)).fract() == 0.0) {
            Some(q) => {
                let inv = dag.num(1.0 / f64::from(q));
                let root = dag.pow(b, inv);
                mono_power(&[(root, 1)], 1.0, (c * f64::from(q)) as i32)
            }
            None => {
                let e = dag.num(c);
                let p = dag.pow(b, e);
                leaf(dag, p)
            }
        }
    }

    /// `p^n` for n >= 1, by repeated multiplication.
    fn power(&mut self, p: &Poly, n: i32) -> Option<Poly> {
        let mut acc = p.clone();
        for _ in 1..n {
            acc = self.multiply(&acc, p)?;
        }
        Some(acc)
    }

    /// `a*b` multiplied out and collected; `None` past the size or work limits.
    fn multiply(&mut self, a: &Poly, b: &Poly) -> Option<Poly> {
        self.work += a.len() * b.len();
        if self.work > WORK_BUDGET || a.len() * b.len() > MAX_TERMS * MAX_TERMS {
            return None;
        }
        let mut out = Poly::new();
        for (ma, &ca) in a {
            for (mb, &cb) in b {
                add_term(&mut out, mono_product(ma, mb), ca * cb);
            }
        }
        (out.len() <= MAX_TERMS).then_some(out)
    }
}

/// The node `id` with its operands replaced by `kids` (in [`Dag::for_each_child`] order),
/// through the simplifying builders.
fn rebuild(dag: &mut Dag, id: ExprId, kids: &[ExprId]) -> ExprId {
    match dag.node(id).clone() {
        Node::Const(_) | Node::Var(_) => id,
        Node::Add(_) => dag.sum(kids),
        Node::Mul(_) => dag.product(kids),
        Node::Pow(..) => dag.pow(kids[0], kids[1]),
        Node::Func(f, _) => dag.func(f, kids[0]),
        Node::Atan2(..) => dag.atan2(kids[0], kids[1]),
        Node::Net {
            net, out, partials, ..
        } => dag.net_partial(net, out, kids, &partials),
    }
}

/// The constant `c` as a polynomial (empty for 0).
fn constant(c: f64) -> Poly {
    let mut p = Poly::new();
    add_term(&mut p, vec![], c);
    p
}

/// The atom `a` as a polynomial.
fn atom(a: ExprId) -> Poly {
    Poly::from([(vec![(a, 1)], 1.0)])
}

/// A node built from simplified operands: a constant when the builders folded it,
/// else an atom.
fn leaf(dag: &Dag, id: ExprId) -> Poly {
    match dag.as_const(id) {
        Some(c) => constant(c),
        None => atom(id),
    }
}

/// The only term of `p`, if it has exactly one (zero counts as the monomial 0*1).
fn single(p: &Poly) -> Option<(&[(ExprId, i32)], f64)> {
    match p.len() {
        0 => Some((&[], 0.0)),
        1 => p.iter().next().map(|(m, &c)| (m.as_slice(), c)),
        _ => None,
    }
}

/// `(c*m)^n` as a polynomial (empty when it is zero).
fn mono_power(m: &[(ExprId, i32)], c: f64, n: i32) -> Poly {
    let m: Mono = m.iter().map(|&(a, e)| (a, e * n)).collect();
    let mut p = Poly::new();
    add_term(&mut p, m, super::powi(c, n));
    p
}

/// The product of two monomials (exponents of equal atoms added, zeros dropped).
fn mono_product(a: &[(ExprId, i32)], b: &[(ExprId, i32)]) -> Mono {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&(x, e)), Some(&(y, f))) if x == y => {
                if e + f != 0 {
                    out.push((x, e + f));
                }
                i += 1;
                j += 1;
            }
            (Some(&(x, e)), Some(&(y, _))) if x < y => {
                out.push((x, e));
                i += 1;
            }
            (Some(&t), None) => {
                out.push(t);
                i += 1;
            }
            (_, Some(&t)) => {
                out.push(t);
                j += 1;
            }
            (None, None) => unreachable!("the loop condition holds"),
        }
    }
    out
}

/// Adds `c*m` to `p`; a coefficient that cancels to rounding level is dropped.
fn add_term(p: &mut Poly, m: Mono, c: f64) {
    if c == 0.0 {
        return;
    }
    match p.get_mut(&m) {
        Some(old) => {
            let sum = *old + c;
            if sum.abs() <= 1e-14 * old.abs().max(c.abs()) {
                p.remove(&m);
            } else {
                *old = sum;
            }
        }
        None => {
            p.insert(m, c);
        }
    }
}

/// `m` with the exponent of `a` changed by `d` (the atom dropped at exponent 0).
fn shift(m: &[(ExprId, i32)], a: ExprId, d: i32) -> Mono {
    mono_product(m, &[(a, d)])
}

/// Two coefficients equal up to rounding.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-14 * a.abs().max(b.abs())
}

/// Applies sin(u)^2 + cos(u)^2 = 1 until no pair of terms matches:
/// `c*m*s^2 + c*m*o^2 -> c*m` and `c*m - c*m*s^2 -> c*m*o^2`, where {s, o} = {sin(u), cos(u)}.
/// Each rewrite removes at least one term, so this terminates.
fn pythagoras(dag: &mut Dag, p: &mut Poly) {
    'again: loop {
        let mut squares: Vec<(Mono, f64, ExprId, Func, ExprId)> = vec![];
        for (m, &c) in p.iter() {
            for &(a, e) in m {
                if let (true, Node::Func(f @ (Func::Sin | Func::Cos), u)) = (e >= 2, dag.node(a)) {
                    squares.push((m.clone(), c, a, *f, *u));
                }
            }
        }
        for (m, c, s, f, u) in squares {
            let o = dag.func(if f == Func::Sin { Func::Cos } else { Func::Sin }, u);
            let rest = shift(&m, s, -2);
            let partner = shift(&rest, o, 2);
            if p.get(&partner).is_some_and(|&d| same(c, d)) {
                p.remove(&m);
                p.remove(&partner);
                add_term(p, rest, c);
                continue 'again;
            }
            if p.get(&rest).is_some_and(|&d| same(-c, d)) {
                p.remove(&m);
                p.remove(&rest);
                add_term(p, partner, -c);
                continue 'again;
            }
        }
        return;
    }
}

/// A coefficient with rounding noise removed: the nearest fraction p/q (q <= 1000), or
/// else the 14-significant-digit decimal when it is shorter, if within a few ulps
/// (`0.30000000000000004` -> `0.3`, `0.8333333333333333` -> 5/6).
fn tidy(c: f64) -> f64 {
    let near = |r: f64| r != c && (r - c).abs() <= 4.0 * f64::EPSILON * c.abs();
    if let Some(r) = (1..=1000)
        .map(|q| (c * f64::from(q)).round() / f64::from(q))
        .find(|&r| r == c || near(r))
    {
        return r;
    }
    let r: f64 = format!("{c:.13e}").parse().unwrap_or(c);
    let short = |x: f64| x.to_string().len();
    if short(r) < short(c) && near(r) {
        r
    } else {
        c
    }
}

/// Each atom with a negative exponent in some term of `p` (two terms or more), with its
/// most negative exponent: the common denominator.
fn denominators(p: &Poly) -> Mono {
    let mut den: BTreeMap<ExprId, i32> = BTreeMap::new();
    if p.len() > 1 {
        for &(a, e) in p.keys().flatten() {
            if e < 0 {
                let d = den.entry(a).or_insert(0);
                *d = (*d).min(e);
            }
        }
    }
    den.into_iter().collect()
}

/// The atoms with a negative exponent in every term of `p`, with the exponent nearest
/// zero: the denominator that divides every term as it stands.
fn shared_denominators(p: &Poly) -> Mono {
    let mut den: Mono = match p.iter().next() {
        Some((m, _)) if p.len() > 1 => m.iter().copied().filter(|&(_, e)| e < 0).collect(),
        _ => vec![],
    };
    for m in p.keys() {
        den.retain_mut(|(a, e)| match m.iter().find(|(b, _)| b == a) {
            Some(&(_, f)) if f < 0 => {
                *e = (*e).max(f);
                true
            }
            _ => false,
        });
    }
    den
}

/// `sum(terms of p) / den` as a DAG node: each term `coefficient * atoms^exponents`
/// divided by `den` (a monomial of negative exponents), the sum times `den`.
fn build_over(dag: &mut Dag, p: &Poly, den: &[(ExprId, i32)]) -> ExprId {
    let inverse: Mono = den.iter().map(|&(a, e)| (a, -e)).collect();
    let terms: Vec<ExprId> = p
        .iter()
        .map(|(m, &c)| {
            let m = mono_product(m, &inverse);
            let mut factors = vec![dag.num(tidy(c))];
            factors.extend(m.iter().map(|&(a, e)| powi_node(dag, a, e)));
            dag.product(&factors)
        })
        .collect();
    let mut factors = vec![dag.sum(&terms)];
    factors.extend(den.iter().map(|&(a, e)| powi_node(dag, a, e)));
    dag.product(&factors)
}

impl Simplifier {
    /// The DAG form of `p`: over a common denominator when the numerator can be
    /// multiplied out within the limits (`1/s^3 + 3*x/s^5` -> `(s^2 + 3*x)/s^5`, with
    /// `s^2` expanded when s is a root of a sum), else with the atoms that divide every
    /// term taken out of the sum.
    fn build(&mut self, dag: &mut Dag, p: &Poly) -> ExprId {
        let den = denominators(p);
        if !den.is_empty() {
            if let Some(mut num) = self.numerator(dag, p, &den) {
                pythagoras(dag, &mut num);
                let mut factors = vec![build_over(dag, &num, &[])];
                factors.extend(den.iter().map(|&(a, e)| powi_node(dag, a, e)));
                return dag.product(&factors);
            }
        }
        build_over(dag, p, &shared_denominators(p))
    }

    /// `p * den^-1` multiplied out, each atom of `den` raised to a positive power
    /// expanded when it is a sum or a root of one; `None` past the limits.
    fn numerator(&mut self, dag: &mut Dag, p: &Poly, den: &[(ExprId, i32)]) -> Option<Poly> {
        let mut num = Poly::new();
        for (m, &c) in p {
            let mut term = constant(c);
            for &(a, d) in den {
                let e = m.iter().find(|(b, _)| *b == a).map_or(0, |&(_, e)| e);
                if e > d {
                    let f = self.atom_power(dag, a, e - d)?;
                    term = self.multiply(&term, &f)?;
                }
            }
            let rest: Mono = m
                .iter()
                .copied()
                .filter(|(a, _)| den.iter().all(|(b, _)| b != a))
                .collect();
            for (m, c) in self.multiply(&term, &Poly::from([(rest, 1.0)]))? {
                add_term(&mut num, m, c);
            }
            if num.len() > MAX_TERMS {
                return None;
            }
        }
        Some(num)
    }

    /// `a^k` (k > 0) multiplied out: a sum (or a sum over a denominator) expanded, a
    /// root `b^(1/q)` to a multiple of q as `b`'s power; anything else stays `a^k`.
    fn atom_power(&mut self, dag: &mut Dag, a: ExprId, k: i32) -> Option<Poly> {
        let (base, k) = match dag.node(a) {
            Node::Add(_) | Node::Mul(_) => (a, k),
            Node::Pow(b, e) => match dag.as_const(*e) {
                Some(r) if r > 0.0 && (f64::from(k) * r).fract() == 0.0 => {
                    (*b, (f64::from(k) * r) as i32)
                }
                _ => return Some(Poly::from([(vec![(a, k)], 1.0)])),
            },
            _ => return Some(Poly::from([(vec![(a, k)], 1.0)])),
        };
        let p = self.expand(dag, base)?;
        match single(&p) {
            Some((m, c)) => Some(mono_power(m, c, k)),
            None if k <= MAX_EXPANDED_POWER => self.power(&p, k),
            None => None,
        }
    }
}

/// The node `a^n`.
fn powi_node(dag: &mut Dag, a: ExprId, n: i32) -> ExprId {
    let k = dag.num(f64::from(n));
    dag.pow(a, k)
}
