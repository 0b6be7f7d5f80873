//! Printing DAG expressions as readable infix text and as LaTeX.
//!
//! Both printers expand the DAG into a tree (shared subexpressions are printed at
//! every use), with minimal parentheses: `+ -` bind loosest, then `* /`, then unary
//! minus, then `^` (right-associative), as in the `.lag` language.

use super::dag::{Dag, ExprId, Func, MulParts, Node};

/// Binding strength of a printed expression.
const ADD: u8 = 1;
const MUL: u8 = 2;
const NEG: u8 = 3;
const POW: u8 = 4;
const ATOM: u8 = 5;

/// Formats a number: shortest round-trip digits, `2` rather than `2.0`, exponent
/// notation for very large or small magnitudes.
pub fn fmt_num(c: f64) -> String {
    let a = c.abs();
    if a != 0.0 && a.is_finite() && !(1e-4..1e16).contains(&a) {
        format!("{c:e}")
    } else {
        format!("{c}")
    }
}

/// Largest denominator printed as a fraction.
pub const MAX_DENOMINATOR: u32 = 1000;

/// `c` as the fraction `(p, q)` it is exactly (`p as f64 / q as f64 == c`, the smallest
/// q <= [`MAX_DENOMINATOR`], q > 1), when that reads better than the decimal: q a power
/// of two (`1/2`, `3/4`) or a non-terminating decimal (`1/3`, `2/7`). Other terminating
/// decimals stay decimals (`0.2`, `9.81`).
pub fn as_fraction(c: f64) -> Option<(f64, u32)> {
    if !c.is_finite() || c.fract() == 0.0 || c.abs() >= 1e15 {
        return None;
    }
    let q = (2..=MAX_DENOMINATOR).find(|&q| (c * f64::from(q)).round() / f64::from(q) == c)?;
    let mut r = q;
    for f in [2, 5] {
        while r % f == 0 {
            r /= f;
        }
    }
    (q.is_power_of_two() || r > 1).then(|| ((c * f64::from(q)).round(), q))
}

/// LaTeX for a variable name: `theta'` -> `\dot{\theta}`, `t1''` -> `\ddot{t}_{1}`,
/// `phi'[3]` -> `\dot{\phi}_{3}`, `omega` -> `\omega`, `mass` -> `\mathrm{mass}`.
pub fn latex_name(name: &str) -> String {
    let ident_len = name
        .char_indices()
        .find(|&(i, ch)| {
            !(ch.is_ascii_alphanumeric() || ch == '_') || (i == 0 && ch.is_ascii_digit())
        })
        .map_or(name.len(), |(i, _)| i);
    let (ident, rest) = name.split_at(ident_len);
    let primes = rest.chars().filter(|&c| c == '\'').count();
    let index: String = match (rest.find('['), rest.find(']')) {
        (Some(a), Some(b)) if a < b => rest[a + 1..b].to_string(),
        _ => String::new(),
    };
    let (stem, mut sub) = match ident.split_once('_') {
        Some((s, sub)) if !s.is_empty() => (s, sub.to_string()),
        _ => {
            let digits = ident.len() - ident.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            let cut = if digits == ident.len() {
                ident.len()
            } else {
                ident.len() - digits
            };
            (&ident[..cut], ident[cut..].to_string())
        }
    };
    if !index.is_empty() {
        if !sub.is_empty() {
            sub.push(',');
        }
        sub.push_str(&index);
    }
    let mut base = if GREEK.contains(&stem) {
        format!("\\{stem}")
    } else if stem.chars().count() > 1 {
        format!("\\mathrm{{{stem}}}")
    } else {
        stem.to_string()
    };
    base = match primes {
        0 => base,
        1 => format!("\\dot{{{base}}}"),
        2 => format!("\\ddot{{{base}}}"),
        n => format!("{base}^{{({n})}}"),
    };
    if sub.is_empty() {
        base
    } else {
        format!("{base}_{{{sub}}}")
    }
}

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
];

impl Dag {
    /// Readable infix text, e.g. `0.5*m*l^2*theta'^2 + 9.81*cos(theta)`.
    pub fn to_text(&self, id: ExprId) -> String {
        Printer {
            dag: self,
            tex: false,
        }
        .expr(id)
        .0
    }

    /// LaTeX, e.g. `0.5 m l^{2} \dot{\theta}^{2} + 9.81 \cos\left(\theta\right)`.
    pub fn to_latex(&self, id: ExprId) -> String {
        Printer {
            dag: self,
            tex: true,
        }
        .expr(id)
        .0
    }
}

struct Printer<'a> {
    dag: &'a Dag,
    tex: bool,
}

impl Printer<'_> {
    fn paren(&self, s: (String, u8), min: u8) -> String {
        if s.1 >= min {
            s.0
        } else if self.tex {
            format!("\\left({}\\right)", s.0)
        } else {
            format!("({})", s.0)
        }
    }

    fn number(&self, c: f64) -> (String, u8) {
        if let Some((p, q)) = as_fraction(c) {
            let (sign, p) = (if c < 0.0 { "-" } else { "" }, p.abs());
            let prec = if c < 0.0 {
                NEG
            } else if self.tex {
                ATOM
            } else {
                MUL
            };
            let s = if self.tex {
                format!("{sign}\\frac{{{p}}}{{{q}}}")
            } else {
                format!("{sign}{p}/{q}")
            };
            return (s, prec);
        }
        let mut s = fmt_num(c);
        if self.tex {
            if let Some((m, e)) = s.split_once('e') {
                s = format!("{m} \\cdot 10^{{{e}}}");
            }
        }
        (s, if c < 0.0 { NEG } else { ATOM })
    }

    fn call(&self, name: &str, args: &[String]) -> String {
        let joined = args.join(", ");
        if self.tex {
            format!("{name}\\left({joined}\\right)")
        } else {
            format!("{name}({joined})")
        }
    }

    fn expr(&self, id: ExprId) -> (String, u8) {
        let dag = self.dag;
        match dag.node(id) {
            Node::Const(c) => self.number(*c),
            Node::Var(v) => {
                let name = dag.var_name(*v);
                let s = if self.tex {
                    latex_name(name)
                } else {
                    name.to_string()
                };
                (s, ATOM)
            }
            Node::Add(ops) => {
                // Terms print by falling degree in the velocities (kinetic terms
                // before potential ones), else in stored order, except that the first
                // positive term leads when that avoids a leading minus (`1 - x^2`).
                let mut ops: Vec<ExprId> = ops.to_vec();
                ops.sort_by(|&a, &b| {
                    let (da, db) = (velocity_degree(dag, a), velocity_degree(dag, b));
                    db.partial_cmp(&da).unwrap_or(std::cmp::Ordering::Equal)
                });
                if dag.mul_parts(ops[0]).negative {
                    if let Some(k) = ops.iter().position(|&t| !dag.mul_parts(t).negative) {
                        let first = ops.remove(k);
                        ops.insert(0, first);
                    }
                }
                let mut out = String::new();
                for (i, &t) in ops.iter().enumerate() {
                    let parts = dag.mul_parts(t);
                    let body = self.product(&parts);
                    let body = if body.1 < MUL {
                        self.paren(body, MUL)
                    } else {
                        body.0
                    };
                    match (i, parts.negative) {
                        (0, false) => out.push_str(&body),
                        (0, true) => {
                            out.push('-');
                            out.push_str(&body);
                        }
                        (_, false) => {
                            out.push_str(" + ");
                            out.push_str(&body);
                        }
                        (_, true) => {
                            out.push_str(" - ");
                            out.push_str(&body);
                        }
                    }
                }
                (out, ADD)
            }
            Node::Mul(_) | Node::Pow(..) => {
                if let Node::Pow(a, b) = dag.node(id) {
                    match dag.as_const(*b) {
                        Some(c) if c > 0.0 => return self.const_pow(*a, c),
                        Some(_) => {}
                        None => {
                            let base = self.paren(self.expr(*a), ATOM);
                            let exp = self.paren(self.expr(*b), POW);
                            return if self.tex {
                                (format!("{base}^{{{exp}}}"), POW)
                            } else {
                                (format!("{base}^{exp}"), POW)
                            };
                        }
                    }
                }
                let parts = dag.mul_parts(id);
                let (s, p) = self.product(&parts);
                if parts.negative {
                    (format!("-{s}"), p.min(NEG))
                } else {
                    (s, p)
                }
            }
            Node::Func(f, a) => {
                let arg = self.expr(*a).0;
                let s = if self.tex {
                    match f {
                        Func::Abs => format!("\\left|{arg}\\right|"),
                        Func::Sqrt => format!("\\sqrt{{{arg}}}"),
                        Func::Sign => self.call("\\operatorname{sign}", &[arg]),
                        _ => self.call(&format!("\\{}", tex_func(*f)), &[arg]),
                    }
                } else {
                    self.call(f.name(), &[arg])
                };
                (s, ATOM)
            }
            Node::Atan2(y, x) => {
                let args = [self.expr(*y).0, self.expr(*x).0];
                let name = if self.tex {
                    "\\operatorname{atan2}"
                } else {
                    "atan2"
                };
                (self.call(name, &args), ATOM)
            }
            Node::Net {
                net,
                out,
                args,
                partials,
            } => {
                // `df/dx` reads as a quotient: parenthesised inside products and powers.
                let prec = if partials.is_empty() || self.tex {
                    ATOM
                } else {
                    MUL
                };
                (self.net_call(*net, *out, args, partials), prec)
            }
        }
    }

    /// A net block: `f(x, x')` (`f(x)[k]` for output k); its partials `df/dx'` and
    /// `d2f/dx'dx` (`df[k]/dx` for output k; LaTeX:
    /// `\frac{\partial f}{\partial \dot{x}}`), later argument positions first. An argument
    /// that is not a plain variable (or is repeated) is named by its position, `#2` for the
    /// second. The argument list follows a partial only when the net is called at more
    /// than one point, since otherwise the point is the call's and the names say it all.
    fn net_call(&self, net: u32, out: u32, args: &[ExprId], partials: &[u32]) -> String {
        let dag = self.dag;
        let info = dag.net_info(net);
        let name = info.map_or_else(|| format!("net{net}"), |i| i.name.clone());
        let name = if self.tex && name.chars().count() > 1 {
            format!("\\mathrm{{{name}}}")
        } else {
            name
        };
        let pick = if info.map_or(out > 0, |i| i.outs > 1) {
            if self.tex {
                format!("_{{[{out}]}}")
            } else {
                format!("[{out}]")
            }
        } else {
            String::new()
        };
        let arg_list = || {
            let a: Vec<String> = args.iter().map(|&a| self.expr(a).0).collect();
            self.call("", &a)
        };
        if partials.is_empty() {
            return format!("{name}{}{pick}", arg_list());
        }
        let name = format!("{name}{pick}");
        let label = |p: u32| {
            let a = args[p as usize];
            match dag.as_var(a) {
                Some(v) if args.iter().filter(|&&b| b == a).count() == 1 => {
                    let n = dag.var_name(v);
                    if self.tex {
                        latex_name(n)
                    } else {
                        n.to_string()
                    }
                }
                _ if self.tex => format!("\\#{}", p + 1),
                _ => format!("#{}", p + 1),
            }
        };
        let order = if partials.len() > 1 {
            format!("{}", partials.len())
        } else {
            String::new()
        };
        let wrt: Vec<String> = partials.iter().rev().map(|&p| label(p)).collect();
        let mut d = if self.tex {
            let den: Vec<String> = wrt.iter().map(|w| format!("\\partial {w}")).collect();
            let order = if order.is_empty() {
                order
            } else {
                format!("^{order}")
            };
            format!("\\frac{{\\partial{order} {name}}}{{{}}}", den.join(" "))
        } else {
            format!("d{order}{name}/d{}", wrt.join("d"))
        };
        if self.called_at_several_points(net) {
            d.push_str(&arg_list());
        }
        d
    }

    /// True when the DAG holds calls of `net` at more than one argument list.
    fn called_at_several_points(&self, net: u32) -> bool {
        let mut first: Option<&[ExprId]> = None;
        for i in 0..self.dag.len() {
            if let Node::Net { net: n, args, .. } = self.dag.node(ExprId(i as u32)) {
                if *n != net {
                    continue;
                }
                match first {
                    None => first = Some(args),
                    Some(f) if f != &args[..] => return true,
                    Some(_) => {}
                }
            }
        }
        false
    }

    /// `a^c` for a positive constant `c`.
    fn const_pow(&self, a: ExprId, c: f64) -> (String, u8) {
        if c == 1.0 {
            return self.expr(a);
        }
        let base = self.expr(a);
        if c == 0.5 {
            return if self.tex {
                (format!("\\sqrt{{{}}}", base.0), ATOM)
            } else {
                (self.call("sqrt", &[base.0]), ATOM)
            };
        }
        let base = self.paren(base, ATOM);
        if self.tex {
            (format!("{base}^{{{}}}", fmt_num(c)), POW)
        } else {
            (format!("{base}^{}", fmt_num(c)), POW)
        }
    }

    /// The magnitude of a product (the sign is the caller's).
    fn product(&self, parts: &MulParts) -> (String, u8) {
        let sep = |acc: &str, next: &str| -> &'static str {
            if !self.tex {
                "*"
            } else if acc.is_empty() {
                ""
            } else if next.starts_with(|c: char| c.is_ascii_digit()) {
                " \\cdot "
            } else {
                " "
            }
        };
        let (top, bottom) = match as_fraction(parts.coef) {
            Some((p, q)) => (p, Some(q)),
            None => (parts.coef, None),
        };
        let mut num = String::new();
        let mut prec = ATOM;
        let mut count = 0;
        if top != 1.0 || parts.num.is_empty() {
            num = self.number(top).0;
            count += 1;
        }
        for &f in &parts.num {
            let s = self.expr(f);
            prec = if s.1 > MUL { s.1 } else { ATOM };
            let s = self.paren(s, MUL + 1);
            if !num.is_empty() {
                num.push_str(sep(&num, &s));
            }
            num.push_str(&s);
            count += 1;
        }
        if count > 1 {
            prec = MUL;
        } else if count == 1 && parts.num.is_empty() {
            prec = ATOM;
        }
        let dens: Vec<(String, u8)> = bottom
            .map(|q| (q.to_string(), ATOM))
            .into_iter()
            .chain(parts.den.iter().map(|&(b, e)| self.const_pow(b, e)))
            .collect();
        if dens.is_empty() {
            return (num, prec);
        }
        if self.tex {
            let mut den = String::new();
            for d in dens {
                let s = self.paren(d, MUL + 1);
                if !den.is_empty() {
                    den.push_str(sep(&den, &s));
                }
                den.push_str(&s);
            }
            return (format!("\\frac{{{num}}}{{{den}}}"), ATOM);
        }
        let den = if dens.len() == 1 {
            let d = dens.into_iter().next().map_or((String::new(), ATOM), |d| d);
            self.paren(d, NEG)
        } else {
            let v: Vec<String> = dens.into_iter().map(|d| self.paren(d, MUL + 1)).collect();
            format!("({})", v.join("*"))
        };
        (format!("{num}/{den}"), MUL)
    }
}

/// The degree of a term in the velocities (variables named with a prime): `m*x'^2*y'`
/// is 3, `k*x^2` and `sqrt(1 - x'^2)` are 0.
fn velocity_degree(dag: &Dag, term: ExprId) -> f64 {
    let is_velocity = |e: ExprId| {
        dag.as_var(e)
            .is_some_and(|v| dag.var_name(v).contains('\''))
    };
    dag.mul_parts(term)
        .num
        .iter()
        .map(|&f| match dag.node(f) {
            Node::Pow(b, e) if is_velocity(*b) => dag.as_const(*e).unwrap_or(0.0),
            _ if is_velocity(f) => 1.0,
            _ => 0.0,
        })
        .sum()
}

fn tex_func(f: Func) -> &'static str {
    match f {
        Func::Asin => "arcsin",
        Func::Acos => "arccos",
        Func::Atan => "arctan",
        _ => f.name(),
    }
}
