//! The DAG's vocabulary of functions: the elementary functions of one argument and the
//! kinds of constant powers, each with the single definition of its value that every
//! evaluator (the DAG's, the interpreter's, the JIT's constant folding) uses.

/// Elementary functions of one argument.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Func {
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Tangent.
    Tan,
    /// Arcsine.
    Asin,
    /// Arccosine.
    Acos,
    /// Arctangent.
    Atan,
    /// Hyperbolic sine.
    Sinh,
    /// Hyperbolic cosine.
    Cosh,
    /// Hyperbolic tangent.
    Tanh,
    /// Exponential.
    Exp,
    /// Natural logarithm.
    Log,
    /// Square root (the builder represents it as `x^0.5`).
    Sqrt,
    /// Absolute value.
    Abs,
    /// Sign (-1, 0 or 1): internal, the derivative of `abs`.
    Sign,
}

impl Func {
    /// Every function, for tests and tables.
    pub const ALL: [Func; 14] = [
        Func::Sin,
        Func::Cos,
        Func::Tan,
        Func::Asin,
        Func::Acos,
        Func::Atan,
        Func::Sinh,
        Func::Cosh,
        Func::Tanh,
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Abs,
        Func::Sign,
    ];

    /// Applies the function to a number (the single definition every evaluator uses).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Func::Sin => crate::numeric::sin(x),
            Func::Cos => crate::numeric::cos(x),
            Func::Tan => x.tan(),
            Func::Asin => x.asin(),
            Func::Acos => x.acos(),
            Func::Atan => crate::numeric::atan(x),
            Func::Sinh => x.sinh(),
            Func::Cosh => x.cosh(),
            Func::Tanh => crate::numeric::tanh(x),
            Func::Exp => crate::numeric::exp(x),
            Func::Log => crate::numeric::log(x),
            Func::Sqrt => x.sqrt(),
            Func::Abs => x.abs(),
            Func::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    x // 0, -0 or NaN
                }
            }
        }
    }

    /// The name used in `.lag` source and in text output.
    pub fn name(self) -> &'static str {
        match self {
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Asin => "asin",
            Func::Acos => "acos",
            Func::Atan => "atan",
            Func::Sinh => "sinh",
            Func::Cosh => "cosh",
            Func::Tanh => "tanh",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Sign => "sign",
        }
    }
}

/// `x^n` by binary exponentiation (negative `n` gives `1 / x^|n|`): the integer power
/// every evaluator uses, so that negative bases work and results agree bit for bit.
pub fn powi(x: f64, n: i32) -> f64 {
    let mut e = n.unsigned_abs();
    let mut base = x;
    let mut acc = 1.0;
    while e > 0 {
        if e & 1 == 1 {
            acc *= base;
        }
        e >>= 1;
        if e > 0 {
            base *= base;
        }
    }
    if n < 0 {
        1.0 / acc
    } else {
        acc
    }
}

/// Largest exponent magnitude evaluated by [`powi`] rather than `powf`.
pub const MAX_POWI: f64 = 1024.0;

/// How a constant power `x^c` is evaluated (shared by [`Dag::eval`] and the kernel).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum PowKind {
    /// Integer exponent: [`powi`].
    Int(i32),
    /// `c = 0.5`: `sqrt(x)`.
    Sqrt,
    /// `c = -0.5`: `1 / sqrt(x)`.
    InvSqrt,
    /// Anything else: `x.powf(c)`.
    Real(f64),
}

impl PowKind {
    /// Classifies a constant exponent.
    pub fn of(c: f64) -> PowKind {
        if c.fract() == 0.0 && c.abs() <= MAX_POWI {
            PowKind::Int(c as i32)
        } else if c == 0.5 {
            PowKind::Sqrt
        } else if c == -0.5 {
            PowKind::InvSqrt
        } else {
            PowKind::Real(c)
        }
    }

    /// Evaluates `x^c`.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            PowKind::Int(n) => powi(x, n),
            PowKind::Sqrt => x.sqrt(),
            PowKind::InvSqrt => 1.0 / x.sqrt(),
            PowKind::Real(c) => x.powf(c),
        }
    }
}
