//! Elementary functions as inline Cranelift code: the operations of
//! [`crate::numeric`], emitted one for one in the same order (no fused multiply-adds),
//! so generated code and the interpreter give the same bits.
//!
//! Invariant: every function here mirrors a function of `numeric` line by line; a
//! change to one is a change to the other (tests compare them on every backend).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value};
use cranelift_frontend::FunctionBuilder;

use crate::numeric::{C, INV_PIO2, PIO2_1, PIO2_2, PIO2_3, PIO2_3T, S};

/// `(sin x, cos x)` for finite |x| <= [`crate::numeric::SIN_COS_INLINE_MAX`]
/// ([`crate::numeric::sin_cos`]'s inline branch; the caller branches around it).
pub(super) fn sin_cos(b: &mut FunctionBuilder, x: Value) -> (Value, Value) {
    let inv = b.ins().f64const(INV_PIO2);
    let scaled = b.ins().fmul(x, inv);
    let n = b.ins().nearest(scaled);
    let (y0, y1) = reduce(b, x, n);
    let s = kernel_sin(b, y0, y1);
    let c = kernel_cos(b, y0, y1);
    let ni = b.ins().fcvt_to_sint_sat(types::I64, n);
    let q = b.ins().band_imm_s(ni, 3);
    let odd = b.ins().band_imm_s(q, 1);
    let odd = b.ins().icmp_imm_s(IntCC::NotEqual, odd, 0);
    let sin = b.ins().select(odd, c, s);
    let cos = b.ins().select(odd, s, c);
    let half = b.ins().band_imm_s(q, 2);
    let neg_sin = b.ins().icmp_imm_s(IntCC::NotEqual, half, 0);
    let q1 = b.ins().iadd_imm_s(q, 1);
    let half1 = b.ins().band_imm_s(q1, 2);
    let neg_cos = b.ins().icmp_imm_s(IntCC::NotEqual, half1, 0);
    let ms = b.ins().fneg(sin);
    let mc = b.ins().fneg(cos);
    let sin = b.ins().select(neg_sin, ms, sin);
    let cos = b.ins().select(neg_cos, mc, cos);
    (sin, cos)
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
    let y0 = b.ins().select(n_is_0, x, r0);
    let y1 = b.ins().select(n_is_0, zero, r1);
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
