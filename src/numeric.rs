//! Elementary functions as the kernels compute them: the one definition the
//! interpreter evaluates and the JIT emits as inline code (`backend/jit/inline_math.rs`
//! writes the same operations in the same order, without fused multiply-adds, so the
//! two backends agree to the bit).
//!
//! `sin_cos` reduces x by n pi/2 (pi/2 split into 33-bit parts, whose products with
//! |n| < 2^20 are exact, joined by two-sums), leaving a double-double remainder y0 + y1
//! in [-pi/4, pi/4], then evaluates the minimax polynomials of FreeBSD's msun `k_sin.c`
//! and `k_cos.c` (Sun's fdlibm coefficients, error below 1 ulp on that interval) and
//! picks sine or cosine and the sign by the quadrant n mod 4. Outside
//! |x| <= [`SIN_COS_INLINE_MAX`] (and for NaN and infinities) it calls the C library.
//! Accuracy over a documented sweep against correctly rounded values:
//! `tests/it/numeric.rs` (table made with mpmath at 60 digits).

/// Largest |x| reduced inline (just under 2^19 pi/2, where n stays below 2^20).
pub const SIN_COS_INLINE_MAX: f64 = 823_549.0;

/// 2/pi.
pub const INV_PIO2: f64 = std::f64::consts::FRAC_2_PI;
/// pi/2 in parts: the first 33 bits, the next 33, the next 33, and the rest.
pub const PIO2_1: f64 = f64::from_bits(0x3ff921fb54400000);
/// The second 33 bits of pi/2.
pub const PIO2_2: f64 = f64::from_bits(0x3dd0b4611a600000);
/// The third 33 bits of pi/2.
pub const PIO2_3: f64 = f64::from_bits(0x3ba3198a2e000000);
/// pi/2 - PIO2_1 - PIO2_2 - PIO2_3.
pub const PIO2_3T: f64 = f64::from_bits(0x397b839a252049c1);

/// Sine polynomial coefficients (k_sin.c), as the bits of fdlibm's constants.
pub const S: [f64; 6] = [
    -f64::from_bits(0x3fc5555555555549),
    f64::from_bits(0x3f8111111110f8a6),
    -f64::from_bits(0x3f2a01a019c161d5),
    f64::from_bits(0x3ec71de357b1fe7d),
    -f64::from_bits(0x3e5ae5e68a2b9ceb),
    f64::from_bits(0x3de5d93a5acfd57c),
];

/// Cosine polynomial coefficients (k_cos.c), as the bits of fdlibm's constants.
pub const C: [f64; 6] = [
    f64::from_bits(0x3fa555555555554c),
    -f64::from_bits(0x3f56c16c16c15177),
    f64::from_bits(0x3efa01a019cb1590),
    -f64::from_bits(0x3e927e4f809c52ad),
    f64::from_bits(0x3e21ee9ebdb4b1c4),
    -f64::from_bits(0x3da8fae9be8838d4),
];

/// `(sin x, cos x)`.
pub fn sin_cos(x: f64) -> (f64, f64) {
    if x.is_nan() || x.abs() > SIN_COS_INLINE_MAX {
        return (x.sin(), x.cos());
    }
    let n = (x * INV_PIO2).round_ties_even();
    let (y0, y1) = reduce(x, n);
    let (s, c) = (kernel_sin(y0, y1), kernel_cos(y0, y1));
    let q = (n as i64) & 3;
    let (sin, cos) = if q & 1 == 1 { (c, s) } else { (s, c) };
    let sin = if q & 2 == 2 { -sin } else { sin };
    let cos = if (q + 1) & 2 == 2 { -cos } else { cos };
    (sin, cos)
}

/// The sine of x (the first half of [`sin_cos`]).
pub fn sin(x: f64) -> f64 {
    sin_cos(x).0
}

/// The cosine of x (the second half of [`sin_cos`]).
pub fn cos(x: f64) -> f64 {
    sin_cos(x).1
}

/// x - n pi/2 as a double-double (y0, y1): x itself when n = 0; otherwise
/// x - n PIO2_1 (exact), minus n PIO2_2 (exact) with the rounding error kept (two-sum),
/// minus n PIO2_3 (exact) and n PIO2_3T.
fn reduce(x: f64, n: f64) -> (f64, f64) {
    if n == 0.0 {
        return (x, 0.0);
    }
    let a = x - n * PIO2_1;
    let (s1, e1) = two_sum(a, -(n * PIO2_2));
    let tail = (e1 - n * PIO2_3) - n * PIO2_3T;
    two_sum(s1, tail)
}

/// (a + b rounded, its rounding error): Knuth's two-sum, exact for any order of sizes.
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// sin(x + y) for |x| <= pi/4, y the tail of x (k_sin.c with iy = 1).
fn kernel_sin(x: f64, y: f64) -> f64 {
    let z = x * x;
    let w = z * z;
    let r = S[1] + z * (S[2] + z * S[3]) + z * w * (S[4] + z * S[5]);
    let v = z * x;
    x - ((z * (0.5 * y - v * r) - y) - v * S[0])
}

/// cos(x + y) for |x| <= pi/4, y the tail of x (k_cos.c).
fn kernel_cos(x: f64, y: f64) -> f64 {
    let z = x * x;
    let w = z * z;
    let r = z * (C[0] + z * (C[1] + z * C[2])) + w * w * (C[3] + z * (C[4] + z * C[5]));
    let hz = 0.5 * z;
    let w = 1.0 - hz;
    w + (((1.0 - w) - hz) + (z * r - x * y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_zero_and_special_values() {
        assert_eq!(sin(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(sin(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(cos(-0.0), 1.0);
        assert!(sin(f64::NAN).is_nan() && cos(f64::INFINITY).is_nan());
        assert_eq!(sin(1e10), 1e10f64.sin());
    }

    #[test]
    fn agrees_with_the_c_library_to_one_ulp() {
        let ulps = |a: f64, b: f64| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs();
        let mut x = -1000.0;
        while x < 1000.0 {
            let (s, c) = sin_cos(x);
            assert!(
                ulps(s, x.sin()) <= 1 || (s - x.sin()).abs() < 1e-300,
                "sin {x}"
            );
            assert!(
                ulps(c, x.cos()) <= 1 || (c - x.cos()).abs() < 1e-300,
                "cos {x}"
            );
            x += 0.000_731;
        }
    }
}
