//! The checker's expressions brought into the DAG, piece by piece: operators, built-in
//! functions and integer index values. Both derivations (the dense one in `eom.rs` and
//! the loop form in `lattice.rs`) convert through these, so a built-in means the same
//! thing in both.

use super::dag::{Dag, ExprId, Func};
use crate::check::{Builtin, CExpr, Op};

/// A binary operation on converted operands.
pub fn binary(dag: &mut Dag, op: Op, a: ExprId, b: ExprId) -> ExprId {
    match op {
        Op::Add => dag.add(a, b),
        Op::Sub => dag.sub(a, b),
        Op::Mul => dag.mul(a, b),
        Op::Div => dag.div(a, b),
        Op::Pow => dag.pow(a, b),
    }
}

/// A built-in function applied to converted arguments.
pub fn call(dag: &mut Dag, f: Builtin, a: &[ExprId]) -> ExprId {
    let func = match f {
        Builtin::Atan2 => return dag.atan2(a[0], a[1]),
        Builtin::Pow => return dag.pow(a[0], a[1]),
        Builtin::Sin => Func::Sin,
        Builtin::Cos => Func::Cos,
        Builtin::Tan => Func::Tan,
        Builtin::Asin => Func::Asin,
        Builtin::Acos => Func::Acos,
        Builtin::Atan => Func::Atan,
        Builtin::Sinh => Func::Sinh,
        Builtin::Cosh => Func::Cosh,
        Builtin::Tanh => Func::Tanh,
        Builtin::Exp => Func::Exp,
        Builtin::Log => Func::Log,
        Builtin::Sqrt => Func::Sqrt,
        Builtin::Abs => Func::Abs,
    };
    dag.func(func, a[0])
}

/// The integer value of an index expression under the sum-index values `env`.
pub fn int_value(e: &CExpr, env: &[i64]) -> i64 {
    fn val(e: &CExpr, env: &[i64]) -> f64 {
        match e {
            CExpr::Num(x) => *x,
            CExpr::IndexVar(l) => env[*l] as f64,
            CExpr::Neg(a) => -val(a, env),
            CExpr::Binary(op, a, b) => op.apply(val(a, env), val(b, env)),
            CExpr::Call(f, args) => {
                f.apply(val(&args[0], env), args.get(1).map_or(0.0, |b| val(b, env)))
            }
            _ => f64::NAN,
        }
    }
    val(e, env).round() as i64
}
