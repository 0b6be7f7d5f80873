//! The code generator's linear solves: small systems unrolled inline (Gaussian
//! elimination with partial pivoting, pivots chosen by `select`), larger ones and
//! too-small pivots by a call (the Rust solver in the JIT, the emitted LU in an object).

use super::*;

impl<M: Module> Gen<'_, M> {
    pub(super) fn stack_slot(&mut self, n_f64: usize) -> cranelift_codegen::ir::StackSlot {
        self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (8 * n_f64.max(1)) as u32,
            3,
        ))
    }

    /// Solves `a x = r` by a call: the `lagc_solve` callback (JIT) or the object's LU
    /// function; returns x and the singular flag (i64).
    pub(super) fn solve_call(
        &mut self,
        n: usize,
        a: &[Value],
        r: &[Value],
    ) -> Result<(Vec<Value>, Value), JitError> {
        let ptr = self.ptr;
        let (f, x_at) = match self.calls {
            Calls::Rust => (
                self.import("lagc_solve", &[types::I64, ptr], Some(types::I64))?,
                n * n + n,
            ),
            Calls::Libm {
                solve: Some(id), ..
            } => (self.local("lagc_lu", id), n * n),
            Calls::Libm { solve: None, .. } => {
                return Err(JitError::Codegen("no LU function for a large solve".into()))
            }
        };
        // matrix, rhs, solution and LU workspace side by side in the scratch buffer
        // (never on the stack: a 500 x 500 matrix would not fit a worker thread's stack)
        let base = self.scratch.expect("scratch parameter");
        let trusted = MemFlagsData::trusted();
        for (k, &v) in a.iter().chain(r).enumerate() {
            self.b.ins().store(trusted, v, base, 8 * k as i32);
        }
        let x_addr = self.b.ins().iadd_imm_s(base, 8 * x_at as i64);
        let nv = self.b.ins().iconst(types::I64, n as i64);
        let call = self.b.ins().call(f, &[nv, base]);
        let singular = self.b.inst_results(call)[0];
        let xs = (0..n)
            .map(|k| self.b.ins().load(F64, trusted, x_addr, 8 * k as i32))
            .collect();
        Ok((xs, singular))
    }

    /// A reference to function `id` defined in the same module.
    pub(super) fn local(&mut self, name: &'static str, id: FuncId) -> FuncRef {
        if let Some(&f) = self.funcs.get(name) {
            return f;
        }
        let f = self.module.declare_func_in_func(id, self.b.func);
        self.funcs.insert(name, f);
        self.names.push((id.as_u32(), name));
        f
    }

    /// The fallback of a small solve whose pivot was too small: the callback (JIT), or
    /// NaN and a singular count of 1 (object files).
    pub(super) fn solve_singular(
        &mut self,
        n: usize,
        a: &[Value],
        r: &[Value],
    ) -> Result<(Vec<Value>, Value), JitError> {
        match self.calls {
            Calls::Rust => self.solve_call(n, a, r),
            Calls::Libm { .. } => {
                let nan = self.b.ins().f64const(f64::NAN);
                let one = self.b.ins().iconst(types::I64, 1);
                Ok((vec![nan; n], one))
            }
        }
    }

    /// Solves `a x = r`: inline for small `n`, falling back to [`Self::solve_singular`]
    /// when a pivot is below the singularity threshold.
    pub(super) fn solve(
        &mut self,
        n: usize,
        a: &[Value],
        r: &[Value],
    ) -> Result<(Vec<Value>, Value), JitError> {
        if n > INLINE_SOLVE_MAX {
            return self.solve_call(n, a, r);
        }
        let (x, singular) = self.lu_inline(n, a, r);
        let slow = self.b.create_block();
        let merge = self.b.create_block();
        let xs: Vec<Value> = (0..n)
            .map(|_| self.b.append_block_param(merge, F64))
            .collect();
        let flag = self.b.append_block_param(merge, types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        let fast_args: Vec<BlockArg> = x
            .iter()
            .chain([&zero])
            .map(|&v| BlockArg::Value(v))
            .collect();
        self.b.ins().brif(singular, slow, &[], merge, &fast_args);
        self.b.switch_to_block(slow);
        let (sx, sflag) = self.solve_singular(n, a, r)?;
        let slow_args: Vec<BlockArg> = sx
            .iter()
            .chain([&sflag])
            .map(|&v| BlockArg::Value(v))
            .collect();
        self.b.ins().jump(merge, &slow_args);
        self.b.switch_to_block(merge);
        Ok((xs, flag))
    }

    /// Unrolled Gaussian elimination with partial pivoting, operation for operation as
    /// [`crate::backend::solve::lu_solve_in_place`]; returns x and an i8 flag that is
    /// set when a pivot fell below the threshold (x is then meaningless).
    pub(super) fn lu_inline(&mut self, n: usize, a0: &[Value], r: &[Value]) -> (Vec<Value>, Value) {
        let mut a = a0.to_vec();
        let mut b = r.to_vec();
        let zero = self.b.ins().f64const(0.0);
        // finite <=> sum of 0*a_ij is 0 (it is NaN when any entry is infinite or NaN).
        let mut z = zero;
        let mut rows = vec![zero; n];
        let mut cols = vec![zero; n];
        for (idx, &x) in a0.iter().enumerate() {
            let x0 = self.b.ins().fmul(x, zero);
            z = self.b.ins().fadd(z, x0);
            let ax = self.b.ins().fabs(x);
            let (i, j) = (idx / n, idx % n);
            rows[i] = self.b.ins().fmax(rows[i], ax);
            cols[j] = self.b.ins().fmax(cols[j], ax);
        }
        let finite = self.b.ins().fcmp(FloatCC::Equal, z, zero);
        let k_tol = self.b.ins().f64const(PIVOT_TOL);
        let mut singular = self.b.ins().iconst(types::I8, 0);
        for k in 0..n {
            let mut best = self.b.ins().fabs(a[k * n + k]);
            let mut p = self.b.ins().iconst(types::I32, k as i64);
            for i in k + 1..n {
                let v = self.b.ins().fabs(a[i * n + k]);
                let c = self.b.ins().fcmp(FloatCC::GreaterThan, v, best);
                best = self.b.ins().select(c, v, best);
                let iv = self.b.ins().iconst(types::I32, i as i64);
                p = self.b.ins().select(c, iv, p);
            }
            for i in k + 1..n {
                let is_i = self.b.ins().icmp_imm_s(IntCC::Equal, p, i as i64);
                for j in k..n {
                    let (kj, ij) = (a[k * n + j], a[i * n + j]);
                    a[k * n + j] = self.b.ins().select(is_i, ij, kj);
                    a[i * n + j] = self.b.ins().select(is_i, kj, ij);
                }
                let (bk, bi) = (b[k], b[i]);
                b[k] = self.b.ins().select(is_i, bi, bk);
                b[i] = self.b.ins().select(is_i, bk, bi);
                let (rk, ri) = (rows[k], rows[i]);
                rows[k] = self.b.ins().select(is_i, ri, rk);
                rows[i] = self.b.ins().select(is_i, rk, ri);
            }
            // Singular when the pivot is negligible against its row's and column's scale.
            let scale = self.b.ins().fmin(rows[k], cols[k]);
            let tol = self.b.ins().fmul(k_tol, scale);
            let small = self.b.ins().fcmp(FloatCC::LessThanOrEqual, best, tol);
            let small = self.b.ins().band(small, finite);
            singular = self.b.ins().bor(singular, small);
            let pivot = a[k * n + k];
            for i in k + 1..n {
                let f = self.b.ins().fdiv(a[i * n + k], pivot);
                let skip = self.b.ins().fcmp(FloatCC::Equal, f, zero);
                for j in k + 1..n {
                    let prod = self.b.ins().fmul(f, a[k * n + j]);
                    let upd = self.b.ins().fsub(a[i * n + j], prod);
                    a[i * n + j] = self.b.ins().select(skip, a[i * n + j], upd);
                }
                let prod = self.b.ins().fmul(f, b[k]);
                let upd = self.b.ins().fsub(b[i], prod);
                b[i] = self.b.ins().select(skip, b[i], upd);
            }
        }
        for k in (0..n).rev() {
            let mut s = b[k];
            for j in k + 1..n {
                let prod = self.b.ins().fmul(a[k * n + j], b[j]);
                s = self.b.ins().fsub(s, prod);
            }
            b[k] = self.b.ins().fdiv(s, a[k * n + k]);
        }
        (b, singular)
    }
}
