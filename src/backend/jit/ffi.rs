//! The one place with `unsafe`: owning JIT-compiled machine code, calling it, and the
//! callbacks it makes into Rust with raw pointers.
//!
//! Invariants, established by `codegen` and checked here before every call:
//! - the compiled function has the signature [`KernelFn`]: `inputs` points to
//!   `rows * n_inputs` readable f64s, `outputs` to `rows * n_outputs` writable f64s,
//!   `ctx` to a live [`NetCalls`]; it reads and writes nothing else except its own
//!   stack slots, and returns the number of rows whose solve was singular;
//! - it calls [`lagc_solve`] with pointers to `n * n` matrix, `n` rhs and `n` solution
//!   f64s in its stack frame, and [`lagc_net`] with the call number of a net call site
//!   and pointers to that site's argument and lane buffers (sized by [`NetCalls::shape`]);
//! - the code stays mapped until [`CompiledCode`] is dropped, which frees it; no
//!   pointer into it outlives that value, and the function keeps no state between
//!   calls (so calling it from several threads at once is sound).

use cranelift_jit::JITModule;
use cranelift_module::FuncId;

use super::{JitError, NetCalls};
use crate::backend::solve::{lu_solve_in_place, pinv_solve};

/// The generated kernel: `(inputs, outputs, rows, ctx) -> singular rows`.
type KernelFn = unsafe extern "C" fn(*const f64, *mut f64, u64, *const NetCalls) -> u64;

/// Machine code of one kernel, freed on drop.
pub(super) struct CompiledCode {
    module: Option<JITModule>,
    func: KernelFn,
}

// SAFETY: the code is immutable once finalized and keeps no state between calls (see
// the module invariants); the module is only touched again when dropped.
unsafe impl Send for CompiledCode {}
// SAFETY: as above: concurrent calls share only read-only code.
unsafe impl Sync for CompiledCode {}

impl CompiledCode {
    /// Takes ownership of a finalized module whose function `func` is a [`KernelFn`].
    pub(super) fn new(module: JITModule, func: FuncId) -> Result<CompiledCode, JitError> {
        let ptr = module.get_finalized_function(func);
        if ptr.is_null() {
            return Err(JitError::Codegen("no code for the kernel function".into()));
        }
        // SAFETY: `codegen` declared `func` with exactly this signature (module invariant).
        let func = unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) };
        Ok(CompiledCode {
            module: Some(module),
            func,
        })
    }

    /// Runs the kernel on `rows` rows; returns the number of singular solves.
    ///
    /// # Panics
    /// If the buffers do not hold `rows` rows (callers check this first and report a
    /// shape error instead).
    pub(super) fn call(
        &self,
        inputs: &[f64],
        outputs: &mut [f64],
        rows: usize,
        n_inputs: usize,
        n_outputs: usize,
        calls: &NetCalls,
    ) -> usize {
        assert!(inputs.len() == rows * n_inputs && outputs.len() == rows * n_outputs);
        if rows == 0 {
            return 0;
        }
        // SAFETY: buffer lengths were checked just above; `calls` outlives the call.
        let singular =
            unsafe { (self.func)(inputs.as_ptr(), outputs.as_mut_ptr(), rows as u64, calls) };
        singular as usize
    }
}

impl Drop for CompiledCode {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: `self.func` is the only pointer into the module and dies with
            // `self`; no call can be running, since calls borrow `self`.
            unsafe { module.free_memory() };
        }
    }
}

/// Solves `a x = b` for the generated code: LU with partial pivoting, the
/// pseudo-inverse when singular. Returns 1 when singular, else 0.
pub(super) extern "C" fn lagc_solve(n: u64, a: *const f64, b: *const f64, x: *mut f64) -> u64 {
    let n = n as usize;
    // SAFETY: the generated code passes `n * n`, `n` and `n` f64s in its stack frame
    // (module invariants); `x` does not alias `a` or `b`.
    let (a, b, x) = unsafe {
        (
            std::slice::from_raw_parts(a, n * n),
            std::slice::from_raw_parts(b, n),
            std::slice::from_raw_parts_mut(x, n),
        )
    };
    let mut lu = a.to_vec();
    x.copy_from_slice(b);
    if lu_solve_in_place(n, &mut lu, x) {
        0
    } else {
        pinv_solve(n, a, b, x);
        1
    }
}

/// Evaluates net call site `call` for the generated code.
pub(super) extern "C" fn lagc_net(
    ctx: *const NetCalls,
    call: u64,
    args: *const f64,
    out: *mut f64,
) {
    // SAFETY: `ctx` is the `NetCalls` passed to `CompiledCode::call`, alive for the call.
    let calls = unsafe { &*ctx };
    let Some((arity, lanes)) = calls.shape(call as usize) else {
        return;
    };
    // SAFETY: the generated code passes buffers of exactly this call site's arity and
    // lane count (module invariants), which do not alias.
    let (args, out) = unsafe {
        (
            std::slice::from_raw_parts(args, arity),
            std::slice::from_raw_parts_mut(out, lanes),
        )
    };
    // A panic must not unwind into generated code: the lanes become NaN instead, which
    // the caller sees as a non-finite result.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        calls.eval(call as usize, args, &mut *out)
    }));
    if caught.is_err() {
        out.fill(f64::NAN);
    }
}

/// The `(symbol, address)` pairs of the callbacks above.
pub(super) fn callback_symbols() -> [(&'static str, *const u8); 2] {
    let solve: extern "C" fn(u64, *const f64, *const f64, *mut f64) -> u64 = lagc_solve;
    let net: extern "C" fn(*const NetCalls, u64, *const f64, *mut f64) = lagc_net;
    [
        ("lagc_solve", solve as *const u8),
        ("lagc_net", net as *const u8),
    ]
}
