//! Elementary functions as inline Cranelift code: the operations of
//! [`crate::numeric`], emitted one for one in the same order (no fused multiply-adds),
//! so generated code and the interpreter give the same bits.
//!
//! Invariant: every function here mirrors a function of `numeric` line by line; a
//! change to one is a change to the other (tests compare them on every backend).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use cranelift_frontend::FunctionBuilder;

use crate::numeric::{
    ATAN_BREAKS, ATAN_HI, ATAN_LO, ATAN_T, C, EXP_K_MAX, EXP_K_MIN, EXP_OVERFLOW, EXP_P,
    EXP_UNDERFLOW, INV_LN2, INV_PIO2, LN2_HI, LN2_LO, LOG_LG, PIO2_1, PIO2_2, PIO2_3, PIO2_3T,
    PI_HI, PI_LO, ROUNDING_SHIFT, S, SQRT_HALF_BITS, TANH_P, TANH_Q, TANH_RATIONAL_MAX, TWO54,
};

/// `(sin x, cos x)` for finite |x| <= [`crate::numeric::SIN_COS_INLINE_MAX`]
/// ([`crate::numeric::sin_cos`]'s inline branch; the caller branches around it).
pub(super) fn sin_cos(b: &mut FunctionBuilder, x: Value) -> (Value, Value) {
    let inv = b.ins().f64const(INV_PIO2);
    let scaled = b.ins().fmul(x, inv);
    let (n, ni) = round_to_integer(b, scaled);
    let (y0, y1) = reduce(b, x, n);
    let s = kernel_sin(b, y0, y1);
    let c = kernel_cos(b, y0, y1);
    let q = b.ins().band_imm_s(ni, 3);
    let odd = b.ins().band_imm_s(q, 1);
    let odd = b.ins().icmp_imm_s(IntCC::NotEqual, odd, 0);
    let odd = mask(b, odd);
    let sin = blend(b, odd, c, s);
    let cos = blend(b, odd, s, c);
    let q1 = b.ins().iadd_imm_s(q, 1);
    let sin = flip_sign(b, sin, q);
    let cos = flip_sign(b, cos, q1);
    (sin, cos)
}

/// `numeric::round_to_integer`: (n as f64, n as i64).
fn round_to_integer(b: &mut FunctionBuilder, v: Value) -> (Value, Value) {
    let shift = b.ins().f64const(ROUNDING_SHIFT);
    let t = b.ins().fadd(v, shift);
    let n = b.ins().fsub(t, shift);
    let bits = b.ins().bitcast(types::I64, MemFlagsData::new(), t);
    let ni = b.ins().iadd_imm_s(bits, -(ROUNDING_SHIFT.to_bits() as i64));
    (n, ni)
}

/// `numeric::flip_sign`: v with its sign flipped when bit 1 of q is set.
fn flip_sign(b: &mut FunctionBuilder, v: Value, q: Value) -> Value {
    let bit = b.ins().band_imm_s(q, 2);
    let sign = b.ins().ishl_imm_s(bit, 62);
    let sign = b.ins().bitcast(types::F64, MemFlagsData::new(), sign);
    b.ins().bxor(v, sign)
}

/// `numeric::reduce`: x itself when n = 0, else the two-sum reduction.
fn reduce(b: &mut FunctionBuilder, x: Value, n: Value) -> (Value, Value) {
    let p1 = b.ins().f64const(PIO2_1);
    let np1 = b.ins().fmul(n, p1);
    let a = b.ins().fsub(x, np1);
    let p2 = b.ins().f64const(PIO2_2);
    let np2 = b.ins().fmul(n, p2);
    let mnp2 = b.ins().fneg(np2);
    let (s1, e1) = two_sum(b, a, mnp2);
    let p3 = b.ins().f64const(PIO2_3);
    let np3 = b.ins().fmul(n, p3);
    let t = b.ins().fsub(e1, np3);
    let p3t = b.ins().f64const(PIO2_3T);
    let np3t = b.ins().fmul(n, p3t);
    let tail = b.ins().fsub(t, np3t);
    let (r0, r1) = two_sum(b, s1, tail);
    let zero = b.ins().f64const(0.0);
    let n_is_0 = b.ins().fcmp(FloatCC::Equal, n, zero);
    let n_is_0 = mask(b, n_is_0);
    let y0 = blend(b, n_is_0, x, r0);
    let y1 = blend(b, n_is_0, zero, r1);
    (y0, y1)
}

/// `numeric::two_sum`.
fn two_sum(b: &mut FunctionBuilder, x: Value, y: Value) -> (Value, Value) {
    let s = b.ins().fadd(x, y);
    let bb = b.ins().fsub(s, x);
    let t = b.ins().fsub(s, bb);
    let u = b.ins().fsub(x, t);
    let v = b.ins().fsub(y, bb);
    let e = b.ins().fadd(u, v);
    (s, e)
}

/// `c0 + z * (c1 + z * c2)`, evaluated inside out.
fn poly3(b: &mut FunctionBuilder, z: Value, c: [f64; 3]) -> Value {
    let c2 = b.ins().f64const(c[2]);
    let t = b.ins().fmul(z, c2);
    let c1 = b.ins().f64const(c[1]);
    let t = b.ins().fadd(c1, t);
    let t = b.ins().fmul(z, t);
    let c0 = b.ins().f64const(c[0]);
    b.ins().fadd(c0, t)
}

/// `c0 + z * c1`.
fn poly2(b: &mut FunctionBuilder, z: Value, c: [f64; 2]) -> Value {
    let c1 = b.ins().f64const(c[1]);
    let t = b.ins().fmul(z, c1);
    let c0 = b.ins().f64const(c[0]);
    b.ins().fadd(c0, t)
}

/// `numeric::kernel_sin`.
fn kernel_sin(b: &mut FunctionBuilder, x: Value, y: Value) -> Value {
    let z = b.ins().fmul(x, x);
    let w = b.ins().fmul(z, z);
    let p = poly3(b, z, [S[1], S[2], S[3]]);
    let zw = b.ins().fmul(z, w);
    let q = poly2(b, z, [S[4], S[5]]);
    let zwq = b.ins().fmul(zw, q);
    let r = b.ins().fadd(p, zwq);
    let v = b.ins().fmul(z, x);
    let half = b.ins().f64const(0.5);
    let hy = b.ins().fmul(half, y);
    let vr = b.ins().fmul(v, r);
    let u = b.ins().fsub(hy, vr);
    let zu = b.ins().fmul(z, u);
    let u = b.ins().fsub(zu, y);
    let s0 = b.ins().f64const(S[0]);
    let vs = b.ins().fmul(v, s0);
    let u = b.ins().fsub(u, vs);
    b.ins().fsub(x, u)
}

/// `numeric::kernel_cos`.
fn kernel_cos(b: &mut FunctionBuilder, x: Value, y: Value) -> Value {
    let z = b.ins().fmul(x, x);
    let w = b.ins().fmul(z, z);
    let p = poly3(b, z, [C[0], C[1], C[2]]);
    let zp = b.ins().fmul(z, p);
    let ww = b.ins().fmul(w, w);
    let q = poly3(b, z, [C[3], C[4], C[5]]);
    let wwq = b.ins().fmul(ww, q);
    let r = b.ins().fadd(zp, wwq);
    let half = b.ins().f64const(0.5);
    let hz = b.ins().fmul(half, z);
    let one = b.ins().f64const(1.0);
    let w = b.ins().fsub(one, hz);
    let t = b.ins().fsub(one, w);
    let t = b.ins().fsub(t, hz);
    let zr = b.ins().fmul(z, r);
    let xy = b.ins().fmul(x, y);
    let u = b.ins().fsub(zr, xy);
    let t = b.ins().fadd(t, u);
    b.ins().fadd(w, t)
}

/// `numeric::exp`.
pub(super) fn exp(b: &mut FunctionBuilder, x: Value) -> Value {
    let inv = b.ins().f64const(INV_LN2);
    let scaled = b.ins().fmul(x, inv);
    let (k, ki) = round_to_integer(b, scaled);
    let ln2_hi = b.ins().f64const(LN2_HI);
    let khi = b.ins().fmul(k, ln2_hi);
    let hi = b.ins().fsub(x, khi);
    let ln2_lo = b.ins().f64const(LN2_LO);
    let lo = b.ins().fmul(k, ln2_lo);
    let r = b.ins().fsub(hi, lo);
    let z = b.ins().fmul(r, r);
    let p = horner(b, z, &EXP_P);
    let zp = b.ins().fmul(z, p);
    let c = b.ins().fsub(r, zp);
    let rc = b.ins().fmul(r, c);
    let two = b.ins().f64const(2.0);
    let two_c = b.ins().fsub(two, c);
    let q = b.ins().fdiv(rc, two_c);
    let t = b.ins().fsub(lo, q);
    let t = b.ins().fsub(t, hi);
    let one = b.ins().f64const(1.0);
    let y = b.ins().fsub(one, t);
    let k_min = b.ins().iconst(types::I64, EXP_K_MIN);
    let ki = b.ins().smax(ki, k_min);
    let k_max = b.ins().iconst(types::I64, EXP_K_MAX);
    let ki = b.ins().smin(ki, k_max);
    let (p1, p2) = split_pow2(b, ki);
    let e = b.ins().fmul(y, p1);
    let e = b.ins().fmul(e, p2);
    let hi_bound = b.ins().f64const(EXP_OVERFLOW);
    let lo_bound = b.ins().f64const(EXP_UNDERFLOW);
    let above = b.ins().fcmp(FloatCC::GreaterThan, x, hi_bound);
    let below = b.ins().fcmp(FloatCC::LessThan, x, lo_bound);
    let inf = b.ins().f64const(f64::INFINITY);
    let zero = b.ins().f64const(0.0);
    let e = b.ins().select(below, zero, e);
    b.ins().select(above, inf, e)
}

/// `numeric::split_pow2`.
fn split_pow2(b: &mut FunctionBuilder, k: Value) -> (Value, Value) {
    let k1 = b.ins().sshr_imm_s(k, 1);
    let k2 = b.ins().isub(k, k1);
    (pow2(b, k1), pow2(b, k2))
}

/// 2^e for a normal exponent e (an i64).
fn pow2(b: &mut FunctionBuilder, e: Value) -> Value {
    let biased = b.ins().iadd_imm_s(e, 1023);
    let bits = b.ins().ishl_imm_s(biased, 52);
    b.ins().bitcast(types::F64, MemFlagsData::new(), bits)
}

/// `numeric::log`.
pub(super) fn log(b: &mut FunctionBuilder, x: Value) -> Value {
    let min = b.ins().f64const(f64::MIN_POSITIVE);
    let sub = b.ins().fcmp(FloatCC::LessThan, x, min);
    let two54 = b.ins().f64const(TWO54);
    let scaled = b.ins().fmul(x, two54);
    let xs = b.ins().select(sub, scaled, x);
    let bits = b.ins().bitcast(types::I64, MemFlagsData::new(), xs);
    let shifted = b
        .ins()
        .iadd_imm_s(bits, 0x3ff0000000000000 - SQRT_HALF_BITS);
    let e = b.ins().sshr_imm_s(shifted, 52);
    let e = b.ins().iadd_imm_s(e, -0x3ff);
    let e54 = b.ins().iadd_imm_s(e, -54);
    let k = b.ins().select(sub, e54, e);
    let mant = b.ins().band_imm_s(shifted, 0x000fffffffffffff);
    let mant = b.ins().iadd_imm_s(mant, SQRT_HALF_BITS);
    let m = b.ins().bitcast(types::F64, MemFlagsData::new(), mant);
    let one = b.ins().f64const(1.0);
    let f = b.ins().fsub(m, one);
    let half = b.ins().f64const(0.5);
    let hf = b.ins().fmul(half, f);
    let hfsq = b.ins().fmul(hf, f);
    let two = b.ins().f64const(2.0);
    let two_f = b.ins().fadd(two, f);
    let s = b.ins().fdiv(f, two_f);
    let z = b.ins().fmul(s, s);
    let w = b.ins().fmul(z, z);
    let t1 = horner(b, w, &[LOG_LG[1], LOG_LG[3], LOG_LG[5]]);
    let t1 = b.ins().fmul(w, t1);
    let t2 = horner(b, w, &[LOG_LG[0], LOG_LG[2], LOG_LG[4], LOG_LG[6]]);
    let t2 = b.ins().fmul(z, t2);
    let r = b.ins().fadd(t2, t1);
    let dk = b.ins().fcvt_from_sint(types::F64, k);
    let hr = b.ins().fadd(hfsq, r);
    let shr = b.ins().fmul(s, hr);
    let ln2_lo = b.ins().f64const(LN2_LO);
    let klo = b.ins().fmul(dk, ln2_lo);
    let u = b.ins().fadd(shr, klo);
    let u = b.ins().fsub(hfsq, u);
    let u = b.ins().fsub(u, f);
    let ln2_hi = b.ins().f64const(LN2_HI);
    let khi = b.ins().fmul(dk, ln2_hi);
    let y = b.ins().fsub(khi, u);
    let inf = b.ins().f64const(f64::INFINITY);
    let is_inf = b.ins().fcmp(FloatCC::Equal, x, inf);
    let zero = b.ins().f64const(0.0);
    let is_zero = b.ins().fcmp(FloatCC::Equal, x, zero);
    let not_nonneg = b.ins().fcmp(FloatCC::UnorderedOrLessThan, x, zero);
    let nan = b.ins().f64const(f64::NAN);
    let y = b.ins().select(not_nonneg, nan, y);
    let ninf = b.ins().f64const(f64::NEG_INFINITY);
    let y = b.ins().select(is_zero, ninf, y);
    b.ins().select(is_inf, inf, y)
}

/// `numeric::tanh`.
pub(super) fn tanh(b: &mut FunctionBuilder, x: Value) -> Value {
    let a = b.ins().fabs(x);
    let g = b.ins().fmul(a, a);
    let p = horner(b, g, &TANH_P);
    let p = b.ins().fmul(g, p);
    let one = b.ins().f64const(1.0);
    let q = horner(b, g, &[TANH_Q[0], TANH_Q[1], TANH_Q[2], 1.0]);
    let pq = b.ins().fdiv(p, q);
    let apq = b.ins().fmul(a, pq);
    let small = b.ins().fadd(a, apq);
    let two = b.ins().f64const(2.0);
    let a2 = b.ins().fmul(two, a);
    let e = exp(b, a2);
    let e1 = b.ins().fadd(e, one);
    let q = b.ins().fdiv(two, e1);
    let large = b.ins().fsub(one, q);
    let bound = b.ins().f64const(TANH_RATIONAL_MAX);
    let is_small = b.ins().fcmp(FloatCC::LessThan, a, bound);
    let is_small = mask(b, is_small);
    let t = blend(b, is_small, small, large);
    b.ins().fcopysign(t, x)
}

/// `numeric::atan`.
pub(super) fn atan(b: &mut FunctionBuilder, x: Value) -> Value {
    let a = b.ins().fabs(x);
    let r = atan_abs(b, a);
    b.ins().fcopysign(r, x)
}

/// `numeric::atan` of a = |x| before the sign is copied.
fn atan_abs(b: &mut FunctionBuilder, a: Value) -> Value {
    let one = b.ins().f64const(1.0);
    let two = b.ins().f64const(2.0);
    let three_halves = b.ins().f64const(1.5);
    let two_a = b.ins().fmul(two, a);
    let cases = [
        (a, one),
        (b.ins().fsub(two_a, one), b.ins().fadd(two, a)),
        (b.ins().fsub(a, one), b.ins().fadd(a, one)),
        (b.ins().fsub(a, three_halves), {
            let t = b.ins().fmul(three_halves, a);
            b.ins().fadd(one, t)
        }),
        (b.ins().f64const(-1.0), a),
    ];
    let (mut num, mut den) = cases[0];
    let mut hi = b.ins().f64const(ATAN_HI[0]);
    let mut lo = b.ins().f64const(ATAN_LO[0]);
    for (i, &brk) in ATAN_BREAKS.iter().enumerate() {
        let bv = b.ins().f64const(brk);
        let past = b.ins().fcmp(FloatCC::UnorderedOrGreaterThanOrEqual, a, bv);
        let past = mask(b, past);
        num = blend(b, past, cases[i + 1].0, num);
        den = blend(b, past, cases[i + 1].1, den);
        let h = b.ins().f64const(ATAN_HI[i + 1]);
        hi = blend(b, past, h, hi);
        let l = b.ins().f64const(ATAN_LO[i + 1]);
        lo = blend(b, past, l, lo);
    }
    let t = b.ins().fdiv(num, den);
    let z = b.ins().fmul(t, t);
    let w = b.ins().fmul(z, z);
    let even: Vec<f64> = ATAN_T.iter().step_by(2).copied().collect();
    let odd: Vec<f64> = ATAN_T.iter().skip(1).step_by(2).copied().collect();
    let s1 = horner(b, w, &even);
    let s1 = b.ins().fmul(z, s1);
    let s2 = horner(b, w, &odd);
    let s2 = b.ins().fmul(w, s2);
    let s = b.ins().fadd(s1, s2);
    let ts = b.ins().fmul(t, s);
    let u = b.ins().fsub(ts, lo);
    let u = b.ins().fsub(u, t);
    b.ins().fsub(hi, u)
}

/// `numeric::atan2(y, x)`.
pub(super) fn atan2(b: &mut FunctionBuilder, y: Value, x: Value) -> Value {
    let ay = b.ins().fabs(y);
    let ax = b.ins().fabs(x);
    let q = b.ins().fdiv(ay, ax);
    let z = atan_abs(b, q);
    let zero = b.ins().f64const(0.0);
    let y0 = b.ins().fcmp(FloatCC::Equal, ay, zero);
    let x0 = b.ins().fcmp(FloatCC::Equal, ax, zero);
    let both0 = b.ins().band(y0, x0);
    let z = b.ins().select(both0, zero, z);
    let inf = b.ins().f64const(f64::INFINITY);
    let yinf = b.ins().fcmp(FloatCC::Equal, ay, inf);
    let xinf = b.ins().fcmp(FloatCC::Equal, ax, inf);
    let both_inf = b.ins().band(yinf, xinf);
    let pio4 = b.ins().f64const(std::f64::consts::FRAC_PI_4);
    let z = b.ins().select(both_inf, pio4, z);
    let pi_lo = b.ins().f64const(PI_LO);
    let t = b.ins().fsub(z, pi_lo);
    let pi_hi = b.ins().f64const(PI_HI);
    let reflected = b.ins().fsub(pi_hi, t);
    let xbits = b.ins().bitcast(types::I64, MemFlagsData::new(), x);
    let x_neg = b.ins().icmp_imm_s(IntCC::SignedLessThan, xbits, 0);
    let x_neg = mask(b, x_neg);
    let z = blend(b, x_neg, reflected, z);
    b.ins().fcopysign(z, y)
}

/// The all-ones (true) or zero f64 mask of a condition, for [`blend`].
fn mask(b: &mut FunctionBuilder, cond: Value) -> Value {
    let m = b.ins().bmask(types::I64, cond);
    b.ins().bitcast(types::F64, MemFlagsData::new(), m)
}

/// `if mask { t } else { f }` without a branch, for conditions that depend on the data
/// (Cranelift lowers a float `select` on x86-64 to a conditional jump, which such
/// conditions mispredict; rare special cases keep `select`).
fn blend(b: &mut FunctionBuilder, mask: Value, t: Value, f: Value) -> Value {
    // f ^ ((t ^ f) & mask): three bitwise operations (`bitselect` lowers to five)
    let diff = b.ins().bxor(t, f);
    let diff = b.ins().band(diff, mask);
    b.ins().bxor(f, diff)
}

/// `c[0] + z * (c[1] + z * (... + z * c[n-1]))`, evaluated inside out.
fn horner(b: &mut FunctionBuilder, z: Value, c: &[f64]) -> Value {
    let (&last, rest) = c.split_last().expect("a polynomial has a coefficient");
    let mut acc = b.ins().f64const(last);
    for &ck in rest.iter().rev() {
        let t = b.ins().fmul(z, acc);
        let k = b.ins().f64const(ck);
        acc = b.ins().fadd(k, t);
    }
    acc
}
