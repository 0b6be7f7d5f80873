//! The code generator's elementary functions: sin and cos (inline, or one call of the C
//! library beyond the inline range), the other functions inline or by call, and integer
//! powers by binary exponentiation.

use super::*;

impl<M: Module> Gen<'_, M> {
    /// `(sin x, cos x)`: inline ([`inline_math::sin_cos`]) for |x| up to
    /// [`crate::numeric::SIN_COS_INLINE_MAX`], else (and for NaN and infinities) by the
    /// C library, as [`crate::numeric::sin_cos`] does.
    pub(super) fn sincos(&mut self, x: Value) -> Result<(Value, Value), JitError> {
        let fast = self.b.create_block();
        let slow = self.b.create_block();
        let join = self.b.create_block();
        let s = self.b.append_block_param(join, F64);
        let c = self.b.append_block_param(join, F64);
        let ax = self.b.ins().fabs(x);
        let max = self.b.ins().f64const(crate::numeric::SIN_COS_INLINE_MAX);
        let inside = self.b.ins().fcmp(FloatCC::LessThanOrEqual, ax, max);
        self.b.ins().brif(inside, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        let (fs, fc) = inline_math::sin_cos(&mut self.b, x);
        self.b
            .ins()
            .jump(join, &[BlockArg::Value(fs), BlockArg::Value(fc)]);
        self.b.switch_to_block(slow);
        let (ls, lc) = self.sincos_call(x)?;
        self.b
            .ins()
            .jump(join, &[BlockArg::Value(ls), BlockArg::Value(lc)]);
        self.b.switch_to_block(join);
        Ok((s, c))
    }

    /// `(sin x, cos x)` outside the inline range: one call of the C library's `sincos`
    /// where it has one (glibc's gives the bits of its `sin` and `cos`), else the
    /// `sin` and `cos` of [`Calls`] (the C library's, directly or through the runtime).
    pub(super) fn sincos_call(&mut self, x: Value) -> Result<(Value, Value), JitError> {
        if !self.calls.sincos() {
            let missing = || JitError::Codegen("no symbol for sin or cos".into());
            let sin = self.calls.unary(Func::Sin).ok_or_else(missing)?;
            let cos = self.calls.unary(Func::Cos).ok_or_else(missing)?;
            let s = self.call_f64(sin, &[x])?;
            let c = self.call_f64(cos, &[x])?;
            return Ok((s, c));
        }
        let ptr = self.ptr;
        let f = self.import("sincos", &[F64, ptr, ptr], None)?;
        let out = self.stack_slot(2);
        let s_addr = self.b.ins().stack_addr(ptr, out, 0);
        let c_addr = self.b.ins().stack_addr(ptr, out, 8);
        self.b.ins().call(f, &[x, s_addr, c_addr]);
        let sin = self.b.ins().stack_load(ptr, F64, out, 0);
        let cos = self.b.ins().stack_load(ptr, F64, out, 8);
        Ok((sin, cos))
    }

    pub(super) fn func(&mut self, f: Func, a: Value) -> Result<Value, JitError> {
        Ok(match f {
            Func::Sqrt => self.b.ins().sqrt(a),
            Func::Abs => self.b.ins().fabs(a),
            Func::Exp => inline_math::exp(&mut self.b, a),
            Func::Log => inline_math::log(&mut self.b, a),
            Func::Tanh => inline_math::tanh(&mut self.b, a),
            Func::Atan => inline_math::atan(&mut self.b, a),
            Func::Sign => {
                let zero = self.b.ins().f64const(0.0);
                let one = self.b.ins().f64const(1.0);
                let minus = self.b.ins().f64const(-1.0);
                let pos = self.b.ins().fcmp(FloatCC::GreaterThan, a, zero);
                let neg = self.b.ins().fcmp(FloatCC::LessThan, a, zero);
                let s = self.b.ins().select(neg, minus, a);
                self.b.ins().select(pos, one, s)
            }
            _ => match self.calls.unary(f) {
                Some(name) => self.call_f64(name, &[a])?,
                None => return Err(JitError::Codegen(format!("no code for {}", f.name()))),
            },
        })
    }

    /// `x ^ n` by binary exponentiation, multiplication for multiplication as
    /// [`crate::symbolic::powi`] does it.
    pub(super) fn powi(&mut self, x: Value, n: i32) -> Value {
        let mut e = n.unsigned_abs();
        let mut base = x;
        let mut acc: Option<Value> = None;
        while e > 0 {
            if e & 1 == 1 {
                acc = Some(match acc {
                    None => base, // 1.0 * base == base exactly
                    Some(a) => self.b.ins().fmul(a, base),
                });
            }
            e >>= 1;
            if e > 0 {
                base = self.b.ins().fmul(base, base);
            }
        }
        let acc = match acc {
            Some(a) => a,
            None => self.b.ins().f64const(1.0),
        };
        if n < 0 {
            let one = self.b.ins().f64const(1.0);
            self.b.ins().fdiv(one, acc)
        } else {
            acc
        }
    }
}
