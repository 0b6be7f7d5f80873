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
pub const INV_PIO2: f64 = 6.366_197_723_675_813_824_33e-1;
/// pi/2 in parts: the first 33 bits, the next 33, the next 33, and the rest.
pub const PIO2_1: f64 = 1.570_796_326_734_125_614_17;
/// The second 33 bits of pi/2.
pub const PIO2_2: f64 = 6.077_100_506_303_965_976_60e-11;
/// The third 33 bits of pi/2.
pub const PIO2_3: f64 = 2.022_266_248_711_166_455_80e-21;
/// pi/2 - PIO2_1 - PIO2_2 - PIO2_3.
pub const PIO2_3T: f64 = 8.478_427_660_368_899_569_97e-32;

/// Sine polynomial coefficients (k_sin.c).
pub const S: [f64; 6] = [
    -1.666_666_666_666_663_243_48e-1,
    8.333_333_333_322_489_461_24e-3,
    -1.984_126_982_985_794_931_34e-4,
    2.755_731_370_707_006_767_89e-6,
    -2.505_076_025_340_686_341_95e-8,
    1.589_690_995_211_550_102_21e-10,
];

/// Cosine polynomial coefficients (k_cos.c).
pub const C: [f64; 6] = [
    4.166_666_666_666_660_190_37e-2,
    -1.388_888_888_887_410_957_49e-3,
    2.480_158_728_947_672_941_78e-5,
    -2.755_731_435_139_066_330_35e-7,
    2.087_572_321_298_174_827_90e-9,
    -1.135_964_755_778_819_482_65e-11,
];

/// `(sin x, cos x)`.
pub fn sin_cos(x: f64) -> (f64, f64) {
    if !(x.abs() <= SIN_COS_INLINE_MAX) {
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
