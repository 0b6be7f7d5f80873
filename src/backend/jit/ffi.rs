//! The one place with `unsafe`: owning JIT-compiled machine code, calling it, and the
//! callback it makes into Rust with raw pointers.
//!
//! Invariants, established by `codegen` and checked here before every call:
//! - every compiled function has the signature [`KernelFn`]: `inputs` points to
//!   `rows * n_inputs` readable f64s and `outputs` to `rows * width` writable f64s,
//!   where `width` is the number of outputs, or of slots for the segments of a program
//!   with nets (those also read that table), and `scratch` to `codegen::scratch_len`
//!   writable f64s; it touches nothing else except its own stack slots, and returns
//!   the number of rows whose solve was singular;
//! - it calls [`lagc_solve`] with a pointer to `2 n (n + 1)` f64s of its scratch
//!   buffer: the matrix (`n * n`), rhs (`n`), solution (`n`) and LU workspace (`n * n`),
//!   consecutive;
//! - the code stays mapped until [`CompiledCode`] is dropped, which frees it; no
//!   pointer into it outlives that value, and the functions keep no state between
//!   calls (so calling them from several threads at once is sound).

use cranelift_jit::JITModule;
use cranelift_module::FuncId;

use super::JitError;
use crate::backend::solve::{lu_solve_in_place, pinv_solve};

/// A generated function: `(inputs, outputs, rows, scratch) -> singular rows`.
type KernelFn = unsafe extern "C" fn(*const f64, *mut f64, u64, *mut f64) -> u64;

/// Machine code of one kernel, freed on drop.
pub(super) struct CompiledCode {
    module: Option<JITModule>,
    funcs: Vec<KernelFn>,
    scratch_len: usize,
}

// SAFETY: the code is immutable once finalized and keeps no state between calls (see
// the module invariants); the module is only touched again when dropped.
unsafe impl Send for CompiledCode {}
// SAFETY: as above: concurrent calls share only read-only code.
unsafe impl Sync for CompiledCode {}

impl CompiledCode {
    /// Takes ownership of a finalized module whose functions `funcs` are
    /// [`KernelFn`]s needing `scratch_len` f64s of scratch.
    pub(super) fn new(
        module: JITModule,
        funcs: &[FuncId],
        scratch_len: usize,
    ) -> Result<CompiledCode, JitError> {
        let mut ptrs = Vec::with_capacity(funcs.len());
        for &f in funcs {
            let ptr = module.get_finalized_function(f);
            if ptr.is_null() {
                return Err(JitError::Codegen("no code for a kernel function".into()));
            }
            // SAFETY: `codegen` declared every function with exactly this signature.
            ptrs.push(unsafe { std::mem::transmute::<*const u8, KernelFn>(ptr) });
        }
        Ok(CompiledCode {
            module: Some(module),
            funcs: ptrs,
            scratch_len,
        })
    }

    /// Runs function `k` on `rows` rows whose outputs (or slot-table rows) are `width`
    /// wide; returns the number of singular solves.
    ///
    /// # Panics
    /// If the buffers do not hold `rows` rows (callers check this first and report a
    /// shape error instead), or `scratch` is too short.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call(
        &self,
        k: usize,
        inputs: &[f64],
        outputs: &mut [f64],
        rows: usize,
        n_inputs: usize,
        width: usize,
        scratch: &mut [f64],
    ) -> usize {
        assert!(inputs.len() == rows * n_inputs && outputs.len() == rows * width);
        assert!(scratch.len() >= self.scratch_len);
        if rows == 0 {
            return 0;
        }
        let f = self.funcs[k];
        // SAFETY: buffer lengths were checked just above (module invariants).
        let singular = unsafe {
            f(
                inputs.as_ptr(),
                outputs.as_mut_ptr(),
                rows as u64,
                scratch.as_mut_ptr(),
            )
        };
        singular as usize
    }
}

impl Drop for CompiledCode {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: `self.funcs` are the only pointers into the module and die with
            // `self`; no call can be running, since calls borrow `self`.
            unsafe { module.free_memory() };
        }
    }
}

/// Solves `a x = b` for the generated code: LU with partial pivoting, the
/// pseudo-inverse when singular. Returns 1 when singular, else 0. `scratch` holds `a`,
/// `b`, then room for `x` and the LU factors; nothing is allocated unless singular.
extern "C" fn lagc_solve(n: u64, scratch: *mut f64) -> u64 {
    let n = n as usize;
    // SAFETY: the generated code passes 2 n (n + 1) f64s of its scratch buffer (module
    // invariants), which nothing else touches during the call.
    let all = unsafe { std::slice::from_raw_parts_mut(scratch, 2 * n * (n + 1)) };
    let (a, rest) = all.split_at_mut(n * n);
    let (b, rest) = rest.split_at_mut(n);
    let (x, lu) = rest.split_at_mut(n);
    lu.copy_from_slice(a);
    x.copy_from_slice(b);
    if lu_solve_in_place(n, lu, x) {
        0
    } else {
        pinv_solve(n, a, b, x);
        1
    }
}

/// The `(symbol, address)` of the callback above.
pub(super) fn callback_symbols() -> [(&'static str, *const u8); 1] {
    let solve: extern "C" fn(u64, *mut f64) -> u64 = lagc_solve;
    [("lagc_solve", solve as *const u8)]
}
