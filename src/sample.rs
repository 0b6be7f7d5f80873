//! Seeded random samples of a system's variables: `sample(n = N, seed = S, a = uniform(0, 1), ...)`.
//!
//! A ground-floor helper: it reads checked [`SampleSpec`]s and [`SystemModel`]s and
//! imports no later stage. The generator is ChaCha8 (portable and reproducible across
//! platforms and versions of this crate): the same spec and seed always give the same rows.
//!
//! Draw order (what reproducibility means here): rows one after the other; within a row
//! the assignments in the order written; within an assignment to a whole array, the
//! elements in index order; within one expression, random atoms left to right (both
//! arguments of an atom before the atom itself). `uniform(a, b)` is `a + (b - a) u` with
//! `u` uniform on [0, 1) from 53 random bits; `normal(mu, sigma)` is `mu + sigma z` with
//! `z` from the Box-Muller transform of two such uniforms.

use crate::check::{CExpr, Dynamics, Random, SampleSpec, SystemModel};
use crate::diagnostics::Diagnostic;
use crate::symbolic::eom::velocity_name;
use rand_chacha::rand_core::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rows of named values drawn by [`draw`].
#[derive(Clone, Debug, PartialEq)]
pub struct Sampled {
    /// Column names: the system's coordinates (`theta`, `phi[0]`, ...), then its
    /// velocities (`theta'`, `phi'[0]`, ...) or, for H systems, its momenta, then every
    /// sampled param or `t`, in the order first written.
    pub names: Vec<String>,
    /// One row per sample, each as long as `names`. Variables the spec does not mention are 0.
    pub rows: Vec<Vec<f64>>,
}

impl Sampled {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// The seeded random stream of a sample spec (ChaCha8 seeded from a u64).
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Independent stream number `stream` of the generator for `seed` (the trainer draws
    /// the minibatch of step k from stream k, so any step can be redrawn on its own).
    pub fn with_stream(seed: u64, stream: u64) -> Rng {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        Rng(r)
    }

    /// Uniform on [0, 1), from 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal deviate (Box-Muller, one deviate per two uniforms).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]: the log is finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// A uniform index in `0..n` (`n > 0`), unbiased by rejection.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.0.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// The scalar state names of `sys`: coordinates, then velocities (momenta for H systems).
pub fn state_names(sys: &SystemModel) -> Vec<String> {
    let mut q = vec![];
    for c in &sys.coords {
        match c.len {
            None => q.push(c.name.clone()),
            Some(n) => q.extend((0..n).map(|i| format!("{}[{i}]", c.name))),
        }
    }
    let v: Vec<String> = if matches!(sys.dynamics, Dynamics::Hamiltonian(_)) {
        sys.momenta.clone()
    } else {
        q.iter().map(|n| velocity_name(n)).collect()
    };
    q.extend(v);
    q
}

/// Draws `spec.n` rows of the variables of `sys` (the truth system for training data,
/// the simulated system for `init = sample(...)`). An expression whose value is not
/// finite, or a `uniform(a, b)` with `b < a` or a `normal` with a negative sigma, is an
/// error located at the assignment.
pub fn draw(spec: &SampleSpec, sys: &SystemModel) -> Result<Sampled, Diagnostic> {
    let mut names = state_names(sys);
    let dof = sys.dof();
    let is_h = matches!(sys.dynamics, Dynamics::Hamiltonian(_));
    // For each assignment: the columns it writes, with the element index of each.
    let mut targets: Vec<Vec<(usize, i64)>> = Vec::with_capacity(spec.assigns.len());
    for a in &spec.assigns {
        let mut cols = vec![];
        let mut offset = 0;
        let mut found = false;
        for (k, c) in sys.coords.iter().enumerate() {
            if c.name == a.name {
                found = true;
                let base = offset + if a.primes == 1 { dof } else { 0 };
                match (c.len, a.element) {
                    (None, _) => cols.push((base, 0)),
                    (Some(_), Some(e)) => cols.push((base + e, e as i64)),
                    (Some(n), None) => cols.extend((0..n).map(|i| (base + i, i as i64))),
                }
            }
            if is_h && sys.momenta.get(k) == Some(&a.name) {
                found = true;
                cols.push((dof + offset, 0));
            }
            offset += c.size();
        }
        if !found {
            // A param or `t`: its own column.
            let col = match names.iter().position(|n| *n == a.name) {
                Some(c) => c,
                None => {
                    names.push(a.name.clone());
                    names.len() - 1
                }
            };
            cols.push((col, 0));
        }
        targets.push(cols);
    }
    let mut rng = Rng::new(spec.seed);
    let mut rows = Vec::with_capacity(spec.n);
    let mut env = vec![];
    for _ in 0..spec.n {
        let mut row = vec![0.0; names.len()];
        for (a, cols) in spec.assigns.iter().zip(&targets) {
            for &(col, element) in cols {
                env.clear();
                env.push(element);
                let x = eval(&a.value, &mut env, &mut rng).map_err(|why| {
                    Diagnostic::error(a.span, format!("cannot sample `{}`: {why}", a.name))
                        .with_label("expected a finite value for every sample")
                })?;
                row[col] = x;
            }
        }
        rows.push(row);
    }
    Ok(Sampled { names, rows })
}

/// Evaluates a distribution expression; `env[level]` is the value of sum index `level`
/// (level 0 is the array element).
fn eval(e: &CExpr, env: &mut Vec<i64>, rng: &mut Rng) -> Result<f64, String> {
    let x = match e {
        CExpr::Num(x) => *x,
        CExpr::IndexVar(l) => env.get(*l).copied().unwrap_or(0) as f64,
        CExpr::Neg(a) => -eval(a, env, rng)?,
        CExpr::Binary(op, a, b) => {
            let a = eval(a, env, rng)?;
            op.apply(a, eval(b, env, rng)?)
        }
        CExpr::Call(f, args) => {
            let a = eval(&args[0], env, rng)?;
            let b = match args.get(1) {
                Some(b) => eval(b, env, rng)?,
                None => 0.0,
            };
            f.apply(a, b)
        }
        CExpr::Sum {
            level,
            lo,
            hi,
            body,
        } => {
            let mut acc = 0.0;
            env.resize(*level + 1, 0);
            for i in *lo..*hi {
                env[*level] = i;
                acc += eval(body, env, rng)?;
            }
            env.truncate(*level);
            acc
        }
        CExpr::Random(kind, a, b) => {
            let a = eval(a, env, rng)?;
            let b = eval(b, env, rng)?;
            match kind {
                Random::Uniform if b < a => {
                    return Err(format!("uniform({a}, {b}) has its bounds reversed"))
                }
                Random::Uniform => a + (b - a) * rng.unit(),
                Random::Normal if b < 0.0 => {
                    return Err(format!("normal({a}, {b}) has a negative sigma"))
                }
                Random::Normal => a + b * rng.normal(),
            }
        }
        _ => return Err("the value depends on the system's variables".to_string()),
    };
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("the value is {x}"))
    }
}
