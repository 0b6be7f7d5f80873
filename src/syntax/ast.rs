//! The abstract syntax tree: owned, spanned, free of pest types.

use crate::diagnostics::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it appears.
    pub span: Span,
}

/// A whole `.lag` file: systems and run blocks in file order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    /// Every top-level block, in order.
    pub blocks: Vec<Block>,
}

/// A top-level block.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// `system NAME { ... }`
    System(System),
    /// `simulate NAME { ... }` or `train NAME { ... }`
    Run(RunBlock),
}

/// `system NAME { items }`
#[derive(Clone, Debug, PartialEq)]
pub struct System {
    /// The system's name.
    pub name: Ident,
    /// Its declarations, in order.
    pub items: Vec<Item>,
    /// The whole block.
    pub span: Span,
}

/// `NAME = EXPR` in `param`, `learn`, `let` and `set`.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The bound name.
    pub name: Ident,
    /// The bound expression.
    pub value: Expr,
}

/// One entry of `coord`: `x`, `phi[N]` or `phi[N] periodic`.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordItem {
    /// The coordinate's name.
    pub name: Ident,
    /// The array length expression, for arrays.
    pub len: Option<Expr>,
    /// Whether array indices wrap.
    pub periodic: bool,
}

/// A variable reference on the left of `=`: `a`, `a'`, `phi[i]`, `phi'[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The variable's name.
    pub name: Ident,
    /// Number of primes (1 for a velocity).
    pub primes: u8,
    /// An index for array elements.
    pub index: Option<Expr>,
    /// The whole target.
    pub span: Span,
}

/// `TARGET = EXPR` in `accel`, `force`, `init` and `sample(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetBinding {
    /// What is assigned.
    pub target: Target,
    /// Its value.
    pub value: Expr,
}

/// One `key: value` option of `mlp(...)`.
#[derive(Clone, Debug, PartialEq)]
pub struct NetOpt {
    /// The option name (`in`, `out`, `hidden`, `act`, `init`).
    pub key: Ident,
    /// Its value.
    pub value: NetOptValue,
}

/// The value of a net option: an expression or a list `[a, b]`.
#[derive(Clone, Debug, PartialEq)]
pub enum NetOptValue {
    /// A single expression (a number or a word such as `softplus`).
    Expr(Expr),
    /// A bracketed list.
    List(Vec<Expr>, Span),
}

/// `net NAME = mlp(opts);`
#[derive(Clone, Debug, PartialEq)]
pub struct NetDecl {
    /// The net's name.
    pub name: Ident,
    /// Its options, as written.
    pub opts: Vec<NetOpt>,
    /// The whole declaration.
    pub span: Span,
}

/// One declaration inside a system.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `coord a, phi[N] periodic;`
    Coord(Vec<CoordItem>),
    /// `momentum p, s;`
    Momentum(Vec<Ident>),
    /// `param a = 1, b = 2*a;`
    Param(Vec<Binding>),
    /// `learn k = 1;`
    Learn(Vec<Binding>),
    /// `input u, v;`: signals known from data (the span covers the keyword)
    Input(Vec<Ident>, Span),
    /// `let x = EXPR;`
    Let(Vec<Binding>),
    /// `net f = mlp(...);`
    Net(NetDecl),
    /// `L = EXPR;` (the span covers the keyword)
    Lagrangian(Expr, Span),
    /// `H = EXPR;`
    Hamiltonian(Expr, Span),
    /// `accel a = EXPR, ...;`
    Accel(Vec<TargetBinding>, Span),
    /// `dissipation = EXPR;`
    Dissipation(Expr, Span),
    /// `force a = EXPR;`
    Force(Vec<TargetBinding>),
    /// `constraint NAME: EXPR;` (the span covers the whole declaration)
    Constraint(Ident, Expr, Span),
    /// `event NAME: A <= B => x' = EXPR, ...;`
    Event(EventDecl),
}

/// `event NAME: LHS REL RHS => TARGET = EXPR, ...;`
#[derive(Clone, Debug, PartialEq)]
pub struct EventDecl {
    /// The event's name.
    pub name: Ident,
    /// Left side of the guard.
    pub lhs: Expr,
    /// True for `<=` and `<` (fires when LHS falls to RHS), false for `>=` and `>`.
    pub falling: bool,
    /// Right side of the guard.
    pub rhs: Expr,
    /// The reset assignments, all evaluated at the state before the reset.
    pub resets: Vec<TargetBinding>,
    /// The whole declaration.
    pub span: Span,
}

/// A spanned expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Num(f64),
    /// A name, possibly primed and indexed: `x`, `x'`, `phi[i+1]`, `phi'[i]`, `t`, `pi`.
    Var {
        /// The name.
        name: Ident,
        /// Number of primes.
        primes: u8,
        /// Array index.
        index: Option<Box<Expr>>,
    },
    /// A call of a built-in function, a net, or a distribution: `f(a, b)[k]`.
    Call {
        /// The callee.
        name: Ident,
        /// The arguments.
        args: Vec<Expr>,
        /// Output selector `[k]`.
        index: Option<Box<Expr>>,
    },
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `sum(i, body)` or `sum(i in lo..hi, body)`.
    Sum {
        /// The bound index.
        var: Ident,
        /// The explicit range `lo..hi`, if given.
        range: Option<(Box<Expr>, Box<Expr>)>,
        /// The summand.
        body: Box<Expr>,
    },
}

/// Whether a run block simulates or trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// `simulate`
    Simulate,
    /// `train`
    Train,
}

/// `simulate SYSTEM { settings }` or `train SYSTEM { settings }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RunBlock {
    /// Simulate or train.
    pub kind: RunKind,
    /// The system it runs.
    pub system: Ident,
    /// Its settings, in order.
    pub settings: Vec<Setting>,
    /// The whole block.
    pub span: Span,
}

/// One setting of a run block.
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    /// `init a = 1, a' = 0;`
    InitValues(Vec<TargetBinding>, Span),
    /// `init = sample(...);` or `init = "ics.csv";`
    InitFrom(Value, Span),
    /// `set g = 1.62;`
    Set(Vec<Binding>),
    /// `key = value;`
    Key(Ident, Value),
}

/// The right-hand side of a run-block setting.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An expression (numbers, and words such as `rk4` or a system name).
    Expr(Expr),
    /// A quoted file name.
    Str(String, Span),
    /// `sample(...)`.
    Sample(Sample),
    /// A bracketed list of expressions (`plot_vars = [theta, theta'];`).
    List(Vec<Expr>, Span),
}

/// `sample(TRUTH?, n = .., seed = .., var = DIST, ...)`
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Positional arguments (the truth system's name).
    pub positional: Vec<Ident>,
    /// Named arguments in order.
    pub named: Vec<TargetBinding>,
    /// The whole call.
    pub span: Span,
}
