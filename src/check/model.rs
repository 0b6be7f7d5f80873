//! The checked model: what the later stages consume. Names are resolved to indices,
//! params are folded to numbers, arrays are sized and nets are shaped.

use crate::diagnostics::Span;

/// A whole checked file.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The systems, in file order.
    pub systems: Vec<SystemModel>,
    /// The run blocks, in file order.
    pub runs: Vec<Run>,
}

impl Model {
    /// The index of the system called `name`.
    pub fn system_index(&self, name: &str) -> Option<usize> {
        self.systems.iter().position(|s| s.name == name)
    }
}

/// One coordinate: a scalar or an array.
#[derive(Clone, Debug, PartialEq)]
pub struct Coord {
    /// Its name.
    pub name: String,
    /// The array length, or `None` for a scalar.
    pub len: Option<usize>,
    /// Whether array indices wrap around.
    pub periodic: bool,
}

impl Coord {
    /// Number of scalar state components (1 for a scalar).
    pub fn size(&self) -> usize {
        self.len.unwrap_or(1)
    }
}

/// The activation function of a net's hidden layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// log(1 + e^x)
    Softplus,
    /// tanh(x)
    Tanh,
    /// 1 / (1 + e^-x)
    Sigmoid,
    /// max(x, 0)^2
    Relu2,
    /// sin(x)
    Sin,
    /// max(x, 0): zero second derivative.
    Relu,
}

impl Activation {
    /// Every activation with its spelling.
    pub const ALL: [(&'static str, Activation); 6] = [
        ("softplus", Activation::Softplus),
        ("tanh", Activation::Tanh),
        ("sigmoid", Activation::Sigmoid),
        ("relu2", Activation::Relu2),
        ("sin", Activation::Sin),
        ("relu", Activation::Relu),
    ];

    /// The spelling in `.lag` files.
    pub fn name(self) -> &'static str {
        Activation::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("?", |(n, _)| n)
    }
}

/// How a net's weights are initialised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// The LNN reference code's scheme.
    Lnn,
    /// Glorot normal.
    Xavier,
    /// He normal.
    Kaiming,
}

impl Init {
    /// Every scheme with its spelling.
    pub const ALL: [(&'static str, Init); 3] = [
        ("lnn", Init::Lnn),
        ("xavier", Init::Xavier),
        ("kaiming", Init::Kaiming),
    ];
}

/// A multilayer perceptron's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// Its name (weights are shared by name).
    pub name: String,
    /// Number of inputs.
    pub inputs: usize,
    /// Number of outputs.
    pub outputs: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub act: Activation,
    /// Initialisation scheme.
    pub init: Init,
}

impl Net {
    /// Layer widths from input to output.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.inputs];
        w.extend(&self.hidden);
        w.push(self.outputs);
        w
    }

    /// Number of learnable weights and biases.
    pub fn weight_count(&self) -> usize {
        self.widths().windows(2).map(|p| p[0] * p[1] + p[1]).sum()
    }
}

/// A built-in function of one or two arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// sin
    Sin,
    /// cos
    Cos,
    /// tan
    Tan,
    /// asin
    Asin,
    /// acos
    Acos,
    /// atan
    Atan,
    /// sinh
    Sinh,
    /// cosh
    Cosh,
    /// tanh
    Tanh,
    /// exp
    Exp,
    /// natural log
    Log,
    /// square root
    Sqrt,
    /// absolute value
    Abs,
    /// atan2(y, x)
    Atan2,
    /// pow(a, b) = a^b
    Pow,
}

impl Builtin {
    /// Every built-in with its spelling.
    pub const ALL: [(&'static str, Builtin); 15] = [
        ("sin", Builtin::Sin),
        ("cos", Builtin::Cos),
        ("tan", Builtin::Tan),
        ("asin", Builtin::Asin),
        ("acos", Builtin::Acos),
        ("atan", Builtin::Atan),
        ("sinh", Builtin::Sinh),
        ("cosh", Builtin::Cosh),
        ("tanh", Builtin::Tanh),
        ("exp", Builtin::Exp),
        ("log", Builtin::Log),
        ("sqrt", Builtin::Sqrt),
        ("abs", Builtin::Abs),
        ("atan2", Builtin::Atan2),
        ("pow", Builtin::Pow),
    ];

    /// The built-in spelled `name`.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }

    /// Number of arguments.
    pub fn arity(self) -> usize {
        match self {
            Builtin::Atan2 | Builtin::Pow => 2,
            _ => 1,
        }
    }

    /// Applies the function to numbers.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Builtin::Sin => a.sin(),
            Builtin::Cos => a.cos(),
            Builtin::Tan => a.tan(),
            Builtin::Asin => a.asin(),
            Builtin::Acos => a.acos(),
            Builtin::Atan => a.atan(),
            Builtin::Sinh => a.sinh(),
            Builtin::Cosh => a.cosh(),
            Builtin::Tanh => a.tanh(),
            Builtin::Exp => a.exp(),
            Builtin::Log => a.ln(),
            Builtin::Sqrt => a.sqrt(),
            Builtin::Abs => a.abs(),
            Builtin::Atan2 => a.atan2(b),
            Builtin::Pow => pow(a, b),
        }
    }
}

/// `a^b`, by repeated multiplication when `b` is a small integer (so negative bases work).
pub fn pow(a: f64, b: f64) -> f64 {
    if b.fract() == 0.0 && b.abs() <= 1024.0 {
        a.powi(b as i32)
    } else {
        a.powf(b)
    }
}

/// Binary arithmetic operators of checked expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// a + b
    Add,
    /// a - b
    Sub,
    /// a * b
    Mul,
    /// a / b
    Div,
    /// a ^ b
    Pow,
}

impl Op {
    /// Applies the operator to numbers.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => a / b,
            Op::Pow => pow(a, b),
        }
    }
}

/// A random atom of a distribution expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Random {
    /// uniform(a, b): half open.
    Uniform,
    /// normal(mu, sigma)
    Normal,
}

/// Which element of an array: a constant or an integer expression of sum indices.
pub type Index = Box<CExpr>;

/// A checked expression. Params, `pi` and constant subexpressions are folded.
#[derive(Clone, Debug, PartialEq)]
pub enum CExpr {
    /// A number.
    Num(f64),
    /// Coordinate `coord` (or its velocity), element `index` for arrays. For array
    /// coordinates the index is already wrapped when it is a constant.
    Coord {
        /// Index into [`SystemModel::coords`].
        coord: usize,
        /// The velocity instead of the position.
        vel: bool,
        /// The element, for arrays.
        index: Option<Index>,
    },
    /// The momentum conjugate to coordinate `coord` (H systems).
    Momentum {
        /// Index into [`SystemModel::coords`].
        coord: usize,
    },
    /// Time.
    Time,
    /// A `learn` parameter.
    Learn(usize),
    /// A measured input `u` (`input u;`): a signal of time known only from data.
    Input(usize),
    /// Param number k of [`SystemModel::params`], kept as a symbol (only in the models
    /// checked with symbolic params, which `lagc derive` prints; kernels see numbers).
    Param(usize),
    /// A `let` binding.
    Let(usize),
    /// The value of the sum index bound `depth` levels out (0 = innermost... counted
    /// from the outermost sum, starting at 0).
    IndexVar(usize),
    /// Unary minus.
    Neg(Box<CExpr>),
    /// A binary operation.
    Binary(Op, Box<CExpr>, Box<CExpr>),
    /// A built-in function call (the second argument only for two-argument ones).
    Call(Builtin, Vec<CExpr>),
    /// Output `out` of net `net` at `args`.
    Net {
        /// Index into [`SystemModel::nets`].
        net: usize,
        /// Which output.
        out: usize,
        /// The arguments.
        args: Vec<CExpr>,
    },
    /// `sum(i in lo..hi, body)`; `body` refers to the index as `IndexVar(level)`.
    Sum {
        /// Nesting level of this sum's index.
        level: usize,
        /// First index.
        lo: i64,
        /// One past the last index.
        hi: i64,
        /// The summand.
        body: Box<CExpr>,
    },
    /// A random atom `uniform(a, b)` or `normal(mu, sigma)` (run blocks only).
    Random(Random, Box<CExpr>, Box<CExpr>),
    /// The total time derivative of an expression of coordinates, params and `t` (the
    /// velocity `p'` of a `let p`): sum_i de/dq_i q'_i + de/dt, taken by the symbolic
    /// stage (the checker does not differentiate).
    Rate(Box<CExpr>),
}

/// Whether a system is given by a Lagrangian, a Hamiltonian or explicit accelerations.
#[derive(Clone, Debug, PartialEq)]
pub enum Dynamics {
    /// `L = EXPR;`
    Lagrangian(CExpr),
    /// `H = EXPR;` with one momentum per coordinate.
    Hamiltonian(CExpr),
    /// `accel a = EXPR, ...;`: one expression per coordinate, in coordinate order; for
    /// arrays the expression uses `IndexVar(0)` for the element.
    Accel(Vec<CExpr>),
}

impl Dynamics {
    /// `L`, `H` or `accel`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Dynamics::Lagrangian(_) => "L",
            Dynamics::Hamiltonian(_) => "H",
            Dynamics::Accel(_) => "accel",
        }
    }
}

/// One checked system.
#[derive(Clone, Debug, PartialEq)]
pub struct SystemModel {
    /// Its name.
    pub name: String,
    /// Where its name is written.
    pub span: Span,
    /// Coordinates in declaration order.
    pub coords: Vec<Coord>,
    /// Momentum names, paired with `coords` (H systems only).
    pub momenta: Vec<String>,
    /// Params with their folded values.
    pub params: Vec<(String, f64)>,
    /// `learn` parameters with their initial values.
    pub learns: Vec<(String, f64)>,
    /// Measured inputs (`input u;`), in declaration order: kernel inputs after the
    /// `learn` params, filled from data (never trained).
    pub inputs: Vec<String>,
    /// `let` bindings in order; later ones may refer to earlier ones.
    pub lets: Vec<(String, CExpr)>,
    /// Nets.
    pub nets: Vec<Net>,
    /// L, H or accel.
    pub dynamics: Dynamics,
    /// The Rayleigh dissipation function.
    pub dissipation: Option<CExpr>,
    /// Generalized forces, one per coordinate (`Num(0)` where none is given).
    pub forces: Vec<CExpr>,
    /// Constraints phi(q, t) = 0 or psi(q, q', t) = 0, in declaration order (L systems).
    pub constraints: Vec<Constraint>,
    /// Events (contacts), in declaration order (L and accel systems).
    pub events: Vec<Event>,
}

/// `event NAME: GUARD => RESETS;`: when `guard` falls from above zero to zero or below,
/// the state is reset.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Its name.
    pub name: String,
    /// Positive before the event: `lhs - rhs` for `lhs <= rhs`, `rhs - lhs` for `>=`.
    pub guard: CExpr,
    /// The assignments, evaluated at the state before the reset.
    pub resets: Vec<Reset>,
    /// The whole declaration.
    pub span: Span,
}

/// One assignment of an event: a coordinate or velocity element and its new value.
#[derive(Clone, Debug, PartialEq)]
pub struct Reset {
    /// Index into [`SystemModel::coords`].
    pub coord: usize,
    /// The velocity instead of the position.
    pub vel: bool,
    /// The element, for arrays.
    pub index: Option<usize>,
    /// The new value.
    pub value: CExpr,
}

/// `constraint NAME: EXPR;`: holonomic when EXPR has no velocities, otherwise
/// nonholonomic (the symbolic stage checks it is linear in them).
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// Its name (the multiplier's column is `lambda_NAME`).
    pub name: String,
    /// The expression that is zero on the constraint.
    pub expr: CExpr,
    /// The whole declaration.
    pub span: Span,
}

impl SystemModel {
    /// Total number of scalar degrees of freedom.
    pub fn dof(&self) -> usize {
        self.coords.iter().map(Coord::size).sum()
    }

    /// Learnable weights: net weights and biases plus `learn` params.
    pub fn weight_count(&self) -> usize {
        self.nets.iter().map(Net::weight_count).sum::<usize>() + self.learns.len()
    }

    /// The one-line summary printed by `lagc check`.
    pub fn summary(&self) -> String {
        let names: Vec<String> = self
            .coords
            .iter()
            .map(|c| match c.len {
                Some(n) => format!(
                    "{}[{n}]{}",
                    c.name,
                    if c.periodic { " periodic" } else { "" }
                ),
                None => c.name.clone(),
            })
            .collect();
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        format!(
            "system {}: {} ({}), {}, {}, {}, {}, {}",
            self.name,
            plural(self.dof(), "coordinate"),
            names.join(", "),
            match &self.dynamics {
                Dynamics::Lagrangian(_) => "Lagrangian".to_string(),
                Dynamics::Hamiltonian(_) =>
                    format!("Hamiltonian (momenta {})", self.momenta.join(", ")),
                Dynamics::Accel(_) => "explicit accelerations".to_string(),
            },
            plural(self.params.len(), "param"),
            plural(self.learns.len(), "learn param"),
            plural(self.nets.len(), "net"),
            plural(self.weight_count(), "learnable weight"),
        ) + &named_count("input", self.inputs.iter().map(String::as_str))
            + &named_count(
                "constraint",
                self.constraints.iter().map(|c| c.name.as_str()),
            )
            + &named_count("event", self.events.iter().map(|e| e.name.as_str()))
    }
}

/// `, 1 constraint (rod)`; empty without names.
fn named_count<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.len() {
        0 => String::new(),
        n => format!(
            ", {n} {what}{} ({})",
            if n == 1 { "" } else { "s" },
            names.join(", ")
        ),
    }
}

/// The integration method of a `simulate` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Classic fourth-order Runge-Kutta.
    Rk4,
    /// Adaptive Dormand-Prince 5(4).
    Dopri5,
    /// Variational (midpoint discrete Lagrangian) or implicit midpoint.
    Variational,
}

impl Method {
    /// Every method with its spelling.
    pub const ALL: [(&'static str, Method); 3] = [
        ("rk4", Method::Rk4),
        ("dopri5", Method::Dopri5),
        ("variational", Method::Variational),
    ];
}

/// A distribution or value for one named variable in `sample(...)` or `init`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assign {
    /// The variable's name as written (`theta`, `theta'`, `phi[3]`, `g`, `t`).
    pub name: String,
    /// Number of primes.
    pub primes: u8,
    /// A constant array element, or `None` (all elements of an array, or a scalar).
    pub element: Option<usize>,
    /// The value: may use `IndexVar(0)` for the array element, and `Random` atoms in
    /// `sample(...)`.
    pub value: CExpr,
    /// Where it was written.
    pub span: Span,
}

/// `sample(TRUTH?, n = N, seed = S, assigns...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleSpec {
    /// The truth system (train data only).
    pub truth: Option<usize>,
    /// Number of samples.
    pub n: usize,
    /// Random seed.
    pub seed: u64,
    /// Distributions per variable.
    pub assigns: Vec<Assign>,
}

/// Where initial states or training data come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// Explicit values (`init a = 1, a' = 0;`).
    Values(Vec<Assign>),
    /// Random samples.
    Sample(SampleSpec),
    /// A CSV file, relative to the `.lag` file's folder.
    File(String),
}

/// Settings of a `simulate` block (defaults filled in).
#[derive(Clone, Debug, PartialEq)]
pub struct SimulateSettings {
    /// Initial states.
    pub init: Source,
    /// End time.
    pub t_end: f64,
    /// Step of the fixed-step methods, dopri5's largest first step, and the output
    /// interval without `dt_out`.
    pub dt: f64,
    /// Output interval (`dt_out`; `None`: dt).
    pub dt_out: Option<f64>,
    /// The integrator.
    pub method: Method,
    /// dopri5 relative tolerance.
    pub rtol: f64,
    /// dopri5 absolute tolerance.
    pub atol: f64,
    /// Truth system whose energy is tracked along the trajectory.
    pub compare: Option<usize>,
    /// Weights file.
    pub weights: Option<String>,
    /// Trajectory CSV.
    pub out: Option<String>,
    /// Plot file (.png or .svg).
    pub plot: Option<String>,
    /// `plot_vars = [...]`: the row columns drawn over time (names as in the CSV
    /// header: `theta`, `theta'`, `phi[3]`, `lambda_rod`, `energy`); `None`: the
    /// coordinates.
    pub plot_vars: Option<Vec<String>>,
    /// Project an initial state that violates the system's constraints onto them
    /// (`--project-init`).
    pub project_init: bool,
    /// The measured inputs' CSV (`inputs = "u.csv";`: columns `t` and one per input,
    /// relative to the `.lag` file's folder).
    pub inputs: Option<String>,
}

/// The training loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Mean squared error.
    Mse,
    /// Mean absolute error.
    L1,
}

/// How an H system trained on L data gets its momenta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Momenta {
    /// p = dL/dq' of the truth.
    Canonical,
    /// p := q' (the non-canonical mistake).
    Velocity,
}

/// Settings of a `train` block (defaults filled in).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    /// Training data.
    pub data: Source,
    /// Optimiser steps.
    pub steps: usize,
    /// Batch size.
    pub batch: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Learning-rate decay over the whole run.
    pub lr_decay: f64,
    /// Seed for initial weights and batches.
    pub seed: u64,
    /// Validation fraction.
    pub val: f64,
    /// Loss function.
    pub loss: Loss,
    /// Tikhonov term added to H before the solve.
    pub reg: f64,
    /// Momenta for H systems on L data.
    pub momenta: Momenta,
    /// Steps between checkpoints.
    pub checkpoint: Option<usize>,
    /// Output weights file.
    pub save: Option<String>,
    /// Initial weights file.
    pub weights: Option<String>,
}

/// A checked run block.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// The system it runs.
    pub system: usize,
    /// Param overrides of this block (`set g = 1.62;`), already checked against the system.
    pub set: Vec<(String, f64)>,
    /// The block's own settings.
    pub settings: RunSettings,
    /// Where the block is written.
    pub span: Span,
    /// The files the block names (`out`, `plot`, `save`, `weights`, `data`, `init`),
    /// with where each name is written: the command line checks them before any block
    /// runs.
    pub files: Vec<FileRef>,
}

/// A file named by a run block setting.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRef {
    /// The setting: `out`, `plot`, `save` (written, relative to the current folder) or
    /// `weights`, `data`, `init`, `inputs` (read, relative to the `.lag` file's folder).
    pub key: &'static str,
    /// The file name as written.
    pub path: String,
    /// The quoted name in the source.
    pub span: Span,
}

impl FileRef {
    /// Whether the block writes this file.
    pub fn is_output(&self) -> bool {
        matches!(self.key, "out" | "plot" | "save")
    }

    /// The files a run writes for this setting: a `save` also writes its checkpoint
    /// (`F.ckpt`) and its loss curve (`STEM.loss.csv`, `STEM.loss.png`) beside it.
    pub fn written(&self) -> Vec<String> {
        match self.key {
            "out" | "plot" => vec![self.path.clone()],
            "save" => {
                let p = std::path::Path::new(&self.path);
                let stem = p
                    .file_stem()
                    .map_or_else(|| "weights".into(), |s| s.to_string_lossy().into_owned());
                let beside = |name: String| p.with_file_name(name).display().to_string();
                vec![
                    self.path.clone(),
                    format!("{}.ckpt", self.path),
                    beside(format!("{stem}.loss.csv")),
                    beside(format!("{stem}.loss.png")),
                ]
            }
            _ => vec![],
        }
    }
}

/// Simulate or train settings.
#[derive(Clone, Debug, PartialEq)]
pub enum RunSettings {
    /// A `simulate` block.
    Simulate(SimulateSettings),
    /// A `train` block.
    Train(TrainSettings),
}
