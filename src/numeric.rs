//! Elementary functions as the kernels compute them: the one definition the
//! interpreter evaluates and the JIT emits as inline code (`backend/jit/inline_math.rs`
//! writes the same operations in the same order, without fused multiply-adds, so the
//! two backends agree to the bit).
//!
//! Each function is one range reduction and one polynomial or rational approximation.
//! Choices that depend on the data (quadrant, interval, form) are selects, emitted as
//! bit blends; special values (NaN, +-inf, +-0, overflow and underflow) are selects
//! after the main path. The generated code has no control flow of its own except the
//! call of sine and cosine beyond [`SIN_COS_INLINE_MAX`]:
//!
//! - `sin_cos` reduces x by n pi/2 (pi/2 split into 33-bit parts, whose products with
//!   |n| < 2^20 are exact, joined by two-sums), leaving a double-double remainder
//!   y0 + y1 in [-pi/4, pi/4], then evaluates the minimax polynomials of FreeBSD's msun
//!   `k_sin.c` and `k_cos.c` (Sun's fdlibm coefficients, error below 1 ulp on that
//!   interval) and picks sine or cosine and the sign by the quadrant n mod 4. Outside
//!   |x| <= [`SIN_COS_INLINE_MAX`] (and for NaN and infinities) it calls the C library.
//! - [`exp`]: x = k ln2 + r with ln2 in two parts (fdlibm `e_exp.c`'s reduction and
//!   its degree-5 polynomial for r (e^r + 1)/(e^r - 1)), scaled by 2^k as two exact
//!   powers of two, so a subnormal result is rounded once.
//! - [`log`]: x = 2^k m with m in [sqrt(2)/2, sqrt(2)) (subnormals scaled by 2^54
//!   first), log m = f - (f^2/2 - s (f^2/2 + R(s^2))) with s = f/(2 + f) and fdlibm
//!   `e_log.c`'s degree-14 polynomial R.
//! - [`tanh`]: |x| < ln(3)/2: x + x g P(g)/Q(g), g = x^2 (Cody and Waite's rational
//!   approximation, "Software Manual for the Elementary Functions", 1980); above:
//!   1 - 2/(e^(2|x|) + 1) with [`exp`]; the sign copied from x.
//! - [`atan`]: |x| reduced to |t| < 7/16 by atan(|x|) = atan(c) + atan((|x| - c)/(1 + c|x|))
//!   for c in {1/2, 1, 3/2, inf} (fdlibm `s_atan.c`'s intervals, table of atan(c) in
//!   two parts and odd polynomial of degree 22).
//! - [`atan2`]: atan(|y|/|x|) (a correctly rounded quotient, so overflow gives pi/2
//!   and underflow the quotient itself), pi minus it when x has its sign bit set, the
//!   sign of y; +-0/+-0 and +-inf/+-inf are fixed by select.
//!
//! `pow` with a general exponent is not here: exp(y log x) carries the error of log x
//! times |y log x| (measured up to 339 ulp, `docs/numeric.md`), far beyond the 2 ulp
//! bound, so the kernels call `powf` (the C library's `pow`); integer constant
//! exponents are multiplication chains (`symbolic::powi`, `Op::Powi`).
//!
//! Accuracy over documented sweeps against correctly rounded values (tables made with
//! mpmath at 60 digits, `scripts/make_sin_cos_table.py` and
//! `scripts/make_elementary_table.py`): `tests/it/numeric.rs`, which asserts at most
//! 1 ulp for sine and cosine and at most 2 ulp for the others (worst cases measured
//! there and listed in `docs/numeric.md`).

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
    let (n, ni) = round_to_integer(x * INV_PIO2);
    let (y0, y1) = reduce(x, n);
    let (s, c) = (kernel_sin(y0, y1), kernel_cos(y0, y1));
    let q = ni & 3;
    let (sin, cos) = if q & 1 == 1 { (c, s) } else { (s, c) };
    (flip_sign(sin, q), flip_sign(cos, q + 1))
}

/// The sine of x (the first half of [`sin_cos`]).
pub fn sin(x: f64) -> f64 {
    sin_cos(x).0
}

/// The cosine of x (the second half of [`sin_cos`]).
pub fn cos(x: f64) -> f64 {
    sin_cos(x).1
}

/// 1.5 * 2^52: adding it to |v| < 2^51 leaves no fraction bits.
pub const ROUNDING_SHIFT: f64 = f64::from_bits(0x4338000000000000);

/// v rounded to the nearest integer n, ties to even, for |v| < 2^51, as a double and
/// as an integer: `(v + 1.5 * 2^52) - 1.5 * 2^52`, two additions instead of a rounding
/// instruction, which baseline x86-64 lacks (an exported object would call the C
/// library's `nearbyint`); n is also the difference of the bits of v + 1.5 * 2^52 and
/// 1.5 * 2^52 (no saturating conversion). -0 gives +0; NaN gives NaN and an
/// unspecified integer.
fn round_to_integer(v: f64) -> (f64, i64) {
    let t = v + ROUNDING_SHIFT;
    let n = (t.to_bits() as i64).wrapping_sub(ROUNDING_SHIFT.to_bits() as i64);
    (t - ROUNDING_SHIFT, n)
}

/// v with its sign bit flipped when bit 1 of q is set (-v for quadrants 2 and 3).
fn flip_sign(v: f64, q: i64) -> f64 {
    f64::from_bits(v.to_bits() ^ (((q & 2) as u64) << 62))
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

/// ln 2 in two parts: the high part has 21 trailing zero bits, so k LN2_HI is exact
/// for |k| < 2^21 (fdlibm `e_exp.c` and `e_log.c`).
pub const LN2_HI: f64 = f64::from_bits(0x3fe62e42fee00000);
/// ln 2 - LN2_HI.
pub const LN2_LO: f64 = f64::from_bits(0x3dea39ef35793c76);
/// 1/ln 2.
pub const INV_LN2: f64 = f64::from_bits(0x3ff71547652b82fe);
/// Largest x with a finite e^x (fdlibm's `o_threshold`).
pub const EXP_OVERFLOW: f64 = f64::from_bits(0x40862e42fefa39ef);
/// Smallest x with a nonzero e^x (fdlibm's `u_threshold`).
pub const EXP_UNDERFLOW: f64 = f64::from_bits(0xc0874910d52d3051);

/// The polynomial of [`exp`]: 2 + P1 r^2 + ... + P5 r^10 approximates
/// r (e^r + 1)/(e^r - 1) on |r| <= ln(2)/2 (fdlibm `e_exp.c`'s P1..P5, as bits).
pub const EXP_P: [f64; 5] = [
    f64::from_bits(0x3fc555555555553e),
    f64::from_bits(0xbf66c16c16bebd93),
    f64::from_bits(0x3f11566aaf25de2c),
    f64::from_bits(0xbebbbd41c5d26bf1),
    f64::from_bits(0x3e66376972bea4d0),
];

/// e^x.
pub fn exp(x: f64) -> f64 {
    let (k, ki) = round_to_integer(x * INV_LN2);
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let z = r * r;
    let p = EXP_P[0] + z * (EXP_P[1] + z * (EXP_P[2] + z * (EXP_P[3] + z * EXP_P[4])));
    let c = r - z * p;
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    let (p1, p2) = split_pow2(ki.clamp(EXP_K_MIN, EXP_K_MAX));
    let e = y * p1 * p2;
    if x > EXP_OVERFLOW {
        f64::INFINITY
    } else if x < EXP_UNDERFLOW {
        0.0
    } else {
        e
    }
}

/// The range of k = round(x / ln 2) over [[`EXP_UNDERFLOW`], [`EXP_OVERFLOW`]]; k is
/// clamped to it so the scale stays two normal powers of two (outside, the result is
/// 0, inf or NaN by the final selects).
pub const EXP_K_MIN: i64 = -1075;
/// See [`EXP_K_MIN`].
pub const EXP_K_MAX: i64 = 1024;

/// 2^k as two normal powers of two 2^(k >> 1) and 2^(k - (k >> 1)), for k in
/// [-1075, 1024]: multiplying by the first is exact, by the second rounds once.
fn split_pow2(k: i64) -> (f64, f64) {
    let k1 = k >> 1;
    let k2 = k - k1;
    let pow2 = |e: i64| f64::from_bits(((e + 1023) as u64) << 52);
    (pow2(k1), pow2(k2))
}

/// The polynomial of [`log`] in s^2 (fdlibm `e_log.c`'s Lg1..Lg7, as bits).
pub const LOG_LG: [f64; 7] = [
    f64::from_bits(0x3fe5555555555593),
    f64::from_bits(0x3fd999999997fa04),
    f64::from_bits(0x3fd2492494229359),
    f64::from_bits(0x3fcc71c51d8e78af),
    f64::from_bits(0x3fc7466496cb03de),
    f64::from_bits(0x3fc39a09d078c69f),
    f64::from_bits(0x3fc2f112df3e5244),
];
/// 2^54, which scales a subnormal to a normal number.
pub const TWO54: f64 = f64::from_bits(0x4350000000000000);
/// The bits of sqrt(2)/2 rounded down to its high 32 bits (fdlibm's 0x3fe6a09e):
/// mantissas are reduced to [that, twice that).
pub const SQRT_HALF_BITS: i64 = 0x3fe6a09e00000000;

/// The natural logarithm of x.
pub fn log(x: f64) -> f64 {
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * TWO54 } else { x };
    let shifted = (xs.to_bits() as i64).wrapping_add(0x3ff0000000000000 - SQRT_HALF_BITS);
    let k = (shifted >> 52) - 0x3ff - if sub { 54 } else { 0 };
    let m = f64::from_bits(((shifted & 0x000fffffffffffff) + SQRT_HALF_BITS) as u64);
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LOG_LG[1] + w * (LOG_LG[3] + w * LOG_LG[5]));
    let t2 = z * (LOG_LG[0] + w * (LOG_LG[2] + w * (LOG_LG[4] + w * LOG_LG[6])));
    let r = t2 + t1;
    let dk = k as f64;
    let y = dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
    if x == f64::INFINITY {
        f64::INFINITY
    } else if x == 0.0 {
        f64::NEG_INFINITY
    } else if x < 0.0 || x.is_nan() {
        f64::NAN
    } else {
        y
    }
}

/// ln(3)/2, below which [`tanh`] uses its rational approximation.
pub const TANH_RATIONAL_MAX: f64 = f64::from_bits(0x3fe193ea7aad030b);
/// Numerator P(g) = P0 + P1 g + P2 g^2 of [`tanh`]'s x + x g P(g)/Q(g) (Cody and
/// Waite's coefficients, as bits).
pub const TANH_P: [f64; 3] = [
    f64::from_bits(0xc09935a5c9be1e18),
    f64::from_bits(0xc058ce75a1ba5ccc),
    f64::from_bits(0xbfeedc28cefba77f),
];
/// Denominator Q(g) = Q0 + Q1 g + Q2 g^2 + g^3 of [`tanh`].
pub const TANH_Q: [f64; 3] = [
    f64::from_bits(0x40b2e83c574e9693),
    f64::from_bits(0x40a1738b4d01f0f3),
    f64::from_bits(0x405c2fa9e1ebf7fa),
];

/// The hyperbolic tangent of x.
pub fn tanh(x: f64) -> f64 {
    let a = x.abs();
    let g = a * a;
    let p = g * (TANH_P[0] + g * (TANH_P[1] + g * TANH_P[2]));
    let q = TANH_Q[0] + g * (TANH_Q[1] + g * (TANH_Q[2] + g));
    let small = a + a * (p / q);
    let large = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    let t = if a < TANH_RATIONAL_MAX { small } else { large };
    t.copysign(x)
}

/// atan(c) for the reduction points c = 1/2, 1, 3/2, inf (fdlibm `s_atan.c`'s
/// `atanhi`), preceded by 0 for no reduction.
pub const ATAN_HI: [f64; 5] = [
    0.0,
    f64::from_bits(0x3fddac670561bb4f),
    f64::from_bits(0x3fe921fb54442d18),
    f64::from_bits(0x3fef730bd281f69b),
    f64::from_bits(0x3ff921fb54442d18),
];
/// atan(c) - ATAN_HI (`atanlo`).
pub const ATAN_LO: [f64; 5] = [
    0.0,
    f64::from_bits(0x3c7a2b7f222f65e2),
    f64::from_bits(0x3c81a62633145c07),
    f64::from_bits(0x3c7007887af0cbbd),
    f64::from_bits(0x3c91a62633145c07),
];
/// Upper ends of the reduction intervals of |x|: 7/16, 11/16, 19/16, 39/16.
pub const ATAN_BREAKS: [f64; 4] = [0.4375, 0.6875, 1.1875, 2.4375];
/// The odd polynomial of [`atan`] (fdlibm `s_atan.c`'s aT[0..=10], as bits).
pub const ATAN_T: [f64; 11] = [
    f64::from_bits(0x3fd555555555550d),
    f64::from_bits(0xbfc999999998ebc4),
    f64::from_bits(0x3fc24924920083ff),
    f64::from_bits(0xbfbc71c6fe231671),
    f64::from_bits(0x3fb745cdc54c206e),
    f64::from_bits(0xbfb3b0f2af749a6d),
    f64::from_bits(0x3fb10d66a0d03d51),
    f64::from_bits(0xbfadde2d52defd9a),
    f64::from_bits(0x3fa97b4b24760deb),
    f64::from_bits(0xbfa2b4442c6a6c2f),
    f64::from_bits(0x3f90ad3ae322da11),
];

/// The arc tangent of x.
pub fn atan(x: f64) -> f64 {
    atan_abs(x.abs()).copysign(x)
}

/// atan(a) for a = |x| (or NaN).
fn atan_abs(a: f64) -> f64 {
    // NaN passes every break (to -1/NaN = NaN)
    let id = ATAN_BREAKS
        .iter()
        .take_while(|&&b| a >= b || a.is_nan())
        .count();
    let (num, den) = atan_reduction(a)[id];
    let t = num / den;
    let z = t * t;
    let w = z * z;
    let c = &ATAN_T;
    let s1 = z * (c[0] + w * (c[2] + w * (c[4] + w * (c[6] + w * (c[8] + w * c[10])))));
    let s2 = w * (c[1] + w * (c[3] + w * (c[5] + w * (c[7] + w * c[9]))));
    ATAN_HI[id] - ((t * (s1 + s2) - ATAN_LO[id]) - t)
}

/// The reduced argument t = num/den of each interval of [`atan`] for a = |x|:
/// a; (2a - 1)/(2 + a); (a - 1)/(a + 1); (a - 1.5)/(1 + 1.5a); -1/a.
fn atan_reduction(a: f64) -> [(f64, f64); 5] {
    [
        (a, 1.0),
        (2.0 * a - 1.0, 2.0 + a),
        (a - 1.0, a + 1.0),
        (a - 1.5, 1.0 + 1.5 * a),
        (-1.0, a),
    ]
}

/// pi in two parts (fdlibm `e_atan2.c`'s `pi` and `pi_lo`).
pub const PI_HI: f64 = f64::from_bits(0x400921fb54442d18);
/// pi - PI_HI.
pub const PI_LO: f64 = f64::from_bits(0x3ca1a62633145c07);

/// The angle of (x, y) from the positive x axis, in [-pi, pi] (C's `atan2(y, x)`,
/// signed zeros included).
pub fn atan2(y: f64, x: f64) -> f64 {
    let (ay, ax) = (y.abs(), x.abs());
    let z = atan_abs(ay / ax);
    let z = if ay == 0.0 && ax == 0.0 { 0.0 } else { z };
    let z = if ay == f64::INFINITY && ax == f64::INFINITY {
        std::f64::consts::FRAC_PI_4
    } else {
        z
    };
    let z = if x.is_sign_negative() {
        PI_HI - (z - PI_LO)
    } else {
        z
    };
    z.copysign(y)
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
