//! An LU solver emitted as Cranelift IR, for object files (the JIT calls the Rust one).
//!
//! The function is `lagc_lu(n, buf) -> singular`: `buf` holds the row-major `n x n`
//! matrix then the right-hand side; on return the right-hand side holds the solution
//! (and the matrix its LU factors). It is [`crate::backend::solve::lu_solve_in_place`]
//! loop for loop and operation for operation, so it gives the same bits. Invariant:
//! where the Rust solver reports a singular matrix, this fills the solution with NaN
//! and returns 1 (object files have no pseudo-inverse fallback); else it returns 0.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, BlockArg, Function, InstBuilder, MemFlagsData, UserFuncName, Value,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};

use super::JitError;
use crate::backend::solve::PIVOT_TOL;

const F64: types::Type = types::F64;
const I64: types::Type = types::I64;

/// Declares and defines the LU function (a local symbol `name`) in `module`.
pub(super) fn define_lu<M: Module>(module: &mut M, name: &str) -> Result<FuncId, JitError> {
    let err = |e: cranelift_module::ModuleError| JitError::Codegen(format!("{e:?}"));
    let ptr = module.target_config().pointer_type();
    let mut sig = module.make_signature();
    sig.params.extend([I64, ptr].map(AbiParam::new));
    sig.returns.push(AbiParam::new(I64));
    let id = module
        .declare_function(name, Linkage::Local, &sig)
        .map_err(err)?;
    let mut ctx = module.make_context();
    ctx.func = Function::with_name_signature(UserFuncName::user(0, id.as_u32()), sig);
    let mut fbc = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let (n, buf) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let nn = b.ins().imul(n, n);
    let x_off = b.ins().ishl_imm_u(nn, 3);
    let x = b.ins().iadd(buf, x_off);
    let mut lu = Lu { b, n, a: buf, x };
    lu.body();
    lu.b.seal_all_blocks();
    lu.b.finalize(module.target_config());
    module.define_function(id, &mut ctx).map_err(err)?;
    Ok(id)
}

/// The function being built: `a` the matrix, `x` the right-hand side and solution.
struct Lu<'a> {
    b: FunctionBuilder<'a>,
    n: Value,
    a: Value,
    x: Value,
}

impl Lu<'_> {
    fn body(&mut self) {
        let (a, x, n) = (self.a, self.x, self.n);
        let singular = self.b.create_block();
        let zero = self.b.ins().f64const(0.0);
        let izero = self.b.ins().iconst(I64, 0);
        // max |a| and finiteness (the sum of 0 * a_ij is 0 exactly when all are finite)
        let (max, z) = (self.b.declare_var(F64), self.b.declare_var(F64));
        self.b.def_var(max, zero);
        self.b.def_var(z, zero);
        let nn = self.b.ins().imul(n, n);
        self.for_range(izero, nn, |s, k| {
            let v = s.load(a, k);
            let v0 = s.b.ins().fmul(v, zero);
            let zv = s.b.use_var(z);
            let zv = s.b.ins().fadd(zv, v0);
            s.b.def_var(z, zv);
            let av = s.b.ins().fabs(v);
            let m = s.b.use_var(max);
            let m = s.b.ins().fmax(m, av);
            s.b.def_var(max, m);
        });
        let zv = self.b.use_var(z);
        let finite = self.b.ins().fcmp(FloatCC::Equal, zv, zero);
        let m = self.b.use_var(max);
        let k_tol = self.b.ins().f64const(PIVOT_TOL);
        let tol_fin = self.b.ins().fmul(k_tol, m);
        let minus = self.b.ins().f64const(-1.0);
        let tol = self.b.ins().select(finite, tol_fin, minus);
        self.for_range(izero, n, |s, k| s.eliminate(k, tol, finite, singular));
        self.for_range(izero, n, |s, r| {
            let last = s.b.ins().iadd_imm_s(n, -1);
            let k = s.b.ins().isub(last, r);
            s.back_substitute(k);
        });
        self.b.ins().return_(&[izero]);

        self.b.switch_to_block(singular);
        let nan = self.b.ins().f64const(f64::NAN);
        self.for_range(izero, n, |s, k| s.store(x, k, nan));
        let one = self.b.ins().iconst(I64, 1);
        self.b.ins().return_(&[one]);
    }

    /// Step `k`: pivot search (to `singular` when the pivot is too small), row swap,
    /// elimination below the pivot.
    fn eliminate(
        &mut self,
        k: Value,
        tol: Value,
        finite: Value,
        singular: cranelift_codegen::ir::Block,
    ) {
        let (a, x, n) = (self.a, self.x, self.n);
        let (best, p) = (self.b.declare_var(F64), self.b.declare_var(I64));
        let kk = self.index(k, k);
        let d = self.load(a, kk);
        let d = self.b.ins().fabs(d);
        self.b.def_var(best, d);
        self.b.def_var(p, k);
        let k1 = self.b.ins().iadd_imm_s(k, 1);
        self.for_range(k1, n, |s, i| {
            let ik = s.index(i, k);
            let v = s.load(a, ik);
            let v = s.b.ins().fabs(v);
            let bv = s.b.use_var(best);
            let c = s.b.ins().fcmp(FloatCC::GreaterThan, v, bv);
            let nb = s.b.ins().select(c, v, bv);
            s.b.def_var(best, nb);
            let pv = s.b.use_var(p);
            let np = s.b.ins().select(c, i, pv);
            s.b.def_var(p, np);
        });
        let bv = self.b.use_var(best);
        let small = self.b.ins().fcmp(FloatCC::LessThanOrEqual, bv, tol);
        let small = self.b.ins().band(small, finite);
        let go = self.b.create_block();
        self.b.ins().brif(small, singular, &[], go, &[]);
        self.b.switch_to_block(go);
        // swapping row k with itself changes nothing, so no test for p == k
        let pv = self.b.use_var(p);
        let izero = self.b.ins().iconst(I64, 0);
        self.for_range(izero, n, |s, j| {
            let (kj, pj) = (s.index(k, j), s.index(pv, j));
            s.swap(a, kj, pj);
        });
        self.swap(x, k, pv);
        let pivot = self.load(a, kk);
        self.for_range(k1, n, |s, i| {
            let ik = s.index(i, k);
            let aik = s.load(a, ik);
            let f = s.b.ins().fdiv(aik, pivot);
            let fzero = s.b.ins().f64const(0.0);
            let is_zero = s.b.ins().fcmp(FloatCC::Equal, f, fzero);
            let upd = s.b.create_block();
            let next = s.b.create_block();
            s.b.ins().brif(is_zero, next, &[], upd, &[]);
            s.b.switch_to_block(upd);
            s.for_range(k1, n, |s, j| {
                let (ij, kj) = (s.index(i, j), s.index(k, j));
                let akj = s.load(a, kj);
                let prod = s.b.ins().fmul(f, akj);
                let aij = s.load(a, ij);
                let v = s.b.ins().fsub(aij, prod);
                s.store(a, ij, v);
            });
            let xk = s.load(x, k);
            let prod = s.b.ins().fmul(f, xk);
            let xi = s.load(x, i);
            let v = s.b.ins().fsub(xi, prod);
            s.store(x, i, v);
            s.b.ins().jump(next, &[]);
            s.b.switch_to_block(next);
        });
    }

    /// `x[k] = (x[k] - sum_{j > k} a[k][j] x[j]) / a[k][k]`, term by term.
    fn back_substitute(&mut self, k: Value) {
        let (a, x, n) = (self.a, self.x, self.n);
        let s_var = self.b.declare_var(F64);
        let xk = self.load(x, k);
        self.b.def_var(s_var, xk);
        let k1 = self.b.ins().iadd_imm_s(k, 1);
        self.for_range(k1, n, |s, j| {
            let kj = s.index(k, j);
            let akj = s.load(a, kj);
            let xj = s.load(x, j);
            let prod = s.b.ins().fmul(akj, xj);
            let sv = s.b.use_var(s_var);
            let sv = s.b.ins().fsub(sv, prod);
            s.b.def_var(s_var, sv);
        });
        let kk = self.index(k, k);
        let akk = self.load(a, kk);
        let sv = self.b.use_var(s_var);
        let v = self.b.ins().fdiv(sv, akk);
        self.store(x, k, v);
    }

    /// `for i in start..end { body(i) }`, leaving the builder after the loop.
    fn for_range(&mut self, start: Value, end: Value, body: impl FnOnce(&mut Self, Value)) {
        let header = self.b.create_block();
        let i = self.b.append_block_param(header, I64);
        let inner = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(header, &[BlockArg::Value(start)]);
        self.b.switch_to_block(header);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, end);
        self.b.ins().brif(more, inner, &[], exit, &[]);
        self.b.switch_to_block(inner);
        body(self, i);
        let next = self.b.ins().iadd_imm_s(i, 1);
        self.b.ins().jump(header, &[BlockArg::Value(next)]);
        self.b.switch_to_block(exit);
    }

    /// The row-major index `i * n + j`.
    fn index(&mut self, i: Value, j: Value) -> Value {
        let row = self.b.ins().imul(i, self.n);
        self.b.ins().iadd(row, j)
    }

    fn addr(&mut self, base: Value, k: Value) -> Value {
        let off = self.b.ins().ishl_imm_u(k, 3);
        self.b.ins().iadd(base, off)
    }

    fn load(&mut self, base: Value, k: Value) -> Value {
        let p = self.addr(base, k);
        self.b.ins().load(F64, MemFlagsData::trusted(), p, 0)
    }

    fn store(&mut self, base: Value, k: Value, v: Value) {
        let p = self.addr(base, k);
        self.b.ins().store(MemFlagsData::trusted(), v, p, 0);
    }

    fn swap(&mut self, base: Value, i: Value, j: Value) {
        let (vi, vj) = (self.load(base, i), self.load(base, j));
        self.store(base, i, vj);
        self.store(base, j, vi);
    }
}
