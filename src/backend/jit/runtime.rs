//! Rust functions the generated code calls by symbol: the elementary functions
//! Cranelift has no instruction for, evaluated exactly as the interpreter does.

use crate::symbolic::Func;

/// `extern "C"` wrapper of one unary [`Func`].
macro_rules! unary {
    ($($name:ident => $f:expr),* $(,)?) => {
        $(extern "C" fn $name(x: f64) -> f64 {
            $f.apply(x)
        })*
    };
}

unary! {
    lagc_sin => Func::Sin,
    lagc_cos => Func::Cos,
    lagc_tan => Func::Tan,
    lagc_asin => Func::Asin,
    lagc_acos => Func::Acos,
    lagc_sinh => Func::Sinh,
    lagc_cosh => Func::Cosh,
}

extern "C" fn lagc_powf(x: f64, y: f64) -> f64 {
    x.powf(y)
}

/// The symbol and address of the Rust implementation of `f`, or `None` when the
/// generated code computes it inline (sqrt, abs, sign, and the functions of
/// `inline_math`).
pub(super) fn unary_symbol(f: Func) -> Option<(&'static str, *const u8)> {
    let (name, p): (&str, extern "C" fn(f64) -> f64) = match f {
        Func::Sin => ("lagc_sin", lagc_sin),
        Func::Cos => ("lagc_cos", lagc_cos),
        Func::Tan => ("lagc_tan", lagc_tan),
        Func::Asin => ("lagc_asin", lagc_asin),
        Func::Acos => ("lagc_acos", lagc_acos),
        Func::Sinh => ("lagc_sinh", lagc_sinh),
        Func::Cosh => ("lagc_cosh", lagc_cosh),
        Func::Atan | Func::Tanh | Func::Exp | Func::Log | Func::Sqrt | Func::Abs | Func::Sign => {
            return None
        }
    };
    Some((name, p as *const u8))
}

/// The binary functions: `(symbol, address)` of `powf` (atan2 is inline).
pub(super) fn binary_symbols() -> [(&'static str, *const u8); 1] {
    let powf: extern "C" fn(f64, f64) -> f64 = lagc_powf;
    [("lagc_powf", powf as *const u8)]
}
